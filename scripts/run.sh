#!/usr/bin/env bash
# `make run`: migrate, load the demo's working day, run web, Celery worker and Celery beat together until Ctrl-C;
# the URL is printed once /healthz answers ok, and the demo's 90-day history is then added in the background.
# No environment: SQLite + kombu's filesystem broker under var/. DATABASE_URL / REDIS_URL: PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
WEB_WORKERS=${WEB_WORKERS:-2}
VAR=${VAR_DIR:-var}
mkdir -p "$VAR/broker" "$VAR/broker-processed" "$VAR/broker-control"

$PY manage.py migrate --noinput
# The orders of the last two days, lived through the workflow, and all that needs no history: enough to work with.
if ! $PY manage.py seed_demo --recent-days 2 > "$VAR/seed-demo.log" 2> "$VAR/seed-demo.err"; then
    tail -n 30 "$VAR/seed-demo.err" >&2
    exit 1
fi
sed -n '/^Demo orders/p' "$VAR/seed-demo.log"

pids=()
history=
cleanup() {
    trap - EXIT INT TERM
    [ -z "$history" ] || kill "$history" 2>/dev/null || true
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

.venv/bin/celery -A config worker --loglevel=INFO --concurrency=2 & pids+=($!)
.venv/bin/celery -A config beat --loglevel=INFO --schedule="$VAR/celerybeat-schedule" & pids+=($!)
.venv/bin/gunicorn config.wsgi --bind "$HOST:$PORT" --workers "$WEB_WORKERS" --access-logfile - & pids+=($!)

# Ready when web, database, broker, a worker and beat all answer: /healthz carries a heartbeat through all of them.
healthy=
healthz() {
    if command -v curl >/dev/null; then
        curl -fs -o /dev/null --max-time 3 "http://$HOST:$PORT/healthz"
    else
        $PY -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=3)" \
            "http://$HOST:$PORT/healthz" 2>/dev/null
    fi
}
for _i in $(seq 1 300); do
    if healthz; then healthy=1; break; fi
    sleep 1
done
if [ -z "$healthy" ]; then
    echo "The platform did not become healthy within 5 minutes: see http://$HOST:$PORT/healthz and the log above." >&2
fi

# The rest of the demo (90 days of orders, KPI history, accountability months, last month's reports) while it runs.
nice -n 10 $PY manage.py seed_demo --quiet-logins > "$VAR/seed-history.log" 2>&1 &
history=$!

sed -n '/Demo logins/,$p' "$VAR/seed-demo.log"
echo
echo "Complaint platform running at http://$HOST:$PORT/  (public progress page: http://$HOST:$PORT/track/)"
echo "Database: ${DATABASE_URL:-SQLite in $VAR/db.sqlite3}; broker: ${REDIS_URL:-filesystem under $VAR/broker}"
echo "The demo's 90-day history is being added in the background ($VAR/seed-history.log ends with \"Demo orders\""
echo "when it is done); dashboards, KPI history and accountability months fill in as it lands."
echo "Press Ctrl-C to stop web, worker and beat."
wait -n "${pids[@]}"
