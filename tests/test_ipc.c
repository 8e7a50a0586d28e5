/* Parallax — multi-process tests for ipcsink and ipcsrc.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every test runs the two ends of a connection in different processes. The
 * other end is one of:
 *   - gst-launch-1.0;
 *   - this test binary started again as a helper (see helper_main()): it
 *     runs one pipeline, or a scripted producer built on GstHarness, and
 *     writes what passed its element named "sink" to a result file, one
 *     line per buffer or event (see describe_buffer());
 *   - ipc-hostile-peer, which breaks the protocol in one chosen way.
 * The end under scrutiny usually runs in the test process itself, so that
 * its bus messages, properties and open fds can be checked. The plugin is
 * loaded from the registry, as an application would.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/allocators/allocators.h>

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "px-test-util.h"

/* Set in the environment of a helper process. */
#define HELPER_ENV "PX_IPC_HELPER"
/* A helper never outlives a hung test by long. */
#define HELPER_LIFETIME_S 100
/* How long a test waits for something that should happen at once. */
#define WAIT_MS 5000
/* For a process the test starts (gst-launch-1.0, under a sanitizer on a
 * loaded machine) to connect: a bound, not a measure. */
#define SPAWN_WAIT_MS 30000

/* ---- what passes a pad, as text ---------------------------------------- */

/* Records the buffers and events that pass the sink pad of one element, as
 * lines of text (the same in the test process and in a helper, which also
 * writes them to its result file as they come). */
typedef struct
{
  GMutex lock;
  GCond cond;
  GPtrArray *lines;
  FILE *out;
  guint n_buffers;
  gboolean checksums;
  gboolean count_only;          /* count buffers, record nothing */
  guint hold;                   /* keep the first @hold buffers alive */
  GPtrArray *held;
  /* helper: after @switch_after buffers, set @switch_caps on "switch" */
  guint switch_after;
  GstCaps *switch_caps;
  GstElement *switch_element;
} Recorder;

static guint64
checksum (GstBuffer * buffer)
{
  GstMapInfo map;
  guint64 hash = 0xcbf29ce484222325ull; /* FNV-1a */

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return 0;
  for (gsize i = 0; i < map.size; i++)
    hash = (hash ^ map.data[i]) * 0x100000001b3ull;
  gst_buffer_unmap (buffer, &map);
  return hash;
}

static gchar *
describe_video_meta (GstBuffer * buffer)
{
  GstVideoMeta *meta = gst_buffer_get_video_meta (buffer);
  GString *s;

  if (meta == NULL)
    return g_strdup ("-");
  s = g_string_new (NULL);
  g_string_append_printf (s, "%d:%ux%u:%u", meta->format, meta->width,
      meta->height, meta->n_planes);
  for (guint i = 0; i < meta->n_planes; i++)
    g_string_append_printf (s, ":%" G_GSIZE_FORMAT "/%d", meta->offset[i],
        meta->stride[i]);
  return g_string_free (s, FALSE);
}

/* "abs" is the buffer's running time plus the element's base time: an
 * instant on the pipeline clock, i.e. on CLOCK_MONOTONIC for the system
 * clock that both processes use. */
static gchar *
describe_buffer (GstPad * pad, GstBuffer * buffer, Recorder * rec, guint n)
{
  GstElement *element = GST_ELEMENT (gst_pad_get_parent (pad));
  GstEvent *event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  GstClock *clock = gst_element_get_clock (element);
  GstMemory *mem = gst_buffer_peek_memory (buffer, 0);
  gint64 abs = -1, now = -1, base = -1;
  gchar *meta = describe_video_meta (buffer);
  gchar *line;

  if (clock != NULL) {
    const GstSegment *segment;

    base = (gint64) gst_element_get_base_time (element);
    now = (gint64) gst_clock_get_time (clock);
    if (event != NULL && GST_BUFFER_PTS_IS_VALID (buffer)) {
      gst_event_parse_segment (event, &segment);
      if (segment->format == GST_FORMAT_TIME)
        abs = base + (gint64) gst_segment_to_running_time (segment,
            GST_FORMAT_TIME, GST_BUFFER_PTS (buffer));
    }
    gst_object_unref (clock);
  }
  line = g_strdup_printf ("B n=%u sum=%016" G_GINT64_MODIFIER "x size=%"
      G_GSIZE_FORMAT " pts=%" G_GINT64_FORMAT " dts=%" G_GINT64_FORMAT
      " dur=%" G_GINT64_FORMAT " off=%" G_GINT64_FORMAT " offend=%"
      G_GINT64_FORMAT " flags=%x abs=%" G_GINT64_FORMAT " base=%"
      G_GINT64_FORMAT " now=%" G_GINT64_FORMAT " fd=%d ro=%d meta=%s", n,
      rec->checksums ? checksum (buffer) : 0, gst_buffer_get_size (buffer),
      (gint64) GST_BUFFER_PTS (buffer), (gint64) GST_BUFFER_DTS (buffer),
      (gint64) GST_BUFFER_DURATION (buffer),
      (gint64) GST_BUFFER_OFFSET (buffer),
      (gint64) GST_BUFFER_OFFSET_END (buffer), GST_BUFFER_FLAGS (buffer), abs,
      base, now, gst_is_fd_memory (mem) ? gst_fd_memory_get_fd (mem) : -1,
      GST_MEMORY_IS_READONLY (mem), meta);
  g_free (meta);
  if (event)
    gst_event_unref (event);
  gst_object_unref (element);
  return line;
}

/* Caps and tag events show their caps or tags, other events their
 * structure. */
static gchar *
describe_event (GstEvent * event, gboolean upstream)
{
  const GstStructure *s = gst_event_get_structure (event);
  gchar *text, *line;

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstCaps *caps;

    gst_event_parse_caps (event, &caps);
    text = gst_caps_to_string (caps);
  } else if (GST_EVENT_TYPE (event) == GST_EVENT_TAG) {
    GstTagList *tags;

    gst_event_parse_tag (event, &tags);
    text = gst_tag_list_to_string (tags);
  } else {
    text = s ? gst_structure_to_string (s) : g_strdup ("-");
  }
  line = g_strdup_printf ("%c %s %s", upstream ? 'U' : 'E',
      GST_EVENT_TYPE_NAME (event), text);

  g_free (text);
  return line;
}

static void
recorder_add_line (Recorder * rec, gchar * line)
{
  /* with lock */
  if (rec->out) {
    fputs (line, rec->out);
    fputc ('\n', rec->out);
  }
  g_ptr_array_add (rec->lines, line);
  g_cond_broadcast (&rec->cond);
}

static GstPadProbeReturn
record_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Recorder *rec = user_data;
  gboolean switch_now = FALSE;

  g_mutex_lock (&rec->lock);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
    guint n = rec->n_buffers++;

    if (!rec->count_only)
      recorder_add_line (rec, describe_buffer (pad, buffer, rec, n));
    else
      g_cond_broadcast (&rec->cond);
    if (rec->held->len < rec->hold)
      g_ptr_array_add (rec->held, gst_buffer_ref (buffer));
    switch_now = rec->switch_element != NULL &&
        rec->n_buffers == rec->switch_after;
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_BOTH) {
    recorder_add_line (rec, describe_event (GST_PAD_PROBE_INFO_EVENT (info),
            (info->type & GST_PAD_PROBE_TYPE_EVENT_UPSTREAM) != 0));
  }
  g_mutex_unlock (&rec->lock);
  if (switch_now)
    g_object_set (rec->switch_element, "caps", rec->switch_caps, NULL);
  return GST_PAD_PROBE_OK;
}

/* Records what passes the sink pad of @element. */
static Recorder *
recorder_attach (GstElement * element, gboolean checksums)
{
  Recorder *rec = g_new0 (Recorder, 1);
  GstPad *pad = gst_element_get_static_pad (element, "sink");

  g_assert (pad != NULL);
  g_mutex_init (&rec->lock);
  g_cond_init (&rec->cond);
  rec->lines = g_ptr_array_new_with_free_func (g_free);
  rec->held = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  rec->checksums = checksums;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_BOTH | GST_PAD_PROBE_TYPE_EVENT_FLUSH,
      record_probe, rec, NULL);
  gst_object_unref (pad);
  return rec;
}

static void
recorder_free (Recorder * rec)
{
  g_ptr_array_unref (rec->lines);
  g_ptr_array_unref (rec->held);
  g_clear_pointer (&rec->switch_caps, gst_caps_unref);
  g_clear_object (&rec->switch_element);
  g_mutex_clear (&rec->lock);
  g_cond_clear (&rec->cond);
  g_free (rec);
}

/* Waits until at least @n buffers passed; FALSE on timeout. */
static gboolean
recorder_wait_buffers (Recorder * rec, guint n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  gboolean ok = TRUE;

  g_mutex_lock (&rec->lock);
  while (rec->n_buffers < n && ok)
    ok = g_cond_wait_until (&rec->cond, &rec->lock, deadline);
  ok = rec->n_buffers >= n;
  g_mutex_unlock (&rec->lock);
  return ok;
}

static guint
recorder_n_buffers (Recorder * rec)
{
  guint n;

  g_mutex_lock (&rec->lock);
  n = rec->n_buffers;
  g_mutex_unlock (&rec->lock);
  return n;
}

/* Drops the first @n buffers the recorder holds, or all of them (and holds
 * no more) if @n is 0. */
static void
recorder_release (Recorder * rec, guint n)
{
  GPtrArray *released = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);

  g_mutex_lock (&rec->lock);
  if (n == 0) {
    n = rec->held->len;
    rec->hold = 0;
  }
  n = MIN (n, rec->held->len);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (released, g_ptr_array_steal_index (rec->held, 0));
  g_mutex_unlock (&rec->lock);
  g_ptr_array_unref (released);
}

/* A copy of the lines recorded so far. */
static gchar **
recorder_lines (Recorder * rec)
{
  gchar **lines;

  g_mutex_lock (&rec->lock);
  lines = g_new0 (gchar *, rec->lines->len + 1);
  for (guint i = 0; i < rec->lines->len; i++)
    lines[i] = g_strdup (g_ptr_array_index (rec->lines, i));
  g_mutex_unlock (&rec->lock);
  return lines;
}

/* ---- reading recorded lines -------------------------------------------- */

static gchar **
read_lines (const gchar * path)
{
  gchar *contents = NULL;
  gchar **lines;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return g_new0 (gchar *, 1);
  lines = g_strsplit (g_strchomp (contents), "\n", -1);
  g_free (contents);
  return lines;
}

/* The lines starting with @prefix (borrowed from @lines). */
static GPtrArray *
grep (gchar ** lines, const gchar * prefix)
{
  GPtrArray *found = g_ptr_array_new ();

  for (; lines && *lines; lines++) {
    if (g_str_has_prefix (*lines, prefix))
      g_ptr_array_add (found, *lines);
  }
  return found;
}

/* The text after " key=" in @line, up to the next space. */
static gchar *
field_text (const gchar * line, const gchar * key)
{
  gchar *needle = g_strdup_printf (" %s=", key);
  const gchar *at = strstr (line, needle);
  gchar *value;

  fail_unless (at != NULL, "no %s in '%s'", key, line);
  at += strlen (needle);
  value = g_strndup (at, strcspn (at, " "));
  g_free (needle);
  return value;
}

static gint64
field_int (const gchar * line, const gchar * key)
{
  gchar *text = field_text (line, key);
  gint64 value = g_ascii_strtoll (text, NULL, 0);

  g_free (text);
  return value;
}

static guint64
field_hex (const gchar * line, const gchar * key)
{
  gchar *text = field_text (line, key);
  guint64 value = g_ascii_strtoull (text, NULL, 16);

  g_free (text);
  return value;
}

/* The first line containing @text, or NULL. */
static const gchar *
find_line (gchar ** lines, const gchar * text)
{
  for (; lines && *lines; lines++) {
    if (strstr (*lines, text))
      return *lines;
  }
  return NULL;
}

/* Waits until the file at @path has a line containing @text. */
static gboolean
wait_for_line (const gchar * path, const gchar * text, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  do {
    gchar **lines = read_lines (path);
    gboolean found = find_line (lines, text) != NULL;

    g_strfreev (lines);
    if (found)
      return TRUE;
    g_usleep (20 * 1000);
  } while (g_get_monotonic_time () < deadline);
  return FALSE;
}

/* ---- other processes --------------------------------------------------- */

typedef struct
{
  GPid pid;
  gchar *log;
} Child;

/* The processes a test started: killed and reaped when it ends, whatever
 * happens (they also die with the test process: PR_SET_PDEATHSIG). */
static GArray *children;

/* This test's temporary directory, inside the suite's: a test that fails
 * (exit) or is killed (timeout) never reaches its cleanup(), and the suite
 * process removes what is left when it exits. */
static gchar *dir;
static gchar *suite_dir;
static pid_t suite_pid;

static void
remove_tree (const gchar * path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d)) != NULL) {
    gchar *child = g_build_filename (path, name, NULL);

    if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
        !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
      remove_tree (child);
    else
      g_unlink (child);
    g_free (child);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (path);
}

static void
remove_suite_dir (void)
{
  if (getpid () == suite_pid && suite_dir != NULL)
    remove_tree (suite_dir);
}

static gchar *
test_dir (void)
{
  if (dir == NULL) {
    dir = g_build_filename (suite_dir, "test-XXXXXX", NULL);
    fail_unless (g_mkdtemp (dir) != NULL, "%s: %s", dir, g_strerror (errno));
  }
  return dir;
}

/* A fresh path in the test's directory. */
static gchar *
test_path (const gchar * name)
{
  return g_build_filename (test_dir (), name, NULL);
}

/* Starts @argv with stdout and stderr in @log. @pass_fd, if not -1, becomes
 * the child's fd 3; every other fd above 2 is closed. @nofile, if not 0,
 * is the child's RLIMIT_NOFILE. With @stdout_pipe, the child's stdout is a
 * pipe whose read end is returned there. */
static GPid
spawn_full (gchar ** argv, const gchar * const *env, const gchar * log,
    int pass_fd, rlim_t nofile, int *stdout_pipe)
{
  gchar **envp = g_get_environ ();
  int pipe_fds[2] = { -1, -1 };
  struct rlimit limit;
  Child child;
  int log_fd;
  pid_t pid;

  for (; env && env[0]; env += 2)
    envp = g_environ_setenv (envp, env[0], env[1], TRUE);
  log_fd = open (log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  fail_unless (log_fd >= 0);
  if (stdout_pipe)
    fail_unless (pipe2 (pipe_fds, O_CLOEXEC) == 0);
  getrlimit (RLIMIT_NOFILE, &limit);
  if (nofile)
    limit.rlim_cur = nofile;

  pid = fork ();
  fail_unless (pid >= 0);
  if (pid == 0) {
    /* Only async-signal-safe calls from here on. */
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    dup2 (stdout_pipe ? pipe_fds[1] : log_fd, 1);
    dup2 (log_fd, 2);
    if (pass_fd == 3)
      fcntl (3, F_SETFD, 0);
    else if (pass_fd >= 0)
      dup2 (pass_fd, 3);
    close_range (pass_fd >= 0 ? 4 : 3, ~0u, 0);
    setrlimit (RLIMIT_NOFILE, &limit);
    execve (argv[0], argv, envp);
    _exit (127);
  }
  close (log_fd);
  if (stdout_pipe) {
    close (pipe_fds[1]);
    *stdout_pipe = pipe_fds[0];
  }
  g_strfreev (envp);
  if (children == NULL)
    children = g_array_new (FALSE, FALSE, sizeof (Child));
  child.pid = pid;
  child.log = g_strdup (log);
  g_array_append_val (children, child);
  return pid;
}

/* gst-launch-1.0 DESCRIPTION, output in a log named after @name. */
static GPid
spawn_launch (const gchar * name, const gchar * description)
{
  gchar *program = g_find_program_in_path ("gst-launch-1.0");
  gchar *log = g_strdup_printf ("%s/%s.log", test_dir (), name);
  gchar **words = NULL;
  GPtrArray *argv = g_ptr_array_new ();
  GPid pid;

  fail_unless (program != NULL, "gst-launch-1.0 not found");
  fail_unless (g_shell_parse_argv (description, NULL, &words, NULL));
  g_ptr_array_add (argv, program);
  for (gchar ** w = words; *w; w++)
    g_ptr_array_add (argv, *w);
  g_ptr_array_add (argv, NULL);
  pid = spawn_full ((gchar **) argv->pdata, NULL, log, -1, 0, NULL);
  g_ptr_array_unref (argv);
  g_strfreev (words);
  g_free (program);
  g_free (log);
  return pid;
}

static gchar *
self_path (void)
{
  gchar *path = g_file_read_link ("/proc/self/exe", NULL);

  fail_unless (path != NULL);
  return path;
}

/* This binary as a helper: "run" PIPELINE RESULT or "script" NAME PATH
 * RESULT. @env: extra NAME, VALUE pairs, NULL-terminated. Its log and
 * result file are named after @name; the result's path is returned. */
static gchar *
spawn_helper (const gchar * name, const gchar * mode, const gchar * arg,
    const gchar * path, const gchar * const *env, int pass_fd, rlim_t nofile,
    GPid * pid_out)
{
  gchar *self = self_path ();
  gchar *result = g_strdup_printf ("%s/%s.result", test_dir (), name);
  gchar *log = g_strdup_printf ("%s/%s.log", test_dir (), name);
  GPtrArray *full_env = g_ptr_array_new ();
  gchar *argv[6] = { self, (gchar *) mode, (gchar *) arg, NULL, NULL, NULL };
  GPid pid;

  argv[3] = path ? (gchar *) path : result;
  argv[4] = path ? result : NULL;
  g_ptr_array_add (full_env, (gpointer) HELPER_ENV);
  g_ptr_array_add (full_env, (gpointer) "1");
  for (; env && env[0]; env += 2) {
    g_ptr_array_add (full_env, (gpointer) env[0]);
    g_ptr_array_add (full_env, (gpointer) env[1]);
  }
  g_ptr_array_add (full_env, NULL);
  pid = spawn_full (argv, (const gchar * const *) full_env->pdata, log,
      pass_fd, nofile, NULL);
  if (pid_out)
    *pid_out = pid;
  g_ptr_array_unref (full_env);
  g_free (self);
  g_free (log);
  return result;
}

/* A helper running PIPELINE; returns its result file. */
static gchar *
spawn_run (const gchar * name, const gchar * pipeline,
    const gchar * const *env, GPid * pid)
{
  return spawn_helper (name, "run", pipeline, NULL, env, -1, 0, pid);
}

/* Waits for @pid to end: its exit status, 128 + signal if killed, or -1 if
 * it was still running after @timeout_ms (it is then killed). */
static int
wait_child (GPid pid, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  int status;

  for (;;) {
    pid_t ret = waitpid (pid, &status, WNOHANG);

    if (ret == pid) {
      for (guint i = 0; children && i < children->len; i++) {
        if (g_array_index (children, Child, i).pid == pid)
          g_array_index (children, Child, i).pid = 0;
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

static void
kill_child (GPid pid)
{
  kill (pid, SIGKILL);
  wait_child (pid, WAIT_MS);
}

/* Ends every process the test started and removes its files. Called at the
 * end of each test; a failed test leaves its files behind for a look. */
static void
cleanup (void)
{
  GDir *d;
  const gchar *name;
  gchar *path = test_dir ();

  for (guint i = 0; children && i < children->len; i++) {
    Child *child = &g_array_index (children, Child, i);

    if (child->pid > 0)
      kill_child (child->pid);
    g_free (child->log);
  }
  g_clear_pointer (&children, g_array_unref);
  d = g_dir_open (path, 0, NULL);
  while (d && (name = g_dir_read_name (d)) != NULL) {
    gchar *file = g_build_filename (path, name, NULL);

    g_unlink (file);
    g_free (file);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (path);
  g_clear_pointer (&dir, g_free);
}

/* Whether a socket listens at @path ("@name": abstract), as the kernel
 * lists it in /proc/net/unix (flag __SO_ACCEPTCON = 0x10000). */
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
    gchar **f = g_strsplit_set (g_strstrip (*l), " ", -1);
    GPtrArray *words = g_ptr_array_new ();

    for (gchar ** w = f; *w; w++) {
      if (**w)
        g_ptr_array_add (words, *w);
    }
    found = words->len >= 8 &&
        (g_ascii_strtoull (g_ptr_array_index (words, 3), NULL, 16) &
        0x10000) && g_str_equal (g_ptr_array_index (words, 7), path);
    g_ptr_array_unref (words);
    g_strfreev (f);
  }
  g_strfreev (lines);
  g_free (contents);
  return found;
}

static void
wait_listening (const gchar * path)
{
  gint64 deadline = g_get_monotonic_time () + 2 * WAIT_MS * 1000;

  while (!is_listening (path)) {
    fail_unless (g_get_monotonic_time () < deadline,
        "nobody listens at %s", path);
    g_usleep (10 * 1000);
  }
}

/* ---- pipelines in this process ----------------------------------------- */

static GstElement *
pipeline_new (const gchar * description)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);

  fail_unless (pipeline != NULL, "%s: %s", description,
      error ? error->message : "");
  g_clear_error (&error);
  return pipeline;
}

static void
play (GstElement * pipeline)
{
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
}

static void
stop (GstElement * pipeline)
{
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
}

/* The next message of one of @types, or NULL after @timeout_ms. */
static GstMessage *
pop_message (GstElement * pipeline, GstMessageType types, guint timeout_ms)
{
  return gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
      timeout_ms * GST_MSECOND, types);
}

static gchar *
message_text (GstMessage * msg)
{
  GError *error = NULL;
  gchar *debug = NULL, *text;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    gst_message_parse_error (msg, &error, &debug);
  else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING)
    gst_message_parse_warning (msg, &error, &debug);
  else
    return g_strdup (GST_MESSAGE_TYPE_NAME (msg));
  text = g_strdup_printf ("%s (%s)", error->message, debug ? debug : "");
  g_clear_error (&error);
  g_free (debug);
  return text;
}

/* Waits for EOS and fails on an error first. */
static void
wait_eos (GstElement * pipeline, guint timeout_ms)
{
  GstMessage *msg = pop_message (pipeline, GST_MESSAGE_EOS |
      GST_MESSAGE_ERROR, timeout_ms);
  gchar *text;

  fail_unless (msg != NULL, "no EOS within %u ms", timeout_ms);
  text = message_text (msg);
  fail_unless (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS, "%s", text);
  g_free (text);
  gst_message_unref (msg);
}

/* Waits for a message of @type from an element of @factory; returns its
 * text, or NULL on timeout. */
static gchar *
wait_message_from (GstElement * pipeline, GstMessageType type,
    const gchar * factory, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  for (;;) {
    gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
    GstMessage *msg;

    if (left <= 0)
      return NULL;
    msg = pop_message (pipeline, type, (guint) left);
    if (msg == NULL)
      return NULL;
    if (GST_IS_ELEMENT (GST_MESSAGE_SRC (msg)) &&
        g_str_equal (GST_OBJECT_NAME (gst_element_get_factory (GST_ELEMENT
                    (GST_MESSAGE_SRC (msg)))), factory)) {
      gchar *text = message_text (msg);

      gst_message_unref (msg);
      return text;
    }
    gst_message_unref (msg);
  }
}

/* @caps as text for a failure message (valid until the next call). */
static const gchar *
caps_text (const GstCaps * caps)
{
  static gchar *text;

  g_free (text);
  text = caps ? gst_caps_to_string (caps) : g_strdup ("(no caps)");
  return text;
}

static GstElement *
by_name (GstElement * pipeline, const gchar * name)
{
  GstElement *element = gst_bin_get_by_name (GST_BIN (pipeline), name);

  fail_unless (element != NULL, "no element %s", name);
  /* The pipeline keeps it alive for the test's duration. */
  gst_object_unref (element);
  return element;
}

static guint
uint_property (GstElement * element, const gchar * name)
{
  guint value;

  g_object_get (element, name, &value, NULL);
  return value;
}

static guint64
uint64_property (GstElement * element, const gchar * name)
{
  guint64 value;

  g_object_get (element, name, &value, NULL);
  return value;
}

/* Waits until the ipcsink @sink has @n clients. */
static gboolean
wait_clients (GstElement * sink, guint n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (uint_property (sink, "clients") != n) {
    if (g_get_monotonic_time () > deadline)
      return FALSE;
    g_usleep (10 * 1000);
  }
  return TRUE;
}

/* Waits until the ipcsink @sink sent at least @n buffers. */
static gboolean
wait_sent (GstElement * sink, guint64 n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (uint64_property (sink, "buffers-sent") < n) {
    if (g_get_monotonic_time () > deadline)
      return FALSE;
    g_usleep (10 * 1000);
  }
  return TRUE;
}

static gboolean
wait_nonzero (gint * value, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (g_atomic_int_get (value) == 0) {
    if (g_get_monotonic_time () > deadline)
      return FALSE;
    g_usleep (10 * 1000);
  }
  return TRUE;
}

/* ---- the helper process ------------------------------------------------ */

/* The buffers the "timestamps" script sends: every field differs. */
static void
script_timestamps (guint i, GstBuffer * buffer)
{
  static const GstBufferFlags flags[] = {
    GST_BUFFER_FLAG_HEADER, GST_BUFFER_FLAG_DELTA_UNIT,
    GST_BUFFER_FLAG_DISCONT | GST_BUFFER_FLAG_RESYNC, GST_BUFFER_FLAG_MARKER,
    GST_BUFFER_FLAG_GAP | GST_BUFFER_FLAG_DROPPABLE,
    GST_BUFFER_FLAG_CORRUPTED, GST_BUFFER_FLAG_LIVE,
    GST_BUFFER_FLAG_DECODE_ONLY, GST_BUFFER_FLAG_SYNC_AFTER,
    GST_BUFFER_FLAG_NON_DROPPABLE, 0,
  };

  GST_BUFFER_PTS (buffer) = 1000 + i * 40 * GST_MSECOND + i;
  GST_BUFFER_DTS (buffer) = i % 3 == 0 ? GST_CLOCK_TIME_NONE :
      i * 40 * GST_MSECOND;
  GST_BUFFER_DURATION (buffer) = 40 * GST_MSECOND - i;
  GST_BUFFER_OFFSET (buffer) = i % 4 == 1 ? GST_BUFFER_OFFSET_NONE : 100 + i;
  GST_BUFFER_OFFSET_END (buffer) = 200 + 2 * i;
  GST_BUFFER_FLAGS (buffer) = flags[i % G_N_ELEMENTS (flags)];
}

#define SCRIPT_BUFFERS 20

/* Padded I420 60x20: luma rows of 64 bytes, chroma rows of 48, gaps
 * between the planes. */
static const gsize padded_offset[GST_VIDEO_MAX_PLANES] = { 0, 64 * 20 + 256,
  64 * 20 + 256 + 48 * 10 + 128
};
static const gint padded_stride[GST_VIDEO_MAX_PLANES] = { 64, 48, 48 };

#define PADDED_SIZE (64 * 20 + 256 + 48 * 10 + 128 + 48 * 10 + 64)

static GstBuffer *
script_buffer (gsize size, guint seed)
{
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, size, NULL);
  GstMapInfo map;

  gst_buffer_map (buffer, &map, GST_MAP_WRITE);
  for (gsize i = 0; i < size; i++)
    map.data[i] = (guint8) (i * 7 + seed * 13);
  gst_buffer_unmap (buffer, &map);
  return buffer;
}

/* gst-check's assertions only work inside a test: the helper has its
 * own. */
#define helper_check(expr) \
  G_STMT_START { \
    if (!(expr)) { \
      g_printerr ("helper: %s:%d: %s failed\n", __FILE__, __LINE__, #expr); \
      exit (3); \
    } \
  } G_STMT_END

static void
push_event (GstHarness * h, GstEvent * event)
{
  helper_check (gst_harness_push_event (h, event));
}

static GstEvent *
caps_event (const gchar * text)
{
  GstCaps *caps = gst_caps_from_string (text);
  GstEvent *event = gst_event_new_caps (caps);

  gst_caps_unref (caps);
  return event;
}

static GstEvent *
segment_at (GstClockTime start)
{
  GstSegment segment;

  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = segment.time = start;
  return gst_event_new_segment (&segment);
}

/* Waits until the test creates @path: it has seen what the script must
 * not run ahead of. */
static void
wait_for_file (const gchar * path)
{
  while (!g_file_test (path, G_FILE_TEST_EXISTS))
    g_usleep (5 * 1000);
}

/* @path: the socket's; a script may wait for the test at @path.go. */
static void
run_script (GstHarness * h, const gchar * name, const gchar * path)
{
  if (g_str_equal (name, "timestamps")) {
    gst_harness_set_src_caps_str (h, "application/x-parallax-test");
    for (guint i = 0; i < SCRIPT_BUFFERS; i++) {
      GstBuffer *buffer = script_buffer (100 + i, i);

      script_timestamps (i, buffer);
      helper_check (gst_harness_push (h, buffer) == GST_FLOW_OK);
    }
  } else if (g_str_equal (name, "events")) {
    GstEvent *start = gst_event_new_stream_start ("parallax-stream");
    GstStream *stream = gst_stream_new ("parallax-stream", NULL,
        GST_STREAM_TYPE_UNKNOWN, GST_STREAM_FLAG_NONE);

    /* As demuxers send it: with a GstStream, which cannot cross. */
    gst_event_set_stream (start, stream);
    gst_event_set_group_id (start, 7);
    gst_object_unref (stream);
    push_event (h, start);
    push_event (h, caps_event ("application/x-parallax-test"));
    push_event (h, segment_at (0));
    push_event (h, gst_event_new_tag (gst_tag_list_new (GST_TAG_TITLE,
                "parallax", NULL)));
    gst_harness_push (h, script_buffer (64, 0));
    push_event (h, gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
            gst_structure_new ("parallax/test", "n", G_TYPE_INT, 1, NULL)));
    gst_harness_push (h, script_buffer (64, 1));
    push_event (h, gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM_STICKY,
            gst_structure_new ("parallax/sticky", "n", G_TYPE_INT, 2, NULL)));
    gst_harness_push (h, script_buffer (64, 2));
    push_event (h, gst_event_new_custom (GST_EVENT_CUSTOM_BOTH,
            gst_structure_new ("parallax/both", "n", G_TYPE_INT, 3, NULL)));
    gst_harness_push (h, script_buffer (64, 3));
  } else if (g_str_equal (name, "flush")) {
    /* The consumer is slow: when the flush arrives, caps B still waits in
     * its queue behind buffers of caps A. */
    gst_harness_set_src_caps_str (h, "application/x-parallax-test, v=a");
    for (guint i = 0; i < 5; i++)
      gst_harness_push (h, script_buffer (64, i));
    push_event (h, caps_event ("application/x-parallax-test, v=b"));
    push_event (h, gst_event_new_flush_start ());
    push_event (h, gst_event_new_flush_stop (TRUE));
    push_event (h, segment_at (0));
    gst_harness_push (h, script_buffer (128, 9));
  } else if (g_str_equal (name, "flush-blocked")) {
    /* A consumer in PAUSED prerolls the first buffer and its push waits
     * there; the flush behind it must still get through. Sent only once
     * the test saw the consumer preroll: a flush that came while the
     * buffer still waited in ipcsrc's queue would rightly drop it. */
    gchar *go = g_strconcat (path, ".go", NULL);

    gst_harness_set_src_caps_str (h, "application/x-parallax-test");
    gst_harness_push (h, script_buffer (64, 0));
    wait_for_file (go);
    g_free (go);
    push_event (h, gst_event_new_flush_start ());
    push_event (h, gst_event_new_flush_stop (TRUE));
    push_event (h, segment_at (0));
    gst_harness_push (h, script_buffer (128, 1));
  } else if (g_str_equal (name, "padded")) {
    gst_harness_set_src_caps_str (h,
        "video/x-raw, format=I420, width=60, height=20, framerate=25/1");
    for (guint i = 0; i < 5; i++) {
      GstBuffer *buffer = script_buffer (PADDED_SIZE, i);

      gst_buffer_add_video_meta_full (buffer, GST_VIDEO_FRAME_FLAG_NONE,
          GST_VIDEO_FORMAT_I420, 60, 20, 3, (gsize *) padded_offset,
          (gint *) padded_stride);
      GST_BUFFER_PTS (buffer) = i * 40 * GST_MSECOND;
      helper_check (gst_harness_push (h, buffer) == GST_FLOW_OK);
    }
  } else {
    helper_check (!"no such script");
  }
  push_event (h, gst_event_new_eos ());
}

static void
write_sink_stats (FILE * out, GstElement * sink)
{
  if (sink == NULL || !g_str_equal (GST_OBJECT_NAME (gst_element_get_factory
              (sink)), "ipcsink"))
    return;
  fprintf (out, "S clients=%u sent=%" G_GUINT64_FORMAT " copied=%"
      G_GUINT64_FORMAT " dropped=%" G_GUINT64_FORMAT "\n",
      uint_property (sink, "clients"), uint64_property (sink, "buffers-sent"),
      uint64_property (sink, "buffers-copied"),
      uint64_property (sink, "buffers-dropped"));
}

/* A producer driven by GstHarness: events and buffers exactly as a script
 * says, pushed once a consumer is there. */
static int
helper_script (const gchar * name, const gchar * path, FILE * out)
{
  GstElement *sink = gst_element_factory_make ("ipcsink", "sink");
  GstHarness *h;
  Recorder *rec;

  g_object_set (sink, "socket-path", path, NULL);
  rec = recorder_attach (sink, TRUE);
  rec->out = out;
  h = gst_harness_new_with_element (sink, "sink", NULL);
  if (!wait_clients (sink, 1, 2 * WAIT_MS)) {
    fprintf (out, "X ERROR no consumer\n");
    return 1;
  }
  run_script (h, name, path);
  write_sink_stats (out, sink);
  fprintf (out, "X EOS\n");
  fflush (out);
  /* Let the consumer take everything before the connection closes. */
  g_usleep (200 * 1000);
  gst_harness_teardown (h);
  gst_object_unref (sink);
  recorder_free (rec);
  return 0;
}

/* Runs PIPELINE to EOS, recording its element "sink". Environment:
 *   PX_IPC_CHECKSUMS        checksum every buffer
 *   PX_IPC_COUNT_ONLY       count buffers, record nothing else
 *   PX_IPC_SWITCH_AFTER=N, PX_IPC_SWITCH_CAPS=CAPS
 *                           set CAPS on the capsfilter "switch" after N
 *                           buffers */
static int
helper_run (const gchar * description, FILE * out)
{
  GstElement *pipeline = gst_parse_launch (description, NULL);
  GstElement *sink;
  const gchar *switch_after = g_getenv ("PX_IPC_SWITCH_AFTER");
  Recorder *rec = NULL;
  gboolean eos = FALSE, done = FALSE;

  helper_check (pipeline != NULL);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  if (sink != NULL) {
    rec = recorder_attach (sink, g_getenv ("PX_IPC_CHECKSUMS") != NULL);
    rec->out = out;
    rec->count_only = g_getenv ("PX_IPC_COUNT_ONLY") != NULL;
    if (switch_after) {
      rec->switch_after = atoi (switch_after);
      rec->switch_caps = gst_caps_from_string (g_getenv ("PX_IPC_SWITCH_CAPS"));
      rec->switch_element = gst_bin_get_by_name (GST_BIN (pipeline), "switch");
    }
  }
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  while (!done) {
    GstMessage *msg = pop_message (pipeline, GST_MESSAGE_EOS |
        GST_MESSAGE_ERROR | GST_MESSAGE_WARNING, HELPER_LIFETIME_S * 1000);
    gchar *text = msg ? message_text (msg) : g_strdup ("timeout");

    if (rec)
      g_mutex_lock (&rec->lock);
    if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      fprintf (out, "W %s\n", text);
    } else {
      eos = msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
      done = TRUE;
      if (rec)
        fprintf (out, "N buffers=%u\n", rec->n_buffers);
      write_sink_stats (out, sink);
      fprintf (out, "X %s\n", eos ? "EOS" : text);
    }
    if (rec)
      g_mutex_unlock (&rec->lock);
    g_free (text);
    if (msg)
      gst_message_unref (msg);
  }
  fflush (out);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_clear_object (&sink);
  gst_object_unref (pipeline);
  if (rec)
    recorder_free (rec);
  return eos ? 0 : 1;
}

static int
helper_main (int argc, char **argv)
{
  FILE *out;
  int ret;

  gst_init (NULL, NULL);
  alarm (HELPER_LIFETIME_S);
  if (argc == 4 && g_str_equal (argv[1], "run")) {
    out = fopen (argv[3], "w");
    setvbuf (out, NULL, _IOLBF, 0);
    ret = helper_run (argv[2], out);
  } else if (argc == 5 && g_str_equal (argv[1], "script")) {
    out = fopen (argv[4], "w");
    setvbuf (out, NULL, _IOLBF, 0);
    ret = helper_script (argv[2], argv[3], out);
  } else {
    g_printerr ("unknown helper command\n");
    return 2;
  }
  fclose (out);
  return ret;
}

/* The helper runs before main(): the test suite never starts in it. */
static void __attribute__((constructor))
    maybe_run_helper (int argc, char **argv, char **envp)
{
  if (getenv (HELPER_ENV) != NULL)
    exit (helper_main (argc, argv));
}

/* ---- tests: data ------------------------------------------------------- */

/* @template with every "@@" replaced by @value. */
static gchar *
substitute (const gchar * template, const gchar * value)
{
  gchar **parts = g_strsplit (template, "@@", -1);
  gchar *text = g_strjoinv (value, parts);

  g_strfreev (parts);
  return text;
}

static GstElement *
pipeline_newf (const gchar * format, ...)
G_GNUC_PRINTF (1, 2);

     static GstElement *pipeline_newf (const gchar * format, ...)
{
  va_list args;
  gchar *description;
  GstElement *pipeline;

  va_start (args, format);
  description = g_strdup_vprintf (format, args);
  va_end (args);
  pipeline = pipeline_new (description);
  g_free (description);
  return pipeline;
}

static void
free_pipeline (GstElement * pipeline)
{
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

/* The "B" lines of a recording. */
static GPtrArray *
buffer_lines (gchar ** lines)
{
  return grep (lines, "B ");
}

/* Both recordings saw the same @n buffers, byte for byte. */
static void
assert_same_data (gchar ** producer, gchar ** consumer, guint n)
{
  GPtrArray *a = buffer_lines (producer), *b = buffer_lines (consumer);

  fail_unless_equals_int (a->len, n);
  fail_unless_equals_int (b->len, n);
  for (guint i = 0; i < n; i++) {
    fail_unless_equals_uint64 (field_hex (a->pdata[i], "sum"),
        field_hex (b->pdata[i], "sum"));
    fail_unless_equals_int64 (field_int (a->pdata[i], "size"),
        field_int (b->pdata[i], "size"));
  }
  g_ptr_array_unref (a);
  g_ptr_array_unref (b);
}

/* The value of @key in the "S" (ipcsink statistics) line of a result. */
static gint64
result_stat (gchar ** lines, const gchar * key)
{
  const gchar *line = find_line (lines, "S clients=");

  fail_unless (line != NULL, "no statistics in the result");
  return field_int (line, key);
}

static gint64
result_buffers (gchar ** lines)
{
  const gchar *line = find_line (lines, "N buffers=");

  fail_unless (line != NULL, "no buffer count in the result");
  return field_int (line, "buffers");
}

#define VIDEO_64x48 "video/x-raw,format=I420,width=64,height=48"

GST_START_TEST (test_every_buffer_arrives_unchanged)
{
  gchar *path = test_path ("sock");
  gchar *producer_desc = g_strdup_printf ("videotestsrc num-buffers=300 "
      "pattern=ball ! " VIDEO_64x48 " ! ipcsink name=sink socket-path=%s "
      "wait-for-connection=true", path);
  const gchar *env[] = { "PX_IPC_CHECKSUMS", "1", NULL };
  GPid producer;
  gchar *result = spawn_run ("producer", producer_desc, env, &producer);
  GstElement *pipeline;
  Recorder *rec;
  gchar **theirs, **ours;

  wait_listening (path);
  pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink name=sink", path);
  rec = recorder_attach (by_name (pipeline, "sink"), TRUE);
  play (pipeline);
  wait_eos (pipeline, 30000);
  stop (pipeline);
  fail_unless_equals_int (wait_child (producer, WAIT_MS), 0);

  theirs = read_lines (result);
  ours = recorder_lines (rec);
  assert_same_data (theirs, ours, 300);

  g_strfreev (theirs);
  g_strfreev (ours);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (result);
  g_free (producer_desc);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_abstract_socket)
{
  gchar *name = g_strdup_printf ("@parallax-test-%d-%u", getpid (),
      g_random_int ());
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=30 ! "
      "ipcsink socket-path=%s wait-for-connection=true", name);
  GstElement *pipeline;
  Recorder *rec;

  spawn_launch ("producer", desc);
  wait_listening (name);
  pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink name=sink", name);
  rec = recorder_attach (by_name (pipeline, "sink"), FALSE);
  play (pipeline);
  wait_eos (pipeline, 20000);
  fail_unless_equals_int (recorder_n_buffers (rec), 30);
  stop (pipeline);

  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (name);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_socket_mode)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline = pipeline_newf ("videotestsrc is-live=true ! "
      "ipcsink socket-path=%s socket-mode=0640", path);
  struct stat st;

  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PAUSED), GST_STATE_CHANGE_NO_PREROLL);
  fail_unless (stat (path, &st) == 0);
  fail_unless (S_ISSOCK (st.st_mode));
  fail_unless_equals_int (st.st_mode & 0777, 0640);
  stop (pipeline);
  /* The socket goes with the element. */
  fail_if (g_file_test (path, G_FILE_TEST_EXISTS));
  gst_object_unref (pipeline);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* A scripted producer (see run_script()) and an in-process consumer
 * described by @consumer (with "@@" for the socket path and an element
 * "sink"); returns both recordings. */
static void
run_with_script (const gchar * script, const gchar * consumer,
    gchar *** producer_lines, gchar *** consumer_lines)
{
  gchar *path = test_path ("sock");
  GPid pid;
  gchar *result = spawn_helper ("producer", "script", script, path, NULL,
      -1, 0, &pid);
  gchar *desc = substitute (consumer, path);
  GstElement *pipeline;
  Recorder *rec;

  wait_listening (path);
  pipeline = pipeline_new (desc);
  rec = recorder_attach (by_name (pipeline, "sink"), TRUE);
  play (pipeline);
  wait_eos (pipeline, 20000);
  stop (pipeline);
  fail_unless_equals_int (wait_child (pid, WAIT_MS), 0);
  *producer_lines = read_lines (result);
  *consumer_lines = recorder_lines (rec);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (result);
  g_free (path);
}

/* GstBufferFlags that cross processes. */
#define TRANSFERRED_FLAGS \
  (GST_BUFFER_FLAG_LIVE | GST_BUFFER_FLAG_DECODE_ONLY | \
   GST_BUFFER_FLAG_DISCONT | GST_BUFFER_FLAG_RESYNC | \
   GST_BUFFER_FLAG_CORRUPTED | GST_BUFFER_FLAG_MARKER | \
   GST_BUFFER_FLAG_HEADER | GST_BUFFER_FLAG_GAP | GST_BUFFER_FLAG_DROPPABLE | \
   GST_BUFFER_FLAG_DELTA_UNIT | GST_BUFFER_FLAG_SYNC_AFTER | \
   GST_BUFFER_FLAG_NON_DROPPABLE)

GST_START_TEST (test_timestamps_and_flags_preserved)
{
  gchar **theirs, **ours;
  GPtrArray *bufs;

  run_with_script ("timestamps",
      "ipcsrc socket-path=@@ is-live=false ! fakesink name=sink", &theirs,
      &ours);
  assert_same_data (theirs, ours, SCRIPT_BUFFERS);
  bufs = buffer_lines (ours);
  for (guint i = 0; i < SCRIPT_BUFFERS; i++) {
    const gchar *line = bufs->pdata[i];
    GstBuffer *expected = gst_buffer_new ();
    guint flags;

    script_timestamps (i, expected);
    fail_unless_equals_int64 (field_int (line, "pts"),
        (gint64) GST_BUFFER_PTS (expected));
    fail_unless_equals_int64 (field_int (line, "dts"),
        (gint64) GST_BUFFER_DTS (expected));
    fail_unless_equals_int64 (field_int (line, "dur"),
        (gint64) GST_BUFFER_DURATION (expected));
    fail_unless_equals_int64 (field_int (line, "off"),
        (gint64) GST_BUFFER_OFFSET (expected));
    fail_unless_equals_int64 (field_int (line, "offend"),
        (gint64) GST_BUFFER_OFFSET_END (expected));
    flags = GST_BUFFER_FLAGS (expected);
    /* The first buffer of a connection is a discontinuity. */
    if (i == 0)
      flags |= GST_BUFFER_FLAG_DISCONT;
    fail_unless_equals_int (field_hex (line, "flags") & TRANSFERRED_FLAGS,
        flags);
    gst_buffer_unref (expected);
  }
  g_ptr_array_unref (bufs);
  g_strfreev (theirs);
  g_strfreev (ours);
  cleanup ();
}

GST_END_TEST;

/* The event types and buffers of a recording, in order: "caps buffer
 * eos". */
static gchar *
sequence (gchar ** lines)
{
  GString *s = g_string_new (NULL);

  for (; *lines; lines++) {
    gboolean event = g_str_has_prefix (*lines, "E ");

    if (!event && !g_str_has_prefix (*lines, "B "))
      continue;
    if (s->len)
      g_string_append_c (s, ' ');
    if (event)
      g_string_append_len (s, *lines + 2, strcspn (*lines + 2, " "));
    else
      g_string_append (s, "buffer");
  }
  return g_string_free (s, FALSE);
}

GST_START_TEST (test_events_forwarded_in_order)
{
  gchar **theirs, **ours;
  gchar *seq;

  run_with_script ("events",
      "ipcsrc socket-path=@@ is-live=false ! fakesink name=sink", &theirs,
      &ours);
  seq = sequence (ours);
  fail_unless_equals_string (seq, "stream-start caps segment tag buffer "
      "custom-downstream buffer custom-downstream-sticky buffer custom-both "
      "buffer eos");
  fail_unless (find_line (ours, "title=(string)parallax") != NULL);
  fail_unless (find_line (ours, "parallax/test, n=(int)1") != NULL);
  fail_unless (find_line (ours, "parallax/sticky, n=(int)2") != NULL);
  fail_unless (find_line (ours, "parallax/both, n=(int)3") != NULL);
  /* Same stream id and group on both sides. */
  fail_unless (find_line (ours, "stream-id=(string)parallax-stream,") != NULL);
  fail_unless (find_line (ours, "group-id=(uint)7") != NULL);
  g_free (seq);
  g_strfreev (theirs);
  g_strfreev (ours);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_flush_keeps_sticky_events)
{
  gchar **theirs, **ours;
  const gchar *last_caps = NULL;
  const gchar *last_buffer = NULL;
  gchar *seq;

  /* The slow consumer still queues caps B when the flush arrives. */
  run_with_script ("flush", "ipcsrc socket-path=@@ is-live=false ! "
      "identity sleep-time=100000 ! fakesink name=sink", &theirs, &ours);
  seq = sequence (ours);
  fail_unless (strstr (seq, "flush-start flush-stop") != NULL, "%s", seq);
  for (gchar ** l = ours; *l; l++) {
    if (g_str_has_prefix (*l, "E caps"))
      last_caps = *l;
    if (g_str_has_prefix (*l, "B "))
      last_buffer = *l;
  }
  fail_unless (last_buffer != NULL);
  fail_unless_equals_int64 (field_int (last_buffer, "size"), 128);
  /* The buffer after the flush goes out with the caps sent before it. */
  fail_unless (last_caps != NULL && strstr (last_caps, "v=(string)b"),
      "caps lost in the flush: %s", seq);
  g_free (seq);
  g_strfreev (theirs);
  g_strfreev (ours);
  cleanup ();
}

GST_END_TEST;

/* A flush from the producer reaches a consumer whose push waits downstream
 * (a sink prerolled in PAUSED): the connection is still read while the
 * thread that pushes is blocked. */
GST_START_TEST (test_flush_reaches_blocked_push)
{
  gchar *path = test_path ("sock");
  GPid pid;
  gchar *result = spawn_helper ("producer", "script", "flush-blocked", path,
      NULL, -1, 0, &pid);
  GstElement *pipeline;
  Recorder *rec;
  gchar **ours;
  gchar *seq, *go;

  wait_listening (path);
  pipeline = pipeline_newf ("ipcsrc socket-path=%s is-live=false ! "
      "fakesink name=sink", path);
  rec = recorder_attach (by_name (pipeline, "sink"), FALSE);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE);
  /* Prerolled: the push of the first buffer waits in the sink. */
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
          WAIT_MS * GST_MSECOND), GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (recorder_n_buffers (rec), 1);
  go = g_strconcat (path, ".go", NULL);
  fail_unless (g_file_set_contents (go, "", 0, NULL));
  /* The second buffer comes after the flush: it prerolls again. */
  fail_unless (recorder_wait_buffers (rec, 2, 20000),
      "the flush did not reach the blocked push");
  ours = recorder_lines (rec);
  seq = sequence (ours);
  fail_unless (strstr (seq, "buffer flush-start flush-stop segment buffer")
      != NULL, "%s", seq);
  play (pipeline);
  wait_eos (pipeline, 20000);
  stop (pipeline);
  fail_unless_equals_int (wait_child (pid, WAIT_MS), 0);

  g_free (seq);
  g_free (go);
  g_strfreev (ours);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (result);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_video_meta_strides_and_offsets)
{
  gchar **theirs, **ours;
  GPtrArray *bufs;
  gchar *expected = g_strdup_printf ("%d:60x20:3:%d/%d:%d/%d:%d/%d",
      GST_VIDEO_FORMAT_I420, (int) padded_offset[0], padded_stride[0],
      (int) padded_offset[1], padded_stride[1], (int) padded_offset[2],
      padded_stride[2]);

  /* videoconvert reads the planes through the meta. */
  run_with_script ("padded", "ipcsrc socket-path=@@ is-live=false ! "
      "identity name=sink ! videoconvert ! video/x-raw,format=RGB ! "
      "fakesink", &theirs, &ours);
  assert_same_data (theirs, ours, 5);
  bufs = buffer_lines (ours);
  for (guint i = 0; i < bufs->len; i++) {
    gchar *meta = field_text (bufs->pdata[i], "meta");

    fail_unless_equals_string (meta, expected);
    g_free (meta);
  }
  g_ptr_array_unref (bufs);
  g_free (expected);
  g_strfreev (theirs);
  g_strfreev (ours);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_caps_change_mid_stream)
{
  gchar *path = test_path ("sock");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=60 pattern=ball ! "
      "capsfilter name=switch caps=" VIDEO_64x48 " ! ipcsink name=sink "
      "socket-path=%s wait-for-connection=true", path);
  const gchar *env[] = { "PX_IPC_CHECKSUMS", "1", "PX_IPC_SWITCH_AFTER", "20",
    "PX_IPC_SWITCH_CAPS", "video/x-raw,format=I420,width=96,height=72", NULL
  };
  GPid producer;
  gchar *result = spawn_run ("producer", desc, env, &producer);
  GstElement *pipeline;
  Recorder *rec;
  gchar **theirs, **ours;
  GPtrArray *caps;
  gint64 size = 0;

  wait_listening (path);
  /* videoscale must renegotiate its input in the middle of the stream. */
  pipeline = pipeline_newf ("ipcsrc socket-path=%s is-live=false ! "
      "identity name=sink ! videoscale ! video/x-raw,width=32,height=32 ! "
      "fakesink", path);
  rec = recorder_attach (by_name (pipeline, "sink"), TRUE);
  play (pipeline);
  wait_eos (pipeline, 20000);
  stop (pipeline);
  fail_unless_equals_int (wait_child (producer, WAIT_MS), 0);

  theirs = read_lines (result);
  ours = recorder_lines (rec);
  assert_same_data (theirs, ours, 60);
  caps = grep (ours, "E caps");
  fail_unless_equals_int (caps->len, 2);
  fail_unless (strstr (caps->pdata[0], "width=(int)64"), "%s",
      (gchar *) caps->pdata[0]);
  fail_unless (strstr (caps->pdata[1], "width=(int)96"), "%s",
      (gchar *) caps->pdata[1]);
  /* Every buffer has the size of the caps before it. */
  for (gchar ** l = ours; *l; l++) {
    if (g_str_has_prefix (*l, "E caps"))
      size = strstr (*l, "width=(int)64") ? 64 * 48 * 3 / 2 : 96 * 72 * 3 / 2;
    else if (g_str_has_prefix (*l, "B "))
      fail_unless_equals_int64 (field_int (*l, "size"), size);
  }
  /* The new caps came with a new pool from the sink: still no copy. */
  fail_unless_equals_int64 (result_stat (theirs, "copied"), 0);

  g_ptr_array_unref (caps);
  g_strfreev (theirs);
  g_strfreev (ours);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (result);
  g_free (desc);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* ipcsink in this process, one gst-launch-1.0 consumer; returns the
 * sink's statistics after EOS. */
static void
run_sink_with_consumer (const gchar * source, guint64 * sent, guint64 * copied)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline = pipeline_newf ("%s ! ipcsink name=sink "
      "socket-path=%s wait-for-connection=true", source, path);
  GstElement *sink = by_name (pipeline, "sink");
  gchar *consumer = g_strdup_printf ("ipcsrc socket-path=%s ! fakesink",
      path);
  GPid pid;

  play (pipeline);
  wait_listening (path);
  pid = spawn_launch ("consumer", consumer);
  wait_eos (pipeline, 20000);
  *sent = uint64_property (sink, "buffers-sent");
  *copied = uint64_property (sink, "buffers-copied");
  fail_unless_equals_int (wait_child (pid, WAIT_MS), 0);
  stop (pipeline);
  gst_object_unref (pipeline);
  g_free (consumer);
  g_free (path);
}

GST_START_TEST (test_buffers_copied_when_upstream_ignores_the_pool)
{
  guint64 sent, copied;

  /* Audio buffers do not come from the sink's pool: each is copied once. */
  run_sink_with_consumer ("audiotestsrc num-buffers=40", &sent, &copied);
  fail_unless_equals_uint64 (sent, 40);
  fail_unless_equals_uint64 (copied, 40);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_no_copy_when_upstream_uses_the_pool)
{
  guint64 sent, copied;

  run_sink_with_consumer ("videotestsrc num-buffers=40 ! " VIDEO_64x48,
      &sent, &copied);
  fail_unless_equals_uint64 (sent, 40);
  fail_unless_equals_uint64 (copied, 0);
  cleanup ();
}

GST_END_TEST;

/* The mappings of memfds named @name in this process, and whether all of
 * them are read-only. */
static guint
count_mappings (const gchar * name, gboolean * all_readonly)
{
  gchar **lines = read_lines ("/proc/self/maps");
  gchar *needle = g_strdup_printf ("/memfd:%s", name);
  guint n = 0;

  *all_readonly = TRUE;
  for (gchar ** l = lines; *l; l++) {
    gchar **f;

    if (strstr (*l, needle) == NULL)
      continue;
    f = g_strsplit (*l, " ", 3);
    n++;
    *all_readonly &= g_str_has_prefix (f[1], "r-") && f[1][3] == 's';
    g_strfreev (f);
  }
  g_free (needle);
  g_strfreev (lines);
  return n;
}

GST_START_TEST (test_consumer_maps_each_arena_once_read_only)
{
  gchar *path = test_path ("sock");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=100 ! "
      VIDEO_64x48 " ! ipcsink socket-path=%s wait-for-connection=true",
      path);
  GstElement *pipeline;
  Recorder *rec;
  GPtrArray *bufs;
  gchar **lines;
  GstMemory *mem;
  GstMapInfo map;
  gboolean readonly;
  gint64 fd;

  spawn_launch ("producer", desc);
  wait_listening (path);
  pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink name=sink", path);
  rec = recorder_attach (by_name (pipeline, "sink"), FALSE);
  rec->hold = 1;
  play (pipeline);
  wait_eos (pipeline, 20000);

  lines = recorder_lines (rec);
  bufs = buffer_lines (lines);
  fail_unless_equals_int (bufs->len, 100);
  fd = field_int (bufs->pdata[0], "fd");
  fail_unless (fd >= 0, "not fd memory");
  for (guint i = 0; i < bufs->len; i++) {
    fail_unless_equals_int64 (field_int (bufs->pdata[i], "fd"), fd);
    fail_unless_equals_int64 (field_int (bufs->pdata[i], "ro"), 1);
  }
  /* One mapping for the arena, whatever the number of buffers, and the
   * kernel refuses to write it. */
  fail_unless_equals_int (count_mappings ("parallax-pool", &readonly), 1);
  fail_unless (readonly);
  mem = gst_buffer_peek_memory (g_ptr_array_index (rec->held, 0), 0);
  fail_unless (gst_is_fd_memory (mem));
  fail_if (gst_memory_map (mem, &map, GST_MAP_WRITE));

  recorder_release (rec, 0);
  stop (pipeline);
  g_ptr_array_unref (bufs);
  g_strfreev (lines);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* Runs 50 buffers from a producer lending 4 at once into a sink that keeps
 * the first @hold alive; returns the buffers it kept and, in *@copied,
 * ipcsrc's buffers-copied. */
static GPtrArray *
run_holding (guint hold, guint64 * copied)
{
  gchar *path = test_path ("sock");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=50 ! "
      VIDEO_64x48 " ! ipcsink socket-path=%s max-in-flight=4 "
      "wait-for-connection=true", path);
  GstElement *pipeline, *src;
  GPtrArray *held;
  Recorder *rec;

  spawn_launch ("producer", desc);
  wait_listening (path);
  pipeline = pipeline_newf ("ipcsrc name=src socket-path=%s is-live=false "
      "! fakesink name=sink enable-last-sample=false", path);
  rec = recorder_attach (by_name (pipeline, "sink"), FALSE);
  rec->hold = hold;
  play (pipeline);
  wait_eos (pipeline, 20000);
  fail_unless_equals_int (recorder_n_buffers (rec), 50);
  src = by_name (pipeline, "src");
  g_object_get (src, "buffers-copied", copied, NULL);
  held = g_ptr_array_ref (rec->held);
  stop (pipeline);

  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (path);
  cleanup ();
  return held;
}

/* Downstream keeps one buffer for good and lets every other one go: each
 * slot comes back with the last reference to its buffer, so the producer
 * lends all 50 (none is copied), with one of its four slots taken. (Two
 * kept, plus one in its push when the next arrives, would be the three
 * past which ipcsrc copies.) */
GST_START_TEST (test_slot_returns_with_the_last_reference)
{
  guint64 copied = G_MAXUINT64;
  GPtrArray *held = run_holding (1, &copied);

  fail_unless_equals_int (held->len, 1);
  for (guint i = 0; i < held->len; i++)
    fail_unless (gst_is_fd_memory (gst_buffer_peek_memory
            (g_ptr_array_index (held, i), 0)));
  fail_unless_equals_uint64 (copied, 0);
  g_ptr_array_unref (held);
}

GST_END_TEST;

/* Downstream keeps every buffer (a demuxer gathering a whole mdat before
 * its moov does so): the producer lends four at once, so the first three
 * are lent and, one slot always left to the producer, the others are
 * copied. The stream still reaches its end instead of waiting for ever on
 * slots that downstream keeps until more data comes. */
GST_START_TEST (test_consumer_that_keeps_every_buffer_gets_them_all)
{
  guint64 copied = 0;
  GPtrArray *held = run_holding (50, &copied);

  fail_unless_equals_int (held->len, 50);
  for (guint i = 0; i < held->len; i++) {
    gboolean lent = gst_is_fd_memory (gst_buffer_peek_memory
        (g_ptr_array_index (held, i), 0));

    fail_unless (lent == (i < 3), "buffer %u: lent %d", i, lent);
  }
  fail_unless_equals_uint64 (copied, 47);
  g_ptr_array_unref (held);
}

GST_END_TEST;

/* ---- tests: live and not live ------------------------------------------ */

GST_START_TEST (test_not_live_prerolls)
{
  gchar *path = test_path ("sock");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=50 ! "
      "ipcsink socket-path=%s wait-for-connection=true", path);
  GstElement *pipeline;
  GstSample *sample = NULL;

  spawn_launch ("producer", desc);
  wait_listening (path);
  pipeline = pipeline_newf ("ipcsrc socket-path=%s is-live=false ! "
      "fakesink name=sink", path);
  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PAUSED), GST_STATE_CHANGE_ASYNC);
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
          WAIT_MS * GST_MSECOND), GST_STATE_CHANGE_SUCCESS);
  g_object_get (by_name (pipeline, "sink"), "last-sample", &sample, NULL);
  fail_unless (sample != NULL, "nothing prerolled");
  gst_sample_unref (sample);
  stop (pipeline);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

#define LIVE_PRODUCER "videotestsrc is-live=true ! " \
  "video/x-raw,width=32,height=32,framerate=25/1 ! ipcsink socket-path=%s"

GST_START_TEST (test_live_does_not_preroll)
{
  gchar *path = test_path ("sock");
  gchar *desc = g_strdup_printf (LIVE_PRODUCER, path);
  GstElement *pipeline;

  spawn_launch ("producer", desc);
  wait_listening (path);
  pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink", path);
  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PAUSED), GST_STATE_CHANGE_NO_PREROLL);
  stop (pipeline);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_live_running_time_on_the_monotonic_clock)
{
  gchar *path = test_path ("sock");
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true num-buffers=60 ! "
      "video/x-raw,width=32,height=32,framerate=50/1 ! ipcsink name=sink "
      "socket-path=%s", path);
  GPid producer;
  gchar *result = spawn_run ("producer", desc, NULL, &producer);
  GstElement *pipeline;
  Recorder *rec;
  gchar **theirs, **ours;
  GPtrArray *a, *b;
  guint matched = 0;

  wait_listening (path);
  /* The two pipelines start far apart: their base times differ. */
  g_usleep (500 * 1000);
  pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink name=sink", path);
  rec = recorder_attach (by_name (pipeline, "sink"), FALSE);
  play (pipeline);
  fail_unless_equals_int (wait_child (producer, 10000), 0);
  fail_unless (recorder_wait_buffers (rec, 10, WAIT_MS));
  stop (pipeline);

  theirs = read_lines (result);
  ours = recorder_lines (rec);
  a = buffer_lines (theirs);
  b = buffer_lines (ours);
  fail_unless (b->len >= 10);
  fail_unless (ABS (field_int (a->pdata[0], "base") -
          field_int (b->pdata[0], "base")) > 300 * GST_MSECOND);
  /* Buffers are matched by their offset (videotestsrc numbers them). Each
   * has the same running time + base time, i.e. the same instant on
   * CLOCK_MONOTONIC, in both processes. */
  for (guint i = 0; i < b->len; i++) {
    for (guint j = 0; j < a->len; j++) {
      gint64 diff;

      if (field_int (a->pdata[j], "off") != field_int (b->pdata[i], "off"))
        continue;
      diff = field_int (a->pdata[j], "abs") - field_int (b->pdata[i], "abs");
      fail_unless (ABS (diff) < 50 * GST_MSECOND,
          "buffer %" G_GINT64_FORMAT " is %" G_GINT64_FORMAT " ns off",
          field_int (b->pdata[i], "off"), diff);
      matched++;
    }
  }
  fail_unless (matched >= 10);

  g_ptr_array_unref (a);
  g_ptr_array_unref (b);
  g_strfreev (theirs);
  g_strfreev (ours);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (result);
  g_free (desc);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_live_latency_is_the_producers)
{
  gchar *path = test_path ("sock");
  gchar *desc = g_strdup_printf (LIVE_PRODUCER, path);
  GstElement *pipeline;
  Recorder *rec;
  GstQuery *query;
  GstPad *pad;
  gboolean live;
  GstClockTime min, max;

  spawn_launch ("producer", desc);
  wait_listening (path);
  pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink name=sink", path);
  rec = recorder_attach (by_name (pipeline, "sink"), FALSE);
  play (pipeline);
  fail_unless (recorder_wait_buffers (rec, 3, WAIT_MS));

  /* One frame at 25/1, as videotestsrc reports it in the other process. */
  pad = gst_element_get_static_pad (by_name (pipeline, "sink"), "sink");
  query = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (pad, query));
  gst_query_parse_latency (query, &live, &min, &max);
  fail_unless (live);
  fail_unless_equals_uint64 (min, 40 * GST_MSECOND);
  fail_unless (max == GST_CLOCK_TIME_NONE || max >= min);
  gst_query_unref (query);
  gst_object_unref (pad);

  stop (pipeline);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_late_consumer_gets_the_sticky_events_first)
{
  gchar *path = test_path ("sock");
  gchar *desc = g_strdup_printf (LIVE_PRODUCER, path);
  GstElement *pipeline;
  Recorder *rec;
  gchar **lines, *seq;

  spawn_launch ("producer", desc);
  wait_listening (path);
  g_usleep (300 * 1000);        /* the stream is under way */
  pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink name=sink", path);
  rec = recorder_attach (by_name (pipeline, "sink"), FALSE);
  play (pipeline);
  fail_unless (recorder_wait_buffers (rec, 2, WAIT_MS));
  stop (pipeline);
  lines = recorder_lines (rec);
  seq = sequence (lines);
  /* (Setting the running-time offset on the pad sends them once more.) */
  fail_unless (g_str_has_prefix (seq, "stream-start caps segment "), "%s", seq);
  fail_unless (strstr (seq, "buffer") != NULL);
  *strstr (seq, "buffer") = '\0';
  fail_if (strstr (seq, "buffer") || strstr (seq, "eos"), "%s", seq);
  g_free (seq);
  g_strfreev (lines);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* ---- tests: several consumers ------------------------------------------ */

static void
count_signal (GstElement * sink, guint id, gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
}

GST_START_TEST (test_client_signals_and_count)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline = pipeline_newf ("videotestsrc is-live=true ! "
      "video/x-raw,width=32,height=32,framerate=50/1 ! ipcsink name=sink "
      "socket-path=%s", path);
  GstElement *sink = by_name (pipeline, "sink");
  gchar *consumer = g_strdup_printf ("ipcsrc socket-path=%s ! "
      "identity eos-after=10 ! fakesink", path);
  gint connected = 0, disconnected = 0;
  GPid pid;

  g_signal_connect (sink, "client-connected", G_CALLBACK (count_signal),
      &connected);
  g_signal_connect (sink, "client-disconnected", G_CALLBACK (count_signal),
      &disconnected);
  play (pipeline);
  wait_listening (path);
  fail_unless_equals_int (uint_property (sink, "clients"), 0);
  pid = spawn_launch ("consumer", consumer);
  fail_unless (wait_clients (sink, 1, SPAWN_WAIT_MS));
  fail_unless_equals_int (g_atomic_int_get (&connected), 1);
  /* It leaves after 10 buffers. */
  fail_unless_equals_int (wait_child (pid, WAIT_MS), 0);
  fail_unless (wait_clients (sink, 0, WAIT_MS));
  fail_unless_equals_int (g_atomic_int_get (&disconnected), 1);
  stop (pipeline);
  gst_object_unref (pipeline);
  g_free (consumer);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_max_clients_refuses_the_extra_client)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline = pipeline_newf ("videotestsrc is-live=true ! "
      "video/x-raw,width=32,height=32,framerate=50/1 ! ipcsink name=sink "
      "socket-path=%s max-clients=2", path);
  GstElement *sink = by_name (pipeline, "sink");
  gchar *consumer = g_strdup_printf ("ipcsrc socket-path=%s ! fakesink",
      path);
  gchar *warning, *result, **lines;
  GPid extra;

  play (pipeline);
  wait_listening (path);
  spawn_launch ("consumer1", consumer);
  spawn_launch ("consumer2", consumer);
  fail_unless (wait_clients (sink, 2, SPAWN_WAIT_MS));
  /* (A helper, not gst-launch-1.0, which ignores an error that comes while
   * a live pipeline starts.) */
  result = spawn_run ("consumer3", consumer, NULL, &extra);
  warning = wait_message_from (pipeline, GST_MESSAGE_WARNING, "ipcsink",
      WAIT_MS);
  fail_unless (warning != NULL && strstr (warning, "max-clients"),
      "%s", warning);
  /* The refused consumer fails with an error; the others stay. */
  fail_unless_equals_int (wait_child (extra, WAIT_MS), 1);
  lines = read_lines (result);
  fail_unless (find_line (lines, "X ") && find_line (lines,
          "without greeting us"));
  g_strfreev (lines);
  g_free (result);
  g_usleep (100 * 1000);
  fail_unless_equals_int (uint_property (sink, "clients"), 2);
  stop (pipeline);
  g_free (warning);
  gst_object_unref (pipeline);
  g_free (consumer);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* Three consumer helpers, two fast, one slow (@slow_us per buffer),
 * connected before the producer (in this process) starts. Returns their
 * recordings (fast, fast, slow). */
static void
run_three_consumers (GstElement * pipeline, const gchar * path,
    guint slow_us, gchar ** results[3])
{
  GstElement *sink = by_name (pipeline, "sink");
  gchar *fast = g_strdup_printf ("ipcsrc socket-path=%s ! fakesink name=sink",
      path);
  gchar *slow = g_strdup_printf ("ipcsrc socket-path=%s ! identity "
      "sleep-time=%u ! fakesink name=sink", path, slow_us);
  const gchar *env[] = { "PX_IPC_CHECKSUMS", "1", NULL };
  gchar *files[3];
  GPid pids[3];

  /* The sink listens from PAUSED on; the source waits for PLAYING. */
  fail_if (gst_element_set_state (sink, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE);
  wait_listening (path);
  files[0] = spawn_run ("fast1", fast, env, &pids[0]);
  files[1] = spawn_run ("fast2", fast, env, &pids[1]);
  files[2] = spawn_run ("slow", slow, env, &pids[2]);
  fail_unless (wait_clients (sink, 3, SPAWN_WAIT_MS));
  play (pipeline);
  wait_eos (pipeline, 30000);
  for (guint i = 0; i < 3; i++) {
    fail_unless_equals_int (wait_child (pids[i], 20000), 0);
    results[i] = read_lines (files[i]);
    g_free (files[i]);
  }
  g_free (fast);
  g_free (slow);
}

/* 60 live buffers, drop policy, a consumer that takes 200 ms a buffer. */
static GstElement *
drop_pipeline (const gchar * path)
{
  return pipeline_newf ("videotestsrc is-live=true num-buffers=60 "
      "pattern=ball ! video/x-raw,width=32,height=32,framerate=50/1 ! "
      "ipcsink name=sink socket-path=%s slow-client-policy=drop "
      "max-in-flight=8", path);
}

GST_START_TEST (test_slow_consumer_dropped_alone)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline = drop_pipeline (path);
  GstElement *sink = by_name (pipeline, "sink");
  gchar **results[3];
  gint64 slow;

  run_three_consumers (pipeline, path, 200000, results);
  /* The fast ones get every buffer, the slow one skips some. */
  fail_unless_equals_int64 (result_buffers (results[0]), 60);
  fail_unless_equals_int64 (result_buffers (results[1]), 60);
  slow = result_buffers (results[2]);
  fail_unless (slow > 0 && slow < 60, "slow consumer got %" G_GINT64_FORMAT,
      slow);
  fail_unless_equals_uint64 (uint64_property (sink, "buffers-dropped"),
      60 - slow);
  fail_unless_equals_uint64 (uint64_property (sink, "buffers-sent"),
      120 + slow);
  stop (pipeline);
  for (guint i = 0; i < 3; i++)
    g_strfreev (results[i]);
  gst_object_unref (pipeline);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* The producer cycles through its pool many times while the slow consumer
 * holds old buffers: their slots must stay untouched until it lets go. */
GST_START_TEST (test_slot_not_reused_while_a_consumer_holds_it)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline = drop_pipeline (path);
  Recorder *rec = recorder_attach (by_name (pipeline, "sink"), TRUE);
  gchar **results[3], **ours;
  GPtrArray *produced, *slow;

  run_three_consumers (pipeline, path, 200000, results);
  ours = recorder_lines (rec);
  produced = buffer_lines (ours);
  slow = buffer_lines (results[2]);
  fail_unless_equals_int (produced->len, 60);
  fail_unless (slow->len > 0);
  /* The slow consumer checksums each buffer after 200 ms, once it had
   * waited its turn: videotestsrc numbers its buffers (offset). */
  for (guint i = 0; i < slow->len; i++) {
    gint64 offset = field_int (slow->pdata[i], "off");

    fail_unless (offset >= 0 && offset < 60);
    fail_unless_equals_uint64 (field_hex (slow->pdata[i], "sum"),
        field_hex (produced->pdata[offset], "sum"));
  }
  stop (pipeline);
  g_ptr_array_unref (produced);
  g_ptr_array_unref (slow);
  for (guint i = 0; i < 3; i++)
    g_strfreev (results[i]);
  g_strfreev (ours);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_slow_consumer_blocks_everybody_gets_everything)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline = pipeline_newf ("videotestsrc num-buffers=30 "
      "pattern=ball ! " VIDEO_64x48 " ! ipcsink name=sink socket-path=%s "
      "slow-client-policy=block max-in-flight=4", path);
  Recorder *rec = recorder_attach (by_name (pipeline, "sink"), TRUE);
  gchar **results[3], **ours;

  /* The slow consumer checksums each buffer 30 ms after it arrived: a slot
   * reused before every consumer released it would show. */
  run_three_consumers (pipeline, path, 30000, results);
  ours = recorder_lines (rec);
  for (guint i = 0; i < 3; i++) {
    assert_same_data (ours, results[i], 30);
    g_strfreev (results[i]);
  }
  fail_unless_equals_uint64 (uint64_property (by_name (pipeline, "sink"),
          "buffers-dropped"), 0);
  stop (pipeline);
  g_strfreev (ours);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* ---- tests: one peer on an fd, both directions ------------------------- */

static void
socket_pair (int fds[2])
{
  fail_unless (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
          fds) == 0);
}

/* A producer helper on fd 3 (the other end is @fds[0]) and a consumer in
 * this process ("@@" for its fd), running until it saw a few buffers. */
static GstElement *
start_fd_pair (const gchar * producer, const gchar * consumer, int fds[2],
    gchar ** result, Recorder ** rec)
{
  GstElement *pipeline;
  gchar *fd, *desc;

  socket_pair (fds);
  *result = spawn_helper ("producer", "run", producer, NULL, NULL, fds[1], 0,
      NULL);
  close (fds[1]);
  fd = g_strdup_printf ("%d", fds[0]);
  desc = substitute (consumer, fd);
  pipeline = pipeline_new (desc);
  g_free (desc);
  g_free (fd);
  *rec = recorder_attach (by_name (pipeline, "sink"), FALSE);
  play (pipeline);
  fail_unless (recorder_wait_buffers (*rec, 3, 2 * WAIT_MS));
  return pipeline;
}

#define FD_PRODUCER "videotestsrc is-live=true ! " \
  "video/x-raw,format=GRAY8,width=[16,64],framerate=25/1 ! " \
  "ipcsink name=sink fd=3"
#define FD_CONSUMER "ipcsrc fd=@@ is-live=false ! fakesink name=sink"

static void
check_upstream_event (GstEvent * event, const gchar * expected)
{
  int fds[2];
  gchar *result;
  Recorder *rec;
  GstElement *pipeline = start_fd_pair (FD_PRODUCER, FD_CONSUMER, fds,
      &result, &rec);
  GstPad *pad = gst_element_get_static_pad (by_name (pipeline, "sink"),
      "sink");

  fail_if (wait_for_line (result, expected, 0));
  fail_unless (gst_pad_push_event (pad, event));
  /* The producer's helper logs the upstream events leaving its sink. */
  fail_unless (wait_for_line (result, expected, WAIT_MS),
      "%s did not reach the producer", expected);
  gst_object_unref (pad);
  stop (pipeline);
  close (fds[0]);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (result);
  cleanup ();
}

GST_START_TEST (test_fd_upstream_qos)
{
  check_upstream_event (gst_event_new_qos (GST_QOS_TYPE_UNDERFLOW, 0.625,
          -12345, 42 * GST_MSECOND), "proportion=(double)0.625");
}

GST_END_TEST;

GST_START_TEST (test_fd_upstream_navigation)
{
  check_upstream_event (gst_event_new_navigation (gst_structure_new
          ("application/x-gst-navigation", "event", G_TYPE_STRING,
              "key-press", "key", G_TYPE_STRING, "parallax", NULL)),
      "U navigation application/x-gst-navigation, event=(string)key-press, "
      "key=(string)parallax");
}

GST_END_TEST;

GST_START_TEST (test_fd_upstream_reconfigure)
{
  check_upstream_event (gst_event_new_reconfigure (), "U reconfigure");
}

GST_END_TEST;

GST_START_TEST (test_fd_upstream_seek)
{
  int fds[2];
  gchar *result;
  Recorder *rec;
  GstElement *pipeline = start_fd_pair ("videotestsrc ! "
      "video/x-raw,width=32,height=32,framerate=50/1 ! ipcsink name=sink "
      "fd=3", "ipcsrc fd=@@ is-live=false ! fakesink name=sink", fds,
      &result, &rec);
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  gboolean seen = FALSE;

  fail_unless (gst_element_seek_simple (pipeline, GST_FORMAT_TIME,
          GST_SEEK_FLAG_FLUSH, 100 * GST_SECOND));
  fail_unless (wait_for_line (result, "U seek", WAIT_MS));
  /* The producer seeked: its flush and new segment come back to us, then
   * buffers from the new position. */
  while (!seen && g_get_monotonic_time () < deadline) {
    gchar **lines = recorder_lines (rec);
    const gchar *flush = find_line (lines, "E flush-stop");
    const gchar *segment = find_line (lines,
        "start=(guint64)100000000000");

    if (flush && segment) {
      GPtrArray *bufs = buffer_lines (lines);

      seen = bufs->len > 0 && field_int (g_ptr_array_index (bufs,
              bufs->len - 1), "pts") >= 100 * GST_SECOND;
      g_ptr_array_unref (bufs);
    }
    g_strfreev (lines);
    g_usleep (20 * 1000);
  }
  fail_unless (seen, "no buffer from the new position");
  stop (pipeline);
  close (fds[0]);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (result);
  cleanup ();
}

GST_END_TEST;

/* @caps is what FD_PRODUCER's capsfilter allows, as its pipeline answered
 * a CAPS query: not ANY, the answer of a consumer left alone. Takes @caps. */
static void
assert_producer_caps (GstCaps * caps)
{
  GstCaps *allowed = gst_caps_from_string
      ("video/x-raw,format=GRAY8,width=[16,64],framerate=25/1");

  fail_if (gst_caps_is_empty (caps) || gst_caps_is_any (caps), "%s",
      caps_text (caps));
  fail_unless (gst_caps_is_subset (caps, allowed), "%s", caps_text (caps));
  gst_caps_unref (caps);
  gst_caps_unref (allowed);
}

GST_START_TEST (test_fd_consumer_queries_reach_the_producer)
{
  int fds[2];
  gchar *result;
  Recorder *rec;
  GstElement *pipeline = start_fd_pair (FD_PRODUCER, FD_CONSUMER, fds,
      &result, &rec);
  GstPad *pad = gst_element_get_static_pad (by_name (pipeline, "sink"),
      "sink");

  assert_producer_caps (gst_pad_peer_query_caps (pad, NULL));
  gst_object_unref (pad);
  stop (pipeline);
  close (fds[0]);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (result);
  cleanup ();
}

GST_END_TEST;

/* A query asked from inside a push (an element downstream negotiating as a
 * buffer goes through) is answered: the thread that pushes may be the one
 * that reads the connection, and the reply must still be read. */
typedef struct
{
  GMutex lock;
  GCond cond;
  GstCaps *caps;
} QueryInPush;

static GstPadProbeReturn
query_in_push (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  QueryInPush *q = user_data;
  GstCaps *caps = gst_pad_peer_query_caps (pad, NULL);

  g_mutex_lock (&q->lock);
  q->caps = caps;
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
  return GST_PAD_PROBE_REMOVE;
}

GST_START_TEST (test_fd_query_from_inside_a_push)
{
  int fds[2];
  gchar *result;
  Recorder *rec;
  GstElement *pipeline = start_fd_pair (FD_PRODUCER, FD_CONSUMER, fds,
      &result, &rec);
  GstPad *pad = gst_element_get_static_pad (by_name (pipeline, "sink"),
      "sink");
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  QueryInPush q = { 0, };

  g_mutex_init (&q.lock);
  g_cond_init (&q.cond);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, query_in_push, &q, NULL);
  g_mutex_lock (&q.lock);
  while (q.caps == NULL && g_cond_wait_until (&q.cond, &q.lock, deadline));
  g_mutex_unlock (&q.lock);
  fail_unless (q.caps != NULL, "no buffer went through");
  assert_producer_caps (q.caps);
  gst_object_unref (pad);
  stop (pipeline);
  close (fds[0]);
  g_mutex_clear (&q.lock);
  g_cond_clear (&q.cond);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (result);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_fd_consumer_accept_caps_reaches_the_producer)
{
  int fds[2];
  gchar *result;
  Recorder *rec;
  GstElement *pipeline = start_fd_pair (FD_PRODUCER, FD_CONSUMER, fds,
      &result, &rec);
  GstPad *pad = gst_element_get_static_pad (by_name (pipeline, "sink"),
      "sink");
  GstCaps *good = gst_caps_from_string
      ("video/x-raw,format=GRAY8,width=32,height=32,framerate=25/1");
  GstCaps *bad = gst_caps_from_string
      ("video/x-raw,format=I420,width=32,height=32,framerate=25/1");

  fail_unless (gst_pad_peer_query_accept_caps (pad, good));
  fail_if (gst_pad_peer_query_accept_caps (pad, bad));

  gst_caps_unref (good);
  gst_caps_unref (bad);
  gst_object_unref (pad);
  stop (pipeline);
  close (fds[0]);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (result);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_fd_consumer_latency_query_reaches_the_producer)
{
  int fds[2];
  gchar *result;
  Recorder *rec;
  GstElement *pipeline = start_fd_pair (FD_PRODUCER, FD_CONSUMER, fds,
      &result, &rec);
  GstPad *pad = gst_element_get_static_pad (by_name (pipeline, "sink"),
      "sink");
  GstQuery *query = gst_query_new_latency ();
  gboolean live;
  GstClockTime min, max;

  /* Not a live source itself: it asks the producer's pipeline. */
  fail_unless (gst_pad_peer_query (pad, query));
  gst_query_parse_latency (query, &live, &min, &max);
  fail_unless (live);
  fail_unless_equals_uint64 (min, 40 * GST_MSECOND);
  gst_query_unref (query);
  gst_object_unref (pad);
  stop (pipeline);
  close (fds[0]);
  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (result);
  cleanup ();
}

GST_END_TEST;

/* The mirror image: a producer in this process, a consumer helper on fd 3
 * whose capsfilter decides. */
static GstElement *
start_fd_producer (int fds[2], Recorder ** rec)
{
  GstElement *pipeline;

  socket_pair (fds);
  g_free (spawn_helper ("consumer", "run", "ipcsrc fd=3 is-live=false ! "
          "capsfilter caps=video/x-raw,format=GRAY8,width=48,height=32 ! "
          "fakesink name=sink", NULL, NULL, fds[1], 0, NULL));
  close (fds[1]);
  pipeline = pipeline_newf ("videotestsrc is-live=true ! "
      "capsfilter caps=video/x-raw,framerate=25/1 ! ipcsink name=sink fd=%d",
      fds[0]);
  *rec = recorder_attach (by_name (pipeline, "sink"), FALSE);
  play (pipeline);
  fail_unless (recorder_wait_buffers (*rec, 3, 2 * WAIT_MS));
  return pipeline;
}

GST_START_TEST (test_fd_producer_negotiates_with_the_consumer)
{
  int fds[2];
  Recorder *rec;
  GstElement *pipeline = start_fd_producer (fds, &rec);
  GstPad *pad = gst_element_get_static_pad (by_name (pipeline, "sink"),
      "sink");
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstCaps *wanted = gst_caps_from_string
      ("video/x-raw,format=GRAY8,width=48,height=32");

  /* videotestsrc picked what the other process's capsfilter wants... */
  fail_unless (caps != NULL && gst_caps_is_subset (caps, wanted),
      "%s", caps_text (caps));
  gst_caps_unref (caps);
  /* ...because our CAPS queries are answered over there. */
  caps = gst_pad_query_caps (pad, NULL);
  fail_unless (gst_caps_is_subset (caps, wanted), "%s", caps_text (caps));
  gst_caps_unref (caps);
  gst_caps_unref (wanted);
  gst_object_unref (pad);
  stop (pipeline);
  close (fds[0]);
  recorder_free (rec);
  gst_object_unref (pipeline);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_fd_producer_accept_caps_answered_by_the_consumer)
{
  int fds[2];
  Recorder *rec;
  GstElement *pipeline = start_fd_producer (fds, &rec);
  GstPad *pad = gst_element_get_static_pad (by_name (pipeline, "sink"),
      "sink");
  GstCaps *good = gst_caps_from_string
      ("video/x-raw,format=GRAY8,width=48,height=32,framerate=25/1");
  GstCaps *bad = gst_caps_from_string
      ("video/x-raw,format=GRAY8,width=64,height=32,framerate=25/1");

  fail_unless (gst_pad_query_accept_caps (pad, good));
  fail_if (gst_pad_query_accept_caps (pad, bad));
  gst_caps_unref (good);
  gst_caps_unref (bad);
  gst_object_unref (pad);
  stop (pipeline);
  close (fds[0]);
  recorder_free (rec);
  gst_object_unref (pipeline);
  cleanup ();
}

GST_END_TEST;

typedef struct
{
  GstPad *pad;                  /* query the caps of its peer, or its own */
  gboolean peer;
  GstCaps *expected;
  guint answered;
} QueryLoop;

static gpointer
query_loop (gpointer data)
{
  QueryLoop *loop = data;

  for (guint i = 0; i < 20; i++) {
    GstCaps *caps = loop->peer ? gst_pad_peer_query_caps (loop->pad, NULL) :
        gst_pad_query_caps (loop->pad, NULL);

    if (!gst_caps_is_empty (caps) && gst_caps_is_subset (caps, loop->expected))
      loop->answered++;
    gst_caps_unref (caps);
  }
  return NULL;
}

/* A -> fd -> B -> fd -> C, all in this process. A's CAPS queries cross B into
 * C's pipeline; C's cross B into A's; both at once, many times. */
GST_START_TEST (test_fd_nested_round_trips_do_not_deadlock)
{
  int ab[2], bc[2];
  GstElement *a, *b, *c;
  Recorder *rec;
  QueryLoop from_a = { NULL, FALSE, NULL, 0 };
  QueryLoop from_c = { NULL, TRUE, NULL, 0 };
  GThread *ta, *tc;
  GstCaps *caps;

  socket_pair (ab);
  socket_pair (bc);
  c = pipeline_newf ("ipcsrc fd=%d is-live=false ! capsfilter "
      "caps=video/x-raw,format=GRAY8,width=40,height=30 ! fakesink name=sink",
      bc[1]);
  b = pipeline_newf ("ipcsrc fd=%d is-live=false ! ipcsink fd=%d", ab[1],
      bc[0]);
  a = pipeline_newf ("videotestsrc is-live=true ! capsfilter "
      "caps=video/x-raw,framerate=50/1 ! ipcsink name=sink fd=%d", ab[0]);
  rec = recorder_attach (by_name (c, "sink"), FALSE);
  play (c);
  play (b);
  play (a);
  fail_unless (recorder_wait_buffers (rec, 5, 2 * WAIT_MS));

  from_a.pad = gst_element_get_static_pad (by_name (a, "sink"), "sink");
  from_a.expected = gst_caps_from_string
      ("video/x-raw,format=GRAY8,width=40,height=30");
  from_c.pad = gst_element_get_static_pad (by_name (c, "sink"), "sink");
  from_c.expected = gst_caps_from_string ("video/x-raw,framerate=50/1");
  /* A negotiated what C wants. */
  caps = gst_pad_get_current_caps (from_a.pad);
  fail_unless (gst_caps_is_subset (caps, from_a.expected));
  gst_caps_unref (caps);

  ta = g_thread_new ("from-a", query_loop, &from_a);
  tc = g_thread_new ("from-c", query_loop, &from_c);
  g_thread_join (ta);
  g_thread_join (tc);
  fail_unless_equals_int (from_a.answered, 20);
  fail_unless_equals_int (from_c.answered, 20);

  gst_object_unref (from_a.pad);
  gst_object_unref (from_c.pad);
  gst_caps_unref (from_a.expected);
  gst_caps_unref (from_c.expected);
  free_pipeline (a);
  free_pipeline (b);
  free_pipeline (c);
  for (guint i = 0; i < 2; i++) {
    close (ab[i]);
    close (bc[i]);
  }
  recorder_free (rec);
  cleanup ();
}

GST_END_TEST;

/* ---- tests: caps queries in READY over an fd --------------------------- */

static void
ready (GstElement * pipeline)
{
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
}

/* @caps (taken) is within @wanted, and not the ANY of a peer left out. */
static void
assert_caps_within (GstCaps * caps, const gchar * wanted)
{
  GstCaps *allowed = gst_caps_from_string (wanted);

  fail_if (gst_caps_is_empty (caps) || gst_caps_is_any (caps), "%s",
      caps_text (caps));
  fail_unless (gst_caps_is_subset (caps, allowed), "%s", caps_text (caps));
  gst_caps_unref (caps);
  gst_caps_unref (allowed);
}

/* How long ipcsink waits for an answer (GST_PX_CONNECTION_REPLY_TIMEOUT). */
#define REPLY_TIMEOUT_US (5 * G_USEC_PER_SEC)
#define READY_CONSUMER_CAPS "video/x-raw,format=GRAY8,width=40,height=30"
#define READY_PRODUCER_CAPS "video/x-raw,framerate=50/1"

/* Each end of one fd pair in its pipeline, READY (the consumer first when
 * @consumer_first: its HELLO waits in the socket when the producer
 * starts; otherwise it comes while the producer is READY already). */
static void
ready_fd_pair (gboolean consumer_first, GstElement ** producer,
    GstElement ** consumer, int fds[2])
{
  socket_pair (fds);
  *producer = pipeline_newf ("videotestsrc ! capsfilter caps="
      READY_PRODUCER_CAPS " ! ipcsink name=sink fd=%d", fds[0]);
  *consumer = pipeline_newf ("ipcsrc name=src fd=%d is-live=false ! "
      "capsfilter caps=" READY_CONSUMER_CAPS " ! fakesink name=sink", fds[1]);
  ready (consumer_first ? *consumer : *producer);
  ready (consumer_first ? *producer : *consumer);
}

static void
free_fd_pair (GstElement * producer, GstElement * consumer, int fds[2])
{
  free_pipeline (producer);
  free_pipeline (consumer);
  close (fds[0]);
  close (fds[1]);
}

/* What the caps solver asks before anything streams: in READY, ipcsink's
 * CAPS query is answered by the consumer's pipeline, as an element's in
 * one pipeline is by its peers. */
GST_START_TEST (test_fd_caps_query_in_ready_answered_by_the_consumer)
{
  for (guint order = 0; order < 2; order++) {
    GstElement *producer, *consumer;
    GstPad *pad;
    int fds[2];

    ready_fd_pair (order == 0, &producer, &consumer, fds);
    pad = gst_element_get_static_pad (by_name (producer, "sink"), "sink");
    assert_caps_within (gst_pad_query_caps (pad, NULL), READY_CONSUMER_CAPS);
    gst_object_unref (pad);
    free_fd_pair (producer, consumer, fds);
  }
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_fd_caps_query_in_ready_answered_by_the_producer)
{
  for (guint order = 0; order < 2; order++) {
    GstElement *producer, *consumer;
    GstPad *pad;
    int fds[2];

    ready_fd_pair (order == 0, &producer, &consumer, fds);
    pad = gst_element_get_static_pad (by_name (consumer, "src"), "src");
    assert_caps_within (gst_pad_query_caps (pad, NULL), READY_PRODUCER_CAPS);
    gst_object_unref (pad);
    free_fd_pair (producer, consumer, fds);
  }
  cleanup ();
}

GST_END_TEST;

/* A sandboxbin's layout, READY: a query at A crosses B, a pipeline between
 * two connections, into C, and back; each started after the one before,
 * as a host starts after its worker. */
GST_START_TEST (test_fd_caps_query_in_ready_crosses_a_middle_pipeline)
{
  int ab[2], bc[2];
  GstElement *a, *b, *c;
  GstPad *pad;

  socket_pair (ab);
  socket_pair (bc);
  a = pipeline_newf ("videotestsrc ! capsfilter caps=" READY_PRODUCER_CAPS
      " ! ipcsink name=sink fd=%d", ab[0]);
  b = pipeline_newf ("ipcsrc fd=%d is-live=false ! identity ! "
      "ipcsink fd=%d", ab[1], bc[0]);
  c = pipeline_newf ("ipcsrc fd=%d is-live=false ! capsfilter caps="
      READY_CONSUMER_CAPS " ! fakesink name=sink", bc[1]);
  ready (b);
  ready (c);
  ready (a);

  pad = gst_element_get_static_pad (by_name (a, "sink"), "sink");
  assert_caps_within (gst_pad_query_caps (pad, NULL), READY_CONSUMER_CAPS);
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (by_name (c, "sink"), "sink");
  assert_caps_within (gst_pad_peer_query_caps (pad, NULL), READY_PRODUCER_CAPS);
  gst_object_unref (pad);

  free_pipeline (a);
  free_pipeline (b);
  free_pipeline (c);
  for (guint i = 0; i < 2; i++) {
    close (ab[i]);
    close (bc[i]);
  }
  cleanup ();
}

GST_END_TEST;

/* A peer that has not greeted us in READY (its pipeline is not READY yet)
 * cannot answer: the sink's template does, at once, not after the reply
 * timeout; and once the peer is READY, it answers. */
GST_START_TEST (test_fd_caps_query_in_ready_without_the_peer_answers_at_once)
{
  GstElement *producer, *consumer;
  GstPad *pad;
  GstCaps *caps;
  gint64 start;
  int fds[2];

  socket_pair (fds);
  producer = pipeline_newf ("videotestsrc ! ipcsink name=sink fd=%d", fds[0]);
  consumer = pipeline_newf ("ipcsrc fd=%d is-live=false ! capsfilter caps="
      READY_CONSUMER_CAPS " ! fakesink", fds[1]);
  ready (producer);
  pad = gst_element_get_static_pad (by_name (producer, "sink"), "sink");

  start = g_get_monotonic_time ();
  caps = gst_pad_query_caps (pad, NULL);
  /* Not a matter of speed: the wait it replaces was the whole timeout. */
  fail_unless (g_get_monotonic_time () - start < REPLY_TIMEOUT_US);
  fail_unless (gst_caps_is_any (caps), "%s", caps_text (caps));
  gst_caps_unref (caps);

  ready (consumer);
  fail_unless (wait_clients (by_name (producer, "sink"), 1, WAIT_MS));
  assert_caps_within (gst_pad_query_caps (pad, NULL), READY_CONSUMER_CAPS);
  gst_object_unref (pad);
  free_fd_pair (producer, consumer, fds);
  cleanup ();
}

GST_END_TEST;

/* The consumer's pipeline goes back to READY and plays again: the fd's
 * connection stays (it is opened at NULL -> READY), and the stream goes on
 * with its sticky events sent again, as the pad forgot them in READY. */
GST_START_TEST (test_fd_consumer_streams_again_after_ready)
{
  GstElement *producer, *consumer;
  gchar **lines;
  GPtrArray *found;
  GstMessage *msg;
  Recorder *rec;
  guint seen;
  int fds[2];

  socket_pair (fds);
  producer = pipeline_newf ("videotestsrc ! video/x-raw,format=GRAY8,"
      "width=16,height=16 ! ipcsink fd=%d slow-client-timeout=0", fds[0]);
  consumer = pipeline_newf ("ipcsrc fd=%d is-live=false ! fakesink "
      "name=sink", fds[1]);
  rec = recorder_attach (by_name (consumer, "sink"), FALSE);
  play (consumer);
  play (producer);
  fail_unless (recorder_wait_buffers (rec, 5, WAIT_MS));

  ready (consumer);
  seen = recorder_n_buffers (rec);
  play (consumer);
  fail_unless (recorder_wait_buffers (rec, seen + 5, WAIT_MS));
  msg = pop_message (consumer, GST_MESSAGE_ERROR, 0);
  fail_if (msg != NULL, "%s", msg ? message_text (msg) : "");

  lines = recorder_lines (rec);
  found = grep (lines, "E stream-start");
  fail_unless_equals_int (found->len, 2);
  g_ptr_array_unref (found);
  found = grep (lines, "E segment");
  fail_unless_equals_int (found->len, 2);
  g_ptr_array_unref (found);
  g_strfreev (lines);
  free_fd_pair (producer, consumer, fds);
  recorder_free (rec);
  cleanup ();
}

GST_END_TEST;

/* ---- tests: processes that die ----------------------------------------- */

GST_START_TEST (test_producer_killed_consumer_posts_an_error)
{
  gchar *path = test_path ("sock");
  gchar *desc = g_strdup_printf (LIVE_PRODUCER, path);
  GstClock *clock = gst_system_clock_obtain ();
  GstElement *pipeline;
  Recorder *rec;
  gchar *error;
  GPid producer;
  int fds;

  producer = spawn_launch ("producer", desc);
  wait_listening (path);
  pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink name=sink", path);
  rec = recorder_attach (by_name (pipeline, "sink"), FALSE);
  fds = px_test_count_fds ();
  play (pipeline);
  fail_unless (recorder_wait_buffers (rec, 5, WAIT_MS));
  kill_child (producer);
  error = wait_message_from (pipeline, GST_MESSAGE_ERROR, "ipcsrc", WAIT_MS);
  fail_unless (error != NULL && strstr (error, "went away"), "%s", error);
  stop (pipeline);
  fail_unless_equals_int (px_test_count_fds (), fds);

  g_free (error);
  recorder_free (rec);
  gst_object_unref (pipeline);
  gst_object_unref (clock);
  g_free (desc);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_producer_killed_consumer_reconnects)
{
  gchar *path = test_path ("sock");
  gchar *desc = g_strdup_printf (LIVE_PRODUCER, path);
  GstElement *pipeline;
  Recorder *rec;
  GstMessage *msg;
  GPid producer;
  guint n;

  producer = spawn_launch ("producer", desc);
  wait_listening (path);
  pipeline = pipeline_newf ("ipcsrc socket-path=%s reconnect=true "
      "reconnect-interval=50 ! fakesink name=sink", path);
  rec = recorder_attach (by_name (pipeline, "sink"), FALSE);
  play (pipeline);
  fail_unless (recorder_wait_buffers (rec, 5, WAIT_MS));
  kill_child (producer);
  /* No error while the producer is away... */
  msg = pop_message (pipeline, GST_MESSAGE_ERROR, 500);
  fail_unless (msg == NULL);
  n = recorder_n_buffers (rec);
  /* ...and data flows again when a new one comes up at the same place. */
  spawn_launch ("producer2", desc);
  fail_unless (recorder_wait_buffers (rec, n + 10, 2 * WAIT_MS));
  msg = pop_message (pipeline, GST_MESSAGE_ERROR, 0);
  fail_unless (msg == NULL);
  stop (pipeline);

  recorder_free (rec);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

static void
first_id (GstElement * sink, guint id, gpointer user_data)
{
  g_atomic_int_compare_and_exchange ((gint *) user_data, 0, (gint) id);
}

GST_START_TEST (test_consumer_killed_producer_goes_on)
{
  gchar *path = test_path ("sock");
  GstClock *clock = gst_system_clock_obtain ();
  GstElement *pipeline = pipeline_newf ("videotestsrc num-buffers=150 ! "
      "video/x-raw,width=32,height=32 ! ipcsink name=sink socket-path=%s "
      "max-in-flight=4", path);
  GstElement *sink = by_name (pipeline, "sink");
  gchar *consumer = g_strdup_printf ("ipcsrc socket-path=%s ! "
      "fakesink name=sink", path);
  gchar *victim = g_strdup_printf ("ipcsrc socket-path=%s ! "
      "identity sleep-time=20000 ! fakesink", path);
  gint disconnected = 0;
  gchar *files[2];
  GPid pids[2], victim_pid;
  int fds = px_test_count_fds ();

  g_signal_connect (sink, "client-disconnected", G_CALLBACK (first_id),
      &disconnected);
  fail_if (gst_element_set_state (sink, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE);
  wait_listening (path);
  files[0] = spawn_run ("consumer1", consumer, NULL, &pids[0]);
  files[1] = spawn_run ("consumer2", consumer, NULL, &pids[1]);
  fail_unless (wait_clients (sink, 2, SPAWN_WAIT_MS));
  victim_pid = spawn_launch ("victim", victim); /* client 3 */
  fail_unless (wait_clients (sink, 3, SPAWN_WAIT_MS));
  play (pipeline);

  /* The slow victim sets the pace, and holds slots, until it dies. */
  fail_unless (wait_sent (sink, 30, WAIT_MS));
  kill_child (victim_pid);
  /* It is the first to go (the others leave at EOS). */
  fail_unless (wait_nonzero (&disconnected, WAIT_MS));
  fail_unless_equals_int (g_atomic_int_get (&disconnected), 3);
  fail_unless (uint_property (sink, "clients") <= 2);
  wait_eos (pipeline, WAIT_MS);
  for (guint i = 0; i < 2; i++) {
    gchar **lines;

    fail_unless_equals_int (wait_child (pids[i], WAIT_MS), 0);
    lines = read_lines (files[i]);
    fail_unless_equals_int64 (result_buffers (lines), 150);
    g_strfreev (lines);
    g_free (files[i]);
  }
  stop (pipeline);
  /* Every slot came back: the pool and its arena are gone. */
  fail_unless_equals_int (px_test_count_fds (), fds);

  gst_object_unref (pipeline);
  gst_object_unref (clock);
  g_free (consumer);
  g_free (victim);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_fd_limit_32_with_100000_buffers)
{
  gchar *path = test_path ("sock");
  gchar *producer = g_strdup_printf ("videotestsrc num-buffers=100000 ! "
      "video/x-raw,format=GRAY8,width=16,height=16 ! ipcsink name=sink "
      "socket-path=%s wait-for-connection=true", path);
  gchar *consumer = g_strdup_printf ("ipcsrc socket-path=%s ! "
      "fakesink name=sink", path);
  const gchar *env[] = { "PX_IPC_COUNT_ONLY", "1", NULL };
  gchar *results[2];
  gchar **lines;
  GPid pids[2];

  results[0] = spawn_helper ("producer", "run", producer, NULL, env, -1, 32,
      &pids[0]);
  wait_listening (path);
  results[1] = spawn_helper ("consumer", "run", consumer, NULL, env, -1, 32,
      &pids[1]);
  fail_unless_equals_int (wait_child (pids[1], 90000), 0);
  fail_unless_equals_int (wait_child (pids[0], WAIT_MS), 0);

  lines = read_lines (results[0]);
  fail_unless_equals_int64 (result_stat (lines, "sent"), 100000);
  fail_unless_equals_int64 (result_stat (lines, "copied"), 0);
  g_strfreev (lines);
  lines = read_lines (results[1]);
  fail_unless_equals_int64 (result_buffers (lines), 100000);
  g_strfreev (lines);

  g_free (results[0]);
  g_free (results[1]);
  g_free (producer);
  g_free (consumer);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* ---- tests: hostile peers ---------------------------------------------- */

typedef struct
{
  const gchar *fault;
  const gchar *expected;        /* in the message on the bus */
} Fault;

/* What ipc-hostile-peer does as a producer, and what ipcsrc must say. */
static const Fault producer_faults[] = {
  {"garbage", "invalid message"},
  {"truncated", "invalid message"},
  {"oversized", "larger than the protocol allows"},
  {"unknown-type", "unknown message type"},
  {"fd-on-message", "invalid message"},
  {"hello-twice", "bad HELLO"},
  {"arena-without-fd", "invalid message"},
  {"fd-on-buffer", "invalid message"},
  {"unknown-arena", "unknown arena"},
  {"slot-out-of-range", "outside its arena slot"},
  {"range-out-of-slot", "outside its arena slot"},
  {"unsealed-memfd", "not sealed"},
  {"shrinkable-memfd", "not sealed"},
  {"writable-memfd", "not sealed"},
  {"not-a-memfd", "not a memfd"},
  {"bad-video-meta", "does not fit"},
  {"before-hello", "ARENA_ADD before HELLO"},
};

/* ...as a consumer, and what ipcsink must say. */
static const Fault consumer_faults[] = {
  {"garbage", "invalid message"},
  {"truncated", "invalid message"},
  {"oversized", "larger than the protocol allows"},
  {"unknown-type", "unknown message type"},
  {"fd-on-message", "invalid message"},
  {"hello-twice", "bad HELLO"},
  {"unknown-buffer-done", "did not hold"},
  {"arena-from-consumer", "unexpected ARENA_ADD"},
  {"before-hello", "BUFFER_DONE before HELLO"},
};

/* Starts the hostile peer and, for a producer, waits for its "ready". */
static GPid
spawn_hostile (const gchar * role, const gchar * path, const gchar * fault)
{
  const gchar *program = g_getenv ("PX_IPC_HOSTILE_PEER");
  gchar *argv[] = { (gchar *) program, (gchar *) role, (gchar *) path,
    (gchar *) fault, NULL
  };
  gchar *log = g_strdup_printf ("%s/hostile.log", test_dir ());
  gboolean producer = g_str_equal (role, "producer");
  int out = -1;
  GPid pid;

  fail_unless (program != NULL, "PX_IPC_HOSTILE_PEER not set");
  pid = spawn_full (argv, NULL, log, -1, 0, producer ? &out : NULL);
  if (producer) {
    char ready[8] = { 0 };
    struct pollfd pfd = {.fd = out,.events = POLLIN };

    fail_unless (poll (&pfd, 1, WAIT_MS) == 1);
    fail_unless (read (out, ready, sizeof ready - 1) > 0);
    fail_unless (g_str_has_prefix (ready, "ready"));
    close (out);
  }
  g_free (log);
  return pid;
}

GST_START_TEST (test_hostile_producer)
{
  const Fault *fault = &producer_faults[__i__];
  gchar *path = test_path ("sock");
  GstClock *clock = gst_system_clock_obtain ();
  GstElement *pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink",
      path);
  int fds = px_test_count_fds ();
  GPid pid = spawn_hostile ("producer", path, fault->fault);
  gchar *error;

  /* A fault before the producer's greeting also fails the state change;
   * either way the error must name it. */
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  error = wait_message_from (pipeline, GST_MESSAGE_ERROR, "ipcsrc", WAIT_MS);
  fail_unless (error != NULL, "%s: no error", fault->fault);
  fail_unless (strstr (error, fault->expected) != NULL, "%s: '%s'",
      fault->fault, error);
  stop (pipeline);
  /* It was dropped, and nothing it sent stayed open here. */
  fail_unless_equals_int (wait_child (pid, WAIT_MS), 0);
  fail_unless_equals_int (px_test_count_fds (), fds);

  g_free (error);
  gst_object_unref (pipeline);
  gst_object_unref (clock);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* A producer cannot make a consumer that is not streaming (a live source in
 * PAUSED) queue events without end. */
GST_START_TEST (test_event_flood_refused)
{
  gchar *path = test_path ("sock");
  GstElement *pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink",
      path);
  int fds = px_test_count_fds ();
  GPid pid = spawn_hostile ("producer", path, "event-flood");
  gchar *error;

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_NO_PREROLL);
  error = wait_message_from (pipeline, GST_MESSAGE_ERROR, "ipcsrc", WAIT_MS);
  fail_unless (error != NULL, "no error");
  fail_unless (strstr (error, "more events queued") != NULL, "'%s'", error);
  stop (pipeline);
  fail_unless_equals_int (wait_child (pid, WAIT_MS), 0);
  fail_unless_equals_int (px_test_count_fds (), fds);
  g_free (error);
  gst_object_unref (pipeline);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

GST_START_TEST (test_hostile_consumer)
{
  const Fault *fault = &consumer_faults[__i__];
  gchar *path = test_path ("sock");
  GstClock *clock = gst_system_clock_obtain ();
  GstElement *pipeline = pipeline_newf ("videotestsrc is-live=true ! "
      "video/x-raw,width=32,height=32,framerate=50/1 ! ipcsink name=sink "
      "socket-path=%s", path);
  GstElement *sink = by_name (pipeline, "sink");
  gchar *good = g_strdup_printf ("ipcsrc socket-path=%s ! fakesink", path);
  int fds = px_test_count_fds ();
  GPid hostile, good_pid;
  gchar *warning;
  guint64 sent;

  play (pipeline);
  wait_listening (path);
  good_pid = spawn_launch ("good", good);
  fail_unless (wait_clients (sink, 1, SPAWN_WAIT_MS));
  hostile = spawn_hostile ("consumer", path, fault->fault);
  warning = wait_message_from (pipeline, GST_MESSAGE_WARNING, "ipcsink",
      WAIT_MS);
  fail_unless (warning != NULL, "%s: no warning", fault->fault);
  fail_unless (strstr (warning, fault->expected) != NULL, "%s: '%s'",
      fault->fault, warning);
  fail_unless_equals_int (wait_child (hostile, WAIT_MS), 0);
  /* The other client goes on. */
  fail_unless (wait_clients (sink, 1, WAIT_MS));
  sent = uint64_property (sink, "buffers-sent");
  fail_unless (wait_sent (sink, sent + 10, WAIT_MS));
  fail_unless (pop_message (pipeline, GST_MESSAGE_ERROR, 0) == NULL);
  kill_child (good_pid);
  stop (pipeline);
  fail_unless_equals_int (px_test_count_fds (), fds);

  g_free (warning);
  g_free (good);
  gst_object_unref (pipeline);
  gst_object_unref (clock);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

static Suite *
ipc_suite (void)
{
  Suite *s = suite_create ("ipc");
  TCase *data = tcase_create ("data");
  GError *error = NULL;

  suite_dir = g_dir_make_tmp ("parallax-ipc-XXXXXX", &error);
  g_assert_no_error (error);
  suite_pid = getpid ();
  atexit (remove_suite_dir);
  TCase *live = tcase_create ("live");
  TCase *clients = tcase_create ("clients");
  TCase *fd = tcase_create ("fd");
  TCase *faults = tcase_create ("faults");
  TCase *hostile = tcase_create ("hostile");

  suite_add_tcase (s, data);
  tcase_add_test (data, test_every_buffer_arrives_unchanged);
  tcase_add_test (data, test_abstract_socket);
  tcase_add_test (data, test_socket_mode);
  tcase_add_test (data, test_timestamps_and_flags_preserved);
  tcase_add_test (data, test_events_forwarded_in_order);
  tcase_add_test (data, test_flush_keeps_sticky_events);
  tcase_add_test (data, test_flush_reaches_blocked_push);
  tcase_add_test (data, test_video_meta_strides_and_offsets);
  tcase_add_test (data, test_caps_change_mid_stream);
  tcase_add_test (data, test_buffers_copied_when_upstream_ignores_the_pool);
  tcase_add_test (data, test_no_copy_when_upstream_uses_the_pool);
  tcase_add_test (data, test_consumer_maps_each_arena_once_read_only);
  tcase_add_test (data, test_slot_returns_with_the_last_reference);
  tcase_add_test (data, test_consumer_that_keeps_every_buffer_gets_them_all);

  suite_add_tcase (s, live);
  tcase_add_test (live, test_not_live_prerolls);
  tcase_add_test (live, test_live_does_not_preroll);
  tcase_add_test (live, test_live_running_time_on_the_monotonic_clock);
  tcase_add_test (live, test_live_latency_is_the_producers);
  tcase_add_test (live, test_late_consumer_gets_the_sticky_events_first);

  suite_add_tcase (s, clients);
  tcase_add_test (clients, test_client_signals_and_count);
  tcase_add_test (clients, test_max_clients_refuses_the_extra_client);
  tcase_add_test (clients, test_slow_consumer_dropped_alone);
  tcase_add_test (clients, test_slot_not_reused_while_a_consumer_holds_it);
  tcase_add_test (clients, test_slow_consumer_blocks_everybody_gets_everything);

  suite_add_tcase (s, fd);
  tcase_add_test (fd, test_fd_upstream_qos);
  tcase_add_test (fd, test_fd_upstream_navigation);
  tcase_add_test (fd, test_fd_upstream_reconfigure);
  tcase_add_test (fd, test_fd_upstream_seek);
  tcase_add_test (fd, test_fd_consumer_queries_reach_the_producer);
  tcase_add_test (fd, test_fd_query_from_inside_a_push);
  tcase_add_test (fd, test_fd_consumer_accept_caps_reaches_the_producer);
  tcase_add_test (fd, test_fd_consumer_latency_query_reaches_the_producer);
  tcase_add_test (fd, test_fd_producer_negotiates_with_the_consumer);
  tcase_add_test (fd, test_fd_producer_accept_caps_answered_by_the_consumer);
  tcase_add_test (fd, test_fd_nested_round_trips_do_not_deadlock);
  tcase_add_test (fd, test_fd_caps_query_in_ready_answered_by_the_consumer);
  tcase_add_test (fd, test_fd_caps_query_in_ready_answered_by_the_producer);
  tcase_add_test (fd, test_fd_caps_query_in_ready_crosses_a_middle_pipeline);
  tcase_add_test (fd,
      test_fd_caps_query_in_ready_without_the_peer_answers_at_once);
  tcase_add_test (fd, test_fd_consumer_streams_again_after_ready);

  suite_add_tcase (s, faults);
  tcase_set_timeout (faults, 120);
  tcase_add_test (faults, test_producer_killed_consumer_posts_an_error);
  tcase_add_test (faults, test_producer_killed_consumer_reconnects);
  tcase_add_test (faults, test_consumer_killed_producer_goes_on);
  tcase_add_test (faults, test_fd_limit_32_with_100000_buffers);

  suite_add_tcase (s, hostile);
  tcase_add_test (hostile, test_event_flood_refused);
  tcase_add_loop_test (hostile, test_hostile_producer, 0,
      G_N_ELEMENTS (producer_faults));
  tcase_add_loop_test (hostile, test_hostile_consumer, 0,
      G_N_ELEMENTS (consumer_faults));
  return s;
}

GST_CHECK_MAIN (ipc);
