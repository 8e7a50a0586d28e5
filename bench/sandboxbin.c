/* Parallax — benchmark: what sandboxbin's jail costs a pipeline, against
 * the same description with mode=in-process, measured in the same run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run it under `meson devenv -C <builddir>`, which puts the build's plugin
 * on GST_PLUGIN_PATH and sets PARALLAX_WORKER:
 *
 *   meson devenv -C <builddir> ./bench/parallax-bench-sandboxbin --markdown
 *
 * At start it encodes a 1080p H.264 clip (--frames frames of a scrolling
 * test pattern, x264enc speed-preset=veryfast key-int-max=30, MP4 with the
 * index first) into a temporary directory: a keyframe a second, so that
 * the new worker of the decoder crash case is given a few frames again
 * (the replay window since the keyframe) instead of the whole clip, which
 * crashes it once more. Then, each case with mode=isolated (the
 * default) and with mode=in-process, in the same pipeline otherwise:
 *
 * 1. decode: filesrc ! qtdemux ! h264parse ! sandboxbin description=
 *    avdec_h264 ! fakesink. Wall time from PLAYING to EOS, the bin already
 *    in READY (the worker's spawn is timed apart, as "to READY").
 * 2. chain: filesrc ! sandboxbin description="qtdemux ! h264parse !
 *    avdec_h264" ! fakesink: the same, everything that parses the file in
 *    the bin.
 * 3. audio: audiotestsrc wave=silence samplesperbuffer=480 (10 ms at 48 kHz,
 *    S16LE stereo) ! sandboxbin description=audioconvert ! F32LE !
 *    fakesink: buffers per second from PLAYING to EOS, the number of
 *    buffers calibrated to take about --seconds.
 * 4. crash: videotestsrc (320x240) ! sandboxbin description="hostile
 *    misdeed=crash after-buffers=N" ! fakesink, and the same behind
 *    avdec_h264 on the clip: the test element crashes the worker once;
 *    the time from the last buffer out of the dead worker to the first out
 *    of the new one, with restart-delay at its default (100 ms). Isolated
 *    only. Needs the build's test plugin (--test-plugins). The same two
 *    with spare=true: the spare is ready (the run waits for it in READY)
 *    and takes over, without the restart-delay of a first crash. Frames
 *    lost: those of the input that never came out (the crash's cost
 *    besides time; replay should make it 0).
 * 5. start: 16 branches videotestsrc ! sandboxbin description=videoconvert
 *    ! fakesink in one pipeline, from NULL until the state change to
 *    PLAYING has completed (every sink prerolled).
 *
 * Sinks do not sync. Runs are interleaved (run 1 of every case, then run
 * 2, ...; isolated and in-process in alternating order) after one warm-up
 * run of each that is not counted; medians over --runs runs. Every run is
 * checked: the stream ended, every frame came out (but in the crash
 * cases, which count what was lost), the crash happened once and the
 * stream resumed.
 */

#include "bench-util.h"
#include <gst/gst.h>

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 101
#define RUN_TIMEOUT (120 * GST_SECOND)
#define CLIP_CAPS "video/x-raw,format=I420,width=1920,height=1080," \
  "framerate=30/1"
#define AUDIO_CAPS "audio/x-raw,format=S16LE,rate=48000,channels=2"
#define AUDIO_OUT_CAPS "audio/x-raw,format=F32LE"
#define SMALL_VIDEO "video/x-raw,format=I420,width=320,height=240"
#define START_BINS 16
#define CRASH_AFTER_TEST_PATTERN 200
#define DEFAULT_RESTART_DELAY_MS 100
/* The project's targets. */
#define TARGET_DECODE_RATIO 1.05
#define TARGET_AUDIO_RATE 20000.0
#define TARGET_CRASH_MS (100.0 + DEFAULT_RESTART_DELAY_MS)
#define TARGET_CRASH_SPARE_MS 30.0
#define SPARE_WAIT (30 * G_TIME_SPAN_SECOND)
#define TARGET_START_MS 1000.0

typedef struct
{
  gint runs;
  gint frames;
  gdouble seconds;
  gboolean markdown;
  gchar *test_plugins;
  gchar *clip;
} BenchOptions;

enum
{
  ISOLATED,
  IN_PROCESS,
  N_MODES
};

static const gchar *const mode_names[N_MODES] = { "isolated", "in-process" };

/* ---- one pipeline ------------------------------------------------------ */

/* What a run saw; written by the sink's probe and the bus's sync handler
 * (streaming threads, the bin's supervisor), read when the run is over. */
typedef struct
{
  GMutex lock;
  guint64 buffers;
  guint started, crashed, spare_started;
  gint64 last_before_crash, crash_reported, restarted, resumed; /* ns */
} Observed;

static GstPadProbeReturn
count_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Observed *seen = user_data;
  gint64 now = bench_now_ns ();

  g_mutex_lock (&seen->lock);
  seen->buffers++;
  if (seen->crashed == 0)
    seen->last_before_crash = now;
  else if (seen->started >= 2 && seen->resumed == 0)
    seen->resumed = now;
  g_mutex_unlock (&seen->lock);
  return GST_PAD_PROBE_OK;
}

static GstBusSyncReply
note_worker (GstBus * bus, GstMessage * message, gpointer user_data)
{
  Observed *seen = user_data;
  const GstStructure *s = gst_message_get_structure (message);
  gint64 now = bench_now_ns ();

  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ELEMENT || s == NULL)
    return GST_BUS_PASS;
  g_mutex_lock (&seen->lock);
  if (gst_structure_has_name (s, "sandboxbin-worker-started")) {
    gboolean spare = FALSE;

    if (++seen->started == 2)
      seen->restarted = now;
    if (gst_structure_get_boolean (s, "spare", &spare) && spare)
      seen->spare_started++;
  } else if (gst_structure_has_name (s, "sandboxbin-worker-crashed")) {
    if (seen->crashed++ == 0)
      seen->crash_reported = now;
  }
  g_mutex_unlock (&seen->lock);
  return GST_BUS_PASS;
}

static GstElement *
build (const gchar * line, Observed * seen)
{
  g_autoptr (GError) error = NULL;
  GstElement *pipeline = gst_parse_launch_full (line, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &error);
  GstElement *sink;
  GstBus *bus;

  if (pipeline == NULL) {
    g_printerr ("cannot build \"%s\": %s\n", line, error->message);
    return NULL;
  }
  memset (seen, 0, sizeof *seen);
  g_mutex_init (&seen->lock);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  if (sink != NULL) {
    GstPad *pad = gst_element_get_static_pad (sink, "sink");

    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, seen,
        NULL);
    gst_object_unref (pad);
    gst_object_unref (sink);
  }
  bus = gst_element_get_bus (pipeline);
  gst_bus_set_sync_handler (bus, note_worker, seen, NULL);
  gst_object_unref (bus);
  return pipeline;
}

static void
destroy (GstElement * pipeline, Observed * seen)
{
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_mutex_clear (&seen->lock);
}

static gboolean
wait_for_eos (GstElement * pipeline, const gchar * line)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *message = gst_bus_timed_pop_filtered (bus, RUN_TIMEOUT,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gboolean ok = message && GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS;

  if (!ok) {
    g_autoptr (GError) error = NULL;

    if (message)
      gst_message_parse_error (message, &error, NULL);
    g_printerr ("\"%s\": %s\n", line, error ? error->message :
        "no end of stream in time");
  }
  gst_clear_message (&message);
  gst_object_unref (bus);
  return ok;
}

/* With spare=true: in READY, until the sandboxbin "bin" has its spare
 * ready. */
static gboolean
wait_for_spare (GstElement * pipeline)
{
  GstElement *bin = gst_bin_get_by_name (GST_BIN (pipeline), "bin");
  gint64 deadline = g_get_monotonic_time () + SPARE_WAIT;
  gint pid = 0;

  while (bin != NULL && g_get_monotonic_time () < deadline) {
    g_object_get (bin, "spare-pid", &pid, NULL);
    if (pid != 0)
      break;
    g_usleep (G_USEC_PER_SEC / 1000);
  }
  gst_clear_object (&bin);
  if (pid == 0)
    g_printerr ("no spare worker came\n");
  return pid != 0;
}

/* PLAYING to EOS in ms, from READY (the worker started: @ready_ms gets how
 * long that took; with @spare, its spare is ready too); -1 on failure. */
static gdouble
time_to_eos (const gchar * line, Observed * seen, guint64 expect_buffers,
    gdouble * ready_ms, gboolean spare)
{
  GstElement *pipeline = build (line, seen);
  gint64 start, ready, playing, end;
  gboolean ok;

  if (pipeline == NULL)
    return -1;
  start = bench_now_ns ();
  ok = gst_element_set_state (pipeline, GST_STATE_READY) ==
      GST_STATE_CHANGE_SUCCESS;
  ready = bench_now_ns ();
  ok = ok && (!spare || wait_for_spare (pipeline));
  playing = bench_now_ns ();
  ok = ok && gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE && wait_for_eos (pipeline, line);
  end = bench_now_ns ();
  if (ok && expect_buffers && seen->buffers != expect_buffers) {
    g_printerr ("\"%s\": %" G_GUINT64_FORMAT " buffers, not %"
        G_GUINT64_FORMAT "\n", line, seen->buffers, expect_buffers);
    ok = FALSE;
  }
  destroy (pipeline, seen);
  if (ready_ms)
    *ready_ms = (ready - start) / 1e6;
  return ok ? (end - playing) / 1e6 : -1;
}

/* ---- the cases --------------------------------------------------------- */

typedef enum
{
  CASE_DECODE,
  CASE_CHAIN,
  CASE_AUDIO,
  CASE_CRASH,
  CASE_CRASH_DECODER,
  CASE_CRASH_SPARE,
  CASE_CRASH_DECODER_SPARE,
  CASE_START,
  N_CASES
} CaseId;

typedef struct
{
  gdouble value[N_MODES][MAX_RUNS];     /* ms, or buffers/s for audio */
  gdouble ready_ms[MAX_RUNS];   /* isolated NULL -> READY (decode cases) */
  gdouble detect_ms[MAX_RUNS], restart_ms[MAX_RUNS], first_ms[MAX_RUNS];
  gdouble lost[MAX_RUNS];       /* frames of the input that never came out */
  gint n;
  gboolean skipped;
} Case;

static const gchar *const case_names[N_CASES] = {
  "avdec_h264, 1080p (ms, PLAYING to EOS)",
  "qtdemux ! h264parse ! avdec_h264 from the file (ms)",
  "audioconvert, 10 ms buffers (buffers/s)",
  "crash to flowing again: hostile alone (ms)",
  "crash to flowing again: avdec_h264 ! hostile (ms)",
  "the same, hostile alone, spare=true (ms)",
  "the same, avdec_h264 ! hostile, spare=true (ms)",
  "16 sandboxbins NULL to PLAYING (ms)",
};

static gdouble
run_decode (const BenchOptions * o, gint mode, gdouble * ready_ms)
{
  g_autofree gchar *line = g_strdup_printf ("filesrc location=\"%s\" ! "
      "qtdemux ! h264parse ! sandboxbin mode=%s description=avdec_h264 ! "
      "fakesink name=sink sync=false", o->clip, mode_names[mode]);
  Observed seen;

  return time_to_eos (line, &seen, o->frames, ready_ms, FALSE);
}

static gdouble
run_chain (const BenchOptions * o, gint mode, gdouble * ready_ms)
{
  g_autofree gchar *line = g_strdup_printf ("filesrc location=\"%s\" ! "
      "sandboxbin mode=%s description=\"qtdemux ! h264parse ! avdec_h264\" "
      "! fakesink name=sink sync=false", o->clip, mode_names[mode]);
  Observed seen;

  return time_to_eos (line, &seen, o->frames, ready_ms, FALSE);
}

/* buffers/s of @n 10 ms buffers through the bin. */
static gdouble
run_audio (gint mode, guint n)
{
  g_autofree gchar *line = g_strdup_printf ("audiotestsrc wave=silence "
      "samplesperbuffer=480 num-buffers=%u ! " AUDIO_CAPS " ! sandboxbin "
      "mode=%s description=audioconvert ! " AUDIO_OUT_CAPS " ! "
      "fakesink name=sink sync=false", n, mode_names[mode]);
  Observed seen;
  gdouble ms = time_to_eos (line, &seen, n, NULL, FALSE);

  return ms > 0 ? n / (ms / 1e3) : -1;
}

/* A worker crashes once mid-stream: the gap in the output, and where the
 * time went; with @spare, the spare takes over. */
static gboolean
run_crash (const BenchOptions * o, gboolean decoder, gboolean spare,
    Case * c, gint run)
{
  /* past two thirds: what the next worker is given again and what is left
   * of the clip are fewer frames, so it does not crash again */
  guint after = decoder ? o->frames * 2 / 3 + 4 : CRASH_AFTER_TEST_PATTERN;
  guint64 frames = decoder ? (guint64) o->frames : after * 3 / 2;
  const gchar *bin = spare ? "sandboxbin name=bin spare=true" :
      "sandboxbin name=bin";
  g_autofree gchar *line = decoder ?
      g_strdup_printf ("filesrc location=\"%s\" ! qtdemux ! h264parse ! "
      "%s description=\"avdec_h264 ! hostile misdeed=crash "
      "after-buffers=%u\" ! fakesink name=sink sync=false", o->clip, bin,
      after) :
      g_strdup_printf ("videotestsrc num-buffers=%u ! " SMALL_VIDEO " ! "
      "%s description=\"hostile misdeed=crash after-buffers=%u\" ! "
      "fakesink name=sink sync=false", (guint) frames, bin, after);
  Observed seen;
  gboolean ok = time_to_eos (line, &seen, 0, NULL, spare) > 0 &&
      seen.crashed == 1 && seen.started == 2 && seen.resumed > 0 &&
      seen.spare_started == (spare ? 1u : 0u);

  if (!ok) {
    g_printerr ("\"%s\": %u crash(es), %u worker(s) (%u spare), %s\n",
        line, seen.crashed, seen.started, seen.spare_started,
        seen.resumed ? "resumed" : "no resume");
    return FALSE;
  }
  c->value[ISOLATED][run] = (seen.resumed - seen.last_before_crash) / 1e6;
  c->detect_ms[run] = (seen.crash_reported - seen.last_before_crash) / 1e6;
  c->restart_ms[run] = (seen.restarted - seen.crash_reported) / 1e6;
  c->first_ms[run] = (seen.resumed - seen.restarted) / 1e6;
  c->lost[run] = seen.buffers < frames ? (gdouble) (frames - seen.buffers) : 0;
  return TRUE;
}

/* NULL until PLAYING has completed, for START_BINS bins. */
static gdouble
run_start (gint mode)
{
  GString *line = g_string_new (NULL);
  GstElement *pipeline;
  Observed seen;
  gint64 start;
  gdouble ms = -1;

  for (gint i = 0; i < START_BINS; i++)
    g_string_append_printf (line, "videotestsrc ! " SMALL_VIDEO " ! "
        "sandboxbin mode=%s description=videoconvert ! fakesink sync=false ",
        mode_names[mode]);
  pipeline = build (line->str, &seen);
  if (pipeline != NULL) {
    start = bench_now_ns ();
    if (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
        GST_STATE_CHANGE_FAILURE && gst_element_get_state (pipeline, NULL,
            NULL, RUN_TIMEOUT) == GST_STATE_CHANGE_SUCCESS)
      ms = (bench_now_ns () - start) / 1e6;
    else
      g_printerr ("%d sandboxbins mode=%s did not reach PLAYING\n",
          START_BINS, mode_names[mode]);
    destroy (pipeline, &seen);
  }
  g_string_free (line, TRUE);
  return ms;
}

/* ---- runs -------------------------------------------------------------- */

/* Buffers for about --seconds in @mode, from one short run. */
static guint
calibrate_audio (const BenchOptions * o, gint mode)
{
  gdouble rate = run_audio (mode, 2000);

  if (rate <= 0)
    return 0;
  return (guint) CLAMP (rate * o->seconds, 1000, 10000000);
}

static gboolean
run_case (const BenchOptions * o, CaseId id, Case * c, gint mode, gint run,
    const guint * audio_buffers)
{
  gdouble v = -1, ready = 0;

  switch (id) {
    case CASE_DECODE:
      v = run_decode (o, mode, &ready);
      break;
    case CASE_CHAIN:
      v = run_chain (o, mode, &ready);
      break;
    case CASE_AUDIO:
      v = run_audio (mode, audio_buffers[mode]);
      break;
    case CASE_CRASH:
    case CASE_CRASH_DECODER:
    case CASE_CRASH_SPARE:
    case CASE_CRASH_DECODER_SPARE:
      return mode == IN_PROCESS || run_crash (o, id == CASE_CRASH_DECODER ||
          id == CASE_CRASH_DECODER_SPARE, id >= CASE_CRASH_SPARE, c, run);
    case CASE_START:
      v = run_start (mode);
      break;
    default:
      break;
  }
  if (v < 0)
    return FALSE;
  c->value[mode][run] = v;
  if (mode == ISOLATED)
    c->ready_ms[run] = ready;
  return TRUE;
}

static gboolean
measure (const BenchOptions * o, Case * cases)
{
  guint audio_buffers[N_MODES];

  for (gint m = 0; m < N_MODES; m++) {
    audio_buffers[m] = calibrate_audio (o, m);
    if (audio_buffers[m] == 0)
      return FALSE;
  }
  /* run 0 is the warm-up: plugins loaded, caches filled */
  for (gint run = 0; run <= o->runs; run++) {
    for (gint id = 0; id < N_CASES; id++) {
      Case *c = &cases[id];

      if (c->skipped)
        continue;
      for (gint k = 0; k < N_MODES; k++) {
        gint mode = (run + k) % N_MODES;

        if (!run_case (o, id, c, mode, run == 0 ? 0 : run - 1, audio_buffers))
          return FALSE;
      }
      if (run > 0)
        c->n = run;
    }
    if (!o->markdown)
      g_printerr ("%s %d of %d done\n", run == 0 ? "warm-up" : "run", run,
          o->runs);
  }
  return TRUE;
}

/* ---- results ----------------------------------------------------------- */

static gdouble
median_of (const gdouble * values, gint n, gdouble * spread)
{
  g_autofree gdouble *sorted = g_memdup2 (values, n * sizeof (gdouble));
  gdouble median;

  qsort (sorted, n, sizeof (gdouble), bench_compare_doubles);
  median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  if (spread)
    *spread = median > 0 ? (sorted[n - 1] - sorted[0]) / median : 0;
  return median;
}

static gboolean
is_crash (gint id)
{
  return id >= CASE_CRASH && id <= CASE_CRASH_DECODER_SPARE;
}

/* Cost relative to in-process: > 1 is slower. */
static gdouble
cost_ratio (gint id, gdouble isolated, gdouble in_process)
{
  if (is_crash (id))
    return NAN;
  return id == CASE_AUDIO ? in_process / isolated : isolated / in_process;
}

static const gchar *
target_text (gint id)
{
  switch (id) {
    case CASE_DECODE:
      return "<= 1.05x";
    case CASE_AUDIO:
      return ">= 20 000/s";
    case CASE_CRASH:
    case CASE_CRASH_DECODER:
      return "<= 200 ms";
    case CASE_CRASH_SPARE:
    case CASE_CRASH_DECODER_SPARE:
      return "<= 30 ms";
    case CASE_START:
      return "<= 1000 ms";
    default:
      return "-";
  }
}

static const gchar *
verdict (gint id, gdouble isolated, gdouble ratio)
{
  gboolean met;

  switch (id) {
    case CASE_DECODE:
      met = ratio <= TARGET_DECODE_RATIO;
      break;
    case CASE_AUDIO:
      met = isolated >= TARGET_AUDIO_RATE;
      break;
    case CASE_CRASH:
    case CASE_CRASH_DECODER:
      met = isolated <= TARGET_CRASH_MS;
      break;
    case CASE_CRASH_SPARE:
    case CASE_CRASH_DECODER_SPARE:
      met = isolated <= TARGET_CRASH_SPARE_MS;
      break;
    case CASE_START:
      met = isolated <= TARGET_START_MS;
      break;
    default:
      return "";
  }
  return met ? "met" : "MISSED";
}

static gchar *
format_value (gint id, gdouble v)
{
  if (isnan (v))
    return g_strdup ("-");
  if (id == CASE_AUDIO)
    return bench_group_digits (v);
  return g_strdup_printf ("%.1f", v);
}

static void
print_row (const BenchOptions * o, gint id, const Case * c, gdouble * worst)
{
  gdouble spread_iso, spread_in = 0;
  gdouble iso = median_of (c->value[ISOLATED], c->n, &spread_iso);
  gdouble in = is_crash (id) ? NAN : median_of (c->value[IN_PROCESS], c->n,
      &spread_in);
  gdouble ratio = cost_ratio (id, iso, in);
  g_autofree gchar *iso_text = format_value (id, iso);
  g_autofree gchar *in_text = format_value (id, in);
  g_autofree gchar *ratio_text = isnan (ratio) ? g_strdup ("-") :
      g_strdup_printf ("%.2fx", ratio);

  gdouble spread = MAX (spread_iso, spread_in);

  *worst = MAX (*worst, spread);
  if (o->markdown)
    g_print ("| %s | %s | %s | %s | %.0f%% | %s | %s |\n", case_names[id],
        in_text, iso_text, ratio_text, spread * 100, target_text (id),
        verdict (id, iso, ratio));
  else
    g_print ("%-52s %11s %11s %7s %6.0f%% %12s %s\n", case_names[id],
        in_text, iso_text, ratio_text, spread * 100, target_text (id),
        verdict (id, iso, ratio));
}

static void
print_main_table (const BenchOptions * o, const Case * cases)
{
  gdouble worst = 0;

  if (o->markdown)
    g_print ("| Case | in-process | sandboxbin | x in-process | spread | "
        "target | |\n|---|---:|---:|---:|---:|---:|---|\n");
  else
    g_print ("\n%-52s %11s %11s %7s %7s %12s\n", "case", "in-process",
        "sandboxbin", "x in-p", "spread", "target");
  for (gint id = 0; id < N_CASES; id++) {
    if (!cases[id].skipped)
      print_row (o, id, &cases[id], &worst);
  }
  g_print ("\nMedians of %d interleaved runs after one warm-up; x in-process: "
      "cost relative to mode=in-process (time per frame or buffer, or for "
      "the whole); spread: (max - min) / median, the larger of the two "
      "modes' (largest: %.0f%%).\n", cases[CASE_DECODE].n, worst * 100);
}

static gdouble
most_of (const gdouble * values, gint n)
{
  gdouble most = 0;

  for (gint i = 0; i < n; i++)
    most = MAX (most, values[i]);
  return most;
}

static void
print_details (const BenchOptions * o, const Case * cases)
{
  if (o->markdown)
    g_print ("\n| Case | NULL to READY ms | crash reported ms | new worker "
        "ms | first buffer ms | frames lost (most) |\n"
        "|---|---:|---:|---:|---:|---:|\n");
  else
    g_print ("\n%-52s %9s %9s %9s %9s %9s\n", "isolated, medians",
        "to READY", "reported", "new wkr", "1st buf", "lost");
  for (gint id = 0; id < N_CASES; id++) {
    const Case *c = &cases[id];
    gboolean decode = id == CASE_DECODE || id == CASE_CHAIN;
    g_autofree gchar *ready = decode ? g_strdup_printf ("%.1f",
        median_of (c->ready_ms, c->n, NULL)) : g_strdup ("-");
    g_autofree gchar *detect = NULL, *restart = NULL, *first = NULL;
    g_autofree gchar *lost = NULL;

    if (c->skipped || !(decode || is_crash (id)))
      continue;
    detect = is_crash (id) ? g_strdup_printf ("%.1f", median_of (c->detect_ms,
            c->n, NULL)) : g_strdup ("-");
    restart = is_crash (id) ? g_strdup_printf ("%.1f",
        median_of (c->restart_ms, c->n, NULL)) : g_strdup ("-");
    first = is_crash (id) ? g_strdup_printf ("%.1f", median_of (c->first_ms,
            c->n, NULL)) : g_strdup ("-");
    lost = is_crash (id) ? g_strdup_printf ("%.0f (%.0f)",
        median_of (c->lost, c->n, NULL), most_of (c->lost, c->n)) :
        g_strdup ("-");
    if (o->markdown)
      g_print ("| %s | %s | %s | %s | %s | %s |\n", case_names[id], ready,
          detect, restart, first, lost);
    else
      g_print ("%-52s %9s %9s %9s %9s %9s\n", case_names[id], ready, detect,
          restart, first, lost);
  }
}

/* ---- set-up ------------------------------------------------------------ */

static gboolean
make_clip (const BenchOptions * o)
{
  g_autofree gchar *line = g_strdup_printf ("videotestsrc num-buffers=%d "
      "pattern=smpte horizontal-speed=4 ! " CLIP_CAPS " ! x264enc "
      "speed-preset=veryfast key-int-max=30 ! mp4mux faststart=true ! filesink "
      "location=\"%s\"", o->frames, o->clip);
  Observed seen;

  if (!o->markdown)
    g_printerr ("encoding %d frames of 1080p H.264...\n", o->frames);
  return time_to_eos (line, &seen, 0, NULL, FALSE) > 0;
}

static gboolean
have_element (const gchar * name)
{
  GstElementFactory *factory = gst_element_factory_find (name);

  if (factory)
    gst_object_unref (factory);
  return factory != NULL;
}

static gboolean
parse_options (int *argc, char ***argv, BenchOptions * options)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    {"runs", 'r', 0, G_OPTION_ARG_INT, &options->runs,
        "Runs per case (default 5)", "N"},
    {"frames", 'f', 0, G_OPTION_ARG_INT, &options->frames,
        "Frames in the 1080p clip (default 150)", "N"},
    {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &options->seconds,
        "Length of one audio run (default 1)", "S"},
    {"markdown", 'm', 0, G_OPTION_ARG_NONE, &options->markdown,
        "Print markdown tables", NULL},
    {"test-plugins", 0, 0, G_OPTION_ARG_FILENAME, &options->test_plugins,
        "Where the test element hostile is (default: this build's)", "DIR"},
    {NULL}
  };

  context = g_option_context_new ("- sandboxbin against mode=in-process\n\n"
      "  meson devenv -C <builddir> ./bench/parallax-bench-sandboxbin "
      "--markdown");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, argc, argv, &error)) {
    g_printerr ("%s\n", error->message);
    return FALSE;
  }
  if (options->runs < 1 || options->runs > MAX_RUNS || options->frames < 20
      || options->frames > 10000 || !(options->seconds > 0 &&
          options->seconds <= 60)) {
    g_printerr ("--runs must be 1..%d, --frames 20..10000 and --seconds in "
        "(0, 60]\n", MAX_RUNS);
    return FALSE;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  BenchOptions options = {.runs = 5,.frames = 150,.seconds = 1 };
  static Case cases[N_CASES];
  g_autofree gchar *dir = NULL;
  gboolean ok;

  options.test_plugins = g_strdup (PX_TEST_PLUGIN_DIR);
  if (!parse_options (&argc, &argv, &options))
    return 2;
  if (!have_element ("sandboxbin") || !have_element ("avdec_h264") ||
      !have_element ("x264enc")) {
    g_printerr ("sandboxbin, avdec_h264 or x264enc is missing: run this "
        "under `meson devenv -C <builddir>` with gstreamer1.0-libav and "
        "-plugins-ugly installed.\n");
    return 2;
  }
  if (!have_element ("hostile"))
    gst_registry_scan_path (gst_registry_get (), options.test_plugins);
  if (!have_element ("hostile")) {
    g_printerr ("no test element hostile in %s: the crash cases are "
        "skipped\n", options.test_plugins);
    cases[CASE_CRASH].skipped = cases[CASE_CRASH_DECODER].skipped = TRUE;
    cases[CASE_CRASH_SPARE].skipped = TRUE;
    cases[CASE_CRASH_DECODER_SPARE].skipped = TRUE;
  }
  dir = g_dir_make_tmp ("parallax-bench-sandboxbin-XXXXXX", NULL);
  options.clip = g_build_filename (dir, "clip.mp4", NULL);
  ok = make_clip (&options) && measure (&options, cases);
  g_remove (options.clip);
  g_rmdir (dir);
  if (!ok)
    return 1;
  print_main_table (&options, cases);
  print_details (&options, cases);
  g_free (options.clip);
  g_free (options.test_plugins);
  return 0;
}
