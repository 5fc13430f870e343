#!/bin/bash
# A Debian root filesystem as a tarball, made with mmdebstrap from this
# machine's own apt sources (no mirror is named here) and kept in CACHE
# (default /var/cache/vigbox-vm): the tree depends only on the suite and
# the package list. Prints the tarball's path.
#
#   tests/system/rootfs.sh SUITE [CACHE]
#
# Raspberry Pi OS Lite is Bookworm or Trixie. Trixie's root also carries
# what Raspberry Pi OS ships for the camera and is in Debian 13
# (libcamera 0.4 and its Python bindings, PyAV, numpy...; picamera2 and
# lgpio are not packaged in Debian: tests/system/device-stack.sh), the
# ALSA tools and the kernel's headers for the GPIO simulator
# (tests/system/gpio-sim.sh). Both suites carry a compiler for lgpio.
set -euo pipefail
SUITE=$1
CACHE=${2:-/var/cache/vigbox-vm}
# mmdebstrap unpacks the tree in TMPDIR: in the cache, not /tmp, where the
# tests' plaintext canary looks (libx264's banner is in every Debian root),
# for CI builds the roots while the tests run (.ci/run)
export TMPDIR=$CACHE/tmp
mkdir -p "$TMPDIR"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export DEBIAN_FRONTEND=noninteractive

PACKAGES=systemd,systemd-sysv,udev,kmod,dbus,cryptsetup,e2fsprogs,util-linux,procps
PACKAGES+=,python3,python3-venv,ffmpeg,fonts-dejavu-core,linux-image-amd64,curl
PACKAGES+=,network-manager,wpasupplicant,iw,iproute2,iputils-ping,dnsmasq-base
PACKAGES+=,wireless-regdb,overlayroot,busybox,python3-pip,nginx,tcpdump
# provisioning takes numpy from apt, as on a Pi (the interaction map's pitch)
PACKAGES+=,python3-numpy
# to build lgpio for the root's Python and CPU (PyPI's x86-64 wheel stops on
# an illegal instruction on the VM's baseline CPU)
PACKAGES+=,python3-dev,python3-setuptools,python3-wheel,gcc,libc6-dev,swig
if [ "$SUITE" = trixie ]; then
  PACKAGES+=,python3-libcamera,libcamera-ipa,python3-av,python3-pil
  PACKAGES+=,python3-piexif,python3-prctl,python3-jsonschema,python3-tqdm
  PACKAGES+=,python3-libarchive-c,alsa-utils,make,linux-headers-amd64
fi

need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi

mkdir -p "$CACHE"
# this machine's bookworm sources, handed to mmdebstrap as files; for
# another suite, the same mirrors with the suite's name in their place
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -s "$f" ] && grep -qE '^[[:space:]]*[^#[:space:]]' "$f" && grep -q bookworm "$f" || continue
  if [ "$SUITE" = bookworm ]; then sources+=("$f"); continue; fi
  copy=$WORK/$SUITE-$(basename "$f")
  sed "s/\bbookworm\b/$SUITE/g" "$f" > "$copy"
  sources+=("$copy")
done

key=$(printf '%s %s\n' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-12)
[ "$SUITE" = bookworm ] && key=$(printf '%s\n' "$PACKAGES" | sha256sum | cut -c1-12)
tarball=$CACHE/rootfs-$SUITE-$key.tar
# two builds at once (make test and a system test) must not race: a lock
exec 9>"$CACHE/.rootfs-$SUITE.lock"
flock 9
if [ ! -s "$tarball" ]; then
  echo "rootfs: mmdebstrap $SUITE (cached after this as $tarball)" >&2
  partial=$CACHE/partial-$key.tar  # mmdebstrap picks its output format by the suffix
  mmdebstrap --variant=minbase --include="$PACKAGES" \
    --aptopt='APT::Install-Recommends "false"' "$SUITE" "$partial" "${sources[@]}" >&2
  mv "$partial" "$tarball"
else
  echo "rootfs: reusing $tarball" >&2
fi
echo "$tarball"
