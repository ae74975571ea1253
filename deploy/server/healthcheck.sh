#!/usr/bin/env bash
# Health check (run by mot-cua-healthcheck.timer every 5 minutes). Exits non-zero, with the
# reason in the journal, when:
#  - HEALTHCHECK_URL (the public /healthz, through nginx and TLS) does not answer 200 "ok";
#  - the newest backup in BACKUP_DIR is older than BACKUP_MAX_AGE_HOURS (default 26).
set -euo pipefail

url=${HEALTHCHECK_URL:-http://127.0.0.1:8000/healthz}
backup_dir=${BACKUP_DIR:-/var/backups/mot-cua}
max_age_hours=${BACKUP_MAX_AGE_HOURS:-26}
status=0

if ! body=$(curl --silent --show-error --fail --max-time 20 "$url" 2>&1); then
  echo "FAIL web: $url: $body" >&2
  status=1
elif [[ "$body" != *'"status"'*'"ok"'* ]]; then
  echo "FAIL web: $url answered: $body" >&2
  status=1
else
  echo "ok web: $url"
fi

newest=$(find "$backup_dir" -maxdepth 1 -type f \( -name 'survey-*.dump' -o -name 'survey-*.sqlite.gz' \) \
  -mmin -"$((max_age_hours * 60))" -print -quit 2>/dev/null || true)
if [ -z "$newest" ]; then
  echo "FAIL backup: no backup younger than $max_age_hours hours in $backup_dir" >&2
  status=1
else
  echo "ok backup: $newest"
fi
exit "$status"
