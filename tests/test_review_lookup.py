"""Review of issue 15, item 1 (customer look-up): the ways around the intake panel's fix that an agent of another
city, a back-office handler, a quality manager, a narrow token or an anonymous visitor would try. A probe the
product resists is a regression test; a hole is an xfail(strict) that says what leaks."""

import pytest

from complaints.models import WorkOrder
from tests.factories import channel

pytestmark = pytest.mark.django_db
PHONE = "13800138000"  # the Guangzhou customer 张三 of conftest


def _payload(**extra):
    body = {"kind": "complaint", "channel": "hotline", "category": "NET-MOB-COV", "description": "家里没有信号",
            "customer_phone": PHONE}
    body.update(extra)
    return body


@pytest.fixture
def vip(customer):
    customer.tier, customer.brand = "diamond", "gotone"
    customer.save(update_fields=["tier", "brand"])
    return customer


@pytest.fixture
def gz_order(hotline_agent, vip, make_order):
    return make_order(hotline_agent, description="客户反映家里没有信号")


# --- what resists ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["billing_handler", "quality_manager", "network_lead", "no_role_user"])
def test_the_intake_panels_refuse_who_does_not_take_complaints(request, client, gz_order, coverage, persona):
    client.force_login(request.getfixturevalue(persona))
    for url in (f"/intake/customer/?customer_phone={PHONE}&category={coverage.pk}", "/intake/categories/?q=信号"):
        response = client.get(url)
        assert response.status_code in (302, 403), (persona, url)
        assert "张三" not in response.content.decode()
        assert PHONE not in response.content.decode()


def test_the_other_citys_agent_reads_nothing_of_the_customer_through_the_history_api(api_for, outsider, gz_order):
    api = api_for(outsider)
    for url in (f"/api/v1/customers/{PHONE}/orders/", f"/api/v1/orders/?phone={PHONE}", f"/api/v1/orders/?q={PHONE}",
                f"/api/v1/customers/+86{PHONE}/orders/", f"/api/v1/orders/?q=0086{PHONE}"):
        response = api.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert gz_order.number not in body and "张三" not in body and "diamond" not in body, url


def test_the_other_citys_agent_reads_nothing_through_the_order_list_and_the_order_number(client, outsider, gz_order):
    client.force_login(outsider)
    for url in (f"/orders/?q={PHONE}", f"/orders/?phone={PHONE}", f"/orders/?q={gz_order.number}",
                f"/orders/?q={gz_order.number.lower()}"):
        body = client.get(url).content.decode()  # (the query itself is echoed in the search box and language form)
        assert f"/orders/{gz_order.number}/" not in body and "张三" not in body, url
    for method, url in (("get", f"/orders/{gz_order.number}/"), ("post", f"/orders/{gz_order.number}/phone/"),
                        ("get", f"/api/v1/orders/{gz_order.number}/"),
                        ("get", f"/api/v1/orders/{gz_order.number}/timeline/")):
        response = getattr(client, method)(url)
        assert response.status_code in (403, 404), url
        assert "张三" not in response.content.decode() and PHONE not in response.content.decode(), url


def test_the_repeat_warning_of_the_api_create_does_not_name_another_citys_order(api_for, outsider, gz_order):
    response = api_for(outsider).post("/api/v1/orders/", _payload(), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["is_repeat"] and body["repeat_of"] is None
    assert gz_order.number not in response.content.decode()


def test_a_narrow_token_cannot_log_an_order_to_learn_the_customer(api_for, channel_system, gz_order):
    response = api_for(channel_system, scopes=["orders:read"]).post("/api/v1/orders/", _payload(), format="json")
    assert response.status_code == 403
    assert "张三" not in response.content.decode()


def test_the_track_page_needs_number_and_phone_and_answers_alike(client, gz_order):
    wrong = client.post("/track/", {"number": gz_order.number, "phone": "13900139000"}).content.decode()
    unknown = client.post("/track/", {"number": "TS209901010000001", "phone": PHONE}).content.decode()
    assert "张三" not in wrong and "张三" not in unknown
    assert "信号" not in wrong.split("<main", 1)[-1] or "家里没有信号" not in wrong


def test_a_quality_manager_sees_the_province_but_may_not_use_the_intake_panel(client, quality_manager, gz_order):
    """Province staff may open the province's orders (the visibility rule); the panel itself is for intake only."""
    client.force_login(quality_manager)
    assert client.get(f"/intake/customer/?customer_phone={PHONE}").status_code == 403


# --- holes ---------------------------------------------------------------------------------------------------------


def test_logging_an_order_does_not_tell_another_citys_agent_who_the_customer_is(api_for, outsider, gz_order):
    response = api_for(outsider).post("/api/v1/orders/", _payload(description="信号差"), format="json")
    assert response.status_code == 201
    customer = response.json()["customer"]
    assert customer["name"] != "张三"
    assert customer["tier"] != "diamond"


def test_the_order_page_of_an_order_the_agent_logged_does_not_name_another_citys_customer(
        client, outsider, gz_order, make_order):
    mine = make_order(outsider, description="信号差")
    client.force_login(outsider)
    body = client.get(f"/orders/{mine.number}/").content.decode()
    assert "张三" not in body


def test_another_citys_agent_cannot_take_over_a_customer_by_moving_them(api_for, outsider, shenzhen, gz_order,
                                                                        client):
    response = api_for(outsider).post("/api/v1/orders/", _payload(
        customer_region=shenzhen.code, customer_name="李四", customer_tier="ordinary", update_customer=True),
        format="json")
    gz_order.customer.refresh_from_db()
    assert response.status_code == 400
    assert gz_order.customer.name == "张三" and gz_order.customer.home_region.code == "4401"


def test_an_agent_without_update_cannot_move_the_order_of_a_customer_into_their_city_to_read_it(
        api_for, outsider, shenzhen, gz_order):
    """Typing one's own city as the customer's region places this order there (by design) but never moves the
    customer or their other orders."""
    response = api_for(outsider).post("/api/v1/orders/", _payload(customer_region=shenzhen.code), format="json")
    assert response.status_code == 201
    gz_order.customer.refresh_from_db()
    assert gz_order.customer.home_region.code == "4401"
    assert WorkOrder.objects.get(pk=gz_order.pk).region.code == "4401"
    history = api_for(outsider).get(f"/api/v1/customers/{PHONE}/orders/").json()
    assert gz_order.number not in [o["number"] for o in history]


def test_channel_fixture_is_hotline():
    assert channel("hotline").code == "hotline"


def test_another_citys_order_answers_like_an_unknown_number(client, api_for, outsider, gz_order):
    """An order number of another city is not confirmed either: the same answer as a number that does not exist."""
    client.force_login(outsider)
    api = api_for(outsider)
    for number in (gz_order.number, "TS20990101000001"):
        assert client.get(f"/orders/{number}/").status_code == 404
        assert client.get(f"/orders/{number}/case/").status_code in (404, 405)
        assert api.get(f"/api/v1/orders/{number}/").status_code == 404
        assert api.get(f"/api/v1/orders/{number}/timeline/").status_code == 404
        assert api.get("/api/v1/orders/", {"q": number}).json()["results"] == []
