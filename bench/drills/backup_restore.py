"""Backup and restore drill: `pg_dump` of a seeded database restored into a new one, then a consistency check.

Seeds a throw-away database (its name contains `bench`) with the demo data, dumps it with `pg_dump -Fc`,
restores it with `pg_restore` into a second database, and compares the two:
- the row count of every table;
- the open time-limited stages and their deadlines (count, earliest and latest due, a checksum);
- the audit trails (order and support request events): count and an md5 over every row in order;
- the append-only triggers on the audit tables exist in the copy and still refuse an UPDATE;
- the copy's migrations are complete (`migrate --check`).
Prints each figure and exits 1 on any difference.

    .venv/bin/python bench/drills/backup_restore.py [--orders 300]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import database_url, manage, redis_url, reset_database, server_env  # noqa: E402

CHECKS = {
    "open stages": "SELECT count(*), min(due_at)::text, max(due_at)::text, md5(coalesce(string_agg("
                   "order_id || ':' || kind || ':' || due_at::text, ',' ORDER BY id), '')) "
                   "FROM workflow_orderstage WHERE ended_at IS NULL",
    "order audit trail": "SELECT count(*), max(id), md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) "
                         "FROM workflow_orderevent t",
    "support audit trail": "SELECT count(*), max(id), md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) "
                           "FROM support_supportevent t",
    "open orders": "SELECT count(*) FROM complaints_workorder WHERE status NOT IN ('closed', 'cancelled')",
}


def connect(url):
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


def figures(url: str) -> dict[str, tuple]:
    out = {}
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        for (table,) in cur.fetchall():
            cur.execute(f'SELECT count(*) FROM "{table}"')
            out[f"rows {table}"] = cur.fetchone()
        for name, sql in CHECKS.items():
            cur.execute(sql)
            out[name] = cur.fetchone()
        cur.execute("SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2")
        out["triggers"] = tuple(cur.fetchall())
    return out


def audit_refuses_update(url: str) -> bool:
    import psycopg2

    with connect(url) as conn, conn.cursor() as cur:
        try:
            cur.execute("UPDATE workflow_orderevent SET comment = comment || 'x' WHERE id = (SELECT min(id) FROM "
                        "workflow_orderevent)")
        except psycopg2.Error:
            return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    args = parser.parse_args()
    source = database_url("postgres://postgres@127.0.0.1:5432/complaints_bench_backup")
    parsed = urlparse(source)
    copy = urlunparse(parsed._replace(path=parsed.path + "_restored"))
    redis = redis_url()
    reset_database(source)
    reset_database(copy)
    with tempfile.TemporaryDirectory() as tmp:
        env = server_env(db_url=source, redis=redis, var_dir=Path(tmp))
        started = time.perf_counter()
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--orders", str(args.orders), "--quiet-logins")
        print(f"seeded {args.orders} demo orders in {time.perf_counter() - started:.0f} s")
        dump = Path(tmp) / "complaints.dump"
        started = time.perf_counter()
        subprocess.run(["pg_dump", "-Fc", "-f", str(dump), source], check=True)
        print(f"pg_dump: {dump.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", copy, str(dump)], check=True)
        print(f"pg_restore: {time.perf_counter() - started:.1f} s")
        before, after = figures(source), figures(copy)
        differences = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
        for name in CHECKS:
            print(f"  {name}: {after[name]}")
        tables = [k for k in before if k.startswith("rows ")]
        print(f"  {len(tables)} tables, {sum(before[k][0] for k in tables)} rows; {len(after['triggers'])} triggers")
        refuses = audit_refuses_update(copy)
        print(f"  the restored audit trail refuses an UPDATE: {refuses}")
        migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--check"], cwd=Path(__file__).parents[2],
                                  env=server_env(db_url=copy, redis=redis, var_dir=Path(tmp)),
                                  capture_output=True, text=True).returncode == 0
        print(f"  the restored database's migrations are complete: {migrated}")
    for key in differences:
        print(f"DIFFERENT {key}: {before.get(key)} != {after.get(key)}")
    ok = not differences and refuses and migrated
    print("consistent" if ok else "NOT CONSISTENT")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
