"""Drill: Redis (broker and cache) is down. The database is the source of truth, so a web process started
while the broker is unreachable still takes complaints in, lets a handler claim and reply and says it is unwell
on /healthz; the notifications wait in their outbox. When the broker is back, a worker with beat drains the
outbox once and the sweeps run again: nothing lost, nothing doubled.

The outage is real, not mocked: the web process is pointed at a Redis port nothing listens on."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from complaints.models import OrderStatus, WorkOrder
from tests.processes import child_env
from workflow.models import Heartbeat, Notification, WorkflowPolicy

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)

# Runs in a process of its own whose REDIS_URL points at the dead port: one agent logs a complaint in the
# browser, the channel system posts one over the API which the network lead assigns to the handler (a
# notification), the handler claims the first and replies.
WEB_DURING_OUTAGE = r"""
import json, django
django.setup()
from django.test import Client
from org.models import User
from complaints.models import Category, WorkOrder

out = {}
agent, handler = User.objects.get(username="agent_gz"), User.objects.get(username="handler_network")
browser = Client()
browser.force_login(agent)
category = Category.objects.get(code="NET-MOB-COV")
answer = browser.post("/intake/", {"customer_phone": "13800138000", "customer_name": "张三", "kind": "complaint",
                                   "channel": "hotline", "category": category.pk, "severity": "ordinary",
                                   "description": "断网期间受理的投诉", "note": "", "contact_phone": "",
                                   "customer_tier": "", "customer_brand": "", "answer": "", "compensation": ""})
out["intake"] = answer.status_code
number = WorkOrder.objects.latest("id").number
api = Client(HTTP_AUTHORIZATION="Token " + KEY)
created = api.post("/api/v1/orders/", {"kind": "complaint", "channel": "hotline", "category": "NET-MOB-COV",
                                       "description": "渠道系统在断网期间提交", "customer_phone": "13900139000"},
                   content_type="application/json", HTTP_IDEMPOTENCY_KEY="outage-1")
out["api"] = created.status_code
lead = Client()
lead.force_login(User.objects.get(username="lead_network"))
out["assign"] = lead.post(f"/orders/{created.json()['number']}/actions/assign/",
                          {"assign-assignee": handler.pk, "assign-comment": "请尽快处理"}).status_code
worker = Client()
worker.force_login(handler)
out["claim"] = worker.post(f"/orders/{number}/actions/claim/").status_code
out["reply"] = worker.post(f"/orders/{number}/actions/reply/", {"reply-answer": "已优化基站参数",
                                                                 "reply-result_code": "resolved",
                                                                 "reply-compensation": ""}).status_code
health = Client().get("/healthz")
out["healthz"] = [health.status_code, health.json()["checks"]["broker"]]
out["number"] = number
print("RESULT " + json.dumps(out))
"""


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free now, and nothing will listen on it


def _env(tmp_path, redis_url: str) -> dict:
    return child_env(REDIS_URL=redis_url, VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings",
                     EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                     EMAIL_FILE_PATH=str(tmp_path / "mail"), SLA_SWEEP_SECONDS="1", NOTIFICATION_FLUSH_SECONDS="2")


def test_intake_claim_and_reply_work_without_the_broker_and_nothing_is_lost(
        tmp_path, hotline_agent, network_handler, network_lead, channel_system, province_dispatcher, coverage):
    from org.models import ApiScope
    from org.tokens import token_issue

    WorkflowPolicy.objects.update(quiet_outside_working_hours=False)  # e-mails at any hour, whenever CI runs
    for user in (hotline_agent, network_handler, network_lead, province_dispatcher):
        user.email = f"{user.username}@example.cn"
        user.save()
    _token, key = token_issue(actor=None, user=channel_system, name="CTI",
                              scopes=[ApiScope.ORDERS_READ, ApiScope.ORDERS_WRITE])
    dead = f"redis://127.0.0.1:{_dead_port()}/1"
    started = timezone.now()
    web = subprocess.run([sys.executable, "-c", f"KEY = {key!r}\n" + WEB_DURING_OUTAGE], cwd=ROOT,
                         env=_env(tmp_path, dead), capture_output=True, text=True, timeout=180)
    assert web.returncode == 0, web.stdout[-3000:] + web.stderr[-5000:]
    result = json.loads(next(line for line in web.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result["intake"] == 302 and result["api"] == 201, result
    assert result["assign"] == 302 and result["claim"] == 302 and result["reply"] == 302, result
    assert result["healthz"][0] == 503 and result["healthz"][1] != "ok"

    assert WorkOrder.objects.get(number=result["number"]).status == OrderStatus.REVIEW
    assert WorkOrder.objects.count() == 2
    # In-app-only notices (an ordinary order arriving in a queue) never enter the e-mail outbox.
    waiting = list(Notification.objects.filter(created_at__gte=started, recipient__email__gt="")
                   .exclude(delivery=Notification.Delivery.IN_APP))
    assert waiting, "the drill's steps should have notified someone with an address"
    assert all(n.emailed_at is None for n in waiting)  # in the outbox, not lost

    # The broker is back: a worker with beat on the real Redis drains the outbox and sweeps again.
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "--loglevel=INFO", "--concurrency=1",
         "--pool=solo", f"--schedule={tmp_path / 'beat-schedule'}", "-n", f"broker-drill-{os.getpid()}@%h"],
        cwd=ROOT, env=_env(tmp_path, settings.REDIS_URL), stdout=open(tmp_path / "worker.log", "w"),
        stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            drained = not Notification.objects.filter(pk__in=[n.pk for n in waiting], emailed_at__isnull=True).exists()
            swept = Heartbeat.objects.filter(name="sla_sweep", ran_at__gte=started).exists()
            if drained and swept:
                break
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.5)
        else:
            pytest.fail("Outbox not drained or no sweep within 90 s:\n" + (tmp_path / "worker.log").read_text()[-3000:])
        time.sleep(3)  # one more flush: a drained outbox must stay sent once
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    sent = sum(len(re.findall(r"^To: ", path.read_text(), flags=re.M)) for path in (tmp_path / "mail").glob("*"))
    assert sent == len(waiting), f"{sent} e-mails for {len(waiting)} notifications"
