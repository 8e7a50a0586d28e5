/* Parallax — libFuzzer target for the text of events, queries and messages
 * (gst-plugin/core/gstpxserialize.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Input layout: an entry byte, a kind byte, then the body text as a peer
 * would send it (cut at the first NUL, as the wire layer guarantees one
 * NUL at the end). The entry byte picks the function a receiver runs on
 * the body:
 *   0  gst_px_event_deserialize(), downstream
 *   1  gst_px_event_deserialize(), upstream
 *   2  gst_px_query_deserialize()
 *   3  gst_px_query_apply_result(), on a query of that kind just made
 *   4  gst_px_structure_deserialize() (a worker's MESSAGE)
 * and the kind byte indexes the table of event or query types for it, so
 * that every type is reached whatever the byte.
 *
 * Each input gets a fresh connection budget; the process budget is spent
 * as the run goes on, as it would be in a long-lived host. What must hold:
 * no crash, no sanitizer report and no GLib critical or warning whatever
 * the text (the checker bounds what reaches GStreamer's parser); a failure sets a GST_PX_ERROR with a
 * real code; a success sets none; the connection budget never goes below
 * zero; and an event or query that was accepted serializes again into text
 * the checker accepts.
 */
#include "gstpxserialize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define FUZZ_ASSERT(cond)                                             \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf (stderr, "%s:%d: broken rule: %s\n", __FILE__,          \
          __LINE__, #cond);                                           \
      abort ();                                                       \
    }                                                                 \
  } while (0)

static const GstEventType downstream_events[] = {
  GST_EVENT_STREAM_START, GST_EVENT_CAPS, GST_EVENT_SEGMENT, GST_EVENT_TAG,
  GST_EVENT_EOS, GST_EVENT_FLUSH_START, GST_EVENT_FLUSH_STOP, GST_EVENT_GAP,
  GST_EVENT_CUSTOM_DOWNSTREAM, GST_EVENT_CUSTOM_DOWNSTREAM_OOB,
  GST_EVENT_CUSTOM_DOWNSTREAM_STICKY, GST_EVENT_CUSTOM_BOTH,
  GST_EVENT_CUSTOM_BOTH_OOB, GST_EVENT_BUFFERSIZE,
};

static const GstEventType upstream_events[] = {
  GST_EVENT_SEEK, GST_EVENT_QOS, GST_EVENT_NAVIGATION,
  GST_EVENT_RECONFIGURE, GST_EVENT_LATENCY, GST_EVENT_STEP,
  GST_EVENT_CUSTOM_UPSTREAM, GST_EVENT_FLUSH_START, GST_EVENT_CUSTOM_BOTH,
  GST_EVENT_CAPS,
};

static const GstQueryType queries[] = {
  GST_QUERY_CAPS, GST_QUERY_ACCEPT_CAPS, GST_QUERY_LATENCY,
  GST_QUERY_POSITION, GST_QUERY_DURATION, GST_QUERY_SEEKING,
  GST_QUERY_CUSTOM, GST_QUERY_ALLOCATION,
};

/* abort(), which libFuzzer catches, rather than GLib's fatal breakpoint
 * (SIGTRAP), which it does not. */
static void
abort_on_complaint (const gchar * domain, GLogLevelFlags level,
    const gchar * message, gpointer unused)
{
  g_log_default_handler (domain, level, message, unused);
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    abort ();
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* Only the core plugins' types: the fuzzer loads no plugin. */
  g_setenv ("GST_REGISTRY_DISABLE", "yes", TRUE);
  gst_init (NULL, NULL);
  /* Text that makes GStreamer complain (a critical from a constructor's
   * precondition, a warning from the parser) is a bug of ours: it means
   * the decoder let through what it should have refused. */
  g_log_set_default_handler (abort_on_complaint, NULL);
  return 0;
}

static void
check_error (gboolean ok, GError * error)
{
  if (ok) {
    FUZZ_ASSERT (error == NULL);
    return;
  }
  FUZZ_ASSERT (error != NULL && error->domain == GST_PX_ERROR);
  FUZZ_ASSERT (error->code == GST_PX_ERROR_PROTOCOL ||
      error->code == GST_PX_ERROR_REFUSED);
  g_error_free (error);
}

/* Whether @text holds an array or a list (outside quoted strings): of one
 * that mixes types (arrays and strings, booleans and strings) GStreamer
 * 1.22 writes the first element's type for all, a form it cannot read
 * back. */
static gboolean
nests_containers (const gchar * text)
{
  gboolean quoted = FALSE;

  for (const gchar * p = text; *p; p++) {
    if (*p == '\\' && p[1] != '\0')
      p++;
    else if (*p == '"')
      quoted = !quoted;
    else if (!quoted && (*p == '<' || *p == '{'))
      return TRUE;
  }
  return FALSE;
}

/* What we send, we accept (but for what GStreamer itself cannot read
 * back). */
static void
check_text_accepted (gchar * text)
{
  GstPxPeerBudget budget;
  GError *error = NULL;

  gst_px_peer_budget_init (&budget);
  /* Text that does not fit in a message is never sent. */
  if (text != NULL && text[0] != '\0' && !nests_containers (text) &&
      strlen (text) < PX_WIRE_MAX_BODY &&
      !gst_px_body_check (text, &budget, &error)) {
    fprintf (stderr, "own text refused: %s\n%s\n", error->message, text);
    abort ();
  }
  g_free (text);
}

/* A query of @type as the asking side would have sent it. */
static GstQuery *
asked_query (GstQueryType type)
{
  GstCaps *caps;
  GstQuery *query;

  switch (type) {
    case GST_QUERY_CAPS:
      return gst_query_new_caps (NULL);
    case GST_QUERY_ACCEPT_CAPS:
      caps = gst_caps_new_empty_simple ("video/x-raw");
      query = gst_query_new_accept_caps (caps);
      gst_caps_unref (caps);
      return query;
    case GST_QUERY_LATENCY:
      return gst_query_new_latency ();
    case GST_QUERY_POSITION:
      return gst_query_new_position (GST_FORMAT_TIME);
    case GST_QUERY_DURATION:
      return gst_query_new_duration (GST_FORMAT_TIME);
    case GST_QUERY_SEEKING:
      return gst_query_new_seeking (GST_FORMAT_TIME);
    default:
      return gst_query_new_custom (GST_QUERY_CUSTOM,
          gst_structure_new_empty ("foo"));
  }
}

static void
run (guint entry, guint kind, const gchar * body, GstPxPeerBudget * budget)
{
  GError *error = NULL;
  GstEvent *event;
  GstQuery *query;
  GstStructure *s;
  gboolean ok;

  switch (entry) {
    case 0:
    case 1:
      event = gst_px_event_deserialize (entry == 0 ?
          downstream_events[kind % G_N_ELEMENTS (downstream_events)] :
          upstream_events[kind % G_N_ELEMENTS (upstream_events)], body,
          entry == 1, budget, &error);
      check_error (event != NULL, error);
      if (event != NULL) {
        check_text_accepted (gst_px_event_serialize (event));
        gst_event_unref (event);
      }
      break;
    case 2:
      query = gst_px_query_deserialize (queries[kind %
              G_N_ELEMENTS (queries)], body, budget, &error);
      check_error (query != NULL, error);
      if (query != NULL) {
        check_text_accepted (gst_px_query_serialize (query));
        gst_query_unref (query);
      }
      break;
    case 3:
      query = asked_query (queries[kind % G_N_ELEMENTS (queries)]);
      ok = gst_px_query_apply_result (query, body, budget, &error);
      check_error (ok, error);
      if (ok)
        check_text_accepted (gst_px_query_serialize_result (query));
      gst_query_unref (query);
      break;
    default:
      s = gst_px_structure_deserialize (body, budget, &error);
      check_error (s != NULL, error);
      if (s != NULL) {
        check_text_accepted (gst_structure_to_string (s));
        gst_structure_free (s);
      }
      break;
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GstPxPeerBudget budget;
  gchar *body;

  if (size < 2 || size - 2 >= PX_WIRE_MAX_BODY)
    return 0;
  body = g_strndup ((const gchar *) data + 2, size - 2);
  gst_px_peer_budget_init (&budget);
  run (data[0] % 5, data[1], body, &budget);
  FUZZ_ASSERT (budget.new_names >= 0 &&
      budget.new_names <= GST_PX_PEER_NEW_NAMES);
  g_free (body);
  return 0;
}
