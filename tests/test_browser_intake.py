"""In Chromium: a hotline agent logs a complaint with the category search and sees it in the customer's history."""

import pytest

from complaints.models import WorkOrder
from tests.conftest import browser_login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chinese_ui(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def test_hotline_agent_logs_a_complaint_and_sees_it_in_the_history(
    chinese_ui, browser_page, hotline_agent, category_tree
):
    page = browser_page
    browser_login(page, "agent_gz")
    page.goto(f"{page.base_url}/intake/")
    assert page.locator("h1").inner_text() == "投诉受理登记"

    page.fill("#id_customer_phone", "138 0013 8000")
    page.fill("#id_customer_name", "张三")
    # The panel answers the phone number: a new customer, nothing before.
    page.locator("#customer-panel .customer-info").wait_for()
    assert "13800138000" in page.locator("#customer-panel").inner_text()

    # Category by pinyin initials of 信号覆盖, chosen with the keyboard at once: Enter waits for the answer to
    # what was typed, never picks from an earlier list.
    page.fill("#category-search", "xhfg")
    page.press("#category-search", "Enter")
    page.locator("#category-chosen", has_text="NET-MOB-COV").wait_for()
    # The category's standard answer appears in the panel.
    page.locator("#standard-answer-text").wait_for()
    assert "网络部门将在24小时内核查" in page.locator("#standard-answer").inner_text()

    page.fill("#id_description", "小区地下车库没有信号，已持续一周。")
    screenshot(page, "intake-filled")
    page.keyboard.press("Control+Enter")
    page.wait_for_url("**/orders/TS*/")

    order = WorkOrder.objects.get()
    assert order.category.code == "NET-MOB-COV"
    assert order.customer.phone == "13800138000"
    assert order.first_responder == hotline_agent
    assert order.number in page.locator("h1").inner_text()

    # A second call from the same customer: the history shows the first order and warns of a repeat.
    page.goto(f"{page.base_url}/intake/")
    page.fill("#id_customer_phone", "13800138000")
    page.locator("#customer-history").wait_for()
    assert order.number in page.locator("#customer-history").inner_text()
    page.fill("#category-search", "信号")
    page.locator("#category-results .picker-answer[data-query='信号'] .picker-option").first.click()
    page.locator("#repeat-warning").wait_for()
    assert order.number in page.locator("#repeat-warning").inner_text()
    screenshot(page, "intake-history")


def test_agent_joins_a_known_fault_in_a_county_with_one_click(
    chinese_ui, browser_page, hotline_agent, category_tree, province_dispatcher, network_dept, tianhe
):
    """The Guangzhou hotline sees the Tianhe incident for the chosen category; one click joins (another undoes),
    and the logged complaint waits on the incident."""
    import datetime

    from django.utils import timezone

    from complaints.models import OrderStatus
    from quality import batch

    incident = batch.incident_open(actor=province_dispatcher, title="天河北基站故障", department=network_dept,
                                   category=category_tree["NET-MOB-COV"], region=tianhe,
                                   expected_recovery_at=timezone.now() + datetime.timedelta(hours=3))
    page = browser_page
    browser_login(page, "agent_gz")
    page.goto(f"{page.base_url}/intake/")
    page.fill("#id_customer_phone", "13800138000")
    page.fill("#category-search", "xhfg")
    page.press("#category-search", "Enter")
    join = page.locator(".join-incident")
    join.wait_for()
    assert "天河北基站故障" in page.locator("#incidents").inner_text()
    join.click()
    assert page.locator("#id_incident").input_value() == str(incident.pk)
    assert join.get_attribute("aria-pressed") == "true"
    join.click()  # undo, and again
    assert page.locator("#id_incident").input_value() == ""
    join.click()
    page.fill("#id_description", "家里突然没有信号。")
    screenshot(page, "intake-join-incident")
    page.keyboard.press("Control+Enter")
    page.wait_for_url("**/orders/TS*/")
    order = WorkOrder.objects.get()
    assert order.incident == incident and order.status == OrderStatus.IN_INCIDENT and order.region == tianhe
    assert "天河北基站故障" in page.locator("#order-incident").inner_text()
