/* Parallax — one wire-protocol connection to a peer process.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A connection owns a SOCK_SEQPACKET socket and a reader thread, or two
 * when the owner's message() may block (push downstream): one of them reads
 * at a time, the other takes the socket over when the first spends long on
 * one message or, while handling one, waits for a reply on this
 * connection. The reader hands every message to the owner's message()
 * function, except the ones the connection handles itself:
 *   - QUERY: run on a pool thread through the owner's query() function and
 *     answered with QUERY_REPLY, so that the reader keeps reading while a
 *     query (which may itself cross another connection) is in progress;
 *     an upstream EVENT that wants its result likewise, through event();
 *   - QUERY_REPLY and PONG: matched by request id to the caller waiting in
 *     gst_px_connection_query(), gst_px_connection_event() (in order with
 *     the owner messages, see there) or gst_px_connection_ping();
 *   - PING: answered with PONG.
 * It also batches BUFFER_DONE: gst_px_connection_buffer_done() may be called
 * from any thread. While the reader is busy the ids wait for it to find the
 * socket empty (or for a few of them to gather); otherwise the thread that
 * frees the buffer sends them, up to PX_WIRE_MAX_DONE per message.
 *
 * Nothing waits on the peer without a timeout: sends wait for room in the
 * socket at most the given time, queries and pings at most theirs.
 */
#ifndef __GST_PX_CONNECTION_H__
#define __GST_PX_CONNECTION_H__

#include <gst/gst.h>

#include "gstpxserialize.h"
#include "px-wire.h"

G_BEGIN_DECLS
/* How long a query or ping waits for its answer by default. */
#define GST_PX_CONNECTION_REPLY_TIMEOUT (5 * GST_SECOND)
typedef struct _GstPxConnection GstPxConnection;

typedef struct
{
  /* Reader thread. Returns FALSE and sets @error to drop the peer (a
   * protocol error). The message's fd, if any, may be stolen. May block
   * if message_may_block is set; the other reader may then take over and
   * call message() for the following messages on its own thread once this
   * one gave up its turn (gst_px_connection_release_turn()). */
  gboolean (*message) (GstPxConnection * conn, PxWireMessage * msg,
      gpointer user_data, GError ** error);
  /* Pool thread: answer @query from the peer; TRUE if answered. May be
   * NULL: queries are then refused. */
  gboolean (*query) (GstPxConnection * conn, GstQuery * query,
      gpointer user_data);
  /* Pool thread: handle @event (an upstream event whose result the peer
   * waits for, gst_px_connection_event(), under @request_id); takes it;
   * returns its result. May be NULL: such events are then refused. */
  gboolean (*event) (GstPxConnection * conn, GstEvent * event,
      guint64 request_id, gpointer user_data);
  /* Reader thread, at most once: the peer went away (@error NULL) or broke
   * the protocol. Not called once gst_px_connection_close() was called. */
  void (*closed) (GstPxConnection * conn, const GError * error,
      gpointer user_data);
  /* Run a second reader (see above). */
  gboolean message_may_block;
} GstPxConnectionFuncs;

/* Takes @fd (a connected SOCK_SEQPACKET socket). @owner is used for logging
 * only (not referenced). */
GstPxConnection *gst_px_connection_new (int fd, GstObject * owner,
    const GstPxConnectionFuncs * funcs, gpointer user_data);

GstPxConnection *gst_px_connection_ref (GstPxConnection * conn);
void gst_px_connection_unref (GstPxConnection * conn);

/* Calls @notify (@data) once the connection is freed and its fds closed:
 * when its last reference goes, on whichever thread drops it (a reader
 * ending after it closed the connection from a callback, a pool thread
 * that answered a query, the owner), without any lock of the
 * connection's. gst_px_connection_close() does not wait for that: a
 * reader that closes from a callback still holds its reference then. Set
 * it once, while the caller holds a reference of its own. */
void gst_px_connection_set_free_notify (GstPxConnection * conn,
    GDestroyNotify notify, gpointer data);

/* Starts the reader threads. On failure the caller still closes. */
gboolean gst_px_connection_start (GstPxConnection * conn, GError ** error);

/* Stops reading, wakes every waiter, shuts the socket down and waits for
 * the reader threads to end. Idempotent; may be called from the
 * connection's own callbacks (the calling reader is then left to end on its
 * own, the other one is waited for). The owner must call it before
 * dropping its reference. */
void gst_px_connection_close (GstPxConnection * conn);

gboolean gst_px_connection_is_closed (GstPxConnection * conn);

/* From message(): the messages that follow this one may now be handed to
 * the owner (on the other reader, should this one block), although this
 * one's handling is not over. Until then, or until message() returns,
 * messages reach the owner one at a time, in the order they came. Call it
 * once what depends on that order is done, before anything that may
 * block. */
void gst_px_connection_release_turn (GstPxConnection * conn);

/* Sends one message, encoded and so checked by px_wire_encode*(), waiting
 * at most @timeout for room in the socket: every message this side sends
 * goes through here. Returns 0 or -errno (-ETIMEDOUT, -EPIPE when
 * closed). */
int gst_px_connection_send (GstPxConnection * conn,
    const PxWireEncoded * msg, GstClockTime timeout);

/* Encode with the typed px_wire_encode_*(), then send as above. An
 * encoder's refusal (-EINVAL, -EMSGSIZE) is a bug on this side: logged as
 * a warning and returned; nothing is sent. */
int gst_px_connection_send_hello (GstPxConnection * conn,
    const PxWireHello * hello, GstClockTime timeout);
/* @fd is the arena's memfd; it stays the caller's. */
int gst_px_connection_send_arena_add (GstPxConnection * conn,
    const PxWireArenaAdd * add, int fd, GstClockTime timeout);
int gst_px_connection_send_arena_remove (GstPxConnection * conn,
    guint64 arena_id, GstClockTime timeout);
int gst_px_connection_send_buffer (GstPxConnection * conn,
    const PxWireBuffer * buffer, GstClockTime timeout);
/* STATE or STATE_DONE. */
int gst_px_connection_send_state (GstPxConnection * conn, PxWireType type,
    guint64 request_id, const PxWireState * state, GstClockTime timeout);
/* PING, PONG or SHUTDOWN. */
int gst_px_connection_send_empty (GstPxConnection * conn, PxWireType type,
    guint64 request_id, GstClockTime timeout);
/* An EVENT, QUERY, MESSAGE... blob with @body as its text. */
int gst_px_connection_send_blob (GstPxConnection * conn, PxWireType type,
    guint32 flags, guint64 request_id, guint32 kind, guint32 result,
    const gchar * body, GstClockTime timeout);

/* Sends @event (if its type crosses processes) with the given direction.
 * @cause: 0, or, for a downstream event, the request id under which the
 * peer's upstream event that brought it about reached event() (the flush
 * of the peer's seek): the peer can tell it from any other. Returns 0,
 * -ENOTSUP for events that stay local, or a send error. */
int gst_px_connection_send_event (GstPxConnection * conn, GstEvent * event,
    gboolean upstream, guint64 cause, GstClockTime timeout);

/* Called by gst_px_connection_event() on the thread that waits, without
 * any lock of the connection's: once before the event is sent, with the
 * request id what the peer sends because of it will carry (the @cause
 * above), then each time gst_px_connection_wake() is called while it
 * waits; never after gst_px_connection_event() returned. */
typedef void (*GstPxConnectionWaitFunc) (GstPxConnection * conn,
    guint64 request_id, gpointer user_data);

/* Sends the upstream @event and waits for its result in the peer (its
 * event() function). FALSE if the event type does not cross processes, the
 * peer refused it or handled it with FALSE, or no result came within
 * @timeout. For events whose sender acts on the result: a demuxer that
 * seeks in time upstream, and seeks in bytes itself when that fails. The
 * result is taken in its turn, after every message the peer sent before it
 * has been handed to message() (as in one process, where a seek's flush
 * happens before the seek returns). @func may be NULL. */
gboolean gst_px_connection_event (GstPxConnection * conn, GstEvent * event,
    GstClockTime timeout, GstPxConnectionWaitFunc func, gpointer user_data);

/* Any thread but the connection's readers: waits, at most @timeout, until
 * every message that has arrived so far was handed to the owner (or
 * handled here) and the reader found the socket empty. What the peer sends
 * later is not waited for: a peer that sent nothing yet costs no wait. For
 * an owner that must know whether the peer already said something (its
 * HELLO) before it answers without it. FALSE on timeout, once closed, or
 * on a reader thread. */
gboolean gst_px_connection_wait_read (GstPxConnection * conn,
    GstClockTime timeout);

/* Any thread: the threads waiting in gst_px_connection_event() call their
 * GstPxConnectionWaitFunc again. */
void gst_px_connection_wake (GstPxConnection * conn);

/* Runs @query in the peer and copies its answer into @query. FALSE if the
 * query type does not cross processes, the peer did not answer it, the
 * answer was malformed or did not come within @timeout. */
gboolean gst_px_connection_query (GstPxConnection * conn, GstQuery * query,
    GstClockTime timeout);

/* PING -> PONG round trip. */
gboolean gst_px_connection_ping (GstPxConnection * conn, GstClockTime timeout);

/* Queues @buffer_id for the next BUFFER_DONE. Any thread. */
void gst_px_connection_buffer_done (GstPxConnection * conn, guint64 buffer_id);

/* A short name for logs ("client 3", "producer"). */
void gst_px_connection_set_name (GstPxConnection * conn, const gchar * name);
const gchar *gst_px_connection_get_name (GstPxConnection * conn);

/* The budget of new names the peer's text may still introduce: pass it to
 * every gst_px_*_deserialize() of text from this peer. */
GstPxPeerBudget *gst_px_connection_get_budget (GstPxConnection * conn);

G_END_DECLS
#endif /* __GST_PX_CONNECTION_H__ */
