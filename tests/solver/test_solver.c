/* Parallax — tests of the global caps solver, on the launch-line corpus
 * (corpus.txt) and on what the corpus cannot express.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <parallax/parallax.h>
#include <string.h>

typedef struct
{
  gchar *kind;
  gchar *line;
  GPtrArray *expect;            /* gchar*, one per expectation line */
} Case;

static void
case_free (Case * c)
{
  g_free (c->kind);
  g_free (c->line);
  g_ptr_array_unref (c->expect);
  g_free (c);
}

static GPtrArray *
load_corpus (void)
{
  const gchar *path = g_getenv ("PX_SOLVER_CORPUS");
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *cases = g_ptr_array_new_with_free_func ((GDestroyNotify)
      case_free);
  Case *cur = NULL;

  fail_unless (path != NULL, "PX_SOLVER_CORPUS is not set");
  fail_unless (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    gchar *l = lines[i];
    g_autofree gchar *stripped = g_strstrip (g_strdup (l));

    if (l[0] == '#' || stripped[0] == '\0')
      continue;
    if (l[0] == '[') {
      gchar *close = strchr (l, ']');
      fail_unless (close != NULL, "bad corpus line %s", l);
      cur = g_new0 (Case, 1);
      cur->kind = g_strndup (l + 1, close - l - 1);
      cur->line = g_strstrip (g_strdup (close + 1));
      cur->expect = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (cases, cur);
    } else {
      fail_unless (cur != NULL, "expectation before any case: %s", l);
      g_ptr_array_add (cur->expect, g_strstrip (g_strdup (l)));
    }
  }
  return cases;
}

static GstElement *
parse (GstPxSolver * solver, const gchar * line)
{
  g_autoptr (GError) error = NULL;
  GstElement *pipeline = gst_px_parse_launch (line, solver, &error);

  fail_unless (pipeline != NULL, "%s: %s", line, error ? error->message : "?");
  return gst_object_ref_sink (pipeline);
}

static void
run_to_eos (GstElement * pipeline, const gchar * line)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE, "%s does not start", line);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "%s: no EOS within 30 s", line);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    fail ("%s: error from %s: %s", line, GST_MESSAGE_SRC_NAME (msg),
        err->message);
  }
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

static gchar *
chain_string (const gchar * const *names)
{
  return g_strjoinv (" ! ", (gchar **) names);
}

/* The converters are in the pipeline, of the planned factories, between the
 * planned pads. */
static void
check_inserted (GstElement * pipeline, GstPxConversion * c)
{
  const gchar *const *names = gst_px_conversion_get_element_names (c);
  const gchar *const *factories = gst_px_conversion_get_converters (c);
  g_autoptr (GstElement) head = NULL;
  g_autoptr (GstPad) sink = NULL;
  g_autoptr (GstPad) peer = NULL;
  g_autofree gchar *peer_name = NULL;

  fail_unless_equals_int (g_strv_length ((gchar **) names),
      g_strv_length ((gchar **) factories));
  for (guint i = 0; names[i]; i++) {
    g_autoptr (GstElement) e = gst_bin_get_by_name (GST_BIN (pipeline),
        names[i]);
    fail_unless (e != NULL, "%s is not in the pipeline", names[i]);
    fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory (e)),
        factories[i]);
  }
  head = gst_bin_get_by_name (GST_BIN (pipeline), names[0]);
  sink = gst_element_get_static_pad (head, "sink");
  peer = gst_pad_get_peer (sink);
  fail_unless (peer != NULL);
  peer_name = g_strdup_printf ("%s:%s", GST_DEBUG_PAD_NAME (peer));
  fail_unless_equals_string (peer_name, gst_px_conversion_get_src_pad (c));
}

/* [isolated] and [grouped] lines are read with the untrusted-data
 * parsers in sandboxbins. */
static GstElement *
parse_case (GstPxSolver * solver, Case * c)
{
  g_autoptr (GError) error = NULL;
  GstElement *pipeline;

  if (!g_str_equal (c->kind, "isolated") && !g_str_equal (c->kind, "grouped"))
    return parse (solver, c->line);
  pipeline = gst_px_parse_launch_isolated (c->line, solver, NULL,
      g_str_equal (c->kind, "grouped"), &error);
  fail_unless (pipeline != NULL, "%s: %s", c->line,
      error ? error->message : "?");
  return gst_object_ref_sink (pipeline);
}

static gboolean
not_isolated (GstPxPlan * plan, const gchar * element)
{
  for (guint i = 0; i < gst_px_plan_get_n_diagnostics (plan); i++) {
    GstPxDiagnostic *d = gst_px_plan_get_diagnostic (plan, i);
    if (gst_px_diagnostic_get_code (d) == GST_PX_DIAGNOSTIC_NOT_ISOLATED &&
        g_strcmp0 (gst_px_diagnostic_get_sink_pad (d), element) == 0)
      return TRUE;
  }
  return FALSE;
}

/* "SANDBOXBIN := DESCRIPTION" and "not-isolated ELEMENT"; returns whether
 * @line was one of them. */
static gboolean
check_isolation (GstElement * pipeline, GstPxPlan * plan, Case * c,
    const gchar * line)
{
  const gchar *is = strstr (line, " := ");

  if (g_str_has_prefix (line, "not-isolated ")) {
    g_autoptr (GstElement) e = gst_bin_get_by_name (GST_BIN (pipeline),
        line + strlen ("not-isolated "));
    fail_unless (e != NULL, "%s: %s was replaced", c->line, line);
    fail_unless (not_isolated (plan, line + strlen ("not-isolated ")),
        "%s: no PX-W002 for %s", c->line, line);
    return TRUE;
  }
  if (is) {
    g_autofree gchar *name = g_strndup (line, is - line);
    g_autoptr (GstElement) e = gst_bin_get_by_name (GST_BIN (pipeline), name);
    g_autofree gchar *description = NULL;

    fail_unless (e != NULL, "%s: no %s", c->line, name);
    fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory (e)),
        "sandboxbin");
    g_object_get (e, "description", &description, NULL);
    fail_unless_equals_string (description, is + 4);
    return TRUE;
  }
  return FALSE;
}

static void
check_repair (Case * c)
{
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  g_autoptr (GstElement) pipeline = parse_case (solver, c);
  g_autoptr (GstPxPlan) plan = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *explain = NULL;
  guint conversions = 0;

  plan = gst_px_solver_solve (solver, GST_BIN (pipeline), &error);
  fail_unless (plan != NULL);
  explain = gst_px_plan_explain (plan);
  fail_unless (gst_px_plan_is_solvable (plan), "%s:\n%s", c->line, explain);
  for (guint i = 0; i < c->expect->len; i++) {
    const gchar *line = g_ptr_array_index (c->expect, i);
    g_auto (GStrv) parts = g_strsplit (line, " ", 4);
    GstPxConversion *conv;
    g_autofree gchar *got = NULL;

    if (check_isolation (pipeline, plan, c, line))
      continue;
    conversions++;
    fail_unless (g_strv_length (parts) == 4, "bad expectation");
    conv = gst_px_plan_find_conversion (plan, parts[0], parts[2]);
    fail_unless (conv != NULL, "%s: no conversion on %s ! %s\n%s", c->line,
        parts[0], parts[2], explain);
    got = chain_string (gst_px_conversion_get_converters (conv));
    fail_unless (g_str_equal (got, g_strstrip (parts[3] + 2)),
        "%s: %s ! %s gets %s, expected %s", c->line, parts[0], parts[2],
        got, parts[3] + 2);
    fail_unless (gst_px_plan_find_diagnostic (plan,
            GST_PX_DIAGNOSTIC_CONVERTER_INSERTED) != NULL);
  }
  fail_unless (gst_px_plan_get_n_conversions (plan) == conversions,
      "%s: %u conversions, expected %u\n%s", c->line,
      gst_px_plan_get_n_conversions (plan), conversions, explain);
  fail_unless (gst_px_solver_apply (solver, plan, &error), "%s: %s",
      c->line, error ? error->message : "");
  for (guint i = 0; i < gst_px_plan_get_n_conversions (plan); i++)
    check_inserted (pipeline, gst_px_plan_get_conversion (plan, i));
  run_to_eos (pipeline, c->line);
}

static void
check_native (Case * c)
{
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  g_autoptr (GstElement) pipeline = parse (solver, c->line);
  g_autoptr (GstPxPlan) plan = NULL;
  guint before, after;

  before = GST_BIN (pipeline)->numchildren;
  plan = gst_px_solver_solve (solver, GST_BIN (pipeline), NULL);
  fail_unless (plan != NULL);
  fail_unless (gst_px_plan_is_solvable (plan), "%s", c->line);
  fail_if (gst_px_plan_changes_pipeline (plan), "%s would change", c->line);
  fail_unless_equals_int (gst_px_plan_get_n_conversions (plan), 0);
  fail_unless (gst_px_solver_apply (solver, plan, NULL));
  after = GST_BIN (pipeline)->numchildren;
  fail_unless_equals_int (before, after);
  run_to_eos (pipeline, c->line);
}

static GstPxDiagnostic *
find_code (GstPxPlan * plan, const gchar * code)
{
  for (guint i = 0; i < gst_px_plan_get_n_diagnostics (plan); i++) {
    GstPxDiagnostic *d = gst_px_plan_get_diagnostic (plan, i);
    if (g_str_equal (gst_px_diagnostic_get_code_string (d), code))
      return d;
  }
  return NULL;
}

static void
check_impossible (Case * c)
{
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  g_autoptr (GstElement) pipeline = parse (solver, c->line);
  g_autoptr (GstPxPlan) plan = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *explain = NULL;
  g_auto (GStrv) parts = NULL;
  g_auto (GStrv) fields = NULL;
  GstPxDiagnostic *d;
  guint before = GST_BIN (pipeline)->numchildren;

  fail_unless_equals_int (c->expect->len, 1);
  parts = g_strsplit (g_ptr_array_index (c->expect, 0), " ", 5);
  fail_unless (g_strv_length (parts) == 5, "bad expectation");
  plan = gst_px_solver_solve (solver, GST_BIN (pipeline), NULL);
  explain = gst_px_plan_explain (plan);
  fail_if (gst_px_plan_is_solvable (plan), "%s solved:\n%s", c->line, explain);
  d = find_code (plan, parts[0]);
  fail_unless (d != NULL, "%s: no %s in\n%s", c->line, parts[0], explain);
  fail_unless_equals_int (gst_px_diagnostic_get_severity (d),
      GST_PX_SEVERITY_ERROR);
  fail_unless_equals_string (gst_px_diagnostic_get_src_pad (d), parts[1]);
  fail_unless_equals_string (gst_px_diagnostic_get_sink_pad (d), parts[3]);
  fields = g_strsplit (parts[4], ",", -1);
  for (guint i = 0; fields[i]; i++) {
    gboolean conflict = FALSE;
    fail_unless (gst_px_diagnostic_get_field (d, fields[i], NULL, NULL,
            &conflict), "%s: no field %s", c->line, fields[i]);
    fail_unless (conflict, "%s: %s not marked as conflicting\n%s", c->line,
        fields[i], explain);
  }
  fail_unless (gst_px_diagnostic_get_suggestion (d) != NULL);
  fail_unless (strstr (explain, parts[1]) && strstr (explain, parts[3]));
  /* Nothing to apply, and nothing changed. */
  fail_if (gst_px_solver_apply (solver, plan, &error));
  fail_unless (g_error_matches (error, GST_PX_SOLVER_ERROR,
          GST_PX_SOLVER_ERROR_UNSOLVABLE));
  fail_unless_equals_int (GST_BIN (pipeline)->numchildren, before);
}

/* Solved, not run: its sinks need peers. */
static void
check_copies (Case * c)
{
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  g_autoptr (GstElement) pipeline = parse (solver, c->line);
  g_autoptr (GstPxPlan) plan = gst_px_solver_solve (solver,
      GST_BIN (pipeline), NULL);
  g_autofree gchar *explain = gst_px_plan_explain (plan);
  g_autofree gchar *json = gst_px_plan_to_json (plan);
  g_autofree gchar *dot = gst_px_plan_to_dot (plan);

  fail_unless (gst_px_plan_is_solvable (plan), "%s:\n%s", c->line, explain);
  for (guint i = 0; i < c->expect->len; i++) {
    g_auto (GStrv) parts = g_strsplit (g_ptr_array_index (c->expect, i), " ",
        3);
    const gchar *reason = gst_px_plan_get_link_copy_reason (plan, parts[0]);

    if (g_str_equal (parts[1], "not-copied")) {
      fail_unless (reason == NULL, "%s: %s copies: %s", c->line, parts[0],
          reason);
      continue;
    }
    fail_unless (g_str_equal (parts[1], "copied") && parts[2], "bad "
        "expectation %s", (gchar *) g_ptr_array_index (c->expect, i));
    fail_unless (reason != NULL, "%s: %s does not copy\n%s", c->line,
        parts[0], explain);
    fail_unless (strstr (reason, parts[2]) != NULL, "%s: %s: %s", c->line,
        parts[0], reason);
    fail_unless (strstr (explain, reason) != NULL, "%s: not explained",
        c->line);
    fail_unless (strstr (json, "\"copied\":true") != NULL);
    fail_unless (strstr (dot, "copied: ") != NULL);
  }
}

static void
run_corpus (const gchar * kind, void (*check) (Case *))
{
  g_autoptr (GPtrArray) cases = load_corpus ();
  guint n = 0;

  for (guint i = 0; i < cases->len; i++) {
    Case *c = g_ptr_array_index (cases, i);
    if (g_str_equal (c->kind, kind)) {
      GST_INFO ("%s: %s", kind, c->line);
      check (c);
      n++;
    }
  }
  fail_unless (n > 0, "no %s case in the corpus", kind);
}

GST_START_TEST (test_corpus_repairs_with_minimum_converters)
{
  run_corpus ("repair", check_repair);
}

GST_END_TEST;

GST_START_TEST (test_corpus_isolated_pipelines_see_through_sandboxbins)
{
  run_corpus ("isolated", check_repair);
}

GST_END_TEST;

GST_START_TEST (test_corpus_grouped_elements_share_a_sandboxbin)
{
  run_corpus ("grouped", check_repair);
}

GST_END_TEST;

GST_START_TEST (test_corpus_copies_reported_with_their_reason)
{
  run_corpus ("copies", check_copies);
}

GST_END_TEST;

GST_START_TEST (test_corpus_negotiating_pipelines_unchanged)
{
  run_corpus ("native", check_native);
}

GST_END_TEST;

GST_START_TEST (test_corpus_impossible_pipelines_explained)
{
  run_corpus ("impossible", check_impossible);
}

GST_END_TEST;

static gboolean
is_solver_link (GstMessage * msg, gpointer unused)
{
  return GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
      gst_message_has_name (msg, "parallax-solver-link");
}

/* A demuxer's pad appears only once data flows: the link is solved then,
 * with the same search, and says so on the bus. */
GST_START_TEST (test_dynamic_pad_solved_when_it_appears)
{
  g_autofree gchar *dir = g_dir_make_tmp ("px-solver-XXXXXX", NULL);
  g_autofree gchar *file = g_build_filename (dir, "rgb.mkv", NULL);
  g_autofree gchar *make = g_strdup_printf ("videotestsrc num-buffers=5 ! "
      "video/x-raw,format=RGB,width=64,height=48 ! matroskamux ! "
      "filesink location=%s", file);
  g_autofree gchar *play = g_strdup_printf ("filesrc location=%s ! "
      "matroskademux ! video/x-raw,format=I420 ! fakesink", file);
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  g_autoptr (GstElement) writer = parse (solver, make);
  g_autoptr (GstElement) reader = NULL;
  g_autoptr (GstPxPlan) plan = NULL;
  g_autoptr (GstBus) bus = NULL;
  GstMessage *msg;
  const GstStructure *s;

  run_to_eos (writer, make);
  reader = parse (solver, play);
  plan = gst_px_solver_solve (solver, GST_BIN (reader), NULL);
  fail_unless (gst_px_plan_is_solvable (plan));
  fail_unless (gst_px_plan_find_diagnostic (plan,
          GST_PX_DIAGNOSTIC_DYNAMIC_LINK) != NULL);
  fail_unless (gst_px_solver_apply (solver, plan, NULL));

  bus = gst_element_get_bus (reader);
  gst_bus_set_flushing (bus, FALSE);
  fail_unless (gst_element_set_state (reader, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);
  while (msg && !is_solver_link (msg, NULL) &&
      GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR) {
    gst_message_unref (msg);
    msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);
  }
  fail_unless (msg != NULL && is_solver_link (msg, NULL));
  s = gst_message_get_structure (msg);
  fail_unless_equals_string (gst_structure_get_string (s, "converters"),
      "videoconvert");
  fail_unless_equals_string (gst_structure_get_string (s, "sink-pad"),
      "capsfilter0:sink");
  gst_message_unref (msg);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (reader, GST_STATE_NULL);
  g_unlink (file);
  g_rmdir (dir);
}

GST_END_TEST;

static void
push_frames (GstElement * src, guint count, gsize size, guint start)
{
  for (guint i = 0; i < count; i++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
    GstFlowReturn ret;

    gst_buffer_memset (buf, 0, 0x80, size);
    GST_BUFFER_PTS (buf) = (start + i) * GST_SECOND / 10;
    GST_BUFFER_DURATION (buf) = GST_SECOND / 10;
    g_signal_emit_by_name (src, "push-buffer", buf, &ret);
    gst_buffer_unref (buf);
    fail_unless_equals_int (ret, GST_FLOW_OK);
  }
}

/* A source changes caps while it runs, to caps the link it negotiated
 * refuses: the link is solved again and a converter goes in before the new
 * caps pass. */
GST_START_TEST (test_mid_stream_caps_change_gets_converter)
{
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  g_autoptr (GstElement) pipeline = parse (solver,
      "appsrc name=src format=time "
      "caps=video/x-raw,format=RGB,width=16,height=16,framerate=10/1 ! "
      "video/x-raw,format=RGB,width=16,height=16 ! fakesink");
  g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  g_autoptr (GstPxPlan) plan = gst_px_solver_solve (solver,
      GST_BIN (pipeline), NULL);
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr (GstCaps) i420 = gst_caps_from_string
      ("video/x-raw,format=I420,width=16,height=16,framerate=10/1");
  GstMessage *msg;
  gboolean relinked = FALSE;

  fail_if (gst_px_plan_changes_pipeline (plan));
  fail_unless (gst_px_solver_apply (solver, plan, NULL));
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  push_frames (src, 2, 16 * 16 * 3, 0);
  g_object_set (src, "caps", i420, NULL);
  push_frames (src, 2, 16 * 16 * 3 / 2, 2);
  g_signal_emit_by_name (src, "end-of-stream", &(GstFlowReturn) {
      0}
  );
  while ((msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
              GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT))) {
    GstMessageType type = GST_MESSAGE_TYPE (msg);
    if (is_solver_link (msg, NULL)) {
      const GstStructure *st = gst_message_get_structure (msg);
      fail_unless_equals_string (gst_structure_get_string (st, "reason"),
          "caps-changed");
      fail_unless_equals_string (gst_structure_get_string (st, "converters"),
          "videoconvert");
      fail_unless_equals_string (gst_structure_get_string (st, "sink-pad"),
          "capsfilter0:sink");
      relinked = TRUE;
    }
    fail_if (type == GST_MESSAGE_ERROR, "the caps change failed");
    gst_message_unref (msg);
    if (type == GST_MESSAGE_EOS)
      break;
  }
  fail_unless (relinked);
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

GST_END_TEST;

/* A link into ipcsink is where the producer should write into shared
 * memory: the plan says the arena pool is there. */
GST_START_TEST (test_ipcsink_link_gets_arena_pool)
{
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  g_autoptr (GstElement) pipeline = parse (solver,
      "videotestsrc ! video/x-raw,format=RGB ! queue ! "
      "video/x-raw,format=I420 ! ipcsink socket-path=@px-solver-test");
  g_autoptr (GstPxPlan) plan = gst_px_solver_solve (solver,
      GST_BIN (pipeline), NULL);
  g_autofree gchar *json = gst_px_plan_to_json (plan);
  GstPxDiagnostic *d;

  fail_unless (gst_px_plan_is_solvable (plan));
  d = gst_px_plan_find_diagnostic (plan, GST_PX_DIAGNOSTIC_ARENA_POOL);
  fail_unless (d != NULL);
  fail_unless_equals_string (gst_px_diagnostic_get_sink_pad (d),
      "ipcsink0:sink");
  fail_unless (strstr (json, "\"arena_pool\":true") != NULL);
  /* The converter goes before the capsfilter, not between it and the
   * ipcsink: nothing is copied after the pool. */
  fail_unless (gst_px_plan_find_conversion (plan, "queue0:src",
          "capsfilter1:sink") != NULL);
}

GST_END_TEST;

/* A converter that moves buffers into another memory type copies them: the
 * plan says so on its link. */
GST_START_TEST (test_memory_change_is_a_copy)
{
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  g_autoptr (GstPxConverterRegistry) registry =
      gst_px_converter_registry_new ();
  g_autoptr (GstPxConverter) upload = gst_px_converter_new ("identity",
      "video/x-raw", NULL, 20);
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstPxPlan) plan = NULL;
  const gchar *reason;

  gst_px_converter_set_memory (upload, "memory:SystemMemory",
      "memory:GLMemory");
  fail_unless (gst_px_converter_registry_add (registry, upload, NULL));
  gst_px_solver_set_registry (solver, registry);
  pipeline = parse (solver, "videotestsrc ! video/x-raw(memory:GLMemory) ! "
      "fakesink");
  plan = gst_px_solver_solve (solver, GST_BIN (pipeline), NULL);
  fail_unless (gst_px_plan_is_solvable (plan));
  reason = gst_px_plan_get_link_copy_reason (plan, "videotestsrc0:src");
  fail_unless (reason != NULL);
  fail_unless (strstr (reason, "memory:GLMemory") != NULL, "%s", reason);
  fail_unless (gst_px_plan_find_diagnostic (plan,
          GST_PX_DIAGNOSTIC_BUFFERS_COPIED) != NULL);
  fail_unless (gst_px_plan_get_link_copy_reason (plan, "capsfilter0:src") ==
      NULL);
}

GST_END_TEST;

/* The inputs of a muxer are chosen together, the plan says how each goes
 * in, and the file has both streams. */
GST_START_TEST (test_muxer_inputs_noted)
{
  g_autofree gchar *dir = g_dir_make_tmp ("px-solver-XXXXXX", NULL);
  g_autofree gchar *file = g_build_filename (dir, "both.mp4", NULL);
  g_autofree gchar *write = g_strdup_printf ("videotestsrc num-buffers=5 ! "
      "video/x-raw,format=RGBA ! m. audiotestsrc num-buffers=5 ! m. "
      "mp4mux name=m ! filesink location=%s", file);
  g_autofree gchar *read = g_strdup_printf ("filesrc location=%s ! "
      "qtdemux name=d d.video_0 ! queue ! fakesink d.audio_0 ! queue ! "
      "fakesink", file);
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  g_autoptr (GstElement) pipeline = parse (solver, write);
  g_autoptr (GstElement) reader = NULL;
  g_autoptr (GstPxPlan) plan = gst_px_solver_solve (solver,
      GST_BIN (pipeline), NULL);
  GstPxDiagnostic *d;

  fail_unless (gst_px_plan_is_solvable (plan));
  d = gst_px_plan_find_diagnostic (plan, GST_PX_DIAGNOSTIC_MUXER_INPUTS);
  fail_unless (d != NULL);
  fail_unless_equals_string (gst_px_diagnostic_get_sink_pad (d), "m");
  /* No template takes raw video as it is; mp4mux's first is audio_%u,
   * which a link made by template order would have given the video. */
  fail_unless (gst_px_plan_find_conversion (plan, "capsfilter0:src",
          "m:video_0") != NULL);
  fail_unless (gst_px_plan_find_conversion (plan, "audiotestsrc0:src",
          "m:audio_0") != NULL);
  fail_unless (gst_px_solver_apply (solver, plan, NULL));
  run_to_eos (pipeline, write);
  reader = gst_object_ref_sink (gst_parse_launch (read, NULL));
  run_to_eos (reader, read);
  g_unlink (file);
  g_rmdir (dir);
}

GST_END_TEST;

/* Solving leaves the bin as it was: same links, request pads returned. */
GST_START_TEST (test_solve_without_apply_changes_nothing)
{
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  g_autoptr (GstElement) pipeline = parse (solver,
      "videotestsrc ! video/x-raw,format=RGB ! x264enc ! "
      "matroskamux name=m ! fakesink");
  g_autoptr (GstElement) enc = gst_bin_get_by_name (GST_BIN (pipeline),
      "x264enc0");
  g_autoptr (GstElement) cf = gst_bin_get_by_name (GST_BIN (pipeline),
      "capsfilter0");
  g_autoptr (GstElement) mux = gst_bin_get_by_name (GST_BIN (pipeline), "m");
  g_autoptr (GstPad) cf_src = gst_element_get_static_pad (cf, "src");
  g_autoptr (GstPad) enc_src = gst_element_get_static_pad (enc, "src");
  g_autoptr (GstPad) enc_peer = gst_pad_get_peer (enc_src);
  guint mux_pads = mux->numsinkpads;
  guint children = GST_BIN (pipeline)->numchildren;
  GstPxPlan *plan;

  for (guint round = 0; round < 2; round++) {
    plan = gst_px_solver_solve (solver, GST_BIN (pipeline), NULL);
    fail_unless_equals_int (gst_px_plan_get_n_conversions (plan), 1);
    g_object_unref (plan);
    fail_if (gst_pad_is_linked (cf_src));
    fail_unless_equals_int (GST_BIN (pipeline)->numchildren, children);
    fail_unless_equals_int (mux->numsinkpads, mux_pads);
    {
      g_autoptr (GstPad) peer = gst_pad_get_peer (enc_src);
      fail_unless (peer == enc_peer);
    }
  }
}

GST_END_TEST;

GST_START_TEST (test_solve_refuses_a_playing_bin)
{
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  g_autoptr (GstElement) pipeline = parse (solver,
      "fakesrc is-live=true ! fakesink sync=false");
  g_autoptr (GError) error = NULL;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  gst_element_get_state (pipeline, NULL, NULL, 5 * GST_SECOND);
  fail_unless (gst_px_solver_solve (solver, GST_BIN (pipeline),
          &error) == NULL);
  fail_unless (g_error_matches (error, GST_PX_SOLVER_ERROR,
          GST_PX_SOLVER_ERROR_STATE));
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

GST_END_TEST;

/* An application that builds its pipeline itself asks for the links it
 * could not make. */
GST_START_TEST (test_request_link_from_application)
{
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  GstElement *pipeline = gst_pipeline_new ("app");
  GstElement *src = gst_element_factory_make ("audiotestsrc", "src");
  GstElement *filter = gst_element_factory_make ("capsfilter", "want");
  GstElement *sink = gst_element_factory_make ("fakesink", "sink");
  g_autoptr (GstCaps) caps =
      gst_caps_from_string ("audio/x-raw,rate=22050,channels=2");
  g_autoptr (GstPxPlan) plan = NULL;
  GstPxConversion *conv;

  gst_object_ref_sink (pipeline);
  g_object_set (src, "num-buffers", 5, NULL);
  g_object_set (filter, "caps", caps, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, filter, sink, NULL);
  fail_unless (gst_element_link (filter, sink));
  g_object_set (src, "samplesperbuffer", 441, NULL);
  {
    g_autoptr (GstCaps) mono =
        gst_caps_from_string ("audio/x-raw,rate=44100,channels=1");
    GstElement *srcfilter = gst_element_factory_make ("capsfilter", "mono");
    g_object_set (srcfilter, "caps", mono, NULL);
    gst_bin_add (GST_BIN (pipeline), srcfilter);
    fail_unless (gst_element_link (src, srcfilter));
    fail_if (gst_element_link (srcfilter, filter));
    gst_px_solver_request_link (solver, srcfilter, "src", filter, NULL);
  }
  plan = gst_px_solver_solve (solver, GST_BIN (pipeline), NULL);
  conv = gst_px_plan_find_conversion (plan, "mono:src", "want:sink");
  fail_unless (conv != NULL);
  {
    g_autofree gchar *chain =
        chain_string (gst_px_conversion_get_converters (conv));
    fail_unless_equals_string (chain, "audioconvert ! audioresample");
  }
  fail_unless (gst_px_solver_apply (solver, plan, NULL));
  run_to_eos (pipeline, "application pipeline");
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* The solver inserts only what its registry holds, and applications add
 * their own converters. */
GST_START_TEST (test_registry_decides_what_is_inserted)
{
  const gchar *line = "videotestsrc num-buffers=5 ! "
      "video/x-raw,format=RGB,width=64,height=48 ! "
      "video/x-raw,format=I420,width=32,height=24 ! fakesink";
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  g_autoptr (GstPxConverterRegistry) empty = gst_px_converter_registry_new ();
  g_autoptr (GstPxConverter) both = NULL;
  g_autoptr (GstElement) pipeline = parse (solver, line);
  g_autoptr (GstPxPlan) plan = NULL;
  g_autoptr (GError) error = NULL;
  const gchar *fields[] = { "format", "width", "height", NULL };
  GstPxConverter *bogus;

  gst_px_solver_set_registry (solver, empty);
  plan = gst_px_solver_solve (solver, GST_BIN (pipeline), NULL);
  fail_if (gst_px_plan_is_solvable (plan));
  fail_unless (gst_px_plan_find_diagnostic (plan,
          GST_PX_DIAGNOSTIC_NO_CONVERSION) != NULL);
  g_clear_object (&plan);

  /* One element that converts and scales, cheaper than two. */
  both = gst_px_converter_new ("videoconvertscale", "video/x-raw", fields, 15);
  fail_unless (gst_px_converter_registry_add (empty, both, NULL));
  bogus = gst_px_converter_new ("no-such-element", "video/x-raw", fields, 1);
  fail_if (gst_px_converter_registry_add (empty, bogus, &error));
  fail_unless (error != NULL);
  g_object_unref (bogus);

  plan = gst_px_solver_solve (solver, GST_BIN (pipeline), NULL);
  fail_unless (gst_px_plan_is_solvable (plan));
  fail_unless_equals_int (gst_px_plan_get_n_conversions (plan), 1);
  fail_unless_equals_string (gst_px_conversion_get_converters
      (gst_px_plan_get_conversion (plan, 0))[0], "videoconvertscale");
  fail_unless (gst_px_solver_apply (solver, plan, NULL));
  run_to_eos (pipeline, line);
}

GST_END_TEST;

GST_START_TEST (test_json_and_graph)
{
  g_autoptr (GstPxSolver) solver = gst_px_solver_new ();
  g_autoptr (GstElement) pipeline = parse (solver,
      "videotestsrc ! video/x-raw,format=RGB ! x264enc ! fakesink");
  g_autoptr (GstPxPlan) plan = gst_px_solver_solve (solver,
      GST_BIN (pipeline), NULL);
  g_autofree gchar *json = NULL;
  g_autofree gchar *dot = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("px-solver-XXXXXX", NULL);
  g_autofree gchar *file = g_build_filename (dir, "plan.dot", NULL);
  g_autofree gchar *written = NULL;

  fail_unless (gst_px_solver_apply (solver, plan, NULL));
  json = gst_px_plan_to_json (plan);
  fail_unless (g_str_has_prefix (json, "{\"solvable\":true,\"applied\":true"));
  fail_unless (strstr (json, "\"converters\":[\"videoconvert\"]") != NULL);
  fail_unless (strstr (json, "\"elements\":[\"px-videoconvert0\"]") != NULL);
  fail_unless (strstr (json, "\"code\":\"PX-N001\"") != NULL);
  dot = gst_px_plan_to_dot (plan);
  fail_unless (g_str_has_prefix (dot, "digraph pipeline {"));
  fail_unless (strstr (dot, "\"capsfilter0\" -> \"px-videoconvert0\"") != NULL);
  fail_unless (strstr (dot, "\"px-videoconvert0\" -> \"x264enc0\"") != NULL);
  fail_unless (gst_px_plan_write_graph (plan, file, NULL));
  fail_unless (g_file_get_contents (file, &written, NULL, NULL));
  fail_unless_equals_string (written, dot);
  g_unlink (file);
  g_rmdir (dir);
}

GST_END_TEST;

GST_START_TEST (test_parse_errors)
{
  g_autoptr (GError) error = NULL;
  GstElement *p;

  p = gst_px_parse_launch ("videotestsrc ! fakesinkk", NULL, &error);
  fail_unless (p == NULL);
  fail_unless (strstr (error->message, "did you mean \"fakesink\"") != NULL,
      "%s", error->message);
  g_clear_error (&error);
  fail_unless (gst_px_parse_launch ("videotestsrc !", NULL, &error) == NULL);
  g_clear_error (&error);
  fail_unless (gst_px_parse_launch ("! fakesink", NULL, &error) == NULL);
  g_clear_error (&error);
  fail_unless (gst_px_parse_launch ("fakesrc nosuch=1 ! fakesink", NULL,
          &error) == NULL);
  g_clear_error (&error);
  fail_unless (gst_px_parse_launch ("fakesrc ! x.", NULL, &error) == NULL);
  g_clear_error (&error);
  fail_unless (gst_px_parse_launch ("fakesrc name=\"unterminated ! fakesink",
          NULL, &error) == NULL);
  g_clear_error (&error);
  /* Without a solver, a link GStreamer refuses is an error, as with
   * gst_parse_launch(). */
  fail_unless (gst_px_parse_launch ("videotestsrc ! vorbisenc ! fakesink",
          NULL, &error) == NULL);
  g_clear_error (&error);
  /* Quotes, caps features, bins in parentheses, named references. */
  p = gst_px_parse_launch ("fakesrc num-buffers=1 name=\"my src\" ! "
      "video/x-raw(memory:NVMM) ! fakesink "
      "( fakesrc num-buffers=1 ! queue ! my.sink fakesink name=my )", NULL,
      &error);
  fail_unless (p != NULL, "%s", error ? error->message : "");
  {
    g_autoptr (GstElement) named = gst_bin_get_by_name (GST_BIN (p), "my src");
    g_autoptr (GstElement) inner = gst_bin_get_by_name (GST_BIN (p), "my");
    g_autoptr (GstElement) filter = gst_bin_get_by_name (GST_BIN (p),
        "capsfilter0");
    g_autoptr (GstCaps) caps = NULL;
    g_autofree gchar *str = NULL;

    fail_unless (named != NULL && inner != NULL && filter != NULL);
    fail_unless (GST_OBJECT_PARENT (inner) != GST_OBJECT (p));
    g_object_get (filter, "caps", &caps, NULL);
    str = gst_caps_to_string (caps);
    fail_unless_equals_string (str, "video/x-raw(memory:NVMM)");
  }
  gst_object_unref (gst_object_ref_sink (p));
}

GST_END_TEST;

static Suite *
solver_suite (void)
{
  Suite *s = suite_create ("solver");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 240);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_corpus_repairs_with_minimum_converters);
  tcase_add_test (tc, test_corpus_isolated_pipelines_see_through_sandboxbins);
  tcase_add_test (tc, test_corpus_grouped_elements_share_a_sandboxbin);
  tcase_add_test (tc, test_corpus_copies_reported_with_their_reason);
  tcase_add_test (tc, test_corpus_negotiating_pipelines_unchanged);
  tcase_add_test (tc, test_corpus_impossible_pipelines_explained);
  tcase_add_test (tc, test_dynamic_pad_solved_when_it_appears);
  tcase_add_test (tc, test_mid_stream_caps_change_gets_converter);
  tcase_add_test (tc, test_ipcsink_link_gets_arena_pool);
  tcase_add_test (tc, test_memory_change_is_a_copy);
  tcase_add_test (tc, test_muxer_inputs_noted);
  tcase_add_test (tc, test_solve_without_apply_changes_nothing);
  tcase_add_test (tc, test_solve_refuses_a_playing_bin);
  tcase_add_test (tc, test_request_link_from_application);
  tcase_add_test (tc, test_registry_decides_what_is_inserted);
  tcase_add_test (tc, test_json_and_graph);
  tcase_add_test (tc, test_parse_errors);
  return s;
}

GST_CHECK_MAIN (solver);
