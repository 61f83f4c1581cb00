"""The pages a user waits for, in-process: SQL statements and server time of each, with an optional profile.

Runs against a database already built by a bench (the side-by-side kit's `side_bench`, or `make bench-queue`'s):
nothing is dropped. For each path it renders (or posts) with Django's test client as the user who waits for it,
with production settings, and prints the statements of one warm request (transaction control apart) and the
median and p90 of `--repeat` requests. `--profile NAME` prints cProfile's top functions for that path.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/side_bench BENCH_REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/hot_paths.py [--repeat 30] [--profile create] [--show-sql order]

The statement budgets (issue 18) are asserted by tests/test_hot_path_budgets.py; this prints them against a big
database, where a count that grows with the rows would show.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database_url, django_setup, percentile, redis_url, server_env  # noqa: E402

BUDGETS = {"create": 16, "order": 12, "queue": 10, "orders": 10, "dashboard": 10}
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per path")
    parser.add_argument("--paths", default="create,order,queue,orders,dashboard")
    parser.add_argument("--profile", default="", help="a path to profile (cProfile, top functions)")
    parser.add_argument("--profile-lines", type=int, default=40)
    parser.add_argument("--profile-dump", default="", help="also write the profile to this file (pstats)")
    parser.add_argument("--var-dir", default="/tmp/side/var",
                        help="the server's VAR_DIR (its collected static files): the side-by-side kit's by default")
    parser.add_argument("--show-sql", default="", help="a path whose statements are printed")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    db = database_url("postgres://postgres@127.0.0.1:5432/side_bench")
    env = server_env(db_url=db, redis=redis_url("redis://127.0.0.1:6379/7"), var_dir=Path(args.var_dir))
    os.environ["API_THROTTLE_RATES"] = env["API_THROTTLE_RATES"]  # the server's rates (django_setup copies the rest)
    django_setup(env)

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from complaints.models import WorkOrder
    from complaints.selectors import leaf_categories
    from org.tokens import token_issue

    users = get_user_model().objects
    handler, quality, cti = (users.get(username=u) for u in ("handler_network", "quality", "cti"))
    browser = {"handler": Client(SERVER_NAME="127.0.0.1"), "quality": Client(SERVER_NAME="127.0.0.1")}
    browser["handler"].force_login(handler)
    browser["quality"].force_login(quality)
    admin = users.filter(is_superuser=True).first() or cti
    _, key = token_issue(actor=admin, user=cti, name=f"hot-paths-{uuid.uuid4().hex[:6]}",
                         scopes=["orders:read", "orders:write"])
    api = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Token {key}")
    leaf = leaf_categories().filter(path__startswith="/BIL/").values_list("code", flat=True).first()
    numbers = list(WorkOrder.objects.filter(number__startswith="TB").order_by("pk")
                   .values_list("number", flat=True)[:200]) or list(
        WorkOrder.objects.order_by("-pk").values_list("number", flat=True)[:200])

    def create():
        body = {"kind": "complaint", "channel": "hotline", "category": leaf, "description": "话费多扣了，要求核实退费",
                "customer_phone": f"1980{uuid.uuid4().int % 10**7:07d}"}
        return api.post("/api/v1/orders/", data=json.dumps(body), content_type="application/json",
                        headers={"Idempotency-Key": uuid.uuid4().hex}), 201

    order_index = iter(range(10**9))

    def order():
        number = numbers[next(order_index) % len(numbers)]
        return browser["quality"].get(f"/orders/{number}/"), 200

    paths = {
        "create": create,
        "order": order,
        "queue": lambda: (browser["handler"].get("/work/queue/"), 200),
        "orders": lambda: (browser["quality"].get("/orders/"), 200),
        "dashboard": lambda: (browser["quality"].get("/dashboard/"), 200),
    }
    print(f"database {db.rsplit('/', 1)[-1]}: {WorkOrder.objects.count():,} orders")
    print(f"{'path':10} {'statements':>10} {'budget':>6} {'p50 ms':>8} {'p90 ms':>8}")
    for name in args.paths.split(","):
        request = paths[name]
        for _ in range(3):  # warm: caches, templates, connections
            response, expect = request()
            if response.status_code != expect:
                raise SystemExit(f"{name}: answered {response.status_code}: {response.content[:300]!r}")
        with CaptureQueriesContext(connection) as ctx:
            request()
        statements = [q["sql"] for q in ctx.captured_queries
                      if q["sql"].split(" ", 1)[0].upper() not in TRANSACTION_CONTROL]
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response, expect = request()
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != expect:
                raise SystemExit(f"{name}: answered {response.status_code}: {response.content[:300]!r}")
        times.sort()
        flag = "" if len(statements) <= BUDGETS[name] else "  over budget"
        print(f"{name:10} {len(statements):>10} {BUDGETS[name]:>6} {statistics.median(times):>8.1f} "
              f"{percentile(times, 90):>8.1f}{flag}")
        if args.show_sql == name:
            for number, sql in enumerate(statements, 1):
                print(f"   {number:2d}. {sql[:220]}")
        if args.profile == name:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.repeat):
                request()
            profiler.disable()
            if args.profile_dump:
                profiler.dump_stats(args.profile_dump)
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
            stats.print_stats(args.profile_lines)
            out.write("\n--- by own time ---\n")
            stats.sort_stats("tottime").print_stats(args.profile_lines)
            print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
