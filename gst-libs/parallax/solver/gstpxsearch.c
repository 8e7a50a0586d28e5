/* Parallax — the cheapest chain of converters between two caps: Dijkstra
 * over the caps fields the converters free and the memory they move to.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstpxsolverprivate.h"

/* A state is the caps a chain of converters can produce so far. Two chains
 * that freed the same fields into the same memory reach the same state, so
 * the search stays small: a few converters give a few dozen states. */
typedef struct
{
  GstCaps *caps;
  guint64 used;                 /* converters in the chain, by index */
  gchar *key;
  guint cost;
  guint loss;
  gint prev;
  gint converter;
  gboolean done;
} PxState;

#define PX_SEARCH_MAX_CONVERTERS 64
#define PX_SEARCH_MAX_STATES 512

void
px_chain_free (PxChain * chain)
{
  if (chain == NULL)
    return;
  g_ptr_array_unref (chain->converters);
  g_strfreev (chain->fields);
  gst_clear_caps (&chain->output);
  gst_clear_caps (&chain->input);
  g_free (chain);
}

static gchar *
state_key (const GstCaps * caps)
{
  return gst_caps_to_string (caps);
}

static gint
cheapest_open (GArray * states)
{
  gint best = -1;

  for (guint i = 0; i < states->len; i++) {
    PxState *s = &g_array_index (states, PxState, i);
    if (!s->done && (best < 0 ||
            s->cost < g_array_index (states, PxState, best).cost))
      best = i;
  }
  return best;
}

static guint
edge_loss (GstPxConverter * c, GPtrArray * conflicts, const GstCaps * up,
    const GstCaps * down)
{
  const gchar *const *fields = gst_px_converter_get_fields (c);
  guint loss = 0;

  for (guint f = 0; fields[f]; f++)
    if (g_ptr_array_find_with_equal_func (conflicts, fields[f], g_str_equal,
            NULL))
      loss += px_quality_loss (fields[f], up, down);
  return loss;
}

static PxChain *
build_chain (GArray * states, gint goal, GPtrArray * converters,
    GPtrArray * conflicts, const GstCaps * down)
{
  PxChain *chain = g_new0 (PxChain, 1);
  PxState *g = &g_array_index (states, PxState, goal);
  g_autoptr (GPtrArray) fields = g_ptr_array_new ();
  GstCaps *input;

  chain->converters = g_ptr_array_new_with_free_func (g_object_unref);
  for (gint i = goal; g_array_index (states, PxState, i).prev >= 0;
      i = g_array_index (states, PxState, i).prev)
    g_ptr_array_insert (chain->converters, 0,
        g_object_ref (g_ptr_array_index (converters,
                g_array_index (states, PxState, i).converter)));
  chain->cost = g->cost;
  chain->loss = g->loss;
  chain->output = gst_caps_ref (g->caps);

  /* What the chain takes: downstream's caps run backwards through it. */
  input = gst_caps_copy (down);
  for (gint i = chain->converters->len - 1; i >= 0; i--) {
    GstPxConverter *c = g_ptr_array_index (chain->converters, i);
    GstCaps *back;

    if (px_converter_get_input_caps (c))
      back = gst_caps_copy (px_converter_get_input_caps (c));
    else
      back = px_caps_convert (input, gst_px_converter_get_media_type (c),
          gst_px_converter_get_fields (c),
          gst_px_converter_get_output_feature (c),
          gst_px_converter_get_input_feature (c));
    gst_caps_unref (input);
    input = back;
  }
  chain->input = input;

  for (guint i = 0; i < chain->converters->len; i++) {
    GstPxConverter *c = g_ptr_array_index (chain->converters, i);
    const gchar *const *cf = gst_px_converter_get_fields (c);
    for (guint f = 0; cf[f]; f++)
      if (g_ptr_array_find_with_equal_func (conflicts, cf[f], g_str_equal,
              NULL) && !g_ptr_array_find_with_equal_func (fields, cf[f],
              g_str_equal, NULL))
        g_ptr_array_add (fields, (gpointer) cf[f]);
    if (g_strcmp0 (gst_px_converter_get_input_feature (c),
            gst_px_converter_get_output_feature (c)) != 0 &&
        !g_ptr_array_find_with_equal_func (fields, "memory", g_str_equal, NULL))
      g_ptr_array_add (fields, (gpointer) "memory");
  }
  chain->fields = g_new0 (gchar *, fields->len + 1);
  for (guint i = 0; i < fields->len; i++)
    chain->fields[i] = g_strdup (g_ptr_array_index (fields, i));
  return chain;
}

static void
clear_state (PxState * s)
{
  gst_clear_caps (&s->caps);
  g_free (s->key);
}

/* Tries converter @ci from state @from; adds or improves the state it
 * leads to. */
static void
relax (GArray * states, GHashTable * index, gint from, guint ci,
    GstPxConverter * c, GPtrArray * conflicts, const GstCaps * up,
    const GstCaps * down)
{
  PxState *s = &g_array_index (states, PxState, from);
  PxState next = { 0, };
  gpointer found;
  guint loss;

  if (!px_caps_has_feature (s->caps, gst_px_converter_get_media_type (c),
          gst_px_converter_get_input_feature (c)))
    return;
  if (px_converter_get_input_caps (c)) {
    /* An encoder: what it makes, from what it takes. */
    if (!gst_caps_can_intersect (s->caps, px_converter_get_input_caps (c)))
      return;
    next.caps = gst_caps_copy (px_converter_get_output_caps (c));
  } else {
    next.caps = px_caps_convert (s->caps,
        gst_px_converter_get_media_type (c), gst_px_converter_get_fields (c),
        gst_px_converter_get_input_feature (c),
        gst_px_converter_get_output_feature (c));
  }
  if (gst_caps_is_empty (next.caps)) {
    gst_caps_unref (next.caps);
    return;
  }
  loss = edge_loss (c, conflicts, up, down);
  next.key = state_key (next.caps);
  next.used = s->used | (G_GUINT64_CONSTANT (1) << ci);
  next.cost = s->cost + gst_px_converter_get_cost (c) + loss;
  next.loss = s->loss + loss;
  next.prev = from;
  next.converter = ci;

  if (g_hash_table_lookup_extended (index, next.key, NULL, &found)) {
    PxState *old = &g_array_index (states, PxState, GPOINTER_TO_INT (found));
    if (!old->done && next.cost < old->cost) {
      gst_caps_replace (&old->caps, next.caps);
      old->used = next.used;
      old->cost = next.cost;
      old->loss = next.loss;
      old->prev = next.prev;
      old->converter = next.converter;
    }
    clear_state (&next);
    return;
  }
  if (states->len >= PX_SEARCH_MAX_STATES) {
    clear_state (&next);
    return;
  }
  g_array_append_val (states, next);
  g_hash_table_insert (index, next.key, GINT_TO_POINTER (states->len - 1));
}

/* The cheapest chain of @converters (GstPxConverter) that turns what
 * @upstream offers into something @downstream accepts, or NULL. Cost is
 * each converter's cost plus the quality it loses on the fields that
 * conflict; ties go to the converter registered first. */
PxChain *
px_search (GPtrArray * converters, const GstCaps * upstream,
    const GstCaps * downstream)
{
  g_autoptr (GArray) states = g_array_new (FALSE, TRUE, sizeof (PxState));
  g_autoptr (GHashTable) index = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) conflicts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) diff = px_caps_diff (upstream, downstream);
  guint n = MIN (converters->len, PX_SEARCH_MAX_CONVERTERS);
  PxChain *chain = NULL;
  PxState start = { 0, };
  gint cur;

  for (guint i = 0; i < diff->len; i++) {
    PxFieldDiff *row = g_ptr_array_index (diff, i);
    if (row->conflict)
      g_ptr_array_add (conflicts, g_strdup (row->field));
  }
  start.caps = gst_caps_copy (upstream);
  start.key = state_key (start.caps);
  start.prev = -1;
  start.converter = -1;
  g_array_append_val (states, start);
  g_hash_table_insert (index, start.key, GINT_TO_POINTER (0));

  while ((cur = cheapest_open (states)) >= 0) {
    PxState *s = &g_array_index (states, PxState, cur);

    s->done = TRUE;
    if (gst_caps_can_intersect (s->caps, downstream)) {
      chain = build_chain (states, cur, converters, conflicts, downstream);
      break;
    }
    for (guint ci = 0; ci < n; ci++) {
      if (g_array_index (states, PxState, cur).used &
          (G_GUINT64_CONSTANT (1) << ci))
        continue;
      relax (states, index, cur, ci, g_ptr_array_index (converters, ci),
          conflicts, upstream, downstream);
    }
  }
  for (guint i = 0; i < states->len; i++)
    clear_state (&g_array_index (states, PxState, i));
  return chain;
}
