#!/bin/sh
# Parallax — installs into a fresh prefix and uses what was installed, as
# the README's installed-use steps do.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: tests/run-install.sh
#
# Configures build-install/ with --prefix in a temporary directory,
# installs, then, with nothing of the build tree on any path:
#   - gst-inspect-1.0 finds the plugin and its elements;
#   - a pipeline runs through the installed ipcsink and ipcsrc;
#   - a C program builds against `pkg-config parallax-1.0` and finds the
#     "pxmemfd" allocator through gst_px_init();
#   - Python finds the Parallax typelib through gi;
#   - parallax-worker is where the plugin looks for it.
# Exits non-zero at the first step that fails.
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir="$srcdir/build-install"
prefix=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$prefix" "$work"' EXIT INT TERM

meson setup --wipe "$builddir" "$srcdir" --prefix="$prefix" \
  -Dtests=disabled >/dev/null 2>&1 ||
  meson setup "$builddir" "$srcdir" --prefix="$prefix" -Dtests=disabled \
    >/dev/null
meson compile -C "$builddir" >/dev/null
meson install -C "$builddir" --quiet

libdir=$(meson introspect "$builddir" --buildoptions |
  /usr/bin/python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="libdir"))')
libexecdir=$(meson introspect "$builddir" --buildoptions |
  /usr/bin/python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="libexecdir"))')

# Only the installed tree, no meson devenv, no PARALLAX_WORKER.
unset PARALLAX_WORKER GST_PLUGIN_PATH GST_PLUGIN_PATH_1_0 LD_LIBRARY_PATH \
  GI_TYPELIB_PATH || true
export GST_PLUGIN_PATH="$prefix/$libdir/gstreamer-1.0"
export GST_REGISTRY="$work/registry.bin"
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
export GI_TYPELIB_PATH="$prefix/$libdir/girepository-1.0"

step() { echo "install: $*"; }

step "gst-inspect-1.0 parallax"
gst-inspect-1.0 parallax | grep -q "ipcsink" || {
  echo "the installed plugin does not list ipcsink" >&2
  exit 1
}
gst-inspect-1.0 ipcsrc >/dev/null

step "the worker is installed where the plugin looks for it"
test -x "$prefix/$libexecdir/parallax-worker"

step "a pipeline through the installed ipcsink and ipcsrc"
socket="$work/ipc"
gst-launch-1.0 -q videotestsrc num-buffers=50 ! \
  video/x-raw,width=320,height=240 ! ipcsink socket-path="$socket" \
  wait-for-connection=true &
producer=$!
tries=0
while [ ! -S "$socket" ] && [ $tries -lt 100 ]; do
  sleep 0.05
  tries=$((tries + 1))
done
timeout 30 gst-launch-1.0 -q ipcsrc socket-path="$socket" is-live=false ! \
  fakesink
wait $producer

# The plugin and the worker find the library through their run path; an
# application in a prefix the loader does not search needs it on
# LD_LIBRARY_PATH (under /usr it does not).
export LD_LIBRARY_PATH="$prefix/$libdir"

step "a C program built with pkg-config parallax-1.0"
cat >"$work/app.c" <<'C'
#include <parallax/parallax.h>

int
main (int argc, char **argv)
{
  GstAllocator *allocator;
  GstMemory *mem;

  gst_init (&argc, &argv);
  gst_px_init ();
  allocator = gst_allocator_find (GST_PX_MEMFD_ALLOCATOR_NAME);
  if (allocator == NULL)
    return 1;
  mem = gst_allocator_alloc (allocator, 4096, NULL);
  if (mem == NULL || !gst_is_fd_memory (mem))
    return 2;
  gst_memory_unref (mem);
  gst_object_unref (allocator);
  return 0;
}
C
# shellcheck disable=SC2046
cc -o "$work/app" "$work/app.c" $(pkg-config --cflags --libs parallax-1.0)
"$work/app"

if [ -f "$GI_TYPELIB_PATH/Parallax-1.0.typelib" ]; then
  step "Python through gi"
  /usr/bin/python3 - <<'PY'
import gi
gi.require_version("Gst", "1.0")
gi.require_version("Parallax", "1.0")
from gi.repository import Gst, Parallax
Gst.init(None)
Parallax.init()
assert Gst.Allocator.find("pxmemfd") is not None
pool = Parallax.ArenaPool.new()
config = pool.get_config()
caps = Gst.Caps.from_string("video/x-raw,format=RGBA,width=64,height=64")
Gst.BufferPool.config_set_params(config, caps, 64 * 64 * 4, 2, 2)
assert pool.set_config(config) and pool.set_active(True)
ok, buf = pool.acquire_buffer(None)
assert ok == Gst.FlowReturn.OK
pool.set_active(False)
PY
fi
echo "install: everything installed works"
