/* Parallax — the converters the caps solver may insert, with their costs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:gstpxconverter
 * @title: GstPxConverter
 * @short_description: a converter element the solver may insert
 *
 * A converter is an element factory, the media type it works on, the caps
 * fields it can change (videoconvert: "format", "colorimetry",
 * "chroma-site"; audioresample: "rate") and what inserting it costs. A
 * memory converter (upload, download) changes the caps feature instead:
 * gst_px_converter_set_memory() says from which memory to which.
 *
 * The cost is in the solver's units: a plain system-memory conversion of
 * video costs 10 (videoconvert, videoscale), of audio 3 to 6, a memory
 * transfer 20. The quality a conversion loses (bit depth, chroma
 * subsampling, downscaling, downmix, rate change) is added by the solver
 * from the caps of each link, so it need not be part of the cost.
 *
 * A #GstPxConverterRegistry holds the converters one solver may use;
 * gst_px_converter_registry_new_default() fills one with those of GStreamer's
 * converters that are installed, and applications add their own.
 */
#include "gstpxsolverprivate.h"

#include <string.h>

struct _GstPxConverter
{
  GObject parent;

  gchar *factory_name;
  gchar *media_type;
  gchar **fields;
  guint cost;
  gchar *input_feature;
  gchar *output_feature;
  /* An encoder's sink and src template caps; NULL for a converter. */
  GstCaps *input_caps;
  GstCaps *output_caps;
};

G_DEFINE_TYPE (GstPxConverter, gst_px_converter, G_TYPE_OBJECT);

static void
gst_px_converter_finalize (GObject * object)
{
  GstPxConverter *self = GST_PX_CONVERTER (object);

  g_free (self->factory_name);
  g_free (self->media_type);
  g_strfreev (self->fields);
  g_free (self->input_feature);
  g_free (self->output_feature);
  gst_clear_caps (&self->input_caps);
  gst_clear_caps (&self->output_caps);
  G_OBJECT_CLASS (gst_px_converter_parent_class)->finalize (object);
}

static void
gst_px_converter_class_init (GstPxConverterClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_px_converter_finalize;
}

static void
gst_px_converter_init (GstPxConverter * self)
{
}

/**
 * gst_px_converter_new:
 * @factory_name: the element factory to instantiate, e.g. "videoconvert"
 * @media_type: the media type it converts, e.g. "video/x-raw"
 * @fields: (array zero-terminated=1) (nullable): the caps fields it can
 *   change
 * @cost: what inserting it costs, in the solver's units
 *
 * A converter in system memory; call gst_px_converter_set_memory() for one
 * that moves buffers between memory types.
 *
 * Returns: (transfer full): a new #GstPxConverter
 */
GstPxConverter *
gst_px_converter_new (const gchar * factory_name, const gchar * media_type,
    const gchar * const *fields, guint cost)
{
  GstPxConverter *self;

  g_return_val_if_fail (factory_name != NULL, NULL);
  g_return_val_if_fail (media_type != NULL, NULL);

  self = g_object_new (GST_TYPE_PX_CONVERTER, NULL);
  self->factory_name = g_strdup (factory_name);
  self->media_type = g_strdup (media_type);
  self->fields = fields ? g_strdupv ((gchar **) fields) : g_new0 (gchar *, 1);
  self->cost = cost;
  self->input_feature = g_strdup (GST_PX_MEMORY_SYSTEM);
  self->output_feature = g_strdup (GST_PX_MEMORY_SYSTEM);
  return self;
}

/* An encoder as a converter: from the raw media its sink template takes
 * to what its src template makes. */
GstPxConverter *
px_converter_new_encoder (GstElementFactory * factory, guint cost)
{
  GstPxConverter *self = NULL;
  GstCaps *in = gst_caps_new_empty (), *out = gst_caps_new_empty ();

  for (const GList * l = gst_element_factory_get_static_pad_templates
      (factory); l; l = l->next) {
    GstStaticPadTemplate *t = l->data;
    GstCaps *caps = gst_static_caps_get (&t->static_caps);
    if (t->presence != GST_PAD_ALWAYS)
      gst_caps_unref (caps);
    else if (t->direction == GST_PAD_SINK)
      in = gst_caps_merge (in, caps);
    else
      out = gst_caps_merge (out, caps);
  }
  if (!gst_caps_is_empty (in) && !gst_caps_is_any (in) &&
      !gst_caps_is_empty (out) && !gst_caps_is_any (out)) {
    self = gst_px_converter_new (GST_OBJECT_NAME (factory),
        gst_structure_get_name (gst_caps_get_structure (in, 0)), NULL, cost);
    self->input_caps = gst_caps_ref (in);
    self->output_caps = gst_caps_ref (out);
  }
  gst_caps_unref (in);
  gst_caps_unref (out);
  return self;
}

const GstCaps *
px_converter_get_input_caps (GstPxConverter * converter)
{
  return converter->input_caps;
}

const GstCaps *
px_converter_get_output_caps (GstPxConverter * converter)
{
  return converter->output_caps;
}

static gboolean
is_encoder (GstElementFactory * f)
{
  const gchar *klass = gst_element_factory_get_metadata (f,
      GST_ELEMENT_METADATA_KLASS);

  return klass && strstr (klass, "Encoder") && (strstr (klass, "Video") ||
      strstr (klass, "Audio"));
}

/* Encoding is lossy and costs far more than converting raw media: a muxer
 * that takes raw media natively gets it raw. Among encoders, the higher
 * ranked cost less. */
static guint
encoder_cost (GstElementFactory * f, gboolean video)
{
  guint rank = gst_plugin_feature_get_rank (GST_PLUGIN_FEATURE (f));

  return (video ? 40 : 20) + (rank >= GST_RANK_PRIMARY ? 0 :
      (GST_RANK_PRIMARY - rank) / 64);
}

/* The installed encoders of raw video or audio whose output something in
 * @accepted takes, highest ranked first. */
GPtrArray *
px_encoders_for (const GstCaps * accepted)
{
  GList *all = gst_element_factory_list_get_elements
      (GST_ELEMENT_FACTORY_TYPE_ENCODER, GST_RANK_MARGINAL);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);

  all = g_list_sort (all, gst_plugin_feature_rank_compare_func);
  for (GList * l = all; l && out->len < 16; l = l->next) {
    GstElementFactory *f = l->data;
    GstPxConverter *c;
    gboolean video;

    if (!is_encoder (f))
      continue;
    video = strstr (gst_element_factory_get_metadata (f,
            GST_ELEMENT_METADATA_KLASS), "Video") != NULL;
    c = px_converter_new_encoder (f, encoder_cost (f, video));
    if (c && (g_str_equal (c->media_type, "video/x-raw") ||
            g_str_equal (c->media_type, "audio/x-raw")) &&
        gst_caps_can_intersect (c->output_caps, accepted))
      g_ptr_array_add (out, c);
    else if (c)
      g_object_unref (c);
  }
  gst_plugin_feature_list_free (all);
  return out;
}

/**
 * gst_px_converter_set_memory:
 * @converter: a #GstPxConverter
 * @input_feature: the caps feature (memory type) it takes, e.g.
 *   "memory:SystemMemory"
 * @output_feature: the caps feature it produces, e.g. "memory:GLMemory"
 */
void
gst_px_converter_set_memory (GstPxConverter * converter,
    const gchar * input_feature, const gchar * output_feature)
{
  g_return_if_fail (GST_IS_PX_CONVERTER (converter));
  g_return_if_fail (input_feature != NULL && output_feature != NULL);

  g_free (converter->input_feature);
  g_free (converter->output_feature);
  converter->input_feature = g_strdup (input_feature);
  converter->output_feature = g_strdup (output_feature);
}

/**
 * gst_px_converter_get_factory_name:
 * @converter: a #GstPxConverter
 *
 * Returns: (transfer none): the element factory's name
 */
const gchar *
gst_px_converter_get_factory_name (GstPxConverter * converter)
{
  g_return_val_if_fail (GST_IS_PX_CONVERTER (converter), NULL);
  return converter->factory_name;
}

/**
 * gst_px_converter_get_media_type:
 * @converter: a #GstPxConverter
 *
 * Returns: (transfer none): the media type it converts
 */
const gchar *
gst_px_converter_get_media_type (GstPxConverter * converter)
{
  g_return_val_if_fail (GST_IS_PX_CONVERTER (converter), NULL);
  return converter->media_type;
}

/**
 * gst_px_converter_get_fields:
 * @converter: a #GstPxConverter
 *
 * Returns: (transfer none) (array zero-terminated=1): the caps fields it
 *   can change
 */
const gchar *const *
gst_px_converter_get_fields (GstPxConverter * converter)
{
  g_return_val_if_fail (GST_IS_PX_CONVERTER (converter), NULL);
  return (const gchar * const *) converter->fields;
}

/**
 * gst_px_converter_get_cost:
 * @converter: a #GstPxConverter
 *
 * Returns: what inserting it costs
 */
guint
gst_px_converter_get_cost (GstPxConverter * converter)
{
  g_return_val_if_fail (GST_IS_PX_CONVERTER (converter), 0);
  return converter->cost;
}

/**
 * gst_px_converter_get_input_feature:
 * @converter: a #GstPxConverter
 *
 * Returns: (transfer none): the memory type it takes
 */
const gchar *
gst_px_converter_get_input_feature (GstPxConverter * converter)
{
  g_return_val_if_fail (GST_IS_PX_CONVERTER (converter), NULL);
  return converter->input_feature;
}

/**
 * gst_px_converter_get_output_feature:
 * @converter: a #GstPxConverter
 *
 * Returns: (transfer none): the memory type it produces
 */
const gchar *
gst_px_converter_get_output_feature (GstPxConverter * converter)
{
  g_return_val_if_fail (GST_IS_PX_CONVERTER (converter), NULL);
  return converter->output_feature;
}

/* ------------------------------------------------------------------------ */

struct _GstPxConverterRegistry
{
  GObject parent;

  GMutex lock;
  GPtrArray *converters;        /* GstPxConverter; guarded by lock */
};

G_DEFINE_TYPE (GstPxConverterRegistry, gst_px_converter_registry,
    G_TYPE_OBJECT);

static void
gst_px_converter_registry_finalize (GObject * object)
{
  GstPxConverterRegistry *self = GST_PX_CONVERTER_REGISTRY (object);

  g_ptr_array_unref (self->converters);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (gst_px_converter_registry_parent_class)->finalize (object);
}

static void
gst_px_converter_registry_class_init (GstPxConverterRegistryClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_px_converter_registry_finalize;
}

static void
gst_px_converter_registry_init (GstPxConverterRegistry * self)
{
  g_mutex_init (&self->lock);
  self->converters = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * gst_px_converter_registry_new:
 *
 * An empty registry: the solver then inserts only what the application
 * adds.
 *
 * Returns: (transfer full): a new #GstPxConverterRegistry
 */
GstPxConverterRegistry *
gst_px_converter_registry_new (void)
{
  return g_object_new (GST_TYPE_PX_CONVERTER_REGISTRY, NULL);
}

typedef struct
{
  const gchar *factory;
  const gchar *media_type;
  const gchar *fields[6];
  guint cost;
  const gchar *from, *to;       /* memory converters only */
} PxBuiltinConverter;

/* The converters GStreamer ships, those of them that are installed count.
 * Memory transfers cost twice a conversion: a copy of every frame across a
 * bus. */
static const PxBuiltinConverter builtin[] = {
  {"videoconvert", "video/x-raw", {"format", "colorimetry", "chroma-site",
          NULL}, 10},
  {"videoscale", "video/x-raw", {"width", "height", "pixel-aspect-ratio",
          NULL}, 10},
  {"videorate", "video/x-raw", {"framerate", NULL}, 5},
  {"audioconvert", "audio/x-raw", {"format", "channels", "channel-mask",
          "layout", NULL}, 3},
  {"audioresample", "audio/x-raw", {"rate", NULL}, 6},
  {"glupload", "video/x-raw", {NULL}, 20, GST_PX_MEMORY_SYSTEM,
      "memory:GLMemory"},
  {"gldownload", "video/x-raw", {NULL}, 20, "memory:GLMemory",
      GST_PX_MEMORY_SYSTEM},
  {"cudaupload", "video/x-raw", {NULL}, 20, GST_PX_MEMORY_SYSTEM,
      "memory:CUDAMemory"},
  {"cudadownload", "video/x-raw", {NULL}, 20, "memory:CUDAMemory",
      GST_PX_MEMORY_SYSTEM},
  {"vapostproc", "video/x-raw", {"format", "width", "height", NULL}, 15,
      "memory:VAMemory", "memory:VAMemory"},
};

/**
 * gst_px_converter_registry_new_default:
 *
 * A registry with GStreamer's converters that are installed: videoconvert,
 * videoscale, videorate, audioconvert, audioresample, and the memory
 * transfers glupload/gldownload, cudaupload/cudadownload and vapostproc.
 *
 * Returns: (transfer full): a new #GstPxConverterRegistry
 */
GstPxConverterRegistry *
gst_px_converter_registry_new_default (void)
{
  GstPxConverterRegistry *self = gst_px_converter_registry_new ();

  for (guint i = 0; i < G_N_ELEMENTS (builtin); i++) {
    const PxBuiltinConverter *b = &builtin[i];
    GstPxConverter *c;
    g_autoptr (GstElementFactory) factory =
        gst_element_factory_find (b->factory);

    if (factory == NULL)
      continue;
    c = gst_px_converter_new (b->factory, b->media_type, b->fields, b->cost);
    if (b->from)
      gst_px_converter_set_memory (c, b->from, b->to);
    g_ptr_array_add (self->converters, c);
  }
  return self;
}

/**
 * gst_px_converter_registry_add:
 * @registry: a #GstPxConverterRegistry
 * @converter: (transfer none): the converter to add
 * @error: (optional): where the reason goes on failure
 *
 * Adds @converter, or replaces the one of the same factory.
 *
 * Returns: %FALSE if no element factory of that name is installed
 */
gboolean
gst_px_converter_registry_add (GstPxConverterRegistry * registry,
    GstPxConverter * converter, GError ** error)
{
  g_autoptr (GstElementFactory) factory = NULL;

  g_return_val_if_fail (GST_IS_PX_CONVERTER_REGISTRY (registry), FALSE);
  g_return_val_if_fail (GST_IS_PX_CONVERTER (converter), FALSE);

  factory = gst_element_factory_find (converter->factory_name);
  if (factory == NULL) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "No element \"%s\" is installed", converter->factory_name);
    return FALSE;
  }
  g_mutex_lock (&registry->lock);
  for (guint i = 0; i < registry->converters->len; i++) {
    GstPxConverter *c = g_ptr_array_index (registry->converters, i);
    if (g_str_equal (c->factory_name, converter->factory_name)) {
      g_ptr_array_remove_index (registry->converters, i);
      break;
    }
  }
  g_ptr_array_add (registry->converters, g_object_ref (converter));
  g_mutex_unlock (&registry->lock);
  return TRUE;
}

/**
 * gst_px_converter_registry_get_converters:
 * @registry: a #GstPxConverterRegistry
 *
 * Returns: (transfer container) (element-type GstPxConverter): the
 *   converters, a snapshot; the array holds a reference to each and drops
 *   them when it is freed
 */
GPtrArray *
gst_px_converter_registry_get_converters (GstPxConverterRegistry * registry)
{
  GPtrArray *out;

  g_return_val_if_fail (GST_IS_PX_CONVERTER_REGISTRY (registry), NULL);
  g_mutex_lock (&registry->lock);
  out = g_ptr_array_new_full (registry->converters->len, g_object_unref);
  for (guint i = 0; i < registry->converters->len; i++)
    g_ptr_array_add (out,
        g_object_ref (g_ptr_array_index (registry->converters, i)));
  g_mutex_unlock (&registry->lock);
  return out;
}

/**
 * gst_px_converter_registry_lookup:
 * @registry: a #GstPxConverterRegistry
 * @factory_name: an element factory name
 *
 * Returns: (transfer full) (nullable): the converter of that factory
 */
GstPxConverter *
gst_px_converter_registry_lookup (GstPxConverterRegistry * registry,
    const gchar * factory_name)
{
  GstPxConverter *found = NULL;

  g_return_val_if_fail (GST_IS_PX_CONVERTER_REGISTRY (registry), NULL);
  g_mutex_lock (&registry->lock);
  for (guint i = 0; i < registry->converters->len; i++) {
    GstPxConverter *c = g_ptr_array_index (registry->converters, i);
    if (g_str_equal (c->factory_name, factory_name)) {
      found = g_object_ref (c);
      break;
    }
  }
  g_mutex_unlock (&registry->lock);
  return found;
}
