/* Parallax — sandboxbin: elements described in gst-launch syntax, run in a
 * jailed parallax-worker, that look like one ordinary element.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_SANDBOX_BIN_H__
#define __GST_SANDBOX_BIN_H__

#include <gst/gst.h>

G_BEGIN_DECLS
#define GST_TYPE_SANDBOX_BIN (gst_sandbox_bin_get_type ())
G_DECLARE_FINAL_TYPE (GstSandboxBin, gst_sandbox_bin, GST, SANDBOX_BIN, GstBin);

/**
 * GstSandboxBinMode:
 * @GST_SANDBOX_BIN_MODE_ISOLATED: in a jailed parallax-worker process
 * @GST_SANDBOX_BIN_MODE_IN_PROCESS: in this process, as an ordinary bin
 *
 * Where the elements of #GstSandboxBin:description run.
 */
typedef enum
{
  GST_SANDBOX_BIN_MODE_ISOLATED,
  GST_SANDBOX_BIN_MODE_IN_PROCESS,
} GstSandboxBinMode;

/**
 * GstSandboxBinPolicy:
 * @GST_SANDBOX_BIN_POLICY_MINIMAL_COMPUTE: threads, memory, time, I/O on
 *   the fds the worker holds
 * @GST_SANDBOX_BIN_POLICY_WITH_NETWORK: plus IPv4/IPv6 sockets
 * @GST_SANDBOX_BIN_POLICY_WITH_FILESYSTEM: plus the read-only and
 *   read-write paths
 * @GST_SANDBOX_BIN_POLICY_CUSTOM: a rules file on top of a base policy
 *
 * The system calls the worker may make (docs/security.md).
 */
typedef enum
{
  GST_SANDBOX_BIN_POLICY_MINIMAL_COMPUTE,
  GST_SANDBOX_BIN_POLICY_WITH_NETWORK,
  GST_SANDBOX_BIN_POLICY_WITH_FILESYSTEM,
  GST_SANDBOX_BIN_POLICY_CUSTOM,
} GstSandboxBinPolicy;

/**
 * GstSandboxBinBackoff:
 * @GST_SANDBOX_BIN_BACKOFF_FIXED: every restart waits restart-delay
 * @GST_SANDBOX_BIN_BACKOFF_EXPONENTIAL: the wait doubles with each crash
 *   in the restart window
 *
 * How the wait before a restart grows.
 */
typedef enum
{
  GST_SANDBOX_BIN_BACKOFF_FIXED,
  GST_SANDBOX_BIN_BACKOFF_EXPONENTIAL,
} GstSandboxBinBackoff;

#define GST_TYPE_SANDBOX_BIN_MODE (gst_sandbox_bin_mode_get_type ())
GType gst_sandbox_bin_mode_get_type (void);
#define GST_TYPE_SANDBOX_BIN_POLICY (gst_sandbox_bin_policy_get_type ())
GType gst_sandbox_bin_policy_get_type (void);
#define GST_TYPE_SANDBOX_BIN_BACKOFF (gst_sandbox_bin_backoff_get_type ())
GType gst_sandbox_bin_backoff_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (sandboxbin);

G_END_DECLS
#endif /* __GST_SANDBOX_BIN_H__ */
