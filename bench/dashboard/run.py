"""Dashboards over 10,000,000 orders: server time of the overview (target p95 <= 300 ms), the hot-spot query, and
the rollup rebuild and incremental update.

Builds a throw-away database (`complaints_bench_dashboard`), loads the demo world without orders and widens it to a
province's size (21 cities, ~100 counties, 60 departments, 100 agents), then generates the orders in PostgreSQL
itself (INSERT … SELECT over generate_series, in chunks): about 1,000 days of history, a tenth of it still open,
each dispatched order with its reply stage and most closed ones with a callback survey; the category decides the
department for nine orders in ten (the others went on to one of two related departments). Then it rebuilds the
facts and cubes (`rollups_rebuild`, timed), renders the dashboards in-process with Django's test client as the
province's quality manager (server time: middleware, view, queries, template), times the hot-spot query, the
incremental update of a batch of changed orders and the open-order snapshot, and prints the query plan of a
dashboard read.

    .venv/bin/python bench/dashboard/run.py [--orders 10000000] [--renders 20] [--keep [--skip-rebuild]]
"""

from __future__ import annotations

import argparse
import datetime
import statistics
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
    percentile,
    redis_url,
    reset_database,
    server_env,
)

TARGET_OVERVIEW_P95_MS = 300.0
DAYS = 1000

WORLD_SQL = """
INSERT INTO complaints_customer (phone, name, brand, tier, created_at, updated_at)
SELECT '15' || lpad(g::text, 9, '0'), '', (ARRAY['gotone','mzone','easyown','other'])[1 + g %% 4],
       CASE WHEN g %% 40 = 0 THEN 'gold' WHEN g %% 97 = 0 THEN 'diamond' WHEN g %% 31 = 0 THEN 'group'
            ELSE 'ordinary' END, now(), now()
FROM generate_series(1, %(customers)s) g;
"""

ORDERS_SQL = """
INSERT INTO complaints_workorder (
    number, kind, status, channel_id, category_id, severity, customer_id, customer_tier, customer_brand,
    contact_phone, description, region_id, first_responder_id, first_responder_name, first_responder_department_id,
    source, received_at, created_at, resolved_on_spot, answer, external_ref, idempotency_fingerprint,
    current_department_id, queue_level, stage_started_at, escalation_level, reopen_count, transfer_count,
    return_count, result_code, callback_attempts, replied_at, replied_department_id, closed_at, satisfaction,
    callback_at, stage_due_at, stage_warn_at)
SELECT 'TB' || lpad(g::text, 14, '0'), s.kind,
       CASE WHEN NOT s.open THEN 'closed'
            ELSE (ARRAY['queued','in_progress','in_progress','review','callback','new'])[1 + (g %% 6)] END,
       (%(channels)s)[1 + (g %% array_length(%(channels)s, 1))],
       (%(leaves)s)[1 + s.leaf],
       CASE WHEN s.r2 < 0.03 THEN 'major' WHEN s.r2 < 0.15 THEN 'difficult' ELSE 'ordinary' END,
       %(first_customer)s + (g::bigint * 7919) %% %(customers)s, 'ordinary', 'other',
       '13900000000', '基准测试工单', (%(counties)s)[1 + floor(power(s.r3, 1.6) * array_length(%(counties)s, 1))::int],
       s.agent, '基准', %(agent_dept)s, 'api', s.received, s.received, s.on_spot, '', 'BENCH-' || g, '',
       CASE WHEN s.open THEN s.dept END, CASE WHEN s.open THEN 'handler' ELSE '' END,
       CASE WHEN s.open THEN s.received END, CASE WHEN s.r4 < 0.03 THEN 1 ELSE 0 END, 0, 0, 0,
       CASE WHEN s.replied IS NULL THEN '' ELSE 'resolved' END, 0,
       s.replied, CASE WHEN s.replied IS NOT NULL THEN s.dept END,
       CASE WHEN NOT s.open THEN COALESCE(s.replied, s.received) + s.close_after END,
       CASE WHEN NOT s.open AND NOT s.on_spot AND s.r5 < 0.6 THEN
            (ARRAY[5,5,5,5,5,4,4,4,3,2,1])[1 + floor(s.r6 * 11)::int] END,
       CASE WHEN NOT s.open AND NOT s.on_spot AND s.r5 < 0.6 THEN COALESCE(s.replied, s.received) + s.close_after
       END,
       CASE WHEN s.open THEN s.received + interval '24 hours' END,
       CASE WHEN s.open THEN s.received + interval '19 hours 12 minutes' END
FROM (
    SELECT g, q.*,
           CASE WHEN q.open OR q.on_spot THEN NULL
                ELSE q.received + make_interval(secs => 1200 + 250000 * power(q.r7, 3)) END AS replied
    FROM generate_series(%(lo)s, %(hi)s) g,
    LATERAL (
        SELECT r.*,
               now() - make_interval(secs => (1 - g::float8 / %(total)s) * %(span)s + r.r8 * 3600) AS received,
               (1 - g::float8 / %(total)s) * %(days)s < %(open_days)s AND r.r9 < 0.85 AS open,
               CASE WHEN r.r10 < 0.8 THEN 'complaint' WHEN r.r10 < 0.95 THEN 'inquiry' ELSE 'suggestion' END AS kind,
               (1 - g::float8 / %(total)s) * %(days)s >= %(open_days)s AND r.r10 < 0.75 AND r.r11 < 0.3 AS on_spot,
               floor(power(r.r1, 2.2) * array_length(%(leaves)s, 1))::int AS leaf,
               -- the category decides the department (按类定责); a tenth end with one of two others (transfers)
               (%(departments)s)[1 + (floor(power(r.r1, 2.2) * array_length(%(leaves)s, 1))::int
                    + CASE WHEN r.r12 < 0.9 THEN 0 WHEN r.r12 < 0.95 THEN 1 ELSE 7 END)
                    %% array_length(%(departments)s, 1)] AS dept,
               (%(agents)s)[1 + floor(r.r13 * array_length(%(agents)s, 1))::int] AS agent,
               make_interval(secs => 7200 + 170000 * r.r14) AS close_after
        FROM (SELECT random() r1, random() r2, random() r3, random() r4, random() r5, random() r6, random() r7,
                     random() r8, random() r9, random() r10, random() r11, random() r12, random() r13,
                     random() r14, g AS seed) r
    ) q
) s;
"""

STAGES_SQL = """
INSERT INTO workflow_orderstage (order_id, kind, department_id, started_at, due_at, warn_at, original_due_at,
                                 limit_amount, limit_unit, calendar_unconfirmed, extended, ended_at, outcome, cause)
SELECT o.id, 'handle', COALESCE(o.replied_department_id, o.current_department_id), o.received_at + interval '5 min',
       o.received_at + interval '24 hours 5 min', o.received_at + interval '19 hours 17 min',
       o.received_at + interval '24 hours 5 min', 24, 'clock_hours', false, false,
       CASE WHEN o.status = 'closed' THEN o.replied_at END,
       CASE WHEN o.status <> 'closed' THEN ''
            WHEN o.replied_at > o.received_at + interval '24 hours 5 min' THEN 'late' ELSE 'in_time' END, ''
FROM complaints_workorder o
WHERE o.id BETWEEN %(lo)s AND %(hi)s AND NOT o.resolved_on_spot;

INSERT INTO quality_callbacksurvey (order_id, at, day, hour, rating, verdict, solved, comment, agent_name, round)
SELECT o.id, o.callback_at, (o.callback_at AT TIME ZONE 'Asia/Shanghai')::date,
       extract(hour FROM o.callback_at AT TIME ZONE 'Asia/Shanghai')::int, o.satisfaction,
       CASE WHEN o.satisfaction <= 2 THEN 'dissatisfied' WHEN o.satisfaction >= 4 THEN 'satisfied' ELSE 'neutral' END,
       o.satisfaction >= 3, '',
       '基准', 1
FROM complaints_workorder o
WHERE o.id BETWEEN %(lo)s AND %(hi)s AND o.satisfaction IS NOT NULL;
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=2_000_000)
    parser.add_argument("--open-days", type=int, default=120, help="how far back orders may still be open")
    parser.add_argument("--chunk", type=int, default=500_000)
    parser.add_argument("--renders", type=int, default=20, help="measured renders of each page")
    parser.add_argument("--keep", action="store_true", help="reuse a loaded database (skip the load)")
    parser.add_argument("--skip-rebuild", action="store_true",
                        help="with --keep: reuse the rollups too (measure only; 40 minutes saved at 10 M orders)")
    return parser.parse_args(argv)


def widen_world() -> dict:
    """A province's size: 21 cities with five counties each, 60 back-office departments, 100 agents."""
    from django.contrib.auth.models import Group

    from complaints.models import Channel
    from complaints.selectors import leaf_categories
    from org.models import Department, Region, User

    province = Region.objects.get(level=1)
    for c in range(21):
        city, _created = Region.objects.get_or_create(code=f"B{c:02d}", defaults={
            "name": f"基准市{c}", "level": 2, "parent": province})
        for k in range(5):
            Region.objects.get_or_create(code=f"B{c:02d}{k}", defaults={"name": f"基准市{c}区{k}", "level": 3,
                                                                       "parent": city})
    for d in range(60):
        Department.objects.get_or_create(code=f"bench-dept-{d}", defaults={
            "name": f"基准部门{d}", "kind": "back_office", "region": province})
    unit = Department.objects.get(code="gz-hotline")
    agents = Group.objects.get(name="frontline_agent")
    for a in range(100):
        user, created = User.objects.get_or_create(username=f"bench_agent_{a}", defaults={
            "display_name": f"基准坐席{a}", "department": unit})
        if created:
            user.groups.add(agents)
    return {
        "channels": list(Channel.objects.values_list("pk", flat=True)),
        "leaves": list(leaf_categories().order_by("path").values_list("pk", flat=True)),
        "counties": list(Region.objects.filter(level=3).values_list("pk", flat=True)),
        "departments": list(Department.objects.filter(kind="back_office").values_list("pk", flat=True)),
        "agents": list(User.objects.filter(username__startswith="bench_agent_").values_list("pk", flat=True)),
        "agent_dept": unit.pk,
    }


def load(args) -> None:
    from django.db import connection

    from complaints.models import Customer

    world = widen_world()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(WORLD_SQL, {"customers": args.customers})
        first_customer = Customer.objects.order_by("pk").values_list("pk", flat=True)[0]
        params = {**world, "first_customer": first_customer, "customers": args.customers, "total": args.orders,
                  "span": DAYS * 86400, "days": DAYS, "open_days": args.open_days}
        for lo in range(1, args.orders + 1, args.chunk):
            hi = min(lo + args.chunk - 1, args.orders)
            cursor.execute(ORDERS_SQL, {**params, "lo": lo, "hi": hi})
            cursor.execute("SELECT min(id), max(id) FROM complaints_workorder WHERE external_ref = %s OR "
                           "external_ref = %s", [f"BENCH-{lo}", f"BENCH-{hi}"])
            first_id, last_id = cursor.fetchone()
            cursor.execute(STAGES_SQL, {"lo": first_id, "hi": last_id})
            print(f"  loaded orders {lo:,}–{hi:,} ({time.perf_counter() - started:.0f} s)", flush=True)
        cursor.execute("ANALYZE")
    print(f"Loaded {args.orders:,} orders with stages and surveys in {time.perf_counter() - started:.0f} s.")


def measure(client, path: str, renders: int) -> list[float]:
    for _ in range(2):
        assert client.get(path).status_code == 200
    timings = []
    for _ in range(renders):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return sorted(timings)


def timed(function, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def main(argv=None) -> int:
    args = parse_args(argv)
    db_url = database_url("postgres://postgres@127.0.0.1:5432/complaints_bench_dashboard")
    redis = redis_url("redis://127.0.0.1:6379/4")
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        env = server_env(db_url=db_url, redis=redis, var_dir=Path(tmp))
        if not args.keep:
            reset_database(db_url)
            flush_redis(redis)
            manage(env, "migrate", "--noinput")
            manage(env, "seed_demo", "--orders", "0", "--quiet-logins")
        manage(env, "collectstatic", "--noinput")
        django_setup(env)
        from django.db import connection
        from django.test import Client
        from django.utils import timezone

        from org.models import User
        from quality import analysis
        from quality.facts import CUBES, open_orders_snapshot, rollups_apply, rollups_rebuild
        from quality.kpis import Context, Slice
        from quality.models import FactQueue, OrderFact, QualityPolicy

        if not args.keep:
            load(args)
            FactQueue.objects.all().delete()  # the load wrote no events; the rebuild below counts everything
        if not (args.keep and args.skip_rebuild):
            print("\nRollup rebuild from the orders:")
            seconds, timings = timed(rollups_rebuild)
            print("  " + ", ".join(f"{name} {value:.1f} s" for name, value in timings.items()))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"  facts: {OrderFact.objects.count():,} rows; cubes: " + ", ".join(
            f"{cube.name} {cube.model.objects.count():,}" for cube in CUBES))
        seconds, count = timed(open_orders_snapshot)
        print(f"Open-order snapshot: {seconds * 1000:.0f} ms ({count:,} rows)")

        client = Client()
        client.force_login(User.objects.get(username="quality"))
        pages = [
            ("overview, last 30 days", "/dashboard/"),
            ("overview, this month", "/dashboard/?period=this_month"),
            ("overview, last 90 days", "/dashboard/?period=90d"),
            ("overview, one city, 30 days", f"/dashboard/?region={_city_id()}"),
            ("department view, 30 days", "/dashboard/department/"),
            ("KPI analysis by category (level 2)", "/dashboard/kpis/?group=category2"),
            ("KPI analysis by county (county cube)", "/dashboard/kpis/?group=region3&period=7d"),
            ("hot spots (week, city x category 3)", "/dashboard/hotspots/"),
            ("orders behind the timeliness, page 1", "/dashboard/orders/?kpi=timeliness&part=rest"),
        ]
        print(f"\nServer time per render, {args.renders} renders each (ms):")
        print(f"{'page':<44}{'p50':>8}{'p95':>8}{'max':>8}")
        results = {}
        for label, path in pages:
            timings = measure(client, path, args.renders)
            results[label] = timings
            print(f"{label:<44}{statistics.median(timings):>8.1f}{percentile(timings, 95):>8.1f}"
                  f"{timings[-1]:>8.1f}", flush=True)

        ctx = Context()
        policy = QualityPolicy.in_force()
        hot = []
        for _ in range(10):
            seconds, (found, _week, _baseline) = timed(
                analysis.weekly_hotspots, week_end=timezone.localdate(), slice_=Slice(), category_level=3,
                region_level=2, policy=policy, ctx=ctx)
            hot.append(seconds * 1000)
        hot.sort()
        print(f"\nHot-spot query (week vs 8 weeks, category 3 x city): p50 {statistics.median(hot):.1f} ms, "
              f"max {hot[-1]:.1f} ms, {len(found)} hot spots")

        recent = list(OrderFact.objects.order_by("-order_id").values_list("order_id", flat=True)[:10_000])
        for batch in (2_000, 10_000):
            FactQueue.objects.bulk_create([FactQueue(order_id=pk) for pk in recent[:batch]])
            seconds, report = timed(rollups_apply, batch=2_000, max_seconds=600)
            print(f"Incremental update of {batch:,} changed orders: {seconds:.2f} s ({report})")

        print("\nPlan of the overview's tile query (the daily cube):")
        with connection.cursor() as cursor:
            today = timezone.localdate()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) SELECT kind, SUM(received), SUM(in_time), SUM(timed) "
                           "FROM quality_rollupdaily WHERE day >= %s AND day <= %s GROUP BY kind",
                           [today - datetime.timedelta(days=29), today])
            print("\n".join(row[0] for row in cursor.fetchall()))
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) SELECT category_id, kind, SUM(received) "
                           "FROM quality_rollupcategory WHERE day >= %s AND day <= %s GROUP BY category_id, kind",
                           [today - datetime.timedelta(days=29), today])
            print("\nPlan of the top-categories query (the category cube):")
            print("\n".join(row[0] for row in cursor.fetchall()))

        p95 = percentile(results["overview, last 30 days"], 95)
        verdict = "met" if p95 <= TARGET_OVERVIEW_P95_MS else "MISSED"
        print(f"\nTarget: overview p95 <= {TARGET_OVERVIEW_P95_MS:.0f} ms server time: {verdict} ({p95:.1f} ms)")
    return 0


def _city_id() -> int:
    from org.models import Region

    return Region.objects.filter(code="4403").values_list("pk", flat=True).first()


if __name__ == "__main__":
    sys.exit(main())
