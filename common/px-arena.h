/* Parallax — memfd arenas: one fd for a pool of fixed-size slots.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An arena is one memfd of slot_stride × slot_count bytes, sealed against
 * shrinking and growing at creation so that a process mapping it can never be
 * hit by SIGBUS. The process that creates it (the owner) maps it read-write
 * and hands out slots through an atomic bitmap: acquire and release never
 * take a lock. Before the fd goes to another process the owner seals it with
 * F_SEAL_FUTURE_WRITE: from then on nobody else can map it writable, write(2)
 * it or truncate it, while the owner's own mapping stays writable.
 *
 * A process that receives an arena fd imports it: px_arena_import() checks
 * that the fd is a memfd of the announced size carrying the required seals
 * and maps it read-only. Owner and imported arenas are the same refcounted
 * type; only owners have a slot bitmap.
 *
 * Every arena carries a random 64-bit id, unique across processes, so that
 * peers can name it in slot references.
 *
 * All functions return >= 0 on success and -errno on failure; output
 * parameters are written only on success. Functions are thread-safe where
 * noted; the refcount is atomic.
 */
#ifndef PX_ARENA_H
#define PX_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C"
{
#endif

/* Upper bounds that also apply to what a peer announces. */
#define PX_ARENA_MAX_SLOTS (1u << 20)
#define PX_ARENA_MAX_SIZE ((uint64_t) 1 << 40)

  typedef struct PxArena PxArena;

/* Creates an owner arena of @slot_count slots of at least @slot_size bytes.
 * Each slot starts on a page boundary (slot_stride is slot_size rounded up to
 * the page size) so that fd-aware consumers can map a single slot.
 * @name shows up in /proc/<pid>/fd links ("memfd:<name>").
 *
 * Errors: -EINVAL (size or count 0, count above PX_ARENA_MAX_SLOTS),
 * -EOVERFLOW (total size overflows or exceeds PX_ARENA_MAX_SIZE), or the errno
 * of memfd_create, ftruncate, fcntl or mmap. Nothing is leaked on failure. */
  int px_arena_new (const char *name, size_t slot_size, uint32_t slot_count,
      PxArena ** out);

/* The memfd of an arena made for another process to own (a sandboxed
 * worker, which creates no shared memory itself): the layout of
 * px_arena_new(), sealed against shrinking and growing, not mapped here.
 * The receiver takes it with px_arena_adopt(). Errors as px_arena_new().
 * *@fd is CLOEXEC and the caller's. */
  int px_arena_new_fd (const char *name, size_t slot_size, uint32_t slot_count,
      int *fd, uint64_t * size, size_t *slot_stride);

/* Becomes the owner of an arena another process made with
 * px_arena_new_fd() and sent: takes @fd (closed on failure), checks it as
 * px_arena_import() does (memfd, size, size seals, layout), and that it is
 * not sealed against writing (-EROFS), then maps it read-write with a slot
 * bitmap, as px_arena_new() would. */
  int px_arena_adopt (int fd, uint64_t id, uint64_t size, size_t slot_stride,
      uint32_t slot_count, PxArena ** out);

/* Imports an arena received from another process. Takes ownership of @fd in
 * every case (it is closed on failure). Checks, before mapping anything:
 * @fd is a regular memfd, its size equals @size, its seals include
 * F_SEAL_SHRINK and F_SEAL_GROW (and F_SEAL_FUTURE_WRITE when
 * @require_readonly_seal), and the layout (@slot_stride × @slot_count
 * == @size, page-aligned stride) is sane. Maps it read-only.
 *
 * Errors: -EBADF (not a memfd / not a regular file), -EINVAL (bad layout),
 * -EMSGSIZE (size mismatch), -EPERM (missing seals), or mmap's errno. */
  int px_arena_import (int fd, uint64_t id, uint64_t size, size_t slot_stride,
      uint32_t slot_count, bool require_readonly_seal, PxArena ** out);

  PxArena *px_arena_ref (PxArena * arena);
  void px_arena_unref (PxArena * arena);

/* Owner only, thread-safe, lock-free: takes a free slot.
 * Errors: -ENOBUFS when every slot is in use, -EPERM on an imported arena. */
  int px_arena_acquire (PxArena * arena, uint32_t * slot);

/* Owner only, thread-safe, lock-free: gives @slot back.
 * Errors: -ERANGE (no such slot), -EALREADY (slot was not in use),
 * -EPERM (imported arena). */
  int px_arena_release (PxArena * arena, uint32_t slot);

/* Owner only: adds F_SEAL_FUTURE_WRITE so that the fd can be handed to
 * readers. Idempotent. Errors: fcntl's errno (-EINVAL on kernels < 5.1). */
  int px_arena_seal_for_readers (PxArena * arena);

/* Checks that [offset, offset + size) lies inside @slot.
 * Returns 0 or -ERANGE. Safe against overflow; used on peer input. */
  int px_arena_check_range (const PxArena * arena, uint32_t slot,
      uint64_t offset, uint64_t size);

  uint64_t px_arena_id (const PxArena * arena);
  int px_arena_fd (const PxArena * arena);
  uint64_t px_arena_size (const PxArena * arena);
  size_t px_arena_slot_size (const PxArena * arena);
  size_t px_arena_slot_stride (const PxArena * arena);
  uint32_t px_arena_slot_count (const PxArena * arena);
  bool px_arena_is_owner (const PxArena * arena);
/* Number of slots currently acquired (owner only; a snapshot). */
  uint32_t px_arena_slots_in_use (const PxArena * arena);

/* Start of the mapping: writable for owners, read-only for imports. */
  uint8_t *px_arena_data (const PxArena * arena);
/* Start of @slot inside the mapping (no bounds check: use on own slots). */
  uint8_t *px_arena_slot_data (const PxArena * arena, uint32_t slot);
  uint64_t px_arena_slot_offset (const PxArena * arena, uint32_t slot);

/* What the start of every slot of every arena is a multiple of, as an fd
 * offset and as an address in any process's mapping: the page size. Data
 * placed at an offset inside a slot that is a multiple of an alignment up
 * to this one has that alignment. */
  size_t px_arena_slot_alignment (void);

/* A fresh random id, never 0, unique across processes for all practical
 * purposes (64 bits from getrandom). */
  uint64_t px_arena_new_id (void);

/* The receiver's cache: arena id -> imported arena, one table per
 * connection, so that each arena is mapped once however many buffers refer
 * to it. Each entry can carry the caller's data for that arena (the
 * GStreamer side keeps the arena's allocator there), released with the
 * table's destroy function. Not thread-safe: the connection's reader owns
 * it. */
#define PX_ARENA_TABLE_MAX 64

  typedef struct
  {
    PxArena *arena;
    void *data;
  } PxArenaTableEntry;

  typedef struct
  {
    PxArenaTableEntry entries[PX_ARENA_TABLE_MAX];
    unsigned n_entries;
    void (*destroy) (void *data);
  } PxArenaTable;

/* @destroy (may be NULL) releases an entry's data. */
  void px_arena_table_init (PxArenaTable * table, void (*destroy) (void *));
/* Takes over the caller's reference on @arena and @data, also on failure.
 * Errors: -EEXIST (id already present), -ENOSPC (table full). */
  int px_arena_table_add (PxArenaTable * table, PxArena * arena, void *data);
/* The entry for @id (borrowed), or NULL. */
  const PxArenaTableEntry *px_arena_table_lookup (const PxArenaTable * table,
      uint64_t id);
/* Errors: -ENOENT. */
  int px_arena_table_remove (PxArenaTable * table, uint64_t id);
  void px_arena_table_clear (PxArenaTable * table);

#ifdef __cplusplus
}
#endif
#endif                          /* PX_ARENA_H */
