/* Parallax — the benchmarks' buffer counter.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench-counter.h"
#include "bench-util.h"

void
bench_counter_init (BenchCounter * counter, guint64 warm_up, gdouble seconds)
{
  memset (counter, 0, sizeof *counter);
  g_mutex_init (&counter->lock);
  g_cond_init (&counter->cond);
  counter->warm_up = warm_up;
  counter->window_ns = seconds * 1e9;
}

void
bench_counter_clear (BenchCounter * counter)
{
  g_free (counter->failure);
  g_mutex_clear (&counter->lock);
  g_cond_clear (&counter->cond);
}

/* The sink's streaming thread, for each buffer. */
static void
count_item (GstElement * sink, GstBuffer * buffer, GstPad * pad,
    gpointer user_data)
{
  BenchCounter *counter = user_data;
  gint64 now = bench_now_ns ();

  g_mutex_lock (&counter->lock);
  if (counter->items++ == 0)
    counter->first = now;
  if (counter->items == counter->warm_up)
    counter->start = now;
  else if (counter->items > counter->warm_up && counter->rate == 0 &&
      now - counter->start >= counter->window_ns) {
    counter->rate = (counter->items - counter->warm_up) * 1e9 /
        (now - counter->start);
    g_cond_broadcast (&counter->cond);
  }
  g_mutex_unlock (&counter->lock);
}

void
bench_counter_fail (BenchCounter * counter, const gchar * failure)
{
  g_mutex_lock (&counter->lock);
  if (counter->failure == NULL)
    counter->failure = g_strdup (failure);
  g_cond_broadcast (&counter->cond);
  g_mutex_unlock (&counter->lock);
}

void
bench_counter_message (BenchCounter * counter, GstMessage * message)
{
  g_autoptr (GError) error = NULL;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (message, &error, NULL);
    bench_counter_fail (counter, error->message);
  } else if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS) {
    bench_counter_fail (counter, "unexpected EOS");
  }
}

static GstBusSyncReply
watch_bus (GstBus * bus, GstMessage * message, gpointer user_data)
{
  bench_counter_message (user_data, message);
  return GST_BUS_PASS;
}

GstElement *
bench_counted_pipeline (const gchar * line, BenchCounter * counter)
{
  g_autoptr (GError) error = NULL;
  GstElement *pipeline = gst_parse_launch (line, &error);
  GstElement *sink;
  GstBus *bus;

  if (pipeline == NULL) {
    g_printerr ("%s: %s\n", line, error ? error->message : "?");
    return NULL;
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  if (sink != NULL) {
    g_signal_connect (sink, "handoff", G_CALLBACK (count_item), counter);
    gst_object_unref (sink);
  }
  bus = gst_element_get_bus (pipeline);
  gst_bus_set_sync_handler (bus, watch_bus, counter, NULL);
  gst_object_unref (bus);
  return pipeline;
}

gboolean
bench_counter_play (GstElement * pipeline, BenchCounter * counter)
{
  counter->playing = bench_now_ns ();
  return gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE;
}

gboolean
bench_counter_wait (BenchCounter * counter, gint timeout_seconds)
{
  gint64 deadline = g_get_monotonic_time () + counter->window_ns / 1000 +
      timeout_seconds * G_TIME_SPAN_SECOND;
  gboolean ok;

  g_mutex_lock (&counter->lock);
  while (counter->rate == 0 && counter->failure == NULL &&
      g_cond_wait_until (&counter->cond, &counter->lock, deadline));
  ok = counter->rate > 0;
  if (!ok)
    g_printerr ("%s after %" G_GUINT64_FORMAT " items\n", counter->failure ?
        counter->failure : "timed out", counter->items);
  g_mutex_unlock (&counter->lock);
  return ok;
}

void
bench_stop_pipeline (GstElement * pipeline)
{
  if (pipeline == NULL)
    return;
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}
