"""The API's rate limits (issue 15): one token flooding order creation is refused with 429 (JSON, Retry-After)
before it can crowd out everyone else; the budget is per token (a browser session: per user) and per scope
(reads, writes, order creation), counted in Redis so every web process counts together, the rates come from
API_THROTTLE_RATES, and each refusal is counted in /metrics."""

import re
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient

from complaints.models import WorkOrder
from config.env import Env
from core.throttles import window_hit

pytestmark = pytest.mark.django_db
URL = "/api/v1/orders/"
# Every test runs at the start of a 10-second window (counting windows are fixed; a test that crossed a
# boundary half-way would see its budget renewed).
START = datetime(2026, 11, 23, 10, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def rates(settings):
    settings.API_THROTTLE_RATES = {"read": "4/10s", "write": "6/10s", "create": "3/10s"}
    settings.METRICS_TOKEN = "scrape-secret"
    return settings.API_THROTTLE_RATES


@pytest.fixture
def frozen():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def payload(i: int) -> dict:
    return {"kind": "complaint", "channel": "hotline", "category": "NET-MOB-COV", "description": f"信号弱 {i}",
            "customer_phone": "13800138000"}


def scrape(client) -> str:
    return client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").content.decode()


def metric(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search(rf"^{name}\{{{re.escape(wanted)}\}} (\S+)$", text, re.M)
    assert match, f"{name}{{{wanted}}} not in the metrics:\n{text}"
    return float(match.group(1))


def test_a_token_flooding_order_creation_is_refused_with_429_json_and_retry_after(
        api_for, channel_system, coverage, rates, frozen):
    api = api_for(channel_system)
    for i in range(3):
        assert api.post(URL, payload(i), format="json").status_code == 201
    refused = api.post(URL, payload(99), format="json")
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("application/json")
    retry = int(refused["Retry-After"])  # when this token's window restarts
    assert 1 <= retry <= 10
    body = refused.json()
    assert body["scope"] == "create" and body["limit"] == 3 and body["window_seconds"] == 10
    assert body["retry_after"] == retry
    assert "this token" in body["detail"] and "at most 3 in 10 seconds" in body["detail"]
    assert WorkOrder.objects.count() == 3  # the refused create saved nothing
    # Just before the wait is over it is still refused; once it is, the token creates again.
    frozen.shift(retry - 1)
    assert api.post(URL, payload(100), format="json")["Retry-After"] == "1"
    frozen.shift(1)
    assert api.post(URL, payload(101), format="json").status_code == 201


def test_two_tokens_do_not_share_a_budget(api_for, channel_system, coverage, rates, frozen):
    flooding, other = api_for(channel_system), api_for(channel_system)
    for i in range(4):
        flooding.post(URL, payload(i), format="json")
    assert flooding.post(URL, payload(5), format="json").status_code == 429
    assert other.post(URL, payload(6), format="json").status_code == 201


def test_a_second_user_is_not_slowed_by_the_first(province_dispatcher, quality_manager, rates, frozen):
    first, second = APIClient(), APIClient()
    first.force_login(province_dispatcher)  # browser sessions are counted per user
    second.force_login(quality_manager)
    assert [first.get(URL).status_code for _ in range(5)] == [200, 200, 200, 200, 429]
    assert second.get(URL).status_code == 200
    refused = first.get(URL)
    assert refused.status_code == 429 and "user" in refused.json()["detail"]
    # Another session of the same user shares the user's budget.
    again = APIClient()
    again.force_login(province_dispatcher)
    assert again.get(URL).status_code == 429


def test_reads_writes_and_creation_have_budgets_of_their_own(api_for, channel_system, hotline_agent, make_order,
                                                             coverage, rates, frozen):
    order = make_order(hotline_agent)
    api = api_for(channel_system)
    for i in range(3):
        assert api.post(URL, payload(i), format="json").status_code == 201
    assert api.post(URL, payload(3), format="json").status_code == 429  # creation spent…
    assert api.get(URL).status_code == 200  # …reads are not
    # An action is a write: 3 creates + 1 refused create + 2 notes = the 6 writes of the window.
    note = f"{URL}{order.number}/actions/note/"
    assert api.post(note, {"body": "客户再次来电"}, format="json").status_code != 429
    assert api.post(note, {"body": "客户再次来电"}, format="json").status_code != 429
    refused = api.post(note, {"body": "客户再次来电"}, format="json")
    assert refused.status_code == 429 and refused.json()["scope"] == "write"


def test_refusals_are_counted_in_the_metrics_per_scope(client, api_for, channel_system, coverage, rates, frozen):
    api = api_for(channel_system)
    for i in range(5):
        api.post(URL, payload(i), format="json")
    text = scrape(client)
    assert metric(text, "complaints_api_throttled_total", scope="create") == 2
    assert metric(text, "complaints_api_throttled_total", scope="read") == 0
    for _ in range(6):
        api.get(URL)
    assert metric(scrape(client), "complaints_api_throttled_total", scope="read") == 2


def test_the_counter_is_shared_and_exact_under_concurrency(settings, frozen):
    """Several workers hitting one key at once: exactly the limit gets through (an atomic count in Redis, not a
    read-modify-write that lets a burst slip past)."""
    assert "redis" in settings.CACHES["default"]["BACKEND"].lower()
    allowed = []

    def worker():
        for _ in range(25):
            count, _wait = window_hit("throttle:test:concurrency", window_seconds=10)
            if count <= 60:
                allowed.append(count)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(allowed) == list(range(1, 61))


def test_the_rates_come_from_the_environment_and_bad_values_are_refused():
    defaults = {"read": "1200/min", "write": "600/min", "create": "300/min"}
    env = Env({"API_THROTTLE_RATES": "create=50/10s, read=20/s"})
    assert env.rates("API_THROTTLE_RATES", defaults) == {"read": "20/s", "write": "600/min", "create": "50/10s"}
    assert Env({}).rates("API_THROTTLE_RATES", defaults) == defaults
    for bad in ("create=lots", "create=10/fortnight", "create=0/min", "orders=5/min", "create", "create=5/0s"):
        with pytest.raises(ImproperlyConfigured, match="API_THROTTLE_RATES"):
            Env({"API_THROTTLE_RATES": bad}).rates("API_THROTTLE_RATES", defaults)


def test_the_settings_read_api_throttle_rates(settings):
    from tests.test_settings import _settings_in_subprocess

    result = _settings_in_subprocess({"API_THROTTLE_RATES": "create=7/10s"}, "settings.API_THROTTLE_RATES['create']")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "7/10s"
    result = _settings_in_subprocess({"API_THROTTLE_RATES": "create=many"}, "settings.API_THROTTLE_RATES")
    assert result.returncode != 0 and "API_THROTTLE_RATES" in result.stderr


def test_the_benchmarks_keep_the_throttle_on_at_rates_they_never_reach(tmp_path):
    """The benches (and the side-by-side comparison) measure the throttle's cost honestly: it runs, never refuses."""
    from bench.common import server_env
    from core.throttles import parse_rate

    env = server_env(db_url="postgres://u@h/bench", redis="redis://h:6379/2", var_dir=tmp_path)
    rates = Env(env).rates("API_THROTTLE_RATES", {"read": "1/s", "write": "1/s", "create": "1/s"})
    for limit, seconds in map(parse_rate, rates.values()):
        assert limit / seconds >= 100_000
    assert int(env["LOGIN_ADDRESS_FAILURE_LIMIT"]) >= 100_000


def test_without_redis_the_zero_setup_file_cache_counts(settings, tmp_path, frozen):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                   "LOCATION": str(tmp_path / "cache")}}
    assert [window_hit("throttle:read:token:1", window_seconds=10)[0] for _ in range(3)] == [1, 2, 3]


def test_an_unreachable_cache_lets_requests_through(settings, api_for, channel_system, client, hotline_agent):
    """Redis down must not stop intake (the broker-down drill): the limits are not counted meanwhile."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # nothing listens there
    assert api_for(channel_system).get(URL).status_code == 200
    answer = client.post("/accounts/login/", {"username": "agent_gz", "password": "wrong"}, REMOTE_ADDR="10.1.1.1")
    assert answer.status_code == 200  # the form again, with its error
    assert client.post("/accounts/login/", {"username": "agent_gz", "password": "pw-for-tests-only"},
                       REMOTE_ADDR="10.1.1.1").status_code == 302
