/* Parallax — one message plus file descriptors over an AF_UNIX socket.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "px-unix.h"
#include "px-fd.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

int
px_unix_send (int sock, const void *buf, size_t len, const int *fds,
    unsigned n_fds, int flags)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * PX_UNIX_MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct iovec iov = {.iov_base = (void *) buf,.iov_len = len };
  struct msghdr msg = {.msg_iov = &iov,.msg_iovlen = 1 };
  ssize_t sent;

  if (n_fds > PX_UNIX_MAX_FDS)
    return -EINVAL;
  if (n_fds > 0) {
    struct cmsghdr *cmsg;

    memset (&control, 0, sizeof control);
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE (sizeof (int) * n_fds);
    cmsg = CMSG_FIRSTHDR (&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN (sizeof (int) * n_fds);
    memcpy (CMSG_DATA (cmsg), fds, sizeof (int) * n_fds);
  }

  do {
    sent = sendmsg (sock, &msg, flags | MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0)
    return px_negative_errno ();
  /* SOCK_SEQPACKET sends whole messages or fails. */
  return (size_t) sent == len ? 0 : -EMSGSIZE;
}

void
px_unix_close_fds (int *fds, unsigned n)
{
  for (unsigned i = 0; i < n; i++)
    px_close_fd (&fds[i]);
}

/* Collects the fds of every SCM_RIGHTS block; keeps up to @max_fds and
 * closes the others. Returns the total count found. */
static unsigned
collect_fds (struct msghdr *msg, int *fds, unsigned max_fds, unsigned *kept)
{
  unsigned total = 0;

  *kept = 0;
  for (struct cmsghdr * c = CMSG_FIRSTHDR (msg); c; c = CMSG_NXTHDR (msg, c)) {
    size_t n;

    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    n = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
    for (size_t i = 0; i < n; i++) {
      int fd;

      memcpy (&fd, CMSG_DATA (c) + i * sizeof (int), sizeof fd);
      if (*kept < max_fds)
        fds[(*kept)++] = fd;
      else
        px_close_fd (&fd);
      total++;
    }
  }
  return total;
}

ssize_t
px_unix_recv (int sock, void *buf, size_t cap, int *fds, unsigned max_fds,
    unsigned *n_fds, int flags)
{
  union
  {
    /* Room for more than we accept, so that excess fds are seen (and
     * closed) rather than silently truncated by the kernel. */
    char buf[CMSG_SPACE (sizeof (int) * PX_UNIX_MAX_FDS * 2)];
    struct cmsghdr align;
  } control;
  struct iovec iov = {.iov_base = buf,.iov_len = cap };
  struct msghdr msg = {.msg_iov = &iov,.msg_iovlen = 1,
    .msg_control = control.buf,.msg_controllen = sizeof control.buf
  };
  ssize_t got;
  unsigned total, kept;

  if (max_fds > PX_UNIX_MAX_FDS)
    max_fds = PX_UNIX_MAX_FDS;
  do {
    got = recvmsg (sock, &msg, flags | MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got < 0)
    return px_negative_errno ();

  total = collect_fds (&msg, fds, max_fds, &kept);
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || total != kept) {
    px_unix_close_fds (fds, kept);
    return -EMSGSIZE;
  }
  *n_fds = kept;
  return got;
}

/* Fills @addr for @path; returns the address length or -ENAMETOOLONG. */
static int
make_address (const char *path, struct sockaddr_un *addr)
{
  size_t len = strlen (path);

  memset (addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (len == 0 || len >= sizeof addr->sun_path)
    return len == 0 ? -EINVAL : -ENAMETOOLONG;
  memcpy (addr->sun_path, path, len);
  if (path[0] == '@') {
    addr->sun_path[0] = '\0';
    return (int) (offsetof (struct sockaddr_un, sun_path) + len);
  }
  return (int) sizeof *addr;
}

int
px_unix_listen (const char *path, unsigned mode)
{
  struct sockaddr_un addr;
  px_auto_fd fd = -1;
  int len = make_address (path, &addr);
  struct stat st;

  if (len < 0)
    return len;
  fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return px_negative_errno ();
  if (path[0] != '@' && lstat (path, &st) == 0) {
    if (!S_ISSOCK (st.st_mode))
      return -EEXIST;
    unlink (path);
  }
  if (bind (fd, (struct sockaddr *) &addr, (socklen_t) len) < 0)
    return px_negative_errno ();
  if (path[0] != '@' && chmod (path, mode) < 0) {
    int ret = px_negative_errno ();
    unlink (path);
    return ret;
  }
  if (listen (fd, 16) < 0)
    return px_negative_errno ();
  return px_steal_fd (&fd);
}

int
px_unix_connect (const char *path)
{
  struct sockaddr_un addr;
  px_auto_fd fd = -1;
  int len = make_address (path, &addr);
  int ret;

  if (len < 0)
    return len;
  fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return px_negative_errno ();
  do {
    ret = connect (fd, (struct sockaddr *) &addr, (socklen_t) len);
  } while (ret < 0 && errno == EINTR);
  if (ret < 0)
    return px_negative_errno ();
  return px_steal_fd (&fd);
}

int
px_unix_check_seqpacket (int fd)
{
  int value;
  socklen_t len = sizeof value;

  if (getsockopt (fd, SOL_SOCKET, SO_DOMAIN, &value, &len) < 0)
    return -ENOTSOCK;
  if (value != AF_UNIX)
    return -EPROTOTYPE;
  len = sizeof value;
  if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &value, &len) < 0 ||
      value != SOCK_SEQPACKET)
    return -EPROTOTYPE;
  /* Whether it is connected shows at the first send or receive: asking
   * (getpeername) is not allowed in a sandboxed worker. */
  return 0;
}
