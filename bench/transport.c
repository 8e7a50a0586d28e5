/* Parallax — benchmark: buffers between processes through ipcsink/ipcsrc,
 * against the transports GStreamer already has, measured in the same run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Four transports carry the same stream:
 *
 *   in-process   src ! queue ! fakesink, one process — the anchor
 *   ipc          src ! ipcsink   |   ipcsrc ! fakesink
 *   shm          src ! shmsink   |   shmsrc ! capsfilter ! fakesink
 *   tcp          src ! gdppay ! tcpserversink   |
 *                tcpclientsrc ! gdpdepay ! fakesink   (127.0.0.1)
 *
 * "|" is a process boundary: the producer and the consumer are two
 * processes, both this program started again with a hidden --role option.
 * The in-process case also runs in a process of its own, so that every case
 * starts alike.
 *
 * src is an element of this program (benchsrc): it takes each buffer from
 * the pool it negotiated — ipcsink's arena pool, or a pool of its own over
 * shmsink's shared-memory allocator or over system memory — writes a
 * 24-byte header (a magic number, a sequence number, a time stamp) at its
 * start and pushes it. Nothing else is written: no end does work on the
 * pixels, what is measured is the transport's own cost. fakesink reads the
 * header back and drops the buffer. The "written" video payloads are the
 * same frames, except that the source writes every byte of each one first,
 * as a camera or a decoder does: what a real video stream costs.
 *
 * Every transport gets the same depth: the source's own pools hold
 * POOL_MAX_BUFFERS buffers, as many as ipcsink's arena pool with its
 * default max-in-flight; queue holds as many (not its default 10 MB), and
 * shmsink's area has room for all of them. Sinks do not sync to the clock
 * and fakesink keeps no last sample.
 *
 * Payloads: 4K I420 (12 441 600 bytes), 1080p I420 (3 110 400 bytes), and
 * 4 KiB buffers with non-video caps (which ipcsink copies into an arena of
 * its own: only raw video gets its pool) and as 64x64 GRAY8 video (which
 * gets the pool: no copy).
 *
 * Two measurements per transport and payload:
 *
 *   throughput  the source pushes as fast as it can; the consumer counts
 *               buffers for --seconds after a warm-up. buffers/s, MB/s.
 *   latency     the source is live at a moderate fixed rate (4K 30/s,
 *               1080p 60/s, 4 KiB 1000/s: see payloads[]);
 *               a pad probe stamps CLOCK_MONOTONIC into the header just
 *               before the buffer enters the transport (the sink pad of
 *               queue, ipcsink, shmsink or gdppay) and a probe on
 *               fakesink's sink pad subtracts it from the time the buffer
 *               arrives. p50 / p99 over every buffer of every run.
 *
 * Runs are interleaved (run 1 of every case, then run 2, ...); throughput is
 * the median over runs.
 *
 * The program loads the Parallax plugin from the registry like any
 * application: run it under `meson devenv -C <builddir>`, or with
 * GST_PLUGIN_PATH set to <builddir>/gst-plugin.
 */

#include "bench-util.h"
#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>
#include <gst/video/video.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 101
/* The pool the source makes when downstream proposes none: as many buffers
 * as ipcsink's arena pool holds with its default max-in-flight (2 x 16 + 4),
 * so that every transport gets the same number of buffers in flight. */
#define POOL_MIN_BUFFERS 2
#define POOL_MAX_BUFFERS 36
/* Consumer: time between the first buffer and the measurement window. */
#define WARM_UP_SECONDS 0.25
/* How long a process may take to start, to deliver its first buffer, or to
 * stop before it counts as hung. */
#define START_TIMEOUT_SECONDS 10
#define STOP_TIMEOUT_SECONDS 10
#define HEADER_MAGIC G_GUINT64_CONSTANT (0x505842454e434831)

/* The project's targets for ipcsink / ipcsrc. */
#define TARGET_VIDEO_VS_IN_PROCESS 0.95
#define TARGET_SMALL_BUFFERS_PER_SECOND 100000.0
#define TARGET_P99_US 100.0

/* What the source writes at the start of every buffer. */
typedef struct
{
  guint64 magic;
  guint64 sequence;
  gint64 stamp_ns;              /* CLOCK_MONOTONIC; 0 when not stamped */
} BenchHeader;

G_STATIC_ASSERT (sizeof (BenchHeader) == 24);

/* ---- cases ------------------------------------------------------------- */

typedef enum
{
  TRANSPORT_IN_PROCESS,
  TRANSPORT_IPC,
  TRANSPORT_SHM,
  TRANSPORT_TCP,
  N_TRANSPORTS
} Transport;

static const gchar *transport_names[N_TRANSPORTS] = {
  "in-process", "ipc", "shm", "tcp"
};

static const gchar *transport_titles[N_TRANSPORTS] = {
  "in-process (queue)", "ipcsink / ipcsrc", "shmsink / shmsrc",
  "tcpserversink / tcpclientsrc"
};

typedef struct
{
  const gchar *name;            /* for --payloads */
  const gchar *title;
  const gchar *caps;
  guint size;                   /* bytes per buffer */
  guint latency_rate;           /* buffers/s in the latency runs; 0: none */
  gboolean video;               /* held to the throughput ratio targets */
  gboolean written;             /* the source writes every byte */
} Payload;

static const Payload payloads[] = {
  {"4k", "4K I420",
        "video/x-raw,format=I420,width=3840,height=2160,framerate=0/1",
      3840 * 2160 * 3 / 2, 30, TRUE, FALSE},
  {"1080p", "1080p I420",
        "video/x-raw,format=I420,width=1920,height=1080,framerate=0/1",
      1920 * 1080 * 3 / 2, 60, TRUE, FALSE},
  {"4kib", "4 KiB",
      "application/x-parallax-bench", 4096, 1000, FALSE, FALSE},
  {"4kib-video", "4 KiB (64x64 GRAY8)",
        "video/x-raw,format=GRAY8,width=64,height=64,framerate=0/1",
      4096, 1000, FALSE, FALSE},
  /* As a camera or a decoder does: every frame is made, byte by byte. The
   * latency runs would measure the same trip as above. */
  {"4k-written", "4K I420, written",
        "video/x-raw,format=I420,width=3840,height=2160,framerate=0/1",
      3840 * 2160 * 3 / 2, 0, TRUE, TRUE},
  {"1080p-written", "1080p I420, written",
        "video/x-raw,format=I420,width=1920,height=1080,framerate=0/1",
      1920 * 1080 * 3 / 2, 0, TRUE, TRUE},
};

#define N_PAYLOADS G_N_ELEMENTS (payloads)

typedef enum
{
  MODE_THROUGHPUT,
  MODE_LATENCY,
  N_MODES
} BenchMode;

static const gchar *mode_names[N_MODES] = { "throughput", "latency" };


/* ---- the source -------------------------------------------------------- */

#define GST_TYPE_BENCH_SRC (gst_bench_src_get_type ())
G_DECLARE_FINAL_TYPE (GstBenchSrc, gst_bench_src, GST, BENCH_SRC, GstPushSrc);

struct _GstBenchSrc
{
  GstPushSrc parent;
  guint rate;                   /* buffers/s when live; 0 = as fast as it can */
  guint size;                   /* bytes per buffer, from the caps */
  GstCaps *caps;                /* what it produces */
  gboolean write_all;           /* every byte of every buffer */
  guint64 sequence;
};

enum
{
  PROP_0,
  PROP_RATE,
  PROP_CAPS,
  PROP_WRITE_ALL,
};

G_DEFINE_TYPE (GstBenchSrc, gst_bench_src, GST_TYPE_PUSH_SRC);

static GstStaticPadTemplate bench_src_template =
GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS_ANY);

static GstCaps *
gst_bench_src_get_caps (GstBaseSrc * base, GstCaps * filter)
{
  GstBenchSrc *self = GST_BENCH_SRC (base);
  GstCaps *caps;

  GST_OBJECT_LOCK (self);
  caps = self->caps ? gst_caps_ref (self->caps) : gst_caps_new_any ();
  GST_OBJECT_UNLOCK (self);
  if (filter != NULL) {
    GstCaps *both = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (caps);
    caps = both;
  }
  return caps;
}

static gboolean
gst_bench_src_set_caps (GstBaseSrc * base, GstCaps * caps)
{
  GstBenchSrc *self = GST_BENCH_SRC (base);
  GstVideoInfo info;

  /* Raw video has its size in the caps; anything else uses blocksize. */
  if (gst_video_info_from_caps (&info, caps))
    self->size = (guint) info.size;
  else
    self->size = gst_base_src_get_blocksize (base);
  return self->size >= sizeof (BenchHeader);
}

/* What a well-behaved producer does (videotestsrc does the same): use the
 * pool downstream proposes, else a pool of its own with the allocator
 * downstream proposes, if any. */
static gboolean
gst_bench_src_decide_allocation (GstBaseSrc * base, GstQuery * query)
{
  GstBenchSrc *self = GST_BENCH_SRC (base);
  GstBufferPool *pool = NULL;
  GstAllocator *allocator = NULL;
  GstAllocationParams params;
  GstStructure *config;
  GstCaps *caps;
  guint size = 0, min = POOL_MIN_BUFFERS, max = POOL_MAX_BUFFERS;
  gboolean proposed = gst_query_get_n_allocation_pools (query) > 0;
  gboolean ok;

  gst_query_parse_allocation (query, &caps, NULL);
  if (proposed)
    gst_query_parse_nth_allocation_pool (query, 0, &pool, &size, &min, &max);
  if (pool == NULL) {
    GstVideoInfo info;

    pool = caps && gst_video_info_from_caps (&info, caps) ?
        gst_video_buffer_pool_new () : gst_buffer_pool_new ();
    size = self->size;
    min = POOL_MIN_BUFFERS;
    max = POOL_MAX_BUFFERS;
  }
  size = MAX (size, self->size);
  gst_allocation_params_init (&params);
  if (gst_query_get_n_allocation_params (query) > 0)
    gst_query_parse_nth_allocation_param (query, 0, &allocator, &params);

  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, size, min, max);
  gst_buffer_pool_config_set_allocator (config, allocator, &params);
  if (gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL))
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_META);
  ok = gst_buffer_pool_set_config (pool, config);
  if (ok) {
    if (proposed)
      gst_query_set_nth_allocation_pool (query, 0, pool, size, min, max);
    else
      gst_query_add_allocation_pool (query, pool, size, min, max);
  } else {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Cannot configure a pool of %u-byte buffers", size), (NULL));
  }
  gst_clear_object (&allocator);
  gst_object_unref (pool);
  return ok;
}

static GstFlowReturn
gst_bench_src_fill (GstPushSrc * push, GstBuffer * buffer)
{
  GstBenchSrc *self = GST_BENCH_SRC (push);
  BenchHeader header = {.magic = HEADER_MAGIC,.sequence = self->sequence };

  if (self->write_all) {
    GstMapInfo map;

    if (!gst_buffer_map (buffer, &map, GST_MAP_WRITE))
      return GST_FLOW_ERROR;
    memset (map.data, (int) (self->sequence & 0xff), map.size);
    gst_buffer_unmap (buffer, &map);
  }
  if (gst_buffer_fill (buffer, 0, &header, sizeof header) != sizeof header)
    return GST_FLOW_ERROR;
  GST_BUFFER_OFFSET (buffer) = self->sequence;
  GST_BUFFER_OFFSET_END (buffer) = self->sequence + 1;
  if (self->rate > 0) {
    GST_BUFFER_PTS (buffer) = gst_util_uint64_scale_int (self->sequence,
        GST_SECOND, self->rate);
    GST_BUFFER_DURATION (buffer) = gst_util_uint64_scale_int (1, GST_SECOND,
        self->rate);
  }
  self->sequence++;
  return GST_FLOW_OK;
}

/* Live: basesrc waits until the buffer's running time before pushing it. */
static void
gst_bench_src_get_times (GstBaseSrc * base, GstBuffer * buffer,
    GstClockTime * start, GstClockTime * end)
{
  *start = *end = GST_CLOCK_TIME_NONE;
  if (gst_base_src_is_live (base) && GST_BUFFER_PTS_IS_VALID (buffer)) {
    *start = GST_BUFFER_PTS (buffer);
    *end = *start + GST_BUFFER_DURATION (buffer);
  }
}

static gboolean
gst_bench_src_start (GstBaseSrc * base)
{
  GST_BENCH_SRC (base)->sequence = 0;
  return TRUE;
}

static void
gst_bench_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstBenchSrc *self = GST_BENCH_SRC (object);

  switch (prop_id) {
    case PROP_RATE:
      self->rate = g_value_get_uint (value);
      gst_base_src_set_live (GST_BASE_SRC (self), self->rate > 0);
      break;
    case PROP_CAPS:
      GST_OBJECT_LOCK (self);
      gst_caps_replace (&self->caps, (GstCaps *) gst_value_get_caps (value));
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WRITE_ALL:
      self->write_all = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_bench_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstBenchSrc *self = GST_BENCH_SRC (object);

  switch (prop_id) {
    case PROP_RATE:
      g_value_set_uint (value, self->rate);
      break;
    case PROP_CAPS:
      GST_OBJECT_LOCK (self);
      gst_value_set_caps (value, self->caps);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WRITE_ALL:
      g_value_set_boolean (value, self->write_all);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_bench_src_finalize (GObject * object)
{
  gst_clear_caps (&GST_BENCH_SRC (object)->caps);
  G_OBJECT_CLASS (gst_bench_src_parent_class)->finalize (object);
}

static void
gst_bench_src_class_init (GstBenchSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);

  gobject_class->set_property = gst_bench_src_set_property;
  gobject_class->get_property = gst_bench_src_get_property;
  gobject_class->finalize = gst_bench_src_finalize;
  g_object_class_install_property (gobject_class, PROP_CAPS,
      g_param_spec_boxed ("caps", "Caps", "What the source produces",
          GST_TYPE_CAPS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_RATE,
      g_param_spec_uint ("rate", "Rate",
          "Buffers per second, as a live source (0 = as fast as possible, "
          "not live)", 0, 1000000, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_WRITE_ALL,
      g_param_spec_boolean ("write-all", "Write all",
          "Write every byte of every buffer, not only the header", FALSE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  gst_element_class_add_static_pad_template (element_class,
      &bench_src_template);
  gst_element_class_set_static_metadata (element_class, "Benchmark source",
      "Source", "Writes a sequence number into pool buffers", "Parallax");
  basesrc_class->get_caps = gst_bench_src_get_caps;
  basesrc_class->set_caps = gst_bench_src_set_caps;
  basesrc_class->decide_allocation = gst_bench_src_decide_allocation;
  basesrc_class->get_times = gst_bench_src_get_times;
  basesrc_class->start = gst_bench_src_start;
  GST_PUSH_SRC_CLASS (klass)->fill = gst_bench_src_fill;
}

static void
gst_bench_src_init (GstBenchSrc * self)
{
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}

/* ---- child processes: pipelines ---------------------------------------- */

/* What a child process is told to do (hidden options). */
typedef struct
{
  gchar *role;                  /* producer, consumer, in-process */
  Transport transport;
  const Payload *payload;
  BenchMode mode;
  gchar *endpoint;              /* socket path, or tcp port */
  gdouble seconds;
} ChildOptions;

/* Room in shmsink's area for every buffer of the source's pool and a few
 * more, never less than shmsink's default. */
static guint
shm_size (const Payload * payload)
{
  guint64 size = (guint64) payload->size * (POOL_MAX_BUFFERS + 4);

  return (guint) CLAMP (size, 64 * 1024 * 1024, G_MAXUINT);
}

/* "benchsrc caps=... ! ": the start of every producer. */
static gchar *
source_description (const ChildOptions * options)
{
  guint rate = options->mode == MODE_LATENCY ?
      options->payload->latency_rate : 0;

  return g_strdup_printf ("benchsrc caps=\"%s\" rate=%u blocksize=%u "
      "write-all=%s ! ", options->payload->caps, rate, options->payload->size,
      options->payload->written ? "true" : "false");
}

/* The element named "entry" is where a buffer enters the transport: its
 * sink pad gets the latency stamp. */
static gchar *
producer_description (const ChildOptions * options)
{
  g_autofree gchar *source = source_description (options);
  const gchar *path = options->endpoint;

  switch (options->transport) {
    case TRANSPORT_IN_PROCESS:
      /* queue's default 10 MB limit would hold less than one 4K frame and
       * make the two threads take turns; give it the pool's depth. */
      return g_strdup_printf ("%squeue name=entry max-size-buffers=%u "
          "max-size-bytes=0 max-size-time=0 ! fakesink name=sink "
          "sync=false enable-last-sample=false", source, POOL_MAX_BUFFERS);
    case TRANSPORT_IPC:
      return g_strdup_printf ("%sipcsink name=entry socket-path=\"%s\" "
          "wait-for-connection=true", source, path);
    case TRANSPORT_SHM:
      return g_strdup_printf ("%sshmsink name=entry socket-path=\"%s\" "
          "wait-for-connection=true shm-size=%u sync=false", source, path,
          shm_size (options->payload));
    case TRANSPORT_TCP:
      return g_strdup_printf ("%sgdppay name=entry ! tcpserversink "
          "name=server host=127.0.0.1 port=0 sync=false", source);
    default:
      g_assert_not_reached ();
  }
}

static gchar *
consumer_description (const ChildOptions * options)
{
  const gchar *sink = "fakesink name=sink sync=false enable-last-sample=false";

  switch (options->transport) {
    case TRANSPORT_IN_PROCESS:
      return producer_description (options);
    case TRANSPORT_IPC:
      return g_strdup_printf ("ipcsrc socket-path=\"%s\" ! %s",
          options->endpoint, sink);
    case TRANSPORT_SHM:
      /* shmsrc does not carry caps. */
      return g_strdup_printf ("shmsrc socket-path=\"%s\" ! %s ! %s",
          options->endpoint, options->payload->caps, sink);
    case TRANSPORT_TCP:
      return g_strdup_printf ("tcpclientsrc host=127.0.0.1 port=%s ! "
          "gdpdepay ! %s", options->endpoint, sink);
    default:
      g_assert_not_reached ();
  }
}

static GstElement *
launch (const gchar * description)
{
  g_autoptr (GError) error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);

  if (pipeline == NULL || error != NULL) {
    g_printerr ("cannot build \"%s\": %s\n", description,
        error ? error->message : "unknown error");
    gst_clear_object (&pipeline);
  }
  return pipeline;
}

/* Prints an error or warning from @msg; TRUE for an error. */
static gboolean
report_message (GstMessage * msg, const gchar * role)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *debug = NULL;
  gboolean is_error = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR;

  if (is_error)
    gst_message_parse_error (msg, &error, &debug);
  else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING)
    gst_message_parse_warning (msg, &error, &debug);
  else
    return FALSE;
  g_printerr ("%s: %s from %s: %s (%s)\n", role, is_error ? "error" :
      "warning", GST_OBJECT_NAME (msg->src), error->message,
      debug ? debug : "");
  return is_error;
}

/* ---- child processes: probes ------------------------------------------- */

typedef struct
{
  gboolean stamp;               /* latency runs: stamp every buffer */
  gchar memory[64];             /* memory type of the first buffer */
} ProducerState;

/* Producer, on the sink pad of the transport's first element. */
static GstPadProbeReturn
producer_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  ProducerState *state = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);

  if (state->memory[0] == '\0') {
    GstAllocator *allocator = gst_buffer_peek_memory (buffer, 0)->allocator;

    /* Not every allocator names its memory type. */
    g_strlcpy (state->memory, allocator == NULL ? "unknown" :
        allocator->mem_type ? allocator->mem_type :
        G_OBJECT_TYPE_NAME (allocator), sizeof state->memory);
  }
  if (state->stamp) {
    gint64 stamp = bench_now_ns ();

    if (gst_buffer_fill (buffer, G_STRUCT_OFFSET (BenchHeader, stamp_ns),
            &stamp, sizeof stamp) != sizeof stamp)
      g_printerr ("producer: cannot stamp a buffer\n");
  }
  return GST_PAD_PROBE_OK;
}

typedef struct
{
  GMutex lock;
  guint64 buffers;              /* seen so far */
  gint64 last_ns;               /* when the last one arrived */
  guint64 last_sequence;
  gboolean recording;           /* inside the measurement window */
  guint64 gaps;                 /* sequence jumps inside the window */
  guint64 bad;                  /* buffers without our header */
  GArray *latencies;            /* gint64 ns, latency runs, in the window */
} ConsumerState;

/* Consumer, on fakesink's sink pad: after every element of the transport. */
static GstPadProbeReturn
consumer_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  ConsumerState *state = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  gint64 now = bench_now_ns ();
  BenchHeader header;

  if (gst_buffer_extract (buffer, 0, &header, sizeof header) !=
      sizeof header || header.magic != HEADER_MAGIC) {
    g_mutex_lock (&state->lock);
    state->bad++;
    g_mutex_unlock (&state->lock);
    return GST_PAD_PROBE_OK;
  }
  g_mutex_lock (&state->lock);
  if (state->recording) {
    if (header.sequence != state->last_sequence + 1)
      state->gaps++;
    if (state->latencies != NULL && header.stamp_ns != 0) {
      gint64 latency = now - header.stamp_ns;

      g_array_append_val (state->latencies, latency);
    }
  }
  state->last_sequence = header.sequence;
  state->last_ns = now;
  state->buffers++;
  g_mutex_unlock (&state->lock);
  return GST_PAD_PROBE_OK;
}

static gboolean
add_probe (GstElement * pipeline, const gchar * name, GstPadProbeCallback cb,
    gpointer user_data)
{
  GstElement *element = gst_bin_get_by_name (GST_BIN (pipeline), name);
  GstPad *pad;

  if (element == NULL)
    return FALSE;
  pad = gst_element_get_static_pad (element, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, cb, user_data, NULL);
  gst_object_unref (pad);
  gst_object_unref (element);
  return TRUE;
}

/* ---- child processes: roles -------------------------------------------- */

typedef struct
{
  GMainLoop *loop;
  gboolean failed;
} ProducerRun;

/* The driver closes our stdin when the consumer is done. */
static gboolean
stdin_ready (GIOChannel * channel, GIOCondition condition, gpointer user_data)
{
  ProducerRun *run = user_data;
  gchar buf[64];

  if (read (STDIN_FILENO, buf, sizeof buf) > 0)
    return G_SOURCE_CONTINUE;
  g_main_loop_quit (run->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
producer_bus (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  ProducerRun *run = user_data;

  if (report_message (msg, "producer")) {
    run->failed = TRUE;
    g_main_loop_quit (run->loop);
  }
  return G_SOURCE_CONTINUE;
}

/* Where the consumer connects: the socket path, or the port tcpserversink
 * picked. */
static gchar *
producer_endpoint (GstElement * pipeline, const ChildOptions * options)
{
  GstElement *server;
  gint port = 0;

  if (options->transport != TRANSPORT_TCP)
    return g_strdup (options->endpoint);
  server = gst_bin_get_by_name (GST_BIN (pipeline), "server");
  g_object_get (server, "current-port", &port, NULL);
  gst_object_unref (server);
  return g_strdup_printf ("%d", port);
}

/* What went into the transport: printed by every process that has the
 * producer's half, for the driver to check. */
static void
print_producer_stats (GstElement * pipeline, const ChildOptions * options,
    const ProducerState * state)
{
  guint64 sent = 0, copied = 0;

  if (options->transport == TRANSPORT_IPC) {
    GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "entry");

    g_object_get (sink, "buffers-sent", &sent, "buffers-copied", &copied, NULL);
    gst_object_unref (sink);
  }
  g_print ("STATS sent=%" G_GUINT64_FORMAT " copied=%" G_GUINT64_FORMAT
      " memory=%s\n", sent, copied, state->memory[0] ? state->memory : "none");
}

static int
run_producer (const ChildOptions * options)
{
  g_autofree gchar *description = producer_description (options);
  g_autofree gchar *endpoint = NULL;
  ProducerState state = {.stamp = options->mode == MODE_LATENCY };
  ProducerRun run = { NULL, FALSE };
  GstElement *pipeline = launch (description);
  GIOChannel *input;
  GstBus *bus;

  if (pipeline == NULL ||
      !add_probe (pipeline, "entry", producer_probe, &state))
    return 1;
  run.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, producer_bus, &run);
  input = g_io_channel_unix_new (STDIN_FILENO);
  g_io_add_watch (input, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_ready, &run);

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_printerr ("producer: cannot start \"%s\"\n", description);
    run.failed = TRUE;
  } else {
    /* The sink listens once set_state returned: READY→PAUSED started it,
     * even if prerolling waits for the consumer. */
    endpoint = producer_endpoint (pipeline, options);
    g_print ("READY %s\n", endpoint);
    fflush (stdout);
    g_main_loop_run (run.loop);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  print_producer_stats (pipeline, options, &state);

  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  g_io_channel_unref (input);
  g_main_loop_unref (run.loop);
  gst_object_unref (pipeline);
  return run.failed ? 1 : 0;
}

/* Pops bus messages until @deadline (or, with @first_buffer, until a buffer
 * arrived). FALSE on an error, an end of stream, or no first buffer. */
static gboolean
watch_bus_until (GstBus * bus, ConsumerState * state, gint64 deadline,
    gboolean first_buffer)
{
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 20 * GST_MSECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_WARNING | GST_MESSAGE_EOS);
    gboolean seen;

    if (msg != NULL) {
      gboolean fatal = report_message (msg, "consumer");

      if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
        g_printerr ("consumer: unexpected end of stream\n");
        fatal = TRUE;
      }
      gst_message_unref (msg);
      if (fatal)
        return FALSE;
    }
    g_mutex_lock (&state->lock);
    seen = state->buffers > 0;
    g_mutex_unlock (&state->lock);
    if (first_buffer && seen)
      return TRUE;
    if (bench_now_ns () >= deadline) {
      if (first_buffer)
        g_printerr ("consumer: no buffer within %d s\n", START_TIMEOUT_SECONDS);
      return !first_buffer;
    }
  }
}

typedef struct
{
  guint64 buffers;
  gint64 elapsed_ns;
} Window;

/* Waits for the first buffer, warms up, then counts for @seconds. The
 * window runs from the last buffer before it opened to the last buffer
 * before it closed, both as the probe timed them. */
static gboolean
measure (GstBus * bus, ConsumerState * state, gdouble seconds, Window * window)
{
  guint64 buffers;
  gint64 start_ns;

  if (!watch_bus_until (bus, state, bench_now_ns () + START_TIMEOUT_SECONDS *
          G_GINT64_CONSTANT (1000000000), TRUE) ||
      !watch_bus_until (bus, state, bench_now_ns () + WARM_UP_SECONDS * 1e9,
          FALSE))
    return FALSE;
  g_mutex_lock (&state->lock);
  buffers = state->buffers;
  start_ns = state->last_ns;
  state->recording = TRUE;
  g_mutex_unlock (&state->lock);

  if (!watch_bus_until (bus, state, bench_now_ns () + seconds * 1e9, FALSE))
    return FALSE;
  g_mutex_lock (&state->lock);
  state->recording = FALSE;
  window->buffers = state->buffers - buffers;
  window->elapsed_ns = state->last_ns - start_ns;
  g_mutex_unlock (&state->lock);
  if (window->buffers == 0)
    g_printerr ("consumer: no buffer for %.2f s\n", seconds);
  return window->buffers > 0;
}

static void
print_consumer_results (const ConsumerState * state, const Window * window)
{
  g_print ("RESULT buffers=%" G_GUINT64_FORMAT " elapsed_ns=%"
      G_GINT64_FORMAT " gaps=%" G_GUINT64_FORMAT " bad=%" G_GUINT64_FORMAT
      " total=%" G_GUINT64_FORMAT "\n", window->buffers, window->elapsed_ns,
      state->gaps, state->bad, state->buffers);
  if (state->latencies == NULL)
    return;
  g_print ("LATENCY");
  for (guint i = 0; i < state->latencies->len; i++)
    g_print (" %" G_GINT64_FORMAT, g_array_index (state->latencies, gint64, i));
  g_print ("\n");
}

/* The consumer; for the in-process case, the whole pipeline. */
static int
run_consumer (const ChildOptions * options)
{
  g_autofree gchar *description = consumer_description (options);
  ProducerState producer = {.stamp = options->mode == MODE_LATENCY };
  ConsumerState state = { 0, };
  GstElement *pipeline = launch (description);
  gboolean in_process = options->transport == TRANSPORT_IN_PROCESS;
  Window window = { 0, 0 };
  gboolean ok;
  GstBus *bus;

  g_mutex_init (&state.lock);
  if (pipeline == NULL || (in_process && !add_probe (pipeline, "entry",
              producer_probe, &producer)) ||
      !add_probe (pipeline, "sink", consumer_probe, &state))
    return 1;
  if (options->mode == MODE_LATENCY)
    state.latencies = g_array_sized_new (FALSE, FALSE, sizeof (gint64),
        (guint) (options->seconds * options->payload->latency_rate * 1.2) + 16);
  bus = gst_element_get_bus (pipeline);
  ok = gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE;
  if (!ok)
    g_printerr ("consumer: cannot start \"%s\"\n", description);
  ok = ok && measure (bus, &state, options->seconds, &window);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  /* Errors posted while starting. */
  if (!ok)
    watch_bus_until (bus, &state, bench_now_ns (), FALSE);
  if (ok)
    print_consumer_results (&state, &window);
  if (in_process)
    print_producer_stats (pipeline, options, &producer);

  if (state.latencies)
    g_array_unref (state.latencies);
  g_mutex_clear (&state.lock);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return ok ? 0 : 1;
}

/* ---- driver: child processes ------------------------------------------- */

typedef struct
{
  const gchar *what;            /* "producer", "consumer" */
  GPid pid;
  int stdin_fd;
  int stdout_fd;
  GString *out;
} Child;

static gint64
deadline_in (gdouble seconds)
{
  return bench_now_ns () + (gint64) (seconds * 1e9);
}

static gboolean
child_spawn (Child * child, const gchar * what, gchar ** argv,
    gboolean with_stdin, gchar ** failure)
{
  g_autoptr (GError) error = NULL;

  memset (child, 0, sizeof *child);
  child->what = what;
  child->pid = -1;
  child->stdin_fd = child->stdout_fd = -1;
  child->out = g_string_new (NULL);
  if (!g_spawn_async_with_pipes (NULL, argv, NULL,
          G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CLOEXEC_PIPES, NULL, NULL,
          &child->pid, with_stdin ? &child->stdin_fd : NULL,
          &child->stdout_fd, NULL, &error)) {
    *failure = g_strdup_printf ("cannot start the %s: %s", what,
        error->message);
    child->pid = -1;
    return FALSE;
  }
  return TRUE;
}

/* Reads the child's stdout into child->out until a line starting with
 * @prefix arrived (or, with @prefix NULL, until end of file). FALSE at the
 * deadline or at an end of file that came first. */
static gboolean
child_read (Child * child, const gchar * prefix, gint64 deadline)
{
  for (;;) {
    struct pollfd pfd = {.fd = child->stdout_fd,.events = POLLIN };
    gint64 left_ms = (deadline - bench_now_ns ()) / 1000000;
    gchar buf[65536];
    ssize_t n;

    if (prefix != NULL) {
      const gchar *line = strstr (child->out->str, prefix);

      if (line != NULL && strchr (line, '\n') != NULL)
        return TRUE;
    }
    if (left_ms <= 0)
      return FALSE;
    if (poll (&pfd, 1, (int) MIN (left_ms, 1000)) < 0 && errno != EINTR)
      return FALSE;
    if (pfd.revents == 0)
      continue;
    n = read (child->stdout_fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n <= 0)
      return prefix == NULL;
    g_string_append_len (child->out, buf, n);
  }
}

/* Waits for the child to exit; at the deadline kills it. TRUE if it exited
 * by itself with status 0. */
static gboolean
child_wait (Child * child, gint64 deadline, gchar ** failure)
{
  int status = 0;

  while (child->pid > 0) {
    pid_t ret = waitpid (child->pid, &status, WNOHANG);

    if (ret == child->pid || (ret < 0 && errno != EINTR))
      break;
    if (bench_now_ns () >= deadline) {
      if (*failure == NULL)
        *failure = g_strdup_printf ("the %s hung (killed)", child->what);
      kill (child->pid, SIGKILL);
      waitpid (child->pid, &status, 0);
      child->pid = -1;
      return FALSE;
    }
    g_usleep (5000);
  }
  child->pid = -1;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return TRUE;
  if (*failure == NULL)
    *failure = WIFSIGNALED (status) ?
        g_strdup_printf ("the %s died of signal %d", child->what,
        WTERMSIG (status)) : g_strdup_printf ("the %s failed (exit %d)",
        child->what, WEXITSTATUS (status));
  return FALSE;
}

static void
child_clear (Child * child)
{
  if (child->pid > 0) {
    kill (child->pid, SIGKILL);
    waitpid (child->pid, NULL, 0);
    child->pid = -1;
  }
  if (child->stdin_fd >= 0)
    close (child->stdin_fd);
  if (child->stdout_fd >= 0)
    close (child->stdout_fd);
  child->stdin_fd = child->stdout_fd = -1;
  if (child->out)
    g_string_free (child->out, TRUE);
  child->out = NULL;
}

/* The value after "@key=" in @text, from the line starting with @line. */
static gboolean
find_value (const gchar * text, const gchar * line, const gchar * key,
    gchar ** value)
{
  const gchar *start = strstr (text, line), *end, *found;
  g_autofree gchar *pattern = g_strdup_printf (" %s=", key);

  if (start == NULL || (end = strchr (start, '\n')) == NULL)
    return FALSE;
  found = g_strstr_len (start, end - start, pattern);
  if (found == NULL)
    return FALSE;
  found += strlen (pattern);
  *value = g_strndup (found, strcspn (found, " \n"));
  return TRUE;
}

static guint64
find_number (const gchar * text, const gchar * line, const gchar * key)
{
  g_autofree gchar *value = NULL;

  if (!find_value (text, line, key, &value))
    return 0;
  return g_ascii_strtoull (value, NULL, 10);
}

/* ---- driver: cases ----------------------------------------------------- */

typedef struct
{
  Transport transport;
  const Payload *payload;
  BenchMode mode;
  gint runs;                    /* completed */
  gdouble per_second[MAX_RUNS]; /* throughput of each run */
  gdouble run_p50[MAX_RUNS];    /* latency: each run's median, ns */
  GArray *latencies;            /* latency: every buffer of every run, ns */
  guint64 gaps, bad, sent, copied;
  gchar *memory;                /* what the producer's buffers were */
  gchar *failure;               /* the first failure: no more runs */
  /* summary */
  gdouble median, spread;       /* buffers/s */
  gdouble p50, p99, max;        /* ns */
  gdouble p50_spread;           /* of the runs' medians */
} BenchCase;

typedef struct
{
  gint runs;
  gdouble seconds;
  gdouble latency_seconds;
  gboolean markdown;
  gchar *transports;
  gchar *payloads;
  gchar *modes;
  /* a child process's part */
  gchar *role;
  gchar *transport;
  gchar *payload;
  gchar *mode;
  gchar *endpoint;
} BenchOptions;

static gchar **
child_argv (const gchar * exe, const gchar * role, const BenchCase * c,
    const gchar * endpoint, gdouble seconds)
{
  gchar **argv = g_new0 (gchar *, 8);

  argv[0] = g_strdup (exe);
  argv[1] = g_strdup_printf ("--role=%s", role);
  argv[2] = g_strdup_printf ("--transport=%s", transport_names[c->transport]);
  argv[3] = g_strdup_printf ("--payload=%s", c->payload->name);
  argv[4] = g_strdup_printf ("--mode=%s", mode_names[c->mode]);
  argv[5] = g_strdup_printf ("--endpoint=%s", endpoint);
  argv[6] = g_strdup_printf ("--seconds=%.3f", seconds);
  return argv;
}

/* Starts the producer and waits until it listens; sets @endpoint to where
 * the consumer connects. */
static gboolean
start_producer (Child * producer, gchar ** argv, gchar ** endpoint,
    gchar ** failure)
{
  g_autofree gchar *value = NULL;
  const gchar *line;

  if (!child_spawn (producer, "producer", argv, TRUE, failure))
    return FALSE;
  if (!child_read (producer, "READY ", deadline_in (START_TIMEOUT_SECONDS))) {
    *failure = g_strdup ("the producer did not start");
    return FALSE;
  }
  line = strstr (producer->out->str, "READY ") + strlen ("READY ");
  *endpoint = g_strndup (line, strcspn (line, "\n"));
  return TRUE;
}


static gint
compare_int64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

/* Nearest-rank percentile of sorted values. */
static gdouble
percentile (const gint64 * sorted, guint n, gdouble p)
{
  guint rank = (guint) MAX (1.0, (gdouble) n * p + 0.999999);

  return n == 0 ? 0 : (gdouble) sorted[MIN (rank, n) - 1];
}

/* Takes the consumer's (and producer's) output of one run into the case. */
static gboolean
collect_run (BenchCase * c, const gchar * consumer_out,
    const gchar * producer_out, gchar ** failure)
{
  const gchar *latency_line = strstr (consumer_out, "LATENCY");
  guint64 buffers = find_number (consumer_out, "RESULT", "buffers");
  guint64 elapsed = find_number (consumer_out, "RESULT", "elapsed_ns");
  g_autofree gchar *memory = NULL;

  if (buffers == 0 || elapsed == 0) {
    *failure = g_strdup ("the consumer reported nothing");
    return FALSE;
  }
  c->per_second[c->runs] = buffers * 1e9 / elapsed;
  c->gaps += find_number (consumer_out, "RESULT", "gaps");
  c->bad += find_number (consumer_out, "RESULT", "bad");
  c->sent += find_number (producer_out, "STATS", "sent");
  c->copied += find_number (producer_out, "STATS", "copied");
  if (c->memory == NULL && find_value (producer_out, "STATS", "memory",
          &memory))
    c->memory = g_steal_pointer (&memory);

  if (c->mode == MODE_LATENCY) {
    const gchar *p = latency_line ? latency_line + strlen ("LATENCY") : "";
    guint first = c->latencies->len;
    GArray *run = g_array_new (FALSE, FALSE, sizeof (gint64));

    for (gchar * end = NULL; *p == ' '; p = end) {
      gint64 ns = g_ascii_strtoll (p, &end, 10);

      g_array_append_val (run, ns);
    }
    g_array_append_vals (c->latencies, run->data, run->len);
    g_array_sort (run, compare_int64);
    c->run_p50[c->runs] = percentile ((gint64 *) run->data, run->len, 0.5);
    g_array_unref (run);
    if (c->latencies->len == first) {
      *failure = g_strdup ("no latency sample");
      return FALSE;
    }
  }
  c->runs++;
  return TRUE;
}

/* One run of one case: producer (unless in-process), consumer, results. */
static void
run_case (BenchCase * c, gint run, const BenchOptions * options,
    const gchar * exe, const gchar * dir)
{
  gdouble seconds = c->mode == MODE_LATENCY ? options->latency_seconds :
      options->seconds;
  g_autofree gchar *endpoint = g_strdup_printf ("%s/%s-%s-%c%d", dir,
      transport_names[c->transport], c->payload->name, mode_names[c->mode][0],
      run);
  g_autofree gchar *connect_to = NULL;
  gchar *failure = NULL;
  Child producer = {.pid = -1,.stdin_fd = -1,.stdout_fd = -1 };
  Child consumer = producer;
  gboolean in_process = c->transport == TRANSPORT_IN_PROCESS;
  g_auto (GStrv) producer_argv = child_argv (exe, "producer", c, endpoint,
      seconds);
  g_auto (GStrv) consumer_argv = NULL;

  if (in_process || start_producer (&producer, producer_argv, &connect_to,
          &failure)) {
    consumer_argv = child_argv (exe, in_process ? "in-process" : "consumer",
        c, in_process ? endpoint : connect_to, seconds);
    if (child_spawn (&consumer, "consumer", consumer_argv, FALSE, &failure)) {
      gint64 deadline = deadline_in (START_TIMEOUT_SECONDS + WARM_UP_SECONDS
          + seconds + STOP_TIMEOUT_SECONDS);

      child_read (&consumer, NULL, deadline);
      child_wait (&consumer, deadline, &failure);
    }
  }
  if (producer.pid > 0) {
    gint64 deadline = deadline_in (STOP_TIMEOUT_SECONDS);

    /* End of file on its stdin: the producer stops. */
    close (producer.stdin_fd);
    producer.stdin_fd = -1;
    child_read (&producer, NULL, deadline);
    child_wait (&producer, deadline, &failure);
  }
  if (failure == NULL)
    collect_run (c, consumer.out->str, in_process ? consumer.out->str :
        producer.out->str, &failure);
  if (failure != NULL) {
    c->failure = g_strdup_printf ("run %d: %s", run + 1, failure);
    g_free (failure);
  }
  child_clear (&producer);
  child_clear (&consumer);
}

static void
summarize_case (BenchCase * c)
{
  gdouble sorted[MAX_RUNS];
  gint n = c->runs;

  if (n == 0)
    return;
  memcpy (sorted, c->per_second, n * sizeof (gdouble));
  qsort (sorted, n, sizeof (gdouble), bench_compare_doubles);
  c->median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  c->spread = (sorted[n - 1] - sorted[0]) / c->median;
  if (c->mode != MODE_LATENCY)
    return;
  g_array_sort (c->latencies, compare_int64);
  c->p50 = percentile ((gint64 *) c->latencies->data, c->latencies->len, 0.5);
  c->p99 = percentile ((gint64 *) c->latencies->data, c->latencies->len, 0.99);
  c->max = percentile ((gint64 *) c->latencies->data, c->latencies->len, 1);
  memcpy (sorted, c->run_p50, n * sizeof (gdouble));
  qsort (sorted, n, sizeof (gdouble), bench_compare_doubles);
  c->p50_spread = (sorted[n - 1] - sorted[0]) / sorted[n / 2];
}

/* ---- driver: reports --------------------------------------------------- */

static BenchCase *
find_case (GPtrArray * cases, const Payload * payload, Transport transport,
    BenchMode mode)
{
  for (guint i = 0; i < cases->len; i++) {
    BenchCase *c = g_ptr_array_index (cases, i);

    if (c->payload == payload && c->transport == transport && c->mode == mode)
      return c;
  }
  return NULL;
}


static gchar *
format_us (gdouble ns)
{
  if (ns < 100000)
    return g_strdup_printf ("%.1f", ns / 1000);
  return bench_group_digits (ns / 1000);
}

/* Where the producer wrote its data, as the first buffer entering the
 * transport showed, and whether ipcsink had to copy. */
static gchar *
memory_description (const BenchCase * c)
{
  if (c->memory == NULL)
    return g_strdup ("?");
  if (c->transport == TRANSPORT_IPC && c->copied > 0)
    return g_strdup_printf ("%s; ipcsink copied %.0f%% into its arena",
        g_str_equal (c->memory, GST_ALLOCATOR_SYSMEM) ? "system memory" :
        c->memory, 100.0 * c->copied / MAX (c->sent, 1));
  if (g_str_equal (c->memory, "pxarena"))
    return g_strdup ("ipcsink's arena pool");
  if (g_str_equal (c->memory, GST_ALLOCATOR_SYSMEM))
    return g_strdup ("system memory");
  if (g_str_equal (c->memory, "GstShmSinkAllocator"))
    return g_strdup ("shmsink's shared memory");
  return g_strdup (c->memory);
}

/* Throughput relative to the in-process anchor; 0 if there is none. */
static gdouble
vs_in_process (GPtrArray * cases, const BenchCase * c)
{
  BenchCase *anchor = find_case (cases, c->payload, TRANSPORT_IN_PROCESS,
      MODE_THROUGHPUT);

  if (anchor == NULL || anchor->failure || c->failure || anchor->median == 0)
    return 0;
  return c->median / anchor->median;
}

static void
print_throughput_row (GPtrArray * cases, const BenchCase * c, gboolean markdown)
{
  g_autofree gchar *rate = bench_group_digits (c->median);
  g_autofree gchar *mbps =
      bench_group_digits (c->median * c->payload->size / 1e6);
  g_autofree gchar *memory = memory_description (c);
  g_autofree gchar *ratio = g_strdup_printf ("%.2fx",
      vs_in_process (cases, c));

  if (c->failure != NULL && markdown)
    g_print ("| %s | %s | failed: %s | | | |\n", c->payload->title,
        transport_titles[c->transport], c->failure);
  else if (c->failure != NULL)
    g_print ("%-20s %-28s FAILED: %s\n", c->payload->title,
        transport_titles[c->transport], c->failure);
  else if (markdown)
    g_print ("| %s | %s | %s | %s | %s | %s |\n", c->payload->title,
        transport_titles[c->transport], rate, mbps, ratio, memory);
  else
    g_print ("%-20s %-28s %11s %9s %7s %6.1f%% %6" G_GUINT64_FORMAT "  %s\n",
        c->payload->title, transport_titles[c->transport], rate, mbps, ratio,
        c->spread * 100, c->gaps, memory);
}

static void
print_latency_row (const BenchCase * c, gboolean markdown)
{
  g_autofree gchar *p50 = format_us (c->p50);
  g_autofree gchar *p99 = format_us (c->p99);
  g_autofree gchar *max = format_us (c->max);
  g_autofree gchar *n = bench_group_digits (c->latencies->len);

  if (c->failure != NULL && markdown)
    g_print ("| %s | %s | | failed: %s | | | |\n", c->payload->title,
        transport_titles[c->transport], c->failure);
  else if (c->failure != NULL)
    g_print ("%-20s %-28s FAILED: %s\n", c->payload->title,
        transport_titles[c->transport], c->failure);
  else if (markdown)
    g_print ("| %s | %s | %u | %s | %s | %s | %s |\n", c->payload->title,
        transport_titles[c->transport], c->payload->latency_rate, p50, p99,
        max, n);
  else
    g_print ("%-20s %-28s %6u %9s %9s %9s %6.1f%% %8s\n", c->payload->title,
        transport_titles[c->transport], c->payload->latency_rate, p50, p99,
        max, c->p50_spread * 100, n);
}

static void
print_tables (GPtrArray * cases, const BenchOptions * options)
{
  gdouble worst = 0;
  guint64 gaps = 0;
  gboolean any[N_MODES] = { FALSE, FALSE };

  for (guint i = 0; i < cases->len; i++) {
    BenchCase *c = g_ptr_array_index (cases, i);

    any[c->mode] = TRUE;
    gaps += c->gaps + c->bad;
    if (c->mode == MODE_THROUGHPUT && !c->failure)
      worst = MAX (worst, c->spread);
  }
  if (any[MODE_THROUGHPUT]) {
    if (options->markdown)
      g_print ("| Payload | Transport | buffers/s | MB/s | vs in-process "
          "| producer writes into |\n|---|---|---:|---:|---:|---|\n");
    else
      g_print ("Throughput (median of %d runs of ~%.2f s; vs in-process: "
          "throughput / in-process throughput)\n\n%-20s %-28s %11s %9s %7s "
          "%7s %6s  %s\n", options->runs, options->seconds, "payload",
          "transport", "buffers/s", "MB/s", "vs inp", "spread", "gaps",
          "producer writes into");
    for (guint i = 0; i < cases->len; i++) {
      BenchCase *c = g_ptr_array_index (cases, i);

      if (c->mode == MODE_THROUGHPUT)
        print_throughput_row (cases, c, options->markdown);
    }
    if (options->markdown)
      g_print ("\nMedian of %d runs of ~%.2f s per case; largest run-to-run "
          "spread ((max - min) / median) of any case: %.0f%%.\n",
          options->runs, options->seconds, worst * 100);
  }
  if (any[MODE_LATENCY]) {
    if (options->markdown)
      g_print ("\n| Payload | Transport | buffers/s | p50 (us) | p99 (us) "
          "| max (us) | buffers |\n|---|---|---:|---:|---:|---:|---:|\n");
    else
      g_print ("\nLatency (every buffer of %d runs of ~%.2f s; spread: of "
          "the runs' p50)\n\n%-20s %-28s %6s %9s %9s %9s %7s %8s\n",
          options->runs, options->latency_seconds, "payload", "transport",
          "rate", "p50 us", "p99 us", "max us", "spread", "buffers");
    for (guint i = 0; i < cases->len; i++) {
      BenchCase *c = g_ptr_array_index (cases, i);

      if (c->mode == MODE_LATENCY)
        print_latency_row (c, options->markdown);
    }
    if (options->markdown)
      g_print ("\nPercentiles over every buffer of %d runs of ~%.2f s per "
          "case.\n", options->runs, options->latency_seconds);
  }
  if (gaps > 0)
    g_print ("\nWARNING: %" G_GUINT64_FORMAT " buffers were lost, repeated "
        "or garbled on the way (see the gaps column)\n", gaps);
}

static void
print_verdict_line (const gchar * what, gdouble value, const gchar * unit,
    const gchar * target, gboolean met, gboolean known)
{
  if (!known)
    g_print ("  %-46s not measured\n", what);
  else
    g_print ("  %-46s %10.2f%-3s (%s)  %s\n", what, value, unit, target,
        met ? "met" : "MISSED");
}

static void
print_verdict (GPtrArray * cases)
{
  g_print ("\nTargets for ipcsink / ipcsrc:\n");
  for (guint p = 0; p < N_PAYLOADS; p++) {
    const Payload *payload = &payloads[p];
    BenchCase *ipc = find_case (cases, payload, TRANSPORT_IPC,
        MODE_THROUGHPUT);
    BenchCase *shm = find_case (cases, payload, TRANSPORT_SHM,
        MODE_THROUGHPUT);
    BenchCase *lat = find_case (cases, payload, TRANSPORT_IPC, MODE_LATENCY);
    gboolean have_ipc = ipc != NULL && ipc->failure == NULL;
    g_autofree gchar *what = NULL;

    if (payload->video && have_ipc) {
      gdouble ratio = vs_in_process (cases, ipc);
      gboolean have_shm = shm != NULL && shm->failure == NULL;

      what = g_strdup_printf ("%s throughput vs in-process", payload->title);
      print_verdict_line (what, ratio, "x", ">= 0.95x",
          ratio >= TARGET_VIDEO_VS_IN_PROCESS, ratio > 0);
      g_free (what);
      what = g_strdup_printf ("%s throughput vs shmsink/shmsrc",
          payload->title);
      print_verdict_line (what, have_shm ? ipc->median / shm->median : 0, "x",
          ">= 1.00x", have_shm && ipc->median >= shm->median, have_shm);
      g_clear_pointer (&what, g_free);
    } else if (have_ipc) {
      what = g_strdup_printf ("%s across processes", payload->title);
      print_verdict_line (what, ipc->median / 1000, "k/s", ">= 100k/s",
          ipc->median >= TARGET_SMALL_BUFFERS_PER_SECOND, TRUE);
      g_clear_pointer (&what, g_free);
    }
    if (lat != NULL) {
      what = g_strdup_printf ("%s p99 latency", payload->title);
      print_verdict_line (what, lat->p99 / 1000, "us", "<= 100 us",
          lat->p99 <= TARGET_P99_US * 1000, lat->failure == NULL);
    }
  }
}

/* ---- options and main -------------------------------------------------- */

static gboolean
parse_options (int *argc, char ***argv, BenchOptions * options)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    {"runs", 'r', 0, G_OPTION_ARG_INT, &options->runs,
        "Measured runs per case (default 7)", "N"},
    {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &options->seconds,
        "Length of one throughput run, after a warm-up (default 0.5)", "S"},
    {"latency-seconds", 'l', 0, G_OPTION_ARG_DOUBLE,
          &options->latency_seconds,
        "Length of one latency run, after a warm-up (default 2)", "S"},
    {"markdown", 'm', 0, G_OPTION_ARG_NONE, &options->markdown,
        "Print markdown tables", NULL},
    {"transports", 't', 0, G_OPTION_ARG_STRING, &options->transports,
        "Only these, comma-separated: in-process,ipc,shm,tcp", "LIST"},
    {"payloads", 'p', 0, G_OPTION_ARG_STRING, &options->payloads,
        "Only these, comma-separated: 4k,1080p,4kib,4kib-video,4k-written,"
          "1080p-written", "LIST"},
    {"modes", 0, 0, G_OPTION_ARG_STRING, &options->modes,
        "Only these, comma-separated: throughput,latency", "LIST"},
    {"role", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &options->role,
        NULL, NULL},
    {"transport", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING,
        &options->transport, NULL, NULL},
    {"payload", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING,
        &options->payload, NULL, NULL},
    {"mode", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &options->mode,
        NULL, NULL},
    {"endpoint", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING,
        &options->endpoint, NULL, NULL},
    {NULL}
  };

  context = g_option_context_new ("- ipcsink/ipcsrc against in-process, "
      "shm and tcp transports");
  g_option_context_set_description (context,
      "The Parallax plugin must be on the plugin path: run under\n"
      "`meson devenv -C <builddir>`, or set GST_PLUGIN_PATH to\n"
      "<builddir>/gst-plugin. Results and how to read them: "
      "docs/benchmarks.md.\n");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, argc, argv, &error)) {
    g_printerr ("%s\n", error->message);
    return FALSE;
  }
  if (options->runs < 1 || options->runs > MAX_RUNS ||
      !(options->seconds > 0 && options->seconds <= 60) ||
      !(options->latency_seconds > 0 && options->latency_seconds <= 600)) {
    g_printerr ("--runs must be 1..%d, --seconds in (0, 60], "
        "--latency-seconds in (0, 600]\n", MAX_RUNS);
    return FALSE;
  }
  return TRUE;
}

/* TRUE if @name is in the comma-separated @list (or there is no list). */
static gboolean
selected (const gchar * list, const gchar * name)
{
  g_auto (GStrv) names = NULL;

  if (list == NULL)
    return TRUE;
  names = g_strsplit (list, ",", -1);
  return g_strv_contains ((const gchar * const *) names, name);
}

static gint
index_of (const gchar * const *names, guint n, const gchar * name)
{
  for (guint i = 0; name != NULL && i < n; i++)
    if (g_str_equal (names[i], name))
      return (gint) i;
  return -1;
}

static int
run_child (const BenchOptions * options)
{
  ChildOptions child = {.role = options->role,.endpoint = options->endpoint,
    .seconds = options->seconds
  };
  gint t = index_of (transport_names, N_TRANSPORTS, options->transport);
  gint m = index_of (mode_names, N_MODES, options->mode);
  gint p = -1;

  for (guint i = 0; options->payload && i < N_PAYLOADS; i++)
    if (g_str_equal (payloads[i].name, options->payload))
      p = (gint) i;
  if (t < 0 || m < 0 || p < 0 || options->endpoint == NULL) {
    g_printerr ("bad child options\n");
    return 2;
  }
  child.transport = t;
  child.mode = m;
  child.payload = &payloads[p];
  if (!gst_element_register (NULL, "benchsrc", GST_RANK_NONE,
          GST_TYPE_BENCH_SRC))
    return 1;
  if (g_str_equal (options->role, "producer"))
    return run_producer (&child);
  if (g_str_equal (options->role, "consumer") ||
      g_str_equal (options->role, "in-process"))
    return run_consumer (&child);
  g_printerr ("unknown role %s\n", options->role);
  return 2;
}

/* Every element the cases use, so that a missing plugin is said plainly
 * rather than as twelve failed runs. */
static gboolean
elements_available (void)
{
  const gchar *needed[] = { "ipcsink", "ipcsrc", "shmsink", "shmsrc",
    "tcpserversink", "tcpclientsrc", "gdppay", "gdpdepay", "queue",
    "fakesink"
  };
  gboolean ok = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (needed); i++) {
    GstElementFactory *factory = gst_element_factory_find (needed[i]);

    if (factory == NULL) {
      g_printerr ("element %s not found%s\n", needed[i],
          g_str_has_prefix (needed[i], "ipc") ? " (run under `meson devenv "
          "-C <builddir>`, or set GST_PLUGIN_PATH to <builddir>/gst-plugin)"
          : "");
      ok = FALSE;
    }
    gst_clear_object (&factory);
  }
  return ok;
}

static GPtrArray *
make_cases (const BenchOptions * options)
{
  GPtrArray *cases = g_ptr_array_new ();

  for (guint p = 0; p < N_PAYLOADS; p++)
    for (gint m = 0; m < N_MODES; m++)
      for (gint t = 0; t < N_TRANSPORTS; t++) {
        BenchCase *c;

        if (!selected (options->payloads, payloads[p].name) ||
            !selected (options->modes, mode_names[m]) ||
            !selected (options->transports, transport_names[t]) ||
            (m == MODE_LATENCY && payloads[p].latency_rate == 0))
          continue;
        c = g_new0 (BenchCase, 1);
        c->payload = &payloads[p];
        c->transport = t;
        c->mode = m;
        c->latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
        g_ptr_array_add (cases, c);
      }
  return cases;
}

static void
free_case (gpointer data)
{
  BenchCase *c = data;

  g_array_unref (c->latencies);
  g_free (c->memory);
  g_free (c->failure);
  g_free (c);
}

/* Removes what a killed producer may have left in @dir, then @dir. */
static void
remove_directory (const gchar * dir)
{
  GDir *listing = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (listing && (name = g_dir_read_name (listing)) != NULL) {
    g_autofree gchar *path = g_build_filename (dir, name, NULL);

    unlink (path);
  }
  if (listing)
    g_dir_close (listing);
  rmdir (dir);
}

static gboolean
run_all (GPtrArray * cases, const BenchOptions * options)
{
  g_autofree gchar *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree gchar *dir = g_dir_make_tmp ("px-bench-XXXXXX", NULL);
  gboolean ok = TRUE;

  if (exe == NULL || dir == NULL) {
    g_printerr ("cannot find this program or make a temporary directory\n");
    return FALSE;
  }
  for (gint run = 0; run < options->runs; run++) {
    g_printerr ("run %d/%d\n", run + 1, options->runs);
    for (guint i = 0; i < cases->len; i++) {
      BenchCase *c = g_ptr_array_index (cases, i);

      if (c->failure == NULL)
        run_case (c, run, options, exe, dir);
      if (c->failure != NULL && c->runs == run) {
        g_printerr ("  %s %s %s: %s\n", transport_names[c->transport],
            c->payload->name, mode_names[c->mode], c->failure);
        ok = FALSE;
      }
    }
  }
  remove_directory (dir);
  for (guint i = 0; i < cases->len; i++)
    summarize_case (g_ptr_array_index (cases, i));
  return ok;
}

int
main (int argc, char **argv)
{
  BenchOptions options = {.runs = 7,.seconds = 0.5,.latency_seconds = 2 };
  GPtrArray *cases;
  gboolean ok;

  if (!parse_options (&argc, &argv, &options))
    return 2;
  if (options.role != NULL)
    return run_child (&options);
  if (!elements_available ())
    return 1;

  cases = make_cases (&options);
  if (cases->len == 0) {
    g_printerr ("no case selected\n");
    g_ptr_array_unref (cases);
    return 2;
  }
  ok = run_all (cases, &options);
  print_tables (cases, &options);
  print_verdict (cases);
  g_ptr_array_set_free_func (cases, free_case);
  g_ptr_array_unref (cases);
  return ok ? 0 : 1;
}
