/* Parallax — events, queries and buffer metadata to and from the wire.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstpxserialize.h"

#include <gst/video/video.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

static gboolean
fail (GError ** error, const gchar * format, ...)
G_GNUC_PRINTF (2, 3);

     static gboolean fail (GError ** error, const gchar * format, ...)
{
  va_list args;
  gchar *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL, message);
  g_free (message);
  return FALSE;
}

/* The field @name of @s if it holds a @type, else NULL. */
static const GValue *
field (const GstStructure * s, const gchar * name, GType type)
{
  const GValue *v = s ? gst_structure_get_value (s, name) : NULL;

  return v && G_VALUE_HOLDS (v, type) ? v : NULL;
}

#define FIELD_OR_FAIL(var, s, name, type)                                    \
  G_STMT_START {                                                             \
    if ((var = field (s, name, type)) == NULL) {                             \
      fail (error, "field '%s' missing or not a %s", name,                  \
          g_type_name (type));                                               \
      goto out;                                                              \
    }                                                                        \
  } G_STMT_END

/* ---- bounded check of a peer's text ------------------------------------ *
 *
 * GStreamer's parser (gst_structure_from_string(), gst_caps_from_string())
 * recurses once per nested array, list, range and quoted structure or caps,
 * without a limit, and makes every structure, field and caps feature name
 * it reads a GQuark, which is never freed. Text from a peer therefore goes
 * through this checker first. It follows the same grammar, bounded: it
 * refuses nesting deeper than GST_PX_BODY_MAX_DEPTH, value types whose text
 * it cannot see into (a GstSample hides caps and structures in base64) or
 * does not know, and names that do not exist yet beyond a budget.
 *
 * Names. A name that is already a quark costs nothing: parsing it again
 * makes nothing new. A new name is charged to the connection's budget
 * (GST_PX_PEER_NEW_NAMES) and to the process's (GST_PX_PROCESS_NEW_NAMES),
 * and may be at most GST_PX_NEW_NAME_MAX_LENGTH bytes long. A quark cannot
 * be freed, so "released when the peer goes" cannot hold for names; what
 * holds is that all peers together can make the process keep at most
 * GST_PX_PROCESS_NEW_NAMES such names, a fixed bound of well under a
 * megabyte. Known names only would be tighter but refuse honest traffic:
 * caps media types, caps fields and application structures that this
 * process has not met yet (a consumer that never loaded the video library
 * has no "colorimetry" quark) are legitimate. The per-connection budget
 * keeps one connection from taking the whole process budget at once.
 *
 * The checker may be stricter than GStreamer (it then refuses text that
 * GStreamer would have parsed); it must never be more lenient in what it
 * lets reach the parser. Anything it does not understand is refused. */

typedef enum
{
  VALUE_PLAIN,                  /* parsed as a number, string, enum...: no names */
  VALUE_CAPS,                   /* parsed again as caps */
  VALUE_STRUCTURE,              /* parsed again as one structure */
  VALUE_TAG_LIST,               /* the same, and must start with "taglist" */
  VALUE_FEATURES,               /* parsed again as caps features */
} ValueClass;

typedef struct
{
  GHashTable *new_names;        /* names not yet quarks, once each */
  guint max_new;
  /* Our own text, checked before it is sent (gst_px_structure_for_peer()):
   * every name is held to a new name's length, since the peer may not know
   * it, and nothing is charged, since only the peer knows its budget. */
  gboolean own;
  GError **error;
} CheckContext;

typedef struct
{
  const gchar *p;
  const gchar *end;
} Cursor;

static gboolean
refuse (CheckContext * ctx, const gchar * format, ...)
G_GNUC_PRINTF (2, 3);

     static gboolean refuse (CheckContext * ctx, const gchar * format, ...)
{
  va_list args;
  gchar *message;

  if (ctx->error != NULL && *ctx->error != NULL)
    return FALSE;
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (ctx->error, GST_PX_ERROR, GST_PX_ERROR_PROTOCOL,
      "refused text from the peer: %s", message);
  g_free (message);
  return FALSE;
}

/* GST_ASCII_IS_STRING in GStreamer: the characters of an unquoted string. */
static gboolean
is_string_char (gchar c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '-' || c == '+' ||
      c == '/' || c == ':' || c == '.';
}

/* Spaces inside a value, as GStreamer's value parser skips them. */
static void
skip_space (Cursor * c)
{
  while (c->p < c->end && g_ascii_isspace (*c->p))
    c->p++;
}

/* Spaces around names and fields, where GStreamer's structure parser also
 * skips an escaped space ("\ "). */
static void
skip_field_space (Cursor * c)
{
  while (c->p < c->end) {
    if (g_ascii_isspace (*c->p))
      c->p++;
    else if (*c->p == '\\' && c->p + 1 < c->end && g_ascii_isspace (c->p[1]))
      c->p += 2;
    else
      break;
  }
}

static gboolean
at (const Cursor * c, gchar ch)
{
  return c->p < c->end && *c->p == ch;
}

/* An unquoted string; FALSE if there is none here. */
static gboolean
simple_string (Cursor * c, const gchar ** start, gsize * len)
{
  *start = c->p;
  while (c->p < c->end && is_string_char (*c->p))
    c->p++;
  *len = (gsize) (c->p - *start);
  return *len > 0;
}

/* A quoted string at c->p, unescaped ("\x" is "x") into a new string. */
static gchar *
quoted_string (CheckContext * ctx, Cursor * c, gsize * len)
{
  GString *s = g_string_new (NULL);

  c->p++;                       /* the opening quote */
  while (c->p < c->end && *c->p != '"') {
    if (*c->p == '\\' && c->p + 1 < c->end)
      c->p++;
    g_string_append_c (s, *c->p);
    c->p++;
  }
  if (c->p >= c->end) {
    g_string_free (s, TRUE);
    refuse (ctx, "unterminated quoted string");
    return NULL;
  }
  c->p++;                       /* the closing quote */
  *len = s->len;
  return g_string_free (s, FALSE);
}

/* Charges @name if it is not a quark yet. */
static gboolean
note_name (CheckContext * ctx, const gchar * start, gsize len)
{
  gchar *name;

  if (ctx->own)
    return len <= GST_PX_NEW_NAME_MAX_LENGTH ||
        refuse (ctx, "a name of %" G_GSIZE_FORMAT " bytes (at most %d)", len,
        GST_PX_NEW_NAME_MAX_LENGTH);
  name = g_strndup (start, len);
  if (g_quark_try_string (name) != 0) {
    g_free (name);
    return TRUE;
  }
  if (len > GST_PX_NEW_NAME_MAX_LENGTH) {
    g_free (name);
    return refuse (ctx, "a new name of %" G_GSIZE_FORMAT " bytes (at most %d)",
        len, GST_PX_NEW_NAME_MAX_LENGTH);
  }
  g_hash_table_add (ctx->new_names, name);
  if (g_hash_table_size (ctx->new_names) > ctx->max_new)
    return refuse (ctx, "more new names than the peer may introduce "
        "(%u left)", ctx->max_new);
  return TRUE;
}

/* gst_structure_validate_name(): a letter, then [A-Za-z0-9/-_.:+]; and
 * not a GStreamer 0.10 raw media type, which GStreamer warns about. */
static gboolean
structure_name_is_valid (const gchar * name, gsize len)
{
  if (len == 0 || !g_ascii_isalpha (name[0]))
    return FALSE;
  if ((len >= 12 && strncmp (name, "video/x-raw-", 12) == 0) ||
      (len >= 12 && strncmp (name, "audio/x-raw-", 12) == 0))
    return FALSE;
  for (gsize i = 1; i < len; i++) {
    if (!g_ascii_isalnum (name[i]) && strchr ("/-_.:+", name[i]) == NULL)
      return FALSE;
  }
  return TRUE;
}

/* A caps feature: [A-Za-z]+ ':' [A-Za-z][A-Za-z0-9]*, or ANY. */
static gboolean
feature_name_is_valid (const gchar * name, gsize len)
{
  gsize i = 0;

  if (len == 3 && strncmp (name, "ANY", 3) == 0)
    return TRUE;
  while (i < len && g_ascii_isalpha (name[i]))
    i++;
  if (i == 0 || i + 1 >= len || name[i] != ':' || !g_ascii_isalpha (name[i +
              1]))
    return FALSE;
  for (i += 2; i < len; i++) {
    if (!g_ascii_isalnum (name[i]))
      return FALSE;
  }
  return TRUE;
}

/* How the parser reads a value: its class and, once cast, its type. */
typedef struct
{
  ValueClass class;
  GType type;                   /* 0: not cast, GStreamer guesses */
  gboolean in_container;        /* an element of an array or a list */
} ValueType;

static const struct
{
  const gchar *name;
    GType (*get_type) (void);
} abbreviations[] = {
  /* gst_structure_gtype_from_abbr(); the fundamental ones below. */
  {"buffer", gst_buffer_get_type}, {"fraction", gst_fraction_get_type},
  {"date", g_date_get_type}, {"datetime", gst_date_time_get_type},
  {"bitmask", gst_bitmask_get_type}, {"flagset", gst_flagset_get_type},
  {"array", gst_value_array_get_type}, {"list", gst_value_list_get_type},
  {"structure", gst_structure_get_type}, {"taglist", gst_tag_list_get_type},
  {"sample", gst_sample_get_type}, {"type", g_gtype_get_type},
};

static GType
type_from_name (const gchar * name)
{
  static const struct
  {
    const gchar *name;
    GType type;
  } fundamental[] = {
    {"int", G_TYPE_INT}, {"i", G_TYPE_INT}, {"uint", G_TYPE_UINT},
    {"u", G_TYPE_UINT}, {"float", G_TYPE_FLOAT}, {"f", G_TYPE_FLOAT},
    {"double", G_TYPE_DOUBLE}, {"d", G_TYPE_DOUBLE},
    {"boolean", G_TYPE_BOOLEAN}, {"bool", G_TYPE_BOOLEAN},
    {"b", G_TYPE_BOOLEAN}, {"string", G_TYPE_STRING},
    {"str", G_TYPE_STRING}, {"s", G_TYPE_STRING},
  };

  for (guint i = 0; i < G_N_ELEMENTS (fundamental); i++) {
    if (strcmp (name, fundamental[i].name) == 0)
      return fundamental[i].type;
  }
  for (guint i = 0; i < G_N_ELEMENTS (abbreviations); i++) {
    if (strcmp (name, abbreviations[i].name) == 0)
      return abbreviations[i].get_type ();
  }
  /* g_type_from_name() only looks names up: it makes no quark. */
  return g_type_from_name (name);
}

/* How the parser reads the value after the cast "(@name)". */
static gboolean
classify_type (CheckContext * ctx, const gchar * name, ValueType * out)
{
  GType plain_types[] = {
    GST_TYPE_FRACTION, GST_TYPE_INT_RANGE, GST_TYPE_INT64_RANGE,
    GST_TYPE_DOUBLE_RANGE, GST_TYPE_FRACTION_RANGE, GST_TYPE_BITMASK,
    GST_TYPE_DATE_TIME, G_TYPE_DATE, GST_TYPE_BUFFER, G_TYPE_GTYPE,
  };
  GType t = type_from_name (name);

  out->type = t;
  out->class = VALUE_PLAIN;
  if (t == 0)
    return refuse (ctx, "unknown value type '%s'", name);
  /* GFlags, GEnum, GObject...: no GValue can hold one as such. */
  if (G_TYPE_IS_ABSTRACT (t) || !G_TYPE_IS_VALUE_TYPE (t))
    return refuse (ctx, "value type '%s' cannot be instantiated", name);
  if (t == GST_TYPE_ARRAY || t == GST_TYPE_LIST) {
    /* Their elements are not cast. */
    out->type = 0;
    return TRUE;
  }
  if (G_TYPE_IS_ENUM (t) || G_TYPE_IS_FLAGS (t) ||
      g_type_is_a (t, GST_TYPE_FLAG_SET))
    return TRUE;
  switch (G_TYPE_FUNDAMENTAL (t)) {
    case G_TYPE_CHAR:
    case G_TYPE_UCHAR:
    case G_TYPE_BOOLEAN:
    case G_TYPE_INT:
    case G_TYPE_UINT:
    case G_TYPE_LONG:
    case G_TYPE_ULONG:
    case G_TYPE_INT64:
    case G_TYPE_UINT64:
    case G_TYPE_FLOAT:
    case G_TYPE_DOUBLE:
    case G_TYPE_STRING:
      return TRUE;
    default:
      break;
  }
  for (guint i = 0; i < G_N_ELEMENTS (plain_types); i++) {
    if (t == plain_types[i])
      return TRUE;
  }
  if (t == GST_TYPE_CAPS)
    out->class = VALUE_CAPS;
  else if (t == GST_TYPE_STRUCTURE || t == GST_TYPE_SEGMENT)
    out->class = VALUE_STRUCTURE;
  else if (t == GST_TYPE_TAG_LIST)
    out->class = VALUE_TAG_LIST;
  else if (t == GST_TYPE_CAPS_FEATURES)
    out->class = VALUE_FEATURES;
  if (out->class != VALUE_PLAIN)
    return TRUE;
  /* GstSample among others: its caps and structures travel in base64. */
  return refuse (ctx, "values of type '%s' do not cross processes", name);
}

/* A plain value of a cast type must deserialize: GStreamer 1.22 leaks the
 * container when one of its elements does not, and a peer could repeat
 * that at will. Plain values are read without nesting and without names,
 * so trying one here costs nothing lasting. */
static gboolean
check_plain (CheckContext * ctx, GType type, const gchar * text, gsize len)
{
  GValue value = G_VALUE_INIT;
  gchar *copy;
  gboolean ok;

  if (type == 0 || type == G_TYPE_STRING)
    return TRUE;
  /* GStreamer 1.22's buffer reader unmaps a buffer it never mapped
   * (a critical) on anything but pairs of hex digits. */
  if (type == GST_TYPE_BUFFER) {
    for (gsize i = 0; i < len; i++) {
      if (!g_ascii_isxdigit (text[i]))
        return refuse (ctx, "a buffer that is not hexadecimal");
    }
    if (len == 0 || len % 2 != 0)
      return refuse (ctx, "a buffer of no or an odd number of hex digits");
  }
  copy = g_strndup (text, len);
  g_value_init (&value, type);
  ok = gst_value_deserialize (&value, copy);
  g_free (copy);
  if (!ok)
    return refuse (ctx, "not a valid %s", g_type_name (type));
  /* GStreamer reads flags as a number whatever bits it has, then cannot
   * write them back (a critical): only the bits of the type. */
  if (G_VALUE_HOLDS_FLAGS (&value)) {
    GFlagsClass *klass = g_type_class_ref (type);

    ok = (g_value_get_flags (&value) & ~klass->mask) == 0;
    g_type_class_unref (klass);
  }
  g_value_unset (&value);
  return ok || refuse (ctx, "flags a %s does not have", g_type_name (type));
}

static gboolean check_structures (CheckContext * ctx, Cursor * c,
    guint depth, gchar close, gboolean several);

/* Caps features "a:b, c:d" up to @close (not eaten) or the end. Like
 * gst_caps_features_from_string(), spaces may come before a feature only:
 * a feature runs up to the ',' or ')'. */
static gboolean
check_features (CheckContext * ctx, Cursor * c, gchar close)
{
  const gchar *name;
  gsize len;

  for (;;) {
    while (at (c, ' '))
      c->p++;
    if (!simple_string (c, &name, &len) || !feature_name_is_valid (name, len))
      return refuse (ctx, "invalid caps feature");
    if (!note_name (ctx, name, len))
      return FALSE;
    if (c->p >= c->end || at (c, close))
      return TRUE;
    if (!at (c, ','))
      return refuse (ctx, "expected ',' between caps features");
    c->p++;
  }
}

/* The text of a quoted or unquoted value that is parsed again. */
static gboolean
check_nested_text (CheckContext * ctx, const gchar * text, gsize len,
    guint depth, ValueClass class)
{
  Cursor sub = { text, text + len };
  gboolean ok;

  /* gst_tag_list_new_from_string() has this as a precondition. */
  if (class == VALUE_TAG_LIST && (len < 7 || strncmp (text, "taglist", 7)))
    return refuse (ctx, "a tag list that is not a \"taglist\"");
  if (class == VALUE_FEATURES)
    ok = check_features (ctx, &sub, '\0');
  else
    ok = check_structures (ctx, &sub, depth, '\0', class == VALUE_CAPS);
  if (!ok)
    return FALSE;
  return sub.p == sub.end || refuse (ctx, "unexpected text after a value");
}

static gboolean check_value (CheckContext * ctx, Cursor * c, guint depth,
    ValueType inherited);

/* Whether @values (2 or 3, of one number type) make a range GStreamer
 * builds without complaint: min < max, and for integers a step > 0 that
 * divides both. */
static gboolean
range_is_valid (GValue * values, guint n)
{
  gint64 min, max, step;

  if (gst_value_compare (&values[0], &values[1]) != GST_VALUE_LESS_THAN)
    return FALSE;
  if (n == 2)
    return TRUE;
  if (G_VALUE_HOLDS_INT (&values[0])) {
    min = g_value_get_int (&values[0]);
    max = g_value_get_int (&values[1]);
    step = g_value_get_int (&values[2]);
  } else if (G_VALUE_HOLDS_INT64 (&values[0])) {
    min = g_value_get_int64 (&values[0]);
    max = g_value_get_int64 (&values[1]);
    step = g_value_get_int64 (&values[2]);
  } else {
    return FALSE;
  }
  return step > 0 && min % step == 0 && max % step == 0;
}

/* A range [min, max] or [min, max, step] of a cast number type. GStreamer
 * fails (and leaks) on uncast ends of different guessed types, and its
 * range setters have the order of the ends as a precondition. */
static gboolean
check_range (CheckContext * ctx, Cursor * c, GType type)
{
  GValue values[3] = { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT };
  guint n = 0;
  gboolean ok = FALSE;

  if (type != G_TYPE_INT && type != G_TYPE_INT64 && type != G_TYPE_DOUBLE &&
      type != GST_TYPE_FRACTION)
    return refuse (ctx, "a range that is not of a cast number type");
  c->p++;
  for (;;) {
    const gchar *start;
    gsize len;
    gchar *text;
    gboolean parsed;

    skip_space (c);
    if (n == G_N_ELEMENTS (values) || !simple_string (c, &start, &len)) {
      refuse (ctx, "a range of other than 2 or 3 numbers");
      goto out;
    }
    text = g_strndup (start, len);
    g_value_init (&values[n], type);
    parsed = gst_value_deserialize (&values[n], text);
    g_free (text);
    n++;
    if (!parsed) {
      refuse (ctx, "not a valid %s in a range", g_type_name (type));
      goto out;
    }
    skip_space (c);
    if (at (c, ']'))
      break;
    if (!at (c, ',')) {
      refuse (ctx, "expected ',' or ']' in a range");
      goto out;
    }
    c->p++;
  }
  c->p++;
  ok = n >= 2 && range_is_valid (values, n);
  if (!ok)
    refuse (ctx, "an empty or inverted range");
out:
  for (guint i = 0; i < n; i++)
    g_value_unset (&values[i]);
  return ok;
}

/* The values of an array <...> or a list {...}. */
static gboolean
check_container (CheckContext * ctx, Cursor * c, guint depth,
    ValueType type, gchar close)
{
  type.in_container = TRUE;
  c->p++;
  skip_space (c);
  if (at (c, close)) {
    c->p++;
    return TRUE;
  }
  for (;;) {
    if (!check_value (ctx, c, depth + 1, type))
      return FALSE;
    skip_space (c);
    if (at (c, close)) {
      c->p++;
      return TRUE;
    }
    if (!at (c, ','))
      return refuse (ctx, "expected ',' or '%c' in a container", close);
    c->p++;
  }
}

static gboolean
check_value (CheckContext * ctx, Cursor * c, guint depth, ValueType type)
{
  const gchar *start;
  gsize len;

  if (depth > GST_PX_BODY_MAX_DEPTH)
    return refuse (ctx, "values nested deeper than %d", GST_PX_BODY_MAX_DEPTH);
  skip_space (c);
  if (at (c, '(')) {
    gchar *name;
    gboolean known;

    c->p++;
    skip_space (c);
    if (!simple_string (c, &start, &len))
      return refuse (ctx, "expected a type name");
    name = g_strndup (start, len);
    known = classify_type (ctx, name, &type);
    g_free (name);
    if (!known)
      return FALSE;
    skip_space (c);
    if (!at (c, ')'))
      return refuse (ctx, "expected ')' after a type name");
    c->p++;
    skip_space (c);
  }
  if (at (c, '[') && type.class != VALUE_PLAIN &&
      type.class != VALUE_CAPS && type.class != VALUE_STRUCTURE)
    return refuse (ctx, "a tag list or caps features in brackets");
  if (at (c, '[') && type.class != VALUE_PLAIN) {
    /* A structure or caps in brackets (GStreamer 1.20 syntax), not
     * empty: GStreamer would name a structure "". */
    c->p++;
    skip_space (c);
    if (at (c, ']'))
      return refuse (ctx, "empty brackets");
    if (!check_structures (ctx, c, depth + 1, ']', type.class == VALUE_CAPS))
      return FALSE;
    if (!at (c, ']'))
      return refuse (ctx, "expected ']'");
    c->p++;
    return TRUE;
  }
  if (at (c, '['))
    return check_range (ctx, c, type.type);
  if (at (c, '{'))
    return check_container (ctx, c, depth, type, '}');
  if (at (c, '<'))
    return check_container (ctx, c, depth, type, '>');
  if (at (c, '"')) {
    gchar *text = quoted_string (ctx, c, &len);
    gboolean ok;

    if (text == NULL)
      return FALSE;
    /* GStreamer guesses the type of an uncast quoted value and warns when
     * it is not a string; GStreamer's own text always casts. */
    if (type.class == VALUE_PLAIN && type.type == 0)
      ok = refuse (ctx, "a quoted value without a type");
    else if (type.class == VALUE_PLAIN && type.type != G_TYPE_STRING &&
        (type.in_container || type.type != GST_TYPE_DATE_TIME))
      /* GStreamer writes only strings and date-times quoted, and reads
       * other quoted values inconsistently: inside an array or a list
       * with their quotes, so that they fail. */
      ok = refuse (ctx, "a quoted %s", g_type_name (type.type));
    else if (type.class == VALUE_PLAIN)
      ok = check_plain (ctx, type.type, text, len);
    else
      ok = check_nested_text (ctx, text, len, depth + 1, type.class);
    g_free (text);
    return ok;
  }
  if (!simple_string (c, &start, &len))
    return refuse (ctx, "expected a value");
  /* NULL reads as a NULL string, which an array or a list cannot write
   * back (a critical). */
  if (type.class == VALUE_PLAIN && type.in_container && (type.type == 0 ||
          type.type == G_TYPE_STRING) && len == 4 &&
      strncmp (start, "NULL", 4) == 0)
    return refuse (ctx, "a NULL string in an array or a list");
  if (type.class == VALUE_PLAIN)
    return check_plain (ctx, type.type, start, len);
  return check_nested_text (ctx, start, len, depth + 1, type.class);
}

/* One structure's name, its caps features if any, and its fields, up to
 * the ';' (eaten), @close (not eaten) or the end. */
static gboolean
check_structure (CheckContext * ctx, Cursor * c, guint depth, gchar close)
{
  const gchar *name;
  gchar *quoted = NULL;
  gsize len;
  gboolean ok;

  if (at (c, '"')) {
    if ((quoted = quoted_string (ctx, c, &len)) == NULL)
      return FALSE;
    name = quoted;
  } else if (!simple_string (c, &name, &len)) {
    return refuse (ctx, "expected a structure name");
  }
  /* ANY, EMPTY and NONE are caps, not names. */
  if (!(len == 3 && strncmp (name, "ANY", 3) == 0) &&
      !(len == 4 && strncmp (name, "NONE", 4) == 0) &&
      !(len == 5 && strncmp (name, "EMPTY", 5) == 0)) {
    ok = structure_name_is_valid (name, len) ||
        refuse (ctx, "invalid structure name");
    ok = ok && note_name (ctx, name, len);
  } else {
    ok = TRUE;
  }
  g_free (quoted);
  if (!ok)
    return FALSE;

  if (at (c, '(')) {
    c->p++;
    if (!check_features (ctx, c, ')'))
      return FALSE;
    if (!at (c, ')'))
      return refuse (ctx, "expected ')' after caps features");
    c->p++;
  }

  for (;;) {
    skip_field_space (c);
    if (c->p >= c->end || at (c, close))
      return TRUE;
    if (at (c, ';')) {
      c->p++;
      return TRUE;
    }
    if (!at (c, ','))
      return refuse (ctx, "expected ',' between fields");
    c->p++;
    skip_field_space (c);
    if (!simple_string (c, &name, &len))
      return refuse (ctx, "expected a field name");
    if (!note_name (ctx, name, len))
      return FALSE;
    skip_field_space (c);
    if (!at (c, '='))
      return refuse (ctx, "expected '=' after a field name");
    c->p++;
    if (!check_value (ctx, c, depth, (ValueType) {
            VALUE_PLAIN, 0, FALSE}
        ))
      return FALSE;
  }
}

/* Structures separated by ';' (caps), or one with @several FALSE, up to
 * @close or the end of the text. */
static gboolean
check_structures (CheckContext * ctx, Cursor * c, guint depth, gchar close,
    gboolean several)
{
  if (depth > GST_PX_BODY_MAX_DEPTH)
    return refuse (ctx, "structures nested deeper than %d",
        GST_PX_BODY_MAX_DEPTH);
  for (;;) {
    skip_field_space (c);
    if (c->p >= c->end || at (c, close))
      return TRUE;
    if (!check_structure (ctx, c, depth, close))
      return FALSE;
    if (!several) {
      /* gst_structure_from_string() reads up to the ';' and complains
       * about anything after it, spaces included. */
      if (c->p[-1] != ';')
        skip_field_space (c);
      return c->p >= c->end || (close != '\0' && at (c, close)) ||
          refuse (ctx, "text after the structure");
    }
  }
}

/* Takes @n from *@left if it holds that many. */
static gboolean
take_names (gint * left, guint n)
{
  gint old;

  do {
    old = g_atomic_int_get (left);
    if (old < 0 || (guint) old < n)
      return FALSE;
  } while (!g_atomic_int_compare_and_exchange (left, old, old - (gint) n));
  return TRUE;
}

static gint process_new_names = GST_PX_PROCESS_NEW_NAMES;

void
gst_px_peer_budget_init (GstPxPeerBudget * budget)
{
  budget->new_names = GST_PX_PEER_NEW_NAMES;
}

gboolean
gst_px_body_check (const gchar * body, GstPxPeerBudget * budget,
    GError ** error)
{
  CheckContext ctx = {.error = error };
  gsize size = strnlen (body, PX_WIRE_MAX_BODY);
  Cursor c = { body, body + size };
  guint n;
  gboolean ok;

  if (size >= PX_WIRE_MAX_BODY)
    return refuse (&ctx, "longer than %u bytes", PX_WIRE_MAX_BODY - 1);
  ctx.max_new = MIN ((guint) MAX (g_atomic_int_get (&budget->new_names), 0),
      (guint) MAX (g_atomic_int_get (&process_new_names), 0));
  ctx.new_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ok = check_structures (&ctx, &c, 0, '\0', FALSE);
  n = g_hash_table_size (ctx.new_names);
  g_hash_table_unref (ctx.new_names);
  if (!ok)
    return FALSE;
  if (n == 0)
    return TRUE;
  if (!take_names (&budget->new_names, n))
    return refuse (&ctx, "more new names than the peer may introduce");
  if (!take_names (&process_new_names, n)) {
    g_atomic_int_add (&budget->new_names, (gint) n);
    return refuse (&ctx, "more new names than this process accepts from "
        "peers");
  }
  return TRUE;
}

GstStructure *
gst_px_structure_deserialize (const gchar * body, GstPxPeerBudget * budget,
    GError ** error)
{
  GstStructure *s;

  if (body == NULL || body[0] == '\0') {
    fail (error, "empty structure");
    return NULL;
  }
  if (!gst_px_body_check (body, budget, error))
    return NULL;
  s = gst_structure_from_string (body, NULL);
  if (s == NULL)
    fail (error, "unparsable structure");
  return s;
}

/* The structure in @body, or NULL without error for an empty body (events
 * such as EOS carry none). */
static GstStructure *
parse_body (const gchar * body, GstPxPeerBudget * budget, GError ** error)
{
  if (body == NULL || body[0] == '\0')
    return NULL;
  return gst_px_structure_deserialize (body, budget, error);
}

static gboolean
keep_field (GQuark field_id, GValue * value, gpointer unused)
{
  return !(G_VALUE_HOLDS (value, GST_TYPE_CAPS) &&
      g_value_get_boxed (value) == NULL);
}

/* The text of @s without its fields that hold no caps: "(GstCaps)NULL"
 * would come back as caps with one structure called NULL, which intersects
 * with nothing. */
static gchar *
structure_text (const GstStructure * s)
{
  GstStructure *copy;
  gchar *text;

  if (s == NULL)
    return g_strdup ("");
  copy = gst_structure_copy (s);
  gst_structure_filter_and_map_in_place (copy, keep_field, NULL);
  text = gst_structure_to_string (copy);
  gst_structure_free (copy);
  return text;
}

/* ---- our own structures, before they are sent ------------------------- */

/* TRUE if a peer's gst_px_body_check() accepts @text, its budget of new
 * names aside. */
static gboolean
own_text_crosses (const gchar * text, GError ** error)
{
  CheckContext ctx = {.own = TRUE,.error = error };
  gsize size = strnlen (text, PX_WIRE_MAX_BODY);
  Cursor c = { text, text + size };

  if (size >= PX_WIRE_MAX_BODY)
    return refuse (&ctx, "longer than %u bytes", PX_WIRE_MAX_BODY - 1);
  return check_structures (&ctx, &c, 0, '\0', FALSE);
}

static gboolean value_has_text (const GValue * value, guint depth);

static gboolean
field_has_text (GQuark field_id, const GValue * value, gpointer user_data)
{
  return value_has_text (value, GPOINTER_TO_UINT (user_data));
}

/* FALSE if an array or a list in @value holds a value without a text
 * form: GStreamer would warn as it writes the text. Other values without
 * one are written "(Type)NULL", which the checker refuses. */
static gboolean
value_has_text (const GValue * value, guint depth)
{
  if (depth > GST_PX_BODY_MAX_DEPTH)
    return FALSE;
  if (GST_VALUE_HOLDS_ARRAY (value) || GST_VALUE_HOLDS_LIST (value)) {
    gboolean array = GST_VALUE_HOLDS_ARRAY (value);
    guint n = array ? gst_value_array_get_size (value) :
        gst_value_list_get_size (value);

    for (guint i = 0; i < n; i++) {
      const GValue *item = array ? gst_value_array_get_value (value, i) :
          gst_value_list_get_value (value, i);
      gchar *text;

      if (GST_VALUE_HOLDS_ARRAY (item) || GST_VALUE_HOLDS_LIST (item) ||
          GST_VALUE_HOLDS_STRUCTURE (item) || GST_VALUE_HOLDS_CAPS (item)) {
        if (!value_has_text (item, depth + 1))
          return FALSE;
        continue;
      }
      text = gst_value_serialize (item);
      g_free (text);
      if (text == NULL)
        return FALSE;
    }
    return TRUE;
  }
  if (GST_VALUE_HOLDS_STRUCTURE (value) && gst_value_get_structure (value))
    return gst_structure_foreach (gst_value_get_structure (value),
        field_has_text, GUINT_TO_POINTER (depth + 1));
  if (GST_VALUE_HOLDS_CAPS (value) && gst_value_get_caps (value)) {
    const GstCaps *caps = gst_value_get_caps (value);

    for (guint i = 0; i < gst_caps_get_size (caps); i++) {
      if (!gst_structure_foreach (gst_caps_get_structure (caps, i),
              field_has_text, GUINT_TO_POINTER (depth + 1)))
        return FALSE;
    }
  }
  return TRUE;
}

typedef struct
{
  GstStructure *probe;          /* the name, and one field at a time */
  GPtrArray *left_out;
} ForPeer;

/* Whether the field alone, in a structure of the same name, crosses: the
 * checker reads each field on its own, so the fields that do cross also
 * cross together. Caps that are NULL would come back as caps named NULL
 * (see structure_text()). */
static gboolean
field_crosses (GQuark field_id, GValue * value, gpointer user_data)
{
  ForPeer *for_peer = user_data;
  gboolean crosses = FALSE;
  gchar *text;

  if (!(G_VALUE_HOLDS (value, GST_TYPE_CAPS) &&
          g_value_get_boxed (value) == NULL) && value_has_text (value, 0)) {
    gst_structure_remove_all_fields (for_peer->probe);
    gst_structure_id_set_value (for_peer->probe, field_id, value);
    text = gst_structure_to_string (for_peer->probe);
    crosses = own_text_crosses (text, NULL);
    g_free (text);
  }
  if (!crosses && for_peer->left_out != NULL)
    g_ptr_array_add (for_peer->left_out,
        g_strdup (g_quark_to_string (field_id)));
  return crosses;
}

GstStructure *
gst_px_structure_for_peer (const GstStructure * s, GPtrArray * left_out)
{
  ForPeer for_peer = { gst_structure_new_empty (gst_structure_get_name (s)),
    left_out
  };
  GstStructure *copy = gst_structure_copy (s);
  gchar *text;
  gboolean crosses;

  gst_structure_filter_and_map_in_place (copy, field_crosses, &for_peer);
  gst_structure_free (for_peer.probe);
  text = gst_structure_to_string (copy);
  crosses = own_text_crosses (text, NULL);
  g_free (text);
  if (!crosses)
    g_clear_pointer (&copy, gst_structure_free);
  return copy;
}

/* ---- events ------------------------------------------------------------ */

/* A stream-start may carry a GstStream object, which has no text form:
 * only the id, the flags and the group id cross. */
static gchar *
stream_start_text (GstEvent * event)
{
  const gchar *id;
  GstStreamFlags flags;
  guint group;
  GstStructure *s;
  gchar *text;

  gst_event_parse_stream_start (event, &id);
  gst_event_parse_stream_flags (event, &flags);
  s = gst_structure_new ("GstEventStreamStart", "stream-id", G_TYPE_STRING,
      id, "flags", GST_TYPE_STREAM_FLAGS, flags, NULL);
  if (gst_event_parse_group_id (event, &group))
    gst_structure_set (s, "group-id", G_TYPE_UINT, group, NULL);
  text = gst_structure_to_string (s);
  gst_structure_free (s);
  return text;
}

/* By its value: a tag from a peer need not be registered here. */
static gboolean
tag_is_sample (const GstTagList * list, const gchar * tag)
{
  const GValue *value = gst_tag_list_get_value_index (list, tag, 0);

  return value != NULL && G_VALUE_HOLDS (value, GST_TYPE_SAMPLE);
}

/* A tag list without its samples (images, attachments): their text is
 * base64, which a receiver cannot check before parsing it, so it refuses
 * them (see the checker above). */
static gchar *
tag_text (GstEvent * event)
{
  GstTagList *list, *copy;
  GstEvent *stripped;
  gchar *text;
  gint n;

  gst_event_parse_tag (event, &list);
  copy = gst_tag_list_copy (list);
  n = gst_tag_list_n_tags (copy);
  for (gint i = n - 1; i >= 0; i--) {
    const gchar *tag = gst_tag_list_nth_tag_name (copy, i);

    if (tag_is_sample (copy, tag))
      gst_tag_list_remove_tag (copy, tag);
  }
  stripped = gst_event_new_tag (copy);
  text = structure_text (gst_event_get_structure (stripped));
  gst_event_unref (stripped);
  return text;
}

gchar *
gst_px_event_serialize (GstEvent * event)
{
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
    case GST_EVENT_CAPS:
    case GST_EVENT_SEGMENT:
    case GST_EVENT_TAG:
    case GST_EVENT_EOS:
    case GST_EVENT_FLUSH_START:
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_GAP:
    case GST_EVENT_CUSTOM_DOWNSTREAM:
    case GST_EVENT_CUSTOM_DOWNSTREAM_OOB:
    case GST_EVENT_CUSTOM_DOWNSTREAM_STICKY:
    case GST_EVENT_CUSTOM_BOTH:
    case GST_EVENT_CUSTOM_BOTH_OOB:
    case GST_EVENT_SEEK:
    case GST_EVENT_QOS:
    case GST_EVENT_NAVIGATION:
    case GST_EVENT_RECONFIGURE:
    case GST_EVENT_LATENCY:
    case GST_EVENT_STEP:
    case GST_EVENT_CUSTOM_UPSTREAM:
      break;
    default:
      return NULL;
  }
  if (GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START)
    return stream_start_text (event);
  if (GST_EVENT_TYPE (event) == GST_EVENT_TAG)
    return tag_text (event);
  return structure_text (gst_event_get_structure (event));
}

static GstEvent *
event_stream_start (const GstStructure * s, GError ** error)
{
  const GValue *id, *flags, *group;
  GstEvent *event = NULL;

  FIELD_OR_FAIL (id, s, "stream-id", G_TYPE_STRING);
  if (g_value_get_string (id) == NULL) {
    fail (error, "empty stream-id");
    goto out;
  }
  event = gst_event_new_stream_start (g_value_get_string (id));
  if ((flags = field (s, "flags", GST_TYPE_STREAM_FLAGS)))
    gst_event_set_stream_flags (event, g_value_get_flags (flags));
  /* GST_GROUP_ID_INVALID (0) is what a stream without a group id has. */
  if ((group = field (s, "group-id", G_TYPE_UINT)) &&
      g_value_get_uint (group) != GST_GROUP_ID_INVALID)
    gst_event_set_group_id (event, g_value_get_uint (group));
out:
  return event;
}

static GstEvent *
event_caps (const GstStructure * s, GError ** error)
{
  const GValue *v;
  GstCaps *caps;

  FIELD_OR_FAIL (v, s, "caps", GST_TYPE_CAPS);
  caps = g_value_get_boxed (v);
  if (caps == NULL || !gst_caps_is_fixed (caps)) {
    fail (error, "caps event without fixed caps");
    goto out;
  }
  return gst_event_new_caps (caps);
out:
  return NULL;
}

static gboolean
segment_is_sane (const GstSegment * seg)
{
  /* gst_event_new_segment() refuses GST_FORMAT_UNDEFINED. */
  switch (seg->format) {
    case GST_FORMAT_DEFAULT:
    case GST_FORMAT_BYTES:
    case GST_FORMAT_TIME:
    case GST_FORMAT_BUFFERS:
    case GST_FORMAT_PERCENT:
      break;
    default:
      return FALSE;
  }
  return isfinite (seg->rate) && seg->rate != 0.0 &&
      isfinite (seg->applied_rate) && seg->applied_rate != 0.0 &&
      (seg->stop == GST_CLOCK_TIME_NONE || seg->start <= seg->stop);
}

static GstEvent *
event_segment (const GstStructure * s, GError ** error)
{
  const GValue *v;
  const GstSegment *seg;

  FIELD_OR_FAIL (v, s, "segment", GST_TYPE_SEGMENT);
  seg = g_value_get_boxed (v);
  if (seg == NULL || !segment_is_sane (seg)) {
    fail (error, "invalid segment");
    goto out;
  }
  return gst_event_new_segment (seg);
out:
  return NULL;
}

static GstEvent *
event_tag (const GstStructure * s, GError ** error)
{
  const GValue *v;

  FIELD_OR_FAIL (v, s, "taglist", GST_TYPE_TAG_LIST);
  if (g_value_get_boxed (v) == NULL) {
    fail (error, "empty tag list");
    goto out;
  }
  return gst_event_new_tag (gst_tag_list_copy (g_value_get_boxed (v)));
out:
  return NULL;
}

static GstEvent *
event_gap (const GstStructure * s, GError ** error)
{
  const GValue *ts, *dur;

  FIELD_OR_FAIL (ts, s, "timestamp", G_TYPE_UINT64);
  FIELD_OR_FAIL (dur, s, "duration", G_TYPE_UINT64);
  if (!GST_CLOCK_TIME_IS_VALID (g_value_get_uint64 (ts))) {
    fail (error, "gap without timestamp");
    goto out;
  }
  return gst_event_new_gap (g_value_get_uint64 (ts), g_value_get_uint64 (dur));
out:
  return NULL;
}

static GstEvent *
event_flush_stop (const GstStructure * s, GError ** error)
{
  const GValue *v;

  FIELD_OR_FAIL (v, s, "reset-time", G_TYPE_BOOLEAN);
  return gst_event_new_flush_stop (g_value_get_boolean (v));
out:
  return NULL;
}

static GstEvent *
event_seek (const GstStructure * s, GError ** error)
{
  const GValue *rate, *format, *flags, *cur_type, *cur, *stop_type, *stop;
  gdouble r;

  FIELD_OR_FAIL (rate, s, "rate", G_TYPE_DOUBLE);
  FIELD_OR_FAIL (format, s, "format", GST_TYPE_FORMAT);
  FIELD_OR_FAIL (flags, s, "flags", GST_TYPE_SEEK_FLAGS);
  FIELD_OR_FAIL (cur_type, s, "cur-type", GST_TYPE_SEEK_TYPE);
  FIELD_OR_FAIL (cur, s, "cur", G_TYPE_INT64);
  FIELD_OR_FAIL (stop_type, s, "stop-type", GST_TYPE_SEEK_TYPE);
  FIELD_OR_FAIL (stop, s, "stop", G_TYPE_INT64);
  r = g_value_get_double (rate);
  if (!isfinite (r) || r == 0.0) {
    fail (error, "invalid seek rate");
    goto out;
  }
  return gst_event_new_seek (r, g_value_get_enum (format),
      g_value_get_flags (flags), g_value_get_enum (cur_type),
      g_value_get_int64 (cur), g_value_get_enum (stop_type),
      g_value_get_int64 (stop));
out:
  return NULL;
}

static GstEvent *
event_qos (const GstStructure * s, GError ** error)
{
  const GValue *type, *proportion, *diff, *ts;
  gint64 diff_ns;
  guint64 ts_ns;
  gdouble p;

  FIELD_OR_FAIL (type, s, "type", GST_TYPE_QOS_TYPE);
  FIELD_OR_FAIL (proportion, s, "proportion", G_TYPE_DOUBLE);
  FIELD_OR_FAIL (diff, s, "diff", G_TYPE_INT64);
  FIELD_OR_FAIL (ts, s, "timestamp", G_TYPE_UINT64);
  p = g_value_get_double (proportion);
  diff_ns = g_value_get_int64 (diff);
  ts_ns = g_value_get_uint64 (ts);
  /* gst_event_new_qos() refuses (with a critical) a negative diff larger
   * than the timestamp. */
  if (!isfinite (p) || !GST_CLOCK_TIME_IS_VALID (ts_ns) ||
      (diff_ns < 0 && (diff_ns == G_MININT64 || (guint64) - diff_ns > ts_ns))) {
    fail (error, "invalid QoS values");
    goto out;
  }
  return gst_event_new_qos (g_value_get_enum (type), p,
      g_value_get_int64 (diff), g_value_get_uint64 (ts));
out:
  return NULL;
}

static GstEvent *
event_latency (const GstStructure * s, GError ** error)
{
  const GValue *v;

  FIELD_OR_FAIL (v, s, "latency", G_TYPE_UINT64);
  return gst_event_new_latency (g_value_get_uint64 (v));
out:
  return NULL;
}

static GstEvent *
event_step (const GstStructure * s, GError ** error)
{
  const GValue *format, *amount, *rate, *flush, *intermediate;
  gdouble r;

  FIELD_OR_FAIL (format, s, "format", GST_TYPE_FORMAT);
  FIELD_OR_FAIL (amount, s, "amount", G_TYPE_UINT64);
  FIELD_OR_FAIL (rate, s, "rate", G_TYPE_DOUBLE);
  FIELD_OR_FAIL (flush, s, "flush", G_TYPE_BOOLEAN);
  FIELD_OR_FAIL (intermediate, s, "intermediate", G_TYPE_BOOLEAN);
  r = g_value_get_double (rate);
  if (!isfinite (r) || r <= 0.0) {
    fail (error, "invalid step rate");
    goto out;
  }
  return gst_event_new_step (g_value_get_enum (format),
      g_value_get_uint64 (amount), r, g_value_get_boolean (flush),
      g_value_get_boolean (intermediate));
out:
  return NULL;
}

/* Events that carry an application structure as they are. */
static GstEvent *
event_with_structure (GstEventType type, GstStructure ** s, GError ** error)
{
  GstEvent *event;

  if (*s == NULL) {
    fail (error, "%s event without a structure",
        gst_event_type_get_name (type));
    return NULL;
  }
  if (type == GST_EVENT_NAVIGATION)
    event = gst_event_new_navigation (*s);
  else
    event = gst_event_new_custom (type, *s);
  *s = NULL;
  return event;
}

static GstEvent *
event_eos (const GstStructure * s, GError ** error)
{
  return gst_event_new_eos ();
}

static GstEvent *
event_flush_start (const GstStructure * s, GError ** error)
{
  return gst_event_new_flush_start ();
}

static GstEvent *
event_reconfigure (const GstStructure * s, GError ** error)
{
  return gst_event_new_reconfigure ();
}

typedef enum
{
  DOWNSTREAM = 1 << 0,
  UPSTREAM = 1 << 1,
} Direction;

/* Every event that may cross, where it may travel, and what makes it from
 * its body: NULL for events that carry an application structure as they
 * are (event_with_structure()). */
static const struct
{
  GstEventType type;
  Direction direction;
  GstEvent *(*decode) (const GstStructure * s, GError ** error);
} event_kinds[] = {
  {GST_EVENT_STREAM_START, DOWNSTREAM, event_stream_start},
  {GST_EVENT_CAPS, DOWNSTREAM, event_caps},
  {GST_EVENT_SEGMENT, DOWNSTREAM, event_segment},
  {GST_EVENT_TAG, DOWNSTREAM, event_tag},
  {GST_EVENT_EOS, DOWNSTREAM, event_eos},
  {GST_EVENT_GAP, DOWNSTREAM, event_gap},
  {GST_EVENT_CUSTOM_DOWNSTREAM, DOWNSTREAM, NULL},
  {GST_EVENT_CUSTOM_DOWNSTREAM_OOB, DOWNSTREAM, NULL},
  {GST_EVENT_CUSTOM_DOWNSTREAM_STICKY, DOWNSTREAM, NULL},
  {GST_EVENT_SEEK, UPSTREAM, event_seek},
  {GST_EVENT_QOS, UPSTREAM, event_qos},
  {GST_EVENT_NAVIGATION, UPSTREAM, NULL},
  {GST_EVENT_RECONFIGURE, UPSTREAM, event_reconfigure},
  {GST_EVENT_LATENCY, UPSTREAM, event_latency},
  {GST_EVENT_STEP, UPSTREAM, event_step},
  {GST_EVENT_CUSTOM_UPSTREAM, UPSTREAM, NULL},
  {GST_EVENT_FLUSH_START, DOWNSTREAM | UPSTREAM, event_flush_start},
  {GST_EVENT_FLUSH_STOP, DOWNSTREAM | UPSTREAM, event_flush_stop},
  {GST_EVENT_CUSTOM_BOTH, DOWNSTREAM | UPSTREAM, NULL},
  {GST_EVENT_CUSTOM_BOTH_OOB, DOWNSTREAM | UPSTREAM, NULL},
};

GstEvent *
gst_px_event_deserialize (guint32 type, const gchar * body,
    gboolean upstream, GstPxPeerBudget * budget, GError ** error)
{
  Direction direction = upstream ? UPSTREAM : DOWNSTREAM;
  GError *parse_error = NULL;
  GstStructure *s;
  GstEvent *event;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (event_kinds); i++)
    if (event_kinds[i].type == type)
      break;
  if (i == G_N_ELEMENTS (event_kinds) ||
      !(event_kinds[i].direction & direction)) {
    fail (error, "event type 0x%x may not travel %s", type,
        upstream ? "upstream" : "downstream");
    return NULL;
  }
  s = parse_body (body, budget, &parse_error);
  if (parse_error) {
    g_propagate_error (error, parse_error);
    return NULL;
  }
  if (event_kinds[i].decode)
    event = event_kinds[i].decode (s, error);
  else
    event = event_with_structure (type, &s, error);
  if (s)
    gst_structure_free (s);
  return event;
}

/* ---- queries ----------------------------------------------------------- */

static gboolean
query_crosses (guint32 type)
{
  switch (type) {
    case GST_QUERY_CAPS:
    case GST_QUERY_ACCEPT_CAPS:
    case GST_QUERY_LATENCY:
    case GST_QUERY_POSITION:
    case GST_QUERY_DURATION:
    case GST_QUERY_SEEKING:
    case GST_QUERY_CUSTOM:
      return TRUE;
    default:
      return FALSE;
  }
}

gchar *
gst_px_query_serialize (GstQuery * query)
{
  if (!query_crosses (GST_QUERY_TYPE (query)))
    return NULL;
  return structure_text (gst_query_get_structure (query));
}

static GstQuery *
query_caps (const GstStructure * s, GError ** error)
{
  const GValue *v = field (s, "filter", GST_TYPE_CAPS);

  /* No filter is valid (the field then holds NULL). */
  return gst_query_new_caps (v ? g_value_get_boxed (v) : NULL);
}

static GstQuery *
query_accept_caps (const GstStructure * s, GError ** error)
{
  const GValue *v;

  FIELD_OR_FAIL (v, s, "caps", GST_TYPE_CAPS);
  if (g_value_get_boxed (v) == NULL || !gst_caps_is_fixed (g_value_get_boxed
          (v))) {
    fail (error, "accept-caps without fixed caps");
    goto out;
  }
  return gst_query_new_accept_caps (g_value_get_boxed (v));
out:
  return NULL;
}

static GstQuery *
query_with_format (GstQueryType type, const GstStructure * s, GError ** error)
{
  const GValue *v;

  FIELD_OR_FAIL (v, s, "format", GST_TYPE_FORMAT);
  switch (type) {
    case GST_QUERY_POSITION:
      return gst_query_new_position (g_value_get_enum (v));
    case GST_QUERY_DURATION:
      return gst_query_new_duration (g_value_get_enum (v));
    default:
      return gst_query_new_seeking (g_value_get_enum (v));
  }
out:
  return NULL;
}

GstQuery *
gst_px_query_deserialize (guint32 type, const gchar * body,
    GstPxPeerBudget * budget, GError ** error)
{
  GError *parse_error = NULL;
  GstStructure *s;
  GstQuery *query = NULL;

  if (!query_crosses (type)) {
    g_set_error (error, GST_PX_ERROR, GST_PX_ERROR_REFUSED,
        "query type 0x%x does not cross processes", type);
    return NULL;
  }
  s = parse_body (body, budget, &parse_error);

  if (parse_error) {
    g_propagate_error (error, parse_error);
    return NULL;
  }
  switch (type) {
    case GST_QUERY_CAPS:
      query = query_caps (s, error);
      break;
    case GST_QUERY_ACCEPT_CAPS:
      query = query_accept_caps (s, error);
      break;
    case GST_QUERY_LATENCY:
      query = gst_query_new_latency ();
      break;
    case GST_QUERY_POSITION:
    case GST_QUERY_DURATION:
    case GST_QUERY_SEEKING:
      query = query_with_format (type, s, error);
      break;
    case GST_QUERY_CUSTOM:
      if (s == NULL)
        fail (error, "custom query without a structure");
      else
        query = gst_query_new_custom (GST_QUERY_CUSTOM, g_steal_pointer (&s));
      break;
    default:
      fail (error, "query type 0x%x does not cross processes", type);
      break;
  }
  if (s)
    gst_structure_free (s);
  return query;
}

gchar *
gst_px_query_serialize_result (GstQuery * query)
{
  return structure_text (gst_query_get_structure (query));
}

static gboolean
apply_caps_result (GstQuery * query, const GstStructure * s, GError ** error)
{
  const GValue *v;

  FIELD_OR_FAIL (v, s, "caps", GST_TYPE_CAPS);
  if (g_value_get_boxed (v) == NULL) {
    fail (error, "caps query answered without caps");
    goto out;
  }
  gst_query_set_caps_result (query, g_value_get_boxed (v));
  return TRUE;
out:
  return FALSE;
}

static gboolean
apply_accept_caps_result (GstQuery * query, const GstStructure * s,
    GError ** error)
{
  const GValue *v;

  FIELD_OR_FAIL (v, s, "result", G_TYPE_BOOLEAN);
  gst_query_set_accept_caps_result (query, g_value_get_boolean (v));
  return TRUE;
out:
  return FALSE;
}

static gboolean
apply_latency_result (GstQuery * query, const GstStructure * s, GError ** error)
{
  const GValue *live, *min, *max;

  FIELD_OR_FAIL (live, s, "live", G_TYPE_BOOLEAN);
  FIELD_OR_FAIL (min, s, "min-latency", G_TYPE_UINT64);
  FIELD_OR_FAIL (max, s, "max-latency", G_TYPE_UINT64);
  if (!GST_CLOCK_TIME_IS_VALID (g_value_get_uint64 (min)) ||
      (GST_CLOCK_TIME_IS_VALID (g_value_get_uint64 (max)) &&
          g_value_get_uint64 (max) < g_value_get_uint64 (min))) {
    fail (error, "inconsistent latency");
    goto out;
  }
  gst_query_set_latency (query, g_value_get_boolean (live),
      g_value_get_uint64 (min), g_value_get_uint64 (max));
  return TRUE;
out:
  return FALSE;
}

static gboolean
apply_format_result (GstQuery * query, const GstStructure * s, GError ** error)
{
  const GValue *format, *value, *seekable, *start, *end;

  FIELD_OR_FAIL (format, s, "format", GST_TYPE_FORMAT);
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_POSITION:
      FIELD_OR_FAIL (value, s, "current", G_TYPE_INT64);
      gst_query_set_position (query, g_value_get_enum (format),
          g_value_get_int64 (value));
      break;
    case GST_QUERY_DURATION:
      FIELD_OR_FAIL (value, s, "duration", G_TYPE_INT64);
      gst_query_set_duration (query, g_value_get_enum (format),
          g_value_get_int64 (value));
      break;
    default:
      FIELD_OR_FAIL (seekable, s, "seekable", G_TYPE_BOOLEAN);
      FIELD_OR_FAIL (start, s, "segment-start", G_TYPE_INT64);
      FIELD_OR_FAIL (end, s, "segment-end", G_TYPE_INT64);
      gst_query_set_seeking (query, g_value_get_enum (format),
          g_value_get_boolean (seekable), g_value_get_int64 (start),
          g_value_get_int64 (end));
      break;
  }
  return TRUE;
out:
  return FALSE;
}

static gboolean
copy_field (GQuark name, const GValue * value, gpointer target)
{
  gst_structure_id_set_value (target, name, value);
  return TRUE;
}

/* A custom query's answer replaces its structure, keeping its name. */
static gboolean
apply_custom_result (GstQuery * query, GstStructure * s, GError ** error)
{
  GstStructure *target = gst_query_writable_structure (query);

  if (s == NULL || target == NULL ||
      !gst_structure_has_name (s, gst_structure_get_name (target)))
    return fail (error, "custom query answered with another structure");
  gst_structure_remove_all_fields (target);
  gst_structure_foreach (s, copy_field, target);
  return TRUE;
}

gboolean
gst_px_query_apply_result (GstQuery * query, const gchar * body,
    GstPxPeerBudget * budget, GError ** error)
{
  GError *parse_error = NULL;
  GstStructure *s = parse_body (body, budget, &parse_error);
  gboolean ok = FALSE;

  if (parse_error) {
    g_propagate_error (error, parse_error);
    return FALSE;
  }
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:
      ok = apply_caps_result (query, s, error);
      break;
    case GST_QUERY_ACCEPT_CAPS:
      ok = apply_accept_caps_result (query, s, error);
      break;
    case GST_QUERY_LATENCY:
      ok = apply_latency_result (query, s, error);
      break;
    case GST_QUERY_POSITION:
    case GST_QUERY_DURATION:
    case GST_QUERY_SEEKING:
      ok = apply_format_result (query, s, error);
      break;
    case GST_QUERY_CUSTOM:
      ok = apply_custom_result (query, s, error);
      break;
    default:
      fail (error, "unexpected query type");
      break;
  }
  if (s)
    gst_structure_free (s);
  return ok;
}

/* ---- buffers ----------------------------------------------------------- */

void
gst_px_buffer_to_wire (GstBuffer * buffer, PxWireBuffer * wire)
{
  GstVideoMeta *meta = gst_buffer_get_video_meta (buffer);

  wire->flags = GST_BUFFER_FLAGS (buffer) & GST_PX_BUFFER_FLAGS_MASK;
  wire->pts = GST_BUFFER_PTS (buffer);
  wire->dts = GST_BUFFER_DTS (buffer);
  wire->duration = GST_BUFFER_DURATION (buffer);
  wire->offset_default = GST_BUFFER_OFFSET (buffer);
  wire->offset_end = GST_BUFFER_OFFSET_END (buffer);
  if (meta != NULL && meta->n_planes >= 1 &&
      meta->n_planes <= PX_WIRE_MAX_PLANES &&
      meta->width <= PX_WIRE_MAX_VIDEO_DIMENSION &&
      meta->height <= PX_WIRE_MAX_VIDEO_DIMENSION) {
    wire->flags |= PX_WIRE_BUFFER_HAS_VIDEO_META;
    wire->video_format = meta->format;
    wire->video_flags = meta->flags;
    wire->width = meta->width;
    wire->height = meta->height;
    wire->n_planes = meta->n_planes;
    for (guint i = 0; i < meta->n_planes; i++) {
      wire->plane_offset[i] = meta->offset[i];
      wire->stride[i] = meta->stride[i];
    }
  }
}

/* Checks that every plane the meta describes lies inside @size bytes. */
static gboolean
video_meta_fits (const PxWireBuffer * wire, GstVideoInfo * info, gsize size,
    GError ** error)
{
  const GstVideoFormatInfo *finfo;

  if (wire->video_format == GST_VIDEO_FORMAT_UNKNOWN ||
      wire->video_format == GST_VIDEO_FORMAT_ENCODED ||
      (finfo = gst_video_format_get_info (wire->video_format)) == NULL ||
      GST_VIDEO_FORMAT_INFO_IS_COMPLEX (finfo) ||
      GST_VIDEO_FORMAT_INFO_IS_TILED (finfo) ||
      !gst_video_info_set_format (info, wire->video_format, wire->width,
          wire->height) || GST_VIDEO_INFO_N_PLANES (info) != wire->n_planes)
    return fail (error, "video meta with an unusable format or plane count");

  for (guint p = 0; p < wire->n_planes; p++) {
    gint comp[GST_VIDEO_MAX_COMPONENTS];
    guint64 rows, row_bytes, end;

    gst_video_format_info_component (finfo, p, comp);
    rows = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (finfo, comp[0], wire->height);
    /* The bytes a row really needs (GstVideoInfo's stride is padded). */
    row_bytes = (guint64) GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, comp[0]) *
        GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (finfo, comp[0], wire->width);
    if (row_bytes == 0)
      row_bytes = (guint64) GST_VIDEO_INFO_PLANE_STRIDE (info, p);
    /* Strides may be larger than the tight one, never smaller. */
    if (wire->stride[p] <= 0 || (guint64) wire->stride[p] < row_bytes ||
        rows == 0)
      return fail (error, "video plane %u: bad stride %d", p, wire->stride[p]);
    end = wire->plane_offset[p] + (guint64) wire->stride[p] * (rows - 1) +
        row_bytes;
    if (end > size || end < wire->plane_offset[p])
      return fail (error, "video plane %u does not fit in %" G_GSIZE_FORMAT
          " bytes", p, size);
  }
  return TRUE;
}

gboolean
gst_px_buffer_from_wire (GstBuffer * buffer, const PxWireBuffer * wire,
    GError ** error)
{
  GST_BUFFER_FLAGS (buffer) |= wire->flags & GST_PX_BUFFER_FLAGS_MASK;
  GST_BUFFER_PTS (buffer) = wire->pts;
  GST_BUFFER_DTS (buffer) = wire->dts;
  GST_BUFFER_DURATION (buffer) = wire->duration;
  GST_BUFFER_OFFSET (buffer) = wire->offset_default;
  GST_BUFFER_OFFSET_END (buffer) = wire->offset_end;

  if (wire->flags & PX_WIRE_BUFFER_HAS_VIDEO_META) {
    GstVideoInfo info;
    gsize offsets[GST_VIDEO_MAX_PLANES] = { 0, };
    gint strides[GST_VIDEO_MAX_PLANES] = { 0, };

    if (!video_meta_fits (wire, &info, gst_buffer_get_size (buffer), error))
      return FALSE;
    for (guint i = 0; i < wire->n_planes; i++) {
      offsets[i] = wire->plane_offset[i];
      strides[i] = wire->stride[i];
    }
    gst_buffer_add_video_meta_full (buffer, wire->video_flags,
        wire->video_format, wire->width, wire->height, wire->n_planes,
        offsets, strides);
  }
  return TRUE;
}
