/* Parallax — GstAllocator over the slots of one memfd arena.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:gstpxarenaallocator
 * @title: GstPxArenaAllocator
 * @short_description: fd memory backed by the slots of a memfd arena
 *
 * Memory of this allocator is #GstFdMemory: gst_is_fd_memory() is %TRUE and
 * gst_fd_memory_get_fd() returns the arena's memfd, so fd-aware elements can
 * import it. The memory's offset points at its slot inside that fd.
 *
 * The whole arena is mapped once, when the allocator is created; mapping a
 * memory costs no system call.
 *
 * How a memory knows its slot: a slot memory covers the fd range
 * [0, slot offset + slot size) and starts at the slot's offset. Its maxsize is
 * therefore "end of its slot", which never changes (gst_memory_resize() keeps
 * it), so the slot is (maxsize - slot size) / slot stride, and resizing can
 * never grow a memory into the next slot.
 *
 * Copies (gst_memory_copy()) of an owner's memory stay in the arena when the
 * allocator belongs to a pool with a buffer to spare: the copy borrows the
 * slot of a buffer taken from the pool, which goes back to the pool when
 * the copy is freed. GstBuffer copies memory that another holder has mapped
 * for writing: GstVideoDecoder's finish_frame does it for every frame a
 * direct-rendering decoder (avdec_h264) still references, and a copy in
 * system memory would be copied again by whoever shares the frame.
 */

#include "gstpxarenaallocator.h"
#include "gstpxparams.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_px_arena_allocator_debug);
#define GST_CAT_DEFAULT gst_px_arena_allocator_debug

struct _GstPxArenaAllocator
{
  GstFdAllocator parent;

  PxArena *arena;
  /* The pool whose buffers copies borrow (see above). */
  GWeakRef pool;
  GstMemoryCopyFunction fallback_copy;
};

/* A memory over a slot that a pool buffer holds: freeing it gives the
 * buffer back (qdata), not the slot. */
#define MEMORY_FLAG_BORROWED GST_MEMORY_FLAG_LAST

static GQuark borrowed_buffer_quark;

G_DEFINE_TYPE_WITH_CODE (GstPxArenaAllocator, gst_px_arena_allocator,
    GST_TYPE_FD_ALLOCATOR,
    GST_DEBUG_CATEGORY_INIT (gst_px_arena_allocator_debug, "pxarenaallocator",
        0, "Parallax arena allocator"));

static GstMemory *
gst_px_arena_allocator_wrap_range (GstPxArenaAllocator * self, guint32 slot,
    gsize offset, gsize size)
{
  PxArena *arena = self->arena;
  guint64 slot_offset = px_arena_slot_offset (arena, slot);
  gsize slot_end = slot_offset + px_arena_slot_size (arena);
  GstMemory *mem;

  mem = gst_fd_allocator_alloc (GST_ALLOCATOR_CAST (self),
      px_arena_fd (arena), slot_end, GST_FD_MEMORY_FLAG_DONT_CLOSE);
  gst_memory_resize (mem, slot_offset + offset, size);
  if (!px_arena_is_owner (arena))
    GST_MINI_OBJECT_FLAG_SET (mem, GST_MEMORY_FLAG_READONLY);
  return mem;
}

static GstMemory *
gst_px_arena_allocator_alloc (GstAllocator * allocator, gsize size,
    GstAllocationParams * params)
{
  GstPxArenaAllocator *self = GST_PX_ARENA_ALLOCATOR (allocator);
  gsize align = params->align | gst_memory_alignment;
  gsize offset, needed;
  guint32 slot;
  int ret;

  /* Slots start on page boundaries in the fd and in every mapping, so an
   * alignment up to the page size holds once the prefix is rounded up to
   * it; a larger one would hold for some slots only. */
  if (align >= px_arena_slot_alignment () ||
      !gst_px_params_layout (size, params, &offset, &needed) ||
      needed > px_arena_slot_size (self->arena)) {
    GST_WARNING_OBJECT (self, "%" G_GSIZE_FORMAT " bytes (prefix %"
        G_GSIZE_FORMAT ", padding %" G_GSIZE_FORMAT ", align %" G_GSIZE_FORMAT
        ") do not fit a slot of %" G_GSIZE_FORMAT, size, params->prefix,
        params->padding, align, px_arena_slot_size (self->arena));
    return NULL;
  }

  ret = px_arena_acquire (self->arena, &slot);
  if (ret < 0) {
    GST_DEBUG_OBJECT (self, "no free slot: %s", g_strerror (-ret));
    return NULL;
  }
  return gst_px_arena_allocator_wrap_range (self, slot, offset, size);
}

static guint32
slot_of_root_memory (GstPxArenaAllocator * self, GstMemory * mem)
{
  return (mem->maxsize - px_arena_slot_size (self->arena)) /
      px_arena_slot_stride (self->arena);
}

static void
gst_px_arena_allocator_free (GstAllocator * allocator, GstMemory * mem)
{
  GstPxArenaAllocator *self = GST_PX_ARENA_ALLOCATOR (allocator);

  /* Only owners hand out slots; an imported slot is given back by whoever
   * lent it, when told. */
  if (mem->parent == NULL && px_arena_is_owner (self->arena) &&
      !GST_MEMORY_FLAG_IS_SET (mem, MEMORY_FLAG_BORROWED)) {
    guint32 slot = slot_of_root_memory (self, mem);
    int ret = px_arena_release (self->arena, slot);

    if (ret < 0)
      GST_ERROR_OBJECT (self, "slot %u: %s", slot, g_strerror (-ret));
  }
  GST_ALLOCATOR_CLASS (gst_px_arena_allocator_parent_class)->free (allocator,
      mem);
}

/* The arena is mapped for the allocator's lifetime: return that mapping
 * (gst_memory_map() adds the memory's offset). */
static gpointer
gst_px_arena_allocator_mem_map (GstMemory * mem, gsize maxsize,
    GstMapFlags flags)
{
  GstPxArenaAllocator *self = GST_PX_ARENA_ALLOCATOR (mem->allocator);

  if ((flags & GST_MAP_WRITE) && !px_arena_is_owner (self->arena)) {
    GST_WARNING_OBJECT (self, "memory of an imported arena is read-only");
    return NULL;
  }
  return px_arena_data (self->arena);
}

static void
gst_px_arena_allocator_mem_unmap (GstMemory * mem)
{
}

/* A copy of @size bytes of @mem from @offset in the slot of a buffer of
 * @pool, or NULL if the pool has none to spare (never waits). */
static GstMemory *
copy_into_pool_buffer (GstPxArenaAllocator * self, GstBufferPool * pool,
    GstMemory * mem, gsize offset, gsize size)
{
  GstBufferPoolAcquireParams params = {
    .flags = GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT
  };
  GstMemory *target, *copy;
  GstMapInfo from, to;
  GstBuffer *buf;
  PxArena *arena;
  guint32 slot;
  gsize in_slot;

  if (gst_buffer_pool_acquire_buffer (pool, &buf, &params) != GST_FLOW_OK)
    return NULL;
  target = gst_buffer_peek_memory (buf, 0);
  if (gst_buffer_n_memory (buf) != 1 || target->allocator == NULL ||
      !GST_IS_PX_ARENA_ALLOCATOR (target->allocator) || target->size < size ||
      !gst_px_arena_memory_get_slot (target, &arena, &slot, &in_slot) ||
      !px_arena_is_owner (arena)) {
    gst_buffer_unref (buf);
    return NULL;
  }
  if (!gst_memory_map (mem, &from, GST_MAP_READ)) {
    gst_buffer_unref (buf);
    return NULL;
  }
  if (!gst_memory_map (target, &to, GST_MAP_WRITE)) {
    gst_memory_unmap (mem, &from);
    gst_buffer_unref (buf);
    return NULL;
  }
  memcpy (to.data, from.data + offset, size);
  gst_memory_unmap (target, &to);
  gst_memory_unmap (mem, &from);

  copy = gst_px_arena_allocator_wrap_range (GST_PX_ARENA_ALLOCATOR
      (target->allocator), slot, in_slot, size);
  GST_MINI_OBJECT_FLAG_SET (copy, MEMORY_FLAG_BORROWED);
  gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (copy),
      borrowed_buffer_quark, buf, (GDestroyNotify) gst_buffer_unref);
  GST_LOG_OBJECT (self, "copied %" G_GSIZE_FORMAT " bytes into slot %u",
      size, slot);
  return copy;
}

static GstMemory *
gst_px_arena_allocator_mem_copy (GstMemory * mem, gssize offset, gssize size)
{
  GstPxArenaAllocator *self = GST_PX_ARENA_ALLOCATOR (mem->allocator);
  GstBufferPool *pool = g_weak_ref_get (&self->pool);
  GstMemory *copy = NULL;
  gsize end;

  if (size == -1)
    size = (gssize) mem->size > offset ? (gssize) mem->size - offset : 0;
  if (pool != NULL && offset >= 0 && size > 0 &&
      g_size_checked_add (&end, offset, size) && end <= mem->size)
    copy = copy_into_pool_buffer (self, pool, mem, offset, size);
  if (pool != NULL)
    gst_object_unref (pool);
  return copy != NULL ? copy : self->fallback_copy (mem, offset, size);
}

static void
gst_px_arena_allocator_finalize (GObject * object)
{
  GstPxArenaAllocator *self = GST_PX_ARENA_ALLOCATOR (object);

  px_arena_unref (self->arena);
  g_weak_ref_clear (&self->pool);
  G_OBJECT_CLASS (gst_px_arena_allocator_parent_class)->finalize (object);
}

static void
gst_px_arena_allocator_class_init (GstPxArenaAllocatorClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstAllocatorClass *allocator_class = GST_ALLOCATOR_CLASS (klass);

  gobject_class->finalize = gst_px_arena_allocator_finalize;
  allocator_class->alloc = gst_px_arena_allocator_alloc;
  allocator_class->free = gst_px_arena_allocator_free;
  borrowed_buffer_quark =
      g_quark_from_static_string ("gst-px-arena-borrowed-buffer");
}

static void
gst_px_arena_allocator_init (GstPxArenaAllocator * self)
{
  GstAllocator *allocator = GST_ALLOCATOR_CAST (self);

  allocator->mem_type = GST_PX_ARENA_MEMORY_TYPE;
  allocator->mem_map = gst_px_arena_allocator_mem_map;
  allocator->mem_unmap = gst_px_arena_allocator_mem_unmap;
  self->fallback_copy = allocator->mem_copy;
  allocator->mem_copy = gst_px_arena_allocator_mem_copy;
  g_weak_ref_init (&self->pool, NULL);
  /* mem_share stays GstFdAllocator's: a sub-memory keeps the fd and a
   * parent, and maps through the parent, i.e. through the function above. */
}

GstAllocator *
gst_px_arena_allocator_new (PxArena * arena)
{
  GstPxArenaAllocator *self;

  g_return_val_if_fail (arena != NULL, NULL);

  self = g_object_new (GST_TYPE_PX_ARENA_ALLOCATOR, NULL);
  gst_object_ref_sink (self);
  self->arena = px_arena_ref (arena);
  return GST_ALLOCATOR_CAST (self);
}

void
gst_px_arena_allocator_set_pool (GstAllocator * allocator, GstBufferPool * pool)
{
  g_return_if_fail (GST_IS_PX_ARENA_ALLOCATOR (allocator));
  g_weak_ref_set (&GST_PX_ARENA_ALLOCATOR (allocator)->pool, pool);
}

PxArena *
gst_px_arena_allocator_get_arena (GstAllocator * allocator)
{
  g_return_val_if_fail (GST_IS_PX_ARENA_ALLOCATOR (allocator), NULL);
  return GST_PX_ARENA_ALLOCATOR (allocator)->arena;
}

GstMemory *
gst_px_arena_allocator_wrap_slot (GstAllocator * allocator, guint32 slot,
    gsize offset, gsize size)
{
  GstPxArenaAllocator *self;

  g_return_val_if_fail (GST_IS_PX_ARENA_ALLOCATOR (allocator), NULL);
  self = GST_PX_ARENA_ALLOCATOR (allocator);
  if (px_arena_check_range (self->arena, slot, offset, size) < 0 ||
      offset + size > px_arena_slot_size (self->arena))
    return NULL;
  /* An owner's slots are handed out by alloc: wrapping one would give it
   * back twice. */
  g_return_val_if_fail (!px_arena_is_owner (self->arena), NULL);
  return gst_px_arena_allocator_wrap_range (self, slot, offset, size);
}

gboolean
gst_is_px_arena_memory (GstMemory * mem)
{
  return mem != NULL && mem->allocator != NULL &&
      GST_IS_PX_ARENA_ALLOCATOR (mem->allocator);
}

gboolean
gst_px_arena_memory_get_slot (GstMemory * mem, PxArena ** arena,
    guint32 * slot, gsize * offset_in_slot)
{
  GstPxArenaAllocator *self;
  GstMemory *root;
  guint32 s;

  if (!gst_is_px_arena_memory (mem))
    return FALSE;
  self = GST_PX_ARENA_ALLOCATOR (mem->allocator);
  root = mem->parent ? mem->parent : mem;
  s = slot_of_root_memory (self, root);
  /* A memory resized backwards past its slot's start (legal for GstMemory,
   * which only bounds offsets by 0) no longer names a slot range. */
  if (mem->offset < px_arena_slot_offset (self->arena, s))
    return FALSE;
  if (arena)
    *arena = self->arena;
  if (slot)
    *slot = s;
  if (offset_in_slot)
    *offset_in_slot = mem->offset - px_arena_slot_offset (self->arena, s);
  return TRUE;
}

gboolean
gst_px_arena_memory_reset (GstMemory * mem, gsize offset_in_slot, gsize size)
{
  GstPxArenaAllocator *self;
  guint64 start;
  gsize end;

  if (!gst_is_px_arena_memory (mem) || mem->parent != NULL)
    return FALSE;
  self = GST_PX_ARENA_ALLOCATOR (mem->allocator);
  if (!g_size_checked_add (&end, offset_in_slot, size) ||
      end > px_arena_slot_size (self->arena))
    return FALSE;
  start = px_arena_slot_offset (self->arena, slot_of_root_memory (self, mem));
  gst_memory_resize (mem, (gssize) (start + offset_in_slot) -
      (gssize) mem->offset, size);
  return TRUE;
}
