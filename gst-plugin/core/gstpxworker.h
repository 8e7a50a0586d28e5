/* Parallax — the host side of a sandboxed parallax-worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A GstPxWorker starts parallax-worker in the sandbox for one launch
 * description, and supervises it from a thread of its own (the worker's
 * parent-death signal is tied to that thread): it waits for the worker to
 * report itself locked down and checks that from /proc before accepting
 * it, relays its bus messages, holds the seccomp listener through which
 * the kernel reports every call the jail kills (the worker cannot forge
 * or hide one), kills the worker for it, and reaps it.
 *
 * Buffers go in through an ipcsink whose fd is gst_px_worker_get_input_fd()
 * and come out of an ipcsrc on gst_px_worker_get_output_fd(); the worker
 * runs "ipcsrc ! DESCRIPTION ! ipcsink" between the two.
 *
 * Everything the worker sends is checked; nothing waits on it without a
 * timeout.
 */
#ifndef __GST_PX_WORKER_H__
#define __GST_PX_WORKER_H__

#include <gst/gst.h>

#include "px-sandbox.h"

G_BEGIN_DECLS
/* Names shared by the worker and the host. */
#define GST_PX_WORKER_READY "parallax-worker-ready"
#define GST_PX_WORKER_FAILED "parallax-worker-failed"
#define GST_PX_WORKER_MESSAGE "parallax-worker-message"
/* Element message of the host (never of the worker): a call the sandbox
 * killed the worker for, as the kernel reported it. Fields: "syscall"
 * (name), "number", "arch" (AUDIT_ARCH_*), "call" (name and decoded
 * arguments), "thread" (the caller's tid, in the host's view). */
#define GST_PX_WORKER_VIOLATION "parallax-worker-violation"
#define GST_PX_WORKER_INPUT "parallax-input"
#define GST_PX_WORKER_OUTPUT "parallax-output"
/* Where the worker binary is: $PARALLAX_WORKER (set by `meson devenv` and
 * the tests), else the installed one. */
const gchar *gst_px_worker_path (void);

/* Worker side: a bus message as the structure sent to the host, or NULL
 * for messages that stay in the worker. */
GstStructure *gst_px_worker_message_to_structure (GstMessage * message);

/* Host side: rebuilds a message the worker sent (ERROR, WARNING, INFO or
 * ELEMENT) with @src as its source, or NULL if @s is not one. */
GstMessage *gst_px_worker_message_from_structure (GstObject * src,
    guint32 kind, const GstStructure * s);

/* The plugin files the host's registry resolves for the elements of
 * @description, plus the parallax plugin itself. */
gchar **gst_px_worker_plugin_files (const gchar * description, GError ** error);

typedef struct _GstPxWorker GstPxWorker;

typedef struct
{
  /* A bus message from the worker (transfer full). Any thread. */
  void (*message) (GstPxWorker * worker, GstMessage * message,
      gpointer user_data);
  /* The worker ended; @reason says how ("exited with status 1", "killed by
   * the sandbox for calling execve (pathname=\"/bin/sh\", ...)", "killed
   * by the host: ...", ...). Supervisor thread. */
  void (*exited) (GstPxWorker * worker, const gchar * reason,
      gpointer user_data);
} GstPxWorkerCallbacks;

/* @owner is the source of relayed messages and of logs (not referenced).
 * @config is copied as needed for the spawn; the worker's environment gets
 * ORC_CODE=backup unless @config's env names ORC_CODE (see
 * docs/security.md, "W^X and ORC"). */
GstPxWorker *gst_px_worker_new (const gchar * description,
    const PxSandboxConfig * config, GstObject * owner,
    const GstPxWorkerCallbacks * callbacks, gpointer user_data);

/* Spawns the worker and waits (at most @timeout) until it is locked down
 * and ready, or failed. Ready means: the worker said so, it handed over
 * its seccomp listener, and /proc shows every layer the config wants
 * (docs/security.md, "Posture"); otherwise it is killed and @error says
 * what was wrong. */
gboolean gst_px_worker_start (GstPxWorker * worker, GstClockTime timeout,
    GError ** error);

/* The host ends of the data sockets (owned by the worker object). */
gint gst_px_worker_get_input_fd (GstPxWorker * worker);
gint gst_px_worker_get_output_fd (GstPxWorker * worker);

/* The worker makes no shared memory: the ipcsrc on the output fd makes its
 * arenas, and must be given this as its arena-budget (the worker's memory
 * limit, G_MAXUINT64 without one). */
guint64 gst_px_worker_get_arena_budget (GstPxWorker * worker);

/* What the jail applied, as the host found it from outside (never the
 * worker's word): layer names ("user-namespace, ..., seccomp"), the
 * PxSandboxLayer mask, the limit mechanism ("cgroup-v1", "rlimit", ...),
 * and the warning listing missing layers (NULL when none). */
const gchar *gst_px_worker_get_layers (GstPxWorker * worker);
guint gst_px_worker_get_layer_mask (GstPxWorker * worker);
const gchar *gst_px_worker_get_limits (GstPxWorker * worker);
const gchar *gst_px_worker_get_warning (GstPxWorker * worker);
pid_t gst_px_worker_get_pid (GstPxWorker * worker);

/* Asks the worker's pipeline to perform @transition; waits at most
 * @timeout. One state change at a time (the element's state-change
 * thread). The worker answers ASYNC when its sink waits for data. */
GstStateChangeReturn gst_px_worker_change_state (GstPxWorker * worker,
    GstStateChange transition, GstClockTime timeout);

gboolean gst_px_worker_ping (GstPxWorker * worker, GstClockTime timeout);

/* The name of the syscall the sandbox killed the worker for, as the kernel
 * reported it, or NULL. */
gchar *gst_px_worker_get_violation (GstPxWorker * worker);

/* Asks the worker to leave, kills it after @grace, reaps it, removes its
 * cgroups and closes every fd. Safe to call twice. */
void gst_px_worker_stop (GstPxWorker * worker, GstClockTime grace);

/* Stops the worker if needed and frees everything. */
void gst_px_worker_free (GstPxWorker * worker);

/* How the worker ended, once the exited callback ran: its exit status
 * (-1 when a signal ended it) and the signal (0 when it exited). FALSE
 * while it runs, or when it was never spawned. */
gboolean gst_px_worker_get_exit_status (GstPxWorker * worker,
    gint * exit_status, gint * signal_number);

G_END_DECLS
#endif /* __GST_PX_WORKER_H__ */
