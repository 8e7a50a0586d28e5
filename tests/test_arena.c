/* Parallax — tests for memfd arenas (common/px-arena).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "px-arena.h"
#include "px-test-util.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

static PxArena *
new_arena (size_t slot_size, uint32_t count)
{
  PxArena *arena = NULL;

  fail_unless_equals_int (px_arena_new ("test", slot_size, count, &arena), 0);
  fail_unless (arena != NULL);
  return arena;
}

GST_START_TEST (test_layout_is_page_rounded_and_sealed)
{
  PxArena *arena = new_arena (1000, 3);
  long page = sysconf (_SC_PAGESIZE);
  int seals = fcntl (px_arena_fd (arena), F_GET_SEALS);
  struct stat st;

  fail_unless_equals_int (px_arena_slot_size (arena), 1000);
  fail_unless_equals_int (px_arena_slot_stride (arena), page);
  fail_unless_equals_int (px_arena_size (arena), 3 * page);
  fail_unless (fstat (px_arena_fd (arena), &st) == 0);
  fail_unless_equals_int (st.st_size, 3 * page);
  fail_unless ((seals & (F_SEAL_SHRINK | F_SEAL_GROW)) ==
      (F_SEAL_SHRINK | F_SEAL_GROW));
  fail_unless (fcntl (px_arena_fd (arena), F_GETFD) & FD_CLOEXEC);
  fail_unless (ftruncate (px_arena_fd (arena), page) < 0 && errno == EPERM);
  fail_unless (px_arena_is_owner (arena));
  fail_unless_equals_uint64 (px_arena_slot_offset (arena, 2), 2 * page);
  px_arena_unref (arena);
}

GST_END_TEST;

GST_START_TEST (test_acquire_exhaust_release_reuse)
{
  PxArena *arena = new_arena (4096, 4);
  gboolean seen[4] = { FALSE, };
  uint32_t slot;

  for (int i = 0; i < 4; i++) {
    fail_unless_equals_int (px_arena_acquire (arena, &slot), 0);
    fail_unless (slot < 4);
    fail_if (seen[slot], "slot %u handed out twice", slot);
    seen[slot] = TRUE;
    /* Each slot is distinct memory: writes do not overlap. */
    memset (px_arena_slot_data (arena, slot), 'a' + slot, 4096);
  }
  fail_unless_equals_int (px_arena_slots_in_use (arena), 4);
  fail_unless_equals_int (px_arena_acquire (arena, &slot), -ENOBUFS);

  fail_unless_equals_int (px_arena_release (arena, 2), 0);
  fail_unless_equals_int (px_arena_slots_in_use (arena), 3);
  fail_unless_equals_int (px_arena_acquire (arena, &slot), 0);
  fail_unless_equals_int (slot, 2);
  fail_unless_equals_int (px_arena_slot_data (arena, 1)[4095], 'b');

  fail_unless_equals_int (px_arena_release (arena, 2), 0);
  fail_unless_equals_int (px_arena_release (arena, 2), -EALREADY);
  fail_unless_equals_int (px_arena_release (arena, 4), -ERANGE);
  fail_unless_equals_int (px_arena_release (arena, UINT32_MAX), -ERANGE);
  px_arena_unref (arena);
}

GST_END_TEST;

GST_START_TEST (test_counts_not_multiple_of_64)
{
  static const uint32_t counts[] = { 1, 63, 65, 100, 129, 1000 };

  for (guint c = 0; c < G_N_ELEMENTS (counts); c++) {
    PxArena *arena = new_arena (64, counts[c]);
    guint8 *seen = g_new0 (guint8, counts[c]);
    uint32_t slot;

    for (uint32_t i = 0; i < counts[c]; i++) {
      fail_unless_equals_int (px_arena_acquire (arena, &slot), 0);
      fail_unless (slot < counts[c], "slot %u of %u", slot, counts[c]);
      fail_if (seen[slot]);
      seen[slot] = 1;
    }
    fail_unless_equals_int (px_arena_acquire (arena, &slot), -ENOBUFS);
    for (uint32_t i = 0; i < counts[c]; i++)
      fail_unless_equals_int (px_arena_release (arena, i), 0);
    fail_unless_equals_int (px_arena_slots_in_use (arena), 0);
    g_free (seen);
    px_arena_unref (arena);
  }
}

GST_END_TEST;

#define N_THREADS 4
#define N_ROUNDS 200000
#define N_CONCURRENT_SLOTS 70

typedef struct
{
  PxArena *arena;
  atomic_int owner[N_CONCURRENT_SLOTS];
  atomic_int double_handouts;
  atomic_int exhausted;
} Shared;

typedef struct
{
  Shared *shared;
  int id;
} Worker;

static gpointer
hammer (gpointer data)
{
  Worker *w = data;
  Shared *s = w->shared;
  uint32_t held[3];

  for (int round = 0; round < N_ROUNDS; round++) {
    int n = 0;

    /* Hold up to three slots at once, so slots are shared across words and
     * threads interleave acquire and release. */
    for (int k = 0; k < 1 + round % 3; k++) {
      uint32_t slot;
      int expected = 0;

      if (px_arena_acquire (s->arena, &slot) < 0) {
        atomic_fetch_add (&s->exhausted, 1);
        continue;
      }
      if (!atomic_compare_exchange_strong (&s->owner[slot], &expected, w->id))
        atomic_fetch_add (&s->double_handouts, 1);
      held[n++] = slot;
    }
    for (int k = 0; k < n; k++) {
      int expected = w->id;

      if (!atomic_compare_exchange_strong (&s->owner[held[k]], &expected, 0))
        atomic_fetch_add (&s->double_handouts, 1);
      fail_unless_equals_int (px_arena_release (s->arena, held[k]), 0);
    }
  }
  return NULL;
}

GST_START_TEST (test_concurrent_acquire_release)
{
  static Shared shared;
  Worker workers[N_THREADS];
  GThread *threads[N_THREADS];

  shared.arena = new_arena (64, N_CONCURRENT_SLOTS);
  for (int i = 0; i < N_THREADS; i++) {
    workers[i].shared = &shared;
    workers[i].id = i + 1;
    threads[i] = g_thread_new ("hammer", hammer, &workers[i]);
  }
  for (int i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);

  fail_unless_equals_int (atomic_load (&shared.double_handouts), 0);
  /* 4 threads x 3 slots never exceed 70: nobody may have found it full. */
  fail_unless_equals_int (atomic_load (&shared.exhausted), 0);
  fail_unless_equals_int (px_arena_slots_in_use (shared.arena), 0);
  px_arena_unref (shared.arena);
}

GST_END_TEST;

GST_START_TEST (test_bad_configuration)
{
  PxArena *arena = NULL;
  int fds = px_test_count_fds ();

  fail_unless_equals_int (px_arena_new ("t", 0, 4, &arena), -EINVAL);
  fail_unless_equals_int (px_arena_new ("t", 4096, 0, &arena), -EINVAL);
  fail_unless_equals_int (px_arena_new ("t", 4096, PX_ARENA_MAX_SLOTS + 1,
          &arena), -EINVAL);
  fail_unless_equals_int (px_arena_new ("t", SIZE_MAX, 1, &arena), -EOVERFLOW);
  fail_unless_equals_int (px_arena_new ("t", SIZE_MAX / 2, 4, &arena),
      -EOVERFLOW);
  fail_unless_equals_int (px_arena_new ("t", (size_t) 1 << 30, 2048, &arena),
      -EOVERFLOW);
  fail_unless (arena == NULL, "output written on failure");
  fail_unless_equals_int (px_test_count_fds (), fds);
}

GST_END_TEST;

GST_START_TEST (test_memfd_create_failure_propagates)
{
  PxArena *arena = NULL;
  int fds = px_test_count_fds ();
  struct rlimit old;

  /* No fd left: memfd_create fails with EMFILE. */
  old = px_test_no_fd_left ();
  fail_unless_equals_int (px_arena_new ("t", 4096, 4, &arena), -EMFILE);
  setrlimit (RLIMIT_NOFILE, &old);
  fail_unless (arena == NULL);
  fail_unless_equals_int (px_test_count_fds (), fds);
}

GST_END_TEST;

GST_START_TEST (test_mmap_failure_closes_memfd)
{
  PxArena *arena = NULL;
  int fds = px_test_count_fds ();
  struct rlimit old, lim;

  /* The memfd is created and sized, then mmap hits the address-space limit:
   * the fd must not stay behind. */
  getrlimit (RLIMIT_AS, &old);
  lim = old;
  lim.rlim_cur = (rlim_t) 64 << 30;
  fail_unless (setrlimit (RLIMIT_AS, &lim) == 0);
  fail_unless_equals_int (px_arena_new ("t", (size_t) 1 << 30, 128, &arena),
      -ENOMEM);
  setrlimit (RLIMIT_AS, &old);
  fail_unless (arena == NULL);
  fail_unless_equals_int (px_test_count_fds (), fds);
}

GST_END_TEST;

static int
make_memfd (off_t size, unsigned seals)
{
  int fd = memfd_create ("import-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

  fail_unless (fd >= 0);
  fail_unless (ftruncate (fd, size) == 0);
  if (seals)
    fail_unless (fcntl (fd, F_ADD_SEALS, seals) == 0);
  return fd;
}

/* Import must refuse, and must have closed the fd it was given. */
static void
assert_import_refused (int fd, uint64_t size, size_t stride, uint32_t count,
    bool need_ro, int expected)
{
  PxArena *arena = NULL;

  fail_unless_equals_int (px_arena_import (fd, 42, size, stride, count,
          need_ro, &arena), expected);
  fail_unless (arena == NULL);
  fail_if (px_test_fd_is_open (fd), "fd %d leaked by a refused import", fd);
}

GST_START_TEST (test_import_refuses_bad_fds)
{
  long page = sysconf (_SC_PAGESIZE);
  unsigned size_seals = F_SEAL_SHRINK | F_SEAL_GROW;
  int fds = px_test_count_fds ();
  int pipefd[2];
  char path[] = "/tmp/parallax-import-XXXXXX";
  int file;

  /* Unsealed memfd: a peer could shrink it under our mapping. */
  assert_import_refused (make_memfd (4 * page, 0), 4 * page, page, 4, false,
      -EPERM);
  /* Only one of the two size seals. */
  assert_import_refused (make_memfd (4 * page, F_SEAL_SHRINK), 4 * page, page,
      4, false, -EPERM);
  /* Read-only required but the writer kept write access. */
  assert_import_refused (make_memfd (4 * page, size_seals), 4 * page, page, 4,
      true, -EPERM);
  /* Size that does not match the announcement. */
  assert_import_refused (make_memfd (2 * page, size_seals), 4 * page, page, 4,
      false, -EMSGSIZE);
  /* Layout that does not add up, or a stride that is not page-aligned. */
  assert_import_refused (make_memfd (4 * page, size_seals), 4 * page, page, 3,
      false, -EINVAL);
  assert_import_refused (make_memfd (4 * page, size_seals), 4 * page, page / 2,
      8, false, -EINVAL);
  /* Not a memfd at all: a pipe and a regular file. */
  fail_unless (pipe2 (pipefd, O_CLOEXEC) == 0);
  close (pipefd[1]);
  assert_import_refused (pipefd[0], page, page, 1, false, -EBADF);
  file = mkostemp (path, O_CLOEXEC);
  fail_unless (file >= 0);
  unlink (path);
  fail_unless (ftruncate (file, page) == 0);
  assert_import_refused (file, page, page, 1, false, -EBADF);

  fail_unless_equals_int (px_test_count_fds (), fds);
}

GST_END_TEST;

GST_START_TEST (test_import_maps_read_only)
{
  PxArena *owner = new_arena (100, 3);
  PxArena *reader = NULL;
  int dup_fd = fcntl (px_arena_fd (owner), F_DUPFD_CLOEXEC, 0);

  fail_unless_equals_int (px_arena_seal_for_readers (owner), 0);
  fail_unless_equals_int (px_arena_seal_for_readers (owner), 0);
  memcpy (px_arena_slot_data (owner, 1), "hello", 6);

  fail_unless_equals_int (px_arena_import (dup_fd, px_arena_id (owner),
          px_arena_size (owner), px_arena_slot_stride (owner), 3, true,
          &reader), 0);
  fail_if (px_arena_is_owner (reader));
  fail_unless_equals_uint64 (px_arena_id (reader), px_arena_id (owner));
  fail_unless_equals_string ((char *) px_arena_slot_data (reader, 1), "hello");
  /* The owner still writes through its mapping, the reader sees it. */
  memcpy (px_arena_slot_data (owner, 1), "world", 6);
  fail_unless_equals_string ((char *) px_arena_slot_data (reader, 1), "world");
  /* The import's mapping cannot be made writable. */
  fail_unless (mprotect (px_arena_data (reader), px_arena_size (reader),
          PROT_READ | PROT_WRITE) < 0);
  /* Imported arenas have no slots to hand out. */
  {
    uint32_t slot;
    fail_unless_equals_int (px_arena_acquire (reader, &slot), -EPERM);
    fail_unless_equals_int (px_arena_release (reader, 0), -EPERM);
  }
  fail_unless_equals_int (px_arena_check_range (reader, 2, 0,
          px_arena_slot_stride (reader)), 0);
  fail_unless_equals_int (px_arena_check_range (reader, 3, 0, 1), -ERANGE);
  fail_unless_equals_int (px_arena_check_range (reader, 0, 1,
          px_arena_slot_stride (reader)), -ERANGE);
  fail_unless_equals_int (px_arena_check_range (reader, 0, UINT64_MAX, 2),
      -ERANGE);
  px_arena_unref (reader);
  px_arena_unref (owner);
}

GST_END_TEST;

GST_START_TEST (test_ids_unique_across_processes)
{
  enum
  { N = 256 };
  uint64_t ids[2 * N];
  int pipefd[2];
  pid_t pid;
  GHashTable *seen = g_hash_table_new (g_int64_hash, g_int64_equal);

  /* A per-process counter would give the forked child the same sequence as
   * its parent. */
  fail_unless (pipe (pipefd) == 0);
  pid = fork ();
  if (pid == 0) {
    for (int i = 0; i < N; i++) {
      PxArena *arena = NULL;
      if (px_arena_new ("child", 64, 1, &arena) < 0)
        _exit (1);
      ids[i] = px_arena_id (arena);
      px_arena_unref (arena);
    }
    _exit (write (pipefd[1], ids, sizeof (uint64_t) * N) ==
        sizeof (uint64_t) * N ? 0 : 1);
  }
  for (int i = 0; i < N; i++) {
    PxArena *arena = new_arena (64, 1);
    ids[N + i] = px_arena_id (arena);
    px_arena_unref (arena);
  }
  fail_unless (read (pipefd[0], ids, sizeof (uint64_t) * N) ==
      sizeof (uint64_t) * N);
  {
    int status;
    fail_unless (waitpid (pid, &status, 0) == pid);
    fail_unless (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  }
  for (int i = 0; i < 2 * N; i++) {
    fail_if (ids[i] == 0);
    fail_if (g_hash_table_contains (seen, &ids[i]), "id repeated");
    g_hash_table_add (seen, &ids[i]);
  }
  g_hash_table_unref (seen);
  close (pipefd[0]);
  close (pipefd[1]);
}

GST_END_TEST;

static void
count_destroyed (void *data)
{
  (*(int *) data)++;
}

GST_START_TEST (test_table)
{
  PxArenaTable table;
  PxArena *a = new_arena (64, 1);
  PxArena *b = new_arena (64, 1);
  PxArena *extra[PX_ARENA_TABLE_MAX];
  int destroyed_a = 0, destroyed_b = 0;

  px_arena_table_init (&table, count_destroyed);
  fail_unless_equals_int (px_arena_table_add (&table, px_arena_ref (a),
          &destroyed_a), 0);
  fail_unless_equals_int (px_arena_table_add (&table, px_arena_ref (b),
          &destroyed_b), 0);
  fail_unless (px_arena_table_lookup (&table, px_arena_id (a))->arena == a);
  fail_unless (px_arena_table_lookup (&table, px_arena_id (b))->data ==
      &destroyed_b);
  fail_unless (px_arena_table_lookup (&table, 7) == NULL);
  /* A duplicate id is refused and what it brought is released. */
  fail_unless_equals_int (px_arena_table_add (&table, px_arena_ref (a),
          &destroyed_a), -EEXIST);
  fail_unless_equals_int (destroyed_a, 1);
  fail_unless_equals_int (px_arena_table_remove (&table, px_arena_id (a)), 0);
  fail_unless_equals_int (destroyed_a, 2);
  fail_unless_equals_int (px_arena_table_remove (&table, px_arena_id (a)),
      -ENOENT);
  fail_unless (px_arena_table_lookup (&table, px_arena_id (b))->arena == b);

  for (int i = 0; i < PX_ARENA_TABLE_MAX - 1; i++) {
    extra[i] = new_arena (64, 1);
    fail_unless_equals_int (px_arena_table_add (&table,
            px_arena_ref (extra[i]), NULL), 0);
  }
  fail_unless_equals_int (px_arena_table_add (&table, px_arena_ref (a),
          NULL), -ENOSPC);
  px_arena_table_clear (&table);
  fail_unless_equals_int (table.n_entries, 0);
  fail_unless_equals_int (destroyed_b, 1);
  for (int i = 0; i < PX_ARENA_TABLE_MAX - 1; i++)
    px_arena_unref (extra[i]);
  px_arena_unref (a);
  px_arena_unref (b);
}

GST_END_TEST;

static Suite *
arena_suite (void)
{
  Suite *s = suite_create ("arena");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_layout_is_page_rounded_and_sealed);
  tcase_add_test (tc, test_acquire_exhaust_release_reuse);
  tcase_add_test (tc, test_counts_not_multiple_of_64);
  tcase_add_test (tc, test_concurrent_acquire_release);
  tcase_add_test (tc, test_bad_configuration);
  tcase_add_test (tc, test_memfd_create_failure_propagates);
  tcase_add_test (tc, test_mmap_failure_closes_memfd);
  tcase_add_test (tc, test_import_refuses_bad_fds);
  tcase_add_test (tc, test_import_maps_read_only);
  tcase_add_test (tc, test_ids_unique_across_processes);
  tcase_add_test (tc, test_table);
  return s;
}

GST_CHECK_MAIN (arena);
