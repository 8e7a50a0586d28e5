/* Parallax — GstBufferPool whose buffers live in a memfd arena.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:gstpxarenapool
 * @title: GstPxArenaPool
 * @short_description: a buffer pool over one memfd arena
 *
 * Configured like any #GstBufferPool (caps, size, min/max buffers, allocation
 * params, %GST_BUFFER_POOL_OPTION_VIDEO_META,
 * %GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT). gst_buffer_pool_set_config()
 * creates one arena with one slot per buffer: the whole pool costs one fd
 * however many buffers flow through it.
 *
 * Video is laid out as #GstVideoBufferPool lays it out, so that elements
 * that need padded frames can decode into the arena: with both video
 * options and raw video caps, the configuration's #GstVideoAlignment pads
 * the frame (gst_video_info_align()), the buffers and their slots are sized
 * for the padded frame, their #GstVideoMeta gives its offsets and strides,
 * and the strides' alignment, one for every plane, also applies to the
 * memory. gst_buffer_pool_get_config() shows the alignment, size and
 * allocation params that result. Slots start on page boundaries: an
 * alignment above the page size is refused. A pool whose arenas come from
 * a peer (gst_px_arena_pool_set_arena_func()) refuses an aligned
 * configuration that would need a new arena once it has one: each arena a
 * peer grants counts against its budget for the whole session.
 *
 * An arena cannot grow, so a configuration without a maximum
 * (max_buffers = 0) is given one: max(min_buffers,
 * %GST_PX_ARENA_POOL_DEFAULT_SLOTS). gst_buffer_pool_get_config() shows the
 * value chosen, and gst_buffer_pool_acquire_buffer() blocks (or returns
 * %GST_FLOW_EOS with %GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT) when every slot
 * is in use, as with any pool that has a maximum.
 *
 * The pool always allocates from its own arena allocator; an allocator set
 * in the configuration is replaced by it (the configuration then names the
 * arena allocator), allocation params are honoured.
 *
 * A copy of the memory of a pool buffer (gst_memory_copy(), which GstBuffer
 * makes when it must make writable a buffer whose memory someone else has
 * mapped for writing) takes one of the pool's buffers when one is free,
 * without waiting, and so stays in the arena; the buffer comes back when
 * the copy is freed. Otherwise the copy is in system memory.
 *
 * Before an acquire waits for a slot, the pool emits #GstPxArenaPool::starved
 * in the acquiring thread: a holder that keeps buffers of the pool only in
 * case it needs them again (a replay window) can let some go then, instead
 * of holding back the element that writes into the pool.
 */

#include "gstpxarenapool.h"
#include "gstpxarenaallocator.h"
#include "gstpxparams.h"

#include <gst/video/video.h>

GST_DEBUG_CATEGORY_STATIC (gst_px_arena_pool_debug);
#define GST_CAT_DEFAULT gst_px_arena_pool_debug

/* How the buffers of a configuration lay out video. */
typedef struct
{
  gboolean add_meta;
  /* The layout the meta gives: the caps' frame, or the padded one. */
  GstVideoInfo info;
  gboolean aligned;
  GstVideoAlignment align;
} VideoLayout;

struct _GstPxArenaPool
{
  GstBufferPool parent;

  GstAllocator *allocator;
  GstAllocationParams params;
  guint size;
  /* Where a buffer's data starts inside its slot (prefix and alignment),
   * and the slot size the arena was created with. */
  gsize data_offset;
  gsize slot_size;
  VideoLayout video;
  /* Where arenas come from (NULL: px_arena_new ()); see
   * gst_px_arena_pool_set_arena_func(). */
  GstPxArenaFunc arena_func;
  gpointer arena_func_data;
  GDestroyNotify arena_func_notify;
};

G_DEFINE_TYPE_WITH_CODE (GstPxArenaPool, gst_px_arena_pool,
    GST_TYPE_BUFFER_POOL,
    GST_DEBUG_CATEGORY_INIT (gst_px_arena_pool_debug, "pxarenapool", 0,
        "Parallax arena buffer pool"));

static const gchar **
gst_px_arena_pool_get_options (GstBufferPool * pool)
{
  static const gchar *options[] = { GST_BUFFER_POOL_OPTION_VIDEO_META,
    GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT, NULL
  };
  return options;
}

/* Whether memory of arena slots can keep @align (a mask): slots start on
 * page boundaries. */
static gboolean
alignment_fits (gsize align)
{
  return (align | gst_memory_alignment) < px_arena_slot_alignment ();
}

/* The video layout of @config, into @video: with
 * %GST_BUFFER_POOL_OPTION_VIDEO_META and raw video @caps, the caps' frame;
 * with %GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT as well, the frame padded by
 * the configuration's alignment, whose stride alignment (the largest one
 * asked, for every plane) also applies to the memory. Raises *@size to the
 * padded frame's size and @params->align to the strides'. */
static gboolean
configure_video (GstPxArenaPool * self, GstStructure * config,
    GstCaps * caps, guint * size, GstAllocationParams * params,
    VideoLayout * video)
{
  GstVideoInfo *info = &video->info;
  GstVideoAlignment *align = &video->align;
  guint64 padded_width, padded_height;
  gsize max_align = params->align;

  video->add_meta = caps != NULL &&
      gst_buffer_pool_config_has_option (config,
      GST_BUFFER_POOL_OPTION_VIDEO_META) &&
      gst_video_info_from_caps (info, caps);
  video->aligned = video->add_meta &&
      gst_buffer_pool_config_has_option (config,
      GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);
  if (video->add_meta && *size < info->size) {
    GST_ERROR_OBJECT (self, "buffers of %u bytes cannot hold a frame of %"
        G_GSIZE_FORMAT, *size, info->size);
    return FALSE;
  }
  if (!video->aligned)
    return TRUE;

  if (!gst_buffer_pool_config_get_video_alignment (config, align))
    gst_video_alignment_reset (align);
  for (guint n = 0; n < GST_VIDEO_MAX_PLANES; n++)
    max_align |= align->stride_align[n];
  padded_width = (guint64) GST_VIDEO_INFO_WIDTH (info) + align->padding_left +
      align->padding_right;
  padded_height = (guint64) GST_VIDEO_INFO_HEIGHT (info) + align->padding_top
      + align->padding_bottom;
  if (!alignment_fits (max_align) || padded_width > G_MAXINT ||
      padded_height > G_MAXINT) {
    GST_ERROR_OBJECT (self, "cannot pad %dx%d frames to %" G_GUINT64_FORMAT
        "x%" G_GUINT64_FORMAT " with strides aligned to %" G_GSIZE_FORMAT
        " bytes", GST_VIDEO_INFO_WIDTH (info), GST_VIDEO_INFO_HEIGHT (info),
        padded_width, padded_height, max_align + 1);
    return FALSE;
  }
  for (guint n = 0; n < GST_VIDEO_MAX_PLANES; n++)
    align->stride_align[n] = max_align;
  if (!gst_video_info_align (info, align) || info->size > G_MAXUINT) {
    GST_ERROR_OBJECT (self, "cannot align %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
  params->align = max_align;
  *size = MAX (*size, (guint) info->size);
  return TRUE;
}

/* The current arena if a configuration of @slots slots of @slot_size bytes
 * can keep it (set_config runs only with every buffer back, so no slot is
 * in use): upstream often sets a proposed pool's config again, and an arena
 * that comes from a peer costs a round trip and part of a budget. */
static PxArena *
reusable_arena (GstPxArenaPool * self, gsize slot_size, guint slots)
{
  PxArena *current = self->allocator ?
      gst_px_arena_allocator_get_arena (self->allocator) : NULL;

  if (current != NULL && px_arena_slot_size (current) >= slot_size &&
      px_arena_slot_count (current) == slots &&
      px_arena_slots_in_use (current) == 0)
    return current;
  return NULL;
}

/* The arena of a new configuration: the current one if it fits. */
static int
make_arena (GstPxArenaPool * self, gsize slot_size, guint slots, PxArena ** out)
{
  PxArena *current = reusable_arena (self, slot_size, slots);

  if (current != NULL) {
    *out = px_arena_ref (current);
    return 0;
  }
  if (self->arena_func != NULL)
    return self->arena_func (slot_size, slots, out, self->arena_func_data);
  return px_arena_new ("parallax-pool", slot_size, slots, out);
}

static gboolean
gst_px_arena_pool_set_config (GstBufferPool * pool, GstStructure * config)
{
  GstPxArenaPool *self = GST_PX_ARENA_POOL (pool);
  GstAllocationParams params;
  GstCaps *caps;
  guint size, min, max;
  gsize data_offset, slot_size;
  VideoLayout video;
  PxArena *arena;
  int ret;

  if (!gst_buffer_pool_config_get_params (config, &caps, &size, &min, &max)) {
    GST_ERROR_OBJECT (self, "invalid configuration");
    return FALSE;
  }
  if (!gst_buffer_pool_config_get_allocator (config, NULL, &params))
    gst_allocation_params_init (&params);
  if (!alignment_fits (params.align)) {
    GST_ERROR_OBJECT (self, "cannot align memory to %" G_GSIZE_FORMAT
        " bytes: arena slots start on page boundaries", params.align + 1);
    return FALSE;
  }
  if (!configure_video (self, config, caps, &size, &params, &video))
    return FALSE;

  if (max == 0)
    max = MAX (min, GST_PX_ARENA_POOL_DEFAULT_SLOTS);
  if (size == 0 || max > PX_ARENA_MAX_SLOTS ||
      !gst_px_params_layout (size, &params, &data_offset, &slot_size)) {
    GST_ERROR_OBJECT (self, "cannot hold %u buffers of %u bytes in an arena",
        max, size);
    return FALSE;
  }

  /* A peer counts each arena it grants against its budget for the whole
   * session: padding is not worth a second one. The element falls back to
   * a pool of its own (avdec_h264 then copies each frame into this one,
   * which costs what a copy out of a direct-rendered frame costs). */
  if (video.aligned && self->arena_func != NULL && self->allocator != NULL &&
      reusable_arena (self, slot_size, max) == NULL) {
    GST_INFO_OBJECT (self, "padded frames of %u bytes do not fit the arena "
        "a peer granted: not asking for another", size);
    return FALSE;
  }
  ret = make_arena (self, slot_size, max, &arena);
  if (ret < 0) {
    GST_ERROR_OBJECT (self, "cannot create an arena of %u x %" G_GSIZE_FORMAT
        " bytes: %s", max, slot_size, g_strerror (-ret));
    return FALSE;
  }
  g_clear_object (&self->allocator);
  self->allocator = gst_px_arena_allocator_new (arena);
  gst_px_arena_allocator_set_pool (self->allocator, pool);
  px_arena_unref (arena);

  self->params = params;
  self->size = size;
  self->data_offset = data_offset;
  self->slot_size = slot_size;
  self->video = video;

  GST_DEBUG_OBJECT (self, "arena %016" G_GINT64_MODIFIER "x: %u slots of %"
      G_GSIZE_FORMAT " bytes, video meta %d, aligned %d", px_arena_id (arena),
      max, slot_size, video.add_meta, video.aligned);

  /* Write back what the pool really does, then let the base class take its
   * copy of the limits. */
  gst_buffer_pool_config_set_params (config, caps, size, min, max);
  gst_buffer_pool_config_set_allocator (config, self->allocator, &params);
  if (video.aligned)
    gst_buffer_pool_config_set_video_alignment (config, &video.align);
  return GST_BUFFER_POOL_CLASS (gst_px_arena_pool_parent_class)->set_config
      (pool, config);
}

static GstFlowReturn
gst_px_arena_pool_alloc_buffer (GstBufferPool * pool, GstBuffer ** buffer,
    GstBufferPoolAcquireParams * params)
{
  GstPxArenaPool *self = GST_PX_ARENA_POOL (pool);
  GstMemory *mem;
  GstBuffer *buf;

  mem = gst_allocator_alloc (self->allocator, self->size, &self->params);
  if (mem == NULL) {
    /* The base class never asks for more buffers than slots, so this means
     * memory taken out of a pool buffer is still alive elsewhere. */
    GST_WARNING_OBJECT (self, "every arena slot is in use");
    return GST_FLOW_ERROR;
  }
  buf = gst_buffer_new ();
  gst_buffer_append_memory (buf, mem);

  if (self->video.add_meta) {
    GstVideoInfo *info = &self->video.info;
    GstVideoMeta *meta;

    meta = gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
        GST_VIDEO_INFO_FORMAT (info), GST_VIDEO_INFO_WIDTH (info),
        GST_VIDEO_INFO_HEIGHT (info), GST_VIDEO_INFO_N_PLANES (info),
        info->offset, info->stride);
    /* Tells downstream where the padding is; the layout is the one
     * gst_video_info_align() made, so it holds. */
    if (self->video.aligned)
      gst_video_meta_set_alignment (meta, self->video.align);
  }
  *buffer = buf;
  return GST_FLOW_OK;
}

static gboolean
remove_unpooled_meta (GstBuffer * buffer, GstMeta ** meta, gpointer unused)
{
  if (!GST_META_FLAG_IS_SET (*meta, GST_META_FLAG_POOLED)) {
    GST_META_FLAG_UNSET (*meta, GST_META_FLAG_LOCKED);
    *meta = NULL;
  }
  return TRUE;
}

/* Runs for every buffer that comes back, so it does the base class's work
 * itself instead of chaining up: the default reset moves a memory's offset
 * back to 0, which for a slot memory (whose offset is its place in the arena
 * fd) is the start of the arena, and moving it back again costs two resizes
 * per buffer. Here the memory is only touched when someone resized it. */
static void
gst_px_arena_pool_reset_buffer (GstBufferPool * pool, GstBuffer * buffer)
{
  GstPxArenaPool *self = (GstPxArenaPool *) pool;
  GstMemory *mem;

  if (gst_buffer_n_memory (buffer) != 1 ||
      GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_TAG_MEMORY)) {
    /* Not our layout any more: the base class resets what it can and the
     * release check then discards the buffer. */
    GST_BUFFER_POOL_CLASS (gst_px_arena_pool_parent_class)->reset_buffer
        (pool, buffer);
    return;
  }

  GST_BUFFER_FLAGS (buffer) = 0;
  GST_BUFFER_PTS (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_OFFSET (buffer) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_OFFSET_END (buffer) = GST_BUFFER_OFFSET_NONE;
  gst_buffer_foreach_meta (buffer, remove_unpooled_meta, NULL);

  /* A slot memory's maxsize is the end of its slot's data area. */
  mem = gst_buffer_peek_memory (buffer, 0);
  if (mem->size != self->size ||
      mem->offset != mem->maxsize - self->slot_size + self->data_offset)
    gst_px_arena_memory_reset (mem, self->data_offset, self->size);
}

enum
{
  SIGNAL_STARVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* A buffer without waiting if one is free; otherwise says so (starved) and
 * waits as the caller asked. */
static GstFlowReturn
gst_px_arena_pool_acquire_buffer (GstBufferPool * pool, GstBuffer ** buffer,
    GstBufferPoolAcquireParams * params)
{
  GstBufferPoolClass *parent =
      GST_BUFFER_POOL_CLASS (gst_px_arena_pool_parent_class);
  GstBufferPoolAcquireParams now = { 0, };
  GstFlowReturn ret;

  if (params != NULL)
    now = *params;
  if (now.flags & GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT)
    return parent->acquire_buffer (pool, buffer, params);
  now.flags |= GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT;
  ret = parent->acquire_buffer (pool, buffer, &now);
  if (ret != GST_FLOW_EOS)
    return ret;
  GST_LOG_OBJECT (pool, "every slot is in use: starved");
  g_signal_emit (pool, signals[SIGNAL_STARVED], 0);
  return parent->acquire_buffer (pool, buffer, params);
}

static void
gst_px_arena_pool_finalize (GObject * object)
{
  GstPxArenaPool *self = GST_PX_ARENA_POOL (object);

  g_clear_object (&self->allocator);
  if (self->arena_func_notify)
    self->arena_func_notify (self->arena_func_data);
  G_OBJECT_CLASS (gst_px_arena_pool_parent_class)->finalize (object);
}

static void
gst_px_arena_pool_class_init (GstPxArenaPoolClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstBufferPoolClass *pool_class = GST_BUFFER_POOL_CLASS (klass);

  gobject_class->finalize = gst_px_arena_pool_finalize;
  pool_class->get_options = gst_px_arena_pool_get_options;
  pool_class->set_config = gst_px_arena_pool_set_config;
  pool_class->alloc_buffer = gst_px_arena_pool_alloc_buffer;
  pool_class->reset_buffer = gst_px_arena_pool_reset_buffer;
  pool_class->acquire_buffer = gst_px_arena_pool_acquire_buffer;

  /**
   * GstPxArenaPool::starved:
   * @pool: the pool
   *
   * Every slot is in use and an acquire is about to wait for one. Emitted
   * from the acquiring thread, without the pool's locks, before each such
   * wait (not for %GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT). A handler may
   * release buffers of the pool; it must not acquire one.
   */
  signals[SIGNAL_STARVED] = g_signal_new ("starved",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 0);
}

static void
gst_px_arena_pool_init (GstPxArenaPool * self)
{
}

GstBufferPool *
gst_px_arena_pool_new (void)
{
  GstBufferPool *pool = g_object_new (GST_TYPE_PX_ARENA_POOL, NULL);

  gst_object_ref_sink (pool);
  return pool;
}

PxArena *
gst_px_arena_pool_get_arena (GstBufferPool * pool)
{
  GstPxArenaPool *self;

  g_return_val_if_fail (GST_IS_PX_ARENA_POOL (pool), NULL);
  self = GST_PX_ARENA_POOL (pool);
  return self->allocator ? gst_px_arena_allocator_get_arena (self->allocator)
      : NULL;
}

void
gst_px_arena_pool_set_arena_func (GstBufferPool * pool, GstPxArenaFunc func,
    gpointer user_data, GDestroyNotify notify)
{
  GstPxArenaPool *self;

  g_return_if_fail (GST_IS_PX_ARENA_POOL (pool));
  self = GST_PX_ARENA_POOL (pool);
  if (self->arena_func_notify)
    self->arena_func_notify (self->arena_func_data);
  self->arena_func = func;
  self->arena_func_data = user_data;
  self->arena_func_notify = notify;
}
