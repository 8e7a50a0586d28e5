/* Parallax — ORC's compile step in the worker, answered by the compiler.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "px-orc-client.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define ORC_ENABLE_UNSTABLE_API
#include <orc/orc.h>
#include <orc/orcbytecode.h>
#include <orc/orccode.h>
#include <orc/orcprogram.h>
#include <orc/orctarget.h>

#include "px-fd.h"
#include "px-orc-protocol.h"

#define COMPILER_NAME "parallax-orc-compiler"

typedef OrcCompileResult (*CompileFunc) (OrcProgram * program,
    OrcTarget * target, unsigned int flags);

/* wanted is set by the main thread before any other exists; the rest
 * changes under lock (region only once, before the lockdown). */
static struct
{
  gboolean wanted;
  int sock;                     /* -1 once the compiler is gone */
  guint8 *region;               /* read + execute */
  PxOrcReportFunc report;
  gpointer user_data;
  GMutex lock;                  /* static: needs no initialisation */
  gchar *failure;               /* why there is no compiler */
  gboolean locked_down;         /* px_orc_client_connect() was called */
} client = {.sock = -1 };

/* ---- start-up, before the lockdown ------------------------------------- */

static gboolean
has_token (const gchar * list, const gchar * token)
{
  gchar **tokens = g_strsplit (list ? list : "", ",", -1);
  gboolean found = g_strv_contains ((const gchar * const *) tokens, token);

  g_strfreev (tokens);
  return found;
}

/* $PARALLAX_ORC_COMPILER (from the host), else the one next to the
 * worker's executable, else the installed one. */
static gchar *
compiler_path (void)
{
  const gchar *chosen = g_getenv ("PARALLAX_ORC_COMPILER");
  gchar *self = g_file_read_link ("/proc/self/exe", NULL);
  gchar *path = NULL;

  if (chosen != NULL && *chosen != '\0') {
    g_free (self);
    return g_strdup (chosen);
  }
  if (self != NULL) {
    gchar *dir = g_path_get_dirname (self);

    path = g_build_filename (dir, COMPILER_NAME, NULL);
    g_free (dir);
    g_free (self);
    if (access (path, X_OK) == 0)
      return path;
    g_free (path);
  }
  return g_strdup (PARALLAX_ORC_COMPILER_INSTALLED);
}

void
px_orc_client_spawn (void)
{
  int pair[2];
  gchar *path;
  pid_t pid;

  client.wanted = has_token (g_getenv ("ORC_CODE"), "backup") &&
      g_strcmp0 (g_getenv ("PARALLAX_ORC"), "backup") != 0;
  if (!client.wanted)
    return;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
    client.failure = g_strdup_printf ("socketpair: %s", g_strerror (errno));
    return;
  }
  path = compiler_path ();
  pid = px_orc_compiler_spawn (path, pair[1]);
  close (pair[1]);
  if (pid < 0) {
    client.failure = g_strdup_printf ("starting %s: %s", path,
        g_strerror (-pid));
    close (pair[0]);
  } else {
    client.sock = pair[0];
  }
  g_free (path);
}

/* Receives the region and maps it, once; only before the lockdown (after
 * it, the filter refuses executable mappings). Under client.lock, or
 * while the worker has one thread using ORC. */
static gboolean
map_region_locked (void)
{
  px_auto_fd region_fd = -1;
  void *region;
  int ret;

  if (client.region != NULL)
    return TRUE;
  if (client.sock < 0 || client.locked_down)
    return FALSE;
  ret = px_orc_receive_hello (client.sock, PX_ORC_TIMEOUT_MS, &region_fd);
  if (ret < 0) {
    client.failure = g_strdup_printf ("no code region from the compiler: "
        "%s", g_strerror (-ret));
    px_close_fd (&client.sock);
    return FALSE;
  }
  /* Sealed against writes, so this mapping can never become writable and
   * nobody but the compiler can write the pages. The fd is not kept: the
   * worker has no way left to map the region again. */
  region = mmap (NULL, PX_ORC_REGION_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED,
      region_fd, 0);
  if (region == MAP_FAILED) {
    client.failure = g_strdup_printf ("mapping the code region: %s",
        g_strerror (errno));
    px_close_fd (&client.sock);
    return FALSE;
  }
  client.region = region;
  return TRUE;
}

gboolean
px_orc_client_connect (PxOrcReportFunc report, gpointer user_data)
{
  gboolean ok;

  g_mutex_lock (&client.lock);
  client.report = report;
  client.user_data = user_data;
  ok = map_region_locked ();
  /* From here on the region is mapped or never will be. */
  client.locked_down = TRUE;
  g_mutex_unlock (&client.lock);
  return ok;
}

const gchar *
px_orc_code_name (PxOrcCode code)
{
  switch (code) {
    case PX_ORC_CODE_COMPILED:
      return "compiled";
    case PX_ORC_CODE_BACKUP:
      return "backup";
    default:
      return "not-compilable";
  }
}

/* ---- one program ------------------------------------------------------- */

static gboolean
same_instruction (const OrcInstruction * a, const OrcInstruction * b)
{
  const OrcStaticOpcode *op = a->opcode;

  if (a->opcode != b->opcode || a->flags != b->flags)
    return FALSE;
  for (int i = 0; i < ORC_STATIC_OPCODE_N_DEST; i++) {
    if (op->dest_size[i] && a->dest_args[i] != b->dest_args[i])
      return FALSE;
  }
  for (int i = 0; i < ORC_STATIC_OPCODE_N_SRC; i++) {
    if (op->src_size[i] && a->src_args[i] != b->src_args[i])
      return FALSE;
  }
  return TRUE;
}

static gboolean
same_variable (const OrcVariable * a, const OrcVariable * b)
{
  if (a->size != b->size)
    return FALSE;
  if (a->size == 0)
    return TRUE;
  if (a->vartype != b->vartype)
    return FALSE;
  if ((a->vartype == ORC_VAR_TYPE_SRC || a->vartype == ORC_VAR_TYPE_DEST) &&
      a->alignment != b->alignment)
    return FALSE;
  if (a->vartype == ORC_VAR_TYPE_CONST)
    return a->size > 4 ? a->value.i == b->value.i :
        (guint32) a->value.i == (guint32) b->value.i;
  return TRUE;
}

/* ORC's bytecode numbers variables in order and leaves out what it does
 * not know (names, a backup function): the compiler must see exactly the
 * program the element built, so the bytecode is parsed back here and
 * compared with it before it is sent. */
static gboolean
bytecode_describes (OrcProgram * p, const OrcBytecode * bytecode)
{
  OrcProgram *q = orc_program_new ();
  gboolean same;

  orc_bytecode_parse_function (q, bytecode->bytecode);
  same = q->n_insns == p->n_insns && q->is_2d == p->is_2d &&
      q->constant_n == p->constant_n && q->n_multiple == p->n_multiple &&
      q->n_minimum == p->n_minimum && q->n_maximum == p->n_maximum &&
      (!p->is_2d || q->constant_m == p->constant_m);
  for (int i = 0; same && i < p->n_insns; i++)
    same = same_instruction (&p->insns[i], &q->insns[i]);
  for (int i = 0; same && i < ORC_N_VARIABLES; i++)
    same = same_variable (&p->vars[i], &q->vars[i]);
  orc_program_free (q);
  return same;
}

/* orc_bytecode_from_program() aborts on what its integers cannot hold
 * (0..65534) and on unknown parameter types: such a program keeps its
 * backup code instead. */
static gboolean
program_fits_bytecode (OrcProgram * p)
{
  const int max = 65534;

  if (p->constant_n > max || p->n_multiple > max || p->n_minimum > max ||
      p->n_maximum > max || p->constant_m > max || p->constant_n < 0 ||
      p->n_multiple < 0 || p->n_minimum < 0 || p->n_maximum < 0 ||
      p->constant_m < 0 || p->n_insns < 0 || p->n_insns > ORC_N_INSNS ||
      (p->name && strlen (p->name) > (size_t) max))
    return FALSE;
  for (int i = 0; i < ORC_N_VARIABLES; i++) {
    const OrcVariable *v = &p->vars[i];

    if (v->size < 0 || v->size > max || v->alignment < 0 || v->alignment > max)
      return FALSE;
    if (v->size && v->vartype == ORC_VAR_TYPE_PARAM &&
        v->param_type != ORC_PARAM_TYPE_INT &&
        v->param_type != ORC_PARAM_TYPE_FLOAT &&
        v->param_type != ORC_PARAM_TYPE_INT64 &&
        v->param_type != ORC_PARAM_TYPE_DOUBLE)
      return FALSE;
  }
  for (int i = 0; i < p->n_insns; i++) {
    const OrcInstruction *insn = &p->insns[i];

    if (insn->opcode == NULL || insn->flags > (unsigned) max)
      return FALSE;
    for (int j = 0; j < ORC_STATIC_OPCODE_N_DEST; j++) {
      if (insn->dest_args[j] < 0 || insn->dest_args[j] > max)
        return FALSE;
    }
    for (int j = 0; j < ORC_STATIC_OPCODE_N_SRC; j++) {
      if (insn->src_args[j] < 0 || insn->src_args[j] > max)
        return FALSE;
    }
  }
  return TRUE;
}

/* Sends one request, under the lock. A compiler that does not answer
 * properly is not asked again. */
static int
request_locked (const char *target, unsigned flags, const void *bytecode,
    gsize size, PxOrcReply * reply)
{
  int ret;

  if (client.sock < 0)
    return -ENOTCONN;
  ret = px_orc_request (client.sock, target, flags, bytecode, size,
      PX_ORC_TIMEOUT_MS, reply);
  if (ret < 0 && ret != -EMSGSIZE) {
    g_free (client.failure);
    client.failure = g_strdup_printf ("the compiler stopped answering: %s",
        g_strerror (-ret));
    px_close_fd (&client.sock);
  }
  return ret;
}

/* Gets @p compiled; on success points its code at the region. Returns
 * NULL, or why not (to be freed); *@orc_refused tells that ORC itself
 * cannot compile the program for this machine, as it could not in-process
 * either. */
static gchar *
compile_remotely (OrcProgram * p, OrcTarget * target, unsigned flags,
    gboolean * orc_refused)
{
  OrcBytecode *bytecode = orc_bytecode_from_program (p);
  PxOrcReply reply;
  gchar *why = NULL;
  int ret;

  if (!bytecode_describes (p, bytecode)) {
    orc_bytecode_free (bytecode);
    return g_strdup ("its bytecode does not describe it exactly");
  }
  g_mutex_lock (&client.lock);
  ret = request_locked (orc_target_get_name (target), flags,
      bytecode->bytecode, bytecode->length, &reply);
  if (ret < 0)
    why = g_strdup (client.failure ? client.failure : g_strerror (-ret));
  else if (reply.status == PX_ORC_NOT_COMPILED)
    why = g_strdup_printf ("ORC cannot compile it for this machine (result "
        "0x%x)", reply.orc_result);
  else if (reply.status != PX_ORC_OK)
    why = g_strdup_printf ("the compiler refused it: %s",
        px_orc_status_name (reply.status));
  *orc_refused = ret == 0 && reply.status == PX_ORC_NOT_COMPILED;
  g_mutex_unlock (&client.lock);
  orc_bytecode_free (bytecode);
  if (why != NULL)
    return why;

  /* As liborc leaves a program it compiled, but for the chunk: the code
   * stays in the region for the worker's life. */
  p->orccode->code = client.region + reply.offset;
  p->orccode->code_size = (int) reply.size;
  p->orccode->chunk = NULL;
  p->orccode->exec = (OrcExecutorFunc) (void *) p->orccode->code;
  p->orccode->result = ORC_COMPILE_RESULT_OK;
  p->code_exec = (void *) p->orccode->exec;
  return NULL;
}

static void
report (OrcProgram * p, PxOrcCode code, const gchar * reason)
{
  const gchar *name = p->name ? p->name : "(unnamed)";

  if (code == PX_ORC_CODE_BACKUP)
    g_printerr ("parallax-worker: ORC program %s runs its C backup code: "
        "%s\n", name, reason);
  if (client.report != NULL)
    client.report (name, code, reason, client.user_data);
}

/* ---- ORC's entry points, as the worker exports them -------------------- */

/* liborc's own, which the worker's definition hides from everyone else. */
static CompileFunc
liborc_compile_full (void)
{
  static gsize func = 0;

  if (g_once_init_enter (&func))
    g_once_init_leave (&func, (gsize) dlsym (RTLD_NEXT,
            "orc_program_compile_full"));
  return (CompileFunc) func;
}

OrcCompileResult
orc_program_compile_full (OrcProgram * program, OrcTarget * target,
    unsigned int flags)
{
  CompileFunc orc_compile_full = liborc_compile_full ();
  OrcCompileResult result;
  gboolean orc_refused = FALSE;
  gchar *reason;

  if (!client.wanted || target == NULL)
    return orc_compile_full (program, target, flags);

  /* Without a target liborc generates no code: it sets the program up
   * with its backup function (or its emulator) and its variables. */
  result = orc_compile_full (program, NULL, 0);
  if (ORC_COMPILE_RESULT_IS_FATAL (result) || program->orccode == NULL)
    return result;
  g_mutex_lock (&client.lock);
  /* An element may compile before the worker is ready (in READY): the
   * region is mapped then, at its first use. */
  if (!map_region_locked ())
    reason = g_strdup_printf ("no compiler (%s)", client.failure ?
        client.failure : "not started");
  else
    reason = NULL;
  g_mutex_unlock (&client.lock);
  if (reason == NULL)
    reason = program_fits_bytecode (program) ?
        compile_remotely (program, target, flags, &orc_refused) :
        g_strdup ("it cannot be written as ORC bytecode");
  report (program, reason == NULL ? PX_ORC_CODE_COMPILED : orc_refused ?
      PX_ORC_CODE_NOT_COMPILABLE : PX_ORC_CODE_BACKUP, reason);
  if (reason != NULL) {
    g_free (reason);
    return result;
  }
  return ORC_COMPILE_RESULT_OK;
}

OrcCompileResult
orc_program_compile_for_target (OrcProgram * program, OrcTarget * target)
{
  return orc_program_compile_full (program, target,
      target ? orc_target_get_default_flags (target) : 0);
}

OrcCompileResult
orc_program_compile (OrcProgram * program)
{
  return orc_program_compile_for_target (program, orc_target_get_default ());
}

int
px_orc_client_request_raw (const void *bytecode, gsize size)
{
  OrcTarget *target;
  PxOrcReply reply;
  int ret;

  orc_init ();
  target = orc_target_get_default ();
  g_mutex_lock (&client.lock);
  ret = request_locked (orc_target_get_name (target),
      orc_target_get_default_flags (target), bytecode, size, &reply);
  g_mutex_unlock (&client.lock);
  return ret < 0 ? ret : reply.status;
}
