/* Parallax — ipcsink and ipcsrc against peers that attack the host.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The element under attack runs in this process; the attacker is
 * ipc-hostile-peer. Each test checks that the element survives, says what
 * happened on the bus, keeps serving honest peers, and that what the
 * attacker sent leaves no lasting cost in this process (memory, fds).
 */
#include <gst/check/gstcheck.h>

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "px-test-util.h"

/* How long a test waits for something that should happen at once. */
#define WAIT_MS 5000

/* ---- processes and files ----------------------------------------------- */

static gchar *dir;
static GArray *children;        /* GPid */

static gchar *
test_path (const gchar * name)
{
  if (dir == NULL) {
    GError *error = NULL;

    dir = g_dir_make_tmp ("parallax-hostile-XXXXXX", &error);
    fail_unless (dir != NULL, "%s", error ? error->message : "");
  }
  return g_build_filename (dir, name, NULL);
}

/* Starts @argv with its output in the test directory's @log; with
 * @stdout_pipe its stdout is a pipe returned there. */
static GPid
spawn (gchar ** argv, const gchar * log_name, int *stdout_pipe)
{
  gchar *log = test_path (log_name);
  int log_fd = open (log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int pipe_fds[2] = { -1, -1 };
  pid_t pid;

  fail_unless (log_fd >= 0);
  if (stdout_pipe)
    fail_unless (pipe2 (pipe_fds, O_CLOEXEC) == 0);
  pid = fork ();
  fail_unless (pid >= 0);
  if (pid == 0) {
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    dup2 (stdout_pipe ? pipe_fds[1] : log_fd, 1);
    dup2 (log_fd, 2);
    close_range (3, ~0u, 0);
    execvp (argv[0], argv);
    _exit (127);
  }
  close (log_fd);
  if (stdout_pipe) {
    close (pipe_fds[1]);
    *stdout_pipe = pipe_fds[0];
  }
  if (children == NULL)
    children = g_array_new (FALSE, FALSE, sizeof (GPid));
  g_array_append_val (children, pid);
  g_free (log);
  return pid;
}

/* The exit status of @pid, 128 + signal, or -1 (then killed) if it still
 * runs after @timeout_ms. */
static int
wait_child (GPid pid, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  int status;

  for (;;) {
    if (waitpid (pid, &status, WNOHANG) == pid) {
      for (guint i = 0; i < children->len; i++) {
        if (g_array_index (children, GPid, i) == pid)
          g_array_index (children, GPid, i) = 0;
      }
      return WIFEXITED (status) ? WEXITSTATUS (status) :
          128 + WTERMSIG (status);
    }
    if (g_get_monotonic_time () > deadline) {
      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
      return -1;
    }
    g_usleep (5 * 1000);
  }
}

/* Ends what the test started and removes its directory. */
static void
cleanup (void)
{
  GDir *d;
  const gchar *name;

  for (guint i = 0; children && i < children->len; i++) {
    GPid pid = g_array_index (children, GPid, i);

    if (pid > 0) {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
    }
  }
  g_clear_pointer (&children, g_array_unref);
  if (dir == NULL)
    return;
  d = g_dir_open (dir, 0, NULL);
  while (d && (name = g_dir_read_name (d)) != NULL) {
    gchar *file = g_build_filename (dir, name, NULL);

    g_unlink (file);
    g_free (file);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
  g_clear_pointer (&dir, g_free);
}

/* ipc-hostile-peer ROLE PATH FAULT; a producer is waited for until it
 * listens. */
static GPid
spawn_hostile (const gchar * role, const gchar * path, const gchar * fault)
{
  const gchar *program = g_getenv ("PX_IPC_HOSTILE_PEER");
  gchar *argv[] = { (gchar *) program, (gchar *) role, (gchar *) path,
    (gchar *) fault, NULL
  };
  gboolean producer = g_str_equal (role, "producer");
  int out = -1;
  GPid pid;

  fail_unless (program != NULL, "PX_IPC_HOSTILE_PEER not set");
  pid = spawn (argv, "hostile.log", producer ? &out : NULL);
  if (producer) {
    char ready[8] = { 0 };
    struct pollfd pfd = {.fd = out,.events = POLLIN };

    fail_unless (poll (&pfd, 1, WAIT_MS) == 1);
    fail_unless (read (out, ready, sizeof ready - 1) > 0);
    fail_unless (g_str_has_prefix (ready, "ready"));
    close (out);
  }
  return pid;
}

/* gst-launch-1.0 with @description split on spaces. */
static GPid
spawn_launch (const gchar * log_name, const gchar * description)
{
  gchar **words = g_strsplit (description, " ", -1);
  GStrvBuilder *builder = g_strv_builder_new ();
  gchar **argv;
  GPid pid;

  g_strv_builder_add (builder, "gst-launch-1.0");
  g_strv_builder_addv (builder, (const gchar **) words);
  argv = g_strv_builder_end (builder);
  pid = spawn (argv, log_name, NULL);
  g_strfreev (argv);
  g_strv_builder_unref (builder);
  g_strfreev (words);
  return pid;
}

/* ---- pipelines in this process ----------------------------------------- */

static GstElement *
pipeline_newf (const gchar * format, ...)
G_GNUC_PRINTF (1, 2);

     static GstElement *pipeline_newf (const gchar * format, ...)
{
  GError *error = NULL;
  va_list args;
  gchar *description;
  GstElement *pipeline;

  va_start (args, format);
  description = g_strdup_vprintf (format, args);
  va_end (args);
  pipeline = gst_parse_launch (description, &error);
  fail_unless (pipeline != NULL, "%s: %s", description,
      error ? error->message : "");
  g_clear_error (&error);
  g_free (description);
  return pipeline;
}

static void
stop (GstElement * pipeline)
{
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
}

static gchar *
message_text (GstMessage * msg)
{
  GError *error = NULL;
  gchar *debug = NULL, *text;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    gst_message_parse_error (msg, &error, &debug);
  else
    gst_message_parse_warning (msg, &error, &debug);
  text = g_strdup_printf ("%s (%s)", error->message, debug ? debug : "");
  g_clear_error (&error);
  g_free (debug);
  return text;
}

/* The text of the next message of @type from an element made by
 * @factory, or NULL after @timeout_ms. */
static gchar *
wait_message_from (GstElement * pipeline, GstMessageType type,
    const gchar * factory, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  for (;;) {
    gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
    GstMessage *msg;
    gchar *text = NULL;

    if (left <= 0)
      return NULL;
    msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
        left * GST_MSECOND, type);
    if (msg == NULL)
      return NULL;
    if (GST_IS_ELEMENT (GST_MESSAGE_SRC (msg)) &&
        g_str_equal (GST_OBJECT_NAME (gst_element_get_factory (GST_ELEMENT
                    (GST_MESSAGE_SRC (msg)))), factory))
      text = message_text (msg);
    gst_message_unref (msg);
    if (text != NULL)
      return text;
  }
}

static GstElement *
by_name (GstElement * pipeline, const gchar * name)
{
  GstElement *element = gst_bin_get_by_name (GST_BIN (pipeline), name);

  fail_unless (element != NULL, "no element %s", name);
  gst_object_unref (element);   /* the pipeline keeps it */
  return element;
}

static guint64
buffers_sent (GstElement * sink)
{
  guint64 value;

  g_object_get (sink, "buffers-sent", &value, NULL);
  return value;
}

static gboolean
wait_clients (GstElement * sink, guint n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  guint clients;

  for (;;) {
    g_object_get (sink, "clients", &clients, NULL);
    if (clients == n)
      return TRUE;
    if (g_get_monotonic_time () > deadline)
      return FALSE;
    g_usleep (10 * 1000);
  }
}

static gboolean
wait_sent (GstElement * sink, guint64 n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (buffers_sent (sink) < n) {
    if (g_get_monotonic_time () > deadline)
      return FALSE;
    g_usleep (10 * 1000);
  }
  return TRUE;
}

/* Whether a socket listens at @path, as /proc/net/unix lists it (flag
 * __SO_ACCEPTCON = 0x10000 in the fourth column, path in the eighth). */
static gboolean
is_listening (const gchar * path)
{
  gchar *contents = NULL;
  gchar **lines;
  gboolean found = FALSE;

  if (!g_file_get_contents ("/proc/net/unix", &contents, NULL, NULL))
    return FALSE;
  lines = g_strsplit (contents, "\n", -1);
  for (gchar ** l = lines; *l && !found; l++) {
    gchar **words = g_strsplit_set (g_strstrip (*l), " ", -1);
    GPtrArray *w = g_ptr_array_new ();

    for (gchar ** p = words; *p; p++) {
      if (**p)
        g_ptr_array_add (w, *p);
    }
    found = w->len >= 8 &&
        (g_ascii_strtoull (g_ptr_array_index (w, 3), NULL, 16) & 0x10000) &&
        g_str_equal (g_ptr_array_index (w, 7), path);
    g_ptr_array_unref (w);
    g_strfreev (words);
  }
  g_strfreev (lines);
  g_free (contents);
  return found;
}

/* Waits until a socket listens at @path. */
static void
wait_socket (const gchar * path)
{
  gint64 deadline = g_get_monotonic_time () + 2 * WAIT_MS * 1000;

  while (!is_listening (path)) {
    fail_unless (g_get_monotonic_time () < deadline, "nobody listens at %s",
        path);
    g_usleep (10 * 1000);
  }
}

/* Waits until this process has @n fds open: a connection's last
 * reference may be dropped by a query thread just after the element
 * stopped. */
static gboolean
wait_fds (int n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (px_test_count_fds () != n) {
    if (g_get_monotonic_time () > deadline)
      return FALSE;
    g_usleep (10 * 1000);
  }
  return TRUE;
}

/* A live ipcsink on @path, with one honest gst-launch-1.0 client. */
static GstElement *
start_sink_with_client (const gchar * path)
{
  GstElement *pipeline = pipeline_newf ("videotestsrc is-live=true ! "
      "video/x-raw,width=32,height=32,framerate=50/1 ! ipcsink name=sink "
      "socket-path=%s", path);
  gchar *good = g_strdup_printf ("ipcsrc socket-path=%s ! fakesink", path);

  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  wait_socket (path);
  spawn_launch ("good.log", good);
  fail_unless (wait_clients (by_name (pipeline, "sink"), 1, WAIT_MS));
  g_free (good);
  return pipeline;
}

/* The honest client still gets buffers. */
static void
check_client_served (GstElement * pipeline)
{
  GstElement *sink = by_name (pipeline, "sink");
  guint64 sent;

  fail_unless (wait_clients (sink, 1, WAIT_MS));
  sent = buffers_sent (sink);
  fail_unless (wait_sent (sink, sent + 10, WAIT_MS));
}

/* ---- deep bodies ------------------------------------------------------- */

/* A client that has not even said HELLO sends a QUERY nesting 30,000
 * arrays: ipcsink drops it with a warning and goes on. */
GST_START_TEST (test_deep_query_to_ipcsink_before_hello)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline = start_sink_with_client (path);
  GPid hostile = spawn_hostile ("consumer", path, "deep-query-before-hello");
  gchar *warning = wait_message_from (pipeline, GST_MESSAGE_WARNING,
      "ipcsink", WAIT_MS);

  fail_unless (warning != NULL, "no warning");
  fail_unless (strstr (warning, "nested deeper") != NULL, "'%s'", warning);
  fail_unless_equals_int (wait_child (hostile, WAIT_MS), 0);
  check_client_served (pipeline);
  fail_unless (gst_bus_pop_filtered (GST_ELEMENT_BUS (pipeline),
          GST_MESSAGE_ERROR) == NULL);
  stop (pipeline);
  gst_object_unref (pipeline);
  g_free (warning);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* A fake producer sends the deep body as an EVENT, then as a QUERY: ipcsrc
 * posts an error naming it, and serves an honest producer next. */
static const gchar *const deep_producer_faults[] = { "deep-event",
  "deep-query"
};

GST_START_TEST (test_deep_body_to_ipcsrc)
{
  const gchar *fault = deep_producer_faults[__i__];
  gchar *path = test_path ("sock");
  GstElement *pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink",
      path);
  int fds = px_test_count_fds ();
  GPid hostile = spawn_hostile ("producer", path, fault);
  gchar *error, *honest;
  GstMessage *msg;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  error = wait_message_from (pipeline, GST_MESSAGE_ERROR, "ipcsrc", WAIT_MS);
  fail_unless (error != NULL, "%s: no error", fault);
  fail_unless (strstr (error, "nested deeper") != NULL, "%s: '%s'", fault,
      error);
  stop (pipeline);
  fail_unless_equals_int (wait_child (hostile, WAIT_MS), 0);
  fail_unless (wait_fds (fds), "%d fds open, %d before",
      px_test_count_fds (), fds);

  /* The same element, an honest producer: the whole stream arrives. */
  honest = g_strdup_printf ("videotestsrc num-buffers=20 ! "
      "video/x-raw,width=32,height=32 ! ipcsink socket-path=%s "
      "wait-for-connection=true", path);
  spawn_launch ("honest.log", honest);
  wait_socket (path);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
      3 * WAIT_MS * GST_MSECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no EOS from the honest producer");
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gchar *text = message_text (msg);

    fail ("honest producer: %s", text);
    g_free (text);
  }
  gst_message_unref (msg);
  stop (pipeline);

  gst_object_unref (pipeline);
  g_free (honest);
  g_free (error);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* ---- names ------------------------------------------------------------- */

static gsize
vm_rss_kb (void)
{
  gchar *status = NULL;
  const gchar *line;
  gsize kb = 0;

  fail_unless (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  fail_unless (line != NULL);
  fail_unless (sscanf (line, "VmRSS: %" G_GSIZE_FORMAT, &kb) == 1);
  g_free (status);
  return kb;
}

/* Unbounded, names cost ipcsink about 1 GB per 1,000 messages. Under
 * AddressSanitizer every allocation, freed ones in quarantine included,
 * carries redzones and shadow, so the bound there is looser (9-30 MB of
 * growth measured, 1.5 MB without it). */
#if defined(__SANITIZE_ADDRESS__)
#define SINK_RSS_GROWTH_BOUND_KB (64 * 1024)
#else
#define SINK_RSS_GROWTH_BOUND_KB (20 * 1024)
#endif

/* Clients keep coming with queries made of 100-byte names never seen
 * before, 100,000 of them in all: ipcsink's memory stays within a fixed
 * bound, and the honest client is served throughout. */
GST_START_TEST (test_distinct_names_keep_ipcsink_rss_bounded)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline = start_sink_with_client (path);
  GstBus *bus = GST_ELEMENT_BUS (pipeline);
  gsize before, after;
  GPid hostile;
  int status = -1;

  check_client_served (pipeline);
  before = vm_rss_kb ();
  hostile = spawn_hostile ("consumer", path, "many-names");
  /* Each dropped client posts a warning; the bus must not hold them all. */
  for (gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
      g_get_monotonic_time () < deadline;) {
    GstMessage *msg;

    while ((msg = gst_bus_pop (bus)) != NULL)
      gst_message_unref (msg);
    if (waitpid (hostile, &status, WNOHANG) == hostile)
      break;
    g_usleep (20 * 1000);
  }
  after = vm_rss_kb ();
  fail_unless (WIFEXITED (status) && WEXITSTATUS (status) == 0,
      "the peer did not finish (status %d)", status);
  g_array_index (children, GPid, children->len - 1) = 0;
  GST_INFO ("VmRSS %" G_GSIZE_FORMAT " kB before, %" G_GSIZE_FORMAT
      " kB after", before, after);
  g_printerr ("ipcsink VmRSS: %" G_GSIZE_FORMAT " kB before, %"
      G_GSIZE_FORMAT " kB after 100000 distinct names\n", before, after);
  fail_unless (after < before + SINK_RSS_GROWTH_BOUND_KB, "VmRSS grew from %"
      G_GSIZE_FORMAT " kB to %" G_GSIZE_FORMAT " kB", before, after);
  check_client_served (pipeline);
  stop (pipeline);
  gst_object_unref (pipeline);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* ---- arenas ------------------------------------------------------------ */

static guint64
vm_size_kb (void)
{
  gchar *status = NULL;
  const gchar *line;
  guint64 kb = 0;

  fail_unless (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmSize:");
  fail_unless (line != NULL);
  fail_unless (sscanf (line, "VmSize: %" G_GUINT64_FORMAT, &kb) == 1);
  g_free (status);
  return kb;
}

typedef struct
{
  const gchar *fault;
  const gchar *expected;        /* in ipcsrc's error */
} ArenaFault;

/* A fake producer maps address space into ipcsrc: 62 sealed sparse memfds
 * of a TiB each (the attack run reached 66 TB of VmSize), arenas within
 * the announced size but beyond the announced total, a HELLO that asks
 * for more than this consumer accepts. */
static const ArenaFault arena_faults[] = {
  {"huge-arenas", "the producer announced arenas of up to 16384 bytes"},
  {"arenas-beyond-total", "32768 in all (32768 in use)"},
  {"greedy-hello", "this consumer accepts"},
};

GST_START_TEST (test_arenas_bounded_by_hello)
{
  const ArenaFault *fault = &arena_faults[__i__];
  gchar *path = test_path ("sock");
  GstElement *pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink",
      path);
  int fds = px_test_count_fds ();
  guint64 before = vm_size_kb (), during;
  GPid hostile = spawn_hostile ("producer", path, fault->fault);
  gchar *error;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  error = wait_message_from (pipeline, GST_MESSAGE_ERROR, "ipcsrc", WAIT_MS);
  during = vm_size_kb ();
  g_printerr ("ipcsrc VmSize, %s: %" G_GUINT64_FORMAT " kB before, %"
      G_GUINT64_FORMAT " kB after\n", fault->fault, before, during);
  fail_unless (error != NULL, "%s: no error", fault->fault);
  fail_unless (strstr (error, fault->expected) != NULL, "%s: '%s'",
      fault->fault, error);
  /* Threads and their stacks, not a TiB: under 1 GiB more. */
  fail_unless (during < before + 1024 * 1024, "%s: VmSize %" G_GUINT64_FORMAT
      " kB -> %" G_GUINT64_FORMAT " kB", fault->fault, before, during);
  stop (pipeline);
  fail_unless_equals_int (wait_child (hostile, WAIT_MS), 0);
  fail_unless (wait_fds (fds), "%d fds open, %d before",
      px_test_count_fds (), fds);
  gst_object_unref (pipeline);
  g_free (error);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

static Suite *
ipc_hostile_suite (void)
{
  Suite *s = suite_create ("ipc_hostile");
  TCase *text = tcase_create ("text");
  TCase *arenas = tcase_create ("arenas");

  suite_add_tcase (s, text);
  tcase_set_timeout (text, 180);
  tcase_add_test (text, test_deep_query_to_ipcsink_before_hello);
  tcase_add_loop_test (text, test_deep_body_to_ipcsrc, 0,
      G_N_ELEMENTS (deep_producer_faults));
  tcase_add_test (text, test_distinct_names_keep_ipcsink_rss_bounded);

  suite_add_tcase (s, arenas);
  tcase_add_loop_test (arenas, test_arenas_bounded_by_hello, 0,
      G_N_ELEMENTS (arena_faults));
  return s;
}

GST_CHECK_MAIN (ipc_hostile);
