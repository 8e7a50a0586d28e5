/* Parallax — parallax-worker: runs wrapped elements inside the sandbox.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Started by the host through px_sandbox_spawn(), never by hand:
 *
 *   parallax-worker [sandbox arguments] --input-fd=N --output-fd=N
 *       --plugin=FILE... -- DESCRIPTION
 *
 * fd 3 is the control socket; the two data sockets carry buffers in and out.
 * The worker
 *   1. initialises GStreamer without a registry (no scanning, no forking)
 *      and loads exactly the plugin files the host named: those the host's
 *      own registry resolved for the wrapped elements, so plugins on the
 *      host's GST_PLUGIN_PATH work too;
 *   2. builds "ipcsrc fd=IN ! DESCRIPTION ! ipcsink fd=OUT
 *      request-arenas=true" and brings it to READY, where most elements
 *      open what they need (the output's arenas come from the host);
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
#include "px-orc-client.h"
#include "px-sandbox.h"

#define CONTROL_FD 3

typedef struct
{
  GstElement *pipeline;
  GstPxConnection *control;
  GMainLoop *loop;
  GstClock *clock;
  gint exit_status;
} Worker;

static void
send_structure (Worker * worker, GstMessageType kind, GstStructure * s)
{
  gchar *body = gst_structure_to_string (s);

  gst_px_connection_send_blob (worker->control, PX_WIRE_MESSAGE, 0, 0, kind,
      0, body, GST_PX_CONNECTION_REPLY_TIMEOUT);
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

/* ---- control messages from the host ------------------------------------ */

static gboolean
do_state_change (gpointer data)
{
  gpointer *args = data;
  Worker *worker = args[0];
  guint64 request_id = GPOINTER_TO_SIZE (args[1]);
  GstStateChange transition = GPOINTER_TO_UINT (args[2]);
  PxWireState reply = {.transition = transition };

  /* ASYNC is answered as it is: the worker prerolls only once the host
   * sends data, which it does after this answer. */
  reply.result = gst_element_set_state (worker->pipeline,
      GST_STATE_TRANSITION_NEXT (transition));
  gst_px_connection_send_state (worker->control, PX_WIRE_STATE_DONE,
      request_id, &reply, GST_PX_CONNECTION_REPLY_TIMEOUT);
  g_free (args);
  return G_SOURCE_REMOVE;
}

static gboolean
control_message (GstPxConnection * conn, PxWireMessage * msg,
    gpointer user_data, GError ** error)
{
  Worker *worker = user_data;
  PxWireState state;
  gpointer *args;

  switch (msg->header.type) {
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

/* ---- start-up ---------------------------------------------------------- */

typedef struct
{
  gint input_fd;
  gint output_fd;
  gchar **plugins;
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
    {"plugin", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &options->plugins,
        "A plugin file to load (repeat)", "FILE"},
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
  if (ok && (options->input_fd < 0 || options->output_fd < 0 ||
          options->description == NULL || options->description[0] == NULL)) {
    g_set_error (error, GST_PX_ERROR, 0,
        "--input-fd, --output-fd and a description are required");
    ok = FALSE;
  }
  return ok;
}

/* No registry: nothing is scanned and no scanner is forked. The plugins
 * come one by one from the host's list. */
static gboolean
load_plugins (gchar ** plugins, GError ** error)
{
  for (guint i = 0; plugins && plugins[i]; i++) {
    GstPlugin *plugin = gst_plugin_load_file (plugins[i], error);

    if (plugin == NULL)
      return FALSE;
    gst_object_unref (plugin);
  }
  return TRUE;
}

static GstElement *
build_pipeline (Options * options, GError ** error)
{
  gchar *description = g_strjoinv (" ", options->description);
  /* request-arenas: the worker makes no shared memory after the lockdown
   * (memfd_create is refused): the host makes its output arenas, within
   * the worker's memory limit. */
  gchar *full = g_strdup_printf ("ipcsrc name=" GST_PX_WORKER_INPUT
      " fd=%d is-live=false ! %s ! ipcsink name=" GST_PX_WORKER_OUTPUT
      " fd=%d request-arenas=true", options->input_fd, description,
      options->output_fd);
  GstElement *pipeline = gst_parse_launch_full (full, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, error);

  g_free (full);
  g_free (description);
  return pipeline;
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
      !load_plugins (options->plugins, &error) ||
      (worker->pipeline = build_pipeline (options, &error)) == NULL) {
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

  gst_element_set_state (worker->pipeline, GST_STATE_NULL);
  return worker->exit_status;
}

int
main (int argc, char **argv)
{
  Options options = { -1, -1, NULL, NULL };
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

  ret = run (&worker, &options, config);

  if (worker.control != NULL) {
    gst_px_connection_close (worker.control);
    gst_px_connection_unref (worker.control);
  }
  g_clear_object (&worker.pipeline);
  gst_clear_object (&worker.clock);
  g_main_loop_unref (worker.loop);
  px_sandbox_config_free (config);
  g_strfreev (options.plugins);
  g_strfreev (options.description);
  return ret;
}
