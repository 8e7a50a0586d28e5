/* Parallax — the worker's PID 1: a reaper that tells the host how the
 * worker ended.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The first process of a PID namespace is its init, and the kernel drops
 * every signal whose action is the default for an init, from wherever it
 * comes: a worker that is PID 1 cannot die of SIGABRT (abort () then ends
 * on a faulting instruction, SIGSEGV), nor of SIGTERM or SIGINT. So when
 * the worker has a PID namespace of its own, px_sandbox_config_take_from_args()
 * (the first call of its main (), one thread, nothing else done yet)
 * forks: the parent stays PID 1 and only reaps, the child returns and is
 * the worker, an ordinary process of the namespace whose signals act as
 * anywhere. The reaper reports the worker's pid ("started", from which the
 * host reads the worker's host pid) and then the status the kernel gave it
 * ("exited") on a socket the worker does not hold, and ends, which ends
 * the namespace. The host trusts a record only with the kernel's
 * credentials of the reaper on it (SCM_CREDENTIALS).
 *
 * It is a copy of a process that has just been exec'd: what it shares
 * with the worker copy-on-write is little, and it maps nothing new.
 */
#include "px-sandbox-private.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1u << 1)
#endif

static void
send_record (int fd, uint32_t kind, int32_t code, int32_t status)
{
  PxSandboxReaperRecord record = { PX_SANDBOX_REAPER_MAGIC, kind, code,
    status
  };

  while (send (fd, &record, sizeof record, MSG_NOSIGNAL) < 0 && errno == EINTR);
}

static void __attribute__((noreturn))
    reap (int fd, pid_t worker)
{
  sigset_t all;

  /* Nothing but the status socket: the worker's fds (control and data
   * sockets) must end with the worker. */
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, NULL);
  if (fd != 0 && dup2 (fd, 0) < 0)
    _exit (1);
  if (syscall (SYS_close_range, 1u, ~0u, 0u) < 0) {
    for (int i = 1; i < 1024; i++)
      close (i);
  }
  send_record (0, PX_SANDBOX_REAPER_STARTED, 0, (int32_t) worker);
  for (;;) {
    siginfo_t info = { 0 };

    if (waitid (P_ALL, 0, &info, WEXITED) < 0) {
      if (errno == EINTR)
        continue;
      _exit (1);
    }
    /* anything else is an orphan of the worker's: reaped, no more */
    if (info.si_pid == worker) {
      send_record (0, PX_SANDBOX_REAPER_EXITED, info.si_code, info.si_status);
      _exit (0);
    }
  }
}

int
px_sandbox_split_reaper (int fd)
{
  pid_t pid;

  /* no PID namespace of its own: nothing to reap for */
  if (getpid () != 1) {
    close (fd);
    return 0;
  }
  pid = fork ();
  if (pid < 0) {
    int ret = -errno;

    close (fd);                 /* the host sees no reaper and fails */
    return ret;
  }
  if (pid > 0)
    reap (fd, pid);
  close (fd);
  /* a session of its own (its reaper leads the one spawn made), and it
   * dies with the reaper */
  if (setsid () < 0 || prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
      getppid () != 1)
    return -errno ? -errno : -ESRCH;
  return 0;
}
