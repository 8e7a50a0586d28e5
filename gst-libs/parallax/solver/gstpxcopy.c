/* Parallax — where the solved pipeline still copies buffers, and why.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstpxsolverprivate.h"

#include <gst/base/base.h>
#include <gst/video/video.h>
#include <gst/video/gstvideoaggregator.h>

/* A buffer crosses into another process without a copy only when the
 * element that wrote it wrote it into the memfd arena pool the border
 * (ipcsink, or the ipcsink a sandboxbin feeds its worker through)
 * proposed. ipcsink proposes one for raw video in system memory only;
 * anything else is copied into an arena slot. Whether the writer uses the
 * pool depends on its code: what follows is what GStreamer's base classes
 * do, and what was measured (docs/negotiation.md, "Copies"). */
typedef enum
{
  PX_POOL_USED,                 /* writes its output into the pool */
  PX_POOL_FORWARDED,            /* passes upstream's buffers on */
  PX_POOL_IGNORED,              /* makes buffers of its own */
} PxPoolUse;

static const gchar *
factory_of (GstElement * e)
{
  GstElementFactory *f = gst_element_get_factory (e);
  return f ? GST_OBJECT_NAME (f) : "";
}

static gboolean
base_src_uses_pool (GstElement * e)
{
  GstBaseSrcClass *klass = GST_BASE_SRC_GET_CLASS (e);

  if (GST_IS_PUSH_SRC (e)) {
    GstPushSrcClass *push = GST_PUSH_SRC_GET_CLASS (e);
    GstBaseSrcClass *base = g_type_class_peek (GST_TYPE_PUSH_SRC);
    return base && klass->create == base->create && push->create == NULL &&
        push->alloc == NULL && push->fill != NULL;
  } else {
    GstBaseSrcClass *base = g_type_class_peek (GST_TYPE_BASE_SRC);
    return base && klass->create == base->create &&
        klass->alloc == base->alloc && klass->fill != NULL;
  }
}

/* In place, or passing through: the buffer from upstream goes on. */
static gboolean
transform_forwards (GstElement * e, gboolean passthrough)
{
  if (passthrough || GST_BASE_TRANSFORM_GET_CLASS (e)->transform == NULL)
    return TRUE;
  return GST_IS_VIDEO_FILTER (e) &&
      GST_VIDEO_FILTER_GET_CLASS (e)->transform_frame == NULL &&
      GST_VIDEO_FILTER_GET_CLASS (e)->transform_frame_ip != NULL;
}

static PxPoolUse
pool_use (GstElement * e, gboolean passthrough, const gchar ** why)
{
  const gchar *f = factory_of (e);

  *why = NULL;
  if (g_str_equal (f, "tee")) {
    *why = "a tee proposes no pool upstream: its buffers go to every branch";
    return PX_POOL_IGNORED;
  }
  if (g_str_equal (f, "queue") || g_str_equal (f, "queue2") ||
      g_str_equal (f, "multiqueue") || g_str_equal (f, "capsfilter") ||
      g_str_equal (f, "valve"))
    return PX_POOL_FORWARDED;
  if (px_sandboxbin_is_isolated (e)) {
    *why = "its buffers are in its worker's arena, not in this pool";
    return PX_POOL_IGNORED;
  }
  /* Measured: libav's decoders decode into frames of their own (with the
   * alignment libav wants) and copy them out. */
  if (g_str_has_prefix (f, "avdec_")) {
    *why = "libav's decoders decode into frames of their own";
    return PX_POOL_IGNORED;
  }
  if (GST_IS_BASE_SRC (e)) {
    if (base_src_uses_pool (e))
      return PX_POOL_USED;
    *why = "the source makes its own buffers";
    return PX_POOL_IGNORED;
  }
  if (GST_IS_BASE_TRANSFORM (e))
    return transform_forwards (e, passthrough) ? PX_POOL_FORWARDED :
        PX_POOL_USED;
  if (GST_IS_VIDEO_DECODER (e) || GST_IS_VIDEO_AGGREGATOR (e))
    return PX_POOL_USED;
  *why = "it makes its own buffers and ignores the pool proposed to it";
  return PX_POOL_IGNORED;
}

static gboolean
raw_video_in_system_memory (const GstCaps * caps)
{
  const gchar *feature;

  if (caps == NULL || gst_caps_is_any (caps) || gst_caps_is_empty (caps))
    return FALSE;
  feature = px_caps_first_feature (caps);
  return gst_structure_has_name (gst_caps_get_structure (caps, 0),
      "video/x-raw") && g_strcmp0 (feature, GST_PX_MEMORY_SYSTEM) == 0;
}

static PxLink *
link_into_element (GstPxPlan * plan, GstElement * e)
{
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *l = g_ptr_array_index (plan->links, i);
    if (l->sink_element == e && l->src_pad)
      return l;
  }
  return NULL;
}

/* Who writes what crosses @link, back through elements that pass buffers
 * on: NULL if it writes into the pool, else why it does not. */
static gchar *
writer_ignores_pool (GstPxPlan * plan, PxLink * link)
{
  PxLink *l = link;

  for (guint steps = 0; l && steps < 32; steps++) {
    PxLink *in;
    const gchar *why;
    gboolean passthrough;

    /* Converters write their output, into the pool proposed to them. */
    if (l->conversion)
      return NULL;
    in = link_into_element (plan, l->src_element);
    passthrough = in && in->chosen && l->chosen &&
        gst_caps_is_equal (in->chosen, l->chosen);
    switch (pool_use (l->src_element, passthrough, &why)) {
      case PX_POOL_USED:
        return NULL;
      case PX_POOL_IGNORED:
        return g_strdup_printf ("%s writes the buffers and %s",
            GST_OBJECT_NAME (l->src_element), why);
      case PX_POOL_FORWARDED:
        l = in;
        break;
    }
  }
  return NULL;
}

static PxShadow *
shadow_of (GstPxPlan * plan, GstElement * sandboxbin)
{
  for (guint i = 0; plan->shadows && i < plan->shadows->len; i++) {
    PxShadow *s = g_ptr_array_index (plan->shadows, i);
    if (s->sandboxbin == sandboxbin)
      return s;
  }
  return NULL;
}

/* Inside a worker: the description's last element writes into the
 * worker's ipcsink, or passes on what the element before it wrote. */
static gchar *
worker_writer_ignores_pool (PxShadow * shadow, const GstCaps * caps)
{
  GstElement *e = shadow->last;

  if (!raw_video_in_system_memory (caps))
    return g_strdup_printf ("inside %s's worker, its output (%s) is copied "
        "into the arena it is sent through: ipcsink has a pool for raw "
        "video only", GST_OBJECT_NAME (shadow->sandboxbin),
        caps && !gst_caps_is_any (caps) && !gst_caps_is_empty (caps) ?
        gst_structure_get_name (gst_caps_get_structure (caps, 0)) : "?");
  for (guint steps = 0; e && steps < 32; steps++) {
    g_autoptr (GstPad) sink = NULL;
    g_autoptr (GstPad) peer = NULL;
    const gchar *why;

    switch (pool_use (e, FALSE, &why)) {
      case PX_POOL_USED:
        return NULL;
      case PX_POOL_IGNORED:
        return g_strdup_printf ("inside %s's worker, %s writes the buffers "
            "and %s", GST_OBJECT_NAME (shadow->sandboxbin),
            GST_OBJECT_NAME (e), why);
      case PX_POOL_FORWARDED:
        sink = gst_element_get_static_pad (e, "sink");
        peer = sink ? gst_pad_get_peer (sink) : NULL;
        e = peer ? GST_ELEMENT (GST_OBJECT_PARENT (peer)) : NULL;
        break;
    }
  }
  return NULL;
}

/* Why buffers are copied on @link once the plan is applied, or NULL. Sets
 * @arena_pool when the link's sink proposes a memfd arena pool. */
gchar *
px_copy_reason (GstPxPlan * plan, PxLink * link, gboolean * arena_pool)
{
  GString *reason = g_string_new (NULL);
  const GstCaps *caps = link->chosen;

  *arena_pool = FALSE;
  if (link->conversion && g_strv_contains (gst_px_conversion_get_fields
          (link->conversion), "memory")) {
    g_autofree gchar *chain = g_strjoinv (" ! ",
        (gchar **) gst_px_conversion_get_converters (link->conversion));
    g_string_append_printf (reason, "%s moves the buffers into %s memory",
        chain, caps ? px_caps_first_feature (caps) : "another");
  }
  if (link->into_border && caps && !gst_caps_is_any (caps)) {
    if (!raw_video_in_system_memory (caps)) {
      g_string_append_printf (reason, "%s%s proposes an arena pool for raw "
          "video only: %s is copied into an arena slot",
          reason->len ? "; " : "", GST_OBJECT_NAME (link->sink_element),
          gst_structure_get_name (gst_caps_get_structure (caps, 0)));
    } else {
      g_autofree gchar *why = writer_ignores_pool (plan, link);
      *arena_pool = TRUE;
      if (why)
        g_string_append_printf (reason, "%s%s: it is copied into %s's arena "
            "pool", reason->len ? "; " : "", why,
            GST_OBJECT_NAME (link->sink_element));
    }
  }
  if (link->from_border) {
    PxShadow *shadow = shadow_of (plan, link->src_element);
    g_autofree gchar *why = shadow && shadow->last ?
        worker_writer_ignores_pool (shadow, caps ? caps : link->upstream) :
        NULL;
    if (why)
      g_string_append_printf (reason, "%s%s", reason->len ? "; " : "", why);
  }
  return g_string_free (reason, reason->len == 0);
}
