/* Parallax — ipcsink: send buffers to other processes through memfd arenas.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IPC_SINK_H__
#define __GST_IPC_SINK_H__

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS
#define GST_TYPE_IPC_SINK (gst_ipc_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstIpcSink, gst_ipc_sink, GST, IPC_SINK, GstBaseSink);

/**
 * GstIpcSinkSlowClientPolicy:
 * @GST_IPC_SINK_SLOW_CLIENT_BLOCK: wait until the client releases a buffer
 * @GST_IPC_SINK_SLOW_CLIENT_DROP: skip the buffer for that client only
 *
 * What ipcsink does with a buffer when a client already holds
 * #GstIpcSink:max-in-flight buffers.
 */
typedef enum
{
  GST_IPC_SINK_SLOW_CLIENT_BLOCK,
  GST_IPC_SINK_SLOW_CLIENT_DROP,
} GstIpcSinkSlowClientPolicy;

#define GST_TYPE_IPC_SINK_SLOW_CLIENT_POLICY \
  (gst_ipc_sink_slow_client_policy_get_type ())
GType gst_ipc_sink_slow_client_policy_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (ipcsink);

G_END_DECLS
#endif /* __GST_IPC_SINK_H__ */
