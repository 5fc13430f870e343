#!/bin/bash
# Build the system test's VM: a Debian bookworm root filesystem made with
# mmdebstrap from this machine's own apt sources (no mirror is named here),
# with vigbox's source and wheels baked in (the VM has no network), the
# guest driver as a unit, and Debian's kernel for qemu (the initrd is
# taken from the disk at each boot: test_vm.py).
#
#   SUITE=bookworm|trixie tests/system/image.sh WORK [CACHE]
#
# Raspberry Pi OS Lite is Bookworm or Trixie: the VM is either.
# The debootstrapped tree depends only on the package list, so it is kept
# as a tarball in CACHE (default /var/cache/vigbox-vm) and reused.
set -euo pipefail
WORK=$1
CACHE=${2:-/var/cache/vigbox-vm}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-python3}
SUITE=${SUITE:-bookworm}
export DEBIAN_FRONTEND=noninteractive

PACKAGES=systemd,systemd-sysv,udev,kmod,dbus,cryptsetup,e2fsprogs,util-linux,procps
PACKAGES+=,python3,python3-venv,ffmpeg,fonts-dejavu-core,linux-image-amd64,curl
PACKAGES+=,network-manager,wpasupplicant,iw,iproute2,iputils-ping,dnsmasq-base
PACKAGES+=,wireless-regdb,overlayroot,busybox

need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
fi

mkdir -p "$CACHE" "$WORK"
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
if [ ! -s "$tarball" ]; then
  echo "image: mmdebstrap (cached after this as $tarball)"
  partial=$CACHE/partial-$key.tar  # mmdebstrap picks its output format by the suffix
  mmdebstrap --variant=minbase --include="$PACKAGES" \
    --aptopt='APT::Install-Recommends "false"' "$SUITE" "$partial" "${sources[@]}"
  mv "$partial" "$tarball"
else
  echo "image: reusing $tarball"
fi

R=$WORK/rootfs
rm -rf "$R" && mkdir -p "$R"
tar --numeric-owner -xpf "$tarball" -C "$R"

echo vigbox-vm > "$R/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 vigbox-vm\n' > "$R/etc/hosts"
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' > "$R/etc/fstab"
chroot "$R" systemd-machine-id-setup >/dev/null
ln -sf /dev/null "$R/etc/systemd/system/systemd-firstboot.service"

# vigbox as provisioning finds it: the source, and wheels of it and its
# pinned dependencies, for an offline install
mkdir -p "$R/opt/vigbox-src" "$R/opt/wheels" "$R/opt/systemtest"
(cd "$REPO" && git ls-files -z appliance web systemd provisioning pyproject.toml \
  constraints.txt README.md | xargs -0 cp --parents -t "$R/opt/vigbox-src")
"$PYTHON" -m pip wheel -q -w "$R/opt/wheels" -c "$REPO/constraints.txt" "$REPO"
# the guest's Python may not be this one (Trixie has 3.13): compiled wheels
# for it too, the pure ones just built standing in for sdist-only packages
guest=$(chroot "$R" python3 -c 'import sys; print("%d%d" % sys.version_info[:2])')
"$PYTHON" -m pip download -q --only-binary=:all: --python-version "$guest" \
  --implementation cp --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
  --platform manylinux_2_34_x86_64 --find-links "$R/opt/wheels" \
  -c "$REPO/constraints.txt" -d "$R/opt/wheels" "$R"/opt/wheels/vigbox-*.whl

install -m 0755 "$REPO/tests/system/guest.sh" "$R/opt/systemtest/guest.sh"
cat > "$R/etc/systemd/system/vigbox-systemtest.service" <<'EOF'
[Unit]
Description=vigbox system test: this boot's phase
After=multi-user.target NetworkManager.service
SuccessAction=poweroff
FailureAction=poweroff

[Service]
Type=oneshot
ExecStart=/opt/systemtest/guest.sh
TimeoutStartSec=1500

[Install]
WantedBy=multi-user.target
EOF
chroot "$R" systemctl enable -q vigbox-systemtest.service

cp "$R"/boot/vmlinuz-* "$WORK/vmlinuz"
mb=$(du -sm "$R" | cut -f1)
rm -f "$WORK/root.img" && truncate -s $(( mb * 13 / 10 + 768 ))M "$WORK/root.img"
mkfs.ext4 -q -F -L root -d "$R" "$WORK/root.img"
rm -rf "$R"
rm -f "$WORK/store.img" && truncate -s 512M "$WORK/store.img"
rm -f "$WORK/state.img" && truncate -s 64M "$WORK/state.img"
echo "image: $WORK/root.img ($(du -sh "$WORK/root.img" | cut -f1) used), store disk 512M," \
  "state disk 64M"
