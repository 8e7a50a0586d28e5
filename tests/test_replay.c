/* Parallax — sandboxbin's replay window (gst-plugin/sandbox/gstpxreplay.h)
 * with plain buffers and explicit times: what it keeps, what a new worker
 * is given again and which of its answers are dropped, quarantine, what
 * counts lost, and the processing timeout.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>

#include "gstpxreplay.h"

#define MS G_TIME_SPAN_MILLISECOND
#define FRAME_SIZE 100

/* A buffer with PTS @n ms (and offset @n), a delta unit unless @key. */
static GstBuffer *
frame (guint n, gboolean key)
{
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, FRAME_SIZE, NULL);

  GST_BUFFER_PTS (buffer) = n * GST_MSECOND;
  GST_BUFFER_DURATION (buffer) = GST_MSECOND;
  GST_BUFFER_OFFSET (buffer) = n;
  if (!key)
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  return buffer;
}

/* A replay following a stream of @media caps. */
static GstPxReplay *
replay_for (const gchar * media)
{
  GstPxReplay *replay = gst_px_replay_new ();
  GstCaps *caps = gst_caps_new_empty_simple (media);
  GstSegment segment;
  GstEvent *event;

  gst_segment_init (&segment, GST_FORMAT_TIME);
  event = gst_event_new_segment (&segment);
  gst_px_replay_follow_stream (replay, event, caps);
  gst_event_unref (event);
  gst_caps_unref (caps);
  return replay;
}

/* Sends frames @first to @last (keyframes where @keys has a 'K') to
 * @worker at @now. */
static void
send (GstPxReplay * replay, guint worker, guint first, guint last,
    const gchar * keys, gint64 now)
{
  for (guint n = first; n <= last; n++) {
    GstBuffer *buffer = frame (n, keys[n] == 'K');

    gst_px_replay_input (replay, worker, buffer, now);
    gst_buffer_unref (buffer);
  }
}

/* @n outputs of @worker at @now; how many of them were to be pushed. */
static guint
answer (GstPxReplay * replay, guint worker, guint n, gint64 now)
{
  guint pushed = 0;

  for (guint i = 0; i < n; i++)
    pushed += gst_px_replay_output (replay, worker, now);
  return pushed;
}

/* The PTS (ms) of the buffers in @list, as "3 4 5". */
static gchar *
list_pts (GstBufferList * list)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; list && i < gst_buffer_list_length (list); i++)
    g_string_append_printf (s, "%s%" G_GUINT64_FORMAT, i ? " " : "",
        GST_BUFFER_PTS (gst_buffer_list_get (list, i)) / GST_MSECOND);
  if (list)
    gst_buffer_list_unref (list);
  return g_string_free (s, FALSE);
}

static void
assert_take (GstPxReplay * replay, guint worker, const gchar * want)
{
  gchar *got = list_pts (gst_px_replay_take (replay, worker, 0));

  fail_unless_equals_string (got, want);
  g_free (got);
}

/* ---- the window --------------------------------------------------------- */

/* Worker 1 answered frames 0 to 3 and was on 4: the next worker is given
 * the group from keyframe 3 on, and its answer to 3 is dropped. */
GST_START_TEST (test_replay_starts_at_the_keyframe)
{
  GstPxReplay *replay = replay_for ("video/x-vp8");
  GstPxReplayLoss loss;

  send (replay, 1, 0, 5, "KddKdd", 0);
  fail_unless_equals_int (answer (replay, 1, 4, 0), 4);
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  fail_unless (loss.busy);
  fail_unless_equals_uint64 (loss.suspect.pts, 4 * GST_MSECOND);
  fail_unless_equals_uint64 (loss.suspect.offset, 4);
  fail_unless_equals_int (loss.suspect.size, FRAME_SIZE);
  fail_if (loss.quarantined);
  fail_unless_equals_uint64 (loss.lost, 0);
  fail_unless_equals_int (loss.replay, 3);
  assert_take (replay, 2, "3 4 5");
  /* 3 was pushed before; 4 and 5 were not */
  fail_if (gst_px_replay_output (replay, 2, 0));
  fail_unless (gst_px_replay_output (replay, 2, 0));
  fail_unless (gst_px_replay_output (replay, 2, 0));
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* Raw frames stand alone: the window is what the worker has not
 * answered. */
GST_START_TEST (test_raw_window_is_the_unanswered_input)
{
  GstPxReplay *replay = replay_for ("video/x-raw");
  GstPxReplayLoss loss;

  send (replay, 1, 0, 4, "KKKKK", 0);
  answer (replay, 1, 2, 0);
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  fail_unless_equals_int (loss.replay, 3);
  assert_take (replay, 2, "2 3 4");
  fail_unless_equals_int (answer (replay, 2, 3, 0), 3);
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* A group longer than the window: its oldest buffers go, and the
 * unanswered ones among them are lost when the worker dies. */
GST_START_TEST (test_window_overflow_loses_the_oldest)
{
  GstPxReplay *replay = replay_for ("video/x-vp8");
  GstPxReplayLoss loss;

  gst_px_replay_set_limits (replay, 3, G_MAXUINT64);
  send (replay, 1, 0, 4, "Kdddd", 0);
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  fail_unless_equals_uint64 (loss.suspect.pts, 0);
  fail_unless_equals_uint64 (loss.lost, 2);
  fail_unless_equals_int (loss.replay, 3);
  assert_take (replay, 2, "2 3 4");
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* The byte bound works as the buffer bound. */
GST_START_TEST (test_window_bounded_in_bytes)
{
  GstPxReplay *replay = replay_for ("video/x-vp8");
  GstPxReplayLoss loss;

  gst_px_replay_set_limits (replay, 100, 2 * FRAME_SIZE);
  send (replay, 1, 0, 4, "Kdddd", 0);
  answer (replay, 1, 3, 0);
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  /* the answered keyframe went first: the replay starts without it */
  fail_unless_equals_uint64 (loss.lost, 0);
  assert_take (replay, 2, "3 4");
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* replay-max-buffers=0: nothing is kept, whatever the worker held is
 * lost. */
GST_START_TEST (test_no_window_loses_what_the_worker_held)
{
  GstPxReplay *replay = replay_for ("video/x-vp8");
  GstPxReplayLoss loss;

  gst_px_replay_set_limits (replay, 0, G_MAXUINT64);
  send (replay, 1, 0, 4, "Kdddd", 0);
  answer (replay, 1, 1, 0);
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  fail_unless (loss.busy);
  fail_unless_equals_uint64 (loss.suspect.pts, GST_MSECOND);
  fail_unless_equals_uint64 (loss.lost, 4);
  assert_take (replay, 2, "");
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* No worker follows: every unanswered input is lost and nothing is
 * given again. */
GST_START_TEST (test_no_restart_loses_the_window)
{
  GstPxReplay *replay = replay_for ("video/x-raw");
  GstPxReplayLoss loss;

  send (replay, 1, 0, 4, "KKKKK", 0);
  answer (replay, 1, 1, 0);
  gst_px_replay_worker_lost (replay, 1, FALSE, &loss);
  fail_unless_equals_uint64 (loss.lost, 4);
  fail_unless_equals_int (loss.replay, 0);
  assert_take (replay, 2, "");
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* A pending replay given up on (the next worker did not start): its
 * unanswered inputs are lost, once. */
GST_START_TEST (test_drop_counts_the_pending_window)
{
  GstPxReplay *replay = replay_for ("video/x-raw");
  GstPxReplayLoss loss;

  send (replay, 1, 0, 2, "KKK", 0);
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  fail_unless_equals_uint64 (loss.lost, 0);
  /* a worker that never took over ends too */
  gst_px_replay_worker_lost (replay, 2, TRUE, &loss);
  fail_if (loss.busy);
  fail_unless_equals_uint64 (gst_px_replay_drop (replay), 3);
  fail_unless_equals_uint64 (gst_px_replay_drop (replay), 0);
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* A new segment is a new stream: the window and a pending replay go. */
GST_START_TEST (test_new_segment_resets_the_window)
{
  GstPxReplay *replay = replay_for ("video/x-raw");
  GstPxReplayLoss loss;
  GstSegment segment;
  GstEvent *event;
  guint stream = gst_px_replay_get_stream (replay);

  send (replay, 1, 0, 2, "KKK", 0);
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  gst_segment_init (&segment, GST_FORMAT_TIME);
  event = gst_event_new_segment (&segment);
  fail_unless (gst_px_replay_follow_stream (replay, event, NULL));
  fail_if (gst_px_replay_follow_stream (replay, event, NULL));
  gst_event_unref (event);
  fail_unless (gst_px_replay_get_stream (replay) != stream);
  assert_take (replay, 2, "");
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* Output of a worker that is not the current one counts for nothing. */
GST_START_TEST (test_output_of_another_worker_is_ignored)
{
  GstPxReplay *replay = replay_for ("video/x-raw");
  GstPxReplayLoss loss;

  send (replay, 1, 0, 2, "KKK", 0);
  fail_unless (gst_px_replay_output (replay, 7, 0));
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  fail_unless_equals_uint64 (loss.suspect.pts, 0);
  fail_unless_equals_int (loss.replay, 3);
  gst_px_replay_free (replay);
}

GST_END_TEST;

static GstBufferPool *
pool_of (guint max)
{
  GstBufferPool *pool = gst_buffer_pool_new ();
  GstStructure *config = gst_buffer_pool_get_config (pool);

  gst_buffer_pool_config_set_params (config, NULL, FRAME_SIZE, 0, max);
  fail_unless (gst_buffer_pool_set_config (pool, config));
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  return pool;
}

static GstBuffer *
pooled_frame (GstBufferPool * pool, guint n, gboolean key)
{
  GstBufferPoolAcquireParams dontwait = {
    .flags = GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT
  };
  GstBuffer *buffer = NULL;

  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &buffer,
          &dontwait), GST_FLOW_OK);
  GST_BUFFER_PTS (buffer) = n * GST_MSECOND;
  if (!key)
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  return buffer;
}

/* A pooled keyframe the window keeps for the delta frame after it is a
 * copy: the pool has its buffer back. */
GST_START_TEST (test_kept_pooled_buffer_is_a_copy)
{
  GstPxReplay *replay = replay_for ("video/x-vp8");
  GstBufferPool *pool = pool_of (2);
  GstBuffer *buffer = pooled_frame (pool, 0, TRUE), *other;
  GstBufferList *list;
  GstPxReplayLoss loss;

  gst_px_replay_input (replay, 1, buffer, 0);
  gst_buffer_unref (buffer);
  answer (replay, 1, 1, 0);
  /* both of the pool's buffers */
  buffer = pooled_frame (pool, 1, FALSE);
  other = pooled_frame (pool, 2, FALSE);
  gst_buffer_unref (other);
  gst_px_replay_input (replay, 1, buffer, 0);
  gst_buffer_unref (buffer);
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  list = gst_px_replay_take (replay, 2, 0);
  fail_unless (list != NULL);
  fail_unless_equals_int (gst_buffer_list_length (list), 2);
  fail_unless (gst_buffer_list_get (list, 0)->pool == NULL);
  fail_unless (gst_buffer_list_get (list, 1)->pool == pool);
  gst_buffer_list_unref (list);
  gst_px_replay_free (replay);
  gst_buffer_pool_set_active (pool, FALSE);
  gst_object_unref (pool);
}

GST_END_TEST;

/* An element that answers less than it is given (a rate converter) would
 * keep its pool's buffers in the window: past the pool's allowance (here
 * 4 of 6) the oldest go back to it, and are lost if the worker dies. */
GST_START_TEST (test_pooled_buffers_within_the_pool_allowance)
{
  GstPxReplay *replay = replay_for ("video/x-raw");
  GstBufferPool *pool = pool_of (6);
  GstBuffer *taken[2];
  GstPxReplayLoss loss;

  for (guint n = 0; n < 5; n++) {
    GstBuffer *buffer = pooled_frame (pool, n, TRUE);

    gst_px_replay_input (replay, 1, buffer, 0);
    gst_buffer_unref (buffer);
  }
  /* 4 held, 2 free */
  for (guint i = 0; i < 2; i++)
    taken[i] = pooled_frame (pool, 5, TRUE);
  for (guint i = 0; i < 2; i++)
    gst_buffer_unref (taken[i]);
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  fail_unless_equals_uint64 (loss.lost, 1);
  assert_take (replay, 2, "1 2 3 4");
  gst_px_replay_free (replay);
  gst_buffer_pool_set_active (pool, FALSE);
  gst_object_unref (pool);
}

GST_END_TEST;

/* Upstream waits for its pool: the window lets go of the oldest buffer
 * only it holds (the worker copied it and gave it back), not of one the
 * worker still holds (that frees no slot), nor of another pool's. */
GST_START_TEST (test_starved_pool_gets_what_only_the_window_holds)
{
  GstPxReplay *replay = replay_for ("video/x-raw");
  GstBufferPool *pool = pool_of (8), *other = pool_of (8);
  GstBuffer *held, *buffer;
  GstPxReplayLoss loss;

  /* frame 0: still held by the worker; 1 and 2: only by the window */
  held = pooled_frame (pool, 0, TRUE);
  gst_px_replay_input (replay, 1, held, 0);
  for (guint n = 1; n <= 2; n++) {
    buffer = pooled_frame (pool, n, TRUE);
    gst_px_replay_input (replay, 1, buffer, 0);
    gst_buffer_unref (buffer);
  }
  buffer = pooled_frame (other, 3, TRUE);
  gst_px_replay_input (replay, 1, buffer, 0);
  gst_buffer_unref (buffer);

  fail_unless (gst_px_replay_starved (replay, pool));
  fail_unless (gst_px_replay_starved (replay, pool));
  /* frame 0 is the worker's; frame 3 is of the other pool */
  fail_if (gst_px_replay_starved (replay, pool));
  gst_buffer_unref (held);

  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  fail_unless_equals_uint64 (loss.lost, 2);
  assert_take (replay, 2, "0 3");
  gst_px_replay_free (replay);
  gst_buffer_pool_set_active (pool, FALSE);
  gst_buffer_pool_set_active (other, FALSE);
  gst_object_unref (pool);
  gst_object_unref (other);
}

GST_END_TEST;

/* A worker that takes over a byte stream knows it, and where it resumed:
 * worker 2 is given frames 2 and 3 again (their offsets are their
 * numbers); the first worker, and any worker of a TIME stream, is no
 * successor in a byte stream. */
GST_START_TEST (test_successor_in_a_byte_stream_knows_where)
{
  GstPxReplay *replay = gst_px_replay_new ();
  GstCaps *caps = gst_caps_new_empty_simple ("video/quicktime");
  GstPxReplayLoss loss;
  GstSegment segment;
  GstEvent *event;
  guint64 offset = 0;

  gst_segment_init (&segment, GST_FORMAT_BYTES);
  event = gst_event_new_segment (&segment);
  gst_px_replay_follow_stream (replay, event, caps);
  send (replay, 1, 0, 3, "KKKK", 0);
  answer (replay, 1, 2, 0);
  fail_if (gst_px_replay_resumed_in_bytes (replay, 1, &offset));
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  assert_take (replay, 2, "2 3");
  fail_unless (gst_px_replay_resumed_in_bytes (replay, 2, &offset));
  fail_unless_equals_uint64 (offset, 2);
  fail_if (gst_px_replay_resumed_in_bytes (replay, 1, &offset));
  gst_event_unref (event);
  gst_caps_unref (caps);
  gst_px_replay_free (replay);

  replay = replay_for ("video/x-raw");
  send (replay, 1, 0, 3, "KKKK", 0);
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  assert_take (replay, 2, "0 1 2 3");
  fail_if (gst_px_replay_resumed_in_bytes (replay, 2, &offset));
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* Worker 1 answered frames 0 and 1 downstream and sent 2 and 3, read but
 * not pushed when it died: it was busy with frame 4. A flush drops what
 * was read before it: the blame is the cursor's again. */
GST_START_TEST (test_outputs_read_but_not_pushed_move_the_blame)
{
  GstPxReplay *replay = replay_for ("video/x-raw");
  GstPxReplayLoss loss;

  send (replay, 1, 0, 5, "KKKKKK", 0);
  for (guint i = 0; i < 4; i++)
    gst_px_replay_output_read (replay, 1, GST_IPC_SRC_READ_BUFFER);
  answer (replay, 1, 2, 0);
  fail_if (gst_px_replay_wait_output_end (replay, 1, 0));
  gst_px_replay_output_read (replay, 1, GST_IPC_SRC_READ_END);
  fail_unless (gst_px_replay_wait_output_end (replay, 1, 0));
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  fail_unless (loss.busy);
  fail_unless_equals_uint64 (loss.suspect.pts, 4 * GST_MSECOND);
  /* all that was not pushed is given again */
  assert_take (replay, 2, "2 3 4 5");

  gst_px_replay_output_read (replay, 2, GST_IPC_SRC_READ_BUFFER);
  gst_px_replay_output_read (replay, 2, GST_IPC_SRC_READ_FLUSH);
  gst_px_replay_worker_lost (replay, 2, TRUE, &loss);
  fail_unless_equals_uint64 (loss.suspect.pts, 2 * GST_MSECOND);
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* ---- quarantine --------------------------------------------------------- */

/* Frame 1 was the one in process when worker 1 died, and again when its
 * successor died: it is left out, counted lost, and worker 3 gets the
 * rest. */
GST_START_TEST (test_same_suspect_twice_is_quarantined)
{
  GstPxReplay *replay = replay_for ("video/x-raw");
  GstPxReplayLoss loss;

  send (replay, 1, 0, 3, "KKKK", 0);
  answer (replay, 1, 1, 0);
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  fail_if (loss.quarantined);
  assert_take (replay, 2, "1 2 3");
  gst_px_replay_worker_lost (replay, 2, TRUE, &loss);
  fail_unless (loss.quarantined);
  fail_unless_equals_uint64 (loss.suspect.pts, GST_MSECOND);
  fail_unless_equals_uint64 (loss.lost, 1);
  fail_unless_equals_int (loss.replay, 2);
  assert_take (replay, 3, "2 3");
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* A quarantined delta frame in a group: the others are given again around
 * it, and answers skip it. */
GST_START_TEST (test_quarantined_buffer_is_skipped_in_the_group)
{
  GstPxReplay *replay = replay_for ("video/x-vp8");
  GstPxReplayLoss loss;

  send (replay, 1, 0, 4, "Kdddd", 0);
  answer (replay, 1, 2, 0);
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  assert_take (replay, 2, "0 1 2 3 4");
  fail_unless_equals_int (answer (replay, 2, 2, 0), 0);
  gst_px_replay_worker_lost (replay, 2, TRUE, &loss);
  fail_unless (loss.quarantined);
  fail_unless_equals_uint64 (loss.suspect.pts, 2 * GST_MSECOND);
  assert_take (replay, 3, "0 1 3 4");
  /* 0 and 1 again (dropped), then 3 and 4 */
  fail_unless_equals_int (answer (replay, 3, 4, 0), 2);
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* Two crashes on different buffers quarantine nothing. */
GST_START_TEST (test_different_suspects_are_not_quarantined)
{
  GstPxReplay *replay = replay_for ("video/x-raw");
  GstPxReplayLoss loss;

  send (replay, 1, 0, 3, "KKKK", 0);
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  assert_take (replay, 2, "0 1 2 3");
  answer (replay, 2, 1, 0);
  gst_px_replay_worker_lost (replay, 2, TRUE, &loss);
  fail_if (loss.quarantined);
  fail_unless_equals_uint64 (loss.suspect.pts, GST_MSECOND);
  fail_unless_equals_uint64 (loss.lost, 0);
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* ---- processing timeout ------------------------------------------------- */

/* Frames 0 to @n - 1, each answered @each µs after it was sent, from
 * @start on; returns when the last answer came. */
static gint64
steady (GstPxReplay * replay, guint worker, guint n, gint64 each, gint64 start)
{
  gint64 now = start;

  for (guint i = 0; i < n; i++) {
    GstBuffer *buffer = frame (i, TRUE);

    gst_px_replay_input (replay, worker, buffer, now);
    gst_buffer_unref (buffer);
    now += each;
    gst_px_replay_output (replay, worker, now);
  }
  return now;
}

GST_START_TEST (test_adaptive_limit)
{
  GstPxReplay *replay = replay_for ("video/x-raw");

  /* before a worker's first answer: the start-up allowance */
  fail_unless_equals_int64 (gst_px_replay_get_limit (replay, -1),
      GST_PX_REPLAY_TIMEOUT_STARTUP);
  fail_unless_equals_int64 (gst_px_replay_get_limit (replay, 300 * MS),
      300 * MS);
  /* fast buffers: the floor */
  steady (replay, 1, 10, 10 * MS, 0);
  fail_unless_equals_int64 (gst_px_replay_get_limit (replay, -1),
      GST_PX_REPLAY_TIMEOUT_FLOOR);
  gst_px_replay_free (replay);

  /* slow ones: ten times their median */
  replay = replay_for ("video/x-raw");
  steady (replay, 1, 10, 500 * MS, 0);
  fail_unless_equals_int64 (gst_px_replay_get_limit (replay, -1),
      GST_PX_REPLAY_TIMEOUT_FACTOR * 500 * MS);
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* A worker stuck on frame 10 is late once the limit has passed since it
 * got it, not before; the late buffer is named. */
GST_START_TEST (test_stuck_buffer_times_out)
{
  GstPxReplay *replay = replay_for ("video/x-raw");
  GstPxReplayBuffer late;
  GstBuffer *buffer = frame (10, TRUE);
  gint64 now = steady (replay, 1, 10, 10 * MS, 0), limit = 0;

  gst_px_replay_input (replay, 1, buffer, now);
  gst_buffer_unref (buffer);
  fail_if (gst_px_replay_timed_out (replay, 1, -1,
          now + GST_PX_REPLAY_TIMEOUT_FLOOR - MS, &limit, &late));
  fail_unless (gst_px_replay_timed_out (replay, 1, -1,
          now + GST_PX_REPLAY_TIMEOUT_FLOOR + MS, &limit, &late));
  fail_unless_equals_int64 (limit, GST_PX_REPLAY_TIMEOUT_FLOOR);
  fail_unless_equals_uint64 (late.pts, 10 * GST_MSECOND);
  /* 0: never */
  fail_if (gst_px_replay_timed_out (replay, 1, 0, now + 3600 * 1000 * MS,
          &limit, &late));
  /* another worker's clock is not this one's */
  fail_if (gst_px_replay_timed_out (replay, 2, -1, now + 3600 * 1000 * MS,
          &limit, &late));
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* An element that holds a buffer back until the next one comes (a
 * decoder's delay) is waiting, not stuck, while upstream has nothing more:
 * it answered after the last input it got. Input waiting to go in makes
 * it busy again. */
GST_START_TEST (test_waiting_for_input_is_not_timed)
{
  GstPxReplay *replay = replay_for ("video/x-raw");
  GstPxReplayBuffer late;
  gint64 now = steady (replay, 1, 10, 10 * MS, 0), limit;

  send (replay, 1, 10, 11, "KKKKKKKKKKKK", now);
  answer (replay, 1, 1, now + MS);
  fail_if (gst_px_replay_timed_out (replay, 1, -1, now + 3600 * 1000 * MS,
          &limit, &late));
  gst_px_replay_begin_input (replay);
  fail_unless (gst_px_replay_timed_out (replay, 1, -1,
          now + GST_PX_REPLAY_TIMEOUT_FLOOR + 2 * MS, &limit, &late));
  fail_unless_equals_uint64 (late.pts, 11 * GST_MSECOND);
  gst_px_replay_end_input (replay);
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* Downstream holding the output back stops the clock: it starts again
 * when downstream was last seen holding it. */
GST_START_TEST (test_held_output_restarts_the_clock)
{
  GstPxReplay *replay = replay_for ("video/x-raw");
  GstPxReplayBuffer late;
  GstBuffer *buffer = frame (10, TRUE);
  gint64 now = steady (replay, 1, 10, 10 * MS, 0), limit;

  gst_px_replay_input (replay, 1, buffer, now);
  gst_buffer_unref (buffer);
  gst_px_replay_output_held (replay, 1, now + 1500 * MS);
  fail_if (gst_px_replay_timed_out (replay, 1, -1, now + 2500 * MS, &limit,
          &late));
  fail_unless (gst_px_replay_timed_out (replay, 1, -1,
          now + 1500 * MS + GST_PX_REPLAY_TIMEOUT_FLOOR + MS, &limit, &late));
  gst_px_replay_free (replay);
}

GST_END_TEST;

/* A new worker's first buffer gets the start-up allowance, whatever the
 * median says. */
GST_START_TEST (test_first_buffer_of_a_worker_gets_the_startup_allowance)
{
  GstPxReplay *replay = replay_for ("video/x-raw");
  GstPxReplayBuffer late;
  GstPxReplayLoss loss;
  GstBuffer *buffer = frame (10, TRUE);
  gint64 now = steady (replay, 1, 10, 10 * MS, 0), limit;

  gst_px_replay_input (replay, 1, buffer, now);
  gst_buffer_unref (buffer);
  gst_px_replay_worker_lost (replay, 1, TRUE, &loss);
  gst_buffer_list_unref (gst_px_replay_take (replay, 2, now));
  fail_unless_equals_int64 (gst_px_replay_get_limit (replay, -1),
      GST_PX_REPLAY_TIMEOUT_STARTUP);
  fail_if (gst_px_replay_timed_out (replay, 2, -1,
          now + GST_PX_REPLAY_TIMEOUT_FLOOR + MS, &limit, &late));
  fail_unless (gst_px_replay_timed_out (replay, 2, -1,
          now + GST_PX_REPLAY_TIMEOUT_STARTUP + MS, &limit, &late));
  gst_px_replay_free (replay);
}

GST_END_TEST;

GST_START_TEST (test_wait_input_until_calls_return)
{
  GstPxReplay *replay = gst_px_replay_new ();

  fail_unless (gst_px_replay_wait_input (replay, 0));
  gst_px_replay_begin_input (replay);
  fail_if (gst_px_replay_wait_input (replay, g_get_monotonic_time () + MS));
  gst_px_replay_end_input (replay);
  fail_unless (gst_px_replay_wait_input (replay, 0));
  gst_px_replay_free (replay);
}

GST_END_TEST;

static Suite *
replay_suite (void)
{
  Suite *s = suite_create ("replay");
  TCase *window = tcase_create ("window");
  TCase *quarantine = tcase_create ("quarantine");
  TCase *timeout = tcase_create ("timeout");

  tcase_add_test (window, test_replay_starts_at_the_keyframe);
  tcase_add_test (window, test_raw_window_is_the_unanswered_input);
  tcase_add_test (window, test_window_overflow_loses_the_oldest);
  tcase_add_test (window, test_window_bounded_in_bytes);
  tcase_add_test (window, test_no_window_loses_what_the_worker_held);
  tcase_add_test (window, test_no_restart_loses_the_window);
  tcase_add_test (window, test_drop_counts_the_pending_window);
  tcase_add_test (window, test_new_segment_resets_the_window);
  tcase_add_test (window, test_output_of_another_worker_is_ignored);
  tcase_add_test (window, test_kept_pooled_buffer_is_a_copy);
  tcase_add_test (window, test_pooled_buffers_within_the_pool_allowance);
  tcase_add_test (window, test_starved_pool_gets_what_only_the_window_holds);
  tcase_add_test (window, test_successor_in_a_byte_stream_knows_where);
  tcase_add_test (quarantine, test_outputs_read_but_not_pushed_move_the_blame);
  tcase_add_test (quarantine, test_same_suspect_twice_is_quarantined);
  tcase_add_test (quarantine, test_quarantined_buffer_is_skipped_in_the_group);
  tcase_add_test (quarantine, test_different_suspects_are_not_quarantined);
  tcase_add_test (timeout, test_adaptive_limit);
  tcase_add_test (timeout, test_stuck_buffer_times_out);
  tcase_add_test (timeout, test_waiting_for_input_is_not_timed);
  tcase_add_test (timeout, test_held_output_restarts_the_clock);
  tcase_add_test (timeout,
      test_first_buffer_of_a_worker_gets_the_startup_allowance);
  tcase_add_test (timeout, test_wait_input_until_calls_return);
  suite_add_tcase (s, window);
  suite_add_tcase (s, quarantine);
  suite_add_tcase (s, timeout);
  return s;
}

GST_CHECK_MAIN (replay);
