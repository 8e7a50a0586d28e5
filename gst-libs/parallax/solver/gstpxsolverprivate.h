/* Parallax — caps solver internals shared by its source files.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_PX_SOLVER_PRIVATE_H__
#define __GST_PX_SOLVER_PRIVATE_H__

#include "gstpxsolver.h"

G_BEGIN_DECLS
/* How the solver learnt of a link. */
    typedef enum
{
  PX_LINK_REAL,                 /* linked in the bin */
  PX_LINK_REQUESTED,            /* asked for, not linked (GStreamer refused) */
  PX_LINK_DYNAMIC,              /* from a pad that appears at run time */
} PxLinkKind;

typedef enum
{
  PX_LINK_NATIVE,               /* negotiates as it is */
  PX_LINK_CONVERT,              /* negotiates through converters */
  PX_LINK_IMPOSSIBLE,           /* no converter chain joins the pads */
  PX_LINK_PENDING,              /* dynamic: solved when its pad appears */
} PxLinkStatus;

typedef struct _PxLink PxLink;

struct _PxLink
{
  PxLinkKind kind;
  PxLinkStatus status;
  GstElement *src_element;      /* owned */
  GstElement *sink_element;     /* owned */
  GstPad *src_pad;              /* owned; NULL while a dynamic pad is awaited */
  GstPad *sink_pad;             /* owned */
  gchar *src_name;              /* "element:pad", or "element:template" */
  gchar *sink_name;
  gchar *src_pad_wanted;        /* dynamic: the pad name asked for, or NULL */
  gboolean src_pad_requested;   /* the solver requested the pad: releases it
                                 * if the plan is not applied */
  gboolean sink_pad_requested;
  gboolean sink_pad_named;      /* the user named the sink pad */

  /* What the upstream side can produce on the link, what the downstream
   * side accepts, and the caps chosen for it (fixed where possible). */
  GstCaps *upstream;
  GstCaps *downstream;
  GstCaps *chosen;

  /* During solving, a requested link is closed by two pads without parent
   * that answer CAPS queries with the current estimates: probe_src feeds
   * the sink element (what arrives after conversion), probe_sink takes the
   * source element's output (what the converters accept). */
  GstPad *probe_src;
  GstPad *probe_sink;
  GstPad *split_peer;           /* a real link's first hop, while split */
  GstCaps *arriving;
  GstCaps *accepted;
  guint *queries;               /* the solve's counter of caps queries */

  GstPxConversion *conversion;  /* owned, or NULL */
  gboolean into_ipcsink;
  /* The link enters another process: an ipcsink, or a sandboxbin that runs
   * its description in a worker. */
  gboolean into_border;
  /* The link leaves a sandboxbin's worker. */
  gboolean from_border;
  /* Whether the sink proposes a memfd arena pool for the chosen caps. */
  gboolean arena_pool;
  /* Why buffers are copied on the link, or NULL if they are not. */
  gchar *copy_reason;
  /* Converters for this link instead of the registry's: the registry's plus
   * encoders, on a muxer's input (owned, or NULL). */
  GPtrArray *converters;
  /* Caps the link converts to instead of what its downstream side
   * accepts: set on a tee's input when converting once before the tee is
   * cheaper than on its branches. */
  GstCaps *target;
};

struct _GstPxPlan
{
  GObject parent;

  GstBin *bin;                  /* owned */
  GPtrArray *links;             /* PxLink, owned */
  GPtrArray *conversions;       /* GstPxConversion */
  GPtrArray *diagnostics;       /* GstPxDiagnostic */
  guint caps_queries;
  gboolean applied;
  gboolean solvable;
  /* During a solve: the sandboxbins seen through (PxShadow). */
  GPtrArray *shadows;
};

/* A sandboxbin's description built in this process, never started, that
 * answers the sandboxbin's caps queries while the solver runs: the
 * sandboxbin's ghost pads target its boundary pads. */
typedef struct
{
  GstElement *sandboxbin;       /* owned */
  GstElement *shadow;           /* owned: the description, parentless */
  GstPad *ghost_sink;           /* owned, or NULL: targeted while solving */
  GstPad *ghost_src;
  GstElement *last;             /* in shadow: what writes the output */
  gboolean isolated;
} PxShadow;

/* solver (gstpxsolver.c) */
void px_solver_add_launch_diagnostic (GstPxSolver * solver,
    GstPxDiagnostic * diagnostic);
gboolean px_is_sandboxbin (GstElement * element);
gboolean px_sandboxbin_is_isolated (GstElement * element);

/* copies (gstpxcopy.c) */
gchar *px_copy_reason (GstPxPlan * plan, PxLink * link, gboolean * arena_pool);

/* plan */
GstPxPlan *px_plan_new (GstBin * bin);
void px_link_free (PxLink * link);
void px_plan_add_diagnostic (GstPxPlan * plan, GstPxDiagnostic * diagnostic);

GstPxConversion *px_conversion_new (const gchar * src_pad,
    const gchar * sink_pad, GPtrArray * converters, const gchar * const *fields,
    guint cost, guint loss);
void px_conversion_set_element_names (GstPxConversion * conversion,
    gchar ** names);

/* diagnostic */
GstPxDiagnostic *px_diagnostic_new (GstPxDiagnosticCode code,
    const gchar * src_pad, const gchar * sink_pad, gchar * message);
void px_diagnostic_set_path (GstPxDiagnostic * diagnostic, GPtrArray * path);
void px_diagnostic_add_field (GstPxDiagnostic * diagnostic,
    const gchar * field, gchar * upstream, gchar * downstream,
    gboolean conflict);
void px_diagnostic_set_suggestion (GstPxDiagnostic * diagnostic,
    gchar * suggestion);

/* caps helpers (gstpxcaps.c) */
typedef struct
{
  gchar *field;
  gchar *upstream;
  gchar *downstream;
  gboolean conflict;
} PxFieldDiff;

GPtrArray *px_caps_diff (const GstCaps * upstream, const GstCaps * downstream);
void px_field_diff_free (PxFieldDiff * diff);
gboolean px_caps_share_media_type (const GstCaps * a, const GstCaps * b);
GstCaps *px_caps_convert (const GstCaps * caps, const gchar * media_type,
    const gchar * const *fields, const gchar * from_feature,
    const gchar * to_feature);
gboolean px_caps_has_feature (const GstCaps * caps, const gchar * media_type,
    const gchar * feature);
guint px_quality_loss (const gchar * field, const GstCaps * upstream,
    const GstCaps * downstream);
gchar *px_caps_summary (const GstCaps * caps);
gchar *px_caps_value_string (const GstCaps * caps, const gchar * field);
guint px_edit_distance (const gchar * a, const gchar * b);
const gchar *px_closest (const gchar * word, GPtrArray * candidates,
    guint * distance);
const gchar *px_caps_first_feature (const GstCaps * caps);
void px_json_string (GString * out, const gchar * value);
void px_dot_string (GString * out, const gchar * value);
void px_diagnostic_to_json (GstPxDiagnostic * diagnostic, GString * out);

/* converters (gstpxconverter.c): an encoder turns raw media into a
 * compressed format; it is a converter only on a muxer's inputs. */
GstPxConverter *px_converter_new_encoder (GstElementFactory * factory,
    guint cost);
const GstCaps *px_converter_get_input_caps (GstPxConverter * converter);
const GstCaps *px_converter_get_output_caps (GstPxConverter * converter);
GPtrArray *px_encoders_for (const GstCaps * accepted);

/* search (gstpxsearch.c) */
typedef struct
{
  GPtrArray *converters;        /* GstPxConverter, upstream first */
  guint cost;                   /* converters' costs + quality loss */
  guint loss;
  gchar **fields;               /* conflicting fields it changes */
  GstCaps *output;              /* what it can produce from upstream */
  GstCaps *input;               /* what it takes to produce downstream's */
} PxChain;

PxChain *px_search (GPtrArray * converters, const GstCaps * upstream,
    const GstCaps * downstream);
void px_chain_free (PxChain * chain);

/* explanations (gstpxexplain.c) */
GstPxDiagnostic *px_explain_impossible (GstPxPlan * plan, PxLink * link,
    GPtrArray * converters);
GstPxDiagnostic *px_explain_conversion (GstPxPlan * plan, PxLink * link);
gboolean px_caps_has_unknown_word (const GstCaps * caps);
GPtrArray *px_link_path (GstPxPlan * plan, PxLink * link,
    GPtrArray * conflicts);

G_END_DECLS
#endif /* __GST_PX_SOLVER_PRIVATE_H__ */
