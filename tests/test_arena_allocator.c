/* Parallax — tests for the arena allocator (GstPxArenaAllocator).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/allocators/allocators.h>

#include <errno.h>
#include <unistd.h>

#include "gstpxarenaallocator.h"

static PxArena *
new_arena (size_t slot_size, uint32_t count)
{
  PxArena *arena = NULL;

  fail_unless_equals_int (px_arena_new ("test", slot_size, count, &arena), 0);
  return arena;
}

GST_START_TEST (test_memory_is_fd_memory_of_its_slot)
{
  PxArena *arena = new_arena (8192, 4);
  GstAllocator *alloc = gst_px_arena_allocator_new (arena);
  GstMemory *mem = gst_allocator_alloc (alloc, 5000, NULL);
  PxArena *found = NULL;
  GstMapInfo map;
  guint32 slot;
  gsize offset;

  fail_unless (mem != NULL);
  fail_unless (gst_is_fd_memory (mem));
  fail_unless (gst_is_px_arena_memory (mem));
  fail_unless (gst_memory_is_type (mem, GST_PX_ARENA_MEMORY_TYPE));
  fail_unless_equals_int (gst_fd_memory_get_fd (mem), px_arena_fd (arena));
  fail_unless (gst_px_arena_memory_get_slot (mem, &found, &slot, &offset));
  fail_unless (found == arena);
  fail_unless_equals_int (offset, 0);
  fail_unless_equals_uint64 (mem->offset, px_arena_slot_offset (arena, slot));
  fail_unless_equals_int (gst_memory_get_sizes (mem, NULL, NULL), 5000);

  /* Mapping gives the slot's bytes in the arena's one mapping. */
  fail_unless (gst_memory_map (mem, &map, GST_MAP_READWRITE));
  fail_unless (map.data == px_arena_slot_data (arena, slot));
  memset (map.data, 0xab, map.size);
  gst_memory_unmap (mem, &map);
  fail_unless_equals_int (px_arena_slot_data (arena, slot)[4999], 0xab);

  fail_unless_equals_int (px_arena_slots_in_use (arena), 1);
  gst_memory_unref (mem);
  fail_unless_equals_int (px_arena_slots_in_use (arena), 0);

  gst_object_unref (alloc);
  px_arena_unref (arena);
}

GST_END_TEST;

GST_START_TEST (test_exhaustion_and_reuse)
{
  PxArena *arena = new_arena (4096, 3);
  GstAllocator *alloc = gst_px_arena_allocator_new (arena);
  GstMemory *mems[3];
  guint32 slot, again;

  for (int i = 0; i < 3; i++)
    fail_unless ((mems[i] = gst_allocator_alloc (alloc, 4096, NULL)) != NULL);
  fail_unless (gst_allocator_alloc (alloc, 16, NULL) == NULL);
  fail_unless (gst_px_arena_memory_get_slot (mems[1], NULL, &slot, NULL));
  gst_memory_unref (mems[1]);
  mems[1] = gst_allocator_alloc (alloc, 16, NULL);
  fail_unless (mems[1] != NULL);
  fail_unless (gst_px_arena_memory_get_slot (mems[1], NULL, &again, NULL));
  fail_unless_equals_int (again, slot);
  for (int i = 0; i < 3; i++)
    gst_memory_unref (mems[i]);
  fail_unless_equals_int (px_arena_slots_in_use (arena), 0);
  gst_object_unref (alloc);
  px_arena_unref (arena);
}

GST_END_TEST;

GST_START_TEST (test_params_and_oversize)
{
  PxArena *arena = new_arena (4096, 2);
  GstAllocator *alloc = gst_px_arena_allocator_new (arena);
  GstAllocationParams params;
  GstMemory *mem;
  gsize offset;

  gst_allocation_params_init (&params);
  params.prefix = 100;
  params.padding = 50;
  params.align = 63;
  mem = gst_allocator_alloc (alloc, 1000, &params);
  fail_unless (mem != NULL);
  fail_unless (gst_px_arena_memory_get_slot (mem, NULL, NULL, &offset));
  /* The prefix is rounded up to the alignment. */
  fail_unless_equals_int (offset, 128);
  {
    GstMapInfo map;
    fail_unless (gst_memory_map (mem, &map, GST_MAP_WRITE));
    fail_unless (((guintptr) map.data & 63) == 0);
    gst_memory_unmap (mem, &map);
  }
  gst_memory_unref (mem);

  /* Larger than a slot, with or without prefix and padding. */
  fail_unless (gst_allocator_alloc (alloc, 4097, NULL) == NULL);
  fail_unless (gst_allocator_alloc (alloc, 4000, &params) == NULL);
  params.prefix = G_MAXSIZE - 10;
  fail_unless (gst_allocator_alloc (alloc, 100, &params) == NULL);
  fail_unless_equals_int (px_arena_slots_in_use (arena), 0);
  gst_object_unref (alloc);
  px_arena_unref (arena);
}

GST_END_TEST;

GST_START_TEST (test_share_keeps_slot_until_last_reference)
{
  PxArena *arena = new_arena (4096, 2);
  GstAllocator *alloc = gst_px_arena_allocator_new (arena);
  GstMemory *mem = gst_allocator_alloc (alloc, 1000, NULL);
  GstMemory *sub;
  GstMapInfo map;
  guint32 slot, sub_slot;
  gsize offset;

  fail_unless (gst_memory_map (mem, &map, GST_MAP_WRITE));
  memcpy (map.data + 10, "shared", 7);
  gst_memory_unmap (mem, &map);

  sub = gst_memory_share (mem, 10, 7);
  fail_unless (gst_is_fd_memory (sub));
  fail_unless (gst_px_arena_memory_get_slot (mem, NULL, &slot, NULL));
  fail_unless (gst_px_arena_memory_get_slot (sub, NULL, &sub_slot, &offset));
  fail_unless_equals_int (sub_slot, slot);
  fail_unless_equals_int (offset, 10);
  fail_unless (gst_memory_map (sub, &map, GST_MAP_READ));
  fail_unless_equals_string ((char *) map.data, "shared");
  gst_memory_unmap (sub, &map);

  gst_memory_unref (mem);
  fail_unless_equals_int (px_arena_slots_in_use (arena), 1);
  gst_memory_unref (sub);
  fail_unless_equals_int (px_arena_slots_in_use (arena), 0);

  /* Copies go to system memory and do not hold a slot. */
  mem = gst_allocator_alloc (alloc, 1000, NULL);
  sub = gst_memory_copy (mem, 0, -1);
  fail_if (gst_is_px_arena_memory (sub));
  gst_memory_unref (mem);
  fail_unless_equals_int (px_arena_slots_in_use (arena), 0);
  gst_memory_unref (sub);

  gst_object_unref (alloc);
  px_arena_unref (arena);
}

GST_END_TEST;

GST_START_TEST (test_memory_outlives_allocator_and_arena_refs)
{
  PxArena *arena = new_arena (4096, 2);
  GstAllocator *alloc = gst_px_arena_allocator_new (arena);
  GstMemory *mem = gst_allocator_alloc (alloc, 100, NULL);
  GstMapInfo map;

  /* Memory keeps its allocator, which keeps the arena. */
  gst_object_unref (alloc);
  px_arena_unref (arena);
  fail_unless (gst_memory_map (mem, &map, GST_MAP_WRITE));
  map.data[99] = 1;
  gst_memory_unmap (mem, &map);
  gst_memory_unref (mem);
}

GST_END_TEST;

static void
count_notify (gpointer data)
{
  (*(gint *) data)++;
}

GST_START_TEST (test_imported_slots_are_read_only)
{
  PxArena *owner = new_arena (4096, 4);
  PxArena *reader = NULL;
  GstAllocator *alloc;
  GstMemory *mem, *sub;
  GstMapInfo map;
  gint notified = 0;

  fail_unless_equals_int (px_arena_seal_for_readers (owner), 0);
  memcpy (px_arena_slot_data (owner, 2) + 16, "payload", 8);
  fail_unless_equals_int (px_arena_import (dup (px_arena_fd (owner)),
          px_arena_id (owner), px_arena_size (owner),
          px_arena_slot_stride (owner), 4, true, &reader), 0);
  alloc = gst_px_arena_allocator_new (reader);
  px_arena_unref (reader);
  /* Imported arenas have no free slots to hand out. */
  fail_unless (gst_allocator_alloc (alloc, 16, NULL) == NULL);

  mem = gst_px_arena_allocator_wrap_slot (alloc, 2, 16, 8);
  fail_unless (mem != NULL);
  fail_unless (GST_MEMORY_IS_READONLY (mem));
  fail_unless (gst_is_fd_memory (mem));
  fail_unless_equals_int (gst_fd_memory_get_fd (mem), px_arena_fd (reader));
  fail_unless_equals_uint64 (mem->offset, 2 * 4096 + 16);
  fail_if (gst_memory_map (mem, &map, GST_MAP_WRITE));
  fail_unless (gst_memory_map (mem, &map, GST_MAP_READ));
  fail_unless_equals_string ((char *) map.data, "payload");
  gst_memory_unmap (mem, &map);

  /* Ranges outside the slot are refused. */
  fail_unless (gst_px_arena_allocator_wrap_slot (alloc, 4, 0, 1) == NULL);
  fail_unless (gst_px_arena_allocator_wrap_slot (alloc, 0, 4090, 10) == NULL);
  fail_unless (gst_px_arena_allocator_wrap_slot (alloc, 0, G_MAXSIZE, 2) ==
      NULL);

  /* The receiver learns when the last user of a lent slot is gone through
   * the root memory's qdata, also when a sub-memory outlives it. */
  gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (mem),
      g_quark_from_static_string ("test-lent-slot"), &notified, count_notify);
  sub = gst_memory_share (mem, 1, 3);
  gst_memory_unref (mem);
  fail_unless_equals_int (notified, 0);
  gst_memory_unref (sub);
  fail_unless_equals_int (notified, 1);

  gst_object_unref (alloc);
  px_arena_unref (owner);
}

GST_END_TEST;

static Suite *
arena_allocator_suite (void)
{
  Suite *s = suite_create ("arena_allocator");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_memory_is_fd_memory_of_its_slot);
  tcase_add_test (tc, test_exhaustion_and_reuse);
  tcase_add_test (tc, test_params_and_oversize);
  tcase_add_test (tc, test_share_keeps_slot_until_last_reference);
  tcase_add_test (tc, test_memory_outlives_allocator_and_arena_refs);
  tcase_add_test (tc, test_imported_slots_are_read_only);
  return s;
}

GST_CHECK_MAIN (arena_allocator);
