"""Intake benchmark: order creates through the REST API against a production-style server.

Builds a throw-away PostgreSQL database (dropped and re-created on every run) and uses a Redis database of its
own, migrates, loads the minimal world (`seed_demo --orders 0`), starts gunicorn with APP_ENV=production and
drives POST /api/v1/orders/ from client threads at a fixed concurrency. Prints creates/s and latency
percentiles, checks every answer was 201 and that the database holds exactly the orders that were created.

    .venv/bin/python bench/intake/run.py [--requests 2000] [--concurrency 4] [--workers 5] ...

See bench/intake/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    API_PATH,
    RESULTS_DIR,
    Server,
    all_pids,
    database_url,
    django_setup,
    flush_redis,
    free_port,
    manage,
    percentile,
    process_stat,
    redis_url,
    reset_database,
    server_env,
)

TARGET_CREATES_PER_S = 150.0
TARGET_P95_MS = 80.0

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/complaints_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/2"

DESCRIPTIONS = [
    "客户反映家中室内手机信号很弱，经常无法接通电话。",
    "客户称本月话费比平时多出约50元，对账单有异议。",
    "客户表示未办理过某增值业务却被扣费，要求退订并退费。",
    "客户反映宽带晚上经常断线，影响在家办公。",
    "客户要求变更为低资费套餐，营业厅称受合约限制无法办理。",
    "客户投诉营业员服务态度差，办理业务排队时间过长。",
    "客户频繁收到骚扰电话和垃圾短信，要求处理。",
    "客户反映流量包到期后被自动续订，未收到提醒。",
]


# --------------------------------------------------------------------------------------------------- set-up


def parse_args(argv=None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(
        description="Measure order creates through the API against gunicorn + PostgreSQL.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--requests", type=int, default=2000, help="measured creates")
    parser.add_argument("--warmup", type=int, default=100, help="creates sent first and not measured")
    parser.add_argument("--workers", type=int, default=max(2, cores),
                        help="gunicorn workers (one per core: PostgreSQL and this load generator share the cores)")
    parser.add_argument("--concurrency", type=int, default=argparse.SUPPRESS,
                        help="client threads, each with its own keep-alive connection and one request in flight "
                             "[default: 2 x workers]")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--port", type=int, default=0, help="port for gunicorn (0: a free one)")
    parser.add_argument("--phones", type=int, default=500,
                        help="distinct customer mobile numbers the creates draw from (repeat detection sees "
                             "histories)")
    parser.add_argument("--categories", type=int, default=12, help="leaf categories the creates draw from")
    parser.add_argument("--seed", type=int, default=20261125, help="seed for phones, categories and texts")
    parser.add_argument("--collectstatic", action="store_true",
                        help="run collectstatic (CompressedManifestStaticFilesStorage) before starting; the API "
                             "never renders static URLs, so by default STATIC_ROOT is only created empty")
    parser.add_argument("--pg-waits", action="store_true",
                        help="sample pg_stat_activity during the measured phase and print what backends wait on")
    parser.add_argument("--query-count", action=argparse.BooleanOptionalAction, default=True,
                        help="after the run, count SQL queries per create in-process (Django test client)")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of one create")
    parser.add_argument("--json", action=argparse.BooleanOptionalAction, default=True,
                        help="write the result to bench/results/")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--keep-temp", action="store_true", help="keep the temporary VAR_DIR and gunicorn log")
    args = parser.parse_args(argv)
    if not hasattr(args, "concurrency"):
        args.concurrency = 2 * args.workers
    for name in ("requests", "concurrency", "workers", "threads", "phones", "categories"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


@dataclass
class World:
    token: str
    categories: list[str]
    orders_before: int


def load_world(*, n_categories: int, seed: int) -> World:
    from django.db import connection

    from complaints.models import Channel, WorkOrder
    from complaints.selectors import leaf_categories
    from org.models import ApiScope, User
    from org.tokens import token_issue

    _token, key = token_issue(actor=None, user=User.objects.get(username="cti"), name="bench intake",
                              scopes=[ApiScope.ORDERS_READ, ApiScope.ORDERS_WRITE])
    if not Channel.objects.filter(code="hotline", is_active=True).exists():
        raise SystemExit("The seeded world has no active 'hotline' channel.")
    leaves = list(leaf_categories().order_by("path").values_list("code", flat=True))
    if not leaves:
        raise SystemExit("The seeded world has no leaf categories.")
    categories = random.Random(seed).sample(leaves, min(n_categories, len(leaves)))
    world = World(token=key, categories=sorted(categories), orders_before=WorkOrder.objects.count())
    connection.close()
    return world


# --------------------------------------------------------------------------------------------------- CPU


def _machine_ticks() -> tuple[float, float]:
    """(all, idle) CPU seconds of the whole machine since boot."""
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    except (OSError, IndexError, ValueError):
        return 0.0, 0.0
    hz = os.sysconf("SC_CLK_TCK")
    return sum(ticks) / hz, (ticks[3] + ticks[4]) / hz


class CpuMeter(threading.Thread):
    """CPU seconds over the measured phase: gunicorn, PostgreSQL (the bench database's backends and the shared
    background processes, apart from backends of other databases), this load generator, and everything else on
    the machine, so a run disturbed by other work says so. Polls /proc twice a second, so a backend that ends
    during the phase (Django recycles connections after DB_CONN_MAX_AGE) keeps the CPU it used."""

    def __init__(self, server: Server, db_url: str):
        super().__init__(daemon=True)
        self.server = server
        self.db_url = db_url
        self.db_name = urlparse(db_url).path.lstrip("/")
        self.stop_event = threading.Event()
        self.first: dict[tuple[str, int], float] = {}
        self.last: dict[tuple[str, int], float] = {}
        self.other_db: set[int] = set()
        self.conn = None

    def _poll(self, *, initial: bool = False) -> None:
        seen = {("gunicorn", pid) for pid in self.server.pids()}
        for pid in all_pids():
            info = process_stat(pid)
            if info and info[0].startswith("postgres"):
                seen.add(("postgres", pid))
        for key in seen:
            info = process_stat(key[1])
            if info is None:
                continue
            # A process first seen after the start was born during the phase: all its CPU counts.
            self.first.setdefault(key, info[2] if initial else 0.0)
            self.last[key] = info[2]
        if self.conn is not None:
            with self.conn.cursor() as cur:
                cur.execute("SELECT pid FROM pg_stat_activity WHERE datname IS NOT NULL AND datname <> %s",
                            [self.db_name])
                self.other_db.update(row[0] for row in cur.fetchall())

    def begin(self) -> None:
        import psycopg2

        self.conn = psycopg2.connect(self.db_url)
        self.conn.autocommit = True
        times = os.times()
        self.self_before = times.user + times.system
        self.machine_before = _machine_ticks()
        self._poll(initial=True)
        self.start()

    def run(self) -> None:
        while not self.stop_event.wait(0.5):
            self._poll()

    def end(self) -> dict[str, float]:
        self.stop_event.set()
        self.join()
        self._poll()
        self.conn.close()
        times = os.times()
        own = times.user + times.system - self.self_before
        machine = _machine_ticks()
        total = machine[0] - self.machine_before[0]
        busy = total - (machine[1] - self.machine_before[1])
        used = {key: self.last[key] - self.first[key] for key in self.last}
        gunicorn = sum(v for (kind, _), v in used.items() if kind == "gunicorn")
        pg_other = sum(v for (kind, pid), v in used.items() if kind == "postgres" and pid in self.other_db)
        pg_bench = sum(v for (kind, pid), v in used.items() if kind == "postgres" and pid not in self.other_db)
        return {
            "gunicorn": gunicorn,
            "postgres": pg_bench,
            "load_generator": own,
            "other": max(0.0, busy - gunicorn - pg_bench - own),  # other processes + other databases' backends
            "postgres_other_databases": pg_other,
            "machine_total": total,
            "machine_busy": busy,
        }


# --------------------------------------------------------------------------------------------------- load


def make_phones(count: int, rng: random.Random) -> list[str]:
    phones: set[str] = set()
    while len(phones) < count:
        phones.add(f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}")
    return sorted(phones)


def make_requests(count: int, *, start: int, run_id: str, world: World, phones: list[str],
                  rng: random.Random) -> list[tuple[bytes, str]]:
    """Bodies and Idempotency-Keys prepared before the clock starts, so the client spends little CPU."""
    out = []
    for index in range(start, start + count):
        body = {
            "kind": "complaint",
            "channel": "hotline",
            "category": rng.choice(world.categories),
            "description": rng.choice(DESCRIPTIONS),
            "customer_phone": rng.choice(phones),
            "external_ref": f"BENCH-{run_id}-{index:06d}",
        }
        out.append((json.dumps(body, ensure_ascii=False).encode(), f"bench-{run_id}-{index}-{uuid.uuid4().hex}"))
    return out


@dataclass
class PhaseResult:
    latencies_ms: list[float] = field(default_factory=list)  # of successful (201) creates
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    connections: int = 0
    wall_s: float = 0.0

    @property
    def ok(self) -> int:
        return self.statuses.get(201, 0)

    @property
    def failed(self) -> int:
        return sum(self.statuses.values()) - self.ok


class Client(threading.Thread):
    def __init__(self, *, port: int, token: str, jobs, lock: threading.Lock, stop: threading.Event):
        super().__init__(daemon=True)
        self.port = port
        self.headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "Connection": "keep-alive",
        }
        self.jobs = jobs
        self.lock = lock
        self.stop = stop
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.result = PhaseResult()

    def run(self) -> None:
        result = self.result
        while not self.stop.is_set():
            with self.lock:
                job = next(self.jobs, None)
            if job is None:
                return
            body, key = job
            headers = {**self.headers, "Idempotency-Key": key}
            started = time.perf_counter()
            try:
                if self.conn.sock is None:
                    self.conn.connect()
                    result.connections += 1
                self.conn.request("POST", API_PATH, body=body, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                elapsed_ms = (time.perf_counter() - started) * 1000
                if response.will_close:  # the sync worker closes after every answer; reconnect next time
                    self.conn.close()
            except (OSError, http.client.HTTPException) as exc:
                self.conn.close()
                result.statuses["exception"] += 1
                if len(result.errors) < 5:
                    result.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            result.statuses[response.status] += 1
            if response.status == 201:
                result.latencies_ms.append(elapsed_ms)
            elif len(result.errors) < 5:
                result.errors.append(f"HTTP {response.status}: {payload[:300].decode(errors='replace')}")

    def close(self) -> None:
        self.conn.close()


def run_phase(clients_cfg: dict, requests: list[tuple[bytes, str]], concurrency: int,
              stop: threading.Event) -> PhaseResult:
    jobs = iter(requests)
    lock = threading.Lock()
    clients = [Client(jobs=jobs, lock=lock, stop=stop, **clients_cfg) for _ in range(concurrency)]
    started = time.perf_counter()
    for client in clients:
        client.start()
    try:
        for client in clients:
            while client.is_alive():
                client.join(timeout=0.2)
    except BaseException:  # Ctrl-C: let the clients finish their request in flight and stop
        stop.set()
        raise
    wall = time.perf_counter() - started
    total = PhaseResult(wall_s=wall)
    for client in clients:
        client.close()
        total.latencies_ms.extend(client.result.latencies_ms)
        total.statuses.update(client.result.statuses)
        total.errors.extend(client.result.errors)
        total.connections += client.result.connections
    return total


class WaitSampler(threading.Thread):
    """Samples what the bench database's client backends are doing (pg_stat_activity) every 20 ms."""

    def __init__(self, db_url: str):
        super().__init__(daemon=True)
        self.db_url = db_url
        self.db_name = urlparse(db_url).path.lstrip("/")
        self.stop_event = threading.Event()
        self.samples: Counter = Counter()
        self.snapshots = 0

    def run(self) -> None:
        import psycopg2

        conn = psycopg2.connect(self.db_url)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not self.stop_event.wait(0.02):
                    cur.execute(
                        "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                        "WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                        [self.db_name],
                    )
                    self.snapshots += 1
                    for state, wtype, wevent in cur.fetchall():
                        if state == "active":
                            self.samples[f"{wtype}:{wevent}" if wtype else "running (CPU)"] += 1
                        elif state == "idle in transaction":
                            self.samples["idle in transaction (waiting for the app)"] += 1
        finally:
            conn.close()


# --------------------------------------------------------------------------------------------------- checks


def db_check(run_id: str) -> dict:
    from django.db import connection

    from complaints.models import Customer, WorkOrder

    orders = WorkOrder.objects.filter(external_ref__startswith=f"BENCH-{run_id}-")
    result = {
        "orders_in_db": WorkOrder.objects.count(),
        "bench_orders": orders.count(),
        "repeat_linked": orders.filter(repeat_of__isnull=False).count(),
        "customers": Customer.objects.count(),
    }
    connection.close()
    return result


TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


def query_count(world: World, phones: list[str], *, show: bool) -> dict:
    """SQL per create, through the whole API stack in-process (test client; same settings and database)."""
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    client = DjangoClient(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Token {world.token}")
    counts = {}
    shown = None
    used = set(phones)
    fresh = next(f"199{n:08d}" for n in range(1, 10**8) if f"199{n:08d}" not in used)  # never used by the load
    other = world.categories[1 % len(world.categories)]
    cases = [
        ("new customer", fresh, world.categories[0]),
        ("known customer, repeat", fresh, world.categories[0]),
        ("known customer, other category", fresh, other),
    ]
    for label, phone, category in cases:
        body = {"kind": "complaint", "channel": "hotline", "category": category,
                "description": DESCRIPTIONS[0], "customer_phone": phone, "external_ref": "BENCH-QC"}
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(API_PATH, data=json.dumps(body), content_type="application/json",
                                   headers={"Idempotency-Key": f"qc-{uuid.uuid4().hex}"})
        if response.status_code != 201:
            raise SystemExit(f"query count: create answered {response.status_code}: {response.content[:300]!r}")
        statements = [q["sql"] for q in ctx.captured_queries]
        control = [sql for sql in statements if sql.split(" ", 1)[0].upper() in TRANSACTION_CONTROL]
        counts[label] = {"statements": len(statements) - len(control), "transaction_control": len(control)}
        if label == "known customer, repeat":
            shown = (label, [q["sql"] for q in ctx.captured_queries])
    connection.close()
    if show and shown:
        print(f"\nSQL of one create ({shown[0]}):")
        for number, sql in enumerate(shown[1], 1):
            print(f"  {number:2d}. {sql[:200]}")
    return counts


# --------------------------------------------------------------------------------------------------- main


def main(argv=None) -> int:
    args = parse_args(argv)
    db_url, redis = database_url(DEFAULT_DATABASE_URL), redis_url(DEFAULT_REDIS_URL)
    cores = os.cpu_count() or 1
    run_id = datetime.now().strftime("%Y%m%d%H%M%S")
    temp = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    env = server_env(db_url=db_url, redis=redis, var_dir=temp / "var")
    (temp / "var" / "staticfiles").mkdir(parents=True)
    port = args.port or free_port()
    server = Server(env=env, port=port, workers=args.workers, worker_class=args.worker_class,
                    threads=args.threads, log_path=temp / "gunicorn.log")
    stop = threading.Event()

    def on_sigterm(signum, frame):
        print("\nTerminated; stopping gunicorn.", file=sys.stderr)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        db_name = urlparse(db_url).path.lstrip("/")
        print(f"Preparing database {db_name} (dropped and re-created), Redis {redis} (flushed)...", flush=True)
        reset_database(db_url)
        flush_redis(redis)
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--orders", "0", "--quiet-logins")
        if args.collectstatic:
            manage(env, "collectstatic", "--noinput")
        django_setup(env)
        world = load_world(n_categories=args.categories, seed=args.seed)

        rng = random.Random(args.seed)
        phones = make_phones(args.phones, rng)
        warmup = make_requests(args.warmup, start=0, run_id=run_id, world=world, phones=phones, rng=rng)
        measured = make_requests(args.requests, start=args.warmup, run_id=run_id, world=world, phones=phones,
                                 rng=rng)

        threads_note = f" x {args.threads} threads" if args.worker_class != "sync" or args.threads > 1 else ""
        print(f"Starting gunicorn on 127.0.0.1:{port}: {args.workers} {args.worker_class} workers{threads_note}, "
              "APP_ENV=production...", flush=True)
        server.start()
        clients_cfg = {"port": port, "token": world.token}

        if warmup:
            print(f"Warm-up: {len(warmup)} creates...", flush=True)
            warm = run_phase(clients_cfg, warmup, args.concurrency, stop)
        else:
            warm = PhaseResult()
        print(f"Measuring: {len(measured)} creates at concurrency {args.concurrency}...", flush=True)
        sampler = WaitSampler(db_url) if args.pg_waits else None
        if sampler:
            sampler.start()
        meter = CpuMeter(server, db_url)
        meter.begin()
        result = run_phase(clients_cfg, measured, args.concurrency, stop)
        cpu = meter.end()
        if sampler:
            sampler.stop_event.set()
            sampler.join()
        server_log = server.log_tail(20)
        server.stop()

        db = db_check(run_id)
        queries = query_count(world, phones, show=args.show_queries) if args.query_count else {}
    except KeyboardInterrupt:
        stop.set()
        print("\nInterrupted.", file=sys.stderr)
        return 130
    finally:
        stop.set()
        server.stop()
        if args.keep_temp:
            print(f"(kept {temp})")
        else:
            shutil.rmtree(temp, ignore_errors=True)

    # ------------------------------------------------------------------------------------------- report
    lat = sorted(result.latencies_ms)
    total = sum(result.statuses.values())
    creates_per_s = result.ok / result.wall_s if result.wall_s else 0.0
    p50, p95, p99 = (percentile(lat, p) for p in (50, 95, 99))
    expected_orders = world.orders_before + warm.ok + result.ok
    counts_match = db["bench_orders"] == warm.ok + result.ok and db["orders_in_db"] == expected_orders
    rate_ok = creates_per_s >= TARGET_CREATES_PER_S
    p95_ok = p95 <= TARGET_P95_MS

    print()
    print("Intake benchmark: POST /api/v1/orders/ (token auth, Idempotency-Key), gunicorn + PostgreSQL")
    print(f"  machine            {cores} cores, Python {platform.python_version()}; load generator on the same "
          "machine")
    print(f"  server             gunicorn {args.workers} x {args.worker_class}"
          f"{f' x {args.threads} threads' if args.threads > 1 else ''}, APP_ENV=production, DEBUG off")
    print(f"  load               concurrency {args.concurrency}, {args.requests} measured + {args.warmup} warm-up "
          f"creates, {len(world.categories)} leaf categories, {len(phones)} customer numbers")
    print(f"  requests           {total} sent, {result.ok} created (201), {result.failed} errors"
          f"{'' if not result.failed else ' ' + dict(result.statuses).__repr__()}")
    print(f"  TCP connections    {result.connections} opened for {total} requests"
          f"{' (server closes after each answer: no keep-alive with sync workers)' if result.connections > args.concurrency else ''}")
    print(f"  wall time          {result.wall_s:.2f} s")
    print(f"  throughput         {creates_per_s:.1f} creates/s")
    if lat:
        print(f"  latency (ms)       p50 {p50:.1f}   p95 {p95:.1f}   p99 {p99:.1f}   max {lat[-1]:.1f}   "
              f"mean {sum(lat) / len(lat):.1f}")
    if cpu["machine_total"] > 0 and result.ok:
        print(f"  CPU (core-seconds) gunicorn {cpu['gunicorn']:.1f}, postgres {cpu['postgres']:.1f}, "
              f"load generator {cpu['load_generator']:.1f}, other {cpu['other']:.1f}; machine busy "
              f"{100 * cpu['machine_busy'] / cpu['machine_total']:.0f}% of {cores} cores")
        print(f"  CPU per create     gunicorn {1000 * cpu['gunicorn'] / result.ok:.2f} ms, "
              f"postgres {1000 * cpu['postgres'] / result.ok:.2f} ms, "
              f"load generator {1000 * cpu['load_generator'] / result.ok:.2f} ms "
              f"(budget for {TARGET_CREATES_PER_S:.0f}/s on {cores} cores: "
              f"{1000 * cores / TARGET_CREATES_PER_S:.1f} ms in all)")
        if cpu["other"] > 0.05 * cpu["machine_total"]:
            print(f"  WARNING            other work used {cpu['other']:.1f} core-seconds "
                  f"({100 * cpu['other'] / cpu['machine_total']:.0f}% of the machine) during the measurement"
                  + (f", {cpu['postgres_other_databases']:.1f} of them in PostgreSQL for other databases"
                     if cpu["postgres_other_databases"] >= 0.1 else "")
                  + ": the figures are disturbed; run again on a quiet machine")
    print(f"  database           {db['orders_in_db']} orders after the run, expected {expected_orders} "
          f"({warm.ok} warm-up + {result.ok} measured): {'match' if counts_match else 'MISMATCH'}; "
          f"{db['repeat_linked']} linked as repeat complaints, {db['customers']} customers")
    if queries:
        print("  SQL per create     " + "; ".join(
            f"{n['statements']} + {n['transaction_control']} BEGIN/COMMIT/SAVEPOINT ({label})"
            for label, n in queries.items()))
        print("                     (in-process through the whole API stack; the server also runs a health "
              "check SELECT 1\n                      when a request first touches its persistent connection)")
    if sampler and sampler.snapshots:
        active = sum(sampler.samples.values())
        print(f"  PostgreSQL waits   {sampler.snapshots} samples of pg_stat_activity, backends busy in "
              f"{active / sampler.snapshots:.2f} on average:")
        for what, n in sampler.samples.most_common(8):
            print(f"                       {100 * n / active:5.1f}%  {what}")
    print(f"  target             >= {TARGET_CREATES_PER_S:.0f} creates/s: {'met' if rate_ok else 'NOT met'}; "
          f"p95 <= {TARGET_P95_MS:.0f} ms: {'met' if p95_ok else 'NOT met'}")
    errors = warm.errors + result.errors
    if errors:
        print("\nFirst errors:")
        for line in errors[:5]:
            print(f"  {line}")
        if server_log.strip():
            print("\ngunicorn log (tail):\n" + server_log)

    if args.json:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        out = RESULTS_DIR / f"intake-{run_id}.json"
        out.write_text(json.dumps({
            "run_id": run_id,
            "machine": {"cores": cores, "python": platform.python_version(), "node": platform.node()},
            "params": {"requests": args.requests, "warmup": args.warmup, "concurrency": args.concurrency,
                       "workers": args.workers, "worker_class": args.worker_class, "threads": args.threads,
                       "phones": len(phones), "categories": world.categories, "seed": args.seed},
            "result": {"sent": total, "created": result.ok, "errors": result.failed,
                       "statuses": {str(k): v for k, v in result.statuses.items()},
                       "connections": result.connections, "wall_s": round(result.wall_s, 3),
                       "creates_per_s": round(creates_per_s, 1),
                       "latency_ms": {k: round(v, 2) for k, v in
                                      {"p50": p50, "p95": p95, "p99": p99, "max": lat[-1] if lat else float("nan"),
                                       "mean": sum(lat) / len(lat) if lat else float("nan")}.items()},
                       "cpu_s": {k: round(v, 2) for k, v in cpu.items()}},
            "database": {**db, "expected_orders": expected_orders, "match": counts_match},
            "sql_per_create": queries,
            "pg_waits": dict(sampler.samples) if sampler else None,
            "targets": {"creates_per_s": TARGET_CREATES_PER_S, "p95_ms": TARGET_P95_MS,
                        "creates_per_s_met": rate_ok, "p95_met": p95_ok},
        }, indent=2, ensure_ascii=False) + "\n")
        print(f"\nResult written to {out.relative_to(ROOT)}")

    if result.failed or warm.failed or not counts_match or not result.ok:
        return 1
    if args.strict and not (rate_ok and p95_ok):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
