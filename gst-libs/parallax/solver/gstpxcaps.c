/* Parallax — caps arithmetic of the solver: what a converter turns caps
 * into, which fields two sides disagree on, and what a change costs in
 * quality.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstpxsolverprivate.h"

#include <gst/audio/audio.h>
#include <gst/video/video.h>
#include <string.h>

/* Whether @features (NULL: system memory) is @name (NULL: system memory). */
static gboolean
features_match (const GstCapsFeatures * features, const gchar * name)
{
  if (name == NULL)
    name = GST_PX_MEMORY_SYSTEM;
  if (features == NULL)
    return g_strcmp0 (name, GST_PX_MEMORY_SYSTEM) == 0;
  if (gst_caps_features_is_any (features))
    return TRUE;
  if (gst_caps_features_get_size (features) == 0)
    return g_strcmp0 (name, GST_PX_MEMORY_SYSTEM) == 0;
  return gst_caps_features_contains (features, name);
}

static gboolean
features_compatible (const GstCapsFeatures * a, const GstCapsFeatures * b)
{
  if (a == NULL || b == NULL) {
    const GstCapsFeatures *other = a ? a : b;
    return other == NULL || features_match (other, GST_PX_MEMORY_SYSTEM);
  }
  if (gst_caps_features_is_any (a) || gst_caps_features_is_any (b))
    return TRUE;
  return gst_caps_features_is_equal (a, b);
}

gboolean
px_caps_share_media_type (const GstCaps * a, const GstCaps * b)
{
  guint i, j;

  if (gst_caps_is_any (a) || gst_caps_is_any (b))
    return TRUE;
  for (i = 0; i < gst_caps_get_size (a); i++) {
    const GstStructure *sa = gst_caps_get_structure (a, i);
    for (j = 0; j < gst_caps_get_size (b); j++) {
      if (gst_structure_has_name (gst_caps_get_structure (b, j),
              gst_structure_get_name (sa)))
        return TRUE;
    }
  }
  return FALSE;
}

gboolean
px_caps_has_feature (const GstCaps * caps, const gchar * media_type,
    const gchar * feature)
{
  guint i;

  if (gst_caps_is_any (caps))
    return TRUE;
  for (i = 0; i < gst_caps_get_size (caps); i++) {
    if (gst_structure_has_name (gst_caps_get_structure (caps, i), media_type)
        && features_match (gst_caps_get_features (caps, i), feature))
      return TRUE;
  }
  return FALSE;
}

/* The caps a converter can output given @caps: structures of @media_type
 * in @from_feature memory, with @fields free and @to_feature memory. The
 * converter drops what it does not handle. */
GstCaps *
px_caps_convert (const GstCaps * caps, const gchar * media_type,
    const gchar * const *fields, const gchar * from_feature,
    const gchar * to_feature)
{
  GstCaps *out = gst_caps_new_empty ();
  guint i;

  if (gst_caps_is_any (caps)) {
    gst_caps_unref (out);
    return gst_caps_new_any ();
  }
  for (i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *s = gst_caps_get_structure (caps, i);
    GstStructure *copy;

    if (!gst_structure_has_name (s, media_type) ||
        !features_match (gst_caps_get_features (caps, i), from_feature))
      continue;
    copy = gst_structure_copy (s);
    for (guint f = 0; fields && fields[f]; f++)
      gst_structure_remove_field (copy, fields[f]);
    gst_caps_append_structure_full (out, copy,
        gst_caps_features_new_single (to_feature ? to_feature :
            GST_PX_MEMORY_SYSTEM));
  }
  return gst_caps_simplify (out);
}

static void
add_unique (GPtrArray * array, const gchar * value)
{
  for (guint i = 0; i < array->len; i++)
    if (g_str_equal (g_ptr_array_index (array, i), value))
      return;
  g_ptr_array_add (array, g_strdup (value));
}

static gchar *
join_limited (GPtrArray * values)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < values->len; i++) {
    if (i)
      g_string_append (s, " | ");
    g_string_append (s, g_ptr_array_index (values, i));
  }
  /* Lists say the type of each element: noise in a table. */
  g_string_replace (s, "(string)", "", 0);
  if (s->len > 72) {
    g_string_truncate (s, 69);
    g_string_append (s, "...");
  }
  return g_string_free (s, FALSE);
}

/* The values @field takes over @caps, joined; "(any)" where a structure
 * leaves it free. */
gchar *
px_caps_value_string (const GstCaps * caps, const gchar * field)
{
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);

  if (gst_caps_is_any (caps))
    return g_strdup ("(any)");
  if (gst_caps_is_empty (caps))
    return g_strdup ("(nothing)");
  for (guint i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *s = gst_caps_get_structure (caps, i);
    const GValue *v;

    if (g_str_equal (field, "media-type")) {
      add_unique (values, gst_structure_get_name (s));
    } else if (g_str_equal (field, "memory")) {
      GstCapsFeatures *f = gst_caps_get_features (caps, i);
      g_autofree gchar *str = f ? gst_caps_features_to_string (f) :
          g_strdup (GST_PX_MEMORY_SYSTEM);
      add_unique (values, str);
    } else if ((v = gst_structure_get_value (s, field)) != NULL) {
      g_autofree gchar *str = gst_value_serialize (v);
      add_unique (values, str ? str : "?");
    } else {
      add_unique (values, "(any)");
    }
  }
  return join_limited (values);
}

static gboolean
field_conflicts (const GstCaps * up, const GstCaps * down, const gchar * field)
{
  gboolean paired = FALSE;

  for (guint i = 0; i < gst_caps_get_size (up); i++) {
    const GstStructure *su = gst_caps_get_structure (up, i);
    for (guint j = 0; j < gst_caps_get_size (down); j++) {
      const GstStructure *sd = gst_caps_get_structure (down, j);
      const GValue *vu, *vd;

      if (!gst_structure_has_name (sd, gst_structure_get_name (su)))
        continue;
      paired = TRUE;
      if (g_str_equal (field, "memory")) {
        if (features_compatible (gst_caps_get_features (up, i),
                gst_caps_get_features (down, j)))
          return FALSE;
        continue;
      }
      vu = gst_structure_get_value (su, field);
      vd = gst_structure_get_value (sd, field);
      if (vu == NULL || vd == NULL || gst_value_intersect (NULL, vu, vd))
        return FALSE;
    }
  }
  /* Without a structure of the same media type the media type conflicts,
   * not the fields. */
  return paired;
}

static void
collect_fields (const GstCaps * caps, GPtrArray * names)
{
  for (guint i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *s = gst_caps_get_structure (caps, i);
    for (gint f = 0; f < gst_structure_n_fields (s); f++)
      add_unique (names, gst_structure_nth_field_name (s, f));
  }
}

void
px_field_diff_free (PxFieldDiff * diff)
{
  g_free (diff->field);
  g_free (diff->upstream);
  g_free (diff->downstream);
  g_free (diff);
}

/* One row per field that either side names, plus the media type and the
 * memory (caps features), each marked when the two sides share no value. */
GPtrArray *
px_caps_diff (const GstCaps * upstream, const GstCaps * downstream)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify)
      px_field_diff_free);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  gboolean any = gst_caps_is_any (upstream) || gst_caps_is_any (downstream);

  g_ptr_array_add (names, g_strdup ("media-type"));
  g_ptr_array_add (names, g_strdup ("memory"));
  if (!any) {
    collect_fields (upstream, names);
    collect_fields (downstream, names);
  }
  for (guint i = 0; i < names->len; i++) {
    const gchar *name = g_ptr_array_index (names, i);
    PxFieldDiff *row = g_new0 (PxFieldDiff, 1);

    row->field = g_strdup (name);
    row->upstream = px_caps_value_string (upstream, name);
    row->downstream = px_caps_value_string (downstream, name);
    if (any)
      row->conflict = FALSE;
    else if (g_str_equal (name, "media-type"))
      row->conflict = !px_caps_share_media_type (upstream, downstream);
    else
      row->conflict = field_conflicts (upstream, downstream, name);
    g_ptr_array_add (rows, row);
  }
  return rows;
}

static gboolean
value_int_bounds (const GValue * v, gint * min, gint * max)
{
  if (v == NULL)
    return FALSE;
  if (G_VALUE_HOLDS_INT (v)) {
    *min = *max = g_value_get_int (v);
    return TRUE;
  }
  if (GST_VALUE_HOLDS_INT_RANGE (v)) {
    *min = gst_value_get_int_range_min (v);
    *max = gst_value_get_int_range_max (v);
    return TRUE;
  }
  if (GST_VALUE_HOLDS_LIST (v) && gst_value_list_get_size (v) > 0) {
    gint lo = G_MAXINT, hi = G_MININT;
    for (guint i = 0; i < gst_value_list_get_size (v); i++) {
      gint a, b;
      if (value_int_bounds (gst_value_list_get_value (v, i), &a, &b)) {
        lo = MIN (lo, a);
        hi = MAX (hi, b);
      }
    }
    *min = lo;
    *max = hi;
    return lo <= hi;
  }
  return FALSE;
}

static gboolean
caps_int_bounds (const GstCaps * caps, const gchar * field, gint * min,
    gint * max)
{
  gint lo = G_MAXINT, hi = G_MININT;

  for (guint i = 0; i < gst_caps_get_size (caps); i++) {
    gint a, b;
    if (value_int_bounds (gst_structure_get_value (gst_caps_get_structure
                (caps, i), field), &a, &b)) {
      lo = MIN (lo, a);
      hi = MAX (hi, b);
    }
  }
  *min = lo;
  *max = hi;
  return lo <= hi;
}

static void
collect_strings (const GValue * v, GPtrArray * out)
{
  if (v == NULL)
    return;
  if (G_VALUE_HOLDS_STRING (v))
    add_unique (out, g_value_get_string (v));
  else if (GST_VALUE_HOLDS_LIST (v))
    for (guint i = 0; i < gst_value_list_get_size (v); i++)
      collect_strings (gst_value_list_get_value (v, i), out);
}

static GPtrArray *
caps_strings (const GstCaps * caps, const gchar * field)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < gst_caps_get_size (caps); i++)
    collect_strings (gst_structure_get_value (gst_caps_get_structure (caps,
                i), field), out);
  return out;
}

/* Bits of depth, chroma resolution and components lost from @in to @out. */
static guint
video_format_loss (const gchar * in, const gchar * out)
{
  const GstVideoFormatInfo *a =
      gst_video_format_get_info (gst_video_format_from_string (in));
  const GstVideoFormatInfo *b =
      gst_video_format_get_info (gst_video_format_from_string (out));
  guint loss = 0;
  gint sub_a, sub_b;

  if (a == NULL || b == NULL || GST_VIDEO_FORMAT_INFO_FORMAT (a) ==
      GST_VIDEO_FORMAT_UNKNOWN || GST_VIDEO_FORMAT_INFO_FORMAT (b) ==
      GST_VIDEO_FORMAT_UNKNOWN)
    return 1;
  if (GST_VIDEO_FORMAT_INFO_DEPTH (a, 0) > GST_VIDEO_FORMAT_INFO_DEPTH (b, 0))
    loss += 2 * (GST_VIDEO_FORMAT_INFO_DEPTH (a, 0) -
        GST_VIDEO_FORMAT_INFO_DEPTH (b, 0));
  sub_a = GST_VIDEO_FORMAT_INFO_N_COMPONENTS (a) > 1 ?
      GST_VIDEO_FORMAT_INFO_W_SUB (a, 1) + GST_VIDEO_FORMAT_INFO_H_SUB (a,
      1) : 0;
  sub_b = GST_VIDEO_FORMAT_INFO_N_COMPONENTS (b) > 1 ?
      GST_VIDEO_FORMAT_INFO_W_SUB (b, 1) + GST_VIDEO_FORMAT_INFO_H_SUB (b,
      1) : 0;
  if (sub_b > sub_a)
    loss += 3 * (sub_b - sub_a);
  if (GST_VIDEO_FORMAT_INFO_IS_GRAY (b) && !GST_VIDEO_FORMAT_INFO_IS_GRAY (a))
    loss += 10;
  if (GST_VIDEO_FORMAT_INFO_HAS_ALPHA (a) &&
      !GST_VIDEO_FORMAT_INFO_HAS_ALPHA (b))
    loss += 1;
  return loss;
}

static guint
audio_format_loss (const gchar * in, const gchar * out)
{
  const GstAudioFormatInfo *a =
      gst_audio_format_get_info (gst_audio_format_from_string (in));
  const GstAudioFormatInfo *b =
      gst_audio_format_get_info (gst_audio_format_from_string (out));
  guint loss = 0;

  if (a == NULL || b == NULL)
    return 1;
  if (GST_AUDIO_FORMAT_INFO_DEPTH (a) > GST_AUDIO_FORMAT_INFO_DEPTH (b))
    loss += (GST_AUDIO_FORMAT_INFO_DEPTH (a) -
        GST_AUDIO_FORMAT_INFO_DEPTH (b)) / 4;
  if (GST_AUDIO_FORMAT_INFO_IS_FLOAT (a) && !GST_AUDIO_FORMAT_INFO_IS_FLOAT (b))
    loss += 1;
  return loss;
}

static guint
format_loss (const GstCaps * up, const GstCaps * down)
{
  g_autoptr (GPtrArray) in = caps_strings (up, "format");
  g_autoptr (GPtrArray) out = caps_strings (down, "format");
  gboolean audio = gst_caps_get_size (up) > 0 &&
      g_str_has_prefix (gst_structure_get_name (gst_caps_get_structure (up,
              0)), "audio/");
  guint best = G_MAXUINT;

  if (in->len == 0 || out->len == 0)
    return 1;
  /* The producer's first (preferred) format against the consumer's best. */
  for (guint i = 0; i < out->len; i++) {
    const gchar *a = g_ptr_array_index (in, 0), *b = g_ptr_array_index (out, i);
    guint loss = audio ? audio_format_loss (a, b) : video_format_loss (a, b);
    best = MIN (best, loss);
  }
  return best;
}

/* Quality lost when @field must change from what @upstream offers to what
 * @downstream accepts: bit depth, chroma subsampling, downscaling, downmix,
 * rate changes. Only fields that conflict are asked about. */
guint
px_quality_loss (const gchar * field, const GstCaps * upstream,
    const GstCaps * downstream)
{
  gint umin, umax, dmin, dmax;
  gboolean bounds;

  if (g_str_equal (field, "format"))
    return format_loss (upstream, downstream);
  if (g_str_equal (field, "framerate"))
    return 3;
  bounds = caps_int_bounds (upstream, field, &umin, &umax) &&
      caps_int_bounds (downstream, field, &dmin, &dmax);
  if (g_str_equal (field, "width") || g_str_equal (field, "height"))
    return bounds && dmax < umin ? 8 : 2;
  if (g_str_equal (field, "channels"))
    return bounds && dmax < umin ? 8 : 1;
  if (g_str_equal (field, "rate"))
    return bounds && dmax < umin ? 4 : 2;
  return 1;
}

const gchar *
px_caps_first_feature (const GstCaps * caps)
{
  GstCapsFeatures *f;

  if (gst_caps_is_any (caps) || gst_caps_is_empty (caps))
    return NULL;
  f = gst_caps_get_features (caps, 0);
  if (f == NULL || gst_caps_features_is_any (f) ||
      gst_caps_features_get_size (f) == 0)
    return GST_PX_MEMORY_SYSTEM;
  return gst_caps_features_get_nth (f, 0);
}

/* A short label: media type, memory and the fixed fields that matter. */
gchar *
px_caps_summary (const GstCaps * caps)
{
  static const gchar *fields[] = { "format", "width", "height", "framerate",
    "rate", "channels", NULL
  };
  const GstStructure *s;
  const gchar *feature;
  GString *out;

  if (caps == NULL)
    return g_strdup ("?");
  if (gst_caps_is_any (caps))
    return g_strdup ("ANY");
  if (gst_caps_is_empty (caps))
    return g_strdup ("EMPTY");
  s = gst_caps_get_structure (caps, 0);
  out = g_string_new (gst_structure_get_name (s));
  feature = px_caps_first_feature (caps);
  if (feature && !g_str_equal (feature, GST_PX_MEMORY_SYSTEM))
    g_string_append_printf (out, "(%s)", feature);
  for (guint i = 0; fields[i]; i++) {
    const GValue *v = gst_structure_get_value (s, fields[i]);
    if (v && gst_value_is_fixed (v)) {
      g_autofree gchar *str = gst_value_serialize (v);
      g_string_append_printf (out, " %s=%s", fields[i], str);
    }
  }
  return g_string_free (out, FALSE);
}

/* Levenshtein distance, ignoring case. */
guint
px_edit_distance (const gchar * a, const gchar * b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *row = g_new (guint, lb + 1);

  for (gsize j = 0; j <= lb; j++)
    row[j] = j;
  for (gsize i = 1; i <= la; i++) {
    guint diag = row[0];
    row[0] = i;
    for (gsize j = 1; j <= lb; j++) {
      guint up = row[j];
      guint cost = g_ascii_tolower (a[i - 1]) != g_ascii_tolower (b[j - 1]);
      row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diag + cost);
      diag = up;
    }
  }
  return row[lb];
}

/* The candidate nearest to @word, if it is near enough to be a typo: at
 * most a third of the word's length (and at least 1) edits away. */
const gchar *
px_closest (const gchar * word, GPtrArray * candidates, guint * distance)
{
  const gchar *best = NULL;
  guint best_d = G_MAXUINT;
  guint limit = MAX (1, strlen (word) / 3);

  for (guint i = 0; i < candidates->len; i++) {
    const gchar *c = g_ptr_array_index (candidates, i);
    guint d = px_edit_distance (word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  if (distance)
    *distance = best_d;
  return best_d <= limit ? best : NULL;
}

/* @value as a JSON string (null for NULL), escaped; invalid UTF-8 is
 * replaced rather than passed on. */
void
px_json_string (GString * out, const gchar * value)
{
  g_autofree gchar *valid = NULL;

  if (value == NULL) {
    g_string_append (out, "null");
    return;
  }
  valid = g_utf8_make_valid (value, -1);
  g_string_append_c (out, '"');
  for (const guchar * p = (const guchar *)valid; *p; p++) {
    switch (*p) {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      default:
        if (*p < 0x20)
          g_string_append_printf (out, "\\u%04x", *p);
        else
          g_string_append_c (out, *p);
    }
  }
  g_string_append_c (out, '"');
}

/* @value quoted for a DOT id or label. */
void
px_dot_string (GString * out, const gchar * value)
{
  g_string_append_c (out, '"');
  for (const gchar * p = value; p && *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c (out, '\\');
    if (*p == '\n')
      g_string_append (out, "\\n");
    else
      g_string_append_c (out, *p);
  }
  g_string_append_c (out, '"');
}
