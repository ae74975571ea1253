#!/usr/bin/env bash
# Restore a backup made by backup.sh into an EMPTY database.
#
#   restore.sh BACKUP_FILE [DATABASE_URL]
#
# DATABASE_URL defaults to the environment's. PostgreSQL: the target database must exist and be
# empty (createdb it first); the restore runs in one transaction and stops at the first error.
# SQLite: the target file must not exist yet. Stop mot-cua-web and mot-cua-scheduler first, then
# move the restored database into place (or point DATABASE_URL at it) and start them again.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 BACKUP_FILE [DATABASE_URL]" >&2
  exit 2
fi
backup=$1
url=${2:-${DATABASE_URL:-}}
[ -n "$url" ] || { echo "error: no DATABASE_URL given or set" >&2; exit 2; }
[ -f "$backup" ] || { echo "error: no such backup: $backup" >&2; exit 1; }

case "$url" in
  postgres://* | postgresql://* | postgresql+psycopg://*)
    [[ "$backup" == *.dump ]] || { echo "error: $backup is not a PostgreSQL dump" >&2; exit 1; }
    url="postgresql://${url#*://}"
    tables=$(psql --no-psqlrc --tuples-only --no-align --dbname="$url" \
      --command="SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    if [ "$tables" != "0" ]; then
      echo "error: the target database is not empty ($tables tables); restore into a new one" >&2
      exit 1
    fi
    pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
      --dbname="$url" "$backup"
    ;;
  sqlite:///*)
    [[ "$backup" == *.sqlite.gz ]] || { echo "error: $backup is not a SQLite backup" >&2; exit 1; }
    target="${url#sqlite:///}"
    if [ -e "$target" ]; then
      echo "error: $target exists; restore to a new file, then move it into place" >&2
      exit 1
    fi
    umask 077
    gunzip -c "$backup" >"$target.partial"
    check=$(sqlite3 "$target.partial" "PRAGMA integrity_check;")
    if [ "$check" != "ok" ]; then
      rm -f "$target.partial"
      echo "error: the restored copy failed integrity_check: $check" >&2
      exit 1
    fi
    mv "$target.partial" "$target"
    ;;
  *)
    echo "error: unsupported DATABASE_URL scheme: ${url%%:*}" >&2
    exit 1
    ;;
esac
echo "restored $backup"
