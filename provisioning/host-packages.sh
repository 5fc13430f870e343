#!/usr/bin/env bash
# Make sure the Debian packages that `make demo` and `make test` need are
# present on a development or CI machine (not the Pi: see provision.sh).
# As root it installs what is missing; otherwise it prints the exact
# command and fails, so nobody runs the tests against half a toolchain.
set -euo pipefail

# command -> Debian package that provides it
declare -A NEEDED=(
  [ffmpeg]=ffmpeg
  [ffprobe]=ffmpeg
  [age]=age
  [age-keygen]=age
  [cryptsetup]=cryptsetup-bin
  [openssl]=openssl
  [script]=bsdutils
  # the HTTPS front (the box's nginx, run by the tests and the demo)
  [nginx]=nginx
  # a Chromium whose NSS database trusts the tests' service CA
  [certutil]=libnss3-tools
  # the practitioner's handout, printed to PDF by Chromium, read back as
  # page images and text
  [pdftoppm]=poppler-utils
  [pdftotext]=poppler-utils
  # axe-core for the accessibility checks, from the npm registry (make test)
  [node]=nodejs
  [npm]=npm
  # the interaction map's labelled dialogues (bench/dialogue.py): speech
  # synthesised in adult-like and child-like voices
  [espeak-ng]=espeak-ng
  # the Debian 13 root of the camera stack's tests (tests/system/rootfs.sh)
  [mmdebstrap]=mmdebstrap
)

# file -> Debian package (the synthetic camera burns its frame counter
# in with this font)
declare -A NEEDED_FILES=(
  [/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf]=fonts-dejavu-core
  # the browser tests drive Debian's Chromium (never a browser download)
  [/usr/bin/chromium]=chromium
)

missing=()
for cmd in "${!NEEDED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEEDED[$cmd]}")
done
for file in "${!NEEDED_FILES[@]}"; do
  [ -e "$file" ] || missing+=("${NEEDED_FILES[$file]}")
done
# python3 -m venv needs ensurepip, which Debian ships apart
if ! "${PYTHON:-python3}" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=(python3-venv)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" -ne 0 ]; then
  echo "vigbox needs these Debian packages: $packages" >&2
  echo "run:  sudo apt-get update && sudo apt-get install -y $packages" >&2
  exit 1
fi
echo "installing Debian packages: $packages"
export DEBIAN_FRONTEND=noninteractive
# a package's own service (Debian's nginx on port 80) is not started here:
# the tests and the demo run nginx themselves (policy-rc.d, exit 101)
policy=/usr/sbin/policy-rc.d
if [ ! -e $policy ]; then
  printf '#!/bin/sh\nexit 101\n' > $policy && chmod 0755 $policy
  trap 'rm -f $policy' EXIT
fi
apt-get update -q
# shellcheck disable=SC2086  # word splitting of the package list is wanted
apt-get install -y -q --no-install-recommends $packages
