#!/bin/bash
# Install into a Debian root (a chroot folder) what Raspberry Pi OS's
# packages give a Pi and Debian does not package: lgpio, and on Debian 13
# (whose libcamera has Python bindings) picamera2 (PyPI's, with the two
# of its dependencies Debian lacks), into the system's
# Python, where vigbox's venv (made with --system-site-packages) finds
# them as it finds python3-picamera2 on a Pi. pidng and lgpio have no
# wheel for Debian 13's Python and are built from their sources inside
# the root. kms++ is not packaged in Debian and cannot be built from a
# registry; picamera2 needs only to import it: tests/system/pykms.py.
#
#   tests/system/device-stack.sh ROOT [CACHE]
set -euo pipefail
ROOT=$1
CACHE=${2:-/var/cache/vigbox-vm}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-python3}
pins() { grep -E "^($(echo "$@" | tr ' ' '|'))==" "$REPO/constraints.txt"; }

guest=$(chroot "$ROOT" python3 -c 'import sys; print("%d%d" % sys.version_info[:2])')
# Debian 12 has no libcamera bindings: lgpio alone. lgpio is always built
# here: PyPI's x86-64 wheel stops on an illegal instruction on the VM's
# baseline CPU (qemu64), and has no build for Debian 13's Python anyway
if chroot "$ROOT" python3 -c 'import libcamera' 2>/dev/null; then
  binary=(picamera2 videodev2 simplejpeg) built=(pidng lgpio)
else
  binary=() built=(lgpio)
fi
key=$(pins "${binary[@]}" "${built[@]}" | sha256sum | cut -c1-12)
wheels=$CACHE/device-wheels-cp$guest-$key
if [ ! -d "$wheels" ]; then
  rm -rf "$wheels.partial" && mkdir -p "$wheels.partial/src"
  [ ${#binary[@]} -eq 0 ] || "$PYTHON" -m pip download -q --no-cache-dir --no-deps \
    --only-binary=:all: --python-version "$guest" --implementation cp \
    --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_34_x86_64 -d "$wheels.partial" $(pins "${binary[@]}")
  [ ${#built[@]} -eq 0 ] || "$PYTHON" -m pip download -q --no-cache-dir --no-deps \
    --no-binary=:all: -d "$wheels.partial/src" $(pins "${built[@]}")
  mkdir -p "$ROOT/tmp/device-src/built"
  cp "$wheels.partial"/src/* "$ROOT/tmp/device-src/" 2>/dev/null || true
  # PYPI=1: lgpio's own switch for the build its PyPI wheels have (its C
  # library linked in from the sources it ships, not a system liblgpio)
  chroot "$ROOT" sh -c 'cd /tmp/device-src && for s in *.tar.gz; do [ -e "$s" ] || break
    PYPI=1 python3 -m pip wheel -q --no-deps --no-build-isolation --no-index \
      -w /tmp/device-src/built "$s" || exit 1; done' >&2
  cp "$ROOT"/tmp/device-src/built/*.whl "$wheels.partial/" 2>/dev/null || true
  rm -rf "$ROOT/tmp/device-src" "$wheels.partial/src"
  mv "$wheels.partial" "$wheels"
fi
mkdir -p "$ROOT/tmp/device-wheels"
cp "$wheels"/*.whl "$ROOT/tmp/device-wheels/"
chroot "$ROOT" sh -c 'python3 -m pip install -q --break-system-packages --root-user-action=ignore \
  --no-index --no-deps /tmp/device-wheels/*.whl' >&2
rm -rf "$ROOT/tmp/device-wheels"
if [ ${#binary[@]} -gt 0 ]; then
  site=$(chroot "$ROOT" python3 -c \
    'import sysconfig; print(sysconfig.get_path("purelib", "posix_local"))')
  install -D -m 0644 "$REPO/tests/system/pykms.py" "$ROOT$site/pykms.py"
  chroot "$ROOT" python3 -c 'import picamera2, lgpio; print("device stack:", picamera2.__file__)' >&2
else
  chroot "$ROOT" python3 -c 'import lgpio; print("device stack: lgpio", lgpio.__file__)' >&2
fi
