"""The one test allowed to use SQLite: with no environment at all the product migrates, seeds and serves,
with an embedded Celery broker (kombu's filesystem transport)."""

import os
import subprocess
import sys
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
