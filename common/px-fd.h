/* Parallax — small helpers for file descriptors.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef PX_FD_H
#define PX_FD_H

#include <errno.h>
#include <unistd.h>

/* Closes *fd if it is valid, preserving errno, and sets it to -1. */
static inline void
px_close_fd (int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close (*fd);
    errno = saved;
  }
  *fd = -1;
}

/* An fd variable that is closed when it goes out of scope. */
#define px_auto_fd __attribute__ ((cleanup (px_close_fd))) int

/* Hands an fd over to a new owner: returns it and leaves -1 behind. */
static inline int
px_steal_fd (int *fd)
{
  int ret = *fd;
  *fd = -1;
  return ret;
}

/* Returns -errno of the last failed call, never 0. */
static inline int
px_negative_errno (void)
{
  return errno > 0 ? -errno : -EIO;
}

#endif /* PX_FD_H */
