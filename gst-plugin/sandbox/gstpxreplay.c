/* Parallax — what sandboxbin keeps of its input to survive a worker's
 * crash (see gstpxreplay.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "gstpxreplay.h"

#include <stdlib.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_px_replay_debug);
#define GST_CAT_DEFAULT gst_px_replay_debug

/* One input buffer, from when it is sent until no worker needs it. */
typedef struct
{
  guint64 seq;
  GstBuffer *buffer;            /* NULL once out of the window */
  GstPxReplayBuffer info;
  gboolean keyframe;
  gboolean quarantined;
  gint64 sent;                  /* when the current worker got it */
} Entry;

struct _GstPxReplay
{
  GMutex lock;
  GCond cond;                   /* in_progress went down */
  guint max_buffers;
  guint64 max_bytes;

  /* the stream */
  GstEvent *segment;            /* its identity */
  GstCaps *caps;
  gboolean raw;                 /* every buffer stands alone */
  guint stream;                 /* changes with each reset */
  GQueue entries;               /* of Entry, oldest first */
  GList *cursor;                /* oldest unanswered, NULL: none */
  GList *anchor;                /* the keyframe at or before the cursor
                                 * that starts its group; NULL: none held */
  guint held_buffers;           /* entries with a buffer */
  guint64 held_bytes;
  guint pooled;                 /* ... of a buffer pool */
  GstBufferPool *last_pool;     /* upstream's last one (not a reference) */
  guint pool_allowance;         /* its buffers the window may hold */
  guint64 next_seq;
  guint64 pushed_end;           /* outputs were pushed for all inputs below */
  gboolean pending;             /* the next worker gets the window again */
  guint lost_worker;            /* ... after this one ended */
  gboolean have_suspect;        /* the last worker lost was busy with... */
  guint64 suspect_seq;
  guint resumed_worker;         /* took over this stream from a lost one */
  guint64 resumed_offset;       /* ... at this offset of its input */

  /* the worker inputs go to */
  guint worker;
  gboolean answered;            /* it answered at least once */
  gint64 last_input, last_output, held_since;
  guint read_ahead;             /* its outputs read here, not pushed yet */
  gboolean output_ended;        /* all it sent has been read */
  guint in_progress;            /* calls handing it input */
  gboolean input_ended;         /* it was given the EOS */

  /* processing times (µs) of answered inputs, a ring */
  gint64 samples[GST_PX_REPLAY_TIMEOUT_SAMPLES];
  guint n_samples, next_sample;
};

static void
debug_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (gst_px_replay_debug, "pxreplay", 0,
        "Parallax sandboxbin replay window");
    g_once_init_leave (&done, 1);
  }
}

GstPxReplay *
gst_px_replay_new (void)
{
  GstPxReplay *replay = g_new0 (GstPxReplay, 1);

  debug_init ();
  g_mutex_init (&replay->lock);
  g_cond_init (&replay->cond);
  g_queue_init (&replay->entries);
  replay->max_buffers = GST_PX_REPLAY_DEFAULT_MAX_BUFFERS;
  replay->max_bytes = GST_PX_REPLAY_DEFAULT_MAX_BYTES;
  replay->pool_allowance = G_MAXUINT;
  return replay;
}

/* ---- the window --------------------------------------------------------- */

static void
drop_buffer_locked (GstPxReplay * replay, Entry * entry)
{
  if (entry->buffer == NULL)
    return;
  replay->held_buffers--;
  replay->held_bytes -= entry->info.size;
  if (entry->buffer->pool != NULL)
    replay->pooled--;
  gst_clear_buffer (&entry->buffer);
}

static void
hold_buffer_locked (GstPxReplay * replay, Entry * entry, GstBuffer * buffer)
{
  entry->buffer = buffer;
  replay->held_buffers++;
  replay->held_bytes += entry->info.size;
  if (buffer->pool != NULL)
    replay->pooled++;
}

/* Takes @link out; a cursor on it moves on (without the checks of
 * set_cursor_locked(): callers that keep streaming redo them). */
static void
remove_link_locked (GstPxReplay * replay, GList * link)
{
  Entry *entry = link->data;

  if (link == replay->cursor)
    replay->cursor = link->next;
  if (link == replay->anchor)
    replay->anchor = NULL;
  drop_buffer_locked (replay, entry);
  g_free (entry);
  g_queue_delete_link (&replay->entries, link);
}

/* The oldest unanswered input is now @link's (quarantined ones are never
 * answered: they are not sent); a keyframe reached starts a group. */
static void
set_cursor_locked (GstPxReplay * replay, GList * link)
{
  for (; link != NULL; link = link->next) {
    Entry *entry = link->data;

    if (entry->keyframe)
      replay->anchor = link;
    if (!entry->quarantined)
      break;
  }
  replay->cursor = link;
}

/* Answered inputs before the anchor are of no more use; nor are answered
 * ones without a buffer, nor any answered one of a stream whose buffers
 * stand alone. */
static void
trim_locked (GstPxReplay * replay)
{
  GList *head;

  while ((head = replay->entries.head) != NULL && head != replay->cursor) {
    Entry *entry = head->data;

    if ((replay->anchor != NULL && head != replay->anchor) ||
        entry->buffer == NULL || replay->raw)
      remove_link_locked (replay, head);
    else
      break;
  }
}

static gboolean
is_answered_locked (GstPxReplay * replay, Entry * entry)
{
  return replay->cursor == NULL ||
      entry->seq < ((Entry *) replay->cursor->data)->seq;
}

/* How many buffers of @pool the window may hold: 2 fewer than the pool
 * has, so that upstream always gets some. For the pool an ipcsink
 * proposes (twice its max-in-flight, and 4) that is what a 1:1 worker
 * leaves unanswered at most: its input in flight, its output in flight
 * to the host, and the one in process. */
static guint
pool_allowance (GstBufferPool * pool)
{
  GstStructure *config = gst_buffer_pool_get_config (pool);
  guint max = 0;

  gst_buffer_pool_config_get_params (config, NULL, NULL, NULL, &max);
  gst_structure_free (config);
  if (max == 0)
    return G_MAXUINT;
  return max > 4 ? max - 2 : max / 2;
}

/* Buffers of a buffer pool return to it: an answered one kept for its
 * group is copied, and past the pool's allowance the oldest unanswered
 * ones leave the window (lost if the worker dies). An element that
 * answers later than it lets go of its input (an encoder's look-ahead, a
 * rate converter) would otherwise hold the pool upstream waits on. */
static void
release_pooled_locked (GstPxReplay * replay)
{
  guint unanswered = 0;
  GList *l;

  if (replay->pooled == 0)
    return;
  for (l = replay->entries.head; l && l != replay->cursor; l = l->next) {
    Entry *entry = l->data;
    GstBuffer *copy;

    if (entry->buffer == NULL || entry->buffer->pool == NULL)
      continue;
    copy = gst_buffer_copy_deep (entry->buffer);
    drop_buffer_locked (replay, entry);
    if (copy != NULL)
      hold_buffer_locked (replay, entry, copy);
  }
  for (GList * m = l; m; m = m->next)
    unanswered += ((Entry *) m->data)->buffer != NULL &&
        ((Entry *) m->data)->buffer->pool != NULL;
  for (; l && unanswered > replay->pool_allowance; l = l->next) {
    Entry *entry = l->data;

    if (entry->buffer == NULL || entry->buffer->pool == NULL)
      continue;
    drop_buffer_locked (replay, entry);
    unanswered--;
  }
}

/* Over its bounds the window lets go of its oldest buffers: an answered
 * one goes (the replay starts later, without its keyframe if that was
 * it), an unanswered one stays followed without its buffer (lost if the
 * worker dies). */
static void
overflow_locked (GstPxReplay * replay)
{
  while (replay->held_buffers > replay->max_buffers ||
      replay->held_bytes > replay->max_bytes) {
    GList *l = replay->entries.head;

    while (((Entry *) l->data)->buffer == NULL)
      l = l->next;
    GST_LOG ("window full: %u buffers, %" G_GUINT64_FORMAT " bytes; "
        "letting input %" G_GUINT64_FORMAT " go", replay->held_buffers,
        replay->held_bytes, ((Entry *) l->data)->seq);
    if (is_answered_locked (replay, l->data))
      remove_link_locked (replay, l);
    else
      drop_buffer_locked (replay, l->data);
  }
}

/* An element that answers fewer buffers than it is given would have its
 * unanswered inputs pile up: past the cap the oldest count as answered. */
static void
cap_locked (GstPxReplay * replay)
{
  while (replay->entries.length > GST_PX_REPLAY_MAX_TRACKED) {
    GList *head = replay->entries.head;

    if (head == replay->cursor)
      set_cursor_locked (replay, head->next);
    remove_link_locked (replay, head);
  }
}

static guint64
count_unanswered_locked (GstPxReplay * replay)
{
  guint64 n = 0;

  for (GList * l = replay->cursor; l; l = l->next)
    n += !((Entry *) l->data)->quarantined;
  return n;
}

static void
clear_entries_locked (GstPxReplay * replay)
{
  while (replay->entries.head != NULL)
    remove_link_locked (replay, replay->entries.head);
  replay->cursor = replay->anchor = NULL;
  replay->pushed_end = replay->next_seq;
  replay->pending = FALSE;
  replay->have_suspect = FALSE;
}

static void
reset_stream_locked (GstPxReplay * replay)
{
  clear_entries_locked (replay);
  replay->resumed_worker = 0;
  replay->read_ahead = 0;
  replay->input_ended = FALSE;
  replay->stream++;
}

void
gst_px_replay_free (GstPxReplay * replay)
{
  if (replay == NULL)
    return;
  clear_entries_locked (replay);
  gst_clear_event (&replay->segment);
  gst_clear_caps (&replay->caps);
  g_mutex_clear (&replay->lock);
  g_cond_clear (&replay->cond);
  g_free (replay);
}

void
gst_px_replay_set_limits (GstPxReplay * replay, guint max_buffers,
    guint64 max_bytes)
{
  g_mutex_lock (&replay->lock);
  replay->max_buffers = max_buffers;
  replay->max_bytes = max_bytes;
  g_mutex_unlock (&replay->lock);
}

void
gst_px_replay_reset (GstPxReplay * replay)
{
  g_mutex_lock (&replay->lock);
  reset_stream_locked (replay);
  g_mutex_unlock (&replay->lock);
}

static gboolean
caps_are_raw (GstCaps * caps)
{
  const gchar *name;

  if (caps == NULL || gst_caps_get_size (caps) == 0)
    return FALSE;
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  return g_str_equal (name, "video/x-raw") || g_str_equal (name, "audio/x-raw");
}

gboolean
gst_px_replay_follow_stream (GstPxReplay * replay, GstEvent * segment,
    GstCaps * caps)
{
  gboolean reset = FALSE;

  g_mutex_lock (&replay->lock);
  if (segment != replay->segment) {
    reset_stream_locked (replay);
    gst_event_replace (&replay->segment, segment);
    reset = TRUE;
  }
  if (caps != replay->caps) {
    gst_caps_replace (&replay->caps, caps);
    replay->raw = caps_are_raw (caps);
  }
  g_mutex_unlock (&replay->lock);
  return reset;
}

guint
gst_px_replay_get_stream (GstPxReplay * replay)
{
  guint stream;

  g_mutex_lock (&replay->lock);
  stream = replay->stream;
  g_mutex_unlock (&replay->lock);
  return stream;
}

gboolean
gst_px_replay_resumed_in_bytes (GstPxReplay * replay, guint worker,
    guint64 * offset)
{
  gboolean resumed = FALSE;
  GstSegment *segment = NULL;

  g_mutex_lock (&replay->lock);
  if (worker != 0 && worker == replay->resumed_worker &&
      replay->segment != NULL) {
    gst_event_parse_segment (replay->segment, (const GstSegment **) &segment);
    resumed = segment->format == GST_FORMAT_BYTES;
    *offset = replay->resumed_offset;
  }
  g_mutex_unlock (&replay->lock);
  return resumed;
}

/* ---- input -------------------------------------------------------------- */

void
gst_px_replay_begin_input (GstPxReplay * replay)
{
  g_mutex_lock (&replay->lock);
  replay->in_progress++;
  g_mutex_unlock (&replay->lock);
}

void
gst_px_replay_end_input (GstPxReplay * replay)
{
  g_mutex_lock (&replay->lock);
  replay->in_progress--;
  g_cond_broadcast (&replay->cond);
  g_mutex_unlock (&replay->lock);
}

gboolean
gst_px_replay_wait_input (GstPxReplay * replay, gint64 deadline)
{
  gboolean done;

  g_mutex_lock (&replay->lock);
  while (replay->in_progress > 0 &&
      g_cond_wait_until (&replay->cond, &replay->lock, deadline));
  done = replay->in_progress == 0;
  g_mutex_unlock (&replay->lock);
  return done;
}

static void
adopt_worker_locked (GstPxReplay * replay, guint worker, gint64 now)
{
  replay->worker = worker;
  replay->answered = FALSE;
  replay->last_input = now;
  replay->last_output = replay->held_since = 0;
  replay->input_ended = FALSE;
  replay->read_ahead = 0;
  replay->output_ended = FALSE;
}

GstBufferList *
gst_px_replay_take (GstPxReplay * replay, guint worker, gint64 now)
{
  GstBufferList *list = NULL;

  g_mutex_lock (&replay->lock);
  if (!replay->pending || worker == 0 || worker == replay->lost_worker) {
    g_mutex_unlock (&replay->lock);
    return NULL;
  }
  replay->pending = FALSE;
  /* The window from its first buffer on; the new worker answers from
   * there, its answers to inputs already answered are dropped. */
  while (replay->entries.head != NULL &&
      ((Entry *) replay->entries.head->data)->buffer == NULL)
    remove_link_locked (replay, replay->entries.head);
  replay->anchor = NULL;
  set_cursor_locked (replay, replay->entries.head);
  replay->resumed_worker = worker;
  replay->resumed_offset = GST_BUFFER_OFFSET_NONE;
  for (GList * l = replay->entries.head; l; l = l->next) {
    Entry *entry = l->data;

    if (entry->buffer == NULL || entry->quarantined)
      continue;
    if (list == NULL) {
      list = gst_buffer_list_new ();
      replay->resumed_offset = entry->info.offset;
    }
    gst_buffer_list_add (list, gst_buffer_ref (entry->buffer));
    entry->sent = now;
  }
  adopt_worker_locked (replay, worker, now);
  if (list == NULL)
    replay->last_input = 0;
  GST_DEBUG ("worker %u is given %u buffers again", worker,
      list ? gst_buffer_list_length (list) : 0);
  g_mutex_unlock (&replay->lock);
  return list;
}

void
gst_px_replay_input (GstPxReplay * replay, guint worker, GstBuffer * buffer,
    gint64 now)
{
  Entry *entry = g_new0 (Entry, 1);

  entry->info.pts = GST_BUFFER_PTS (buffer);
  entry->info.dts = GST_BUFFER_DTS (buffer);
  entry->info.duration = GST_BUFFER_DURATION (buffer);
  entry->info.offset = GST_BUFFER_OFFSET (buffer);
  entry->info.size = gst_buffer_get_size (buffer);
  entry->keyframe = !GST_BUFFER_FLAG_IS_SET (buffer,
      GST_BUFFER_FLAG_DELTA_UNIT);
  entry->sent = now;

  g_mutex_lock (&replay->lock);
  if (worker != replay->worker) {
    reset_stream_locked (replay);
    adopt_worker_locked (replay, worker, now);
  }
  entry->seq = replay->next_seq++;
  if (buffer->pool != NULL && buffer->pool != replay->last_pool) {
    replay->last_pool = buffer->pool;
    replay->pool_allowance = pool_allowance (buffer->pool);
  }
  if (replay->max_buffers > 0)
    hold_buffer_locked (replay, entry, gst_buffer_ref (buffer));
  g_queue_push_tail (&replay->entries, entry);
  if (replay->cursor == NULL)
    set_cursor_locked (replay, replay->entries.tail);
  replay->last_input = now;
  overflow_locked (replay);
  trim_locked (replay);
  release_pooled_locked (replay);
  cap_locked (replay);
  g_mutex_unlock (&replay->lock);
}

/* An element that keeps more of its input than the pool has slots (an
 * encoder's look-ahead) copies what it keeps past its share into its own
 * memory and gives the slots back; the window holds those same inputs,
 * unanswered, and only its reference keeps them from the pool. */
gboolean
gst_px_replay_starved (GstPxReplay * replay, GstBufferPool * pool)
{
  gboolean released = FALSE;

  g_mutex_lock (&replay->lock);
  /* (answered ones kept for their group were copied out of the pool) */
  for (GList * l = replay->cursor; l; l = l->next) {
    Entry *entry = l->data;

    /* Nobody else can take a reference to a buffer only we hold. */
    if (entry->buffer == NULL || entry->buffer->pool != pool ||
        GST_MINI_OBJECT_REFCOUNT_VALUE (entry->buffer) != 1)
      continue;
    GST_DEBUG ("upstream waits for a buffer of its pool: letting input %"
        G_GUINT64_FORMAT " (pts %" GST_TIME_FORMAT ") go", entry->seq,
        GST_TIME_ARGS (entry->info.pts));
    drop_buffer_locked (replay, entry);
    released = TRUE;
    break;
  }
  g_mutex_unlock (&replay->lock);
  return released;
}

void
gst_px_replay_input_ended (GstPxReplay * replay, guint worker)
{
  g_mutex_lock (&replay->lock);
  if (worker == replay->worker)
    replay->input_ended = TRUE;
  g_mutex_unlock (&replay->lock);
}

/* ---- output ------------------------------------------------------------- */

static void
add_sample_locked (GstPxReplay * replay, gint64 sample)
{
  replay->samples[replay->next_sample] = MAX (sample, 0);
  replay->next_sample = (replay->next_sample + 1) %
      GST_PX_REPLAY_TIMEOUT_SAMPLES;
  replay->n_samples = MIN (replay->n_samples + 1,
      GST_PX_REPLAY_TIMEOUT_SAMPLES);
}

static gint
compare_samples (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static gint64
median_locked (GstPxReplay * replay)
{
  gint64 sorted[GST_PX_REPLAY_TIMEOUT_SAMPLES];

  memcpy (sorted, replay->samples, replay->n_samples * sizeof sorted[0]);
  qsort (sorted, replay->n_samples, sizeof sorted[0], compare_samples);
  return sorted[replay->n_samples / 2];
}

gboolean
gst_px_replay_output (GstPxReplay * replay, guint worker, gint64 now)
{
  gboolean push = TRUE;
  Entry *entry;

  g_mutex_lock (&replay->lock);
  if (worker == 0 || worker != replay->worker || replay->pending) {
    g_mutex_unlock (&replay->lock);
    return TRUE;
  }
  if (replay->cursor != NULL) {
    entry = replay->cursor->data;
    /* A worker's first answer pays for its set-up: not a sample. */
    if (replay->answered)
      add_sample_locked (replay, now - MAX (MAX (entry->sent,
                  replay->last_output), replay->held_since));
    replay->answered = TRUE;
    push = entry->seq >= replay->pushed_end;
    if (push)
      replay->pushed_end = entry->seq + 1;
    set_cursor_locked (replay, replay->cursor->next);
    trim_locked (replay);
    release_pooled_locked (replay);
  }
  if (replay->read_ahead > 0)
    replay->read_ahead--;
  replay->last_output = now;
  g_mutex_unlock (&replay->lock);
  return push;
}

void
gst_px_replay_output_read (GstPxReplay * replay, guint worker,
    GstIpcSrcRead what)
{
  g_mutex_lock (&replay->lock);
  if (worker != 0 && worker == replay->worker && !replay->pending) {
    if (what == GST_IPC_SRC_READ_BUFFER)
      replay->read_ahead++;
    else if (what == GST_IPC_SRC_READ_FLUSH)
      replay->read_ahead = 0;
    else {
      replay->output_ended = TRUE;
      g_cond_broadcast (&replay->cond);
    }
  }
  g_mutex_unlock (&replay->lock);
}

gboolean
gst_px_replay_wait_output_end (GstPxReplay * replay, guint worker,
    gint64 deadline)
{
  gboolean ended;

  g_mutex_lock (&replay->lock);
  while (worker == replay->worker && !replay->output_ended &&
      g_cond_wait_until (&replay->cond, &replay->lock, deadline));
  ended = worker != replay->worker || replay->output_ended;
  g_mutex_unlock (&replay->lock);
  return ended;
}

/* ---- a worker's end ----------------------------------------------------- */

static guint64
drop_locked (GstPxReplay * replay)
{
  guint64 lost = count_unanswered_locked (replay);

  clear_entries_locked (replay);
  return lost;
}

/* The inputs the window holds no buffer of: no worker will see them. */
static guint64
forget_unreplayable_locked (GstPxReplay * replay)
{
  guint64 lost = 0;
  GList *next;

  for (GList * l = replay->cursor; l; l = next) {
    Entry *entry = l->data;

    next = l->next;
    if (entry->buffer == NULL && !entry->quarantined) {
      remove_link_locked (replay, l);
      lost++;
    }
  }
  return lost;
}

static void
suspect_locked (GstPxReplay * replay, gboolean restart, GstPxReplayLoss * loss)
{
  GList *busy = replay->cursor;
  Entry *entry;

  /* Outputs read here but not pushed answered the inputs after the
   * cursor: the worker was busy with the one after them. */
  for (guint n = replay->read_ahead; busy != NULL && n > 0; n--) {
    do
      busy = busy->next;
    while (busy != NULL && ((Entry *) busy->data)->quarantined);
  }
  if (busy == NULL) {
    replay->have_suspect = FALSE;
    return;
  }
  entry = busy->data;
  loss->busy = TRUE;
  loss->suspect = entry->info;
  if (restart && replay->have_suspect && replay->suspect_seq == entry->seq) {
    GST_INFO ("input %" G_GUINT64_FORMAT " (pts %" GST_TIME_FORMAT
        ") ended two workers in a row: quarantined", entry->seq,
        GST_TIME_ARGS (entry->info.pts));
    entry->quarantined = TRUE;
    drop_buffer_locked (replay, entry);
    loss->quarantined = TRUE;
    loss->lost++;
    replay->have_suspect = FALSE;
    return;
  }
  replay->have_suspect = TRUE;
  replay->suspect_seq = entry->seq;
}

void
gst_px_replay_worker_lost (GstPxReplay * replay, guint worker,
    gboolean restart, GstPxReplayLoss * loss)
{
  memset (loss, 0, sizeof *loss);
  loss->suspect.pts = loss->suspect.dts = loss->suspect.duration =
      GST_CLOCK_TIME_NONE;
  loss->suspect.offset = GST_BUFFER_OFFSET_NONE;
  g_mutex_lock (&replay->lock);
  /* A worker that never took over was given nothing of the stream. */
  if (worker == 0 || worker != replay->worker || replay->pending) {
    if (!restart)
      loss->lost = drop_locked (replay);
    g_mutex_unlock (&replay->lock);
    return;
  }
  suspect_locked (replay, restart, loss);
  if (!restart) {
    loss->lost += drop_locked (replay);
    g_mutex_unlock (&replay->lock);
    return;
  }
  loss->lost += forget_unreplayable_locked (replay);
  for (GList * l = replay->entries.head; l; l = l->next) {
    Entry *entry = l->data;

    loss->replay += entry->buffer != NULL && !entry->quarantined;
  }
  replay->pending = TRUE;
  replay->lost_worker = worker;
  g_mutex_unlock (&replay->lock);
}

guint64
gst_px_replay_drop (GstPxReplay * replay)
{
  guint64 lost;

  g_mutex_lock (&replay->lock);
  lost = drop_locked (replay);
  g_mutex_unlock (&replay->lock);
  return lost;
}

/* ---- processing time ---------------------------------------------------- */

static gint64
limit_locked (GstPxReplay * replay, gint64 timeout)
{
  if (timeout > 0)
    return timeout;
  if (!replay->answered || replay->n_samples == 0)
    return GST_PX_REPLAY_TIMEOUT_STARTUP;
  return MAX (GST_PX_REPLAY_TIMEOUT_FLOOR,
      GST_PX_REPLAY_TIMEOUT_FACTOR * median_locked (replay));
}

gint64
gst_px_replay_get_limit (GstPxReplay * replay, gint64 timeout)
{
  gint64 limit;

  g_mutex_lock (&replay->lock);
  limit = limit_locked (replay, timeout);
  g_mutex_unlock (&replay->lock);
  return limit;
}

gboolean
gst_px_replay_timed_out (GstPxReplay * replay, guint worker, gint64 timeout,
    gint64 now, gint64 * limit, GstPxReplayBuffer * buffer)
{
  gboolean late = FALSE, idle;
  gint64 start, max;
  Entry *entry;

  g_mutex_lock (&replay->lock);
  if (timeout == 0 || worker == 0 || worker != replay->worker ||
      replay->pending || replay->cursor == NULL) {
    g_mutex_unlock (&replay->lock);
    return FALSE;
  }
  entry = replay->cursor->data;
  /* It answered after the last input it got, nothing waits to give it
   * more, and the stream goes on: it may be waiting for input, not
   * stuck. */
  idle = replay->last_output > replay->last_input &&
      replay->in_progress == 0 && !replay->input_ended;
  start = MAX (MAX (entry->sent, replay->last_output), replay->held_since);
  max = limit_locked (replay, timeout);
  if (!idle && now - start > max) {
    late = TRUE;
    *limit = max;
    *buffer = entry->info;
  }
  g_mutex_unlock (&replay->lock);
  return late;
}

void
gst_px_replay_output_held (GstPxReplay * replay, guint worker, gint64 now)
{
  g_mutex_lock (&replay->lock);
  if (worker == replay->worker)
    replay->held_since = MAX (replay->held_since, now);
  g_mutex_unlock (&replay->lock);
}
