"""In Chromium, in Chinese: the agent's callback form names the five points of the scale and says what a low
rating does (and a 2 reopens the order); the customer follows the same complaint on /track/ in their own four
words, never the internal step names."""

from pathlib import Path

import pytest

from complaints.models import WorkOrder
from tests.conftest import browser_login
from workflow import services as flow

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path("/tmp/shots-words")


@pytest.fixture
def chinese_ui(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def test_callback_scale_and_the_customers_progress(chinese_ui, browser_page, live_server, hotline_agent,
                                                   make_order, network_handler, province_dispatcher):
    SHOTS.mkdir(exist_ok=True)
    page = browser_page
    track = {"number": None}
    order = make_order(hotline_agent)
    track["number"] = order.number

    def customer_sees():
        page.goto(f"{live_server.url}/track/")
        page.fill("#id_number", track["number"])
        page.fill("#id_phone", "13800138000")
        page.click("button[type=submit].primary")
        page.locator("#track-status").wait_for()
        return page.locator("#track-status").inner_text(), page.locator("ol.timeline li").all_inner_texts()

    status, steps = customer_sees()
    assert status == "已受理"
    order = flow.order_claim(actor=network_handler, order=order)
    order = flow.order_reply(actor=network_handler, order=order, answer="已调整基站天线方向", result_code="resolved")
    order = flow.order_review(actor=province_dispatcher, order=order, accept=True)
    status, steps = customer_sees()
    page.screenshot(path=str(SHOTS / "track-answered.png"), full_page=True)
    assert status == "已答复"
    assert [s.split(" ", 2)[-1] for s in steps] == ["已受理", "处理中", "已答复"]
    body = page.locator("#track-result").inner_text()
    for internal in ("签单", "自动派单", "归档", "审核通过"):
        assert internal not in body

    browser_login(page, "agent_gz")
    page.goto(f"{live_server.url}/orders/{order.number}/")
    form = page.locator("#action-callback")
    labels = form.locator("#field-satisfaction label").all_inner_texts()
    assert [label.strip() for label in labels[1:]] == ["5 非常满意", "4 满意", "3 一般", "2 不满意", "1 非常不满意"]
    help_text = form.locator("#field-satisfaction .help").inner_text()
    assert "1–2 分：不满意" in help_text and "重新处理" in help_text and "不满意客户" in help_text
    page.screenshot(path=str(SHOTS / "callback-form.png"), full_page=True)
    form.locator("input[name=callback-satisfaction][value='2']").check()
    form.locator("input[name=callback-solved][value='1']").check()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    order = WorkOrder.objects.get(pk=order.pk)
    assert order.reopen_count == 1 and order.satisfaction == 2
    status, steps = customer_sees()
    assert status == "处理中"
