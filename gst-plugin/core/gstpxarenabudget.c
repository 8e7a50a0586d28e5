/* Parallax — a budget of arena bytes that several connections share.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstpxarenabudget.h"

struct _GstPxArenaBudget
{
  gint refcount;
  guint64 limit;
  GMutex lock;
  guint64 in_use;               /* (lock) */
};

GstPxArenaBudget *
gst_px_arena_budget_new (guint64 limit)
{
  GstPxArenaBudget *budget = g_new0 (GstPxArenaBudget, 1);

  budget->refcount = 1;
  budget->limit = limit;
  g_mutex_init (&budget->lock);
  return budget;
}

GstPxArenaBudget *
gst_px_arena_budget_ref (GstPxArenaBudget * budget)
{
  g_atomic_int_inc (&budget->refcount);
  return budget;
}

void
gst_px_arena_budget_unref (GstPxArenaBudget * budget)
{
  if (!g_atomic_int_dec_and_test (&budget->refcount))
    return;
  g_mutex_clear (&budget->lock);
  g_free (budget);
}

guint64
gst_px_arena_budget_get_limit (GstPxArenaBudget * budget)
{
  return budget->limit;
}

guint64
gst_px_arena_budget_get_in_use (GstPxArenaBudget * budget)
{
  guint64 in_use;

  g_mutex_lock (&budget->lock);
  in_use = budget->in_use;
  g_mutex_unlock (&budget->lock);
  return in_use;
}

gboolean
gst_px_arena_budget_reserve (GstPxArenaBudget * budget, guint64 size,
    guint64 * in_use)
{
  gboolean fits;

  g_mutex_lock (&budget->lock);
  if (in_use != NULL)
    *in_use = budget->in_use;
  /* in_use never exceeds limit, so this cannot wrap; in_use + size could,
   * with a size near G_MAXUINT64. */
  fits = size <= budget->limit - budget->in_use;
  if (fits)
    budget->in_use += size;
  g_mutex_unlock (&budget->lock);
  return fits;
}

void
gst_px_arena_budget_release (GstPxArenaBudget * budget, guint64 size)
{
  guint64 in_use;

  g_mutex_lock (&budget->lock);
  in_use = budget->in_use;
  /* Only our own code gives back, what it took: a mismatch is a bug. */
  if (G_LIKELY (size <= in_use))
    budget->in_use -= size;
  g_mutex_unlock (&budget->lock);
  if (G_UNLIKELY (size > in_use))
    g_critical ("%" G_GUINT64_FORMAT " arena bytes given back, %"
        G_GUINT64_FORMAT " in use", size, in_use);
}
