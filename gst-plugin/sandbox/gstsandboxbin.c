/* Parallax — sandboxbin: elements described in gst-launch syntax, run in a
 * jailed parallax-worker, that look like one ordinary element.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-sandboxbin
 * @title: sandboxbin
 * @see_also: ipcsink, ipcsrc
 *
 * Runs the elements of #GstSandboxBin:description in a parallax-worker
 * process locked in the sandbox (namespaces, an empty root, no
 * capabilities, seccomp, resource limits), and stands for them in the
 * pipeline: the bin has the pads the description leaves unlinked, and
 * buffers cross to the worker and back through ipcsink and ipcsrc without
 * being copied. When the worker dies — a crash, a refused system call, a
 * hang caught by the heartbeat — the bin says so on the bus and starts a
 * new one, up to #GstSandboxBin:max-restarts times within
 * #GstSandboxBin:restart-window.
 *
 * With #GstSandboxBin:mode=in-process the same description runs in this
 * process as an ordinary bin with the same pads: for debugging, and to
 * measure what the sandbox costs.
 *
 * Both modes accept the same descriptions and give the bin the same pads:
 * one unlinked sink pad, one unlinked src pad, and the sometimes src pads
 * of one element whose pads nothing in the description links (a demuxer,
 * decodebin), which appear on the bin as "src_%u" with their caps and
 * stream-start, go with the element's, and are followed by no-more-pads.
 * A description with a source only makes the bin a source (live if the
 * source is: NO_PREROLL, and the LATENCY query answers the worker's
 * latency); one with a sink only makes it a sink, which prerolls when the
 * worker's sink did.
 *
 * In isolated mode each sometimes pad of the worker gets a connection of
 * its own, which the host makes and hands to the worker (at most 16 at
 * once); an autoplugging bin (decodebin, parsebin, decodebin3) finds in
 * the worker every demuxer, decoder, parser and depayloader plugin the
 * host has, loaded before the lockdown.
 *
 * The bin posts these element messages:
 *
 * - "sandboxbin-worker-started": a worker is locked down and ready; "pid"
 *   (int), "layers" (string: the jail's layers), "limits" (string: how
 *   limits are enforced), "restarts" (uint: restarts so far), "spare"
 *   (boolean: it was the spare, see #GstSandboxBin:spare).
 * - "sandboxbin-worker-crashed": a worker ended on its own, or was killed
 *   for not answering; "pid" (int), "reason" (string), "exit-status" (int,
 *   -1 when a signal ended it), "signal" (int, 0 when it exited),
 *   "violation" (string: the system call the sandbox refused, empty if
 *   none), "pts" (guint64: of the buffer it was processing), "buffers-lost"
 *   (guint64, total), "replayed" (uint: buffers the next worker is given
 *   again), "will-restart" (boolean).
 * - "sandboxbin-buffer-quarantined": a buffer ended two workers in a row
 *   and is dropped (a GAP goes downstream for it); "pts", "dts",
 *   "duration", "offset", "size" (guint64).
 * - "sandboxbin-fallback": #GstSandboxBin:fallback-description takes over;
 *   "description" (string).
 * - "sandboxbin-spare-lost": the spare died while idle; the stream is not
 *   affected; "pid" (int), "reason" (string), "will-replace" (boolean:
 *   FALSE once spares failed more than max-restarts times within
 *   restart-window, after which the bin keeps none).
 *
 * A new worker is given the input since the keyframe its predecessor's
 * buffer depended on, and its output that was already pushed is dropped
 * (docs/sandboxbin.md, "Recovery"). When no restart is left, and no
 * fallback, the bin posts an error (STREAM, FAILED) and refuses further
 * buffers.
 *
 * Threads: the application's state changes; the streaming threads, which
 * cross the bin through its ghost pads (one per stream of sometimes pads,
 * which exposes its pad); the worker's threads (its relayed bus messages,
 * its preroll, its streams opening and closing, its exit); the bin's
 * supervisor, which restarts workers and sends heartbeats; and with
 * #GstSandboxBin:spare, the spare thread, which spawns spares and takes
 * no lock but lock (and the object lock, apart). Locks,
 * outermost first: transition_lock (a state change, or the supervisor
 * swapping workers), then streams_lock (a stream's element and pad come
 * and go under it) or preroll_lock (held while the ASYNC_START or
 * ASYNC_DONE of a sink's preroll is posted, so that they stay in order),
 * then the object lock or lock (never both). No message is posted and no
 * element changes state with lock held.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! sandboxbin description="videoconvert ! capsfilter caps=video/x-raw,format=BGRx" ! fakesink
 * gst-launch-1.0 filesrc location=clip.mp4 ! sandboxbin description="qtdemux ! h264parse ! avdec_h264" ! videoconvert ! autovideosink
 * gst-launch-1.0 sandboxbin description="videotestsrc is-live=true" ! videoconvert ! autovideosink
 * gst-launch-1.0 filesrc location=clip.mkv ! sandboxbin description=decodebin name=dec dec. ! videoconvert ! autovideosink dec. ! audioconvert ! autoaudiosink
 * ]|
 *
 * Since: 0.1
 */

#include "gstsandboxbin.h"
#include "gstipcsink.h"
#include "gstipcsrc.h"
#include "gstipcsharedbudget.h"
#include "gstipcsrcwatch.h"
#include "gstpxarenapool.h"
#include "gstpxerror.h"
#include "gstpxreplay.h"
#include "gstpxworker.h"
#include "px-fd.h"
#include "px-sandbox.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_sandbox_bin_debug);
#define GST_CAT_DEFAULT gst_sandbox_bin_debug

#define DEFAULT_MODE GST_SANDBOX_BIN_MODE_ISOLATED
#define DEFAULT_POLICY GST_SANDBOX_BIN_POLICY_MINIMAL_COMPUTE
#define DEFAULT_REQUIRE_SANDBOX TRUE
#define DEFAULT_MAX_RESTARTS 3
#define DEFAULT_RESTART_WINDOW 60000    /* ms */
#define DEFAULT_RESTART_DELAY 100       /* ms */
#define DEFAULT_BACKOFF GST_SANDBOX_BIN_BACKOFF_EXPONENTIAL
#define DEFAULT_HEARTBEAT_INTERVAL 1000 /* ms */
#define DEFAULT_HEARTBEAT_TIMEOUT 5000  /* ms */
#define DEFAULT_REPLAY_MAX_BUFFERS GST_PX_REPLAY_DEFAULT_MAX_BUFFERS
#define DEFAULT_REPLAY_MAX_BYTES GST_PX_REPLAY_DEFAULT_MAX_BYTES
#define DEFAULT_PROCESSING_TIMEOUT -1   /* adaptive */
#define DEFAULT_SPARE FALSE
/* The longest wait exponential backoff reaches. */
#define MAX_RESTART_DELAY 30000 /* ms */

#define WORKER_START_TIMEOUT (10 * GST_SECOND)
#define WORKER_STATE_TIMEOUT (10 * GST_SECOND)
#define WORKER_STOP_GRACE (GST_SECOND)
/* A worker whose connection broke usually dies a moment later: how long to
 * wait for its exit before killing it, so that the crash is reported as
 * what it was. */
#define WORKER_EXIT_WAIT (500 * G_TIME_SPAN_MILLISECOND)
/* How often the supervisor looks at the time spent on the current
 * buffer. */
#define PROCESSING_CHECK_INTERVAL (100 * G_TIME_SPAN_MILLISECOND)
/* How long a crashed worker's input may take to return from its ipcsink
 * once that is stopped. */
#define INPUT_RETURN_WAIT (G_TIME_SPAN_SECOND)
/* How long a dead worker's output may take to be read to its end (what it
 * sent is in its socket: the read is quick unless a reader is held in a
 * push, and the other reader takes over within 10 ms). */
#define OUTPUT_END_WAIT (200 * G_TIME_SPAN_MILLISECOND)
/* A spare answers this heartbeat before it takes over; one that does not
 * (stopped, frozen) is no quicker than a new worker. */
#define SPARE_PING_TIMEOUT (250 * GST_MSECOND)
/* The next spare is spawned once the one that took over has pushed its
 * first output (a spawn competes for the CPU with its first buffers), or
 * after this at most (a sink, a stream that waits). */
#define SPARE_SETTLE_TIME (G_TIME_SPAN_SECOND)

G_STATIC_ASSERT ((int) GST_SANDBOX_BIN_POLICY_MINIMAL_COMPUTE ==
    (int) PX_SANDBOX_POLICY_MINIMAL_COMPUTE);
G_STATIC_ASSERT ((int) GST_SANDBOX_BIN_POLICY_WITH_NETWORK ==
    (int) PX_SANDBOX_POLICY_WITH_NETWORK);
G_STATIC_ASSERT ((int) GST_SANDBOX_BIN_POLICY_WITH_FILESYSTEM ==
    (int) PX_SANDBOX_POLICY_WITH_FILESYSTEM);
G_STATIC_ASSERT ((int) GST_SANDBOX_BIN_POLICY_CUSTOM ==
    (int) PX_SANDBOX_POLICY_CUSTOM);

enum
{
  PROP_0,
  PROP_DESCRIPTION,
  PROP_MODE,
  PROP_POLICY,
  PROP_READ_ONLY_PATHS,
  PROP_READ_WRITE_PATHS,
  PROP_RULES_FILE,
  PROP_MEMORY_LIMIT,
  PROP_CPU_LIMIT,
  PROP_PIDS_LIMIT,
  PROP_UID,
  PROP_GID,
  PROP_REQUIRE_SANDBOX,
  PROP_MAX_RESTARTS,
  PROP_RESTART_WINDOW,
  PROP_RESTART_DELAY,
  PROP_BACKOFF,
  PROP_HEARTBEAT_INTERVAL,
  PROP_HEARTBEAT_TIMEOUT,
  PROP_WORKER_PID,
  PROP_RESTARTS,
  PROP_BUFFERS_LOST,
  PROP_LAST_VIOLATION,
  PROP_REPLAY_MAX_BUFFERS,
  PROP_REPLAY_MAX_BYTES,
  PROP_PROCESSING_TIMEOUT,
  PROP_FALLBACK_DESCRIPTION,
  PROP_BUFFERS_REPLAYED,
  PROP_BUFFERS_COPIED,
  PROP_LAST_CRASH_PTS,
  PROP_SPARE,
  PROP_SPARE_PID,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

typedef GstPxLayout Layout;

/* One sometimes pad of the description in a worker: the ipcsrc that reads
 * its connection, and the pad that stands for it on the bin once its caps
 * are known. Shared by the list and the ipcsrc's probe. */
typedef struct _SandboxWorker SandboxWorker;

typedef struct
{
  GstSandboxBin *bin;           /* outlives its streams: not a reference */
  SandboxWorker *worker;        /* a reference, given up when it goes */
  guint id;                     /* the worker's */
  GstElement *src;
  gint fd;                      /* host end; the ipcsrc reads a dup */
  /* (bin's streams_lock) */
  GstPad *ghost;                /* "src_%u" (a reference), NULL until
                                 * exposed */
  gboolean closed;              /* the pad went, or its worker */
} SandboxStream;

/* One parallax-worker and the host elements that talk to it. */
struct _SandboxWorker
{
  gint refcount;
  GstSandboxBin *bin;           /* outlives its workers: not a reference */
  GstPxWorker *px;
  /* Its memory limit, which the arenas made for all its outputs (the
   * ipcsrcs of its output and of its streams) share. */
  GstPxArenaBudget *arena_budget;
  guint generation;
  guint config_serial;          /* the bin's settings it was spawned with */
  gboolean fallback;            /* runs fallback-description */
  gint idle_spare;              /* atomic: a spare, not in service yet */
  gboolean from_spare;          /* was a spare (transition_lock) */
  gint first_output_due;        /* atomic: took over, no output yet */
  /* what px's sandbox configuration points to */
  gchar **read_only_paths;
  gchar **read_write_paths;
  gchar *rules_file;
  /* ipcsink and ipcsrc in the bin; NULL once detached (transition_lock) */
  GstElement *input;
  GstElement *output;
  gint retired;                 /* atomic: out of service, its end expected */
  /* its sometimes pads (bin's streams_lock) */
  GList *streams;
  gboolean no_more_pads;        /* the worker said no-more-pads */
  gboolean no_more_posted;
  /* a sink prerolling in the worker (bin's preroll_lock) */
  gboolean preroll_wanted;      /* a state change may get an ASYNC_DONE */
  gboolean preroll_early;       /* it came before the state change ended */
  gboolean preroll_started;     /* ASYNC_START posted, ASYNC_DONE owed */
  gboolean live;                /* it answered NO_PREROLL (bin's lock) */
  gboolean streamed;            /* went to PAUSED (bin's lock) */
  gboolean greeted;             /* its ipcsrc said hello to our ipcsink
                                 * (bin's lock) */
  /* (bin's lock) */
  gchar *exit_reason;           /* set when it ended */
  gchar *loss_reason;           /* why the host gave up on it */
};

struct _GstSandboxBin
{
  GstBin parent;

  /* ghost pads of the description's unlinked always pads; changed in NULL
   * only */
  GstPad *sinkpad;
  GstPad *srcpad;

  /* properties and layout (object lock) */
  gchar *description;
  GstSandboxBinMode mode;
  GstSandboxBinPolicy policy;
  gchar **read_only_paths;
  gchar **read_write_paths;
  gchar *rules_file;
  guint64 memory_limit;
  guint cpu_limit;
  guint pids_limit;
  gint uid;
  gint gid;
  gboolean require_sandbox;
  gchar *fallback_description;
  gboolean spare;
  Layout layout;
  guint next_src_id;
  /* (atomic; changed with the object lock) bumped by every sandbox
   * setting: a spare spawned before is not used */
  gint config_serial;

  /* the mode the bin runs in, latched at NULL -> READY (state-change
   * thread) */
  GstSandboxBinMode running_mode;

  /* in-process (state-change thread) */
  GstElement *child;
  GstElement *dynamic;
  gulong pad_added_id, pad_removed_id, no_more_pads_id;

  /* isolated */
  GMutex transition_lock;
  GMutex streams_lock;
  GMutex preroll_lock;
  GMutex lock;
  GCond cond;
  /* (lock) */
  guint max_restarts;
  guint restart_window;
  guint restart_delay;
  GstSandboxBinBackoff backoff;
  guint heartbeat_interval;
  guint heartbeat_timeout;
  SandboxWorker *worker;        /* current, or retired until replaced */
  guint next_generation;
  gboolean crash_pending;
  gboolean stopping;            /* going to READY or NULL: no restarts */
  gboolean quit;                /* the supervisor leaves */
  gboolean failed;              /* no restarts left */
  GQueue crash_times;           /* monotonic µs, within the window */
  guint restarts;
  guint64 buffers_lost;
  gchar *last_violation;
  gulong block_id;              /* holds the input while workers change */
  guint retiring_outputs;       /* see retire_output() */
  GThread *supervisor;

  /* recovery: the input kept for the next worker, what was lost */
  GstPxReplay *replay;
  GstBufferPool *input_pool;    /* streaming thread: the last one seen, held
                                 * until PAUSED -> READY (watch_input_pool()) */
  /* (lock) */
  guint replay_max_buffers;
  guint64 replay_max_bytes;
  gint processing_timeout;      /* ms; -1: adaptive, 0: none */
  gboolean using_fallback;      /* workers run fallback_description */
  GstClockTime last_crash_pts;
  /* (atomic) */
  guint64 buffers_replayed;
  guint64 buffers_copied;

  /* the spare worker, kept ready by spare_thread (state-change thread) */
  GThread *spare_thread;
  /* (lock) */
  gboolean keep_spare;          /* the spare property, as latched */
  gboolean spare_quit;          /* spare_thread leaves */
  SandboxWorker *spare_worker;  /* ready and idle, or NULL */
  gboolean spare_starting;      /* spare_thread spawns one */
  gboolean spare_held;          /* a worker takes over: spawn none */
  gint64 spare_held_until;      /* monotonic µs; 0: until released */
  gboolean spare_given_up;      /* spares failed too often */
  GQueue spare_failures;        /* monotonic µs, within restart-window */
  gint64 spare_next_attempt;    /* monotonic µs, after a failure */
};

#define gst_sandbox_bin_parent_class parent_class
G_DEFINE_TYPE (GstSandboxBin, gst_sandbox_bin, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (sandboxbin, "sandboxbin",
    GST_RANK_NONE, GST_TYPE_SANDBOX_BIN,
    GST_DEBUG_CATEGORY_INIT (gst_sandbox_bin_debug, "sandboxbin", 0,
        "Parallax sandboxed bin"));

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_SOMETIMES, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_SOMETIMES, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate dynamic_template =
GST_STATIC_PAD_TEMPLATE ("src_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS_ANY);

static GQuark ghost_quark;      /* on a mirrored pad: its ghost on the bin */
static GQuark generation_quark; /* on ipcsink / ipcsrc: their worker's */
static GQuark retired_quark;    /* on a stream's ipcsrc being taken out */

/* ---- enum types -------------------------------------------------------- */

GType
gst_sandbox_bin_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_SANDBOX_BIN_MODE_ISOLATED, "In a jailed parallax-worker",
        "isolated"},
    {GST_SANDBOX_BIN_MODE_IN_PROCESS, "In this process, as a plain bin",
        "in-process"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstSandboxBinMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_sandbox_bin_policy_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_SANDBOX_BIN_POLICY_MINIMAL_COMPUTE,
        "Threads, memory, time, I/O on fds held", "minimal-compute"},
    {GST_SANDBOX_BIN_POLICY_WITH_NETWORK,
        "Plus IPv4/IPv6 sockets", "with-network"},
    {GST_SANDBOX_BIN_POLICY_WITH_FILESYSTEM,
        "Plus the read-only and read-write paths", "with-filesystem"},
    {GST_SANDBOX_BIN_POLICY_CUSTOM,
        "A rules file on a base policy", "custom"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstSandboxBinPolicy", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_sandbox_bin_backoff_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_SANDBOX_BIN_BACKOFF_FIXED, "Always restart-delay", "fixed"},
    {GST_SANDBOX_BIN_BACKOFF_EXPONENTIAL,
        "restart-delay doubled for each crash in the window", "exponential"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstSandboxBinBackoff", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ---- the description's pads -------------------------------------------- */

static GstFlowReturn sink_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer);
static GstFlowReturn sink_chain_list (GstPad * pad, GstObject * parent,
    GstBufferList * list);

static GstPad *
add_ghost_pad (GstSandboxBin * self, const gchar * name)
{
  GstPadTemplate *templ =
      gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self), name);
  GstPad *pad = gst_ghost_pad_new_no_target_from_template (name, templ);

  if (GST_PAD_IS_SINK (pad)) {
    gst_pad_set_chain_function (pad, sink_chain);
    gst_pad_set_chain_list_function (pad, sink_chain_list);
  }
  gst_element_add_pad (GST_ELEMENT (self), pad);
  return pad;
}

/* In NULL: the bin's pads and flags follow the description. */
static void
apply_description (GstSandboxBin * self)
{
  GError *error = NULL;
  Layout layout = { 0, };
  gchar *description;

  GST_OBJECT_LOCK (self);
  description = g_strdup (self->description);
  GST_OBJECT_UNLOCK (self);

  if (description != NULL && !gst_px_layout_of (description, &layout, &error)) {
    /* Reported again, on the bus, when the bin starts. */
    GST_WARNING_OBJECT (self, "description \"%s\": %s", description,
        error->message);
    g_clear_error (&error);
  }
  g_free (description);

  if (self->sinkpad)
    gst_element_remove_pad (GST_ELEMENT (self), self->sinkpad);
  if (self->srcpad)
    gst_element_remove_pad (GST_ELEMENT (self), self->srcpad);
  self->sinkpad = layout.sink_pads ? add_ghost_pad (self, "sink") : NULL;
  self->srcpad = layout.src_pads ? add_ghost_pad (self, "src") : NULL;

  GST_OBJECT_LOCK (self);
  self->layout = layout;
  GST_OBJECT_FLAG_UNSET (self, GST_ELEMENT_FLAG_SOURCE | GST_ELEMENT_FLAG_SINK);
  if (!layout.sink_pads && (layout.src_pads || layout.dynamic))
    GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
  if (layout.sink_pads && !layout.src_pads && !layout.dynamic)
    GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
  GST_OBJECT_UNLOCK (self);
}

/* ---- in-process -------------------------------------------------------- */

static gboolean
copy_sticky_event (GstPad * pad, GstEvent ** event, gpointer user_data)
{
  gst_pad_store_sticky_event (GST_PAD (user_data), *event);
  return TRUE;
}

/* Streaming thread of the element: a new pad appears on the bin with the
 * caps and stream-start it already has. */
static void
dynamic_pad_added (GstElement * element, GstPad * pad, gpointer user_data)
{
  GstSandboxBin *self = user_data;
  GstPadTemplate *templ;
  GstPad *ghost;
  gchar *name;

  if (!GST_PAD_IS_SRC (pad))
    return;
  GST_OBJECT_LOCK (self);
  name = g_strdup_printf ("src_%u", self->next_src_id++);
  GST_OBJECT_UNLOCK (self);
  templ = gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self),
      "src_%u");
  ghost = gst_ghost_pad_new_from_template (name, pad, templ);
  g_free (name);
  gst_pad_set_active (ghost, TRUE);
  gst_pad_sticky_events_foreach (pad, copy_sticky_event, ghost);
  g_object_set_qdata (G_OBJECT (pad), ghost_quark, ghost);
  GST_DEBUG_OBJECT (self, "mirroring %" GST_PTR_FORMAT " as %s", pad,
      GST_PAD_NAME (ghost));
  gst_element_add_pad (GST_ELEMENT (self), ghost);
}

static void
dynamic_pad_removed (GstElement * element, GstPad * pad, gpointer user_data)
{
  GstSandboxBin *self = user_data;
  GstPad *ghost = g_object_steal_qdata (G_OBJECT (pad), ghost_quark);

  if (ghost == NULL)
    return;
  gst_pad_set_active (ghost, FALSE);
  gst_element_remove_pad (GST_ELEMENT (self), ghost);
}

static void
dynamic_no_more_pads (GstElement * element, gpointer user_data)
{
  gst_element_no_more_pads (GST_ELEMENT (user_data));
}

/* Brings @child to READY on a bus of its own, so that a failure reaches the
 * application as one message from the bin, in the domain and with the code
 * the element chose. */
static gboolean
try_child (GstSandboxBin * self, GstElement * child, const gchar * what)
{
  GstBus *bus = gst_bus_new ();
  GstMessage *message;
  GError *error = NULL;
  gchar *debug = NULL;
  GError *ours;

  gst_element_set_bus (child, bus);
  if (gst_element_set_state (child, GST_STATE_READY) !=
      GST_STATE_CHANGE_FAILURE) {
    gst_element_set_bus (child, NULL);
    gst_object_unref (bus);
    return TRUE;
  }
  message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (message != NULL)
    gst_message_parse_error (message, &error, &debug);
  ours = g_error_new (error ? error->domain : GST_CORE_ERROR,
      error ? error->code : GST_CORE_ERROR_STATE_CHANGE,
      "\"%s\" cannot start: %s", what, error ? error->message :
      "an element refused to go to READY");
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_error (GST_OBJECT (self), ours, debug));
  g_error_free (ours);
  g_clear_error (&error);
  g_free (debug);
  gst_clear_message (&message);
  gst_element_set_state (child, GST_STATE_NULL);
  gst_element_set_bus (child, NULL);
  gst_object_unref (bus);
  return FALSE;
}

static void
post_description_error (GstSandboxBin * self, const gchar * description,
    const GError * error)
{
  if (g_error_matches (error, GST_PARSE_ERROR, GST_PARSE_ERROR_NO_SUCH_ELEMENT))
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("Cannot build \"%s\": %s", description, error->message), (NULL));
  else
    GST_ELEMENT_ERROR (self, CORE, FAILED,
        ("Cannot build \"%s\": %s", description, error->message), (NULL));
}

static void
target_ghost_pad (GstPad * ghost, GstElement * element, const gchar * name)
{
  GstPad *pad;

  if (ghost == NULL)
    return;
  pad = gst_element_get_static_pad (element, name);
  if (pad == NULL || !gst_ghost_pad_set_target (GST_GHOST_PAD (ghost), pad))
    GST_WARNING_OBJECT (ghost, "cannot target %s:%s",
        GST_ELEMENT_NAME (element), name);
  gst_clear_object (&pad);
}

static void
target_pad (GstPad * ghost, GstPad * pad)
{
  if (ghost != NULL && pad != NULL &&
      !gst_ghost_pad_set_target (GST_GHOST_PAD (ghost), pad))
    GST_WARNING_OBJECT (ghost, "cannot target %" GST_PTR_FORMAT, pad);
}

/* NULL -> READY: the description as a child bin, its unlinked pads behind
 * the bin's ghost pads. */
static gboolean
build_child (GstSandboxBin * self)
{
  GError *error = NULL;
  GstElement *child;
  gchar *description;
  GstPxLayoutScan scan;

  GST_OBJECT_LOCK (self);
  description = g_strdup (self->description);
  GST_OBJECT_UNLOCK (self);
  if (description == NULL) {
    GST_ELEMENT_ERROR (self, CORE, FAILED, ("No description set"), (NULL));
    return FALSE;
  }
  child = gst_parse_bin_from_description_full (description, FALSE, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &error);
  if (child == NULL || !gst_px_layout_scan (GST_BIN (child), &scan, &error)) {
    post_description_error (self, description, error);
    g_clear_error (&error);
    gst_clear_object (&child);
    g_free (description);
    return FALSE;
  }
  if (!try_child (self, child, description)) {
    gst_object_unref (child);
    g_free (description);
    return FALSE;
  }
  g_free (description);

  gst_bin_add (GST_BIN (self), child);
  self->child = child;
  target_pad (self->sinkpad, scan.sinkpad);
  target_pad (self->srcpad, scan.srcpad);
  if (scan.dynamic != NULL) {
    self->dynamic = gst_object_ref (scan.dynamic);
    self->pad_added_id = g_signal_connect (self->dynamic, "pad-added",
        G_CALLBACK (dynamic_pad_added), self);
    self->pad_removed_id = g_signal_connect (self->dynamic, "pad-removed",
        G_CALLBACK (dynamic_pad_removed), self);
    self->no_more_pads_id = g_signal_connect (self->dynamic, "no-more-pads",
        G_CALLBACK (dynamic_no_more_pads), self);
  }
  return TRUE;
}

/* Mirrored pads still on the bin once their element is gone. */
static void
remove_dynamic_pads (GstSandboxBin * self)
{
  GList *pads = NULL;

  GST_OBJECT_LOCK (self);
  for (GList * l = GST_ELEMENT (self)->srcpads; l; l = l->next) {
    if (l->data != self->srcpad)
      pads = g_list_prepend (pads, gst_object_ref (l->data));
  }
  GST_OBJECT_UNLOCK (self);
  for (GList * l = pads; l; l = l->next) {
    gst_pad_set_active (l->data, FALSE);
    gst_element_remove_pad (GST_ELEMENT (self), l->data);
  }
  g_list_free_full (pads, gst_object_unref);
}

static void
remove_child (GstSandboxBin * self)
{
  if (self->dynamic) {
    g_signal_handler_disconnect (self->dynamic, self->pad_added_id);
    g_signal_handler_disconnect (self->dynamic, self->pad_removed_id);
    g_signal_handler_disconnect (self->dynamic, self->no_more_pads_id);
    gst_clear_object (&self->dynamic);
  }
  remove_dynamic_pads (self);
  if (self->sinkpad)
    gst_ghost_pad_set_target (GST_GHOST_PAD (self->sinkpad), NULL);
  if (self->srcpad)
    gst_ghost_pad_set_target (GST_GHOST_PAD (self->srcpad), NULL);
  if (self->child) {
    gst_element_set_state (self->child, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self), self->child);
    self->child = NULL;
  }
}

/* ---- workers ----------------------------------------------------------- */

static SandboxWorker *
sandbox_worker_ref (SandboxWorker * worker)
{
  g_atomic_int_inc (&worker->refcount);
  return worker;
}

static void
sandbox_worker_unref (SandboxWorker * worker)
{
  if (!g_atomic_int_dec_and_test (&worker->refcount))
    return;
  /* Stops it if needed and joins the threads that call us back. */
  gst_px_worker_free (worker->px);
  g_clear_pointer (&worker->arena_budget, gst_px_arena_budget_unref);
  g_strfreev (worker->read_only_paths);
  g_strfreev (worker->read_write_paths);
  g_free (worker->rules_file);
  g_free (worker->exit_reason);
  g_free (worker->loss_reason);
  g_free (worker);
}

static gboolean
worker_is_retired (SandboxWorker * worker)
{
  return g_atomic_int_get (&worker->retired) != 0;
}

/* The current worker, or NULL (in-process, or not started). */
static SandboxWorker *
current_worker (GstSandboxBin * self)
{
  SandboxWorker *worker;

  g_mutex_lock (&self->lock);
  worker = self->worker ? sandbox_worker_ref (self->worker) : NULL;
  g_mutex_unlock (&self->lock);
  return worker;
}

/* Marks @worker as given up on, for @reason, and wakes the supervisor. */
static void
worker_failed (GstSandboxBin * self, SandboxWorker * worker,
    const gchar * reason)
{
  g_mutex_lock (&self->lock);
  if (self->worker == worker && !worker_is_retired (worker)) {
    if (worker->loss_reason == NULL)
      worker->loss_reason = g_strdup (reason);
    self->crash_pending = TRUE;
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
}

static gboolean
is_sink_layout (GstSandboxBin * self)
{
  gboolean sink;

  GST_OBJECT_LOCK (self);
  sink = self->layout.sink_pads && !self->layout.src_pads &&
      !self->layout.dynamic;
  GST_OBJECT_UNLOCK (self);
  return sink;
}

static void worker_prerolled (GstSandboxBin * self, SandboxWorker * worker);

/* An error of a worker that took over a byte stream from a crashed one:
 * its demuxer or parser was given the stream in the middle, and says that
 * the file is invalid, or that it found nothing to play. The debug text
 * says why, and what survives a crash instead. */
static GstMessage *
explain_resumed_error (GstSandboxBin * self, SandboxWorker * worker,
    GstMessage * message)
{
  GError *error = NULL;
  gchar *debug = NULL, *where, *why;
  guint64 offset;
  GstMessage *explained;

  if (!gst_px_replay_resumed_in_bytes (self->replay, worker->generation,
          &offset))
    return message;
  gst_message_parse_error (message, &error, &debug);
  where = offset != GST_BUFFER_OFFSET_NONE ?
      g_strdup_printf ("from byte %" G_GUINT64_FORMAT, offset) :
      g_strdup ("from where its input went on");
  why = g_strdup_printf ("%s\nThis worker took over after a crash and was "
      "given the byte stream %s: a demuxer or a parser that needs the "
      "stream's start (its headers) cannot pick it up in the middle. To "
      "survive crashes, put the decoder alone in the sandboxbin (for "
      "example qtdemux ! h264parse ! sandboxbin description=avdec_h264; "
      "docs/sandboxbin.md, Recovery)", debug ? debug : "", where);
  explained = gst_message_new_error (GST_MESSAGE_SRC (message), error, why);
  gst_message_set_seqnum (explained, gst_message_get_seqnum (message));
  gst_message_unref (message);
  g_error_free (error);
  g_free (debug);
  g_free (where);
  g_free (why);
  return explained;
}

/* Control-socket reader of the worker: its bus messages, with the bin as
 * their source. A retired worker has nothing more to say, nor has an idle
 * spare: its jail's warning is the one the worker in service posted, with
 * the same settings. The end of its stream and its preroll matter only
 * when the bin is a sink: otherwise the sinks downstream say them. */
static void
worker_message (GstPxWorker * px, GstMessage * message, gpointer user_data)
{
  SandboxWorker *worker = user_data;
  GstSandboxBin *self = worker->bin;
  GstMessageType type = GST_MESSAGE_TYPE (message);

  if (g_atomic_int_get (&worker->idle_spare)) {
    GST_DEBUG_OBJECT (self, "idle spare: %" GST_PTR_FORMAT, message);
    gst_message_unref (message);
    return;
  }
  if (worker_is_retired (worker) || ((type == GST_MESSAGE_EOS ||
              type == GST_MESSAGE_ASYNC_DONE) && !is_sink_layout (self))) {
    gst_message_unref (message);
    return;
  }
  if (type == GST_MESSAGE_ASYNC_DONE) {
    gst_message_unref (message);
    worker_prerolled (self, worker);
    return;
  }
  if (type == GST_MESSAGE_ERROR)
    message = explain_resumed_error (self, worker, message);
  gst_element_post_message (GST_ELEMENT (self), message);
}

/* The worker's supervisor thread, once it is reaped. */
static void
worker_exited (GstPxWorker * px, const gchar * reason, gpointer user_data)
{
  SandboxWorker *worker = user_data;
  GstSandboxBin *self = worker->bin;

  g_mutex_lock (&self->lock);
  if (worker->exit_reason == NULL)
    worker->exit_reason = g_strdup (reason);
  if (self->worker == worker && !worker_is_retired (worker))
    self->crash_pending = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static const GstPxWorkerCallbacks worker_callbacks = {
  worker_message, worker_exited,
};

static gboolean stream_opened (GstPxWorker * px, guint id, gint fd,
    gpointer user_data);
static void stream_closed (GstPxWorker * px, guint id, gpointer user_data);
static void stream_no_more (GstPxWorker * px, gpointer user_data);

static const GstPxWorkerStreamCallbacks stream_callbacks = {
  stream_opened, stream_closed, stream_no_more,
};

/* The sandbox configuration from the properties; its arrays are kept in
 * @worker for as long as the worker may spawn. */
static gboolean
worker_config (GstSandboxBin * self, SandboxWorker * worker,
    PxSandboxConfig * config, GError ** error)
{
  gboolean ok = TRUE;

  px_sandbox_config_init (config);
  GST_OBJECT_LOCK (self);
  worker->config_serial = g_atomic_int_get (&self->config_serial);
  worker->read_only_paths = g_strdupv (self->read_only_paths);
  worker->read_write_paths = g_strdupv (self->read_write_paths);
  worker->rules_file = g_strdup (self->rules_file);
  config->policy = (PxSandboxPolicy) self->policy;
  config->memory_bytes = self->memory_limit;
  config->cpu_percent = self->cpu_limit;
  config->pids = self->pids_limit;
  config->allow_missing = self->require_sandbox ? 0 : PX_SANDBOX_ALL_LAYERS;
  if (self->uid >= 0 && self->gid >= 0) {
    config->change_ids = true;
    config->uid = (uid_t) self->uid;
    config->gid = (gid_t) self->gid;
  } else if (self->uid >= 0 || self->gid >= 0) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_REFUSED,
        "set both uid and gid, or neither");
    ok = FALSE;
  }
  GST_OBJECT_UNLOCK (self);
  config->read_only_paths = (const char *const *) worker->read_only_paths;
  config->read_write_paths = (const char *const *) worker->read_write_paths;
  config->rules_file = worker->rules_file;
  return ok;
}

static gchar *running_description (GstSandboxBin * self, gboolean * fallback);

/* Spawns a worker for the description and waits until it is locked down
 * in READY; as an idle spare with @spare. */
static SandboxWorker *
spawn_worker (GstSandboxBin * self, gboolean spare, GError ** error)
{
  SandboxWorker *worker = g_new0 (SandboxWorker, 1);
  PxSandboxConfig config;
  gchar *description;
  Layout layout;

  worker->refcount = 1;
  worker->bin = self;
  worker->idle_spare = spare;
  g_mutex_lock (&self->lock);
  worker->generation = ++self->next_generation;
  g_mutex_unlock (&self->lock);
  if (!worker_config (self, worker, &config, error)) {
    sandbox_worker_unref (worker);
    return NULL;
  }
  description = running_description (self, &worker->fallback);
  worker->px = gst_px_worker_new (description, &config, GST_OBJECT (self),
      &worker_callbacks, worker);
  g_free (description);
  worker->arena_budget =
      gst_px_arena_budget_new (gst_px_worker_get_arena_budget (worker->px));
  GST_OBJECT_LOCK (self);
  layout = self->layout;
  GST_OBJECT_UNLOCK (self);
  gst_px_worker_set_layout (worker->px, &layout);
  if (layout.dynamic)
    gst_px_worker_set_stream_callbacks (worker->px, &stream_callbacks, worker);
  if (!gst_px_worker_start (worker->px, WORKER_START_TIMEOUT, error)) {
    g_atomic_int_set (&worker->retired, 1);
    sandbox_worker_unref (worker);
    return NULL;
  }
  GST_INFO_OBJECT (self, "%s %d ready: %s", spare ? "spare" : "worker",
      (int) gst_px_worker_get_pid (worker->px),
      gst_px_worker_get_layers (worker->px));
  return worker;
}

static void
post_worker_started (GstSandboxBin * self, SandboxWorker * worker)
{
  guint restarts;

  g_mutex_lock (&self->lock);
  restarts = self->restarts;
  g_mutex_unlock (&self->lock);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("sandboxbin-worker-started",
              "pid", G_TYPE_INT, (gint) gst_px_worker_get_pid (worker->px),
              "layers", G_TYPE_STRING, gst_px_worker_get_layers (worker->px),
              "limits", G_TYPE_STRING, gst_px_worker_get_limits (worker->px),
              "restarts", G_TYPE_UINT, restarts,
              "spare", G_TYPE_BOOLEAN, worker->from_spare, NULL)));
}

static GstPadProbeReturn recover_output (GstSandboxBin * self,
    SandboxWorker * worker, GstPad * pad, GstPadProbeInfo * info);

/* The output's reader threads: what it read of the worker's output. */
static void
output_read (GstIpcSrcRead what, gpointer user_data)
{
  SandboxWorker *worker = user_data;

  gst_px_replay_output_read (worker->bin->replay, worker->generation, what);
}

static GstPadProbeReturn
count_output (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  SandboxWorker *worker = user_data;

  /* Taken away from the bin: what it pushes now goes nowhere. */
  if (!gst_pad_is_linked (pad))
    return GST_PAD_PROBE_OK;
  return recover_output (worker->bin, worker, pad, info);
}

/* A connection thread of the ipcsink. */
static void
input_connected (GstElement * input, guint id, gpointer user_data)
{
  SandboxWorker *worker = user_data;

  g_mutex_lock (&worker->bin->lock);
  worker->greeted = TRUE;
  g_cond_broadcast (&worker->bin->cond);
  g_mutex_unlock (&worker->bin->lock);
}

/* ipcsink sends events only to a peer that greeted it (buffers wait for
 * one): an EOS that comes first would be lost. */
static gboolean
wait_for_greeting (GstSandboxBin * self, SandboxWorker * worker)
{
  gint64 deadline = g_get_monotonic_time () +
      WORKER_STATE_TIMEOUT / GST_USECOND;
  gboolean greeted;

  if (worker->input == NULL)
    return TRUE;
  g_mutex_lock (&self->lock);
  while (!worker->greeted && !worker_is_retired (worker) &&
      worker->exit_reason == NULL &&
      g_cond_wait_until (&self->cond, &self->lock, deadline));
  greeted = worker->greeted;
  g_mutex_unlock (&self->lock);
  return greeted;
}

static GstElement *
make_ipc_element (SandboxWorker * worker, const gchar * factory,
    const gchar * role)
{
  gchar *name = g_strdup_printf ("%s-%u", role, worker->generation);
  GstElement *element = gst_element_factory_make (factory, name);

  g_free (name);
  if (element != NULL)
    g_object_set_qdata (G_OBJECT (element), generation_quark,
        GUINT_TO_POINTER (worker->generation));
  return element;
}

/* Puts an ipcsink on the worker's input and an ipcsrc on its output behind
 * the ghost pads, for the pads the description has. The ipcsink waits for
 * the worker to greet it instead of dropping what comes first. It must not
 * preroll: a demuxer or a decoder in the worker may need many buffers
 * before its first output reaches the sink downstream, which is the one
 * that prerolls (or, for a sink in the worker, the worker's sink, see
 * begin_preroll()). So its state is ours to set, PLAYING as soon as the
 * bin is PAUSED (see input_state()). */
static gboolean
attach_elements (GstSandboxBin * self, SandboxWorker * worker)
{
  gint in_fd = gst_px_worker_get_input_fd (worker->px);
  gint out_fd = gst_px_worker_get_output_fd (worker->px);
  GstElement *input = in_fd < 0 ? NULL :
      make_ipc_element (worker, "ipcsink", "input");
  GstElement *output = out_fd < 0 ? NULL :
      make_ipc_element (worker, "ipcsrc", "output");
  GstPad *pad;

  if ((in_fd >= 0 && input == NULL) || (out_fd >= 0 && output == NULL)) {
    gst_clear_object (&input);
    gst_clear_object (&output);
    return FALSE;
  }
  if (input != NULL) {
    /* The worker's description keeps at most half of what it is lent, and
     * is given copies past that (GST_PX_WORKER_INPUT_HOLD). */
    g_object_set (input, "fd", in_fd, "async", FALSE, "wait-for-connection",
        TRUE, "max-in-flight", GST_PX_WORKER_INPUT_IN_FLIGHT, NULL);
    gst_element_set_locked_state (input, TRUE);
    g_signal_connect (input, "client-connected",
        G_CALLBACK (input_connected), worker);
    gst_bin_add (GST_BIN (self), input);
    worker->input = input;
    target_ghost_pad (self->sinkpad, input, "sink");
  }
  if (output != NULL) {
    /* The worker makes no shared memory: its output arenas are made here,
     * within its memory limit, shared with its streams' ipcsrcs. */
    g_object_set (output, "fd", out_fd, "is-live", FALSE, "arena-budget",
        gst_px_worker_get_arena_budget (worker->px), NULL);
    gst_ipc_src_set_shared_budget (output, worker->arena_budget);
    gst_ipc_src_set_watch (output, output_read, sandbox_worker_ref (worker),
        (GDestroyNotify) sandbox_worker_unref);
    pad = gst_element_get_static_pad (output, "src");
    /* The ipcsrc may outlive its worker's time in the bin: the probe holds
     * the counters it writes. */
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, count_output,
        sandbox_worker_ref (worker), (GDestroyNotify) sandbox_worker_unref);
    gst_object_unref (pad);
    gst_bin_add (GST_BIN (self), output);
    worker->output = output;
    target_ghost_pad (self->srcpad, output, "src");
  }
  return TRUE;
}

/* With a live source in the worker (it answered NO_PREROLL) the outputs
 * are live too: they produce in PLAYING only, keep the worker's running
 * times and answer the LATENCY query with the worker's latency. */
static void
make_outputs_live (GstSandboxBin * self, SandboxWorker * worker,
    GstStateChangeReturn result)
{
  gboolean live = result == GST_STATE_CHANGE_NO_PREROLL;

  g_mutex_lock (&self->lock);
  worker->live = live;
  g_mutex_unlock (&self->lock);
  if (worker->output != NULL)
    g_object_set (worker->output, "is-live", live, NULL);
}

/* The state of the ipcsink for the bin's @state: it renders whatever comes
 * as soon as data may flow. */
static GstState
input_state (GstState state)
{
  return state >= GST_STATE_PAUSED ? GST_STATE_PLAYING : state;
}

static gboolean
set_input_state (GstSandboxBin * self, SandboxWorker * worker, GstState state)
{
  if (worker == NULL || worker->input == NULL)
    return TRUE;
  if (gst_element_set_state (worker->input, input_state (state)) ==
      GST_STATE_CHANGE_FAILURE) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Cannot send buffers to the sandboxed worker"), (NULL));
    return FALSE;
  }
  return TRUE;
}

/* A thread of GStreamer's: stops an ipcsrc taken away from a dead worker.
 * Its streaming thread may be held by the sink downstream (in preroll,
 * while PAUSED) until the pipeline plays or flushes; nothing else waits
 * for that but READY -> NULL. */
static void
retire_output (GstElement * output, gpointer user_data)
{
  GstSandboxBin *self = user_data;

  gst_element_set_state (output, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (self), output);
  g_mutex_lock (&self->lock);
  self->retiring_outputs--;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* READY -> NULL: every ipcsrc retired is gone (the sink downstream, which
 * changed state before the bin, no longer holds them). */
static void
wait_for_retired_outputs (GstSandboxBin * self)
{
  g_mutex_lock (&self->lock);
  while (self->retiring_outputs > 0)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
}

/* Takes the worker's elements out of the bin. With @now FALSE (a worker
 * that died while the bin streams) its ipcsrc is unlinked at once and
 * stopped elsewhere, see retire_output(). */
static void retire_streams (GstSandboxBin * self, SandboxWorker * worker);
static void cancel_preroll (GstSandboxBin * self, SandboxWorker * worker);

static void
detach_elements (GstSandboxBin * self, SandboxWorker * worker, gboolean now)
{
  GstElement *input = worker->input, *output = worker->output;

  retire_streams (self, worker);
  cancel_preroll (self, worker);
  worker->input = worker->output = NULL;
  if (self->sinkpad && input)
    gst_ghost_pad_set_target (GST_GHOST_PAD (self->sinkpad), NULL);
  if (self->srcpad && output)
    gst_ghost_pad_set_target (GST_GHOST_PAD (self->srcpad), NULL);
  if (input != NULL) {
    gst_element_set_state (input, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self), input);
  }
  if (output != NULL && now) {
    gst_element_set_state (output, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self), output);
  } else if (output != NULL) {
    gst_element_set_locked_state (output, TRUE);
    g_mutex_lock (&self->lock);
    self->retiring_outputs++;
    g_mutex_unlock (&self->lock);
    gst_element_call_async (output, retire_output, self, NULL);
  }
}

/* ---- streams: the description's sometimes pads ------------------------ */

static SandboxStream *
stream_ref (SandboxStream * stream)
{
  return g_atomic_rc_box_acquire (stream);
}

static void
stream_clear (SandboxStream * stream)
{
  px_close_fd (&stream->fd);
  gst_clear_object (&stream->ghost);
  g_clear_pointer (&stream->worker, sandbox_worker_unref);
}

static void
stream_unref (SandboxStream * stream)
{
  g_atomic_rc_box_release_full (stream, (GDestroyNotify) stream_clear);
}

/* With streams_lock: the worker said no-more-pads and every pad it has
 * is on the bin; TRUE once. */
static gboolean
no_more_pads_due_locked (SandboxWorker * worker)
{
  if (!worker->no_more_pads || worker->no_more_posted)
    return FALSE;
  for (GList * l = worker->streams; l; l = l->next) {
    SandboxStream *stream = l->data;

    if (stream->ghost == NULL && !stream->closed)
      return FALSE;
  }
  worker->no_more_posted = TRUE;
  return TRUE;
}

/* With streams_lock, streaming thread of the stream's ipcsrc: the pad
 * appears on the bin with the caps and stream-start it has, as a
 * demuxer's own would (see dynamic_pad_added()). */
static void
expose_stream_locked (GstSandboxBin * self, SandboxStream * stream,
    GstPad * pad)
{
  GstPadTemplate *templ =
      gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self),
      "src_%u");
  GstPad *ghost;
  gchar *name;

  GST_OBJECT_LOCK (self);
  name = g_strdup_printf ("src_%u", self->next_src_id++);
  GST_OBJECT_UNLOCK (self);
  ghost = gst_ghost_pad_new_from_template (name, pad, templ);
  g_free (name);
  gst_pad_set_active (ghost, TRUE);
  gst_pad_sticky_events_foreach (pad, copy_sticky_event, ghost);
  stream->ghost = gst_object_ref (ghost);
  GST_DEBUG_OBJECT (self, "stream %u of the worker as %s", stream->id,
      GST_PAD_NAME (ghost));
  gst_element_add_pad (GST_ELEMENT (self), ghost);
}

/* Streaming thread of a stream's ipcsrc. A stream is exposed once it has
 * caps (or data, or its end). A pad nobody linked takes nothing, and does
 * not stop the other streams, as with a demuxer in-process whose other
 * pads are linked. */
static GstPadProbeReturn
stream_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  SandboxStream *stream = user_data;
  GstSandboxBin *self = stream->bin;
  GstEvent *event = info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM ?
      GST_PAD_PROBE_INFO_EVENT (info) : NULL;
  gboolean no_more = FALSE, linked;

  if (event != NULL && GST_EVENT_TYPE (event) != GST_EVENT_CAPS &&
      GST_EVENT_TYPE (event) != GST_EVENT_EOS &&
      GST_EVENT_TYPE (event) != GST_EVENT_GAP)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&self->streams_lock);
  if (stream->ghost == NULL && !stream->closed) {
    expose_stream_locked (self, stream, pad);
    no_more = no_more_pads_due_locked (stream->worker);
  }
  linked = stream->ghost != NULL && gst_pad_is_linked (stream->ghost);
  g_mutex_unlock (&self->streams_lock);
  if (no_more)
    gst_element_no_more_pads (GST_ELEMENT (self));
  return event != NULL || linked ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

/* Control reader of the worker: a new pad in there gets an ipcsrc here,
 * in the bin's state. */
static gboolean
stream_opened (GstPxWorker * px, guint id, gint fd, gpointer user_data)
{
  SandboxWorker *worker = user_data;
  GstSandboxBin *self = worker->bin;
  SandboxStream *stream;
  GstElement *src = NULL;
  gboolean stopping, live;
  GstPad *pad;
  gchar *role;

  g_mutex_lock (&self->streams_lock);
  g_mutex_lock (&self->lock);
  stopping = self->stopping;
  live = worker->live;
  g_mutex_unlock (&self->lock);
  role = g_strdup_printf ("stream%u", id);
  if (!stopping && !worker_is_retired (worker))
    src = make_ipc_element (worker, "ipcsrc", role);
  g_free (role);
  if (src == NULL) {
    g_mutex_unlock (&self->streams_lock);
    close (fd);
    return FALSE;
  }
  stream = g_atomic_rc_box_new0 (SandboxStream);
  stream->bin = self;
  stream->worker = sandbox_worker_ref (worker);
  stream->id = id;
  stream->src = src;
  stream->fd = fd;
  /* The arenas of all the worker's streams, and of its output, within its
   * memory limit together: one budget each would let the worker have the
   * host make and hold GST_PX_WORKER_MAX_STREAMS times it. */
  g_object_set (src, "fd", fd, "is-live", live, "arena-budget",
      gst_px_worker_get_arena_budget (px), NULL);
  gst_ipc_src_set_shared_budget (src, worker->arena_budget);
  pad = gst_element_get_static_pad (src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
      stream_probe, stream_ref (stream), (GDestroyNotify) stream_unref);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, count_output,
      sandbox_worker_ref (worker), (GDestroyNotify) sandbox_worker_unref);
  gst_object_unref (pad);
  worker->streams = g_list_append (worker->streams, stream);
  gst_bin_add (GST_BIN (self), src);
  if (!gst_element_sync_state_with_parent (src))
    GST_WARNING_OBJECT (self, "stream %u of the worker does not start", id);
  g_mutex_unlock (&self->streams_lock);
  return TRUE;
}

/* A thread of GStreamer's: stops the ipcsrc of a stream that went. Its
 * streaming thread may be held downstream (in preroll) meanwhile, see
 * retire_output(). */
static void
retire_stream_element (GstElement * src, gpointer user_data)
{
  SandboxStream *stream = user_data;
  GstSandboxBin *self = stream->bin;
  GstPad *ghost;

  gst_element_set_state (src, GST_STATE_NULL);
  g_mutex_lock (&self->streams_lock);
  ghost = stream->ghost ? gst_object_ref (stream->ghost) : NULL;
  g_mutex_unlock (&self->streams_lock);
  if (ghost != NULL) {
    gst_pad_set_active (ghost, FALSE);
    gst_object_unref (ghost);
  }
  gst_bin_remove (GST_BIN (self), src);
  g_mutex_lock (&self->lock);
  self->retiring_outputs--;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Out of the worker's list (the reference it held is the caller's): its
 * pad leaves the bin now, its ipcsrc is stopped elsewhere, and what it
 * says as its connection ends is no news. */
static void
retire_stream (GstSandboxBin * self, SandboxStream * stream)
{
  GstPad *ghost;

  g_mutex_lock (&self->streams_lock);
  stream->closed = TRUE;
  ghost = stream->ghost ? gst_object_ref (stream->ghost) : NULL;
  g_mutex_unlock (&self->streams_lock);
  g_object_set_qdata (G_OBJECT (stream->src), retired_quark,
      GINT_TO_POINTER (1));
  gst_element_set_locked_state (stream->src, TRUE);
  if (ghost != NULL) {
    gst_element_remove_pad (GST_ELEMENT (self), ghost);
    gst_object_unref (ghost);
  }
  g_mutex_lock (&self->lock);
  self->retiring_outputs++;
  g_mutex_unlock (&self->lock);
  gst_element_call_async (stream->src, retire_stream_element, stream,
      (GDestroyNotify) stream_unref);
}

static SandboxStream *
take_stream_locked (SandboxWorker * worker, guint id, gboolean any)
{
  for (GList * l = worker->streams; l; l = l->next) {
    SandboxStream *stream = l->data;

    if (any || stream->id == id) {
      worker->streams = g_list_delete_link (worker->streams, l);
      return stream;
    }
  }
  return NULL;
}

/* Control reader: the pad went in the worker. Its connection closes once
 * this returns. */
static void
stream_closed (GstPxWorker * px, guint id, gpointer user_data)
{
  SandboxWorker *worker = user_data;
  GstSandboxBin *self = worker->bin;
  SandboxStream *stream;
  gboolean no_more;

  g_mutex_lock (&self->streams_lock);
  stream = take_stream_locked (worker, id, FALSE);
  no_more = no_more_pads_due_locked (worker);
  g_mutex_unlock (&self->streams_lock);
  if (stream != NULL)
    retire_stream (self, stream);
  if (no_more)
    gst_element_no_more_pads (GST_ELEMENT (self));
}

/* Control reader: no-more-pads, once the pads it has are on the bin. */
static void
stream_no_more (GstPxWorker * px, gpointer user_data)
{
  SandboxWorker *worker = user_data;
  GstSandboxBin *self = worker->bin;
  gboolean no_more;

  g_mutex_lock (&self->streams_lock);
  worker->no_more_pads = TRUE;
  worker->no_more_posted = FALSE;
  no_more = no_more_pads_due_locked (worker);
  g_mutex_unlock (&self->streams_lock);
  if (no_more)
    gst_element_no_more_pads (GST_ELEMENT (self));
}

/* Every stream of a worker that leaves. */
static void
retire_streams (GstSandboxBin * self, SandboxWorker * worker)
{
  SandboxStream *stream;

  for (;;) {
    g_mutex_lock (&self->streams_lock);
    stream = take_stream_locked (worker, 0, TRUE);
    g_mutex_unlock (&self->streams_lock);
    if (stream == NULL)
      break;
    retire_stream (self, stream);
  }
}

/* ---- a sink: the worker's preroll -------------------------------------- */

/* Before the worker goes to PAUSED: its ASYNC_DONE may come before it
 * says it went ASYNC. */
static void
expect_preroll (GstSandboxBin * self, SandboxWorker * worker)
{
  g_mutex_lock (&self->preroll_lock);
  worker->preroll_wanted = TRUE;
  worker->preroll_early = FALSE;
  g_mutex_unlock (&self->preroll_lock);
}

/* After the worker answered @result: when it prerolls later, the bin's
 * state change is ASYNC until it did. GstBin learns it as if from a child
 * sink (the input ipcsink, which never prerolls itself); TRUE then. */
static gboolean
begin_preroll (GstSandboxBin * self, SandboxWorker * worker,
    GstStateChangeReturn result)
{
  gboolean started;

  g_mutex_lock (&self->preroll_lock);
  started = worker->preroll_wanted && !worker->preroll_early &&
      result == GST_STATE_CHANGE_ASYNC && worker->input != NULL;
  worker->preroll_wanted = worker->preroll_early = FALSE;
  worker->preroll_started = started;
  /* preroll_lock: the worker's ASYNC_DONE goes after this */
  if (started)
    gst_element_post_message (worker->input,
        gst_message_new_async_start (GST_OBJECT (worker->input)));
  g_mutex_unlock (&self->preroll_lock);
  return started;
}

/* With preroll_lock: the bin waits no more. */
static void
end_preroll_locked (SandboxWorker * worker)
{
  if (!worker->preroll_started)
    return;
  worker->preroll_started = FALSE;
  gst_element_post_message (worker->input,
      gst_message_new_async_done (GST_OBJECT (worker->input),
          GST_CLOCK_TIME_NONE));
}

/* Control reader: the worker's pipeline prerolled. */
static void
worker_prerolled (GstSandboxBin * self, SandboxWorker * worker)
{
  g_mutex_lock (&self->preroll_lock);
  if (worker->preroll_wanted)
    worker->preroll_early = TRUE;
  else
    end_preroll_locked (worker);
  g_mutex_unlock (&self->preroll_lock);
}

/* A worker that leaves before its preroll: nobody waits for it. */
static void
cancel_preroll (GstSandboxBin * self, SandboxWorker * worker)
{
  g_mutex_lock (&self->preroll_lock);
  worker->preroll_wanted = worker->preroll_early = FALSE;
  end_preroll_locked (worker);
  g_mutex_unlock (&self->preroll_lock);
}

/* ---- the input pad ----------------------------------------------------- */

static GstPadProbeReturn
hold_input (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  /* Blocked until the probe goes: the next worker takes the data. */
  return GST_PAD_PROBE_OK;
}

static void
block_input (GstSandboxBin * self)
{
  gulong id;

  if (self->sinkpad == NULL)
    return;
  g_mutex_lock (&self->lock);
  id = self->block_id;
  g_mutex_unlock (&self->lock);
  if (id != 0)
    return;
  id = gst_pad_add_probe (self->sinkpad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM,
      hold_input, NULL, NULL);
  g_mutex_lock (&self->lock);
  self->block_id = id;
  g_mutex_unlock (&self->lock);
}

static void
unblock_input (GstSandboxBin * self)
{
  gulong id;

  g_mutex_lock (&self->lock);
  id = self->block_id;
  self->block_id = 0;
  g_mutex_unlock (&self->lock);
  if (id != 0)
    gst_pad_remove_probe (self->sinkpad, id);
}

/* ---- recovery (the replay window: gstpxreplay.h) ------------------------ */

/* Streaming thread: a new segment is a new stream, and the window starts
 * again. */
static void
follow_stream (GstSandboxBin * self, GstPad * pad)
{
  GstEvent *segment = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  GstCaps *caps = gst_pad_get_current_caps (pad);

  gst_px_replay_follow_stream (self->replay, segment, caps);
  gst_clear_event (&segment);
  gst_clear_caps (&caps);
}

/* Streaming thread: a worker that took over from one that ended is first
 * given the window again, through the ghost pad's inner pad (which sends
 * the stream's sticky events to a new peer before the first buffer). */
static GstFlowReturn
replay_window (GstSandboxBin * self, GstPad * pad, SandboxWorker * worker)
{
  GstBufferList *list = gst_px_replay_take (self->replay, worker->generation,
      g_get_monotonic_time ());
  guint n;

  if (list == NULL)
    return GST_FLOW_OK;
  n = gst_buffer_list_length (list);
  GST_DEBUG_OBJECT (self, "giving worker %u %u buffers again",
      worker->generation, n);
  __atomic_fetch_add (&self->buffers_replayed, n, __ATOMIC_RELAXED);
  return gst_proxy_pad_chain_list_default (pad, GST_OBJECT (self), list);
}

/* Upstream's thread, about to wait for a slot of @pool. */
static void
input_pool_starved (GstBufferPool * pool, GstSandboxBin * self)
{
  gst_px_replay_starved (self->replay, pool);
}

/* Streaming thread: the window must not hold back the pool upstream
 * writes into (the one our ipcsink proposed, an arena pool): when it is
 * starved, the window lets go of what only it holds. Connected once per
 * pool, for the pool's life or the bin's, whichever ends first. The last
 * pool seen is held, so that no other pool can take its address while it
 * is compared with. */
static void
watch_input_pool (GstSandboxBin * self, GstBuffer * buffer)
{
  GstBufferPool *pool = buffer->pool;

  if (pool == NULL || pool == self->input_pool)
    return;
  gst_object_replace ((GstObject **) & self->input_pool, GST_OBJECT (pool));
  if (!GST_IS_PX_ARENA_POOL (pool) || g_signal_handler_find (pool,
          G_SIGNAL_MATCH_FUNC | G_SIGNAL_MATCH_DATA, 0, 0, NULL,
          input_pool_starved, self) != 0)
    return;
  g_signal_connect_object (pool, "starved", G_CALLBACK (input_pool_starved),
      self, 0);
}

static void
record_input (GstSandboxBin * self, SandboxWorker * worker,
    GstMiniObject * data)
{
  gint64 now = g_get_monotonic_time ();
  GstBufferList *list;

  if (GST_IS_BUFFER (data)) {
    watch_input_pool (self, GST_BUFFER (data));
    gst_px_replay_input (self->replay, worker->generation, GST_BUFFER (data),
        now);
    return;
  }
  list = GST_BUFFER_LIST (data);
  for (guint i = 0; i < gst_buffer_list_length (list); i++) {
    watch_input_pool (self, gst_buffer_list_get (list, i));
    gst_px_replay_input (self->replay, worker->generation,
        gst_buffer_list_get (list, i), now);
  }
}

/* The ghost sink pad's serialized events. One that comes after a crash,
 * before the next buffer (an EOS, new caps, a new stream), comes after the
 * window; a flush drops the window; an EOS says that the worker waits for
 * no more input (see gst_px_replay_timed_out()). */
static GstPadProbeReturn
watch_input (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstSandboxBin *self = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  SandboxWorker *worker;

  if (!GST_EVENT_IS_SERIALIZED (event))
    return GST_PAD_PROBE_OK;
  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP) {
    gst_px_replay_reset (self->replay);
    return GST_PAD_PROBE_OK;
  }
  worker = current_worker (self);
  if (worker == NULL)
    return GST_PAD_PROBE_OK;
  gst_px_replay_begin_input (self->replay);
  replay_window (self, pad, worker);
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
    gst_px_replay_input_ended (self->replay, worker->generation);
  gst_px_replay_end_input (self->replay);
  sandbox_worker_unref (worker);
  return GST_PAD_PROBE_OK;
}

static GQuark
input_watch_quark (void)
{
  static GQuark quark;

  if (quark == 0)
    quark = g_quark_from_static_string ("sandboxbin-input-watch");
  return quark;
}

/* Streaming thread, isolated: the first buffer on @pad installs
 * watch_input() on it, for as long as the pad lives. */
static void
watch_input_pad (GstSandboxBin * self, GstPad * pad)
{
  if (g_object_get_qdata (G_OBJECT (pad), input_watch_quark ()) != NULL)
    return;
  g_object_set_qdata (G_OBJECT (pad), input_watch_quark (),
      GUINT_TO_POINTER (1));
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, watch_input,
      self, NULL);
}

typedef struct
{
  GstPad *internal;             /* the ghost sink pad's inner pad */
  GstPad *target;               /* the new worker's ipcsink's sink pad */
  guint worker;                 /* its generation */
  GstBufferList *list;
} ReplayJob;

static void
free_replay_job (gpointer data)
{
  ReplayJob *job = data;

  gst_object_unref (job->internal);
  gst_object_unref (job->target);
  if (job->list)
    gst_buffer_list_unref (job->list);
  g_free (job);
}

static gboolean
send_stream_event (GstPad * pad, GstEvent ** event, gpointer user_data)
{
  if (GST_EVENT_TYPE (*event) != GST_EVENT_EOS)
    gst_pad_send_event (GST_PAD (user_data), gst_event_ref (*event));
  return TRUE;
}

/* A thread of GStreamer's: the stream had ended when the worker crashed.
 * The new one gets the stream's sticky events, the window, then the EOS,
 * straight into its ipcsink (the ghost pad's inner pad, past its EOS,
 * sends nothing more). Not on the supervisor: the window may be more than
 * the worker takes at once, and the sink downstream may hold the output
 * until PLAYING. */
static void
replay_to_eos (GstElement * element, gpointer user_data)
{
  GstSandboxBin *self = GST_SANDBOX_BIN (element);
  ReplayJob *job = user_data;
  GstEvent *eos;
  GstFlowReturn ret;

  gst_pad_sticky_events_foreach (job->internal, send_stream_event, job->target);
  ret = gst_pad_chain_list (job->target, g_steal_pointer (&job->list));
  if (ret != GST_FLOW_OK)
    GST_DEBUG_OBJECT (self, "replay before the EOS: %s",
        gst_flow_get_name (ret));
  eos = gst_pad_get_sticky_event (job->internal, GST_EVENT_EOS, 0);
  gst_px_replay_input_ended (self->replay, job->worker);
  gst_pad_send_event (job->target, eos ? eos : gst_event_new_eos ());
  gst_px_replay_end_input (self->replay);
}

/* Supervisor, in replace_worker(): if the stream had ended when @worker's
 * predecessor crashed, a thread of GStreamer's gives @worker the window
 * and the EOS; FALSE if there is no window to give (resend_eos() then
 * sends the EOS). */
static gboolean
replay_after_eos (GstSandboxBin * self, SandboxWorker * worker)
{
  GstBufferList *list = NULL;
  GstPad *internal;
  GstEvent *eos;
  ReplayJob *job;

  if (self->sinkpad == NULL)
    return FALSE;
  internal = GST_PAD (gst_proxy_pad_get_internal (GST_PROXY_PAD
          (self->sinkpad)));
  eos = gst_pad_get_sticky_event (internal, GST_EVENT_EOS, 0);
  if (eos != NULL)
    list = gst_px_replay_take (self->replay, worker->generation,
        g_get_monotonic_time ());
  gst_clear_event (&eos);
  if (list == NULL) {
    gst_object_unref (internal);
    return FALSE;
  }
  __atomic_fetch_add (&self->buffers_replayed, gst_buffer_list_length (list),
      __ATOMIC_RELAXED);
  job = g_new0 (ReplayJob, 1);
  job->internal = internal;
  job->target = gst_element_get_static_pad (worker->input, "sink");
  job->worker = worker->generation;
  job->list = list;
  gst_px_replay_begin_input (self->replay);
  gst_element_call_async (GST_ELEMENT (self), replay_to_eos, job,
      free_replay_job);
  return TRUE;
}

/* Raw audio and video go downstream as the worker wrote them, in its
 * arena; anything else is parsed again downstream, and the worker can
 * still write its arena: that is copied first (docs/security.md, "Output
 * the host parses again"). */
static gboolean
output_is_raw (GstPad * pad)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  const gchar *name = NULL;
  gboolean raw;

  if (caps != NULL && gst_caps_get_size (caps) > 0)
    name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  raw = name != NULL && (g_str_equal (name, "video/x-raw") ||
      g_str_equal (name, "audio/x-raw"));
  gst_clear_caps (&caps);
  return raw;
}

static GstBuffer *
copy_output (GstSandboxBin * self, GstBuffer * buffer)
{
  gsize size = gst_buffer_get_size (buffer);
  GstBuffer *copy = size > 0 ? gst_buffer_new_allocate (NULL, size, NULL) :
      gst_buffer_new ();
  GstMapInfo map;

  if (copy != NULL) {
    gst_buffer_copy_into (copy, buffer, GST_BUFFER_COPY_METADATA, 0, -1);
    if (size > 0 && gst_buffer_map (copy, &map, GST_MAP_WRITE)) {
      gst_buffer_extract (buffer, 0, map.data, size);
      gst_buffer_unmap (copy, &map);
    }
    __atomic_fetch_add (&self->buffers_copied, 1, __ATOMIC_RELAXED);
  }
  gst_buffer_unref (buffer);
  return copy;
}

/* The probe on each worker's ipcsrc, through count_output(): every output
 * buffer before downstream sees it. An output that answers input whose
 * output was pushed before a crash is dropped. */
static void spare_may_start (GstSandboxBin * self, SandboxWorker * worker);

static GstPadProbeReturn
recover_output (GstSandboxBin * self, SandboxWorker * worker, GstPad * pad,
    GstPadProbeInfo * info)
{
  gint64 now = g_get_monotonic_time ();
  gboolean raw = output_is_raw (pad);
  GstBufferList *list, *kept;
  GstBuffer *buffer;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    if (!gst_px_replay_output (self->replay, worker->generation, now))
      return GST_PAD_PROBE_DROP;
    spare_may_start (self, worker);
    if (!raw)
      GST_PAD_PROBE_INFO_DATA (info) = copy_output (self,
          GST_PAD_PROBE_INFO_BUFFER (info));
    return GST_PAD_PROBE_INFO_DATA (info) ? GST_PAD_PROBE_OK :
        GST_PAD_PROBE_HANDLED;
  }
  list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
  kept = gst_buffer_list_new_sized (gst_buffer_list_length (list));
  for (guint i = 0; i < gst_buffer_list_length (list); i++) {
    if (!gst_px_replay_output (self->replay, worker->generation, now))
      continue;
    buffer = gst_buffer_ref (gst_buffer_list_get (list, i));
    if (!raw)
      buffer = copy_output (self, buffer);
    if (buffer != NULL)
      gst_buffer_list_add (kept, buffer);
  }
  if (gst_buffer_list_length (kept) == 0) {
    gst_buffer_list_unref (kept);
    return GST_PAD_PROBE_DROP;
  }
  spare_may_start (self, worker);
  gst_buffer_list_unref (list);
  GST_PAD_PROBE_INFO_DATA (info) = kept;
  return GST_PAD_PROBE_OK;
}

typedef struct
{
  GstSandboxBin *bin;           /* owns the pad the probe is on */
  GstEvent *gap;
  guint stream;                 /* gst_px_replay_get_stream() */
} PendingGap;

static void
free_pending_gap (gpointer data)
{
  PendingGap *pending = data;

  gst_event_unref (pending->gap);
  g_free (pending);
}

/* The bin's src pad, after a quarantine: the GAP goes downstream where
 * the buffer's output would have, before the next output or the EOS
 * (what was pushed before answers earlier input, see gstpxreplay.h). A
 * flush or a new stream makes it stale. */
static GstPadProbeReturn
gap_before_next (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  PendingGap *pending = user_data;
  GstEvent *event;
  GstPad *peer;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    event = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP)
      return GST_PAD_PROBE_REMOVE;
    if (!GST_EVENT_IS_SERIALIZED (event) || (GST_EVENT_IS_STICKY (event) &&
            GST_EVENT_TYPE (event) != GST_EVENT_EOS))
      return GST_PAD_PROBE_OK;
  }
  if (gst_px_replay_get_stream (pending->bin->replay) == pending->stream &&
      (peer = gst_pad_get_peer (pad)) != NULL) {
    gst_pad_send_event (peer, gst_event_ref (pending->gap));
    gst_object_unref (peer);
  }
  return GST_PAD_PROBE_REMOVE;
}

/* Supervisor: @buffer ended two workers in a row and is left out. */
static void
quarantine (GstSandboxBin * self, const GstPxReplayBuffer * buffer)
{
  GstClockTime time = GST_CLOCK_TIME_IS_VALID (buffer->pts) ? buffer->pts :
      buffer->dts;
  PendingGap *pending;

  GST_WARNING_OBJECT (self, "the buffer at %" GST_TIME_FORMAT " (offset %"
      G_GUINT64_FORMAT ", %" G_GSIZE_FORMAT " bytes) ended two workers in a "
      "row: dropped", GST_TIME_ARGS (buffer->pts), buffer->offset,
      buffer->size);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("sandboxbin-buffer-quarantined",
              "pts", G_TYPE_UINT64, buffer->pts,
              "dts", G_TYPE_UINT64, buffer->dts,
              "duration", G_TYPE_UINT64, buffer->duration,
              "offset", G_TYPE_UINT64, buffer->offset,
              "size", G_TYPE_UINT64, (guint64) buffer->size, NULL)));
  if (!GST_CLOCK_TIME_IS_VALID (time) || self->srcpad == NULL)
    return;
  pending = g_new0 (PendingGap, 1);
  pending->bin = self;
  pending->gap = gst_event_new_gap (time, buffer->duration);
  pending->stream = gst_px_replay_get_stream (self->replay);
  gst_pad_add_probe (self->srcpad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      gap_before_next, pending, free_pending_gap);
}

static GstPadProbeReturn
note_idle (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_atomic_int_set ((gint *) user_data, 1);
  return GST_PAD_PROBE_OK;
}

/* TRUE while @pad pushes: downstream holds the buffer (a sink waiting for
 * PLAYING, a full queue), and the worker waits for it. An idle probe is
 * called at once on an idle pad and blocks it while installed: it goes
 * at once. */
static gboolean
output_is_held (GstPad * pad)
{
  gint *idle = g_new0 (gint, 1);
  gulong id = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_IDLE, note_idle,
      idle, g_free);
  gboolean held = !g_atomic_int_get (idle);

  if (id != 0)
    gst_pad_remove_probe (pad, id);
  return held;
}

/* Supervisor: a worker that spends longer than processing-timeout on one
 * buffer is given up on, as one that stops answering is. */
static void
check_processing_time (GstSandboxBin * self)
{
  GstPxReplayBuffer buffer;
  SandboxWorker *worker;
  gint64 limit, now, timeout;
  GstPad *pad;
  gchar *reason;

  if (!g_mutex_trylock (&self->transition_lock))
    return;
  g_mutex_lock (&self->lock);
  timeout = self->processing_timeout < 0 ? -1 :
      (gint64) self->processing_timeout * G_TIME_SPAN_MILLISECOND;
  g_mutex_unlock (&self->lock);
  worker = current_worker (self);
  now = g_get_monotonic_time ();
  if (worker != NULL && !worker_is_retired (worker) && worker->output &&
      gst_px_replay_timed_out (self->replay, worker->generation, timeout,
          now, &limit, &buffer)) {
    pad = gst_element_get_static_pad (worker->output, "src");
    if (output_is_held (pad)) {
      gst_px_replay_output_held (self->replay, worker->generation, now);
    } else {
      reason = g_strdup_printf ("spent more than %" G_GINT64_FORMAT " ms on "
          "one buffer (pts %" GST_TIME_FORMAT ")",
          limit / G_TIME_SPAN_MILLISECOND, GST_TIME_ARGS (buffer.pts));
      worker_failed (self, worker, reason);
      g_free (reason);
    }
    gst_object_unref (pad);
  }
  g_clear_pointer (&worker, sandbox_worker_unref);
  g_mutex_unlock (&self->transition_lock);
}

/* What workers run: the description, or the fallback once it took over
 * (then *@fallback is TRUE, if given). */
static gchar *
running_description (GstSandboxBin * self, gboolean * fallback)
{
  gboolean use_fallback;
  gchar *description;

  g_mutex_lock (&self->lock);
  use_fallback = self->using_fallback;
  g_mutex_unlock (&self->lock);
  GST_OBJECT_LOCK (self);
  description = g_strdup (use_fallback ? self->fallback_description :
      self->description);
  GST_OBJECT_UNLOCK (self);
  if (fallback)
    *fallback = use_fallback;
  return description;
}

/* Supervisor, transition_lock held: the description's restarts are used
 * up. TRUE if fallback-description takes over, with restarts of its own:
 * in a worker too, jailed as the others (the input that got this far is
 * the likeliest to be hostile). */
static gboolean
switch_to_fallback (GstSandboxBin * self)
{
  GError *error = NULL;
  Layout layout, wanted;
  gchar *fallback;
  gboolean in_use;

  g_mutex_lock (&self->lock);
  in_use = self->using_fallback;
  g_mutex_unlock (&self->lock);
  GST_OBJECT_LOCK (self);
  fallback = g_strdup (self->fallback_description);
  wanted = self->layout;
  GST_OBJECT_UNLOCK (self);
  if (fallback == NULL || in_use) {
    g_free (fallback);
    return FALSE;
  }
  if (!gst_px_layout_of (fallback, &layout, &error) ||
      layout.sink_pads != wanted.sink_pads ||
      layout.src_pads != wanted.src_pads || layout.dynamic != wanted.dynamic) {
    GST_ELEMENT_WARNING (self, CORE, FAILED,
        ("fallback-description \"%s\" cannot stand in for the description",
            fallback), ("%s", error ? error->message :
            "its pads are not the description's"));
    g_clear_error (&error);
    g_free (fallback);
    return FALSE;
  }
  g_mutex_lock (&self->lock);
  self->using_fallback = TRUE;
  g_queue_clear_full (&self->crash_times, g_free);
  /* the spare runs the description: spare_thread replaces it */
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  GST_WARNING_OBJECT (self, "restarts used up: \"%s\" takes over", fallback);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("sandboxbin-fallback", "description",
              G_TYPE_STRING, fallback, NULL)));
  g_free (fallback);
  return TRUE;
}

/* NULL -> READY: a new run, with the description again. */
static void
recovery_start (GstSandboxBin * self)
{
  gst_px_replay_reset (self->replay);
  g_mutex_lock (&self->lock);
  self->using_fallback = FALSE;
  self->last_crash_pts = GST_CLOCK_TIME_NONE;
  g_mutex_unlock (&self->lock);
  __atomic_store_n (&self->buffers_replayed, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&self->buffers_copied, 0, __ATOMIC_RELAXED);
}

/* Streaming thread: the input goes to the current worker, and into the
 * replay window on its way. A worker that took over from one that crashed
 * is first given the window again (and, before it, the stream's sticky
 * events, which the ghost pad's inner pad sends to a new peer by itself).
 * A buffer that was in a dying worker's ipcsink when it was taken away
 * stays in the window for the next worker: it is no reason for upstream
 * to stop. */
static GstFlowReturn
forward_input (GstSandboxBin * self, GstPad * pad, GstMiniObject * data)
{
  SandboxWorker *worker = current_worker (self);
  GstFlowReturn ret = GST_FLOW_OK;
  gboolean failed;

  g_mutex_lock (&self->lock);
  failed = self->failed;
  g_mutex_unlock (&self->lock);
  if (failed) {
    gst_mini_object_unref (data);
    g_clear_pointer (&worker, sandbox_worker_unref);
    return GST_FLOW_ERROR;
  }
  if (worker != NULL) {
    watch_input_pad (self, pad);
    gst_px_replay_begin_input (self->replay);
    follow_stream (self, pad);
    ret = replay_window (self, pad, worker);
    record_input (self, worker, data);
  }
  if (ret != GST_FLOW_OK)
    gst_mini_object_unref (data);
  else if (GST_IS_BUFFER (data))
    ret = gst_proxy_pad_chain_default (pad, GST_OBJECT (self),
        GST_BUFFER (data));
  else
    ret = gst_proxy_pad_chain_list_default (pad, GST_OBJECT (self),
        GST_BUFFER_LIST (data));
  if (worker != NULL) {
    gst_px_replay_end_input (self->replay);
    if (worker_is_retired (worker) && (ret == GST_FLOW_FLUSHING ||
            ret == GST_FLOW_NOT_LINKED) && !GST_PAD_IS_FLUSHING (pad))
      ret = GST_FLOW_OK;
  }
  g_clear_pointer (&worker, sandbox_worker_unref);
  return ret;
}

static GstFlowReturn
sink_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  return forward_input (GST_SANDBOX_BIN (parent), pad,
      GST_MINI_OBJECT (buffer));
}

static GstFlowReturn
sink_chain_list (GstPad * pad, GstObject * parent, GstBufferList * list)
{
  return forward_input (GST_SANDBOX_BIN (parent), pad, GST_MINI_OBJECT (list));
}

static gboolean
send_sticky_event (GstPad * pad, GstEvent ** event, gpointer user_data)
{
  gst_pad_send_event (GST_PAD (user_data), gst_event_ref (*event));
  return TRUE;
}

/* After a restart: an EOS the dead worker took never came out; the new one
 * gets it, after the stream's other sticky events. (Without an EOS, they
 * go with the next buffer.) They are sent to the new ipcsink directly: the
 * ghost pad's inner pad, past its EOS, pushes nothing more. */
static void
resend_eos (GstSandboxBin * self, SandboxWorker * worker)
{
  GstPad *internal, *target;
  GstEvent *eos;

  if (self->sinkpad == NULL)
    return;
  internal = GST_PAD (gst_proxy_pad_get_internal (GST_PROXY_PAD
          (self->sinkpad)));
  eos = gst_pad_get_sticky_event (internal, GST_EVENT_EOS, 0);
  if (eos != NULL) {
    GST_DEBUG_OBJECT (self, "sending the stream and its EOS again");
    target = gst_element_get_static_pad (worker->input, "sink");
    gst_pad_sticky_events_foreach (internal, send_sticky_event, target);
    gst_object_unref (target);
    gst_event_unref (eos);
  }
  gst_object_unref (internal);
}

/* ---- supervision ------------------------------------------------------- */

/* With lock: @now joins @times, the times older than restart-window
 * leave; how many are left. */
static guint
count_in_window_locked (GstSandboxBin * self, GQueue * times, gint64 now)
{
  gint64 window = (gint64) self->restart_window * G_TIME_SPAN_MILLISECOND;

  while (!g_queue_is_empty (times) &&
      now - *(gint64 *) g_queue_peek_head (times) > window)
    g_free (g_queue_pop_head (times));
  g_queue_push_tail (times, g_memdup2 (&now, sizeof now));
  return g_queue_get_length (times);
}

/* Counts a crash; TRUE if the restart window leaves room for a restart,
 * or fallback-description takes over. */
static gboolean
record_crash (GstSandboxBin * self, guint * crashes)
{
  gboolean allowed;

  g_mutex_lock (&self->lock);
  *crashes = count_in_window_locked (self, &self->crash_times,
      g_get_monotonic_time ());
  allowed = *crashes <= self->max_restarts;
  g_mutex_unlock (&self->lock);
  return allowed || switch_to_fallback (self);
}

/* With lock: the wait before restart number @crashes of the window, in
 * ms (none before number 0). */
static guint
restart_delay_locked (GstSandboxBin * self, guint crashes)
{
  guint64 delay = self->restart_delay;
  guint64 longest = MAX (MAX_RESTART_DELAY, self->restart_delay);

  if (crashes == 0)
    return 0;
  if (self->backoff == GST_SANDBOX_BIN_BACKOFF_EXPONENTIAL && crashes > 1)
    delay <<= MIN (crashes - 1, 16u);
  return (guint) MIN (delay, longest);
}

/* The wait after crash number @crashes of the window, in ms. With a spare
 * the first restart waits for nothing, and each later one waits what the
 * one before it would without a spare: the spare makes a restart cost no
 * spawn, the backoff still spaces repeated crashes. */
static guint
restart_delay (GstSandboxBin * self, guint crashes)
{
  guint delay;

  g_mutex_lock (&self->lock);
  delay = restart_delay_locked (self, self->keep_spare &&
      !self->spare_given_up && crashes > 0 ? crashes - 1 : crashes);
  g_mutex_unlock (&self->lock);
  return delay;
}

/* Supervisor: waits @ms unless the bin stops meanwhile. */
/* Until @deadline (monotonic us), or the bin stops: FALSE then. */
static gboolean
wait_restart_delay (GstSandboxBin * self, gint64 deadline)
{
  gboolean go_on;

  g_mutex_lock (&self->lock);
  while (!self->stopping && !self->quit &&
      g_cond_wait_until (&self->cond, &self->lock, deadline));
  go_on = !self->stopping && !self->quit;
  g_mutex_unlock (&self->lock);
  return go_on;
}

/* The worker's connection broke or it stopped answering: it is usually
 * dying already, and its own exit says best why. */
static void
wait_for_exit (GstSandboxBin * self, SandboxWorker * worker)
{
  gint64 deadline = g_get_monotonic_time () + WORKER_EXIT_WAIT;

  g_mutex_lock (&self->lock);
  while (worker->exit_reason == NULL &&
      g_cond_wait_until (&self->cond, &self->lock, deadline));
  g_mutex_unlock (&self->lock);
}

static void
post_worker_crashed (GstSandboxBin * self, pid_t pid, const gchar * reason,
    gint status, gint signal_number, const gchar * violation,
    const GstPxReplayLoss * loss, gboolean will_restart)
{
  guint64 lost;

  g_mutex_lock (&self->lock);
  lost = self->buffers_lost;
  g_mutex_unlock (&self->lock);
  GST_WARNING_OBJECT (self, "worker %d %s (at %" GST_TIME_FORMAT ")",
      (int) pid, reason, GST_TIME_ARGS (loss->suspect.pts));
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("sandboxbin-worker-crashed",
              "pid", G_TYPE_INT, (gint) pid,
              "reason", G_TYPE_STRING, reason,
              "exit-status", G_TYPE_INT, status,
              "signal", G_TYPE_INT, signal_number,
              "violation", G_TYPE_STRING, violation ? violation : "",
              "pts", G_TYPE_UINT64, loss->suspect.pts,
              "buffers-lost", G_TYPE_UINT64, lost,
              "replayed", G_TYPE_UINT, loss->replay,
              "will-restart", G_TYPE_BOOLEAN, will_restart, NULL)));
}

/* Why @worker ended: its own exit, if it came before we killed it, says
 * best what happened. */
static gchar *
crash_reason (GstSandboxBin * self, SandboxWorker * worker)
{
  gchar *reason;

  g_mutex_lock (&self->lock);
  if (worker->exit_reason && (!worker->loss_reason ||
          !g_str_has_prefix (worker->exit_reason, "killed by signal 9")))
    reason = g_strdup (worker->exit_reason);
  else
    reason = g_strdup (worker->loss_reason ? worker->loss_reason : "ended");
  g_mutex_unlock (&self->lock);
  return reason;
}

/* Supervisor, transition_lock held: takes @worker out of service, counts
 * what it lost, quarantines the buffer that ended it and the one before,
 * and reports how it ended. TRUE if a restart may follow. */
static gboolean
retire_worker (GstSandboxBin * self, SandboxWorker * worker,
    gchar ** out_reason)
{
  gint status = -1, signal_number = 0;
  pid_t pid = gst_px_worker_get_pid (worker->px);
  GstPxReplayLoss loss;
  gchar *violation;
  gboolean allowed;
  guint crashes;

  g_atomic_int_set (&worker->retired, 1);
  wait_for_exit (self, worker);
  gst_px_worker_stop (worker->px, 0);
  /* What it sent before it died, read to the end, says which input it was
   * busy with (see gst_px_replay_output_read()). */
  if (worker->output != NULL &&
      !gst_px_replay_wait_output_end (self->replay, worker->generation,
          g_get_monotonic_time () + OUTPUT_END_WAIT))
    GST_INFO_OBJECT (self, "the dead worker's output is not read to its end "
        "yet: the input blamed may be an earlier one");
  detach_elements (self, worker, FALSE);
  /* What upstream was handing over returns from the stopped ipcsink, and
   * is in the window by then. */
  if (!gst_px_replay_wait_input (self->replay, g_get_monotonic_time () +
          INPUT_RETURN_WAIT))
    GST_WARNING_OBJECT (self, "the input is still in the dead worker's "
        "ipcsink");
  gst_px_worker_get_exit_status (worker->px, &status, &signal_number);
  violation = gst_px_worker_get_violation (worker->px);
  *out_reason = crash_reason (self, worker);
  allowed = record_crash (self, &crashes);
  gst_px_replay_worker_lost (self->replay, worker->generation, allowed, &loss);

  g_mutex_lock (&self->lock);
  self->buffers_lost += loss.lost;
  self->last_crash_pts = loss.suspect.pts;
  if (violation != NULL) {
    g_free (self->last_violation);
    self->last_violation = g_strdup (violation);
  }
  g_mutex_unlock (&self->lock);

  if (loss.quarantined)
    quarantine (self, &loss.suspect);
  post_worker_crashed (self, pid, *out_reason, status, signal_number,
      violation, &loss, allowed);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUFFERS_LOST]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_CRASH_PTS]);
  if (violation != NULL)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_VIOLATION]);
  g_free (violation);
  return allowed;
}

static void
give_up (GstSandboxBin * self, const gchar * reason)
{
  guint64 lost = gst_px_replay_drop (self->replay);
  guint window, crashes;
  gchar *description;

  g_mutex_lock (&self->lock);
  self->failed = TRUE;
  self->buffers_lost += lost;
  window = self->restart_window;
  crashes = g_queue_get_length (&self->crash_times);
  g_mutex_unlock (&self->lock);
  description = running_description (self, NULL);
  GST_ELEMENT_ERROR (self, STREAM, FAILED,
      ("The sandboxed worker failed again: no restarts left (%u failures "
          "within restart-window=%u ms)", crashes, window),
      ("\"%s\", last: %s", description, reason));
  g_free (description);
  if (lost > 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUFFERS_LOST]);
  /* Upstream now gets an error instead of waiting. */
  unblock_input (self);
}

/* Brings a new worker and its elements to @state. */
static gboolean
bring_up (GstSandboxBin * self, SandboxWorker * worker, GstState state,
    GError ** error)
{
  static const GstStateChange up[] = { GST_STATE_CHANGE_READY_TO_PAUSED,
    GST_STATE_CHANGE_PAUSED_TO_PLAYING
  };
  GstStateChangeReturn ret = GST_STATE_CHANGE_SUCCESS, paused = ret;

  for (guint i = 0; i < G_N_ELEMENTS (up); i++) {
    if (GST_STATE_TRANSITION_NEXT (up[i]) > state)
      break;
    ret = gst_px_worker_change_state (worker->px, up[i], WORKER_STATE_TIMEOUT);
    if (ret == GST_STATE_CHANGE_FAILURE) {
      g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_FAILED,
          "the new worker did not go to %s",
          gst_element_state_get_name (GST_STATE_TRANSITION_NEXT (up[i])));
      return FALSE;
    }
    if (i == 0)
      paused = ret;
  }
  if (!attach_elements (self, worker)) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_RESOURCE,
        "cannot make ipcsink and ipcsrc");
    return FALSE;
  }
  make_outputs_live (self, worker, paused);
  if ((worker->input && gst_element_set_state (worker->input,
              input_state (state)) == GST_STATE_CHANGE_FAILURE) ||
      (worker->output && gst_element_set_state (worker->output, state) ==
          GST_STATE_CHANGE_FAILURE)) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_FAILED,
        "cannot connect to the new worker");
    return FALSE;
  }
  if (state >= GST_STATE_PAUSED && !wait_for_greeting (self, worker)) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_TIMEOUT,
        "the new worker did not connect");
    return FALSE;
  }
  return TRUE;
}

/* bring_up(), or @worker is stopped and dropped (FALSE). */
static gboolean
bring_up_or_drop (GstSandboxBin * self, SandboxWorker * worker,
    GstState state, GError ** error)
{
  if (bring_up (self, worker, state, error))
    return TRUE;
  g_atomic_int_set (&worker->retired, 1);
  gst_px_worker_stop (worker->px, 0);
  detach_elements (self, worker, FALSE);
  sandbox_worker_unref (worker);
  return FALSE;
}

static SandboxWorker *take_spare (GstSandboxBin * self);
static void release_spare (GstSandboxBin * self, SandboxWorker * in_service);

/* Supervisor, transition_lock held: @early (a worker spawned during the
 * restart delay; taken) or the spare brought to @state, or a new worker if
 * there is none, or it cannot take over. */
static SandboxWorker *
successor (GstSandboxBin * self, GstState state, SandboxWorker * early,
    GError ** error)
{
  SandboxWorker *worker = early ? early : take_spare (self);
  GError *spare_error = NULL;

  if (worker != NULL && !bring_up_or_drop (self, worker, state, &spare_error)) {
    GST_WARNING_OBJECT (self, "the %s cannot take over (%s): starting "
        "a new worker", early ? "worker spawned during the restart delay" :
        "spare", spare_error->message);
    g_clear_error (&spare_error);
    worker = NULL;
  }
  if (worker != NULL)
    return worker;
  worker = spawn_worker (self, FALSE, error);
  if (worker != NULL && !bring_up_or_drop (self, worker, state, error))
    worker = NULL;
  return worker;
}

/* Supervisor, transition_lock held, after the restart delay: a new worker
 * (@early, if not NULL: taken) takes the old one's place. FALSE if it
 * could not. A new spare starts once this one is in service. */
static gboolean
replace_worker (GstSandboxBin * self, SandboxWorker * early, GError ** error)
{
  SandboxWorker *worker = successor (self, GST_STATE (self), early, error);
  SandboxWorker *old;

  if (worker == NULL) {
    release_spare (self, NULL);
    return FALSE;
  }
  g_mutex_lock (&self->lock);
  old = self->worker;
  self->worker = worker;
  self->restarts++;
  g_mutex_unlock (&self->lock);
  if (old != NULL)
    sandbox_worker_unref (old);

  if (!replay_after_eos (self, worker))
    resend_eos (self, worker);
  unblock_input (self);
  /* Upstream asks the new ipcsink for its pool. */
  if (self->sinkpad != NULL)
    gst_pad_push_event (self->sinkpad, gst_event_new_reconfigure ());
  post_worker_started (self, worker);
  release_spare (self, worker);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESTARTS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WORKER_PID]);
  return TRUE;
}

/* With transition_lock: the bin still waits for a replacement of the
 * worker of @generation (a state change through READY may have given it a
 * new one meanwhile). */
static gboolean
restart_still_wanted (GstSandboxBin * self, guint generation)
{
  gboolean wanted;

  g_mutex_lock (&self->lock);
  wanted = !self->stopping && !self->quit && self->worker != NULL &&
      self->worker->generation == generation;
  g_mutex_unlock (&self->lock);
  return wanted;
}

/* With transition_lock: @worker ended or was given up on (or is retired:
 * its replacement failed). A crash reported twice (its exit, then its
 * connection's end, before the first report retired it) leaves
 * crash_pending set for its successor, which has done nothing. */
static gboolean
worker_is_lost (GstSandboxBin * self, SandboxWorker * worker)
{
  gboolean lost;

  g_mutex_lock (&self->lock);
  lost = worker_is_retired (worker) || worker->exit_reason != NULL ||
      worker->loss_reason != NULL;
  g_mutex_unlock (&self->lock);
  return lost;
}

/* A worker that never went into service, stopped. */
static void
drop_worker (GstSandboxBin * self, SandboxWorker * worker)
{
  GST_DEBUG_OBJECT (self, "worker %d not needed: stopping it",
      (int) gst_px_worker_get_pid (worker->px));
  g_atomic_int_set (&worker->retired, 1);
  gst_px_worker_stop (worker->px, 0);
  sandbox_worker_unref (worker);
}

/* Supervisor, without transition_lock, as the restart delay begins: with
 * no spare kept, the successor is spawned now and waits, locked down and
 * idle, for the delay to end. A restart then costs the longer of the delay
 * and the spawn, not both, and a crash storm is held back as much: the
 * new worker takes no input before the delay is over. NULL if the spawn
 * failed (the restart spawns again, and reports why) or a spare is kept
 * (it takes over). */
static SandboxWorker *
spawn_during_delay (GstSandboxBin * self)
{
  SandboxWorker *worker;
  GError *error = NULL;
  gboolean spare;

  g_mutex_lock (&self->lock);
  spare = self->keep_spare;
  g_mutex_unlock (&self->lock);
  if (spare)
    return NULL;
  worker = spawn_worker (self, FALSE, &error);
  if (worker == NULL) {
    GST_INFO_OBJECT (self, "no successor during the restart delay: %s",
        error->message);
    g_clear_error (&error);
  }
  return worker;
}

/* Supervisor: the current worker died or was given up on; or (already
 * retired) the last attempt to replace it failed. */
static void
handle_crash (GstSandboxBin * self)
{
  SandboxWorker *old = current_worker (self), *early;
  gchar *reason = NULL;
  GError *error = NULL;
  guint generation, crashes = 0;
  gboolean allowed;
  gint64 deadline;

  if (old == NULL)
    return;
  generation = old->generation;
  g_mutex_lock (&self->transition_lock);
  if (!restart_still_wanted (self, generation) || !worker_is_lost (self, old)) {
    g_mutex_unlock (&self->transition_lock);
    sandbox_worker_unref (old);
    return;
  }
  block_input (self);
  if (!worker_is_retired (old))
    allowed = retire_worker (self, old, &reason);
  else
    allowed = record_crash (self, &crashes);
  sandbox_worker_unref (old);
  if (!allowed)
    give_up (self, reason ? reason : "a new worker did not start");
  g_free (reason);
  g_mutex_lock (&self->lock);
  crashes = g_queue_get_length (&self->crash_times);
  g_mutex_unlock (&self->lock);
  g_mutex_unlock (&self->transition_lock);
  if (!allowed)
    return;

  /* Without transition_lock: the bin may change state meanwhile. */
  deadline = g_get_monotonic_time () +
      restart_delay (self, crashes) * G_TIME_SPAN_MILLISECOND;
  early = spawn_during_delay (self);
  if (!wait_restart_delay (self, deadline)) {
    if (early != NULL)
      drop_worker (self, early);
    return;
  }
  g_mutex_lock (&self->transition_lock);
  if (!restart_still_wanted (self, generation)) {
    if (early != NULL)
      drop_worker (self, early);
  } else if (!replace_worker (self, early, &error)) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
        ("Cannot restart the sandboxed worker: %s", error->message), (NULL));
    g_clear_error (&error);
    /* Counted as one more crash: a worker that cannot start is retried
     * until the window is full. */
    g_mutex_lock (&self->lock);
    self->crash_pending = TRUE;
    g_mutex_unlock (&self->lock);
  }
  g_mutex_unlock (&self->transition_lock);
}

/* Supervisor. A state change may stop the worker (READY -> PAUSED gives
 * it a successor): the beat is skipped while one runs. */
static void
heartbeat (GstSandboxBin * self, GstClockTime timeout)
{
  SandboxWorker *worker;
  gchar *reason;

  if (!g_mutex_trylock (&self->transition_lock))
    return;
  worker = current_worker (self);
  if (worker != NULL && !worker_is_retired (worker) &&
      !gst_px_worker_ping (worker->px, timeout)) {
    reason = g_strdup_printf ("did not answer a heartbeat within %"
        G_GUINT64_FORMAT " ms", timeout / GST_MSECOND);
    worker_failed (self, worker, reason);
    g_free (reason);
  }
  g_clear_pointer (&worker, sandbox_worker_unref);
  g_mutex_unlock (&self->transition_lock);
}

/* Supervisor: the earliest of the next heartbeat and the next look at
 * the processing time (0 for either: none due), or 0. */
static gint64
next_deadline (GstSandboxBin * self, gint64 * next_beat, gint64 * next_check)
{
  gint64 now = g_get_monotonic_time ();

  if (self->heartbeat_interval == 0 || self->failed)
    *next_beat = 0;
  else if (*next_beat == 0)
    *next_beat = now + (gint64) self->heartbeat_interval *
        G_TIME_SPAN_MILLISECOND;
  if (self->processing_timeout == 0 || self->failed)
    *next_check = 0;
  else if (*next_check == 0)
    *next_check = now + PROCESSING_CHECK_INTERVAL;
  if (*next_beat == 0 || (*next_check != 0 && *next_check < *next_beat))
    return *next_check;
  return *next_beat;
}

/* The bin's supervisor thread, from NULL -> READY to READY -> NULL. */
static gpointer
supervise (gpointer data)
{
  GstSandboxBin *self = data;
  gint64 next_beat = 0, next_check = 0, deadline, now;

  g_mutex_lock (&self->lock);
  while (!self->quit) {
    GstClockTime timeout;

    if (self->crash_pending && !self->stopping && !self->failed) {
      self->crash_pending = FALSE;
      g_mutex_unlock (&self->lock);
      handle_crash (self);
      g_mutex_lock (&self->lock);
      continue;
    }
    deadline = next_deadline (self, &next_beat, &next_check);
    if (deadline == 0) {
      g_cond_wait (&self->cond, &self->lock);
      continue;
    }
    if (g_cond_wait_until (&self->cond, &self->lock, deadline))
      continue;
    timeout = (GstClockTime) MAX (self->heartbeat_timeout, 1) * GST_MSECOND;
    g_mutex_unlock (&self->lock);
    now = g_get_monotonic_time ();
    if (next_check != 0 && now >= next_check) {
      next_check = 0;
      check_processing_time (self);
    }
    if (next_beat != 0 && now >= next_beat) {
      next_beat = 0;
      heartbeat (self, timeout);
    }
    g_mutex_lock (&self->lock);
  }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* ---- the spare ---------------------------------------------------------- */

/* With lock: @worker runs what a new worker would (the same settings, the
 * description or the fallback) and is alive. */
static gboolean
spare_is_current_locked (GstSandboxBin * self, SandboxWorker * worker)
{
  return worker->config_serial == (guint)
      g_atomic_int_get (&self->config_serial) &&
      worker->fallback == self->using_fallback && worker->exit_reason == NULL;
}

/* transition_lock held (the supervisor replacing a worker, or a state
 * change renewing it): the spare for a worker to take over, once ready
 * if it is being spawned; NULL if there is none. No other is spawned
 * until release_spare(). A spare that does not answer a heartbeat at
 * once (stopped, frozen) is dropped: a new worker is as quick. */
static SandboxWorker *
take_spare (GstSandboxBin * self)
{
  SandboxWorker *spare = NULL;

  g_mutex_lock (&self->lock);
  if (self->keep_spare) {
    self->spare_held = TRUE;
    self->spare_held_until = 0;
    while (self->spare_starting)
      g_cond_wait (&self->cond, &self->lock);
    if (self->spare_worker != NULL &&
        spare_is_current_locked (self, self->spare_worker)) {
      spare = self->spare_worker;
      self->spare_worker = NULL;
      g_atomic_int_set (&spare->idle_spare, 0);
    }
  }
  g_mutex_unlock (&self->lock);
  if (spare == NULL)
    return NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPARE_PID]);
  if (!gst_px_worker_ping (spare->px, SPARE_PING_TIMEOUT)) {
    GST_WARNING_OBJECT (self, "spare %d does not answer: not used",
        (int) gst_px_worker_get_pid (spare->px));
    g_atomic_int_set (&spare->retired, 1);
    sandbox_worker_unref (spare);
    return NULL;
  }
  GST_INFO_OBJECT (self, "spare %d takes over",
      (int) gst_px_worker_get_pid (spare->px));
  spare->from_spare = TRUE;
  g_atomic_int_set (&spare->first_output_due, 1);
  return spare;
}

/* After take_spare(): the worker that took over is in service (or none
 * could: @in_service NULL); spare_thread spawns the next spare once it
 * pushed its first output, see spare_may_start(). */
static void
release_spare (GstSandboxBin * self, SandboxWorker * in_service)
{
  g_mutex_lock (&self->lock);
  if (in_service != NULL && g_atomic_int_get (&in_service->first_output_due))
    self->spare_held_until = g_get_monotonic_time () + SPARE_SETTLE_TIME;
  else
    self->spare_held = FALSE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Streaming thread, each output of @worker that goes downstream (not
 * those answering replayed input): the first of a worker that took over
 * from a spare lets the next spare be spawned. */
static void
spare_may_start (GstSandboxBin * self, SandboxWorker * worker)
{
  if (G_LIKELY (!g_atomic_int_get (&worker->first_output_due)) ||
      !g_atomic_int_compare_and_exchange (&worker->first_output_due, 1, 0))
    return;
  g_mutex_lock (&self->lock);
  if (self->spare_held_until != 0) {
    self->spare_held = FALSE;
    self->spare_held_until = 0;
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
}

static void
post_spare_lost (GstSandboxBin * self, SandboxWorker * spare,
    gboolean will_replace)
{
  gchar *reason;
  pid_t pid = gst_px_worker_get_pid (spare->px);

  g_mutex_lock (&self->lock);
  reason = g_strdup (spare->exit_reason);
  g_mutex_unlock (&self->lock);
  GST_WARNING_OBJECT (self, "idle spare %d %s%s", (int) pid, reason,
      will_replace ? ": replacing it" : "");
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("sandboxbin-spare-lost",
              "pid", G_TYPE_INT, (gint) pid,
              "reason", G_TYPE_STRING, reason,
              "will-replace", G_TYPE_BOOLEAN, will_replace, NULL)));
  g_free (reason);
}

/* With lock, spare_thread: a spare did not start, or died idle. The next
 * waits as a restart would after as many crashes in the window; past
 * max-restarts the bin keeps none until NULL -> READY. TRUE if another
 * will be spawned. */
static gboolean
spare_failed_locked (GstSandboxBin * self)
{
  gint64 now = g_get_monotonic_time ();
  guint failures = count_in_window_locked (self, &self->spare_failures, now);

  if (failures > self->max_restarts) {
    self->spare_given_up = TRUE;
    return FALSE;
  }
  self->spare_next_attempt = now +
      restart_delay_locked (self, failures) * G_TIME_SPAN_MILLISECOND;
  return TRUE;
}

static void
warn_no_spare (GstSandboxBin * self)
{
  guint window;

  g_mutex_lock (&self->lock);
  window = self->restart_window;
  g_mutex_unlock (&self->lock);
  GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
      ("No spare worker from now on: spares failed more than max-restarts "
          "times within restart-window=%u ms", window),
      ("restarts spawn their worker until the bin goes to NULL"));
}

/* spare_thread, lock held: takes out the spare, which died idle (that is
 * reported and counted) or no longer runs what a new worker would, and
 * stops it without the lock. */
static void
drop_spare_locked (GstSandboxBin * self)
{
  SandboxWorker *spare = self->spare_worker;
  gboolean died = spare->exit_reason != NULL, again = TRUE;

  self->spare_worker = NULL;
  if (died && self->keep_spare && !self->spare_quit)
    again = spare_failed_locked (self);
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPARE_PID]);
  if (died) {
    post_spare_lost (self, spare, again);
    if (!again)
      warn_no_spare (self);
  } else {
    GST_DEBUG_OBJECT (self, "spare %d is out of date: replacing it",
        (int) gst_px_worker_get_pid (spare->px));
  }
  g_atomic_int_set (&spare->retired, 1);
  gst_px_worker_stop (spare->px, WORKER_STOP_GRACE);
  sandbox_worker_unref (spare);
  g_mutex_lock (&self->lock);
}

/* spare_thread, lock held: spawns a spare without the lock. */
static void
spawn_spare_locked (GstSandboxBin * self)
{
  SandboxWorker *spare;
  GError *error = NULL;
  gboolean again = TRUE;

  self->spare_starting = TRUE;
  g_mutex_unlock (&self->lock);
  spare = spawn_worker (self, TRUE, &error);
  g_mutex_lock (&self->lock);
  self->spare_starting = FALSE;
  g_cond_broadcast (&self->cond);
  if (spare == NULL) {
    again = spare_failed_locked (self);
    g_mutex_unlock (&self->lock);
    GST_WARNING_OBJECT (self, "the spare did not start: %s", error->message);
    g_clear_error (&error);
    if (!again)
      warn_no_spare (self);
  } else {
    self->spare_worker = spare;
    g_mutex_unlock (&self->lock);
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPARE_PID]);
  }
  g_mutex_lock (&self->lock);
}

/* The bin's spare thread, while spare=true in isolated mode: keeps one
 * worker spawned, locked down and idle in READY, off the paths of the
 * streaming threads and the supervisor; spawns the next once a spare
 * took over, replaces one that died idle or whose settings changed. */
static gpointer
spare_thread (gpointer data)
{
  GstSandboxBin *self = data;

  g_mutex_lock (&self->lock);
  while (!self->spare_quit) {
    gint64 now = g_get_monotonic_time ();

    if (self->spare_held && self->spare_held_until != 0 &&
        now >= self->spare_held_until) {
      self->spare_held = FALSE;
      self->spare_held_until = 0;
    }
    if (self->spare_worker != NULL &&
        !spare_is_current_locked (self, self->spare_worker)) {
      drop_spare_locked (self);
    } else if (self->spare_held && self->spare_held_until != 0) {
      g_cond_wait_until (&self->cond, &self->lock, self->spare_held_until);
    } else if (self->spare_worker == NULL && !self->spare_held &&
        !self->spare_given_up && now >= self->spare_next_attempt) {
      spawn_spare_locked (self);
    } else if (self->spare_worker == NULL && !self->spare_held &&
        !self->spare_given_up) {
      g_cond_wait_until (&self->cond, &self->lock, self->spare_next_attempt);
    } else {
      g_cond_wait (&self->cond, &self->lock);
    }
  }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* State-change thread: the spare thread leaves, and the spare (spawned,
 * or being spawned meanwhile) is stopped and reaped. */
static void
stop_spare (GstSandboxBin * self)
{
  SandboxWorker *spare;

  if (self->spare_thread == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->spare_quit = TRUE;
  self->keep_spare = FALSE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_thread_join (self->spare_thread);
  self->spare_thread = NULL;
  g_mutex_lock (&self->lock);
  spare = self->spare_worker;
  self->spare_worker = NULL;
  g_mutex_unlock (&self->lock);
  if (spare != NULL) {
    g_atomic_int_set (&spare->retired, 1);
    gst_px_worker_stop (spare->px, WORKER_STOP_GRACE);
    sandbox_worker_unref (spare);
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPARE_PID]);
  }
}

/* NULL -> READY and READY -> PAUSED, transition_lock held: the spare
 * property takes effect. */
static void
follow_spare_property (GstSandboxBin * self)
{
  gboolean wanted;

  GST_OBJECT_LOCK (self);
  wanted = self->spare;
  GST_OBJECT_UNLOCK (self);
  if (!wanted) {
    stop_spare (self);
    return;
  }
  if (self->spare_thread != NULL)
    return;
  g_mutex_lock (&self->lock);
  self->keep_spare = TRUE;
  self->spare_quit = self->spare_held = self->spare_given_up = FALSE;
  self->spare_next_attempt = 0;
  g_queue_clear_full (&self->spare_failures, g_free);
  g_mutex_unlock (&self->lock);
  self->spare_thread = g_thread_new ("sandboxbin-spare", spare_thread, self);
}

/* ---- isolated state changes -------------------------------------------- */

static gboolean
start_isolated (GstSandboxBin * self)
{
  GError *error = NULL;
  SandboxWorker *worker;
  Layout layout;
  gchar *description;

  GST_OBJECT_LOCK (self);
  description = g_strdup (self->description);
  layout = self->layout;
  GST_OBJECT_UNLOCK (self);
  if (description == NULL) {
    GST_ELEMENT_ERROR (self, CORE, FAILED, ("No description set"), (NULL));
    return FALSE;
  }
  if (!layout.sink_pads && !layout.src_pads && !layout.dynamic) {
    GST_ELEMENT_ERROR (self, CORE, FAILED,
        ("\"%s\" leaves no pad unlinked: nothing would reach or leave it",
            description), (NULL));
    g_free (description);
    return FALSE;
  }

  g_mutex_lock (&self->lock);
  self->stopping = self->quit = self->failed = self->crash_pending = FALSE;
  self->restarts = 0;
  self->buffers_lost = 0;
  g_clear_pointer (&self->last_violation, g_free);
  g_queue_clear_full (&self->crash_times, g_free);
  g_mutex_unlock (&self->lock);
  recovery_start (self);

  worker = spawn_worker (self, FALSE, &error);
  if (worker == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Cannot start the sandboxed worker for \"%s\"", description),
        ("%s", error->message));
    g_clear_error (&error);
    g_free (description);
    return FALSE;
  }
  g_free (description);
  if (!attach_elements (self, worker)) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("Cannot make ipcsink and ipcsrc"), (NULL));
    g_atomic_int_set (&worker->retired, 1);
    sandbox_worker_unref (worker);
    return FALSE;
  }
  if (!set_input_state (self, worker, GST_STATE_READY)) {
    g_atomic_int_set (&worker->retired, 1);
    detach_elements (self, worker, TRUE);
    sandbox_worker_unref (worker);
    return FALSE;
  }
  g_mutex_lock (&self->lock);
  self->worker = worker;
  g_mutex_unlock (&self->lock);
  self->supervisor = g_thread_new ("sandboxbin-supervisor", supervise, self);
  post_worker_started (self, worker);
  follow_spare_property (self);
  return TRUE;
}

/* READY -> NULL, a failed NULL -> READY, or a worker to renew: the worker
 * leaves first (its elements stop before ours close the connections). */
static SandboxWorker *
take_worker (GstSandboxBin * self)
{
  SandboxWorker *worker;

  g_mutex_lock (&self->lock);
  worker = self->worker;
  self->worker = NULL;
  self->crash_pending = FALSE;
  g_mutex_unlock (&self->lock);
  if (worker != NULL) {
    g_atomic_int_set (&worker->retired, 1);
    gst_px_worker_stop (worker->px, WORKER_STOP_GRACE);
  }
  return worker;
}

static void
release_worker (GstSandboxBin * self, SandboxWorker * worker)
{
  if (worker != NULL) {
    detach_elements (self, worker, TRUE);
    sandbox_worker_unref (worker);
  }
  wait_for_retired_outputs (self);
  unblock_input (self);
}

/* READY -> PAUSED after the worker streamed (or died): a worker's
 * connections end when it goes to READY, so every streaming session gets a
 * new one. */
static gboolean
renew_worker (GstSandboxBin * self)
{
  GError *error = NULL;
  SandboxWorker *worker;

  release_worker (self, take_worker (self));
  g_mutex_lock (&self->lock);
  self->failed = FALSE;
  g_queue_clear_full (&self->crash_times, g_free);
  g_mutex_unlock (&self->lock);
  worker = take_spare (self);
  if (worker == NULL)
    worker = spawn_worker (self, FALSE, &error);
  if (worker == NULL || !attach_elements (self, worker)) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Cannot start the sandboxed worker"), ("%s", error ?
            error->message : "cannot make ipcsink and ipcsrc"));
    g_clear_error (&error);
    if (worker != NULL)
      g_atomic_int_set (&worker->retired, 1);
    g_clear_pointer (&worker, sandbox_worker_unref);
    release_spare (self, NULL);
    return FALSE;
  }
  g_mutex_lock (&self->lock);
  self->worker = worker;
  g_mutex_unlock (&self->lock);
  post_worker_started (self, worker);
  release_spare (self, worker);
  return TRUE;
}

/* The current worker already went to PAUSED once, or is gone. */
static gboolean
worker_needs_renewal (GstSandboxBin * self)
{
  gboolean renew;

  g_mutex_lock (&self->lock);
  renew = self->worker == NULL || self->worker->streamed ||
      worker_is_retired (self->worker) || self->worker->exit_reason ||
      self->crash_pending;
  g_mutex_unlock (&self->lock);
  return renew;
}

static void
stop_supervisor (GstSandboxBin * self)
{
  if (self->supervisor == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->quit = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_thread_join (self->supervisor);
  self->supervisor = NULL;
}

/* The worker changes state before the host elements, both ways: going up
 * its ipcsrc greets our ipcsink before data comes; going down its elements
 * stop before ours close the connections, so nobody sees a peer vanish. */
static gboolean
forward_state (GstSandboxBin * self, GstStateChange transition,
    GstStateChangeReturn * result)
{
  SandboxWorker *worker = current_worker (self);
  gboolean ok = TRUE, dead;

  *result = GST_STATE_CHANGE_SUCCESS;
  if (worker == NULL)
    return TRUE;
  if (!worker_is_retired (worker))
    *result = gst_px_worker_change_state (worker->px, transition,
        WORKER_STATE_TIMEOUT);
  if (*result == GST_STATE_CHANGE_FAILURE) {
    g_mutex_lock (&self->lock);
    dead = worker->exit_reason || worker->loss_reason ||
        worker_is_retired (worker);
    g_mutex_unlock (&self->lock);
    /* A dead worker is the supervisor's to replace, in the new state. */
    if (!dead && GST_STATE_TRANSITION_NEXT (transition) >
        GST_STATE_TRANSITION_CURRENT (transition)) {
      GST_ELEMENT_ERROR (self, CORE, STATE_CHANGE,
          ("The sandboxed elements did not go to %s",
              gst_element_state_get_name (GST_STATE_TRANSITION_NEXT
                  (transition))), (NULL));
      ok = FALSE;
    }
  }
  sandbox_worker_unref (worker);
  return ok;
}

static gboolean
set_current_input_state (GstSandboxBin * self, GstState state)
{
  SandboxWorker *worker = current_worker (self);
  gboolean ok;

  if (worker == NULL)
    return TRUE;
  ok = worker_is_retired (worker) || set_input_state (self, worker, state);
  sandbox_worker_unref (worker);
  return ok;
}

/* Before upstream sends anything (a dead worker is the supervisor's). */
static void
wait_for_current_greeting (GstSandboxBin * self)
{
  SandboxWorker *worker = current_worker (self);

  if (worker == NULL)
    return;
  if (!worker_is_retired (worker) && !wait_for_greeting (self, worker))
    GST_WARNING_OBJECT (self, "the worker did not connect in time");
  sandbox_worker_unref (worker);
}

/* The worker's answer decides what the bin is in PAUSED: live (its
 * outputs too, NO_PREROLL), or for a sink, ASYNC until the worker's sink
 * prerolled. TRUE if the bin waits for that. */
static gboolean
follow_worker (GstSandboxBin * self, GstStateChange transition,
    GstStateChangeReturn result)
{
  SandboxWorker *worker = current_worker (self);
  gboolean prerolling = FALSE;

  if (worker == NULL)
    return FALSE;
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    make_outputs_live (self, worker, result);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED ||
      transition == GST_STATE_CHANGE_PLAYING_TO_PAUSED)
    prerolling = begin_preroll (self, worker, result);
  sandbox_worker_unref (worker);
  return prerolling;
}

static GstStateChangeReturn
change_state_isolated (GstSandboxBin * self, GstStateChange transition)
{
  GstStateChangeReturn ret, worker_ret = GST_STATE_CHANGE_SUCCESS;
  SandboxWorker *leaving = NULL, *worker;
  gboolean prerolling = FALSE;

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY ||
      transition == GST_STATE_CHANGE_READY_TO_NULL) {
    g_mutex_lock (&self->lock);
    self->stopping = TRUE;
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
  }
  /* Not under transition_lock: the supervisor may be waiting for it. */
  if (transition == GST_STATE_CHANGE_READY_TO_NULL) {
    stop_supervisor (self);
    stop_spare (self);
  }

  g_mutex_lock (&self->transition_lock);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    follow_spare_property (self);
    if (worker_needs_renewal (self) && !renew_worker (self)) {
      g_mutex_unlock (&self->transition_lock);
      return GST_STATE_CHANGE_FAILURE;
    }
    g_mutex_lock (&self->lock);
    self->stopping = FALSE;
    self->worker->streamed = TRUE;
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
  }
  if ((transition == GST_STATE_CHANGE_READY_TO_PAUSED ||
          transition == GST_STATE_CHANGE_PLAYING_TO_PAUSED) &&
      is_sink_layout (self) && (worker = current_worker (self)) != NULL) {
    expect_preroll (self, worker);
    sandbox_worker_unref (worker);
  }
  if (transition == GST_STATE_CHANGE_READY_TO_NULL)
    leaving = take_worker (self);
  else if (transition != GST_STATE_CHANGE_NULL_TO_READY &&
      !(forward_state (self, transition, &worker_ret) &&
          set_current_input_state (self,
              GST_STATE_TRANSITION_NEXT (transition)))) {
    g_mutex_unlock (&self->transition_lock);
    return GST_STATE_CHANGE_FAILURE;
  }
  if (transition != GST_STATE_CHANGE_NULL_TO_READY &&
      transition != GST_STATE_CHANGE_READY_TO_NULL)
    prerolling = follow_worker (self, transition, worker_ret);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    wait_for_current_greeting (self);
  ret = GST_ELEMENT_CLASS (parent_class)->change_state (GST_ELEMENT (self),
      transition);
  /* the streaming threads are out (the pads deactivated) */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    gst_clear_object (&self->input_pool);
  if (transition == GST_STATE_CHANGE_READY_TO_NULL)
    release_worker (self, leaving);
  g_mutex_unlock (&self->transition_lock);

  if (transition == GST_STATE_CHANGE_NULL_TO_READY &&
      ret == GST_STATE_CHANGE_FAILURE) {
    stop_supervisor (self);
    stop_spare (self);
    g_mutex_lock (&self->transition_lock);
    release_worker (self, take_worker (self));
    g_mutex_unlock (&self->transition_lock);
  }
  if (prerolling && ret != GST_STATE_CHANGE_FAILURE)
    ret = GST_STATE_CHANGE_ASYNC;
  return ret;
}

static GstStateChangeReturn
gst_sandbox_bin_change_state (GstElement * element, GstStateChange transition)
{
  GstSandboxBin *self = GST_SANDBOX_BIN (element);
  GstStateChangeReturn ret;
  gboolean started;

  if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
    GST_OBJECT_LOCK (self);
    self->running_mode = self->mode;
    GST_OBJECT_UNLOCK (self);
    g_mutex_lock (&self->transition_lock);
    started = self->running_mode == GST_SANDBOX_BIN_MODE_IN_PROCESS ?
        build_child (self) : start_isolated (self);
    g_mutex_unlock (&self->transition_lock);
    if (!started)
      return GST_STATE_CHANGE_FAILURE;
  }
  if (self->running_mode == GST_SANDBOX_BIN_MODE_ISOLATED)
    return change_state_isolated (self, transition);

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_READY_TO_NULL ||
      (transition == GST_STATE_CHANGE_NULL_TO_READY &&
          ret == GST_STATE_CHANGE_FAILURE))
    remove_child (self);
  return ret;
}

/* ---- messages ---------------------------------------------------------- */

static gboolean
is_our_ipc_element (GstSandboxBin * self, GstObject * src)
{
  return src != NULL && (GST_IS_IPC_SINK (src) || GST_IS_IPC_SRC (src)) &&
      GST_OBJECT_PARENT (src) == GST_OBJECT (self);
}

/* An error or warning from the elements that talk to the worker means the
 * connection is gone: the worker's crash, or a worker to give up on. */
static void
connection_lost (GstSandboxBin * self, GstMessage * message)
{
  guint generation = GPOINTER_TO_UINT (g_object_get_qdata (G_OBJECT
          (GST_MESSAGE_SRC (message)), generation_quark));
  SandboxWorker *worker = current_worker (self);
  GError *error = NULL;
  gchar *reason;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR)
    gst_message_parse_error (message, &error, NULL);
  else
    gst_message_parse_warning (message, &error, NULL);
  GST_INFO_OBJECT (self, "%s: %s", GST_MESSAGE_SRC_NAME (message),
      error->message);
  if (worker != NULL && worker->generation == generation) {
    reason = g_strdup_printf ("lost its connection: %s", error->message);
    worker_failed (self, worker, reason);
    g_free (reason);
  }
  g_clear_pointer (&worker, sandbox_worker_unref);
  g_error_free (error);
}

static void
gst_sandbox_bin_handle_message (GstBin * bin, GstMessage * message)
{
  GstSandboxBin *self = GST_SANDBOX_BIN (bin);

  if (is_our_ipc_element (self, GST_MESSAGE_SRC (message))) {
    switch (GST_MESSAGE_TYPE (message)) {
      case GST_MESSAGE_ERROR:
      case GST_MESSAGE_WARNING:
        /* a stream whose pad went says its connection ended */
        if (!g_object_get_qdata (G_OBJECT (GST_MESSAGE_SRC (message)),
                retired_quark))
          connection_lost (self, message);
        gst_message_unref (message);
        return;
        /* The ipcsink inside is no sink of the pipeline: its stream ends
         * in the worker's sink, or downstream. Its stream starts where the
         * stream goes, which for a sink is in there. */
      case GST_MESSAGE_STREAM_START:
        if (is_sink_layout (self))
          break;
        gst_message_unref (message);
        return;
      case GST_MESSAGE_EOS:
        gst_message_unref (message);
        return;
      default:
        break;
    }
  }
  GST_BIN_CLASS (parent_class)->handle_message (bin, message);
}

/* ---- GObject ----------------------------------------------------------- */

static gchar **
strv_from_array (const GValue * value)
{
  guint n = gst_value_array_get_size (value);
  GPtrArray *strings = g_ptr_array_new ();

  for (guint i = 0; i < n; i++) {
    const GValue *item = gst_value_array_get_value (value, i);

    if (G_VALUE_HOLDS_STRING (item) && g_value_get_string (item))
      g_ptr_array_add (strings, g_value_dup_string (item));
  }
  g_ptr_array_add (strings, NULL);
  return (gchar **) g_ptr_array_free (strings, FALSE);
}

static void
array_from_strv (GValue * value, gchar ** strv)
{
  for (guint i = 0; strv && strv[i]; i++) {
    GValue item = G_VALUE_INIT;

    g_value_init (&item, G_TYPE_STRING);
    g_value_set_string (&item, strv[i]);
    gst_value_array_append_and_take_value (value, &item);
  }
}

/* Supervision settings, read by the supervisor: under lock. */
static gboolean
set_supervision_property (GstSandboxBin * self, guint prop_id,
    const GValue * value)
{
  gboolean found = TRUE;

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_MAX_RESTARTS:
      self->max_restarts = g_value_get_uint (value);
      break;
    case PROP_RESTART_WINDOW:
      self->restart_window = g_value_get_uint (value);
      break;
    case PROP_RESTART_DELAY:
      self->restart_delay = g_value_get_uint (value);
      break;
    case PROP_BACKOFF:
      self->backoff = g_value_get_enum (value);
      break;
    case PROP_HEARTBEAT_INTERVAL:
      self->heartbeat_interval = g_value_get_uint (value);
      break;
    case PROP_HEARTBEAT_TIMEOUT:
      self->heartbeat_timeout = g_value_get_uint (value);
      break;
    case PROP_REPLAY_MAX_BUFFERS:
      self->replay_max_buffers = g_value_get_uint (value);
      gst_px_replay_set_limits (self->replay, self->replay_max_buffers,
          self->replay_max_bytes);
      break;
    case PROP_REPLAY_MAX_BYTES:
      self->replay_max_bytes = g_value_get_uint64 (value);
      gst_px_replay_set_limits (self->replay, self->replay_max_buffers,
          self->replay_max_bytes);
      break;
    case PROP_PROCESSING_TIMEOUT:
      self->processing_timeout = g_value_get_int (value);
      break;
    default:
      found = FALSE;
      break;
  }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return found;
}

static void
gst_sandbox_bin_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstSandboxBin *self = GST_SANDBOX_BIN (object);
  GstState state;

  if (set_supervision_property (self, prop_id, value))
    return;
  GST_OBJECT_LOCK (self);
  state = GST_STATE (self);
  if (state > GST_STATE_READY || (state > GST_STATE_NULL &&
          (prop_id == PROP_DESCRIPTION || prop_id == PROP_MODE))) {
    GST_OBJECT_UNLOCK (self);
    GST_WARNING_OBJECT (self, "%s cannot be changed in %s", pspec->name,
        gst_element_state_get_name (state));
    return;
  }
  switch (prop_id) {
    case PROP_DESCRIPTION:
      g_free (self->description);
      self->description = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      apply_description (self);
      return;
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      break;
    case PROP_POLICY:
      self->policy = g_value_get_enum (value);
      break;
    case PROP_READ_ONLY_PATHS:
      g_strfreev (self->read_only_paths);
      self->read_only_paths = strv_from_array (value);
      break;
    case PROP_READ_WRITE_PATHS:
      g_strfreev (self->read_write_paths);
      self->read_write_paths = strv_from_array (value);
      break;
    case PROP_RULES_FILE:
      g_free (self->rules_file);
      self->rules_file = g_value_dup_string (value);
      break;
    case PROP_MEMORY_LIMIT:
      self->memory_limit = g_value_get_uint64 (value);
      break;
    case PROP_CPU_LIMIT:
      self->cpu_limit = g_value_get_uint (value);
      break;
    case PROP_PIDS_LIMIT:
      self->pids_limit = g_value_get_uint (value);
      break;
    case PROP_UID:
      self->uid = g_value_get_int (value);
      break;
    case PROP_GID:
      self->gid = g_value_get_int (value);
      break;
    case PROP_REQUIRE_SANDBOX:
      self->require_sandbox = g_value_get_boolean (value);
      break;
    case PROP_FALLBACK_DESCRIPTION:
      g_free (self->fallback_description);
      self->fallback_description = g_value_dup_string (value);
      break;
    case PROP_SPARE:
      self->spare = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      return;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  /* A spare spawned with the settings before is replaced. */
  g_atomic_int_inc (&self->config_serial);
  GST_OBJECT_UNLOCK (self);
  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Supervision settings and read-only state: under lock. */
static gboolean
get_supervision_property (GstSandboxBin * self, guint prop_id, GValue * value)
{
  gboolean found = TRUE;

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_MAX_RESTARTS:
      g_value_set_uint (value, self->max_restarts);
      break;
    case PROP_RESTART_WINDOW:
      g_value_set_uint (value, self->restart_window);
      break;
    case PROP_RESTART_DELAY:
      g_value_set_uint (value, self->restart_delay);
      break;
    case PROP_BACKOFF:
      g_value_set_enum (value, self->backoff);
      break;
    case PROP_HEARTBEAT_INTERVAL:
      g_value_set_uint (value, self->heartbeat_interval);
      break;
    case PROP_HEARTBEAT_TIMEOUT:
      g_value_set_uint (value, self->heartbeat_timeout);
      break;
    case PROP_WORKER_PID:
      g_value_set_int (value, self->worker && !worker_is_retired
          (self->worker) ? (gint) gst_px_worker_get_pid (self->worker->px) : 0);
      break;
    case PROP_SPARE_PID:
      g_value_set_int (value, self->spare_worker ?
          (gint) gst_px_worker_get_pid (self->spare_worker->px) : 0);
      break;
    case PROP_RESTARTS:
      g_value_set_uint (value, self->restarts);
      break;
    case PROP_BUFFERS_LOST:
      g_value_set_uint64 (value, self->buffers_lost);
      break;
    case PROP_LAST_VIOLATION:
      g_value_set_string (value, self->last_violation);
      break;
    case PROP_REPLAY_MAX_BUFFERS:
      g_value_set_uint (value, self->replay_max_buffers);
      break;
    case PROP_REPLAY_MAX_BYTES:
      g_value_set_uint64 (value, self->replay_max_bytes);
      break;
    case PROP_PROCESSING_TIMEOUT:
      g_value_set_int (value, self->processing_timeout);
      break;
    case PROP_BUFFERS_REPLAYED:
      g_value_set_uint64 (value, __atomic_load_n (&self->buffers_replayed,
              __ATOMIC_RELAXED));
      break;
    case PROP_BUFFERS_COPIED:
      g_value_set_uint64 (value, __atomic_load_n (&self->buffers_copied,
              __ATOMIC_RELAXED));
      break;
    case PROP_LAST_CRASH_PTS:
      g_value_set_uint64 (value, self->last_crash_pts);
      break;
    default:
      found = FALSE;
      break;
  }
  g_mutex_unlock (&self->lock);
  return found;
}

static void
gst_sandbox_bin_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstSandboxBin *self = GST_SANDBOX_BIN (object);

  if (get_supervision_property (self, prop_id, value))
    return;
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_DESCRIPTION:
      g_value_set_string (value, self->description);
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_POLICY:
      g_value_set_enum (value, self->policy);
      break;
    case PROP_READ_ONLY_PATHS:
      array_from_strv (value, self->read_only_paths);
      break;
    case PROP_READ_WRITE_PATHS:
      array_from_strv (value, self->read_write_paths);
      break;
    case PROP_RULES_FILE:
      g_value_set_string (value, self->rules_file);
      break;
    case PROP_MEMORY_LIMIT:
      g_value_set_uint64 (value, self->memory_limit);
      break;
    case PROP_CPU_LIMIT:
      g_value_set_uint (value, self->cpu_limit);
      break;
    case PROP_PIDS_LIMIT:
      g_value_set_uint (value, self->pids_limit);
      break;
    case PROP_UID:
      g_value_set_int (value, self->uid);
      break;
    case PROP_GID:
      g_value_set_int (value, self->gid);
      break;
    case PROP_REQUIRE_SANDBOX:
      g_value_set_boolean (value, self->require_sandbox);
      break;
    case PROP_FALLBACK_DESCRIPTION:
      g_value_set_string (value, self->fallback_description);
      break;
    case PROP_SPARE:
      g_value_set_boolean (value, self->spare);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_sandbox_bin_finalize (GObject * object)
{
  GstSandboxBin *self = GST_SANDBOX_BIN (object);

  g_free (self->description);
  g_strfreev (self->read_only_paths);
  g_strfreev (self->read_write_paths);
  g_free (self->rules_file);
  g_free (self->last_violation);
  g_free (self->fallback_description);
  gst_px_replay_free (self->replay);
  gst_clear_object (&self->input_pool);
  g_queue_clear_full (&self->crash_times, g_free);
  g_queue_clear_full (&self->spare_failures, g_free);
  g_mutex_clear (&self->transition_lock);
  g_mutex_clear (&self->streams_lock);
  g_mutex_clear (&self->preroll_lock);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
install_element_properties (void)
{
  const GParamFlags null_only = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  /**
   * GstSandboxBin:description:
   *
   * The elements to run, in gst-launch syntax ("videoconvert",
   * "qtdemux ! h264parse ! avdec_h264"). The bin gets the pads the
   * description leaves unlinked as soon as it is set. NULL state only.
   *
   * Since: 0.1
   */
  properties[PROP_DESCRIPTION] = g_param_spec_string ("description",
      "Description", "The elements to run, in gst-launch syntax; the bin "
      "gets the pads they leave unlinked (NULL state only)", NULL, null_only);
  /**
   * GstSandboxBin:mode:
   *
   * isolated: in a jailed parallax-worker; in-process: here, as a plain
   * bin (debugging, overhead measurements). NULL state only.
   *
   * Since: 0.1
   */
  properties[PROP_MODE] = g_param_spec_enum ("mode", "Mode",
      "Where the elements run: in a jailed worker, or in this process "
      "(NULL state only)", GST_TYPE_SANDBOX_BIN_MODE, DEFAULT_MODE, null_only);
}

static void
install_sandbox_properties (void)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  /**
   * GstSandboxBin:policy:
   *
   * The system calls the worker may make once locked down
   * (docs/security.md). Applies to workers started afterwards.
   *
   * Since: 0.1
   */
  properties[PROP_POLICY] = g_param_spec_enum ("policy", "Policy",
      "System calls the worker may make (docs/security.md)",
      GST_TYPE_SANDBOX_BIN_POLICY, DEFAULT_POLICY, rw);
  /**
   * GstSandboxBin:read-only-paths:
   *
   * With policy=with-filesystem: absolute paths visible, read-only, in the
   * worker's otherwise empty root, e.g. "</usr/share/fonts>".
   *
   * Since: 0.1
   */
  properties[PROP_READ_ONLY_PATHS] = gst_param_spec_array ("read-only-paths",
      "Read-only paths", "policy=with-filesystem: absolute paths the worker "
      "may read", g_param_spec_string ("path", "Path", "An absolute path",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS), rw);
  /**
   * GstSandboxBin:read-write-paths:
   *
   * With policy=with-filesystem: absolute paths the worker may read and
   * write.
   *
   * Since: 0.1
   */
  properties[PROP_READ_WRITE_PATHS] =
      gst_param_spec_array ("read-write-paths", "Read-write paths",
      "policy=with-filesystem: absolute paths the worker may read and write",
      g_param_spec_string ("path", "Path", "An absolute path", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS), rw);
  /**
   * GstSandboxBin:rules-file:
   *
   * With policy=custom: the rules file (format in docs/security.md), read
   * by this process when a worker starts.
   *
   * Since: 0.1
   */
  properties[PROP_RULES_FILE] = g_param_spec_string ("rules-file",
      "Rules file", "policy=custom: the seccomp rules file "
      "(docs/security.md)", NULL, rw);
  /**
   * GstSandboxBin:memory-limit:
   *
   * The most memory the worker may use, in bytes (0: no limit).
   *
   * Since: 0.1
   */
  properties[PROP_MEMORY_LIMIT] = g_param_spec_uint64 ("memory-limit",
      "Memory limit", "Bytes of memory the worker may use (0 = no limit)",
      0, G_MAXUINT64, 0, rw);
  /**
   * GstSandboxBin:cpu-limit:
   *
   * The CPU time the worker may use, in percent of one CPU (200: two
   * CPUs; 0: no limit).
   *
   * Since: 0.1
   */
  properties[PROP_CPU_LIMIT] = g_param_spec_uint ("cpu-limit", "CPU limit",
      "Percent of one CPU the worker may use (0 = no limit)", 0, G_MAXUINT,
      0, rw);
  /**
   * GstSandboxBin:pids-limit:
   *
   * The most threads the worker may have (0: no limit).
   *
   * Since: 0.1
   */
  properties[PROP_PIDS_LIMIT] = g_param_spec_uint ("pids-limit",
      "Threads limit", "Threads the worker may have (0 = no limit)", 0,
      G_MAXUINT, 0, rw);
  /**
   * GstSandboxBin:uid:
   *
   * The host user id the worker runs as. -1, the default: an unprivileged
   * process's worker runs as the process's own user (it cannot be
   * another), a root process's as nobody (65534), never as root. Another
   * id needs privileges; set #GstSandboxBin:gid with it.
   *
   * Since: 0.1
   */
  properties[PROP_UID] = g_param_spec_int ("uid", "User id",
      "Host user id the worker runs as (-1 = the caller's own, or nobody "
      "when the caller is root; another needs privileges, with gid)",
      -1, G_MAXINT, -1, rw);
  /**
   * GstSandboxBin:gid:
   *
   * The host group id the worker runs as; -1 as for #GstSandboxBin:uid.
   *
   * Since: 0.1
   */
  properties[PROP_GID] = g_param_spec_int ("gid", "Group id",
      "Host group id the worker runs as (-1 = the caller's own, or nogroup "
      "when the caller is root; another needs privileges, with uid)",
      -1, G_MAXINT, -1, rw);
  /**
   * GstSandboxBin:require-sandbox:
   *
   * Refuse to run when a layer of the jail cannot be applied (a kernel
   * without user namespaces, no cgroups and no rlimits...). When FALSE the
   * worker runs with the layers it got and the bin posts a warning naming
   * the missing ones.
   *
   * Since: 0.1
   */
  properties[PROP_REQUIRE_SANDBOX] = g_param_spec_boolean ("require-sandbox",
      "Require sandbox", "Refuse to run when a layer of the jail cannot be "
      "applied (else run with a warning)", DEFAULT_REQUIRE_SANDBOX, rw);
  /**
   * GstSandboxBin:fallback-description:
   *
   * What workers run once #GstSandboxBin:max-restarts is used up: a
   * description with the same pads (another decoder, "identity"...), run
   * in a jailed worker like the description, with restarts of its own.
   * The bin posts "sandboxbin-fallback" when it takes over, and keeps it
   * until it goes back to NULL. Without one (the default), no restart
   * left is an error.
   *
   * Since: 0.2
   */
  properties[PROP_FALLBACK_DESCRIPTION] =
      g_param_spec_string ("fallback-description", "Fallback description",
      "What workers run once max-restarts is used up (jailed too; NULL: an "
      "error)", NULL, rw);
  /**
   * GstSandboxBin:spare:
   *
   * Keep one more worker spawned for the description, locked down, its
   * posture checked and idle in READY, so that a restart costs no spawn:
   * the first crash within #GstSandboxBin:restart-window is served at
   * once (no #GstSandboxBin:restart-delay; later ones wait what the crash
   * before them would without a spare), and going through READY to PAUSED
   * takes it too. A new spare is spawned in the background once one took
   * over, or died idle ("sandboxbin-spare-lost"). It costs one more
   * process and its threads here, and the resources its elements open in
   * READY. Isolated mode only; takes effect at NULL -> READY and READY ->
   * PAUSED.
   *
   * Since: 0.2
   */
  properties[PROP_SPARE] = g_param_spec_boolean ("spare", "Spare worker",
      "Keep one more worker locked down and ready, so that a restart costs "
      "no spawn", DEFAULT_SPARE, rw);
}

static void
install_recovery_properties (GParamFlags rw, GParamFlags ro)
{
  /**
   * GstSandboxBin:replay-max-buffers:
   *
   * The most input buffers the bin keeps to give a new worker again after
   * a crash: those since the keyframe the worker's current buffer
   * depends on (0: none; the new worker then starts at the next buffer,
   * and video at the next keyframe). Past it the oldest go first.
   *
   * Since: 0.2
   */
  properties[PROP_REPLAY_MAX_BUFFERS] =
      g_param_spec_uint ("replay-max-buffers", "Replay maximum buffers",
      "Input buffers kept since the last keyframe, given again to a worker "
      "that replaces a crashed one (0 = no replay)", 0, G_MAXUINT,
      DEFAULT_REPLAY_MAX_BUFFERS, rw);
  /**
   * GstSandboxBin:replay-max-bytes:
   *
   * The most bytes of input the replay window keeps.
   *
   * Since: 0.2
   */
  properties[PROP_REPLAY_MAX_BYTES] = g_param_spec_uint64 ("replay-max-bytes",
      "Replay maximum bytes", "Bytes of input the replay window keeps", 0,
      G_MAXUINT64, DEFAULT_REPLAY_MAX_BYTES, rw);
  /**
   * GstSandboxBin:processing-timeout:
   *
   * Milliseconds a worker may spend on one buffer (from when it could
   * start on it to its output) before it is killed and replaced, as a hang.
   * -1 (the default): adaptive, 10 times the median of the last 63
   * buffers, at least 2000 ms, and 10000 ms for a worker's first buffer;
   * 0: no limit. A worker waiting for input, or for downstream to take
   * its output, is not timed.
   *
   * Since: 0.2
   */
  properties[PROP_PROCESSING_TIMEOUT] =
      g_param_spec_int ("processing-timeout", "Processing timeout",
      "Milliseconds a worker may spend on one buffer before it is replaced "
      "(-1 = adaptive, 0 = none)", -1, G_MAXINT, DEFAULT_PROCESSING_TIMEOUT,
      rw);
  /**
   * GstSandboxBin:buffers-replayed:
   *
   * Input buffers given again to workers that replaced crashed ones.
   *
   * Since: 0.2
   */
  properties[PROP_BUFFERS_REPLAYED] = g_param_spec_uint64 ("buffers-replayed",
      "Buffers replayed", "Input buffers given again to workers that "
      "replaced crashed ones", 0, G_MAXUINT64, 0, ro);
  /**
   * GstSandboxBin:buffers-copied:
   *
   * Output buffers that were not raw audio or video, copied out of the
   * worker's memory before going downstream (docs/security.md).
   *
   * Since: 0.2
   */
  properties[PROP_BUFFERS_COPIED] = g_param_spec_uint64 ("buffers-copied",
      "Buffers copied", "Output buffers other than raw audio or video, "
      "copied out of the worker's memory", 0, G_MAXUINT64, 0, ro);
  /**
   * GstSandboxBin:last-crash-pts:
   *
   * The PTS of the buffer the last worker to end was processing (the
   * oldest input it had not answered), GST_CLOCK_TIME_NONE if it held
   * none. With #GstSandboxBin:last-violation: where in the stream the
   * sandbox last refused a call.
   *
   * Since: 0.2
   */
  properties[PROP_LAST_CRASH_PTS] = g_param_spec_uint64 ("last-crash-pts",
      "Last crash PTS", "PTS of the buffer the last worker to end was "
      "processing (none: GST_CLOCK_TIME_NONE)", 0, G_MAXUINT64,
      GST_CLOCK_TIME_NONE, ro);
}

static void
install_supervision_properties (void)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  /**
   * GstSandboxBin:max-restarts:
   *
   * Crashes tolerated within #GstSandboxBin:restart-window, each followed
   * by a new worker; one more is an error (0: the first crash is).
   *
   * Since: 0.1
   */
  properties[PROP_MAX_RESTARTS] = g_param_spec_uint ("max-restarts",
      "Maximum restarts", "Crashes within restart-window followed by a new "
      "worker; one more is an error", 0, G_MAXUINT, DEFAULT_MAX_RESTARTS, rw);
  /**
   * GstSandboxBin:restart-window:
   *
   * The span, in milliseconds, over which crashes count against
   * #GstSandboxBin:max-restarts: older crashes are forgotten.
   *
   * Since: 0.1
   */
  properties[PROP_RESTART_WINDOW] = g_param_spec_uint ("restart-window",
      "Restart window", "Milliseconds over which crashes count against "
      "max-restarts", 1, G_MAXUINT, DEFAULT_RESTART_WINDOW, rw);
  /**
   * GstSandboxBin:restart-delay:
   *
   * Milliseconds after a crash before a new worker takes over; with
   * backoff=exponential, doubled for each earlier crash in the window (at
   * most 30 s, or restart-delay if longer). Without #GstSandboxBin:spare
   * the new worker is spawned as the delay begins and waits, locked down
   * and idle, for it to end: a restart costs the longer of the delay and
   * the spawn.
   *
   * Since: 0.1
   */
  properties[PROP_RESTART_DELAY] = g_param_spec_uint ("restart-delay",
      "Restart delay", "Milliseconds after a crash before a new worker "
      "takes over (it is spawned meanwhile)", 0, G_MAXUINT,
      DEFAULT_RESTART_DELAY, rw);
  /**
   * GstSandboxBin:backoff:
   *
   * How #GstSandboxBin:restart-delay grows with repeated crashes.
   *
   * Since: 0.1
   */
  properties[PROP_BACKOFF] = g_param_spec_enum ("backoff", "Backoff",
      "How restart-delay grows with crashes in the window",
      GST_TYPE_SANDBOX_BIN_BACKOFF, DEFAULT_BACKOFF, rw);
  /**
   * GstSandboxBin:heartbeat-interval:
   *
   * Milliseconds between two heartbeats to the worker (0: none).
   *
   * Since: 0.1
   */
  properties[PROP_HEARTBEAT_INTERVAL] =
      g_param_spec_uint ("heartbeat-interval", "Heartbeat interval",
      "Milliseconds between heartbeats to the worker (0 = none)", 0,
      G_MAXUINT, DEFAULT_HEARTBEAT_INTERVAL, rw);
  /**
   * GstSandboxBin:heartbeat-timeout:
   *
   * A worker that does not answer a heartbeat within this many
   * milliseconds is killed and replaced.
   *
   * Since: 0.1
   */
  properties[PROP_HEARTBEAT_TIMEOUT] = g_param_spec_uint ("heartbeat-timeout",
      "Heartbeat timeout", "Milliseconds a worker has to answer a "
      "heartbeat before it is killed and replaced", 1, G_MAXUINT,
      DEFAULT_HEARTBEAT_TIMEOUT, rw);
  /**
   * GstSandboxBin:worker-pid:
   *
   * The process id of the running worker (0 when none).
   *
   * Since: 0.1
   */
  properties[PROP_WORKER_PID] = g_param_spec_int ("worker-pid", "Worker pid",
      "Process id of the running worker (0 = none)", 0, G_MAXINT, 0, ro);
  /**
   * GstSandboxBin:spare-pid:
   *
   * The process id of the spare worker, ready and idle (0 when none; see
   * #GstSandboxBin:spare).
   *
   * Since: 0.2
   */
  properties[PROP_SPARE_PID] = g_param_spec_int ("spare-pid", "Spare pid",
      "Process id of the spare worker, ready and idle (0 = none)", 0,
      G_MAXINT, 0, ro);
  /**
   * GstSandboxBin:restarts:
   *
   * Workers started to replace one that crashed, since NULL -> READY.
   *
   * Since: 0.1
   */
  properties[PROP_RESTARTS] = g_param_spec_uint ("restarts", "Restarts",
      "Workers started after a crash since the bin started", 0, G_MAXUINT, 0,
      ro);
  /**
   * GstSandboxBin:buffers-lost:
   *
   * Buffers that went into a worker that crashed and did not come out:
   * for each crashed worker, its input buffers minus its output buffers
   * (exact for elements that make one buffer of each).
   *
   * Since: 0.1
   */
  properties[PROP_BUFFERS_LOST] = g_param_spec_uint64 ("buffers-lost",
      "Buffers lost", "Buffers that went into crashed workers and did not "
      "come out", 0, G_MAXUINT64, 0, ro);
  /**
   * GstSandboxBin:last-violation:
   *
   * The system call the sandbox last refused, killing the worker ("execve",
   * "socket"...), or NULL.
   *
   * Since: 0.1
   */
  properties[PROP_LAST_VIOLATION] = g_param_spec_string ("last-violation",
      "Last violation", "The system call the sandbox last refused, killing "
      "the worker", NULL, ro);
  install_recovery_properties (rw, ro);
}

static void
gst_sandbox_bin_class_init (GstSandboxBinClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBinClass *bin_class = GST_BIN_CLASS (klass);

  ghost_quark = g_quark_from_static_string ("sandboxbin-ghost");
  generation_quark = g_quark_from_static_string ("sandboxbin-generation");
  retired_quark = g_quark_from_static_string ("sandboxbin-retired");

  gobject_class->set_property = gst_sandbox_bin_set_property;
  gobject_class->get_property = gst_sandbox_bin_get_property;
  gobject_class->finalize = gst_sandbox_bin_finalize;
  install_element_properties ();
  install_sandbox_properties ();
  install_supervision_properties ();
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class, &dynamic_template);
  gst_element_class_set_static_metadata (element_class, "Sandboxed bin",
      "Generic/Bin", "Runs elements in a jailed process and stands for them "
      "in the pipeline; restarts them when they crash",
      "The Parallax developers");
  gst_type_mark_as_plugin_api (GST_TYPE_SANDBOX_BIN_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_SANDBOX_BIN_POLICY, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_SANDBOX_BIN_BACKOFF, 0);

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_sandbox_bin_change_state);
  bin_class->handle_message =
      GST_DEBUG_FUNCPTR (gst_sandbox_bin_handle_message);
}

static void
gst_sandbox_bin_init (GstSandboxBin * self)
{
  self->mode = DEFAULT_MODE;
  self->policy = DEFAULT_POLICY;
  self->uid = self->gid = -1;
  self->require_sandbox = DEFAULT_REQUIRE_SANDBOX;
  self->max_restarts = DEFAULT_MAX_RESTARTS;
  self->restart_window = DEFAULT_RESTART_WINDOW;
  self->restart_delay = DEFAULT_RESTART_DELAY;
  self->backoff = DEFAULT_BACKOFF;
  self->heartbeat_interval = DEFAULT_HEARTBEAT_INTERVAL;
  self->heartbeat_timeout = DEFAULT_HEARTBEAT_TIMEOUT;
  self->replay_max_buffers = DEFAULT_REPLAY_MAX_BUFFERS;
  self->replay_max_bytes = DEFAULT_REPLAY_MAX_BYTES;
  self->processing_timeout = DEFAULT_PROCESSING_TIMEOUT;
  self->last_crash_pts = GST_CLOCK_TIME_NONE;
  self->replay = gst_px_replay_new ();
  gst_px_replay_set_limits (self->replay, self->replay_max_buffers,
      self->replay_max_bytes);
  g_mutex_init (&self->transition_lock);
  g_mutex_init (&self->streams_lock);
  g_mutex_init (&self->preroll_lock);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->crash_times);
  g_queue_init (&self->spare_failures);
  /* One element from outside: what it is comes from the description, not
   * from the sinks and sources inside. */
  gst_bin_set_suppressed_flags (GST_BIN (self), GST_ELEMENT_FLAG_SOURCE |
      GST_ELEMENT_FLAG_SINK);
}
