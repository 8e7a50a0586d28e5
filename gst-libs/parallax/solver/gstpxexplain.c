/* Parallax — the solver's explanations: which constraints meet on a link,
 * where they come from, what the user probably meant.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstpxsolverprivate.h"

#include <gst/audio/audio.h>
#include <gst/video/video.h>

/* Memory types GStreamer's elements use, known even where the elements
 * that make them are not installed (memory:NVMM is NVIDIA's DeepStream). */
static const gchar *well_known_features[] = {
  "memory:SystemMemory", "memory:DMABuf", "memory:GLMemory", "memory:NVMM",
  "memory:CUDAMemory", "memory:VASurface", "memory:VAMemory",
  "memory:D3D11Memory", "memory:D3D12Memory", "memory:VulkanImage",
  "memory:VulkanBuffer", "memory:MMAL", "memory:WGPUMemory",
  "meta:GstVideoOverlayComposition", "meta:GstVideoAffineTransformation",
  "meta:GstVideoGLTextureUploadMeta", "memory:ANY",
};

typedef struct
{
  GPtrArray *media_types;
  GPtrArray *features;
} PxVocabulary;

static void
add_word (GPtrArray * words, const gchar * word)
{
  if (!g_ptr_array_find_with_equal_func (words, word, g_str_equal, NULL))
    g_ptr_array_add (words, g_strdup (word));
}

static void
vocabulary_add_caps (PxVocabulary * v, GstCaps * caps)
{
  for (guint i = 0; caps && !gst_caps_is_any (caps) &&
      i < gst_caps_get_size (caps); i++) {
    GstCapsFeatures *f = gst_caps_get_features (caps, i);
    add_word (v->media_types,
        gst_structure_get_name (gst_caps_get_structure (caps, i)));
    for (guint j = 0; f && !gst_caps_features_is_any (f) &&
        j < gst_caps_features_get_size (f); j++)
      add_word (v->features, gst_caps_features_get_nth (f, j));
  }
}

/* Media types and caps features of every installed element's templates,
 * read once: only a diagnosis needs them. */
static PxVocabulary *
vocabulary (void)
{
  static PxVocabulary v;
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GList *factories = gst_registry_get_feature_list (gst_registry_get (),
        GST_TYPE_ELEMENT_FACTORY);

    v.media_types = g_ptr_array_new_with_free_func (g_free);
    v.features = g_ptr_array_new_with_free_func (g_free);
    for (guint i = 0; i < G_N_ELEMENTS (well_known_features); i++)
      add_word (v.features, well_known_features[i]);
    for (GList * l = factories; l; l = l->next) {
      const GList *t = gst_element_factory_get_static_pad_templates (l->data);
      for (; t; t = t->next) {
        GstCaps *caps =
            gst_static_caps_get (&((GstStaticPadTemplate *) t->data)->
            static_caps);
        vocabulary_add_caps (&v, caps);
        gst_caps_unref (caps);
      }
    }
    gst_plugin_feature_list_free (factories);
    g_once_init_leave (&done, 1);
  }
  return &v;
}

static GPtrArray *
format_names (gboolean audio)
{
  GPtrArray *names = g_ptr_array_new ();

  if (audio) {
    for (gint f = GST_AUDIO_FORMAT_S8; f <= GST_AUDIO_FORMAT_F64BE; f++)
      g_ptr_array_add (names, (gpointer) gst_audio_format_to_string (f));
  } else {
    guint n;
    const GstVideoFormat *formats = gst_video_formats_raw (&n);
    for (guint i = 0; i < n; i++)
      g_ptr_array_add (names, (gpointer) gst_video_format_to_string
          (formats[i]));
  }
  return names;
}

static void
collect_format_strings (const GValue * v, GPtrArray * out)
{
  if (v && G_VALUE_HOLDS_STRING (v))
    g_ptr_array_add (out, (gpointer) g_value_get_string (v));
  else if (v && GST_VALUE_HOLDS_LIST (v))
    for (guint i = 0; i < gst_value_list_get_size (v); i++)
      collect_format_strings (gst_value_list_get_value (v, i), out);
}

/* A word in @caps no installed element knows, with the nearest known one:
 * a format, a media type or a caps feature. Sets @code. */
static gboolean
find_unknown_word (const GstCaps * caps, GstPxDiagnosticCode * code,
    gchar ** word, const gchar ** nearest)
{
  PxVocabulary *v;

  if (caps == NULL || gst_caps_is_any (caps))
    return FALSE;
  v = vocabulary ();
  for (guint i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *s = gst_caps_get_structure (caps, i);
    const gchar *name = gst_structure_get_name (s);
    GstCapsFeatures *f = gst_caps_get_features (caps, i);
    gboolean audio = g_str_equal (name, "audio/x-raw");

    if (!g_ptr_array_find_with_equal_func (v->media_types, name, g_str_equal,
            NULL)) {
      *code = GST_PX_DIAGNOSTIC_UNKNOWN_MEDIA_TYPE;
      *word = g_strdup (name);
      *nearest = px_closest (name, v->media_types, NULL);
      return TRUE;
    }
    for (guint j = 0; f && !gst_caps_features_is_any (f) &&
        j < gst_caps_features_get_size (f); j++) {
      const gchar *feature = gst_caps_features_get_nth (f, j);
      if (!g_ptr_array_find_with_equal_func (v->features, feature,
              g_str_equal, NULL)) {
        *code = GST_PX_DIAGNOSTIC_UNKNOWN_FEATURE;
        *word = g_strdup (feature);
        *nearest = px_closest (feature, v->features, NULL);
        return TRUE;
      }
    }
    if (audio || g_str_equal (name, "video/x-raw")) {
      g_autoptr (GPtrArray) known = format_names (audio);
      g_autoptr (GPtrArray) used = g_ptr_array_new ();
      collect_format_strings (gst_structure_get_value (s, "format"), used);
      for (guint k = 0; k < used->len; k++) {
        const gchar *fmt = g_ptr_array_index (used, k);
        if (!g_ptr_array_find_with_equal_func (known, fmt, g_str_equal, NULL)) {
          *code = GST_PX_DIAGNOSTIC_UNKNOWN_FORMAT;
          *word = g_strdup (fmt);
          *nearest = px_closest (fmt, known, NULL);
          return TRUE;
        }
      }
    }
  }
  return FALSE;
}

static gboolean
has_any_template (GstElementFactory * f)
{
  for (const GList * l = gst_element_factory_get_static_pad_templates (f); l;
      l = l->next) {
    GstStaticPadTemplate *t = l->data;
    GstCaps *caps = gst_static_caps_get (&t->static_caps);
    gboolean any = gst_caps_is_any (caps);
    gst_caps_unref (caps);
    if (any)
      return TRUE;
  }
  return FALSE;
}

/* Whether @caps names a format, media type or caps feature no installed
 * element knows: no converter can reach those. */
gboolean
px_caps_has_unknown_word (const GstCaps * caps)
{
  GstPxDiagnosticCode code;
  g_autofree gchar *word = NULL;
  const gchar *nearest;

  return find_unknown_word (caps, &code, &word, &nearest);
}

/* An element that turns what @up offers into what @down accepts (an
 * encoder, a decoder, a parser...), the highest ranked; elements that take
 * or make anything (ANY) say nothing and are left out. */
static gchar *
find_bridge_element (const GstCaps * up, const GstCaps * down)
{
  GList *all, *takes, *makes;
  gchar *name = NULL;

  if (gst_caps_is_any (up) || gst_caps_is_any (down))
    return NULL;
  all = gst_element_factory_list_get_elements (GST_ELEMENT_FACTORY_TYPE_ANY,
      GST_RANK_MARGINAL);
  takes = gst_element_factory_list_filter (all, up, GST_PAD_SINK, FALSE);
  makes = gst_element_factory_list_filter (takes, down, GST_PAD_SRC, FALSE);
  makes = g_list_sort (makes, gst_plugin_feature_rank_compare_func);
  for (GList * l = makes; l && !name; l = l->next)
    if (!has_any_template (l->data))
      name = g_strdup (GST_OBJECT_NAME (l->data));
  gst_plugin_feature_list_free (makes);
  gst_plugin_feature_list_free (takes);
  gst_plugin_feature_list_free (all);
  return name;
}

static const gchar *
first_media_type (const GstCaps * caps)
{
  if (caps == NULL || gst_caps_is_any (caps) || gst_caps_is_empty (caps))
    return "?";
  return gst_structure_get_name (gst_caps_get_structure (caps, 0));
}

/* Whether @element's own constraint (a capsfilter's caps, or the template
 * of @pad) says something about one of @conflicts. */
static gboolean
constrains (GstElement * element, GstPad * pad, GPtrArray * conflicts)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  g_autoptr (GstCaps) caps = NULL;

  /* What a sandboxbin accepts and makes is its description's. */
  if (px_is_sandboxbin (element))
    return TRUE;
  if (factory && g_str_equal (GST_OBJECT_NAME (factory), "capsfilter"))
    g_object_get (element, "caps", &caps, NULL);
  else if (pad)
    caps = gst_pad_get_pad_template_caps (pad);
  if (caps == NULL || gst_caps_is_any (caps))
    return FALSE;
  for (guint i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *s = gst_caps_get_structure (caps, i);
    GstCapsFeatures *f = gst_caps_get_features (caps, i);
    for (guint c = 0; c < conflicts->len; c++) {
      const gchar *field = g_ptr_array_index (conflicts, c);
      if (g_str_equal (field, "media-type") ||
          gst_structure_has_field (s, field) ||
          (g_str_equal (field, "memory") && f &&
              !gst_caps_features_is_equal (f,
                  GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY)))
        return TRUE;
    }
  }
  return FALSE;
}

static PxLink *
find_link_by (GstPxPlan * plan, GstElement * element, gboolean as_sink)
{
  for (guint i = 0; i < plan->links->len; i++) {
    PxLink *l = g_ptr_array_index (plan->links, i);
    if ((as_sink ? l->sink_element : l->src_element) == element)
      return l;
  }
  return NULL;
}

/* The elements from the constraint upstream to the one downstream that
 * meet on @link: each walk stops at the first element whose own caps say
 * something about a conflicting field. */
GPtrArray *
px_link_path (GstPxPlan * plan, PxLink * link, GPtrArray * conflicts)
{
  GPtrArray *path = g_ptr_array_new ();
  GstElement *e = link->src_element;
  GstPad *pad = link->src_pad;

  for (guint steps = 0; e && steps < 32; steps++) {
    PxLink *up;
    g_ptr_array_insert (path, 0, GST_OBJECT_NAME (e));
    if (constrains (e, pad, conflicts) || !(up = find_link_by (plan, e, TRUE)))
      break;
    e = up->src_element;
    pad = up->src_pad;
  }
  e = link->sink_element;
  pad = link->sink_pad;
  for (guint steps = 0; e && steps < 32; steps++) {
    PxLink *down;
    g_ptr_array_add (path, GST_OBJECT_NAME (e));
    if (constrains (e, pad, conflicts) ||
        !(down = find_link_by (plan, e, FALSE)))
      break;
    e = down->sink_element;
    pad = down->sink_pad;
  }
  return path;
}

static GPtrArray *
add_rows (GstPxDiagnostic * d, const GstCaps * up, const GstCaps * down,
    gboolean conflicts_only)
{
  g_autoptr (GPtrArray) rows = px_caps_diff (up, down);
  GPtrArray *conflicts = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < rows->len; i++) {
    PxFieldDiff *row = g_ptr_array_index (rows, i);
    if (row->conflict)
      g_ptr_array_add (conflicts, g_strdup (row->field));
    if (conflicts_only && !row->conflict)
      continue;
    px_diagnostic_add_field (d, row->field, g_strdup (row->upstream),
        g_strdup (row->downstream), row->conflict);
  }
  return conflicts;
}

static gchar *
join_fields (GPtrArray * fields)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < fields->len; i++)
    g_string_append_printf (s, "%s%s", i ? ", " : "",
        (gchar *) g_ptr_array_index (fields, i));
  return g_string_free (s, FALSE);
}

static gboolean
any_converter_reaches (GPtrArray * converters, const gchar * feature)
{
  for (guint i = 0; i < converters->len; i++)
    if (g_strcmp0 (gst_px_converter_get_output_feature (g_ptr_array_index
                (converters, i)), feature) == 0)
      return TRUE;
  return FALSE;
}

static gchar *
suggest (GstPxDiagnosticCode code, const GstCaps * up, const GstCaps * down,
    const gchar * word, const gchar * nearest, GPtrArray * conflicts)
{
  g_autofree gchar *bridge = NULL;
  g_autofree gchar *fields = NULL;

  switch (code) {
    case GST_PX_DIAGNOSTIC_UNKNOWN_FORMAT:
    case GST_PX_DIAGNOSTIC_UNKNOWN_MEDIA_TYPE:
    case GST_PX_DIAGNOSTIC_UNKNOWN_FEATURE:
      if (nearest)
        return g_strdup_printf ("did you mean \"%s\"? (\"%s\" is not known "
            "to any installed element)", nearest, word);
      return g_strdup_printf ("\"%s\" is not known to any installed element",
          word);
    case GST_PX_DIAGNOSTIC_MEDIA_TYPE_MISMATCH:
      bridge = find_bridge_element (up, down);
      if (bridge)
        return g_strdup_printf ("no converter turns %s into %s; an element "
            "that does is \"%s\": insert it, or link another pad",
            first_media_type (up), first_media_type (down), bridge);
      return g_strdup_printf ("no element turns %s into %s: was another pad "
          "(or another branch) meant to be linked here?",
          first_media_type (up), first_media_type (down));
    case GST_PX_DIAGNOSTIC_MEMORY_UNREACHABLE:
      return g_strdup_printf ("no registered converter moves buffers into "
          "%s: install the element that uploads to it, or register one with "
          "gst_px_converter_registry_add()", px_caps_first_feature (down));
    default:
      fields = join_fields (conflicts);
      return g_strdup_printf ("no registered converter changes %s here: "
          "relax the caps on one side, or register a converter that does",
          fields[0] ? fields : "what differs");
  }
}

/* PX-E00x for a link no chain of converters repairs. */
GstPxDiagnostic *
px_explain_impossible (GstPxPlan * plan, PxLink * link, GPtrArray * converters)
{
  GstPxDiagnosticCode code = GST_PX_DIAGNOSTIC_NO_CONVERSION;
  g_autofree gchar *word = NULL;
  const gchar *nearest = NULL;
  g_autoptr (GPtrArray) conflicts = NULL;
  g_autoptr (GPtrArray) path = NULL;
  g_autofree gchar *fields = NULL;
  GstPxDiagnostic *d;
  gchar *message;

  d = px_diagnostic_new (code, link->src_name, link->sink_name, NULL);
  conflicts = add_rows (d, link->upstream, link->downstream, FALSE);
  fields = join_fields (conflicts);
  if (find_unknown_word (link->downstream, &code, &word, &nearest) ||
      find_unknown_word (link->upstream, &code, &word, &nearest)) {
    message = g_strdup_printf ("unknown %s \"%s\" on the link %s ! %s",
        code == GST_PX_DIAGNOSTIC_UNKNOWN_FORMAT ? "format" :
        code == GST_PX_DIAGNOSTIC_UNKNOWN_FEATURE ? "caps feature" :
        "media type", word, link->src_name, link->sink_name);
  } else if (gst_caps_is_empty (link->downstream)) {
    message = g_strdup_printf ("%s accepts nothing: the elements after it "
        "want caps that have nothing in common", link->sink_name);
  } else if (!px_caps_share_media_type (link->upstream, link->downstream)) {
    code = GST_PX_DIAGNOSTIC_MEDIA_TYPE_MISMATCH;
    message = g_strdup_printf ("%s produces %s but %s takes %s",
        link->src_name, first_media_type (link->upstream), link->sink_name,
        first_media_type (link->downstream));
  } else if (g_ptr_array_find_with_equal_func (conflicts, "memory",
          g_str_equal, NULL) && !any_converter_reaches (converters,
          px_caps_first_feature (link->downstream))) {
    code = GST_PX_DIAGNOSTIC_MEMORY_UNREACHABLE;
    message = g_strdup_printf ("%s takes only %s memory, which nothing "
        "upstream of it produces and no converter reaches", link->sink_name,
        px_caps_first_feature (link->downstream));
  } else {
    message = g_strdup_printf ("no common caps between %s and %s (%s "
        "differ%s) and no converter chain joins them", link->src_name,
        link->sink_name, fields[0] ? fields : "fields",
        conflicts->len == 1 ? "s" : "");
  }
  g_object_unref (d);
  d = px_diagnostic_new (code, link->src_name, link->sink_name, message);
  g_ptr_array_unref (add_rows (d, link->upstream, link->downstream, FALSE));
  path = px_link_path (plan, link, conflicts);
  px_diagnostic_set_path (d, path);
  px_diagnostic_set_suggestion (d, suggest (code, link->upstream,
          link->downstream, word, nearest, conflicts));
  return d;
}

/* PX-N001 for a link that gets converters. */
GstPxDiagnostic *
px_explain_conversion (GstPxPlan * plan, PxLink * link)
{
  const gchar *const *names = gst_px_conversion_get_converters
      (link->conversion);
  g_autofree gchar *chain = g_strjoinv (" ! ", (gchar **) names);
  g_autofree gchar *fields = g_strjoinv (", ",
      (gchar **) gst_px_conversion_get_fields (link->conversion));
  g_autoptr (GPtrArray) conflicts = NULL;
  g_autoptr (GPtrArray) path = NULL;
  GstPxDiagnostic *d;

  d = px_diagnostic_new (GST_PX_DIAGNOSTIC_CONVERTER_INSERTED,
      link->src_name, link->sink_name,
      g_strdup_printf ("%s between %s and %s: %s differ%s (cost %u, of "
          "which quality %u)", chain, link->src_name, link->sink_name,
          fields[0] ? fields : "the caps",
          g_strv_length ((gchar **) gst_px_conversion_get_fields
              (link->conversion)) == 1 ? "s" : "",
          gst_px_conversion_get_cost (link->conversion),
          gst_px_conversion_get_quality_loss (link->conversion)));
  conflicts = add_rows (d, link->upstream, link->downstream, TRUE);
  path = px_link_path (plan, link, conflicts);
  px_diagnostic_set_path (d, path);
  return d;
}
