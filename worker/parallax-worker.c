/* Parallax — parallax-worker: runs wrapped elements inside the sandbox.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Started by the host through px_sandbox_spawn(), never by hand:
 *
 *   parallax-worker [sandbox arguments] [--input-fd=N] [--output-fd=N]
 *       [--streams] --plugin=FILE... [--autoplug-plugin=FILE...]
 *       -- DESCRIPTION
 *
 * fd 3 is the control socket; the data sockets carry buffers in and out.
 * The worker
 *   1. initialises GStreamer without a registry (no scanning, no forking)
 *      and loads exactly the plugin files the host named: those the host's
 *      own registry resolved for the wrapped elements, so plugins on the
 *      host's GST_PLUGIN_PATH work too, and, for an autoplugging bin
 *      (decodebin), those it may plug (one that fails to load is left
 *      out);
 *   2. builds "ipcsrc fd=IN ! DESCRIPTION ! ipcsink fd=OUT
 *      request-arenas=true", without the ipcsrc for a source and without
 *      the ipcsink for a sink or a description whose sometimes pads are
 *      left unlinked, and brings it to READY, where most elements open what they need
 *      (the output's arenas come from the host). With --streams, each
 *      sometimes pad of the description that appears gets an ipcsink of
 *      its own on a connection asked from the host (STREAM), and goes
 *      with it (docs/protocol.md, "STREAM and STREAM_DONE");
 *   3. locks itself down (empty root, no capabilities, no_new_privs,
 *      seccomp on every thread);
 *   4. only then tells the host it is ready, with the layers applied, and
 *      from there on changes state when asked (STATE), forwards its bus
 *      messages (MESSAGE) and leaves on SHUTDOWN.
 * Everything it receives is checked as the host checks what it receives.
 */
#include <gst/gst.h>

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gstpxconnection.h"
#include "gstpxserialize.h"
#include "gstpxworker.h"
#include "px-fd.h"
#include "px-orc-client.h"
#include "px-sandbox.h"

#define CONTROL_FD 3
/* How long a streaming thread waits for the host to answer a STREAM. */
#define STREAM_TIMEOUT GST_PX_CONNECTION_REPLY_TIMEOUT

/* One sometimes pad of the description and the ipcsink it feeds. */
typedef struct
{
  guint id;
  GstPad *pad;
  GstElement *sink;
  gint fd;
} Stream;

/* A STREAM waiting for its STREAM_DONE. */
typedef struct
{
  guint64 request_id;
  gboolean done;
  PxWireStream reply;
  gint fd;
} StreamRequest;

typedef struct
{
  GstElement *pipeline;
  GstElement *output;           /* the output ipcsink after a source */
  GstPxConnection *control;
  GMainLoop *loop;
  GstClock *clock;
  gint exit_status;

  /* memories of the host's input the description holds (atomic) */
  gint input_held;

  /* streams (lock) */
  GMutex lock;
  GCond cond;
  GList *streams;
  GList *requests;
  guint next_stream_id;
  guint64 next_request_id;
} Worker;

/* A message too long for the wire stays here: the stream goes on without
 * it (gst_px_worker_message_to_structure() keeps honest ones shorter). */
static void
send_structure (Worker * worker, GstMessageType kind, GstStructure * s)
{
  gchar *body = gst_structure_to_string (s);

  if (gst_px_connection_send_blob (worker->control, PX_WIRE_MESSAGE, 0, 0,
          kind, 0, body, GST_PX_CONNECTION_REPLY_TIMEOUT) == -EMSGSIZE)
    g_printerr ("parallax-worker: %s message %s of %" G_GSIZE_FORMAT
        " bytes is too long for the host: not relayed\n",
        gst_message_type_get_name (kind), gst_structure_get_name (s),
        strlen (body));
  g_free (body);
  gst_structure_free (s);
}

/* Reports a failure that ends the worker before it is ready. */
static void
report_failure (Worker * worker, const gchar * stage, const gchar * what)
{
  g_printerr ("parallax-worker: %s: %s\n", stage, what);
  if (worker->control != NULL)
    send_structure (worker, GST_MESSAGE_ERROR,
        gst_structure_new (GST_PX_WORKER_FAILED, "stage", G_TYPE_STRING,
            stage, "message", G_TYPE_STRING, what, NULL));
}

/* ---- streams: the description's sometimes pads ------------------------ */

/* Any thread but the control reader: asks the host, waits for its answer.
 * TRUE if the host did what was asked; *@fd (if not NULL) is the
 * connection of a granted OPEN. */
static gboolean
request_stream (Worker * worker, PxWireStreamOp op, guint id, gint * fd)
{
  PxWireStream stream = {.op = op,.stream_id = id };
  StreamRequest request = {.fd = -1 };
  gint64 deadline = g_get_monotonic_time () + STREAM_TIMEOUT / GST_USECOND;
  PxWireEncoded msg;
  int ret;

  g_mutex_lock (&worker->lock);
  request.request_id = ++worker->next_request_id;
  worker->requests = g_list_prepend (worker->requests, &request);
  g_mutex_unlock (&worker->lock);
  ret = px_wire_encode_stream (&msg, PX_WIRE_STREAM, request.request_id,
      &stream, -1);
  if (ret == 0)
    ret = gst_px_connection_send (worker->control, &msg, STREAM_TIMEOUT);
  px_wire_encoded_clear (&msg);
  g_mutex_lock (&worker->lock);
  while (ret == 0 && !request.done &&
      !gst_px_connection_is_closed (worker->control) &&
      g_cond_wait_until (&worker->cond, &worker->lock, deadline));
  worker->requests = g_list_remove (worker->requests, &request);
  g_mutex_unlock (&worker->lock);
  if (fd != NULL)
    *fd = request.fd;
  else
    px_close_fd (&request.fd);
  return request.done && request.reply.result == 1;
}

/* Streaming thread of the element: a new pad gets an ipcsink on a
 * connection of its own, which renders as soon as data comes: it must
 * not preroll, since one streaming thread may feed several pads (the
 * host's sinks preroll, each on its own thread). */
static void
stream_pad_added (GstElement * element, GstPad * pad, gpointer user_data)
{
  Worker *worker = user_data;
  Stream *stream;
  GstPad *sinkpad;
  guint id;
  gint fd;

  if (!GST_PAD_IS_SRC (pad))
    return;
  g_mutex_lock (&worker->lock);
  id = worker->next_stream_id < PX_WIRE_MAX_STREAM_ID ?
      ++worker->next_stream_id : 0;
  g_mutex_unlock (&worker->lock);
  if (id == 0 || !request_stream (worker, PX_WIRE_STREAM_OPEN, id, &fd)) {
    g_printerr ("parallax-worker: no connection for pad %s\n",
        GST_PAD_NAME (pad));
    return;
  }
  stream = g_new0 (Stream, 1);
  stream->id = id;
  stream->pad = gst_object_ref (pad);
  stream->fd = fd;
  stream->sink = gst_element_factory_make ("ipcsink", NULL);
  /* wait-for-connection: the host's ipcsrc greeted first, but its HELLO
   * may not be read yet when the first buffer comes */
  g_object_set (stream->sink, "fd", fd, "request-arenas", TRUE, "async",
      FALSE, "wait-for-connection", TRUE, NULL);
  gst_element_set_locked_state (stream->sink, TRUE);
  gst_bin_add (GST_BIN (GST_OBJECT_PARENT (element)), stream->sink);
  sinkpad = gst_element_get_static_pad (stream->sink, "sink");
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    g_printerr ("parallax-worker: cannot link pad %s\n", GST_PAD_NAME (pad));
  gst_object_unref (sinkpad);
  gst_element_set_base_time (stream->sink,
      gst_element_get_base_time (worker->pipeline));
  gst_element_set_state (stream->sink, GST_STATE_PLAYING);
  g_mutex_lock (&worker->lock);
  worker->streams = g_list_prepend (worker->streams, stream);
  g_mutex_unlock (&worker->lock);
}

/* Once the host has let the stream go (it no longer reads it, and a close
 * without EOS is then no error to it), its ipcsink may close. */
static void
end_stream (Worker * worker, Stream * stream, gboolean tell_host)
{
  GstPad *sinkpad = gst_element_get_static_pad (stream->sink, "sink");

  if (tell_host)
    request_stream (worker, PX_WIRE_STREAM_CLOSE, stream->id, NULL);
  gst_pad_unlink (stream->pad, sinkpad);
  gst_object_unref (sinkpad);
  gst_element_set_state (stream->sink, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (GST_OBJECT_PARENT (stream->sink)), stream->sink);
  px_close_fd (&stream->fd);
  gst_object_unref (stream->pad);
  g_free (stream);
}

static Stream *
take_stream_locked (Worker * worker, GstPad * pad)
{
  for (GList * l = worker->streams; l; l = l->next) {
    Stream *stream = l->data;

    if (pad == NULL || stream->pad == pad) {
      worker->streams = g_list_delete_link (worker->streams, l);
      return stream;
    }
  }
  return NULL;
}

static void
stream_pad_removed (GstElement * element, GstPad * pad, gpointer user_data)
{
  Worker *worker = user_data;
  Stream *stream;

  g_mutex_lock (&worker->lock);
  stream = take_stream_locked (worker, pad);
  g_mutex_unlock (&worker->lock);
  if (stream != NULL)
    end_stream (worker, stream, TRUE);
}

static void
stream_no_more_pads (GstElement * element, gpointer user_data)
{
  request_stream (user_data, PX_WIRE_STREAM_NO_MORE, 0, NULL);
}

/* The pads the element kept when it stopped; at exit, without a word to
 * the host, which is leaving too. */
static void
close_streams (Worker * worker, gboolean tell_host)
{
  Stream *stream;

  for (;;) {
    g_mutex_lock (&worker->lock);
    stream = take_stream_locked (worker, NULL);
    g_mutex_unlock (&worker->lock);
    if (stream == NULL)
      break;
    end_stream (worker, stream, tell_host);
  }
}

/* The ipcsinks, in PLAYING on their own, tell a live consumer the
 * pipeline's base time. */
static void
share_base_time (Worker * worker)
{
  GstClockTime base = gst_element_get_base_time (worker->pipeline);

  if (worker->output)
    gst_element_set_base_time (worker->output, base);
  g_mutex_lock (&worker->lock);
  for (GList * l = worker->streams; l; l = l->next)
    gst_element_set_base_time (((Stream *) l->data)->sink, base);
  g_mutex_unlock (&worker->lock);
}

/* ---- control messages from the host ------------------------------------ */

static gboolean
do_state_change (gpointer data)
{
  gpointer *args = data;
  Worker *worker = args[0];
  guint64 request_id = GPOINTER_TO_SIZE (args[1]);
  GstStateChange transition = GPOINTER_TO_UINT (args[2]);
  PxWireState reply = {.transition = transition };

  /* The ipcsinks render whatever comes from PAUSED on, before the rest
   * starts; the sinks of the host (or of the description) preroll. */
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && worker->output)
    gst_element_set_state (worker->output, GST_STATE_PLAYING);
  /* ASYNC is answered as it is: a sink of the description prerolls only
   * once the host sends data, which it does after this answer. */
  reply.result = gst_element_set_state (worker->pipeline,
      GST_STATE_TRANSITION_NEXT (transition));
  if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING)
    share_base_time (worker);
  /* Its connections end with the stream: the host makes new ones. */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    if (worker->output)
      gst_element_set_state (worker->output, GST_STATE_READY);
    close_streams (worker, TRUE);
  }
  gst_px_connection_send_state (worker->control, PX_WIRE_STATE_DONE,
      request_id, &reply, GST_PX_CONNECTION_REPLY_TIMEOUT);
  g_free (args);
  return G_SOURCE_REMOVE;
}

/* Control reader: the host's answer to a STREAM. One nobody waits for any
 * more (it timed out) is dropped, with its fd. */
static gboolean
stream_done (Worker * worker, PxWireMessage * msg)
{
  PxWireStream reply;
  gint fd;

  if (px_wire_decode_stream (msg, &reply) < 0)
    return FALSE;
  fd = px_wire_message_steal_fd (msg);
  g_mutex_lock (&worker->lock);
  for (GList * l = worker->requests; l; l = l->next) {
    StreamRequest *request = l->data;

    if (request->request_id == msg->header.request_id && !request->done) {
      request->done = TRUE;
      request->reply = reply;
      request->fd = fd;
      fd = -1;
      g_cond_broadcast (&worker->cond);
    }
  }
  g_mutex_unlock (&worker->lock);
  px_close_fd (&fd);
  return TRUE;
}

static gboolean
control_message (GstPxConnection * conn, PxWireMessage * msg,
    gpointer user_data, GError ** error)
{
  Worker *worker = user_data;
  PxWireState state;
  gpointer *args;

  switch (msg->header.type) {
    case PX_WIRE_STREAM_DONE:
      if (!stream_done (worker, msg))
        break;
      return TRUE;
    case PX_WIRE_STATE:
      if (px_wire_decode_state (msg, &state) < 0)
        break;
      /* State changes run on the main loop, never on the reader: an element
       * changing state may query the host through another connection. */
      args = g_new (gpointer, 3);
      args[0] = worker;
      args[1] = GSIZE_TO_POINTER (msg->header.request_id);
      args[2] = GUINT_TO_POINTER (state.transition);
      g_idle_add (do_state_change, args);
      return TRUE;
    case PX_WIRE_SHUTDOWN:
      if (px_wire_decode_empty (msg) < 0)
        break;
      g_main_loop_quit (worker->loop);
      return TRUE;
    default:
      break;
  }
  g_set_error (error, GST_PX_ERROR, 0, "unexpected %s on the control socket",
      px_wire_type_name (msg->header.type));
  return FALSE;
}

static void
control_closed (GstPxConnection * conn, const GError * error,
    gpointer user_data)
{
  Worker *worker = user_data;

  /* The host is gone or broke the protocol: nothing left to work for. */
  worker->exit_status = error ? 1 : 0;
  g_main_loop_quit (worker->loop);
}

static const GstPxConnectionFuncs control_funcs = {
  .message = control_message,
  .closed = control_closed,
};

/* ---- bus --------------------------------------------------------------- */

static gboolean
forward_bus_message (GstBus * bus, GstMessage * message, gpointer user_data)
{
  Worker *worker = user_data;
  GstStructure *s = gst_px_worker_message_to_structure (message);

  if (s != NULL)
    send_structure (worker, GST_MESSAGE_TYPE (message), s);
  else if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ELEMENT &&
      gst_message_get_structure (message) != NULL)
    g_printerr ("parallax-worker: element message %s cannot cross to the "
        "host: not relayed\n",
        gst_structure_get_name (gst_message_get_structure (message)));
  return G_SOURCE_CONTINUE;
}

/* Forwards what is pending now: the watch only runs from the main loop,
 * which a worker failing its start never enters. */
static void
flush_bus (Worker * worker)
{
  GstBus *bus = gst_element_get_bus (worker->pipeline);
  GstMessage *message;

  while ((message = gst_bus_pop (bus)) != NULL) {
    forward_bus_message (bus, message, worker);
    gst_message_unref (message);
  }
  gst_object_unref (bus);
}

/* ---- input the description keeps -------------------------------------- */

static GQuark input_held_quark;

/* A memory of the host's input is freed: its slot goes back to the host. */
static void
input_released (gpointer counter)
{
  g_atomic_int_add ((gint *) counter, -1);
}

/* Streaming thread of the input. @buffer as it came while the description
 * holds fewer than GST_PX_WORKER_INPUT_HOLD of the host's memories, counted
 * until each is freed (a demuxer's output may share its input's memory);
 * a copy past that, so that the host's slot returns at once. What the
 * description keeps beyond that is its own memory, under its own limit,
 * and never makes the host's ipcsink wait for a slot the worker will not
 * give back (its slow-client-timeout would take the worker for a hung
 * one). */
static GstBuffer *
hold_or_copy (Worker * worker, GstBuffer * buffer)
{
  gsize size = gst_buffer_get_size (buffer);
  GstBuffer *copy;
  GstMapInfo map;

  if (g_atomic_int_get (&worker->input_held) < GST_PX_WORKER_INPUT_HOLD) {
    for (guint i = 0; i < gst_buffer_n_memory (buffer); i++) {
      GstMiniObject *mem = GST_MINI_OBJECT_CAST (gst_buffer_peek_memory
          (buffer, i));

      if (gst_mini_object_get_qdata (mem, input_held_quark) != NULL)
        continue;
      g_atomic_int_inc (&worker->input_held);
      gst_mini_object_set_qdata (mem, input_held_quark, &worker->input_held,
          input_released);
    }
    return buffer;
  }
  copy = size > 0 ? gst_buffer_new_allocate (NULL, size, NULL) :
      gst_buffer_new ();
  gst_buffer_copy_into (copy, buffer, GST_BUFFER_COPY_METADATA, 0, -1);
  if (size > 0 && gst_buffer_map (copy, &map, GST_MAP_WRITE)) {
    gst_buffer_extract (buffer, 0, map.data, size);
    gst_buffer_unmap (copy, &map);
  }
  gst_buffer_unref (buffer);
  return copy;
}

static GstPadProbeReturn
input_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Worker *worker = user_data;
  GstBufferList *list, *kept;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GST_PAD_PROBE_INFO_DATA (info) = hold_or_copy (worker,
        GST_PAD_PROBE_INFO_BUFFER (info));
    return GST_PAD_PROBE_OK;
  }
  list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
  kept = gst_buffer_list_new_sized (gst_buffer_list_length (list));
  for (guint i = 0; i < gst_buffer_list_length (list); i++)
    gst_buffer_list_add (kept, hold_or_copy (worker,
            gst_buffer_ref (gst_buffer_list_get (list, i))));
  gst_buffer_list_unref (list);
  GST_PAD_PROBE_INFO_DATA (info) = kept;
  return GST_PAD_PROBE_OK;
}

/* ---- start-up ---------------------------------------------------------- */

typedef struct
{
  gint input_fd;
  gint output_fd;
  gboolean streams;
  gchar **plugins;
  gchar **autoplug_plugins;
  gchar **description;
} Options;

static gboolean
parse_options (int *argc, char ***argv, Options * options, GError ** error)
{
  GOptionEntry entries[] = {
    {"input-fd", 0, 0, G_OPTION_ARG_INT, &options->input_fd,
        "Socket buffers arrive on", "N"},
    {"output-fd", 0, 0, G_OPTION_ARG_INT, &options->output_fd,
        "Socket buffers leave on", "N"},
    {"streams", 0, 0, G_OPTION_ARG_NONE, &options->streams,
        "Ask the host for a connection per sometimes pad", NULL},
    {"plugin", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &options->plugins,
        "A plugin file to load (repeat)", "FILE"},
    {"autoplug-plugin", 0, 0, G_OPTION_ARG_FILENAME_ARRAY,
          &options->autoplug_plugins,
        "A plugin file an autoplugger may use, left out if it fails to load "
          "(repeat)", "FILE"},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY,
        &options->description, NULL, "DESCRIPTION"},
    {NULL}
  };
  GOptionContext *context = g_option_context_new ("-- DESCRIPTION");
  gboolean ok;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_help_enabled (context, FALSE);
  ok = g_option_context_parse (context, argc, argv, error);
  g_option_context_free (context);
  if (ok && (options->description == NULL || options->description[0] == NULL)) {
    g_set_error (error, GST_PX_ERROR, 0, "a description is required");
    ok = FALSE;
  }
  return ok;
}

/* No registry: nothing is scanned and no scanner is forked. The plugins
 * come one by one from the host's list. Those an autoplugger may use are
 * only candidates: one that does not load is no reason to fail. */
static gboolean
load_plugins (gchar ** plugins, gchar ** candidates, GError ** error)
{
  for (guint i = 0; plugins && plugins[i]; i++) {
    GstPlugin *plugin = gst_plugin_load_file (plugins[i], error);

    if (plugin == NULL)
      return FALSE;
    gst_object_unref (plugin);
  }
  for (guint i = 0; candidates && candidates[i]; i++) {
    GError *failure = NULL;
    GstPlugin *plugin = gst_plugin_load_file (candidates[i], &failure);

    if (plugin == NULL) {
      g_printerr ("parallax-worker: %s left out: %s\n", candidates[i],
          failure->message);
      g_error_free (failure);
      continue;
    }
    gst_object_unref (plugin);
  }
  return TRUE;
}

/* The ipc elements the host gave sockets for, set up; the description's
 * sometimes pads watched. */
static gboolean
set_up_pipeline (Worker * worker, Options * options, GError ** error)
{
  GstElement *element;
  GstPxLayoutScan scan;

  element = gst_bin_get_by_name (GST_BIN (worker->pipeline),
      GST_PX_WORKER_INPUT);
  if (element != NULL) {
    GstPad *pad = gst_element_get_static_pad (element, "src");

    g_object_set (element, "fd", options->input_fd, "is-live", FALSE, NULL);
    input_held_quark = g_quark_from_static_string ("parallax-input-held");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, input_probe, worker, NULL);
    gst_object_unref (pad);
    gst_object_unref (element);
  }
  /* request-arenas: the worker makes no shared memory after the lockdown
   * (memfd_create is refused): the host makes its output arenas, within
   * the worker's memory limit. */
  element = gst_bin_get_by_name (GST_BIN (worker->pipeline),
      GST_PX_WORKER_OUTPUT);
  if (element != NULL)
    g_object_set (element, "fd", options->output_fd, "request-arenas", TRUE,
        NULL);
  /* After a source, it does not preroll and never pauses: an ipcsink taken
   * to PAUSED while it waits for room or for its peer tells upstream
   * FLUSHING, which stops a source for good. The host's sinks preroll and
   * pause, and hold the worker back through max-in-flight. Its state is
   * ours to set (see do_state_change()). */
  if (element != NULL && options->input_fd < 0) {
    g_object_set (element, "async", FALSE, NULL);
    gst_element_set_locked_state (element, TRUE);
    worker->output = element;
  } else {
    gst_clear_object (&element);
  }
  if (!gst_px_layout_scan (GST_BIN (worker->pipeline), &scan, error))
    return FALSE;
  if (scan.layout.sink_pads || scan.layout.src_pads ||
      scan.layout.dynamic != options->streams) {
    g_set_error (error, GST_PX_ERROR, 0, "the host's sockets do not match "
        "the description's pads");
    return FALSE;
  }
  if (scan.dynamic != NULL) {
    g_signal_connect (scan.dynamic, "pad-added",
        G_CALLBACK (stream_pad_added), worker);
    g_signal_connect (scan.dynamic, "pad-removed",
        G_CALLBACK (stream_pad_removed), worker);
    g_signal_connect (scan.dynamic, "no-more-pads",
        G_CALLBACK (stream_no_more_pads), worker);
  }
  return TRUE;
}

static GstElement *
build_pipeline (Worker * worker, Options * options, GError ** error)
{
  gchar *description = g_strjoinv (" ", options->description);
  GstPxLayout layout = { options->input_fd >= 0, options->output_fd >= 0,
    options->streams
  };
  gchar *full = gst_px_worker_full_description (description, &layout);

  worker->pipeline = gst_parse_launch_full (full, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, error);
  g_free (full);
  g_free (description);
  if (worker->pipeline != NULL && !GST_IS_PIPELINE (worker->pipeline)) {
    GstElement *pipeline = gst_pipeline_new (NULL);

    gst_bin_add (GST_BIN (pipeline), worker->pipeline);
    worker->pipeline = pipeline;
  }
  if (worker->pipeline != NULL && !set_up_pipeline (worker, options, error))
    gst_clear_object (&worker->pipeline);
  return worker->pipeline;
}

/* Each ORC program says on the bus what code it runs (element message
 * "parallax-orc-program"), and warns when the sandbox is why it runs its
 * C backup code. */
static void
report_orc_program (const gchar * program, PxOrcCode code,
    const gchar * reason, gpointer user_data)
{
  Worker *worker = user_data;
  GstObject *src = GST_OBJECT (worker->pipeline);

  gst_element_post_message (worker->pipeline, gst_message_new_element (src,
          gst_structure_new ("parallax-orc-program", "program",
              G_TYPE_STRING, program, "code", G_TYPE_STRING,
              px_orc_code_name (code), "reason", G_TYPE_STRING,
              reason ? reason : "", NULL)));
  if (code == PX_ORC_CODE_BACKUP) {
    GError *error = g_error_new (GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
        "ORC program %s runs its C backup code: %s", program, reason);

    gst_element_post_message (worker->pipeline,
        gst_message_new_warning (src, error, NULL));
    g_error_free (error);
  }
}

static gboolean
lock_down (Worker * worker, PxSandboxConfig * config)
{
  unsigned applied = 0;
  char *error = NULL;
  char layers[256];

  if (px_sandbox_lockdown (config, &applied, &error) < 0) {
    report_failure (worker, "lockdown", error ? error : "failed");
    free (error);
    return FALSE;
  }
  px_sandbox_layers_format (applied, layers, sizeof layers);
  send_structure (worker, GST_MESSAGE_ELEMENT,
      gst_structure_new (GST_PX_WORKER_READY, "layers", G_TYPE_STRING,
          layers, "layer-mask", G_TYPE_UINT, applied, NULL));
  return TRUE;
}

static int
run (Worker * worker, Options * options, PxSandboxConfig * config)
{
  GError *error = NULL;
  GstBus *bus;

  worker->control = gst_px_connection_new (CONTROL_FD, NULL, &control_funcs,
      worker);
  gst_px_connection_set_name (worker->control, "host");
  if (!gst_px_connection_start (worker->control, &error) ||
      !load_plugins (options->plugins, options->autoplug_plugins, &error) ||
      (worker->pipeline = build_pipeline (worker, options, &error)) == NULL) {
    report_failure (worker, "start-up", error->message);
    g_clear_error (&error);
    return 1;
  }
  /* Watched before READY: an element's own error while it opens what it
   * needs is the host's best explanation of a failed start. */
  bus = gst_element_get_bus (worker->pipeline);
  gst_bus_add_watch (bus, forward_bus_message, worker);
  gst_object_unref (bus);
  if (gst_element_set_state (worker->pipeline, GST_STATE_READY) ==
      GST_STATE_CHANGE_FAILURE) {
    flush_bus (worker);
    report_failure (worker, "start-up", "the elements failed to reach READY");
    return 1;
  }

  /* GStreamer makes the system clock's wake-up from an AF_UNIX socketpair,
   * which with-network refuses after the lockdown: made now, kept. */
  worker->clock = gst_system_clock_obtain ();
  px_orc_client_connect (report_orc_program, worker);
  if (!lock_down (worker, config))
    return 1;
  g_main_loop_run (worker->loop);

  close_streams (worker, FALSE);
  gst_element_set_state (worker->pipeline, GST_STATE_NULL);
  if (worker->output)
    gst_element_set_state (worker->output, GST_STATE_NULL);
  return worker->exit_status;
}

int
main (int argc, char **argv)
{
  Options options = { -1, -1, FALSE, NULL, NULL, NULL };
  PxSandboxConfig *config = NULL;
  Worker worker = { NULL, };
  GError *error = NULL;
  int ret;

  /* glibc gives threads malloc arenas of their own, each reserving 64 MiB
   * of address space: a memory limit enforced as RLIMIT_AS (the fallback
   * without cgroups) would count a few of them as used and refuse the
   * next thread. The worker's threads share two. */
  mallopt (M_ARENA_MAX, 2);

  /* Before any thread exists: the capabilities the lockdown needs are kept
   * by one helper thread, every other thread starts without any. */
  ret = px_sandbox_config_take_from_args (&argc, argv, &config);
  if (ret == 0)
    px_orc_client_spawn ();
  if (ret == 0)
    ret = px_sandbox_lockdown_prepare ();
  if (ret < 0) {
    g_printerr ("parallax-worker: sandbox set-up: %s (the worker is started "
        "by the parallax elements, not by hand)\n", g_strerror (-ret));
    return 1;
  }
  if (!parse_options (&argc, &argv, &options, &error)) {
    g_printerr ("parallax-worker: %s\n", error->message);
    return 1;
  }

  g_setenv ("GST_REGISTRY_DISABLE", "yes", TRUE);
  gst_registry_fork_set_enabled (FALSE);
  gst_init (NULL, NULL);
  worker.loop = g_main_loop_new (NULL, FALSE);
  g_mutex_init (&worker.lock);
  g_cond_init (&worker.cond);

  ret = run (&worker, &options, config);

  if (worker.control != NULL) {
    gst_px_connection_close (worker.control);
    gst_px_connection_unref (worker.control);
  }
  gst_clear_object (&worker.output);
  g_clear_object (&worker.pipeline);
  gst_clear_object (&worker.clock);
  g_main_loop_unref (worker.loop);
  g_mutex_clear (&worker.lock);
  g_cond_clear (&worker.cond);
  px_sandbox_config_free (config);
  g_strfreev (options.plugins);
  g_strfreev (options.autoplug_plugins);
  g_strfreev (options.description);
  return ret;
}
