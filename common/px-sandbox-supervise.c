/* Parallax — what the host learns about a worker from the kernel.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The worker is hostile once it has seen a buffer, so nothing it says
 * about itself is believed:
 *
 * - Violations: the seccomp filter's kill action is SECCOMP_RET_USER_NOTIF.
 *   The worker hands the filter's listener over at lockdown, when it is
 *   still trusted, and keeps no copy (checked below). A thread that makes
 *   a killed call then waits in the kernel, with its syscall number,
 *   arguments and thread id queued on the listener, until the supervisor
 *   reads them and kills the worker: a wedged worker, or one that blocks
 *   SIGSYS, is reported all the same, and no message the worker sends can
 *   forge a violation. The W^X calls take the same way, and the
 *   supervisor answers them with EACCES instead (within a budget): the
 *   host learns of them from the kernel, and the worker goes on.
 * - Posture: /proc tells, for every thread, whether it runs under the
 *   filter, with no_new_privs and no capabilities, and which namespaces
 *   and root the worker has.
 * - Memory under rlimits: RLIMIT_AS bounds what the worker maps, not the
 *   pages of a memfd it filled, unmapped and kept an fd to; /proc tells
 *   both.
 */
#include "px-sandbox-private.h"
#include "px-fd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ptrace.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define LISTENER_LINK "anon_inode:seccomp notify"
#define MAX_HANDED_FDS 4
#define STATUS_MAX_SIZE (16u * 1024u)

/* ---- The listener ------------------------------------------------------- */

int
px_sandbox_child_watch_fd (const PxSandboxChild * child)
{
  if (child->pid <= 0)
    return -1;
  return child->listener_fd >= 0 ? child->listener_fd : child->supervisor_fd;
}

bool
px_sandbox_child_has_listener (const PxSandboxChild * child)
{
  return child->pid > 0 && child->listener_taken;
}

/* Is @fd (of this process) a seccomp user-notification listener? */
static bool
is_listener (int fd)
{
  char path[64], link[64];
  ssize_t n;

  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  n = readlink (path, link, sizeof link - 1);
  if (n < 0)
    return false;
  link[n] = '\0';
  return strcmp (link, LISTENER_LINK) == 0;
}

/* The one message the worker sends on the supervisor socket. Anything
 * but the magic with exactly one listener is a protocol error. */
static int
receive_listener (PxSandboxChild * child)
{
  union
  {
    struct cmsghdr align;
    char buf[CMSG_SPACE (MAX_HANDED_FDS * sizeof (int))];
  } control;
  uint32_t magic = 0;
  struct iovec iov = {.iov_base = &magic,.iov_len = sizeof magic };
  struct msghdr msg = {.msg_iov = &iov,.msg_iovlen = 1,
    .msg_control = control.buf,.msg_controllen = sizeof control.buf
  };
  int fds[MAX_HANDED_FDS];
  unsigned n_fds = 0;
  ssize_t n;
  int ret = 0;

  do {
    n = recvmsg (child->supervisor_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return 0;
  for (struct cmsghdr * c = n > 0 ? CMSG_FIRSTHDR (&msg) : NULL; c != NULL;
      c = CMSG_NXTHDR (&msg, c)) {
    unsigned count;

    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    count = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
    for (unsigned i = 0; i < count && n_fds < MAX_HANDED_FDS; i++)
      memcpy (&fds[n_fds++], CMSG_DATA (c) + i * sizeof (int), sizeof (int));
  }
  if (n > 0 && (n != sizeof magic || magic != PX_SANDBOX_LISTENER_MAGIC ||
          n_fds != 1 || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) ||
          !is_listener (fds[0])))
    ret = -EPROTO;
  if (n > 0 && ret == 0) {
    child->listener_fd = fds[0];
    child->listener_taken = true;
    n_fds = 0;
  }
  for (unsigned i = 0; i < n_fds; i++)
    close (fds[i]);
  /* one message, then nothing more to read there; EOF without one: the
   * lockdown never got as far as a filter */
  px_close_fd (&child->supervisor_fd);
  if (ret < 0)
    px_sandbox_child_kill (child);
  return ret;
}

/* Copies the NUL-terminated string at @address in thread @tid into @buf,
 * page by page (a string may end just before an unmapped page). Best
 * effort: "" when it cannot be read. The worker cannot make the read wait
 * on it: its memory is anonymous or memfd pages (userfaultfd and mounts
 * are killed); only a file mapping of a slow file system it was given
 * (with-filesystem) can delay it by that file system's I/O. */
static void
read_string (pid_t tid, uint64_t address, char *buf, size_t size)
{
  size_t page = (size_t) sysconf (_SC_PAGESIZE), done = 0;

  buf[0] = '\0';
  while (address != 0 && done + 1 < size) {
    size_t want = page - (size_t) ((address + done) % page);
    struct iovec local, remote;
    ssize_t n;

    if (want > size - 1 - done)
      want = size - 1 - done;
    local.iov_base = buf + done;
    local.iov_len = want;
    remote.iov_base = (void *) (uintptr_t) (address + done);
    remote.iov_len = want;
    n = process_vm_readv (tid, &local, 1, &remote, 1, 0);
    if (n <= 0) {
      buf[0] = '\0';
      return;
    }
    buf[done + (size_t) n] = '\0';
    if (memchr (buf + done, '\0', (size_t) n) != NULL)
      return;
    done += (size_t) n;
  }
}

static int string_argument (int32_t nr, uint32_t arch);

/* The calls the filter stops that the worker survives: mmap, mprotect and
 * pkey_mprotect of the native ABI asking for PROT_EXEC (the filter's W^X
 * rules, px-seccomp.c). The prot argument is an int: its lower 32 bits, as
 * the filter and the kernel read it. Any other call that reaches the
 * listener is one the worker is killed for. Returns the call's bit in
 * PxSandboxChild.refused_kinds, or 0. */
static unsigned
refused_kind (const PxSandboxViolation * v)
{
  static const char *const calls[] = { "mmap", "mprotect", "pkey_mprotect" };

  if (v->arch != seccomp_arch_native () ||
      ((uint32_t) v->args[2] & PROT_EXEC) == 0)
    return 0;
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    if (seccomp_syscall_resolve_name (calls[i]) == v->nr)
      return 1u << i;
  }
  return 0;
}

static uint64_t
monotonic_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* Takes one refusal from the budget: PX_SANDBOX_REFUSAL_BURST, of which
 * PX_SANDBOX_REFUSALS_PER_SECOND come back each second. False when it is
 * spent. */
static bool
take_refusal (PxSandboxChild * child)
{
  uint64_t now = monotonic_ns ();
  uint64_t seconds, regained;

  if (child->refusals_clock == 0)
    child->refusals_clock = now;
  seconds = (now - child->refusals_clock) / 1000000000u;
  child->refusals_clock += seconds * 1000000000u;
  regained = seconds * PX_SANDBOX_REFUSALS_PER_SECOND;
  child->refusals_spent = regained >= child->refusals_spent ? 0 :
      child->refusals_spent - (unsigned) regained;
  if (child->refusals_spent >= PX_SANDBOX_REFUSAL_BURST)
    return false;
  child->refusals_spent++;
  return true;
}

/* Answers a W^X call with EACCES: the thread's call returns it, as when a
 * security module refuses the mapping. The thread may be gone meanwhile
 * (-ENOENT); nothing ran either way. */
static void
refuse (PxSandboxChild * child, struct seccomp_notif *request,
    struct seccomp_notif_resp *response)
{
  response->id = request->id;
  response->val = 0;
  response->error = -EACCES;
  response->flags = 0;
  seccomp_notify_respond (child->listener_fd, response);
}

static int
receive_violation (PxSandboxChild * child, PxSandboxViolation * violation)
{
  struct seccomp_notif *request = NULL;
  struct seccomp_notif_resp *response = NULL;
  PxSandboxViolation v;
  unsigned kind;
  int ret, text_arg;

  ret = seccomp_notify_alloc (&request, &response);
  if (ret < 0)
    return ret;
  ret = seccomp_notify_receive (child->listener_fd, request);
  /* -ENOENT: the call went away (its thread was killed) before we read it */
  if (ret < 0) {
    seccomp_notify_free (request, response);
    return ret == -ENOENT ? 0 : ret;
  }
  memset (&v, 0, sizeof v);
  v.tid = (pid_t) request->pid;
  v.nr = request->data.nr;
  v.arch = request->data.arch;
  v.instruction_pointer = request->data.instruction_pointer;
  memcpy (v.args, request->data.args, sizeof v.args);
  text_arg = string_argument (v.nr, v.arch);
  if (text_arg >= 0)
    read_string (v.tid, v.args[text_arg], v.text, sizeof v.text);
  /* the thread still waits: the tid and the memory read were its own */
  if (seccomp_notify_id_valid (child->listener_fd, request->id) < 0)
    v.text[0] = '\0';
  kind = refused_kind (&v);
  v.verdict = PX_SANDBOX_VERDICT_KILLED;
  if (kind != 0)
    v.verdict = take_refusal (child) ? PX_SANDBOX_VERDICT_REFUSED :
        PX_SANDBOX_VERDICT_FLOODED;
  if (v.verdict == PX_SANDBOX_VERDICT_REFUSED) {
    refuse (child, request, response);
    child->refused_calls++;
    v.first_of_its_kind = !(child->refused_kinds & kind);
    child->refused_kinds |= kind;
  } else {
    /* no answer: the thread waits until SIGKILL takes the whole worker */
    px_sandbox_child_kill (child);
  }
  seccomp_notify_free (request, response);
  v.refused_calls = child->refused_calls;
  *violation = v;
  return 1;
}

int
px_sandbox_child_service (PxSandboxChild * child,
    PxSandboxViolation * violation)
{
  struct pollfd pfd = {.fd = px_sandbox_child_watch_fd (child) };

  if (pfd.fd < 0)
    return 0;
  pfd.events = POLLIN;
  if (child->listener_fd < 0)
    return receive_listener (child);
  if (poll (&pfd, 1, 0) <= 0)
    return 0;
  if (pfd.revents & POLLIN)
    return receive_violation (child, violation);
  /* POLLHUP: no task runs under the filter any more */
  px_close_fd (&child->listener_fd);
  return 0;
}

/* ---- Describing a violation --------------------------------------------- */

typedef enum
{
  ARG_HEX, ARG_INT, ARG_SIZE, ARG_POINTER, ARG_STRING, ARG_CLONE_FLAGS,
  ARG_PROT, ARG_MAP_FLAGS, ARG_SIGNAL, ARG_FAMILY, ARG_SOCKET_TYPE,
  ARG_PTRACE_REQUEST,
} ArgKind;

typedef struct
{
  const char *name;
  ArgKind kind;
} Arg;

/* The calls the policies kill or refuse, with their arguments (man 2). */
static const struct
{
  const char *name;
  Arg args[6];
} signatures[] = {
  {"execve", {{"pathname", ARG_STRING}, {"argv", ARG_POINTER},
          {"envp", ARG_POINTER}}},
  {"execveat", {{"dirfd", ARG_INT}, {"pathname", ARG_STRING},
          {"argv", ARG_POINTER}, {"envp", ARG_POINTER}, {"flags", ARG_HEX}}},
  {"ptrace", {{"request", ARG_PTRACE_REQUEST}, {"pid", ARG_INT},
          {"addr", ARG_POINTER}, {"data", ARG_POINTER}}},
  {"process_vm_readv", {{"pid", ARG_INT}, {"local_iov", ARG_POINTER},
          {"liovcnt", ARG_SIZE}, {"remote_iov", ARG_POINTER},
          {"riovcnt", ARG_SIZE}, {"flags", ARG_HEX}}},
  {"process_vm_writev", {{"pid", ARG_INT}, {"local_iov", ARG_POINTER},
          {"liovcnt", ARG_SIZE}, {"remote_iov", ARG_POINTER},
          {"riovcnt", ARG_SIZE}, {"flags", ARG_HEX}}},
  {"pidfd_getfd", {{"pidfd", ARG_INT}, {"targetfd", ARG_INT},
          {"flags", ARG_HEX}}},
  {"clone", {{"flags", ARG_CLONE_FLAGS}, {"stack", ARG_POINTER},
          {"parent_tid", ARG_POINTER}, {"child_tid", ARG_POINTER},
          {"tls", ARG_HEX}}},
  {"fork", {{NULL, 0}}},
  {"vfork", {{NULL, 0}}},
  {"unshare", {{"flags", ARG_CLONE_FLAGS}}},
  {"setns", {{"fd", ARG_INT}, {"nstype", ARG_CLONE_FLAGS}}},
  {"kill", {{"pid", ARG_INT}, {"sig", ARG_SIGNAL}}},
  {"tkill", {{"tid", ARG_INT}, {"sig", ARG_SIGNAL}}},
  {"tgkill", {{"tgid", ARG_INT}, {"tid", ARG_INT}, {"sig", ARG_SIGNAL}}},
  {"mmap", {{"addr", ARG_POINTER}, {"length", ARG_SIZE}, {"prot", ARG_PROT},
          {"flags", ARG_MAP_FLAGS}, {"fd", ARG_INT}, {"offset", ARG_HEX}}},
  {"mprotect", {{"addr", ARG_POINTER}, {"len", ARG_SIZE},
          {"prot", ARG_PROT}}},
  {"pkey_mprotect", {{"addr", ARG_POINTER}, {"len", ARG_SIZE},
          {"prot", ARG_PROT}, {"pkey", ARG_INT}}},
  {"socket", {{"domain", ARG_FAMILY}, {"type", ARG_SOCKET_TYPE},
          {"protocol", ARG_INT}}},
  {"mount", {{"source", ARG_POINTER}, {"target", ARG_STRING},
          {"filesystemtype", ARG_POINTER}, {"mountflags", ARG_HEX},
          {"data", ARG_POINTER}}},
  {"umount2", {{"target", ARG_STRING}, {"flags", ARG_HEX}}},
  {"pivot_root", {{"new_root", ARG_STRING}, {"put_old", ARG_POINTER}}},
  {"chroot", {{"path", ARG_STRING}}},
  {"bpf", {{"cmd", ARG_INT}, {"attr", ARG_POINTER}, {"size", ARG_SIZE}}},
  {"perf_event_open", {{"attr", ARG_POINTER}, {"pid", ARG_INT},
          {"cpu", ARG_INT}, {"group_fd", ARG_INT}, {"flags", ARG_HEX}}},
  {"userfaultfd", {{"flags", ARG_HEX}}},
  {"io_uring_setup", {{"entries", ARG_SIZE}, {"params", ARG_POINTER}}},
  {"init_module", {{"module_image", ARG_POINTER}, {"len", ARG_SIZE},
          {"param_values", ARG_STRING}}},
  {"finit_module", {{"fd", ARG_INT}, {"param_values", ARG_STRING},
          {"flags", ARG_HEX}}},
  {"delete_module", {{"name", ARG_STRING}, {"flags", ARG_HEX}}},
  {"acct", {{"filename", ARG_STRING}}},
  {"swapon", {{"path", ARG_STRING}, {"swapflags", ARG_HEX}}},
  {"swapoff", {{"path", ARG_STRING}}},
};

#define N_SIGNATURES (sizeof signatures / sizeof signatures[0])

typedef struct
{
  unsigned long value;
  const char *name;
} FlagName;

#define FLAG(f) { f, #f }

static const FlagName clone_flags[] = {
  FLAG (CLONE_VM), FLAG (CLONE_FS), FLAG (CLONE_FILES), FLAG (CLONE_SIGHAND),
  FLAG (CLONE_PIDFD), FLAG (CLONE_PTRACE), FLAG (CLONE_VFORK),
  FLAG (CLONE_PARENT), FLAG (CLONE_THREAD), FLAG (CLONE_NEWNS),
  FLAG (CLONE_SYSVSEM), FLAG (CLONE_SETTLS), FLAG (CLONE_PARENT_SETTID),
  FLAG (CLONE_CHILD_CLEARTID), FLAG (CLONE_UNTRACED),
  FLAG (CLONE_CHILD_SETTID), FLAG (CLONE_NEWCGROUP), FLAG (CLONE_NEWUTS),
  FLAG (CLONE_NEWIPC), FLAG (CLONE_NEWUSER), FLAG (CLONE_NEWPID),
  FLAG (CLONE_NEWNET), FLAG (CLONE_IO),
};

static const FlagName prot_flags[] = {
  FLAG (PROT_READ), FLAG (PROT_WRITE), FLAG (PROT_EXEC),
};

static const FlagName map_flags[] = {
  FLAG (MAP_SHARED), FLAG (MAP_PRIVATE), FLAG (MAP_FIXED),
  FLAG (MAP_ANONYMOUS), FLAG (MAP_GROWSDOWN), FLAG (MAP_DENYWRITE),
  FLAG (MAP_EXECUTABLE), FLAG (MAP_LOCKED), FLAG (MAP_NORESERVE),
  FLAG (MAP_POPULATE), FLAG (MAP_NONBLOCK), FLAG (MAP_STACK),
  FLAG (MAP_HUGETLB), FLAG (MAP_FIXED_NOREPLACE),
};

static const FlagName socket_type_flags[] = {
  FLAG (SOCK_NONBLOCK), FLAG (SOCK_CLOEXEC),
};

static const FlagName socket_types[] = {
  FLAG (SOCK_STREAM), FLAG (SOCK_DGRAM), FLAG (SOCK_RAW), FLAG (SOCK_RDM),
  FLAG (SOCK_SEQPACKET), FLAG (SOCK_PACKET),
};

static const FlagName families[] = {
  FLAG (AF_UNSPEC), FLAG (AF_UNIX), FLAG (AF_INET), FLAG (AF_INET6),
  FLAG (AF_NETLINK), FLAG (AF_PACKET), FLAG (AF_BLUETOOTH),
  FLAG (AF_ALG), FLAG (AF_VSOCK), FLAG (AF_XDP),
};

static const FlagName ptrace_requests[] = {
  FLAG (PTRACE_TRACEME), FLAG (PTRACE_PEEKTEXT), FLAG (PTRACE_PEEKDATA),
  FLAG (PTRACE_POKETEXT), FLAG (PTRACE_POKEDATA), FLAG (PTRACE_CONT),
  FLAG (PTRACE_KILL), FLAG (PTRACE_ATTACH), FLAG (PTRACE_DETACH),
  FLAG (PTRACE_SEIZE), FLAG (PTRACE_INTERRUPT),
};

#define N_OF(a) (sizeof (a) / sizeof ((a)[0]))

/* A bounded string builder: the length keeps counting past @size, so an
 * overflow shows at the end. */
typedef struct
{
  char *buf;
  size_t size, len;
} Text;

static void __attribute__((format (printf, 2, 3)))
    text_add (Text * t, const char *fmt, ...)
{
  va_list args;
  int n;

  va_start (args, fmt);
  n = vsnprintf (t->len < t->size ? t->buf + t->len : NULL,
      t->len < t->size ? t->size - t->len : 0, fmt, args);
  va_end (args);
  if (n > 0)
    t->len += (size_t) n;
}

/* "A|B|0x40" for bits; 0 is "0". */
static void
add_flags (Text * t, uint64_t value, const FlagName * names, size_t n)
{
  const char *sep = "";

  if (value == 0) {
    text_add (t, "0");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    if (names[i].value != 0 && (value & names[i].value) == names[i].value) {
      text_add (t, "%s%s", sep, names[i].name);
      value &= ~(uint64_t) names[i].value;
      sep = "|";
    }
  }
  if (value != 0)
    text_add (t, "%s0x%llx", sep, (unsigned long long) value);
}

/* One of @names for @value, or the number. */
static void
add_enum (Text * t, uint64_t value, const FlagName * names, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (names[i].value == value) {
      text_add (t, "%s", names[i].name);
      return;
    }
  }
  text_add (t, "%lld", (long long) (int32_t) value);
}

static void
add_signal (Text * t, uint64_t value)
{
  int sig = (int32_t) value;
  const char *abbrev = sig > 0 && sig < NSIG ? sigabbrev_np (sig) : NULL;

  if (abbrev != NULL)
    text_add (t, "SIG%s", abbrev);
  else
    text_add (t, "%d", sig);
}

/* A string read from the worker, quoted, with anything unprintable (and
 * quotes and backslashes) escaped. */
static void
add_quoted (Text * t, const char *s)
{
  text_add (t, "\"");
  for (; *s; s++) {
    unsigned char c = (unsigned char) *s;

    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
      text_add (t, "\\x%02x", c);
    else
      text_add (t, "%c", c);
  }
  text_add (t, "\"");
}

static void
add_argument (Text * t, ArgKind kind, uint64_t value, const char *text)
{
  switch (kind) {
    case ARG_INT:
      text_add (t, "%d", (int32_t) value);
      break;
    case ARG_SIZE:
      text_add (t, "%llu", (unsigned long long) value);
      break;
    case ARG_STRING:
      if (text[0] != '\0') {
        add_quoted (t, text);
        break;
      }
      /* unreadable: the address then */
      /* FALLTHROUGH */
    case ARG_POINTER:
      if (value == 0)
        text_add (t, "NULL");
      else
        text_add (t, "0x%llx", (unsigned long long) value);
      break;
    case ARG_CLONE_FLAGS:
      /* the low byte of clone's flags is the exit signal */
      add_flags (t, value & ~0xffull, clone_flags, N_OF (clone_flags));
      if (value & 0xff) {
        text_add (t, "|");
        add_signal (t, value & 0xff);
      }
      break;
    case ARG_PROT:
      if (value == 0)
        text_add (t, "PROT_NONE");
      else
        add_flags (t, value, prot_flags, N_OF (prot_flags));
      break;
    case ARG_MAP_FLAGS:
      add_flags (t, value, map_flags, N_OF (map_flags));
      break;
    case ARG_SIGNAL:
      add_signal (t, value);
      break;
    case ARG_FAMILY:
      add_enum (t, value, families, N_OF (families));
      break;
    case ARG_SOCKET_TYPE:
      add_enum (t, value & 0xf, socket_types, N_OF (socket_types));
      if (value & ~0xfull) {
        text_add (t, "|");
        add_flags (t, value & ~0xfull, socket_type_flags,
            N_OF (socket_type_flags));
      }
      break;
    case ARG_PTRACE_REQUEST:
      add_enum (t, value, ptrace_requests, N_OF (ptrace_requests));
      break;
    case ARG_HEX:
    default:
      text_add (t, "0x%llx", (unsigned long long) value);
      break;
  }
}

/* The signature of syscall @nr of the native architecture, or -1. Foreign
 * ABIs number their calls differently: they get raw arguments. */
static int
find_signature (int32_t nr, uint32_t arch)
{
  if (arch != seccomp_arch_native ())
    return -1;
  for (size_t i = 0; i < N_SIGNATURES; i++) {
    if (seccomp_syscall_resolve_name (signatures[i].name) == nr)
      return (int) i;
  }
  return -1;
}

static int
string_argument (int32_t nr, uint32_t arch)
{
  int s = find_signature (nr, arch);

  for (int i = 0; s >= 0 && i < 6 && signatures[s].args[i].name; i++) {
    if (signatures[s].args[i].kind == ARG_STRING)
      return i;
  }
  return -1;
}

int
px_sandbox_violation_describe (const PxSandboxViolation * v, char *buf,
    size_t size)
{
  static const char *const raw_names[6] = { "arg0", "arg1", "arg2", "arg3",
    "arg4", "arg5"
  };
  Text t = {.buf = buf,.size = size };
  char name[64];
  int s = find_signature (v->nr, v->arch);

  if (size == 0)
    return -ENOSPC;
  buf[0] = '\0';
  px_sandbox_violation_name (v->nr, v->arch, name, sizeof name);
  text_add (&t, "%s (", name);
  for (int i = 0; i < 6; i++) {
    if (s >= 0 && signatures[s].args[i].name == NULL)
      break;
    text_add (&t, "%s%s=", i > 0 ? ", " : "", s >= 0 ?
        signatures[s].args[i].name : raw_names[i]);
    add_argument (&t, s >= 0 ? signatures[s].args[i].kind : ARG_HEX,
        v->args[i], v->text);
  }
  text_add (&t, ")");
  return t.len < size ? (int) t.len : -ENOSPC;
}

/* ---- Posture ------------------------------------------------------------ */

/* Why a layer was not found, one line per layer. */
typedef struct
{
  unsigned found;
  char why[11][160];
} Findings;

static int
layer_index (unsigned layer)
{
  int i = 0;

  while (layer > 1) {
    layer >>= 1;
    i++;
  }
  return i;
}

static void __attribute__((format (printf, 3, 4)))
    not_found (Findings * f, unsigned layer, const char *fmt, ...)
{
  char *why = f->why[layer_index (layer)];
  va_list args;

  f->found &= ~layer;
  if (why[0] != '\0')
    return;                     /* the first reason is enough */
  va_start (args, fmt);
  vsnprintf (why, sizeof f->why[0], fmt, args);
  va_end (args);
}

/* The value after "@key:" in a /proc status text, or NULL. */
static const char *
status_value (const char *status, const char *key, char *buf, size_t size)
{
  size_t key_len = strlen (key);

  for (const char *line = status; line != NULL && *line;) {
    const char *end = strchr (line, '\n');
    size_t len = end ? (size_t) (end - line) : strlen (line);

    if (len > key_len && strncmp (line, key, key_len) == 0 &&
        line[key_len] == ':') {
      const char *v = line + key_len + 1;

      while (*v == ' ' || *v == '\t')
        v++;
      len -= (size_t) (v - line);
      if (len >= size)
        return NULL;
      memcpy (buf, v, len);
      buf[len] = '\0';
      return buf;
    }
    line = end ? end + 1 : NULL;
  }
  return NULL;
}

/* "Seccomp_filters" of the host itself: -1 on kernels without it. */
static long
own_filter_count (void)
{
  char *status = NULL, value[32];
  long count = -1;

  if (px_sandbox_read_file ("/proc/self/status", STATUS_MAX_SIZE, &status) < 0)
    return -1;
  if (status_value (status, "Seccomp_filters", value, sizeof value))
    count = strtol (value, NULL, 10);
  free (status);
  return count;
}

static void
check_field (Findings * f, unsigned layer, const char *status, pid_t tid,
    const char *key, const char *expected)
{
  char value[64];

  if (status_value (status, key, value, sizeof value) == NULL)
    not_found (f, layer, "thread %d shows no %s", (int) tid, key);
  else if (strcmp (value, expected) != 0)
    not_found (f, layer, "thread %d has %s %s, not %s", (int) tid, key,
        value, expected);
}

/* PF_EXITING of include/linux/sched.h: set at the start of do_exit(),
 * before the thread's memory and credentials go; proc(5) shows it in
 * field 9 of /proc/PID/task/TID/stat. */
#define PX_PF_EXITING 0x00000004u

int
px_sandbox_task_exiting (pid_t pid, pid_t tid)
{
  char path[64], *stat = NULL;
  const char *p;
  unsigned long flags;
  int ret;

  snprintf (path, sizeof path, "/proc/%d/task/%d/stat", (int) pid, (int) tid);
  ret = px_sandbox_read_file (path, STATUS_MAX_SIZE, &stat);
  if (ret < 0)
    return ret;
  /* "tid (comm) state ppid pgrp session tty_nr tpgid flags ...": comm may
   * hold anything, ')' included, so the fields start after the last ')' */
  p = strrchr (stat, ')');
  for (int field = 3; p != NULL && field <= 9; field++) {
    p = strchr (p + 1, ' ');
    if (p != NULL && field == 9) {
      char *end;

      errno = 0;
      flags = strtoul (p + 1, &end, 10);
      ret = errno == 0 && end != p + 1 ? (flags & PX_PF_EXITING) != 0 : -EIO;
      free (stat);
      return ret;
    }
  }
  free (stat);
  return -EIO;
}

static void
check_thread (Findings * f, pid_t pid, pid_t tid, long host_filters)
{
  char path[64], *status = NULL, count[32];
  int exiting;

  snprintf (path, sizeof path, "/proc/%d/task/%d/status", (int) pid, (int) tid);
  /* a thread that ended meanwhile; those started later inherit it all */
  if (px_sandbox_read_file (path, STATUS_MAX_SIZE, &status) < 0)
    return;
  /* A thread on its way out (the lockdown's helper, whose pthread_join
   * returns once the kernel has cleared its tid, before /proc lets it go)
   * never runs user code again: what it still holds cannot be used. The
   * kernel's seccomp TSYNC skips such threads too. */
  exiting = px_sandbox_task_exiting (pid, tid);
  if (exiting == 1 || exiting == -ENOENT || exiting == -ESRCH) {
    free (status);              /* or gone since its status was read */
    return;
  }
  check_field (f, PX_SANDBOX_LAYER_SECCOMP, status, tid, "Seccomp", "2");
  if (host_filters >= 0) {
    snprintf (count, sizeof count, "%ld", host_filters + 1);
    check_field (f, PX_SANDBOX_LAYER_SECCOMP, status, tid, "Seccomp_filters",
        count);
  }
  check_field (f, PX_SANDBOX_LAYER_NO_NEW_PRIVS, status, tid, "NoNewPrivs",
      "1");
  check_field (f, PX_SANDBOX_LAYER_CAPABILITIES, status, tid, "CapEff",
      "0000000000000000");
  check_field (f, PX_SANDBOX_LAYER_CAPABILITIES, status, tid, "CapPrm",
      "0000000000000000");
  free (status);
}

static int
check_threads (Findings * f, pid_t pid)
{
  char path[64];
  long host_filters = own_filter_count ();
  struct dirent *entry;
  unsigned n = 0;
  DIR *dir;

  snprintf (path, sizeof path, "/proc/%d/task", (int) pid);
  dir = opendir (path);
  if (dir == NULL)
    return px_negative_errno ();
  while ((entry = readdir (dir)) != NULL) {
    if (entry->d_name[0] == '.')
      continue;
    check_thread (f, pid, (pid_t) atoi (entry->d_name), host_filters);
    n++;
  }
  closedir (dir);
  return n > 0 ? 0 : -ESRCH;
}

static const struct
{
  unsigned layer;
  const char *name;
} namespace_files[] = {
  {PX_SANDBOX_LAYER_USER_NAMESPACE, "user"},
  {PX_SANDBOX_LAYER_MOUNT_NAMESPACE, "mnt"},
  {PX_SANDBOX_LAYER_NETWORK_NAMESPACE, "net"},
  {PX_SANDBOX_LAYER_IPC_NAMESPACE, "ipc"},
  {PX_SANDBOX_LAYER_PID_NAMESPACE, "pid"},
  {PX_SANDBOX_LAYER_UTS_NAMESPACE, "uts"},
};

static bool
same_file (const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static void
check_namespaces (Findings * f, pid_t pid)
{
  for (size_t i = 0; i < N_OF (namespace_files); i++) {
    unsigned layer = namespace_files[i].layer;
    char theirs[64], ours[64];
    struct stat a, b;

    snprintf (theirs, sizeof theirs, "/proc/%d/ns/%s", (int) pid,
        namespace_files[i].name);
    snprintf (ours, sizeof ours, "/proc/self/ns/%s", namespace_files[i].name);
    if (stat (theirs, &a) < 0 || stat (ours, &b) < 0)
      not_found (f, layer, "%s: %s", theirs, strerror (errno));
    else if (same_file (&a, &b))
      not_found (f, layer, "the worker shares the host's %s namespace",
          namespace_files[i].name);
  }
}

/* Not the host's root, and read-only (the lockdown's tmpfs). */
static void
check_root (Findings * f, pid_t pid)
{
  char root[64];
  struct stat theirs, ours;
  struct statvfs fs;

  snprintf (root, sizeof root, "/proc/%d/root/", (int) pid);
  if (stat (root, &theirs) < 0 || stat ("/", &ours) < 0 ||
      statvfs (root, &fs) < 0)
    not_found (f, PX_SANDBOX_LAYER_EMPTY_ROOT, "%s: %s", root,
        strerror (errno));
  else if (same_file (&theirs, &ours))
    not_found (f, PX_SANDBOX_LAYER_EMPTY_ROOT, "the worker's root is the "
        "host's");
  else if (!(fs.f_flag & ST_RDONLY))
    not_found (f, PX_SANDBOX_LAYER_EMPTY_ROOT, "the worker's root is "
        "writable");
}

/* The listener must be the host's alone: a worker holding one could read
 * its own killed calls and let them through. */
static void
check_no_listener_kept (Findings * f, pid_t pid)
{
  char dir_path[64];
  struct dirent *entry;
  DIR *dir;

  snprintf (dir_path, sizeof dir_path, "/proc/%d/fd", (int) pid);
  dir = opendir (dir_path);
  if (dir == NULL) {
    not_found (f, PX_SANDBOX_LAYER_SECCOMP, "%s: %s", dir_path,
        strerror (errno));
    return;
  }
  while ((entry = readdir (dir)) != NULL) {
    char path[64 + sizeof entry->d_name], link[64];
    ssize_t n;

    if (entry->d_name[0] == '.')
      continue;
    snprintf (path, sizeof path, "%s/%s", dir_path, entry->d_name);
    n = readlink (path, link, sizeof link - 1);
    if (n < 0)
      continue;
    link[n] = '\0';
    if (strcmp (link, LISTENER_LINK) == 0)
      not_found (f, PX_SANDBOX_LAYER_SECCOMP, "the worker kept a seccomp "
          "listener (fd %s)", entry->d_name);
  }
  closedir (dir);
}

static int
report_posture (const Findings * f, unsigned mismatched, char **error)
{
  char text[1024];
  Text t = {.buf = text,.size = sizeof text };
  const char *sep = "";

  for (unsigned layer = 1; layer <= PX_SANDBOX_ALL_LAYERS; layer <<= 1) {
    const char *why = f->why[layer_index (layer)];

    if (!(mismatched & layer))
      continue;
    text_add (&t, "%s%s: %s", sep, px_sandbox_layer_name (layer),
        why[0] ? why : "not found");
    sep = "; ";
  }
  px_sandbox_fail (error, 0, 0, "the worker's posture does not match: %s",
      text);
  return -EPERM;
}

int
px_sandbox_child_check_posture (const PxSandboxChild * child,
    const PxSandboxConfig * config, unsigned claimed, unsigned *verified,
    char **error)
{
  unsigned wanted = px_sandbox_config_wanted_layers (config);
  unsigned required = wanted & ~config->allow_missing;
  unsigned mismatched;
  Findings f;
  int ret;

  if (child->pid <= 0 || child->reaped)
    return px_sandbox_fail (error, 0, -ESRCH, "the worker is gone");
  memset (&f, 0, sizeof f);
  f.found = (PX_SANDBOX_ALL_LAYERS & ~PX_SANDBOX_LAYER_LIMITS) |
      (child->applied & PX_SANDBOX_LAYER_LIMITS);
  if (!(child->applied & PX_SANDBOX_LAYER_LIMITS))
    not_found (&f, PX_SANDBOX_LAYER_LIMITS, "spawn applied none");
  ret = check_threads (&f, child->pid);
  if (ret < 0)
    return px_sandbox_fail (error, 0, ret, "reading the worker's threads");
  check_namespaces (&f, child->pid);
  check_root (&f, child->pid);
  check_no_listener_kept (&f, child->pid);
  if (!child->listener_taken)
    not_found (&f, PX_SANDBOX_LAYER_SECCOMP, "the worker handed over no "
        "seccomp listener");
  mismatched = (required | claimed) & PX_SANDBOX_ALL_LAYERS & ~f.found;
  if (mismatched != 0)
    return report_posture (&f, mismatched, error);
  *verified = f.found & (wanted | claimed);
  return 0;
}

/* ---- Memory the address space limit does not see ---------------------- */

/* The inodes of the memfds a worker maps, or holds an fd to: at most one
 * per fd (RLIMIT_NOFILE) and per mapping. */
typedef struct
{
  uint64_t *inodes;
  size_t len, size;
} InodeSet;

static bool
inode_set_has (const InodeSet * set, uint64_t inode)
{
  for (size_t i = 0; i < set->len; i++)
    if (set->inodes[i] == inode)
      return true;
  return false;
}

static int
inode_set_add (InodeSet * set, uint64_t inode)
{
  if (inode_set_has (set, inode))
    return 0;
  if (set->len == set->size) {
    size_t size = set->size ? set->size * 2 : 64;
    uint64_t *grown = realloc (set->inodes, size * sizeof *grown);

    if (grown == NULL)
      return -ENOMEM;
    set->inodes = grown;
    set->size = size;
  }
  set->inodes[set->len++] = inode;
  return 0;
}

#define MEMFD_PREFIX "/memfd:"

/* The inodes of every memfd mapped in @pid, from /proc/PID/maps: "start-end
 * perms offset dev inode path". */
static int
mapped_memfds (pid_t pid, InodeSet * mapped)
{
  char path[64], line[4096];
  FILE *maps;
  int ret = 0;

  snprintf (path, sizeof path, "/proc/%d/maps", (int) pid);
  maps = fopen (path, "re");
  if (maps == NULL)
    return px_negative_errno ();
  while (ret == 0 && fgets (line, sizeof line, maps) != NULL) {
    unsigned long long inode;
    int name_at = -1;

    if (sscanf (line, "%*s %*s %*s %*s %llu %n", &inode, &name_at) == 1 &&
        name_at > 0 && strncmp (line + name_at, MEMFD_PREFIX,
            strlen (MEMFD_PREFIX)) == 0)
      ret = inode_set_add (mapped, inode);
  }
  if (ret == 0 && ferror (maps))
    ret = -EIO;
  fclose (maps);
  return ret;
}

/* The bytes of memfd pages @pid holds through fds whose memfd it does not
 * map: memory that counts against no rlimit. Each memfd once. */
static int
unmapped_memfd_bytes (pid_t pid, const InodeSet * mapped, uint64_t * bytes)
{
  char dir_path[64];
  struct dirent *entry;
  InodeSet counted = { 0, };
  DIR *dir;
  int ret = 0;

  *bytes = 0;
  snprintf (dir_path, sizeof dir_path, "/proc/%d/fd", (int) pid);
  dir = opendir (dir_path);
  if (dir == NULL)
    return px_negative_errno ();
  while (ret == 0 && (entry = readdir (dir)) != NULL) {
    char path[64 + sizeof entry->d_name], link[sizeof MEMFD_PREFIX];
    struct stat st;
    ssize_t n;

    if (entry->d_name[0] == '.')
      continue;
    snprintf (path, sizeof path, "%s/%s", dir_path, entry->d_name);
    /* the link's first bytes, enough to tell "/memfd:NAME (deleted)" */
    n = readlink (path, link, sizeof link - 1);
    if (n != (ssize_t) sizeof link - 1)
      continue;
    link[n] = '\0';
    /* the fd's file itself: its allocated pages, not its size */
    if (strcmp (link, MEMFD_PREFIX) != 0 || stat (path, &st) < 0 ||
        inode_set_has (mapped, st.st_ino) || inode_set_has (&counted,
            st.st_ino))
      continue;
    ret = inode_set_add (&counted, st.st_ino);
    *bytes += (uint64_t) st.st_blocks * 512u;
  }
  closedir (dir);
  free (counted.inodes);
  return ret;
}

int
px_sandbox_child_memory_held (const PxSandboxChild * child, uint64_t * held)
{
  char path[64], value[32], *status = NULL;
  InodeSet mapped = { 0, };
  uint64_t address_space, unmapped = 0;
  int ret;

  if (child->pid <= 0 || child->reaped)
    return -ESRCH;
  snprintf (path, sizeof path, "/proc/%d/status", (int) child->pid);
  ret = px_sandbox_read_file (path, STATUS_MAX_SIZE, &status);
  if (ret < 0)
    return ret;
  /* "VmSize:   123456 kB" */
  if (status_value (status, "VmSize", value, sizeof value) == NULL) {
    free (status);
    return -EIO;
  }
  address_space = strtoull (value, NULL, 10) * 1024u;
  free (status);
  ret = mapped_memfds (child->pid, &mapped);
  if (ret == 0)
    ret = unmapped_memfd_bytes (child->pid, &mapped, &unmapped);
  free (mapped.inodes);
  if (ret < 0)
    return ret;
  *held = address_space + unmapped;
  return 0;
}
