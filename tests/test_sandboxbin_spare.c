/* Parallax — sandboxbin spare=true: a worker kept locked down and idle
 * takes over from one that crashed, the next spare comes, an idle spare
 * that dies is replaced, and nothing is left behind.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The hostile element (test plugin "parallaxtest") crashes the worker on
 * purpose: "hostile misdeed=crash after-buffers=N" makes a wild write on
 * the worker's buffer N + 1. Misdeeds happen past frame 40: in PAUSED the
 * sink holds the stream before that.
 */
#include <gst/check/gstcheck.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "px-sandboxbin-check.h"
#include "px-test-util.h"

#define RUN_TIMEOUT PX_CHECK_RUN_TIMEOUT
#define SMALL_VIDEO "video/x-raw,format=I420,width=64,height=48,framerate=30/1"
#define FRAME_SIZE (64 * 48 * 3 / 2)
#define FRAME_PTS(n) gst_util_uint64_scale ((n), GST_SECOND, 30)
#define CRASH_AT_41 "hostile misdeed=crash after-buffers=40"

/* ---- helpers ----------------------------------------------------------- */

static gint
get_int (GstElement * bin, const gchar * name)
{
  gint value = -1;

  g_object_get (bin, name, &value, NULL);
  return value;
}

/* The spare's pid once one other than @not is ready. A spare is spawned
 * in the background: this waits for it (at most RUN_TIMEOUT). */
static gint
wait_for_spare (GstElement * bin, gint not)
{
  gint64 deadline = g_get_monotonic_time () + RUN_TIMEOUT / GST_USECOND;
  gint pid;

  while ((pid = get_int (bin, "spare-pid")) == 0 || pid == not) {
    fail_unless (g_get_monotonic_time () < deadline, "no spare came");
    g_usleep (G_USEC_PER_SEC / 100);
  }
  return pid;
}

/* The next sandboxbin element message named @name, copied; an error or
 * a crash report on the way fails unless @crash_ok. */
static GstStructure *
wait_for_element (GstElement * pipeline, const gchar * name, gboolean crash_ok)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstStructure *found = NULL;
  GstMessage *msg;

  while (found == NULL) {
    const GstStructure *s;

    msg = gst_bus_timed_pop_filtered (bus, RUN_TIMEOUT, GST_MESSAGE_ELEMENT |
        GST_MESSAGE_ERROR);
    fail_unless (msg != NULL, "no %s", name);
    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR, "error waiting "
        "for %s", name);
    s = gst_message_get_structure (msg);
    fail_if (!crash_ok && gst_structure_has_name (s,
            "sandboxbin-worker-crashed"), "a worker crashed");
    if (gst_structure_has_name (s, name))
      found = gst_structure_copy (s);
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return found;
}

/* The pid of a "sandboxbin-worker-started", which must say whether it was
 * the spare. */
static gint
started_pid (const GstStructure * s, gboolean spare)
{
  gboolean was_spare = !spare;
  gint pid = 0;

  fail_unless (gst_structure_has_name (s, "sandboxbin-worker-started"));
  fail_unless (gst_structure_get_int (s, "pid", &pid));
  fail_unless (gst_structure_get_boolean (s, "spare", &was_spare));
  fail_unless_equals_int (was_spare, spare);
  return pid;
}

static const GstStructure *
nth_element (PxCheckRun * run, const gchar * name, guint n)
{
  for (guint i = 0; i < run->elements->len; i++) {
    const GstStructure *s = g_ptr_array_index (run->elements, i);

    if (gst_structure_has_name (s, name) && n-- == 0)
      return s;
  }
  fail ("no %s number %u", name, n);
  return NULL;
}

static void
assert_gone (gint pid)
{
  fail_unless (kill (pid, 0) < 0 && errno == ESRCH, "process %d is still "
      "there", pid);
}

static GstPadProbeReturn
count_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
  return GST_PAD_PROBE_OK;
}

/* Counts the buffers reaching @pipeline's "sink" into @counter. */
static void
count_buffers (GstElement * pipeline, gint * counter)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, counter,
      NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
}

/* Buffers keep reaching the sink. */
static void
assert_flowing (gint * counter)
{
  gint64 deadline = g_get_monotonic_time () + RUN_TIMEOUT / GST_USECOND;
  gint before = g_atomic_int_get (counter);

  while (g_atomic_int_get (counter) < before + 3) {
    fail_unless (g_get_monotonic_time () < deadline, "no buffers");
    g_usleep (G_USEC_PER_SEC / 100);
  }
}

static void
wait_for_state (GstElement * pipeline, GstState state)
{
  gst_element_set_state (pipeline, state);
  fail_unless (gst_element_get_state (pipeline, NULL, NULL, RUN_TIMEOUT) !=
      GST_STATE_CHANGE_FAILURE);
}

/* Threads of this process, less GLib's shared thread pool, which keeps
 * idle threads for reuse, a number it chooses: "pool-...", or the name
 * of the streaming task ("element:pad") that last borrowed one. */
static guint
count_threads (void)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *tid;
  guint n = 0;

  while ((tid = g_dir_read_name (dir)) != NULL) {
    gchar *path = g_build_filename ("/proc/self/task", tid, "comm", NULL);
    gchar *comm = NULL;

    if (!g_file_get_contents (path, &comm, NULL, NULL) ||
        !(g_str_has_prefix (comm, "pool-") || strchr (comm, ':') != NULL))
      n++;
    g_free (comm);
    g_free (path);
  }
  g_dir_close (dir);
  return n;
}

/* "name, name, ..." of this process's threads, for failure messages. */
static gchar *
thread_names (void)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  GString *names = g_string_new (NULL);
  const gchar *tid;

  while ((tid = g_dir_read_name (dir)) != NULL) {
    gchar *path = g_build_filename ("/proc/self/task", tid, "comm", NULL);
    gchar *comm = NULL;

    if (g_file_get_contents (path, &comm, NULL, NULL))
      g_string_append_printf (names, "%s%s", names->len ? ", " : "",
          g_strstrip (comm));
    g_free (comm);
    g_free (path);
  }
  g_dir_close (dir);
  return g_string_free (names, FALSE);
}


/* ---- the property ------------------------------------------------------ */

GST_START_TEST (test_spare_defaults_off)
{
  GstElement *bin = gst_element_factory_make ("sandboxbin", NULL);
  gboolean spare = TRUE;

  fail_unless (bin != NULL);
  g_object_get (bin, "spare", &spare, NULL);
  fail_if (spare);
  fail_unless_equals_int (get_int (bin, "spare-pid"), 0);
  gst_object_unref (bin);
}

GST_END_TEST;

/* Without a spare, nothing but the worker is spawned. */
GST_START_TEST (test_no_spare_without_the_property)
{
  GstElement *pipeline = gst_parse_launch ("videotestsrc is-live=true ! "
      SMALL_VIDEO " ! sandboxbin name=bin description=identity ! fakesink",
      NULL);
  GstElement *bin = gst_bin_get_by_name (GST_BIN (pipeline), "bin");

  wait_for_state (pipeline, GST_STATE_PLAYING);
  g_usleep (G_USEC_PER_SEC / 5);
  fail_unless (get_int (bin, "worker-pid") > 0);
  fail_unless_equals_int (get_int (bin, "spare-pid"), 0);
  fail_unless_equals_int (px_check_count_children (), 1);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bin);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* ---- crashes ----------------------------------------------------------- */

/* The worker crashes on its 41st frame: the spare, ready before, takes
 * over (its pid is the new worker's), is given the frame again, and every
 * frame reaches the sink as an uncrashed run makes it. */
GST_START_TEST (test_crash_uses_the_spare)
{
  GstElement *pipeline, *bin;
  gint first_pid, spare;
  PxCheckRun want, got;

  px_check_run_init (&want);
  px_check_run_to_end ("videotestsrc num-buffers=60 pattern=ball ! "
      SMALL_VIDEO " ! sandboxbin mode=in-process description=identity ! "
      "fakesink name=sink", &want);
  px_check_assert_eos ("reference", &want);

  px_check_run_init (&got);
  pipeline = px_check_build ("videotestsrc num-buffers=60 pattern=ball ! "
      SMALL_VIDEO " ! sandboxbin name=bin spare=true description=\""
      CRASH_AT_41 "\" ! fakesink name=sink", &got);
  bin = gst_bin_get_by_name (GST_BIN (pipeline), "bin");
  wait_for_state (pipeline, GST_STATE_READY);
  first_pid = get_int (bin, "worker-pid");
  spare = wait_for_spare (bin, 0);
  fail_unless (first_pid > 0 && spare != first_pid);
  px_check_play (pipeline, &got);
  px_check_assert_eos ("crash with a spare", &got);

  fail_unless_equals_int (px_check_count_elements (&got,
          "sandboxbin-worker-crashed"), 1);
  fail_unless_equals_int (px_check_count_elements (&got,
          "sandboxbin-worker-started"), 2);
  fail_unless_equals_int (started_pid (nth_element (&got,
              "sandboxbin-worker-started", 0), FALSE), first_pid);
  fail_unless_equals_int (started_pid (nth_element (&got,
              "sandboxbin-worker-started", 1), TRUE), spare);
  fail_unless_equals_int (get_int (bin, "worker-pid"), spare);
  assert_gone (first_pid);

  fail_unless_equals_int (got.checksums->len, want.checksums->len);
  for (guint i = 0; i < want.checksums->len; i++) {
    fail_unless_equals_string (g_ptr_array_index (got.checksums, i),
        g_ptr_array_index (want.checksums, i));
    fail_unless_equals_uint64 (g_array_index (got.timestamps, GstClockTime,
            i), g_array_index (want.timestamps, GstClockTime, i));
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bin);
  gst_object_unref (pipeline);
  px_check_run_clear (&want);
  px_check_run_clear (&got);
}

GST_END_TEST;

static void
push_frames (GstElement * src, guint from, guint to)
{
  for (guint i = from; i < to; i++) {
    GstBuffer *buffer = gst_buffer_new_allocate (NULL, FRAME_SIZE, NULL);
    GstFlowReturn ret = GST_FLOW_ERROR;

    gst_buffer_memset (buffer, 0, i & 0xff, FRAME_SIZE);
    GST_BUFFER_PTS (buffer) = FRAME_PTS (i);
    GST_BUFFER_DURATION (buffer) = FRAME_PTS (i + 1) - FRAME_PTS (i);
    g_signal_emit_by_name (src, "push-buffer", buffer, &ret);
    gst_buffer_unref (buffer);
    fail_unless_equals_int (ret, GST_FLOW_OK);
  }
}

/* Every worker crashes on its 41st frame. The first_pid crash takes the spare
 * ready before the stream started; the next spare is spawned once it took
 * over, and takes over at the second crash. Every frame arrives, once, in
 * order. */
GST_START_TEST (test_second_crash_gets_the_next_spare)
{
  GstElement *pipeline, *bin, *src;
  GstFlowReturn ret = GST_FLOW_ERROR;
  GstStructure *started;
  gint spare1, spare2;
  guint64 lost = 1;
  guint restarts = 0;
  PxCheckRun run;

  px_check_run_init (&run);
  pipeline = px_check_build ("appsrc name=src format=time caps=" SMALL_VIDEO
      " ! sandboxbin name=bin spare=true restart-delay=10 description=\""
      CRASH_AT_41 "\" ! fakesink name=sink", &run);
  bin = gst_bin_get_by_name (GST_BIN (pipeline), "bin");
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  wait_for_state (pipeline, GST_STATE_READY);
  spare1 = wait_for_spare (bin, 0);
  /* it prerolls once frames come */
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  started = wait_for_element (pipeline, "sandboxbin-worker-started", FALSE);
  gst_structure_free (started);

  /* the first_pid worker crashes on frame 41 */
  push_frames (src, 0, 41);
  started = wait_for_element (pipeline, "sandboxbin-worker-started", TRUE);
  fail_unless_equals_int (started_pid (started, TRUE), spare1);
  gst_structure_free (started);
  spare2 = wait_for_spare (bin, spare1);

  /* the second on its 41st: frame 81 at the latest (it was given frame 41
   * again, and any before whose output had not come out) */
  push_frames (src, 41, 81);
  started = wait_for_element (pipeline, "sandboxbin-worker-started", TRUE);
  fail_unless_equals_int (started_pid (started, TRUE), spare2);
  gst_structure_free (started);
  fail_unless_equals_int (get_int (bin, "worker-pid"), spare2);
  assert_gone (spare1);

  push_frames (src, 81, 100);
  g_signal_emit_by_name (src, "end-of-stream", &ret);
  fail_unless_equals_int (ret, GST_FLOW_OK);
  px_check_play (pipeline, &run);
  px_check_assert_eos ("two crashes with spares", &run);
  g_object_get (bin, "restarts", &restarts, "buffers-lost", &lost, NULL);
  fail_unless_equals_int (restarts, 2);
  fail_unless_equals_uint64 (lost, 0);
  fail_unless_equals_int (run.timestamps->len, 100);
  for (guint i = 0; i < 100; i++)
    fail_unless_equals_uint64 (g_array_index (run.timestamps, GstClockTime,
            i), FRAME_PTS (i));
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (bin);
  gst_object_unref (pipeline);
  px_check_run_clear (&run);
}

GST_END_TEST;

/* A source in the worker: the spare takes over from a killed worker too,
 * and the stream goes on. */
GST_START_TEST (test_source_takes_the_spare)
{
  GstElement *pipeline = gst_parse_launch ("sandboxbin name=bin spare=true "
      "restart-delay=0 description=\"videotestsrc is-live=true ! capsfilter "
      "caps=" SMALL_VIDEO "\" ! fakesink name=sink", NULL);
  GstElement *bin = gst_bin_get_by_name (GST_BIN (pipeline), "bin");
  GstStructure *started;
  gint worker, spare, flowed = 0;

  count_buffers (pipeline, &flowed);
  wait_for_state (pipeline, GST_STATE_PLAYING);
  started = wait_for_element (pipeline, "sandboxbin-worker-started", FALSE);
  worker = started_pid (started, FALSE);
  gst_structure_free (started);
  spare = wait_for_spare (bin, 0);
  assert_flowing (&flowed);
  fail_unless_equals_int (kill (worker, SIGKILL), 0);
  started = wait_for_element (pipeline, "sandboxbin-worker-started", TRUE);
  fail_unless_equals_int (started_pid (started, TRUE), spare);
  gst_structure_free (started);
  assert_flowing (&flowed);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bin);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* ---- the spare's own life ---------------------------------------------- */

/* A spare killed while idle is reported and replaced; the worker in
 * service and its stream do not notice. */
GST_START_TEST (test_idle_spare_killed_is_replaced)
{
  GstElement *pipeline = gst_parse_launch ("videotestsrc is-live=true ! "
      SMALL_VIDEO " ! sandboxbin name=bin spare=true description=identity ! "
      "fakesink name=sink", NULL);
  GstElement *bin = gst_bin_get_by_name (GST_BIN (pipeline), "bin");
  GstStructure *lost;
  gboolean will_replace = FALSE;
  gint worker, spare, pid = 0, flowed = 0;
  guint restarts = 1;

  count_buffers (pipeline, &flowed);
  wait_for_state (pipeline, GST_STATE_PLAYING);
  worker = get_int (bin, "worker-pid");
  spare = wait_for_spare (bin, 0);
  assert_flowing (&flowed);
  fail_unless_equals_int (kill (spare, SIGKILL), 0);

  lost = wait_for_element (pipeline, "sandboxbin-spare-lost", FALSE);
  fail_unless (gst_structure_get_int (lost, "pid", &pid));
  fail_unless_equals_int (pid, spare);
  fail_unless (g_str_has_prefix (gst_structure_get_string (lost, "reason"),
          "killed by signal 9"), "%s", gst_structure_get_string (lost,
          "reason"));
  fail_unless (gst_structure_get_boolean (lost, "will-replace", &will_replace));
  fail_unless (will_replace);
  gst_structure_free (lost);

  fail_unless (wait_for_spare (bin, spare) != worker);
  assert_gone (spare);
  fail_unless_equals_int (get_int (bin, "worker-pid"), worker);
  g_object_get (bin, "restarts", &restarts, NULL);
  fail_unless_equals_int (restarts, 0);
  assert_flowing (&flowed);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bin);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* A sandbox setting changed in READY applies to the spare too: the one
 * spawned before is stopped and another takes its place. */
GST_START_TEST (test_setting_changed_in_ready_renews_the_spare)
{
  GstElement *pipeline = gst_parse_launch ("videotestsrc num-buffers=5 ! "
      SMALL_VIDEO " ! sandboxbin name=bin spare=true description=identity ! "
      "fakesink", NULL);
  GstElement *bin = gst_bin_get_by_name (GST_BIN (pipeline), "bin");
  gint old, renewed;

  wait_for_state (pipeline, GST_STATE_READY);
  old = wait_for_spare (bin, 0);
  g_object_set (bin, "pids-limit", 256, NULL);
  renewed = wait_for_spare (bin, old);
  fail_unless (renewed > 0 && renewed != old);
  assert_gone (old);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  assert_gone (renewed);
  gst_object_unref (bin);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* Through READY, the next streaming session's worker is the spare. */
GST_START_TEST (test_ready_and_back_takes_the_spare)
{
  GstElement *pipeline = gst_parse_launch ("videotestsrc is-live=true ! "
      SMALL_VIDEO " ! sandboxbin name=bin spare=true description=identity ! "
      "fakesink name=sink", NULL);
  GstElement *bin = gst_bin_get_by_name (GST_BIN (pipeline), "bin");
  GstStructure *started;
  gint first_pid, spare, flowed = 0;

  count_buffers (pipeline, &flowed);
  wait_for_state (pipeline, GST_STATE_PLAYING);
  started = wait_for_element (pipeline, "sandboxbin-worker-started", FALSE);
  first_pid = started_pid (started, FALSE);
  gst_structure_free (started);
  spare = wait_for_spare (bin, 0);
  wait_for_state (pipeline, GST_STATE_READY);
  wait_for_state (pipeline, GST_STATE_PLAYING);
  started = wait_for_element (pipeline, "sandboxbin-worker-started", FALSE);
  fail_unless_equals_int (started_pid (started, TRUE), spare);
  gst_structure_free (started);
  assert_gone (first_pid);
  assert_flowing (&flowed);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bin);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* ---- nothing left behind ----------------------------------------------- */

/* A crash each time: the spare takes over, the next one is spawned while
 * the stream ends, and NULL may come while it starts. */
static void
play_crash_and_stop (GstElement * pipeline)
{
  GstMessage *msg;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline), RUN_TIMEOUT,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

GST_START_TEST (test_null_with_spare_leaves_nothing_behind)
{
  GstElement *pipeline = gst_parse_launch ("videotestsrc num-buffers=60 ! "
      SMALL_VIDEO " ! sandboxbin name=bin spare=true restart-delay=0 "
      "description=\"" CRASH_AT_41 "\" ! fakesink", NULL);
  GstElement *bin = gst_bin_get_by_name (GST_BIN (pipeline), "bin");
  gchar *names, *names_before;
  guint threads, children;
  gint fds, spare;

  /* Thread pools and plugins settle in the first_pid runs. */
  play_crash_and_stop (pipeline);
  play_crash_and_stop (pipeline);
  fds = px_test_count_fds ();
  threads = count_threads ();
  names_before = thread_names ();
  children = px_check_count_children ();
  fail_unless_equals_int (children, 0);

  /* a spare that is ready when the bin goes back to NULL */
  wait_for_state (pipeline, GST_STATE_READY);
  spare = wait_for_spare (bin, 0);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  fail_unless_equals_int (get_int (bin, "spare-pid"), 0);
  assert_gone (spare);

  for (guint i = 0; i < 8; i++)
    play_crash_and_stop (pipeline);
  fail_unless_equals_int (px_test_count_fds (), fds);
  names = thread_names ();
  fail_unless (count_threads () <= threads, "%u threads (%s), %u before (%s)",
      count_threads (), names, threads, names_before);
  g_free (names);
  g_free (names_before);
  fail_unless_equals_int (px_check_count_children (), children);
  gst_object_unref (bin);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static Suite *
sandboxbin_spare_suite (void)
{
  Suite *s = suite_create ("sandboxbin_spare");
  TCase *property = tcase_create ("property");
  TCase *crashes = tcase_create ("crashes");
  TCase *life = tcase_create ("life-cycle");

  suite_add_tcase (s, property);
  tcase_add_test (property, test_spare_defaults_off);
  tcase_add_test (property, test_no_spare_without_the_property);

  suite_add_tcase (s, crashes);
  tcase_set_timeout (crashes, 120);
  tcase_add_test (crashes, test_crash_uses_the_spare);
  tcase_add_test (crashes, test_second_crash_gets_the_next_spare);
  tcase_add_test (crashes, test_source_takes_the_spare);

  suite_add_tcase (s, life);
  tcase_set_timeout (life, 120);
  tcase_add_test (life, test_idle_spare_killed_is_replaced);
  tcase_add_test (life, test_setting_changed_in_ready_renews_the_spare);
  tcase_add_test (life, test_ready_and_back_takes_the_spare);
  tcase_add_test (life, test_null_with_spare_leaves_nothing_behind);
  return s;
}

GST_CHECK_MAIN (sandboxbin_spare);
