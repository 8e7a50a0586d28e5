/* Parallax — parallax-worker in its sandbox, driven from a host pipeline.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test starts a worker for a launch description through GstPxWorker,
 * feeds it from "videotestsrc ! ipcsink fd=…" and drains it into
 * "ipcsrc fd=… ! fakesink", as sandboxbin will. The hostile element (test
 * plugin "parallaxtest") tries one misdeed on its first buffer; the test
 * checks that the jail refused it the expected way: an errno reported by
 * the element, or the worker killed with the refused syscall named to the
 * host. Ordinary elements must produce, through the worker, exactly the
 * bytes they produce in-process.
 *
 * Run as root, the tests also run again as an unprivileged user (meson test
 * "worker_unprivileged").
 */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gstpxworker.h"
#include "px-buffer-checksum.h"
#include "px-sandbox.h"
#include "px-test-util.h"

#define START_TIMEOUT (20 * GST_SECOND)
#define RUN_TIMEOUT (30 * G_TIME_SPAN_SECOND)

typedef struct
{
  GMutex lock;
  GCond cond;
  GstStructure *result;         /* hostile-result */
  GstStructure *violation;      /* the host's parallax-worker-violation */
  GstStructure *refused;        /* the first parallax-worker-refused */
  gchar *refused_text;          /* its warning's message */
  guint n_refused;              /* refused warnings */
  gchar *exit_reason;
  gchar *error;                 /* first ERROR relayed from the worker */
} Observed;

static void
observed_init (Observed * obs)
{
  memset (obs, 0, sizeof *obs);
  g_mutex_init (&obs->lock);
  g_cond_init (&obs->cond);
}

static void
observed_clear (Observed * obs)
{
  if (obs->result)
    gst_structure_free (obs->result);
  if (obs->violation)
    gst_structure_free (obs->violation);
  if (obs->refused)
    gst_structure_free (obs->refused);
  g_free (obs->refused_text);
  g_free (obs->exit_reason);
  g_free (obs->error);
  g_mutex_clear (&obs->lock);
  g_cond_clear (&obs->cond);
}

/* A warning of the host's that the sandbox refused the worker a call. */
static void
observe_refusal (Observed * obs, GstMessage * message)
{
  const GstStructure *details = NULL;
  GError *error;

  gst_message_parse_warning_details (message, &details);
  if (details == NULL || !gst_structure_has_name (details,
          GST_PX_WORKER_REFUSED))
    return;
  if (obs->n_refused++ > 0)
    return;
  gst_message_parse_warning (message, &error, NULL);
  fail_unless (error->domain == GST_RESOURCE_ERROR);
  fail_unless_equals_int (error->code, GST_RESOURCE_ERROR_NOT_AUTHORIZED);
  obs->refused_text = g_strdup (error->message);
  obs->refused = gst_structure_copy (details);
  g_error_free (error);
}

static void
on_message (GstPxWorker * worker, GstMessage * message, gpointer user_data)
{
  Observed *obs = user_data;
  const GstStructure *s = gst_message_get_structure (message);

  g_mutex_lock (&obs->lock);
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_WARNING)
    observe_refusal (obs, message);
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ELEMENT && s &&
      gst_structure_has_name (s, "hostile-result") && obs->result == NULL)
    obs->result = gst_structure_copy (s);
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ELEMENT && s &&
      gst_structure_has_name (s, GST_PX_WORKER_VIOLATION) &&
      obs->violation == NULL)
    obs->violation = gst_structure_copy (s);
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR && obs->error == NULL) {
    GError *error;

    gst_message_parse_error (message, &error, NULL);
    obs->error = g_strdup (error->message);
    g_error_free (error);
  }
  g_cond_broadcast (&obs->cond);
  g_mutex_unlock (&obs->lock);
  gst_message_unref (message);
}

static void
on_exited (GstPxWorker * worker, const gchar * reason, gpointer user_data)
{
  Observed *obs = user_data;

  g_mutex_lock (&obs->lock);
  obs->exit_reason = g_strdup (reason);
  g_cond_broadcast (&obs->cond);
  g_mutex_unlock (&obs->lock);
}

static const GstPxWorkerCallbacks callbacks = { on_message, on_exited };

static void
default_config (PxSandboxConfig * config)
{
  static const char *const env[] = { "ORC_CODE=backup", NULL };

  px_sandbox_config_init (config);
  config->memory_bytes = 512u << 20;
  config->pids = 64;
  config->cpu_percent = 50;
  config->env = env;
}

/* Host side of a worker: a producer feeding it and a consumer draining it,
 * each with a per-buffer checksum list. */
typedef struct
{
  GstElement *producer;
  GstElement *consumer;
  GPtrArray *checksums;
} Host;

static void
record_checksum (GstElement * sink, GstBuffer * buffer, GstPad * pad,
    gpointer user_data)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);

  g_ptr_array_add (user_data, px_buffer_checksum (buffer, caps));
  gst_clear_caps (&caps);
}

static GstElement *
consumer_pipeline (const gchar * head, GPtrArray * checksums)
{
  gchar *description = g_strdup_printf ("%s ! fakesink name=sink "
      "signal-handoffs=true sync=false", head);
  GstElement *pipeline = gst_parse_launch (description, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");

  fail_unless (pipeline != NULL, "cannot build %s", description);
  g_signal_connect (sink, "handoff", G_CALLBACK (record_checksum), checksums);
  gst_object_unref (sink);
  g_free (description);
  return pipeline;
}

static GstPxWorker *
start_worker (const gchar * description, const PxSandboxConfig * config,
    Observed * obs)
{
  GstPxWorker *worker = gst_px_worker_new (description, config, NULL,
      &callbacks, obs);
  GError *error = NULL;

  fail_unless (gst_px_worker_start (worker, START_TIMEOUT, &error),
      "worker for '%s': %s", description, error ? error->message : "?");
  fail_unless (gst_px_worker_change_state (worker,
          GST_STATE_CHANGE_READY_TO_PAUSED, START_TIMEOUT) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless (gst_px_worker_change_state (worker,
          GST_STATE_CHANGE_PAUSED_TO_PLAYING, START_TIMEOUT) !=
      GST_STATE_CHANGE_FAILURE);
  return worker;
}

/* The consumer makes the worker's output arenas, within @arena_budget. */
static void
host_start_with_budget (Host * host, GstPxWorker * worker,
    const gchar * source, guint64 arena_budget)
{
  gchar *producer = g_strdup_printf ("%s ! ipcsink name=in fd=%d", source,
      gst_px_worker_get_input_fd (worker));
  gchar *consumer = g_strdup_printf ("ipcsrc is-live=false fd=%d "
      "arena-budget=%" G_GUINT64_FORMAT, gst_px_worker_get_output_fd (worker),
      arena_budget);

  host->checksums = g_ptr_array_new_with_free_func (g_free);
  host->producer = gst_parse_launch (producer, NULL);
  fail_unless (host->producer != NULL);
  host->consumer = consumer_pipeline (consumer, host->checksums);
  fail_unless (gst_element_set_state (host->consumer, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless (gst_element_set_state (host->producer, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  g_free (producer);
  g_free (consumer);
}

static void
host_start (Host * host, GstPxWorker * worker, const gchar * source)
{
  host_start_with_budget (host, worker, source,
      gst_px_worker_get_arena_budget (worker));
}

/* Waits for EOS or an error on the consumer. */
static gboolean
host_wait_eos (Host * host)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS
      (host->consumer), RUN_TIMEOUT * 1000, GST_MESSAGE_EOS |
      GST_MESSAGE_ERROR);
  gboolean eos = msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;

  if (msg)
    gst_message_unref (msg);
  return eos;
}

static void
host_stop (Host * host)
{
  gst_element_set_state (host->producer, GST_STATE_NULL);
  gst_element_set_state (host->consumer, GST_STATE_NULL);
  gst_object_unref (host->producer);
  gst_object_unref (host->consumer);
  g_ptr_array_unref (host->checksums);
}

/* Runs "hostile misdeed=@misdeed path=@path" in a worker until it reports
 * or dies. */
static void
run_misdeed_at (const gchar * misdeed, const gchar * path,
    const PxSandboxConfig * config, Observed * obs)
{
  gchar *description = g_strdup_printf ("hostile misdeed=%s target-pid=%d"
      "%s%s", misdeed, (int) getpid (), path ? " path=" : "",
      path ? path : "");
  gint64 deadline = g_get_monotonic_time () + RUN_TIMEOUT;
  GstPxWorker *worker;
  Host host;

  observed_init (obs);
  worker = start_worker (description, config, obs);
  host_start (&host, worker, "videotestsrc num-buffers=3 ! "
      "video/x-raw,format=I420,width=64,height=48");
  g_mutex_lock (&obs->lock);
  while (obs->result == NULL && obs->exit_reason == NULL &&
      g_cond_wait_until (&obs->cond, &obs->lock, deadline));
  g_mutex_unlock (&obs->lock);
  gst_px_worker_stop (worker, GST_SECOND);
  host_stop (&host);
  gst_px_worker_free (worker);
  g_free (description);
}

static void
run_misdeed (const gchar * misdeed, const PxSandboxConfig * config,
    Observed * obs)
{
  run_misdeed_at (misdeed, NULL, config, obs);
}

/* No memory of the worker @pid is executable but the files it runs, the
 * vDSO and the code region of its ORC compiler (read + execute, shared);
 * none is writable and executable. */
static void
assert_no_code_of_its_own (pid_t pid)
{
  gchar *path = g_strdup_printf ("/proc/%d/maps", (int) pid);
  gchar *contents = NULL, **lines;

  fail_unless (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (gchar ** l = lines; *l && **l; l++) {
    const gchar *perms = strchr (*l, ' ') + 1;
    const gchar *name = strrchr (*l, ' ') + 1;
    gboolean file = name[0] == '/' && strstr (*l, "/memfd:") == NULL;
    gboolean region = strstr (*l, "/memfd:parallax-orc-code ") != NULL &&
        g_str_has_prefix (perms, "r-xs");

    fail_if (perms[1] == 'w' && perms[2] == 'x', "%s", *l);
    fail_unless (perms[2] != 'x' || file || region ||
        g_str_equal (name, "[vdso]") || g_str_equal (name, "[vsyscall]"),
        "executable memory: %s", *l);
  }
  g_strfreev (lines);
  g_free (contents);
  g_free (path);
}

/* Runs "hostile misdeed=@misdeed", which the sandbox refuses without
 * killing the worker: waits for its result and for @warnings warnings of
 * the host, then checks that the worker still answers and holds no code
 * of its own. */
static void
run_refused_misdeed (const gchar * misdeed, const PxSandboxConfig * config,
    guint warnings, Observed * obs)
{
  gchar *description = g_strdup_printf ("hostile misdeed=%s", misdeed);
  gint64 deadline = g_get_monotonic_time () + RUN_TIMEOUT;
  GstPxWorker *worker;
  Host host;

  observed_init (obs);
  worker = start_worker (description, config, obs);
  host_start (&host, worker, "videotestsrc num-buffers=3 ! "
      "video/x-raw,format=I420,width=64,height=48");
  g_mutex_lock (&obs->lock);
  while ((obs->result == NULL || obs->n_refused < warnings) &&
      obs->exit_reason == NULL &&
      g_cond_wait_until (&obs->cond, &obs->lock, deadline));
  g_mutex_unlock (&obs->lock);
  fail_unless (obs->exit_reason == NULL, "%s: the worker ended: %s", misdeed,
      obs->exit_reason);
  fail_unless (obs->result != NULL, "%s: no result", misdeed);
  fail_unless (obs->n_refused >= warnings, "%s: %u warnings", misdeed,
      obs->n_refused);
  fail_unless (gst_px_worker_ping (worker, START_TIMEOUT),
      "%s: the worker does not answer", misdeed);
  assert_no_code_of_its_own (gst_px_worker_get_pid (worker));
  gst_px_worker_stop (worker, GST_SECOND);
  host_stop (&host);
  gst_px_worker_free (worker);
  g_free (description);
}

/* The host's warning names @syscall, with its decoded arguments (in the
 * message and in the details), and the calling thread. */
static void
assert_refusal_reported (Observed * obs, const gchar * syscall,
    const gchar * prot)
{
  const gchar *call = gst_structure_get_string (obs->refused, "call");
  gint thread = 0;

  fail_unless_equals_string (gst_structure_get_string (obs->refused,
          "syscall"), syscall);
  fail_unless (call != NULL && g_str_has_prefix (call, syscall) &&
      strstr (call, prot) != NULL, "%s", call);
  fail_unless (g_str_has_suffix (obs->refused_text, call), "%s",
      obs->refused_text);
  fail_unless (gst_structure_get_int (obs->refused, "thread", &thread) &&
      thread > 0);
  fail_unless (obs->violation == NULL, "a violation was posted");
}

/* W^X: the call failed with EACCES in the worker, which goes on; the
 * host warned, naming the call, as the kernel reported it. */
static void
assert_refused_and_reported (const gchar * misdeed, const gchar * syscall,
    const gchar * prot)
{
  PxSandboxConfig config;
  Observed obs;
  gint err = 0, ret = 0;

  default_config (&config);
  run_refused_misdeed (misdeed, &config, 1, &obs);
  gst_structure_get_int (obs.result, "ret", &ret);
  gst_structure_get_int (obs.result, "errno", &err);
  fail_unless (ret < 0, "%s was allowed", misdeed);
  fail_unless_equals_string (g_strerror (err), g_strerror (EACCES));
  assert_refusal_reported (&obs, syscall, prot);
  fail_unless_equals_int (obs.n_refused, 1);
  observed_clear (&obs);
}

/* The "detail" of a misdeed that must have returned. */
static const gchar *
result_detail (Observed * obs, const gchar * misdeed)
{
  fail_unless (obs->result != NULL, "%s: no result (worker %s)", misdeed,
      obs->exit_reason ? obs->exit_reason : "still running");
  return gst_structure_get_string (obs->result, "detail");
}

static void
assert_refused_with_errno (const gchar * misdeed, gint expected_errno)
{
  PxSandboxConfig config;
  Observed obs;
  gint err = 0, ret = 0;

  default_config (&config);
  run_misdeed (misdeed, &config, &obs);
  fail_unless (obs.result != NULL, "%s: no result (worker %s)", misdeed,
      obs.exit_reason ? obs.exit_reason : "still running");
  gst_structure_get_int (obs.result, "ret", &ret);
  gst_structure_get_int (obs.result, "errno", &err);
  fail_unless (ret < 0, "%s was allowed", misdeed);
  fail_unless_equals_string (g_strerror (err), g_strerror (expected_errno));
  observed_clear (&obs);
}

/* The reason names @syscall with its decoded arguments, and the host
 * posted the violation, with the calling thread, as the kernel told it. */
static void
assert_violation_reported (Observed * obs, const gchar * syscall)
{
  gchar *expected = g_strdup_printf ("killed by the sandbox for calling %s (",
      syscall);
  gint thread = 0;

  fail_unless (obs->exit_reason != NULL, "the worker did not end");
  fail_unless (g_str_has_prefix (obs->exit_reason, expected), "%s",
      obs->exit_reason);
  fail_unless (obs->violation != NULL, "no violation on the bus");
  fail_unless_equals_string (gst_structure_get_string (obs->violation,
          "syscall"), syscall);
  fail_unless (gst_structure_get_int (obs->violation, "thread", &thread) &&
      thread > 0);
  fail_unless (g_str_has_suffix (obs->exit_reason, gst_structure_get_string
          (obs->violation, "call")));
  g_free (expected);
}

/* Killed by the sandbox; returns the exit reason (free it). */
static gchar *
assert_killed_for (const gchar * misdeed, const gchar * syscall)
{
  PxSandboxConfig config;
  Observed obs;
  gchar *reason;

  default_config (&config);
  run_misdeed (misdeed, &config, &obs);
  fail_unless (obs.result == NULL, "%s returned instead of being killed",
      misdeed);
  assert_violation_reported (&obs, syscall);
  reason = g_strdup (obs.exit_reason);
  observed_clear (&obs);
  return reason;
}

GST_START_TEST (test_open_file_refused)
{
  assert_refused_with_errno ("open-file", EACCES);
}

GST_END_TEST;

GST_START_TEST (test_write_file_refused)
{
  assert_refused_with_errno ("write-file", EACCES);
}

GST_END_TEST;

GST_START_TEST (test_socket_kills)
{
  g_free (assert_killed_for ("connect", "socket"));
}

GST_END_TEST;

/* The path comes from the worker's memory, read while the thread waited. */
GST_START_TEST (test_exec_kills)
{
  gchar *reason = assert_killed_for ("exec", "execve");

  fail_unless (strstr (reason, "pathname=\"/bin/sh\""), "%s", reason);
  g_free (reason);
}

GST_END_TEST;

/* No SIGSYS is involved: a worker that blocks every signal is reported
 * by the kernel all the same (it used to be "killed by signal 31"). */
GST_START_TEST (test_exec_with_signals_blocked_named)
{
  g_free (assert_killed_for ("exec-signals-blocked", "execve"));
}

GST_END_TEST;

/* A message of the retired VIOLATION type from the worker is a lie: it is
 * killed for breaking the protocol, or exits as it meant to; it is never
 * reported as killed by the sandbox. */
GST_START_TEST (test_forged_violation_not_believed)
{
  PxSandboxConfig config;
  Observed obs;

  default_config (&config);
  run_misdeed ("forge-violation", &config, &obs);
  fail_unless (obs.exit_reason != NULL, "the worker did not end");
  fail_if (strstr (obs.exit_reason, "execve"), "%s", obs.exit_reason);
  fail_unless (g_str_equal (obs.exit_reason, "exited with status 0") ||
      g_str_has_prefix (obs.exit_reason, "killed by the host: invalid "
          "message"), "%s", obs.exit_reason);
  fail_unless (obs.violation == NULL);
  observed_clear (&obs);
}

GST_END_TEST;

/* A worker that says it is locked down before it is: the host reads its
 * posture from /proc, refuses it, and says what was wrong. */
GST_START_TEST (test_false_ready_refused)
{
  PxSandboxConfig config;
  GstPxWorker *worker;
  GError *error = NULL;
  Observed obs;

  default_config (&config);
  observed_init (&obs);
  worker = gst_px_worker_new ("hostile misdeed=early-ready", &config, NULL,
      &callbacks, &obs);
  fail_if (gst_px_worker_start (worker, START_TIMEOUT, &error));
  fail_unless (error != NULL);
  fail_unless (strstr (error->message, "posture does not match"), "%s",
      error->message);
  fail_unless (strstr (error->message, "seccomp: thread "), "%s",
      error->message);
  fail_unless (strstr (error->message, "no-new-privs: thread "), "%s",
      error->message);
  fail_unless (strstr (error->message, "empty-root: "), "%s", error->message);
  g_error_free (error);
  gst_px_worker_free (worker);
  fail_unless (g_str_has_prefix (obs.exit_reason, "killed by the host: "),
      "%s", obs.exit_reason);
  /* and on the bus */
  fail_unless (obs.error != NULL && strstr (obs.error, "posture does not "
          "match"), "%s", obs.error);
  observed_clear (&obs);
}

GST_END_TEST;

GST_START_TEST (test_fork_kills)
{
  g_free (assert_killed_for ("fork", "clone"));
}

GST_END_TEST;

GST_START_TEST (test_ptrace_kills)
{
  g_free (assert_killed_for ("ptrace", "ptrace"));
}

GST_END_TEST;

GST_START_TEST (test_kill_parent_kills)
{
  g_free (assert_killed_for ("kill", "kill"));
}

GST_END_TEST;

GST_START_TEST (test_wx_mapping_refused)
{
  assert_refused_and_reported ("wx-mmap", "mmap",
      "prot=PROT_READ|PROT_WRITE|PROT_EXEC");
}

GST_END_TEST;

/* Executable without writable is no new code either. */
GST_START_TEST (test_exec_mapping_refused)
{
  assert_refused_and_reported ("exec-mmap", "mmap",
      "prot=PROT_READ|PROT_EXEC,");
}

GST_END_TEST;

GST_START_TEST (test_exec_mprotect_refused)
{
  assert_refused_and_reported ("exec-mprotect", "mprotect",
      "prot=PROT_READ|PROT_EXEC)");
}

GST_END_TEST;

/* One warning per syscall: the first mmap and the first mprotect, not the
 * calls that follow them. */
GST_START_TEST (test_refusals_warned_once_per_syscall)
{
  PxSandboxConfig config;
  Observed obs;

  default_config (&config);
  run_refused_misdeed ("wx-mixed", &config, 2, &obs);
  assert_refusal_reported (&obs, "mmap", "prot=PROT_READ|PROT_WRITE|PROT_EXEC");
  fail_unless_equals_int (obs.n_refused, 2);
  observed_clear (&obs);
}

GST_END_TEST;

/* PCRE2 (GLib's GRegex) falls back to its interpreter when its JIT gets
 * no executable memory: a regular expression compiled with
 * G_REGEX_OPTIMIZE, as subparse's type finder compiles its own, matches
 * in the worker. */
GST_START_TEST (test_regex_optimize_matches)
{
  PxSandboxConfig config;
  Observed obs;
  gint ret = -1;

  default_config (&config);
  run_refused_misdeed ("regex", &config, 1, &obs);
  gst_structure_get_int (obs.result, "ret", &ret);
  fail_unless_equals_int (ret, 0);
  assert_refusal_reported (&obs, "mmap", "prot=PROT_READ|PROT_WRITE|PROT_EXEC");
  observed_clear (&obs);
}

GST_END_TEST;

/* A worker that keeps asking for executable memory is not probing: the
 * host answers a burst, warns once, and then kills it. */
GST_START_TEST (test_wx_flood_kills)
{
  PxSandboxConfig config;
  Observed obs;
  gchar *expected;
  guint refused = 0;

  default_config (&config);
  run_misdeed ("wx-flood", &config, &obs);
  fail_unless (obs.result == NULL, "the flood ended");
  fail_unless (obs.exit_reason != NULL, "the worker did not end");
  fail_unless (obs.violation != NULL, "no violation on the bus");
  fail_unless_equals_string (gst_structure_get_string (obs.violation,
          "syscall"), "mmap");
  expected = g_strdup_printf ("killed by the sandbox for calling %s after ",
      gst_structure_get_string (obs.violation, "call"));
  fail_unless (g_str_has_prefix (obs.exit_reason, expected), "%s",
      obs.exit_reason);
  fail_unless (g_str_has_suffix (obs.exit_reason, " refused W^X calls"), "%s",
      obs.exit_reason);
  fail_unless (gst_structure_get_uint (obs.violation, "refused-calls",
          &refused) && refused >= PX_SANDBOX_REFUSAL_BURST, "%u", refused);
  fail_unless_equals_int (obs.n_refused, 1);
  g_free (expected);
  observed_clear (&obs);
}

GST_END_TEST;

/* The producer's memory is mapped read-only and sealed: the worker cannot
 * make it writable. */
GST_START_TEST (test_write_input_refused)
{
  assert_refused_with_errno ("write-input", EACCES);
}

GST_END_TEST;

GST_START_TEST (test_threads_limited)
{
  assert_refused_with_errno ("threads", EAGAIN);
}

GST_END_TEST;

GST_START_TEST (test_memory_limited)
{
  PxSandboxConfig config;
  Observed obs;
  gint err = 0;

  default_config (&config);
  config.memory_bytes = 256u << 20;
  run_misdeed ("allocate", &config, &obs);
  /* Either the allocation fails (address-space rlimit) or the kernel kills
   * the worker (cgroup limit): the host goes on either way. */
  if (obs.result != NULL) {
    gst_structure_get_int (obs.result, "errno", &err);
    fail_unless_equals_int (err, ENOMEM);
  } else {
    fail_unless (obs.exit_reason != NULL);
    fail_unless (g_str_has_prefix (obs.exit_reason, "killed by signal 9"),
        "worker %s", obs.exit_reason);
  }
  observed_clear (&obs);
}

GST_END_TEST;

/* Memory no address-space limit counts: memfds filled with write(). The
 * worker may make none (its arenas come from the host), so it holds none
 * of it, whichever limit mechanism applies. */
GST_START_TEST (test_memfd_memory_limited)
{
  PxSandboxConfig config;
  Observed obs;
  gint ret = 0, err = 0;

  default_config (&config);
  config.memory_bytes = 256u << 20;
  run_misdeed ("memfd-fill", &config, &obs);
  fail_unless (obs.result != NULL, "no result (worker %s)",
      obs.exit_reason ? obs.exit_reason : "still running");
  gst_structure_get_int (obs.result, "ret", &ret);
  gst_structure_get_int (obs.result, "errno", &err);
  fail_unless (ret < 0, "the worker filled %d MiB of memfds", ret);
  fail_unless_equals_int (-ret - 1, 0);
  fail_unless_equals_string (g_strerror (err), g_strerror (EPERM));
  observed_clear (&obs);
}

GST_END_TEST;

/* The worker's output arenas are the host's to make, within a budget: a
 * request over it is refused and the worker says why. */
GST_START_TEST (test_arena_over_budget_refused)
{
  PxSandboxConfig config;
  GstPxWorker *worker;
  Observed obs;
  Host host;

  default_config (&config);
  observed_init (&obs);
  worker = start_worker ("videoconvert ! video/x-raw,format=BGRx", &config,
      &obs);
  /* 320x240 BGRx frames are 300 KiB: no arena of them fits in 64 KiB */
  host_start_with_budget (&host, worker, "videotestsrc num-buffers=3 ! "
      "video/x-raw,format=I420,width=320,height=240", 64 << 10);
  host_wait_eos (&host);
  fail_unless_equals_int (host.checksums->len, 0);
  g_mutex_lock (&obs.lock);
  while (obs.error == NULL && g_cond_wait_until (&obs.cond, &obs.lock,
          g_get_monotonic_time () + RUN_TIMEOUT));
  g_mutex_unlock (&obs.lock);
  fail_unless (obs.error != NULL, "the worker posted no error");
  fail_unless (strstr (obs.error, "over the arena budget"), "%s", obs.error);
  host_stop (&host);
  gst_px_worker_free (worker);
  observed_clear (&obs);
}

GST_END_TEST;

/* A worker that spins forever is stopped by the host and leaves nothing
 * behind; while it spins it gets no more CPU than its limit. */
GST_START_TEST (test_spinning_worker_is_contained)
{
  gchar *description = g_strdup ("hostile misdeed=spin");
  PxSandboxConfig config;
  GstPxWorker *worker;
  Observed obs;
  Host host;
  int fds = px_test_count_fds ();

  default_config (&config);
  config.cpu_percent = 20;
  observed_init (&obs);
  worker = start_worker (description, &config, &obs);
  host_start (&host, worker, "videotestsrc num-buffers=3 ! "
      "video/x-raw,format=I420,width=64,height=48");
  g_usleep (G_USEC_PER_SEC / 2);
  fail_unless (obs.exit_reason == NULL);
  fail_unless (kill (gst_px_worker_get_pid (worker), 0) == 0);
  gst_px_worker_stop (worker, GST_SECOND / 10);
  fail_unless (obs.exit_reason != NULL);
  host_stop (&host);
  gst_px_worker_free (worker);
  fail_unless_equals_int (px_test_count_fds (), fds);
  observed_clear (&obs);
  g_free (description);
}

GST_END_TEST;

GST_START_TEST (test_layers_reported)
{
  PxSandboxConfig config;
  GstPxWorker *worker;
  Observed obs;
  guint wanted;

  default_config (&config);
  observed_init (&obs);
  worker = gst_px_worker_new ("identity", &config, NULL, &callbacks, &obs);
  fail_unless (gst_px_worker_start (worker, START_TIMEOUT, NULL));
  wanted = px_sandbox_config_wanted_layers (&config);
  fail_unless_equals_int (gst_px_worker_get_layer_mask (worker) & wanted,
      wanted);
  fail_unless (strstr (gst_px_worker_get_layers (worker), "seccomp"));
  fail_unless (gst_px_worker_get_warning (worker) == NULL);
  fail_unless (gst_px_worker_ping (worker, GST_SECOND * 5));
  gst_px_worker_free (worker);
  observed_clear (&obs);
}

GST_END_TEST;

/* ---- posture of a real worker, read from /proc ----------------------- */

/* The value of "@key:" in a /proc status file, or NULL. */
static gchar *
status_field (const gchar * path, const gchar * key)
{
  gchar *contents = NULL, *value = NULL;
  gchar **lines;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  lines = g_strsplit (contents, "\n", -1);
  for (gchar ** l = lines; *l && value == NULL; l++) {
    if (g_str_has_prefix (*l, key) && (*l)[strlen (key)] == ':')
      value = g_strdup (g_strstrip (*l + strlen (key) + 1));
  }
  g_strfreev (lines);
  g_free (contents);
  return value;
}

static void
assert_status (const gchar * path, const gchar * key, const gchar * expected)
{
  gchar *value = status_field (path, key);

  fail_unless (value != NULL, "%s: no %s", path, key);
  fail_unless_equals_string (value, expected);
  g_free (value);
}

/* Every thread: no capabilities, no_new_privs, seccomp filter mode. */
static guint
assert_threads_locked_down (pid_t pid)
{
  gchar *dir = g_strdup_printf ("/proc/%d/task", (int) pid);
  GDir *tasks = g_dir_open (dir, 0, NULL);
  const gchar *tid;
  guint n = 0;

  fail_unless (tasks != NULL);
  while ((tid = g_dir_read_name (tasks)) != NULL) {
    gchar *status = g_strdup_printf ("%s/%s/status", dir, tid);

    assert_status (status, "CapEff", "0000000000000000");
    assert_status (status, "CapPrm", "0000000000000000");
    assert_status (status, "CapBnd", "0000000000000000");
    assert_status (status, "NoNewPrivs", "1");
    assert_status (status, "Seccomp", "2");
    g_free (status);
    n++;
  }
  g_dir_close (tasks);
  g_free (dir);
  return n;
}

/* Only /dev/null, the stderr we gave it, sockets, eventfds and pipes: no
 * file or directory of the host stays open. */
static void
assert_only_expected_fds (pid_t pid)
{
  gchar *dir = g_strdup_printf ("/proc/%d/fd", (int) pid);
  GDir *fds = g_dir_open (dir, 0, NULL);
  gchar *our_stderr = g_file_read_link ("/proc/self/fd/2", NULL);
  const gchar *fd;

  fail_unless (fds != NULL);
  while ((fd = g_dir_read_name (fds)) != NULL) {
    gchar *link = g_strdup_printf ("%s/%s", dir, fd);
    gchar *target = g_file_read_link (link, NULL);
    gint n = atoi (fd);

    fail_unless (target != NULL);
    if (n <= 1) {
      fail_unless_equals_string (target, "/dev/null");
    } else if (n == 2) {
      /* its own pipe, never our stderr */
      fail_unless (g_str_has_prefix (target, "pipe:"), "fd 2: %s", target);
      fail_if (g_strcmp0 (target, our_stderr) == 0);
    } else if (n <= 5) {
      fail_unless (g_str_has_prefix (target, "socket:"), "fd %d: %s", n,
          target);
    } else {
      fail_unless (g_str_has_prefix (target, "socket:") ||
          g_str_has_prefix (target, "anon_inode:") ||
          g_str_has_prefix (target, "pipe:") ||
          g_str_has_prefix (target, "/memfd:"), "fd %d: %s", n, target);
    }
    g_free (target);
    g_free (link);
  }
  g_dir_close (fds);
  g_free (our_stderr);
  g_free (dir);
}

static void
assert_namespaces (pid_t pid)
{
  gchar *status = g_strdup_printf ("/proc/%d/status", (int) pid);
  gchar *nspid = status_field (status, "NSpid");
  gchar *root = g_strdup_printf ("/proc/%d/root", (int) pid);
  gchar *net = g_strdup_printf ("/proc/%d/net/dev", (int) pid);
  gchar *fib = g_strdup_printf ("/proc/%d/net/fib_trie", (int) pid);
  gchar *contents = NULL;
  gchar **lines;
  GDir *dir;

  /* In its own namespace, whose PID 1 is its reaper. */
  fail_unless (nspid != NULL && g_str_has_suffix (nspid, "\t2"), "%s", nspid);
  /* An empty root. */
  dir = g_dir_open (root, 0, NULL);
  fail_unless (dir != NULL);
  fail_unless (g_dir_read_name (dir) == NULL, "the worker's root is not "
      "empty");
  g_dir_close (dir);
  /* Only a loopback interface, with no address: it is down. */
  fail_unless (g_file_get_contents (net, &contents, NULL, NULL));
  lines = g_strsplit (g_strstrip (contents), "\n", -1);
  fail_unless_equals_int (g_strv_length (lines), 3);
  fail_unless (g_str_has_prefix (g_strstrip (lines[2]), "lo:"));
  g_strfreev (lines);
  g_free (contents);
  fail_unless (g_file_get_contents (fib, &contents, NULL, NULL));
  fail_if (strstr (contents, "127.0.0.1"), "loopback is up");
  g_free (contents);
  g_free (fib);
  g_free (net);
  g_free (root);
  g_free (nspid);
  g_free (status);
}

/* Checked on a worker that has streamed, so that every thread it starts
 * for its elements and connections exists. */
GST_START_TEST (test_posture)
{
  PxSandboxConfig config;
  GstPxWorker *worker;
  Observed obs;
  Host host;
  pid_t pid;

  default_config (&config);
  observed_init (&obs);
  worker = start_worker ("videoconvert", &config, &obs);
  host_start (&host, worker, "videotestsrc num-buffers=5 ! "
      "video/x-raw,format=I420,width=64,height=48");
  fail_unless (host_wait_eos (&host));
  pid = gst_px_worker_get_pid (worker);
  fail_unless (assert_threads_locked_down (pid) > 2);
  assert_only_expected_fds (pid);
  assert_namespaces (pid);
  host_stop (&host);
  gst_px_worker_free (worker);
  observed_clear (&obs);
}

GST_END_TEST;

/* Ordinary elements behave after lockdown exactly as in-process. */
static void
assert_bit_exact_with (const gchar * source, const gchar * description,
    guint min_buffers, const PxSandboxConfig * config)
{
  gchar *in_process = g_strdup_printf ("%s ! %s", source, description);
  GPtrArray *expected = g_ptr_array_new_with_free_func (g_free);
  GstElement *reference = consumer_pipeline (in_process, expected);
  GstPxWorker *worker;
  Observed obs;
  Host host;

  gst_element_set_state (reference, GST_STATE_PLAYING);
  fail_unless (gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (reference),
          GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS) != NULL);
  gst_element_set_state (reference, GST_STATE_NULL);
  fail_unless (expected->len >= min_buffers, "%s: %u buffers", in_process,
      expected->len);

  observed_init (&obs);
  worker = start_worker (description, config, &obs);
  host_start (&host, worker, source);
  fail_unless (host_wait_eos (&host), "%s: no EOS (worker: %s)",
      description, obs.error ? obs.error : obs.exit_reason ?
      obs.exit_reason : "no error");
  fail_unless_equals_int (host.checksums->len, expected->len);
  for (guint i = 0; i < expected->len; i++)
    fail_unless_equals_string (g_ptr_array_index (host.checksums, i),
        g_ptr_array_index (expected, i));
  host_stop (&host);
  gst_px_worker_free (worker);
  observed_clear (&obs);
  gst_object_unref (reference);
  g_ptr_array_unref (expected);
  g_free (in_process);
}

static void
assert_bit_exact (const gchar * source, const gchar * description,
    guint min_buffers)
{
  PxSandboxConfig config;

  default_config (&config);
  assert_bit_exact_with (source, description, min_buffers, &config);
}

#define VIDEO "videotestsrc num-buffers=10 pattern=smpte ! " \
  "video/x-raw,format=I420,width=320,height=240,framerate=30/1"
#define AUDIO "audiotestsrc num-buffers=10 wave=sine ! " \
  "audio/x-raw,format=S16LE,rate=44100,channels=2"

GST_START_TEST (test_videoconvert_bit_exact)
{
  assert_bit_exact (VIDEO, "videoconvert ! video/x-raw,format=BGRx", 10);
}

GST_END_TEST;

GST_START_TEST (test_videoscale_bit_exact)
{
  assert_bit_exact (VIDEO, "videoscale ! video/x-raw,width=160,height=120", 10);
}

GST_END_TEST;

GST_START_TEST (test_audioconvert_bit_exact)
{
  assert_bit_exact (AUDIO, "audioconvert ! audio/x-raw,format=F32LE", 10);
}

GST_END_TEST;

GST_START_TEST (test_audioresample_bit_exact)
{
  assert_bit_exact (AUDIO, "audioresample ! audio/x-raw,rate=48000", 10);
}

GST_END_TEST;

GST_START_TEST (test_jpeg_bit_exact)
{
  assert_bit_exact (VIDEO, "jpegenc ! jpegdec", 10);
}

GST_END_TEST;

GST_START_TEST (test_pngdec_bit_exact)
{
  assert_bit_exact (VIDEO " ! videoconvert ! video/x-raw,format=RGB ! "
      "pngenc", "pngdec", 10);
}

GST_END_TEST;

GST_START_TEST (test_vp8_bit_exact)
{
  assert_bit_exact (VIDEO, "vp8enc deadline=1 threads=1 cpu-used=16 ! "
      "vp8dec threads=1", 10);
}

GST_END_TEST;

/* liborc's own JIT needs a writable + executable mapping, which the worker
 * may not have: GstPxWorker gives every worker ORC_CODE=backup, which keeps
 * liborc from trying, unless the caller names ORC_CODE in its environment
 * (the jailed compiler makes the code instead: tests/test_orc.c). */
GST_START_TEST (test_orc_fallback_without_orc_code)
{
  PxSandboxConfig config;

  default_config (&config);
  config.env = NULL;
  assert_bit_exact_with (VIDEO, "videoconvert ! video/x-raw,format=BGRx", 10,
      &config);
}

GST_END_TEST;

/* With the JIT allowed ("ORC_CODE=", empty), videoconvert's first frame
 * makes liborc map writable + executable memory: the W^X layer refuses
 * it with EACCES and the host warns. What follows is liborc's: 0.4.33
 * (Debian 12) aborts when it gets no code memory, and the worker ends by
 * SIGABRT; from 0.4.34 on, liborc runs its backup code and the stream
 * ends. Never is the worker killed by the sandbox, and never does ORC's
 * JIT run in it: that is what GstPxWorker's ORC_CODE=backup spares. */
GST_START_TEST (test_orc_jit_refused)
{
  static const char *const env[] = { "ORC_CODE=", NULL };
  gint64 deadline = g_get_monotonic_time () + RUN_TIMEOUT;
  PxSandboxConfig config;
  GstPxWorker *worker;
  gboolean eos;
  Observed obs;
  Host host;

  default_config (&config);
  config.env = env;
  observed_init (&obs);
  worker = start_worker ("videoconvert ! video/x-raw,format=BGRx", &config,
      &obs);
  host_start (&host, worker, VIDEO);
  eos = host_wait_eos (&host);
  g_mutex_lock (&obs.lock);
  while (obs.refused == NULL && obs.exit_reason == NULL &&
      g_cond_wait_until (&obs.cond, &obs.lock, deadline));
  g_mutex_unlock (&obs.lock);
  fail_unless (obs.refused != NULL, "no warning (worker %s)",
      obs.exit_reason ? obs.exit_reason : "running");
  assert_refusal_reported (&obs, "mmap", "prot=PROT_READ|PROT_WRITE|PROT_EXEC");
  if (!eos) {
    g_mutex_lock (&obs.lock);
    while (obs.exit_reason == NULL &&
        g_cond_wait_until (&obs.cond, &obs.lock, deadline));
    g_mutex_unlock (&obs.lock);
    fail_unless_equals_string (obs.exit_reason, "killed by signal 6 "
        "(Aborted)");
  } else {
    fail_unless_equals_int (host.checksums->len, 10);
    fail_unless (obs.exit_reason == NULL, "%s", obs.exit_reason);
  }
  host_stop (&host);
  gst_px_worker_free (worker);
  observed_clear (&obs);
}

GST_END_TEST;

/* The H.264 stream is made in-process by x264enc (gst-plugins-ugly) and
 * decoded in the worker. */
GST_START_TEST (test_avdec_h264_bit_exact)
{
  assert_bit_exact (VIDEO " ! x264enc threads=1 speed-preset=ultrafast ! "
      "h264parse", "avdec_h264 max-threads=1", 10);
}

GST_END_TEST;

/* ---- what a taken-over worker leaves for the host -------------------- */

static void
remove_dir (const gchar * path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir)) != NULL) {
    gchar *file = g_build_filename (path, name, NULL);

    unlink (file);
    g_free (file);
  }
  if (dir)
    g_dir_close (dir);
  rmdir (path);
}

/* With a writable directory, the worker can leave files, never a set-id
 * program, a device or a link, and never as root. */
GST_START_TEST (test_with_filesystem_plants_nothing)
{
  gchar *dir = g_dir_make_tmp ("parallax-plant-XXXXXX", NULL);
  const char *rw[] = { dir, NULL };
  uid_t expected_owner = geteuid () == 0 ? 65534 : geteuid ();
  PxSandboxConfig config;
  const gchar *name;
  GDir *listing;
  Observed obs;
  guint n = 0;

  fail_unless (dir != NULL);
  chmod (dir, 0777);
  default_config (&config);
  config.policy = PX_SANDBOX_POLICY_WITH_FILESYSTEM;
  config.read_write_paths = rw;
  run_misdeed_at ("plant", dir, &config, &obs);
  fail_unless_equals_string (result_detail (&obs, "plant"),
      "open=1 fchmod=1 chmod=1 fchmodat=1 symlink=1 link=1 mknod=13");
  listing = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (listing)) != NULL) {
    gchar *path = g_build_filename (dir, name, NULL);
    struct stat st;

    fail_unless (lstat (path, &st) == 0);
    fail_unless (S_ISREG (st.st_mode), "%s is not a plain file", name);
    fail_if (st.st_mode & (S_ISUID | S_ISGID), "%s is set-id: %o", name,
        st.st_mode);
    fail_unless_equals_int (st.st_uid, expected_owner);
    g_free (path);
    n++;
  }
  g_dir_close (listing);
  fail_unless_equals_int (n, 1);        /* the plain file */
  remove_dir (dir);
  observed_clear (&obs);
  g_free (dir);
}

GST_END_TEST;

typedef struct
{
  const gchar *marker;
  gboolean seen;
} StderrLog;

static void
catch_worker_stderr (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  StderrLog *log = user_data;
  const gchar *text = gst_debug_message_get (message);

  if (text && strstr (text, "stderr: hostile: ") && strstr (text, log->marker))
    g_atomic_int_set (&log->seen, TRUE);
}

/* fd 2 of the worker is a pipe the host reads into its log: the caller's
 * stderr (here a log file with a line in it) is neither read, nor
 * truncated, nor re-flagged. */
GST_START_TEST (test_stderr_is_the_workers_own)
{
  gchar *path = NULL, *contents = NULL;
  gchar *marker = g_strdup_printf ("marker-%d", (int) getpid ());
  StderrLog log = { marker, FALSE };
  int fd = g_file_open_tmp ("parallax-stderr-XXXXXX", &path, NULL);
  int saved, flags;
  PxSandboxConfig config;
  gint64 deadline;
  Observed obs;

  fail_unless (fd >= 0);
  fail_unless (write (fd, "earlier line\n", 13) == 13);
  close (fd);
  fd = open (path, O_RDWR | O_APPEND | O_CLOEXEC);
  saved = dup (2);
  fail_unless (fd >= 0 && saved >= 0 && dup2 (fd, 2) == 2);
  flags = fcntl (2, F_GETFL);
  gst_debug_set_threshold_for_name ("pxworker", GST_LEVEL_WARNING);
  gst_debug_add_log_function (catch_worker_stderr, &log, NULL);
  default_config (&config);
  run_misdeed_at ("stderr", marker, &config, &obs);
  deadline = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  while (!g_atomic_int_get (&log.seen) && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  gst_debug_remove_log_function (catch_worker_stderr);
  fail_unless (dup2 (saved, 2) == 2);
  close (saved);

  fail_unless_equals_string (result_detail (&obs, "stderr"), "read=9 setfl=1 truncate=1 pwrite=1");     /* EBADF: a write end */
  fail_unless_equals_int (fcntl (fd, F_GETFL), flags);
  fail_unless (g_file_get_contents (path, &contents, NULL, NULL));
  fail_unless (g_str_has_prefix (contents, "earlier line\n"), "%s", contents);
  fail_unless (log.seen, "the worker's stderr line is not in the log");
  close (fd);
  unlink (path);
  observed_clear (&obs);
  g_free (contents);
  g_free (marker);
  g_free (path);
}

GST_END_TEST;

/* with-network is IP networking: no datagram reaches a host's abstract
 * AF_UNIX socket, and no abstract name is taken. */
GST_START_TEST (test_with_network_reaches_no_abstract_socket)
{
  gchar *name = g_strdup_printf ("parallax-test-%d", (int) getpid ());
  gchar *squatted = g_strdup_printf ("%s-bound", name);
  struct sockaddr_un addr = {.sun_family = AF_UNIX };
  int listener = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int probe = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  socklen_t len = offsetof (struct sockaddr_un, sun_path) + 1 + strlen (name);
  PxSandboxConfig config;
  Observed obs;
  char buf[16];

  strcpy (addr.sun_path + 1, name);
  fail_unless (bind (listener, (struct sockaddr *) &addr, len) == 0);
  default_config (&config);
  config.policy = PX_SANDBOX_POLICY_WITH_NETWORK;
  run_misdeed_at ("abstract-unix", name, &config, &obs);
  fail_unless_equals_string (result_detail (&obs, "abstract-unix"), "socketpair=97 sendto=-1 bind=22"); /* EAFNOSUPPORT, EINVAL */
  fail_unless (recv (listener, buf, sizeof buf, MSG_DONTWAIT) < 0 &&
      errno == EAGAIN, "a datagram from the worker arrived");
  strcpy (addr.sun_path + 1, squatted);
  len = offsetof (struct sockaddr_un, sun_path) + 1 + strlen (squatted);
  fail_unless (bind (probe, (struct sockaddr *) &addr, len) == 0,
      "the worker took @%s", squatted);
  close (probe);
  close (listener);
  observed_clear (&obs);
  g_free (squatted);
  g_free (name);
}

GST_END_TEST;

/* A worker that stops listening on its control socket is of no use: the
 * host notices at once, not at stop, kills it and says why. */
GST_START_TEST (test_closed_control_is_noticed)
{
  gint64 deadline = g_get_monotonic_time () + RUN_TIMEOUT;
  PxSandboxConfig config;
  GstPxWorker *worker;
  Observed obs;
  Host host;

  default_config (&config);
  observed_init (&obs);
  worker = start_worker ("hostile misdeed=close-control", &config, &obs);
  host_start (&host, worker, "videotestsrc num-buffers=3 ! "
      "video/x-raw,format=I420,width=64,height=48");
  g_mutex_lock (&obs.lock);
  while (obs.exit_reason == NULL &&
      g_cond_wait_until (&obs.cond, &obs.lock, deadline));
  g_mutex_unlock (&obs.lock);
  fail_unless_equals_string (obs.exit_reason, "killed by its supervisor: "
      "it closed its control connection while still running");
  host_stop (&host);
  gst_px_worker_free (worker);
  observed_clear (&obs);
}

GST_END_TEST;

/* abort () ends the worker with SIGABRT, and the host says so: the worker
 * is not its namespace's PID 1, whose SIGABRT the kernel would drop. */
GST_START_TEST (test_abort_is_reported)
{
  PxSandboxConfig config;
  Observed obs;

  default_config (&config);
  run_misdeed ("abort", &config, &obs);
  fail_unless (obs.result == NULL);
  fail_unless_equals_string (obs.exit_reason, "killed by signal 6 "
      "(Aborted)");
  observed_clear (&obs);
}

GST_END_TEST;

GST_START_TEST (test_fd_limit_is_small)
{
  PxSandboxConfig config;
  Observed obs;

  default_config (&config);
  run_misdeed ("fd-limit", &config, &obs);
  fail_unless_equals_string (result_detail (&obs, "fd-limit"), "256 256");
  observed_clear (&obs);
}

GST_END_TEST;

/* The producer's arena, received by the worker, cannot be sealed by it. */
GST_START_TEST (test_received_arena_cannot_be_sealed)
{
  assert_refused_with_errno ("seal-input", EPERM);
}

GST_END_TEST;

static int
write_text (const gchar * dir, const gchar * name, const gchar * text)
{
  gchar *path = g_build_filename (dir, name, NULL);
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : write (fd, text, strlen (text));

  if (fd >= 0)
    close (fd);
  g_free (path);
  return n == (ssize_t) strlen (text) ? 0 : -1;
}

/* Enters a user namespace of its own (root: mapped by a helper outside,
 * with nobody for the worker; anyone else maps itself) in which no user
 * namespace may be created. */
static gboolean
enter_userns_without_userns (void)
{
  uid_t uid = geteuid ();
  gid_t gid = getegid ();
  int to_helper[2], status;
  gchar map[64];
  pid_t helper;

  fail_unless (pipe2 (to_helper, O_CLOEXEC) == 0);
  helper = fork ();
  fail_unless (helper >= 0);
  if (helper == 0) {
    gchar dir[64], c;

    close (to_helper[1]);
    if (read (to_helper[0], &c, 1) != 1 || uid != 0)
      _exit (0);
    g_snprintf (dir, sizeof dir, "/proc/%d", (int) getppid ());
    _exit (write_text (dir, "uid_map", "0 0 1\n65534 65534 1") < 0 ||
        write_text (dir, "gid_map", "0 0 1\n65534 65534 1") < 0);
  }
  close (to_helper[0]);
  fail_unless (unshare (CLONE_NEWUSER) == 0);
  if (uid != 0) {
    fail_unless (write_text ("/proc/self", "setgroups", "deny") == 0);
    g_snprintf (map, sizeof map, "0 %u 1", (unsigned) uid);
    fail_unless (write_text ("/proc/self", "uid_map", map) == 0);
    g_snprintf (map, sizeof map, "0 %u 1", (unsigned) gid);
    fail_unless (write_text ("/proc/self", "gid_map", map) == 0);
  }
  fail_unless (write (to_helper[1], "x", 1) == 1);
  close (to_helper[1]);
  fail_unless (waitpid (helper, &status, 0) == helper);
  fail_unless (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  return write_text ("/proc/sys/user", "max_user_namespaces", "0") == 0;
}

/* Where the jail cannot be built, starting fails closed and says which
 * layer and which setting, not an errno. */
GST_START_TEST (test_start_names_the_missing_setting)
{
  pid_t pid = check_fork ();

  if (pid == 0) {
    PxSandboxConfig config;
    GstPxWorker *worker;
    GError *error = NULL;

    if (!enter_userns_without_userns ()) {
      g_printerr ("SKIP: cannot limit user namespaces here\n");
      exit (EXIT_SUCCESS);
    }
    default_config (&config);
    worker = gst_px_worker_new ("identity", &config, NULL, NULL, NULL);
    fail_if (gst_px_worker_start (worker, START_TIMEOUT, &error));
    fail_unless (error != NULL);
    fail_unless (strstr (error->message, "user-namespace: ") != NULL &&
        strstr (error->message, "user.max_user_namespaces is 0") != NULL,
        "%s", error->message);
    g_error_free (error);
    gst_px_worker_free (worker);
    exit (EXIT_SUCCESS);
  }
  check_waitpid_and_exit (pid);
}

GST_END_TEST;

/* The error an element posts while failing READY is what the host sees. */
GST_START_TEST (test_ready_error_reaches_host)
{
  PxSandboxConfig config;
  GstPxWorker *worker;
  GError *error = NULL;
  Observed obs;

  default_config (&config);
  observed_init (&obs);
  worker = gst_px_worker_new ("hostile misdeed=fail-ready", &config, NULL,
      &callbacks, &obs);
  fail_if (gst_px_worker_start (worker, START_TIMEOUT, &error));
  fail_unless (error != NULL && strstr (error->message, "READY"), "%s",
      error ? error->message : "no error");
  g_mutex_lock (&obs.lock);
  fail_unless_equals_string (obs.error, "hostile cannot open its device");
  g_mutex_unlock (&obs.lock);
  g_clear_error (&error);
  gst_px_worker_free (worker);
  observed_clear (&obs);
}

GST_END_TEST;

static Suite *
worker_suite (void)
{
  Suite *s = suite_create ("worker");
  TCase *jail = tcase_create ("jail");
  TCase *elements = tcase_create ("elements");

  suite_add_tcase (s, jail);
  tcase_set_timeout (jail, 60);
  tcase_add_test (jail, test_layers_reported);
  tcase_add_test (jail, test_posture);
  tcase_add_test (jail, test_open_file_refused);
  tcase_add_test (jail, test_write_file_refused);
  tcase_add_test (jail, test_socket_kills);
  tcase_add_test (jail, test_exec_kills);
  tcase_add_test (jail, test_exec_with_signals_blocked_named);
  tcase_add_test (jail, test_forged_violation_not_believed);
  tcase_add_test (jail, test_false_ready_refused);
  tcase_add_test (jail, test_fork_kills);
  tcase_add_test (jail, test_ptrace_kills);
  tcase_add_test (jail, test_kill_parent_kills);
  tcase_add_test (jail, test_wx_mapping_refused);
  tcase_add_test (jail, test_exec_mapping_refused);
  tcase_add_test (jail, test_exec_mprotect_refused);
  tcase_add_test (jail, test_refusals_warned_once_per_syscall);
  tcase_add_test (jail, test_regex_optimize_matches);
  tcase_add_test (jail, test_wx_flood_kills);
  tcase_add_test (jail, test_write_input_refused);
  tcase_add_test (jail, test_threads_limited);
  tcase_add_test (jail, test_memory_limited);
  tcase_add_test (jail, test_memfd_memory_limited);
  tcase_add_test (jail, test_arena_over_budget_refused);
  tcase_add_test (jail, test_spinning_worker_is_contained);
  tcase_add_test (jail, test_with_filesystem_plants_nothing);
  tcase_add_test (jail, test_stderr_is_the_workers_own);
  tcase_add_test (jail, test_with_network_reaches_no_abstract_socket);
  tcase_add_test (jail, test_closed_control_is_noticed);
  tcase_add_test (jail, test_abort_is_reported);
  tcase_add_test (jail, test_fd_limit_is_small);
  tcase_add_test (jail, test_received_arena_cannot_be_sealed);
  tcase_add_test (jail, test_ready_error_reaches_host);
  tcase_add_test (jail, test_start_names_the_missing_setting);

  suite_add_tcase (s, elements);
  tcase_set_timeout (elements, 60);
  tcase_add_test (elements, test_videoconvert_bit_exact);
  tcase_add_test (elements, test_videoscale_bit_exact);
  tcase_add_test (elements, test_audioconvert_bit_exact);
  tcase_add_test (elements, test_audioresample_bit_exact);
  tcase_add_test (elements, test_jpeg_bit_exact);
  tcase_add_test (elements, test_pngdec_bit_exact);
  tcase_add_test (elements, test_vp8_bit_exact);
  tcase_add_test (elements, test_avdec_h264_bit_exact);
  tcase_add_test (elements, test_orc_fallback_without_orc_code);
  tcase_add_test (elements, test_orc_jit_refused);
  return s;
}

GST_CHECK_MAIN (worker);
