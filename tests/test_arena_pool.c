/* Parallax — tests for the arena buffer pool (GstPxArenaPool).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <gst/allocators/allocators.h>

#include "gstpxarenapool.h"
#include "gstpxarenaallocator.h"
#include "px-test-util.h"

static GstCaps *
video_caps (gint width, gint height)
{
  return gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420",
      "width", G_TYPE_INT, width, "height", G_TYPE_INT, height,
      "framerate", GST_TYPE_FRACTION, 30, 1, NULL);
}

static GstBufferPool *
configured_pool (GstCaps * caps, guint size, guint min, guint max,
    gboolean video_meta)
{
  GstBufferPool *pool = gst_px_arena_pool_new ();
  GstStructure *config = gst_buffer_pool_get_config (pool);

  gst_buffer_pool_config_set_params (config, caps, size, min, max);
  if (video_meta)
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_META);
  fail_unless (gst_buffer_pool_set_config (pool, config));
  return pool;
}

GST_START_TEST (test_pool_buffers_live_in_one_arena)
{
  GstCaps *caps = video_caps (64, 48);
  GstBufferPool *pool = configured_pool (caps, 64 * 48 * 3 / 2, 2, 4, FALSE);
  GstBuffer *bufs[4];
  PxArena *arena = gst_px_arena_pool_get_arena (pool);
  gboolean seen[4] = { FALSE, };

  fail_unless (arena != NULL);
  fail_unless_equals_int (px_arena_slot_count (arena), 4);
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  for (int i = 0; i < 4; i++) {
    PxArena *owner;
    guint32 slot;

    fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &bufs[i],
            NULL), GST_FLOW_OK);
    fail_unless_equals_int (gst_buffer_n_memory (bufs[i]), 1);
    fail_unless (gst_px_arena_memory_get_slot (gst_buffer_peek_memory (bufs[i],
                0), &owner, &slot, NULL));
    fail_unless (owner == arena);
    fail_if (seen[slot]);
    seen[slot] = TRUE;
    fail_unless_equals_int (gst_buffer_get_size (bufs[i]), 64 * 48 * 3 / 2);
  }
  /* Every slot is out: a non-blocking acquire says so. */
  {
    GstBufferPoolAcquireParams params = {.flags =
          GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT
    };
    GstBuffer *extra = NULL;
    fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &extra,
            &params), GST_FLOW_EOS);
  }
  /* A released buffer comes back with its slot. */
  {
    guint32 slot, again;
    gst_px_arena_memory_get_slot (gst_buffer_peek_memory (bufs[1], 0), NULL,
        &slot, NULL);
    gst_buffer_unref (bufs[1]);
    fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &bufs[1],
            NULL), GST_FLOW_OK);
    gst_px_arena_memory_get_slot (gst_buffer_peek_memory (bufs[1], 0), NULL,
        &again, NULL);
    fail_unless_equals_int (again, slot);
  }
  for (int i = 0; i < 4; i++)
    gst_buffer_unref (bufs[i]);
  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  fail_unless_equals_int (px_arena_slots_in_use (arena), 0);
  gst_object_unref (pool);
  gst_caps_unref (caps);
}

GST_END_TEST;

GST_START_TEST (test_unlimited_config_gets_a_maximum)
{
  GstBufferPool *pool = configured_pool (NULL, 1024, 3, 0, FALSE);
  GstStructure *config = gst_buffer_pool_get_config (pool);
  guint size, min, max;
  GstAllocator *allocator = NULL;

  fail_unless (gst_buffer_pool_config_get_params (config, NULL, &size, &min,
          &max));
  fail_unless_equals_int (min, 3);
  fail_unless_equals_int (max, GST_PX_ARENA_POOL_DEFAULT_SLOTS);
  fail_unless_equals_int (px_arena_slot_count (gst_px_arena_pool_get_arena
          (pool)), GST_PX_ARENA_POOL_DEFAULT_SLOTS);
  /* The configuration names the allocator really used. */
  fail_unless (gst_buffer_pool_config_get_allocator (config, &allocator, NULL));
  fail_unless (allocator != NULL && GST_IS_PX_ARENA_ALLOCATOR (allocator));
  gst_structure_free (config);
  gst_object_unref (pool);

  /* A minimum above the default wins. */
  pool = configured_pool (NULL, 1024, 40, 0, FALSE);
  fail_unless_equals_int (px_arena_slot_count (gst_px_arena_pool_get_arena
          (pool)), 40);
  gst_object_unref (pool);
}

GST_END_TEST;

GST_START_TEST (test_video_meta_option)
{
  GstCaps *caps = video_caps (320, 240);
  GstVideoInfo info;
  GstBufferPool *pool;
  GstBuffer *buf;
  GstVideoMeta *meta;
  const gchar **options;
  gboolean offered = FALSE;

  gst_video_info_from_caps (&info, caps);
  pool = gst_px_arena_pool_new ();
  options = gst_buffer_pool_get_options (pool);
  for (; *options; options++)
    offered |= g_str_equal (*options, GST_BUFFER_POOL_OPTION_VIDEO_META);
  fail_unless (offered);
  gst_object_unref (pool);

  pool = configured_pool (caps, info.size, 1, 2, TRUE);
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &buf, NULL),
      GST_FLOW_OK);
  meta = gst_buffer_get_video_meta (buf);
  fail_unless (meta != NULL);
  fail_unless_equals_int (meta->n_planes, 3);
  fail_unless_equals_int (meta->width, 320);
  for (guint i = 0; i < 3; i++) {
    fail_unless_equals_int (meta->stride[i], info.stride[i]);
    fail_unless_equals_int (meta->offset[i], info.offset[i]);
  }
  gst_buffer_unref (buf);
  gst_buffer_pool_set_active (pool, FALSE);
  gst_object_unref (pool);

  /* Without the option, no meta. */
  pool = configured_pool (caps, info.size, 1, 2, FALSE);
  gst_buffer_pool_set_active (pool, TRUE);
  gst_buffer_pool_acquire_buffer (pool, &buf, NULL);
  fail_unless (gst_buffer_get_video_meta (buf) == NULL);
  gst_buffer_unref (buf);
  gst_buffer_pool_set_active (pool, FALSE);
  gst_object_unref (pool);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* A 320x180 I420 configuration with both video options and @align; the
 * allocation params ask for @mem_align and a prefix. */
static gboolean
set_aligned_config (GstBufferPool * pool, GstCaps * caps,
    const GstVideoAlignment * align, gsize mem_align)
{
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GstAllocationParams params;
  GstVideoInfo info;

  gst_video_info_from_caps (&info, caps);
  gst_allocation_params_init (&params);
  params.align = mem_align;
  params.prefix = 17;
  gst_buffer_pool_config_set_params (config, caps, info.size, 1, 4);
  gst_buffer_pool_config_set_allocator (config, NULL, &params);
  gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  gst_buffer_pool_config_add_option (config,
      GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);
  gst_buffer_pool_config_set_video_alignment (config, align);
  return gst_buffer_pool_set_config (pool, config);
}

/* The padding of a decoder that works on 16x16 macroblocks and wants its
 * rows aligned to 64 bytes for plane 0 (32 for the others). */
static void
decoder_alignment (GstVideoAlignment * align)
{
  gst_video_alignment_reset (align);
  align->padding_right = 16;
  align->padding_bottom = 13;
  align->stride_align[0] = 63;
  align->stride_align[1] = align->stride_align[2] = 31;
}

/* What GstVideoBufferPool makes of the same request: one stride alignment
 * for every plane, the largest asked, the memory's included. */
static void
expected_layout (GstCaps * caps, gsize mem_align, GstVideoInfo * info,
    GstVideoAlignment * align)
{
  decoder_alignment (align);
  for (guint n = 0; n < GST_VIDEO_MAX_PLANES; n++)
    align->stride_align[n] = 63 | mem_align;
  gst_video_info_from_caps (info, caps);
  fail_unless (gst_video_info_align (info, align));
}

GST_START_TEST (test_video_alignment_option_is_applied_to_the_config)
{
  GstCaps *caps = video_caps (320, 180);
  GstBufferPool *pool = gst_px_arena_pool_new ();
  GstVideoAlignment align, got;
  GstAllocationParams params;
  GstStructure *config;
  GstVideoInfo info;
  const gchar **options;
  gboolean offered = FALSE;
  guint size;

  for (options = gst_buffer_pool_get_options (pool); *options; options++)
    offered |= g_str_equal (*options, GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);
  fail_unless (offered);
  fail_unless (gst_buffer_pool_has_option (pool,
          GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT));

  decoder_alignment (&align);
  fail_unless (set_aligned_config (pool, caps, &align, 127));
  expected_layout (caps, 127, &info, &align);

  config = gst_buffer_pool_get_config (pool);
  fail_unless (gst_buffer_pool_config_has_option (config,
          GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT));
  fail_unless (gst_buffer_pool_config_get_video_alignment (config, &got));
  /* The padding gst_video_info_align() settled on, wider than asked for
   * 128-byte rows. */
  fail_unless_equals_int (got.padding_right, align.padding_right);
  fail_unless (got.padding_right > 16);
  fail_unless_equals_int (got.padding_bottom, 13);
  for (guint n = 0; n < GST_VIDEO_MAX_PLANES; n++)
    fail_unless_equals_int (got.stride_align[n], 127);
  /* The buffers grow to the padded frame, and the memory is aligned as the
   * strides are. */
  fail_unless (gst_buffer_pool_config_get_params (config, NULL, &size, NULL,
          NULL));
  fail_unless_equals_int (size, info.size);
  fail_unless (size > 320 * 180 * 3 / 2);
  fail_unless (gst_buffer_pool_config_get_allocator (config, NULL, &params));
  fail_unless_equals_int (params.align, 127);
  fail_unless (px_arena_slot_size (gst_px_arena_pool_get_arena (pool)) >= size);
  gst_structure_free (config);
  gst_object_unref (pool);
  gst_caps_unref (caps);
}

GST_END_TEST;

GST_START_TEST (test_aligned_buffers_carry_the_padded_layout)
{
  GstCaps *caps = video_caps (320, 180);
  GstBufferPool *pool = gst_px_arena_pool_new ();
  GstVideoAlignment align;
  GstVideoInfo info;
  GstVideoFrame frame;
  GstVideoMeta *meta;
  GstBuffer *buf;
  GstMapInfo map;

  decoder_alignment (&align);
  fail_unless (set_aligned_config (pool, caps, &align, 0));
  expected_layout (caps, 0, &info, &align);
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &buf, NULL),
      GST_FLOW_OK);
  fail_unless (gst_is_px_arena_memory (gst_buffer_peek_memory (buf, 0)));
  fail_unless_equals_int (gst_buffer_get_size (buf), info.size);

  meta = gst_buffer_get_video_meta (buf);
  fail_unless (meta != NULL);
  fail_unless_equals_int (meta->width, 320);
  fail_unless_equals_int (meta->height, 180);
  fail_unless_equals_int (meta->n_planes, 3);
  for (guint i = 0; i < 3; i++) {
    fail_unless_equals_int (meta->stride[i], info.stride[i]);
    fail_unless_equals_uint64 (meta->offset[i], info.offset[i]);
  }
  fail_unless_equals_int (meta->alignment.padding_bottom, 13);

  /* Every plane starts on a 64-byte boundary (the prefix of 17 bytes is
   * rounded up), and a decoder may write the whole padded frame. */
  fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_WRITE));
  for (guint i = 0; i < 3; i++)
    fail_unless_equals_int ((guintptr) GST_VIDEO_FRAME_PLANE_DATA (&frame,
            i) % 64, 0);
  gst_video_frame_unmap (&frame);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  memset (map.data, 0x5a, map.size);
  gst_buffer_unmap (buf, &map);

  gst_buffer_unref (buf);
  gst_buffer_pool_set_active (pool, FALSE);
  gst_object_unref (pool);
  gst_caps_unref (caps);
}

GST_END_TEST;

GST_START_TEST (test_alignment_beyond_a_page_is_refused)
{
  GstCaps *caps = video_caps (320, 180);
  GstBufferPool *pool = gst_px_arena_pool_new ();
  GstVideoAlignment align;
  gsize page = px_arena_slot_alignment ();

  decoder_alignment (&align);
  fail_unless (set_aligned_config (pool, caps, &align, page - 1));
  /* Slots start on page boundaries: a larger alignment would hold for some
   * slots only. */
  fail_if (set_aligned_config (pool, caps, &align, 2 * page - 1));
  align.stride_align[1] = 2 * page - 1;
  fail_if (set_aligned_config (pool, caps, &align, 0));
  decoder_alignment (&align);
  align.padding_right = G_MAXUINT;
  fail_if (set_aligned_config (pool, caps, &align, 0), "padding overflow");
  gst_object_unref (pool);
  gst_caps_unref (caps);
}

GST_END_TEST;

static gboolean
try_config_on (GstBufferPool * pool, guint size, guint min, guint max,
    gsize prefix)
{
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GstAllocationParams params;
  gboolean ok;

  gst_allocation_params_init (&params);
  params.prefix = prefix;
  gst_buffer_pool_config_set_params (config, NULL, size, min, max);
  gst_buffer_pool_config_set_allocator (config, NULL, &params);
  ok = gst_buffer_pool_set_config (pool, config);
  fail_if (ok != (gst_px_arena_pool_get_arena (pool) != NULL));
  return ok;
}

static gboolean
try_config (guint size, guint min, guint max, gsize prefix)
{
  GstBufferPool *pool = gst_px_arena_pool_new ();
  gboolean ok = try_config_on (pool, size, min, max, prefix);

  gst_object_unref (pool);
  return ok;
}

GST_START_TEST (test_bad_configuration_is_refused)
{
  GstBufferPool *pool;
  struct rlimit old;
  int fds;

  fail_unless (try_config (4096, 1, 4, 0));
  fail_if (try_config (0, 1, 4, 0), "size 0 accepted");
  fail_if (try_config (4096, 1, PX_ARENA_MAX_SLOTS + 1, 0));
  fail_if (try_config (G_MAXUINT, 1, 1024 * 1024, 0), "overflow accepted");
  fail_if (try_config (4096, 1, 4, G_MAXSIZE - 100), "prefix overflow");

  /* memfd_create fails (no fd left): refused, nothing leaked. The pool
   * itself needs fds, so it is created first. */
  pool = gst_px_arena_pool_new ();
  fds = px_test_count_fds ();
  old = px_test_no_fd_left ();
  fail_if (try_config_on (pool, 4096, 1, 4, 0));
  setrlimit (RLIMIT_NOFILE, &old);
  fail_unless_equals_int (px_test_count_fds (), fds);
  gst_object_unref (pool);
}

GST_END_TEST;

/* An application hands the arena pool to upstream through the ALLOCATION
 * query, the way a sink element does. */
static GstPadProbeReturn
propose_pool (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  GstBufferPool *pool;
  GstStructure *config;
  GstCaps *caps;
  GstVideoInfo vinfo;

  if (GST_QUERY_TYPE (query) != GST_QUERY_ALLOCATION)
    return GST_PAD_PROBE_OK;
  gst_query_parse_allocation (query, &caps, NULL);
  fail_unless (gst_video_info_from_caps (&vinfo, caps));
  pool = gst_px_arena_pool_new ();
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, vinfo.size, 4, 8);
  fail_unless (gst_buffer_pool_set_config (pool, config));
  gst_query_add_allocation_pool (query, pool, vinfo.size, 4, 8);
  gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  gst_object_unref (pool);
  return GST_PAD_PROBE_HANDLED;
}

typedef struct
{
  guint64 buffers;
  guint64 arena_buffers;
  gint max_fds;
} FlowStats;

static void
count_buffer (GstElement * sink, GstBuffer * buf, GstPad * pad,
    gpointer user_data)
{
  FlowStats *stats = user_data;

  stats->buffers++;
  if (gst_is_px_arena_memory (gst_buffer_peek_memory (buf, 0)))
    stats->arena_buffers++;
  if (stats->buffers % 10000 == 0)
    stats->max_fds = MAX (stats->max_fds, px_test_count_fds ());
}

GST_START_TEST (test_fd_budget_100000_buffers_with_32_fds)
{
  GstElement *pipeline, *sink;
  GstPad *pad;
  GstMessage *msg;
  FlowStats stats = { 0, 0, 0 };
  struct rlimit old;

  pipeline = gst_parse_launch ("videotestsrc num-buffers=100000 "
      "pattern=ball ! video/x-raw,format=I420,width=32,height=32 ! "
      "fakesink name=sink signal-handoffs=true sync=false", NULL);
  fail_unless (pipeline != NULL);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, propose_pool,
      NULL, NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (count_buffer), &stats);

  /* With one memfd per buffer this could not get past 32 buffers. */
  fail_unless (px_test_count_fds () < 24);
  old = px_test_limit_fds (32);
  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_ASYNC);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
      GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  setrlimit (RLIMIT_NOFILE, &old);

  fail_unless_equals_uint64 (stats.buffers, 100000);
  fail_unless_equals_uint64 (stats.arena_buffers, 100000);
  fail_unless (stats.max_fds <= 32);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* Arenas as a peer grants them: counted. */
static int
granted_arena (gsize slot_size, guint slot_count, PxArena ** out,
    gpointer user_data)
{
  guint *grants = user_data;

  (*grants)++;
  return px_arena_new ("test-granted", slot_size, slot_count, out);
}

GST_START_TEST (test_peer_arena_is_not_traded_for_padding)
{
  GstCaps *caps = video_caps (320, 180);
  GstBufferPool *pool = gst_px_arena_pool_new ();
  GstStructure *config;
  GstVideoAlignment align;
  GstVideoInfo info;
  guint grants = 0;

  gst_video_info_from_caps (&info, caps);
  gst_px_arena_pool_set_arena_func (pool, granted_arena, &grants, NULL);
  config = gst_buffer_pool_get_config (pool);
  /* Room for a few more rows than the frame has. */
  gst_buffer_pool_config_set_params (config, caps, info.size + 4096, 1, 4);
  gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  fail_unless (gst_buffer_pool_set_config (pool, config));
  fail_unless_equals_int (grants, 1);

  /* Padded frames that need larger slots would cost a second arena of the
   * peer's budget: refused, the granted arena kept. */
  decoder_alignment (&align);
  fail_if (set_aligned_config (pool, caps, &align, 0));
  fail_unless_equals_int (grants, 1);
  fail_unless (gst_px_arena_pool_get_arena (pool) != NULL);
  /* Padding that fits the granted slots is taken. */
  gst_video_alignment_reset (&align);
  align.padding_bottom = 2;
  fail_unless (set_aligned_config (pool, caps, &align, 0));
  fail_unless_equals_int (grants, 1);
  gst_object_unref (pool);

  /* A pool's first arena may be padded. */
  grants = 0;
  pool = gst_px_arena_pool_new ();
  gst_px_arena_pool_set_arena_func (pool, granted_arena, &grants, NULL);
  decoder_alignment (&align);
  fail_unless (set_aligned_config (pool, caps, &align, 0));
  fail_unless_equals_int (grants, 1);
  gst_object_unref (pool);
  gst_caps_unref (caps);
}

GST_END_TEST;

/* ---- copies ----------------------------------------------------------- */

/* A buffer of the pool mapped for reading and writing by someone who also
 * keeps a reference, as avdec keeps the frames libav still decodes from:
 * making it writable must copy its memory. */
static GstBuffer *
copy_of_mapped_buffer (GstBuffer * buf, GstMapInfo * held)
{
  fail_unless (gst_buffer_map (buf, held, GST_MAP_READWRITE));
  memset (held->data, 0xa5, held->size);
  return gst_buffer_make_writable (gst_buffer_ref (buf));
}

GST_START_TEST (test_copy_of_pool_memory_stays_in_the_arena)
{
  GstBufferPool *pool = configured_pool (NULL, 4096, 1, 3, FALSE);
  PxArena *arena = gst_px_arena_pool_get_arena (pool), *owner;
  GstBufferPoolAcquireParams dontwait = {.flags =
        GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT
  };
  GstBuffer *buf, *copy, *more[2];
  guint32 slot, copy_slot;
  GstMapInfo held, map;

  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &buf, NULL),
      GST_FLOW_OK);
  copy = copy_of_mapped_buffer (buf, &held);
  fail_if (copy == buf);
  fail_unless (gst_px_arena_memory_get_slot (gst_buffer_peek_memory (buf, 0),
          NULL, &slot, NULL));
  fail_unless (gst_px_arena_memory_get_slot (gst_buffer_peek_memory (copy,
              0), &owner, &copy_slot, NULL));
  fail_unless (owner == arena);
  fail_if (copy_slot == slot);
  fail_unless_equals_int (gst_buffer_get_size (copy), 4096);
  /* A copy is the caller's to write. */
  fail_unless (gst_buffer_map (copy, &map, GST_MAP_WRITE));
  fail_unless_equals_int (map.data[0], 0xa5);
  fail_unless_equals_int (map.data[4095], 0xa5);
  map.data[0] = 0;
  gst_buffer_unmap (copy, &map);
  fail_unless_equals_int (held.data[0], 0xa5);

  /* The copy holds one of the pool's buffers: one is left. */
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &more[0],
          &dontwait), GST_FLOW_OK);
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &more[1],
          &dontwait), GST_FLOW_EOS);
  /* Freeing the copy gives it back. */
  gst_buffer_unref (copy);
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &more[1],
          &dontwait), GST_FLOW_OK);

  gst_buffer_unmap (buf, &held);
  gst_buffer_unref (buf);
  gst_buffer_unref (more[0]);
  gst_buffer_unref (more[1]);
  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  fail_unless_equals_int (px_arena_slots_in_use (arena), 0);
  gst_object_unref (pool);
}

GST_END_TEST;

GST_START_TEST (test_copy_without_a_spare_buffer_goes_to_system_memory)
{
  GstBufferPool *pool = configured_pool (NULL, 4096, 1, 1, FALSE);
  GstBuffer *buf, *copy;
  GstMapInfo held, map;

  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &buf, NULL),
      GST_FLOW_OK);
  /* The only buffer is out: the copy cannot wait for it. */
  copy = copy_of_mapped_buffer (buf, &held);
  fail_if (gst_is_px_arena_memory (gst_buffer_peek_memory (copy, 0)));
  fail_unless (gst_buffer_map (copy, &map, GST_MAP_READ));
  fail_unless_equals_int (map.size, 4096);
  fail_unless_equals_int (map.data[4095], 0xa5);
  gst_buffer_unmap (copy, &map);
  gst_buffer_unref (copy);
  gst_buffer_unmap (buf, &held);
  gst_buffer_unref (buf);
  gst_buffer_pool_set_active (pool, FALSE);
  gst_object_unref (pool);
}

GST_END_TEST;

typedef struct
{
  guint emitted;
  GstBuffer *give_back;         /* released by the handler */
} Starved;

static void
on_starved (GstBufferPool * pool, Starved * starved)
{
  starved->emitted++;
  gst_clear_buffer (&starved->give_back);
}

/* "starved" comes before an acquire would wait, in its thread, and a
 * handler that releases a buffer lets that acquire go on; an acquire that
 * does not wait (DONTWAIT, a copy's) does not emit it. */
GST_START_TEST (test_starved_before_an_acquire_waits)
{
  GstBufferPool *pool = configured_pool (NULL, 4096, 2, 2, FALSE);
  GstBufferPoolAcquireParams dontwait = {
    .flags = GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT
  };
  Starved starved = { 0, NULL };
  GstBuffer *a, *b, *c = NULL;

  g_signal_connect (pool, "starved", G_CALLBACK (on_starved), &starved);
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &a, NULL),
      GST_FLOW_OK);
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &b, NULL),
      GST_FLOW_OK);
  fail_unless_equals_int (starved.emitted, 0);
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &c,
          &dontwait), GST_FLOW_EOS);
  fail_unless_equals_int (starved.emitted, 0);

  starved.give_back = b;
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &c, NULL),
      GST_FLOW_OK);
  fail_unless_equals_int (starved.emitted, 1);
  fail_unless (starved.give_back == NULL);
  gst_buffer_unref (c);
  gst_buffer_unref (a);
  gst_buffer_pool_set_active (pool, FALSE);
  gst_object_unref (pool);
}

GST_END_TEST;

/* ---- a decoder writes into the arena ---------------------------------- */

#define DECODE_FRAMES 12
/* What ipcsink proposes with its default max-in-flight (twice that, and
 * 4); avdec takes no pool that holds fewer than 32 buffers. */
#define DECODE_SLOTS 36

typedef struct
{
  gboolean propose;
  /* The pool proposed last (the decoder may ask again). */
  GstBufferPool *pool;
  GPtrArray *checksums;
  guint arena_frames;
  guint padded_frames;
} Decoded;

static GstPadProbeReturn
propose_pool_for_decoder (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  Decoded *decoded = user_data;
  GstStructure *config;
  GstCaps *caps;
  GstVideoInfo vinfo;

  if (GST_QUERY_TYPE (query) != GST_QUERY_ALLOCATION || !decoded->propose)
    return GST_PAD_PROBE_OK;
  gst_query_parse_allocation (query, &caps, NULL);
  fail_unless (gst_video_info_from_caps (&vinfo, caps));
  g_clear_object (&decoded->pool);
  decoded->pool = gst_px_arena_pool_new ();
  config = gst_buffer_pool_get_config (decoded->pool);
  gst_buffer_pool_config_set_params (config, caps, vinfo.size, 2, DECODE_SLOTS);
  gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  fail_unless (gst_buffer_pool_set_config (decoded->pool, config));
  gst_query_add_allocation_pool (query, decoded->pool, vinfo.size, 2,
      DECODE_SLOTS);
  gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  return GST_PAD_PROBE_HANDLED;
}

/* The visible pixels of a frame, whatever its padding. */
static gchar *
frame_checksum (GstBuffer * buf, GstPad * pad)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  GstVideoFrame frame;
  GstVideoInfo info;
  gchar *result;

  fail_unless (gst_video_info_from_caps (&info, caps));
  fail_unless_equals_int (GST_VIDEO_INFO_FORMAT (&info), GST_VIDEO_FORMAT_I420);
  fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_READ));
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES (&frame); p++) {
    const guint8 *row = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);

    for (gint y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT (&frame, p); y++) {
      g_checksum_update (sum, row, GST_VIDEO_FRAME_COMP_WIDTH (&frame, p));
      row += GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);
    }
  }
  gst_video_frame_unmap (&frame);
  result = g_strdup (g_checksum_get_string (sum));
  g_checksum_free (sum);
  gst_caps_unref (caps);
  return result;
}

static void
decoded_frame (GstElement * sink, GstBuffer * buf, GstPad * pad,
    gpointer user_data)
{
  Decoded *decoded = user_data;
  GstMemory *mem = gst_buffer_peek_memory (buf, 0);
  GstVideoMeta *meta = gst_buffer_get_video_meta (buf);
  PxArena *arena;

  g_ptr_array_add (decoded->checksums, frame_checksum (buf, pad));
  if (decoded->pool != NULL && gst_buffer_n_memory (buf) == 1 &&
      GST_IS_PX_ARENA_ALLOCATOR (mem->allocator) &&
      gst_px_arena_memory_get_slot (mem, &arena, NULL, NULL) &&
      arena == gst_px_arena_pool_get_arena (decoded->pool))
    decoded->arena_frames++;
  /* The layout the decoder asked the pool for, padding included. */
  if (meta != NULL && meta->alignment.padding_bottom > 0)
    decoded->padded_frames++;
}

/* 320x180: libav decodes 16x16 macroblocks and wants its picture padded
 * to 192 rows and more. */
static void
decode (Decoded * decoded, gboolean propose)
{
  GstElement *pipeline, *sink;
  GstMessage *msg;
  GstPad *pad;

  decoded->propose = propose;
  decoded->pool = NULL;
  decoded->checksums = g_ptr_array_new_with_free_func (g_free);
  decoded->arena_frames = decoded->padded_frames = 0;
  pipeline = gst_parse_launch ("videotestsrc num-buffers="
      G_STRINGIFY (DECODE_FRAMES) " pattern=ball ! "
      "video/x-raw,format=I420,width=320,height=180,framerate=30/1 ! "
      "x264enc speed-preset=ultrafast ! h264parse ! avdec_h264 ! "
      "fakesink name=sink signal-handoffs=true sync=false", NULL);
  fail_unless (pipeline != NULL);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM,
      propose_pool_for_decoder, decoded, NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (decoded_frame), decoded);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
      GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

static void
decoded_clear (Decoded * decoded)
{
  g_clear_object (&decoded->pool);
  g_ptr_array_unref (decoded->checksums);
}

/* avdec_h264 decodes straight into a proposed arena pool only if the pool
 * takes its GstVideoAlignment; the frames are those of its own pool. */
GST_START_TEST (test_avdec_h264_decodes_into_the_arena)
{
  Decoded arena, own;

  decode (&arena, TRUE);
  decode (&own, FALSE);
  fail_unless_equals_int (arena.checksums->len, DECODE_FRAMES);
  fail_unless_equals_int (own.checksums->len, DECODE_FRAMES);
  fail_unless_equals_int (arena.arena_frames, DECODE_FRAMES);
  fail_unless_equals_int (arena.padded_frames, DECODE_FRAMES);
  for (guint i = 0; i < DECODE_FRAMES; i++)
    fail_unless_equals_string (g_ptr_array_index (arena.checksums, i),
        g_ptr_array_index (own.checksums, i));
  decoded_clear (&arena);
  decoded_clear (&own);
}

GST_END_TEST;

static gboolean
have_elements (const gchar * const *names)
{
  for (; *names; names++) {
    GstElementFactory *factory = gst_element_factory_find (*names);

    if (factory == NULL) {
      g_printerr ("%s is missing: its tests are skipped\n", *names);
      return FALSE;
    }
    gst_object_unref (factory);
  }
  return TRUE;
}

static Suite *
arena_pool_suite (void)
{
  Suite *s = suite_create ("arena_pool");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_pool_buffers_live_in_one_arena);
  tcase_add_test (tc, test_unlimited_config_gets_a_maximum);
  tcase_add_test (tc, test_video_meta_option);
  tcase_add_test (tc, test_video_alignment_option_is_applied_to_the_config);
  tcase_add_test (tc, test_aligned_buffers_carry_the_padded_layout);
  tcase_add_test (tc, test_alignment_beyond_a_page_is_refused);
  tcase_add_test (tc, test_peer_arena_is_not_traded_for_padding);
  tcase_add_test (tc, test_copy_of_pool_memory_stays_in_the_arena);
  tcase_add_test (tc, test_copy_without_a_spare_buffer_goes_to_system_memory);
  tcase_add_test (tc, test_starved_before_an_acquire_waits);
  tcase_add_test (tc, test_bad_configuration_is_refused);
  tcase_add_test (tc, test_fd_budget_100000_buffers_with_32_fds);
  {
    static const gchar *const decoder[] = { "x264enc", "avdec_h264", NULL };

    if (have_elements (decoder))
      tcase_add_test (tc, test_avdec_h264_decodes_into_the_arena);
  }
  return s;
}

GST_CHECK_MAIN (arena_pool);
