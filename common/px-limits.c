/* Parallax — memory, CPU and pids limits of a sandboxed worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "px-limits.h"
#include "px-sandbox-private.h"
#include "px-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CPU_PERIOD_US 100000u
#define MOUNTINFO_MAX_SIZE (1024u * 1024u)

/* ---- Finding cgroups ---------------------------------------------------- */

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void
unescape (char *s)
{
  char *out = s;

  for (; *s; s++) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
        s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
      *out++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 3;
    } else {
      *out++ = *s;
    }
  }
  *out = '\0';
}

/* True if @list (comma-separated) holds @item. */
static bool
list_has (const char *list, const char *item)
{
  size_t len = strlen (item);

  for (const char *p = list; p != NULL; p = strchr (p, ',')) {
    if (*p == ',')
      p++;
    if (strncmp (p, item, len) == 0 && (p[len] == ',' || p[len] == '\0'))
      return true;
  }
  return false;
}

/* One mountinfo line: is it the hierarchy of @controller (NULL: v2)? */
static bool
parse_mount_line (char *line, const char *controller, char **root,
    char **mount_point)
{
  char *fields[6], *save = NULL, *sep = strstr (line, " - ");
  char *fstype, *superopts;

  if (sep == NULL)
    return false;
  *sep = '\0';
  fields[0] = strtok_r (line, " ", &save);
  for (int i = 1; i < 6 && fields[i - 1] != NULL; i++)
    fields[i] = strtok_r (NULL, " ", &save);
  save = NULL;
  fstype = strtok_r (sep + 3, " ", &save);
  strtok_r (NULL, " ", &save);  /* source */
  superopts = strtok_r (NULL, " ", &save);
  if (fields[4] == NULL || fstype == NULL || superopts == NULL)
    return false;
  if (controller == NULL ? strcmp (fstype, "cgroup2") != 0 :
      strcmp (fstype, "cgroup") != 0 || !list_has (superopts, controller))
    return false;
  *root = fields[3];
  *mount_point = fields[4];
  return true;
}

static int
find_mount (const char *controller, char *root, char *mount_point)
{
  char *text = NULL, *save = NULL;
  int ret = px_sandbox_read_file ("/proc/self/mountinfo",
      MOUNTINFO_MAX_SIZE, &text);

  if (ret < 0)
    return ret;
  ret = -ENOENT;
  for (char *line = strtok_r (text, "\n", &save); line != NULL;
      line = strtok_r (NULL, "\n", &save)) {
    char *r, *m;

    if (parse_mount_line (line, controller, &r, &m)) {
      unescape (r);
      unescape (m);
      if (strlen (r) < PATH_MAX && strlen (m) < PATH_MAX) {
        strcpy (root, r);
        strcpy (mount_point, m);
        ret = 0;
      }
      break;
    }
  }
  free (text);
  return ret;
}

/* @pid's path in the hierarchy of @controller (NULL: v2). */
static int
find_path (pid_t pid, const char *controller, char *path)
{
  char file[64], *text = NULL, *save = NULL;
  int ret;

  snprintf (file, sizeof file, "/proc/%d/cgroup", (int) pid);
  ret = px_sandbox_read_file (file, 64 * 1024, &text);
  if (ret < 0)
    return ret;
  ret = -ENOENT;
  for (char *line = strtok_r (text, "\n", &save); line != NULL;
      line = strtok_r (NULL, "\n", &save)) {
    char *controllers = strchr (line, ':');
    char *p = controllers ? strchr (controllers + 1, ':') : NULL;

    if (p == NULL)
      continue;
    *controllers++ = '\0';
    *p++ = '\0';
    if ((controller == NULL && strcmp (line, "0") == 0 && !*controllers) ||
        (controller != NULL && list_has (controllers, controller))) {
      ret = strlen (p) < PATH_MAX ? 0 : -ENAMETOOLONG;
      if (ret == 0)
        strcpy (path, p);
      break;
    }
  }
  free (text);
  return ret;
}

int
px_limits_cgroup_dir (pid_t pid, const char *controller, char *buf, size_t size)
{
  char root[PATH_MAX], mount_point[PATH_MAX], path[PATH_MAX];
  const char *relative = path;
  size_t root_len;
  int ret = find_mount (controller, root, mount_point);

  if (ret == 0)
    ret = find_path (pid, controller, path);
  if (ret < 0)
    return ret;
  /* A mount of a sub-tree (cgroup namespaces, containers) shows the paths
   * below its root only. */
  root_len = strcmp (root, "/") == 0 ? 0 : strlen (root);
  if (strncmp (path, root, root_len) != 0 ||
      (path[root_len] != '/' && path[root_len] != '\0'))
    return -ENOENT;
  relative = path + root_len;
  if (snprintf (buf, size, "%s%s", mount_point,
          strcmp (relative, "/") == 0 ? "" : relative) >= (int) size)
    return -ENAMETOOLONG;
  return 0;
}

/* ---- Creating and removing ---------------------------------------------- */

static int
write_number (const char *dir, const char *name, unsigned long long value)
{
  char text[32];

  snprintf (text, sizeof text, "%llu", value);
  return px_sandbox_write_file (dir, name, text);
}

/* A control file that only some kernels have. */
static int
optional (int ret)
{
  return ret == -ENOENT ? 0 : ret;
}

static void
remove_dir (const char *dir)
{
  /* A cgroup can stay busy for a moment after its last task was reaped,
   * longer on a loaded machine and after many threads: up to 2 s. */
  for (int i = 0; i < 1000; i++) {
    struct timespec pause = { 0, 2000000 };

    if (rmdir (dir) == 0 || errno != EBUSY)
      return;
    nanosleep (&pause, NULL);
  }
}

void
px_limits_remove_cgroups (PxSandboxChild * child)
{
  for (unsigned i = child->n_cgroups; i > 0; i--) {
    remove_dir (child->cgroups[i - 1]);
    free (child->cgroups[i - 1]);
    child->cgroups[i - 1] = NULL;
  }
  child->n_cgroups = 0;
}

/* Creates @base/parallax-<caller>-<pid> and records it in @child. */
static int
create_cgroup (PxSandboxChild * child, const char *base, pid_t pid, char **out)
{
  char *dir = NULL;

  if (child->n_cgroups == 3)
    return -E2BIG;
  if (asprintf (&dir, "%s/parallax-%d-%d", base, (int) getpid (),
          (int) pid) < 0)
    return -ENOMEM;
  if (mkdir (dir, 0755) < 0) {
    int ret = px_negative_errno ();
    free (dir);
    return ret;
  }
  child->cgroups[child->n_cgroups++] = dir;
  *out = dir;
  return 0;
}

static int
move_into (const char *dir, pid_t pid)
{
  return write_number (dir, "cgroup.procs", (unsigned long long) pid);
}

/* ---- cgroup v2 ---------------------------------------------------------- */

/* True if the blank-separated @list holds @word ("cpu" is not "cpuset"). */
static bool
has_word (const char *list, const char *word)
{
  size_t len = strlen (word);

  for (const char *p = list; (p = strstr (p, word)) != NULL; p += len) {
    bool starts = p == list || p[-1] == ' ';
    bool ends = p[len] == '\0' || p[len] == ' ' || p[len] == '\n';

    if (starts && ends)
      return true;
  }
  return false;
}

/* Enables the controllers the limits need for the children of @base. */
static int
enable_v2_controllers (const PxSandboxConfig * config, const char *base,
    char **error)
{
  static const char *const names[] = { "memory", "cpu", "pids" };
  bool wanted[3] = { config->memory_bytes > 0, config->cpu_percent > 0,
    config->pids > 0
  };
  char path[PATH_MAX + 32], *available = NULL, *enabled = NULL;
  int ret;

  snprintf (path, sizeof path, "%s/cgroup.controllers", base);
  ret = px_sandbox_read_file (path, 4096, &available);
  snprintf (path, sizeof path, "%s/cgroup.subtree_control", base);
  if (ret == 0)
    ret = px_sandbox_read_file (path, 4096, &enabled);
  for (int i = 0; ret == 0 && i < 3; i++) {
    char add[16];

    if (!wanted[i] || has_word (enabled, names[i]))
      continue;
    snprintf (add, sizeof add, "+%s", names[i]);
    if (!has_word (available, names[i])) {
      ret = -EOPNOTSUPP;
      px_sandbox_fail (error, 0, 0, "%s: no %s controller", base, names[i]);
    } else if ((ret = px_sandbox_write_file (base, "cgroup.subtree_control",
                add)) < 0)
      px_sandbox_fail (error, 0, ret, "%s: enabling %s", base, names[i]);
  }
  if (ret < 0 && *error == NULL)
    px_sandbox_fail (error, 0, ret, "%s", base);
  free (available);
  free (enabled);
  return ret;
}

static int
write_v2_limits (const PxSandboxConfig * config, const char *dir)
{
  char cpu_max[64];
  int ret = 0;

  if (config->memory_bytes > 0) {
    ret = write_number (dir, "memory.max", config->memory_bytes);
    /* no escape into swap; absent without swap accounting */
    if (ret == 0)
      ret = optional (px_sandbox_write_file (dir, "memory.swap.max", "0"));
  }
  if (ret == 0 && config->cpu_percent > 0) {
    snprintf (cpu_max, sizeof cpu_max, "%llu %u",
        (unsigned long long) config->cpu_percent * CPU_PERIOD_US / 100,
        CPU_PERIOD_US);
    ret = px_sandbox_write_file (dir, "cpu.max", cpu_max);
  }
  if (ret == 0 && config->pids > 0)
    ret = write_number (dir, "pids.max", config->pids);
  return ret;
}

static int
try_cgroup_v2 (const PxSandboxConfig * config, pid_t pid,
    PxSandboxChild * child, char **error)
{
  char own[PATH_MAX], *dir = NULL;
  const char *base = config->cgroup_parent;
  int ret = 0;

  if (base == NULL) {
    ret = px_limits_cgroup_dir (getpid (), NULL, own, sizeof own);
    if (ret < 0)
      return px_sandbox_fail (error, 0, ret, "no cgroup v2 hierarchy");
    base = own;
  }
  ret = enable_v2_controllers (config, base, error);
  if (ret == 0 && (ret = create_cgroup (child, base, pid, &dir)) < 0)
    px_sandbox_fail (error, 0, ret, "creating a cgroup in %s", base);
  if (ret == 0 && (ret = write_v2_limits (config, dir)) < 0)
    px_sandbox_fail (error, 0, ret, "%s", dir);
  if (ret == 0 && (ret = move_into (dir, pid)) < 0)
    px_sandbox_fail (error, 0, ret, "moving the worker into %s", dir);
  if (ret < 0)
    px_limits_remove_cgroups (child);
  return ret;
}

/* ---- cgroup v1 ---------------------------------------------------------- */

/* The child joins @dir itself through this fd (px_limits_join_cgroups()):
 * writing another process's pid into cgroup.procs would wait for an RCU
 * grace period. */
static int
open_tasks (const char *dir, PxLimitsJoin * join)
{
  char path[PATH_MAX + 8];
  int fd;

  if (join->n_fds == PX_LIMITS_MAX_JOIN_FDS)
    return -E2BIG;
  if (snprintf (path, sizeof path, "%s/tasks", dir) >= (int) sizeof path)
    return -ENAMETOOLONG;
  fd = open (path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return px_negative_errno ();
  join->fds[join->n_fds++] = fd;
  return 0;
}

void
px_limits_join_clear (PxLimitsJoin * join)
{
  for (unsigned i = 0; i < join->n_fds; i++)
    px_close_fd (&join->fds[i]);
  join->n_fds = 0;
}

int
px_limits_join_cgroups (const int *fds, unsigned n_fds)
{
  for (unsigned i = 0; i < n_fds; i++) {
    /* "0": the writing thread, the child's only one */
    ssize_t n = write (fds[i], "0", 1);

    if (n != 1)
      return n < 0 ? px_negative_errno () : -EIO;
  }
  return 0;
}

static int
write_v1_limits (const PxSandboxConfig * config, const char *controller,
    const char *dir)
{
  int ret;

  if (strcmp (controller, "memory") == 0) {
    ret = write_number (dir, "memory.limit_in_bytes", config->memory_bytes);
    /* memory + swap, present with swap accounting only */
    if (ret == 0)
      ret = optional (write_number (dir, "memory.memsw.limit_in_bytes",
              config->memory_bytes));
    return ret;
  }
  if (strcmp (controller, "cpu") == 0) {
    ret = write_number (dir, "cpu.cfs_period_us", CPU_PERIOD_US);
    if (ret == 0)
      ret = write_number (dir, "cpu.cfs_quota_us",
          (unsigned long long) config->cpu_percent * CPU_PERIOD_US / 100);
    return ret;
  }
  return write_number (dir, "pids.max", config->pids);
}

static int
try_cgroup_v1 (const PxSandboxConfig * config, pid_t pid,
    PxSandboxChild * child, PxLimitsJoin * join, char **error)
{
  const char *controllers[3];
  unsigned n = 0;
  int ret = 0;

  if (config->memory_bytes > 0)
    controllers[n++] = "memory";
  if (config->cpu_percent > 0)
    controllers[n++] = "cpu";
  if (config->pids > 0)
    controllers[n++] = "pids";
  for (unsigned i = 0; i < n && ret == 0; i++) {
    char base[PATH_MAX], *dir = NULL;

    ret = px_limits_cgroup_dir (getpid (), controllers[i], base, sizeof base);
    if (ret < 0) {
      px_sandbox_fail (error, 0, ret, "no %s hierarchy", controllers[i]);
    } else if ((ret = create_cgroup (child, base, pid, &dir)) < 0) {
      px_sandbox_fail (error, 0, ret, "creating a cgroup in %s", base);
    } else if ((ret = write_v1_limits (config, controllers[i], dir)) < 0 ||
        (ret = open_tasks (dir, join)) < 0) {
      px_sandbox_fail (error, 0, ret, "%s", dir);
    }
  }
  if (ret < 0) {
    px_limits_join_clear (join);
    px_limits_remove_cgroups (child);
  }
  return ret;
}

/* ---- rlimits ------------------------------------------------------------ */

static int
try_rlimits (const PxSandboxConfig * config, uid_t worker_uid,
    PxLimitsRlimits * rlimits, char **error)
{
  /* The kernel does not apply RLIMIT_NPROC to the host's root user. */
  if (config->pids > 0 && worker_uid == 0)
    return px_sandbox_fail (error, 0, -EPERM, "RLIMIT_NPROC does not bind "
        "a worker running as root (set a uid)");
  rlimits->use_rlimits = true;
  rlimits->limit_memory = config->memory_bytes > 0;
  rlimits->memory_bytes = config->memory_bytes;
  rlimits->limit_pids = config->pids > 0;
  rlimits->max_pids = config->pids;
  rlimits->lower_priority = config->cpu_percent > 0;
  return 0;
}

int
px_limits_apply (const PxSandboxConfig * config, pid_t pid,
    uid_t worker_uid, PxSandboxChild * child, PxLimitsRlimits * rlimits,
    PxLimitsJoin * join, char **error)
{
  static const PxSandboxLimitMechanism order[] = {
    PX_SANDBOX_LIMITS_CGROUP_V2, PX_SANDBOX_LIMITS_CGROUP_V1,
    PX_SANDBOX_LIMITS_RLIMIT,
  };
  unsigned accepted = config->limit_mechanisms ? config->limit_mechanisms :
      PX_SANDBOX_LIMITS_ANY;
  char *reasons = NULL;
  int ret = -EOPNOTSUPP;

  memset (rlimits, 0, sizeof *rlimits);
  join->n_fds = 0;
  if (!(px_sandbox_config_wanted_layers (config) & PX_SANDBOX_LAYER_LIMITS)) {
    child->limits = PX_SANDBOX_LIMITS_NONE;
    return 0;
  }
  for (unsigned i = 0; i < 3 && ret < 0; i++) {
    char *why = NULL, *joined = NULL;

    if (!(accepted & order[i]))
      continue;
    if (order[i] == PX_SANDBOX_LIMITS_CGROUP_V2)
      ret = try_cgroup_v2 (config, pid, child, &why);
    else if (order[i] == PX_SANDBOX_LIMITS_CGROUP_V1)
      ret = try_cgroup_v1 (config, pid, child, join, &why);
    else
      ret = try_rlimits (config, worker_uid, rlimits, &why);
    if (ret == 0)
      child->limits = order[i];
    else if (asprintf (&joined, "%s%s%s: %s", reasons ? reasons : "",
            reasons ? "; " : "", px_sandbox_limit_mechanism_name (order[i]),
            why ? why : "failed") >= 0) {
      free (reasons);
      reasons = joined;
    }
    free (why);
  }
  if (ret < 0)
    px_sandbox_fail (error, PX_SANDBOX_LAYER_LIMITS, 0, "no accepted "
        "mechanism applies (%s)", reasons ? reasons : "none accepted");
  free (reasons);
  return ret < 0 ? -EOPNOTSUPP : 0;
}

int
px_limits_apply_rlimits (const PxLimitsRlimits * rlimits)
{
  struct rlimit core = { 0, 0 };
  struct rlimit memory = { rlimits->memory_bytes, rlimits->memory_bytes };
  struct rlimit pids = { rlimits->max_pids, rlimits->max_pids };

  if (setrlimit (RLIMIT_CORE, &core) < 0)
    return -errno;
  if (!rlimits->use_rlimits)
    return 0;
  /* all mappings count, shared memfds included; RLIMIT_FSIZE bounds what
   * a memfd can hold without being mapped */
  if (rlimits->limit_memory && (setrlimit (RLIMIT_AS, &memory) < 0 ||
          setrlimit (RLIMIT_FSIZE, &memory) < 0))
    return -errno;
  if (rlimits->limit_pids && setrlimit (RLIMIT_NPROC, &pids) < 0)
    return -errno;
  /* no CPU cap without a cgroup: the lowest weight, so that the host wins
   * every contended CPU */
  if (rlimits->lower_priority && setpriority (PRIO_PROCESS, 0, 19) < 0)
    return -errno;
  return 0;
}

int
px_limits_apply_fd_limit (void)
{
  struct rlimit nofile;

  if (getrlimit (RLIMIT_NOFILE, &nofile) < 0)
    return -errno;
  if (nofile.rlim_max > PX_LIMITS_WORKER_MAX_FDS)
    nofile.rlim_max = PX_LIMITS_WORKER_MAX_FDS;
  nofile.rlim_cur = nofile.rlim_max;
  return setrlimit (RLIMIT_NOFILE, &nofile) < 0 ? -errno : 0;
}
