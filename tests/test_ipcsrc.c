/* Parallax — ipcsrc on its own: the source properties, its arena limits,
 * its errors and its log.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both ends run in this process, in a temporary directory: the consumer
 * is an ipcsrc pipeline; the producer is either an ipcsink driven by
 * GstHarness, or a scripted peer that speaks the wire protocol itself
 * (common/px-wire.h), so that it can do what ipcsink never does.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <glib/gstdio.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gstpxserialize.h"
#include "px-arena.h"
#include "px-unix.h"
#include "px-wire.h"

/* How long a test waits for something that should happen at once. */
#define WAIT_MS 5000
#define CAPS "application/x-parallax-test"

/* ---- the test directory ------------------------------------------------ */

static gchar *dir;

static gchar *
test_path (const gchar * name)
{
  if (dir == NULL) {
    GError *error = NULL;

    dir = g_dir_make_tmp ("parallax-ipcsrc-XXXXXX", &error);
    fail_unless (dir != NULL, "%s", error ? error->message : "");
  }
  return g_build_filename (dir, name, NULL);
}

/* Removes the test directory, which the test must have left with nothing
 * but the files it made itself. */
static void
cleanup (void)
{
  GDir *d;
  const gchar *name;

  if (dir == NULL)
    return;
  d = g_dir_open (dir, 0, NULL);
  while (d && (name = g_dir_read_name (d)) != NULL) {
    gchar *file = g_build_filename (dir, name, NULL);

    g_unlink (file);
    g_free (file);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
  g_clear_pointer (&dir, g_free);
}

/* ---- pipelines --------------------------------------------------------- */

static GstElement *
pipeline_newf (const gchar * format, ...)
G_GNUC_PRINTF (1, 2);

     static GstElement *pipeline_newf (const gchar * format, ...)
{
  GError *error = NULL;
  va_list args;
  gchar *description;
  GstElement *pipeline;

  va_start (args, format);
  description = g_strdup_vprintf (format, args);
  va_end (args);
  pipeline = gst_parse_launch (description, &error);
  fail_unless (pipeline != NULL && error == NULL, "%s: %s", description,
      error ? error->message : "");
  g_free (description);
  return pipeline;
}

static GstElement *
by_name (GstElement * pipeline, const gchar * name)
{
  GstElement *element = gst_bin_get_by_name (GST_BIN (pipeline), name);

  fail_unless (element != NULL, "no element %s", name);
  gst_object_unref (element);   /* the pipeline keeps it */
  return element;
}

static void
free_pipeline (GstElement * pipeline)
{
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipeline);
}

/* The next message of @types from the pipeline's bus (NULL after
 * WAIT_MS). */
static GstMessage *
pop (GstElement * pipeline, GstMessageType types)
{
  return gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
      WAIT_MS * GST_MSECOND, types);
}

/* The pipeline's next error: @domain and @code checked, its text
 * returned. */
static gchar *
expect_error (GstElement * pipeline, GQuark domain, gint code)
{
  GstMessage *msg = pop (pipeline, GST_MESSAGE_ERROR);
  GError *error = NULL;
  gchar *text;

  fail_unless (msg != NULL, "no error");
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (error->domain == domain && error->code == code,
      "error %s %d, not %s %d: %s", g_quark_to_string (error->domain),
      error->code, g_quark_to_string (domain), code, error->message);
  text = g_strdup (error->message);
  g_error_free (error);
  gst_message_unref (msg);
  return text;
}

/* ---- what reaches the sink --------------------------------------------- */

typedef struct
{
  GMutex lock;
  GCond cond;
  guint n_buffers;
  gboolean hold;                /* keep every buffer */
  GPtrArray *held;
  GArray *pts;                  /* GstClockTime: each buffer's PTS */
  GArray *running;              /* ... as a running time at the sink */
  GArray *arrival;              /* the running time each one arrived at */
} Recorder;

static GstPadProbeReturn
record (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Recorder *rec = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstElement *sink = GST_ELEMENT (GST_OBJECT_PARENT (pad));
  GstClockTime arrival = GST_CLOCK_TIME_NONE;
  GstClock *clock = gst_element_get_clock (sink);
  GstClockTime pts = GST_BUFFER_PTS (buffer), running = GST_CLOCK_TIME_NONE;

  if (clock != NULL) {
    arrival = gst_clock_get_time (clock) - gst_element_get_base_time (sink);
    gst_object_unref (clock);
  }
  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    GstEvent *event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
    const GstSegment *segment;

    /* As the sink sees it: pad offsets upstream are in the segment. */
    gst_event_parse_segment (event, &segment);
    running = gst_segment_to_running_time (segment, GST_FORMAT_TIME, pts);
    gst_event_unref (event);
  }
  g_mutex_lock (&rec->lock);
  rec->n_buffers++;
  g_array_append_val (rec->pts, pts);
  g_array_append_val (rec->running, running);
  g_array_append_val (rec->arrival, arrival);
  if (rec->hold)
    g_ptr_array_add (rec->held, gst_buffer_ref (buffer));
  g_cond_broadcast (&rec->cond);
  g_mutex_unlock (&rec->lock);
  return GST_PAD_PROBE_OK;
}

/* Records what reaches @sink (a fakesink that keeps no last sample). */
static Recorder *
recorder_attach (GstElement * sink, gboolean hold)
{
  Recorder *rec = g_new0 (Recorder, 1);
  GstPad *pad = gst_element_get_static_pad (sink, "sink");

  g_mutex_init (&rec->lock);
  g_cond_init (&rec->cond);
  rec->hold = hold;
  rec->held = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  rec->pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  rec->running = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  rec->arrival = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, record, rec, NULL);
  gst_object_unref (pad);
  return rec;
}

static gboolean
recorder_wait (Recorder * rec, guint n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  gboolean ok;

  g_mutex_lock (&rec->lock);
  while (rec->n_buffers < n &&
      g_cond_wait_until (&rec->cond, &rec->lock, deadline));
  ok = rec->n_buffers >= n;
  g_mutex_unlock (&rec->lock);
  return ok;
}

/* Lets go of the buffers held so far. */
static void
recorder_release (Recorder * rec)
{
  GPtrArray *held;

  g_mutex_lock (&rec->lock);
  held = rec->held;
  rec->held = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  g_mutex_unlock (&rec->lock);
  g_ptr_array_unref (held);
}

static void
recorder_free (Recorder * rec)
{
  g_ptr_array_unref (rec->held);
  g_array_unref (rec->pts);
  g_array_unref (rec->running);
  g_array_unref (rec->arrival);
  g_mutex_clear (&rec->lock);
  g_cond_clear (&rec->cond);
  g_free (rec);
}

/* ---- an ipcsink producer ----------------------------------------------- */

/* An ipcsink listening on @path, fed through a harness. */
static GstHarness *
producer_new (const gchar * path)
{
  GstElement *sink = gst_element_factory_make ("ipcsink", NULL);
  GstHarness *h;

  fail_unless (sink != NULL);
  g_object_set (sink, "socket-path", path, NULL);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  return h;
}

static void
wait_clients (GstHarness * h, guint n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  guint clients;

  for (;;) {
    g_object_get (h->element, "clients", &clients, NULL);
    if (clients == n)
      return;
    fail_unless (g_get_monotonic_time () < deadline, "%u clients, not %u",
        clients, n);
    g_usleep (10 * 1000);
  }
}

static GstBuffer *
test_buffer (gsize size)
{
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, size, NULL);

  gst_buffer_memset (buffer, 0, 0x5a, size);
  return buffer;
}

/* ---- tests: the source properties -------------------------------------- */

/* num-buffers=5 against a producer that sends 20: five reach the sink,
 * then EOS, and nothing else; the producer is not refused for what it
 * sends afterwards. */
GST_START_TEST (test_num_buffers_ends_the_stream)
{
  gchar *path = test_path ("sock");
  GstHarness *h = producer_new (path);
  GstElement *pipeline = pipeline_newf ("ipcsrc name=src socket-path=%s "
      "is-live=false num-buffers=5 ! fakesink name=sink "
      "enable-last-sample=false", path);
  Recorder *rec = recorder_attach (by_name (pipeline, "sink"), FALSE);
  GstMessage *msg;
  guint64 received;

  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  wait_clients (h, 1);
  gst_harness_set_src_caps_str (h, CAPS);
  for (guint i = 0; i < 20; i++)
    fail_unless_equals_int (gst_harness_push (h, test_buffer (64)),
        GST_FLOW_OK);
  msg = pop (pipeline, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "no EOS");
  gst_message_unref (msg);
  fail_unless_equals_int (rec->n_buffers, 5);
  g_object_get (by_name (pipeline, "src"), "buffers-received", &received, NULL);
  fail_unless_equals_uint64 (received, 5);
  /* The producer may go on sending: it is still served. */
  fail_unless_equals_int (gst_harness_push (h, test_buffer (64)), GST_FLOW_OK);
  wait_clients (h, 1);
  fail_unless (gst_bus_pop_filtered (GST_ELEMENT_BUS (pipeline),
          GST_MESSAGE_ERROR) == NULL);

  free_pipeline (pipeline);
  gst_harness_teardown (h);
  recorder_free (rec);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* do-timestamp: a buffer sent without a timestamp reaches the sink with
 * the running time at which ipcsrc pushed it (after the producer sent it,
 * before the sink saw it); one with a timestamp keeps it. */
GST_START_TEST (test_do_timestamp_stamps_running_time)
{
  gchar *path = test_path ("sock");
  GstHarness *h = producer_new (path);
  GstElement *pipeline = pipeline_newf ("ipcsrc name=src socket-path=%s "
      "do-timestamp=true ! fakesink name=sink enable-last-sample=false",
      path);
  GstElement *src = by_name (pipeline, "src");
  Recorder *rec = recorder_attach (by_name (pipeline, "sink"), FALSE);
  GstClock *clock;
  GstClockTime before, stamped, arrival;
  GstBuffer *timed;

  /* Live: the source goes to PLAYING at once, with the pipeline's clock
   * (the sink waits for its first buffer). */
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_get_state (src, NULL, NULL,
          WAIT_MS * GST_MSECOND), GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (GST_STATE (src), GST_STATE_PLAYING);
  wait_clients (h, 1);
  gst_harness_set_src_caps_str (h, CAPS);
  clock = gst_element_get_clock (src);
  fail_unless (clock != NULL);
  before = gst_clock_get_time (clock) - gst_element_get_base_time (src);
  gst_object_unref (clock);
  fail_unless_equals_int (gst_harness_push (h, test_buffer (64)), GST_FLOW_OK);
  fail_unless (recorder_wait (rec, 1));
  stamped = g_array_index (rec->running, GstClockTime, 0);
  arrival = g_array_index (rec->arrival, GstClockTime, 0);
  fail_unless (GST_CLOCK_TIME_IS_VALID (stamped), "not stamped");
  fail_unless (before <= stamped && stamped <= arrival, "stamped %"
      GST_TIME_FORMAT ", sent at %" GST_TIME_FORMAT ", arrived at %"
      GST_TIME_FORMAT, GST_TIME_ARGS (stamped), GST_TIME_ARGS (before),
      GST_TIME_ARGS (arrival));

  /* The producer's own timestamp stays. */
  timed = test_buffer (64);
  GST_BUFFER_PTS (timed) = 42 * GST_SECOND;
  fail_unless_equals_int (gst_harness_push (h, timed), GST_FLOW_OK);
  fail_unless (recorder_wait (rec, 2));
  fail_unless_equals_uint64 (g_array_index (rec->pts, GstClockTime, 1),
      42 * GST_SECOND);

  free_pipeline (pipeline);
  gst_harness_teardown (h);
  recorder_free (rec);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* ---- a scripted producer ----------------------------------------------- */

/* Arenas of 4 slots of a page; the HELLO allows two of them at once. */
#define SLOT_SIZE 4096
#define SLOT_COUNT 4
#define ARENA_SIZE ((guint64) SLOT_SIZE * SLOT_COUNT)
#define ARENA_TOTAL (2 * ARENA_SIZE)

typedef struct
{
  int listen_fd;
  int sock;
  GThread *thread;
  gboolean greeted;             /* the consumer said HELLO first */
  PxWireMessage *msg;
  guint64 next_id;
} Peer;

/* Peer thread: takes the consumer ipcsrc's connection and greets it. */
static gpointer
peer_accept (gpointer data)
{
  Peer *peer = data;
  PxWireHello hello = {.role = PX_WIRE_ROLE_PRODUCER,.max_in_flight = 8,
    .max_arena_size = ARENA_SIZE,.max_arena_total = ARENA_TOTAL
  };
  struct pollfd pfd = {.fd = peer->listen_fd,.events = POLLIN };

  if (poll (&pfd, 1, WAIT_MS) != 1)
    return NULL;
  peer->sock = accept4 (peer->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (peer->sock < 0)
    return NULL;
  pfd.fd = peer->sock;
  peer->greeted = poll (&pfd, 1, WAIT_MS) == 1 &&
      px_wire_recv (peer->sock, peer->msg, 0) >= 0 &&
      peer->msg->header.type == PX_WIRE_HELLO &&
      px_wire_send_hello (peer->sock, &hello) == 0;
  return NULL;
}

/* A producer listening at @path that greets the first consumer. */
static Peer *
peer_listen (const gchar * path)
{
  Peer *peer = g_new0 (Peer, 1);

  peer->listen_fd = px_unix_listen (path, 0600);
  fail_unless (peer->listen_fd >= 0, "%s", g_strerror (-peer->listen_fd));
  peer->sock = -1;
  peer->msg = g_new0 (PxWireMessage, 1);
  peer->next_id = 1;
  peer->thread = g_thread_new ("peer", peer_accept, peer);
  return peer;
}

static void
peer_wait_greeted (Peer * peer)
{
  g_thread_join (g_steal_pointer (&peer->thread));
  fail_unless (peer->greeted, "the consumer did not connect and greet us");
}

static void
peer_free (Peer * peer)
{
  if (peer->thread)
    g_thread_join (peer->thread);
  if (peer->sock >= 0)
    close (peer->sock);
  close (peer->listen_fd);
  g_free (peer->msg);
  g_free (peer);
}

static void
peer_send_event (Peer * peer, GstEvent * event)
{
  gchar *body = gst_px_event_serialize (event);
  PxWireBlob blob = {.kind = GST_EVENT_TYPE (event),.body = body };

  fail_unless (body != NULL);
  blob.body_size = strlen (body) + 1;
  fail_unless_equals_int (px_wire_send_blob (peer->sock, PX_WIRE_EVENT, 0, 0,
          &blob), 0);
  g_free (body);
  gst_event_unref (event);
}

static void
peer_start_stream (Peer * peer)
{
  GstCaps *caps = gst_caps_from_string (CAPS);
  GstSegment segment;

  gst_segment_init (&segment, GST_FORMAT_TIME);
  peer_send_event (peer, gst_event_new_stream_start ("parallax-test"));
  peer_send_event (peer, gst_event_new_caps (caps));
  peer_send_event (peer, gst_event_new_segment (&segment));
  gst_caps_unref (caps);
}

/* Announces a new arena of ARENA_SIZE bytes, sealed as ipcsink seals
 * its own. */
static PxArena *
peer_add_arena (Peer * peer)
{
  PxArena *arena;
  PxWireArenaAdd add = { 0 };

  fail_unless_equals_int (px_arena_new ("test", SLOT_SIZE, SLOT_COUNT,
          &arena), 0);
  fail_unless_equals_int (px_arena_seal_for_readers (arena), 0);
  add.arena_id = px_arena_id (arena);
  add.size = px_arena_size (arena);
  add.slot_stride = px_arena_slot_stride (arena);
  add.slot_count = px_arena_slot_count (arena);
  fail_unless_equals_uint64 (add.size, ARENA_SIZE);
  fail_unless_equals_int (px_wire_send_arena_add (peer->sock, &add,
          px_arena_fd (arena)), 0);
  return arena;
}

static void
peer_remove_arena (Peer * peer, PxArena * arena)
{
  PxWireArenaRemove remove = {.arena_id = px_arena_id (arena) };

  fail_unless_equals_int (px_wire_send (peer->sock, PX_WIRE_ARENA_REMOVE, 0,
          0, &remove, sizeof remove, NULL, 0, 0), 0);
}

/* Lends slot 0 of @arena; returns the buffer's id. */
static guint64
peer_send_buffer (Peer * peer, PxArena * arena)
{
  PxWireBuffer wire = {.buffer_id = peer->next_id++,
    .arena_id = px_arena_id (arena),.size = 64,
    .pts = GST_CLOCK_TIME_NONE,.dts = GST_CLOCK_TIME_NONE,
    .duration = GST_CLOCK_TIME_NONE,.offset_default = GST_BUFFER_OFFSET_NONE,
    .offset_end = GST_BUFFER_OFFSET_NONE,.base_time = G_MAXUINT64
  };

  fail_unless_equals_int (px_wire_send_buffer (peer->sock, &wire, 0), 0);
  return wire.buffer_id;
}

/* Reads what the consumer sends until BUFFER_DONE returns @id. */
static void
peer_wait_done (Peer * peer, guint64 id)
{
  struct pollfd pfd = {.fd = peer->sock,.events = POLLIN };
  PxWireBufferDone done;

  for (;;) {
    fail_unless (poll (&pfd, 1, WAIT_MS) == 1, "buffer %" G_GUINT64_FORMAT
        " never came back", id);
    fail_unless (px_wire_recv (peer->sock, peer->msg, 0) >= 0);
    if (peer->msg->header.type != PX_WIRE_BUFFER_DONE)
      continue;
    fail_unless_equals_int (px_wire_decode_buffer_done (peer->msg, &done), 0);
    for (guint i = 0; i < done.count; i++) {
      if (done.buffer_ids[i] == id)
        return;
    }
  }
}

/* ipcsrc, not live, that keeps every buffer it got (@rec holds them). */
static GstElement *
consumer_new (const gchar * path, Recorder ** rec)
{
  GstElement *pipeline = pipeline_newf ("ipcsrc socket-path=%s "
      "is-live=false ! fakesink name=sink enable-last-sample=false", path);

  *rec = recorder_attach (by_name (pipeline, "sink"), TRUE);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  return pipeline;
}

/* ---- tests: arenas ----------------------------------------------------- */

/* The producer announces two arenas in all. It removes each after lending
 * a buffer from it, while downstream holds those buffers, and announces a
 * third: both removed arenas are still mapped, so the third is refused
 * and the connection dropped, with an error that says why. */
GST_START_TEST (test_removed_arena_counts_while_its_buffers_live)
{
  gchar *path = test_path ("sock");
  Peer *peer = peer_listen (path);
  PxArena *arenas[3];
  GstElement *pipeline;
  Recorder *rec;
  gchar *error;
  char byte;

  pipeline = consumer_new (path, &rec);
  peer_wait_greeted (peer);
  peer_start_stream (peer);
  for (guint i = 0; i < 2; i++) {
    arenas[i] = peer_add_arena (peer);
    peer_send_buffer (peer, arenas[i]);
    fail_unless (recorder_wait (rec, i + 1));
    peer_remove_arena (peer, arenas[i]);
  }
  arenas[2] = peer_add_arena (peer);
  error = expect_error (pipeline, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NO_SPACE_LEFT);
  fail_unless (strstr (error, "refused arena") && strstr (error,
          "32768 in all (32768 in use)"), "%s", error);
  /* Dropped: the socket reads its end. */
  while (recv (peer->sock, &byte, 1, 0) > 0);

  free_pipeline (pipeline);
  recorder_free (rec);
  for (guint i = 0; i < 3; i++)
    px_arena_unref (arenas[i]);
  peer_free (peer);
  g_free (error);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* A removed arena stops counting once its last buffer is freed: then the
 * producer may announce two new ones, its whole total. */
GST_START_TEST (test_arena_bytes_return_with_the_last_buffer)
{
  gchar *path = test_path ("sock");
  Peer *peer = peer_listen (path);
  PxArena *old, *arenas[2];
  GstElement *pipeline;
  Recorder *rec;

  pipeline = consumer_new (path, &rec);
  peer_wait_greeted (peer);
  peer_start_stream (peer);
  old = peer_add_arena (peer);
  peer_send_buffer (peer, old);
  fail_unless (recorder_wait (rec, 1));
  peer_remove_arena (peer, old);
  recorder_release (rec);
  peer_wait_done (peer, 1);
  for (guint i = 0; i < 2; i++)
    arenas[i] = peer_add_arena (peer);
  peer_send_buffer (peer, arenas[1]);
  fail_unless (recorder_wait (rec, 2), "the new arena's buffer never came");
  fail_unless (gst_bus_pop_filtered (GST_ELEMENT_BUS (pipeline),
          GST_MESSAGE_ERROR) == NULL);

  free_pipeline (pipeline);
  recorder_free (rec);
  px_arena_unref (old);
  for (guint i = 0; i < 2; i++)
    px_arena_unref (arenas[i]);
  peer_free (peer);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* ---- tests: errors ----------------------------------------------------- */

GST_START_TEST (test_missing_socket_is_not_found)
{
  gchar *path = test_path ("nobody");
  GstElement *pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink",
      path);
  gchar *error;

  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  error = expect_error (pipeline, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NOT_FOUND);
  fail_unless (strstr (error, path) && strstr (error, "no such socket"), "%s",
      error);
  free_pipeline (pipeline);
  g_free (error);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* A socket file that nobody listens on any more (its ipcsink died). */
GST_START_TEST (test_socket_left_behind_cannot_be_opened)
{
  gchar *path = test_path ("sock");
  int fd = px_unix_listen (path, 0600);
  GstElement *pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink",
      path);
  gchar *error;

  fail_unless (fd >= 0);
  close (fd);
  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  error = expect_error (pipeline, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_OPEN_READ);
  fail_unless (strstr (error, "No producer listens at"), "%s", error);
  free_pipeline (pipeline);
  g_free (error);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* A producer that takes the connection (the kernel does, for a listening
 * socket) but never says HELLO is named as such, not as one that serves
 * no more clients. */
GST_START_TEST (test_silent_producer_said_to_be_silent)
{
  gchar *path = test_path ("sock");
  int fd = px_unix_listen (path, 0600);
  GstElement *pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink",
      path);
  gchar *error;

  fail_unless (fd >= 0);
  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  error = expect_error (pipeline, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_OPEN_READ);
  fail_unless (strstr (error, "did not greet us within 5 seconds"), "%s",
      error);
  fail_if (strstr (error, "max-clients"), "%s", error);
  free_pipeline (pipeline);
  close (fd);
  g_free (error);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

/* ---- tests: the log ---------------------------------------------------- */

typedef struct
{
  GMutex lock;
  GPtrArray *lines;
} Log;

static void
log_ipcsrc_info (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  Log *log = user_data;

  if (level != GST_LEVEL_INFO ||
      !g_str_equal (gst_debug_category_get_name (category), "ipcsrc"))
    return;
  g_mutex_lock (&log->lock);
  g_ptr_array_add (log->lines, g_strdup (gst_debug_message_get (message)));
  g_mutex_unlock (&log->lock);
}

static gboolean
log_has (Log * log, const gchar * text)
{
  gboolean found = FALSE;

  g_mutex_lock (&log->lock);
  for (guint i = 0; i < log->lines->len && !found; i++)
    found = strstr (log->lines->pdata[i], text) != NULL;
  g_mutex_unlock (&log->lock);
  return found;
}

/* At INFO, the consumer says whom it connected to (the producer's pid,
 * from the socket) and what the producer's HELLO said. */
GST_START_TEST (test_connection_and_hello_logged)
{
  gchar *path = test_path ("sock");
  GstHarness *h = producer_new (path);
  GstElement *pipeline = pipeline_newf ("ipcsrc socket-path=%s ! fakesink",
      path);
  Log log = { 0 };
  gchar *connected, *pid;

  g_mutex_init (&log.lock);
  log.lines = g_ptr_array_new_with_free_func (g_free);
  gst_debug_set_threshold_for_name ("ipcsrc", GST_LEVEL_INFO);
  gst_debug_add_log_function (log_ipcsrc_info, &log, NULL);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  wait_clients (h, 1);
  gst_debug_remove_log_function (log_ipcsrc_info);

  connected = g_strdup_printf ("connected to %s", path);
  pid = g_strdup_printf ("producer pid %d,", (int) getpid ());
  fail_unless (log_has (&log, connected), "no connection logged");
  fail_unless (log_has (&log, pid), "the producer's pid is not logged");
  fail_unless (log_has (&log, "the producer greets us: it lends up to"));

  free_pipeline (pipeline);
  gst_harness_teardown (h);
  g_ptr_array_unref (log.lines);
  g_mutex_clear (&log.lock);
  g_free (connected);
  g_free (pid);
  g_free (path);
  cleanup ();
}

GST_END_TEST;

static Suite *
ipcsrc_suite (void)
{
  Suite *s = suite_create ("ipcsrc");
  TCase *source = tcase_create ("source");
  TCase *arenas = tcase_create ("arenas");
  TCase *errors = tcase_create ("errors");
  TCase *log = tcase_create ("log");

  suite_add_tcase (s, source);
  tcase_add_test (source, test_num_buffers_ends_the_stream);
  tcase_add_test (source, test_do_timestamp_stamps_running_time);

  suite_add_tcase (s, arenas);
  tcase_add_test (arenas, test_removed_arena_counts_while_its_buffers_live);
  tcase_add_test (arenas, test_arena_bytes_return_with_the_last_buffer);

  suite_add_tcase (s, errors);
  tcase_add_test (errors, test_missing_socket_is_not_found);
  tcase_add_test (errors, test_socket_left_behind_cannot_be_opened);
  tcase_add_test (errors, test_silent_producer_said_to_be_silent);

  suite_add_tcase (s, log);
  tcase_add_test (log, test_connection_and_hello_logged);
  return s;
}

GST_CHECK_MAIN (ipcsrc);
