/* Parallax — global caps solver: negotiates a whole pipeline at once.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_PX_SOLVER_H__
#define __GST_PX_SOLVER_H__

#include <parallax/parallax-prelude.h>
#include <parallax/solver/gstpxconverter.h>
#include <parallax/solver/gstpxdiagnostic.h>
#include <parallax/solver/gstpxplan.h>

G_BEGIN_DECLS
/**
 * GST_PX_SOLVER_ERROR:
 *
 * Error domain of the solver's own failures (not of the pipelines it
 * diagnoses: those are #GstPxDiagnostic).
 */
#define GST_PX_SOLVER_ERROR (gst_px_solver_error_quark ())
    GST_PX_API GQuark gst_px_solver_error_quark (void);

/**
 * GstPxSolverError:
 * @GST_PX_SOLVER_ERROR_STATE: the bin is beyond READY
 * @GST_PX_SOLVER_ERROR_UNSOLVABLE: the plan has errors and cannot be applied
 * @GST_PX_SOLVER_ERROR_APPLY: an element could not be made, added or linked
 * @GST_PX_SOLVER_ERROR_PARSE: a launch description could not be read
 */
typedef enum
{
  GST_PX_SOLVER_ERROR_STATE,
  GST_PX_SOLVER_ERROR_UNSOLVABLE,
  GST_PX_SOLVER_ERROR_APPLY,
  GST_PX_SOLVER_ERROR_PARSE,
} GstPxSolverError;

#define GST_TYPE_PX_SOLVER (gst_px_solver_get_type ())
GST_PX_API
G_DECLARE_FINAL_TYPE (GstPxSolver, gst_px_solver, GST, PX_SOLVER, GObject);

GST_PX_API GstPxSolver *gst_px_solver_new (void);

GST_PX_API
    GstPxConverterRegistry * gst_px_solver_get_registry (GstPxSolver * solver);

GST_PX_API
    void gst_px_solver_set_registry (GstPxSolver * solver,
    GstPxConverterRegistry * registry);

GST_PX_API
    void gst_px_solver_request_link (GstPxSolver * solver, GstElement * src,
    const gchar * src_pad, GstElement * sink, const gchar * sink_pad);

GST_PX_API
    GstPxPlan * gst_px_solver_solve (GstPxSolver * solver, GstBin * bin,
    GError ** error);

GST_PX_API
    gboolean gst_px_solver_apply (GstPxSolver * solver, GstPxPlan * plan,
    GError ** error);

GST_PX_API
    GstElement * gst_px_parse_launch (const gchar * description,
    GstPxSolver * solver, GError ** error);

GST_PX_API
    GstElement * gst_px_parse_launch_isolated (const gchar * description,
    GstPxSolver * solver, const gchar * const *patterns, gboolean group,
    GError ** error);

G_END_DECLS
#endif /* __GST_PX_SOLVER_H__ */
