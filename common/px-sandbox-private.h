/* Parallax — sandbox internals shared by px-sandbox*.c, px-seccomp.c and
 * px-limits.c. Not installed, not for other users.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef PX_SANDBOX_PRIVATE_H
#define PX_SANDBOX_PRIVATE_H

#include "px-sandbox.h"

#include <stdarg.h>

/* Prefix of every argument spawn adds to the worker's command line. */
#define PX_SANDBOX_ARG_PREFIX "--px-sandbox-"

/* Sets *@error (if @error is not NULL and *@error is still NULL) to
 * "<layer>: <message>[: <strerror (-err)>]". @layer 0 omits the layer
 * name, @err 0 the errno text. Returns @err. */
int px_sandbox_fail (char **error, unsigned layer, int err, const char *fmt,
    ...) __attribute__((format (printf, 4, 5)));

/* The built-in policy a config runs under: its own, or the base of its
 * custom rules. */
PxSandboxPolicy px_sandbox_config_base_policy (const PxSandboxConfig * config);

/* The base policy named by a "base" line of custom @rules (minimal-compute
 * when there is none). -EINVAL when "base" is not the first directive, is
 * repeated or names no built-in policy. */
int px_sandbox_rules_base (const char *const *rules, PxSandboxPolicy * out);

/* The reaper's records on its status socket (px-sandbox-reaper.c). */
#define PX_SANDBOX_REAPER_MAGIC 0x50585250u     /* "PRXP" */
enum
{
  PX_SANDBOX_REAPER_STARTED = 1,        /* status: the worker's pid in its ns */
  PX_SANDBOX_REAPER_EXITED = 2, /* code, status: from waitid */
};

typedef struct
{
  uint32_t magic;
  uint32_t kind;
  int32_t code;
  int32_t status;
} PxSandboxReaperRecord;

/* Worker side, first thing (one thread): with a PID namespace of its own,
 * forks; the parent becomes the namespace's reaper, reporting on @fd, and
 * never returns; the child returns 0 as the worker. Without one, closes
 * @fd and returns 0. */
int px_sandbox_split_reaper (int fd);

/* 1 if thread @tid of @pid has begun to exit (PF_EXITING: it runs no user
 * code again), 0 if not, a negative errno if /proc does not tell. */
int px_sandbox_task_exiting (pid_t pid, pid_t tid);

/* Reads a text file of at most @max_size bytes into a NUL-terminated
 * allocated buffer. */
int px_sandbox_read_file (const char *path, size_t max_size, char **out);

/* Writes @text to @dir/@name (no O_CREAT). */
int px_sandbox_write_file (const char *dir, const char *name, const char *text);

/* Number of threads of this process, from /proc/self/status. */
int px_sandbox_count_threads (void);

/* Copies a NULL-terminated string array (NULL stays NULL). */
int px_sandbox_strv_copy (const char *const *strv, char ***out);
void px_sandbox_strv_free (char **strv);
size_t px_sandbox_strv_length (const char *const *strv);

#endif /* PX_SANDBOX_PRIVATE_H */
