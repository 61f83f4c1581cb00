#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1; start them when installed but stopped; say what is missing.
set -euo pipefail

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "Starting PostgreSQL..."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  else
    echo "PostgreSQL is not installed. Install it (Debian: apt-get install postgresql) and allow trust auth for" >&2
    echo "user postgres on 127.0.0.1:5432, or set TEST_DATABASE_URL." >&2
    exit 1
  fi
fi
pg_up || { echo "PostgreSQL did not come up on 127.0.0.1:5432." >&2; exit 1; }

if ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "Starting Redis..."
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 30); do redis_up && break; sleep 0.5; done
  else
    echo "Redis is not installed. Install it (Debian: apt-get install redis-server) or set TEST_REDIS_URL." >&2
    exit 1
  fi
fi
redis_up || { echo "Redis did not come up on 127.0.0.1:6379." >&2; exit 1; }
