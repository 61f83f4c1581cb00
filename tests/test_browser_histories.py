"""In Chromium, Chinese UI: a fresh breach reads 刚刚超时 and the promised reply time is listed once on the order
page; the article edit form's date picker shows the effective date and keeps it; an improvement order shows its
whole exchange. Screenshots go to test-artifacts/."""

import datetime
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from accountability import services as accountability
from accountability.models import ImprovementOrder, Indicator
from knowledge import services as knowledge
from tests.conftest import browser_login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chinese_ui(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def test_a_fresh_breach_reads_just_overdue_and_the_promise_is_listed_once(chinese_ui, browser_page, hotline_agent,
                                                                          make_order, network_handler):
    # Logged 15 minutes and 20 seconds ago and never claimed: the claim limit (15 min) passed 20 seconds ago.
    with time_machine.travel(timezone.now() - timedelta(minutes=15, seconds=20), tick=False):
        order = make_order(hotline_agent)
    order.refresh_from_db()
    page = browser_page
    browser_login(page, "handler_network")
    page.goto(f"{page.base_url}/orders/{order.number}/")
    badge = page.locator("#stage-deadline .deadline")
    assert badge.inner_text() == "刚刚超时"
    assert "deadline-overdue" in badge.get_attribute("class")
    promised = timezone.localtime(order.promised_at).strftime("%Y-%m-%d %H:%M")
    facts = page.locator("#stage").inner_text() + page.locator("#promises").inner_text()
    assert facts.count(promised) == 1
    screenshot(page, "order-just-overdue")
    page.goto(f"{page.base_url}/work/queue/")
    assert page.locator(f"tr:has-text('{order.number}') .deadline").inner_text() == "刚刚超时"
    screenshot(page, "queue-just-overdue")


def test_the_article_edit_form_keeps_the_effective_date(chinese_ui, browser_page, quality_manager, coverage):
    article = knowledge.article_create(actor=quality_manager, title="携号转网办理条件", category=coverage,
                                       body="在网满120天可办理。", effective_from=datetime.date(2026, 1, 15))
    page = browser_page
    browser_login(page, "quality")
    page.goto(f"{page.base_url}/knowledge/articles/{article.pk}/edit/")
    assert page.input_value("#id_effective_from") == "2026-01-15"
    page.fill("#id_body", "在网满120天且无欠费可办理。")
    page.fill("#id_change_note", "补充欠费条件")
    screenshot(page, "article-edit-effective-date")
    page.click("button[type=submit].primary")
    page.wait_for_url(f"**/knowledge/articles/{article.pk}/")
    article.refresh_from_db()
    assert article.effective_from == datetime.date(2026, 1, 15) and article.current.number == 2


def test_an_improvement_order_shows_every_answer_and_review(chinese_ui, browser_page, billing_dept, billing_lead,
                                                            province_dispatcher):
    indicator = Indicator.objects.create(year=2026, code="timeliness", name="处理及时率", measure="timeliness",
                                         higher_is_better=True, target=Decimal("90"), weight=Decimal("100"))
    now = timezone.now()
    improvement = ImprovementOrder.objects.create(
        department=billing_dept, indicator=indicator, opened_month=datetime.date(2026, 11, 1),
        opened_value=Decimal("50"), target=Decimal("90"), latest_month=datetime.date(2026, 11, 1),
        latest_value=Decimal("50"), opened_at=now, due_at=now + timedelta(days=5), warn_at=now + timedelta(days=4))
    accountability.improvement_answer(actor=billing_lead, improvement=improvement, cause_analysis="夜班人手不足",
                                      measures="调整排班")
    accountability.improvement_review(actor=province_dispatcher, improvement=improvement, accept=False,
                                      reason="措施不具体，请给出时间表")
    accountability.improvement_answer(actor=billing_lead, improvement=improvement, cause_analysis="夜班交接遗漏",
                                      measures="12月10日起增设夜班两人")
    page = browser_page
    browser_login(page, "lead_billing")
    page.goto(f"{page.base_url}/accountability/improvements/{improvement.pk}/")
    history = page.locator("#improvement-history").inner_text()
    for text in ("调整排班", "措施不具体，请给出时间表", "12月10日起增设夜班两人", "答复被退回", "已答复整改措施"):
        assert text in history, text
    assert history.index("调整排班") < history.index("措施不具体") < history.index("12月10日起增设夜班两人")
    screenshot(page, "improvement-history")
