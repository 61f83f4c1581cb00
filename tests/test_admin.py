"""Django admin: only staff get in; orders and the audit trail cannot be edited there."""

import pytest

from complaints.models import AuthorityLevel, Category
from tests.factories import UserFactory


@pytest.fixture
def admin_client(client, province):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True, department=None)
    client.force_login(admin)
    return client


def test_frontline_agents_cannot_enter_admin(client, hotline_agent):
    client.force_login(hotline_agent)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("model", ["org/region", "org/department", "org/user", "complaints/channel",
                                   "complaints/category", "complaints/customer", "complaints/authoritylevel",
                                   "complaints/intakepolicy", "complaints/workorder", "workflow/orderevent"])
def test_admin_lists_search_and_filter(admin_client, model, hotline_agent, make_order):
    make_order(hotline_agent)
    response = admin_client.get(f"/admin/{model}/", {"q": "138"})
    assert response.status_code == 200


def test_orders_and_audit_trail_are_read_only_in_admin(admin_client, hotline_agent, make_order):
    order = make_order(hotline_agent)
    event = order.events.first()
    assert admin_client.get("/admin/complaints/workorder/add/").status_code == 403
    assert admin_client.post(f"/admin/complaints/workorder/{order.pk}/change/", {"status": "closed"}).status_code == 403
    assert admin_client.post(f"/admin/complaints/workorder/{order.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.post(f"/admin/workflow/orderevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.post(f"/admin/workflow/orderevent/{event.pk}/change/", {"comment": "x"}).status_code == 403
    order.refresh_from_db()
    assert order.status == "queued"
    assert order.events.count() == 2


def test_admin_adds_a_category_under_a_parent(admin_client, category_tree):
    response = admin_client.post("/admin/complaints/category/add/", {
        "code": "NET-MOB-IND", "name": "室内覆盖", "name_en": "Indoor coverage", "parent": category_tree["NET-MOB"].pk,
        "default_severity": "ordinary", "standard_answer": "", "is_active": "on", "sort_order": 0,
    })
    assert response.status_code == 302, response.content
    created = Category.objects.get(code="NET-MOB-IND")
    assert created.level == 3
    assert created.path == "/NET/NET-MOB/NET-MOB-IND/"
    assert created.pinyin_initials == "snfg"


def test_admin_refuses_a_category_cycle(admin_client, category_tree):
    net = category_tree["NET"]
    response = admin_client.post(f"/admin/complaints/category/{net.pk}/change/", {
        "code": "NET", "name": "网络质量", "name_en": "", "parent": category_tree["NET-MOB-COV"].pk,
        "default_severity": "ordinary", "standard_answer": "", "is_active": "on", "sort_order": 0,
    })
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    net.refresh_from_db()
    assert net.parent is None


def test_admin_refuses_unknown_kinds_in_an_authority_level(admin_client):
    from django.contrib.auth.models import Group

    role = Group.objects.get(name="frontline_agent")
    response = admin_client.post("/admin/complaints/authoritylevel/add/", {
        "role": role.pk, "kinds": '["complaint", "rant"]', "severities": '["ordinary"]',
        "max_compensation": "10", "effective_from": "2030-01-01", "note": "",
    })
    assert response.status_code == 200
    assert "kinds" in response.context["adminform"].form.errors
    assert not AuthorityLevel.objects.filter(effective_from="2030-01-01").exists()


def test_admin_cancels_orders_through_the_service_with_a_reason(admin_client, hotline_agent, make_order):
    orders = [make_order(hotline_agent, customer_phone=f"1390000000{i}") for i in range(2)]
    url = "/admin/complaints/workorder/"
    selected = {"action": "cancel_orders", "_selected_action": [o.pk for o in orders], "index": 0}
    # First the reason is asked for; nothing changes yet.
    response = admin_client.post(url, selected)
    assert response.status_code == 200 and b"reason" in response.content
    assert all(o.status == "queued" for o in type(orders[0]).objects.filter(pk__in=[o.pk for o in orders]))
    response = admin_client.post(url, {**selected, "apply": "1", "reason_kind": "duplicate", "reason": "批量重复"})
    assert response.status_code == 302
    for order in orders:
        order.refresh_from_db()
        assert order.status == "cancelled"
        assert order.events.get(action="cancelled").comment == "批量重复"


def test_order_processes_are_read_only_in_admin(admin_client, hotline_agent, make_order):
    order = make_order(hotline_agent)
    assert admin_client.get(f"/admin/workflow/orderprocess/{order.process.pk}/change/").status_code == 200
    assert admin_client.post(f"/admin/workflow/orderprocess/{order.process.pk}/delete/",
                             {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/workflow/workflowpolicy/").status_code == 200


def test_staff_without_the_dispatcher_role_cannot_cancel_in_admin(client, hotline_agent, make_order, network_lead):
    network_lead.is_staff = True
    network_lead.save()
    from django.contrib.auth.models import Permission

    network_lead.user_permissions.add(Permission.objects.get(codename="view_workorder"))
    order = make_order(hotline_agent)
    client.force_login(network_lead)
    response = client.post("/admin/complaints/workorder/", {
        "action": "cancel_orders", "_selected_action": [order.pk], "index": 0, "apply": "1",
        "reason_kind": "duplicate", "reason": "试图越权"}, follow=True)
    assert "Only dispatchers" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "queued"


def test_admin_refuses_a_policy_that_would_tie(admin_client):
    data = {"name": "重大投诉二", "effective_from": "2020-01-01", "kind": "", "severity": "major",
            "customer_tier": "", "warn_percent": 80, "note": "",
            "limits-TOTAL_FORMS": 0, "limits-INITIAL_FORMS": 0, "limits-MIN_NUM_FORMS": 0, "limits-MAX_NUM_FORMS": 5}
    response = admin_client.post("/admin/workflow/timelimitpolicy/add/", data)
    assert response.status_code == 200 and "tie" in response.content.decode()
    response = admin_client.post("/admin/workflow/timelimitpolicy/add/", {
        **data, "effective_from": "2027-01-01", "limits-TOTAL_FORMS": 1, "limits-0-stage": "handle",
        "limits-0-amount": 6, "limits-0-unit": "clock_hours"})
    assert response.status_code == 302
    from workflow.models import TimeLimitPolicy

    assert TimeLimitPolicy.objects.get(effective_from="2027-01-01").limits.get().amount == 6


def test_admin_enters_a_local_holiday(admin_client):
    from workflow.models import BusinessCalendar, CalendarDay

    calendar = BusinessCalendar.objects.get(is_default=True)
    response = admin_client.post("/admin/workflow/calendarday/add/", {
        "calendar": calendar.pk, "date": "2026-12-08", "is_working": "", "source": "package", "note": "本地停电"})
    assert response.status_code == 302
    day = CalendarDay.objects.get(date="2026-12-08")
    assert not day.is_working and day.source == "admin"
    assert admin_client.get("/admin/workflow/businesscalendar/").status_code == 200
