/* Parallax — benchmark: what a sandboxed parallax-worker costs to start and
 * to keep, and what ORC's C fallback costs videoconvert, each against its
 * anchor measured in the same run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run it under `meson devenv -C <builddir>`, which sets PARALLAX_WORKER to
 * the build's worker and puts the build's plugin on GST_PLUGIN_PATH:
 *
 *   meson devenv -C <builddir> ./bench/parallax-bench-worker --markdown
 *
 * Three measurements:
 *
 * 1. Spawn to ready. gst_px_worker_new () + gst_px_worker_start () until the
 *    worker reports itself locked down (every layer its configuration
 *    wants, seccomp last) and ready, for "identity" and "videoconvert" with
 *    the default configuration (no limits), and for "videoconvert" with
 *    memory, CPU and pids limits (cgroups where the caller may create
 *    them); then gst_px_worker_free (), timed apart. The anchor is the
 *    whole life of "gst-launch-1.0 fakesrc num-buffers=1 ! fakesink":
 *    fork, exec, wait. The runs are interleaved (run 1 of every case,
 *    then run 2, ...) after one warm-up run that is not counted; medians
 *    and 90th percentiles over --runs runs.
 *
 * 2. Memory, from /proc/PID/status (VmRSS) and /proc/PID/smaps_rollup (Pss,
 *    and Private_Clean + Private_Dirty, the pages no other process shares:
 *    what the system gets back when the process ends), median of a few
 *    fresh processes each:
 *      - a ready worker (READY, locked down, no data yet), "identity" and
 *        "videoconvert";
 *      - the same worker after converting 1080p frames (sampled by the ORC
 *        measurement below, so only when it runs);
 *      - a whole GStreamer process doing the same job in-process:
 *        gst-launch-1.0 videotestsrc is-live=true ! videoconvert ! fakesink,
 *        sampled once it has run for a second;
 *      - what running videoconvert in-process adds to a GStreamer process
 *        that is already running (a child of this program: fakesrc !
 *        fakesink in READY, then fakesrc ! videoconvert ! fakesink in READY;
 *        the difference).
 *
 * 3. ORC: videoconvert I420 -> BGRx at 1920x1080, one thread, frames per
 *    second. One frame from videotestsrc is repeated by imagefreeze (no new
 *    pixels are drawn), videoconvert converts every repetition into a new
 *    buffer, fakesink drops it. Each run is a fresh child process (this
 *    program again, with a hidden --child option) with ORC_CODE set before
 *    gst_init:
 *      - in-process, ORC's JIT (ORC_CODE unset, GStreamer's default) — the
 *        anchor;
 *      - in-process, ORC_CODE=backup (ORC's C fallback);
 *      - through a worker: the host feeds "videoconvert !
 *        video/x-raw,format=BGRx" in a worker with ipcsink and drains it
 *        with ipcsrc; the worker runs ORC's C fallback (PARALLAX_ORC=backup:
 *        no parallax-orc-compiler, as every worker before it; bench/orc.c
 *        measures the worker with it). The frame is not in an
 *        arena, so ipcsink copies each repetition into one (3 MB); the
 *        converted frames come back in the worker's arena without a copy.
 *    Each child counts the frames fakesink receives for --seconds after a
 *    warm-up; the runs of the three paths are interleaved, medians over
 *    --orc-runs.
 */

#include "bench-counter.h"
#include "bench-util.h"
#include <gst/gst.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gstpxworker.h"
#include "px-sandbox.h"

#define MAX_RUNS 1001
#define MAX_ORC_RUNS 101
#define MEMORY_SAMPLES 5
/* How long a worker may take to be ready before it counts as hung. */
#define START_TIMEOUT (20 * GST_SECOND)
/* The in-process gst-launch-1.0 runs this long before it is sampled. */
#define MEMORY_SETTLE_USEC (G_USEC_PER_SEC)
/* ORC children: frames converted before the measurement window opens, and
 * how long a child may take beyond --seconds. */
#define ORC_WARM_UP_FRAMES 10
#define ORC_TIMEOUT_SECONDS 60
/* The project's target: spawn to ready costs at most this many times the
 * anchor. */
#define TARGET_RATIO 1.5
/* The limits of the "with limits" case. */
#define LIMIT_MEMORY_BYTES (512u << 20)
#define LIMIT_CPU_PERCENT 100
#define LIMIT_PIDS 64

#define ANCHOR_LINE "fakesrc num-buffers=1 ! fakesink"
#define IN_PROCESS_LINE "videotestsrc is-live=true ! videoconvert ! fakesink"

#define ORC_CAPS "video/x-raw,format=I420,width=1920,height=1080," \
  "framerate=30/1"
#define ORC_SOURCE "videotestsrc num-buffers=1 pattern=smpte ! " ORC_CAPS \
  " ! imagefreeze"
#define ORC_CONVERT "videoconvert ! video/x-raw,format=BGRx"
#define ORC_SINK "fakesink name=sink sync=false signal-handoffs=true"

/* ---- options ----------------------------------------------------------- */

typedef struct
{
  gint runs;
  gint orc_runs;
  gdouble seconds;
  gboolean markdown;
  gboolean skip_orc;
  gchar *child;                 /* hidden: what a child process does */
} BenchOptions;



/* Median and nearest-rank 90th percentile of @n values (sorts a copy). */
static void
summarize (const gdouble * values, gint n, gdouble * median, gdouble * p90,
    gdouble * spread)
{
  g_autofree gdouble *sorted = g_memdup2 (values, n * sizeof (gdouble));

  qsort (sorted, n, sizeof (gdouble), bench_compare_doubles);
  *median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  if (p90)
    *p90 = sorted[MAX (0, (9 * n + 9) / 10 - 1)];       /* nearest rank */
  if (spread)
    *spread = *median > 0 ? (sorted[n - 1] - sorted[0]) / *median : 0;
}

/* ---- processes --------------------------------------------------------- */

/* fork + exec of @argv with stdout and stderr on /dev/null. */
static pid_t
start_process (const gchar * const *argv)
{
  int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t pid;

  if (null_fd < 0)
    return -1;
  pid = fork ();
  if (pid == 0) {
    dup2 (null_fd, STDOUT_FILENO);
    dup2 (null_fd, STDERR_FILENO);
    execv (argv[0], (char **) argv);
    _exit (127);
  }
  close (null_fd);
  return pid;
}

static gboolean
wait_process (pid_t pid)
{
  int status;

  while (waitpid (pid, &status, 0) < 0) {
    if (errno != EINTR)
      return FALSE;
  }
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

/* The anchor: a whole gst-launch-1.0 process, from fork to reaped. */
static gdouble
time_anchor (const gchar * const *argv)
{
  gint64 start = bench_now_ns ();
  pid_t pid = start_process (argv);

  if (pid < 0 || !wait_process (pid))
    return -1;
  return (bench_now_ns () - start) / 1e6;
}

/* argv of "gst-launch-1.0 -q LINE", split on spaces. */
static gchar **
gst_launch_argv (const gchar * launch, const gchar * line)
{
  g_autofree gchar *full = g_strdup_printf ("%s -q %s", launch, line);

  return g_strsplit (full, " ", -1);
}

/* ---- memory ------------------------------------------------------------ */

typedef struct
{
  gdouble rss_kib;
  gdouble pss_kib;              /* NAN: smaps_rollup not readable */
  gdouble private_kib;
} MemorySample;

static gdouble
field_kib (const gchar * text, const gchar * name)
{
  const gchar *line = strstr (text, name);

  return line ? g_ascii_strtod (line + strlen (name), NULL) : -1;
}

static gboolean
read_memory (pid_t pid, MemorySample * sample)
{
  g_autofree gchar *status_path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree gchar *rollup_path =
      g_strdup_printf ("/proc/%d/smaps_rollup", pid);
  g_autofree gchar *status = NULL, *rollup = NULL;

  if (!g_file_get_contents (status_path, &status, NULL, NULL))
    return FALSE;
  sample->rss_kib = field_kib (status, "\nVmRSS:");
  sample->pss_kib = sample->private_kib = NAN;
  if (g_file_get_contents (rollup_path, &rollup, NULL, NULL)) {
    sample->pss_kib = field_kib (rollup, "\nPss:");
    sample->private_kib = field_kib (rollup, "\nPrivate_Clean:") +
        field_kib (rollup, "\nPrivate_Dirty:");
  }
  return sample->rss_kib >= 0;
}

static gchar *
format_memory (const MemorySample * sample)
{
  return g_strdup_printf ("rss=%.0f pss=%.0f private=%.0f", sample->rss_kib,
      sample->pss_kib, sample->private_kib);
}

static gboolean
parse_memory (const gchar * text, MemorySample * sample)
{
  const gchar *rss = strstr (text, "rss="), *pss = strstr (text, "pss="),
      *private = strstr (text, "private=");

  if (rss == NULL || pss == NULL || private == NULL)
    return FALSE;
  sample->rss_kib = g_ascii_strtod (rss + 4, NULL);
  sample->pss_kib = g_ascii_strtod (pss + 4, NULL);
  sample->private_kib = g_ascii_strtod (private + 8, NULL);
  return TRUE;
}

/* ---- workers ----------------------------------------------------------- */

/* The defaults: every namespace, the four lockdown layers,
 * minimal-compute, no limits (GstPxWorker adds ORC_CODE=backup to the
 * environment); with @limits, memory, CPU and pids limits as well. */
static void
worker_config (PxSandboxConfig * config, gboolean limits)
{
  px_sandbox_config_init (config);
  if (limits) {
    config->memory_bytes = LIMIT_MEMORY_BYTES;
    config->cpu_percent = LIMIT_CPU_PERCENT;
    config->pids = LIMIT_PIDS;
  }
}

/* Checks that the worker is what the figure claims: every layer the
 * configuration wants, nothing missing. */
static gboolean
worker_is_locked_down (GstPxWorker * worker, const PxSandboxConfig * config)
{
  guint wanted = px_sandbox_config_wanted_layers (config);

  return (gst_px_worker_get_layer_mask (worker) & wanted) == wanted &&
      gst_px_worker_get_warning (worker) == NULL;
}

static GstPxWorker *
start_worker (const gchar * description, const PxSandboxConfig * config,
    const GstPxWorkerCallbacks * callbacks, gpointer user_data)
{
  GstPxWorker *worker = gst_px_worker_new (description, config, NULL,
      callbacks, user_data);
  g_autoptr (GError) error = NULL;

  if (!gst_px_worker_start (worker, START_TIMEOUT, &error) ||
      !worker_is_locked_down (worker, config)) {
    g_printerr ("worker for \"%s\": %s\n", description,
        error ? error->message : "not locked down");
    gst_px_worker_free (worker);
    return NULL;
  }
  return worker;
}

/* Spawn to ready in ms; *@free_ms gets gst_px_worker_free ()'s time and
 * *@mechanism the limit mechanism that applied. */
static gdouble
time_worker (const gchar * description, gboolean limits, gdouble * free_ms,
    const gchar ** mechanism)
{
  PxSandboxConfig config;
  GstPxWorker *worker;
  gint64 start, ready;

  worker_config (&config, limits);
  start = bench_now_ns ();
  worker = start_worker (description, &config, NULL, NULL);
  ready = bench_now_ns ();
  if (worker == NULL)
    return -1;
  *mechanism = gst_px_worker_get_limits (worker);
  gst_px_worker_free (worker);
  *free_ms = (bench_now_ns () - ready) / 1e6;
  return (ready - start) / 1e6;
}

static gboolean
sample_worker (const gchar * description, MemorySample * sample)
{
  PxSandboxConfig config;
  GstPxWorker *worker;
  gboolean ok;

  worker_config (&config, FALSE);
  worker = start_worker (description, &config, NULL, NULL);
  if (worker == NULL)
    return FALSE;
  ok = read_memory (gst_px_worker_get_pid (worker), sample);
  gst_px_worker_free (worker);
  return ok;
}

/* ---- spawn measurement ------------------------------------------------- */

typedef enum
{
  SPAWN_ANCHOR,
  SPAWN_IDENTITY,
  SPAWN_VIDEOCONVERT,
  SPAWN_VIDEOCONVERT_LIMITS,
  N_SPAWN_CASES
} SpawnCaseId;

typedef struct
{
  const gchar *name;
  const gchar *description;     /* NULL: the anchor */
  gboolean limits;
} SpawnSpec;

static const SpawnSpec spawn_specs[N_SPAWN_CASES] = {
  {"gst-launch-1.0 " ANCHOR_LINE " (anchor)", NULL, FALSE},
  {"worker: identity", "identity", FALSE},
  {"worker: videoconvert", "videoconvert", FALSE},
  {"worker: videoconvert, with limits", "videoconvert", TRUE},
};

typedef struct
{
  gdouble ms[MAX_RUNS];
  gdouble free_ms[MAX_RUNS];
  gdouble median, p90, spread, free_median;
  const gchar *mechanism;       /* the limits that applied */
} SpawnCase;

static gboolean
measure_spawn (SpawnCase * cases, const gchar * const *anchor_argv, gint runs)
{
  /* run -1 warms up the registry, the page cache and the worker binary */
  for (gint run = -1; run < runs; run++) {
    for (gint c = 0; c < N_SPAWN_CASES; c++) {
      const SpawnSpec *spec = &spawn_specs[c];
      gdouble ms, free_ms = 0;

      if (spec->description == NULL)
        ms = time_anchor (anchor_argv);
      else
        ms = time_worker (spec->description, spec->limits, &free_ms,
            &cases[c].mechanism);
      if (ms < 0) {
        g_printerr ("%s failed\n", spec->name);
        return FALSE;
      }
      if (run >= 0) {
        cases[c].ms[run] = ms;
        cases[c].free_ms[run] = free_ms;
      }
    }
  }
  for (gint c = 0; c < N_SPAWN_CASES; c++) {
    summarize (cases[c].ms, runs, &cases[c].median, &cases[c].p90,
        &cases[c].spread);
    summarize (cases[c].free_ms, runs, &cases[c].free_median, NULL, NULL);
  }
  return TRUE;
}

/* ---- memory measurement ------------------------------------------------ */

typedef enum
{
  MEMORY_IDENTITY,
  MEMORY_VIDEOCONVERT,
  MEMORY_VIDEOCONVERT_AFTER,
  MEMORY_GST_LAUNCH,
  MEMORY_IN_PROCESS_DELTA,
  N_MEMORY_CASES
} MemoryCaseId;

static const gchar *memory_names[N_MEMORY_CASES] = {
  "worker: identity, ready",
  "worker: videoconvert, ready",
  "worker: videoconvert, after 1080p frames",
  "gst-launch-1.0 " IN_PROCESS_LINE ", after 1 s",
  "videoconvert in-process: what it adds to a running GStreamer process",
};

typedef struct
{
  MemorySample samples[MAX_ORC_RUNS];
  gint n;
  MemorySample median;
} MemoryCase;

static void
summarize_memory (MemoryCase * mc)
{
  gdouble rss[MAX_ORC_RUNS], pss[MAX_ORC_RUNS], private[MAX_ORC_RUNS];

  for (gint i = 0; i < mc->n; i++) {
    rss[i] = mc->samples[i].rss_kib;
    pss[i] = mc->samples[i].pss_kib;
    private[i] = mc->samples[i].private_kib;
  }
  if (mc->n == 0)
    return;
  summarize (rss, mc->n, &mc->median.rss_kib, NULL, NULL);
  summarize (pss, mc->n, &mc->median.pss_kib, NULL, NULL);
  summarize (private, mc->n, &mc->median.private_kib, NULL, NULL);
}

static gboolean
sample_gst_launch (const gchar * const *argv, MemorySample * sample)
{
  pid_t pid = start_process (argv);
  gboolean ok;

  if (pid < 0)
    return FALSE;
  g_usleep (MEMORY_SETTLE_USEC);
  ok = read_memory (pid, sample);
  kill (pid, SIGKILL);
  wait_process (pid);
  return ok;
}

/* Runs this program again with --child=@mode and ORC_CODE as given (NULL:
 * unset); returns its standard output. */
static gchar *
run_child (const gchar * mode, const gchar * orc_code,
    const BenchOptions * options)
{
  g_autofree gchar *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree gchar *child = g_strdup_printf ("--child=%s", mode);
  g_autofree gchar *seconds = g_strdup_printf ("--seconds=%g",
      options->seconds);
  gchar *argv[] = { self, child, seconds, NULL };
  g_auto (GStrv) env = g_get_environ ();
  g_autoptr (GError) error = NULL;
  gchar *out = NULL;
  gint status;

  env = orc_code ? g_environ_setenv (env, "ORC_CODE", orc_code, TRUE) :
      g_environ_unsetenv (env, "ORC_CODE");
  if (self == NULL || !g_spawn_sync (NULL, argv, env, G_SPAWN_DEFAULT, NULL,
          NULL, &out, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error)) {
    g_printerr ("child %s: %s\n", mode, error ? error->message : "failed");
    g_free (out);
    return NULL;
  }
  return out;
}

static MemorySample *
next_sample (MemoryCase * mc)
{
  return mc->n < MAX_ORC_RUNS ? &mc->samples[mc->n++] : NULL;
}

static gboolean
measure_memory (MemoryCase * cases, const gchar * const *launch_argv,
    const BenchOptions * options)
{
  for (gint i = 0; i < MEMORY_SAMPLES; i++) {
    g_autofree gchar *delta = NULL;

    if (!sample_worker ("identity", next_sample (&cases[MEMORY_IDENTITY])) ||
        !sample_worker ("videoconvert",
            next_sample (&cases[MEMORY_VIDEOCONVERT])) ||
        !sample_gst_launch (launch_argv,
            next_sample (&cases[MEMORY_GST_LAUNCH])))
      return FALSE;
    delta = run_child ("memory", NULL, options);
    if (delta == NULL || !parse_memory (delta,
            next_sample (&cases[MEMORY_IN_PROCESS_DELTA])))
      return FALSE;
  }
  return TRUE;
}

/* Child: what building videoconvert into a READY pipeline adds to a
 * process whose GStreamer is already up with a pipeline in READY. */
static gboolean
child_memory (void)
{
  MemorySample before, after, delta;
  GstElement *base, *with_convert;
  g_autofree gchar *line = NULL;

  base = gst_parse_launch ("fakesrc ! fakesink", NULL);
  if (base == NULL || gst_element_set_state (base, GST_STATE_READY) ==
      GST_STATE_CHANGE_FAILURE)
    return FALSE;
  g_usleep (G_USEC_PER_SEC / 10);
  if (!read_memory (getpid (), &before))
    return FALSE;
  with_convert = gst_parse_launch ("fakesrc ! videoconvert ! fakesink", NULL);
  if (with_convert == NULL || gst_element_set_state (with_convert,
          GST_STATE_READY) == GST_STATE_CHANGE_FAILURE)
    return FALSE;
  g_usleep (G_USEC_PER_SEC / 10);
  if (!read_memory (getpid (), &after))
    return FALSE;
  delta.rss_kib = after.rss_kib - before.rss_kib;
  delta.pss_kib = after.pss_kib - before.pss_kib;
  delta.private_kib = after.private_kib - before.private_kib;
  line = format_memory (&delta);
  g_print ("%s\n", line);
  gst_element_set_state (with_convert, GST_STATE_NULL);
  gst_element_set_state (base, GST_STATE_NULL);
  gst_object_unref (with_convert);
  gst_object_unref (base);
  return TRUE;
}

/* ---- ORC: frames per second -------------------------------------------- */

typedef enum
{
  ORC_JIT,
  ORC_BACKUP,
  ORC_WORKER,
  N_ORC_CASES
} OrcCaseId;

static const gchar *orc_names[N_ORC_CASES] = {
  "in-process, ORC JIT (default) (anchor)",
  "in-process, ORC_CODE=backup",
  "worker (C backup code, PARALLAX_ORC=backup), through ipcsink/ipcsrc",
};

static const gchar *orc_modes[N_ORC_CASES] = {
  "orc-jit", "orc-backup", "orc-worker"
};

/* ORC_CODE of the child; NULL: unset. */
static const gchar *orc_codes[N_ORC_CASES] = { NULL, "backup", NULL };

typedef struct
{
  gdouble fps[MAX_ORC_RUNS];
  gdouble median, spread;
} OrcCase;

static gboolean
child_orc_in_process (BenchCounter * counter)
{
  GstElement *pipeline = bench_counted_pipeline (ORC_SOURCE " ! " ORC_CONVERT
      " ! " ORC_SINK, counter);
  gboolean ok;

  if (pipeline == NULL)
    return FALSE;
  ok = gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE
      && bench_counter_wait (counter, ORC_TIMEOUT_SECONDS);
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

static const GstPxWorkerCallbacks orc_worker_callbacks = {
  worker_message, worker_exited
};

/* Host side of "videoconvert" in a worker: a producer feeding it and a
 * consumer counting what comes out; samples the worker's memory once the
 * window closed. */
static gboolean
run_through_worker (GstPxWorker * worker, BenchCounter * counter,
    MemorySample * sample)
{
  g_autofree gchar *producer_line = g_strdup_printf (ORC_SOURCE
      " ! ipcsink fd=%d", gst_px_worker_get_input_fd (worker));
  g_autofree gchar *consumer_line = g_strdup_printf ("ipcsrc is-live=false "
      "fd=%d arena-budget=%" G_GUINT64_FORMAT " ! " ORC_SINK,
      gst_px_worker_get_output_fd (worker),
      gst_px_worker_get_arena_budget (worker));
  GstElement *producer = bench_counted_pipeline (producer_line, counter);
  GstElement *consumer = bench_counted_pipeline (consumer_line, counter);
  gboolean ok = producer != NULL && consumer != NULL &&
      gst_element_set_state (consumer, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE &&
      gst_element_set_state (producer, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE
      && bench_counter_wait (counter, ORC_TIMEOUT_SECONDS)
      && read_memory (gst_px_worker_get_pid (worker), sample);

  /* The producer first: with the worker gone first, ipcsink fails under
   * imagefreeze, whose loop then trips on a 0 frame rate as it stops. */
  bench_stop_pipeline (producer);
  gst_px_worker_stop (worker, GST_SECOND);
  bench_stop_pipeline (consumer);
  return ok;
}

static gboolean
child_orc_worker (BenchCounter * counter, MemorySample * sample)
{
  static const char *const backup_env[] = { "PARALLAX_ORC=backup", NULL };
  PxSandboxConfig config;
  GstPxWorker *worker;
  gboolean ok;

  worker_config (&config, FALSE);
  /* The C fallback, as this table has always measured it; bench/orc.c
   * measures the worker with its compiler. */
  config.env = backup_env;
  worker = start_worker (ORC_CONVERT, &config, &orc_worker_callbacks, counter);
  if (worker == NULL)
    return FALSE;
  ok = gst_px_worker_change_state (worker, GST_STATE_CHANGE_READY_TO_PAUSED,
      START_TIMEOUT) != GST_STATE_CHANGE_FAILURE &&
      gst_px_worker_change_state (worker, GST_STATE_CHANGE_PAUSED_TO_PLAYING,
      START_TIMEOUT) != GST_STATE_CHANGE_FAILURE &&
      run_through_worker (worker, counter, sample);
  gst_px_worker_free (worker);
  return ok;
}

/* Child: prints "fps=F" (and the worker's memory) on standard output. */
static gboolean
child_orc (const gchar * mode, const BenchOptions * options)
{
  BenchCounter counter;
  MemorySample sample;
  gboolean ok;

  bench_counter_init (&counter, ORC_WARM_UP_FRAMES, options->seconds);
  if (g_str_equal (mode, orc_modes[ORC_WORKER])) {
    ok = child_orc_worker (&counter, &sample);
    if (ok) {
      g_autofree gchar *memory = format_memory (&sample);

      g_print ("fps=%.3f %s\n", counter.rate, memory);
    }
  } else {
    ok = child_orc_in_process (&counter);
    if (ok)
      g_print ("fps=%.3f\n", counter.rate);
  }
  bench_counter_clear (&counter);
  return ok;
}

static gboolean
measure_orc (OrcCase * cases, MemoryCase * after, const BenchOptions * options)
{
  for (gint run = 0; run < options->orc_runs; run++) {
    for (gint c = 0; c < N_ORC_CASES; c++) {
      g_autofree gchar *out = run_child (orc_modes[c], orc_codes[c], options);
      const gchar *fps = out ? strstr (out, "fps=") : NULL;

      if (fps == NULL)
        return FALSE;
      cases[c].fps[run] = g_ascii_strtod (fps + 4, NULL);
      if (c == ORC_WORKER && !parse_memory (out, next_sample (after)))
        return FALSE;
    }
  }
  for (gint c = 0; c < N_ORC_CASES; c++)
    summarize (cases[c].fps, options->orc_runs, &cases[c].median, NULL,
        &cases[c].spread);
  return TRUE;
}

/* ---- output ------------------------------------------------------------ */

static void
print_spawn (const SpawnCase * cases, const BenchOptions * options)
{
  gdouble anchor = cases[SPAWN_ANCHOR].median, worst = 0;

  if (options->markdown)
    g_print ("| Case | median ms | p90 ms | x anchor | free ms |\n"
        "|---|---:|---:|---:|---:|\n");
  else
    g_print ("Spawn to ready, median of %d runs (x anchor: median cost "
        "relative to the anchor's; free: gst_px_worker_free ())\n\n"
        "%-60s %9s %9s %9s %9s\n", options->runs, "case", "median ms",
        "p90 ms", "x anchor", "free ms");
  for (gint c = 0; c < N_SPAWN_CASES; c++) {
    g_autofree gchar *free_ms = c == SPAWN_ANCHOR ? g_strdup ("-") :
        g_strdup_printf ("%.1f", cases[c].free_median);
    g_autofree gchar *name = spawn_specs[c].limits ?
        g_strdup_printf ("%s (%s)", spawn_specs[c].name, cases[c].mechanism) :
        g_strdup (spawn_specs[c].name);

    if (options->markdown)
      g_print ("| %s | %.1f | %.1f | %.2fx | %s |\n", name,
          cases[c].median, cases[c].p90, cases[c].median / anchor, free_ms);
    else
      g_print ("%-60s %9.1f %9.1f %8.2fx %9s\n", name,
          cases[c].median, cases[c].p90, cases[c].median / anchor, free_ms);
    worst = MAX (worst, cases[c].spread);
  }
  g_print ("\nMedian and 90th percentile of %d interleaved runs after one "
      "warm-up run; largest spread ((max - min) / median): %.0f%%.\n",
      options->runs, worst * 100);
}

static gchar *
format_kib (gdouble kib)
{
  if (isnan (kib))
    return g_strdup ("n/a");
  return g_strdup_printf ("%.1f", kib / 1024);
}

static void
print_memory (const MemoryCase * cases, const BenchOptions * options)
{
  if (options->markdown)
    g_print ("| Process | RSS MiB | PSS MiB | private MiB |\n"
        "|---|---:|---:|---:|\n");
  else
    g_print ("\nMemory, median of %d processes each (private: "
        "Private_Clean + Private_Dirty)\n\n%-72s %8s %8s %8s\n",
        MEMORY_SAMPLES, "process", "RSS MiB", "PSS MiB", "priv MiB");
  for (gint c = 0; c < N_MEMORY_CASES; c++) {
    g_autofree gchar *rss = format_kib (cases[c].median.rss_kib);
    g_autofree gchar *pss = format_kib (cases[c].median.pss_kib);
    g_autofree gchar *private = format_kib (cases[c].median.private_kib);

    if (cases[c].n == 0)
      continue;
    if (options->markdown)
      g_print ("| %s | %s | %s | %s |\n", memory_names[c], rss, pss, private);
    else
      g_print ("%-72s %8s %8s %8s\n", memory_names[c], rss, pss, private);
  }
  if (options->markdown)
    g_print ("\nMedian of %d processes per row (the row after frames: of "
        "the %d ORC runs through a worker).\n", MEMORY_SAMPLES,
        cases[MEMORY_VIDEOCONVERT_AFTER].n);
}

static void
print_orc (const OrcCase * cases, const BenchOptions * options)
{
  gdouble anchor = cases[ORC_JIT].median, worst = 0;

  if (options->markdown)
    g_print ("| Path | frames/s | ms/frame | x JIT |\n|---|---:|---:|---:|\n");
  else
    g_print ("\nvideoconvert I420 -> BGRx, 1920x1080, one thread, median of "
        "%d runs of ~%.1f s\n(x JIT: cost per frame relative to ORC's "
        "JIT in-process)\n\n%-52s %9s %9s %7s\n", options->orc_runs,
        options->seconds, "path", "frames/s", "ms/frame", "x JIT");
  for (gint c = 0; c < N_ORC_CASES; c++) {
    if (options->markdown)
      g_print ("| %s | %.1f | %.2f | %.2fx |\n", orc_names[c],
          cases[c].median, 1e3 / cases[c].median, anchor / cases[c].median);
    else
      g_print ("%-52s %9.1f %9.2f %6.2fx\n", orc_names[c], cases[c].median,
          1e3 / cases[c].median, anchor / cases[c].median);
    worst = MAX (worst, cases[c].spread);
  }
  g_print ("\nMedian of %d interleaved runs of ~%.1f s per path, each a "
      "fresh process; largest spread ((max - min) / median): %.0f%%.\n",
      options->orc_runs, options->seconds, worst * 100);
}

static void
print_verdict (const SpawnCase * spawn, const OrcCase * orc,
    const BenchOptions * options)
{
  gdouble anchor = spawn[SPAWN_ANCHOR].median;

  g_print ("\nTarget: spawn to ready <= %.1fx the anchor (%.1f ms)\n",
      TARGET_RATIO, anchor);
  for (gint c = SPAWN_IDENTITY; c < N_SPAWN_CASES; c++) {
    gdouble ratio = spawn[c].median / anchor;

    g_print ("  %-34s %.2fx  %s\n", spawn_specs[c].name, ratio,
        ratio <= TARGET_RATIO ? "met" : "MISSED");
  }
  if (!options->skip_orc)
    g_print ("ORC_CODE=backup costs videoconvert %.2fx the JIT's time per "
        "frame (%.0f%% fewer frames per second)\n",
        orc[ORC_JIT].median / orc[ORC_BACKUP].median,
        (1 - orc[ORC_BACKUP].median / orc[ORC_JIT].median) * 100);
}

/* ---- main -------------------------------------------------------------- */

static const gchar usage[] =
    "- sandboxed worker: spawn to ready, memory, ORC JIT vs C fallback\n\n"
    "Run it under `meson devenv -C <builddir>`, which sets PARALLAX_WORKER\n"
    "and puts the build's plugin on GST_PLUGIN_PATH:\n\n"
    "  meson devenv -C <builddir> ./bench/parallax-bench-worker --markdown";

static gboolean
parse_options (int *argc, char ***argv, BenchOptions * options)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    {"runs", 'r', 0, G_OPTION_ARG_INT, &options->runs,
        "Spawn runs per case (default 30)", "N"},
    {"orc-runs", 0, 0, G_OPTION_ARG_INT, &options->orc_runs,
        "ORC runs per path (default 5)", "N"},
    {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &options->seconds,
        "Length of one ORC run (default 2)", "S"},
    {"markdown", 'm', 0, G_OPTION_ARG_NONE, &options->markdown,
        "Print markdown tables", NULL},
    {"skip-orc", 0, 0, G_OPTION_ARG_NONE, &options->skip_orc,
        "Only spawn and ready-worker memory", NULL},
    {"child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &options->child,
        NULL, NULL},
    {NULL}
  };

  context = g_option_context_new (usage);
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, argc, argv, &error)) {
    g_printerr ("%s\n", error->message);
    return FALSE;
  }
  if (options->runs < 1 || options->runs > MAX_RUNS ||
      options->orc_runs < 1 || options->orc_runs > MAX_ORC_RUNS ||
      !(options->seconds > 0 && options->seconds <= 60)) {
    g_printerr ("--runs must be 1..%d, --orc-runs 1..%d and --seconds in "
        "(0, 60]\n", MAX_RUNS, MAX_ORC_RUNS);
    return FALSE;
  }
  return TRUE;
}

/* Without the build's plugin and worker the figures would be of nothing. */
static gboolean
environment_is_ready (void)
{
  GstElementFactory *factory = gst_element_factory_find ("ipcsink");

  if (factory != NULL)
    gst_object_unref (factory);
  if (factory == NULL || !g_file_test (gst_px_worker_path (),
          G_FILE_TEST_IS_EXECUTABLE)) {
    g_printerr ("The Parallax plugin or parallax-worker was not found: run "
        "this under `meson devenv -C <builddir>`.\n");
    return FALSE;
  }
  return TRUE;
}

static int
run_child_mode (const BenchOptions * options)
{
  if (g_str_equal (options->child, "memory"))
    return child_memory ()? 0 : 1;
  for (gint c = 0; c < N_ORC_CASES; c++) {
    if (g_str_equal (options->child, orc_modes[c]))
      return child_orc (options->child, options) ? 0 : 1;
  }
  return 2;
}

int
main (int argc, char **argv)
{
  BenchOptions options = {.runs = 30,.orc_runs = 5,.seconds = 2 };
  static SpawnCase spawn[N_SPAWN_CASES];
  static MemoryCase memory[N_MEMORY_CASES];
  static OrcCase orc[N_ORC_CASES];
  g_autofree gchar *launch = NULL;
  g_auto (GStrv) anchor_argv = NULL, in_process_argv = NULL;
  gboolean ok;

  if (!parse_options (&argc, &argv, &options))
    return 2;
  if (!environment_is_ready ())
    return 2;
  if (options.child != NULL)
    return run_child_mode (&options);
  launch = g_find_program_in_path ("gst-launch-1.0");
  if (launch == NULL) {
    g_printerr ("gst-launch-1.0 (the anchor) is not on PATH\n");
    return 2;
  }
  anchor_argv = gst_launch_argv (launch, ANCHOR_LINE);
  in_process_argv = gst_launch_argv (launch, IN_PROCESS_LINE);

  ok = measure_spawn (spawn, (const gchar * const *) anchor_argv,
      options.runs) && measure_memory (memory,
      (const gchar * const *) in_process_argv, &options) &&
      (options.skip_orc || measure_orc (orc,
          &memory[MEMORY_VIDEOCONVERT_AFTER], &options));
  if (!ok)
    return 1;
  for (gint c = 0; c < N_MEMORY_CASES; c++)
    summarize_memory (&memory[c]);

  print_spawn (spawn, &options);
  g_print ("\n");
  print_memory (memory, &options);
  if (!options.skip_orc) {
    g_print ("\n");
    print_orc (orc, &options);
  }
  print_verdict (spawn, orc, &options);
  return 0;
}
