"""In Chromium, as a quality manager: the month-by-month targets page (choose a department, step a target, a bad
value marked in its cell and nothing saved) and the notable cases chosen before a monthly report is archived."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accountability.models import Indicator, IndicatorTarget, IndicatorTargetChange
from reports.models import MonthlyReport
from tests.conftest import browser_login, screenshot
from tests.factories import channel
from workflow.intake import order_create

pytestmark = pytest.mark.django_db(transaction=True)
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def chinese_ui(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def test_a_quality_manager_steps_a_target_in_july(chinese_ui, browser_page, quality_manager, billing_dept):
    this_year = datetime.date.today().year
    timeliness = Indicator.objects.create(year=this_year, code="timeliness", name="处理及时率", measure="timeliness",
                                          higher_is_better=True, target=Decimal("90"), weight=Decimal("60"))
    Indicator.objects.create(year=this_year, code="attributed", name="认责投诉量", measure="attributed",
                             higher_is_better=False, target=Decimal("5"), weight=Decimal("40"))
    page = browser_page
    browser_login(page, "quality")
    page.goto(f"{page.base_url}/accountability/")
    page.click("text=月度目标")
    page.select_option("#id_department", label="计费账务部")
    page.click("#target-choice button[type=submit]")
    assert page.locator("#target-table tbody tr").count() == 2
    assert page.locator("#target-table tbody tr").first.locator("input").count() == 12

    page.fill(f"#id_t-{timeliness.pk}-7", "95")
    page.fill(f"#id_t-{timeliness.pk}-9", "150")  # a rate above 100
    page.click("#target-form button[type=submit]")
    assert page.locator(".field-error").count() >= 1
    assert not IndicatorTarget.objects.exists()
    screenshot(page, "targets-bad-value")

    page.fill(f"#id_t-{timeliness.pk}-9", "")
    page.click("#target-form button[type=submit]")
    page.wait_for_selector("#target-changes td:has-text('品质经理')")
    assert IndicatorTarget.objects.get().from_month == datetime.date(this_year, 7, 1)
    assert IndicatorTargetChange.objects.count() == 1
    assert page.get_attribute(f"#id_t-{timeliness.pk}-8", "placeholder") == "95"  # August: July's step in force
    assert page.get_attribute(f"#id_t-{timeliness.pk}-6", "placeholder") == "90"  # June: the yearly default
    screenshot(page, "targets-saved")


def test_a_quality_manager_chooses_the_notable_cases(chinese_ui, week, browser_page, quality_manager, province,
                                                     hotline_agent, coverage):
    with time_machine.travel(datetime.datetime(2026, 11, 12, 10, tzinfo=SH), tick=False):
        major = order_create(actor=hotline_agent, kind="complaint", channel=channel("hotline"), category=coverage,
                             severity="major", description="整栋楼宽带中断三天，客户要求赔偿",
                             customer_phone="13900000001").order
    page = browser_page
    browser_login(page, "quality")
    page.goto(f"{page.base_url}/reports/monthly/")
    page.select_option("#id_region", label="广东省")
    page.fill("#id_month", "2026-11")
    page.click("#report-prepare button[type=submit]")
    page.wait_for_selector("#case-candidates")
    assert page.is_checked(f"#case-{major.number}") and page.is_checked(f"#case-{week['O5'].number}")
    screenshot(page, "monthly-choose-cases")
    page.uncheck(f"#case-{week['O5'].number}")
    page.click("#case-choice button[type=submit]")
    page.wait_for_selector("#report-table tbody tr")
    report = MonthlyReport.objects.get()
    assert [c["number"] for c in report.data["cases"]] == [major.number]
