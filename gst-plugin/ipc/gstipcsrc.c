/* Parallax — ipcsrc: receive buffers from another process's ipcsink.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-ipcsrc
 * @title: ipcsrc
 * @see_also: ipcsink
 *
 * Receives buffers, caps, timestamps, flags, video meta and events from an
 * ipcsink in another process. Each arena the producer announces is checked
 * (a memfd of the announced size, sealed so that it can neither shrink nor
 * grow, nor be written by anyone but its creator), mapped once, read-only,
 * and its slots are wrapped as read-only #GstFdMemory: nothing is copied.
 * When the last reference to a buffer goes away the producer is told, in
 * batches, that it may reuse the slot.
 *
 * By default ipcsrc is a live source: buffers keep the running time they had
 * in the producer's pipeline, converted through the monotonic clock since
 * the two pipelines started at different times, and the LATENCY query
 * answers the producer's latency. With #GstIpcSrc:is-live=false it behaves
 * like an ordinary element in the middle of a pipeline (what sandboxbin
 * needs): timestamps and segments pass unchanged and it prerolls.
 *
 * With #GstIpcSrc:fd (an already-connected socket) upstream events (seek,
 * QoS, navigation, reconfigure) and queries (caps, accept-caps, latency,
 * position, duration, seeking) travel to the producer's pipeline, and the
 * producer's CAPS / ACCEPT_CAPS queries are answered by this pipeline.
 * Such a connection is open from READY on, as ipcsink's: in READY the two
 * pipelines already answer each other's caps queries.
 * A producer that may create no shared memory (a sandboxed worker's
 * ipcsink) asks for its arenas instead: ipcsrc creates them, within
 * #GstIpcSrc:arena-budget bytes in total, and hands them over writable to
 * that producer alone.
 *
 * As any GStreamer source, it can end the stream itself after
 * #GstIpcSrc:num-buffers buffers, and stamp buffers that come without a
 * timestamp with the running time at which they leave it
 * (#GstIpcSrc:do-timestamp).
 *
 * Anything malformed from the producer — a bad message, an unknown arena, a
 * slot out of range, an unsealed memfd, a video meta that does not fit its
 * buffer, arenas beyond what its HELLO announced — ends the connection with
 * an error on the bus. So does a producer that goes away, unless
 * #GstIpcSrc:reconnect is set.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 ipcsrc socket-path=/tmp/camera ! videoconvert ! autovideosink
 * ]|
 */

#include "gstipcsrc.h"
#include "gstipcarenarequest.h"
#include "gstipcsharedbudget.h"
#include "gstipcsrcwatch.h"
#include "gstpxarenaallocator.h"
#include "gstpxconnection.h"
#include "gstpxserialize.h"
#include "px-arena.h"
#include "px-fd.h"
#include "px-unix.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>

GST_DEBUG_CATEGORY_STATIC (gst_ipc_src_debug);
#define GST_CAT_DEFAULT gst_ipc_src_debug

#define DEFAULT_IS_LIVE TRUE
#define DEFAULT_RECONNECT FALSE
#define DEFAULT_RECONNECT_INTERVAL 500
#define DEFAULT_ARENA_BUDGET 0
#define DEFAULT_NUM_BUFFERS -1
#define DEFAULT_DO_TIMESTAMP FALSE
/* The most buffers a producer may announce it keeps in flight. */
#define MAX_IN_FLIGHT 1024
/* Events queued for the streaming thread at most; buffers are bounded by
 * the producer's announced max-in-flight. A producer that sends events
 * faster than downstream takes them is broken or hostile. */
#define MAX_QUEUED_EVENTS 256
/* How long a consumer waits for the producer to greet it. */
#define HELLO_TIMEOUT (5 * G_TIME_SPAN_SECOND)
/* How long a seek upstream may take in the producer, flush included. */
#define SEEK_TIMEOUT (10 * GST_SECOND)

enum
{
  PROP_0,
  PROP_SOCKET_PATH,
  PROP_FD,
  PROP_IS_LIVE,
  PROP_RECONNECT,
  PROP_RECONNECT_INTERVAL,
  PROP_BUFFERS_RECEIVED,
  PROP_BUFFERS_COPIED,
  PROP_ARENA_BUDGET,
  PROP_NUM_BUFFERS,
  PROP_DO_TIMESTAMP,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

/* One connection to a producer. Buffers outlive it (downstream may hold
 * them), so it is refcounted: each buffer's memory holds a reference.
 * Its locks come in the element's order (see struct _GstIpcSrc): lock
 * before the element's lock, arena_lock after every other. */
typedef struct
{
  gint refcount;
  /* Borrowed: only the connection's callbacks use it, and they are over
   * once gst_px_connection_close() returns, before the element goes. */
  GstIpcSrc *src;
  GstPxConnection *conn;
  /* Held while a message is handled. Messages come one at a time, in
   * order, until a handler gives its turn up to push (see
   * gstpxconnection.h); the fields below marked (lock) are also read by
   * session_closed() and the pool thread meanwhile. */
  GMutex lock;

  /* Only in a message's turn. */
  PxArenaTable arenas;          /* id -> SessionArena */
  guint max_in_flight;
  guint64 max_arena_size, max_arena_total;      /* the producer's HELLO */

  /* Shared with other elements (gstipcsharedbudget.h), or NULL; set
   * before the readers start. What the session was granted counts
   * against it until the session is freed. */
  GstPxArenaBudget *shared_budget;

  /* (lock) */
  gboolean got_eos;
  guint64 arena_bytes_granted;  /* arenas made for the producer, in total */

  /* Written with both lock and the element's lock held, read with
   * either: the task and the pad functions read them too. */
  gboolean hello;
  gboolean upstream;            /* producer offered events/queries upstream */

  /* Bytes of this connection's arenas still mapped (see SessionArena).
   * (arena_lock): buffers are freed on any thread, under any lock. */
  GMutex arena_lock;
  guint64 arena_bytes;

  gint outstanding;             /* atomic: buffers given out, not yet done */
} Session;

/* An arena of the producer's, in the session's table. It counts against
 * the producer's max_arena_total from its ARENA_ADD until it is removed
 * and the last buffer lent from it is freed, which unmaps it: else a
 * producer could remove arenas whose buffers downstream still holds and
 * announce new ones, mapping ever more. */
typedef struct
{
  Session *session;             /* borrowed: it outlives its table and
                                 * every lent slot holds it */
  GstAllocator *allocator;
  guint64 size;
  gint holds;                   /* atomic: the table's, one per lent slot */
} SessionArena;

/* What the reader hands the streaming task, in order; or pushes itself. */
typedef struct
{
  GstMiniObject *object;        /* GstBuffer or GstEvent */
  guint64 base_time;            /* producer's, for buffers */
} Item;

/* Locks, in the order they are taken: push_lock, a session's lock, lock,
 * a session's arena_lock, and the object lock last: nothing is taken and
 * no message is posted under it. The shared budget's lock is a leaf too,
 * taken under a session's lock (or any other but the object lock, as a
 * freed buffer frees its session) and never with the object lock. */
struct _GstIpcSrc
{
  GstElement parent;
  GstPad *srcpad;

  /* Properties (object lock). */
  gchar *socket_path;
  gint fd;
  gboolean is_live;
  gboolean reconnect;
  guint reconnect_interval;
  guint64 arena_budget;
  gint num_buffers;
  gboolean do_timestamp;

  /* (lock) */
  GMutex lock;
  GCond cond;
  Session *session;
  GQueue items;
  guint queued_events;          /* events among the items */
  gboolean task_waiting;        /* the task sleeps in next_item() */
  GstFlowReturn pending_flow;   /* a reader's push failed: for the task */
  gboolean pending_from_buffer; /* ... pushing a buffer */
  gboolean flushing;            /* stopping, or flushed from downstream */
  gboolean disconnected;        /* the session ended */
  gboolean streaming;           /* between start() and stop() */
  /* fd mode: why the producer left while we were not streaming, posted
   * when the stream would start (NULL: it did not, or left after EOS). */
  GError *closed_early;
  gboolean discont;             /* mark the next buffer DISCONT */
  GstClockTime latency_min, latency_max;
  guint64 buffers_received, buffers_copied;
  /* The last seek sent upstream for its result (0: none yet) and its
   * seqnum: what the producer sends because of it (the flush, the segment
   * after it) comes under that request id and leaves with that seqnum, as
   * in one process. */
  guint64 seek_request;
  guint32 seek_seqnum;
  /* A seek asked from inside our push (a demuxer in push mode jumping to
   * its index), while it waits (0: none). Its FLUSH_STOP is handed to it
   * here, to push on that thread, which holds the stream lock the
   * FLUSH_STOP needs downstream. */
  guint64 push_seek_request;
  guint32 push_seek_seqnum;
  GstEvent *push_seek_flush_stop;
  /* The properties the streaming threads need, as of READY -> PAUSED
   * (they cannot change after it). */
  gboolean live;
  gboolean stamp;               /* do-timestamp */
  gint buffers_left;            /* of num-buffers; -1: no limit */
  gboolean ended;               /* num-buffers reached: EOS went out */

  /* Held by whoever pushes a buffer or serialized event: the task, or a
   * reader that found the task idle. */
  GMutex push_lock;
  gint64 applied_offset;        /* (push_lock) */
  GThread *pusher;              /* (atomic) in push_item(), with push_lock */

  /* Streaming thread only. */
  guint reconnect_attempts;     /* failed since the producer went away */
};

#define gst_ipc_src_parent_class parent_class
G_DEFINE_TYPE (GstIpcSrc, gst_ipc_src, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (ipcsrc, "ipcsrc", GST_RANK_NONE,
    GST_TYPE_IPC_SRC,
    GST_DEBUG_CATEGORY_INIT (gst_ipc_src_debug, "ipcsrc", 0,
        "Parallax IPC source"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static GQuark lent_slot_quark;

/* ---- sessions ---------------------------------------------------------- */

static Session *
session_ref (Session * session)
{
  g_atomic_int_inc (&session->refcount);
  return session;
}

static void
session_unref (Session * session)
{
  if (!g_atomic_int_dec_and_test (&session->refcount))
    return;
  px_arena_table_clear (&session->arenas);
  /* Only now are the arenas made for the producer given back: the
   * connection is closed (end_session() drops the element's reference
   * after it), no buffer lent from them lives (each held one) and the
   * table has let go of them, so none stays mapped here (the last
   * buffer's memory lets go of its allocator, and the mapping, as it is
   * freed, right after). */
  if (session->shared_budget != NULL) {
    gst_px_arena_budget_release (session->shared_budget,
        session->arena_bytes_granted);
    gst_px_arena_budget_unref (session->shared_budget);
  }
  gst_px_connection_unref (session->conn);
  g_mutex_clear (&session->lock);
  g_mutex_clear (&session->arena_lock);
  g_free (session);
}

/* Drops a hold on @data (a SessionArena); the last one takes the arena's
 * bytes off the session's count and lets its allocator, and with it the
 * mapping, go. Any thread, under any lock but the object lock. */
static void
session_arena_release (gpointer data)
{
  SessionArena *arena = data;
  Session *session = arena->session;

  if (!g_atomic_int_dec_and_test (&arena->holds))
    return;
  g_mutex_lock (&session->arena_lock);
  session->arena_bytes -= arena->size;
  g_mutex_unlock (&session->arena_lock);
  GST_LOG ("an arena of %" G_GUINT64_FORMAT " bytes is let go", arena->size);
  gst_object_unref (arena->allocator);
  g_free (arena);
}

/* A lent slot's root memory was freed: tell the producer. */
typedef struct
{
  Session *session;
  SessionArena *arena;
  guint64 buffer_id;
} LentSlot;

static void
lent_slot_free (gpointer data)
{
  LentSlot *lent = data;
  Session *session = lent->session;

  /* Counted back first: once the id is queued, the producer may get it
   * and send the next buffer, or remove the arena and announce another,
   * before this thread runs again. */
  session_arena_release (lent->arena);
  g_atomic_int_add (&session->outstanding, -1);
  GST_LOG ("buffer %" G_GUINT64_FORMAT " done", lent->buffer_id);
  gst_px_connection_buffer_done (session->conn, lent->buffer_id);
  session_unref (session);
  g_free (lent);
}

static void
wake_task (GstIpcSrc * self)
{
  g_cond_broadcast (&self->cond);
}

/* A buffer or serialized event from the producer, in order: when the task
 * sleeps with nothing queued, the reader pushes it itself, which spares a
 * thread switch per buffer; otherwise the task gets it. TRUE if the caller
 * pushes @object: it then holds push_lock and fills @claimed. Called in
 * the message's turn, so that what the readers hand on keeps its order.
 * Once num-buffers ended the stream, @object is let go at once; so is
 * all but a sticky event while we are not streaming (an fd's connection
 * open in READY): nothing would push it, and a buffer kept would hold the
 * producer's slot until we play again, or for ever. */
static gboolean
queue_or_claim (GstIpcSrc * self, GstMiniObject * object, guint64 base_time,
    Item * claimed)
{
  Item *item;

  g_mutex_lock (&self->lock);
  if (self->ended) {
    g_mutex_unlock (&self->lock);
    GST_LOG_OBJECT (self, "stream ended (num-buffers): dropping %"
        GST_PTR_FORMAT, object);
    gst_mini_object_unref (object);
    return FALSE;
  }
  if (!self->streaming && !(GST_IS_EVENT (object) &&
          GST_EVENT_IS_STICKY (GST_EVENT_CAST (object)))) {
    g_mutex_unlock (&self->lock);
    GST_LOG_OBJECT (self, "not streaming: dropping %" GST_PTR_FORMAT, object);
    gst_mini_object_unref (object);
    return FALSE;
  }
  if (self->task_waiting && g_queue_is_empty (&self->items) &&
      !self->flushing && self->pending_flow == GST_FLOW_OK &&
      g_mutex_trylock (&self->push_lock)) {
    g_mutex_unlock (&self->lock);
    GST_LOG_OBJECT (self, "the reader pushes %" GST_PTR_FORMAT, object);
    claimed->object = object;
    claimed->base_time = base_time;
    return TRUE;
  }
  GST_LOG_OBJECT (self, "queued for the task: %" GST_PTR_FORMAT, object);
  item = g_new (Item, 1);
  item->object = object;
  item->base_time = base_time;
  g_queue_push_tail (&self->items, item);
  if (GST_IS_EVENT (object))
    self->queued_events++;
  /* Runs for every buffer: wake the task only if it sleeps. */
  if (self->task_waiting)
    wake_task (self);
  g_mutex_unlock (&self->lock);
  return FALSE;
}

/* Takes every queued item out, for free_items() outside the lock. */
static GQueue
take_items_locked (GstIpcSrc * self)
{
  GQueue items = self->items;

  g_queue_init (&self->items);
  self->queued_events = 0;
  return items;
}

static void
free_items (GQueue * items)
{
  Item *item;

  while ((item = g_queue_pop_head (items)) != NULL) {
    gst_mini_object_unref (item->object);
    g_free (item);
  }
}

/* ---- messages from the producer ---------------------------------------- */

static gboolean
protocol_error (GError ** error, const gchar * what)
{
  g_set_error_literal (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL, what);
  return FALSE;
}

static gboolean
handle_hello (Session * session, PxWireMessage * msg, GError ** error)
{
  PxWireHello hello;

  if (px_wire_decode_hello (msg, &hello) < 0 || session->hello ||
      hello.role != PX_WIRE_ROLE_PRODUCER || hello.max_in_flight == 0 ||
      hello.max_in_flight > MAX_IN_FLIGHT)
    return protocol_error (error, "bad HELLO");
  if (hello.max_arena_size > PX_WIRE_DEFAULT_ARENA_SIZE ||
      hello.max_arena_total > PX_WIRE_DEFAULT_ARENA_TOTAL) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_REFUSED, "the producer "
        "wants arenas of up to %" G_GUINT64_FORMAT " bytes, %"
        G_GUINT64_FORMAT " in all; this consumer accepts %" G_GUINT64_FORMAT
        " and %" G_GUINT64_FORMAT, hello.max_arena_size,
        hello.max_arena_total, PX_WIRE_DEFAULT_ARENA_SIZE,
        PX_WIRE_DEFAULT_ARENA_TOTAL);
    return FALSE;
  }
  session->max_arena_size = hello.max_arena_size;
  session->max_arena_total = hello.max_arena_total;
  session->max_in_flight = hello.max_in_flight;
  GST_INFO_OBJECT (session->src, "the producer greets us: it lends up to %u "
      "buffers at once, in arenas of up to %" G_GUINT64_FORMAT " bytes, %"
      G_GUINT64_FORMAT " in all; events and queries upstream: %s",
      hello.max_in_flight, hello.max_arena_size, hello.max_arena_total,
      (hello.features & PX_WIRE_FEATURE_UPSTREAM) ? "yes" : "no");
  g_mutex_lock (&session->src->lock);
  session->upstream = (hello.features & PX_WIRE_FEATURE_UPSTREAM) != 0;
  session->hello = TRUE;
  wake_task (session->src);
  g_mutex_unlock (&session->src->lock);
  return TRUE;
}

/* What px_arena_import() refused: the producer's fd, or (mmap) our own
 * resources. */
static GstPxErrorCode
arena_error_code (int ret)
{
  switch (ret) {
    case -EPERM:
    case -EBADF:
    case -EMSGSIZE:
    case -EINVAL:
      return GST_PX_ERROR_PROTOCOL;
    default:
      return GST_PX_ERROR_RESOURCE;
  }
}

/* Why px_arena_import() refused an fd, in words. */
static const gchar *
arena_error_text (int ret)
{
  switch (ret) {
    case -EPERM:
      return "memfd not sealed against writing, shrinking and growing";
    case -EBADF:
      return "the file descriptor is not a memfd";
    case -EMSGSIZE:
      return "the memfd's size is not the announced one";
    default:
      return g_strerror (-ret);
  }
}

/* Counts @size against the producer's announced total, before anything
 * is mapped: a peer must not grow our address space beyond what its HELLO
 * announced. Under arena_lock, which buffers freed meanwhile take to count
 * their arena back. FALSE, with why in @error, when it does not fit. */
static gboolean
reserve_mapped_bytes (Session * session, const PxWireArenaAdd * add,
    GError ** error)
{
  guint64 in_use;
  gboolean fits;

  g_mutex_lock (&session->arena_lock);
  in_use = session->arena_bytes;
  fits = add->size <= session->max_arena_size &&
      add->size <= session->max_arena_total - in_use;
  if (fits)
    session->arena_bytes += add->size;
  g_mutex_unlock (&session->arena_lock);
  if (!fits)
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_REFUSED, "refused arena "
        "%016" G_GINT64_MODIFIER "x of %" G_GUINT64_FORMAT " bytes: the "
        "producer announced arenas of up to %" G_GUINT64_FORMAT " bytes, %"
        G_GUINT64_FORMAT " in all (%" G_GUINT64_FORMAT " in use): an arena "
        "stays in use until it is removed and the last buffer lent from it "
        "is freed", add->arena_id, add->size, session->max_arena_size,
        session->max_arena_total, in_use);
  return fits;
}

static gboolean
handle_arena_add (Session * session, PxWireMessage * msg, GError ** error)
{
  PxWireArenaAdd add;
  SessionArena *entry;
  PxArena *arena;
  int ret;

  if (px_wire_decode_arena_add (msg, &add) < 0)
    return protocol_error (error, "bad ARENA_ADD");
  if (!reserve_mapped_bytes (session, &add, error))
    return FALSE;
  /* The producer must have given up write access: no one but its creator
   * may change what we read, and its size may never change under us. */
  ret = px_arena_import (px_wire_message_steal_fd (msg), add.arena_id,
      add.size, add.slot_stride, add.slot_count, true, &arena);
  if (ret < 0) {
    g_mutex_lock (&session->arena_lock);
    session->arena_bytes -= add.size;
    g_mutex_unlock (&session->arena_lock);
    g_set_error (error, GST_PX_ERROR, arena_error_code (ret), "refused arena "
        "%016" G_GINT64_MODIFIER "x: %s", add.arena_id, arena_error_text (ret));
    return FALSE;
  }
  entry = g_new (SessionArena, 1);
  entry->session = session;
  entry->allocator = gst_px_arena_allocator_new (arena);
  entry->size = add.size;
  entry->holds = 1;
  /* On failure too, the table lets go of both (and the bytes with them). */
  ret = px_arena_table_add (&session->arenas, arena, entry);
  if (ret < 0)
    return protocol_error (error, ret == -EEXIST ? "arena announced twice" :
        "too many arenas");
  GST_DEBUG_OBJECT (session->src, "arena %016" G_GINT64_MODIFIER "x mapped "
      "read-only: %u slots of %" G_GUINT64_FORMAT " bytes", add.arena_id,
      add.slot_count, add.slot_stride);
  return TRUE;
}

/* The arena leaves the table; its bytes still count while buffers lent
 * from it live (session_arena_release()). */
static gboolean
handle_arena_remove (Session * session, PxWireMessage * msg, GError ** error)
{
  PxWireArenaRemove remove;

  if (px_wire_decode_arena_remove (msg, &remove) < 0 ||
      px_arena_table_remove (&session->arenas, remove.arena_id) < 0)
    return protocol_error (error, "bad ARENA_REMOVE");
  GST_DEBUG_OBJECT (session->src, "arena %016" G_GINT64_MODIFIER "x removed",
      remove.arena_id);
  return TRUE;
}

/* Wraps the slot a BUFFER message names, after checking it against the
 * arena it claims to be in. */
static GstBuffer *
wrap_buffer (Session * session, const PxWireBuffer * wire, GError ** error)
{
  const PxArenaTableEntry *entry;
  SessionArena *arena;
  GstBuffer *buffer;
  GstMemory *mem;
  LentSlot *lent;

  entry = px_arena_table_lookup (&session->arenas, wire->arena_id);
  if (entry == NULL) {
    protocol_error (error, "buffer in an unknown arena");
    return NULL;
  }
  arena = entry->data;
  mem = gst_px_arena_allocator_wrap_slot (arena->allocator, wire->slot,
      wire->offset, wire->size);
  if (mem == NULL) {
    protocol_error (error, "buffer outside its arena slot");
    return NULL;
  }
  if (g_atomic_int_add (&session->outstanding, 1) >=
      (gint) session->max_in_flight) {
    g_atomic_int_add (&session->outstanding, -1);
    gst_memory_unref (mem);
    protocol_error (error, "more buffers in flight than announced");
    return NULL;
  }
  lent = g_new (LentSlot, 1);
  lent->session = session_ref (session);
  lent->arena = arena;
  g_atomic_int_inc (&arena->holds);
  lent->buffer_id = wire->buffer_id;
  gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (mem), lent_slot_quark,
      lent, lent_slot_free);
  buffer = gst_buffer_new ();
  gst_buffer_append_memory (buffer, mem);
  if (!gst_px_buffer_from_wire (buffer, wire, error)) {
    gst_buffer_unref (buffer);
    return NULL;
  }
  return buffer;
}

static gboolean
handle_buffer (Session * session, GstIpcSrc * self, PxWireMessage * msg,
    Item * claimed, GError ** error)
{
  PxWireBuffer wire;
  GstBuffer *buffer;

  if (!session->hello || px_wire_decode_buffer (msg, &wire) < 0)
    return protocol_error (error, "bad BUFFER");
  buffer = wrap_buffer (session, &wire, error);
  if (buffer == NULL)
    return FALSE;
  GST_LOG_OBJECT (self, "buffer %" G_GUINT64_FORMAT ": arena %016"
      G_GINT64_MODIFIER "x slot %u, %" G_GUINT64_FORMAT " bytes at %"
      G_GUINT64_FORMAT ", pts %" GST_TIME_FORMAT, wire.buffer_id,
      wire.arena_id, wire.slot, wire.size, wire.offset,
      GST_TIME_ARGS (wire.pts));
  gst_ipc_src_watch_read (GST_ELEMENT (self), GST_IPC_SRC_READ_BUFFER);
  queue_or_claim (self, GST_MINI_OBJECT_CAST (buffer), wire.base_time, claimed);
  return TRUE;
}

/* The producer's pipeline latency, sent by ipcsink as a custom event. */
static gboolean
take_latency (GstIpcSrc * self, GstEvent * event)
{
  const GstStructure *s = gst_event_get_structure (event);
  guint64 min, max;

  if (s == NULL || !gst_structure_has_name (s, GST_PX_LATENCY_EVENT_NAME))
    return FALSE;
  if (gst_structure_get_uint64 (s, "min-latency", &min) &&
      gst_structure_get_uint64 (s, "max-latency", &max) &&
      GST_CLOCK_TIME_IS_VALID (min)) {
    g_mutex_lock (&self->lock);
    self->latency_min = min;
    self->latency_max = max;
    g_mutex_unlock (&self->lock);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_latency (GST_OBJECT (self)));
  }
  return TRUE;
}

/* Throws away what is queued, except the sticky events (caps, tags, ...)
 * that still describe the data after a flush; they are kept on the pad, as
 * GstQueue does, and go out before the next buffer. */
static gboolean
pad_has_stream_start (GstPad * pad)
{
  GstEvent *start = gst_pad_get_sticky_event (pad, GST_EVENT_STREAM_START, 0);

  if (start == NULL)
    return FALSE;
  gst_event_unref (start);
  return TRUE;
}

static void
drop_items (GstIpcSrc * self, GQueue * items)
{
  GQueue kept = G_QUEUE_INIT;
  Item *item;

  while ((item = g_queue_pop_head (items)) != NULL) {
    GstEvent *event = GST_IS_EVENT (item->object) ?
        GST_EVENT_CAST (item->object) : NULL;

    /* Before the pad is active (the flush came while we were starting),
     * it stores nothing: the event stays queued instead. So does one that
     * must follow a stream-start the pad has not had yet (the pusher may
     * be pushing it now): stored first, it would come out of order. */
    if (event && GST_EVENT_IS_STICKY (event) &&
        GST_EVENT_TYPE (event) != GST_EVENT_SEGMENT &&
        GST_EVENT_TYPE (event) != GST_EVENT_EOS &&
        ((GST_EVENT_TYPE (event) != GST_EVENT_STREAM_START &&
                !pad_has_stream_start (self->srcpad)) ||
            gst_pad_store_sticky_event (self->srcpad, event) != GST_FLOW_OK)) {
      g_queue_push_tail (&kept, item);
      continue;
    }
    gst_mini_object_unref (item->object);
    g_free (item);
  }
  if (kept.length == 0)
    return;
  g_mutex_lock (&self->lock);
  self->queued_events += kept.length;
  while ((item = g_queue_pop_tail (&kept)) != NULL)
    g_queue_push_head (&self->items, item);
  if (self->task_waiting)
    wake_task (self);
  g_mutex_unlock (&self->lock);
}

/* FLUSH_START from the producer is out of band: what is queued goes
 * (drop_items()). */
static void
flush_items (GstIpcSrc * self, GstEvent * flush_start)
{
  GQueue items;

  g_mutex_lock (&self->lock);
  items = take_items_locked (self);
  g_mutex_unlock (&self->lock);
  GST_DEBUG_OBJECT (self, "flush from the producer: %u queued items dropped, "
      "but for sticky events", items.length);
  gst_pad_push_event (self->srcpad, flush_start);
  drop_items (self, &items);
}

/* An event the producer sent because of our seek @request_id (ipcsink's
 * client_event()) leaves with the seek's seqnum, as in one process: a
 * demuxer knows the flush of its own seeks by it, and drops it, and in
 * push mode drops data until the segment of its seek (oggdemux). The
 * FLUSH_STOP of a seek waiting inside our push is handed to that seek
 * (TRUE), which pushes it before it returns, as basesrc pushes it on the
 * seeking thread; what came between the FLUSH_START and it (a buffer the
 * producer sent as its flush began) is then taken out into @dropped, as
 * the flushing pad would have refused it, lest it follow the FLUSH_STOP
 * downstream. */
static gboolean
seek_flush (GstIpcSrc * self, GstEvent * event, guint64 request_id,
    GQueue * dropped)
{
  GstEventType type = GST_EVENT_TYPE (event);
  gboolean hand = FALSE;

  if (request_id == 0)
    return FALSE;
  g_mutex_lock (&self->lock);
  if (request_id == self->push_seek_request) {
    gst_event_set_seqnum (event, self->push_seek_seqnum);
    hand = type == GST_EVENT_FLUSH_STOP && self->push_seek_flush_stop == NULL;
    if (hand) {
      self->push_seek_flush_stop = event;
      *dropped = take_items_locked (self);
    }
  } else if (request_id == self->seek_request) {
    gst_event_set_seqnum (event, self->seek_seqnum);
  }
  g_mutex_unlock (&self->lock);
  return hand;
}

static gboolean
handle_event (Session * session, GstIpcSrc * self, PxWireMessage * msg,
    Item * claimed, GError ** error)
{
  GQueue dropped = G_QUEUE_INIT;
  PxWireBlob blob;
  GstEvent *event;

  if (!session->hello || px_wire_decode_blob (msg, &blob) < 0 ||
      (msg->header.flags & PX_WIRE_EVENT_UPSTREAM))
    return protocol_error (error, "bad EVENT");
  event = gst_px_event_deserialize (blob.kind, blob.body, FALSE,
      gst_px_connection_get_budget (session->conn), error);
  if (event == NULL)
    return FALSE;
  GST_DEBUG_OBJECT (self, "event from producer: %" GST_PTR_FORMAT, event);

  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START ||
      GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP)
    gst_ipc_src_watch_read (GST_ELEMENT (self), GST_IPC_SRC_READ_FLUSH);
  if (seek_flush (self, event, msg->header.request_id, &dropped)) {
    GST_DEBUG_OBJECT (self, "for the seek waiting inside our push; %u "
        "items queued during the flush dropped", dropped.length);
    session->got_eos = FALSE;   /* a flush undoes an EOS */
    gst_px_connection_wake (session->conn);
    drop_items (self, &dropped);
  } else if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM &&
      take_latency (self, event)) {
    gst_event_unref (event);
  } else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START) {
    flush_items (self, event);
  } else {
    g_mutex_lock (&self->lock);
    if (self->queued_events >= MAX_QUEUED_EVENTS) {
      g_mutex_unlock (&self->lock);
      gst_event_unref (event);
      return protocol_error (error, "more events queued than downstream "
          "takes");
    }
    g_mutex_unlock (&self->lock);
    if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
      session->got_eos = TRUE;
    else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP)
      session->got_eos = FALSE; /* a flush undoes an EOS */
    queue_or_claim (self, GST_MINI_OBJECT_CAST (event), 0, claimed);
  }
  return TRUE;
}

static gboolean
dispatch (Session * session, PxWireMessage * msg, Item * claimed,
    GError ** error)
{
  GstIpcSrc *self = session->src;

  if (!session->hello && msg->header.type != PX_WIRE_HELLO) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL, "%s before HELLO",
        px_wire_type_name (msg->header.type));
    return FALSE;
  }
  switch (msg->header.type) {
    case PX_WIRE_HELLO:
      return handle_hello (session, msg, error);
    case PX_WIRE_ARENA_ADD:
      return handle_arena_add (session, msg, error);
    case PX_WIRE_ARENA_REMOVE:
      return handle_arena_remove (session, msg, error);
    case PX_WIRE_BUFFER:
      return handle_buffer (session, self, msg, claimed, error);
    case PX_WIRE_EVENT:
      return handle_event (session, self, msg, claimed, error);
    default:
      g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL,
          "unexpected %s message", px_wire_type_name (msg->header.type));
      return FALSE;
  }
}

static GstFlowReturn push_item (GstIpcSrc * self, Item * item);

/* Reader thread. */
static gboolean
session_message (GstPxConnection * conn, PxWireMessage * msg,
    gpointer user_data, GError ** error)
{
  Session *session = user_data;
  GstIpcSrc *self = session->src;
  Item claimed = { NULL, 0 };
  GstFlowReturn ret;
  gboolean ok, is_buffer;

  g_mutex_lock (&session->lock);
  ok = dispatch (session, msg, &claimed, error);
  g_mutex_unlock (&session->lock);
  if (claimed.object == NULL)
    return ok;

  /* Pushed here, outside the session lock and our turn: the push may
   * block, and the other reader then goes on with the next messages (which
   * wait for push_lock or the task). */
  gst_px_connection_release_turn (conn);
  is_buffer = GST_IS_BUFFER (claimed.object);
  ret = push_item (self, &claimed);
  if (ret != GST_FLOW_OK) {
    /* The task acts on it: pausing a task from another thread would wait
     * for it. Until then, what comes next is queued; the first failure
     * is the one that counts. */
    g_mutex_lock (&self->lock);
    if (self->pending_flow == GST_FLOW_OK) {
      self->pending_flow = ret;
      self->pending_from_buffer = is_buffer;
    }
    wake_task (self);
    g_mutex_unlock (&self->lock);
  }
  g_mutex_unlock (&self->push_lock);
  return ok;
}

/* Takes @size out of the session's arena budget, and out of the shared
 * one if there is one; FALSE, with why in @why and nothing taken, when it
 * does not fit one of them. Both under the session's lock, so that
 * arena_bytes_granted is always what the session took from the shared
 * budget. */
static gboolean
reserve_arena_bytes (Session * session, guint64 size, gchar ** why)
{
  GstIpcSrc *self = session->src;
  guint64 budget, granted, shared_in_use = 0;
  gboolean fits, shared_fits = TRUE;

  GST_OBJECT_LOCK (self);
  budget = self->arena_budget;
  GST_OBJECT_UNLOCK (self);
  g_mutex_lock (&session->lock);
  granted = session->arena_bytes_granted;
  fits = size <= budget && granted <= budget - size;
  if (fits && session->shared_budget != NULL)
    fits = shared_fits = gst_px_arena_budget_reserve (session->shared_budget,
        size, &shared_in_use);
  if (fits)
    session->arena_bytes_granted += size;
  g_mutex_unlock (&session->lock);
  if (!shared_fits)
    *why = g_strdup_printf ("an arena of %" G_GUINT64_FORMAT " bytes is over "
        "the shared arena budget (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
        " bytes granted to all the connections that share it)", size,
        shared_in_use, gst_px_arena_budget_get_limit (session->shared_budget));
  else if (!fits)
    *why = g_strdup_printf ("an arena of %" G_GUINT64_FORMAT " bytes is over "
        "the arena budget (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
        " bytes granted)", size, granted, budget);
  return fits;
}

/* Makes the arena a producer asked for and sends it (ARENA_ADD, before the
 * answer). Returns its id, or 0 with why in @why. */
static guint64
make_requested_arena (Session * session, guint64 slot_size, guint slot_count,
    gchar ** why)
{
  PxWireArenaAdd add = { 0 };
  uint64_t size = 0;
  size_t stride = 0;
  int ret, fd = -1;

  ret = slot_size <= G_MAXSIZE ? px_arena_new_fd ("parallax-granted",
      (size_t) slot_size, slot_count, &fd, &size, &stride) : -EOVERFLOW;
  if (ret < 0) {
    *why = g_strdup_printf ("cannot make an arena of %u slots of %"
        G_GUINT64_FORMAT " bytes: %s", slot_count, slot_size,
        g_strerror (-ret));
    return 0;
  }
  if (!reserve_arena_bytes (session, size, why)) {
    close (fd);
    return 0;
  }
  add.arena_id = px_arena_new_id ();
  add.size = size;
  add.slot_stride = stride;
  add.slot_count = slot_count;
  ret = gst_px_connection_send_arena_add (session->conn, &add, fd,
      GST_PX_CONNECTION_REPLY_TIMEOUT);
  close (fd);
  if (ret < 0) {
    *why = g_strdup_printf ("cannot send the arena: %s", g_strerror (-ret));
    return 0;
  }
  return add.arena_id;
}

/* Pool thread: what the producer's HELLO offered. */
static gboolean
session_upstream (Session * session)
{
  gboolean upstream;

  g_mutex_lock (&session->src->lock);
  upstream = session->upstream;
  g_mutex_unlock (&session->src->lock);
  return upstream;
}

/* Pool thread: the producer asks for an arena (gstipcarenarequest.h). Only
 * over an fd (one peer) and within the budget; the answer says why not. */
static gboolean
answer_arena_request (Session * session, GstQuery * query)
{
  GstIpcSrc *self = session->src;
  guint64 slot_size = 0, id = 0;
  guint slot_count = 0;
  gchar *why = NULL;

  if (!session_upstream (session))
    why = g_strdup ("arenas are only made for a producer on an fd");
  else if (!gst_ipc_arena_request_parse (query, &slot_size, &slot_count))
    why = g_strdup ("malformed arena request");
  else
    id = make_requested_arena (session, slot_size, slot_count, &why);
  if (id == 0)
    GST_ELEMENT_WARNING (self, RESOURCE, NO_SPACE_LEFT,
        ("Refused the producer an arena: %s", why), (NULL));
  else
    GST_DEBUG_OBJECT (self, "made arena %016" G_GINT64_MODIFIER "x for the "
        "producer: %u slots of %" G_GUINT64_FORMAT " bytes", id, slot_count,
        slot_size);
  gst_ipc_arena_request_answer (query, id, why);
  g_free (why);
  return TRUE;
}

/* A query from the producer's pipeline (fd mode): ask ours downstream. */
static gboolean
session_query (GstPxConnection * conn, GstQuery * query, gpointer user_data)
{
  Session *session = user_data;

  if (gst_ipc_arena_request_is (query))
    return answer_arena_request (session, query);
  if (!session_upstream (session))
    return FALSE;
  return gst_pad_peer_query (session->src->srcpad, query);
}

/* Posts an error (or, with @warning, a warning) in GStreamer's @domain. */
static void
post_message (GstIpcSrc * self, gboolean warning, GQuark domain, gint code,
    gchar * text, gchar * debug)
{
  gst_element_message_full (GST_ELEMENT (self), warning ?
      GST_MESSAGE_WARNING : GST_MESSAGE_ERROR, domain, code, text, debug,
      __FILE__, GST_FUNCTION, __LINE__);
}

/* Why the producer's connection broke (@error from the connection or a
 * handler), in GStreamer's domains: its own fault (a protocol violation,
 * arenas beyond what it announced) or ours (the socket could not be
 * read). */
static GError *
broken_error (const GError * error, const gchar * then)
{
  if (error->domain == GST_PX_ERROR && error->code == GST_PX_ERROR_PROTOCOL)
    return g_error_new (GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "Invalid data from the producer%s: %s", then, error->message);
  if (error->domain == GST_PX_ERROR && error->code == GST_PX_ERROR_REFUSED)
    return g_error_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT,
        "The producer wants more shared memory than it announced or this "
        "consumer accepts%s: %s", then, error->message);
  return g_error_new (GST_RESOURCE_ERROR,
      gst_px_error_to_resource_error (error), "Cannot read from the "
      "producer%s: %s", then, error->message);
}

/* Why the connection ended (@error: from the connection or a handler, or
 * NULL: the producer closed it), or NULL when that is no error; a warning
 * (*@warning) when we reconnect. */
static GError *
closed_error (GstIpcSrc * self, Session * session, const GError * error,
    gboolean * warning)
{
  gboolean reconnect, hello, got_eos, ended;

  g_mutex_lock (&session->lock);
  got_eos = session->got_eos;
  g_mutex_unlock (&session->lock);
  g_mutex_lock (&self->lock);
  hello = session->hello;
  ended = self->ended;
  g_mutex_unlock (&self->lock);
  GST_OBJECT_LOCK (self);
  reconnect = self->reconnect && self->socket_path != NULL;
  GST_OBJECT_UNLOCK (self);

  *warning = reconnect;
  if (ended) {
    GST_INFO_OBJECT (self, "the producer left after num-buffers ended the "
        "stream");
    return NULL;
  }
  if (error != NULL)
    return broken_error (error, reconnect ? ", reconnecting" : "");
  if (!hello && !reconnect)
    return g_error_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
        "The producer closed the connection without greeting us: it serves "
        "no more clients (max-clients), or is shutting down");
  if (!got_eos)
    return g_error_new_literal (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        reconnect ? "The producer went away, reconnecting" :
        "The producer went away before the end of the stream");
  GST_INFO_OBJECT (self, "the producer closed the connection after EOS");
  return NULL;
}

/* Posted at once while streaming; otherwise (an fd connection, open from
 * READY on) when the stream would start, which then fails. */
static void
session_closed (GstPxConnection * conn, const GError * error,
    gpointer user_data)
{
  Session *session = user_data;
  GstIpcSrc *self = session->src;
  gboolean warning, streaming;
  GError *why = closed_error (self, session, error, &warning);

  g_mutex_lock (&self->lock);
  streaming = self->streaming;
  if (!streaming && why != NULL && self->closed_early == NULL)
    self->closed_early = g_steal_pointer (&why);
  g_mutex_unlock (&self->lock);
  if (why != NULL && streaming)
    post_message (self, warning, why->domain, why->code,
        g_strdup (why->message), NULL);
  else if (why != NULL)
    GST_INFO_OBJECT (self, "not streaming: %s", why->message);
  g_clear_error (&why);

  g_mutex_lock (&self->lock);
  self->disconnected = TRUE;
  wake_task (self);
  g_mutex_unlock (&self->lock);
  gst_ipc_src_watch_read (GST_ELEMENT (self), GST_IPC_SRC_READ_END);
}

static const GstPxConnectionFuncs session_funcs = {
  .message = session_message,
  .query = session_query,
  .closed = session_closed,
  .message_may_block = TRUE,    /* pushes downstream */
};

/* ---- connecting -------------------------------------------------------- */

typedef enum
{
  HELLO_GREETED,
  HELLO_CLOSED,                 /* the producer closed first */
  HELLO_TIMED_OUT,
  HELLO_STOPPED,                /* we are stopping */
} HelloResult;

static HelloResult
wait_for_hello (GstIpcSrc * self, Session * session)
{
  gint64 deadline = g_get_monotonic_time () + HELLO_TIMEOUT;
  HelloResult result;

  g_mutex_lock (&self->lock);
  while (!session->hello && !self->disconnected && !self->flushing &&
      g_cond_wait_until (&self->cond, &self->lock, deadline));
  if (session->hello)
    result = HELLO_GREETED;
  else if (self->disconnected)
    result = HELLO_CLOSED;
  else if (self->flushing)
    result = HELLO_STOPPED;
  else
    result = HELLO_TIMED_OUT;
  g_mutex_unlock (&self->lock);
  return result;
}

static void end_session (GstIpcSrc * self);

/* The error of a producer that did not greet us (@ret: how sending our
 * HELLO failed, or 0). */
static void
set_hello_error (GError ** error, const gchar * peer, int ret,
    HelloResult result)
{
  if (ret == -EPIPE || ret == -ECONNRESET || result == HELLO_CLOSED)
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
        "The producer at %s closed the connection without greeting us: it "
        "serves no more clients (max-clients), or is shutting down", peer);
  else if (ret < 0)
    g_set_error (error, GST_RESOURCE_ERROR, gst_px_error_resource_code (ret),
        "Cannot greet the producer at %s: %s", peer, g_strerror (-ret));
  else if (result == HELLO_TIMED_OUT)
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
        "The producer at %s accepted the connection but did not greet us "
        "within %d seconds: it is stalled, or not an ipcsink", peer,
        (int) (HELLO_TIMEOUT / G_TIME_SPAN_SECOND));
  else
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
        "Stopped while waiting for the producer at %s to greet us", peer);
}

static gpointer
dup_shared_budget (gpointer data, gpointer user_data)
{
  return data != NULL ? gst_px_arena_budget_ref (data) : NULL;
}

/* Takes @fd, greets the producer (@peer names it in messages) and starts
 * reading. */
static gboolean
start_session (GstIpcSrc * self, int fd, const gchar * peer, GError ** error)
{
  Session *session = g_new0 (Session, 1);
  PxWireHello hello = {.role = PX_WIRE_ROLE_CONSUMER };
  GError *start_error = NULL;
  HelloResult result = HELLO_GREETED;
  gboolean upstream;
  int ret;

  GST_OBJECT_LOCK (self);
  upstream = self->socket_path == NULL;
  GST_OBJECT_UNLOCK (self);

  session->refcount = 1;
  session->src = self;
  session->shared_budget = g_object_dup_data (G_OBJECT (self),
      GST_IPC_SRC_SHARED_BUDGET, dup_shared_budget, NULL);
  g_mutex_init (&session->lock);
  g_mutex_init (&session->arena_lock);
  px_arena_table_init (&session->arenas, session_arena_release);
  session->conn = gst_px_connection_new (fd, GST_OBJECT (self),
      &session_funcs, session);
  gst_px_connection_set_name (session->conn, "producer");
  hello.features = upstream ? PX_WIRE_FEATURE_UPSTREAM : 0;
  hello.max_arena_size = PX_WIRE_DEFAULT_ARENA_SIZE;
  hello.max_arena_total = PX_WIRE_DEFAULT_ARENA_TOTAL;
  ret = gst_px_connection_send_hello (session->conn, &hello,
      GST_PX_CONNECTION_REPLY_TIMEOUT);
  /* Before the readers start: the session may end as soon as they do. */
  g_mutex_lock (&self->lock);
  self->session = session;
  self->disconnected = FALSE;
  self->discont = TRUE;
  g_mutex_unlock (&self->lock);
  if (ret == 0 && !gst_px_connection_start (session->conn, &start_error)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED,
        "Cannot start reading from the producer at %s: %s", peer,
        start_error->message);
    g_clear_error (&start_error);
    end_session (self);
    return FALSE;
  }
  /* A producer that accepted us greets us at once; one that will not serve
   * us (max-clients) closes the socket. Learn which now, so that a refusal
   * fails the state change instead of surfacing later. With an fd, the
   * producer greets when it starts, which may be after us. */
  if (ret == 0 && !upstream)
    result = wait_for_hello (self, session);
  if (ret < 0 || result != HELLO_GREETED) {
    set_hello_error (error, peer, ret, result);
    end_session (self);
    return FALSE;
  }
  return TRUE;
}

static void
end_session (GstIpcSrc * self)
{
  Session *session;

  g_mutex_lock (&self->lock);
  session = self->session;
  self->session = NULL;
  g_mutex_unlock (&self->lock);
  if (session == NULL)
    return;
  gst_px_connection_close (session->conn);
  session_unref (session);
  /* The next connection counts its request ids from 1 again. */
  g_mutex_lock (&self->lock);
  self->seek_request = 0;
  g_mutex_unlock (&self->lock);
}

/* Who is at the other end of @fd, for the log. */
static void
log_peer (GstIpcSrc * self, int fd, const gchar * peer)
{
  struct ucred cred;
  socklen_t len = sizeof cred;

  if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
    GST_INFO_OBJECT (self, "connected to %s: producer pid %d, uid %u, gid %u",
        peer, (int) cred.pid, (guint) cred.uid, (guint) cred.gid);
  else
    GST_INFO_OBJECT (self, "connected to %s (peer unknown: %s)", peer,
        g_strerror (errno));
}

/* Connecting to socket-path failed with @ret: why, in the code an
 * application can act on. */
static void
set_connect_error (GError ** error, const gchar * path, int ret)
{
  switch (-ret) {
    case ENOENT:
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
          "No producer at %s: there is no such socket", path);
      break;
    case ECONNREFUSED:
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
          "No producer listens at %s (connection refused): the socket was "
          "left behind, or its ipcsink is not running", path);
      break;
    case EACCES:
    case EPERM:
      g_set_error (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED, "Not allowed to connect to %s: "
          "%s", path, g_strerror (-ret));
      break;
    default:
      g_set_error (error, GST_RESOURCE_ERROR, gst_px_error_resource_code (ret),
          "Cannot connect to %s: %s", path, g_strerror (-ret));
      break;
  }
}

static gboolean
connect_to_producer (GstIpcSrc * self, GError ** error)
{
  gchar *path, *peer;
  gboolean ok;
  gint fd;
  int ret;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->socket_path);
  fd = self->fd;
  GST_OBJECT_UNLOCK (self);

  if ((fd < 0) == (path == NULL)) {
    g_free (path);
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Set exactly one of socket-path and fd");
    return FALSE;
  }
  if (path != NULL) {
    ret = px_unix_connect (path);
    if (ret < 0)
      set_connect_error (error, path, ret);
    peer = g_steal_pointer (&path);
  } else {
    ret = px_unix_check_seqpacket (fd);
    if (ret == 0 && (ret = fcntl (fd, F_DUPFD_CLOEXEC, 3)) < 0)
      ret = px_negative_errno ();
    if (ret < 0)
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "fd %d is not a connected SOCK_SEQPACKET socket: %s", fd,
          g_strerror (-ret));
    peer = g_strdup_printf ("fd %d", fd);
  }
  if (ret >= 0)
    log_peer (self, ret, peer);
  ok = ret >= 0 && start_session (self, ret, peer, error);
  g_free (peer);
  return ok;
}

/* ---- streaming --------------------------------------------------------- */

/* Running times of the producer become ours: same instant on the
 * monotonic clock, although the two pipelines have different base times. */
static void
sync_running_time (GstIpcSrc * self, guint64 producer_base)
{
  GstClock *clock;
  struct timespec ts;
  guint64 our_base;
  gint64 offset;

  if (producer_base == G_MAXUINT64 ||
      (clock = gst_element_get_clock (GST_ELEMENT (self))) == NULL)
    return;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  our_base = gst_element_get_base_time (GST_ELEMENT (self)) +
      GST_TIMESPEC_TO_TIME (ts) - gst_clock_get_time (clock);
  gst_object_unref (clock);
  offset = (gint64) (producer_base - our_base);
  /* Ignore sub-millisecond wobble between the two clock readings. */
  if (ABS (offset - self->applied_offset) > GST_MSECOND) {
    GST_DEBUG_OBJECT (self, "running time offset %" GST_STIME_FORMAT,
        GST_STIME_ARGS (offset));
    gst_pad_set_offset (self->srcpad, offset);
    self->applied_offset = offset;
  }
}

/* Waits for an item; FALSE when flushing, disconnected, or when a
 * reader's push failed (*@flow, *@from_buffer). The item stays queued:
 * the task takes it with push_lock (take_item()). */
static gboolean
wait_for_item (GstIpcSrc * self, gboolean * disconnected,
    GstFlowReturn * flow, gboolean * from_buffer)
{
  gboolean queued;

  g_mutex_lock (&self->lock);
  while (!self->flushing && g_queue_is_empty (&self->items) &&
      !self->disconnected && self->pending_flow == GST_FLOW_OK) {
    self->task_waiting = TRUE;
    g_cond_wait (&self->cond, &self->lock);
    self->task_waiting = FALSE;
  }
  *flow = self->pending_flow;
  *from_buffer = self->pending_from_buffer;
  self->pending_flow = GST_FLOW_OK;
  queued = !self->flushing && *flow == GST_FLOW_OK &&
      !g_queue_is_empty (&self->items);
  *disconnected = !queued && self->disconnected && !self->flushing &&
      *flow == GST_FLOW_OK;
  g_mutex_unlock (&self->lock);
  return queued;
}

/* With push_lock: the next item, or NULL if a flush from the producer or
 * a failed push came since wait_for_item(). Taken only once push_lock is
 * held, so that a flush while a reader pushes (a seek from inside its
 * push) drops every item from before it: none waits on push_lock, out of
 * the flush's reach. */
static Item *
take_item (GstIpcSrc * self)
{
  Item *item = NULL;

  g_mutex_lock (&self->lock);
  if (!self->flushing && self->pending_flow == GST_FLOW_OK)
    item = g_queue_pop_head (&self->items);
  if (item != NULL && GST_IS_EVENT (item->object))
    self->queued_events--;
  g_mutex_unlock (&self->lock);
  return item;
}

/* do-timestamp: a buffer that came without a timestamp leaves with the
 * running time at which it is pushed, as GstBaseSrc stamps it: in the
 * producer's segment, less the pad offset that live mode applies. Without
 * a clock (not PLAYING yet) it stays as it is. */
static void
stamp_buffer (GstIpcSrc * self, GstBuffer * buffer)
{
  GstClock *clock;
  GstEvent *event;
  GstClockTime now, base, stamp = GST_CLOCK_TIME_NONE;
  gint64 running;

  if (GST_BUFFER_PTS_IS_VALID (buffer) || GST_BUFFER_DTS_IS_VALID (buffer) ||
      (clock = gst_element_get_clock (GST_ELEMENT (self))) == NULL)
    return;
  now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  base = gst_element_get_base_time (GST_ELEMENT (self));
  running = (gint64) (now - base) - gst_pad_get_offset (self->srcpad);
  if (now < base || running < 0)
    return;
  event = gst_pad_get_sticky_event (self->srcpad, GST_EVENT_SEGMENT, 0);
  if (event != NULL) {
    const GstSegment *segment;

    gst_event_parse_segment (event, &segment);
    if (segment->format == GST_FORMAT_TIME)
      stamp = gst_segment_position_from_running_time (segment,
          GST_FORMAT_TIME, (GstClockTime) running);
    gst_event_unref (event);
  }
  if (!GST_CLOCK_TIME_IS_VALID (stamp))
    stamp = (GstClockTime) running;
  GST_BUFFER_DTS (buffer) = stamp;
  if (!GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT))
    GST_BUFFER_PTS (buffer) = stamp;
  GST_LOG_OBJECT (self, "stamped a buffer with %" GST_TIME_FORMAT,
      GST_TIME_ARGS (stamp));
}

/* With push_lock. The producer lends us at most max_in_flight buffers at
 * once, and a buffer downstream keeps is one it cannot lend again: a
 * demuxer in push mode gathering a whole mdat before its moov, a parser's
 * adapter, a deep queue would hold them all and wait for more data, while
 * the producer waits for a slot. So once downstream would hold all but a
 * quarter of them, @buffer (taken) is copied and its slot goes back at
 * once; v4l2src copies likewise when its pool runs low. Buffers still
 * queued here do not count: they are ours to push, and copying them would
 * let the producer grow the queue without bound. */
static GstBuffer *
copy_if_slots_run_low (GstIpcSrc * self, GstBuffer * buffer)
{
  GstMemory *mem = gst_buffer_n_memory (buffer) == 1 ?
      gst_buffer_peek_memory (buffer, 0) : NULL;
  LentSlot *lent = mem ? gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST
      (mem), lent_slot_quark) : NULL;
  GstBuffer *copy;
  gint held, queued, lends;

  if (lent == NULL)
    return buffer;
  g_mutex_lock (&self->lock);
  queued = (gint) (self->items.length - self->queued_events);
  g_mutex_unlock (&self->lock);
  /* this one included */
  held = g_atomic_int_get (&lent->session->outstanding) - queued;
  lends = (gint) lent->session->max_in_flight;
  if (held + MAX (lends / 4, 1) <= lends)
    return buffer;
  copy = gst_buffer_copy_deep (buffer);
  gst_buffer_unref (buffer);    /* and @lent with it */
  g_mutex_lock (&self->lock);
  if (self->buffers_copied++ == 0)
    GST_INFO_OBJECT (self, "downstream holds %d of the %d buffers the "
        "producer lends at once: copying the next ones until it lets some "
        "go", held - 1, lends);
  g_mutex_unlock (&self->lock);
  return copy;
}

/* With push_lock. Takes @buffer. After the last of num-buffers, answers
 * GST_FLOW_EOS, so that the task ends the stream, and lets go of what is
 * queued and of all that comes after. */
static GstFlowReturn
push_buffer (GstIpcSrc * self, GstBuffer * buffer, guint64 base_time)
{
  GQueue dropped = G_QUEUE_INIT;
  gboolean live, stamp, first_over = FALSE, last = FALSE;
  GstFlowReturn ret;

  g_mutex_lock (&self->lock);
  if (!self->ended && self->buffers_left == 0)
    first_over = TRUE;          /* num-buffers=0 */
  else if (!self->ended && self->buffers_left > 0)
    last = --self->buffers_left == 0;
  if (first_over || last) {
    self->ended = TRUE;
    dropped = take_items_locked (self);
  }
  if (self->ended && !last) {
    g_mutex_unlock (&self->lock);
    gst_buffer_unref (buffer);
    free_items (&dropped);
    return first_over ? GST_FLOW_EOS : GST_FLOW_OK;
  }
  self->buffers_received++;
  if (self->discont) {
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
    self->discont = FALSE;
  }
  live = self->live;
  stamp = self->stamp;
  g_mutex_unlock (&self->lock);
  free_items (&dropped);

  if (live)
    sync_running_time (self, base_time);
  if (stamp)
    stamp_buffer (self, buffer);
  buffer = copy_if_slots_run_low (self, buffer);
  GST_LOG_OBJECT (self, "pushing %" GST_PTR_FORMAT, buffer);
  ret = gst_pad_push (self->srcpad, buffer);
  if (last) {
    GST_INFO_OBJECT (self, "num-buffers reached: ending the stream");
    if (ret == GST_FLOW_OK || ret == GST_FLOW_FLUSHING)
      ret = GST_FLOW_EOS;
  }
  return ret;
}

/* With push_lock. Takes the item's object. */
static GstFlowReturn
push_object (GstIpcSrc * self, Item * item)
{
  GstEvent *event;
  gboolean eos, ended;

  if (GST_IS_BUFFER (item->object))
    return push_buffer (self, GST_BUFFER_CAST (item->object), item->base_time);

  event = GST_EVENT_CAST (item->object);
  eos = GST_EVENT_TYPE (event) == GST_EVENT_EOS;
  g_mutex_lock (&self->lock);
  ended = self->ended;
  g_mutex_unlock (&self->lock);
  if (ended) {
    gst_event_unref (event);
    return GST_FLOW_OK;
  }
  GST_LOG_OBJECT (self, "pushing %" GST_PTR_FORMAT, event);
  if (!gst_pad_push_event (self->srcpad, event) && eos)
    return GST_FLOW_EOS;
  return GST_FLOW_OK;
}

/* With push_lock. Takes the item's object. Marks the calling thread as
 * the one pushing, for a seek that downstream asks from inside the push
 * (seek_upstream()). */
static GstFlowReturn
push_item (GstIpcSrc * self, Item * item)
{
  GstFlowReturn ret;

  g_atomic_pointer_set (&self->pusher, g_thread_self ());
  ret = push_object (self, item);
  g_atomic_pointer_set (&self->pusher, NULL);
  return ret;
}

/* The producer is gone and we were asked to wait for it: retry. */
static void
reconnect (GstIpcSrc * self)
{
  GError *error = NULL;
  guint interval;
  gint64 deadline;

  end_session (self);
  GST_OBJECT_LOCK (self);
  interval = self->reconnect_interval;
  GST_OBJECT_UNLOCK (self);

  if (connect_to_producer (self, &error)) {
    GST_INFO_OBJECT (self, "reconnected to the producer after %u failed "
        "attempts", self->reconnect_attempts);
    self->reconnect_attempts = 0;
    return;
  }
  if (self->reconnect_attempts++ == 0)
    GST_INFO_OBJECT (self, "waiting for the producer to come back, trying "
        "every %u ms: %s", interval, error->message);
  else
    GST_DEBUG_OBJECT (self, "reconnect attempt %u: %s",
        self->reconnect_attempts, error->message);
  g_clear_error (&error);
  deadline = g_get_monotonic_time () + interval * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&self->lock);
  self->disconnected = TRUE;
  while (!self->flushing && g_cond_wait_until (&self->cond, &self->lock,
          deadline));
  g_mutex_unlock (&self->lock);
}

/* @pushed_buffer: @ret is what downstream answered to a buffer. */
static void
handle_flow (GstIpcSrc * self, GstFlowReturn ret, gboolean pushed_buffer)
{
  gboolean flushing;

  if (ret == GST_FLOW_OK)
    return;
  g_mutex_lock (&self->lock);
  flushing = self->flushing;
  g_mutex_unlock (&self->lock);
  /* FLUSHING while we are not stopping: a flush the producer forwarded,
   * the stream goes on after its FLUSH_STOP. */
  if (ret == GST_FLOW_FLUSHING && !flushing)
    return;
  GST_DEBUG_OBJECT (self, "pausing: %s", gst_flow_get_name (ret));
  gst_pad_pause_task (self->srcpad);
  if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) {
    GST_ELEMENT_FLOW_ERROR (self, ret);
    gst_pad_push_event (self->srcpad, gst_event_new_eos ());
  } else if (ret == GST_FLOW_EOS && pushed_buffer) {
    /* Downstream wants no more data: as basesrc does, end the stream for
     * the rest of the pipeline, which would otherwise never see EOS. */
    gst_pad_push_event (self->srcpad, gst_event_new_eos ());
  }
}

/* The task: pushes the next item, if a flush did not take it meanwhile. */
static void
push_next (GstIpcSrc * self)
{
  GstFlowReturn ret;
  gboolean is_buffer;
  Item *item;

  g_mutex_lock (&self->push_lock);
  item = take_item (self);
  if (item == NULL) {
    g_mutex_unlock (&self->push_lock);
    return;
  }
  is_buffer = GST_IS_BUFFER (item->object);
  ret = push_item (self, item);
  g_mutex_unlock (&self->push_lock);
  g_free (item);
  handle_flow (self, ret, is_buffer);
}

static void
gst_ipc_src_loop (GstIpcSrc * self)
{
  gboolean disconnected, reconnecting, is_buffer, ended;
  GstFlowReturn ret;

  if (wait_for_item (self, &disconnected, &ret, &is_buffer)) {
    push_next (self);
    return;
  }
  if (ret != GST_FLOW_OK) {
    handle_flow (self, ret, is_buffer);
    return;
  }
  g_mutex_lock (&self->lock);
  ended = self->ended;
  g_mutex_unlock (&self->lock);
  GST_OBJECT_LOCK (self);
  reconnecting = self->reconnect && self->socket_path != NULL && !ended;
  GST_OBJECT_UNLOCK (self);
  if (disconnected && reconnecting) {
    reconnect (self);
    return;
  }
  /* Checked again under the lock that start_task() takes to clear the
   * flag: a live source going PLAYING -> PAUSED -> PLAYING quickly must
   * not end up with its task paused in PLAYING. */
  g_mutex_lock (&self->lock);
  if (self->flushing || (self->disconnected && g_queue_is_empty (&self->items)))
    gst_pad_pause_task (self->srcpad);
  g_mutex_unlock (&self->lock);
}

/* ---- pad functions ----------------------------------------------------- */

/* The producer's connection, if it takes events and queries upstream
 * (fd mode). A producer whose HELLO came but was not handled yet (we are
 * READY a moment after it) is waited for that long, not for a HELLO still
 * to come: it greets once it is READY itself. */
static GstPxConnection *
upstream_peer (GstIpcSrc * self)
{
  GstPxConnection *conn = NULL, *greeting = NULL;

  g_mutex_lock (&self->lock);
  if (self->session && self->session->upstream)
    conn = gst_px_connection_ref (self->session->conn);
  else if (self->session && !self->session->hello)
    greeting = gst_px_connection_ref (self->session->conn);
  g_mutex_unlock (&self->lock);
  if (greeting == NULL)
    return conn;
  gst_px_connection_wait_read (greeting, GST_PX_CONNECTION_REPLY_TIMEOUT);
  g_mutex_lock (&self->lock);
  if (self->session && self->session->conn == greeting &&
      self->session->upstream)
    conn = gst_px_connection_ref (greeting);
  g_mutex_unlock (&self->lock);
  gst_px_connection_unref (greeting);
  return conn;
}

typedef struct
{
  GstIpcSrc *self;
  guint32 seqnum;
  gboolean in_push;             /* asked from inside our push */
  guint64 request_id;           /* 0 until the connection gives it */
} SeekWait;

/* With push_lock, in a seek from inside our push: the FLUSH_STOP it caused,
 * if it came, out of the hands of seek_flush(). */
static void
push_seek_flush_stop (GstIpcSrc * self, gboolean done)
{
  GstEvent *flush_stop;

  g_mutex_lock (&self->lock);
  flush_stop = g_steal_pointer (&self->push_seek_flush_stop);
  if (done)
    self->push_seek_request = 0;
  g_mutex_unlock (&self->lock);
  if (flush_stop == NULL)
    return;
  GST_DEBUG_OBJECT (self, "pushing the flush of a seek from inside our push");
  gst_pad_push_event (self->srcpad, flush_stop);
}

/* GstPxConnectionWaitFunc, on the seeking thread: first the request id,
 * then (in a seek from inside our push) the FLUSH_STOP seek_flush() hands
 * over. */
static void
seek_wait (GstPxConnection * conn, guint64 request_id, gpointer user_data)
{
  SeekWait *wait = user_data;
  GstIpcSrc *self = wait->self;

  if (wait->request_id == 0) {
    wait->request_id = request_id;
    g_mutex_lock (&self->lock);
    self->seek_request = request_id;
    self->seek_seqnum = wait->seqnum;
    if (wait->in_push) {
      self->push_seek_request = request_id;
      self->push_seek_seqnum = wait->seqnum;
    }
    g_mutex_unlock (&self->lock);
  } else if (wait->in_push) {
    push_seek_flush_stop (self, FALSE);
  }
}

/* The seeker acts on the result: a demuxer seeks upstream in time first,
 * and in bytes itself when that fails. The reply can take as long as the
 * producer's flush. A demuxer in push mode also seeks from inside our
 * push, holding the stream lock, and expects the flush before its seek
 * returns, as in one process where basesrc flushes on the seeking thread:
 * the FLUSH_STOP the seek causes is pushed here, and the answer comes only
 * after it (gst_px_connection_event()). Takes @event. */
static gboolean
seek_upstream (GstIpcSrc * self, GstPxConnection * peer, GstEvent * event)
{
  SeekWait wait = { self, gst_event_get_seqnum (event), FALSE, 0 };
  gboolean handled;

  wait.in_push = g_atomic_pointer_get (&self->pusher) == g_thread_self ();
  handled = gst_px_connection_event (peer, event, SEEK_TIMEOUT, seek_wait,
      &wait);
  if (wait.in_push)
    push_seek_flush_stop (self, TRUE);
  gst_event_unref (event);
  return handled;
}

static gboolean
gst_ipc_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstIpcSrc *self = GST_IPC_SRC (parent);
  GstPxConnection *peer = upstream_peer (self);
  int ret = -ENOTSUP;

  if (peer != NULL && GST_EVENT_TYPE (event) == GST_EVENT_SEEK) {
    gboolean handled = seek_upstream (self, peer, event);

    gst_px_connection_unref (peer);
    return handled;
  }
  if (peer != NULL) {
    ret = gst_px_connection_send_event (peer, event, TRUE, 0,
        GST_PX_CONNECTION_REPLY_TIMEOUT);
    gst_px_connection_unref (peer);
  }
  if (ret == 0) {
    gst_event_unref (event);
    return TRUE;
  }
  return gst_pad_event_default (pad, parent, event);
}

/* Live: the producer's latency. FALSE when not live. */
static gboolean
answer_latency (GstIpcSrc * self, GstQuery * query)
{
  gboolean live;
  GstClockTime min, max;

  g_mutex_lock (&self->lock);
  live = self->live;
  min = self->latency_min;
  max = self->latency_max;
  g_mutex_unlock (&self->lock);
  if (live)
    gst_query_set_latency (query, TRUE, min, max);
  return live;
}

static gboolean
gst_ipc_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstIpcSrc *self = GST_IPC_SRC (parent);
  GstPxConnection *peer;
  gboolean ok = FALSE;

  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY &&
      answer_latency (self, query))
    return TRUE;
  if (GST_QUERY_TYPE (query) == GST_QUERY_SCHEDULING)
    return gst_pad_query_default (pad, parent, query);

  peer = upstream_peer (self);
  if (peer != NULL) {
    ok = gst_px_connection_query (peer, query, GST_PX_CONNECTION_REPLY_TIMEOUT);
    gst_px_connection_unref (peer);
  }
  return ok || gst_pad_query_default (pad, parent, query);
}

/* ---- state ------------------------------------------------------------- */

/* fd mode: the one producer on an fd is ours from NULL -> READY to READY ->
 * NULL, as for ipcsink: we greet it, and answer its queries, in READY
 * already. A socket-path connection lives from READY -> PAUSED to PAUSED ->
 * READY (each stream connects anew). */
static gboolean
on_fd (GstIpcSrc * self)
{
  gboolean fd_mode;

  GST_OBJECT_LOCK (self);
  fd_mode = self->socket_path == NULL && self->fd >= 0;
  GST_OBJECT_UNLOCK (self);
  return fd_mode;
}

/* NULL -> READY. */
static gboolean
open_fd (GstIpcSrc * self)
{
  GError *error = NULL;

  g_mutex_lock (&self->lock);
  g_clear_error (&self->closed_early);
  g_mutex_unlock (&self->lock);
  if (!on_fd (self) || connect_to_producer (self, &error))
    return TRUE;
  post_message (self, FALSE, error->domain, error->code,
      g_strdup (error->message), NULL);
  g_clear_error (&error);
  return FALSE;
}

/* READY -> NULL. */
static void
close_fd (GstIpcSrc * self)
{
  end_session (self);
  g_mutex_lock (&self->lock);
  g_clear_error (&self->closed_early);
  g_mutex_unlock (&self->lock);
}

/* READY -> PAUSED: the connection made at NULL -> READY, if there is one.
 * FALSE, with the error posted, if its producer left before this without
 * ending its stream. */
static gboolean
start_on_open_session (GstIpcSrc * self, gboolean * open)
{
  GError *early;

  g_mutex_lock (&self->lock);
  *open = self->session != NULL;
  early = g_steal_pointer (&self->closed_early);
  g_mutex_unlock (&self->lock);
  /* Without one, what is left is the end of a connection gone since. */
  if (!*open)
    g_clear_error (&early);
  if (early == NULL)
    return TRUE;
  post_message (self, FALSE, early->domain, early->code,
      g_strdup (early->message), NULL);
  g_error_free (early);
  return FALSE;
}

static gboolean
start (GstIpcSrc * self)
{
  GError *error = NULL;
  gboolean live, stamp, reconnecting, open;
  gint num_buffers;

  GST_OBJECT_LOCK (self);
  live = self->is_live;
  stamp = self->do_timestamp;
  num_buffers = self->num_buffers;
  reconnecting = self->reconnect && self->socket_path != NULL;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->push_lock);
  self->applied_offset = 0;
  g_mutex_unlock (&self->push_lock);
  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  self->streaming = TRUE;
  self->pending_flow = GST_FLOW_OK;
  self->buffers_received = 0;
  self->buffers_copied = 0;
  self->latency_min = 0;
  self->latency_max = GST_CLOCK_TIME_NONE;
  self->live = live;
  self->stamp = stamp;
  self->buffers_left = num_buffers;
  self->ended = FALSE;
  self->discont = TRUE;
  g_mutex_unlock (&self->lock);
  self->reconnect_attempts = 0;
  gst_pad_set_offset (self->srcpad, 0);

  if (!start_on_open_session (self, &open))
    return FALSE;
  if (open)
    return TRUE;
  g_mutex_lock (&self->lock);
  self->disconnected = FALSE;
  g_mutex_unlock (&self->lock);
  if (connect_to_producer (self, &error))
    return TRUE;
  if (reconnecting) {
    GST_INFO_OBJECT (self, "%s; waiting for the producer, trying again "
        "every reconnect-interval", error->message);
    g_mutex_lock (&self->lock);
    self->disconnected = TRUE;
    g_mutex_unlock (&self->lock);
    g_clear_error (&error);
    return TRUE;
  }
  post_message (self, FALSE, error->domain, error->code,
      g_strdup (error->message), NULL);
  g_clear_error (&error);
  return FALSE;
}

typedef struct
{
  GQueue items;
  gboolean producer_ended;
} StickyEvents;

/* An EOS the pad holds goes out again only if the producer ended its
 * stream: otherwise it is the one we sent when downstream answered EOS,
 * as a sink going to READY answers a push it no longer takes. */
static gboolean
collect_sticky_event (GstPad * pad, GstEvent ** event, gpointer user_data)
{
  StickyEvents *sticky = user_data;
  Item *item;

  if (GST_EVENT_TYPE (*event) == GST_EVENT_EOS && !sticky->producer_ended)
    return TRUE;
  item = g_new (Item, 1);
  item->object = GST_MINI_OBJECT_CAST (gst_event_ref (*event));
  item->base_time = 0;
  g_queue_push_tail (&sticky->items, item);
  return TRUE;
}

static gboolean
producer_ended (GstIpcSrc * self)
{
  Session *session = NULL;
  gboolean ended = FALSE;

  g_mutex_lock (&self->lock);
  if (self->session)
    session = session_ref (self->session);
  g_mutex_unlock (&self->lock);
  if (session == NULL)
    return FALSE;
  g_mutex_lock (&session->lock);
  ended = session->got_eos;
  g_mutex_unlock (&session->lock);
  session_unref (session);
  return ended;
}

/* PAUSED -> READY on an fd, whose connection stays: the stream's sticky
 * events (stream-start, caps, segment, ...), which the pad forgets as it
 * stops, go out again before what comes next once we are PAUSED again;
 * what was queued goes but for its sticky events, which are newer. */
static void
keep_sticky_events (GstIpcSrc * self, GQueue * items)
{
  StickyEvents sticky = { G_QUEUE_INIT, producer_ended (self) };
  GQueue kept;
  Item *item;

  gst_pad_sticky_events_foreach (self->srcpad, collect_sticky_event, &sticky);
  kept = sticky.items;
  while ((item = g_queue_pop_head (items)) != NULL) {
    if (GST_IS_EVENT (item->object) &&
        GST_EVENT_IS_STICKY (GST_EVENT_CAST (item->object))) {
      g_queue_push_tail (&kept, item);
      continue;
    }
    gst_mini_object_unref (item->object);
    g_free (item);
  }
  g_mutex_lock (&self->lock);
  self->queued_events += kept.length;
  while ((item = g_queue_pop_tail (&kept)) != NULL)
    g_queue_push_head (&self->items, item);
  g_mutex_unlock (&self->lock);
}

static void
stop (GstIpcSrc * self)
{
  gboolean keep = on_fd (self);
  GQueue items;

  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  self->streaming = FALSE;
  wake_task (self);
  g_mutex_unlock (&self->lock);
  gst_pad_stop_task (self->srcpad);
  if (!keep)
    end_session (self);
  g_mutex_lock (&self->lock);
  items = take_items_locked (self);
  /* what a seek from inside our push left, if the connection ended before
   * it could push it */
  gst_clear_event (&self->push_seek_flush_stop);
  g_mutex_unlock (&self->lock);
  if (keep)
    keep_sticky_events (self, &items);
  free_items (&items);
}

static gboolean
start_task (GstIpcSrc * self)
{
  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  g_mutex_unlock (&self->lock);
  return gst_pad_start_task (self->srcpad, (GstTaskFunction) gst_ipc_src_loop,
      self, NULL);
}

/* Live, PLAYING to PAUSED. The task pauses itself once it sees the flag:
 * waiting for it here would deadlock when it is blocked in a sink that
 * already went to PAUSED and waits for preroll (sinks change state
 * first). */
static void
pause_task (GstIpcSrc * self)
{
  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  wake_task (self);
  g_mutex_unlock (&self->lock);
}

static GstStateChangeReturn
gst_ipc_src_change_state (GstElement * element, GstStateChange transition)
{
  GstIpcSrc *self = GST_IPC_SRC (element);
  GstStateChangeReturn ret;
  gboolean live;

  GST_OBJECT_LOCK (self);
  live = self->is_live;
  GST_OBJECT_UNLOCK (self);

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!open_fd (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!start (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      if (live && !start_task (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      if (live)
        pause_task (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
      stop (self);
    if (transition == GST_STATE_CHANGE_NULL_TO_READY)
      close_fd (self);
    return ret;
  }
  if (transition == GST_STATE_CHANGE_READY_TO_NULL)
    close_fd (self);
  /* Not before the pad is active (the parent class activates it): what
   * is pushed on an inactive pad is lost, the stream-start first. A live
   * source produces in PLAYING only. */
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && !live &&
      !start_task (self)) {
    stop (self);
    return GST_STATE_CHANGE_FAILURE;
  }
  if (live && (transition == GST_STATE_CHANGE_READY_TO_PAUSED ||
          transition == GST_STATE_CHANGE_PLAYING_TO_PAUSED))
    ret = GST_STATE_CHANGE_NO_PREROLL;
  return ret;
}

/* ---- GObject ----------------------------------------------------------- */

static void
gst_ipc_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstIpcSrc *self = GST_IPC_SRC (object);
  gboolean refused = FALSE;

  GST_OBJECT_LOCK (self);
  if (prop_id != PROP_RECONNECT && prop_id != PROP_RECONNECT_INTERVAL &&
      GST_STATE (self) > GST_STATE_READY) {
    refused = TRUE;
  } else {
    switch (prop_id) {
      case PROP_SOCKET_PATH:
        g_free (self->socket_path);
        self->socket_path = g_value_dup_string (value);
        break;
      case PROP_FD:
        self->fd = g_value_get_int (value);
        break;
      case PROP_IS_LIVE:
        self->is_live = g_value_get_boolean (value);
        break;
      case PROP_RECONNECT:
        self->reconnect = g_value_get_boolean (value);
        break;
      case PROP_RECONNECT_INTERVAL:
        self->reconnect_interval = g_value_get_uint (value);
        break;
      case PROP_ARENA_BUDGET:
        self->arena_budget = g_value_get_uint64 (value);
        break;
      case PROP_NUM_BUFFERS:
        self->num_buffers = g_value_get_int (value);
        break;
      case PROP_DO_TIMESTAMP:
        self->do_timestamp = g_value_get_boolean (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
        break;
    }
  }
  GST_OBJECT_UNLOCK (self);
  if (refused)
    GST_WARNING_OBJECT (self, "%s can only be changed in NULL or READY",
        pspec->name);
}

static void
gst_ipc_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstIpcSrc *self = GST_IPC_SRC (object);

  /* The element's lock, which comes before the object lock. */
  if (prop_id == PROP_BUFFERS_RECEIVED || prop_id == PROP_BUFFERS_COPIED) {
    g_mutex_lock (&self->lock);
    g_value_set_uint64 (value, prop_id == PROP_BUFFERS_RECEIVED ?
        self->buffers_received : self->buffers_copied);
    g_mutex_unlock (&self->lock);
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SOCKET_PATH:
      g_value_set_string (value, self->socket_path);
      break;
    case PROP_FD:
      g_value_set_int (value, self->fd);
      break;
    case PROP_IS_LIVE:
      g_value_set_boolean (value, self->is_live);
      break;
    case PROP_RECONNECT:
      g_value_set_boolean (value, self->reconnect);
      break;
    case PROP_RECONNECT_INTERVAL:
      g_value_set_uint (value, self->reconnect_interval);
      break;
    case PROP_ARENA_BUDGET:
      g_value_set_uint64 (value, self->arena_budget);
      break;
    case PROP_NUM_BUFFERS:
      g_value_set_int (value, self->num_buffers);
      break;
    case PROP_DO_TIMESTAMP:
      g_value_set_boolean (value, self->do_timestamp);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ipc_src_finalize (GObject * object)
{
  GstIpcSrc *self = GST_IPC_SRC (object);

  g_free (self->socket_path);
  g_clear_error (&self->closed_early);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->push_lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
install_properties (GObjectClass * gobject_class)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  /**
   * GstIpcSrc:socket-path:
   *
   * The socket of the ipcsink to connect to: a file-system path, or
   * `@name` for a socket in the abstract namespace. Set this or
   * #GstIpcSrc:fd, not both.
   */
  properties[PROP_SOCKET_PATH] = g_param_spec_string ("socket-path",
      "Socket path", "The ipcsink to connect to: a file-system path, or "
      "@name for the abstract namespace", NULL, rw);

  /**
   * GstIpcSrc:fd:
   *
   * An already-connected SOCK_SEQPACKET socket to one ipcsink (the element
   * uses a duplicate, the caller keeps its own). Events and queries then
   * travel upstream too, and the producer may ask for its arenas
   * (#GstIpcSrc:arena-budget). The connection is opened at NULL -> READY
   * and closed at READY -> NULL, as ipcsink does: queries cross in READY.
   * A change in READY takes effect at the next NULL -> READY. -1: use
   * #GstIpcSrc:socket-path.
   */
  properties[PROP_FD] = g_param_spec_int ("fd", "File descriptor",
      "An already-connected SOCK_SEQPACKET socket to an ipcsink (the "
      "element uses a duplicate); events and queries then also travel "
      "upstream", -1, G_MAXINT, -1, rw);

  /**
   * GstIpcSrc:is-live:
   *
   * Act as a live source: produce in PLAYING only, keep the producer's
   * running times (through the monotonic clock) and answer the LATENCY
   * query with the producer's latency. Otherwise pass timestamps and
   * segments unchanged and preroll, as an element in the middle of a
   * pipeline does.
   */
  properties[PROP_IS_LIVE] = g_param_spec_boolean ("is-live", "Is live",
      "Act as a live source, keeping the producer's running times; "
      "otherwise pass timestamps unchanged and preroll", DEFAULT_IS_LIVE, rw);

  /**
   * GstIpcSrc:reconnect:
   *
   * When the producer goes away (socket-path only), wait for one to come
   * back at the same path instead of posting an error. May be changed in
   * any state.
   */
  properties[PROP_RECONNECT] = g_param_spec_boolean ("reconnect",
      "Reconnect", "When the producer goes away (socket-path only), wait for "
      "it to come back instead of posting an error", DEFAULT_RECONNECT,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);

  /**
   * GstIpcSrc:reconnect-interval:
   *
   * Milliseconds between two attempts to reach the producer again
   * (#GstIpcSrc:reconnect). May be changed in any state.
   */
  properties[PROP_RECONNECT_INTERVAL] = g_param_spec_uint
      ("reconnect-interval", "Reconnect interval",
      "Milliseconds between connection attempts", 1, 60000,
      DEFAULT_RECONNECT_INTERVAL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING);

  /**
   * GstIpcSrc:arena-budget:
   *
   * Bytes of arenas this element creates, over the whole connection, for a
   * producer that may create no shared memory itself (a sandboxed
   * worker's ipcsink, on #GstIpcSrc:fd): what the producer's memory limit
   * allows. 0: none are made.
   */
  properties[PROP_ARENA_BUDGET] = g_param_spec_uint64 ("arena-budget",
      "Arena budget", "Bytes of arenas made, in total, for a producer that "
      "may not make its own (a sandboxed worker: its memory limit; fd only; "
      "0 = none)", 0, G_MAXUINT64, DEFAULT_ARENA_BUDGET, rw);

  /**
   * GstIpcSrc:buffers-received:
   *
   * Buffers pushed downstream since the element left READY.
   */
  properties[PROP_BUFFERS_RECEIVED] = g_param_spec_uint64
      ("buffers-received", "Buffers received", "Buffers pushed downstream",
      0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * GstIpcSrc:buffers-copied:
   *
   * Buffers of #GstIpcSrc:buffers-received that were copied out of the
   * producer's shared memory instead of lent, since the element left READY:
   * the producer lends a bounded number of buffers at once, and once
   * downstream holds all but a quarter of them (a demuxer gathering data,
   * a deep queue), the next ones are copied so that the producer is never
   * left waiting for a slot that downstream keeps until more data comes.
   */
  properties[PROP_BUFFERS_COPIED] = g_param_spec_uint64
      ("buffers-copied", "Buffers copied", "Buffers copied out of shared "
      "memory because downstream held most of those the producer lends",
      0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * GstIpcSrc:num-buffers:
   *
   * End the stream after this many buffers, as any GStreamer source does:
   * EOS goes downstream after the last, and whatever the producer sends
   * afterwards is let go at once (its slots return to it). -1: no limit.
   */
  properties[PROP_NUM_BUFFERS] = g_param_spec_int ("num-buffers",
      "num-buffers", "Number of buffers to output before sending EOS "
      "(-1 = unlimited)", -1, G_MAXINT, DEFAULT_NUM_BUFFERS, rw);

  /**
   * GstIpcSrc:do-timestamp:
   *
   * Stamp a buffer that comes without a timestamp (neither PTS nor DTS)
   * with the running time at which it is pushed, as GstBaseSrc does;
   * buffers the producer stamped keep their timestamps. Without a clock
   * (before PLAYING), buffers stay as they came.
   */
  properties[PROP_DO_TIMESTAMP] = g_param_spec_boolean ("do-timestamp",
      "Do timestamp", "Apply the current running time to buffers that come "
      "without a timestamp", DEFAULT_DO_TIMESTAMP, rw);

  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);
}

static void
gst_ipc_src_class_init (GstIpcSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_ipc_src_set_property;
  gobject_class->get_property = gst_ipc_src_get_property;
  gobject_class->finalize = gst_ipc_src_finalize;
  install_properties (gobject_class);

  element_class->change_state = gst_ipc_src_change_state;
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Inter-process source", "Source/Network",
      "Receives buffers from an ipcsink in another process, without copying "
      "them", "The Parallax developers");
  lent_slot_quark = g_quark_from_static_string ("parallax-lent-slot");
}

static void
gst_ipc_src_init (GstIpcSrc * self)
{
  self->fd = -1;
  self->is_live = DEFAULT_IS_LIVE;
  self->reconnect = DEFAULT_RECONNECT;
  self->reconnect_interval = DEFAULT_RECONNECT_INTERVAL;
  self->arena_budget = DEFAULT_ARENA_BUDGET;
  self->num_buffers = DEFAULT_NUM_BUFFERS;
  self->do_timestamp = DEFAULT_DO_TIMESTAMP;
  self->live = DEFAULT_IS_LIVE;
  self->buffers_left = DEFAULT_NUM_BUFFERS;
  self->latency_max = GST_CLOCK_TIME_NONE;
  g_mutex_init (&self->lock);
  g_mutex_init (&self->push_lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->items);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_event_function (self->srcpad, gst_ipc_src_event);
  gst_pad_set_query_function (self->srcpad, gst_ipc_src_query);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}
