/* Parallax — a hostile wire-protocol peer for the ipcsink/ipcsrc tests.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Test-only, never installed, GStreamer-free. It speaks the wire protocol
 * correctly up to one chosen point and then misbehaves in one chosen way:
 *
 *   ipc-hostile-peer producer PATH FAULT   listens on PATH like an ipcsink
 *   ipc-hostile-peer consumer PATH FAULT   connects to PATH like an ipcsrc
 *
 * FAULT is one of the names in producer_fault(), consumer_fault() and
 * common_fault(), or "before-hello" (the first message is not HELLO). A
 * FAULT ending in "-before-hello" is that fault without our HELLO first.
 *
 *   ipc-hostile-peer consumer PATH many-names
 *
 * connects again and again, each time sending queries whose bodies are
 * made of names never seen before (MANY_NAMES_TOTAL in all).
 *
 * A producer prints "ready" on stdout once it listens. After the fault the
 * peer keeps reading (so that the element is never blocked on a full socket)
 * until the element drops the connection. Exit status: 0 when the element
 * dropped us, 3 when it did not within TIMEOUT_MS, 2 on a usage or set-up
 * error.
 */
#include "px-arena.h"
#include "px-fd.h"
#include "px-unix.h"
#include "px-wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define TIMEOUT_MS 10000
#define SLOT_SIZE 8192
#define SLOT_COUNT 2
/* GstVideoFormat values are ABI: GST_VIDEO_FORMAT_I420. */
#define VIDEO_FORMAT_I420 2

/* The arenas our HELLO announces: one arena of SLOT_SIZE * SLOT_COUNT
 * bytes, two in all. */
#define ARENA_LIMIT ((uint64_t) SLOT_SIZE * SLOT_COUNT)
/* What "huge-arenas" announces: as the attack run, a TiB each. */
#define HUGE_ARENA ((uint64_t) 1 << 40)
#define HUGE_ARENAS 62

static int sock = -1;
static int greedy_hello;

static void
die (const char *what, int err)
{
  fprintf (stderr, "hostile peer: %s: %s\n", what, strerror (err < 0 ?
          -err : err));
  exit (2);
}

static uint64_t
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Waits for one message; returns its type, 0 if the peer closed the
 * connection, -ETIMEDOUT or another -errno. */
static int
receive (PxWireMessage * msg, int timeout_ms)
{
  struct pollfd pfd = {.fd = sock,.events = POLLIN };
  ssize_t ret;

  if (poll (&pfd, 1, timeout_ms) <= 0)
    return -ETIMEDOUT;
  ret = px_wire_recv (sock, msg, 0);
  if (ret == -ECONNRESET || ret == -EPIPE)
    return 0;
  if (ret < 0)
    return (int) ret;
  px_wire_message_clear (msg);
  return msg->header.type;
}

static void
expect (PxWireMessage * msg, PxWireType type)
{
  int ret = receive (msg, TIMEOUT_MS);

  if (ret != (int) type)
    die ("unexpected first message", ret < 0 ? ret : EPROTO);
}

/* Sends raw bytes as one message, with an optional fd: no checks at all. */
static void
send_raw (const void *data, size_t size, int fd)
{
  int ret = px_unix_send (sock, data, size, fd >= 0 ? &fd : NULL,
      fd >= 0 ? 1 : 0, 0);

  if (fd >= 0)
    close (fd);
  /* Dropped before we were done misbehaving: that is the point. */
  if (ret == -EPIPE || ret == -ECONNRESET)
    exit (0);
  if (ret < 0)
    die ("send", ret);
}

/* A header + payload built by hand, so that any field can be wrong. */
static void
send_message (uint16_t type, const void *payload, uint32_t announced,
    size_t actual, int fd)
{
  uint8_t *buf = calloc (1, sizeof (PxWireHeader) + actual);
  PxWireHeader header = {
    .magic = PX_WIRE_MAGIC,.version = PX_WIRE_VERSION,.type = type,
    .payload_size = announced,
  };

  if (buf == NULL)
    die ("calloc", ENOMEM);
  memcpy (buf, &header, sizeof header);
  if (payload != NULL)
    memcpy (buf + sizeof header, payload, actual);
  send_raw (buf, sizeof header + actual, fd);
  free (buf);
}

static void
send_hello (PxWireRole role)
{
  PxWireHello hello = {.role = role,.max_arena_size = ARENA_LIMIT,
    .max_arena_total = 2 * ARENA_LIMIT
  };

  if (role == PX_WIRE_ROLE_PRODUCER) {
    hello.max_in_flight = 4;
  } else {
    /* A consumer takes what ipcsink's arenas need. */
    hello.max_arena_size = PX_WIRE_DEFAULT_ARENA_SIZE;
    hello.max_arena_total = PX_WIRE_DEFAULT_ARENA_TOTAL;
  }
  /* "greedy-hello": a producer that asks for a TiB per arena. */
  if (greedy_hello) {
    hello.max_arena_size = PX_WIRE_MAX_ARENA_SIZE;
    hello.max_arena_total = PX_WIRE_MAX_ARENA_TOTAL;
  }
  send_message (PX_WIRE_HELLO, &hello, sizeof hello, sizeof hello, -1);
}

/* A memfd of SLOT_SIZE * SLOT_COUNT bytes carrying exactly @seals. */
static int
make_memfd (int seals)
{
  int fd = memfd_create ("hostile", MFD_CLOEXEC | (seals ?
          MFD_ALLOW_SEALING : 0));

  if (fd < 0 || ftruncate (fd, SLOT_SIZE * SLOT_COUNT) < 0)
    die ("memfd", errno);
  if (seals && fcntl (fd, F_ADD_SEALS, seals) < 0)
    die ("seals", errno);
  return fd;
}

/* Sealed sparse memfds of HUGE_ARENA bytes, HUGE_ARENAS of them (a
 * receiver that maps them all holds 62 TiB of address space). */
static void
send_huge_arenas (void)
{
  int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE;

  for (unsigned i = 0; i < HUGE_ARENAS; i++) {
    PxWireArenaAdd add = {.arena_id = 0x7e000000u + i,.size = HUGE_ARENA,
      .slot_stride = HUGE_ARENA / 4,.slot_count = 4
    };
    int fd = memfd_create ("huge", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    if (fd < 0 || ftruncate (fd, (off_t) HUGE_ARENA) < 0 ||
        fcntl (fd, F_ADD_SEALS, seals) < 0)
      die ("huge memfd", errno);
    send_message (PX_WIRE_ARENA_ADD, &add, sizeof add, sizeof add, fd);
  }
}

static void
send_arena_add (uint64_t id, int fd)
{
  PxWireArenaAdd add = {.arena_id = id,.size = SLOT_SIZE * SLOT_COUNT,
    .slot_stride = SLOT_SIZE,.slot_count = SLOT_COUNT
  };

  send_message (PX_WIRE_ARENA_ADD, &add, sizeof add, sizeof add, fd);
}

static void
send_buffer (const PxWireBuffer * buffer, int fd)
{
  send_message (PX_WIRE_BUFFER, buffer, sizeof *buffer, sizeof *buffer, fd);
}

/* A well-formed buffer description in arena @id, slot 0. */
static PxWireBuffer
valid_buffer (uint64_t id)
{
  PxWireBuffer buffer = {.buffer_id = 1,.arena_id = id,.size = 100,
    .pts = UINT64_MAX,.dts = UINT64_MAX,.duration = UINT64_MAX,
    .offset_default = UINT64_MAX,.offset_end = UINT64_MAX,
    .base_time = UINT64_MAX
  };

  return buffer;
}

/* The faults that do not depend on the role. Returns 0 if @fault is not
 * one of them. */
static int
common_fault (const char *fault, PxWireRole role)
{
  if (strcmp (fault, "garbage") == 0) {
    uint8_t junk[64];

    for (size_t i = 0; i < sizeof junk; i++)
      junk[i] = (uint8_t) (i * 37 + 11);
    send_raw (junk, sizeof junk, -1);
  } else if (strcmp (fault, "truncated") == 0) {
    uint8_t payload[sizeof (PxWireBuffer)] = { 0 };

    /* Announces a whole BUFFER, carries half of it. */
    send_message (PX_WIRE_BUFFER, payload, sizeof payload,
        sizeof payload / 2, -1);
  } else if (strcmp (fault, "oversized") == 0) {
    size_t size = PX_WIRE_MAX_PAYLOAD + 4096;
    uint8_t *payload = calloc (1, size);

    send_message (PX_WIRE_EVENT, payload, (uint32_t) size, size, -1);
    free (payload);
  } else if (strcmp (fault, "unknown-type") == 0) {
    send_message (99, NULL, 0, 0, -1);
  } else if (strcmp (fault, "fd-on-message") == 0) {
    /* A PING, which takes no fd, with one attached. */
    send_message (PX_WIRE_PING, NULL, 0, 0,
        make_memfd (F_SEAL_SHRINK | F_SEAL_GROW));
  } else if (strcmp (fault, "hello-twice") == 0) {
    send_hello (role);
  } else {
    return 0;
  }
  return 1;
}

/* GST_EVENT_CUSTOM_DOWNSTREAM: (280 << 8) | DOWNSTREAM | SERIALIZED. */
#define EVENT_CUSTOM_DOWNSTREAM ((280 << 8) | 2 | 4)

/* Far more events than a consumer that is not streaming may queue. */
static void
send_event_flood (void)
{
  PxWireBlob blob = {.kind = EVENT_CUSTOM_DOWNSTREAM };
  const char *body = "flood, n=(int)1;";

  blob.body = body;
  blob.body_size = (uint32_t) strlen (body) + 1;
  for (int i = 0; i < 2000; i++) {
    int ret = px_wire_send_blob (sock, PX_WIRE_EVENT, 0, 0, &blob);

    if (ret == -EPIPE || ret == -ECONNRESET)
      exit (0);
    if (ret < 0)
      die ("send", ret);
  }
}

/* GST_QUERY_CUSTOM: (120 << 8) | UPSTREAM | DOWNSTREAM. */
#define QUERY_CUSTOM ((120 << 8) | 1 | 2)
/* GST_EVENT_CUSTOM_UPSTREAM: (256 << 8) | UPSTREAM. */
#define EVENT_CUSTOM_UPSTREAM ((256 << 8) | 1)
/* Arrays nested in the deep body: GStreamer's parser recursed once per
 * level and ran out of stack. */
#define DEEP_LEVELS 30000

static void
send_body (PxWireType type, uint32_t flags, uint32_t kind, const char *body)
{
  PxWireBlob blob = {.kind = kind,.body = body };
  int ret;

  blob.body_size = (uint32_t) strlen (body) + 1;
  ret = px_wire_send_blob (sock, type, flags, 1, &blob);
  if (ret == -EPIPE || ret == -ECONNRESET)
    exit (0);
  if (ret < 0)
    die ("send", ret);
}

/* "foo, b=(int)<<<...1>>>", about 60 KB. */
static void
send_deep (PxWireType type, uint32_t flags, uint32_t kind)
{
  const char *head = "foo, b=(int)";
  size_t size = strlen (head) + 2 * DEEP_LEVELS + 2;
  char *body = malloc (size);
  char *p = body;

  if (body == NULL)
    die ("malloc", ENOMEM);
  p = stpcpy (p, head);
  memset (p, '<', DEEP_LEVELS);
  p += DEEP_LEVELS;
  *p++ = '1';
  memset (p, '>', DEEP_LEVELS);
  p[DEEP_LEVELS] = '\0';
  send_body (type, flags, kind, body);
  free (body);
}

/* The faults with a text body too deep for a recursive parser. */
static int
deep_fault (const char *fault, PxWireRole role)
{
  if (strncmp (fault, "deep-query", 10) == 0)
    send_deep (PX_WIRE_QUERY, 0, QUERY_CUSTOM);
  else if (strcmp (fault, "deep-event") == 0 && role == PX_WIRE_ROLE_PRODUCER)
    send_deep (PX_WIRE_EVENT, 0, EVENT_CUSTOM_DOWNSTREAM);
  else if (strcmp (fault, "deep-event") == 0)
    send_deep (PX_WIRE_EVENT, PX_WIRE_EVENT_UPSTREAM, EVENT_CUSTOM_UPSTREAM);
  else
    return 0;
  return 1;
}

static void
producer_fault (const char *fault)
{
  uint64_t id = 0x600dcafe;
  PxWireBuffer buffer = valid_buffer (id);
  int sealed = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE;

  if (common_fault (fault, PX_WIRE_ROLE_PRODUCER) ||
      deep_fault (fault, PX_WIRE_ROLE_PRODUCER))
    return;
  if (strcmp (fault, "arena-without-fd") == 0) {
    send_arena_add (id, -1);
  } else if (strcmp (fault, "unknown-arena") == 0) {
    send_arena_add (id, make_memfd (sealed));
    buffer.arena_id = id + 1;
    send_buffer (&buffer, -1);
  } else if (strcmp (fault, "slot-out-of-range") == 0) {
    send_arena_add (id, make_memfd (sealed));
    buffer.slot = SLOT_COUNT + 5;
    send_buffer (&buffer, -1);
  } else if (strcmp (fault, "range-out-of-slot") == 0) {
    send_arena_add (id, make_memfd (sealed));
    buffer.offset = SLOT_SIZE - 10;
    send_buffer (&buffer, -1);
  } else if (strcmp (fault, "unsealed-memfd") == 0) {
    send_arena_add (id, make_memfd (0));
  } else if (strcmp (fault, "shrinkable-memfd") == 0) {
    send_arena_add (id, make_memfd (F_SEAL_GROW));
  } else if (strcmp (fault, "writable-memfd") == 0) {
    send_arena_add (id, make_memfd (F_SEAL_SHRINK | F_SEAL_GROW));
  } else if (strcmp (fault, "not-a-memfd") == 0) {
    int fds[2];

    if (pipe2 (fds, O_CLOEXEC) < 0)
      die ("pipe", errno);
    send_arena_add (id, fds[0]);
  } else if (strcmp (fault, "bad-video-meta") == 0) {
    /* I420 64x64 needs 6144 bytes; the buffer has 6000. Every plane
     * starts inside it, so only the format-aware check can tell. */
    send_arena_add (id, make_memfd (sealed));
    buffer.size = 6000;
    buffer.flags = PX_WIRE_BUFFER_HAS_VIDEO_META;
    buffer.video_format = VIDEO_FORMAT_I420;
    buffer.width = 64;
    buffer.height = 64;
    buffer.n_planes = 3;
    buffer.plane_offset[1] = 4096;
    buffer.plane_offset[2] = 5120;
    buffer.stride[0] = 64;
    buffer.stride[1] = 32;
    buffer.stride[2] = 32;
    send_buffer (&buffer, -1);
  } else if (strcmp (fault, "fd-on-buffer") == 0) {
    send_arena_add (id, make_memfd (sealed));
    send_buffer (&buffer, make_memfd (sealed));
  } else if (strcmp (fault, "event-flood") == 0) {
    send_event_flood ();
  } else if (strcmp (fault, "huge-arenas") == 0) {
    send_huge_arenas ();
  } else if (strcmp (fault, "arenas-beyond-total") == 0) {
    /* Three arenas, each within the announced size; the third beyond the
     * announced total. */
    send_arena_add (id, make_memfd (sealed));
    send_arena_add (id + 1, make_memfd (sealed));
    send_arena_add (id + 2, make_memfd (sealed));
  } else if (strcmp (fault, "greedy-hello") == 0) {
    /* Our HELLO said it all. */
  } else {
    die (fault, EINVAL);
  }
}

static void
consumer_fault (const char *fault, PxWireMessage * msg)
{
  if (common_fault (fault, PX_WIRE_ROLE_CONSUMER) ||
      deep_fault (fault, PX_WIRE_ROLE_CONSUMER))
    return;
  if (strcmp (fault, "early-buffer-done") == 0) {
    uint64_t payload[2] = { 1, 1 };     /* count 1, reserved 0; id 1 */

    send_message (PX_WIRE_BUFFER_DONE, payload, sizeof payload,
        sizeof payload, -1);
  } else if (strcmp (fault, "unknown-buffer-done") == 0) {
    PxWireBuffer buffer;
    uint64_t payload[2];
    uint32_t head[2] = { 1, 0 };
    int type;

    /* Wait for a real buffer, then release one we never got. */
    do {
      type = receive (msg, TIMEOUT_MS);
    } while (type > 0 && type != PX_WIRE_BUFFER);
    if (type != PX_WIRE_BUFFER || px_wire_decode_buffer (msg, &buffer) < 0)
      die ("no buffer to misuse", EPROTO);
    memcpy (payload, head, sizeof head);
    payload[1] = buffer.buffer_id + 1000;
    send_message (PX_WIRE_BUFFER_DONE, payload, sizeof payload,
        sizeof payload, -1);
  } else if (strcmp (fault, "arena-from-consumer") == 0) {
    send_arena_add (0x600dcafe, make_memfd (F_SEAL_SHRINK | F_SEAL_GROW |
            F_SEAL_FUTURE_WRITE));
  } else {
    die (fault, EINVAL);
  }
}

/* Reads until the element closes the connection. */
static int
drain (PxWireMessage * msg)
{
  uint64_t deadline = now_ms () + TIMEOUT_MS;

  while (now_ms () < deadline) {
    int ret = receive (msg, (int) (deadline - now_ms ()));

    if (ret == 0 || (ret < 0 && ret != -ETIMEDOUT && ret != -EPROTO))
      return 0;
  }
  fprintf (stderr, "hostile peer: still connected after %d ms\n", TIMEOUT_MS);
  return 3;
}

/* Names a query body carries, of NAME_LENGTH bytes each, and how many are
 * sent in all: two queries per connection. */
#define NAMES_PER_QUERY 250
#define NAME_LENGTH 100
#define MANY_NAMES_TOTAL 100000

/* One query made of NAMES_PER_QUERY names, numbered from *@serial on. */
static void
send_names_query (unsigned *serial)
{
  size_t size = 16 + NAMES_PER_QUERY * (NAME_LENGTH + 16);
  char *body = malloc (size);
  size_t used = (size_t) snprintf (body, size, "foo");

  if (body == NULL)
    die ("malloc", ENOMEM);
  for (unsigned i = 0; i < NAMES_PER_QUERY; i++) {
    int n = snprintf (body + used, size - used, ", n%d-%u-", (int) getpid (),
        (*serial)++);

    used += (size_t) n;
    /* Padding up to NAME_LENGTH, after the ", ". */
    for (; (size_t) n - 2 < NAME_LENGTH; n++)
      body[used++] = 'x';
    used += (size_t) snprintf (body + used, size - used, "=(int)1");
  }
  send_body (PX_WIRE_QUERY, 0, QUERY_CUSTOM, body);
  free (body);
}

/* Waits until @replies QUERY_REPLY came or the element closed. */
static void
wait_replies (PxWireMessage * msg, int replies)
{
  while (replies > 0) {
    int type = receive (msg, TIMEOUT_MS);

    if (type <= 0)
      return;
    if (type == PX_WIRE_QUERY_REPLY)
      replies--;
  }
}

static int
many_names (const char *path)
{
  static PxWireMessage msg;
  unsigned serial = 0;

  while (serial < MANY_NAMES_TOTAL) {
    sock = px_unix_connect (path);
    if (sock < 0)
      die ("connect", sock);
    expect (&msg, PX_WIRE_HELLO);
    send_hello (PX_WIRE_ROLE_CONSUMER);
    send_names_query (&serial);
    send_names_query (&serial);
    /* An element that refuses the second query drops us instead. */
    wait_replies (&msg, 2);
    close (sock);
  }
  return 0;
}

static int
accept_one (const char *path)
{
  struct pollfd pfd;
  int listener = px_unix_listen (path, 0600);
  int fd;

  if (listener < 0)
    die ("listen", listener);
  printf ("ready\n");
  fflush (stdout);
  pfd.fd = listener;
  pfd.events = POLLIN;
  if (poll (&pfd, 1, TIMEOUT_MS) <= 0)
    die ("nobody connected", ETIMEDOUT);
  fd = accept4 (listener, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    die ("accept", errno);
  close (listener);
  if (path[0] != '@')
    unlink (path);
  return fd;
}

int
main (int argc, char **argv)
{
  static PxWireMessage msg;
  int producer, skip_hello, only_hello;

  if (argc != 4 || (strcmp (argv[1], "producer") != 0 &&
          strcmp (argv[1], "consumer") != 0)) {
    fprintf (stderr, "usage: %s producer|consumer PATH FAULT\n", argv[0]);
    return 2;
  }
  producer = strcmp (argv[1], "producer") == 0;
  greedy_hello = strcmp (argv[3], "greedy-hello") == 0;
  if (!producer && strcmp (argv[3], "many-names") == 0)
    return many_names (argv[2]);

  /* "before-hello": skip our HELLO, then do what comes next anyway. */
  only_hello = strcmp (argv[3], "before-hello") == 0;
  skip_hello = only_hello || strstr (argv[3], "-before-hello") != NULL;
  if (producer) {
    sock = accept_one (argv[2]);
    if (!skip_hello)
      send_hello (PX_WIRE_ROLE_PRODUCER);
    expect (&msg, PX_WIRE_HELLO);
    producer_fault (only_hello ? "unknown-arena" : argv[3]);
  } else {
    sock = px_unix_connect (argv[2]);
    if (sock < 0)
      die ("connect", sock);
    expect (&msg, PX_WIRE_HELLO);
    if (!skip_hello)
      send_hello (PX_WIRE_ROLE_CONSUMER);
    consumer_fault (only_hello ? "early-buffer-done" : argv[3], &msg);
  }
  return drain (&msg);
}
