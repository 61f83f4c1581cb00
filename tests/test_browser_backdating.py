"""In Chromium, Chinese UI: an order imported for last month after last month was scored shows its flag and its
origin on its page; the quality manager sees it on last month's ranking and recomputes the month with a reason,
which the page then lists with the totals before and after. Screenshots go to test-artifacts/."""

import datetime
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accountability import scoring
from accountability.models import Indicator, MonthlyScore, ScoreRecomputation
from complaints.models import Channel
from quality.facts import rollups_apply
from tests.conftest import browser_login, screenshot
from workflow import services as flow
from workflow.intake import HistoricalOrder, orders_historical_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chinese_ui(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def test_a_late_order_is_flagged_and_the_month_is_recomputed_on_the_record(
        chinese_ui, browser_page, hotline_agent, make_order, network_handler, province_dispatcher, quality_manager,
        channel_system, coverage):
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    Indicator.objects.create(year=last_month.year, code="attributed", name="认责投诉量", measure="attributed",
                             higher_is_better=False, target="0.5", weight="40")
    moment = timezone.make_aware(datetime.datetime.combine(last_month.replace(day=3), datetime.time(9)))
    with time_machine.travel(moment, tick=False):
        order = make_order(hotline_agent)
        order = flow.order_claim(actor=network_handler, order=order)
        order = flow.order_reply(actor=network_handler, order=order, answer="已处理", result_code="resolved")
        order = flow.order_review(actor=province_dispatcher, order=order, accept=True)
        flow.order_callback(actor=hotline_agent, order=order, reached=True, satisfaction=5, solved=True)
    rollups_apply()
    scoring.month_close(month=last_month)
    before = MonthlyScore.objects.get(month=last_month, department__code="network").total
    late, = orders_historical_create(actor=channel_system, rows=[HistoricalOrder(
        external_ref="OLD-77", external_source="旧客服系统", kind="complaint", severity="ordinary",
        channel=Channel.objects.get(code="hotline"), category=coverage, customer_tier=None,
        customer_phone="13800138077", customer_name="", contact_phone="", description="没有信号",
        received_at=moment + timedelta(days=5), closed_at=moment + timedelta(days=5, hours=3), answer="已优化")])
    rollups_apply()

    page = browser_page
    browser_login(page, "quality")
    page.goto(f"{page.base_url}/orders/{late.number}/")
    assert f"在 {last_month:%Y-%m} 关账后才到达" in page.locator("#order-closed-month").inner_text()
    imported = page.locator("#order-imported").inner_text()
    assert "历史导入" in imported and "旧客服系统" in imported and "OLD-77" in imported
    screenshot(page, "order-closed-month-arrival")

    page.goto(f"{page.base_url}/accountability/ranking/?month={last_month:%Y-%m}")
    assert "1 张工单" in page.locator("#late-arrivals").inner_text()
    assert page.locator(f"#month-archive a:has-text('{late.number}')").count() == 1
    page.fill("#recompute-form textarea[name=reason]", "补录旧系统的上月工单")
    page.click("#recompute-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    row = page.locator("#recomputations tbody tr").first
    text = row.inner_text()
    after = MonthlyScore.objects.get(month=last_month, department__code="network").total
    assert "补录旧系统的上月工单" in text and f"{before} → {after}" in text and after != before
    screenshot(page, "ranking-recomputed")
    record = ScoreRecomputation.objects.get()
    assert record.actor == quality_manager and record.late_arrivals == 1
