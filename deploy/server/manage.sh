#!/usr/bin/env bash
# Run a `flask --app survey_server …` command on the server, as the service user, with the
# settings of the units (/etc/mot-cua/server.env):
#   deploy/server/manage.sh device register --counter Q01
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
APP_DIR=${APP_DIR:-$(cd "$here/../.." && pwd)}
ENV_FILE=${ENV_FILE:-/etc/mot-cua/server.env}
SERVICE_USER=${SERVICE_USER:-motcua}

[ "$(id -u)" -eq 0 ] || { echo "error: run as root (sudo)" >&2; exit 1; }
set -a
# shellcheck source=/dev/null
. "$ENV_FILE"
set +a
export INSTANCE_PATH=/var/lib/mot-cua
cd "$APP_DIR"
exec runuser -u "$SERVICE_USER" -- "$APP_DIR/.venv/bin/flask" --app survey_server "$@"
