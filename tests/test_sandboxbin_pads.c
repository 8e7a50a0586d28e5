/* Parallax — sandboxbin in a jailed worker with every layout in-process
 * mode has: a source, a sink, sometimes pads (demuxers, decodebin), a live
 * source; what comes out is what in-process mode gives, bit for bit.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The clips are made in a temporary directory with Debian's encoders and
 * muxers (gstreamer1.0-plugins-good, -bad, -ugly, gstreamer1.0-libav).
 */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "px-buffer-checksum.h"

#define RUN_TIMEOUT (60 * GST_SECOND)

#define SMALL_VIDEO "video/x-raw,format=I420,width=64,height=48,framerate=30/1"

/* ---- running a pipeline ------------------------------------------------ */

/* What came out of a pipeline: for each pad of the bin (or the sink named
 * "sink"), its media type and the checksum of each buffer, in order. */
typedef struct
{
  GMutex lock;
  GstElement *pipeline;
  GHashTable *streams;          /* media type -> GPtrArray of checksums */
  GPtrArray *sinks;             /* added for the bin's pads */
  guint pads_added;
  guint no_more_pads;
  gboolean eos;
  GError *error;
} Run;

static void
run_init (Run * run)
{
  memset (run, 0, sizeof *run);
  g_mutex_init (&run->lock);
  run->streams = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) g_ptr_array_unref);
  run->sinks = g_ptr_array_new_with_free_func (gst_object_unref);
}

/* In NULL: the sinks of pads that went, out of the pipeline, or it would
 * wait for their EOS too. */
static void
remove_sinks (Run * run)
{
  for (guint i = 0; i < run->sinks->len; i++)
    gst_bin_remove (GST_BIN (run->pipeline), g_ptr_array_index (run->sinks, i));
  g_ptr_array_set_size (run->sinks, 0);
}

static void
run_clear (Run * run)
{
  g_hash_table_unref (run->streams);
  g_ptr_array_unref (run->sinks);
  g_clear_error (&run->error);
  gst_clear_object (&run->pipeline);
  g_mutex_clear (&run->lock);
}

/* Streaming thread of a sink: the buffer's checksum, with its times. */
static void
record_buffer (GstElement * sink, GstBuffer * buffer, GstPad * pad,
    gpointer user_data)
{
  Run *run = user_data;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  const gchar *type;
  GPtrArray *list;
  gchar *sum;

  fail_unless (caps != NULL);
  type = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  sum = px_buffer_checksum (buffer, caps);
  g_mutex_lock (&run->lock);
  list = g_hash_table_lookup (run->streams, type);
  if (list == NULL) {
    list = g_ptr_array_new_with_free_func (g_free);
    g_hash_table_insert (run->streams, g_strdup (type), list);
  }
  g_ptr_array_add (list, g_strdup_printf ("%s pts %" GST_TIME_FORMAT, sum,
          GST_TIME_ARGS (GST_BUFFER_PTS (buffer))));
  g_mutex_unlock (&run->lock);
  g_free (sum);
  gst_caps_unref (caps);
}

static GstElement *
recording_sink (Run * run)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);

  /* One streaming thread may feed several pads (in-process): no sink may
   * hold it in preroll. */
  g_object_set (sink, "signal-handoffs", TRUE, "sync", FALSE, "async", FALSE,
      NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (record_buffer), run);
  return sink;
}

/* A pad of the bin appeared: it has its caps and stream-start already, as
 * a demuxer's own would, and gets a sink of its own. */
static void
bin_pad_added (GstElement * bin, GstPad * pad, gpointer user_data)
{
  Run *run = user_data;
  GstElement *sink;
  GstEvent *start;
  GstCaps *caps;
  GstPad *sinkpad;

  if (!GST_PAD_IS_SRC (pad))
    return;
  fail_unless (g_str_has_prefix (GST_PAD_NAME (pad), "src_"), "%s",
      GST_PAD_NAME (pad));
  caps = gst_pad_get_current_caps (pad);
  fail_unless (caps != NULL, "%s: no caps", GST_PAD_NAME (pad));
  gst_caps_unref (caps);
  start = gst_pad_get_sticky_event (pad, GST_EVENT_STREAM_START, 0);
  fail_unless (start != NULL, "%s: no stream-start", GST_PAD_NAME (pad));
  gst_event_unref (start);

  sink = recording_sink (run);
  gst_bin_add (GST_BIN (run->pipeline), sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  fail_unless_equals_int (gst_pad_link (pad, sinkpad), GST_PAD_LINK_OK);
  gst_object_unref (sinkpad);
  gst_element_sync_state_with_parent (sink);
  g_mutex_lock (&run->lock);
  run->pads_added++;
  g_ptr_array_add (run->sinks, gst_object_ref (sink));
  g_mutex_unlock (&run->lock);
}

static void
bin_no_more_pads (GstElement * bin, gpointer user_data)
{
  Run *run = user_data;

  g_mutex_lock (&run->lock);
  run->no_more_pads++;
  g_mutex_unlock (&run->lock);
}

/* @description has a sandboxbin named "bin"; a fakesink named "sink", if
 * any, records too. */
static void
build (const gchar * description, Run * run)
{
  GError *error = NULL;
  GstElement *bin, *sink;

  run->pipeline = gst_parse_launch (description, &error);
  fail_unless (run->pipeline != NULL, "%s: %s", description,
      error ? error->message : "?");
  /* the bin alone: gst_parse_launch() gives it, not a pipeline */
  if (!GST_IS_PIPELINE (run->pipeline)) {
    GstElement *only = run->pipeline;

    run->pipeline = gst_pipeline_new (NULL);
    gst_bin_add (GST_BIN (run->pipeline), only);
  }
  bin = gst_bin_get_by_name (GST_BIN (run->pipeline), "bin");
  fail_unless (bin != NULL);
  g_signal_connect (bin, "pad-added", G_CALLBACK (bin_pad_added), run);
  g_signal_connect (bin, "no-more-pads", G_CALLBACK (bin_no_more_pads), run);
  gst_object_unref (bin);
  sink = gst_bin_get_by_name (GST_BIN (run->pipeline), "sink");
  if (sink != NULL) {
    g_object_set (sink, "signal-handoffs", TRUE, NULL);
    g_signal_connect (sink, "handoff", G_CALLBACK (record_buffer), run);
    gst_object_unref (sink);
  }
}

/* Until EOS or the first error, in PLAYING. */
static void
wait_for_end (Run * run)
{
  GstBus *bus = gst_element_get_bus (run->pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, RUN_TIMEOUT,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

  fail_unless (msg != NULL, "neither EOS nor an error");
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS)
    run->eos = TRUE;
  else
    gst_message_parse_error (msg, &run->error, NULL);
  gst_message_unref (msg);
  gst_object_unref (bus);
}

static void
assert_eos (const gchar * what, Run * run)
{
  fail_unless (run->eos, "%s: no EOS (%s)", what,
      run->error ? run->error->message : "no error");
}

static void
play_to_end (const gchar * description, Run * run)
{
  build (description, run);
  gst_element_set_state (run->pipeline, GST_STATE_PLAYING);
  wait_for_end (run);
  assert_eos (description, run);
  fail_unless_equals_int (gst_element_set_state (run->pipeline,
          GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
}

/* The same streams, the same buffers in the same order. */
static void
assert_same_output (Run * expected, Run * got, guint min_streams)
{
  GHashTableIter iter;
  gpointer type, list;

  fail_unless (g_hash_table_size (expected->streams) >= min_streams,
      "%u streams", g_hash_table_size (expected->streams));
  fail_unless_equals_int (g_hash_table_size (got->streams),
      g_hash_table_size (expected->streams));
  g_hash_table_iter_init (&iter, expected->streams);
  while (g_hash_table_iter_next (&iter, &type, &list)) {
    GPtrArray *want = list, *have = g_hash_table_lookup (got->streams, type);

    fail_unless (have != NULL, "no %s stream", (gchar *) type);
    fail_unless (want->len > 0);
    fail_unless_equals_int (have->len, want->len);
    for (guint i = 0; i < want->len; i++)
      fail_unless_equals_string (g_ptr_array_index (have, i),
          g_ptr_array_index (want, i));
  }
}

/* Runs "@head ! sandboxbin name=bin description=@description @tail" in
 * both modes and compares what came out. */
static void
assert_bit_exact (const gchar * head, const gchar * description,
    const gchar * tail, guint min_streams)
{
  gchar *in_process = g_strdup_printf ("%s sandboxbin name=bin "
      "mode=in-process description=\"%s\" %s", head, description, tail);
  gchar *isolated = g_strdup_printf ("%s sandboxbin name=bin "
      "description=\"%s\" %s", head, description, tail);
  Run expected, got;

  run_init (&expected);
  run_init (&got);
  play_to_end (in_process, &expected);
  play_to_end (isolated, &got);
  assert_same_output (&expected, &got, min_streams);
  fail_unless_equals_int (got.pads_added, expected.pads_added);
  fail_unless_equals_int (got.no_more_pads, expected.no_more_pads);
  run_clear (&expected);
  run_clear (&got);
  g_free (in_process);
  g_free (isolated);
}

/* ---- clips ------------------------------------------------------------- */

typedef struct
{
  gchar *dir;
  gchar *path;
} Clip;

/* @muxing writes to "@PATH@", the clip's path. */
static void
make_clip (Clip * clip, const gchar * name, const gchar * muxing)
{
  GError *error = NULL;
  GstElement *pipeline;
  GstMessage *msg;
  GstBus *bus;
  GString *line = g_string_new (muxing);
  gchar *description;

  clip->dir = g_dir_make_tmp ("sandboxbin-pads-XXXXXX", NULL);
  fail_unless (clip->dir != NULL);
  clip->path = g_build_filename (clip->dir, name, NULL);
  g_string_replace (line, "@PATH@", clip->path, 0);
  description = g_string_free (line, FALSE);
  pipeline = gst_parse_launch (description, &error);
  fail_unless (pipeline != NULL, "%s: %s", description,
      error ? error->message : "?");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, RUN_TIMEOUT,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "making %s failed", name);
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_free (description);
}

static void
clip_clear (Clip * clip)
{
  fail_unless_equals_int (g_unlink (clip->path), 0);
  fail_unless_equals_int (g_rmdir (clip->dir), 0);
  g_free (clip->path);
  g_free (clip->dir);
}

/* VP8 video and Vorbis audio. */
static void
make_matroska (Clip * clip)
{
  make_clip (clip, "clip.mkv", "videotestsrc num-buffers=15 ! "
      SMALL_VIDEO " ! vp8enc deadline=1 ! matroskamux name=mux ! "
      "filesink location=@PATH@ audiotestsrc num-buffers=15 ! vorbisenc ! mux.");
}

/* H.264 video and AAC audio, the index first. */
static void
make_mp4 (Clip * clip)
{
  make_clip (clip, "clip.mp4", "videotestsrc num-buffers=15 ! "
      SMALL_VIDEO " ! x264enc ! mp4mux name=mux faststart=true ! "
      "filesink location=@PATH@ audiotestsrc num-buffers=15 ! avenc_aac ! mux.");
}

/* Theora video and Vorbis audio. */
static void
make_ogg (Clip * clip)
{
  make_clip (clip, "clip.ogg", "videotestsrc num-buffers=15 ! "
      SMALL_VIDEO " ! theoraenc ! oggmux name=mux ! "
      "filesink location=@PATH@ audiotestsrc num-buffers=15 ! vorbisenc ! mux.");
}

static gchar *
file_head (Clip * clip)
{
  return g_strdup_printf ("filesrc location=%s !", clip->path);
}

/* ---- sometimes pads ---------------------------------------------------- */

GST_START_TEST (test_matroskademux_streams_bit_exact)
{
  Clip clip;
  gchar *head;

  make_matroska (&clip);
  head = file_head (&clip);
  assert_bit_exact (head, "matroskademux", "", 2);
  g_free (head);
  clip_clear (&clip);
}

GST_END_TEST;

GST_START_TEST (test_qtdemux_streams_bit_exact)
{
  Clip clip;
  gchar *head;

  make_mp4 (&clip);
  head = file_head (&clip);
  assert_bit_exact (head, "qtdemux", "", 2);
  g_free (head);
  clip_clear (&clip);
}

GST_END_TEST;

/* Headers (buffers without a PTS) that a stream repeats: oggdemux in push
 * mode pushes its headers again after seeking back, and whether the first
 * ones got through before the seek's flush depends on timing. */
static void
drop_repeated_headers (Run * run)
{
  GHashTableIter iter;
  gpointer list;

  g_hash_table_iter_init (&iter, run->streams);
  while (g_hash_table_iter_next (&iter, NULL, &list)) {
    GPtrArray *sums = list;
    GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);

    for (guint i = 0; i < sums->len;) {
      const gchar *sum = g_ptr_array_index (sums, i);

      if (g_str_has_suffix (sum, "pts 99:99:99.999999999") &&
          !g_hash_table_add (seen, (gpointer) sum)) {
        g_ptr_array_remove_index (sums, i);
        continue;
      }
      i++;
    }
    g_hash_table_unref (seen);
  }
}

/* oggdemux takes data pushed from the host, so it measures the duration
 * itself: it seeks to the end of the file upstream, across the process
 * border, then back, and drops data until the segment of each seek (known
 * by its seqnum) arrives. The streams are those it gives in one process
 * pulling from the file, headers said once. (In push mode oggdemux says
 * no-more-pads twice, and headers it pushed before its seek's flush may or
 * may not get through, as the flush finds them: in one process too.) */
GST_START_TEST (test_oggdemux_streams_bit_exact)
{
  Clip clip;
  gchar *in_process, *isolated;
  Run expected, got;

  make_ogg (&clip);
  in_process = g_strdup_printf ("filesrc location=%s ! sandboxbin name=bin "
      "mode=in-process description=oggdemux", clip.path);
  isolated = g_strdup_printf ("filesrc location=%s ! sandboxbin name=bin "
      "description=oggdemux", clip.path);
  run_init (&expected);
  run_init (&got);
  play_to_end (in_process, &expected);
  play_to_end (isolated, &got);
  drop_repeated_headers (&expected);
  drop_repeated_headers (&got);
  assert_same_output (&expected, &got, 2);
  fail_unless_equals_int (got.pads_added, expected.pads_added);
  fail_unless (got.no_more_pads >= 1);
  run_clear (&expected);
  run_clear (&got);
  g_free (in_process);
  g_free (isolated);
  clip_clear (&clip);
}

GST_END_TEST;

/* decodebin plugs its demuxer and decoders in the jail: the worker loaded
 * them before it locked down. */
GST_START_TEST (test_decodebin_streams_bit_exact)
{
  Clip clip;
  gchar *head;

  make_matroska (&clip);
  head = file_head (&clip);
  assert_bit_exact (head, "decodebin", "", 2);
  g_free (head);
  clip_clear (&clip);
}

GST_END_TEST;

/* ---- a web server on the loopback ------------------------------------- */

/* Serves one file to every request, whole (HTTP/1.0, no ranges), from a
 * thread of its own, until stopped. */
typedef struct
{
  GSocketListener *listener;
  GCancellable *cancel;
  GThread *thread;
  gchar *contents;
  gsize length;
  guint16 port;
  guint requests;               /* (atomic) */
} WebServer;

static void
serve_one (WebServer * web, GSocketConnection * connection)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  GString *request = g_string_new (NULL);
  gchar *head;
  gchar c;

  /* the request's head, to its empty line (at most 8 KiB) */
  while (request->len < 8192 && !g_str_has_suffix (request->str, "\r\n\r\n")
      && g_input_stream_read (in, &c, 1, web->cancel, NULL) == 1)
    g_string_append_c (request, c);
  head = g_strdup_printf ("HTTP/1.0 200 OK\r\nContent-Type: "
      "application/octet-stream\r\nContent-Length: %" G_GSIZE_FORMAT
      "\r\nConnection: close\r\n\r\n", web->length);
  if (g_str_has_prefix (request->str, "GET ") &&
      g_output_stream_write_all (out, head, strlen (head), NULL, web->cancel,
          NULL))
    g_output_stream_write_all (out, web->contents, web->length, NULL,
        web->cancel, NULL);
  g_atomic_int_inc (&web->requests);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  g_free (head);
  g_string_free (request, TRUE);
}

static gpointer
web_server_main (gpointer data)
{
  WebServer *web = data;
  GSocketConnection *connection;

  while ((connection = g_socket_listener_accept (web->listener, NULL,
              web->cancel, NULL)) != NULL) {
    serve_one (web, connection);
    g_object_unref (connection);
  }
  return NULL;
}

static void
web_server_start (WebServer * web, const gchar * path)
{
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *address = g_inet_socket_address_new (loopback, 0);
  GSocketAddress *bound = NULL;
  GError *error = NULL;

  memset (web, 0, sizeof *web);
  fail_unless (g_file_get_contents (path, &web->contents, &web->length,
          &error), "%s", error ? error->message : "?");
  web->listener = g_socket_listener_new ();
  web->cancel = g_cancellable_new ();
  fail_unless (g_socket_listener_add_address (web->listener, address,
          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error),
      "%s", error ? error->message : "?");
  web->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  web->thread = g_thread_new ("web-server", web_server_main, web);
  g_object_unref (bound);
  g_object_unref (address);
  g_object_unref (loopback);
}

static void
web_server_stop (WebServer * web)
{
  g_cancellable_cancel (web->cancel);
  g_thread_join (web->thread);
  g_socket_listener_close (web->listener);
  g_object_unref (web->listener);
  g_object_unref (web->cancel);
  g_free (web->contents);
}

/* uridecodebin with an http:// URI: the worker, allowed the network, has
 * the sources that open the protocol loaded before it locked down, besides
 * what decodebin plugs. */
GST_START_TEST (test_uridecodebin_over_http_bit_exact)
{
  WebServer web;
  Clip clip;
  gchar *description;

  make_matroska (&clip);
  web_server_start (&web, clip.path);
  description =
      g_strdup_printf ("uridecodebin uri=http://127.0.0.1:%u/clip.mkv",
      web.port);
  assert_bit_exact ("", description, "policy=with-network", 2);
  fail_unless (g_atomic_int_get (&web.requests) >= 2, "%u requests",
      g_atomic_int_get (&web.requests));
  web_server_stop (&web);
  g_free (description);
  clip_clear (&clip);
}

GST_END_TEST;

static guint
count_pads (GstElement * element)
{
  guint n;

  GST_OBJECT_LOCK (element);
  n = element->numpads;
  GST_OBJECT_UNLOCK (element);
  return n;
}

static gboolean
has_pad (GstElement * element, const gchar * name)
{
  GstPad *pad = gst_element_get_static_pad (element, name);
  gboolean found = pad != NULL;

  gst_clear_object (&pad);
  return found;
}

/* The streams' pads go with the worker's, and the bin is back to the pads
 * of its description; another run gets new ones. */
GST_START_TEST (test_stream_pads_removed_at_null)
{
  Clip clip;
  gchar *description;
  GstElement *bin;
  Run run;

  make_matroska (&clip);
  description = g_strdup_printf ("filesrc location=%s ! sandboxbin name=bin "
      "description=matroskademux", clip.path);
  run_init (&run);
  build (description, &run);
  bin = gst_bin_get_by_name (GST_BIN (run.pipeline), "bin");
  fail_unless_equals_int (count_pads (bin), 1);
  for (guint round = 1; round <= 2; round++) {
    gst_element_set_state (run.pipeline, GST_STATE_PLAYING);
    wait_for_end (&run);
    assert_eos (description, &run);
    run.eos = FALSE;
    fail_unless_equals_int (count_pads (bin), 3);
    fail_unless_equals_int (run.pads_added, 2 * round);
    fail_unless_equals_int (run.no_more_pads, round);
    fail_unless_equals_int (gst_element_set_state (run.pipeline,
            GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (count_pads (bin), 1);
    fail_unless (has_pad (bin, "sink"));
    remove_sinks (&run);
  }
  gst_object_unref (bin);
  run_clear (&run);
  g_free (description);
  clip_clear (&clip);
}

GST_END_TEST;

/* A worker may have GST_PX_WORKER_MAX_STREAMS (16) streams open: a file
 * with more gets that many pads, and the rest of it plays. */
GST_START_TEST (test_streams_beyond_the_limit_left_out)
{
  GString *muxing = g_string_new ("matroskamux name=mux ! filesink "
      "location=@PATH@");
  gchar *description;
  Clip clip;
  Run run;

  for (guint i = 0; i < 17; i++)
    g_string_append (muxing, " audiotestsrc num-buffers=3 "
        "samplesperbuffer=441 ! audio/x-raw,format=S16LE,rate=44100,"
        "channels=1 ! mux.");
  make_clip (&clip, "tracks.mkv", muxing->str);
  description = g_strdup_printf ("filesrc location=%s ! sandboxbin name=bin "
      "description=matroskademux", clip.path);
  run_init (&run);
  play_to_end (description, &run);
  fail_unless_equals_int (run.pads_added, 16);
  fail_unless_equals_int (run.no_more_pads, 1);
  run_clear (&run);
  g_free (description);
  g_string_free (muxing, TRUE);
  clip_clear (&clip);
}

GST_END_TEST;

/* ---- sources and sinks ------------------------------------------------- */

GST_START_TEST (test_source_bit_exact)
{
  GstElement *bin = gst_element_factory_make ("sandboxbin", NULL);

  g_object_set (bin, "description", "videotestsrc", NULL);
  fail_unless (GST_OBJECT_FLAG_IS_SET (bin, GST_ELEMENT_FLAG_SOURCE));
  gst_object_unref (bin);
  assert_bit_exact ("", "videotestsrc num-buffers=7 pattern=smpte ! "
      "capsfilter caps=" SMALL_VIDEO, "! fakesink name=sink", 1);
}

GST_END_TEST;

GST_START_TEST (test_audio_source_bit_exact)
{
  assert_bit_exact ("", "audiotestsrc num-buffers=7 wave=ticks",
      "! fakesink name=sink", 1);
}

GST_END_TEST;

/* Whatever prerolls when upstream sends nothing. */
static GstPadProbeReturn
hold (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  return GST_PAD_PROBE_OK;
}

/* A sink in the worker: the bin is a sink, PAUSED is ASYNC until the
 * worker's sink prerolled, and its EOS is the pipeline's. */
GST_START_TEST (test_sink_prerolls_in_the_worker)
{
  GstElement *src, *bin;
  GstState state;
  GstPad *pad;
  gulong probe;
  Run run;

  run_init (&run);
  build ("videotestsrc name=src num-buffers=7 ! " SMALL_VIDEO " ! "
      "sandboxbin name=bin description=\"videoconvert ! fakesink\"", &run);
  bin = gst_bin_get_by_name (GST_BIN (run.pipeline), "bin");
  fail_unless (GST_OBJECT_FLAG_IS_SET (bin, GST_ELEMENT_FLAG_SINK));
  src = gst_bin_get_by_name (GST_BIN (run.pipeline), "src");
  pad = gst_element_get_static_pad (src, "src");
  probe = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM |
      GST_PAD_PROBE_TYPE_BUFFER, hold, NULL, NULL);

  fail_unless_equals_int (gst_element_set_state (run.pipeline,
          GST_STATE_PAUSED), GST_STATE_CHANGE_ASYNC);
  /* Nothing reached the worker: nothing could preroll. */
  fail_unless_equals_int (gst_element_get_state (bin, &state, NULL,
          GST_SECOND / 10), GST_STATE_CHANGE_ASYNC);
  gst_pad_remove_probe (pad, probe);
  fail_unless_equals_int (gst_element_get_state (run.pipeline, &state, NULL,
          RUN_TIMEOUT), GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (state, GST_STATE_PAUSED);

  gst_element_set_state (run.pipeline, GST_STATE_PLAYING);
  wait_for_end (&run);
  assert_eos ("a sink", &run);
  gst_element_set_state (run.pipeline, GST_STATE_NULL);
  gst_object_unref (pad);
  gst_object_unref (src);
  gst_object_unref (bin);
  run_clear (&run);
}

GST_END_TEST;

static GstStateChangeReturn
wait_for_state (GstElement * pipeline, GstState want)
{
  GstStateChangeReturn ret;
  GstState state;

  ret = gst_element_get_state (pipeline, &state, NULL, RUN_TIMEOUT);
  fail_unless (ret != GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (state, want);
  return ret;
}

/* PLAYING and PAUSED again and again, for a source, a sink and a demuxer,
 * then the stream goes on to its end. */
static void
assert_cycles (const gchar * description)
{
  Run run;

  run_init (&run);
  build (description, &run);
  for (guint i = 0; i < 4; i++) {
    gst_element_set_state (run.pipeline, GST_STATE_PLAYING);
    wait_for_state (run.pipeline, GST_STATE_PLAYING);
    gst_element_set_state (run.pipeline, GST_STATE_PAUSED);
    wait_for_state (run.pipeline, GST_STATE_PAUSED);
  }
  gst_element_set_state (run.pipeline, GST_STATE_PLAYING);
  wait_for_end (&run);
  assert_eos (description, &run);
  gst_element_set_state (run.pipeline, GST_STATE_NULL);
  run_clear (&run);
}

GST_START_TEST (test_playing_paused_cycles)
{
  Clip clip;
  gchar *demuxer;

  assert_cycles ("sandboxbin name=bin description=\"videotestsrc "
      "num-buffers=60 ! capsfilter caps=" SMALL_VIDEO
      "\" ! fakesink sync=true");
  assert_cycles ("videotestsrc num-buffers=60 ! " SMALL_VIDEO " ! "
      "sandboxbin name=bin description=\"videoconvert ! fakesink "
      "sync=true\"");
  make_matroska (&clip);
  demuxer = g_strdup_printf ("filesrc location=%s ! sandboxbin name=bin "
      "description=matroskademux", clip.path);
  assert_cycles (demuxer);
  g_free (demuxer);
  clip_clear (&clip);
}

GST_END_TEST;

/* ---- a live source ----------------------------------------------------- */

static void
query_latency (GstElement * pipeline, gboolean * live, GstClockTime * min)
{
  GstQuery *query = gst_query_new_latency ();

  fail_unless (gst_element_query (pipeline, query));
  gst_query_parse_latency (query, live, min, NULL);
  gst_query_unref (query);
}

/* The bin is live: NO_PREROLL, and the latency is the worker's, as the
 * same source in-process has it. */
GST_START_TEST (test_live_source_latency)
{
  const gchar *description = "videotestsrc is-live=true num-buffers=15 ! "
      "capsfilter caps=" SMALL_VIDEO;
  GstClockTime min[2];
  gboolean live[2];

  for (guint i = 0; i < 2; i++) {
    gchar *line = g_strdup_printf ("sandboxbin name=bin mode=%s "
        "description=\"%s\" ! fakesink name=sink sync=true",
        i ? "isolated" : "in-process", description);
    Run run;

    run_init (&run);
    build (line, &run);
    fail_unless_equals_int (gst_element_set_state (run.pipeline,
            GST_STATE_PAUSED), GST_STATE_CHANGE_NO_PREROLL);
    gst_element_set_state (run.pipeline, GST_STATE_PLAYING);
    wait_for_state (run.pipeline, GST_STATE_PLAYING);
    wait_for_end (&run);
    assert_eos (line, &run);
    /* Once the stream went through: the worker's latency comes when its
     * own pipeline has computed it, after negotiation, and the bin posts
     * a LATENCY message then, as any element whose latency changes. */
    query_latency (run.pipeline, &live[i], &min[i]);
    gst_element_set_state (run.pipeline, GST_STATE_NULL);
    run_clear (&run);
    g_free (line);
  }
  fail_unless (live[0] && live[1]);
  /* at least the source's frame at 30/s */
  fail_unless (min[0] >= gst_util_uint64_scale (GST_SECOND, 1, 30));
  fail_unless_equals_uint64 (min[1], min[0]);
}

GST_END_TEST;

static Suite *
sandboxbin_pads_suite (void)
{
  Suite *s = suite_create ("sandboxbin_pads");
  TCase *streams = tcase_create ("streams");
  TCase *ends = tcase_create ("sources-and-sinks");
  TCase *states = tcase_create ("states");

  tcase_set_timeout (streams, 120);
  tcase_add_test (streams, test_matroskademux_streams_bit_exact);
  tcase_add_test (streams, test_qtdemux_streams_bit_exact);
  tcase_add_test (streams, test_oggdemux_streams_bit_exact);
  tcase_add_test (streams, test_decodebin_streams_bit_exact);
  tcase_add_test (streams, test_uridecodebin_over_http_bit_exact);
  tcase_add_test (streams, test_stream_pads_removed_at_null);
  tcase_add_test (streams, test_streams_beyond_the_limit_left_out);
  suite_add_tcase (s, streams);
  tcase_add_test (ends, test_source_bit_exact);
  tcase_add_test (ends, test_audio_source_bit_exact);
  tcase_add_test (ends, test_sink_prerolls_in_the_worker);
  suite_add_tcase (s, ends);
  tcase_set_timeout (states, 120);
  tcase_add_test (states, test_playing_paused_cycles);
  tcase_add_test (states, test_live_source_latency);
  suite_add_tcase (s, states);
  return s;
}

GST_CHECK_MAIN (sandboxbin_pads);
