/* Parallax — a stand-in worker for the sandbox tests. Never installed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   sandbox-probe [--px-sandbox-...] MISDEED [ARGUMENT]
 *
 * Started by px_sandbox_spawn() like parallax-worker: calls
 * px_sandbox_lockdown_prepare(), px_sandbox_lockdown() with the
 * configuration it was given, reports "ready <layers>" on the control
 * socket (fd 3), then commits one misdeed and reports "result ..." — unless
 * the jail kills it first, in which case the kernel tells the host.
 * Messages are PX_WIRE_MESSAGE blobs whose body is the text.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "px-sandbox.h"
#include "px-wire.h"

#define CONTROL_FD 3
#define POSTURE_THREADS 3       /* main + 2 */

extern char **environ;

static void
say (const char *fmt, ...)
{
  char body[4096];
  PxWireBlob blob = { 0 };
  va_list args;

  va_start (args, fmt);
  vsnprintf (body, sizeof body, fmt, args);
  va_end (args);
  blob.body = body;
  blob.body_size = strlen (body) + 1;
  px_wire_send_blob (CONTROL_FD, PX_WIRE_MESSAGE, 0, 0, &blob);
}

static void
report (long ret)
{
  if (ret < 0)
    say ("result errno %d", errno);
  else
    say ("result ok");
}

/* ---- Posture ------------------------------------------------------------ */

typedef struct
{
  uint64_t caps;                /* effective | permitted | inheritable */
  uint64_t bounding;
  int nnp;
  int seccomp;
} Posture;

static pthread_barrier_t barrier;
static Posture postures[POSTURE_THREADS];

static void
read_posture (Posture * p)
{
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2] = { 0 };

  syscall (SYS_capget, &header, data);
  p->caps = 0;
  for (int i = 0; i < 2; i++)
    p->caps |= (uint64_t) (data[i].effective | data[i].permitted |
        data[i].inheritable) << (32 * i);
  p->bounding = 0;
  for (int cap = 0; cap < 64; cap++) {
    if (prctl (PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
      p->bounding |= 1ull << cap;
  }
  p->nnp = prctl (PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  p->seccomp = prctl (PR_GET_SECCOMP, 0, 0, 0, 0);
}

/* Started before the lockdown: TSYNC must reach them. */
static void *
posture_thread (void *data)
{
  Posture *p = data;

  pthread_barrier_wait (&barrier);      /* lockdown done */
  read_posture (p);
  pthread_barrier_wait (&barrier);      /* read */
  return NULL;
}

static int
start_posture_threads (pthread_t * threads)
{
  pthread_barrier_init (&barrier, NULL, POSTURE_THREADS);
  for (int i = 1; i < POSTURE_THREADS; i++) {
    if (pthread_create (&threads[i], NULL, posture_thread, &postures[i]) != 0)
      return -1;
  }
  return 0;
}

/* Waits until the host closes the control socket (it inspects /proc). */
static void
wait_for_host (void)
{
  char buf[256];

  while (read (CONTROL_FD, buf, sizeof buf) > 0 || errno == EINTR);
}

static void
posture (pthread_t * threads)
{
  char text[1024];
  size_t len;

  pthread_barrier_wait (&barrier);
  read_posture (&postures[0]);
  pthread_barrier_wait (&barrier);
  for (int i = 1; i < POSTURE_THREADS; i++)
    pthread_join (threads[i], NULL);
  len = snprintf (text, sizeof text, "result pid=%d", (int) getpid ());
  for (int i = 0; i < POSTURE_THREADS; i++)
    len += snprintf (text + len, sizeof text - len,
        " [caps=%llx bounding=%llx nnp=%d seccomp=%d]",
        (unsigned long long) postures[i].caps,
        (unsigned long long) postures[i].bounding, postures[i].nnp,
        postures[i].seccomp);
  say ("%s", text);
  wait_for_host ();
}

/* ---- Misdeeds ----------------------------------------------------------- */

static void
idle (const char *arg)
{
  say ("result idle");
  wait_for_host ();
}

static void
environment (const char *arg)
{
  char text[4096];
  size_t len = 0;

  for (char **e = environ; *e != NULL && len < sizeof text; e++)
    len += snprintf (text + len, sizeof text - len, "%s%s", len ? ";" : "", *e);
  say ("result env=%s", text);
}

static void
connect_to (const char *port)
{
  struct sockaddr_in addr = {.sin_family = AF_INET,
    .sin_port = htons ((uint16_t) atoi (port ? port : "9")),
    .sin_addr.s_addr = htonl (INADDR_LOOPBACK),
  };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0) {
    report (-1);
    return;
  }
  report (connect (fd, (struct sockaddr *) &addr, sizeof addr));
}

static void
read_file (const char *path)
{
  char buf[64];
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read (fd, buf, sizeof buf - 1);

  if (n < 0) {
    report (-1);
    return;
  }
  buf[n] = '\0';
  say ("result ok %s", buf);
}

static void
write_file (const char *path)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  report (fd < 0 ? -1 : write (fd, "written", 7));
}

/* Touches @limit_mib MiB in 16 MiB steps. */
static void
allocate (const char *limit_mib)
{
  long steps = atol (limit_mib ? limit_mib : "1024") / 16;

  for (long i = 0; i < steps; i++) {
    void *p = mmap (NULL, 16 << 20, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED) {
      say ("result errno %d after %ld MiB", errno, i * 16);
      return;
    }
    memset (p, 1, 16 << 20);
  }
  say ("result ok");
}

/* Fills the memfd handed over as fd 4 through a mapping, unmaps it unless
 * @how is "keep-mapped" (keeping the fd), then fills the address space to
 * its limit, and waits while the host counts. */
static void
hoard_memfd (const char *how)
{
  struct stat st;
  char *arena;
  long mib = 0;

  if (fstat (4, &st) < 0 || (arena = mmap (NULL, st.st_size,
              PROT_READ | PROT_WRITE, MAP_SHARED, 4, 0)) == MAP_FAILED) {
    say ("result errno %d", errno);
    return;
  }
  memset (arena, 1, st.st_size);
  if (how == NULL || strcmp (how, "keep-mapped") != 0)
    munmap (arena, st.st_size);
  for (;;) {
    void *p = mmap (NULL, 4 << 20, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
      break;
    memset (p, 1, 4 << 20);
    mib += 4;
  }
  say ("result hoarded %ld MiB", mib);
  wait_for_host ();
}

static void *
block_forever (void *data)
{
  for (;;)
    pause ();
  return NULL;
}

static void
make_threads (const char *count)
{
  long n = atol (count ? count : "64");

  for (long i = 0; i < n; i++) {
    pthread_attr_t attr;
    pthread_t thread;
    int ret;

    pthread_attr_init (&attr);
    pthread_attr_setstacksize (&attr, 64 * 1024);
    ret = pthread_create (&thread, &attr, block_forever, NULL);
    pthread_attr_destroy (&attr);
    if (ret != 0) {
      say ("result errno %d after %ld threads", ret, i);
      return;
    }
  }
  say ("result ok");
}

static void
map_wx (bool with_mprotect, int second_prot)
{
  int prot = with_mprotect ? PROT_READ | PROT_WRITE :
      PROT_READ | PROT_WRITE | PROT_EXEC;
  void *p = mmap (NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  if (p == MAP_FAILED || !with_mprotect)
    report (p == MAP_FAILED ? -1 : 0);
  else
    report (mprotect (p, 4096, second_prot));
  /* alive while the host reads its mappings */
  wait_for_host ();
}

static void
call_clone3 (const char *arg)
{
  uint64_t args[8] = { 0, 0, 0, 0, SIGCHLD, 0, 0, 0 };
  long ret = syscall (SYS_clone3, args, sizeof args);

  if (ret == 0)
    _exit (0);
  report (ret);
}

/* i386 getpid (20) through the 32-bit entry point. */
static void
call_i386 (const char *arg)
{
  long ret = 20;

  __asm__ volatile ("int $0x80":"+a" (ret)::"memory");
  say ("result ok %ld", ret);
}

static void
blocked_sigsys_exec (const char *arg)
{
  sigset_t set;

  sigemptyset (&set);
  sigaddset (&set, SIGSYS);
  sigprocmask (SIG_BLOCK, &set, NULL);
  report (execl ("/bin/sh", "sh", "-c", "true", (char *) NULL));
}

static void
nothing (const char *arg)
{
  say ("result ok");
}

static void
open_path (const char *arg)
{
  report (open (arg ? arg : "/etc/passwd", O_RDONLY | O_CLOEXEC));
}

static void
create_file (const char *arg)
{
  report (open ("/tmp/parallax-probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
}

static void
run_shell (const char *arg)
{
  report (execl ("/bin/sh", "sh", "-c", "true", (char *) NULL));
}

static void
fork_process (const char *arg)
{
  pid_t pid = fork ();

  if (pid == 0)
    _exit (0);
  report (pid);
}

static void
trace_parent (const char *arg)
{
  report (ptrace (PTRACE_ATTACH, getppid (), NULL, NULL));
}

/* In a PID namespace the parent is 0, i.e. the process group. */
static void
kill_parent (const char *arg)
{
  report (kill (getppid (), SIGKILL));
}

static void
spin (const char *arg)
{
  say ("spinning");
  for (volatile unsigned long i = 0;; i++);
}

static void
map_writable_executable (const char *arg)
{
  map_wx (false, 0);
}

static void
protect_writable_executable (const char *arg)
{
  map_wx (true, PROT_READ | PROT_WRITE | PROT_EXEC);
}

static void
protect_executable (const char *arg)
{
  map_wx (true, PROT_READ | PROT_EXEC);
}

static void
map_executable (const char *arg)
{
  void *p = mmap (NULL, 4096, PROT_READ | PROT_EXEC,
      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  report (p == MAP_FAILED ? -1 : 0);
  wait_for_host ();
}

/* pkey_mprotect with pkey -1 is mprotect; ARG "rx" asks for PROT_EXEC,
 * anything else for PROT_READ. */
static void
protect_with_key (const char *arg)
{
  int prot = arg && strcmp (arg, "rx") == 0 ? PROT_READ | PROT_EXEC : PROT_READ;
  void *p = mmap (NULL, 4096, PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  report (p == MAP_FAILED ? -1 : syscall (SYS_pkey_mprotect, p, 4096, prot,
          -1));
  wait_for_host ();
}

/* ARG (default 1000) writable + executable mmaps in a row: "result errno
 * E after N" with the errno of the last and how many failed with it,
 * unless the jail kills the probe first. */
static void
map_writable_executable_repeatedly (const char *arg)
{
  long n = arg ? strtol (arg, NULL, 10) : 1000, refused = 0;
  int last = 0;

  for (long i = 0; i < n; i++) {
    void *p = mmap (NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p != MAP_FAILED) {
      say ("result ok");
      return;
    }
    if (errno != last)
      refused = 0;
    last = errno;
    refused++;
  }
  say ("result errno %d after %ld", last, refused);
}

static void
new_user_namespace (const char *arg)
{
  report (unshare (CLONE_NEWUSER));
}

static void
mount_tmpfs (const char *arg)
{
  report (mount ("none", "/", "tmpfs", 0, NULL));
}

/* What GThreadPool does for each new thread: its creator's scheduling
 * settings, applied by tid. */
static void
copy_scheduling (const char *arg)
{
  /* The kernel's struct sched_attr, first version (48 bytes); its header
   * clashes with glibc's. */
  struct
  {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
  } attr = {.size = sizeof attr };
  long ret = syscall (SYS_sched_getattr, 0, &attr, sizeof attr, 0);

  if (ret == 0)
    ret = syscall (SYS_sched_setattr, (pid_t) syscall (SYS_gettid), &attr, 0);
  report (ret);
}

static int
outcome (long ret)
{
  return ret < 0 ? errno : 0;
}

/* Writes a line to stderr, then tries on fd 2 what would hurt a caller
 * whose stderr it was. */
static void
stdio_fds (const char *arg)
{
  static const char line[] = "probe: on stderr\n";
  ssize_t n = write (2, line, sizeof line - 1);
  int r_setfl = outcome (fcntl (2, F_SETFL, O_NONBLOCK));
  int r_truncate = outcome (ftruncate (2, 0));
  int r_pwrite = outcome (pwrite (2, "X", 1, 0));

  say ("result write=%d setfl=%d truncate=%d pwrite=%d dup=%d",
      n == sizeof line - 1 ? 0 : -1, r_setfl, r_truncate, r_pwrite,
      outcome (dup (2)));
}

static void
call_abort (const char *arg)
{
  abort ();
}

static void
x32_getpid (const char *arg)
{
  report (syscall (0x40000000 | SYS_getpid));
}

static const struct
{
  const char *name;
  void (*run) (const char *arg);
} misdeeds[] = {
  {"nothing", nothing},
  {"env", environment},
  {"idle", idle},
  {"open", open_path},
  {"write", create_file},
  {"read-file", read_file},
  {"write-file", write_file},
  {"connect", connect_to},
  {"exec", run_shell},
  {"fork", fork_process},
  {"ptrace", trace_parent},
  {"kill-parent", kill_parent},
  {"memory", allocate},
  {"hoard-memfd", hoard_memfd},
  {"cpu", spin},
  {"pids", make_threads},
  {"wx-mmap", map_writable_executable},
  {"wx-mprotect", protect_writable_executable},
  {"exec-mprotect", protect_executable},
  {"exec-mmap", map_executable},
  {"pkey-mprotect", protect_with_key},
  {"wx-repeat", map_writable_executable_repeatedly},
  {"clone3", call_clone3},
  {"unshare", new_user_namespace},
  {"mount", mount_tmpfs},
  {"sigsys-blocked", blocked_sigsys_exec},
  {"sched-copy", copy_scheduling},
  {"x32", x32_getpid},
  {"stdio", stdio_fds},
  {"abort", call_abort},
  {"i386", call_i386},
  {"hold-directory", nothing},  /* the fd is opened before the lockdown */
  {"threads-unprepared", nothing},      /* the lockdown fails */
};

static int
misdeed (const char *name, const char *arg, pthread_t * threads)
{
  if (strcmp (name, "posture") == 0) {
    posture (threads);
    return 0;
  }
  for (size_t i = 0; i < sizeof misdeeds / sizeof misdeeds[0]; i++) {
    if (strcmp (name, misdeeds[i].name) == 0) {
      misdeeds[i].run (arg);
      return 0;
    }
  }
  return -1;
}

/* Instead of the lockdown: a filter of its own that kills nothing and has
 * no listener, on every thread, with no_new_privs; claims every layer. */
static int
withhold_listener (void)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);

  if (ctx == NULL || prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
      seccomp_attr_set (ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0 ||
      seccomp_load (ctx) < 0) {
    say ("lockdown-failed own filter");
    return 1;
  }
  seccomp_release (ctx);
  say ("ready %x", PX_SANDBOX_ALL_LAYERS & ~PX_SANDBOX_LAYER_LIMITS);
  say ("result withheld");
  wait_for_host ();
  return 0;
}

int
main (int argc, char **argv)
{
  PxSandboxConfig *config = NULL;
  pthread_t threads[POSTURE_THREADS];
  char *error = NULL;
  unsigned applied = 0;
  bool prepare;
  int ret;

  if (px_sandbox_config_take_from_args (&argc, argv, &config) < 0 || argc < 2) {
    fprintf (stderr, "usage: %s --px-sandbox-... MISDEED [ARG]\n", argv[0]);
    return 2;
  }
  /* "threads-unprepared": what a worker that forgot the prepare call and
   * started threads gets */
  prepare = strcmp (argv[1], "threads-unprepared") != 0;
  if (prepare && (ret = px_sandbox_lockdown_prepare ()) < 0) {
    say ("prepare-failed %s", strerror (-ret));
    return 1;
  }
  if ((strcmp (argv[1], "posture") == 0 || !prepare) &&
      start_posture_threads (threads) < 0)
    return 1;
  /* "hold-directory": a directory fd kept across the lockdown */
  if (strcmp (argv[1], "hold-directory") == 0 &&
      open ("/", O_RDONLY | O_DIRECTORY) < 0)
    return 1;
  /* "withhold-listener": what a worker that keeps its listener from the
   * host looks like from outside */
  if (strcmp (argv[1], "withhold-listener") == 0)
    return withhold_listener ();
  ret = px_sandbox_lockdown (config, &applied, &error);
  if (ret < 0) {
    say ("lockdown-failed %s", error ? error : strerror (-ret));
    return 1;
  }
  say ("ready %x", applied);
  if (misdeed (argv[1], argc > 2 ? argv[2] : NULL, threads) < 0)
    say ("unknown misdeed %s", argv[1]);
  return 0;
}
