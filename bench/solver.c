/* Parallax — benchmark of the global caps solver.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   <builddir>/bench/parallax-bench-solver [--runs N] [--seconds S]
 *       [--markdown] [--corpus tests/solver/corpus.txt]
 *
 * 1. Solve time for generated pipelines of about 10, 50 and 200 elements,
 *    of two shapes: a chain whose capsfilters alternate formats (every
 *    second link needs a converter) and a tee fanning out to branches that
 *    want different formats. Reported: the median time of one
 *    gst_px_solver_solve() over --runs runs (each calibrated to about
 *    --seconds), the caps queries one solve issues and answers, the
 *    conversions found, and the anchor: GStreamer bringing the same
 *    pipeline, repaired by hand, to PAUSED (parse, negotiate, preroll,
 *    back to NULL).
 * 2. On the corpus of the tests: converters the solver inserts against the
 *    minimum the corpus states, and against the idiom of writing
 *    videoconvert (video) or audioconvert ! audioresample (audio) on every
 *    link that fails, with whether that idiom would even negotiate.
 */
#include <parallax/parallax.h>
#include <stdio.h>
#include <string.h>

#include "bench-util.h"

typedef struct
{
  const gchar *shape;
  guint target;                 /* elements asked for */
  gchar *line;                  /* what the solver gets */
  gchar *fixed;                 /* the same, repaired by hand */
  guint elements;
  guint conversions;
  guint queries;
  GArray *solve_ms;             /* gdouble per run */
  GArray *anchor_ms;
} Case;

static const gchar *formats[] = { "I420", "RGB", "NV12", "BGRx" };

/* videotestsrc ! (capsfilter ! identity)* ! fakesink, formats alternating:
 * each identity ! capsfilter link needs a videoconvert. */
static void
make_chain (Case * c)
{
  GString *line = g_string_new ("videotestsrc num-buffers=1");
  GString *fixed = g_string_new ("videotestsrc num-buffers=1");
  guint pairs = (c->target - 2) / 2;

  for (guint i = 0; i < pairs; i++) {
    const gchar *f = formats[i % 2];
    g_string_append_printf (line, " ! video/x-raw,format=%s ! identity", f);
    g_string_append_printf (fixed, "%s ! video/x-raw,format=%s ! identity",
        i ? " ! videoconvert" : "", f);
  }
  g_string_append (line, " ! fakesink");
  g_string_append (fixed, " ! fakesink");
  c->elements = 2 + 2 * pairs;
  c->line = g_string_free (line, FALSE);
  c->fixed = g_string_free (fixed, FALSE);
}

/* videotestsrc ! video/x-raw,format=RGB ! tee, then branches queue !
 * capsfilter ! fakesink wanting the four formats in turn. */
static void
make_tee (Case * c)
{
  GString *line = g_string_new ("videotestsrc num-buffers=1 ! "
      "video/x-raw,format=RGB ! tee name=t");
  GString *fixed = g_string_new (line->str);
  guint branches = (c->target - 3) / 3;

  for (guint i = 0; i < branches; i++) {
    const gchar *f = formats[i % G_N_ELEMENTS (formats)];
    g_string_append_printf (line, " t. ! queue ! video/x-raw,format=%s ! "
        "fakesink", f);
    g_string_append_printf (fixed, " t. ! queue%s ! video/x-raw,format=%s ! "
        "fakesink", g_str_equal (f, "RGB") ? "" : " ! videoconvert", f);
  }
  c->elements = 3 + 3 * branches;
  c->line = g_string_free (line, FALSE);
  c->fixed = g_string_free (fixed, FALSE);
}

static gdouble
solve_once (GstPxSolver * solver, GstBin * bin, Case * c)
{
  gint64 t0 = bench_now_ns ();
  g_autoptr (GstPxPlan) plan = gst_px_solver_solve (solver, bin, NULL);
  gdouble ms = (bench_now_ns () - t0) / 1e6;

  g_assert (plan != NULL && gst_px_plan_is_solvable (plan));
  c->conversions = gst_px_plan_get_n_conversions (plan);
  c->queries = gst_px_plan_get_caps_queries (plan);
  return ms;
}

static gdouble
anchor_once (Case * c)
{
  gint64 t0 = bench_now_ns ();
  g_autoptr (GError) error = NULL;
  GstElement *p = gst_parse_launch (c->fixed, &error);
  gdouble ms;

  g_assert (p != NULL);
  gst_object_ref_sink (p);
  gst_element_set_state (p, GST_STATE_PAUSED);
  g_assert (gst_element_get_state (p, NULL, NULL, 10 * GST_SECOND) ==
      GST_STATE_CHANGE_SUCCESS);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  ms = (bench_now_ns () - t0) / 1e6;
  return ms;
}

static gdouble
median (GArray * values, gdouble * spread)
{
  g_autoptr (GArray) v = g_array_copy (values);
  gdouble med;

  g_array_sort (v, bench_compare_doubles);
  med = g_array_index (v, gdouble, v->len / 2);
  *spread = med > 0 ? (g_array_index (v, gdouble, v->len - 1) -
      g_array_index (v, gdouble, 0)) / med : 0;
  return med;
}

/* How many times to repeat @fn so that one run lasts about @seconds. */
static guint
calibrate (gdouble once_ms, gdouble seconds)
{
  return CLAMP ((guint) (seconds * 1000 / MAX (once_ms, 0.001)), 1, 10000);
}

static void
bench_solve (guint runs, gdouble seconds, gboolean markdown)
{
  static const guint sizes[] = { 10, 50, 200 };
  Case cases[6];
  GstElement *pipelines[6];
  GstPxSolver *solvers[6];
  guint reps[6], anchor_reps[6];
  gdouble worst = 0;

  for (guint i = 0; i < 6; i++) {
    Case *c = &cases[i];
    memset (c, 0, sizeof (*c));
    c->shape = i < 3 ? "chain" : "tee";
    c->target = sizes[i % 3];
    if (i < 3)
      make_chain (c);
    else
      make_tee (c);
    c->solve_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
    c->anchor_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
    solvers[i] = gst_px_solver_new ();
    pipelines[i] = gst_object_ref_sink (gst_px_parse_launch (c->line,
            solvers[i], NULL));
    reps[i] = calibrate (solve_once (solvers[i], GST_BIN (pipelines[i]), c),
        seconds);
    anchor_reps[i] = calibrate (anchor_once (c), seconds);
  }
  /* Runs interleaved: run r of every case, then run r + 1. */
  for (guint r = 0; r < runs; r++) {
    for (guint i = 0; i < 6; i++) {
      Case *c = &cases[i];
      gdouble total = 0, mean;
      for (guint k = 0; k < reps[i]; k++)
        total += solve_once (solvers[i], GST_BIN (pipelines[i]), c);
      mean = total / reps[i];
      g_array_append_val (c->solve_ms, mean);
      total = 0;
      for (guint k = 0; k < anchor_reps[i]; k++)
        total += anchor_once (c);
      mean = total / anchor_reps[i];
      g_array_append_val (c->anchor_ms, mean);
    }
  }
  printf (markdown ? "| Shape | Elements | Conversions | Caps queries / "
      "solve | Solve (ms) | Anchor: GStreamer to PAUSED, repaired by hand "
      "(ms) | Solve / anchor |\n|---|---|---|---|---|---|---|\n" :
      "%-6s %8s %11s %8s %10s %10s %8s\n", "shape", "elements",
      "conversions", "queries", "solve ms", "anchor ms", "ratio");
  for (guint i = 0; i < 6; i++) {
    Case *c = &cases[i];
    gdouble s1, s2;
    gdouble solve = median (c->solve_ms, &s1);
    gdouble anchor = median (c->anchor_ms, &s2);
    worst = MAX (worst, MAX (s1, s2));
    printf (markdown ? "| %s | %u | %u | %u | %.2f | %.2f | %.2fx |\n" :
        "%-6s %8u %11u %8u %10.2f %10.2f %7.2fx\n", c->shape, c->elements,
        c->conversions, c->queries, solve, anchor, solve / anchor);
  }
  printf ("\nLargest run-to-run spread: %.0f%% (%u runs)\n\n", worst * 100,
      runs);
  for (guint i = 0; i < 6; i++) {
    gst_object_unref (pipelines[i]);
    g_object_unref (solvers[i]);
    g_free (cases[i].line);
    g_free (cases[i].fixed);
    g_array_unref (cases[i].solve_ms);
    g_array_unref (cases[i].anchor_ms);
  }
}

static const gchar *
klass_of (const gchar * factory)
{
  g_autoptr (GstElementFactory) f = gst_element_factory_find (factory);
  const gchar *klass = f ? gst_element_factory_get_metadata (f,
      GST_ELEMENT_METADATA_KLASS) : NULL;

  return klass ? g_intern_string (klass) : "";
}

/* What the idiom covers: videoconvert changes the format, audioconvert !
 * audioresample format, channels and rate; neither encodes (a muxer's
 * input that must be encoded). */
static gboolean
idiom_covers (GstPxConversion * conv, gboolean audio)
{
  const gchar *const *fields = gst_px_conversion_get_fields (conv);
  const gchar *const *converters = gst_px_conversion_get_converters (conv);

  for (guint i = 0; converters[i]; i++)
    if (strstr (klass_of (converters[i]), "Encoder"))
      return FALSE;

  for (guint i = 0; fields[i]; i++) {
    if (audio ? !(g_str_equal (fields[i], "format") ||
            g_str_equal (fields[i], "channels") ||
            g_str_equal (fields[i], "rate") ||
            g_str_equal (fields[i], "layout")) :
        !(g_str_equal (fields[i], "format") ||
            g_str_equal (fields[i], "colorimetry")))
      return FALSE;
  }
  return TRUE;
}

static void
bench_corpus (const gchar * path, gboolean markdown)
{
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;
  guint total_solver = 0, total_min = 0, total_idiom = 0, idiom_fails = 0;
  guint cases = 0, exact = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL)) {
    fprintf (stderr, "cannot read the corpus %s\n", path);
    return;
  }
  lines = g_strsplit (text, "\n", -1);
  printf (markdown ? "| Corpus line | Solver | Minimum | Idiom | Idiom "
      "negotiates |\n|---|---|---|---|---|\n" : "%-60s %6s %7s %5s %s\n",
      "line", "solver", "minimum", "idiom", "idiom negotiates");
  for (guint i = 0; lines[i]; i++) {
    g_autoptr (GstPxSolver) solver = NULL;
    g_autoptr (GstElement) pipeline = NULL;
    g_autoptr (GstPxPlan) plan = NULL;
    guint minimum = 0, inserted = 0, idiom = 0;
    gboolean works = TRUE;

    if (!g_str_has_prefix (lines[i], "[repair] "))
      continue;
    for (guint j = i + 1; lines[j] && g_str_has_prefix (lines[j], "  "); j++) {
      /* "SRC ! SINK = a ! b": one "!" between the pads, one fewer than
       * the converters between the rest. */
      g_auto (GStrv) parts = g_strsplit (lines[j], " ! ", -1);
      minimum += g_strv_length (parts) - 1;
    }
    solver = gst_px_solver_new ();
    pipeline = gst_object_ref_sink (gst_px_parse_launch (lines[i] + 9,
            solver, NULL));
    plan = gst_px_solver_solve (solver, GST_BIN (pipeline), NULL);
    for (guint k = 0; k < gst_px_plan_get_n_conversions (plan); k++) {
      GstPxConversion *conv = gst_px_plan_get_conversion (plan, k);
      const gchar *first = gst_px_conversion_get_converters (conv)[0];
      gboolean audio = g_str_has_prefix (first, "audio") ||
          strstr (klass_of (first), "Audio") != NULL;
      inserted += g_strv_length ((gchar **)
          gst_px_conversion_get_converters (conv));
      idiom += audio ? 2 : 1;
      works = works && idiom_covers (conv, audio);
    }
    cases++;
    exact += inserted == minimum;
    total_solver += inserted;
    total_min += minimum;
    total_idiom += idiom;
    idiom_fails += !works;
    {
      g_autofree gchar *shown = g_strndup (lines[i] + 9, 57);
      printf (markdown ? "| `%s%s` | %u | %u | %u | %s |\n" :
          "%-57s%-3s %6u %7u %5u %s\n", shown,
          strlen (lines[i] + 9) > 57 ? "..." : "", inserted, minimum, idiom,
          works ? "yes" : "no");
    }
  }
  printf ("\n%u cases: the solver inserts %u converters, the minimum is %u "
      "(exact in %u of %u); the idiom writes %u and does not negotiate in "
      "%u cases\n", cases, total_solver, total_min, exact, cases,
      total_idiom, idiom_fails);
}

int
main (int argc, char **argv)
{
  gint runs = 7;
  gdouble seconds = 0.2;
  gboolean markdown = FALSE;
  g_autofree gchar *corpus = NULL;
  GOptionEntry entries[] = {
    {"runs", 0, 0, G_OPTION_ARG_INT, &runs, "Runs per case", "N"},
    {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "Length of a run", "S"},
    {"markdown", 0, 0, G_OPTION_ARG_NONE, &markdown, "Markdown tables", NULL},
    {"corpus", 0, 0, G_OPTION_ARG_FILENAME, &corpus, "The solver's corpus",
        "FILE"},
    {NULL}
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, NULL) || runs < 1)
    return 2;
  gst_init (NULL, NULL);
  gst_px_init ();
  if (corpus == NULL && g_getenv ("PX_SOLVER_CORPUS"))
    corpus = g_strdup (g_getenv ("PX_SOLVER_CORPUS"));
  bench_solve (runs, seconds, markdown);
  if (corpus)
    bench_corpus (corpus, markdown);
  return 0;
}
