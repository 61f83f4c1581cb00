"""End to end with the real parts: a Celery worker with beat, on Redis, sweeping the test database, produces a
deadline warning for an order logged here."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.processes import child_env
from workflow.models import LimitUnit, Notification, Stage, StageLimit, TimeLimitPolicy

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)


def test_a_real_worker_and_beat_produce_a_warning(tmp_path, hotline_agent, make_order, province_dispatcher):
    assert connection.vendor == "postgresql" and settings.CELERY_BROKER_URL.startswith("redis://")
    # A claim limit of one minute, warned at 5%: the warning point is three seconds after intake.
    policy = TimeLimitPolicy.objects.create(name="测试", effective_from="2020-01-01", severity="difficult", kind="complaint",
                                            warn_percent=5)
    StageLimit.objects.create(policy=policy, stage=Stage.DISPATCH, amount=1, unit=LimitUnit.CLOCK_MINUTES)
    order = make_order(hotline_agent, severity="difficult")  # waits for a dispatcher: the dispatch stage runs

    env = child_env(SLA_SWEEP_SECONDS="1", VAR_DIR=str(tmp_path))
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "--loglevel=INFO", "--concurrency=1",
         "--pool=solo", f"--schedule={tmp_path / 'beat-schedule'}", "-n", f"sla-test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=open(tmp_path / "worker.log", "w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if Notification.objects.filter(order=order, kind="deadline_near").exists():
                break
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.5)
        else:
            pytest.fail("No warning within 60 s:\n" + (tmp_path / "worker.log").read_text()[-3000:])
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    assert order.events.filter(action="deadline_near").count() == 1
    # The order waits for a dispatcher: the complaint centre's dispatchers are warned.
    assert Notification.objects.get(order=order, kind="deadline_near").recipient == province_dispatcher
