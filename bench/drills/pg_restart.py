"""Drill: PostgreSQL restarted under load. gunicorn keeps running; requests in flight fail cleanly (503 with
Retry-After, or a dropped connection), none half-commits, and the web processes serve again without a restart.

A throw-away database (`complaints_bench_drill_pg`) with the demo world; gunicorn (production settings) on it;
--clients channel-system clients post new complaints over the API, each with its own Idempotency-Key, retrying
a failed one with the same key. After --before seconds the PostgreSQL cluster is restarted (`pg_ctlcluster ...
restart`, fast shutdown: every connection is cut). The load goes on for --after seconds. Then:
- every create the clients saw acknowledged exists exactly once, and so does every key whose request failed and
  was retried (no duplicate from a retry, no request lost);
- every order logged is whole: its workflow process, its intake event, its open stage and its deadline
  (an order without them would be a half-commit);
- the failures seen were 503 (database unavailable) or dropped connections, never another status;
- requests succeed again after the restart, from the same gunicorn workers (their pids unchanged).
Prints each figure; exits 1 when a check fails. Needs to run as a user allowed to restart the cluster.

    .venv/bin/python bench/drills/pg_restart.py [--clients 8 --before 8 --after 15]
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import subprocess
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
    redis_url,
    reset_database,
    server_env,
)
from bench.drills.checks import check, verdict  # noqa: E402


class Client(threading.Thread):
    """Posts complaints one after another until told to stop; a failed one is retried with its key."""

    def __init__(self, port: int, key: str, category: str, stop: threading.Event, number: int):
        super().__init__(daemon=True)
        self.port, self.key, self.category, self.stop, self.number = port, key, category, stop, number
        self.acknowledged: dict[str, str] = {}  # idempotency key -> order number
        self.failures: collections.Counter = collections.Counter()
        self.timeline: list[tuple[float, bool]] = []

    def post(self, body: dict, idempotency_key: str) -> tuple[int | str, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", "/api/v1/orders/", json.dumps(body), {
                "Authorization": f"Token {self.key}", "Content-Type": "application/json",
                "Idempotency-Key": idempotency_key})
            response = conn.getresponse()
            payload = response.read()
            return response.status, (json.loads(payload) if payload.startswith(b"{") else {})
        except (OSError, http.client.HTTPException) as exc:
            return type(exc).__name__, {}
        finally:
            conn.close()

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            key = f"drill-{self.number}-{n}-{uuid.uuid4().hex[:8]}"
            body = {"kind": "complaint", "channel": "hotline", "category": self.category,
                    "description": f"数据库重启演练 {self.number}-{n}",
                    "customer_phone": f"139{self.number:02d}{n % 1_000_000:06d}"}
            for _attempt in range(60):
                status, payload = self.post(body, key)
                self.timeline.append((time.monotonic(), status in (200, 201)))
                if status in (200, 201):
                    self.acknowledged[key] = payload["number"]
                    break
                self.failures[status] += 1
                time.sleep(0.5)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--before", type=float, default=8.0, help="seconds of load before the restart")
    parser.add_argument("--after", type=float, default=15.0, help="seconds of load after it")
    args = parser.parse_args(argv)
    db_url = database_url("postgres://postgres@127.0.0.1:5432/complaints_bench_drill_pg")
    redis = redis_url("redis://127.0.0.1:6379/9")
    reset_database(db_url)
    flush_redis(redis)
    cluster = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True).stdout.split()
    if not cluster:
        raise SystemExit("No PostgreSQL cluster under /etc/postgresql to restart.")
    with tempfile.TemporaryDirectory(prefix="drill-pg-") as tmp:
        env = server_env(db_url=db_url, redis=redis, var_dir=Path(tmp))
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--orders", "0", "--quiet-logins")
        django_setup(env)
        from complaints.selectors import leaf_categories
        from org.models import ApiScope, User
        from org.tokens import token_issue

        _token, key = token_issue(actor=None, user=User.objects.get(username="cti"), name="drill",
                                  scopes=[ApiScope.ORDERS_WRITE])
        category = leaf_categories().filter(path__startswith="/NET/").values_list("code", flat=True)[0]
        port = free_port()
        server = Server(env=env, port=port, workers=args.workers, worker_class="gthread", threads=4,
                        log_path=Path(tmp) / "gunicorn.log")
        server.start()
        try:
            pids_before = sorted(server.pids())
            stop = threading.Event()
            clients = [Client(port, key, category, stop, n) for n in range(args.clients)]
            for client in clients:
                client.start()
            time.sleep(args.before)
            restarted_at = time.monotonic()
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster[0], "main", "restart", "-m", "fast"],
                           check=True)
            back_at = time.monotonic()
            print(f"PostgreSQL {cluster[0]} restarted in {back_at - restarted_at:.1f} s under load from "
                  f"{args.clients} clients.")
            time.sleep(args.after)
            stop.set()
            for client in clients:
                client.join(timeout=60)
            pids_after = sorted(server.pids())
            log = (Path(tmp) / "gunicorn.log").read_text()
        finally:
            server.stop()

        from django.db import close_old_connections, connection

        close_old_connections()
        connection.close()  # this process's connection died with the restart too
        from complaints.models import WorkOrder
        from workflow.models import OrderEvent, OrderProcess, OrderStage

        acknowledged = {k: v for c in clients for k, v in c.acknowledged.items()}
        failures = sum((c.failures for c in clients), collections.Counter())
        timeline = sorted(t for c in clients for t in c.timeline)
        orders = WorkOrder.objects.filter(external_ref="", description__startswith="数据库重启演练")
        print(f"Acknowledged creates: {len(acknowledged):,}; failed attempts, retried: {dict(failures)}")
        check("every acknowledged create exists once", orders.filter(number__in=acknowledged.values()).count()
              == len(acknowledged) == len(set(acknowledged.values())))
        check("no order beyond the acknowledged ones (no lost or doubled retry)", orders.count() == len(acknowledged),
              f"{orders.count():,} orders for {len(acknowledged):,} keys")
        by_key = collections.Counter(orders.values_list("idempotency_key", flat=True))
        check("one order per idempotency key", all(n == 1 for n in by_key.values()))
        processes = OrderProcess.objects.filter(order__in=orders).count()
        events = OrderEvent.objects.filter(order__in=orders, action="received").values("order").distinct().count()
        stages = OrderStage.objects.filter(order__in=orders, ended_at__isnull=True).values("order").distinct().count()
        due = orders.filter(stage_due_at__isnull=False).count()
        detail = f"{events:,} with their intake event, {stages:,} with an open stage, {due:,} with a deadline"
        check("every order is whole (no half-commit)", processes == events == stages == due == orders.count(),
              f"{processes:,} with their workflow process, " + detail)
        clean = set(failures) <= {503, "RemoteDisconnected", "ConnectionResetError", "ConnectionRefusedError",
                                  "BadStatusLine", "IncompleteRead"}
        check("failures were 503 or dropped connections only", clean, str(dict(failures)))
        check("some requests did fail during the restart (the drill hit it)", sum(failures.values()) > 0)
        after = [ok for at, ok in timeline if at > back_at + 3]
        check("requests succeed again after the restart", bool(after) and all(after[-50:]),
              f"{sum(after):,} of {len(after):,} attempts ok from 3 s after the restart")
        check("the same gunicorn workers served on (no restart needed)", pids_before == pids_after,
              f"{pids_before} -> {pids_after}")
        check("gunicorn logged no worker crash", "WORKER TIMEOUT" not in log and "Worker exiting" not in log)
    return verdict("PostgreSQL-restart drill")


if __name__ == "__main__":
    sys.exit(main())
