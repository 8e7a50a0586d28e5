/* Parallax — the host side of a sandboxed parallax-worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A GstPxWorker starts parallax-worker in the sandbox for one launch
 * description, and supervises it from a thread of its own (the worker's
 * parent-death signal is tied to that thread): it waits for the worker to
 * report itself locked down and checks that from /proc before accepting
 * it, relays its bus messages, holds the seccomp listener through which
 * the kernel reports every call the jail stops (the worker cannot forge
 * or hide one), kills the worker for it (or, for a W^X call, lets the
 * call fail and warns: GST_PX_WORKER_REFUSED), and reaps it.
 *
 * Buffers go in through an ipcsink whose fd is gst_px_worker_get_input_fd()
 * and come out of an ipcsrc on gst_px_worker_get_output_fd(); the worker
 * runs "ipcsrc ! DESCRIPTION ! ipcsink" between the two, without the
 * ipcsrc or the ipcsink when the description's layout has no sink or src
 * pad (gst_px_worker_set_layout(), gst_px_worker_full_description()).
 * A description whose sometimes pads nothing links (a demuxer, decodebin)
 * gets one more connection per pad as they appear: the worker asks for
 * each on the control connection (STREAM), the host makes a socketpair,
 * hands the worker its end (STREAM_DONE) and the owner the other
 * (GstPxWorkerStreamCallbacks).
 *
 * Everything the worker sends is checked; nothing waits on it without a
 * timeout.
 */
#ifndef __GST_PX_WORKER_H__
#define __GST_PX_WORKER_H__

#include <gst/gst.h>

#include "px-sandbox.h"
#include "px-wire.h"

G_BEGIN_DECLS
/* Names shared by the worker and the host. */
#define GST_PX_WORKER_READY "parallax-worker-ready"
#define GST_PX_WORKER_FAILED "parallax-worker-failed"
#define GST_PX_WORKER_MESSAGE "parallax-worker-message"
/* The worker's pipeline ended its stream, or prerolled (all of its sinks
 * did): the sandboxbin of a sink layout is these. */
#define GST_PX_WORKER_EOS "parallax-worker-eos"
#define GST_PX_WORKER_ASYNC_DONE "parallax-worker-async-done"
/* Element message of the host (never of the worker): a call the sandbox
 * killed the worker for, as the kernel reported it. Fields: "syscall"
 * (name), "number", "arch" (AUDIT_ARCH_*), "call" (name and decoded
 * arguments), "thread" (the caller's tid, in the host's view),
 * "refused-calls" (the W^X calls refused before it: see below). */
#define GST_PX_WORKER_VIOLATION "parallax-worker-violation"
/* The details of the warning the host posts (GST_RESOURCE_ERROR,
 * NOT_AUTHORIZED) when the sandbox refused the worker executable memory:
 * a W^X call (mmap, mprotect, pkey_mprotect with PROT_EXEC) that failed
 * with EACCES, after which the worker goes on. Once per worker and
 * syscall; the same fields as GST_PX_WORKER_VIOLATION, "refused-calls"
 * counting this one. Past PX_SANDBOX_REFUSAL_BURST such calls (one more
 * a second) the worker is killed instead, as for a violation. */
#define GST_PX_WORKER_REFUSED "parallax-worker-refused"
#define GST_PX_WORKER_INPUT "parallax-input"
#define GST_PX_WORKER_OUTPUT "parallax-output"
/* The input buffers the host's ipcsink lends a worker at once
 * (max-in-flight). The description may keep half of them: a demuxer or a
 * parser that keeps more in its adapter, an encoder that looks ahead, is
 * given copies in the worker's own memory instead, and the stream goes
 * on. */
#define GST_PX_WORKER_INPUT_IN_FLIGHT 16
#define GST_PX_WORKER_INPUT_HOLD (GST_PX_WORKER_INPUT_IN_FLIGHT / 2)
/* Where the worker binary is: $PARALLAX_WORKER (set by `meson devenv` and
 * the tests), else the installed one. */
const gchar *gst_px_worker_path (void);

/* Field of an element message from the worker: the names (an array of
 * strings) of the fields left out because their values do not cross
 * processes (gst_px_structure_for_peer()). */
#define GST_PX_WORKER_LEFT_OUT "sandboxbin-left-out"
/* What an error, warning or info from the worker keeps of its domain's
 * name, its message, its debug text and its source's path, in bytes:
 * together they fit in one MESSAGE whatever they hold (a string's text
 * may take four bytes a byte). */
#define GST_PX_WORKER_MAX_DOMAIN 256
#define GST_PX_WORKER_MAX_TEXT 2048
#define GST_PX_WORKER_MAX_DEBUG 8192
#define GST_PX_WORKER_MAX_SOURCE 1024
/* Worker side: a bus message as the structure sent to the host, or NULL
 * for messages that stay in the worker. An element message keeps the
 * fields that cross processes, and names the others in
 * GST_PX_WORKER_LEFT_OUT; one that cannot cross at all (its name does not,
 * or its text is too long) is NULL. */
GstStructure *gst_px_worker_message_to_structure (GstMessage * message);

/* Host side: rebuilds a message the worker sent (ERROR, WARNING, INFO,
 * ELEMENT, and the EOS and ASYNC_DONE of its pipeline) with @src as its
 * source, or NULL if @s is not one. */
GstMessage *gst_px_worker_message_from_structure (GstObject * src,
    guint32 kind, const GstStructure * s);

/* The most streams a worker may have open at once, and over its life. */
#define GST_PX_WORKER_MAX_STREAMS PX_WIRE_MAX_STREAMS
#define GST_PX_WORKER_MAX_STREAM_OPENS 256

/* What a description looks like from outside: the pads it leaves unlinked,
 * which are the pads a sandboxbin has. */
typedef struct
{
  guint sink_pads;              /* always sink pads nothing links */
  guint src_pads;               /* always src pads nothing links */
  gboolean dynamic;             /* one element's sometimes src pads */
} GstPxLayout;

typedef struct
{
  GstPxLayout layout;
  /* not references */
  GstPad *sinkpad;
  GstPad *srcpad;
  GstElement *dynamic;          /* the element whose sometimes pads are left */
} GstPxLayoutScan;

/* Reads the top-level elements of @bin, a parsed description not started.
 * The parser links what follows a sometimes pad only once the pad appears
 * ("qtdemux ! h264parse" leaves h264parse's sink pad unlinked until then):
 * the input is then the sink pad of the element written first. FALSE (and
 * @error) for more than one unlinked sink pad, or more than one src pad
 * or element with sometimes pads. */
gboolean gst_px_layout_scan (GstBin * bin, GstPxLayoutScan * scan,
    GError ** error);

/* Parses @description, only to look at it, into @layout. */
gboolean gst_px_layout_of (const gchar * description, GstPxLayout * layout,
    GError ** error);

/* What the worker runs for @description of @layout: "ipcsrc !
 * DESCRIPTION ! ipcsink", without the ipcsrc when the description has no
 * sink pad to feed, without the ipcsink when it has no src pad (a sink, or
 * only sometimes pads). The ipc elements are named GST_PX_WORKER_INPUT and
 * GST_PX_WORKER_OUTPUT. */
gchar *gst_px_worker_full_description (const gchar * description,
    const GstPxLayout * layout);

/* The plugin files the host's registry resolves for the elements the
 * worker runs for @description of @layout, the parallax plugin
 * included. */
gchar **gst_px_worker_plugin_files (const gchar * description,
    const GstPxLayout * layout, GError ** error);

/* The plugins an autoplugging bin in @description (decodebin, parsebin,
 * decodebin3, uridecodebin: a bin whose class is a decoder, demuxer or
 * parser) may plug, which the worker cannot load once locked down: those
 * of every type finder and of every element factory of rank marginal or
 * more whose class names a demuxer, decoder, parser or depayloader, and
 * the core elements; for one with a "uri" property (uridecodebin,
 * uridecodebin3), those of the sources of rank marginal or more that open
 * its URI's protocol (any protocol when it has no URI). NULL-terminated,
 * empty when nothing in @description autoplugs. */
gchar **gst_px_worker_autoplug_plugin_files (const gchar * description,
    const GstPxLayout * layout, GError ** error);

typedef struct _GstPxWorker GstPxWorker;

typedef struct
{
  /* A bus message from the worker (transfer full). Any thread. */
  void (*message) (GstPxWorker * worker, GstMessage * message,
      gpointer user_data);
  /* The worker ended; @reason says how ("exited with status 1", "killed by
   * the sandbox for calling execve (pathname=\"/bin/sh\", ...)", "killed
   * by the sandbox for calling mmap (...) after 64 refused W^X calls",
   * "killed by the host: ...", ...). Supervisor thread. */
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

/* Before gst_px_worker_start(): the pads of the description (by default
 * one sink pad and one src pad: a filter). The worker gets a data socket
 * for each of them. */
void gst_px_worker_set_layout (GstPxWorker * worker,
    const GstPxLayout * layout);

typedef struct
{
  /* The description has a new src pad, @stream_id: @fd is the host's end
   * of its connection (transfer full). TRUE if taken: the worker then
   * gets the other end; FALSE to refuse the pad (@fd is the callback's to
   * close either way). Control reader thread. */
  gboolean (*opened) (GstPxWorker * worker, guint stream_id, gint fd,
      gpointer user_data);
  /* The pad went away; the worker closes its connection once this
   * returns. Control reader thread. */
  void (*closed) (GstPxWorker * worker, guint stream_id, gpointer user_data);
  /* The description said no-more-pads. Control reader thread. */
  void (*no_more) (GstPxWorker * worker, gpointer user_data);
} GstPxWorkerStreamCallbacks;

/* Before gst_px_worker_start(): where the streams of a description with
 * sometimes pads go. Without them the worker's pads stay unlinked. */
void gst_px_worker_set_stream_callbacks (GstPxWorker * worker,
    const GstPxWorkerStreamCallbacks * callbacks, gpointer user_data);

/* Spawns the worker and waits (at most @timeout) until it is locked down
 * and ready, or failed. Ready means: the worker said so, it handed over
 * its seccomp listener, and /proc shows every layer the config wants
 * (docs/security.md, "Posture"); otherwise it is killed and @error says
 * what was wrong. */
gboolean gst_px_worker_start (GstPxWorker * worker, GstClockTime timeout,
    GError ** error);

/* The host ends of the data sockets (owned by the worker object), -1 when
 * the description has no unlinked sink pad (input) or src pad (output). */
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
