/* Parallax — thumbnailer: the first frame of an untrusted file as a PNG,
 * demuxed and decoded in a jailed worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   thumbnailer [--width N] [--description CHAIN] INPUT OUTPUT.png
 *
 * runs, for each candidate CHAIN,
 *
 *   filesrc location=INPUT ! sandboxbin max-restarts=0 memory-limit=...
 *       description=CHAIN ! videoconvert [! videoscale ! width=N]
 *       ! pngenc snapshot=true ! filesink location=OUTPUT
 *
 * The file is only ever parsed in the jail. This process reads its first
 * bytes to choose the candidates (the container's magic number: MP4 or
 * QuickTime, Matroska or WebM) and tries them in order until
 * one makes a picture: a demuxer links the first stream its decoder takes,
 * so a chain whose decoder fits no stream ends with an error and the next
 * is tried. decodebin would choose for itself, but autoplugging does not
 * work in the jail yet (docs/sandboxbin.md). A worker that crashes or is
 * killed by the jail ends it all: the file is hostile or broken, and no
 * other decoder is given it.
 *
 * Not in the table yet, because they do not work isolated today: Ogg
 * (oggdemux seeks upstream to find the end of the stream, and the stream
 * stalls after a seek through an isolated bin) and MPEG-TS (tsdemux posts
 * its tables as messages whose values do not cross processes, and the host
 * stops the worker for them).
 *
 * Exits 0 with OUTPUT written, 1 without a thumbnail, 2 on bad arguments.
 */
#include <gst/gst.h>

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#define MAGIC_BYTES 8
#define MEMORY_LIMIT "536870912"
#define TIMEOUT (10 * GST_SECOND)

typedef struct
{
  const gchar *container;
  const gchar *const chains[4];
} Candidates;

static const Candidates mp4 = { "MP4 / QuickTime", {
        "qtdemux ! h264parse ! avdec_h264",
        "qtdemux ! h265parse ! avdec_h265",
    "qtdemux ! avdec_mpeg4", NULL}
};

static const Candidates matroska = { "Matroska / WebM", {
        "matroskademux ! vp8dec",
        "matroskademux ! vp9dec",
    "matroskademux ! h264parse ! avdec_h264", NULL}
};

/* The magic numbers only: nothing of the file is parsed here. */
static const Candidates *
candidates_for (const guint8 * head, gsize n)
{
  if (n >= 8 && (memcmp (head + 4, "ftyp", 4) == 0 ||
          memcmp (head + 4, "moov", 4) == 0 ||
          memcmp (head + 4, "mdat", 4) == 0))
    return &mp4;
  if (n >= 4 && memcmp (head, "\x1a\x45\xdf\xa3", 4) == 0)
    return &matroska;
  return NULL;
}

static gsize
read_head (const gchar * path, guint8 * head)
{
  FILE *file = fopen (path, "rbe");
  gsize n;

  if (file == NULL)
    return 0;
  n = fread (head, 1, MAGIC_BYTES, file);
  fclose (file);
  return n;
}

/* ---- one attempt ------------------------------------------------------- */

typedef enum
{
  ATTEMPT_PICTURE,
  ATTEMPT_NO_PICTURE,           /* this chain fits no stream: try another */
  ATTEMPT_HOSTILE,              /* the worker crashed or was killed */
} Attempt;

static GstElement *
make_pipeline (const gchar * input, const gchar * chain, gint width,
    const gchar * output)
{
  GstElement *pipeline = gst_pipeline_new ("thumbnailer");
  GError *error = NULL;
  gchar *scale = width > 0 ? g_strdup_printf ("videoscale ! video/x-raw,"
      "width=%d,pixel-aspect-ratio=1/1 ! ", width) : g_strdup ("");
  gchar *tail = g_strdup_printf ("videoconvert ! %spngenc snapshot=true ! "
      "filesink name=out", scale);
  GstElement *src = gst_element_factory_make ("filesrc", NULL);
  GstElement *jail = gst_element_factory_make ("sandboxbin", "jail");
  GstElement *rest = gst_parse_bin_from_description (tail, TRUE, &error);
  GstElement *out;

  g_free (scale);
  g_free (tail);
  if (src == NULL || jail == NULL || rest == NULL) {
    g_printerr ("cannot build the pipeline: %s\n", jail == NULL ?
        "no sandboxbin (run this under `meson devenv -C build`)" :
        error ? error->message : "no filesrc");
    g_clear_error (&error);
    gst_clear_object (&src);
    gst_clear_object (&jail);
    gst_clear_object (&rest);
    gst_object_unref (pipeline);
    return NULL;
  }
  g_object_set (src, "location", input, NULL);
  /* One worker per attempt: a second chance would be a second crash. */
  g_object_set (jail, "description", chain, "max-restarts", 0, NULL);
  gst_util_set_object_arg (G_OBJECT (jail), "memory-limit", MEMORY_LIMIT);
  out = gst_bin_get_by_name (GST_BIN (rest), "out");
  g_object_set (out, "location", output, NULL);
  gst_object_unref (out);
  gst_bin_add_many (GST_BIN (pipeline), src, jail, rest, NULL);
  gst_element_link_many (src, jail, rest, NULL);
  return pipeline;
}

static Attempt
judge (GstMessage * message, gboolean crashed)
{
  GError *error = NULL;
  gchar *debug = NULL;

  if (message == NULL) {
    g_print ("    no picture within %d s\n", (int) (TIMEOUT / GST_SECOND));
    return crashed ? ATTEMPT_HOSTILE : ATTEMPT_NO_PICTURE;
  }
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS)
    return ATTEMPT_PICTURE;
  gst_message_parse_error (message, &error, &debug);
  g_print ("    %s (%s, code %d)\n", error->message,
      g_quark_to_string (error->domain), error->code);
  g_clear_error (&error);
  g_free (debug);
  return crashed ? ATTEMPT_HOSTILE : ATTEMPT_NO_PICTURE;
}

static Attempt
attempt (const gchar * input, const gchar * chain, gint width,
    const gchar * output)
{
  GstElement *pipeline = make_pipeline (input, chain, width, output);
  GstBus *bus;
  GstMessage *message = NULL;
  gboolean crashed = FALSE;
  Attempt result;

  if (pipeline == NULL)
    return ATTEMPT_HOSTILE;
  g_print ("  trying sandboxbin description=\"%s\"\n", chain);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while (message == NULL) {
    const GstStructure *s;

    message = gst_bus_timed_pop_filtered (bus, TIMEOUT, GST_MESSAGE_EOS |
        GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
    if (message == NULL)
      break;
    s = gst_message_get_structure (message);
    if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ELEMENT)
      continue;
    if (gst_structure_has_name (s, "sandboxbin-worker-crashed")) {
      g_print ("    the worker died: %s%s%s\n", gst_structure_get_string (s,
              "reason"), *gst_structure_get_string (s, "violation") ?
          ", violation " : "", gst_structure_get_string (s, "violation"));
      crashed = TRUE;
    }
    gst_clear_message (&message);
  }
  result = judge (message, crashed);
  gst_clear_message (&message);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return result;
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
          "The chain to run in the jail, instead of choosing by file type",
        "CHAIN"},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL,
        NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("INPUT OUTPUT.png - the first frame of an "
      "untrusted file, decoded in a jail");
  g_autoptr (GError) error = NULL;
  const gchar *chosen[2] = { NULL, NULL };
  const gchar *const *chains = chosen;
  guint8 head[MAGIC_BYTES];
  Attempt result = ATTEMPT_NO_PICTURE;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      files == NULL || g_strv_length (files) != 2 || width < 0) {
    g_printerr ("%s\nUsage: %s [--width N] [--description CHAIN] INPUT "
        "OUTPUT.png\n", error ? error->message : "", argv[0]);
    return 2;
  }
  chosen[0] = description;
  if (description == NULL) {
    gsize n = read_head (files[0], head);
    const Candidates *candidates = candidates_for (head, n);

    if (candidates == NULL) {
      g_printerr ("%s: %s\n", files[0], n == 0 ? "cannot read it" :
          "not a container this thumbnailer knows (MP4, QuickTime, "
          "Matroska, WebM): give --description");
      return 1;
    }
    g_print ("%s: %s\n", files[0], candidates->container);
    chains = candidates->chains;
  }
  for (guint i = 0; chains[i] && result == ATTEMPT_NO_PICTURE; i++)
    result = attempt (files[0], chains[i], width, files[1]);
  if (result == ATTEMPT_PICTURE) {
    g_print ("wrote %s\n", files[1]);
    return 0;
  }
  g_remove (files[1]);
  g_printerr ("no thumbnail for %s%s\n", files[0], result == ATTEMPT_HOSTILE ?
      ": its decoder was stopped in the jail" : "");
  return 1;
}
