/* Parallax — arena-backed buffers flowing through a real pipeline.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs videotestsrc ! fakesink twice at 720p: once with an arena pool
 * proposed to videotestsrc through the ALLOCATION query (what ipcsink does),
 * once with a pool of one memfd per buffer ("pxmemfd"). It counts the memfds
 * the buffers lived in and the fds the process held, and how many bytes were
 * written straight into shareable memory (bytes a shared-memory transport
 * would otherwise have to copy).
 */
#include <gst/gst.h>
#include <gst/allocators/allocators.h>
#include <gst/video/video.h>

#include <sys/stat.h>

#include "gstpxarenaallocator.h"
#include "gstpxarenapool.h"
#include "gstpxmemfdallocator.h"

#define N_BUFFERS 600

typedef struct
{
  gboolean use_arena;
  guint64 buffers;
  guint64 shareable_buffers;
  guint64 shareable_bytes;
  GHashTable *inodes;           /* distinct memfds seen */
  gint peak_fds;
} Run;

static gint
count_fds (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  gint n = 0;

  if (dir == NULL)
    return -1;
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);
  return n;
}

static GstBufferPool *
make_pool (Run * run, GstCaps * caps, guint size)
{
  GstBufferPool *pool;
  GstStructure *config;

  pool = run->use_arena ? gst_px_arena_pool_new () : gst_buffer_pool_new ();
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, size, 4, 8);
  if (!run->use_arena) {
    GstAllocator *memfd = gst_px_memfd_allocator_new ();

    gst_buffer_pool_config_set_allocator (config, memfd, NULL);
    gst_object_unref (memfd);
  }
  if (!gst_buffer_pool_set_config (pool, config))
    g_error ("cannot configure the pool");
  return pool;
}

static GstPadProbeReturn
answer_allocation (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  GstBufferPool *pool;
  GstVideoInfo vinfo;
  GstCaps *caps;

  if (GST_QUERY_TYPE (query) != GST_QUERY_ALLOCATION)
    return GST_PAD_PROBE_OK;
  gst_query_parse_allocation (query, &caps, NULL);
  if (caps == NULL || !gst_video_info_from_caps (&vinfo, caps))
    return GST_PAD_PROBE_OK;
  pool = make_pool (user_data, caps, vinfo.size);
  gst_query_add_allocation_pool (query, pool, vinfo.size, 4, 8);
  /* Upstream configures the pool with the allocator it is offered. */
  if (!((Run *) user_data)->use_arena) {
    GstAllocator *memfd = gst_px_memfd_allocator_new ();

    gst_query_add_allocation_param (query, memfd, NULL);
    gst_object_unref (memfd);
  }
  gst_object_unref (pool);
  return GST_PAD_PROBE_HANDLED;
}

static void
on_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad, gpointer data)
{
  Run *run = data;
  GstMemory *mem = gst_buffer_peek_memory (buf, 0);

  run->buffers++;
  if (gst_is_fd_memory (mem)) {
    struct stat st;

    run->shareable_buffers++;
    run->shareable_bytes += gst_buffer_get_size (buf);
    if (fstat (gst_fd_memory_get_fd (mem), &st) == 0)
      g_hash_table_add (run->inodes, GUINT_TO_POINTER (st.st_ino));
  }
  if (run->buffers % 50 == 0)
    run->peak_fds = MAX (run->peak_fds, count_fds ());
}

static void
run_pipeline (Run * run)
{
  GstElement *pipeline, *sink;
  GstPad *pad;
  GstMessage *msg;

  pipeline = gst_parse_launch ("videotestsrc num-buffers=" G_STRINGIFY
      (N_BUFFERS) " pattern=smpte ! video/x-raw,format=I420,width=1280,"
      "height=720 ! fakesink name=sink sync=false signal-handoffs=true", NULL);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM,
      answer_allocation, run, NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), run);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
      GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    g_error ("pipeline failed");
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

static void
report (const char *label, Run * run, gint fds_before)
{
  g_print ("  %-28s %6" G_GUINT64_FORMAT " buffers, %6" G_GUINT64_FORMAT
      " in shareable memory, %2u memfds, +%d fds at peak\n", label,
      run->buffers, run->shareable_buffers,
      g_hash_table_size (run->inodes), run->peak_fds - fds_before);
}

int
main (int argc, char **argv)
{
  Run arena = { TRUE, 0, 0, 0, NULL, 0 };
  Run memfd = { FALSE, 0, 0, 0, NULL, 0 };
  gint fds_before;

  gst_init (&argc, &argv);
  arena.inodes = g_hash_table_new (NULL, NULL);
  memfd.inodes = g_hash_table_new (NULL, NULL);

  g_print ("Parallax arena demo: videotestsrc (720p I420) ! fakesink, %d "
      "buffers\n", N_BUFFERS);
  fds_before = count_fds ();
  run_pipeline (&arena);
  run_pipeline (&memfd);
  report ("arena pool (one memfd):", &arena, fds_before);
  report ("pxmemfd pool (memfd each):", &memfd, fds_before);

  g_print ("\nvideotestsrc wrote %.1f MB straight into shareable memory: "
      "0 copies needed to hand them to another process.\n",
      arena.shareable_bytes / 1e6);
  g_print ("The arena pool needed %u fd where one memfd per buffer needed "
      "%u.\n", g_hash_table_size (arena.inodes),
      g_hash_table_size (memfd.inodes));

  g_hash_table_unref (arena.inodes);
  g_hash_table_unref (memfd.inodes);
  return arena.shareable_buffers == N_BUFFERS ? 0 : 1;
}
