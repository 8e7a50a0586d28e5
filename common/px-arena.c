/* Parallax — memfd arenas.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "px-arena.h"
#include "px-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* Seals every arena carries from creation on: its size can never change, so
 * a mapping of it can never fault (SIGBUS) on a truncated page. */
#define PX_ARENA_SIZE_SEALS (F_SEAL_SHRINK | F_SEAL_GROW)

struct PxArena
{
  atomic_uint refcount;
  int fd;
  uint64_t id;
  uint8_t *data;
  uint64_t size;
  size_t slot_size;
  size_t slot_stride;
  uint32_t slot_count;

  /* Owner only: bit set = slot free. Bits past slot_count are never set. */
  _Atomic uint64_t *free_bits;
  uint32_t n_words;
  /* Word where the last acquire found a slot: the next one starts there, so
   * that concurrent acquirers do not all fight over word 0. */
  atomic_uint hint;
  atomic_uint in_use;
};

/* Any thread (reader threads import arenas concurrently): every one of
 * them finds the same value, so a relaxed atomic is enough. */
static size_t
page_size (void)
{
  static atomic_size_t cached;
  size_t size = atomic_load_explicit (&cached, memory_order_relaxed);

  if (size == 0) {
    size = (size_t) sysconf (_SC_PAGESIZE);
    atomic_store_explicit (&cached, size, memory_order_relaxed);
  }
  return size;
}

uint64_t
px_arena_new_id (void)
{
  uint64_t id = 0;

  while (id == 0) {
    if (getrandom (&id, sizeof id, 0) != sizeof id)
      id = 0;
  }
  return id;
}

/* Computes the page-rounded stride and total size, refusing overflow. */
static int
compute_layout (size_t slot_size, uint32_t slot_count, size_t *stride,
    uint64_t * size)
{
  size_t page = page_size ();
  size_t rounded;
  uint64_t total;

  if (slot_size == 0 || slot_count == 0 || slot_count > PX_ARENA_MAX_SLOTS)
    return -EINVAL;
  if (__builtin_add_overflow (slot_size, page - 1, &rounded))
    return -EOVERFLOW;
  rounded &= ~(page - 1);
  if (__builtin_mul_overflow ((uint64_t) rounded, (uint64_t) slot_count,
          &total) || total > PX_ARENA_MAX_SIZE)
    return -EOVERFLOW;
  *stride = rounded;
  *size = total;
  return 0;
}

static PxArena *
arena_alloc (int fd, uint64_t id, uint64_t size, size_t slot_size,
    size_t stride, uint32_t slot_count)
{
  PxArena *arena = calloc (1, sizeof *arena);

  if (arena == NULL)
    return NULL;
  atomic_init (&arena->refcount, 1);
  arena->fd = fd;
  arena->id = id;
  arena->size = size;
  arena->slot_size = slot_size;
  arena->slot_stride = stride;
  arena->slot_count = slot_count;
  return arena;
}

static void
arena_destroy (PxArena * arena)
{
  if (arena->data != NULL)
    munmap (arena->data, arena->size);
  px_close_fd (&arena->fd);
  free (arena->free_bits);
  free (arena);
}

static int
init_bitmap (PxArena * arena)
{
  uint32_t n_words = (arena->slot_count + 63) / 64;
  uint32_t tail = arena->slot_count % 64;

  arena->free_bits = calloc (n_words, sizeof (uint64_t));
  if (arena->free_bits == NULL)
    return -ENOMEM;
  for (uint32_t i = 0; i < n_words; i++)
    atomic_init (&arena->free_bits[i], UINT64_MAX);
  if (tail != 0)
    atomic_init (&arena->free_bits[n_words - 1], (UINT64_C (1) << tail) - 1);
  arena->n_words = n_words;
  return 0;
}

int
px_arena_new_fd (const char *name, size_t slot_size, uint32_t slot_count,
    int *out_fd, uint64_t * out_size, size_t *out_stride)
{
  px_auto_fd fd = -1;
  size_t stride;
  uint64_t size;
  int ret;

  ret = compute_layout (slot_size, slot_count, &stride, &size);
  if (ret < 0)
    return ret;
  fd = memfd_create (name ? name : "parallax-arena",
      MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return px_negative_errno ();
  if (ftruncate (fd, (off_t) size) < 0)
    return px_negative_errno ();
  if (fcntl (fd, F_ADD_SEALS, PX_ARENA_SIZE_SEALS) < 0)
    return px_negative_errno ();
  *out_fd = px_steal_fd (&fd);
  *out_size = size;
  *out_stride = stride;
  return 0;
}

/* Maps @fd read-write and makes the owner arena around it; takes @fd in
 * every case. */
static int
own_mapped (int fd_in, uint64_t id, uint64_t size, size_t slot_size,
    size_t stride, uint32_t slot_count, PxArena ** out)
{
  px_auto_fd fd = fd_in;
  PxArena *arena;
  void *data;
  int ret;

  data = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED)
    return px_negative_errno ();
  arena = arena_alloc (fd, id, size, slot_size, stride, slot_count);
  if (arena == NULL) {
    munmap (data, size);
    return -ENOMEM;
  }
  arena->data = data;
  fd = -1;                      /* owned by the arena from here */
  ret = init_bitmap (arena);
  if (ret < 0) {
    arena_destroy (arena);
    return ret;
  }
  *out = arena;
  return 0;
}

int
px_arena_new (const char *name, size_t slot_size, uint32_t slot_count,
    PxArena ** out)
{
  size_t stride;
  uint64_t size;
  int fd, ret;

  ret = px_arena_new_fd (name, slot_size, slot_count, &fd, &size, &stride);
  if (ret < 0)
    return ret;
  return own_mapped (fd, px_arena_new_id (), size, slot_size, stride,
      slot_count, out);
}

/* The checks a receiver makes before it maps anything a peer sent. */
static int
check_received_fd (int fd, uint64_t size, bool require_readonly_seal)
{
  struct stat st;
  int seals;
  int required = PX_ARENA_SIZE_SEALS;

  if (fstat (fd, &st) < 0)
    return px_negative_errno ();
  if (!S_ISREG (st.st_mode))
    return -EBADF;
  /* Only shmem files answer F_GET_SEALS; of those only memfds created with
   * MFD_ALLOW_SEALING can carry the size seals checked below. */
  seals = fcntl (fd, F_GET_SEALS);
  if (seals < 0)
    return -EBADF;
  if (st.st_size < 0 || (uint64_t) st.st_size != size)
    return -EMSGSIZE;
  if (require_readonly_seal)
    required |= F_SEAL_FUTURE_WRITE;
  if ((seals & required) != required)
    return -EPERM;
  return 0;
}

int
px_arena_import (int fd_in, uint64_t id, uint64_t size, size_t slot_stride,
    uint32_t slot_count, bool require_readonly_seal, PxArena ** out)
{
  px_auto_fd fd = fd_in;
  PxArena *arena;
  uint64_t expected;
  void *data;
  int ret;

  if (id == 0 || slot_count == 0 || slot_count > PX_ARENA_MAX_SLOTS ||
      slot_stride == 0 || slot_stride % page_size () != 0 ||
      size > PX_ARENA_MAX_SIZE ||
      __builtin_mul_overflow ((uint64_t) slot_stride, (uint64_t) slot_count,
          &expected) || expected != size)
    return -EINVAL;

  ret = check_received_fd (fd, size, require_readonly_seal);
  if (ret < 0)
    return ret;

  data = mmap (NULL, size, PROT_READ, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED)
    return px_negative_errno ();

  arena = arena_alloc (fd, id, size, slot_stride, slot_stride, slot_count);
  if (arena == NULL) {
    munmap (data, size);
    return -ENOMEM;
  }
  arena->data = data;
  fd = -1;
  *out = arena;
  return 0;
}

int
px_arena_adopt (int fd_in, uint64_t id, uint64_t size, size_t slot_stride,
    uint32_t slot_count, PxArena ** out)
{
  px_auto_fd fd = fd_in;
  uint64_t expected;
  int ret, seals;

  if (id == 0 || slot_count == 0 || slot_count > PX_ARENA_MAX_SLOTS ||
      slot_stride == 0 || slot_stride % page_size () != 0 ||
      size > PX_ARENA_MAX_SIZE ||
      __builtin_mul_overflow ((uint64_t) slot_stride, (uint64_t) slot_count,
          &expected) || expected != size)
    return -EINVAL;
  ret = check_received_fd (fd, size, false);
  if (ret < 0)
    return ret;
  /* ours to write: nobody may have sealed it against that */
  seals = fcntl (fd, F_GET_SEALS);
  if (seals < 0 || (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
    return -EROFS;
  return own_mapped (px_steal_fd (&fd), id, size, slot_stride, slot_stride,
      slot_count, out);
}

PxArena *
px_arena_ref (PxArena * arena)
{
  atomic_fetch_add_explicit (&arena->refcount, 1, memory_order_relaxed);
  return arena;
}

void
px_arena_unref (PxArena * arena)
{
  if (arena == NULL)
    return;
  if (atomic_fetch_sub_explicit (&arena->refcount, 1,
          memory_order_acq_rel) == 1)
    arena_destroy (arena);
}

int
px_arena_acquire (PxArena * arena, uint32_t * slot)
{
  uint32_t start;

  if (arena->free_bits == NULL)
    return -EPERM;

  start = atomic_load_explicit (&arena->hint, memory_order_relaxed);
  for (uint32_t n = 0; n < arena->n_words; n++) {
    uint32_t w = (start + n) % arena->n_words;
    uint64_t bits = atomic_load_explicit (&arena->free_bits[w],
        memory_order_relaxed);

    while (bits != 0) {
      uint64_t bit = bits & -bits;      /* lowest free slot of this word */

      if (atomic_compare_exchange_weak_explicit (&arena->free_bits[w], &bits,
              bits & ~bit, memory_order_acquire, memory_order_relaxed)) {
        atomic_store_explicit (&arena->hint, w, memory_order_relaxed);
        atomic_fetch_add_explicit (&arena->in_use, 1, memory_order_relaxed);
        *slot = w * 64 + (uint32_t) __builtin_ctzll (bit);
        return 0;
      }
      /* The CAS reloaded bits: retry within this word. */
    }
  }
  return -ENOBUFS;
}

int
px_arena_release (PxArena * arena, uint32_t slot)
{
  uint64_t bit, old;

  if (arena->free_bits == NULL)
    return -EPERM;
  if (slot >= arena->slot_count)
    return -ERANGE;

  bit = UINT64_C (1) << (slot % 64);
  old = atomic_fetch_or_explicit (&arena->free_bits[slot / 64], bit,
      memory_order_release);
  if (old & bit)
    return -EALREADY;
  atomic_fetch_sub_explicit (&arena->in_use, 1, memory_order_relaxed);
  return 0;
}

int
px_arena_seal_for_readers (PxArena * arena)
{
  int seals;

  if (arena->free_bits == NULL)
    return -EPERM;
  seals = fcntl (arena->fd, F_GET_SEALS);
  if (seals < 0)
    return px_negative_errno ();
  if (seals & F_SEAL_FUTURE_WRITE)
    return 0;
  if (fcntl (arena->fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) < 0)
    return px_negative_errno ();
  return 0;
}

int
px_arena_check_range (const PxArena * arena, uint32_t slot, uint64_t offset,
    uint64_t size)
{
  uint64_t end;

  if (slot >= arena->slot_count)
    return -ERANGE;
  if (__builtin_add_overflow (offset, size, &end) || end > arena->slot_stride)
    return -ERANGE;
  return 0;
}

uint64_t
px_arena_id (const PxArena * arena)
{
  return arena->id;
}

int
px_arena_fd (const PxArena * arena)
{
  return arena->fd;
}

uint64_t
px_arena_size (const PxArena * arena)
{
  return arena->size;
}

size_t
px_arena_slot_size (const PxArena * arena)
{
  return arena->slot_size;
}

size_t
px_arena_slot_alignment (void)
{
  return page_size ();
}

size_t
px_arena_slot_stride (const PxArena * arena)
{
  return arena->slot_stride;
}

uint32_t
px_arena_slot_count (const PxArena * arena)
{
  return arena->slot_count;
}

bool
px_arena_is_owner (const PxArena * arena)
{
  return arena->free_bits != NULL;
}

uint32_t
px_arena_slots_in_use (const PxArena * arena)
{
  return atomic_load_explicit (&((PxArena *) arena)->in_use,
      memory_order_relaxed);
}

uint8_t *
px_arena_data (const PxArena * arena)
{
  return arena->data;
}

uint64_t
px_arena_slot_offset (const PxArena * arena, uint32_t slot)
{
  return (uint64_t) slot *arena->slot_stride;
}

uint8_t *
px_arena_slot_data (const PxArena * arena, uint32_t slot)
{
  return arena->data + px_arena_slot_offset (arena, slot);
}

void
px_arena_table_init (PxArenaTable * table, void (*destroy) (void *))
{
  memset (table, 0, sizeof *table);
  table->destroy = destroy;
}

static void
entry_release (PxArenaTable * table, PxArenaTableEntry * entry)
{
  if (entry->data != NULL && table->destroy != NULL)
    table->destroy (entry->data);
  px_arena_unref (entry->arena);
  entry->arena = NULL;
  entry->data = NULL;
}

int
px_arena_table_add (PxArenaTable * table, PxArena * arena, void *data)
{
  PxArenaTableEntry entry = {.arena = arena,.data = data };

  if (px_arena_table_lookup (table, arena->id) != NULL) {
    entry_release (table, &entry);
    return -EEXIST;
  }
  if (table->n_entries == PX_ARENA_TABLE_MAX) {
    entry_release (table, &entry);
    return -ENOSPC;
  }
  table->entries[table->n_entries++] = entry;
  return 0;
}

const PxArenaTableEntry *
px_arena_table_lookup (const PxArenaTable * table, uint64_t id)
{
  for (unsigned i = 0; i < table->n_entries; i++) {
    if (table->entries[i].arena->id == id)
      return &table->entries[i];
  }
  return NULL;
}

int
px_arena_table_remove (PxArenaTable * table, uint64_t id)
{
  for (unsigned i = 0; i < table->n_entries; i++) {
    if (table->entries[i].arena->id == id) {
      entry_release (table, &table->entries[i]);
      table->entries[i] = table->entries[--table->n_entries];
      table->entries[table->n_entries].arena = NULL;
      table->entries[table->n_entries].data = NULL;
      return 0;
    }
  }
  return -ENOENT;
}

void
px_arena_table_clear (PxArenaTable * table)
{
  void (*destroy) (void *) = table->destroy;

  for (unsigned i = 0; i < table->n_entries; i++)
    entry_release (table, &table->entries[i]);
  px_arena_table_init (table, destroy);
}
