/* Parallax — what the sandboxbin tests share.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "px-sandboxbin-check.h"
#include "px-buffer-checksum.h"

#include <gst/check/gstcheck.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
px_check_run_init (PxCheckRun * run)
{
  memset (run, 0, sizeof *run);
  run->checksums = g_ptr_array_new_with_free_func (g_free);
  run->timestamps = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  run->elements = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
}

void
px_check_run_clear (PxCheckRun * run)
{
  g_ptr_array_unref (run->checksums);
  g_array_unref (run->timestamps);
  g_ptr_array_unref (run->elements);
  g_clear_error (&run->error);
  g_free (run->error_source);
}

static void
record_buffer (GstElement * sink, GstBuffer * buffer, GstPad * pad,
    gpointer user_data)
{
  PxCheckRun *run = user_data;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  /* the streaming thread adds; the test reads after EOS or under no
   * concurrent push (GPtrArray is not locked) */
  g_ptr_array_add (run->checksums, px_buffer_checksum (buffer, caps));
  g_array_append_val (run->timestamps, pts);
  gst_clear_caps (&caps);
}

GstElement *
px_check_build (const gchar * description, PxCheckRun * run)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);
  GstElement *sink;

  fail_unless (pipeline != NULL && error == NULL, "%s: %s", description,
      error ? error->message : "?");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  if (sink != NULL) {
    g_object_set (sink, "signal-handoffs", TRUE, NULL);
    g_signal_connect (sink, "handoff", G_CALLBACK (record_buffer), run);
    gst_object_unref (sink);
  }
  return pipeline;
}

void
px_check_play (GstElement * pipeline, PxCheckRun * run)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while ((msg = gst_bus_timed_pop_filtered (bus, PX_CHECK_RUN_TIMEOUT,
              GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);

    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
      if (s && g_str_has_prefix (gst_structure_get_name (s), "sandboxbin-"))
        g_ptr_array_add (run->elements, gst_structure_copy (s));
      gst_message_unref (msg);
      continue;
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      run->eos = TRUE;
    } else {
      gst_message_parse_error (msg, &run->error, NULL);
      run->error_source = gst_object_get_name (GST_MESSAGE_SRC (msg));
    }
    gst_message_unref (msg);
    break;
  }
  gst_object_unref (bus);
}

void
px_check_run_to_end (const gchar * description, PxCheckRun * run)
{
  GstElement *pipeline = px_check_build (description, run);

  px_check_play (pipeline, run);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

void
px_check_assert_eos (const gchar * what, PxCheckRun * run)
{
  fail_unless (run->eos, "%s: no EOS (%s: %s)", what,
      run->error_source ? run->error_source : "-",
      run->error ? run->error->message : "no error");
}

guint
px_check_count_elements (PxCheckRun * run, const gchar * name)
{
  guint n = 0;

  for (guint i = 0; i < run->elements->len; i++)
    n += gst_structure_has_name (g_ptr_array_index (run->elements, i), name);
  return n;
}

const GstStructure *
px_check_find_element (PxCheckRun * run, const gchar * name)
{
  for (guint i = 0; i < run->elements->len; i++) {
    if (gst_structure_has_name (g_ptr_array_index (run->elements, i), name))
      return g_ptr_array_index (run->elements, i);
  }
  return NULL;
}

void
px_check_assert_bit_exact (const gchar * source, const gchar * description,
    guint min_buffers)
{
  gchar *isolated = g_strdup_printf ("%s ! sandboxbin description=\"%s\" ! "
      "fakesink name=sink", source, description);
  gchar *in_process = g_strdup_printf ("%s ! sandboxbin mode=in-process "
      "description=\"%s\" ! fakesink name=sink", source, description);
  PxCheckRun expected, got;

  px_check_run_init (&expected);
  px_check_run_init (&got);
  px_check_run_to_end (in_process, &expected);
  px_check_assert_eos (in_process, &expected);
  fail_unless (expected.checksums->len >= min_buffers, "%s: %u buffers",
      in_process, expected.checksums->len);
  px_check_run_to_end (isolated, &got);
  px_check_assert_eos (isolated, &got);
  fail_unless_equals_int (got.checksums->len, expected.checksums->len);
  for (guint i = 0; i < expected.checksums->len; i++) {
    fail_unless_equals_string (g_ptr_array_index (got.checksums, i),
        g_ptr_array_index (expected.checksums, i));
    fail_unless_equals_uint64 (g_array_index (got.timestamps, GstClockTime,
            i), g_array_index (expected.timestamps, GstClockTime, i));
  }
  fail_unless_equals_int (px_check_count_elements (&got,
          "sandboxbin-worker-started"), 1);
  fail_unless_equals_int (px_check_count_elements (&got,
          "sandboxbin-worker-crashed"), 0);
  px_check_run_clear (&expected);
  px_check_run_clear (&got);
  g_free (isolated);
  g_free (in_process);
}

gint
px_check_parent_of (gint pid)
{
  gchar *path = g_strdup_printf ("/proc/%d/stat", pid), *stat = NULL, *end;
  gint ppid = -1;
  gchar state;

  /* "pid (comm) state ppid ...": comm may hold anything but ')'. */
  if (!g_file_get_contents (path, &stat, NULL, NULL) ||
      (end = strrchr (stat, ')')) == NULL ||
      sscanf (end + 1, " %c %d", &state, &ppid) != 2)
    ppid = -1;
  g_free (stat);
  g_free (path);
  return ppid;
}

GArray *
px_check_list_children (void)
{
  GDir *dir = g_dir_open ("/proc", 0, NULL);
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (gint));
  const gchar *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    gint pid = atoi (name);

    if (g_ascii_isdigit (name[0]) && px_check_parent_of (pid) ==
        (gint) getpid ())
      g_array_append_val (pids, pid);
  }
  if (dir != NULL)
    g_dir_close (dir);
  return pids;
}

guint
px_check_count_children (void)
{
  GArray *pids = px_check_list_children ();
  guint n = pids->len;

  g_array_unref (pids);
  return n;
}

gboolean
px_check_has_pid (GArray * pids, gint pid)
{
  for (guint i = 0; i < pids->len; i++) {
    if (g_array_index (pids, gint, i) == pid)
      return TRUE;
  }
  return FALSE;
}
