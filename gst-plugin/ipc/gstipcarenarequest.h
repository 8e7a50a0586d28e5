/* Parallax — a producer asks its consumer for an arena.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A sandboxed worker may create no shared memory (docs/security.md,
 * "Limits"): its ipcsink (request-arenas) asks the ipcsrc at the other end
 * of its fd for each arena instead, with a custom query that crosses the
 * connection like any other:
 *
 *   parallax-arena-request, slot-size=(guint64)N, slot-count=(uint)M
 *
 * The ipcsrc (within its arena-budget) creates the memfd, sizes it, seals
 * it against shrinking and growing, sends it to the producer in an
 * ARENA_ADD on the same connection (before its answer), and answers with
 * arena-id=(guint64); or answers with refused=(string)WHY.
 * docs/protocol.md, "Arenas the consumer creates".
 */
#ifndef __GST_IPC_ARENA_REQUEST_H__
#define __GST_IPC_ARENA_REQUEST_H__

#include <gst/gst.h>

G_BEGIN_DECLS
#define GST_IPC_ARENA_REQUEST "parallax-arena-request"
static inline GstQuery *
gst_ipc_arena_request_new (guint64 slot_size, guint slot_count)
{
  return gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new (GST_IPC_ARENA_REQUEST, "slot-size", G_TYPE_UINT64,
          slot_size, "slot-count", G_TYPE_UINT, slot_count, NULL));
}

static inline gboolean
gst_ipc_arena_request_is (GstQuery * query)
{
  const GstStructure *s = gst_query_get_structure (query);

  return GST_QUERY_TYPE (query) == GST_QUERY_CUSTOM && s != NULL &&
      gst_structure_has_name (s, GST_IPC_ARENA_REQUEST);
}

static inline gboolean
gst_ipc_arena_request_parse (GstQuery * query, guint64 * slot_size,
    guint * slot_count)
{
  const GstStructure *s = gst_query_get_structure (query);

  return s != NULL && gst_structure_get_uint64 (s, "slot-size", slot_size)
      && gst_structure_get_uint (s, "slot-count", slot_count);
}

/* Consumer: the answer. */
static inline void
gst_ipc_arena_request_answer (GstQuery * query, guint64 arena_id,
    const gchar * refused)
{
  GstStructure *s = gst_query_writable_structure (query);

  if (refused != NULL)
    gst_structure_set (s, "refused", G_TYPE_STRING, refused, NULL);
  else
    gst_structure_set (s, "arena-id", G_TYPE_UINT64, arena_id, NULL);
}

/* Producer: TRUE and the granted arena's id, or FALSE and why (*@refused
 * points into @query; NULL when the answer is malformed). */
static inline gboolean
gst_ipc_arena_request_granted (GstQuery * query, guint64 * arena_id,
    const gchar ** refused)
{
  const GstStructure *s = gst_query_get_structure (query);

  *refused = s ? gst_structure_get_string (s, "refused") : NULL;
  return s != NULL && *refused == NULL &&
      gst_structure_get_uint64 (s, "arena-id", arena_id) && *arena_id != 0;
}

G_END_DECLS
#endif /* __GST_IPC_ARENA_REQUEST_H__ */
