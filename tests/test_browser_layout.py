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
