/* Parallax — "pxmemfd": one sealed memfd per memory.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:gstpxmemfdallocator
 * @title: GstPxMemfdAllocator
 * @short_description: shareable memory of any size, one memfd each
 *
 * Registered by the parallax plugin as "pxmemfd":
 * |[
 * GstAllocator *alloc = gst_allocator_find ("pxmemfd");
 * ]|
 * Each memory is its own memfd (CLOEXEC, sealed against shrinking and
 * growing), mapped once and kept mapped until it is freed. It is #GstFdMemory,
 * so it can be passed to another process as it is. For many buffers of one
 * size prefer an arena pool: it needs one fd in all instead of one per
 * buffer.
 */

#include "gstpxmemfdallocator.h"
#include "gstpxparams.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (gst_px_memfd_allocator_debug);
#define GST_CAT_DEFAULT gst_px_memfd_allocator_debug

struct _GstPxMemfdAllocator
{
  GstFdAllocator parent;
};

G_DEFINE_TYPE_WITH_CODE (GstPxMemfdAllocator, gst_px_memfd_allocator,
    GST_TYPE_FD_ALLOCATOR,
    GST_DEBUG_CATEGORY_INIT (gst_px_memfd_allocator_debug, "pxmemfd", 0,
        "Parallax memfd allocator"));

static GstMemory *
gst_px_memfd_allocator_alloc (GstAllocator * allocator, gsize size,
    GstAllocationParams * params)
{
  gsize offset, total;
  GstMemory *mem;
  int fd;

  if (!gst_px_params_layout (size, params, &offset, &total) || total == 0 ||
      total > G_MAXINT64) {
    GST_WARNING_OBJECT (allocator, "invalid size %" G_GSIZE_FORMAT, size);
    return NULL;
  }

  fd = memfd_create ("parallax-memfd", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    GST_WARNING_OBJECT (allocator, "memfd_create: %s", g_strerror (errno));
    return NULL;
  }
  if (ftruncate (fd, (off_t) total) < 0 ||
      fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
    GST_WARNING_OBJECT (allocator, "cannot size or seal a memfd of %"
        G_GSIZE_FORMAT " bytes: %s", total, g_strerror (errno));
    close (fd);
    return NULL;
  }

  /* The memory owns fd from here and closes it when freed. */
  mem = gst_fd_allocator_alloc (allocator, fd, total,
      GST_FD_MEMORY_FLAG_KEEP_MAPPED);
  gst_memory_resize (mem, offset, size);
  return mem;
}

static void
gst_px_memfd_allocator_class_init (GstPxMemfdAllocatorClass * klass)
{
  GstAllocatorClass *allocator_class = GST_ALLOCATOR_CLASS (klass);

  allocator_class->alloc = gst_px_memfd_allocator_alloc;
}

static void
gst_px_memfd_allocator_init (GstPxMemfdAllocator * self)
{
  GstAllocator *allocator = GST_ALLOCATOR_CAST (self);

  allocator->mem_type = GST_PX_MEMFD_ALLOCATOR_NAME;
  /* gst_allocator_alloc (NULL, ...) must not pick us: callers who want
   * memfds ask for them by name. */
  GST_OBJECT_FLAG_SET (self, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
}

GstAllocator *
gst_px_memfd_allocator_new (void)
{
  GstAllocator *allocator = g_object_new (GST_TYPE_PX_MEMFD_ALLOCATOR, NULL);

  gst_object_ref_sink (allocator);
  return allocator;
}
