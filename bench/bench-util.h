/* Parallax — small helpers shared by the benchmarks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef PX_BENCH_UTIL_H
#define PX_BENCH_UTIL_H

#include <glib.h>
#include <string.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds (g_get_monotonic_time () has only
 * microseconds). */
static inline gint64
bench_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* For qsort () of gdouble arrays (medians). */
static inline int
bench_compare_doubles (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

/* "12 345 678": digit groups make rates that differ by 1000x readable. */
static inline gchar *
bench_group_digits (gdouble value)
{
  g_autofree gchar *digits = g_strdup_printf ("%.0f", value);
  GString *out = g_string_new (NULL);
  gsize len = strlen (digits);

  for (gsize i = 0; i < len; i++) {
    if (i > 0 && (len - i) % 3 == 0)
      g_string_append_c (out, ' ');
    g_string_append_c (out, digits[i]);
  }
  return g_string_free (out, FALSE);
}

#endif /* PX_BENCH_UTIL_H */
