/* Parallax — thumbnailer: the first frame of an untrusted file as a PNG,
 * demuxed and decoded in a jailed worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   thumbnailer [--width N] [--description CHAIN] INPUT OUTPUT.png
 *
 * runs
 *
 *   filesrc location=INPUT ! sandboxbin max-restarts=0 memory-limit=...
 *       description=decodebin
 *   (first video stream) ! videoconvert [! videoscale ! width=N]
 *       ! pngenc snapshot=true ! filesink location=OUTPUT
 *   (any other stream) ! fakesink
 *
 * The file is only ever parsed in the jail: decodebin finds out what it
 * is, and plugs the demuxer and the decoders there (the worker loads the
 * plugins it may plug beforehand); this process sees only decoded frames.
 * The bin has a pad per stream decodebin makes: the first video stream
 * goes to the PNG, the others to fakesinks, and the thumbnail is done when
 * its frame is written, whatever the other streams do. --description runs
 * a chain of your own instead of decodebin (one with a single output, as
 * "qtdemux ! h264parse ! avdec_h264", or one with a pad per stream).
 *
 * A worker that crashes or is killed by the jail ends it all: the file is
 * hostile or broken, and no second worker is given it.
 *
 * Exits 0 with OUTPUT written, 1 without a thumbnail, 2 on bad arguments.
 */
#include <gst/gst.h>

#include <glib/gstdio.h>
#include <string.h>

#define MEMORY_LIMIT "536870912"
#define TIMEOUT (10 * GST_SECOND)

/* Application messages the pipeline's threads post for main(). */
#define PICTURE_WRITTEN "thumbnailer-picture-written"
#define NO_FRAME "thumbnailer-no-frame"
#define NO_VIDEO "thumbnailer-no-video"

typedef struct
{
  GstElement *pipeline;
  GstElement *picture;          /* videoconvert ... filesink, ghost "sink" */
  gint picture_taken;           /* a stream feeds it (atomic) */
  gint frame_written;           /* the PNG reached the file (atomic) */
} Thumbnailer;

static void
post_application (Thumbnailer * self, const gchar * name)
{
  gst_element_post_message (self->pipeline,
      gst_message_new_application (GST_OBJECT (self->pipeline),
          gst_structure_new_empty (name)));
}

/* What reaches the file: the PNG, then the EOS pngenc sends after the
 * first frame (or the stream's own EOS, when it had no frame). */
static GstPadProbeReturn
picture_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Thumbnailer *self = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    g_atomic_int_set (&self->frame_written, TRUE);
  else if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS)
    post_application (self, g_atomic_int_get (&self->frame_written) ?
        PICTURE_WRITTEN : NO_FRAME);
  return GST_PAD_PROBE_OK;
}

static gboolean
pad_is_video (GstPad * pad)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  gboolean video;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  video = caps != NULL && !gst_caps_is_any (caps) &&
      gst_caps_get_size (caps) > 0 &&
      g_str_has_prefix (gst_structure_get_name (gst_caps_get_structure (caps,
              0)), "video/");
  gst_clear_caps (&caps);
  return video;
}

/* Any thread the bin adds a stream from. The first video stream makes the
 * picture; every other stream needs a sink too, else it stops with
 * not-linked and that ends the pipeline. */
static void
stream_added (GstElement * jail, GstPad * pad, gpointer user_data)
{
  Thumbnailer *self = user_data;
  GstElement *sink;
  GstPad *peer;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  if (pad_is_video (pad) && g_atomic_int_compare_and_exchange
      (&self->picture_taken, FALSE, TRUE)) {
    peer = gst_element_get_static_pad (self->picture, "sink");
  } else {
    sink = gst_element_factory_make ("fakesink", NULL);
    g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
    gst_bin_add (GST_BIN (self->pipeline), sink);
    gst_element_sync_state_with_parent (sink);
    peer = gst_element_get_static_pad (sink, "sink");
  }
  if (gst_pad_link (pad, peer) != GST_PAD_LINK_OK)
    g_printerr ("cannot link %s:%s\n", GST_DEBUG_PAD_NAME (pad));
  gst_object_unref (peer);
}

static void
no_more_streams (GstElement * jail, gpointer user_data)
{
  Thumbnailer *self = user_data;

  if (!g_atomic_int_get (&self->picture_taken))
    post_application (self, NO_VIDEO);
}

static GstElement *
make_picture (gint width, const gchar * output, Thumbnailer * self)
{
  GError *error = NULL;
  gchar *scale = width > 0 ? g_strdup_printf ("videoscale ! video/x-raw,"
      "width=%d,pixel-aspect-ratio=1/1 ! ", width) : g_strdup ("");
  gchar *line = g_strdup_printf ("videoconvert ! %spngenc snapshot=true ! "
      "filesink name=out", scale);
  GstElement *picture = gst_parse_bin_from_description (line, TRUE, &error);
  GstElement *out;
  GstPad *pad;

  g_free (scale);
  g_free (line);
  if (picture == NULL) {
    g_printerr ("cannot build the pipeline: %s\n", error->message);
    g_error_free (error);
    return NULL;
  }
  out = gst_bin_get_by_name (GST_BIN (picture), "out");
  g_object_set (out, "location", output, NULL);
  pad = gst_element_get_static_pad (out, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, picture_probe, self, NULL);
  gst_object_unref (pad);
  gst_object_unref (out);
  return picture;
}

static gboolean
make_pipeline (Thumbnailer * self, const gchar * input, const gchar * chain,
    gint width, const gchar * output)
{
  GstElement *src = gst_element_factory_make ("filesrc", NULL);
  GstElement *jail = gst_element_factory_make ("sandboxbin", "jail");
  GstPad *pad;

  self->pipeline = gst_pipeline_new ("thumbnailer");
  self->picture = make_picture (width, output, self);
  if (src == NULL || jail == NULL || self->picture == NULL) {
    if (jail == NULL)
      g_printerr ("cannot build the pipeline: no sandboxbin (run this under "
          "`meson devenv -C build`)\n");
    gst_clear_object (&src);
    gst_clear_object (&jail);
    gst_clear_object (&self->picture);
    gst_clear_object (&self->pipeline);
    return FALSE;
  }
  g_object_set (src, "location", input, NULL);
  /* One worker: a second chance would be a second crash. */
  g_object_set (jail, "description", chain, "max-restarts", 0, NULL);
  gst_util_set_object_arg (G_OBJECT (jail), "memory-limit", MEMORY_LIMIT);
  gst_bin_add_many (GST_BIN (self->pipeline), src, jail, self->picture, NULL);
  gst_element_link (src, jail);
  /* A chain with one output has its pad now, and that is the picture;
   * decodebin's come later. */
  pad = gst_element_get_static_pad (jail, "src");
  if (pad != NULL) {
    self->picture_taken = TRUE;
    gst_element_link (jail, self->picture);
    gst_object_unref (pad);
  } else {
    g_signal_connect (jail, "pad-added", G_CALLBACK (stream_added), self);
    g_signal_connect (jail, "no-more-pads", G_CALLBACK (no_more_streams), self);
  }
  return TRUE;
}

/* ---- running it -------------------------------------------------------- */

static void
print_error (GstMessage * message)
{
  GError *error = NULL;
  gchar *debug = NULL;

  gst_message_parse_error (message, &error, &debug);
  g_print ("  %s (%s, code %d)\n", error->message,
      g_quark_to_string (error->domain), error->code);
  g_clear_error (&error);
  g_free (debug);
}

/* TRUE once the picture is written; FALSE after an error, a crash, a file
 * without video, or TIMEOUT without any of those. *@crashed: the worker
 * died (or the jail killed it). */
static gboolean
run (Thumbnailer * self, gboolean * crashed)
{
  GstBus *bus = gst_element_get_bus (self->pipeline);
  GstClockTime deadline = gst_util_get_timestamp () + TIMEOUT;
  gboolean written = FALSE, done = FALSE;

  gst_element_set_state (self->pipeline, GST_STATE_PLAYING);
  while (!done) {
    GstClockTime now = gst_util_get_timestamp ();
    GstMessage *message = now >= deadline ? NULL :
        gst_bus_timed_pop_filtered (bus, deadline - now, GST_MESSAGE_EOS |
        GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT | GST_MESSAGE_APPLICATION);
    const GstStructure *s;

    if (message == NULL) {
      g_print ("  no picture within %d s\n", (int) (TIMEOUT / GST_SECOND));
      break;
    }
    s = gst_message_get_structure (message);
    switch (GST_MESSAGE_TYPE (message)) {
      case GST_MESSAGE_ELEMENT:
        if (gst_structure_has_name (s, "sandboxbin-worker-crashed")) {
          g_print ("  the worker died: %s%s%s\n", gst_structure_get_string (s,
                  "reason"), *gst_structure_get_string (s, "violation") ?
              ", violation " : "", gst_structure_get_string (s, "violation"));
          *crashed = TRUE;
        }
        break;
      case GST_MESSAGE_APPLICATION:
        written = gst_structure_has_name (s, PICTURE_WRITTEN);
        if (!written)
          g_print ("  %s\n", gst_structure_has_name (s, NO_VIDEO) ?
              "no video stream" : "no video frame");
        done = TRUE;
        break;
      case GST_MESSAGE_ERROR:
        print_error (message);
        done = TRUE;
        break;
      default:
        /* EOS: every stream ended, the picture's too (seen above). */
        done = TRUE;
        break;
    }
    gst_message_unref (message);
  }
  gst_element_set_state (self->pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  return written && !*crashed;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *description = NULL;
  g_auto (GStrv) files = NULL;
  gint width = 0;
  GOptionEntry entries[] = {
    {"width", 'w', 0, G_OPTION_ARG_INT, &width,
        "Scale the picture to this width (default: as decoded)", "N"},
    {"description", 'd', 0, G_OPTION_ARG_STRING, &description,
        "The chain to run in the jail, instead of decodebin", "CHAIN"},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL,
        NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("INPUT OUTPUT.png - the first frame of an "
      "untrusted file, decoded in a jail");
  g_autoptr (GError) error = NULL;
  Thumbnailer self = { NULL, };
  const gchar *chain;
  gboolean crashed = FALSE, written;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      files == NULL || g_strv_length (files) != 2 || width < 0) {
    g_printerr ("%s\nUsage: %s [--width N] [--description CHAIN] INPUT "
        "OUTPUT.png\n", error ? error->message : "", argv[0]);
    return 2;
  }
  if (!g_file_test (files[0], G_FILE_TEST_IS_REGULAR)) {
    g_printerr ("%s: cannot read it\n", files[0]);
    return 1;
  }
  chain = description ? description : "decodebin";
  if (!make_pipeline (&self, files[0], chain, width, files[1]))
    return 1;
  g_print ("%s: sandboxbin description=\"%s\"\n", files[0], chain);
  written = run (&self, &crashed);
  gst_object_unref (self.pipeline);
  if (written) {
    g_print ("wrote %s\n", files[1]);
    return 0;
  }
  g_remove (files[1]);
  g_printerr ("no thumbnail for %s%s\n", files[0], crashed ?
      ": its decoder was stopped in the jail" : "");
  return 1;
}
