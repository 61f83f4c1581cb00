"""Settings come from the environment through one helper that refuses bad values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import Env

ROOT = Path(__file__).resolve().parent.parent


def test_booleans_integers_and_urls_are_checked():
    env = Env({"A": "yes", "B": "maybe", "N": "12", "M": "twelve", "U": "mysql://x", "L": "a, b,,c"})
    assert env.bool("A") is True
    assert env.bool("MISSING", default=False) is False
    with pytest.raises(ImproperlyConfigured, match="B"):
        env.bool("B")
    assert env.int("N", 0, minimum=1) == 12
    with pytest.raises(ImproperlyConfigured, match="M"):
        env.int("M", 0)
    with pytest.raises(ImproperlyConfigured, match="minimum"):
        env.int("N", 0, minimum=20)
    with pytest.raises(ImproperlyConfigured, match="scheme"):
        env.url("U", ("postgres",))
    assert env.list("L") == ["a", "b", "c"]
    with pytest.raises(ImproperlyConfigured, match="required"):
        env.str("NOPE", required=True)


def _settings_in_subprocess(extra_env: dict, expression: str):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "APP_ENV", "SECRET_KEY",
                                                              "DEBUG", "ALLOWED_HOSTS"}}
    env.update(extra_env)
    code = f"import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); " \
           f"from django.conf import settings; print({expression})"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_production_refuses_to_start_without_a_secret_key():
    result = _settings_in_subprocess({"APP_ENV": "production", "ALLOWED_HOSTS": "x.example",
                                      "DATABASE_URL": "postgres://u@h/db", "REDIS_URL": "redis://h:6379/0"},
                                     "settings.DEBUG")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_requires_postgres_and_redis():
    result = _settings_in_subprocess({"APP_ENV": "production", "SECRET_KEY": "s" * 50, "ALLOWED_HOSTS": "x"},
                                     "settings.DEBUG")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_defaults_are_safe_and_local():
    result = _settings_in_subprocess({}, "settings.DEBUG, settings.TIME_ZONE, settings.LANGUAGE_CODE")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "Asia/Shanghai", "zh-hans"]


def test_a_bad_debug_value_is_refused():
    result = _settings_in_subprocess({"DEBUG": "perhaps"}, "settings.DEBUG")
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_production_static_files_collect_cleanly(tmp_path):
    """`collectstatic` is a deploy step; a third-party CSS referencing a missing font once broke it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "example.org",
           "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused", "REDIS_URL": "redis://127.0.0.1:6379/9",
           "VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "staticfiles" / "staticfiles.json").exists()
    assert list((tmp_path / "staticfiles" / "vendor" / "htmx").glob("htmx.min.*.js"))
    echarts = {p.name for p in (tmp_path / "staticfiles" / "vendor" / "echarts").iterdir()}
    assert any(name.startswith("echarts.min.") for name in echarts)
    assert not any(name.endswith(".map") or name.startswith("echarts.esm") for name in echarts), echarts


@pytest.mark.django_db
def test_postgres_connections_run_without_jit_unless_told_otherwise():
    from django.db import connection

    with connection.cursor() as cursor:  # this very test database, connected with the settings' options
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
    behind_pgbouncer = _settings_in_subprocess({"DATABASE_URL": "postgres://u@h/db", "DB_OPTIONS": "none"},
                                               "settings.DATABASES['default'].get('OPTIONS', {}).get('options')")
    assert behind_pgbouncer.returncode == 0, behind_pgbouncer.stderr
    assert behind_pgbouncer.stdout.strip() == "None"


def test_the_sms_gateways_field_names_are_key_value_pairs_of_known_keys():
    env = Env({"F": "phone=src_id, text=msg", "BAD": "phone", "ODD": "sender=x"})
    assert env.mapping("F", {"phone": "mobile", "text": "content", "ref": "msgid"}) == {
        "phone": "src_id", "text": "msg", "ref": "msgid"}
    with pytest.raises(ImproperlyConfigured, match="key=value"):
        env.mapping("BAD", {"phone": "mobile"})
    with pytest.raises(ImproperlyConfigured, match="phone"):
        env.mapping("ODD", {"phone": "mobile"})


def test_the_http_sms_gateway_needs_its_address():
    result = _settings_in_subprocess({"SMS_BACKEND": "http"}, "settings.SMS_BACKEND")
    assert result.returncode != 0 and "SMS_HTTP_URL" in result.stderr
    result = _settings_in_subprocess({"SMS_BACKEND": "http", "SMS_HTTP_URL": "https://sms.example.com/send",
                                      "SMS_HTTP_FIELDS": "phone=mobile,text=msg"}, "settings.SMS_HTTP_FIELDS['text']")
    assert result.returncode == 0 and result.stdout.strip() == "msg"
