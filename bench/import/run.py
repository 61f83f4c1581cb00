"""The historical import at a province's pace: closed complaints of a legacy export loaded into PostgreSQL.

Builds a throw-away database (`complaints_bench_import`), loads the demo world (categories, channels,
departments, the `cti` channel-system account), writes a legacy CSV of closed complaints received over a quarter
(about one customer in five complains twice; a few rows are bad), and times `manage.py import_orders` on it in
this process, printing rows/s for the closed rows and what the database holds afterwards. It then runs the same
file a second time (nothing may load twice) and times that too.

    .venv/bin/python bench/import/run.py [--rows 5000] [--batch-size 500]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import (  # noqa: E402
    database_url,
    django_setup,
    flush_redis,
    manage,
    process_stat,
    redis_url,
    reset_database,
    server_env,
)

TARGET_ROWS_PER_S = 300.0
HEADER = ["工单号", "受理时间", "手机号码", "客户姓名", "来源渠道", "投诉分类", "工单类型", "投诉内容", "处理结果",
          "归档时间"]
MAPPING = {
    "columns": {"external_ref": "工单号", "received_at": "受理时间", "customer_phone": "手机号码",
                "customer_name": "客户姓名", "channel": "来源渠道", "category": "投诉分类", "kind": "工单类型",
                "description": "投诉内容", "answer": "处理结果", "closed_at": "归档时间"},
    "date_formats": ["%Y/%m/%d %H:%M"],
    "values": {"channel": {"10086热线": "hotline", "营业厅": "hall"}, "kind": {"投诉": "complaint"}},
    "defaults": {"severity": "ordinary"},
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=500)
    return parser.parse_args(argv)


def write_export(path: Path, *, rows: int, leaves: list[str]) -> int:
    """A quarter of closed complaints; returns how many rows are good."""
    rng = random.Random(14)
    start = datetime(2015, 4, 1, 8, 0)
    phones = [f"139{n:08d}" for n in range(max(10, rows * 4 // 5))]
    good = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            received = start + timedelta(seconds=int(n / rows * 88 * 86400) + rng.randint(0, 600))
            closed = received + timedelta(hours=rng.randint(2, 96))
            phone = rng.choice(phones)
            bad = n % 100 == 99  # one row in a hundred has a broken phone number
            good += not bad
            writer.writerow([f"LEG-{n:08d}", f"{received:%Y/%m/%d %H:%M}", "1234" if bad else phone,
                             f"客户{n % 997}", rng.choice(["10086热线", "10086热线", "营业厅"]), rng.choice(leaves),
                             "投诉", "手机信号差，多次打不通电话。\n希望尽快处理。", "已处理，客户认可",
                             f"{closed:%Y/%m/%d %H:%M}"])
    return good


def main(argv=None) -> int:
    args = parse_args(argv)
    db_url = database_url("postgres://postgres@127.0.0.1:5432/complaints_bench_import")
    redis = redis_url("redis://127.0.0.1:6379/7")
    reset_database(db_url)
    flush_redis(redis)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        tmp = Path(tmp)
        env = server_env(db_url=db_url, redis=redis, var_dir=tmp)
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--orders", "0", "--quiet-logins")
        django_setup(env)
        import logging

        logging.getLogger("complaints").setLevel(logging.WARNING)  # not a line per order on the console
        from django.core.management import call_command
        from django.db import connection

        from accountability.models import Determination
        from complaints.models import Category, WorkOrder
        from workflow.models import OrderEvent

        leaves = list(Category.objects.filter(children__isnull=True, is_active=True)
                      .values_list("code", flat=True)[:40])
        export = tmp / "export.csv"
        mapping = tmp / "mapping.json"
        mapping.write_text(json.dumps(MAPPING, ensure_ascii=False), encoding="utf-8")
        good = write_export(export, rows=args.rows, leaves=leaves)
        print(f"Export: {args.rows:,} closed complaints ({good:,} good, {args.rows - good:,} with a bad phone "
              f"number), {export.stat().st_size / 1e6:.1f} MB.")

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]  # the PostgreSQL process serving this one (same machine)
        elapsed, cpu = {}, {}
        for attempt in ("first run", "second run (the same file again)"):
            out = StringIO()
            load = os.getloadavg()[0]
            started, cpu_started = time.perf_counter(), time.process_time() + process_stat(backend)[2]
            call_command("import_orders", str(export), mapping=str(mapping), username="cti",
                         batch_size=args.batch_size, stdout=out)
            elapsed[attempt] = time.perf_counter() - started
            cpu[attempt] = time.process_time() + process_stat(backend)[2] - cpu_started
            summary = next((line for line in out.getvalue().splitlines() if "Rows read" in line), "")
            print(f"{attempt}: {elapsed[attempt]:.1f} s, {args.rows / elapsed[attempt]:.0f} rows/s; CPU (Python + "
                  f"PostgreSQL backend) {cpu[attempt]:.1f} s, {args.rows / cpu[attempt]:.0f} rows per CPU-second; "
                  f"load average {load:.1f} on {os.cpu_count()} cores — {summary}")

        orders = WorkOrder.objects.count()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM quality_factqueue")
            queued = cursor.fetchone()[0]
        print(f"Orders: {orders:,} (closed {WorkOrder.objects.filter(status='closed').count():,}, repeats "
              f"{WorkOrder.objects.filter(repeat_of__isnull=False).count():,}); events "
              f"{OrderEvent.objects.count():,}; determinations {Determination.objects.count():,}; queued for the "
              f"KPI rollups {queued:,}.")
        rate = args.rows / elapsed["first run"]
        print(f"\nTarget: >= {TARGET_ROWS_PER_S:.0f} closed historical rows/s: "
              f"{'met' if rate >= TARGET_ROWS_PER_S else 'MISSED'} ({rate:.0f} rows/s wall clock; "
              f"{args.rows / cpu['first run']:.0f} rows per CPU-second, what an unloaded core would reach)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
