/* Parallax — starting a sandboxed worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * clone3 (CLONE_PIDFD | namespaces) gives a child that is a copy of the
 * caller, possibly of a multi-threaded process whose other threads held
 * locks: between clone and exec the child only makes async-signal-safe
 * calls, on data the parent prepared, and switches ids with raw syscalls
 * (glibc's setresuid would wait for threads that do not exist in the
 * child). The child waits on a socket until the parent has written its id
 * maps and moved it into its cgroups, then sets itself up and execs; the
 * socket is CLOEXEC, so the parent sees either a failure report or EOF.
 */
#include "px-sandbox-private.h"
#include "px-limits.h"
#include "px-seccomp.h"
#include "px-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1u << 2)
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* The first fd handed to the worker (the control socket). */
#define WORKER_FIRST_FD 3

/* struct clone_args of <linux/sched.h>, first version. */
typedef struct
{
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
      stack_size, tls;
} CloneArgs;

static const struct
{
  unsigned layer;
  uint64_t flag;
} namespaces[] = {
  {PX_SANDBOX_LAYER_USER_NAMESPACE, CLONE_NEWUSER},
  {PX_SANDBOX_LAYER_MOUNT_NAMESPACE, CLONE_NEWNS},
  {PX_SANDBOX_LAYER_NETWORK_NAMESPACE, CLONE_NEWNET},
  {PX_SANDBOX_LAYER_IPC_NAMESPACE, CLONE_NEWIPC},
  {PX_SANDBOX_LAYER_PID_NAMESPACE, CLONE_NEWPID},
  {PX_SANDBOX_LAYER_UTS_NAMESPACE, CLONE_NEWUTS},
};

#define N_NAMESPACES (sizeof namespaces / sizeof namespaces[0])

/* Everything the child uses, prepared before clone. */
typedef struct
{
  const char *path;
  char **argv;
  char **envp;
  char *layers_digits;          /* 8 hex digits inside argv, patched */
  int fds[PX_SANDBOX_MAX_FDS + 1];      /* become 3, 4, ...: the caller's,
                                         * then the reaper's status socket */
  unsigned n_fds;
  int sync_fd, parent_sync_fd, null_fd;
  int stderr_fd;                /* write end of the stderr pipe */
  int supervisor_fd, parent_supervisor_fd;      /* PX_SANDBOX_SUPERVISOR_FD */
  bool user_namespace;          /* the parent maps 0 to the worker's ids */
  bool drop_groups;             /* privileged: setgroups (0) */
  bool change_ids;              /* no user namespace: switch to uid/gid */
  uid_t uid;
  gid_t gid;
} ChildPlan;

/* Parent to child, once ids are mapped and cgroups made; carries the
 * n_join_fds fds of the cgroups the child joins itself (cgroup v1). */
typedef struct
{
  uint32_t layers;
  uint32_t n_join_fds;
  PxLimitsRlimits rlimits;
} GoMessage;

/* Room for the SCM_RIGHTS of a GoMessage. */
typedef union
{
  struct cmsghdr align;
  char buf[CMSG_SPACE (PX_LIMITS_MAX_JOIN_FDS * sizeof (int))];
} GoControl;

/* Child to parent when a step fails (a successful exec closes the socket
 * instead). */
typedef struct
{
  int32_t step;
  int32_t error;
} ChildFailure;

enum
{ STEP_DEATH_SIGNAL, STEP_CGROUPS, STEP_SESSION, STEP_IDS, STEP_RLIMITS,
  STEP_FDS, STEP_FD_LIMIT, STEP_EXEC, N_STEPS
};

static const char *const step_names[N_STEPS] = {
  "parent-death signal", "joining the cgroups", "new session",
  "switching ids", "rlimits", "file descriptors", "RLIMIT_NOFILE", "exec",
};

typedef struct
{
  PxSandboxConfig config;       /* the caller's, rules file read */
  char **rules;
  char **sandbox_args;
  char **argv;                  /* borrowed strings */
  char **envp;
  ChildPlan plan;
  int sync[2];
  int status[2];                /* the reaper's records (px-sandbox-reaper.c) */
  int supervisor[2];            /* [0] the host's, [1] the worker's */
  int null_fd;
  int stderr_pipe[2];
  unsigned wanted;
  unsigned missing;
  bool privileged;
  bool drop_groups;
  bool switch_ids;              /* the worker's ids are not the caller's */
  uid_t uid;
  gid_t gid;
} Spawn;

/* ---- Child -------------------------------------------------------------- */

static void __attribute__((noreturn))
    child_fail (int sync_fd, int step, int err)
{
  ChildFailure failure = { step, err > 0 ? err : EIO };

  (void) send (sync_fd, &failure, sizeof failure, MSG_NOSIGNAL);
  _exit (127);
}

/* Handlers are the caller's business, not the worker's. */
static void
child_reset_signals (void)
{
  struct sigaction dfl = {.sa_handler = SIG_DFL };
  sigset_t none;

  for (int sig = 1; sig < _NSIG; sig++) {
    if (sig != SIGKILL && sig != SIGSTOP)
      (void) sigaction (sig, &dfl, NULL);
  }
  sigemptyset (&none);
  (void) sigprocmask (SIG_SETMASK, &none, NULL);
}

/* PR_SET_PDEATHSIG, then make sure the parent did not die before: its end
 * of the sync socket would then be closed (a hang-up, not just data). */
static int
child_set_death_signal (int sync_fd)
{
  struct pollfd pfd = {.fd = sync_fd,.events = POLLRDHUP };

  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    return -errno;
  if (poll (&pfd, 1, 0) != 0 && (pfd.revents & (POLLHUP | POLLRDHUP)))
    _exit (127);
  return 0;
}

static int
child_switch_ids (const ChildPlan * plan)
{
  if (plan->user_namespace) {
    /* 0 inside is mapped to the worker's host ids */
    if (syscall (SYS_setresgid, 0, 0, 0) < 0 ||
        (plan->drop_groups && syscall (SYS_setgroups, 0, NULL) < 0) ||
        syscall (SYS_setresuid, 0, 0, 0) < 0)
      return -errno;
  } else if (plan->change_ids) {
    if (syscall (SYS_setgroups, 0, NULL) < 0 ||
        syscall (SYS_setresgid, plan->gid, plan->gid, plan->gid) < 0 ||
        syscall (SYS_setresuid, plan->uid, plan->uid, plan->uid) < 0)
      return -errno;
  }
  return 0;
}

/* Marks every fd from @first to @last close-on-exec. */
static int
child_cloexec_range (unsigned first, unsigned last)
{
  struct rlimit nofile;

  if (first > last ||
      syscall (SYS_close_range, first, last, CLOSE_RANGE_CLOEXEC) == 0)
    return 0;
  if (getrlimit (RLIMIT_NOFILE, &nofile) < 0)
    return -errno;
  for (rlim_t fd = first; fd <= last && fd < nofile.rlim_cur && fd < 65536;
      fd++)
    (void) fcntl ((int) fd, F_SETFD, FD_CLOEXEC);
  return 0;
}

/* 0 and 1: /dev/null; 2: the stderr pipe; 3...: the fds handed over;
 * PX_SANDBOX_SUPERVISOR_FD: the supervisor socket; everything else is
 * closed by exec. None of them shares an open file description with the
 * caller's 0, 1 or 2: what the worker does to its own (flags, reads,
 * truncation) stays its own. Everything is first moved above the target
 * range, so that no dup2 overwrites a source. *sync_fd stays open until
 * exec. */
static int
child_setup_fds (const ChildPlan * plan, int *sync_fd)
{
  int first_free = PX_SANDBOX_SUPERVISOR_FD + 1;
  int sync = fcntl (*sync_fd, F_DUPFD_CLOEXEC, first_free);
  int null_fd = fcntl (plan->null_fd, F_DUPFD_CLOEXEC, first_free);
  int stderr_fd = fcntl (plan->stderr_fd, F_DUPFD_CLOEXEC, first_free);
  int supervisor = fcntl (plan->supervisor_fd, F_DUPFD_CLOEXEC, first_free);
  int moved[PX_SANDBOX_MAX_FDS + 1];
  int ret;

  if (sync < 0 || null_fd < 0 || stderr_fd < 0 || supervisor < 0)
    return -errno;
  *sync_fd = sync;
  for (unsigned i = 0; i < plan->n_fds; i++) {
    moved[i] = fcntl (plan->fds[i], F_DUPFD_CLOEXEC, first_free);
    if (moved[i] < 0)
      return -errno;
  }
  /* a closed 1 would be reused by the next open, and printf would write
   * into that file */
  if (dup2 (null_fd, 0) < 0 || dup2 (null_fd, 1) < 0)
    return -errno;
  for (unsigned i = 0; i < plan->n_fds; i++) {
    if (dup2 (moved[i], WORKER_FIRST_FD + (int) i) < 0)
      return -errno;
  }
  if (dup2 (stderr_fd, 2) < 0 ||
      dup2 (supervisor, PX_SANDBOX_SUPERVISOR_FD) < 0)
    return -errno;
  ret = child_cloexec_range (WORKER_FIRST_FD + plan->n_fds,
      PX_SANDBOX_SUPERVISOR_FD - 1);
  if (ret == 0)
    ret = child_cloexec_range (first_free, ~0u);
  return ret;
}

/* The go message, and the fds of the cgroups to join (closed once joined:
 * the parent keeps the cgroups' paths for the clean-up). */
static int
child_receive_go (int sync_fd, GoMessage * go)
{
  GoControl control;
  struct iovec iov = {.iov_base = go,.iov_len = sizeof *go };
  struct msghdr msg = {.msg_iov = &iov,.msg_iovlen = 1,
    .msg_control = control.buf,.msg_controllen = sizeof control.buf
  };
  struct cmsghdr *cmsg = NULL;
  /* as many as the buffer can hold, which may be more than were sent */
  int fds[(sizeof (GoControl) - CMSG_LEN (0)) / sizeof (int)];
  unsigned n_fds = 0;
  ssize_t n;
  int ret;

  do {
    n = recvmsg (sync_fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n != sizeof *go)
    _exit (127);
  if (!(msg.msg_flags & MSG_CTRUNC))
    cmsg = CMSG_FIRSTHDR (&msg);
  if (cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET &&
      cmsg->cmsg_type == SCM_RIGHTS) {
    n_fds = (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int);
    if (n_fds > sizeof fds / sizeof fds[0])
      n_fds = sizeof fds / sizeof fds[0];
    memcpy (fds, CMSG_DATA (cmsg), n_fds * sizeof (int));
  }
  ret = n_fds == go->n_join_fds && n_fds <= PX_LIMITS_MAX_JOIN_FDS ?
      px_limits_join_cgroups (fds, n_fds) : -EPROTO;
  for (unsigned i = 0; i < n_fds; i++)
    close (fds[i]);
  return ret;
}

static void
write_hex (char *dest, uint32_t value)
{
  static const char digits[] = "0123456789abcdef";

  for (int i = 7; i >= 0; i--, value >>= 4)
    dest[i] = digits[value & 0xf];
}

static void __attribute__((noreturn))
    child_main (const ChildPlan * plan)
{
  int sync = plan->sync_fd, ret;
  GoMessage go;

  /* our copy of the parent's end would hide the parent's death */
  close (plan->parent_sync_fd);
  close (plan->parent_supervisor_fd);
  child_reset_signals ();
  if ((ret = child_set_death_signal (sync)) < 0)
    child_fail (sync, STEP_DEATH_SIGNAL, -ret);
  if ((ret = child_receive_go (sync, &go)) < 0)
    child_fail (sync, STEP_CGROUPS, -ret);
  write_hex (plan->layers_digits, go.layers);
  if (setsid () < 0)
    child_fail (sync, STEP_SESSION, errno);
  if ((ret = child_switch_ids (plan)) < 0)
    child_fail (sync, STEP_IDS, -ret);
  /* a credential change clears the parent-death signal */
  if ((ret = child_set_death_signal (sync)) < 0)
    child_fail (sync, STEP_DEATH_SIGNAL, -ret);
  if ((ret = px_limits_apply_rlimits (&go.rlimits)) < 0)
    child_fail (sync, STEP_RLIMITS, -ret);
  if ((ret = child_setup_fds (plan, &sync)) < 0)
    child_fail (sync, STEP_FDS, -ret);
  if ((ret = px_limits_apply_fd_limit ()) < 0)
    child_fail (sync, STEP_FD_LIMIT, -ret);
  execve (plan->path, plan->argv, plan->envp);
  child_fail (sync, STEP_EXEC, errno);
}

/* ---- Cloning ------------------------------------------------------------ */

/* SIGCHLD as the exit signal: exec would reset any other to it anyway.
 * So the host application must neither ignore SIGCHLD nor reap every
 * child (waitpid (-1, ...)), or the worker's status is lost. */
static pid_t
clone_pidfd (uint64_t flags, int *pidfd)
{
  CloneArgs args = {
    .flags = flags | CLONE_PIDFD,
    .pidfd = (uint64_t) (uintptr_t) pidfd,
    .exit_signal = SIGCHLD,
  };
  long ret = syscall (SYS_clone3, &args, sizeof args);

  /* before Linux 5.3: clone returns the pidfd through parent_tid, the
   * third argument on x86_64 and aarch64 */
  if (ret < 0 && errno == ENOSYS)
    ret = syscall (SYS_clone, flags | CLONE_PIDFD | SIGCHLD, NULL, pidfd,
        NULL, 0);
  return ret < 0 ? -errno : (pid_t) ret;
}

static uint64_t
namespace_flags (unsigned layers)
{
  uint64_t flags = 0;

  for (size_t i = 0; i < N_NAMESPACES; i++) {
    if (layers & namespaces[i].layer)
      flags |= namespaces[i].flag;
  }
  return flags;
}

/* ---- Why a namespace cannot be had ------------------------------------ */

/* The value of a sysctl, or -1 when this kernel has none. */
static long
read_sysctl (const char *path)
{
  char *text = NULL;
  long value;

  if (px_sandbox_read_file (path, 64, &text) < 0)
    return -1;
  value = strtol (text, NULL, 10);
  free (text);
  return value;
}

static const char *const namespace_limits[] = {
  "user.max_user_namespaces", "user.max_mnt_namespaces",
  "user.max_net_namespaces", "user.max_ipc_namespaces",
  "user.max_pid_namespaces", "user.max_uts_namespaces",
};

/* Fails @layer (namespace @index) with what stops it and the setting that
 * would let it be, rather than an errno alone. */
static int
fail_namespace (char **error, size_t index, unsigned layer, int err,
    bool privileged)
{
  const char *limit = namespace_limits[index];
  char path[64];
  long value, apparmor;
  int i;

  snprintf (path, sizeof path, "/proc/sys/%s", limit);
  for (i = 0; path[i]; i++)
    path[i] = path[i] == '.' ? '/' : path[i];
  value = read_sysctl (path);
  if (value == 0)
    return px_sandbox_fail (error, layer, 0, "cannot create the worker's "
        "namespace: %s is 0 here (allow some with \"sysctl %s=N\", or in "
        "the container's settings, or let the worker go without the %s "
        "layer)", limit, limit, px_sandbox_layer_name (layer)), err;
  if (err == -ENOSPC)
    return px_sandbox_fail (error, layer, 0, "cannot create the worker's "
        "namespace: the limit %s (%ld) is reached", limit, value), err;
  if (err == -EUSERS)
    return px_sandbox_fail (error, layer, 0, "cannot create the worker's "
        "namespace: user namespaces are nested 32 deep already"), err;
  if (!privileged && read_sysctl ("/proc/sys/kernel/"
          "unprivileged_userns_clone") == 0)
    return px_sandbox_fail (error, layer, 0, "cannot create the worker's "
        "namespace: unprivileged user namespaces are switched off "
        "(kernel.unprivileged_userns_clone is 0; \"sysctl "
        "kernel.unprivileged_userns_clone=1\" switches them on)"), err;
  apparmor = read_sysctl ("/proc/sys/kernel/"
      "apparmor_restrict_unprivileged_userns");
  if (!privileged && apparmor > 0)
    return px_sandbox_fail (error, layer, 0, "cannot create the worker's "
        "namespace: AppArmor restricts unprivileged user namespaces "
        "(kernel.apparmor_restrict_unprivileged_userns is %ld; give the "
        "application an AppArmor profile that allows \"userns\", or set "
        "it to 0)", apparmor), err;
  return px_sandbox_fail (error, layer, err, "cannot create the worker's "
      "namespace (%s is %ld; a security module or container policy may "
      "forbid it)", limit, value), err;
}

/* Which of the @wanted namespaces can be created, one after the other, by
 * throw-away children. Only runs when the full set failed. */
static unsigned
probe_namespaces (unsigned wanted, int *errors)
{
  unsigned usable = 0;

  for (size_t i = 0; i < N_NAMESPACES; i++) {
    int pidfd = -1;
    pid_t pid;

    if (!(wanted & namespaces[i].layer))
      continue;
    pid = clone_pidfd (namespace_flags (usable) | namespaces[i].flag, &pidfd);
    if (pid == 0)
      _exit (0);
    errors[i] = pid < 0 ? pid : 0;
    if (pid > 0) {
      siginfo_t info;

      while (waitid ((idtype_t) P_PIDFD, pidfd, &info, WEXITED) < 0 &&
          errno == EINTR);
      px_close_fd (&pidfd);
      usable |= namespaces[i].layer;
    }
  }
  return usable;
}

static pid_t
clone_child (Spawn * s, unsigned layers, int *pidfd)
{
  sigset_t all, old;
  pid_t pid;

  s->plan.user_namespace = layers & PX_SANDBOX_LAYER_USER_NAMESPACE;
  s->plan.change_ids = !s->plan.user_namespace && s->switch_ids;
  /* no handler of the caller may run in the child before it resets them */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  pid = clone_pidfd (namespace_flags (layers), pidfd);
  if (pid == 0)
    child_main (&s->plan);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  return pid;
}

/* Clones with every wanted namespace; if that fails, finds out which ones
 * cannot be had and either fails naming the first or goes without those
 * the caller allowed to miss. */
static pid_t
start_child (Spawn * s, int *pidfd, unsigned *layers, char **error)
{
  unsigned wanted = s->wanted & PX_SANDBOX_NAMESPACE_LAYERS, usable;
  int errors[N_NAMESPACES] = { 0 };
  pid_t pid = clone_child (s, wanted, pidfd);

  if (pid > 0) {
    *layers = wanted;
    return pid;
  }
  usable = probe_namespaces (wanted, errors);
  for (size_t i = 0; i < N_NAMESPACES; i++) {
    unsigned layer = namespaces[i].layer;

    if ((wanted & ~usable & layer) && !(s->config.allow_missing & layer))
      return fail_namespace (error, i, layer, errors[i] ? errors[i] : pid,
          s->privileged);
  }
  s->missing |= wanted & ~usable;
  pid = clone_child (s, usable, pidfd);
  if (pid < 0)
    return px_sandbox_fail (error, 0, pid, "clone");
  *layers = usable;
  return pid;
}

/* ---- Parent ------------------------------------------------------------- */

static int
write_id_maps (const Spawn * s, pid_t pid, char **error)
{
  char dir[64], map[64];
  int ret = 0;

  snprintf (dir, sizeof dir, "/proc/%d", (int) pid);
  /* a gid map written without privileges needs setgroups denied for
   * good; so does a caller that cannot drop groups itself */
  if (!s->drop_groups)
    ret = px_sandbox_write_file (dir, "setgroups", "deny");
  snprintf (map, sizeof map, "0 %u 1\n", (unsigned) s->uid);
  if (ret == 0)
    ret = px_sandbox_write_file (dir, "uid_map", map);
  snprintf (map, sizeof map, "0 %u 1\n", (unsigned) s->gid);
  if (ret == 0)
    ret = px_sandbox_write_file (dir, "gid_map", map);
  if (ret < 0 && (ret == -EPERM || ret == -EACCES) && !s->privileged &&
      read_sysctl ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
      > 0)
    return px_sandbox_fail (error, PX_SANDBOX_LAYER_USER_NAMESPACE, 0,
        "writing the id maps: AppArmor restricts unprivileged user "
        "namespaces (kernel.apparmor_restrict_unprivileged_userns is 1; give "
        "the application an AppArmor profile that allows \"userns\", or "
        "set it to 0)"), ret;
  if (ret < 0)
    return px_sandbox_fail (error, PX_SANDBOX_LAYER_USER_NAMESPACE, ret,
        "writing the id maps (the worker's uid %u and gid %u must be mapped "
        "in the caller's user namespace)", (unsigned) s->uid,
        (unsigned) s->gid);
  return 0;
}

static int
wait_for_exec (int sync_fd, char **error)
{
  ChildFailure failure;
  ssize_t n;

  do {
    n = recv (sync_fd, &failure, sizeof failure, 0);
  } while (n < 0 && errno == EINTR);
  if (n == 0)
    return 0;
  if (n < 0)
    return px_sandbox_fail (error, 0, px_negative_errno (), "starting the "
        "worker");
  if (n != sizeof failure || failure.step < 0 || failure.step >= N_STEPS)
    return px_sandbox_fail (error, 0, -EPROTO, "starting the worker");
  return px_sandbox_fail (error, failure.step == STEP_CGROUPS ?
      PX_SANDBOX_LAYER_LIMITS : 0, -failure.error, "starting the worker: %s",
      step_names[failure.step]);
}

static int
send_go (int sync_fd, const GoMessage * go, const PxLimitsJoin * join)
{
  GoControl control;
  struct iovec iov = {.iov_base = (void *) go,.iov_len = sizeof *go };
  struct msghdr msg = {.msg_iov = &iov,.msg_iovlen = 1 };
  struct cmsghdr *cmsg;

  if (join->n_fds > 0) {
    memset (&control, 0, sizeof control);
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE (join->n_fds * sizeof (int));
    cmsg = CMSG_FIRSTHDR (&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN (join->n_fds * sizeof (int));
    memcpy (CMSG_DATA (cmsg), join->fds, join->n_fds * sizeof (int));
  }
  return sendmsg (sync_fd, &msg, MSG_NOSIGNAL) < 0 ? px_negative_errno () : 0;
}

/* Maps ids, applies limits, lets the child go and waits for its exec. */
static int
finish_child (Spawn * s, pid_t pid, unsigned ns_layers,
    PxSandboxChild * child, char **error)
{
  GoMessage go = {.layers = ns_layers };
  PxLimitsJoin join = {.n_fds = 0 };
  char *why = NULL;
  int ret = 0;

  if (ns_layers & PX_SANDBOX_LAYER_USER_NAMESPACE)
    ret = write_id_maps (s, pid, error);
  if (ret == 0) {
    ret = px_limits_apply (&s->config, pid, s->uid, child, &go.rlimits,
        &join, &why);
    go.n_join_fds = join.n_fds;
    if (ret == 0 && child->limits != PX_SANDBOX_LIMITS_NONE)
      go.layers |= PX_SANDBOX_LAYER_LIMITS;
    else if (ret < 0 && (s->config.allow_missing & PX_SANDBOX_LAYER_LIMITS)) {
      s->missing |= PX_SANDBOX_LAYER_LIMITS;
      ret = 0;
    } else if (ret < 0) {
      px_sandbox_fail (error, 0, 0, "%s", why ? why : "limits: failed");
    }
    free (why);
  }
  if (ret == 0 && (ret = send_go (s->sync[0], &go, &join)) < 0)
    px_sandbox_fail (error, 0, ret, "starting the worker");
  px_limits_join_clear (&join);
  if (ret == 0)
    ret = wait_for_exec (s->sync[0], error);
  if (ret == 0)
    child->applied = go.layers;
  return ret;
}

/* ---- Preparation -------------------------------------------------------- */

static int
build_env (const char *const *entries, char ***out)
{
  size_t n = px_sandbox_strv_length (entries), k = 0;
  char **env;

  if (n > PX_SANDBOX_MAX_ENV)
    return -E2BIG;
  env = calloc (n + 1, sizeof *env);
  if (env == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < n; i++) {
    const char *entry = entries[i], *eq = strchr (entry, '='), *value;

    if (entry[0] == '\0' || eq == entry) {
      px_sandbox_strv_free (env);
      return -EINVAL;
    }
    /* "NAME": the caller's value, if it has one */
    value = eq ? NULL : getenv (entry);
    if (eq)
      env[k] = strdup (entry);
    else if (value && asprintf (&env[k], "%s=%s", entry, value) < 0)
      env[k] = NULL;
    else if (value == NULL)
      continue;
    if (env[k++] == NULL) {
      px_sandbox_strv_free (env);
      return -ENOMEM;
    }
  }
  *out = env;
  return 0;
}

/* argv[0], the sandbox arguments, then the caller's other arguments. */
static int
build_argv (Spawn * s, const char *worker_path, const char *const *argv)
{
  size_t n_args = px_sandbox_strv_length (argv), n_sandbox, k = 0;
  char *layers;
  int ret = px_sandbox_config_to_args (&s->config, &s->sandbox_args);

  if (ret < 0)
    return ret;
  n_sandbox = px_sandbox_strv_length ((const char *const *) s->sandbox_args);
  s->argv = calloc (n_args + n_sandbox + 2, sizeof *s->argv);
  if (s->argv == NULL)
    return -ENOMEM;
  s->argv[k++] = (char *) (n_args > 0 ? argv[0] : worker_path);
  for (size_t i = 0; i < n_sandbox; i++)
    s->argv[k++] = s->sandbox_args[i];
  for (size_t i = 1; i < n_args; i++)
    s->argv[k++] = (char *) argv[i];
  /* the last sandbox argument is "--px-sandbox-layers=0x00000000" */
  layers = strstr (s->sandbox_args[n_sandbox - 1], "=0x");
  if (layers == NULL || strlen (layers) != 11)
    return -EINVAL;
  s->plan.layers_digits = layers + 3;
  return 0;
}

static bool
fds_are_valid (const int *fds, unsigned n_fds)
{
  if (fds == NULL || n_fds == 0 || n_fds > PX_SANDBOX_MAX_FDS)
    return false;
  for (unsigned i = 0; i < n_fds; i++) {
    if (fcntl (fds[i], F_GETFD) < 0)
      return false;
  }
  return true;
}

static bool
paths_are_valid (const char *const *paths)
{
  for (size_t i = 0; paths != NULL && paths[i] != NULL; i++) {
    if (paths[i][0] != '/' || strstr (paths[i], "/../") != NULL ||
        strlen (paths[i]) >= 4096)
      return false;
  }
  return true;
}

/* Reads the rules file and checks the rules, so that a bad file fails here
 * with its line number rather than later in the worker. */
static int
prepare_rules (Spawn * s, char **error)
{
  PxSeccompFilter *filter = NULL;
  char *why = NULL;
  int ret = 0;

  if (s->config.policy != PX_SANDBOX_POLICY_CUSTOM)
    return 0;
  if (s->config.rules == NULL && s->config.rules_file != NULL) {
    ret = px_seccomp_read_rules_file (s->config.rules_file, &s->rules, &why);
    s->config.rules = (const char *const *) s->rules;
    /* allowed to go without: the worker gets no rules, i.e. the
     * minimal-compute base, stricter than asked and never looser */
    if (ret < 0 && (s->config.allow_missing & PX_SANDBOX_LAYER_SECCOMP)) {
      free (why);
      return 0;
    }
  }
  if (ret == 0)
    ret = px_seccomp_filter_new (PX_SANDBOX_POLICY_CUSTOM, s->config.rules,
        getpid (), false, &filter, &why);
  px_seccomp_filter_free (filter);
  /* the worker will fail on the same rules */
  if (ret < 0 && (s->config.allow_missing & PX_SANDBOX_LAYER_SECCOMP)) {
    s->missing |= PX_SANDBOX_LAYER_SECCOMP;
    ret = 0;
  } else if (ret < 0) {
    px_sandbox_fail (error, PX_SANDBOX_LAYER_SECCOMP, why ? 0 : ret,
        "%s rules%s%s", s->config.rules_file ? s->config.rules_file :
        "custom", why ? ": " : "", why ? why : "");
  }
  free (why);
  return ret;
}

/* False inside a user namespace whose creator denied setgroups (as
 * "unshare --map-root-user" does): root there cannot drop groups, and
 * neither can the worker. */
static bool
setgroups_allowed (void)
{
  char *text = NULL;
  bool allowed;

  if (px_sandbox_read_file ("/proc/self/setgroups", 64, &text) < 0)
    return true;                /* older kernels: no such control */
  allowed = strncmp (text, "deny", 4) != 0;
  free (text);
  return allowed;
}

/* Where @id lies in the id map @text ("inside outside count" lines): TRUE
 * if mapped, with the id outside in *@outside. */
static bool
id_map_lookup (const char *text, unsigned long id, unsigned long *outside)
{
  for (const char *line = text; line && *line; line = strchr (line, '\n')) {
    unsigned long in, out, count;

    line += *line == '\n';
    if (sscanf (line, "%lu %lu %lu", &in, &out, &count) == 3 && id >= in &&
        id - in < count) {
      *outside = out + (id - in);
      return true;
    }
  }
  return false;
}

/* A privileged caller's worker: PX_SANDBOX_WORKER_UID/GID where this user
 * namespace maps them. Where it does not (a container's root with a
 * single mapped id), root here is someone else outside, and the worker
 * runs as the caller; unless that root is root outside too. */
static int
default_worker_ids (uid_t * uid, gid_t * gid, char **error)
{
  char *uid_map = NULL, *gid_map = NULL;
  unsigned long outside = 0, ignored;
  bool mapped, root_outside;

  if (px_sandbox_read_file ("/proc/self/uid_map", 64 * 1024, &uid_map) < 0 ||
      px_sandbox_read_file ("/proc/self/gid_map", 64 * 1024, &gid_map) < 0) {
    free (uid_map);
    *uid = PX_SANDBOX_WORKER_UID;       /* no user namespaces at all */
    *gid = PX_SANDBOX_WORKER_GID;
    return 0;
  }
  mapped = id_map_lookup (uid_map, PX_SANDBOX_WORKER_UID, &ignored) &&
      id_map_lookup (gid_map, PX_SANDBOX_WORKER_GID, &ignored);
  root_outside = !id_map_lookup (uid_map, geteuid (), &outside) || outside == 0;
  free (uid_map);
  free (gid_map);
  if (mapped) {
    *uid = PX_SANDBOX_WORKER_UID;
    *gid = PX_SANDBOX_WORKER_GID;
  } else if (!root_outside) {
    *uid = geteuid ();
    *gid = getegid ();
  } else {
    return px_sandbox_fail (error, PX_SANDBOX_LAYER_USER_NAMESPACE, -EPERM,
        "the caller is root and uid/gid %u, which its worker runs as, is "
        "not mapped here: map it, or name the worker's ids (change_ids), "
        "or set run_as_caller", PX_SANDBOX_WORKER_UID);
  }
  return 0;
}

static int
prepare (Spawn * s, const char *worker_path, const char *const *argv,
    const int *fds, unsigned n_fds, const PxSandboxConfig * config,
    char **error)
{
  int ret;

  s->config = *config;
  s->config.spawned_layers = 0;
  s->privileged = geteuid () == 0;
  s->drop_groups = s->privileged && setgroups_allowed ();
  if (worker_path == NULL || !fds_are_valid (fds, n_fds) ||
      !paths_are_valid (config->read_only_paths) ||
      !paths_are_valid (config->read_write_paths))
    return px_sandbox_fail (error, 0, -EINVAL, "invalid arguments");
  if (config->change_ids && !s->privileged)
    return px_sandbox_fail (error, 0, -EPERM, "running the worker as "
        "another user needs a privileged caller");
  if (config->change_ids) {
    s->uid = config->uid;
    s->gid = config->gid;
  } else if (s->privileged && !config->run_as_caller) {
    /* never root by default: see PxSandboxConfig.run_as_caller */
    ret = default_worker_ids (&s->uid, &s->gid, error);
    if (ret < 0)
      return ret;
  } else {
    s->uid = geteuid ();
    s->gid = getegid ();
  }
  s->switch_ids = s->uid != geteuid () || s->gid != getegid ();
  ret = prepare_rules (s, error);
  if (ret < 0)
    return ret;
  s->wanted = px_sandbox_config_wanted_layers (&s->config);
  /* its PID 1 is a reaper, which reports on a socket of its own, handed
   * over after the caller's fds */
  if (s->wanted & PX_SANDBOX_LAYER_PID_NAMESPACE) {
    int on = 1;

    if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->status) < 0
        || setsockopt (s->status[0], SOL_SOCKET, SO_PASSCRED, &on,
            sizeof on) < 0)
      return px_sandbox_fail (error, 0, px_negative_errno (), "the reaper's "
          "socket");
    s->config.reaper_fd = WORKER_FIRST_FD + (int) n_fds;
  }
  ret = build_argv (s, worker_path, argv);
  if (ret == 0)
    ret = build_env (config->env, &s->envp);
  if (ret < 0)
    return px_sandbox_fail (error, 0, ret, "preparing the worker's command "
        "line and environment");
  s->null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (s->null_fd < 0 || socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
          0, s->sync) < 0 || socketpair (AF_UNIX, SOCK_SEQPACKET |
          SOCK_CLOEXEC, 0, s->supervisor) < 0)
    return px_sandbox_fail (error, 0, px_negative_errno (), "preparing");
  /* Both ends non-blocking, each its own description: the worker's writes
   * fail rather than wait on a host that reads slowly, and the host never
   * waits on the worker. */
  if (pipe2 (s->stderr_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
    return px_sandbox_fail (error, 0, px_negative_errno (), "the stderr "
        "pipe");
  s->plan.path = worker_path;
  s->plan.argv = s->argv;
  s->plan.envp = s->envp;
  memcpy (s->plan.fds, fds, n_fds * sizeof *fds);
  s->plan.n_fds = n_fds;
  if (s->status[1] >= 0)
    s->plan.fds[s->plan.n_fds++] = s->status[1];
  s->plan.sync_fd = s->sync[1];
  s->plan.parent_sync_fd = s->sync[0];
  s->plan.null_fd = s->null_fd;
  s->plan.stderr_fd = s->stderr_pipe[1];
  s->plan.supervisor_fd = s->supervisor[1];
  s->plan.parent_supervisor_fd = s->supervisor[0];
  s->plan.drop_groups = s->drop_groups;
  s->plan.uid = s->uid;
  s->plan.gid = s->gid;
  return 0;
}

static void
spawn_clear (Spawn * s)
{
  px_sandbox_strv_free (s->rules);
  px_sandbox_strv_free (s->sandbox_args);
  free (s->argv);
  px_sandbox_strv_free (s->envp);
  px_close_fd (&s->sync[0]);
  px_close_fd (&s->sync[1]);
  px_close_fd (&s->null_fd);
  px_close_fd (&s->stderr_pipe[0]);
  px_close_fd (&s->stderr_pipe[1]);
  px_close_fd (&s->status[0]);
  px_close_fd (&s->status[1]);
  px_close_fd (&s->supervisor[0]);
  px_close_fd (&s->supervisor[1]);
}

/* One record from the reaper, with the kernel's word that the reaper sent
 * it: -EAGAIN when there is none (yet), -EPROTO for anything else. */
static int
receive_record (int fd, pid_t reaper, PxSandboxReaperRecord * record)
{
  union
  {
    struct cmsghdr align;
    char buf[CMSG_SPACE (sizeof (struct ucred))];
  } control;
  struct iovec iov = {.iov_base = record,.iov_len = sizeof *record };
  struct msghdr msg = {.msg_iov = &iov,.msg_iovlen = 1,
    .msg_control = control.buf,.msg_controllen = sizeof control.buf
  };
  struct cmsghdr *cmsg;
  struct ucred cred;
  ssize_t n;

  do {
    n = recvmsg (fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno == EAGAIN ? -EAGAIN : px_negative_errno ();
  cmsg = CMSG_FIRSTHDR (&msg);
  if (n != sizeof *record || record->magic != PX_SANDBOX_REAPER_MAGIC ||
      cmsg == NULL || cmsg->cmsg_level != SOL_SOCKET ||
      cmsg->cmsg_type != SCM_CREDENTIALS ||
      cmsg->cmsg_len != CMSG_LEN (sizeof cred))
    return -EPROTO;
  memcpy (&cred, CMSG_DATA (cmsg), sizeof cred);
  return cred.pid == reaper ? 0 : -EPROTO;
}

/* The worker's host pid: the one child of its reaper. */
static pid_t
reaper_child (pid_t reaper)
{
  char path[64], *text = NULL;
  long pid;

  snprintf (path, sizeof path, "/proc/%d/task/%d/children", (int) reaper,
      (int) reaper);
  if (px_sandbox_read_file (path, 256, &text) < 0)
    return -ESRCH;
  pid = strtol (text, NULL, 10);
  free (text);
  return pid > 0 ? (pid_t) pid : -ESRCH;
}

/* With a PID namespace, the exec'd process splits into the namespace's
 * reaper and the worker: waits (a little: the worker's first call does
 * it) for the reaper's word, and makes child->pid the worker's. */
static int
meet_reaper (Spawn * s, PxSandboxChild * c, char **error)
{
  struct pollfd pfd = {.fd = s->status[0],.events = POLLIN };
  PxSandboxReaperRecord record;
  pid_t worker;
  int ret;

  do {
    ret = poll (&pfd, 1, 10000);
  } while (ret < 0 && errno == EINTR);
  ret = ret > 0 ? receive_record (s->status[0], c->pid, &record) : -ETIMEDOUT;
  if (ret == 0 && record.kind != PX_SANDBOX_REAPER_STARTED)
    ret = -EPROTO;
  if (ret < 0)
    return px_sandbox_fail (error, PX_SANDBOX_LAYER_PID_NAMESPACE, ret,
        "the worker started no reaper (its main () must call "
        "px_sandbox_config_take_from_args() first)");
  /* a worker that has ended already has no pid left to name; its status
   * waits on the socket */
  worker = reaper_child (c->pid);
  c->reaper_pid = c->pid;
  c->pid = worker > 0 ? worker : c->pid;
  c->status_fd = px_steal_fd (&s->status[0]);
  return 0;
}

static char *
format_warning (unsigned missing)
{
  char layers[512], *warning = NULL;

  if (missing == 0)
    return NULL;
  px_sandbox_layers_format (missing, layers, sizeof layers);
  if (asprintf (&warning, "running without: %s (allowed by the caller)",
          layers) < 0)
    return NULL;
  return warning;
}

int
px_sandbox_spawn_fds (const char *worker_path, const char *const *argv,
    const int *fds, unsigned n_fds, const PxSandboxConfig * config,
    PxSandboxChild * child, char **error)
{
  Spawn s = {.sync = {-1, -1},.status = {-1, -1},.supervisor = {-1, -1},
  .null_fd = -1,.stderr_pipe = {-1, -1}
  };
  PxSandboxChild c = {.pidfd = -1,.stderr_fd = -1,.status_fd = -1,
    .supervisor_fd = -1,.listener_fd = -1
  };
  unsigned ns_layers = 0;
  int ret = config ? prepare (&s, worker_path, argv, fds, n_fds, config,
      error) : -EINVAL;

  if (ret == 0) {
    c.pid = start_child (&s, &c.pidfd, &ns_layers, error);
    ret = c.pid < 0 ? c.pid : 0;
  }
  if (ret == 0) {
    px_close_fd (&s.sync[1]);
    px_close_fd (&s.stderr_pipe[1]);
    c.stderr_fd = px_steal_fd (&s.stderr_pipe[0]);
    px_close_fd (&s.status[1]);
    px_close_fd (&s.supervisor[1]);
    c.supervisor_fd = px_steal_fd (&s.supervisor[0]);
    ret = finish_child (&s, c.pid, ns_layers, &c, error);
    if (ret == 0 && (ns_layers & PX_SANDBOX_LAYER_PID_NAMESPACE))
      ret = meet_reaper (&s, &c, error);
    if (ret < 0)
      px_sandbox_child_cleanup (&c);
  }
  spawn_clear (&s);
  if (ret < 0)
    return ret;
  c.missing = s.missing;
  c.warning = format_warning (c.missing);
  *child = c;
  return 0;
}

int
px_sandbox_spawn (const char *worker_path, const char *const *argv,
    int control_fd, const PxSandboxConfig * config, PxSandboxChild * child,
    char **error)
{
  return px_sandbox_spawn_fds (worker_path, argv, &control_fd, 1, config,
      child, error);
}

/* ---- Supervising -------------------------------------------------------- */

int
px_sandbox_child_wait (PxSandboxChild * child, bool block, siginfo_t * info)
{
  siginfo_t si;
  int ret;

  if (child->pid <= 0 || child->reaped)
    return -ECHILD;
  memset (&si, 0, sizeof si);
  do {
    ret = waitid ((idtype_t) P_PIDFD, child->pidfd, &si,
        WEXITED | (block ? 0 : WNOHANG));
  } while (ret < 0 && errno == EINTR);
  if (ret < 0)
    return px_negative_errno ();
  if (si.si_pid == 0)
    return -EAGAIN;
  child->reaped = true;
  /* the reaper's word on the worker, if it had the time to give it (not
   * when it was killed: the worker then died with it, of SIGKILL) */
  if (child->reaper_pid > 0) {
    PxSandboxReaperRecord record;

    while (receive_record (child->status_fd, child->reaper_pid, &record) == 0) {
      if (record.kind != PX_SANDBOX_REAPER_EXITED)
        continue;
      si.si_pid = child->pid;
      si.si_code = record.code;
      si.si_status = record.status;
    }
  }
  if (info != NULL)
    *info = si;
  return 0;
}

int
px_sandbox_child_kill (PxSandboxChild * child)
{
  if (child->pid <= 0 || child->reaped)
    return -ESRCH;
  if (syscall (SYS_pidfd_send_signal, child->pidfd, SIGKILL, NULL, 0) < 0)
    return px_negative_errno ();
  return 0;
}

void
px_sandbox_child_cleanup (PxSandboxChild * child)
{
  if (child->pid <= 0)
    return;
  if (!child->reaped) {
    px_sandbox_child_kill (child);
    px_sandbox_child_wait (child, true, NULL);
  }
  px_limits_remove_cgroups (child);
  px_close_fd (&child->pidfd);
  px_close_fd (&child->stderr_fd);
  px_close_fd (&child->status_fd);
  px_close_fd (&child->supervisor_fd);
  px_close_fd (&child->listener_fd);
  free (child->warning);
  child->warning = NULL;
  child->pid = 0;
}
