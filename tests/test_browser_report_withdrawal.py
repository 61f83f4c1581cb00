"""In the browser: an administrator withdraws an archived monthly report from the reports list, saying why; the
list then marks the old version withdrawn and lists the new one. Screenshots go to test-artifacts/."""

import datetime

import pytest
import time_machine

from org import roles
from org.models import Department
from reports.models import MonthlyReport, ReportWithdrawal
from reports.monthly import report_generate
from tests.conftest import browser_login, screenshot
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chinese_ui(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def test_an_administrator_withdraws_a_report_in_the_browser(chinese_ui, browser_page, province):
    dept = DepartmentFactory(code="it-admin", name="系统管理", kind=Department.Kind.COMPLAINT_CENTRE, region=province)
    UserFactory(username="root", department=dept, roles=[roles.ADMIN], is_superuser=True, is_staff=True)
    with time_machine.travel(datetime.datetime(2026, 12, 2, 9, 0, tzinfo=datetime.UTC), tick=False):
        old = report_generate(region=province, month=datetime.date(2026, 11, 1))
    page = browser_page
    browser_login(page, "root")
    page.goto(f"{page.base_url}/reports/monthly/")
    page.locator("#report-table a.withdraw").click()
    page.wait_for_load_state()
    assert page.locator("#report-withdraw").is_visible()
    page.locator("#report-withdraw button[type=submit]").click()  # no reason: the browser asks for one first
    assert not ReportWithdrawal.objects.exists()
    page.fill("#id_reason", "典型案例摘要含客户身份证号，按规定撤回")
    screenshot(page, "monthly-report-withdraw")
    page.locator("#report-withdraw button[type=submit]").click()
    page.wait_for_url(f"{page.base_url}/reports/monthly/")
    assert "已重新生成第 2 版替代" in page.content()
    rows = page.locator("#report-table tbody tr")
    assert rows.count() == 2
    withdrawn = rows.nth(1).inner_text()
    assert "已撤回" in withdrawn and "v1" in withdrawn and "典型案例摘要含客户身份证号" in withdrawn
    screenshot(page, "monthly-report-withdrawn")
    withdrawal = ReportWithdrawal.objects.get()
    assert withdrawal.report_id == old.pk and withdrawal.reason == "典型案例摘要含客户身份证号，按规定撤回"
    assert MonthlyReport.objects.get(version=2).trigger == MonthlyReport.Trigger.REGENERATED
