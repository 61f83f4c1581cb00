"""In Chromium, Chinese UI: a frontline lead raises a support request, the quality department routes it, a network
handler answers, the network lead approves, and the frontline lead rates the answer; the list shows it closed."""

import pytest

from support.models import SupportRequest
from tests import test_support_world as world
from tests.conftest import browser_login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)
support_reference_data, hotline_lead = world.support_reference_data, world.hotline_lead


@pytest.fixture
def chinese_ui(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def as_user(page, username):
    page.context.clear_cookies()
    browser_login(page, username)


def test_a_frontline_lead_raises_a_request_that_a_department_answers(
    chinese_ui, browser_page, hotline_lead, quality_manager, network_handler, network_lead, network_dept
):
    page = browser_page
    as_user(page, "lead_gz_hotline")
    page.click("#nav-support")
    page.click("#raise-request")
    page.check("input[name=kind][value=problem]")
    page.fill("#id_title", "5G畅享套餐在营业厅系统中无法办理")
    page.fill("#id_description", "客户要求办理新上线的5G畅享套餐，营业厅系统提示“产品未配置”，影响全市营业厅。")
    page.click("#raise-submit")
    page.wait_for_url("**/support/ZC*/")
    request = SupportRequest.objects.get()
    assert request.requester == hotline_lead and request.status == "sorting"
    assert request.number in page.locator("h1").inner_text()

    as_user(page, "quality")
    page.goto(f"{page.base_url}/support/?scope=mine")
    page.click(f"#support-table a:text('{request.number}')")
    page.select_option("#action-route select[name=route-department]", str(network_dept.pk))
    page.fill("#action-route textarea[name=route-comment]", "请网络运维部核查产品配置")
    page.click("#action-route button[type=submit]")
    page.locator("#request-department", has_text=network_dept.name).wait_for()

    as_user(page, "handler_network")
    page.goto(f"{page.base_url}/support/{request.number}/")
    page.fill("#action-answer textarea[name=answer-answer]", "套餐已在营业厅系统完成配置，请刷新后重新办理。")
    page.click("#action-answer button[type=submit]")
    page.locator("#request-answer").wait_for()
    assert page.locator("#action-approve").count() == 0  # the handler does not approve

    as_user(page, "lead_network")
    page.goto(f"{page.base_url}/support/{request.number}/")
    assert page.locator("#action-send_back").count() == 1
    screenshot(page, "support-approve")
    page.click("#action-approve button[type=submit]")
    page.locator(".msg-success").wait_for()
    assert page.locator("#action-approve").count() == 0 and page.locator("#action-comment").count() == 1

    as_user(page, "lead_gz_hotline")
    page.goto(f"{page.base_url}/support/{request.number}/")
    assert "套餐已在营业厅系统完成配置" in page.locator("#request-answer").inner_text()
    page.check("#action-rate input[name=rate-rating][value='5']")
    page.fill("#action-rate textarea[name=rate-comment]", "已解决，感谢支持")
    screenshot(page, "support-rate")
    page.click("#action-rate button[type=submit]")
    page.locator("#request-rating").wait_for()
    request.refresh_from_db()
    assert request.status == "closed" and request.rating == 5 and request.answered_on_time
    assert request.answered_department == network_dept and request.approved_by == network_lead
    assert [e.action for e in request.events.all()] == ["raised", "routed", "answer_written", "approved", "rated"]
    screenshot(page, "support-detail-closed")

    page.goto(f"{page.base_url}/support/?department={network_dept.pk}")
    row = page.locator(f"tr[data-number='{request.number}']")
    assert "support-closed" in row.get_attribute("class")
    assert "100.0%" in page.locator("#selected-rate").inner_text()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in page.locator("#nav-work").inner_text())  # the Chinese UI
    screenshot(page, "support-list")
