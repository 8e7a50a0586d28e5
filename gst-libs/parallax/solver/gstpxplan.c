/* Parallax — the caps solver's plan.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:gstpxplan
 * @title: GstPxPlan
 * @short_description: what the caps solver found and will change
 *
 * A plan is the result of gst_px_solver_solve(): for every link of the
 * pipeline what each side can offer and accept and the caps chosen, the
 * converters that go on links that do not negotiate (#GstPxConversion),
 * and the diagnostics (#GstPxDiagnostic). gst_px_solver_apply() carries it
 * out. A plan can be read as text (gst_px_plan_explain()), as JSON
 * (gst_px_plan_to_json()) and as a graph (gst_px_plan_to_dot(),
 * gst_px_plan_write_graph()).
 */
#include "gstpxsolverprivate.h"

#include <gio/gio.h>
#include <string.h>

struct _GstPxConversion
{
  GObject parent;

  gchar *src_pad;
  gchar *sink_pad;
  gchar **converters;
  gchar **element_names;
  gchar **fields;
  guint cost;
  guint loss;
};

G_DEFINE_TYPE (GstPxConversion, gst_px_conversion, G_TYPE_OBJECT);

static void
gst_px_conversion_finalize (GObject * object)
{
  GstPxConversion *self = GST_PX_CONVERSION (object);

  g_free (self->src_pad);
  g_free (self->sink_pad);
  g_strfreev (self->converters);
  g_strfreev (self->element_names);
  g_strfreev (self->fields);
  G_OBJECT_CLASS (gst_px_conversion_parent_class)->finalize (object);
}

static void
gst_px_conversion_class_init (GstPxConversionClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_px_conversion_finalize;
}

static void
gst_px_conversion_init (GstPxConversion * self)
{
  self->element_names = g_new0 (gchar *, 1);
}

/* @converters: GstPxConverter, in order from upstream. */
GstPxConversion *
px_conversion_new (const gchar * src_pad, const gchar * sink_pad,
    GPtrArray * converters, const gchar * const *fields, guint cost, guint loss)
{
  GstPxConversion *self = g_object_new (GST_TYPE_PX_CONVERSION, NULL);

  self->src_pad = g_strdup (src_pad);
  self->sink_pad = g_strdup (sink_pad);
  self->converters = g_new0 (gchar *, converters->len + 1);
  for (guint i = 0; i < converters->len; i++)
    self->converters[i] =
        g_strdup (gst_px_converter_get_factory_name (g_ptr_array_index
            (converters, i)));
  self->fields = g_strdupv ((gchar **) fields);
  self->cost = cost;
  self->loss = loss;
  return self;
}

/* Takes @names. */
void
px_conversion_set_element_names (GstPxConversion * self, gchar ** names)
{
  g_strfreev (self->element_names);
  self->element_names = names;
}

/**
 * gst_px_conversion_get_src_pad:
 * @conversion: a #GstPxConversion
 *
 * Returns: (transfer none): the upstream pad of the link, "element:pad"
 */
const gchar *
gst_px_conversion_get_src_pad (GstPxConversion * conversion)
{
  g_return_val_if_fail (GST_IS_PX_CONVERSION (conversion), NULL);
  return conversion->src_pad;
}

/**
 * gst_px_conversion_get_sink_pad:
 * @conversion: a #GstPxConversion
 *
 * Returns: (transfer none): the downstream pad of the link, "element:pad"
 */
const gchar *
gst_px_conversion_get_sink_pad (GstPxConversion * conversion)
{
  g_return_val_if_fail (GST_IS_PX_CONVERSION (conversion), NULL);
  return conversion->sink_pad;
}

/**
 * gst_px_conversion_get_converters:
 * @conversion: a #GstPxConversion
 *
 * Returns: (transfer none) (array zero-terminated=1): the factory names
 *   of the converters, from upstream to downstream
 */
const gchar *const *
gst_px_conversion_get_converters (GstPxConversion * conversion)
{
  g_return_val_if_fail (GST_IS_PX_CONVERSION (conversion), NULL);
  return (const gchar * const *) conversion->converters;
}

/**
 * gst_px_conversion_get_element_names:
 * @conversion: a #GstPxConversion
 *
 * Returns: (transfer none) (array zero-terminated=1): the names of the
 *   elements inserted, once the plan is applied (empty before)
 */
const gchar *const *
gst_px_conversion_get_element_names (GstPxConversion * conversion)
{
  g_return_val_if_fail (GST_IS_PX_CONVERSION (conversion), NULL);
  return (const gchar * const *) conversion->element_names;
}

/**
 * gst_px_conversion_get_fields:
 * @conversion: a #GstPxConversion
 *
 * Returns: (transfer none) (array zero-terminated=1): the caps fields that
 *   conflict on the link and that the converters change ("memory" for the
 *   caps feature)
 */
const gchar *const *
gst_px_conversion_get_fields (GstPxConversion * conversion)
{
  g_return_val_if_fail (GST_IS_PX_CONVERSION (conversion), NULL);
  return (const gchar * const *) conversion->fields;
}

/**
 * gst_px_conversion_get_cost:
 * @conversion: a #GstPxConversion
 *
 * Returns: the converters' costs plus the quality loss
 */
guint
gst_px_conversion_get_cost (GstPxConversion * conversion)
{
  g_return_val_if_fail (GST_IS_PX_CONVERSION (conversion), 0);
  return conversion->cost;
}

/**
 * gst_px_conversion_get_quality_loss:
 * @conversion: a #GstPxConversion
 *
 * Returns: the part of the cost that is quality lost (bit depth, chroma,
 *   resolution, channels, rate)
 */
guint
gst_px_conversion_get_quality_loss (GstPxConversion * conversion)
{
  g_return_val_if_fail (GST_IS_PX_CONVERSION (conversion), 0);
  return conversion->loss;
}

/* ------------------------------------------------------------------------ */

G_DEFINE_TYPE (GstPxPlan, gst_px_plan, G_TYPE_OBJECT);

void
px_link_free (PxLink * link)
{
  gst_clear_object (&link->src_element);
  gst_clear_object (&link->sink_element);
  gst_clear_object (&link->src_pad);
  gst_clear_object (&link->sink_pad);
  g_free (link->src_name);
  g_free (link->sink_name);
  g_free (link->src_pad_wanted);
  gst_clear_caps (&link->upstream);
  gst_clear_caps (&link->downstream);
  gst_clear_caps (&link->chosen);
  gst_clear_caps (&link->arriving);
  gst_clear_caps (&link->accepted);
  gst_clear_caps (&link->target);
  g_clear_object (&link->conversion);
  g_free (link->copy_reason);
  g_clear_pointer (&link->converters, g_ptr_array_unref);
  g_free (link);
}

static void
gst_px_plan_finalize (GObject * object)
{
  GstPxPlan *self = GST_PX_PLAN (object);

  /* Pads the solver requested for links that were never made go back. */
  for (guint i = 0; !self->applied && i < self->links->len; i++) {
    PxLink *link = g_ptr_array_index (self->links, i);
    if (link->src_pad_requested && !gst_pad_is_linked (link->src_pad))
      gst_element_release_request_pad (link->src_element, link->src_pad);
    if (link->sink_pad_requested && !gst_pad_is_linked (link->sink_pad))
      gst_element_release_request_pad (link->sink_element, link->sink_pad);
  }
  g_ptr_array_unref (self->links);
  g_ptr_array_unref (self->conversions);
  g_ptr_array_unref (self->diagnostics);
  g_clear_pointer (&self->shadows, g_ptr_array_unref);
  gst_clear_object (&self->bin);
  G_OBJECT_CLASS (gst_px_plan_parent_class)->finalize (object);
}

static void
gst_px_plan_class_init (GstPxPlanClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_px_plan_finalize;
}

static void
gst_px_plan_init (GstPxPlan * self)
{
  self->links = g_ptr_array_new_with_free_func ((GDestroyNotify) px_link_free);
  self->conversions = g_ptr_array_new_with_free_func (g_object_unref);
  self->diagnostics = g_ptr_array_new_with_free_func (g_object_unref);
  self->solvable = TRUE;
}

GstPxPlan *
px_plan_new (GstBin * bin)
{
  GstPxPlan *self = g_object_new (GST_TYPE_PX_PLAN, NULL);

  self->bin = gst_object_ref (bin);
  return self;
}

/* Takes @diagnostic. */
void
px_plan_add_diagnostic (GstPxPlan * plan, GstPxDiagnostic * diagnostic)
{
  if (gst_px_diagnostic_get_severity (diagnostic) == GST_PX_SEVERITY_ERROR)
    plan->solvable = FALSE;
  g_ptr_array_add (plan->diagnostics, diagnostic);
}

/**
 * gst_px_plan_is_solvable:
 * @plan: a #GstPxPlan
 *
 * Returns: %TRUE if the plan has no errors: applied, the pipeline
 *   negotiates
 */
gboolean
gst_px_plan_is_solvable (GstPxPlan * plan)
{
  g_return_val_if_fail (GST_IS_PX_PLAN (plan), FALSE);
  return plan->solvable;
}

/**
 * gst_px_plan_changes_pipeline:
 * @plan: a #GstPxPlan
 *
 * Returns: %TRUE if applying the plan inserts converters or makes links
 *   GStreamer did not make
 */
gboolean
gst_px_plan_changes_pipeline (GstPxPlan * plan)
{
  g_return_val_if_fail (GST_IS_PX_PLAN (plan), FALSE);
  if (plan->conversions->len > 0)
    return TRUE;
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *link = g_ptr_array_index (plan->links, i);
    if (link->kind != PX_LINK_REAL)
      return TRUE;
  }
  return FALSE;
}

/**
 * gst_px_plan_is_applied:
 * @plan: a #GstPxPlan
 *
 * Returns: whether gst_px_solver_apply() carried the plan out
 */
gboolean
gst_px_plan_is_applied (GstPxPlan * plan)
{
  g_return_val_if_fail (GST_IS_PX_PLAN (plan), FALSE);
  return plan->applied;
}

/**
 * gst_px_plan_get_n_conversions:
 * @plan: a #GstPxPlan
 *
 * Returns: the number of links that get converters
 */
guint
gst_px_plan_get_n_conversions (GstPxPlan * plan)
{
  g_return_val_if_fail (GST_IS_PX_PLAN (plan), 0);
  return plan->conversions->len;
}

/**
 * gst_px_plan_get_conversion:
 * @plan: a #GstPxPlan
 * @index: from 0 to gst_px_plan_get_n_conversions() - 1
 *
 * Returns: (transfer none): the conversion
 */
GstPxConversion *
gst_px_plan_get_conversion (GstPxPlan * plan, guint index)
{
  g_return_val_if_fail (GST_IS_PX_PLAN (plan), NULL);
  g_return_val_if_fail (index < plan->conversions->len, NULL);
  return g_ptr_array_index (plan->conversions, index);
}

/**
 * gst_px_plan_find_conversion:
 * @plan: a #GstPxPlan
 * @src_pad: (nullable): the upstream pad, "element:pad", or %NULL for any
 * @sink_pad: (nullable): the downstream pad, "element:pad", or %NULL for any
 *
 * Returns: (transfer none) (nullable): the conversion on that link
 */
GstPxConversion *
gst_px_plan_find_conversion (GstPxPlan * plan, const gchar * src_pad,
    const gchar * sink_pad)
{
  g_return_val_if_fail (GST_IS_PX_PLAN (plan), NULL);
  for (guint i = 0; i < plan->conversions->len; i++) {
    GstPxConversion *c = g_ptr_array_index (plan->conversions, i);
    if ((src_pad == NULL || g_str_equal (c->src_pad, src_pad)) &&
        (sink_pad == NULL || g_str_equal (c->sink_pad, sink_pad)))
      return c;
  }
  return NULL;
}

/**
 * gst_px_plan_get_n_diagnostics:
 * @plan: a #GstPxPlan
 *
 * Returns: the number of diagnostics, notes included
 */
guint
gst_px_plan_get_n_diagnostics (GstPxPlan * plan)
{
  g_return_val_if_fail (GST_IS_PX_PLAN (plan), 0);
  return plan->diagnostics->len;
}

/**
 * gst_px_plan_get_diagnostic:
 * @plan: a #GstPxPlan
 * @index: from 0 to gst_px_plan_get_n_diagnostics() - 1
 *
 * Returns: (transfer none): the diagnostic
 */
GstPxDiagnostic *
gst_px_plan_get_diagnostic (GstPxPlan * plan, guint index)
{
  g_return_val_if_fail (GST_IS_PX_PLAN (plan), NULL);
  g_return_val_if_fail (index < plan->diagnostics->len, NULL);
  return g_ptr_array_index (plan->diagnostics, index);
}

/**
 * gst_px_plan_find_diagnostic:
 * @plan: a #GstPxPlan
 * @code: the code to look for
 *
 * Returns: (transfer none) (nullable): the first diagnostic with @code
 */
GstPxDiagnostic *
gst_px_plan_find_diagnostic (GstPxPlan * plan, GstPxDiagnosticCode code)
{
  g_return_val_if_fail (GST_IS_PX_PLAN (plan), NULL);
  for (guint i = 0; i < plan->diagnostics->len; i++) {
    GstPxDiagnostic *d = g_ptr_array_index (plan->diagnostics, i);
    if (gst_px_diagnostic_get_code (d) == code)
      return d;
  }
  return NULL;
}

/**
 * gst_px_plan_get_n_links:
 * @plan: a #GstPxPlan
 *
 * Returns: the number of links the solver looked at
 */
guint
gst_px_plan_get_n_links (GstPxPlan * plan)
{
  g_return_val_if_fail (GST_IS_PX_PLAN (plan), 0);
  return plan->links->len;
}

/**
 * gst_px_plan_get_total_cost:
 * @plan: a #GstPxPlan
 *
 * Returns: the sum of the conversions' costs
 */
guint
gst_px_plan_get_total_cost (GstPxPlan * plan)
{
  guint total = 0;

  g_return_val_if_fail (GST_IS_PX_PLAN (plan), 0);
  for (guint i = 0; i < plan->conversions->len; i++)
    total += GST_PX_CONVERSION (g_ptr_array_index (plan->conversions, i))->cost;
  return total;
}

/**
 * gst_px_plan_get_caps_queries:
 * @plan: a #GstPxPlan
 *
 * Returns: the caps queries the solve issued and answered
 */
guint
gst_px_plan_get_caps_queries (GstPxPlan * plan)
{
  g_return_val_if_fail (GST_IS_PX_PLAN (plan), 0);
  return plan->caps_queries;
}

/**
 * gst_px_plan_get_link_caps:
 * @plan: a #GstPxPlan
 * @src_pad: the upstream pad of a link, "element:pad"
 *
 * Returns: (transfer full) (nullable): the caps chosen for the link: what
 *   both sides share, fixed where the solver could, preferring what the
 *   downstream side takes natively
 */
GstCaps *
gst_px_plan_get_link_caps (GstPxPlan * plan, const gchar * src_pad)
{
  g_return_val_if_fail (GST_IS_PX_PLAN (plan), NULL);
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *link = g_ptr_array_index (plan->links, i);
    if (g_str_equal (link->src_name, src_pad))
      return link->chosen ? gst_caps_ref (link->chosen) : NULL;
  }
  return NULL;
}

/**
 * gst_px_plan_get_link_copy_reason:
 * @plan: a #GstPxPlan
 * @src_pad: the upstream pad of a link, "element:pad"
 *
 * Whether buffers will be copied on the link once the plan is applied: a
 * converter that moves them into another memory type, a link into another
 * process (ipcsink, an isolated sandboxbin) whose caps get no arena pool,
 * or whose producer ignores the pool proposed to it.
 *
 * Returns: (transfer none) (nullable): why they are copied, or %NULL if
 *   they are not (or the link is not known)
 */
const gchar *
gst_px_plan_get_link_copy_reason (GstPxPlan * plan, const gchar * src_pad)
{
  g_return_val_if_fail (GST_IS_PX_PLAN (plan), NULL);
  g_return_val_if_fail (src_pad != NULL, NULL);
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *link = g_ptr_array_index (plan->links, i);
    if (g_strcmp0 (link->src_name, src_pad) == 0)
      return link->copy_reason;
  }
  return NULL;
}

/**
 * gst_px_plan_explain:
 * @plan: a #GstPxPlan
 *
 * Returns: (transfer full): every diagnostic as text, then a summary line
 */
gchar *
gst_px_plan_explain (GstPxPlan * plan)
{
  GString *s;
  guint errors = 0, inserted = 0;

  g_return_val_if_fail (GST_IS_PX_PLAN (plan), NULL);
  s = g_string_new (NULL);
  for (guint i = 0; i < plan->diagnostics->len; i++) {
    GstPxDiagnostic *d = g_ptr_array_index (plan->diagnostics, i);
    g_autofree gchar *text = gst_px_diagnostic_to_string (d);
    g_string_append (s, text);
    g_string_append_c (s, '\n');
    if (gst_px_diagnostic_get_severity (d) == GST_PX_SEVERITY_ERROR)
      errors++;
  }
  for (guint i = 0; i < plan->conversions->len; i++)
    inserted += g_strv_length (GST_PX_CONVERSION (g_ptr_array_index
            (plan->conversions, i))->converters);
  if (errors)
    g_string_append_printf (s, "%u error%s: the pipeline cannot negotiate\n",
        errors, errors == 1 ? "" : "s");
  else if (gst_px_plan_changes_pipeline (plan))
    g_string_append_printf (s, "%s %u converter%s on %u link%s, total cost "
        "%u\n", plan->applied ? "inserted" : "would insert", inserted,
        inserted == 1 ? "" : "s", plan->conversions->len,
        plan->conversions->len == 1 ? "" : "s",
        gst_px_plan_get_total_cost (plan));
  else
    g_string_append (s, "the pipeline negotiates as it is\n");
  return g_string_free (s, FALSE);
}

static const gchar *
kind_word (PxLinkKind kind)
{
  return kind == PX_LINK_REAL ? "linked" :
      kind == PX_LINK_REQUESTED ? "requested" : "dynamic";
}

static const gchar *
status_word (PxLinkStatus status)
{
  switch (status) {
    case PX_LINK_NATIVE:
      return "native";
    case PX_LINK_CONVERT:
      return "convert";
    case PX_LINK_IMPOSSIBLE:
      return "impossible";
    default:
      return "pending";
  }
}

static void
json_strv (GString * out, gchar ** strv)
{
  g_string_append_c (out, '[');
  for (guint i = 0; strv && strv[i]; i++) {
    if (i)
      g_string_append_c (out, ',');
    px_json_string (out, strv[i]);
  }
  g_string_append_c (out, ']');
}

static void
json_link (GString * out, PxLink * link)
{
  g_autofree gchar *up = link->upstream ?
      gst_caps_to_string (link->upstream) : NULL;
  g_autofree gchar *down = link->downstream ?
      gst_caps_to_string (link->downstream) : NULL;
  g_autofree gchar *chosen = link->chosen ?
      gst_caps_to_string (link->chosen) : NULL;

  g_string_append (out, "{\"src\":");
  px_json_string (out, link->src_name);
  g_string_append (out, ",\"sink\":");
  px_json_string (out, link->sink_name);
  g_string_append (out, ",\"kind\":");
  px_json_string (out, kind_word (link->kind));
  g_string_append (out, ",\"status\":");
  px_json_string (out, status_word (link->status));
  g_string_append (out, ",\"caps\":");
  px_json_string (out, chosen);
  g_string_append (out, ",\"memory\":");
  px_json_string (out, link->chosen ? px_caps_first_feature (link->chosen) :
      NULL);
  g_string_append (out, ",\"upstream\":");
  px_json_string (out, up);
  g_string_append (out, ",\"downstream\":");
  px_json_string (out, down);
  g_string_append_printf (out, ",\"arena_pool\":%s,\"copied\":%s,"
      "\"copy_reason\":", link->arena_pool ? "true" : "false",
      link->copy_reason ? "true" : "false");
  px_json_string (out, link->copy_reason);
  g_string_append_c (out, '}');
}

/**
 * gst_px_plan_to_json:
 * @plan: a #GstPxPlan
 *
 * The plan as one JSON object: "solvable", "applied", "changes",
 * "total_cost", "caps_queries", "links" (src, sink, kind, status, caps,
 * memory, upstream, downstream, arena_pool, copied, copy_reason),
 * "conversions" (src, sink,
 * converters, elements, fields, cost, quality_loss) and "diagnostics"
 * (code, severity, message, src_pad, sink_pad, path, fields, suggestion).
 *
 * Returns: (transfer full): the JSON text
 */
gchar *
gst_px_plan_to_json (GstPxPlan * plan)
{
  GString *out;

  g_return_val_if_fail (GST_IS_PX_PLAN (plan), NULL);
  out = g_string_new (NULL);
  g_string_append_printf (out, "{\"solvable\":%s,\"applied\":%s,"
      "\"changes\":%s,\"total_cost\":%u,\"caps_queries\":%u,\"links\":[",
      plan->solvable ? "true" : "false", plan->applied ? "true" : "false",
      gst_px_plan_changes_pipeline (plan) ? "true" : "false",
      gst_px_plan_get_total_cost (plan), plan->caps_queries);
  for (guint i = 0; i < plan->links->len; i++) {
    if (i)
      g_string_append_c (out, ',');
    json_link (out, g_ptr_array_index (plan->links, i));
  }
  g_string_append (out, "],\"conversions\":[");
  for (guint i = 0; i < plan->conversions->len; i++) {
    GstPxConversion *c = g_ptr_array_index (plan->conversions, i);
    if (i)
      g_string_append_c (out, ',');
    g_string_append (out, "{\"src\":");
    px_json_string (out, c->src_pad);
    g_string_append (out, ",\"sink\":");
    px_json_string (out, c->sink_pad);
    g_string_append (out, ",\"converters\":");
    json_strv (out, c->converters);
    g_string_append (out, ",\"elements\":");
    json_strv (out, c->element_names);
    g_string_append (out, ",\"fields\":");
    json_strv (out, c->fields);
    g_string_append_printf (out, ",\"cost\":%u,\"quality_loss\":%u}",
        c->cost, c->loss);
  }
  g_string_append (out, "],\"diagnostics\":[");
  for (guint i = 0; i < plan->diagnostics->len; i++) {
    if (i)
      g_string_append_c (out, ',');
    px_diagnostic_to_json (g_ptr_array_index (plan->diagnostics, i), out);
  }
  g_string_append (out, "]}");
  return g_string_free (out, FALSE);
}

static void
dot_node (GString * out, GHashTable * seen, GstElement * element)
{
  const gchar *name = GST_OBJECT_NAME (element);
  GstElementFactory *factory = gst_element_get_factory (element);
  const gchar *fname = factory ? GST_OBJECT_NAME (factory) : "";
  gboolean border = g_str_equal (fname, "ipcsink") ||
      g_str_equal (fname, "ipcsrc") || g_str_equal (fname, "sandboxbin");
  g_autofree gchar *label = g_strdup_printf ("%s\n%s", name, fname);

  if (!g_hash_table_add (seen, g_strdup (name)))
    return;
  g_string_append (out, "  ");
  px_dot_string (out, name);
  g_string_append (out, " [label=");
  px_dot_string (out, label);
  /* Process borders: a shared-memory link leaves the process there. */
  g_string_append (out, border ? ", shape=box3d, color=blue, penwidth=2];\n" :
      "];\n");
}

static void
dot_edge (GString * out, const gchar * from, const gchar * to,
    const gchar * label, const gchar * attrs)
{
  g_string_append (out, "  ");
  px_dot_string (out, from);
  g_string_append (out, " -> ");
  px_dot_string (out, to);
  g_string_append (out, " [label=");
  px_dot_string (out, label);
  g_string_append_printf (out, "%s%s];\n", attrs ? ", " : "",
      attrs ? attrs : "");
}

static void
dot_link (GString * out, GHashTable * seen, PxLink * link, guint index)
{
  g_autofree gchar *summary = px_caps_summary (link->chosen ? link->chosen :
      link->upstream);
  const gchar *from = GST_OBJECT_NAME (link->src_element);
  const gchar *to = GST_OBJECT_NAME (link->sink_element);
  const gchar *attrs = link->status == PX_LINK_IMPOSSIBLE ?
      "color=red, fontcolor=red" : link->status == PX_LINK_PENDING ?
      "style=dashed" : link->copy_reason ?
      "color=darkorange, fontcolor=darkorange" : link->arena_pool ?
      "color=blue" : NULL;
  g_autofree gchar *label = g_strdup_printf ("%s%s%s%s", summary,
      link->arena_pool ? "\nmemfd arena pool" : "",
      link->copy_reason ? "\ncopied: " : "",
      link->copy_reason ? link->copy_reason : "");
  gchar *prev;

  dot_node (out, seen, link->src_element);
  dot_node (out, seen, link->sink_element);
  if (link->conversion == NULL) {
    dot_edge (out, from, to, label, attrs);
    return;
  }
  prev = g_strdup (from);
  for (guint c = 0; link->conversion->converters[c]; c++) {
    const gchar *applied = link->conversion->element_names[0] ?
        link->conversion->element_names[c] : NULL;
    gchar *node = applied ? g_strdup (applied) :
        g_strdup_printf ("planned-%u-%u", index, c);
    g_autofree gchar *nlabel = g_strdup_printf ("%s\n%s (inserted)",
        applied ? applied : "", link->conversion->converters[c]);

    g_string_append (out, "  ");
    px_dot_string (out, node);
    g_string_append (out, " [label=");
    px_dot_string (out, nlabel);
    g_string_append (out, ", style=filled, fillcolor=lightyellow];\n");
    dot_edge (out, prev, node, c == 0 ? "" : "", NULL);
    g_free (prev);
    prev = node;
  }
  dot_edge (out, prev, to, label, attrs);
  g_free (prev);
}

/**
 * gst_px_plan_to_dot:
 * @plan: a #GstPxPlan
 *
 * The solved pipeline as a Graphviz graph: elements, the converters the
 * plan inserts (filled), each link labelled with its caps and memory type,
 * links that cannot negotiate in red, dynamic links dashed, links where
 * buffers are copied in orange with the reason, and the process borders
 * (ipcsink, ipcsrc, sandboxbin) outlined in blue, the links into them
 * that reach an arena pool without a copy in blue too.
 *
 * Returns: (transfer full): the DOT text
 */
gchar *
gst_px_plan_to_dot (GstPxPlan * plan)
{
  GString *out;
  g_autoptr (GHashTable) seen = NULL;

  g_return_val_if_fail (GST_IS_PX_PLAN (plan), NULL);
  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  out = g_string_new ("digraph pipeline {\n  rankdir=LR;\n"
      "  node [shape=box, fontname=\"sans\", fontsize=10];\n"
      "  edge [fontname=\"sans\", fontsize=9];\n");
  for (guint i = 0; i < plan->links->len; i++)
    dot_link (out, seen, g_ptr_array_index (plan->links, i), i);
  g_string_append (out, "}\n");
  return g_string_free (out, FALSE);
}

/**
 * gst_px_plan_write_graph:
 * @plan: a #GstPxPlan
 * @filename: (type filename): where to write; a name ending in ".svg" is
 *   drawn with Graphviz's dot program, any other gets the DOT text
 * @error: (optional): where the reason goes on failure
 *
 * Returns: %TRUE once written
 */
gboolean
gst_px_plan_write_graph (GstPxPlan * plan, const gchar * filename,
    GError ** error)
{
  g_autofree gchar *dot = NULL;
  g_autofree gchar *program = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GBytes) input = NULL;
  g_autoptr (GBytes) errors = NULL;

  g_return_val_if_fail (GST_IS_PX_PLAN (plan), FALSE);
  g_return_val_if_fail (filename != NULL, FALSE);

  dot = gst_px_plan_to_dot (plan);
  if (!g_str_has_suffix (filename, ".svg"))
    return g_file_set_contents (filename, dot, -1, error);

  program = g_find_program_in_path ("dot");
  if (program == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "Drawing %s needs Graphviz's \"dot\" program, which is not "
        "installed; give a file name ending in .dot for the graph's text",
        filename);
    return FALSE;
  }
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_PIPE, error, program, "-Tsvg", "-o",
      filename, NULL);
  if (process == NULL)
    return FALSE;
  input = g_bytes_new_static (dot, strlen (dot));
  if (!g_subprocess_communicate (process, input, NULL, NULL, &errors, error))
    return FALSE;
  if (!g_subprocess_get_successful (process)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "dot could not draw %s: %.*s", filename,
        (int) g_bytes_get_size (errors),
        (const char *) g_bytes_get_data (errors, NULL));
    return FALSE;
  }
  return TRUE;
}
