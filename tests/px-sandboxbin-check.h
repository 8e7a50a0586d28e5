/* Parallax — what the sandboxbin tests share: a pipeline run to its end
 * with a checksum per buffer, the bin's element messages, and the
 * comparison of a description isolated against in-process.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef PX_SANDBOXBIN_CHECK_H
#define PX_SANDBOXBIN_CHECK_H

#include <gst/gst.h>

#define PX_CHECK_RUN_TIMEOUT (60 * GST_SECOND)

/* What a pipeline did until EOS or its first error. */
typedef struct
{
  GPtrArray *checksums;         /* per buffer reaching "sink" */
  GArray *timestamps;           /* GstClockTime PTS per buffer, likewise */
  GPtrArray *elements;          /* GstStructure of sandboxbin element
                                 * messages, in order */
  gboolean eos;
  GError *error;                /* first ERROR */
  gchar *error_source;
} PxCheckRun;

void px_check_run_init (PxCheckRun * run);
void px_check_run_clear (PxCheckRun * run);

/* gst_parse_launch (@description); a "sink" in it (a fakesink) records a
 * checksum and the PTS of each buffer into @run. Raw video is summed by its
 * visible pixels: a worker may lay frames out with other strides. */
GstElement *px_check_build (const gchar * description, PxCheckRun * run);

/* Sets @pipeline to PLAYING and runs it until EOS or an error, recording
 * sandboxbin element messages; leaves it in PLAYING. */
void px_check_play (GstElement * pipeline, PxCheckRun * run);

/* px_check_build(), px_check_play(), then NULL. */
void px_check_run_to_end (const gchar * description, PxCheckRun * run);

void px_check_assert_eos (const gchar * what, PxCheckRun * run);

guint px_check_count_elements (PxCheckRun * run, const gchar * name);
const GstStructure *px_check_find_element (PxCheckRun * run,
    const gchar * name);

/* "@source ! sandboxbin description=@description ! fakesink" isolated and
 * in-process: the same buffers (at least @min_buffers), bit for bit, the
 * isolated run in one worker that never crashed. */
void px_check_assert_bit_exact (const gchar * source,
    const gchar * description, guint min_buffers);


/* The processes whose parent is this one (zombies included), as pids. */
GArray *px_check_list_children (void);
guint px_check_count_children (void);
gboolean px_check_has_pid (GArray * pids, gint pid);
/* The parent of @pid, from /proc/PID/stat; -1 if it is gone. */
gint px_check_parent_of (gint pid);

#endif /* PX_SANDBOXBIN_CHECK_H */
