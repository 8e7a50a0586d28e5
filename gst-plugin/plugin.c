/* Parallax — plugin registration.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/video/video.h>
#include <parallax/parallax.h>

#include "gstipcsink.h"
#include "gstipcsrc.h"
#include "gstsandboxbin.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  /* Caps that cross processes travel as text; reading them back needs every
   * type they may name. Video caps carry this one from gst-video, which is
   * registered only when something asks for it. */
  g_type_ensure (GST_TYPE_VIDEO_MULTIVIEW_FLAGSET);

  /* The "pxmemfd" allocator, from libparallax-1.0. */
  gst_px_init ();
  return GST_ELEMENT_REGISTER (ipcsink, plugin) &&
      GST_ELEMENT_REGISTER (ipcsrc, plugin) &&
      GST_ELEMENT_REGISTER (sandboxbin, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, parallax,
    "Parallax: zero-copy inter-process buffers over memfd arenas, "
    "sandboxed elements", plugin_init, PACKAGE_VERSION, GST_LICENSE,
    GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
