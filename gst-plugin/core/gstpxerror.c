/* Parallax — the one error domain of the GStreamer-side core.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstpxerror.h"

#include <errno.h>

G_DEFINE_QUARK (gst - px - error - quark, gst_px_error);

GstResourceError
gst_px_error_resource_code (int errnum)
{
  switch (errnum < 0 ? -errnum : errnum) {
    case ENOENT:
    case ENOTDIR:
    case ECONNREFUSED:
      return GST_RESOURCE_ERROR_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EROFS:
      return GST_RESOURCE_ERROR_NOT_AUTHORIZED;
    case EADDRINUSE:
    case EBUSY:
      return GST_RESOURCE_ERROR_BUSY;
    case ENOSPC:
    case EDQUOT:
      return GST_RESOURCE_ERROR_NO_SPACE_LEFT;
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case EAGAIN:
      return GST_RESOURCE_ERROR_NO_SPACE_LEFT;
    case EINVAL:
    case ENAMETOOLONG:
      return GST_RESOURCE_ERROR_SETTINGS;
    default:
      return GST_RESOURCE_ERROR_FAILED;
  }
}

GstResourceError
gst_px_error_to_resource_error (const GError * error)
{
  if (error == NULL || error->domain != GST_PX_ERROR)
    return GST_RESOURCE_ERROR_FAILED;
  switch ((GstPxErrorCode) error->code) {
    case GST_PX_ERROR_REFUSED:
      return GST_RESOURCE_ERROR_NOT_AUTHORIZED;
    case GST_PX_ERROR_RESOURCE:
      return GST_RESOURCE_ERROR_NO_SPACE_LEFT;
    case GST_PX_ERROR_PEER_GONE:
    case GST_PX_ERROR_TIMEOUT:
    case GST_PX_ERROR_PROTOCOL:
      return GST_RESOURCE_ERROR_READ;
    case GST_PX_ERROR_FAILED:
    default:
      return GST_RESOURCE_ERROR_FAILED;
  }
}
