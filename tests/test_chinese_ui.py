"""Everything in Chinese in the Chinese UI. Each demo role (seed_demo) walks its pages in zh-Hans — its navigation,
what the navigation links to, and every page of the URL conf it may open (one sample of each kind: an order, a
queue, the dashboards, the accountability, knowledge, support and early-warning pages) — and the administrator
opens every admin changelist, add and change page. The visible text (no script or style; with titles,
placeholders, button values and option labels) must hold no run of Latin words other than the short list below;
every offending text is printed with its page.

What may stay Latin, and why:
- product, technology and format names the operators use as they are: API, CSV, Excel, PDF, HTML, HTTP, SQL,
  LDAP, ECharts, holidays (the calendar package); telecom terms in the operators' category names and answers (APP,
  IPTV, VoLTE, DNS, SMS, SP, IP, VIP, KPI, CTI, IT); Django's own keyboard hints (Control, Command, Mac, Ctrl,
  Enter); the language switch's "English" (a language is offered in its own name);
- numbers and codes: order numbers (TS2026…), category, department, region, calendar, indicator and deduction
  codes, API scopes (orders:read), anything with a digit in it (5G, p90), file names (photo.png), commands
  (manage.py calendar_load), and the SMS command codes of the demo's number-porting answer (CXXZ, SQXZ);
- the operators' own English data: the value of every "(English)" field (channel and category names …), shown in
  admin lists beside the Chinese one;
- data structures shown as they are stored (a JSON field's content in admin, django-axes' "<unknown>" path);
- usernames and e-mail addresses, URLs and paths;
- units and notation: h, min, ms, s, pp (percentage points), p (a test's p value).
Images' alt texts and aria-labels are for screen readers and not checked here.
"""

import io
import json
import re
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from tests.test_permission_matrix import FIXED_MOMENT, World, url_names
from workflow.order_import import MAPPING_KEYS

pytestmark = pytest.mark.django_db

ACRONYMS = {"API", "CSV", "JSON", "Excel", "PDF", "HTML", "HTTP", "HTTPS", "SQL", "LDAP", "ECharts", "holidays", "APP", "IPTV",
            "VoLTE", "DNS", "SMS", "SP", "IP", "VIP", "KPI", "CTI", "IT", "ID", "URL", "SLA", "Control", "Command", "Mac",
            "Ctrl", "Enter", "English", "CXXZ", "SQXZ", "xhfg", "h", "min", "ms", "s", "pp", "p",
            "TD",  # 回复TD退订: the word customers text to opt out of SMS
            "DELIVRD"}  # the SMS gateways' (CMPP) delivery-receipt code, shown as it came
ROLES = ["agent_gz", "lead_gz_hotline", "dispatcher", "handler_network", "lead_network", "emergency", "quality",
         "admin"]
# Not pages: leaving, switching language, downloads, machine-readable answers, actions.
SKIP = re.compile(r"/accounts/logout/|/i18n/|[?&]format=|/export|\.pdf$|\.csv$|\.xlsx$|/attachments/|/admin/logout/"
                  r"|^/api/|^/metrics|^/healthz|/actions/|/phone/|/admin/jsi18n/|/download")
SAMPLES_PER_ROUTE = 2  # pages of one kind (two orders, two articles …) say the same words
WORD = r"[A-Za-z0-9][A-Za-z0-9_.:'’\-/]*"
LATIN_RUN = re.compile(rf"(?<![\w.:/-]){WORD}(?:[ \t]+{WORD})*")
# SMS templates' {placeholders}, settings' names (SMS_INBOUND_TOKEN), e-mail addresses, URLs, paths, management
# commands
NOT_WORDS = re.compile(r"\{\w+\}|\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\S+@\S+|https?://\S+|(?<![\w])/[\w\-./?=&%]*|manage\.py [\w-]+|\S*\*{3,}\S*|<unknown>")


class VisibleText(HTMLParser):
    """The text a user reads: text nodes outside script/style, plus the attributes a browser shows."""

    HIDDEN = {"script", "style", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self._hidden += 1
        attrs = dict(attrs)
        for name in ("title", "placeholder"):
            if attrs.get(name):
                self.texts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
            self.texts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.texts.append(data.strip())


def visible_texts(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.texts


def untranslated(text: str, allowed: set[str]) -> list[str]:
    """The runs of Latin words in the text that are not on the list (codes, names, units)."""
    if _is_json(text):
        return []
    runs = []
    for run in LATIN_RUN.findall(NOT_WORDS.sub(" ", text)):
        words = [w.strip(".'’-/:") for w in run.split()]
        if any(w and not _allowed(w, allowed) for w in words):
            runs.append(run)
    return runs


def _allowed(word: str, allowed: set[str]) -> bool:
    return (word in ACRONYMS or word in allowed or any(c.isdigit() for c in word)
            or any(part in ACRONYMS for part in word.split("/") if part) and all(
                not part or part in ACRONYMS for part in word.split("/"))
            or bool(re.fullmatch(r"[A-Z]{2,}(?:-[A-Z0-9]+)+", word))  # category codes: NET-MOB-COV
            or bool(re.fullmatch(r"[a-z_]+:[a-z_]+", word))  # API scopes: orders:read
            or bool(re.fullmatch(r"ct_[A-Za-z0-9_-]+", word))  # an API token's public prefix
            or bool(re.fullmatch(r"[\w.-]+\.(?:png|jpe?g|pdf|csv|xlsx|json|py|txt)", word))  # file names
            or word in MAPPING_KEYS)  # the historical import mapping's keys, quoted as they are written


def _is_json(text: str) -> bool:
    if not text.startswith(("{", "[")):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def data_codes() -> set[str]:
    """Codes and names the operators' data carries as they are (shown in admin lists and pickers)."""
    from django.apps import apps

    from org.models import User

    codes = set(User.objects.values_list("username", flat=True))
    for model in apps.get_models():
        fields = {f.name for f in model._meta.concrete_fields}
        for name in fields:
            if name == "code" or name.endswith("_en") or name.startswith("pinyin"):  # codes, English, pinyin
                codes |= {v for v in model.objects.values_list(name, flat=True).distinct()[:2000] if v}
    return {word.strip(".'’-/:") for code in codes for word in str(code).split()}


class Crawl:
    def __init__(self, client: Client, who: str, allowed: set[str]):
        self.client, self.who, self.allowed = client, who, allowed
        self.offences: dict[str, set[str]] = defaultdict(set)
        self.seen: set[str] = set()
        self.per_route: dict[str, int] = defaultdict(int)
        self.pages = 0

    def visit(self, path: str, *, follow_links: bool = True) -> None:
        if path in self.seen or SKIP.search(path):
            return
        self.seen.add(path)
        try:
            route = resolve(urlparse(path).path).view_name
        except Resolver404:
            return
        self.per_route[route] += 1
        if self.per_route[route] > SAMPLES_PER_ROUTE:
            return
        response = self.client.get(path)
        assert response.status_code < 500, f"{self.who} {path}: HTTP {response.status_code}"
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            return
        self.pages += 1
        html = response.content.decode()
        for text in visible_texts(html):
            for run in untranslated(text, self.allowed):
                self.offences[f"{run!r}  (in {text[:80]!r})"].add(f"{self.who} {path}")
        if follow_links:
            for href in re.findall(r'href="([^"#]+)"', html):
                url = urlparse(urljoin(path, href.replace("&amp;", "&")))
                if not url.netloc:
                    self.visit(url.path + (f"?{url.query}" if url.query else ""))


def role_pages(world: World) -> list[str]:
    """Every browser page of the URL conf, filled with the sample objects of the permission matrix."""
    paths = []
    for name, pattern in url_names():
        if name.startswith("api") or ":api" in name or name in ("set_language", "logout"):
            continue
        try:
            paths.append(reverse(name, kwargs=world.kwargs(name, pattern)) + world.query(name))
        except (AssertionError, NoReverseMatch, KeyError):
            continue
    return paths


def admin_pages() -> list[str]:
    paths = ["/admin/"]
    for model in admin.site._registry:
        meta = model._meta
        paths.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        paths.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        if first is not None:
            paths.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first]))
    paths.append(reverse("admin:app_list", args=["axes"]))
    return paths


def zh_client(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def demo_world(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "zh-hans"
    with time_machine.travel(FIXED_MOMENT, tick=True):
        call_command("seed_demo", "--orders", "60", "--quiet-logins", stdout=io.StringIO())
        yield World()


def test_every_page_of_every_role_and_the_admin_is_in_chinese(demo_world):
    allowed = data_codes()
    report, pages = {}, 0
    anonymous = Crawl(zh_client(), "anonymous", allowed)
    for path in ("/accounts/login/", "/track/"):
        anonymous.visit(path, follow_links=False)
    crawls = [anonymous]
    for username in ROLES:
        crawl = Crawl(zh_client(demo_world.users[username]), username, allowed)
        crawl.visit("/")
        for path in role_pages(demo_world) + (admin_pages() if username == "admin" else []):
            crawl.visit(path, follow_links=False)
        crawls.append(crawl)
    for crawl in crawls:
        pages += crawl.pages
        for offence, where in crawl.offences.items():
            report.setdefault(offence, set()).update(where)
    assert pages > 150, pages  # the crawl really walked the product
    lines = [f"{offence}\n      on {', '.join(sorted(where)[:4])}{' …' if len(where) > 4 else ''}"
             for offence, where in sorted(report.items())]
    assert not lines, f"{len(lines)} untranslated texts in the Chinese UI:\n" + "\n".join(lines)


@pytest.mark.parametrize(("text", "expected"), [
    ("工单 TS20261118000001 已受理", []),
    ("导出 CSV / Excel", []),
    ("VIP 客户 · 4G 网络 · 12 h · +0.5 pp", []),
    ('{"kind": "complaint"}', []),
    ("线上渠道(APP/网厅) · photo.png · orders:read · 热线CTI (ct_hJruDpn…)", []),
    ("联系 agent_gz，邮件 a.b@example.com，https://example.com/x", []),
    ("NET-MOB-COV 覆盖", []),
    ("Django 管理", ["Django"]),
    ("由 system 处理", ["system"]),
    ("状态 in_progress", ["in_progress"]),
    ("Axes", ["Axes"]),
    ("Select 工单 to change", ["Select", "to change"]),
])
def test_the_checker_flags_latin_words_and_lets_codes_pass(text, expected):
    assert untranslated(text, {"agent_gz"}) == expected


def test_the_visible_text_includes_what_a_browser_shows():
    html = ('<title>T</title><script>var x = "Hidden";</script><style>.a{}</style><p title="Tip">正文</p>'
            '<input placeholder="Search"><input type="submit" value="Save"><select><option>Yes</option></select>'
            '<img alt="True">')
    assert visible_texts(html) == ["T", "Tip", "正文", "Search", "Save", "Yes"]
