"""Review of issue 15, item 3 (throttling): ways around the per-token / per-user budget and the per-address login
limit. A probe the product resists is a regression test; a hole is an xfail(strict) that says what gets through."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from complaints.models import WorkOrder
from tests.test_views import intake_post

pytestmark = pytest.mark.django_db
URL = "/api/v1/orders/"
START = datetime(2026, 11, 23, 10, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
LOGIN = "/accounts/login/"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"


@pytest.fixture
def rates(settings):
    settings.API_THROTTLE_RATES = {"read": "4/10s", "write": "6/10s", "create": "3/10s"}
    return settings.API_THROTTLE_RATES


@pytest.fixture
def frozen():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def payload(i: int) -> dict:
    return {"kind": "complaint", "channel": "hotline", "category": "NET-MOB-COV", "description": f"信号弱 {i}",
            "customer_phone": "13800138000"}


def test_two_sessions_of_one_user_share_one_budget(hotline_agent, coverage, rates, frozen):
    first, second = Client(), Client()
    first.force_login(hotline_agent)
    second.force_login(hotline_agent)
    answers = [c.get(URL).status_code for c in (first, second, first, second, first, second)]
    assert answers == [200, 200, 200, 200, 429, 429]


def test_idempotency_replays_spend_the_budget_too(api_for, channel_system, coverage, rates, frozen):
    api = api_for(channel_system)
    answers = [api.post(URL, payload(0), format="json", HTTP_IDEMPOTENCY_KEY="same").status_code for _ in range(5)]
    assert answers == [201, 200, 200, 429, 429]  # the creation budget (3) counts replays: no free retries
    assert WorkOrder.objects.count() == 1


def test_head_and_options_spend_the_read_budget(api_for, channel_system, coverage, rates, frozen):
    api = api_for(channel_system)
    answers = [api.head(URL).status_code, api.options(URL).status_code, api.head(URL).status_code,
               api.options(URL).status_code, api.get(URL).status_code]
    assert answers == [200, 200, 200, 200, 429]


def test_attachment_uploads_spend_the_write_budget(api_for, channel_system, make_order, rates, frozen):
    order = make_order(channel_system)
    api = api_for(channel_system)
    answers = []
    for i in range(7):
        upload = io.BytesIO(GIF)
        upload.name = f"p{i}.gif"
        answers.append(api.post(f"/api/v1/orders/{order.number}/attachments/", {"file": upload},
                                format="multipart").status_code)
    assert answers == [201] * 6 + [429]


def test_a_workflow_action_spends_the_write_budget(api_for, channel_system, make_order, rates, frozen):
    order = make_order(channel_system)
    api = api_for(channel_system)
    answers = {api.post(f"/api/v1/orders/{order.number}/actions/comment/", {"text": "x"}, format="json").status_code
               for _ in range(7)}
    assert 429 in answers


def test_the_browser_intake_form_has_the_creation_budget_too(client, hotline_agent, coverage, rates, frozen):
    client.force_login(hotline_agent)
    answers = [client.post("/intake/", intake_post(coverage, description=f"信号差 {i}")).status_code
               for i in range(6)]
    assert WorkOrder.objects.count() == 3 and answers == [302, 302, 302, 429, 429, 429], answers


# --- the login limit ------------------------------------------------------------------------------------------------


def test_the_admin_login_counts_and_is_refused_with_the_site_login(settings, hotline_agent):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    for i in range(3):
        Client().post(LOGIN, {"username": f"guess{i}", "password": "x"}, REMOTE_ADDR="10.7.7.7")
        Client().post("/admin/login/", {"username": f"adm{i}", "password": "x"}, REMOTE_ADDR="10.7.7.7")
    for url in (LOGIN, "/admin/login/"):
        response = Client().post(url, {"username": "agent_gz", "password": "pw-for-tests-only"},
                                 REMOTE_ADDR="10.7.7.7")
        assert response.status_code == 429, url


def test_an_invented_x_forwarded_for_changes_nothing_without_a_trusted_proxy(settings, hotline_agent):
    settings.TRUST_X_FORWARDED_FOR = False
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    for i in range(6):
        Client().post(LOGIN, {"username": f"guess{i}", "password": "x"}, REMOTE_ADDR="10.8.8.8",
                      HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    refused = Client().post(LOGIN, {"username": "agent_gz", "password": "pw-for-tests-only"},
                            REMOTE_ADDR="10.8.8.8", HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert refused.status_code == 429


def test_a_spray_varying_the_usernames_case_and_spaces_is_one_address(settings, hotline_agent):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 4
    for name in ("agent_gz", "AGENT_GZ", " agent_gz", "Agent_Gz"):
        Client().post(LOGIN, {"username": name, "password": "wrong"}, REMOTE_ADDR="10.6.6.6")
    assert Client().post(LOGIN, {"username": "agent_gz", "password": "pw-for-tests-only"},
                         REMOTE_ADDR="10.6.6.6").status_code == 429


def test_a_spray_rotating_addresses_of_one_ipv6_prefix_is_one_address(settings, hotline_agent):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 4
    for i in range(4):
        Client().post(LOGIN, {"username": f"guess{i}", "password": "x"}, REMOTE_ADDR=f"2001:db8:15:1::{i + 1:x}")
    answer = Client().post(LOGIN, {"username": "agent_gz", "password": "pw-for-tests-only"},
                           REMOTE_ADDR="2001:db8:15:1::99")
    assert answer.status_code == 429
