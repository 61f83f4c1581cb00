"""The order page in a real browser: who held the order for how long, as a bar and a table, in Chinese."""

from datetime import datetime

import pytest
import time_machine

from tests.conftest import browser_login, screenshot
from workflow import services
from workflow.calendar import SHANGHAI

pytestmark = pytest.mark.django_db(transaction=True)


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_the_order_page_draws_who_held_the_order(browser_page, hotline_agent, make_order, network_handler,
                                                 billing_dept, billing_handler, province_dispatcher, network_dept):
    with time_machine.travel(at(23, 9), tick=False) as clock:  # Monday 23 November 2026
        order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
        clock.move_to(at(23, 11))
        services.order_transfer(actor=network_handler, order=order, department=billing_dept, reason="计费问题")
        services.order_claim(actor=billing_handler, order=order)
        clock.move_to(at(23, 16))
        services.order_return(actor=billing_handler, order=order, reason_kind="wrong_department", reason="非本部门")
        clock.move_to(at(23, 16, 20))
        services.order_dispatch(actor=province_dispatcher, order=order, department=network_dept)
        clock.move_to(at(24, 10))
        services.order_claim(actor=network_handler, order=order)
        services.order_reply(actor=network_handler, order=order, answer="已调整基站参数", result_code="resolved")
    page = browser_page
    browser_login(page, province_dispatcher.username)
    page.goto(f"{page.base_url}/orders/{order.number}/")
    card = page.locator("#department-clocks")
    assert "各部门处理时长" in card.inner_text()
    rows = page.locator("#holdings tbody tr")
    assert rows.count() >= 5
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert texts[0].startswith("网络运维部") and "超时完成" in texts[0]  # its transfer was the misrouting
    assert texts[1].startswith("计费账务部") and "派错退回" in texts[1]  # returned as not its own, in time
    assert texts[2].startswith("省客服中心") and "按时" in texts[2]  # the dispatcher's new routing
    assert page.locator("svg.holding-bar rect.holding").count() == rows.count()
    assert page.locator("svg.holding-bar rect.holding-misrouted").count() == 1
    card.scroll_into_view_if_needed()
    screenshot(page, "order-department-clocks")
