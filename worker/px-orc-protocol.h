/* Parallax — what a worker and its ORC compiler say to each other.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ORC compiles its programs to machine code on first use. A worker may not
 * make executable memory after its lockdown, so parallax-orc-compiler, a
 * process of its own that the worker starts before it locks down, compiles
 * for it (docs/security.md, "W^X and ORC"):
 *
 *   compiler -> worker   HELLO (PxOrcHello) with the code region's memfd:
 *                        sealed against writes (F_SEAL_FUTURE_WRITE), size
 *                        and seals; the compiler alone keeps the writable
 *                        mapping it made before sealing. The worker maps
 *                        the region read + execute once, before lockdown.
 *   worker -> compiler   COMPILE: PxOrcRequest, then the program as ORC
 *                        bytecode (orc_bytecode_from_program), one message
 *   compiler -> worker   PxOrcReply: where in the region the code is
 *
 * One request at a time, on an AF_UNIX SOCK_SEQPACKET socket (fd 3 in the
 * compiler). Everything is host byte order: both ends run on one machine.
 * The compiler treats every request as hostile; the worker checks every
 * reply against the region it mapped.
 *
 * No GLib and no GStreamer here: the compiler links neither.
 */
#ifndef PX_ORC_PROTOCOL_H
#define PX_ORC_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PX_ORC_MAGIC 0x31435850u        /* "PXC1" */

/* The compiler's socket, in the compiler. */
#define PX_ORC_COMPILER_FD 3

/* The code region: appended to, never rewritten; a program whose code does
 * not fit any more runs ORC's C backup code. Most of it is never touched
 * (tmpfs pages are allocated on first write). */
#define PX_ORC_REGION_SIZE (4u << 20)
/* Where each program's code starts in the region. */
#define PX_ORC_CODE_ALIGN 64u

/* Largest program accepted, as bytecode. A program of ORC_N_INSNS
 * instructions with every variable declared needs less than 2 KiB. */
#define PX_ORC_MAX_BYTECODE 4096u
/* ORC generates a program's code into a 64 KiB buffer. */
#define PX_ORC_MAX_CODE 65536u

#define PX_ORC_TARGET_NAME_MAX 16

/* How long the worker waits for the compiler: its HELLO, and each reply. */
#define PX_ORC_TIMEOUT_MS 5000

typedef struct
{
  uint32_t magic;
  uint32_t reserved;
  uint64_t region_size;         /* PX_ORC_REGION_SIZE */
} PxOrcHello;

_Static_assert (sizeof (PxOrcHello) == 16, "PxOrcHello layout");

typedef struct
{
  uint32_t magic;
  uint32_t target_flags;        /* for target->compile */
  char target[PX_ORC_TARGET_NAME_MAX];  /* NUL-terminated */
  uint32_t bytecode_size;       /* bytes that follow, <= MAX_BYTECODE */
  uint32_t reserved;
} PxOrcRequest;

_Static_assert (sizeof (PxOrcRequest) == 32, "PxOrcRequest layout");

/* Why a program was not compiled (PxOrcReply.status, negative). */
typedef enum
{
  PX_ORC_OK = 0,
  PX_ORC_MALFORMED = -1,        /* the request or its bytecode is invalid */
  PX_ORC_UNSUPPORTED = -2,      /* not the compiler's target, or flags */
  PX_ORC_NOT_COMPILED = -3,     /* ORC could not compile it (orc_result) */
  PX_ORC_REGION_FULL = -4,
} PxOrcStatus;

typedef struct
{
  uint32_t magic;
  int32_t status;               /* PxOrcStatus */
  uint32_t offset;              /* of the code in the region */
  uint32_t size;                /* of the code */
  uint32_t orc_result;          /* OrcCompileResult */
  uint32_t reserved;
} PxOrcReply;

_Static_assert (sizeof (PxOrcReply) == 24, "PxOrcReply layout");

/* A short text for @status ("malformed program", ...). */
const char *px_orc_status_name (int status);

/* Starts the compiler at @path with @sock (the worker's end is the
 * caller's) as its fd 3, nothing else but fds 0-2, an empty environment
 * and a parent-death signal. Call only while the process has one thread.
 * Returns its pid or -errno. */
pid_t px_orc_compiler_spawn (const char *path, int sock);

/* Receives the HELLO within @timeout_ms and checks the region fd: a memfd
 * of exactly PX_ORC_REGION_SIZE bytes, sealed against writes, shrinking,
 * growing and further seals. On success *@region_fd is that fd (the
 * caller's). Returns 0 or -errno (-EPROTO for a bad HELLO, -EPERM for
 * missing seals, -ETIMEDOUT). */
int px_orc_receive_hello (int sock, int timeout_ms, int *region_fd);

/* Sends one request and waits at most @timeout_ms for its reply, which is
 * checked (magic, status, offset and size within a region of
 * PX_ORC_REGION_SIZE). Returns 0 with *@reply filled (its status may be
 * negative), or -errno if the compiler cannot be talked to any more. */
int px_orc_request (int sock, const char *target, uint32_t target_flags,
    const void *bytecode, size_t size, int timeout_ms, PxOrcReply * reply);

#endif /* PX_ORC_PROTOCOL_H */
