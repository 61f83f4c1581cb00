"""The API answers in JSON whatever goes wrong: an oversized body is 413 (and no server error in the log), an
unknown action or address a JSON 404, an unknown query parameter 400 naming the known ones; `?q=` searches as the
browser's order search does, within what the caller may see, and is documented in the schema."""

import json
import logging

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.test import APIClient

from workflow.api import OrderListCreateApi
from workflow.services import ACTIONS

URL = "/api/v1/orders/"


@pytest.fixture
def dispatcher_api(api_for, province_dispatcher):
    return api_for(province_dispatcher)


def oversized() -> str:
    return json.dumps({"description": "信" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2)})


def test_an_oversized_body_is_413_in_json_and_no_error_is_logged(dispatcher_api, caplog):
    with caplog.at_level(logging.WARNING):
        response = dispatcher_api.post(URL, data=oversized(), content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in response.json()["detail"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_an_oversized_action_body_is_413_too(dispatcher_api, hotline_agent, make_order):
    order = make_order(hotline_agent)
    response = dispatcher_api.post(f"{URL}{order.number}/actions/note/", data=oversized(),
                                   content_type="application/json")
    assert response.status_code == 413 and "detail" in response.json()


def test_an_unknown_action_is_a_json_404_naming_the_actions(dispatcher_api, hotline_agent, make_order):
    order = make_order(hotline_agent)
    response = dispatcher_api.post(f"{URL}{order.number}/actions/fly/", {}, format="json")
    assert response.status_code == 404
    body = response.json()
    assert body["actions"] == list(ACTIONS)
    assert "fly" in body["detail"] and "claim" in body["detail"] and "transfer" in body["detail"]


def test_an_unknown_action_still_needs_a_caller_with_the_scope(api_for, hotline_agent, make_order, channel_system):
    order = make_order(hotline_agent)
    assert APIClient().post(f"{URL}{order.number}/actions/fly/", {}, format="json").status_code in (401, 403)
    from org.models import ApiScope

    reader = api_for(channel_system, scopes=[ApiScope.ORDERS_READ])
    assert reader.post(f"{URL}{order.number}/actions/fly/", {}, format="json").status_code == 403


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v2/orders/", "/api/", "/api/v1/orders/X/unknown/"])
def test_any_unknown_api_address_is_a_json_404(dispatcher_api, path):
    response = dispatcher_api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_the_site_keeps_its_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


# --- ?q= and the query parameters ---


def test_q_finds_an_order_by_number_or_the_customers_phone(dispatcher_api, hotline_agent, make_order):
    first = make_order(hotline_agent)
    second = make_order(hotline_agent, customer_phone="13900000002")
    by_number = dispatcher_api.get(URL, {"q": first.number.lower()}).json()["results"]
    assert [o["number"] for o in by_number] == [first.number]
    by_phone = dispatcher_api.get(URL, {"q": "+86 139 0000 0002"}).json()["results"]
    assert [o["number"] for o in by_phone] == [second.number]
    assert dispatcher_api.get(URL, {"q": "TS0000"}).json()["results"] == []


def test_q_searches_only_what_the_caller_may_see(api_for, hotline_agent, outsider, make_order):
    order = make_order(hotline_agent)  # Guangzhou
    assert api_for(outsider).get(URL, {"q": order.number}).json()["results"] == []  # Shenzhen's agent


def test_an_unknown_query_parameter_is_refused_with_the_known_ones(dispatcher_api, hotline_agent, make_order):
    make_order(hotline_agent)
    response = dispatcher_api.get(URL, {"serach": "TS1", "kind": "complaint"})
    assert response.status_code == 400
    body = response.json()
    assert body["unknown"] == ["serach"] and "q" in body["known"] and "serach" in body["detail"]


def _orders_list_parameters() -> list[dict]:
    schema = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    return schema["paths"]["/api/v1/orders/"]["get"]["parameters"]


def test_the_schema_documents_q_and_every_parameter_the_list_accepts():
    documented = {p["name"]: p for p in _orders_list_parameters()}
    assert "q" in documented and "mobile number" in documented["q"]["description"]
    assert {"cursor", "page_size"} <= set(documented)
    assert set(documented) | {"format"} == OrderListCreateApi.known_parameters()


def test_every_documented_parameter_is_accepted(dispatcher_api, hotline_agent, make_order, coverage):
    make_order(hotline_agent)
    values = {"q": "13800138000", "status": "queued", "kind": "complaint", "channel": "hotline",
              "category": coverage.code, "received_from": "2020-01-01T00:00:00+08:00",
              "received_to": "2099-01-01T00:00:00+08:00", "phone": "13800138000", "page_size": "10"}
    for parameter in _orders_list_parameters():
        name = parameter["name"]
        if name not in values:
            continue
        response = dispatcher_api.get(URL, {name: values[name]})
        assert response.status_code == 200, (name, response.content)
    paged = dispatcher_api.get(URL, {"page_size": 1}).json()
    assert dispatcher_api.get(paged["next"] or URL).status_code == 200  # the cursor link works too
