"""Review of issue 15, item 4 (backdating): other inputs that could set an order's received time or land it in a
closed month. A probe the product resists is a regression test; a hole is an xfail(strict)."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine

from complaints.models import OrderSource, WorkOrder
from tests.test_views import intake_post

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/orders/"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def payload(coverage):
    return {"kind": "complaint", "channel": "hotline", "category": "NET-MOB-COV", "description": "客户家中信号弱",
            "customer_phone": "13800138000"}


@time_machine.travel(NOW, tick=False)
def test_a_received_time_injected_into_the_browser_intake_is_ignored(client, hotline_agent, coverage):
    client.force_login(hotline_agent)
    response = client.post("/intake/", intake_post(coverage, received_at="2025-06-15T09:00:00+08:00",
                                                   number="TS20250615000001", source="import",
                                                   external_source="crm", closed_month_arrival="2025-06-01"))
    assert response.status_code == 302
    order = WorkOrder.objects.get()
    assert order.received_at == NOW and order.number.startswith("TS20261202")
    assert order.source == OrderSource.BROWSER and order.external_source == "" and order.closed_month_arrival is None


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("received_at", [
    "2026-11-30T10:00:00",  # naive: read as Shanghai time, 48 h ago
    (NOW - timedelta(hours=30)).astimezone(dt_timezone(timedelta(hours=14))).isoformat(),  # +14:00, 30 h ago
    (NOW - timedelta(hours=30)).astimezone(dt_timezone(timedelta(hours=-12))).isoformat(),  # -12:00, 30 h ago
    "2026-12-02T10:00:00-12:00",  # Shanghai's wall clock with a far-west offset: 20 h in the future
    "2026-11-01",  # a date alone
    "1720000000",  # epoch seconds
])
def test_the_api_refuses_old_or_future_received_times_however_written(api_for, channel_system, payload, received_at):
    response = api_for(channel_system).post(URL, {**payload, "received_at": received_at}, format="json")
    assert response.status_code == 400, (received_at, response.content)
    assert "received_at" in response.json()
    assert not WorkOrder.objects.exists()


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("received_at", [
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00",
])
def test_a_received_time_at_the_ends_of_the_calendar_is_a_400_not_a_500(api_for, channel_system, payload,
                                                                        received_at):
    response = api_for(channel_system).post(URL, {**payload, "received_at": received_at}, format="json")
    assert response.status_code == 400, (received_at, response.status_code)
    assert not WorkOrder.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_within_the_span_an_offset_is_read_as_the_moment_it_names(api_for, channel_system, payload):
    received = (NOW - timedelta(hours=6)).astimezone(dt_timezone(timedelta(hours=14)))
    response = api_for(channel_system).post(URL, {**payload, "received_at": received.isoformat()}, format="json")
    assert response.status_code == 201
    assert WorkOrder.objects.get().received_at == NOW - timedelta(hours=6)


def test_an_order_received_last_night_for_a_month_archived_this_morning_is_flagged(api_for, channel_system,
                                                                                  payload, province):
    """The 24 h span reaches back over a month's end: such an order lands in the closed month, and is flagged."""
    from reports.models import MonthlyReport

    first = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(first, tick=False):
        MonthlyReport.objects.create(region=province, month=datetime(2026, 11, 1).date(), trigger="scheduled",
                                     generated_by_name="system", html="<p></p>", pdf="reports/x.pdf")
        received = datetime(2026, 11, 30, 23, 0, tzinfo=SHANGHAI)
        response = api_for(channel_system).post(URL, {**payload, "received_at": received.isoformat()}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["number"].startswith("TS20261201")  # numbered on the day it was created
    assert body["closed_month_arrival"] == "2026-11-01"


@time_machine.travel(NOW, tick=False)
def test_an_idempotency_replay_cannot_carry_an_older_received_time(api_for, channel_system, payload):
    api = api_for(channel_system)
    assert api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="k1").status_code == 201
    old = {**payload, "received_at": "2025-06-15T09:00:00+08:00"}
    replay = api.post(URL, old, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert replay.status_code == 422  # same key, other content: a conflict, never a rewrite
    assert WorkOrder.objects.get().received_at == NOW


@time_machine.travel(NOW, tick=False)
def test_the_order_read_api_offers_no_way_to_change_an_order(api_for, channel_system, make_order):
    order = make_order(channel_system)
    api = api_for(channel_system)
    for method in ("put", "patch", "delete"):
        response = getattr(api, method)(f"/api/v1/orders/{order.number}/",
                                        {"received_at": "2025-06-15T09:00:00+08:00"}, format="json")
        assert response.status_code == 405, method
    assert WorkOrder.objects.get().received_at == NOW


@time_machine.travel(NOW, tick=False)
def test_a_narrow_token_cannot_create_at_all(api_for, channel_system, payload):
    response = api_for(channel_system, scopes=["orders:read"]).post(URL, payload, format="json")
    assert response.status_code == 403
