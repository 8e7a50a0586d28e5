/* Parallax — sandbox-watch: runs a description in sandboxbin and prints
 * what the bin says about its worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   sandbox-watch [--source LAUNCH] [--sink LAUNCH] [--set PROP=VALUE]...
 *       DESCRIPTION
 *
 * builds SOURCE ! sandboxbin description=DESCRIPTION ! SINK (by default
 * "videotestsrc num-buffers=100" and "fakesink"), plays it to its end and
 * prints, as they come, the bin's "sandboxbin-worker-started" and
 * "sandboxbin-worker-crashed" messages with every field, and every error
 * and warning with its domain, code, source and debug text. --set sets a
 * property of the bin (mode=in-process, restart-delay=50, memory-limit=...)
 * as gst-launch-1.0 would. Ctrl-C ends the stream cleanly (EOS).
 *
 * Exits 0 when the stream ended, 1 on an error, 2 on bad arguments.
 */
#include <gst/gst.h>

#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  GMainLoop *loop;
  GstElement *pipeline;
  gint64 start;                 /* monotonic µs at PLAYING */
  gboolean failed;
  guint started, crashed;
} Watch;

static void
print_fields (const GstStructure * s)
{
  for (gint i = 0; i < gst_structure_n_fields (s); i++) {
    const gchar *name = gst_structure_nth_field_name (s, i);
    const GValue *value = gst_structure_get_value (s, name);
    gchar *text = G_VALUE_HOLDS_STRING (value) ?
        g_strdup_printf ("\"%s\"", g_value_get_string (value)) :
        gst_value_serialize (value);

    g_print ("      %-14s %s\n", name, text);
    g_free (text);
  }
}

static void
print_problem (Watch * watch, GstMessage * message, const gchar * kind)
{
  GError *error = NULL;
  gchar *debug = NULL;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR)
    gst_message_parse_error (message, &error, &debug);
  else
    gst_message_parse_warning (message, &error, &debug);
  g_print ("  %s from %s: %s\n      domain %s, code %d\n      debug: %s\n",
      kind, GST_MESSAGE_SRC_NAME (message), error->message,
      g_quark_to_string (error->domain), error->code, debug ? debug : "-");
  g_clear_error (&error);
  g_free (debug);
}

static gboolean
on_message (GstBus * bus, GstMessage * message, gpointer user_data)
{
  Watch *watch = user_data;
  const GstStructure *s = gst_message_get_structure (message);
  gint ms = (gint) ((g_get_monotonic_time () - watch->start) / 1000);

  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ELEMENT:
      if (s == NULL || !g_str_has_prefix (gst_structure_get_name (s),
              "sandboxbin-worker-"))
        break;
      if (gst_structure_has_name (s, "sandboxbin-worker-started"))
        watch->started++;
      else
        watch->crashed++;
      g_print ("+%6d ms  %s\n", ms, gst_structure_get_name (s));
      print_fields (s);
      break;
    case GST_MESSAGE_WARNING:
      g_print ("+%6d ms", ms);
      print_problem (watch, message, "warning");
      break;
    case GST_MESSAGE_ERROR:
      g_print ("+%6d ms", ms);
      print_problem (watch, message, "error");
      watch->failed = TRUE;
      g_main_loop_quit (watch->loop);
      break;
    case GST_MESSAGE_EOS:
      g_print ("+%6d ms  end of stream\n", ms);
      g_main_loop_quit (watch->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_interrupt (gpointer user_data)
{
  Watch *watch = user_data;

  g_print ("interrupted: ending the stream\n");
  gst_element_send_event (watch->pipeline, gst_event_new_eos ());
  return G_SOURCE_CONTINUE;
}

/* ---- the pipeline ------------------------------------------------------ */

static GstElement *
make_end (const gchar * what, const gchar * launch)
{
  GError *error = NULL;
  GstElement *bin = gst_parse_bin_from_description_full (launch, TRUE, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &error);

  if (bin == NULL) {
    g_printerr ("cannot build the %s \"%s\": %s\n", what, launch,
        error->message);
    g_clear_error (&error);
  }
  return bin;
}

/* Text to the property's type as gst-launch-1.0 reads it. */
static gboolean
set_property (GstElement * jail, const gchar * setting)
{
  gchar **pair = g_strsplit (setting, "=", 2);
  GParamSpec *pspec = pair[0] ? g_object_class_find_property
      (G_OBJECT_GET_CLASS (jail), pair[0]) : NULL;
  GValue value = G_VALUE_INIT;
  gboolean ok = FALSE;

  if (pspec != NULL && pair[1] != NULL && (pspec->flags & G_PARAM_WRITABLE)) {
    g_value_init (&value, pspec->value_type);
    ok = gst_value_deserialize_with_pspec (&value, pair[1], pspec);
    if (ok)
      g_object_set_property (G_OBJECT (jail), pair[0], &value);
    g_value_unset (&value);
  }
  if (!ok)
    g_printerr ("--set %s: not PROPERTY=VALUE for a property of sandboxbin "
        "(gst-inspect-1.0 sandboxbin lists them)\n", setting);
  g_strfreev (pair);
  return ok;
}

static gboolean
set_properties (GstElement * jail, gchar ** settings)
{
  for (guint i = 0; settings && settings[i]; i++) {
    if (!set_property (jail, settings[i]))
      return FALSE;
  }
  return TRUE;
}

static GstElement *
make_pipeline (const gchar * source_line, const gchar * description,
    gchar ** settings, const gchar * sink_line)
{
  GstElement *pipeline = gst_pipeline_new ("watched");
  GstElement *source = make_end ("source", source_line);
  GstElement *sink = make_end ("sink", sink_line);
  GstElement *jail = gst_element_factory_make ("sandboxbin", "jail");

  if (jail == NULL)
    g_printerr ("The parallax plugin is not on GST_PLUGIN_PATH: run this "
        "under `meson devenv -C build`.\n");
  if (source == NULL || sink == NULL || jail == NULL)
    goto fail;
  g_object_set (jail, "description", description, NULL);
  if (!set_properties (jail, settings))
    goto fail;
  gst_bin_add_many (GST_BIN (pipeline), source, jail, sink, NULL);
  if (!gst_element_link_many (source, jail, sink, NULL)) {
    g_printerr ("cannot link %s ! sandboxbin ! %s: the bin has the pads the "
        "description leaves unlinked\n", source_line, sink_line);
    gst_object_unref (pipeline);
    return NULL;
  }
  return pipeline;

fail:
  gst_clear_object (&source);
  gst_clear_object (&sink);
  gst_clear_object (&jail);
  gst_object_unref (pipeline);
  return NULL;
}

static void
print_totals (Watch * watch)
{
  GstElement *jail = gst_bin_get_by_name (GST_BIN (watch->pipeline), "jail");
  guint restarts = 0;
  guint64 lost = 0;
  gchar *violation = NULL;

  g_object_get (jail, "restarts", &restarts, "buffers-lost", &lost,
      "last-violation", &violation, NULL);
  g_print ("\nworkers started: %u, crashed: %u; the bin's restarts %u, "
      "buffers-lost %" G_GUINT64_FORMAT ", last-violation \"%s\"\n",
      watch->started, watch->crashed, restarts, lost,
      violation ? violation : "");
  g_free (violation);
  gst_object_unref (jail);
}

int
main (int argc, char **argv)
{
  g_autofree gchar *source_line = NULL, *sink_line = NULL;
  g_auto (GStrv) settings = NULL, rest = NULL;
  GOptionEntry entries[] = {
    {"source", 0, 0, G_OPTION_ARG_STRING, &source_line,
          "What feeds the bin (default: videotestsrc num-buffers=100)",
        "LAUNCH"},
    {"sink", 0, 0, G_OPTION_ARG_STRING, &sink_line,
        "What takes the bin's output (default: fakesink)", "LAUNCH"},
    {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &settings,
          "A property of the bin, as gst-launch-1.0 writes it (repeatable)",
        "PROP=VALUE"},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("DESCRIPTION - run DESCRIPTION in sandboxbin and "
      "print what it says about its worker");
  g_autoptr (GError) error = NULL;
  Watch watch = { 0 };
  GstBus *bus;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      rest == NULL || rest[0] == NULL || rest[1] != NULL) {
    g_printerr ("%s\nUsage: %s [OPTION...] DESCRIPTION (one argument: quote "
        "it)\n", error ? error->message : "", argv[0]);
    return 2;
  }
  watch.pipeline = make_pipeline (source_line ? source_line :
      "videotestsrc num-buffers=100", rest[0], settings,
      sink_line ? sink_line : "fakesink");
  if (watch.pipeline == NULL)
    return 2;

  watch.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (watch.pipeline);
  gst_bus_add_watch (bus, on_message, &watch);
  g_unix_signal_add (SIGINT, on_interrupt, &watch);
  g_print ("sandboxbin description=\"%s\"\n\n", rest[0]);
  watch.start = g_get_monotonic_time ();
  if (gst_element_set_state (watch.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* the error that says why is on the bus */
    watch.failed = TRUE;
    while (gst_bus_have_pending (bus))
      g_main_context_iteration (NULL, FALSE);
  } else {
    g_main_loop_run (watch.loop);
  }
  print_totals (&watch);
  gst_element_set_state (watch.pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (watch.pipeline);
  g_main_loop_unref (watch.loop);
  return watch.failed ? 1 : 0;
}
