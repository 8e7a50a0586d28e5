/* Parallax — the converters the caps solver may insert, with their costs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_PX_CONVERTER_H__
#define __GST_PX_CONVERTER_H__

#include <parallax/parallax-prelude.h>

G_BEGIN_DECLS
#define GST_TYPE_PX_CONVERTER (gst_px_converter_get_type ())
GST_PX_API
G_DECLARE_FINAL_TYPE (GstPxConverter, gst_px_converter, GST, PX_CONVERTER,
    GObject);

#define GST_TYPE_PX_CONVERTER_REGISTRY (gst_px_converter_registry_get_type ())
GST_PX_API
G_DECLARE_FINAL_TYPE (GstPxConverterRegistry, gst_px_converter_registry, GST,
    PX_CONVERTER_REGISTRY, GObject);

/* The caps feature of buffers in system memory, as the registry names it. */
#define GST_PX_MEMORY_SYSTEM "memory:SystemMemory"

GST_PX_API
    GstPxConverter * gst_px_converter_new (const gchar * factory_name,
    const gchar * media_type, const gchar * const *fields, guint cost);

GST_PX_API
    void gst_px_converter_set_memory (GstPxConverter * converter,
    const gchar * input_feature, const gchar * output_feature);

GST_PX_API
    const gchar *gst_px_converter_get_factory_name (GstPxConverter * converter);

GST_PX_API
    const gchar *gst_px_converter_get_media_type (GstPxConverter * converter);

GST_PX_API
    const gchar *const *gst_px_converter_get_fields (GstPxConverter *
    converter);

GST_PX_API guint gst_px_converter_get_cost (GstPxConverter * converter);

GST_PX_API
    const gchar *gst_px_converter_get_input_feature (GstPxConverter *
    converter);

GST_PX_API
    const gchar *gst_px_converter_get_output_feature (GstPxConverter *
    converter);

GST_PX_API GstPxConverterRegistry *gst_px_converter_registry_new (void);

GST_PX_API
    GstPxConverterRegistry * gst_px_converter_registry_new_default (void);

GST_PX_API
    gboolean gst_px_converter_registry_add (GstPxConverterRegistry * registry,
    GstPxConverter * converter, GError ** error);

GST_PX_API
    GPtrArray *
gst_px_converter_registry_get_converters (GstPxConverterRegistry * registry);

GST_PX_API
    GstPxConverter * gst_px_converter_registry_lookup (GstPxConverterRegistry *
    registry, const gchar * factory_name);

G_END_DECLS
#endif /* __GST_PX_CONVERTER_H__ */
