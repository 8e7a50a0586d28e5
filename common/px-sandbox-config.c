/* Parallax — sandbox configuration: names, wanted layers, and the command
 * line arguments that carry the configuration to the worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The worker's arguments, right after argv[0], one value each (a value may
 * hold any byte but NUL, so nothing needs escaping):
 *
 *   --px-sandbox-policy=NAME
 *   --px-sandbox-ro=PATH           (repeated)
 *   --px-sandbox-rw=PATH           (repeated)
 *   --px-sandbox-rule=LINE         (repeated; custom rules, already read)
 *   --px-sandbox-allow-missing=0xMASK
 *   --px-sandbox-reaper-fd=N       (spawn's status socket for the reaper)
 *   --px-sandbox-layers=0xMASK     (always last: spawn fills it in the
 *                                   child once the layers are known)
 *
 * Limits, ids and the environment are applied by spawn and are not passed.
 */
#include "px-sandbox-private.h"
#include "px-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_ELEMENTS(a) (sizeof (a) / sizeof ((a)[0]))

/* As many tokens as a rules line may have (px-seccomp.c). */
#define RULE_MAX_TOKENS 24

static const char *const layer_names[] = {
  "user-namespace", "mount-namespace", "network-namespace", "ipc-namespace",
  "pid-namespace", "uts-namespace", "limits", "empty-root", "capabilities",
  "no-new-privs", "seccomp",
};

_Static_assert (N_ELEMENTS (layer_names) == 11, "one name per layer");
_Static_assert (PX_SANDBOX_ALL_LAYERS == (1u << 11) - 1, "layer masks");

static const char *const policy_names[] = {
  "minimal-compute", "with-network", "with-filesystem", "custom",
};

void
px_sandbox_config_init (PxSandboxConfig * config)
{
  memset (config, 0, sizeof *config);
}

const char *
px_sandbox_layer_name (unsigned layer)
{
  for (unsigned i = 0; i < N_ELEMENTS (layer_names); i++) {
    if (layer == 1u << i)
      return layer_names[i];
  }
  return "unknown";
}

int
px_sandbox_layers_format (unsigned layers, char *buf, size_t size)
{
  size_t len = 0;

  if (size == 0)
    return -ENOSPC;
  buf[0] = '\0';
  if (layers == 0)
    return snprintf (buf, size, "none") < (int) size ? 4 : -ENOSPC;
  for (unsigned i = 0; i < 32; i++) {
    int n;

    if (!(layers & (1u << i)))
      continue;
    n = snprintf (buf + len, size - len, "%s%s", len ? ", " : "",
        px_sandbox_layer_name (1u << i));
    if (n < 0 || (size_t) n >= size - len)
      return -ENOSPC;
    len += n;
  }
  return (int) len;
}

const char *
px_sandbox_policy_name (PxSandboxPolicy policy)
{
  if ((unsigned) policy < N_ELEMENTS (policy_names))
    return policy_names[policy];
  return "unknown";
}

int
px_sandbox_policy_from_name (const char *name, PxSandboxPolicy * out)
{
  for (unsigned i = 0; i < N_ELEMENTS (policy_names); i++) {
    if (strcmp (name, policy_names[i]) == 0) {
      *out = (PxSandboxPolicy) i;
      return 0;
    }
  }
  return -EINVAL;
}

const char *
px_sandbox_limit_mechanism_name (PxSandboxLimitMechanism m)
{
  switch (m) {
    case PX_SANDBOX_LIMITS_NONE:
      return "none";
    case PX_SANDBOX_LIMITS_CGROUP_V2:
      return "cgroup-v2";
    case PX_SANDBOX_LIMITS_CGROUP_V1:
      return "cgroup-v1";
    case PX_SANDBOX_LIMITS_RLIMIT:
      return "rlimit";
    default:
      return "unknown";
  }
}

/* Splits @line (modified) on blanks into at most @max tokens; returns the
 * count, or -E2BIG. */
static int
split_blanks (char *line, char **tokens, int max)
{
  char *save = NULL;
  int n = 0;

  for (char *t = strtok_r (line, " \t", &save); t != NULL;
      t = strtok_r (NULL, " \t", &save)) {
    if (n == max)
      return -E2BIG;
    tokens[n++] = t;
  }
  return n;
}

/* Here rather than with the rules (px-seccomp.c): the namespaces and the
 * root follow the base too, and the configuration depends on nothing. */
int
px_sandbox_rules_base (const char *const *rules, PxSandboxPolicy * out)
{
  PxSandboxPolicy base = PX_SANDBOX_POLICY_MINIMAL_COMPUTE;
  bool first = true;

  for (size_t i = 0; rules != NULL && rules[i] != NULL; i++) {
    char *tokens[RULE_MAX_TOKENS];
    char *copy = strdup (rules[i]);
    int n, ret = 0;

    if (copy == NULL)
      return -ENOMEM;
    n = split_blanks (copy, tokens, RULE_MAX_TOKENS);
    if (n > 0 && strcmp (tokens[0], "base") == 0) {
      if (!first || n != 2 || px_sandbox_policy_from_name (tokens[1],
              &base) < 0 || base == PX_SANDBOX_POLICY_CUSTOM)
        ret = -EINVAL;
    }
    first = first && n == 0;
    free (copy);
    if (ret < 0)
      return ret;
  }
  *out = base;
  return 0;
}

PxSandboxPolicy
px_sandbox_config_base_policy (const PxSandboxConfig * config)
{
  PxSandboxPolicy base;

  if (config->policy != PX_SANDBOX_POLICY_CUSTOM)
    return config->policy;
  /* An unreadable base fails the seccomp layer later; the namespaces and
   * mounts then follow the strictest policy. */
  if (px_sandbox_rules_base (config->rules, &base) < 0)
    return PX_SANDBOX_POLICY_MINIMAL_COMPUTE;
  return base;
}

unsigned
px_sandbox_config_wanted_layers (const PxSandboxConfig * config)
{
  unsigned layers = PX_SANDBOX_NAMESPACE_LAYERS | PX_SANDBOX_LOCKDOWN_LAYERS;

  if (px_sandbox_config_base_policy (config) == PX_SANDBOX_POLICY_WITH_NETWORK)
    layers &= ~PX_SANDBOX_LAYER_NETWORK_NAMESPACE;
  if (config->memory_bytes > 0 || config->cpu_percent > 0 || config->pids > 0)
    layers |= PX_SANDBOX_LAYER_LIMITS;
  return layers;
}

/* ---- Small helpers ------------------------------------------------------ */

int
px_sandbox_fail (char **error, unsigned layer, int err, const char *fmt, ...)
{
  char *message = NULL, *full = NULL;
  const char *name = layer ? px_sandbox_layer_name (layer) : "";
  const char *sep = layer ? ": " : "";
  va_list args;
  int n;

  if (error == NULL)
    return err;
  va_start (args, fmt);
  n = vasprintf (&message, fmt, args);
  va_end (args);
  if (n < 0)
    return err;
  /* An inner failure already explained itself: this call adds context. */
  if (*error != NULL)
    n = asprintf (&full, "%s%s%s: %s", name, sep, message, *error);
  else if (err != 0)
    n = asprintf (&full, "%s%s%s: %s", name, sep, message, strerror (-err));
  else
    n = asprintf (&full, "%s%s%s", name, sep, message);
  free (message);
  if (n >= 0) {
    free (*error);
    *error = full;
  }
  return err;
}

int
px_sandbox_read_file (const char *path, size_t max_size, char **out)
{
  px_auto_fd fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  char *buf;
  size_t len = 0;

  if (fd < 0)
    return px_negative_errno ();
  buf = malloc (max_size + 1);
  if (buf == NULL)
    return -ENOMEM;
  while (len <= max_size) {
    ssize_t n = read (fd, buf + len, max_size + 1 - len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int ret = px_negative_errno ();
      free (buf);
      return ret;
    }
    if (n == 0)
      break;
    len += n;
  }
  if (len > max_size) {
    free (buf);
    return -EFBIG;
  }
  buf[len] = '\0';
  *out = buf;
  return 0;
}

int
px_sandbox_write_file (const char *dir, const char *name, const char *text)
{
  char path[4096];
  px_auto_fd fd = -1;
  size_t len = strlen (text);
  ssize_t n;

  if (snprintf (path, sizeof path, "%s/%s", dir, name) >= (int) sizeof path)
    return -ENAMETOOLONG;
  fd = open (path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return px_negative_errno ();
  /* cgroup and /proc files take one write */
  do {
    n = write (fd, text, len);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return px_negative_errno ();
  return (size_t) n == len ? 0 : -EIO;
}

int
px_sandbox_count_threads (void)
{
  char *status = NULL;
  const char *line;
  int ret = px_sandbox_read_file ("/proc/self/status", 64 * 1024, &status);
  long n;

  if (ret < 0)
    return ret;
  line = strstr (status, "\nThreads:");
  n = line ? strtol (line + 9, NULL, 10) : -1;
  free (status);
  return n > 0 ? (int) n : -EIO;
}

size_t
px_sandbox_strv_length (const char *const *strv)
{
  size_t n = 0;

  while (strv != NULL && strv[n] != NULL)
    n++;
  return n;
}

int
px_sandbox_strv_copy (const char *const *strv, char ***out)
{
  size_t n = px_sandbox_strv_length (strv);
  char **copy;

  if (strv == NULL) {
    *out = NULL;
    return 0;
  }
  copy = calloc (n + 1, sizeof *copy);
  if (copy == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < n; i++) {
    copy[i] = strdup (strv[i]);
    if (copy[i] == NULL) {
      px_sandbox_strv_free (copy);
      return -ENOMEM;
    }
  }
  *out = copy;
  return 0;
}

void
px_sandbox_strv_free (char **strv)
{
  for (size_t i = 0; strv != NULL && strv[i] != NULL; i++)
    free (strv[i]);
  free (strv);
}

void
px_sandbox_args_free (char **args)
{
  px_sandbox_strv_free (args);
}

/* ---- Arguments ---------------------------------------------------------- */

static int
append_arg (char **args, size_t *n, const char *key, const char *value)
{
  if (asprintf (&args[*n], PX_SANDBOX_ARG_PREFIX "%s=%s", key, value) < 0) {
    args[*n] = NULL;
    return -ENOMEM;
  }
  (*n)++;
  return 0;
}

static int
append_list (char **args, size_t *n, const char *key, const char *const *values)
{
  int ret = 0;

  for (size_t i = 0; ret == 0 && values != NULL && values[i] != NULL; i++) {
    /* a newline could not be told apart from a second rule or path */
    if (strchr (values[i], '\n') != NULL)
      return -EINVAL;
    ret = append_arg (args, n, key, values[i]);
  }
  return ret;
}

int
px_sandbox_config_to_args (const PxSandboxConfig * config, char ***out_args)
{
  size_t n_ro = px_sandbox_strv_length (config->read_only_paths);
  size_t n_rw = px_sandbox_strv_length (config->read_write_paths);
  size_t n_rules = px_sandbox_strv_length (config->rules), n = 0;
  char mask[2][16];
  char **args;
  int ret;

  if (n_ro > PX_SANDBOX_MAX_PATHS || n_rw > PX_SANDBOX_MAX_PATHS ||
      n_rules > PX_SANDBOX_MAX_RULES ||
      (unsigned) config->policy > PX_SANDBOX_POLICY_CUSTOM)
    return -EINVAL;
  args = calloc (n_ro + n_rw + n_rules + 5, sizeof *args);
  if (args == NULL)
    return -ENOMEM;
  snprintf (mask[0], sizeof mask[0], "0x%08x", config->allow_missing);
  snprintf (mask[1], sizeof mask[1], "0x%08x", config->spawned_layers);
  ret = append_arg (args, &n, "policy",
      px_sandbox_policy_name (config->policy));
  if (ret == 0)
    ret = append_list (args, &n, "ro", config->read_only_paths);
  if (ret == 0)
    ret = append_list (args, &n, "rw", config->read_write_paths);
  if (ret == 0)
    ret = append_list (args, &n, "rule", config->rules);
  if (ret == 0)
    ret = append_arg (args, &n, "allow-missing", mask[0]);
  if (ret == 0 && config->reaper_fd > 0) {
    char fd[16];

    snprintf (fd, sizeof fd, "%d", config->reaper_fd);
    ret = append_arg (args, &n, "reaper-fd", fd);
  }
  if (ret == 0)
    ret = append_arg (args, &n, "layers", mask[1]);
  if (ret < 0) {
    px_sandbox_args_free (args);
    return ret;
  }
  *out_args = args;
  return 0;
}

/* A parsed configuration and the arrays it points to, in one block. */
typedef struct
{
  PxSandboxConfig config;       /* first: px_sandbox_config_free() */
  const char *ro[PX_SANDBOX_MAX_PATHS + 1];
  const char *rw[PX_SANDBOX_MAX_PATHS + 1];
  const char *rules[PX_SANDBOX_MAX_RULES + 1];
  size_t n_ro, n_rw, n_rules;
} ParsedConfig;

static int
parse_mask (const char *text, unsigned *out)
{
  char *end = NULL;
  unsigned long value;

  errno = 0;
  value = strtoul (text, &end, 16);
  if (errno != 0 || end == text || *end != '\0' ||
      value > PX_SANDBOX_ALL_LAYERS)
    return -EINVAL;
  *out = (unsigned) value;
  return 0;
}

static int
parse_fd (const char *text, int *out)
{
  char *end = NULL;
  long value;

  errno = 0;
  value = strtol (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 3 || value > 1024)
    return -EINVAL;
  *out = (int) value;
  return 0;
}

static int
push (const char **list, size_t *n, size_t max, const char *value)
{
  if (*n == max)
    return -E2BIG;
  list[(*n)++] = value;
  return 0;
}

static int
parse_arg (ParsedConfig * parsed, const char *arg)
{
  PxSandboxConfig *config = &parsed->config;
  const char *key = arg + strlen (PX_SANDBOX_ARG_PREFIX);
  const char *value = strchr (key, '=');
  size_t key_len;

  if (value == NULL)
    return -EINVAL;
  key_len = (size_t) (value++ - key);
#define KEY_IS(k) (key_len == strlen (k) && strncmp (key, k, key_len) == 0)
  if (KEY_IS ("policy"))
    return px_sandbox_policy_from_name (value, &config->policy);
  if (KEY_IS ("ro"))
    return push (parsed->ro, &parsed->n_ro, PX_SANDBOX_MAX_PATHS, value);
  if (KEY_IS ("rw"))
    return push (parsed->rw, &parsed->n_rw, PX_SANDBOX_MAX_PATHS, value);
  if (KEY_IS ("rule"))
    return push (parsed->rules, &parsed->n_rules, PX_SANDBOX_MAX_RULES, value);
  if (KEY_IS ("allow-missing"))
    return parse_mask (value, &config->allow_missing);
  if (KEY_IS ("layers"))
    return parse_mask (value, &config->spawned_layers);
  if (KEY_IS ("reaper-fd"))
    return parse_fd (value, &config->reaper_fd);
#undef KEY_IS
  return -EINVAL;
}

int
px_sandbox_config_take_from_args (int *argc, char **argv,
    PxSandboxConfig ** out)
{
  size_t prefix = strlen (PX_SANDBOX_ARG_PREFIX);
  ParsedConfig *parsed;
  int n = 1, ret = 0;

  if (*argc < 2 || strncmp (argv[1], PX_SANDBOX_ARG_PREFIX, prefix) != 0)
    return -ENOENT;
  parsed = calloc (1, sizeof *parsed);
  if (parsed == NULL)
    return -ENOMEM;
  for (; n < *argc && ret == 0 &&
      strncmp (argv[n], PX_SANDBOX_ARG_PREFIX, prefix) == 0; n++)
    ret = parse_arg (parsed, argv[n]);
  if (ret < 0) {
    free (parsed);
    return -EINVAL;
  }
  parsed->config.read_only_paths = parsed->n_ro ? parsed->ro : NULL;
  parsed->config.read_write_paths = parsed->n_rw ? parsed->rw : NULL;
  parsed->config.rules = parsed->n_rules ? parsed->rules : NULL;
  if (parsed->config.reaper_fd > 0) {
    ret = px_sandbox_split_reaper (parsed->config.reaper_fd);
    parsed->config.reaper_fd = 0;
    if (ret < 0) {
      free (parsed);
      return ret;
    }
  }
  /* drop the n - 1 sandbox arguments, keep argv[0] and the rest */
  memmove (&argv[1], &argv[n], (size_t) (*argc - n) * sizeof *argv);
  *argc -= n - 1;
  argv[*argc] = NULL;
  *out = &parsed->config;
  return 0;
}

void
px_sandbox_config_free (PxSandboxConfig * config)
{
  /* config is the first member of a ParsedConfig */
  free (config);
}
