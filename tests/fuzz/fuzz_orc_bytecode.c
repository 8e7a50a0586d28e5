/* Parallax — libFuzzer target for the ORC compiler's check of a program
 * (worker/px-orc-bytecode.c) and for ORC behind it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is a request's bytecode, as a compromised worker could send
 * it. px_orc_bytecode_check() must never read outside it; what it accepts
 * goes where parallax-orc-compiler sends it: orc_bytecode_parse_function()
 * and orc_program_compile_full() for the default target (ORC's real JIT,
 * in this process). A crash there is a program the check should have
 * refused. Accepted programs must also obey the limits the check promises.
 */
#include "px-orc-bytecode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORC_ENABLE_UNSTABLE_API
#include <orc/orc.h>
#include <orc/orcbytecode.h>
#include <orc/orccode.h>
#include <orc/orcprogram.h>
#include <orc/orctarget.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define FUZZ_ASSERT(cond)                                             \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf (stderr, "%s:%d: broken rule: %s\n", __FILE__,          \
          __LINE__, #cond);                                           \
      abort ();                                                       \
    }                                                                 \
  } while (0)

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static OrcTarget *target;
  OrcProgram *program;
  uint8_t *copy;

  if (target == NULL) {
    orc_init ();
    target = orc_target_get_default ();
  }
  if (size > 4096)
    return 0;
  /* An exact-size heap copy: ASan sees any read past its end. */
  copy = malloc (size ? size : 1);
  memcpy (copy, data, size);
  if (px_orc_bytecode_check (copy, size, NULL) == 0) {
    OrcCompileResult result;

    program = orc_program_new ();
    orc_bytecode_parse_function (program, copy);
    FUZZ_ASSERT (program->n_insns > 0 && program->n_insns <= PX_ORC_MAX_INSNS);
    result = orc_program_compile_full (program, target,
        orc_target_get_default_flags (target));
    if (ORC_COMPILE_RESULT_IS_SUCCESSFUL (result))
      FUZZ_ASSERT (program->orccode->code_size > 0 &&
          program->orccode->code_size < 65536);
    orc_program_free (program);
  }
  free (copy);
  return 0;
}
