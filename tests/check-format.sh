#!/bin/sh
# Parallax — the C sources in GStreamer's style (GNU indent, as gst-indent
# runs it: 2-space indents, braces on the if line, 80 columns).
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: tests/check-format.sh [--fix] [FILE...]
#
# Without FILE, every tracked .c and .h file. Prints the files whose
# formatting differs, with the diff, and exits non-zero; --fix rewrites
# them instead. Code that indent cannot lay out (G_DEFINE_QUARK's dashed
# name, extern "C" blocks) goes between /* *INDENT-OFF* */ and
# /* *INDENT-ON* */.
set -eu

fix=0
if [ "${1:-}" = "--fix" ]; then
  fix=1
  shift
fi

srcdir=$(cd "$(dirname "$0")/.." && pwd)
cd "$srcdir"
command -v indent >/dev/null || {
  echo "GNU indent is missing (Debian package indent; ./run.sh installs it)" >&2
  exit 2
}

style() {
  # indent is not idempotent on every input: twice, as gst-indent does
  for pass in 1 2; do
    indent --braces-on-if-line --case-brace-indentation0 \
      --case-indentation2 --braces-after-struct-decl-line \
      --line-length80 --no-tabs --cuddle-else --dont-line-up-parentheses \
      --continuation-indentation4 --honour-newlines --tab-size8 \
      --indent-level2 --leave-preprocessor-space "$1" -o "$1.tmp" &&
      mv "$1.tmp" "$1"
  done
}

if [ $# -eq 0 ]; then
  set -- $(git ls-files '*.c' '*.h')
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
bad=0
for file in "$@"; do
  cp "$file" "$work/file.c"
  style "$work/file.c" 2>/dev/null
  if ! cmp -s "$file" "$work/file.c"; then
    if [ $fix -eq 1 ]; then
      cp "$work/file.c" "$file"
      echo "formatted $file"
    else
      echo "$file is not formatted:"
      diff -u "$file" "$work/file.c" | sed -n '3,40p'
      bad=1
    fi
  fi
done
[ $bad -eq 0 ] || echo "run tests/check-format.sh --fix to format" >&2
exit $bad
