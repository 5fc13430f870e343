#!/bin/bash
# The tests that need the Pi's real camera stack (picamera2, libcamera's
# Python bindings, PyAV): Debian 13 packages libcamera's bindings, Debian
# 12 (this machine) does not. So they run in a Debian 13 root: the system
# test's trixie tree (tests/system/rootfs.sh, cached), with picamera2 and
# lgpio as on a Pi (tests/system/device-stack.sh), vigbox's dependencies
# in a venv that sees them, and this checkout mounted read-only at /src.
# `make test` runs this after the main suite. Needs root (chroot, mounts).
#
#   tests/camera/run.sh [PYTEST ARGS...]
#   tests/camera/run.sh --bench [--quick]     (figure 8 of make bench, as JSON)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${VIGBOX_VM_CACHE:-/var/cache/vigbox-vm}
PYTHON=${PYTHON:-python3}
if [ "$(id -u)" -ne 0 ]; then
  echo "tests/camera needs root (a chroot into a Debian 13 root): sudo make test" >&2
  exit 1
fi

install_vigbox_dependencies() {  # and pytest's, for the root's Python, offline in it
  local guest wheels=$ROOT/opt/wheels
  guest=$(chroot "$ROOT" python3 -c 'import sys; print("%d%d" % sys.version_info[:2])')
  mkdir -p "$wheels"
  # the pins as the guest's Python reads them (tests/system/guest_constraints.py)
  "$PYTHON" "$REPO/tests/system/guest_constraints.py" "$guest" \
    < "$REPO/constraints.txt" > "$wheels/constraints.txt"
  "$PYTHON" -m pip wheel -q --no-deps -w "$wheels" "$REPO"
  "$PYTHON" -m pip download -q --only-binary=:all: --python-version "$guest" \
    --implementation cp --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_34_x86_64 -c "$wheels/constraints.txt" -d "$wheels" \
    "$wheels"/vigbox-*.whl pytest hypothesis
  chroot "$ROOT" sh -c 'python3 -m venv --system-site-packages /opt/venv &&
    /opt/venv/bin/pip install -q --no-index --find-links /opt/wheels vigbox pytest hypothesis'
}

tarball=$(bash "$REPO/tests/system/rootfs.sh" trixie "$CACHE")
# VIGBOX_CAMERA_ROOT=DIR keeps the root there and reuses it (for working
# on these tests: a run then takes seconds); by default it is thrown away
mkdir -p "$CACHE"
ROOT=${VIGBOX_CAMERA_ROOT:-$(mktemp -d "$CACHE/camera-root.XXXXXX")}
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" || true; done
  [ -n "${VIGBOX_CAMERA_ROOT:-}" ] || rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT
if [ ! -x "$ROOT/opt/venv/bin/python" ]; then
  mkdir -p "$ROOT"
  tar --numeric-owner -xpf "$tarball" -C "$ROOT"
  bash "$REPO/tests/system/device-stack.sh" "$ROOT" "$CACHE"
  install_vigbox_dependencies
fi


for dir in proc sys dev; do
  mount --rbind "/$dir" "$ROOT/$dir" && mounted+=("$ROOT/$dir")
done
mkdir -p "$ROOT/src"
mount --bind -o ro "$REPO" "$ROOT/src" && mounted+=("$ROOT/src")
mount -o remount,bind,ro "$ROOT/src"
run=(-m pytest -p no:cacheprovider --rootdir=/src /src/tests/camera /src/appliance/capture)
if [ "${1:-}" = --bench ]; then  # make bench's figure 8 (bench/camera.py), not the tests
  shift
  run=(-m bench.camera)
fi
chroot "$ROOT" env -i PATH=/opt/venv/bin:/usr/bin:/bin HOME=/root VIGBOX_CAMERA=1 \
  PYTHONPATH=/src PYTHONDONTWRITEBYTECODE=1 /opt/venv/bin/python "${run[@]}" "$@"
