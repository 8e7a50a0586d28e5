/* Parallax — containers and elements that test what crosses the worker's
 * boundary: MPEG-TS (tsdemux's section messages carry values with no
 * text form), a demuxer given another container's file (it keeps its
 * input while it looks for a header), an encoder that looks ahead (it
 * keeps its input until it answers).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The clips are made once per test case from Debian's encoders and muxers
 * in a temporary directory that it removes.
 */
#include <gst/check/gstcheck.h>

#include <glib/gstdio.h>

#include "px-sandboxbin-check.h"

#define CLIP_FRAMES 90          /* 3 s at 30 fps */
#define CLIP_VIDEO "video/x-raw,format=I420,width=320,height=240," \
  "framerate=30/1"

static gchar *clip_dir, *ts_clip, *mp4_clip;

/* In a gst-launch-1.0 of its own: the fixture runs in the process that
 * forks each test, which must not have started GStreamer's threads. */
static void
make_clip (const gchar * encoder, const gchar * path)
{
  gchar *line = g_strdup_printf ("gst-launch-1.0 -q videotestsrc "
      "num-buffers=%d pattern=ball ! " CLIP_VIDEO " ! %s ! filesink "
      "location=%s", CLIP_FRAMES, encoder, path);
  gchar *err = NULL;
  gint status = -1;

  fail_unless (g_spawn_command_line_sync (line, NULL, &err, &status, NULL));
  fail_unless (g_spawn_check_wait_status (status, NULL), "%s: %s", line, err);
  g_free (err);
  g_free (line);
}

static void
make_clips (void)
{
  clip_dir = g_dir_make_tmp ("parallax-formats-XXXXXX", NULL);
  fail_unless (clip_dir != NULL);
  ts_clip = g_build_filename (clip_dir, "clip.ts", NULL);
  mp4_clip = g_build_filename (clip_dir, "clip.mp4", NULL);
  make_clip ("x264enc key-int-max=30 ! h264parse ! mpegtsmux", ts_clip);
  make_clip ("x264enc key-int-max=30 ! mp4mux faststart=true", mp4_clip);
}

static void
remove_clips (void)
{
  g_unlink (ts_clip);
  g_unlink (mp4_clip);
  g_rmdir (clip_dir);
  g_clear_pointer (&ts_clip, g_free);
  g_clear_pointer (&mp4_clip, g_free);
  g_clear_pointer (&clip_dir, g_free);
}

/* Runs @line to EOS or an error; the element messages of @source_name
 * that are not the bin's own (sandboxbin-*) are added to @messages. */
static void
run_collecting (const gchar * line, const gchar * source_name,
    PxCheckRun * run, GPtrArray * messages)
{
  GstElement *pipeline = px_check_build (line, run);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while ((msg = gst_bus_timed_pop_filtered (bus, PX_CHECK_RUN_TIMEOUT,
              GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    gboolean done = GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT;

    if (!done && s != NULL && !g_str_has_prefix (gst_structure_get_name (s),
            "sandboxbin-") && g_strcmp0 (GST_MESSAGE_SRC_NAME (msg),
            source_name) == 0)
      g_ptr_array_add (messages, gst_structure_copy (s));
    run->eos = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
    gst_message_unref (msg);
    if (done)
      break;
  }
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

/* ---- MPEG-TS ----------------------------------------------------------- */

/* tsdemux posts section messages whose GstMpegtsSection has no text form:
 * the stream plays to its end all the same, in one worker, bit for bit as
 * in-process. */
GST_START_TEST (test_tsdemux_and_avdec_h264_bit_exact)
{
  gchar *source = g_strdup_printf ("filesrc location=%s", ts_clip);

  px_check_assert_bit_exact (source, "tsdemux ! h264parse ! avdec_h264",
      CLIP_FRAMES);
  g_free (source);
}

GST_END_TEST;

/* The section messages come out of the bin, without the section and with
 * the name of what was left out. */
GST_START_TEST (test_ts_sections_come_out_without_their_values)
{
  gchar *line = g_strdup_printf ("filesrc location=%s ! sandboxbin "
      "name=bin description=\"tsdemux ! h264parse ! avdec_h264\" ! "
      "fakesink name=sink", ts_clip);
  GPtrArray *messages = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  gboolean pat = FALSE, pmt = FALSE;
  PxCheckRun run;

  px_check_run_init (&run);
  run_collecting (line, "bin", &run, messages);
  fail_unless (run.eos, "%s: no EOS", line);
  fail_unless_equals_int (run.checksums->len, CLIP_FRAMES);
  for (guint i = 0; i < messages->len; i++) {
    const GstStructure *s = g_ptr_array_index (messages, i);
    const GValue *left_out = gst_structure_get_value (s,
        "sandboxbin-left-out");

    if (!gst_structure_has_name (s, "pat") && !gst_structure_has_name (s,
            "pmt"))
      continue;
    pat |= gst_structure_has_name (s, "pat");
    pmt |= gst_structure_has_name (s, "pmt");
    fail_if (gst_structure_has_field (s, "section"), "%" GST_PTR_FORMAT, s);
    fail_unless (left_out != NULL && GST_VALUE_HOLDS_ARRAY (left_out),
        "%" GST_PTR_FORMAT, s);
    fail_unless_equals_int (gst_value_array_get_size (left_out), 1);
    fail_unless_equals_string (g_value_get_string (gst_value_array_get_value
            (left_out, 0)), "section");
  }
  fail_unless (pat && pmt, "no section messages out of the bin");
  g_ptr_array_unref (messages);
  px_check_run_clear (&run);
  g_free (line);
}

GST_END_TEST;

/* ---- input the worker's elements keep ---------------------------------- */

/* Buffers of the file the demuxer reads: many more of them than the 16
 * the host lends the worker at once. */
#define FILE_BLOCK 1024
#define HOST_LENDS 16

/* matroskademux given an MP4 keeps what it reads while it looks for a
 * header, more than the host lends the worker: the worker's copies let
 * the whole file through, and the demuxer's error ends the stream as it
 * does in-process, in the same domain and code, from the bin, without a
 * worker lost on the way. */
GST_START_TEST (test_demuxer_given_another_container_fails_as_in_process)
{
  gchar *isolated = g_strdup_printf ("filesrc location=%s blocksize=%d ! "
      "sandboxbin name=bin description=\"matroskademux ! vp8dec\" ! "
      "fakesink name=sink", mp4_clip, FILE_BLOCK);
  gchar *in_process = g_strdup_printf ("filesrc location=%s blocksize=%d ! "
      "sandboxbin name=bin mode=in-process description=\"matroskademux ! "
      "vp8dec\" ! fakesink name=sink", mp4_clip, FILE_BLOCK);
  PxCheckRun expected, got;
  GStatBuf st;

  fail_unless (g_stat (mp4_clip, &st) == 0);
  fail_unless (st.st_size > 2 * HOST_LENDS * FILE_BLOCK);
  px_check_run_init (&expected);
  px_check_run_init (&got);
  px_check_run_to_end (in_process, &expected);
  fail_unless (expected.error != NULL);
  fail_unless (g_error_matches (expected.error, GST_STREAM_ERROR,
          GST_STREAM_ERROR_DEMUX), "%s", expected.error->message);
  px_check_run_to_end (isolated, &got);
  fail_unless (got.error != NULL, "%s: no error", isolated);
  fail_unless (g_error_matches (got.error, expected.error->domain,
          expected.error->code), "%s: %s", isolated, got.error->message);
  fail_unless_equals_string (got.error->message, expected.error->message);
  fail_unless_equals_string (got.error_source, "bin");
  fail_unless_equals_int (got.checksums->len, 0);
  fail_unless_equals_int (px_check_count_elements (&got,
          "sandboxbin-worker-started"), 1);
  fail_unless_equals_int (px_check_count_elements (&got,
          "sandboxbin-worker-crashed"), 0);
  px_check_run_clear (&expected);
  px_check_run_clear (&got);
  g_free (isolated);
  g_free (in_process);
}

GST_END_TEST;

/* An encoder that looks 20 frames ahead keeps more raw frames than the
 * host lends the worker before its first answer: the same stream as
 * in-process, in one worker. (The stream format is written out: for a
 * downstream that takes anything, x264enc picks avc in the worker and
 * byte-stream in-process.) */
GST_START_TEST (test_encoder_looking_ahead_bit_exact)
{
  px_check_assert_bit_exact ("videotestsrc num-buffers=60 pattern=ball ! "
      CLIP_VIDEO, "x264enc rc-lookahead=20 threads=1 ! capsfilter "
      "caps=video/x-h264,stream-format=byte-stream", 60);
}

GST_END_TEST;

/* An encoder that keeps 61 raw frames before its first output keeps more
 * than the pool upstream writes into has slots, once the replay window's
 * share is counted: the window lets go of the frames only it holds when
 * upstream would wait for a slot. Before, the stream stalled until
 * processing-timeout (x264enc's default look-ahead, 40, did too). mb-tree
 * is off because with it x264enc reads memory it never wrote: its output
 * changes with MALLOC_PERTURB_, in-process alike. */
GST_START_TEST (test_encoder_with_deep_lookahead_bit_exact)
{
  px_check_assert_bit_exact ("videotestsrc num-buffers=120 pattern=ball ! "
      CLIP_VIDEO, "x264enc threads=1 rc-lookahead=60 mb-tree=false ! "
      "capsfilter caps=video/x-h264,stream-format=byte-stream", 120);
}

GST_END_TEST;

static Suite *
sandboxbin_formats_suite (void)
{
  Suite *s = suite_create ("sandboxbin_formats");
  TCase *ts = tcase_create ("mpeg-ts");
  TCase *kept = tcase_create ("kept-input");

  suite_add_tcase (s, ts);
  tcase_set_timeout (ts, 120);
  tcase_add_unchecked_fixture (ts, make_clips, remove_clips);
  tcase_add_test (ts, test_tsdemux_and_avdec_h264_bit_exact);
  tcase_add_test (ts, test_ts_sections_come_out_without_their_values);

  suite_add_tcase (s, kept);
  tcase_set_timeout (kept, 120);
  tcase_add_unchecked_fixture (kept, make_clips, remove_clips);
  tcase_add_test (kept,
      test_demuxer_given_another_container_fails_as_in_process);
  tcase_add_test (kept, test_encoder_looking_ahead_bit_exact);
  tcase_add_test (kept, test_encoder_with_deep_lookahead_bit_exact);
  return s;
}

GST_CHECK_MAIN (sandboxbin_formats);
