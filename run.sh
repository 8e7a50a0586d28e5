#!/usr/bin/env bash
# Parallax quick start.
#
#   ./run.sh demo    install what is missing, build, run the demo
#   ./run.sh test    install what is missing, build, run every test: the
#                    suite, the installed tree, the suite under sanitizers,
#                    the threaded tests under ThreadSanitizer, the fuzzers,
#                    the formatting; ends with "N passed, N failed"
#   ./run.sh build   install what is missing and build
#
# PARALLAX_FUZZ_SECONDS (default 60) is how long each fuzzer runs.
#
# Debian 12. Packages are installed with apt-get (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DIR=${PARALLAX_BUILD_DIR:-build}

DEBIAN_PACKAGES=(
  meson ninja-build pkg-config gcc clang libclang-rt-14-dev
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libseccomp-dev liborc-0.4-dev indent
  gobject-introspection libgirepository1.0-dev python3-gi
  gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  gstreamer1.0-x
  graphviz
)

install_packages() {
  local missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
}

build() {
  install_packages
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    meson setup "$BUILD_DIR" -Dwerror=true
  fi
  meson compile -C "$BUILD_DIR"
}

# Runs every stage, even after one failed, and counts: each test of a
# meson run, and each other stage as one test.
run_tests() {
  local suite=0 install=0 sanitizers=0 tsan=0 fuzz=0 format=0
  rm -f "$BUILD_DIR"/meson-logs/testlog*.json \
    "$BUILD_DIR"/meson-logs/unprivileged*.json
  meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 || suite=1
  # the whole suite again as the unprivileged user nobody (when root)
  if [ "$(id -u)" -eq 0 ]; then
    meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 \
      --logbase unprivileged --wrapper "$PWD/tests/run-unprivileged.sh" ||
      suite=1
  fi
  tests/run-install.sh || install=1
  tests/run-sanitizers.sh || sanitizers=1
  tests/run-tsan.sh || tsan=1
  tests/fuzz/run-fuzz.sh "${PARALLAX_FUZZ_SECONDS:-60}" || fuzz=1
  tests/check-format.sh || format=1

  /usr/bin/python3 - "$suite" "$install" "$sanitizers" "$tsan" "$fuzz" \
    "$format" \
    "$BUILD_DIR/meson-logs/testlog.json" \
    "$BUILD_DIR/meson-logs/unprivileged*.json" \
    "build-asan/meson-logs/asan*.json" "build-ubsan/meson-logs/ubsan*.json" \
    "build-tsan/meson-logs/tsan*.json" \
    <<'PY'
import glob, json, sys
suite, install, sanitizers, tsan, fuzz, format_ = map(int, sys.argv[1:7])
import os
ok = bad = skipped = 0
failed = []
for pattern in sys.argv[7:]:
    if "unprivileged" in pattern and os.getuid() != 0:
        continue  # nobody to switch to: the first run was unprivileged
    # meson names a log after its --logbase and its --wrapper
    paths = glob.glob(pattern)
    if not paths:
        print(f"no test log {pattern}: that run did not happen",
              file=sys.stderr)
        bad += 1
        continue
    for path in paths:
        for line in filter(None, map(str.strip, open(path))):
            test = json.loads(line)
            result = test.get("result")
            if result in ("OK", "EXPECTEDFAIL"):
                ok += 1
            elif result == "SKIP":
                skipped += 1
            else:
                bad += 1
                failed.append(f"{os.path.basename(path)}: {test.get('name')}"
                              f" ({result})")
# A meson run that failed without a failed test (a build error, or a
# ThreadSanitizer report from a process no test waited for) is a failure.
if (suite or sanitizers or tsan) and bad == 0:
    bad += 1
    failed.append("a meson run, with no failed test (see its output)")
for name, stage in (("install", install), ("fuzz", fuzz),
                    ("format", format_)):
    ok, bad = (ok, bad + 1) if stage else (ok + 1, bad)
    if stage:
        failed.append(f"stage {name}")
# the names last, where a reader of the tail of the output sees them
for name in failed:
    print(f"FAILED {name}", file=sys.stderr)
if skipped:
    print(f"{skipped} skipped", file=sys.stderr)
print(f"{ok} passed, {bad} failed")
sys.exit(1 if bad else 0)
PY
}

case "${1:-}" in
  build)
    build
    ;;
  demo)
    build
    # sandboxbin: a jailed decoder, a crash and its restart. The ipcsink /
    # ipcsrc demo is examples/parallax-demo (examples/README.md).
    meson devenv -C "$BUILD_DIR" ./examples/sandbox-demo
    ;;
  test)
    build
    run_tests
    ;;
  *)
    echo "usage: $0 demo|test|build" >&2
    exit 2
    ;;
esac
