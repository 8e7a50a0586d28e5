/* Parallax — a test-only element that misbehaves on purpose.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * "hostile" passes buffers through; on the first one (or the one after
 * "after-buffers"; or, in every worker, the one whose PTS is "on-pts", a
 * crafted frame, or the first at or after "from-pts") it tries the misdeed its "misdeed" property
 * names, as code that took over a decoder would, and
 * posts the outcome as an element message "hostile-result" (misdeed, ret,
 * errno, and a "detail" string for misdeeds of several steps) — unless the
 * sandbox kills it first, which is the point. "path" names what a misdeed
 * aims at (a directory, an abstract socket name). Two misdeeds happen on
 * NULL→READY instead, before the lockdown, in the thread that then locks
 * down: misdeed=fail-ready fails that change with an error of its own;
 * misdeed=early-ready says the worker is locked down before it is.
 *
 * Built into a plugin of its own ("parallaxtest") for the worker tests;
 * never installed.
 */
#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

#include <gst/allocators/gstfdmemory.h>
#include <orc/orc.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "px-unix.h"
#include "px-wire.h"

/* The worker's control socket. */
#define CONTROL_FD 3

#define GST_TYPE_HOSTILE (gst_hostile_get_type ())
G_DECLARE_FINAL_TYPE (GstHostile, gst_hostile, GST, HOSTILE, GstBaseTransform);

struct _GstHostile
{
  GstBaseTransform parent;
  gchar *misdeed;
  gchar *path;
  gint target_pid;
  guint after_buffers;
  GstClockTime on_pts;
  GstClockTime from_pts;
  guint buffers_seen;
  gboolean done;
  gchar *detail;                /* set by a misdeed, posted with its result */
};

G_DEFINE_TYPE (GstHostile, gst_hostile, GST_TYPE_BASE_TRANSFORM);

enum
{
  PROP_0,
  PROP_MISDEED,
  PROP_TARGET_PID,
  PROP_PATH,
  PROP_AFTER_BUFFERS,
  PROP_ON_PTS,
  PROP_FROM_PTS,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

typedef int (*Misdeed) (GstHostile * self, GstBuffer * buffer);

static int
open_file (GstHostile * self, GstBuffer * buffer)
{
  return open ("/etc/hostname", O_RDONLY | O_CLOEXEC);
}

static int
write_file (GstHostile * self, GstBuffer * buffer)
{
  return open ("/tmp/parallax-hostile", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
}

static int
connect_loopback (GstHostile * self, GstBuffer * buffer)
{
  struct sockaddr_in addr = {.sin_family = AF_INET,.sin_port = htons (22) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  return connect (fd, (struct sockaddr *) &addr, sizeof addr);
}

static int
exec_shell (GstHostile * self, GstBuffer * buffer)
{
  char *argv[] = { (char *) "/bin/sh", (char *) "-c", (char *) "true", NULL };

  return execve ("/bin/sh", argv, NULL);
}

/* Blocks every signal it can first: the report must not depend on the
 * worker taking a SIGSYS. */
static int
exec_with_signals_blocked (GstHostile * self, GstBuffer * buffer)
{
  sigset_t all;

  sigfillset (&all);
  if (pthread_sigmask (SIG_BLOCK, &all, NULL) != 0)
    return -1;
  return exec_shell (self, buffer);
}

/* What a taken-over worker would send to be believed: the retired
 * VIOLATION message (type 14: syscall number, AUDIT_ARCH_X86_64) naming
 * execve, then a clean exit. px_wire_send() refuses the type, so the
 * bytes are laid out here. */
static int
forge_violation (GstHostile * self, GstBuffer * buffer)
{
  struct
  {
    PxWireHeader header;
    int32_t syscall_nr;
    uint32_t arch;
  } forged = {
    .header = {.magic = PX_WIRE_MAGIC,.version = PX_WIRE_VERSION,.type = 14,
        .payload_size = 8},
    .syscall_nr = SYS_execve,.arch = 0xc000003e,
  };

  if (px_unix_send (CONTROL_FD, &forged, sizeof forged, NULL, 0, 0) < 0)
    return -1;
  syscall (SYS_exit_group, 0);
  return -1;
}

static int
fork_process (GstHostile * self, GstBuffer * buffer)
{
  pid_t pid = fork ();

  if (pid == 0)
    _exit (0);
  if (pid > 0)
    waitpid (pid, NULL, 0);
  return pid < 0 ? -1 : 0;
}

static int
ptrace_parent (GstHostile * self, GstBuffer * buffer)
{
  return (int) ptrace (PTRACE_ATTACH, (pid_t) self->target_pid, NULL, NULL);
}

static int
kill_parent (GstHostile * self, GstBuffer * buffer)
{
  return kill ((pid_t) self->target_pid, SIGKILL);
}

/* The input buffer is the producer's memory, mapped read-only. */
static int
write_input (GstHostile * self, GstBuffer * buffer)
{
  GstMapInfo map;
  long page = sysconf (_SC_PAGESIZE);
  guintptr start;
  int ret;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return -1;
  start = (guintptr) map.data & ~(guintptr) (page - 1);
  ret = mprotect ((void *) start, page, PROT_READ | PROT_WRITE);
  gst_buffer_unmap (buffer, &map);
  return ret;
}

static int
allocate_forever (GstHostile * self, GstBuffer * buffer)
{
  for (;;) {
    char *block = malloc (64 << 20);

    if (block == NULL)
      return -1;
    memset (block, 1, 64 << 20);
  }
}

/* Memory no address-space limit sees: memfds filled with write(), never
 * mapped, 64 MiB each, up to 1 GiB. Returns the MiB it holds (the memfds
 * stay open); errno tells why it stopped short. */
#define MEMFD_CHUNK (64 << 20)
#define MEMFD_TOTAL_MIB 1024

static int
fill_memfds (GstHostile * self, GstBuffer * buffer)
{
  static char block[1 << 20];
  int held_mib = 0, saved = 0;

  memset (block, 1, sizeof block);
  while (held_mib < MEMFD_TOTAL_MIB && saved == 0) {
    int fd = (int) syscall (SYS_memfd_create, "hostile", 0);

    if (fd < 0) {
      saved = errno;
      break;
    }
    for (int mib = 0; mib < MEMFD_CHUNK >> 20; mib++) {
      if (write (fd, block, sizeof block) != (ssize_t) sizeof block) {
        saved = errno ? errno : ENOSPC;
        break;
      }
      held_mib++;
    }
  }
  errno = saved;
  return saved ? -held_mib - 1 : held_mib;
}

/* Stuck without using the CPU, as a deadlocked decoder is. */
static int
hang (GstHostile * self, GstBuffer * buffer)
{
  for (;;)
    g_usleep (G_USEC_PER_SEC);
  return 0;
}

static int
spin_forever (GstHostile * self, GstBuffer * buffer)
{
  volatile guint64 n = 0;

  for (;;)
    n++;
  return 0;
}

/* Stays alive so that the threads add up. (pause() is refused by the jail
 * and would return at once.) */
static void *
park (void *unused)
{
  for (;;)
    g_usleep (G_USEC_PER_SEC);
  return NULL;
}

static int
spawn_threads (GstHostile * self, GstBuffer * buffer)
{
  for (int i = 0; i < 4096; i++) {
    pthread_t thread;
    int ret = pthread_create (&thread, NULL, park, NULL);

    if (ret != 0) {
      errno = ret;
      return -1;
    }
  }
  return 0;
}

static int
map_writable_executable (GstHostile * self, GstBuffer * buffer)
{
  void *p = mmap (NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  return p == MAP_FAILED ? -1 : 0;
}

static int
map_executable (GstHostile * self, GstBuffer * buffer)
{
  void *p = mmap (NULL, 4096, PROT_READ | PROT_EXEC,
      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  return p == MAP_FAILED ? -1 : 0;
}

static int
protect_executable (GstHostile * self, GstBuffer * buffer)
{
  void *p = mmap (NULL, 4096, PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  if (p == MAP_FAILED)
    return -1;
  return mprotect (p, 4096, PROT_READ | PROT_EXEC);
}

/* What a JIT that will not take no for an answer does: writable +
 * executable mappings, again and again. */
static int
map_writable_executable_repeatedly (GstHostile * self, GstBuffer * buffer)
{
  for (guint i = 0; i < 100000; i++) {
    if (map_writable_executable (self, buffer) == 0)
      return 0;
  }
  return -1;
}

/* Three writable + executable mappings, then three mprotects to
 * executable: a JIT trying each way it knows. -1 with the last errno. */
static int
map_and_protect_executable (GstHostile * self, GstBuffer * buffer)
{
  for (guint i = 0; i < 3; i++) {
    if (map_writable_executable (self, buffer) == 0)
      return 0;
  }
  for (guint i = 0; i < 3; i++) {
    if (protect_executable (self, buffer) == 0)
      return 0;
  }
  return -1;
}

/* A regular expression GLib compiles with PCRE2's JIT (G_REGEX_OPTIMIZE),
 * as subparse's type finder does with every stream it is shown; PCRE2
 * interprets it when the JIT gets no executable memory. 0 when it
 * matches. */
static int
match_optimized_regex (GstHostile * self, GstBuffer * buffer)
{
  GError *error = NULL;
  GRegex *regex = g_regex_new ("^([0-9]+):([0-9]+) --> (a|b)+$",
      G_REGEX_OPTIMIZE, 0, &error);
  gboolean matched;

  if (regex == NULL) {
    self->detail = g_strdup (error->message);
    g_error_free (error);
    errno = EINVAL;
    return -1;
  }
  matched = g_regex_match (regex, "12:34 --> abba", 0, NULL) &&
      !g_regex_match (regex, "12:34 --> abc", 0, NULL);
  g_regex_unref (regex);
  if (!matched)
    errno = ENOENT;
  return matched ? 0 : -1;
}

/* Code of a program compiled as every ORC user compiles (in the worker:
 * by its compiler), kept for the process's life. */
static guint8 *
compiled_code (void)
{
  OrcProgram *p = orc_program_new_ds (4, 4);
  OrcCode *code;

  orc_program_set_name (p, "hostile_copy");
  orc_program_append_2 (p, "copyl", 0, ORC_VAR_D1, ORC_VAR_S1, ORC_VAR_D1,
      ORC_VAR_D1);
  if (!ORC_COMPILE_RESULT_IS_SUCCESSFUL (orc_program_compile (p))) {
    orc_program_free (p);
    errno = ENOEXEC;
    return NULL;
  }
  code = orc_program_take_code (p);
  orc_program_free (p);
  return code->code;
}

/* The kernel writes into the code for read(): as any write would. */
static int
write_orc_code (GstHostile * self, GstBuffer * buffer)
{
  guint8 *code = compiled_code ();
  int pipefd[2], ret;

  if (code == NULL || pipe2 (pipefd, O_CLOEXEC) < 0)
    return -1;
  ret = write (pipefd[1], "\xc3", 1) == 1 ? (int) read (pipefd[0], code,
      1) : -1;
  close (pipefd[0]);
  close (pipefd[1]);
  return ret;
}

static int
remap_orc_code (GstHostile * self, GstBuffer * buffer)
{
  long page = sysconf (_SC_PAGESIZE);
  guint8 *code = compiled_code ();

  if (code == NULL)
    return -1;
  return mprotect ((void *) ((guintptr) code & ~(guintptr) (page - 1)), page,
      PROT_READ | PROT_WRITE);
}

/* Hands the worker's ORC compiler programs that are not ones, then a good
 * one: 0 if each bad one was refused as malformed (-1) and the good one
 * still compiled. */
static int
send_malformed_programs (GstHostile * self, GstBuffer * buffer)
{
  static const guint8 truncated[] = { 1, 11, 4 };
  static const guint8 bad_opcode[] = { 1, 11, 4, 4, 254, 0, 2, 0 };
  static const guint8 bad_variable[] = { 1, 11, 4, 4, 32 + 50, 0, 60, 2, 0 };
  static guint8 noise[4000];
  const struct
  {
    const guint8 *data;
    gsize size;
  } bad[] = {
    {truncated, sizeof truncated}, {bad_opcode, sizeof bad_opcode},
    {bad_variable, sizeof bad_variable}, {noise, sizeof noise},
  };
  int (*request) (const void *, gsize) = dlsym (RTLD_DEFAULT,
      "px_orc_client_request_raw");

  if (request == NULL) {
    errno = ENOSYS;
    return -1;
  }
  memset (noise, 0xff, sizeof noise);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    if (request (bad[i].data, bad[i].size) != -1) {
      errno = EPROTO;
      return -1;
    }
  }
  return compiled_code () != NULL ? 0 : -1;
}

/* 0 or the errno of a call that failed. */
static int
outcome (long ret)
{
  return ret < 0 ? errno : 0;
}

/* What a compromised element would plant in a writable directory for the
 * host to trip over: a set-id program, links to outside, a device. */
static int
plant_files (GstHostile * self, GstBuffer * buffer)
{
  gchar *file = g_build_filename (self->path, "setuid", NULL);
  gchar *shadow = g_build_filename (self->path, "shadow", NULL);
  gchar *hard = g_build_filename (self->path, "hard", NULL);
  gchar *fifo = g_build_filename (self->path, "fifo", NULL);
  int fd = open (file, O_CREAT | O_WRONLY | O_CLOEXEC, 04755);
  int r_open = outcome (fd), r_fchmod, r_chmod, r_fchmodat;

  if (fd < 0)
    fd = open (file, O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
  if (fd >= 0 && write (fd, "\177ELF", 4) != 4)
    fd = -1;
  r_fchmod = outcome (fchmod (fd, 04755));
  if (fd >= 0)
    close (fd);
  r_chmod = outcome (chmod (file, 06755));
  r_fchmodat = outcome (fchmodat (AT_FDCWD, file, 02755, 0));
  self->detail = g_strdup_printf ("open=%d fchmod=%d chmod=%d fchmodat=%d "
      "symlink=%d link=%d mknod=%d", r_open, r_fchmod, r_chmod, r_fchmodat,
      outcome (symlink ("/etc/shadow", shadow)), outcome (link (file, hard)),
      outcome (mknod (fifo, S_IFIFO | 0644, 0)));
  g_free (file);
  g_free (shadow);
  g_free (hard);
  g_free (fifo);
  return 0;
}

/* fd 2 as a caller's terminal or log would suffer it. */
static int
abuse_stderr (GstHostile * self, GstBuffer * buffer)
{
  char line[64];
  ssize_t n = read (2, line, sizeof line);
  int r_read = outcome (n), r_setfl, r_truncate, r_pwrite;

  r_setfl = outcome (fcntl (2, F_SETFL, O_NONBLOCK | O_APPEND));
  r_truncate = outcome (ftruncate (2, 0));
  r_pwrite = outcome (pwrite (2, "X", 1, 0));
  fprintf (stderr, "hostile: %s\n", self->path ? self->path : "stderr");
  fflush (stderr);
  self->detail = g_strdup_printf ("read=%d setfl=%d truncate=%d pwrite=%d",
      r_read, r_setfl, r_truncate, r_pwrite);
  return 0;
}

static socklen_t
abstract_address (const gchar * name, struct sockaddr_un *addr)
{
  memset (addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  strncpy (addr->sun_path + 1, name, sizeof addr->sun_path - 2);
  return offsetof (struct sockaddr_un, sun_path) + 1 + strlen (name);
}

/* The host's abstract AF_UNIX names, from a worker in its network
 * namespace: a datagram to @path, and @path-bound squatted with the
 * control socket. */
static int
reach_abstract_socket (GstHostile * self, GstBuffer * buffer)
{
  struct sockaddr_un addr;
  socklen_t len = abstract_address (self->path, &addr);
  gchar *squat = g_strdup_printf ("%s-bound", self->path);
  int pair[2], r_pair, r_send = -1, r_bind;

  r_pair = outcome (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair));
  if (r_pair == 0)
    r_send = outcome (sendto (pair[0], "hello", 5, 0,
            (struct sockaddr *) &addr, len));
  len = abstract_address (squat, &addr);
  r_bind = outcome (bind (3, (struct sockaddr *) &addr, len));
  self->detail = g_strdup_printf ("socketpair=%d sendto=%d bind=%d", r_pair,
      r_send, r_bind);
  g_free (squat);
  return 0;
}

/* Stops listening to the host but keeps running. (close alone would not
 * end the connection while the worker's reader thread waits on it.) */
static int
close_control (GstHostile * self, GstBuffer * buffer)
{
  shutdown (3, SHUT_RDWR);
  close (3);
  for (;;)
    g_usleep (G_USEC_PER_SEC / 10);
  return 0;
}

static int
call_abort (GstHostile * self, GstBuffer * buffer)
{
  abort ();
}

static int
read_fd_limit (GstHostile * self, GstBuffer * buffer)
{
  struct rlimit limit;
  int ret = getrlimit (RLIMIT_NOFILE, &limit);

  if (ret == 0)
    self->detail = g_strdup_printf ("%llu %llu",
        (unsigned long long) limit.rlim_cur,
        (unsigned long long) limit.rlim_max);
  return ret;
}

/* F_SEAL_SEAL on the producer's arena would stop the producer from ever
 * sealing it again. */
static int
seal_input (GstHostile * self, GstBuffer * buffer)
{
  GstMemory *memory = gst_buffer_peek_memory (buffer, 0);

  if (!gst_is_fd_memory (memory)) {
    errno = ENOTSUP;
    return -1;
  }
  return fcntl (gst_fd_memory_get_fd (memory), F_ADD_SEALS, F_SEAL_SEAL);
}

/* A wild write, as an exploited decoder would make: SIGSEGV. */
static int
crash (GstHostile * self, GstBuffer * buffer)
{
  volatile int *nowhere = NULL;

  *nowhere = 1;
  return 0;
}

static const struct
{
  const gchar *name;
  Misdeed func;
} misdeeds[] = {
  {"open-file", open_file},
  {"write-file", write_file},
  {"connect", connect_loopback},
  {"exec", exec_shell},
  {"exec-signals-blocked", exec_with_signals_blocked},
  {"forge-violation", forge_violation},
  {"fork", fork_process},
  {"ptrace", ptrace_parent},
  {"kill", kill_parent},
  {"write-input", write_input},
  {"allocate", allocate_forever},
  {"memfd-fill", fill_memfds},
  {"spin", spin_forever},
  {"hang", hang},
  {"threads", spawn_threads},
  {"wx-mmap", map_writable_executable},
  {"exec-mmap", map_executable},
  {"exec-mprotect", protect_executable},
  {"wx-flood", map_writable_executable_repeatedly},
  {"wx-mixed", map_and_protect_executable},
  {"regex", match_optimized_regex},
  {"orc-write-code", write_orc_code},
  {"orc-remap-code", remap_orc_code},
  {"orc-malformed", send_malformed_programs},
  {"plant", plant_files},
  {"stderr", abuse_stderr},
  {"abstract-unix", reach_abstract_socket},
  {"close-control", close_control},
  {"abort", call_abort},
  {"fd-limit", read_fd_limit},
  {"seal-input", seal_input},
  {"crash", crash},
};

/* Before the lockdown: says the worker is locked down (as a worker that
 * lies about its posture would), then holds the lockdown back. */
static void
early_ready (void)
{
  const char *body = "parallax-worker-ready, layers=(string)\"user-namespace, "
      "mount-namespace, network-namespace, ipc-namespace, pid-namespace, "
      "uts-namespace, limits, empty-root, capabilities, no-new-privs, "
      "seccomp\", layer-mask=(uint)2047;";
  PxWireBlob blob = {.kind = GST_MESSAGE_ELEMENT,.body = body,
    .body_size = (uint32_t) strlen (body) + 1
  };

  px_wire_send_blob (CONTROL_FD, PX_WIRE_MESSAGE, 0, 0, &blob);
  g_usleep (5 * G_USEC_PER_SEC);
}

static GstFlowReturn
gst_hostile_transform_ip (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstHostile *self = GST_HOSTILE (trans);
  int ret, saved_errno;

  if (self->done || self->misdeed == NULL ||
      g_str_has_prefix (self->misdeed, "early-"))
    return GST_FLOW_OK;
  if (GST_CLOCK_TIME_IS_VALID (self->on_pts) ?
      GST_BUFFER_PTS (buffer) != self->on_pts :
      GST_CLOCK_TIME_IS_VALID (self->from_pts) ?
      GST_BUFFER_PTS (buffer) < self->from_pts :
      self->buffers_seen++ < self->after_buffers)
    return GST_FLOW_OK;
  self->done = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (misdeeds); i++) {
    if (!g_str_equal (self->misdeed, misdeeds[i].name))
      continue;
    errno = 0;
    ret = misdeeds[i].func (self, buffer);
    saved_errno = errno;
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new ("hostile-result", "misdeed", G_TYPE_STRING,
                self->misdeed, "ret", G_TYPE_INT, ret, "errno", G_TYPE_INT,
                ret < 0 ? saved_errno : 0, "detail", G_TYPE_STRING,
                self->detail ? self->detail : "", NULL)));
    return GST_FLOW_OK;
  }
  GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS, ("no misdeed '%s'",
          self->misdeed), (NULL));
  return GST_FLOW_ERROR;
}

/* misdeed=fail-ready: an element that cannot open what it needs;
 * misdeed=early-ready: a READY report before the lockdown. */
static GstStateChangeReturn
gst_hostile_change_state (GstElement * element, GstStateChange transition)
{
  GstHostile *self = GST_HOSTILE (element);

  if (transition == GST_STATE_CHANGE_NULL_TO_READY &&
      g_strcmp0 (self->misdeed, "early-ready") == 0)
    early_ready ();
  if (transition == GST_STATE_CHANGE_NULL_TO_READY &&
      g_strcmp0 (self->misdeed, "fail-ready") == 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("hostile cannot open "
            "its device"), (NULL));
    return GST_STATE_CHANGE_FAILURE;
  }
  return GST_ELEMENT_CLASS (gst_hostile_parent_class)->change_state (element,
      transition);
}

static void
gst_hostile_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHostile *self = GST_HOSTILE (object);

  switch (prop_id) {
    case PROP_MISDEED:
      g_free (self->misdeed);
      self->misdeed = g_value_dup_string (value);
      break;
    case PROP_TARGET_PID:
      self->target_pid = g_value_get_int (value);
      break;
    case PROP_PATH:
      g_free (self->path);
      self->path = g_value_dup_string (value);
      break;
    case PROP_AFTER_BUFFERS:
      self->after_buffers = g_value_get_uint (value);
      break;
    case PROP_ON_PTS:
      self->on_pts = g_value_get_uint64 (value);
      break;
    case PROP_FROM_PTS:
      self->from_pts = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hostile_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstHostile *self = GST_HOSTILE (object);

  switch (prop_id) {
    case PROP_MISDEED:
      g_value_set_string (value, self->misdeed);
      break;
    case PROP_TARGET_PID:
      g_value_set_int (value, self->target_pid);
      break;
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_AFTER_BUFFERS:
      g_value_set_uint (value, self->after_buffers);
      break;
    case PROP_ON_PTS:
      g_value_set_uint64 (value, self->on_pts);
      break;
    case PROP_FROM_PTS:
      g_value_set_uint64 (value, self->from_pts);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hostile_finalize (GObject * object)
{
  g_free (GST_HOSTILE (object)->misdeed);
  g_free (GST_HOSTILE (object)->path);
  g_free (GST_HOSTILE (object)->detail);
  G_OBJECT_CLASS (gst_hostile_parent_class)->finalize (object);
}

static void
gst_hostile_class_init (GstHostileClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_hostile_set_property;
  gobject_class->get_property = gst_hostile_get_property;
  gobject_class->finalize = gst_hostile_finalize;
  g_object_class_install_property (gobject_class, PROP_MISDEED,
      g_param_spec_string ("misdeed", "Misdeed",
          "What to try on the first buffer", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_TARGET_PID,
      g_param_spec_int ("target-pid", "Target pid",
          "The process to ptrace or kill", 0, G_MAXINT, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PATH,
      g_param_spec_string ("path", "Path",
          "What the misdeed aims at", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_AFTER_BUFFERS,
      g_param_spec_uint ("after-buffers", "After buffers",
          "Buffers passed through untouched before the misdeed", 0,
          G_MAXUINT, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_ON_PTS,
      g_param_spec_uint64 ("on-pts", "On PTS",
          "The misdeed happens on the buffer with this PTS instead (none: "
          "after after-buffers)", 0, G_MAXUINT64, GST_CLOCK_TIME_NONE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_FROM_PTS,
      g_param_spec_uint64 ("from-pts", "From PTS",
          "The misdeed happens on the first buffer at or after this PTS "
          "instead (none: after after-buffers)", 0, G_MAXUINT64,
          GST_CLOCK_TIME_NONE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  element_class->change_state = gst_hostile_change_state;
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Hostile element",
      "Filter", "Misbehaves on purpose, for sandbox tests", "Parallax");
  GST_BASE_TRANSFORM_CLASS (klass)->transform_ip = gst_hostile_transform_ip;
}

static void
gst_hostile_init (GstHostile * self)
{
  self->on_pts = self->from_pts = GST_CLOCK_TIME_NONE;
  /* Passthrough: transform_ip sees the buffer as it arrived (in the worker,
   * the producer's read-only memory), not a writable copy. */
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}

static gboolean
plugin_init (GstPlugin * plugin)
{
  return gst_element_register (plugin, "hostile", GST_RANK_NONE,
      GST_TYPE_HOSTILE);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, parallaxtest,
    "Parallax test elements (never installed)", plugin_init, "0",
    "LGPL", "Parallax", "Unknown package origin")
