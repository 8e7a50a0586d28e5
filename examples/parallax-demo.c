/* Parallax — the demo: video sent to other processes without copies.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A producer pipeline (this process) sends 720p video through ipcsink to two
 * consumer processes (gst-launch-1.0 ipcsrc ! fakesink). ipcsink offers
 * videotestsrc an arena pool, so every frame is drawn straight into shared
 * memory; the demo checks each frame on its way into ipcsink and reports the
 * memfds the frames lived in, the fds the process used, and what was copied.
 *
 * Only public API and the plugin are used, as an application would.
 */
#include <gst/gst.h>
#include <gst/allocators/allocators.h>

#include <glib/gprintf.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define N_BUFFERS 300
#define N_CONSUMERS 2
#define FRAME_BYTES (1280 * 720 * 3 / 2)
/* How long the consumers have to connect. */
#define CONNECT_TIMEOUT (10 * G_USEC_PER_SEC)

typedef struct
{
  guint64 buffers;
  guint64 fd_buffers;           /* frames in fd-backed (shareable) memory */
  GHashTable *memfds;           /* distinct inodes */
} Seen;

static gint
count_fds (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  gint n = 0;

  if (dir == NULL)
    return -1;
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);
  return n;
}

static GstPadProbeReturn
look_at_frame (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Seen *seen = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMemory *mem = gst_buffer_peek_memory (buffer, 0);
  struct stat st;

  seen->buffers++;
  if (gst_is_fd_memory (mem) && fstat (gst_fd_memory_get_fd (mem), &st) == 0) {
    seen->fd_buffers++;
    g_hash_table_add (seen->memfds, GUINT_TO_POINTER (st.st_ino));
  }
  return GST_PAD_PROBE_OK;
}

/* The socket's directory, removed however the demo ends but by a signal
 * (exit () runs it). */
static gchar *demo_dir, *demo_socket;

static void
remove_demo_dir (void)
{
  if (demo_socket)
    g_remove (demo_socket);
  if (demo_dir)
    g_rmdir (demo_dir);
}

static void
G_GNUC_PRINTF (1, 2)
    G_GNUC_NORETURN
die (const gchar * format, ...)
{
  va_list args;

  va_start (args, format);
  g_vfprintf (stderr, format, args);
  va_end (args);
  g_printerr ("\n");
  exit (1);
}

/* Starts "gst-launch-1.0 ipcsrc socket-path=PATH ! fakesink". */
static GPid
spawn_consumer (const gchar * path)
{
  gchar *location = g_strdup_printf ("socket-path=%s", path);
  gchar *argv[] = { (gchar *) "gst-launch-1.0", (gchar *) "-q",
    (gchar *) "ipcsrc", location, (gchar *) "is-live=false", (gchar *) "!",
    (gchar *) "fakesink", NULL
  };
  GError *error = NULL;
  GPid pid;

  if (!g_spawn_async (NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
          G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, &error))
    die ("cannot start a consumer: %s", error->message);
  g_free (location);
  return pid;
}

static gboolean
consumer_succeeded (GPid pid)
{
  GError *error = NULL;
  int status;
  gboolean ok;

  if (pid == 0)                 /* already reaped: it failed */
    return FALSE;
  waitpid (pid, &status, 0);
  g_spawn_close_pid (pid);
  ok = g_spawn_check_wait_status (status, &error);
  if (!ok) {
    g_printerr ("a consumer failed: %s\n", error->message);
    g_clear_error (&error);
  }
  return ok;
}

static GstElement *
make_producer (const gchar * path, Seen * seen)
{
  /* A live source produces nothing until PLAYING, which lets every
   * consumer connect first. */
  gchar *description = g_strdup_printf ("videotestsrc is-live=true "
      "num-buffers=%d pattern=ball ! video/x-raw,format=I420,width=1280,"
      "height=720,framerate=300/1 ! "
      "ipcsink name=sink socket-path=%s wait-for-connection=true",
      N_BUFFERS, path);
  GError *error = NULL;
  GstElement *pipeline;
  GstElement *sink;
  GstPad *pad;

  /* gst_parse_launch() may return a partial pipeline along with its error:
   * anything but a clean parse is a failure. */
  pipeline = gst_parse_launch_full (description, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &error);
  g_free (description);
  if (pipeline == NULL) {
    g_printerr ("cannot build the producer: %s\n", error->message);
    g_clear_error (&error);
    return NULL;
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, look_at_frame, seen, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  return pipeline;
}

/* Waits until @n consumers are connected; FALSE if one of them ended
 * first or they took longer than CONNECT_TIMEOUT. */
static gboolean
wait_for_consumers (GstElement * sink, GPid * consumers, guint n)
{
  gint64 deadline = g_get_monotonic_time () + CONNECT_TIMEOUT;
  guint clients = 0;

  while (clients < n) {
    for (guint i = 0; i < n; i++) {
      int status;

      if (waitpid (consumers[i], &status, WNOHANG) == consumers[i]) {
        g_printerr ("a consumer ended before it connected\n");
        consumers[i] = 0;
        return FALSE;
      }
    }
    if (g_get_monotonic_time () > deadline) {
      g_printerr ("the consumers did not connect within %d s\n",
          (int) (CONNECT_TIMEOUT / G_USEC_PER_SEC));
      return FALSE;
    }
    g_usleep (10000);
    g_object_get (sink, "clients", &clients, NULL);
  }
  return TRUE;
}

static gboolean
run (GstElement * pipeline, gint * peak_fds)
{
  GstMessage *msg = NULL;
  gboolean ok;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while (msg == NULL) {
    msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
        100 * GST_MSECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    *peak_fds = MAX (*peak_fds, count_fds ());
  }
  ok = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
  gst_message_unref (msg);
  return ok;
}

int
main (int argc, char **argv)
{
  gchar *dir, *path;
  Seen seen = { 0, 0, NULL };
  GstElement *pipeline, *sink;
  GPid consumers[N_CONSUMERS];
  guint64 sent, copied;
  gint fds_before, peak_fds = 0;
  GstElementFactory *factory;
  gboolean ok;

  gst_init (&argc, &argv);
  factory = gst_element_factory_find ("ipcsink");
  if (factory == NULL) {
    g_printerr ("The parallax plugin is not on GST_PLUGIN_PATH: run the demo "
        "with ./run.sh demo, or under `meson devenv -C build`.\n");
    return 1;
  }
  gst_object_unref (factory);
  dir = g_dir_make_tmp ("parallax-demo-XXXXXX", NULL);
  path = g_build_filename (dir, "camera", NULL);
  demo_dir = dir;
  demo_socket = path;
  atexit (remove_demo_dir);
  seen.memfds = g_hash_table_new (NULL, NULL);

  g_print ("Parallax demo: videotestsrc (720p I420, %d frames) ! ipcsink -> "
      "%d consumer processes (gst-launch-1.0 ipcsrc ! fakesink)\n\n",
      N_BUFFERS, N_CONSUMERS);
  fds_before = count_fds ();
  pipeline = make_producer (path, &seen);
  if (pipeline == NULL) {
    g_rmdir (dir);
    return 1;
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_element_set_state (pipeline, GST_STATE_READY);
  gst_element_set_state (pipeline, GST_STATE_PAUSED);
  for (guint i = 0; i < N_CONSUMERS; i++)
    consumers[i] = spawn_consumer (path);

  ok = wait_for_consumers (sink, consumers, N_CONSUMERS) &&
      run (pipeline, &peak_fds);
  g_object_get (sink, "buffers-sent", &sent, "buffers-copied", &copied, NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  for (guint i = 0; i < N_CONSUMERS; i++) {
    /* after a failure, none is left waiting for a stream that will not
     * come */
    if (!ok && consumers[i] != 0)
      kill (consumers[i], SIGTERM);
    ok &= consumer_succeeded (consumers[i]);
  }

  g_print ("  frames drawn straight into shared memory:  %" G_GUINT64_FORMAT
      " of %" G_GUINT64_FORMAT "\n", seen.fd_buffers, seen.buffers);
  g_print ("  memfds those frames lived in:              %u (one arena)\n",
      g_hash_table_size (seen.memfds));
  g_print ("  frames delivered, over all consumers:      %" G_GUINT64_FORMAT
      " (%.0f MB by reference)\n", sent, sent * (double) FRAME_BYTES / 1e6);
  g_print ("  frames copied:                             %" G_GUINT64_FORMAT
      "\n", copied);
  g_print ("  extra fds in this process at peak:         %d\n",
      peak_fds - fds_before);
  g_print ("\nOne memfd per frame would have needed %" G_GUINT64_FORMAT
      " fds; a copying transport would have copied %.0f MB.\n"
      "Each consumer mapped the arena read-only; the kernel refuses it any "
      "write.\n", seen.buffers, sent * (double) FRAME_BYTES / 1e6);

  ok &= copied == 0 && sent == N_CONSUMERS * N_BUFFERS &&
      g_hash_table_size (seen.memfds) == 1;
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_hash_table_unref (seen.memfds);
  remove_demo_dir ();
  demo_dir = demo_socket = NULL;
  g_free (path);
  g_free (dir);
  return ok ? 0 : 1;
}
