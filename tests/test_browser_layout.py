"""In Chromium, at the screen sizes people really use: every role's menu fits a 1366 px office screen on one row
without breaking a word, and a handler on a phone (375 px) works their tasks, claims, notes and replies."""

from pathlib import Path

import pytest
from django.core.management import call_command

from tests.conftest import ARTIFACTS, browser_login

pytestmark = pytest.mark.django_db(transaction=True)

# One login per kind of user in the demo: each role, the frontline lead, the centre's manager, the administrator.
DEMO_USERS = ["agent_gz", "lead_gz_hotline", "dispatcher", "handler_network", "lead_network", "manager_centre",
              "emergency", "quality", "admin", "cti"]

# For each element: how many lines its text takes (distinct line boxes of its text), and its box.
MEASURE_TOPBAR = """() => {
  // Lines of an element's text: its text's boxes grouped by vertical overlap (a count badge on the same line
  // overlaps the words beside it; a word pushed to the next line does not).
  const lines = el => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const rects = Array.from(range.getClientRects()).filter(r => r.width > 0 && r.height > 0)
      .sort((a, b) => a.top - b.top);
    let count = 0, bottom = -Infinity;
    for (const r of rects) {
      if (r.top >= bottom - 2) { count += 1; bottom = r.bottom; } else { bottom = Math.max(bottom, r.bottom); }
    }
    return count;
  };
  const box = el => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left,
                                                                    right: r.right, height: r.height}; };
  const describe = el => ({text: el.innerText.trim(), lines: lines(el), box: box(el),
                           visible: el.getClientRects().length > 0});
  return {
    nav: Array.from(document.querySelectorAll('.topbar .mainnav > a')).map(describe),
    rest: Array.from(document.querySelectorAll(
      '.topbar .brand, .topbar .usermenu a, .topbar .usermenu button, .topbar .who-name, .topbar .who-dept'))
      .map(describe),
    scrollWidth: document.scrollingElement.scrollWidth,
  };
}"""


@pytest.fixture
def demo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.LANGUAGE_CODE = "zh-hans"
    call_command("seed_demo", "--orders", "40", "--quiet-logins", stdout=open("/dev/null", "w"))
    return (Path(tmp_path) / "demo-password.txt").read_text().strip()


def shot(page, name, full_page=False):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def test_every_roles_menu_fits_one_row_at_1366(demo, chromium, live_server):
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 768})
    context.set_default_timeout(20_000)
    problems = []
    try:
        for username in DEMO_USERS:
            page = context.new_page()
            page.base_url = live_server.url
            browser_login(page, username, demo)
            page.goto(f"{live_server.url}/orders/")
            page.wait_for_load_state("networkidle")
            shot(page, f"nav-1366-{username}")
            found = page.evaluate(MEASURE_TOPBAR)
            nav = found["nav"]
            assert nav, username
            for item in nav + found["rest"]:
                if not item["visible"]:
                    problems.append(f"{username}: “{item['text']}” is not shown")
                elif item["lines"] != 1:
                    problems.append(f"{username}: “{item['text']}” takes {item['lines']} lines")
            rows = {round(i["box"]["top"] + i["box"]["height"] / 2) for i in nav}
            if max(rows) - min(rows) > 4:
                problems.append(f"{username}: the menu takes more than one row ({sorted(rows)})")
            if found["scrollWidth"] > 1366 or max(i["box"]["right"] for i in nav + found["rest"]) > 1366:
                problems.append(f"{username}: the top bar runs past the screen's right edge")
            page.context.clear_cookies()
            page.close()
    finally:
        context.close()
    assert not problems, "\n".join(problems)


# What does not fit a phone's width: the page scrolling sideways, or a control (button, field, link in the page)
# running past the screen's edge without being inside a container that scrolls sideways on its own.
MEASURE_FIT = """(width) => {
  const inScroller = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const overflow = getComputedStyle(p).overflowX;
      if ((overflow === 'auto' || overflow === 'scroll') && p.clientWidth <= width) return true;
    }
    return false;
  };
  const outside = Array.from(document.querySelectorAll(
      'main button, main input:not([type=hidden]), main select, main textarea, main summary, main h1, main h2,'
      + ' main dd, main p, .topbar .brand, .topbar .usermenu a, .topbar .usermenu button'))
    .filter(el => el.getClientRects().length > 0)
    .filter(el => { const r = el.getBoundingClientRect(); return (r.right > width + 1 || r.left < -1) && !inScroller(el); })
    .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' “' + (el.innerText || el.name || '').trim().slice(0, 30) + '”');
  return {scrollWidth: document.scrollingElement.scrollWidth, outside: outside};
}"""


def assert_fits(page, width=375):
    found = page.evaluate(MEASURE_FIT, width)
    assert found["scrollWidth"] <= width, f"{page.url}: the page is {found['scrollWidth']} px wide"
    assert not found["outside"], f"{page.url}: past the screen's edge: {found['outside']}"


def test_a_network_handler_works_from_a_phone(chromium, live_server, settings, hotline_agent, network_handler,
                                              make_order):
    """375 px, the width of a common phone: My tasks, the department queue and the order page fit the screen
    (wide tables scroll on their own), and the handler claims, notes and replies with a thumb."""
    from complaints.models import OrderStatus
    from workflow import services

    settings.LANGUAGE_CODE = "zh-hans"
    held = services.order_claim(actor=network_handler, order=make_order(
        hotline_agent, description="小区地下车库没有信号，已持续一周，客户要求尽快处理。"))
    waiting = make_order(hotline_agent, customer_phone="13900139000", customer_name="欧阳娜娜",
                         description="家中4G信号时有时无，晚上八点到十点几乎无法通话，" * 3)
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 375, "height": 812},
                                   is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.base_url = live_server.url
        browser_login(page, "handler_network")
        shot(page, "phone-home", full_page=True)
        assert_fits(page)

        page.goto(f"{live_server.url}/work/mine/")
        assert held.number in page.locator("#work-table").inner_text()
        shot(page, "phone-my-tasks", full_page=True)
        assert_fits(page)

        page.goto(f"{live_server.url}/work/queue/")
        shot(page, "phone-queue", full_page=True)
        assert_fits(page)
        page.get_by_role("link", name=waiting.number).tap()
        page.wait_for_url(f"**/orders/{waiting.number}/")
        shot(page, "phone-order-to-claim", full_page=True)
        assert_fits(page)
        # What the handler may do comes right after the complaint, not below the timeline and the time limits.
        assert page.locator("#actions").bounding_box()["y"] < page.locator("#timeline").bounding_box()["y"]

        page.locator("#action-claim button[type=submit]").tap()
        page.locator("#current-owner", has_text="网络处理员").wait_for()
        assert_fits(page)

        page.locator("#id_note-body").fill("已联系客户，约好明天上午上门测试信号。")
        page.locator("#action-note button[type=submit]").tap()
        page.locator("#notes", has_text="约好明天上午上门测试信号").wait_for()
        assert_fits(page)

        page.locator("#id_reply-answer").fill("已调整基站天线方向，经测试信号恢复正常。")
        page.locator("#id_reply-result_code").select_option("resolved")
        shot(page, "phone-order-reply", full_page=True)
        assert_fits(page)
        page.locator("#action-reply button[type=submit]").tap()
        page.locator("#order-status", has_text="待审核").wait_for()
        shot(page, "phone-order-replied", full_page=True)
        assert_fits(page)
    finally:
        context.close()
    waiting.refresh_from_db()
    assert waiting.status == OrderStatus.REVIEW
    assert waiting.notes.filter(body__contains="上门测试").exists()


def test_a_department_lead_reads_the_team_and_the_department_view_from_a_phone(
    chromium, live_server, settings, hotline_agent, network_handler, network_lead, make_order
):
    """The lead's own pages at 375 px: the team list, the department dashboard (its charts take the width of the
    screen instead of 560 px) and the knowledge search fit without sideways scrolling."""
    from workflow import services

    settings.LANGUAGE_CODE = "zh-hans"
    services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 375, "height": 812},
                                   is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.base_url = live_server.url
        browser_login(page, "lead_network")
        for path, name in (("/work/team/", "team"), ("/dashboard/department/", "department-view"),
                           ("/knowledge/?q=信号", "knowledge")):
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            shot(page, f"phone-lead-{name}", full_page=True)
            assert_fits(page)
    finally:
        context.close()
