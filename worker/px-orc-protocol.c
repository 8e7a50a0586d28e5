/* Parallax — what a worker and its ORC compiler say to each other.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "px-orc-protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "px-fd.h"
#include "px-unix.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define REGION_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | \
    F_SEAL_FUTURE_WRITE)

const char *
px_orc_status_name (int status)
{
  switch (status) {
    case PX_ORC_OK:
      return "compiled";
    case PX_ORC_MALFORMED:
      return "malformed program";
    case PX_ORC_UNSUPPORTED:
      return "target or flags not supported";
    case PX_ORC_NOT_COMPILED:
      return "ORC could not compile it";
    case PX_ORC_REGION_FULL:
      return "the code region is full";
    default:
      return "unknown status";
  }
}

/* The child of a fork: only async-signal-safe calls. */
static void
exec_compiler (const char *path, int sock, pid_t parent)
{
  char *const argv[] = { (char *) "parallax-orc-compiler", NULL };
  char *const envp[] = { NULL };

  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
    _exit (127);
  if (sock == PX_ORC_COMPILER_FD) {
    if (fcntl (sock, F_SETFD, 0) < 0)
      _exit (127);
  } else if (dup2 (sock, PX_ORC_COMPILER_FD) < 0) {
    _exit (127);
  }
  /* fds 0-2 stay (the worker's /dev/null and stderr); nothing else.
   * Kernels before 5.9 have no close_range. */
  if (syscall (SYS_close_range, PX_ORC_COMPILER_FD + 1, ~0u, 0) < 0) {
    for (int fd = PX_ORC_COMPILER_FD + 1; fd < 4096; fd++)
      close (fd);
  }
  execve (path, argv, envp);
  _exit (127);
}

pid_t
px_orc_compiler_spawn (const char *path, int sock)
{
  pid_t parent = getpid ();
  pid_t pid = fork ();

  if (pid < 0)
    return px_negative_errno ();
  if (pid == 0)
    exec_compiler (path, sock, parent);
  return pid;
}

static int
wait_readable (int sock, int timeout_ms)
{
  struct pollfd pfd = {.fd = sock,.events = POLLIN };
  int n;

  while ((n = poll (&pfd, 1, timeout_ms)) < 0 && errno == EINTR);
  if (n < 0)
    return px_negative_errno ();
  return n == 0 ? -ETIMEDOUT : 0;
}

static int
check_region (int fd)
{
  struct stat st;
  int seals = fcntl (fd, F_GET_SEALS);

  /* F_GET_SEALS only works on memfds (and other shmem files). */
  if (seals < 0)
    return -EPROTO;
  if ((seals & REGION_SEALS) != REGION_SEALS)
    return -EPERM;
  if (fstat (fd, &st) < 0)
    return px_negative_errno ();
  if (!S_ISREG (st.st_mode) || st.st_size != (off_t) PX_ORC_REGION_SIZE)
    return -EPROTO;
  return 0;
}

int
px_orc_receive_hello (int sock, int timeout_ms, int *region_fd)
{
  PxOrcHello hello;
  int fds[1] = { -1 };
  unsigned n_fds = 0;
  ssize_t n;
  int ret;

  ret = wait_readable (sock, timeout_ms);
  if (ret < 0)
    return ret;
  n = px_unix_recv (sock, &hello, sizeof hello, fds, 1, &n_fds, MSG_DONTWAIT);
  if (n < 0)
    return (int) n;
  if (n == 0)
    return -ECONNRESET;
  if (n != sizeof hello || n_fds != 1 || hello.magic != PX_ORC_MAGIC ||
      hello.region_size != PX_ORC_REGION_SIZE)
    ret = -EPROTO;
  else
    ret = check_region (fds[0]);
  if (ret < 0) {
    px_unix_close_fds (fds, n_fds);
    return ret;
  }
  *region_fd = fds[0];
  return 0;
}

static int
check_reply (const PxOrcReply * reply)
{
  if (reply->magic != PX_ORC_MAGIC)
    return -EPROTO;
  if (reply->status != PX_ORC_OK)
    return reply->status >= PX_ORC_REGION_FULL && reply->status < 0 ?
        0 : -EPROTO;
  if (reply->size == 0 || reply->size > PX_ORC_MAX_CODE ||
      reply->offset % PX_ORC_CODE_ALIGN != 0 ||
      reply->offset > PX_ORC_REGION_SIZE ||
      reply->size > PX_ORC_REGION_SIZE - reply->offset)
    return -EPROTO;
  return 0;
}

int
px_orc_request (int sock, const char *target, uint32_t target_flags,
    const void *bytecode, size_t size, int timeout_ms, PxOrcReply * reply)
{
  unsigned char message[sizeof (PxOrcRequest) + PX_ORC_MAX_BYTECODE];
  PxOrcRequest request = {.magic = PX_ORC_MAGIC,.target_flags =
        target_flags,.bytecode_size = (uint32_t) size
  };
  PxOrcReply answer;
  unsigned n_fds = 0;
  ssize_t n;
  int ret;

  if (size > PX_ORC_MAX_BYTECODE || strlen (target) >= PX_ORC_TARGET_NAME_MAX)
    return -EMSGSIZE;
  strcpy (request.target, target);
  memcpy (message, &request, sizeof request);
  memcpy (message + sizeof request, bytecode, size);
  ret = px_unix_send (sock, message, sizeof request + size, NULL, 0, 0);
  if (ret < 0)
    return ret;
  ret = wait_readable (sock, timeout_ms);
  if (ret < 0)
    return ret;
  n = px_unix_recv (sock, &answer, sizeof answer, NULL, 0, &n_fds,
      MSG_DONTWAIT);
  if (n < 0)
    return (int) n;
  if (n == 0)
    return -ECONNRESET;
  if (n != sizeof answer)
    return -EPROTO;
  ret = check_reply (&answer);
  if (ret == 0)
    *reply = answer;
  return ret;
}
