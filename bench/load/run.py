"""A working day at 200 simulated users, then a complaint storm on top (locust against gunicorn, PostgreSQL, Redis).

Builds a throw-away database (`complaints_bench_load`) with the demo data (--orders), starts gunicorn with
production settings and a Celery worker with beat (so sweeps, rollups and notifications run as in production),
and drives bench/load/locustfile.py headless:
1. the working day: --users users (agents, handlers, leads, managers, channel systems) for --day seconds;
2. the storm on top: the same users plus --storm API clients posting one area's complaints, for --storm-seconds
   after they have all arrived.
Users arrive at --spawn-rate per second and log in (a morning's logins, not all in one second); the figures are
counted from the moment the last one has arrived.
Prints, per phase and per request kind, the requests, failures, requests/s, median and p95 (ms), and the
failures by kind; then where the CPU went during the phase (gunicorn, Celery, PostgreSQL, Redis, locust itself: they
share this machine); exits 1 when any request failed.

    .venv/bin/python bench/load/run.py [--users 200 --day 180 --storm 60 --storm-seconds 90 --workers 4]
"""

from __future__ import annotations

import argparse
import csv
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import (  # noqa: E402
    ROOT,
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

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--orders", type=int, default=500, help="demo orders seeded before the day")
    parser.add_argument("--reuse-db", action="store_true", help="keep the database a previous run seeded")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=float, default=2.0,
                        help="users arriving per second (each logs in: a password hash is ~0.3 s of CPU)")
    parser.add_argument("--day", type=int, default=240, help="seconds of the working day, ramp included")
    parser.add_argument("--storm", type=int, default=60, help="storm API clients added on top")
    parser.add_argument("--storm-seconds", type=int, default=90)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (gthread)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    return parser.parse_args(argv)


COMPONENTS = (("gunicorn", "gunicorn"), ("celery", "Celery worker+beat"), ("postgres", "PostgreSQL"),
              ("redis-server", "Redis"))
LOCUST = "locust (the load itself)"
MACHINE = "the whole machine"


def cpu_seconds() -> dict[str, float]:
    """CPU time (user+system) so far of every running process, grouped by component; locust's is counted from
    our finished children (it runs as one, to the end of the phase)."""
    import resource

    import psutil

    totals = dict.fromkeys((label for _key, label in COMPONENTS), 0.0)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    totals[LOCUST] = children.ru_utime + children.ru_stime
    # The whole machine (user, nice, system, irq, softirq, steal from /proc/stat), whoever used it.
    ticks = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    totals[MACHINE] = (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]) / os.sysconf("SC_CLK_TCK")
    for proc in psutil.process_iter(["cmdline", "name", "cpu_times"]):
        command = " ".join(proc.info["cmdline"] or [proc.info["name"] or ""])
        times = proc.info["cpu_times"]
        if times is None:
            continue
        for key, label in COMPONENTS:
            if key in command:
                totals[label] += times.user + times.system
                break
    return totals


def print_cpu(before: dict[str, float], after: dict[str, float], seconds: float) -> None:
    used = {label: after[label] - before.get(label, 0.0) for label in after}
    print(f"  CPU over {seconds:.0f} s ({os.cpu_count()} cores = {seconds * os.cpu_count():.0f} core-seconds): "
          + ", ".join(f"{label} {value:.0f} s ({value / seconds:.2f} cores)" for label, value in used.items()))


def print_memory(server, when: str) -> None:
    """Resident memory of each gunicorn worker (the master apart): printed after each phase, so growth from one
    run to the next shows."""
    import psutil

    workers = []
    for pid in server.pids()[1:]:
        try:
            workers.append(psutil.Process(pid).memory_info().rss / 2**20)
        except psutil.NoSuchProcess:
            continue
    if workers:
        print(f"  gunicorn worker memory {when}: " + ", ".join(f"{mb:.0f}" for mb in sorted(workers))
              + f" MiB (total {sum(workers):.0f} MiB)")


def single_requests(host: str, *, password: str, key: str, category: str, repeat: int = 15) -> None:
    """What each kind of request costs alone (one at a time, the server otherwise idle): the floor under the
    latencies of the phases, and with the mix, the capacity of the machine."""
    import re
    import statistics

    import requests

    def session_for(username):
        session = requests.Session()
        page = session.get(f"{host}/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = session.post(f"{host}/accounts/login/", {"username": username, "password": password,
                                                         "csrfmiddlewaretoken": token}, allow_redirects=False)
        assert answer.status_code == 302, f"login of {username}: {answer.status_code}"
        return session

    agent, handler, manager = session_for("agent_gz"), session_for("handler_network"), session_for("quality")
    api = requests.Session()
    api.headers["Authorization"] = f"Token {key}"
    numbers = re.findall(r'href="/orders/(TS\d+)/"', agent.get(f"{host}/orders/").text)
    kinds = [
        ("intake form", agent, "GET", "/intake/"),
        ("intake customer panel", agent, "GET", "/intake/customer/?customer_phone=13800138000"),
        ("order search", agent, "GET", "/orders/"),
        ("order detail", agent, "GET", f"/orders/{numbers[0]}/" if numbers else "/orders/"),
        ("work queue", handler, "GET", "/work/queue/"),
        ("work mine", handler, "GET", "/work/mine/"),
        ("dashboard (overview)", manager, "GET", "/dashboard/"),
        ("dashboard (kpis)", manager, "GET", "/dashboard/kpis/"),
        ("dashboard drill-down", manager, "GET", "/dashboard/orders/?kpi=volume"),
        ("api create", api, "POST", "/api/v1/orders/"),
        ("api read", api, "GET", "/api/v1/orders/?page_size=20"),
    ]
    print(f"\nOne request at a time ({repeat} each, after one warm-up), server otherwise idle:")
    print(f"  {'request kind':<28}{'p50 ms':>8}{'max ms':>8}")
    for name, session, method, path in kinds:
        times = []
        for i in range(repeat + 1):
            started = time.perf_counter()
            if method == "POST":
                answer = session.post(f"{host}{path}", json={
                    "kind": "complaint", "channel": "hotline", "category": category, "description": "单次测量",
                    "customer_phone": f"1390000{i:04d}"}, headers={"Idempotency-Key": secrets.token_hex(16)})
            else:
                answer = session.get(f"{host}{path}")
            elapsed = (time.perf_counter() - started) * 1000
            assert answer.status_code in (200, 201), f"{name}: {answer.status_code}"
            if i:
                times.append(elapsed)
        print(f"  {name:<28}{statistics.median(times):>8.0f}{max(times):>8.0f}")


def run_phase(label, *, host, users, seconds, spawn_rate, env, out: Path) -> int:
    prefix = out / label
    command = [str(Path(sys.executable).parent / "locust"), "-f", str(LOCUSTFILE), "--headless", "--only-summary",
               "-u", str(users), "-r", str(spawn_rate), "-t", f"{seconds}s", "--host", host, "--csv", str(prefix),
               "--stop-timeout", "60", "--loglevel", "WARNING", "--reset-stats"]
    started = time.monotonic()
    cpu_before = cpu_seconds()
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    cpu_after = cpu_seconds()
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8")))
    print(f"\n{label}: {users} users for {seconds} s (ramp {users / spawn_rate:.0f} s, figures from the end of the "
          f"ramp on), locust exit {proc.returncode}, {elapsed:.0f} s wall")
    print(f"  {'request kind':<28}{'requests':>9}{'failed':>8}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}")
    failed = 0
    for row in rows:
        name = "all requests" if row["Name"] == "Aggregated" else row["Name"]
        failed += int(row["Failure Count"]) if row["Name"] != "Aggregated" else 0
        print(f"  {name:<28}{int(row['Request Count']):>9,}{int(row['Failure Count']):>8}"
              f"{float(row['Requests/s']):>8.1f}{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}")
    failures = list(csv.DictReader(open(f"{prefix}_failures.csv", encoding="utf-8")))
    for row in failures[:10]:
        print(f"  failure: {row['Method']} {row['Name']} x{row['Occurrences']}: {row['Error'][:200]}")
    print_cpu(cpu_before, cpu_after, elapsed)
    if proc.returncode not in (0, 1):
        print(proc.stderr[-3000:])
    return failed


def main(argv=None) -> int:
    args = parse_args(argv)
    db_url = database_url("postgres://postgres@127.0.0.1:5432/complaints_bench_load")
    redis = redis_url("redis://127.0.0.1:6379/10")
    if not args.reuse_db:
        reset_database(db_url)
    flush_redis(redis)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        tmp = Path(tmp)
        env = server_env(db_url=db_url, redis=redis, var_dir=tmp)
        if not args.reuse_db:
            manage(env, "migrate", "--noinput")
            seeded = time.monotonic()
            manage(env, "seed_demo", "--orders", str(args.orders), "--quiet-logins")
            print(f"Demo data with {args.orders:,} orders seeded in {time.monotonic() - seeded:.0f} s.")
        manage(env, "collectstatic", "--noinput")  # production settings serve hashed static names
        django_setup(env)
        from complaints.selectors import leaf_categories
        from org.models import ApiScope, User
        from org.tokens import token_issue

        password = secrets.token_urlsafe(12)
        for user in User.objects.filter(is_active=True):
            user.set_password(password)
            user.save(update_fields=["password"])

        _token, key = token_issue(actor=None, user=User.objects.get(username="cti"), name="load",
                                  scopes=[ApiScope.ORDERS_READ, ApiScope.ORDERS_WRITE])
        leaves = list(leaf_categories().values_list("pk", "code"))
        storm_category = next((code for _pk, code in leaves if code.startswith("NET")), leaves[0][1])
        load_env = {**env, "LOAD_PASSWORD": password, "LOAD_API_KEY": key,
                    "LOAD_CATEGORIES": ",".join(f"{pk}:{code}" for pk, code in leaves),
                    "LOAD_STORM_CATEGORY": storm_category}
        port = free_port()
        server = Server(env=env, port=port, workers=args.workers, worker_class="gthread", threads=args.threads,
                        log_path=tmp / "gunicorn.log")
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "--loglevel=WARNING", "--concurrency=2",
             f"--schedule={tmp / 'beat-schedule'}", "-n", f"load-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=open(tmp / "worker.log", "w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        server.start()
        try:
            print(f"gunicorn: {args.workers} workers x {args.threads} threads; Celery worker (2) with beat.")
            single_requests(f"http://127.0.0.1:{port}", password=password, key=key, category=storm_category)
            failed = run_phase("working-day", host=f"http://127.0.0.1:{port}", users=args.users, seconds=args.day,
                               spawn_rate=args.spawn_rate, env=load_env, out=tmp)
            print_memory(server, "after the working day")
            failed += run_phase("storm-on-top", host=f"http://127.0.0.1:{port}", users=args.users + args.storm,
                                seconds=args.storm_seconds + int((args.users + args.storm) / args.spawn_rate),
                                spawn_rate=args.spawn_rate,
                                env={**load_env, "LOAD_STORM": "1"}, out=tmp)
            print_memory(server, "after the storm")
            from complaints.models import WorkOrder
            from quality.models import BatchAlert

            print(f"\nOrders in the database: {WorkOrder.objects.count():,}; batch-complaint alerts raised: "
                  f"{BatchAlert.objects.count()}")
            errors = [line for line in server.log_tail(400).splitlines() if "Traceback" in line or "ERROR" in line]
            print(f"gunicorn error-log lines: {len(errors)}")
        finally:
            server.stop()
            os.killpg(worker.pid, 15)
            worker.wait(timeout=30)
    print("\nLoad: " + ("error rate 0" if failed == 0 else f"{failed} FAILED requests"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
