/* Parallax — what an ipcsrc has read from its producer, as it reads it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * sandboxbin tells from its worker's outputs which input the worker was
 * busy with when it died. Outputs pushed downstream say too little: under
 * load some are read from the socket, or still in it, when the worker dies,
 * and the bin would blame an earlier input. So the ipcsrc that reads the
 * worker's output says what it reads, in its reader thread, before it
 * queues or pushes it: each buffer, each flush (which drops what was read
 * before it and not pushed), and the end of the connection (after which
 * nothing more comes).
 *
 * Internal, like gstipcsharedbudget.h: object data set before the element
 * leaves NULL. The function is called from a reader thread, in the order
 * of the messages, under the element's session lock for buffers and
 * flushes: it must not call back into the element.
 */
#ifndef __GST_IPC_SRC_WATCH_H__
#define __GST_IPC_SRC_WATCH_H__

#include <gst/gst.h>

/* The key of the object data. */
#define GST_IPC_SRC_WATCH "parallax-ipcsrc-watch"

typedef enum
{
  GST_IPC_SRC_READ_BUFFER,      /* a buffer */
  GST_IPC_SRC_READ_FLUSH,       /* a flush: what was read before is dropped */
  GST_IPC_SRC_READ_END,         /* the producer closed the connection */
} GstIpcSrcRead;

typedef void (*GstIpcSrcWatchFunc) (GstIpcSrcRead what, gpointer user_data);

typedef struct
{
  GstIpcSrcWatchFunc func;
  gpointer user_data;
  GDestroyNotify notify;
} GstIpcSrcWatch;

static inline void
gst_ipc_src_watch_free (GstIpcSrcWatch * watch)
{
  if (watch->notify != NULL)
    watch->notify (watch->user_data);
  g_free (watch);
}

/* @func is called with @user_data for what the element reads; @notify
 * frees @user_data with the element. */
static inline void
gst_ipc_src_set_watch (GstElement * src, GstIpcSrcWatchFunc func,
    gpointer user_data, GDestroyNotify notify)
{
  GstIpcSrcWatch *watch = g_new0 (GstIpcSrcWatch, 1);

  watch->func = func;
  watch->user_data = user_data;
  watch->notify = notify;
  g_object_set_data_full (G_OBJECT (src), GST_IPC_SRC_WATCH, watch,
      (GDestroyNotify) gst_ipc_src_watch_free);
}

/* Called by the element. */
static inline void
gst_ipc_src_watch_read (GstElement * src, GstIpcSrcRead what)
{
  GstIpcSrcWatch *watch = (GstIpcSrcWatch *) g_object_get_data (G_OBJECT (src),
      GST_IPC_SRC_WATCH);

  if (watch != NULL)
    watch->func (what, watch->user_data);
}

#endif /* __GST_IPC_SRC_WATCH_H__ */
