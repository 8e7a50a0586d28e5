/* Parallax — checking an ORC program before ORC parses it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * orc_bytecode_parse_function() trusts its input: it reads past the end of
 * the buffer, indexes ORC's opcode table and its fixed arrays of variables
 * and instructions with whatever numbers it finds. The compiler therefore
 * walks every request with px_orc_bytecode_check() first, with the same
 * grammar and explicit bounds, and hands ORC only bytecode that passed.
 */
#ifndef PX_ORC_BYTECODE_H
#define PX_ORC_BYTECODE_H

#include <stddef.h>
#include <stdint.h>

/* The ORC whose compiler (SSE target) the check bounds; the compiler
 * refuses to compile with any other (orc_version_string ()). */
#define PX_ORC_CHECKED_VERSION "0.4.33"

/* The most instructions a checked program may have, before ORC adds its
 * loads and stores (after, ORC_N_INSNS; see px-orc-bytecode.c). */
#define PX_ORC_MAX_INSNS 64

/* Checks that @bytecode (@size bytes) is one function as
 * orc_bytecode_from_program() writes it: BEGIN_FUNCTION, declarations,
 * instructions, END_FUNCTION, END, and nothing after; every count within
 * ORC's limits, every size one ORC accepts, every opcode known, every
 * argument a variable declared before it, and nothing that would overrun
 * the fixed arrays of ORC's compiler (instructions, variables, constants)
 * once ORC adds what it adds. Returns 0, or -EINVAL with a
 * short reason in @why (static text) when given. Needs orc_init(). */
int px_orc_bytecode_check (const uint8_t * bytecode, size_t size,
    const char **why);

#endif /* PX_ORC_BYTECODE_H */
