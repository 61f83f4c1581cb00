"""Issue 15, items 1 and 5: the intake panels answer only those who take complaints, and show what the order
visibility rule lets them see; an intake proposes changes to the customer's record, and only an explicit
confirmation (limited to the agent's own region for the home region) changes it, logged."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from complaints import selectors
from complaints.models import Customer, CustomerChange, WorkOrder
from tests.factories import CustomerFactory, channel
from workflow.intake import order_create

PANEL = "/intake/customer/"


def _create(actor, coverage, **overrides):
    values = dict(kind="complaint", channel=channel("hotline"), category=coverage, severity="ordinary",
                  description="家里没有信号", customer_phone="13800138000")
    values.update(overrides)
    return order_create(actor=actor, **values)


# --- who may see the customer (selectors) ----------------------------------------------------------------------------


def test_the_customers_details_are_for_their_home_region_and_the_province(customer, hotline_agent, outsider,
                                                                          province_dispatcher, channel_system):
    for user in (hotline_agent, province_dispatcher, channel_system):
        assert selectors.customer_visible_to(user=user, customer=customer), user
    assert not selectors.customer_visible_to(user=outsider, customer=customer)


def test_a_customer_without_a_home_region_is_seen_by_who_may_open_one_of_their_orders(
        hotline_agent, outsider, make_order):
    make_order(hotline_agent, customer_phone="13900139000")  # a Guangzhou order
    nomad = Customer.objects.get(phone="13900139000")
    assert nomad.home_region is None
    assert selectors.customer_visible_to(user=hotline_agent, customer=nomad)
    assert not selectors.customer_visible_to(user=outsider, customer=nomad)
    record_only = CustomerFactory(phone="13700137000")  # no order anywhere: nothing to judge by, nothing to hide
    assert selectors.customer_visible_to(user=outsider, customer=record_only)


def test_the_panel_counts_the_orders_of_other_regions_without_showing_them(customer, hotline_agent, outsider,
                                                                           coverage, make_order):
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        old = make_order(hotline_agent)  # logged 40 days ago: outside the window
    earlier = make_order(hotline_agent)  # Guangzhou's
    own = make_order(outsider)  # logged by the Shenzhen agent: theirs to open (it is filed in Guangzhou)
    panel = selectors.intake_customer_for_user(user=outsider, phone="13800138000", category=coverage)
    assert panel.known and panel.customer is None  # a Guangzhou customer: no name, tier, brand, district
    assert [o.number for o in panel.history] == [own.number]
    assert panel.hidden_recent == 1 and panel.window_days == 30  # `earlier`; `old` is beyond the window
    assert panel.repeat == own and not panel.repeat_hidden  # the latest of the window, and theirs to open
    mine = selectors.intake_customer_for_user(user=hotline_agent, phone="13800138000", category=coverage)
    assert mine.customer == customer and mine.hidden_recent == 0
    assert {o.number for o in mine.history} == {earlier.number, old.number, own.number}
    assert mine.repeat.number == own.number and not mine.repeat_hidden


def test_a_repeat_in_another_city_is_announced_without_its_number(customer, hotline_agent, outsider, coverage,
                                                                  make_order):
    earlier = make_order(hotline_agent)
    panel = selectors.intake_customer_for_user(user=outsider, phone="13800138000", category=coverage)
    assert panel.repeat is None and panel.repeat_hidden
    result = _create(outsider, coverage)
    assert result.order.repeat_of == earlier  # still linked: the repeat rule is the province's
    assert not any(earlier.number in warning for warning in result.warnings)
    assert any("another region" in warning for warning in result.warnings)
    # Filed in Guangzhou (the customer's home region): the Guangzhou agent's repeat warning names it.
    assert any(result.order.number in w for w in _create(hotline_agent, coverage).warnings)


def test_the_order_page_and_the_api_name_only_the_repeats_the_reader_may_open(customer, hotline_agent, outsider,
                                                                               coverage, login_client, api_for):
    """The Shenzhen agent logs a repeat of a Guangzhou order: their own order is theirs to open, and it says it is
    a repeat, but neither the page nor the API names the Guangzhou order; the Guangzhou agent sees both numbers."""
    earlier = _create(hotline_agent, coverage).order
    theirs = _create(outsider, coverage).order
    assert theirs.repeat_of == earlier
    page = login_client(outsider).get(f"/orders/{theirs.number}/").content.decode()
    assert earlier.number not in page and "an order of another region" in page
    answer = api_for(outsider).get(f"/api/v1/orders/{theirs.number}/").json()
    assert answer["repeat_of"] is None and answer["is_repeat"] is True
    assert earlier.number not in str(api_for(outsider).get("/api/v1/orders/").json())
    mine = login_client(hotline_agent).get(f"/orders/{earlier.number}/").content.decode()
    assert theirs.number in mine  # "repeated by": Guangzhou's own region
    assert api_for(hotline_agent).get(f"/api/v1/orders/{theirs.number}/").json()["repeat_of"] == earlier.number


# --- item 5: intake proposes, confirmation changes (services) --------------------------------------------------------


def test_an_intake_does_not_overwrite_the_customers_record(customer, hotline_agent, coverage, shenzhen):
    order = _create(hotline_agent, coverage, customer_name="李四", customer_tier="gold", customer_brand="mzone").order
    customer.refresh_from_db()
    assert (customer.name, customer.tier, customer.brand) == ("张三", "ordinary", "other")
    assert (order.customer_tier, order.customer_brand) == ("gold", "mzone")  # the order keeps what was typed
    proposal = CustomerChange.objects.get()
    assert not proposal.applied and proposal.order == order and proposal.actor == hotline_agent
    assert proposal.changes == {"name": {"old": "张三", "new": "李四"}, "tier": {"old": "ordinary", "new": "gold"},
                                "brand": {"old": "other", "new": "mzone"}}


def test_the_same_values_as_the_record_propose_nothing(customer, hotline_agent, coverage):
    _create(hotline_agent, coverage, customer_name="张三", customer_tier="ordinary")
    assert not CustomerChange.objects.exists()


def test_a_confirmed_intake_updates_the_record_and_logs_it(customer, hotline_agent, coverage):
    order = _create(hotline_agent, coverage, customer_name="张叁", customer_tier="gold",
                    update_customer=True).order
    customer.refresh_from_db()
    assert (customer.name, customer.tier, customer.home_region.code) == ("张叁", "gold", "4401")
    change = CustomerChange.objects.get()
    assert change.applied and change.order == order and change.customer == customer
    assert change.actor == hotline_agent and change.actor_name == "王小红"
    assert change.changes == {"name": {"old": "张三", "new": "张叁"}, "tier": {"old": "ordinary", "new": "gold"}}


def test_an_agent_of_another_city_may_not_change_the_record(customer, outsider, coverage):
    with pytest.raises(ValidationError) as error:
        _create(outsider, coverage, customer_name="李四", update_customer=True)
    assert "update_customer" in error.value.message_dict
    assert WorkOrder.objects.count() == 0 and not CustomerChange.objects.exists()
    customer.refresh_from_db()
    assert customer.name == "张三"


def test_the_home_region_moves_only_into_the_agents_own_region(customer, hotline_agent, outsider, coverage,
                                                               shenzhen, tianhe, province_dispatcher):
    with pytest.raises(ValidationError) as error:
        _create(hotline_agent, coverage, customer_region=shenzhen, update_customer=True)
    assert "customer_region" in error.value.message_dict
    assert WorkOrder.objects.count() == 0
    _create(hotline_agent, coverage, customer_region=tianhe, update_customer=True)  # below the agent's city
    customer.refresh_from_db()
    assert customer.home_region == tianhe
    # The customer moved to Shenzhen: the Shenzhen agent may not take another city's customer over (the record is
    # Guangzhou's); the provincial centre, whose region covers both, moves them.
    with pytest.raises(ValidationError) as error:
        _create(outsider, coverage, customer_region=shenzhen, update_customer=True)
    assert "update_customer" in error.value.message_dict
    order = _create(province_dispatcher, coverage, customer_region=shenzhen, update_customer=True).order
    customer.refresh_from_db()
    assert customer.home_region == shenzhen and order.region == shenzhen
    moved = CustomerChange.objects.filter(applied=True).order_by("id").last()
    assert moved.changes == {"home_region": {"old": "440106", "new": "4403"}} and moved.actor == province_dispatcher


def test_a_region_typed_without_confirmation_places_that_order_only(customer, hotline_agent, channel_system,
                                                                    coverage, shenzhen, guangzhou):
    """The region goes with the order it was typed for; the customer's later orders stay where the record says."""
    first = _create(channel_system, coverage, customer_region=shenzhen).order
    assert first.region == shenzhen
    customer.refresh_from_db()
    assert customer.home_region == guangzhou
    assert CustomerChange.objects.get().changes == {"home_region": {"old": "4401", "new": "4403"}}
    later = _create(hotline_agent, coverage, description="又没信号了").order
    assert later.region == guangzhou


def test_a_confirmed_move_leaves_the_orders_already_received_where_they_were(customer, hotline_agent,
                                                                            province_dispatcher, coverage, shenzhen,
                                                                            guangzhou):
    before = _create(hotline_agent, coverage).order
    _create(province_dispatcher, coverage, customer_region=shenzhen, update_customer=True)
    before.refresh_from_db()
    assert before.region == guangzhou


def test_a_new_customer_is_stored_as_typed(outsider, coverage, guangzhou):
    _create(outsider, coverage, customer_phone="13600136000", customer_name="王五", customer_tier="silver",
            customer_brand="gotone", customer_region=guangzhou)
    created = Customer.objects.get(phone="13600136000")
    assert (created.name, created.tier, created.brand, created.home_region) == ("王五", "silver", "gotone", guangzhou)
    assert not CustomerChange.objects.exists()  # nothing was overwritten


# --- the panels over HTTP --------------------------------------------------------------------------------------------


@pytest.fixture
def guangzhou_history(customer, hotline_agent, make_order, coverage):
    return make_order(hotline_agent)


@pytest.mark.parametrize("persona", ["billing_handler", "network_lead", "quality_manager", "no_role_user"])
def test_only_those_who_take_complaints_may_use_the_intake_panels(client, request, persona, guangzhou_history,
                                                                   coverage):
    client.force_login(request.getfixturevalue(persona))
    for url in (f"{PANEL}?customer_phone=13800138000&category={coverage.pk}", "/intake/categories/?q=xhfg",
                "/intake/"):
        response = client.get(url)
        assert response.status_code == 403, (persona, url)
        body = response.content.decode()
        assert "张三" not in body and guangzhou_history.number not in body
        assert "13800138000" not in body  # the refusal does not echo the number asked for (language switch)


def test_anonymous_visitors_and_channel_tokens_get_no_panel(client, channel_system, guangzhou_history):
    from tests.conftest import api_client_for

    response = client.get(PANEL, {"customer_phone": "13800138000"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    token_client = api_client_for(channel_system)
    response = token_client.get(PANEL, {"customer_phone": "13800138000"})
    assert response.status_code == 302 and "张三" not in response.content.decode()


def test_an_agent_of_another_city_learns_only_that_the_caller_is_known(client, outsider, guangzhou_history,
                                                                       coverage):
    client.force_login(outsider)
    html = client.get(PANEL, {"customer_phone": "13800138000", "category": coverage.pk}).content.decode()
    assert "张三" not in html and "广州" not in html and "known-customer" not in html
    assert guangzhou_history.number not in html
    assert 'id="repeat-warning"' in html and "another region" in html
    assert 'id="hidden-orders"' in html and "1 order in the last 30 days" in html


def test_an_agent_of_the_customers_city_sees_everything(client, hotline_agent, guangzhou_history, coverage):
    client.force_login(hotline_agent)
    html = client.get(PANEL, {"customer_phone": "13800138000", "category": coverage.pk}).content.decode()
    assert "张三" in html and 'class="known-customer"' in html and "广州市" in html
    assert guangzhou_history.number in html and 'id="hidden-orders"' not in html


def test_the_province_dispatcher_sees_everything(client, province_dispatcher, guangzhou_history, coverage):
    client.force_login(province_dispatcher)
    html = client.get(PANEL, {"customer_phone": "13800138000", "category": coverage.pk}).content.decode()
    assert "张三" in html and guangzhou_history.number in html


def test_a_reader_who_sees_numbers_masked_gets_them_masked_in_the_panel(client, guangzhou_history, coverage):
    from org.models import User

    admin = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(admin)
    html = client.get(PANEL, {"customer_phone": "13800138000", "category": coverage.pk}).content.decode()
    assert "13800138000" not in html and "138****8000" in html and 'data-phone-masked="1"' in html
    assert "张三" in html  # a superuser sees every customer


def _post(coverage, **overrides):
    data = {"customer_phone": "13800138000", "customer_name": "张叁", "kind": "complaint", "channel": "hotline",
            "category": coverage.pk, "severity": "ordinary", "description": "家里没有信号", "note": "",
            "contact_phone": "", "customer_tier": "gold", "customer_brand": "", "answer": "", "compensation": ""}
    data.update(overrides)
    return data


def test_the_intake_form_changes_the_record_only_when_the_agent_ticks_the_box(client, hotline_agent, customer,
                                                                              coverage):
    client.force_login(hotline_agent)
    assert client.post("/intake/", _post(coverage)).status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.tier) == ("张三", "ordinary")
    assert client.post("/intake/", _post(coverage, update_customer="on")).status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.tier) == ("张叁", "gold")
    assert list(CustomerChange.objects.order_by("id").values_list("applied", flat=True)) == [False, True]


def test_the_intake_form_explains_a_refused_update_and_saves_nothing(client, outsider, customer, coverage):
    client.force_login(outsider)
    response = client.post("/intake/", _post(coverage, update_customer="on"))
    assert response.status_code == 200
    assert "update_customer" in response.context["form"].errors
    assert WorkOrder.objects.count() == 0
    customer.refresh_from_db()
    assert customer.name == "张三"


# --- the API ---------------------------------------------------------------------------------------------------------

API = "/api/v1/orders/"


def _api_payload(**overrides):
    data = {"kind": "complaint", "channel": "hotline", "category": "NET-MOB-COV", "description": "客户家中信号弱",
            "customer_phone": "13800138000", "customer_name": "张叁", "customer_tier": "gold"}
    data.update(overrides)
    return data


def test_the_api_proposes_unless_update_customer_is_true(api_for, channel_system, customer, coverage, shenzhen):
    client = api_for(channel_system)
    assert client.post(API, _api_payload(), format="json").status_code == 201
    customer.refresh_from_db()
    assert (customer.name, customer.tier) == ("张三", "ordinary")
    response = client.post(API, _api_payload(update_customer=True, customer_region="4403"), format="json")
    assert response.status_code == 201, response.content
    customer.refresh_from_db()
    assert (customer.name, customer.tier, customer.home_region.code) == ("张叁", "gold", "4403")
    assert CustomerChange.objects.filter(applied=True).get().actor == channel_system


def test_the_api_refuses_a_move_out_of_the_agents_region_as_a_field_error(api_for, hotline_agent, customer,
                                                                          coverage, shenzhen):
    response = api_for(hotline_agent).post(API, _api_payload(update_customer=True, customer_region="4403"),
                                           format="json")
    assert response.status_code == 400
    assert "customer_region" in response.json()
    assert WorkOrder.objects.count() == 0
    customer.refresh_from_db()
    assert customer.home_region.code == "4401"


def test_the_api_says_update_customer_must_be_a_boolean(api_for, channel_system, customer, coverage):
    response = api_for(channel_system).post(API, _api_payload(update_customer="perhaps"), format="json")
    assert response.status_code == 400 and "update_customer" in response.json()
