#!/usr/bin/env bash
# Turn a fresh Raspberry Pi OS Lite (Bookworm or Trixie) into the vigbox
# appliance. Idempotent: re-running it changes nothing, and every step says
# what it did or skipped, and why. Run as root from a checkout (or the
# image's copy) of vigbox:
#
#   sudo provisioning/provision.sh
#
# Settings (environment):
#   VIGBOX_STORE_DEVICE   a partition for the LUKS2 store (default: a
#                         file-backed container, /var/lib/vigbox-store.luks)
#   VIGBOX_STORE_MIB      the container's size (default 8192)
#   VIGBOX_WHEELS         a folder of wheels to install from, offline
#   VIGBOX_COUNTRY        the Wi-Fi country (default GB)
#   VIGBOX_SOURCE         camera source: picamera on a Pi, synthetic elsewhere
#   VIGBOX_STATE_DEVICE   a partition for what must outlive the wipe and a
#                         reboot (/var/lib/vigbox: the audit log, the device
#                         key, certificates; /etc/vigbox: the config, the
#                         volume key file, the hotspot), made ext4 once
#   VIGBOX_READ_ONLY_ROOT 1: the root file system read-only under an overlay
#                         in RAM (overlayroot) from the next boot; needs
#                         VIGBOX_STORE_DEVICE and VIGBOX_STATE_DEVICE
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
APP=/opt/vigbox
VENV=$APP/venv
HOME_DIR=/var/lib/vigbox
STORE=$HOME_DIR/store
ETC=/etc/vigbox
CONTAINER=/var/lib/vigbox-store.luks
STATE=/var/lib/vigbox-state
READ_ONLY=${VIGBOX_READ_ONLY_ROOT:-0}
OVERLAY_CONF=/etc/overlayroot.local.conf
OVERLAY_SETTING='overlayroot="tmpfs:swap=0,recurse=0"'
COUNTRY=${VIGBOX_COUNTRY:-GB}
CHANNEL=6

say() { printf 'vigbox provision: %-10s %s\n' "$1" "$2"; }
is_pi() { grep -qs "Raspberry Pi" /proc/device-tree/model; }
has_otp() { command -v rpi-otp-private-key >/dev/null && rpi-otp-private-key -c >/dev/null 2>&1; }

[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo $0)" >&2; exit 1; }
if [ "$(findmnt -no FSTYPE /)" = overlay ]; then
  echo "the root file system is an overlay in RAM: what this script changed would vanish at" >&2
  echo "the next boot. Run it inside overlayroot-chroot, or switch the overlay off first." >&2
  exit 1
fi
if [ "$READ_ONLY" = 1 ] && { [ -z "${VIGBOX_STORE_DEVICE:-}" ] || [ -z "${VIGBOX_STATE_DEVICE:-}" ]; }; then
  echo "VIGBOX_READ_ONLY_ROOT=1 needs VIGBOX_STORE_DEVICE and VIGBOX_STATE_DEVICE: on a" >&2
  echo "read-only root the store's container file and the state would live in RAM." >&2
  exit 1
fi

step_packages() {
  # numpy from apt: the one picamera2 was built against (the venv sees it)
  local wanted=(python3-venv ffmpeg cryptsetup e2fsprogs network-manager iw wireless-regdb
                util-linux nginx python3-numpy)
  if is_pi; then wanted+=(python3-picamera2 python3-lgpio); fi
  # overlayroot's initramfs script needs busybox's grep, and does not say so
  if [ "$READ_ONLY" = 1 ]; then wanted+=(overlayroot busybox); fi
  local missing=()
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$p")
  done
  # Debian's nginx starts its own site on port 80 when installed: the box's
  # nginx is vigbox-https.service, with its own configuration
  if [ "$(systemctl is-enabled nginx.service 2>/dev/null)" != masked ]; then
    systemctl stop nginx.service 2>/dev/null || true
    systemctl mask -q nginx.service
    say packages "masked Debian's nginx.service (vigbox-https.service runs nginx)"
  fi
  if [ ${#missing[@]} -eq 0 ]; then
    say packages "skipped: all ${#wanted[@]} present"
  else
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    say packages "installed ${missing[*]}"
  fi
}

step_app() {
  local stamp=$APP/.installed from
  if [ -n "${VIGBOX_WHEELS:-}" ]; then
    from=$(cd "$VIGBOX_WHEELS" && sha256sum ./*.whl | sha256sum | cut -c1-16)
  else
    from=$(cd "$SRC" && find appliance web vigbox pyproject.toml -type f -print0 | sort -z \
      | xargs -0 sha256sum | sha256sum | cut -c1-16)
  fi
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$from" ]; then
    say app "skipped: $VENV already holds this version ($from)"; return
  fi
  mkdir -p "$APP"
  # system site packages: picamera2 and lgpio come from apt on a Pi
  [ -x "$VENV/bin/python" ] || python3 -m venv --system-site-packages "$VENV"
  if [ -n "${VIGBOX_WHEELS:-}" ]; then
    "$VENV/bin/pip" install -q --no-index --find-links "$VIGBOX_WHEELS" vigbox
  else
    "$VENV/bin/pip" install -q -c "$SRC/constraints.txt" "$SRC"
  fi
  echo "$from" > "$stamp"
  say app "installed vigbox into $VENV ($from)"
}

step_state() {
  local device=${VIGBOX_STATE_DEVICE:-} uuid kind
  if [ -z "$device" ]; then
    say state "skipped: no VIGBOX_STATE_DEVICE (the state stays on the root file system)"
    return
  fi
  if [ "$device" = "${VIGBOX_STORE_DEVICE:-}" ]; then
    echo "VIGBOX_STATE_DEVICE is the store's device ($device): give it a partition of its own" >&2
    exit 1
  fi
  kind=$(blkid -p -o value -s TYPE "$device" || true)
  if [ -z "$kind" ]; then
    mkfs.ext4 -q -L vigbox-state "$device"; say state "made ext4 on $device"
  elif [ "$kind" != ext4 ]; then
    echo "$device holds $kind, not ext4: not made into the state partition" >&2
    exit 1
  fi
  uuid=$(blkid -o value -s UUID "$device")
  if grep -q "^UUID=$uuid $STATE " /etc/fstab; then
    say state "skipped: $device is in /etc/fstab"
  else
    move_state_to "$device" "$uuid"
  fi
}

move_state_to() {  # move_state_to DEVICE UUID: carry what is here onto it, once
  local device=$1 uuid=$2 dir unit units=()
  # a box provisioned before: its services hold the state open, the store
  # is mounted inside it (and must not be copied, nor deleted below)
  for unit in "$SRC"/systemd/vigbox-*; do units+=("$(basename "$unit")"); done
  systemctl stop "${units[@]}" 2>/dev/null || true
  if mountpoint -q "$STORE"; then
    echo "the store is still mounted at $STORE: close it (vigbox store close) and re-run" >&2
    exit 1
  fi
  install -d -m 0755 "$STATE" "$HOME_DIR" "$ETC"
  mountpoint -q "$STATE" || mount "$device" "$STATE"
  for dir in home etc; do [ -d "$STATE/$dir" ] || install -d -m 0755 "$STATE/$dir"; done
  # the store's mount point comes along empty: the store is its own volume
  cp -a "$HOME_DIR/." "$STATE/home/" && cp -a "$ETC/." "$STATE/etc/"
  find "$HOME_DIR" "$ETC" -mindepth 1 -delete
  {
    echo "# vigbox: the state that outlives the wipe and a reboot (provisioning/provision.sh)"
    echo "UUID=$uuid $STATE ext4 defaults,nodev,nosuid,noexec 0 2"
    echo "$STATE/home $HOME_DIR none bind 0 0"
    echo "$STATE/etc $ETC none bind 0 0"
  } >> /etc/fstab
  systemctl daemon-reload
  mount "$HOME_DIR" && mount "$ETC"
  say state "moved $HOME_DIR and $ETC onto $device (UUID $uuid), mounted from /etc/fstab"
}

step_user() {
  for group in video audio gpio; do getent group "$group" >/dev/null || groupadd -r "$group"; done
  if id vigbox >/dev/null 2>&1; then
    say user "skipped: vigbox exists"
  else
    useradd --system --home-dir "$HOME_DIR" --no-create-home --shell /usr/sbin/nologin vigbox
    say user "made the system user vigbox (its units add video, audio, gpio)"
  fi
  install -d -m 0750 -o vigbox -g vigbox "$HOME_DIR"
}

step_gpio_rule() {  # the gpio group may use the GPIO chips (Raspberry Pi OS has this rule)
  local rule=/etc/udev/rules.d/60-vigbox-gpio.rules
  local text='SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"'
  if [ "$(cat $rule 2>/dev/null)" = "$text" ]; then say gpio "skipped: $rule is there"; return; fi
  echo "$text" > $rule
  udevadm control --reload 2>/dev/null && udevadm trigger --subsystem-match=gpio 2>/dev/null || true
  say gpio "wrote $rule: the recorder (group gpio) may open /dev/gpiochip*"
}

step_microphone_device() {  # the ALSA device the recorder opens (a bigger buffer than dsnoop's)
  local conf=/etc/alsa/conf.d/60-vigbox-microphone.conf
  if cmp -s "$SRC/provisioning/alsa/60-vigbox-microphone.conf" $conf; then
    say alsa "skipped: $conf is there"; return
  fi
  install -D -m 0644 "$SRC/provisioning/alsa/60-vigbox-microphone.conf" $conf
  say alsa "wrote $conf: vigbox_microphone, dsnoop with 1.37 s of buffer"
}

step_config() {
  install -d -m 0755 "$ETC"
  if [ -f "$ETC/config.toml" ]; then say config "skipped: $ETC/config.toml exists"; return; fi
  local device=${VIGBOX_STORE_DEVICE:-$CONTAINER} source gpio audio=""
  if is_pi; then source=${VIGBOX_SOURCE:-picamera}; gpio=auto
  else source=${VIGBOX_SOURCE:-synthetic}; gpio=mock; fi
  # the USB microphone by its ALSA card ("default" is not it on Raspberry Pi
  # OS Lite); none plugged in: the recorder looks for one at every take
  if [ "$source" != synthetic ]; then
    if audio=$("$VENV/bin/vigbox" microphone 2>&1); then
      say config "the microphone: $audio"
      audio="audio_device = \"$audio\""
    else
      say config "WARNING: $audio"
      say config "         the recorder will look for one at each take (audio_device = auto)"
      audio=""
    fi
  fi
  # the volume key: from the Pi's OTP where one is programmed (the card alone
  # then carries no key), else a root-only key file on the card
  local key_source=file keyfile=$ETC/store.key
  if has_otp; then key_source=otp; keyfile=/run/vigbox/store.key; fi
  # the signing key the same way: from the OTP into RAM, or a file on the card
  cat > "$ETC/config.toml" <<EOF
# vigbox on this box (written by provisioning/provision.sh)
home = "$HOME_DIR"
simulate = false
source = "$source"
gpio = "$gpio"
listen = "0.0.0.0:443"
http_redirect = "0.0.0.0:80"
tls_dir = "$ETC/tls"
web_socket_path = "/run/vigbox-web/web.sock"
luks_device = "$device"
luks_key_source = "$key_source"
luks_keyfile = "$keyfile"
device_key_source = "$key_source"
setup_window_path = "/run/vigbox-recorder/setup-window"
$audio
EOF
  chmod 0644 "$ETC/config.toml"
  say config "wrote $ETC/config.toml (source $source, store on $device)"
}

step_store() {
  if grep -q '^luks_key_source = "otp"' "$ETC/config.toml"; then
    say store "the volume key is derived from this Pi's OTP private key and the volume's"
    say store "UUID, kept only in RAM (/run): the card alone carries no key"
  else
    say store "WARNING: the volume key is a root-only file on this card ($ETC/store.key)."
    say store "         It makes the wipe a real cryptographic erase; it does not protect a"
    say store "         stolen card, whose key file travels with it (age's sealing does)."
    say store "         (No programmed OTP private key was found: rpi-otp-private-key -c.)"
  fi
  local size=()
  [ -n "${VIGBOX_STORE_DEVICE:-}" ] || size=(--size-mib "${VIGBOX_STORE_MIB:-8192}")
  VIGBOX_CONFIG=$ETC/config.toml "$VENV/bin/vigbox" store create "${size[@]}" 2>&1 \
    | sed 's/^/vigbox provision: store      /'
  chown vigbox:vigbox "$STORE" && chmod 0700 "$STORE"
}

step_https() {  # the box's TLS key and certificate, and nginx's configuration
  getent group vigbox-https >/dev/null || groupadd -r vigbox-https
  if ! id vigbox-https >/dev/null 2>&1; then
    useradd --system --gid vigbox-https --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin vigbox-https
    say https "made the system user vigbox-https (nginx, in front of the page)"
  fi
  # a box provisioned before HTTPS: its page moves to 443 behind the front
  if ! grep -q '^http_redirect = ' "$ETC/config.toml"; then
    sed -i 's/^listen = .*/listen = "0.0.0.0:443"/' "$ETC/config.toml"
    printf 'http_redirect = "0.0.0.0:80"\ntls_dir = "%s/tls"\nweb_socket_path = "%s"\n' \
      "$ETC" /run/vigbox-web/web.sock >> "$ETC/config.toml"
    say https "moved the page to HTTPS in $ETC/config.toml"
  fi
  install -d -m 0750 -o root -g vigbox-https "$ETC/tls"
  if [ -s "$ETC/tls/box.pem" ]; then
    say https "skipped: $ETC/tls/box.pem exists ($(box_tls show | grep '^signed by'))"
  else
    box_tls self-sign > /dev/null 2>&1
    say https "made the box's TLS key and a self-signed certificate (for a service CA:"
    say https "  vigbox tls request, then vigbox tls install; docs/operations.md)"
  fi
  chown vigbox-https:vigbox-https "$ETC/tls/box-key.pem" && chmod 0400 "$ETC/tls/box-key.pem"
  # the page asks for a 2 MiB send buffer on nginx's connections (the
  # kernel grants twice that, up to wmem_max; Debian's is 208 KiB): every
  # byte played crosses that socket (appliance/https/page_server.py, figure 10)
  echo "net.core.wmem_max = 4194304" > /etc/sysctl.d/60-vigbox-front.conf
  sysctl -q -p /etc/sysctl.d/60-vigbox-front.conf || true
  box_tls front-config > "$ETC/nginx.conf.new"
  if cmp -s "$ETC/nginx.conf.new" "$ETC/nginx.conf"; then rm "$ETC/nginx.conf.new"
  else mv "$ETC/nginx.conf.new" "$ETC/nginx.conf"; say https "wrote $ETC/nginx.conf"; fi
  say https "$(box_tls show | grep '^SHA-256')"
}
box_tls() { VIGBOX_CONFIG=$ETC/config.toml "$VENV/bin/vigbox" tls "$@"; }

step_units() {
  local changed=0
  for unit in "$SRC"/systemd/*.service "$SRC"/systemd/*.socket "$SRC"/systemd/*.path; do
    if ! cmp -s "$unit" "/etc/systemd/system/$(basename "$unit")"; then
      install -m 0644 "$unit" /etc/systemd/system/; changed=1
    fi
  done
  if [ $changed -eq 1 ]; then systemctl daemon-reload; say units "installed the units"
  else say units "skipped: the units are current"; fi
  local wanted=(vigbox-store.service vigbox-recorder.service vigbox-web.socket
                vigbox-web.service vigbox-https.service vigbox-clock.socket
                vigbox-wipe.path) off=()
  for unit in "${wanted[@]}"; do systemctl is-enabled -q "$unit" || off+=("$unit"); done
  if [ ${#off[@]} -eq 0 ]; then say units "skipped: all ${#wanted[@]} enabled"; return; fi
  systemctl enable -q "${off[@]}"
  say units "enabled ${off[*]}"
}

step_device_key() {
  if grep -q '^device_key_source = "otp"' "$ETC/config.toml"; then
    # derived from the OTP into /run (at every boot too); a key file an
    # earlier provisioning left on the card is removed
    VIGBOX_CONFIG=$ETC/config.toml "$VENV/bin/vigbox" device-key install 2>&1 \
      | sed 's/^/vigbox provision: devicekey  /'
  else
    say devicekey "WARNING: the signing key is a file on this card (no OTP key): whoever"
    say devicekey "         holds the card can copy it and sign certificates as this box"
  fi
  runuser -u vigbox -- env VIGBOX_CONFIG=$ETC/config.toml "$VENV/bin/vigbox" audit checkpoint \
    > /dev/null 2>&1
  say devicekey "$(runuser -u vigbox -- env VIGBOX_CONFIG=$ETC/config.toml \
    "$VENV/bin/vigbox" audit checkpoint 2>&1 >/dev/null | tail -1)"
}

step_hotspot() {
  if ! command -v nmcli >/dev/null || ! systemctl is-active -q NetworkManager; then
    say hotspot "skipped: NetworkManager is not running"; return
  fi
  local wifi
  wifi=$(nmcli -t -f DEVICE,TYPE device | awk -F: '$2 == "wifi" {print $1; exit}')
  if [ -z "$wifi" ]; then say hotspot "skipped: no Wi-Fi device"; return; fi
  wifi_country
  if nmcli -t -f NAME connection show | grep -qx vigbox-hotspot; then
    # laptops on the hotspot reach the box, never each other (no ARP spoofing)
    case "$(nmcli -g 802-11-wireless.ap-isolation connection show vigbox-hotspot)" in
      1*|true*|yes*) ;;
      *) nmcli connection modify vigbox-hotspot 802-11-wireless.ap-isolation 1
         say hotspot "the hotspot's clients are now isolated from each other" ;;
    esac
    if [ "$(nmcli -g 802-11-wireless.channel connection show vigbox-hotspot)" != "$CHANNEL" ]; then
      nmcli connection modify vigbox-hotspot 802-11-wireless.channel "$CHANNEL"
      say hotspot "set the hotspot vigbox-hotspot to channel $CHANNEL"
    fi
    say hotspot "skipped: the connection vigbox-hotspot exists"; return
  fi
  local ssid="vigbox-$(cut -c1-4 /etc/machine-id)" psk
  psk=$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')
  umask 077; echo "$psk" > "$ETC/hotspot.psk"; echo "$ssid" > "$ETC/hotspot.ssid"; umask 022
  # PMF off: the Pi's brcmfmac fails to start an access point with it.
  # A fixed channel: left to choose, NetworkManager took a random one, and
  # 12 or 13 cannot start an access point in the world regulatory domain
  # (a box whose country is not yet in force); 6 is allowed everywhere
  # autoconnect-retries 0: keep trying for ever (an access point that fails
  # to start once at boot must not stay down until someone comes)
  nmcli connection add type wifi ifname "$wifi" con-name vigbox-hotspot autoconnect yes \
    connection.autoconnect-retries 0 \
    ssid "$ssid" 802-11-wireless.mode ap 802-11-wireless.band bg \
    802-11-wireless.channel "$CHANNEL" \
    ipv4.method shared ipv4.addresses 10.42.0.1/24 ipv6.method disabled \
    802-11-wireless.ap-isolation 1 \
    wifi-sec.key-mgmt wpa-psk wifi-sec.psk "$psk" wifi-sec.proto rsn \
    wifi-sec.pairwise ccmp wifi-sec.group ccmp wifi-sec.pmf disable >/dev/null
  install -d /etc/NetworkManager/dnsmasq-shared.d
  echo "address=/vigbox.local/10.42.0.1" > /etc/NetworkManager/dnsmasq-shared.d/vigbox.conf
  nmcli connection up vigbox-hotspot >/dev/null || say hotspot "note: not up yet (retries)"
  say hotspot "made the hotspot $ssid on $wifi (https://10.42.0.1/, https://vigbox.local/)"
}

wifi_country() {  # the Wi-Fi country now, and at every boot (cfg80211 reads it at load)
  local conf=/etc/modprobe.d/vigbox-wifi-country.conf
  local line="options cfg80211 ieee80211_regdom=$COUNTRY"
  iw reg set "$COUNTRY" || true
  if is_pi && command -v raspi-config >/dev/null; then raspi-config nonint do_wifi_country "$COUNTRY"; fi
  if [ "$(cat "$conf" 2>/dev/null)" = "$line" ]; then return; fi
  echo "$line" > "$conf"
  say hotspot "wrote $conf: the Wi-Fi country $COUNTRY at every boot"
}

step_label() {
  if [ ! -f "$ETC/hotspot.psk" ]; then say label "skipped: no hotspot yet"; return; fi
  VIGBOX_CONFIG=$ETC/config.toml "$VENV/bin/vigbox" label --ssid "$(cat "$ETC/hotspot.ssid")" \
    --passphrase-file "$ETC/hotspot.psk" --url https://10.42.0.1/ --out "$ETC/label.svg"
  chown -R vigbox:vigbox "$HOME_DIR/audit"
  say label "wrote $ETC/label.svg: print it and stick it on the box"
}

step_hardening() {
  if swapon --show --noheadings | grep -q .; then swapoff -a; fi
  for unit in dphys-swapfile.service systemd-zram-setup@zram0.service; do
    systemctl mask -q "$unit" 2>/dev/null || true
  done
  install -d /etc/systemd/coredump.conf.d /etc/systemd/journald.conf.d /etc/systemd/system.conf.d
  printf '[Coredump]\nStorage=none\nProcessSizeMax=0\n' > /etc/systemd/coredump.conf.d/vigbox.conf
  echo "kernel.core_pattern=|/bin/false" > /etc/sysctl.d/50-vigbox-no-core.conf
  sysctl -q -p /etc/sysctl.d/50-vigbox-no-core.conf || true
  printf '[Journal]\nSystemMaxUse=64M\nMaxRetentionSec=1month\n' \
    > /etc/systemd/journald.conf.d/vigbox.conf
  # the hardware watchdog: a hung box reboots, and the recorder's own
  # watchdog restarts a stuck recording
  printf '[Manager]\nRuntimeWatchdogSec=15\nRebootWatchdogSec=2min\n' \
    > /etc/systemd/system.conf.d/vigbox.conf
  say hardening "swap off, core dumps off, journal at most 64M, watchdog 15 s"
}

step_read_only_root() {
  if [ "$READ_ONLY" != 1 ]; then
    say readonly "skipped: the root stays writable (VIGBOX_READ_ONLY_ROOT=1 makes it an overlay)"
    return
  fi
  local initrd=/boot/initrd.img-$(uname -r) inside
  if [ ! -f "$initrd" ]; then
    echo "no initramfs at $initrd: the overlay is made by one (on a Pi: auto_initramfs=1)" >&2
    exit 1
  fi
  inside=$(lsinitramfs "$initrd")
  if ! grep -qx "scripts/init-bottom/overlayroot" <<<"$inside" \
      || ! grep -qE "^(usr/)?bin/busybox$" <<<"$inside"; then
    update-initramfs -u -k "$(uname -r)"
    say readonly "rebuilt $initrd with overlayroot's hook and busybox"
  fi
  remount_drop_in
  if grep -qw ro /proc/cmdline; then
    say readonly "WARNING: the kernel command line says 'ro': overlayroot then mounts the overlay"
    say readonly "         read-only too, and nothing can remount it; take 'ro' out of it"
  fi
  if grep -qxF "$OVERLAY_SETTING" "$OVERLAY_CONF" 2>/dev/null; then
    say readonly "skipped: $OVERLAY_CONF has the overlay on"; return
  fi
  # recurse=0: only / goes under the overlay; the state and the store stay
  # real mounts, written through to their partitions
  echo "$OVERLAY_SETTING" > "$OVERLAY_CONF"
  say readonly "the root is read-only under an overlay in RAM from the next boot"
  say readonly "(changes to it vanish at each reboot; $HOME_DIR and $ETC persist on their"
  say readonly "partition; to change the box, run this script inside overlayroot-chroot)"
}

remount_drop_in() {
  # overlayroot's fstab gives / its lowerdir and upperdir; a kernel with the
  # new mount API (Trixie's) refuses them on a remount ("No changes allowed
  # in reconfigure"), so systemd-remount-fs failed at every boot. On the
  # overlay there is nothing for it to do: the overlay is mounted as it should be.
  local dir=/etc/systemd/system/systemd-remount-fs.service.d
  local want=$'[Unit]\nConditionPathIsMountPoint=!/media/root-ro'
  if [ "$(cat "$dir/vigbox-overlayroot.conf" 2>/dev/null)" = "$want" ]; then return; fi
  install -d "$dir" && printf '%s\n' "$want" > "$dir/vigbox-overlayroot.conf"
  systemctl daemon-reload
  say readonly "wrote $dir/vigbox-overlayroot.conf: no remount of the overlay at boot"
}

step_pi_only() {
  if ! is_pi; then
    say pi "skipped: not a Raspberry Pi (camera, OTP and config.txt steps are Pi-only)"
    return
  fi
  local config=/boot/firmware/config.txt
  [ -f $config ] || config=/boot/config.txt
  if grep -q "^camera_auto_detect=1" $config; then say pi "skipped: camera auto-detect is on"
  else echo "camera_auto_detect=1" >> $config; say pi "camera auto-detect on ($config)"; fi
}

step_packages
step_app
step_state
step_user
step_gpio_rule
step_microphone_device
step_config
step_store
step_https
step_units
step_device_key
step_hotspot
step_label
step_hardening
step_read_only_root
step_pi_only
systemctl start vigbox-store.service vigbox-recorder.service vigbox-web.socket \
  vigbox-https.service vigbox-clock.socket vigbox-wipe.path || say start "note: a unit did not start (journalctl -u 'vigbox-*')"
say done "the box is provisioned"
