"""REST API: channel systems create and read orders; errors are field by field; nothing half-saved."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from complaints.models import Customer, WorkOrder

URL = "/api/v1/orders/"


@pytest.fixture
def payload(coverage):
    return {
        "kind": "complaint",
        "channel": "hotline",
        "category": "NET-MOB-COV",
        "description": "客户家中信号弱",
        "customer_phone": "+86 138 0013 8000",
        "customer_name": "张三",
        "customer_tier": "gold",
    }


def test_channel_system_creates_an_order(api_for, channel_system, payload):
    response = api_for(channel_system).post(URL, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("TS")
    assert body["status"] == "queued"
    assert body["customer"]["phone"] == "13800138000"
    assert body["severity"] == "ordinary"  # the category's default
    order = WorkOrder.objects.get(number=body["number"])
    assert order.source == "api"
    assert order.first_responder == channel_system
    assert order.customer.tier == "gold"


def test_idempotency_key_makes_a_retry_return_the_first_order(api_for, channel_system, payload):
    client = api_for(channel_system)
    first = client.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="call-0001")
    retry = client.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="call-0001")
    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["number"] == first.json()["number"]
    assert WorkOrder.objects.count() == 1


def test_reusing_a_key_for_different_content_is_refused(api_for, channel_system, payload):
    client = api_for(channel_system)
    client.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="call-0002")
    other = client.post(URL, {**payload, "description": "另一件事"}, format="json", HTTP_IDEMPOTENCY_KEY="call-0002")
    assert other.status_code == 422
    assert WorkOrder.objects.count() == 1


def test_validation_errors_name_each_field(api_for, channel_system, payload):
    bad = {**payload, "channel": "fax", "category": "NOPE", "customer_phone": "12345", "severity": "huge",
           "description": ""}
    response = api_for(channel_system).post(URL, bad, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) >= {"channel", "category", "severity", "description"}
    assert "fax" in errors["channel"][0]
    assert WorkOrder.objects.count() == 0


def test_service_level_errors_are_field_errors_too(api_for, channel_system, payload):
    response = api_for(channel_system).post(URL, {**payload, "customer_phone": "12345", "category": "NET"},
                                            format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"customer_phone", "category"}
    assert Customer.objects.count() == 0


def test_future_received_time_is_refused(api_for, channel_system, payload):
    later = (timezone.now() + timedelta(days=1)).isoformat()
    response = api_for(channel_system).post(URL, {**payload, "received_at": later}, format="json")
    assert response.status_code == 400
    assert "received_at" in response.json()


def test_on_spot_without_authority_is_403_with_the_reason(api_for, channel_system, payload):
    response = api_for(channel_system).post(URL, {**payload, "resolve_on_spot": {"answer": "已解决"}}, format="json")
    assert response.status_code == 403
    assert "on the spot" in response.json()["detail"]
    assert WorkOrder.objects.count() == 0


def test_agent_with_authority_closes_on_the_spot_through_the_api(api_for, hotline_agent, payload):
    response = api_for(hotline_agent).post(
        URL, {**payload, "resolve_on_spot": {"answer": "已解释", "compensation": "20.00"}}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["status"] == "closed"
    assert response.json()["resolved_on_spot"] is True


def test_anonymous_and_roleless_callers_are_refused(no_role_user, api_for, payload):
    assert APIClient().post(URL, payload, format="json").status_code == 401
    assert APIClient().get(URL).status_code == 401
    assert api_for(no_role_user).get(URL).status_code == 403


def test_back_office_roles_may_read_but_not_create(api_for, billing_handler, payload):
    client = api_for(billing_handler)
    assert client.get(URL).status_code == 200
    response = client.post(URL, payload, format="json")
    assert response.status_code == 403
    assert "frontline" in response.json()["detail"].lower()


def test_read_one_by_number_respects_region(api_for, hotline_agent, outsider, make_order):
    order = make_order(hotline_agent)
    assert api_for(hotline_agent).get(f"{URL}{order.number}/").json()["number"] == order.number
    assert api_for(outsider).get(f"{URL}{order.number}/").status_code == 404


def test_list_filters(api_for, province_dispatcher, hotline_agent, make_order, dispute, shenzhen):
    a = make_order(hotline_agent)
    b = make_order(hotline_agent, category=dispute, customer_phone="13900000009")
    client = api_for(province_dispatcher)

    def numbers(**params):
        response = client.get(URL, params)
        assert response.status_code == 200, response.content
        return {row["number"] for row in response.json()["results"]}

    assert numbers() == {a.number, b.number}
    assert numbers(category="BIL") == {b.number}
    assert numbers(category="NET-MOB-COV") == {a.number}
    assert numbers(phone="+86 139 0000 0009") == {b.number}
    assert numbers(channel="hotline", status="queued") == {a.number, b.number}
    assert numbers(region="4401") == {a.number, b.number}
    assert numbers(region="4403") == set()
    assert numbers(department="gz-hotline") == {a.number, b.number}
    assert numbers(received_from=(timezone.now() + timedelta(hours=1)).isoformat()) == set()


def test_list_filter_errors_are_400(api_for, province_dispatcher):
    response = api_for(province_dispatcher).get(URL, {"channel": "fax", "phone": "1"})
    assert response.status_code == 400
    assert set(response.json()) == {"channel"}
    response = api_for(province_dispatcher).get(URL, {"phone": "1"})
    assert response.status_code == 400
    assert "phone" in response.json()


def test_customer_history_across_channels(api_for, hotline_agent, outsider, make_order):
    from tests.factories import channel

    make_order(hotline_agent, channel=channel("hall"))
    make_order(hotline_agent, channel=channel("app"))
    response = api_for(hotline_agent).get("/api/v1/customers/+8613800138000/orders/")
    assert response.status_code == 200
    assert {row["channel"] for row in response.json()} == {"hall", "app"}
    assert api_for(outsider).get("/api/v1/customers/13800138000/orders/").json() == []
    assert api_for(hotline_agent).get("/api/v1/customers/123/orders/").status_code == 400


def test_attachment_upload_is_checked_by_content(api_for, hotline_agent, make_order):
    order = make_order(hotline_agent)
    client = api_for(hotline_agent)
    url = f"{URL}{order.number}/attachments/"
    bad = client.post(url, {"file": SimpleUploadedFile("x.pdf", b"<html>", "application/pdf")}, format="multipart")
    assert bad.status_code == 400
    assert "file" in bad.json()
    good = client.post(url, {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.7 ...", "text/plain")},
                       format="multipart")
    assert good.status_code == 201
    assert good.json()["content_type"] == "application/pdf"


def test_notes_through_the_api(api_for, hotline_agent, outsider, make_order):
    order = make_order(hotline_agent)
    url = f"{URL}{order.number}/actions/note/"
    assert api_for(hotline_agent).post(url, {"body": "已联系客户"}, format="json").status_code == 200
    assert api_for(outsider).post(url, {"body": "越权"}, format="json").status_code == 404
    assert api_for(hotline_agent).post(url, {"body": ""}, format="json").status_code == 400
    assert order.notes.count() == 1


def test_openapi_schema_and_docs_are_served(client, hotline_agent):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/orders/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    assert b"cdn" not in docs.content.lower()


def test_list_pages_with_a_cursor(api_for, province_dispatcher, hotline_agent, make_order):
    created = {make_order(hotline_agent, customer_phone=f"1390000{i:04d}").number for i in range(5)}
    client = api_for(province_dispatcher)
    seen, url = [], URL + "?page_size=2"
    while url:
        body = client.get(url).json()
        seen += [row["number"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == 5 and set(seen) == created


def test_openapi_schema_is_valid_without_warnings(db, tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/orders/{number}/" in (tmp_path / "schema.yaml").read_text()
