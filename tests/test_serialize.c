/* Parallax — unit tests for the text form of events, queries and messages.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every event and query type that crosses processes goes through
 * serialize -> deserialize and comes back equal; hostile text (too deep,
 * too many new names, types whose text cannot be checked, malformed) is
 * refused with GST_PX_ERROR_PROTOCOL before GStreamer's parser sees it.
 */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include <stdio.h>
#include <string.h>

#include "gstpxserialize.h"
#include "gstpxworker.h"

static GstPxPeerBudget budget;

static void
setup (void)
{
  gst_px_peer_budget_init (&budget);
  /* The structure name of the test bodies, so that only the names a test
   * makes up are new. */
  g_quark_from_static_string ("foo");
}

/* serialize -> deserialize, checked to give an event of the same type. */
static GstEvent *
event_round_trip (GstEvent * event, gboolean upstream)
{
  gchar *body = gst_px_event_serialize (event);
  GError *error = NULL;
  GstEvent *back;

  fail_unless (body != NULL, "%s does not cross", GST_EVENT_TYPE_NAME (event));
  back = gst_px_event_deserialize (GST_EVENT_TYPE (event), body, upstream,
      &budget, &error);
  fail_unless (back != NULL, "%s: %s", body, error ? error->message : "?");
  fail_unless_equals_int (GST_EVENT_TYPE (back), GST_EVENT_TYPE (event));
  g_free (body);
  return back;
}

/* The event's structure comes back field by field. */
static void
check_event_same (GstEvent * event, gboolean upstream)
{
  GstEvent *back = event_round_trip (event, upstream);
  const GstStructure *a = gst_event_get_structure (event);
  const GstStructure *b = gst_event_get_structure (back);

  if (a != NULL) {
    fail_unless (b != NULL);
    fail_unless (gst_structure_is_equal (a, b), "%" GST_PTR_FORMAT
        " != %" GST_PTR_FORMAT, a, b);
  }
  gst_event_unref (back);
  gst_event_unref (event);
}

GST_START_TEST (test_event_round_trips)
{
  GstSegment segment;
  const GstSegment *got_segment;
  GstCaps *caps = gst_caps_from_string ("video/x-raw, format=(string)I420, "
      "width=(int)320, height=(int)240, framerate=(fraction)30/1");
  GstEvent *start = gst_event_new_stream_start ("the-stream");
  GstEvent *back;
  const gchar *id;
  guint group;

  gst_event_set_group_id (start, 7);
  gst_event_set_stream_flags (start, GST_STREAM_FLAG_SPARSE);
  back = event_round_trip (start, FALSE);
  gst_event_parse_stream_start (back, &id);
  fail_unless_equals_string (id, "the-stream");
  fail_unless (gst_event_parse_group_id (back, &group));
  fail_unless_equals_int (group, 7);
  gst_event_unref (back);
  gst_event_unref (start);

  check_event_same (gst_event_new_caps (caps), FALSE);
  gst_caps_unref (caps);
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.rate = 2.0;
  segment.start = 10 * GST_SECOND;
  start = gst_event_new_segment (&segment);
  back = event_round_trip (start, FALSE);
  gst_event_parse_segment (back, &got_segment);
  fail_unless (gst_segment_is_equal (&segment, got_segment));
  gst_event_unref (back);
  gst_event_unref (start);
  check_event_same (gst_event_new_tag (gst_tag_list_new (GST_TAG_TITLE,
              "a title", GST_TAG_BITRATE, 128000, NULL)), FALSE);
  check_event_same (gst_event_new_eos (), FALSE);
  check_event_same (gst_event_new_flush_start (), FALSE);
  check_event_same (gst_event_new_flush_stop (TRUE), TRUE);
  check_event_same (gst_event_new_gap (GST_SECOND, GST_SECOND / 2), FALSE);
  check_event_same (gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
          gst_structure_new ("app/thing", "n", G_TYPE_INT, 3, "s",
              G_TYPE_STRING, "text with \"quotes\", commas; and = signs",
              NULL)), FALSE);
  check_event_same (gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM_OOB,
          gst_structure_new_empty ("app/oob")), FALSE);
  check_event_same (gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM_STICKY,
          gst_structure_new_empty ("app/sticky")), FALSE);
  check_event_same (gst_event_new_custom (GST_EVENT_CUSTOM_BOTH,
          gst_structure_new_empty ("app/both")), TRUE);
  check_event_same (gst_event_new_custom (GST_EVENT_CUSTOM_BOTH_OOB,
          gst_structure_new_empty ("app/both-oob")), FALSE);
  check_event_same (gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
          gst_structure_new ("app/up", "v", G_TYPE_DOUBLE, 0.5, NULL)), TRUE);
  check_event_same (gst_event_new_seek (1.5, GST_FORMAT_TIME,
          GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, GST_SEEK_TYPE_SET,
          GST_SECOND, GST_SEEK_TYPE_NONE, -1), TRUE);
  check_event_same (gst_event_new_qos (GST_QOS_TYPE_UNDERFLOW, 0.75,
          -GST_MSECOND, 5 * GST_SECOND), TRUE);
  check_event_same (gst_event_new_navigation (gst_structure_new
          ("application/x-gst-navigation", "event", G_TYPE_STRING,
              "mouse-move", "pointer_x", G_TYPE_DOUBLE, 1.0, NULL)), TRUE);
  check_event_same (gst_event_new_reconfigure (), TRUE);
  check_event_same (gst_event_new_latency (20 * GST_MSECOND), TRUE);
  check_event_same (gst_event_new_step (GST_FORMAT_BUFFERS, 3, 1.0, TRUE,
          FALSE), TRUE);
}

GST_END_TEST;

/* A sample (an image tag) has a base64 text the receiver cannot check:
 * it is left out, the rest of the tags cross. */
GST_START_TEST (test_tag_samples_stay_local)
{
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, 64, NULL);
  GstSample *sample = gst_sample_new (buffer, NULL, NULL, NULL);
  GstTagList *list = gst_tag_list_new (GST_TAG_TITLE, "cover", GST_TAG_IMAGE,
      sample, NULL);
  GstEvent *event = gst_event_new_tag (list);
  gchar *body = gst_px_event_serialize (event);
  GstEvent *back = event_round_trip (event, FALSE);
  GstTagList *got;
  gchar *title = NULL;

  fail_unless (strstr (body, "image") == NULL, "%s", body);
  gst_event_parse_tag (back, &got);
  fail_unless (gst_tag_list_get_string (got, GST_TAG_TITLE, &title));
  fail_unless_equals_string (title, "cover");
  fail_unless (gst_tag_list_get_value_index (got, GST_TAG_IMAGE, 0) == NULL);
  g_free (title);
  g_free (body);
  gst_event_unref (back);
  gst_event_unref (event);
  gst_sample_unref (sample);
  gst_buffer_unref (buffer);
}

GST_END_TEST;

GST_START_TEST (test_event_direction_checked)
{
  GstEvent *seek = gst_event_new_seek (1.0, GST_FORMAT_TIME, 0,
      GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_NONE, -1);
  gchar *body = gst_px_event_serialize (seek);
  GError *error = NULL;

  fail_unless (gst_px_event_deserialize (GST_EVENT_SEEK, body, FALSE,
          &budget, &error) == NULL);
  fail_unless (g_error_matches (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL));
  g_clear_error (&error);
  g_free (body);
  gst_event_unref (seek);
}

GST_END_TEST;

/* Flags are read as a number whatever its bits, and a bit the type does
 * not have cannot be written back (a GStreamer critical, when the event
 * is passed on): such a body is refused. */
GST_START_TEST (test_unknown_flag_bits_refused)
{
  GError *error = NULL;
  GstEvent *event;

  fail_unless (gst_px_event_deserialize (GST_EVENT_STREAM_START,
          "GstEventStreamStart, stream-id=(string)a/video, "
          "flags=(GstStreamFlags)8;", FALSE, &budget, &error) == NULL);
  fail_unless (error != NULL && error->domain == GST_PX_ERROR);
  g_clear_error (&error);
  event = gst_px_event_deserialize (GST_EVENT_STREAM_START,
      "GstEventStreamStart, stream-id=(string)a/video, "
      "flags=(GstStreamFlags)2;", FALSE, &budget, &error);
  fail_unless (event != NULL, "%s", error ? error->message : "?");
  gst_event_unref (event);
}

GST_END_TEST;

/* serialize -> deserialize a query, answer the copy, carry the answer
 * back into the original. */
static GstQuery *
query_round_trip (GstQuery * query)
{
  gchar *body = gst_px_query_serialize (query);
  GError *error = NULL;
  GstQuery *back;

  fail_unless (body != NULL, "%s does not cross", GST_QUERY_TYPE_NAME (query));
  back = gst_px_query_deserialize (GST_QUERY_TYPE (query), body, &budget,
      &error);
  fail_unless (back != NULL, "%s: %s", body, error ? error->message : "?");
  fail_unless_equals_int (GST_QUERY_TYPE (back), GST_QUERY_TYPE (query));
  g_free (body);
  return back;
}

static void
apply_answer (GstQuery * answered, GstQuery * query)
{
  gchar *body = gst_px_query_serialize_result (answered);
  GError *error = NULL;

  fail_unless (gst_px_query_apply_result (query, body, &budget, &error),
      "%s: %s", body, error ? error->message : "?");
  g_free (body);
}

GST_START_TEST (test_query_round_trips)
{
  GstCaps *filter = gst_caps_from_string ("video/x-raw, format=(string){ "
      "I420, NV12 }, width=(int)[ 1, 4096 ]; video/x-raw(memory:DMABuf)");
  GstCaps *answer = gst_caps_from_string ("video/x-raw, format=(string)I420");
  GstQuery *query, *back;
  GstCaps *caps;
  gboolean live, accepted, seekable;
  GstClockTime min, max;
  gint64 value, start, end;
  GstFormat format;

  query = gst_query_new_caps (filter);
  back = query_round_trip (query);
  gst_query_parse_caps (back, &caps);
  fail_unless (gst_caps_is_equal (caps, filter));
  gst_query_set_caps_result (back, answer);
  apply_answer (back, query);
  gst_query_parse_caps_result (query, &caps);
  fail_unless (gst_caps_is_equal (caps, answer));
  gst_query_unref (back);
  gst_query_unref (query);

  query = gst_query_new_caps (NULL);
  back = query_round_trip (query);
  gst_query_parse_caps (back, &caps);
  fail_unless (caps == NULL);
  gst_query_unref (back);
  gst_query_unref (query);

  query = gst_query_new_accept_caps (answer);
  back = query_round_trip (query);
  gst_query_set_accept_caps_result (back, TRUE);
  apply_answer (back, query);
  gst_query_parse_accept_caps_result (query, &accepted);
  fail_unless (accepted);
  gst_query_unref (back);
  gst_query_unref (query);

  query = gst_query_new_latency ();
  back = query_round_trip (query);
  gst_query_set_latency (back, TRUE, 10, 40);
  apply_answer (back, query);
  gst_query_parse_latency (query, &live, &min, &max);
  fail_unless (live && min == 10 && max == 40);
  gst_query_unref (back);
  gst_query_unref (query);

  query = gst_query_new_position (GST_FORMAT_TIME);
  back = query_round_trip (query);
  gst_query_set_position (back, GST_FORMAT_TIME, 42);
  apply_answer (back, query);
  gst_query_parse_position (query, &format, &value);
  fail_unless (format == GST_FORMAT_TIME && value == 42);
  gst_query_unref (back);
  gst_query_unref (query);

  query = gst_query_new_duration (GST_FORMAT_BYTES);
  back = query_round_trip (query);
  gst_query_set_duration (back, GST_FORMAT_BYTES, 1000);
  apply_answer (back, query);
  gst_query_parse_duration (query, &format, &value);
  fail_unless (format == GST_FORMAT_BYTES && value == 1000);
  gst_query_unref (back);
  gst_query_unref (query);

  query = gst_query_new_seeking (GST_FORMAT_TIME);
  back = query_round_trip (query);
  gst_query_set_seeking (back, GST_FORMAT_TIME, TRUE, 0, 99);
  apply_answer (back, query);
  gst_query_parse_seeking (query, &format, &seekable, &start, &end);
  fail_unless (seekable && start == 0 && end == 99);
  gst_query_unref (back);
  gst_query_unref (query);

  query = gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new ("app/ask", "q", G_TYPE_INT, 1, NULL));
  back = query_round_trip (query);
  gst_structure_set (gst_query_writable_structure (back), "a", G_TYPE_STRING,
      "yes", NULL);
  apply_answer (back, query);
  fail_unless_equals_string (gst_structure_get_string
      (gst_query_get_structure (query), "a"), "yes");
  gst_query_unref (back);
  gst_query_unref (query);

  gst_caps_unref (filter);
  gst_caps_unref (answer);
}

GST_END_TEST;

GST_START_TEST (test_query_type_not_crossing_is_refused)
{
  GstQuery *query = gst_query_new_allocation (NULL, FALSE);
  GError *error = NULL;

  fail_unless (gst_px_query_serialize (query) == NULL);
  fail_unless (gst_px_query_deserialize (GST_QUERY_ALLOCATION,
          "GstQueryAllocation, need-pool=(boolean)false", &budget,
          &error) == NULL);
  fail_unless (g_error_matches (error, GST_PX_ERROR, GST_PX_ERROR_REFUSED));
  g_clear_error (&error);
  gst_query_unref (query);
}

GST_END_TEST;

/* A bus message's structure, as the worker sends it. */
GST_START_TEST (test_message_structure_round_trip)
{
  GstStructure *s = gst_structure_new ("parallax/worker-message", "text",
      G_TYPE_STRING, "it broke", "code", G_TYPE_INT, 3, "domain",
      G_TYPE_STRING, "gst-stream-error-quark", NULL);
  gchar *body = gst_structure_to_string (s);
  GError *error = NULL;
  GstStructure *back = gst_px_structure_deserialize (body, &budget, &error);

  fail_unless (back != NULL, "%s", error ? error->message : "?");
  fail_unless (gst_structure_is_equal (s, back));
  gst_structure_free (back);
  gst_structure_free (s);
  g_free (body);
}

GST_END_TEST;

/* ---- what cannot cross ------------------------------------------------- */

/* A boxed value without a text form, as tsdemux's GstMpegtsSection: its
 * text is "(PxTestOpaque)NULL", which a peer refuses. */
typedef struct
{
  gint n;
} PxTestOpaque;

static GType px_test_opaque_get_type (void);

static PxTestOpaque *
px_test_opaque_copy (PxTestOpaque * opaque)
{
  return g_memdup2 (opaque, sizeof *opaque);
}

/* *INDENT-OFF* */
G_DEFINE_BOXED_TYPE (PxTestOpaque, px_test_opaque, px_test_opaque_copy,
    g_free)
/* *INDENT-ON* */

/* A structure like a demuxer's section message: an opaque value, a
 * sample, NULL caps, and fields that cross. */
static GstStructure *
mixed_structure (void)
{
  PxTestOpaque opaque = { 7 };
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, 16, NULL);
  GstSample *sample = gst_sample_new (buffer, NULL, NULL, NULL);
  GstStructure *s = gst_structure_new ("pmt", "section",
      px_test_opaque_get_type (), &opaque, "program", G_TYPE_INT, 1,
      "sample", GST_TYPE_SAMPLE, sample, "caps", GST_TYPE_CAPS, NULL,
      "name", G_TYPE_STRING, "a \"quoted\", name", NULL);

  gst_sample_unref (sample);
  gst_buffer_unref (buffer);
  return s;
}

static gboolean
has_string (GPtrArray * strings, const gchar * s)
{
  for (guint i = 0; i < strings->len; i++) {
    if (g_str_equal (g_ptr_array_index (strings, i), s))
      return TRUE;
  }
  return FALSE;
}

/* The peer would refuse the whole text: the fields it would refuse are
 * left out and named, the others cross as they are. */
GST_START_TEST (test_fields_that_do_not_cross_are_left_out)
{
  GstStructure *s = mixed_structure ();
  gchar *whole = gst_structure_to_string (s);
  GPtrArray *left_out = g_ptr_array_new_with_free_func (g_free);
  GstStructure *copy = gst_px_structure_for_peer (s, left_out);
  GError *error = NULL;
  GstStructure *back;
  gchar *body;

  fail_if (gst_px_body_check (whole, &budget, &error));
  g_clear_error (&error);
  fail_unless (copy != NULL);
  fail_unless_equals_int (left_out->len, 3);
  fail_unless (has_string (left_out, "section"));
  fail_unless (has_string (left_out, "sample"));
  fail_unless (has_string (left_out, "caps"));
  body = gst_structure_to_string (copy);
  back = gst_px_structure_deserialize (body, &budget, &error);
  fail_unless (back != NULL, "%s: %s", body, error ? error->message : "?");
  fail_unless (gst_structure_is_equal (copy, back));
  fail_unless_equals_string (gst_structure_get_name (back), "pmt");
  fail_unless_equals_int (gst_structure_n_fields (back), 2);
  fail_unless_equals_string (gst_structure_get_string (back, "name"),
      "a \"quoted\", name");
  gst_structure_free (back);
  gst_structure_free (copy);
  g_ptr_array_unref (left_out);
  g_free (body);
  g_free (whole);
  gst_structure_free (s);
}

GST_END_TEST;

/* An opaque value inside an array or a nested structure takes the whole
 * field with it, and nothing else. */
GST_START_TEST (test_nested_opaque_value_leaves_its_field_out)
{
  PxTestOpaque opaque = { 1 };
  GValue array = G_VALUE_INIT, item = G_VALUE_INIT;
  GstStructure *inner = gst_structure_new ("inner", "x",
      px_test_opaque_get_type (), &opaque, NULL);
  GstStructure *s = gst_structure_new ("outer", "inner", GST_TYPE_STRUCTURE,
      inner, "kept", G_TYPE_UINT64, G_GUINT64_CONSTANT (5), NULL);
  GPtrArray *left_out = g_ptr_array_new_with_free_func (g_free);
  GstStructure *copy;

  gst_value_array_init (&array, 2);
  g_value_init (&item, px_test_opaque_get_type ());
  g_value_set_boxed (&item, &opaque);
  gst_value_array_append_value (&array, &item);
  gst_value_array_append_value (&array, &item);
  gst_structure_take_value (s, "list", &array);
  copy = gst_px_structure_for_peer (s, left_out);
  fail_unless (copy != NULL);
  fail_unless_equals_int (left_out->len, 2);
  fail_unless (has_string (left_out, "inner"));
  fail_unless (has_string (left_out, "list"));
  fail_unless_equals_int (gst_structure_n_fields (copy), 1);
  fail_unless (gst_structure_has_field_typed (copy, "kept", G_TYPE_UINT64));
  g_value_unset (&item);
  gst_structure_free (copy);
  gst_structure_free (s);
  gst_structure_free (inner);
  g_ptr_array_unref (left_out);
}

GST_END_TEST;

/* A structure that cannot cross at all: none, and no half of it. */
GST_START_TEST (test_structure_that_cannot_cross_is_none)
{
  gchar *long_name = g_strnfill (GST_PX_NEW_NAME_MAX_LENGTH + 1, 'x');
  gchar *huge = g_strnfill (PX_WIRE_MAX_BODY, 'y');
  GstStructure *named = gst_structure_new_empty (long_name);
  GstStructure *big = gst_structure_new ("foo", "a", G_TYPE_STRING, huge,
      NULL);
  GstStructure *field = gst_structure_new ("foo", long_name, G_TYPE_INT, 1,
      NULL);
  GPtrArray *left_out = g_ptr_array_new_with_free_func (g_free);
  GstStructure *copy;

  fail_unless (gst_px_structure_for_peer (named, NULL) == NULL);
  /* A field too long on its own is left out; the rest crosses. */
  copy = gst_px_structure_for_peer (big, left_out);
  fail_unless (copy != NULL);
  fail_unless_equals_int (gst_structure_n_fields (copy), 0);
  fail_unless (has_string (left_out, "a"));
  gst_structure_free (copy);
  /* A field name the peer would refuse (were it new to the peer). */
  copy = gst_px_structure_for_peer (field, NULL);
  fail_unless (copy != NULL);
  fail_unless_equals_int (gst_structure_n_fields (copy), 0);
  gst_structure_free (copy);
  gst_structure_free (named);
  gst_structure_free (big);
  gst_structure_free (field);
  g_ptr_array_unref (left_out);
  g_free (long_name);
  g_free (huge);
}

GST_END_TEST;

/* What the worker sends for an element message with a value that cannot
 * cross: the message, its other fields, and the names of those left out;
 * the host takes it as is. */
GST_START_TEST (test_element_message_names_what_it_left_out)
{
  GstObject *src = GST_OBJECT (gst_bin_new ("demux"));
  GstMessage *message = gst_message_new_element (src, mixed_structure ());
  GstStructure *s = gst_px_worker_message_to_structure (message);
  GError *error = NULL;
  GstStructure *back;
  const GValue *names;
  gchar *body;

  fail_unless (s != NULL);
  body = gst_structure_to_string (s);
  back = gst_px_structure_deserialize (body, &budget, &error);
  fail_unless (back != NULL, "%s: %s", body, error ? error->message : "?");
  fail_unless_equals_string (gst_structure_get_name (back), "pmt");
  fail_unless (gst_structure_has_field_typed (back, "program", G_TYPE_INT));
  fail_if (gst_structure_has_field (back, "section"));
  names = gst_structure_get_value (back, GST_PX_WORKER_LEFT_OUT);
  fail_unless (names != NULL && GST_VALUE_HOLDS_ARRAY (names));
  fail_unless_equals_int (gst_value_array_get_size (names), 3);
  fail_unless_equals_string (g_value_get_string (gst_value_array_get_value
          (names, 0)), "section");
  gst_structure_free (back);
  gst_structure_free (s);
  g_free (body);
  gst_message_unref (message);
  gst_object_unref (src);
}

GST_END_TEST;

/* An element message whose fields all cross comes as it is, without a
 * note. */
GST_START_TEST (test_element_message_that_crosses_is_unchanged)
{
  GstObject *src = GST_OBJECT (gst_bin_new ("level"));
  GstStructure *fields = gst_structure_new ("level", "rms", G_TYPE_DOUBLE,
      -20.5, "endtime", G_TYPE_UINT64, GST_SECOND, NULL);
  GstMessage *message = gst_message_new_element (src,
      gst_structure_copy (fields));
  GstStructure *s = gst_px_worker_message_to_structure (message);

  fail_unless (s != NULL);
  fail_unless (gst_structure_is_equal (s, fields));
  gst_structure_free (s);
  gst_structure_free (fields);
  gst_message_unref (message);
  gst_object_unref (src);
}

GST_END_TEST;

/* An error whose debug text is longer than a MESSAGE may be still
 * reaches the host, cut short. */
GST_START_TEST (test_error_with_long_debug_still_crosses)
{
  GstObject *src = GST_OBJECT (gst_bin_new ("dec"));
  GError *error = g_error_new_literal (GST_STREAM_ERROR,
      GST_STREAM_ERROR_DECODE, "cannot decode");
  gchar *debug = g_strnfill (PX_WIRE_MAX_BODY, '\001');
  GstMessage *message = gst_message_new_error (src, error, debug);
  GstStructure *s = gst_px_worker_message_to_structure (message);
  gchar *body = gst_structure_to_string (s);
  GError *parse_error = NULL;
  GstStructure *back;
  GstMessage *rebuilt;
  GError *got = NULL;

  fail_unless (strlen (body) < PX_WIRE_MAX_BODY);
  back = gst_px_structure_deserialize (body, &budget, &parse_error);
  fail_unless (back != NULL, "%s", parse_error ? parse_error->message : "?");
  rebuilt = gst_px_worker_message_from_structure (src, GST_MESSAGE_ERROR, back);
  fail_unless (rebuilt != NULL);
  gst_message_parse_error (rebuilt, &got, NULL);
  fail_unless (g_error_matches (got, GST_STREAM_ERROR,
          GST_STREAM_ERROR_DECODE));
  fail_unless_equals_string (got->message, "cannot decode");
  g_error_free (got);
  gst_message_unref (rebuilt);
  gst_structure_free (back);
  g_free (body);
  gst_structure_free (s);
  gst_message_unref (message);
  g_free (debug);
  g_error_free (error);
  gst_object_unref (src);
}

GST_END_TEST;

/* ---- hostile text ------------------------------------------------------ */

/* "foo, b=(int)<<<...1>>>" with @depth arrays. */
static gchar *
deep_body (guint depth)
{
  GString *s = g_string_new ("foo, b=(int)");

  for (guint i = 0; i < depth; i++)
    g_string_append_c (s, '<');
  g_string_append_c (s, '1');
  for (guint i = 0; i < depth; i++)
    g_string_append_c (s, '>');
  return g_string_free (s, FALSE);
}

static void
check_refused (const gchar * body)
{
  GError *error = NULL;

  fail_if (gst_px_body_check (body, &budget, &error), "accepted '%.80s'", body);
  fail_unless (g_error_matches (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL),
      "'%.80s': %s", body, error ? error->message : "no error");
  g_clear_error (&error);
}

static void
check_accepted (const gchar * body)
{
  GError *error = NULL;

  fail_unless (gst_px_body_check (body, &budget, &error), "'%.80s': %s",
      body, error ? error->message : "?");
}

/* The body that overflowed GStreamer's parser: refused at every entry
 * point, with no crash. */
GST_START_TEST (test_deep_body_refused)
{
  gchar *body = deep_body (30000);
  GError *error = NULL;
  GstQuery *query = gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new_empty ("foo"));

  fail_unless (strlen (body) < PX_WIRE_MAX_BODY);
  check_refused (body);
  fail_unless (gst_px_query_deserialize (GST_QUERY_CUSTOM, body, &budget,
          &error) == NULL);
  fail_unless (g_error_matches (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL));
  fail_unless (strstr (error->message, "nested deeper") != NULL, "%s",
      error->message);
  g_clear_error (&error);
  fail_unless (gst_px_event_deserialize (GST_EVENT_CUSTOM_DOWNSTREAM, body,
          FALSE, &budget, &error) == NULL);
  fail_unless (g_error_matches (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL));
  g_clear_error (&error);
  fail_if (gst_px_query_apply_result (query, body, &budget, &error));
  fail_unless (g_error_matches (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL));
  g_clear_error (&error);
  fail_unless (gst_px_structure_deserialize (body, &budget, &error) == NULL);
  g_clear_error (&error);
  gst_query_unref (query);
  g_free (body);
}

GST_END_TEST;

/* The limit is where the header says, for every kind of nesting. */
GST_START_TEST (test_depth_limit_exact)
{
  gchar *ok = deep_body (GST_PX_BODY_MAX_DEPTH);
  gchar *deep = deep_body (GST_PX_BODY_MAX_DEPTH + 1);
  GString *quoted = g_string_new ("1");

  check_accepted (ok);
  check_refused (deep);
  check_refused ("foo, b=(int){{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{1}}}}}}}}}}}}"
      "}}}}}}}}}}}}}}}}}}}}}}");
  check_refused ("foo, b=(int)[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]"
      "]]]]]]]]]]]]]]]]]]]]]]");
  /* A quoted caps is one more level: its text is parsed again. */
  g_free (ok);
  g_free (deep);
  ok = deep_body (GST_PX_BODY_MAX_DEPTH - 1);
  deep = deep_body (GST_PX_BODY_MAX_DEPTH);
  g_string_printf (quoted, "bar, c=(GstCaps)\"%s\"", ok);
  check_accepted (quoted->str);
  g_string_printf (quoted, "bar, c=(GstCaps)\"%s\"", deep);
  check_refused (quoted->str);
  /* Caps in caps in caps: every level counts. */
  g_free (ok);
  ok = deep_body (GST_PX_BODY_MAX_DEPTH - 8);
  g_string_assign (quoted, ok);
  for (guint i = 0; i < 9; i++) {
    gchar *escaped = g_strescape (quoted->str, NULL);

    g_string_printf (quoted, "foo, c=(GstCaps)\"%s\"", escaped);
    g_free (escaped);
  }
  check_refused (quoted->str);
  g_string_free (quoted, TRUE);
  g_free (ok);
  g_free (deep);
}

GST_END_TEST;

GST_START_TEST (test_unseen_types_refused)
{
  /* A sample carries caps and structures in base64: not checkable. */
  check_refused ("foo, s=(GstSample)AAAA:AAAA:AAAA:AAAA");
  check_refused ("foo, s=(sample)AAAA:AAAA:AAAA:AAAA");
  check_refused ("foo, x=(NoSuchType)1");
  check_accepted ("foo, f=(GstFormat)time, d=(double)1.5, b=(boolean)true, "
      "r=(fraction)[ 1/1, 30/1 ], a=(int)< 1, 2 >, l=(string){ a, b }, "
      "i64=(gint64)-5, u64=(guint64)5, s=(string)\"x, y=(int)1\"");
}

GST_END_TEST;

GST_START_TEST (test_malformed_refused)
{
  check_refused ("foo, b=(int)<1");
  check_refused ("foo, b=\"unterminated");
  check_refused ("foo, b");
  check_refused ("foo b=1");
  check_refused ("1foo, b=1");
  check_refused ("\"not a name\", b=1");
  check_refused ("foo, b=(int)");
  check_refused ("foo, b=(int, c=1");
  check_refused ("foo, c=(GstCaps)\"video/x-raw(bad feature)\"");
  check_refused ("foo, a=1; bar, b=2");
  check_accepted ("foo, a=1;");
  check_accepted ("foo,a=1,b=(string)x");
}

GST_END_TEST;

/* "name-N" fields, @count of them, never seen before. */
static gchar *
names_body (const gchar * prefix, guint first, guint count)
{
  GString *s = g_string_new ("foo");

  for (guint i = 0; i < count; i++)
    g_string_append_printf (s, ", %s%u=(int)1", prefix, first + i);
  return g_string_free (s, FALSE);
}

GST_START_TEST (test_new_names_budget)
{
  gchar *body = names_body ("budget-name-", 0, GST_PX_PEER_NEW_NAMES + 1);
  gchar *fits = names_body ("budget-name-", 0, GST_PX_PEER_NEW_NAMES);
  gchar *more = names_body ("budget-other-", 0, 1);
  gchar *long_name = g_strnfill (GST_PX_NEW_NAME_MAX_LENGTH + 1, 'x');
  gchar *long_body = g_strdup_printf ("foo, %s=(int)1", long_name);
  GError *error = NULL;
  GstStructure *s;

  check_refused (body);
  check_refused (long_body);
  /* Refused text costs nothing; the whole budget is still there. */
  s = gst_px_structure_deserialize (fits, &budget, &error);
  fail_unless (s != NULL, "%s", error ? error->message : "?");
  fail_unless_equals_int (budget.new_names, 0);
  gst_structure_free (s);
  /* Once interned, names are free; a new one is not. */
  check_accepted (fits);
  check_refused (more);
  g_free (body);
  g_free (fits);
  g_free (more);
  g_free (long_name);
  g_free (long_body);
}

GST_END_TEST;

/* Without the checker, 100,000 names cost about 34 MB. Under
 * AddressSanitizer every allocation, freed ones in quarantine included,
 * carries redzones and shadow, so the bound there is looser. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_GROWTH_BOUND_KB (64 * 1024)
#else
#define RSS_GROWTH_BOUND_KB (20 * 1024)
#endif

static gsize
vm_rss_kb (void)
{
  gchar *status = NULL;
  const gchar *line;
  gsize kb = 0;

  fail_unless (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  fail_unless (line != NULL);
  fail_unless (sscanf (line, "VmRSS: %" G_GSIZE_FORMAT, &kb) == 1);
  g_free (status);
  return kb;
}

/* 100,000 distinct names, from a new "connection" every 250: the process
 * keeps at most GST_PX_PROCESS_NEW_NAMES of them. */
GST_START_TEST (test_distinct_names_keep_rss_bounded)
{
  gsize before, after;
  guint accepted = 0;

  before = vm_rss_kb ();
  for (guint first = 0; first < 100000; first += 250) {
    gchar *body = names_body ("rss-name-", first, 250);
    GError *error = NULL;
    GstStructure *s;

    gst_px_peer_budget_init (&budget);
    s = gst_px_structure_deserialize (body, &budget, &error);
    if (s != NULL) {
      accepted += 250;
      gst_structure_free (s);
    }
    g_clear_error (&error);
    g_free (body);
  }
  after = vm_rss_kb ();
  GST_INFO ("VmRSS %" G_GSIZE_FORMAT " kB -> %" G_GSIZE_FORMAT " kB, %u "
      "names accepted", before, after, accepted);
  fail_unless (accepted <= GST_PX_PROCESS_NEW_NAMES);
  fail_unless (after < before + RSS_GROWTH_BOUND_KB, "VmRSS grew from %"
      G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT " kB", before, after);
}

GST_END_TEST;

static Suite *
serialize_suite (void)
{
  Suite *s = suite_create ("serialize");
  TCase *round = tcase_create ("round-trip");
  TCase *local = tcase_create ("left-out");
  TCase *hostile = tcase_create ("hostile");

  suite_add_tcase (s, round);
  tcase_add_checked_fixture (round, setup, NULL);
  tcase_add_test (round, test_event_round_trips);
  tcase_add_test (round, test_tag_samples_stay_local);
  tcase_add_test (round, test_event_direction_checked);
  tcase_add_test (round, test_unknown_flag_bits_refused);
  tcase_add_test (round, test_query_round_trips);
  tcase_add_test (round, test_query_type_not_crossing_is_refused);
  tcase_add_test (round, test_message_structure_round_trip);

  suite_add_tcase (s, local);
  tcase_add_checked_fixture (local, setup, NULL);
  tcase_add_test (local, test_fields_that_do_not_cross_are_left_out);
  tcase_add_test (local, test_nested_opaque_value_leaves_its_field_out);
  tcase_add_test (local, test_structure_that_cannot_cross_is_none);
  tcase_add_test (local, test_element_message_names_what_it_left_out);
  tcase_add_test (local, test_element_message_that_crosses_is_unchanged);
  tcase_add_test (local, test_error_with_long_debug_still_crosses);

  suite_add_tcase (s, hostile);
  tcase_add_checked_fixture (hostile, setup, NULL);
  tcase_add_test (hostile, test_deep_body_refused);
  tcase_add_test (hostile, test_depth_limit_exact);
  tcase_add_test (hostile, test_unseen_types_refused);
  tcase_add_test (hostile, test_malformed_refused);
  tcase_add_test (hostile, test_new_names_budget);
  tcase_add_test (hostile, test_distinct_names_keep_rss_bounded);
  return s;
}

GST_CHECK_MAIN (serialize);
