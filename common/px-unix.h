/* Parallax — one message plus file descriptors over an AF_UNIX socket.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Meant for SOCK_SEQPACKET, where a message keeps its boundaries and the fds
 * travel with it. Received fds are always CLOEXEC; fds that do not fit, or
 * that come with a truncated message, are closed, never leaked.
 */
#ifndef PX_UNIX_H
#define PX_UNIX_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C"
{
#endif

/* Hard cap on fds per message, on both sides. */
#define PX_UNIX_MAX_FDS 8

/* Sends @len bytes with @n_fds fds attached. Never raises SIGPIPE; retries on
 * EINTR. @flags are extra send flags (MSG_DONTWAIT).
 * Returns 0, or -errno (-EPIPE when the peer is gone, -EAGAIN with
 * MSG_DONTWAIT, -EINVAL when @n_fds > PX_UNIX_MAX_FDS). */
  int px_unix_send (int sock, const void *buf, size_t len, const int *fds,
      unsigned n_fds, int flags);

/* Receives one message into @buf (capacity @cap) and at most @max_fds fds
 * (<= PX_UNIX_MAX_FDS) into @fds, their number into *@n_fds. Retries on
 * EINTR. Returns the message length (0 = orderly shutdown by the peer), or
 * -EMSGSIZE when the message or its fds did not fit (everything received is
 * closed), or another -errno. */
  ssize_t px_unix_recv (int sock, void *buf, size_t cap, int *fds,
      unsigned max_fds, unsigned *n_fds, int flags);

/* Socket addresses: a path starting with '@' names a socket in the abstract
 * namespace (no file, no permissions: any process of the same network
 * namespace may connect); any other path is a file-system socket. */

/* Creates a listening SOCK_SEQPACKET socket at @path. A stale socket file
 * left at @path is replaced; any other kind of file is not (-EEXIST). The
 * file gets mode @mode. Returns the fd or -errno (-ENAMETOOLONG, ...). */
  int px_unix_listen (const char *path, unsigned mode);

/* Connects a SOCK_SEQPACKET socket to @path. Returns the fd or -errno. */
  int px_unix_connect (const char *path);

/* Checks that @fd is an AF_UNIX SOCK_SEQPACKET socket: 0 or -ENOTSOCK /
 * -EPROTOTYPE. */
  int px_unix_check_seqpacket (int fd);

/* Closes @n fds of @fds and sets them to -1. */
  void px_unix_close_fds (int *fds, unsigned n);

#ifdef __cplusplus
}
#endif
#endif                          /* PX_UNIX_H */
