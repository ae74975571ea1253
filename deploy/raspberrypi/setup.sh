#!/usr/bin/env bash
# Turn a Raspberry Pi OS (Bookworm, 64-bit, Lite or Desktop) installation into a counter kiosk.
#
#   sudo ./setup.sh kiosk.conf          # on the Pi; run again after changing the config
#
# Idempotent: a second run changes nothing. Every change is printed as "changed: …".
#
# ROOT=/path: write the files into another root file system instead of / (the tests use it with
# a Debian tree). Accounts are changed with useradd/usermod --prefix; apt-get, systemctl (given
# --root) and raspi-config are the ones on PATH, so an image is best prepared by running this
# script inside it (systemd-nspawn -D /mnt/rootfs, or on the Pi itself).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${ROOT:-/}
ROOT=${ROOT%/}
CONFIG=${1:-$ROOT/etc/mot-cua/kiosk.conf}
KIOSK_USER=kiosk
DATA_DIR=/var/lib/mot-cua-kiosk
PACKAGES=(cage chromium wlr-randr)
WEAK_PASSWORDS=(raspberry password 123456 12345678 admin kiosk pi)

say() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }
changed() { echo "changed: $*"; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo)"
[ -f "$CONFIG" ] || die "no configuration file $CONFIG (start from $here/kiosk.conf.example)"

conf_get() {  # KEY DEFAULT: the last KEY=value line of the config, quotes removed; never executed
  local line value
  line=$(grep -E "^[[:space:]]*$1=" "$CONFIG" | tail -n 1 || true)
  if [ -z "$line" ]; then
    printf '%s' "$2"
    return
  fi
  value=${line#*=}
  value=${value%"${value##*[![:space:]]}"}
  if [[ "$value" == \"*\" || "$value" == \'*\' ]]; then
    value=${value:1:${#value}-2}
  fi
  printf '%s' "${value:-$2}"
}

server_url=$(conf_get SERVER_URL "")
token=$(conf_get DEVICE_TOKEN "")
rotation=$(conf_get ROTATION 0)
touch_rotation=$(conf_get TOUCH_ROTATION "$rotation")
data_device=$(conf_get DATA_DEVICE "")
read_only_root=$(conf_get READ_ONLY_ROOT no)
ssh_enable=$(conf_get SSH_ENABLE no)
ssh_user=$(conf_get SSH_ADMIN_USER quantri)
ssh_key=$(conf_get SSH_AUTHORIZED_KEY "")

# -- check the whole configuration before touching anything ----------------------------------
[[ "$server_url" == https://?* ]] || die "SERVER_URL must be an https:// address (got '$server_url')"
[[ "$server_url" != *[[:space:]\'\"\#]* ]] || die "SERVER_URL contains spaces, quotes or #"
[[ "$token" =~ ^[A-Za-z0-9_.~-]{16,}$ ]] ||
  die "DEVICE_TOKEN is missing or malformed (flask --app survey_server device register --counter …)"
for angle in "$rotation" "$touch_rotation"; do
  [[ "$angle" =~ ^(0|90|180|270)$ ]] || die "ROTATION/TOUCH_ROTATION must be 0, 90, 180 or 270"
done
[[ "$read_only_root" =~ ^(yes|no)$ ]] || die "READ_ONLY_ROOT must be yes or no"
[[ "$ssh_enable" =~ ^(yes|no)$ ]] || die "SSH_ENABLE must be yes or no"
if [ "$read_only_root" = yes ] && [ -z "$data_device" ]; then
  die "READ_ONLY_ROOT=yes needs DATA_DEVICE: with the RAM overlay alone, ratings queued" \
    "offline would be lost at the next power cut"
fi
if [ "$ssh_enable" = yes ]; then
  [[ "$ssh_user" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "SSH_ADMIN_USER is not a valid user name"
  [[ "$ssh_key" =~ ^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp[0-9]+|sk-[a-z0-9@.-]+)\ [A-Za-z0-9+/=]+ ]] ||
    die "SSH_ENABLE=yes needs SSH_AUTHORIZED_KEY (a public key): passwords are never accepted"
fi

if [ "$ssh_enable" = yes ]; then
  PACKAGES+=(openssh-server)
fi

# -- helpers that act on ROOT -----------------------------------------------------------------
prefix_args=()
systemctl_args=()
if [ -n "$ROOT" ]; then
  prefix_args=(--prefix "$ROOT")
  systemctl_args=(--root="$ROOT")
fi

put() {  # put MODE OWNER GROUP PATH < content: write PATH (inside ROOT) only when it differs
  local mode=$1 owner=$2 group=$3 path=$ROOT$4 tmp
  mkdir -p "$(dirname "$path")"
  tmp=$(mktemp "$path.XXXXXX")
  cat >"$tmp"
  chmod "$mode" "$tmp"
  chown "$owner:$group" "$tmp"
  if cmp -s "$tmp" "$path" && [ "$(stat -c %a:%u:%g "$path")" = "$(stat -c %a:%u:%g "$tmp")" ]; then
    rm -f "$tmp"
  else
    mv "$tmp" "$path"
    changed "$4"
  fi
}

ensure_dir() {  # ensure_dir MODE OWNER GROUP PATH
  local path=$ROOT$4
  if [ ! -d "$path" ]; then
    mkdir -p "$path"
    changed "$4/"
  fi
  if [ "$(stat -c %a:%u:%g "$path")" != "$1:$2:$3" ]; then
    chmod "$1" "$path"
    chown "$2:$3" "$path"
    changed "$4/ (mode, owner)"
  fi
}

ensure_line() {  # ensure_line FILE LINE: append LINE to FILE (inside ROOT) unless present
  local path=$ROOT$1
  if ! grep -qxF -- "$2" "$path" 2>/dev/null; then
    printf '%s\n' "$2" >>"$path"
    changed "$1 (+ $2)"
  fi
}

unit_exists() {
  local dir
  for dir in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
    [ -e "$ROOT$dir/$1" ] && return 0
  done
  return 1
}

uid_of() { awk -F: -v u="$1" '$1 == u {print $3}' "$ROOT/etc/passwd"; }
gid_of() { awk -F: -v g="$1" '$1 == g {print $3}' "$ROOT/etc/group"; }
existing_groups() {  # the groups among "$@" that exist in ROOT, comma-separated
  local found=() group
  for group in "$@"; do
    [ -n "$(gid_of "$group")" ] && found+=("$group")
  done
  (IFS=,; printf '%s' "${found[*]}")
}

# -- 1. packages ------------------------------------------------------------------------------
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Status}' "$package" 2>/dev/null |
    grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  changed "packages ${missing[*]}"
fi

# -- 2. the kiosk user: no password at all; logged in by the kiosk service --------------------
if [ -z "$(uid_of "$KIOSK_USER")" ]; then
  useradd "${prefix_args[@]}" --create-home --home-dir "/home/$KIOSK_USER" --user-group \
    --shell /usr/sbin/nologin --comment "Mot cua kiosk" \
    --groups "$(existing_groups video render input audio)" "$KIOSK_USER"
  changed "user $KIOSK_USER"
fi
kiosk_uid=$(uid_of "$KIOSK_USER")
kiosk_gid=$(gid_of "$KIOSK_USER")

# -- 3. no default or weak passwords left, root locked ----------------------------------------
password_matches() {  # HASH WORD: does WORD hash to HASH (any scheme libcrypt knows)
  python3 -W ignore -c 'import crypt, sys; sys.exit(crypt.crypt(sys.argv[2], sys.argv[1]) != sys.argv[1])' \
    "$1" "$2" 2>/dev/null
}
while IFS=: read -r name hash _; do
  case "$hash" in '' | '!'* | '*'*) continue ;; esac
  if [ "$name" = root ]; then
    usermod "${prefix_args[@]}" --lock root
    changed "root password locked"
    continue
  fi
  for word in "${WEAK_PASSWORDS[@]}"; do
    if password_matches "$hash" "$word"; then
      usermod "${prefix_args[@]}" --lock "$name"
      changed "user $name had a default password: locked"
      break
    fi
  done
done <"$ROOT/etc/shadow"

# -- 4. the configuration, the launcher and the service ---------------------------------------
ensure_dir 755 0 0 /etc/mot-cua
put 640 0 "$kiosk_gid" /etc/mot-cua/kiosk.conf <"$CONFIG"
put 755 0 0 /usr/local/lib/mot-cua-kiosk/kiosk-browser <"$here/files/kiosk-browser"
put 644 0 0 /etc/systemd/system/mot-cua-kiosk.service <"$here/files/mot-cua-kiosk.service"

# The browser profile holds the queue of ratings not yet sent: on persistent storage.
ensure_dir 700 "$kiosk_uid" "$kiosk_gid" "$DATA_DIR"
if [ -n "$data_device" ]; then
  # commit=5: what Chromium wrote reaches the card within 5 s; nofail is NOT set on purpose: a
  # kiosk whose data partition is missing must not queue ratings into RAM.
  fstab_line="$data_device $DATA_DIR ext4 defaults,noatime,commit=5 0 2"
  if ! grep -qxF -- "$fstab_line" "$ROOT/etc/fstab" 2>/dev/null; then
    other=$(grep -vE "^[^#]*[[:space:]]${DATA_DIR}[[:space:]]" "$ROOT/etc/fstab" 2>/dev/null || true)
    printf '%s\n' ${other:+"$other"} "$fstab_line" | put 644 0 0 /etc/fstab
  fi
fi

# -- 5. touchscreen rotation (libinput calibration matrix, clockwise) --------------------------
case "$touch_rotation" in
  0) matrix="1 0 0 0 1 0" ;;
  90) matrix="0 -1 1 1 0 0" ;;
  180) matrix="-1 0 1 0 -1 1" ;;
  270) matrix="0 1 0 -1 0 1" ;;
esac
put 644 0 0 /etc/udev/rules.d/99-mot-cua-touchscreen.rules <<RULES
# Written by deploy/raspberrypi/setup.sh from TOUCH_ROTATION=$touch_rotation (ROTATION=$rotation).
ENV{ID_INPUT_TOUCHSCREEN}=="1", ENV{LIBINPUT_CALIBRATION_MATRIX}="$matrix"
RULES

# -- 6. hardware watchdog, no screen blanking ------------------------------------------------
put 644 0 0 /etc/systemd/system.conf.d/mot-cua-watchdog.conf <"$here/files/watchdog.conf"
boot=/boot/firmware
if [ -d "$ROOT$boot" ]; then
  ensure_line "$boot/config.txt" "dtparam=watchdog=on"
  # The console never blanks (cage itself never blanks the screen).
  if [ -f "$ROOT$boot/cmdline.txt" ] && ! grep -qw "consoleblank=0" "$ROOT$boot/cmdline.txt"; then
    # One line; rewritten in place (the boot partition is FAT: no modes, no owners).
    cmdline=$(head -n 1 "$ROOT$boot/cmdline.txt")
    printf '%s consoleblank=0\n' "$cmdline" >"$ROOT$boot/cmdline.txt"
    changed "$boot/cmdline.txt (+ consoleblank=0)"
  fi
else
  say "warning: no $boot (not Raspberry Pi OS?): watchdog and console blanking left as they are"
fi

# -- 7. SSH: off, or key-only for one admin --------------------------------------------------
put 644 0 0 /etc/ssh/sshd_config.d/10-mot-cua.conf <<SSHD
# Written by deploy/raspberrypi/setup.sh: keys only, never passwords, never root.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
PubkeyAuthentication yes
AllowUsers $ssh_user
SSHD
if [ "$ssh_enable" = yes ]; then
  if [ -z "$(uid_of "$ssh_user")" ]; then
    useradd "${prefix_args[@]}" --create-home --home-dir "/home/$ssh_user" --user-group \
      --shell /bin/bash --groups "$(existing_groups sudo adm)" "$ssh_user"
    changed "user $ssh_user"
  fi
  admin_uid=$(uid_of "$ssh_user")
  admin_gid=$(gid_of "$ssh_user")
  ensure_dir 700 "$admin_uid" "$admin_gid" "/home/$ssh_user/.ssh"
  printf '%s\n' "$ssh_key" | put 600 "$admin_uid" "$admin_gid" "/home/$ssh_user/.ssh/authorized_keys"
  # The admin has no password (key-only), so sudo must not ask for one.
  echo "$ssh_user ALL=(ALL) NOPASSWD: ALL" | put 440 0 0 /etc/sudoers.d/mot-cua-admin
  systemctl "${systemctl_args[@]}" enable ssh.service
else
  if unit_exists ssh.service; then
    systemctl "${systemctl_args[@]}" disable ssh.service
  fi
  # Raspberry Pi OS turns SSH on at boot when this file exists on the boot partition.
  if [ -e "$ROOT$boot/ssh" ] || [ -e "$ROOT$boot/ssh.txt" ]; then
    rm -f "$ROOT$boot/ssh" "$ROOT$boot/ssh.txt"
    changed "$boot/ssh removed"
  fi
fi

# -- 8. boot into the kiosk ------------------------------------------------------------------
systemctl "${systemctl_args[@]}" set-default graphical.target
# A desktop's own autologin (Raspberry Pi OS Desktop) would fight for the screen.
if unit_exists lightdm.service; then
  systemctl "${systemctl_args[@]}" disable lightdm.service
fi
if unit_exists getty@.service; then
  systemctl "${systemctl_args[@]}" disable getty@tty1.service
fi
systemctl "${systemctl_args[@]}" enable mot-cua-kiosk.service

# -- 9. read-only root: the overlay protects the card; the profile is on DATA_DEVICE ---------
if [ "$read_only_root" = yes ]; then
  raspi-config nonint enable_overlayfs
else
  say "root file system stays writable (READ_ONLY_ROOT=no)"
fi
say "done: the kiosk opens ${server_url%/}/kiosk/ after a reboot"
