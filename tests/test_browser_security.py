"""In Chromium, with the site's Content Security Policy: every page a role reaches from its navigation renders
without a single policy violation (no inline script or style, no eval, nothing from another origin), and without
a server error. The demo data gives each page something to show."""

import re
from collections import deque
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from django.core.management import call_command

from tests.conftest import browser_login

pytestmark = pytest.mark.django_db(transaction=True)

# Links not followed: leaving, switching language, downloads, and actions behind a GET confirmation.
SKIP = re.compile(r"/accounts/logout/|/i18n/|[?&]format=|/export|\.pdf$|\.csv$|\.xlsx$|/attachments/|/admin/logout/")
PAGES_PER_ROLE = 14
# What fetches more after the page has loaded (htmx panels loading themselves, progress polling); only such pages
# are waited on until the network is idle (half a second of quiet per page, for a hundred pages, was most of the
# crawl).
LOADS_MORE = "[hx-trigger*='load'], [hx-trigger*='every'], [hx-trigger*='revealed'], [hx-trigger*='intersect']"
ROLES = ["agent_gz", "dispatcher", "handler_network", "lead_network", "quality", "admin"]
# Pages with charts, forms and widgets of their own, besides what the navigation leads to.
EXTRA = {
    "agent_gz": ["/intake/", "/knowledge/", "/support/new/", "/track/"],
    "dispatcher": ["/early-warning/incidents/", "/early-warning/bulletins/", "/accountability/determinations/"],
    "lead_network": ["/dashboard/department/", "/accountability/ranking/", "/support/"],
    "quality": ["/dashboard/", "/dashboard/hotspots/", "/dashboard/compare/", "/dashboard/kpis/",
                "/dashboard/orders/", "/reports/monthly/", "/follow-ups/", "/knowledge/feedback/"],
    "admin": ["/admin/", "/admin/complaints/workorder/", "/admin/workflow/timelimitpolicy/add/", "/api/docs/"],
}


@pytest.fixture
def demo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", "--orders", "40", "--quiet-logins", stdout=open("/dev/null", "w"))
    return (Path(tmp_path) / "demo-password.txt").read_text().strip()


def crawl(page, start_paths):
    """Breadth-first over same-origin links from the start pages; returns (visited, violations, errors)."""
    origin = urlparse(page.base_url).netloc
    violations, errors, visited = [], [], []
    def on_console(message):
        if "Content Security Policy" in message.text:
            violations.append(f"{page.url}: {message.text}")

    def on_error(error):
        errors.append(f"{page.url}: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_error)
    queue, seen = deque(start_paths), set(start_paths)
    while queue and len(visited) < PAGES_PER_ROLE + len(start_paths):
        path = queue.popleft()
        response = page.goto(urljoin(page.base_url, path))  # waits for "load": scripts and styles have run
        if page.locator(LOADS_MORE).count():  # a panel that fetches once loaded: wait until it has come
            page.wait_for_load_state("networkidle")
        visited.append(path)
        if response.status >= 500:
            errors.append(f"{path}: HTTP {response.status}")
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            url = urlparse(urljoin(page.url, href))
            target = url.path + (f"?{url.query}" if url.query else "")
            if url.netloc == origin and not SKIP.search(target) and target not in seen and not href.startswith("#"):
                seen.add(target)
                queue.append(target)
    page.remove_listener("console", on_console)
    page.remove_listener("pageerror", on_error)
    return visited, violations, errors


def test_pages_satisfy_the_content_security_policy(demo, browser_page):
    """Every role in turn on one seeded demo (seeding it once per role cost a minute of the suite): each logs in on
    a fresh session and crawls; the failures of all roles are reported together."""
    page = browser_page
    failures = []
    for username in ROLES:
        page.context.clear_cookies()
        browser_login(page, username, demo)
        visited, violations, errors = crawl(page, ["/", *EXTRA.get(username, [])])
        if len(visited) < 8:
            failures.append(f"{username}: only {len(visited)} pages reached: {visited}")
        failures += [f"{username}: {line}" for line in violations + errors]
    assert not failures, "\n".join(failures)
