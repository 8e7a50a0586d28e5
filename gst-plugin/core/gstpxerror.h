/* Parallax — the one error domain of the GStreamer-side core.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every GError the core (connection, serialisation, worker protocol) and
 * the elements set between themselves is in GST_PX_ERROR with one of these
 * codes. What reaches an application's bus is translated into GStreamer's
 * own domains (GST_RESOURCE_ERROR, GST_STREAM_ERROR, ...) by the element
 * that posts it: gst_px_error_to_resource_error() gives the code.
 */
#ifndef __GST_PX_ERROR_H__
#define __GST_PX_ERROR_H__

#include <gst/gst.h>

G_BEGIN_DECLS
#define GST_PX_ERROR (gst_px_error_quark ())
    GQuark gst_px_error_quark (void);

typedef enum
{
  /* Nothing more specific fits. */
  GST_PX_ERROR_FAILED,
  /* The peer did not answer, or did not make room, in time. */
  GST_PX_ERROR_TIMEOUT,
  /* The peer sent something the protocol does not allow: a malformed or
   * unexpected message, text that does not parse, ids or sizes out of
   * bounds. The peer is dropped. */
  GST_PX_ERROR_PROTOCOL,
  /* The peer closed the connection or its process ended. */
  GST_PX_ERROR_PEER_GONE,
  /* The peer (or our own policy) refused a request: a query it does not
   * answer, a worker whose jail is not what was asked for. */
  GST_PX_ERROR_REFUSED,
  /* A local resource ran out or could not be made: memory, fds, threads,
   * a socket, a process. */
  GST_PX_ERROR_RESOURCE,
} GstPxErrorCode;

/* The GstResourceError an element posts for a failed system call with
 * @errnum: a missing socket is NOT_FOUND, EACCES/EPERM NOT_AUTHORIZED,
 * an address in use BUSY, and so on. */
GstResourceError gst_px_error_resource_code (int errnum);

/* The GstResourceError for a GST_PX_ERROR. */
GstResourceError gst_px_error_to_resource_error (const GError * error);

G_END_DECLS
#endif /* __GST_PX_ERROR_H__ */
