"""The demo (`manage.py seed_demo`) looks like an ordinary working day whenever it is started: most open orders
within their limits, some warned, few overdue or escalated; descriptions worded for their category; incidents and
bulletins filed where their complaints are; demo users with addresses the notification e-mails go to."""

import io
import json
import random
from collections import Counter
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from complaints.models import Category, WorkOrder
from demo.management.commands.seed_demo import CATEGORY_FILE, UNREAD_WINDOW, USERS
from demo.phrasings import PHRASINGS_FILE, Phrasings
from org.models import User
from quality.models import Bulletin, Incident
from workflow import notifications
from workflow import services as flow
from workflow.calendar import SHANGHAI
from workflow.models import Notification

pytestmark = pytest.mark.django_db

# Where a title's words put an incident or bulletin in the category tree (codes the category must start with).
TITLE_FAMILIES = [
    ("基站", ("NET-MOB",)), ("信号", ("NET-MOB",)), ("覆盖", ("NET-MOB",)),
    ("宽带", ("NET-FBB", "NET-FIX")), ("IPTV", ("NET-FIX",)), ("固话", ("NET-FIX",)),
    ("短信", ("NET-MOB-MSG", "BIL")), ("话费", ("BIL", "FEE", "NET-MOB-MSG")),
]


def _leaves(nodes):
    for node in nodes:
        if node.get("children"):
            yield from _leaves(node["children"])
        else:
            yield node["code"]


def _seed(tmp_path, settings, *args):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", "--quiet-logins", *args, stdout=io.StringIO())


def test_every_leaf_category_has_several_phrasings_with_known_slots():
    tree = json.loads(CATEGORY_FILE.read_text(encoding="utf-8"))
    phrasings = json.loads(PHRASINGS_FILE.read_text(encoding="utf-8"))
    leaves = set(_leaves(tree["tree"]))
    assert leaves == set(phrasings["leaves"])
    assert all(len(phrasings["leaves"][code]) >= 3 for code in leaves)
    assert set(phrasings["answers"]) == {node["code"] for node in tree["tree"]}
    demo = Phrasings(phrasings)
    rng = random.Random(1)
    for code in leaves:
        for index in range(len(phrasings["leaves"][code])):
            text = demo.description(code=code, region_code="440305", received=timezone.now(), rng=rng,
                                    phrasing=index)
            assert "{" not in text and demo.matches(code=code, text=text), text


# A weekday afternoon, and a Monday early morning (the weekend's orders and working-hour limits meet).
MOMENTS = [datetime(2026, 11, 25, 15, 20, tzinfo=SHANGHAI), datetime(2026, 11, 30, 7, 40, tzinfo=SHANGHAI)]


@pytest.mark.parametrize("moment", MOMENTS, ids=["wednesday-afternoon", "monday-early"])
def test_the_demo_is_an_ordinary_working_day(moment, tmp_path, settings):
    with time_machine.travel(moment, tick=False):
        _seed(tmp_path, settings, "--recent-days", "3")
        now = timezone.now()
        open_orders = [o for o in WorkOrder.objects.filter(external_ref__startswith="DEMO-", incident=None)
                       if o.is_open]
        states = Counter(order.deadline_state(now) for order in open_orders)
    timed = sum(states[s] for s in ("on_track", "warning", "overdue"))
    assert timed >= 25, states
    assert states["on_track"] / timed >= 0.55, states
    assert states["warning"] >= 1 and states["warning"] / timed <= 0.35, states
    if moment.weekday() < 5 and 9 <= moment.hour < 17:  # in working hours the warning zones are full
        assert states["warning"] / timed >= 0.08, states
    assert states["overdue"] / timed <= 0.1, states
    escalated = [o for o in open_orders if o.escalation_level > 0]
    assert len(escalated) <= max(3, 0.2 * len(open_orders)) and all(o.escalation_level < 3 for o in escalated)
    unread = Counter(Notification.objects.filter(read_at__isnull=True).values_list("recipient__username", flat=True))
    assert max(unread.values(), default=0) <= 15, unread
    # Nothing from the past waits in the outbox to be e-mailed at start: only what came today and yesterday.
    assert not Notification.objects.filter(emailed_at__isnull=True, created_at__lt=now - UNREAD_WINDOW).exists()


def test_descriptions_incidents_and_bulletins_fit_their_categories(tmp_path, settings):
    _seed(tmp_path, settings, "--orders", "2000", "--recent-days", "2")
    phrasings = Phrasings.load()
    orders = WorkOrder.objects.filter(external_ref__startswith="DEMO-").select_related("category")
    assert orders.count() >= 40
    wrong = [(o.category.code, o.description) for o in orders
             if not phrasings.matches(code=o.category.code, text=o.description)]
    assert not wrong, wrong[:5]
    # Several phrasings per category really appear, their details differing (not one sentence for all).
    assert len({o.description for o in orders}) > 0.6 * orders.count()
    by_category = Counter(o.category.code for o in orders)
    busy = [code for code, count in by_category.items() if count >= 4]
    assert all(len({o.description for o in orders if o.category.code == code}) >= 2 for code in busy)
    incidents = list(Incident.objects.select_related("category"))
    assert incidents
    for incident in incidents:
        assert _fits(incident.title, [incident.category]), (incident.title, incident.category.code)
        assert all(o.category.path.startswith(incident.category.path) for o in incident.orders.all())
    for bulletin in Bulletin.objects.prefetch_related("categories"):
        assert _fits(bulletin.title, list(bulletin.categories.all())), bulletin.title


def _fits(title: str, categories: list[Category]) -> bool:
    families = [prefixes for word, prefixes in TITLE_FAMILIES if word in title]
    return bool(families and categories) and all(
        any(category.code.startswith(prefix) for prefixes in families for prefix in prefixes)
        for category in categories)


def test_demo_users_have_addresses_and_their_notifications_are_e_mailed(tmp_path, settings):
    _seed(tmp_path, settings, "--orders", "0")
    users = {u.username: u for u in User.objects.filter(username__in=[row[0] for row in USERS])}
    assert set(users) == {row[0] for row in USERS}
    assert all(u.email and "@" in u.email for u in users.values()), [u.username for u in users.values() if not u.email]
    assert len({u.email for u in users.values()}) == len(users)
    order = _an_order_for_the_lead(users)
    notifications.notifications_send_pending()
    mail.outbox.clear()
    flow.order_assign(actor=users["lead_network"], order=order, assignee=users["handler_network"])
    assert notifications.notifications_send_pending() >= 1
    assert [m.to for m in mail.outbox] == [[users["handler_network"].email]]


def _an_order_for_the_lead(users):
    from workflow.intake import order_create

    leaf = Category.objects.get(code="NET-MOB-COV-01")
    order = order_create(actor=users["agent_gz"], kind="complaint", channel=users["agent_gz"].department.channel,
                         category=leaf, severity="major", description="客户反映家里室内信号只有一格。",
                         customer_phone="13800138000").order
    if order.status == "new":
        order = flow.order_dispatch(actor=users["dispatcher"], order=order, department=users["lead_network"].department)
    return order


def test_recent_days_first_then_the_history_without_duplicates(tmp_path, settings):
    _seed(tmp_path, settings, "--orders", "300", "--recent-days", "10")
    recent = WorkOrder.objects.filter(external_ref__startswith="DEMO-").count()
    assert 0 < recent < 100
    assert all(timezone.now() - o.received_at < timedelta(days=10, hours=1)
               for o in WorkOrder.objects.filter(external_ref__startswith="DEMO-"))
    _seed(tmp_path, settings, "--orders", "300")
    assert WorkOrder.objects.filter(external_ref__startswith="DEMO-").count() == 300
    assert WorkOrder.objects.filter(external_ref__startswith="DEMO-").values("external_ref").distinct().count() == 300
    # Ninety days of history: what is still open is this week's work, not weeks-old leftovers escalated to the top.
    now = timezone.now()
    still_open = [o for o in WorkOrder.objects.filter(external_ref__startswith="DEMO-") if o.is_open]
    assert all(now - o.received_at < timedelta(days=8) for o in still_open), [
        (o.external_ref, o.status, o.received_at) for o in still_open if now - o.received_at >= timedelta(days=8)]
    assert not [o for o in still_open if o.escalation_level >= 3]
