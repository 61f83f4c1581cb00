"""In Chromium: one complaint from intake to close across four people — the hotline agent logs it, the
dispatcher dispatches it, the network handler claims and replies, the dispatcher accepts the reply, and the agent
calls the customer back."""

import pytest

from complaints.models import OrderStatus, WorkOrder
from tests.conftest import browser_login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chinese_ui(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def as_user(chromium, live_server, username):
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base_url = live_server.url
    browser_login(page, username)
    return page


def test_a_complaint_travels_from_intake_to_close(chinese_ui, chromium, live_server, hotline_agent,
                                                  province_dispatcher, network_handler, category_tree):
    # 1. The hotline agent logs a difficult complaint: it waits for a dispatcher.
    agent = as_user(chromium, live_server, "agent_gz")
    agent.goto(f"{live_server.url}/intake/")
    agent.fill("#id_customer_phone", "13800138000")
    agent.fill("#category-search", "xhfg")
    agent.press("#category-search", "Enter")
    agent.locator("#category-chosen", has_text="NET-MOB-COV").wait_for()
    agent.select_option("#id_severity", "difficult")
    agent.fill("#id_description", "家中信号时有时无，已投诉两次未解决。")
    agent.click("#submit-order")
    agent.wait_for_url("**/orders/TS*/")
    order = WorkOrder.objects.get()
    assert order.status == OrderStatus.NEW
    assert agent.locator("#order-status").inner_text() == "待派单"

    # 2. The dispatcher finds it in the dispatch list and sends it to the network department.
    dispatcher = as_user(chromium, live_server, "dispatcher")
    dispatcher.goto(f"{live_server.url}/work/dispatch/")
    dispatcher.click(f"text={order.number}")
    dispatcher.select_option("#id_dispatch-department", label="网络运维部")
    dispatcher.fill("#id_dispatch-comment", "请网络部核查基站")
    dispatcher.locator("#action-dispatch button[type=submit]").click()
    dispatcher.locator("#order-status", has_text="待签单").wait_for()

    # 3. The network handler claims it from the department queue and replies.
    handler = as_user(chromium, live_server, "handler_network")
    assert "1" in handler.locator("#nav-work").inner_text()
    handler.goto(f"{live_server.url}/work/queue/")
    handler.click(f"text={order.number}")
    handler.locator("#action-claim button").click()
    handler.locator("#current-owner", has_text="网络处理员").wait_for()
    handler.fill("#id_reply-answer", "已调整基站天线方向，经测试信号恢复正常。")
    handler.select_option("#id_reply-result_code", "resolved")
    screenshot(handler, "lifecycle-handler-reply")
    handler.locator("#action-reply button[type=submit]").click()
    handler.locator("#order-status", has_text="待审核").wait_for()

    # 4. The dispatcher accepts the reply.
    dispatcher.goto(f"{live_server.url}/work/review/")
    dispatcher.click(f"text={order.number}")
    dispatcher.locator("#action-review button[type=submit]").click()
    dispatcher.locator("#order-status", has_text="待回访").wait_for()

    # 5. The agent calls the customer back: satisfied, solved. The order closes.
    agent.goto(f"{live_server.url}/work/callback/")
    agent.click(f"text={order.number}")
    agent.check("#id_callback-reached_0")
    agent.check("#id_callback-satisfaction_0")  # 5
    agent.check("#id_callback-solved_0")  # yes
    agent.fill("#id_callback-comment", "客户表示满意")
    agent.locator("#action-callback button[type=submit]").click()
    agent.locator("#order-status", has_text="已归档").wait_for()
    screenshot(agent, "lifecycle-closed")

    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and order.satisfaction == 5
    timeline = agent.locator("#timeline").inner_text()
    for step in ("受理", "派单", "签单", "回复", "审核通过", "回访", "归档"):
        assert step in timeline, step
    assert list(order.events.values_list("actor__username", flat=True)) == [
        "agent_gz", "dispatcher", "handler_network", "handler_network", "dispatcher", "agent_gz", "agent_gz"]
