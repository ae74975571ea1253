#!/usr/bin/env bash
# Create the PostgreSQL role and database of the survey server and write DATABASE_URL into the
# environment file. Idempotent: a second run changes nothing (the password is made once).
#
#   DB_NAME (motcua)  DB_USER (motcua)  ENV_FILE (/etc/mot-cua/server.env)
#   PGHOST / PGPORT   the server to use (default: the local one on 127.0.0.1:5432)
#
# Run as root (psql runs as the postgres superuser through runuser) or as a PostgreSQL superuser.
set -euo pipefail

DB_NAME=${DB_NAME:-motcua}
DB_USER=${DB_USER:-motcua}
ENV_FILE=${ENV_FILE:-/etc/mot-cua/server.env}
export PGHOST=${PGHOST:-127.0.0.1}
export PGPORT=${PGPORT:-5432}

[[ "$DB_NAME" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "error: bad DB_NAME" >&2; exit 2; }
[[ "$DB_USER" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "error: bad DB_USER" >&2; exit 2; }

if [ "$(id -u)" -eq 0 ]; then
  as_postgres=(runuser -u postgres --)
else
  as_postgres=()
fi
psql_admin() {
  "${as_postgres[@]}" psql --no-psqlrc --quiet --tuples-only --no-align \
    --set=ON_ERROR_STOP=1 --dbname=postgres "$@"
}

if [ -z "$(psql_admin --command="SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" ]; then
  password=$(openssl rand -hex 24)
  # The password goes through a psql variable, never on a command line that ps could show.
  psql_admin --set=pw="$password" <<SQL
CREATE ROLE $DB_USER LOGIN PASSWORD :'pw';
SQL
  url="postgresql://$DB_USER:$password@$PGHOST:$PGPORT/$DB_NAME"
  mkdir -p "$(dirname "$ENV_FILE")"
  touch "$ENV_FILE"
  chmod 0640 "$ENV_FILE"
  if grep -q '^DATABASE_URL=' "$ENV_FILE"; then
    # sed -i would replace the file and lose its group (root:motcua); rewrite it in place.
    updated=$(sed "s|^DATABASE_URL=.*|DATABASE_URL=$url|" "$ENV_FILE")
    printf '%s\n' "$updated" >"$ENV_FILE"
  else
    echo "DATABASE_URL=$url" >>"$ENV_FILE"
  fi
  echo "created role $DB_USER; DATABASE_URL written to $ENV_FILE"
elif ! grep -q "^DATABASE_URL=postgresql://$DB_USER:" "$ENV_FILE" 2>/dev/null; then
  echo "error: role $DB_USER exists but $ENV_FILE has no DATABASE_URL for it;" \
    "set its password with ALTER ROLE and write DATABASE_URL yourself" >&2
  exit 1
fi

if [ -z "$(psql_admin --command="SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
  psql_admin --command="CREATE DATABASE $DB_NAME OWNER $DB_USER ENCODING 'UTF8' TEMPLATE template0"
  psql_admin --command="REVOKE ALL ON DATABASE $DB_NAME FROM PUBLIC"
  echo "created database $DB_NAME"
fi
echo "PostgreSQL ready: database $DB_NAME, role $DB_USER"
