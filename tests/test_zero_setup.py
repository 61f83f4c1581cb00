"""The only tests allowed to use SQLite: with no environment at all the product migrates, seeds and serves,
with an embedded Celery broker (kombu's filesystem transport)."""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_zero_setup_default_uses_sqlite_and_a_filesystem_broker(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "APP_ENV", "SECRET_KEY"}}
    env["VAR_DIR"] = str(tmp_path)

    def manage(*args):
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    manage("migrate", "--noinput")
    out = manage("seed_demo", "--orders", "40")
    assert "agent_gz" in out and "Demo orders: 40 created" in out
    again = manage("seed_demo", "--orders", "40")
    assert "Demo orders: 0 created, 40 in all" in again
    probe = manage(
        "shell", "-c",
        "from django.db import connection; from config.celery import app; "
        "from complaints.models import WorkOrder; "
        "conn = app.connection_for_write(); conn.ensure_connection(max_retries=1); "
        "print(connection.vendor, app.conf.broker_url, conn.transport.driver_type, WorkOrder.objects.count())",
    )
    assert probe.split()[-4:] == ["sqlite", "filesystem://", "filesystem", "40"]
    assert (tmp_path / "db.sqlite3").exists()


# One writer process, as a Celery task or a dispatcher's save does it: in a transaction, read, then write.
WRITER = """
import os, sys, time
import django
django.setup()
from django.db import transaction
from django.utils import timezone
from workflow.models import Heartbeat

me, rounds, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
while not os.path.exists(go):
    time.sleep(0.01)
for n in range(rounds):
    with transaction.atomic():
        Heartbeat.objects.filter(name="shared").first()
        Heartbeat.objects.update_or_create(name="shared", defaults={"ran_at": timezone.now()})
        Heartbeat.objects.create(name=f"{me}-{n}", ran_at=timezone.now())
print("done", me)
"""


def test_zero_setup_sqlite_takes_concurrent_writers_without_locking_errors(tmp_path):
    """Web, worker and beat write to the one SQLite file at once: none of them may fail with "database is
    locked" (WAL, a busy timeout and transactions that take the write lock when they begin)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "APP_ENV", "SECRET_KEY"}}
    env["VAR_DIR"] = str(tmp_path)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    go, writers, rounds = tmp_path / "go", 6, 40
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, f"w{i}", str(rounds), str(go)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i in range(writers)]
    time.sleep(3)  # every writer has loaded Django and waits for the start
    go.touch()
    results = [p.communicate(timeout=240) for p in processes]
    errors = [err[-600:] for (_out, err), p in zip(results, processes, strict=True) if p.returncode != 0]
    assert not errors, errors
    count = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from workflow.models import Heartbeat; print(Heartbeat.objects.filter(name__startswith='w').count())"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert count.stdout.split()[-1] == str(writers * rounds)
    journal = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from django.db import connection; c = connection.cursor(); c.execute('PRAGMA journal_mode'); "
         "print(c.fetchone()[0])"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert journal.stdout.split()[-1] == "wal"
