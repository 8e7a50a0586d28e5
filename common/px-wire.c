/* Parallax — the wire protocol between ipcsink, ipcsrc and the worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Framing, header checks and one strict decoder per message type. Every
 * decoder copies the payload out with memcpy (the payload buffer has no
 * alignment guarantee beyond the header's), checks it completely into a
 * local, and writes its output only when the whole message is valid.
 */
#include "px-wire.h"
#include "px-arena.h"
#include "px-fd.h"
#include "px-unix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "The Parallax wire protocol is little-endian; this host is not."
#endif

/* The wire layout. Changing any of these is a protocol version change. */
_Static_assert (sizeof (PxWireHeader) == 24, "PxWireHeader is 24 bytes");
_Static_assert (sizeof (PxWireHello) == 32, "PxWireHello is 32 bytes");
_Static_assert (PX_WIRE_MAX_ARENAS == PX_ARENA_TABLE_MAX &&
    PX_WIRE_MAX_ARENA_SIZE == PX_ARENA_MAX_SIZE,
    "HELLO's arena bounds are the arena table's");
_Static_assert (sizeof (PxWireArenaAdd) == 32, "PxWireArenaAdd is 32 bytes");
_Static_assert (sizeof (PxWireArenaRemove) == 8,
    "PxWireArenaRemove is 8 bytes");
_Static_assert (sizeof (PxWireBuffer) == 160, "PxWireBuffer is 160 bytes");
_Static_assert (sizeof (PxWireState) == 8, "PxWireState is 8 bytes");
_Static_assert (sizeof (PxWireStream) == 16, "PxWireStream is 16 bytes");

/* BUFFER_DONE on the wire: {count, reserved} then count ids. */
#define DONE_FIXED_SIZE 8u
_Static_assert (offsetof (PxWireBufferDone, buffer_ids) == DONE_FIXED_SIZE,
    "BUFFER_DONE ids follow an 8-byte fixed part");
#define DONE_MAX_SIZE (DONE_FIXED_SIZE + 8u * PX_WIRE_MAX_DONE)
_Static_assert (sizeof (PxWireBufferDone) == DONE_MAX_SIZE,
    "PxWireBufferDone holds exactly PX_WIRE_MAX_DONE ids");

/* EVENT/QUERY/QUERY_REPLY/MESSAGE on the wire: {kind, result, body_size,
 * reserved} then body_size bytes. PxWireBlob.body is local only. */
#define BLOB_FIXED_SIZE 16u
_Static_assert (offsetof (PxWireBlob, body) == BLOB_FIXED_SIZE,
    "the blob's wire part is the 16 bytes before the body pointer");
#define BLOB_MAX_SIZE (BLOB_FIXED_SIZE + PX_WIRE_MAX_BODY)
_Static_assert (BLOB_MAX_SIZE <= PX_WIRE_MAX_PAYLOAD,
    "the largest blob fits in a payload");

/* px_wire_recv() receives straight into the message: the header, then the
 * payload, then one spare byte (which lands in fds[], overwritten later) so
 * that a message one byte too large is seen instead of fitting exactly. */
#define RECV_CAPACITY (sizeof (PxWireHeader) + PX_WIRE_MAX_PAYLOAD + 1)
_Static_assert (offsetof (PxWireMessage, payload) == sizeof (PxWireHeader),
    "the payload directly follows the header in PxWireMessage");
_Static_assert (sizeof (PxWireMessage) >= RECV_CAPACITY,
    "PxWireMessage has room for the spare byte after the payload");

/* The GStreamer values the STATE messages carry (common/ does not include
 * GStreamer): GstState runs from NULL (1) to PLAYING (4), a GstStateChange
 * is (current << 3) | next, a GstStateChangeReturn is 0 (FAILURE) to 3
 * (NO_PREROLL). */
#define STATE_FIRST 1u
#define STATE_LAST 4u
#define STATE_CHANGE_RETURN_LAST 3u

/* GstBufferFlags use the low 20 bits. */
#define BUFFER_GST_FLAGS 0x000fffffu
#define BUFFER_KNOWN_FLAGS (BUFFER_GST_FLAGS | PX_WIRE_BUFFER_HAS_VIDEO_META)

/* Largest payload each type may announce; fixed types must match it. */
static size_t
max_payload_size (uint32_t type)
{
  switch (type) {
    case PX_WIRE_HELLO:
      return sizeof (PxWireHello);
    case PX_WIRE_ARENA_ADD:
      return sizeof (PxWireArenaAdd);
    case PX_WIRE_ARENA_REMOVE:
      return sizeof (PxWireArenaRemove);
    case PX_WIRE_BUFFER:
      return sizeof (PxWireBuffer);
    case PX_WIRE_BUFFER_DONE:
      return DONE_MAX_SIZE;
    case PX_WIRE_EVENT:
    case PX_WIRE_QUERY:
    case PX_WIRE_QUERY_REPLY:
    case PX_WIRE_MESSAGE:
      return BLOB_MAX_SIZE;
    case PX_WIRE_STATE:
    case PX_WIRE_STATE_DONE:
      return sizeof (PxWireState);
    case PX_WIRE_STREAM:
    case PX_WIRE_STREAM_DONE:
      return sizeof (PxWireStream);
    default:
      /* PING, PONG, SHUTDOWN and anything unknown. */
      return 0;
  }
}

/* The types, by name. A number without one is no type: 0, and 14, which
 * was VIOLATION (retired: a peer that sends it breaks the protocol). */
static const char *const type_names[] = {
  [PX_WIRE_HELLO] = "HELLO",
  [PX_WIRE_ARENA_ADD] = "ARENA_ADD",
  [PX_WIRE_ARENA_REMOVE] = "ARENA_REMOVE",
  [PX_WIRE_BUFFER] = "BUFFER",
  [PX_WIRE_BUFFER_DONE] = "BUFFER_DONE",
  [PX_WIRE_EVENT] = "EVENT",
  [PX_WIRE_QUERY] = "QUERY",
  [PX_WIRE_QUERY_REPLY] = "QUERY_REPLY",
  [PX_WIRE_STATE] = "STATE",
  [PX_WIRE_STATE_DONE] = "STATE_DONE",
  [PX_WIRE_MESSAGE] = "MESSAGE",
  [PX_WIRE_PING] = "PING",
  [PX_WIRE_PONG] = "PONG",
  [PX_WIRE_SHUTDOWN] = "SHUTDOWN",
  [PX_WIRE_STREAM] = "STREAM",
  [PX_WIRE_STREAM_DONE] = "STREAM_DONE",
};

_Static_assert (sizeof type_names / sizeof type_names[0] ==
    PX_WIRE_TYPE_LAST + 1, "every message type has a name");

static bool
type_is_known (uint32_t type)
{
  return type <= PX_WIRE_TYPE_LAST && type_names[type] != NULL;
}

static bool
type_is_blob (uint32_t type)
{
  return type == PX_WIRE_EVENT || type == PX_WIRE_QUERY ||
      type == PX_WIRE_QUERY_REPLY || type == PX_WIRE_MESSAGE;
}

static uint32_t
known_flags (uint32_t type)
{
  switch (type) {
    case PX_WIRE_EVENT:
      return PX_WIRE_EVENT_UPSTREAM | PX_WIRE_EVENT_WANTS_RESULT;
    case PX_WIRE_STREAM_DONE:
      return PX_WIRE_STREAM_FD;
    default:
      return 0;
  }
}

/* ARENA_ADD carries its memfd, a STREAM_DONE flagged PX_WIRE_STREAM_FD
 * its socket; nothing else carries an fd. */
static unsigned
expected_fds (uint32_t type, uint32_t flags)
{
  if (type == PX_WIRE_ARENA_ADD)
    return 1;
  return type == PX_WIRE_STREAM_DONE && (flags & PX_WIRE_STREAM_FD) ? 1 : 0;
}

const char *
px_wire_type_name (uint32_t type)
{
  return type_is_known (type) ? type_names[type] : "unknown";
}

/* The body rules that px_wire_decode_blob() enforces: 1 to
 * PX_WIRE_MAX_BODY bytes, the last one the only NUL. */
static bool
blob_body_is_valid (const char *body, uint32_t body_size)
{
  if (body == NULL || body_size == 0 || body_size > PX_WIRE_MAX_BODY)
    return false;
  return memchr (body, '\0', body_size) == body + body_size - 1;
}

static bool
blob_result_is_valid (uint32_t type, uint32_t result)
{
  /* Only a QUERY_REPLY says whether the query was answered. */
  if (type == PX_WIRE_QUERY_REPLY)
    return result <= 1;
  return result == 0;
}

/* ---- Receiving -------------------------------------------------------- */

int
px_wire_check_header (const PxWireHeader * header, size_t payload_bytes,
    unsigned n_fds)
{
  if (header->magic != PX_WIRE_MAGIC || header->version != PX_WIRE_VERSION)
    return -EPROTO;
  if (!type_is_known (header->type))
    return -EPROTO;
  /* The header must describe exactly what arrived: no trailing bytes that
   * a later reader could mistake for data, no claim beyond the buffer. */
  if (header->payload_size != payload_bytes)
    return -EPROTO;
  if (header->payload_size > max_payload_size (header->type))
    return -EMSGSIZE;
  if ((header->flags & ~known_flags (header->type)) != 0)
    return -EPROTO;
  /* a result is asked for upstream events only, under a request id */
  if (header->type == PX_WIRE_EVENT &&
      (header->flags & PX_WIRE_EVENT_WANTS_RESULT) &&
      (!(header->flags & PX_WIRE_EVENT_UPSTREAM) || header->request_id == 0))
    return -EPROTO;
  if (n_fds != expected_fds (header->type, header->flags))
    return -EPROTO;
  return 0;
}

static void
message_reset_fds (PxWireMessage * msg)
{
  msg->fds[0] = -1;
  msg->n_fds = 0;
}

ssize_t
px_wire_recv (int sock, PxWireMessage * msg, int recv_flags)
{
  int fds[1] = { -1 };
  unsigned n_fds = 0;
  size_t payload_bytes;
  ssize_t got;
  int ret;

  /* At most one fd: px_unix_recv() closes every fd of a message that
   * carries more and fails it with -EMSGSIZE. */
  got = px_unix_recv (sock, msg, RECV_CAPACITY, fds, 1, &n_fds, recv_flags);
  message_reset_fds (msg);
  if (got < 0)
    return got;
  if (got == 0) {
    /* An orderly shutdown (SOCK_SEQPACKET cannot tell it from an empty
     * message, which no valid message is anyway). */
    px_unix_close_fds (fds, n_fds);
    return -ECONNRESET;
  }
  if ((size_t) got < sizeof (PxWireHeader)) {
    px_unix_close_fds (fds, n_fds);
    return -EPROTO;
  }
  payload_bytes = (size_t) got - sizeof (PxWireHeader);
  ret = px_wire_check_header (&msg->header, payload_bytes, n_fds);
  if (ret < 0) {
    px_unix_close_fds (fds, n_fds);
    return ret;
  }
  msg->fds[0] = fds[0];
  msg->n_fds = n_fds;
  return (ssize_t) payload_bytes;
}

void
px_wire_message_clear (PxWireMessage * msg)
{
  /* n_fds may come from a caller or a fuzzer: never index past fds[]. */
  unsigned n = msg->n_fds < 1 ? msg->n_fds : 1;

  px_unix_close_fds (msg->fds, n);
  message_reset_fds (msg);
}

int
px_wire_message_steal_fd (PxWireMessage * msg)
{
  int fd;

  if (msg->n_fds == 0)
    return -1;
  fd = px_steal_fd (&msg->fds[0]);
  msg->n_fds = 0;
  return fd;
}

/* ---- Decoders --------------------------------------------------------- */

/* Every decoder reads a header and a payload: of a received message, or
 * of one being encoded (px_wire_encode() runs the receiver's decoder on
 * what it is about to send). */
typedef struct
{
  PxWireHeader header;
  const uint8_t *payload;
} View;

static View
view_of (const PxWireMessage * msg)
{
  View view = {.header = msg->header,.payload = msg->payload };

  return view;
}

/* The shared first step of the fixed-size decoders: right type, exact
 * size. Then copies the payload out. */
static int
copy_fixed_payload (const View * msg, uint32_t type, void *dest, size_t size)
{
  if (msg->header.type != type || msg->header.payload_size != size)
    return -EPROTO;
  memcpy (dest, msg->payload, size);
  return 0;
}

static int
decode_hello (const View * msg, PxWireHello * out)
{
  PxWireHello hello;

  if (copy_fixed_payload (msg, PX_WIRE_HELLO, &hello, sizeof hello) < 0)
    return -EPROTO;
  if (hello.role != PX_WIRE_ROLE_PRODUCER &&
      hello.role != PX_WIRE_ROLE_CONSUMER)
    return -EPROTO;
  if ((hello.features & ~PX_WIRE_FEATURES_ALL) != 0 || hello.reserved != 0)
    return -EPROTO;
  if (hello.max_arena_size == 0 ||
      hello.max_arena_size > PX_WIRE_MAX_ARENA_SIZE ||
      hello.max_arena_total < hello.max_arena_size ||
      hello.max_arena_total > PX_WIRE_MAX_ARENA_TOTAL)
    return -EPROTO;
  *out = hello;
  return 0;
}

static int
decode_arena_add (const View * msg, PxWireArenaAdd * out)
{
  PxWireArenaAdd add;
  uint64_t page = (uint64_t) sysconf (_SC_PAGESIZE);
  uint64_t total;

  if (copy_fixed_payload (msg, PX_WIRE_ARENA_ADD, &add, sizeof add) < 0)
    return -EPROTO;
  if (add.arena_id == 0 || add.reserved != 0)
    return -EPROTO;
  if (add.slot_count == 0 || add.slot_count > PX_ARENA_MAX_SLOTS)
    return -EPROTO;
  /* Each slot must start on a page so that it can be mapped alone. */
  if (add.slot_stride == 0 || add.slot_stride % page != 0)
    return -EPROTO;
  if (__builtin_mul_overflow (add.slot_stride, (uint64_t) add.slot_count,
          &total) || total != add.size || add.size > PX_ARENA_MAX_SIZE)
    return -EPROTO;
  *out = add;
  return 0;
}

static int
decode_arena_remove (const View * msg, PxWireArenaRemove * out)
{
  PxWireArenaRemove remove;

  if (copy_fixed_payload (msg, PX_WIRE_ARENA_REMOVE, &remove,
          sizeof remove) < 0)
    return -EPROTO;
  if (remove.arena_id == 0)
    return -EPROTO;
  *out = remove;
  return 0;
}

/* Without PX_WIRE_BUFFER_HAS_VIDEO_META every video field is unused, and
 * unused fields are 0 so that they can be given a meaning later. */
static bool
buffer_video_fields_are_zero (const PxWireBuffer * buffer)
{
  if (buffer->video_format != 0 || buffer->video_flags != 0 ||
      buffer->width != 0 || buffer->height != 0 || buffer->n_planes != 0)
    return false;
  for (unsigned i = 0; i < PX_WIRE_MAX_PLANES; i++) {
    if (buffer->plane_offset[i] != 0 || buffer->stride[i] != 0)
      return false;
  }
  return true;
}

/* The GstVideoMeta fields. The format-specific check (do the planes,
 * with their strides and heights, fit in the buffer) needs GstVideoInfo
 * and belongs to the caller; here every plane must at least start inside
 * the buffer. */
static bool
buffer_video_meta_is_valid (const PxWireBuffer * buffer)
{
  if (buffer->n_planes == 0 || buffer->n_planes > PX_WIRE_MAX_PLANES)
    return false;
  if (buffer->width == 0 || buffer->width > PX_WIRE_MAX_VIDEO_DIMENSION ||
      buffer->height == 0 || buffer->height > PX_WIRE_MAX_VIDEO_DIMENSION)
    return false;
  for (unsigned i = 0; i < PX_WIRE_MAX_PLANES; i++) {
    if (i < buffer->n_planes) {
      if (buffer->plane_offset[i] >= buffer->size)
        return false;
    } else if (buffer->plane_offset[i] != 0 || buffer->stride[i] != 0) {
      return false;
    }
  }
  return true;
}

static int
decode_buffer (const View * msg, PxWireBuffer * out)
{
  PxWireBuffer buffer;
  uint64_t end;

  if (copy_fixed_payload (msg, PX_WIRE_BUFFER, &buffer, sizeof buffer) < 0)
    return -EPROTO;
  if (buffer.arena_id == 0 || buffer.reserved != 0 ||
      buffer.slot >= PX_ARENA_MAX_SLOTS)
    return -EPROTO;
  if ((buffer.flags & ~BUFFER_KNOWN_FLAGS) != 0)
    return -EPROTO;
  /* Bounded here against the largest possible arena; the caller checks
   * the real slot with px_arena_check_range(). */
  if (__builtin_add_overflow (buffer.offset, buffer.size, &end) ||
      end > PX_ARENA_MAX_SIZE)
    return -EPROTO;
  if (buffer.flags & PX_WIRE_BUFFER_HAS_VIDEO_META) {
    if (!buffer_video_meta_is_valid (&buffer))
      return -EPROTO;
  } else if (!buffer_video_fields_are_zero (&buffer)) {
    return -EPROTO;
  }
  *out = buffer;
  return 0;
}

static int
decode_buffer_done (const View * msg, PxWireBufferDone * out)
{
  uint32_t fixed[2];
  size_t ids_size;

  if (msg->header.type != PX_WIRE_BUFFER_DONE ||
      msg->header.payload_size < DONE_FIXED_SIZE)
    return -EPROTO;
  memcpy (fixed, msg->payload, sizeof fixed);
  if (fixed[0] == 0 || fixed[0] > PX_WIRE_MAX_DONE || fixed[1] != 0)
    return -EPROTO;
  /* count is bounded, so this cannot overflow. */
  ids_size = (size_t) fixed[0] * sizeof out->buffer_ids[0];
  if (msg->header.payload_size != DONE_FIXED_SIZE + ids_size)
    return -EPROTO;
  out->count = fixed[0];
  out->reserved = 0;
  memcpy (out->buffer_ids, msg->payload + DONE_FIXED_SIZE, ids_size);
  return 0;
}

static int
decode_blob (const View * msg, PxWireBlob * out)
{
  uint32_t fixed[4];
  const char *body;

  if (!type_is_blob (msg->header.type) ||
      msg->header.payload_size < BLOB_FIXED_SIZE ||
      msg->header.payload_size > BLOB_MAX_SIZE)
    return -EPROTO;
  memcpy (fixed, msg->payload, sizeof fixed);
  /* fixed[2] is body_size: compared after the bound so that 16 + body_size
   * cannot wrap around. */
  if (fixed[2] > PX_WIRE_MAX_BODY ||
      msg->header.payload_size != BLOB_FIXED_SIZE + fixed[2])
    return -EPROTO;
  if (fixed[3] != 0 || !blob_result_is_valid (msg->header.type, fixed[1]))
    return -EPROTO;
  body = (const char *) msg->payload + BLOB_FIXED_SIZE;
  if (!blob_body_is_valid (body, fixed[2]))
    return -EPROTO;
  out->kind = fixed[0];
  out->result = fixed[1];
  out->body_size = fixed[2];
  out->reserved = 0;
  out->body = body;
  return 0;
}

static bool
state_is_valid (uint32_t state)
{
  return state >= STATE_FIRST && state <= STATE_LAST;
}

/* A GstStateChange moves one step (NULL_TO_READY, ..., READY_TO_NULL) or
 * stays (NULL_TO_NULL, ...); nothing else is a GstStateChange value. */
static bool
transition_is_valid (uint32_t transition)
{
  uint32_t current = transition >> 3, next = transition & 0x7;

  if (transition > 0x3f || !state_is_valid (current) || !state_is_valid (next))
    return false;
  return current + 1 >= next && next + 1 >= current;
}

static int
decode_state (const View * msg, PxWireState * out)
{
  PxWireState state;
  uint32_t type = msg->header.type;

  if (type != PX_WIRE_STATE && type != PX_WIRE_STATE_DONE)
    return -EPROTO;
  if (copy_fixed_payload (msg, type, &state, sizeof state) < 0)
    return -EPROTO;
  if (!transition_is_valid (state.transition))
    return -EPROTO;
  /* A request carries no result; an answer carries a GstStateChangeReturn. */
  if (type == PX_WIRE_STATE ? state.result != 0 :
      state.result > STATE_CHANGE_RETURN_LAST)
    return -EPROTO;
  *out = state;
  return 0;
}

/* A STREAM asks (result 0); a STREAM_DONE answers, with the socket of a
 * granted OPEN and only then. */
static int
decode_stream (const View * msg, PxWireStream * out)
{
  PxWireStream stream;
  uint32_t type = msg->header.type;
  bool with_fd = (msg->header.flags & PX_WIRE_STREAM_FD) != 0;

  if (type != PX_WIRE_STREAM && type != PX_WIRE_STREAM_DONE)
    return -EPROTO;
  if (copy_fixed_payload (msg, type, &stream, sizeof stream) < 0)
    return -EPROTO;
  if (stream.reserved != 0)
    return -EPROTO;
  switch (stream.op) {
    case PX_WIRE_STREAM_OPEN:
    case PX_WIRE_STREAM_CLOSE:
      if (stream.stream_id == 0 || stream.stream_id > PX_WIRE_MAX_STREAM_ID)
        return -EPROTO;
      break;
    case PX_WIRE_STREAM_NO_MORE:
      if (stream.stream_id != 0)
        return -EPROTO;
      break;
    default:
      return -EPROTO;
  }
  if (type == PX_WIRE_STREAM ? stream.result != 0 : stream.result > 1)
    return -EPROTO;
  if (type == PX_WIRE_STREAM_DONE && with_fd !=
      (stream.op == PX_WIRE_STREAM_OPEN && stream.result == 1))
    return -EPROTO;
  *out = stream;
  return 0;
}

static int
decode_empty (const View * msg)
{
  uint32_t type = msg->header.type;

  if (type != PX_WIRE_PING && type != PX_WIRE_PONG && type != PX_WIRE_SHUTDOWN)
    return -EPROTO;
  return msg->header.payload_size == 0 ? 0 : -EPROTO;
}

/* ---- The public decoders, on received messages ------------------------ */

int
px_wire_decode_hello (const PxWireMessage * msg, PxWireHello * out)
{
  View view = view_of (msg);

  return decode_hello (&view, out);
}

int
px_wire_decode_arena_add (const PxWireMessage * msg, PxWireArenaAdd * out)
{
  View view = view_of (msg);

  return decode_arena_add (&view, out);
}

int
px_wire_decode_arena_remove (const PxWireMessage * msg, PxWireArenaRemove * out)
{
  View view = view_of (msg);

  return decode_arena_remove (&view, out);
}

int
px_wire_decode_buffer (const PxWireMessage * msg, PxWireBuffer * out)
{
  View view = view_of (msg);

  return decode_buffer (&view, out);
}

int
px_wire_decode_buffer_done (const PxWireMessage * msg, PxWireBufferDone * out)
{
  View view = view_of (msg);

  return decode_buffer_done (&view, out);
}

int
px_wire_decode_blob (const PxWireMessage * msg, PxWireBlob * out)
{
  View view = view_of (msg);

  return decode_blob (&view, out);
}

int
px_wire_decode_state (const PxWireMessage * msg, PxWireState * out)
{
  View view = view_of (msg);

  return decode_state (&view, out);
}

int
px_wire_decode_stream (const PxWireMessage * msg, PxWireStream * out)
{
  View view = view_of (msg);

  return decode_stream (&view, out);
}

int
px_wire_decode_empty (const PxWireMessage * msg)
{
  View view = view_of (msg);

  return decode_empty (&view);
}

/* ---- Encoding and sending ---------------------------------------------- */

/* Runs the receiver's checks on a message about to be sent: the header
 * check of px_wire_recv() and the decoder of its type. */
static int
check_encoded (const uint8_t * data, size_t size, unsigned n_fds)
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
  View view;
  int ret;

  memcpy (&view.header, data, sizeof view.header);
  view.payload = data + sizeof view.header;
  ret = px_wire_check_header (&view.header, size - sizeof view.header, n_fds);
  if (ret < 0)
    return ret == -EMSGSIZE ? ret : -EINVAL;
  switch (view.header.type) {
    case PX_WIRE_HELLO:
      ret = decode_hello (&view, &out.hello);
      break;
    case PX_WIRE_ARENA_ADD:
      ret = decode_arena_add (&view, &out.add);
      break;
    case PX_WIRE_ARENA_REMOVE:
      ret = decode_arena_remove (&view, &out.remove);
      break;
    case PX_WIRE_BUFFER:
      ret = decode_buffer (&view, &out.buffer);
      break;
    case PX_WIRE_BUFFER_DONE:
      ret = decode_buffer_done (&view, &out.done);
      break;
    case PX_WIRE_STATE:
    case PX_WIRE_STATE_DONE:
      ret = decode_state (&view, &out.state);
      break;
    case PX_WIRE_STREAM:
    case PX_WIRE_STREAM_DONE:
      ret = decode_stream (&view, &out.stream);
      break;
    case PX_WIRE_PING:
    case PX_WIRE_PONG:
    case PX_WIRE_SHUTDOWN:
      ret = decode_empty (&view);
      break;
    default:
      ret = decode_blob (&view, &out.blob);
      break;
  }
  /* What the peer would refuse is a bug on this side. */
  return ret < 0 ? -EINVAL : 0;
}

/* An empty message: what px_wire_encoded_clear() may always be given. */
static void
encoded_reset (PxWireEncoded * out)
{
  out->data = NULL;
  out->size = 0;
  out->fd = -1;
}

int
px_wire_encode (PxWireEncoded * out, PxWireType type, uint32_t flags,
    uint64_t request_id, const void *head, size_t head_size,
    const void *tail, size_t tail_size, int fd)
{
  size_t payload_size = head_size + tail_size;
  PxWireHeader header = {
    .magic = PX_WIRE_MAGIC,.version = PX_WIRE_VERSION,.type = type,
    .payload_size = (uint32_t) payload_size,.flags = flags,
    .request_id = request_id,
  };
  uint8_t *data = out->small;
  int ret;

  encoded_reset (out);
  /* Sizes first: a tail beyond the limit must not reach the additions. */
  if (head_size > PX_WIRE_MAX_PAYLOAD || tail_size > PX_WIRE_MAX_PAYLOAD ||
      payload_size > PX_WIRE_MAX_PAYLOAD)
    return -EMSGSIZE;
  if ((head_size > 0 && head == NULL) || (tail_size > 0 && tail == NULL) ||
      !type_is_known (type) || (fd >= 0) != (expected_fds (type, flags) == 1))
    return -EINVAL;
  if (payload_size > max_payload_size (type))
    return -EMSGSIZE;
  if (sizeof header + payload_size > sizeof out->small) {
    data = malloc (sizeof header + payload_size);
    if (data == NULL)
      return -ENOMEM;
  }
  memcpy (data, &header, sizeof header);
  if (head_size > 0)
    memcpy (data + sizeof header, head, head_size);
  if (tail_size > 0)
    memcpy (data + sizeof header + head_size, tail, tail_size);
  ret = check_encoded (data, sizeof header + payload_size, fd >= 0 ? 1 : 0);
  if (ret < 0) {
    if (data != out->small)
      free (data);
    return ret;
  }
  out->data = data;
  out->size = sizeof header + payload_size;
  out->fd = fd;
  return 0;
}

void
px_wire_encoded_clear (PxWireEncoded * msg)
{
  if (msg->data != NULL && msg->data != msg->small)
    free (msg->data);
  msg->data = NULL;
  msg->size = 0;
  msg->fd = -1;
}

uint32_t
px_wire_encoded_type (const PxWireEncoded * msg)
{
  PxWireHeader header;

  if (msg->data == NULL)
    return 0;
  memcpy (&header, msg->data, sizeof header);
  return header.type;
}

int
px_wire_send_encoded (int sock, const PxWireEncoded * msg, int send_flags)
{
  if (msg->data == NULL)
    return -EINVAL;
  return px_unix_send (sock, msg->data, msg->size, msg->fd >= 0 ? &msg->fd :
      NULL, msg->fd >= 0 ? 1 : 0, send_flags);
}

int
px_wire_encode_hello (PxWireEncoded * out, const PxWireHello * hello)
{
  return px_wire_encode (out, PX_WIRE_HELLO, 0, 0, hello, sizeof *hello,
      NULL, 0, -1);
}

int
px_wire_encode_arena_add (PxWireEncoded * out, const PxWireArenaAdd * add,
    int fd)
{
  encoded_reset (out);
  if (fd < 0)
    return -EINVAL;
  return px_wire_encode (out, PX_WIRE_ARENA_ADD, 0, 0, add, sizeof *add,
      NULL, 0, fd);
}

int
px_wire_encode_arena_remove (PxWireEncoded * out,
    const PxWireArenaRemove * remove)
{
  return px_wire_encode (out, PX_WIRE_ARENA_REMOVE, 0, 0, remove,
      sizeof *remove, NULL, 0, -1);
}

int
px_wire_encode_buffer (PxWireEncoded * out, const PxWireBuffer * buffer)
{
  return px_wire_encode (out, PX_WIRE_BUFFER, 0, 0, buffer, sizeof *buffer,
      NULL, 0, -1);
}

int
px_wire_encode_buffer_done (PxWireEncoded * out, const uint64_t * ids,
    uint32_t count)
{
  const uint32_t fixed[2] = { count, 0 };

  encoded_reset (out);
  if (count == 0 || count > PX_WIRE_MAX_DONE || ids == NULL)
    return -EINVAL;
  return px_wire_encode (out, PX_WIRE_BUFFER_DONE, 0, 0, fixed, sizeof fixed,
      ids, (size_t) count * sizeof ids[0], -1);
}

int
px_wire_encode_blob (PxWireEncoded * out, PxWireType type, uint32_t flags,
    uint64_t request_id, const PxWireBlob * blob)
{
  const uint32_t fixed[4] = { blob->kind, blob->result, blob->body_size,
    blob->reserved
  };

  encoded_reset (out);
  if (!type_is_blob (type) || blob->body == NULL ||
      blob->body_size > PX_WIRE_MAX_BODY)
    return -EINVAL;
  return px_wire_encode (out, type, flags, request_id, fixed, sizeof fixed,
      blob->body, blob->body_size, -1);
}

int
px_wire_encode_state (PxWireEncoded * out, PxWireType type,
    uint64_t request_id, const PxWireState * state)
{
  encoded_reset (out);
  if (type != PX_WIRE_STATE && type != PX_WIRE_STATE_DONE)
    return -EINVAL;
  return px_wire_encode (out, type, 0, request_id, state, sizeof *state,
      NULL, 0, -1);
}

int
px_wire_encode_stream (PxWireEncoded * out, PxWireType type,
    uint64_t request_id, const PxWireStream * stream, int fd)
{
  encoded_reset (out);
  if (type != PX_WIRE_STREAM && type != PX_WIRE_STREAM_DONE)
    return -EINVAL;
  return px_wire_encode (out, type, fd >= 0 ? PX_WIRE_STREAM_FD : 0,
      request_id, stream, sizeof *stream, NULL, 0, fd);
}

int
px_wire_encode_empty (PxWireEncoded * out, PxWireType type, uint64_t request_id)
{
  encoded_reset (out);
  if (type != PX_WIRE_PING && type != PX_WIRE_PONG && type != PX_WIRE_SHUTDOWN)
    return -EINVAL;
  return px_wire_encode (out, type, 0, request_id, NULL, 0, NULL, 0, -1);
}

/* Encodes with @encode's result in @ret, sends, clears. */
static int
send_and_clear (int sock, PxWireEncoded * msg, int ret, int send_flags)
{
  if (ret == 0)
    ret = px_wire_send_encoded (sock, msg, send_flags);
  px_wire_encoded_clear (msg);
  return ret;
}

int
px_wire_send (int sock, PxWireType type, uint32_t flags, uint64_t request_id,
    const void *payload, size_t payload_size, const int *fds, unsigned n_fds,
    int send_flags)
{
  PxWireEncoded msg;

  encoded_reset (&msg);
  if (n_fds > 1 || (n_fds == 1 && (fds == NULL || fds[0] < 0)))
    return -EINVAL;
  return send_and_clear (sock, &msg, px_wire_encode (&msg, type, flags,
          request_id, payload, payload_size, NULL, 0, n_fds ? fds[0] : -1),
      send_flags);
}

int
px_wire_send_hello (int sock, const PxWireHello * hello)
{
  PxWireEncoded msg;

  return send_and_clear (sock, &msg, px_wire_encode_hello (&msg, hello), 0);
}

int
px_wire_send_arena_add (int sock, const PxWireArenaAdd * add, int fd)
{
  PxWireEncoded msg;

  return send_and_clear (sock, &msg, px_wire_encode_arena_add (&msg, add,
          fd), 0);
}

int
px_wire_send_buffer (int sock, const PxWireBuffer * buffer, int send_flags)
{
  PxWireEncoded msg;

  return send_and_clear (sock, &msg, px_wire_encode_buffer (&msg, buffer),
      send_flags);
}

int
px_wire_send_buffer_done (int sock, const uint64_t * ids, uint32_t count)
{
  PxWireEncoded msg;

  return send_and_clear (sock, &msg, px_wire_encode_buffer_done (&msg, ids,
          count), 0);
}

int
px_wire_send_blob (int sock, PxWireType type, uint32_t flags,
    uint64_t request_id, const PxWireBlob * blob)
{
  PxWireEncoded msg;

  return send_and_clear (sock, &msg, px_wire_encode_blob (&msg, type, flags,
          request_id, blob), 0);
}
