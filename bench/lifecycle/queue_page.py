"""The department-queue page with 100,000 open orders: server time per render.

Builds a throw-away database, loads the demo world (`seed_demo --orders 0`), bulk-inserts N open orders waiting
in the network department's queue (each with its claim deadline; a third share one, as orders received overnight
do) plus M closed orders elsewhere (plain SQL: this measures reading, not
writing), and renders GET /work/queue/ in-process with Django's test client as the network handler, which
times the whole server side (middleware, view, queries, template) without the network. Also prints the
PostgreSQL plan of the list query.

    .venv/bin/python bench/lifecycle/queue_page.py [--open 100000] [--closed 200000] [--renders 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import (
    database_url,
    django_setup,
    flush_redis,
    manage,
    percentile,
    redis_url,
    reset_database,
    server_env,  # noqa: E402
)

TARGET_MS = 150.0

FILL_SQL = """
INSERT INTO complaints_customer (phone, name, brand, tier, created_at, updated_at)
SELECT '139' || lpad(g::text, 8, '0'), '客户' || g, 'other',
       CASE WHEN g %% 20 = 0 THEN 'gold' ELSE 'ordinary' END, now(), now()
FROM generate_series(1, %(customers)s) g;

INSERT INTO complaints_workorder (
    number, kind, status, channel_id, category_id, severity, customer_id, contact_phone, description, region_id,
    first_responder_id, first_responder_name, first_responder_department_id, source, received_at, created_at,
    resolved_on_spot, answer, external_ref, idempotency_fingerprint, current_department_id, queue_level,
    stage_started_at, escalation_level, reopen_count, transfer_count, return_count, result_code,
    callback_attempts, closed_at, stage_due_at, stage_warn_at)
SELECT 'TB' || lpad(g::text, 14, '0'), 'complaint',
       CASE WHEN g <= %(open)s THEN 'queued' ELSE 'closed' END,
       %(channel)s, (%(categories)s)[1 + g %% array_length(%(categories)s, 1)], 'ordinary',
       c.id, c.phone, '批量基准测试工单', %(region)s, %(agent)s, '基准', %(agent_dept)s, 'api',
       now() - (g || ' seconds')::interval, now(), false, '', 'BENCH-' || g, '',
       CASE WHEN g <= %(open)s THEN %(department)s ELSE NULL END,
       CASE WHEN g <= %(open)s THEN 'handler' ELSE '' END,
       CASE WHEN g <= %(open)s THEN now() - (g || ' seconds')::interval ELSE NULL END,
       0, 0, 0, 0, '', 0,
       CASE WHEN g <= %(open)s THEN NULL ELSE now() END,
       -- The claim deadline: 15 minutes after receipt; a third were received overnight and share one deadline.
       CASE WHEN g > %(open)s THEN NULL
            WHEN g %% 3 = 0 THEN date_trunc('day', now()) + interval '1 day 8 hours 45 minutes'
            ELSE now() - (g || ' seconds')::interval + interval '15 minutes' END,
       CASE WHEN g > %(open)s THEN NULL
            WHEN g %% 3 = 0 THEN date_trunc('day', now()) + interval '1 day 8 hours 42 minutes'
            ELSE now() - (g || ' seconds')::interval + interval '12 minutes' END
FROM generate_series(1, %(total)s) g
JOIN complaints_customer c ON c.phone = '139' || lpad((1 + g %% %(customers)s)::text, 8, '0');
ANALYZE;
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--open", type=int, default=100_000, help="open orders in the network department's queue")
    parser.add_argument("--closed", type=int, default=200_000, help="closed orders besides them")
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--renders", type=int, default=30, help="measured renders of each page")
    return parser.parse_args(argv)


def fill(args) -> None:
    from django.db import connection

    from complaints.models import Channel
    from complaints.selectors import leaf_categories
    from org.models import Department, User

    agent = User.objects.get(username="agent_gz")
    network = Department.objects.get(code="network")
    categories = list(leaf_categories().filter(path__startswith="/NET/").values_list("pk", flat=True)[:20])
    params = {
        "customers": args.customers, "open": args.open, "total": args.open + args.closed,
        "channel": Channel.objects.get(code="hotline").pk, "categories": categories,
        "region": agent.department.region_id, "agent": agent.pk, "agent_dept": agent.department_id,
        "department": network.pk,
    }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FILL_SQL, params)
    print(f"Loaded {args.open:,} open + {args.closed:,} closed orders in {time.perf_counter() - started:.1f} s.")


def measure(path: str, username: str, renders: int) -> list[float]:
    from django.test import Client

    from org.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    for _ in range(3):  # warm caches and connections
        assert client.get(path).status_code == 200
    timings = []
    for _ in range(renders):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return sorted(timings)


def explain(username: str) -> str:
    from django.db import connection

    from org.models import User
    from workflow.selectors import work_list_orders

    qs = work_list_orders(user=User.objects.get(username=username), key="queue")[:51]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main(argv=None) -> int:
    args = parse_args(argv)
    db_url = database_url("postgres://postgres@127.0.0.1:5432/complaints_bench_queue")
    redis = redis_url("redis://127.0.0.1:6379/3")
    reset_database(db_url)
    flush_redis(redis)
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        env = server_env(db_url=db_url, redis=redis, var_dir=Path(tmp))
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--orders", "0", "--quiet-logins")
        manage(env, "collectstatic", "--noinput")  # production serves hashed static names from a manifest
        django_setup(env)
        fill(args)
        print(f"\nServer time per render, {args.renders} renders each (ms):")
        print(f"{'page':<42}{'p50':>8}{'p95':>8}{'max':>8}")
        results = {}
        for label, path, user in [
            ("department queue, page 1 (handler)", "/work/queue/", "handler_network"),
            ("department queue, page 1 (lead)", "/work/queue/", "lead_network"),
            ("department queue, page 20", "/work/queue/?page=20", "handler_network"),
            ("department queue, newest first", "/work/queue/?sort=-received", "handler_network"),
            ("my tasks (empty)", "/work/mine/", "handler_network"),
        ]:
            timings = measure(path, user, args.renders)
            results[label] = timings
            print(f"{label:<42}{statistics.median(timings):>8.1f}{percentile(timings, 95):>8.1f}"
                  f"{timings[-1]:>8.1f}")
        p95 = percentile(results["department queue, page 1 (handler)"], 95)
        verdict = "met" if p95 <= TARGET_MS else "MISSED"
        print(f"\nTarget: department queue page 1 p95 <= {TARGET_MS:.0f} ms server time: {verdict} ({p95:.1f} ms)")
        print("\nPlan of the queue query:\n" + explain("handler_network"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
