/* Parallax — what ORC costs in a sandboxed worker, before and after its
 * programs were compiled by parallax-orc-compiler.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   meson devenv -C <builddir> ./bench/parallax-bench-orc --markdown
 *
 * For each element (videoconvert 1080p I420 -> BGRx, videoscale 1080p ->
 * 720p I420, audioconvert F32 -> S16 stereo 48 kHz in 10 ms buffers), four
 * paths, each run in a fresh process (this program again, with a hidden
 * --child option), interleaved (run 1 of every case, then run 2, ...):
 *   - in-process, ORC's JIT (ORC_CODE unset): the anchor;
 *   - in-process, ORC_CODE=backup (ORC's C backup code);
 *   - isolated before: the element in a parallax-worker with
 *     PARALLAX_ORC=backup, what every worker ran before the compiler;
 *   - isolated after: the same worker as it is now, its programs compiled
 *     by parallax-orc-compiler.
 * The source repeats one buffer (imagefreeze for video, silence for audio)
 * into the element, whose output fakesink drops; items are counted for
 * --seconds after a warm-up. Through a worker, the host feeds it with
 * ipcsink (which copies each input into its arena) and drains it with
 * ipcsrc (no copy).
 *
 * Then the compiler alone, started by this process as a worker starts it:
 * how long until its code region arrives, and one program's round trip
 * (200 programs that differ by a constant) against compiling them
 * in-process.
 *
 * Also per run: spawn to ready (gst_px_worker_new () + start) and the first
 * buffer (from the producer set to PLAYING until the first output buffer
 * reaches the host; in-process, from PLAYING): what the compiler adds to
 * either.
 */
#include <gst/gst.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define ORC_ENABLE_UNSTABLE_API
#include <orc/orc.h>
#include <orc/orcbytecode.h>
#include <orc/orcprogram.h>

#include "bench-counter.h"
#include "bench-util.h"
#include "gstpxworker.h"
#include "px-orc-protocol.h"
#include "px-sandbox.h"

#define MAX_RUNS 101
#define WARM_UP_ITEMS 10
#define TIMEOUT_SECONDS 60
#define START_TIMEOUT (20 * GST_SECOND)
#define SINK "fakesink name=sink sync=false signal-handoffs=true"

#define VIDEO_1080P "videotestsrc num-buffers=1 pattern=smpte ! " \
  "video/x-raw,format=I420,width=1920,height=1080,framerate=30/1 ! " \
  "imagefreeze"

typedef struct
{
  const gchar *name;
  const gchar *unit;
  const gchar *source;
  const gchar *element;
} Element;

static const Element elements[] = {
  {"videoconvert 1080p I420 -> BGRx", "frames", VIDEO_1080P,
      "videoconvert ! video/x-raw,format=BGRx"},
  {"videoscale 1080p -> 720p I420", "frames", VIDEO_1080P,
      "videoscale ! video/x-raw,width=1280,height=720"},
  {"audioconvert F32 -> S16, 10 ms", "buffers",
        "audiotestsrc wave=silence samplesperbuffer=480 ! "
        "audio/x-raw,format=F32LE,rate=48000,channels=2",
      "audioconvert ! audio/x-raw,format=S16LE"},
};

#define N_ELEMENTS G_N_ELEMENTS (elements)

typedef enum
{
  PATH_JIT,
  PATH_BACKUP,
  PATH_BEFORE,
  PATH_AFTER,
  N_PATHS
} Path;

static const gchar *path_names[N_PATHS] = {
  "in-process, ORC JIT (anchor)",
  "in-process, ORC_CODE=backup",
  "isolated before (C backup code)",
  "isolated after (compiled by parallax-orc-compiler)",
};

static const gchar *path_modes[N_PATHS] = {
  "jit", "backup", "before", "after"
};

typedef struct
{
  gint runs;
  gdouble seconds;
  gboolean markdown;
  gchar *child;                 /* hidden: MODE:ELEMENT-INDEX */
} Options;

/* ---- counting (child) -------------------------------------------------- */

static gboolean
child_in_process (const Element * element, BenchCounter * counter)
{
  g_autofree gchar *line = g_strdup_printf ("%s ! %s ! " SINK,
      element->source, element->element);
  GstElement *pipeline = bench_counted_pipeline (line, counter);
  gboolean ok = pipeline != NULL && bench_counter_play (pipeline, counter) &&
      bench_counter_wait (counter, TIMEOUT_SECONDS);

  bench_stop_pipeline (pipeline);
  return ok;
}

static void
worker_exited (GstPxWorker * worker, const gchar * reason, gpointer user_data)
{
  g_autofree gchar *failure = g_strdup_printf ("the worker %s", reason);

  bench_counter_fail (user_data, failure);
}

static void
worker_message (GstPxWorker * worker, GstMessage * message, gpointer user_data)
{
  bench_counter_message (user_data, message);
  gst_message_unref (message);
}

static const GstPxWorkerCallbacks worker_callbacks = {
  worker_message, worker_exited
};

static gboolean
run_through_worker (GstPxWorker * worker, const Element * element,
    BenchCounter * counter)
{
  g_autofree gchar *producer_line = g_strdup_printf ("%s ! ipcsink fd=%d",
      element->source, gst_px_worker_get_input_fd (worker));
  /* The worker makes no shared memory: its output arenas are ours to make,
   * within its budget. */
  g_autofree gchar *consumer_line = g_strdup_printf ("ipcsrc is-live=false "
      "fd=%d arena-budget=%" G_GUINT64_FORMAT " ! " SINK,
      gst_px_worker_get_output_fd (worker),
      gst_px_worker_get_arena_budget (worker));
  GstElement *producer = bench_counted_pipeline (producer_line, counter);
  GstElement *consumer = bench_counted_pipeline (consumer_line, counter);
  gboolean ok = producer != NULL && consumer != NULL &&
      gst_element_set_state (consumer, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE && bench_counter_play (producer, counter) &&
      bench_counter_wait (counter, TIMEOUT_SECONDS);

  /* The producer first: with the worker gone first, ipcsink fails under
   * imagefreeze. */
  bench_stop_pipeline (producer);
  gst_px_worker_stop (worker, GST_SECOND);
  bench_stop_pipeline (consumer);
  return ok;
}

/* Returns the spawn-to-ready time in *@spawn_ns. */
static gboolean
child_worker (const Element * element, gboolean compiler,
    BenchCounter * counter, gint64 * spawn_ns)
{
  static const char *const before_env[] = { "PARALLAX_ORC=backup", NULL };
  g_autoptr (GError) error = NULL;
  PxSandboxConfig config;
  GstPxWorker *worker;
  gint64 start;
  gboolean ok;

  px_sandbox_config_init (&config);
  config.env = compiler ? NULL : before_env;
  start = bench_now_ns ();
  worker = gst_px_worker_new (element->element, &config, NULL,
      &worker_callbacks, counter);
  ok = gst_px_worker_start (worker, START_TIMEOUT, &error);
  *spawn_ns = bench_now_ns () - start;
  if (!ok) {
    g_printerr ("worker: %s\n", error ? error->message : "?");
    gst_px_worker_free (worker);
    return FALSE;
  }
  ok = gst_px_worker_change_state (worker, GST_STATE_CHANGE_READY_TO_PAUSED,
      START_TIMEOUT) != GST_STATE_CHANGE_FAILURE &&
      gst_px_worker_change_state (worker, GST_STATE_CHANGE_PAUSED_TO_PLAYING,
      START_TIMEOUT) != GST_STATE_CHANGE_FAILURE &&
      run_through_worker (worker, element, counter);
  gst_px_worker_free (worker);
  return ok;
}

/* Child: prints "rate=R spawn_ms=S first_ms=F". */
static gboolean
child_main (const gchar * spec, const Options * options)
{
  g_auto (GStrv) parts = g_strsplit (spec, ":", 2);
  BenchCounter counter;
  gint64 spawn_ns = 0;
  guint index;
  gboolean ok;

  if (g_strv_length (parts) != 2 ||
      (index = (guint) atoi (parts[1])) >= N_ELEMENTS)
    return FALSE;
  bench_counter_init (&counter, WARM_UP_ITEMS, options->seconds);
  if (g_str_equal (parts[0], "before") || g_str_equal (parts[0], "after"))
    ok = child_worker (&elements[index], g_str_equal (parts[0], "after"),
        &counter, &spawn_ns);
  else
    ok = child_in_process (&elements[index], &counter);
  if (ok)
    g_print ("rate=%.3f spawn_ms=%.3f first_ms=%.3f\n", counter.rate,
        spawn_ns / 1e6, (counter.first - counter.playing) / 1e6);
  bench_counter_clear (&counter);
  return ok;
}

/* ---- the compiler alone ------------------------------------------------ */

#define COMPILES 200

/* A program like GStreamer's: widen, multiply by a parameter, add a
 * constant (@constant: each one is another program to the compiler,
 * which answers a program it compiled before from its cache). */
static OrcProgram *
sample_program (gint constant)
{
  OrcProgram *p = orc_program_new_ds (2, 1);

  orc_program_add_constant (p, 2, constant, "c1");
  orc_program_add_parameter (p, 2, "p1");
  orc_program_add_temporary (p, 2, "t1");
  orc_program_append_2 (p, "convubw", 0, ORC_VAR_T1, ORC_VAR_S1, 0, 0);
  orc_program_append_2 (p, "mullw", 0, ORC_VAR_T1, ORC_VAR_T1, ORC_VAR_P1, 0);
  orc_program_append_2 (p, "addw", 0, ORC_VAR_D1, ORC_VAR_T1, ORC_VAR_C1, 0);
  orc_program_set_name (p, "bench_program");
  return p;
}

static gboolean
measure_compiler (gdouble * ready_ms, gdouble * remote_us, gdouble * local_us)
{
  const gchar *path = g_getenv ("PARALLAX_ORC_COMPILER");
  g_autofree gchar *sibling = NULL;
  OrcProgram *programs[COMPILES];
  OrcBytecode *bytecodes[COMPILES];
  OrcTarget *target;
  PxOrcReply reply;
  int pair[2], region_fd = -1, ret = 0;
  gint64 start;
  pid_t pid;

  if (path == NULL) {
    g_autofree gchar *dir = g_path_get_dirname (gst_px_worker_path ());

    path = sibling = g_build_filename (dir, "parallax-orc-compiler", NULL);
  }
  orc_init ();
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    return FALSE;
  start = bench_now_ns ();
  pid = px_orc_compiler_spawn (path, pair[1]);
  close (pair[1]);
  if (pid < 0 || px_orc_receive_hello (pair[0], PX_ORC_TIMEOUT_MS,
          &region_fd) < 0) {
    g_printerr ("%s did not start\n", path);
    close (pair[0]);
    if (pid > 0)
      waitpid (pid, NULL, 0);
    return FALSE;
  }
  *ready_ms = (bench_now_ns () - start) / 1e6;

  for (gint i = 0; i < COMPILES; i++) {
    programs[i] = sample_program (i);
    bytecodes[i] = orc_bytecode_from_program (programs[i]);
  }
  target = orc_target_get_default ();
  start = bench_now_ns ();
  for (gint i = 0; i < COMPILES && ret == 0; i++) {
    ret = px_orc_request (pair[0], orc_target_get_name (target),
        orc_target_get_default_flags (target), bytecodes[i]->bytecode,
        bytecodes[i]->length, PX_ORC_TIMEOUT_MS, &reply);
    if (ret == 0 && reply.status != PX_ORC_OK)
      ret = -EINVAL;
  }
  *remote_us = (bench_now_ns () - start) / 1e3 / COMPILES;
  start = bench_now_ns ();
  for (gint i = 0; i < COMPILES; i++)
    orc_program_compile (programs[i]);
  *local_us = (bench_now_ns () - start) / 1e3 / COMPILES;

  for (gint i = 0; i < COMPILES; i++) {
    orc_bytecode_free (bytecodes[i]);
    orc_program_free (programs[i]);
  }
  close (region_fd);
  close (pair[0]);
  waitpid (pid, NULL, 0);
  if (ret < 0)
    g_printerr ("the compiler refused the program: %s\n", g_strerror (-ret));
  return ret == 0;
}

static void
print_compiler (const Options * options)
{
  gdouble ready, remote, local;

  if (!measure_compiler (&ready, &remote, &local))
    return;
  if (options->markdown)
    g_print ("\n| parallax-orc-compiler | time |\n|---|---:|\n"
        "| start until its code region arrives | %.2f ms |\n"
        "| one program compiled by it (round trip) | %.1f us |\n"
        "| the same program compiled in-process | %.1f us |\n",
        ready, remote, local);
  else
    g_print ("\ncompiler ready after %.2f ms; a program's round trip "
        "%.1f us, in-process %.1f us\n", ready, remote, local);
}

/* ---- the parent -------------------------------------------------------- */

typedef struct
{
  gdouble rate[MAX_RUNS], spawn[MAX_RUNS], first[MAX_RUNS];
  gint n;
} Case;

static gboolean
run_child (Path path, guint element, const Options * options, Case * out)
{
  g_autofree gchar *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree gchar *child = g_strdup_printf ("--child=%s:%u",
      path_modes[path], element);
  g_autofree gchar *seconds = g_strdup_printf ("--seconds=%g",
      options->seconds);
  gchar *argv[] = { self, child, seconds, NULL };
  g_auto (GStrv) env = g_get_environ ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = NULL;
  gdouble rate, spawn, first;
  gint status;

  /* In-process ORC reads ORC_CODE once; the worker's comes from
   * GstPxWorker. */
  env = path == PATH_BACKUP ? g_environ_setenv (env, "ORC_CODE", "backup",
      TRUE) : g_environ_unsetenv (env, "ORC_CODE");
  if (self == NULL || !g_spawn_sync (NULL, argv, env, G_SPAWN_DEFAULT, NULL,
          NULL, &text, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error) || text == NULL ||
      sscanf (text, "rate=%lf spawn_ms=%lf first_ms=%lf", &rate, &spawn,
          &first) != 3) {
    g_printerr ("child %s: %s\n", child, error ? error->message : "no result");
    return FALSE;
  }
  out->rate[out->n] = rate;
  out->spawn[out->n] = spawn;
  out->first[out->n] = first;
  out->n++;
  return TRUE;
}

static gdouble
median (const gdouble * values, gint n, gdouble * spread)
{
  gdouble sorted[MAX_RUNS];
  gdouble m;

  memcpy (sorted, values, n * sizeof (gdouble));
  qsort (sorted, n, sizeof (gdouble), bench_compare_doubles);
  m = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  if (spread)
    *spread = m > 0 ? (sorted[n - 1] - sorted[0]) / m : 0;
  return m;
}

static void
print_results (Case cases[N_ELEMENTS][N_PATHS], const Options * options)
{
  gdouble worst_spread = 0;

  if (options->markdown)
    g_print ("| Element | Path | items/s | ms/item | x JIT | x isolated "
        "before | spawn ms | first buffer ms |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|\n");
  for (guint e = 0; e < N_ELEMENTS; e++) {
    gdouble jit = median (cases[e][PATH_JIT].rate, options->runs, NULL);
    gdouble before = median (cases[e][PATH_BEFORE].rate, options->runs,
        NULL);

    for (guint p = 0; p < N_PATHS; p++) {
      Case *c = &cases[e][p];
      gdouble spread;
      gdouble rate = median (c->rate, c->n, &spread);
      gdouble first = median (c->first, c->n, NULL);
      gboolean isolated = p == PATH_BEFORE || p == PATH_AFTER;
      g_autofree gchar *spawn = isolated ?
          g_strdup_printf ("%.1f", median (c->spawn, c->n, NULL)) :
          g_strdup ("-");
      g_autofree gchar *rate_text = bench_group_digits (rate);

      worst_spread = MAX (worst_spread, spread);
      g_print (options->markdown ?
          "| %s | %s | %s | %.3f | %.2fx | %.2fx | %s | %.1f |\n" :
          "%-32s %-52s %10s %8.3f %6.2fx %6.2fx %6s %8.1f\n",
          elements[e].name, path_names[p], rate_text, 1e3 / rate,
          jit / rate, before / rate, spawn, first);
    }
  }
  g_print ("\nMedian of %d interleaved runs of ~%.1f s per path, each a "
      "fresh process; x JIT and x isolated before are cost ratios (time "
      "per item); largest spread ((max - min) / median): %.0f%%.\n",
      options->runs, options->seconds, worst_spread * 100);
}

static gboolean
parse_options (int *argc, char ***argv, Options * options)
{
  GOptionEntry entries[] = {
    {"runs", 0, 0, G_OPTION_ARG_INT, &options->runs,
        "Runs per case (default 5)", "N"},
    {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &options->seconds,
        "Length of one run (default 2)", "S"},
    {"markdown", 0, 0, G_OPTION_ARG_NONE, &options->markdown,
        "Print a Markdown table", NULL},
    {"child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &options->child,
        NULL, NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- ORC in a worker, before and after its "
      "compiler");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, argc, argv, &error)) {
    g_printerr ("%s\n", error->message);
    return FALSE;
  }
  if (options->runs < 1 || options->runs > MAX_RUNS || options->seconds <= 0) {
    g_printerr ("--runs must be 1-%d, --seconds positive\n", MAX_RUNS);
    return FALSE;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  Options options = {.runs = 5,.seconds = 2 };
  static Case cases[N_ELEMENTS][N_PATHS];

  if (!parse_options (&argc, &argv, &options))
    return 2;
  if (options.child != NULL)
    return child_main (options.child, &options) ? 0 : 1;
  if (g_getenv ("PARALLAX_WORKER") == NULL)
    g_printerr ("PARALLAX_WORKER is not set: run under meson devenv to use "
        "this build's worker\n");
  for (gint run = 0; run < options.runs; run++) {
    for (guint e = 0; e < N_ELEMENTS; e++) {
      for (guint p = 0; p < N_PATHS; p++) {
        if (!run_child (p, e, &options, &cases[e][p]))
          return 1;
      }
    }
  }
  print_results (cases, &options);
  print_compiler (&options);
  return 0;
}
