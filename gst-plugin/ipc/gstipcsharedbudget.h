/* Parallax — an arena budget that ipcsrc elements share.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * sandboxbin gives every ipcsrc of one worker (its output and each of its
 * streams) the same GstPxArenaBudget, holding the worker's memory limit:
 * the arenas an ipcsrc makes for its producer then count against it as
 * well as against the element's own arena-budget, so that a worker with
 * several outputs cannot have the host make and hold more than its limit
 * for it (docs/security.md, "Shared memory: the host makes it").
 *
 * Internal: object data, not a property, and an inline function, not one
 * of the plugin's (whose symbols are hidden), so that a test linking the
 * core can set it too. Set it before the element leaves NULL: a session
 * takes the budget as it starts, and gives back to it what it was granted
 * when it is freed (no arena of it mapped here any more).
 */
#ifndef __GST_IPC_SHARED_BUDGET_H__
#define __GST_IPC_SHARED_BUDGET_H__

#include <gst/gst.h>

#include "gstpxarenabudget.h"

/* The key of the object data. */
#define GST_IPC_SRC_SHARED_BUDGET "parallax-shared-arena-budget"

/* @budget (a reference is taken), or NULL: the element's budget alone. */
static inline void
gst_ipc_src_set_shared_budget (GstElement * src, GstPxArenaBudget * budget)
{
  if (budget != NULL)
    g_object_set_data_full (G_OBJECT (src), GST_IPC_SRC_SHARED_BUDGET,
        gst_px_arena_budget_ref (budget),
        (GDestroyNotify) gst_px_arena_budget_unref);
  else
    g_object_set_data (G_OBJECT (src), GST_IPC_SRC_SHARED_BUDGET, NULL);
}

#endif /* __GST_IPC_SHARED_BUDGET_H__ */
