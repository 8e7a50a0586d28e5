/* Parallax — the worker locks itself down.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Capabilities belong to threads, not processes: capset() in one thread
 * leaves the others' untouched, and no libc call broadcasts it. So
 * px_sandbox_lockdown_prepare(), called while the worker has one thread,
 * starts a helper thread that keeps CAP_SYS_ADMIN (in the worker's user
 * namespace) and then drops every capability of the calling thread; every
 * thread started afterwards inherits none. The helper builds the empty
 * root when px_sandbox_lockdown() asks, and exits. Threads share their
 * root and working directory (CLONE_FS), so pivot_root in the helper
 * moves them all.
 */
#include "px-sandbox-private.h"
#include "px-seccomp.h"
#include "px-fd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_BINDS (2 * PX_SANDBOX_MAX_PATHS + 8)

/* ---- Capabilities ------------------------------------------------------- */

static int
read_capabilities (struct __user_cap_data_struct *data)
{
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };

  memset (data, 0, 2 * sizeof *data);
  return syscall (SYS_capget, &header, data) < 0 ? -errno : 0;
}

/* Empties the bounding, ambient, effective, permitted and inheritable sets
 * of the calling thread, and locks the securebits so that uid 0 never
 * means capabilities again. */
static int
drop_capabilities (void)
{
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];
  const unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
      SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
      SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
      SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  int ret = read_capabilities (data);

  if (ret < 0)
    return ret;
  /* Without CAP_SETPCAP the bounding set stays: it only limits what an
   * exec could gain, and exec is killed by seccomp. */
  if (data[0].effective & (1u << CAP_SETPCAP)) {
    for (int cap = 0; prctl (PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
      if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
        return -errno;
    }
    if (prctl (PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
      return -errno;
  }
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
      errno != EINVAL)
    return -errno;
  memset (data, 0, sizeof data);
  if (syscall (SYS_capset, &header, data) < 0)
    return -errno;
  ret = read_capabilities (data);
  if (ret == 0 && (data[0].effective | data[0].permitted |
          data[0].inheritable | data[1].effective | data[1].permitted |
          data[1].inheritable) != 0)
    ret = -EPERM;
  return ret;
}

/* ---- Empty root --------------------------------------------------------- */

typedef struct
{
  const char *path;
  int fd;
  bool writable;
  bool is_dir;
} Bind;

/* The resolver's files, for with-network (those that exist). */
static const char *const resolver_files[] = {
  "/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/gai.conf",
  "/etc/host.conf", "/etc/services", "/etc/protocols",
};

/* A detached copy of @path's mount tree, made read-only (unless
 * @writable), nosuid, nodev and noexec: no new code after lockdown. */
static int
open_bind (const char *path, bool writable, Bind * bind)
{
  struct mount_attr attr = {
    .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
        (writable ? 0 : MOUNT_ATTR_RDONLY),
  };
  px_auto_fd fd = open_tree (AT_FDCWD, path, OPEN_TREE_CLONE |
      OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  struct stat st;

  if (fd < 0 || mount_setattr (fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
          sizeof attr) < 0 || fstat (fd, &st) < 0)
    return px_negative_errno ();
  bind->path = path;
  bind->fd = px_steal_fd (&fd);
  bind->writable = writable;
  bind->is_dir = S_ISDIR (st.st_mode);
  return 0;
}

static int
add_binds (const char *const *paths, bool writable, Bind * binds, size_t *n,
    char **why)
{
  for (size_t i = 0; paths != NULL && paths[i] != NULL; i++) {
    int ret = *n < MAX_BINDS ? open_bind (paths[i], writable, &binds[*n]) :
        -E2BIG;

    if (ret < 0)
      return px_sandbox_fail (why, 0, ret, "%s", paths[i]);
    (*n)++;
  }
  return 0;
}

/* Opens every path the policy shows, while the old root is still there. */
static int
open_binds (const PxSandboxConfig * config, Bind * binds, size_t *n, char **why)
{
  PxSandboxPolicy base = px_sandbox_config_base_policy (config);
  int ret = 0;

  if (base == PX_SANDBOX_POLICY_WITH_FILESYSTEM) {
    ret = add_binds (config->read_only_paths, false, binds, n, why);
    if (ret == 0)
      ret = add_binds (config->read_write_paths, true, binds, n, why);
  } else if (base == PX_SANDBOX_POLICY_WITH_NETWORK) {
    for (size_t i = 0; i < sizeof resolver_files / sizeof *resolver_files; i++) {
      if (access (resolver_files[i], R_OK) < 0)
        continue;
      ret = open_bind (resolver_files[i], false, &binds[*n]);
      if (ret < 0)
        return px_sandbox_fail (why, 0, ret, "%s", resolver_files[i]);
      (*n)++;
    }
  }
  return ret;
}

static int
new_tmpfs (int *out, char **why)
{
  px_auto_fd fs = fsopen ("tmpfs", FSOPEN_CLOEXEC);
  int mnt;

  if (fs < 0 ||
      fsconfig (fs, FSCONFIG_SET_STRING, "size", "64k", 0) < 0 ||
      fsconfig (fs, FSCONFIG_SET_STRING, "nr_inodes", "1024", 0) < 0 ||
      fsconfig (fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
      fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return px_sandbox_fail (why, 0, px_negative_errno (), "tmpfs");
  mnt = fsmount (fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
      MOUNT_ATTR_NOEXEC);
  if (mnt < 0)
    return px_sandbox_fail (why, 0, px_negative_errno (), "tmpfs");
  *out = mnt;
  return 0;
}

/* Stacks @root on "/", makes it the root (pivot_root (".", ".") puts the
 * old root on top of it) and detaches the old one. */
static int
pivot_to (int root, char **why)
{
  if (move_mount (root, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return px_sandbox_fail (why, 0, px_negative_errno (), "move_mount");
  if (fchdir (root) < 0 || syscall (SYS_pivot_root, ".", ".") < 0)
    return px_sandbox_fail (why, 0, px_negative_errno (), "pivot_root");
  if (umount2 (".", MNT_DETACH) < 0 || chdir ("/") < 0)
    return px_sandbox_fail (why, 0, px_negative_errno (), "detaching the "
        "old root");
  return 0;
}

/* Creates the directories leading to @path and its mount point. */
static int
make_mount_point (const char *path, bool is_dir)
{
  char buf[4096];
  size_t len = strlen (path);
  px_auto_fd fd = -1;

  if (len >= sizeof buf)
    return -ENAMETOOLONG;
  memcpy (buf, path, len + 1);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir (buf, 0755) < 0 && errno != EEXIST)
      return px_negative_errno ();
    *p = '/';
  }
  if (is_dir)
    return mkdir (buf, 0755) < 0 && errno != EEXIST ? px_negative_errno () : 0;
  fd = open (buf, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
  return fd < 0 ? px_negative_errno () : 0;
}

static size_t
depth (const char *path)
{
  size_t n = 0;

  for (; *path; path++)
    n += *path == '/';
  return n;
}

static int
attach_binds (Bind * binds, size_t n, char **why)
{
  /* parents before children, whatever order the paths came in */
  for (size_t i = 1; i < n; i++) {
    for (size_t j = i; j > 0 && depth (binds[j - 1].path) >
        depth (binds[j].path); j--) {
      Bind tmp = binds[j];
      binds[j] = binds[j - 1];
      binds[j - 1] = tmp;
    }
  }
  for (size_t i = 0; i < n; i++) {
    int ret = make_mount_point (binds[i].path, binds[i].is_dir);

    if (ret == 0 && move_mount (binds[i].fd, "", AT_FDCWD, binds[i].path,
            MOVE_MOUNT_F_EMPTY_PATH) < 0)
      ret = px_negative_errno ();
    if (ret < 0)
      return px_sandbox_fail (why, 0, ret, "mounting %s", binds[i].path);
  }
  return 0;
}

/* A directory fd opened before the lockdown would still reach the old
 * file system (openat relative to it): no root while one is open, when the
 * policy lets the worker open paths. Under minimal-compute every open is
 * refused anyway, and elements may keep theirs (pango's font thread reads
 * fontconfig's directories while the lockdown runs). */
static int
check_no_directory_fds (char **why)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *entry;
  int ret = 0;

  if (dir == NULL)
    return px_sandbox_fail (why, 0, px_negative_errno (), "/proc/self/fd");
  while (ret == 0 && (entry = readdir (dir)) != NULL) {
    int fd = atoi (entry->d_name);
    struct stat st;

    if (entry->d_name[0] == '.' || fd == dirfd (dir))
      continue;
    if (fstat (fd, &st) == 0 && S_ISDIR (st.st_mode))
      ret = px_sandbox_fail (why, 0, -EBUSY, "fd %d is a directory, which "
          "would reach past the empty root", fd);
  }
  closedir (dir);
  return ret;
}

static int
make_empty_root (const PxSandboxConfig * config, char **why)
{
  struct mount_attr read_only = {.attr_set = MOUNT_ATTR_RDONLY };
  Bind binds[MAX_BINDS];
  px_auto_fd root = -1;
  size_t n = 0;
  int ret = 0;

  if (px_seccomp_policy_opens_paths (config->policy, config->rules))
    ret = check_no_directory_fds (why);

  /* nothing done here may propagate back to the host's mounts */
  if (ret == 0 && mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    ret = px_sandbox_fail (why, 0, px_negative_errno (), "making the mounts "
        "private");
  if (ret == 0)
    ret = open_binds (config, binds, &n, why);
  if (ret == 0)
    ret = new_tmpfs (&root, why);
  if (ret == 0)
    ret = pivot_to (root, why);
  if (ret == 0)
    ret = attach_binds (binds, n, why);
  if (ret == 0 && mount_setattr (root, "", AT_EMPTY_PATH, &read_only,
          sizeof read_only) < 0)
    ret = px_sandbox_fail (why, 0, px_negative_errno (), "read-only root");
  for (size_t i = 0; i < n; i++)
    px_close_fd (&binds[i].fd);
  return ret;
}

/* ---- AF_UNIX sockets in the host's network namespace ------------------- */

/* In the host's network namespace (with-network), an AF_UNIX socket that
 * can still be bound or aimed at a name reaches the host's abstract
 * sockets (X11, D-Bus, ...). The filter refuses new ones; of those the
 * worker holds, each must be connected and not a datagram socket (sendto
 * could name any address), and gets an address of the kernel's choosing
 * (autobind) if it has none, so that bind (@name) fails with EINVAL. */
static int
claim_unix_socket (int fd, char **why)
{
  struct sockaddr_un addr;
  socklen_t len = sizeof addr;
  int domain = 0, type = 0;
  socklen_t size = sizeof domain;

  if (getsockopt (fd, SOL_SOCKET, SO_DOMAIN, &domain, &size) < 0 ||
      domain != AF_UNIX)
    return 0;                   /* not a socket, or not AF_UNIX */
  size = sizeof type;
  if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &size) < 0)
    return px_sandbox_fail (why, 0, px_negative_errno (), "fd %d", fd);
  if (type == SOCK_DGRAM)
    return px_sandbox_fail (why, 0, -EBUSY, "fd %d is an AF_UNIX datagram "
        "socket, which could send to the host's abstract sockets", fd);
  if (getpeername (fd, (struct sockaddr *) &addr, &len) < 0)
    return px_sandbox_fail (why, 0, -EBUSY, "fd %d is an unconnected "
        "AF_UNIX socket, which could reach the host's abstract sockets", fd);
  len = sizeof addr;
  if (getsockname (fd, (struct sockaddr *) &addr, &len) < 0)
    return px_sandbox_fail (why, 0, px_negative_errno (), "fd %d", fd);
  if (len > sizeof (sa_family_t))
    return 0;                   /* bound already: bind fails */
  addr.sun_family = AF_UNIX;
  if (bind (fd, (struct sockaddr *) &addr, sizeof (sa_family_t)) < 0)
    return px_sandbox_fail (why, 0, px_negative_errno (), "fd %d: "
        "autobind", fd);
  return 0;
}

static int
claim_unix_sockets (char **why)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *entry;
  int ret = 0;

  if (dir == NULL)
    return px_sandbox_fail (why, 0, px_negative_errno (), "/proc/self/fd");
  while (ret == 0 && (entry = readdir (dir)) != NULL) {
    if (entry->d_name[0] != '.' && atoi (entry->d_name) != dirfd (dir))
      ret = claim_unix_socket (atoi (entry->d_name), why);
  }
  closedir (dir);
  return ret;
}

/* ---- Helper thread ------------------------------------------------------ */

static struct
{
  pthread_mutex_t lock;
  pthread_cond_t cond;
  pthread_t thread;
  bool running, requested, done;
  const PxSandboxConfig *config;        /* NULL: just exit */
  int result;
  char *why;
} helper = {
  PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER
};

static void *
helper_main (void *data)
{
  pthread_mutex_lock (&helper.lock);
  while (!helper.requested)
    pthread_cond_wait (&helper.cond, &helper.lock);
  pthread_mutex_unlock (&helper.lock);
  if (helper.config != NULL)
    helper.result = make_empty_root (helper.config, &helper.why);
  pthread_mutex_lock (&helper.lock);
  helper.done = true;
  pthread_cond_broadcast (&helper.cond);
  pthread_mutex_unlock (&helper.lock);
  return NULL;
}

/* Has the helper build the root (@config) or just exit (NULL), and waits
 * until it is gone: its capabilities go with it. */
static int
helper_finish (const PxSandboxConfig * config, char **why)
{
  pthread_mutex_lock (&helper.lock);
  helper.config = config;
  helper.requested = true;
  pthread_cond_broadcast (&helper.cond);
  while (!helper.done)
    pthread_cond_wait (&helper.cond, &helper.lock);
  pthread_mutex_unlock (&helper.lock);
  pthread_join (helper.thread, NULL);
  helper.running = false;
  *why = helper.why;
  helper.why = NULL;
  return helper.result;
}

int
px_sandbox_lockdown_prepare (void)
{
  pthread_attr_t attr;
  sigset_t all, old;
  char *why = NULL;
  int ret, threads = px_sandbox_count_threads ();

  if (helper.running || helper.done)
    return -EALREADY;
  if (threads < 0)
    return threads;
  if (threads != 1)
    return -EBUSY;
  /* a small stack: RLIMIT_AS may already be tight */
  pthread_attr_init (&attr);
  pthread_attr_setstacksize (&attr, 256 * 1024);
  /* the helper takes no signal meant for the worker */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  ret = -pthread_create (&helper.thread, &attr, helper_main, NULL);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  pthread_attr_destroy (&attr);
  if (ret < 0)
    return ret;
  helper.running = true;
  ret = drop_capabilities ();
  if (ret < 0) {
    helper_finish (NULL, &why);
    free (why);
  }
  return ret;
}

/* ---- The seccomp listener ---------------------------------------------- */

/* Hands the filter's listener to the supervisor on PX_SANDBOX_SUPERVISOR_FD
 * and closes both: from here on only the host can read (or answer) the
 * calls the filter stops, and the worker holds nothing that could. */
static int
hand_over_listener (int listener_fd, char **why)
{
  union
  {
    struct cmsghdr align;
    char buf[CMSG_SPACE (sizeof (int))];
  } control;
  uint32_t magic = PX_SANDBOX_LISTENER_MAGIC;
  struct iovec iov = {.iov_base = &magic,.iov_len = sizeof magic };
  struct msghdr msg = {.msg_iov = &iov,.msg_iovlen = 1,
    .msg_control = control.buf,.msg_controllen = sizeof control.buf
  };
  struct cmsghdr *cmsg;
  ssize_t n;

  memset (&control, 0, sizeof control);
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &listener_fd, sizeof (int));
  do {
    n = sendmsg (PX_SANDBOX_SUPERVISOR_FD, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return px_sandbox_fail (why, 0, px_negative_errno (), "handing the "
        "listener to the supervisor (fd %d)", PX_SANDBOX_SUPERVISOR_FD);
  return 0;
}

/* The supervisor socket spawn left at PX_SANDBOX_SUPERVISOR_FD: a seqpacket
 * socket, or the filter's kills would have no one to stop them. */
static int
check_supervisor_socket (char **why)
{
  int type = 0;
  socklen_t len = sizeof type;

  if (getsockopt (PX_SANDBOX_SUPERVISOR_FD, SOL_SOCKET, SO_TYPE, &type,
          &len) < 0 || type != SOCK_SEQPACKET)
    return px_sandbox_fail (why, 0, -EBADF, "no supervisor socket on fd %d "
        "(the worker must be started by px_sandbox_spawn())",
        PX_SANDBOX_SUPERVISOR_FD);
  return 0;
}

/* Loads the filter and hands its listener over. The filter is in force
 * before the hand-over: a thread that makes a killed call meanwhile waits
 * in the kernel until the supervisor has the listener. */
static int
load_filter (PxSeccompFilter * filter, char **why)
{
  px_auto_fd listener = -1;
  int ret = check_supervisor_socket (why);

  if (ret == 0)
    ret = px_seccomp_filter_load (filter, &listener, why);
  if (ret == 0)
    ret = hand_over_listener (listener, why);
  return ret;
}

/* ---- Lockdown ----------------------------------------------------------- */

/* Adds @layer to *@done on success; otherwise fails with its name unless
 * the config allows going without it. Consumes @why. */
static int
layer_result (const PxSandboxConfig * config, unsigned layer, int ret,
    char *why, unsigned *done, char **error)
{
  if (ret == 0)
    *done |= layer;
  else if (!(config->allow_missing & layer))
    px_sandbox_fail (error, layer, why ? 0 : ret, "%s", why ? why : "failed");
  free (why);
  return ret == 0 || (config->allow_missing & layer) ? 0 : ret;
}

static int
lock_root (const PxSandboxConfig * config, bool wanted, unsigned *done,
    char **error)
{
  bool own_mounts = config->spawned_layers & PX_SANDBOX_LAYER_MOUNT_NAMESPACE;
  bool build = wanted && own_mounts;
  char *why = NULL;
  int ret = 0;

  /* the helper builds the root, or just leaves with its capabilities */
  if (helper.running)
    ret = helper_finish (build ? config : NULL, &why);
  else if (build)
    ret = make_empty_root (config, &why);
  if (!wanted) {
    free (why);
    return 0;
  }
  if (!own_mounts)
    ret = px_sandbox_fail (&why, 0, -EOPNOTSUPP, "the worker has no mount "
        "namespace of its own");
  return layer_result (config, PX_SANDBOX_LAYER_EMPTY_ROOT, ret, why, done,
      error);
}

static int
lock_capabilities (const PxSandboxConfig * config, bool prepared,
    int threads, unsigned *done, char **error)
{
  struct __user_cap_data_struct data[2];
  char *why = NULL;
  int ret;

  if (prepared) {
    /* dropped by px_sandbox_lockdown_prepare(), before any other thread */
    ret = read_capabilities (data);
    if (ret == 0 && (data[0].effective | data[0].permitted) != 0)
      ret = -EPERM;
  } else if (threads != 1) {
    ret = px_sandbox_fail (&why, 0, -EBUSY, "%d threads: the others keep "
        "their capabilities (call px_sandbox_lockdown_prepare() before "
        "starting threads)", threads);
  } else {
    ret = drop_capabilities ();
  }
  return layer_result (config, PX_SANDBOX_LAYER_CAPABILITIES, ret, why, done,
      error);
}

int
px_sandbox_lockdown (const PxSandboxConfig * config, unsigned *applied,
    char **error)
{
  unsigned wanted = px_sandbox_config_wanted_layers (config), done = 0;
  bool prepared = helper.running;
  int threads = px_sandbox_count_threads ();    /* while /proc is there */
  PxSeccompFilter *filter = NULL;
  char *filter_why = NULL;
  int filter_ret = 0, ret;

  /* built first: it allocates, and reads nothing from the file system */
  if (wanted & PX_SANDBOX_LAYER_SECCOMP)
    filter_ret = px_seccomp_filter_new (config->policy, config->rules,
        getpid (), config->spawned_layers & PX_SANDBOX_LAYER_PID_NAMESPACE,
        &filter, &filter_why);
  /* while /proc is there; sockets come from the filter's side of the
   * policy, so a failure is the seccomp layer's */
  if (filter_ret == 0 && (wanted & PX_SANDBOX_LAYER_SECCOMP) &&
      !(config->spawned_layers & PX_SANDBOX_LAYER_NETWORK_NAMESPACE))
    filter_ret = claim_unix_sockets (&filter_why);
  ret = lock_root (config, wanted & PX_SANDBOX_LAYER_EMPTY_ROOT, &done, error);
  if (ret == 0 && (wanted & PX_SANDBOX_LAYER_CAPABILITIES))
    ret = lock_capabilities (config, prepared, threads, &done, error);
  if (ret == 0 && (wanted & PX_SANDBOX_LAYER_NO_NEW_PRIVS))
    ret = layer_result (config, PX_SANDBOX_LAYER_NO_NEW_PRIVS,
        prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0, NULL,
        &done, error);
  if (ret == 0 && (wanted & PX_SANDBOX_LAYER_SECCOMP)) {
    if (filter_ret == 0)
      filter_ret = load_filter (filter, &filter_why);
    ret = layer_result (config, PX_SANDBOX_LAYER_SECCOMP, filter_ret,
        filter_why, &done, error);
    filter_why = NULL;
  }
  free (filter_why);
  px_seccomp_filter_free (filter);
  /* nothing more to hand over; a supervisor waiting for a listener that
   * never came sees the socket close */
  if (check_supervisor_socket (NULL) == 0)
    close (PX_SANDBOX_SUPERVISOR_FD);
  if (ret < 0)
    return ret;
  *applied = (config->spawned_layers & PX_SANDBOX_SPAWN_LAYERS) | done;
  return 0;
}
