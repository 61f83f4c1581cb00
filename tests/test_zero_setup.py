"""The only tests allowed to use SQLite: with no environment at all the product migrates, seeds and serves,
with an embedded Celery broker (kombu's filesystem transport)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _zero_setup_env(var_dir):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "APP_ENV", "SECRET_KEY"}}
    env["VAR_DIR"] = str(var_dir)
    return env


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory):
    """One SQLite file migrated from nothing with no environment at all; each test starts from a copy of it."""
    var = tmp_path_factory.mktemp("migrated")
    result = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT,
                            env=_zero_setup_env(var), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return var


def _copy_database(migrated, var_dir):
    for part in migrated.glob("db.sqlite3*"):  # the file and, if a connection left them, its WAL and index
        shutil.copy(part, var_dir / part.name)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_run_serves_a_healthy_demo_on_sqlite_and_a_filesystem_broker(tmp_path, migrated_sqlite):
    """What `make run` does with no environment: migrate, seed the demo's working day, start web, worker and beat
    on SQLite and kombu's filesystem broker, and print the URL only once /healthz answers ok (the heartbeat has
    gone from beat through the broker to a worker and into the database)."""
    _copy_database(migrated_sqlite, tmp_path)
    env = _zero_setup_env(tmp_path)
    port = _free_port()
    env.update(PORT=str(port), WEB_WORKERS="1")
    run = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = run.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Complaint platform running at" in line:
                break
        printed = "".join(lines)
        assert "Complaint platform running at" in printed, printed[-3000:]
        # The URL is printed only when the platform is healthy: it is at that moment, without waiting.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            health = json.load(answer)
        assert answer.status == 200 and health["status"] == "ok", health
        assert "Demo orders:" in printed and "agent_gz" in printed
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/track/", timeout=10) as page:
            assert page.status == 200
    finally:
        os.killpg(run.pid, signal.SIGTERM)
        try:
            run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
        run.stdout.close()

    def manage(*args):
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=_zero_setup_env(tmp_path),
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    # Seeding again adds nothing: a second `make run` finds the demo in place.
    assert "0 created" in manage("seed_demo", "--recent-days", "2", "--quiet-logins")
    probe = manage(
        "shell", "-c",
        "from django.db import connection; from config.celery import app; "
        "conn = app.connection_for_write(); conn.ensure_connection(max_retries=1); "
        "print(connection.vendor, app.conf.broker_url, conn.transport.driver_type)",
    )
    assert probe.split()[-3:] == ["sqlite", "filesystem://", "filesystem"]


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


def test_zero_setup_sqlite_takes_concurrent_writers_without_locking_errors(tmp_path, migrated_sqlite):
    """Web, worker and beat write to the one SQLite file at once: none of them may fail with "database is
    locked" (WAL, a busy timeout and transactions that take the write lock when they begin)."""
    _copy_database(migrated_sqlite, tmp_path)
    env = _zero_setup_env(tmp_path)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
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
