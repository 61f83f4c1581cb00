"""Customers' phone numbers: full for the roles that call customers, masked (138****8000) for the quality team,
on dashboard drill-downs and in exports; a reveal is a permission and leaves a row."""

import csv
import io

import pytest
from django.contrib.auth.models import Group, Permission

from complaints.models import PhoneDisclosure
from org import roles
from reports.models import ExportRecord
from tests.factories import UserFactory

FULL, MASKED = "13800138000", "138****8000"
WEEK = "period=custom&start=2026-11-02&end=2026-11-08"


def _revoke(role, codename):
    Group.objects.get(name=role).permissions.remove(Permission.objects.get(codename=codename))


@pytest.fixture
def order(make_order, hotline_agent):
    return make_order(hotline_agent, contact_phone="020-87654321")


def test_the_agent_sees_the_full_number_and_the_quality_manager_a_masked_one(login_client, order, hotline_agent,
                                                                           quality_manager):
    page = login_client(hotline_agent).get(f"/orders/{order.number}/").content.decode()
    assert FULL in page and "02087654321" in page and "Show full number" not in page
    page = login_client(quality_manager).get(f"/orders/{order.number}/").content.decode()
    assert FULL not in page and "02087654321" not in page
    assert MASKED in page and "020****4321" in page and "Show full number" in page
    listing = login_client(quality_manager).get("/orders/?number=" + order.number).content.decode()
    assert order.number in listing and FULL not in listing and MASKED in listing


def test_a_reveal_shows_the_numbers_and_is_logged(login_client, order, quality_manager):
    client = login_client(quality_manager)
    answer = client.post(f"/orders/{order.number}/phone/", {"page": "order_detail"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    body = answer.content.decode()
    assert FULL in body and "02087654321" in body and "<html" not in body
    disclosure = PhoneDisclosure.objects.get()
    assert (disclosure.user, disclosure.order, disclosure.customer_id, disclosure.page) == (
        quality_manager, order, order.customer_id, "order_detail")
    # Without htmx the same POST answers with a page of its own.
    page = client.post(f"/orders/{order.number}/phone/", {"page": "order_detail"}).content.decode()
    assert FULL in page and "<html" in page
    assert PhoneDisclosure.objects.count() == 2


def test_a_reader_who_sees_numbers_anyway_is_not_logged(login_client, order, hotline_agent):
    answer = login_client(hotline_agent).post(f"/orders/{order.number}/phone/", {"page": "order_detail"})
    assert answer.status_code == 200 and FULL in answer.content.decode()
    assert not PhoneDisclosure.objects.exists()


def test_a_reveal_without_the_permission_or_the_order_is_refused_and_leaves_nothing(login_client, order, outsider,
                                                                                    quality_manager, client):
    assert login_client(outsider).post(f"/orders/{order.number}/phone/").status_code == 404  # another city's order
    _revoke(roles.QUALITY_MANAGER, "unmask_phone")
    manager = type(quality_manager).objects.get(pk=quality_manager.pk)  # a fresh permission cache
    refused = login_client(manager).post(f"/orders/{order.number}/phone/", {"page": "order_detail"})
    assert refused.status_code == 403
    page = login_client(manager).get(f"/orders/{order.number}/").content.decode()
    assert "Show full number" not in page and FULL not in page
    client.logout()
    assert client.post(f"/orders/{order.number}/phone/").status_code == 302  # to the login
    assert client.get(f"/orders/{order.number}/phone/").status_code in (302, 405)
    assert not PhoneDisclosure.objects.exists()


def test_a_reveal_from_an_unknown_page_is_a_clear_error(login_client, order, quality_manager):
    answer = login_client(quality_manager).post(f"/orders/{order.number}/phone/", {"page": "elsewhere"})
    assert answer.status_code == 400 and "Unknown page" in answer.content.decode()
    assert not PhoneDisclosure.objects.exists()


def test_the_follow_up_page_masks_and_offers_the_reveal(login_client, order, quality_manager):
    from quality.services import follow_up_open

    follow_up = follow_up_open(order=order, reason="low_rating", rating=1)
    page = login_client(quality_manager).get(f"/follow-ups/{follow_up.pk}/").content.decode()
    assert MASKED in page and FULL not in page and f"/orders/{order.number}/phone/" in page
    listing = login_client(quality_manager).get("/follow-ups/").content.decode()
    assert MASKED in listing and FULL not in listing


def test_dashboard_drill_downs_mask_even_for_roles_that_see_numbers(login_client, week, network_lead,
                                                                    quality_manager):
    phone = week["O2"].customer.phone
    for user in (network_lead, quality_manager):
        page = login_client(user).get(f"/dashboard/orders/?kpi=volume&{WEEK}").content.decode()
        assert week["O2"].number in page and phone not in page and f"{phone[:3]}****{phone[-4:]}" in page


def test_exports_mask_by_default_and_full_numbers_are_recorded(login_client, week, quality_manager):
    client = login_client(quality_manager)
    phone = week["O2"].customer.phone
    answer = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    rows = rows[rows.index([]) + 1:]  # after the header block that says what the file is
    assert rows[0][0] == "Number" and any(r[0] == week["O2"].number for r in rows[1:])
    assert phone not in answer.content.decode() and f"{phone[:3]}****{phone[-4:]}" in answer.content.decode()
    record = ExportRecord.objects.get()
    assert (record.user, record.table, record.unmasked, record.rows) == (quality_manager, "orders", False,
                                                                          len(rows) - 1)
    full = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=csv&unmask=1").content.decode("utf-8-sig")
    assert phone in full
    assert ExportRecord.objects.filter(unmasked=True, user=quality_manager).count() == 1


def test_full_number_exports_need_the_permission(login_client, week, quality_manager):
    _revoke(roles.QUALITY_MANAGER, "unmask_phone")
    client = login_client(type(quality_manager).objects.get(pk=quality_manager.pk))
    page = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}").content.decode()
    assert "unmask=1" not in page
    assert client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=xlsx&unmask=1").status_code == 403
    assert not ExportRecord.objects.exists()
    assert client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=pdf").status_code == 404


def test_the_api_masks_for_callers_who_do_not_need_numbers(api_for, order, channel_system, quality_manager):
    detail = api_for(channel_system).get(f"/api/v1/orders/{order.number}/").json()
    assert detail["customer"]["phone"] == FULL and detail["contact_phone"] == "02087654321"
    client = api_for(quality_manager)
    detail = client.get(f"/api/v1/orders/{order.number}/").json()
    assert detail["customer"]["phone"] == MASKED and detail["contact_phone"] == "020****4321"
    listing = client.get("/api/v1/orders/").json()
    assert [o["customer"]["phone"] for o in listing["results"]] == [MASKED]
    history = client.get(f"/api/v1/customers/{FULL}/orders/").json()
    assert [o["customer"]["phone"] for o in history] == [MASKED]
    assert FULL not in str(api_for(quality_manager).get("/api/v1/orders/").content)


def test_admin_masks_for_administrators_without_the_permission(client, order):
    admin = UserFactory(username="admin_role", is_staff=True, department=None, roles=[roles.ADMIN])
    admin.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "view_workorder",
                                                                        "view_phonedisclosure"]))
    client.force_login(admin)
    for url in ("/admin/complaints/customer/", f"/admin/complaints/customer/{order.customer_id}/change/",
                "/admin/complaints/workorder/", f"/admin/complaints/workorder/{order.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert FULL not in page.content.decode() and MASKED in page.content.decode(), url
    assert client.get("/admin/complaints/phonedisclosure/").status_code == 200
    assert client.get("/admin/complaints/phonedisclosure/add/").status_code == 403
    # A superuser holds every permission implicitly, but not this one: full numbers need an explicit grant.
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True, department=None)
    client.force_login(superuser)
    listing = client.get("/admin/complaints/customer/").content.decode()
    assert FULL not in listing and MASKED in listing


# --- one rule for every surface: a superuser is masked unless granted the permission explicitly -------------------


@pytest.fixture
def administrator(db):
    """The demo's administrator: a superuser in the administrators' group (which may reveal, not see)."""
    return UserFactory(username="root", is_staff=True, is_superuser=True, department=None, roles=[roles.ADMIN])


def test_an_administrator_sees_masked_numbers_on_pages_admin_and_api(client, api_for, order, administrator):
    from quality.services import follow_up_open

    follow_up = follow_up_open(order=order, reason="low_rating", rating=1)
    client.force_login(administrator)
    for url in (f"/orders/{order.number}/", "/orders/?number=" + order.number, f"/follow-ups/{follow_up.pk}/",
                "/admin/complaints/customer/", f"/admin/complaints/customer/{order.customer_id}/change/",
                "/admin/complaints/workorder/", f"/admin/complaints/workorder/{order.pk}/change/",
                f"/admin/quality/followup/{follow_up.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200, url
        body = page.content.decode()
        assert FULL not in body and "02087654321" not in body, url
    assert MASKED in client.get(f"/orders/{order.number}/").content.decode()
    assert "Show full number" in client.get(f"/orders/{order.number}/").content.decode()
    detail = api_for(administrator).get(f"/api/v1/orders/{order.number}/").json()
    assert detail["customer"]["phone"] == MASKED and detail["contact_phone"] == "020****4321"


def test_admin_search_by_full_number_still_finds_the_customer_and_the_order(client, order, administrator):
    client.force_login(administrator)
    customers = client.get(f"/admin/complaints/customer/?q={FULL}").content.decode()
    assert MASKED in customers and "1 result" in customers
    orders = client.get(f"/admin/complaints/workorder/?q={FULL}").content.decode()
    assert order.number in orders
    assert order.number not in client.get("/admin/complaints/workorder/?q=13900000000").content.decode()


def test_an_administrators_reveal_leaves_a_disclosure_row(client, order, administrator):
    client.force_login(administrator)
    answer = client.post(f"/orders/{order.number}/phone/", {"page": "order_detail"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and FULL in answer.content.decode()
    disclosure = PhoneDisclosure.objects.get()
    assert (disclosure.user, disclosure.order) == (administrator, order)


@pytest.mark.parametrize("grant", ["user", "group"])
def test_a_superuser_granted_the_permission_explicitly_sees_full_numbers(client, order, grant):
    permission = Permission.objects.get(codename="view_full_phone")
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True, department=None)
    if grant == "user":
        superuser.user_permissions.add(permission)
    else:
        group = Group.objects.create(name="operators who call customers")
        group.permissions.add(permission)
        superuser.groups.add(group)
    client.force_login(superuser)
    assert FULL in client.get(f"/orders/{order.number}/").content.decode()
    assert FULL in client.get("/admin/complaints/customer/").content.decode()
    client.post(f"/orders/{order.number}/phone/", {"page": "order_detail"})
    assert not PhoneDisclosure.objects.exists()  # seeing numbers is the role's work: nothing to disclose


def test_notification_texts_and_emails_mask_numbers_for_readers_without_the_permission(login_client, order,
                                                                                     quality_manager,
                                                                                     network_handler, mailoutbox):
    from workflow.models import Notification
    from workflow.notifications import notifications_send_pending, notify

    quality_manager.email, network_handler.email = "qm@example.com", "nh@example.com"
    quality_manager.save(update_fields=["email"])
    network_handler.save(update_fields=["email"])
    notify(recipients=[quality_manager, network_handler], order=order, kind=Notification.Kind.ESCALATED,
           comment="客户 138-0013-8000 要求回电，联系电话 020-87654321")
    inbox = login_client(quality_manager).get("/notifications/").content.decode()
    assert "138****8000" in inbox and "020****4321" in inbox and "0013-8000" not in inbox
    inbox = login_client(network_handler).get("/notifications/").content.decode()
    assert "138-0013-8000" in inbox
    import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    with time_machine.travel(datetime.datetime(2026, 12, 2, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        notifications_send_pending()  # in working hours: ordinary orders' e-mails wait for them
    # An e-mail leaves the working screens: its text passes the personal-data check for every reader (issue 15),
    # the handler reads the number on the order's page, where the link leads.
    mails = {mail.to[0]: mail.body for mail in mailoutbox}
    for body in mails.values():
        assert "0013-8000" not in body and "87654321" not in body and "4321" not in body
        assert "客户 [电话] 要求回电，联系电话 [电话]" in body and f"/orders/{order.number}/" in body


def test_log_lines_never_carry_a_full_number(client, caplog, settings):
    """Django logs a refused request's path; the customer-history URL has the number in it."""
    import logging

    from complaints.phone import PhoneMaskFilter

    assert "phones" in settings.LOGGING["handlers"]["console"]["filters"]
    caplog.handler.addFilter(PhoneMaskFilter())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(f"/api/v1/customers/{FULL}/orders/").status_code in (401, 403)
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert MASKED in caplog.text and FULL not in caplog.text and FULL not in record.getMessage()


def test_the_phone_rule_masks_numbers_inside_free_text():
    from complaints.phone import mask_in_text

    assert mask_in_text("请回电13800138000或 +86 139-1234-5678，座机020-87654321") == (
        "请回电138****8000或 139****5678，座机020****4321")
    # Order numbers, ID cards and amounts are not phone numbers.
    for text in ("TS20261102000001", "440106199001011234", "金额 1380013.80 元"):
        assert mask_in_text(text) == text


ROLES = ["hotline_agent", "network_handler", "network_lead", "province_dispatcher", "quality_manager",
         "administrator"]


@pytest.mark.parametrize("role", ROLES)
def test_exports_as_each_role(request, login_client, week, role):
    """Dashboard drill-down exports mask for every role; the full-number export is for those who may see or
    reveal numbers, and is recorded as such; roles without dashboards export nothing."""
    user = request.getfixturevalue(role)
    client = login_client(user)
    phone = week["O2"].customer.phone
    masked = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=csv")
    if role in ("hotline_agent", "network_handler"):
        assert masked.status_code == 403
        assert client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=csv&unmask=1").status_code == 403
        assert not ExportRecord.objects.exists()
        return
    assert masked.status_code == 200
    assert phone not in masked.content.decode("utf-8-sig")
    full = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=xlsx&unmask=1")
    assert full.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(full.content)).worksheets[1]
    numbers = {c.value for row in sheet.iter_rows() for c in row}
    visible = role != "network_lead" or week["O2"].number in numbers  # a lead sees the department's orders
    assert (phone in numbers) == visible
    assert list(ExportRecord.objects.order_by("id").values_list("unmasked", flat=True)) == [False, True]


def test_numbers_typed_into_an_orders_text_follow_the_same_rule(client, login_client, api_for, make_order,
                                                               hotline_agent, quality_manager, administrator):
    order = make_order(hotline_agent, description="客户要求回电 139-1234-5678，白天打 13800138000")
    text_masked = ("139****5678", "138****8000")
    page = login_client(hotline_agent).get(f"/orders/{order.number}/").content.decode()
    assert "139-1234-5678" in page
    for reader in (quality_manager, administrator):
        page = login_client(reader).get(f"/orders/{order.number}/").content.decode()
        assert "139-1234-5678" not in page and FULL not in page and all(m in page for m in text_masked)
        detail = api_for(reader).get(f"/api/v1/orders/{order.number}/").json()
        assert detail["description"] == "客户要求回电 139****5678，白天打 138****8000"
    assert api_for(hotline_agent).get(f"/api/v1/orders/{order.number}/").json()["description"] == order.description
    client.force_login(administrator)
    change = client.get(f"/admin/complaints/workorder/{order.pk}/change/").content.decode()
    assert "139-1234-5678" not in change and "139****5678" in change


def test_admin_records_kept_as_evidence_mask_numbers_in_their_text(client, order, administrator, quality_manager,
                                                                   network_handler):
    """A notification's comment (and any text of a read-only record) in admin follows the phone rule."""
    from workflow.models import Notification
    from workflow.notifications import notify

    (notification, *_rest) = notify(recipients=[network_handler], order=order, kind=Notification.Kind.ESCALATED,
                                    comment="客户改用 139-1234-5678 联系")
    client.force_login(administrator)
    page = client.get(f"/admin/workflow/notification/{notification.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "139-1234-5678" not in body and "139****5678" in body
    granted = UserFactory(username="root2", is_staff=True, is_superuser=True, department=None)
    granted.user_permissions.add(Permission.objects.get(codename="view_full_phone"))
    client.force_login(granted)
    assert "139-1234-5678" in client.get(f"/admin/workflow/notification/{notification.pk}/change/").content.decode()
