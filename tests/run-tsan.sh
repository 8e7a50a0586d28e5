#!/bin/sh
# Parallax — the threaded tests under ThreadSanitizer.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: tests/run-tsan.sh
#
# build-tsan/: the plugin, the core and the tests built with
# -fsanitize=thread (gcc), and these tests run: ipc, ipc_hostile,
# arena_request (both ends of a connection in one process), worker and
# sandboxbin (the host side of a jailed worker). docs/threading.md says what
# this covers and what it does not.
#
# The worker itself runs uninstrumented: the jail refuses what the
# ThreadSanitizer runtime needs (its own thread, where lockdown wants one;
# terabytes of shadow mappings, past RLIMIT_AS; calls the seccomp filter
# kills). The tests start it through build-tsan/parallax-worker, a script
# that runs the worker of ${PARALLAX_BUILD_DIR:-build} on the plugins of
# that build: the host names build-tsan's plugin files, which need the
# runtime.
#
# GLib and GStreamer are not instrumented: tests/tsan-glib.c, preloaded,
# shows ThreadSanitizer the ordering their locks, conditions, one-time
# initialisation, thread pools and reference counts give, and
# ignore_noninstrumented_modules leaves out the accesses made inside them.
#
# tests/tsan.supp lists the ordering inside GStreamer that neither can
# show. Exits non-zero when a test fails or ThreadSanitizer reports anything
# (in a test or in a process it started).
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
cd "$srcdir"

dir=build-tsan
plain=${PARALLAX_BUILD_DIR:-build}
case $plain in
  /*) ;;
  *) plain=$srcdir/$plain ;;
esac
tsan=$srcdir/$dir
tests="ipc ipc_hostile arena_request worker sandboxbin"

if [ ! -f "$dir/build.ninja" ]; then
  CC=gcc meson setup "$dir" -Db_sanitize=thread -Db_lundef=false \
    -Dintrospection=disabled
fi
# Only what these tests run (meson test would build everything).
meson compile -C "$dir" gstparallax gstparallaxtest ipc-hostile-peer \
  $(for t in $tests; do printf 'test_%s ' "$t"; done)
# The uninstrumented worker and the plugins it loads.
if [ ! -f "$plain/build.ninja" ]; then
  meson setup "$plain" -Dwerror=true
fi
meson compile -C "$plain" parallax-worker parallax-orc-compiler gstparallax \
  gstparallaxtest

runtime=$(gcc -print-file-name=libtsan.so)
gcc -shared -fPIC -O1 -g -Wall -Wextra -Wno-unused-parameter \
  $(pkg-config --cflags glib-2.0) -o "$dir/tsan-glib.so" tests/tsan-glib.c \
  -ldl

# The host's registry names build-tsan's plugin files; the worker loads
# the same plugins from the uninstrumented build.
cat >"$dir/parallax-worker" <<EOF
#!/bin/sh
for arg do
  shift
  case \$arg in
    --plugin=$tsan/gst-plugin/*|--plugin=$tsan/tests/hostile/*)
      arg="--plugin=$plain/\${arg#--plugin=$tsan/}" ;;
  esac
  set -- "\$@" "\$arg"
done
exec $plain/worker/parallax-worker "\$@"
EOF
chmod +x "$dir/parallax-worker"

# The system plugins the tests use, scanned in the test process (an
# uninstrumented gst-plugin-scanner cannot load build-tsan's plugin), and
# only those: under ThreadSanitizer a scan of every installed plugin takes
# minutes.
system=$(pkg-config --variable=pluginsdir gstreamer-1.0)
rm -rf "$dir/system-plugins"
mkdir "$dir/system-plugins"
for plugin in coreelements videotestsrc audiotestsrc videoconvertscale \
  audioconvert audioresample jpeg png vpx x264 videoparsersbad libav \
  matroska isomp4 vorbis ogg; do
  ln -s "$system/libgst$plugin.so" "$dir/system-plugins/"
done
rm -f "$dir"/tests/*.registry "$dir"/meson-logs/tsan*.json

# Skipped here: test_start_names_the_missing_setting unshares a user
# namespace, which the kernel refuses to a process of several threads (the
# runtime's own thread makes every process one);
# test_crash_restarts_and_reaches_eos counts restarts exactly, and under
# the runtime's slowdown a heartbeat may miss its deadline and add one (its
# paths run in the other supervision tests).
# Reports go to files: helpers the tests start report there too.
rm -rf "$dir/tsan-reports"
mkdir "$dir/tsan-reports"
status=0
G_SLICE=always-malloc \
  GST_REGISTRY_FORK=no \
  GST_CHECKS_IGNORE=test_start_names_the_missing_setting,test_crash_restarts_and_reaches_eos \
  TSAN_OPTIONS="ignore_noninstrumented_modules=1:second_deadlock_stack=1:\
suppressions=$srcdir/tests/tsan.supp:log_path=$tsan/tsan-reports/report" \
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 \
    --logbase tsan --wrapper "env LD_PRELOAD=$runtime:$tsan/tsan-glib.so \
GST_PLUGIN_SYSTEM_PATH_1_0=$tsan/system-plugins \
PARALLAX_WORKER=$tsan/parallax-worker \
PARALLAX_ORC_COMPILER=$plain/worker/parallax-orc-compiler" \
    $tests || status=1

for report in "$dir"/tsan-reports/report.*; do
  [ -f "$report" ] || continue
  cat "$report" >&2
  status=1
done
exit $status
