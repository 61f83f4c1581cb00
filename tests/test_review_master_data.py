"""Review of issue 15, item 5 (master data): paths that could still change a customer's name, tier, brand or home
region without the agent's confirmation, or beyond the agent's region. (The home-region move of another region's
customer is in test_review_lookup.py: it is where that move leaks.)"""

import pytest

from complaints.models import Customer, CustomerChange
from tests.test_views import intake_post

pytestmark = pytest.mark.django_db
PHONE = "13800138000"


def _record(customer):
    return Customer.objects.values("name", "tier", "brand", "home_region_id").get(pk=customer.pk)


def _payload(**extra):
    body = {"kind": "complaint", "channel": "hotline", "category": "NET-MOB-COV", "description": "信号差",
            "customer_phone": PHONE}
    body.update(extra)
    return body


def test_a_browser_intake_without_confirmation_only_proposes(client, hotline_agent, customer, coverage, shenzhen):
    before = _record(customer)
    client.force_login(hotline_agent)
    response = client.post("/intake/", intake_post(coverage, customer_name="李四", customer_tier="diamond",
                                                   customer_brand="gotone", customer_region=shenzhen.pk))
    assert response.status_code == 302
    assert _record(customer) == before
    assert not CustomerChange.objects.filter(applied=True).exists()


def test_an_api_intake_without_confirmation_only_proposes(api_for, channel_system, customer, coverage, shenzhen):
    before = _record(customer)
    for flag in ({}, {"update_customer": False}, {"update_customer": "false"}, {"update_customer": 0}):
        response = api_for(channel_system).post("/api/v1/orders/", _payload(
            customer_name="李四", customer_tier="diamond", customer_brand="gotone", customer_region=shenzhen.code,
            **flag), format="json")
        assert response.status_code == 201, flag
    assert _record(customer) == before


@pytest.mark.parametrize("flag", ["on", "true", "1", "yes"])
def test_another_citys_agent_cannot_confirm_a_rename_from_the_browser(client, outsider, customer, coverage, flag):
    before = _record(customer)
    client.force_login(outsider)
    response = client.post("/intake/", intake_post(coverage, customer_name="李四", customer_tier="diamond",
                                                   update_customer=flag))
    assert response.status_code == 200  # the form again, with the reason
    assert _record(customer) == before


def test_another_citys_agent_cannot_confirm_a_rename_through_the_api(api_for, outsider, customer, coverage):
    before = _record(customer)
    response = api_for(outsider).post("/api/v1/orders/", _payload(customer_name="李四", update_customer=True),
                                      format="json")
    assert response.status_code == 400 and "update_customer" in response.json()
    assert _record(customer) == before


def test_an_agent_cannot_move_a_customer_of_their_own_city_to_another_city(api_for, hotline_agent, customer,
                                                                           coverage, shenzhen):
    response = api_for(hotline_agent).post("/api/v1/orders/", _payload(customer_region=shenzhen.code,
                                                                       update_customer=True), format="json")
    assert response.status_code == 400 and "customer_region" in response.json()
    assert _record(customer)["home_region_id"] == customer.home_region_id


@pytest.mark.parametrize("persona", ["hotline_agent", "quality_manager", "province_dispatcher"])
def test_staff_without_admin_cannot_edit_customers_in_admin(request, client, customer, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.post(f"/admin/complaints/customer/{customer.pk}/change/",
                           {"phone": PHONE, "name": "李四", "tier": "diamond", "brand": "gotone"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Customer.objects.get(pk=customer.pk).name == "张三"


def test_a_narrow_token_cannot_change_anything(api_for, channel_system, customer, coverage):
    before = _record(customer)
    response = api_for(channel_system, scopes=["orders:read"]).post(
        "/api/v1/orders/", _payload(customer_name="李四", update_customer=True), format="json")
    assert response.status_code == 403
    assert _record(customer) == before


def test_logging_one_order_does_not_make_a_customer_without_region_anyones_to_rename(api_for, hotline_agent,
                                                                                    outsider, make_order):
    make_order(hotline_agent, customer_phone="13900139000", customer_name="王五", customer_tier="gold")
    nomad = Customer.objects.get(phone="13900139000")
    assert nomad.home_region is None and nomad.name == "王五"
    api = api_for(outsider)
    assert api.post("/api/v1/orders/", _payload(customer_phone="13900139000"), format="json").status_code == 201
    response = api.post("/api/v1/orders/", _payload(customer_phone="13900139000", customer_name="李四",
                                                    customer_tier="ordinary", update_customer=True), format="json")
    nomad.refresh_from_db()
    assert (nomad.name, nomad.tier) == ("王五", "gold"), response.status_code
