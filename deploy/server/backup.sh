#!/usr/bin/env bash
# Nightly backup of the survey database, then retention.
#
#   DATABASE_URL   postgresql://… (pg_dump, custom format) or sqlite:///… (SQLite online backup)
#   BACKUP_DIR     where backups go (default /var/backups/mot-cua)
#   BACKUP_KEEP_DAYS / BACKUP_KEEP_MONTHS   retention (default 14 days / 12 months of monthly ones)
#
# A backup is written under a temporary name, checked, then renamed: a file named
# survey-*.dump or survey-*.sqlite.gz is always complete. Prints the path of the new backup.
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL is not set (see /etc/mot-cua/server.env)}"
BACKUP_DIR=${BACKUP_DIR:-/var/backups/mot-cua}
KEEP_DAYS=${BACKUP_KEEP_DAYS:-14}
KEEP_MONTHS=${BACKUP_KEEP_MONTHS:-12}

umask 077
mkdir -p "$BACKUP_DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)

case "$DATABASE_URL" in
  postgres://* | postgresql://* | postgresql+psycopg://*)
    # libpq does not know SQLAlchemy's driver suffix.
    url="postgresql://${DATABASE_URL#*://}"
    target="$BACKUP_DIR/survey-$stamp.dump"
    pg_dump --format=custom --compress=6 --no-owner --no-privileges \
      --file="$target.partial" --dbname="$url"
    # A dump that pg_restore cannot list is not a backup.
    pg_restore --list "$target.partial" >/dev/null
    ;;
  sqlite:///*)
    db_file="${DATABASE_URL#sqlite:///}"
    [ -f "$db_file" ] || { echo "error: no SQLite database at $db_file" >&2; exit 1; }
    target="$BACKUP_DIR/survey-$stamp.sqlite.gz"
    copy="$BACKUP_DIR/.survey-$stamp.sqlite"
    trap 'rm -f "$copy"' EXIT
    # The online backup API: a consistent copy while the server keeps writing.
    sqlite3 "$db_file" ".timeout 30000" ".backup '$copy'"
    check=$(sqlite3 "$copy" "PRAGMA integrity_check;")
    [ "$check" = "ok" ] || { echo "error: backup copy failed integrity_check: $check" >&2; exit 1; }
    gzip -c "$copy" >"$target.partial"
    ;;
  *)
    echo "error: unsupported DATABASE_URL scheme: ${DATABASE_URL%%:*}" >&2
    exit 1
    ;;
esac
sync "$target.partial"
mv "$target.partial" "$target"
echo "$target"

# Retention: daily backups for KEEP_DAYS days; the backups taken on the 1st of a month (UTC)
# for KEEP_MONTHS months. Only complete backups of this script are ever deleted.
{
  find "$BACKUP_DIR" -maxdepth 1 -type f -name 'survey-*' ! -name 'survey-??????01T*' \
    -mtime +"$((KEEP_DAYS - 1))" -print -delete
  find "$BACKUP_DIR" -maxdepth 1 -type f -name 'survey-??????01T*' \
    -mtime +"$((KEEP_MONTHS * 31 - 1))" -print -delete
  # Leftovers of a run that was interrupted (power cut, full disk).
  find "$BACKUP_DIR" -maxdepth 1 -type f -name '*.partial' -mmin +60 -print -delete
} | sed 's/^/deleted /' >&2
