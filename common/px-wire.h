/* Parallax — the wire protocol between ipcsink, ipcsrc and the worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Transport: AF_UNIX SOCK_SEQPACKET, one protocol message per socket
 * message, file descriptors attached with SCM_RIGHTS. docs/protocol.md is
 * the reference; this header is its source of truth.
 *
 * Every message is a PxWireHeader followed by header.payload_size bytes of
 * payload. Fixed-size payloads are plain structs whose size is checked at
 * compile time; variable payloads (BUFFER_DONE, and the opaque bodies of
 * EVENT, QUERY, QUERY_REPLY, MESSAGE) have a fixed part and a bounded tail.
 * All integers are little-endian (the host order; both ends run on the same
 * machine, and a big-endian build refuses to compile).
 *
 * The peer is untrusted. px_wire_recv() checks the header (magic, version,
 * known type, payload size against the bytes received and the type's limits,
 * number of fds the type carries) and closes every fd of a message it
 * refuses. Each px_wire_decode_*() then checks one payload's size and the
 * ranges of its fields before anything is used. Semantic checks that need
 * local state (does this arena id exist, does the slot range fit the arena)
 * belong to the caller; px_arena_check_range() does the latter.
 *
 * Errors are -errno: -EPROTO for a malformed message, -EMSGSIZE for one that
 * exceeds a limit, plus the errors of px_unix_send()/px_unix_recv().
 */
#ifndef PX_WIRE_H
#define PX_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C"
{
#endif

#define PX_WIRE_MAGIC 0x31575850u       /* "PXW1" */
/* 2: HELLO announces arena limits (32 bytes). 3: STREAM and STREAM_DONE,
 * one connection per stream of a worker's sometimes pads. */
#define PX_WIRE_VERSION 3u

/* Limits, on both sides. */
#define PX_WIRE_MAX_PAYLOAD (64u * 1024u)
#define PX_WIRE_MAX_DONE 64u    /* buffer ids per BUFFER_DONE */
#define PX_WIRE_MAX_PLANES 4u   /* = GST_VIDEO_MAX_PLANES */
#define PX_WIRE_MAX_BODY (PX_WIRE_MAX_PAYLOAD - 64u)
#define PX_WIRE_MAX_VIDEO_DIMENSION 65536u      /* BUFFER width and height */
#define PX_WIRE_MAX_STREAMS 16u /* streams a worker has open at once */
#define PX_WIRE_MAX_STREAM_ID 0xffffu   /* STREAM stream_id */

  typedef enum
  {
    PX_WIRE_HELLO = 1,
    PX_WIRE_ARENA_ADD = 2,      /* + 1 fd */
    PX_WIRE_ARENA_REMOVE = 3,
    PX_WIRE_BUFFER = 4,
    PX_WIRE_BUFFER_DONE = 5,
    PX_WIRE_EVENT = 6,
    PX_WIRE_QUERY = 7,
    PX_WIRE_QUERY_REPLY = 8,
    PX_WIRE_STATE = 9,
    PX_WIRE_STATE_DONE = 10,
    PX_WIRE_MESSAGE = 11,
    PX_WIRE_PING = 12,
    PX_WIRE_PONG = 13,
    /* 14 was VIOLATION, retired: a peer that sends it breaks the protocol
     * (an unknown type). Violations come from the kernel, through the
     * seccomp listener. */
    PX_WIRE_SHUTDOWN = 15,
    PX_WIRE_STREAM = 16,        /* worker -> host, a request */
    PX_WIRE_STREAM_DONE = 17,   /* host -> worker: + 1 fd with STREAM_FD */
    PX_WIRE_TYPE_LAST = PX_WIRE_STREAM_DONE,
  } PxWireType;

  typedef struct
  {
    uint32_t magic;
    uint16_t version;
    uint16_t type;              /* PxWireType */
    uint32_t payload_size;
    uint32_t flags;             /* per type; unknown bits must be 0 */
    uint64_t request_id;        /* QUERY/QUERY_REPLY, PING/PONG, STATE/..._DONE,
                                 * STREAM/STREAM_DONE */
  } PxWireHeader;

/* HELLO: first message each way. */
  typedef enum
  {
    PX_WIRE_ROLE_PRODUCER = 1,  /* ipcsink */
    PX_WIRE_ROLE_CONSUMER = 2,  /* ipcsrc */
  } PxWireRole;

/* HELLO.features bits. */
#define PX_WIRE_FEATURE_UPSTREAM 0x1u   /* one peer: events/queries go both ways */
#define PX_WIRE_FEATURES_ALL 0x1u

/* The most any HELLO may announce of arenas (see PxWireHello): 64 of the
 * largest size. */
#define PX_WIRE_MAX_ARENAS 64u  /* = PX_ARENA_TABLE_MAX */
#define PX_WIRE_MAX_ARENA_SIZE ((uint64_t) 1 << 40)     /* = PX_ARENA_MAX_SIZE */
#define PX_WIRE_MAX_ARENA_TOTAL ((uint64_t) PX_WIRE_MAX_ARENAS * \
    PX_WIRE_MAX_ARENA_SIZE)

/* What ipcsink announces and ipcsrc accepts: an arena of 1 GiB holds 7
 * frames of 8K RGBA, and 4 GiB of arenas live at once is 4 such pools. */
#define PX_WIRE_DEFAULT_ARENA_SIZE ((uint64_t) 1 << 30)
#define PX_WIRE_DEFAULT_ARENA_TOTAL ((uint64_t) 4 << 30)

  typedef struct
  {
    uint32_t role;              /* PxWireRole */
    uint32_t features;          /* PX_WIRE_FEATURE_* */
    uint32_t max_in_flight;     /* producer: buffers it lets a consumer hold */
    uint32_t reserved;          /* 0 */
    /* Arena bounds, 1 .. PX_WIRE_MAX_ARENA_SIZE and max_arena_size ..
     * PX_WIRE_MAX_ARENA_TOTAL. A producer: the largest arena its stream
     * will announce, and the most bytes of arenas live at once on this
     * connection; the consumer refuses any ARENA_ADD beyond either. A
     * consumer: the most it accepts; a producer that needs more is refused
     * (by either side) at HELLO. So a peer can make the receiver map only
     * what the two agreed on, not 64 sparse memfds of a TiB each. */
    uint64_t max_arena_size;
    uint64_t max_arena_total;
  } PxWireHello;

/* ARENA_ADD: announces an arena; its memfd rides along. */
  typedef struct
  {
    uint64_t arena_id;          /* != 0 */
    uint64_t size;              /* == slot_stride * slot_count */
    uint64_t slot_stride;       /* page multiple */
    uint32_t slot_count;        /* 1 .. PX_ARENA_MAX_SLOTS */
    uint32_t reserved;          /* 0 */
  } PxWireArenaAdd;

  typedef struct
  {
    uint64_t arena_id;
  } PxWireArenaRemove;

/* PxWireBuffer.flags bits beyond the GstBufferFlags (which use the low 20
 * bits) that the receiver must honour. */
#define PX_WIRE_BUFFER_HAS_VIDEO_META 0x80000000u

/* BUFFER: one buffer whose data is [offset, offset + size) of a slot. */
  typedef struct
  {
    uint64_t buffer_id;         /* producer's id, echoed in BUFFER_DONE */
    uint64_t arena_id;
    uint32_t slot;
    uint32_t flags;             /* GstBufferFlags | PX_WIRE_BUFFER_* */
    uint64_t offset;            /* inside the slot */
    uint64_t size;
    uint64_t pts, dts, duration;        /* GstClockTime, UINT64_MAX = none */
    uint64_t offset_default, offset_end;        /* GST_BUFFER_OFFSET(_END) */
    /* Producer's base time on CLOCK_MONOTONIC (ns), UINT64_MAX when it has
     * none: lets the consumer keep running times in sync although the two
     * pipelines started at different moments. */
    uint64_t base_time;
    /* GstVideoMeta, valid with PX_WIRE_BUFFER_HAS_VIDEO_META */
    uint32_t video_format;      /* GstVideoFormat */
    uint32_t video_flags;       /* GstVideoFrameFlags */
    uint32_t width, height;
    uint32_t n_planes;          /* 1 .. PX_WIRE_MAX_PLANES */
    uint32_t reserved;          /* 0 */
    uint64_t plane_offset[PX_WIRE_MAX_PLANES];  /* from the buffer's start */
    int32_t stride[PX_WIRE_MAX_PLANES];
  } PxWireBuffer;

/* BUFFER_DONE: the consumer no longer references these buffers. */
  typedef struct
  {
    uint32_t count;             /* 1 .. PX_WIRE_MAX_DONE */
    uint32_t reserved;          /* 0 */
    uint64_t buffer_ids[PX_WIRE_MAX_DONE];      /* only count are sent */
  } PxWireBufferDone;

/* EVENT, QUERY, QUERY_REPLY, MESSAGE: a fixed part plus an opaque body (a
 * serialized GstStructure, NUL-terminated text). The wire layer checks the
 * sizes and that the body is NUL-terminated with no NUL before the end. */
#define PX_WIRE_EVENT_UPSTREAM 0x1u     /* EVENT flags: travels upstream */
/* EVENT flags, with UPSTREAM: the sender waits for the event's result, a
 * QUERY_REPLY with the same request_id (result 1 if it was handled). */
#define PX_WIRE_EVENT_WANTS_RESULT 0x2u

  typedef struct
  {
    uint32_t kind;              /* GstEventType / GstQueryType / GstMessageType */
    uint32_t result;            /* QUERY_REPLY: 0 = not answered, 1 = answered */
    uint32_t body_size;         /* including the terminating NUL; >= 1 */
    uint32_t reserved;          /* 0 */
    const char *body;           /* decode: points into the message */
  } PxWireBlob;

/* STATE: ask the peer to perform a GstStateChange; STATE_DONE answers. */
  typedef struct
  {
    uint32_t transition;        /* GstStateChange */
    uint32_t result;            /* STATE_DONE: GstStateChangeReturn */
  } PxWireState;

/* STREAM: a worker whose description leaves sometimes pads unlinked (a
 * demuxer, decodebin) asks the host, on the control connection, for one
 * data connection per pad. STREAM_DONE answers with the request's
 * request_id; it carries the worker's end of a new SOCK_SEQPACKET pair,
 * flagged PX_WIRE_STREAM_FD, when it grants an OPEN. */
  typedef enum
  {
    PX_WIRE_STREAM_OPEN = 1,    /* a new src pad: a connection for it */
    PX_WIRE_STREAM_CLOSE = 2,   /* the pad is gone; its connection closes
                                 * once the host answered */
    PX_WIRE_STREAM_NO_MORE = 3, /* no-more-pads (stream_id 0) */
  } PxWireStreamOp;

#define PX_WIRE_STREAM_FD 0x1u  /* STREAM_DONE flags: an fd rides along */

  typedef struct
  {
    uint32_t op;                /* PxWireStreamOp */
    uint32_t stream_id;         /* 1 .. PX_WIRE_MAX_STREAM_ID; NO_MORE: 0 */
    uint32_t result;            /* STREAM: 0. STREAM_DONE: 1 done, 0 refused */
    uint32_t reserved;          /* 0 */
  } PxWireStream;

/* A received message. The payload buffer is large enough for any valid
 * message; fds are owned by the message until taken. */
  typedef struct
  {
    PxWireHeader header;
    uint8_t payload[PX_WIRE_MAX_PAYLOAD];
    int fds[1];
    unsigned n_fds;
  } PxWireMessage;

/* An encoded message, ready to send (several times, if a send must be
 * retried). Only the px_wire_encode*() functions make one, and each checks
 * the message against exactly the rules its receiver applies
 * (px_wire_check_header() and the decoder of its type), so that a message
 * this side would send but the peer would refuse is a local -EINVAL.
 * Release with px_wire_encoded_clear(). */
#define PX_WIRE_ENCODED_SMALL 1024u     /* fits every fixed-size message */
  typedef struct
  {
    uint8_t *data;              /* header + payload: small or the heap */
    size_t size;
    int fd;                     /* ARENA_ADD's memfd, STREAM_DONE's socket
                                 * (not owned), else -1 */
    uint8_t small[sizeof (PxWireHeader) + PX_WIRE_ENCODED_SMALL];
  }
  PxWireEncoded;

/* Encodes header + @head + @tail (the payload in two pieces). @fd: the one
 * fd that ARENA_ADD and a STREAM_DONE flagged PX_WIRE_STREAM_FD carry, -1
 * for every other message. Returns 0, -EINVAL for a
 * message the receiver would refuse, -EMSGSIZE for one over a limit,
 * -ENOMEM. Allocates nothing for a payload of up to PX_WIRE_ENCODED_SMALL
 * bytes (async-signal-safe then). *@out is valid (clearable) either way. */
  int px_wire_encode (PxWireEncoded * out, PxWireType type, uint32_t flags,
      uint64_t request_id, const void *head, size_t head_size,
      const void *tail, size_t tail_size, int fd);

/* Typed encoders, one per message. */
  int px_wire_encode_hello (PxWireEncoded * out, const PxWireHello * hello);
  int px_wire_encode_arena_add (PxWireEncoded * out,
      const PxWireArenaAdd * add, int fd);
  int px_wire_encode_arena_remove (PxWireEncoded * out,
      const PxWireArenaRemove * remove);
  int px_wire_encode_buffer (PxWireEncoded * out, const PxWireBuffer * buffer);
  int px_wire_encode_buffer_done (PxWireEncoded * out, const uint64_t * ids,
      uint32_t count);
  int px_wire_encode_blob (PxWireEncoded * out, PxWireType type,
      uint32_t flags, uint64_t request_id, const PxWireBlob * blob);
/* STATE or STATE_DONE. */
  int px_wire_encode_state (PxWireEncoded * out, PxWireType type,
      uint64_t request_id, const PxWireState * state);
/* STREAM (@fd -1) or STREAM_DONE (@fd: the worker's end of a granted
 * OPEN, not owned, else -1). */
  int px_wire_encode_stream (PxWireEncoded * out, PxWireType type,
      uint64_t request_id, const PxWireStream * stream, int fd);
/* PING, PONG or SHUTDOWN. */
  int px_wire_encode_empty (PxWireEncoded * out, PxWireType type,
      uint64_t request_id);

  void px_wire_encoded_clear (PxWireEncoded * msg);

/* The type of an encoded message (0 if it holds none). */
  uint32_t px_wire_encoded_type (const PxWireEncoded * msg);

/* Sends an encoded message. Returns 0 or -errno (see px_unix_send()). */
  int px_wire_send_encoded (int sock, const PxWireEncoded * msg,
      int send_flags);

/* Encode and send in one call, for code without a connection (tests):
 * px_wire_send() encodes @payload whole, @fds must match the type and
 * flags (1 for ARENA_ADD and a STREAM_DONE flagged PX_WIRE_STREAM_FD, 0
 * otherwise). */
  int px_wire_send (int sock, PxWireType type, uint32_t flags,
      uint64_t request_id, const void *payload, size_t payload_size,
      const int *fds, unsigned n_fds, int send_flags);
  int px_wire_send_hello (int sock, const PxWireHello * hello);
  int px_wire_send_arena_add (int sock, const PxWireArenaAdd * add, int fd);
  int px_wire_send_buffer (int sock, const PxWireBuffer * buffer,
      int send_flags);
  int px_wire_send_buffer_done (int sock, const uint64_t * ids, uint32_t count);
  int px_wire_send_blob (int sock, PxWireType type, uint32_t flags,
      uint64_t request_id, const PxWireBlob * blob);

/* Receives one message and validates its header. On success returns the
 * payload size (>= 0) and msg holds the message; 0 bytes received (peer
 * closed) gives -ECONNRESET. On any failure, no fd is left open. */
  ssize_t px_wire_recv (int sock, PxWireMessage * msg, int recv_flags);

/* Checks a header against the number of payload bytes and fds that came
 * with it. Used by px_wire_recv() and the fuzzer. */
  int px_wire_check_header (const PxWireHeader * header, size_t payload_bytes,
      unsigned n_fds);

/* Closes the fds a message still owns. */
  void px_wire_message_clear (PxWireMessage * msg);

/* Takes the message's fd (-1 if none); the message no longer owns it. */
  int px_wire_message_steal_fd (PxWireMessage * msg);

/* One decoder per message type: check the payload's size and every field's
 * range, then fill @out. Return 0 or -EPROTO. */
  int px_wire_decode_hello (const PxWireMessage * msg, PxWireHello * out);
  int px_wire_decode_arena_add (const PxWireMessage * msg,
      PxWireArenaAdd * out);
  int px_wire_decode_arena_remove (const PxWireMessage * msg,
      PxWireArenaRemove * out);
  int px_wire_decode_buffer (const PxWireMessage * msg, PxWireBuffer * out);
  int px_wire_decode_buffer_done (const PxWireMessage * msg,
      PxWireBufferDone * out);
  int px_wire_decode_blob (const PxWireMessage * msg, PxWireBlob * out);
  int px_wire_decode_state (const PxWireMessage * msg, PxWireState * out);
/* STREAM or STREAM_DONE. */
  int px_wire_decode_stream (const PxWireMessage * msg, PxWireStream * out);
/* PING, PONG, SHUTDOWN: empty payload. */
  int px_wire_decode_empty (const PxWireMessage * msg);

/* A readable name for a message type ("BUFFER"), or "unknown". */
  const char *px_wire_type_name (uint32_t type);

#ifdef __cplusplus
}
#endif
#endif                          /* PX_WIRE_H */
