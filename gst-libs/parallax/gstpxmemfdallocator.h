/* Parallax — "pxmemfd": one sealed memfd per memory.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_PX_MEMFD_ALLOCATOR_H__
#define __GST_PX_MEMFD_ALLOCATOR_H__

#include <parallax/parallax-prelude.h>
#include <gst/allocators/allocators.h>

G_BEGIN_DECLS
/* Name under which gst_px_init() registers it (gst_allocator_find()). */
#define GST_PX_MEMFD_ALLOCATOR_NAME "pxmemfd"
#define GST_TYPE_PX_MEMFD_ALLOCATOR (gst_px_memfd_allocator_get_type ())
GST_PX_API
G_DECLARE_FINAL_TYPE (GstPxMemfdAllocator, gst_px_memfd_allocator, GST,
    PX_MEMFD_ALLOCATOR, GstFdAllocator);

/**
 * gst_px_memfd_allocator_new:
 *
 * Returns: (transfer full): a new "pxmemfd" allocator
 */
GST_PX_API GstAllocator *gst_px_memfd_allocator_new (void);

G_END_DECLS
#endif /* __GST_PX_MEMFD_ALLOCATOR_H__ */
