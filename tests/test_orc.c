/* Parallax — ORC programs in the worker, compiled by parallax-orc-compiler.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The worker runs ORC's JIT code without ever holding memory it can both
 * write and execute (docs/security.md, "W^X and ORC"). These tests check:
 * - the compiler alone: the region it hands out is sealed and cannot be
 *   mapped writable; the code it generates is byte for byte what ORC's JIT
 *   generates in this process (so it holds no address of the process that
 *   made it); it refuses malformed requests and survives them;
 * - elements in a worker (videoconvert, videoscale, audioconvert) produce
 *   exactly what they produce in-process with ORC's JIT, and their programs
 *   run the compiler's code; a caps change that needs new programs gets
 *   them compiled after the lockdown;
 * - a program the compiler cannot provide runs its C backup code, with a
 *   warning that names it;
 * - a hostile element cannot make executable memory, write into or remap
 *   the code region, or break the compiler with malformed programs.
 */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#define ORC_ENABLE_UNSTABLE_API
#include <orc/orc.h>
#include <orc/orcbytecode.h>
#include <orc/orccode.h>
#include <orc/orcprogram.h>
#include <orc/orctarget.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gstpxworker.h"
#include "px-buffer-checksum.h"
#include "px-orc-bytecode.h"
#include "px-orc-protocol.h"
#include "px-sandbox.h"
#include "px-unix.h"

#define START_TIMEOUT (20 * GST_SECOND)
#define RUN_TIMEOUT (30 * G_TIME_SPAN_SECOND)

/* ---- the compiler alone ------------------------------------------------ */

typedef struct
{
  pid_t pid;
  int sock;
  int region_fd;
  const guint8 *region;         /* read-only here */
} Compiler;

static const gchar *
compiler_path (void)
{
  const gchar *path = g_getenv ("PARALLAX_ORC_COMPILER");

  fail_unless (path != NULL, "PARALLAX_ORC_COMPILER is not set");
  return path;
}

static void
compiler_start (Compiler * c)
{
  int pair[2];

  orc_init ();
  fail_unless (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
          pair) == 0);
  c->pid = px_orc_compiler_spawn (compiler_path (), pair[1]);
  close (pair[1]);
  fail_unless (c->pid > 0);
  c->sock = pair[0];
  fail_unless_equals_int (px_orc_receive_hello (c->sock, PX_ORC_TIMEOUT_MS,
          &c->region_fd), 0);
  c->region = mmap (NULL, PX_ORC_REGION_SIZE, PROT_READ, MAP_SHARED,
      c->region_fd, 0);
  fail_unless (c->region != MAP_FAILED);
}

/* Closes the socket; the compiler must then exit by itself, with 0. */
static void
compiler_stop (Compiler * c)
{
  int status = 0;

  munmap ((void *) c->region, PX_ORC_REGION_SIZE);
  close (c->region_fd);
  close (c->sock);
  fail_unless_equals_int (waitpid (c->pid, &status, 0), c->pid);
  fail_unless (WIFEXITED (status) && WEXITSTATUS (status) == 0,
      "the compiler ended with status 0x%x", status);
}

static int
compiler_compile (Compiler * c, const void *bytecode, gsize size,
    PxOrcReply * reply)
{
  OrcTarget *target = orc_target_get_default ();

  fail_unless_equals_int (px_orc_request (c->sock,
          orc_target_get_name (target),
          orc_target_get_default_flags (target), bytecode, size,
          PX_ORC_TIMEOUT_MS, reply), 0);
  return reply->status;
}

/* Programs of the kinds GStreamer's elements use: plain, with constants
 * and parameters, two-dimensional, with an accumulator, with floats. */
static OrcProgram *
sample_program (guint which)
{
  OrcProgram *p = NULL;

  switch (which) {
    case 0:
      p = orc_program_new_dss (1, 1, 1);
      orc_program_append_2 (p, "addusb", 0, ORC_VAR_D1, ORC_VAR_S1,
          ORC_VAR_S2, ORC_VAR_D1);
      break;
    case 1:
      p = orc_program_new_ds (2, 1);
      orc_program_add_constant (p, 2, 0x1234, "c1");
      orc_program_add_parameter (p, 2, "p1");
      orc_program_add_temporary (p, 2, "t1");
      orc_program_append_2 (p, "convubw", 0, ORC_VAR_T1, ORC_VAR_S1,
          ORC_VAR_D1, ORC_VAR_D1);
      orc_program_append_2 (p, "mullw", 0, ORC_VAR_T1, ORC_VAR_T1,
          ORC_VAR_P1, ORC_VAR_D1);
      orc_program_append_2 (p, "addw", 0, ORC_VAR_D1, ORC_VAR_T1,
          ORC_VAR_C1, ORC_VAR_D1);
      break;
    case 2:
      p = orc_program_new_ds (4, 4);
      orc_program_set_2d (p);
      orc_program_append_2 (p, "copyl", 0, ORC_VAR_D1, ORC_VAR_S1,
          ORC_VAR_D1, ORC_VAR_D1);
      break;
    case 3:
      p = orc_program_new_as (4, 1);
      orc_program_add_source (p, 1, "s2");
      orc_program_append_2 (p, "accsadubl", 0, ORC_VAR_A1, ORC_VAR_S1,
          ORC_VAR_S2, ORC_VAR_D1);
      break;
    case 4:
      p = orc_program_new_ds (2, 4);
      orc_program_add_temporary (p, 4, "t1");
      orc_program_add_constant_float (p, 4, 32767.0f, "c1");
      orc_program_append_2 (p, "mulf", 0, ORC_VAR_T1, ORC_VAR_S1,
          ORC_VAR_C1, ORC_VAR_D1);
      orc_program_append_2 (p, "convfl", 0, ORC_VAR_T1, ORC_VAR_T1,
          ORC_VAR_D1, ORC_VAR_D1);
      orc_program_append_2 (p, "convssslw", 0, ORC_VAR_D1, ORC_VAR_T1,
          ORC_VAR_D1, ORC_VAR_D1);
      break;
    default:
      return NULL;
  }
  orc_program_set_name (p, "px_test_program");
  return p;
}

GST_START_TEST (test_region_sealed)
{
  Compiler c;
  char byte = 1;

  compiler_start (&c);
  /* Neither a writable mapping nor a write reaches the pages. */
  fail_unless (mmap (NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
          c.region_fd, 0) == MAP_FAILED);
  fail_unless_equals_int (errno, EPERM);
  fail_unless (pwrite (c.region_fd, &byte, 1, 0) < 0);
  fail_unless_equals_int (errno, EPERM);
  fail_unless (ftruncate (c.region_fd, 4096) < 0);
  fail_unless (fcntl (c.region_fd, F_ADD_SEALS, 0) < 0,
      "more seals could be added: F_SEAL_SEAL is missing");
  /* A read-only shared mapping cannot be made writable later. */
  fail_unless (mprotect ((void *) c.region, 4096, PROT_READ | PROT_WRITE) < 0);
  fail_unless_equals_int (errno, EACCES);
  compiler_stop (&c);
}

GST_END_TEST;

/* Executable mappings of process @pid: returns how many are of a memfd
 * named @memfd (NULL: none may be), fails on any writable + executable
 * one and on any other executable one that is neither a file nor the
 * vDSO. */
static guint
assert_executable_mappings (pid_t pid, const gchar * memfd)
{
  gchar *path = g_strdup_printf ("/proc/%d/maps", (int) pid);
  gchar *ours = g_strdup_printf ("/memfd:%s ", memfd ? memfd : "");
  gchar *contents = NULL;
  gchar **lines;
  guint n = 0;

  fail_unless (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (gchar ** l = lines; *l && **l; l++) {
    const gchar *perms = strchr (*l, ' ') + 1;
    const gchar *name = strrchr (*l, ' ') + 1;
    const gchar *memfd_at = strstr (*l, "/memfd:");
    gboolean file = name[0] == '/' && memfd_at == NULL;
    gboolean vdso = g_str_equal (name, "[vdso]") ||
        g_str_equal (name, "[vsyscall]");

    fail_if (perms[1] == 'w' && perms[2] == 'x', "%s", *l);
    if (perms[2] != 'x')
      continue;
    if (memfd != NULL && memfd_at != NULL && g_str_has_prefix (memfd_at, ours)) {
      fail_unless (g_str_has_prefix (perms, "r-xs"), "%s", *l);
      n++;
    } else {
      fail_unless (file || vdso, "executable and not a file: %s", *l);
    }
  }
  g_strfreev (lines);
  g_free (contents);
  g_free (ours);
  g_free (path);
  return n;
}

static void
assert_status_field (pid_t pid, const gchar * key, const gchar * expected)
{
  gchar *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  gchar *contents = NULL, *line;

  fail_unless (g_file_get_contents (path, &contents, NULL, NULL));
  line = strstr (contents, key);
  fail_unless (line != NULL, "%s: no %s", path, key);
  line += strlen (key);
  while (*line == ':' || *line == '\t' || *line == ' ')
    line++;
  fail_unless (g_str_has_prefix (line, expected), "%s %s: %.20s", path, key,
      line);
  g_free (contents);
  g_free (path);
}

/* The compiler jails itself before its first request, and has no
 * executable memory of its own after compiling (ORC's code buffers lost
 * PROT_EXEC). */
GST_START_TEST (test_compiler_jailed)
{
  OrcProgram *p;
  OrcBytecode *bytecode;
  PxOrcReply reply;
  Compiler c;

  compiler_start (&c);
  p = sample_program (1);
  bytecode = orc_bytecode_from_program (p);
  fail_unless_equals_int (compiler_compile (&c, bytecode->bytecode,
          bytecode->length, &reply), PX_ORC_OK);
  assert_status_field (c.pid, "Seccomp", "2");
  assert_status_field (c.pid, "NoNewPrivs", "1");
  assert_status_field (c.pid, "CapEff", "0000000000000000");
  /* Its bounding set can only be emptied with CAP_SETPCAP, which an
   * unprivileged caller (not the worker's root) does not have. */
  if (getuid () == 0)
    assert_status_field (c.pid, "CapBnd", "0000000000000000");
  fail_unless_equals_int (assert_executable_mappings (c.pid, NULL), 0);
  orc_bytecode_free (bytecode);
  orc_program_free (p);
  compiler_stop (&c);
}

GST_END_TEST;

/* ORC copies the code it generates from its compile buffer into its code
 * region without relocating it, so the code must not depend on where it
 * lives; and it must not depend on the process either: the compiler's
 * libraries sit at other addresses than ours (ASLR). Same bytes = neither. */
GST_START_TEST (test_code_matches_in_process_jit)
{
  Compiler c;

  compiler_start (&c);
  for (guint i = 0; i < 5; i++) {
    OrcProgram *p = sample_program (i);
    OrcBytecode *bytecode = orc_bytecode_from_program (p);
    PxOrcReply reply;

    fail_unless (ORC_COMPILE_RESULT_IS_SUCCESSFUL (orc_program_compile (p)),
        "program %u: ORC does not compile it in-process", i);
    fail_unless_equals_int (compiler_compile (&c, bytecode->bytecode,
            bytecode->length, &reply), PX_ORC_OK);
    fail_unless_equals_int (reply.size, p->orccode->code_size);
    fail_unless (memcmp (c.region + reply.offset, p->orccode->code,
            reply.size) == 0, "program %u: the compiler's code differs", i);
    orc_bytecode_free (bytecode);
    orc_program_free (p);
  }
  compiler_stop (&c);
}

GST_END_TEST;

/* The same program twice gets the same code, not a second copy. */
GST_START_TEST (test_same_program_same_code)
{
  OrcProgram *p;
  OrcBytecode *bytecode;
  PxOrcReply once, again, other;
  Compiler c;

  compiler_start (&c);
  p = sample_program (1);
  bytecode = orc_bytecode_from_program (p);
  fail_unless_equals_int (compiler_compile (&c, bytecode->bytecode,
          bytecode->length, &once), PX_ORC_OK);
  fail_unless_equals_int (compiler_compile (&c, bytecode->bytecode,
          bytecode->length, &again), PX_ORC_OK);
  fail_unless_equals_int (again.offset, once.offset);
  fail_unless_equals_int (again.size, once.size);
  orc_bytecode_free (bytecode);
  orc_program_free (p);
  p = sample_program (2);
  bytecode = orc_bytecode_from_program (p);
  fail_unless_equals_int (compiler_compile (&c, bytecode->bytecode,
          bytecode->length, &other), PX_ORC_OK);
  fail_unless (other.offset >= once.offset + once.size);
  orc_bytecode_free (bytecode);
  orc_program_free (p);
  compiler_stop (&c);
}

GST_END_TEST;

static void
assert_refused (Compiler * c, const void *bytecode, gsize size, int status,
    const gchar * what)
{
  PxOrcReply reply;

  fail_unless_equals_int (px_orc_request (c->sock, orc_target_get_name
          (orc_target_get_default ()), orc_target_get_default_flags
          (orc_target_get_default ()), bytecode, size, PX_ORC_TIMEOUT_MS,
          &reply), 0);
  fail_unless (reply.status == status, "%s: status %d, expected %d", what,
      reply.status, status);
}

static void
assert_still_compiles (Compiler * c)
{
  OrcProgram *p = sample_program (1);
  OrcBytecode *bytecode = orc_bytecode_from_program (p);
  PxOrcReply reply;

  fail_unless_equals_int (compiler_compile (c, bytecode->bytecode,
          bytecode->length, &reply), PX_ORC_OK);
  orc_bytecode_free (bytecode);
  orc_program_free (p);
}

/* What a compromised worker could send instead of a program. */
GST_START_TEST (test_malformed_programs_refused)
{
  OrcProgram *p = sample_program (1);
  OrcBytecode *good = orc_bytecode_from_program (p);
  guint8 bad[PX_ORC_MAX_BYTECODE];
  gsize n = good->length;
  PxOrcRequest request = {.magic = PX_ORC_MAGIC };
  PxOrcReply reply;
  unsigned n_fds = 0;
  int fds[1];
  Compiler c;

  compiler_start (&c);
  /* every truncation */
  for (gsize len = 0; len < n; len++)
    assert_refused (&c, good->bytecode, len, PX_ORC_MALFORMED, "truncated");
  /* trailing bytes */
  memcpy (bad, good->bytecode, n);
  bad[n] = 0;
  assert_refused (&c, bad, n + 1, PX_ORC_MALFORMED, "trailing byte");
  /* an unknown opcode where the first instruction is */
  memcpy (bad, good->bytecode, n);
  bad[n - 6] = 254;             /* the last instruction: op, 3 args, 2 ends */
  assert_refused (&c, bad, n, PX_ORC_MALFORMED, "opcode");
  /* more instructions than ORC's array holds */
  {
    OrcProgram *big = orc_program_new_ds (4, 4);
    OrcBytecode *bc;

    for (int i = 0; i < ORC_N_INSNS; i++)
      orc_program_append_2 (big, "copyl", 0, ORC_VAR_D1, ORC_VAR_S1,
          ORC_VAR_D1, ORC_VAR_D1);
    bc = orc_bytecode_from_program (big);
    assert_refused (&c, bc->bytecode, bc->length, PX_ORC_MALFORMED,
        "ORC_N_INSNS instructions");
    orc_bytecode_free (bc);
    orc_program_free (big);
  }
  /* an argument that is no declared variable, and a write to a source */
  {
    static const guint8 undeclared[] = { ORC_BC_BEGIN_FUNCTION,
      ORC_BC_ADD_DESTINATION, 4, 4, ORC_BC_copyl, ORC_VAR_D1, ORC_VAR_S1,
      ORC_BC_END_FUNCTION, ORC_BC_END
    };
    static const guint8 to_source[] = { ORC_BC_BEGIN_FUNCTION,
      ORC_BC_ADD_DESTINATION, 4, 4, ORC_BC_ADD_SOURCE, 4, 4, ORC_BC_copyl,
      ORC_VAR_S1, ORC_VAR_D1, ORC_BC_END_FUNCTION, ORC_BC_END
    };
    static const guint8 big_name[] = { ORC_BC_BEGIN_FUNCTION,
      ORC_BC_SET_NAME, 255, 0xff, 0xff
    };
    assert_refused (&c, undeclared, sizeof undeclared, PX_ORC_MALFORMED,
        "undeclared variable");
    assert_refused (&c, to_source, sizeof to_source, PX_ORC_MALFORMED,
        "write to a source");
    assert_refused (&c, big_name, sizeof big_name, PX_ORC_MALFORMED,
        "64 KiB name");
  }
  /* a target that makes no machine code, and flags not for this CPU */
  fail_unless_equals_int (px_orc_request (c.sock, "c", 0, good->bytecode, n,
          PX_ORC_TIMEOUT_MS, &reply), 0);
  fail_unless_equals_int (reply.status, PX_ORC_UNSUPPORTED);
  fail_unless_equals_int (px_orc_request (c.sock, orc_target_get_name
          (orc_target_get_default ()), 0x00ffffff, good->bytecode, n,
          PX_ORC_TIMEOUT_MS, &reply), 0);
  fail_unless_equals_int (reply.status, PX_ORC_UNSUPPORTED);
  /* a bad header, an oversized message, an fd sent along */
  fail_unless_equals_int (px_unix_send (c.sock, &request, 7, NULL, 0, 0), 0);
  fail_unless_equals_int (px_unix_recv (c.sock, &reply, sizeof reply, NULL,
          0, &n_fds, 0), sizeof reply);
  fail_unless_equals_int (reply.status, PX_ORC_MALFORMED);
  {
    gsize huge = sizeof request + PX_ORC_MAX_BYTECODE + 4096;
    guint8 *message = g_malloc0 (huge);

    request.bytecode_size = PX_ORC_MAX_BYTECODE + 4096;
    memcpy (message, &request, sizeof request);
    fail_unless_equals_int (px_unix_send (c.sock, message, huge, NULL, 0, 0),
        0);
    fail_unless_equals_int (px_unix_recv (c.sock, &reply, sizeof reply,
            NULL, 0, &n_fds, 0), sizeof reply);
    fail_unless_equals_int (reply.status, PX_ORC_MALFORMED);
    g_free (message);
  }
  fds[0] = c.region_fd;
  fail_unless_equals_int (px_unix_send (c.sock, &request, sizeof request, fds,
          1, 0), 0);
  fail_unless_equals_int (px_unix_recv (c.sock, &reply, sizeof reply, NULL,
          0, &n_fds, 0), sizeof reply);
  fail_unless_equals_int (reply.status, PX_ORC_MALFORMED);

  /* after all of it, the compiler still works */
  assert_still_compiles (&c);
  compiler_stop (&c);
  orc_bytecode_free (good);
  orc_program_free (p);
}

GST_END_TEST;

/* For every opcode ORC has, the most instructions of it, writing
 * destinations and reading sources (what makes ORC add the most), that
 * both the check and ORC accept: none of them overruns ORC's fixed arrays
 * or its 64 KiB code buffer (the compiler would die or stop answering),
 * and each program on the way is answered. */
static OrcProgram *
repeated_program (const OrcStaticOpcode * op, int n)
{
  OrcProgram *p = orc_program_new ();
  int args[4] = { 0, 0, 0, 0 }, k = 0;

  if (op->flags & ORC_STATIC_OPCODE_ACCUMULATOR)
    args[k++] = orc_program_add_accumulator (p, op->dest_size[0], "a1");
  else
    args[k++] = orc_program_add_destination (p, op->dest_size[0], "d1");
  if (op->dest_size[1])
    args[k++] = orc_program_add_destination (p, op->dest_size[1], "d2");
  for (int j = 0; j < ORC_STATIC_OPCODE_N_SRC; j++) {
    gchar name[4] = { 's', '1' + j, 0 };

    if (op->src_size[j] == 0)
      continue;
    args[k++] = (op->flags & ORC_STATIC_OPCODE_SCALAR) && j >= 1 ?
        orc_program_add_parameter (p, op->src_size[j], name) :
        orc_program_add_source (p, op->src_size[j], name);
  }
  for (int i = 0; i < n; i++)
    orc_program_append_2 (p, op->name, 0, args[0], args[1], args[2], args[3]);
  orc_program_set_name (p, "px_test_largest");
  return p;
}

GST_START_TEST (test_largest_programs_fit_orc)
{
  OrcOpcodeSet *set;
  guint compiled = 0, largest = 0;
  Compiler c;

  compiler_start (&c);
  set = orc_opcode_set_get ("sys");
  for (int o = 0; o < set->n_opcodes; o++) {
    const OrcStaticOpcode *op = set->opcodes + o;

    for (int n = PX_ORC_MAX_INSNS; n > 0; n--) {
      OrcProgram *p = repeated_program (op, n);
      OrcBytecode *bytecode = orc_bytecode_from_program (p);
      gboolean accepted = px_orc_bytecode_check (bytecode->bytecode,
          bytecode->length, NULL) == 0;
      gboolean done = FALSE;
      PxOrcReply reply;

      /* the largest that ORC compiles (it runs out of registers before
       * the check's limits) */
      if (accepted && compiler_compile (&c, bytecode->bytecode,
              bytecode->length, &reply) == PX_ORC_OK) {
        compiled++;
        largest = MAX (largest, reply.size);
        done = TRUE;
      }
      orc_bytecode_free (bytecode);
      orc_program_free (p);
      if (done)
        break;
    }
  }
  GST_INFO ("%u opcodes compiled at their largest, largest code %u bytes",
      compiled, largest);
  fail_unless (compiled > 150, "only %u opcodes compiled", compiled);
  fail_unless (largest < PX_ORC_MAX_CODE);
  assert_still_compiles (&c);
  compiler_stop (&c);
}

GST_END_TEST;

/* Code that would overrun ORC's buffer: a chain of divisions on
 * temporaries needs no load or store, and is refused by its size. */
GST_START_TEST (test_code_size_bounded)
{
  OrcProgram *p;
  OrcBytecode *bytecode;

  orc_init ();
  p = orc_program_new_ds (2, 2);
  orc_program_add_temporary (p, 2, "t1");
  orc_program_append_2 (p, "copyw", 0, ORC_VAR_T1, ORC_VAR_S1, 0, 0);
  for (int i = 0; i < 30; i++)
    orc_program_append_2 (p, "divluw", 0, ORC_VAR_T1, ORC_VAR_T1,
        ORC_VAR_T1, 0);
  orc_program_append_2 (p, "copyw", 0, ORC_VAR_D1, ORC_VAR_T1, 0, 0);
  bytecode = orc_bytecode_from_program (p);
  fail_unless_equals_int (px_orc_bytecode_check (bytecode->bytecode,
          bytecode->length, NULL), -EINVAL);
  orc_bytecode_free (bytecode);
  orc_program_free (p);
}

GST_END_TEST;

/* Constant byte shifts make ORC's rules request a constant per shift
 * count: one distinct count is accepted, two are not. */
GST_START_TEST (test_byte_shift_constants_bounded)
{
  orc_init ();
  for (int shifts = 1; shifts <= 2; shifts++) {
    OrcProgram *p = orc_program_new_ds (1, 1);
    OrcBytecode *bytecode;

    orc_program_add_constant (p, 1, 1, "c1");
    orc_program_add_constant (p, 1, 2, "c2");
    orc_program_append_2 (p, "shlb", 0, ORC_VAR_D1, ORC_VAR_S1, ORC_VAR_C1, 0);
    orc_program_append_2 (p, "shlb", 0, ORC_VAR_D1, ORC_VAR_D1,
        shifts == 1 ? ORC_VAR_C1 : ORC_VAR_C2, 0);
    bytecode = orc_bytecode_from_program (p);
    fail_unless_equals_int (px_orc_bytecode_check (bytecode->bytecode,
            bytecode->length, NULL), shifts == 1 ? 0 : -EINVAL);
    orc_bytecode_free (bytecode);
    orc_program_free (p);
  }
}

GST_END_TEST;

/* Random damage to valid programs: whatever passes the check goes to ORC,
 * which must neither crash the compiler nor make it stop answering. */
GST_START_TEST (test_damaged_programs_contained)
{
  GRand *rand = g_rand_new_with_seed (20261202);
  guint8 bytes[PX_ORC_MAX_BYTECODE];
  guint accepted = 0;
  Compiler c;

  compiler_start (&c);
  for (guint i = 0; i < 600; i++) {
    OrcProgram *p = sample_program (i % 5);
    OrcBytecode *bytecode = orc_bytecode_from_program (p);
    gsize n = bytecode->length;
    PxOrcReply reply;

    memcpy (bytes, bytecode->bytecode, n);
    for (guint k = 0; k < 1 + i % 3; k++)
      bytes[g_rand_int_range (rand, 0, n)] = g_rand_int_range (rand, 0, 256);
    if (compiler_compile (&c, bytes, n, &reply) == PX_ORC_OK)
      accepted++;
    orc_bytecode_free (bytecode);
    orc_program_free (p);
  }
  GST_INFO ("%u of 600 damaged programs compiled", accepted);
  assert_still_compiles (&c);
  compiler_stop (&c);
  g_rand_free (rand);
}

GST_END_TEST;

/* ---- elements in a worker ---------------------------------------------- */

typedef struct
{
  GMutex lock;
  GCond cond;
  GPtrArray *compiled;          /* names of programs running compiled code */
  GPtrArray *backup;            /* names of programs running backup code */
  GPtrArray *warnings;
  GstStructure *result;         /* hostile-result */
  gchar *exit_reason;
  gchar *error;
} Observed;

static void
observed_init (Observed * obs)
{
  memset (obs, 0, sizeof *obs);
  g_mutex_init (&obs->lock);
  g_cond_init (&obs->cond);
  obs->compiled = g_ptr_array_new_with_free_func (g_free);
  obs->backup = g_ptr_array_new_with_free_func (g_free);
  obs->warnings = g_ptr_array_new_with_free_func (g_free);
}

static void
observed_clear (Observed * obs)
{
  g_ptr_array_unref (obs->compiled);
  g_ptr_array_unref (obs->backup);
  g_ptr_array_unref (obs->warnings);
  if (obs->result)
    gst_structure_free (obs->result);
  g_free (obs->exit_reason);
  g_free (obs->error);
  g_mutex_clear (&obs->lock);
  g_cond_clear (&obs->cond);
}

static void
record_message_locked (Observed * obs, GstMessage * message)
{
  const GstStructure *s = gst_message_get_structure (message);
  GError *error = NULL;

  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ELEMENT:
      if (gst_structure_has_name (s, "parallax-orc-program")) {
        const gchar *code = gst_structure_get_string (s, "code");

        /* "not-compilable": as in-process, ORC has no code for it */
        if (g_strcmp0 (code, "not-compilable") != 0)
          g_ptr_array_add (g_strcmp0 (code, "compiled") == 0 ?
              obs->compiled : obs->backup,
              g_strdup (gst_structure_get_string (s, "program")));
      } else if (gst_structure_has_name (s, "hostile-result") &&
          obs->result == NULL) {
        obs->result = gst_structure_copy (s);
      }
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (message, &error, NULL);
      g_ptr_array_add (obs->warnings, g_strdup (error->message));
      g_error_free (error);
      break;
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (message, &error, NULL);
      if (obs->error == NULL)
        obs->error = g_strdup (error->message);
      g_error_free (error);
      break;
    default:
      break;
  }
}

static void
on_message (GstPxWorker * worker, GstMessage * message, gpointer user_data)
{
  Observed *obs = user_data;

  g_mutex_lock (&obs->lock);
  record_message_locked (obs, message);
  g_cond_broadcast (&obs->cond);
  g_mutex_unlock (&obs->lock);
  gst_message_unref (message);
}

static void
on_exited (GstPxWorker * worker, const gchar * reason, gpointer user_data)
{
  Observed *obs = user_data;

  g_mutex_lock (&obs->lock);
  obs->exit_reason = g_strdup (reason);
  g_cond_broadcast (&obs->cond);
  g_mutex_unlock (&obs->lock);
}

static const GstPxWorkerCallbacks callbacks = { on_message, on_exited };

/* The configuration a sandboxbin gives a worker by default: nothing in the
 * environment, so GstPxWorker adds ORC_CODE=backup and the compiler runs. */
static void
default_config (PxSandboxConfig * config, const char *const *env)
{
  px_sandbox_config_init (config);
  config->memory_bytes = 512u << 20;
  config->pids = 64;
  config->env = env;
}

static void
record_checksum (GstElement * sink, GstBuffer * buffer, GstPad * pad,
    gpointer user_data)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);

  g_ptr_array_add (user_data, px_buffer_checksum (buffer, caps));
  gst_clear_caps (&caps);
}

static GstElement *
consumer_pipeline (const gchar * head, GPtrArray * checksums)
{
  gchar *description = g_strdup_printf ("%s ! fakesink name=sink "
      "signal-handoffs=true sync=false", head);
  GstElement *pipeline = gst_parse_launch (description, NULL);
  GstElement *sink;

  fail_unless (pipeline != NULL, "cannot build %s", description);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_signal_connect (sink, "handoff", G_CALLBACK (record_checksum), checksums);
  gst_object_unref (sink);
  g_free (description);
  return pipeline;
}

static gboolean
wait_eos (GstElement * pipeline)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
      RUN_TIMEOUT * 1000, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gboolean eos = msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;

  if (msg)
    gst_message_unref (msg);
  return eos;
}

/* @source ! @description in-process, with ORC's JIT (this process has no
 * ORC_CODE): the reference checksums. */
static GPtrArray *
run_in_process (const gchar * source, const gchar * description)
{
  gchar *launch = g_strdup_printf ("%s ! %s", source, description);
  GPtrArray *checksums = g_ptr_array_new_with_free_func (g_free);
  GstElement *pipeline = consumer_pipeline (launch, checksums);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  fail_unless (wait_eos (pipeline), "%s did not run in-process", launch);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_free (launch);
  return checksums;
}

typedef struct
{
  GstPxWorker *worker;
  GstElement *producer;
  GstElement *consumer;
  GPtrArray *checksums;
} Isolated;

static void
isolated_start (Isolated * iso, const gchar * source,
    const gchar * description, const PxSandboxConfig * config, Observed * obs)
{
  GError *error = NULL;
  gchar *producer, *consumer;

  iso->worker = gst_px_worker_new (description, config, NULL, &callbacks, obs);
  fail_unless (gst_px_worker_start (iso->worker, START_TIMEOUT, &error),
      "worker for '%s': %s", description, error ? error->message : "?");
  fail_unless (gst_px_worker_change_state (iso->worker,
          GST_STATE_CHANGE_READY_TO_PAUSED, START_TIMEOUT) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless (gst_px_worker_change_state (iso->worker,
          GST_STATE_CHANGE_PAUSED_TO_PLAYING, START_TIMEOUT) !=
      GST_STATE_CHANGE_FAILURE);
  producer = g_strdup_printf ("%s ! ipcsink fd=%d", source,
      gst_px_worker_get_input_fd (iso->worker));
  consumer = g_strdup_printf ("ipcsrc is-live=false fd=%d arena-budget=%"
      G_GUINT64_FORMAT, gst_px_worker_get_output_fd (iso->worker),
      gst_px_worker_get_arena_budget (iso->worker));
  iso->checksums = g_ptr_array_new_with_free_func (g_free);
  iso->producer = gst_parse_launch (producer, NULL);
  fail_unless (iso->producer != NULL, "cannot build %s", producer);
  iso->consumer = consumer_pipeline (consumer, iso->checksums);
  gst_element_set_state (iso->consumer, GST_STATE_PLAYING);
  gst_element_set_state (iso->producer, GST_STATE_PLAYING);
  g_free (producer);
  g_free (consumer);
}

static void
isolated_stop (Isolated * iso)
{
  gst_px_worker_stop (iso->worker, GST_SECOND);
  gst_element_set_state (iso->producer, GST_STATE_NULL);
  gst_element_set_state (iso->consumer, GST_STATE_NULL);
  gst_object_unref (iso->producer);
  gst_object_unref (iso->consumer);
  g_ptr_array_unref (iso->checksums);
  gst_px_worker_free (iso->worker);
}

static void
assert_same_checksums (GPtrArray * got, GPtrArray * expected,
    const gchar * what)
{
  fail_unless_equals_int (got->len, expected->len);
  for (guint i = 0; i < expected->len; i++)
    fail_unless (g_str_equal (g_ptr_array_index (got, i),
            g_ptr_array_index (expected, i)), "%s: buffer %u differs", what, i);
}

/* @description in a worker against in-process JIT: the same bytes, and at
 * least @min_programs programs ran compiled code, none backup code.
 * Returns the number of programs compiled. */
static guint
assert_jit_bit_exact (const gchar * source, const gchar * description,
    guint min_programs)
{
  GPtrArray *expected = run_in_process (source, description);
  PxSandboxConfig config;
  Observed obs;
  Isolated iso;
  guint compiled;

  fail_unless (expected->len > 0);
  default_config (&config, NULL);
  observed_init (&obs);
  isolated_start (&iso, source, description, &config, &obs);
  fail_unless (wait_eos (iso.consumer), "%s: no EOS (worker: %s)",
      description, obs.error ? obs.error : obs.exit_reason ?
      obs.exit_reason : "no error");
  assert_same_checksums (iso.checksums, expected, description);
  isolated_stop (&iso);

  g_mutex_lock (&obs.lock);
  compiled = obs.compiled->len;
  fail_unless (compiled >= min_programs, "%s: %u programs compiled",
      description, compiled);
  fail_unless (obs.backup->len == 0, "%s: %s ran its backup code",
      description, (gchar *) g_ptr_array_index (obs.backup, 0));
  g_mutex_unlock (&obs.lock);
  observed_clear (&obs);
  g_ptr_array_unref (expected);
  return compiled;
}

#define VIDEO(format) "videotestsrc num-buffers=5 pattern=smpte ! " \
  "video/x-raw,format=" format ",width=640,height=360,framerate=30/1"

GST_START_TEST (test_videoconvert_bit_exact)
{
  assert_jit_bit_exact (VIDEO ("I420"),
      "videoconvert ! video/x-raw,format=BGRx", 1);
}

GST_END_TEST;

GST_START_TEST (test_videoscale_bit_exact)
{
  assert_jit_bit_exact ("videotestsrc num-buffers=5 pattern=smpte ! "
      "video/x-raw,format=I420,width=1920,height=1080",
      "videoscale ! video/x-raw,width=1280,height=720", 1);
}

GST_END_TEST;

GST_START_TEST (test_audioconvert_bit_exact)
{
  assert_jit_bit_exact ("audiotestsrc num-buffers=10 wave=sine "
      "samplesperbuffer=480 ! audio/x-raw,format=F32LE,rate=48000,channels=2",
      "audioconvert dithering=none noise-shaping=none ! "
      "audio/x-raw,format=S16LE", 1);
}

GST_END_TEST;

/* The second stream's caps need other programs, compiled after the
 * lockdown. */
GST_START_TEST (test_caps_change_compiles_new_programs)
{
  guint first = assert_jit_bit_exact (VIDEO ("I420"),
      "videoconvert ! video/x-raw,format=BGRx", 1);
  guint both = assert_jit_bit_exact (VIDEO ("I420") " ! c. "
      VIDEO ("YUY2") " ! c. concat name=c",
      "videoconvert ! video/x-raw,format=BGRx", 2);

  fail_unless (both > first, "no new program after the caps change");
}

GST_END_TEST;

/* A worker that ran compiled code: its only executable mapping that is
 * not a file is the code region, read + execute, shared; nothing is
 * writable and executable. */
GST_START_TEST (test_worker_mappings)
{
  PxSandboxConfig config;
  Observed obs;
  Isolated iso;

  default_config (&config, NULL);
  observed_init (&obs);
  isolated_start (&iso, VIDEO ("I420"),
      "videoconvert ! video/x-raw,format=BGRx", &config, &obs);
  fail_unless (wait_eos (iso.consumer));
  g_mutex_lock (&obs.lock);
  fail_unless (obs.compiled->len > 0);
  g_mutex_unlock (&obs.lock);
  fail_unless_equals_int (assert_executable_mappings (gst_px_worker_get_pid
          (iso.worker), "parallax-orc-code"), 1);
  isolated_stop (&iso);
  observed_clear (&obs);
}

GST_END_TEST;

/* Without a compiler every program keeps its C backup code: the output is
 * the same, and each program is named in a warning. */
GST_START_TEST (test_backup_code_without_compiler)
{
  static const char *const env[] = {
    "PARALLAX_ORC_COMPILER=/nonexistent/parallax-orc-compiler", NULL
  };
  const gchar *description = "videoconvert ! video/x-raw,format=BGRx";
  GPtrArray *expected = run_in_process (VIDEO ("I420"), description);
  PxSandboxConfig config;
  Observed obs;
  Isolated iso;

  default_config (&config, env);
  observed_init (&obs);
  isolated_start (&iso, VIDEO ("I420"), description, &config, &obs);
  fail_unless (wait_eos (iso.consumer));
  assert_same_checksums (iso.checksums, expected, description);
  isolated_stop (&iso);
  g_mutex_lock (&obs.lock);
  fail_unless (obs.compiled->len == 0);
  fail_unless (obs.backup->len > 0, "no program reported");
  fail_unless (obs.warnings->len > 0, "no warning");
  fail_unless (strstr (g_ptr_array_index (obs.warnings, 0),
          g_ptr_array_index (obs.backup, 0)) != NULL,
      "the warning does not name the program: %s",
      (gchar *) g_ptr_array_index (obs.warnings, 0));
  g_mutex_unlock (&obs.lock);
  observed_clear (&obs);
  g_ptr_array_unref (expected);
}

GST_END_TEST;

/* ---- hostile elements -------------------------------------------------- */

static void
run_misdeed (const gchar * misdeed, Observed * obs)
{
  gchar *description = g_strdup_printf ("hostile misdeed=%s", misdeed);
  gint64 deadline = g_get_monotonic_time () + RUN_TIMEOUT;
  PxSandboxConfig config;
  Isolated iso;

  default_config (&config, NULL);
  observed_init (obs);
  isolated_start (&iso, "videotestsrc num-buffers=3 ! "
      "video/x-raw,format=I420,width=64,height=48", description, &config, obs);
  g_mutex_lock (&obs->lock);
  while (obs->result == NULL && obs->exit_reason == NULL &&
      g_cond_wait_until (&obs->cond, &obs->lock, deadline));
  g_mutex_unlock (&obs->lock);
  isolated_stop (&iso);
  g_free (description);
}

static void
assert_misdeed_fails (const gchar * misdeed, gint expected_errno)
{
  Observed obs;
  gint ret = 0, err = 0;

  run_misdeed (misdeed, &obs);
  fail_unless (obs.result != NULL, "%s: no result (worker %s)", misdeed,
      obs.exit_reason ? obs.exit_reason : "still running");
  gst_structure_get_int (obs.result, "ret", &ret);
  gst_structure_get_int (obs.result, "errno", &err);
  fail_unless (ret < 0, "%s succeeded", misdeed);
  fail_unless_equals_string (g_strerror (err), g_strerror (expected_errno));
  observed_clear (&obs);
}

GST_START_TEST (test_hostile_exec_mapping_refused)
{
  assert_misdeed_fails ("exec-mmap", EACCES);
}

GST_END_TEST;

GST_START_TEST (test_hostile_exec_mprotect_refused)
{
  assert_misdeed_fails ("exec-mprotect", EACCES);
}

GST_END_TEST;

/* The element compiles a program of its own (through the compiler, as any
 * ORC user does), then tries to write into its code: the kernel copying
 * into those pages for read() fails. */
GST_START_TEST (test_hostile_write_code_refused)
{
  assert_misdeed_fails ("orc-write-code", EFAULT);
}

GST_END_TEST;

GST_START_TEST (test_hostile_remap_code_writable_refused)
{
  assert_misdeed_fails ("orc-remap-code", EACCES);
}

GST_END_TEST;

/* Malformed programs sent to the compiler are refused one by one, and the
 * compiler still compiles a good one after them. */
GST_START_TEST (test_hostile_malformed_program_contained)
{
  Observed obs;
  gint ret = -1;

  run_misdeed ("orc-malformed", &obs);
  fail_unless (obs.result != NULL, "no result (worker %s)",
      obs.exit_reason ? obs.exit_reason : "still running");
  gst_structure_get_int (obs.result, "ret", &ret);
  fail_unless_equals_int (ret, 0);
  observed_clear (&obs);
}

GST_END_TEST;

static Suite *
orc_suite (void)
{
  Suite *s = suite_create ("orc");
  TCase *compiler = tcase_create ("compiler");
  TCase *elements = tcase_create ("elements");
  TCase *hostile = tcase_create ("hostile");

  suite_add_tcase (s, compiler);
  tcase_set_timeout (compiler, 60);
  tcase_add_test (compiler, test_region_sealed);
  tcase_add_test (compiler, test_compiler_jailed);
  tcase_add_test (compiler, test_code_matches_in_process_jit);
  tcase_add_test (compiler, test_same_program_same_code);
  tcase_add_test (compiler, test_malformed_programs_refused);
  tcase_add_test (compiler, test_damaged_programs_contained);
  tcase_add_test (compiler, test_largest_programs_fit_orc);
  tcase_add_test (compiler, test_byte_shift_constants_bounded);
  tcase_add_test (compiler, test_code_size_bounded);

  suite_add_tcase (s, elements);
  tcase_set_timeout (elements, 60);
  tcase_add_test (elements, test_videoconvert_bit_exact);
  tcase_add_test (elements, test_videoscale_bit_exact);
  tcase_add_test (elements, test_audioconvert_bit_exact);
  tcase_add_test (elements, test_caps_change_compiles_new_programs);
  tcase_add_test (elements, test_backup_code_without_compiler);
  tcase_add_test (elements, test_worker_mappings);

  suite_add_tcase (s, hostile);
  tcase_set_timeout (hostile, 60);
  tcase_add_test (hostile, test_hostile_exec_mapping_refused);
  tcase_add_test (hostile, test_hostile_exec_mprotect_refused);
  tcase_add_test (hostile, test_hostile_write_code_refused);
  tcase_add_test (hostile, test_hostile_remap_code_writable_refused);
  tcase_add_test (hostile, test_hostile_malformed_program_contained);
  return s;
}

GST_CHECK_MAIN (orc);
