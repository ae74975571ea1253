#!/usr/bin/env bash
# Install the survey server's systemd units, nginx site and logrotate file on a Debian server,
# from this checkout. Idempotent: run it again after every upgrade.
#
#   SERVER_NAME=khaosat.example.gov.vn deploy/server/install.sh
#
# Settings (environment): SERVER_NAME (required), APP_DIR (this checkout), SERVICE_USER
# (motcua), TLS_CERT / TLS_KEY (Let's Encrypt's paths for SERVER_NAME), UPSTREAM
# (127.0.0.1:8000, as GUNICORN_BIND), ENABLE_SCHEDULER (yes; say no on every server but one).
# DESTDIR=/some/dir only renders the files under that directory (no user, venv or systemctl):
# that is what the tests do.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SERVER_NAME:?set SERVER_NAME to the public host name, e.g. khaosat.example.gov.vn}"
APP_DIR=${APP_DIR:-$(cd "$here/../.." && pwd)}
SERVICE_USER=${SERVICE_USER:-motcua}
STATE_DIR=/var/lib/mot-cua
LOG_DIR=/var/log/mot-cua
BACKUP_DIR=${BACKUP_DIR:-/var/backups/mot-cua}
ENV_FILE=/etc/mot-cua/server.env
TLS_CERT=${TLS_CERT:-/etc/letsencrypt/live/$SERVER_NAME/fullchain.pem}
TLS_KEY=${TLS_KEY:-/etc/letsencrypt/live/$SERVER_NAME/privkey.pem}
UPSTREAM=${UPSTREAM:-127.0.0.1:8000}
ENABLE_SCHEDULER=${ENABLE_SCHEDULER:-yes}
DESTDIR=${DESTDIR:-}

render() {  # render SOURCE TARGET MODE
  local tmp
  mkdir -p "$(dirname "$2")"
  tmp=$(mktemp "$2.XXXXXX")
  sed -e "s|@APP_DIR@|$APP_DIR|g" -e "s|@USER@|$SERVICE_USER|g" \
    -e "s|@STATE_DIR@|$STATE_DIR|g" -e "s|@LOG_DIR@|$LOG_DIR|g" \
    -e "s|@BACKUP_DIR@|$BACKUP_DIR|g" -e "s|@ENV_FILE@|$ENV_FILE|g" \
    -e "s|@SERVER_NAME@|$SERVER_NAME|g" -e "s|@UPSTREAM@|$UPSTREAM|g" \
    -e "s|@TLS_CERT@|$TLS_CERT|g" -e "s|@TLS_KEY@|$TLS_KEY|g" "$1" >"$tmp"
  if grep -q '@[A-Z_]*@' "$tmp"; then
    echo "error: unrendered placeholder in $1: $(grep -o '@[A-Z_]*@' "$tmp" | head -1)" >&2
    rm -f "$tmp"
    exit 1
  fi
  chmod "$3" "$tmp"
  if cmp -s "$tmp" "$2"; then rm -f "$tmp"; else mv "$tmp" "$2" && echo "installed $2"; fi
}

if [ -z "$DESTDIR" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "error: run as root (or set DESTDIR)" >&2; exit 1; }
  id -u "$SERVICE_USER" >/dev/null 2>&1 ||
    useradd --system --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
  if [ ! -x "$APP_DIR/.venv/bin/gunicorn" ]; then
    python3 -m venv "$APP_DIR/.venv"
    "$APP_DIR/.venv/bin/pip" install --quiet --upgrade pip
  fi
  # Editable: the app serves templates and static files from this checkout.
  "$APP_DIR/.venv/bin/pip" install --quiet -e "$APP_DIR"
  "$APP_DIR/.venv/bin/pybabel" compile --statistics -d "$APP_DIR/survey_server/translations"
fi

for unit in "$here"/systemd/*; do
  render "$unit" "$DESTDIR/etc/systemd/system/$(basename "$unit")" 0644
done
render "$here/nginx/mot-cua.conf" "$DESTDIR/etc/nginx/sites-available/mot-cua" 0644
mkdir -p "$DESTDIR/etc/nginx/sites-enabled"
ln -sfn ../sites-available/mot-cua "$DESTDIR/etc/nginx/sites-enabled/mot-cua"
render "$here/logrotate/mot-cua" "$DESTDIR/etc/logrotate.d/mot-cua" 0644

install -d -m 0750 "$DESTDIR$LOG_DIR" "$DESTDIR$BACKUP_DIR" "$DESTDIR$(dirname "$ENV_FILE")"
if [ ! -e "$DESTDIR$ENV_FILE" ]; then
  install -m 0640 "$here/server.env.example" "$DESTDIR$ENV_FILE"
  echo "installed $DESTDIR$ENV_FILE: edit it (PUBLIC_BASE_URL, HEALTHCHECK_URL, DATABASE_URL)"
fi

[ -z "$DESTDIR" ] || exit 0

chown root:"$SERVICE_USER" "$ENV_FILE" "$(dirname "$ENV_FILE")"
chown "$SERVICE_USER:$SERVICE_USER" "$BACKUP_DIR"
chown root:adm "$LOG_DIR"
systemctl daemon-reload
systemctl enable mot-cua-web.service mot-cua-backup.timer mot-cua-healthcheck.timer
if [ "$ENABLE_SCHEDULER" = yes ]; then
  systemctl enable mot-cua-scheduler.service
else
  systemctl disable --now mot-cua-scheduler.service 2>/dev/null || true
fi
rm -f /etc/nginx/sites-enabled/default
nginx -t
echo "Installed. Start or restart with:"
echo "  systemctl restart mot-cua-web$([ "$ENABLE_SCHEDULER" = yes ] && echo ' mot-cua-scheduler') && systemctl reload nginx"
echo "  systemctl start mot-cua-backup.timer mot-cua-healthcheck.timer"
