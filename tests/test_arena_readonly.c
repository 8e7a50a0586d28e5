/* Parallax — the kernel enforces that a reader cannot write an arena.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A producer seals its arena for readers and passes the fd to a second
 * process with SCM_RIGHTS, as ipcsink does. The second process tries every
 * way of writing it; each must fail, while the producer keeps writing
 * through its own mapping.
 */
#include <gst/check/gstcheck.h>

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "px-arena.h"
#include "px-unix.h"

/* What the reader reports back, one flag per attempt that was refused. */
enum
{
  REFUSED_MMAP_WRITABLE = 1 << 0,
  REFUSED_WRITE = 1 << 1,
  REFUSED_TRUNCATE = 1 << 2,
  REFUSED_MPROTECT = 1 << 3,
  REFUSED_REOPEN_WRITE = 1 << 4,
  REFUSED_FALLOCATE = 1 << 5,
  SAW_PRODUCER_DATA = 1 << 6,
  SAW_PRODUCER_UPDATE = 1 << 7,
  ALL_EXPECTED = (1 << 8) - 1,
};

static int
reader_attempts (int fd, size_t size, int sock)
{
  int result = 0;
  char byte = 'x';
  char path[64];
  void *map;
  int reopened;

  map = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED && errno == EPERM)
    result |= REFUSED_MMAP_WRITABLE;
  else if (map != MAP_FAILED)
    munmap (map, size);

  if (pwrite (fd, &byte, 1, 0) < 0 && errno == EPERM)
    result |= REFUSED_WRITE;
  if (ftruncate (fd, 0) < 0 && errno == EPERM)
    result |= REFUSED_TRUNCATE;
  /* Punching a hole would zero the producer's data. */
  if (fallocate (fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
          (off_t) size) < 0 && errno == EPERM)
    result |= REFUSED_FALLOCATE;

  map = mmap (NULL, size, PROT_READ, MAP_SHARED, fd, 0);
  if (map != MAP_FAILED) {
    if (mprotect (map, size, PROT_READ | PROT_WRITE) < 0)
      result |= REFUSED_MPROTECT;
    if (memcmp (map, "first", 6) == 0)
      result |= SAW_PRODUCER_DATA;
    /* Tell the producer to write again, then look. */
    if (send (sock, "w", 1, MSG_NOSIGNAL) == 1 && recv (sock, &byte, 1, 0) == 1
        && memcmp (map, "second", 7) == 0)
      result |= SAW_PRODUCER_UPDATE;
    munmap (map, size);
  }

  /* A new open file description through /proc does not escape the seal. */
  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  reopened = open (path, O_RDWR | O_CLOEXEC);
  if (reopened < 0 || (pwrite (reopened, &byte, 1, 0) < 0 && errno == EPERM))
    result |= REFUSED_REOPEN_WRITE;
  if (reopened >= 0)
    close (reopened);
  return result;
}

static void
run_reader (int sock)
{
  char msg[64];
  int fds[PX_UNIX_MAX_FDS];
  unsigned n_fds = 0;
  uint64_t size;
  int result;

  if (px_unix_recv (sock, msg, sizeof msg, fds, 1, &n_fds, 0) !=
      sizeof size || n_fds != 1)
    _exit (100);
  memcpy (&size, msg, sizeof size);
  result = reader_attempts (fds[0], size, sock);
  if (send (sock, &result, sizeof result, MSG_NOSIGNAL) != sizeof result)
    _exit (101);
  _exit (0);
}

/* Runs a reader process on @arena and returns the flags it reported. */
static int
share_with_reader (PxArena * arena)
{
  int sv[2];
  uint64_t size = px_arena_size (arena);
  int fd = px_arena_fd (arena);
  int result = 0, status;
  char byte;
  pid_t pid;

  fail_unless (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
  pid = fork ();
  fail_unless (pid >= 0);
  if (pid == 0) {
    close (sv[0]);
    run_reader (sv[1]);
  }
  close (sv[1]);
  memcpy (px_arena_data (arena), "first", 6);
  fail_unless_equals_int (px_unix_send (sv[0], &size, sizeof size, &fd, 1, 0),
      0);
  fail_unless (recv (sv[0], &byte, 1, 0) == 1);
  /* The producer's own mapping stays writable after sealing. */
  memcpy (px_arena_data (arena), "second", 7);
  fail_unless (send (sv[0], "k", 1, MSG_NOSIGNAL) == 1);
  fail_unless (recv (sv[0], &result, sizeof result, 0) == sizeof result);
  fail_unless (waitpid (pid, &status, 0) == pid);
  fail_unless (WIFEXITED (status) && WEXITSTATUS (status) == 0,
      "reader exited with %d", WEXITSTATUS (status));
  close (sv[0]);
  return result;
}

GST_START_TEST (test_reader_cannot_write_sealed_arena)
{
  PxArena *arena = NULL;
  int result;

  fail_unless_equals_int (px_arena_new ("ro", 4096, 4, &arena), 0);
  fail_unless_equals_int (px_arena_seal_for_readers (arena), 0);
  result = share_with_reader (arena);
  fail_unless_equals_int (result, ALL_EXPECTED);
  px_arena_unref (arena);
}

GST_END_TEST;

/* The same reader against an arena that was not sealed for readers: the
 * attempts succeed. This shows the test above measures the seal. */
GST_START_TEST (test_unsealed_arena_is_writable_by_reader)
{
  PxArena *arena = NULL;
  int result;

  fail_unless_equals_int (px_arena_new ("rw", 4096, 4, &arena), 0);
  result = share_with_reader (arena);
  fail_if (result & REFUSED_MMAP_WRITABLE);
  fail_if (result & REFUSED_WRITE);
  /* Size seals hold either way. */
  fail_unless (result & REFUSED_TRUNCATE);
  px_arena_unref (arena);
}

GST_END_TEST;

static Suite *
arena_readonly_suite (void)
{
  Suite *s = suite_create ("arena_readonly");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_reader_cannot_write_sealed_arena);
  tcase_add_test (tc, test_unsealed_arena_is_writable_by_reader);
  return s;
}

GST_CHECK_MAIN (arena_readonly);
