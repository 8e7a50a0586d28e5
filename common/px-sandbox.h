/* Parallax — the sandbox that jails parallax-worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two halves, no GStreamer:
 *
 * - The host calls px_sandbox_spawn(): the worker starts in new user,
 *   mount, network, IPC, PID and UTS namespaces, with resource limits, a
 *   clean environment, only /dev/null (fds 0 and 1), a pipe the host reads
 *   as stderr (fd 2), the control socket (fd 3, then any other fd handed
 *   over) and the supervisor socket (PX_SANDBOX_SUPERVISOR_FD) open, and
 *   SIGKILL as its parent-death signal.
 * - The worker calls px_sandbox_lockdown_prepare() first thing in main(),
 *   then px_sandbox_lockdown() once its elements are in READY: empty file
 *   system root, no capabilities, no_new_privs, seccomp on every thread.
 *   The filter's listener goes to the host on the supervisor socket.
 * - The host supervises: px_sandbox_child_service() takes the listener and
 *   then reads, from the kernel, every call the filter stops: it kills the
 *   worker for most, and answers the W^X ones (executable memory) with
 *   EACCES;
 *   px_sandbox_child_check_posture() reads the worker's posture from /proc
 *   before anything else trusts it.
 *
 * The configuration reaches the worker on its command line: spawn inserts
 * "--px-sandbox-..." arguments right after argv[0], and the worker takes
 * them back with px_sandbox_config_take_from_args().
 *
 * Fail closed: a layer that cannot be applied makes spawn or lockdown fail
 * with an error naming it, unless the caller put it in allow_missing; then
 * the layer is reported missing instead.
 *
 * docs/security.md describes the threat model, the policies, the custom
 * rules file format and the limits.
 *
 * Errors are -errno. Output parameters are written only on success; an
 * error string, when asked for (*error NULL on entry), is allocated (free()
 * it) and only on failure.
 */
#ifndef PX_SANDBOX_H
#define PX_SANDBOX_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C"
{
#endif

/* The layers of the jail, in the order they are applied. */
  typedef enum
  {
    /* px_sandbox_spawn() */
    PX_SANDBOX_LAYER_USER_NAMESPACE = 1u << 0,
    PX_SANDBOX_LAYER_MOUNT_NAMESPACE = 1u << 1,
    PX_SANDBOX_LAYER_NETWORK_NAMESPACE = 1u << 2,
    PX_SANDBOX_LAYER_IPC_NAMESPACE = 1u << 3,
    PX_SANDBOX_LAYER_PID_NAMESPACE = 1u << 4,
    PX_SANDBOX_LAYER_UTS_NAMESPACE = 1u << 5,
    PX_SANDBOX_LAYER_LIMITS = 1u << 6,
    /* px_sandbox_lockdown() */
    PX_SANDBOX_LAYER_EMPTY_ROOT = 1u << 7,
    PX_SANDBOX_LAYER_CAPABILITIES = 1u << 8,
    PX_SANDBOX_LAYER_NO_NEW_PRIVS = 1u << 9,
    PX_SANDBOX_LAYER_SECCOMP = 1u << 10,
  } PxSandboxLayer;

#define PX_SANDBOX_NAMESPACE_LAYERS 0x3fu
#define PX_SANDBOX_SPAWN_LAYERS 0x7fu
#define PX_SANDBOX_LOCKDOWN_LAYERS 0x780u
#define PX_SANDBOX_ALL_LAYERS 0x7ffu

/* Seccomp policies. Every policy keeps the kill list (exec, ptrace, mount,
 * namespaces, bpf, ...), W^X and thread-only clone. */
  typedef enum
  {
    /* Threads, memory, time, I/O on fds already held. The default. */
    PX_SANDBOX_POLICY_MINIMAL_COMPUTE = 0,
    /* Plus IPv4/IPv6 sockets in the host's network namespace, and the
     * resolver's configuration files read-only. */
    PX_SANDBOX_POLICY_WITH_NETWORK,
    /* Plus path-based calls on read_only_paths / read_write_paths, which are
     * the only things visible in the worker's root. */
    PX_SANDBOX_POLICY_WITH_FILESYSTEM,
    /* A rules file on top of a built-in base (docs/security.md). */
    PX_SANDBOX_POLICY_CUSTOM,
  } PxSandboxPolicy;

/* How resource limits are enforced; also used as a mask of the mechanisms
 * a caller accepts. */
  typedef enum
  {
    PX_SANDBOX_LIMITS_NONE = 0,
    PX_SANDBOX_LIMITS_CGROUP_V2 = 1u << 0,
    PX_SANDBOX_LIMITS_CGROUP_V1 = 1u << 1,
    PX_SANDBOX_LIMITS_RLIMIT = 1u << 2,
  } PxSandboxLimitMechanism;

#define PX_SANDBOX_LIMITS_ANY 0x7u

#define PX_SANDBOX_MAX_PATHS 64u
#define PX_SANDBOX_MAX_FDS 8u   /* handed to the worker as 3, 4, ... */

/* The worker's end of the supervisor socket, past the handed-over fds and
 * the reaper's status socket that follows them.
 * px_sandbox_lockdown() sends the seccomp listener on it (one message:
 * PX_SANDBOX_LISTENER_MAGIC, SCM_RIGHTS with the fd) and closes it. */
#define PX_SANDBOX_SUPERVISOR_FD (3 + (int) PX_SANDBOX_MAX_FDS + 1)
#define PX_SANDBOX_LISTENER_MAGIC 0x4c584d50u   /* "PMXL" */
#define PX_SANDBOX_MAX_RULES 256u
#define PX_SANDBOX_MAX_ENV 128u

/* The ids a privileged caller's worker runs as by default (nobody and
 * nogroup on Debian). They must be mapped in the caller's user namespace. */
#define PX_SANDBOX_WORKER_UID 65534u
#define PX_SANDBOX_WORKER_GID 65534u

/* Zero-initialise (or px_sandbox_config_init()) and set what you need. The
 * string arrays are NULL-terminated and only borrowed. */
  typedef struct
  {
    PxSandboxPolicy policy;
    /* with-filesystem: absolute paths made visible in the worker's root. */
    const char *const *read_only_paths;
    const char *const *read_write_paths;
    /* custom: a rules file (read by the host at spawn time), or the rules
     * themselves, one per string. */
    const char *rules_file;
    const char *const *rules;

    /* Limits; 0 = no limit. cpu_percent is a share of one CPU (200 = two). */
    uint64_t memory_bytes;
    unsigned cpu_percent;
    unsigned pids;
    /* PxSandboxLimitMechanism mask the caller accepts; 0 = any, tried in the
     * order cgroup v2, cgroup v1, rlimits. */
    unsigned limit_mechanisms;
    /* cgroup v2: a delegated cgroup to create the worker's cgroup in; NULL =
     * the caller's own cgroup. */
    const char *cgroup_parent;

    /* PxSandboxLayer mask of layers the worker may run without. */
    unsigned allow_missing;

    /* The host uid/gid the worker runs as. An unprivileged caller's worker
     * always runs as the caller. A privileged (euid 0) caller's runs as
     * PX_SANDBOX_WORKER_UID/GID (nobody/nogroup), never as root, unless
     * change_ids names other ids or run_as_caller keeps the caller's own:
     * a worker mapped to root owns every root-owned file until the lockdown,
     * and what it writes under read_write_paths is root's. */
    bool change_ids;
    uid_t uid;
    gid_t gid;
    bool run_as_caller;

    /* The worker's whole environment: "NAME=value" is passed as is, "NAME"
     * copies the caller's value if it has one. Nothing else is passed. */
    const char *const *env;

    /* Filled in by px_sandbox_spawn() in the worker's copy: the layers spawn
     * applied (lockdown needs MOUNT_NAMESPACE for the empty root), and the
     * fd of the reaper's status socket (0: none). Callers leave them 0. */
    unsigned spawned_layers;
    int reaper_fd;
  } PxSandboxConfig;

/* A spawned worker. pid and pidfd stay valid until
 * px_sandbox_child_cleanup(). pid is the worker's. pidfd is the spawned
 * process: the worker, or, with a PID namespace, its reaper (the
 * namespace's PID 1, which only reaps the worker and reports how it
 * ended: docs/security.md); waiting and killing go through it, and
 * px_sandbox_child_wait() reports the worker's own end either way. */
  typedef struct
  {
    pid_t pid;
    int pidfd;
    /* Spawn layers applied, and those the config wanted but could do without
     * (allowed by allow_missing). */
    unsigned applied;
    unsigned missing;
    PxSandboxLimitMechanism limits;
    /* "running without: ..." when missing != 0, else NULL. */
    char *warning;
    /* The read end of the worker's stderr (its fd 2 is the write end of a
     * pipe of its own, never the caller's stderr), non-blocking, CLOEXEC;
     * closed by px_sandbox_child_cleanup(). Read it: once the pipe is full,
     * the worker's writes to stderr fail with EAGAIN (they never block). */
    int stderr_fd;

    /* private */
    unsigned n_cgroups;
    char *cgroups[3];
    bool reaped;
    pid_t reaper_pid;           /* 0: no reaper */
    int status_fd;              /* the reaper's records */
    int supervisor_fd;          /* until the listener came, or closed */
    int listener_fd;            /* the worker's seccomp listener */
    bool listener_taken;
    unsigned refused_calls;     /* W^X calls answered EACCES, in all */
    unsigned refused_kinds;     /* which syscalls of them, as bits */
    unsigned refusals_spent;    /* of the burst (see below) */
    uint64_t refusals_clock;    /* ns, CLOCK_MONOTONIC; 0 before the first */
  } PxSandboxChild;

/* The W^X calls the supervisor answers with EACCES (so that a library
 * probing for JIT memory falls back) before it kills the worker instead:
 * a burst of PX_SANDBOX_REFUSAL_BURST, then PX_SANDBOX_REFUSALS_PER_SECOND.
 * Each costs the host a round trip on the listener; libraries give up
 * after the first refusal, a worker that keeps asking is not probing. */
#define PX_SANDBOX_REFUSAL_BURST 64u
#define PX_SANDBOX_REFUSALS_PER_SECOND 1u

/* What the supervisor did with a call the filter stopped. */
  typedef enum
  {
    /* A call of the kill list (exec, ptrace, a process clone, ...): the
     * worker is being killed. */
    PX_SANDBOX_VERDICT_KILLED,
    /* A W^X call (mmap, mprotect or pkey_mprotect asking for PROT_EXEC):
     * answered with EACCES, as a security module refuses such a mapping;
     * the worker goes on. */
    PX_SANDBOX_VERDICT_REFUSED,
    /* A W^X call past PX_SANDBOX_REFUSAL_BURST: the worker is being
     * killed. */
    PX_SANDBOX_VERDICT_FLOODED,
  } PxSandboxVerdict;

/* A call the seccomp filter stopped, as the kernel reported it to the
 * supervisor (struct seccomp_notif), and what the supervisor did. */
  typedef struct
  {
    PxSandboxVerdict verdict;
    /* The worker's W^X calls refused so far (this one included when it
     * was refused). */
    unsigned refused_calls;
    /* Refused, and the first refusal of this syscall for this worker. */
    bool first_of_its_kind;
    pid_t tid;                  /* the calling thread, in the host's view */
    int32_t nr;
    uint32_t arch;              /* AUDIT_ARCH_* */
    uint64_t instruction_pointer;
    uint64_t args[6];
    /* The first string argument (execve's path, ...), read from the
     * worker's memory while the thread waited; "" when none or unreadable. */
    char text[128];
  } PxSandboxViolation;

  void px_sandbox_config_init (PxSandboxConfig * config);

/* "user-namespace", "limits", "seccomp", ...; "unknown" for anything that
 * is not exactly one layer. */
  const char *px_sandbox_layer_name (unsigned layer);

/* Writes "a, b, c" ("none" for 0) into @buf. Returns the length, or
 * -ENOSPC when it does not fit (buf then holds a truncated string). */
  int px_sandbox_layers_format (unsigned layers, char *buf, size_t size);

/* "minimal-compute", "with-network", "with-filesystem", "custom". */
  const char *px_sandbox_policy_name (PxSandboxPolicy policy);
  int px_sandbox_policy_from_name (const char *name, PxSandboxPolicy * out);

/* "cgroup-v2", "cgroup-v1", "rlimit", "none". */
  const char *px_sandbox_limit_mechanism_name (PxSandboxLimitMechanism m);

/* The layers @config asks for: every namespace but the network one under
 * with-network, LIMITS when a limit is set, and the four lockdown layers.
 * A custom policy counts as its base. */
  unsigned px_sandbox_config_wanted_layers (const PxSandboxConfig * config);

/* ---- Host side ---------------------------------------------------------- */

/* Starts @worker_path with @argv (argv[0] first, NULL-terminated; the
 * sandbox arguments are inserted after argv[0]). @control_fd becomes fd 3
 * in the worker; the caller keeps its own copy. On success fills @child.
 *
 * PR_SET_PDEATHSIG is tied to the calling *thread*: spawn from a thread
 * that lives as long as the worker should (the supervisor's). The worker
 * exits with SIGCHLD: a process that ignores SIGCHLD or reaps every child
 * (waitpid (-1, ...)) takes its exit status away from
 * px_sandbox_child_wait().
 *
 * Errors: -EINVAL (bad config), -EPERM (change_ids without privileges), or
 * the -errno of the layer that failed, named in *@error. */
  int px_sandbox_spawn (const char *worker_path, const char *const *argv,
      int control_fd, const PxSandboxConfig * config, PxSandboxChild * child,
      char **error);

/* Same, handing over @n_fds (1 .. PX_SANDBOX_MAX_FDS) fds: fds[0] (the
 * control socket) becomes 3 in the worker, fds[1] 4, and so on (data
 * sockets, for instance). Nothing else is open but 0, 1 and 2. */
  int px_sandbox_spawn_fds (const char *worker_path, const char *const *argv,
      const int *fds, unsigned n_fds, const PxSandboxConfig * config,
      PxSandboxChild * child, char **error);

/* Reaps the worker: blocks until it exits, or with @block false returns
 * -EAGAIN while it runs. Fills @info (si_code CLD_EXITED / CLD_KILLED /
 * CLD_DUMPED, si_status). -ECHILD once reaped. */
  int px_sandbox_child_wait (PxSandboxChild * child, bool block,
      siginfo_t * info);

/* SIGKILL through the pidfd. It reads what px_sandbox_child_wait()
 * writes: a caller that kills from another thread than the one that reaps
 * holds a lock of its own around both. */
  int px_sandbox_child_kill (PxSandboxChild * child);

/* What to poll (POLLIN) for the worker's seccomp listener and then for its
 * violations: the supervisor socket until the listener came, then the
 * listener; -1 when there is neither (the worker closed the socket without
 * a listener, or after px_sandbox_child_cleanup()). Poll it from the
 * thread that supervises, without fail: while nobody reads the listener,
 * a worker thread that made a killed call waits in the kernel. */
  int px_sandbox_child_watch_fd (const PxSandboxChild * child);

/* Call when px_sandbox_child_watch_fd() is readable (or hung up). Takes the
 * listener the worker hands over at lockdown (returns 0), or reads one
 * stopped call, fills @violation and returns 1: a W^X call (mmap, mprotect
 * or pkey_mprotect of the native ABI with PROT_EXEC in its prot argument,
 * the only calls the filter sends here that the worker survives) is
 * answered with -EACCES (PX_SANDBOX_VERDICT_REFUSED) while the budget of
 * PX_SANDBOX_REFUSAL_BURST lasts; anything else, or a W^X call past the
 * budget, kills the worker (KILLED, FLOODED). Returns 0 too for a call
 * that vanished before it could be read, and when the worker closed its
 * supervisor socket without a listener (watch_fd is -1 then). -EPROTO:
 * the worker handed over something that is not a seccomp listener, or
 * more than one fd; it is killed. Never blocks. */
  int px_sandbox_child_service (PxSandboxChild * child,
      PxSandboxViolation * violation);

/* True once the worker has handed its listener over. */
  bool px_sandbox_child_has_listener (const PxSandboxChild * child);

/* "execve (pathname=\"/bin/sh\", argv=0x7ffc..., envp=0x0)" in @buf: the
 * syscall's name (px_sandbox_violation_name()) and its arguments, decoded
 * for the calls the policies kill or refuse (flags, protections, signals,
 * address families by name), as hexadecimal otherwise. Returns the length
 * or -ENOSPC. */
  int px_sandbox_violation_describe (const PxSandboxViolation * violation,
      char *buf, size_t size);

/* Reads the worker's posture from /proc, from outside: for every thread
 * Seccomp 2 (with one filter more than the host has), NoNewPrivs 1,
 * CapEff and CapPrm 0; each namespace different from the host's; a root
 * that is not the host's; no seccomp listener left among its fds. A layer
 * @config wants must be found unless it allows it missing; a layer in
 * @claimed (what the worker says it applied) must be found. *@verified:
 * the layers found (spawn's LIMITS as spawn applied them, SECCOMP only
 * with the listener in hand). -EPERM with what is wrong in *@error. */
  int px_sandbox_child_check_posture (const PxSandboxChild * child,
      const PxSandboxConfig * config, unsigned claimed, unsigned *verified,
      char **error);

/* The memory the worker holds, as /proc shows it: its address space
 * (VmSize, which RLIMIT_AS bounds) plus the allocated pages of every memfd
 * it keeps an fd to without mapping it (which no rlimit bounds). Under
 * cgroups the memory controller counts all of it itself. -ESRCH when the
 * worker is gone, -errno when /proc cannot be read. */
  int px_sandbox_child_memory_held (const PxSandboxChild * child,
      uint64_t * held);

/* Kills and reaps the worker if that has not happened yet, removes its
 * cgroups and closes the pidfd. Safe to call twice. */
  void px_sandbox_child_cleanup (PxSandboxChild * child);

/* Serializes what the worker needs from @config into @out_args (a
 * NULL-terminated array of allocated strings; free with
 * px_sandbox_args_free()). px_sandbox_spawn() does this itself. */
  int px_sandbox_config_to_args (const PxSandboxConfig * config,
      char ***out_args);
  void px_sandbox_args_free (char **args);

/* ---- Worker side -------------------------------------------------------- */

/* Finds the "--px-sandbox-..." arguments that follow argv[0], parses them
 * and removes them from argv (argc updated, argv[argc] = NULL). The result
 * points into argv's strings; free it with px_sandbox_config_free().
 * -ENOENT when there are none, -EINVAL when one is malformed.
 *
 * Call it first in main (), while the process has one thread: in a PID
 * namespace of its own it forks, and the process that returns is the
 * worker, no longer PID 1 (its parent stays, as the reaper). */
  int px_sandbox_config_take_from_args (int *argc, char **argv,
      PxSandboxConfig ** out);
  void px_sandbox_config_free (PxSandboxConfig * config);

/* Call while the process has a single thread, before gst_init. Drops the
 * capabilities of the calling thread, so that every thread started later
 * has none, and keeps one helper thread that holds CAP_SYS_ADMIN in the
 * worker's user namespace until px_sandbox_lockdown() has built the empty
 * root. -EBUSY if other threads already exist. */
  int px_sandbox_lockdown_prepare (void);

/* Applies, in this order: empty root, no capabilities, no_new_privs,
 * seccomp (all threads), whose listener goes to the supervisor on
 * PX_SANDBOX_SUPERVISOR_FD (seccomp fails without that socket); then
 * closes the supervisor socket. On success *@applied =
 * config->spawned_layers | the lockdown layers applied; a layer in
 * config->allow_missing that fails is left out. Without
 * px_sandbox_lockdown_prepare() the process must be single-threaded, or
 * the capabilities layer fails. */
  int px_sandbox_lockdown (const PxSandboxConfig * config, unsigned *applied,
      char **error);

/* A readable name for a refused syscall: "execve", or "execve (i386)" for
 * a foreign ABI, or "syscall 1234". Returns the length or -ENOSPC. */
  int px_sandbox_violation_name (int32_t nr, uint32_t arch, char *buf,
      size_t size);

#ifdef __cplusplus
}
#endif
#endif                          /* PX_SANDBOX_H */
