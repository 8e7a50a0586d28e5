/* Parallax — the host side of a sandboxed parallax-worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstpxworker.h"
#include "gstpxconnection.h"
#include "gstpxserialize.h"
#include "px-fd.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

GST_DEBUG_CATEGORY_STATIC (gst_px_worker_debug);
#define GST_CAT_DEFAULT gst_px_worker_debug

/* In the worker: fd 3 is the control socket, the data sockets the
 * description needs follow. */
#define WORKER_CONTROL_FD 3
#define WORKER_MAX_FDS 3

/* liborc's own JIT (videoconvert, audioconvert, videoscale, ...) needs a
 * writable + executable mapping, which the lockdown refuses, and liborc
 * before 0.4.34 aborts the process when it cannot have one:
 * ORC_CODE=backup keeps it from trying, unless the caller names ORC_CODE
 * itself. The worker's programs are compiled all the same, by the jailed
 * compiler its orc_program_compile() asks (docs/security.md, "W^X and
 * ORC"); ORC's C code runs only for a program that compiler refuses. */
#define WORKER_ORC_CODE "ORC_CODE=backup"

/* The worker's stderr reaches the host's log line by line, at most
 * STDERR_BYTES_PER_SECOND a second: past that the supervisor stops reading
 * until the next second, the pipe fills and the worker's writes fail. */
#define STDERR_LINE_MAX 512

/* How long a worker that closed its control socket has to end by itself
 * before it counts as hung up. */
#define HANGUP_GRACE_MS 250
#define STDERR_BYTES_PER_SECOND (32 * 1024)
/* How often the supervisor adds up a worker's memory under rlimits: how
 * long a worker may hold more than its limit before it is killed. */
#define MEMORY_CHECK_INTERVAL (250 * G_TIME_SPAN_MILLISECOND)

typedef enum
{
  WORKER_STARTING,
  WORKER_READY,
  WORKER_FAILED,
  WORKER_EXITED,
} WorkerStatus;

struct _GstPxWorker
{
  gchar *description;
  PxSandboxConfig config;
  gchar **env;                  /* config.env points here */
  GstObject *owner;
  GstPxWorkerCallbacks callbacks;
  gpointer user_data;
  GstPxWorkerStreamCallbacks stream_callbacks;
  gpointer stream_user_data;
  GstPxLayout layout;           /* set at start */

  /* host ends */
  int input_fd, output_fd;
  /* worker ends, closed once it is spawned: control, input, output */
  int child_fds[WORKER_MAX_FDS];
  guint n_child_fds;

  /* the control connection's reader only */
  guint stream_ids[GST_PX_WORKER_MAX_STREAMS];  /* open now */
  guint n_streams;
  guint stream_opens;
  int stop_fd;                  /* eventfd: wakes the supervisor */
  int ready_fd;                 /* eventfd: the worker says it is ready */

  GThread *supervisor;
  GstPxConnection *control;
  /* Written by the supervisor under the lock: once when the spawn
   * succeeded, and when it reaps the worker. Other threads kill it or
   * read its pidfd under the lock (kill_child(), control_closed()); the
   * supervisor reads it freely, and so does the owner once the
   * supervisor is joined or the worker reported ready. */
  PxSandboxChild child;

  GMutex lock;
  GCond cond;
  WorkerStatus status;
  gchar *failure;
  /* what the worker's READY claims, until the supervisor has checked it */
  gboolean ready_claimed;
  guint claimed_mask;
  /* what the supervisor found, set before WORKER_READY */
  gchar *layers;
  guint layer_mask;
  /* what the kernel reported: the refused call's name and description,
   * and, when it was a W^X call past the budget, the W^X calls refused
   * before it */
  gchar *violation;
  gchar *violation_description;
  guint violation_refused;
  /* why the host killed the worker, if it did */
  gchar *kill_reason;
  siginfo_t exit_info;          /* valid once status is WORKER_EXITED */
  gboolean stopping;            /* gst_px_worker_stop() asked it to leave */
  gboolean hung_up;             /* it closed the control socket on its own */

  /* supervisor thread only */
  gchar stderr_line[STDERR_LINE_MAX + 1];
  gsize stderr_len;
  gint64 stderr_window;         /* start of the current second */
  gsize stderr_budget;          /* bytes still allowed in it */
  gint64 memory_checked;        /* when memory_check() last ran */

  guint64 state_request;        /* the STATE being waited for, 0 if none */
  guint64 last_state_request;
  gboolean state_done;
  GstStateChangeReturn state_result;
};

static void
init_debug (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (gst_px_worker_debug, "pxworker", 0,
        "Parallax worker supervision");
    g_once_init_leave (&done, 1);
  }
}

const gchar *
gst_px_worker_path (void)
{
  const gchar *path = g_getenv ("PARALLAX_WORKER");

  return path && *path ? path : PARALLAX_WORKER_INSTALLED;
}

/* ---- bus messages across the boundary ---------------------------------- */

/* An element message's structure for the host. */
static GstStructure *
element_structure (const GstStructure * s)
{
  GPtrArray *left_out = g_ptr_array_new_with_free_func (g_free);
  GstStructure *copy = gst_px_structure_for_peer (s, left_out);
  GValue names = G_VALUE_INIT, name = G_VALUE_INIT;

  if (copy != NULL && left_out->len > 0) {
    gst_value_array_init (&names, left_out->len);
    g_value_init (&name, G_TYPE_STRING);
    for (guint i = 0; i < left_out->len; i++) {
      g_value_set_string (&name, g_ptr_array_index (left_out, i));
      gst_value_array_append_value (&names, &name);
    }
    g_value_unset (&name);
    gst_structure_take_value (copy, GST_PX_WORKER_LEFT_OUT, &names);
  }
  g_ptr_array_unref (left_out);
  return copy;
}

/* @text cut to its first @max bytes, and to the valid UTF-8 they begin
 * with. */
static gchar *
bounded_text (const gchar * text, gsize max)
{
  const gchar *end;

  if (text == NULL)
    return g_strdup ("");
  if (strlen (text) <= max)
    return g_strdup (text);
  g_utf8_validate (text, max, &end);
  return g_strndup (text, (gsize) (end - text));
}

GstStructure *
gst_px_worker_message_to_structure (GstMessage * message)
{
  GError *error = NULL;
  gchar *debug = NULL, *path, *domain, *text, *bounded_debug, *source;
  GstStructure *s;

  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (message, &error, &debug);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (message, &error, &debug);
      break;
    case GST_MESSAGE_INFO:
      gst_message_parse_info (message, &error, &debug);
      break;
    case GST_MESSAGE_ELEMENT:
      return gst_message_get_structure (message) ?
          element_structure (gst_message_get_structure (message)) : NULL;
      /* the pipeline's own: its elements' are the bins' to gather */
    case GST_MESSAGE_EOS:
      return gst_structure_new_empty (GST_PX_WORKER_EOS);
    case GST_MESSAGE_ASYNC_DONE:
      return gst_structure_new_empty (GST_PX_WORKER_ASYNC_DONE);
    default:
      return NULL;
  }
  path = gst_object_get_path_string (GST_MESSAGE_SRC (message));
  domain = bounded_text (g_quark_to_string (error->domain),
      GST_PX_WORKER_MAX_DOMAIN);
  text = bounded_text (error->message, GST_PX_WORKER_MAX_TEXT);
  bounded_debug = bounded_text (debug, GST_PX_WORKER_MAX_DEBUG);
  source = bounded_text (path, GST_PX_WORKER_MAX_SOURCE);
  s = gst_structure_new (GST_PX_WORKER_MESSAGE, "domain", G_TYPE_STRING,
      domain, "code", G_TYPE_INT, error->code, "text", G_TYPE_STRING, text,
      "debug", G_TYPE_STRING, bounded_debug, "source", G_TYPE_STRING, source,
      NULL);
  g_free (domain);
  g_free (text);
  g_free (bounded_debug);
  g_free (source);
  g_free (path);
  g_free (debug);
  g_error_free (error);
  return s;
}

/* Only GStreamer's own error domains: a quark made from a string the worker
 * chose would be a leak it could grow at will. */
static GQuark
known_domain (const gchar * name)
{
  static const gchar *names[] = { "gst-core-error-quark",
    "gst-library-error-quark", "gst-resource-error-quark",
    "gst-stream-error-quark"
  };

  for (guint i = 0; name && i < G_N_ELEMENTS (names); i++) {
    if (g_str_equal (name, names[i]))
      return g_quark_from_static_string (names[i]);
  }
  return GST_STREAM_ERROR;
}

GstMessage *
gst_px_worker_message_from_structure (GstObject * src, guint32 kind,
    const GstStructure * s)
{
  const gchar *text, *debug, *source;
  gchar *full_debug;
  GstMessage *message;
  GError *error;
  gint code = 0;

  if (kind == GST_MESSAGE_ELEMENT)
    return gst_message_new_element (src, gst_structure_copy (s));
  if (kind == GST_MESSAGE_EOS)
    return gst_structure_has_name (s, GST_PX_WORKER_EOS) ?
        gst_message_new_eos (src) : NULL;
  if (kind == GST_MESSAGE_ASYNC_DONE)
    return gst_structure_has_name (s, GST_PX_WORKER_ASYNC_DONE) ?
        gst_message_new_async_done (src, GST_CLOCK_TIME_NONE) : NULL;
  if (!gst_structure_has_name (s, GST_PX_WORKER_MESSAGE) ||
      (text = gst_structure_get_string (s, "text")) == NULL ||
      !gst_structure_get_int (s, "code", &code))
    return NULL;
  debug = gst_structure_get_string (s, "debug");
  source = gst_structure_get_string (s, "source");
  error = g_error_new_literal (known_domain (gst_structure_get_string (s,
              "domain")), code, text);
  full_debug = g_strdup_printf ("in the sandboxed worker, %s%s%s",
      source ? source : "?", debug && *debug ? ": " : "", debug ? debug : "");
  switch (kind) {
    case GST_MESSAGE_ERROR:
      message = gst_message_new_error (src, error, full_debug);
      break;
    case GST_MESSAGE_WARNING:
      message = gst_message_new_warning (src, error, full_debug);
      break;
    case GST_MESSAGE_INFO:
      message = gst_message_new_info (src, error, full_debug);
      break;
    default:
      message = NULL;
      break;
  }
  g_error_free (error);
  g_free (full_debug);
  return message;
}

/* ---- which plugins the worker loads ------------------------------------ */

static void
add_plugin_file (GPtrArray * files, GstPlugin * plugin)
{
  const gchar *file = plugin ? gst_plugin_get_filename (plugin) : NULL;

  if (file == NULL)
    return;
  for (guint i = 0; i < files->len; i++) {
    if (g_str_equal (g_ptr_array_index (files, i), file))
      return;
  }
  g_ptr_array_add (files, g_strdup (file));
}

/* The plugin of the factory named @name in the host's registry. */
static void
add_factory_plugin (GPtrArray * files, const gchar * name)
{
  GstElementFactory *factory = gst_element_factory_find (name);
  GstPlugin *plugin = factory ? gst_plugin_feature_get_plugin
      (GST_PLUGIN_FEATURE (factory)) : NULL;

  add_plugin_file (files, plugin);
  gst_clear_object (&plugin);
  gst_clear_object (&factory);
}

gchar *
gst_px_worker_full_description (const gchar * description,
    const GstPxLayout * layout)
{
  return g_strdup_printf ("%s%s%s", layout->sink_pads ? "ipcsrc name="
      GST_PX_WORKER_INPUT " ! " : "", description, layout->src_pads ?
      " ! ipcsink name=" GST_PX_WORKER_OUTPUT : "");
}

/* Never started: only to learn which factories it names. */
static GstElement *
parse_description (const gchar * description, GError ** error)
{
  return gst_parse_bin_from_description_full (description, FALSE, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, error);
}

/* Built as the worker builds it. */
static GstElement *
parse_full_description (const gchar * description,
    const GstPxLayout * layout, GError ** error)
{
  gchar *full = gst_px_worker_full_description (description, layout);
  GstElement *bin = parse_description (full, error);

  g_free (full);
  return bin;
}

gchar **
gst_px_worker_plugin_files (const gchar * description,
    const GstPxLayout * layout, GError ** error)
{
  GPtrArray *files = g_ptr_array_new ();
  GstElement *bin = parse_full_description (description, layout, error);
  GstIterator *it;
  GValue item = G_VALUE_INIT;
  GstPlugin *plugin;

  if (bin == NULL) {
    g_ptr_array_unref (files);
    return NULL;
  }
  /* the ipcsink of each stream */
  if (layout->dynamic)
    add_factory_plugin (files, "ipcsink");
  it = gst_bin_iterate_recurse (GST_BIN (bin));
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElementFactory *factory =
        gst_element_get_factory (g_value_get_object (&item));

    plugin = factory ? gst_plugin_feature_get_plugin (GST_PLUGIN_FEATURE
        (factory)) : NULL;
    add_plugin_file (files, plugin);
    gst_clear_object (&plugin);
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  gst_object_unref (bin);

  g_ptr_array_add (files, NULL);
  return (gchar **) g_ptr_array_free (files, FALSE);
}

static gboolean
klass_names (const gchar * klass, const gchar * const *words)
{
  for (guint i = 0; klass && words[i]; i++) {
    if (strstr (klass, words[i]) != NULL)
      return TRUE;
  }
  return FALSE;
}

static const gchar *const autoplugged_klass[] = { "Demuxer", "Decoder",
  "Parser", "Depayloader", NULL
};

/* decodebin ("Generic/Bin/Decoder"), parsebin, decodebin3,
 * uridecodebin: a bin that plugs elements of the kinds above. */
static gboolean
is_autoplugger (GstElement * element)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  const gchar *klass = factory ? gst_element_factory_get_metadata (factory,
      GST_ELEMENT_METADATA_KLASS) : NULL;

  return GST_IS_BIN (element) && klass != NULL &&
      strstr (klass, "Bin") != NULL && klass_names (klass, autoplugged_klass);
}

/* What the autoplugging bins of a description need: whether there is one,
 * and the protocols of the URIs they open (uridecodebin, urisourcebin;
 * "*" when one has no URI yet). */
typedef struct
{
  gboolean autoplugs;
  GPtrArray *protocols;
} Autoplug;

static void
add_protocol (Autoplug * a, const gchar * protocol)
{
  for (guint i = 0; i < a->protocols->len; i++) {
    if (g_str_equal (g_ptr_array_index (a->protocols, i), protocol))
      return;
  }
  g_ptr_array_add (a->protocols, g_strdup (protocol));
}

static void
add_uri_protocol (Autoplug * a, GstElement * element)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS
      (element), "uri");
  gchar *uri = NULL, *protocol;

  if (pspec == NULL || pspec->value_type != G_TYPE_STRING ||
      !(pspec->flags & G_PARAM_READABLE))
    return;
  g_object_get (element, "uri", &uri, NULL);
  protocol = uri ? gst_uri_get_protocol (uri) : NULL;
  add_protocol (a, protocol ? protocol : "*");
  g_free (protocol);
  g_free (uri);
}

static gboolean
description_autoplugs (const gchar * description,
    const GstPxLayout * layout, GError ** error, Autoplug * a)
{
  GstElement *bin = parse_full_description (description, layout, error);
  GstIterator *it;
  GValue item = G_VALUE_INIT;

  if (bin == NULL)
    return FALSE;
  it = gst_bin_iterate_recurse (GST_BIN (bin));
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *element = g_value_get_object (&item);

    if (is_autoplugger (element)) {
      a->autoplugs = TRUE;
      add_uri_protocol (a, element);
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  gst_object_unref (bin);
  return TRUE;
}

static void
add_feature_plugins (GPtrArray * files, GType type, gboolean autoplugged_only)
{
  GList *features = gst_registry_get_feature_list (gst_registry_get (), type);

  for (GList * l = features; l; l = l->next) {
    GstPluginFeature *feature = l->data;
    GstPlugin *plugin;

    if (autoplugged_only && (gst_plugin_feature_get_rank (feature) <
            GST_RANK_MARGINAL || !klass_names (gst_element_factory_get_metadata
                (GST_ELEMENT_FACTORY (feature), GST_ELEMENT_METADATA_KLASS),
                autoplugged_klass)))
      continue;
    plugin = gst_plugin_feature_get_plugin (feature);
    add_plugin_file (files, plugin);
    gst_clear_object (&plugin);
  }
  gst_plugin_feature_list_free (features);
}

static gboolean
opens_protocol (GstElementFactory * factory, const gchar * protocol)
{
  const gchar *const *protocols =
      gst_element_factory_get_uri_protocols (factory);

  if (g_str_equal (protocol, "*"))
    return TRUE;
  for (guint i = 0; protocols && protocols[i]; i++) {
    if (g_ascii_strcasecmp (protocols[i], protocol) == 0)
      return TRUE;
  }
  return FALSE;
}

/* The source elements that may open a URI of @protocol ("*": any), as
 * gst_element_make_from_uri() chooses among them by rank. */
static void
add_uri_source_plugins (GPtrArray * files, const gchar * protocol)
{
  GList *features = gst_registry_get_feature_list (gst_registry_get (),
      GST_TYPE_ELEMENT_FACTORY);

  for (GList * l = features; l; l = l->next) {
    GstElementFactory *factory = l->data;
    GstPlugin *plugin;

    if (gst_element_factory_get_uri_type (factory) != GST_URI_SRC ||
        gst_plugin_feature_get_rank (GST_PLUGIN_FEATURE (factory)) <
        GST_RANK_MARGINAL || !opens_protocol (factory, protocol))
      continue;
    plugin = gst_plugin_feature_get_plugin (GST_PLUGIN_FEATURE (factory));
    add_plugin_file (files, plugin);
    gst_clear_object (&plugin);
  }
  gst_plugin_feature_list_free (features);
}

gchar **
gst_px_worker_autoplug_plugin_files (const gchar * description,
    const GstPxLayout * layout, GError ** error)
{
  Autoplug a = { FALSE, g_ptr_array_new_with_free_func (g_free) };
  GPtrArray *files;

  if (!description_autoplugs (description, layout, error, &a)) {
    g_ptr_array_unref (a.protocols);
    return NULL;
  }
  files = g_ptr_array_new ();
  if (a.autoplugs) {
    /* what decodebin and parsebin plug between the elements they find */
    add_factory_plugin (files, "multiqueue");
    add_feature_plugins (files, GST_TYPE_TYPE_FIND_FACTORY, FALSE);
    add_feature_plugins (files, GST_TYPE_ELEMENT_FACTORY, TRUE);
  }
  for (guint i = 0; i < a.protocols->len; i++)
    add_uri_source_plugins (files, g_ptr_array_index (a.protocols, i));
  g_ptr_array_unref (a.protocols);
  g_ptr_array_add (files, NULL);
  return (gchar **) g_ptr_array_free (files, FALSE);
}

/* ---- the description's pads -------------------------------------------- */

static gboolean
has_sometimes_src_template (GstElement * element)
{
  GList *l = gst_element_class_get_pad_template_list (GST_ELEMENT_GET_CLASS
      (element));

  for (; l; l = l->next) {
    GstPadTemplate *templ = l->data;

    if (GST_PAD_TEMPLATE_DIRECTION (templ) == GST_PAD_SRC &&
        GST_PAD_TEMPLATE_PRESENCE (templ) == GST_PAD_SOMETIMES)
      return TRUE;
  }
  return FALSE;
}

static gboolean
has_pad_added_handler (GstElement * element)
{
  return g_signal_has_handler_pending (element,
      g_signal_lookup ("pad-added", GST_TYPE_ELEMENT), 0, TRUE);
}

/* The parser links a sometimes pad to what follows it by watching
 * pad-added: an element nobody watches leaves its sometimes pads to us. */
static gboolean
sometimes_pads_unlinked (GstElement * element)
{
  return has_sometimes_src_template (element) &&
      !has_pad_added_handler (element);
}

static void
scan_element (GstElement * element, GstPxLayoutScan * scan,
    guint * delayed_links)
{
  for (GList * l = element->pads; l; l = l->next) {
    GstPad *pad = l->data;

    if (gst_pad_is_linked (pad))
      continue;
    if (GST_PAD_IS_SINK (pad)) {
      scan->layout.sink_pads++;
      scan->sinkpad = pad;
    } else {
      scan->layout.src_pads++;
      scan->srcpad = pad;
    }
  }
  if (sometimes_pads_unlinked (element)) {
    scan->dynamic = element;
    scan->layout.dynamic = TRUE;
  }
  *delayed_links += has_pad_added_handler (element);
}

gboolean
gst_px_layout_scan (GstBin * bin, GstPxLayoutScan * scan, GError ** error)
{
  guint delayed_links = 0, dynamic = 0;

  memset (scan, 0, sizeof *scan);
  GST_OBJECT_LOCK (bin);
  /* The bin lists its children newest first: the last sink pad seen is
   * the first element's. */
  for (GList * l = bin->children; l; l = l->next) {
    GstElement *element = l->data;

    GST_OBJECT_LOCK (element);
    scan_element (element, scan, &delayed_links);
    GST_OBJECT_UNLOCK (element);
    dynamic += sometimes_pads_unlinked (element);
  }
  GST_OBJECT_UNLOCK (bin);

  /* Each link the parser delays (a demuxer's sometimes pad to what
   * follows it) leaves one sink pad unlinked for now, which is not ours:
   * in "qtdemux ! h264parse", h264parse's. The bin's own sink pad, when
   * there is one, is the first element's, seen last. */
  scan->layout.sink_pads -= MIN (delayed_links, scan->layout.sink_pads);
  if (scan->layout.sink_pads > 1 || scan->layout.src_pads + dynamic > 1) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_REFUSED,
        "it leaves %u sink pads and %u src pads (%u with sometimes pads) "
        "unlinked; sandboxbin mirrors at most one sink and one source of "
        "src pads", scan->layout.sink_pads, scan->layout.src_pads + dynamic,
        dynamic);
    memset (scan, 0, sizeof *scan);
    return FALSE;
  }
  return TRUE;
}

gboolean
gst_px_layout_of (const gchar * description, GstPxLayout * layout,
    GError ** error)
{
  GstElement *bin = parse_description (description, error);
  GstPxLayoutScan scan;
  gboolean ok;

  if (bin == NULL)
    return FALSE;
  ok = gst_px_layout_scan (GST_BIN (bin), &scan, error);
  *layout = scan.layout;
  gst_object_unref (bin);
  return ok;
}

/* ---- the control connection -------------------------------------------- */

static void
set_status (GstPxWorker * worker, WorkerStatus status, const gchar * failure)
{
  g_mutex_lock (&worker->lock);
  if (worker->status == WORKER_STARTING || status == WORKER_EXITED) {
    worker->status = status;
    if (failure && worker->failure == NULL)
      worker->failure = g_strdup (failure);
  }
  g_cond_broadcast (&worker->cond);
  g_mutex_unlock (&worker->lock);
}

/* Reader thread. The claim is only noted: the supervisor checks the
 * worker's posture from outside before anything trusts it. */
static gboolean
handle_ready (GstPxWorker * worker, const GstStructure * s)
{
  const gchar *layers = gst_structure_get_string (s, "layers");
  guint64 one = 1;
  guint mask = 0;
  gboolean first;

  if (layers == NULL || !gst_structure_get_uint (s, "layer-mask", &mask))
    return FALSE;
  g_mutex_lock (&worker->lock);
  first = !worker->ready_claimed;
  worker->ready_claimed = TRUE;
  worker->claimed_mask = mask;
  g_mutex_unlock (&worker->lock);
  if (first && write (worker->ready_fd, &one, sizeof one) < 0)
    GST_WARNING_OBJECT (worker->owner, "cannot wake the supervisor");
  return first;
}

static gboolean
handle_message (GstPxWorker * worker, PxWireMessage * msg, GError ** error)
{
  GstStructure *s;
  GstMessage *message;
  PxWireBlob blob;
  gboolean ok = TRUE;

  if (px_wire_decode_blob (msg, &blob) < 0) {
    g_set_error (error, GST_PX_ERROR, 0, "bad MESSAGE from the worker");
    return FALSE;
  }
  s = gst_px_structure_deserialize (blob.body,
      gst_px_connection_get_budget (worker->control), error);
  if (s == NULL)
    return FALSE;
  if (gst_structure_has_name (s, GST_PX_WORKER_READY)) {
    ok = handle_ready (worker, s);

  } else if (gst_structure_has_name (s, GST_PX_WORKER_FAILED)) {
    const gchar *what = gst_structure_get_string (s, "message");
    gchar *failure = g_strdup_printf ("%s: %s",
        gst_structure_get_string (s, "stage"), what ? what : "failed");

    set_status (worker, WORKER_FAILED, failure);
    g_free (failure);
  } else {
    message = gst_px_worker_message_from_structure (worker->owner, blob.kind,
        s);
    if (message != NULL && worker->callbacks.message)
      worker->callbacks.message (worker, message, worker->user_data);
    else if (message != NULL)
      gst_message_unref (message);
  }
  gst_structure_free (s);
  if (!ok)
    g_set_error (error, GST_PX_ERROR, 0, "bad or repeated ready report from "
        "the worker");
  return ok;
}

static gboolean
handle_state_done (GstPxWorker * worker, PxWireMessage * msg, GError ** error)
{
  PxWireState state;

  if (px_wire_decode_state (msg, &state) < 0) {
    g_set_error (error, GST_PX_ERROR, 0, "bad STATE_DONE from the worker");
    return FALSE;
  }
  g_mutex_lock (&worker->lock);
  if (msg->header.request_id == worker->state_request) {
    worker->state_done = TRUE;
    worker->state_result = state.result;
    g_cond_broadcast (&worker->cond);
  }
  g_mutex_unlock (&worker->lock);
  return TRUE;
}

/* The worker's end of a new stream connection. Given an address first
 * (autobind) so that, in the host's network namespace (with-network), it
 * cannot be bound to a name of the worker's choosing: the lockdown does
 * the same to every AF_UNIX socket the worker holds before it locks. */
static gboolean
make_stream_pair (int pair[2], GError ** error)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX };

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_RESOURCE,
        "socketpair: %s", g_strerror (errno));
    return FALSE;
  }
  if (bind (pair[1], (struct sockaddr *) &addr, sizeof (sa_family_t)) < 0) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_RESOURCE,
        "autobind: %s", g_strerror (errno));
    close (pair[0]);
    close (pair[1]);
    return FALSE;
  }
  return TRUE;
}

static gint
find_stream (GstPxWorker * worker, guint id)
{
  for (guint i = 0; i < worker->n_streams; i++) {
    if (worker->stream_ids[i] == id)
      return (gint) i;
  }
  return -1;
}

/* Reader thread: a new pad. Refused (the pad stays unlinked in the worker)
 * past the limits or when the owner cannot take it; *@fd is the worker's
 * end when granted. A second OPEN of an open stream is a protocol error. */
static gboolean
open_stream (GstPxWorker * worker, guint id, int *fd, GError ** error)
{
  GError *failure = NULL;
  int pair[2];

  *fd = -1;
  if (find_stream (worker, id) >= 0) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL,
        "the worker opened stream %u twice", id);
    return FALSE;
  }
  if (worker->n_streams == GST_PX_WORKER_MAX_STREAMS ||
      worker->stream_opens == GST_PX_WORKER_MAX_STREAM_OPENS) {
    GST_WARNING_OBJECT (worker->owner, "refusing stream %u of worker %d: "
        "%u open, %u opened (at most %u at once, %u in all)", id,
        (int) worker->child.pid, worker->n_streams, worker->stream_opens,
        GST_PX_WORKER_MAX_STREAMS, GST_PX_WORKER_MAX_STREAM_OPENS);
    return TRUE;
  }
  if (!make_stream_pair (pair, &failure)) {
    GST_WARNING_OBJECT (worker->owner, "no connection for stream %u: %s",
        id, failure->message);
    g_error_free (failure);
    return TRUE;
  }
  worker->stream_opens++;
  if (!worker->stream_callbacks.opened (worker, id, pair[0],
          worker->stream_user_data)) {
    close (pair[1]);
    return TRUE;
  }
  worker->stream_ids[worker->n_streams++] = id;
  *fd = pair[1];
  return TRUE;
}

static void
close_stream (GstPxWorker * worker, guint id)
{
  gint i = find_stream (worker, id);

  /* A refused stream was never open: closing it is no error. */
  if (i < 0)
    return;
  worker->stream_ids[i] = worker->stream_ids[--worker->n_streams];
  worker->stream_callbacks.closed (worker, id, worker->stream_user_data);
}

/* Reader thread. Only a description with sometimes pads has streams. */
static gboolean
handle_stream (GstPxWorker * worker, PxWireMessage * msg, GError ** error)
{
  PxWireStream stream;
  PxWireEncoded reply;
  int fd = -1, ret;
  gboolean ok = TRUE;

  if (px_wire_decode_stream (msg, &stream) < 0) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL,
        "bad STREAM from the worker");
    return FALSE;
  }
  if (!worker->layout.dynamic || worker->stream_callbacks.opened == NULL) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL,
        "the worker sent STREAM, but its description has no sometimes pads");
    return FALSE;
  }
  switch (stream.op) {
    case PX_WIRE_STREAM_OPEN:
      ok = open_stream (worker, stream.stream_id, &fd, error);
      break;
    case PX_WIRE_STREAM_CLOSE:
      close_stream (worker, stream.stream_id);
      break;
    default:
      worker->stream_callbacks.no_more (worker, worker->stream_user_data);
      break;
  }
  if (!ok)
    return FALSE;
  stream.result = stream.op != PX_WIRE_STREAM_OPEN || fd >= 0;
  ret = px_wire_encode_stream (&reply, PX_WIRE_STREAM_DONE,
      msg->header.request_id, &stream, fd);
  if (ret == 0)
    ret = gst_px_connection_send (worker->control, &reply,
        GST_PX_CONNECTION_REPLY_TIMEOUT);
  px_wire_encoded_clear (&reply);
  px_close_fd (&fd);
  if (ret < 0)
    GST_WARNING_OBJECT (worker->owner, "cannot answer the worker's STREAM: "
        "%s", g_strerror (-ret));
  return TRUE;
}

static gboolean
control_message (GstPxConnection * conn, PxWireMessage * msg,
    gpointer user_data, GError ** error)
{
  GstPxWorker *worker = user_data;

  switch (msg->header.type) {
    case PX_WIRE_MESSAGE:
      return handle_message (worker, msg, error);
    case PX_WIRE_STATE_DONE:
      return handle_state_done (worker, msg, error);
    case PX_WIRE_STREAM:
      return handle_stream (worker, msg, error);
    default:
      g_set_error (error, GST_PX_ERROR, 0, "unexpected %s from the worker",
          px_wire_type_name (msg->header.type));
      return FALSE;
  }
}

/* Any thread. Sends SIGKILL unless the worker is not spawned yet or is
 * reaped already (the supervisor changes both under the lock; the signal
 * is a system call that does not block). */
static void
kill_child (GstPxWorker * worker)
{
  g_mutex_lock (&worker->lock);
  px_sandbox_child_kill (&worker->child);
  g_mutex_unlock (&worker->lock);
}

/* Any thread. The first reason is the one reported. */
static void
kill_worker (GstPxWorker * worker, const gchar * reason)
{
  g_mutex_lock (&worker->lock);
  if (worker->kill_reason == NULL)
    worker->kill_reason = g_strdup (reason);
  g_mutex_unlock (&worker->lock);
  GST_WARNING_OBJECT (worker->owner, "killing the worker: %s", reason);
  set_status (worker, WORKER_FAILED, reason);
  kill_child (worker);
}

/* TRUE if the process of @pidfd ends (or has ended) within @ms. */
static gboolean
ends_within (int pidfd, int ms)
{
  struct pollfd pfd = {.fd = pidfd,.events = POLLIN };
  int n;

  do {
    n = poll (&pfd, 1, ms);
  } while (n < 0 && errno == EINTR);
  return n != 0;
}

static void
control_closed (GstPxConnection * conn, const GError * error,
    gpointer user_data)
{
  GstPxWorker *worker = user_data;
  gboolean stopping;
  pid_t pid;
  int pidfd;

  /* A worker that breaks the protocol is not trusted any further. */
  if (error != NULL) {
    kill_worker (worker, error->message);
    return;
  }
  /* It closed the socket: it is dying (its fds close before it is gone),
   * or it stopped listening while it goes on running. One that has not
   * ended HANGUP_GRACE_MS later is of no more use: treated as dead and
   * killed, and reported so. */
  g_mutex_lock (&worker->lock);
  stopping = worker->stopping;
  pidfd = worker->child.pidfd;
  pid = worker->child.pid;
  g_mutex_unlock (&worker->lock);
  /* (no pidfd: the spawn failed, and said why; the pidfd stays open until
   * gst_px_worker_stop() has closed this connection) */
  if (stopping || pidfd < 0 || ends_within (pidfd, HANGUP_GRACE_MS))
    return;
  g_mutex_lock (&worker->lock);
  worker->hung_up = TRUE;
  g_mutex_unlock (&worker->lock);
  GST_WARNING_OBJECT (worker->owner, "worker %d closed its control "
      "connection but runs on: killing it", (int) pid);
  set_status (worker, WORKER_FAILED, "it closed its control connection");
  kill_child (worker);
}

static const GstPxConnectionFuncs control_funcs = {
  .message = control_message,
  .closed = control_closed,
};

/* ---- supervision ------------------------------------------------------- */

/* Messages the worker sent before it died are relayed before its end is
 * reported: read the control socket to its end. */
static void
drain_control (GstPxWorker * worker)
{
  gint64 deadline = g_get_monotonic_time () + G_TIME_SPAN_SECOND;

  while (!gst_px_connection_is_closed (worker->control) &&
      g_get_monotonic_time () < deadline)
    g_usleep (1000);
}

static gchar *
exit_reason (GstPxWorker * worker, const siginfo_t * info)
{
  gchar *reason;

  g_mutex_lock (&worker->lock);
  if (worker->violation_description != NULL && worker->violation_refused)
    reason = g_strdup_printf ("killed by the sandbox for calling %s after "
        "%u refused W^X calls", worker->violation_description,
        worker->violation_refused);
  else if (worker->violation_description != NULL)
    reason = g_strdup_printf ("killed by the sandbox for calling %s",
        worker->violation_description);
  else if (worker->hung_up && info->si_code == CLD_KILLED &&
      info->si_status == SIGKILL)
    reason = g_strdup ("killed by its supervisor: it closed its control "
        "connection while still running");
  else if (info->si_code == CLD_EXITED)
    reason = g_strdup_printf ("exited with status %d", info->si_status);
  else if (worker->kill_reason != NULL && info->si_status == SIGKILL)
    reason = g_strdup_printf ("killed by the host: %s", worker->kill_reason);
  else
    reason = g_strdup_printf ("killed by signal %d (%s)", info->si_status,
        g_strsignal (info->si_status));
  g_mutex_unlock (&worker->lock);
  return reason;
}

static gchar **
worker_argv (GstPxWorker * worker, GError ** error)
{
  gchar **plugins = gst_px_worker_plugin_files (worker->description,
      &worker->layout, error);
  gchar **autoplugged;
  GPtrArray *argv;
  gint fd = WORKER_CONTROL_FD + 1;

  if (plugins == NULL)
    return NULL;
  autoplugged = gst_px_worker_autoplug_plugin_files (worker->description,
      &worker->layout, error);
  if (autoplugged == NULL) {
    g_strfreev (plugins);
    return NULL;
  }
  argv = g_ptr_array_new ();
  g_ptr_array_add (argv, g_strdup ("parallax-worker"));
  if (worker->layout.sink_pads)
    g_ptr_array_add (argv, g_strdup_printf ("--input-fd=%d", fd++));
  if (worker->layout.src_pads)
    g_ptr_array_add (argv, g_strdup_printf ("--output-fd=%d", fd++));
  if (worker->layout.dynamic)
    g_ptr_array_add (argv, g_strdup ("--streams"));
  for (guint i = 0; plugins[i]; i++)
    g_ptr_array_add (argv, g_strdup_printf ("--plugin=%s", plugins[i]));
  for (guint i = 0; autoplugged[i]; i++)
    g_ptr_array_add (argv, g_strdup_printf ("--autoplug-plugin=%s",
            autoplugged[i]));
  g_ptr_array_add (argv, g_strdup ("--"));
  g_ptr_array_add (argv, g_strdup (worker->description));
  g_ptr_array_add (argv, NULL);
  g_strfreev (plugins);
  g_strfreev (autoplugged);
  return (gchar **) g_ptr_array_free (argv, FALSE);
}

/* Supervisor thread: the kernel reported a call the filter kills (or a
 * W^X call past the budget); the worker is already being killed. */
static void
record_violation (GstPxWorker * worker, const PxSandboxViolation * v,
    const gchar * name, const gchar * description)
{
  GstStructure *s;
  gboolean first;

  GST_WARNING_OBJECT (worker->owner, "the sandbox refused %s on thread %d%s",
      description, (int) v->tid, v->verdict == PX_SANDBOX_VERDICT_FLOODED ?
      ", one W^X call too many: killing the worker" : "");
  g_mutex_lock (&worker->lock);
  first = worker->violation == NULL;
  if (first) {
    worker->violation = g_strdup (name);
    worker->violation_description = g_strdup (description);
    if (v->verdict == PX_SANDBOX_VERDICT_FLOODED)
      worker->violation_refused = v->refused_calls;
  }
  g_mutex_unlock (&worker->lock);
  set_status (worker, WORKER_FAILED, description);
  if (!first || worker->callbacks.message == NULL)
    return;
  s = gst_structure_new (GST_PX_WORKER_VIOLATION, "syscall", G_TYPE_STRING,
      name, "number", G_TYPE_INT, (gint) v->nr, "arch", G_TYPE_UINT,
      (guint) v->arch, "call", G_TYPE_STRING, description, "thread",
      G_TYPE_INT, (gint) v->tid, "refused-calls", G_TYPE_UINT,
      v->refused_calls, NULL);
  worker->callbacks.message (worker, gst_message_new_element (worker->owner,
          s), worker->user_data);
}

/* Supervisor thread: the sandbox answered a W^X call with EACCES and the
 * worker goes on. The owner hears of the first of each syscall (a JIT
 * may ask again and again); the log hears of every one. */
static void
record_refusal (GstPxWorker * worker, const PxSandboxViolation * v,
    const gchar * name, const gchar * description)
{
  GstStructure *details;
  GError *error;
  gchar *debug;

  GST_INFO_OBJECT (worker->owner, "the sandbox refused %s on thread %d with "
      "EACCES (%u refused so far)", description, (int) v->tid,
      v->refused_calls);
  if (!v->first_of_its_kind)
    return;
  GST_WARNING_OBJECT (worker->owner, "the sandbox refused %s on thread %d: "
      "no executable memory in the worker", description, (int) v->tid);
  if (worker->callbacks.message == NULL)
    return;
  error = g_error_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
      "The sandbox refused the worker executable memory: %s", description);
  debug = g_strdup_printf ("W^X: the call failed with EACCES on the "
      "worker's thread %d, which goes on (a JIT falls back to its "
      "interpreter); further %s calls refused to this worker are only "
      "logged", (int) v->tid, name);
  details = gst_structure_new (GST_PX_WORKER_REFUSED, "syscall",
      G_TYPE_STRING, name, "number", G_TYPE_INT, (gint) v->nr, "arch",
      G_TYPE_UINT, (guint) v->arch, "call", G_TYPE_STRING, description,
      "thread", G_TYPE_INT, (gint) v->tid, "refused-calls", G_TYPE_UINT,
      v->refused_calls, NULL);
  worker->callbacks.message (worker,
      gst_message_new_warning_with_details (worker->owner, error, debug,
          details), worker->user_data);
  g_free (debug);
  g_error_free (error);
}

/* Kills a worker whose posture does not match and says so on the bus. */
static void
refuse_posture (GstPxWorker * worker, const gchar * why)
{
  GError *error;

  kill_worker (worker, why);
  if (worker->callbacks.message == NULL)
    return;
  error = g_error_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED,
      "Refused the sandboxed worker: %s", why);
  worker->callbacks.message (worker, gst_message_new_error (worker->owner,
          error, "its posture was read from /proc before it could receive "
          "media"), worker->user_data);
  g_error_free (error);
}

/* Supervisor thread: the worker says it is locked down. It is ready once
 * its posture, read from /proc, shows what the policy asks and what it
 * claims. */
static void
check_ready (GstPxWorker * worker)
{
  PxSandboxViolation unused;
  char *why = NULL, layers[256];
  unsigned claimed, verified = 0;
  gint64 start = g_get_monotonic_time ();
  guint64 count;

  if (read (worker->ready_fd, &count, sizeof count) < 0)
    return;
  g_mutex_lock (&worker->lock);
  claimed = worker->claimed_mask;
  g_mutex_unlock (&worker->lock);
  /* the listener was sent before READY: it is queued if it exists */
  if (!px_sandbox_child_has_listener (&worker->child))
    px_sandbox_child_service (&worker->child, &unused);
  if (px_sandbox_child_check_posture (&worker->child, &worker->config,
          claimed, &verified, &why) < 0) {
    refuse_posture (worker, why ? why : "its posture could not be read");
    free (why);
    return;
  }
  px_sandbox_layers_format (verified, layers, sizeof layers);
  GST_DEBUG_OBJECT (worker->owner, "posture checked in %" G_GINT64_FORMAT
      " us: %s", g_get_monotonic_time () - start, layers);
  g_mutex_lock (&worker->lock);
  g_free (worker->layers);
  worker->layers = g_strdup (layers);
  worker->layer_mask = verified;
  g_mutex_unlock (&worker->lock);
  set_status (worker, WORKER_READY, NULL);
}

/* Supervisor thread: the listener came, or the filter stopped a call. */
static void
service_listener (GstPxWorker * worker)
{
  PxSandboxViolation v;
  char name[64], description[512];
  int ret = px_sandbox_child_service (&worker->child, &v);

  if (ret < 0) {
    kill_worker (worker, "the worker handed over something else than its "
        "seccomp listener");
    return;
  }
  if (ret != 1)
    return;
  px_sandbox_violation_name (v.nr, v.arch, name, sizeof name);
  if (px_sandbox_violation_describe (&v, description, sizeof description) < 0)
    g_strlcpy (description, name, sizeof description);
  if (v.verdict == PX_SANDBOX_VERDICT_REFUSED)
    record_refusal (worker, &v, name, description);
  else
    record_violation (worker, &v, name, description);
}

/* One line of the worker's stderr into the log, control characters
 * replaced: the text is the worker's. */
static void
log_stderr_line (GstPxWorker * worker)
{
  for (gsize i = 0; i < worker->stderr_len; i++) {
    guchar c = worker->stderr_line[i];

    if (c < 0x20 || c == 0x7f)
      worker->stderr_line[i] = c == '\t' ? ' ' : '?';
  }
  worker->stderr_line[worker->stderr_len] = '\0';
  if (worker->stderr_len > 0)
    GST_WARNING_OBJECT (worker->owner, "worker %d stderr: %s",
        (int) worker->child.pid, worker->stderr_line);
  worker->stderr_len = 0;
}

/* Reads what the budget of this second allows; FALSE once the budget is
 * spent (poll the pipe again only at the next second). */
static gboolean
drain_stderr (GstPxWorker * worker)
{
  gchar buf[4096];
  gint64 now = g_get_monotonic_time ();
  ssize_t n;

  if (now - worker->stderr_window >= G_TIME_SPAN_SECOND) {
    worker->stderr_window = now;
    worker->stderr_budget = STDERR_BYTES_PER_SECOND;
  }
  while (worker->stderr_budget > 0) {
    n = read (worker->child.stderr_fd, buf, MIN (sizeof buf,
            worker->stderr_budget));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return TRUE;              /* empty for now, or closed */
    worker->stderr_budget -= n;
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\n' || worker->stderr_len == STDERR_LINE_MAX)
        log_stderr_line (worker);
      if (buf[i] != '\n')
        worker->stderr_line[worker->stderr_len++] = buf[i];
    }
  }
  GST_WARNING_OBJECT (worker->owner, "worker %d writes more than %d bytes "
      "a second to stderr: the rest of this second is not read",
      (int) worker->child.pid, STDERR_BYTES_PER_SECOND);
  return FALSE;
}

/* Whether the supervisor must add up the worker's memory itself: under
 * rlimits, RLIMIT_AS leaves out memfd pages it holds without mapping them
 * (arenas the host made for it), so the limit holds only if someone counts
 * them. Under cgroups the kernel does. */
static gboolean
memory_needs_checks (GstPxWorker * worker)
{
  return worker->child.limits == PX_SANDBOX_LIMITS_RLIMIT &&
      worker->config.memory_bytes > 0;
}

/* Supervisor thread, every MEMORY_CHECK_INTERVAL: kills a worker that
 * holds more than its memory limit, as /proc shows it. */
static gboolean
memory_check (GstPxWorker * worker)
{
  guint64 held;
  int ret;

  worker->memory_checked = g_get_monotonic_time ();
  ret = px_sandbox_child_memory_held (&worker->child, &held);
  if (ret == -ESRCH)
    return TRUE;
  if (ret < 0) {
    kill_worker (worker, "its memory cannot be read from /proc");
    return FALSE;
  }
  if (held > worker->config.memory_bytes) {
    gchar *reason = g_strdup_printf ("it holds %" G_GUINT64_FORMAT " bytes "
        "(its address space and memory it filled but no longer maps), over "
        "its memory limit of %" G_GUINT64_FORMAT, held,
        (guint64) worker->config.memory_bytes);

    kill_worker (worker, reason);
    g_free (reason);
    return FALSE;
  }
  return TRUE;
}

/* Milliseconds until @last + @interval, for poll(). */
static int
ms_until (gint64 last, gint64 interval)
{
  gint64 left = interval - (g_get_monotonic_time () - last);

  return (int) CLAMP (left / 1000, 0, G_MAXINT);
}

/* Waits for the worker to end or for gst_px_worker_stop(), reading the
 * seccomp listener and logging its stderr meanwhile. The listener is read
 * at once, always: while nobody reads it, a worker thread that made a
 * killed call waits in the kernel. */
static void
watch (GstPxWorker * worker)
{
  struct pollfd pfd[5] = {
    {.fd = worker->child.pidfd,.events = POLLIN},
    {.fd = worker->stop_fd,.events = POLLIN},
    {.fd = -1,.events = POLLIN},        /* the listener: see below */
    {.fd = worker->ready_fd,.events = POLLIN},
    {.fd = worker->child.stderr_fd,.events = POLLIN},
  };
  gboolean reading = TRUE, check_memory = memory_needs_checks (worker);

  for (;;) {
    int timeout = reading ? -1 : MAX (ms_until (worker->stderr_window,
            G_TIME_SPAN_SECOND), 1);
    int n;

    if (check_memory && ms_until (worker->memory_checked,
            MEMORY_CHECK_INTERVAL) == 0)
      check_memory = memory_check (worker);     /* FALSE: killed */
    if (check_memory) {
      int memory_timeout = MAX (ms_until (worker->memory_checked,
              MEMORY_CHECK_INTERVAL), 1);

      timeout = timeout < 0 ? memory_timeout : MIN (timeout, memory_timeout);
    }

    /* the supervisor socket until the listener came, then the listener */
    pfd[2].fd = px_sandbox_child_watch_fd (&worker->child);
    n = poll (pfd, reading ? 5 : 4, timeout);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      GST_ERROR_OBJECT (worker->owner, "poll: %s", g_strerror (errno));
      kill_worker (worker, "the supervisor cannot wait");
      break;
    }
    if (pfd[2].revents)
      service_listener (worker);
    if (pfd[3].revents)
      check_ready (worker);
    if (pfd[0].revents | pfd[1].revents)
      break;
    if (!reading || (pfd[4].revents & (POLLIN | POLLHUP)))
      reading = drain_stderr (worker);
    if (reading && (pfd[4].revents & POLLHUP) && !(pfd[4].revents & POLLIN))
      pfd[4].fd = -1;           /* closed: poll ignores it from now on */
  }
}

static gpointer
supervise (gpointer data)
{
  GstPxWorker *worker = data;
  GError *error = NULL;
  gchar **argv = worker_argv (worker, &error);
  char *spawn_error = NULL;
  PxSandboxChild child;
  siginfo_t info = { 0, };
  gchar *reason;
  int ret;

  if (argv == NULL) {
    set_status (worker, WORKER_FAILED, error->message);
    set_status (worker, WORKER_EXITED, NULL);
    g_clear_error (&error);
    return NULL;
  }
  ret = px_sandbox_spawn_fds (gst_px_worker_path (),
      (const char *const *) argv, worker->child_fds, worker->n_child_fds,
      &worker->config, &child, &spawn_error);
  if (ret == 0) {
    g_mutex_lock (&worker->lock);
    worker->child = child;
    g_mutex_unlock (&worker->lock);
  }
  g_strfreev (argv);
  for (guint i = 0; i < worker->n_child_fds; i++)
    px_close_fd (&worker->child_fds[i]);
  if (ret < 0) {
    set_status (worker, WORKER_FAILED, spawn_error ? spawn_error :
        g_strerror (-ret));
    set_status (worker, WORKER_EXITED, NULL);
    free (spawn_error);
    return NULL;
  }
  if (worker->child.warning && worker->callbacks.message) {
    GError *incomplete = g_error_new (GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_SETTINGS, "Sandbox incomplete: %s",
        worker->child.warning);

    worker->callbacks.message (worker, gst_message_new_warning
        (worker->owner, incomplete, NULL), worker->user_data);
    g_error_free (incomplete);
  }

  watch (worker);
  /* Reap. It has ended, or gst_px_worker_stop() has killed it before
   * waking us: wait for its end without the lock, then reap it (which no
   * longer blocks) under the lock, which kill_child() takes. */
  ends_within (worker->child.pidfd, -1);
  g_mutex_lock (&worker->lock);
  px_sandbox_child_wait (&worker->child, true, &info);
  worker->exit_info = info;
  g_mutex_unlock (&worker->lock);
  drain_control (worker);
  drain_stderr (worker);
  log_stderr_line (worker);
  reason = exit_reason (worker, &info);
  GST_INFO_OBJECT (worker->owner, "worker %d %s", worker->child.pid, reason);
  set_status (worker, WORKER_EXITED, reason);
  if (worker->callbacks.exited)
    worker->callbacks.exited (worker, reason, worker->user_data);
  g_free (reason);
  return NULL;
}

/* ---- public API -------------------------------------------------------- */


/* What the caller's GStreamer debug settings become in the worker (by
 * name: the caller's values, when it has them). Its debug lines reach the
 * host's log through its stderr pipe, within the pipe's rate limit.
 * GST_DEBUG_FILE is not among them: the worker can open no file. */
static const gchar *const debug_names[] = {
  "GST_DEBUG", "GST_DEBUG_NO_COLOR", "GST_DEBUG_COLOR_MODE",
};

static gboolean
names_variable (const gchar * entry, const gchar * name)
{
  gsize len = strlen (name);

  return strncmp (entry, name, len) == 0 && (entry[len] == '\0' ||
      entry[len] == '=');
}

/* The caller's entries (copied: they must outlive the spawn, which happens
 * on the supervisor's thread), plus WORKER_ORC_CODE unless one of them
 * names ORC_CODE ("ORC_CODE=..." or "ORC_CODE", the caller's value), plus
 * the debug settings it does not name itself. */
static gchar **
worker_env (const char *const *env)
{
  GPtrArray *entries = g_ptr_array_new ();
  gboolean orc_code = FALSE;

  for (guint i = 0; env != NULL && env[i] != NULL; i++) {
    orc_code |= names_variable (env[i], "ORC_CODE");
    g_ptr_array_add (entries, g_strdup (env[i]));
  }
  for (guint d = 0; d < G_N_ELEMENTS (debug_names); d++) {
    gboolean named = FALSE;

    for (guint i = 0; env != NULL && env[i] != NULL; i++)
      named |= names_variable (env[i], debug_names[d]);
    if (!named)
      g_ptr_array_add (entries, g_strdup (debug_names[d]));
  }
  if (!orc_code)
    g_ptr_array_add (entries, g_strdup (WORKER_ORC_CODE));
  g_ptr_array_add (entries, NULL);
  return (gchar **) g_ptr_array_free (entries, FALSE);
}

GstPxWorker *
gst_px_worker_new (const gchar * description, const PxSandboxConfig * config,
    GstObject * owner, const GstPxWorkerCallbacks * callbacks,
    gpointer user_data)
{
  GstPxWorker *worker = g_new0 (GstPxWorker, 1);

  init_debug ();
  worker->description = g_strdup (description);
  worker->config = *config;
  worker->env = worker_env (config->env);
  worker->config.env = (const char *const *) worker->env;
  worker->owner = owner;
  if (callbacks)
    worker->callbacks = *callbacks;
  worker->user_data = user_data;
  worker->layout.sink_pads = worker->layout.src_pads = 1;
  worker->input_fd = worker->output_fd = worker->stop_fd = -1;
  worker->ready_fd = -1;
  for (guint i = 0; i < WORKER_MAX_FDS; i++)
    worker->child_fds[i] = -1;
  worker->child.pidfd = worker->child.stderr_fd = -1;
  worker->child.status_fd = -1;
  worker->child.supervisor_fd = worker->child.listener_fd = -1;
  g_mutex_init (&worker->lock);
  g_cond_init (&worker->cond);
  return worker;
}

/* A connected pair: the host's end in *@host, the worker's appended to
 * its fds. */
static gboolean
add_socket_pair (GstPxWorker * worker, int *host, GError ** error)
{
  int pair[2];

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
    g_set_error (error, GST_PX_ERROR, 0, "socketpair: %s", g_strerror (errno));
    return FALSE;
  }
  *host = pair[0];
  worker->child_fds[worker->n_child_fds++] = pair[1];
  return TRUE;
}

/* The control socket (fd 3 in the worker), then a data socket for the
 * description's input and one for its output, if it has them. Closed by
 * gst_px_worker_stop() on failure. */
static gboolean
make_sockets (GstPxWorker * worker, int *control, GError ** error)
{
  return add_socket_pair (worker, control, error) &&
      (worker->layout.sink_pads == 0 || add_socket_pair (worker,
          &worker->input_fd, error)) &&
      (worker->layout.src_pads == 0 || add_socket_pair (worker,
          &worker->output_fd, error));
}

void
gst_px_worker_set_layout (GstPxWorker * worker, const GstPxLayout * layout)
{
  worker->layout = *layout;
}

void
gst_px_worker_set_stream_callbacks (GstPxWorker * worker,
    const GstPxWorkerStreamCallbacks * callbacks, gpointer user_data)
{
  worker->stream_callbacks = *callbacks;
  worker->stream_user_data = user_data;
}

static gboolean
wait_ready (GstPxWorker * worker, GstClockTime timeout, GError ** error)
{
  gint64 deadline = g_get_monotonic_time () + timeout / GST_USECOND;
  gboolean ok;

  g_mutex_lock (&worker->lock);
  while (worker->status == WORKER_STARTING &&
      g_cond_wait_until (&worker->cond, &worker->lock, deadline));
  ok = worker->status == WORKER_READY;
  if (!ok)
    g_set_error (error, GST_PX_ERROR, 0, "the sandboxed worker did not "
        "start: %s", worker->failure ? worker->failure :
        worker->status == WORKER_STARTING ? "timed out" : "it ended");
  g_mutex_unlock (&worker->lock);
  return ok;
}

gboolean
gst_px_worker_start (GstPxWorker * worker, GstClockTime timeout,
    GError ** error)
{
  int control = -1;

  g_return_val_if_fail (worker->supervisor == NULL, FALSE);
  if (!make_sockets (worker, &control, error)) {
    px_close_fd (&control);
    return FALSE;
  }
  worker->control = gst_px_connection_new (control, worker->owner,
      &control_funcs, worker);
  gst_px_connection_set_name (worker->control, "worker");
  worker->stop_fd = eventfd (0, EFD_CLOEXEC);
  worker->ready_fd = eventfd (0, EFD_CLOEXEC);
  if (worker->stop_fd < 0 || worker->ready_fd < 0) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_RESOURCE,
        "cannot create the supervisor's wake-up eventfd: %s",
        g_strerror (errno));
    return FALSE;
  }
  if (!gst_px_connection_start (worker->control, error))
    return FALSE;
  worker->supervisor = g_thread_try_new ("px-supervisor", supervise, worker,
      error);
  if (worker->supervisor == NULL)
    return FALSE;
  return wait_ready (worker, timeout, error);
}

gint
gst_px_worker_get_input_fd (GstPxWorker * worker)
{
  return worker->input_fd;
}

gint
gst_px_worker_get_output_fd (GstPxWorker * worker)
{
  return worker->output_fd;
}

guint64
gst_px_worker_get_arena_budget (GstPxWorker * worker)
{
  return worker->config.memory_bytes ? worker->config.memory_bytes :
      G_MAXUINT64;
}

const gchar *
gst_px_worker_get_layers (GstPxWorker * worker)
{
  return worker->layers;
}

guint
gst_px_worker_get_layer_mask (GstPxWorker * worker)
{
  return worker->layer_mask;
}

const gchar *
gst_px_worker_get_limits (GstPxWorker * worker)
{
  return px_sandbox_limit_mechanism_name (worker->child.limits);
}

const gchar *
gst_px_worker_get_warning (GstPxWorker * worker)
{
  return worker->child.warning;
}

pid_t
gst_px_worker_get_pid (GstPxWorker * worker)
{
  return worker->child.pid;
}

gchar *
gst_px_worker_get_violation (GstPxWorker * worker)
{
  gchar *violation;

  g_mutex_lock (&worker->lock);
  violation = g_strdup (worker->violation);
  g_mutex_unlock (&worker->lock);
  return violation;
}

gboolean
gst_px_worker_ping (GstPxWorker * worker, GstClockTime timeout)
{
  return worker->control && gst_px_connection_ping (worker->control, timeout);
}

GstStateChangeReturn
gst_px_worker_change_state (GstPxWorker * worker, GstStateChange transition,
    GstClockTime timeout)
{
  PxWireState state = {.transition = transition };
  gint64 deadline = g_get_monotonic_time () + timeout / GST_USECOND;
  GstStateChangeReturn result = GST_STATE_CHANGE_FAILURE;
  guint64 request;

  g_mutex_lock (&worker->lock);
  request = worker->state_request = ++worker->last_state_request;
  worker->state_done = FALSE;
  g_mutex_unlock (&worker->lock);
  if (gst_px_connection_send_state (worker->control, PX_WIRE_STATE, request,
          &state, timeout) < 0)
    return GST_STATE_CHANGE_FAILURE;

  g_mutex_lock (&worker->lock);
  while (!worker->state_done && worker->status == WORKER_READY &&
      g_cond_wait_until (&worker->cond, &worker->lock, deadline));
  if (worker->state_done)
    result = worker->state_result;
  worker->state_request = 0;
  g_mutex_unlock (&worker->lock);
  return result;
}

void
gst_px_worker_stop (GstPxWorker * worker, GstClockTime grace)
{
  gint64 deadline = g_get_monotonic_time () + grace / GST_USECOND;
  guint64 one = 1;

  if (worker->supervisor != NULL) {
    g_mutex_lock (&worker->lock);
    worker->stopping = TRUE;
    g_mutex_unlock (&worker->lock);
    gst_px_connection_send_empty (worker->control, PX_WIRE_SHUTDOWN, 0, grace);
    g_mutex_lock (&worker->lock);
    while (worker->status != WORKER_EXITED &&
        g_cond_wait_until (&worker->cond, &worker->lock, deadline));
    g_mutex_unlock (&worker->lock);
    /* Past the grace period, or never started: no more waiting. */
    kill_child (worker);
    if (write (worker->stop_fd, &one, sizeof one) < 0)
      GST_WARNING_OBJECT (worker->owner, "cannot wake the supervisor");
    g_thread_join (worker->supervisor);
    worker->supervisor = NULL;
  }
  if (worker->control) {
    gst_px_connection_close (worker->control);
    gst_px_connection_unref (worker->control);
    worker->control = NULL;
  }
  px_sandbox_child_cleanup (&worker->child);
  px_close_fd (&worker->input_fd);
  px_close_fd (&worker->output_fd);
  px_close_fd (&worker->stop_fd);
  px_close_fd (&worker->ready_fd);
  for (guint i = 0; i < WORKER_MAX_FDS; i++)
    px_close_fd (&worker->child_fds[i]);
}

void
gst_px_worker_free (GstPxWorker * worker)
{
  if (worker == NULL)
    return;
  gst_px_worker_stop (worker, 0);
  g_free (worker->description);
  g_strfreev (worker->env);
  g_free (worker->failure);
  g_free (worker->layers);
  g_free (worker->violation);
  g_free (worker->violation_description);
  g_free (worker->kill_reason);
  g_mutex_clear (&worker->lock);
  g_cond_clear (&worker->cond);
  g_free (worker);
}

gboolean
gst_px_worker_get_exit_status (GstPxWorker * worker, gint * exit_status,
    gint * signal_number)
{
  gboolean exited;

  g_mutex_lock (&worker->lock);
  exited = worker->status == WORKER_EXITED && worker->exit_info.si_pid != 0;
  if (exited) {
    gboolean by_signal = worker->exit_info.si_code != CLD_EXITED;

    *exit_status = by_signal ? -1 : worker->exit_info.si_status;
    *signal_number = by_signal ? worker->exit_info.si_status : 0;
  }
  g_mutex_unlock (&worker->lock);
  return exited;
}
