/* Parallax — seccomp policies of the worker's jail (libseccomp).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A filter is built from a policy (and, for custom, the rules of a rules
 * file) and loaded later: building allocates and may fail on bad rules,
 * loading is the last step of the lockdown.
 *
 * Actions, for every policy:
 * - allowed syscalls: listed, each with who needs it (px-seccomp.c);
 * - path-based calls (open, stat, access, readlink, ...): EACCES, so that a
 *   lazy load fails like a missing file would;
 * - the kill list (exec, ptrace, mount, namespaces, bpf, ...), process
 *   clones, signals to other processes, foreign ABIs:
 *   SECCOMP_RET_USER_NOTIF, i.e. the calling thread waits in the kernel
 *   while the supervisor, which holds the filter's listener, reads the
 *   call and kills the worker;
 * - W^X: mmap, mprotect and pkey_mprotect with PROT_EXEC (writable and
 *   executable, or executable after lockdown): SECCOMP_RET_USER_NOTIF too,
 *   and the supervisor answers EACCES instead of killing (within a
 *   budget, px_sandbox_child_service());
 * - clone3: ENOSYS (glibc then falls back to clone, which is checked);
 * - everything else: EPERM.
 */
#ifndef PX_SECCOMP_H
#define PX_SECCOMP_H

#include "px-sandbox.h"

#ifdef __cplusplus
extern "C"
{
#endif

  typedef struct PxSeccompFilter PxSeccompFilter;

/* Builds the filter of @policy. @rules (custom only) are the lines of a
 * rules file; @self is the worker's pid (signals to it are allowed);
 * @own_pid_namespace: the worker is in a PID namespace of its own, where
 * it sees no task but its own threads and its reaper. On a bad rule
 * returns -EINVAL with "line N: ..." in *@error. */
  int px_seccomp_filter_new (PxSandboxPolicy policy, const char *const *rules,
      pid_t self, bool own_pid_namespace, PxSeccompFilter ** out, char **error);

/* Loads the filter on every thread of the process (TSYNC) and gives its
 * listener (the seccomp user-notification fd, CLOEXEC) in *@listener_fd:
 * until someone reads it, a thread that makes a killed call waits. The
 * caller must already have no_new_privs (or CAP_SYS_ADMIN). -EBUSY when
 * an inherited filter already has a listener. */
  int px_seccomp_filter_load (PxSeccompFilter * filter, int *listener_fd,
      char **error);

  void px_seccomp_filter_free (PxSeccompFilter * filter);

/* True when the policy lets the worker open paths: with-network,
 * with-filesystem, or custom rules that allow a path-based call. A
 * directory fd held across the lockdown would then reach the old root. */
  bool px_seccomp_policy_opens_paths (PxSandboxPolicy policy,
      const char *const *rules);

/* Reads a rules file (at most 64 KiB) into its meaningful lines: comments
 * and blank lines dropped, spaces trimmed. Free with
 * px_sandbox_args_free(). */
  int px_seccomp_read_rules_file (const char *path, char ***out_lines,
      char **error);

#ifdef __cplusplus
}
#endif
#endif                          /* PX_SECCOMP_H */
