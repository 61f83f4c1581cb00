"""The monthly accountability cycle at a province's size: 60 departments, 300,000 complaints closed in the month.

Builds a throw-away database (`complaints_bench_scores`), loads the demo world and widens it (60 back-office
departments), generates the month's closed complaints in PostgreSQL (with reply stages and callback surveys),
computes their KPI facts (`rollups_rebuild`), attributes each to a department (15 % shared between two) the way
closing would, records a few hundred deductions, configures a year of indicators, and then times
`month_close` — scores, ranks, notices, improvement orders — printing the time (target <= 30 s) and the number of
SQL statements. It runs the month twice: the second run replaces the first (what a recomputation after a late
appeal does).

    .venv/bin/python bench/monthly_scores/run.py [--orders 300000] [--departments 60]
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import (  # noqa: E402
    database_url,
    django_setup,
    flush_redis,
    manage,
    redis_url,
    reset_database,
    server_env,
)
from bench.dashboard.run import widen_world  # noqa: E402

TARGET_S = 30.0

ORDERS_SQL = """
INSERT INTO complaints_customer (phone, name, brand, tier, created_at, updated_at)
SELECT '16' || lpad(g::text, 9, '0'), '', 'other', 'ordinary', now(), now() FROM generate_series(1, 50000) g;

INSERT INTO complaints_workorder (
    number, kind, status, channel_id, category_id, severity, customer_id, customer_tier, customer_brand,
    contact_phone, description, region_id, first_responder_id, first_responder_name, first_responder_department_id,
    source, received_at, created_at, resolved_on_spot, answer, external_ref, idempotency_fingerprint, queue_level,
    escalation_level, reopen_count, transfer_count, return_count, result_code, callback_attempts, replied_at,
    replied_department_id, closed_at, satisfaction, callback_at)
SELECT 'TS' || lpad(g::text, 14, '0'), 'complaint', 'closed',
       (%(channels)s)[1 + g %% array_length(%(channels)s, 1)], (%(leaves)s)[1 + s.leaf], 'ordinary',
       %(first_customer)s + g %% 50000, 'ordinary', 'other', '13900000000', '基准', (%(counties)s)[1 + g %% array_length(%(counties)s, 1)],
       (%(agents)s)[1 + g %% array_length(%(agents)s, 1)], '基准', %(agent_dept)s, 'api', s.received, s.received,
       false, '', 'SCORE-' || g, '', '', CASE WHEN s.r2 < 0.04 THEN 1 ELSE 0 END, CASE WHEN s.r3 < 0.08 THEN 1 ELSE 0 END,
       0, 0, 'resolved', 1, s.replied, (%(departments)s)[1 + s.leaf %% array_length(%(departments)s, 1)],
       s.replied + interval '20 hours', (ARRAY[5,5,5,4,4,3,2,1])[1 + floor(s.r4 * 8)::int], s.replied + interval '20 hours'
FROM generate_series(1, %(orders)s) g,
LATERAL (SELECT floor(power(random(), 2) * array_length(%(leaves)s, 1))::int AS leaf, random() r2, random() r3,
                random() r4,
                %(start)s::timestamptz + make_interval(secs => (g::float8 / %(orders)s) * %(span)s) AS received,
                %(start)s::timestamptz + make_interval(secs => (g::float8 / %(orders)s) * %(span)s)
                    + make_interval(secs => 1800 + 150000 * power(random(), 3)) AS replied,
                g AS seed) s;

INSERT INTO workflow_orderstage (order_id, kind, department_id, started_at, due_at, warn_at, original_due_at,
                                 limit_amount, limit_unit, calendar_unconfirmed, extended, ended_at, outcome)
SELECT id, 'handle', replied_department_id, received_at, received_at + interval '24 hours',
       received_at + interval '19 hours', received_at + interval '24 hours', 24, 'clock_hours', false, false, replied_at,
       CASE WHEN replied_at > received_at + interval '24 hours' THEN 'late' ELSE 'in_time' END
FROM complaints_workorder WHERE external_ref LIKE 'SCORE-%%';

INSERT INTO quality_callbacksurvey (order_id, at, day, hour, rating, verdict, solved, comment, agent_name, round)
SELECT id, callback_at, (callback_at AT TIME ZONE 'Asia/Shanghai')::date,
       extract(hour FROM callback_at AT TIME ZONE 'Asia/Shanghai')::int, satisfaction,
       CASE WHEN satisfaction <= 2 THEN 'dissatisfied' WHEN satisfaction >= 4 THEN 'satisfied' ELSE 'neutral' END,
       satisfaction >= 3, '', '基准', 1
FROM complaints_workorder WHERE external_ref LIKE 'SCORE-%%';
"""

ATTRIBUTE_SQL = """
INSERT INTO accountability_determination (order_id, region_id, month, status, cause, proposed_at, reason,
                                          appeal_due_at)
SELECT o.id, o.region_id, date_trunc('month', o.closed_at AT TIME ZONE 'Asia/Shanghai')::date, 'final',
       CASE WHEN o.id %% 10 = 0 THEN 'customer' ELSE 'company' END, o.closed_at, '', o.closed_at
FROM complaints_workorder o WHERE o.external_ref LIKE 'SCORE-%%';

INSERT INTO accountability_determinationshare (determination_id, department_id, share)
SELECT d.id, o.replied_department_id, CASE WHEN o.id %% 7 = 0 THEN 0.6 ELSE 1 END
FROM accountability_determination d JOIN complaints_workorder o ON o.id = d.order_id;

INSERT INTO accountability_determinationshare (determination_id, department_id, share)
SELECT d.id, (%(departments)s)[1 + (o.id / 7) %% array_length(%(departments)s, 1)], 0.4
FROM accountability_determination d JOIN complaints_workorder o ON o.id = d.order_id
WHERE o.id %% 7 = 0 AND (%(departments)s)[1 + (o.id / 7) %% array_length(%(departments)s, 1)] <> o.replied_department_id;

UPDATE accountability_determinationshare s SET share = 1 FROM accountability_determination d
WHERE d.id = s.determination_id AND s.share = 0.6
  AND NOT EXISTS (SELECT 1 FROM accountability_determinationshare t WHERE t.determination_id = s.determination_id
                  AND t.id <> s.id);
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--orders", type=int, default=300_000)
    return parser.parse_args(argv)


def prepare_month(*, orders: int) -> datetime.date:
    """The scored month's world: 60 departments, `orders` closed complaints with stages, surveys, facts,
    attributions, 300 deductions and a year of indicators. Returns the month."""
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from accountability.models import Deduction, DeductionItem, Indicator
    from complaints.models import Customer
    from org.models import Department, User
    from quality.facts import rollups_rebuild

    world = widen_world()
    today = timezone.localdate()
    month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    start = timezone.make_aware(datetime.datetime.combine(month, datetime.time(0, 0)))
    days = ((month + datetime.timedelta(days=32)).replace(day=1) - month).days
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(ORDERS_SQL.split("INSERT INTO complaints_workorder")[0])
        params = {**world, "orders": orders, "start": start, "span": (days - 2) * 86400,
                  "first_customer": Customer.objects.order_by("pk").values_list("pk", flat=True)[0]}
        cursor.execute("INSERT INTO complaints_workorder" + ORDERS_SQL.split("INSERT INTO complaints_workorder")[1],
                       params)
    print(f"Loaded {orders:,} closed complaints of {month:%Y-%m} with stages and surveys in "
          f"{time.perf_counter() - started:.0f} s.")
    seconds = time.perf_counter()
    rollups_rebuild()
    print(f"Facts and rollups: {time.perf_counter() - seconds:.0f} s.")
    with connection.cursor() as cursor:
        cursor.execute(ATTRIBUTE_SQL, {"departments": world["departments"]})
        cursor.execute("ANALYZE")
    departments = list(Department.objects.filter(kind="back_office"))
    quality = User.objects.get(username="quality")
    item = DeductionItem.objects.create(year=month.year, code="overdue", name="超时工单", kind="overdue",
                                        points=Decimal("1"))
    Deduction.objects.bulk_create([
        Deduction(item=item, department=departments[n % len(departments)], region_id=departments[0].region_id,
                  month=month, points=item.points, evidence="基准", recorded_by=quality,
                  appeal_due_at=timezone.now(), status="final") for n in range(300)])
    for code, measure, higher, target, weight in (
            ("timeliness", "timeliness", True, 90, 25), ("satisfaction", "satisfaction", True, 85, 20),
            ("dissatisfaction", "dissatisfaction", False, 3, 10), ("repeat_rate", "repeat_rate", False, 3, 10),
            ("reopen_rate", "reopen_rate", False, 8, 10), ("overdue_count", "overdue_count", False, 200, 10),
            ("attributed", "attributed", False, 4000, 10), ("appeals_lost", "appeals_lost", False, 2, 5)):
        Indicator.objects.create(year=month.year, code=code, name=code, measure=measure, higher_is_better=higher,
                                 target=Decimal(target), weight=Decimal(weight))
    print(f"Departments: {len(departments)} back-office; determinations and shares attributed by SQL.")
    return month


def main(argv=None) -> int:
    args = parse_args(argv)
    db_url = database_url("postgres://postgres@127.0.0.1:5432/complaints_bench_scores")
    redis = redis_url("redis://127.0.0.1:6379/6")
    reset_database(db_url)
    flush_redis(redis)
    with tempfile.TemporaryDirectory(prefix="bench-scores-") as tmp:
        env = server_env(db_url=db_url, redis=redis, var_dir=Path(tmp))
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--orders", "0", "--quiet-logins")
        django_setup(env)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from accountability.models import MonthlyScore, ScoreRecomputation
        from accountability.scoring import month_close
        from org.models import Department

        month = prepare_month(orders=args.orders)
        departments = list(Department.objects.filter(kind="back_office"))
        for attempt in ("first run", "second run (a recorded recomputation: replaces the first)"):
            # Once scored, the month is archived: the second run goes through a recomputation record.
            recomputation = (ScoreRecomputation.objects.create(month=month, reason="bench", actor_name="bench")
                             if attempt.startswith("second") else None)
            with CaptureQueriesContext(connection) as queries:
                seconds = time.perf_counter()
                report = month_close(month=month, recomputation=recomputation)
                elapsed = time.perf_counter() - seconds
            print(f"month_close {month:%Y-%m}, {attempt}: {elapsed:.2f} s, {len(queries)} SQL statements — {report}")
        print(f"Scores stored: {MonthlyScore.objects.filter(month=month).count()}")
        print(f"\nTarget: a month for {len(departments)} departments over {args.orders:,} closed complaints in <= "
              f"{TARGET_S:.0f} s: {'met' if elapsed <= TARGET_S else 'MISSED'} ({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
