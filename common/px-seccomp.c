/* Parallax — seccomp policies of the worker's jail (libseccomp).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A policy is first a list of rules (name, action, argument conditions),
 * so that a rules file can replace the rules of one syscall and conflicts
 * can be checked, then a libseccomp filter.
 *
 * Argument conditions only ever test the lower 32 bits of an argument the
 * kernel reads as an int (libseccomp compares all 64 bits, the kernel
 * truncates): a deny condition on the full register could be dodged by
 * setting the upper bits.
 */
#include "px-seccomp.h"
#include "px-sandbox-private.h"
#include "px-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#endif
#ifndef F_SEAL_SHRINK
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* "kill": the calling thread stops in the kernel and the supervisor, which
 * holds the filter's listener, learns the call and kills the worker
 * (SECCOMP_RET_USER_NOTIF). Nothing the worker does can hide or forge it. */
#define ACT_KILL SCMP_ACT_NOTIFY

/* libseccomp API level for user notification combined with TSYNC
 * (SECCOMP_FILTER_FLAG_TSYNC_ESRCH, Linux 5.7). */
#define API_NOTIFY_WITH_TSYNC 6

#define MAX_CONDITIONS 3
#define MAX_NAME 40
#define MAX_TOKENS 24
#define RULES_FILE_MAX_SIZE (64u * 1024u)
#define X32_SYSCALL_BIT 0x40000000

typedef struct
{
  char name[MAX_NAME];
  uint32_t action;
  unsigned n_args;
  struct scmp_arg_cmp args[MAX_CONDITIONS];
  bool from_file;
} Rule;

typedef struct
{
  Rule *rules;
  size_t n_rules, capacity;
  uint32_t default_action;
} RuleSet;

struct PxSeccompFilter
{
  scmp_filter_ctx ctx;
};

/* ---- Rule sets ---------------------------------------------------------- */

static int
ruleset_add (RuleSet * set, const char *name, uint32_t action,
    const struct scmp_arg_cmp *args, unsigned n_args)
{
  Rule *rule;

  if (strlen (name) >= MAX_NAME || n_args > MAX_CONDITIONS)
    return -EINVAL;
  if (set->n_rules == set->capacity) {
    size_t capacity = set->capacity ? set->capacity * 2 : 256;
    Rule *rules = realloc (set->rules, capacity * sizeof *rules);

    if (rules == NULL)
      return -ENOMEM;
    set->rules = rules;
    set->capacity = capacity;
  }
  rule = &set->rules[set->n_rules++];
  memset (rule, 0, sizeof *rule);
  strcpy (rule->name, name);
  rule->action = action;
  rule->n_args = n_args;
  if (n_args > 0)
    memcpy (rule->args, args, n_args * sizeof *args);
  return 0;
}

static void
ruleset_remove (RuleSet * set, const char *name)
{
  size_t kept = 0;

  for (size_t i = 0; i < set->n_rules; i++) {
    if (strcmp (set->rules[i].name, name) != 0)
      set->rules[kept++] = set->rules[i];
  }
  set->n_rules = kept;
}

static int
ruleset_add_names (RuleSet * set, uint32_t action, const char *const *names,
    size_t n_names)
{
  for (size_t i = 0; i < n_names; i++) {
    int ret = ruleset_add (set, names[i], action, NULL, 0);
    if (ret < 0)
      return ret;
  }
  return 0;
}

/* RULE (set, "name", action, SCMP_A0 (...), ...): one conditional rule. */
#define RULE(set, name, action, ...) \
  ruleset_add (set, name, action, \
      (const struct scmp_arg_cmp[]) { __VA_ARGS__ }, \
      sizeof ((const struct scmp_arg_cmp[]) { __VA_ARGS__ }) / \
      sizeof (struct scmp_arg_cmp))

#define N_ELEMENTS(a) (sizeof (a) / sizeof ((a)[0]))

/* Lower 32 bits of an int argument equal to @v. */
#define LOW32_EQ(arg, v) SCMP_CMP (arg, SCMP_CMP_MASKED_EQ, 0xffffffffu, v)

/* ---- Built-in policies -------------------------------------------------- */

/* Whose mere attempt means the worker has been taken over: trapped,
 * reported, fatal. A rules file cannot change these. */
static const char *const kill_list[] = {
  "execve", "execveat",         /* running anything else */
  "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise",
  "kcmp", "pidfd_getfd",        /* reaching into other processes */
  "fork", "vfork",              /* new processes (clone: see thread rules) */
  "tkill",                      /* signals by bare thread id (tgkill is used) */
  "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
  "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
  "unshare", "setns",
  "bpf", "perf_event_open", "userfaultfd",
  "io_uring_setup", "io_uring_enter", "io_uring_register",
  "kexec_load", "kexec_file_load", "init_module", "finit_module",
  "delete_module", "reboot", "swapon", "swapoff", "acct", "quotactl",
  "syslog", "iopl", "ioperm", "modify_ldt", "uselib", "lookup_dcookie",
  "nfsservctl", "vhangup", "settimeofday", "clock_settime",
  "keyctl", "add_key", "request_key",
  "open_by_handle_at", "name_to_handle_at",
};

/* Also out of a rules file's reach: the W^X, thread-only clone, signal and
 * reporter rules below. */
static const char *const protected_names[] = {
  "mmap", "mprotect", "pkey_mprotect", "clone", "clone3", "kill", "tgkill",
  "personality",                /* READ_IMPLIES_EXEC would undo W^X */
};

/* Allowed under every policy: what a GStreamer streaming thread doing pure
 * compute needs once its elements are in READY. */
static const char *const compute_allowed[] = {
  /* memory */
  "brk",                        /* glibc malloc, main arena */
  "munmap",                     /* glibc free, GstMemory and arena unmaps */
  "mremap",                     /* glibc realloc of large blocks */
  "madvise",                    /* glibc free and thread exit, DONTNEED */
  /* no memfd_create: memfd pages count against no rlimit, so the host
   * makes the worker's arenas (ipcsink request-arenas) */
  "fstat",                      /* px_arena_import checks a received memfd */
  "lseek",                      /* stdio on stderr, GstFdMemory offsets */
  /* threads and synchronisation */
  "futex",                      /* GMutex, GCond, GstTask, glibc locks */
  "set_robust_list",            /* glibc, at every thread start */
  "rseq",                       /* glibc >= 2.35 registers every thread */
  "set_tid_address",            /* glibc thread start-up */
  "sched_yield",                /* g_thread_yield, GstAtomicQueue, libav */
  "sched_getaffinity",          /* g_get_num_processors, libav threads */
  "sched_getattr",              /* GThreadPool copies the creator's policy */
  "sched_getparam",             /* pthread_getschedparam (GstTask) */
  "sched_getscheduler",         /* pthread_getschedparam (GstTask) */
  "getpid", "gettid",           /* GStreamer debug log, GLib */
  "getppid",                    /* libav's random seed (0 in the PID ns) */
  "getuid", "geteuid",          /* GLib user lookups */
  "getgid", "getegid",          /* GLib user lookups */
  "getrandom",                  /* GLib hash seeds and g_random, libav */
  "getrusage",                  /* GStreamer tracers, CPU usage queries */
  "uname",                      /* libav and ORC CPU feature detection */
  "capget",                     /* posture checks: reads own capabilities */
  "exit",                       /* thread exit */
  "exit_group",                 /* process exit */
  "restart_syscall",            /* kernel restart of interrupted sleeps */
  /* time (the vDSO answers most; these are its fallbacks) */
  "clock_gettime", "clock_getres",      /* GstSystemClock, GLib */
  "gettimeofday", "time",       /* g_get_real_time, old code */
  "clock_nanosleep", "nanosleep",       /* GstSystemClock waits, g_usleep */
  /* signals */
  "rt_sigprocmask",             /* glibc and GLib around thread creation */
  "rt_sigreturn",               /* return from any signal handler */
  /* I/O on fds the worker already holds */
  "read", "write",              /* control socket, stderr logging */
  "readv", "writev",            /* GLib logging, GSocket */
  "pread64",                    /* fd-backed GstMemory */
  "sendmsg", "recvmsg",         /* wire protocol, SCM_RIGHTS */
  "sendto", "recvfrom",         /* send()/recv() in glibc, GSocket */
  "shutdown",                   /* closing the control connection */
  "getsockopt",                 /* GSocket checks on held sockets */
  "poll", "ppoll",              /* GstPoll, GLib main loops */
  "select", "pselect6",         /* older libraries' event loops */
  "close",                      /* everyone */
  "eventfd2",                   /* GLib GWakeup (GMainContext), GstPoll */
  "pipe2",                      /* GLib GWakeup fallback */
};

/* Calls that name a path. Under minimal-compute they fail with EACCES,
 * as if the file were unreadable: lazy loads (plugins, iconv modules,
 * locale files, configuration) degrade instead of killing the worker. */
static const char *const path_calls[] = {
  "open", "openat", "openat2", "creat",
  "stat", "lstat", "statfs", "access", "faccessat", "faccessat2",
  "readlink", "readlinkat", "chdir",
  "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat",
  "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
  "chmod", "fchmodat", "fchmodat2", "chown", "lchown", "fchownat",
  "truncate", "utime", "utimes", "futimesat", "utimensat",
  "mknod", "mknodat",
  "getxattr", "lgetxattr", "setxattr", "lsetxattr",
  "listxattr", "llistxattr", "removexattr", "lremovexattr",
  "inotify_add_watch",
};

/* with-network: the path calls the resolver (getaddrinfo reading
 * resolv.conf, hosts, nsswitch.conf, gai.conf) needs; the root holds
 * nothing else, read-only. */
static const char *const path_reads[] = {
  "open", "openat", "stat", "lstat", "newfstatat", "statx",
  "access", "faccessat", "faccessat2", "readlink", "readlinkat",
};

/* with-network: sockets in the host's network namespace. */
static const char *const network_allowed[] = {
  "connect", "bind", "listen",  /* souphttpsrc, rtspsrc, udpsrc/udpsink */
  "accept", "accept4",          /* tcpserversrc, rtsp servers */
  "getsockname", "getpeername", /* GSocket, libsoup */
  "setsockopt",                 /* GSocket options, multicast joins */
  "sendmmsg", "recvmmsg",       /* glibc resolver, udpsrc batching */
};

/* with-filesystem: beyond the path calls themselves. */
static const char *const filesystem_allowed[] = {
  "getdents64",                 /* directory listings (fontconfig, GIO) */
  "fsync", "fdatasync",         /* writers on read-write paths */
  "fstatfs",                    /* GIO file queries */
  "getcwd",                     /* GIO resolving relative paths */
};

/* W^X: no mapping both writable and executable, and no new code at all
 * after lockdown: an executable-only mapping of a memfd the worker wrote
 * would otherwise be a writable+executable pair. Such a call goes to the
 * supervisor (ACT_KILL), which answers it with EACCES rather than killing
 * (px_sandbox_child_service()): a JIT probing for memory (GLib's PCRE2,
 * ORC) falls back to its interpreter, and the host still learns of it
 * from the kernel. */
static int
add_memory_rules (RuleSet * set)
{
  static const char *const calls[] = { "mmap", "mprotect" };
  int ret = 0;

  for (size_t i = 0; i < N_ELEMENTS (calls) && ret == 0; i++) {
    /* glibc malloc and thread stacks, GstMemory, arenas */
    ret = RULE (set, calls[i], SCMP_ACT_ALLOW,
        SCMP_A2 (SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    if (ret == 0)
      ret = RULE (set, calls[i], ACT_KILL,
          SCMP_A2 (SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
  }
  /* pkey_mprotect: nobody needs memory protection keys; without PROT_EXEC
   * it keeps the default (EPERM), with it it is the W^X call it would be
   * through mprotect. Protected from rules files. */
  if (ret == 0)
    ret = RULE (set, "pkey_mprotect", ACT_KILL,
        SCMP_A2 (SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
  return ret;
}

/* clone only for threads (pthread_create); a process clone is fatal.
 * clone3 hides its flags in memory seccomp cannot read: ENOSYS makes glibc
 * fall back to clone. */
static int
add_thread_rules (RuleSet * set)
{
  const uint64_t thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
      CLONE_THREAD;
  const uint64_t forbidden = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |
      CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
      CLONE_VFORK | CLONE_PARENT | CLONE_PTRACE;
  int ret;

  /* clone's flags are its first argument on x86_64 and aarch64 */
  ret = RULE (set, "clone", SCMP_ACT_ALLOW,
      SCMP_A0 (SCMP_CMP_MASKED_EQ, thread | forbidden, thread));
  if (ret == 0)
    ret = RULE (set, "clone", ACT_KILL,
        SCMP_A0 (SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
  if (ret == 0)
    ret = ruleset_add (set, "clone3", SCMP_ACT_ERRNO (ENOSYS), NULL, 0);
  return ret;
}

/* Signals: only to the worker itself. Handlers are the worker's business:
 * no signal carries a report any more (see ACT_KILL). */
static int
add_signal_rules (RuleSet * set, pid_t self)
{
  int ret;

  /* GLib and glibc install handlers (SIGPIPE ignored, ...) */
  ret = ruleset_add (set, "rt_sigaction", SCMP_ACT_ALLOW, NULL, 0);
  /* abort() and raise() (g_error, g_assert) signal the worker itself */
  if (ret == 0)
    ret = RULE (set, "tgkill", SCMP_ACT_ALLOW,
        SCMP_A0 (SCMP_CMP_EQ, (uint64_t) self));
  if (ret == 0)
    ret = RULE (set, "tgkill", ACT_KILL,
        SCMP_A0 (SCMP_CMP_NE, (uint64_t) self));
  if (ret == 0)
    ret = RULE (set, "kill", SCMP_ACT_ALLOW,
        SCMP_A0 (SCMP_CMP_EQ, (uint64_t) self));
  if (ret == 0)
    ret = RULE (set, "kill", ACT_KILL, SCMP_A0 (SCMP_CMP_NE, (uint64_t) self));
  return ret;
}

/* The seals px_arena_new() and px_arena_seal_for_readers() add, and no
 * other: F_SEAL_SEAL or F_SEAL_WRITE on an arena the host sent would stop
 * the host from sealing or writing its own memory. Received arenas carry
 * the size seals already; see docs/security.md for FUTURE_WRITE. */
static int
add_seal_rules (RuleSet * set)
{
  static const uint32_t seals[] = { F_SEAL_SHRINK | F_SEAL_GROW,
    F_SEAL_FUTURE_WRITE
  };
  int ret = 0;

  for (size_t i = 0; i < N_ELEMENTS (seals) && ret == 0; i++)
    ret = RULE (set, "fcntl", SCMP_ACT_ALLOW,
        SCMP_A1 (SCMP_CMP_EQ, F_ADD_SEALS), LOW32_EQ (2, seals[i]));
  return ret;
}

/* One rule per way a descriptor number can be above 2 (fd & 3 == 3, or
 * one of bits 2-31 set), looking at the lower 32 bits only: allows
 * @syscall on any fd but 0, 1 and 2, with @extra (if not NULL) as a
 * second condition. */
static int
allow_beyond_stdio (RuleSet * set, const char *syscall, unsigned fd_arg,
    const struct scmp_arg_cmp *extra)
{
  struct scmp_arg_cmp args[2];
  int ret;

  args[0] = SCMP_CMP (fd_arg, SCMP_CMP_MASKED_EQ, 3, 3);
  if (extra)
    args[1] = *extra;
  ret = ruleset_add (set, syscall, SCMP_ACT_ALLOW, args, extra ? 2 : 1);
  for (unsigned bit = 2; bit < 32 && ret == 0; bit++) {
    args[0] = SCMP_CMP (fd_arg, SCMP_CMP_MASKED_EQ, 1u << bit, 1u << bit);
    ret = ruleset_add (set, syscall, SCMP_ACT_ALLOW, args, extra ? 2 : 1);
  }
  return ret;
}

/* What changes an open file description (its size, contents at an offset,
 * its status flags) or makes another number for it is needed on the
 * worker's own fds only: refused (EPERM, the default) on 0, 1 and 2. They
 * are the worker's own too (/dev/null and its stderr pipe), so this is a
 * second line; SCM_RIGHTS over its own socketpair is a way to another
 * number that no filter can see (docs/security.md). */
static int
add_own_fd_rules (RuleSet * set)
{
  static const int fcntl_commands[] = { F_SETFL, F_DUPFD, F_DUPFD_CLOEXEC };
  /* ftruncate: elements sizing files they hold (the worker's arenas come
   * sized from the host); pwrite64: fd-backed GstMemory; dup*: GLib and
   * GStreamer fd hand-overs */
  static const char *const calls[] = { "ftruncate", "pwrite64", "dup",
    "dup2", "dup3"
  };
  int ret = 0;

  for (size_t i = 0; i < N_ELEMENTS (calls) && ret == 0; i++)
    ret = allow_beyond_stdio (set, calls[i], 0, NULL);
  /* GstPxConnection makes its sockets non-blocking */
  for (size_t i = 0; i < N_ELEMENTS (fcntl_commands) && ret == 0; i++) {
    struct scmp_arg_cmp command = SCMP_A1 (SCMP_CMP_EQ, fcntl_commands[i]);

    ret = allow_beyond_stdio (set, "fcntl", 0, &command);
  }
  return ret;
}

/* Calls allowed with some arguments only. */
static int
add_argument_rules (RuleSet * set, bool own_pid_namespace)
{
  /* PR_SET_NAME/PR_GET_NAME: GLib and GStreamer name their threads;
   * PR_GET_NO_NEW_PRIVS, PR_GET_SECCOMP, PR_CAPBSET_READ: posture checks */
  static const int prctl_options[] = { PR_SET_NAME, PR_GET_NAME,
    PR_GET_NO_NEW_PRIVS, PR_GET_SECCOMP, PR_CAPBSET_READ
  };
  /* descriptor flags and status (GLib, GstPoll), arena seals; F_SETFL
   * and the dups: add_own_fd_rules(), F_ADD_SEALS: add_seal_rules() */
  static const int fcntl_commands[] = { F_GETFD, F_SETFD, F_GETFL,
    F_GET_SEALS
  };
  /* TCGETS: isatty() in glibc stdio and GLib logging; FIONREAD: GSocket */
  static const unsigned long ioctl_commands[] = { TCGETS, FIONREAD };
  int ret = 0;

  for (size_t i = 0; i < N_ELEMENTS (prctl_options) && ret == 0; i++)
    ret = RULE (set, "prctl", SCMP_ACT_ALLOW,
        SCMP_A0 (SCMP_CMP_EQ, prctl_options[i]));
  for (size_t i = 0; i < N_ELEMENTS (fcntl_commands) && ret == 0; i++)
    ret = RULE (set, "fcntl", SCMP_ACT_ALLOW,
        SCMP_A1 (SCMP_CMP_EQ, fcntl_commands[i]));
  for (size_t i = 0; i < N_ELEMENTS (ioctl_commands) && ret == 0; i++)
    ret = RULE (set, "ioctl", SCMP_ACT_ALLOW,
        SCMP_A1 (SCMP_CMP_EQ, ioctl_commands[i]));
  /* reading its own limits: sysconf (_SC_OPEN_MAX), pthread stack size */
  if (ret == 0)
    ret = RULE (set, "prlimit64", SCMP_ACT_ALLOW, SCMP_A0 (SCMP_CMP_EQ, 0),
        SCMP_A2 (SCMP_CMP_EQ, 0));
  if (ret == 0)
    ret = ruleset_add (set, "getrlimit", SCMP_ACT_ALLOW, NULL, 0);
  /* GThreadPool gives each new thread its creator's scheduling settings,
   * naming the thread by its tid. In its own PID namespace the worker can
   * name no task but its own threads and its reaper; otherwise only the
   * calling thread (0). Without CAP_SYS_NICE it cannot raise anything. */
  if (ret == 0 && own_pid_namespace)
    ret = ruleset_add (set, "sched_setattr", SCMP_ACT_ALLOW, NULL, 0);
  else if (ret == 0)
    ret = RULE (set, "sched_setattr", SCMP_ACT_ALLOW, SCMP_A0 (SCMP_CMP_EQ, 0));
  /* a connected pair reaches nothing in the worker's own network
   * namespace: GstPoll and GLib wake-up fallbacks (not with-network:
   * add_network_rules()) */
  if (ret == 0)
    ret = RULE (set, "socketpair", SCMP_ACT_ALLOW,
        SCMP_A0 (SCMP_CMP_EQ, AF_UNIX));
  if (ret == 0)
    ret = add_seal_rules (set);
  if (ret == 0)
    ret = add_own_fd_rules (set);
  return ret;
}

/* fstat() is newfstatat (fd, "", AT_EMPTY_PATH) in glibc >= 2.33, and GIO
 * uses statx the same way: allowed on held fds, EACCES with a path. */
static int
add_fstat_rules (RuleSet * set)
{
  static const struct
  {
    const char *name;
    unsigned flags_arg;
  } calls[] = { {"newfstatat", 3}, {"statx", 2} };
  int ret = 0;

  for (size_t i = 0; i < N_ELEMENTS (calls) && ret == 0; i++) {
    unsigned arg = calls[i].flags_arg;

    ret = RULE (set, calls[i].name, SCMP_ACT_ALLOW,
        SCMP_CMP (arg, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
    if (ret == 0)
      ret = RULE (set, calls[i].name, SCMP_ACT_ERRNO (EACCES),
          SCMP_CMP (arg, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0));
  }
  return ret;
}

static int
add_common_rules (RuleSet * set, pid_t self, bool own_pid_namespace)
{
  int ret;

  set->default_action = SCMP_ACT_ERRNO (EPERM);
  ret = ruleset_add_names (set, ACT_KILL, kill_list, N_ELEMENTS (kill_list));
  if (ret == 0)
    ret = ruleset_add_names (set, SCMP_ACT_ALLOW, compute_allowed,
        N_ELEMENTS (compute_allowed));
  if (ret == 0)
    ret = add_memory_rules (set);
  if (ret == 0)
    ret = add_thread_rules (set);
  if (ret == 0)
    ret = add_signal_rules (set, self);
  if (ret == 0)
    ret = add_argument_rules (set, own_pid_namespace);
  if (ret == 0)
    ret = add_fstat_rules (set);
  if (ret == 0)
    ret = ruleset_add_names (set, SCMP_ACT_ERRNO (EACCES), path_calls,
        N_ELEMENTS (path_calls));
  return ret;
}

/* Replaces the rules of @names by one unconditional @action each. */
static int
ruleset_set_names (RuleSet * set, uint32_t action, const char *const *names,
    size_t n_names)
{
  for (size_t i = 0; i < n_names; i++)
    ruleset_remove (set, names[i]);
  return ruleset_add_names (set, action, names, n_names);
}

static int
add_network_rules (RuleSet * set)
{
  int ret;

  ret = ruleset_set_names (set, SCMP_ACT_ALLOW, path_reads,
      N_ELEMENTS (path_reads));
  if (ret == 0)
    ret = ruleset_add_names (set, SCMP_ACT_ALLOW, network_allowed,
        N_ELEMENTS (network_allowed));
  /* IPv4 and IPv6 for the elements; NETLINK_ROUTE for getaddrinfo's
   * AI_ADDRCONFIG. Not AF_UNIX: abstract sockets of the host's network
   * namespace (X11, D-Bus) would be reachable. */
  if (ret == 0)
    ret = RULE (set, "socket", SCMP_ACT_ALLOW, SCMP_A0 (SCMP_CMP_EQ, AF_INET));
  if (ret == 0)
    ret = RULE (set, "socket", SCMP_ACT_ALLOW, SCMP_A0 (SCMP_CMP_EQ, AF_INET6));
  if (ret == 0)
    ret = RULE (set, "socket", SCMP_ACT_ALLOW,
        SCMP_A0 (SCMP_CMP_EQ, AF_NETLINK),
        SCMP_A2 (SCMP_CMP_EQ, NETLINK_ROUTE));
  /* No new AF_UNIX socket either: bind (@name) or sendto (@name) on one
   * of a socketpair would reach the host's abstract names. The lockdown
   * gives every AF_UNIX socket the worker holds an address first, so
   * that bind fails on those (px-sandbox-lockdown.c). */
  if (ret == 0) {
    ruleset_remove (set, "socketpair");
    ret = ruleset_add (set, "socketpair", SCMP_ACT_ERRNO (EAFNOSUPPORT),
        NULL, 0);
  }
  return ret;
}

/* with-filesystem: what a file the worker writes may not be. Its mounts
 * are nosuid and nodev, but only in the worker's view: on the host the
 * same file would keep a set-id bit, and a device node or a link would be
 * followed by whoever opens it there. So no set-id bit is ever asked for
 * (open, creat, chmod, ...: EPERM, the default, when the mode has
 * S_ISUID or S_ISGID), no node that is not a file or a directory is made
 * (mknod: EACCES) and no link (EPERM). openat2 keeps its mode in memory
 * the filter cannot read: ENOSYS, as on kernels without it. */
static int
add_file_mode_rules (RuleSet * set)
{
  static const struct
  {
    const char *name;
    unsigned mode_arg;
  } calls[] = {
    {"open", 2}, {"openat", 3}, {"creat", 1}, {"chmod", 1}, {"fchmod", 1},
    {"fchmodat", 2}, {"fchmodat2", 2},
  };
  static const char *const devices[] = { "mknod", "mknodat" };
  static const char *const links[] = { "link", "linkat", "symlink",
    "symlinkat"
  };
  int ret = 0;

  for (size_t i = 0; i < N_ELEMENTS (calls) && ret == 0; i++) {
    ruleset_remove (set, calls[i].name);
    ret = RULE (set, calls[i].name, SCMP_ACT_ALLOW,
        SCMP_CMP (calls[i].mode_arg, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0));
  }
  if (ret == 0)
    ret = ruleset_set_names (set, SCMP_ACT_ERRNO (EACCES), devices,
        N_ELEMENTS (devices));
  for (size_t i = 0; i < N_ELEMENTS (links) && ret == 0; i++)
    ruleset_remove (set, links[i]);
  if (ret == 0) {
    ruleset_remove (set, "openat2");
    ret = ruleset_add (set, "openat2", SCMP_ACT_ERRNO (ENOSYS), NULL, 0);
  }
  return ret;
}

static int
add_filesystem_rules (RuleSet * set)
{
  int ret;

  /* The mounts decide where: only the listed paths exist, read-only ones
   * are mounted read-only. */
  ret = ruleset_set_names (set, SCMP_ACT_ALLOW, path_calls,
      N_ELEMENTS (path_calls));
  if (ret == 0)
    ret = ruleset_set_names (set, SCMP_ACT_ALLOW, path_reads,
        N_ELEMENTS (path_reads));
  if (ret == 0)
    ret = add_file_mode_rules (set);
  if (ret == 0)
    ret = ruleset_add_names (set, SCMP_ACT_ALLOW, filesystem_allowed,
        N_ELEMENTS (filesystem_allowed));
  return ret;
}

static int
build_policy (PxSandboxPolicy policy, pid_t self, bool own_pid_namespace,
    RuleSet * set)
{
  int ret = add_common_rules (set, self, own_pid_namespace);

  if (ret < 0)
    return ret;
  switch (policy) {
    case PX_SANDBOX_POLICY_MINIMAL_COMPUTE:
      /* no new sockets: the network namespace is empty anyway */
      return ruleset_add (set, "socket", ACT_KILL, NULL, 0);
    case PX_SANDBOX_POLICY_WITH_NETWORK:
      return add_network_rules (set);
    case PX_SANDBOX_POLICY_WITH_FILESYSTEM:
      ret = add_filesystem_rules (set);
      if (ret == 0)
        ret = ruleset_add (set, "socket", ACT_KILL, NULL, 0);
      return ret;
    default:
      return -EINVAL;
  }
}

/* ---- Rules files -------------------------------------------------------- */

static bool
name_in (const char *name, const char *const *names, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (strcmp (name, names[i]) == 0)
      return true;
  }
  return false;
}

static bool
is_protected (const char *name)
{
  return name_in (name, kill_list, N_ELEMENTS (kill_list)) ||
      name_in (name, protected_names, N_ELEMENTS (protected_names));
}

/* Splits a copy of @line on blanks. Returns the token count or -E2BIG. */
static int
tokenize (char *line, char **tokens)
{
  char *save = NULL;
  int n = 0;

  for (char *t = strtok_r (line, " \t", &save); t != NULL;
      t = strtok_r (NULL, " \t", &save)) {
    if (n == MAX_TOKENS)
      return -E2BIG;
    tokens[n++] = t;
  }
  return n;
}

static int
parse_number (const char *text, uint64_t * out)
{
  char *end = NULL;
  unsigned long long value;

  if (text[0] == '-' || text[0] == '\0')
    return -EINVAL;
  errno = 0;
  value = strtoull (text, &end, 0);
  if (errno != 0 || *end != '\0')
    return -EINVAL;
  *out = value;
  return 0;
}

static int
parse_errno (const char *text, int *out)
{
  static const struct
  {
    const char *name;
    int value;
  } names[] = {
    {"EPERM", EPERM}, {"EACCES", EACCES}, {"ENOSYS", ENOSYS},
    {"EINVAL", EINVAL}, {"ENOENT", ENOENT}, {"EROFS", EROFS},
    {"EAFNOSUPPORT", EAFNOSUPPORT}, {"EOPNOTSUPP", EOPNOTSUPP},
    {"ENOTTY", ENOTTY}, {"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM},
  };
  uint64_t value;

  for (size_t i = 0; i < N_ELEMENTS (names); i++) {
    if (strcmp (text, names[i].name) == 0) {
      *out = names[i].value;
      return 0;
    }
  }
  if (parse_number (text, &value) < 0 || value == 0 || value > 4095)
    return -EINVAL;
  *out = (int) value;
  return 0;
}

/* "allow", "kill" or "errno E" at tokens[0..]; returns the tokens used. */
static int
parse_action (char **tokens, int n, uint32_t * action)
{
  int e;

  if (n >= 1 && strcmp (tokens[0], "allow") == 0) {
    *action = SCMP_ACT_ALLOW;
    return 1;
  }
  if (n >= 1 && strcmp (tokens[0], "kill") == 0) {
    *action = ACT_KILL;
    return 1;
  }
  if (n >= 2 && strcmp (tokens[0], "errno") == 0 &&
      parse_errno (tokens[1], &e) == 0) {
    *action = SCMP_ACT_ERRNO (e);
    return 2;
  }
  return -EINVAL;
}

/* "argN OP VALUE" or "argN & MASK == VALUE"; returns the tokens used. */
static int
parse_condition (char **tokens, int n, struct scmp_arg_cmp *cmp)
{
  static const struct
  {
    const char *text;
    enum scmp_compare op;
  } ops[] = {
    {"==", SCMP_CMP_EQ}, {"!=", SCMP_CMP_NE}, {"<", SCMP_CMP_LT},
    {"<=", SCMP_CMP_LE}, {">", SCMP_CMP_GT}, {">=", SCMP_CMP_GE},
  };
  uint64_t a, b;

  if (n < 3 || strncmp (tokens[0], "arg", 3) != 0 ||
      tokens[0][3] < '0' || tokens[0][3] > '5' || tokens[0][4] != '\0')
    return -EINVAL;
  cmp->arg = (unsigned) (tokens[0][3] - '0');
  if (strcmp (tokens[1], "&") == 0) {
    if (n < 5 || strcmp (tokens[3], "==") != 0 ||
        parse_number (tokens[2], &a) < 0 || parse_number (tokens[4], &b) < 0)
      return -EINVAL;
    cmp->op = SCMP_CMP_MASKED_EQ;
    cmp->datum_a = a;
    cmp->datum_b = b;
    return 5;
  }
  for (size_t i = 0; i < N_ELEMENTS (ops); i++) {
    if (strcmp (tokens[1], ops[i].text) == 0 &&
        parse_number (tokens[2], &a) == 0) {
      cmp->op = ops[i].op;
      cmp->datum_a = a;
      cmp->datum_b = 0;
      return 3;
    }
  }
  return -EINVAL;
}

/* "default kill" / "default errno E". */
static int
parse_default (char **tokens, int n, RuleSet * set, char **error, unsigned line)
{
  uint32_t action;
  int used = parse_action (tokens + 1, n - 1, &action);

  if (used < 0 || used != n - 1 || action == SCMP_ACT_ALLOW)
    return px_sandbox_fail (error, 0, -EINVAL, "line %u: \"default\" takes "
        "\"kill\" or \"errno E\" (never \"allow\")", line);
  set->default_action = action;
  return 0;
}

/* One rule line: action, syscall, conditions. The first rule of the file
 * for a syscall replaces the base's rules for it. */
static int
parse_rule (char **tokens, int n, RuleSet * set, char **error, unsigned line)
{
  struct scmp_arg_cmp args[MAX_CONDITIONS];
  unsigned n_args = 0;
  uint32_t action;
  const char *name;
  int i = parse_action (tokens, n, &action);
  bool seen = false;

  if (i < 0 || i >= n)
    return px_sandbox_fail (error, 0, -EINVAL, "line %u: expected \"allow\", "
        "\"kill\" or \"errno E\", then a syscall", line);
  name = tokens[i++];
  if (seccomp_syscall_resolve_name (name) == __NR_SCMP_ERROR ||
      strlen (name) >= MAX_NAME)
    return px_sandbox_fail (error, 0, -EINVAL, "line %u: unknown syscall "
        "\"%s\"", line, name);
  if (is_protected (name))
    return px_sandbox_fail (error, 0, -EPERM, "line %u: the rules for %s "
        "cannot be changed", line, name);
  while (i < n) {
    int used = n_args < MAX_CONDITIONS ?
        parse_condition (tokens + i, n - i, &args[n_args]) : -E2BIG;

    if (used < 0)
      return px_sandbox_fail (error, 0, -EINVAL, "line %u: bad condition at "
          "\"%s\" (at most %u of \"argN OP VALUE\" or \"argN & MASK == "
          "VALUE\")", line, tokens[i], MAX_CONDITIONS);
    n_args++;
    i += used;
  }
  for (size_t r = 0; r < set->n_rules; r++)
    seen |= set->rules[r].from_file && strcmp (set->rules[r].name, name) == 0;
  if (!seen)
    ruleset_remove (set, name);
  if (ruleset_add (set, name, action, args, n_args) < 0)
    return -ENOMEM;
  set->rules[set->n_rules - 1].from_file = true;
  return 0;
}

static int
apply_rules_line (const char *text, RuleSet * set, char **error, unsigned line)
{
  char *tokens[MAX_TOKENS];
  char *copy = strdup (text);
  int n, ret = 0;

  if (copy == NULL)
    return -ENOMEM;
  n = tokenize (copy, tokens);
  if (n < 0)
    ret = px_sandbox_fail (error, 0, -EINVAL, "line %u: too long", line);
  else if (n == 0 || strcmp (tokens[0], "base") == 0)
    ret = 0;                    /* handled by px_sandbox_rules_base() */
  else if (strcmp (tokens[0], "default") == 0)
    ret = parse_default (tokens, n, set, error, line);
  else
    ret = parse_rule (tokens, n, set, error, line);
  free (copy);
  return ret;
}

/* libseccomp keeps an unconditional rule and silently drops conditional
 * rules of another action for the same syscall: refuse such a mix. */
static int
check_conflicts (const RuleSet * set, char **error)
{
  for (size_t i = 0; i < set->n_rules; i++) {
    const Rule *a = &set->rules[i];

    for (size_t j = 0; j < set->n_rules; j++) {
      const Rule *b = &set->rules[j];

      if (i != j && a->n_args == 0 && strcmp (a->name, b->name) == 0 &&
          a->action != b->action)
        return px_sandbox_fail (error, 0, -EINVAL, "%s: a rule without "
            "conditions cannot be combined with rules of another action",
            a->name);
    }
  }
  return 0;
}

/* Does @line allow one of the path-based calls? */
static bool
line_allows_path_call (const char *line)
{
  char *tokens[MAX_TOKENS];
  char *copy = strdup (line);
  uint32_t action;
  bool allows = false;
  int n, used;

  if (copy == NULL)
    return true;                /* assume the worst */
  n = tokenize (copy, tokens);
  used = n > 0 ? parse_action (tokens, n, &action) : -1;
  if (used > 0 && used < n && action == SCMP_ACT_ALLOW)
    allows = name_in (tokens[used], path_calls, N_ELEMENTS (path_calls)) ||
        name_in (tokens[used], path_reads, N_ELEMENTS (path_reads));
  free (copy);
  return allows;
}

bool
px_seccomp_policy_opens_paths (PxSandboxPolicy policy, const char *const *rules)
{
  PxSandboxPolicy base = policy;

  if (policy == PX_SANDBOX_POLICY_CUSTOM &&
      px_sandbox_rules_base (rules, &base) < 0)
    return true;
  if (base != PX_SANDBOX_POLICY_MINIMAL_COMPUTE)
    return true;
  for (size_t i = 0; policy == PX_SANDBOX_POLICY_CUSTOM && rules != NULL &&
      rules[i] != NULL; i++) {
    if (line_allows_path_call (rules[i]))
      return true;
  }
  return false;
}

static int
build_custom (const char *const *rules, pid_t self, bool own_pid_namespace,
    RuleSet * set, char **error)
{
  PxSandboxPolicy base;
  int ret;

  if (px_sandbox_rules_base (rules, &base) < 0)
    return px_sandbox_fail (error, 0, -EINVAL, "\"base\" must come first, "
        "once, and name a built-in policy");
  ret = build_policy (base, self, own_pid_namespace, set);
  for (size_t i = 0; ret == 0 && rules != NULL && rules[i] != NULL; i++)
    ret = apply_rules_line (rules[i], set, error, (unsigned) i + 1);
  if (ret == 0 && px_sandbox_strv_length (rules) > PX_SANDBOX_MAX_RULES)
    ret = px_sandbox_fail (error, 0, -E2BIG, "more than %u rules",
        PX_SANDBOX_MAX_RULES);
  return ret;
}

int
px_seccomp_read_rules_file (const char *path, char ***out_lines, char **error)
{
  char *text = NULL, *save = NULL, **lines;
  size_t n = 0;
  int ret = px_sandbox_read_file (path, RULES_FILE_MAX_SIZE, &text);

  if (ret < 0)
    return px_sandbox_fail (error, 0, ret, "%s", path);
  lines = calloc (PX_SANDBOX_MAX_RULES + 1, sizeof *lines);
  for (char *l = strtok_r (text, "\n", &save); lines != NULL && l != NULL;
      l = strtok_r (NULL, "\n", &save)) {
    char *end;

    l[strcspn (l, "#")] = '\0';
    l += strspn (l, " \t\r");
    for (end = l + strlen (l); end > l && strchr (" \t\r", end[-1]); end--)
      end[-1] = '\0';
    if (*l == '\0')
      continue;
    if (n == PX_SANDBOX_MAX_RULES || (lines[n++] = strdup (l)) == NULL) {
      ret = n == PX_SANDBOX_MAX_RULES ? -E2BIG : -ENOMEM;
      break;
    }
  }
  free (text);
  if (lines == NULL || ret < 0) {
    px_sandbox_args_free (lines);
    return px_sandbox_fail (error, 0, lines ? ret : -ENOMEM, "%s", path);
  }
  *out_lines = lines;
  return 0;
}

/* ---- Filters ------------------------------------------------------------ */

static int
compile (const RuleSet * set, scmp_filter_ctx * out, char **error)
{
  scmp_filter_ctx ctx = seccomp_init (set->default_action);
  int ret = 0;

  if (ctx == NULL)
    return -ENOMEM;
  /* The kill action needs a listener on a filter synchronised to every
   * thread: refused rather than weakened where the kernel (< 5.7) or
   * libseccomp cannot combine the two. */
  if (seccomp_api_get () < API_NOTIFY_WITH_TSYNC) {
    seccomp_release (ctx);
    return px_sandbox_fail (error, 0, -EOPNOTSUPP, "user notification with "
        "TSYNC needs Linux 5.7 and libseccomp 2.5 (API level %u, have %u)",
        API_NOTIFY_WITH_TSYNC, seccomp_api_get ());
  }
  /* i386 and x32 syscalls on x86_64 are reported and fatal: no foreign
   * architecture is added to the filter. */
  ret = seccomp_attr_set (ctx, SCMP_FLTATR_ACT_BADARCH, ACT_KILL);
  if (ret == 0)
    ret = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  /* no_new_privs is a layer of its own, set before the filter */
  if (ret == 0)
    ret = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  /* a binary tree of syscalls rather than a linear list (speed only) */
  seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  for (size_t i = 0; ret == 0 && i < set->n_rules; i++) {
    const Rule *rule = &set->rules[i];
    int nr = seccomp_syscall_resolve_name (rule->name);

    /* not a syscall of this architecture, or the default already */
    if (nr < 0 || rule->action == set->default_action)
      continue;
    ret = seccomp_rule_add_array (ctx, rule->action, nr, rule->n_args,
        rule->args);
    if (ret < 0)
      px_sandbox_fail (error, 0, ret, "rule for %s", rule->name);
  }
  if (ret < 0) {
    seccomp_release (ctx);
    return px_sandbox_fail (error, 0, ret, "building the filter");
  }
  *out = ctx;
  return 0;
}

int
px_seccomp_filter_new (PxSandboxPolicy policy, const char *const *rules,
    pid_t self, bool own_pid_namespace, PxSeccompFilter ** out, char **error)
{
  RuleSet set = { 0 };
  PxSeccompFilter *filter = NULL;
  scmp_filter_ctx ctx = NULL;
  int ret;

  if (policy == PX_SANDBOX_POLICY_CUSTOM)
    ret = build_custom (rules, self, own_pid_namespace, &set, error);
  else
    ret = build_policy (policy, self, own_pid_namespace, &set);
  if (ret == 0)
    ret = check_conflicts (&set, error);
  if (ret == 0)
    ret = compile (&set, &ctx, error);
  free (set.rules);
  if (ret < 0)
    return px_sandbox_fail (error, 0, ret, "policy %s",
        px_sandbox_policy_name (policy));
  filter = calloc (1, sizeof *filter);
  if (filter == NULL) {
    seccomp_release (ctx);
    return -ENOMEM;
  }
  filter->ctx = ctx;
  *out = filter;
  return 0;
}

int
px_seccomp_filter_load (PxSeccompFilter * filter, int *listener_fd,
    char **error)
{
  int ret = seccomp_load (filter->ctx);
  int fd;

  /* TSYNC failure: a thread runs under a filter that is not an ancestor of
   * this one (libseccomp reports -ESRCH); -EBUSY: a filter the process
   * inherited already has a listener (the kernel allows one per chain) */
  if (ret == -EBUSY)
    return px_sandbox_fail (error, 0, ret, "loading the filter: the process "
        "already runs under a filter with a listener (a supervisor outside "
        "Parallax)");
  if (ret < 0)
    return px_sandbox_fail (error, 0, ret, "loading the filter");
  fd = seccomp_notify_fd (filter->ctx);
  if (fd < 0)
    return px_sandbox_fail (error, 0, fd, "the filter has no listener");
  *listener_fd = fd;
  return 0;
}

void
px_seccomp_filter_free (PxSeccompFilter * filter)
{
  if (filter == NULL)
    return;
  seccomp_release (filter->ctx);
  free (filter);
}

/* ---- Violations --------------------------------------------------------- */

static const char *
arch_name (uint32_t arch)
{
  switch (arch) {
    case SCMP_ARCH_X86:
      return "i386";
    case SCMP_ARCH_X32:
      return "x32";
    case SCMP_ARCH_X86_64:
      return "x86_64";
    case SCMP_ARCH_AARCH64:
      return "aarch64";
    case SCMP_ARCH_ARM:
      return "arm";
    default:
      return NULL;
  }
}

int
px_sandbox_violation_name (int32_t nr, uint32_t arch, char *buf, size_t size)
{
  uint32_t scmp_arch = arch;
  char *name;
  const char *arch_text;
  char unknown_arch[32];
  int len;

  /* x32 shares x86_64's audit arch and marks its syscall numbers */
  if (arch == SCMP_ARCH_X86_64 && (nr & X32_SYSCALL_BIT))
    scmp_arch = SCMP_ARCH_X32;
  arch_text = arch_name (scmp_arch);
  if (arch_text == NULL) {
    snprintf (unknown_arch, sizeof unknown_arch, "arch 0x%x", arch);
    arch_text = unknown_arch;
  }
  name = arch != 0 ? seccomp_syscall_resolve_num_arch (scmp_arch, nr) : NULL;
  if (scmp_arch == seccomp_arch_native ())
    len = name ? snprintf (buf, size, "%s", name) :
        snprintf (buf, size, "syscall %d", nr);
  else
    len = name ? snprintf (buf, size, "%s (%s)", name, arch_text) :
        snprintf (buf, size, "syscall %d (%s)", nr, arch_text);
  free (name);
  if (len < 0)
    return -EINVAL;
  return (size_t) len < size ? len : -ENOSPC;
}
