/* Parallax — the caps solver's plan: what negotiates, what gets inserted
 * where, and why.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_PX_PLAN_H__
#define __GST_PX_PLAN_H__

#include <parallax/parallax-prelude.h>
#include <parallax/solver/gstpxdiagnostic.h>

G_BEGIN_DECLS
#define GST_TYPE_PX_CONVERSION (gst_px_conversion_get_type ())
GST_PX_API
G_DECLARE_FINAL_TYPE (GstPxConversion, gst_px_conversion, GST,
    PX_CONVERSION, GObject);

#define GST_TYPE_PX_PLAN (gst_px_plan_get_type ())
GST_PX_API G_DECLARE_FINAL_TYPE (GstPxPlan, gst_px_plan, GST, PX_PLAN, GObject);

GST_PX_API
    const gchar *gst_px_conversion_get_src_pad (GstPxConversion * conversion);

GST_PX_API
    const gchar *gst_px_conversion_get_sink_pad (GstPxConversion * conversion);

GST_PX_API
    const gchar *const *gst_px_conversion_get_converters (GstPxConversion *
    conversion);

GST_PX_API
    const gchar *const *gst_px_conversion_get_element_names (GstPxConversion *
    conversion);

GST_PX_API
    const gchar *const *gst_px_conversion_get_fields (GstPxConversion *
    conversion);

GST_PX_API guint gst_px_conversion_get_cost (GstPxConversion * conversion);

GST_PX_API
    guint gst_px_conversion_get_quality_loss (GstPxConversion * conversion);

GST_PX_API gboolean gst_px_plan_is_solvable (GstPxPlan * plan);

GST_PX_API gboolean gst_px_plan_changes_pipeline (GstPxPlan * plan);

GST_PX_API gboolean gst_px_plan_is_applied (GstPxPlan * plan);

GST_PX_API guint gst_px_plan_get_n_conversions (GstPxPlan * plan);

GST_PX_API
    GstPxConversion * gst_px_plan_get_conversion (GstPxPlan * plan,
    guint index);

GST_PX_API
    GstPxConversion * gst_px_plan_find_conversion (GstPxPlan * plan,
    const gchar * src_pad, const gchar * sink_pad);

GST_PX_API guint gst_px_plan_get_n_diagnostics (GstPxPlan * plan);

GST_PX_API
    GstPxDiagnostic * gst_px_plan_get_diagnostic (GstPxPlan * plan,
    guint index);

GST_PX_API
    GstPxDiagnostic * gst_px_plan_find_diagnostic (GstPxPlan * plan,
    GstPxDiagnosticCode code);

GST_PX_API guint gst_px_plan_get_n_links (GstPxPlan * plan);

GST_PX_API guint gst_px_plan_get_total_cost (GstPxPlan * plan);

GST_PX_API guint gst_px_plan_get_caps_queries (GstPxPlan * plan);

GST_PX_API
    GstCaps * gst_px_plan_get_link_caps (GstPxPlan * plan,
    const gchar * src_pad);

GST_PX_API
    const gchar *gst_px_plan_get_link_copy_reason (GstPxPlan * plan,
    const gchar * src_pad);

GST_PX_API gchar *gst_px_plan_explain (GstPxPlan * plan);

GST_PX_API gchar *gst_px_plan_to_json (GstPxPlan * plan);

GST_PX_API gchar *gst_px_plan_to_dot (GstPxPlan * plan);

GST_PX_API
    gboolean gst_px_plan_write_graph (GstPxPlan * plan, const gchar * filename,
    GError ** error);

G_END_DECLS
#endif /* __GST_PX_PLAN_H__ */
