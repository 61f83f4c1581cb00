"""Personas and a small world: one province, two cities, a category tree with a leaf that names its department.

- hotline_agent: frontline agent of the Guangzhou hotline
- outsider: frontline agent of the Shenzhen hotline (another city)
- province_dispatcher: dispatcher of the provincial complaint centre (sees the whole province)
- billing_handler / network_lead: back-office staff
- quality_manager: province quality department
- channel_system: the hotline CTI's API account (province)
"""

import pytest
from rest_framework.test import APIClient

from complaints.models import Category
from org import roles
from org.models import Department, Region
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    DepartmentFactory,
    RegionFactory,
    UserFactory,
    channel,
)


def _restore_reference_data():
    """Transactional tests flush the tables, taking the rows the data migrations seeded; put them back."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    if Group.objects.exists():
        return
    importlib.import_module("org.migrations.0002_create_roles").create_roles(apps, None)
    importlib.import_module("org.migrations.0003_emergency_group_role").create_emergency_role(apps, None)
    importlib.import_module("workflow.migrations.0003_seed_workflow_policy").seed(apps, None)
    importlib.import_module("workflow.migrations.0006_seed_calendar_and_time_limits").seed(apps, None)
    importlib.import_module("workflow.migrations.0013_split_seeded_calendar_and_policy_texts").split(apps, None)
    importlib.import_module("complaints.migrations.0003_seed_channels_and_defaults").seed(apps, None)
    importlib.import_module("complaints.migrations.0013_grant_phone_permissions").grant(apps, None)
    importlib.import_module("sms.migrations.0002_seed_policy_and_templates").seed(apps, None)


@pytest.fixture(autouse=True)
def _reference_data(request):
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    )
    if uses_db:
        request.getfixturevalue("db" if "transactional_db" not in request.fixturenames else "transactional_db")
        _restore_reference_data()


@pytest.fixture(autouse=True)
def _english_and_tmp_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"
    from core.memo import clear_all

    clear_all()  # policies are read through a per-process memo; each test starts from the database
    # Tests create many users; the production hasher's deliberate slowness would dominate the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _cache_of_its_own(settings):
    """Each test counts in a cache namespace of its own: the rate limits' counters (API throttles, failed logins
    per address, public look-ups) live in Redis, which every test and both xdist workers share, so one test's
    requests would otherwise spend another's budget. The namespace's keys are deleted afterwards."""
    import uuid

    from django.conf import settings as live

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    cache = live.CACHES["default"]  # as configured (a test may point the cache elsewhere)
    settings.CACHES = {"default": {**cache, "KEY_PREFIX": prefix}}
    yield
    if "redis" in cache["BACKEND"].lower():
        import redis

        client = redis.Redis.from_url(cache["LOCATION"])
        try:
            keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


@pytest.fixture
def province(db):
    return RegionFactory(code="44", name="广东省", level=Region.Level.PROVINCE)


@pytest.fixture
def guangzhou(province):
    return RegionFactory(code="4401", name="广州市", level=Region.Level.CITY, parent=province)


@pytest.fixture
def tianhe(guangzhou):
    return RegionFactory(code="440106", name="天河区", level=Region.Level.COUNTY, parent=guangzhou)


@pytest.fixture
def shenzhen(province):
    return RegionFactory(code="4403", name="深圳市", level=Region.Level.CITY, parent=province)


@pytest.fixture
def billing_dept(province):
    return DepartmentFactory(code="billing", name="计费账务部", kind=Department.Kind.BACK_OFFICE, region=province)


@pytest.fixture
def network_dept(province):
    return DepartmentFactory(code="network", name="网络运维部", kind=Department.Kind.BACK_OFFICE, region=province)


@pytest.fixture
def hotline_agent(guangzhou):
    dept = DepartmentFactory(code="gz-hotline", name="广州热线", kind=Department.Kind.FRONTLINE, region=guangzhou,
                             channel=channel("hotline"))
    return UserFactory(username="agent_gz", display_name="王小红", department=dept, roles=[roles.FRONTLINE_AGENT])


@pytest.fixture
def outsider(shenzhen):
    dept = DepartmentFactory(code="sz-hotline", name="深圳热线", kind=Department.Kind.FRONTLINE, region=shenzhen,
                             channel=channel("hotline"))
    return UserFactory(username="agent_sz", display_name="李明", department=dept, roles=[roles.FRONTLINE_AGENT])


@pytest.fixture
def province_dispatcher(province):
    dept = DepartmentFactory(code="centre", name="省客服中心", kind=Department.Kind.COMPLAINT_CENTRE, region=province)
    return UserFactory(username="dispatcher", display_name="调度员", department=dept, roles=[roles.DISPATCHER])


@pytest.fixture
def billing_handler(billing_dept):
    return UserFactory(username="handler_billing", display_name="计费处理员", department=billing_dept,
                       roles=[roles.HANDLER])


@pytest.fixture
def network_lead(network_dept):
    return UserFactory(username="lead_network", display_name="网络主管", department=network_dept, roles=[roles.LEAD])


@pytest.fixture
def quality_manager(province):
    dept = DepartmentFactory(code="quality", name="品质管理部", kind=Department.Kind.QUALITY, region=province)
    return UserFactory(username="quality", display_name="品质经理", department=dept, roles=[roles.QUALITY_MANAGER])


@pytest.fixture
def channel_system(province):
    dept = DepartmentFactory(code="cti", name="热线CTI", kind=Department.Kind.FRONTLINE, region=province,
                             channel=channel("hotline"))
    return UserFactory(username="cti", display_name="热线CTI系统", department=dept, roles=[roles.CHANNEL_SYSTEM])


@pytest.fixture
def no_role_user(guangzhou):
    return UserFactory(username="nobody", department=None)


@pytest.fixture
def category_tree(db, network_dept, billing_dept):
    """NET > NET-MOB > NET-MOB-COV (leaf, network dept, with 口径) and BIL > BIL-DSP (leaf)."""
    net = CategoryFactory(code="NET", name="网络质量", name_en="Network quality")
    mob = CategoryFactory(code="NET-MOB", name="移动网络", name_en="Mobile network", parent=net)
    cov = CategoryFactory(code="NET-MOB-COV", name="信号覆盖", name_en="Signal coverage", parent=mob,
                          responsible_department=network_dept,
                          standard_answer="您好，我们已记录您所在位置的信号问题，网络部门将在24小时内核查。")
    bil = CategoryFactory(code="BIL", name="计费收费", name_en="Billing")
    dsp = CategoryFactory(code="BIL-DSP", name="话费争议", name_en="Charge dispute", parent=bil,
                          responsible_department=billing_dept)
    return {"NET": net, "NET-MOB": mob, "NET-MOB-COV": cov, "BIL": bil, "BIL-DSP": dsp}


@pytest.fixture
def coverage(category_tree) -> Category:
    return category_tree["NET-MOB-COV"]


@pytest.fixture
def dispute(category_tree) -> Category:
    return category_tree["BIL-DSP"]


@pytest.fixture
def customer(guangzhou):
    return CustomerFactory(phone="13800138000", name="张三", home_region=guangzhou)


def api_client_for(user, scopes=None) -> APIClient:
    """An API client with a fresh token of the user's (every scope unless given: the role then decides)."""
    from org.models import ApiScope
    from org.tokens import token_issue

    client = APIClient()
    _token, key = token_issue(actor=None, user=user, name=f"test {user.username}",
                              scopes=list(ApiScope.values) if scopes is None else scopes)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def api_for():
    return api_client_for


@pytest.fixture
def make_order(coverage):
    """Log an order through the real intake service; keyword overrides go straight to order_create."""
    from workflow.intake import order_create

    def _make(actor, **overrides):
        values = dict(kind="complaint", channel=channel("hotline"), category=coverage, severity="ordinary",
                      description="家里没有信号", customer_phone="13800138000")
        values.update(overrides)
        return order_create(actor=actor, **values).order

    return _make


# --- Browser tests: Debian's Chromium driven by Playwright (never a downloaded browser). ---

ARTIFACTS = __import__("pathlib").Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    import os

    from playwright.sync_api import sync_playwright

    if not os.path.exists("/usr/bin/chromium"):
        pytest.fail("Debian's chromium is not installed (make test installs it with apt-get).")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, live_server):
    """A fresh browser context per test, Chinese UI, Shanghai time; a screenshot is kept when the test fails."""
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20_000)  # a loaded CI machine; a missing element still fails within 20 s
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    context.close()


def browser_login(page, username, password="pw-for-tests-only"):
    page.goto(f"{page.base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].primary")
    page.wait_for_load_state("networkidle")


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def network_handler(network_dept):
    return UserFactory(username="handler_network", display_name="网络处理员", department=network_dept,
                       roles=[roles.HANDLER])


@pytest.fixture
def network_handler_2(network_dept):
    return UserFactory(username="handler_network2", display_name="网络处理员二", department=network_dept,
                       roles=[roles.HANDLER])


@pytest.fixture
def billing_lead(billing_dept):
    return UserFactory(username="lead_billing", display_name="计费主管", department=billing_dept, roles=[roles.LEAD])


@pytest.fixture
def centre_lead(province_dispatcher):
    return UserFactory(username="centre_manager", display_name="中心经理", department=province_dispatcher.department,
                       roles=[roles.LEAD])


@pytest.fixture
def emergency_member(province):
    dept = DepartmentFactory(code="emergency", name="应急小组", kind=Department.Kind.COMPLAINT_CENTRE, region=province)
    return UserFactory(username="emergency", display_name="应急小组成员", department=dept, roles=[roles.EMERGENCY])


@pytest.fixture
def login_client(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def week(hotline_agent, outsider, province_dispatcher, network_handler, network_lead, coverage, dispute,
         billing_handler):
    """The hand-made week of tests/kpi_world.py, counted into the rollups."""
    from quality.facts import open_orders_snapshot, rollups_apply
    from tests.kpi_world import build_week

    orders = build_week(agent=hotline_agent, outsider=outsider, dispatcher=province_dispatcher,
                        handler=network_handler, lead=network_lead, coverage=coverage, dispute=dispute)
    rollups_apply()
    open_orders_snapshot()
    return orders
