"""Channel systems cannot backdate orders (issue 15, item 4): a live order's received time lies at most a configured
span in the past; numbers follow the day an order is created in the system; history comes only through the
historical import, which marks it."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from complaints.models import WorkOrder

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/orders/"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def payload(coverage):
    return {"kind": "complaint", "channel": "hotline", "category": "NET-MOB-COV", "description": "客户家中信号弱",
            "customer_phone": "13800138000"}


# --- the received time of a live order ------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("received_at, limit", [
    (NOW - timedelta(hours=25), "24 hours"),
    (NOW + timedelta(days=200), "5 minutes"),
    (datetime(2025, 6, 15, 9, 0, tzinfo=SHANGHAI), "24 hours"),
])
def test_the_api_refuses_a_received_time_too_old_or_in_the_future(api_for, channel_system, payload, received_at,
                                                                   limit):
    response = api_for(channel_system).post(URL, {**payload, "received_at": received_at.isoformat()}, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    errors = response.json()
    assert list(errors) == ["received_at"]
    assert limit in errors["received_at"][0]
    assert not WorkOrder.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_api_accepts_a_received_time_within_the_limit(api_for, channel_system, payload):
    received = NOW - timedelta(hours=23)
    response = api_for(channel_system).post(URL, {**payload, "received_at": received.isoformat()}, format="json")
    assert response.status_code == 201, response.content
    order = WorkOrder.objects.get()
    assert order.received_at == received


@time_machine.travel(NOW, tick=False)
def test_the_limit_is_a_setting(api_for, channel_system, payload, settings):
    settings.API_RECEIVED_AT_MAX_AGE_HOURS = 2
    received = NOW - timedelta(hours=3)
    response = api_for(channel_system).post(URL, {**payload, "received_at": received.isoformat()}, format="json")
    assert response.status_code == 400
    assert "2 hours" in response.json()["received_at"][0]
    assert not WorkOrder.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_intake_service_holds_the_same_limit_for_every_live_source(hotline_agent, make_order):
    """The browser's form has no received time; whoever calls the service directly is held to the rule too."""
    with pytest.raises(ValidationError) as error:
        make_order(hotline_agent, received_at=NOW - timedelta(days=3))
    assert "received_at" in error.value.message_dict
    assert not WorkOrder.objects.exists()


# --- numbers --------------------------------------------------------------------------------------------------


def test_a_live_order_is_numbered_on_the_day_it_is_created_not_the_day_it_claims(api_for, channel_system, payload):
    # 00:30 in Shanghai: the channel system says the call came in at 23:50 the day before.
    with time_machine.travel(datetime(2026, 12, 2, 0, 30, tzinfo=SHANGHAI), tick=False):
        earlier = api_for(channel_system).post(URL, {**payload, "customer_phone": "13800138001"}, format="json")
        late = api_for(channel_system).post(
            URL, {**payload, "received_at": datetime(2026, 12, 1, 23, 50, tzinfo=SHANGHAI).isoformat()},
            format="json")
    assert earlier.status_code == late.status_code == 201
    assert earlier.json()["number"] == "TS20261202000001"
    assert late.json()["number"] == "TS20261202000002"  # today's next number, after the one created before it
    assert late.json()["received_at"].startswith("2026-12-01T23:50")


def test_numbers_are_monotonic_in_creation_order_whatever_the_received_times(hotline_agent, make_order,
                                                                              channel_system):
    with time_machine.travel(NOW, tick=False):
        numbers = [make_order(channel_system, source="api", received_at=NOW - timedelta(hours=hours),
                              customer_phone=f"1380013{hours:04d}").number for hours in (1, 20, 5, 0)]
    assert numbers == sorted(numbers) == [f"TS20261202{n:06d}" for n in (1, 2, 3, 4)]
