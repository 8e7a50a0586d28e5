/* Parallax — reading gst-launch-1.0 descriptions while keeping every link
 * the user wrote, made or not.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstpxsolverprivate.h"

#include <string.h>

/* gst_parse_launch() reports a link it could not make only as an error and
 * forgets it; those are exactly the links the solver is to repair. This
 * reader builds the same pipeline from the same syntax (elements with
 * properties, "!" links, caps between links, "name." references with an
 * optional pad, bins in parentheses), links what GStreamer links, and
 * hands the rest to the solver. */

#define PX_LAUNCH_MAX_DEPTH 16

typedef enum
{
  TOKEN_END,
  TOKEN_LINK,
  TOKEN_OPEN,
  TOKEN_CLOSE,
  TOKEN_WORD,
} PxTokenType;

typedef struct
{
  const gchar *p;
  gchar *word;                  /* the last TOKEN_WORD, unquoted */
  GError **error;
} PxLexer;

/* Next token. A word runs to whitespace, '!' or a parenthesis outside
 * quotes; a parenthesis inside a word belongs to it (caps features:
 * video/x-raw(memory:NVMM)). Quotes are removed, \" and \\ unescaped. */
static PxTokenType
next_token (PxLexer * lx)
{
  GString *w;
  gint depth = 0;

  g_clear_pointer (&lx->word, g_free);
  while (g_ascii_isspace (*lx->p))
    lx->p++;
  switch (*lx->p) {
    case '\0':
      return TOKEN_END;
    case '!':
      lx->p++;
      return TOKEN_LINK;
    case '(':
      lx->p++;
      return TOKEN_OPEN;
    case ')':
      lx->p++;
      return TOKEN_CLOSE;
  }
  w = g_string_new (NULL);
  while (*lx->p && !g_ascii_isspace (*lx->p) && *lx->p != '!') {
    gchar c = *lx->p;
    if (c == '"' || c == '\'') {
      gchar quote = c;
      lx->p++;
      while (*lx->p && *lx->p != quote) {
        if (*lx->p == '\\' && (lx->p[1] == quote || lx->p[1] == '\\'))
          lx->p++;
        g_string_append_c (w, *lx->p++);
      }
      if (*lx->p != quote) {
        g_set_error (lx->error, GST_PX_SOLVER_ERROR,
            GST_PX_SOLVER_ERROR_PARSE, "Unterminated quote in \"%s\"", w->str);
        g_string_free (w, TRUE);
        return TOKEN_END;
      }
      lx->p++;
      continue;
    }
    if (c == '(')
      depth++;
    else if (c == ')') {
      if (depth == 0)
        break;
      depth--;
    }
    g_string_append_c (w, c);
    lx->p++;
  }
  lx->word = g_string_free (w, FALSE);
  return TOKEN_WORD;
}

typedef struct
{
  GstElement *element;          /* borrowed: the bin holds it */
  gchar *ref;                   /* a "name." reference, resolved at the end */
  gchar *pad;
} PxItem;

typedef struct
{
  PxItem src;
  PxItem sink;
} PxLaunchLink;

typedef struct
{
  GstBin *top;
  GArray *links;                /* PxLaunchLink */
  GError **error;
  guint depth;
  GHashTable *counts;           /* factory name -> elements made */
} PxParser;

/* Elements are named per pipeline, "capsfilter0" the first capsfilter of
 * this description, so that names in diagnostics do not depend on how many
 * pipelines the process made before. */
static GstElement *
make_element (PxParser * ps, const gchar * factory)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (ps->counts, factory));
  g_autofree gchar *name = g_strdup_printf ("%s%u", factory, n);

  g_hash_table_insert (ps->counts, g_strdup (factory), GUINT_TO_POINTER (n +
          1));
  return gst_element_factory_make (factory, name);
}

static void
item_clear (PxItem * item)
{
  g_clear_pointer (&item->ref, g_free);
  g_clear_pointer (&item->pad, g_free);
}

static gboolean
is_property (const gchar * word)
{
  const gchar *eq = strchr (word, '=');

  if (eq == NULL || eq == word || !g_ascii_isalpha (word[0]))
    return FALSE;
  for (const gchar * p = word; p < eq; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != ':')
      return FALSE;
  return TRUE;
}

static gboolean
is_caps (const gchar * word)
{
  const gchar *slash = strchr (word, '/');
  const gchar *stop = strpbrk (word, ",=(");

  return slash && (stop == NULL || slash < stop);
}

static void
unknown_factory (PxParser * ps, const gchar * name)
{
  GList *all = gst_registry_get_feature_list (gst_registry_get (),
      GST_TYPE_ELEMENT_FACTORY);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  const gchar *near;

  for (GList * l = all; l; l = l->next)
    g_ptr_array_add (names, (gpointer) GST_OBJECT_NAME (l->data));
  near = px_closest (name, names, NULL);
  g_set_error (ps->error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_PARSE,
      "No element \"%s\"%s%s%s", name, near ? "; did you mean \"" : "",
      near ? near : "", near ? "\"?" : "");
  gst_plugin_feature_list_free (all);
}

static gboolean
set_property (PxParser * ps, GstElement * element, const gchar * word)
{
  g_autofree gchar *name = g_strndup (word, strchr (word, '=') - word);
  const gchar *value = strchr (word, '=') + 1;
  GParamSpec *spec;
  GValue v = G_VALUE_INIT;

  spec = g_object_class_find_property (G_OBJECT_GET_CLASS (element), name);
  if (spec == NULL) {
    g_set_error (ps->error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_PARSE,
        "%s has no property \"%s\"", GST_OBJECT_NAME (element), name);
    return FALSE;
  }
  g_value_init (&v, spec->value_type);
  if (!gst_value_deserialize_with_pspec (&v, value, spec)) {
    g_set_error (ps->error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_PARSE,
        "\"%s\" is not a value of %s's property \"%s\" (%s)", value,
        GST_OBJECT_NAME (element), name, g_type_name (spec->value_type));
    g_value_unset (&v);
    return FALSE;
  }
  g_object_set_property (G_OBJECT (element), name, &v);
  g_value_unset (&v);
  return TRUE;
}

static GstElement *
make_caps_filter (PxParser * ps, GstBin * bin, const gchar * word)
{
  GstCaps *caps = gst_caps_from_string (word);
  GstElement *e;

  if (caps == NULL) {
    g_set_error (ps->error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_PARSE,
        "\"%s\" is not valid caps", word);
    return NULL;
  }
  e = make_element (ps, "capsfilter");
  g_object_set (e, "caps", caps, NULL);
  gst_caps_unref (caps);
  return e;
}

static gboolean parse_bin (PxParser * ps, PxLexer * lx, GstBin * bin,
    gboolean nested);

/* Makes the item a word names: caps (a capsfilter), a reference
 * ("name." or "name.pad") or an element. */
static gboolean
make_item (PxParser * ps, GstBin * bin, const gchar * word, PxItem * item,
    GstElement ** last)
{
  const gchar *dot;

  memset (item, 0, sizeof (*item));
  *last = NULL;
  if (is_caps (word)) {
    item->element = make_caps_filter (ps, bin, word);
    return item->element != NULL;
  }
  if ((dot = strchr (word, '.')) != NULL) {
    item->ref = g_strndup (word, dot - word);
    item->pad = dot[1] ? g_strdup (dot + 1) : NULL;
    return TRUE;
  }
  item->element = make_element (ps, word);
  if (item->element == NULL) {
    unknown_factory (ps, word);
    return FALSE;
  }
  *last = item->element;
  return TRUE;
}

/* Adds the element just made to @bin, once its properties (its name
 * among them) are set. */
static gboolean
add_pending (PxParser * ps, GstBin * bin, GstElement ** pending)
{
  GstElement *e = *pending;

  if (e == NULL)
    return TRUE;
  *pending = NULL;
  gst_object_ref_sink (e);
  if (!gst_bin_add (bin, e)) {
    g_set_error (ps->error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_PARSE,
        "Two elements are named \"%s\"", GST_OBJECT_NAME (e));
    gst_object_unref (e);
    return FALSE;
  }
  gst_object_unref (e);
  return TRUE;
}

static void
add_link (PxParser * ps, PxItem * src, PxItem * sink)
{
  PxLaunchLink l;

  l.src.element = src->element;
  l.src.ref = g_strdup (src->ref);
  l.src.pad = g_strdup (src->pad);
  l.sink.element = sink->element;
  l.sink.ref = g_strdup (sink->ref);
  l.sink.pad = g_strdup (sink->pad);
  g_array_append_val (ps->links, l);
}

static gboolean
parse_bin (PxParser * ps, PxLexer * lx, GstBin * bin, gboolean nested)
{
  PxItem prev = { 0, };
  gboolean have_prev = FALSE, linking = FALSE, ok = TRUE;
  GstElement *last = NULL, *pending = NULL;
  PxTokenType t;

  while (ok && (t = next_token (lx)) != TOKEN_END) {
    PxItem item = { 0, };

    if (t != TOKEN_WORD || !is_property (lx->word)) {
      ok = add_pending (ps, bin, &pending);
      if (!ok)
        break;
    }

    if (t == TOKEN_LINK) {
      if (!have_prev || linking) {
        g_set_error (ps->error, GST_PX_SOLVER_ERROR,
            GST_PX_SOLVER_ERROR_PARSE, "A link (!) with nothing before it");
        ok = FALSE;
      }
      linking = TRUE;
      continue;
    }
    if (t == TOKEN_CLOSE) {
      if (!nested) {
        g_set_error (ps->error, GST_PX_SOLVER_ERROR,
            GST_PX_SOLVER_ERROR_PARSE, "A \")\" closes no bin");
        ok = FALSE;
      }
      break;
    }
    if (t == TOKEN_OPEN) {
      GstElement *child = make_element (ps, "bin");
      gst_bin_add (bin, child);
      if (++ps->depth > PX_LAUNCH_MAX_DEPTH) {
        g_set_error (ps->error, GST_PX_SOLVER_ERROR,
            GST_PX_SOLVER_ERROR_PARSE, "Bins nested too deep");
        ok = FALSE;
        break;
      }
      ok = parse_bin (ps, lx, GST_BIN (child), TRUE);
      ps->depth--;
      item.element = child;
      last = NULL;
    } else if (is_property (lx->word)) {
      if (last == NULL || linking) {
        g_set_error (ps->error, GST_PX_SOLVER_ERROR,
            GST_PX_SOLVER_ERROR_PARSE, "Property \"%s\" follows no element",
            lx->word);
        ok = FALSE;
      } else {
        ok = set_property (ps, last, lx->word);
      }
      continue;
    } else {
      ok = make_item (ps, bin, lx->word, &item, &last);
      pending = item.element;
    }
    if (ok && linking)
      add_link (ps, &prev, &item);
    linking = FALSE;
    item_clear (&prev);
    prev = item;
    have_prev = ok;
  }
  item_clear (&prev);
  if (ok)
    ok = add_pending (ps, bin, &pending);
  else if (pending)
    gst_object_unref (gst_object_ref_sink (pending));
  if (ok && linking) {
    g_set_error (ps->error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_PARSE,
        "A link (!) with nothing after it");
    ok = FALSE;
  }
  if (ok && (ps->error && *ps->error))
    ok = FALSE;
  return ok;
}

static GstElement *
resolve (PxParser * ps, PxItem * item)
{
  GstElement *e;

  if (item->ref == NULL)
    return gst_object_ref (item->element);
  e = gst_bin_get_by_name (ps->top, item->ref);
  if (e == NULL)
    g_set_error (ps->error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_PARSE,
        "No element named \"%s\"", item->ref);
  return e;
}

static gboolean
make_links (PxParser * ps, GstPxSolver * solver)
{
  for (guint i = 0; i < ps->links->len; i++) {
    PxLaunchLink *l = &g_array_index (ps->links, PxLaunchLink, i);
    g_autoptr (GstElement) src = resolve (ps, &l->src);
    g_autoptr (GstElement) sink = src ? resolve (ps, &l->sink) : NULL;

    if (src == NULL || sink == NULL)
      return FALSE;
    if (gst_element_link_pads (src, l->src.pad, sink, l->sink.pad))
      continue;
    if (solver == NULL) {
      g_set_error (ps->error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_PARSE,
          "Could not link %s to %s", GST_OBJECT_NAME (src),
          GST_OBJECT_NAME (sink));
      return FALSE;
    }
    gst_px_solver_request_link (solver, src, l->src.pad, sink, l->sink.pad);
  }
  return TRUE;
}

/**
 * gst_px_parse_launch:
 * @description: a pipeline in gst-launch-1.0 syntax
 * @solver: (nullable): the solver that receives the links GStreamer could
 *   not make, or %NULL to fail on them
 * @error: (optional): where the reason goes on failure
 *
 * Builds a pipeline from @description like gst_parse_launch(): elements
 * with properties, "!" links, caps between links (as capsfilters),
 * references to named elements ("t." or "mux.video_0"), bins in
 * parentheses. Links GStreamer refuses, and links from pads that appear
 * later, are given to @solver with gst_px_solver_request_link(); solve and
 * apply it before starting the pipeline.
 *
 * Returns: (transfer floating) (nullable): a #GstPipeline, or %NULL on
 *   @error
 */
GstElement *
gst_px_parse_launch (const gchar * description, GstPxSolver * solver,
    GError ** error)
{
  GstElement *pipeline;
  GError *local = NULL;
  PxLexer lx = { description, NULL, &local };
  PxParser ps = { NULL, NULL, &local, 0, NULL };
  gboolean ok;

  g_return_val_if_fail (description != NULL, NULL);
  g_return_val_if_fail (solver == NULL || GST_IS_PX_SOLVER (solver), NULL);

  pipeline = gst_pipeline_new (NULL);
  gst_object_ref_sink (pipeline);
  ps.top = GST_BIN (pipeline);
  ps.links = g_array_new (FALSE, TRUE, sizeof (PxLaunchLink));
  ps.counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ok = parse_bin (&ps, &lx, GST_BIN (pipeline), FALSE) &&
      make_links (&ps, solver);
  for (guint i = 0; i < ps.links->len; i++) {
    PxLaunchLink *l = &g_array_index (ps.links, PxLaunchLink, i);
    item_clear (&l->src);
    item_clear (&l->sink);
  }
  g_array_unref (ps.links);
  g_hash_table_unref (ps.counts);
  g_free (lx.word);
  if (!ok) {
    if (local == NULL)
      g_set_error (&local, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_PARSE,
          "Could not read the pipeline description");
    g_propagate_error (error, local);
    gst_object_unref (pipeline);
    return NULL;
  }
  /* Floating, as gst_parse_launch() returns it. */
  g_object_force_floating (G_OBJECT (pipeline));
  return pipeline;
}
