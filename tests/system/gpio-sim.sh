#!/bin/bash
# Build the kernel's GPIO simulator (gpio-sim) for a Debian 13 root's
# kernel, so that the VM has a GPIO chip for the real lgpio to drive:
# Debian's kernels ship neither gpio-sim nor gpio-mockup, nor the
# IRQ_SIM both need. Its two source files come from Debian's own
# linux-source package of the same version, built out of tree inside the
# root against its linux-headers, as one module (gpio-sim-vm.ko, with
# irq_sim compiled in). One adaptation: irq_sim calls irq_to_desc(),
# which the kernel does not export to modules; generic_handle_irq() does
# the same for it (the handler it runs is the one irq_sim sets). Cached
# in CACHE by kernel version; installed as ROOT/opt/systemtest/gpio-sim-vm.ko.
#
#   tests/system/gpio-sim.sh ROOT [CACHE]
set -euo pipefail
ROOT=$1
CACHE=${2:-/var/cache/vigbox-vm}
release=$(ls "$ROOT/lib/modules")
version=$(chroot "$ROOT" dpkg-query -W -f '${Version}' "linux-image-$release")
module=$CACHE/gpio-sim-vm-$release-$version.ko
if [ ! -s "$module" ]; then
  apt_dir=$(mktemp -d)
  trap 'rm -rf "$apt_dir"' EXIT
  mkdir -p "$apt_dir"/{etc,lists/partial,cache/archives/partial}
  touch "$apt_dir/status"
  # the root's own sources (the suite it was made from)
  cp "$ROOT"/etc/apt/sources.list.d/*.sources "$apt_dir/etc/" 2>/dev/null ||
    sed -n 's/^deb /deb /p' "$ROOT/etc/apt/sources.list" > "$apt_dir/etc/root.list"
  apt=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/etc"
       -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
       -o "Dir::State::status=$apt_dir/status" -o APT::Sandbox::User=root)
  apt-get "${apt[@]}" update -q >&2
  series=${release%%-*}; series=${series%.*}  # 6.12.118+deb13 -> 6.12
  (cd "$apt_dir" && apt-get "${apt[@]}" download "linux-source-$series=$version" >&2)
  build=$ROOT/tmp/gpio-sim
  rm -rf "$build" && mkdir -p "$build"
  dpkg-deb --fsys-tarfile "$apt_dir"/linux-source-*.deb \
    | tar -xO "./usr/src/linux-source-$series.tar.xz" | xz -dc \
    | tar -x -C "$build" --strip-components=3 --wildcards \
      "linux-source-$series/drivers/gpio/gpio-sim.c" "linux-source-$series/kernel/irq/irq_sim.c"
  sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$build/irq_sim.c"
  grep -q 'generic_handle_irq(irqnum);' "$build/irq_sim.c"
  printf 'obj-m := gpio-sim-vm.o\ngpio-sim-vm-y := gpio-sim.o irq_sim.o\n' > "$build/Kbuild"
  chroot "$ROOT" make -s -C "/usr/src/linux-headers-$release" M=/tmp/gpio-sim modules >&2
  cp "$build/gpio-sim-vm.ko" "$module.partial" && mv "$module.partial" "$module"
  rm -rf "$build"
fi
install -D -m 0644 "$module" "$ROOT/opt/systemtest/gpio-sim-vm.ko"
echo "gpio-sim: $module" >&2
