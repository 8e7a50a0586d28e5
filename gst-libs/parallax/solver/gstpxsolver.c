/* Parallax — global caps solver.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:gstpxsolver
 * @title: GstPxSolver
 * @short_description: negotiates a whole pipeline at once
 *
 * GStreamer negotiates link by link; a link that cannot agree fails with
 * "could not link" while a pipeline is built or "not-negotiated" once it
 * runs, and says little about why. A #GstPxSolver looks at a whole bin in
 * NULL or READY instead:
 *
 * 1. It captures the graph: every element, the links made, and the links
 *    asked for but refused (gst_px_solver_request_link(); the
 *    parallax-launch tool and gst_px_parse_launch() record them).
 * 2. It propagates constraints to a fixpoint, like type inference: each
 *    link's upstream side answers what it can produce, the downstream side
 *    what it accepts, through the elements' own caps queries. A refused
 *    link is closed by two probe pads that answer with the current
 *    estimates, so constraints flow across it too.
 * 3. It repairs each link with no common caps with the cheapest chain of
 *    converters from its #GstPxConverterRegistry (Dijkstra over the fields
 *    the converters change and the memory they move to, cost plus quality
 *    lost), choosing where to convert for the pipeline as a whole: after a
 *    tee on the branches that need it, before it when that is cheaper.
 * 4. It reports a #GstPxPlan: the caps chosen per link (what the
 *    downstream side takes natively, keeping upstream's size, rate and
 *    channels where allowed), the conversions, and diagnostics with stable
 *    codes. gst_px_solver_apply() carries the plan out.
 *
 * Links from pads that appear at run time (demuxers) are solved when the
 * pad appears, with the same search.
 *
 * The solver's functions are called from the application's thread with the
 * bin in NULL or READY; the bin must not change state meanwhile.
 */
#include "gstpxsolverprivate.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_px_solver_debug);
#define GST_CAT_DEFAULT gst_px_solver_debug

/* Upper bounds: on propagation rounds per repair, and on repairs. */
#define PX_MAX_ROUNDS 8
#define PX_MAX_SPLITS 64

typedef struct
{
  GstElement *src;
  gchar *src_pad;
  GstElement *sink;
  gchar *sink_pad;
} PxRequest;

struct _GstPxSolver
{
  GObject parent;

  GstPxConverterRegistry *registry;
  GPtrArray *requests;          /* PxRequest */
  /* What gst_px_parse_launch_isolated() found (GstPxDiagnostic): in every
   * plan until one is applied. */
  GPtrArray *launch_diagnostics;
};

G_DEFINE_TYPE_WITH_CODE (GstPxSolver, gst_px_solver, G_TYPE_OBJECT,
    GST_DEBUG_CATEGORY_INIT (gst_px_solver_debug, "pxsolver", 0,
        "Parallax caps solver"));

GQuark
gst_px_solver_error_quark (void)
{
  return g_quark_from_static_string ("gst-px-solver-error-quark");
}

static void
px_request_free (PxRequest * r)
{
  gst_object_unref (r->src);
  gst_object_unref (r->sink);
  g_free (r->src_pad);
  g_free (r->sink_pad);
  g_free (r);
}

static void
gst_px_solver_finalize (GObject * object)
{
  GstPxSolver *self = GST_PX_SOLVER (object);

  g_clear_object (&self->registry);
  g_ptr_array_unref (self->requests);
  g_ptr_array_unref (self->launch_diagnostics);
  G_OBJECT_CLASS (gst_px_solver_parent_class)->finalize (object);
}

static void
gst_px_solver_class_init (GstPxSolverClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_px_solver_finalize;
}

static void
gst_px_solver_init (GstPxSolver * self)
{
  self->requests = g_ptr_array_new_with_free_func ((GDestroyNotify)
      px_request_free);
  self->launch_diagnostics = g_ptr_array_new_with_free_func (g_object_unref);
}

/* Takes @diagnostic. */
void
px_solver_add_launch_diagnostic (GstPxSolver * solver,
    GstPxDiagnostic * diagnostic)
{
  g_ptr_array_add (solver->launch_diagnostics, diagnostic);
}

/**
 * gst_px_solver_new:
 *
 * A solver with the default converter registry
 * (gst_px_converter_registry_new_default()).
 *
 * Returns: (transfer full): a new #GstPxSolver
 */
GstPxSolver *
gst_px_solver_new (void)
{
  GstPxSolver *self = g_object_new (GST_TYPE_PX_SOLVER, NULL);

  self->registry = gst_px_converter_registry_new_default ();
  return self;
}

/**
 * gst_px_solver_get_registry:
 * @solver: a #GstPxSolver
 *
 * Returns: (transfer none): the converters the solver may insert; add to
 *   it with gst_px_converter_registry_add()
 */
GstPxConverterRegistry *
gst_px_solver_get_registry (GstPxSolver * solver)
{
  g_return_val_if_fail (GST_IS_PX_SOLVER (solver), NULL);
  return solver->registry;
}

/**
 * gst_px_solver_set_registry:
 * @solver: a #GstPxSolver
 * @registry: (transfer none): the converters the solver may insert
 */
void
gst_px_solver_set_registry (GstPxSolver * solver,
    GstPxConverterRegistry * registry)
{
  g_return_if_fail (GST_IS_PX_SOLVER (solver));
  g_return_if_fail (GST_IS_PX_CONVERTER_REGISTRY (registry));
  g_set_object (&solver->registry, registry);
}

/**
 * gst_px_solver_request_link:
 * @solver: a #GstPxSolver
 * @src: the upstream element
 * @src_pad: (nullable): its pad name (or pad template name), %NULL for any
 * @sink: the downstream element
 * @sink_pad: (nullable): its pad name (or pad template name), %NULL for any
 *
 * Records a link the user asked for that is not made, typically because
 * gst_element_link() refused it. The next gst_px_solver_solve() repairs it
 * and gst_px_solver_apply() makes it. A link from a pad that does not exist
 * yet but may appear (a "sometimes" pad) is solved when it appears.
 */
void
gst_px_solver_request_link (GstPxSolver * solver, GstElement * src,
    const gchar * src_pad, GstElement * sink, const gchar * sink_pad)
{
  PxRequest *r;

  g_return_if_fail (GST_IS_PX_SOLVER (solver));
  g_return_if_fail (GST_IS_ELEMENT (src) && GST_IS_ELEMENT (sink));

  r = g_new0 (PxRequest, 1);
  r->src = gst_object_ref (src);
  r->sink = gst_object_ref (sink);
  r->src_pad = g_strdup (src_pad);
  r->sink_pad = g_strdup (sink_pad);
  g_ptr_array_add (solver->requests, r);
}

/* ------------------------------------------------------------------------ */
/* Capture */

/* Plain bins group elements; any other bin (autovideosink, decodebin) is an
 * element of its own to the solver. */
static gboolean
is_plain_bin (GstElement * e)
{
  return G_OBJECT_TYPE (e) == GST_TYPE_BIN ||
      G_OBJECT_TYPE (e) == GST_TYPE_PIPELINE;
}

static const gchar *
factory_name (GstElement * e)
{
  GstElementFactory *f = gst_element_get_factory (e);
  return f ? GST_OBJECT_NAME (f) : "";
}

/* sandboxbin is Parallax's plugin's, which this library does not link:
 * it is known by its factory and its "description" and "mode"
 * properties. */
gboolean
px_is_sandboxbin (GstElement * element)
{
  return g_str_equal (factory_name (element), "sandboxbin") &&
      g_object_class_find_property (G_OBJECT_GET_CLASS (element),
      "description") != NULL;
}

gboolean
px_sandboxbin_is_isolated (GstElement * element)
{
  GParamSpec *spec;
  GEnumValue *value;
  gint mode = 0;

  if (!px_is_sandboxbin (element))
    return FALSE;
  spec = g_object_class_find_property (G_OBJECT_GET_CLASS (element), "mode");
  if (spec == NULL || !G_IS_PARAM_SPEC_ENUM (spec))
    return FALSE;
  g_object_get (element, "mode", &mode, NULL);
  value = g_enum_get_value (G_PARAM_SPEC_ENUM (spec)->enum_class, mode);
  return value && g_str_equal (value->value_nick, "isolated");
}

static void
collect_elements (GstBin * bin, GPtrArray * out, guint depth)
{
  GList *children;

  GST_OBJECT_LOCK (bin);
  children = g_list_copy (bin->children);
  for (GList * l = children; l; l = l->next)
    gst_object_ref (l->data);
  GST_OBJECT_UNLOCK (bin);
  /* bin->children is newest first: walk it backwards, in the order the
   * elements were added, which is the order of a launch line. */
  for (GList * l = g_list_last (children); l; l = l->prev) {
    GstElement *e = l->data;
    if (is_plain_bin (e) && depth < 16)
      collect_elements (GST_BIN (e), out, depth + 1);
    else
      g_ptr_array_add (out, gst_object_ref (e));
  }
  g_list_free_full (children, gst_object_unref);
}

/* A sandboxbin's pads answer nothing useful before the bin starts: ghost
 * pads without a target. While the solver runs, they target the boundary
 * pads of the bin's description built here and never started — the
 * unlinked sink pad of the element written first and the unlinked src
 * pad — so caps queries cross the sandboxbin as they will cross its
 * worker. */
static void
px_shadow_free (PxShadow * shadow)
{
  if (shadow->ghost_sink)
    gst_ghost_pad_set_target (GST_GHOST_PAD (shadow->ghost_sink), NULL);
  if (shadow->ghost_src)
    gst_ghost_pad_set_target (GST_GHOST_PAD (shadow->ghost_src), NULL);
  gst_clear_object (&shadow->ghost_sink);
  gst_clear_object (&shadow->ghost_src);
  gst_object_unref (shadow->sandboxbin);
  gst_object_unref (shadow->shadow);
  g_free (shadow);
}

static void
shadow_boundary (GstBin * bin, GstPad ** sink, GstPad ** src,
    GstElement ** last)
{
  GList *children;

  GST_OBJECT_LOCK (bin);
  children = g_list_copy (bin->children);
  for (GList * l = children; l; l = l->next)
    gst_object_ref (l->data);
  GST_OBJECT_UNLOCK (bin);
  /* Newest first: the element written first is last. */
  for (GList * l = g_list_last (children); l; l = l->prev) {
    GstElement *e = l->data;

    GST_OBJECT_LOCK (e);
    for (GList * p = e->pads; p; p = p->next) {
      GstPad *pad = p->data;
      if (gst_pad_is_linked (pad))
        continue;
      if (GST_PAD_IS_SINK (pad) && *sink == NULL)
        *sink = gst_object_ref (pad);
      else if (GST_PAD_IS_SRC (pad) && *src == NULL) {
        *src = gst_object_ref (pad);
        *last = e;
      }
    }
    GST_OBJECT_UNLOCK (e);
  }
  g_list_free_full (children, gst_object_unref);
}

/* Targets @ghost (a pad of @bin, without a target) at @target. Takes
 * @target; returns the ghost pad, or NULL. */
static GstPad *
target_ghost (GstElement * bin, const gchar * name, GstPad * target)
{
  GstPad *ghost = gst_element_get_static_pad (bin, name);
  GstPad *old = ghost && GST_IS_GHOST_PAD (ghost) ?
      gst_ghost_pad_get_target (GST_GHOST_PAD (ghost)) : NULL;

  if (ghost == NULL || target == NULL || old != NULL ||
      !GST_IS_GHOST_PAD (ghost) ||
      !gst_ghost_pad_set_target (GST_GHOST_PAD (ghost), target))
    gst_clear_object (&ghost);
  gst_clear_object (&old);
  gst_clear_object (&target);
  return ghost;
}

static PxShadow *
open_shadow (GstElement * sandboxbin)
{
  g_autofree gchar *description = NULL;
  g_autoptr (GError) error = NULL;
  GstElement *bin;
  GstPad *sink = NULL, *src = NULL;
  GstElement *last = NULL;
  PxShadow *shadow;

  g_object_get (sandboxbin, "description", &description, NULL);
  if (description == NULL)
    return NULL;
  bin = gst_parse_bin_from_description_full (description, FALSE, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &error);
  if (bin == NULL) {
    GST_DEBUG_OBJECT (sandboxbin, "description not seen through: %s",
        error ? error->message : "?");
    return NULL;
  }
  shadow = g_new0 (PxShadow, 1);
  shadow->sandboxbin = gst_object_ref (sandboxbin);
  shadow->shadow = gst_object_ref_sink (bin);
  shadow->isolated = px_sandboxbin_is_isolated (sandboxbin);
  shadow_boundary (GST_BIN (bin), &sink, &src, &last);
  shadow->last = last;
  shadow->ghost_sink = target_ghost (sandboxbin, "sink", sink);
  shadow->ghost_src = target_ghost (sandboxbin, "src", src);
  return shadow;
}

static GPtrArray *
open_shadows (GPtrArray * elements)
{
  GPtrArray *shadows = g_ptr_array_new_with_free_func ((GDestroyNotify)
      px_shadow_free);

  for (guint i = 0; i < elements->len; i++) {
    GstElement *e = g_ptr_array_index (elements, i);
    PxShadow *shadow = px_is_sandboxbin (e) ? open_shadow (e) : NULL;
    if (shadow)
      g_ptr_array_add (shadows, shadow);
  }
  return shadows;
}

/* The pad of an element (not of a plain bin) at the far end of @pad's link,
 * through ghost pads. */
static GstPad *
resolve_peer (GstPad * pad)
{
  GstPad *p = gst_pad_get_peer (pad);

  for (guint depth = 0; p && depth < 32; depth++) {
    GstObject *parent = GST_OBJECT_PARENT (p);
    GstPad *next;

    if (GST_IS_GHOST_PAD (p) && parent && GST_IS_ELEMENT (parent) &&
        is_plain_bin (GST_ELEMENT (parent))) {
      next = gst_ghost_pad_get_target (GST_GHOST_PAD (p));
    } else if (GST_IS_PROXY_PAD (p) && parent && GST_IS_GHOST_PAD (parent) &&
        GST_OBJECT_PARENT (parent) &&
        is_plain_bin (GST_ELEMENT (GST_OBJECT_PARENT (parent)))) {
      next = gst_pad_get_peer (GST_PAD (parent));
    } else {
      break;
    }
    gst_object_unref (p);
    p = next;
  }
  return p;
}

static gchar *
pad_display_name (GstElement * element, const gchar * pad)
{
  return g_strdup_printf ("%s:%s", GST_OBJECT_NAME (element), pad);
}

static PxLink *
link_new (PxLinkKind kind, GstElement * src, GstPad * src_pad,
    GstElement * sink, GstPad * sink_pad)
{
  PxLink *link = g_new0 (PxLink, 1);

  link->kind = kind;
  link->src_element = gst_object_ref (src);
  link->sink_element = gst_object_ref (sink);
  link->src_pad = src_pad ? gst_object_ref (src_pad) : NULL;
  link->sink_pad = gst_object_ref (sink_pad);
  link->src_name = src_pad ? pad_display_name (src, GST_OBJECT_NAME (src_pad))
      : NULL;
  link->sink_name = pad_display_name (sink, GST_OBJECT_NAME (sink_pad));
  link->into_ipcsink = g_str_equal (factory_name (sink), "ipcsink");
  link->into_border = link->into_ipcsink || px_sandboxbin_is_isolated (sink);
  link->from_border = px_sandboxbin_is_isolated (src);
  return link;
}

static void
capture_real_links (GstPxPlan * plan, GPtrArray * elements)
{
  for (guint i = 0; i < elements->len; i++) {
    GstElement *e = g_ptr_array_index (elements, i);
    GstIterator *it = gst_element_iterate_src_pads (e);
    GValue v = G_VALUE_INIT;

    while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      GstPad *pad = g_value_get_object (&v);
      GstPad *peer = resolve_peer (pad);
      GstElement *sink = peer ? gst_pad_get_parent_element (peer) : NULL;

      if (sink && !is_plain_bin (sink))
        g_ptr_array_add (plan->links, link_new (PX_LINK_REAL, e, pad, sink,
                peer));
      gst_clear_object (&sink);
      gst_clear_object (&peer);
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
  }
}

static gboolean
pad_free (GstPad * pad)
{
  return pad && !gst_pad_is_linked (pad);
}

/* The pad @name names on @element: an existing pad, or one requested from
 * the template of that name. With no name, the first free pad of @dir
 * whose template can carry @like, or one requested. *requested tells
 * whether the solver asked for it; *dynamic whether it is a sometimes pad
 * still to come. */
static GstPad *
find_pad (GstElement * element, const gchar * name, GstPadDirection dir,
    const GstCaps * like, gboolean * requested, gboolean * dynamic)
{
  GstElementClass *klass = GST_ELEMENT_GET_CLASS (element);
  GstPad *pad = NULL;
  GstPad *fallback = NULL;

  *requested = *dynamic = FALSE;
  if (name) {
    GstPadTemplate *t;

    pad = gst_element_get_static_pad (element, name);
    if (pad)
      return pad;
    t = gst_element_class_get_pad_template (klass, name);
    if (t && GST_PAD_TEMPLATE_PRESENCE (t) == GST_PAD_REQUEST) {
      pad = gst_element_request_pad (element, t, NULL, NULL);
      *requested = pad != NULL;
      return pad;
    }
    if (t == NULL) {
      /* A name like video_0 of a request template video_%u. */
      pad = gst_element_request_pad_simple (element, name);
      *requested = pad != NULL;
      if (pad)
        return pad;
    }
    for (GList * l = gst_element_class_get_pad_template_list (klass); l;
        l = l->next) {
      GstPadTemplate *tt = l->data;
      if (GST_PAD_TEMPLATE_DIRECTION (tt) == dir &&
          GST_PAD_TEMPLATE_PRESENCE (tt) == GST_PAD_SOMETIMES)
        *dynamic = TRUE;
    }
    return NULL;
  }

  {
    GstIterator *it = dir == GST_PAD_SRC ?
        gst_element_iterate_src_pads (element) :
        gst_element_iterate_sink_pads (element);
    GValue v = G_VALUE_INIT;
    while (!pad && gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      GstPad *p = g_value_get_object (&v);
      if (pad_free (p)) {
        g_autoptr (GstCaps) tcaps = gst_pad_get_pad_template_caps (p);
        if (like == NULL || gst_caps_can_intersect (tcaps, like))
          pad = gst_object_ref (p);
        else if (fallback == NULL)
          fallback = gst_object_ref (p);
      }
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
  }
  if (pad) {
    gst_clear_object (&fallback);
    return pad;
  }
  /* A request template whose caps can carry @like, else the first. */
  {
    GstPadTemplate *best = NULL, *first = NULL;
    for (GList * l = gst_element_class_get_pad_template_list (klass); l;
        l = l->next) {
      GstPadTemplate *t = l->data;
      if (GST_PAD_TEMPLATE_DIRECTION (t) != dir)
        continue;
      if (GST_PAD_TEMPLATE_PRESENCE (t) == GST_PAD_SOMETIMES)
        *dynamic = TRUE;
      if (GST_PAD_TEMPLATE_PRESENCE (t) != GST_PAD_REQUEST)
        continue;
      first = first ? first : t;
      if (!best && like && gst_caps_can_intersect (GST_PAD_TEMPLATE_CAPS (t),
              like))
        best = t;
    }
    if (best || (first && !fallback)) {
      pad = gst_element_request_pad (element, best ? best : first, NULL, NULL);
      *requested = pad != NULL;
    }
  }
  if (pad) {
    gst_clear_object (&fallback);
    *dynamic = FALSE;
    return pad;
  }
  if (fallback)
    *dynamic = FALSE;
  return fallback;
}

static GstPad *muxer_pad_for (GstElement * muxer, const GstCaps * like,
    GPtrArray * converters);

/* A requested link, or a diagnostic if a pad is missing. */
static void
capture_request (GstPxPlan * plan, PxRequest * r, GPtrArray * converters)
{
  gboolean src_req, src_dyn, sink_req, sink_dyn;
  GstPad *src_pad, *sink_pad;
  g_autoptr (GstCaps) like = NULL;
  PxLink *link;

  src_pad = find_pad (r->src, r->src_pad, GST_PAD_SRC, NULL, &src_req,
      &src_dyn);
  if (src_pad)
    like = gst_pad_query_caps (src_pad, NULL);
  /* A muxer's pad is requested from the template that takes the input at
   * the least cost; a pad requested and released again can leave a
   * muxer waiting on it. */
  sink_pad = r->sink_pad == NULL && like ? muxer_pad_for (r->sink, like,
      converters) : NULL;
  sink_req = sink_pad != NULL;
  sink_dyn = FALSE;
  if (sink_pad == NULL)
    sink_pad = find_pad (r->sink, r->sink_pad, GST_PAD_SINK, like, &sink_req,
        &sink_dyn);
  if (sink_pad && src_pad == NULL && src_dyn) {
    link = link_new (PX_LINK_DYNAMIC, r->src, NULL, r->sink, sink_pad);
    link->src_name = pad_display_name (r->src, r->src_pad ? r->src_pad :
        "(sometimes pad)");
    link->src_pad_wanted = g_strdup (r->src_pad);
    link->sink_pad_requested = sink_req;
    link->status = PX_LINK_PENDING;
    g_ptr_array_add (plan->links, link);
    gst_object_unref (sink_pad);
    return;
  }
  /* Elements in different bins are linked through ghost pads once the
   * plan is applied; while solving, the probes join them directly. */
  if (src_pad == NULL || sink_pad == NULL || gst_pad_is_linked (src_pad) ||
      gst_pad_is_linked (sink_pad)) {
    gboolean missing_src = src_pad == NULL || gst_pad_is_linked (src_pad);
    GstElement *e = missing_src ? r->src : r->sink;
    const gchar *name = missing_src ? r->src_pad : r->sink_pad;
    gchar *message;

    message = g_strdup_printf ("%s has no free %s pad%s%s%s",
        GST_OBJECT_NAME (e), missing_src ? "source" : "sink",
        name ? " named \"" : "", name ? name : "", name ? "\"" : "");
    px_plan_add_diagnostic (plan, px_diagnostic_new
        (GST_PX_DIAGNOSTIC_NO_SUCH_PAD, GST_OBJECT_NAME (r->src),
            GST_OBJECT_NAME (r->sink), message));
    if (src_pad && src_req)
      gst_element_release_request_pad (r->src, src_pad);
    if (sink_pad && sink_req)
      gst_element_release_request_pad (r->sink, sink_pad);
    gst_clear_object (&src_pad);
    gst_clear_object (&sink_pad);
    return;
  }
  link = link_new (PX_LINK_REQUESTED, r->src, src_pad, r->sink, sink_pad);
  link->src_pad_requested = src_req;
  link->sink_pad_requested = sink_req;
  link->sink_pad_named = r->sink_pad != NULL;
  g_ptr_array_add (plan->links, link);
  gst_object_unref (src_pad);
  gst_object_unref (sink_pad);
}

/* ------------------------------------------------------------------------ */
/* Muxers */

static gboolean
is_muxer (GstElement * e)
{
  GstElementFactory *f = gst_element_get_factory (e);
  const gchar *klass = f ? gst_element_factory_get_metadata (f,
      GST_ELEMENT_METADATA_KLASS) : NULL;

  return klass && strstr (klass, "Muxer") != NULL;
}

/* How one input can enter a muxer: through a request template, as one
 * format it accepts, at a cost (0: natively). */
typedef struct
{
  GstPadTemplate *templ;
  GstCaps *format;              /* NULL: no way in through templ */
  GPtrArray *converters;        /* the registry's and the encoders */
  guint cost;
  gchar *chain;                 /* "videoconvert ! x264enc", or "" */
} PxMuxOption;

static void
mux_option_clear (PxMuxOption * o)
{
  gst_clear_caps (&o->format);
  g_clear_pointer (&o->converters, g_ptr_array_unref);
  g_clear_pointer (&o->chain, g_free);
}

/* Each format @accepted lists, as caps of one structure with one format. */
static GPtrArray *
format_options (const GstCaps * accepted)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_caps_unref);

  for (guint i = 0; i < gst_caps_get_size (accepted); i++) {
    const GstStructure *st = gst_caps_get_structure (accepted, i);
    GstCapsFeatures *f = gst_caps_get_features (accepted, i);
    const GValue *formats = gst_structure_get_value (st, "format");
    guint n = formats && GST_VALUE_HOLDS_LIST (formats) ?
        gst_value_list_get_size (formats) : 1;

    for (guint k = 0; k < n; k++) {
      GstStructure *one = gst_structure_copy (st);
      GstCaps *caps = gst_caps_new_empty ();
      if (n > 1)
        gst_structure_set_value (one, "format",
            gst_value_list_get_value (formats, k));
      gst_caps_append_structure_full (caps, one,
          f ? gst_caps_features_copy (f) : NULL);
      g_ptr_array_add (out, caps);
    }
  }
  return out;
}

static gchar *
chain_names (PxChain * chain)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; chain && i < chain->converters->len; i++)
    g_string_append_printf (s, "%s%s", i ? " ! " : "",
        gst_px_converter_get_factory_name (g_ptr_array_index
            (chain->converters, i)));
  return g_string_free (s, FALSE);
}

/* The cheapest format @templ accepts for what @upstream offers. */
static void
mux_option (PxMuxOption * o, GstPadTemplate * templ, const GstCaps * upstream,
    GPtrArray * converters)
{
  g_autoptr (GstCaps) accepted = gst_pad_template_get_caps (templ);
  g_autoptr (GPtrArray) encoders = px_encoders_for (accepted);
  g_autoptr (GPtrArray) formats = format_options (accepted);

  memset (o, 0, sizeof (*o));
  o->templ = templ;
  o->cost = G_MAXUINT;
  o->converters = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < converters->len; i++)
    g_ptr_array_add (o->converters,
        g_object_ref (g_ptr_array_index (converters, i)));
  for (guint i = 0; i < encoders->len; i++)
    g_ptr_array_add (o->converters,
        g_object_ref (g_ptr_array_index (encoders, i)));
  for (guint i = 0; i < formats->len && o->cost > 0; i++) {
    GstCaps *format = g_ptr_array_index (formats, i);
    PxChain *chain = NULL;
    guint cost;

    if (gst_caps_can_intersect (upstream, format))
      cost = 0;
    else if ((chain = px_search (o->converters, upstream, format)) != NULL)
      cost = chain->cost;
    else
      continue;
    if (cost < o->cost) {
      o->cost = cost;
      gst_caps_replace (&o->format, format);
      g_free (o->chain);
      o->chain = chain_names (chain);
    }
    px_chain_free (chain);
  }
}

/* For an input that no template of @muxer takes as it is, a pad of the
 * template that takes it at the least cost; NULL otherwise. */
static GstPad *
muxer_pad_for (GstElement * muxer, const GstCaps * like, GPtrArray * converters)
{
  GstPadTemplate *best = NULL;
  guint best_cost = G_MAXUINT;

  if (!is_muxer (muxer))
    return NULL;
  for (GList * l = gst_element_class_get_pad_template_list
      (GST_ELEMENT_GET_CLASS (muxer)); l; l = l->next) {
    GstPadTemplate *t = l->data;
    PxMuxOption o;

    if (GST_PAD_TEMPLATE_DIRECTION (t) != GST_PAD_SINK ||
        GST_PAD_TEMPLATE_PRESENCE (t) != GST_PAD_REQUEST)
      continue;
    if (gst_caps_can_intersect (GST_PAD_TEMPLATE_CAPS (t), like))
      return NULL;
    mux_option (&o, t, like, converters);
    if (o.format && o.cost < best_cost) {
      best = t;
      best_cost = o.cost;
    }
    mux_option_clear (&o);
  }
  return best ? gst_element_request_pad (muxer, best, NULL, NULL) : NULL;
}

typedef struct
{
  GPtrArray *inputs;            /* PxLink */
  PxMuxOption *options;         /* [input * n_templates + template] */
  guint n_templates;
  gint *pick, *best;
  guint best_cost;
} PxMuxChoice;

static gboolean
template_is_single (GstPadTemplate * t)
{
  return strchr (GST_PAD_TEMPLATE_NAME_TEMPLATE (t), '%') == NULL;
}

/* Every assignment of inputs to templates, a template without "%" to one
 * input at most: few inputs and templates, so an exhaustive search. */
static void
mux_assign (PxMuxChoice * c, guint input, guint cost)
{
  if (cost >= c->best_cost)
    return;
  if (input == c->inputs->len) {
    c->best_cost = cost;
    memcpy (c->best, c->pick, sizeof (gint) * c->inputs->len);
    return;
  }
  for (guint t = 0; t < c->n_templates; t++) {
    PxMuxOption *o = &c->options[input * c->n_templates + t];
    gboolean taken = FALSE;

    if (o->format == NULL)
      continue;
    for (guint j = 0; template_is_single (o->templ) && j < input; j++)
      taken |= c->pick[j] == (gint) t;
    if (taken)
      continue;
    c->pick[input] = t;
    mux_assign (c, input + 1, cost + o->cost);
  }
}

/* Moves @link to a pad of @templ, if its pad is of another template or
 * already taken by another input (@taken: GstPad). */
static gboolean
mux_repad (PxLink * link, GstPadTemplate * templ, GPtrArray * taken)
{
  GstPad *pad;

  /* Two inputs may have been given the same free pad, which the first
   * may have released since. */
  if (GST_PAD_PAD_TEMPLATE (link->sink_pad) == templ &&
      GST_OBJECT_PARENT (link->sink_pad) == GST_OBJECT (link->sink_element) &&
      !g_ptr_array_find (taken, link->sink_pad, NULL))
    return TRUE;
  if (link->sink_pad_named)
    return FALSE;
  pad = gst_element_request_pad (link->sink_element, templ, NULL, NULL);
  if (pad == NULL)
    return FALSE;
  /* A pad the solver did not request (a free one the element had) stays. */
  if (link->sink_pad_requested &&
      GST_OBJECT_PARENT (link->sink_pad) == GST_OBJECT (link->sink_element))
    gst_element_release_request_pad (link->sink_element, link->sink_pad);
  link->sink_pad_requested = TRUE;
  gst_object_unref (link->sink_pad);
  link->sink_pad = pad;
  g_free (link->sink_name);
  link->sink_name = pad_display_name (link->sink_element,
      GST_OBJECT_NAME (pad));
  return TRUE;
}

static void
mux_apply (GstPxPlan * plan, GstElement * muxer, PxMuxChoice * c)
{
  GString *note = g_string_new (NULL);
  g_autoptr (GPtrArray) taken = g_ptr_array_new ();

  for (guint i = 0; i < c->inputs->len; i++) {
    PxLink *link = g_ptr_array_index (c->inputs, i);
    PxMuxOption *o = &c->options[i * c->n_templates + c->best[i]];
    g_autofree gchar *format = px_caps_summary (o->format);

    if (!mux_repad (link, o->templ, taken))
      continue;
    g_ptr_array_add (taken, link->sink_pad);
    if (o->cost > 0) {
      link->target = gst_caps_ref (o->format);
      link->converters = g_ptr_array_ref (o->converters);
    }
    g_string_append_printf (note, "%s%s as %s (%s%s%u)", i ? ", " : "",
        link->sink_name, format, o->chain[0] ? o->chain : "natively",
        o->chain[0] ? ", cost " : ", cost ", o->cost);
  }
  px_plan_add_diagnostic (plan, px_diagnostic_new
      (GST_PX_DIAGNOSTIC_MUXER_INPUTS, NULL, GST_OBJECT_NAME (muxer),
          g_strdup_printf ("%s takes %s: the formats it accepts at the least "
              "total cost, %u", GST_OBJECT_NAME (muxer), note->str,
              c->best_cost)));
  g_string_free (note, TRUE);
}

/* A muxer takes each of its inputs in one of many formats, raw or
 * encoded, through pads of several templates. The links to it that
 * GStreamer refused are chosen together: each input gets the template
 * and the format the muxer accepts that cost least in total — converters
 * and, since a muxer stores what it gets, encoders. */
static void
choose_muxer_inputs (GstPxPlan * plan, GstElement * muxer,
    GPtrArray * converters)
{
  g_autoptr (GPtrArray) templates = g_ptr_array_new ();
  PxMuxChoice c = { g_ptr_array_new (), NULL, 0, NULL, NULL, G_MAXUINT };

  for (GList * l = gst_element_class_get_pad_template_list
      (GST_ELEMENT_GET_CLASS (muxer)); l; l = l->next)
    if (GST_PAD_TEMPLATE_DIRECTION (l->data) == GST_PAD_SINK &&
        GST_PAD_TEMPLATE_PRESENCE (l->data) == GST_PAD_REQUEST)
      g_ptr_array_add (templates, l->data);
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *l = g_ptr_array_index (plan->links, i);
    if (l->kind == PX_LINK_REQUESTED && l->sink_element == muxer &&
        c.inputs->len < 8)
      g_ptr_array_add (c.inputs, l);
  }
  c.n_templates = templates->len;
  if (c.inputs->len == 0 || c.n_templates == 0) {
    g_ptr_array_unref (c.inputs);
    return;
  }
  c.options = g_new0 (PxMuxOption, c.inputs->len * c.n_templates);
  c.pick = g_new0 (gint, c.inputs->len);
  c.best = g_new0 (gint, c.inputs->len);
  for (guint i = 0; i < c.inputs->len; i++) {
    PxLink *link = g_ptr_array_index (c.inputs, i);
    g_autoptr (GstCaps) up = gst_pad_query_caps (link->src_pad, NULL);

    plan->caps_queries++;
    for (guint t = 0; t < c.n_templates; t++) {
      GstPadTemplate *templ = g_ptr_array_index (templates, t);
      if (link->sink_pad_named &&
          GST_PAD_PAD_TEMPLATE (link->sink_pad) != templ)
        c.options[i * c.n_templates + t].templ = templ;
      else
        mux_option (&c.options[i * c.n_templates + t], templ, up, converters);
    }
  }
  mux_assign (&c, 0, 0);
  if (c.best_cost != G_MAXUINT)
    mux_apply (plan, muxer, &c);
  for (guint i = 0; i < c.inputs->len * c.n_templates; i++)
    mux_option_clear (&c.options[i]);
  g_free (c.options);
  g_free (c.pick);
  g_free (c.best);
  g_ptr_array_unref (c.inputs);
}

static void
choose_muxers (GstPxPlan * plan, GPtrArray * elements, GPtrArray * converters)
{
  for (guint i = 0; i < elements->len; i++)
    if (is_muxer (g_ptr_array_index (elements, i)))
      choose_muxer_inputs (plan, g_ptr_array_index (elements, i), converters);
}

/* Always pads nothing links stop the stream with not-linked. */
static void
warn_unlinked (GstPxPlan * plan, GPtrArray * elements)
{
  for (guint i = 0; i < elements->len; i++) {
    GstElement *e = g_ptr_array_index (elements, i);
    GstIterator *it = gst_element_iterate_src_pads (e);
    GValue v = G_VALUE_INIT;

    while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      GstPad *pad = g_value_get_object (&v);
      gboolean used = gst_pad_is_linked (pad);

      for (guint l = 0; !used && l < plan->links->len; l++)
        used = ((PxLink *) g_ptr_array_index (plan->links, l))->src_pad == pad;
      if (!used && GST_PAD_PAD_TEMPLATE (pad) &&
          GST_PAD_TEMPLATE_PRESENCE (GST_PAD_PAD_TEMPLATE (pad)) ==
          GST_PAD_ALWAYS) {
        g_autofree gchar *name = pad_display_name (e, GST_OBJECT_NAME (pad));
        px_plan_add_diagnostic (plan,
            px_diagnostic_new (GST_PX_DIAGNOSTIC_UNLINKED_PAD, name, NULL,
                g_strdup_printf ("%s is not linked: the stream stops with "
                    "not-linked when it reaches it", name)));
      }
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
  }
}

/* ------------------------------------------------------------------------ */
/* Propagation */

/* Answers CAPS queries on a probe pad with the link's current estimate:
 * what arrives after conversion (probe_src) or what the conversion takes
 * (probe_sink). */
static gboolean
probe_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  PxLink *link = pad->querydata;
  GstCaps *estimate = GST_PAD_IS_SRC (pad) ? link->arriving : link->accepted;
  GstCaps *filter, *caps;

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:
      (*link->queries)++;
      gst_query_parse_caps (query, &filter);
      if (estimate == NULL)
        caps = filter ? gst_caps_ref (filter) : gst_caps_new_any ();
      else if (filter)
        caps = gst_caps_intersect_full (filter, estimate,
            GST_CAPS_INTERSECT_FIRST);
      else
        caps = gst_caps_ref (estimate);
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    case GST_QUERY_ACCEPT_CAPS:{
      GstCaps *c;
      gst_query_parse_accept_caps (query, &c);
      gst_query_set_accept_caps_result (query, estimate == NULL ||
          gst_caps_can_intersect (c, estimate));
      return TRUE;
    }
    default:
      return FALSE;
  }
}

static GstPad *
probe_new (PxLink * link, GstPadDirection dir)
{
  GstPad *pad = gst_pad_new (dir == GST_PAD_SRC ? "solver-probe-src" :
      "solver-probe-sink", dir);

  gst_pad_set_query_function_full (pad, probe_query, link, NULL);
  return gst_object_ref_sink (pad);
}

/* Closes an unlinked (or temporarily unlinked) link with probes. */
static void
attach_probes (PxLink * link, guint * queries)
{
  link->queries = queries;
  link->probe_src = probe_new (link, GST_PAD_SRC);
  link->probe_sink = probe_new (link, GST_PAD_SINK);
  gst_pad_link_full (link->src_pad, link->probe_sink,
      GST_PAD_LINK_CHECK_NOTHING);
  gst_pad_link_full (link->probe_src, link->split_peer ? link->split_peer :
      link->sink_pad, GST_PAD_LINK_CHECK_NOTHING);
}

/* Unlinks a real link so that converters can go on it: the solver treats it
 * like a requested one from now on, and relinks it when done. */
static void
split_link (PxLink * link, guint * queries)
{
  link->split_peer = gst_pad_get_peer (link->src_pad);
  gst_pad_unlink (link->src_pad, link->split_peer);
  attach_probes (link, queries);
}

static void
restore_link (PxLink * link)
{
  if (link->probe_src == NULL)
    return;
  gst_pad_unlink (link->src_pad, link->probe_sink);
  gst_pad_unlink (link->probe_src, link->split_peer ? link->split_peer :
      link->sink_pad);
  gst_clear_object (&link->probe_src);
  gst_clear_object (&link->probe_sink);
  if (link->split_peer) {
    gst_pad_link_full (link->src_pad, link->split_peer,
        GST_PAD_LINK_CHECK_NOTHING);
    gst_clear_object (&link->split_peer);
  }
}

static gboolean
caps_equal (GstCaps * a, GstCaps * b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return gst_caps_is_equal (a, b);
}

static void
set_estimate (GstCaps ** slot, GstCaps * caps, gboolean * changed)
{
  if (!caps_equal (*slot, caps))
    *changed = TRUE;
  gst_caps_replace (slot, caps);
}

static gboolean is_tee (GstElement * e);

/* A tee's source pads answer with what upstream makes, but what leaves the
 * tee is also what every branch without converters accepts: the branch
 * that gets converters converts from that. */
static void
narrow_tee_branches (GstPxPlan * plan)
{
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *link = g_ptr_array_index (plan->links, i);
    GstCaps *flows;

    if (link->probe_src == NULL || link->upstream == NULL ||
        !is_tee (link->src_element))
      continue;
    flows = gst_caps_ref (link->upstream);
    for (guint j = 0; j < plan->links->len; j++) {
      PxLink *other = g_ptr_array_index (plan->links, j);
      if (other != link && other->src_element == link->src_element &&
          other->probe_src == NULL && other->downstream)
        gst_caps_take (&flows, gst_caps_intersect (flows, other->downstream));
    }
    if (!gst_caps_is_empty (flows))
      gst_caps_take (&link->upstream, flows);
    else
      gst_caps_unref (flows);
  }
}

/* Queries both sides of every link; for links with probes, derives the
 * probes' next answers. Returns whether an answer changed. */
/* The converters a link may get: a muxer's input may also be encoded. */
static GPtrArray *
link_converters (PxLink * link, GPtrArray * converters)
{
  return link->converters ? link->converters : converters;
}

static gboolean
propagate_once (GstPxPlan * plan, GPtrArray * registry)
{
  gboolean changed = FALSE;

  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *link = g_ptr_array_index (plan->links, i);

    if (link->src_pad == NULL)
      continue;
    gst_clear_caps (&link->upstream);
    gst_clear_caps (&link->downstream);
    link->upstream = gst_pad_query_caps (link->src_pad, NULL);
    link->downstream = gst_pad_query_caps (link->sink_pad, NULL);
    plan->caps_queries += 2;
  }
  narrow_tee_branches (plan);
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *link = g_ptr_array_index (plan->links, i);
    GPtrArray *converters = link_converters (link, registry);
    PxChain *chain;

    if (link->probe_src == NULL)
      continue;
    if (link->target && (chain = px_search (converters, link->upstream,
                link->target)) != NULL) {
      GstCaps *out = gst_caps_intersect (chain->output, link->target);
      set_estimate (&link->arriving, out, &changed);
      set_estimate (&link->accepted, chain->input, &changed);
      gst_caps_unref (out);
      px_chain_free (chain);
    } else if (gst_caps_can_intersect (link->upstream, link->downstream)) {
      set_estimate (&link->arriving, link->upstream, &changed);
      set_estimate (&link->accepted, link->downstream, &changed);
    } else if ((chain = px_search (converters, link->upstream,
                link->downstream)) != NULL) {
      set_estimate (&link->arriving, chain->output, &changed);
      set_estimate (&link->accepted, chain->input, &changed);
      px_chain_free (chain);
    } else {
      /* Impossible: let each side go on as if the other accepted anything,
       * so that one error is reported once, not on every link after it. */
      set_estimate (&link->arriving, NULL, &changed);
      set_estimate (&link->accepted, NULL, &changed);
    }
  }
  return changed;
}

static void
propagate (GstPxPlan * plan, GPtrArray * converters)
{
  for (guint round = 0; round < PX_MAX_ROUNDS; round++)
    if (!propagate_once (plan, converters))
      break;
}

/* Distance of each link's sink element from the sources, so that repairs go
 * nearest to the constraint downstream (where one writes a videoconvert by
 * hand: just before the encoder). */
static void
link_depths (GstPxPlan * plan, GHashTable * depth)
{
  for (guint pass = 0; pass <= plan->links->len; pass++) {
    gboolean changed = FALSE;
    for (guint i = 0; i < plan->links->len; i++) {
      PxLink *l = g_ptr_array_index (plan->links, i);
      guint d = GPOINTER_TO_UINT (g_hash_table_lookup (depth,
              l->src_element)) + 1;
      if (d > GPOINTER_TO_UINT (g_hash_table_lookup (depth, l->sink_element))
          && d < 100000) {
        g_hash_table_insert (depth, l->sink_element, GUINT_TO_POINTER (d));
        changed = TRUE;
      }
    }
    if (!changed)
      break;
  }
}

static gboolean
is_tee (GstElement * e)
{
  return g_str_equal (factory_name (e), "tee");
}

static gboolean
link_fails (PxLink * link)
{
  return link->src_pad && link->upstream && link->downstream &&
      !gst_caps_can_intersect (link->upstream, link->downstream);
}

/* A tee sends the same caps to every branch: its sink accepts only what
 * all branches share. When they share nothing (or nothing upstream makes),
 * choose for the pipeline as a whole: convert before the tee, or on the
 * branches that need it, after the tee, with the caps most branches take
 * natively. Returns whether a link was split for converters. */
static gboolean
repair_tee (GstPxPlan * plan, PxLink * in, GPtrArray * converters)
{
  g_autoptr (GPtrArray) branches = g_ptr_array_new ();
  g_autofree gboolean *convert = NULL, *best = NULL;
  guint best_cost = G_MAXUINT;
  gboolean before = FALSE, split = FALSE;

  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *l = g_ptr_array_index (plan->links, i);
    if (l->src_element == in->sink_element && l->src_pad && l->downstream)
      g_ptr_array_add (branches, l);
  }
  convert = g_new0 (gboolean, branches->len + 1);
  best = g_new0 (gboolean, branches->len + 1);

  if (!gst_caps_is_empty (in->downstream)) {
    PxChain *chain = px_search (converters, in->upstream, in->downstream);
    if (chain) {
      best_cost = chain->cost;
      before = TRUE;
      px_chain_free (chain);
    }
  }
  /* Seed the tee's caps with each branch in turn (or upstream alone). */
  for (gint seed = -1; seed < (gint) branches->len; seed++) {
    g_autoptr (GstCaps) caps = NULL;
    guint total = 0;
    gboolean ok = TRUE;

    caps = seed < 0 ? gst_caps_ref (in->upstream) :
        gst_caps_intersect (in->upstream,
        ((PxLink *) g_ptr_array_index (branches, seed))->downstream);
    if (gst_caps_is_empty (caps))
      continue;
    for (guint j = 0; ok && j < branches->len; j++) {
      PxLink *b = g_ptr_array_index (branches, j);
      PxChain *chain;

      convert[j] = FALSE;
      if (gst_caps_can_intersect (caps, b->downstream)) {
        GstCaps *narrower = gst_caps_intersect (caps, b->downstream);
        gst_caps_take (&caps, narrower);
        continue;
      }
      chain = px_search (converters, caps, b->downstream);
      ok = chain != NULL;
      if (chain)
        total += chain->cost;
      convert[j] = TRUE;
      px_chain_free (chain);
    }
    if (ok && total < best_cost) {
      best_cost = total;
      before = FALSE;
      memcpy (best, convert, sizeof (gboolean) * branches->len);
    }
  }
  if (best_cost == G_MAXUINT)
    return FALSE;
  if (before) {
    split_link (in, &plan->caps_queries);
    return TRUE;
  }
  for (guint j = 0; j < branches->len; j++) {
    PxLink *b = g_ptr_array_index (branches, j);
    if (best[j] && b->probe_src == NULL) {
      split_link (b, &plan->caps_queries);
      split = TRUE;
    }
  }
  return split;
}

static gboolean
both_sides_known (PxLink * link)
{
  return !gst_caps_is_empty (link->upstream) &&
      !gst_caps_is_empty (link->downstream);
}

static gboolean
is_transparent (GstElement * e)
{
  const gchar *f = factory_name (e);
  return g_str_equal (f, "queue") || g_str_equal (f, "queue2") ||
      g_str_equal (f, "identity");
}

static PxLink *
link_into (GstPxPlan * plan, GstElement * sink)
{
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *l = g_ptr_array_index (plan->links, i);
    if (l->sink_element == sink && l->src_pad)
      return l;
  }
  return NULL;
}

/* The link out of @tee that @link is on, if only queues and identities lie
 * between them. */
static PxLink *
tee_branch_of (GstPxPlan * plan, PxLink * link, GstElement * tee)
{
  PxLink *l = link;

  for (guint steps = 0; l && steps < 16; steps++) {
    if (l->src_element == tee)
      return l;
    if (!is_transparent (l->src_element))
      return NULL;
    l = link_into (plan, l->src_element);
  }
  return NULL;
}

/* Several branches of a tee converting to the same caps cost more than one
 * conversion before the tee. Chooses, for the pipeline as a whole, to
 * convert once before it when that is cheaper: the tee's input then
 * converts to what every branch accepts, and the branches take it as it
 * is. Returns whether it changed the plan. */
static gboolean
hoist_before_tee (GstPxPlan * plan, GstElement * tee, GPtrArray * converters)
{
  PxLink *in = link_into (plan, tee);
  g_autoptr (GstCaps) target = NULL;
  guint branch_cost = 0, converting = 0;
  PxChain *chain;

  if (in == NULL || in->target || in->upstream == NULL)
    return FALSE;
  target = gst_caps_new_any ();
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *b = g_ptr_array_index (plan->links, i);
    GstCaps *need = NULL;

    if (b->src_element != tee || b->downstream == NULL)
      continue;
    /* What this branch accepts without converters: the downstream side of
     * a failing link on it, else what the branch takes. */
    for (guint j = 0; j < plan->links->len; j++) {
      PxLink *l = g_ptr_array_index (plan->links, j);
      if (l->probe_src && link_fails (l) && !l->target &&
          tee_branch_of (plan, l, tee) == b) {
        PxChain *c = px_search (converters, l->upstream, l->downstream);
        if (c == NULL)
          return FALSE;
        branch_cost += c->cost;
        converting++;
        px_chain_free (c);
        need = l->downstream;
        break;
      }
    }
    if (need == NULL)
      need = b->downstream;
    gst_caps_take (&target, gst_caps_intersect (target, need));
  }
  if (converting < 2 || gst_caps_is_empty (target))
    return FALSE;
  chain = px_search (converters, in->upstream, target);
  if (chain == NULL || chain->cost >= branch_cost) {
    px_chain_free (chain);
    return FALSE;
  }
  px_chain_free (chain);
  in->target = gst_caps_ref (target);
  if (in->probe_src == NULL)
    split_link (in, &plan->caps_queries);
  return TRUE;
}

/* Picks the next link to repair: the failing real link nearest to the
 * downstream constraint, else a tee whose branches disagree. */
static gboolean
choose_repair (GstPxPlan * plan, GPtrArray * converters)
{
  g_autoptr (GHashTable) depth = g_hash_table_new (NULL, NULL);
  PxLink *worst = NULL;
  guint worst_depth = 0;

  link_depths (plan, depth);
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *l = g_ptr_array_index (plan->links, i);
    guint d;

    if (l->kind != PX_LINK_REAL || l->probe_src || !link_fails (l) ||
        is_tee (l->sink_element) || !both_sides_known (l))
      continue;
    d = GPOINTER_TO_UINT (g_hash_table_lookup (depth, l->sink_element));
    if (worst == NULL || d > worst_depth) {
      worst = l;
      worst_depth = d;
    }
  }
  if (worst) {
    split_link (worst, &plan->caps_queries);
    return TRUE;
  }
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *l = g_ptr_array_index (plan->links, i);
    if (l->kind == PX_LINK_REAL && l->probe_src == NULL && link_fails (l) &&
        is_tee (l->sink_element) && !gst_caps_is_empty (l->upstream) &&
        repair_tee (plan, l, converters))
      return TRUE;
  }
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *l = g_ptr_array_index (plan->links, i);
    if (is_tee (l->sink_element) && hoist_before_tee (plan, l->sink_element,
            converters))
      return TRUE;
  }
  return FALSE;
}

/* Fixes what is left open in @caps, preferring upstream's values: keep the
 * size, rate, channels and format the source has unless downstream forbids
 * them. Downstream's order already ranks its native formats first. */
static GstCaps *
fixate_preferring (GstCaps * caps, const GstCaps * upstream)
{
  GstStructure *s;
  const GstStructure *us = NULL;

  if (gst_caps_is_any (caps) || gst_caps_is_empty (caps))
    return caps;
  caps = gst_caps_truncate (caps);
  caps = gst_caps_make_writable (caps);
  s = gst_caps_get_structure (caps, 0);
  for (guint i = 0; upstream && !gst_caps_is_any (upstream) &&
      i < gst_caps_get_size (upstream); i++)
    if (gst_structure_has_name (gst_caps_get_structure (upstream, i),
            gst_structure_get_name (s))) {
      us = gst_caps_get_structure (upstream, i);
      break;
    }
  for (gint f = 0; us && f < gst_structure_n_fields (s); f++) {
    const gchar *name = gst_structure_nth_field_name (s, f);
    const GValue *uv = gst_structure_get_value (us, name);
    GValue both = G_VALUE_INIT;

    if (uv && gst_value_intersect (&both, gst_structure_get_value (s, name),
            uv)) {
      gst_structure_take_value (s, name, &both);
    }
  }
  /* Lists become their first value (the downstream side's preference);
   * ranges stay: the elements fixate those when they negotiate. */
  for (gint f = 0; f < gst_structure_n_fields (s); f++) {
    const gchar *name = gst_structure_nth_field_name (s, f);
    const GValue *v = gst_structure_get_value (s, name);
    if (GST_VALUE_HOLDS_LIST (v) && gst_value_list_get_size (v) > 0) {
      GValue first = G_VALUE_INIT;
      g_value_init (&first, G_VALUE_TYPE (gst_value_list_get_value (v, 0)));
      g_value_copy (gst_value_list_get_value (v, 0), &first);
      gst_structure_take_value (s, name, &first);
    }
  }
  return caps;
}

static void
choose_caps (PxLink * link, const GstCaps * arriving)
{
  GstCaps *c;

  if (arriving == NULL || link->downstream == NULL)
    return;
  c = gst_caps_intersect_full (link->target ? link->target :
      link->downstream, (GstCaps *) arriving, GST_CAPS_INTERSECT_FIRST);
  gst_caps_replace (&link->chosen, NULL);
  link->chosen = fixate_preferring (c, link->upstream);
}

/* Once every link has its caps: where buffers are still copied, and the
 * links into another process whose producer writes into shared memory. */
static void
report_copies (GstPxPlan * plan)
{
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *link = g_ptr_array_index (plan->links, i);

    if (link->status == PX_LINK_PENDING)
      continue;
    link->copy_reason = px_copy_reason (plan, link, &link->arena_pool);
    if (link->copy_reason)
      px_plan_add_diagnostic (plan, px_diagnostic_new
          (GST_PX_DIAGNOSTIC_BUFFERS_COPIED, link->src_name, link->sink_name,
              g_strdup_printf ("buffers are copied on %s ! %s: %s",
                  link->src_name, link->sink_name, link->copy_reason)));
    else if (link->arena_pool)
      px_plan_add_diagnostic (plan, px_diagnostic_new
          (GST_PX_DIAGNOSTIC_ARENA_POOL, link->src_name, link->sink_name,
              g_strdup_printf ("%s proposes a memfd arena pool and %s "
                  "writes into it: the buffers reach shared memory without "
                  "a copy", link->sink_name, link->conversion ?
                  "the last converter" : "the element that makes them")));
  }
}

static void
classify (GstPxPlan * plan, GPtrArray * registry)
{
  gboolean reported = FALSE;
  PxLink *last_failure = NULL;

  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *link = g_ptr_array_index (plan->links, i);
    GPtrArray *converters = link_converters (link, registry);
    PxChain *chain = NULL;

    if (link->kind == PX_LINK_DYNAMIC) {
      link->status = PX_LINK_PENDING;
      px_plan_add_diagnostic (plan, px_diagnostic_new
          (GST_PX_DIAGNOSTIC_DYNAMIC_LINK, link->src_name, link->sink_name,
              g_strdup_printf ("%s has no such pad yet: the link to %s is "
                  "solved when the pad appears", GST_OBJECT_NAME
                  (link->src_element), link->sink_name)));
      continue;
    }
    if (link->target && link->probe_src &&
        (chain = px_search (converters, link->upstream, link->target)) != NULL
        && chain->converters->len > 0) {
      /* Converts before a tee for all its branches. */
      link->status = PX_LINK_CONVERT;
      link->conversion = px_conversion_new (link->src_name, link->sink_name,
          chain->converters, (const gchar * const *) chain->fields,
          chain->cost, chain->loss);
      g_ptr_array_add (plan->conversions, g_object_ref (link->conversion));
      choose_caps (link, chain->output);
      px_plan_add_diagnostic (plan, px_explain_conversion (plan, link));
    } else if (!link_fails (link)) {
      link->status = PX_LINK_NATIVE;
      choose_caps (link, link->upstream);
      if (link->kind == PX_LINK_REQUESTED)
        px_plan_add_diagnostic (plan, px_diagnostic_new
            (GST_PX_DIAGNOSTIC_LINKED, link->src_name, link->sink_name,
                g_strdup_printf ("%s ! %s negotiates once the whole pipeline "
                    "is known: linked directly", link->src_name,
                    link->sink_name)));
    } else if (link->probe_src &&
        !px_caps_has_unknown_word (link->downstream) &&
        !px_caps_has_unknown_word (link->upstream) &&
        (chain = px_search (converters, link->upstream,
                link->downstream)) != NULL && chain->converters->len > 0) {
      link->status = PX_LINK_CONVERT;
      link->conversion = px_conversion_new (link->src_name, link->sink_name,
          chain->converters, (const gchar * const *) chain->fields,
          chain->cost, chain->loss);
      g_ptr_array_add (plan->conversions, g_object_ref (link->conversion));
      choose_caps (link, chain->output);
      px_plan_add_diagnostic (plan, px_explain_conversion (plan, link));
    } else {
      link->status = PX_LINK_IMPOSSIBLE;
      last_failure = link;
      /* A side that accepts nothing is the echo of a conflict elsewhere. */
      if (both_sides_known (link) || link->probe_src) {
        px_plan_add_diagnostic (plan, px_explain_impossible (plan, link,
                converters));
        reported = TRUE;
      }
    }
    px_chain_free (chain);
  }
  if (last_failure && !reported)
    px_plan_add_diagnostic (plan, px_explain_impossible (plan, last_failure,
            link_converters (last_failure, registry)));
  else if (!last_failure)
    report_copies (plan);
}

/**
 * gst_px_solver_solve:
 * @solver: a #GstPxSolver
 * @bin: the pipeline or bin, in NULL or READY
 * @error: (optional): where the reason goes if the bin cannot be solved
 *
 * Captures @bin's graph and the links requested with
 * gst_px_solver_request_link(), propagates constraints, and plans the
 * converters. The bin is left as it was found; gst_px_solver_apply()
 * changes it. A pipeline that cannot negotiate still gets a plan: its
 * diagnostics say why (gst_px_plan_is_solvable() is then %FALSE).
 *
 * Returns: (transfer full) (nullable): the plan, or %NULL on @error
 */
GstPxPlan *
gst_px_solver_solve (GstPxSolver * solver, GstBin * bin, GError ** error)
{
  g_autoptr (GPtrArray) elements = NULL;
  g_autoptr (GPtrArray) converters = NULL;
  GstState state, pending;
  GstPxPlan *plan;

  g_return_val_if_fail (GST_IS_PX_SOLVER (solver), NULL);
  g_return_val_if_fail (GST_IS_BIN (bin), NULL);

  gst_element_get_state (GST_ELEMENT (bin), &state, &pending, 0);
  if (state > GST_STATE_READY || pending > GST_STATE_READY) {
    g_set_error (error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_STATE,
        "%s is %s: the solver works on a bin in NULL or READY",
        GST_OBJECT_NAME (bin), gst_element_state_get_name (state));
    return NULL;
  }
  plan = px_plan_new (bin);
  elements = g_ptr_array_new_with_free_func (gst_object_unref);
  collect_elements (bin, elements, 0);
  converters = gst_px_converter_registry_get_converters (solver->registry);
  plan->shadows = open_shadows (elements);
  for (guint i = 0; i < solver->launch_diagnostics->len; i++)
    px_plan_add_diagnostic (plan,
        g_object_ref (g_ptr_array_index (solver->launch_diagnostics, i)));

  capture_real_links (plan, elements);
  for (guint i = 0; i < solver->requests->len; i++)
    capture_request (plan, g_ptr_array_index (solver->requests, i), converters);
  warn_unlinked (plan, elements);
  choose_muxers (plan, elements, converters);
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *link = g_ptr_array_index (plan->links, i);
    if (link->kind == PX_LINK_REQUESTED)
      attach_probes (link, &plan->caps_queries);
  }
  for (guint splits = 0;; splits++) {
    propagate (plan, converters);
    if (splits >= PX_MAX_SPLITS || !choose_repair (plan, converters))
      break;
  }
  classify (plan, converters);
  for (guint i = 0; i < plan->links->len; i++)
    restore_link (g_ptr_array_index (plan->links, i));
  g_clear_pointer (&plan->shadows, g_ptr_array_unref);
  GST_DEBUG_OBJECT (bin, "solved: %u links, %u conversions, %u caps queries",
      plan->links->len, plan->conversions->len, plan->caps_queries);
  return plan;
}

/* ------------------------------------------------------------------------ */
/* Apply */

static gchar *
free_name (GstBin * top, const gchar * factory)
{
  for (guint n = 0;; n++) {
    gchar *name = g_strdup_printf ("px-%s%u", factory, n);
    GstElement *e = gst_bin_get_by_name (top, name);
    if (e == NULL)
      return name;
    gst_object_unref (e);
    g_free (name);
  }
}

static GstBin *
top_bin (GstElement * e)
{
  GstObject *o = GST_OBJECT (e), *parent;

  while ((parent = GST_OBJECT_PARENT (o)) != NULL)
    o = parent;
  return GST_IS_BIN (o) ? GST_BIN (o) : NULL;
}

/* Links @src to @sink, through ghost pads when they are in different bins
 * (a link the user wrote into or out of a bin). */
static GstPadLinkReturn
link_across (GstPad * src, GstPad * sink)
{
  GstObject *a = GST_OBJECT_PARENT (src), *b = GST_OBJECT_PARENT (sink);

  if (a == NULL || b == NULL || GST_OBJECT_PARENT (a) == GST_OBJECT_PARENT (b))
    return gst_pad_link (src, sink);
  return gst_pad_link_maybe_ghosting (src, sink) ? GST_PAD_LINK_OK :
      GST_PAD_LINK_WRONG_HIERARCHY;
}

/* Inserts @factories between @src_pad (of @src, unlinked) and @sink_pad,
 * in @src's bin. The converters are linked and brought to the bin's state
 * before @src_pad is linked, so that a streaming thread that pushes at
 * once finds them ready. Returns the new elements' names. */
static gchar **
insert_chain (GstElement * src, GstPad * src_pad, GstPad * sink_pad,
    const gchar * const *factories, GError ** error)
{
  GstObject *parent = GST_OBJECT_PARENT (src);
  GstBin *bin = parent && GST_IS_BIN (parent) ? GST_BIN (parent) : NULL;
  GstBin *top = top_bin (src);
  guint n = g_strv_length ((gchar **) factories);
  g_autoptr (GPtrArray) made = g_ptr_array_new ();
  gchar **names;

  if (bin == NULL || top == NULL) {
    g_set_error (error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_APPLY,
        "%s is in no bin to add converters to", GST_OBJECT_NAME (src));
    return NULL;
  }
  names = g_new0 (gchar *, n + 1);
  for (guint i = 0; i < n; i++) {
    g_autofree gchar *name = free_name (top, factories[i]);
    GstElement *e = gst_element_factory_make (factories[i], name);

    if (e == NULL || !gst_bin_add (bin, e)) {
      g_set_error (error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_APPLY,
          "Could not make or add a \"%s\" element", factories[i]);
      goto fail;
    }
    names[i] = g_strdup (name);
    g_ptr_array_add (made, e);
    if (i > 0 && !gst_element_link (g_ptr_array_index (made, i - 1), e)) {
      g_set_error (error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_APPLY,
          "Could not link %s to %s", names[i - 1], names[i]);
      goto fail;
    }
  }
  {
    GstPad *out = gst_element_get_static_pad (g_ptr_array_index (made,
            n - 1), "src");
    GstPad *in = gst_element_get_static_pad (g_ptr_array_index (made, 0),
        "sink");
    GstPadLinkReturn r1 = link_across (out, sink_pad), r2;

    for (guint i = 0; r1 == GST_PAD_LINK_OK && i < n; i++)
      gst_element_sync_state_with_parent (g_ptr_array_index (made, i));
    r2 = r1 == GST_PAD_LINK_OK ? gst_pad_link (src_pad, in) : r1;
    gst_object_unref (out);
    gst_object_unref (in);
    if (r1 != GST_PAD_LINK_OK || r2 != GST_PAD_LINK_OK) {
      g_set_error (error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_APPLY,
          "Could not link %s:%s through %s to %s:%s (%s)",
          GST_DEBUG_PAD_NAME (src_pad), names[0],
          GST_DEBUG_PAD_NAME (sink_pad),
          gst_pad_link_get_name (r1 != GST_PAD_LINK_OK ? r1 : r2));
      goto fail;
    }
  }
  return names;

fail:
  for (guint i = 0; i < made->len; i++) {
    GstElement *e = g_ptr_array_index (made, i);
    gst_element_set_state (e, GST_STATE_NULL);
    gst_bin_remove (bin, e);
  }
  g_strfreev (names);
  return NULL;
}

/* Mid-stream caps changes. A link left without converters negotiated for
 * the caps known when solving; a source, demuxer or decoder may change
 * them while it runs (a new resolution, another format). When the new caps
 * reach a link whose downstream side refuses them, the link is solved
 * again, alone, and converters go in before the caps event passes. */
typedef struct
{
  GPtrArray *converters;        /* GstPxConverter */
} PxCapsWatch;

static void
px_caps_watch_free (gpointer data)
{
  PxCapsWatch *w = data;

  g_ptr_array_unref (w->converters);
  g_free (w);
}

static void
post_caps_change (GstElement * src, GstPad * pad, GstPad * sink,
    PxChain * chain, gchar ** names)
{
  GString *f = g_string_new (NULL);
  g_autofree gchar *elements = g_strjoinv (" ! ", names);
  g_autofree gchar *sink_name = g_strdup_printf ("%s:%s",
      GST_DEBUG_PAD_NAME (sink));

  for (guint i = 0; i < chain->converters->len; i++)
    g_string_append_printf (f, "%s%s", i ? " ! " : "",
        gst_px_converter_get_factory_name (g_ptr_array_index
            (chain->converters, i)));
  gst_element_post_message (src, gst_message_new_element (GST_OBJECT (src),
          gst_structure_new ("parallax-solver-link",
              "src-pad", G_TYPE_STRING, GST_OBJECT_NAME (pad),
              "sink-pad", G_TYPE_STRING, sink_name,
              "converters", G_TYPE_STRING, f->str,
              "elements", G_TYPE_STRING, elements,
              "reason", G_TYPE_STRING, "caps-changed", NULL)));
  g_string_free (f, TRUE);
}

static gchar **resolve_chain (GstElement * src, GstPad * src_pad,
    GstPad * sink_pad, PxChain * chain, GError ** error);

/* On the streaming thread, with the caps event on its way. */
static GstPadProbeReturn
on_caps_event (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  PxCapsWatch *w = data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  g_autoptr (GstPad) peer = NULL;
  g_autoptr (GstElement) src = NULL;
  g_autoptr (GstCaps) down = NULL;
  g_autoptr (GError) error = NULL;
  GstCaps *caps;
  PxChain *chain;
  gchar **names;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  gst_event_parse_caps (event, &caps);
  peer = gst_pad_get_peer (pad);
  if (peer == NULL || gst_pad_query_accept_caps (peer, caps))
    return GST_PAD_PROBE_OK;
  down = gst_pad_query_caps (peer, NULL);
  chain = px_search (w->converters, caps, down);
  if (chain == NULL || chain->converters->len == 0) {
    px_chain_free (chain);
    /* Nothing joins them: the push fails with not-negotiated, as it would
     * without the solver. */
    return GST_PAD_PROBE_OK;
  }
  src = gst_pad_get_parent_element (pad);
  gst_pad_unlink (pad, peer);
  names = resolve_chain (src, pad, peer, chain, &error);
  if (names == NULL) {
    gst_pad_link (pad, peer);
    GST_WARNING_OBJECT (pad, "could not convert the new caps: %s",
        error->message);
    px_chain_free (chain);
    return GST_PAD_PROBE_OK;
  }
  post_caps_change (src, pad, peer, chain, names);
  g_strfreev (names);
  px_chain_free (chain);
  /* The converters follow caps changes themselves from now on. */
  return GST_PAD_PROBE_REMOVE;
}

static gchar **
resolve_chain (GstElement * src, GstPad * src_pad, GstPad * sink_pad,
    PxChain * chain, GError ** error)
{
  g_autofree gchar **factories = g_new0 (gchar *,
      chain->converters->len + 1);

  for (guint i = 0; i < chain->converters->len; i++)
    factories[i] = (gchar *) gst_px_converter_get_factory_name
        (g_ptr_array_index (chain->converters, i));
  return insert_chain (src, src_pad, sink_pad,
      (const gchar * const *) factories, error);
}

static void
watch_caps (GPtrArray * converters, GstPad * src_pad)
{
  PxCapsWatch *w = g_new0 (PxCapsWatch, 1);

  w->converters = g_ptr_array_ref (converters);
  gst_pad_add_probe (src_pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      on_caps_event, w, px_caps_watch_free);
}

/* Elements whose caps change while they run: sources, demuxers, decoders,
 * parsers. */
static gboolean
may_change_caps (GstElement * e)
{
  GstElementFactory *f = gst_element_get_factory (e);
  const gchar *klass = f ? gst_element_factory_get_metadata (f,
      GST_ELEMENT_METADATA_KLASS) : NULL;

  /* A sandboxbin's output is what its description's elements decide as
   * they run. */
  return px_is_sandboxbin (e) || (klass && (strstr (klass, "Source") ||
          strstr (klass, "Demux") || strstr (klass, "Decoder") ||
          strstr (klass, "Parser")));
}

typedef struct
{
  GMutex lock;
  gboolean done;                /* guarded by lock */
  gchar *wanted;
  GstPad *sink_pad;
  gchar *sink_name;
  GPtrArray *converters;
} PxWatch;

static void
px_watch_free (gpointer data, GClosure * closure)
{
  PxWatch *w = data;

  g_mutex_clear (&w->lock);
  g_free (w->wanted);
  gst_object_unref (w->sink_pad);
  g_free (w->sink_name);
  g_ptr_array_unref (w->converters);
  g_free (w);
}

static void
post_dynamic (GstElement * src, GstPad * pad, PxWatch * w, PxChain * chain,
    gchar ** names)
{
  g_autofree gchar *factories = NULL;
  g_autofree gchar *elements = names ? g_strjoinv (" ! ", names) :
      g_strdup ("");
  GString *f = g_string_new (NULL);
  GstStructure *s;

  for (guint i = 0; chain && i < chain->converters->len; i++)
    g_string_append_printf (f, "%s%s", i ? " ! " : "",
        gst_px_converter_get_factory_name (g_ptr_array_index
            (chain->converters, i)));
  factories = g_string_free (f, FALSE);
  s = gst_structure_new ("parallax-solver-link",
      "src-pad", G_TYPE_STRING, GST_OBJECT_NAME (pad),
      "sink-pad", G_TYPE_STRING, w->sink_name,
      "converters", G_TYPE_STRING, factories,
      "elements", G_TYPE_STRING, elements, NULL);
  gst_element_post_message (src, gst_message_new_element (GST_OBJECT (src), s));
}

/* A demuxer's pad appeared (on its streaming thread): the first one of the
 * wanted name whose media type the link can carry is linked, through the
 * cheapest converters if needed. */
static void
on_pad_added (GstElement * src, GstPad * pad, PxWatch * w)
{
  g_autoptr (GstCaps) up = NULL;
  g_autoptr (GstCaps) down = NULL;
  g_autoptr (GError) error = NULL;
  PxChain *chain = NULL;
  gchar **names = NULL;

  if (!GST_PAD_IS_SRC (pad) || gst_pad_is_linked (pad))
    return;
  if (w->wanted && !g_str_equal (GST_OBJECT_NAME (pad), w->wanted) &&
      !(GST_PAD_PAD_TEMPLATE (pad) &&
          g_str_equal (GST_PAD_TEMPLATE_NAME_TEMPLATE (GST_PAD_PAD_TEMPLATE
                  (pad)), w->wanted)))
    return;
  up = gst_pad_get_current_caps (pad);
  if (up == NULL)
    up = gst_pad_query_caps (pad, NULL);
  down = gst_pad_query_caps (w->sink_pad, NULL);
  if (!px_caps_share_media_type (up, down))
    return;
  g_mutex_lock (&w->lock);
  if (w->done) {
    g_mutex_unlock (&w->lock);
    return;
  }
  w->done = TRUE;
  g_mutex_unlock (&w->lock);

  if (gst_caps_can_intersect (up, down)) {
    if (link_across (pad, w->sink_pad) != GST_PAD_LINK_OK)
      g_set_error (&error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_APPLY,
          "Could not link %s:%s to %s", GST_DEBUG_PAD_NAME (pad), w->sink_name);
    else
      watch_caps (w->converters, pad);
  } else if ((chain = px_search (w->converters, up, down)) != NULL) {
    g_autofree gchar **factories = g_new0 (gchar *,
        chain->converters->len + 1);
    for (guint i = 0; i < chain->converters->len; i++)
      factories[i] = (gchar *) gst_px_converter_get_factory_name
          (g_ptr_array_index (chain->converters, i));
    names = insert_chain (src, pad, w->sink_pad,
        (const gchar * const *) factories, &error);
  } else {
    g_autofree gchar *u = gst_caps_to_string (up);
    g_autofree gchar *d = gst_caps_to_string (down);
    g_set_error (&error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_UNSOLVABLE,
        "%s:%s offers %s, %s accepts %s, and no converter chain joins them",
        GST_DEBUG_PAD_NAME (pad), u, w->sink_name, d);
  }
  if (error) {
    GST_ELEMENT_ERROR (src, CORE, NEGOTIATION, ("%s", error->message),
        ("[%s] solving the link of a new pad",
            gst_px_diagnostic_code_to_string (chain ?
                GST_PX_DIAGNOSTIC_NO_SUCH_PAD :
                GST_PX_DIAGNOSTIC_NO_CONVERSION)));
  } else {
    post_dynamic (src, pad, w, chain, names);
  }
  g_strfreev (names);
  px_chain_free (chain);
}

static void
watch_dynamic (GstPxSolver * solver, PxLink * link)
{
  PxWatch *w = g_new0 (PxWatch, 1);

  g_mutex_init (&w->lock);
  w->wanted = g_strdup (link->src_pad_wanted);
  w->sink_pad = gst_object_ref (link->sink_pad);
  w->sink_name = g_strdup (link->sink_name);
  w->converters = gst_px_converter_registry_get_converters (solver->registry);
  g_signal_connect_data (link->src_element, "pad-added",
      G_CALLBACK (on_pad_added), w, px_watch_free, 0);
}

static gboolean
apply_link (GstPxSolver * solver, PxLink * link, GError ** error)
{
  GstPad *peer = NULL;
  gchar **names;

  switch (link->status) {
    case PX_LINK_PENDING:
      watch_dynamic (solver, link);
      return TRUE;
    case PX_LINK_NATIVE:
      if (link->kind != PX_LINK_REAL &&
          link_across (link->src_pad, link->sink_pad) != GST_PAD_LINK_OK) {
        g_set_error (error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_APPLY,
            "Could not link %s to %s", link->src_name, link->sink_name);
        return FALSE;
      }
      if (may_change_caps (link->src_element)) {
        g_autoptr (GPtrArray) converters =
            gst_px_converter_registry_get_converters (solver->registry);
        watch_caps (converters, link->src_pad);
      }
      return TRUE;
    case PX_LINK_CONVERT:
      if (link->kind == PX_LINK_REAL) {
        peer = gst_pad_get_peer (link->src_pad);
        gst_pad_unlink (link->src_pad, peer);
      }
      names = insert_chain (link->src_element, link->src_pad,
          peer ? peer : link->sink_pad,
          gst_px_conversion_get_converters (link->conversion), error);
      if (names == NULL && peer)
        gst_pad_link (link->src_pad, peer);
      gst_clear_object (&peer);
      if (names == NULL)
        return FALSE;
      px_conversion_set_element_names (link->conversion, names);
      return TRUE;
    default:
      g_set_error (error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_UNSOLVABLE,
          "%s ! %s cannot negotiate", link->src_name, link->sink_name);
      return FALSE;
  }
}

/**
 * gst_px_solver_apply:
 * @solver: a #GstPxSolver
 * @plan: a plan from gst_px_solver_solve() on this solver
 * @error: (optional): where the reason goes on failure
 *
 * Carries @plan out on its bin (still in NULL or READY): inserts the
 * converters, makes the requested links, and watches for the dynamic pads
 * to link them when they appear. Links from sources, demuxers, decoders and
 * parsers left without converters are watched for caps changes while the
 * pipeline runs: new caps the downstream side refuses get converters before
 * they pass. Each link made at run time posts an element message
 * "parallax-solver-link" with the fields src-pad, sink-pad, converters and
 * elements (and reason "caps-changed" for the second kind). The requests
 * are then done: the solver forgets them.
 *
 * Returns: %TRUE once applied; %FALSE if the plan has errors or an element
 *   could not be made or linked (what was done before stays)
 */
gboolean
gst_px_solver_apply (GstPxSolver * solver, GstPxPlan * plan, GError ** error)
{
  g_return_val_if_fail (GST_IS_PX_SOLVER (solver), FALSE);
  g_return_val_if_fail (GST_IS_PX_PLAN (plan), FALSE);

  if (plan->applied)
    return TRUE;
  if (!plan->solvable) {
    g_set_error (error, GST_PX_SOLVER_ERROR, GST_PX_SOLVER_ERROR_UNSOLVABLE,
        "The pipeline cannot negotiate: see the plan's diagnostics");
    return FALSE;
  }
  for (guint i = 0; i < plan->links->len; i++)
    if (!apply_link (solver, g_ptr_array_index (plan->links, i), error))
      return FALSE;
  plan->applied = TRUE;
  g_ptr_array_set_size (solver->requests, 0);
  g_ptr_array_set_size (solver->launch_diagnostics, 0);
  return TRUE;
}
