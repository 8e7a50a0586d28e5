/* Parallax — writes the seed corpus for fuzz_wire: one valid message of
 * every type (and of STREAM_DONE two: a granted OPEN with its socket, a
 * refused one without), in fuzz_wire's input layout (a control byte whose
 * bit 0 says "with an fd", then header + payload); and, given a second
 * directory, the one of fuzz_serialize: honest bodies of each kind, the
 * 30,000-deep body and bodies of names never seen before.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: make_corpus WIRE_DIRECTORY [TEXT_DIRECTORY] (created if missing).
 * Every message is checked with px_wire_check_header() and its decoder
 * before it is written, so that a seed that the protocol has outgrown
 * fails loudly here instead of quietly seeding the fuzzer with rejects.
 */
#include "px-wire.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static PxWireMessage msg;

/* Fills msg.payload for @type; returns the payload size. */
static size_t
fill_fixed_payload (uint32_t type)
{
  uint64_t page = (uint64_t) sysconf (_SC_PAGESIZE);
  PxWireHello hello = {.role = PX_WIRE_ROLE_CONSUMER,
    .features = PX_WIRE_FEATURE_UPSTREAM,.max_in_flight = 16,
    .max_arena_size = PX_WIRE_DEFAULT_ARENA_SIZE,
    .max_arena_total = PX_WIRE_DEFAULT_ARENA_TOTAL
  };
  PxWireArenaAdd add = {.arena_id = 0x0123456789abcdefull,
    .size = 8 * page,.slot_stride = 2 * page,.slot_count = 4
  };
  PxWireArenaRemove remove = {.arena_id = 0x0123456789abcdefull };
  PxWireState state = {.transition = (2 << 3) | 3,      /* READY_TO_PAUSED */
    .result = type == PX_WIRE_STATE_DONE ? 2 : 0
  };

  switch (type) {
    case PX_WIRE_HELLO:
      memcpy (msg.payload, &hello, sizeof hello);
      return sizeof hello;
    case PX_WIRE_ARENA_ADD:
      memcpy (msg.payload, &add, sizeof add);
      return sizeof add;
    case PX_WIRE_ARENA_REMOVE:
      memcpy (msg.payload, &remove, sizeof remove);
      return sizeof remove;
    case PX_WIRE_STATE:
    case PX_WIRE_STATE_DONE:
      memcpy (msg.payload, &state, sizeof state);
      return sizeof state;
    default:
      return 0;                 /* PING, PONG, SHUTDOWN */
  }
}

static size_t
fill_buffer_payload (void)
{
  PxWireBuffer buffer = {.buffer_id = 1,.arena_id = 0x0123456789abcdefull,
    .slot = 2,.flags = PX_WIRE_BUFFER_HAS_VIDEO_META,.offset = 0,
    .size = 320 * 240 * 3 / 2,.pts = 0,.dts = UINT64_MAX,
    .duration = 40000000,.offset_default = UINT64_MAX,
    .offset_end = UINT64_MAX,.base_time = UINT64_MAX,.video_format = 2,
    .width = 320,.height = 240,.n_planes = 3,
    .plane_offset = {0, 320 * 240, 320 * 240 * 5 / 4},
    .stride = {320, 160, 160},
  };

  memcpy (msg.payload, &buffer, sizeof buffer);
  return sizeof buffer;
}

static size_t
fill_buffer_done_payload (void)
{
  const uint32_t fixed[2] = { 4, 0 };
  const uint64_t ids[4] = { 1, 2, 3, 4 };

  memcpy (msg.payload, fixed, sizeof fixed);
  memcpy (msg.payload + sizeof fixed, ids, sizeof ids);
  return sizeof fixed + sizeof ids;
}

static size_t
fill_blob_payload (uint32_t type)
{
  const char *body = type == PX_WIRE_QUERY_REPLY ?
      "GstQueryCaps, caps=(GstCaps)\"video/x-raw\";" :
      "GstEventCaps, caps=(GstCaps)\"video/x-raw\";";
  const uint32_t fixed[4] = { 0x3c54, type == PX_WIRE_QUERY_REPLY,
    (uint32_t) strlen (body) + 1, 0
  };

  memcpy (msg.payload, fixed, sizeof fixed);
  memcpy (msg.payload + sizeof fixed, body, fixed[2]);
  return sizeof fixed + fixed[2];
}

/* A STREAM asking for a connection, or the STREAM_DONE that grants it
 * (with the socket) or refuses it. */
static size_t
fill_stream_payload (uint32_t type, bool refused)
{
  PxWireStream stream = {.op = PX_WIRE_STREAM_OPEN,.stream_id = 1,
    .result = type == PX_WIRE_STREAM_DONE && !refused
  };

  memcpy (msg.payload, &stream, sizeof stream);
  return sizeof stream;
}

static size_t
fill_payload (uint32_t type, bool refused)
{
  switch (type) {
    case PX_WIRE_BUFFER:
      return fill_buffer_payload ();
    case PX_WIRE_BUFFER_DONE:
      return fill_buffer_done_payload ();
    case PX_WIRE_EVENT:
    case PX_WIRE_QUERY:
    case PX_WIRE_QUERY_REPLY:
    case PX_WIRE_MESSAGE:
      return fill_blob_payload (type);
    case PX_WIRE_STREAM:
    case PX_WIRE_STREAM_DONE:
      return fill_stream_payload (type, refused);
    default:
      return fill_fixed_payload (type);
  }
}

/* The decoder of msg's type, as the receiver would run it. */
static int
decode (void)
{
  union
  {
    PxWireHello hello;
    PxWireArenaAdd add;
    PxWireArenaRemove remove;
    PxWireBuffer buffer;
    PxWireBufferDone done;
    PxWireBlob blob;
    PxWireState state;
    PxWireStream stream;
  } out;

  switch (msg.header.type) {
    case PX_WIRE_HELLO:
      return px_wire_decode_hello (&msg, &out.hello);
    case PX_WIRE_ARENA_ADD:
      return px_wire_decode_arena_add (&msg, &out.add);
    case PX_WIRE_ARENA_REMOVE:
      return px_wire_decode_arena_remove (&msg, &out.remove);
    case PX_WIRE_BUFFER:
      return px_wire_decode_buffer (&msg, &out.buffer);
    case PX_WIRE_BUFFER_DONE:
      return px_wire_decode_buffer_done (&msg, &out.done);
    case PX_WIRE_STATE:
    case PX_WIRE_STATE_DONE:
      return px_wire_decode_state (&msg, &out.state);
    case PX_WIRE_STREAM:
    case PX_WIRE_STREAM_DONE:
      return px_wire_decode_stream (&msg, &out.stream);
    case PX_WIRE_PING:
    case PX_WIRE_PONG:
    case PX_WIRE_SHUTDOWN:
      return px_wire_decode_empty (&msg);
    default:
      return px_wire_decode_blob (&msg, &out.blob);
  }
}

/* The flags of @type's seed. */
static uint32_t
seed_flags (uint32_t type, unsigned n_fds)
{
  if (type == PX_WIRE_EVENT)
    return PX_WIRE_EVENT_UPSTREAM;
  return type == PX_WIRE_STREAM_DONE && n_fds ? PX_WIRE_STREAM_FD : 0;
}

/* Writes @type's seed; @refused: STREAM_DONE's refusal, without an fd. */
static int
write_seed (const char *dir, uint32_t type, bool refused)
{
  unsigned n_fds = type == PX_WIRE_ARENA_ADD ||
      (type == PX_WIRE_STREAM_DONE && !refused) ? 1 : 0;
  const uint8_t control = (uint8_t) n_fds;
  size_t size = fill_payload (type, refused);
  char path[4096];
  FILE *file;
  int ok;

  msg.header = (PxWireHeader) {
  .magic = PX_WIRE_MAGIC,.version = PX_WIRE_VERSION,.type =
        type,.payload_size = (uint32_t) size,.flags =
        seed_flags (type, n_fds),.request_id = type == PX_WIRE_QUERY
        || type == PX_WIRE_QUERY_REPLY || type == PX_WIRE_STREAM
        || type == PX_WIRE_STREAM_DONE};
  if (px_wire_check_header (&msg.header, size, n_fds) < 0 || decode () < 0) {
    fprintf (stderr, "make_corpus: the %s seed is not valid\n",
        px_wire_type_name (type));
    return -1;
  }

  snprintf (path, sizeof path, "%s/%02u-%s%s", dir, type,
      px_wire_type_name (type), refused ? "-refused" : "");
  for (char *c = path + strlen (dir); *c; c++)
    *c = (char) tolower ((unsigned char) *c);
  file = fopen (path, "wb");
  if (file == NULL) {
    fprintf (stderr, "make_corpus: %s: %s\n", path, strerror (errno));
    return -1;
  }
  ok = fwrite (&control, 1, 1, file) == 1 &&
      fwrite (&msg.header, sizeof msg.header, 1, file) == 1 &&
      (size == 0 || fwrite (msg.payload, size, 1, file) == 1);
  if (fclose (file) != 0 || !ok) {
    fprintf (stderr, "make_corpus: could not write %s\n", path);
    return -1;
  }
  return 0;
}

/* ---- fuzz_serialize's seeds ------------------------------------------- */

/* fuzz_serialize's entries (see its header). */
enum
{
  ENTRY_EVENT_DOWNSTREAM,
  ENTRY_EVENT_UPSTREAM,
  ENTRY_QUERY,
  ENTRY_QUERY_RESULT,
  ENTRY_STRUCTURE,
};

/* Honest bodies as GStreamer 1.22 writes them, with fuzz_serialize's entry
 * and kind index (into its tables of event and query types). */
static const struct
{
  const char *name;
  uint8_t entry, kind;
  const char *body;
} text_seeds[] = {
  {"stream-start", ENTRY_EVENT_DOWNSTREAM, 0, "GstEventStreamStart, "
        "stream-id=(string)0a1b2c/video, flags=(GstStreamFlags)"
        "GST_STREAM_FLAG_NONE, group-id=(uint)1;"},
  {"caps", ENTRY_EVENT_DOWNSTREAM, 1, "GstEventCaps, caps=(GstCaps)"
        "\"video/x-raw\\,\\ format\\=\\(string\\)I420\\,\\ "
        "width\\=\\(int\\)320\\,\\ height\\=\\(int\\)240\\,"
        "\\ framerate\\=\\(fraction\\)30/1\";"},
  {"segment", ENTRY_EVENT_DOWNSTREAM, 2, "GstEventSegment, segment="
        "(GstSegment)\"segment\\,\\ flags\\=\\(GstSegmentFlags\\)"
        "GST_SEGMENT_FLAG_NONE\\,\\ rate\\=\\(double\\)1\\,\\ "
        "applied-rate\\=\\(double\\)1\\,\\ format\\=\\("
        "GstFormat\\)time\\,\\ base\\=\\(guint64\\)0\\,\\ "
        "offset\\=\\(guint64\\)0\\,\\ start\\=\\(guint64\\)0"
        "\\,\\ stop\\=\\(guint64\\)18446744073709551615\\,\\ "
        "time\\=\\(guint64\\)0\\,\\ position\\=\\(guint64\\)0"
        "\\,\\ duration\\=\\(guint64\\)18446744073709551615\\;\";"},
  {"tag", ENTRY_EVENT_DOWNSTREAM, 3, "GstEventTag, taglist=(taglist)"
        "\"taglist\\,\\ title\\=\\(string\\)cover\\,\\ "
        "bitrate\\=\\(uint\\)128000\\;\", "
        "scope=(GstTagScope)GST_TAG_SCOPE_STREAM;"},
  {"custom", ENTRY_EVENT_DOWNSTREAM, 8, "app/thing, n=(int)3, "
        "l=(string){ a, b }, a=(int)< 1, 2 >, r=(fraction)[ 1/1, 30/1 ];"},
  {"seek", ENTRY_EVENT_UPSTREAM, 0, "GstEventSeek, rate=(double)1, "
        "format=(GstFormat)time, flags=(GstSeekFlags)GST_SEEK_FLAG_FLUSH, "
        "cur-type=(GstSeekType)GST_SEEK_TYPE_SET, cur=(gint64)0, "
        "stop-type=(GstSeekType)GST_SEEK_TYPE_NONE, stop=(gint64)-1;"},
  {"qos", ENTRY_EVENT_UPSTREAM, 1, "GstEventQOS, type=(GstQOSType)"
        "GST_QOS_TYPE_UNDERFLOW, proportion=(double)0.75, diff=(gint64)-1, "
        "timestamp=(guint64)0;"},
  {"caps-query", ENTRY_QUERY, 0, "GstQueryCaps, filter=(GstCaps)"
        "\"video/x-raw\\,\\ width\\=\\(int\\)\\[\\ 1\\,\\ "
        "4096\\ \\]\\;\\ video/x-raw\\(memory:DMABuf\\)\";"},
  {"custom-query", ENTRY_QUERY, 6, "foo, q=(int)1;"},
  {"latency-answer", ENTRY_QUERY_RESULT, 2, "GstQueryLatency, "
        "live=(boolean)true, min-latency=(guint64)10, "
        "max-latency=(guint64)40;"},
  {"message", ENTRY_STRUCTURE, 0, "parallax/worker-message, "
        "text=(string)\"it broke\", code=(int)3;"},
};

/* The body that overflowed GStreamer's parser: 30,000 nested arrays. */
static char *
deep_body (size_t levels)
{
  const char *head = "foo, b=(int)";
  char *body = malloc (strlen (head) + 2 * levels + 2);
  char *p;

  if (body == NULL)
    return NULL;
  p = stpcpy (body, head);
  memset (p, '<', levels);
  p += levels;
  *p++ = '1';
  memset (p, '>', levels);
  p[levels] = '\0';
  return body;
}

/* A body of @count names never seen before. */
static char *
names_body (unsigned seed, unsigned count)
{
  char *body = malloc (16 + (size_t) count * 40);
  size_t used;

  if (body == NULL)
    return NULL;
  used = (size_t) sprintf (body, "foo");
  for (unsigned i = 0; i < count; i++)
    used += (size_t) sprintf (body + used, ", r%08x%08x=(int)%u",
        seed * 2654435761u, i * 40503u + seed, i);
  return body;
}

static int
write_text_seed (const char *dir, const char *name, uint8_t entry,
    uint8_t kind, const char *body)
{
  char path[4096];
  FILE *file;
  int ok;

  if (body == NULL) {
    fprintf (stderr, "make_corpus: out of memory\n");
    return -1;
  }
  snprintf (path, sizeof path, "%s/%u-%s", dir, entry, name);
  file = fopen (path, "wb");
  if (file == NULL) {
    fprintf (stderr, "make_corpus: %s: %s\n", path, strerror (errno));
    return -1;
  }
  ok = fwrite (&entry, 1, 1, file) == 1 && fwrite (&kind, 1, 1, file) == 1
      && fwrite (body, strlen (body), 1, file) == 1;
  if (fclose (file) != 0 || !ok) {
    fprintf (stderr, "make_corpus: could not write %s\n", path);
    return -1;
  }
  return 0;
}

static int
write_text_seeds (const char *dir)
{
  char *body;
  int ret;

  for (size_t i = 0; i < sizeof text_seeds / sizeof text_seeds[0]; i++) {
    if (write_text_seed (dir, text_seeds[i].name, text_seeds[i].entry,
            text_seeds[i].kind, text_seeds[i].body) < 0)
      return -1;
  }
  /* The hostile ones, as a query (what crashed ipcsink) and an event. */
  body = deep_body (30000);
  ret = write_text_seed (dir, "deep-query", ENTRY_QUERY, 6, body);
  if (ret == 0)
    ret = write_text_seed (dir, "deep-event", ENTRY_EVENT_DOWNSTREAM, 8, body);
  free (body);
  /* New names as a worker's message, a custom event and a custom query. */
  for (unsigned i = 0; ret == 0 && i < 3; i++) {
    static const uint8_t entry[3] = { ENTRY_STRUCTURE,
      ENTRY_EVENT_DOWNSTREAM, ENTRY_QUERY
    };
    static const uint8_t kind[3] = { 0, 8, 6 };
    char name[32];

    snprintf (name, sizeof name, "random-names-%u", i);
    body = names_body (i + 1, 100 + 200 * i);
    ret = write_text_seed (dir, name, entry[i], kind[i], body);
    free (body);
  }
  return ret;
}

static int
make_dir (const char *dir)
{
  if (mkdir (dir, 0755) < 0 && errno != EEXIST) {
    fprintf (stderr, "make_corpus: %s: %s\n", dir, strerror (errno));
    return -1;
  }
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc != 2 && argc != 3) {
    fprintf (stderr, "usage: %s WIRE_DIRECTORY [TEXT_DIRECTORY]\n", argv[0]);
    return 2;
  }
  if (make_dir (argv[1]) < 0)
    return 1;
  for (uint32_t type = 1; type <= PX_WIRE_TYPE_LAST; type++) {
    /* a number without a name is no type: 14, which was VIOLATION */
    if (strcmp (px_wire_type_name (type), "unknown") == 0)
      continue;
    if (write_seed (argv[1], type, false) < 0)
      return 1;
  }
  if (write_seed (argv[1], PX_WIRE_STREAM_DONE, true) < 0)
    return 1;
  if (argc == 3 && (make_dir (argv[2]) < 0 || write_text_seeds (argv[2]) < 0))
    return 1;
  return 0;
}
