/* Parallax — layout of a memory described by GstAllocationParams.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_PX_PARAMS_H__
#define __GST_PX_PARAMS_H__

#include <gst/gst.h>

/* Where the data of a @size byte memory starts (the prefix rounded up to the
 * alignment, which also covers gst_memory_alignment) and how many bytes the
 * whole memory needs (offset + size + padding). Returns FALSE on overflow;
 * the values may come from another element's allocation query. */
static inline gboolean
gst_px_params_layout (gsize size, const GstAllocationParams * params,
    gsize * offset, gsize * total)
{
  gsize align = params->align | gst_memory_alignment;
  gsize start, end;

  if (!g_size_checked_add (&start, params->prefix, align))
    return FALSE;
  start &= ~align;
  if (!g_size_checked_add (&end, start, size) ||
      !g_size_checked_add (&end, end, params->padding))
    return FALSE;
  *offset = start;
  *total = end;
  return TRUE;
}

#endif /* __GST_PX_PARAMS_H__ */
