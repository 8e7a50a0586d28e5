/* Parallax — GLib's synchronisation, as ThreadSanitizer needs to see it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Preloaded into the tests of tests/run-tsan.sh, never built into
 * anything else.
 *
 * The system's GLib and GStreamer are not instrumented. On Linux GLib's
 * GMutex and GCond are futexes and atomics, not pthread calls, so
 * ThreadSanitizer sees none of the ordering they give: every field an
 * element keeps under its object lock would look raced. (GRecMutex and
 * GRWLock are pthread objects, which it sees.)
 * This library stands in front of those functions (and of the few others
 * whose ordering the tests' code relies on), calls GLib's own, and tells
 * ThreadSanitizer what each one guarantees:
 *   - the locks are ThreadSanitizer mutexes (so it also checks the order
 *     in which they are taken: lock-order inversions are reported);
 *   - g_cond_wait*() releases and retakes its mutex;
 *   - g_once_init_leave() publishes what g_once_init_enter() then sees;
 *   - an item pushed into a GThreadPool happens before its function runs;
 *   - a reference count change of a GstMiniObject, GstObject or GObject is
 *     the sequentially consistent read-modify-write it is in GLib, so the
 *     thread that drops the last reference has seen every earlier one's
 *     writes before the object is freed.
 * Calls GLib makes to itself are bound inside libglib and do not come
 * here; calls from GStreamer and from our code do.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>
#include <sanitizer/tsan_interface.h>

/* GLib's own function, looked up on first use. */
#define REAL(name, ret, args) \
  static ret (*real_##name) args; \
  if (real_##name == NULL) \
    real_##name = real_symbol (#name)

static void *
real_symbol (const char *name)
{
  void *symbol = dlsym (RTLD_NEXT, name);

  if (symbol == NULL) {
    fprintf (stderr, "tsan-glib: no %s in the libraries after this one\n",
        name);
    abort ();
  }
  return symbol;
}

/* ---- GMutex ----------------------------------------------------------- */

void
g_mutex_lock (GMutex * mutex)
{
  REAL (g_mutex_lock, void, (GMutex *));

  __tsan_mutex_pre_lock (mutex, 0);
  real_g_mutex_lock (mutex);
  __tsan_mutex_post_lock (mutex, 0, 0);
}

gboolean
g_mutex_trylock (GMutex * mutex)
{
  REAL (g_mutex_trylock, gboolean, (GMutex *));
  gboolean locked;

  __tsan_mutex_pre_lock (mutex, __tsan_mutex_try_lock);
  locked = real_g_mutex_trylock (mutex);
  __tsan_mutex_post_lock (mutex, __tsan_mutex_try_lock |
      (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  return locked;
}

void
g_mutex_unlock (GMutex * mutex)
{
  REAL (g_mutex_unlock, void, (GMutex *));

  __tsan_mutex_pre_unlock (mutex, 0);
  real_g_mutex_unlock (mutex);
  __tsan_mutex_post_unlock (mutex, 0);
}

void
g_mutex_clear (GMutex * mutex)
{
  REAL (g_mutex_clear, void, (GMutex *));

  __tsan_mutex_destroy (mutex, 0);
  real_g_mutex_clear (mutex);
}

/* ---- GCond: the mutex is given up while waiting ------------------------ */

void
g_cond_wait (GCond * cond, GMutex * mutex)
{
  REAL (g_cond_wait, void, (GCond *, GMutex *));

  __tsan_mutex_pre_unlock (mutex, 0);
  __tsan_mutex_post_unlock (mutex, 0);
  real_g_cond_wait (cond, mutex);
  __tsan_mutex_pre_lock (mutex, 0);
  __tsan_mutex_post_lock (mutex, 0, 0);
}

gboolean
g_cond_wait_until (GCond * cond, GMutex * mutex, gint64 end_time)
{
  REAL (g_cond_wait_until, gboolean, (GCond *, GMutex *, gint64));
  gboolean signalled;

  __tsan_mutex_pre_unlock (mutex, 0);
  __tsan_mutex_post_unlock (mutex, 0);
  signalled = real_g_cond_wait_until (cond, mutex, end_time);
  __tsan_mutex_pre_lock (mutex, 0);
  __tsan_mutex_post_lock (mutex, 0, 0);
  return signalled;
}

/* ---- g_once_init_*() -------------------------------------------------- */

/* The macros of the same names test the location with an (instrumented)
 * atomic load first; only the slow paths come here. */
#undef g_once_init_enter
#undef g_once_init_leave

gboolean
g_once_init_enter (volatile void *location)
{
  REAL (g_once_init_enter, gboolean, (volatile void *));
  gboolean first = real_g_once_init_enter (location);

  if (!first)
    __tsan_acquire ((void *) location);
  return first;
}

void
g_once_init_leave (volatile void *location, gsize result)
{
  REAL (g_once_init_leave, void, (volatile void *, gsize));

  __tsan_release ((void *) location);
  real_g_once_init_leave (location, result);
}

/* ---- GThreadPool: a push happens before its item is handled ----------- */

typedef struct
{
  GFunc func;
  gpointer user_data;
} PoolFunc;

static void
pool_trampoline (gpointer data, gpointer user_data)
{
  PoolFunc *pool_func = user_data;

  __tsan_acquire (data);
  pool_func->func (data, pool_func->user_data);
}

/* The PoolFunc lives as long as the process: pools are few. */
static PoolFunc *
pool_func_new (GFunc func, gpointer user_data)
{
  PoolFunc *pool_func = malloc (sizeof *pool_func);

  if (pool_func == NULL)
    abort ();
  pool_func->func = func;
  pool_func->user_data = user_data;
  return pool_func;
}

GThreadPool *
g_thread_pool_new (GFunc func, gpointer user_data, gint max_threads,
    gboolean exclusive, GError ** error)
{
  REAL (g_thread_pool_new, GThreadPool *, (GFunc, gpointer, gint,
          gboolean, GError **));

  return real_g_thread_pool_new (pool_trampoline, pool_func_new (func,
          user_data), max_threads, exclusive, error);
}

GThreadPool *
g_thread_pool_new_full (GFunc func, gpointer user_data,
    GDestroyNotify item_free_func, gint max_threads, gboolean exclusive,
    GError ** error)
{
  REAL (g_thread_pool_new_full, GThreadPool *, (GFunc, gpointer,
          GDestroyNotify, gint, gboolean, GError **));

  return real_g_thread_pool_new_full (pool_trampoline, pool_func_new (func,
          user_data), item_free_func, max_threads, exclusive, error);
}

gboolean
g_thread_pool_push (GThreadPool * pool, gpointer data, GError ** error)
{
  REAL (g_thread_pool_push, gboolean, (GThreadPool *, gpointer, GError **));

  __tsan_release (data);
  return real_g_thread_pool_push (pool, data, error);
}

/* ---- reference counts ------------------------------------------------- */

/* GLib changes a count with g_atomic_int_inc() and
 * g_atomic_int_dec_and_test(), sequentially consistent read-modify-writes:
 * each change both publishes and sees the ones before it. */
static void
count_changed (gpointer object)
{
  if (object != NULL) {
    __tsan_release (object);
    __tsan_acquire (object);
  }
}

#define REF_FUNC(name) \
gpointer \
name (gpointer object) \
{ \
  REAL (name, gpointer, (gpointer)); \
  \
  count_changed (object); \
  return real_##name (object); \
}

#define UNREF_FUNC(name) \
void \
name (gpointer object) \
{ \
  REAL (name, void, (gpointer)); \
  \
  count_changed (object); \
  real_##name (object); \
}

REF_FUNC (g_object_ref);
UNREF_FUNC (g_object_unref);
REF_FUNC (gst_object_ref);
UNREF_FUNC (gst_object_unref);
REF_FUNC (gst_mini_object_ref);
UNREF_FUNC (gst_mini_object_unref);
