/* Parallax — checking an ORC program before ORC parses it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "px-orc-bytecode.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define ORC_ENABLE_UNSTABLE_API
#include <orc/orc.h>
#include <orc/orcbytecode.h>

/* Longest program name accepted. */
#define MAX_NAME 128
/* Largest n_multiple, n_minimum, n_maximum, constant_n or constant_m:
 * ORC's own bytecode integers stop at 65534. */
#define MAX_INT 65534
#define MAX_ALIGNMENT 256

/* ORC writes a program's code into a 64 KiB buffer without checking its
 * end. Upper bounds of the code one instruction makes on SSE (measured
 * with ORC 0.4.33 for every opcode at its most unrolled, each with its
 * loads and store: 841 bytes at most, divluw's division loop 2739; see
 * test_largest_programs_fit_orc), and what a program may make in all. */
#define INSN_CODE_BYTES 900
#define DIVLUW_CODE_BYTES 2800
#define MAX_CODE_BYTES 60000

typedef struct
{
  const uint8_t *data;
  size_t size;
  size_t pos;
  const char *why;
} Reader;

/* A variable class: where it starts in ORC's variable array, how many it
 * may have, and how many were declared so far. */
typedef struct
{
  int first;
  int max;
  int count;
} VarClass;

enum
{ DEST, SRC, ACCUM, CONST, PARAM, TEMP, N_CLASSES };

typedef struct
{
  VarClass vars[N_CLASSES];
  uint32_t const_values[ORC_MAX_CONST_VARS];
  int n_insns;
  bool named;
  unsigned pending_flags;
  /* What ORC's compiler adds (see check_compiler_limits) */
  int added_insns;
  int temp_writes;
  int code_bytes;               /* an upper bound on the instructions' code */
  uint32_t shift_masks[8];      /* 256 bits: masks a shift rule makes */
} Program;

static bool
fail (Reader * r, const char *why)
{
  if (r->why == NULL)
    r->why = why;
  return false;
}

static bool
read_byte (Reader * r, unsigned *value)
{
  if (r->pos >= r->size)
    return fail (r, "truncated");
  *value = r->data[r->pos++];
  return true;
}

/* ORC's integer: one byte below 255, else 255 and 16 bits. */
static bool
read_int (Reader * r, unsigned *value)
{
  unsigned lo, hi;

  if (!read_byte (r, value))
    return false;
  if (*value != 255)
    return true;
  if (!read_byte (r, &lo) || !read_byte (r, &hi))
    return false;
  *value = lo | hi << 8;
  return true;
}

static bool
skip (Reader * r, size_t n)
{
  if (r->size - r->pos < n)
    return fail (r, "truncated");
  r->pos += n;
  return true;
}

/* A constant's (low) 32 bits, kept for the constant about to be
 * declared. */
static bool
read_uint32 (Reader * r, Program * p)
{
  int index = p->vars[CONST].count;

  if (r->size - r->pos < 4)
    return fail (r, "truncated");
  if (index < ORC_MAX_CONST_VARS)
    p->const_values[index] = (uint32_t) r->data[r->pos] |
        (uint32_t) r->data[r->pos + 1] << 8 |
        (uint32_t) r->data[r->pos + 2] << 16 |
        (uint32_t) r->data[r->pos + 3] << 24;
  r->pos += 4;
  return true;
}

static bool
read_bounded (Reader * r, unsigned max, unsigned *value)
{
  if (!read_int (r, value))
    return false;
  return *value <= max || fail (r, "value out of range");
}

static bool
read_size (Reader * r, unsigned *size)
{
  if (!read_int (r, size))
    return false;
  return *size == 1 || *size == 2 || *size == 4 || *size == 8 ||
      fail (r, "variable size not 1, 2, 4 or 8");
}

static bool
read_name (Reader * r, Program * p)
{
  unsigned len, c;

  if (p->named)
    return fail (r, "two names");
  p->named = true;
  if (!read_bounded (r, MAX_NAME, &len))
    return false;
  for (unsigned i = 0; i < len; i++) {
    if (!read_byte (r, &c))
      return false;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '_'))
      return fail (r, "name not an identifier");
  }
  return true;
}

static bool
declare (Reader * r, Program * p, int class)
{
  if (p->n_insns > 0)
    return fail (r, "declaration after an instruction");
  if (p->vars[class].count >= p->vars[class].max)
    return fail (r, "too many variables");
  p->vars[class].count++;
  return true;
}

static bool
read_declaration (Reader * r, Program * p, unsigned bc)
{
  unsigned size, alignment;

  switch (bc) {
    case ORC_BC_ADD_DESTINATION:
    case ORC_BC_ADD_SOURCE:
      return read_size (r, &size) &&
          read_bounded (r, MAX_ALIGNMENT, &alignment) &&
          declare (r, p, bc == ORC_BC_ADD_DESTINATION ? DEST : SRC);
    case ORC_BC_ADD_ACCUMULATOR:
      return read_size (r, &size) && declare (r, p, ACCUM);
    case ORC_BC_ADD_CONSTANT:
      return read_size (r, &size) && read_uint32 (r, p) &&
          declare (r, p, CONST);
    case ORC_BC_ADD_CONSTANT_INT64:
      return read_size (r, &size) && read_uint32 (r, p) && skip (r, 4) &&
          declare (r, p, CONST);
    case ORC_BC_ADD_PARAMETER:
    case ORC_BC_ADD_PARAMETER_FLOAT:
    case ORC_BC_ADD_PARAMETER_INT64:
    case ORC_BC_ADD_PARAMETER_DOUBLE:
      return read_size (r, &size) && declare (r, p, PARAM);
    case ORC_BC_ADD_TEMPORARY:
      return read_size (r, &size) && declare (r, p, TEMP);
    default:
      return fail (r, "unknown directive");
  }
}

/* Function-level directives; false with r->why set on error. */
static bool
read_directive (Reader * r, Program * p, unsigned bc)
{
  unsigned value;

  switch (bc) {
    case ORC_BC_SET_CONSTANT_N:
    case ORC_BC_SET_N_MINIMUM:
    case ORC_BC_SET_N_MAXIMUM:
    case ORC_BC_SET_CONSTANT_M:
      return read_bounded (r, MAX_INT, &value);
    case ORC_BC_SET_N_MULTIPLE:
      if (!read_bounded (r, MAX_ALIGNMENT, &value))
        return false;
      return (value & (value - 1)) == 0 ||
          fail (r, "n_multiple not a power of two");
    case ORC_BC_SET_2D:
      return true;
    case ORC_BC_SET_NAME:
      return read_name (r, p);
    case ORC_BC_INSTRUCTION_FLAGS:
      if (!read_int (r, &value))
        return false;
      if (value & ~(unsigned) (ORC_INSTRUCTION_FLAG_X2 |
              ORC_INSTRUCTION_FLAG_X4))
        return fail (r, "unknown instruction flags");
      p->pending_flags = value;
      return true;
    default:
      return read_declaration (r, p, bc);
  }
}

/* An argument: a variable declared so far; destinations only where an
 * instruction may write. *@class and *@var say which. */
static bool
read_argument (Reader * r, Program * p, bool dest, int *class, unsigned *var)
{
  if (!read_int (r, var))
    return false;
  for (int c = 0; c < N_CLASSES; c++) {
    const VarClass *vc = &p->vars[c];

    if ((int) *var < vc->first || (int) *var >= vc->first + vc->count)
      continue;
    if (dest && c != DEST && c != TEMP && c != ACCUM)
      return fail (r, "instruction writes a source");
    *class = c;
    return true;
  }
  return fail (r, "argument is not a declared variable");
}

/* The byte masks sse_rule_shlb and sse_rule_shrub request for a constant
 * shift, as one bit per distinct mask that is not among the constants
 * other rules request anyway (0x00, 0x80, 0xff). */
static bool
note_shift_constant (Reader * r, Program * p, const OrcStaticOpcode * op,
    uint32_t shift)
{
  unsigned mask;

  if (shift > 7)
    return fail (r, "byte shift by more than 7");
  mask = strcmp (op->name, "shlb") == 0 ? (0xffu << shift) & 0xff :
      0xffu >> shift;
  if (mask != 0 && mask != 0x80 && mask != 0xff)
    p->shift_masks[mask / 32] |= 1u << (mask % 32);
  return true;
}

/* What orc_compiler_rewrite_insns() adds for one source: a load for a
 * source or destination array, a parameter load for a constant or a
 * parameter (ORC shares some; counted as if it did not). Scalar operands
 * of scalar opcodes are loaded only when they are parameters. */
static int
added_for_source (const OrcStaticOpcode * op, int i, int class)
{
  if (op->flags & ORC_STATIC_OPCODE_LOAD)
    return 0;
  if (i > 0 && (op->flags & ORC_STATIC_OPCODE_SCALAR))
    return class == PARAM;
  return class == SRC || class == DEST || class == CONST || class == PARAM;
}

static bool
read_sources (Reader * r, Program * p, const OrcStaticOpcode * op)
{
  bool byte_shift = strcmp (op->name, "shlb") == 0 ||
      strcmp (op->name, "shrub") == 0;
  unsigned var;
  int class;

  for (int i = 0; i < ORC_STATIC_OPCODE_N_SRC; i++) {
    if (op->src_size[i] == 0)
      continue;
    if (!read_argument (r, p, false, &class, &var))
      return false;
    p->added_insns += added_for_source (op, i, class);
    if (byte_shift && i == 1 && class == CONST &&
        !note_shift_constant (r, p, op, p->const_values[var - ORC_VAR_C1]))
      return false;
  }
  return true;
}

static bool
read_instruction (Reader * r, Program * p, unsigned bc)
{
  OrcOpcodeSet *set = orc_opcode_set_get ("sys");
  OrcStaticOpcode *opcode;
  unsigned var;
  int class;

  if (set == NULL || bc - ORC_BC_absb >= (unsigned) set->n_opcodes)
    return fail (r, "unknown opcode");
  if (p->n_insns >= PX_ORC_MAX_INSNS)
    return fail (r, "too many instructions");
  opcode = set->opcodes + (bc - ORC_BC_absb);
  for (int i = 0; i < ORC_STATIC_OPCODE_N_DEST; i++) {
    if (opcode->dest_size[i] == 0)
      continue;
    if (!read_argument (r, p, true, &class, &var))
      return false;
    if (class == DEST && !(opcode->flags & ORC_STATIC_OPCODE_STORE))
      p->added_insns++;         /* the store */
    if (class == TEMP)
      p->temp_writes++;         /* a rewrite may duplicate the temporary */
  }
  if (!read_sources (r, p, opcode))
    return false;
  p->code_bytes += strcmp (opcode->name, "divluw") == 0 ? DIVLUW_CODE_BYTES :
      INSN_CODE_BYTES;
  p->n_insns++;
  p->pending_flags = 0;
  return true;
}

static int
count_shift_masks (const Program * p)
{
  int n = 0;

  for (int i = 0; i < 8; i++)
    n += __builtin_popcount (p->shift_masks[i]);
  return n;
}

/* ORC's compiler keeps fixed arrays it does not bound (orccompiler.h):
 * ORC_N_INSNS instructions after it adds loads and stores,
 * ORC_N_COMPILER_VARIABLES variables after it adds a temporary for each of
 * them and may duplicate a temporary at each write, ORC_N_CONSTANTS
 * constants its rules request. The SSE rules of ORC 0.4.33 request 19
 * distinct constants at most, plus one per byte mask of a constant byte
 * shift (shlb, shrub): one such mask is allowed. Labels and fixups do not
 * depend on the program there. And the code must fit ORC's buffer. */
static bool
check_compiler_limits (Reader * r, const Program * p)
{
  if (p->n_insns + p->added_insns > ORC_N_INSNS)
    return fail (r, "too many instructions once loads and stores are added");
  if (ORC_VAR_T1 + p->vars[TEMP].count + p->added_insns + p->temp_writes >
      ORC_N_COMPILER_VARIABLES)
    return fail (r, "too many temporaries once ORC adds its own");
  if (count_shift_masks (p) > ORC_N_CONSTANTS - 19)
    return fail (r, "too many distinct constant byte shifts");
  if (p->code_bytes + INSN_CODE_BYTES * p->added_insns > MAX_CODE_BYTES)
    return fail (r, "its code could overrun ORC's 64 KiB buffer");
  return true;
}

static bool
read_function (Reader * r, Program * p)
{
  unsigned bc;

  if (!read_int (r, &bc))
    return false;
  if (bc != ORC_BC_BEGIN_FUNCTION)
    return fail (r, "does not begin with BEGIN_FUNCTION");
  for (;;) {
    if (!read_int (r, &bc))
      return false;
    if (bc == ORC_BC_END_FUNCTION)
      break;
    if (bc == ORC_BC_END || bc == ORC_BC_BEGIN_FUNCTION ||
        bc == ORC_BC_SET_BACKUP_FUNCTION)
      return fail (r, "unexpected directive");
    if (bc >= ORC_BC_absb ? !read_instruction (r, p, bc) :
        !read_directive (r, p, bc))
      return false;
  }
  if (p->pending_flags != 0)
    return fail (r, "instruction flags without an instruction");
  if (p->n_insns == 0 || p->vars[DEST].count + p->vars[ACCUM].count == 0)
    return fail (r, "no instruction or no destination");
  if (!check_compiler_limits (r, p))
    return false;
  if (!read_int (r, &bc) || bc != ORC_BC_END)
    return fail (r, "END_FUNCTION not followed by END");
  return r->pos == r->size || fail (r, "bytes after END");
}

int
px_orc_bytecode_check (const uint8_t * bytecode, size_t size, const char **why)
{
  Reader r = {.data = bytecode,.size = size };
  Program p = {.vars = {
          [DEST] = {ORC_VAR_D1, ORC_MAX_DEST_VARS, 0},
          [SRC] = {ORC_VAR_S1, ORC_MAX_SRC_VARS, 0},
          [ACCUM] = {ORC_VAR_A1, ORC_MAX_ACCUM_VARS, 0},
          [CONST] = {ORC_VAR_C1, ORC_MAX_CONST_VARS, 0},
          [PARAM] = {ORC_VAR_P1, ORC_MAX_PARAM_VARS, 0},
          [TEMP] = {ORC_VAR_T1, ORC_MAX_TEMP_VARS, 0},
      }
  };

  if (read_function (&r, &p))
    return 0;
  if (why)
    *why = r.why ? r.why : "invalid";
  return -EINVAL;
}
