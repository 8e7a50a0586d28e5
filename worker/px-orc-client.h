/* Parallax — ORC's compile step in the worker, answered by the compiler.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every ORC user (the orcc-generated functions of videoconvert,
 * audioconvert, videoscale, ..., and programs built at run time) compiles
 * through orc_program_compile(), orc_program_compile_for_target() or
 * orc_program_compile_full(). parallax-worker defines all three and
 * exports them, so that the dynamic linker binds every library's calls to
 * them instead of liborc's: they let liborc do its bookkeeping without
 * generating code (the worker runs ORC_CODE=backup), send the program to
 * parallax-orc-compiler as bytecode, and point the program at the code
 * the compiler put into the region the worker mapped read + execute.
 * Whatever fails, the program keeps ORC's C backup code (or ORC's
 * emulation when it has none) and the report function says why.
 *
 * The compiler is used when the worker's ORC_CODE includes "backup" (ORC
 * would not generate code itself) and PARALLAX_ORC is not "backup".
 */
#ifndef PX_ORC_CLIENT_H
#define PX_ORC_CLIENT_H

#include <glib.h>

G_BEGIN_DECLS
/* Starts the compiler: $PARALLAX_ORC_COMPILER, else the file
 * parallax-orc-compiler next to the worker's executable, else the
 * installed one. Call at the start of main(), while
 * the process has one thread. Failures are kept and reported with the
 * first program that needs the compiler. */
void px_orc_client_spawn (void);

typedef enum
{
  /* runs the code the compiler generated */
  PX_ORC_CODE_COMPILED,
  /* runs its C backup code because of the sandbox: no compiler, the
   * compiler refused it, ... */
  PX_ORC_CODE_BACKUP,
  /* ORC has no code for it on this machine (a missing rule, ...): it runs
   * its C backup code in-process too */
  PX_ORC_CODE_NOT_COMPILABLE,
} PxOrcCode;

/* The name of @code in the "parallax-orc-program" element message:
 * "compiled", "backup", "not-compilable". */
const gchar *px_orc_code_name (PxOrcCode code);

/* Called once per program: @program is its name, @code what it runs,
 * @reason (NULL when compiled) why it runs ORC's C backup code instead.
 * Any thread (the one compiling, usually a streaming thread), with ORC's
 * lock held: post, do not wait. */
typedef void (*PxOrcReportFunc) (const gchar * program, PxOrcCode code,
    const gchar * reason, gpointer user_data);

/* Before the lockdown: receives the compiler's code region and maps it
 * read + execute, the worker's only executable mapping made after its
 * start. Returns FALSE (and keeps the reason) when there is no compiler. */
gboolean px_orc_client_connect (PxOrcReportFunc report, gpointer user_data);

/* Compiles @bytecode as a program, without ORC: what a compromised element
 * could send. Returns the reply's status (PxOrcStatus) or -errno. For the
 * hostile-element tests; exported like the ORC entry points. */
int px_orc_client_request_raw (const void *bytecode, gsize size);

G_END_DECLS
#endif /* PX_ORC_CLIENT_H */
