/* Parallax — parallax-orc-compiler: compiles ORC programs for one worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Started by parallax-worker before it locks down, in the worker's
 * namespaces, with its socket on fd 3 (px-orc-protocol.h):
 *
 *   1. makes the code region: a memfd mapped writable here, then sealed
 *      against writes (F_SEAL_FUTURE_WRITE), shrinking, growing and further
 *      seals, and sends it to the worker, which can only ever map it
 *      read + execute;
 *   2. jails itself: no capabilities, no_new_privs, rlimits, and a seccomp
 *      filter that leaves it its socket, memory without PROT_EXEC, and
 *      exit;
 *   3. compiles each program the worker sends (ORC bytecode, checked by
 *      px_orc_bytecode_check() before ORC parses it) with ORC's own JIT for
 *      this machine, and appends the code to the region (a program it
 *      compiled before gets the code it got then).
 *
 * The worker is assumed compromised: a request is hostile input. This
 * process never runs the code it generates, and has no executable memory
 * but its own program and libraries.
 */

/* mmap and mmap64 are defined below, each under its own name. */
#undef _FILE_OFFSET_BITS

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ORC_ENABLE_UNSTABLE_API
#include <orc/orc.h>
#include <orc/orcbytecode.h>
#include <orc/orccode.h>
#include <orc/orcprogram.h>
#include <orc/orctarget.h>

#include "px-fd.h"
#include "px-orc-bytecode.h"
#include "px-orc-protocol.h"
#include "px-unix.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* CPU time for the compiler's whole life: compiling a program takes well
 * under a millisecond, a worker needs a few dozen. */
#define CPU_SECONDS 60
#define MEMORY_BYTES (256ul << 20)

/* ORC puts the code it generates into a code region of its own, which it
 * maps writable + executable (or as a writable and an executable view of a
 * temporary file). Here the code is only copied out, never run: liborc's
 * mappings lose PROT_EXEC, and the seccomp filter refuses PROT_EXEC to
 * everyone. (glibc and the dynamic loader map through their own internal
 * calls, not through these symbols.) */
void *
mmap (void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
  return (void *) syscall (SYS_mmap, addr, length, prot & ~PROT_EXEC, flags,
      fd, offset);
}

void *
mmap64 (void *addr, size_t length, int prot, int flags, int fd, off64_t offset)
{
  return (void *) syscall (SYS_mmap, addr, length, prot & ~PROT_EXEC, flags,
      fd, offset);
}

/* Programs compiled before, by their bytecode: an element that builds the
 * same program again (at each caps change, say) gets the same code
 * instead of filling the region. */
#define CACHE_SIZE 64

typedef struct
{
  uint8_t *bytecode;            /* NULL: free */
  size_t size;
  uint32_t flags;
  uint32_t offset, code_size;
} Cached;

typedef struct
{
  int sock;
  uint8_t *region;              /* writable, PX_ORC_REGION_SIZE */
  Cached cache[CACHE_SIZE];
  unsigned next_cached;         /* the entry replaced next */
  size_t used;
  OrcTarget *target;
  unsigned allowed_flags;
  bool known_orc;               /* the ORC the check's bounds are for */
} Compiler;

static void
die (const char *what, int err)
{
  fprintf (stderr, "parallax-orc-compiler: %s: %s\n", what, strerror (err));
  exit (1);
}

/* ---- the code region --------------------------------------------------- */

static void
make_region (Compiler * c)
{
  const int seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
      F_SEAL_FUTURE_WRITE;
  PxOrcHello hello = {.magic = PX_ORC_MAGIC,.region_size = PX_ORC_REGION_SIZE
  };
  px_auto_fd fd = memfd_create ("parallax-orc-code",
      MFD_CLOEXEC | MFD_ALLOW_SEALING);
  int ret;

  if (fd < 0 || ftruncate (fd, PX_ORC_REGION_SIZE) < 0)
    die ("code region", errno);
  /* Mapped before sealing: F_SEAL_FUTURE_WRITE leaves this mapping
   * writable and refuses every writable mapping and write() after it. */
  c->region = mmap (NULL, PX_ORC_REGION_SIZE, PROT_READ | PROT_WRITE,
      MAP_SHARED, fd, 0);
  if (c->region == MAP_FAILED)
    die ("mapping the code region", errno);
  if (fcntl (fd, F_ADD_SEALS, seals) < 0)
    die ("sealing the code region", errno);
  ret = px_unix_send (c->sock, &hello, sizeof hello, &fd, 1, 0);
  if (ret < 0)
    die ("sending the code region", -ret);
}

/* ---- the jail ---------------------------------------------------------- */

static void
drop_capabilities (void)
{
  struct __user_cap_header_struct header = {
    .version = _LINUX_CAPABILITY_VERSION_3,
  };
  struct __user_cap_data_struct data[2];

  for (int cap = 0; cap < 64; cap++) {
    if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL &&
        errno != EPERM)
      die ("dropping the bounding set", errno);
  }
  memset (data, 0, sizeof data);
  if (syscall (SYS_capset, &header, data) < 0)
    die ("dropping capabilities", errno);
}

static void
limit (int resource, rlim_t value)
{
  struct rlimit lim;

  if (getrlimit (resource, &lim) < 0)
    die ("getrlimit", errno);
  if (lim.rlim_max > value)
    lim.rlim_max = value;
  if (lim.rlim_cur > lim.rlim_max)
    lim.rlim_cur = lim.rlim_max;
  if (setrlimit (resource, &lim) < 0)
    die ("setrlimit", errno);
}

static int
allow (scmp_filter_ctx ctx, const char *name)
{
  int nr = seccomp_syscall_resolve_name (name);

  return nr == __NR_SCMP_ERROR ? 0 : seccomp_rule_add (ctx, SCMP_ACT_ALLOW,
      nr, 0);
}

static int
allow_without_exec (scmp_filter_ctx ctx, const char *name)
{
  return seccomp_rule_add (ctx, SCMP_ACT_ALLOW,
      seccomp_syscall_resolve_name (name), 1,
      SCMP_A2 (SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
}

/* Everything else fails with EPERM. */
static void
install_filter (void)
{
  static const char *const calls[] = {
    "read", "recvmsg", "recvfrom",      /* requests */
    "write", "sendmsg", "sendto",       /* replies, stderr */
    "close", "fstat", "newfstatat", "lseek",    /* stdio, px_unix_recv */
    "munmap", "mremap", "madvise", "brk",       /* malloc, ORC */
    "futex", "gettid", "getpid",        /* ORC's mutex, glibc */
    "clock_gettime", "rt_sigprocmask", "rt_sigreturn",
    "exit", "exit_group",
  };
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ERRNO (EPERM));
  int ret = ctx ? 0 : -ENOMEM;

  for (size_t i = 0; i < sizeof calls / sizeof calls[0] && ret == 0; i++)
    ret = allow (ctx, calls[i]);
  /* malloc and ORC's own code region, never executable */
  if (ret == 0)
    ret = allow_without_exec (ctx, "mmap");
  if (ret == 0)
    ret = allow_without_exec (ctx, "mprotect");
  if (ret == 0)
    ret = seccomp_attr_set (ctx, SCMP_FLTATR_ACT_BADARCH,
        SCMP_ACT_KILL_PROCESS);
  if (ret == 0)
    ret = seccomp_load (ctx);
  seccomp_release (ctx);
  if (ret < 0)
    die ("seccomp", -ret);
}

static void
jail (void)
{
  limit (RLIMIT_CPU, CPU_SECONDS);
  limit (RLIMIT_AS, MEMORY_BYTES);
  limit (RLIMIT_NOFILE, PX_ORC_COMPILER_FD + 1);
  limit (RLIMIT_NPROC, 0);
  drop_capabilities ();
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    die ("no_new_privs", errno);
  install_filter ();
}

/* ---- compiling --------------------------------------------------------- */

static int
check_request (Compiler * c, const PxOrcRequest * request, size_t payload)
{
  if (request->magic != PX_ORC_MAGIC || request->reserved != 0 ||
      request->bytecode_size != payload ||
      memchr (request->target, '\0', sizeof request->target) == NULL)
    return PX_ORC_MALFORMED;
  /* Only code this machine runs: the default target, with flags it
   * chose (a subset of them). And only SSE of the ORC version whose
   * compiler px_orc_bytecode_check() bounds. */
  if (!c->known_orc ||
      strcmp (request->target, orc_target_get_name (c->target)) != 0 ||
      strcmp (request->target, "sse") != 0 ||
      (request->target_flags & ~c->allowed_flags) != 0)
    return PX_ORC_UNSUPPORTED;
  return PX_ORC_OK;
}

static int
append_code (Compiler * c, const OrcCode * code, PxOrcReply * reply)
{
  size_t offset = (c->used + PX_ORC_CODE_ALIGN - 1) &
      ~(size_t) (PX_ORC_CODE_ALIGN - 1);

  if (code == NULL || code->code == NULL || code->code_size <= 0 ||
      (unsigned) code->code_size > PX_ORC_MAX_CODE)
    return PX_ORC_NOT_COMPILED;
  if (offset > PX_ORC_REGION_SIZE ||
      (size_t) code->code_size > PX_ORC_REGION_SIZE - offset)
    return PX_ORC_REGION_FULL;
  memcpy (c->region + offset, code->code, code->code_size);
  c->used = offset + code->code_size;
  reply->offset = (uint32_t) offset;
  reply->size = (uint32_t) code->code_size;
  return PX_ORC_OK;
}

static const Cached *
find_cached (const Compiler * c, const uint8_t * bytecode, size_t size,
    uint32_t flags)
{
  for (unsigned i = 0; i < CACHE_SIZE; i++) {
    const Cached *e = &c->cache[i];

    if (e->bytecode != NULL && e->size == size && e->flags == flags &&
        memcmp (e->bytecode, bytecode, size) == 0)
      return e;
  }
  return NULL;
}

static void
remember (Compiler * c, const uint8_t * bytecode, size_t size,
    uint32_t flags, const PxOrcReply * reply)
{
  Cached *e = &c->cache[c->next_cached];
  uint8_t *copy = malloc (size);

  if (copy == NULL)
    return;
  memcpy (copy, bytecode, size);
  free (e->bytecode);
  *e = (Cached) {
  copy, size, flags, reply->offset, reply->size};
  c->next_cached = (c->next_cached + 1) % CACHE_SIZE;
}

static int
compile (Compiler * c, const PxOrcRequest * request, const uint8_t * bytecode,
    size_t size, PxOrcReply * reply)
{
  const char *why = NULL;
  const Cached *cached;
  OrcProgram *program;
  OrcCompileResult result;
  int status = check_request (c, request, size);

  if (status != PX_ORC_OK)
    return status;
  if (px_orc_bytecode_check (bytecode, size, &why) < 0)
    return PX_ORC_MALFORMED;
  cached = find_cached (c, bytecode, size, request->target_flags);
  if (cached != NULL) {
    reply->offset = cached->offset;
    reply->size = cached->code_size;
    return PX_ORC_OK;
  }
  program = orc_program_new ();
  orc_bytecode_parse_function (program, bytecode);
  result = orc_program_compile_full (program, c->target, request->target_flags);
  reply->orc_result = result;
  status = ORC_COMPILE_RESULT_IS_SUCCESSFUL (result) ?
      append_code (c, program->orccode, reply) : PX_ORC_NOT_COMPILED;
  orc_program_free (program);
  if (status == PX_ORC_OK)
    remember (c, bytecode, size, request->target_flags, reply);
  return status;
}

static void
serve (Compiler * c)
{
  static uint8_t message[sizeof (PxOrcRequest) + PX_ORC_MAX_BYTECODE];
  PxOrcRequest request;
  unsigned n_fds;
  ssize_t n;
  int ret;

  for (;;) {
    PxOrcReply reply = {.magic = PX_ORC_MAGIC };

    /* Fds sent along are closed, and an oversized message is cut:
     * both are refused. */
    n = px_unix_recv (c->sock, message, sizeof message, NULL, 0, &n_fds, 0);
    if (n == 0)
      exit (0);
    if (n < 0 && n != -EMSGSIZE)
      die ("receiving", (int) -n);
    if (n < (ssize_t) sizeof request) {
      reply.status = PX_ORC_MALFORMED;
    } else {
      memcpy (&request, message, sizeof request);
      reply.status = compile (c, &request, message + sizeof request,
          (size_t) n - sizeof request, &reply);
    }
    ret = px_unix_send (c->sock, &reply, sizeof reply, NULL, 0, 0);
    if (ret < 0)
      exit (ret == -EPIPE ? 0 : 1);
  }
}

int
main (int argc, char **argv)
{
  Compiler c = {.sock = PX_ORC_COMPILER_FD };

  if (px_unix_check_seqpacket (c.sock) < 0) {
    fprintf (stderr, "parallax-orc-compiler: started by parallax-worker, "
        "not by hand\n");
    return 1;
  }
  /* CPU detection and ORC's tables, while files may still be read. */
  orc_init ();
  c.target = orc_target_get_default ();
  if (c.target == NULL || !c.target->executable)
    die ("ORC has no executable target here", ENOTSUP);
  /* px_orc_bytecode_check() bounds what this ORC's compiler does not: with
   * another version, nothing is compiled (check_request refuses). */
  c.known_orc = strcmp (orc_version_string (), PX_ORC_CHECKED_VERSION) == 0;
  c.allowed_flags = orc_target_get_default_flags (c.target) |
      ORC_TARGET_CLEAN_COMPILE | ORC_TARGET_FAST_NAN | ORC_TARGET_FAST_DENORMAL;
  make_region (&c);
  jail ();
  serve (&c);
  return 0;
}
