"""Drill: the operator's SMS gateway goes down while customers' messages keep coming, and comes back.

A throw-away database (`complaints_bench_drill_sms`), a real Celery worker and beat on Redis, the HTTP gateway
backend pointed at a stand-in gateway (a separate process on localhost that records every message it accepts).
--before orders are taken in with the gateway up; the gateway is killed; --during more orders are taken in and
the worker keeps trying for --down seconds; the gateway is started again on the same port. Checks: while it was
down no message was lost, failed or marked sent; once it is back every receipt message arrives, each exactly once
(by our id of the message, which the gateway receives with it), and every one is recorded as sent.

    .venv/bin/python bench/drills/sms_gateway.py [--before 30 --during 120 --down 20]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import (  # noqa: E402
    ROOT,
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

# The stand-in gateway: accepts each JSON post, appends it to a file (one line), answers {"code": "0", "id": …}.
GATEWAY = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, path = int(sys.argv[1]), sys.argv[2]
class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(path, "ab") as out:
            out.write(body.replace(b"\n", b" ") + b"\n")
        answer = json.dumps({"code": "0", "id": "GW-" + json.loads(body)["msgid"]}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer))); self.end_headers(); self.wfile.write(answer)
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def start(command: list[str], env, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=open(log, "a"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


def take_in(agent, category, channel, first: int, count: int) -> list[int]:
    from workflow.intake import order_create

    return [order_create(actor=agent, kind="complaint", channel=channel, category=category, severity="ordinary",
                         description="短信网关中断演练：家里没有信号", customer_phone=f"1390{first + n:07d}").order.pk
            for n in range(count)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=int, default=30, help="orders taken in with the gateway up")
    parser.add_argument("--during", type=int, default=120, help="orders taken in while it is down")
    parser.add_argument("--down", type=float, default=20.0, help="seconds the gateway stays down")
    args = parser.parse_args(argv)
    db_url = database_url("postgres://postgres@127.0.0.1:5432/complaints_bench_drill_sms")
    redis = redis_url("redis://127.0.0.1:6379/8")
    reset_database(db_url)
    flush_redis(redis)
    with tempfile.TemporaryDirectory(prefix="drill-sms-") as tmp:
        tmp = Path(tmp)
        port, received = free_port(), tmp / "gateway.jsonl"
        env = server_env(db_url=db_url, redis=redis, var_dir=tmp)
        env.update(SMS_BACKEND="http", SMS_HTTP_URL=f"http://127.0.0.1:{port}/sms", SMS_HTTP_OK_FIELD="code",
                   SMS_HTTP_ID_FIELD="id", SMS_HTTP_TIMEOUT="5", SMS_SEND_SECONDS="1", SMS_RETRY_SECONDS="1")
        env["LOG_LEVEL"] = "WARNING"  # the drill prints its own figures
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--orders", "0", "--quiet-logins")
        os.environ["LOG_LEVEL"] = "WARNING"
        django_setup(env)
        from complaints.models import Channel
        from complaints.selectors import leaf_categories
        from core.memo import clear_all
        from org.models import User
        from sms.models import SmsMessage, SmsPolicy

        SmsPolicy.objects.update(quiet_from="00:00", quiet_until="00:00")  # the drill runs at any hour
        clear_all()
        agent = User.objects.get(username="agent_gz")
        category = leaf_categories().filter(path__startswith="/NET/").first()
        channel = Channel.objects.get(code="hotline")
        gateway_cmd = [sys.executable, "-c", GATEWAY, str(port), str(received)]
        gateway = start(gateway_cmd, env, tmp / "gateway.log")
        worker = start([sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING",
                        "--concurrency=1", "-n", f"drill-sms-{os.getpid()}@%h"], env, tmp / "worker.log")
        beat = start([sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING",
                      f"--schedule={tmp / 'beat-schedule'}"], env, tmp / "beat.log")
        try:
            messages = SmsMessage.objects.filter(kind="receipt")
            first = take_in(agent, category, channel, 0, args.before)
            up = wait_for(lambda: messages.filter(order_id__in=first, status="sent").count() == args.before, 90)
            check("gateway up: every receipt message sent", up,
                  f"{messages.filter(status='sent').count()} of {args.before}")
            stop(gateway)
            went_down = time.monotonic()
            second = take_in(agent, category, channel, args.before, args.during)
            decided = wait_for(lambda: messages.filter(order_id__in=second).count() == args.during, 60)
            time.sleep(max(0.0, args.down - (time.monotonic() - went_down)))
            during = collections.Counter(messages.filter(order_id__in=second).values_list("status", flat=True))
            tried = messages.filter(order_id__in=second, attempts__gt=0).count()
            print(f"Gateway down {time.monotonic() - went_down:.0f} s: {dict(during)}; {tried} tried at least once.")
            check("gateway down: every message decided and kept", decided)
            check("gateway down: none lost, failed or marked sent", set(during) <= {"queued", "sending"},
                  str(dict(during)))
            check("gateway down: the worker kept trying", tried > 0)
            came_back = time.monotonic()
            gateway = start(gateway_cmd, env, tmp / "gateway.log")
            everyone = first + second
            done = wait_for(lambda: messages.filter(order_id__in=everyone, status="sent").count() == len(everyone),
                            120)
            print(f"All {len(everyone)} sent {time.monotonic() - came_back:.1f} s after the gateway came back.")
            check("gateway back: every message sent", done,
                  str(dict(collections.Counter(messages.values_list("status", flat=True)))))
        finally:
            for process in (beat, worker, gateway):
                stop(process)
        lines = [json.loads(line) for line in received.read_text(encoding="utf-8").splitlines()]
        refs = collections.Counter(line["msgid"] for line in lines)
        ours = {str(pk) for pk in messages.values_list("pk", flat=True)}
        print(f"The gateway accepted {len(lines)} posts for {len(refs)} messages.")
        check("each message reached the gateway exactly once", set(refs) == ours and set(refs.values()) == {1},
              f"{sum(n > 1 for n in refs.values())} twice, {len(ours - set(refs))} never")
        recorded = dict(messages.values_list("pk", "gateway_id"))
        check("the gateway's id is recorded for each", all(recorded[int(r)] == f"GW-{r}" for r in refs))
    return verdict("SMS-gateway drill")


if __name__ == "__main__":
    sys.exit(main())
