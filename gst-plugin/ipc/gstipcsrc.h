/* Parallax — ipcsrc: receive buffers from another process's ipcsink.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IPC_SRC_H__
#define __GST_IPC_SRC_H__

#include <gst/gst.h>

G_BEGIN_DECLS
#define GST_TYPE_IPC_SRC (gst_ipc_src_get_type ())
G_DECLARE_FINAL_TYPE (GstIpcSrc, gst_ipc_src, GST, IPC_SRC, GstElement);

GST_ELEMENT_REGISTER_DECLARE (ipcsrc);

G_END_DECLS
#endif /* __GST_IPC_SRC_H__ */
