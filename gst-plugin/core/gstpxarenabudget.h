/* Parallax — a budget of arena bytes that several connections share.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An ipcsrc makes the arenas a sandboxed worker asks for and counts them
 * against its own arena-budget; a worker with several outputs (a demuxer's
 * streams) has one ipcsrc each, so sandboxbin gives them all one of these,
 * holding the worker's memory limit, and the arenas made for all of them
 * together stay within it (docs/security.md, "Shared memory: the host
 * makes it").
 *
 * Refcounted and thread-safe; no GType. Its lock is a leaf: taken under
 * an ipcsrc session's lock, nothing is taken under it (docs/threading.md).
 */
#ifndef __GST_PX_ARENA_BUDGET_H__
#define __GST_PX_ARENA_BUDGET_H__

#include <gst/gst.h>

G_BEGIN_DECLS typedef struct _GstPxArenaBudget GstPxArenaBudget;

/* A budget of @limit bytes, none in use. */
GstPxArenaBudget *gst_px_arena_budget_new (guint64 limit);
GstPxArenaBudget *gst_px_arena_budget_ref (GstPxArenaBudget * budget);
void gst_px_arena_budget_unref (GstPxArenaBudget * budget);

guint64 gst_px_arena_budget_get_limit (GstPxArenaBudget * budget);
guint64 gst_px_arena_budget_get_in_use (GstPxArenaBudget * budget);

/* Takes @size (a peer's, untrusted: any value) if it fits in what is
 * left; else takes nothing and returns FALSE. *@in_use (may be NULL) is
 * what was in use when it was checked, for the message that says why. */
gboolean gst_px_arena_budget_reserve (GstPxArenaBudget * budget,
    guint64 size, guint64 * in_use);

/* Gives back @size, taken before by gst_px_arena_budget_reserve(). */
void gst_px_arena_budget_release (GstPxArenaBudget * budget, guint64 size);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstPxArenaBudget, gst_px_arena_budget_unref);

G_END_DECLS
#endif /* __GST_PX_ARENA_BUDGET_H__ */
