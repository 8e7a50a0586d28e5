/* Parallax — helpers shared by the tests.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef PX_TEST_UTIL_H
#define PX_TEST_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

/* Number of fds open in this process. */
static inline int
px_test_count_fds (void)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *entry;
  int n = 0;

  if (dir == NULL)
    return -1;
  while ((entry = readdir (dir)) != NULL) {
    if (entry->d_name[0] != '.')
      n++;
  }
  closedir (dir);
  return n - 1;                 /* the directory's own fd */
}

/* Lowers the soft RLIMIT_NOFILE to @limit; returns the previous limit so
 * that the test can restore it. */
static inline struct rlimit
px_test_limit_fds (rlim_t limit)
{
  struct rlimit old, lim;

  getrlimit (RLIMIT_NOFILE, &old);
  lim = old;
  lim.rlim_cur = limit;
  setrlimit (RLIMIT_NOFILE, &lim);
  return old;
}

/* Lowers the soft RLIMIT_NOFILE so that no new fd can be opened: to the
 * lowest free fd number, below which every number is taken. The count of
 * open fds is not it: a hole in the numbers (an fd closed by a library, or
 * by a sanitizer's runtime) leaves one free below the count. Returns the
 * previous limit. */
static inline struct rlimit
px_test_no_fd_left (void)
{
  int lowest = fcntl (0, F_DUPFD_CLOEXEC, 0);

  if (lowest < 0)               /* fd 0 itself is free */
    lowest = 0;
  else
    close (lowest);
  return px_test_limit_fds ((rlim_t) lowest);
}

/* True if @fd is an open descriptor. */
static inline int
px_test_fd_is_open (int fd)
{
  return fcntl (fd, F_GETFD) >= 0;
}

#endif /* PX_TEST_UTIL_H */
