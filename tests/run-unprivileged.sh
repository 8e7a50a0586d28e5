#!/bin/sh
# Runs a test program as the unprivileged user "nobody" (uid 65534), with a
# registry of its own in a temporary directory. Run as anyone else, there is
# nothing to switch: the test is skipped (exit 77, meson's skip status).
#
# The whole suite as nobody, from a root shell:
#   meson test -C build --wrapper "$PWD/tests/run-unprivileged.sh"
set -eu

if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: already unprivileged (the normal run covers this user)"
  exit 77
fi
dir=$(mktemp -d)
chmod 755 "$dir"
chown 65534:65534 "$dir"
trap 'rm -rf "$dir"' EXIT INT TERM
# libcheck keeps its messages in a file in the working directory.
program=$(realpath "$1")
shift
cd "$dir"
GST_REGISTRY="$dir/registry" HOME="$dir" TMPDIR="$dir" \
  setpriv --reuid=65534 --regid=65534 --clear-groups -- "$program" "$@"
