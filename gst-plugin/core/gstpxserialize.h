/* Parallax — events, queries and buffer metadata to and from the wire.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Events and queries travel as the text of their GstStructure. The receiving
 * side never trusts that text: each supported type has its own decoder that
 * reads the fields it needs with their expected types and rebuilds the event
 * or query through GStreamer's own constructor, which re-checks them. Types
 * not listed here do not cross a process boundary.
 *
 * No text from a peer reaches GStreamer's parser before
 * gst_px_body_check() has bounded it: its size, its nesting, the value
 * types it uses and the new names it would make the process keep (see the
 * comment in gstpxserialize.c and docs/protocol.md). Every refusal is a
 * GST_PX_ERROR_PROTOCOL; a query type that does not cross processes is
 * GST_PX_ERROR_REFUSED.
 */
#ifndef __GST_PX_SERIALIZE_H__
#define __GST_PX_SERIALIZE_H__

#include <gst/gst.h>

#include "gstpxerror.h"
#include "px-wire.h"

G_BEGIN_DECLS
/* Custom downstream event an ipcsink sends to tell ipcsrc the latency of
 * the producer's pipeline up to the sink. */
#define GST_PX_LATENCY_EVENT_NAME "parallax/latency"
/* Values, arrays, lists, ranges and quoted structures or caps nest at most
 * this deep in a peer's text. GStreamer's parser recurses once per level;
 * a few levels are all that honest text uses. */
#define GST_PX_BODY_MAX_DEPTH 32
/* New names (not yet a GQuark) one connection may introduce, the process
 * from all its peers together, and the length of each. */
#define GST_PX_PEER_NEW_NAMES 256
#define GST_PX_PROCESS_NEW_NAMES 4096
#define GST_PX_NEW_NAME_MAX_LENGTH 128
/* What one peer may still introduce. One per connection; any thread. */
    typedef struct
{
  gint new_names;               /* atomic */
} GstPxPeerBudget;

void gst_px_peer_budget_init (GstPxPeerBudget * budget);

/* Checks the text of one structure from a peer before it may be parsed:
 * at most PX_WIRE_MAX_BODY - 1 bytes, nesting at most
 * GST_PX_BODY_MAX_DEPTH, only value types whose text can be checked, valid
 * structure and caps feature names, and new names within @budget and the
 * process's own, which it charges. FALSE with a GST_PX_ERROR_PROTOCOL
 * otherwise. */
gboolean gst_px_body_check (const gchar * body, GstPxPeerBudget * budget,
    GError ** error);

/* gst_px_body_check(), then gst_structure_from_string(). */
GstStructure *gst_px_structure_deserialize (const gchar * body,
    GstPxPeerBudget * budget, GError ** error);

/* A copy of @s for a peer: without the fields whose text the peer's
 * gst_px_body_check() would refuse (values of types that have no text
 * form, such as GstMpegtsSection, or whose text it cannot check, such as
 * GstSample; names longer than GST_PX_NEW_NAME_MAX_LENGTH) or that would
 * not come back as they are (NULL caps). The names of the fields left out
 * are appended to @left_out (if not NULL) as new strings. NULL if no copy
 * can cross: its name is refused, or its text, without those fields, is
 * not shorter than PX_WIRE_MAX_BODY. Whether the peer still has room for
 * the new names it brings only the peer knows. */
GstStructure *gst_px_structure_for_peer (const GstStructure * s,
    GPtrArray * left_out);

/* Text for @event, or NULL if events of its type do not cross processes. */
gchar *gst_px_event_serialize (GstEvent * event);

/* Rebuilds an event of @type from @body. @upstream: the direction the peer
 * claims; only event types that travel that way are accepted. */
GstEvent *gst_px_event_deserialize (guint32 type, const gchar * body,
    gboolean upstream, GstPxPeerBudget * budget, GError ** error);

/* Text for a query about to be sent, or NULL if its type does not cross
 * processes (ALLOCATION, for one, is answered locally). */
gchar *gst_px_query_serialize (GstQuery * query);

/* Rebuilds a query received from a peer, to be run locally. */
GstQuery *gst_px_query_deserialize (guint32 type, const gchar * body,
    GstPxPeerBudget * budget, GError ** error);

/* Text of the results of an answered query. */
gchar *gst_px_query_serialize_result (GstQuery * query);

/* Copies the results in @body into @query (the one that was sent), checking
 * each field. */
gboolean gst_px_query_apply_result (GstQuery * query, const gchar * body,
    GstPxPeerBudget * budget, GError ** error);

/* GstBufferFlags that cross processes (memory-tag flags do not). */
#define GST_PX_BUFFER_FLAGS_MASK \
  (GST_BUFFER_FLAG_LIVE | GST_BUFFER_FLAG_DECODE_ONLY | \
   GST_BUFFER_FLAG_DISCONT | GST_BUFFER_FLAG_RESYNC | \
   GST_BUFFER_FLAG_CORRUPTED | GST_BUFFER_FLAG_MARKER | \
   GST_BUFFER_FLAG_HEADER | GST_BUFFER_FLAG_GAP | GST_BUFFER_FLAG_DROPPABLE | \
   GST_BUFFER_FLAG_DELTA_UNIT | GST_BUFFER_FLAG_SYNC_AFTER | \
   GST_BUFFER_FLAG_NON_DROPPABLE)

/* Fills timestamps, flags and video meta of @wire (zero-initialised by the
 * caller) from @buffer. A video meta the wire cannot describe is left out. */
void gst_px_buffer_to_wire (GstBuffer * buffer, PxWireBuffer * wire);

/* Sets timestamps and flags of @buffer from @wire and adds its video meta
 * after checking that every plane lies inside the buffer's @size bytes.
 * Returns FALSE (and sets @error) if the meta does not describe a frame that
 * fits. */
gboolean gst_px_buffer_from_wire (GstBuffer * buffer, const PxWireBuffer * wire,
    GError ** error);

G_END_DECLS
#endif /* __GST_PX_SERIALIZE_H__ */
