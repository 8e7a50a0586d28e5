/* Parallax — benchmark: buffers per second through the arena pool, against
 * GStreamer's default pool measured in the same run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Four ways to get a buffer of a given size and give it back:
 *
 *   arena pool      GstPxArenaPool (one memfd arena, slots)
 *   default pool    gst_buffer_pool_new (), system memory — the anchor
 *   memfd pool      gst_buffer_pool_new () with the pxmemfd allocator
 *   memfd alloc     gst_allocator_alloc () + gst_memory_unref () on pxmemfd,
 *                   one memfd per buffer: shareable memory without a pool
 *
 * Every pool gets the same configuration (no caps, the buffer size,
 * min POOL_MIN_BUFFERS, max POOL_MAX_BUFFERS, default allocation params).
 * Two loops per path and size:
 *
 *   acquire + release   gst_buffer_pool_acquire_buffer () + gst_buffer_unref ()
 *                       (the unref returns the buffer to its pool)
 *   + write 1st byte    the same, with a write map of the buffer and one byte
 *                       written in between, so that mapping costs show
 *   + copy while mapped the buffer mapped for reading and writing and a
 *                       second reference held while it is made writable
 *                       (gst_buffer_make_writable ()), which copies its
 *                       memory: what GstVideoDecoder does to each frame a
 *                       direct-rendering decoder still references. The
 *                       arena pool's copy goes into one of its buffers,
 *                       the others' into system memory (memfd alloc: the
 *                       memory itself is copied, gst_memory_copy ()). The
 *                       last COPIES_IN_FLIGHT copies are kept, as frames
 *                       downstream are: a copy freed at once would let
 *                       malloc hand the next one the same, cache-hot block
 *
 * Cases are calibrated to last about --seconds each, then measured --runs
 * times, interleaved (run 1 of every case, then run 2, ...) so that a busy
 * moment on the machine hits every case alike rather than one of them. The
 * figures reported are medians; the cost ratio is the path's median
 * ns/buffer divided by the default pool's at the same size and loop.
 */

#include "bench-util.h"
#include <gst/gst.h>
#include <gst/allocators/allocators.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gstpxarenaallocator.h"
#include "gstpxarenapool.h"
#include "gstpxmemfdallocator.h"

#define POOL_MIN_BUFFERS 4
#define POOL_MAX_BUFFERS 16
#define COPIES_IN_FLIGHT 4
#define MAX_RUNS 101
/* The project's target: the arena pool costs at most this many times what
 * the default pool costs per buffer. */
#define TARGET_RATIO 1.5

typedef enum
{
  PATH_ARENA_POOL,
  PATH_DEFAULT_POOL,
  PATH_MEMFD_POOL,
  PATH_MEMFD_ALLOC,
  N_PATHS
} BenchPath;

typedef enum
{
  LOOP_ACQUIRE_RELEASE,
  LOOP_WRITE_FIRST_BYTE,
  LOOP_COPY_MAPPED,
  N_LOOPS
} BenchLoop;

static const gchar *path_names[N_PATHS] = {
  "arena pool", "default pool", "memfd pool", "memfd alloc"
};

static const gchar *loop_names[N_LOOPS] = {
  "acquire + release", "+ write first byte", "+ copy while mapped"
};

static const gsize sizes[] = { 4096, 8 * 1024 * 1024 };

#define N_SIZES G_N_ELEMENTS (sizes)

/* What a case runs on: a pool, or (memfd alloc) an allocator. */
typedef struct
{
  GstBufferPool *pool;
  GstAllocator *allocator;
  GstAllocationParams params;
  gsize size;
} BenchTarget;

typedef struct
{
  BenchTarget *target;
  BenchLoop loop;
  guint64 iterations;
  gdouble ns_per_buffer[MAX_RUNS];
  gdouble median;
  gdouble spread;               /* (max - min) / median over the runs */
} BenchCase;

typedef struct
{
  gint runs;
  gdouble seconds;
  gboolean markdown;
} BenchOptions;


static gboolean
write_first_byte (GstBuffer * buffer, guint8 value)
{
  GstMapInfo map;

  if (!gst_buffer_map (buffer, &map, GST_MAP_WRITE))
    return FALSE;
  map.data[0] = value;
  gst_buffer_unmap (buffer, &map);
  return TRUE;
}

/* The copies kept while the loop runs (buffers or memories). */
typedef struct
{
  GstMiniObject *copies[COPIES_IN_FLIGHT];
  guint next;
} InFlight;

static void
in_flight_push (InFlight * in_flight, GstMiniObject * copy)
{
  GstMiniObject **place = &in_flight->copies[in_flight->next];

  if (*place != NULL)
    gst_mini_object_unref (*place);
  *place = copy;
  in_flight->next = (in_flight->next + 1) % COPIES_IN_FLIGHT;
}

static void
in_flight_clear (InFlight * in_flight)
{
  for (guint i = 0; i < COPIES_IN_FLIGHT; i++)
    if (in_flight->copies[i] != NULL)
      gst_mini_object_unref (in_flight->copies[i]);
}

/* Makes @buffer writable while it is mapped and referenced elsewhere: the
 * copy GstBuffer then makes of its memory, or NULL. */
static GstBuffer *
copy_while_mapped (GstBuffer * buffer)
{
  GstBuffer *copy;
  GstMapInfo map;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READWRITE))
    return NULL;
  copy = gst_buffer_make_writable (gst_buffer_ref (buffer));
  gst_buffer_unmap (buffer, &map);
  if (copy == buffer) {
    gst_buffer_unref (copy);
    return NULL;
  }
  return copy;
}

static gboolean
loop_pool (GstBufferPool * pool, guint64 iterations, BenchLoop loop)
{
  InFlight in_flight = { {NULL,}, 0 };
  gboolean ok = TRUE;

  for (guint64 i = 0; i < iterations && ok; i++) {
    GstBuffer *buffer, *copy;

    if (gst_buffer_pool_acquire_buffer (pool, &buffer, NULL) != GST_FLOW_OK) {
      ok = FALSE;
      break;
    }
    if (loop == LOOP_WRITE_FIRST_BYTE) {
      ok = write_first_byte (buffer, (guint8) i);
    } else if (loop == LOOP_COPY_MAPPED) {
      copy = copy_while_mapped (buffer);
      ok = copy != NULL;
      if (ok)
        in_flight_push (&in_flight, GST_MINI_OBJECT_CAST (copy));
    }
    gst_buffer_unref (buffer);
  }
  in_flight_clear (&in_flight);
  return ok;
}

static gboolean
loop_alloc (BenchTarget * target, guint64 iterations, BenchLoop loop)
{
  InFlight in_flight = { {NULL,}, 0 };
  gboolean ok = TRUE;

  for (guint64 i = 0; i < iterations && ok; i++) {
    GstMemory *mem, *copy;
    GstMapInfo map;

    mem = gst_allocator_alloc (target->allocator, target->size,
        &target->params);
    if (mem == NULL) {
      ok = FALSE;
      break;
    }
    if (loop != LOOP_ACQUIRE_RELEASE) {
      if (!gst_memory_map (mem, &map, GST_MAP_READWRITE)) {
        gst_memory_unref (mem);
        ok = FALSE;
        break;
      }
      if (loop == LOOP_WRITE_FIRST_BYTE) {
        map.data[0] = (guint8) i;
      } else {
        copy = gst_memory_copy (mem, 0, -1);
        ok = copy != NULL;
        if (ok)
          in_flight_push (&in_flight, GST_MINI_OBJECT_CAST (copy));
      }
      gst_memory_unmap (mem, &map);
    }
    gst_memory_unref (mem);
  }
  in_flight_clear (&in_flight);
  return ok;
}

/* Runs @iterations of the case's loop; returns the elapsed nanoseconds, or
 * -1 if a buffer could not be had (which would make the figure a lie). */
static gint64
run_case (BenchCase * bench_case, guint64 iterations)
{
  BenchTarget *target = bench_case->target;
  gint64 start = bench_now_ns ();
  gboolean ok;

  if (target->pool != NULL)
    ok = loop_pool (target->pool, iterations, bench_case->loop);
  else
    ok = loop_alloc (target, iterations, bench_case->loop);
  return ok ? bench_now_ns () - start : -1;
}

/* Finds how many iterations last about @seconds: doubles a short run until
 * it lasts a tenth of that, then scales. Also serves as the warm-up. */
static gboolean
calibrate_case (BenchCase * bench_case, gdouble seconds)
{
  gdouble target_ns = seconds * 1e9;
  guint64 n = 16;
  gint64 elapsed;

  for (;;) {
    elapsed = run_case (bench_case, n);
    if (elapsed < 0)
      return FALSE;
    if (elapsed >= target_ns / 10)
      break;
    n *= 2;
  }
  elapsed = MAX (elapsed, 1);
  bench_case->iterations = MAX (1, (guint64) (n * target_ns / elapsed));
  return TRUE;
}

static GstBufferPool *
configured_pool (BenchPath path, gsize size, GstAllocator * allocator)
{
  GstBufferPool *pool;
  GstStructure *config;
  GstAllocationParams params;

  pool = path == PATH_ARENA_POOL ? gst_px_arena_pool_new ()
      : gst_buffer_pool_new ();
  gst_allocation_params_init (&params);
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, NULL, size, POOL_MIN_BUFFERS,
      POOL_MAX_BUFFERS);
  gst_buffer_pool_config_set_allocator (config, allocator, &params);
  if (!gst_buffer_pool_set_config (pool, config) ||
      !gst_buffer_pool_set_active (pool, TRUE)) {
    g_printerr ("cannot set up the %s for %" G_GSIZE_FORMAT " bytes\n",
        path_names[path], size);
    gst_object_unref (pool);
    return NULL;
  }
  return pool;
}

/* Checks once, outside the timed loops, that each path hands out the
 * memory it claims to: a benchmark of the wrong thing is worse than none. */
static gboolean
memory_is_expected (BenchPath path, GstMemory * mem, GstAllocator * memfd)
{
  switch (path) {
    case PATH_ARENA_POOL:
      return gst_is_px_arena_memory (mem);
    case PATH_DEFAULT_POOL:
      return !gst_is_fd_memory (mem);
    case PATH_MEMFD_POOL:
    case PATH_MEMFD_ALLOC:
      return gst_is_fd_memory (mem) && mem->allocator == memfd;
    default:
      return FALSE;
  }
}

/* The copy loop's claim: the arena pool's copies stay in the arena, the
 * other pools' go to system memory. */
static gboolean
copy_lands_as_said (BenchPath path, GstBuffer * buffer)
{
  GstBuffer *copy = copy_while_mapped (buffer);
  gboolean in_arena;

  if (copy == NULL)
    return FALSE;
  in_arena = gst_is_px_arena_memory (gst_buffer_peek_memory (copy, 0));
  gst_buffer_unref (copy);
  return in_arena == (path == PATH_ARENA_POOL);
}

static gboolean
check_target (BenchPath path, BenchTarget * target, GstAllocator * memfd)
{
  GstBuffer *buffer = NULL;
  GstMemory *mem;
  gboolean ok;

  if (target->pool == NULL) {
    mem = gst_allocator_alloc (target->allocator, target->size,
        &target->params);
    ok = mem != NULL && memory_is_expected (path, mem, memfd);
    if (mem)
      gst_memory_unref (mem);
  } else {
    ok = gst_buffer_pool_acquire_buffer (target->pool, &buffer, NULL) ==
        GST_FLOW_OK && gst_buffer_n_memory (buffer) == 1 &&
        gst_buffer_get_size (buffer) == target->size &&
        memory_is_expected (path, gst_buffer_peek_memory (buffer, 0), memfd) &&
        copy_lands_as_said (path, buffer);
    if (buffer)
      gst_buffer_unref (buffer);
  }
  if (!ok)
    g_printerr ("the %s does not hand out the expected memory\n",
        path_names[path]);
  return ok;
}

static gboolean
setup_target (BenchPath path, gsize size, GstAllocator * memfd,
    BenchTarget * target)
{
  memset (target, 0, sizeof (*target));
  target->size = size;
  gst_allocation_params_init (&target->params);

  switch (path) {
    case PATH_ARENA_POOL:
    case PATH_DEFAULT_POOL:
      target->pool = configured_pool (path, size, NULL);
      break;
    case PATH_MEMFD_POOL:
      target->pool = configured_pool (path, size, memfd);
      break;
    case PATH_MEMFD_ALLOC:
      target->allocator = gst_object_ref (memfd);
      break;
    default:
      g_assert_not_reached ();
  }
  if (target->pool == NULL && target->allocator == NULL)
    return FALSE;
  return check_target (path, target, memfd);
}

static void
clear_target (BenchTarget * target)
{
  if (target->pool != NULL) {
    gst_buffer_pool_set_active (target->pool, FALSE);
    gst_clear_object (&target->pool);
  }
  gst_clear_object (&target->allocator);
}


static void
summarize_case (BenchCase * bench_case, gint runs)
{
  gdouble sorted[MAX_RUNS];

  memcpy (sorted, bench_case->ns_per_buffer, runs * sizeof (gdouble));
  qsort (sorted, runs, sizeof (gdouble), bench_compare_doubles);
  if (runs % 2)
    bench_case->median = sorted[runs / 2];
  else
    bench_case->median = (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2;
  bench_case->spread = (sorted[runs - 1] - sorted[0]) / bench_case->median;
}

/* cases[size][path][loop] */
typedef BenchCase BenchTable[N_SIZES][N_PATHS][N_LOOPS];

static gboolean
measure_all (BenchTable cases, const BenchOptions * options)
{
  BenchCase *flat = &cases[0][0][0];
  const guint n_cases = N_SIZES * N_PATHS * N_LOOPS;

  for (guint c = 0; c < n_cases; c++)
    if (!calibrate_case (&flat[c], options->seconds))
      return FALSE;

  for (gint run = 0; run < options->runs; run++) {
    for (guint c = 0; c < n_cases; c++) {
      gint64 elapsed = run_case (&flat[c], flat[c].iterations);

      if (elapsed < 0)
        return FALSE;
      flat[c].ns_per_buffer[run] = (gdouble) elapsed / flat[c].iterations;
    }
  }
  for (guint c = 0; c < n_cases; c++)
    summarize_case (&flat[c], options->runs);
  return TRUE;
}

static const gchar *
size_name (gsize size)
{
  static gchar name[32];

  if (size >= 1024 * 1024 && size % (1024 * 1024) == 0)
    g_snprintf (name, sizeof (name), "%" G_GSIZE_FORMAT " MiB",
        size / (1024 * 1024));
  else if (size >= 1024 && size % 1024 == 0)
    g_snprintf (name, sizeof (name), "%" G_GSIZE_FORMAT " KiB", size / 1024);
  else
    g_snprintf (name, sizeof (name), "%" G_GSIZE_FORMAT " B", size);
  return name;
}


static gchar *
format_ns (gdouble ns)
{
  if (ns < 100)
    return g_strdup_printf ("%.1f", ns);
  return bench_group_digits (ns);
}

static void
print_text_row (gsize size, BenchPath path, BenchCase * loops,
    BenchCase * anchors)
{
  g_print ("%-8s %-13s", size_name (size), path_names[path]);
  for (gint l = 0; l < N_LOOPS; l++) {
    g_autofree gchar *rate = bench_group_digits (1e9 / loops[l].median);
    g_autofree gchar *ns = format_ns (loops[l].median);

    g_print (" | %13s %10s %8.2fx %5.1f%%", rate, ns,
        loops[l].median / anchors[l].median, loops[l].spread * 100);
  }
  g_print ("\n");
}

static void
print_text (BenchTable cases, const BenchOptions * options)
{
  g_print ("Buffer acquire + release (and write, copy), median of %d runs "
      "of ~%.2f s each\n(x default: cost per buffer relative to the default pool; "
      "spread: (max - min) / median)\n\n", options->runs, options->seconds);
  g_print ("%-8s %-13s", "", "");
  for (gint l = 0; l < N_LOOPS; l++)
    g_print (" | %-41s", loop_names[l]);
  g_print ("\n%-8s %-13s", "size", "path");
  for (gint l = 0; l < N_LOOPS; l++)
    g_print (" | %13s %10s %9s %6s", "buffers/s", "ns/buffer", "x default",
        "spread");
  g_print ("\n");
  for (guint s = 0; s < N_SIZES; s++)
    for (gint p = 0; p < N_PATHS; p++)
      print_text_row (sizes[s], p, cases[s][p], cases[s][PATH_DEFAULT_POOL]);
}

static void
print_markdown_row (gsize size, BenchPath path, BenchCase * loops,
    BenchCase * anchors)
{
  g_print ("| %s | %s", size_name (size), path_names[path]);
  for (gint l = 0; l < N_LOOPS; l++) {
    g_autofree gchar *rate = bench_group_digits (1e9 / loops[l].median);
    g_autofree gchar *ns = format_ns (loops[l].median);

    g_print (" | %s | %s | %.2fx", rate, ns,
        loops[l].median / anchors[l].median);
  }
  g_print (" |\n");
}

static void
print_markdown (BenchTable cases, const BenchOptions * options)
{
  gdouble worst = 0;

  g_print ("| Size | Path | buffers/s | ns/buffer | x default "
      "| buffers/s (+write) | ns/buffer (+write) | x default (+write) "
      "| buffers/s (+copy) | ns/buffer (+copy) | x default (+copy) |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (guint s = 0; s < N_SIZES; s++)
    for (gint p = 0; p < N_PATHS; p++) {
      print_markdown_row (sizes[s], p, cases[s][p],
          cases[s][PATH_DEFAULT_POOL]);
      for (gint l = 0; l < N_LOOPS; l++)
        worst = MAX (worst, cases[s][p][l].spread);
    }
  g_print ("\nMedian of %d runs of ~%.2f s per case; largest run-to-run "
      "spread ((max - min) / median) of any case: %.0f%%.\n", options->runs,
      options->seconds, worst * 100);
}

/* The target is about acquire + release; the figure with a write is shown
 * for information. */
static void
print_verdict (BenchTable cases)
{

  g_print ("\nTarget: arena pool cost <= %.1fx default pool "
      "(acquire + release)\n", TARGET_RATIO);
  for (guint s = 0; s < N_SIZES; s++) {
    BenchCase *arena = &cases[s][PATH_ARENA_POOL][LOOP_ACQUIRE_RELEASE];
    BenchCase *anchor = &cases[s][PATH_DEFAULT_POOL][LOOP_ACQUIRE_RELEASE];
    BenchCase *arena_w = &cases[s][PATH_ARENA_POOL][LOOP_WRITE_FIRST_BYTE];
    BenchCase *anchor_w = &cases[s][PATH_DEFAULT_POOL][LOOP_WRITE_FIRST_BYTE];
    gdouble ratio = arena->median / anchor->median;

    g_print ("  %-8s %.2fx  %s   (with a write: %.2fx)\n", size_name (sizes[s]),
        ratio, ratio <= TARGET_RATIO ? "met" : "MISSED",
        arena_w->median / anchor_w->median);
  }
}

static gboolean
parse_options (int *argc, char ***argv, BenchOptions * options)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    {"runs", 'r', 0, G_OPTION_ARG_INT, &options->runs,
        "Measured runs per case (default 7)", "N"},
    {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &options->seconds,
        "Approximate length of one run (default 0.2)", "S"},
    {"markdown", 'm', 0, G_OPTION_ARG_NONE, &options->markdown,
        "Print a markdown table", NULL},
    {NULL}
  };

  context = g_option_context_new ("- arena pool vs default pool benchmark");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, argc, argv, &error)) {
    g_printerr ("%s\n", error->message);
    return FALSE;
  }
  if (options->runs < 1 || options->runs > MAX_RUNS ||
      !(options->seconds > 0 && options->seconds <= 60)) {
    g_printerr ("--runs must be 1..%d and --seconds in (0, 60]\n", MAX_RUNS);
    return FALSE;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  BenchOptions options = {.runs = 7,.seconds = 0.2,.markdown = FALSE };
  static BenchTable cases;
  static BenchTarget targets[N_SIZES][N_PATHS];
  GstAllocator *memfd;
  gboolean ok = TRUE;

  if (!parse_options (&argc, &argv, &options))
    return 2;
  memfd = gst_px_memfd_allocator_new ();

  for (guint s = 0; s < N_SIZES && ok; s++)
    for (gint p = 0; p < N_PATHS && ok; p++) {
      ok = setup_target (p, sizes[s], memfd, &targets[s][p]);
      for (gint l = 0; l < N_LOOPS; l++) {
        cases[s][p][l].target = &targets[s][p];
        cases[s][p][l].loop = l;
      }
    }
  if (ok && !(ok = measure_all (cases, &options)))
    g_printerr ("a buffer could not be acquired, mapped or allocated\n");

  if (ok) {
    if (options.markdown)
      print_markdown (cases, &options);
    else
      print_text (cases, &options);
    print_verdict (cases);
  }

  for (guint s = 0; s < N_SIZES; s++)
    for (gint p = 0; p < N_PATHS; p++)
      clear_target (&targets[s][p]);
  gst_object_unref (memfd);
  return ok ? 0 : 1;
}
