/* Parallax — one checksum of a buffer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "px-buffer-checksum.h"

#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

static gboolean
checksum_video_frame (GstBuffer * buffer, GstCaps * caps, GChecksum * sum)
{
  GstVideoInfo info;
  GstVideoFrame frame;

  if (caps == NULL || gst_caps_get_size (caps) == 0 ||
      !gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "video/x-raw") || !gst_video_info_from_caps (&info, caps) ||
      !gst_video_frame_map (&frame, &info, buffer, GST_MAP_READ))
    return FALSE;
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES (&frame); p++) {
    const guint8 *row = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    gint comp[GST_VIDEO_MAX_COMPONENTS];
    guint width, height;

    gst_video_format_info_component (info.finfo, p, comp);
    width = GST_VIDEO_FRAME_COMP_WIDTH (&frame, comp[0]) *
        GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, comp[0]);
    height = GST_VIDEO_FRAME_COMP_HEIGHT (&frame, comp[0]);
    for (guint y = 0; y < height; y++)
      g_checksum_update (sum, row + y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame,
              p), width);
  }
  gst_video_frame_unmap (&frame);
  return TRUE;
}

gchar *
px_buffer_checksum (GstBuffer * buffer, GstCaps * caps)
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA1);
  gchar *text;

  if (!checksum_video_frame (buffer, caps, sum)) {
    GstMapInfo map;

    fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
    g_checksum_update (sum, map.data, map.size);
    gst_buffer_unmap (buffer, &map);
  }
  text = g_strdup (g_checksum_get_string (sum));
  g_checksum_free (sum);
  return text;
}
