/* Parallax — ipcsink: send buffers to other processes through memfd arenas.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-ipcsink
 * @title: ipcsink
 * @see_also: ipcsrc
 *
 * Sends buffers, with their caps, timestamps, flags, video meta and events,
 * to ipcsrc elements in other processes. Buffer data is never copied across:
 * it lives in memfd arenas whose fds each client receives once, sealed so
 * that no client can write them; after that only slot references travel.
 *
 * ipcsink answers the ALLOCATION query with an arena pool, so upstream
 * writes straight into shared memory. Buffers that come from elsewhere are
 * copied once into an arena slot (#GstIpcSink:buffers-copied counts them).
 *
 * Any number of clients may connect to #GstIpcSink:socket-path (up to
 * #GstIpcSink:max-clients); each receives every buffer. A client may hold
 * #GstIpcSink:max-in-flight buffers; when it holds that many,
 * #GstIpcSink:slow-client-policy decides whether ipcsink waits for it or
 * skips the buffer for that client only.
 *
 * With #GstIpcSink:fd (an already-connected socket, one peer), events and
 * queries also travel upstream: seeks, QoS and navigation from the consumer
 * reach this pipeline, and CAPS / ACCEPT_CAPS queries from upstream are
 * answered by the consumer's pipeline. With #GstIpcSink:request-arenas as
 * well, ipcsink creates no shared memory: the consumer makes each arena and
 * hands it over (what a sandboxed worker does, whose memory limit would not
 * count memfds it made).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! video/x-raw,width=1280,height=720 ! ipcsink socket-path=/tmp/camera
 * gst-launch-1.0 ipcsrc socket-path=/tmp/camera ! videoconvert ! autovideosink
 * ]|
 */

#include "gstipcsink.h"
#include "gstipcarenarequest.h"
#include "gstpxarenaallocator.h"
#include "gstpxarenapool.h"
#include "gstpxconnection.h"
#include "gstpxserialize.h"
#include "px-arena.h"
#include "px-fd.h"
#include "px-unix.h"

#include <gst/video/video.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (gst_ipc_sink_debug);
#define GST_CAT_DEFAULT gst_ipc_sink_debug

#define DEFAULT_SOCKET_MODE 0600
#define DEFAULT_MAX_CLIENTS 0
#define DEFAULT_MAX_IN_FLIGHT 16
#define MAX_MAX_IN_FLIGHT 1024
#define DEFAULT_POLICY GST_IPC_SINK_SLOW_CLIENT_BLOCK
/* Arenas a client keeps mapped; the least recently used one is removed
 * first (its buffers in flight stay valid: the client holds them). */
#define MAX_ARENAS_PER_CLIENT 8
/* A client whose socket stays full this long is gone. */
#define SEND_TIMEOUT (5 * GST_SECOND)

enum
{
  PROP_0,
  PROP_SOCKET_PATH,
  PROP_SOCKET_MODE,
  PROP_FD,
  PROP_MAX_CLIENTS,
  PROP_MAX_IN_FLIGHT,
  PROP_SLOW_CLIENT_POLICY,
  PROP_WAIT_FOR_CONNECTION,
  PROP_CLIENTS,
  PROP_BUFFERS_SENT,
  PROP_BUFFERS_COPIED,
  PROP_BUFFERS_DROPPED,
  PROP_REQUEST_ARENAS,
};

enum
{
  SIGNAL_CLIENT_CONNECTED,
  SIGNAL_CLIENT_DISCONNECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  guint64 id;
  GstBuffer *buffer;
} InFlight;

typedef struct
{
  GstIpcSink *sink;
  guint id;
  GstPxConnection *conn;
  gboolean ready;               /* its HELLO arrived */
  gboolean needs_sticky;        /* send the sticky events before anything */
  GArray *in_flight;            /* of InFlight */
  guint64 arenas[MAX_ARENAS_PER_CLIENT];        /* oldest first */
  guint64 arena_sizes[MAX_ARENAS_PER_CLIENT];
  guint n_arenas;
  /* What its HELLO accepts, bounded by what ours announced. */
  guint64 max_arena_size, max_arena_total;
} Client;

struct _GstIpcSink
{
  GstBaseSink parent;

  /* properties (object lock) */
  gchar *socket_path;
  guint socket_mode;
  gint fd;
  guint max_clients;
  guint max_in_flight;

  /* clients, streaming state and the properties the streaming thread
   * reads (lock; never taken after the object lock) */
  GMutex lock;
  GCond cond;
  GstIpcSinkSlowClientPolicy policy;
  gboolean wait_for_connection;
  GList *clients;
  GList *closed_clients;        /* left on their own, reader not joined */
  guint next_client_id;
  guint64 next_buffer_id;
  gboolean flushing;
  guint room_waiters;           /* streaming threads in wait_for_room_locked */
  gboolean upstream_allowed;    /* fd mode: one peer, both directions */
  GstEvent *latency_event;      /* last one sent, for late clients */
  guint64 buffers_sent, buffers_copied, buffers_dropped;

  /* listening (socket-path mode) */
  int listen_fd;
  int wake_fd;
  GThread *accept_thread;
  gboolean listening_on_file;

  /* fd mode, request-arenas: the consumer makes the arenas (lock) */
  gboolean request_arenas;
  gboolean arena_requested;     /* a request waits for its arena */
  PxArena *granted_arena;       /* came, not yet taken by the request */

  GstBufferPool *copy_pool;     /* for buffers upstream did not put in an arena */
  gsize copy_pool_size;         /* its buffer size */
  GstBuffer *prerolled;         /* sent at preroll: not sent again by render */
};

#define gst_ipc_sink_parent_class parent_class
G_DEFINE_TYPE (GstIpcSink, gst_ipc_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (ipcsink, "ipcsink", GST_RANK_NONE,
    GST_TYPE_IPC_SINK,
    GST_DEBUG_CATEGORY_INIT (gst_ipc_sink_debug, "ipcsink", 0,
        "Parallax IPC sink"));

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

GType
gst_ipc_sink_slow_client_policy_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_IPC_SINK_SLOW_CLIENT_BLOCK,
        "Wait until the client releases a buffer", "block"},
    {GST_IPC_SINK_SLOW_CLIENT_DROP,
        "Skip buffers for that client only", "drop"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstIpcSinkSlowClientPolicy", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ---- clients ----------------------------------------------------------- */

static gboolean client_message (GstPxConnection * conn, PxWireMessage * msg,
    gpointer user_data, GError ** error);
static gboolean client_query (GstPxConnection * conn, GstQuery * query,
    gpointer user_data);
static void client_closed (GstPxConnection * conn, const GError * error,
    gpointer user_data);
static gboolean client_event (GstPxConnection * conn, GstEvent * event,
    gpointer user_data);

static const GstPxConnectionFuncs client_funcs = {
  .message = client_message,
  .query = client_query,
  .closed = client_closed,
  .event = client_event,
};

static void
client_release_all (Client * client)
{
  for (guint i = 0; i < client->in_flight->len; i++)
    gst_buffer_unref (g_array_index (client->in_flight, InFlight, i).buffer);
  g_array_set_size (client->in_flight, 0);
}

static void
client_free (Client * client)
{
  client_release_all (client);
  g_array_unref (client->in_flight);
  gst_px_connection_unref (client->conn);
  g_free (client);
}

/* Takes @fd. Adds a client and sends it our HELLO. Called with lock. */
static Client *
add_client_locked (GstIpcSink * self, int fd, GError ** error)
{
  Client *client = g_new0 (Client, 1);
  PxWireHello hello = {.role = PX_WIRE_ROLE_PRODUCER };
  gchar *name;

  client->sink = self;
  client->id = ++self->next_client_id;
  client->in_flight = g_array_new (FALSE, FALSE, sizeof (InFlight));
  client->conn = gst_px_connection_new (fd, GST_OBJECT (self), &client_funcs,
      client);
  name = g_strdup_printf ("client %u", client->id);
  gst_px_connection_set_name (client->conn, name);
  g_free (name);

  hello.features = self->upstream_allowed ? PX_WIRE_FEATURE_UPSTREAM : 0;
  hello.max_in_flight = self->max_in_flight;
  hello.max_arena_size = PX_WIRE_DEFAULT_ARENA_SIZE;
  hello.max_arena_total = PX_WIRE_DEFAULT_ARENA_TOTAL;
  if (gst_px_connection_send_hello (client->conn, &hello, SEND_TIMEOUT) < 0 ||
      !gst_px_connection_start (client->conn, error)) {
    if (error && *error == NULL)
      g_set_error (error, GST_PX_ERROR, 0, "cannot greet the client");
    gst_px_connection_close (client->conn);
    client_free (client);
    return NULL;
  }
  self->clients = g_list_append (self->clients, client);
  return client;
}

/* A send failed because the client closed its end: not worth a warning,
 * its reader sees the close and removes it. */
static gboolean
peer_gone (int ret)
{
  return ret == -EPIPE || ret == -ECONNRESET;
}

/* Removes @client; with lock. The caller closes and frees it unlocked. */
static void
remove_client_locked (GstIpcSink * self, Client * client)
{
  self->clients = g_list_remove (self->clients, client);
  client_release_all (client);
  g_cond_broadcast (&self->cond);
}

static void
drop_client (GstIpcSink * self, Client * client, const gchar * why)
{
  guint id = client->id;

  remove_client_locked (self, client);
  /* Closing joins the reader, which may be waiting for our lock; posting
   * takes the object lock, which get_property() holds before ours. */
  g_mutex_unlock (&self->lock);
  GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
      ("Dropped client %u: %s", id, why), (NULL));
  gst_px_connection_close (client->conn);
  client_free (client);
  g_signal_emit (self, signals[SIGNAL_CLIENT_DISCONNECTED], 0, id);
  g_mutex_lock (&self->lock);
}

static void
client_closed (GstPxConnection * conn, const GError * error, gpointer user_data)
{
  Client *client = user_data;
  GstIpcSink *self = client->sink;
  guint id = client->id;
  gboolean found;

  /* The client is freed by whoever joins this reader (reap_closed_clients()
   * or stop()), so that no reader outlives the element's stop. */
  g_mutex_lock (&self->lock);
  found = g_list_find (self->clients, client) != NULL;
  if (found) {
    remove_client_locked (self, client);
    self->closed_clients = g_list_prepend (self->closed_clients, client);
  }
  g_mutex_unlock (&self->lock);
  if (!found)
    return;

  if (error != NULL)
    GST_ELEMENT_WARNING (self, RESOURCE, READ,
        ("Dropped client %u: %s", id, error->message), (NULL));
  else
    GST_INFO_OBJECT (self, "client %u left", id);
  g_signal_emit (self, signals[SIGNAL_CLIENT_DISCONNECTED], 0, id);
}

/* Joins the readers of the clients that left on their own, and frees
 * them. Not from a reader. */
static void
reap_closed_clients (GstIpcSink * self)
{
  GList *closed;

  g_mutex_lock (&self->lock);
  closed = self->closed_clients;
  self->closed_clients = NULL;
  g_mutex_unlock (&self->lock);
  for (GList * l = closed; l; l = l->next) {
    Client *client = l->data;

    gst_px_connection_close (client->conn);
    client_free (client);
  }
  g_list_free (closed);
}

static gboolean
client_hello (Client * client, PxWireMessage * msg, GError ** error)
{
  GstIpcSink *self = client->sink;
  PxWireHello hello;
  guint32 allowed = self->upstream_allowed ? PX_WIRE_FEATURE_UPSTREAM : 0;

  if (px_wire_decode_hello (msg, &hello) < 0 ||
      hello.role != PX_WIRE_ROLE_CONSUMER || (hello.features & ~allowed) ||
      client->ready) {
    g_set_error (error, GST_PX_ERROR, 0, "bad HELLO");
    return FALSE;
  }
  g_mutex_lock (&self->lock);
  client->max_arena_size = MIN (hello.max_arena_size,
      PX_WIRE_DEFAULT_ARENA_SIZE);
  client->max_arena_total = MIN (hello.max_arena_total,
      PX_WIRE_DEFAULT_ARENA_TOTAL);
  client->ready = TRUE;
  client->needs_sticky = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  GST_INFO_OBJECT (self, "client %u ready", client->id);
  g_signal_emit (self, signals[SIGNAL_CLIENT_CONNECTED], 0, client->id);
  return TRUE;
}

/* Releases the buffers the client says it no longer uses. An id it does not
 * hold is a protocol error: it must not make us release someone else's. */
static gboolean
client_buffer_done (Client * client, PxWireMessage * msg, GError ** error)
{
  GstIpcSink *self = client->sink;
  PxWireBufferDone done;
  GPtrArray *released = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  gboolean ok = TRUE;

  if (px_wire_decode_buffer_done (msg, &done) < 0) {
    g_set_error (error, GST_PX_ERROR, 0, "bad BUFFER_DONE");
    g_ptr_array_unref (released);
    return FALSE;
  }
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < done.count && ok; i++) {
    GArray *flight = client->in_flight;
    guint j;

    for (j = 0; j < flight->len; j++) {
      if (g_array_index (flight, InFlight, j).id == done.buffer_ids[i])
        break;
    }
    if (j == flight->len) {
      g_set_error (error, GST_PX_ERROR, 0, "released buffer %"
          G_GUINT64_FORMAT " it did not hold", done.buffer_ids[i]);
      ok = FALSE;
      break;
    }
    g_ptr_array_add (released, g_array_index (flight, InFlight, j).buffer);
    g_array_remove_index_fast (flight, j);
  }
  /* Only a streaming thread waiting for room cares; a broadcast costs a
   * system call even when nobody waits, and this runs for every buffer. */
  if (self->room_waiters > 0)
    g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  /* Unref outside the lock: a buffer going back to its pool may wake an
   * upstream thread. */
  g_ptr_array_unref (released);
  return ok;
}

static gboolean
client_upstream_event (Client * client, PxWireMessage * msg, GError ** error)
{
  GstIpcSink *self = client->sink;
  PxWireBlob blob;
  GstEvent *event;

  if (!self->upstream_allowed || px_wire_decode_blob (msg, &blob) < 0 ||
      !(msg->header.flags & PX_WIRE_EVENT_UPSTREAM)) {
    g_set_error (error, GST_PX_ERROR, 0, "unexpected EVENT");
    return FALSE;
  }
  event = gst_px_event_deserialize (blob.kind, blob.body, TRUE,
      gst_px_connection_get_budget (client->conn), error);
  if (event == NULL)
    return FALSE;
  GST_DEBUG_OBJECT (self, "upstream event from client: %" GST_PTR_FORMAT,
      event);
  gst_pad_push_event (GST_BASE_SINK_PAD (self), event);
  return TRUE;
}

/* Pool thread: an upstream event (a seek) whose result the consumer waits
 * for. */
static gboolean
client_event (GstPxConnection * conn, GstEvent * event, gpointer user_data)
{
  Client *client = user_data;
  GstIpcSink *self = client->sink;

  if (!self->upstream_allowed) {
    gst_event_unref (event);
    return FALSE;
  }
  GST_DEBUG_OBJECT (self, "upstream event from client, for its result: %"
      GST_PTR_FORMAT, event);
  return gst_pad_push_event (GST_BASE_SINK_PAD (self), event);
}

/* ---- arenas the consumer makes (request-arenas) ------------------------ */

/* Reader thread: the arena the consumer made for a request, sent just
 * before its answer. Only while a request waits; adopted (mapped
 * read-write, our slots) at once. */
static gboolean
client_arena_granted (Client * client, PxWireMessage * msg, GError ** error)
{
  GstIpcSink *self = client->sink;
  PxWireArenaAdd add;
  PxArena *arena = NULL;
  gboolean expected;
  int ret;

  g_mutex_lock (&self->lock);
  expected = self->upstream_allowed && self->request_arenas &&
      self->arena_requested && self->granted_arena == NULL;
  g_mutex_unlock (&self->lock);
  if (!expected || px_wire_decode_arena_add (msg, &add) < 0) {
    g_set_error (error, GST_PX_ERROR, 0, "unexpected ARENA_ADD");
    return FALSE;
  }
  ret = px_arena_adopt (px_wire_message_steal_fd (msg), add.arena_id,
      add.size, add.slot_stride, add.slot_count, &arena);
  if (ret < 0) {
    g_set_error (error, GST_PX_ERROR, 0, "refused the consumer's arena %016"
        G_GINT64_MODIFIER "x: %s", add.arena_id, g_strerror (-ret));
    return FALSE;
  }
  g_mutex_lock (&self->lock);
  self->granted_arena = arena;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* The connection of the one peer (fd mode), referenced; NULL if none. */
static GstPxConnection *
peer_connection (GstIpcSink * self)
{
  GstPxConnection *conn = NULL;

  g_mutex_lock (&self->lock);
  for (GList * l = self->clients; l && conn == NULL; l = l->next) {
    Client *client = l->data;

    if (client->ready)
      conn = gst_px_connection_ref (client->conn);
  }
  g_mutex_unlock (&self->lock);
  return conn;
}

/* GstPxArenaFunc of the sink's pools with request-arenas: asks the consumer
 * for the arena and waits (at most the reply timeout) for its answer; the
 * arena itself came just before. Streaming thread (set_config). */
static int
request_arena (gsize slot_size, guint slot_count, PxArena ** out,
    gpointer user_data)
{
  GstIpcSink *self = user_data;
  GstPxConnection *conn = peer_connection (self);
  GstQuery *query = gst_ipc_arena_request_new (slot_size, slot_count);
  const gchar *refused = NULL;
  PxArena *arena;
  guint64 id = 0;
  gboolean answered;

  g_mutex_lock (&self->lock);
  self->arena_requested = TRUE;
  g_mutex_unlock (&self->lock);
  answered = conn != NULL && gst_px_connection_query (conn, query,
      GST_PX_CONNECTION_REPLY_TIMEOUT);
  g_mutex_lock (&self->lock);
  self->arena_requested = FALSE;
  arena = g_steal_pointer (&self->granted_arena);
  g_mutex_unlock (&self->lock);
  if (!answered || !gst_ipc_arena_request_granted (query, &id, &refused) ||
      arena == NULL || px_arena_id (arena) != id ||
      px_arena_slot_count (arena) != slot_count ||
      px_arena_slot_size (arena) < slot_size) {
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
        ("The consumer did not make an arena of %u slots of %" G_GSIZE_FORMAT
            " bytes%s%s", slot_count, slot_size, refused ? ": " : "",
            refused ? refused : ""), ("request-arenas is set: this sink "
            "makes no shared memory of its own"));
    px_arena_unref (arena);
    gst_query_unref (query);
    g_clear_pointer (&conn, gst_px_connection_unref);
    return -ENOSPC;
  }
  gst_query_unref (query);
  gst_px_connection_unref (conn);
  *out = arena;
  return 0;
}

/* A pool of the sink's: with request-arenas, its arenas come from the
 * consumer. */
static GstBufferPool *
new_arena_pool (GstIpcSink * self)
{
  GstBufferPool *pool = gst_px_arena_pool_new ();
  gboolean request;

  g_mutex_lock (&self->lock);
  request = self->request_arenas && self->upstream_allowed;
  g_mutex_unlock (&self->lock);
  if (request)
    gst_px_arena_pool_set_arena_func (pool, request_arena,
        gst_object_ref (self), gst_object_unref);
  return pool;
}

static gboolean
client_message (GstPxConnection * conn, PxWireMessage * msg,
    gpointer user_data, GError ** error)
{
  Client *client = user_data;

  if (!client->ready && msg->header.type != PX_WIRE_HELLO) {
    g_set_error (error, GST_PX_ERROR, 0, "%s before HELLO",
        px_wire_type_name (msg->header.type));
    return FALSE;
  }
  switch (msg->header.type) {
    case PX_WIRE_HELLO:
      return client_hello (client, msg, error);
    case PX_WIRE_BUFFER_DONE:
      return client_buffer_done (client, msg, error);
    case PX_WIRE_EVENT:
      return client_upstream_event (client, msg, error);
    case PX_WIRE_ARENA_ADD:
      return client_arena_granted (client, msg, error);
    default:
      g_set_error (error, GST_PX_ERROR, 0, "unexpected %s message",
          px_wire_type_name (msg->header.type));
      return FALSE;
  }
}

/* A query from the consumer's pipeline (fd mode): ask ours upstream. */
static gboolean
client_query (GstPxConnection * conn, GstQuery * query, gpointer user_data)
{
  Client *client = user_data;

  if (!client->sink->upstream_allowed)
    return FALSE;
  return gst_pad_peer_query (GST_BASE_SINK_PAD (client->sink), query);
}

/* ---- listening --------------------------------------------------------- */

static gboolean
accept_one (GstIpcSink * self)
{
  GError *error = NULL;
  int fd = accept4 (self->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  guint max_clients;

  if (fd < 0)
    return errno == EINTR || errno == EAGAIN || errno == ECONNABORTED;

  GST_OBJECT_LOCK (self);
  max_clients = self->max_clients;
  GST_OBJECT_UNLOCK (self);

  reap_closed_clients (self);
  g_mutex_lock (&self->lock);
  if (max_clients > 0 && g_list_length (self->clients) >= max_clients) {
    g_mutex_unlock (&self->lock);
    GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
        ("Refused a client: already %u (max-clients)", max_clients), (NULL));
    close (fd);
    return TRUE;
  }
  if (add_client_locked (self, fd, &error) == NULL) {
    GST_WARNING_OBJECT (self, "new client: %s", error->message);
    g_clear_error (&error);
  }
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gpointer
accept_thread (gpointer data)
{
  GstIpcSink *self = data;

  for (;;) {
    struct pollfd pfd[2] = {
      {.fd = self->listen_fd,.events = POLLIN},
      {.fd = self->wake_fd,.events = POLLIN},
    };

    if (poll (pfd, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (pfd[1].revents)
      break;
    if ((pfd[0].revents & POLLIN) && !accept_one (self)) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Cannot accept clients on %s", self->socket_path),
          ("accept: %s", g_strerror (errno)));
      break;
    }
  }
  return NULL;
}

static gboolean
start_listening (GstIpcSink * self, const gchar * path, guint mode)
{
  GError *error = NULL;
  int fd = px_unix_listen (path, mode);

  if (fd < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
        ("Cannot listen on %s: %s", path, g_strerror (-fd)), (NULL));
    return FALSE;
  }
  self->listen_fd = fd;
  self->listening_on_file = path[0] != '@';
  self->wake_fd = eventfd (0, EFD_CLOEXEC);
  self->accept_thread = self->wake_fd < 0 ? NULL :
      g_thread_try_new ("ipcsink-accept", accept_thread, self, &error);
  if (self->accept_thread == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Cannot start accepting clients"),
        ("%s", error ? error->message : g_strerror (errno)));
    g_clear_error (&error);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "listening on %s", path);
  return TRUE;
}

static void
stop_listening (GstIpcSink * self)
{
  if (self->accept_thread) {
    guint64 one = 1;

    if (write (self->wake_fd, &one, sizeof one) < 0)
      GST_WARNING_OBJECT (self, "cannot wake the accept thread");
    g_thread_join (self->accept_thread);
    self->accept_thread = NULL;
  }
  if (self->listen_fd >= 0 && self->listening_on_file)
    unlink (self->socket_path);
  px_close_fd (&self->listen_fd);
  px_close_fd (&self->wake_fd);
}

/* ---- sending ----------------------------------------------------------- */

static gboolean
send_sticky_event (GstPad * pad, GstEvent ** event, gpointer user_data)
{
  Client *client = user_data;

  gst_px_connection_send_event (client->conn, *event, FALSE, SEND_TIMEOUT);
  return TRUE;
}

/* With lock: a client that (re)joins gets the stream's state first. */
static void
send_sticky_locked (GstIpcSink * self, Client * client)
{
  client->needs_sticky = FALSE;
  gst_pad_sticky_events_foreach (GST_BASE_SINK_PAD (self), send_sticky_event,
      client);
  if (self->latency_event)
    gst_px_connection_send_event (client->conn, self->latency_event, FALSE,
        SEND_TIMEOUT);
}

/* With lock: announces @arena to @client unless it knows it, keeping at most
 * MAX_ARENAS_PER_CLIENT announced. */
static int
announce_arena_locked (GstIpcSink * self, Client * client, PxArena * arena)
{
  guint64 id = px_arena_id (arena), size = px_arena_size (arena), total = 0;
  PxWireArenaAdd add = { 0, };
  int ret;

  for (guint i = 0; i < client->n_arenas; i++) {
    if (client->arenas[i] == id) {
      /* most recently used goes last */
      memmove (&client->arenas[i], &client->arenas[i + 1],
          (client->n_arenas - i - 1) * sizeof (guint64));
      memmove (&client->arena_sizes[i], &client->arena_sizes[i + 1],
          (client->n_arenas - i - 1) * sizeof (guint64));
      client->arenas[client->n_arenas - 1] = id;
      client->arena_sizes[client->n_arenas - 1] = size;
      return 0;
    }
    total += client->arena_sizes[i];
  }
  /* The limits both HELLOs agreed on (PxWireHello): the client would
   * refuse more. */
  if (size > client->max_arena_size)
    return -EFBIG;
  while (client->n_arenas == MAX_ARENAS_PER_CLIENT ||
      (client->n_arenas > 0 && total + size > client->max_arena_total)) {
    ret = gst_px_connection_send_arena_remove (client->conn,
        client->arenas[0], SEND_TIMEOUT);
    if (ret < 0)
      return ret;
    total -= client->arena_sizes[0];
    memmove (&client->arenas[0], &client->arenas[1],
        (client->n_arenas - 1) * sizeof (guint64));
    memmove (&client->arena_sizes[0], &client->arena_sizes[1],
        (--client->n_arenas) * sizeof (guint64));
  }
  /* No client may ever write what we share. */
  ret = px_arena_seal_for_readers (arena);
  if (ret < 0)
    return ret;
  add.arena_id = id;
  add.size = px_arena_size (arena);
  add.slot_stride = px_arena_slot_stride (arena);
  add.slot_count = px_arena_slot_count (arena);
  ret = gst_px_connection_send_arena_add (client->conn, &add,
      px_arena_fd (arena), SEND_TIMEOUT);
  if (ret == 0) {
    client->arena_sizes[client->n_arenas] = size;
    client->arenas[client->n_arenas++] = id;
  }
  return ret;
}

/* With lock: waits until @client may take one more buffer. FALSE when the
 * buffer should skip this client (drop policy, flushing, client gone). */
static gboolean
wait_for_room_locked (GstIpcSink * self, Client * client)
{
  while (client->in_flight->len >= self->max_in_flight) {
    if (self->policy == GST_IPC_SINK_SLOW_CLIENT_DROP || self->flushing)
      return FALSE;
    self->room_waiters++;
    g_cond_wait (&self->cond, &self->lock);
    self->room_waiters--;
    if (g_list_find (self->clients, client) == NULL)
      return FALSE;
  }
  return TRUE;
}

/* With lock: the ready clients, in a snapshot. The lock is released while a
 * client is dropped, so the list itself may change under an iteration; a
 * client from the snapshot is used only while it is still in the list. */
static GPtrArray *
ready_clients_locked (GstIpcSink * self)
{
  GPtrArray *ready = g_ptr_array_new ();

  for (GList * l = self->clients; l; l = l->next) {
    if (((Client *) l->data)->ready)
      g_ptr_array_add (ready, l->data);
  }
  return ready;
}

static gboolean
still_connected_locked (GstIpcSink * self, Client * client)
{
  return g_list_find (self->clients, client) != NULL;
}

/* With lock: sends @wire to every ready client. */
static void
send_to_clients_locked (GstIpcSink * self, GstBuffer * buffer,
    PxArena * arena, PxWireBuffer * wire)
{
  GPtrArray *clients = ready_clients_locked (self);

  for (guint i = 0; i < clients->len; i++) {
    Client *client = g_ptr_array_index (clients, i);
    InFlight entry;
    int ret;

    if (!still_connected_locked (self, client))
      continue;
    if (client->needs_sticky)
      send_sticky_locked (self, client);
    if (!wait_for_room_locked (self, client)) {
      if (!self->flushing && still_connected_locked (self, client))
        self->buffers_dropped++;
      continue;
    }
    ret = announce_arena_locked (self, client, arena);
    if (ret == 0)
      ret = gst_px_connection_send_buffer (client->conn, wire, SEND_TIMEOUT);
    if (peer_gone (ret))
      continue;                 /* its reader saw why, and removes it */
    if (ret < 0) {
      drop_client (self, client, ret == -EFBIG ? "its arenas would be "
          "larger than it accepts" : g_strerror (-ret));
      continue;
    }
    entry.id = wire->buffer_id;
    entry.buffer = gst_buffer_ref (buffer);
    g_array_append_val (client->in_flight, entry);
    self->buffers_sent++;
  }
  g_ptr_array_unref (clients);
}

/* Copies @buffer into a slot of the sink's own arena pool. */
static GstBuffer *
copy_into_arena (GstIpcSink * self, GstBuffer * buffer)
{
  gsize size = gst_buffer_get_size (buffer);
  GstBuffer *copy = NULL;
  GstStructure *config;

  if (size == 0 || size > G_MAXUINT)
    return NULL;
  /* Grown, never shrunk: a stream of varying sizes settles on its largest. */
  if (self->copy_pool == NULL || self->copy_pool_size < size) {
    if (self->copy_pool) {
      gst_buffer_pool_set_active (self->copy_pool, FALSE);
      gst_object_unref (self->copy_pool);
    }
    self->copy_pool = new_arena_pool (self);
    config = gst_buffer_pool_get_config (self->copy_pool);
    gst_buffer_pool_config_set_params (config, NULL, (guint) size, 0,
        2 * self->max_in_flight + 4);
    if (!gst_buffer_pool_set_config (self->copy_pool, config) ||
        !gst_buffer_pool_set_active (self->copy_pool, TRUE)) {
      gst_clear_object (&self->copy_pool);
      return NULL;
    }
    self->copy_pool_size = size;
  }
  if (gst_buffer_pool_acquire_buffer (self->copy_pool, &copy, NULL) !=
      GST_FLOW_OK)
    return NULL;
  gst_buffer_copy_into (copy, buffer, GST_BUFFER_COPY_METADATA, 0, -1);
  gst_buffer_set_size (copy, size);
  {
    GstMapInfo map;

    gst_buffer_map (copy, &map, GST_MAP_WRITE);
    gst_buffer_extract (buffer, 0, map.data, size);
    gst_buffer_unmap (copy, &map);
  }
  return copy;
}

/* The arena slot holding @buffer's data, or NULL if it is not all in one
 * slot of an arena this process owns. */
static PxArena *
buffer_slot (GstBuffer * buffer, guint32 * slot, gsize * offset)
{
  PxArena *arena;

  if (gst_buffer_n_memory (buffer) != 1 ||
      !gst_px_arena_memory_get_slot (gst_buffer_peek_memory (buffer, 0),
          &arena, slot, offset) || !px_arena_is_owner (arena))
    return NULL;
  return arena;
}

/* Producer's base time on CLOCK_MONOTONIC, for the consumer to line up
 * running times. */
static guint64
monotonic_base_time (GstIpcSink * self)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  guint64 base;
  struct timespec ts;

  if (clock == NULL)
    return G_MAXUINT64;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  base = gst_element_get_base_time (GST_ELEMENT (self)) +
      GST_TIMESPEC_TO_TIME (ts) - gst_clock_get_time (clock);
  gst_object_unref (clock);
  return base;
}

static gboolean
wait_for_client_locked (GstIpcSink * self)
{
  for (;;) {
    for (GList * l = self->clients; l; l = l->next) {
      if (((Client *) l->data)->ready)
        return TRUE;
    }
    if (!self->wait_for_connection || self->flushing)
      return FALSE;
    g_cond_wait (&self->cond, &self->lock);
  }
}

static GstFlowReturn
send_buffer (GstIpcSink * self, GstBuffer * buffer)
{
  PxWireBuffer wire = { 0, };
  GstBuffer *held = gst_buffer_ref (buffer);
  PxArena *arena;
  guint32 slot;
  gsize offset;

  g_mutex_lock (&self->lock);
  if (!wait_for_client_locked (self)) {
    GstFlowReturn ret = self->flushing ? GST_FLOW_FLUSHING : GST_FLOW_OK;

    g_mutex_unlock (&self->lock);
    gst_buffer_unref (held);
    return ret;
  }
  g_mutex_unlock (&self->lock);

  arena = buffer_slot (held, &slot, &offset);
  if (arena == NULL) {
    gst_buffer_unref (held);
    held = copy_into_arena (self, buffer);
    if (held == NULL)
      return self->flushing ? GST_FLOW_FLUSHING : GST_FLOW_ERROR;
    arena = buffer_slot (held, &slot, &offset);
    g_mutex_lock (&self->lock);
    self->buffers_copied++;
    g_mutex_unlock (&self->lock);
  }

  gst_px_buffer_to_wire (buffer, &wire);
  wire.arena_id = px_arena_id (arena);
  wire.slot = slot;
  wire.offset = offset;
  wire.size = gst_buffer_get_size (held);
  wire.base_time = monotonic_base_time (self);

  g_mutex_lock (&self->lock);
  wire.buffer_id = ++self->next_buffer_id;
  send_to_clients_locked (self, held, arena, &wire);
  g_mutex_unlock (&self->lock);
  gst_buffer_unref (held);
  return self->flushing ? GST_FLOW_FLUSHING : GST_FLOW_OK;
}

static GstFlowReturn
gst_ipc_sink_preroll (GstBaseSink * sink, GstBuffer * buffer)
{
  GstIpcSink *self = GST_IPC_SINK (sink);
  GstFlowReturn ret = send_buffer (self, buffer);

  /* A consumer that prerolls needs this buffer now; render() gets the
   * same buffer once PLAYING and must not send it twice. */
  if (ret == GST_FLOW_OK)
    gst_buffer_replace (&self->prerolled, buffer);
  return ret;
}

static GstFlowReturn
gst_ipc_sink_render (GstBaseSink * sink, GstBuffer * buffer)
{
  GstIpcSink *self = GST_IPC_SINK (sink);

  if (self->prerolled == buffer) {
    gst_buffer_replace (&self->prerolled, NULL);
    return GST_FLOW_OK;
  }
  gst_buffer_replace (&self->prerolled, NULL);
  return send_buffer (self, buffer);
}

/* ---- events and queries ------------------------------------------------ */

static void
broadcast_event (GstIpcSink * self, GstEvent * event)
{
  GPtrArray *clients;

  g_mutex_lock (&self->lock);
  clients = ready_clients_locked (self);
  for (guint i = 0; i < clients->len; i++) {
    Client *client = g_ptr_array_index (clients, i);
    int ret;

    if (!still_connected_locked (self, client))
      continue;
    if (client->needs_sticky)
      send_sticky_locked (self, client);
    ret = gst_px_connection_send_event (client->conn, event, FALSE,
        SEND_TIMEOUT);
    /* a client that left: its reader saw why, and removes it */
    if (ret < 0 && ret != -ENOTSUP && !peer_gone (ret))
      drop_client (self, client, g_strerror (-ret));
  }
  g_ptr_array_unref (clients);
  g_mutex_unlock (&self->lock);
}

/* Tells consumers how late buffers arrive: the latency of our pipeline
 * up to this sink. */
static void
update_latency (GstIpcSink * self)
{
  GstQuery *query = gst_query_new_latency ();
  gboolean live;
  GstClockTime min, max;
  GstEvent *event;

  if (gst_pad_peer_query (GST_BASE_SINK_PAD (self), query)) {
    gst_query_parse_latency (query, &live, &min, &max);
    event = gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
        gst_structure_new (GST_PX_LATENCY_EVENT_NAME, "live",
            G_TYPE_BOOLEAN, live, "min-latency", G_TYPE_UINT64, min,
            "max-latency", G_TYPE_UINT64, max, NULL));
    g_mutex_lock (&self->lock);
    gst_event_replace (&self->latency_event, event);
    g_mutex_unlock (&self->lock);
    broadcast_event (self, event);
    gst_event_unref (event);
  }
  gst_query_unref (query);
}

static gboolean
gst_ipc_sink_event (GstBaseSink * sink, GstEvent * event)
{
  GstIpcSink *self = GST_IPC_SINK (sink);
  gboolean is_caps = GST_EVENT_TYPE (event) == GST_EVENT_CAPS;

  broadcast_event (self, event);
  if (!GST_BASE_SINK_CLASS (parent_class)->event (sink, event))
    return FALSE;
  if (is_caps)
    update_latency (self);
  return TRUE;
}

static gboolean
peer_greeting_locked (GstIpcSink * self)
{
  return self->upstream_allowed && self->clients &&
      !((Client *) self->clients->data)->ready;
}

/* fd mode: the connection to the one peer, once it said hello. Its answers
 * are part of negotiation, so a query that comes before its HELLO (upstream
 * negotiates as soon as we are PAUSED) waits for it, for a while, instead
 * of falling back to our template. */
static GstPxConnection *
single_peer (GstIpcSink * self)
{
  gint64 deadline = g_get_monotonic_time () +
      GST_PX_CONNECTION_REPLY_TIMEOUT / GST_USECOND;
  GstPxConnection *conn = NULL;

  g_mutex_lock (&self->lock);
  while (peer_greeting_locked (self) && !self->flushing &&
      g_cond_wait_until (&self->cond, &self->lock, deadline));
  if (self->upstream_allowed && self->clients &&
      ((Client *) self->clients->data)->ready)
    conn = gst_px_connection_ref (((Client *) self->clients->data)->conn);
  g_mutex_unlock (&self->lock);
  return conn;
}

static gboolean
gst_ipc_sink_query (GstBaseSink * sink, GstQuery * query)
{
  GstIpcSink *self = GST_IPC_SINK (sink);
  GstPxConnection *peer;
  gboolean ok;

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:
    case GST_QUERY_ACCEPT_CAPS:
      /* With one peer, its pipeline decides what it accepts. */
      peer = single_peer (self);
      if (peer != NULL) {
        ok = gst_px_connection_query (peer, query,
            GST_PX_CONNECTION_REPLY_TIMEOUT);
        gst_px_connection_unref (peer);
        if (ok)
          return TRUE;
      }
      break;
    default:
      break;
  }
  return GST_BASE_SINK_CLASS (parent_class)->query (sink, query);
}

static gboolean
gst_ipc_sink_propose_allocation (GstBaseSink * sink, GstQuery * query)
{
  GstIpcSink *self = GST_IPC_SINK (sink);
  GstBufferPool *pool;
  GstStructure *config;
  GstVideoInfo info;
  GstCaps *caps;
  guint max;

  gst_query_parse_allocation (query, &caps, NULL);
  /* Only raw video has a size known in advance; other buffers are copied
   * into the sink's own arena. (gst_video_info_from_caps() logs an error
   * for anything that is not video.) */
  if (caps == NULL || gst_caps_get_size (caps) == 0 ||
      !gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "video/x-raw") || !gst_video_info_from_caps (&info, caps))
    return TRUE;

  /* Room for what clients hold plus what upstream works on. */
  max = 2 * self->max_in_flight + 4;
  pool = new_arena_pool (self);
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, info.size, 2, max);
  gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (!gst_buffer_pool_set_config (pool, config)) {
    gst_object_unref (pool);
    GST_WARNING_OBJECT (self, "cannot create an arena pool for %"
        GST_PTR_FORMAT, caps);
    return TRUE;
  }
  gst_query_add_allocation_pool (query, pool, info.size, 2, max);
  gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  gst_object_unref (pool);
  return TRUE;
}

/* ---- state ------------------------------------------------------------- */

static gboolean
gst_ipc_sink_start (GstBaseSink * sink)
{
  GstIpcSink *self = GST_IPC_SINK (sink);
  GError *error = NULL;
  gchar *path;
  guint mode;
  gint fd;
  int ret;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->socket_path);
  mode = self->socket_mode;
  fd = self->fd;
  GST_OBJECT_UNLOCK (self);

  self->flushing = FALSE;
  self->buffers_sent = self->buffers_copied = self->buffers_dropped = 0;
  if ((fd < 0) == (path == NULL)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Set exactly one of socket-path and fd"), (NULL));
    g_free (path);
    return FALSE;
  }
  if (path != NULL) {
    self->upstream_allowed = FALSE;
    ret = start_listening (self, path, mode);
    g_free (path);
    return ret;
  }

  ret = px_unix_check_seqpacket (fd);
  if (ret < 0 || (fd = fcntl (fd, F_DUPFD_CLOEXEC, 3)) < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("fd %d is not a connected SOCK_SEQPACKET socket", self->fd),
        ("%s", g_strerror (ret < 0 ? -ret : errno)));
    return FALSE;
  }
  self->upstream_allowed = TRUE;
  g_mutex_lock (&self->lock);
  if (add_client_locked (self, fd, &error) == NULL) {
    g_mutex_unlock (&self->lock);
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Cannot talk to the peer on fd %d", self->fd), ("%s", error->message));
    g_clear_error (&error);
    return FALSE;
  }
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_ipc_sink_stop (GstBaseSink * sink)
{
  GstIpcSink *self = GST_IPC_SINK (sink);
  GList *clients;

  stop_listening (self);
  g_mutex_lock (&self->lock);
  /* Once out of the list, a client's reader no longer touches it. */
  clients = g_list_concat (self->clients, self->closed_clients);
  self->clients = self->closed_clients = NULL;
  gst_clear_event (&self->latency_event);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  for (GList * l = clients; l; l = l->next) {
    Client *client = l->data;

    gst_px_connection_close (client->conn);
    client_free (client);
  }
  g_list_free (clients);
  gst_buffer_replace (&self->prerolled, NULL);
  if (self->copy_pool) {
    gst_buffer_pool_set_active (self->copy_pool, FALSE);
    gst_clear_object (&self->copy_pool);
  }
  return TRUE;
}

static gboolean
gst_ipc_sink_unlock (GstBaseSink * sink)
{
  GstIpcSink *self = GST_IPC_SINK (sink);

  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  g_cond_broadcast (&self->cond);
  if (self->copy_pool)
    gst_buffer_pool_set_flushing (self->copy_pool, TRUE);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_ipc_sink_unlock_stop (GstBaseSink * sink)
{
  GstIpcSink *self = GST_IPC_SINK (sink);

  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  if (self->copy_pool)
    gst_buffer_pool_set_flushing (self->copy_pool, FALSE);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* ---- GObject ----------------------------------------------------------- */

static gboolean
settable (GstIpcSink * self, GParamSpec * pspec)
{
  GstState state = GST_STATE (self);

  if (state > GST_STATE_READY) {
    GST_WARNING_OBJECT (self, "%s can only be changed in NULL or READY",
        pspec->name);
    return FALSE;
  }
  return TRUE;
}

/* Read by the streaming thread under our lock, which is never taken with
 * the object lock held: checked under one, set under the other. */
static void
set_request_arenas (GstIpcSink * self, GParamSpec * pspec, gboolean request)
{
  gboolean ok;

  GST_OBJECT_LOCK (self);
  ok = settable (self, pspec);
  GST_OBJECT_UNLOCK (self);
  if (!ok)
    return;
  g_mutex_lock (&self->lock);
  self->request_arenas = request;
  g_mutex_unlock (&self->lock);
}

static void
gst_ipc_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstIpcSink *self = GST_IPC_SINK (object);

  /* What the streaming thread reads is under our lock alone: it is never
   * taken with the object lock held, which posting a message takes. */
  if (prop_id == PROP_SLOW_CLIENT_POLICY || prop_id == PROP_WAIT_FOR_CONNECTION) {
    g_mutex_lock (&self->lock);
    if (prop_id == PROP_SLOW_CLIENT_POLICY)
      self->policy = g_value_get_enum (value);
    else
      self->wait_for_connection = g_value_get_boolean (value);
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
    return;
  }
  if (prop_id == PROP_REQUEST_ARENAS) {
    set_request_arenas (self, pspec, g_value_get_boolean (value));
    return;
  }
  GST_OBJECT_LOCK (self);
  if (prop_id != PROP_MAX_CLIENTS && !settable (self, pspec)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_SOCKET_PATH:
      g_free (self->socket_path);
      self->socket_path = g_value_dup_string (value);
      break;
    case PROP_SOCKET_MODE:
      self->socket_mode = g_value_get_uint (value);
      break;
    case PROP_FD:
      self->fd = g_value_get_int (value);
      break;
    case PROP_MAX_CLIENTS:
      self->max_clients = g_value_get_uint (value);
      break;
    case PROP_MAX_IN_FLIGHT:
      self->max_in_flight = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* The properties under our lock (see gst_ipc_sink_set_property()). */
static gboolean
get_stream_property (GstIpcSink * self, guint prop_id, GValue * value)
{
  gboolean found = TRUE;

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_SLOW_CLIENT_POLICY:
      g_value_set_enum (value, self->policy);
      break;
    case PROP_WAIT_FOR_CONNECTION:
      g_value_set_boolean (value, self->wait_for_connection);
      break;
    case PROP_CLIENTS:{
      guint n = 0;

      for (GList * l = self->clients; l; l = l->next)
        n += ((Client *) l->data)->ready;
      g_value_set_uint (value, n);
      break;
    }
    case PROP_BUFFERS_SENT:
      g_value_set_uint64 (value, self->buffers_sent);
      break;
    case PROP_BUFFERS_COPIED:
      g_value_set_uint64 (value, self->buffers_copied);
      break;
    case PROP_BUFFERS_DROPPED:
      g_value_set_uint64 (value, self->buffers_dropped);
      break;
    case PROP_REQUEST_ARENAS:
      g_value_set_boolean (value, self->request_arenas);
      break;
    default:
      found = FALSE;
      break;
  }
  g_mutex_unlock (&self->lock);
  return found;
}

static void
gst_ipc_sink_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstIpcSink *self = GST_IPC_SINK (object);

  if (get_stream_property (self, prop_id, value))
    return;
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SOCKET_PATH:
      g_value_set_string (value, self->socket_path);
      break;
    case PROP_SOCKET_MODE:
      g_value_set_uint (value, self->socket_mode);
      break;
    case PROP_FD:
      g_value_set_int (value, self->fd);
      break;
    case PROP_MAX_CLIENTS:
      g_value_set_uint (value, self->max_clients);
      break;
    case PROP_MAX_IN_FLIGHT:
      g_value_set_uint (value, self->max_in_flight);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ipc_sink_finalize (GObject * object)
{
  GstIpcSink *self = GST_IPC_SINK (object);

  g_free (self->socket_path);
  px_arena_unref (self->granted_arena);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
install_properties (GObjectClass * gobject_class)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  g_object_class_install_property (gobject_class, PROP_SOCKET_PATH,
      g_param_spec_string ("socket-path", "Socket path",
          "Where clients connect: a file-system path, or @name for the "
          "abstract namespace", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_SOCKET_MODE,
      g_param_spec_uint ("socket-mode", "Socket mode",
          "Permissions of the socket file (e.g. 0660 to let the group "
          "connect); abstract sockets have none", 0, 0777,
          DEFAULT_SOCKET_MODE, rw));
  g_object_class_install_property (gobject_class, PROP_FD,
      g_param_spec_int ("fd", "File descriptor",
          "An already-connected SOCK_SEQPACKET socket to one peer (the "
          "element uses a duplicate); events and queries then also travel "
          "upstream", -1, G_MAXINT, -1, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_CLIENTS,
      g_param_spec_uint ("max-clients", "Maximum clients",
          "Clients accepted at once (0 = no limit)", 0, G_MAXUINT,
          DEFAULT_MAX_CLIENTS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_IN_FLIGHT,
      g_param_spec_uint ("max-in-flight", "Maximum buffers in flight",
          "Buffers a client may hold before the slow-client policy applies",
          1, MAX_MAX_IN_FLIGHT, DEFAULT_MAX_IN_FLIGHT, rw));
  g_object_class_install_property (gobject_class, PROP_SLOW_CLIENT_POLICY,
      g_param_spec_enum ("slow-client-policy", "Slow client policy",
          "What to do with a buffer for a client that holds max-in-flight",
          GST_TYPE_IPC_SINK_SLOW_CLIENT_POLICY, DEFAULT_POLICY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_WAIT_FOR_CONNECTION,
      g_param_spec_boolean ("wait-for-connection", "Wait for connection",
          "Hold buffers until a client is connected instead of discarding "
          "them", FALSE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_REQUEST_ARENAS,
      g_param_spec_boolean ("request-arenas", "Request arenas",
          "With fd: make no shared memory, ask the consumer for each arena "
          "(a sandboxed worker, whose memory limit would not count memfds "
          "it made)", FALSE, rw));
  g_object_class_install_property (gobject_class, PROP_CLIENTS,
      g_param_spec_uint ("clients", "Clients", "Clients connected now", 0,
          G_MAXUINT, 0, ro));
  g_object_class_install_property (gobject_class, PROP_BUFFERS_SENT,
      g_param_spec_uint64 ("buffers-sent", "Buffers sent",
          "Buffers sent, summed over clients", 0, G_MAXUINT64, 0, ro));
  g_object_class_install_property (gobject_class, PROP_BUFFERS_COPIED,
      g_param_spec_uint64 ("buffers-copied", "Buffers copied",
          "Buffers that were not in an arena and were copied into one", 0,
          G_MAXUINT64, 0, ro));
  g_object_class_install_property (gobject_class, PROP_BUFFERS_DROPPED,
      g_param_spec_uint64 ("buffers-dropped", "Buffers dropped",
          "Buffers skipped for slow clients, summed over clients", 0,
          G_MAXUINT64, 0, ro));
}

static void
gst_ipc_sink_class_init (GstIpcSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->set_property = gst_ipc_sink_set_property;
  gobject_class->get_property = gst_ipc_sink_get_property;
  gobject_class->finalize = gst_ipc_sink_finalize;
  install_properties (gobject_class);

  /**
   * GstIpcSink::client-connected:
   * @sink: the sink
   * @id: the client's number, unique for this sink
   *
   * A client said hello and will receive buffers. Emitted from the
   * client's connection thread.
   */
  signals[SIGNAL_CLIENT_CONNECTED] = g_signal_new ("client-connected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_UINT);
  /**
   * GstIpcSink::client-disconnected:
   * @sink: the sink
   * @id: the client's number
   *
   * A client left or was dropped; its buffers were released.
   */
  signals[SIGNAL_CLIENT_DISCONNECTED] = g_signal_new ("client-disconnected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_UINT);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "Inter-process sink", "Sink/Network",
      "Sends buffers to other processes through shared memory arenas, "
      "without copying them", "Parallax");
  gst_type_mark_as_plugin_api (GST_TYPE_IPC_SINK_SLOW_CLIENT_POLICY, 0);

  basesink_class->start = gst_ipc_sink_start;
  basesink_class->stop = gst_ipc_sink_stop;
  basesink_class->unlock = gst_ipc_sink_unlock;
  basesink_class->unlock_stop = gst_ipc_sink_unlock_stop;
  basesink_class->event = gst_ipc_sink_event;
  basesink_class->query = gst_ipc_sink_query;
  basesink_class->preroll = gst_ipc_sink_preroll;
  basesink_class->render = gst_ipc_sink_render;
  basesink_class->propose_allocation = gst_ipc_sink_propose_allocation;
}

static void
gst_ipc_sink_init (GstIpcSink * self)
{
  self->socket_mode = DEFAULT_SOCKET_MODE;
  self->fd = -1;
  self->max_clients = DEFAULT_MAX_CLIENTS;
  self->max_in_flight = DEFAULT_MAX_IN_FLIGHT;
  self->policy = DEFAULT_POLICY;
  self->listen_fd = -1;
  self->wake_fd = -1;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  /* Consumers synchronise to their own clock. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  /* The last sample would keep one arena slot busy for nothing. */
  gst_base_sink_set_last_sample_enabled (GST_BASE_SINK (self), FALSE);
}
