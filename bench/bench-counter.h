/* Parallax — what the benchmarks that count buffers share: a window of
 * buffers reaching a fakesink named "sink", opened after a warm-up, closed
 * at the first buffer after its length; an ERROR or EOS ends it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef PX_BENCH_COUNTER_H
#define PX_BENCH_COUNTER_H

#include <gst/gst.h>

typedef struct
{
  GMutex lock;
  GCond cond;
  guint64 warm_up;              /* items before the window opens */
  gint64 window_ns;
  gint64 playing;               /* bench_counter_play(): PLAYING asked */
  gint64 first;                 /* the first item */
  guint64 items;
  gint64 start;                 /* the window opened */
  gdouble rate;                 /* items/s, 0 until the window closed */
  gchar *failure;
} BenchCounter;

void bench_counter_init (BenchCounter * counter, guint64 warm_up,
    gdouble seconds);
void bench_counter_clear (BenchCounter * counter);

/* Ends the measurement with @failure (the first one given is kept). */
void bench_counter_fail (BenchCounter * counter, const gchar * failure);

/* An ERROR or EOS @message (from a bus, or relayed from a worker) ends
 * the measurement. */
void bench_counter_message (BenchCounter * counter, GstMessage * message);

/* gst_parse_launch (@line), its "sink" (a fakesink with signal-handoffs)
 * counted and its bus watched by @counter; NULL, said on stderr, if it
 * does not parse. */
GstElement *bench_counted_pipeline (const gchar * line, BenchCounter * counter);

/* Sets @pipeline to PLAYING, noting when. */
gboolean bench_counter_play (GstElement * pipeline, BenchCounter * counter);

/* Waits until the window closed (TRUE) or the measurement failed or took
 * @timeout_seconds longer than the window (FALSE, said on stderr). */
gboolean bench_counter_wait (BenchCounter * counter, gint timeout_seconds);

/* To NULL and unreferenced; NULL is ignored. */
void bench_stop_pipeline (GstElement * pipeline);

#endif /* PX_BENCH_COUNTER_H */
