#!/bin/sh
# Parallax — the test suite under sanitizers.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: tests/run-sanitizers.sh
#
# build-asan/: AddressSanitizer + UndefinedBehaviorSanitizer, every test
# except the "jail" suite. Processes the tests start from the system
# (gst-launch-1.0) load this build's plugin, so the sanitizer runtimes are
# preloaded for them; leaks are reported (tests/lsan.supp lists what the
# system libraries keep on purpose).
#
# build-ubsan/: UndefinedBehaviorSanitizer alone, the "jail" suite: a jailed
# worker runs under RLIMIT_AS and a seccomp allowlist, and AddressSanitizer
# needs terabytes of address space for its shadow memory, so the jail is
# checked with the sanitizer that needs none.
#
# Exits non-zero when a test fails or a sanitizer reports anything.
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
cd "$srcdir"

setup() {
  dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    CC=gcc meson setup "$dir" -Db_lundef=false -Dintrospection=disabled "$@"
  fi
  meson compile -C "$dir"
}

status=0
# The logs of this run only (run.sh counts from them).
rm -f build-asan/meson-logs/asan*.json build-ubsan/meson-logs/ubsan*.json

setup build-asan -Db_sanitize=address,undefined
asan_rt=$(gcc -print-file-name=libasan.so)
ubsan_rt=$(gcc -print-file-name=libubsan.so)
# The runtimes are preloaded into the tests (and so into what they start)
# through meson's wrapper, not into meson itself. Registry scanning runs in
# the test process, not in the system's uninstrumented gst-plugin-scanner.
ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=0:quarantine_size_mb=16" \
  LSAN_OPTIONS="suppressions=$srcdir/tests/lsan.supp:print_suppressions=0" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  GST_REGISTRY_FORK=no \
  meson test -C build-asan --no-suite jail --print-errorlogs \
    --wrapper "env LD_PRELOAD=$asan_rt:$ubsan_rt" \
    --num-processes 2 --logbase asan || status=1

setup build-ubsan -Db_sanitize=undefined
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  meson test -C build-ubsan --suite jail --print-errorlogs \
    --num-processes 2 --logbase ubsan || status=1

exit $status
