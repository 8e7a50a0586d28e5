/* Parallax — what sandboxbin keeps of its input to survive a worker's
 * crash: the replay window, quarantine and per-buffer processing times.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A GstPxReplay follows the buffers a bin sends its worker and the buffers
 * that come back, under one rule, matching by input sequence: a worker
 * answers its input buffers in order, its k-th output buffer answering its
 * k-th input buffer. The rule is exact for elements that make one buffer
 * of each (filters, converters, decoders that drop nothing, reordering
 * ones included: their k-th output in presentation order is the k-th
 * frame they were given, counted from a keyframe). For elements that
 * split, merge or drop buffers it is an estimate, and so is everything
 * derived from it below.
 *
 * - The window: every input buffer since the keyframe (a buffer without
 *   GST_BUFFER_FLAG_DELTA_UNIT) that starts the group of the oldest
 *   unanswered one, bounded in buffers and bytes; raw audio and video keep
 *   only their unanswered buffers (each is a keyframe). When it overflows,
 *   the oldest buffers go first: answered ones (the replay then starts
 *   without its keyframe), then unanswered ones (lost if the worker dies).
 *   Buffers of a buffer pool go back to it: an answered one kept for its
 *   group is copied, and the window holds no more unanswered ones than
 *   the pool can spare (all but 2 of a pool of more than 4, else half),
 *   so that upstream never waits on its pool for the window.
 * - When a worker ends, the oldest input it had not answered is the one it
 *   was processing (the suspect). The next worker is given the window
 *   again; its outputs that answer inputs whose output was already pushed
 *   are dropped, so that downstream sees each output once and playback
 *   goes on at the next frame, not the next keyframe.
 * - The same suspect for two workers in a row is quarantined: left out of
 *   the replay and counted lost.
 * - Processing time of an input: from the moment the worker could start on
 *   it (it was sent, the previous one was answered, and downstream was not
 *   holding the worker's output back) to its answer. A worker is idle, not
 *   slow, when it answered something after the last input it was given,
 *   nothing waits to give it more, and it was not given the end of the
 *   stream: an element that holds input back (a decoder's delay, an
 *   encoder's look-ahead) is not timed while upstream has nothing more for
 *   it.
 *
 * Workers are named by a number the caller chooses (sandboxbin's worker
 * generation), never 0. Times are monotonic microseconds, passed in.
 *
 * Threads: any function from any thread; one mutex inside, which no
 * function holds while it calls out.
 */
#ifndef __GST_PX_REPLAY_H__
#define __GST_PX_REPLAY_H__

#include <gst/gst.h>

#include "gstipcsrcwatch.h"

G_BEGIN_DECLS
/* Window bounds by default: a long group of pictures (10 s at 30 frames
 * per second) of a high-bitrate stream. */
#define GST_PX_REPLAY_DEFAULT_MAX_BUFFERS 300
#define GST_PX_REPLAY_DEFAULT_MAX_BYTES (32 << 20)
/* The adaptive processing timeout: FACTOR times the median processing
 * time of the last SAMPLES answered buffers, never below FLOOR; a worker's
 * first buffer (which pays for lazy set-up: codecs open when caps arrive,
 * ORC programs compile) and any buffer before there is a median get
 * STARTUP. (µs) */
#define GST_PX_REPLAY_TIMEOUT_FACTOR 10
#define GST_PX_REPLAY_TIMEOUT_FLOOR (2 * G_TIME_SPAN_SECOND)
#define GST_PX_REPLAY_TIMEOUT_STARTUP (10 * G_TIME_SPAN_SECOND)
#define GST_PX_REPLAY_TIMEOUT_SAMPLES 63
/* Inputs followed at most (unanswered ones of an element that answers
 * less than it is given are forgotten past this). */
#define GST_PX_REPLAY_MAX_TRACKED 4096
typedef struct _GstPxReplay GstPxReplay;

/* What is known of an input buffer. */
typedef struct
{
  GstClockTime pts;
  GstClockTime dts;
  GstClockTime duration;
  guint64 offset;
  gsize size;
} GstPxReplayBuffer;

/* What a worker's end cost. */
typedef struct
{
  gboolean busy;                /* it held input it had not answered */
  GstPxReplayBuffer suspect;    /* the oldest such (when busy) */
  gboolean quarantined;         /* the suspect also ended the worker before:
                                 * left out from now on */
  guint64 lost;                 /* inputs no worker will answer: quarantined,
                                 * or no longer in the window */
  guint replay;                 /* buffers the next worker will be given */
} GstPxReplayLoss;

GstPxReplay *gst_px_replay_new (void);
void gst_px_replay_free (GstPxReplay * replay);

/* Bounds the window (0 buffers: no replay; unanswered inputs are still
 * followed). Applies from the next input. */
void gst_px_replay_set_limits (GstPxReplay * replay, guint max_buffers,
    guint64 max_bytes);

/* Forgets the stream: the window, a pending replay, the last suspect. The
 * processing times measured so far are kept. */
void gst_px_replay_reset (GstPxReplay * replay);

/* Streaming thread, before each input: @segment and @caps are the input's
 * current ones (may be NULL). A segment other than the last one starts a
 * new stream (gst_px_replay_reset()); raw audio or video caps mean that
 * every buffer stands alone. TRUE if the stream was reset. */
gboolean gst_px_replay_follow_stream (GstPxReplay * replay,
    GstEvent * segment, GstCaps * caps);

/* A number that changes with each reset: what refers to a stream position
 * (a GAP to send) is stale once it changed. */
guint gst_px_replay_get_stream (GstPxReplay * replay);

/* Streaming thread, around the calls that hand input to a worker (the
 * replay and the buffers after it). gst_px_replay_wait_input() waits,
 * until @deadline, for every such call to have returned; TRUE if they
 * did. */
void gst_px_replay_begin_input (GstPxReplay * replay);
void gst_px_replay_end_input (GstPxReplay * replay);
gboolean gst_px_replay_wait_input (GstPxReplay * replay, gint64 deadline);

/* When a worker ended and another takes over: what @worker must be given
 * again before anything else, in order (transfer full), or NULL when
 * nothing is pending for it. From then on @worker is the one inputs go
 * to. */
GstBufferList *gst_px_replay_take (GstPxReplay * replay, guint worker,
    gint64 now);

/* What the ipcsrc that reads @worker's output read (gstipcsrcwatch.h):
 * an output read but not pushed yet still answered an input, which the
 * blame for a crash skips; the end says that nothing more comes. */
void gst_px_replay_output_read (GstPxReplay * replay, guint worker,
    GstIpcSrcRead what);

/* Waits until all @worker sent has been read (its connection ended, or
 * another worker took over), or @deadline (monotonic µs); FALSE then. */
gboolean gst_px_replay_wait_output_end (GstPxReplay * replay, guint worker,
    gint64 deadline);

/* TRUE if @worker took over the current stream from a worker that was
 * lost, and the stream is a byte stream (a BYTES segment: a container or
 * an elementary stream, which a demuxer or parser reads from its start);
 * then *@offset is the input's offset where it was given the stream again
 * (GST_BUFFER_OFFSET_NONE: not known, or nothing was given again). */
gboolean gst_px_replay_resumed_in_bytes (GstPxReplay * replay, guint worker,
    guint64 * offset);

/* Upstream waits for a buffer of @pool, every one in use: the window lets
 * go of the oldest buffer of @pool that only it holds (unanswered, it is
 * lost if the worker dies), so that the slot returns. FALSE if it holds
 * none that would. */
gboolean gst_px_replay_starved (GstPxReplay * replay, GstBufferPool * pool);

/* @worker was given the end of the stream: it cannot be waiting for more
 * input. */
void gst_px_replay_input_ended (GstPxReplay * replay, guint worker);

/* @buffer (not taken) goes to @worker. A worker other than the last one
 * without a pending replay starts a new stream. */
void gst_px_replay_input (GstPxReplay * replay, guint worker,
    GstBuffer * buffer, gint64 now);

/* An output buffer of @worker: TRUE to push it, FALSE to drop it (it
 * answers an input whose output was pushed before a crash). Output of any
 * other worker is pushed and counts for nothing. */
gboolean gst_px_replay_output (GstPxReplay * replay, guint worker, gint64 now);

/* @worker ended. With @restart, another worker follows and is given the
 * window (see gst_px_replay_take()); without, the window is dropped and
 * its unanswered inputs count lost. Fills @loss. */
void gst_px_replay_worker_lost (GstPxReplay * replay, guint worker,
    gboolean restart, GstPxReplayLoss * loss);

/* No worker follows after all: drops the window and a pending replay;
 * returns the inputs no worker will answer. */
guint64 gst_px_replay_drop (GstPxReplay * replay);

/* The limit on one buffer's processing time, µs: @timeout (µs) if > 0,
 * else adaptive (see GST_PX_REPLAY_TIMEOUT_*) for the current worker. */
gint64 gst_px_replay_get_limit (GstPxReplay * replay, gint64 timeout);

/* TRUE if @worker has been processing its oldest unanswered input for
 * longer than the limit (gst_px_replay_get_limit(); @timeout 0: never),
 * and is not idle; then *@limit and *@buffer say what it was. */
gboolean gst_px_replay_timed_out (GstPxReplay * replay, guint worker,
    gint64 timeout, gint64 now, gint64 * limit, GstPxReplayBuffer * buffer);

/* Downstream holds @worker's output back at @now: its processing time
 * restarts. */
void gst_px_replay_output_held (GstPxReplay * replay, guint worker, gint64 now);

G_END_DECLS
#endif /* __GST_PX_REPLAY_H__ */
