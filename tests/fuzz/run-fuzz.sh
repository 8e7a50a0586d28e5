#!/bin/sh
# Parallax — builds the wire protocol and ORC bytecode fuzzers and runs
# them, SECONDS each.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: tests/fuzz/run-fuzz.sh SECONDS
#
# Configures a separate build directory, build-fuzz/ at the top of the
# source tree, with clang and -Dfuzzing=true (the gst-check suite is left
# out), builds fuzz_wire and make_corpus, seeds a temporary corpus with one
# valid message of every type and fuzzes for SECONDS seconds. Exits non-zero
# when the fuzzer finds a crash, a sanitizer report or a leaked fd; the
# input that triggered it is kept in build-fuzz/fuzz-artifacts/.
set -eu

if [ $# -ne 1 ] || ! [ "$1" -gt 0 ] 2>/dev/null; then
  echo "usage: $0 SECONDS" >&2
  exit 2
fi
seconds=$1

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir="$srcdir/build-fuzz"

if [ ! -f "$builddir/build.ninja" ]; then
  CC=clang meson setup "$builddir" "$srcdir" \
    -Dfuzzing=true -Dtests=disabled
fi
ninja -C "$builddir" tests/fuzz/fuzz_wire tests/fuzz/make_corpus \
  tests/fuzz/fuzz_orc_bytecode tests/fuzz/make_orc_corpus

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT INT TERM
"$builddir/tests/fuzz/make_corpus" "$workdir/corpus"

artifacts="$builddir/fuzz-artifacts"
mkdir -p "$artifacts"

status=0
"$builddir/tests/fuzz/fuzz_wire" \
  -max_total_time="$seconds" \
  -max_len=70000 \
  -timeout=10 \
  -print_final_stats=1 \
  -artifact_prefix="$artifacts/" \
  "$workdir/corpus" || status=$?

if [ "$status" -ne 0 ]; then
  echo "fuzz_wire failed (exit status $status); reproducer in $artifacts/" >&2
  exit 1
fi
echo "fuzz_wire: no findings in $seconds seconds"

# The ORC compiler's check of a program, with ORC compiling what it accepts.
"$builddir/tests/fuzz/make_orc_corpus" "$workdir/orc-corpus"
status=0
"$builddir/tests/fuzz/fuzz_orc_bytecode" \
  -max_total_time="$seconds" \
  -max_len=4096 \
  -timeout=10 \
  -print_final_stats=1 \
  -artifact_prefix="$artifacts/" \
  "$workdir/orc-corpus" || status=$?
if [ "$status" -ne 0 ]; then
  echo "fuzz_orc_bytecode failed (exit status $status); reproducer in" \
    "$artifacts/" >&2
  exit 1
fi
echo "fuzz_orc_bytecode: no findings in $seconds seconds"
