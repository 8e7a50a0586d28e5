/* Parallax — seed corpus for fuzz_orc_bytecode: programs of the kinds
 * GStreamer's elements use, as ORC bytecode.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   make_orc_corpus DIR
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define ORC_ENABLE_UNSTABLE_API
#include <orc/orc.h>
#include <orc/orcbytecode.h>
#include <orc/orcprogram.h>

static OrcProgram *
seed (int which)
{
  OrcProgram *p;

  switch (which) {
    case 0:
      p = orc_program_new_dss (1, 1, 1);
      orc_program_append_2 (p, "addusb", 0, ORC_VAR_D1, ORC_VAR_S1,
          ORC_VAR_S2, 0);
      return p;
    case 1:
      p = orc_program_new_ds (2, 1);
      orc_program_add_constant (p, 2, 0x1234, "c1");
      orc_program_add_parameter (p, 2, "p1");
      orc_program_add_temporary (p, 2, "t1");
      orc_program_append_2 (p, "convubw", 0, ORC_VAR_T1, ORC_VAR_S1, 0, 0);
      orc_program_append_2 (p, "mullw", 0, ORC_VAR_T1, ORC_VAR_T1,
          ORC_VAR_P1, 0);
      orc_program_append_2 (p, "addw", 0, ORC_VAR_D1, ORC_VAR_T1,
          ORC_VAR_C1, 0);
      return p;
    case 2:
      p = orc_program_new_ds (4, 4);
      orc_program_set_2d (p);
      orc_program_append_2 (p, "copyl", 0, ORC_VAR_D1, ORC_VAR_S1, 0, 0);
      return p;
    case 3:
      p = orc_program_new_as (4, 1);
      orc_program_add_source (p, 1, "s2");
      orc_program_append_2 (p, "accsadubl", 0, ORC_VAR_A1, ORC_VAR_S1,
          ORC_VAR_S2, 0);
      return p;
    case 4:
      p = orc_program_new_ds (2, 4);
      orc_program_add_temporary (p, 4, "t1");
      orc_program_add_constant_float (p, 4, 32767.0f, "c1");
      orc_program_append_2 (p, "mulf", 0, ORC_VAR_T1, ORC_VAR_S1,
          ORC_VAR_C1, 0);
      orc_program_append_2 (p, "convfl", 0, ORC_VAR_T1, ORC_VAR_T1, 0, 0);
      orc_program_append_2 (p, "convssslw", 0, ORC_VAR_D1, ORC_VAR_T1, 0, 0);
      return p;
    case 5:
      p = orc_program_new_ds (1, 1);
      orc_program_add_constant (p, 1, 3, "c1");
      orc_program_append_2 (p, "shrub", 0, ORC_VAR_D1, ORC_VAR_S1,
          ORC_VAR_C1, 0);
      return p;
    default:
      return NULL;
  }
}

int
main (int argc, char **argv)
{
  OrcProgram *p;

  if (argc != 2) {
    fprintf (stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  if (mkdir (argv[1], 0755) < 0 && errno != EEXIST) {
    perror (argv[1]);
    return 1;
  }
  orc_init ();
  for (int i = 0; (p = seed (i)) != NULL; i++) {
    OrcBytecode *bytecode;
    char path[4096];
    FILE *f;

    orc_program_set_name (p, "seed");
    bytecode = orc_bytecode_from_program (p);
    snprintf (path, sizeof path, "%s/orc-%d", argv[1], i);
    f = fopen (path, "wb");
    if (f == NULL || fwrite (bytecode->bytecode, 1, bytecode->length, f) !=
        (size_t) bytecode->length || fclose (f) != 0) {
      perror (path);
      return 1;
    }
    orc_bytecode_free (bytecode);
    orc_program_free (p);
  }
  return 0;
}
