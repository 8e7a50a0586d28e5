/* parallax-launch — gst-launch-1.0 with global caps solving.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   parallax-launch [OPTIONS] PIPELINE-DESCRIPTION
 *
 * With --isolated[=PATTERNS] the matching elements (demuxers, decoders and
 * parsers by default) run in sandboxbins, jailed workers; --group puts
 * matching elements linked one to the next in one worker.
 * Reads the same descriptions as gst-launch-1.0, keeps the links GStreamer
 * could not make, solves the whole pipeline (inserting the cheapest
 * converters where links do not negotiate) and runs it. Exit status as
 * gst-launch-1.0's: 0 when the pipeline ran to the end, 1 when it could
 * not be built (or solved), 255 when it failed while running; and 2 when
 * --no-fix finds that the solver would change the pipeline.
 */
#include <parallax/parallax.h>

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#define EXIT_BUILD 1
#define EXIT_WOULD_CHANGE 2
#define EXIT_RUNTIME 255

typedef struct
{
  gboolean verbose, quiet, eos_on_shutdown, messages, tags;
  gboolean explain, no_fix, json, list_elements;
  gchar *graph;
  gchar *inspect;
  gboolean isolated, group;
  gchar **patterns;             /* --isolated=PATTERNS, or NULL */
} Options;

typedef struct
{
  Options *opt;
  GstElement *pipeline;
  GMainLoop *loop;
  gboolean error;
  gboolean interrupted;
  gboolean buffering;
  gboolean is_live;
  guint message_count;
  GstClockTime started;
} Run;

static void
say (Options * opt, const gchar * format, ...)
G_GNUC_PRINTF (2, 3);

     static void say (Options * opt, const gchar * format, ...)
{
  va_list args;

  if (opt->quiet)
    return;
  va_start (args, format);
  vfprintf (stdout, format, args);
  va_end (args);
  fflush (stdout);
}

/* ------------------------------------------------------------------------ */
/* --list-elements, --inspect */

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (GST_OBJECT_NAME (a), GST_OBJECT_NAME (b));
}

static int
list_elements (void)
{
  g_autoptr (GstPxConverterRegistry) registry =
      gst_px_converter_registry_new_default ();
  GList *all = gst_registry_get_feature_list (gst_registry_get (),
      GST_TYPE_ELEMENT_FACTORY);
  guint count = 0;

  all = g_list_sort (all, compare_names);
  printf ("P: Parallax's own element   C: a converter the solver may "
      "insert\n\n");
  for (GList * l = all; l; l = l->next) {
    GstElementFactory *f = l->data;
    const gchar *plugin = gst_plugin_feature_get_plugin_name
        (GST_PLUGIN_FEATURE (f));
    g_autoptr (GstPxConverter) conv = gst_px_converter_registry_lookup
        (registry, GST_OBJECT_NAME (f));

    printf ("%c%c %-28s %-20s %s\n",
        g_strcmp0 (plugin, "parallax") == 0 ? 'P' : ' ', conv ? 'C' : ' ',
        GST_OBJECT_NAME (f), plugin ? plugin : "",
        gst_element_factory_get_metadata (f, GST_ELEMENT_METADATA_LONGNAME));
    count++;
  }
  printf ("\n%u elements\n", count);
  gst_plugin_feature_list_free (all);
  return 0;
}

static const gchar *file_words[] = { "location", "filename", "file", "path",
  "dir", "directory", "uri", NULL
};

static const gchar *device_words[] = { "device", "device-name", "device-path",
  "card", "display", NULL
};

static const gchar *network_words[] = { "host", "port", "address", "uri",
  "bind-address", "multicast-group", "proxy", "user-agent", NULL
};

static gboolean
has_property (GParamSpec ** specs, guint n, const gchar ** words,
    GString * found)
{
  gboolean any = FALSE;

  for (guint i = 0; i < n; i++)
    for (guint w = 0; words[w]; w++)
      if (g_str_equal (specs[i]->name, words[w]) ||
          g_str_has_suffix (specs[i]->name, words[w])) {
        g_string_append_printf (found, "%s%s", any ? ", " : "", specs[i]->name);
        any = TRUE;
        break;
      }
  return any;
}

/* What matters for running the element in a sandbox, from its properties,
 * class and URI schemes: a hint for choosing a policy, not a guarantee. */
static void
inspect_sandboxing (GstElementFactory * f, GstElement * e)
{
  guint n;
  g_autofree GParamSpec **specs =
      g_object_class_list_properties (G_OBJECT_GET_CLASS (e), &n);
  const gchar *klass = gst_element_factory_get_metadata (f,
      GST_ELEMENT_METADATA_KLASS);
  const gchar *const *protocols = gst_element_factory_get_uri_protocols (f);
  g_autoptr (GString) files = g_string_new (NULL);
  g_autoptr (GString) devices = g_string_new (NULL);
  g_autoptr (GString) network = g_string_new (NULL);
  gboolean net_scheme = FALSE, file_scheme = FALSE;
  GstPlugin *plugin = gst_plugin_feature_get_plugin (GST_PLUGIN_FEATURE (f));

  for (guint i = 0; protocols && protocols[i]; i++) {
    if (g_str_equal (protocols[i], "file"))
      file_scheme = TRUE;
    else
      net_scheme = TRUE;
  }
  printf ("\nSandboxing (a hint from properties, class and URI schemes):\n");
  printf ("  plugin file     %s\n", plugin && gst_plugin_get_filename (plugin)
      ? gst_plugin_get_filename (plugin) : "(built in)");
  printf ("  needs files     %s", has_property (specs, n, file_words, files) ||
      file_scheme ? "probably" : "no sign of it");
  printf ("%s%s%s\n", files->len ? " (" : "", files->str,
      files->len ? ")" : "");
  printf ("  needs devices   %s", has_property (specs, n, device_words,
          devices) || strstr (klass, "Hardware") ? "probably" :
      (strstr (klass, "Sink/Audio") || strstr (klass, "Sink/Video") ||
          strstr (klass, "Source/Audio") || strstr (klass, "Source/Video")) &&
      !strstr (klass, "Generator") ? "maybe (audio or video device class)" :
      "no sign of it");
  printf ("%s%s%s\n", devices->len ? " (" : "", devices->str,
      devices->len ? ")" : "");
  printf ("  needs network   %s", (has_property (specs, n, network_words,
              network) && (strstr (klass, "Network") || net_scheme)) ||
      net_scheme ? "probably" : "no sign of it");
  printf ("%s%s%s\n", network->len ? " (" : "", network->str,
      network->len ? ")" : "");
  if (protocols && protocols[0]) {
    g_autofree gchar *list = g_strjoinv (", ", (gchar **) protocols);
    printf ("  URI schemes     %s\n", list);
  }
  printf ("  suggested policy %s\n", net_scheme ? "with-network" :
      (files->len || file_scheme) ? "with-filesystem" : "minimal-compute");
  gst_clear_object (&plugin);
}

static int
inspect (const gchar * name)
{
  g_autoptr (GstElementFactory) f = gst_element_factory_find (name);
  g_autoptr (GstElement) e = NULL;
  GstPlugin *plugin;
  guint n;
  g_autofree GParamSpec **specs = NULL;

  if (f == NULL) {
    fprintf (stderr, "No such element: \"%s\"\n", name);
    return EXIT_BUILD;
  }
  e = gst_element_factory_create (f, NULL);
  if (e == NULL) {
    fprintf (stderr, "Could not create a \"%s\" element\n", name);
    return EXIT_BUILD;
  }
  gst_object_ref_sink (e);
  plugin = gst_plugin_feature_get_plugin (GST_PLUGIN_FEATURE (f));
  printf ("Factory\n  name            %s\n  long name       %s\n"
      "  class           %s\n  description     %s\n  rank            %u\n",
      name, gst_element_factory_get_metadata (f,
          GST_ELEMENT_METADATA_LONGNAME),
      gst_element_factory_get_metadata (f, GST_ELEMENT_METADATA_KLASS),
      gst_element_factory_get_metadata (f, GST_ELEMENT_METADATA_DESCRIPTION),
      gst_plugin_feature_get_rank (GST_PLUGIN_FEATURE (f)));
  if (plugin)
    printf ("Plugin\n  name            %s\n  version         %s\n"
        "  license         %s\n  origin          %s\n",
        gst_plugin_get_name (plugin), gst_plugin_get_version (plugin),
        gst_plugin_get_license (plugin), gst_plugin_get_origin (plugin));
  gst_clear_object (&plugin);

  printf ("Pad templates\n");
  for (const GList * l = gst_element_factory_get_static_pad_templates (f); l;
      l = l->next) {
    GstStaticPadTemplate *t = l->data;
    g_autoptr (GstCaps) caps = gst_static_caps_get (&t->static_caps);
    g_autofree gchar *str = gst_caps_to_string (caps);
    printf ("  %-14s %s, %s\n    %s\n", t->name_template,
        t->direction == GST_PAD_SRC ? "source" : "sink",
        t->presence == GST_PAD_ALWAYS ? "always" :
        t->presence == GST_PAD_SOMETIMES ? "sometimes" : "on request", str);
  }
  specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (e), &n);
  printf ("Properties\n");
  for (guint i = 0; i < n; i++)
    printf ("  %-24s %-16s %s%s  %s\n", specs[i]->name,
        g_type_name (specs[i]->value_type),
        specs[i]->flags & G_PARAM_READABLE ? "r" : "-",
        specs[i]->flags & G_PARAM_WRITABLE ? "w" : "-",
        g_param_spec_get_blurb (specs[i]));
  inspect_sandboxing (f, e);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Running */

static void
print_tag (const GstTagList * list, const gchar * tag, gpointer data)
{
  for (guint i = 0; i < gst_tag_list_get_tag_size (list, tag); i++) {
    const GValue *v = gst_tag_list_get_value_index (list, tag, i);
    g_autofree gchar *str = G_VALUE_HOLDS_STRING (v) ?
        g_value_dup_string (v) : gst_value_serialize (v);
    printf ("%16s: %s\n", i == 0 ? gst_tag_get_nick (tag) : "", str);
  }
}

static void
print_error (GstMessage * msg, gboolean warning)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;
  g_autofree gchar *path = gst_object_get_path_string (GST_MESSAGE_SRC (msg));

  if (warning)
    gst_message_parse_warning (msg, &err, &debug);
  else
    gst_message_parse_error (msg, &err, &debug);
  fprintf (stderr, "%s: from element %s: %s\n", warning ? "WARNING" :
      "ERROR", path, err->message);
  if (debug)
    fprintf (stderr, "Additional debug info:\n%s\n", debug);
}

static void
on_state_changed (Run * run, GstMessage * msg)
{
  GstState old, now, pending;

  if (GST_MESSAGE_SRC (msg) != GST_OBJECT (run->pipeline))
    return;
  gst_message_parse_state_changed (msg, &old, &now, &pending);
  if (now == GST_STATE_PAUSED && pending == GST_STATE_VOID_PENDING &&
      old == GST_STATE_READY && !run->buffering) {
    say (run->opt, "Pipeline is PREROLLED ...\nSetting pipeline to PLAYING "
        "...\n");
    run->started = g_get_monotonic_time ();
    if (gst_element_set_state (run->pipeline, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE) {
      fprintf (stderr, "ERROR: pipeline does not want to play.\n");
      run->error = TRUE;
      g_main_loop_quit (run->loop);
    }
  }
}

static void
on_buffering (Run * run, GstMessage * msg)
{
  gint percent;

  if (run->is_live)
    return;
  gst_message_parse_buffering (msg, &percent);
  say (run->opt, "Buffering, %3d%% ...\r", percent);
  if (percent < 100 && !run->buffering) {
    run->buffering = TRUE;
    gst_element_set_state (run->pipeline, GST_STATE_PAUSED);
  } else if (percent == 100 && run->buffering) {
    run->buffering = FALSE;
    gst_element_set_state (run->pipeline, GST_STATE_PLAYING);
  }
}

static gboolean
on_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  Run *run = data;

  if (run->opt->messages) {
    const GstStructure *s = gst_message_get_structure (msg);
    g_autofree gchar *str = s ? gst_structure_to_string (s) : NULL;
    printf ("Got message #%u from element \"%s\" (%s): %s\n",
        run->message_count++, GST_MESSAGE_SRC_NAME (msg),
        GST_MESSAGE_TYPE_NAME (msg), str ? str : "no message details");
  }
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_EOS:
      say (run->opt, "Got EOS from element \"%s\".\n",
          GST_MESSAGE_SRC_NAME (msg));
      g_main_loop_quit (run->loop);
      break;
    case GST_MESSAGE_ERROR:
      print_error (msg, FALSE);
      run->error = TRUE;
      g_main_loop_quit (run->loop);
      break;
    case GST_MESSAGE_WARNING:
      print_error (msg, TRUE);
      break;
    case GST_MESSAGE_TAG:
      if (run->opt->tags) {
        GstTagList *tags;
        gst_message_parse_tag (msg, &tags);
        printf ("FOUND TAG      : found by element \"%s\".\n",
            GST_MESSAGE_SRC_NAME (msg));
        gst_tag_list_foreach (tags, print_tag, NULL);
        gst_tag_list_unref (tags);
      }
      break;
    case GST_MESSAGE_STATE_CHANGED:
      on_state_changed (run, msg);
      break;
    case GST_MESSAGE_BUFFERING:
      on_buffering (run, msg);
      break;
    case GST_MESSAGE_ELEMENT:
      if (gst_message_has_name (msg, "parallax-solver-link")) {
        const GstStructure *s = gst_message_get_structure (msg);
        const gchar *conv = gst_structure_get_string (s, "converters");
        say (run->opt, "Solver: linked %s:%s to %s%s%s\n",
            GST_MESSAGE_SRC_NAME (msg), gst_structure_get_string (s,
                "src-pad"), gst_structure_get_string (s, "sink-pad"),
            conv && conv[0] ? " through " : "", conv ? conv : "");
      }
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_interrupt (gpointer data)
{
  Run *run = data;

  if (run->opt->eos_on_shutdown && !run->interrupted) {
    say (run->opt, "Got interrupt: sending EOS ...\n");
    run->interrupted = TRUE;
    gst_element_send_event (run->pipeline, gst_event_new_eos ());
    return G_SOURCE_CONTINUE;
  }
  say (run->opt, "Interrupt: stopping pipeline ...\n");
  run->interrupted = TRUE;
  g_main_loop_quit (run->loop);
  return G_SOURCE_CONTINUE;
}

static int
run_pipeline (Options * opt, GstElement * pipeline)
{
  Run run = { opt, pipeline, NULL, FALSE, FALSE, FALSE, FALSE, 0, 0 };
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  GstStateChangeReturn ret;
  guint watch, sigint;
  gchar *exclude[] = { (gchar *) "pad-monitors", NULL };
  gulong notify = 0;

  run.loop = g_main_loop_new (NULL, FALSE);
  if (opt->verbose)
    notify = g_signal_connect (pipeline, "deep-notify",
        G_CALLBACK (gst_object_default_deep_notify), exclude);
  watch = gst_bus_add_watch (bus, on_message, &run);
  sigint = g_unix_signal_add (SIGINT, on_interrupt, &run);

  say (opt, "Setting pipeline to PAUSED ...\n");
  ret = gst_element_set_state (pipeline, GST_STATE_PAUSED);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    fprintf (stderr, "ERROR: Pipeline does not want to pause.\n");
    /* The error message on the bus says why. */
    while (g_main_context_iteration (NULL, FALSE));
    run.error = TRUE;
  } else {
    if (ret == GST_STATE_CHANGE_NO_PREROLL) {
      say (opt, "Pipeline is live and does not need PREROLL ...\n");
      run.is_live = TRUE;
      say (opt, "Setting pipeline to PLAYING ...\n");
      run.started = g_get_monotonic_time ();
      gst_element_set_state (pipeline, GST_STATE_PLAYING);
    } else {
      say (opt, "Pipeline is PREROLLING ...\n");
    }
    g_main_loop_run (run.loop);
  }
  if (run.started)
    say (opt, "Execution ended after %" GST_TIME_FORMAT "\n",
        GST_TIME_ARGS ((g_get_monotonic_time () - run.started) * 1000));
  say (opt, "Setting pipeline to NULL ...\n");
  gst_element_set_state (pipeline, GST_STATE_NULL);
  if (notify)
    g_signal_handler_disconnect (pipeline, notify);
  g_source_remove (sigint);
  g_source_remove (watch);
  g_main_loop_unref (run.loop);
  say (opt, "Freeing pipeline ...\n");
  return run.error ? EXIT_RUNTIME : 0;
}

/* ------------------------------------------------------------------------ */

static gboolean
on_isolated (const gchar * name, const gchar * value, gpointer data,
    GError ** error)
{
  Options *opt = data;

  opt->isolated = TRUE;
  g_clear_pointer (&opt->patterns, g_strfreev);
  if (value && value[0])
    opt->patterns = g_strsplit (value, ",", -1);
  return TRUE;
}

/* A sandboxbin in READY has its worker; its pads then answer through it.
 * Kept in NULL while the solver looks at the pipeline, the solver reads
 * what its description accepts; it starts with the others when the
 * pipeline does. */
static void
lock_sandboxes (GstBin * bin, gboolean locked)
{
  GstIterator *it = gst_bin_iterate_recurse (bin);
  GValue v = G_VALUE_INIT;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);
    GstElementFactory *f = gst_element_get_factory (e);
    if (f && g_str_equal (GST_OBJECT_NAME (f), "sandboxbin"))
      gst_element_set_locked_state (e, locked);
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
}

static int
solve_and_run (Options * opt, const gchar * description)
{
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstPxPlan) plan = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = NULL;

  pipeline = opt->isolated ? gst_px_parse_launch_isolated (description,
      solver, (const gchar * const *) opt->patterns, opt->group, &error) :
      gst_px_parse_launch (description, solver, &error);
  if (pipeline == NULL) {
    fprintf (stderr, "ERROR: pipeline could not be constructed: %s.\n",
        error->message);
    return EXIT_BUILD;
  }
  gst_object_ref_sink (pipeline);
  lock_sandboxes (GST_BIN (pipeline), TRUE);
  /* Elements open their devices in READY, and answer caps from them. */
  if (gst_element_set_state (pipeline, GST_STATE_READY) ==
      GST_STATE_CHANGE_FAILURE) {
    fprintf (stderr, "ERROR: pipeline does not want to go to READY.\n");
    gst_element_set_state (pipeline, GST_STATE_NULL);
    return EXIT_BUILD;
  }
  plan = gst_px_solver_solve (solver, GST_BIN (pipeline), &error);
  if (plan == NULL) {
    fprintf (stderr, "ERROR: could not solve the pipeline: %s.\n",
        error->message);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    return EXIT_BUILD;
  }
  if (gst_px_plan_is_solvable (plan) && !opt->no_fix &&
      !gst_px_solver_apply (solver, plan, &error)) {
    fprintf (stderr, "ERROR: could not apply the plan: %s.\n", error->message);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    return EXIT_BUILD;
  }
  text = gst_px_plan_explain (plan);
  if (opt->explain || !gst_px_plan_is_solvable (plan))
    fprintf (opt->json ? stderr : stdout, "%s", text);
  if (opt->json) {
    g_autofree gchar *json = gst_px_plan_to_json (plan);
    printf ("%s\n", json);
  }
  if (opt->graph && !gst_px_plan_write_graph (plan, opt->graph, &error)) {
    fprintf (stderr, "ERROR: %s.\n", error->message);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    return EXIT_BUILD;
  }
  lock_sandboxes (GST_BIN (pipeline), FALSE);
  if (!gst_px_plan_is_solvable (plan) || opt->no_fix) {
    gst_element_set_state (pipeline, GST_STATE_NULL);
    if (!gst_px_plan_is_solvable (plan)) {
      fprintf (stderr, "ERROR: pipeline could not be constructed: the "
          "solver found no way to negotiate it.\n");
      return EXIT_BUILD;
    }
    return gst_px_plan_changes_pipeline (plan) ? EXIT_WOULD_CHANGE : 0;
  }
  if (!opt->explain && !opt->json && gst_px_plan_changes_pipeline (plan)) {
    /* The explanation's last line is its summary. */
    const gchar *summary = strrchr (g_strchomp (text), '\n');
    say (opt, "Solver: %s\n", summary ? summary + 1 : text);
  }
  return run_pipeline (opt, pipeline);
}

int
main (int argc, char **argv)
{
  Options opt = { 0, };
  GOptionEntry entries[] = {
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &opt.verbose,
        "Output status information and property notifications", NULL},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &opt.quiet,
        "Do not print any progress information", NULL},
    {"eos-on-shutdown", 'e', 0, G_OPTION_ARG_NONE, &opt.eos_on_shutdown,
        "Force EOS on sources before shutting the pipeline down", NULL},
    {"messages", 'm', 0, G_OPTION_ARG_NONE, &opt.messages,
        "Output messages", NULL},
    {"tags", 't', 0, G_OPTION_ARG_NONE, &opt.tags, "Output tags", NULL},
    {"explain", 0, 0, G_OPTION_ARG_NONE, &opt.explain,
          "Print what the solver found and why it changes what it changes",
        NULL},
    {"no-fix", 0, 0, G_OPTION_ARG_NONE, &opt.no_fix,
        "Diagnose only: change and run nothing; exit 2 if the solver would "
          "change the pipeline", NULL},
    {"json", 0, 0, G_OPTION_ARG_NONE, &opt.json,
        "Print the solver's plan as JSON on stdout", NULL},
    {"graph", 0, 0, G_OPTION_ARG_FILENAME, &opt.graph,
          "Draw the solved pipeline to FILE (.svg through Graphviz, else DOT)",
        "FILE"},
    {"isolated", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK,
        on_isolated, "Run demuxers, decoders and parsers (or the elements "
          "whose factory or name matches one of the comma-separated glob "
          "PATTERNS) in sandboxbins, jailed workers", "PATTERNS"},
    {"group", 0, 0, G_OPTION_ARG_NONE, &opt.group,
        "With --isolated: matching elements linked one to the next share "
          "one worker", NULL},
    {"list-elements", 0, 0, G_OPTION_ARG_NONE, &opt.list_elements,
        "List the installed elements, Parallax's own and the converters "
          "marked", NULL},
    {"inspect", 0, 0, G_OPTION_ARG_STRING, &opt.inspect,
          "Describe an element, with what matters for sandboxing it",
        "ELEMENT"},
    {NULL}
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *description = NULL;
  int status;

  setlocale (LC_ALL, "");
  context = g_option_context_new ("PIPELINE-DESCRIPTION");
  g_option_context_set_main_group (context, g_option_group_new (NULL, NULL,
          NULL, &opt, NULL));
  g_option_context_set_summary (context, "Build a pipeline like "
      "gst-launch-1.0, solve its caps negotiation globally (inserting the "
      "cheapest converters where links do not negotiate) and run it.");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  /* GOption would take the word after a bare --isolated as its optional
   * value: the pipeline. Patterns come only as --isolated=PATTERNS. */
  for (int i = 1; i < argc && g_strcmp0 (argv[i], "--") != 0; i++)
    if (g_str_equal (argv[i], "--isolated"))
      argv[i] = (char *) "--isolated=";
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    fprintf (stderr, "Error initializing: %s\n", error->message);
    return EXIT_BUILD;
  }
  gst_px_init ();
  if (opt.group && !opt.isolated) {
    fprintf (stderr, "--group says how to isolate: it needs --isolated\n");
    return EXIT_BUILD;
  }
  if (opt.list_elements)
    return list_elements ();
  if (opt.inspect)
    return inspect (opt.inspect);
  if (argc < 2) {
    fprintf (stderr, "Usage: %s [OPTIONS] PIPELINE-DESCRIPTION\n", argv[0]);
    return EXIT_BUILD;
  }
  description = g_strjoinv (" ", argv + 1);
  status = solve_and_run (&opt, description);
  g_free (opt.graph);
  g_free (opt.inspect);
  g_strfreev (opt.patterns);
  gst_deinit ();
  return status;
}
