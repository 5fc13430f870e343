#!/bin/bash
# Build the system test's VM: a Debian root filesystem (tests/system/rootfs.sh,
# cached in CACHE, default /var/cache/vigbox-vm) with what a Pi's OS adds
# (tests/system/device-stack.sh), vigbox's source and wheels baked in (the
# VM has no network), the guest driver as a unit, and Debian's kernel for
# qemu (the initrd is taken from the disk at each boot: test_vm.py).
#
#   SUITE=bookworm|trixie tests/system/image.sh WORK [CACHE]
#
# Raspberry Pi OS Lite is Bookworm or Trixie: the VM is either.
set -euo pipefail
WORK=$1
CACHE=${2:-/var/cache/vigbox-vm}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-python3}
SUITE=${SUITE:-bookworm}
export DEBIAN_FRONTEND=noninteractive

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
# the on-air check decrypts the hotspot's capture with the Wi-Fi passphrase
command -v tshark >/dev/null || need+=(tshark)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
fi

mkdir -p "$WORK"
tarball=$(bash "$REPO/tests/system/rootfs.sh" "$SUITE" "$CACHE")
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
(cd "$REPO" && git ls-files -z appliance web vigbox systemd provisioning pyproject.toml \
  constraints.txt README.md | xargs -0 cp --parents -t "$R/opt/vigbox-src")
"$PYTHON" -m pip wheel -q -w "$R/opt/wheels" -c "$REPO/constraints.txt" "$REPO"
# the guest's Python may not be this one (Trixie has 3.13): compiled wheels
# for it too, the pure ones just built standing in for sdist-only packages
guest=$(chroot "$R" python3 -c 'import sys; print("%d%d" % sys.version_info[:2])')
"$PYTHON" "$REPO/tests/system/guest_constraints.py" "$guest" \
  < "$REPO/constraints.txt" > "$R/opt/wheels/constraints.txt"
"$PYTHON" -m pip download -q --only-binary=:all: --python-version "$guest" \
  --implementation cp --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
  --platform manylinux_2_34_x86_64 --find-links "$R/opt/wheels" \
  -c "$R/opt/wheels/constraints.txt" -d "$R/opt/wheels" "$R"/opt/wheels/vigbox-*.whl

# what a Pi's OS gives it and Debian does not package (lgpio; picamera2)
PYTHON=$PYTHON bash "$REPO/tests/system/device-stack.sh" "$R" "$CACHE"
# a GPIO chip for lgpio to drive (Debian's kernels have no GPIO simulator)
if [ -d "$R/usr/src/linux-headers-$(ls "$R/lib/modules")" ]; then
  bash "$REPO/tests/system/gpio-sim.sh" "$R" "$CACHE"
fi

install -m 0755 "$REPO/tests/system/guest.sh" "$R/opt/systemtest/guest.sh"
# the camera phase's clapper, its measure, and the recordings' inspection
install -m 0644 "$REPO"/tests/system/{clicks,sync_check,capture_rate,button_walk,air_client,consent_record}.py \
  "$REPO/tests/media.py" \
  "$R/opt/systemtest/"
cat > "$R/etc/systemd/system/vigbox-systemtest.service" <<'EOF'
[Unit]
Description=vigbox system test: this boot's phase
After=multi-user.target NetworkManager.service
SuccessAction=poweroff
FailureAction=poweroff

[Service]
Type=oneshot
ExecStart=/opt/systemtest/guest.sh
# the host's qemu timeout bounds a boot
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF
chroot "$R" systemctl enable -q vigbox-systemtest.service

cp "$R"/boot/vmlinuz-* "$WORK/vmlinuz"
mb=$(du -sm "$R" | cut -f1)
rm -f "$WORK/root.img" && truncate -s $(( mb * 13 / 10 + 768 ))M "$WORK/root.img"
mkfs.ext4 -q -F -L root -d "$R" "$WORK/root.img"
rm -rf "$R"
# VIGBOX_STORE_MB: test_vm.py makes it room for the camera phase's takes
STORE_MB=${VIGBOX_STORE_MB:-512}
rm -f "$WORK/store.img" && truncate -s "${STORE_MB}M" "$WORK/store.img"
rm -f "$WORK/state.img" && truncate -s 64M "$WORK/state.img"
echo "image: $WORK/root.img ($(du -sh "$WORK/root.img" | cut -f1) used), store disk ${STORE_MB}M," \
  "state disk 64M"
