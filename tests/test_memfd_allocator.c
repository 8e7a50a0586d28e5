/* Parallax — tests for the "pxmemfd" allocator, as registered by the plugin.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * This test does not link the plugin's code: it loads the plugin from the
 * registry, as an application would, and finds the allocator by name.
 */
#include <gst/check/gstcheck.h>
#include <gst/allocators/allocators.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "px-test-util.h"

static GstAllocator *
find_memfd_allocator (void)
{
  GstPlugin *plugin = gst_registry_find_plugin (gst_registry_get (),
      "parallax");
  GstPlugin *loaded;
  GstAllocator *alloc;

  fail_unless (plugin != NULL, "parallax plugin not in the registry");
  loaded = gst_plugin_load (plugin);
  fail_unless (loaded != NULL);
  alloc = gst_allocator_find ("pxmemfd");
  fail_unless (alloc != NULL, "pxmemfd not registered");
  gst_object_unref (loaded);
  gst_object_unref (plugin);
  return alloc;
}

GST_START_TEST (test_one_sealed_memfd_per_memory)
{
  GstAllocator *alloc = find_memfd_allocator ();
  static const gsize sizes[] = { 1, 1000, 4096, 8 << 20 };
  int fds = px_test_count_fds ();

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    GstMemory *a = gst_allocator_alloc (alloc, sizes[i], NULL);
    GstMemory *b = gst_allocator_alloc (alloc, sizes[i], NULL);
    int fd;
    struct stat st;
    GstMapInfo map;

    fail_unless (a != NULL && b != NULL);
    fail_unless (gst_is_fd_memory (a));
    fail_unless (gst_memory_is_type (a, "pxmemfd"));
    fd = gst_fd_memory_get_fd (a);
    fail_unless (fd >= 0 && fd != gst_fd_memory_get_fd (b));
    fail_unless ((fcntl (fd, F_GET_SEALS) & (F_SEAL_SHRINK | F_SEAL_GROW)) ==
        (F_SEAL_SHRINK | F_SEAL_GROW));
    fail_unless (fcntl (fd, F_GETFD) & FD_CLOEXEC);
    fail_unless (fstat (fd, &st) == 0 && (gsize) st.st_size >= sizes[i]);
    fail_unless_equals_int (gst_memory_get_sizes (a, NULL, NULL), sizes[i]);

    fail_unless (gst_memory_map (a, &map, GST_MAP_WRITE));
    memset (map.data, 0x5a, map.size);
    gst_memory_unmap (a, &map);
    fail_unless (gst_memory_map (a, &map, GST_MAP_READ));
    fail_unless_equals_int (map.data[sizes[i] - 1], 0x5a);
    gst_memory_unmap (a, &map);

    gst_memory_unref (a);
    gst_memory_unref (b);
    /* Freeing the memory closes its memfd. */
    fail_unless_equals_int (px_test_count_fds (), fds);
  }
  gst_object_unref (alloc);
}

GST_END_TEST;

GST_START_TEST (test_params_honoured)
{
  GstAllocator *alloc = find_memfd_allocator ();
  GstAllocationParams params;
  GstMemory *mem;
  GstMapInfo map;

  gst_allocation_params_init (&params);
  params.prefix = 10;
  params.padding = 7;
  params.align = 127;
  mem = gst_allocator_alloc (alloc, 500, &params);
  fail_unless (mem != NULL);
  fail_unless_equals_int (mem->offset, 128);
  fail_unless (mem->maxsize >= 128 + 500 + 7);
  fail_unless (gst_memory_map (mem, &map, GST_MAP_READWRITE));
  fail_unless (((guintptr) map.data & 127) == 0);
  gst_memory_unmap (mem, &map);
  gst_memory_unref (mem);
  gst_object_unref (alloc);
}

GST_END_TEST;

GST_START_TEST (test_memfd_failure_returns_null)
{
  GstAllocator *alloc = find_memfd_allocator ();
  int fds = px_test_count_fds ();
  struct rlimit old = px_test_no_fd_left ();

  fail_unless (gst_allocator_alloc (alloc, 4096, NULL) == NULL);
  setrlimit (RLIMIT_NOFILE, &old);
  fail_unless_equals_int (px_test_count_fds (), fds);
  gst_object_unref (alloc);
}

GST_END_TEST;

GST_START_TEST (test_not_the_default_allocator)
{
  GstAllocator *alloc = find_memfd_allocator ();
  GstMemory *mem = gst_allocator_alloc (NULL, 100, NULL);

  fail_if (gst_is_fd_memory (mem));
  gst_memory_unref (mem);
  gst_object_unref (alloc);
}

GST_END_TEST;

static Suite *
memfd_allocator_suite (void)
{
  Suite *s = suite_create ("memfd_allocator");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_one_sealed_memfd_per_memory);
  tcase_add_test (tc, test_params_honoured);
  tcase_add_test (tc, test_memfd_failure_returns_null);
  tcase_add_test (tc, test_not_the_default_allocator);
  return s;
}

GST_CHECK_MAIN (memfd_allocator);
