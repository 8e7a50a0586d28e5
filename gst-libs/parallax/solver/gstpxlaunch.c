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
  /* The elements written (not the capsfilters of caps, nor bins), in the
   * order of the line, and each one's text: factory and properties. */
  GPtrArray *written;           /* GstElement, borrowed */
  GHashTable *texts;            /* GstElement -> GString */
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
px_string_free (GString * s)
{
  g_string_free (s, TRUE);
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

/* @word (name=value) as a description says it: the value quoted where
 * it holds what the parser would split on. */
static void
append_property_text (GString * text, const gchar * word)
{
  const gchar *value = strchr (word, '=') + 1;

  g_string_append_c (text, ' ');
  g_string_append_len (text, word, value - word);
  if (value[0] && strpbrk (value, " \t\n!\"'()\\") == NULL) {
    g_string_append (text, value);
    return;
  }
  g_string_append_c (text, '"');
  for (const gchar * p = value; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c (text, '\\');
    g_string_append_c (text, *p);
  }
  g_string_append_c (text, '"');
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
  if (g_hash_table_contains (ps->texts, element))
    append_property_text (g_hash_table_lookup (ps->texts, element), word);
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
  g_ptr_array_add (ps->written, item->element);
  g_hash_table_insert (ps->texts, item->element, g_string_new (word));
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

/* ------------------------------------------------------------------------ */
/* Isolation: elements of the line wrapped in sandboxbins */

typedef struct
{
  const gchar *const *patterns; /* NULL: demuxers, decoders, parsers */
  gboolean group;
  GstPxSolver *solver;          /* receives the notes, or NULL */
} PxIsolate;

/* What parses or decodes untrusted data: demuxers, decoders, parsers. */
static gboolean
parses_untrusted_data (GstElement * e)
{
  GstElementFactory *f = gst_element_get_factory (e);
  const gchar *klass = f ? gst_element_factory_get_metadata (f,
      GST_ELEMENT_METADATA_KLASS) : NULL;

  return klass && (strstr (klass, "Demuxer") || strstr (klass, "Decoder") ||
      strstr (klass, "Parser"));
}

static gboolean
isolation_matches (PxIsolate * iso, GstElement * e)
{
  GstElementFactory *f = gst_element_get_factory (e);

  if (f == NULL || g_str_equal (GST_OBJECT_NAME (f), "sandboxbin"))
    return FALSE;
  if (iso->patterns == NULL || iso->patterns[0] == NULL)
    return parses_untrusted_data (e);
  for (guint i = 0; iso->patterns[i]; i++)
    if (g_pattern_match_simple (iso->patterns[i], GST_OBJECT_NAME (f)) ||
        g_pattern_match_simple (iso->patterns[i], GST_OBJECT_NAME (e)))
      return TRUE;
  return FALSE;
}

static GstElement *
item_element (PxParser * ps, PxItem * item)
{
  GstElement *e;

  if (item->ref == NULL)
    return item->element;
  e = gst_bin_get_by_name (ps->top, item->ref);
  if (e)
    gst_object_unref (e);       /* the bin holds it */
  return e;
}

/* A plain link from @a to @b, as "a ! b" writes it. */
static gboolean
direct_link (PxParser * ps, GstElement * a, GstElement * b)
{
  for (guint i = 0; i < ps->links->len; i++) {
    PxLaunchLink *l = &g_array_index (ps->links, PxLaunchLink, i);
    if (l->src.element == a && l->sink.element == b && !l->src.ref &&
        !l->sink.ref && !l->src.pad && !l->sink.pad)
      return TRUE;
  }
  return FALSE;
}

static void
count_templates (GstElement * e, GstPadDirection dir, guint * always,
    guint * sometimes, guint * request)
{
  *always = *sometimes = *request = 0;
  for (GList * l = gst_element_class_get_pad_template_list
      (GST_ELEMENT_GET_CLASS (e)); l; l = l->next) {
    GstPadTemplate *t = l->data;
    if (GST_PAD_TEMPLATE_DIRECTION (t) != dir)
      continue;
    switch (GST_PAD_TEMPLATE_PRESENCE (t)) {
      case GST_PAD_ALWAYS:
        (*always)++;
        break;
      case GST_PAD_SOMETIMES:
        (*sometimes)++;
        break;
      default:
        (*request)++;
    }
  }
}

/* Why the elements of @group (linked one to the next) cannot run as one
 * isolated sandboxbin, or NULL: isolated, sandboxbin runs descriptions
 * with one sink pad and one src pad that exist from the start. */
static gchar *
group_refusal (PxParser * ps, GPtrArray * group)
{
  GstElement *first = g_ptr_array_index (group, 0);
  GstElement *last = g_ptr_array_index (group, group->len - 1);
  guint always, sometimes, request, in = 0, out = 0;

  for (guint i = 0; i < group->len; i++)
    if (GST_IS_BIN (g_ptr_array_index (group, i)))
      return g_strdup_printf ("%s is a bin that picks its elements at run "
          "time; the worker loads the plugins of the elements it is given "
          "before it locks down", GST_OBJECT_NAME (g_ptr_array_index (group,
                  i)));
  count_templates (first, GST_PAD_SINK, &always, &sometimes, &request);
  if (always == 0)
    return g_strdup_printf ("%s has no sink pad: an isolated sandboxbin "
        "runs filters, not sources", GST_OBJECT_NAME (first));
  if (always > 1 || sometimes || request)
    return g_strdup_printf ("%s takes several inputs: an isolated "
        "sandboxbin has one sink pad", GST_OBJECT_NAME (first));
  count_templates (last, GST_PAD_SRC, &always, &sometimes, &request);
  if (request)
    return g_strdup_printf ("%s makes its source pads on request: an "
        "isolated sandboxbin has one src pad", GST_OBJECT_NAME (last));
  for (guint i = 0; i < ps->links->len; i++) {
    PxLaunchLink *l = &g_array_index (ps->links, PxLaunchLink, i);
    GstElement *src = item_element (ps, &l->src);
    GstElement *sink = item_element (ps, &l->sink);
    gboolean src_in = src && g_ptr_array_find (group, src, NULL);
    gboolean sink_in = sink && g_ptr_array_find (group, sink, NULL);

    if (src_in && sink_in)
      continue;
    if (sink_in && (sink != first || ++in > 1))
      return g_strdup_printf ("%s is linked from more than one place: an "
          "isolated sandboxbin has one sink pad", GST_OBJECT_NAME (sink));
    if (src_in && (src != last || ++out > 1))
      return g_strdup_printf ("%s's %s linked to different branches: an "
          "isolated sandboxbin has one src pad", GST_OBJECT_NAME (src),
          sometimes ? "sometimes pads are" : "pads are");
  }
  if (always == 0 && sometimes)
    return g_strdup_printf ("%s's src pads appear only at run time, which "
        "an isolated sandboxbin does not mirror yet: isolate it together "
        "with the element it feeds (grouped)", GST_OBJECT_NAME (last));
  if (always != 1 || sometimes)
    return g_strdup_printf ("%s has %u src pads: an isolated sandboxbin has "
        "one", GST_OBJECT_NAME (last), always + sometimes);
  return NULL;
}

static void
isolation_note (PxIsolate * iso, GstPxDiagnosticCode code,
    const gchar * element, gchar * message)
{
  GST_DEBUG ("%s", message);
  if (iso->solver)
    px_solver_add_launch_diagnostic (iso->solver, px_diagnostic_new (code,
            NULL, element, message));
  else
    g_free (message);
}

/* Replaces the elements of @group by one sandboxbin whose description is
 * them as written; the links that named them name it. */
static gboolean
wrap_group (PxParser * ps, PxIsolate * iso, GPtrArray * group)
{
  GstElement *first = g_ptr_array_index (group, 0);
  GstBin *bin = GST_BIN (GST_OBJECT_PARENT (first));
  GString *text = g_string_new (NULL);
  GString *names = g_string_new (NULL);
  GstElement *sandbox = make_element (ps, "sandboxbin");

  if (sandbox == NULL) {
    g_set_error (ps->error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_PARSE,
        "Isolating elements needs the sandboxbin element, from Parallax's "
        "plugin, which is not installed");
    g_string_free (text, TRUE);
    g_string_free (names, TRUE);
    return FALSE;
  }
  for (guint i = 0; i < group->len; i++) {
    GstElement *e = g_ptr_array_index (group, i);
    g_string_append_printf (text, "%s%s", i ? " ! " : "",
        ((GString *) g_hash_table_lookup (ps->texts, e))->str);
    g_string_append_printf (names, "%s%s", i ? ", " : "", GST_OBJECT_NAME (e));
  }
  g_object_set (sandbox, "description", text->str, NULL);
  for (guint i = 0; i < ps->links->len; i++) {
    PxLaunchLink *l = &g_array_index (ps->links, PxLaunchLink, i);
    PxItem *ends[] = { &l->src, &l->sink };

    /* The worker makes the links inside the description. */
    if (g_ptr_array_find (group, item_element (ps, &l->src), NULL) &&
        g_ptr_array_find (group, item_element (ps, &l->sink), NULL)) {
      item_clear (&l->src);
      item_clear (&l->sink);
      g_array_remove_index (ps->links, i--);
      continue;
    }
    for (guint k = 0; k < 2; k++)
      if (g_ptr_array_find (group, item_element (ps, ends[k]), NULL)) {
        item_clear (ends[k]);
        ends[k]->element = sandbox;
      }
  }
  isolation_note (iso, GST_PX_DIAGNOSTIC_ISOLATED, GST_OBJECT_NAME (sandbox),
      g_strdup_printf ("%s run%s isolated in %s, one worker: \"%s\"",
          names->str, group->len > 1 ? "" : "s", GST_OBJECT_NAME (sandbox),
          text->str));
  for (guint i = 0; i < group->len; i++) {
    GstElement *e = g_ptr_array_index (group, i);
    g_ptr_array_remove (ps->written, e);
    g_hash_table_remove (ps->texts, e);
    gst_bin_remove (GST_BIN (GST_OBJECT_PARENT (e)), e);
  }
  gst_bin_add (bin, sandbox);
  g_string_free (text, TRUE);
  g_string_free (names, TRUE);
  return TRUE;
}

/* The matching elements, each alone or, grouped, with the matching
 * elements it is linked to one after the other in the same bin. */
static GPtrArray *
isolation_groups (PxParser * ps, PxIsolate * iso)
{
  GPtrArray *groups = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_ptr_array_unref);
  GPtrArray *cur = NULL;

  for (guint i = 0; i < ps->written->len; i++) {
    GstElement *e = g_ptr_array_index (ps->written, i);
    GstElement *prev = cur ? g_ptr_array_index (cur, cur->len - 1) : NULL;

    if (!isolation_matches (iso, e)) {
      cur = NULL;
      continue;
    }
    if (!(iso->group && prev && GST_OBJECT_PARENT (prev) ==
            GST_OBJECT_PARENT (e) && direct_link (ps, prev, e))) {
      cur = g_ptr_array_new ();
      g_ptr_array_add (groups, cur);
    }
    g_ptr_array_add (cur, e);
  }
  return groups;
}

static gboolean
isolate (PxParser * ps, PxIsolate * iso)
{
  g_autoptr (GPtrArray) groups = isolation_groups (ps, iso);

  for (guint i = 0; i < groups->len; i++) {
    GPtrArray *group = g_ptr_array_index (groups, i);
    gchar *why = group_refusal (ps, group);

    if (why) {
      GString *names = g_string_new (NULL);
      for (guint k = 0; k < group->len; k++)
        g_string_append_printf (names, "%s%s", k ? ", " : "",
            GST_OBJECT_NAME (g_ptr_array_index (group, k)));
      isolation_note (iso, GST_PX_DIAGNOSTIC_NOT_ISOLATED,
          GST_OBJECT_NAME (g_ptr_array_index (group, 0)),
          g_strdup_printf ("%s not isolated: %s", names->str, why));
      g_string_free (names, TRUE);
      g_free (why);
    } else if (!wrap_group (ps, iso, group)) {
      return FALSE;
    }
  }
  return TRUE;
}

static GstElement *
parse_launch (const gchar * description, GstPxSolver * solver,
    PxIsolate * iso, GError ** error)
{
  GstElement *pipeline;
  GError *local = NULL;
  PxLexer lx = { description, NULL, &local };
  PxParser ps = { NULL, NULL, &local, 0, NULL, NULL, NULL };
  gboolean ok;

  pipeline = gst_pipeline_new (NULL);
  gst_object_ref_sink (pipeline);
  ps.top = GST_BIN (pipeline);
  ps.links = g_array_new (FALSE, TRUE, sizeof (PxLaunchLink));
  ps.counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ps.written = g_ptr_array_new ();
  ps.texts = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify)
      px_string_free);
  ok = parse_bin (&ps, &lx, GST_BIN (pipeline), FALSE) &&
      (iso == NULL || isolate (&ps, iso)) && make_links (&ps, solver);
  for (guint i = 0; i < ps.links->len; i++) {
    PxLaunchLink *l = &g_array_index (ps.links, PxLaunchLink, i);
    item_clear (&l->src);
    item_clear (&l->sink);
  }
  g_array_unref (ps.links);
  g_hash_table_unref (ps.counts);
  g_ptr_array_unref (ps.written);
  g_hash_table_unref (ps.texts);
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
  g_return_val_if_fail (description != NULL, NULL);
  g_return_val_if_fail (solver == NULL || GST_IS_PX_SOLVER (solver), NULL);

  return parse_launch (description, solver, NULL, error);
}

/**
 * gst_px_parse_launch_isolated:
 * @description: a pipeline in gst-launch-1.0 syntax
 * @solver: (nullable): the solver that receives the links GStreamer could
 *   not make and the notes on what was isolated, or %NULL
 * @patterns: (array zero-terminated=1) (nullable): glob patterns
 *   (g_pattern_match_simple()) on factory or element names of the
 *   elements to isolate; %NULL or empty for every element that parses or
 *   decodes untrusted data (its class names a demuxer, decoder or parser)
 * @group: whether matching elements linked one to the next share one
 *   sandboxbin (one worker) instead of one each
 * @error: (optional): where the reason goes on failure
 *
 * Like gst_px_parse_launch(), with the matching elements wrapped in
 * sandboxbin elements (from Parallax's plugin), each described by the
 * element with its properties as written. An isolated sandboxbin has one
 * sink pad and one src pad: a matching element (or group) of another shape
 * stays as it is — a demuxer whose pads feed several branches, a source —
 * and @solver gets a warning saying why (PX-W002); each sandboxbin made
 * gets a note (PX-N006). Both come with the next plan @solver makes.
 *
 * Returns: (transfer floating) (nullable): a #GstPipeline, or %NULL on
 *   @error
 */
GstElement *
gst_px_parse_launch_isolated (const gchar * description, GstPxSolver * solver,
    const gchar * const *patterns, gboolean group, GError ** error)
{
  PxIsolate iso = { patterns, group, solver };

  g_return_val_if_fail (description != NULL, NULL);
  g_return_val_if_fail (solver == NULL || GST_IS_PX_SOLVER (solver), NULL);

  return parse_launch (description, solver, &iso, error);
}
