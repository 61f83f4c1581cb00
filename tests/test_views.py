"""Browser pages through Django's test client: permissions, region isolation, bounded queries."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints.models import WorkOrder
from workflow.intake import OnSpotAnswer


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


def intake_post(coverage, **overrides):
    data = {"customer_phone": "138 0013 8000", "customer_name": "张三", "kind": "complaint", "channel": "hotline",
            "category": coverage.pk, "severity": "ordinary", "description": "信号差", "note": "",
            "contact_phone": "", "customer_tier": "", "customer_brand": "", "answer": "", "compensation": ""}
    data.update(overrides)
    return data


def test_anonymous_visitors_are_sent_to_login(client):
    for url in ("/", "/intake/", "/orders/", "/intake/customer/?customer_phone=13800138000"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_agent_logs_a_complaint_in_the_browser(login, hotline_agent, coverage):
    response = login(hotline_agent).post("/intake/", intake_post(coverage))
    order = WorkOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.number}/"
    assert order.source == "browser"


def test_intake_form_shows_field_errors_and_saves_nothing(login, hotline_agent, coverage):
    response = login(hotline_agent).post("/intake/", intake_post(coverage, customer_phone="555", description=""))
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"customer_phone", "description"}
    assert WorkOrder.objects.count() == 0


def test_authority_is_enforced_on_the_server_not_only_hidden(login, hotline_agent, coverage):
    client = login(hotline_agent)
    response = client.post("/intake/", intake_post(coverage, resolve_on_spot="on", answer="退款", compensation="500"))
    assert response.status_code == 200
    assert "resolve_on_spot" in response.context["form"].errors
    assert WorkOrder.objects.count() == 0
    response = client.post("/intake/", intake_post(coverage, resolve_on_spot="on", answer="退款", compensation="20"))
    assert response.status_code == 302
    assert WorkOrder.objects.get().resolved_on_spot


def test_handlers_and_quality_managers_cannot_open_intake(login, billing_handler, quality_manager, coverage):
    for user in (billing_handler, quality_manager):
        client = login(user)
        assert client.get("/intake/").status_code == 403
        assert client.post("/intake/", intake_post(coverage)).status_code == 403
    assert WorkOrder.objects.count() == 0


def test_a_user_without_role_sees_nothing(login, no_role_user):
    assert login(no_role_user).get("/orders/").status_code == 403


def test_outsider_from_another_city_cannot_see_or_touch_an_order(login, hotline_agent, outsider, make_order):
    order = make_order(hotline_agent, attachments=[SimpleUploadedFile("a.pdf", b"%PDF-1.4 x", "application/pdf")])
    attachment = order.attachments.get()
    client = login(outsider)
    assert client.get(f"/orders/{order.number}/").status_code == 404
    assert client.post(f"/orders/{order.number}/actions/note/", {"note-body": "x"}).status_code == 404
    assert client.get(f"/orders/{order.number}/attachments/{attachment.pk}/").status_code == 404
    listing = client.get("/orders/")
    assert order.number not in listing.content.decode()
    panel = client.get("/intake/customer/", {"customer_phone": "13800138000"})
    assert order.number not in panel.content.decode()
    assert order.notes.count() == 0


def test_province_staff_and_own_city_see_the_order(login, hotline_agent, province_dispatcher, quality_manager,
                                                    make_order):
    order = make_order(hotline_agent)
    for user in (hotline_agent, province_dispatcher, quality_manager):
        assert login(user).get(f"/orders/{order.number}/").status_code == 200


def test_attachment_download_for_an_allowed_user(login, hotline_agent, make_order):
    order = make_order(hotline_agent, attachments=[SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n000",
                                                                      "image/png")])
    response = login(hotline_agent).get(f"/orders/{order.number}/attachments/{order.attachments.get().pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_order_page_shows_history_timeline_and_notes(login, hotline_agent, make_order):
    earlier = make_order(hotline_agent, description="上个月的投诉")
    order = make_order(hotline_agent, note="内部备注：客户是老用户")
    page = login(hotline_agent).get(f"/orders/{order.number}/").content.decode()
    assert earlier.number in page
    assert "内部备注" in page
    assert "Linked as repeat complaint" in page


def test_customer_panel_warns_about_a_repeat_and_shows_the_standard_answer(login, hotline_agent, make_order,
                                                                            coverage):
    earlier = make_order(hotline_agent)
    html = login(hotline_agent).get(
        "/intake/customer/", {"customer_phone": "+86 13800138000", "category": coverage.pk}
    ).content.decode()
    assert 'id="repeat-warning"' in html
    assert earlier.number in html
    assert coverage.standard_answer in html


def test_customer_panel_explains_a_bad_number(login, hotline_agent):
    html = login(hotline_agent).get("/intake/customer/", {"customer_phone": "12"}).content.decode()
    assert "not a valid mobile number" in html


def test_category_search_matches_pinyin_initials_chinese_and_code(login, hotline_agent, coverage, dispute):
    client = login(hotline_agent)
    for query in ("xhfg", "信号", "NET-MOB-COV", "signal", "网络"):
        html = client.get("/intake/categories/", {"q": query}).content.decode()
        assert 'data-code="NET-MOB-COV"' in html, query
        assert 'data-code="BIL-DSP"' not in html, query
    assert 'data-code="NET"' not in client.get("/intake/categories/", {"q": "NET"}).content.decode()


def test_order_list_query_count_does_not_grow_with_rows(login, hotline_agent, make_order):
    client = login(hotline_agent)
    make_order(hotline_agent)
    client.get("/orders/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/orders/").status_code == 200
    for index in range(15):
        make_order(hotline_agent, customer_phone=f"1390000{index:04d}",
                   on_spot=OnSpotAnswer("已解释", Decimal("1")) if index % 2 else None)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/orders/")
    assert len(response.context["page"].object_list) == 16
    assert len(many) == len(few)


def test_order_list_filters_by_phone_or_number(login, hotline_agent, make_order):
    a = make_order(hotline_agent)
    b = make_order(hotline_agent, customer_phone="13900000001")
    client = login(hotline_agent)
    html = client.get("/orders/", {"q": "139-0000-0001"}).content.decode()
    assert b.number in html and a.number not in html
    html = client.get("/orders/", {"q": a.number.lower()}).content.decode()
    assert a.number in html and b.number not in html


def test_ui_is_chinese_by_default_and_english_on_request(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    assert "登录" in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert "Log in" in client.get("/accounts/login/").content.decode()


def test_order_list_pages_without_counting(login, hotline_agent, make_order, settings):
    from complaints import views

    views.ORDERS_PER_PAGE, original = 3, views.ORDERS_PER_PAGE
    try:
        for index in range(4):
            make_order(hotline_agent, customer_phone=f"1390000{index:04d}")
        client = login(hotline_agent)
        first = client.get("/orders/")
        assert len(first.context["page"].object_list) == 3 and first.context["page"].has_next
        second = client.get("/orders/", {"page": 2})
        assert len(second.context["page"].object_list) == 1 and not second.context["page"].has_next
        assert client.get("/orders/", {"page": "x"}).status_code == 200
    finally:
        views.ORDERS_PER_PAGE = original
