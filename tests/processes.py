"""The environment of a process a test starts (a real Celery worker, the product under gunicorn): the test
process's own database and Redis database, never another test process's.

Under pytest-xdist each test process has its own database (test_complaints_gw0, …) and config/settings.py gives it
a Redis database of its own too (REDIS_URL's number + 1 + the process number). A child is handed the URLs the
test process uses, so the child must not shift the Redis database once more: PYTEST_XDIST_WORKER is not passed on.
"""

import os

from django.conf import settings


def database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_XDIST")}
    env.update({"DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL})
    env.update(overrides)
    return env
