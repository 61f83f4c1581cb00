"""The deadline sweep at scale: 1,000,000 open orders, 500,000 of them with a running stage, 10,000 of those due.

Every open order also has its customer's promise running (a second clock: 1,000,000 more open stage rows), none of
them due unless `--promises-due` says how many are (the sweep handles both clocks in one pass).

Builds a throw-away database (`complaints_bench_sweep`), loads the demo world without orders, bulk-loads the
orders and stages with plain SQL, then runs the real sweep in-process (the same function Celery beat calls) and
prints: the time to handle the 10,000 due stages (detection — warnings, breaches, escalations — and then the
notifications), the time of a sweep with nothing due, and the plans of the sweep's queries.

    .venv/bin/python bench/sla_sweep/run.py [--orders 1000000] [--running 500000] [--due 10000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import (
    database_url,
    django_setup,
    flush_redis,
    manage,
    redis_url,
    reset_database,
    server_env,  # noqa: E402
)

TARGET_DUE_S = 20.0
TARGET_EMPTY_MS = 50.0

FILL_SQL = """
INSERT INTO complaints_customer (phone, name, brand, tier, created_at, updated_at)
SELECT '139' || lpad(g::text, 8, '0'), '客户' || g, 'other', 'ordinary', now(), now()
FROM generate_series(1, %(customers)s) g;

INSERT INTO complaints_workorder (
    number, kind, status, channel_id, category_id, severity, customer_id, contact_phone, description, region_id,
    first_responder_id, first_responder_name, first_responder_department_id, source, received_at, created_at,
    resolved_on_spot, answer, external_ref, idempotency_fingerprint, current_department_id, queue_level,
    stage_started_at, escalation_level, reopen_count, transfer_count, return_count, result_code, callback_attempts,
    stage_due_at, stage_warn_at)
SELECT 'TB' || lpad(g::text, 14, '0'), 'complaint', CASE WHEN g %% 2 = 0 THEN 'queued' ELSE 'in_progress' END,
       %(channel)s, %(category)s, 'ordinary', %(first_customer)s + (g %% %(customers)s), '13900000000', '基准',
       %(region)s, %(agent)s, '基准', %(agent_dept)s, 'api', now() - interval '2 days', now(), false, '',
       'BENCH-' || g, '', %(department)s, 'handler', now() - interval '2 days', 0, 0, 0, 0, '', 0,
       CASE WHEN g <= %(running)s THEN
            CASE WHEN g <= %(due)s THEN now() - interval '1 minute' * (1 + g %% 50)
                 ELSE now() + interval '1 minute' * (60 + g %% 5000) END END,
       CASE WHEN g <= %(running)s THEN
            CASE WHEN g <= %(due)s THEN now() - interval '1 minute' * (60 + g %% 50)
                 ELSE now() + interval '1 minute' * (30 + g %% 5000) END END
FROM generate_series(1, %(orders)s) g;

INSERT INTO workflow_orderstage (order_id, kind, department_id, started_at, due_at, warn_at, original_due_at,
                                 limit_amount, limit_unit, calendar_unconfirmed, extended, outcome, cause)
SELECT o.id, 'handle', o.current_department_id, now() - interval '2 days', o.stage_due_at, o.stage_warn_at,
       o.stage_due_at, 24, 'clock_hours', false, false, '', ''
FROM complaints_workorder o WHERE o.stage_due_at IS NOT NULL;

INSERT INTO workflow_orderstage (order_id, kind, department_id, started_at, due_at, warn_at, original_due_at,
                                 limit_amount, limit_unit, calendar_unconfirmed, extended, outcome, cause)
SELECT o.id, 'promise', NULL, o.received_at, d.due, d.due - interval '30 minutes', d.due, 72, 'clock_hours', false,
       false, '', 'receipt'
FROM complaints_workorder o
CROSS JOIN LATERAL (SELECT CASE WHEN o.id %% %(orders)s < %(promises_due)s THEN now() - interval '1 minute'
                                ELSE now() + interval '1 minute' * (120 + o.id %% 5000) END AS due) d;
UPDATE complaints_workorder o SET promised_at = s.due_at FROM workflow_orderstage s
WHERE s.order_id = o.id AND s.kind = 'promise';
ANALYZE;
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000, help="open orders")
    parser.add_argument("--running", type=int, default=500_000, help="of which with a running stage")
    parser.add_argument("--due", type=int, default=10_000, help="of which due (past warning point and deadline)")
    parser.add_argument("--promises-due", type=int, default=0,
                        help="customers' promises past their deadline (besides the due stages)")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--empty-runs", type=int, default=20)
    return parser.parse_args(argv)


def fill(args) -> None:
    from django.db import connection

    from complaints.models import Channel, Customer
    from complaints.selectors import leaf_categories
    from org.models import Department, User

    agent = User.objects.get(username="agent_gz")
    params = {
        "orders": args.orders, "running": args.running, "due": args.due, "customers": args.customers,
        "promises_due": args.promises_due,
        "channel": Channel.objects.get(code="hotline").pk,
        "category": leaf_categories().filter(path__startswith="/NET/").values_list("pk", flat=True)[0],
        "region": agent.department.region_id, "agent": agent.pk, "agent_dept": agent.department_id,
        "department": Department.objects.get(code="network").pk,
    }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FILL_SQL.split("INSERT INTO complaints_workorder")[0], params)
        params["first_customer"] = Customer.objects.order_by("pk").values_list("pk", flat=True)[0]
        cursor.execute("INSERT INTO complaints_workorder" + FILL_SQL.split("INSERT INTO complaints_workorder")[1],
                       params)
    print(f"Loaded {args.orders:,} open orders (each with its promise, {args.promises_due:,} of those due), "
          f"{args.running:,} running stages, {args.due:,} due, in "
          f"{time.perf_counter() - started:.0f} s.")


def plans(now) -> str:
    from django.db import connection

    from workflow.models import OrderStage, SlaAlert

    queries = {
        "warnings": OrderStage.objects.filter(ended_at__isnull=True, paused_at__isnull=True,
                                              warned_at__isnull=True, warn_at__lte=now).order_by("warn_at")[:500],
        "breaches": OrderStage.objects.filter(ended_at__isnull=True, paused_at__isnull=True,
                                              overdue_at__isnull=True, due_at__lte=now).order_by("due_at")[:500],
        "further escalations": OrderStage.objects.filter(ended_at__isnull=True, paused_at__isnull=True,
                                                         next_escalation_at__lte=now)
        .order_by("next_escalation_at")[:500],
        "alerts to notify": SlaAlert.objects.filter(notified_at__isnull=True).order_by("detected_at", "id")[:500],
    }
    out = []
    with connection.cursor() as cursor:
        for label, qs in queries.items():
            sql, params = qs.values("pk").query.sql_with_params()
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params)
            lines = [row[0] for row in cursor.fetchall()]
            out.append(f"-- {label}\n" + "\n".join(lines))
    return "\n".join(out)


def main(argv=None) -> int:
    args = parse_args(argv)
    db_url = database_url("postgres://postgres@127.0.0.1:5432/complaints_bench_sweep")
    redis = redis_url("redis://127.0.0.1:6379/5")
    reset_database(db_url)
    flush_redis(redis)
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        env = server_env(db_url=db_url, redis=redis, var_dir=Path(tmp))
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--orders", "0", "--quiet-logins")
        django_setup(env)
        fill(args)

        from django.utils import timezone

        from core.timed import sweep_until_done
        from workflow import sweep as sweep_module
        from workflow.models import Notification, SlaAlert

        now = timezone.now()
        started = time.perf_counter()
        detected = {}
        for step in ("_detect_warnings", "_detect_overdue", "_detect_further_escalations"):
            step_started = time.perf_counter()
            detected[step] = sweep_until_done(partial(getattr(sweep_module, step), now, sweep_module.BATCH))
            detected[step + "_s"] = time.perf_counter() - step_started
        detection = time.perf_counter() - started
        notify_started = time.perf_counter()
        notified = sweep_until_done(partial(sweep_module._notify_alerts, now, sweep_module.BATCH))
        notify = time.perf_counter() - notify_started
        total = time.perf_counter() - started
        print(f"\nSweep of {args.due:,} due stages among {args.running:,} running ({args.orders:,} open orders):")
        print(f"  warnings      {detected['_detect_warnings']:>7,}  {detected['_detect_warnings_s']:6.2f} s")
        print(f"  breaches      {detected['_detect_overdue']:>7,}  {detected['_detect_overdue_s']:6.2f} s "
              f"(each escalated to level 1)")
        print(f"  further esc.  {detected['_detect_further_escalations']:>7,}  "
              f"{detected['_detect_further_escalations_s']:6.2f} s")
        print(f"  detection     {'':>7}  {detection:6.2f} s")
        print(f"  notification  {notified:>7,}  {notify:6.2f} s  ({Notification.objects.count():,} inbox rows, "
              f"{SlaAlert.objects.count():,} alerts)")
        print(f"  total         {'':>7}  {total:6.2f} s   target <= {TARGET_DUE_S:.0f} s: "
              f"{'met' if total <= TARGET_DUE_S else 'MISSED'}")

        empty = []
        for _ in range(args.empty_runs):
            run_started = time.perf_counter()
            report = sweep_module.sweep(now=now)
            empty.append((time.perf_counter() - run_started) * 1000)
            assert report.warned == report.overdue == report.escalated == report.notified == 0, report
        empty.sort()
        print(f"\nEmpty sweep ({args.empty_runs} runs): p50 {statistics.median(empty):.1f} ms, max {empty[-1]:.1f} ms"
              f"   target <= {TARGET_EMPTY_MS:.0f} ms: {'met' if statistics.median(empty) <= TARGET_EMPTY_MS else 'MISSED'}")
        print("\nQuery plans (after the sweep, as an empty sweep sees them):\n" + plans(now))
    return 0


if __name__ == "__main__":
    sys.exit(main())
