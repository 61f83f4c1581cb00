"""What the benchmarks share: a throw-away database, production-style settings, gunicorn, percentiles.

Every benchmark builds its own PostgreSQL database (its name must contain 'bench'; it is dropped and created
again on each run) and uses a Redis database of its own, never database 0.
"""

from __future__ import annotations

import http.client
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
API_PATH = "/api/v1/orders/"  # gunicorn is up when this refuses an anonymous caller
RESULTS_DIR = ROOT / "bench" / "results"


def database_url(default: str) -> str:
    url = os.environ.get("BENCH_DATABASE_URL", default)
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if parsed.scheme not in ("postgres", "postgresql") or not name:
        sys.exit(f"BENCH_DATABASE_URL must be a postgres:// URL with a database name, got {url!r}.")
    if "bench" not in name:
        sys.exit(f"Refusing to drop database {name!r}: the benchmark database's name must contain 'bench'.")
    return url


def redis_url(default: str = "redis://127.0.0.1:6379/2") -> str:
    url = os.environ.get("BENCH_REDIS_URL", default)
    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "rediss"):
        sys.exit(f"BENCH_REDIS_URL must be a redis:// URL, got {url!r}.")
    if parsed.path.strip("/") in ("", "0"):
        sys.exit("Refusing to flush Redis database 0: give BENCH_REDIS_URL a database of its own (e.g. /2).")
    return url


# The API's rate limits stay on in a benchmark (their cost, a Redis round trip per request, is part of what is
# measured) but at rates no benchmark reaches: every request comes from a handful of tokens and one address.
BENCH_THROTTLE_RATES = "read=1000000/s,write=1000000/s,create=1000000/s"


def server_env(*, db_url: str, redis: str, var_dir: Path) -> dict[str, str]:
    """Production settings, except what plain http on localhost needs (no TLS redirect, no secure cookies), and
    rate limits no benchmark reaches."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        APP_ENV="production",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DATABASE_URL=db_url,
        REDIS_URL=redis,
        VAR_DIR=str(var_dir),
        MEDIA_ROOT=str(var_dir / "private-media"),
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        API_THROTTLE_RATES=BENCH_THROTTLE_RATES,
        LOGIN_ADDRESS_FAILURE_LIMIT="1000000",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed (exit {proc.returncode}).")
    return proc.stdout


def django_setup(env: dict[str, str]) -> None:
    """This process reads the bench database through the ORM, with the same settings as the server."""
    for key in ("DJANGO_SETTINGS_MODULE", "APP_ENV", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL",
                "REDIS_URL", "VAR_DIR", "MEDIA_ROOT", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE",
                "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS"):
        os.environ[key] = env[key]
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def reset_database(url: str) -> None:
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    maintenance = urlunparse(parsed._replace(path="/postgres"))
    conn = psycopg2.connect(maintenance)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_executable() -> str:
    candidate = Path(sys.executable).parent / "gunicorn"
    if candidate.exists():
        return str(candidate)
    fallback = ROOT / ".venv" / "bin" / "gunicorn"
    if fallback.exists():
        return str(fallback)
    raise SystemExit("gunicorn not found next to this Python or in .venv/bin.")


class Server:
    """gunicorn in its own session (Ctrl-C reaches only us; we stop its whole process group)."""

    def __init__(self, *, env, port, workers, worker_class, threads, log_path: Path):
        self.port = port
        self.log_path = log_path
        self.cmd = [
            gunicorn_executable(), "config.wsgi",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers),
            "--worker-class", worker_class,
            "--threads", str(threads),
            "--timeout", "60",
            "--keep-alive", "75",  # longer than any client's pause: see docs/production.md
            "--log-level", "warning",
            "--error-logfile", str(log_path),
        ]
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", API_PATH, headers={"Accept": "application/json"})
                status = conn.getresponse().status
                conn.close()
                if status in (401, 403):  # up, and refusing an anonymous caller as it should
                    return
                raise SystemExit(f"gunicorn answered GET {API_PATH} without a token with {status}, "
                                 f"expected 401/403:\n{self.log_tail()}")
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def pids(self) -> list[int]:
        if self.proc is None or self.proc.poll() is not None:
            return []
        return [self.proc.pid, *children_of(self.proc.pid)]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # graceful: master stops its workers
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no gunicorn log)"


def process_stat(pid: int) -> tuple[str, int, float] | None:
    """(command, parent pid, CPU seconds) of a process, from /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1: raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2:].split()
    return comm, int(rest[1]), (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def children_of(parent: int) -> list[int]:
    out = []
    for pid in all_pids():
        info = process_stat(pid)
        if info and info[1] == parent:
            out.append(pid)
    return out


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


