"""In Chromium, as an administrator: the historical import page takes an FCC-like export and its mapping, shows
the dry run of the first rows (what each becomes, every reason a row is refused), starts the import as a background
job that a real Celery worker runs, and shows its progress bar and outcome with the rejected rows to download.
Screenshots go to test-artifacts/."""

from pathlib import Path

import pytest

from complaints.models import WorkOrder
from jobs.models import Job
from tests.conftest import browser_login, screenshot
from tests.factories import UserFactory
from tests.test_celery_jobs import worker  # noqa: F401  (the real Celery worker fixture)

pytestmark = pytest.mark.django_db(transaction=True)
DATA = Path(__file__).parent / "data"


@pytest.fixture
def chinese_ui(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def test_an_administrator_imports_an_export_from_the_browser(browser_page, chinese_ui, category_tree, province,
                                                              worker):  # noqa: F811
    UserFactory(username="admin", is_superuser=True, is_staff=True, department=None)
    page = browser_page
    browser_login(page, "admin")
    page.click("nav.mainnav >> text=历史导入")
    page.set_input_files("#id_csv_file", str(DATA / "fcc_comcast_export.csv"))
    page.set_input_files("#id_mapping_file", str(DATA / "fcc_comcast_mapping.json"))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#dry-run")
    rows = page.locator("table.preview tbody tr")
    assert rows.count() == 7
    assert "新建，已归档" in rows.nth(0).inner_text() and "NET-MOB" in rows.nth(0).inner_text()
    assert "2015-04-22 15:53" in rows.nth(0).inner_text()
    swapped = page.locator("tr.preview-rejected", has_text="223441").inner_text()
    assert "2015-08-04 不在导出文件的期间 2015-04-01 至 2015-06-30 内" in swapped
    both = page.locator("tr.preview-rejected", has_text="2779A6").locator("li")
    assert both.count() == 2  # the reference's pattern and the unknown category, both listed
    screenshot(page, "import-dry-run")
    assert WorkOrder.objects.count() == 0

    page.click("#start-import")
    page.wait_for_selector(".job-succeeded", timeout=90_000)  # polled by htmx while the worker runs
    assert page.locator(".job progress").get_attribute("value") == "100"
    assert "读取 7 行；新建 4；已导入过 0；拒绝 3。" in page.locator(".job-result").inner_text()
    with page.expect_download() as download:
        page.click("text=下载被拒绝的行（CSV）")
    assert "223441" in Path(download.value.path()).read_text(encoding="utf-8-sig")
    screenshot(page, "import-finished")
    assert WorkOrder.objects.filter(external_source="fcc-comcast").count() == 4
    assert Job.objects.get().status == Job.Status.SUCCEEDED


def test_closing_an_accountability_month_shows_its_progress_on_the_ranking_page(browser_page, chinese_ui,
                                                                                 province_dispatcher, worker):  # noqa: F811
    import datetime

    from django.utils import timezone

    from accountability.models import Indicator

    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    Indicator.objects.create(year=month.year, code="attributed", name="认责投诉量", measure="attributed",
                             higher_is_better=False, target=2, weight=40)
    page = browser_page
    browser_login(page, "dispatcher")
    page.goto(f"{page.base_url}/accountability/ranking/")
    page.fill("#id_compute_month", f"{month:%Y-%m}")
    page.click("form[action$='/ranking/compute/'] button[type=submit]")
    page.wait_for_selector("#month-close .job")  # the request returns at once; the close runs in the worker
    page.wait_for_selector("#month-close .job-succeeded", timeout=90_000)
    assert f"{month:%Y-%m} 已计分" in page.locator("#month-close .job-result").inner_text()
    screenshot(page, "month-close-finished")
    assert Job.objects.get(kind=Job.Kind.ACCOUNTABILITY_MONTH).status == Job.Status.SUCCEEDED
