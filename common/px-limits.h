/* Parallax — memory, CPU and pids limits of a sandboxed worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Mechanisms, tried in this order among those the config accepts:
 *
 * - cgroup v2: a cgroup "parallax-<caller pid>-<worker pid>" under
 *   config->cgroup_parent (or the caller's own cgroup) with memory.max,
 *   memory.swap.max = 0, cpu.max and pids.max. Needs the controllers
 *   enabled in the parent's cgroup.subtree_control, i.e. a delegated
 *   cgroup that holds no process itself.
 * - cgroup v1: one such cgroup in each of the memory, cpu and pids
 *   hierarchies, under the caller's cgroup there: memory.limit_in_bytes
 *   (and memory.memsw.limit_in_bytes), cpu.cfs_quota_us over a 100 ms
 *   period, pids.max. In practice root only.
 * - rlimits, applied by the child before exec: RLIMIT_AS and RLIMIT_FSIZE
 *   for memory, RLIMIT_NPROC for pids (counted per user namespace; useless
 *   for a worker running as host root, so refused then), nice 19 for CPU
 *   (a weight under contention, not a cap).
 *
 * The worker is in its cgroups before it execs. Under cgroup v1 it moves
 * itself there: the host opens the "tasks" file of each cgroup and hands
 * the fds over, and the child writes "0" into them. A single thread moving
 * itself needs no global lock, while moving another process takes
 * cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period
 * (5-20 ms measured, the largest cost of a spawn with limits).
 */
#ifndef PX_LIMITS_H
#define PX_LIMITS_H

#include "px-sandbox.h"

#include <sys/resource.h>

#ifdef __cplusplus
extern "C"
{
#endif

/* What the child applies itself, between clone and exec. */
  typedef struct
  {
    bool use_rlimits;
    bool limit_memory, limit_pids, lower_priority;
    rlim_t memory_bytes;
    rlim_t max_pids;
  } PxLimitsRlimits;

#define PX_LIMITS_MAX_JOIN_FDS 3

/* cgroup v1: the "tasks" files of the worker's cgroups, opened by the host
 * (the kernel checks the opener's credentials), for the child to join. */
  typedef struct
  {
    int fds[PX_LIMITS_MAX_JOIN_FDS];
    unsigned n_fds;
  } PxLimitsJoin;

/* Host side, between clone and exec of @pid: applies @config's limits with
 * the first mechanism that works, records it (and the cgroups created) in
 * @child, and fills @rlimits and @join for the child (close @join's fds
 * with px_limits_join_clear() once handed over). */
  int px_limits_apply (const PxSandboxConfig * config, pid_t pid,
      uid_t worker_uid, PxSandboxChild * child, PxLimitsRlimits * rlimits,
      PxLimitsJoin * join, char **error);

  void px_limits_join_clear (PxLimitsJoin * join);

/* Child side, async-signal-safe, single-threaded: moves the calling
 * process into the cgroups of @fds (from a PxLimitsJoin). */
  int px_limits_join_cgroups (const int *fds, unsigned n_fds);

/* Child side, async-signal-safe: RLIMIT_CORE 0 always (a jailed worker
 * never dumps core), then @rlimits if they are the mechanism. */
  int px_limits_apply_rlimits (const PxLimitsRlimits * rlimits);

/* The worker's RLIMIT_NOFILE (soft and hard): its sockets, arenas, a few
 * eventfds and pipes, with room to spare, instead of the caller's. */
#define PX_LIMITS_WORKER_MAX_FDS 256

/* Child side, async-signal-safe, once its fds are in place (the caller's
 * fds may have higher numbers): RLIMIT_NOFILE PX_LIMITS_WORKER_MAX_FDS,
 * or the caller's hard limit if that is lower. */
  int px_limits_apply_fd_limit (void);

/* Removes the cgroups of @child (after it has been reaped). */
  void px_limits_remove_cgroups (PxSandboxChild * child);

/* The directory of @pid's cgroup in the hierarchy of @controller
 * ("memory", "cpu", "pids"), or in the v2 hierarchy for NULL. */
  int px_limits_cgroup_dir (pid_t pid, const char *controller, char *buf,
      size_t size);

#ifdef __cplusplus
}
#endif
#endif                          /* PX_LIMITS_H */
