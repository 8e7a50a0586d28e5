/* Parallax — a test-only element that misbehaves on purpose.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * "hostile" passes buffers through; on the first one (or the one after
 * "after-buffers") it tries the misdeed its "misdeed" property names, as code that took over a decoder would, and
 * posts the outcome as an element message "hostile-result" (misdeed, ret,
 * errno) — unless the sandbox kills it first, which is the point.
 *
 * Built into a plugin of its own ("parallaxtest") for the worker tests;
 * never installed.
 */
#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define GST_TYPE_HOSTILE (gst_hostile_get_type ())
G_DECLARE_FINAL_TYPE (GstHostile, gst_hostile, GST, HOSTILE, GstBaseTransform);

struct _GstHostile
{
  GstBaseTransform parent;
  gchar *misdeed;
  gint target_pid;
  guint after_buffers;
  guint buffers_seen;
  gboolean done;
};

G_DEFINE_TYPE (GstHostile, gst_hostile, GST_TYPE_BASE_TRANSFORM);

enum
{
  PROP_0,
  PROP_MISDEED,
  PROP_TARGET_PID,
  PROP_AFTER_BUFFERS,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

typedef int (*Misdeed) (GstHostile * self, GstBuffer * buffer);

static int
open_file (GstHostile * self, GstBuffer * buffer)
{
  return open ("/etc/hostname", O_RDONLY | O_CLOEXEC);
}

static int
write_file (GstHostile * self, GstBuffer * buffer)
{
  return open ("/tmp/parallax-hostile", O_WRONLY | O_CREAT | O_CLOEXEC,
      0600);
}

static int
connect_loopback (GstHostile * self, GstBuffer * buffer)
{
  struct sockaddr_in addr = {.sin_family = AF_INET,.sin_port = htons (22) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  return connect (fd, (struct sockaddr *) &addr, sizeof addr);
}

static int
exec_shell (GstHostile * self, GstBuffer * buffer)
{
  char *argv[] = { (char *) "/bin/sh", (char *) "-c", (char *) "true", NULL };

  return execve ("/bin/sh", argv, NULL);
}

static int
fork_process (GstHostile * self, GstBuffer * buffer)
{
  pid_t pid = fork ();

  if (pid == 0)
    _exit (0);
  if (pid > 0)
    waitpid (pid, NULL, 0);
  return pid < 0 ? -1 : 0;
}

static int
ptrace_parent (GstHostile * self, GstBuffer * buffer)
{
  return (int) ptrace (PTRACE_ATTACH, (pid_t) self->target_pid, NULL, NULL);
}

static int
kill_parent (GstHostile * self, GstBuffer * buffer)
{
  return kill ((pid_t) self->target_pid, SIGKILL);
}

/* The input buffer is the producer's memory, mapped read-only. */
static int
write_input (GstHostile * self, GstBuffer * buffer)
{
  GstMapInfo map;
  long page = sysconf (_SC_PAGESIZE);
  guintptr start;
  int ret;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return -1;
  start = (guintptr) map.data & ~(guintptr) (page - 1);
  ret = mprotect ((void *) start, page, PROT_READ | PROT_WRITE);
  gst_buffer_unmap (buffer, &map);
  return ret;
}

static int
allocate_forever (GstHostile * self, GstBuffer * buffer)
{
  for (;;) {
    char *block = malloc (64 << 20);

    if (block == NULL)
      return -1;
    memset (block, 1, 64 << 20);
  }
}

static int
spin_forever (GstHostile * self, GstBuffer * buffer)
{
  volatile guint64 n = 0;

  for (;;)
    n++;
  return 0;
}

/* Stays alive so that the threads add up. (pause() is refused by the jail
 * and would return at once.) */
static void *
park (void *unused)
{
  for (;;)
    g_usleep (G_USEC_PER_SEC);
  return NULL;
}

static int
spawn_threads (GstHostile * self, GstBuffer * buffer)
{
  for (int i = 0; i < 4096; i++) {
    pthread_t thread;
    int ret = pthread_create (&thread, NULL, park, NULL);

    if (ret != 0) {
      errno = ret;
      return -1;
    }
  }
  return 0;
}

static int
map_writable_executable (GstHostile * self, GstBuffer * buffer)
{
  void *p = mmap (NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  return p == MAP_FAILED ? -1 : 0;
}

/* A wild write, as an exploited decoder would make: SIGSEGV. */
static int
crash (GstHostile * self, GstBuffer * buffer)
{
  volatile int *nowhere = NULL;

  *nowhere = 1;
  return 0;
}

static const struct
{
  const gchar *name;
  Misdeed func;
} misdeeds[] = {
  {"open-file", open_file},
  {"write-file", write_file},
  {"connect", connect_loopback},
  {"exec", exec_shell},
  {"fork", fork_process},
  {"ptrace", ptrace_parent},
  {"kill", kill_parent},
  {"write-input", write_input},
  {"allocate", allocate_forever},
  {"spin", spin_forever},
  {"threads", spawn_threads},
  {"wx-mmap", map_writable_executable},
  {"crash", crash},
};

static GstFlowReturn
gst_hostile_transform_ip (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstHostile *self = GST_HOSTILE (trans);
  int ret, saved_errno;

  if (self->done || self->misdeed == NULL ||
      self->buffers_seen++ < self->after_buffers)
    return GST_FLOW_OK;
  self->done = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (misdeeds); i++) {
    if (!g_str_equal (self->misdeed, misdeeds[i].name))
      continue;
    errno = 0;
    ret = misdeeds[i].func (self, buffer);
    saved_errno = errno;
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new ("hostile-result", "misdeed", G_TYPE_STRING,
                self->misdeed, "ret", G_TYPE_INT, ret, "errno", G_TYPE_INT,
                ret < 0 ? saved_errno : 0, NULL)));
    return GST_FLOW_OK;
  }
  GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS, ("no misdeed '%s'",
          self->misdeed), (NULL));
  return GST_FLOW_ERROR;
}

static void
gst_hostile_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHostile *self = GST_HOSTILE (object);

  switch (prop_id) {
    case PROP_MISDEED:
      g_free (self->misdeed);
      self->misdeed = g_value_dup_string (value);
      break;
    case PROP_TARGET_PID:
      self->target_pid = g_value_get_int (value);
      break;
    case PROP_AFTER_BUFFERS:
      self->after_buffers = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hostile_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstHostile *self = GST_HOSTILE (object);

  switch (prop_id) {
    case PROP_MISDEED:
      g_value_set_string (value, self->misdeed);
      break;
    case PROP_TARGET_PID:
      g_value_set_int (value, self->target_pid);
      break;
    case PROP_AFTER_BUFFERS:
      g_value_set_uint (value, self->after_buffers);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hostile_finalize (GObject * object)
{
  g_free (GST_HOSTILE (object)->misdeed);
  G_OBJECT_CLASS (gst_hostile_parent_class)->finalize (object);
}

static void
gst_hostile_class_init (GstHostileClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_hostile_set_property;
  gobject_class->get_property = gst_hostile_get_property;
  gobject_class->finalize = gst_hostile_finalize;
  g_object_class_install_property (gobject_class, PROP_MISDEED,
      g_param_spec_string ("misdeed", "Misdeed",
          "What to try on the first buffer", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_TARGET_PID,
      g_param_spec_int ("target-pid", "Target pid",
          "The process to ptrace or kill", 0, G_MAXINT, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_AFTER_BUFFERS,
      g_param_spec_uint ("after-buffers", "After buffers",
          "Buffers passed through untouched before the misdeed", 0,
          G_MAXUINT, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Hostile element",
      "Filter", "Misbehaves on purpose, for sandbox tests", "Parallax");
  GST_BASE_TRANSFORM_CLASS (klass)->transform_ip = gst_hostile_transform_ip;
}

static void
gst_hostile_init (GstHostile * self)
{
  /* Passthrough: transform_ip sees the buffer as it arrived (in the worker,
   * the producer's read-only memory), not a writable copy. */
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}

static gboolean
plugin_init (GstPlugin * plugin)
{
  return gst_element_register (plugin, "hostile", GST_RANK_NONE,
      GST_TYPE_HOSTILE);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, parallaxtest,
    "Parallax test elements (never installed)", plugin_init, "0",
    "LGPL", "Parallax", "Unknown package origin")
