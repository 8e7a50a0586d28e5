/* Parallax — libFuzzer target for the wire protocol (common/px-wire).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Input layout: one control byte, then the bytes of one message as a peer
 * would send them (header + payload). Bit 0 of the control byte says
 * whether the message comes with an fd. The control byte is separate from
 * the message because the message's own first byte is part of the magic:
 * taken from there, it would be the same for every input that gets past
 * the magic check, and ARENA_ADD or a granted STREAM_DONE could never be
 * seen with its fd.
 *
 * Each input goes through two paths:
 * - in memory: the bytes are copied into a PxWireMessage (fds[0] = -1, no
 *   real fd), checked with px_wire_check_header() and, if accepted, decoded
 *   by the decoder of its type; every other decoder runs on it too, since
 *   a caller with a bug might do exactly that;
 * - over a socket: the bytes are sent on a SOCK_SEQPACKET pair, with a real
 *   fd when bit 0 is set, and received with px_wire_recv(). Afterwards the
 *   lowest free fd number must be the same as before: a leaked fd shows.
 *
 * Whatever a decoder accepts must satisfy the rules it promises; a
 * violation aborts, which libFuzzer reports as a crash.
 */
#include "px-arena.h"
#include "px-wire.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define FUZZ_ASSERT(cond)                                             \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf (stderr, "%s:%d: broken rule: %s\n", __FILE__,          \
          __LINE__, #cond);                                           \
      abort ();                                                       \
    }                                                                 \
  } while (0)

/* 64 KiB each: static rather than on the stack. */
static PxWireMessage memory_msg;
static PxWireMessage socket_msg;

static void
check_blob (const PxWireMessage * msg, const PxWireBlob * blob)
{
  const char *end = (const char *) msg->payload + PX_WIRE_MAX_PAYLOAD;

  FUZZ_ASSERT (blob->body_size >= 1 && blob->body_size <= PX_WIRE_MAX_BODY);
  FUZZ_ASSERT (blob->body + blob->body_size <= end);
  FUZZ_ASSERT (strlen (blob->body) == blob->body_size - 1);
  FUZZ_ASSERT (msg->header.payload_size == 16 + blob->body_size);
  FUZZ_ASSERT (blob->result == 0 ||
      (blob->result == 1 && msg->header.type == PX_WIRE_QUERY_REPLY));
}

static void
check_buffer (const PxWireBuffer * buffer)
{
  FUZZ_ASSERT (buffer->arena_id != 0);
  FUZZ_ASSERT (buffer->offset <= PX_ARENA_MAX_SIZE &&
      buffer->size <= PX_ARENA_MAX_SIZE - buffer->offset);
  if (buffer->flags & PX_WIRE_BUFFER_HAS_VIDEO_META) {
    FUZZ_ASSERT (buffer->n_planes >= 1 &&
        buffer->n_planes <= PX_WIRE_MAX_PLANES);
    for (unsigned i = 0; i < buffer->n_planes; i++)
      FUZZ_ASSERT (buffer->plane_offset[i] < buffer->size);
  }
}

static void
check_arena_add (const PxWireArenaAdd * add)
{
  FUZZ_ASSERT (add->arena_id != 0);
  FUZZ_ASSERT (add->slot_count >= 1 && add->slot_count <= PX_ARENA_MAX_SLOTS);
  FUZZ_ASSERT (add->size <= PX_ARENA_MAX_SIZE);
  FUZZ_ASSERT (add->slot_stride != 0 &&
      add->size / add->slot_count == add->slot_stride &&
      add->size % add->slot_count == 0);
}

static void
check_buffer_done (const PxWireMessage * msg, const PxWireBufferDone * done)
{
  FUZZ_ASSERT (done->count >= 1 && done->count <= PX_WIRE_MAX_DONE);
  FUZZ_ASSERT (msg->header.payload_size == 8 + 8 * done->count);
}

static void
check_stream (const PxWireMessage * msg, const PxWireStream * stream)
{
  uint32_t type = msg->header.type;
  bool with_fd = (msg->header.flags & PX_WIRE_STREAM_FD) != 0;

  FUZZ_ASSERT (type == PX_WIRE_STREAM || type == PX_WIRE_STREAM_DONE);
  FUZZ_ASSERT (stream->reserved == 0);
  if (stream->op == PX_WIRE_STREAM_NO_MORE)
    FUZZ_ASSERT (stream->stream_id == 0);
  else
    FUZZ_ASSERT ((stream->op == PX_WIRE_STREAM_OPEN ||
            stream->op == PX_WIRE_STREAM_CLOSE) && stream->stream_id >= 1 &&
        stream->stream_id <= PX_WIRE_MAX_STREAM_ID);
  if (type == PX_WIRE_STREAM)
    FUZZ_ASSERT (stream->result == 0);
  else
    FUZZ_ASSERT (stream->result <= 1 && with_fd ==
        (stream->op == PX_WIRE_STREAM_OPEN && stream->result == 1));
}

/* Runs every decoder on @msg; each one may accept only its own types, and
 * what it accepts must follow its rules. */
static void
decode_all (const PxWireMessage * msg)
{
  uint32_t type = msg->header.type;
  PxWireHello hello;
  PxWireArenaAdd add;
  PxWireArenaRemove remove;
  PxWireBuffer buffer;
  PxWireBufferDone done;
  PxWireBlob blob;
  PxWireState state;
  PxWireStream stream;

  if (px_wire_decode_hello (msg, &hello) == 0)
    FUZZ_ASSERT (type == PX_WIRE_HELLO && hello.reserved == 0 &&
        hello.max_arena_size >= 1 &&
        hello.max_arena_size <= PX_WIRE_MAX_ARENA_SIZE &&
        hello.max_arena_total >= hello.max_arena_size &&
        hello.max_arena_total <= PX_WIRE_MAX_ARENA_TOTAL);
  if (px_wire_decode_arena_add (msg, &add) == 0) {
    FUZZ_ASSERT (type == PX_WIRE_ARENA_ADD);
    check_arena_add (&add);
  }
  if (px_wire_decode_arena_remove (msg, &remove) == 0)
    FUZZ_ASSERT (type == PX_WIRE_ARENA_REMOVE && remove.arena_id != 0);
  if (px_wire_decode_buffer (msg, &buffer) == 0) {
    FUZZ_ASSERT (type == PX_WIRE_BUFFER);
    check_buffer (&buffer);
  }
  if (px_wire_decode_buffer_done (msg, &done) == 0) {
    FUZZ_ASSERT (type == PX_WIRE_BUFFER_DONE);
    check_buffer_done (msg, &done);
  }
  if (px_wire_decode_blob (msg, &blob) == 0)
    check_blob (msg, &blob);
  if (px_wire_decode_state (msg, &state) == 0)
    FUZZ_ASSERT (type == PX_WIRE_STATE || type == PX_WIRE_STATE_DONE);
  if (px_wire_decode_stream (msg, &stream) == 0)
    check_stream (msg, &stream);
  if (px_wire_decode_empty (msg) == 0)
    FUZZ_ASSERT (msg->header.payload_size == 0);
}

static void
fuzz_in_memory (const uint8_t * data, size_t size, unsigned n_fds)
{
  size_t payload_bytes, copied;

  if (size < sizeof (PxWireHeader))
    return;
  payload_bytes = size - sizeof (PxWireHeader);
  copied = payload_bytes < PX_WIRE_MAX_PAYLOAD ?
      payload_bytes : PX_WIRE_MAX_PAYLOAD;
  memset (&memory_msg, 0, sizeof memory_msg);
  memcpy (&memory_msg.header, data, sizeof (PxWireHeader));
  memcpy (memory_msg.payload, data + sizeof (PxWireHeader), copied);
  memory_msg.fds[0] = -1;
  memory_msg.n_fds = n_fds;

  if (px_wire_check_header (&memory_msg.header, payload_bytes, n_fds) == 0) {
    FUZZ_ASSERT (payload_bytes <= PX_WIRE_MAX_PAYLOAD);
    FUZZ_ASSERT (n_fds == (memory_msg.header.type == PX_WIRE_ARENA_ADD ||
            (memory_msg.header.type == PX_WIRE_STREAM_DONE &&
                (memory_msg.header.flags & PX_WIRE_STREAM_FD))));
  }
  decode_all (&memory_msg);
  px_wire_message_clear (&memory_msg);
  FUZZ_ASSERT (memory_msg.n_fds == 0);
}

/* The lowest fd number free right now. */
static int
lowest_free_fd (int any_open_fd)
{
  int fd = fcntl (any_open_fd, F_DUPFD_CLOEXEC, 0);

  FUZZ_ASSERT (fd >= 0);
  close (fd);
  return fd;
}

static void
fuzz_over_socket (const uint8_t * data, size_t size, unsigned n_fds)
{
  static int sv[2] = { -1, -1 };
  static int spare_fd = -1;
  int free_before, ret;

  if (sv[0] < 0) {
    FUZZ_ASSERT (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
            sv) == 0);
    spare_fd = eventfd (0, EFD_CLOEXEC);
    FUZZ_ASSERT (spare_fd >= 0);
  }
  free_before = lowest_free_fd (sv[0]);

  {
    struct iovec iov = {.iov_base = (void *) data,.iov_len = size };
    union
    {
      char buf[CMSG_SPACE (sizeof (int))];
      struct cmsghdr align;
    } control;
    struct msghdr hdr = {.msg_iov = &iov,.msg_iovlen = 1 };

    if (n_fds) {
      struct cmsghdr *cmsg;

      memset (&control, 0, sizeof control);
      hdr.msg_control = control.buf;
      hdr.msg_controllen = sizeof control.buf;
      cmsg = CMSG_FIRSTHDR (&hdr);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (cmsg), &spare_fd, sizeof (int));
    }
    if (sendmsg (sv[0], &hdr, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
      return;                   /* larger than the socket buffer */
  }

  ret = (int) px_wire_recv (sv[1], &socket_msg, MSG_DONTWAIT);
  if (ret >= 0)
    decode_all (&socket_msg);
  else
    FUZZ_ASSERT (socket_msg.n_fds == 0);
  px_wire_message_clear (&socket_msg);
  FUZZ_ASSERT (lowest_free_fd (sv[0]) == free_before);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  unsigned n_fds;

  if (size < 1)
    return 0;
  n_fds = data[0] % 2;
  fuzz_in_memory (data + 1, size - 1, n_fds);
  fuzz_over_socket (data + 1, size - 1, n_fds);
  return 0;
}
