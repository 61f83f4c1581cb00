"""In Chromium, as a quality manager: every dashboard renders its charts with data (ECharts draws on a canvas;
the test checks both the series handed to it and that the canvas is not blank), the table view and the drill-down
work, and a monthly report is generated and opened. Screenshots go to test-artifacts/."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from quality.facts import open_orders_snapshot, rollups_apply
from reports.dashboards import TILE_KPIS
from reports.monthly import report_generate
from tests.conftest import browser_login, screenshot
from tests.factories import channel
from tests.kpi_world import build_week
from workflow.intake import order_create

pytestmark = pytest.mark.django_db(transaction=True)

# Counts the drawn (non-white) pixels of every canvas of a chart.
INK = """els => els.map(el => {
  const canvas = el.querySelector('canvas');
  if (!canvas) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 16) { if (data[i + 3] > 0 && (data[i] < 235 || data[i + 1] < 235 || data[i + 2] < 235)) ink++; }
  return ink;
})"""


@pytest.fixture
def chinese_ui(settings):
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture
def world(hotline_agent, outsider, province_dispatcher, network_handler, network_lead, coverage, dispute,
          billing_handler, province):
    build_week(agent=hotline_agent, outsider=outsider, dispatcher=province_dispatcher, handler=network_handler,
               lead=network_lead, coverage=coverage, dispute=dispute)
    now = timezone.now()
    # A calm history in Shenzhen, and a spike this week (a hot spot); today's intake for the hourly chart.
    for weeks_ago in range(1, 9):
        _log(outsider, coverage, now - datetime.timedelta(weeks=weeks_ago, hours=3), f"1390000{weeks_ago:04d}")
    for n in range(10):
        _log(outsider, coverage, now - datetime.timedelta(hours=6 + 7 * n), f"1391111{n:04d}")
    # today's intake lies within today whatever the hour the test runs (just after midnight included: CI once ran
    # at 00:28 Shanghai time, and "half an hour ago" was yesterday)
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    for share in (0.25, 0.5, 0.75):
        _log(hotline_agent, dispute, midnight + (now - midnight) * share, f"1392222{int(share * 100):04d}")
    rollups_apply()
    open_orders_snapshot()
    with time_machine.travel(datetime.datetime(2026, 12, 2, 9, 0, tzinfo=datetime.UTC), tick=False):
        report_generate(region=province, month=datetime.date(2026, 11, 1))


def _log(actor, category, received_at, phone):
    with time_machine.travel(received_at, tick=False):
        order_create(actor=actor, kind="complaint", channel=channel("hotline"), category=category,
                     severity="ordinary", description="测试", customer_phone=phone, received_at=received_at)


def charts_have_data(page) -> list[int]:
    page.wait_for_function("() => [...document.querySelectorAll('[data-chart]')].every(e => e.dataset.rendered)")
    drawn = page.eval_on_selector_all("[data-chart]", "els => els.map(e => Number(e.dataset.rendered))")
    ink = page.eval_on_selector_all("[data-chart]", INK)
    assert drawn and all(n > 0 for n in drawn), drawn
    assert all(n > 200 for n in ink), ink
    return drawn


def test_a_quality_manager_reads_every_dashboard(chinese_ui, world, browser_page, quality_manager):
    page = browser_page
    browser_login(page, "quality")
    base = page.base_url
    week = "period=custom&start=2026-11-02&end=2026-11-08"

    page.goto(f"{base}/dashboard/")
    assert len(charts_have_data(page)) == 5
    assert page.locator(".tile").count() == len(TILE_KPIS) == 13  # with promise, departmental and ping-pong
    screenshot(page, "dashboard-overview")

    page.goto(f"{base}/dashboard/?{week}")
    assert "75.0%" in page.locator('[data-kpi="timeliness"]').inner_text()
    for code in ("promise_timeliness", "department_on_time", "ping_pong_rate"):
        assert page.locator(f'[data-kpi="{code}"]').inner_text().strip()
    page.locator("#card-regions summary").click()
    assert page.locator('#card-regions table[data-table="regions"] tbody tr').count() == 2
    page.locator('#card-regions table a').first.click()
    page.wait_for_url("**/dashboard/orders/**")
    assert page.locator("#order-table tbody tr").count() >= 1

    page.goto(f"{base}/dashboard/department/?{week}")
    charts_have_data(page)
    screenshot(page, "dashboard-department")

    page.goto(f"{base}/dashboard/kpis/?{week}&group=category3&chart=volume")
    charts_have_data(page)
    screenshot(page, "dashboard-kpi-analysis")

    page.goto(f"{base}/dashboard/hotspots/")
    charts_have_data(page)
    assert page.locator('table[data-table="hotspots"] tbody tr').count() >= 1
    screenshot(page, "dashboard-hotspots")

    page.goto(f"{base}/dashboard/compare/?kpi=volume&change_date=2026-11-05&days=28")
    charts_have_data(page)
    assert page.locator("#verdict").inner_text()
    screenshot(page, "dashboard-before-after")

    page.goto(f"{base}/follow-ups/")
    assert page.locator("#follow-up-table tbody tr").count() == 1  # O2's customer, who rated 1
    screenshot(page, "dissatisfied-customers")

    page.goto(f"{base}/reports/monthly/")
    assert page.locator("#report-table tbody tr").count() == 1
    page.locator("#report-table a", has_text="HTML").click()
    page.wait_for_load_state()
    assert "投诉质量月报" in page.content()
    screenshot(page, "monthly-report")

