/* Parallax — one wire-protocol connection to a peer process.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstpxconnection.h"
#include "gstpxserialize.h"
#include "px-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

GST_DEBUG_CATEGORY_STATIC (gst_px_connection_debug);
#define GST_CAT_DEFAULT gst_px_connection_debug

typedef struct
{
  guint64 request_id;
  gboolean in_order;            /* the reply waits its turn (an event's) */
  gboolean done;
  gboolean answered;
  gchar *body;                  /* QUERY_REPLY text */
} Pending;

struct _GstPxConnection
{
  gint refcount;
  int fd;
  int wake_fd;                  /* eventfd: stop, or BUFFER_DONE pending */
  GstObject *owner;
  gchar *name;
  GstPxConnectionFuncs funcs;
  gpointer user_data;
  GDestroyNotify free_notify;   /* once freed */
  gpointer free_data;
  GThread *readers[2];
  /* The new names the peer's text may still introduce (its own atomics). */
  GstPxPeerBudget budget;

  GMutex lock;
  GCond cond;                   /* replies */
  gboolean closed;
  GError *peer_error;           /* why drop_peer() ended the connection */
  guint64 next_request_id;
  GList *pending;               /* of Pending */
  guint64 wakeups;              /* gst_px_connection_wake() calls */
  GArray *done_ids;             /* guint64, waiting for BUFFER_DONE */
  gboolean sending_done;        /* a thread is sending done_ids */
  gboolean reader_idle;         /* the reader waits in poll() */
  guint idle_waiters;           /* threads in gst_px_connection_wait_read() */
  gint queries_served;          /* the peer's queries on pool threads now */

  /* Reading roles (lock), see "Two readers" below. */
  GCond role_cond;
  GThread *leader;              /* the reader that owns the socket */
  gboolean leader_busy;         /* ... is handling a message */
  gint64 busy_since;            /* ... since then (monotonic, us) */
  gboolean leader_blocked;      /* ... and waits for a reply */
  guint64 messages;             /* handled so far */
  gboolean standby_idle;        /* the other one sleeps without deadline */

  /* Turns (lock): owner messages are handed to message() in the order they
   * came, one at a time until the handler gives its turn up. */
  GCond turn_cond;
  guint64 next_ticket;          /* the next owner message's */
  guint64 turn;                 /* the ticket whose turn it is */
  GThread *turn_holder;
  guint turn_waiters;
};

/* How long the reader may spend on one message before the standby reader
 * takes the socket over. Long enough that a steady stream of short
 * messages never hands over; short enough that a reply or a flush waiting
 * behind a blocked push does not stall anybody noticeably. */
#define HANDOVER_DELAY (10 * G_TIME_SPAN_MILLISECOND)

/* Queries of one peer served at once. Each holds a pool thread, possibly
 * waiting on another connection (nested round trips), so the bound keeps a
 * peer from growing the process's threads at will; legitimate nesting is a
 * few levels deep. Past it, a query is answered "not answered". */
#define MAX_QUERIES_SERVED 16

static GThreadPool *query_pool;

typedef struct
{
  GstPxConnection *conn;
  guint64 request_id;
  gboolean event;               /* an upstream EVENT, not a QUERY */
  guint32 kind;
  gchar *body;
} QueryTask;

static void serve_query (gpointer data, gpointer unused);

static void
init_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (gst_px_connection_debug, "pxconnection", 0,
        "Parallax wire connection");
    /* Unbounded and shared: a query served here may wait on a query of
     * another connection, which needs a thread of its own. */
    query_pool = g_thread_pool_new (serve_query, NULL, -1, FALSE, NULL);
    g_once_init_leave (&done, 1);
  }
}

GstPxConnection *
gst_px_connection_new (int fd, GstObject * owner,
    const GstPxConnectionFuncs * funcs, gpointer user_data)
{
  GstPxConnection *conn;

  init_once ();
  conn = g_new0 (GstPxConnection, 1);
  conn->refcount = 1;
  conn->fd = fd;
  conn->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  conn->owner = owner;
  conn->name = g_strdup ("peer");
  conn->funcs = *funcs;
  conn->user_data = user_data;
  conn->next_request_id = 1;
  gst_px_peer_budget_init (&conn->budget);
  conn->done_ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_mutex_init (&conn->lock);
  g_cond_init (&conn->cond);
  g_cond_init (&conn->role_cond);
  g_cond_init (&conn->turn_cond);
  /* Non-blocking: every wait on the peer goes through poll with a
   * timeout. */
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
  return conn;
}

GstPxConnection *
gst_px_connection_ref (GstPxConnection * conn)
{
  g_atomic_int_inc (&conn->refcount);
  return conn;
}

void
gst_px_connection_unref (GstPxConnection * conn)
{
  GDestroyNotify notify;
  gpointer data;

  if (conn == NULL || !g_atomic_int_dec_and_test (&conn->refcount))
    return;
  notify = conn->free_notify;
  data = conn->free_data;
  g_assert (conn->readers[0] == NULL && conn->readers[1] == NULL);
  px_close_fd (&conn->fd);
  px_close_fd (&conn->wake_fd);
  g_array_unref (conn->done_ids);
  g_clear_error (&conn->peer_error);
  g_mutex_clear (&conn->lock);
  g_cond_clear (&conn->cond);
  g_cond_clear (&conn->role_cond);
  g_cond_clear (&conn->turn_cond);
  g_free (conn->name);
  g_free (conn);
  if (notify != NULL)
    notify (data);
}

void
gst_px_connection_set_free_notify (GstPxConnection * conn,
    GDestroyNotify notify, gpointer data)
{
  conn->free_notify = notify;
  conn->free_data = data;
}

void
gst_px_connection_set_name (GstPxConnection * conn, const gchar * name)
{
  g_mutex_lock (&conn->lock);
  g_free (conn->name);
  conn->name = g_strdup (name);
  g_mutex_unlock (&conn->lock);
}

const gchar *
gst_px_connection_get_name (GstPxConnection * conn)
{
  return conn->name;
}

GstPxPeerBudget *
gst_px_connection_get_budget (GstPxConnection * conn)
{
  return &conn->budget;
}

static void
wake_reader (GstPxConnection * conn)
{
  guint64 one = 1;

  if (write (conn->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
    GST_WARNING_OBJECT (conn->owner, "cannot wake reader: %s",
        g_strerror (errno));
}

gboolean
gst_px_connection_is_closed (GstPxConnection * conn)
{
  gboolean closed;

  g_mutex_lock (&conn->lock);
  closed = conn->closed;
  g_mutex_unlock (&conn->lock);
  return closed;
}

/* Marks the connection closed and wakes every waiter. Returns TRUE for the
 * caller that closed it. */
static gboolean
mark_closed (GstPxConnection * conn)
{
  gboolean was_closed;

  g_mutex_lock (&conn->lock);
  was_closed = conn->closed;
  conn->closed = TRUE;
  g_cond_broadcast (&conn->cond);
  g_cond_broadcast (&conn->role_cond);
  g_cond_broadcast (&conn->turn_cond);
  g_mutex_unlock (&conn->lock);
  if (!was_closed) {
    shutdown (conn->fd, SHUT_RDWR);
    wake_reader (conn);
  }
  return !was_closed;
}

/* Ends the connection from a thread other than the reader's (a pool
 * thread serving a query, a caller reading a reply) because the peer broke
 * the protocol: the reader finds the socket shut and reports @error
 * (taken) through closed(), as if it had read the bad message itself. */
static void
drop_peer (GstPxConnection * conn, GError * error)
{
  gboolean first;

  g_mutex_lock (&conn->lock);
  first = !conn->closed && conn->peer_error == NULL;
  if (first)
    conn->peer_error = error;
  g_mutex_unlock (&conn->lock);
  if (!first) {
    g_error_free (error);
    return;
  }
  shutdown (conn->fd, SHUT_RDWR);
  wake_reader (conn);
}

void
gst_px_connection_close (GstPxConnection * conn)
{
  GThread *readers[2];

  mark_closed (conn);
  g_mutex_lock (&conn->lock);
  memcpy (readers, conn->readers, sizeof readers);
  memset (conn->readers, 0, sizeof conn->readers);
  g_mutex_unlock (&conn->lock);
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++) {
    if (readers[i] == NULL)
      continue;
    if (readers[i] == g_thread_self ())
      g_thread_unref (readers[i]);      /* closing from a callback: detach */
    else
      g_thread_join (readers[i]);
  }
  /* Nor may a query of the peer still be running in the owner's query():
   * the owner frees what it passed as user data once this returns. */
  g_mutex_lock (&conn->lock);
  while (conn->queries_served > 0)
    g_cond_wait (&conn->cond, &conn->lock);
  g_mutex_unlock (&conn->lock);
}

/* ---- sending ----------------------------------------------------------- */

static int
wait_writable (GstPxConnection * conn, GstClockTime timeout)
{
  struct pollfd pfd = {.fd = conn->fd,.events = POLLOUT };
  gint64 deadline = g_get_monotonic_time () + timeout / GST_USECOND;

  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    int ret;

    if (left <= 0)
      return -ETIMEDOUT;
    ret = poll (&pfd, 1, (int) MIN (left / 1000 + 1, 100));
    if (ret < 0 && errno != EINTR)
      return px_negative_errno ();
    if (gst_px_connection_is_closed (conn))
      return -EPIPE;
    if (ret > 0)
      return (pfd.revents & POLLOUT) ? 0 : -EPIPE;
  }
}

int
gst_px_connection_send (GstPxConnection * conn, const PxWireEncoded * msg,
    GstClockTime timeout)
{
  int ret;

  for (;;) {
    if (gst_px_connection_is_closed (conn))
      return -EPIPE;
    ret = px_wire_send_encoded (conn->fd, msg, MSG_DONTWAIT);
    if (ret != -EAGAIN)
      break;
    ret = wait_writable (conn, timeout);
    if (ret < 0)
      break;
  }
  if (ret < 0)
    GST_DEBUG_OBJECT (conn->owner, "%s: sending %s: %s", conn->name,
        px_wire_type_name (px_wire_encoded_type (msg)), g_strerror (-ret));
  return ret;
}

/* Sends what an encoder made of the message (@ret: its result), then
 * releases it. An encoder's refusal is a bug on this side: said loudly. */
static int
send_encoded (GstPxConnection * conn, PxWireEncoded * msg, int ret,
    PxWireType type, GstClockTime timeout)
{
  if (ret < 0)
    GST_WARNING_OBJECT (conn->owner, "%s: not sending an invalid %s: %s",
        conn->name, px_wire_type_name (type), g_strerror (-ret));
  else
    ret = gst_px_connection_send (conn, msg, timeout);
  px_wire_encoded_clear (msg);
  return ret;
}

int
gst_px_connection_send_hello (GstPxConnection * conn,
    const PxWireHello * hello, GstClockTime timeout)
{
  PxWireEncoded msg;

  return send_encoded (conn, &msg, px_wire_encode_hello (&msg, hello),
      PX_WIRE_HELLO, timeout);
}

int
gst_px_connection_send_arena_add (GstPxConnection * conn,
    const PxWireArenaAdd * add, int fd, GstClockTime timeout)
{
  PxWireEncoded msg;

  return send_encoded (conn, &msg, px_wire_encode_arena_add (&msg, add, fd),
      PX_WIRE_ARENA_ADD, timeout);
}

int
gst_px_connection_send_arena_remove (GstPxConnection * conn,
    guint64 arena_id, GstClockTime timeout)
{
  PxWireArenaRemove remove = {.arena_id = arena_id };
  PxWireEncoded msg;

  return send_encoded (conn, &msg, px_wire_encode_arena_remove (&msg,
          &remove), PX_WIRE_ARENA_REMOVE, timeout);
}

int
gst_px_connection_send_buffer (GstPxConnection * conn,
    const PxWireBuffer * buffer, GstClockTime timeout)
{
  PxWireEncoded msg;

  return send_encoded (conn, &msg, px_wire_encode_buffer (&msg, buffer),
      PX_WIRE_BUFFER, timeout);
}

int
gst_px_connection_send_state (GstPxConnection * conn, PxWireType type,
    guint64 request_id, const PxWireState * state, GstClockTime timeout)
{
  PxWireEncoded msg;

  return send_encoded (conn, &msg, px_wire_encode_state (&msg, type,
          request_id, state), type, timeout);
}

int
gst_px_connection_send_empty (GstPxConnection * conn, PxWireType type,
    guint64 request_id, GstClockTime timeout)
{
  PxWireEncoded msg;

  return send_encoded (conn, &msg, px_wire_encode_empty (&msg, type,
          request_id), type, timeout);
}

int
gst_px_connection_send_blob (GstPxConnection * conn, PxWireType type,
    guint32 flags, guint64 request_id, guint32 kind, guint32 result,
    const gchar * body, GstClockTime timeout)
{
  gsize len = strlen (body) + 1;
  PxWireBlob blob = {.kind = kind,.result = result,.body = body };
  PxWireEncoded msg;

  if (len > PX_WIRE_MAX_BODY)
    return -EMSGSIZE;
  blob.body_size = (guint32) len;
  return send_encoded (conn, &msg, px_wire_encode_blob (&msg, type, flags,
          request_id, &blob), type, timeout);
}

int
gst_px_connection_send_event (GstPxConnection * conn, GstEvent * event,
    gboolean upstream, guint64 cause, GstClockTime timeout)
{
  gchar *body = gst_px_event_serialize (event);
  int ret;

  if (body == NULL)
    return -ENOTSUP;
  ret = gst_px_connection_send_blob (conn, PX_WIRE_EVENT,
      upstream ? PX_WIRE_EVENT_UPSTREAM : 0, cause, GST_EVENT_TYPE (event),
      0, body, timeout);
  g_free (body);
  return ret;
}

/* Sends the pending ids without waiting for room in the socket. FALSE if
 * the socket was full: the ids not sent are pending again, for the reader
 * to send once there is room. */
static gboolean
send_done_now (GstPxConnection * conn)
{
  GArray *ids;
  gboolean all;
  guint i;

  g_mutex_lock (&conn->lock);
  ids = conn->done_ids;
  conn->done_ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_mutex_unlock (&conn->lock);

  for (i = 0; i < ids->len; i += PX_WIRE_MAX_DONE) {
    guint32 n = MIN (ids->len - i, PX_WIRE_MAX_DONE);
    PxWireEncoded msg;
    int ret = px_wire_encode_buffer_done (&msg,
        &g_array_index (ids, guint64, i), n);

    if (ret == 0)
      ret = px_wire_send_encoded (conn->fd, &msg, MSG_DONTWAIT);
    px_wire_encoded_clear (&msg);

    if (ret == -EAGAIN)
      break;
    /* Anything else: the peer cannot receive (closed, or shut its
     * reading side); retrying would only spin. */
    if (ret < 0) {
      GST_DEBUG_OBJECT (conn->owner, "%s: BUFFER_DONE: %s", conn->name,
          g_strerror (-ret));
      i = ids->len;
    }
  }
  all = i >= ids->len;
  if (!all) {
    g_mutex_lock (&conn->lock);
    g_array_prepend_vals (conn->done_ids, &g_array_index (ids, guint64, i),
        ids->len - i);
    g_mutex_unlock (&conn->lock);
  }
  g_array_unref (ids);
  return all;
}

/* Ids freed while the reader is busy wait for it to run out of messages,
 * up to this many: a busy consumer releases slots in batches. */
#define DONE_BATCH 8

/* While the reader is busy reading (the buffer is often freed by the
 * reader itself, having pushed it downstream), the ids wait for it to find
 * the socket empty and send them all at once. Otherwise they are sent by
 * the thread that frees the buffer, batched with the ids freed while it
 * sends: handing them to an idle reader would cost a wake-up and a thread
 * switch per buffer. Only when the socket is full does the reader take
 * over, as it may wait for room. */
void
gst_px_connection_buffer_done (GstPxConnection * conn, guint64 buffer_id)
{
  gboolean sender;

  g_mutex_lock (&conn->lock);
  if (conn->closed) {
    g_mutex_unlock (&conn->lock);
    return;
  }
  g_array_append_val (conn->done_ids, buffer_id);
  if (!conn->reader_idle && conn->done_ids->len < DONE_BATCH) {
    g_mutex_unlock (&conn->lock);
    return;                     /* the reader sends it before it sleeps */
  }
  sender = !conn->sending_done;
  conn->sending_done = TRUE;
  g_mutex_unlock (&conn->lock);
  if (!sender)
    return;                     /* the thread sending now takes it along */

  for (;;) {
    gboolean sent = send_done_now (conn);

    g_mutex_lock (&conn->lock);
    if (!sent || conn->done_ids->len == 0) {
      conn->sending_done = FALSE;
      g_mutex_unlock (&conn->lock);
      if (!sent)
        wake_reader (conn);
      return;
    }
    g_mutex_unlock (&conn->lock);
  }
}

/* ---- requests and replies ---------------------------------------------- */

/* Sends a request and waits for the reply with the same id, calling @func
 * (if not NULL) as GstPxConnectionWaitFunc says. Returns the pending record
 * (caller frees); not done on send failure, timeout or close. */
static Pending *
round_trip (GstPxConnection * conn, PxWireType type, guint32 flags,
    guint32 kind, const gchar * body, GstClockTime timeout,
    GstPxConnectionWaitFunc func, gpointer user_data)
{
  Pending *p = g_new0 (Pending, 1);
  gint64 deadline = g_get_monotonic_time () + timeout / GST_USECOND;
  guint64 wakeups;
  int ret;

  g_mutex_lock (&conn->lock);
  p->request_id = conn->next_request_id++;
  p->in_order = type == PX_WIRE_EVENT;
  wakeups = conn->wakeups;
  conn->pending = g_list_prepend (conn->pending, p);
  /* Asked from the reader, while it handles a message (a push downstream
   * that queries upstream): it cannot read the reply itself. */
  if (conn->leader == g_thread_self () && conn->leader_busy) {
    conn->leader_blocked = TRUE;
    g_cond_signal (&conn->role_cond);
  }
  g_mutex_unlock (&conn->lock);

  if (func)
    func (conn, p->request_id, user_data);
  if (type == PX_WIRE_PING)
    ret = gst_px_connection_send_empty (conn, PX_WIRE_PING, p->request_id,
        timeout);
  else
    ret = gst_px_connection_send_blob (conn, type, flags, p->request_id, kind,
        0, body, timeout);

  g_mutex_lock (&conn->lock);
  while (ret == 0 && !p->done && !conn->closed) {
    if (func && conn->wakeups != wakeups) {
      wakeups = conn->wakeups;
      g_mutex_unlock (&conn->lock);
      func (conn, p->request_id, user_data);
      g_mutex_lock (&conn->lock);
      continue;
    }
    if (!g_cond_wait_until (&conn->cond, &conn->lock, deadline)) {
      GST_WARNING_OBJECT (conn->owner, "%s: no answer to %s within %"
          GST_TIME_FORMAT, conn->name, px_wire_type_name (type),
          GST_TIME_ARGS (timeout));
      break;
    }
  }
  conn->pending = g_list_remove (conn->pending, p);
  g_mutex_unlock (&conn->lock);
  return p;
}

static void
pending_free (Pending * p)
{
  g_free (p->body);
  g_free (p);
}

gboolean
gst_px_connection_query (GstPxConnection * conn, GstQuery * query,
    GstClockTime timeout)
{
  gchar *body = gst_px_query_serialize (query);
  GError *error = NULL;
  gboolean ok = FALSE;
  Pending *p;

  if (body == NULL)
    return FALSE;
  p = round_trip (conn, PX_WIRE_QUERY, 0, GST_QUERY_TYPE (query), body,
      timeout, NULL, NULL);
  g_free (body);
  if (p->done && p->answered) {
    ok = gst_px_query_apply_result (query, p->body, &conn->budget, &error);
    if (!ok) {
      /* A malformed answer is a protocol violation like any other. */
      g_prefix_error (&error, "bad answer to a %s query: ",
          GST_QUERY_TYPE_NAME (query));
      drop_peer (conn, error);
    }
  }
  pending_free (p);
  return ok;
}

gboolean
gst_px_connection_event (GstPxConnection * conn, GstEvent * event,
    GstClockTime timeout, GstPxConnectionWaitFunc func, gpointer user_data)
{
  gchar *body = gst_px_event_serialize (event);
  gboolean ok;
  Pending *p;

  if (body == NULL)
    return FALSE;
  p = round_trip (conn, PX_WIRE_EVENT, PX_WIRE_EVENT_UPSTREAM |
      PX_WIRE_EVENT_WANTS_RESULT, GST_EVENT_TYPE (event), body, timeout,
      func, user_data);
  g_free (body);
  ok = p->done && p->answered;
  pending_free (p);
  return ok;
}

/* With lock: whether a message waits in the socket. */
static gboolean
socket_readable_locked (GstPxConnection * conn)
{
  struct pollfd pfd = {.fd = conn->fd,.events = POLLIN };
  int ret;

  do {
    ret = poll (&pfd, 1, 0);
  } while (ret < 0 && errno == EINTR);
  return ret != 0;
}

gboolean
gst_px_connection_wait_read (GstPxConnection * conn, GstClockTime timeout)
{
  gint64 deadline = g_get_monotonic_time () + timeout / GST_USECOND;
  gboolean read = FALSE;

  g_mutex_lock (&conn->lock);
  /* A reader would wait for itself. */
  if (conn->readers[0] == g_thread_self () ||
      conn->readers[1] == g_thread_self ()) {
    g_mutex_unlock (&conn->lock);
    return FALSE;
  }
  /* The reader marks itself idle, under the lock, only once it found the
   * socket empty, and busy again before it receives: idle with an empty
   * socket, it has handed on all that came. */
  while (!conn->closed) {
    if (conn->reader_idle && !socket_readable_locked (conn)) {
      read = TRUE;
      break;
    }
    conn->idle_waiters++;
    if (!g_cond_wait_until (&conn->cond, &conn->lock, deadline)) {
      conn->idle_waiters--;
      break;
    }
    conn->idle_waiters--;
  }
  g_mutex_unlock (&conn->lock);
  return read;
}

void
gst_px_connection_wake (GstPxConnection * conn)
{
  g_mutex_lock (&conn->lock);
  conn->wakeups++;
  g_cond_broadcast (&conn->cond);
  g_mutex_unlock (&conn->lock);
}

gboolean
gst_px_connection_ping (GstPxConnection * conn, GstClockTime timeout)
{
  Pending *p = round_trip (conn, PX_WIRE_PING, 0, 0, NULL, timeout, NULL,
      NULL);
  gboolean ok = p->done;

  pending_free (p);
  return ok;
}

/* Reader thread: a QUERY_REPLY or PONG arrived. Unknown ids are ignored (the
 * caller may have timed out). */
static void
complete_request (GstPxConnection * conn, guint64 request_id,
    gboolean answered, const gchar * body)
{
  g_mutex_lock (&conn->lock);
  for (GList * l = conn->pending; l; l = l->next) {
    Pending *p = l->data;

    if (p->request_id == request_id && !p->done) {
      p->done = TRUE;
      p->answered = answered;
      p->body = g_strdup (body);
      g_cond_broadcast (&conn->cond);
      break;
    }
  }
  g_mutex_unlock (&conn->lock);
}

/* Pool thread: an upstream event whose result the peer waits for. Its
 * result, or -1 when the peer broke the protocol (no answer then). */
static gint
serve_event (GstPxConnection * conn, const QueryTask * task)
{
  GError *error = NULL;
  GstEvent *event = gst_px_event_deserialize (task->kind, task->body, TRUE,
      &conn->budget, &error);

  if (event == NULL && error->code == GST_PX_ERROR_PROTOCOL) {
    g_prefix_error (&error, "bad event: ");
    drop_peer (conn, error);
    return -1;
  }
  if (event == NULL) {
    GST_INFO_OBJECT (conn->owner, "%s: refusing event: %s", conn->name,
        error->message);
    g_clear_error (&error);
    return FALSE;
  }
  if (conn->funcs.event == NULL || gst_px_connection_is_closed (conn)) {
    gst_event_unref (event);
    return FALSE;
  }
  return conn->funcs.event (conn, event, task->request_id, conn->user_data);
}

/* Pool thread: answers the peer's QUERY, or its upstream EVENT that wants
 * a result, with QUERY_REPLY. */
static void
serve_query (gpointer data, gpointer unused)
{
  QueryTask *task = data;
  GstPxConnection *conn = task->conn;
  GError *error = NULL;
  GstQuery *query = NULL;
  gboolean answered = FALSE;
  gchar *result = NULL;

  if (task->event) {
    gint handled = serve_event (conn, task);

    if (handled >= 0)
      gst_px_connection_send_blob (conn, PX_WIRE_QUERY_REPLY, 0,
          task->request_id, task->kind, handled ? 1 : 0, "",
          GST_PX_CONNECTION_REPLY_TIMEOUT);
    goto done;
  }
  query = gst_px_query_deserialize (task->kind, task->body, &conn->budget,
      &error);
  if (query == NULL && error->code == GST_PX_ERROR_PROTOCOL) {
    /* Not a query a peer that keeps to the protocol sends: no answer. */
    g_prefix_error (&error, "bad query: ");
    drop_peer (conn, error);
    goto done;
  } else if (query == NULL) {
    GST_INFO_OBJECT (conn->owner, "%s: refusing query: %s", conn->name,
        error->message);
    g_clear_error (&error);
  } else if (conn->funcs.query != NULL && !gst_px_connection_is_closed (conn)) {
    answered = conn->funcs.query (conn, query, conn->user_data);
  }
  if (answered)
    result = gst_px_query_serialize_result (query);
  gst_px_connection_send_blob (conn, PX_WIRE_QUERY_REPLY, 0,
      task->request_id, task->kind, answered ? 1 : 0, result ? result : "",
      GST_PX_CONNECTION_REPLY_TIMEOUT);
  g_free (result);
  if (query)
    gst_query_unref (query);
done:
  g_free (task->body);
  g_mutex_lock (&conn->lock);
  conn->queries_served--;
  g_cond_broadcast (&conn->cond);       /* close() may wait for it */
  g_mutex_unlock (&conn->lock);
  gst_px_connection_unref (conn);
  g_free (task);
}

/* ---- reader ------------------------------------------------------------ */

/* The messages the connection answers itself, whatever their order. */
static gboolean
handled_here (const PxWireMessage * msg)
{
  guint32 type = msg->header.type;

  return type == PX_WIRE_PING || type == PX_WIRE_PONG ||
      type == PX_WIRE_QUERY || type == PX_WIRE_QUERY_REPLY ||
      (type == PX_WIRE_EVENT &&
      (msg->header.flags & PX_WIRE_EVENT_WANTS_RESULT));
}

/* The answer to an upstream event (gst_px_connection_event()) is taken in
 * its turn, like an owner message: what the peer sent before it, the flush
 * its seek caused, reaches the owner first. Other replies are taken at
 * once, whatever the owner is busy with. */
static gboolean
reply_in_order (GstPxConnection * conn, const PxWireMessage * msg)
{
  gboolean in_order = FALSE;

  if (msg->header.type != PX_WIRE_QUERY_REPLY)
    return FALSE;
  g_mutex_lock (&conn->lock);
  for (GList * l = conn->pending; l; l = l->next) {
    Pending *p = l->data;

    if (p->request_id == msg->header.request_id && !p->done) {
      in_order = p->in_order;
      break;
    }
  }
  g_mutex_unlock (&conn->lock);
  return in_order;
}

/* Handles the messages handled_here() names. Returns 1 if handled,
 * 0 if the owner should see it, -EPROTO if malformed. */
static int
handle_internal (GstPxConnection * conn, PxWireMessage * msg)
{
  PxWireBlob blob;

  switch (msg->header.type) {
    case PX_WIRE_PING:
      if (px_wire_decode_empty (msg) < 0)
        return -EPROTO;
      gst_px_connection_send_empty (conn, PX_WIRE_PONG,
          msg->header.request_id, GST_PX_CONNECTION_REPLY_TIMEOUT);
      return 1;
    case PX_WIRE_PONG:
      if (px_wire_decode_empty (msg) < 0)
        return -EPROTO;
      complete_request (conn, msg->header.request_id, TRUE, NULL);
      return 1;
    case PX_WIRE_QUERY_REPLY:
      if (px_wire_decode_blob (msg, &blob) < 0)
        return -EPROTO;
      complete_request (conn, msg->header.request_id, blob.result == 1,
          blob.body);
      return 1;
    case PX_WIRE_EVENT:
      if (!(msg->header.flags & PX_WIRE_EVENT_WANTS_RESULT))
        return 0;
      /* answered like a query */
      G_GNUC_FALLTHROUGH;
    case PX_WIRE_QUERY:{
      QueryTask *task;
      gboolean busy;

      if (px_wire_decode_blob (msg, &blob) < 0)
        return -EPROTO;
      g_mutex_lock (&conn->lock);
      busy = conn->queries_served >= MAX_QUERIES_SERVED;
      if (!busy)
        conn->queries_served++;
      g_mutex_unlock (&conn->lock);
      if (busy) {
        GST_WARNING_OBJECT (conn->owner, "%s: too many queries at once, "
            "refusing one", conn->name);
        gst_px_connection_send_blob (conn, PX_WIRE_QUERY_REPLY, 0,
            msg->header.request_id, blob.kind, 0, "",
            GST_PX_CONNECTION_REPLY_TIMEOUT);
        return 1;
      }
      task = g_new0 (QueryTask, 1);
      task->conn = gst_px_connection_ref (conn);
      task->request_id = msg->header.request_id;
      task->event = msg->header.type == PX_WIRE_EVENT;
      task->kind = blob.kind;
      task->body = g_strdup (blob.body);
      g_thread_pool_push (query_pool, task, NULL);
      return 1;
    }
    default:
      return 0;
  }
}

/* What px_wire_recv() refused, in words. */
static const gchar *
receive_error_text (int ret)
{
  switch (ret) {
    case -EPROTO:
      return "not a protocol message, an unknown message type, or a file "
          "descriptor count the message type does not allow";
    case -EMSGSIZE:
      return "larger than the protocol allows, or too many file descriptors";
    default:
      return g_strerror (-ret);
  }
}

/* ---- two readers ------------------------------------------------------- *
 *
 * Handling a message may block: ipcsrc pushes buffers downstream from the
 * reader, and a push waits as long as downstream likes (a full queue, a
 * sink waiting for preroll). Meanwhile the socket must still be read: the
 * reply to a query asked from inside that push, a FLUSH_START that would
 * unblock it, the peer's pings and queries.
 *
 * So such a connection (message_may_block) has two reader threads, and one
 * of them at a time (the leader) owns the socket. The other waits. When the leader has spent
 * HANDOVER_DELAY on one message, or waits for a reply on this connection
 * while handling one, the other takes the socket over; the old leader
 * becomes the one that waits once its message is handled. The waiting
 * reader looks at the leader once per HANDOVER_DELAY while messages come,
 * and sleeps without deadline once a whole HANDOVER_DELAY went by without
 * one; the next message wakes it. So it costs at most a few hundred
 * wake-ups a second whatever the message rate, and none when the
 * connection is quiet. The owner's message() may run on both threads at
 * once, but only after a handover.
 */

/* Waits until the caller may own the socket. FALSE once closed. */
static gboolean
take_socket (GstPxConnection * conn)
{
  guint64 seen;
  gint64 deadline;

  g_mutex_lock (&conn->lock);
  seen = conn->messages;
  for (;;) {
    if (conn->closed) {
      g_mutex_unlock (&conn->lock);
      return FALSE;
    }
    if (conn->leader == NULL)
      break;
    if (conn->leader_busy) {
      deadline = conn->busy_since + HANDOVER_DELAY;
      if (conn->leader_blocked || g_get_monotonic_time () >= deadline)
        break;
      g_cond_wait_until (&conn->role_cond, &conn->lock, deadline);
    } else if (conn->messages != seen) {
      /* Messages came lately: look again in a while. */
      seen = conn->messages;
      g_cond_wait_until (&conn->role_cond, &conn->lock,
          g_get_monotonic_time () + HANDOVER_DELAY);
    } else {
      conn->standby_idle = TRUE;
      g_cond_wait (&conn->role_cond, &conn->lock);
      conn->standby_idle = FALSE;
    }
  }
  if (conn->leader != NULL)
    GST_DEBUG_OBJECT (conn->owner, "%s: taking over reading from a reader "
        "%s", conn->name, conn->leader_blocked ? "waiting for a reply" :
        "busy with one message");
  conn->leader = g_thread_self ();
  conn->leader_busy = FALSE;
  conn->leader_blocked = FALSE;
  g_mutex_unlock (&conn->lock);
  return TRUE;
}

/* The leader got a message: it is busy, and an owner message gets its
 * ticket, in the order messages came (no handover happens between the
 * receive and this). */
static guint64
begin_message (GstPxConnection * conn, gboolean owner)
{
  guint64 ticket = 0;

  g_mutex_lock (&conn->lock);
  conn->leader_busy = TRUE;
  conn->busy_since = g_get_monotonic_time ();
  conn->messages++;
  if (owner)
    ticket = conn->next_ticket++;
  /* The other reader starts watching if it had stopped. */
  if (conn->standby_idle)
    g_cond_signal (&conn->role_cond);
  g_mutex_unlock (&conn->lock);
  return ticket;
}

/* Waits until the owner message with @ticket may be handled. FALSE once
 * closed. */
static gboolean
wait_turn (GstPxConnection * conn, guint64 ticket)
{
  gboolean closed;

  g_mutex_lock (&conn->lock);
  while (!conn->closed && conn->turn != ticket) {
    conn->turn_waiters++;
    g_cond_wait (&conn->turn_cond, &conn->lock);
    conn->turn_waiters--;
  }
  closed = conn->closed;
  if (!closed)
    conn->turn_holder = g_thread_self ();
  g_mutex_unlock (&conn->lock);
  return !closed;
}

void
gst_px_connection_release_turn (GstPxConnection * conn)
{
  g_mutex_lock (&conn->lock);
  if (conn->turn_holder == g_thread_self ()) {
    conn->turn_holder = NULL;
    conn->turn++;
    /* Once per message: a broadcast costs a system call even when nobody
     * waits. */
    if (conn->turn_waiters > 0)
      g_cond_broadcast (&conn->turn_cond);
  }
  g_mutex_unlock (&conn->lock);
}

/* TRUE if the caller still owns the socket. */
static gboolean
end_message (GstPxConnection * conn)
{
  gboolean leader;

  g_mutex_lock (&conn->lock);
  leader = conn->leader == g_thread_self ();
  if (leader) {
    conn->leader_busy = FALSE;
    conn->leader_blocked = FALSE;
  }
  g_mutex_unlock (&conn->lock);
  return leader;
}

/* Reads and handles one message. FALSE ends the connection, with @error
 * set unless the peer simply closed it. *@leader tells whether the caller
 * still owns the socket, *@drained whether there was nothing to read. */
static gboolean
read_one (GstPxConnection * conn, PxWireMessage * msg, gboolean * leader,
    gboolean * drained, GError ** error)
{
  ssize_t ret;
  int handled;

  *leader = TRUE;
  ret = px_wire_recv (conn->fd, msg, MSG_DONTWAIT);
  *drained = ret == -EAGAIN;
  if (ret == -EAGAIN || ret == -EINTR)
    return TRUE;
  if (ret == -ECONNRESET || ret == -EPIPE)
    return FALSE;
  if (ret < 0) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL,
        "invalid message: %s", receive_error_text ((int) ret));
    return FALSE;
  }
  if (handled_here (msg) && !reply_in_order (conn, msg)) {
    begin_message (conn, FALSE);
    handled = handle_internal (conn, msg);
  } else {
    guint64 ticket = begin_message (conn, TRUE);

    handled = 1;
    if (wait_turn (conn, ticket)) {
      if (handled_here (msg))
        handled = handle_internal (conn, msg);
      else if (!conn->funcs.message (conn, msg, conn->user_data, error))
        handled = -EPROTO;
      gst_px_connection_release_turn (conn);
    }
  }
  *leader = end_message (conn);
  px_wire_message_clear (msg);
  if (handled < 0 && error && *error == NULL)
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL,
        "malformed %s message", px_wire_type_name (msg->header.type));
  return handled >= 0;
}

/* Owns the socket until the connection ends (FALSE) or the other reader
 * takes it over (TRUE). While messages keep coming it reads them back to
 * back, and polls (for the socket and the wake-up fd) once there is none:
 * a busy connection costs one system call per message. */
static gboolean
lead (GstPxConnection * conn, PxWireMessage * msg, GError ** error)
{
  gboolean alive = TRUE, leader = TRUE, drained = TRUE;

  while (alive && leader && !gst_px_connection_is_closed (conn)) {
    struct pollfd pfd[2] = {
      {.fd = conn->fd,.events = POLLIN},
      {.fd = conn->wake_fd,.events = POLLIN},
    };
    gboolean pending;
    int ret;

    if (!drained) {
      alive = read_one (conn, msg, &leader, &drained, error);
      continue;
    }
    /* Nothing to read: release what was freed meanwhile, then sleep. A
     * thread sending ids takes along all there are. When the socket is
     * full, wait for room without ceasing to read. */
    g_mutex_lock (&conn->lock);
    pending = conn->done_ids->len > 0 && !conn->sending_done;
    conn->reader_idle = !pending;
    if (conn->reader_idle && conn->idle_waiters > 0)
      g_cond_broadcast (&conn->cond);
    g_mutex_unlock (&conn->lock);
    if (pending && send_done_now (conn))
      continue;
    if (pending)
      pfd[0].events |= POLLOUT;
    ret = poll (pfd, 2, -1);
    g_mutex_lock (&conn->lock);
    conn->reader_idle = FALSE;
    g_mutex_unlock (&conn->lock);
    if (ret < 0) {
      if (errno == EINTR)
        continue;
      g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_RESOURCE, "poll: %s",
          g_strerror (errno));
      return FALSE;
    }
    if (pfd[1].revents & POLLIN) {
      guint64 count;

      /* A thread found the socket full: the ids are pending again. */
      if (read (conn->wake_fd, &count, sizeof count) < 0 && errno != EAGAIN)
        GST_WARNING_OBJECT (conn->owner, "eventfd: %s", g_strerror (errno));
    }
    if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
      alive = read_one (conn, msg, &leader, &drained, error);
  }
  return alive && !gst_px_connection_is_closed (conn);
}

static gpointer
reader_thread (gpointer data)
{
  GstPxConnection *conn = data;
  PxWireMessage *msg = g_malloc (sizeof (PxWireMessage));
  GError *error = NULL;
  gboolean alive = TRUE;

  memset (msg, 0, sizeof (PxWireHeader));
  msg->n_fds = 0;
  while (alive && take_socket (conn))
    alive = lead (conn, msg, &error);

  /* Only a connection that ended on its own reports it, once. */
  if (!alive && mark_closed (conn)) {
    if (error == NULL) {
      g_mutex_lock (&conn->lock);
      error = g_steal_pointer (&conn->peer_error);
      g_mutex_unlock (&conn->lock);
    }
    if (error)
      GST_WARNING_OBJECT (conn->owner, "%s: %s", conn->name, error->message);
    if (conn->funcs.closed)
      conn->funcs.closed (conn, error, conn->user_data);
  }
  g_clear_error (&error);
  g_free (msg);
  gst_px_connection_unref (conn);
  return NULL;
}

gboolean
gst_px_connection_start (GstPxConnection * conn, GError ** error)
{
  if (conn->wake_fd < 0) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_RESOURCE, "eventfd: %s",
        g_strerror (errno));
    return FALSE;
  }
  g_mutex_lock (&conn->lock);
  for (guint i = 0; i < (conn->funcs.message_may_block ? 2 : 1); i++) {
    /* Each thread holds a reference until it ends. */
    gst_px_connection_ref (conn);
    conn->readers[i] = g_thread_try_new ("px-reader", reader_thread, conn,
        error);
    if (conn->readers[i] == NULL) {
      gst_px_connection_unref (conn);
      g_mutex_unlock (&conn->lock);
      /* The caller closes the connection, which ends the first one. */
      return FALSE;
    }
  }
  g_mutex_unlock (&conn->lock);
  return TRUE;
}
