"""In Chromium: the administrator (a superuser) reads 138****8000 on the order page and reveals the number with a
press that leaves a disclosure row; the orders behind a dashboard number offer a masked and a full-number export
whose labels say truthfully what each holds. Screenshots go to test-artifacts/."""

import pytest

from complaints.models import PhoneDisclosure
from org import roles
from tests.conftest import browser_login, screenshot
from tests.factories import UserFactory
from tests.kpi_world import build_week

pytestmark = pytest.mark.django_db(transaction=True)
FULL, MASKED = "13800138000", "138****8000"


@pytest.fixture
def chinese_ui(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def test_the_administrator_sees_a_masked_number_and_a_reveal_is_recorded(browser_page, chinese_ui, make_order,
                                                                         hotline_agent):
    order = make_order(hotline_agent)
    admin = UserFactory(username="root", is_staff=True, is_superuser=True, department=None, roles=[roles.ADMIN])
    page = browser_page
    browser_login(page, "root")
    page.goto(f"{page.base_url}/orders/{order.number}/")
    body = page.inner_text("body")
    assert MASKED in body and FULL not in body
    screenshot(page, "privacy-admin-masked")
    page.click("form.phone-reveal button")
    page.get_by_text(FULL).first.wait_for()
    screenshot(page, "privacy-admin-revealed")
    disclosure = PhoneDisclosure.objects.get()
    assert (disclosure.user_id, disclosure.order_id) == (admin.pk, order.pk)


def test_the_orders_export_labels_say_which_file_holds_full_numbers(browser_page, chinese_ui, hotline_agent,
                                                                    outsider, province_dispatcher, network_handler,
                                                                    network_lead, coverage, dispute, quality_manager):
    build_week(agent=hotline_agent, outsider=outsider, dispatcher=province_dispatcher, handler=network_handler,
               lead=network_lead, coverage=coverage, dispute=dispute)
    from quality.facts import rollups_apply

    rollups_apply()
    page = browser_page
    browser_login(page, quality_manager.username)
    page.goto(f"{page.base_url}/dashboard/orders/?kpi=volume&period=custom&start=2026-11-02&end=2026-11-08")
    exports = page.inner_text("#order-exports")
    assert "导出（号码已脱敏）" in exports and "导出含完整号码（本次导出将被记录）" in exports
    assert "含完整号码的 Excel" not in exports
    with page.expect_download() as download:
        page.click("#order-exports a:has-text('Excel') >> nth=0")
    name = download.value.suggested_filename
    assert name.endswith(".xlsx") and "2026-11-02~2026-11-08" in name and "工单" in name
    screenshot(page, "privacy-orders-exports")
