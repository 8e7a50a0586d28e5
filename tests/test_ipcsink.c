/* Parallax — ipcsink on its own: what it sends, who it lets in, what it
 * costs and what it says.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The sink runs in this process, so that its bus, its properties, its fds
 * and its threads can be checked. Its clients are, as each test needs:
 *   - raw connections made here with the wire protocol of common/ (a
 *     client that never says HELLO, or says it and then nothing);
 *   - ipcsrc in a pipeline of this process;
 *   - gst-launch-1.0 in another process, which can be frozen (SIGSTOP).
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "px-test-util.h"
#include "px-unix.h"
#include "px-wire.h"

/* How long a test waits for something that should happen at once. */
#define WAIT_MS 5000

/* ---- files and processes ----------------------------------------------- */

static gchar *dir;
static GArray *children;        /* GPid */

static gchar *
test_path (const gchar * name)
{
  if (dir == NULL) {
    GError *error = NULL;

    dir = g_dir_make_tmp ("parallax-ipcsink-XXXXXX", &error);
    fail_unless (dir != NULL, "%s", error ? error->message : "");
  }
  return g_build_filename (dir, name, NULL);
}

/* gst-launch-1.0 @description (split on spaces), output in @log_name. */
static GPid
spawn_launch (const gchar * log_name, const gchar * description)
{
  gchar *log = test_path (log_name);
  gchar **words = g_strsplit (description, " ", -1);
  GStrvBuilder *builder = g_strv_builder_new ();
  gchar **argv;
  int log_fd = open (log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_t pid;

  fail_unless (log_fd >= 0);
  g_strv_builder_add (builder, "gst-launch-1.0");
  g_strv_builder_addv (builder, (const gchar **) words);
  argv = g_strv_builder_end (builder);
  pid = fork ();
  fail_unless (pid >= 0);
  if (pid == 0) {
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    dup2 (log_fd, 1);
    dup2 (log_fd, 2);
    close_range (3, ~0u, 0);
    execvp (argv[0], argv);
    _exit (127);
  }
  close (log_fd);
  if (children == NULL)
    children = g_array_new (FALSE, FALSE, sizeof (GPid));
  g_array_append_val (children, pid);
  g_strfreev (argv);
  g_strv_builder_unref (builder);
  g_strfreev (words);
  g_free (log);
  return pid;
}

static void
remove_tree (const gchar * path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d)) != NULL) {
    gchar *child = g_build_filename (path, name, NULL);

    if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
        !g_file_test (child, G_FILE_TEST_IS_SYMLINK)) {
      g_chmod (child, 0700);
      remove_tree (child);
    } else {
      g_unlink (child);
    }
    g_free (child);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (path);
}

/* Ends what the test started and removes its directory. */
static void
cleanup (void)
{
  for (guint i = 0; children && i < children->len; i++) {
    GPid pid = g_array_index (children, GPid, i);

    if (pid > 0) {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
    }
  }
  g_clear_pointer (&children, g_array_unref);
  if (dir != NULL)
    remove_tree (dir);
  g_clear_pointer (&dir, g_free);
}

/* Threads of this process. */
static int
count_threads (void)
{
  GDir *d = g_dir_open ("/proc/self/task", 0, NULL);
  int n = 0;

  fail_unless (d != NULL);
  while (g_dir_read_name (d) != NULL)
    n++;
  g_dir_close (d);
  return n;
}

/* Polls until this process has at most @fds fds and @threads threads. */
static gboolean
wait_resources_at_most (int fds, int threads)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (px_test_count_fds () > fds || count_threads () > threads) {
    if (g_get_monotonic_time () > deadline)
      return FALSE;
    g_usleep (5 * 1000);
  }
  return TRUE;
}

/* ---- pipelines --------------------------------------------------------- */

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
  fail_unless (pipeline != NULL && error == NULL, "%s: %s", description,
      error ? error->message : "");
  g_clear_error (&error);
  g_free (description);
  return pipeline;
}

static GstElement *
by_name (GstElement * pipeline, const gchar * name)
{
  GstElement *element = gst_bin_get_by_name (GST_BIN (pipeline), name);

  fail_unless (element != NULL, "no element %s", name);
  gst_object_unref (element);   /* the pipeline keeps it */
  return element;
}

static void
stop (GstElement * pipeline)
{
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
}

/* A pipeline that is only an ipcsink listening on @path ("" for no
 * properties beyond the path), started. */
static GstElement *
listening_sink (const gchar * path, const gchar * properties)
{
  GstElement *pipeline = pipeline_newf ("fakesrc is-live=true ! ipcsink "
      "name=sink socket-path=%s %s", path, properties);

  fail_if (gst_element_set_state (pipeline, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE);
  return pipeline;
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

/* The next message of @type from the element named @name, or NULL after
 * @timeout_ms. */
static GstMessage *
wait_message_from (GstElement * pipeline, GstMessageType type,
    const gchar * name, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  for (;;) {
    gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
    GstMessage *msg;

    if (left <= 0)
      return NULL;
    msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
        left * GST_MSECOND, type);
    if (msg == NULL)
      return NULL;
    if (g_str_equal (GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), name))
      return msg;
    gst_message_unref (msg);
  }
}

static gchar *
wait_text_from (GstElement * pipeline, GstMessageType type,
    const gchar * name, guint timeout_ms)
{
  GstMessage *msg = wait_message_from (pipeline, type, name, timeout_ms);
  gchar *text;

  if (msg == NULL)
    return NULL;
  text = message_text (msg);
  gst_message_unref (msg);
  return text;
}

/* Waits for EOS and fails on an error first. */
static void
wait_eos (GstElement * pipeline, guint timeout_ms)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
      timeout_ms * GST_MSECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gchar *text;

  fail_unless (msg != NULL, "no EOS within %u ms", timeout_ms);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    text = message_text (msg);
    fail ("%s", text);
    g_free (text);
  }
  gst_message_unref (msg);
}

static guint
clients (GstElement * sink)
{
  guint n;

  g_object_get (sink, "clients", &n, NULL);
  return n;
}

static gboolean
wait_clients (GstElement * sink, guint n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (clients (sink) != n) {
    if (g_get_monotonic_time () > deadline)
      return FALSE;
    g_usleep (5 * 1000);
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

static void
wait_listening (const gchar * path)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (!is_listening (path)) {
    fail_unless (g_get_monotonic_time () < deadline, "nobody listens at %s",
        path);
    g_usleep (5 * 1000);
  }
}

/* ---- raw clients ------------------------------------------------------- */

static int
connect_raw (const gchar * path)
{
  int fd = px_unix_connect (path);

  fail_unless (fd >= 0, "connect %s: %s", path, g_strerror (-fd));
  return fd;
}

/* Waits until @fd has something to read or its peer went: TRUE then. */
static gboolean
wait_readable (int fd, guint timeout_ms)
{
  struct pollfd pfd = {.fd = fd,.events = POLLIN };

  return poll (&pfd, 1, timeout_ms) == 1;
}

/* Reads what the sink sends on @fd until it closes the connection: TRUE
 * if it did within @timeout_ms. */
static gboolean
wait_closed_by_sink (int fd, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  PxWireMessage *msg = g_new0 (PxWireMessage, 1);
  gboolean closed = FALSE;

  while (!closed) {
    gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
    ssize_t ret;

    if (left <= 0 || !wait_readable (fd, (guint) left))
      break;
    ret = px_wire_recv (fd, msg, MSG_DONTWAIT);
    if (ret >= 0)
      px_wire_message_clear (msg);
    closed = ret == -ECONNRESET || ret == -EPIPE;
  }
  g_free (msg);
  return closed;
}

/* An honest consumer, as far as the handshake goes: reads the sink's
 * HELLO, answers with its own. */
static int
connect_and_greet (const gchar * path)
{
  int fd = connect_raw (path);
  PxWireMessage *msg = g_new0 (PxWireMessage, 1);
  PxWireHello hello = {.role = PX_WIRE_ROLE_CONSUMER,
    .max_arena_size = PX_WIRE_DEFAULT_ARENA_SIZE,
    .max_arena_total = PX_WIRE_DEFAULT_ARENA_TOTAL
  };

  fail_unless (wait_readable (fd, WAIT_MS), "no HELLO from the sink");
  fail_unless (px_wire_recv (fd, msg, MSG_DONTWAIT) >= 0);
  fail_unless_equals_int (msg->header.type, PX_WIRE_HELLO);
  px_wire_message_clear (msg);
  fail_unless_equals_int (px_wire_send_hello (fd, &hello), 0);
  g_free (msg);
  return fd;
}

/* ---- tests: what travels ----------------------------------------------- */

typedef struct
{
  GMutex lock;
  GArray *buffers;              /* of Seen */
} Recorder;

typedef struct
{
  gsize size;
  GstClockTime pts, dts, duration;
  guint64 offset, offset_end;
  GstBufferFlags flags;
} Seen;

static void
record_buffer (GstElement * fakesink, GstBuffer * buffer, GstPad * pad,
    gpointer user_data)
{
  Recorder *rec = user_data;
  Seen seen = {
    .size = gst_buffer_get_size (buffer),.pts = GST_BUFFER_PTS (buffer),
    .dts = GST_BUFFER_DTS (buffer),.duration = GST_BUFFER_DURATION (buffer),
    .offset = GST_BUFFER_OFFSET (buffer),
    .offset_end = GST_BUFFER_OFFSET_END (buffer),
    .flags = GST_BUFFER_FLAGS (buffer),
  };

  g_mutex_lock (&rec->lock);
  g_array_append_val (rec->buffers, seen);
  g_mutex_unlock (&rec->lock);
}

#define EMPTY_FLAGS (GST_BUFFER_FLAG_DELTA_UNIT | GST_BUFFER_FLAG_MARKER | \
    GST_BUFFER_FLAG_HEADER)

/* A 0-byte buffer (the protocol allows size 0) travels like any other,
 * with its timestamps and flags, and the stream goes on after it. */
GST_START_TEST (test_empty_buffer_reaches_the_consumer)
{
  gchar *path = test_path ("sock");
  GstElement *sink = gst_element_factory_make ("ipcsink", NULL);
  GstHarness *h;
  Recorder rec = {.buffers = g_array_new (FALSE, FALSE, sizeof (Seen)) };
  GstElement *consumer;
  GstBuffer *empty = gst_buffer_new (), *full;
  Seen *seen;

  g_mutex_init (&rec.lock);
  g_object_set (sink, "socket-path", path, NULL);
  /* The harness starts it. */
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_harness_set_src_caps_str (h, "application/x-parallax-test");
  consumer = pipeline_newf ("ipcsrc socket-path=%s is-live=false ! "
      "fakesink name=out signal-handoffs=true", path);
  g_signal_connect (by_name (consumer, "out"), "handoff",
      G_CALLBACK (record_buffer), &rec);
  fail_if (gst_element_set_state (consumer, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  fail_unless (wait_clients (h->element, 1, WAIT_MS));

  GST_BUFFER_PTS (empty) = 1 * GST_SECOND;
  GST_BUFFER_DTS (empty) = 900 * GST_MSECOND;
  GST_BUFFER_DURATION (empty) = 40 * GST_MSECOND;
  GST_BUFFER_OFFSET (empty) = 7;
  GST_BUFFER_OFFSET_END (empty) = 8;
  GST_BUFFER_FLAG_SET (empty, EMPTY_FLAGS);
  fail_unless_equals_int (gst_harness_push (h, empty), GST_FLOW_OK);
  full = gst_buffer_new_memdup ("data", 4);
  GST_BUFFER_PTS (full) = 2 * GST_SECOND;
  fail_unless_equals_int (gst_harness_push (h, full), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  wait_eos (consumer, WAIT_MS);

  fail_unless_equals_int (rec.buffers->len, 2);
  seen = &g_array_index (rec.buffers, Seen, 0);
  fail_unless_equals_uint64 (seen->size, 0);
  fail_unless_equals_uint64 (seen->pts, 1 * GST_SECOND);
  fail_unless_equals_uint64 (seen->dts, 900 * GST_MSECOND);
  fail_unless_equals_uint64 (seen->duration, 40 * GST_MSECOND);
  fail_unless_equals_uint64 (seen->offset, 7);
  fail_unless_equals_uint64 (seen->offset_end, 8);
  fail_unless_equals_int (seen->flags & EMPTY_FLAGS, EMPTY_FLAGS);
  seen = &g_array_index (rec.buffers, Seen, 1);
  fail_unless_equals_uint64 (seen->size, 4);
  fail_unless_equals_uint64 (seen->pts, 2 * GST_SECOND);

  stop (consumer);
  gst_object_unref (consumer);
  gst_harness_teardown (h);
  gst_object_unref (sink);
  g_array_unref (rec.buffers);
  g_mutex_clear (&rec.lock);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* ---- tests: connections ------------------------------------------------ */

#define IDLE_CONNECTIONS 300
#define DEFAULT_MAX_HANDSHAKES 16

/* 300 connections that never say HELLO: what the sink holds for them
 * stays within max-handshakes (each waiting one costs it a thread and two
 * fds), and an honest client still gets in. */
GST_START_TEST (test_idle_connections_cost_bounded_fds_and_threads)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline = listening_sink (path, "");
  GstElement *sink = by_name (pipeline, "sink");
  int idle[IDLE_CONNECTIONS];
  int fds, threads, honest, sink_fds, sink_threads;

  wait_listening (path);
  fds = px_test_count_fds ();
  threads = count_threads ();
  for (guint i = 0; i < IDLE_CONNECTIONS; i++)
    idle[i] = connect_raw (path);
  /* Each one was accepted once the sink greeted it or closed it. */
  for (guint i = 0; i < IDLE_CONNECTIONS; i++)
    fail_unless (wait_readable (idle[i], WAIT_MS), "connection %u", i);
  sink_fds = px_test_count_fds () - fds - IDLE_CONNECTIONS;
  sink_threads = count_threads () - threads;
  GST_INFO ("%d idle connections: the sink holds %d fds, %d threads",
      IDLE_CONNECTIONS, sink_fds, sink_threads);
  fail_unless (sink_fds <= 2 * DEFAULT_MAX_HANDSHAKES + 2, "%d fds", sink_fds);
  fail_unless (sink_threads <= DEFAULT_MAX_HANDSHAKES + 2, "%d threads",
      sink_threads);

  honest = connect_and_greet (path);
  fail_unless (wait_clients (sink, 1, WAIT_MS));
  close (honest);
  for (guint i = 0; i < IDLE_CONNECTIONS; i++)
    close (idle[i]);
  fail_unless (wait_resources_at_most (fds, threads), "%d fds (%d before), "
      "%d threads (%d before)", px_test_count_fds (), fds, count_threads (),
      threads);
  stop (pipeline);
  gst_object_unref (pipeline);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* With max-handshakes connections waiting for HELLO, a new one pushes
 * out the one that waited longest: idle connections cannot keep honest
 * clients out. */
GST_START_TEST (test_oldest_handshake_gives_way)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline = listening_sink (path, "max-handshakes=4");
  GstElement *sink = by_name (pipeline, "sink");
  int idle[4], honest;

  wait_listening (path);
  for (guint i = 0; i < G_N_ELEMENTS (idle); i++) {
    idle[i] = connect_raw (path);
    /* Greeted: accepted, in this order. */
    fail_unless (wait_readable (idle[i], WAIT_MS));
  }
  honest = connect_and_greet (path);
  fail_unless (wait_clients (sink, 1, WAIT_MS));
  fail_unless (wait_closed_by_sink (idle[0], WAIT_MS));
  close (honest);
  for (guint i = 0; i < G_N_ELEMENTS (idle); i++)
    close (idle[i]);
  stop (pipeline);
  gst_object_unref (pipeline);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* A connection that says nothing is closed after handshake-timeout, and
 * what it held goes with it. */
GST_START_TEST (test_silent_connection_closed_after_handshake_timeout)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline = listening_sink (path, "handshake-timeout=100000000");
  int fds, threads, fd;

  wait_listening (path);
  fds = px_test_count_fds ();
  threads = count_threads ();
  fd = connect_raw (path);
  fail_unless (wait_closed_by_sink (fd, WAIT_MS));
  close (fd);
  fail_unless (wait_resources_at_most (fds, threads), "%d fds (%d before), "
      "%d threads (%d before)", px_test_count_fds (), fds, count_threads (),
      threads);
  stop (pipeline);
  gst_object_unref (pipeline);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* A client that leaves, before or after its HELLO, takes its thread and
 * fds with it at once, not at the next connection. */
GST_START_TEST (test_closed_client_released_at_once)
{
  gboolean greet = __i__ == 1;
  gchar *path = test_path ("sock");
  GstElement *pipeline = listening_sink (path, "");
  GstElement *sink = by_name (pipeline, "sink");
  int fds, threads, fd;

  wait_listening (path);
  fds = px_test_count_fds ();
  threads = count_threads ();
  if (greet) {
    fd = connect_and_greet (path);
    fail_unless (wait_clients (sink, 1, WAIT_MS));
  } else {
    fd = connect_raw (path);
    fail_unless (wait_readable (fd, WAIT_MS));
  }
  fail_unless (px_test_count_fds () > fds);
  close (fd);
  fail_unless (wait_resources_at_most (fds, threads), "%s: %d fds (%d "
      "before), %d threads (%d before)", greet ? "after HELLO" :
      "before HELLO", px_test_count_fds (), fds, count_threads (), threads);
  fail_unless_equals_int (clients (sink), 0);
  stop (pipeline);
  gst_object_unref (pipeline);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* A client that leaves as the sink stops: whichever releases it, the sink
 * or the client's own reader, its fds are closed once the sink is in
 * NULL. A reader that released its own client closes them as it ends, a
 * moment after: stop() waits for that. A race, which this catches only
 * when the reader loses its CPU in that moment (a reader slowed there
 * by hand fails it every time). */
GST_START_TEST (test_client_leaving_as_the_sink_stops_takes_its_fds)
{
  gchar *path = test_path ("sock");

  for (guint i = 0; i < 50; i++) {
    GstElement *pipeline = pipeline_newf ("fakesrc is-live=true ! ipcsink "
        "name=sink socket-path=%s", path);
    int fds = px_test_count_fds (), peers[8];

    fail_if (gst_element_set_state (pipeline, GST_STATE_PAUSED) ==
        GST_STATE_CHANGE_FAILURE);
    wait_listening (path);
    for (guint j = 0; j < G_N_ELEMENTS (peers); j++)
      peers[j] = connect_and_greet (path);
    fail_unless (wait_clients (by_name (pipeline, "sink"),
            G_N_ELEMENTS (peers), WAIT_MS));
    for (guint j = 0; j < G_N_ELEMENTS (peers); j++)
      close (peers[j]);
    /* Some went, the others are going. */
    while (clients (by_name (pipeline, "sink")) == G_N_ELEMENTS (peers))
      g_thread_yield ();
    stop (pipeline);
    fail_unless_equals_int (px_test_count_fds (), fds);
    gst_object_unref (pipeline);
  }
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* ---- tests: the socket file -------------------------------------------- */

static void
stat_path (const gchar * path, struct stat *st)
{
  fail_unless (lstat (path, st) == 0, "%s: %s", path, g_strerror (errno));
}

/* A socket bound at @path by this test, listening if @listening, else
 * closed at once (a stale file). Returns its fd, or -1. */
static int
bind_socket (const gchar * path, gboolean listening)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

  fail_unless (fd >= 0);
  g_strlcpy (addr.sun_path, path, sizeof addr.sun_path);
  fail_unless (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0);
  if (listening) {
    fail_unless (listen (fd, 4) == 0);
    return fd;
  }
  close (fd);
  return -1;
}

/* A second ipcsink on a path where a live one listens fails with "busy"
 * and leaves the first one's socket alone, whichever stops first. */
GST_START_TEST (test_second_sink_on_a_live_path_is_busy)
{
  gchar *path = test_path ("sock");
  GstElement *older = listening_sink (path, "");
  GstElement *newer = pipeline_newf ("fakesrc is-live=true ! ipcsink "
      "name=sink socket-path=%s", path);
  struct stat before, after;
  GstMessage *msg;
  GError *error = NULL;
  int client;

  wait_listening (path);
  stat_path (path, &before);
  fail_unless_equals_int (gst_element_set_state (newer, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = wait_message_from (newer, GST_MESSAGE_ERROR, "sink", WAIT_MS);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_BUSY), "%s", error->message);
  fail_unless (strstr (error->message, path) != NULL, "%s", error->message);
  g_clear_error (&error);
  gst_message_unref (msg);
  stop (newer);

  /* The first one's socket is still there and still answers. */
  stat_path (path, &after);
  fail_unless (before.st_ino == after.st_ino && before.st_dev == after.st_dev);
  client = connect_and_greet (path);
  fail_unless (wait_clients (by_name (older, "sink"), 1, WAIT_MS));
  close (client);
  stop (older);
  fail_if (g_file_test (path, G_FILE_TEST_EXISTS));

  gst_object_unref (older);
  gst_object_unref (newer);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* A socket file nobody listens on (left by a process that died) is
 * replaced. */
GST_START_TEST (test_stale_socket_replaced)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline;
  int client;

  bind_socket (path, FALSE);
  pipeline = listening_sink (path, "");
  wait_listening (path);
  client = connect_and_greet (path);
  fail_unless (wait_clients (by_name (pipeline, "sink"), 1, WAIT_MS));
  close (client);
  stop (pipeline);
  fail_if (g_file_test (path, G_FILE_TEST_EXISTS));
  gst_object_unref (pipeline);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* A sink that stops removes the socket it made, not one that took its
 * place meanwhile. */
GST_START_TEST (test_sink_removes_only_its_own_socket)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline = listening_sink (path, "");
  struct stat ours, after;
  int other;

  wait_listening (path);
  fail_unless (g_unlink (path) == 0);
  other = bind_socket (path, TRUE);
  stat_path (path, &ours);
  stop (pipeline);
  stat_path (path, &after);
  fail_unless (ours.st_ino == after.st_ino && ours.st_dev == after.st_dev);
  close (other);
  gst_object_unref (pipeline);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* The error a sink that cannot listen on @path posts. */
static GError *
listen_error (const gchar * path)
{
  GstElement *pipeline = pipeline_newf ("fakesrc is-live=true ! ipcsink "
      "name=sink socket-path=%s", path);
  GstMessage *msg;
  GError *error = NULL;

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = wait_message_from (pipeline, GST_MESSAGE_ERROR, "sink", WAIT_MS);
  fail_unless (msg != NULL, "no error");
  gst_message_parse_error (msg, &error, NULL);
  gst_message_unref (msg);
  stop (pipeline);
  gst_object_unref (pipeline);
  return error;
}

GST_START_TEST (test_missing_directory_is_not_found)
{
  gchar *missing = test_path ("missing");
  gchar *path = g_build_filename (missing, "sock", NULL);
  GError *error = listen_error (path);

  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND), "%s", error->message);
  fail_unless (strstr (error->message, missing) != NULL &&
      strstr (error->message, "does not exist") != NULL, "%s", error->message);
  g_error_free (error);
  g_free (path);
  g_free (missing);
  cleanup ();
}

GST_END_TEST;

/* A directory the sink may not write to: NOT_AUTHORIZED. Run in a child
 * process, which (when the test runs as root, whom no permission stops)
 * becomes nobody first. */
GST_START_TEST (test_forbidden_directory_is_not_authorized)
{
  gchar *locked = test_path ("locked");
  gchar *path = g_build_filename (locked, "sock", NULL);
  GstElement *loaded = gst_element_factory_make ("ipcsink", NULL);
  int status;
  pid_t pid;

  fail_unless (loaded != NULL); /* the plugin is loaded before fork */
  fail_unless (g_mkdir (locked, 0555) == 0);
  g_chmod (dir, 0755);
  pid = fork ();
  fail_unless (pid >= 0);
  if (pid == 0) {
    GError *error;
    int ok;

    if (geteuid () == 0 && setresuid (65534, 65534, 65534) != 0)
      _exit (3);
    error = listen_error (path);
    ok = g_error_matches (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_NOT_AUTHORIZED) &&
        strstr (error->message, "ermission") != NULL;
    if (!ok)
      g_printerr ("error: %s %d: %s\n", g_quark_to_string (error->domain),
          error->code, error->message);
    _exit (ok ? 0 : 1);
  }
  fail_unless (waitpid (pid, &status, 0) == pid);
  fail_unless (WIFEXITED (status) && WEXITSTATUS (status) == 0,
      "status %d", status);
  gst_object_unref (loaded);
  g_free (path);
  g_free (locked);
  cleanup ();
}

GST_END_TEST;

/* ---- tests: slow clients ----------------------------------------------- */

static void
count_buffer (GstElement * fakesink, GstBuffer * buffer, GstPad * pad,
    gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
}

#define SLOW_BUFFERS 60

/* A producer of SLOW_BUFFERS buffers with @properties for its sink, a
 * consumer process that is frozen once connected (its pid in *@victim),
 * and an honest consumer in this process counting into @count. The
 * producer is left PAUSED, ready to play. */
static GstElement *
start_with_frozen_consumer (const gchar * path, const gchar * properties,
    GstElement ** honest, gint * count, GPid * victim)
{
  GstElement *pipeline = pipeline_newf ("videotestsrc num-buffers=%d ! "
      "video/x-raw,width=32,height=32 ! ipcsink name=sink socket-path=%s "
      "max-in-flight=4 %s", SLOW_BUFFERS, path, properties);
  GstElement *sink = by_name (pipeline, "sink");
  gchar *launch = g_strdup_printf ("ipcsrc socket-path=%s ! fakesink "
      "sync=false", path);

  /* The sink listens from PAUSED on; the source waits for PLAYING. */
  fail_if (gst_element_set_state (sink, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE);
  wait_listening (path);
  *victim = spawn_launch ("victim.log", launch);
  fail_unless (wait_clients (sink, 1, WAIT_MS));
  fail_unless (kill (*victim, SIGSTOP) == 0);
  *honest = pipeline_newf ("ipcsrc socket-path=%s ! fakesink name=out "
      "sync=false signal-handoffs=true", path);
  g_signal_connect (by_name (*honest, "out"), "handoff",
      G_CALLBACK (count_buffer), count);
  fail_if (gst_element_set_state (*honest, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  fail_unless (wait_clients (sink, 2, WAIT_MS));
  g_free (launch);
  return pipeline;
}

/* A frozen consumer with slow-client-policy=block: after
 * slow-client-timeout it is dropped with a warning that names it, and the
 * others get the whole stream. */
GST_START_TEST (test_frozen_consumer_dropped_after_slow_client_timeout)
{
  gchar *path = test_path ("sock");
  GstElement *honest, *pipeline;
  gint count = 0;
  gchar *warning, *pid_text;
  GPid victim;

  pipeline = start_with_frozen_consumer (path,
      "slow-client-timeout=200000000", &honest, &count, &victim);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  warning = wait_text_from (pipeline, GST_MESSAGE_WARNING, "sink", WAIT_MS);
  fail_unless (warning != NULL, "no warning");
  pid_text = g_strdup_printf ("pid %d", victim);
  fail_unless (strstr (warning, pid_text) != NULL &&
      strstr (warning, "slow-client-timeout") != NULL, "%s", warning);
  wait_eos (pipeline, WAIT_MS);
  wait_eos (honest, WAIT_MS);
  fail_unless_equals_int (g_atomic_int_get (&count), SLOW_BUFFERS);
  fail_unless_equals_int (clients (by_name (pipeline, "sink")), 1);
  stop (honest);
  stop (pipeline);
  gst_object_unref (honest);
  gst_object_unref (pipeline);
  g_free (pid_text);
  g_free (warning);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* With slow-client-timeout=0 the stream waits for a frozen consumer as
 * long as it takes, and says on the bus which one it waits for. */
GST_START_TEST (test_frozen_consumer_waited_for_with_a_warning)
{
  gchar *path = test_path ("sock");
  GstElement *honest, *pipeline;
  gint count = 0;
  gchar *warning, *pid_text;
  GPid victim;

  pipeline = start_with_frozen_consumer (path, "slow-client-timeout=0",
      &honest, &count, &victim);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  /* The warning comes once the wait has lasted the default bound, 5 s. */
  warning = wait_text_from (pipeline, GST_MESSAGE_WARNING, "sink", 3 * WAIT_MS);
  fail_unless (warning != NULL, "no warning");
  pid_text = g_strdup_printf ("pid %d", victim);
  fail_unless (strstr (warning, pid_text) != NULL, "%s", warning);
  fail_unless_equals_int (clients (by_name (pipeline, "sink")), 2);
  fail_unless (g_atomic_int_get (&count) < SLOW_BUFFERS);
  /* Thawed, it lets the stream finish. */
  fail_unless (kill (victim, SIGCONT) == 0);
  wait_eos (pipeline, WAIT_MS);
  wait_eos (honest, WAIT_MS);
  fail_unless_equals_int (g_atomic_int_get (&count), SLOW_BUFFERS);
  stop (honest);
  stop (pipeline);
  gst_object_unref (honest);
  gst_object_unref (pipeline);
  g_free (pid_text);
  g_free (warning);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* Reads every property of the sink that posted @msg, from the posting
 * thread. */
static GstBusSyncReply
read_sink_properties (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  GstElement *sink = user_data;
  GParamSpec **specs;
  guint n;

  if (GST_MESSAGE_SRC (msg) != GST_OBJECT (sink) ||
      GST_MESSAGE_TYPE (msg) != GST_MESSAGE_WARNING)
    return GST_BUS_PASS;
  specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (sink), &n);
  for (guint i = 0; i < n; i++) {
    GValue value = G_VALUE_INIT;

    if (!(specs[i]->flags & G_PARAM_READABLE))
      continue;
    g_value_init (&value, specs[i]->value_type);
    g_object_get_property (G_OBJECT (sink), specs[i]->name, &value);
    g_value_unset (&value);
  }
  g_free (specs);
  return GST_BUS_PASS;
}

/* The sink posts its warnings holding none of its locks: a synchronous
 * bus handler may read its properties (a lock taken there would be held
 * again by the posting thread: it would hang). */
GST_START_TEST (test_properties_readable_from_a_sync_handler_on_a_drop)
{
  gchar *path = test_path ("sock");
  GstElement *honest, *pipeline, *sink;
  gint count = 0;
  GPid victim;
  gchar *warning;

  pipeline = start_with_frozen_consumer (path,
      "slow-client-timeout=100000000", &honest, &count, &victim);
  sink = by_name (pipeline, "sink");
  gst_bus_set_sync_handler (GST_ELEMENT_BUS (pipeline), read_sink_properties,
      sink, NULL);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  warning = wait_text_from (pipeline, GST_MESSAGE_WARNING, "sink", WAIT_MS);
  fail_unless (warning != NULL, "no warning");
  wait_eos (pipeline, WAIT_MS);
  stop (honest);
  stop (pipeline);
  gst_object_unref (honest);
  gst_object_unref (pipeline);
  g_free (warning);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* ---- tests: what gst-inspect-1.0 shows --------------------------------- */

typedef struct
{
  const gchar *name;
  guint64 default_value;
} Default;

/* The limits with their defaults, and a blurb that says how to read each
 * property. */
GST_START_TEST (test_properties_documented_with_their_defaults)
{
  static const Default defaults[] = {
    {"max-handshakes", 16},
    {"handshake-timeout", 5 * GST_SECOND},
    {"slow-client-timeout", 5 * GST_SECOND},
    {"socket-mode", 0600},
  };
  GstElementFactory *factory = gst_element_factory_find ("ipcsink");
  GstElement *sink = gst_element_factory_create (factory, NULL);
  GObjectClass *klass = G_OBJECT_GET_CLASS (sink);
  GParamSpec **specs;
  guint n;

  fail_unless_equals_string (gst_element_factory_get_metadata (factory,
          GST_ELEMENT_METADATA_AUTHOR), "The Parallax developers");
  for (guint i = 0; i < G_N_ELEMENTS (defaults); i++) {
    GParamSpec *spec = g_object_class_find_property (klass,
        defaults[i].name);
    GValue value = G_VALUE_INIT;

    fail_unless (spec != NULL, "no %s", defaults[i].name);
    g_value_init (&value, G_TYPE_UINT64);
    fail_unless (g_value_transform (g_param_spec_get_default_value (spec),
            &value));
    fail_unless_equals_uint64 (g_value_get_uint64 (&value),
        defaults[i].default_value);
  }
  fail_unless (strstr (g_param_spec_get_blurb (g_object_class_find_property
              (klass, "socket-mode")), "0600 (octal)") != NULL);
  specs = g_object_class_list_properties (klass, &n);
  for (guint i = 0; i < n; i++) {
    const gchar *blurb = g_param_spec_get_blurb (specs[i]);
    gchar *lower;

    fail_unless (blurb != NULL && strlen (blurb) > 10, "%s", specs[i]->name);
    lower = g_ascii_strdown (blurb, -1);
    /* A time says its unit. */
    if (specs[i]->value_type == G_TYPE_UINT64 &&
        g_str_has_suffix (specs[i]->name, "-timeout"))
      fail_unless (strstr (lower, "nanoseconds") != NULL, "%s: %s",
          specs[i]->name, blurb);
    g_free (lower);
  }
  g_free (specs);
  gst_object_unref (sink);
  gst_object_unref (factory);
}

GST_END_TEST;

/* ---- tests: a consumer on an fd, scripted here -------------------------- */

/* An arena as a consumer counts it (ipcsrc's rule, docs/protocol.md):
 * from its ARENA_ADD until it is removed and the last buffer lent from it
 * is returned. */
typedef struct
{
  guint64 id, size;
  guint lent;
  gboolean removed;
} RawArena;

/* The consumer's end of an fd pair, spoken to with the wire protocol:
 * what it was lent, what the producer said, and the arenas it counts. */
typedef struct
{
  int fd;
  GArray *held;                 /* buffer ids not returned yet */
  GPtrArray *held_from;         /* their arenas, RawArena */
  GPtrArray *arenas;            /* RawArena, counted */
  guint64 arena_total;          /* what our HELLO accepts */
  guint64 arena_bytes;          /* counted now */
  guint arenas_added;
  guint buffers;                /* BUFFER messages received */
  gboolean eos;
} RawConsumer;

/* Reads the producer's HELLO on @fd and answers it, accepting arenas of
 * up to @arena_total bytes in all. */
static void
raw_consumer_init (RawConsumer * c, int fd, guint64 arena_total)
{
  PxWireMessage *msg = g_new0 (PxWireMessage, 1);
  PxWireHello hello = {.role = PX_WIRE_ROLE_CONSUMER,
    .max_arena_size = MIN (arena_total, PX_WIRE_DEFAULT_ARENA_SIZE),
    .max_arena_total = arena_total
  };

  memset (c, 0, sizeof *c);
  c->fd = fd;
  c->held = g_array_new (FALSE, FALSE, sizeof (guint64));
  c->held_from = g_ptr_array_new ();
  c->arenas = g_ptr_array_new_with_free_func (g_free);
  c->arena_total = arena_total;
  fail_unless (wait_readable (fd, WAIT_MS), "no HELLO from the sink");
  fail_unless (px_wire_recv (fd, msg, MSG_DONTWAIT) >= 0);
  fail_unless_equals_int (msg->header.type, PX_WIRE_HELLO);
  px_wire_message_clear (msg);
  g_free (msg);
  fail_unless_equals_int (px_wire_send_hello (fd, &hello), 0);
}

static void
raw_consumer_clear (RawConsumer * c)
{
  g_array_unref (c->held);
  g_ptr_array_unref (c->held_from);
  g_ptr_array_unref (c->arenas);
  close (c->fd);
}

/* @arena no longer counts once removed and lent nothing. */
static void
raw_arena_settle (RawConsumer * c, RawArena * arena)
{
  if (arena->removed && arena->lent == 0) {
    c->arena_bytes -= arena->size;
    g_ptr_array_remove (c->arenas, arena);
  }
}

/* The arena of that id that is announced (not removed), or NULL. */
static RawArena *
raw_arena_find (RawConsumer * c, guint64 id)
{
  for (guint i = 0; i < c->arenas->len; i++) {
    RawArena *arena = g_ptr_array_index (c->arenas, i);

    if (arena->id == id && !arena->removed)
      return arena;
  }
  return NULL;
}

/* Returns every buffer held; as ipcsrc, counts an arena back before the
 * BUFFER_DONE of its last buffer. */
static void
raw_consumer_release (RawConsumer * c)
{
  for (guint i = 0; i < c->held_from->len; i++) {
    RawArena *arena = g_ptr_array_index (c->held_from, i);

    arena->lent--;
    raw_arena_settle (c, arena);
  }
  g_ptr_array_set_size (c->held_from, 0);
  for (guint i = 0; i < c->held->len; i += PX_WIRE_MAX_DONE)
    fail_unless_equals_int (px_wire_send_buffer_done (c->fd,
            &g_array_index (c->held, guint64, i), MIN (c->held->len - i,
                PX_WIRE_MAX_DONE)), 0);
  g_array_set_size (c->held, 0);
}

/* What ipcsrc does with an ARENA_ADD, REMOVE and BUFFER, as far as
 * counting goes: an arena over the limit is refused, here a failure. */
static void
raw_consumer_count (RawConsumer * c, const PxWireMessage * msg)
{
  PxWireArenaAdd add;
  PxWireArenaRemove remove;
  PxWireBuffer wire;
  RawArena *arena;

  switch (msg->header.type) {
    case PX_WIRE_ARENA_ADD:
      fail_unless_equals_int (px_wire_decode_arena_add (msg, &add), 0);
      fail_unless (add.size <= c->arena_total - c->arena_bytes, "an honest "
          "consumer refuses arena %u of %" G_GUINT64_FORMAT " bytes: %"
          G_GUINT64_FORMAT " of its %" G_GUINT64_FORMAT " are in use",
          c->arenas_added + 1, add.size, c->arena_bytes, c->arena_total);
      arena = g_new0 (RawArena, 1);
      arena->id = add.arena_id;
      arena->size = add.size;
      g_ptr_array_add (c->arenas, arena);
      c->arena_bytes += add.size;
      c->arenas_added++;
      break;
    case PX_WIRE_ARENA_REMOVE:
      fail_unless_equals_int (px_wire_decode_arena_remove (msg, &remove), 0);
      arena = raw_arena_find (c, remove.arena_id);
      fail_unless (arena != NULL);
      arena->removed = TRUE;
      raw_arena_settle (c, arena);
      break;
    case PX_WIRE_BUFFER:
      fail_unless_equals_int (px_wire_decode_buffer (msg, &wire), 0);
      arena = raw_arena_find (c, wire.arena_id);
      fail_unless (arena != NULL, "a buffer in an unknown arena");
      arena->lent++;
      c->buffers++;
      g_array_append_val (c->held, wire.buffer_id);
      g_ptr_array_add (c->held_from, arena);
      break;
    default:
      break;
  }
}

/* Reads one message within @timeout_ms (FALSE if none came): a BUFFER is
 * held, or with @give_back returned at once; arenas are counted; a QUERY
 * is answered "not answered"; EOS is noted. */
static gboolean
raw_consumer_read (RawConsumer * c, gboolean give_back, guint timeout_ms)
{
  PxWireMessage *msg = g_new0 (PxWireMessage, 1);
  PxWireBlob blob;

  if (!wait_readable (c->fd, timeout_ms)) {
    g_free (msg);
    return FALSE;
  }
  fail_unless (px_wire_recv (c->fd, msg, MSG_DONTWAIT) >= 0);
  raw_consumer_count (c, msg);
  if (msg->header.type == PX_WIRE_BUFFER && give_back) {
    raw_consumer_release (c);
  } else if (msg->header.type == PX_WIRE_EVENT) {
    fail_unless_equals_int (px_wire_decode_blob (msg, &blob), 0);
    c->eos |= blob.kind == GST_EVENT_EOS;
  } else if (msg->header.type == PX_WIRE_QUERY) {
    /* Not answered: the sink answers from its template. */
    fail_unless_equals_int (px_wire_decode_blob (msg, &blob), 0);
    blob.result = 0;
    blob.body = "";
    blob.body_size = 1;
    fail_unless_equals_int (px_wire_send_blob (c->fd, PX_WIRE_QUERY_REPLY,
            0, msg->header.request_id, &blob), 0);
  }
  px_wire_message_clear (msg);
  g_free (msg);
  return TRUE;
}

/* Holds what comes until it holds @n buffers. */
static void
raw_consumer_hold (RawConsumer * c, guint n)
{
  while (c->held->len < n)
    fail_unless (raw_consumer_read (c, FALSE, WAIT_MS),
        "held %u buffers, waiting for %u", c->held->len, n);
}

/* Returns what it holds, then every buffer as it comes, until EOS. */
static void
raw_consumer_drain (RawConsumer * c)
{
  raw_consumer_release (c);
  while (!c->eos)
    fail_unless (raw_consumer_read (c, TRUE, WAIT_MS), "no EOS after "
        "%u buffers", c->buffers);
}

/* Changes @pipeline's state and waits until it is done (a live pipeline
 * is PAUSED without preroll). */
static void
change_state_now (GstElement * pipeline, GstState state)
{
  GstStateChangeReturn ret;

  fail_if (gst_element_set_state (pipeline, state) == GST_STATE_CHANGE_FAILURE);
  ret = gst_element_get_state (pipeline, NULL, NULL, WAIT_MS * GST_MSECOND);
  fail_unless (ret == GST_STATE_CHANGE_SUCCESS ||
      ret == GST_STATE_CHANGE_NO_PREROLL, "%s",
      gst_element_state_change_return_get_name (ret));
}

#define PAUSE_BUFFERS 30

/* The sink waits for room (its consumer holds max-in-flight buffers) when
 * its pipeline pauses: that unlock is no flush, so the sink prerolls on
 * the buffer it holds and waits again once PLAYING, and the source goes
 * on. Before, the sink told upstream FLUSHING and the source stopped for
 * good. */
GST_START_TEST (test_pause_while_waiting_for_room_resumes)
{
  GstElement *pipeline;
  RawConsumer consumer;
  int fds[2];

  fail_unless (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
          fds) == 0);
  pipeline = pipeline_newf ("videotestsrc num-buffers=%u ! "
      "video/x-raw,format=GRAY8,width=16,height=16 ! ipcsink name=sink "
      "fd=%d max-in-flight=4 slow-client-timeout=0", PAUSE_BUFFERS, fds[0]);
  change_state_now (pipeline, GST_STATE_READY);
  close (fds[0]);               /* the sink has its own */
  raw_consumer_init (&consumer, fds[1], PX_WIRE_DEFAULT_ARENA_TOTAL);
  /* Counted once its HELLO is read: a buffer before that is not sent. */
  fail_unless (wait_clients (by_name (pipeline, "sink"), 1, WAIT_MS));
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  raw_consumer_hold (&consumer, 4);

  for (guint i = 0; i < 3; i++) {
    change_state_now (pipeline, GST_STATE_PAUSED);
    change_state_now (pipeline, GST_STATE_PLAYING);
  }
  raw_consumer_drain (&consumer);
  fail_unless_equals_int (consumer.buffers, PAUSE_BUFFERS);
  wait_eos (pipeline, WAIT_MS);

  stop (pipeline);
  gst_object_unref (pipeline);
  raw_consumer_clear (&consumer);
}

GST_END_TEST;

/* Bus sync handler: the sink that reached PLAYING goes back to PAUSED at
 * once, from the thread that set it PLAYING (the one that armed it, never
 * the streaming thread), before the streaming thread has woken from its
 * preroll. */
static GstBusSyncReply
pause_at_playing (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  GstElement *sink = user_data;
  GstState old, new;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_STATE_CHANGED &&
      GST_MESSAGE_SRC (msg) == GST_OBJECT (sink)) {
    gst_message_parse_state_changed (msg, &old, &new, NULL);
    if (old == GST_STATE_PAUSED && new == GST_STATE_PLAYING &&
        g_object_get_data (G_OBJECT (sink), "pause-at-playing") ==
        g_thread_self ()) {
      g_object_set_data (G_OBJECT (sink), "pause-at-playing", NULL);
      gst_element_set_state (sink, GST_STATE_PAUSED);
    }
  }
  return GST_BUS_PASS;
}

/* PLAYING -> PAUSED can come before the streaming thread is out of its
 * preroll: basesink then counts the sink as prerolled, and the sink waits
 * for room while PAUSED. The next PLAYING needs a preroll that only the
 * streaming thread can give, and no unlock() tells it: before, the state
 * change waited for the consumer, for ever here. */
GST_START_TEST (test_playing_right_after_pause_prerolls_again)
{
  GstElement *pipeline, *sink;
  RawConsumer consumer;
  guint paused_at_once = 0;
  int fds[2];

  fail_unless (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
          fds) == 0);
  pipeline = pipeline_newf ("videotestsrc num-buffers=%u ! "
      "video/x-raw,format=GRAY8,width=16,height=16 ! ipcsink name=sink "
      "fd=%d max-in-flight=4 slow-client-timeout=0", PAUSE_BUFFERS, fds[0]);
  sink = by_name (pipeline, "sink");
  gst_bus_set_sync_handler (GST_ELEMENT_BUS (pipeline), pause_at_playing,
      sink, NULL);
  change_state_now (pipeline, GST_STATE_READY);
  close (fds[0]);               /* the sink has its own */
  raw_consumer_init (&consumer, fds[1], PX_WIRE_DEFAULT_ARENA_TOTAL);
  fail_unless (wait_clients (sink, 1, WAIT_MS));
  /* the consumer answers the sink's queries while it holds */
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  raw_consumer_hold (&consumer, 4);
  change_state_now (pipeline, GST_STATE_PLAYING);
  /* its states are the test's from now on */
  gst_element_set_locked_state (sink, TRUE);

  /* A PLAYING that commits in the streaming thread does not arm it. */
  for (guint i = 0; i < 100 && paused_at_once < 5; i++) {
    change_state_now (sink, GST_STATE_PAUSED);
    g_object_set_data (G_OBJECT (sink), "pause-at-playing", g_thread_self ());
    change_state_now (sink, GST_STATE_PLAYING);
    if (g_object_get_data (G_OBJECT (sink), "pause-at-playing") == NULL)
      paused_at_once++;
    g_object_set_data (G_OBJECT (sink), "pause-at-playing", NULL);
    change_state_now (sink, GST_STATE_PAUSED);
    change_state_now (sink, GST_STATE_PLAYING);
  }
  fail_unless_equals_int (paused_at_once, 5);
  raw_consumer_drain (&consumer);
  fail_unless_equals_int (consumer.buffers, PAUSE_BUFFERS);
  wait_eos (pipeline, WAIT_MS);

  gst_bus_set_sync_handler (GST_ELEMENT_BUS (pipeline), NULL, NULL, NULL);
  gst_element_set_locked_state (sink, FALSE);
  stop (pipeline);
  gst_object_unref (pipeline);
  raw_consumer_clear (&consumer);
}

GST_END_TEST;

static GstPadProbeReturn
note_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_atomic_int_set ((gint *) user_data, 1);
  return GST_PAD_PROBE_OK;
}

/* Likewise while it waits for its peer (wait-for-connection, the input of
 * a sandboxbin): the buffer it holds goes out once the peer greets, and
 * the rest after it. */
GST_START_TEST (test_pause_while_waiting_for_the_peer_resumes)
{
  GstElement *pipeline;
  RawConsumer consumer;
  gint arrived = 0;
  GstPad *pad;
  int fds[2];

  fail_unless (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
          fds) == 0);
  /* Live: its first buffer comes in PLAYING, to render. Without caps: a
   * CAPS query in PLAYING would wait for the peer. */
  pipeline = pipeline_newf ("fakesrc is-live=true num-buffers=%u "
      "sizetype=fixed sizemax=64 ! ipcsink name=sink fd=%d async=false "
      "wait-for-connection=true", PAUSE_BUFFERS, fds[0]);
  pad = gst_element_get_static_pad (by_name (pipeline, "sink"), "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, note_buffer, &arrived,
      NULL);
  gst_object_unref (pad);
  change_state_now (pipeline, GST_STATE_PLAYING);
  close (fds[0]);               /* the sink has its own */
  while (!g_atomic_int_get (&arrived))
    g_usleep (1000);

  for (guint i = 0; i < 3; i++) {
    change_state_now (pipeline, GST_STATE_PAUSED);
    change_state_now (pipeline, GST_STATE_PLAYING);
  }
  raw_consumer_init (&consumer, fds[1], PX_WIRE_DEFAULT_ARENA_TOTAL);
  raw_consumer_drain (&consumer);
  fail_unless_equals_int (consumer.buffers, PAUSE_BUFFERS);
  wait_eos (pipeline, WAIT_MS);

  stop (pipeline);
  gst_object_unref (pipeline);
  raw_consumer_clear (&consumer);
}

GST_END_TEST;

static void
push_bytes (GstElement * src, gsize size)
{
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, size, NULL);
  GstFlowReturn ret;

  gst_buffer_memset (buffer, 0, 0x5a, size);
  g_signal_emit_by_name (src, "push-buffer", buffer, &ret);
  gst_buffer_unref (buffer);
  fail_unless_equals_int (ret, GST_FLOW_OK);
}

/* 12 slots (2 x max-in-flight + 4) of 1 and of 3 pages: the second arena
 * alone fits the consumer's limit, not with the first. */
#define SMALL_BUFFER 4096
#define LARGE_BUFFER (3 * 4096)
#define ARENA_LIMIT (160 * 1024)

/* The stream's buffers grow (new caps) while the consumer holds buffers
 * of the old arena, and it accepts arenas of 160 KiB in all: the old one
 * (48 KiB) counts until its buffers are back, the new one (144 KiB) does
 * not fit beside it, so the sink waits for them rather than announce an
 * arena the consumer would refuse. The consumer gives its buffers back
 * once the sink has nothing more to send. */
GST_START_TEST (test_removed_arena_counts_until_its_buffers_are_back)
{
  GstElement *pipeline, *src;
  RawConsumer consumer;
  GstFlowReturn ret;
  int fds[2];

  fail_unless (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
          fds) == 0);
  pipeline = pipeline_newf ("appsrc name=src format=bytes ! ipcsink "
      "name=sink fd=%d max-in-flight=4 slow-client-timeout=0", fds[0]);
  src = by_name (pipeline, "src");
  change_state_now (pipeline, GST_STATE_READY);
  close (fds[0]);               /* the sink has its own */
  raw_consumer_init (&consumer, fds[1], ARENA_LIMIT);
  /* Counted once its HELLO is read: a buffer before that is not sent. */
  fail_unless (wait_clients (by_name (pipeline, "sink"), 1, WAIT_MS));
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  for (guint i = 0; i < 3; i++)
    push_bytes (src, SMALL_BUFFER);
  for (guint i = 0; i < 3; i++)
    push_bytes (src, LARGE_BUFFER);
  g_signal_emit_by_name (src, "end-of-stream", &ret);
  fail_unless_equals_int (ret, GST_FLOW_OK);

  raw_consumer_hold (&consumer, 3);
  fail_unless_equals_int (consumer.arenas_added, 1);
  /* Holding them, until the sink has nothing more to say. */
  while (raw_consumer_read (&consumer, FALSE, 500));
  raw_consumer_drain (&consumer);
  fail_unless_equals_int (consumer.buffers, 6);
  fail_unless_equals_int (consumer.arenas_added, 2);
  wait_eos (pipeline, WAIT_MS);

  stop (pipeline);
  gst_object_unref (pipeline);
  raw_consumer_clear (&consumer);
}

GST_END_TEST;

static Suite *
ipcsink_suite (void)
{
  Suite *s = suite_create ("ipcsink");
  TCase *data = tcase_create ("data");
  TCase *connections = tcase_create ("connections");
  TCase *socket_file = tcase_create ("socket-file");
  TCase *slow = tcase_create ("slow-clients");
  TCase *properties = tcase_create ("properties");

  suite_add_tcase (s, data);
  tcase_add_test (data, test_empty_buffer_reaches_the_consumer);

  suite_add_tcase (s, connections);
  tcase_add_test (connections,
      test_idle_connections_cost_bounded_fds_and_threads);
  tcase_add_test (connections, test_oldest_handshake_gives_way);
  tcase_add_test (connections,
      test_silent_connection_closed_after_handshake_timeout);
  tcase_add_loop_test (connections, test_closed_client_released_at_once, 0, 2);
  tcase_add_test (connections,
      test_client_leaving_as_the_sink_stops_takes_its_fds);

  suite_add_tcase (s, socket_file);
  tcase_add_test (socket_file, test_second_sink_on_a_live_path_is_busy);
  tcase_add_test (socket_file, test_stale_socket_replaced);
  tcase_add_test (socket_file, test_sink_removes_only_its_own_socket);
  tcase_add_test (socket_file, test_missing_directory_is_not_found);
  tcase_add_test (socket_file, test_forbidden_directory_is_not_authorized);

  suite_add_tcase (s, slow);
  tcase_add_test (slow, test_frozen_consumer_dropped_after_slow_client_timeout);
  tcase_add_test (slow, test_frozen_consumer_waited_for_with_a_warning);
  tcase_add_test (slow, test_properties_readable_from_a_sync_handler_on_a_drop);
  tcase_add_test (slow, test_pause_while_waiting_for_room_resumes);
  tcase_add_test (slow, test_playing_right_after_pause_prerolls_again);
  tcase_add_test (slow, test_pause_while_waiting_for_the_peer_resumes);
  tcase_add_test (slow, test_removed_arena_counts_until_its_buffers_are_back);

  suite_add_tcase (s, properties);
  tcase_add_test (properties, test_properties_documented_with_their_defaults);
  return s;
}

GST_CHECK_MAIN (ipcsink);
