/* Parallax — GstBufferPool whose buffers live in a memfd arena.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_PX_ARENA_POOL_H__
#define __GST_PX_ARENA_POOL_H__

#include <parallax/parallax-prelude.h>

G_BEGIN_DECLS
/* Slot count of the arena when the configuration asks for no maximum. */
#define GST_PX_ARENA_POOL_DEFAULT_SLOTS 16
#define GST_TYPE_PX_ARENA_POOL (gst_px_arena_pool_get_type ())
GST_PX_API
G_DECLARE_FINAL_TYPE (GstPxArenaPool, gst_px_arena_pool, GST, PX_ARENA_POOL,
    GstBufferPool);

/**
 * gst_px_arena_pool_new:
 *
 * A buffer pool whose buffers live in one memfd arena: fd memory
 * (gst_is_fd_memory()) that another process can map.
 *
 * Returns: (transfer full): a new #GstPxArenaPool
 */
GST_PX_API GstBufferPool *gst_px_arena_pool_new (void);

G_END_DECLS
#endif /* __GST_PX_ARENA_POOL_H__ */
