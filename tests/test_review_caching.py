"""Review of issue 15, item 6 (caching): answers with personal data reached in other ways than the fix's tests —
HEAD and OPTIONS, conditional requests, error and refusal pages, form errors, throttle and lockout answers, and
redirects. A probe the product resists is a regression test; a hole is an xfail(strict)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.test_private_caching import PNG, assert_not_stored
from tests.test_views import intake_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(make_order, hotline_agent):
    return make_order(hotline_agent, attachments=[SimpleUploadedFile("photo.png", PNG, "image/png")])


def test_head_requests_are_not_stored(login_client, api_for, hotline_agent, order):
    client = login_client(hotline_agent)
    attachment = order.attachments.get()
    for url in (f"/orders/{order.number}/", f"/orders/{order.number}/attachments/{attachment.pk}/",
                "/orders/?q=13800138000", "/intake/customer/?customer_phone=13800138000"):
        response = client.head(url)
        assert response.status_code in (200, 405), url  # the order page answers GET and POST only
        assert_not_stored(response)
    api = api_for(hotline_agent)
    for url in ("/api/v1/customers/13800138000/orders/", f"/api/v1/orders/{order.number}/"):
        assert_not_stored(api.head(url))
        assert_not_stored(api.options(url))


def test_a_conditional_request_is_answered_in_full_and_not_stored(login_client, hotline_agent, order):
    client = login_client(hotline_agent)
    attachment = order.attachments.get()
    for url in (f"/orders/{order.number}/", f"/orders/{order.number}/attachments/{attachment.pk}/"):
        first = client.get(url)
        assert not first.has_header("ETag") and not first.has_header("Last-Modified"), url
        again = client.get(url, HTTP_IF_MODIFIED_SINCE="Wed, 21 Oct 2099 07:28:00 GMT", HTTP_IF_NONE_MATCH="*")
        assert again.status_code == 200, url  # never a 304 that would tell the browser to use a kept copy
        assert_not_stored(again)


def test_an_intake_form_sent_back_with_errors_is_not_stored(login_client, hotline_agent, coverage):
    response = login_client(hotline_agent).post("/intake/", intake_post(coverage, description=""))
    assert response.status_code in (200, 400)
    assert "13800138000" in response.content.decode().replace(" ", "")  # the typed number is on the page
    assert_not_stored(response)


def test_the_api_throttle_and_validation_answers_are_not_stored(settings, api_for, channel_system, coverage):
    settings.API_THROTTLE_RATES = {"read": "1/10s", "write": "5/10s", "create": "5/10s"}
    api = api_for(channel_system)
    with time_machine.travel(datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        api.get("/api/v1/customers/13800138000/orders/")
        refused = api.get("/api/v1/customers/13800138000/orders/")
        assert refused.status_code == 429
        assert_not_stored(refused)
        bad = api.post("/api/v1/orders/", {"customer_phone": "13800138000", "description": "客户张三"}, format="json")
        assert bad.status_code == 400
        assert_not_stored(bad)


def test_the_login_lockout_page_is_not_stored(settings, hotline_agent):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 2
    for i in range(2):
        Client().post("/accounts/login/", {"username": f"g{i}", "password": "x"}, REMOTE_ADDR="10.5.5.5")
    locked = Client().post("/accounts/login/", {"username": "agent_gz", "password": "x"}, REMOTE_ADDR="10.5.5.5")
    assert locked.status_code == 429
    assert_not_stored(locked)


def test_refusals_and_redirects_of_a_signed_in_user_are_not_stored(login_client, quality_manager, hotline_agent,
                                                                   order):
    client = login_client(quality_manager)
    refused = client.get("/intake/customer/", {"customer_phone": "13800138000"})
    assert refused.status_code == 403 and "13800138000" not in refused.content.decode()
    assert_not_stored(refused)
    agent = login_client(hotline_agent)
    created = agent.post("/intake/", intake_post(order.category))
    assert created.status_code == 302 and "13800138000" not in created["Location"]
    assert_not_stored(created)


def test_a_server_error_page_is_not_stored(login_client, hotline_agent, monkeypatch):
    from complaints import views

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.selectors, "order_list_for_user", boom)
    client = login_client(hotline_agent)
    client.raise_request_exception = False
    response = client.get("/orders/?q=13800138000")
    assert response.status_code == 500
    assert_not_stored(response)
