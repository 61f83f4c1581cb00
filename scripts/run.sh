#!/usr/bin/env bash
# `make run`: migrate, load demo data, then run web, Celery worker and Celery beat together until Ctrl-C.
# No environment: SQLite + kombu's filesystem broker under var/. DATABASE_URL / REDIS_URL: PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
WEB_WORKERS=${WEB_WORKERS:-2}
mkdir -p "${VAR_DIR:-var}/broker" "${VAR_DIR:-var}/broker-processed" "${VAR_DIR:-var}/broker-control"

$PY manage.py migrate --noinput
$PY manage.py seed_demo --quiet-logins

pids=()
cleanup() { trap - EXIT INT TERM; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

.venv/bin/celery -A config worker --loglevel=INFO --concurrency=2 & pids+=($!)
.venv/bin/celery -A config beat --loglevel=INFO --schedule=var/celerybeat-schedule & pids+=($!)
.venv/bin/gunicorn config.wsgi --bind "$HOST:$PORT" --workers "$WEB_WORKERS" --access-logfile - & pids+=($!)

sleep 2
$PY manage.py seed_demo --orders 0 2>/dev/null | sed -n '/Demo logins/,$p'
echo
echo "Complaint platform running at http://$HOST:$PORT/  (public progress page: http://$HOST:$PORT/track/)"
echo "Database: ${DATABASE_URL:-SQLite in var/db.sqlite3}; broker: ${REDIS_URL:-filesystem under var/broker}"
echo "Press Ctrl-C to stop web, worker and beat."
wait -n "${pids[@]}"
