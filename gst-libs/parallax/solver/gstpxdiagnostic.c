/* Parallax — what the caps solver found, said like a compiler would.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:gstpxdiagnostic
 * @title: GstPxDiagnostic
 * @short_description: one finding of the caps solver
 *
 * A diagnostic has a stable code (PX-E001 … errors, PX-W… warnings, PX-N…
 * notes on what the solver did), the two pads of the link concerned, the
 * path of elements between the constraints that meet there, a per-field
 * comparison of what each side offers and accepts, and a suggestion.
 * gst_px_diagnostic_to_string() writes it the way a compiler writes an
 * error.
 */
#include "gstpxsolverprivate.h"

#include <string.h>

struct _GstPxDiagnostic
{
  GObject parent;

  GstPxDiagnosticCode code;
  gchar *message;
  gchar *src_pad;
  gchar *sink_pad;
  gchar **path;
  GPtrArray *rows;              /* PxFieldDiff */
  gchar **fields;               /* names of the rows, for bindings */
  gchar *suggestion;
};

G_DEFINE_TYPE (GstPxDiagnostic, gst_px_diagnostic, G_TYPE_OBJECT);

static const struct
{
  const gchar *code;
  GstPxSeverity severity;
} codes[] = {
  [GST_PX_DIAGNOSTIC_NO_CONVERSION] = {"PX-E001", GST_PX_SEVERITY_ERROR},
  [GST_PX_DIAGNOSTIC_MEDIA_TYPE_MISMATCH] = {"PX-E002", GST_PX_SEVERITY_ERROR},
  [GST_PX_DIAGNOSTIC_MEMORY_UNREACHABLE] = {"PX-E003", GST_PX_SEVERITY_ERROR},
  [GST_PX_DIAGNOSTIC_UNKNOWN_FORMAT] = {"PX-E004", GST_PX_SEVERITY_ERROR},
  [GST_PX_DIAGNOSTIC_UNKNOWN_MEDIA_TYPE] = {"PX-E005", GST_PX_SEVERITY_ERROR},
  [GST_PX_DIAGNOSTIC_UNKNOWN_FEATURE] = {"PX-E006", GST_PX_SEVERITY_ERROR},
  [GST_PX_DIAGNOSTIC_NO_SUCH_PAD] = {"PX-E007", GST_PX_SEVERITY_ERROR},
  [GST_PX_DIAGNOSTIC_UNLINKED_PAD] = {"PX-W001", GST_PX_SEVERITY_WARNING},
  [GST_PX_DIAGNOSTIC_CONVERTER_INSERTED] = {"PX-N001", GST_PX_SEVERITY_NOTE},
  [GST_PX_DIAGNOSTIC_ARENA_POOL] = {"PX-N002", GST_PX_SEVERITY_NOTE},
  [GST_PX_DIAGNOSTIC_DYNAMIC_LINK] = {"PX-N003", GST_PX_SEVERITY_NOTE},
  [GST_PX_DIAGNOSTIC_LINKED] = {"PX-N004", GST_PX_SEVERITY_NOTE},
  [GST_PX_DIAGNOSTIC_BUFFERS_COPIED] = {"PX-N005", GST_PX_SEVERITY_NOTE},
  [GST_PX_DIAGNOSTIC_ISOLATED] = {"PX-N006", GST_PX_SEVERITY_NOTE},
  [GST_PX_DIAGNOSTIC_NOT_ISOLATED] = {"PX-W002", GST_PX_SEVERITY_WARNING},
  [GST_PX_DIAGNOSTIC_MUXER_INPUTS] = {"PX-N007", GST_PX_SEVERITY_NOTE},
};

static void
gst_px_diagnostic_finalize (GObject * object)
{
  GstPxDiagnostic *self = GST_PX_DIAGNOSTIC (object);

  g_free (self->message);
  g_free (self->src_pad);
  g_free (self->sink_pad);
  g_strfreev (self->path);
  g_ptr_array_unref (self->rows);
  g_strfreev (self->fields);
  g_free (self->suggestion);
  G_OBJECT_CLASS (gst_px_diagnostic_parent_class)->finalize (object);
}

static void
gst_px_diagnostic_class_init (GstPxDiagnosticClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_px_diagnostic_finalize;
}

static void
gst_px_diagnostic_init (GstPxDiagnostic * self)
{
  self->rows = g_ptr_array_new_with_free_func ((GDestroyNotify)
      px_field_diff_free);
  self->path = g_new0 (gchar *, 1);
  self->fields = g_new0 (gchar *, 1);
}

/* Takes @message. */
GstPxDiagnostic *
px_diagnostic_new (GstPxDiagnosticCode code, const gchar * src_pad,
    const gchar * sink_pad, gchar * message)
{
  GstPxDiagnostic *self = g_object_new (GST_TYPE_PX_DIAGNOSTIC, NULL);

  self->code = code;
  self->src_pad = g_strdup (src_pad);
  self->sink_pad = g_strdup (sink_pad);
  self->message = message;
  return self;
}

void
px_diagnostic_set_path (GstPxDiagnostic * self, GPtrArray * path)
{
  g_strfreev (self->path);
  self->path = g_new0 (gchar *, path->len + 1);
  for (guint i = 0; i < path->len; i++)
    self->path[i] = g_strdup (g_ptr_array_index (path, i));
}

/* Takes @upstream and @downstream. */
void
px_diagnostic_add_field (GstPxDiagnostic * self, const gchar * field,
    gchar * upstream, gchar * downstream, gboolean conflict)
{
  PxFieldDiff *row = g_new0 (PxFieldDiff, 1);
  guint n = g_strv_length (self->fields);

  row->field = g_strdup (field);
  row->upstream = upstream;
  row->downstream = downstream;
  row->conflict = conflict;
  g_ptr_array_add (self->rows, row);
  self->fields = g_renew (gchar *, self->fields, n + 2);
  self->fields[n] = g_strdup (field);
  self->fields[n + 1] = NULL;
}

/* Takes @suggestion. */
void
px_diagnostic_set_suggestion (GstPxDiagnostic * self, gchar * suggestion)
{
  g_free (self->suggestion);
  self->suggestion = suggestion;
}

/**
 * gst_px_diagnostic_code_to_string:
 * @code: a #GstPxDiagnosticCode
 *
 * Returns: (transfer none): the stable code, e.g. "PX-E001"
 */
const gchar *
gst_px_diagnostic_code_to_string (GstPxDiagnosticCode code)
{
  if ((guint) code >= G_N_ELEMENTS (codes))
    return "PX-?";
  return codes[code].code;
}

/**
 * gst_px_diagnostic_get_code:
 * @diagnostic: a #GstPxDiagnostic
 *
 * Returns: what was found
 */
GstPxDiagnosticCode
gst_px_diagnostic_get_code (GstPxDiagnostic * diagnostic)
{
  g_return_val_if_fail (GST_IS_PX_DIAGNOSTIC (diagnostic), 0);
  return diagnostic->code;
}

/**
 * gst_px_diagnostic_get_code_string:
 * @diagnostic: a #GstPxDiagnostic
 *
 * Returns: (transfer none): the stable code, e.g. "PX-E001"
 */
const gchar *
gst_px_diagnostic_get_code_string (GstPxDiagnostic * diagnostic)
{
  g_return_val_if_fail (GST_IS_PX_DIAGNOSTIC (diagnostic), NULL);
  return gst_px_diagnostic_code_to_string (diagnostic->code);
}

/**
 * gst_px_diagnostic_get_severity:
 * @diagnostic: a #GstPxDiagnostic
 *
 * Returns: whether it is an error, a warning or a note
 */
GstPxSeverity
gst_px_diagnostic_get_severity (GstPxDiagnostic * diagnostic)
{
  g_return_val_if_fail (GST_IS_PX_DIAGNOSTIC (diagnostic),
      GST_PX_SEVERITY_ERROR);
  return codes[diagnostic->code].severity;
}

/**
 * gst_px_diagnostic_get_message:
 * @diagnostic: a #GstPxDiagnostic
 *
 * Returns: (transfer none): one sentence saying what was found
 */
const gchar *
gst_px_diagnostic_get_message (GstPxDiagnostic * diagnostic)
{
  g_return_val_if_fail (GST_IS_PX_DIAGNOSTIC (diagnostic), NULL);
  return diagnostic->message;
}

/**
 * gst_px_diagnostic_get_src_pad:
 * @diagnostic: a #GstPxDiagnostic
 *
 * Returns: (transfer none) (nullable): the upstream pad, "element:pad"
 */
const gchar *
gst_px_diagnostic_get_src_pad (GstPxDiagnostic * diagnostic)
{
  g_return_val_if_fail (GST_IS_PX_DIAGNOSTIC (diagnostic), NULL);
  return diagnostic->src_pad;
}

/**
 * gst_px_diagnostic_get_sink_pad:
 * @diagnostic: a #GstPxDiagnostic
 *
 * Returns: (transfer none) (nullable): the downstream pad, "element:pad"
 */
const gchar *
gst_px_diagnostic_get_sink_pad (GstPxDiagnostic * diagnostic)
{
  g_return_val_if_fail (GST_IS_PX_DIAGNOSTIC (diagnostic), NULL);
  return diagnostic->sink_pad;
}

/**
 * gst_px_diagnostic_get_path:
 * @diagnostic: a #GstPxDiagnostic
 *
 * The elements from the one whose constraint reaches the link from
 * upstream to the one whose constraint reaches it from downstream.
 *
 * Returns: (transfer none) (array zero-terminated=1): element names
 */
const gchar *const *
gst_px_diagnostic_get_path (GstPxDiagnostic * diagnostic)
{
  g_return_val_if_fail (GST_IS_PX_DIAGNOSTIC (diagnostic), NULL);
  return (const gchar * const *) diagnostic->path;
}

/**
 * gst_px_diagnostic_get_fields:
 * @diagnostic: a #GstPxDiagnostic
 *
 * Returns: (transfer none) (array zero-terminated=1): the caps fields
 *   compared ("media-type" and "memory" included)
 */
const gchar *const *
gst_px_diagnostic_get_fields (GstPxDiagnostic * diagnostic)
{
  g_return_val_if_fail (GST_IS_PX_DIAGNOSTIC (diagnostic), NULL);
  return (const gchar * const *) diagnostic->fields;
}

/**
 * gst_px_diagnostic_get_field:
 * @diagnostic: a #GstPxDiagnostic
 * @field: a field name from gst_px_diagnostic_get_fields()
 * @upstream: (out) (optional) (transfer none): what upstream offers
 * @downstream: (out) (optional) (transfer none): what downstream accepts
 * @conflict: (out) (optional): whether the two share no value
 *
 * Returns: %FALSE if the diagnostic compares no such field
 */
gboolean
gst_px_diagnostic_get_field (GstPxDiagnostic * diagnostic,
    const gchar * field, const gchar ** upstream, const gchar ** downstream,
    gboolean * conflict)
{
  g_return_val_if_fail (GST_IS_PX_DIAGNOSTIC (diagnostic), FALSE);
  for (guint i = 0; i < diagnostic->rows->len; i++) {
    PxFieldDiff *row = g_ptr_array_index (diagnostic->rows, i);
    if (!g_str_equal (row->field, field))
      continue;
    if (upstream)
      *upstream = row->upstream;
    if (downstream)
      *downstream = row->downstream;
    if (conflict)
      *conflict = row->conflict;
    return TRUE;
  }
  return FALSE;
}

/**
 * gst_px_diagnostic_get_suggestion:
 * @diagnostic: a #GstPxDiagnostic
 *
 * Returns: (transfer none) (nullable): what the user could do
 */
const gchar *
gst_px_diagnostic_get_suggestion (GstPxDiagnostic * diagnostic)
{
  g_return_val_if_fail (GST_IS_PX_DIAGNOSTIC (diagnostic), NULL);
  return diagnostic->suggestion;
}

static const gchar *
severity_word (GstPxSeverity severity)
{
  switch (severity) {
    case GST_PX_SEVERITY_ERROR:
      return "error";
    case GST_PX_SEVERITY_WARNING:
      return "warning";
    default:
      return "note";
  }
}

/**
 * gst_px_diagnostic_to_string:
 * @diagnostic: a #GstPxDiagnostic
 *
 * The diagnostic as a compiler prints it: code and message, the link, the
 * path, a table of the fields (conflicting ones marked), the suggestion.
 *
 * Returns: (transfer full): several lines of text, each ending in '\n'
 */
gchar *
gst_px_diagnostic_to_string (GstPxDiagnostic * diagnostic)
{
  GString *s;
  gsize width = 5;

  g_return_val_if_fail (GST_IS_PX_DIAGNOSTIC (diagnostic), NULL);
  s = g_string_new (NULL);
  g_string_append_printf (s, "%s[%s]: %s\n",
      severity_word (gst_px_diagnostic_get_severity (diagnostic)),
      gst_px_diagnostic_get_code_string (diagnostic), diagnostic->message);
  if (diagnostic->src_pad && diagnostic->sink_pad)
    g_string_append_printf (s, "  --> %s ! %s\n", diagnostic->src_pad,
        diagnostic->sink_pad);
  else if (diagnostic->src_pad || diagnostic->sink_pad)
    g_string_append_printf (s, "  --> %s\n", diagnostic->src_pad ?
        diagnostic->src_pad : diagnostic->sink_pad);
  if (diagnostic->path[0]) {
    g_autofree gchar *path = g_strjoinv (" ! ", diagnostic->path);
    g_string_append_printf (s, "  path: %s\n", path);
  }
  for (guint i = 0; i < diagnostic->rows->len; i++) {
    PxFieldDiff *row = g_ptr_array_index (diagnostic->rows, i);
    width = MAX (width, strlen (row->field));
  }
  if (diagnostic->rows->len)
    g_string_append_printf (s, "   %-*s   %-32s  %s\n", (int) width, "field",
        "upstream offers", "downstream accepts");
  for (guint i = 0; i < diagnostic->rows->len; i++) {
    PxFieldDiff *row = g_ptr_array_index (diagnostic->rows, i);
    g_string_append_printf (s, " %s %-*s   %-32s  %s\n",
        row->conflict ? "x" : " ", (int) width, row->field, row->upstream,
        row->downstream);
  }
  if (diagnostic->suggestion)
    g_string_append_printf (s, "  = help: %s\n", diagnostic->suggestion);
  return g_string_free (s, FALSE);
}

void
px_diagnostic_to_json (GstPxDiagnostic * self, GString * out)
{
  g_string_append (out, "{\"code\":");
  px_json_string (out, gst_px_diagnostic_get_code_string (self));
  g_string_append (out, ",\"severity\":");
  px_json_string (out, severity_word (gst_px_diagnostic_get_severity (self)));
  g_string_append (out, ",\"message\":");
  px_json_string (out, self->message);
  g_string_append (out, ",\"src_pad\":");
  px_json_string (out, self->src_pad);
  g_string_append (out, ",\"sink_pad\":");
  px_json_string (out, self->sink_pad);
  g_string_append (out, ",\"path\":[");
  for (guint i = 0; self->path[i]; i++) {
    if (i)
      g_string_append_c (out, ',');
    px_json_string (out, self->path[i]);
  }
  g_string_append (out, "],\"fields\":[");
  for (guint i = 0; i < self->rows->len; i++) {
    PxFieldDiff *row = g_ptr_array_index (self->rows, i);
    if (i)
      g_string_append_c (out, ',');
    g_string_append (out, "{\"field\":");
    px_json_string (out, row->field);
    g_string_append (out, ",\"upstream\":");
    px_json_string (out, row->upstream);
    g_string_append (out, ",\"downstream\":");
    px_json_string (out, row->downstream);
    g_string_append_printf (out, ",\"conflict\":%s}",
        row->conflict ? "true" : "false");
  }
  g_string_append (out, "],\"suggestion\":");
  px_json_string (out, self->suggestion);
  g_string_append_c (out, '}');
}
