"""In Chromium: a hotline agent logs a complaint with the category search and sees it in the customer's history."""

import pytest
from playwright.sync_api import expect

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


def _intake_offering_an_incident(page, dispatcher, department, category_tree, region):
    """An open Tianhe incident; the Guangzhou agent on the intake page with the customer and its category chosen,
    the "join" button on screen."""
    import datetime

    from django.utils import timezone

    from quality import batch

    incident = batch.incident_open(actor=dispatcher, title="天河北基站故障", department=department,
                                   category=category_tree["NET-MOB-COV"], region=region,
                                   expected_recovery_at=timezone.now() + datetime.timedelta(hours=3))
    browser_login(page, "agent_gz")
    page.goto(f"{page.base_url}/intake/")
    page.fill("#id_customer_phone", "13800138000")
    page.fill("#category-search", "xhfg")
    page.press("#category-search", "Enter")
    join = page.locator(".join-incident")
    join.wait_for()
    return incident, join


def test_agent_joins_a_known_fault_in_a_county_with_one_click(
    chinese_ui, browser_page, hotline_agent, category_tree, province_dispatcher, network_dept, tianhe
):
    """The Guangzhou hotline sees the Tianhe incident for the chosen category; one click joins (another undoes),
    and the logged complaint waits on the incident."""
    from complaints.models import OrderStatus

    page = browser_page
    incident, join = _intake_offering_an_incident(page, province_dispatcher, network_dept, category_tree, tianhe)
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


def test_a_late_answer_for_an_older_panel_request_keeps_the_joined_fault(
    chinese_ui, browser_page, hotline_agent, category_tree, province_dispatcher, network_dept, tianhe
):
    """The panel refreshes on the phone (after a pause) and on the category: when the answer drawn before the
    category was chosen lands after the agent clicked "join", the choice stays and the panel is drawn again."""
    from django.urls import reverse

    page = browser_page
    incident, join = _intake_offering_an_incident(page, province_dispatcher, network_dept, category_tree, tianhe)
    join.click()
    stale = reverse("complaints:intake_customer_panel") + "?customer_phone=13800138000"
    page.evaluate("url => htmx.ajax('GET', url, {target: '#customer-panel'})", stale)
    page.locator('#customer-panel .panel-state[data-category=""]').wait_for(state="attached")
    assert page.locator("#id_incident").input_value() == str(incident.pk)
    page.locator(f'#customer-panel .panel-state[data-category="{category_tree["NET-MOB-COV"].pk}"]').wait_for(
        state="attached")
    assert join.get_attribute("aria-pressed") == "true"
    assert page.locator("#id_incident").input_value() == str(incident.pk)


def test_agent_types_a_description_and_answers_with_a_suggested_article(
    chinese_ui, browser_page, hotline_agent, category_tree, quality_manager
):
    """The description suggests an article of the knowledge base; the agent uses it for the answer on the spot,
    and the order keeps the version used."""
    from knowledge import services as knowledge

    knowledge.article_create(actor=quality_manager, title="账单异议核查口径", category=category_tree["BIL"],
                             body="您好，我们将调取详单逐项核对，确属差错的按规定退费并致歉。")
    volte = knowledge.article_create(actor=quality_manager, title="VoLTE高清通话开通指引",
                                     body="室内信号弱时，建议客户开启VoLTE高清通话，可明显改善通话质量。")
    page = browser_page
    browser_login(page, "agent_gz")
    page.goto(f"{page.base_url}/intake/")
    page.fill("#id_customer_phone", "13800138000")
    page.fill("#category-search", "xhfg")
    page.press("#category-search", "Enter")
    page.locator("#category-chosen", has_text="NET-MOB-COV").wait_for()
    page.fill("#id_description", "家里室内信号很弱，打电话断断续续")
    suggestion = page.locator(f"#suggestion-{volte.pk}")
    suggestion.wait_for()
    assert "账单异议" not in page.locator("#suggestions").inner_text()  # another family
    suggestion.locator(".use-article").click()
    assert "VoLTE" in page.locator("#id_answer").input_value()
    assert page.locator("#id_resolve_on_spot").is_checked()
    suggestion.get_by_role("button", name="是").click()  # it helped
    page.locator(f"#feedback-{volte.pk} .feedback-done").wait_for()
    screenshot(page, "intake-suggested-article")
    page.click("#submit-order")
    page.wait_for_url("**/orders/TS*/")
    order = WorkOrder.objects.get()
    assert order.resolved_on_spot and list(order.article_uses.values_list("version", flat=True)) == [volte.current_id]
    assert "VoLTE高清通话开通指引 v1" in page.locator("#order-knowledge").inner_text()
    assert volte.feedback.get().helpful


def _choose_category(page, query, code):
    page.fill("#category-search", query)
    page.locator(f"#category-results .picker-answer[data-query='{query}'] .picker-option[data-code='{code}']").click()
    page.locator("#category-chosen", has_text=code).wait_for()


def test_the_severity_the_agent_chose_survives_choosing_a_category(
    chinese_ui, browser_page, hotline_agent, category_tree
):
    """The agent judges the complaint difficult, then picks the category: the order is logged as difficult (its
    time limits and the on-the-spot authority follow the severity), not as the category's ordinary default."""
    page = browser_page
    browser_login(page, "agent_gz")
    page.goto(f"{page.base_url}/intake/")
    page.fill("#id_customer_phone", "13800138000")
    page.select_option("#id_severity", "difficult")
    _choose_category(page, "信号", "NET-MOB-COV")
    assert page.locator("#id_severity").input_value() == "difficult"
    _choose_category(page, "话费", "BIL-DSP")  # the agent changes their mind about the category
    assert page.locator("#id_severity").input_value() == "difficult"
    page.fill("#id_description", "话费多扣了三十元，客户情绪激动，第三次来电。")
    page.click("#submit-order")
    page.wait_for_url("**/orders/TS*/")
    order = WorkOrder.objects.get()
    assert (order.category.code, order.severity) == ("BIL-DSP", "difficult")
    assert "严重程度\n疑难" in page.locator("dl.facts", has_text="严重程度").inner_text()


def test_the_category_default_fills_the_severity_until_the_agent_sets_it(
    chinese_ui, browser_page, hotline_agent, category_tree
):
    coverage = category_tree["NET-MOB-COV"]
    coverage.default_severity = "major"
    coverage.save(update_fields=["default_severity"])
    page = browser_page
    browser_login(page, "agent_gz")
    page.goto(f"{page.base_url}/intake/")
    assert page.locator("#id_severity").input_value() == "ordinary"
    _choose_category(page, "信号", "NET-MOB-COV")
    assert page.locator("#id_severity").input_value() == "major"  # untouched: the category's default
    _choose_category(page, "话费", "BIL-DSP")
    assert page.locator("#id_severity").input_value() == "ordinary"  # still untouched: follows the category
    assert page.locator("#severity-suggestion").is_hidden()
    page.select_option("#id_severity", "difficult")
    _choose_category(page, "信号", "NET-MOB-COV")
    assert page.locator("#id_severity").input_value() == "difficult"  # the agent's choice stays
    # ... and the page says what the category would have suggested.
    assert page.locator("#severity-suggestion").inner_text() == "该分类通常为“重大”；工单按您选择的严重程度登记。"
    screenshot(page, "intake-severity-kept")
    page.select_option("#id_severity", "ordinary")  # the agent's choice, even when it is the old default
    _choose_category(page, "信号", "NET-MOB-COV")
    assert page.locator("#id_severity").input_value() == "ordinary"
    page.fill("#id_customer_phone", "13800138000")
    page.fill("#id_description", "家里没有信号。")
    page.click("#submit-order")
    page.wait_for_url("**/orders/TS*/")
    assert WorkOrder.objects.get().severity == "ordinary"


def test_the_agents_severity_survives_a_refused_submit_and_another_category(
    chinese_ui, browser_page, hotline_agent, category_tree
):
    """The form comes back with an error (a mistyped number): the severity the agent set is still theirs."""
    category_tree["BIL-DSP"].default_severity = "major"
    category_tree["BIL-DSP"].save(update_fields=["default_severity"])
    page = browser_page
    browser_login(page, "agent_gz")
    page.goto(f"{page.base_url}/intake/")
    page.fill("#id_customer_phone", "1380013800")
    _choose_category(page, "信号", "NET-MOB-COV")
    page.select_option("#id_severity", "difficult")
    page.fill("#id_description", "家里没有信号。")
    page.click("#submit-order")
    page.locator("#field-customer_phone.has-error").wait_for()
    assert page.locator("#id_severity").input_value() == "difficult"
    _choose_category(page, "话费", "BIL-DSP")
    assert page.locator("#id_severity").input_value() == "difficult"


def test_a_recognised_phone_fills_the_customer_and_keeps_the_agents_edits(
    chinese_ui, browser_page, hotline_agent, category_tree
):
    from tests.factories import CustomerFactory

    CustomerFactory(phone="13800138000", name="张三", tier="gold", brand="gotone")
    page = browser_page
    browser_login(page, "agent_gz")
    page.goto(f"{page.base_url}/intake/")
    page.fill("#id_customer_phone", "13800138000")
    expect(page.locator("#id_customer_name")).to_have_value("张三", timeout=20_000)
    assert page.locator("#id_customer_tier").input_value() == "gold"
    assert page.locator("#id_customer_brand").input_value() == "gotone"

    # The customer says the name is written differently and they moved to another brand: the agent corrects both.
    page.fill("#id_customer_name", "张叁")
    page.select_option("#id_customer_brand", "mzone")
    # The panel is drawn again for the category and the description: the corrections stay.
    _choose_category(page, "信号", "NET-MOB-COV")
    page.fill("#id_description", "家里没有信号。")
    page.locator("#standard-answer").wait_for()
    coverage_id = category_tree["NET-MOB-COV"].pk
    page.locator(f'#customer-panel .panel-state[data-category="{coverage_id}"]').wait_for(state="attached")
    page.wait_for_load_state("networkidle")
    assert page.locator("#id_customer_name").input_value() == "张叁"
    assert page.locator("#id_customer_brand").input_value() == "mzone"
    assert page.locator("#id_customer_tier").input_value() == "gold"
    # The corrections differ from the record: the page offers to update it, unticked (issue 15: an intake only
    # proposes; the order keeps what was typed, the record stays unless the agent confirms).
    assert page.locator("#field-update_customer").is_visible()
    assert not page.locator("#id_update_customer").is_checked()
    page.click("#submit-order")
    page.wait_for_url("**/orders/TS*/")
    order = WorkOrder.objects.get()
    assert (order.customer_tier, order.customer_brand) == ("gold", "mzone")
    assert (order.customer.name, order.customer.brand) == ("张三", "gotone")


def test_the_agent_confirms_an_update_of_the_customers_record(chinese_ui, browser_page, hotline_agent,
                                                              category_tree):
    """更新客户资料 appears only while the typed values differ from the record, starts unticked, and the record
    changes (logged) only when the agent ticks it."""
    from complaints.models import CustomerChange
    from tests.factories import CustomerFactory

    customer = CustomerFactory(phone="13800138000", name="张三", tier="gold", brand="gotone")
    page = browser_page
    browser_login(page, "agent_gz")
    page.goto(f"{page.base_url}/intake/")
    page.fill("#id_customer_phone", "13800138000")
    expect(page.locator("#id_customer_name")).to_have_value("张三", timeout=20_000)
    box = page.locator("#field-update_customer")
    assert box.is_hidden()  # filled from the record: nothing to update
    page.fill("#id_customer_name", "张叁")
    expect(box).to_be_visible()
    assert "更新客户资料" in box.inner_text()
    assert not page.locator("#id_update_customer").is_checked()
    page.fill("#id_customer_name", "张三")  # the caller was misheard: back to the record
    expect(box).to_be_hidden()
    page.fill("#id_customer_name", "张叁")
    page.select_option("#id_customer_tier", "diamond")
    page.check("#id_update_customer")
    _choose_category(page, "信号", "NET-MOB-COV")
    page.fill("#id_description", "家里没有信号。")
    screenshot(page, "intake-update-customer")
    page.click("#submit-order")
    page.wait_for_url("**/orders/TS*/")
    customer.refresh_from_db()
    assert (customer.name, customer.tier, customer.brand) == ("张叁", "diamond", "gotone")
    change = CustomerChange.objects.get()
    assert change.applied and change.actor == hotline_agent and change.order == WorkOrder.objects.get()
    assert change.changes == {"name": {"old": "张三", "new": "张叁"}, "tier": {"old": "gold", "new": "diamond"}}


def test_a_corrected_phone_replaces_what_was_filled_but_not_what_the_agent_typed(
    chinese_ui, browser_page, hotline_agent, category_tree
):
    from tests.factories import CustomerFactory

    CustomerFactory(phone="13800138000", name="张三", tier="gold", brand="gotone")
    CustomerFactory(phone="13900139000", name="李四", tier="silver", brand="easyown")
    page = browser_page
    browser_login(page, "agent_gz")
    page.goto(f"{page.base_url}/intake/")
    page.fill("#id_customer_phone", "13800138000")
    expect(page.locator("#id_customer_name")).to_have_value("张三", timeout=20_000)
    page.fill("#id_customer_phone", "13900139000")  # a digit misheard
    expect(page.locator("#id_customer_name")).to_have_value("李四", timeout=20_000)
    assert page.locator("#id_customer_tier").input_value() == "silver"
    page.select_option("#id_customer_tier", "diamond")
    page.fill("#id_customer_phone", "13700137000")  # a number nobody has called from
    page.locator("#customer-panel .customer-info", has_text="13700137000").wait_for()
    page.wait_for_load_state("networkidle")
    assert page.locator("#id_customer_name").input_value() == ""  # filled for 李四, not the agent's: cleared
    assert page.locator("#id_customer_brand").input_value() == ""
    assert page.locator("#id_customer_tier").input_value() == "diamond"  # the agent's own choice stays
