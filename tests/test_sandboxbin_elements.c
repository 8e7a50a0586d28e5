/* Parallax — real decoders and demuxers in sandboxbin, bit-exact against
 * the same description in-process; seeking and flushing through the bin;
 * many bins in one pipeline.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The clips are made once per test case from Debian's encoders (x264enc !
 * mp4mux, vp8enc ! webmmux) in a temporary directory that it removes.
 * Besides the faststart MP4, two have their moov atom at the end, as
 * mp4mux writes it by default and cameras do: a small one, whose mdat
 * qtdemux in push mode gathers whole before it reads the moov, and one
 * over 4 MiB, where it seeks upstream in bytes to the moov and back.
 */
#include <gst/check/gstcheck.h>

#include <glib/gstdio.h>

#include "px-sandboxbin-check.h"

#define CLIP_FRAMES 90          /* 3 s at 30 fps */
#define CLIP_VIDEO "video/x-raw,format=I420,width=320,height=240," \
  "framerate=30/1"

/* Snow at a fine quantizer: over 4 MiB in two seconds, so that qtdemux
 * seeks to a moov at the end rather than gather the mdat. */
#define LARGE_CLIP_FRAMES 60
#define LARGE_CLIP_ENCODER "x264enc speed-preset=ultrafast pass=quant " \
  "quantizer=5 key-int-max=30 ! mp4mux"

static gchar *clip_dir, *mp4_clip, *webm_clip, *moov_end_clip;
static gchar *large_moov_end_clip;

/* In a gst-launch-1.0 of its own: the fixture runs in the process that
 * forks each test, which must not have started GStreamer's threads. */
static void
make_clip_of (const gchar * pattern, guint frames, const gchar * encoder,
    const gchar * path)
{
  gchar *line = g_strdup_printf ("gst-launch-1.0 -q videotestsrc "
      "num-buffers=%u pattern=%s ! " CLIP_VIDEO " ! %s ! filesink "
      "location=%s", frames, pattern, encoder, path);
  gchar *err = NULL;
  gint status = -1;

  fail_unless (g_spawn_command_line_sync (line, NULL, &err, &status, NULL));
  fail_unless (g_spawn_check_wait_status (status, NULL), "%s: %s", line, err);
  g_free (err);
  g_free (line);
}

static void
make_clip (const gchar * encoder, const gchar * path)
{
  make_clip_of ("ball", CLIP_FRAMES, encoder, path);
}

static void
make_clips (void)
{
  GStatBuf st;

  clip_dir = g_dir_make_tmp ("parallax-clips-XXXXXX", NULL);
  fail_unless (clip_dir != NULL);
  mp4_clip = g_build_filename (clip_dir, "clip.mp4", NULL);
  webm_clip = g_build_filename (clip_dir, "clip.webm", NULL);
  moov_end_clip = g_build_filename (clip_dir, "moov-end.mp4", NULL);
  large_moov_end_clip = g_build_filename (clip_dir, "large.mp4", NULL);
  make_clip ("x264enc key-int-max=30 ! mp4mux faststart=true", mp4_clip);
  make_clip ("vp8enc deadline=1 keyframe-max-dist=30 ! webmmux", webm_clip);
  /* smpte, unlike ball, makes an mdat larger than the 16 buffers of 4 KiB
   * the host lends the worker at once */
  make_clip_of ("smpte", CLIP_FRAMES, "x264enc key-int-max=30 ! mp4mux",
      moov_end_clip);
  make_clip_of ("snow", LARGE_CLIP_FRAMES, LARGE_CLIP_ENCODER,
      large_moov_end_clip);
  fail_unless (g_stat (moov_end_clip, &st) == 0);
  fail_unless (st.st_size > 16 * 4096, "%" G_GINT64_FORMAT " bytes",
      (gint64) st.st_size);
  /* qtdemux seeks past an mdat only in files over 4 MiB */
  fail_unless (g_stat (large_moov_end_clip, &st) == 0);
  fail_unless (st.st_size > 4 * 1024 * 1024, "%" G_GINT64_FORMAT " bytes",
      (gint64) st.st_size);
}

static void
remove_clips (void)
{
  g_unlink (mp4_clip);
  g_unlink (webm_clip);
  g_unlink (moov_end_clip);
  g_unlink (large_moov_end_clip);
  g_rmdir (clip_dir);
  g_clear_pointer (&mp4_clip, g_free);
  g_clear_pointer (&webm_clip, g_free);
  g_clear_pointer (&moov_end_clip, g_free);
  g_clear_pointer (&large_moov_end_clip, g_free);
  g_clear_pointer (&clip_dir, g_free);
}

/* ---- bit-exact against in-process -------------------------------------- */

GST_START_TEST (test_jpegdec_bit_exact)
{
  px_check_assert_bit_exact ("videotestsrc num-buffers=10 pattern=smpte ! "
      CLIP_VIDEO " ! jpegenc", "jpegdec", 10);
}

GST_END_TEST;

GST_START_TEST (test_vp8dec_bit_exact)
{
  gchar *source = g_strdup_printf ("filesrc location=%s ! matroskademux",
      webm_clip);

  px_check_assert_bit_exact (source, "vp8dec", CLIP_FRAMES);
  g_free (source);
}

GST_END_TEST;

GST_START_TEST (test_avdec_h264_bit_exact)
{
  gchar *source = g_strdup_printf ("filesrc location=%s ! qtdemux ! "
      "h264parse", mp4_clip);

  px_check_assert_bit_exact (source, "avdec_h264", CLIP_FRAMES);
  g_free (source);
}

GST_END_TEST;

/* The headline use: the demuxer and the decoder of an untrusted file in the
 * jail, fed the file's bytes. */
GST_START_TEST (test_qtdemux_and_avdec_h264_bit_exact)
{
  gchar *source = g_strdup_printf ("filesrc location=%s", mp4_clip);

  px_check_assert_bit_exact (source, "qtdemux ! h264parse ! avdec_h264",
      CLIP_FRAMES);
  g_free (source);
}

GST_END_TEST;

/* The moov at the end of a small file: qtdemux, fed in push mode, gathers
 * the whole mdat before it can read the moov, and so keeps every buffer the
 * host lends the worker, until it has them all. */
GST_START_TEST (test_qtdemux_moov_at_end_bit_exact)
{
  gchar *source = g_strdup_printf ("filesrc location=%s", moov_end_clip);

  px_check_assert_bit_exact (source, "qtdemux ! h264parse ! avdec_h264",
      CLIP_FRAMES);
  g_free (source);
}

GST_END_TEST;

/* The moov at the end of a large file: qtdemux seeks upstream of the bin in
 * bytes from inside its chain function, to the moov and back to the mdat,
 * and expects each seek's flush before the seek returns, as in one
 * process. */
GST_START_TEST (test_qtdemux_seeks_to_moov_at_end_bit_exact)
{
  gchar *source = g_strdup_printf ("filesrc location=%s",
      large_moov_end_clip);

  px_check_assert_bit_exact (source, "qtdemux ! h264parse ! avdec_h264",
      LARGE_CLIP_FRAMES);
  g_free (source);
}

GST_END_TEST;

GST_START_TEST (test_matroskademux_and_vp8dec_bit_exact)
{
  gchar *source = g_strdup_printf ("filesrc location=%s", webm_clip);

  px_check_assert_bit_exact (source, "matroskademux ! vp8dec", CLIP_FRAMES);
  g_free (source);
}

GST_END_TEST;

/* ---- seeking and flushing ---------------------------------------------- */

/* Prerolls "@upstream ! sandboxbin @mode description=@description !
 * fakesink", seeks to [@start, @stop] with a flush and plays to EOS.
 * Returns the PTS of every buffer rendered, all after the seek (fakesink
 * hands off what it renders, and nothing was rendered before). */
static GArray *
seek_and_play (const gchar * upstream, const gchar * mode,
    const gchar * description, GstClockTime start, GstClockTime stop)
{
  gchar *line = g_strdup_printf ("%s ! sandboxbin %s description=\"%s\" ! "
      "fakesink name=sink sync=false", upstream, mode, description);
  PxCheckRun run;
  GstElement *pipeline;
  GArray *timestamps;

  px_check_run_init (&run);
  pipeline = px_check_build (line, &run);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
          PX_CHECK_RUN_TIMEOUT), GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_element_seek (pipeline, 1.0, GST_FORMAT_TIME,
          GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, GST_SEEK_TYPE_SET,
          start, GST_SEEK_TYPE_SET, stop), "%s: seek refused", line);
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
          PX_CHECK_RUN_TIMEOUT), GST_STATE_CHANGE_SUCCESS);
  px_check_play (pipeline, &run);
  px_check_assert_eos (line, &run);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  timestamps = g_array_ref (run.timestamps);
  px_check_run_clear (&run);
  g_free (line);
  return timestamps;
}

/* The seek gives isolated what it gives in-process: the same frames, each
 * once, in order, none before @start. */
static void
assert_seek (const gchar * upstream, const gchar * description,
    GstClockTime start, GstClockTime stop)
{
  GArray *expected = seek_and_play (upstream, "mode=in-process", description,
      start, stop);
  GArray *got = seek_and_play (upstream, "", description, start, stop);

  fail_unless (expected->len > 0);
  fail_unless_equals_int (got->len, expected->len);
  for (guint i = 0; i < got->len; i++) {
    GstClockTime pts = g_array_index (got, GstClockTime, i);

    fail_unless_equals_uint64 (pts, g_array_index (expected, GstClockTime, i));
    /* qtdemux and avdec_h264 stop a few frames after the stop position,
     * in-process alike: only the start is theirs to keep exactly */
    fail_unless (pts >= start, "%" GST_TIME_FORMAT, GST_TIME_ARGS (pts));
    fail_unless (i == 0 || pts > g_array_index (got, GstClockTime, i - 1));
  }
  g_array_unref (expected);
  g_array_unref (got);
}

/* A seek from downstream crosses the bin to the source upstream of it;
 * the flush it starts crosses the worker and back. */
GST_START_TEST (test_seek_through_a_filter)
{
  GArray *got = seek_and_play ("videotestsrc num-buffers=90 ! " CLIP_VIDEO,
      "", "videoconvert", GST_SECOND, 2 * GST_SECOND);

  /* videotestsrc starts exactly at the position: frames 30 to 59 */
  fail_unless_equals_int (got->len, 30);
  fail_unless_equals_uint64 (g_array_index (got, GstClockTime, 0), GST_SECOND);
  g_array_unref (got);
  assert_seek ("videotestsrc num-buffers=90 ! " CLIP_VIDEO, "videoconvert",
      GST_SECOND, 2 * GST_SECOND);
}

GST_END_TEST;

/* The seek reaches the demuxer in the jail, which asks upstream of the bin
 * to seek in time, learns that the file cannot, and seeks it in bytes
 * itself; the decoder starts again from a keyframe and clips to the
 * position. */
GST_START_TEST (test_seek_through_a_demuxer)
{
  gchar *upstream = g_strdup_printf ("filesrc location=%s", mp4_clip);

  assert_seek (upstream, "qtdemux ! h264parse ! avdec_h264", GST_SECOND,
      2 * GST_SECOND);
  g_free (upstream);
}

GST_END_TEST;

/* The same with the moov at the end, where qtdemux knows the file only once
 * it gathered the whole mdat, then seeks in bytes within it. */
GST_START_TEST (test_seek_with_moov_at_end)
{
  gchar *upstream = g_strdup_printf ("filesrc location=%s", moov_end_clip);

  assert_seek (upstream, "qtdemux ! h264parse ! avdec_h264", GST_SECOND,
      2 * GST_SECOND);
  g_free (upstream);
}

GST_END_TEST;

/* And in the large file, where qtdemux seeks upstream to the moov and back
 * before the seek from downstream. */
GST_START_TEST (test_seek_with_moov_at_end_of_a_large_file)
{
  gchar *upstream = g_strdup_printf ("filesrc location=%s",
      large_moov_end_clip);

  assert_seek (upstream, "qtdemux ! h264parse ! avdec_h264",
      GST_SECOND / 2, GST_SECOND + GST_SECOND / 2);
  g_free (upstream);
}

GST_END_TEST;

/* ---- many bins --------------------------------------------------------- */

/* Sixteen bins in a row, sixteen workers: the frames come out as they went
 * in. */
GST_START_TEST (test_sixteen_bins_in_one_pipeline)
{
  GString *line = g_string_new ("videotestsrc num-buffers=10 pattern=smpte ! "
      CLIP_VIDEO);
  PxCheckRun direct, through;

  px_check_run_init (&direct);
  px_check_run_init (&through);
  px_check_run_to_end ("videotestsrc num-buffers=10 pattern=smpte ! "
      CLIP_VIDEO " ! fakesink name=sink", &direct);
  for (guint i = 0; i < 16; i++)
    g_string_append (line, " ! sandboxbin description=identity");
  g_string_append (line, " ! fakesink name=sink");
  px_check_run_to_end (line->str, &through);
  px_check_assert_eos (line->str, &through);
  fail_unless_equals_int (px_check_count_elements (&through,
          "sandboxbin-worker-started"), 16);
  fail_unless_equals_int (through.checksums->len, direct.checksums->len);
  for (guint i = 0; i < direct.checksums->len; i++)
    fail_unless_equals_string (g_ptr_array_index (through.checksums, i),
        g_ptr_array_index (direct.checksums, i));
  px_check_run_clear (&direct);
  px_check_run_clear (&through);
  g_string_free (line, TRUE);
}

GST_END_TEST;

static Suite *
sandboxbin_elements_suite (void)
{
  Suite *s = suite_create ("sandboxbin_elements");
  TCase *exact = tcase_create ("bit-exact");
  TCase *seeking = tcase_create ("seeking");
  TCase *many = tcase_create ("many");

  suite_add_tcase (s, exact);
  tcase_set_timeout (exact, 120);
  tcase_add_unchecked_fixture (exact, make_clips, remove_clips);
  tcase_add_test (exact, test_jpegdec_bit_exact);
  tcase_add_test (exact, test_vp8dec_bit_exact);
  tcase_add_test (exact, test_avdec_h264_bit_exact);
  tcase_add_test (exact, test_qtdemux_and_avdec_h264_bit_exact);
  tcase_add_test (exact, test_qtdemux_moov_at_end_bit_exact);
  tcase_add_test (exact, test_qtdemux_seeks_to_moov_at_end_bit_exact);
  tcase_add_test (exact, test_matroskademux_and_vp8dec_bit_exact);

  suite_add_tcase (s, seeking);
  tcase_set_timeout (seeking, 120);
  tcase_add_unchecked_fixture (seeking, make_clips, remove_clips);
  tcase_add_test (seeking, test_seek_through_a_filter);
  tcase_add_test (seeking, test_seek_through_a_demuxer);
  tcase_add_test (seeking, test_seek_with_moov_at_end);
  tcase_add_test (seeking, test_seek_with_moov_at_end_of_a_large_file);

  suite_add_tcase (s, many);
  tcase_set_timeout (many, 120);
  tcase_add_test (many, test_sixteen_bins_in_one_pipeline);
  return s;
}

GST_CHECK_MAIN (sandboxbin_elements);
