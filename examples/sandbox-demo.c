/* Parallax — the sandbox demo: an untrusted clip decoded in a jail, and a
 * decoder that crashes mid-stream replaced while the pipeline goes on.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * 1. Makes a short H.264 clip with Debian's GStreamer (x264enc ! mp4mux).
 * 2. Decodes it through
 *      filesrc ! sandboxbin description="qtdemux ! h264parse ! avdec_h264"
 *    and shows what happened: the worker's process and the jail's layers
 *    (read back from /proc), the frames decoded in there and how they came
 *    out (in shared memory, mapped read-only: by reference), what ipcsink
 *    copied on the way in, and that every frame is bit for bit what the
 *    same description decodes in-process.
 * 3. Decodes it again with the test element "hostile" behind the decoder in
 *    the jail: it crashes the worker with a wild write mid-stream, as a
 *    decoder taken over by a crafted frame would. The bus shows the crash
 *    and the new worker, and the frames resume.
 *
 * Exits 0 only if every step did what it says. Only the plugin and public
 * API are used, as an application would; "hostile" comes from the build's
 * test plugin (never installed). Run it under `meson devenv -C build`
 * (./run.sh demo does).
 */
#include <gst/gst.h>
#include <gst/allocators/allocators.h>
#include <gst/video/video.h>

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_FRAMES 120
#define WIDTH 1280
#define HEIGHT 720
#define KEYFRAME_INTERVAL 30
/* The crash comes past the middle, so that the new worker, which counts
 * from zero again, reaches the end before it would crash too. */
#define CRASH_AFTER 64
#define RUN_TIMEOUT (60 * GST_SECOND)

#define CLIP_CAPS "video/x-raw,format=I420,width=1280,height=720," \
  "framerate=30/1"
#define DECODE_DESCRIPTION "qtdemux ! h264parse ! avdec_h264"
#define LIMITS "memory-limit=536870912 pids-limit=64"

/* What one run saw. The probe and the bus's sync handler write it from
 * streaming threads and the bin's supervisor; the main thread reads it
 * once the run is over. */
typedef struct
{
  GMutex lock;
  gint64 start;                 /* monotonic µs at PLAYING */
  gboolean hash;                /* keep a checksum of every frame */
  GPtrArray *hashes;
  guint frames;
  guint by_reference;           /* in fd memory, mapped read-only */
  guint64 frame_bytes;
  GHashTable *memfds;           /* inodes the frames lived in */
  /* workers and crashes, in the order the bin reported them */
  guint started;
  guint crashed;
  gint worker_pids[4];
  gboolean crash_as_expected;
  gboolean restart_expected;
  guint frames_of[4];           /* frames from the 1st, 2nd, ... worker */
  guint corrupted_after;        /* frames after the crash flagged corrupted */
  gint64 last_frame_us;         /* of the worker that crashed */
  gint64 crash_us, restart_us, resume_us;
  GstClockTime last_pts, resume_pts;
  guint restarts_reported;
} Run;

static gint
ms_since (const Run * run, gint64 us)
{
  return (gint) ((us - run->start) / 1000);
}

static void
run_init (Run * run, gboolean hash)
{
  memset (run, 0, sizeof *run);
  g_mutex_init (&run->lock);
  run->hash = hash;
  run->hashes = g_ptr_array_new_with_free_func (g_free);
  run->memfds = g_hash_table_new (NULL, NULL);
  run->start = g_get_monotonic_time ();
}

static void
run_clear (Run * run)
{
  g_ptr_array_unref (run->hashes);
  g_hash_table_unref (run->memfds);
  g_mutex_clear (&run->lock);
}

/* The visible pixels only: strides and padding differ between pools. */
static gchar *
frame_checksum (GstBuffer * buffer, GstCaps * caps)
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_MD5);
  GstVideoInfo info;
  GstVideoFrame frame;
  gchar *hex;

  if (caps == NULL || !gst_video_info_from_caps (&info, caps) ||
      !gst_video_frame_map (&frame, &info, buffer, GST_MAP_READ)) {
    g_checksum_free (sum);
    return g_strdup ("unmapped");
  }
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES (&frame); p++) {
    const guint8 *row = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);
    gint height = GST_VIDEO_FRAME_COMP_HEIGHT (&frame, p);
    gint bytes = GST_VIDEO_FRAME_COMP_WIDTH (&frame, p) *
        GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, p);

    for (gint y = 0; y < height; y++, row += stride)
      g_checksum_update (sum, row, bytes);
  }
  gst_video_frame_unmap (&frame);
  hex = g_strdup (g_checksum_get_string (sum));
  g_checksum_free (sum);
  return hex;
}

/* On the sink's pad: each frame as the application gets it. */
static GstPadProbeReturn
look_at_frame (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Run *run = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMemory *memory = gst_buffer_peek_memory (buffer, 0);
  gint64 now = g_get_monotonic_time ();
  gchar *hash = NULL;
  struct stat st;

  if (run->hash) {
    GstCaps *caps = gst_pad_get_current_caps (pad);

    hash = frame_checksum (buffer, caps);
    gst_clear_caps (&caps);
  }
  g_mutex_lock (&run->lock);
  run->frames++;
  run->frame_bytes += gst_buffer_get_size (buffer);
  if (gst_buffer_n_memory (buffer) == 1 && gst_is_fd_memory (memory) &&
      GST_MEMORY_IS_READONLY (memory) &&
      fstat (gst_fd_memory_get_fd (memory), &st) == 0) {
    run->by_reference++;
    g_hash_table_add (run->memfds, GUINT_TO_POINTER (st.st_ino));
  }
  if (hash)
    g_ptr_array_add (run->hashes, hash);
  if (run->started >= 1 && run->started <= G_N_ELEMENTS (run->frames_of))
    run->frames_of[run->started - 1]++;
  if (run->crashed > 0 &&
      GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_CORRUPTED))
    run->corrupted_after++;
  if (run->crashed == 0) {
    run->last_frame_us = now;
    run->last_pts = GST_BUFFER_PTS (buffer);
  } else if (run->started == 2 && run->resume_us == 0) {
    run->resume_us = now;
    run->resume_pts = GST_BUFFER_PTS (buffer);
    g_print ("  +%5d ms  frames again, from the new worker (pts %.3f s)\n",
        ms_since (run, now), run->resume_pts / (double) GST_SECOND);
  }
  g_mutex_unlock (&run->lock);
  return GST_PAD_PROBE_OK;
}

/* ---- what the bus says ------------------------------------------------- */

static gboolean
print_field (GQuark field, const GValue * value, gpointer user_data)
{
  gchar *text = G_VALUE_HOLDS_STRING (value) ?
      g_strdup_printf ("\"%s\"", g_value_get_string (value)) :
      gst_value_serialize (value);

  if (field != g_quark_from_static_string ("layers"))
    g_print (" %s=%s", g_quark_to_string (field), text);
  g_free (text);
  return TRUE;
}

/* Reads one "Name:\tvalue" line of /proc/PID/status. */
static gchar *
proc_status_field (gint pid, const gchar * name)
{
  gchar *path = g_strdup_printf ("/proc/%d/status", pid);
  gchar *contents = NULL, *value = NULL;
  gchar **lines;

  if (g_file_get_contents (path, &contents, NULL, NULL)) {
    lines = g_strsplit (contents, "\n", -1);
    for (guint i = 0; lines[i] && value == NULL; i++) {
      if (g_str_has_prefix (lines[i], name) && lines[i][strlen (name)] == ':')
        value = g_strstrip (g_strdup (lines[i] + strlen (name) + 1));
    }
    g_strfreev (lines);
  }
  g_free (contents);
  g_free (path);
  return value;
}

/* The namespaces of @pid that are not this process's. */
static gchar *
own_namespaces (gint pid)
{
  static const gchar *const kinds[] = { "user", "mnt", "net", "ipc", "pid",
    "uts", NULL
  };
  GString *own = g_string_new (NULL);

  for (guint i = 0; kinds[i]; i++) {
    gchar *theirs_path = g_strdup_printf ("/proc/%d/ns/%s", pid, kinds[i]);
    gchar *ours_path = g_strdup_printf ("/proc/self/ns/%s", kinds[i]);
    gchar *theirs = g_file_read_link (theirs_path, NULL);
    gchar *ours = g_file_read_link (ours_path, NULL);

    if (theirs && ours && g_strcmp0 (theirs, ours) != 0)
      g_string_append_printf (own, "%s%s", own->len ? " " : "", kinds[i]);
    g_free (theirs);
    g_free (ours);
    g_free (theirs_path);
    g_free (ours_path);
  }
  return g_string_free (own, FALSE);
}

/* What the kernel says of a worker: the jail seen from outside. */
static void
print_worker_from_proc (gint pid)
{
  gchar *seccomp = proc_status_field (pid, "Seccomp");
  gchar *no_new_privs = proc_status_field (pid, "NoNewPrivs");
  gchar *cap_eff = proc_status_field (pid, "CapEff");
  gchar *namespaces = own_namespaces (pid);

  g_print ("             /proc/%d: Seccomp %s (2 = filter), NoNewPrivs %s, "
      "CapEff %s,\n             namespaces of its own: %s\n", pid,
      seccomp ? seccomp : "?", no_new_privs ? no_new_privs : "?",
      cap_eff ? cap_eff : "?", *namespaces ? namespaces : "none");
  g_free (seccomp);
  g_free (no_new_privs);
  g_free (cap_eff);
  g_free (namespaces);
}

static void
saw_worker_started (Run * run, const GstStructure * s, gint64 now)
{
  gint pid = 0;
  guint restarts = 0;

  gst_structure_get_int (s, "pid", &pid);
  gst_structure_get_uint (s, "restarts", &restarts);
  g_mutex_lock (&run->lock);
  if (run->started < G_N_ELEMENTS (run->worker_pids))
    run->worker_pids[run->started] = pid;
  run->started++;
  run->restarts_reported = restarts;
  if (run->crashed > 0 && run->restart_us == 0)
    run->restart_us = now;
  g_mutex_unlock (&run->lock);
  g_print ("             layers: %s\n", gst_structure_get_string (s, "layers"));
  /* The worker is alive and locked down now: it reported so. */
  print_worker_from_proc (pid);
}

static void
saw_worker_crashed (Run * run, const GstStructure * s, gint64 now)
{
  gint signal_number = 0;
  gboolean will_restart = FALSE;

  gst_structure_get_int (s, "signal", &signal_number);
  gst_structure_get_boolean (s, "will-restart", &will_restart);
  g_mutex_lock (&run->lock);
  if (run->crashed++ == 0) {
    run->crash_us = now;
    run->crash_as_expected = signal_number == SIGSEGV;
    run->restart_expected = will_restart;
  }
  g_mutex_unlock (&run->lock);
}

/* In the thread that posts: the timeline is when things happened, not
 * when the main thread got round to them. */
static GstBusSyncReply
timestamp_message (GstBus * bus, GstMessage * message, gpointer user_data)
{
  Run *run = user_data;
  const GstStructure *s = gst_message_get_structure (message);
  gint64 now = g_get_monotonic_time ();
  const gchar *name;

  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ELEMENT || s == NULL)
    return GST_BUS_PASS;
  name = gst_structure_get_name (s);
  if (!g_str_has_prefix (name, "sandboxbin-worker-"))
    return GST_BUS_PASS;
  g_print ("  +%5d ms  %s:", ms_since (run, now), name);
  gst_structure_foreach (s, print_field, NULL);
  g_print ("\n");
  if (g_str_equal (name, "sandboxbin-worker-started"))
    saw_worker_started (run, s, now);
  else if (g_str_equal (name, "sandboxbin-worker-crashed"))
    saw_worker_crashed (run, s, now);
  return GST_BUS_PASS;
}

/* ---- pipelines --------------------------------------------------------- */

static GstElement *
make_pipeline (const gchar * description)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch_full (description, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &error);

  if (pipeline == NULL) {
    g_printerr ("cannot build \"%s\": %s\n", description, error->message);
    g_clear_error (&error);
  }
  return pipeline;
}

/* Plays @pipeline to its end; TRUE on EOS. Errors are printed with their
 * domain and code. */
static gboolean
play (GstElement * pipeline, Run * run)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *message;
  gboolean ok = FALSE;

  gst_bus_set_sync_handler (bus, timestamp_message, run, NULL);
  run->start = g_get_monotonic_time ();
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE) {
    message = gst_bus_timed_pop_filtered (bus, RUN_TIMEOUT,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (message == NULL) {
      g_printerr ("  no end of stream within %d s\n",
          (int) (RUN_TIMEOUT / GST_SECOND));
    } else if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
      GError *error = NULL;
      gchar *debug = NULL;

      gst_message_parse_error (message, &error, &debug);
      g_printerr ("  error from %s (%s, code %d): %s\n  %s\n",
          GST_MESSAGE_SRC_NAME (message), g_quark_to_string (error->domain),
          error->code, error->message, debug ? debug : "");
      g_clear_error (&error);
      g_free (debug);
    } else {
      ok = TRUE;
    }
    gst_clear_message (&message);
  }
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  return ok;
}

static void
probe_sink (GstElement * pipeline, Run * run)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, look_at_frame, run, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
}

static gboolean
make_clip (const gchar * path)
{
  gchar *line = g_strdup_printf ("videotestsrc num-buffers=%d pattern=ball "
      "! " CLIP_CAPS " ! x264enc key-int-max=%d speed-preset=ultrafast ! "
      "mp4mux faststart=true ! filesink location=\"%s\"", N_FRAMES,
      KEYFRAME_INTERVAL, path);
  GstElement *pipeline = make_pipeline (line);
  Run run;
  gboolean ok;
  GStatBuf st;

  g_free (line);
  if (pipeline == NULL)
    return FALSE;
  run_init (&run, FALSE);
  ok = play (pipeline, &run);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  run_clear (&run);
  ok = ok && g_stat (path, &st) == 0 && st.st_size > 0;
  if (ok)
    g_print ("  %s: %d frames of %dx%d H.264 in MP4, %.0f KB, a keyframe "
        "every %d frames\n", path, N_FRAMES, WIDTH, HEIGHT, st.st_size / 1e3,
        KEYFRAME_INTERVAL);
  return ok;
}

/* ---- the bin's children: ipcsink in, ipcsrc out ------------------------ */

typedef struct
{
  guint64 sent, copied, received;
  gboolean found_sink, found_src;
} Counters;

static void
read_counters (const GValue * item, gpointer user_data)
{
  GstElement *element = g_value_get_object (item);
  GstElementFactory *factory = gst_element_get_factory (element);
  const gchar *name = factory ? GST_OBJECT_NAME (factory) : "";
  Counters *counters = user_data;

  if (g_str_equal (name, "ipcsink")) {
    g_object_get (element, "buffers-sent", &counters->sent,
        "buffers-copied", &counters->copied, NULL);
    counters->found_sink = TRUE;
  } else if (g_str_equal (name, "ipcsrc")) {
    g_object_get (element, "buffers-received", &counters->received, NULL);
    counters->found_src = TRUE;
  }
}

static Counters
bin_counters (GstElement * pipeline)
{
  GstElement *jail = gst_bin_get_by_name (GST_BIN (pipeline), "jail");
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (jail));
  Counters counters = { 0 };

  gst_iterator_foreach (it, read_counters, &counters);
  gst_iterator_free (it);
  gst_object_unref (jail);
  return counters;
}

/* ---- the steps --------------------------------------------------------- */

typedef struct
{
  gboolean clip;
  gboolean decoded;             /* every frame, in the jail, by reference */
  gboolean identical;           /* same pixels as in-process */
  gboolean crashed;             /* one crash, a SIGSEGV, a restart */
  gboolean resumed;             /* frames after it, then the end */
  guint frames_jail, by_reference, memfds;
  guint64 frame_bytes;
  Counters counters;
  gchar *first_difference;
  gint resume_ms;
} Outcome;

/* Decodes the clip through sandboxbin in @mode; keeps each frame's
 * checksum in @run. */
static gboolean
decode (const gchar * clip, const gchar * mode, Run * run, Counters * counters)
{
  gchar *line = g_strdup_printf ("filesrc location=\"%s\" ! sandboxbin "
      "name=jail mode=%s " LIMITS " description=\"" DECODE_DESCRIPTION "\" ! "
      "fakesink name=sink sync=false", clip, mode);
  GstElement *pipeline = make_pipeline (line);
  gboolean ok;

  g_free (line);
  if (pipeline == NULL)
    return FALSE;
  probe_sink (pipeline, run);
  ok = play (pipeline, run);
  if (counters)
    *counters = bin_counters (pipeline);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return ok;
}

static void
step_decode (const gchar * clip, Outcome * outcome)
{
  Run jail, in_process;
  gboolean ok;

  g_print ("\n2. filesrc ! sandboxbin description=\"" DECODE_DESCRIPTION
      "\" " LIMITS " ! fakesink\n\n");
  run_init (&jail, TRUE);
  ok = decode (clip, "isolated", &jail, &outcome->counters);
  outcome->frames_jail = jail.frames;
  outcome->by_reference = jail.by_reference;
  outcome->memfds = g_hash_table_size (jail.memfds);
  outcome->frame_bytes = jail.frame_bytes;
  outcome->decoded = ok && jail.frames == N_FRAMES &&
      jail.by_reference == N_FRAMES && jail.started == 1 &&
      jail.worker_pids[0] > 0 && jail.worker_pids[0] != getpid () &&
      outcome->counters.found_sink && outcome->counters.found_src &&
      outcome->counters.received == N_FRAMES;

  g_print ("\n  The same description with mode=in-process, to compare the "
      "pixels:\n");
  run_init (&in_process, TRUE);
  ok = decode (clip, "in-process", &in_process, NULL);
  outcome->identical = ok && in_process.frames == jail.frames &&
      jail.frames == N_FRAMES;
  for (guint i = 0; outcome->identical && i < jail.hashes->len; i++) {
    if (g_strcmp0 (jail.hashes->pdata[i], in_process.hashes->pdata[i])) {
      outcome->identical = FALSE;
      outcome->first_difference = g_strdup_printf ("frame %u", i);
    }
  }
  g_print ("  %u frames decoded in-process\n", in_process.frames);
  run_clear (&jail);
  run_clear (&in_process);
}

static void
step_crash (const gchar * clip, Outcome * outcome)
{
  gchar *line = g_strdup_printf ("filesrc location=\"%s\" ! qtdemux ! "
      "h264parse ! sandboxbin name=jail " LIMITS " description=\"avdec_h264 "
      "! hostile misdeed=crash after-buffers=%d\" ! fakesink name=sink "
      "sync=false", clip, CRASH_AFTER);
  GstElement *pipeline = make_pipeline (line);
  Run run;
  gboolean ok;
  guint restarts = 0;
  guint64 lost = 0;

  g_print ("\n3. filesrc ! qtdemux ! h264parse ! sandboxbin description="
      "\"avdec_h264 ! hostile misdeed=crash after-buffers=%d\" ! fakesink\n"
      "   hostile, a test element, writes through a null pointer on the "
      "frame after the %dth.\n   The file is demuxed here this time: a new "
      "qtdemux could not pick it up in the middle.\n\n", CRASH_AFTER,
      CRASH_AFTER);
  g_free (line);
  if (pipeline == NULL)
    return;
  run_init (&run, FALSE);
  probe_sink (pipeline, &run);
  ok = play (pipeline, &run);
  if (ok) {
    GstElement *jail = gst_bin_get_by_name (GST_BIN (pipeline), "jail");

    g_print ("  +%5d ms  end of stream\n", ms_since (&run,
            g_get_monotonic_time ()));
    g_object_get (jail, "restarts", &restarts, "buffers-lost", &lost, NULL);
    gst_object_unref (jail);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  outcome->crashed = run.crashed == 1 && run.crash_as_expected &&
      run.restart_expected && run.started == 2 && run.restarts_reported == 1
      && restarts == 1 && run.worker_pids[1] != run.worker_pids[0];
  outcome->resumed = ok && run.frames_of[0] > 0 &&
      run.frames_of[1] > 0 && run.resume_us > 0;
  outcome->resume_ms = (gint) ((run.resume_us - run.last_frame_us) / 1000);
  g_print ("\n  frames out: %u from the first worker (the last at pts %.3f "
      "s), %u from the second,\n  %u of these flagged corrupted (decoded "
      "before the next keyframe, without their\n  reference frames); "
      "%" G_GUINT64_FORMAT " buffers died with the first worker "
      "(buffers-lost).\n", run.frames_of[0], run.last_pts / (double)
      GST_SECOND, run.frames_of[1], run.corrupted_after, lost);
  if (outcome->resumed)
    g_print ("  No frame for %d ms: %d ms until the bin reported the crash, "
        "%d ms until a new worker\n  took over (a spawn that loads libav, "
        "begun at once, overlaps restart-delay, 100 ms),\n  %d ms to the "
        "next frame.\n",
        outcome->resume_ms, (gint) ((run.crash_us - run.last_frame_us) /
            1000), (gint) ((run.restart_us - run.crash_us) / 1000),
        (gint) ((run.resume_us - run.restart_us) / 1000));
  run_clear (&run);
}

/* ---- summary ----------------------------------------------------------- */

static gboolean
report (const Outcome * o)
{
  const gchar *verdict[] = { "FAILED", "ok" };
  double frame_mb = o->frame_bytes / 1e6;

  g_print ("\nSummary\n\n");
  g_print ("  [%-6s] clip made with x264enc ! mp4mux\n", verdict[o->clip]);
  g_print ("  [%-6s] %u of %d frames decoded in the jailed worker, its own "
      "process\n", verdict[o->decoded], o->frames_jail, N_FRAMES);
  g_print ("           %u of them reached this process by reference, in "
      "%u memfd(s) mapped read-only:\n           %.0f MB of pictures not "
      "copied out of the jail\n", o->by_reference, o->memfds, frame_mb);
  g_print ("           into the jail: ipcsink sent %" G_GUINT64_FORMAT
      " buffers of the file and copied %" G_GUINT64_FORMAT " into shared "
      "memory\n           (filesrc reads into memory of its own; those are "
      "the only copies this process made)\n", o->counters.sent,
      o->counters.copied);
  g_print ("  [%-6s] every frame identical to mode=in-process%s%s\n",
      verdict[o->identical], o->first_difference ? ": differs at " : "",
      o->first_difference ? o->first_difference : "");
  g_print ("  [%-6s] the crash (SIGSEGV in the worker) reported on the bus, "
      "a new worker started\n", verdict[o->crashed]);
  g_print ("  [%-6s] frames again %d ms after the last one, then the end of "
      "the stream\n", verdict[o->resumed], o->resumed ? o->resume_ms : -1);
  return o->clip && o->decoded && o->identical && o->crashed && o->resumed;
}

/* ---- main -------------------------------------------------------------- */

static gboolean
have_element (const gchar * name)
{
  GstElementFactory *factory = gst_element_factory_find (name);

  if (factory)
    gst_object_unref (factory);
  return factory != NULL;
}

/* The test element comes from the build tree, never from an install. */
static gboolean
find_hostile (const gchar * dir)
{
  if (!have_element ("hostile") && dir != NULL)
    gst_registry_scan_path (gst_registry_get (), dir);
  return have_element ("hostile");
}

static gboolean
check_environment (const gchar * hostile_dir)
{
  static const gchar *const needed[] = { "x264enc", "mp4mux", "qtdemux",
    "h264parse", "avdec_h264", NULL
  };

  if (!have_element ("sandboxbin")) {
    g_printerr ("The parallax plugin is not on GST_PLUGIN_PATH: run the demo "
        "with ./run.sh demo, or under `meson devenv -C build`.\n");
    return FALSE;
  }
  for (guint i = 0; needed[i]; i++) {
    if (!have_element (needed[i])) {
      g_printerr ("GStreamer has no %s: install gstreamer1.0-plugins-good, "
          "-bad, -ugly and gstreamer1.0-libav (./run.sh does).\n", needed[i]);
      return FALSE;
    }
  }
  if (!find_hostile (hostile_dir)) {
    g_printerr ("The test element \"hostile\" was not found in %s: it is "
        "built with the tests (meson setup -Dtests=enabled).\n",
        hostile_dir ? hostile_dir : "(no directory given)");
    return FALSE;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *hostile_dir = g_strdup (PX_TEST_PLUGIN_DIR);
  GOptionEntry entries[] = {
    {"test-plugins", 0, 0, G_OPTION_ARG_FILENAME, &hostile_dir,
        "Where the build's test plugin is (default: this build's)", "DIR"},
    {NULL}
  };
  GOptionContext *context = g_option_context_new ("- sandboxbin: a jailed "
      "decoder, a crash and its restart");
  GError *error = NULL;
  Outcome outcome = { 0 };
  gchar *dir, *clip;
  gboolean ok;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  g_option_context_free (context);
  if (!check_environment (hostile_dir))
    return 1;

  dir = g_dir_make_tmp ("parallax-sandbox-demo-XXXXXX", NULL);
  clip = g_build_filename (dir, "clip.mp4", NULL);
  g_print ("Parallax sandbox demo: an untrusted clip decoded in a jailed "
      "worker, and a crash\n\n1. The clip\n\n");
  outcome.clip = make_clip (clip);
  if (outcome.clip) {
    step_decode (clip, &outcome);
    step_crash (clip, &outcome);
  }
  ok = report (&outcome);
  g_print ("\n%s\n", ok ? "Everything happened as described." :
      "Something did not happen as described: see above.");
  g_remove (clip);
  g_rmdir (dir);
  g_free (outcome.first_difference);
  g_free (clip);
  g_free (dir);
  return ok ? 0 : 1;
}
