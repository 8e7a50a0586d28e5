/* Parallax — GstBufferPool whose buffers live in a memfd arena.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_PX_ARENA_POOL_H__
#define __GST_PX_ARENA_POOL_H__

#include <gst/gst.h>

#include "px-arena.h"

G_BEGIN_DECLS

/* Slot count of the arena when the configuration asks for no maximum. */
#define GST_PX_ARENA_POOL_DEFAULT_SLOTS 16

#define GST_TYPE_PX_ARENA_POOL (gst_px_arena_pool_get_type ())
G_DECLARE_FINAL_TYPE (GstPxArenaPool, gst_px_arena_pool, GST, PX_ARENA_POOL,
    GstBufferPool);

GstBufferPool *gst_px_arena_pool_new (void);

/* The arena behind the current configuration (borrowed; NULL before a
 * successful gst_buffer_pool_set_config()). */
PxArena *gst_px_arena_pool_get_arena (GstBufferPool * pool);

G_END_DECLS

#endif /* __GST_PX_ARENA_POOL_H__ */
