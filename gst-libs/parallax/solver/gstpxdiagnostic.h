/* Parallax — what the caps solver found, said like a compiler would.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_PX_DIAGNOSTIC_H__
#define __GST_PX_DIAGNOSTIC_H__

#include <parallax/parallax-prelude.h>

G_BEGIN_DECLS
/**
 * GstPxSeverity:
 * @GST_PX_SEVERITY_ERROR: the pipeline cannot negotiate and the solver
 *   cannot repair it
 * @GST_PX_SEVERITY_WARNING: the pipeline may fail or work worse than it
 *   could
 * @GST_PX_SEVERITY_NOTE: what the solver did or will do, and why
 */
    typedef enum
{
  GST_PX_SEVERITY_ERROR,
  GST_PX_SEVERITY_WARNING,
  GST_PX_SEVERITY_NOTE,
} GstPxSeverity;

/**
 * GstPxDiagnosticCode:
 * @GST_PX_DIAGNOSTIC_NO_CONVERSION: PX-E001, the two pads share no caps and
 *   no chain of registered converters joins them
 * @GST_PX_DIAGNOSTIC_MEDIA_TYPE_MISMATCH: PX-E002, the pads carry different
 *   media types (video into an audio encoder); no converter changes that
 * @GST_PX_DIAGNOSTIC_MEMORY_UNREACHABLE: PX-E003, no registered converter
 *   reaches the caps feature (memory type) the downstream pad wants
 * @GST_PX_DIAGNOSTIC_UNKNOWN_FORMAT: PX-E004, a format no GStreamer element
 *   knows
 * @GST_PX_DIAGNOSTIC_UNKNOWN_MEDIA_TYPE: PX-E005, a media type no installed
 *   element offers
 * @GST_PX_DIAGNOSTIC_UNKNOWN_FEATURE: PX-E006, a caps feature no installed
 *   element offers
 * @GST_PX_DIAGNOSTIC_NO_SUCH_PAD: PX-E007, a requested link names a pad the
 *   element does not have, or one that is already linked
 * @GST_PX_DIAGNOSTIC_UNLINKED_PAD: PX-W001, an always pad nothing links,
 *   which stops the stream with not-linked
 * @GST_PX_DIAGNOSTIC_CONVERTER_INSERTED: PX-N001, converters go (or went)
 *   on a link, with the fields they change
 * @GST_PX_DIAGNOSTIC_ARENA_POOL: PX-N002, a link into ipcsink: the producer
 *   writes into a shared-memory arena pool
 * @GST_PX_DIAGNOSTIC_DYNAMIC_LINK: PX-N003, a link from a pad that appears
 *   at run time, solved when it does
 * @GST_PX_DIAGNOSTIC_LINKED: PX-N004, a requested link that negotiates as
 *   it is and is linked directly
 * @GST_PX_DIAGNOSTIC_BUFFERS_COPIED: PX-N005, buffers are copied on a link,
 *   and why: a change of memory type, a link into another process with no
 *   arena pool for its caps, a producer that ignores the pool proposed
 * @GST_PX_DIAGNOSTIC_ISOLATED: PX-N006, elements of a launch line wrapped
 *   in a sandboxbin (gst_px_parse_launch_isolated())
 * @GST_PX_DIAGNOSTIC_NOT_ISOLATED: PX-W002, an element that was to be
 *   isolated and was not, and why
 * @GST_PX_DIAGNOSTIC_MUXER_INPUTS: PX-N007, the format and pad each input
 *   of a muxer takes, chosen together for the least total cost
 *
 * Stable codes: a code keeps its meaning across releases, new ones get new
 * numbers.
 */
typedef enum
{
  GST_PX_DIAGNOSTIC_NO_CONVERSION,
  GST_PX_DIAGNOSTIC_MEDIA_TYPE_MISMATCH,
  GST_PX_DIAGNOSTIC_MEMORY_UNREACHABLE,
  GST_PX_DIAGNOSTIC_UNKNOWN_FORMAT,
  GST_PX_DIAGNOSTIC_UNKNOWN_MEDIA_TYPE,
  GST_PX_DIAGNOSTIC_UNKNOWN_FEATURE,
  GST_PX_DIAGNOSTIC_NO_SUCH_PAD,
  GST_PX_DIAGNOSTIC_UNLINKED_PAD,
  GST_PX_DIAGNOSTIC_CONVERTER_INSERTED,
  GST_PX_DIAGNOSTIC_ARENA_POOL,
  GST_PX_DIAGNOSTIC_DYNAMIC_LINK,
  GST_PX_DIAGNOSTIC_LINKED,
  GST_PX_DIAGNOSTIC_BUFFERS_COPIED,
  GST_PX_DIAGNOSTIC_ISOLATED,
  GST_PX_DIAGNOSTIC_NOT_ISOLATED,
  GST_PX_DIAGNOSTIC_MUXER_INPUTS,
} GstPxDiagnosticCode;

#define GST_TYPE_PX_DIAGNOSTIC (gst_px_diagnostic_get_type ())
GST_PX_API
G_DECLARE_FINAL_TYPE (GstPxDiagnostic, gst_px_diagnostic, GST, PX_DIAGNOSTIC,
    GObject);

GST_PX_API
    const gchar *gst_px_diagnostic_code_to_string (GstPxDiagnosticCode code);

GST_PX_API
    GstPxDiagnosticCode gst_px_diagnostic_get_code (GstPxDiagnostic *
    diagnostic);

GST_PX_API
    const gchar *gst_px_diagnostic_get_code_string (GstPxDiagnostic *
    diagnostic);

GST_PX_API
    GstPxSeverity gst_px_diagnostic_get_severity (GstPxDiagnostic * diagnostic);

GST_PX_API
    const gchar *gst_px_diagnostic_get_message (GstPxDiagnostic * diagnostic);

GST_PX_API
    const gchar *gst_px_diagnostic_get_src_pad (GstPxDiagnostic * diagnostic);

GST_PX_API
    const gchar *gst_px_diagnostic_get_sink_pad (GstPxDiagnostic * diagnostic);

GST_PX_API
    const gchar *const *gst_px_diagnostic_get_path (GstPxDiagnostic *
    diagnostic);

GST_PX_API
    const gchar *const *gst_px_diagnostic_get_fields (GstPxDiagnostic *
    diagnostic);

GST_PX_API
    gboolean gst_px_diagnostic_get_field (GstPxDiagnostic * diagnostic,
    const gchar * field, const gchar ** upstream, const gchar ** downstream,
    gboolean * conflict);

GST_PX_API
    const gchar *gst_px_diagnostic_get_suggestion (GstPxDiagnostic *
    diagnostic);

GST_PX_API gchar *gst_px_diagnostic_to_string (GstPxDiagnostic * diagnostic);

G_END_DECLS
#endif /* __GST_PX_DIAGNOSTIC_H__ */
