"""Complete order lifecycles through the REST API against a production-style server (gunicorn, PostgreSQL).

Each lifecycle is five calls by four accounts, as in real life: the hotline CTI creates a complaint (dispatched
automatically to the network department), a network handler claims it and replies, a dispatcher accepts the
reply, and a Guangzhou hotline agent records a satisfied callback, which closes it. Client threads each run
lifecycles one after another. Prints lifecycles/s, p50/p95 per action, and checks that every order is closed
with its full timeline.

    .venv/bin/python bench/lifecycle/run.py [--lifecycles 300] [--concurrency 4] [--workers 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import (
    Server,
    database_url,
    django_setup,
    flush_redis,
    free_port,
    manage,
    percentile,
    redis_url,  # noqa: E402
    reset_database,
    server_env,
)

ACTIONS = ("create", "claim", "reply", "review", "callback")
ACCOUNTS = {"create": "cti", "claim": "handler_network", "reply": "handler_network", "review": "dispatcher",
            "callback": "agent_gz"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--lifecycles", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    return parser.parse_args(argv)


def tokens() -> dict[str, str]:
    from org.models import ApiScope, User
    from org.tokens import token_issue

    return {name: token_issue(actor=None, user=User.objects.get(username=name), name="bench lifecycle",
                              scopes=list(ApiScope.values))[1]
            for name in set(ACCOUNTS.values())}


def category_code() -> str:
    from complaints.selectors import leaf_categories

    return leaf_categories().filter(path__startswith="/NET/").order_by("path").values_list("code", flat=True)[0]


class Worker(threading.Thread):
    def __init__(self, *, port, keys, category, count, run_id, index):
        super().__init__(daemon=True)
        self.port, self.keys, self.category, self.count = port, keys, category, count
        self.run_id, self.index = run_id, index
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []

    def call(self, conn, action, path, body):
        headers = {"Authorization": f"Token {self.keys[ACCOUNTS[action]]}", "Content-Type": "application/json"}
        if action == "create":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        started = time.perf_counter()
        conn.request("POST", path, body=json.dumps(body), headers=headers)
        response = conn.getresponse()
        payload = response.read()
        self.timings[action].append((time.perf_counter() - started) * 1000)
        if response.status not in (200, 201):
            self.errors.append(f"{action} {response.status} {payload[:200]!r}")
            return None
        return json.loads(payload)

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        for i in range(self.count):
            phone = f"13{self.index % 10}{(self.index * 1_000_000 + i) % 100_000_000:08d}"
            order = self.call(conn, "create", "/api/v1/orders/", {
                "kind": "complaint", "channel": "hotline", "category": self.category, "description": "信号差",
                "customer_phone": phone, "external_ref": f"BENCH-{self.run_id}-{self.index}-{i}"})
            if order is None:
                continue
            url = f"/api/v1/orders/{order['number']}/actions/"
            steps = [("claim", {}), ("reply", {"answer": "已优化基站", "result_code": "resolved"}),
                     ("review", {"accept": True}),
                     ("callback", {"reached": True, "satisfaction": 5, "solved": True})]
            for action, body in steps:
                if self.call(conn, action, f"{url}{action}/", body) is None:
                    break
        conn.close()


def check(run_id: str, expected: int) -> str:
    from complaints.models import WorkOrder

    orders = WorkOrder.objects.filter(external_ref__startswith=f"BENCH-{run_id}-")
    closed = orders.filter(status="closed").count()
    steps = {o.events.count() for o in orders[:20]}
    return f"{orders.count()} orders created, {closed} closed (expected {expected}); events per order: {steps}"


def main(argv=None) -> int:
    args = parse_args(argv)
    db_url = database_url("postgres://postgres@127.0.0.1:5432/complaints_bench_lifecycle")
    redis = redis_url("redis://127.0.0.1:6379/4")
    reset_database(db_url)
    flush_redis(redis)
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle-") as tmp:
        env = server_env(db_url=db_url, redis=redis, var_dir=Path(tmp))
        (Path(tmp) / "staticfiles").mkdir()
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--orders", "0", "--quiet-logins")
        django_setup(env)
        keys, category = tokens(), category_code()
        port = free_port()
        server = Server(env=env, port=port, workers=args.workers, worker_class="sync", threads=1,
                        log_path=Path(tmp) / "gunicorn.log")
        server.start()
        try:
            run_id = uuid.uuid4().hex[:8]
            share = [args.lifecycles // args.concurrency + (1 if i < args.lifecycles % args.concurrency else 0)
                     for i in range(args.concurrency)]
            workers = [Worker(port=port, keys=keys, category=category, count=n, run_id=run_id, index=i)
                       for i, n in enumerate(share)]
            started = time.perf_counter()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            elapsed = time.perf_counter() - started
        finally:
            server.stop()
        errors = [e for w in workers for e in w.errors]
        print(f"\n{args.lifecycles} lifecycles ({len(ACTIONS)} calls each), {args.concurrency} client threads, "
              f"{args.workers} gunicorn workers: {elapsed:.1f} s")
        print(f"Complete lifecycles per second: {args.lifecycles / elapsed:.1f}   "
              f"API calls per second: {sum(len(w.timings[a]) for w in workers for a in ACTIONS) / elapsed:.1f}")
        print(f"\n{'action':<10}{'calls':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
        for action in ACTIONS:
            timings = sorted(t for w in workers for t in w.timings[action])
            print(f"{action:<10}{len(timings):>7}{statistics.median(timings):>9.1f}"
                  f"{percentile(timings, 95):>9.1f}{timings[-1]:>9.1f}")
        print(f"\nErrors: {len(errors)}" + "".join(f"\n  {e}" for e in errors[:10]))
        print(check(run_id, args.lifecycles))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
