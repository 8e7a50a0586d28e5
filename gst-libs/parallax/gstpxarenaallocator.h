/* Parallax — GstAllocator over the slots of one memfd arena.
 *
 * Not installed: it speaks of PxArena, the GStreamer-free arena of
 * libparallax-common. The plugin uses it through libparallax-1.0.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_PX_ARENA_ALLOCATOR_H__
#define __GST_PX_ARENA_ALLOCATOR_H__

#include <parallax/parallax-prelude.h>
#include <gst/allocators/allocators.h>

#include "px-arena.h"

G_BEGIN_DECLS
#define GST_PX_ARENA_MEMORY_TYPE "pxarena"
#define GST_TYPE_PX_ARENA_ALLOCATOR (gst_px_arena_allocator_get_type ())
GST_PX_API
G_DECLARE_FINAL_TYPE (GstPxArenaAllocator, gst_px_arena_allocator, GST,
    PX_ARENA_ALLOCATOR, GstFdAllocator);

/* An allocator over @arena (takes a reference).
 *
 * Owner arena: each gst_allocator_alloc() takes a free slot, freeing the
 * memory gives it back.
 *
 * Imported arena: memory comes only from gst_px_arena_allocator_wrap_slot(),
 * is read-only, and freeing it does nothing to the arena: the slot belongs
 * to the process that sent it, and the caller tells that process when the
 * memory is gone (e.g. a GstMiniObject qdata destroy notify). */
GST_PX_API GstAllocator *gst_px_arena_allocator_new (PxArena * arena);

GST_PX_API
    PxArena * gst_px_arena_allocator_get_arena (GstAllocator * allocator);

/* The pool whose buffers copies of this allocator's memory borrow, so that
 * they stay in the arena (a weak reference; NULL: copies go to system
 * memory). A GstPxArenaPool sets itself on the allocator of each of its
 * configurations. */
GST_PX_API
    void gst_px_arena_allocator_set_pool (GstAllocator * allocator,
    GstBufferPool * pool);

/* Wraps [offset, offset + size) of @slot as memory, for a slot the caller
 * already holds (typically one a peer lent us). Memory of an imported arena
 * is read-only (GST_MEMORY_FLAG_READONLY, write maps fail). Returns NULL if
 * the range lies outside the slot. */
GST_PX_API
    GstMemory * gst_px_arena_allocator_wrap_slot (GstAllocator * allocator,
    guint32 slot, gsize offset, gsize size);

/* If @mem lives in an arena slot (directly or as a sub-memory), returns TRUE
 * and its arena (borrowed), slot and the offset of its data inside the
 * slot. */
GST_PX_API
    gboolean gst_px_arena_memory_get_slot (GstMemory * mem, PxArena ** arena,
    guint32 * slot, gsize * offset_in_slot);

/* Puts a root slot memory back to [offset_in_slot, offset_in_slot + size)
 * of its slot, whatever resizes happened to it. For pools, whose default
 * reset moves a memory's offset to 0, i.e. to the start of the arena.
 * Returns FALSE if @mem is not a root arena memory or the range does not
 * fit its slot. */
GST_PX_API
    gboolean gst_px_arena_memory_reset (GstMemory * mem, gsize offset_in_slot,
    gsize size);

GST_PX_API gboolean gst_is_px_arena_memory (GstMemory * mem);

/* The arena behind @pool's current configuration (borrowed; NULL before a
 * successful gst_buffer_pool_set_config()). */
GST_PX_API PxArena *gst_px_arena_pool_get_arena (GstBufferPool * pool);

/* Makes an arena of @slot_count slots of at least @slot_size bytes for a
 * pool's configuration: 0 and *@out (a reference) or -errno. */
typedef int (*GstPxArenaFunc) (gsize slot_size, guint slot_count,
    PxArena ** out, gpointer user_data);

/* Where @pool's arenas come from from now on, instead of px_arena_new():
 * a sandboxed worker's ipcsink asks its peer, since the worker may create
 * no shared memory. Called from gst_buffer_pool_set_config(), on the
 * thread that sets it. @notify (may be NULL) frees @user_data when the
 * function is replaced or the pool finalized. Set it before the first
 * configuration. */
GST_PX_API
    void gst_px_arena_pool_set_arena_func (GstBufferPool * pool,
    GstPxArenaFunc func, gpointer user_data, GDestroyNotify notify);

G_END_DECLS
#endif /* __GST_PX_ARENA_ALLOCATOR_H__ */
