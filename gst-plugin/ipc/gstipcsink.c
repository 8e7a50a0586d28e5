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
 * Empty (0-byte) buffers travel too, with their timestamps and flags.
 *
 * ipcsink answers the ALLOCATION query with an arena pool, so upstream
 * writes straight into shared memory. Buffers that come from elsewhere are
 * copied once into an arena slot (#GstIpcSink:buffers-copied counts them).
 *
 * Any number of clients may connect to #GstIpcSink:socket-path (up to
 * #GstIpcSink:max-clients); each receives every buffer. A connection must
 * say HELLO within #GstIpcSink:handshake-timeout, and at most
 * #GstIpcSink:max-handshakes connections wait for their HELLO at once: a
 * new one pushes out the one that waited longest. Only one ipcsink listens
 * on a path: a second one fails with a "busy" error, and each removes only
 * the socket file it made.
 *
 * A client may hold #GstIpcSink:max-in-flight buffers; when it holds that
 * many, #GstIpcSink:slow-client-policy decides whether ipcsink waits for it
 * or skips the buffer for that client only. A client that makes the stream
 * wait longer than #GstIpcSink:slow-client-timeout is dropped, with a
 * warning that names it (its number, process id and user id).
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
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (gst_ipc_sink_debug);
#define GST_CAT_DEFAULT gst_ipc_sink_debug

#define DEFAULT_SOCKET_MODE 0600
#define DEFAULT_MAX_CLIENTS 0
#define DEFAULT_MAX_HANDSHAKES 16
#define DEFAULT_HANDSHAKE_TIMEOUT (5 * GST_SECOND)
#define DEFAULT_MAX_IN_FLIGHT 16
#define MAX_MAX_IN_FLIGHT 1024
#define DEFAULT_POLICY GST_IPC_SINK_SLOW_CLIENT_BLOCK
#define DEFAULT_SLOW_CLIENT_TIMEOUT (5 * GST_SECOND)
/* With slow-client-timeout=0, a client that has made the stream wait this
 * long (the default bound) is named on the bus, once. */
#define STALL_WARNING_DELAY DEFAULT_SLOW_CLIENT_TIMEOUT
/* Arenas a client keeps mapped; the least recently used one is removed
 * first (its buffers in flight stay valid: the client holds them). */
#define MAX_ARENAS_PER_CLIENT 8
/* A client whose socket stays full this long is gone. */
#define SEND_TIMEOUT (5 * GST_SECOND)
/* Out of fds or memory, accept() fails while the connection waits in the
 * backlog: try again after this long rather than spin. */
#define ACCEPT_RETRY_MS 100

enum
{
  PROP_0,
  PROP_SOCKET_PATH,
  PROP_SOCKET_MODE,
  PROP_FD,
  PROP_MAX_CLIENTS,
  PROP_MAX_HANDSHAKES,
  PROP_HANDSHAKE_TIMEOUT,
  PROP_MAX_IN_FLIGHT,
  PROP_SLOW_CLIENT_POLICY,
  PROP_SLOW_CLIENT_TIMEOUT,
  PROP_WAIT_FOR_CONNECTION,
  PROP_REQUEST_ARENAS,
  PROP_CLIENTS,
  PROP_BUFFERS_SENT,
  PROP_BUFFERS_COPIED,
  PROP_BUFFERS_DROPPED,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

enum
{
  SIGNAL_CLIENT_CONNECTED,
  SIGNAL_CLIENT_DISCONNECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* An arena announced to one client, as the client counts it against its
 * max_arena_total (docs/protocol.md, HELLO): from its ARENA_ADD until it
 * was removed and every buffer sent from it came back. */
typedef struct
{
  guint64 id;
  guint64 size;
  guint lent;                   /* buffers sent from it, not yet back */
  gboolean removed;             /* ARENA_REMOVE sent */
} Announced;

typedef struct
{
  guint64 id;
  GstBuffer *buffer;
  Announced *from;
} InFlight;

typedef struct
{
  /* Set before the client is in the list, constant after. */
  GstIpcSink *sink;
  guint id;
  gchar *label;                 /* "client 3 (pid 1234, uid 1000)" */
  GstPxConnection *conn;

  /* The sink's lock. */
  gboolean ready;               /* its HELLO arrived */
  gint64 handshake_deadline;    /* monotonic us until then; 0: none */
  gboolean needs_sticky;        /* send the sticky events before anything */
  gboolean stall_warned;        /* named on the bus for making us wait */
  /* The last upstream event of the client's that we pushed for its
   * result, and its seqnum here: what it causes downstream (the flush, the
   * segment after it, an EOS), which carries that seqnum, goes back under
   * its request id (0: none yet). */
  guint64 answering;
  guint32 answering_seqnum;
  GArray *in_flight;            /* of InFlight */
  /* Of Announced: the arenas it may use (at most MAX_ARENAS_PER_CLIENT,
   * least recently used first), then the removed ones that lent buffers
   * it still holds; arena_bytes, the bytes of both. */
  GPtrArray *arenas;
  GPtrArray *removed;
  guint64 arena_bytes;
  /* What its HELLO accepts, bounded by what ours announced. */
  guint64 max_arena_size, max_arena_total;
} Client;

/* Locks, in the order they are taken:
 *   1. GstBaseSink's preroll lock (held around preroll, render, event;
 *      render releases it while it waits for a client, for room or for a
 *      slot, as basesink does around its clock waits);
 *   2. lock;
 *   3. a connection's own lock (gstpxconnection.c), or an object lock
 *      (this element's, its pad's, a pool's).
 * An object lock is innermost: nothing is taken under it. No message is
 * posted and no signal emitted with lock or an object lock held: a
 * synchronous bus handler or a signal handler may read our properties.
 * The one lock that comes before ours is a pool's configuration lock:
 * with request-arenas, gst_buffer_pool_set_config() asks us for an arena
 * (request_arena()); so nothing calls into a pool with lock held. */
struct _GstIpcSink
{
  GstBaseSink parent;

  /* Properties read at start() and by the accept thread (object lock). */
  gchar *socket_path;
  guint socket_mode;
  gint fd;
  guint max_clients;
  guint max_handshakes;
  GstClockTime handshake_timeout;

  /* Clients, streaming state, statistics, and the properties the streaming
   * thread and the clients' readers use (lock). */
  GMutex lock;
  GCond cond;
  guint max_in_flight;
  GstIpcSinkSlowClientPolicy policy;
  GstClockTime slow_client_timeout;
  gboolean wait_for_connection;
  gboolean request_arenas;
  GList *clients;               /* of Client, greeting or ready */
  guint releasing;              /* clients out of the list, not yet freed */
  /* Client connections not freed yet: their reader threads and fds may
   * outlive the client's release by a moment (connection_freed()). */
  guint connections;
  guint next_client_id;
  guint64 next_buffer_id;
  /* Between unlock() and unlock_stop(): a flush, or a state change
   * (PLAYING -> PAUSED), wants the streaming thread out of its waits. */
  gboolean unlocked;
  guint flushes;                /* FLUSH_START events so far */
  guint room_waiters;           /* streaming threads in wait_for_room_locked */
  GstEvent *latency_event;      /* last one sent, for late clients */
  guint64 buffers_sent, buffers_copied, buffers_dropped;
  gboolean arena_requested;     /* request-arenas: a request waits... */
  PxArena *granted_arena;       /* ...and this came, not yet taken by it */
  /* Replaced by the streaming thread alone, which reads it without lock;
   * unlock() reads it from another thread. */
  GstBufferPool *copy_pool;     /* for buffers upstream did not put in an arena */

  /* fd mode: one peer, events and queries both ways. Set by start() before
   * any client exists, constant until stop(). */
  gboolean upstream_allowed;

  /* Listening (socket-path mode): set by start() before the accept thread
   * runs and cleared by stop() after it ended; the accept thread's own in
   * between. */
  int listen_fd;
  int wake_fd;
  GThread *accept_thread;
  gchar *listen_path;           /* for messages */
  gchar *bound_path;            /* the socket file we made, if one */
  dev_t bound_dev;
  ino_t bound_ino;
  gboolean handshakes_warned;   /* said that connections do not greet us */

  /* Streaming thread only (and stop(), once it ended). */
  gsize copy_pool_size;         /* copy_pool's buffer size */
  GstBuffer *prerolled;         /* sent at preroll: not sent again by render */
  /* A buffer that did not reach every client in preroll() (it waits for
   * nothing): render() goes on with it. */
  struct _Delivery *unfinished;
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
    guint64 request_id, gpointer user_data);

static const GstPxConnectionFuncs client_funcs = {
  .message = client_message,
  .query = client_query,
  .closed = client_closed,
  .event = client_event,
};

static void
client_free (Client * client)
{
  for (guint i = 0; i < client->in_flight->len; i++)
    gst_buffer_unref (g_array_index (client->in_flight, InFlight, i).buffer);
  g_array_unref (client->in_flight);
  g_ptr_array_unref (client->arenas);
  g_ptr_array_unref (client->removed);
  gst_px_connection_unref (client->conn);
  g_free (client->label);
  g_free (client);
}

/* Who is at the other end of @fd, as the kernel saw it connect: "pid P,
 * uid U". */
static gchar *
peer_credentials (int fd)
{
  struct ucred cred;
  socklen_t len = sizeof cred;

  /* 0: a process outside our PID namespace. */
  if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
      cred.pid <= 0)
    return g_strdup ("pid unknown");
  return g_strdup_printf ("pid %d, uid %u", (int) cred.pid, (guint) cred.uid);
}

/* Any thread, without lock: a client's connection is gone, its threads
 * ended and its fds closed. */
static void
connection_freed (gpointer data)
{
  GstIpcSink *self = data;

  g_mutex_lock (&self->lock);
  self->connections--;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Takes @fd. Adds a client that has @handshake_timeout to say HELLO (0:
 * forever) and sends it our HELLO. Called with lock. */
static Client *
add_client_locked (GstIpcSink * self, int fd, GstClockTime handshake_timeout,
    GError ** error)
{
  Client *client = g_new0 (Client, 1);
  PxWireHello hello = {.role = PX_WIRE_ROLE_PRODUCER };
  gchar *credentials;

  client->sink = self;
  client->id = ++self->next_client_id;
  credentials = peer_credentials (fd);
  client->label = g_strdup_printf ("client %u (%s)", client->id, credentials);
  g_free (credentials);
  client->in_flight = g_array_new (FALSE, FALSE, sizeof (InFlight));
  client->arenas = g_ptr_array_new_with_free_func (g_free);
  client->removed = g_ptr_array_new_with_free_func (g_free);
  client->conn = gst_px_connection_new (fd, GST_OBJECT (self), &client_funcs,
      client);
  gst_px_connection_set_name (client->conn, client->label);
  if (handshake_timeout > 0)
    client->handshake_deadline = g_get_monotonic_time () +
        (gint64) (handshake_timeout / GST_USECOND);

  hello.features = self->upstream_allowed ? PX_WIRE_FEATURE_UPSTREAM : 0;
  hello.max_in_flight = self->max_in_flight;
  hello.max_arena_size = PX_WIRE_DEFAULT_ARENA_SIZE;
  hello.max_arena_total = PX_WIRE_DEFAULT_ARENA_TOTAL;
  if (gst_px_connection_send_hello (client->conn, &hello, SEND_TIMEOUT) < 0 ||
      !gst_px_connection_start (client->conn, error)) {
    if (error && *error == NULL)
      g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PEER_GONE,
          "cannot greet %s", client->label);
    gst_px_connection_close (client->conn);
    client_free (client);
    return NULL;
  }
  /* Not before: freed on the way out (with lock), it would count itself
   * off under our lock. From here on, no reference goes with lock held. */
  self->connections++;
  gst_px_connection_set_free_notify (client->conn, connection_freed, self);
  self->clients = g_list_append (self->clients, client);
  GST_INFO_OBJECT (self, "%s connected, waiting for its HELLO", client->label);
  return client;
}

/* A send failed because the client closed its end: not worth a warning,
 * its reader sees the close and removes it. */
static gboolean
peer_gone (int ret)
{
  return ret == -EPIPE || ret == -ECONNRESET;
}

static gboolean
still_connected_locked (GstIpcSink * self, Client * client)
{
  return g_list_find (self->clients, client) != NULL;
}

static guint
count_clients_locked (GstIpcSink * self, gboolean ready)
{
  guint n = 0;

  for (GList * l = self->clients; l; l = l->next)
    n += ((Client *) l->data)->ready == ready;
  return n;
}

/* With lock: takes @client out of the list. Whoever does so releases it,
 * with release_client() and without lock, and nobody else touches it. */
static void
detach_client_locked (GstIpcSink * self, Client * client)
{
  self->clients = g_list_remove (self->clients, client);
  self->releasing++;
  g_cond_broadcast (&self->cond);
}

/* Without lock: ends a detached client's connection, says why (@warning:
 * on the bus; NULL: in the log), tells who listens if it was connected
 * and frees it, with its buffers. May run on the client's own reader, which
 * then ends on its own once it returns. */
static void
release_client (GstIpcSink * self, Client * client, const gchar * warning,
    gboolean announce)
{
  /* Nobody else changes a detached client: ready is settled. */
  gboolean was_ready = client->ready;
  guint id = client->id;

  gst_px_connection_close (client->conn);
  if (warning != NULL)
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("Dropped %s: %s", client->label, warning), (NULL));
  GST_INFO_OBJECT (self, "%s released%s%s", client->label,
      warning ? ": " : "", warning ? warning : "");
  client_free (client);
  if (was_ready && announce)
    g_signal_emit (self, signals[SIGNAL_CLIENT_DISCONNECTED], 0, id);
  g_mutex_lock (&self->lock);
  self->releasing--;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* With lock (released meanwhile, and taken again): drops @client, which
 * is freed when this returns. */
static void
drop_client_locked (GstIpcSink * self, Client * client, const gchar * why)
{
  detach_client_locked (self, client);
  g_mutex_unlock (&self->lock);
  release_client (self, client, why, TRUE);
  g_mutex_lock (&self->lock);
}

/* Reader thread: the peer went away or broke the protocol. Its thread and
 * fds go now, not when something else happens. */
static void
client_closed (GstPxConnection * conn, const GError * error, gpointer user_data)
{
  Client *client = user_data;
  GstIpcSink *self = client->sink;
  gboolean found;

  g_mutex_lock (&self->lock);
  found = still_connected_locked (self, client);
  if (found)
    detach_client_locked (self, client);
  g_mutex_unlock (&self->lock);
  /* Not found: whoever took it out of the list releases it. */
  if (found)
    release_client (self, client, error ? error->message : NULL, TRUE);
}

/* Reader thread: the client's HELLO. */
static gboolean
client_hello (Client * client, PxWireMessage * msg, GError ** error)
{
  GstIpcSink *self = client->sink;
  PxWireHello hello;
  guint32 allowed = self->upstream_allowed ? PX_WIRE_FEATURE_UPSTREAM : 0;
  guint max_clients;
  gboolean full = FALSE;

  if (px_wire_decode_hello (msg, &hello) < 0 ||
      hello.role != PX_WIRE_ROLE_CONSUMER || (hello.features & ~allowed) ||
      client->ready) {
    GST_INFO_OBJECT (self, "%s: refused its HELLO", client->label);
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL, "bad HELLO");
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  max_clients = self->max_clients;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  if (!still_connected_locked (self, client)) {
    /* Given up on while its HELLO came: being closed. */
    g_mutex_unlock (&self->lock);
    return TRUE;
  }
  /* Counted at accept as well; several may have greeted at once. */
  full = max_clients > 0 && count_clients_locked (self, TRUE) >= max_clients;
  if (!full) {
    client->max_arena_size = MIN (hello.max_arena_size,
        PX_WIRE_DEFAULT_ARENA_SIZE);
    client->max_arena_total = MIN (hello.max_arena_total,
        PX_WIRE_DEFAULT_ARENA_TOTAL);
    client->ready = TRUE;
    client->handshake_deadline = 0;
    client->needs_sticky = TRUE;
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
  if (full) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_REFUSED,
        "already %u clients (max-clients)", max_clients);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "%s said HELLO: ready", client->label);
  g_signal_emit (self, signals[SIGNAL_CLIENT_CONNECTED], 0, client->id);
  return TRUE;
}

/* With lock: a buffer sent from @arena came back. A removed arena counts
 * no more once its last one did: the client counted it back first. */
static void
arena_returned_locked (Client * client, Announced * arena)
{
  if (--arena->lent > 0 || !arena->removed)
    return;
  client->arena_bytes -= arena->size;
  g_ptr_array_remove (client->removed, arena);
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
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL, "bad BUFFER_DONE");
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
      g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL,
          "released buffer %" G_GUINT64_FORMAT " it did not hold",
          done.buffer_ids[i]);
      ok = FALSE;
      break;
    }
    g_ptr_array_add (released, g_array_index (flight, InFlight, j).buffer);
    arena_returned_locked (client, g_array_index (flight, InFlight, j).from);
    g_array_remove_index_fast (flight, j);
  }
  /* Only a streaming thread waiting for room cares; a broadcast costs a
   * system call even when nobody waits, and this runs for every buffer. */
  if (self->room_waiters > 0)
    g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  GST_LOG_OBJECT (self, "%s released %u buffers", client->label, released->len);
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
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL,
        "unexpected EVENT");
    return FALSE;
  }
  event = gst_px_event_deserialize (blob.kind, blob.body, TRUE,
      gst_px_connection_get_budget (client->conn), error);
  if (event == NULL)
    return FALSE;
  GST_DEBUG_OBJECT (self, "upstream event from %s: %" GST_PTR_FORMAT,
      client->label, event);
  gst_pad_push_event (GST_BASE_SINK_PAD (self), event);
  return TRUE;
}

/* Pool thread: an upstream event (a seek) whose result the consumer waits
 * for. The flush it causes upstream comes back through us before the push
 * returns (basesrc flushes on the seeking thread), and the new segment
 * after it, all with the seek's seqnum: broadcast_event() sends them under
 * @request_id, so that the consumer gives them the seqnum of its own seek
 * (a demuxer in push mode drops the flush of its own seeks, must have it
 * before its seek returns, and drops data until the segment of its seek).
 * The mark stays after the push, until the client's next such event. */
static gboolean
client_event (GstPxConnection * conn, GstEvent * event, guint64 request_id,
    gpointer user_data)
{
  Client *client = user_data;
  GstIpcSink *self = client->sink;
  gboolean handled;

  if (!self->upstream_allowed) {
    gst_event_unref (event);
    return FALSE;
  }
  GST_DEBUG_OBJECT (self, "upstream event from %s, for its result: %"
      GST_PTR_FORMAT, client->label, event);
  g_mutex_lock (&self->lock);
  client->answering = request_id;
  client->answering_seqnum = gst_event_get_seqnum (event);
  g_mutex_unlock (&self->lock);
  handled = gst_pad_push_event (GST_BASE_SINK_PAD (self), event);
  return handled;
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
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL,
        "unexpected ARENA_ADD");
    return FALSE;
  }
  ret = px_arena_adopt (px_wire_message_steal_fd (msg), add.arena_id,
      add.size, add.slot_stride, add.slot_count, &arena);
  if (ret < 0) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL,
        "refused the consumer's arena %016" G_GINT64_MODIFIER "x: %s",
        add.arena_id, g_strerror (-ret));
    return FALSE;
  }
  GST_DEBUG_OBJECT (self, "%s made arena %016" G_GINT64_MODIFIER "x of %u "
      "slots", client->label, add.arena_id, add.slot_count);
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
 * arena itself came just before. The thread that configures the pool, with
 * the pool's lock held. */
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
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL,
        "%s before HELLO", px_wire_type_name (msg->header.type));
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
      g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL,
          "unexpected %s message", px_wire_type_name (msg->header.type));
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

/* ---- connections waiting for their HELLO ------------------------------- */

/* Accept thread: closes the connections in @given_up (taken), which the
 * caller detached, and says why; on the bus once until nobody is greeting
 * any more, so that a flood of them does not flood the bus. */
static void
release_given_up (GstIpcSink * self, GList * given_up, const gchar * why)
{
  if (given_up == NULL)
    return;
  if (!self->handshakes_warned) {
    self->handshakes_warned = TRUE;
    GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
        ("Closing connections to %s that do not say HELLO: %s",
            self->listen_path, why), ("further ones are only logged, until "
            "no connection waits for its HELLO"));
  }
  for (GList * l = given_up; l; l = l->next) {
    Client *client = l->data;

    GST_INFO_OBJECT (self, "%s: closing: %s", client->label, why);
    release_client (self, client, NULL, FALSE);
  }
  g_list_free (given_up);
}

/* Accept thread: closes the connections whose handshake-timeout passed.
 * Returns the next deadline (monotonic us), or 0 if none. */
static gint64
expire_handshakes (GstIpcSink * self)
{
  gint64 now = g_get_monotonic_time (), next = 0;
  GList *expired = NULL;

  g_mutex_lock (&self->lock);
  for (GList * l = self->clients; l;) {
    Client *client = l->data;

    l = l->next;
    if (client->ready || client->handshake_deadline == 0)
      continue;
    if (client->handshake_deadline <= now) {
      detach_client_locked (self, client);
      expired = g_list_append (expired, client);
    } else if (next == 0 || client->handshake_deadline < next) {
      next = client->handshake_deadline;
    }
  }
  if (count_clients_locked (self, FALSE) == 0 && expired == NULL)
    self->handshakes_warned = FALSE;
  g_mutex_unlock (&self->lock);
  release_given_up (self, expired, "no HELLO within handshake-timeout");
  return next;
}

/* With lock: makes room for one more connection waiting for its HELLO,
 * taking out the ones that waited longest (first in the list). Returns
 * them, for release_given_up(). */
static GList *
make_room_for_handshake_locked (GstIpcSink * self, guint max_handshakes)
{
  GList *evicted = NULL;

  while (count_clients_locked (self, FALSE) >= max_handshakes) {
    Client *oldest = NULL;

    for (GList * l = self->clients; l && oldest == NULL; l = l->next) {
      if (!((Client *) l->data)->ready)
        oldest = l->data;
    }
    detach_client_locked (self, oldest);
    evicted = g_list_append (evicted, oldest);
  }
  return evicted;
}

/* ---- listening --------------------------------------------------------- */

/* Accept thread: takes one connection. FALSE when accept() failed for
 * good (errno set). Out of fds or memory, sets *@retry_at to when to try
 * again (and leaves it set until a connection is taken). */
static gboolean
accept_one (GstIpcSink * self, gint64 * retry_at)
{
  GError *error = NULL;
  int fd = accept4 (self->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  guint max_clients, max_handshakes;
  GstClockTime timeout;
  GList *evicted;
  gchar *refused = NULL;

  if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM)) {
    int err = errno;

    /* Said once per series of failures. */
    if (*retry_at == 0)
      GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ,
          ("Cannot accept a client on %s: %s", self->listen_path,
              g_strerror (err)), ("trying again every %d ms", ACCEPT_RETRY_MS));
    *retry_at = g_get_monotonic_time () + ACCEPT_RETRY_MS * 1000;
    return TRUE;
  }
  if (fd < 0)
    return errno == EINTR || errno == EAGAIN || errno == ECONNABORTED;
  *retry_at = 0;

  GST_OBJECT_LOCK (self);
  max_clients = self->max_clients;
  max_handshakes = self->max_handshakes;
  timeout = self->handshake_timeout;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  if (max_clients > 0 && count_clients_locked (self, TRUE) >= max_clients) {
    g_mutex_unlock (&self->lock);
    refused = peer_credentials (fd);
    close (fd);
    GST_INFO_OBJECT (self, "refused a connection from %s: max-clients",
        refused);
    GST_ELEMENT_WARNING (self, RESOURCE, BUSY,
        ("Refused a client: already %u (max-clients)", max_clients),
        ("a connection from %s", refused));
    g_free (refused);
    return TRUE;
  }
  evicted = make_room_for_handshake_locked (self, max_handshakes);
  if (add_client_locked (self, fd, timeout, &error) == NULL) {
    GST_INFO_OBJECT (self, "new connection: %s", error->message);
    g_clear_error (&error);
  }
  g_mutex_unlock (&self->lock);
  release_given_up (self, evicted, "max-handshakes connections wait for "
      "theirs; the oldest gives way to a new one");
  return TRUE;
}

/* Milliseconds from now to @deadline (monotonic us) for poll(): -1 for no
 * deadline (0). */
static int
poll_timeout (gint64 deadline)
{
  gint64 left;

  if (deadline == 0)
    return -1;
  left = deadline - g_get_monotonic_time ();
  return left <= 0 ? 0 : (int) MIN ((left + 999) / 1000, G_MAXINT);
}

static gpointer
accept_thread (gpointer data)
{
  GstIpcSink *self = data;
  gint64 retry_at = 0;

  for (;;) {
    struct pollfd pfd[2] = {
      {.fd = self->wake_fd,.events = POLLIN},
      {.fd = self->listen_fd,.events = POLLIN},
    };
    gint64 deadline = expire_handshakes (self);
    gboolean waiting_to_retry = retry_at > g_get_monotonic_time ();

    if (waiting_to_retry && (deadline == 0 || retry_at < deadline))
      deadline = retry_at;
    if (poll (pfd, waiting_to_retry ? 1 : 2, poll_timeout (deadline)) < 0) {
      if (errno == EINTR)
        continue;
      GST_ELEMENT_ERROR (self, RESOURCE, READ,
          ("Cannot accept clients on %s", self->listen_path),
          ("poll: %s", g_strerror (errno)));
      break;
    }
    if (pfd[0].revents)
      break;
    if (!waiting_to_retry && (pfd[1].revents & POLLIN) &&
        !accept_one (self, &retry_at)) {
      GST_ELEMENT_ERROR (self, RESOURCE, READ,
          ("Cannot accept clients on %s: %s", self->listen_path,
              g_strerror (errno)), (NULL));
      break;
    }
  }
  return NULL;
}

/* Connects to the socket at @path without waiting: 0 if something listens
 * there, or -errno (-ECONNREFUSED: a stale socket file). */
static int
probe_socket (const gchar * path)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX };
  px_auto_fd fd = -1;
  int ret;

  if (strlen (path) >= sizeof addr.sun_path)
    return -ENAMETOOLONG;
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return px_negative_errno ();
  do {
    ret = connect (fd, (struct sockaddr *) &addr, sizeof addr);
  } while (ret < 0 && errno == EINTR);
  return ret < 0 ? px_negative_errno () : 0;
}

/* Why px_unix_listen() (or the probe before it) failed with @err, on the
 * bus in GStreamer's terms. */
static void
post_listen_error (GstIpcSink * self, const gchar * path, int err)
{
  gchar *dir = g_path_get_dirname (path);
  struct sockaddr_un addr;

  switch (err) {
    case ENOENT:
    case ENOTDIR:
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("Cannot listen on %s: the directory %s does not exist", path,
              dir), ("%s", g_strerror (err)));
      break;
    case EACCES:
    case EPERM:
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
          ("Cannot listen on %s: permission denied", path),
          ("this process may not create a socket in %s, or not connect to "
              "the one there (%s)", dir, g_strerror (err)));
      break;
    case EADDRINUSE:
      GST_ELEMENT_ERROR (self, RESOURCE, BUSY,
          ("Cannot listen on %s: address in use", path),
          ("another ipcsink, or another program, listens there"));
      break;
    case EEXIST:
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
          ("Cannot listen on %s: a file that is not a socket is there",
              path), (NULL));
      break;
    case ENAMETOOLONG:
    case EINVAL:
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Cannot listen on \"%s\": a socket path is 1 to %u bytes long",
              path, (guint) sizeof addr.sun_path - 1), ("%s",
              g_strerror (err)));
      break;
    default:
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
          ("Cannot listen on %s: %s", path, g_strerror (err)), (NULL));
      break;
  }
  g_free (dir);
}

/* Listens on @path. A socket file there that some process listens on is
 * left alone ("address in use"); one nobody listens on (its process died)
 * is replaced. Remembers which file it made, to remove that one only. */
static gboolean
listen_on (GstIpcSink * self, const gchar * path, guint mode)
{
  gboolean on_file = path[0] != '@';
  struct stat st;
  int fd, probe;

  if (on_file && lstat (path, &st) == 0 && S_ISSOCK (st.st_mode)) {
    probe = probe_socket (path);
    /* Listening, with a full backlog, or for another socket type. */
    if (probe == 0 || probe == -EAGAIN || probe == -EPROTOTYPE) {
      post_listen_error (self, path, EADDRINUSE);
      return FALSE;
    }
    if (probe == -EACCES || probe == -EPERM) {
      post_listen_error (self, path, -probe);
      return FALSE;
    }
    GST_INFO_OBJECT (self, "replacing the stale socket %s (%s)", path,
        g_strerror (-probe));
  }
  fd = px_unix_listen (path, mode);
  if (fd < 0) {
    post_listen_error (self, path, -fd);
    return FALSE;
  }
  self->listen_fd = fd;
  self->listen_path = g_strdup (path);
  if (on_file && stat (path, &st) == 0) {
    self->bound_path = g_strdup (path);
    self->bound_dev = st.st_dev;
    self->bound_ino = st.st_ino;
  }
  return TRUE;
}

static void
stop_listening (GstIpcSink * self)
{
  struct stat st;

  if (self->accept_thread) {
    guint64 one = 1;

    if (write (self->wake_fd, &one, sizeof one) < 0)
      GST_WARNING_OBJECT (self, "cannot wake the accept thread");
    g_thread_join (self->accept_thread);
    self->accept_thread = NULL;
  }
  /* Only if the file is still the one we made: another process may have
   * put its own there meanwhile. */
  if (self->bound_path != NULL) {
    if (lstat (self->bound_path, &st) == 0 && st.st_dev == self->bound_dev &&
        st.st_ino == self->bound_ino)
      unlink (self->bound_path);
    else
      GST_INFO_OBJECT (self, "%s is no longer our socket: left there",
          self->bound_path);
  }
  g_clear_pointer (&self->bound_path, g_free);
  g_clear_pointer (&self->listen_path, g_free);
  px_close_fd (&self->listen_fd);
  px_close_fd (&self->wake_fd);
}

static gboolean
start_listening (GstIpcSink * self, const gchar * path, guint mode)
{
  GError *error = NULL;

  if (!listen_on (self, path, mode))
    return FALSE;
  self->handshakes_warned = FALSE;
  self->wake_fd = eventfd (0, EFD_CLOEXEC);
  self->accept_thread = self->wake_fd < 0 ? NULL :
      g_thread_try_new ("ipcsink-accept", accept_thread, self, &error);
  if (self->accept_thread == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Cannot start accepting clients"),
        ("%s", error ? error->message : g_strerror (errno)));
    g_clear_error (&error);
    stop_listening (self);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "listening on %s", path);
  return TRUE;
}

/* ---- sending ----------------------------------------------------------- */

static gboolean
collect_sticky_event (GstPad * pad, GstEvent ** event, gpointer user_data)
{
  g_ptr_array_add (user_data, gst_event_ref (*event));
  return TRUE;
}

/* With lock: a client that (re)joins gets the stream's state first. The
 * events are sent after the pad's object lock, which the foreach holds,
 * was released: a send may wait for the client. */
static void
send_sticky_locked (GstIpcSink * self, Client * client)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_event_unref);

  client->needs_sticky = FALSE;
  gst_pad_sticky_events_foreach (GST_BASE_SINK_PAD (self),
      collect_sticky_event, events);
  if (self->latency_event)
    g_ptr_array_add (events, gst_event_ref (self->latency_event));
  GST_DEBUG_OBJECT (self, "%s: sending %u sticky events", client->label,
      events->len);
  for (guint i = 0; i < events->len; i++)
    gst_px_connection_send_event (client->conn, events->pdata[i], FALSE, 0,
        SEND_TIMEOUT);
  g_ptr_array_unref (events);
}

/* With lock: the announcement of @arena to @client, or NULL; its index
 * in client->arenas in *@index. */
static Announced *
announced_locked (Client * client, PxArena * arena, guint * index)
{
  guint64 id = px_arena_id (arena);

  for (guint i = 0; i < client->arenas->len; i++) {
    Announced *a = g_ptr_array_index (client->arenas, i);

    if (a->id == id) {
      *index = i;
      return a;
    }
  }
  return NULL;
}

/* With lock: whether @client can take @arena now: it knows it, or it fits
 * beside what it cannot stop counting (arenas that lent buffers it holds;
 * the others we can remove). One that never fits is for
 * announce_arena_locked() to refuse. */
static gboolean
arena_fits_locked (Client * client, PxArena * arena)
{
  guint64 size = px_arena_size (arena), pinned = 0;
  guint index;

  if (announced_locked (client, arena, &index) != NULL ||
      size > client->max_arena_size || size > client->max_arena_total)
    return TRUE;
  for (guint i = 0; i < client->arenas->len; i++) {
    Announced *a = g_ptr_array_index (client->arenas, i);

    if (a->lent > 0)
      pinned += a->size;
  }
  for (guint i = 0; i < client->removed->len; i++)
    pinned += ((Announced *) g_ptr_array_index (client->removed, i))->size;
  return size <= client->max_arena_total - pinned;
}

/* With lock: sends ARENA_REMOVE for the arena @client used least recently.
 * It counts on while it lent buffers the client holds. */
static int
remove_oldest_arena_locked (GstIpcSink * self, Client * client)
{
  Announced *oldest = g_ptr_array_steal_index (client->arenas, 0);
  int ret;

  GST_DEBUG_OBJECT (self, "%s: removing arena %016" G_GINT64_MODIFIER "x (%u "
      "buffers of it out)", client->label, oldest->id, oldest->lent);
  ret = gst_px_connection_send_arena_remove (client->conn, oldest->id,
      SEND_TIMEOUT);
  if (ret < 0) {
    /* not removed: the connection is over anyway */
    g_ptr_array_insert (client->arenas, 0, oldest);
    return ret;
  }
  oldest->removed = TRUE;
  if (oldest->lent > 0) {
    g_ptr_array_add (client->removed, oldest);
  } else {
    client->arena_bytes -= oldest->size;
    g_free (oldest);
  }
  return 0;
}

/* With lock: announces @arena to @client unless it knows it (*@out: its
 * announcement), keeping at most MAX_ARENAS_PER_CLIENT announced and all
 * it counts within its max_arena_total: the caller waited until it fits
 * (arena_fits_locked()). */
static int
announce_arena_locked (GstIpcSink * self, Client * client, PxArena * arena,
    Announced ** out)
{
  guint64 id = px_arena_id (arena), size = px_arena_size (arena);
  PxWireArenaAdd add = { 0, };
  guint index;
  Announced *a = announced_locked (client, arena, &index);
  int ret;

  if (a != NULL) {
    /* most recently used goes last */
    g_ptr_array_add (client->arenas, g_ptr_array_steal_index (client->arenas,
            index));
    *out = a;
    return 0;
  }
  /* The limits both HELLOs agreed on (PxWireHello): the client would
   * refuse more. */
  if (size > client->max_arena_size || size > client->max_arena_total)
    return -EFBIG;
  while (client->arenas->len > 0 &&
      (client->arenas->len == MAX_ARENAS_PER_CLIENT ||
          size > client->max_arena_total - client->arena_bytes)) {
    ret = remove_oldest_arena_locked (self, client);
    if (ret < 0)
      return ret;
  }
  if (size > client->max_arena_total - client->arena_bytes)
    return -EAGAIN;
  /* No client may ever write what we share. */
  ret = px_arena_seal_for_readers (arena);
  if (ret < 0)
    return ret;
  add.arena_id = id;
  add.size = size;
  add.slot_stride = px_arena_slot_stride (arena);
  add.slot_count = px_arena_slot_count (arena);
  GST_DEBUG_OBJECT (self, "%s: announcing arena %016" G_GINT64_MODIFIER "x, "
      "%u slots of %" G_GSIZE_FORMAT " bytes", client->label, id,
      add.slot_count, (gsize) add.slot_stride);
  ret = gst_px_connection_send_arena_add (client->conn, &add,
      px_arena_fd (arena), SEND_TIMEOUT);
  if (ret < 0)
    return ret;
  a = g_new0 (Announced, 1);
  a->id = id;
  a->size = size;
  g_ptr_array_add (client->arenas, a);
  client->arena_bytes += size;
  *out = a;
  return 0;
}

typedef enum
{
  ROOM,                         /* send it */
  SKIP,                         /* not to this client (drop policy) */
  GONE,                         /* the client is gone (and freed) */
  LATER,                        /* not now: see the wait's flow */
} Room;

/* Why a wait ended early. Preroll waits for nothing: a client or a slot
 * it would wait for makes it FLOW_LATER (render goes on, once PLAYING).
 * Render's waits end with GST_FLOW_FLUSHING (a flush, or stopping) or
 * FLOW_PAUSED: the sink went back to PAUSED, and render prerolls on the
 * buffer it holds (see gst_ipc_sink_render()). */
#define FLOW_LATER GST_FLOW_CUSTOM_SUCCESS
#define FLOW_PAUSED GST_FLOW_CUSTOM_SUCCESS_1

/* What render's waits need: the flushes there were when it began, and
 * why the last wait ended. Preroll passes none (NULL). */
typedef struct
{
  guint flushes;
  GstFlowReturn ret;
} RenderWait;

/* A flush, or the pad's deactivation (stopping), is on. */
static gboolean
pad_flushing (GstIpcSink * self)
{
  GstPad *pad = GST_BASE_SINK_PAD (self);
  gboolean flushing;

  GST_OBJECT_LOCK (pad);
  flushing = GST_PAD_IS_FLUSHING (pad);
  GST_OBJECT_UNLOCK (pad);
  return flushing;
}

/* Render, with lock and basesink's preroll lock: what ends its waits. */
static GstFlowReturn
render_check_locked (GstIpcSink * self, RenderWait * wait)
{
  if (self->flushes != wait->flushes || pad_flushing (self))
    return GST_FLOW_FLUSHING;
  if (GST_BASE_SINK (self)->need_preroll)
    return FLOW_PAUSED;
  return GST_FLOW_OK;
}

/* Render, with lock and basesink's preroll lock: waits on cond (until
 * @deadline, monotonic us; 0: none) with the preroll lock released, as
 * basesink releases it around its clock waits: a state change does not
 * wait for a consumer. GST_FLOW_OK: look again. */
static GstFlowReturn
render_wait_locked (GstIpcSink * self, RenderWait * wait, gint64 deadline)
{
  GstBaseSink *sink = GST_BASE_SINK (self);

  /* What ended the wait may have come before it: render lets go of the
   * preroll lock elsewhere too (for a slot of its copy pool), and a whole
   * unlock(), PLAYING -> PAUSED, unlock_stop() can pass meanwhile. */
  wait->ret = render_check_locked (self, wait);
  if (wait->ret != GST_FLOW_OK)
    return wait->ret;
  GST_BASE_SINK_PREROLL_UNLOCK (sink);
  if (deadline > 0)
    g_cond_wait_until (&self->cond, &self->lock, deadline);
  else
    g_cond_wait (&self->cond, &self->lock);
  /* Woken by unlock(): basesink calls it before it takes the preroll lock
   * for PLAYING -> PAUSED and sets need_preroll, and unlock_stop() after.
   * Looked at in between, need_preroll is not set yet, and the sink would
   * go on waiting for room while the state change waits for its preroll.
   * So wait for unlock_stop(), or for the flush or the pad's deactivation
   * that the unlock() belongs to. Each wakes us: the pad is flushing
   * before basesink calls unlock() for either (GstPad sets the flag before
   * the event or activation function), FLUSH_START counts a flush and
   * broadcasts before that, and unlock_stop() broadcasts. */
  while (self->unlocked && self->flushes == wait->flushes &&
      !pad_flushing (self))
    g_cond_wait (&self->cond, &self->lock);
  /* in the order of the hierarchy */
  g_mutex_unlock (&self->lock);
  GST_BASE_SINK_PREROLL_LOCK (sink);
  g_mutex_lock (&self->lock);
  wait->ret = render_check_locked (self, wait);
  return wait->ret;
}

/* With lock, released meanwhile: says on the bus, once, that the stream
 * waits for @client (slow-client-timeout=0: as long as it takes). */
static void
warn_stall_locked (GstIpcSink * self, Client * client, const gchar * what,
    gint64 waited_us)
{
  gchar *label = g_strdup (client->label);
  guint held = client->in_flight->len;

  client->stall_warned = TRUE;
  g_mutex_unlock (&self->lock);
  GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
      ("The stream has waited %" GST_TIME_FORMAT " for %s, which holds %s "
          "(%u buffers)", GST_TIME_ARGS (waited_us * GST_USECOND), label,
          what, held), ("slow-client-timeout=0: waiting as long as it "
          "takes"));
  g_free (label);
  g_mutex_lock (&self->lock);
}

/* With lock: what @client holds that keeps it from taking a buffer of
 * @arena now, or NULL if it can. */
static const gchar *
no_room_locked (GstIpcSink * self, Client * client, PxArena * arena)
{
  if (client->in_flight->len >= self->max_in_flight)
    return "all the buffers it may hold";
  if (!arena_fits_locked (client, arena))
    return "buffers of an arena that must go for the next one to fit in "
        "what it accepts";
  return NULL;
}

/* With lock: waits until @client may take one more buffer, of @arena
 * (render: @wait; preroll, NULL: LATER instead). A client that makes the
 * stream wait slow-client-timeout is dropped (and freed); the time render
 * spends PAUSED does not count. */
static Room
wait_for_room_locked (GstIpcSink * self, Client * client, PxArena * arena,
    RenderWait * wait)
{
  const gchar *what;
  gint64 since = 0;

  while ((what = no_room_locked (self, client, arena)) != NULL) {
    gint64 now = g_get_monotonic_time (), bound, deadline;

    if (self->policy == GST_IPC_SINK_SLOW_CLIENT_DROP)
      return SKIP;
    if (wait == NULL)
      return LATER;
    if (since == 0) {
      since = now;
      GST_DEBUG_OBJECT (self, "%s holds %s (%u buffers): waiting for it",
          client->label, what, client->in_flight->len);
    }
    bound = (gint64) MIN (self->slow_client_timeout / GST_USECOND,
        G_MAXINT64 / 2);
    if (bound > 0 && now - since >= bound) {
      gchar *why = g_strdup_printf ("it held %s (%u buffers) for %"
          GST_TIME_FORMAT " (slow-client-timeout)", what,
          client->in_flight->len, GST_TIME_ARGS ((now - since) * GST_USECOND));

      drop_client_locked (self, client, why);
      g_free (why);
      return GONE;
    }
    if (bound == 0 && !client->stall_warned &&
        now - since >= (gint64) (STALL_WARNING_DELAY / GST_USECOND)) {
      warn_stall_locked (self, client, what, now - since);
      if (!still_connected_locked (self, client))
        return GONE;
      continue;
    }
    if (bound > 0)
      deadline = since + bound;
    else if (!client->stall_warned)
      deadline = since + STALL_WARNING_DELAY / GST_USECOND;
    else
      deadline = 0;
    self->room_waiters++;
    render_wait_locked (self, wait, deadline);
    self->room_waiters--;
    if (!still_connected_locked (self, client))
      return GONE;
    if (wait->ret != GST_FLOW_OK)
      return LATER;
  }
  return ROOM;
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

/* A buffer on its way to the clients. Streaming thread only. */
typedef struct _Delivery
{
  GstBuffer *buffer;            /* as upstream gave it */
  GstBuffer *held;              /* its data in an arena slot: itself or a copy */
  PxArena *arena;               /* held's */
  PxWireBuffer wire;
  GPtrArray *clients;           /* the ready clients when it was prepared */
  guint next;                   /* the first of them it has not reached */
} Delivery;

static void
delivery_free (Delivery * d)
{
  if (d == NULL)
    return;
  gst_buffer_unref (d->buffer);
  gst_buffer_unref (d->held);
  g_ptr_array_unref (d->clients);
  g_free (d);
}

/* With lock: sends @d's buffer to @client, which has room. */
static void
send_to_client_locked (GstIpcSink * self, Client * client, Delivery * d)
{
  Announced *from = NULL;
  InFlight entry;
  int ret;

  ret = announce_arena_locked (self, client, d->arena, &from);
  if (ret == 0)
    ret = gst_px_connection_send_buffer (client->conn, &d->wire, SEND_TIMEOUT);
  if (peer_gone (ret))
    return;                     /* its reader saw why, and removes it */
  if (ret < 0) {
    drop_client_locked (self, client, ret == -EFBIG ? "its arenas would "
        "be larger than it accepts" : g_strerror (-ret));
    return;
  }
  GST_LOG_OBJECT (self, "buffer %" G_GUINT64_FORMAT " to %s",
      d->wire.buffer_id, client->label);
  entry.id = d->wire.buffer_id;
  entry.buffer = gst_buffer_ref (d->held);
  entry.from = from;
  from->lent++;
  g_array_append_val (client->in_flight, entry);
  self->buffers_sent++;
}

/* Sends @d's buffer to the clients it has not reached. Render (@wait)
 * waits for room; preroll waits for nothing: the buffer is the one the
 * sink prerolls on, whether or not it went out (a client that would make
 * it wait holds buffers already), and a wait there would hold the state
 * change back. FLOW_LATER (preroll) and FLOW_PAUSED (render) leave @d
 * for render to go on with. */
static GstFlowReturn
deliver (GstIpcSink * self, Delivery * d, RenderWait * wait)
{
  GstFlowReturn ret = GST_FLOW_OK;

  g_mutex_lock (&self->lock);
  while (d->next < d->clients->len && ret == GST_FLOW_OK) {
    Client *client = g_ptr_array_index (d->clients, d->next);
    Room room;

    if (!still_connected_locked (self, client)) {
      d->next++;
      continue;
    }
    if (client->needs_sticky)
      send_sticky_locked (self, client);
    room = wait_for_room_locked (self, client, d->arena, wait);
    if (room == LATER) {
      ret = wait ? wait->ret : FLOW_LATER;
      continue;
    }
    if (room == SKIP) {
      GST_DEBUG_OBJECT (self, "%s holds %u buffers: skipping buffer %"
          G_GUINT64_FORMAT " for it", client->label, client->in_flight->len,
          d->wire.buffer_id);
      self->buffers_dropped++;
    } else if (room == ROOM) {
      send_to_client_locked (self, client, d);
    }
    d->next++;
  }
  g_mutex_unlock (&self->lock);
  return ret;
}

/* Streaming thread: a copy pool whose buffers hold @size bytes (at least
 * one: an empty buffer still travels as a slot). */
static GstFlowReturn
ensure_copy_pool (GstIpcSink * self, gsize size)
{
  GstBufferPool *pool, *old;
  GstStructure *config;
  guint max_in_flight;
  gboolean unlocked;

  /* Grown, never shrunk: a stream of varying sizes settles on its largest. */
  if (self->copy_pool != NULL && self->copy_pool_size >= size)
    return GST_FLOW_OK;
  g_mutex_lock (&self->lock);
  max_in_flight = self->max_in_flight;
  g_mutex_unlock (&self->lock);

  /* Configured before anyone else can see it (see the lock order). */
  pool = new_arena_pool (self);
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, NULL, (guint) size, 0,
      2 * max_in_flight + 4);
  if (!gst_buffer_pool_set_config (pool, config) ||
      !gst_buffer_pool_set_active (pool, TRUE)) {
    gst_object_unref (pool);
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
        ("Cannot make an arena for buffers of %" G_GSIZE_FORMAT " bytes",
            size), ("the buffer is not in shared memory and must be copied "
            "into an arena"));
    return GST_FLOW_ERROR;
  }
  g_mutex_lock (&self->lock);
  old = self->copy_pool;
  self->copy_pool = pool;
  unlocked = self->unlocked;
  g_mutex_unlock (&self->lock);
  self->copy_pool_size = size;
  if (unlocked)
    gst_buffer_pool_set_flushing (pool, TRUE);
  if (old != NULL) {
    gst_buffer_pool_set_active (old, FALSE);
    gst_object_unref (old);
  }
  GST_DEBUG_OBJECT (self, "copy pool of %u buffers of %" G_GSIZE_FORMAT
      " bytes", 2 * max_in_flight + 4, size);
  return GST_FLOW_OK;
}

/* Render: an unlock() set the copy pool flushing. Waits for the state
 * change or flush it belongs to (its unlock_stop()), then says why. */
static GstFlowReturn
render_interrupted (GstIpcSink * self, RenderWait * wait)
{
  g_mutex_lock (&self->lock);
  wait->ret = render_check_locked (self, wait);
  while (wait->ret == GST_FLOW_OK && self->unlocked)
    render_wait_locked (self, wait, 0);
  g_mutex_unlock (&self->lock);
  return wait->ret;
}

/* Streaming thread: a slot of the copy pool. Render (@wait) waits for one
 * with basesink's preroll lock released; preroll takes one only if one
 * is free (FLOW_LATER). */
static GstFlowReturn
acquire_copy_slot (GstIpcSink * self, RenderWait * wait, GstBuffer ** copy)
{
  GstBufferPoolAcquireParams params = {.flags = wait ? 0 :
        GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT
  };
  GstFlowReturn ret;

  for (;;) {
    if (wait != NULL)
      GST_BASE_SINK_PREROLL_UNLOCK (GST_BASE_SINK (self));
    ret = gst_buffer_pool_acquire_buffer (self->copy_pool, copy, &params);
    if (wait != NULL)
      GST_BASE_SINK_PREROLL_LOCK (GST_BASE_SINK (self));
    if (wait == NULL && (ret == GST_FLOW_EOS || ret == GST_FLOW_FLUSHING))
      return FLOW_LATER;
    /* unlock() set the pool flushing */
    if (ret != GST_FLOW_FLUSHING || wait == NULL)
      return ret;
    ret = render_interrupted (self, wait);
    if (ret != GST_FLOW_OK)
      return ret;
  }
}

/* Streaming thread: copies @buffer into a slot of the sink's own arena
 * pool, into *@copy. */
static GstFlowReturn
copy_into_arena (GstIpcSink * self, GstBuffer * buffer, RenderWait * wait,
    GstBuffer ** copy)
{
  gsize size = gst_buffer_get_size (buffer);
  GstFlowReturn ret;
  GstMapInfo map;

  if (size > G_MAXUINT) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("A buffer of %" G_GSIZE_FORMAT " bytes is larger than an arena "
            "slot can be", size), (NULL));
    return GST_FLOW_ERROR;
  }
  ret = ensure_copy_pool (self, MAX (size, 1));
  if (ret != GST_FLOW_OK)
    return ret;
  ret = acquire_copy_slot (self, wait, copy);
  if (ret == GST_FLOW_FLUSHING || ret == FLOW_LATER || ret == FLOW_PAUSED)
    return ret;
  if (ret != GST_FLOW_OK) {
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
        ("No arena slot to copy a buffer into"), ("%s",
            gst_flow_get_name (ret)));
    return ret;
  }
  gst_buffer_copy_into (*copy, buffer, GST_BUFFER_COPY_METADATA, 0, -1);
  gst_buffer_set_size (*copy, size);
  if (size > 0) {
    if (!gst_buffer_map (*copy, &map, GST_MAP_WRITE)) {
      gst_clear_buffer (copy);
      GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
          ("Cannot write into an arena slot"), ("mapping it failed"));
      return GST_FLOW_ERROR;
    }
    gst_buffer_extract (buffer, 0, map.data, size);
    gst_buffer_unmap (*copy, &map);
  }
  return GST_FLOW_OK;
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

/* With lock: GST_FLOW_OK with whether a client is there in *@found
 * (wait-for-connection: render, @wait, waits for one; preroll answers
 * FLOW_LATER). */
static GstFlowReturn
wait_for_client_locked (GstIpcSink * self, RenderWait * wait, gboolean * found)
{
  for (;;) {
    *found = count_clients_locked (self, TRUE) > 0;
    if (*found || !self->wait_for_connection)
      return GST_FLOW_OK;
    if (wait == NULL)
      return FLOW_LATER;
    if (render_wait_locked (self, wait, 0) != GST_FLOW_OK)
      return wait->ret;
  }
}

/* Streaming thread: @buffer in an arena slot, described for the wire, for
 * the ready clients, into *@out; NULL (and GST_FLOW_OK) when there are
 * none. Waits as wait_for_client_locked() says. */
static GstFlowReturn
prepare_delivery (GstIpcSink * self, GstBuffer * buffer, RenderWait * wait,
    Delivery ** out)
{
  Delivery *d;
  GstBuffer *held = NULL;
  GstFlowReturn ret;
  PxArena *arena;
  guint32 slot;
  gsize offset;
  gboolean found;

  *out = NULL;
  g_mutex_lock (&self->lock);
  ret = wait_for_client_locked (self, wait, &found);
  g_mutex_unlock (&self->lock);
  if (ret != GST_FLOW_OK || !found) {
    GST_LOG_OBJECT (self, "no client: buffer %" GST_PTR_FORMAT " not sent%s",
        buffer, ret == GST_FLOW_OK ? "" : " yet");
    return ret;
  }

  arena = buffer_slot (buffer, &slot, &offset);
  if (arena != NULL) {
    held = gst_buffer_ref (buffer);
  } else {
    ret = copy_into_arena (self, buffer, wait, &held);
    if (ret != GST_FLOW_OK)
      return ret;
    arena = buffer_slot (held, &slot, &offset);
    GST_DEBUG_OBJECT (self, "copied %" G_GSIZE_FORMAT " bytes into slot %u",
        gst_buffer_get_size (held), slot);
    g_mutex_lock (&self->lock);
    self->buffers_copied++;
    g_mutex_unlock (&self->lock);
  }

  d = g_new0 (Delivery, 1);
  d->buffer = gst_buffer_ref (buffer);
  d->held = held;
  d->arena = arena;
  gst_px_buffer_to_wire (buffer, &d->wire);
  d->wire.arena_id = px_arena_id (arena);
  d->wire.slot = slot;
  d->wire.offset = offset;
  d->wire.size = gst_buffer_get_size (held);
  d->wire.base_time = monotonic_base_time (self);

  g_mutex_lock (&self->lock);
  d->wire.buffer_id = ++self->next_buffer_id;
  d->clients = ready_clients_locked (self);
  g_mutex_unlock (&self->lock);
  GST_LOG_OBJECT (self, "buffer %" G_GUINT64_FORMAT ": arena %016"
      G_GINT64_MODIFIER "x slot %u, %" G_GUINT64_FORMAT " bytes at %"
      G_GUINT64_FORMAT ", pts %" GST_TIME_FORMAT, d->wire.buffer_id,
      d->wire.arena_id, slot, d->wire.size, d->wire.offset,
      GST_TIME_ARGS (GST_BUFFER_PTS (buffer)));
  *out = d;
  return GST_FLOW_OK;
}

/* Streaming thread, with basesink's preroll lock: sends @buffer to every
 * ready client, going on with what an earlier preroll() left of it. With
 * @wait (render) waiting for what it needs; without (preroll), FLOW_LATER
 * leaves the rest in unfinished. */
static GstFlowReturn
send_buffer (GstIpcSink * self, GstBuffer * buffer, RenderWait * wait)
{
  Delivery *d = g_steal_pointer (&self->unfinished);
  GstFlowReturn ret = GST_FLOW_OK;

  /* What preroll left of another buffer was flushed. */
  if (d != NULL && d->buffer != buffer)
    g_clear_pointer (&d, delivery_free);
  if (d == NULL)
    ret = prepare_delivery (self, buffer, wait, &d);
  if (d != NULL)
    ret = deliver (self, d, wait);
  if (d != NULL && (ret == FLOW_LATER || ret == FLOW_PAUSED))
    self->unfinished = g_steal_pointer (&d);
  delivery_free (d);
  return ret;
}

static GstFlowReturn
gst_ipc_sink_preroll (GstBaseSink * sink, GstBuffer * buffer)
{
  GstIpcSink *self = GST_IPC_SINK (sink);
  GstFlowReturn ret = send_buffer (self, buffer, NULL);

  /* A consumer that prerolls needs this buffer now; render() gets the
   * same buffer once PLAYING and must not send it twice, or sends it on
   * to the clients that would have made preroll wait. */
  if (ret == GST_FLOW_OK)
    gst_buffer_replace (&self->prerolled, buffer);
  return ret == FLOW_LATER ? GST_FLOW_OK : ret;
}

/* An unlock() that is no flush (PLAYING -> PAUSED) does not end render:
 * as basesink does when one cuts its clock wait short, the sink prerolls
 * on the buffer it holds (preroll() sends it on to the clients that have
 * room), waits for PLAYING, and goes on waiting for the rest. Only a
 * flush returns GST_FLOW_FLUSHING: anything else would stop upstream for
 * good. */
static GstFlowReturn
gst_ipc_sink_render (GstBaseSink * sink, GstBuffer * buffer)
{
  GstIpcSink *self = GST_IPC_SINK (sink);
  RenderWait wait = { 0, GST_FLOW_OK };
  GstFlowReturn ret;

  if (self->prerolled == buffer) {
    gst_buffer_replace (&self->prerolled, NULL);
    return GST_FLOW_OK;
  }
  gst_buffer_replace (&self->prerolled, NULL);
  g_mutex_lock (&self->lock);
  wait.flushes = self->flushes;
  g_mutex_unlock (&self->lock);
  while ((ret = send_buffer (self, buffer, &wait)) == FLOW_PAUSED) {
    GST_DEBUG_OBJECT (self, "PAUSED while waiting: prerolling on %"
        GST_PTR_FORMAT, buffer);
    ret = gst_base_sink_do_preroll (sink, GST_MINI_OBJECT_CAST (buffer));
    if (self->prerolled == buffer) {
      /* preroll() sent it to every client */
      gst_buffer_replace (&self->prerolled, NULL);
      break;
    }
    if (ret != GST_FLOW_OK)
      break;
  }
  if (ret != GST_FLOW_OK)
    g_clear_pointer (&self->unfinished, delivery_free);
  return ret;
}

/* ---- events and queries ------------------------------------------------ */

/* The request id of the client's upstream event that caused @event (it
 * carries that event's seqnum), or 0. */
static guint64
event_cause_locked (Client * client, GstEvent * event)
{
  if (client->answering == 0 ||
      gst_event_get_seqnum (event) != client->answering_seqnum)
    return 0;
  return client->answering;
}

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
        event_cause_locked (client, event), SEND_TIMEOUT);
    /* a client that left: its reader saw why, and removes it */
    if (ret < 0 && ret != -ENOTSUP && !peer_gone (ret))
      drop_client_locked (self, client, g_strerror (-ret));
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

  /* Before basesink's unlock(): the buffer render holds is flushed. */
  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START) {
    g_mutex_lock (&self->lock);
    self->flushes++;
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
  }
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

/* Whether the sink is, or is going, PAUSED or PLAYING: upstream may
 * negotiate. */
static gboolean
streaming (GstIpcSink * self)
{
  gboolean target;

  GST_OBJECT_LOCK (self);
  target = GST_STATE_TARGET (self) >= GST_STATE_PAUSED;
  GST_OBJECT_UNLOCK (self);
  return target;
}

/* fd mode: the connection to the one peer, once it said hello. Its answers
 * are part of negotiation, so a query that comes before its HELLO while
 * upstream may negotiate (as soon as we are PAUSED) waits for it, for a
 * while, instead of falling back to our template. In READY nothing waits
 * for a peer that has not spoken: a peer that is READY greeted us already
 * (ipcsrc does at NULL -> READY), and its HELLO, if it came, is taken
 * first; one that did not is not there yet, and our template answers. */
static GstPxConnection *
single_peer (GstIpcSink * self)
{
  gint64 deadline = g_get_monotonic_time () +
      GST_PX_CONNECTION_REPLY_TIMEOUT / GST_USECOND;
  GstPxConnection *conn = NULL;

  if (!streaming (self)) {
    g_mutex_lock (&self->lock);
    if (peer_greeting_locked (self))
      conn = gst_px_connection_ref (((Client *) self->clients->data)->conn);
    g_mutex_unlock (&self->lock);
    if (conn != NULL)
      gst_px_connection_wait_read (conn, GST_PX_CONNECTION_REPLY_TIMEOUT);
    g_clear_pointer (&conn, gst_px_connection_unref);
    deadline = 0;
  }
  g_mutex_lock (&self->lock);
  while (deadline > 0 && peer_greeting_locked (self) && !self->unlocked &&
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
  g_mutex_lock (&self->lock);
  max = 2 * self->max_in_flight + 4;
  g_mutex_unlock (&self->lock);
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

/* fd mode: the one peer on @fd (the property's value). */
static gboolean
start_peer (GstIpcSink * self, gint fd)
{
  GError *error = NULL;
  int ret = px_unix_check_seqpacket (fd);
  int own;

  if (ret < 0 || (own = fcntl (fd, F_DUPFD_CLOEXEC, 3)) < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("fd %d is not a connected SOCK_SEQPACKET socket", fd),
        ("%s", g_strerror (ret < 0 ? -ret : errno)));
    return FALSE;
  }
  self->upstream_allowed = TRUE;
  g_mutex_lock (&self->lock);
  if (add_client_locked (self, own, 0, &error) == NULL) {
    g_mutex_unlock (&self->lock);
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Cannot talk to the peer on fd %d", fd), ("%s", error->message));
    g_clear_error (&error);
    return FALSE;
  }
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_ipc_sink_start (GstBaseSink * sink)
{
  GstIpcSink *self = GST_IPC_SINK (sink);
  gchar *path;
  guint mode;
  gint fd;
  gboolean ok;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->socket_path);
  mode = self->socket_mode;
  fd = self->fd;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  self->unlocked = FALSE;
  self->buffers_sent = self->buffers_copied = self->buffers_dropped = 0;
  g_mutex_unlock (&self->lock);
  if ((fd < 0) == (path == NULL)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Set exactly one of socket-path and fd"), (NULL));
    g_free (path);
    return FALSE;
  }
  if (path != NULL) {
    self->upstream_allowed = FALSE;
    ok = start_listening (self, path, mode);
  } else {
    ok = start_peer (self, fd);
  }
  g_free (path);
  return ok;
}

static gboolean
gst_ipc_sink_stop (GstBaseSink * sink)
{
  GstIpcSink *self = GST_IPC_SINK (sink);
  GList *clients;

  stop_listening (self);
  g_mutex_lock (&self->lock);
  clients = g_list_copy (self->clients);
  for (GList * l = clients; l; l = l->next)
    detach_client_locked (self, l->data);
  gst_clear_event (&self->latency_event);
  g_mutex_unlock (&self->lock);
  for (GList * l = clients; l; l = l->next)
    release_client (self, l->data, NULL, FALSE);
  g_list_free (clients);
  /* Clients that left or were dropped meanwhile: their releases end
   * before we do, and so do their connections' threads and fds, which a
   * reader that released its own client holds until it ends. */
  g_mutex_lock (&self->lock);
  while (self->releasing > 0 || self->connections > 0)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
  gst_buffer_replace (&self->prerolled, NULL);
  g_clear_pointer (&self->unfinished, delivery_free);
  if (self->copy_pool) {
    gst_buffer_pool_set_active (self->copy_pool, FALSE);
    gst_clear_object (&self->copy_pool);
  }
  self->copy_pool_size = 0;
  return TRUE;
}

/* Sets unlocked and wakes the streaming thread wherever it waits: for a
 * client, for room, for a slot of the copy pool. */
static void
set_unlocked (GstIpcSink * self, gboolean unlocked)
{
  GstBufferPool *pool;

  g_mutex_lock (&self->lock);
  self->unlocked = unlocked;
  g_cond_broadcast (&self->cond);
  pool = self->copy_pool ? gst_object_ref (self->copy_pool) : NULL;
  g_mutex_unlock (&self->lock);
  if (pool != NULL) {
    gst_buffer_pool_set_flushing (pool, unlocked);
    gst_object_unref (pool);
  }
}

static gboolean
gst_ipc_sink_unlock (GstBaseSink * sink)
{
  set_unlocked (GST_IPC_SINK (sink), TRUE);
  return TRUE;
}

static gboolean
gst_ipc_sink_unlock_stop (GstBaseSink * sink)
{
  set_unlocked (GST_IPC_SINK (sink), FALSE);
  return TRUE;
}

/* PAUSED -> PLAYING can need a preroll too: when PLAYING -> PAUSED came
 * before the streaming thread was out of its last preroll, basesink took
 * the sink for prerolled, and render went on waiting (for room, or for a
 * client) in PAUSED. Nothing unlocks render then, so wake it here: its
 * waits see need_preroll and preroll (see render_check_locked()). */
static GstStateChangeReturn
gst_ipc_sink_change_state (GstElement * element, GstStateChange transition)
{
  GstIpcSink *self = GST_IPC_SINK (element);
  GstStateChangeReturn ret;

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING &&
      ret == GST_STATE_CHANGE_ASYNC) {
    g_mutex_lock (&self->lock);
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
  }
  return ret;
}

/* ---- GObject ----------------------------------------------------------- */

/* Whether @pspec, which only NULL and READY allow, may be set now. */
static gboolean
settable (GstIpcSink * self, GParamSpec * pspec)
{
  GstState state;

  GST_OBJECT_LOCK (self);
  state = GST_STATE (self);
  GST_OBJECT_UNLOCK (self);
  if (state > GST_STATE_READY) {
    GST_WARNING_OBJECT (self, "%s can only be changed in NULL or READY",
        pspec->name);
    return FALSE;
  }
  return TRUE;
}

/* The properties under our lock: the streaming thread and the readers
 * read them there. FALSE if @prop_id is not one of them. */
static gboolean
set_stream_property (GstIpcSink * self, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  switch (prop_id) {
    case PROP_MAX_IN_FLIGHT:
    case PROP_REQUEST_ARENAS:
      if (!settable (self, pspec))
        return TRUE;
      break;
    case PROP_SLOW_CLIENT_POLICY:
    case PROP_SLOW_CLIENT_TIMEOUT:
    case PROP_WAIT_FOR_CONNECTION:
      break;
    default:
      return FALSE;
  }
  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_MAX_IN_FLIGHT:
      self->max_in_flight = g_value_get_uint (value);
      break;
    case PROP_REQUEST_ARENAS:
      self->request_arenas = g_value_get_boolean (value);
      break;
    case PROP_SLOW_CLIENT_POLICY:
      self->policy = g_value_get_enum (value);
      break;
    case PROP_SLOW_CLIENT_TIMEOUT:
      self->slow_client_timeout = g_value_get_uint64 (value);
      break;
    case PROP_WAIT_FOR_CONNECTION:
      self->wait_for_connection = g_value_get_boolean (value);
      break;
    default:
      g_assert_not_reached ();
  }
  /* A streaming thread may wait on what changed. */
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static void
gst_ipc_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstIpcSink *self = GST_IPC_SINK (object);
  gboolean playing_too = prop_id == PROP_MAX_CLIENTS ||
      prop_id == PROP_MAX_HANDSHAKES || prop_id == PROP_HANDSHAKE_TIMEOUT;

  if (set_stream_property (self, prop_id, value, pspec))
    return;
  if (!playing_too && !settable (self, pspec))
    return;
  GST_OBJECT_LOCK (self);
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
    case PROP_MAX_HANDSHAKES:
      self->max_handshakes = g_value_get_uint (value);
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      self->handshake_timeout = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* The properties under our lock (see set_stream_property()). */
static gboolean
get_stream_property (GstIpcSink * self, guint prop_id, GValue * value)
{
  gboolean found = TRUE;

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_MAX_IN_FLIGHT:
      g_value_set_uint (value, self->max_in_flight);
      break;
    case PROP_SLOW_CLIENT_POLICY:
      g_value_set_enum (value, self->policy);
      break;
    case PROP_SLOW_CLIENT_TIMEOUT:
      g_value_set_uint64 (value, self->slow_client_timeout);
      break;
    case PROP_WAIT_FOR_CONNECTION:
      g_value_set_boolean (value, self->wait_for_connection);
      break;
    case PROP_REQUEST_ARENAS:
      g_value_set_boolean (value, self->request_arenas);
      break;
    case PROP_CLIENTS:
      g_value_set_uint (value, count_clients_locked (self, TRUE));
      break;
    case PROP_BUFFERS_SENT:
      g_value_set_uint64 (value, self->buffers_sent);
      break;
    case PROP_BUFFERS_COPIED:
      g_value_set_uint64 (value, self->buffers_copied);
      break;
    case PROP_BUFFERS_DROPPED:
      g_value_set_uint64 (value, self->buffers_dropped);
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
    case PROP_MAX_HANDSHAKES:
      g_value_set_uint (value, self->max_handshakes);
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      g_value_set_uint64 (value, self->handshake_timeout);
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
install_connection_properties (void)
{
  const GParamFlags ready = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;
  const GParamFlags playing = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;

  /**
   * GstIpcSink:socket-path:
   *
   * Where clients connect: a file-system path, or "@name" for the abstract
   * namespace. If a live ipcsink (or anything else) listens there already,
   * the sink fails to start with a #GST_RESOURCE_ERROR_BUSY error; a stale
   * socket file that nobody listens on is replaced. The sink removes the
   * file when it stops, if it is still the one it made. Set either this
   * or #GstIpcSink:fd.
   *
   * Since: 0.1
   */
  properties[PROP_SOCKET_PATH] = g_param_spec_string ("socket-path",
      "Socket path", "Where clients connect: a file-system path, or @name "
      "for the abstract namespace", NULL, ready);
  /**
   * GstIpcSink:socket-mode:
   *
   * Permissions of the socket file, 0600 (octal) by default: only the
   * sink's user may connect. 0660 lets the group connect as well. Abstract
   * sockets have no permissions. gst-inspect-1.0 shows the value in
   * decimal (384 = 0600).
   *
   * Since: 0.1
   */
  properties[PROP_SOCKET_MODE] = g_param_spec_uint ("socket-mode",
      "Socket mode", "Permissions of the socket file; default 0600 (octal), "
      "shown in decimal as 384: only this user may connect; 0660 lets the "
      "group connect too; abstract sockets have none", 0, 0777,
      DEFAULT_SOCKET_MODE, ready);
  /**
   * GstIpcSink:fd:
   *
   * An already-connected SOCK_SEQPACKET socket to one peer (the element
   * uses a duplicate); events and queries then also travel upstream. Set
   * either this or #GstIpcSink:socket-path.
   *
   * Since: 0.1
   */
  properties[PROP_FD] = g_param_spec_int ("fd", "File descriptor",
      "An already-connected SOCK_SEQPACKET socket to one peer (the element "
      "uses a duplicate); events and queries then also travel upstream", -1,
      G_MAXINT, -1, ready);
  /**
   * GstIpcSink:max-clients:
   *
   * Clients served at once; a client that connects beyond them is closed
   * without a greeting, with a warning. 0: no limit.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_CLIENTS] = g_param_spec_uint ("max-clients",
      "Maximum clients", "Clients served at once (0 = no limit)", 0,
      G_MAXUINT, DEFAULT_MAX_CLIENTS, playing);
  /**
   * GstIpcSink:max-handshakes:
   *
   * Connections that may wait for their HELLO at once. Each costs the sink
   * a thread and two fds until it says HELLO; past this many, a new
   * connection pushes out the one that waited longest, so that idle
   * connections cannot keep honest clients out (an honest client says
   * HELLO as soon as it connects).
   *
   * Since: 0.1
   */
  properties[PROP_MAX_HANDSHAKES] = g_param_spec_uint ("max-handshakes",
      "Maximum handshakes", "Connections waiting for their HELLO at once; "
      "past them, the one that waited longest is closed", 1, G_MAXUINT,
      DEFAULT_MAX_HANDSHAKES, playing);
  /**
   * GstIpcSink:handshake-timeout:
   *
   * How long a connection may take to say HELLO, in nanoseconds, before
   * the sink closes it. 0: no limit (#GstIpcSink:max-handshakes still
   * bounds how many wait). Not used with #GstIpcSink:fd.
   *
   * Since: 0.1
   */
  properties[PROP_HANDSHAKE_TIMEOUT] = g_param_spec_uint64
      ("handshake-timeout", "Handshake timeout", "How long a connection may "
      "take to say HELLO before it is closed, in nanoseconds (0 = no limit)",
      0, G_MAXUINT64, DEFAULT_HANDSHAKE_TIMEOUT, playing);
  /**
   * GstIpcSink:request-arenas:
   *
   * With #GstIpcSink:fd: make no shared memory, ask the consumer for each
   * arena (a sandboxed worker, whose memory limit would not count memfds
   * it made).
   *
   * Since: 0.1
   */
  properties[PROP_REQUEST_ARENAS] = g_param_spec_boolean ("request-arenas",
      "Request arenas", "With fd: make no shared memory, ask the consumer "
      "for each arena (a sandboxed worker, whose memory limit would not "
      "count memfds it made)", FALSE, ready);
}

static void
install_stream_properties (void)
{
  const GParamFlags ready = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;
  const GParamFlags playing = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  /**
   * GstIpcSink:max-in-flight:
   *
   * Buffers a client may hold (not yet released) before
   * #GstIpcSink:slow-client-policy applies.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_IN_FLIGHT] = g_param_spec_uint ("max-in-flight",
      "Maximum buffers in flight", "Buffers a client may hold before the "
      "slow-client policy applies", 1, MAX_MAX_IN_FLIGHT,
      DEFAULT_MAX_IN_FLIGHT, ready);
  /**
   * GstIpcSink:slow-client-policy:
   *
   * What to do with a buffer for a client that holds
   * #GstIpcSink:max-in-flight buffers: wait for it (block; every client
   * waits with it, at most #GstIpcSink:slow-client-timeout) or skip the
   * buffer for that client only (drop).
   *
   * Since: 0.1
   */
  properties[PROP_SLOW_CLIENT_POLICY] = g_param_spec_enum
      ("slow-client-policy", "Slow client policy", "What to do with a "
      "buffer for a client that holds max-in-flight",
      GST_TYPE_IPC_SINK_SLOW_CLIENT_POLICY, DEFAULT_POLICY, playing);
  /**
   * GstIpcSink:slow-client-timeout:
   *
   * With slow-client-policy=block: how long, in nanoseconds, the stream
   * waits for one client to release a buffer before that client is
   * dropped (with a warning naming it) and the others go on. 0: wait as
   * long as it takes; the client is then named in a warning once it has
   * made the stream wait 5 seconds.
   *
   * Since: 0.1
   */
  properties[PROP_SLOW_CLIENT_TIMEOUT] = g_param_spec_uint64
      ("slow-client-timeout", "Slow client timeout", "slow-client-policy="
      "block: how long the stream waits for one client before dropping it, "
      "in nanoseconds (0 = wait forever)", 0, G_MAXUINT64,
      DEFAULT_SLOW_CLIENT_TIMEOUT, playing);
  /**
   * GstIpcSink:wait-for-connection:
   *
   * Hold buffers until a client is connected instead of discarding them.
   *
   * Since: 0.1
   */
  properties[PROP_WAIT_FOR_CONNECTION] = g_param_spec_boolean
      ("wait-for-connection", "Wait for connection", "Hold buffers until a "
      "client is connected instead of discarding them", FALSE, playing);
  /**
   * GstIpcSink:clients:
   *
   * Clients connected now (that said HELLO).
   *
   * Since: 0.1
   */
  properties[PROP_CLIENTS] = g_param_spec_uint ("clients", "Clients",
      "Clients connected now (that said HELLO)", 0, G_MAXUINT, 0, ro);
  /**
   * GstIpcSink:buffers-sent:
   *
   * Buffers sent, summed over clients.
   *
   * Since: 0.1
   */
  properties[PROP_BUFFERS_SENT] = g_param_spec_uint64 ("buffers-sent",
      "Buffers sent", "Buffers sent, summed over clients", 0, G_MAXUINT64, 0,
      ro);
  /**
   * GstIpcSink:buffers-copied:
   *
   * Buffers that were not in an arena and were copied into one.
   *
   * Since: 0.1
   */
  properties[PROP_BUFFERS_COPIED] = g_param_spec_uint64 ("buffers-copied",
      "Buffers copied", "Buffers that were not in an arena and were copied "
      "into one", 0, G_MAXUINT64, 0, ro);
  /**
   * GstIpcSink:buffers-dropped:
   *
   * Buffers skipped for slow clients (slow-client-policy=drop), summed over
   * clients.
   *
   * Since: 0.1
   */
  properties[PROP_BUFFERS_DROPPED] = g_param_spec_uint64 ("buffers-dropped",
      "Buffers dropped", "Buffers skipped for slow clients, summed over "
      "clients", 0, G_MAXUINT64, 0, ro);
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
  install_connection_properties ();
  install_stream_properties ();
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);

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
   * A connected client left or was dropped; its buffers were released.
   * Emitted from the client's connection thread, or from the streaming
   * thread when the sink dropped it; not when the sink stops.
   */
  signals[SIGNAL_CLIENT_DISCONNECTED] = g_signal_new ("client-disconnected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_UINT);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "Inter-process sink", "Sink/Network",
      "Sends buffers to other processes through shared memory arenas, "
      "without copying them", "The Parallax developers");
  gst_type_mark_as_plugin_api (GST_TYPE_IPC_SINK_SLOW_CLIENT_POLICY, 0);

  element_class->change_state = gst_ipc_sink_change_state;
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
  self->max_handshakes = DEFAULT_MAX_HANDSHAKES;
  self->handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT;
  self->max_in_flight = DEFAULT_MAX_IN_FLIGHT;
  self->policy = DEFAULT_POLICY;
  self->slow_client_timeout = DEFAULT_SLOW_CLIENT_TIMEOUT;
  self->listen_fd = -1;
  self->wake_fd = -1;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  /* Consumers synchronise to their own clock. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  /* The last sample would keep one arena slot busy for nothing. */
  gst_base_sink_set_last_sample_enabled (GST_BASE_SINK (self), FALSE);
}
