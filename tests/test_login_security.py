"""Login and session hardening: lockout after repeated failures (django-axes), password rules, idle sessions
expire, the security headers, and `check --deploy` clean in production."""

import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

from config.security import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/accounts/login/"


def attempt(client, username, password, address="10.0.0.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_repeated_wrong_passwords_lock_the_username_from_that_address(client, hotline_agent):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "agent_gz", "wrong-password").status_code == 200  # the form again, with its error
    locked = attempt(client, "agent_gz", "wrong-password")
    assert locked.status_code == 429
    assert "locked-out" in locked.content.decode()
    # Now even the right password is refused from that address, and nobody is logged in.
    again = attempt(client, "agent_gz", "pw-for-tests-only")
    assert again.status_code == 429 and "_auth_user_id" not in client.session
    # The same user from another address, and another user from the same address, still log in.
    assert attempt(client.__class__(), "agent_gz", "pw-for-tests-only", address="10.0.0.8").status_code == 302
    # After the cool-off the lock lifts.
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert attempt(client, "agent_gz", "pw-for-tests-only").status_code == 302
    assert AccessAttempt.objects.filter(username="agent_gz").count() <= 1


def test_a_successful_login_resets_the_count(client, hotline_agent):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "agent_gz", "wrong-password")
    assert attempt(client, "agent_gz", "pw-for-tests-only").status_code == 302
    client.logout()
    assert attempt(client, "agent_gz", "wrong-password").status_code == 200  # counting starts again


def test_an_idle_session_expires_and_activity_renews_it(client, hotline_agent):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert attempt(client, "agent_gz", "pw-for-tests-only").status_code == 302
    idle = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    # Active every 20 minutes for two hours: still logged in.
    moment = start
    while moment < start + timedelta(hours=2):
        moment += timedelta(minutes=20)
        with time_machine.travel(moment, tick=False):
            assert client.get("/orders/").status_code == 200
    # Then idle for longer than the limit: back to the login page.
    with time_machine.travel(moment + idle + timedelta(minutes=1), tick=False):
        response = client.get("/orders/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_passwords_must_be_long_and_not_common(client, hotline_agent):
    client.force_login(hotline_agent)
    response = client.post("/accounts/password/", {"old_password": "pw-for-tests-only", "new_password1": "abc12345",
                                                  "new_password2": "abc12345"})
    assert response.status_code == 200
    hotline_agent.refresh_from_db()
    assert hotline_agent.check_password("pw-for-tests-only")
    assert "new_password2" in response.context["form"].errors


def test_every_page_carries_the_content_security_policy_and_the_security_headers(client, hotline_agent):
    client.force_login(hotline_agent)
    for path in (LOGIN, "/orders/", "/track/", "/support/", "/knowledge/"):
        response = client.get(path)
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
        assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "'unsafe-eval'" not in CONTENT_SECURITY_POLICY


def test_session_cookies_are_http_only_and_same_site(client, hotline_agent):
    response = attempt(client, "agent_gz", "pw-for-tests-only")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE


def test_check_deploy_is_clean_in_production():
    # The browser tests' live server sets DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment has no such thing.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {**inherited, "APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(50),
           "ALLOWED_HOSTS": "complaints.example.cn", "DEBUG": "false",
           "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/complaints"),
           "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# --- a login spray: many usernames from one address (issue 15) ---


def _scrape(client, settings) -> str:
    settings.METRICS_TOKEN = "scrape-secret"
    return client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").content.decode()


def _refusals(text: str, limit: str) -> float:
    import re

    match = re.search(rf'^complaints_login_refused_total\{{limit="{limit}"\}} (\S+)$', text, re.M)
    assert match, text
    return float(match.group(1))


def test_a_login_spray_across_usernames_from_one_address_is_refused_after_the_limit(client, settings,
                                                                                  hotline_agent, outsider):
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    assert 5 < limit <= 25  # the per-username limit alone let 25 usernames × 4 guesses through
    spray = [f"user{i:02d}" for i in range(25)]
    answers = [attempt(client.__class__(), name, "Summer2026!", address="10.9.9.9").status_code for name in spray]
    # Each username failed once (far below its own limit), yet the address is locked at its limit.
    assert answers[:limit - 1] == [200] * (limit - 1)
    assert answers[limit - 1:] == [429] * (25 - limit + 1)
    locked = attempt(client, "agent_gz", "pw-for-tests-only", address="10.9.9.9")  # even a right password
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    page = locked.content.decode()
    assert "locked-out" in page and "this address" in page
    assert int(locked["Retry-After"]) > 0
    # Another address logs in, and the locked one again once the lockout has passed.
    assert attempt(client.__class__(), "agent_sz", "pw-for-tests-only", address="10.9.9.10").status_code == 302
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert attempt(client.__class__(), "agent_gz", "pw-for-tests-only", address="10.9.9.9").status_code == 302
    text = _scrape(client, settings)
    assert _refusals(text, "address") == 25 - limit + 2


def test_a_successful_login_does_not_reset_the_address_count(client, settings, hotline_agent):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    for i in range(5):
        attempt(client.__class__(), f"guess{i}", "wrong", address="10.9.9.11")
    assert attempt(client.__class__(), "agent_gz", "pw-for-tests-only", address="10.9.9.11").status_code == 302
    assert attempt(client.__class__(), "guess9", "wrong", address="10.9.9.11").status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(client, settings, hotline_agent):
    settings.TRUST_X_FORWARDED_FOR = True
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    for i in range(6):
        client.__class__().post(LOGIN, {"username": f"guess{i}", "password": "x"}, REMOTE_ADDR="10.0.0.1",
                                HTTP_X_FORWARDED_FOR="203.0.113.5")
    refused = client.__class__().post(LOGIN, {"username": "agent_gz", "password": "pw-for-tests-only"},
                                      REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert refused.status_code == 429
    # The proxy appends the address it saw to whatever the client sent: a made-up first hop changes nothing.
    spoofed = client.__class__().post(LOGIN, {"username": "agent_gz", "password": "pw-for-tests-only"},
                                      REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.5")
    assert spoofed.status_code == 429
    # Everyone else behind the same proxy still logs in.
    ok = client.post(LOGIN, {"username": "agent_gz", "password": "pw-for-tests-only"}, REMOTE_ADDR="10.0.0.1",
                     HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert ok.status_code == 302


def test_username_lockouts_are_counted_in_the_metrics_too(client, settings, hotline_agent):
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        attempt(client, "agent_gz", "wrong-password")
    assert _refusals(_scrape(client, settings), "username") == 2
