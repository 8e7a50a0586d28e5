/* Parallax — tests for the worker's sandbox (common/px-sandbox*,
 * px-seccomp, px-limits).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Most tests spawn tests/sandbox-probe (found through $PX_SANDBOX_PROBE) as
 * the worker, let it lock itself down and commit one misdeed, and check
 * what the host sees: an errno reported by the probe, or the refused call
 * read from the probe's seccomp listener (the kernel's word), after which
 * the host kills it.
 *
 * Every behaviour runs twice: as the user running the tests, and, when
 * that is root, again as nobody (uid/gid 65534) in a forked child, which is
 * how an ordinary user runs the sandbox (unprivileged user namespaces,
 * rlimits instead of cgroups). Tests that this machine cannot run say why
 * on stderr and pass.
 */
#include <gst/check/gstcheck.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "px-limits.h"
#include "px-sandbox.h"
#include "px-sandbox-private.h"
#include "px-seccomp.h"
#include "px-wire.h"
#include "px-test-util.h"

#define NOBODY 65534
#define TIMEOUT_MS 10000

/* What the host saw of one probe run. */
typedef struct
{
  int spawn_ret;
  char *spawn_error;
  PxSandboxChild child;         /* valid during the inspection callback */
  PxSandboxLimitMechanism limits;
  unsigned applied;             /* from "ready" */
  gboolean ready;
  char result[4096];            /* after "result " */
  char lockdown_failed[1024];
  char violation[128];
  int n_violations;
  PxSandboxVerdict verdict;     /* of the violation */
  unsigned refused_calls;       /* as the violation counts them */
  char refused[128];            /* the last call refused with EACCES */
  int n_refused;
  int n_first_refusals;         /* refusals first of their syscall */
  int code;                     /* CLD_EXITED, CLD_KILLED, CLD_DUMPED */
  int status;
  unsigned n_cgroups;
  char cgroups[3][512];
} Outcome;

/* Called once the probe has reported its result (the probe is alive). */
typedef void (*Inspect) (Outcome * outcome, void *data);

static void
skip (const char *why)
{
  g_printerr ("SKIP: %s\n", why);
}

static const char *
probe_path (void)
{
  const char *path = g_getenv ("PX_SANDBOX_PROBE");

  fail_unless (path != NULL, "PX_SANDBOX_PROBE is not set");
  return path;
}

static void
handle_message (PxWireMessage * msg, Outcome * o)
{
  if (msg->header.type == PX_WIRE_MESSAGE) {
    PxWireBlob blob;

    fail_unless_equals_int (px_wire_decode_blob (msg, &blob), 0);
    if (sscanf (blob.body, "ready %x", &o->applied) == 1)
      o->ready = TRUE;
    else if (g_str_has_prefix (blob.body, "result "))
      g_strlcpy (o->result, blob.body + 7, sizeof o->result);
    else if (strcmp (blob.body, "spinning") == 0)
      g_strlcpy (o->result, blob.body, sizeof o->result);
    else if (g_str_has_prefix (blob.body, "lockdown-failed "))
      g_strlcpy (o->lockdown_failed, blob.body + 16, sizeof o->lockdown_failed);
    else
      fail ("unexpected message from the probe: %s", blob.body);
  } else {
    fail ("unexpected message type %u", msg->header.type);
  }
}

/* The supervisor's part: takes the listener, reads a stopped call: a
 * killed one (the probe is then killed) or a refused one (answered with
 * EACCES, the probe goes on). */
static void
service (Outcome * o)
{
  PxSandboxViolation v;
  int ret = px_sandbox_child_service (&o->child, &v);

  fail_unless (ret >= 0, "px_sandbox_child_service: %s", g_strerror (-ret));
  if (ret != 1)
    return;
  fail_unless (v.tid > 0);
  if (v.verdict == PX_SANDBOX_VERDICT_REFUSED) {
    fail_unless (px_sandbox_violation_name (v.nr, v.arch, o->refused,
            sizeof o->refused) > 0);
    o->n_refused++;
    o->n_first_refusals += v.first_of_its_kind;
    fail_unless_equals_int (v.refused_calls, o->n_refused);
    return;
  }
  fail_unless (px_sandbox_violation_name (v.nr, v.arch, o->violation,
          sizeof o->violation) > 0);
  o->verdict = v.verdict;
  o->refused_calls = v.refused_calls;
  o->n_violations++;
}

/* Reads the probe's messages until it closes the socket, serving its
 * seccomp listener meanwhile; inspects once it has a result, then tells it
 * (by closing our writing side) to go. */
static void
collect (int sock, Outcome * o, Inspect inspect, void *data)
{
  PxWireMessage *msg = g_new0 (PxWireMessage, 1);
  gboolean told = FALSE;

  for (;;) {
    struct pollfd pfd[2] = {
      {.fd = sock,.events = POLLIN},
      {.fd = px_sandbox_child_watch_fd (&o->child),.events = POLLIN},
    };
    ssize_t n;

    fail_unless (poll (pfd, 2, TIMEOUT_MS) > 0, "the probe is silent");
    if (pfd[1].revents) {
      service (o);
      continue;
    }
    n = px_wire_recv (sock, msg, 0);
    if (n == -ECONNRESET)
      break;
    fail_unless (n >= 0, "px_wire_recv: %s", g_strerror (-n));
    handle_message (msg, o);
    px_wire_message_clear (msg);
    if (!told && (o->result[0] || o->lockdown_failed[0])) {
      if (inspect)
        inspect (o, data);
      shutdown (sock, SHUT_WR);
      told = TRUE;
    }
  }
  g_free (msg);
}

static void
record_cgroups (Outcome * o)
{
  o->limits = o->child.limits;
  o->n_cgroups = o->child.n_cgroups;
  for (unsigned i = 0; i < o->child.n_cgroups; i++)
    g_strlcpy (o->cgroups[i], o->child.cgroups[i], sizeof o->cgroups[i]);
}

/* Spawns the probe with @config for @misdeed, handing it the control
 * socket and @extra_fds, and runs it to its end. The spawn may fail
 * (o->spawn_ret). Checks that nothing is left behind. */
static void
run_probe_fds (const PxSandboxConfig * config, const char *misdeed,
    const char *arg, const int *extra_fds, unsigned n_extra, Outcome * o,
    Inspect inspect, void *data)
{
  const char *argv[] = { "sandbox-probe", misdeed, arg, NULL };
  int fds_before = px_test_count_fds (), sv[2], fds[PX_SANDBOX_MAX_FDS];
  siginfo_t info;

  memset (o, 0, sizeof *o);
  fail_unless (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)
      == 0);
  fds[0] = sv[1];
  for (unsigned i = 0; i < n_extra; i++)
    fds[i + 1] = extra_fds[i];
  o->spawn_ret = px_sandbox_spawn_fds (probe_path (), argv, fds,
      n_extra + 1, config, &o->child, &o->spawn_error);
  close (sv[1]);
  if (o->spawn_ret == 0) {
    fail_unless (o->spawn_error == NULL);
    record_cgroups (o);
    collect (sv[0], o, inspect, data);
    fail_unless_equals_int (px_sandbox_child_wait (&o->child, TRUE, &info), 0);
    o->code = info.si_code;
    o->status = info.si_status;
    px_sandbox_child_cleanup (&o->child);
  } else {
    fail_unless (o->spawn_error != NULL, "no error message");
  }
  close (sv[0]);
  /* no fd, child or cgroup left behind */
  fail_unless_equals_int (px_test_count_fds (), fds_before);
  fail_unless (waitpid (-1, NULL, WNOHANG) < 0 && errno == ECHILD);
  for (unsigned i = 0; i < o->n_cgroups; i++)
    fail_unless (access (o->cgroups[i], F_OK) < 0, "%s left behind",
        o->cgroups[i]);
}

static void
run_probe (const PxSandboxConfig * config, const char *misdeed,
    const char *arg, Outcome * o, Inspect inspect, void *data)
{
  run_probe_fds (config, misdeed, arg, NULL, 0, o, inspect, data);
}

static void
outcome_clear (Outcome * o)
{
  g_free (o->spawn_error);
  o->spawn_error = NULL;
}

static void
run_misdeed (const char *misdeed, const char *arg, Outcome * o)
{
  PxSandboxConfig config;

  px_sandbox_config_init (&config);
  run_probe (&config, misdeed, arg, o, NULL, NULL);
  fail_unless_equals_int (o->spawn_ret, 0);
  fail_unless (o->ready, "no ready report (lockdown: %s)", o->lockdown_failed);
}

/* The probe reported errno @e for its misdeed and exited normally. */
static void
expect_errno (const char *misdeed, const char *arg, int e)
{
  Outcome o;
  char expected[64];

  run_misdeed (misdeed, arg, &o);
  g_snprintf (expected, sizeof expected, "errno %d", e);
  fail_unless (g_str_has_prefix (o.result, expected), "%s: got \"%s\", "
      "expected \"%s\"", misdeed, o.result, expected);
  fail_unless_equals_int (o.code, CLD_EXITED);
  fail_unless_equals_int (o.n_violations, 0);
  fail_unless_equals_int (o.n_refused, 0);
  outcome_clear (&o);
}

/* The kernel reported @name on the listener and the host killed the
 * probe for it. */
static void
expect_violation (const char *misdeed, const char *name)
{
  Outcome o;

  run_misdeed (misdeed, NULL, &o);
  fail_unless (o.result[0] == '\0', "%s was not refused: %s", misdeed,
      o.result);
  fail_unless_equals_int (o.code, CLD_KILLED);
  fail_unless_equals_int (o.status, SIGKILL);
  fail_unless_equals_int (o.n_violations, 1);
  fail_unless_equals_int (o.verdict, PX_SANDBOX_VERDICT_KILLED);
  fail_unless_equals_string (o.violation, name);
  outcome_clear (&o);
}

/* Inspect: no memory of the probe is executable but the files it runs
 * (its executable, its libraries) and the vDSO; none is writable and
 * executable. */
static void
assert_no_code_of_its_own (Outcome * o, void *data)
{
  gchar *path = g_strdup_printf ("/proc/%d/maps", (int) o->child.pid);
  gchar *contents = NULL, **lines;

  fail_unless (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (gchar ** l = lines; *l && **l; l++) {
    const gchar *perms = strchr (*l, ' ') + 1;
    const gchar *name = strrchr (*l, ' ') + 1;

    fail_if (perms[1] == 'w' && perms[2] == 'x', "%s", *l);
    fail_unless (perms[2] != 'x' || (name[0] == '/' &&
            strstr (*l, "/memfd:") == NULL) || g_str_equal (name, "[vdso]")
        || g_str_equal (name, "[vsyscall]"), "executable memory: %s", *l);
  }
  g_strfreev (lines);
  g_free (contents);
  g_free (path);
}

/* The kernel reported @name on the listener, the host answered it with
 * EACCES, which the probe got, and the probe went on (and exited): it
 * has no executable memory of its own. */
static void
expect_refused (const char *misdeed, const char *arg, const char *name)
{
  PxSandboxConfig config;
  Outcome o;
  char expected[64];

  px_sandbox_config_init (&config);
  run_probe (&config, misdeed, arg, &o, assert_no_code_of_its_own, NULL);
  fail_unless_equals_int (o.spawn_ret, 0);
  fail_unless (o.ready, "no ready report (lockdown: %s)", o.lockdown_failed);
  g_snprintf (expected, sizeof expected, "errno %d", EACCES);
  fail_unless (g_str_has_prefix (o.result, expected), "%s: got \"%s\", "
      "expected \"%s\"", misdeed, o.result, expected);
  fail_unless_equals_int (o.code, CLD_EXITED);
  fail_unless_equals_int (o.status, 0);
  fail_unless_equals_int (o.n_violations, 0);
  fail_unless_equals_int (o.n_refused, 1);
  fail_unless_equals_int (o.n_first_refusals, 1);
  fail_unless_equals_string (o.refused, name);
  outcome_clear (&o);
}

/* ---- Running as nobody -------------------------------------------------- */

static gboolean
nobody_can_run_probe (void)
{
  gboolean ok;

  /* checked as nobody: every directory on the way must let it through */
  ok = access (probe_path (), X_OK) == 0;
  if (!ok)
    skip ("uid 65534 cannot execute the probe (a directory on its path "
        "is closed to others)");
  return ok;
}

/* Runs @body as uid/gid 65534 in a child that check follows. */
static void
as_nobody (void (*body) (void))
{
  pid_t pid;

  if (geteuid () != 0) {
    skip ("already unprivileged: the other variant covers it");
    return;
  }
  pid = check_fork ();
  if (pid == 0) {
    fail_unless (setgroups (0, NULL) == 0);
    fail_unless (setresgid (NOBODY, NOBODY, NOBODY) == 0);
    fail_unless (setresuid (NOBODY, NOBODY, NOBODY) == 0);
    /* a uid change makes us non-dumpable: /proc/self would be root's */
    fail_unless (prctl (PR_SET_DUMPABLE, 1, 0, 0, 0) == 0);
    if (nobody_can_run_probe ())
      body ();
    exit (EXIT_SUCCESS);
  }
  check_waitpid_and_exit (pid);
}

/* test_NAME runs body_NAME as the current user, test_NAME_as_nobody as
 * nobody. */
#define SANDBOX_TEST(name) \
  GST_START_TEST (test_ ## name) { body_ ## name (); } GST_END_TEST; \
  GST_START_TEST (test_ ## name ## _as_nobody) { as_nobody (body_ ## name); } \
  GST_END_TEST;

#define ADD_SANDBOX_TEST(tc, name) \
  tcase_add_test (tc, test_ ## name); \
  tcase_add_test (tc, test_ ## name ## _as_nobody)

/* ---- Names, arguments, rules -------------------------------------------- */

GST_START_TEST (test_layer_and_policy_names)
{
  char buf[256];
  PxSandboxPolicy policy;

  fail_unless_equals_string (px_sandbox_layer_name
      (PX_SANDBOX_LAYER_USER_NAMESPACE), "user-namespace");
  fail_unless_equals_string (px_sandbox_layer_name
      (PX_SANDBOX_LAYER_SECCOMP), "seccomp");
  fail_unless_equals_string (px_sandbox_layer_name (3), "unknown");
  for (unsigned i = 0; i < 11; i++)
    fail_if (strcmp (px_sandbox_layer_name (1u << i), "unknown") == 0);
  fail_unless_equals_int (px_sandbox_layers_format (0, buf, sizeof buf), 4);
  fail_unless_equals_string (buf, "none");
  fail_unless (px_sandbox_layers_format (PX_SANDBOX_LAYER_LIMITS |
          PX_SANDBOX_LAYER_EMPTY_ROOT, buf, sizeof buf) > 0);
  fail_unless_equals_string (buf, "limits, empty-root");
  fail_unless_equals_int (px_sandbox_layers_format (PX_SANDBOX_ALL_LAYERS,
          buf, 10), -ENOSPC);
  fail_unless_equals_int (px_sandbox_policy_from_name ("with-network",
          &policy), 0);
  fail_unless_equals_int (policy, PX_SANDBOX_POLICY_WITH_NETWORK);
  fail_unless_equals_int (px_sandbox_policy_from_name ("open-bar", &policy),
      -EINVAL);
  fail_unless_equals_string (px_sandbox_limit_mechanism_name
      (PX_SANDBOX_LIMITS_CGROUP_V1), "cgroup-v1");
}

GST_END_TEST;

GST_START_TEST (test_config_travels_in_arguments)
{
  const char *ro[] = { "/usr/share", NULL }, *rw[] = { "/tmp/x y", NULL };
  const char *rules[] = { "base with-network", "errno EPERM bind", NULL };
  PxSandboxConfig config, *parsed = NULL;
  char **args = NULL, *argv[16];
  int argc = 0;

  px_sandbox_config_init (&config);
  config.policy = PX_SANDBOX_POLICY_CUSTOM;
  config.read_only_paths = ro;
  config.read_write_paths = rw;
  config.rules = rules;
  config.allow_missing = PX_SANDBOX_LAYER_LIMITS;
  fail_unless_equals_int (px_sandbox_config_to_args (&config, &args), 0);
  argv[argc++] = "worker";
  for (int i = 0; args[i] != NULL; i++)
    argv[argc++] = args[i];
  argv[argc++] = "--element";
  argv[argc] = NULL;
  fail_unless_equals_int (px_sandbox_config_take_from_args (&argc, argv,
          &parsed), 0);
  fail_unless_equals_int (argc, 2);
  fail_unless_equals_string (argv[1], "--element");
  fail_unless (argv[2] == NULL);
  fail_unless_equals_int (parsed->policy, PX_SANDBOX_POLICY_CUSTOM);
  fail_unless_equals_string (parsed->read_only_paths[0], "/usr/share");
  fail_unless (parsed->read_only_paths[1] == NULL);
  fail_unless_equals_string (parsed->read_write_paths[0], "/tmp/x y");
  fail_unless_equals_string (parsed->rules[1], "errno EPERM bind");
  fail_unless_equals_int (parsed->allow_missing, PX_SANDBOX_LAYER_LIMITS);
  /* the base of the rules decides: no network namespace */
  fail_if (px_sandbox_config_wanted_layers (parsed) &
      PX_SANDBOX_LAYER_NETWORK_NAMESPACE);
  px_sandbox_config_free (parsed);
  px_sandbox_args_free (args);

  argc = 2;
  argv[1] = "--px-sandbox-policy=open-bar";
  fail_unless_equals_int (px_sandbox_config_take_from_args (&argc, argv,
          &parsed), -EINVAL);
  argv[1] = "--element";
  fail_unless_equals_int (px_sandbox_config_take_from_args (&argc, argv,
          &parsed), -ENOENT);
}

GST_END_TEST;

/* Builds a custom filter from @rules; returns the error (or NULL). */
static char *
custom_error (const char *const *rules, int expected_ret)
{
  PxSeccompFilter *filter = NULL;
  char *error = NULL;

  fail_unless_equals_int (px_seccomp_filter_new (PX_SANDBOX_POLICY_CUSTOM,
          rules, getpid (), FALSE, &filter, &error), expected_ret);
  fail_unless ((filter != NULL) == (expected_ret == 0));
  px_seccomp_filter_free (filter);
  return error;
}

GST_START_TEST (test_rules_are_checked)
{
  const char *good[] = { "base minimal-compute", "default errno EPERM",
    "allow getppid", "errno EACCES ioctl arg1 == 0x5413",
    "kill socket arg0 & 0xff == 2", "allow socket arg0 == 1", NULL
  };
  const char *unknown[] = { "allow getppid", "allow no_such_call", NULL };
  const char *protected[] = { "allow execve", NULL };
  const char *w_x[] = { "allow mprotect", NULL };
  const char *open_default[] = { "default allow", NULL };
  const char *late_base[] = { "allow getppid", "base with-network", NULL };
  const char *bad_condition[] = { "allow ioctl arg9 == 1", NULL };
  const char *mixed[] = { "allow socket", "kill socket arg0 == 2", NULL };
  char *error;

  fail_unless (custom_error (good, 0) == NULL);
  error = custom_error (unknown, -EINVAL);
  fail_unless (strstr (error, "line 2: unknown syscall \"no_such_call\""),
      "%s", error);
  g_free (error);
  error = custom_error (protected, -EPERM);
  fail_unless (strstr (error, "line 1: the rules for execve cannot be "
          "changed"), "%s", error);
  g_free (error);
  g_free (custom_error (w_x, -EPERM));
  g_free (custom_error (open_default, -EINVAL));
  g_free (custom_error (late_base, -EINVAL));
  g_free (custom_error (bad_condition, -EINVAL));
  error = custom_error (mixed, -EINVAL);
  fail_unless (strstr (error, "socket: a rule without conditions"), "%s",
      error);
  g_free (error);
}

GST_END_TEST;

GST_START_TEST (test_rules_file_is_read)
{
  char path[] = "/tmp/parallax-rules-XXXXXX", **lines = NULL, *error = NULL;
  const char *text = "# sandbox rules\n\n  base minimal-compute  \n"
      "errno EPERM socket   # no kill, please\n";
  int fd = mkstemp (path);

  fail_unless (fd >= 0);
  fail_unless (write (fd, text, strlen (text)) == (ssize_t) strlen (text));
  close (fd);
  fail_unless_equals_int (px_seccomp_read_rules_file (path, &lines, &error), 0);
  fail_unless_equals_string (lines[0], "base minimal-compute");
  fail_unless_equals_string (lines[1], "errno EPERM socket");
  fail_unless (lines[2] == NULL);
  px_sandbox_args_free (lines);
  unlink (path);
  fail_unless_equals_int (px_seccomp_read_rules_file (path, &lines, &error),
      -ENOENT);
  fail_unless (strstr (error, path) != NULL);
  g_free (error);
}

GST_END_TEST;

/* The kernel's numbers, in words: flags, signals and families by name,
 * the path read from the worker, raw arguments for calls without a
 * signature and for foreign ABIs. */
GST_START_TEST (test_violation_descriptions)
{
  PxSandboxViolation v = {.arch = SCMP_ARCH_X86_64 };
  char buf[512];

  v.nr = SCMP_SYS (mmap);
  v.args[1] = 4096;
  v.args[2] = PROT_READ | PROT_WRITE | PROT_EXEC;
  v.args[3] = MAP_PRIVATE | MAP_ANONYMOUS;
  v.args[4] = (uint64_t) - 1;
  fail_unless (px_sandbox_violation_describe (&v, buf, sizeof buf) > 0);
  fail_unless_equals_string (buf, "mmap (addr=NULL, length=4096, "
      "prot=PROT_READ|PROT_WRITE|PROT_EXEC, flags=MAP_PRIVATE|MAP_ANONYMOUS, "
      "fd=-1, offset=0x0)");

  memset (v.args, 0, sizeof v.args);
  v.nr = SCMP_SYS (execve);
  v.args[0] = 0x7f0000001000;
  g_strlcpy (v.text, "/bin/s\"h\n", sizeof v.text);
  fail_unless (px_sandbox_violation_describe (&v, buf, sizeof buf) > 0);
  fail_unless_equals_string (buf, "execve (pathname=\"/bin/s\\x22h\\x0a\", "
      "argv=NULL, envp=NULL)");
  v.text[0] = '\0';
  fail_unless (px_sandbox_violation_describe (&v, buf, sizeof buf) > 0);
  fail_unless_equals_string (buf, "execve (pathname=0x7f0000001000, "
      "argv=NULL, envp=NULL)");

  v.nr = SCMP_SYS (socket);
  v.args[0] = AF_UNIX;
  v.args[1] = SOCK_DGRAM | SOCK_CLOEXEC;
  fail_unless (px_sandbox_violation_describe (&v, buf, sizeof buf) > 0);
  fail_unless_equals_string (buf, "socket (domain=AF_UNIX, "
      "type=SOCK_DGRAM|SOCK_CLOEXEC, protocol=0)");

  v.nr = SCMP_SYS (clone);
  v.args[0] = CLONE_NEWUSER | SIGCHLD;
  v.args[1] = 0;
  fail_unless (px_sandbox_violation_describe (&v, buf, sizeof buf) > 0);
  fail_unless_equals_string (buf, "clone (flags=CLONE_NEWUSER|SIGCHLD, "
      "stack=NULL, parent_tid=NULL, child_tid=NULL, tls=0x0)");

  v.nr = SCMP_SYS (kill);
  v.args[0] = 1;
  v.args[1] = SIGKILL;
  fail_unless (px_sandbox_violation_describe (&v, buf, sizeof buf) > 0);
  fail_unless_equals_string (buf, "kill (pid=1, sig=SIGKILL)");

  v.nr = SCMP_SYS (pkey_mprotect);
  v.args[0] = 0x7f0000002000;
  v.args[1] = 4096;
  v.args[2] = PROT_READ | PROT_EXEC;
  v.args[3] = (uint64_t) - 1;
  fail_unless (px_sandbox_violation_describe (&v, buf, sizeof buf) > 0);
  fail_unless_equals_string (buf, "pkey_mprotect (addr=0x7f0000002000, "
      "len=4096, prot=PROT_READ|PROT_EXEC, pkey=-1)");

  /* a foreign ABI: no signature, its own numbering */
  memset (v.args, 0, sizeof v.args);
  v.arch = SCMP_ARCH_X86;
  v.nr = 20;
  v.args[0] = 0xff;
  fail_unless (px_sandbox_violation_describe (&v, buf, sizeof buf) > 0);
  fail_unless_equals_string (buf, "getpid (i386) (arg0=0xff, arg1=0x0, "
      "arg2=0x0, arg3=0x0, arg4=0x0, arg5=0x0)");
  fail_unless_equals_int (px_sandbox_violation_describe (&v, buf, 8), -ENOSPC);
}

GST_END_TEST;

GST_START_TEST (test_violation_names)
{
  char buf[64];

  fail_unless (px_sandbox_violation_name (59, 0xc000003e, buf, sizeof buf) > 0);
  fail_unless_equals_string (buf, "execve");
  fail_unless (px_sandbox_violation_name (11, 0x40000003, buf, sizeof buf) > 0);
  fail_unless_equals_string (buf, "execve (i386)");
  fail_unless (px_sandbox_violation_name (0x40000000 | 39, 0xc000003e, buf,
          sizeof buf) > 0);
  fail_unless_equals_string (buf, "getpid (x32)");
  fail_unless (px_sandbox_violation_name (99999, 0xc000003e, buf,
          sizeof buf) > 0);
  fail_unless_equals_string (buf, "syscall 99999");
  fail_unless_equals_int (px_sandbox_violation_name (59, 0xc000003e, buf, 3),
      -ENOSPC);
}

GST_END_TEST;

/* ---- Posture ------------------------------------------------------------ */

static void
read_dir_names (const char *path, GPtrArray * names)
{
  DIR *dir = opendir (path);
  struct dirent *e;

  fail_unless (dir != NULL, "%s: %s", path, g_strerror (errno));
  while ((e = readdir (dir)) != NULL) {
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      g_ptr_array_add (names, g_strdup (e->d_name));
  }
  closedir (dir);
}

static void
check_worker_from_outside (Outcome * o, void *data)
{
  static const char *const ns[] = { "user", "mnt", "net", "ipc", "pid",
    "uts"
  };
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *net_dev = NULL, *stat_text = NULL;
  g_auto (GStrv) stat_fields = NULL;
  g_auto (GStrv) net_lines = NULL;
  char path[128], target[256], *error = NULL;
  pid_t pid = o->child.pid;
  PxSandboxConfig config;
  unsigned verified = 0;
  ssize_t n;

  /* what the host finds agrees with what the probe says, layer by layer */
  px_sandbox_config_init (&config);
  fail_unless (px_sandbox_child_has_listener (&o->child));
  fail_unless (px_sandbox_child_check_posture (&o->child, &config,
          o->applied, &verified, &error) == 0, "%s", error);
  fail_unless_equals_int (verified, o->applied);
  /* only stdin/stdout (/dev/null), stderr and the control socket: the
   * supervisor socket is closed and the listener is the host's alone */
  g_snprintf (path, sizeof path, "/proc/%d/fd", (int) pid);
  read_dir_names (path, names);
  fail_unless_equals_int (names->len, 4);
  for (int fd = 0; fd < 4; fd++) {
    g_snprintf (path, sizeof path, "/proc/%d/fd/%d", (int) pid, fd);
    n = readlink (path, target, sizeof target - 1);
    fail_unless (n > 0, "fd %d is not open", fd);
    target[n] = '\0';
    if (fd < 2)
      fail_unless_equals_string (target, "/dev/null");
    if (fd == 2)
      fail_unless (g_str_has_prefix (target, "pipe:"), "fd 2: %s", target);
    if (fd == 3)
      fail_unless (g_str_has_prefix (target, "socket:"));
  }
  /* a session of its own: kill (0, ...) reaches nobody else */
  g_snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  fail_unless (g_file_get_contents (path, &stat_text, NULL, NULL));
  stat_fields = g_strsplit (strrchr (stat_text, ')') + 2, " ", -1);
  fail_unless_equals_int (atoi (stat_fields[2]), pid);  /* process group */
  fail_unless_equals_int (atoi (stat_fields[3]), pid);  /* session */
  /* an empty root */
  g_ptr_array_set_size (names, 0);
  g_snprintf (path, sizeof path, "/proc/%d/root", (int) pid);
  read_dir_names (path, names);
  fail_unless_equals_int (names->len, 0);
  /* a network namespace with loopback only */
  g_snprintf (path, sizeof path, "/proc/%d/net/dev", (int) pid);
  fail_unless (g_file_get_contents (path, &net_dev, NULL, NULL));
  fail_unless (strstr (net_dev, "lo:") != NULL);
  /* two header lines, lo, and the empty string after the last newline */
  net_lines = g_strsplit (net_dev, "\n", -1);
  fail_unless_equals_int (g_strv_length (net_lines), 4);
  /* namespaces of its own */
  for (unsigned i = 0; i < G_N_ELEMENTS (ns); i++) {
    struct stat mine, its;

    g_snprintf (path, sizeof path, "/proc/%d/ns/%s", (int) pid, ns[i]);
    fail_unless (stat (path, &its) == 0);
    g_snprintf (path, sizeof path, "/proc/self/ns/%s", ns[i]);
    fail_unless (stat (path, &mine) == 0);
    fail_if (its.st_ino == mine.st_ino, "the worker shares my %s "
        "namespace", ns[i]);
  }
}

static void
body_posture (void)
{
  const char *thread = " [caps=0 bounding=0 nnp=1 seccomp=2]";
  g_autofree char *expected = g_strconcat ("pid=2", thread, thread, thread,
      NULL);
  PxSandboxConfig config;
  Outcome o;

  px_sandbox_config_init (&config);
  run_probe (&config, "posture", NULL, &o, check_worker_from_outside, NULL);
  fail_unless_equals_int (o.spawn_ret, 0);
  fail_unless (o.ready, "lockdown: %s", o.lockdown_failed);
  /* every thread, those started before the lockdown included */
  fail_unless_equals_string (o.result, expected);
  fail_unless_equals_int (o.applied, PX_SANDBOX_ALL_LAYERS &
      ~PX_SANDBOX_LAYER_LIMITS);
  fail_unless_equals_int (o.code, CLD_EXITED);
  fail_unless_equals_int (o.status, 0);
  outcome_clear (&o);
}

SANDBOX_TEST (posture);

/* The host reads the posture itself: a worker under a filter of its own,
 * which handed no listener over, is refused whatever it claims. */
static void
check_withheld_listener (Outcome * o, void *data)
{
  PxSandboxConfig config;
  unsigned verified = 0;
  char *error = NULL;

  px_sandbox_config_init (&config);
  fail_if (px_sandbox_child_has_listener (&o->child));
  fail_unless_equals_int (px_sandbox_child_check_posture (&o->child, &config,
          o->applied, &verified, &error), -EPERM);
  fail_unless (error != NULL);
  fail_unless (strstr (error, "seccomp: the worker handed over no seccomp "
          "listener"), "%s", error);
  /* never locked down: its root is the host's */
  fail_unless (strstr (error, "empty-root: the worker's root is the "
          "host's"), "%s", error);
  fail_unless_equals_int (verified, 0);
  free (error);
}

static void
body_withheld_listener_refused (void)
{
  PxSandboxConfig config;
  Outcome o;

  px_sandbox_config_init (&config);
  run_probe (&config, "withhold-listener", NULL, &o, check_withheld_listener,
      NULL);
  fail_unless_equals_int (o.spawn_ret, 0);
  fail_unless_equals_string (o.result, "withheld");
  outcome_clear (&o);
}

SANDBOX_TEST (withheld_listener_refused);

/* Extra fds arrive as 4, 5, ... in order, and nothing else. */
static void
check_handed_fds (Outcome * o, void *data)
{
  const int *ours = data;
  char path[64];

  for (int i = 0; i < 2; i++) {
    char target[64], expected[64];
    struct stat st;
    ssize_t n;

    g_snprintf (path, sizeof path, "/proc/%d/fd/%d", o->child.pid, 4 + i);
    n = readlink (path, target, sizeof target - 1);
    fail_unless (n > 0, "fd %d was not handed over", 4 + i);
    target[n] = '\0';
    fail_unless (fstat (ours[i], &st) == 0);
    g_snprintf (expected, sizeof expected, "socket:[%lu]",
        (unsigned long) st.st_ino);
    fail_unless_equals_string (target, expected);
  }
  g_snprintf (path, sizeof path, "/proc/%d/fd/6", o->child.pid);
  fail_unless (access (path, F_OK) < 0, "fd 6 is open");
}

static void
body_extra_fds_are_handed_over (void)
{
  PxSandboxConfig config;
  int a[2], b[2], extra[2];
  Outcome o;

  fail_unless (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, a) == 0);
  fail_unless (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, b) == 0);
  extra[0] = a[1];
  extra[1] = b[1];
  px_sandbox_config_init (&config);
  run_probe_fds (&config, "idle", NULL, extra, 2, &o, check_handed_fds, extra);
  fail_unless_equals_string (o.result, "idle");
  fail_unless_equals_int (o.spawn_ret, 0);
  fail_unless_equals_int (o.code, CLD_EXITED);
  close (a[0]);
  close (a[1]);
  close (b[0]);
  close (b[1]);
}

SANDBOX_TEST (extra_fds_are_handed_over);

static void
body_environment_is_clean (void)
{
  const char *env[] = { "PX_EXPLICIT=1", "PX_ALLOWED", "PX_ABSENT",
    "ORC_CODE=backup", NULL
  };
  PxSandboxConfig config;
  Outcome o;

  g_setenv ("PX_ALLOWED", "yes", TRUE);
  g_setenv ("PX_SECRET", "no", TRUE);
  g_unsetenv ("PX_ABSENT");
  px_sandbox_config_init (&config);
  config.env = env;
  run_probe (&config, "env", NULL, &o, NULL, NULL);
  fail_unless_equals_int (o.spawn_ret, 0);
  fail_unless_equals_string (o.result,
      "env=PX_EXPLICIT=1;PX_ALLOWED=yes;ORC_CODE=backup");
  outcome_clear (&o);
}

SANDBOX_TEST (environment_is_clean);

/* What the probe wrote to stderr, read from the host's end. */
static void
check_stderr (Outcome * o, void *data)
{
  char buf[256];
  ssize_t n;
  struct pollfd pfd = {.fd = o->child.stderr_fd,.events = POLLIN };

  fail_unless (poll (&pfd, 1, TIMEOUT_MS) == 1);
  n = read (o->child.stderr_fd, buf, sizeof buf - 1);
  fail_unless (n > 0, "nothing on the stderr pipe");
  buf[n] = '\0';
  fail_unless_equals_string (buf, "probe: on stderr\n");
}

/* fd 2 is a pipe of the worker's own whose other end the host reads; the
 * calls that would change a shared description are refused on 0-2. */
static void
body_stderr_is_a_pipe_of_its_own (void)
{
  PxSandboxConfig config;
  Outcome o;

  px_sandbox_config_init (&config);
  run_probe (&config, "stdio", NULL, &o, check_stderr, NULL);
  fail_unless_equals_int (o.spawn_ret, 0);
  fail_unless_equals_string (o.result,
      "write=0 setfl=1 truncate=1 pwrite=1 dup=1");
  outcome_clear (&o);
}

SANDBOX_TEST (stderr_is_a_pipe_of_its_own);

/* abort () ends the worker with SIGABRT, as the kernel tells its reaper
 * (a namespace's PID 1 could not die of it: the kernel would drop it). */
static void
body_abort_is_seen_as_sigabrt (void)
{
  PxSandboxConfig config;
  Outcome o;

  px_sandbox_config_init (&config);
  run_probe (&config, "abort", NULL, &o, NULL, NULL);
  fail_unless_equals_int (o.spawn_ret, 0);
  fail_unless (o.ready, "lockdown: %s", o.lockdown_failed);
  fail_unless (o.code == CLD_KILLED || o.code == CLD_DUMPED);
  fail_unless_equals_int (o.status, SIGABRT);
  outcome_clear (&o);
}

SANDBOX_TEST (abort_is_seen_as_sigabrt);

/* ---- Misdeeds ----------------------------------------------------------- */

static void
body_open_fails_with_eacces (void)
{
  expect_errno ("open", "/etc/passwd", EACCES);
  /* no exception for what was open before: the path is the problem */
  expect_errno ("open", "/dev/null", EACCES);
}

SANDBOX_TEST (open_fails_with_eacces);

static void
body_write_fails_with_eacces (void)
{
  expect_errno ("write", NULL, EACCES);
}

SANDBOX_TEST (write_fails_with_eacces);

static void
body_socket_kills (void)
{
  expect_violation ("connect", "socket");
}

SANDBOX_TEST (socket_kills);

static void
body_exec_kills (void)
{
  expect_violation ("exec", "execve");
}

SANDBOX_TEST (exec_kills);

static void
body_fork_kills (void)
{
  expect_violation ("fork", "clone");
}

SANDBOX_TEST (fork_kills);

static void
body_ptrace_kills (void)
{
  expect_violation ("ptrace", "ptrace");
}

SANDBOX_TEST (ptrace_kills);

static void
body_kill_parent_kills (void)
{
  expect_violation ("kill-parent", "kill");
}

SANDBOX_TEST (kill_parent_kills);

/* W^X: memory asked writable and executable, or made executable after
 * the lockdown (no new code at all), is refused with EACCES, as a
 * security module refuses it: a JIT falls back instead of dying. The
 * host learns of each from the kernel. */
static void
body_executable_memory_refused (void)
{
  expect_refused ("wx-mmap", NULL, "mmap");
  expect_refused ("wx-mprotect", NULL, "mprotect");
  expect_refused ("exec-mmap", NULL, "mmap");
  expect_refused ("exec-mprotect", NULL, "mprotect");
  expect_refused ("pkey-mprotect", "rx", "pkey_mprotect");
  /* without PROT_EXEC, pkey_mprotect keeps the filter's default */
  expect_errno ("pkey-mprotect", "r", EPERM);
}

SANDBOX_TEST (executable_memory_refused);

/* Every W^X call is answered, as often as a JIT asks, within the budget. */
static void
body_repeated_refusals_answered (void)
{
  Outcome o;
  char expected[64];

  run_misdeed ("wx-repeat", "16", &o);
  g_snprintf (expected, sizeof expected, "errno %d after 16", EACCES);
  fail_unless_equals_string (o.result, expected);
  fail_unless_equals_int (o.code, CLD_EXITED);
  fail_unless_equals_int (o.n_refused, 16);
  fail_unless_equals_int (o.n_first_refusals, 1);
  fail_unless_equals_int (o.n_violations, 0);
  outcome_clear (&o);
}

SANDBOX_TEST (repeated_refusals_answered);

/* A worker that keeps asking is not probing: past the budget (a burst,
 * then one a second) the W^X call kills it, and the host handled no more
 * than that. */
static void
body_refusal_flood_kills (void)
{
  Outcome o;

  run_misdeed ("wx-repeat", "100000", &o);
  fail_unless (o.result[0] == '\0', "the flood ended: %s", o.result);
  fail_unless_equals_int (o.code, CLD_KILLED);
  fail_unless_equals_int (o.status, SIGKILL);
  fail_unless_equals_int (o.n_violations, 1);
  fail_unless_equals_int (o.verdict, PX_SANDBOX_VERDICT_FLOODED);
  fail_unless_equals_string (o.violation, "mmap");
  fail_unless (o.n_refused >= (int) PX_SANDBOX_REFUSAL_BURST &&
      o.n_refused < 100000, "%d refused", o.n_refused);
  fail_unless_equals_int (o.refused_calls, o.n_refused);
  outcome_clear (&o);
}

SANDBOX_TEST (refusal_flood_kills);

static void
body_clone3_answers_enosys (void)
{
  expect_errno ("clone3", NULL, ENOSYS);
}

SANDBOX_TEST (clone3_answers_enosys);

/* GLib gives each new pool thread its creator's scheduling settings by
 * tid: in its own PID namespace the worker may, as it reaches no other
 * task. */
static void
body_own_threads_scheduling_allowed (void)
{
  Outcome o;

  run_misdeed ("sched-copy", NULL, &o);
  fail_unless_equals_string (o.result, "ok");
  fail_unless_equals_int (o.code, CLD_EXITED);
  fail_unless_equals_int (o.n_violations, 0);
  outcome_clear (&o);
}

SANDBOX_TEST (own_threads_scheduling_allowed);

static void
body_unshare_and_mount_kill (void)
{
  expect_violation ("unshare", "unshare");
  expect_violation ("mount", "mount");
}

SANDBOX_TEST (unshare_and_mount_kill);

/* No signal carries the report: blocking SIGSYS changes nothing. */
static void
body_blocked_sigsys_still_reported (void)
{
  expect_violation ("sigsys-blocked", "execve");
}

SANDBOX_TEST (blocked_sigsys_still_reported);

static void
body_foreign_abi_kills (void)
{
  Outcome o;

  expect_violation ("x32", "getpid (x32)");
  run_misdeed ("i386", NULL, &o);
  if (o.code == CLD_KILLED && o.status == SIGSEGV) {
    skip ("no IA-32 emulation in this kernel: int 0x80 faults before "
        "seccomp sees it");
  } else {
    fail_unless_equals_int (o.status, SIGKILL);
    fail_unless_equals_string (o.violation, "getpid (i386)");
  }
  outcome_clear (&o);
}

SANDBOX_TEST (foreign_abi_kills);

/* ---- Policies ----------------------------------------------------------- */

static void
body_with_filesystem_shows_listed_paths_only (void)
{
  g_autofree char *ro = g_dir_make_tmp ("parallax-ro-XXXXXX", NULL);
  g_autofree char *rw = g_dir_make_tmp ("parallax-rw-XXXXXX", NULL);
  g_autofree char *ro_file = g_build_filename (ro, "hello", NULL);
  g_autofree char *ro_new = g_build_filename (ro, "new", NULL);
  g_autofree char *rw_file = g_build_filename (rw, "out", NULL);
  g_autofree char *lone_dir = g_dir_make_tmp ("parallax-lone-XXXXXX", NULL);
  g_autofree char *lone = g_build_filename (lone_dir, "file", NULL);
  g_autofree char *lone_sibling = g_build_filename (lone_dir, "other", NULL);
  g_autofree char *written = NULL;
  const char *ro_paths[] = { lone, ro, NULL }, *rw_paths[] = { rw, NULL };
  PxSandboxConfig config;
  Outcome o;

  fail_unless (g_file_set_contents (ro_file, "hello", -1, NULL));
  fail_unless (g_file_set_contents (lone, "lone", -1, NULL));
  fail_unless (g_file_set_contents (lone_sibling, "hidden", -1, NULL));
  chmod (lone_dir, 0755);
  chmod (lone, 0644);
  chmod (ro, 0755);
  chmod (ro_file, 0644);
  chmod (rw, 0777);
  px_sandbox_config_init (&config);
  config.policy = PX_SANDBOX_POLICY_WITH_FILESYSTEM;
  config.read_only_paths = ro_paths;
  config.read_write_paths = rw_paths;
  run_probe (&config, "read-file", ro_file, &o, NULL, NULL);
  fail_unless_equals_string (o.result, "ok hello");
  run_probe (&config, "write-file", ro_new, &o, NULL, NULL);
  fail_unless_equals_string (o.result, "errno 30");     /* EROFS */
  run_probe (&config, "write-file", rw_file, &o, NULL, NULL);
  fail_unless_equals_string (o.result, "ok");
  fail_unless (g_file_get_contents (rw_file, &written, NULL, NULL));
  fail_unless_equals_string (written, "written");
  run_probe (&config, "read-file", "/etc/passwd", &o, NULL, NULL);
  fail_unless_equals_string (o.result, "errno 2");      /* not there */
  /* a single file, without its directory */
  run_probe (&config, "read-file", lone, &o, NULL, NULL);
  fail_unless_equals_string (o.result, "ok lone");
  run_probe (&config, "read-file", lone_sibling, &o, NULL, NULL);
  fail_unless_equals_string (o.result, "errno 2");
  unlink (lone);
  unlink (lone_sibling);
  rmdir (lone_dir);
  unlink (ro_file);
  unlink (rw_file);
  rmdir (ro);
  rmdir (rw);
}

SANDBOX_TEST (with_filesystem_shows_listed_paths_only);

static void
body_custom_rules_change_the_answer (void)
{
  const char *rules[] = { "base minimal-compute", "errno EPERM socket",
    NULL
  };
  char path[] = "/tmp/parallax-rules-XXXXXX";
  const char *text = "# a socket is refused, not fatal\nerrno EPERM socket\n";
  PxSandboxConfig config;
  Outcome o;
  int fd;

  px_sandbox_config_init (&config);
  config.policy = PX_SANDBOX_POLICY_CUSTOM;
  config.rules = rules;
  run_probe (&config, "connect", NULL, &o, NULL, NULL);
  fail_unless_equals_string (o.result, "errno 1");
  fail_unless_equals_int (o.n_violations, 0);

  fd = mkstemp (path);
  fail_unless (fd >= 0);
  fail_unless (write (fd, text, strlen (text)) == (ssize_t) strlen (text));
  close (fd);
  chmod (path, 0644);
  config.rules = NULL;
  config.rules_file = path;
  run_probe (&config, "connect", NULL, &o, NULL, NULL);
  fail_unless_equals_string (o.result, "errno 1");
  unlink (path);
}

SANDBOX_TEST (custom_rules_change_the_answer);

static void
body_with_network_reaches_the_host (void)
{
  struct sockaddr_in addr = {.sin_family = AF_INET,
    .sin_addr.s_addr = htonl (INADDR_LOOPBACK)
  };
  socklen_t len = sizeof addr;
  int listener = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  char port[16];
  PxSandboxConfig config;
  Outcome o;

  fail_unless (bind (listener, (struct sockaddr *) &addr, sizeof addr) == 0);
  fail_unless (listen (listener, 4) == 0);
  fail_unless (getsockname (listener, (struct sockaddr *) &addr, &len) == 0);
  g_snprintf (port, sizeof port, "%u", ntohs (addr.sin_port));
  px_sandbox_config_init (&config);
  config.policy = PX_SANDBOX_POLICY_WITH_NETWORK;
  run_probe (&config, "connect", port, &o, NULL, NULL);
  close (listener);
  fail_unless_equals_string (o.result, "ok");
  fail_if (o.applied & PX_SANDBOX_LAYER_NETWORK_NAMESPACE);
  fail_unless (o.applied & PX_SANDBOX_LAYER_SECCOMP);
  /* no files but the resolver's, read-only */
  run_probe (&config, "open", "/etc/passwd", &o, NULL, NULL);
  fail_unless_equals_string (o.result, "errno 2");
  if (access ("/etc/hosts", R_OK) == 0) {
    run_probe (&config, "read-file", "/etc/hosts", &o, NULL, NULL);
    fail_unless (g_str_has_prefix (o.result, "ok"), "%s", o.result);
    run_probe (&config, "write-file", "/etc/hosts", &o, NULL, NULL);
    fail_unless_equals_string (o.result, "errno 30");   /* EROFS */
  }
}

SANDBOX_TEST (with_network_reaches_the_host);

/* ---- Limits ------------------------------------------------------------- */

/* Reads a number from @dir/@name. */
static long long
read_number (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = NULL;

  fail_unless (g_file_get_contents (path, &text, NULL, NULL), "%s", path);
  return g_ascii_strtoll (text, NULL, 10);
}

/* Runs @misdeed under @mechanism only; FALSE (and a skip) when this
 * machine cannot apply it. */
static gboolean
run_limited (PxSandboxLimitMechanism mechanism, PxSandboxConfig * config,
    const char *misdeed, const char *arg, Outcome * o, Inspect inspect)
{
  config->limit_mechanisms = mechanism;
  run_probe (config, misdeed, arg, o, inspect, config);
  if (o->spawn_ret == -EOPNOTSUPP) {
    char *why = g_strdup_printf ("%s limits cannot apply here: %s",
        px_sandbox_limit_mechanism_name (mechanism), o->spawn_error);
    skip (why);
    g_free (why);
    outcome_clear (o);
    return FALSE;
  }
  fail_unless_equals_int (o->spawn_ret, 0);
  fail_unless (o->ready, "lockdown: %s", o->lockdown_failed);
  fail_unless (o->applied & PX_SANDBOX_LAYER_LIMITS);
  return TRUE;
}

static void
expect_memory_limit (PxSandboxLimitMechanism mechanism)
{
  PxSandboxConfig config;
  Outcome o;

  px_sandbox_config_init (&config);
  config.memory_bytes = 64 << 20;
  if (!run_limited (mechanism, &config, "memory", "512", &o, NULL))
    return;
  if (mechanism == PX_SANDBOX_LIMITS_RLIMIT) {
    fail_unless (g_str_has_prefix (o.result, "errno 12"), "%s", o.result);
  } else {
    /* the cgroup's OOM killer */
    fail_unless (o.result[0] == '\0', "no limit: %s", o.result);
    fail_unless_equals_int (o.code, CLD_KILLED);
    fail_unless_equals_int (o.status, SIGKILL);
  }
  outcome_clear (&o);
}

/* A memfd of @size bytes that cannot grow or shrink, as the host makes
 * arenas for a worker. */
static int
sealed_memfd (gsize size)
{
  int fd = memfd_create ("hoard", MFD_CLOEXEC | MFD_ALLOW_SEALING);

  fail_unless (fd >= 0);
  fail_unless (ftruncate (fd, size) == 0);
  fail_unless (fcntl (fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) == 0);
  return fd;
}

#define HOARD_LIMIT (192u << 20)
#define HOARD_MEMFD (96u << 20)

static void
check_memory_held (Outcome * o, void *data)
{
  gboolean *over = data;
  guint64 held = 0;

  fail_unless (g_str_has_prefix (o->result, "hoarded "), "%s", o->result);
  fail_unless_equals_int (px_sandbox_child_memory_held (&o->child, &held), 0);
  *over = held > HOARD_LIMIT;
  if (*over)
    /* the address space, nearly full, and the whole memfd beside it */
    fail_unless (held >= HOARD_LIMIT - (32u << 20) + HOARD_MEMFD,
        "%" G_GUINT64_FORMAT " bytes", held);
}

/* RLIMIT_AS leaves out memfd pages a worker holds by fd without mapping
 * them: px_sandbox_child_memory_held() counts them, so that the
 * supervisor can hold the limit (GstPxWorker kills such a worker). */
static void
body_memory_held_counts_unmapped_memfds (void)
{
  const char *hows[] = { "unmap", "keep-mapped" };

  for (guint i = 0; i < G_N_ELEMENTS (hows); i++) {
    PxSandboxConfig config;
    gboolean over = FALSE;
    int memfd = sealed_memfd (HOARD_MEMFD);
    Outcome o;

    px_sandbox_config_init (&config);
    config.memory_bytes = HOARD_LIMIT;
    config.limit_mechanisms = PX_SANDBOX_LIMITS_RLIMIT;
    run_probe_fds (&config, "hoard-memfd", hows[i], &memfd, 1, &o,
        check_memory_held, &over);
    fail_unless (o.spawn_ret == 0, "%s", o.spawn_error);
    /* unmapped, the memfd is beside the full address space; mapped, it is
     * part of it */
    fail_unless (over == (i == 0), "%s: over the limit: %d", hows[i], over);
    close (memfd);
    outcome_clear (&o);
  }
}

SANDBOX_TEST (memory_held_counts_unmapped_memfds);

static void
check_cpu_limit (Outcome * o, void *data)
{
  const PxSandboxConfig *config = data;
  char dir[4096];

  fail_unless_equals_string (o->result, "spinning");
  if (config->limit_mechanisms == PX_SANDBOX_LIMITS_RLIMIT) {
    g_autofree char *path = g_strdup_printf ("/proc/%d/stat", o->child.pid);
    g_autofree char *stat = NULL;
    g_auto (GStrv) fields = NULL;

    fail_unless (g_file_get_contents (path, &stat, NULL, NULL));
    fields = g_strsplit (strrchr (stat, ')') + 2, " ", -1);
    fail_unless_equals_string (fields[16], "19");       /* nice */
  } else if (config->limit_mechanisms == PX_SANDBOX_LIMITS_CGROUP_V1) {
    fail_unless_equals_int (px_limits_cgroup_dir (o->child.pid, "cpu", dir,
            sizeof dir), 0);
    fail_unless_equals_int (read_number (dir, "cpu.cfs_period_us"), 100000);
    fail_unless_equals_int (read_number (dir, "cpu.cfs_quota_us"), 20000);
  } else {
    g_autofree char *cpu_max = NULL, *path = NULL;

    fail_unless_equals_int (px_limits_cgroup_dir (o->child.pid, NULL, dir,
            sizeof dir), 0);
    path = g_build_filename (dir, "cpu.max", NULL);
    fail_unless (g_file_get_contents (path, &cpu_max, NULL, NULL));
    fail_unless_equals_string (cpu_max, "20000 100000\n");
  }
  fail_unless_equals_int (px_sandbox_child_kill (&o->child), 0);
}

static void
expect_cpu_limit (PxSandboxLimitMechanism mechanism)
{
  PxSandboxConfig config;
  Outcome o;

  px_sandbox_config_init (&config);
  config.cpu_percent = 20;
  if (!run_limited (mechanism, &config, "cpu", NULL, &o, check_cpu_limit))
    return;
  fail_unless_equals_int (o.status, SIGKILL);
  outcome_clear (&o);
}

static void
expect_pids_limit (PxSandboxLimitMechanism mechanism)
{
  PxSandboxConfig config;
  Outcome o;

  px_sandbox_config_init (&config);
  config.pids = 8;
  if (!run_limited (mechanism, &config, "pids", "64", &o, NULL))
    return;
  fail_unless (g_str_has_prefix (o.result, "errno 11 after "), "%s", o.result);
  fail_unless (atoi (o.result + 15) < 8, "%s", o.result);
  outcome_clear (&o);
}

#define CGROUP_TEST(version, resource, mechanism) \
  GST_START_TEST (test_cgroup_ ## version ## _ ## resource) \
  { \
    expect_ ## resource ## _limit (mechanism); \
  } \
  GST_END_TEST;

CGROUP_TEST (v2, memory, PX_SANDBOX_LIMITS_CGROUP_V2);
CGROUP_TEST (v2, cpu, PX_SANDBOX_LIMITS_CGROUP_V2);
CGROUP_TEST (v2, pids, PX_SANDBOX_LIMITS_CGROUP_V2);
CGROUP_TEST (v1, memory, PX_SANDBOX_LIMITS_CGROUP_V1);
CGROUP_TEST (v1, cpu, PX_SANDBOX_LIMITS_CGROUP_V1);
CGROUP_TEST (v1, pids, PX_SANDBOX_LIMITS_CGROUP_V1);

/* Limits without cgroups: as nobody, every cgroup is closed and spawn
 * falls back to rlimits by itself. */
static void
body_rlimit_fallback (void)
{
  PxSandboxConfig config;
  Outcome o;

  px_sandbox_config_init (&config);
  config.memory_bytes = 64 << 20;
  run_probe (&config, "nothing", NULL, &o, NULL, NULL);
  fail_unless_equals_int (o.spawn_ret, 0);
  fail_unless (o.applied & PX_SANDBOX_LAYER_LIMITS);
  fail_unless_equals_int (o.limits, PX_SANDBOX_LIMITS_RLIMIT);
  outcome_clear (&o);
  expect_memory_limit (PX_SANDBOX_LIMITS_RLIMIT);
  expect_cpu_limit (PX_SANDBOX_LIMITS_RLIMIT);
  expect_pids_limit (PX_SANDBOX_LIMITS_RLIMIT);
}

GST_START_TEST (test_rlimit_fallback_unprivileged)
{
  if (geteuid () == 0)
    as_nobody (body_rlimit_fallback);
  else
    body_rlimit_fallback ();
}

GST_END_TEST;

/* As root, rlimits need a worker uid: RLIMIT_NPROC does not bind root,
 * which a root caller's worker is only when asked for (run_as_caller). */
GST_START_TEST (test_rlimits_as_root_need_a_uid)
{
  PxSandboxConfig config;
  Outcome o;

  if (geteuid () != 0) {
    skip ("needs root");
    return;
  }
  if (!nobody_can_run_probe ())
    return;
  px_sandbox_config_init (&config);
  config.pids = 8;
  config.limit_mechanisms = PX_SANDBOX_LIMITS_RLIMIT;
  run_probe (&config, "pids", "64", &o, NULL, NULL);
  fail_unless_equals_int (o.spawn_ret, 0);
  fail_unless (g_str_has_prefix (o.result, "errno 11 after "), "%s", o.result);
  outcome_clear (&o);
  config.run_as_caller = TRUE;
  run_probe (&config, "nothing", NULL, &o, NULL, NULL);
  fail_unless_equals_int (o.spawn_ret, -EOPNOTSUPP);
  fail_unless (g_str_has_prefix (o.spawn_error, "limits: "), "%s",
      o.spawn_error);
  fail_unless (strstr (o.spawn_error, "RLIMIT_NPROC") != NULL);
  outcome_clear (&o);
  config.change_ids = TRUE;
  config.uid = NOBODY;
  config.gid = NOBODY;
  run_probe (&config, "pids", "64", &o, NULL, NULL);
  fail_unless_equals_int (o.spawn_ret, 0);
  fail_unless (g_str_has_prefix (o.result, "errno 11 after "), "%s", o.result);
  outcome_clear (&o);
}

GST_END_TEST;

/* ---- Failing closed ----------------------------------------------------- */

static void
body_missing_limits_fail_closed (void)
{
  PxSandboxConfig config;
  Outcome o;

  px_sandbox_config_init (&config);
  config.memory_bytes = 64 << 20;
  /* "/" is no cgroup: cgroup v2 cannot apply, and nothing else is
   * accepted */
  config.limit_mechanisms = PX_SANDBOX_LIMITS_CGROUP_V2;
  config.cgroup_parent = "/";
  run_probe (&config, "nothing", NULL, &o, NULL, NULL);
  fail_unless_equals_int (o.spawn_ret, -EOPNOTSUPP);
  fail_unless (g_str_has_prefix (o.spawn_error, "limits: "), "%s",
      o.spawn_error);
  outcome_clear (&o);

  config.allow_missing = PX_SANDBOX_LAYER_LIMITS;
  run_probe (&config, "nothing", NULL, &o, NULL, NULL);
  fail_unless_equals_int (o.spawn_ret, 0);
  fail_unless_equals_string (o.result, "ok");
  fail_if (o.applied & PX_SANDBOX_LAYER_LIMITS);
  fail_unless (o.applied & PX_SANDBOX_LAYER_SECCOMP);
  outcome_clear (&o);
}

SANDBOX_TEST (missing_limits_fail_closed);

/* The warning and the missing mask come with the child. */
static void
check_warning (Outcome * o, void *data)
{
  fail_unless_equals_int (o->child.missing, GPOINTER_TO_UINT (data));
  fail_unless (o->child.warning != NULL);
  fail_unless (strstr (o->child.warning, px_sandbox_layer_name
          (GPOINTER_TO_UINT (data))) != NULL, "%s", o->child.warning);
}

static void
body_bad_rules_fail_closed (void)
{
  const char *rules[] = { "allow no_such_call", NULL };
  PxSandboxConfig config;
  Outcome o;

  px_sandbox_config_init (&config);
  config.policy = PX_SANDBOX_POLICY_CUSTOM;
  config.rules = rules;
  run_probe (&config, "nothing", NULL, &o, NULL, NULL);
  fail_unless_equals_int (o.spawn_ret, -EINVAL);
  fail_unless (g_str_has_prefix (o.spawn_error, "seccomp: "), "%s",
      o.spawn_error);
  fail_unless (strstr (o.spawn_error, "line 1") != NULL);
  outcome_clear (&o);

  config.allow_missing = PX_SANDBOX_LAYER_SECCOMP;
  run_probe (&config, "nothing", NULL, &o, check_warning,
      GUINT_TO_POINTER (PX_SANDBOX_LAYER_SECCOMP));
  fail_unless_equals_int (o.spawn_ret, 0);
  fail_unless (o.ready, "lockdown: %s", o.lockdown_failed);
  fail_unless_equals_int (o.applied, PX_SANDBOX_ALL_LAYERS &
      ~PX_SANDBOX_LAYER_LIMITS & ~PX_SANDBOX_LAYER_SECCOMP);
  outcome_clear (&o);
}

SANDBOX_TEST (bad_rules_fail_closed);

static void
body_missing_path_fails_closed (void)
{
  const char *paths[] = { "/nonexistent/parallax", NULL };
  PxSandboxConfig config;
  Outcome o;

  px_sandbox_config_init (&config);
  config.policy = PX_SANDBOX_POLICY_WITH_FILESYSTEM;
  config.read_only_paths = paths;
  run_probe (&config, "nothing", NULL, &o, NULL, NULL);
  fail_unless (!o.ready);
  fail_unless (g_str_has_prefix (o.lockdown_failed, "empty-root: "), "%s",
      o.lockdown_failed);
  fail_unless (strstr (o.lockdown_failed, paths[0]) != NULL);
  fail_unless_equals_int (o.status, 1);

  config.allow_missing = PX_SANDBOX_LAYER_EMPTY_ROOT;
  run_probe (&config, "nothing", NULL, &o, NULL, NULL);
  fail_unless (o.ready, "lockdown: %s", o.lockdown_failed);
  fail_if (o.applied & PX_SANDBOX_LAYER_EMPTY_ROOT);
  fail_unless (o.applied & PX_SANDBOX_LAYER_CAPABILITIES);
}

SANDBOX_TEST (missing_path_fails_closed);

static void
body_threads_without_prepare_fail_closed (void)
{
  PxSandboxConfig config;
  Outcome o;

  px_sandbox_config_init (&config);
  run_probe (&config, "threads-unprepared", NULL, &o, NULL, NULL);
  fail_unless (!o.ready);
  fail_unless (g_str_has_prefix (o.lockdown_failed, "capabilities: 3 "
          "threads"), "%s", o.lockdown_failed);
}

SANDBOX_TEST (threads_without_prepare_fail_closed);

/* A directory fd kept across the lockdown would let openat reach the old
 * root: refused where the policy allows opening paths. */
static void
body_held_directory_fails_closed (void)
{
  const char *rules[] = { "allow openat", NULL };
  PxSandboxConfig config;
  Outcome o;

  px_sandbox_config_init (&config);
  config.policy = PX_SANDBOX_POLICY_WITH_NETWORK;
  run_probe (&config, "hold-directory", NULL, &o, NULL, NULL);
  fail_unless (!o.ready);
  fail_unless (g_str_has_prefix (o.lockdown_failed, "empty-root: fd "),
      "%s", o.lockdown_failed);
  fail_unless (strstr (o.lockdown_failed, "is a directory") != NULL);
  config.policy = PX_SANDBOX_POLICY_CUSTOM;
  config.rules = rules;
  run_probe (&config, "hold-directory", NULL, &o, NULL, NULL);
  fail_unless (g_str_has_prefix (o.lockdown_failed, "empty-root: fd "),
      "%s", o.lockdown_failed);
  /* minimal-compute refuses every open: the fd reaches nothing */
  px_sandbox_config_init (&config);
  run_probe (&config, "hold-directory", NULL, &o, NULL, NULL);
  fail_unless (o.ready, "lockdown: %s", o.lockdown_failed);
  fail_unless_equals_string (o.result, "ok");
}

SANDBOX_TEST (held_directory_fails_closed);

static void
body_other_user_needs_privileges (void)
{
  PxSandboxConfig config;
  PxSandboxChild child;
  char *error = NULL;

  if (geteuid () == 0) {
    skip ("privileged: see test_rlimits_as_root_need_a_uid");
    return;
  }
  px_sandbox_config_init (&config);
  config.change_ids = TRUE;
  config.uid = config.gid = 1;
  fail_unless_equals_int (px_sandbox_spawn (probe_path (), NULL, 2, &config,
          &child, &error), -EPERM);
  fail_unless (error != NULL);
  g_free (error);
}

SANDBOX_TEST (other_user_needs_privileges);

static int
write_text (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : write (fd, text, strlen (text));

  if (fd >= 0)
    close (fd);
  return n == (ssize_t) strlen (text) ? 0 : -1;
}

/* Maps the caller to 0 in the user namespace it just entered: a helper
 * outside does it for root (a namespace cannot map its own host root), the
 * caller itself otherwise. */
static void
map_new_userns_to_root (uid_t uid, gid_t gid, int helper_pipe)
{
  char map[64];

  if (uid == 0) {
    char c = 0;

    fail_unless (write (helper_pipe, &c, 1) == 1);
    return;
  }
  fail_unless (write_text ("/proc/self", "setgroups", "deny") == 0);
  g_snprintf (map, sizeof map, "0 %u 1", (unsigned) uid);
  fail_unless (write_text ("/proc/self", "uid_map", map) == 0);
  g_snprintf (map, sizeof map, "0 %u 1", (unsigned) gid);
  fail_unless (write_text ("/proc/self", "gid_map", map) == 0);
}

/* Enters a user namespace in which no namespace of the kind @limit
 * ("max_net_namespaces", ...) may be created: a layer that really cannot
 * be had. */
static gboolean
enter_userns_without (const char *limit)
{
  uid_t uid = geteuid ();
  gid_t gid = getegid ();
  int to_helper[2], status;
  pid_t helper;

  fail_unless (pipe2 (to_helper, O_CLOEXEC) == 0);
  helper = fork ();
  fail_unless (helper >= 0);
  if (helper == 0) {
    char dir[64], c;

    close (to_helper[1]);
    if (read (to_helper[0], &c, 1) != 1)
      _exit (0);                /* not needed */
    /* root, and nobody for its workers */
    g_snprintf (dir, sizeof dir, "/proc/%d", (int) getppid ());
    _exit (write_text (dir, "uid_map", "0 0 1\n65534 65534 1") < 0 ||
        write_text (dir, "gid_map", "0 0 1\n65534 65534 1") < 0);
  }
  close (to_helper[0]);
  fail_unless (unshare (CLONE_NEWUSER) == 0);
  map_new_userns_to_root (uid, gid, to_helper[1]);
  close (to_helper[1]);
  fail_unless (waitpid (helper, &status, 0) == helper);
  fail_unless (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  return write_text ("/proc/sys/user", limit, "0") == 0;
}

static void
body_missing_namespace_fails_closed (void)
{
  PxSandboxConfig config;
  pid_t pid;
  Outcome o;

  pid = check_fork ();
  if (pid == 0) {
    if (!enter_userns_without ("max_net_namespaces")) {
      skip ("cannot limit network namespaces in a user namespace here");
      exit (EXIT_SUCCESS);
    }
    px_sandbox_config_init (&config);
    run_probe (&config, "nothing", NULL, &o, NULL, NULL);
    fail_unless_equals_int (o.spawn_ret, -ENOSPC);
    fail_unless (g_str_has_prefix (o.spawn_error, "network-namespace: "),
        "%s", o.spawn_error);
    outcome_clear (&o);
    config.allow_missing = PX_SANDBOX_LAYER_NETWORK_NAMESPACE;
    run_probe (&config, "nothing", NULL, &o, check_warning,
        GUINT_TO_POINTER (PX_SANDBOX_LAYER_NETWORK_NAMESPACE));
    fail_unless_equals_int (o.spawn_ret, 0);
    fail_unless (o.ready, "lockdown: %s", o.lockdown_failed);
    fail_if (o.applied & PX_SANDBOX_LAYER_NETWORK_NAMESPACE);
    fail_unless (o.applied & PX_SANDBOX_LAYER_SECCOMP);
    outcome_clear (&o);
    /* without a mount namespace of its own, the worker must not pivot the
     * caller's root */
    fail_unless (write_text ("/proc/sys/user", "max_mnt_namespaces", "0")
        == 0);
    config.allow_missing |= PX_SANDBOX_LAYER_MOUNT_NAMESPACE;
    run_probe (&config, "nothing", NULL, &o, NULL, NULL);
    fail_unless_equals_int (o.spawn_ret, 0);
    fail_unless (g_str_has_prefix (o.lockdown_failed, "empty-root: the "
            "worker has no mount namespace of its own"), "%s",
        o.lockdown_failed);
    outcome_clear (&o);
    exit (EXIT_SUCCESS);
  }
  check_waitpid_and_exit (pid);
}

SANDBOX_TEST (missing_namespace_fails_closed);

/* Where user namespaces are switched off (user.max_user_namespaces = 0
 * here), spawn says which layer and which setting, not an errno. */
static void
body_namespace_limit_is_named (void)
{
  PxSandboxConfig config;
  pid_t pid;
  Outcome o;

  pid = check_fork ();
  if (pid == 0) {
    if (!enter_userns_without ("max_user_namespaces")) {
      skip ("cannot limit user namespaces in a user namespace here");
      exit (EXIT_SUCCESS);
    }
    px_sandbox_config_init (&config);
    run_probe (&config, "nothing", NULL, &o, NULL, NULL);
    fail_unless_equals_int (o.spawn_ret, -ENOSPC);
    fail_unless (g_str_has_prefix (o.spawn_error, "user-namespace: "), "%s",
        o.spawn_error);
    fail_unless (strstr (o.spawn_error, "user.max_user_namespaces is 0")
        != NULL, "%s", o.spawn_error);
    fail_if (strstr (o.spawn_error, g_strerror (ENOSPC)) != NULL, "%s",
        o.spawn_error);
    outcome_clear (&o);
    exit (EXIT_SUCCESS);
  }
  check_waitpid_and_exit (pid);
}

SANDBOX_TEST (namespace_limit_is_named);

/* ---- Lifetime ----------------------------------------------------------- */

/* The worker dies with the thread that spawned it. */
static void
body_worker_dies_with_its_supervisor (void)
{
  const char *argv[] = { "sandbox-probe", "idle", NULL };
  int pipe_fds[2], pidfd;
  pid_t supervisor, worker;
  struct pollfd pfd;

  fail_unless (pipe2 (pipe_fds, O_CLOEXEC) == 0);
  supervisor = fork ();
  fail_unless (supervisor >= 0);
  if (supervisor == 0) {
    PxSandboxConfig config;
    PxSandboxChild child;
    char *error = NULL;
    int sv[2];

    px_sandbox_config_init (&config);
    if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
        px_sandbox_spawn (probe_path (), argv, sv[1], &config, &child,
            &error) < 0)
      _exit (1);
    if (write (pipe_fds[1], &child.pid, sizeof child.pid) < 0)
      _exit (1);
    for (;;)
      pause ();
  }
  close (pipe_fds[1]);
  fail_unless (read (pipe_fds[0], &worker, sizeof worker) == sizeof worker);
  close (pipe_fds[0]);
  pidfd = syscall (SYS_pidfd_open, worker, 0);
  fail_unless (pidfd >= 0);
  kill (supervisor, SIGKILL);
  fail_unless (waitpid (supervisor, NULL, 0) == supervisor);
  pfd.fd = pidfd;
  pfd.events = POLLIN;
  fail_unless (poll (&pfd, 1, TIMEOUT_MS) == 1, "the worker outlived its "
      "supervisor");
  close (pidfd);
}

SANDBOX_TEST (worker_dies_with_its_supervisor);


static void *
sleep_forever (void *data)
{
  for (;;)
    pause ();
  return NULL;
}

/* The posture check leaves out a thread that has begun to exit: the kernel
 * says so (PF_EXITING), not the process. A thread group leader that called
 * pthread_exit() stays listed, exiting, while another thread lives. */
GST_START_TEST (test_exiting_thread_is_told_from_the_kernel)
{
  char path[64];
  pid_t pid, other = 0;
  struct dirent *entry;
  int status, exiting = 0;
  DIR *dir;

  pid = fork ();
  fail_unless (pid >= 0);
  if (pid == 0) {
    pthread_t thread;

    if (pthread_create (&thread, NULL, sleep_forever, NULL) != 0)
      _exit (1);
    pthread_exit (NULL);
  }
  for (int i = 0; i < TIMEOUT_MS / 10 && exiting != 1; i++) {
    exiting = px_sandbox_task_exiting (pid, pid);
    if (exiting != 1)
      g_usleep (10 * 1000);
  }
  fail_unless_equals_int (exiting, 1);
  snprintf (path, sizeof path, "/proc/%d/task", (int) pid);
  dir = opendir (path);
  fail_unless (dir != NULL);
  while ((entry = readdir (dir)) != NULL)
    if (entry->d_name[0] != '.' && atoi (entry->d_name) != pid)
      other = atoi (entry->d_name);
  closedir (dir);
  fail_unless (other > 0, "the second thread is not listed");
  fail_unless_equals_int (px_sandbox_task_exiting (pid, other), 0);
  fail_unless_equals_int (px_sandbox_task_exiting (pid, 0x7ffffff0), -ENOENT);
  kill (pid, SIGKILL);
  fail_unless (waitpid (pid, &status, 0) == pid);
}

GST_END_TEST;

static Suite *
sandbox_suite (void)
{
  Suite *s = suite_create ("sandbox");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_layer_and_policy_names);
  tcase_add_test (tc, test_config_travels_in_arguments);
  tcase_add_test (tc, test_rules_are_checked);
  tcase_add_test (tc, test_rules_file_is_read);
  tcase_add_test (tc, test_violation_names);
  tcase_add_test (tc, test_violation_descriptions);
  tcase_add_test (tc, test_exiting_thread_is_told_from_the_kernel);
  ADD_SANDBOX_TEST (tc, posture);
  ADD_SANDBOX_TEST (tc, extra_fds_are_handed_over);
  ADD_SANDBOX_TEST (tc, memory_held_counts_unmapped_memfds);
  ADD_SANDBOX_TEST (tc, environment_is_clean);
  ADD_SANDBOX_TEST (tc, open_fails_with_eacces);
  ADD_SANDBOX_TEST (tc, write_fails_with_eacces);
  ADD_SANDBOX_TEST (tc, socket_kills);
  ADD_SANDBOX_TEST (tc, exec_kills);
  ADD_SANDBOX_TEST (tc, fork_kills);
  ADD_SANDBOX_TEST (tc, ptrace_kills);
  ADD_SANDBOX_TEST (tc, kill_parent_kills);
  ADD_SANDBOX_TEST (tc, executable_memory_refused);
  ADD_SANDBOX_TEST (tc, repeated_refusals_answered);
  ADD_SANDBOX_TEST (tc, refusal_flood_kills);
  ADD_SANDBOX_TEST (tc, clone3_answers_enosys);
  ADD_SANDBOX_TEST (tc, own_threads_scheduling_allowed);
  ADD_SANDBOX_TEST (tc, unshare_and_mount_kill);
  ADD_SANDBOX_TEST (tc, blocked_sigsys_still_reported);
  ADD_SANDBOX_TEST (tc, withheld_listener_refused);
  ADD_SANDBOX_TEST (tc, foreign_abi_kills);
  ADD_SANDBOX_TEST (tc, with_filesystem_shows_listed_paths_only);
  ADD_SANDBOX_TEST (tc, custom_rules_change_the_answer);
  ADD_SANDBOX_TEST (tc, with_network_reaches_the_host);
  tcase_add_test (tc, test_cgroup_v2_memory);
  tcase_add_test (tc, test_cgroup_v2_cpu);
  tcase_add_test (tc, test_cgroup_v2_pids);
  tcase_add_test (tc, test_cgroup_v1_memory);
  tcase_add_test (tc, test_cgroup_v1_cpu);
  tcase_add_test (tc, test_cgroup_v1_pids);
  tcase_add_test (tc, test_rlimit_fallback_unprivileged);
  tcase_add_test (tc, test_rlimits_as_root_need_a_uid);
  ADD_SANDBOX_TEST (tc, missing_limits_fail_closed);
  ADD_SANDBOX_TEST (tc, bad_rules_fail_closed);
  ADD_SANDBOX_TEST (tc, missing_path_fails_closed);
  ADD_SANDBOX_TEST (tc, threads_without_prepare_fail_closed);
  ADD_SANDBOX_TEST (tc, held_directory_fails_closed);
  ADD_SANDBOX_TEST (tc, other_user_needs_privileges);
  ADD_SANDBOX_TEST (tc, missing_namespace_fails_closed);
  ADD_SANDBOX_TEST (tc, namespace_limit_is_named);
  ADD_SANDBOX_TEST (tc, stderr_is_a_pipe_of_its_own);
  ADD_SANDBOX_TEST (tc, abort_is_seen_as_sigabrt);
  ADD_SANDBOX_TEST (tc, worker_dies_with_its_supervisor);
  return s;
}

GST_CHECK_MAIN (sandbox);
