/* Parallax — tests for the wire protocol (common/px-wire).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Round trips go over a real AF_UNIX SOCK_SEQPACKET socketpair. Decoder
 * tests build messages in memory, since a decoder only sees a
 * PxWireMessage. Every refusal on the receiving path also checks that the
 * number of fds open in the process did not change: a refused message must
 * never leak the fds it came with.
 */
#include <gst/check/gstcheck.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "px-arena.h"
#include "px-unix.h"
#include "px-wire.h"
#include "px-test-util.h"

/* The number VIOLATION had: retired, no type any more. */
#define RETIRED_TYPE_VIOLATION 14u

/* ---- Helpers ---------------------------------------------------------- */

static void
make_socketpair (int sv[2])
{
  fail_unless (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
}

static void
close_socketpair (int sv[2])
{
  close (sv[0]);
  close (sv[1]);
}

static int
make_memfd (void)
{
  int fd = memfd_create ("wire-test", MFD_CLOEXEC);

  fail_unless (fd >= 0);
  return fd;
}

static PxWireMessage *
new_message (void)
{
  PxWireMessage *msg = g_new0 (PxWireMessage, 1);

  msg->fds[0] = -1;
  return msg;
}

static void
free_message (PxWireMessage * msg)
{
  px_wire_message_clear (msg);
  g_free (msg);
}

static PxWireHeader
make_header (uint32_t type, uint32_t flags, size_t payload_size)
{
  PxWireHeader header = {
    .magic = PX_WIRE_MAGIC,.version = PX_WIRE_VERSION,.type = type,
    .payload_size = payload_size,.flags = flags,.request_id = 0,
  };
  return header;
}

/* A message as px_wire_recv() would leave it, built in memory. */
static PxWireMessage *
build_message (uint32_t type, uint32_t flags, const void *payload, size_t size)
{
  PxWireMessage *msg = new_message ();

  fail_unless (size <= PX_WIRE_MAX_PAYLOAD);
  msg->header = make_header (type, flags, size);
  if (size > 0)
    memcpy (msg->payload, payload, size);
  return msg;
}

/* Sends header + payload without going through px_wire_send(), so that
 * the tests can send what px_wire_send() would refuse. */
static void
send_raw (int sock, const PxWireHeader * header, const void *payload,
    size_t size, const int *fds, unsigned n_fds)
{
  guint8 *buf = g_malloc (sizeof *header + size);

  memcpy (buf, header, sizeof *header);
  if (size > 0)
    memcpy (buf + sizeof *header, payload, size);
  fail_unless_equals_int (px_unix_send (sock, buf, sizeof *header + size,
          fds, n_fds, 0), 0);
  g_free (buf);
}

/* Receives one message and expects @error; nothing may stay open. */
static void
expect_refused (int sock, int error, int fds_before)
{
  PxWireMessage *msg = new_message ();

  fail_unless_equals_int (px_wire_recv (sock, msg, MSG_DONTWAIT), error);
  fail_unless_equals_int (msg->n_fds, 0);
  fail_unless_equals_int (msg->fds[0], -1);
  fail_unless_equals_int (px_test_count_fds (), fds_before);
  free_message (msg);
}

/* Receives one message that must pass the header checks. */
static PxWireMessage *
expect_received (int sock, uint32_t type, size_t payload_size)
{
  PxWireMessage *msg = new_message ();

  fail_unless_equals_int (px_wire_recv (sock, msg, MSG_DONTWAIT),
      (ssize_t) payload_size);
  fail_unless_equals_int (msg->header.type, type);
  fail_unless_equals_int (msg->header.payload_size, payload_size);
  return msg;
}

static size_t
page_size (void)
{
  return (size_t) sysconf (_SC_PAGESIZE);
}

static PxWireHello
valid_hello (void)
{
  PxWireHello hello = {
    .role = PX_WIRE_ROLE_PRODUCER,.features = PX_WIRE_FEATURE_UPSTREAM,
    .max_in_flight = 8,.max_arena_size = 1 << 20,.max_arena_total = 4 << 20,
  };
  return hello;
}

static PxWireArenaAdd
valid_arena_add (void)
{
  PxWireArenaAdd add = {
    .arena_id = 0x1122334455667788ull,.slot_count = 4,
    .slot_stride = 2 * page_size (),.size = 8 * page_size (),
  };
  return add;
}

/* A 64×48 NV12 frame with its video meta. */
static PxWireBuffer
valid_buffer (void)
{
  PxWireBuffer buffer = {
    .buffer_id = 42,.arena_id = 7,.slot = 3,.flags = 0x40 |
        PX_WIRE_BUFFER_HAS_VIDEO_META,.offset = 128,.size = 64 * 48 * 3 / 2,
    .pts = 1000,.dts = UINT64_MAX,.duration = 33333333,
    .offset_default = 5,.offset_end = 6,.base_time = 123456789,
    .video_format = 23,.video_flags = 0,.width = 64,.height = 48,
    .n_planes = 2,.plane_offset = {0, 64 * 48},.stride = {64, 64},
  };
  return buffer;
}

static PxWireBuffer
valid_plain_buffer (void)
{
  PxWireBuffer buffer = {
    .buffer_id = 43,.arena_id = 7,.slot = 0,.flags = 0,.offset = 0,
    .size = 1000,.pts = UINT64_MAX,.dts = UINT64_MAX,.duration = UINT64_MAX,
    .offset_default = UINT64_MAX,.offset_end = UINT64_MAX,
    .base_time = UINT64_MAX,
  };
  return buffer;
}

/* Writes a blob payload ({kind, result, body_size, reserved} + body) into
 * @payload and returns its size. */
static size_t
put_blob (guint8 * payload, uint32_t kind, uint32_t result, const char *body,
    uint32_t body_size)
{
  const uint32_t fixed[4] = { kind, result, body_size, 0 };

  memcpy (payload, fixed, sizeof fixed);
  memcpy (payload + sizeof fixed, body, body_size);
  return sizeof fixed + body_size;
}

/* ---- The decoder table ------------------------------------------------ */

/* Each decoder behind one signature, so that the table can drive them. */
static int
decode_hello (const PxWireMessage * m, void *out)
{
  return px_wire_decode_hello (m, out);
}

static int
decode_arena_add (const PxWireMessage * m, void *out)
{
  return px_wire_decode_arena_add (m, out);
}

static int
decode_arena_remove (const PxWireMessage * m, void *out)
{
  return px_wire_decode_arena_remove (m, out);
}

static int
decode_buffer (const PxWireMessage * m, void *out)
{
  return px_wire_decode_buffer (m, out);
}

static int
decode_buffer_done (const PxWireMessage * m, void *out)
{
  return px_wire_decode_buffer_done (m, out);
}

static int
decode_blob (const PxWireMessage * m, void *out)
{
  return px_wire_decode_blob (m, out);
}

static int
decode_state (const PxWireMessage * m, void *out)
{
  return px_wire_decode_state (m, out);
}

static int
decode_stream (const PxWireMessage * m, void *out)
{
  return px_wire_decode_stream (m, out);
}

static int
decode_empty (const PxWireMessage * m, void *out)
{
  return px_wire_decode_empty (m);
}

typedef int (*DecodeFunc) (const PxWireMessage * m, void *out);

typedef struct
{
  uint32_t type;
  DecodeFunc decode;
  ssize_t reserved_offset;      /* of a must-be-zero field, or -1 */
} DecoderCase;

static const DecoderCase decoder_cases[] = {
  {PX_WIRE_HELLO, decode_hello, offsetof (PxWireHello, reserved)},
  {PX_WIRE_ARENA_ADD, decode_arena_add, offsetof (PxWireArenaAdd, reserved)},
  {PX_WIRE_ARENA_REMOVE, decode_arena_remove, -1},
  {PX_WIRE_BUFFER, decode_buffer, offsetof (PxWireBuffer, reserved)},
  {PX_WIRE_BUFFER_DONE, decode_buffer_done, 4},
  {PX_WIRE_EVENT, decode_blob, 12},
  {PX_WIRE_QUERY, decode_blob, 12},
  {PX_WIRE_QUERY_REPLY, decode_blob, 12},
  {PX_WIRE_STATE, decode_state, -1},
  {PX_WIRE_STATE_DONE, decode_state, -1},
  {PX_WIRE_MESSAGE, decode_blob, 12},
  {PX_WIRE_PING, decode_empty, -1},
  {PX_WIRE_PONG, decode_empty, -1},
  {PX_WIRE_SHUTDOWN, decode_empty, -1},
  {PX_WIRE_STREAM, decode_stream, offsetof (PxWireStream, reserved)},
  {PX_WIRE_STREAM_DONE, decode_stream, offsetof (PxWireStream, reserved)},
};

/* Large enough for any decoder's output. */
typedef union
{
  PxWireHello hello;
  PxWireArenaAdd add;
  PxWireArenaRemove remove;
  PxWireBuffer buffer;
  PxWireBufferDone done;
  PxWireBlob blob;
  PxWireState state;
  PxWireStream stream;
} DecodeOutput;

/* Writes a valid payload for @type; returns its size. */
static size_t
make_valid_payload (uint32_t type, guint8 * payload)
{
  switch (type) {
    case PX_WIRE_HELLO:{
      PxWireHello hello = valid_hello ();
      memcpy (payload, &hello, sizeof hello);
      return sizeof hello;
    }
    case PX_WIRE_ARENA_ADD:{
      PxWireArenaAdd add = valid_arena_add ();
      memcpy (payload, &add, sizeof add);
      return sizeof add;
    }
    case PX_WIRE_ARENA_REMOVE:{
      PxWireArenaRemove remove = {.arena_id = 9 };
      memcpy (payload, &remove, sizeof remove);
      return sizeof remove;
    }
    case PX_WIRE_BUFFER:{
      PxWireBuffer buffer = valid_buffer ();
      memcpy (payload, &buffer, sizeof buffer);
      return sizeof buffer;
    }
    case PX_WIRE_BUFFER_DONE:{
      const uint32_t fixed[2] = { 3, 0 };
      const uint64_t ids[3] = { 1, 2, UINT64_MAX };
      memcpy (payload, fixed, sizeof fixed);
      memcpy (payload + sizeof fixed, ids, sizeof ids);
      return sizeof fixed + sizeof ids;
    }
    case PX_WIRE_EVENT:
    case PX_WIRE_QUERY:
    case PX_WIRE_MESSAGE:
      return put_blob (payload, 0x1234, 0, "structure, a=(int)1;", 21);
    case PX_WIRE_QUERY_REPLY:
      return put_blob (payload, 0x1234, 1, "reply;", 7);
    case PX_WIRE_STATE:{
      PxWireState state = {.transition = (1 << 3) | 2 };
      memcpy (payload, &state, sizeof state);
      return sizeof state;
    }
    case PX_WIRE_STATE_DONE:{
      PxWireState state = {.transition = (1 << 3) | 2,.result = 1 };
      memcpy (payload, &state, sizeof state);
      return sizeof state;
    }
    case PX_WIRE_STREAM:{
      PxWireStream stream = {.op = PX_WIRE_STREAM_OPEN,.stream_id = 1 };
      memcpy (payload, &stream, sizeof stream);
      return sizeof stream;
    }
    case PX_WIRE_STREAM_DONE:{
      /* an answer without an fd: build_valid_message() attaches none */
      PxWireStream stream = {.op = PX_WIRE_STREAM_CLOSE,.stream_id = 1,
        .result = 1
      };
      memcpy (payload, &stream, sizeof stream);
      return sizeof stream;
    }
    default:
      return 0;
  }
}

static PxWireMessage *
build_valid_message (uint32_t type)
{
  guint8 payload[PX_WIRE_MAX_PAYLOAD];
  size_t size = make_valid_payload (type, payload);

  return build_message (type, 0, payload, size);
}

/* Decodes @msg with the decoder for @type. */
static int
decode_as (uint32_t type, const PxWireMessage * msg, DecodeOutput * out)
{
  for (guint i = 0; i < G_N_ELEMENTS (decoder_cases); i++) {
    if (decoder_cases[i].type == type)
      return decoder_cases[i].decode (msg, out);
  }
  fail ("no decoder for type %u", type);
  return 0;
}

/* ---- Round trips ------------------------------------------------------ */

GST_START_TEST (test_roundtrip_hello)
{
  PxWireHello hello = valid_hello (), got;
  PxWireMessage *msg;
  int sv[2];

  make_socketpair (sv);
  fail_unless_equals_int (px_wire_send_hello (sv[0], &hello), 0);
  msg = expect_received (sv[1], PX_WIRE_HELLO, sizeof hello);
  fail_unless_equals_int (px_wire_decode_hello (msg, &got), 0);
  fail_unless (memcmp (&got, &hello, sizeof hello) == 0);
  free_message (msg);
  close_socketpair (sv);
}

GST_END_TEST;

/* The fd that rides with ARENA_ADD arrives as a CLOEXEC descriptor of the
 * same memfd: it imports, and the owner's data is visible through it. */
GST_START_TEST (test_roundtrip_arena_add_passes_working_fd)
{
  PxArena *owner = NULL, *reader = NULL;
  PxWireArenaAdd add, got;
  PxWireMessage *msg;
  int sv[2], fd;

  make_socketpair (sv);
  fail_unless_equals_int (px_arena_new ("wire", 5000, 3, &owner), 0);
  fail_unless_equals_int (px_arena_seal_for_readers (owner), 0);
  memset (px_arena_slot_data (owner, 2), 0x5a, 5000);
  add = (PxWireArenaAdd) {
  .arena_id = px_arena_id (owner),.size = px_arena_size (owner),.slot_stride =
        px_arena_slot_stride (owner),.slot_count = px_arena_slot_count (owner)};

  fail_unless_equals_int (px_wire_send_arena_add (sv[0], &add,
          px_arena_fd (owner)), 0);
  msg = expect_received (sv[1], PX_WIRE_ARENA_ADD, sizeof add);
  fail_unless_equals_int (msg->n_fds, 1);
  fail_unless_equals_int (px_wire_decode_arena_add (msg, &got), 0);
  fail_unless (memcmp (&got, &add, sizeof add) == 0);

  fd = px_wire_message_steal_fd (msg);
  fail_unless (fd >= 0 && fd != px_arena_fd (owner));
  fail_unless (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  fail_unless_equals_int (px_arena_import (fd, got.arena_id, got.size,
          got.slot_stride, got.slot_count, true, &reader), 0);
  fail_unless_equals_int (px_arena_slot_data (reader, 2)[4999], 0x5a);

  px_arena_unref (reader);
  px_arena_unref (owner);
  free_message (msg);
  close_socketpair (sv);
}

GST_END_TEST;

GST_START_TEST (test_roundtrip_arena_remove)
{
  PxWireArenaRemove remove = {.arena_id = 77 }, got;
  PxWireMessage *msg;
  int sv[2];

  make_socketpair (sv);
  fail_unless_equals_int (px_wire_send (sv[0], PX_WIRE_ARENA_REMOVE, 0, 0,
          &remove, sizeof remove, NULL, 0, 0), 0);
  msg = expect_received (sv[1], PX_WIRE_ARENA_REMOVE, sizeof remove);
  fail_unless_equals_int (px_wire_decode_arena_remove (msg, &got), 0);
  fail_unless_equals_uint64 (got.arena_id, 77);
  free_message (msg);
  close_socketpair (sv);
}

GST_END_TEST;

GST_START_TEST (test_roundtrip_buffer_with_video_meta)
{
  PxWireBuffer buffer = valid_buffer (), got;
  PxWireMessage *msg;
  int sv[2];

  make_socketpair (sv);
  fail_unless_equals_int (px_wire_send_buffer (sv[0], &buffer, MSG_DONTWAIT),
      0);
  msg = expect_received (sv[1], PX_WIRE_BUFFER, sizeof buffer);
  fail_unless_equals_int (px_wire_decode_buffer (msg, &got), 0);
  fail_unless (memcmp (&got, &buffer, sizeof buffer) == 0);
  free_message (msg);
  close_socketpair (sv);
}

GST_END_TEST;

GST_START_TEST (test_roundtrip_buffer_without_video_meta)
{
  PxWireBuffer buffer = valid_plain_buffer (), got;
  PxWireMessage *msg;
  int sv[2];

  make_socketpair (sv);
  fail_unless_equals_int (px_wire_send_buffer (sv[0], &buffer, 0), 0);
  msg = expect_received (sv[1], PX_WIRE_BUFFER, sizeof buffer);
  fail_unless_equals_int (px_wire_decode_buffer (msg, &got), 0);
  fail_unless (memcmp (&got, &buffer, sizeof buffer) == 0);
  free_message (msg);
  close_socketpair (sv);
}

GST_END_TEST;

/* A full batch of PX_WIRE_MAX_DONE ids; only count ids travel. */
GST_START_TEST (test_roundtrip_buffer_done_full_batch)
{
  uint64_t ids[PX_WIRE_MAX_DONE];
  PxWireBufferDone got;
  PxWireMessage *msg;
  int sv[2];

  for (guint i = 0; i < PX_WIRE_MAX_DONE; i++)
    ids[i] = 1000 + i * 0x100000001ull;
  make_socketpair (sv);
  fail_unless_equals_int (px_wire_send_buffer_done (sv[0], ids,
          PX_WIRE_MAX_DONE), 0);
  msg = expect_received (sv[1], PX_WIRE_BUFFER_DONE, 8 + 8 * PX_WIRE_MAX_DONE);
  fail_unless_equals_int (px_wire_decode_buffer_done (msg, &got), 0);
  fail_unless_equals_int (got.count, PX_WIRE_MAX_DONE);
  fail_unless (memcmp (got.buffer_ids, ids, sizeof ids) == 0);
  free_message (msg);
  close_socketpair (sv);
}

GST_END_TEST;

GST_START_TEST (test_roundtrip_buffer_done_single)
{
  uint64_t id = 5;
  PxWireBufferDone got;
  PxWireMessage *msg;
  int sv[2];

  make_socketpair (sv);
  fail_unless_equals_int (px_wire_send_buffer_done (sv[0], &id, 1), 0);
  msg = expect_received (sv[1], PX_WIRE_BUFFER_DONE, 16);
  fail_unless_equals_int (px_wire_decode_buffer_done (msg, &got), 0);
  fail_unless_equals_int (got.count, 1);
  fail_unless_equals_uint64 (got.buffer_ids[0], 5);
  free_message (msg);
  close_socketpair (sv);
}

GST_END_TEST;

/* Sends @blob as @type and checks that it comes back identical. */
static void
check_blob_roundtrip (uint32_t type, uint32_t flags, uint64_t request_id,
    const PxWireBlob * blob)
{
  PxWireMessage *msg;
  PxWireBlob got;
  int sv[2];

  make_socketpair (sv);
  fail_unless_equals_int (px_wire_send_blob (sv[0], type, flags, request_id,
          blob), 0);
  msg = expect_received (sv[1], type, 16 + blob->body_size);
  fail_unless_equals_int (msg->header.flags, flags);
  fail_unless_equals_uint64 (msg->header.request_id, request_id);
  fail_unless_equals_int (px_wire_decode_blob (msg, &got), 0);
  fail_unless_equals_int (got.kind, blob->kind);
  fail_unless_equals_int (got.result, blob->result);
  fail_unless_equals_int (got.body_size, blob->body_size);
  fail_unless_equals_int (got.reserved, 0);
  fail_unless_equals_string (got.body, blob->body);
  /* The body points into the message, not into a copy. */
  fail_unless (got.body == (const char *) msg->payload + 16);
  free_message (msg);
  close_socketpair (sv);
}

GST_START_TEST (test_roundtrip_event_upstream)
{
  PxWireBlob blob = {.kind = 0x1234,.body = "GstEventSeek, rate=1.0;",
    .body_size = 24
  };

  check_blob_roundtrip (PX_WIRE_EVENT, PX_WIRE_EVENT_UPSTREAM, 0, &blob);
}

GST_END_TEST;

GST_START_TEST (test_roundtrip_event_wanting_result)
{
  PxWireBlob blob = {.kind = 0x1234,.body = "GstEventSeek, rate=1.0;",
    .body_size = 24
  };

  check_blob_roundtrip (PX_WIRE_EVENT, PX_WIRE_EVENT_UPSTREAM |
      PX_WIRE_EVENT_WANTS_RESULT, 9, &blob);
}

GST_END_TEST;

GST_START_TEST (test_roundtrip_query)
{
  PxWireBlob blob = {.kind = 0x5678,.body = "GstQueryCaps;",.body_size = 14 };

  check_blob_roundtrip (PX_WIRE_QUERY, 0, 0xdeadbeefcafeull, &blob);
}

GST_END_TEST;

GST_START_TEST (test_roundtrip_query_reply)
{
  PxWireBlob blob = {.kind = 0x5678,.result = 1,.body = "caps=video/x-raw;",
    .body_size = 18
  };

  check_blob_roundtrip (PX_WIRE_QUERY_REPLY, 0, 0xdeadbeefcafeull, &blob);
}

GST_END_TEST;

GST_START_TEST (test_roundtrip_message)
{
  PxWireBlob blob = {.kind = 2,.body = "GstMessageError;",.body_size = 17 };

  check_blob_roundtrip (PX_WIRE_MESSAGE, 0, 0, &blob);
}

GST_END_TEST;

/* The largest body the protocol allows fits in one message. */
GST_START_TEST (test_roundtrip_blob_of_maximum_size)
{
  char *body = g_malloc (PX_WIRE_MAX_BODY);
  PxWireBlob blob = {.kind = 1,.body = body,.body_size = PX_WIRE_MAX_BODY };

  memset (body, 'x', PX_WIRE_MAX_BODY - 1);
  body[PX_WIRE_MAX_BODY - 1] = '\0';
  check_blob_roundtrip (PX_WIRE_MESSAGE, 0, 0, &blob);
  g_free (body);
}

GST_END_TEST;

static void
check_state_roundtrip (uint32_t type, const PxWireState * state)
{
  PxWireMessage *msg;
  PxWireState got;
  int sv[2];

  make_socketpair (sv);
  fail_unless_equals_int (px_wire_send (sv[0], type, 0, 99, state,
          sizeof *state, NULL, 0, 0), 0);
  msg = expect_received (sv[1], type, sizeof *state);
  fail_unless_equals_uint64 (msg->header.request_id, 99);
  fail_unless_equals_int (px_wire_decode_state (msg, &got), 0);
  fail_unless_equals_int (got.transition, state->transition);
  fail_unless_equals_int (got.result, state->result);
  free_message (msg);
  close_socketpair (sv);
}

GST_START_TEST (test_roundtrip_state)
{
  PxWireState state = {.transition = (3 << 3) | 4 };    /* PAUSED_TO_PLAYING */

  check_state_roundtrip (PX_WIRE_STATE, &state);
}

GST_END_TEST;

GST_START_TEST (test_roundtrip_state_done)
{
  PxWireState state = {.transition = (3 << 3) | 4,.result = 2 };        /* ASYNC */

  check_state_roundtrip (PX_WIRE_STATE_DONE, &state);
}

GST_END_TEST;

/* Encodes @stream as @type with @fd, sends it and receives it: the
 * message comes back whole, flagged PX_WIRE_STREAM_FD exactly when an fd
 * rides along. */
static PxWireMessage *
check_stream_roundtrip (int sv[2], uint32_t type, uint64_t request_id,
    const PxWireStream * stream, int fd)
{
  PxWireEncoded encoded;
  PxWireMessage *msg;
  PxWireStream got;

  fail_unless_equals_int (px_wire_encode_stream (&encoded, type, request_id,
          stream, fd), 0);
  fail_unless_equals_int (px_wire_encoded_type (&encoded), type);
  fail_unless_equals_int (px_wire_send_encoded (sv[0], &encoded, 0), 0);
  px_wire_encoded_clear (&encoded);
  msg = expect_received (sv[1], type, sizeof *stream);
  fail_unless_equals_uint64 (msg->header.request_id, request_id);
  fail_unless_equals_int (msg->header.flags, fd >= 0 ? PX_WIRE_STREAM_FD : 0);
  fail_unless_equals_int (msg->n_fds, fd >= 0 ? 1 : 0);
  fail_unless_equals_int (px_wire_decode_stream (msg, &got), 0);
  fail_unless (memcmp (&got, stream, sizeof got) == 0);
  return msg;
}

GST_START_TEST (test_roundtrip_stream_requests)
{
  const PxWireStream streams[] = {
    {.op = PX_WIRE_STREAM_OPEN,.stream_id = 1},
    {.op = PX_WIRE_STREAM_CLOSE,.stream_id = PX_WIRE_MAX_STREAM_ID},
    {.op = PX_WIRE_STREAM_NO_MORE,.stream_id = 0},
  };
  int sv[2];

  make_socketpair (sv);
  for (guint i = 0; i < G_N_ELEMENTS (streams); i++)
    free_message (check_stream_roundtrip (sv, PX_WIRE_STREAM, 20 + i,
            &streams[i], -1));
  close_socketpair (sv);
}

GST_END_TEST;

/* A granted OPEN carries the worker's end of a new socket pair: it
 * arrives CLOEXEC and still talks to the host's end. */
GST_START_TEST (test_roundtrip_stream_done_passes_working_socket)
{
  PxWireStream stream = {.op = PX_WIRE_STREAM_OPEN,.stream_id = 9,
    .result = 1
  };
  PxWireMessage *msg;
  int sv[2], pair[2], fd;
  char byte = 0;

  make_socketpair (sv);
  make_socketpair (pair);
  msg = check_stream_roundtrip (sv, PX_WIRE_STREAM_DONE, 31, &stream, pair[1]);
  fd = px_wire_message_steal_fd (msg);
  fail_unless (fd >= 0 && fd != pair[1]);
  fail_unless (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  fail_unless_equals_int (write (fd, "s", 1), 1);
  fail_unless_equals_int (read (pair[0], &byte, 1), 1);
  fail_unless_equals_int (byte, 's');
  close (fd);
  free_message (msg);
  close_socketpair (pair);
  close_socketpair (sv);
}

GST_END_TEST;

/* Every answer but a granted OPEN travels alone. */
GST_START_TEST (test_roundtrip_stream_done_without_fd)
{
  const PxWireStream streams[] = {
    {.op = PX_WIRE_STREAM_OPEN,.stream_id = 2,.result = 0},
    {.op = PX_WIRE_STREAM_CLOSE,.stream_id = 2,.result = 1},
    {.op = PX_WIRE_STREAM_CLOSE,.stream_id = 3,.result = 0},
    {.op = PX_WIRE_STREAM_NO_MORE,.stream_id = 0,.result = 1},
  };
  int sv[2];

  make_socketpair (sv);
  for (guint i = 0; i < G_N_ELEMENTS (streams); i++)
    free_message (check_stream_roundtrip (sv, PX_WIRE_STREAM_DONE, 40 + i,
            &streams[i], -1));
  close_socketpair (sv);
}

GST_END_TEST;

/* PING, PONG and SHUTDOWN carry nothing but the header. */
GST_START_TEST (test_roundtrip_empty_messages)
{
  static const uint32_t types[] = {
    PX_WIRE_PING, PX_WIRE_PONG, PX_WIRE_SHUTDOWN
  };
  int sv[2];

  make_socketpair (sv);
  for (guint i = 0; i < G_N_ELEMENTS (types); i++) {
    PxWireMessage *msg;

    fail_unless_equals_int (px_wire_send (sv[0], types[i], 0, 1000 + i,
            NULL, 0, NULL, 0, 0), 0);
    msg = expect_received (sv[1], types[i], 0);
    fail_unless_equals_uint64 (msg->header.request_id, 1000 + i);
    fail_unless_equals_int (px_wire_decode_empty (msg), 0);
    free_message (msg);
  }
  close_socketpair (sv);
}

GST_END_TEST;

/* ---- Decoders, all types ---------------------------------------------- */

GST_START_TEST (test_decoders_accept_valid_payloads)
{
  for (guint i = 0; i < G_N_ELEMENTS (decoder_cases); i++) {
    PxWireMessage *msg = build_valid_message (decoder_cases[i].type);
    DecodeOutput out;

    fail_unless_equals_int (decoder_cases[i].decode (msg, &out), 0);
    free_message (msg);
  }
}

GST_END_TEST;

GST_START_TEST (test_decoders_reject_truncated_payload)
{
  for (guint i = 0; i < G_N_ELEMENTS (decoder_cases); i++) {
    PxWireMessage *msg = build_valid_message (decoder_cases[i].type);
    size_t full = msg->header.payload_size;
    DecodeOutput out;

    /* Every shorter size, with the bytes of the full payload still in
     * the buffer: only the announced size differs. */
    for (size_t size = 0; size < full; size++) {
      msg->header.payload_size = size;
      fail_unless (decoder_cases[i].decode (msg, &out) == -EPROTO,
          "%s accepted %zu of %zu bytes",
          px_wire_type_name (decoder_cases[i].type), size, full);
    }
    free_message (msg);
  }
}

GST_END_TEST;

GST_START_TEST (test_decoders_reject_oversized_payload)
{
  for (guint i = 0; i < G_N_ELEMENTS (decoder_cases); i++) {
    PxWireMessage *msg = build_valid_message (decoder_cases[i].type);
    size_t full = msg->header.payload_size;
    const size_t sizes[] = { full + 1, full + 8, PX_WIRE_MAX_PAYLOAD,
      (size_t) UINT32_MAX
    };
    DecodeOutput out;

    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
      msg->header.payload_size = sizes[s];
      fail_unless (decoder_cases[i].decode (msg, &out) == -EPROTO,
          "%s accepted %zu bytes", px_wire_type_name (decoder_cases[i].type),
          sizes[s]);
    }
    free_message (msg);
  }
}

GST_END_TEST;

/* A decoder only decodes its own message types, however valid the bytes
 * would be for it. */
GST_START_TEST (test_decoders_reject_wrong_type)
{
  for (guint i = 0; i < G_N_ELEMENTS (decoder_cases); i++) {
    PxWireMessage *msg = build_valid_message (decoder_cases[i].type);
    DecodeOutput out;

    for (uint32_t type = 0; type <= PX_WIRE_TYPE_LAST + 1; type++) {
      gboolean own = FALSE;

      for (guint j = 0; j < G_N_ELEMENTS (decoder_cases); j++) {
        if (decoder_cases[j].type == type &&
            decoder_cases[j].decode == decoder_cases[i].decode)
          own = TRUE;
      }
      if (own)
        continue;
      msg->header.type = type;
      fail_unless (decoder_cases[i].decode (msg, &out) == -EPROTO,
          "decoder for %s accepted type %u",
          px_wire_type_name (decoder_cases[i].type), type);
    }
    free_message (msg);
  }
}

GST_END_TEST;

GST_START_TEST (test_decoders_reject_nonzero_reserved)
{
  for (guint i = 0; i < G_N_ELEMENTS (decoder_cases); i++) {
    PxWireMessage *msg;
    DecodeOutput out;
    uint32_t one = 1;

    if (decoder_cases[i].reserved_offset < 0)
      continue;
    msg = build_valid_message (decoder_cases[i].type);
    memcpy (msg->payload + decoder_cases[i].reserved_offset, &one, 4);
    fail_unless (decoder_cases[i].decode (msg, &out) == -EPROTO,
        "%s accepted a reserved field of 1",
        px_wire_type_name (decoder_cases[i].type));
    free_message (msg);
  }
}

GST_END_TEST;

/* Output parameters are written only on success. */
GST_START_TEST (test_decoders_leave_output_untouched_on_failure)
{
  for (guint i = 0; i < G_N_ELEMENTS (decoder_cases); i++) {
    PxWireMessage *msg = build_valid_message (decoder_cases[i].type);
    DecodeOutput out, pristine;

    msg->header.payload_size += 1;
    memset (&out, 0xa5, sizeof out);
    memset (&pristine, 0xa5, sizeof pristine);
    fail_unless_equals_int (decoder_cases[i].decode (msg, &out), -EPROTO);
    fail_unless (memcmp (&out, &pristine, sizeof out) == 0,
        "%s wrote its output on failure",
        px_wire_type_name (decoder_cases[i].type));
    free_message (msg);
  }
}

GST_END_TEST;

/* ---- Decoders, field ranges ------------------------------------------- */

static int
decode_struct (uint32_t type, const void *payload, size_t size)
{
  PxWireMessage *msg = build_message (type, 0, payload, size);
  DecodeOutput out;
  int ret = decode_as (type, msg, &out);

  free_message (msg);
  return ret;
}

GST_START_TEST (test_hello_rejects_unknown_role)
{
  PxWireHello hello = valid_hello ();

  hello.role = PX_WIRE_ROLE_CONSUMER;
  fail_unless_equals_int (decode_struct (PX_WIRE_HELLO, &hello,
          sizeof hello), 0);
  hello.role = 0;
  fail_unless_equals_int (decode_struct (PX_WIRE_HELLO, &hello,
          sizeof hello), -EPROTO);
  hello.role = 3;
  fail_unless_equals_int (decode_struct (PX_WIRE_HELLO, &hello,
          sizeof hello), -EPROTO);
}

GST_END_TEST;

/* HELLO's arena limits: at least one byte, an arena within the total,
 * neither beyond what any arena table can hold. */
GST_START_TEST (test_hello_arena_limits_checked)
{
  PxWireHello hello = valid_hello ();

  hello.max_arena_size = PX_WIRE_MAX_ARENA_SIZE;
  hello.max_arena_total = PX_WIRE_MAX_ARENA_TOTAL;
  fail_unless_equals_int (decode_struct (PX_WIRE_HELLO, &hello,
          sizeof hello), 0);
  hello.max_arena_size = 0;
  fail_unless_equals_int (decode_struct (PX_WIRE_HELLO, &hello,
          sizeof hello), -EPROTO);
  hello.max_arena_size = PX_WIRE_MAX_ARENA_SIZE + 1;
  fail_unless_equals_int (decode_struct (PX_WIRE_HELLO, &hello,
          sizeof hello), -EPROTO);
  hello.max_arena_size = 2 << 20;
  hello.max_arena_total = 1 << 20;
  fail_unless_equals_int (decode_struct (PX_WIRE_HELLO, &hello,
          sizeof hello), -EPROTO);
  hello.max_arena_total = PX_WIRE_MAX_ARENA_TOTAL + 1;
  fail_unless_equals_int (decode_struct (PX_WIRE_HELLO, &hello,
          sizeof hello), -EPROTO);
}

GST_END_TEST;

/* A peer of another protocol version is refused, not misread: version 1's
 * HELLO was 16 bytes. */
GST_START_TEST (test_version_1_refused)
{
  PxWireHeader header = make_header (PX_WIRE_HELLO, 0, sizeof (PxWireHello));

  header.version = 1;
  fail_unless_equals_int (px_wire_check_header (&header,
          header.payload_size, 0), -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_hello_rejects_unknown_features)
{
  PxWireHello hello = valid_hello ();

  hello.features = PX_WIRE_FEATURES_ALL + 1;
  fail_unless_equals_int (decode_struct (PX_WIRE_HELLO, &hello,
          sizeof hello), -EPROTO);
  hello.features = 0x80000000u;
  fail_unless_equals_int (decode_struct (PX_WIRE_HELLO, &hello,
          sizeof hello), -EPROTO);
}

GST_END_TEST;

static int
decode_arena_add_struct (const PxWireArenaAdd * add)
{
  return decode_struct (PX_WIRE_ARENA_ADD, add, sizeof *add);
}

GST_START_TEST (test_arena_add_rejects_zero_id)
{
  PxWireArenaAdd add = valid_arena_add ();

  add.arena_id = 0;
  fail_unless_equals_int (decode_arena_add_struct (&add), -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_arena_add_rejects_slot_count_out_of_range)
{
  PxWireArenaAdd add = valid_arena_add ();

  add.slot_count = 0;
  add.size = 0;
  fail_unless_equals_int (decode_arena_add_struct (&add), -EPROTO);
  /* One slot too many, with a size that matches it. */
  add.slot_count = PX_ARENA_MAX_SLOTS + 1;
  add.slot_stride = page_size ();
  add.size = (uint64_t) add.slot_stride * add.slot_count;
  fail_unless_equals_int (decode_arena_add_struct (&add), -EPROTO);
  add.slot_count = PX_ARENA_MAX_SLOTS;
  add.size = (uint64_t) add.slot_stride * add.slot_count;
  fail_unless_equals_int (decode_arena_add_struct (&add), 0);
}

GST_END_TEST;

GST_START_TEST (test_arena_add_rejects_stride_not_page_multiple)
{
  PxWireArenaAdd add = valid_arena_add ();

  add.slot_stride = 0;
  add.size = 0;
  fail_unless_equals_int (decode_arena_add_struct (&add), -EPROTO);
  add.slot_stride = page_size () + 1;
  add.size = add.slot_stride * add.slot_count;
  fail_unless_equals_int (decode_arena_add_struct (&add), -EPROTO);
  add.slot_stride = page_size () / 2;
  add.size = add.slot_stride * add.slot_count;
  fail_unless_equals_int (decode_arena_add_struct (&add), -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_arena_add_rejects_size_mismatch)
{
  PxWireArenaAdd add = valid_arena_add ();

  add.size += page_size ();
  fail_unless_equals_int (decode_arena_add_struct (&add), -EPROTO);
  add.size -= 2 * page_size ();
  fail_unless_equals_int (decode_arena_add_struct (&add), -EPROTO);
}

GST_END_TEST;

/* stride × count wraps around 2^64 to a value equal to the announced
 * size: only an overflow-checked multiplication sees it. */
GST_START_TEST (test_arena_add_rejects_size_overflow)
{
  PxWireArenaAdd add = valid_arena_add ();

  add.slot_stride = (uint64_t) 1 << 62;
  add.slot_count = 4;
  add.size = 0;
  fail_unless_equals_int (decode_arena_add_struct (&add), -EPROTO);
  add.slot_stride = ((uint64_t) 1 << 62) + page_size ();
  add.size = 4 * page_size ();
  fail_unless_equals_int (decode_arena_add_struct (&add), -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_arena_add_rejects_size_above_maximum)
{
  PxWireArenaAdd add = valid_arena_add ();

  add.slot_count = 2048;
  add.slot_stride = PX_ARENA_MAX_SIZE / 1024;
  add.size = add.slot_stride * add.slot_count;
  fail_unless_equals_int (decode_arena_add_struct (&add), -EPROTO);
  add.slot_count = 1024;
  add.size = add.slot_stride * add.slot_count;
  fail_unless_equals_int (decode_arena_add_struct (&add), 0);
}

GST_END_TEST;

GST_START_TEST (test_arena_remove_rejects_zero_id)
{
  PxWireArenaRemove remove = {.arena_id = 0 };

  fail_unless_equals_int (decode_struct (PX_WIRE_ARENA_REMOVE, &remove,
          sizeof remove), -EPROTO);
}

GST_END_TEST;

static int
decode_buffer_struct (const PxWireBuffer * buffer)
{
  return decode_struct (PX_WIRE_BUFFER, buffer, sizeof *buffer);
}

GST_START_TEST (test_buffer_rejects_zero_arena_id)
{
  PxWireBuffer buffer = valid_buffer ();

  buffer.arena_id = 0;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_buffer_rejects_slot_out_of_range)
{
  PxWireBuffer buffer = valid_plain_buffer ();

  buffer.slot = PX_ARENA_MAX_SLOTS - 1;
  fail_unless_equals_int (decode_buffer_struct (&buffer), 0);
  buffer.slot = PX_ARENA_MAX_SLOTS;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_buffer_rejects_range_overflow)
{
  PxWireBuffer buffer = valid_plain_buffer ();

  buffer.offset = UINT64_MAX;
  buffer.size = 2;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
  buffer.offset = 2;
  buffer.size = UINT64_MAX;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_buffer_rejects_range_beyond_maximum_arena)
{
  PxWireBuffer buffer = valid_plain_buffer ();

  buffer.offset = PX_ARENA_MAX_SIZE - 100;
  buffer.size = 100;
  fail_unless_equals_int (decode_buffer_struct (&buffer), 0);
  buffer.size = 101;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_buffer_rejects_unknown_flags)
{
  PxWireBuffer buffer = valid_plain_buffer ();

  /* Every GstBufferFlags bit is allowed... */
  buffer.flags = 0x000fffffu;
  fail_unless_equals_int (decode_buffer_struct (&buffer), 0);
  /* ...but nothing between them and PX_WIRE_BUFFER_HAS_VIDEO_META. */
  for (uint32_t bit = 20; bit < 31; bit++) {
    buffer.flags = 1u << bit;
    fail_unless (decode_buffer_struct (&buffer) == -EPROTO,
        "flag bit %u accepted", bit);
  }
}

GST_END_TEST;

GST_START_TEST (test_buffer_rejects_plane_count_out_of_range)
{
  PxWireBuffer buffer = valid_buffer ();

  buffer.n_planes = 0;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
  buffer.n_planes = PX_WIRE_MAX_PLANES + 1;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
  buffer.n_planes = UINT32_MAX;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_buffer_rejects_video_size_out_of_range)
{
  PxWireBuffer buffer = valid_buffer ();

  buffer.width = 0;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
  buffer.width = PX_WIRE_MAX_VIDEO_DIMENSION + 1;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
  buffer.width = PX_WIRE_MAX_VIDEO_DIMENSION;
  fail_unless_equals_int (decode_buffer_struct (&buffer), 0);
  buffer.height = 0;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
  buffer.height = PX_WIRE_MAX_VIDEO_DIMENSION + 1;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_buffer_rejects_plane_outside_buffer)
{
  PxWireBuffer buffer = valid_buffer ();

  buffer.plane_offset[1] = buffer.size - 1;
  fail_unless_equals_int (decode_buffer_struct (&buffer), 0);
  buffer.plane_offset[1] = buffer.size;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
  buffer.plane_offset[1] = UINT64_MAX;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_buffer_rejects_unused_plane_not_zero)
{
  PxWireBuffer buffer = valid_buffer ();

  buffer.plane_offset[2] = 1;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
  buffer = valid_buffer ();
  buffer.stride[3] = 64;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
}

GST_END_TEST;

/* Without PX_WIRE_BUFFER_HAS_VIDEO_META the video fields are unused and
 * must be 0. */
GST_START_TEST (test_buffer_rejects_video_fields_without_meta_flag)
{
  PxWireBuffer buffer = valid_buffer ();

  buffer.flags &= ~PX_WIRE_BUFFER_HAS_VIDEO_META;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
  buffer = valid_plain_buffer ();
  buffer.stride[0] = 1;
  fail_unless_equals_int (decode_buffer_struct (&buffer), -EPROTO);
}

GST_END_TEST;

static int
decode_done_raw (uint32_t count, uint32_t n_ids)
{
  guint8 payload[8 + 8 * (PX_WIRE_MAX_DONE + 2)] = { 0 };

  memcpy (payload, &count, 4);
  return decode_struct (PX_WIRE_BUFFER_DONE, payload, 8 + 8 * n_ids);
}

GST_START_TEST (test_buffer_done_rejects_count_out_of_range)
{
  fail_unless_equals_int (decode_done_raw (0, 0), -EPROTO);
  fail_unless_equals_int (decode_done_raw (PX_WIRE_MAX_DONE + 1,
          PX_WIRE_MAX_DONE + 1), -EPROTO);
  fail_unless_equals_int (decode_done_raw (UINT32_MAX, 1), -EPROTO);
  fail_unless_equals_int (decode_done_raw (PX_WIRE_MAX_DONE,
          PX_WIRE_MAX_DONE), 0);
}

GST_END_TEST;

GST_START_TEST (test_buffer_done_rejects_count_size_mismatch)
{
  fail_unless_equals_int (decode_done_raw (2, 3), -EPROTO);
  fail_unless_equals_int (decode_done_raw (3, 2), -EPROTO);
  fail_unless_equals_int (decode_done_raw (2, 2), 0);
}

GST_END_TEST;

static int
decode_blob_raw (uint32_t type, uint32_t result, const char *body,
    uint32_t body_size, size_t payload_size)
{
  guint8 *payload = g_malloc0 (PX_WIRE_MAX_PAYLOAD);
  int ret;

  put_blob (payload, 1, result, body, body_size);
  ret = decode_struct (type, payload, payload_size);
  g_free (payload);
  return ret;
}

GST_START_TEST (test_blob_rejects_empty_body)
{
  fail_unless_equals_int (decode_blob_raw (PX_WIRE_EVENT, 0, "", 0, 16),
      -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_blob_rejects_body_above_maximum)
{
  char *body = g_malloc (PX_WIRE_MAX_BODY + 1);

  memset (body, 'x', PX_WIRE_MAX_BODY);
  body[PX_WIRE_MAX_BODY] = '\0';
  fail_unless_equals_int (decode_blob_raw (PX_WIRE_MESSAGE, 0, body,
          PX_WIRE_MAX_BODY + 1, 16 + PX_WIRE_MAX_BODY + 1), -EPROTO);
  g_free (body);
}

GST_END_TEST;

/* body_size near 2^32: 16 + body_size wraps around in 32 bits and would
 * match a small payload if the sum were not bounded first. */
GST_START_TEST (test_blob_rejects_body_size_wraparound)
{
  guint8 payload[32] = { 0 };
  const uint32_t fixed[4] = { 1, 0, UINT32_MAX - 15 + 8, 0 };

  memcpy (payload, fixed, sizeof fixed);
  fail_unless_equals_int (decode_struct (PX_WIRE_EVENT, payload, 8), -EPROTO);
  fail_unless_equals_int (decode_struct (PX_WIRE_EVENT, payload, 24), -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_blob_rejects_body_size_mismatch)
{
  fail_unless_equals_int (decode_blob_raw (PX_WIRE_EVENT, 0, "abc", 4,
          16 + 5), -EPROTO);
  fail_unless_equals_int (decode_blob_raw (PX_WIRE_EVENT, 0, "abc", 4,
          16 + 3), -EPROTO);
  fail_unless_equals_int (decode_blob_raw (PX_WIRE_EVENT, 0, "abc", 4,
          16 + 4), 0);
}

GST_END_TEST;

GST_START_TEST (test_blob_rejects_unterminated_body)
{
  fail_unless_equals_int (decode_blob_raw (PX_WIRE_QUERY, 0, "abcd", 4,
          16 + 4), -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_blob_rejects_nul_inside_body)
{
  fail_unless_equals_int (decode_blob_raw (PX_WIRE_QUERY, 0, "ab\0d", 5,
          16 + 5), -EPROTO);
  fail_unless_equals_int (decode_blob_raw (PX_WIRE_QUERY, 0, "\0", 2,
          16 + 2), -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_blob_rejects_result_out_of_range)
{
  fail_unless_equals_int (decode_blob_raw (PX_WIRE_QUERY_REPLY, 0, "a", 2,
          18), 0);
  fail_unless_equals_int (decode_blob_raw (PX_WIRE_QUERY_REPLY, 2, "a", 2,
          18), -EPROTO);
  /* Only a reply has a result. */
  fail_unless_equals_int (decode_blob_raw (PX_WIRE_EVENT, 1, "a", 2, 18),
      -EPROTO);
  fail_unless_equals_int (decode_blob_raw (PX_WIRE_QUERY, 1, "a", 2, 18),
      -EPROTO);
  fail_unless_equals_int (decode_blob_raw (PX_WIRE_MESSAGE, 1, "a", 2, 18),
      -EPROTO);
}

GST_END_TEST;

static int
decode_state_raw (uint32_t type, uint32_t transition, uint32_t result)
{
  PxWireState state = {.transition = transition,.result = result };

  return decode_struct (type, &state, sizeof state);
}

/* Exactly the ten GstStateChange values are transitions: one step up or
 * down, or staying in a state. */
GST_START_TEST (test_state_accepts_only_real_transitions)
{
  int accepted = 0;

  for (uint32_t t = 0; t < 256; t++) {
    if (decode_state_raw (PX_WIRE_STATE, t, 0) == 0)
      accepted++;
  }
  fail_unless_equals_int (accepted, 10);
  fail_unless_equals_int (decode_state_raw (PX_WIRE_STATE, (1 << 3) | 3, 0), -EPROTO);  /* NULL to PAUSED skips READY */
  fail_unless_equals_int (decode_state_raw (PX_WIRE_STATE, (4 << 3) | 3, 0), 0);        /* PLAYING_TO_PAUSED */
  fail_unless_equals_int (decode_state_raw (PX_WIRE_STATE, UINT32_MAX, 0),
      -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_state_rejects_result_out_of_range)
{
  fail_unless_equals_int (decode_state_raw (PX_WIRE_STATE, 10, 1), -EPROTO);
  fail_unless_equals_int (decode_state_raw (PX_WIRE_STATE_DONE, 10, 3), 0);
  fail_unless_equals_int (decode_state_raw (PX_WIRE_STATE_DONE, 10, 4),
      -EPROTO);
}

GST_END_TEST;

/* A STREAM or STREAM_DONE of @op, @stream_id and @result, its header
 * flagged @flags, through px_wire_decode_stream(). */
static int
decode_stream_raw (uint32_t type, uint32_t flags, uint32_t op,
    uint32_t stream_id, uint32_t result)
{
  PxWireStream stream = {.op = op,.stream_id = stream_id,.result = result };
  PxWireMessage *msg = build_message (type, flags, &stream, sizeof stream);
  PxWireStream out;
  int ret = px_wire_decode_stream (msg, &out);

  free_message (msg);
  return ret;
}

static const uint32_t stream_types[] = { PX_WIRE_STREAM, PX_WIRE_STREAM_DONE };

/* OPEN, CLOSE and NO_MORE are the only ops, in a request or an answer. */
GST_START_TEST (test_stream_rejects_unknown_op)
{
  const uint32_t bad_ops[] = { 0, PX_WIRE_STREAM_NO_MORE + 1, UINT32_MAX };

  for (guint t = 0; t < G_N_ELEMENTS (stream_types); t++) {
    uint32_t type = stream_types[t];

    fail_unless_equals_int (decode_stream_raw (type, 0, PX_WIRE_STREAM_OPEN,
            1, 0), 0);
    fail_unless_equals_int (decode_stream_raw (type, 0, PX_WIRE_STREAM_CLOSE,
            1, 0), 0);
    fail_unless_equals_int (decode_stream_raw (type, 0,
            PX_WIRE_STREAM_NO_MORE, 0, 0), 0);
    for (guint i = 0; i < G_N_ELEMENTS (bad_ops); i++) {
      fail_unless (decode_stream_raw (type, 0, bad_ops[i], 1, 0) == -EPROTO,
          "%s accepted op %u", px_wire_type_name (type), bad_ops[i]);
      fail_unless (decode_stream_raw (type, 0, bad_ops[i], 0, 0) == -EPROTO,
          "%s accepted op %u", px_wire_type_name (type), bad_ops[i]);
    }
  }
}

GST_END_TEST;

/* OPEN and CLOSE name a stream, 1 … PX_WIRE_MAX_STREAM_ID. */
GST_START_TEST (test_stream_rejects_stream_id_out_of_range)
{
  const uint32_t ops[] = { PX_WIRE_STREAM_OPEN, PX_WIRE_STREAM_CLOSE };

  for (guint t = 0; t < G_N_ELEMENTS (stream_types); t++) {
    for (guint o = 0; o < G_N_ELEMENTS (ops); o++) {
      uint32_t type = stream_types[t], op = ops[o];

      fail_unless_equals_int (decode_stream_raw (type, 0, op, 1, 0), 0);
      fail_unless_equals_int (decode_stream_raw (type, 0, op,
              PX_WIRE_MAX_STREAM_ID, 0), 0);
      fail_unless_equals_int (decode_stream_raw (type, 0, op, 0, 0), -EPROTO);
      fail_unless_equals_int (decode_stream_raw (type, 0, op,
              PX_WIRE_MAX_STREAM_ID + 1, 0), -EPROTO);
      fail_unless_equals_int (decode_stream_raw (type, 0, op, UINT32_MAX,
              0), -EPROTO);
    }
  }
}

GST_END_TEST;

/* NO_MORE is about every stream, so it names none: stream_id 0. */
GST_START_TEST (test_stream_no_more_rejects_stream_id)
{
  for (guint t = 0; t < G_N_ELEMENTS (stream_types); t++) {
    uint32_t type = stream_types[t];

    fail_unless_equals_int (decode_stream_raw (type, 0,
            PX_WIRE_STREAM_NO_MORE, 0, 0), 0);
    fail_unless_equals_int (decode_stream_raw (type, 0,
            PX_WIRE_STREAM_NO_MORE, 1, 0), -EPROTO);
    fail_unless_equals_int (decode_stream_raw (type, 0,
            PX_WIRE_STREAM_NO_MORE, PX_WIRE_MAX_STREAM_ID, 0), -EPROTO);
  }
}

GST_END_TEST;

/* A request carries no result; an answer says 1 (done) or 0 (refused). */
GST_START_TEST (test_stream_rejects_result_out_of_range)
{
  fail_unless_equals_int (decode_stream_raw (PX_WIRE_STREAM, 0,
          PX_WIRE_STREAM_CLOSE, 1, 1), -EPROTO);
  fail_unless_equals_int (decode_stream_raw (PX_WIRE_STREAM, 0,
          PX_WIRE_STREAM_NO_MORE, 0, 1), -EPROTO);
  fail_unless_equals_int (decode_stream_raw (PX_WIRE_STREAM_DONE, 0,
          PX_WIRE_STREAM_CLOSE, 1, 0), 0);
  fail_unless_equals_int (decode_stream_raw (PX_WIRE_STREAM_DONE, 0,
          PX_WIRE_STREAM_CLOSE, 1, 1), 0);
  fail_unless_equals_int (decode_stream_raw (PX_WIRE_STREAM_DONE, 0,
          PX_WIRE_STREAM_CLOSE, 1, 2), -EPROTO);
  fail_unless_equals_int (decode_stream_raw (PX_WIRE_STREAM_DONE, 0,
          PX_WIRE_STREAM_NO_MORE, 0, UINT32_MAX), -EPROTO);
}

GST_END_TEST;

/* PX_WIRE_STREAM_FD goes with a granted OPEN, and only with it: the
 * decoder holds the flag against op and result. */
GST_START_TEST (test_stream_done_fd_flag_only_on_granted_open)
{
  fail_unless_equals_int (decode_stream_raw (PX_WIRE_STREAM_DONE,
          PX_WIRE_STREAM_FD, PX_WIRE_STREAM_OPEN, 1, 1), 0);
  fail_unless_equals_int (decode_stream_raw (PX_WIRE_STREAM_DONE, 0,
          PX_WIRE_STREAM_OPEN, 1, 1), -EPROTO);
  fail_unless_equals_int (decode_stream_raw (PX_WIRE_STREAM_DONE,
          PX_WIRE_STREAM_FD, PX_WIRE_STREAM_OPEN, 1, 0), -EPROTO);
  fail_unless_equals_int (decode_stream_raw (PX_WIRE_STREAM_DONE,
          PX_WIRE_STREAM_FD, PX_WIRE_STREAM_CLOSE, 1, 1), -EPROTO);
  fail_unless_equals_int (decode_stream_raw (PX_WIRE_STREAM_DONE,
          PX_WIRE_STREAM_FD, PX_WIRE_STREAM_NO_MORE, 0, 1), -EPROTO);
}

GST_END_TEST;

/* ---- Header checks on the receiving path ------------------------------ */

/* Sends a HELLO whose header has been altered by @mutate, expects @error. */
static void
check_hello_header_refused (void (*mutate) (PxWireHeader *), int error)
{
  PxWireHello hello = valid_hello ();
  PxWireHeader header = make_header (PX_WIRE_HELLO, 0, sizeof hello);
  int sv[2], before;

  make_socketpair (sv);
  before = px_test_count_fds ();
  mutate (&header);
  send_raw (sv[0], &header, &hello, sizeof hello, NULL, 0);
  expect_refused (sv[1], error, before);
  close_socketpair (sv);
}

static void
set_bad_magic (PxWireHeader * header)
{
  header->magic = 0x31575851u;
}

static void
set_bad_version (PxWireHeader * header)
{
  header->version = PX_WIRE_VERSION + 1;
}

static void
set_type_zero (PxWireHeader * header)
{
  header->type = 0;
}

static void
set_type_after_last (PxWireHeader * header)
{
  header->type = PX_WIRE_TYPE_LAST + 1;
}

static void
grow_payload_size (PxWireHeader * header)
{
  header->payload_size += 1;
}

static void
shrink_payload_size (PxWireHeader * header)
{
  header->payload_size -= 1;
}

static void
set_unknown_flag (PxWireHeader * header)
{
  header->flags = 1;
}

GST_START_TEST (test_recv_refuses_bad_magic)
{
  check_hello_header_refused (set_bad_magic, -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_recv_refuses_bad_version)
{
  check_hello_header_refused (set_bad_version, -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_recv_refuses_type_zero)
{
  check_hello_header_refused (set_type_zero, -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_recv_refuses_type_after_last)
{
  check_hello_header_refused (set_type_after_last, -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_recv_refuses_payload_size_above_received)
{
  check_hello_header_refused (grow_payload_size, -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_recv_refuses_payload_size_below_received)
{
  check_hello_header_refused (shrink_payload_size, -EPROTO);
}

GST_END_TEST;

GST_START_TEST (test_recv_refuses_unknown_flags)
{
  check_hello_header_refused (set_unknown_flag, -EPROTO);
}

GST_END_TEST;

/* An EVENT with @flags and @request_id is refused. */
static void
check_event_refused (uint32_t flags, uint64_t request_id)
{
  guint8 payload[64];
  size_t size = make_valid_payload (PX_WIRE_EVENT, payload);
  PxWireHeader header = make_header (PX_WIRE_EVENT, flags, size);
  int sv[2], before;

  header.request_id = request_id;
  make_socketpair (sv);
  before = px_test_count_fds ();
  send_raw (sv[0], &header, payload, size, NULL, 0);
  expect_refused (sv[1], -EPROTO, before);
  close_socketpair (sv);
}

/* EVENT knows two flags, PX_WIRE_EVENT_UPSTREAM and
 * PX_WIRE_EVENT_WANTS_RESULT; any other bit is refused. */
GST_START_TEST (test_recv_refuses_unknown_event_flags)
{
  check_event_refused (PX_WIRE_EVENT_UPSTREAM | 0x4, 0);
}

GST_END_TEST;

/* A result is asked for upstream events only, and under a request id the
 * reply can name. */
GST_START_TEST (test_recv_refuses_misplaced_wants_result)
{
  check_event_refused (PX_WIRE_EVENT_WANTS_RESULT, 7);
  check_event_refused (PX_WIRE_EVENT_UPSTREAM | PX_WIRE_EVENT_WANTS_RESULT, 0);
}

GST_END_TEST;

/* 14 was VIOLATION: however well formed its old payload ({syscall_nr,
 * arch}, 8 bytes), a message of that type is of no known type. */
GST_START_TEST (test_recv_refuses_retired_violation_type)
{
  const int32_t violation[2] = { 59, (int32_t) 0xc000003e };
  PxWireHeader header = make_header (RETIRED_TYPE_VIOLATION, 0,
      sizeof violation);
  int sv[2], before;

  fail_unless_equals_int (px_wire_check_header (&header, sizeof violation,
          0), -EPROTO);
  make_socketpair (sv);
  before = px_test_count_fds ();
  send_raw (sv[0], &header, violation, sizeof violation, NULL, 0);
  expect_refused (sv[1], -EPROTO, before);
  close_socketpair (sv);
}

GST_END_TEST;

/* The header agrees with the bytes received, but the type cannot be that
 * large: a PING carries nothing. */
GST_START_TEST (test_recv_refuses_payload_above_type_maximum)
{
  guint8 payload[sizeof (PxWireBuffer) + 1] = { 0 };
  PxWireHeader header = make_header (PX_WIRE_PING, 0, 8);
  int sv[2], before;

  make_socketpair (sv);
  before = px_test_count_fds ();
  send_raw (sv[0], &header, payload, 8, NULL, 0);
  expect_refused (sv[1], -EMSGSIZE, before);
  header = make_header (PX_WIRE_BUFFER, 0, sizeof payload);
  send_raw (sv[0], &header, payload, sizeof payload, NULL, 0);
  expect_refused (sv[1], -EMSGSIZE, before);
  close_socketpair (sv);
}

GST_END_TEST;

/* A message larger than header + PX_WIRE_MAX_PAYLOAD does not fit the
 * receive buffer; it is refused whole, whatever its header claims. */
GST_START_TEST (test_recv_refuses_message_above_max_payload)
{
  const size_t sizes[] = { sizeof (PxWireHeader) + PX_WIRE_MAX_PAYLOAD + 1,
    sizeof (PxWireHeader) + PX_WIRE_MAX_PAYLOAD + 4096
  };
  int sv[2], before;

  make_socketpair (sv);
  before = px_test_count_fds ();
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    guint8 *buf = g_malloc0 (sizes[i]);
    PxWireHeader header = make_header (PX_WIRE_MESSAGE, 0,
        sizes[i] - sizeof header);

    memcpy (buf, &header, sizeof header);
    fail_unless_equals_int (send (sv[0], buf, sizes[i], 0), sizes[i]);
    expect_refused (sv[1], -EMSGSIZE, before);
    g_free (buf);
  }
  close_socketpair (sv);
}

GST_END_TEST;

GST_START_TEST (test_recv_refuses_message_shorter_than_header)
{
  PxWireHeader header = make_header (PX_WIRE_PING, 0, 0);
  int sv[2], before;

  make_socketpair (sv);
  before = px_test_count_fds ();
  fail_unless_equals_int (send (sv[0], &header, sizeof header - 1, 0),
      sizeof header - 1);
  expect_refused (sv[1], -EPROTO, before);
  close_socketpair (sv);
}

GST_END_TEST;

/* ---- Fd rules --------------------------------------------------------- */

GST_START_TEST (test_recv_refuses_fd_on_buffer)
{
  PxWireBuffer buffer = valid_buffer ();
  PxWireHeader header = make_header (PX_WIRE_BUFFER, 0, sizeof buffer);
  int sv[2], fd, before;

  make_socketpair (sv);
  fd = make_memfd ();
  before = px_test_count_fds ();
  send_raw (sv[0], &header, &buffer, sizeof buffer, &fd, 1);
  expect_refused (sv[1], -EPROTO, before);
  close (fd);
  close_socketpair (sv);
}

GST_END_TEST;

GST_START_TEST (test_recv_refuses_arena_add_without_fd)
{
  PxWireArenaAdd add = valid_arena_add ();
  PxWireHeader header = make_header (PX_WIRE_ARENA_ADD, 0, sizeof add);
  int sv[2], before;

  make_socketpair (sv);
  before = px_test_count_fds ();
  send_raw (sv[0], &header, &add, sizeof add, NULL, 0);
  expect_refused (sv[1], -EPROTO, before);
  close_socketpair (sv);
}

GST_END_TEST;

/* More fds than a message may carry: all of them are closed. */
GST_START_TEST (test_recv_refuses_arena_add_with_three_fds)
{
  PxWireArenaAdd add = valid_arena_add ();
  PxWireHeader header = make_header (PX_WIRE_ARENA_ADD, 0, sizeof add);
  int sv[2], fds[3], before;

  make_socketpair (sv);
  for (guint i = 0; i < 3; i++)
    fds[i] = make_memfd ();
  before = px_test_count_fds ();
  send_raw (sv[0], &header, &add, sizeof add, fds, 3);
  expect_refused (sv[1], -EMSGSIZE, before);
  for (guint i = 0; i < 3; i++)
    close (fds[i]);
  close_socketpair (sv);
}

GST_END_TEST;

/* Sends a STREAM or STREAM_DONE of @op and @result, its header flagged
 * @flags, with @fd unless it is -1; expects it refused, the fd closed. */
static void
check_stream_fd_refused (uint32_t type, uint32_t flags, uint32_t op,
    uint32_t result, int fd)
{
  PxWireStream stream = {.op = op,.stream_id = 1,.result = result };
  PxWireHeader header = make_header (type, flags, sizeof stream);
  int sv[2], before;

  make_socketpair (sv);
  before = px_test_count_fds ();
  send_raw (sv[0], &header, &stream, sizeof stream, &fd, fd >= 0 ? 1 : 0);
  expect_refused (sv[1], -EPROTO, before);
  close_socketpair (sv);
}

/* The flag promises the socket of a granted OPEN: without it the answer
 * is refused, though its payload is a granted OPEN's. */
GST_START_TEST (test_recv_refuses_stream_done_flagged_without_fd)
{
  check_stream_fd_refused (PX_WIRE_STREAM_DONE, PX_WIRE_STREAM_FD,
      PX_WIRE_STREAM_OPEN, 1, -1);
}

GST_END_TEST;

/* An fd comes with the flag or not at all, even under a granted OPEN. */
GST_START_TEST (test_recv_refuses_stream_done_fd_without_flag)
{
  int fd = make_memfd ();

  check_stream_fd_refused (PX_WIRE_STREAM_DONE, 0, PX_WIRE_STREAM_OPEN, 1, fd);
  check_stream_fd_refused (PX_WIRE_STREAM_DONE, 0, PX_WIRE_STREAM_CLOSE, 1, fd);
  close (fd);
}

GST_END_TEST;

/* A request never carries an fd, and PX_WIRE_STREAM_FD is no flag of its. */
GST_START_TEST (test_recv_refuses_fd_on_stream)
{
  int fd = make_memfd ();

  check_stream_fd_refused (PX_WIRE_STREAM, 0, PX_WIRE_STREAM_OPEN, 0, fd);
  check_stream_fd_refused (PX_WIRE_STREAM, PX_WIRE_STREAM_FD,
      PX_WIRE_STREAM_OPEN, 0, fd);
  check_stream_fd_refused (PX_WIRE_STREAM, PX_WIRE_STREAM_FD,
      PX_WIRE_STREAM_OPEN, 0, -1);
  close (fd);
}

GST_END_TEST;

/* An fd attached to a message whose header is refused is closed too. */
GST_START_TEST (test_recv_closes_fd_of_message_with_bad_header)
{
  PxWireArenaAdd add = valid_arena_add ();
  PxWireHeader header = make_header (PX_WIRE_ARENA_ADD, 0, sizeof add);
  int sv[2], fd, before;

  make_socketpair (sv);
  fd = make_memfd ();
  before = px_test_count_fds ();
  header.version = 0;
  send_raw (sv[0], &header, &add, sizeof add, &fd, 1);
  expect_refused (sv[1], -EPROTO, before);
  close (fd);
  close_socketpair (sv);
}

GST_END_TEST;

/* ARENA_ADD's header passes but its payload does not: the fd stays with
 * the message until px_wire_message_clear() closes it. */
GST_START_TEST (test_message_clear_closes_fd_after_decode_failure)
{
  PxWireArenaAdd add = valid_arena_add (), got;
  PxWireHeader header;
  PxWireMessage *msg;
  int sv[2], fd, before;

  make_socketpair (sv);
  fd = make_memfd ();
  before = px_test_count_fds ();
  add.arena_id = 0;
  /* The encoder refuses it (test_encoders_refuse_what_decoders_refuse);
   * a hostile peer sends it anyway. */
  header = make_header (PX_WIRE_ARENA_ADD, 0, sizeof add);
  send_raw (sv[0], &header, &add, sizeof add, &fd, 1);
  msg = expect_received (sv[1], PX_WIRE_ARENA_ADD, sizeof add);
  fail_unless_equals_int (msg->n_fds, 1);
  fail_unless_equals_int (px_wire_decode_arena_add (msg, &got), -EPROTO);
  px_wire_message_clear (msg);
  fail_unless_equals_int (msg->n_fds, 0);
  fail_unless_equals_int (px_test_count_fds (), before);
  free_message (msg);
  close (fd);
  close_socketpair (sv);
}

GST_END_TEST;

GST_START_TEST (test_send_refuses_fd_count_mismatch)
{
  PxWireBuffer buffer = valid_buffer ();
  PxWireArenaAdd add = valid_arena_add ();
  int sv[2], fd, fds[2];
  PxWireMessage *msg = new_message ();

  make_socketpair (sv);
  fd = make_memfd ();
  fds[0] = fds[1] = fd;
  fail_unless_equals_int (px_wire_send (sv[0], PX_WIRE_BUFFER, 0, 0, &buffer,
          sizeof buffer, &fd, 1, 0), -EINVAL);
  fail_unless_equals_int (px_wire_send (sv[0], PX_WIRE_ARENA_ADD, 0, 0, &add,
          sizeof add, NULL, 0, 0), -EINVAL);
  fail_unless_equals_int (px_wire_send (sv[0], PX_WIRE_ARENA_ADD, 0, 0, &add,
          sizeof add, fds, 2, 0), -EINVAL);
  /* Nothing was sent. */
  fail_unless_equals_int (px_wire_recv (sv[1], msg, MSG_DONTWAIT), -EAGAIN);
  free_message (msg);
  close (fd);
  close_socketpair (sv);
}

GST_END_TEST;

/* ---- Other receiving and sending behaviour ---------------------------- */

GST_START_TEST (test_recv_after_peer_close_gives_connreset)
{
  PxWireMessage *msg = new_message ();
  int sv[2];

  make_socketpair (sv);
  close (sv[0]);
  fail_unless_equals_int (px_wire_recv (sv[1], msg, 0), -ECONNRESET);
  free_message (msg);
  close (sv[1]);
}

GST_END_TEST;

GST_START_TEST (test_recv_on_empty_nonblocking_socket_gives_eagain)
{
  PxWireMessage *msg = new_message ();
  int sv[2];

  make_socketpair (sv);
  fail_unless_equals_int (px_wire_recv (sv[1], msg, MSG_DONTWAIT), -EAGAIN);
  fail_unless_equals_int (msg->n_fds, 0);
  free_message (msg);
  close_socketpair (sv);
}

GST_END_TEST;

/* Random bytes of random sizes, some with an fd attached, half of them
 * behind a valid magic, version and type so that the later checks are
 * reached: every one is refused and nothing leaks. */
GST_START_TEST (test_recv_refuses_garbage)
{
  GRand *rand = g_rand_new_with_seed (0x5eed);
  guint8 *buf = g_malloc (PX_WIRE_MAX_PAYLOAD);
  int sv[2], fd, before;

  make_socketpair (sv);
  fd = make_memfd ();
  before = px_test_count_fds ();
  for (int round = 0; round < 2000; round++) {
    size_t size = g_rand_int_range (rand, 1,
        round % 10 ? 256 : PX_WIRE_MAX_PAYLOAD);
    PxWireMessage *msg = new_message ();
    ssize_t ret;

    for (size_t i = 0; i < size; i++)
      buf[i] = g_rand_int (rand);
    if (round % 2 && size >= sizeof (PxWireHeader)) {
      uint32_t type;
      PxWireHeader header;

      do
        type = g_rand_int_range (rand, 1, PX_WIRE_TYPE_LAST + 1);
      while (type == RETIRED_TYPE_VIOLATION);
      header = make_header (type, 0, 0);
      memcpy (buf, &header, 8);
    }
    fail_unless_equals_int (px_unix_send (sv[0], buf, size, &fd,
            g_rand_boolean (rand) ? 1 : 0, 0), 0);
    ret = px_wire_recv (sv[1], msg, MSG_DONTWAIT);
    fail_unless (ret == -EPROTO || ret == -EMSGSIZE, "round %d: %zd",
        round, ret);
    fail_unless_equals_int (msg->n_fds, 0);
    fail_unless_equals_int (px_test_count_fds (), before);
    free_message (msg);
  }
  g_free (buf);
  g_rand_free (rand);
  close (fd);
  close_socketpair (sv);
}

GST_END_TEST;

GST_START_TEST (test_send_refuses_payload_above_maximum)
{
  guint8 *payload = g_malloc0 (PX_WIRE_MAX_PAYLOAD + 1);
  int sv[2];

  make_socketpair (sv);
  fail_unless_equals_int (px_wire_send (sv[0], PX_WIRE_MESSAGE, 0, 0,
          payload, PX_WIRE_MAX_PAYLOAD + 1, NULL, 0, 0), -EMSGSIZE);
  /* Also beyond what the type allows, though within the global limit. */
  fail_unless_equals_int (px_wire_send (sv[0], PX_WIRE_HELLO, 0, 0,
          payload, sizeof (PxWireHello) + 1, NULL, 0, 0), -EMSGSIZE);
  g_free (payload);
  close_socketpair (sv);
}

GST_END_TEST;

GST_START_TEST (test_send_refuses_unknown_type)
{
  int sv[2];

  make_socketpair (sv);
  fail_unless_equals_int (px_wire_send (sv[0], 0, 0, 0, NULL, 0, NULL, 0, 0),
      -EINVAL);
  fail_unless_equals_int (px_wire_send (sv[0], PX_WIRE_TYPE_LAST + 1, 0, 0,
          NULL, 0, NULL, 0, 0), -EINVAL);
  fail_unless_equals_int (px_wire_send (sv[0], RETIRED_TYPE_VIOLATION, 0, 0,
          NULL, 0, NULL, 0, 0), -EINVAL);
  close_socketpair (sv);
}

GST_END_TEST;

/* The sender refuses what the receiver would refuse, so that the bug shows
 * where it is. */
GST_START_TEST (test_send_blob_refuses_invalid_blob)
{
  PxWireBlob blob = {.kind = 1,.body = "abc",.body_size = 4 };
  int sv[2];

  make_socketpair (sv);
  fail_unless_equals_int (px_wire_send_blob (sv[0], PX_WIRE_HELLO, 0, 0,
          &blob), -EINVAL);
  blob.body_size = 3;
  fail_unless_equals_int (px_wire_send_blob (sv[0], PX_WIRE_EVENT, 0, 0,
          &blob), -EINVAL);
  blob.body_size = 0;
  fail_unless_equals_int (px_wire_send_blob (sv[0], PX_WIRE_EVENT, 0, 0,
          &blob), -EINVAL);
  blob.body_size = 4;
  blob.result = 1;
  fail_unless_equals_int (px_wire_send_blob (sv[0], PX_WIRE_EVENT, 0, 0,
          &blob), -EINVAL);
  close_socketpair (sv);
}

GST_END_TEST;

GST_START_TEST (test_send_buffer_done_refuses_bad_count)
{
  uint64_t ids[PX_WIRE_MAX_DONE + 1] = { 0 };
  int sv[2];

  make_socketpair (sv);
  fail_unless_equals_int (px_wire_send_buffer_done (sv[0], ids, 0), -EINVAL);
  fail_unless_equals_int (px_wire_send_buffer_done (sv[0], ids,
          PX_WIRE_MAX_DONE + 1), -EINVAL);
  close_socketpair (sv);
}

GST_END_TEST;

/* Every encoder runs the decoder its receiver runs: what one refuses, the
 * other does too, and nothing is left to send. */
GST_START_TEST (test_encoders_refuse_what_decoders_refuse)
{
  PxWireHello hello = valid_hello ();
  PxWireArenaAdd add = valid_arena_add ();
  PxWireBuffer buffer = valid_buffer ();
  PxWireState state = {.transition = (1 << 3) | 2 };
  PxWireStream stream = {.op = PX_WIRE_STREAM_NO_MORE,.stream_id = 1 };
  PxWireEncoded msg;
  int fd = make_memfd ();

  hello.reserved = 1;
  fail_unless_equals_int (px_wire_encode_hello (&msg, &hello), -EINVAL);
  fail_unless (msg.data == NULL);
  add.slot_count = 0;
  fail_unless_equals_int (px_wire_encode_arena_add (&msg, &add, fd), -EINVAL);
  add = valid_arena_add ();
  fail_unless_equals_int (px_wire_encode_arena_add (&msg, &add, -1), -EINVAL);
  buffer.reserved = 1;
  fail_unless_equals_int (px_wire_encode_buffer (&msg, &buffer), -EINVAL);
  state.transition = 0x3f;
  fail_unless_equals_int (px_wire_encode_state (&msg, PX_WIRE_STATE, 1,
          &state), -EINVAL);
  fail_unless_equals_int (px_wire_encode_stream (&msg, PX_WIRE_STREAM, 1,
          &stream, -1), -EINVAL);
  fail_unless_equals_int (px_wire_encode_empty (&msg, PX_WIRE_HELLO, 0),
      -EINVAL);
  /* A refused message can be cleared all the same. */
  px_wire_encoded_clear (&msg);
  close (fd);
}

GST_END_TEST;

/* px_wire_encode_stream() flags the message when it is given an fd; the
 * receiver's rules then hold it to a granted OPEN. */
GST_START_TEST (test_encode_stream_fd_only_on_granted_open)
{
  PxWireStream granted = {.op = PX_WIRE_STREAM_OPEN,.stream_id = 1,
    .result = 1
  };
  PxWireStream closed = {.op = PX_WIRE_STREAM_CLOSE,.stream_id = 1,
    .result = 1
  };
  PxWireEncoded msg;
  int fd = make_memfd ();

  fail_unless_equals_int (px_wire_encode_stream (&msg, PX_WIRE_STREAM_DONE,
          1, &granted, fd), 0);
  fail_unless_equals_int (msg.fd, fd);
  px_wire_encoded_clear (&msg);
  fail_unless_equals_int (px_wire_encode_stream (&msg, PX_WIRE_STREAM_DONE,
          1, &granted, -1), -EINVAL);
  fail_unless (msg.data == NULL);
  fail_unless_equals_int (px_wire_encode_stream (&msg, PX_WIRE_STREAM_DONE,
          1, &closed, fd), -EINVAL);
  granted.result = 0;
  fail_unless_equals_int (px_wire_encode_stream (&msg, PX_WIRE_STREAM, 1,
          &granted, fd), -EINVAL);
  fail_unless_equals_int (px_wire_encode_stream (&msg, PX_WIRE_STREAM, 1,
          &granted, -1), 0);
  px_wire_encoded_clear (&msg);
  /* only STREAM and STREAM_DONE */
  fail_unless_equals_int (px_wire_encode_stream (&msg, PX_WIRE_STATE, 1,
          &granted, -1), -EINVAL);
  px_wire_encoded_clear (&msg);
  close (fd);
}

GST_END_TEST;

/* An encoded message is what the receiver decodes, and may be sent more
 * than once (a send retried after EAGAIN). */
GST_START_TEST (test_encoded_round_trip)
{
  PxWireBuffer buffer = valid_buffer (), got;
  PxWireEncoded msg;
  PxWireMessage *received = new_message ();
  int sv[2];

  make_socketpair (sv);
  fail_unless_equals_int (px_wire_encode_buffer (&msg, &buffer), 0);
  fail_unless_equals_int (px_wire_encoded_type (&msg), PX_WIRE_BUFFER);
  for (int i = 0; i < 2; i++) {
    fail_unless_equals_int (px_wire_send_encoded (sv[0], &msg, 0), 0);
    fail_unless_equals_int (px_wire_recv (sv[1], received, 0), sizeof buffer);
    fail_unless_equals_int (px_wire_decode_buffer (received, &got), 0);
    fail_unless (memcmp (&got, &buffer, sizeof got) == 0);
  }
  px_wire_encoded_clear (&msg);
  fail_unless (msg.data == NULL);
  free_message (received);
  close_socketpair (sv);
}

GST_END_TEST;

GST_START_TEST (test_check_header_counts_fds_per_type)
{
  PxWireHeader header = make_header (PX_WIRE_ARENA_ADD, 0,
      sizeof (PxWireArenaAdd));

  fail_unless_equals_int (px_wire_check_header (&header, header.payload_size,
          1), 0);
  fail_unless_equals_int (px_wire_check_header (&header, header.payload_size,
          0), -EPROTO);
  fail_unless_equals_int (px_wire_check_header (&header, header.payload_size,
          2), -EPROTO);
  header = make_header (PX_WIRE_PING, 0, 0);
  fail_unless_equals_int (px_wire_check_header (&header, 0, 0), 0);
  fail_unless_equals_int (px_wire_check_header (&header, 0, 1), -EPROTO);
  /* STREAM_DONE: one fd with PX_WIRE_STREAM_FD, none without */
  header = make_header (PX_WIRE_STREAM_DONE, PX_WIRE_STREAM_FD,
      sizeof (PxWireStream));
  fail_unless_equals_int (px_wire_check_header (&header, header.payload_size,
          1), 0);
  fail_unless_equals_int (px_wire_check_header (&header, header.payload_size,
          0), -EPROTO);
  fail_unless_equals_int (px_wire_check_header (&header, header.payload_size,
          2), -EPROTO);
  header.flags = 0;
  fail_unless_equals_int (px_wire_check_header (&header, header.payload_size,
          0), 0);
  fail_unless_equals_int (px_wire_check_header (&header, header.payload_size,
          1), -EPROTO);
  header = make_header (PX_WIRE_STREAM, 0, sizeof (PxWireStream));
  fail_unless_equals_int (px_wire_check_header (&header, header.payload_size,
          0), 0);
  fail_unless_equals_int (px_wire_check_header (&header, header.payload_size,
          1), -EPROTO);
}

GST_END_TEST;

/* ---- Message ownership and names -------------------------------------- */

GST_START_TEST (test_message_clear_tolerates_invalid_fd)
{
  PxWireMessage *msg = new_message ();

  msg->fds[0] = -1;
  msg->n_fds = 1;
  px_wire_message_clear (msg);
  fail_unless_equals_int (msg->n_fds, 0);
  msg->n_fds = 1000;
  px_wire_message_clear (msg);
  fail_unless_equals_int (msg->n_fds, 0);
  free_message (msg);
}

GST_END_TEST;

GST_START_TEST (test_steal_fd_transfers_ownership)
{
  PxWireMessage *msg = new_message ();
  int fd = make_memfd ();

  msg->fds[0] = fd;
  msg->n_fds = 1;
  fail_unless_equals_int (px_wire_message_steal_fd (msg), fd);
  fail_unless_equals_int (msg->n_fds, 0);
  fail_unless_equals_int (px_wire_message_steal_fd (msg), -1);
  px_wire_message_clear (msg);
  fail_unless (px_test_fd_is_open (fd));
  close (fd);
  free_message (msg);
}

GST_END_TEST;

GST_START_TEST (test_type_names)
{
  fail_unless_equals_string (px_wire_type_name (PX_WIRE_HELLO), "HELLO");
  fail_unless_equals_string (px_wire_type_name (PX_WIRE_BUFFER_DONE),
      "BUFFER_DONE");
  fail_unless_equals_string (px_wire_type_name (PX_WIRE_SHUTDOWN), "SHUTDOWN");
  fail_unless_equals_string (px_wire_type_name (0), "unknown");
  fail_unless_equals_string (px_wire_type_name (PX_WIRE_TYPE_LAST + 1),
      "unknown");
  fail_unless_equals_string (px_wire_type_name (UINT32_MAX), "unknown");
  fail_unless_equals_string (px_wire_type_name (RETIRED_TYPE_VIOLATION),
      "unknown");
  for (uint32_t t = 1; t <= PX_WIRE_TYPE_LAST; t++) {
    if (t != RETIRED_TYPE_VIOLATION)
      fail_if (strcmp (px_wire_type_name (t), "unknown") == 0);
  }
}

GST_END_TEST;

static Suite *
wire_suite (void)
{
  Suite *s = suite_create ("wire");
  TCase *roundtrip = tcase_create ("roundtrip");
  TCase *decode = tcase_create ("decode");
  TCase *recv = tcase_create ("recv");
  TCase *misc = tcase_create ("misc");

  suite_add_tcase (s, roundtrip);
  tcase_add_test (roundtrip, test_roundtrip_hello);
  tcase_add_test (roundtrip, test_roundtrip_arena_add_passes_working_fd);
  tcase_add_test (roundtrip, test_roundtrip_arena_remove);
  tcase_add_test (roundtrip, test_roundtrip_buffer_with_video_meta);
  tcase_add_test (roundtrip, test_roundtrip_buffer_without_video_meta);
  tcase_add_test (roundtrip, test_roundtrip_buffer_done_full_batch);
  tcase_add_test (roundtrip, test_roundtrip_buffer_done_single);
  tcase_add_test (roundtrip, test_roundtrip_event_upstream);
  tcase_add_test (roundtrip, test_roundtrip_event_wanting_result);
  tcase_add_test (roundtrip, test_roundtrip_query);
  tcase_add_test (roundtrip, test_roundtrip_query_reply);
  tcase_add_test (roundtrip, test_roundtrip_message);
  tcase_add_test (roundtrip, test_roundtrip_blob_of_maximum_size);
  tcase_add_test (roundtrip, test_roundtrip_state);
  tcase_add_test (roundtrip, test_roundtrip_state_done);
  tcase_add_test (roundtrip, test_roundtrip_stream_requests);
  tcase_add_test (roundtrip, test_roundtrip_stream_done_passes_working_socket);
  tcase_add_test (roundtrip, test_roundtrip_stream_done_without_fd);
  tcase_add_test (roundtrip, test_roundtrip_empty_messages);

  suite_add_tcase (s, decode);
  tcase_add_test (decode, test_decoders_accept_valid_payloads);
  tcase_add_test (decode, test_decoders_reject_truncated_payload);
  tcase_add_test (decode, test_decoders_reject_oversized_payload);
  tcase_add_test (decode, test_decoders_reject_wrong_type);
  tcase_add_test (decode, test_decoders_reject_nonzero_reserved);
  tcase_add_test (decode, test_decoders_leave_output_untouched_on_failure);
  tcase_add_test (decode, test_hello_rejects_unknown_role);
  tcase_add_test (decode, test_hello_rejects_unknown_features);
  tcase_add_test (decode, test_arena_add_rejects_zero_id);
  tcase_add_test (decode, test_arena_add_rejects_slot_count_out_of_range);
  tcase_add_test (decode, test_arena_add_rejects_stride_not_page_multiple);
  tcase_add_test (decode, test_arena_add_rejects_size_mismatch);
  tcase_add_test (decode, test_arena_add_rejects_size_overflow);
  tcase_add_test (decode, test_arena_add_rejects_size_above_maximum);
  tcase_add_test (decode, test_arena_remove_rejects_zero_id);
  tcase_add_test (decode, test_buffer_rejects_zero_arena_id);
  tcase_add_test (decode, test_buffer_rejects_slot_out_of_range);
  tcase_add_test (decode, test_buffer_rejects_range_overflow);
  tcase_add_test (decode, test_buffer_rejects_range_beyond_maximum_arena);
  tcase_add_test (decode, test_buffer_rejects_unknown_flags);
  tcase_add_test (decode, test_buffer_rejects_plane_count_out_of_range);
  tcase_add_test (decode, test_buffer_rejects_video_size_out_of_range);
  tcase_add_test (decode, test_buffer_rejects_plane_outside_buffer);
  tcase_add_test (decode, test_buffer_rejects_unused_plane_not_zero);
  tcase_add_test (decode, test_buffer_rejects_video_fields_without_meta_flag);
  tcase_add_test (decode, test_buffer_done_rejects_count_out_of_range);
  tcase_add_test (decode, test_buffer_done_rejects_count_size_mismatch);
  tcase_add_test (decode, test_blob_rejects_empty_body);
  tcase_add_test (decode, test_blob_rejects_body_above_maximum);
  tcase_add_test (decode, test_blob_rejects_body_size_wraparound);
  tcase_add_test (decode, test_blob_rejects_body_size_mismatch);
  tcase_add_test (decode, test_blob_rejects_unterminated_body);
  tcase_add_test (decode, test_blob_rejects_nul_inside_body);
  tcase_add_test (decode, test_blob_rejects_result_out_of_range);
  tcase_add_test (decode, test_state_accepts_only_real_transitions);
  tcase_add_test (decode, test_state_rejects_result_out_of_range);
  tcase_add_test (decode, test_stream_rejects_unknown_op);
  tcase_add_test (decode, test_stream_rejects_stream_id_out_of_range);
  tcase_add_test (decode, test_stream_no_more_rejects_stream_id);
  tcase_add_test (decode, test_stream_rejects_result_out_of_range);
  tcase_add_test (decode, test_stream_done_fd_flag_only_on_granted_open);

  suite_add_tcase (s, recv);
  tcase_add_test (recv, test_recv_refuses_bad_magic);
  tcase_add_test (recv, test_recv_refuses_bad_version);
  tcase_add_test (recv, test_recv_refuses_type_zero);
  tcase_add_test (recv, test_recv_refuses_type_after_last);
  tcase_add_test (recv, test_recv_refuses_retired_violation_type);
  tcase_add_test (recv, test_recv_refuses_payload_size_above_received);
  tcase_add_test (recv, test_recv_refuses_payload_size_below_received);
  tcase_add_test (recv, test_recv_refuses_unknown_flags);
  tcase_add_test (recv, test_recv_refuses_unknown_event_flags);
  tcase_add_test (recv, test_recv_refuses_misplaced_wants_result);
  tcase_add_test (recv, test_recv_refuses_payload_above_type_maximum);
  tcase_add_test (recv, test_recv_refuses_message_above_max_payload);
  tcase_add_test (recv, test_recv_refuses_message_shorter_than_header);
  tcase_add_test (recv, test_recv_refuses_fd_on_buffer);
  tcase_add_test (recv, test_recv_refuses_arena_add_without_fd);
  tcase_add_test (recv, test_recv_refuses_arena_add_with_three_fds);
  tcase_add_test (recv, test_recv_refuses_stream_done_flagged_without_fd);
  tcase_add_test (recv, test_recv_refuses_stream_done_fd_without_flag);
  tcase_add_test (recv, test_recv_refuses_fd_on_stream);
  tcase_add_test (recv, test_recv_closes_fd_of_message_with_bad_header);
  tcase_add_test (recv, test_message_clear_closes_fd_after_decode_failure);
  tcase_add_test (recv, test_recv_after_peer_close_gives_connreset);
  tcase_add_test (recv, test_recv_on_empty_nonblocking_socket_gives_eagain);
  tcase_add_test (recv, test_recv_refuses_garbage);
  tcase_add_test (recv, test_check_header_counts_fds_per_type);

  suite_add_tcase (s, misc);
  tcase_add_test (misc, test_send_refuses_fd_count_mismatch);
  tcase_add_test (misc, test_hello_arena_limits_checked);
  tcase_add_test (misc, test_version_1_refused);
  tcase_add_test (misc, test_encoders_refuse_what_decoders_refuse);
  tcase_add_test (misc, test_encode_stream_fd_only_on_granted_open);
  tcase_add_test (misc, test_encoded_round_trip);
  tcase_add_test (misc, test_send_refuses_payload_above_maximum);
  tcase_add_test (misc, test_send_refuses_unknown_type);
  tcase_add_test (misc, test_send_blob_refuses_invalid_blob);
  tcase_add_test (misc, test_send_buffer_done_refuses_bad_count);
  tcase_add_test (misc, test_message_clear_tolerates_invalid_fd);
  tcase_add_test (misc, test_steal_fd_transfers_ownership);
  tcase_add_test (misc, test_type_names);
  return s;
}

GST_CHECK_MAIN (wire);
