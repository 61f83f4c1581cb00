"""A complaint storm: 5,000 complaints for one category and city, with normal traffic elsewhere, through the API
of a production-style server (gunicorn, PostgreSQL, Redis), while the batch detector runs every minute as Celery
beat would run it.

Prints the intake throughput and latency of normal traffic alone, of the storm before the dispatcher confirms the
alert as an incident, and after (when every new storm complaint joins the incident at intake), and the detection
delay: from the complaint that crossed the threshold to the alert. Targets: intake holds its normal rate;
detection within 2 minutes. Checks that every complaint was created once.

    .venv/bin/python bench/storm/run.py [--storm 5000] [--normal 1000] [--concurrency 4] [--workers 2]
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import (  # noqa: E402
    Server,
    database_url,
    django_setup,
    flush_redis,
    free_port,
    manage,
    percentile,
    redis_url,
    reset_database,
    server_env,
)

DETECT_EVERY_S = 60.0
TARGET_DELAY_S = 120.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--storm", type=int, default=5000, help="complaints of the storm")
    parser.add_argument("--normal", type=int, default=1000, help="complaints of normal traffic, measured first")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    return parser.parse_args(argv)


class Sender(threading.Thread):
    """One client connection sending its share of the requests, one at a time."""

    def __init__(self, port: int, token: str, bodies: list[dict]):
        super().__init__(daemon=True)
        self.port, self.token, self.bodies = port, token, bodies
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        for body in self.bodies:
            headers = {"Authorization": f"Token {self.token}", "Content-Type": "application/json",
                       "Idempotency-Key": str(uuid.uuid4())}
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/orders/", body=json.dumps(body), headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                conn.request("POST", "/api/v1/orders/", body=json.dumps(body), headers=headers)
                response = conn.getresponse()
                payload = response.read()
            self.latencies.append((time.perf_counter() - started) * 1000)
            if response.status != 201:
                self.errors.append(f"{response.status} {payload[:200]!r}")
        conn.close()


def send(port, token, bodies, concurrency) -> tuple[float, list[float], list[str]]:
    senders = [Sender(port, token, bodies[i::concurrency]) for i in range(concurrency)]
    started = time.perf_counter()
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    elapsed = time.perf_counter() - started
    return (elapsed, sorted(x for s in senders for x in s.latencies), [e for s in senders for e in s.errors])


class Detector(threading.Thread):
    """Celery beat's minute: the real detection function, in this process, on a timer."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.runs: list[tuple[float, str]] = []

    def run(self):
        from django.db import connection

        from quality.batch import batch_detect

        while not self.stop.wait(DETECT_EVERY_S):
            started = time.perf_counter()
            report = batch_detect()
            self.runs.append((time.perf_counter() - started, str(report)))
        connection.close()


def bodies(n, *, category, region, prefix, phone_prefix) -> list[dict]:
    return [{"kind": "complaint", "channel": "hotline", "category": category, "customer_region": region,
             "description": "突然没有信号，无法通话", "customer_phone": f"{phone_prefix}{i:08d}",
             "external_ref": f"{prefix}-{i}"} for i in range(n)]


def give_history(*, external_prefix: str, weeks: int) -> int:
    """Normal traffic has a past: copy the normal orders just received into the same hour of the weeks before, as
    closed orders, so their slices have the baseline they would have in production and only the storm stands out."""
    from django.db import connection

    from complaints.models import WorkOrder

    columns = [f.column for f in WorkOrder._meta.concrete_fields if f.column != "id"]
    override = {
        "number": "'H' || %(week)s || right(number, 18)",
        "received_at": "received_at - %(week)s * interval '1 week'",
        "created_at": "created_at - %(week)s * interval '1 week'",
        "idempotency_key": "NULL",
        "external_ref": "'HISTORY-' || %(week)s || '-' || external_ref",
        "status": "'closed'",
        "closed_at": "received_at - %(week)s * interval '1 week' + interval '2 hours'",
    }
    picked = ", ".join(override.get(c, f'"{c}"') for c in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    copied = 0
    with connection.cursor() as cursor:
        for week in range(1, weeks + 1):
            cursor.execute(f"INSERT INTO complaints_workorder ({names}) SELECT {picked} FROM complaints_workorder "
                           "WHERE external_ref LIKE %(prefix)s",
                           {"week": week, "prefix": external_prefix + "%"})
            copied += cursor.rowcount
    return copied


def report_phase(label, n, elapsed, latencies, errors) -> float:
    rate = n / elapsed if elapsed else 0
    print(f"{label:<44}{n:>7,}{rate:>10.1f}{statistics.median(latencies):>9.1f}{percentile(latencies, 95):>9.1f}"
          f"{len(errors):>8}")
    for error in errors[:3]:
        print(f"    error: {error}")
    return rate


def main(argv=None) -> int:
    args = parse_args(argv)
    db_url = database_url("postgres://postgres@127.0.0.1:5432/complaints_bench_storm")
    redis = redis_url("redis://127.0.0.1:6379/7")
    reset_database(db_url)
    flush_redis(redis)
    with tempfile.TemporaryDirectory(prefix="bench-storm-") as tmp:
        env = server_env(db_url=db_url, redis=redis, var_dir=Path(tmp))
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--orders", "0", "--quiet-logins")
        django_setup(env)
        from django.utils import timezone

        from complaints.models import Category, WorkOrder
        from complaints.selectors import leaf_categories
        from org.models import Department, User
        from quality.batch import batch_detect, incident_attach_open_orders, incident_open
        from quality.models import BatchAlert, BatchPolicy

        BatchPolicy.objects.create(effective_from=timezone.localdate().replace(month=1, day=1))
        from org.models import ApiScope
        from org.tokens import token_issue

        token = token_issue(actor=None, user=User.objects.get(username="cti"), name="bench storm",
                            scopes=[ApiScope.ORDERS_READ, ApiScope.ORDERS_WRITE])[1]
        leaves = list(leaf_categories().order_by("path").values_list("code", flat=True))
        storm_category = next(code for code in leaves if code.startswith("NET"))
        calm = [code for code in leaves if not code.startswith("NET")]  # normal traffic: spread thin
        server = Server(env=env, port=free_port(), workers=args.workers, worker_class="sync", threads=1,
                        log_path=Path(tmp) / "gunicorn.log")
        server.start()
        try:
            print(f"{'phase':<44}{'orders':>7}{'per s':>10}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}")
            normal = [{**b, "category": calm[i % len(calm)]} for i, b in enumerate(
                bodies(args.normal, category="", region="4403", prefix="NORMAL", phone_prefix="133"))]
            normal_rate = report_phase("normal traffic (all other categories, Shenzhen)", args.normal,
                                       *send(server.port, token, normal, args.concurrency))
            copied = give_history(external_prefix="NORMAL-", weeks=4)
            print(f"(normal traffic given its past: {copied:,} orders copied into the 4 weeks before)")
            detector = Detector()
            detector.start()
            half = args.storm // 2
            storm = bodies(args.storm, category=storm_category, region="4401", prefix="STORM", phone_prefix="135")
            background = [{**b, "category": calm[i % len(calm)]} for i, b in enumerate(
                bodies(args.storm // 10, category="", region="4403", prefix="BACKGROUND", phone_prefix="136"))]
            first = storm[:half] + background[: len(background) // 2]
            storm_rate = report_phase("storm, before the incident (+10 % normal)", len(first),
                                      *send(server.port, token, first, args.concurrency))
            deadline = time.monotonic() + DETECT_EVERY_S * 2 + 10
            while not BatchAlert.objects.exists() and time.monotonic() < deadline:
                time.sleep(1)
            leaf_path = Category.objects.get(code=storm_category).path
            alert = next((a for a in BatchAlert.objects.filter(region__code="4401").select_related("category")
                          if leaf_path.startswith(a.category.path)), None)
            if alert is None:
                print("No alert was raised for the storm within two detector runs.")
                return 1
            dispatcher = User.objects.get(username="dispatcher")
            incident = incident_open(actor=dispatcher, alert=alert, title="基准：大面积断网",
                                     department=Department.objects.get(code="network"), category=alert.category,
                                     region=alert.region,
                                     expected_recovery_at=timezone.now() + datetime.timedelta(hours=4))
            started = time.perf_counter()
            attached = incident_attach_open_orders(incident_id=incident.pk)
            print(f"{'attaching the open storm complaints':<44}{attached:>7,}"
                  f"{attached / (time.perf_counter() - started):>10.1f}")
            second = storm[half:] + background[len(background) // 2:]
            joined_rate = report_phase("storm, joining the incident at intake", len(second),
                                       *send(server.port, token, second, args.concurrency))
            detector.stop.set()
            batch_detect()
        finally:
            server.stop()
        alert.refresh_from_db()
        delay = (alert.raised_at - alert.crossed_at).total_seconds()
        storm_orders = WorkOrder.objects.filter(external_ref__startswith="STORM-")
        print(f"\nDetector runs: {len(detector.runs)}; slowest {max((r[0] for r in detector.runs), default=0):.2f} s")
        for seconds, text in detector.runs:
            print(f"    {seconds:.2f} s: {text}")
        print(f"Alert: {alert.get_level_display()} ({alert.level}), {alert.total_count:,} complaints counted, "
              f"{BatchAlert.objects.count()} alert(s) in all")
        print(f"Detection delay (threshold-crossing complaint → alert): {delay:.1f} s")
        print(f"Storm complaints: {storm_orders.count():,} created of {args.storm:,} sent, "
              f"{storm_orders.values('number').distinct().count():,} distinct numbers, "
              f"{storm_orders.filter(incident=incident).count():,} on the incident")
        print(f"\nTargets: intake holds its normal rate: storm {storm_rate:.0f}/s and {joined_rate:.0f}/s against "
              f"{normal_rate:.0f}/s normal ({min(storm_rate, joined_rate) / normal_rate:.0%}); "
              f"detection within {TARGET_DELAY_S:.0f} s: {'met' if delay <= TARGET_DELAY_S else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
