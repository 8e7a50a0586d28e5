#!/bin/sh
# Parallax — builds the fuzzers and runs each of them, SECONDS each.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: tests/fuzz/run-fuzz.sh SECONDS
#
# Configures a separate build directory, build-fuzz/ at the top of the
# source tree, with clang and -Dfuzzing=true (the gst-check suite is left
# out), builds fuzz_wire, fuzz_serialize and make_corpus, seeds a temporary
# corpus for each (one valid message of every type; honest bodies, the
# 30,000-deep body and bodies of new names) and runs each fuzzer for
# SECONDS seconds, one after the other. Exits non-zero when either finds a
# crash, a sanitizer report, a leaked fd or a broken rule; the input that
# triggered it is kept in build-fuzz/fuzz-artifacts/.
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
ninja -C "$builddir" tests/fuzz/fuzz_wire tests/fuzz/fuzz_serialize \
  tests/fuzz/make_corpus tests/fuzz/fuzz_orc_bytecode tests/fuzz/make_orc_corpus

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT INT TERM
"$builddir/tests/fuzz/make_corpus" "$workdir/wire" "$workdir/text"

artifacts="$builddir/fuzz-artifacts"
mkdir -p "$artifacts"

# run_fuzzer NAME CORPUS MAX_LEN SECONDS [OPTION...]
run_fuzzer() {
  status=0
  name=$1 corpus=$2 max_len=$3 time=$4
  shift 4
  "$builddir/tests/fuzz/$name" \
    -max_total_time="$time" \
    -max_len="$max_len" \
    -timeout=10 \
    "$@" \
    -print_final_stats=1 \
    -artifact_prefix="$artifacts/$name-" \
    "$corpus" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "$name failed (exit status $status); reproducer in $artifacts/" >&2
    return 1
  fi
  echo "$name: no findings in $time seconds"
}

failed=0
run_fuzzer fuzz_wire "$workdir/wire" 70000 "$seconds" || failed=1
# Bodies up to the largest the wire allows, plus the two control bytes.
# Twice: first for coverage, without leak checks; then, on the corpus the
# first run grew (libFuzzer runs every input of it before mutating), with
# them. Leak checks need full stacks at every allocation (an eighth of the
# speed): GLib keeps the quark arrays it outgrows on purpose, and only a
# full stack lets tests/lsan.supp tell that from a leak of ours.
export ASAN_OPTIONS=detect_leaks=0
run_fuzzer fuzz_serialize "$workdir/text" 65474 "$seconds" -detect_leaks=0 ||
  failed=1
export ASAN_OPTIONS=fast_unwind_on_malloc=0
export LSAN_OPTIONS="suppressions=$srcdir/tests/lsan.supp"
run_fuzzer fuzz_serialize "$workdir/text" 65474 $(((seconds + 1) / 2)) \
  -detect_leaks=1 || failed=1
unset ASAN_OPTIONS LSAN_OPTIONS
# The ORC compiler's check of a program, with ORC compiling what it accepts.
"$builddir/tests/fuzz/make_orc_corpus" "$workdir/orc-corpus"
run_fuzzer fuzz_orc_bytecode "$workdir/orc-corpus" 4096 "$seconds" ||
  failed=1
exit "$failed"
