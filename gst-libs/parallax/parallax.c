/* Parallax — library initialisation.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:parallax
 * @title: Parallax
 * @short_description: shareable memory for GStreamer applications
 *
 * libparallax-1.0 holds what applications use directly: the "pxmemfd"
 * allocator (one sealed memfd per memory), the arena buffer pool
 * (#GstPxArenaPool) and, as it lands, the global caps solver. The Parallax
 * plugin (ipcsink, ipcsrc) links it, so both see the same types.
 */
#include "parallax.h"

/**
 * gst_px_init:
 *
 * Registers the "pxmemfd" allocator with gst_allocator_register(), so that
 * gst_allocator_find ("pxmemfd") finds it without loading the plugin, and
 * makes sure the library's types exist. Call it after gst_init(); calling it
 * again, from any thread, does nothing more.
 */
void
gst_px_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    /* gst_allocator_register() takes the reference. */
    gst_allocator_register (GST_PX_MEMFD_ALLOCATOR_NAME,
        gst_px_memfd_allocator_new ());
    g_type_ensure (GST_TYPE_PX_ARENA_POOL);
    g_once_init_leave (&done, 1);
  }
}
