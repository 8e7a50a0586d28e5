/* Parallax — ipcsink request-arenas: the consumer makes the producer's
 * arenas (gst-plugin/ipc/gstipcarenarequest.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both ends run in this process, joined by a socket pair, as a sandboxed
 * worker's output and the host's ipcsrc are. The consumer's arenas are
 * memfds named "parallax-granted"; a producer that made its own would hold
 * "parallax-pool" ones. Several consumers may share one budget as well
 * (gst-plugin/ipc/gstipcsharedbudget.h), as a worker's outputs do.
 */
#include <gst/check/gstcheck.h>

#include <sys/socket.h>
#include <unistd.h>

#include "gstipcsharedbudget.h"
#include "px-test-util.h"

#define WAIT_US (10 * G_TIME_SPAN_SECOND)
/* One arena of the 64x48 I420 stream below (36 slots of 4608 bytes, each
 * rounded up to 8192: 288 KiB) fits in it; two do not. */
#define SHARED_LIMIT (512 * 1024)
#define SMALL_VIDEO "videotestsrc num-buffers=5 ! " \
    "video/x-raw,format=I420,width=64,height=48"

typedef struct
{
  GstElement *producer;
  GstElement *consumer;
  int sockets[2];
  guint buffers;
} Link;

static void
count_buffer (GstElement * sink, GstBuffer * buffer, GstPad * pad,
    gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
}

/* "@source ! ipcsink request-arenas=true" into "ipcsrc arena-budget=@budget
 * ! fakesink", the ipcsrc sharing @shared if not NULL. */
static void
link_start_shared (Link * link, guint64 budget, GstPxArenaBudget * shared,
    const gchar * source)
{
  gchar *consumer, *producer;
  GstElement *sink, *src;

  memset (link, 0, sizeof *link);
  fail_unless (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
          link->sockets) == 0);
  consumer = g_strdup_printf ("ipcsrc name=src fd=%d is-live=false "
      "arena-budget=%"
      G_GUINT64_FORMAT " ! fakesink name=sink signal-handoffs=true "
      "sync=false", link->sockets[1], budget);
  producer = g_strdup_printf ("%s ! ipcsink fd=%d request-arenas=true",
      source, link->sockets[0]);
  link->consumer = gst_parse_launch (consumer, NULL);
  link->producer = gst_parse_launch (producer, NULL);
  fail_unless (link->consumer != NULL && link->producer != NULL);
  sink = gst_bin_get_by_name (GST_BIN (link->consumer), "sink");
  g_signal_connect (sink, "handoff", G_CALLBACK (count_buffer), &link->buffers);
  gst_object_unref (sink);
  src = gst_bin_get_by_name (GST_BIN (link->consumer), "src");
  gst_ipc_src_set_shared_budget (src, shared);
  gst_object_unref (src);
  fail_unless (gst_element_set_state (link->consumer, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless (gst_element_set_state (link->producer, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  g_free (consumer);
  g_free (producer);
}

static void
link_start (Link * link, guint64 budget, const gchar * source)
{
  link_start_shared (link, budget, NULL, source);
}

static void
link_stop (Link * link)
{
  gst_element_set_state (link->producer, GST_STATE_NULL);
  gst_element_set_state (link->consumer, GST_STATE_NULL);
  gst_object_unref (link->producer);
  gst_object_unref (link->consumer);
  close (link->sockets[0]);
  close (link->sockets[1]);
}

/* The first message of @types on @pipeline's bus (unref it), or NULL. */
static GstMessage *
wait_message (GstElement * pipeline, GstMessageType types)
{
  return gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
      WAIT_US * 1000, types);
}

/* How many of this process's fds are memfds named @name. */
static guint
count_memfds (const gchar * name)
{
  gchar *wanted = g_strdup_printf ("/memfd:%s", name);
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const gchar *fd;
  guint n = 0;

  fail_unless (dir != NULL);
  while ((fd = g_dir_read_name (dir)) != NULL) {
    gchar *path = g_strdup_printf ("/proc/self/fd/%s", fd);
    gchar *target = g_file_read_link (path, NULL);

    n += target != NULL && g_str_has_prefix (target, wanted);
    g_free (target);
    g_free (path);
  }
  g_dir_close (dir);
  g_free (wanted);
  return n;
}

GST_START_TEST (test_requested_arenas_carry_the_stream)
{
  int fds = px_test_count_fds ();
  GstMessage *msg;
  Link link;

  link_start (&link, 64 << 20, "videotestsrc num-buffers=5 ! "
      "video/x-raw,format=I420,width=64,height=48");
  msg = wait_message (link.consumer, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "no EOS");
  gst_message_unref (msg);
  fail_unless_equals_int (g_atomic_int_get (&link.buffers), 5);
  /* the producer's pool is the consumer's arena, and it made none */
  fail_unless (count_memfds ("parallax-granted") > 0);
  fail_unless_equals_int (count_memfds ("parallax-pool"), 0);
  link_stop (&link);
  fail_unless_equals_int (px_test_count_fds (), fds);
}

GST_END_TEST;

/* Audio gets no pool proposed: every buffer is copied into the sink's
 * copy pool, whose arena comes from the consumer too. */
GST_START_TEST (test_copies_go_to_requested_arenas)
{
  GstMessage *msg;
  Link link;

  link_start (&link, 64 << 20, "audiotestsrc num-buffers=5");
  msg = wait_message (link.consumer, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "no EOS");
  gst_message_unref (msg);
  fail_unless_equals_int (g_atomic_int_get (&link.buffers), 5);
  fail_unless (count_memfds ("parallax-granted") > 0);
  fail_unless_equals_int (count_memfds ("parallax-pool"), 0);
  link_stop (&link);
}

GST_END_TEST;

/* A request over the budget is refused: the consumer warns, the producer
 * fails with the reason, and nothing is sent. */
GST_START_TEST (test_request_over_budget_refused)
{
  GError *error = NULL;
  GstMessage *msg;
  Link link;

  link_start (&link, 4096, "videotestsrc num-buffers=5 ! "
      "video/x-raw,format=I420,width=64,height=48");
  msg = wait_message (link.producer, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "the producer posted no error");
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (strstr (error->message, "over the arena budget"), "%s",
      error->message);
  g_error_free (error);
  gst_message_unref (msg);
  msg = wait_message (link.consumer, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "the consumer posted no warning");
  gst_message_parse_warning (msg, &error, NULL);
  fail_unless (strstr (error->message, "Refused the producer an arena"),
      "%s", error->message);
  g_error_free (error);
  gst_message_unref (msg);
  fail_unless_equals_int (g_atomic_int_get (&link.buffers), 0);
  link_stop (&link);
}

GST_END_TEST;

/* The message of the first error (or, with @warning, warning) on
 * @pipeline's bus; g_free() it. */
static gchar *
wait_problem (GstElement * pipeline, gboolean warning)
{
  GstMessage *msg = wait_message (pipeline, warning ? GST_MESSAGE_WARNING :
      GST_MESSAGE_ERROR);
  GError *error = NULL;
  gchar *text;

  fail_unless (msg != NULL, "no %s", warning ? "warning" : "error");
  if (warning)
    gst_message_parse_warning (msg, &error, NULL);
  else
    gst_message_parse_error (msg, &error, NULL);
  text = g_strdup (error->message);
  g_error_free (error);
  gst_message_unref (msg);
  return text;
}

/* The bytes in use in @budget, once they have gone down to @expected
 * (a session gives its arenas back as its last buffer goes). */
static guint64
wait_in_use (GstPxArenaBudget * budget, guint64 expected)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_US;

  while (gst_px_arena_budget_get_in_use (budget) != expected &&
      g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  return gst_px_arena_budget_get_in_use (budget);
}

/* Two consumers sharing a budget: the second producer's arena would fit
 * in its consumer's own budget, and alone in the shared one, but not next
 * to the first's. Refused as over any budget: the consumer warns with the
 * shared budget's figures, the producer fails with them. */
GST_START_TEST (test_shared_budget_refuses_past_its_limit)
{
  GstPxArenaBudget *shared = gst_px_arena_budget_new (SHARED_LIMIT);
  gchar *text, *figures;
  GstMessage *msg;
  guint64 granted;
  Link a, b;

  link_start_shared (&a, 64 << 20, shared, SMALL_VIDEO);
  msg = wait_message (a.consumer, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "no EOS");
  gst_message_unref (msg);
  fail_unless_equals_int (g_atomic_int_get (&a.buffers), 5);
  granted = gst_px_arena_budget_get_in_use (shared);
  fail_unless (granted > SHARED_LIMIT / 2 && granted <= SHARED_LIMIT,
      "%" G_GUINT64_FORMAT " bytes granted", granted);

  link_start_shared (&b, 64 << 20, shared, SMALL_VIDEO);
  figures = g_strdup_printf ("(%" G_GUINT64_FORMAT " of %d bytes granted to "
      "all the connections that share it)", granted, SHARED_LIMIT);
  text = wait_problem (b.producer, FALSE);
  fail_unless (strstr (text, "over the shared arena budget") &&
      strstr (text, figures), "%s", text);
  g_free (text);
  text = wait_problem (b.consumer, TRUE);
  fail_unless (strstr (text, "Refused the producer an arena") &&
      strstr (text, figures), "%s", text);
  g_free (text);
  g_free (figures);
  fail_unless_equals_int (g_atomic_int_get (&b.buffers), 0);
  /* the refusal took nothing */
  fail_unless_equals_uint64 (gst_px_arena_budget_get_in_use (shared), granted);

  link_stop (&b);
  link_stop (&a);
  gst_px_arena_budget_unref (shared);
}

GST_END_TEST;

/* When a consumer's session ends, its arenas go back to the shared budget:
 * the next consumer gets its arena where it was refused before. */
GST_START_TEST (test_shared_budget_returns_with_the_session)
{
  GstPxArenaBudget *shared = gst_px_arena_budget_new (SHARED_LIMIT);
  GstMessage *msg;
  gchar *text;
  Link a, b;

  link_start_shared (&a, 64 << 20, shared, SMALL_VIDEO);
  msg = wait_message (a.consumer, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "no EOS");
  gst_message_unref (msg);
  link_start_shared (&b, 64 << 20, shared, SMALL_VIDEO);
  text = wait_problem (b.producer, FALSE);
  fail_unless (strstr (text, "over the shared arena budget"), "%s", text);
  g_free (text);
  link_stop (&b);

  /* Only a's session holds any: ending it gives all of it back. */
  link_stop (&a);
  fail_unless_equals_uint64 (wait_in_use (shared, 0), 0);

  link_start_shared (&b, 64 << 20, shared, SMALL_VIDEO);
  msg = wait_message (b.consumer, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "no EOS");
  gst_message_unref (msg);
  fail_unless_equals_int (g_atomic_int_get (&b.buffers), 5);
  fail_unless (gst_px_arena_budget_get_in_use (shared) > 0);
  link_stop (&b);
  fail_unless_equals_uint64 (wait_in_use (shared, 0), 0);
  gst_px_arena_budget_unref (shared);
}

GST_END_TEST;

/* ---- the budget on its own --------------------------------------------- */

GST_START_TEST (test_budget_reserves_up_to_its_limit)
{
  GstPxArenaBudget *budget = gst_px_arena_budget_new (100);
  guint64 in_use = 0;

  fail_unless_equals_uint64 (gst_px_arena_budget_get_limit (budget), 100);
  fail_unless (gst_px_arena_budget_reserve (budget, 60, &in_use));
  fail_unless_equals_uint64 (in_use, 0);
  fail_if (gst_px_arena_budget_reserve (budget, 41, &in_use));
  fail_unless_equals_uint64 (in_use, 60);
  fail_unless (gst_px_arena_budget_reserve (budget, 40, NULL));
  fail_unless_equals_uint64 (gst_px_arena_budget_get_in_use (budget), 100);
  fail_if (gst_px_arena_budget_reserve (budget, 1, NULL));
  fail_unless (gst_px_arena_budget_reserve (budget, 0, NULL));

  /* what is given back is room again */
  gst_px_arena_budget_release (budget, 60);
  fail_unless_equals_uint64 (gst_px_arena_budget_get_in_use (budget), 40);
  fail_unless (gst_px_arena_budget_reserve (budget, 60, NULL));
  fail_if (gst_px_arena_budget_reserve (budget, 1, NULL));
  gst_px_arena_budget_release (budget, 100);
  fail_unless_equals_uint64 (gst_px_arena_budget_get_in_use (budget), 0);

  fail_unless (gst_px_arena_budget_ref (budget) == budget);
  gst_px_arena_budget_unref (budget);
  gst_px_arena_budget_unref (budget);
}

GST_END_TEST;

/* A peer's size may be anything: none that would wrap the sum around
 * fits. */
GST_START_TEST (test_budget_refuses_huge_sizes)
{
  GstPxArenaBudget *budget = gst_px_arena_budget_new (100);
  GstPxArenaBudget *unlimited = gst_px_arena_budget_new (G_MAXUINT64);

  fail_unless (gst_px_arena_budget_reserve (budget, 10, NULL));
  fail_if (gst_px_arena_budget_reserve (budget, G_MAXUINT64, NULL));
  /* 10 + this is 4, modulo 2^64 */
  fail_if (gst_px_arena_budget_reserve (budget, G_MAXUINT64 - 5, NULL));
  fail_if (gst_px_arena_budget_reserve (budget, G_MAXUINT64 - 9, NULL));
  fail_unless_equals_uint64 (gst_px_arena_budget_get_in_use (budget), 10);

  fail_unless (gst_px_arena_budget_reserve (unlimited, G_MAXUINT64 - 1, NULL));
  fail_if (gst_px_arena_budget_reserve (unlimited, 2, NULL));
  fail_if (gst_px_arena_budget_reserve (unlimited, G_MAXUINT64, NULL));
  fail_unless (gst_px_arena_budget_reserve (unlimited, 1, NULL));
  fail_unless_equals_uint64 (gst_px_arena_budget_get_in_use (unlimited),
      G_MAXUINT64);
  gst_px_arena_budget_unref (unlimited);
  gst_px_arena_budget_unref (budget);
}

GST_END_TEST;

static Suite *
arena_request_suite (void)
{
  Suite *s = suite_create ("arena_request");
  TCase *tc = tcase_create ("general");
  TCase *budget = tcase_create ("budget");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_requested_arenas_carry_the_stream);
  tcase_add_test (tc, test_copies_go_to_requested_arenas);
  tcase_add_test (tc, test_request_over_budget_refused);
  tcase_add_test (tc, test_shared_budget_refuses_past_its_limit);
  tcase_add_test (tc, test_shared_budget_returns_with_the_session);
  suite_add_tcase (s, budget);
  tcase_add_test (budget, test_budget_reserves_up_to_its_limit);
  tcase_add_test (budget, test_budget_refuses_huge_sizes);
  return s;
}

GST_CHECK_MAIN (arena_request);
