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
 * A producer that may create no shared memory (a sandboxed worker's
 * ipcsink) asks for its arenas instead: ipcsrc creates them, within
 * #GstIpcSrc:arena-budget bytes in total, and hands them over writable to
 * that producer alone.
 *
 * Anything malformed from the producer — a bad message, an unknown arena, a
 * slot out of range, an unsealed memfd, a video meta that does not fit its
 * buffer — ends the connection with an error on the bus. So does a producer
 * that goes away, unless #GstIpcSrc:reconnect is set.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 ipcsrc socket-path=/tmp/camera ! videoconvert ! autovideosink
 * ]|
 */

#include "gstipcsrc.h"
#include "gstipcarenarequest.h"
#include "gstpxarenaallocator.h"
#include "gstpxconnection.h"
#include "gstpxserialize.h"
#include "px-arena.h"
#include "px-fd.h"
#include "px-unix.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>

GST_DEBUG_CATEGORY_STATIC (gst_ipc_src_debug);
#define GST_CAT_DEFAULT gst_ipc_src_debug

#define DEFAULT_IS_LIVE TRUE
#define DEFAULT_RECONNECT FALSE
#define DEFAULT_RECONNECT_INTERVAL 500
/* The most buffers a producer may announce it keeps in flight. */
#define MAX_IN_FLIGHT 1024
/* Events queued for the streaming thread at most; buffers are bounded by
 * the producer's announced max-in-flight. A producer that sends events
 * faster than downstream takes them is broken or hostile. */
#define MAX_QUEUED_EVENTS 256
/* How long a consumer waits for the producer to greet it. */
#define HELLO_TIMEOUT (5 * G_TIME_SPAN_SECOND)

enum
{
  PROP_0,
  PROP_SOCKET_PATH,
  PROP_FD,
  PROP_IS_LIVE,
  PROP_RECONNECT,
  PROP_RECONNECT_INTERVAL,
  PROP_BUFFERS_RECEIVED,
  PROP_ARENA_BUDGET,
};

/* One connection to a producer. Buffers outlive it (downstream may hold
 * them), so it is refcounted: each buffer's memory holds a reference. */
typedef struct
{
  gint refcount;
  GstIpcSrc *src;               /* cleared when the element lets go */
  GstPxConnection *conn;
  /* Held while a message is handled. Messages come one at a time, in
   * order, until a handler gives its turn up to push (see
   * gstpxconnection.h); this guards what session_closed() reads, which the
   * other reader may call meanwhile. */
  GMutex lock;
  PxArenaTable arenas;
  gboolean hello;
  gboolean upstream;            /* producer offered events/queries upstream */
  guint max_in_flight;
  /* What the producer's HELLO said its stream needs, and what its arenas
   * on this connection hold now. */
  guint64 max_arena_size, max_arena_total, arena_bytes;
  gint outstanding;             /* buffers given out, not yet done */
  gboolean got_eos;
  guint64 arena_bytes_granted;  /* arenas made for the producer, in total */
} Session;

/* What the reader hands the streaming task, in order; or pushes itself. */
typedef struct
{
  GstMiniObject *object;        /* GstBuffer or GstEvent */
  guint64 base_time;            /* producer's, for buffers */
} Item;

struct _GstIpcSrc
{
  GstElement parent;
  GstPad *srcpad;

  /* properties (object lock) */
  gchar *socket_path;
  gint fd;
  gboolean is_live;
  gboolean reconnect;
  guint reconnect_interval;
  guint64 arena_budget;

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
  gboolean discont;             /* mark the next buffer DISCONT */
  GstClockTime latency_min, latency_max;
  guint64 buffers_received;

  /* Held by whoever pushes a buffer or serialized event: the task, or a
   * reader that found the task idle. */
  GMutex push_lock;
  gint64 applied_offset;        /* (push_lock) */
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
  gst_px_connection_unref (session->conn);
  g_mutex_clear (&session->lock);
  g_free (session);
}

/* A lent slot's root memory was freed: tell the producer. */
typedef struct
{
  Session *session;
  guint64 buffer_id;
} LentSlot;

static void
lent_slot_free (gpointer data)
{
  LentSlot *lent = data;

  /* Count it back first: once the id is queued, the producer may get it
   * and send the next buffer before this thread runs again. */
  g_atomic_int_add (&lent->session->outstanding, -1);
  gst_px_connection_buffer_done (lent->session->conn, lent->buffer_id);
  session_unref (lent->session);
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
 * the message's turn, so that what the readers hand on keeps its order. */
static gboolean
queue_or_claim (GstIpcSrc * self, GstMiniObject * object, guint64 base_time,
    Item * claimed)
{
  Item *item;

  g_mutex_lock (&self->lock);
  if (self->task_waiting && g_queue_is_empty (&self->items) &&
      !self->flushing && self->pending_flow == GST_FLOW_OK &&
      g_mutex_trylock (&self->push_lock)) {
    g_mutex_unlock (&self->lock);
    claimed->object = object;
    claimed->base_time = base_time;
    return TRUE;
  }
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

static void
clear_items_locked (GstIpcSrc * self)
{
  Item *item;

  while ((item = g_queue_pop_head (&self->items)) != NULL) {
    gst_mini_object_unref (item->object);
    g_free (item);
  }
  self->queued_events = 0;
}

/* ---- messages from the producer ---------------------------------------- */

static gboolean
protocol_error (GError ** error, const gchar * what)
{
  g_set_error_literal (error, GST_PX_ERROR, 0, what);
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
  session->upstream = (hello.features & PX_WIRE_FEATURE_UPSTREAM) != 0;
  session->max_in_flight = hello.max_in_flight;
  g_mutex_lock (&session->src->lock);
  session->hello = TRUE;
  wake_task (session->src);
  g_mutex_unlock (&session->src->lock);
  return TRUE;
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

static gboolean
handle_arena_add (Session * session, PxWireMessage * msg, GError ** error)
{
  PxWireArenaAdd add;
  PxArena *arena;
  int ret;

  if (px_wire_decode_arena_add (msg, &add) < 0)
    return protocol_error (error, "bad ARENA_ADD");
  /* Before it is mapped: a peer must not grow our address space beyond
   * what its HELLO announced. */
  if (add.size > session->max_arena_size ||
      add.size > session->max_arena_total - session->arena_bytes) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL, "refused arena "
        "%016" G_GINT64_MODIFIER "x of %" G_GUINT64_FORMAT " bytes: the "
        "producer announced arenas of up to %" G_GUINT64_FORMAT " bytes, %"
        G_GUINT64_FORMAT " in all (%" G_GUINT64_FORMAT " in use)",
        add.arena_id, add.size, session->max_arena_size,
        session->max_arena_total, session->arena_bytes);
    return FALSE;
  }
  /* The producer must have given up write access: no one but its creator
   * may change what we read, and its size may never change under us. */
  ret = px_arena_import (px_wire_message_steal_fd (msg), add.arena_id,
      add.size, add.slot_stride, add.slot_count, true, &arena);
  if (ret < 0) {
    g_set_error (error, GST_PX_ERROR, 0, "refused arena %016" G_GINT64_MODIFIER
        "x: %s", add.arena_id, arena_error_text (ret));
    return FALSE;
  }
  ret = px_arena_table_add (&session->arenas, arena,
      gst_px_arena_allocator_new (arena));
  if (ret < 0)
    return protocol_error (error, ret == -EEXIST ? "arena announced twice" :
        "too many arenas");
  session->arena_bytes += add.size;
  return TRUE;
}

static gboolean
handle_arena_remove (Session * session, PxWireMessage * msg, GError ** error)
{
  PxWireArenaRemove remove;
  const PxArenaTableEntry *entry;
  guint64 size;

  if (px_wire_decode_arena_remove (msg, &remove) < 0 ||
      (entry = px_arena_table_lookup (&session->arenas,
              remove.arena_id)) == NULL)
    return protocol_error (error, "bad ARENA_REMOVE");
  size = px_arena_size (entry->arena);
  if (px_arena_table_remove (&session->arenas, remove.arena_id) < 0)
    return protocol_error (error, "bad ARENA_REMOVE");
  session->arena_bytes -= size;
  return TRUE;
}

/* Wraps the slot a BUFFER message names, after checking it against the
 * arena it claims to be in. */
static GstBuffer *
wrap_buffer (Session * session, const PxWireBuffer * wire, GError ** error)
{
  const PxArenaTableEntry *entry;
  GstBuffer *buffer;
  GstMemory *mem;
  LentSlot *lent;

  entry = px_arena_table_lookup (&session->arenas, wire->arena_id);
  if (entry == NULL) {
    protocol_error (error, "buffer in an unknown arena");
    return NULL;
  }
  mem = gst_px_arena_allocator_wrap_slot (entry->data, wire->slot,
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

/* FLUSH_START from the producer is out of band: what is queued is thrown
 * away, except the sticky events (caps, tags, ...) that still describe the
 * data after the flush; they are kept on the pad, as GstQueue does, and go
 * out before the next buffer. */
static void
flush_items (GstIpcSrc * self, GstEvent * flush_start)
{
  GQueue items, kept = G_QUEUE_INIT;
  Item *item;

  g_mutex_lock (&self->lock);
  items = self->items;
  g_queue_init (&self->items);
  self->queued_events = 0;
  g_mutex_unlock (&self->lock);
  gst_pad_push_event (self->srcpad, flush_start);
  while ((item = g_queue_pop_head (&items)) != NULL) {
    GstEvent *event = GST_IS_EVENT (item->object) ?
        GST_EVENT_CAST (item->object) : NULL;

    /* Before the pad is active (the flush came while we were starting),
     * it stores nothing: the event stays queued instead. */
    if (event && GST_EVENT_IS_STICKY (event) &&
        GST_EVENT_TYPE (event) != GST_EVENT_SEGMENT &&
        GST_EVENT_TYPE (event) != GST_EVENT_EOS &&
        gst_pad_store_sticky_event (self->srcpad, event) != GST_FLOW_OK) {
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

static gboolean
handle_event (Session * session, GstIpcSrc * self, PxWireMessage * msg,
    Item * claimed, GError ** error)
{
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

  if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM &&
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
    g_set_error (error, GST_PX_ERROR, 0, "%s before HELLO",
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
      g_set_error (error, GST_PX_ERROR, 0, "unexpected %s message",
          px_wire_type_name (msg->header.type));
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

/* Takes @size out of the session's arena budget; FALSE, with why in
 * @why, when it does not fit. */
static gboolean
reserve_arena_bytes (Session * session, guint64 size, gchar ** why)
{
  GstIpcSrc *self = session->src;
  guint64 budget, granted;
  gboolean fits;

  GST_OBJECT_LOCK (self);
  budget = self->arena_budget;
  GST_OBJECT_UNLOCK (self);
  g_mutex_lock (&session->lock);
  granted = session->arena_bytes_granted;
  fits = size <= budget && granted <= budget - size;
  if (fits)
    session->arena_bytes_granted += size;
  g_mutex_unlock (&session->lock);
  if (!fits)
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

/* Pool thread: the producer asks for an arena (gstipcarenarequest.h). Only
 * over an fd (one peer) and within the budget; the answer says why not. */
static gboolean
answer_arena_request (Session * session, GstQuery * query)
{
  GstIpcSrc *self = session->src;
  guint64 slot_size = 0, id = 0;
  guint slot_count = 0;
  gchar *why = NULL;

  if (!session->upstream)
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
  if (!session->upstream)
    return FALSE;
  return gst_pad_peer_query (session->src->srcpad, query);
}

static void
session_closed (GstPxConnection * conn, const GError * error,
    gpointer user_data)
{
  Session *session = user_data;
  GstIpcSrc *self = session->src;
  gboolean reconnect, hello, got_eos;

  GST_OBJECT_LOCK (self);
  reconnect = self->reconnect && self->socket_path != NULL;
  GST_OBJECT_UNLOCK (self);
  g_mutex_lock (&session->lock);
  hello = session->hello;
  got_eos = session->got_eos;
  g_mutex_unlock (&session->lock);

  if (error != NULL && !reconnect)
    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        ("Invalid data from the producer: %s", error->message), (NULL));
  else if (error != NULL)
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        ("Invalid data from the producer, reconnecting: %s", error->message),
        (NULL));
  else if (!hello && !reconnect)
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("The producer closed the connection without greeting us"),
        ("it may serve no more clients (max-clients)"));
  else if (!got_eos && !reconnect)
    GST_ELEMENT_ERROR (self, RESOURCE, READ,
        ("The producer went away"), (NULL));
  else if (!got_eos)
    GST_ELEMENT_WARNING (self, RESOURCE, READ,
        ("The producer went away, reconnecting"), (NULL));

  g_mutex_lock (&self->lock);
  self->disconnected = TRUE;
  wake_task (self);
  g_mutex_unlock (&self->lock);
}

static const GstPxConnectionFuncs session_funcs = {
  session_message, session_query, session_closed,
  TRUE,                         /* pushes downstream */
};

/* ---- connecting -------------------------------------------------------- */

static gboolean
wait_for_hello (GstIpcSrc * self, Session * session)
{
  gint64 deadline = g_get_monotonic_time () + HELLO_TIMEOUT;
  gboolean greeted;

  g_mutex_lock (&self->lock);
  while (!session->hello && !self->disconnected && !self->flushing &&
      g_cond_wait_until (&self->cond, &self->lock, deadline));
  greeted = session->hello;
  g_mutex_unlock (&self->lock);
  return greeted;
}

static void end_session (GstIpcSrc * self);

/* Takes @fd, greets the producer and starts reading. */
static gboolean
start_session (GstIpcSrc * self, int fd, GError ** error)
{
  Session *session = g_new0 (Session, 1);
  PxWireHello hello = {.role = PX_WIRE_ROLE_CONSUMER };
  gboolean upstream;
  int ret;

  GST_OBJECT_LOCK (self);
  upstream = self->socket_path == NULL;
  GST_OBJECT_UNLOCK (self);

  session->refcount = 1;
  session->src = self;
  g_mutex_init (&session->lock);
  px_arena_table_init (&session->arenas, gst_object_unref);
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
  if (ret < 0 || !gst_px_connection_start (session->conn, error)) {
    if (ret == -EPIPE || ret == -ECONNRESET)
      g_set_error (error, GST_PX_ERROR, 0, "the producer closed the "
          "connection without greeting us; it may serve no more clients "
          "(max-clients)");
    else if (ret < 0)
      g_set_error (error, GST_PX_ERROR, 0, "cannot greet the producer: %s",
          g_strerror (-ret));
    end_session (self);
    return FALSE;
  }
  /* A producer that accepted us greets us at once; one that will not serve
   * us (max-clients) closes the socket. Learn which now, so that a refusal
   * fails the state change instead of surfacing later. With an fd, the
   * producer greets when it starts, which may be after us. */
  if (!upstream && !wait_for_hello (self, session)) {
    g_set_error (error, GST_PX_ERROR, 0, "the producer did not greet us; "
        "it may serve no more clients (max-clients)");
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
}

static gboolean
connect_to_producer (GstIpcSrc * self, GError ** error)
{
  gchar *path;
  gint fd;
  int ret;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->socket_path);
  fd = self->fd;
  GST_OBJECT_UNLOCK (self);

  if ((fd < 0) == (path == NULL)) {
    g_free (path);
    g_set_error (error, GST_PX_ERROR, 0,
        "set exactly one of socket-path and fd");
    return FALSE;
  }
  if (path != NULL) {
    ret = px_unix_connect (path);
    if (ret < 0)
      g_set_error (error, GST_PX_ERROR, 0, "cannot connect to %s: %s", path,
          g_strerror (-ret));
    g_free (path);
  } else {
    ret = px_unix_check_seqpacket (fd);
    if (ret == 0 && (ret = fcntl (fd, F_DUPFD_CLOEXEC, 3)) < 0)
      ret = px_negative_errno ();
    if (ret < 0)
      g_set_error (error, GST_PX_ERROR, 0,
          "fd %d is not a connected SOCK_SEQPACKET socket: %s", fd,
          g_strerror (-ret));
  }
  return ret >= 0 && start_session (self, ret, error);
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

/* Waits for the next item; NULL when flushing, disconnected, or when a
 * reader's push failed (*@flow, *@from_buffer). */
static Item *
next_item (GstIpcSrc * self, gboolean * disconnected, GstFlowReturn * flow,
    gboolean * from_buffer)
{
  Item *item = NULL;

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
  if (!self->flushing && *flow == GST_FLOW_OK)
    item = g_queue_pop_head (&self->items);
  if (item != NULL && GST_IS_EVENT (item->object))
    self->queued_events--;
  *disconnected = item == NULL && self->disconnected && !self->flushing &&
      *flow == GST_FLOW_OK;
  g_mutex_unlock (&self->lock);
  return item;
}

/* With push_lock. Takes the item's object. */
static GstFlowReturn
push_item (GstIpcSrc * self, Item * item)
{
  if (GST_IS_BUFFER (item->object)) {
    GstBuffer *buffer = GST_BUFFER_CAST (item->object);

    g_mutex_lock (&self->lock);
    self->buffers_received++;
    if (self->discont) {
      GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
      self->discont = FALSE;
    }
    g_mutex_unlock (&self->lock);
    if (self->is_live)
      sync_running_time (self, item->base_time);
    return gst_pad_push (self->srcpad, buffer);
  } else {
    GstEvent *event = GST_EVENT_CAST (item->object);
    gboolean eos = GST_EVENT_TYPE (event) == GST_EVENT_EOS;

    if (!gst_pad_push_event (self->srcpad, event) && eos)
      return GST_FLOW_EOS;
    return GST_FLOW_OK;
  }
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
    GST_INFO_OBJECT (self, "reconnected to the producer");
    return;
  }
  GST_DEBUG_OBJECT (self, "reconnect: %s", error->message);
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

static void
gst_ipc_src_loop (GstIpcSrc * self)
{
  gboolean disconnected, reconnecting, is_buffer;
  GstFlowReturn ret;
  Item *item = next_item (self, &disconnected, &ret, &is_buffer);

  if (ret != GST_FLOW_OK) {
    handle_flow (self, ret, is_buffer);
    return;
  }
  if (item == NULL) {
    GST_OBJECT_LOCK (self);
    reconnecting = self->reconnect && self->socket_path != NULL;
    GST_OBJECT_UNLOCK (self);
    if (disconnected && reconnecting) {
      reconnect (self);
      return;
    }
    /* Checked again under the lock that start_task() takes to clear the
     * flag: a live source going PLAYING -> PAUSED -> PLAYING quickly must
     * not end up with its task paused in PLAYING. */
    g_mutex_lock (&self->lock);
    if (self->flushing || (self->disconnected &&
            g_queue_is_empty (&self->items)))
      gst_pad_pause_task (self->srcpad);
    g_mutex_unlock (&self->lock);
    return;
  }

  is_buffer = GST_IS_BUFFER (item->object);
  g_mutex_lock (&self->push_lock);
  ret = push_item (self, item);
  g_mutex_unlock (&self->push_lock);
  g_free (item);
  handle_flow (self, ret, is_buffer);
}

/* ---- pad functions ----------------------------------------------------- */

static GstPxConnection *
upstream_peer (GstIpcSrc * self)
{
  GstPxConnection *conn = NULL;

  g_mutex_lock (&self->lock);
  if (self->session && self->session->upstream)
    conn = gst_px_connection_ref (self->session->conn);
  g_mutex_unlock (&self->lock);
  return conn;
}

static gboolean
gst_ipc_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstIpcSrc *self = GST_IPC_SRC (parent);
  GstPxConnection *peer = upstream_peer (self);
  int ret = -ENOTSUP;

  if (peer != NULL) {
    ret = gst_px_connection_send_event (peer, event, TRUE,
        GST_PX_CONNECTION_REPLY_TIMEOUT);
    gst_px_connection_unref (peer);
  }
  if (ret == 0) {
    gst_event_unref (event);
    return TRUE;
  }
  return gst_pad_event_default (pad, parent, event);
}

static gboolean
answer_latency (GstIpcSrc * self, GstQuery * query)
{
  g_mutex_lock (&self->lock);
  gst_query_set_latency (query, TRUE, self->latency_min, self->latency_max);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_ipc_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstIpcSrc *self = GST_IPC_SRC (parent);
  GstPxConnection *peer;
  gboolean ok = FALSE;

  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY && self->is_live)
    return answer_latency (self, query);
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

static gboolean
start (GstIpcSrc * self)
{
  GError *error = NULL;
  gboolean reconnecting;

  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  self->disconnected = FALSE;
  self->pending_flow = GST_FLOW_OK;
  self->buffers_received = 0;
  self->applied_offset = 0;
  self->latency_min = 0;
  self->latency_max = GST_CLOCK_TIME_NONE;
  g_mutex_unlock (&self->lock);
  gst_pad_set_offset (self->srcpad, 0);

  if (connect_to_producer (self, &error))
    return TRUE;
  GST_OBJECT_LOCK (self);
  reconnecting = self->reconnect && self->socket_path != NULL;
  GST_OBJECT_UNLOCK (self);
  if (reconnecting) {
    GST_INFO_OBJECT (self, "%s; will retry", error->message);
    self->disconnected = TRUE;
    g_clear_error (&error);
    return TRUE;
  }
  GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", error->message), (NULL));
  g_clear_error (&error);
  return FALSE;
}

static void
stop (GstIpcSrc * self)
{
  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  wake_task (self);
  g_mutex_unlock (&self->lock);
  gst_pad_stop_task (self->srcpad);
  end_session (self);
  g_mutex_lock (&self->lock);
  clear_items_locked (self);
  g_mutex_unlock (&self->lock);
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
    return ret;
  }
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

  GST_OBJECT_LOCK (self);
  if (prop_id != PROP_RECONNECT && prop_id != PROP_RECONNECT_INTERVAL &&
      GST_STATE (self) > GST_STATE_READY) {
    GST_OBJECT_UNLOCK (self);
    GST_WARNING_OBJECT (self, "%s can only be changed in NULL or READY",
        pspec->name);
    return;
  }
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
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ipc_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstIpcSrc *self = GST_IPC_SRC (object);

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
    case PROP_BUFFERS_RECEIVED:
      g_mutex_lock (&self->lock);
      g_value_set_uint64 (value, self->buffers_received);
      g_mutex_unlock (&self->lock);
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

  g_object_class_install_property (gobject_class, PROP_SOCKET_PATH,
      g_param_spec_string ("socket-path", "Socket path",
          "The ipcsink to connect to: a file-system path, or @name for the "
          "abstract namespace", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_FD,
      g_param_spec_int ("fd", "File descriptor",
          "An already-connected SOCK_SEQPACKET socket to an ipcsink (the "
          "element uses a duplicate); events and queries then also travel "
          "upstream", -1, G_MAXINT, -1, rw));
  g_object_class_install_property (gobject_class, PROP_IS_LIVE,
      g_param_spec_boolean ("is-live", "Is live",
          "Act as a live source, keeping the producer's running times; "
          "otherwise pass timestamps unchanged and preroll", DEFAULT_IS_LIVE,
          rw));
  g_object_class_install_property (gobject_class, PROP_RECONNECT,
      g_param_spec_boolean ("reconnect", "Reconnect",
          "When the producer goes away (socket-path only), wait for it to "
          "come back instead of posting an error", DEFAULT_RECONNECT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_RECONNECT_INTERVAL,
      g_param_spec_uint ("reconnect-interval", "Reconnect interval",
          "Milliseconds between connection attempts", 1, 60000,
          DEFAULT_RECONNECT_INTERVAL, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_ARENA_BUDGET,
      g_param_spec_uint64 ("arena-budget", "Arena budget",
          "Bytes of arenas made, in total, for a producer that may not make "
          "its own (a sandboxed worker: its memory limit; fd only; 0 = "
          "none)", 0, G_MAXUINT64, 0, rw));
  g_object_class_install_property (gobject_class, PROP_BUFFERS_RECEIVED,
      g_param_spec_uint64 ("buffers-received", "Buffers received",
          "Buffers pushed downstream", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
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
      "them", "Parallax");
  lent_slot_quark = g_quark_from_static_string ("parallax-lent-slot");
}

static void
gst_ipc_src_init (GstIpcSrc * self)
{
  self->fd = -1;
  self->is_live = DEFAULT_IS_LIVE;
  self->reconnect = DEFAULT_RECONNECT;
  self->reconnect_interval = DEFAULT_RECONNECT_INTERVAL;
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
