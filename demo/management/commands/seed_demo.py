"""Demo data for a first look: a province with cities and counties, a dozen departments, a user for every
role, the category tree, customers and about 2,000 orders over the last 90 days. Re-running adds nothing twice."""

import json
import random
import secrets
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import time_machine
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accountability import scoring
from accountability import services as accountability
from accountability.models import (
    Cause,
    DeductionItem,
    Determination,
    ImprovementOrder,
    Indicator,
    MonthlyNotice,
    MonthlyScore,
    ResponsibilityRule,
    RuleShare,
)
from accountability.services import accountability_finalise_due
from complaints.models import Brand, Category, Channel, Customer, OrderSource, Tier, WorkOrder
from complaints.selectors import category_responsible_department, leaf_categories
from demo.phrasings import Phrasings
from demo.support_requests import seed_support_requests
from knowledge import services as knowledge
from knowledge.models import Article, Case
from org import roles
from org.models import ApiScope, ApiToken, Department, Region, User
from org.tokens import key_hash, token_issue
from quality import services as follow_ups
from quality.batch import bulletin_publish, incident_attach_open_orders, incident_feedback, incident_open
from quality.facts import open_orders_snapshot, rollups_apply
from quality.models import BatchPolicy, Bulletin, FollowUp, Incident, KpiTarget, SubscriberCount
from reports.monthly import monthly_reports_due
from sms.models import SmsMessage
from workflow import services as flow
from workflow.calendars import work_calendar
from workflow.intake import OnSpotAnswer, order_create
from workflow.models import Notification, OrderStage
from workflow.sweep import sweep

CATEGORY_FILE = Path(settings.BASE_DIR) / "complaints" / "data" / "telecom_categories_zh.json"

REGIONS = [  # code, name, level, parent code
    ("44", "广东省", 1, None),
    ("4401", "广州市", 2, "44"), ("440106", "天河区", 3, "4401"), ("440104", "越秀区", 3, "4401"),
    ("4403", "深圳市", 2, "44"), ("440305", "南山区", 3, "4403"), ("440304", "福田区", 3, "4403"),
    ("4406", "佛山市", 2, "44"), ("440604", "禅城区", 3, "4406"),
    ("4419", "东莞市", 2, "44"),
]

DEPARTMENTS = [  # code, name, kind, region, channel
    ("centre", "省客服中心（投诉处理中心）", "complaint_centre", "44", None),
    ("billing", "计费账务部", "back_office", "44", None),
    ("network", "网络运维部", "back_office", "44", None),
    ("vas", "增值业务部", "back_office", "44", None),
    ("it", "IT支撑中心", "back_office", "44", None),
    ("marketing", "市场营销部", "back_office", "44", None),
    ("quality", "品质管理部", "quality", "44", None),
    ("gz-hotline", "广州10086热线", "frontline", "4401", "hotline"),
    ("sz-hotline", "深圳10086热线", "frontline", "4403", "hotline"),
    ("th-hall", "天河营业厅", "frontline", "440106", "hall"),
    ("sz-am", "深圳集团客户经理部", "frontline", "4403", "account_manager"),
    ("fs-outlet", "佛山禅城代办网点", "frontline", "440604", "agent_outlet"),
    ("cti", "热线CTI接口", "frontline", "44", "hotline"),
]

# Every demo user has an address at the reserved example.com domain, so notifications really leave through the
# e-mail backend (the console by default: they appear in the worker's output).
EMAIL_DOMAIN = "demo.example.com"
USERS = [  # username, display name, department, roles, is_staff
    ("agent_gz", "王小红（广州热线）", "gz-hotline", [roles.FRONTLINE_AGENT], False),
    ("agent_sz", "李明（深圳热线）", "sz-hotline", [roles.FRONTLINE_AGENT], False),
    ("agent_hall", "陈静（天河营业厅）", "th-hall", [roles.FRONTLINE_AGENT], False),
    ("am_sz", "赵强（客户经理）", "sz-am", [roles.FRONTLINE_AGENT], False),
    ("agent_outlet", "刘芳（代办网点）", "fs-outlet", [roles.FRONTLINE_AGENT], False),
    ("lead_gz_hotline", "黄丽（广州热线主管）", "gz-hotline", [roles.LEAD], False),
    ("dispatcher", "周敏（投诉处理中心）", "centre", [roles.DISPATCHER], False),
    ("handler_billing", "吴刚（计费处理员）", "billing", [roles.HANDLER], False),
    ("lead_billing", "郑华（计费主管）", "billing", [roles.LEAD], False),
    ("handler_network", "孙涛（网络处理员）", "network", [roles.HANDLER], False),
    ("lead_network", "钱伟（网络主管）", "network", [roles.LEAD], False),
    ("handler_vas", "何静（增值业务处理员）", "vas", [roles.HANDLER], False),
    ("lead_vas", "罗军（增值业务主管）", "vas", [roles.LEAD], False),
    ("handler_it", "马超（IT支撑处理员）", "it", [roles.HANDLER], False),
    ("lead_it", "高洋（IT支撑主管）", "it", [roles.LEAD], False),
    ("handler_marketing", "林娟（营销处理员）", "marketing", [roles.HANDLER], False),
    ("lead_marketing", "胡磊（营销主管）", "marketing", [roles.LEAD], False),
    ("manager_centre", "徐平（投诉处理中心经理）", "centre", [roles.LEAD], False),
    ("emergency", "朱勇（应急小组）", "centre", [roles.EMERGENCY], False),
    ("quality", "冯丽（品质经理）", "quality", [roles.QUALITY_MANAGER], False),
    ("admin", "系统管理员", "centre", [roles.ADMIN], True),
    ("cti", "热线CTI系统", "cti", [roles.CHANNEL_SYSTEM], False),
]

# Level-1 family → responsible department (level 3 decides; 其他 has none, so a dispatcher chooses).
RESPONSIBLE = {"NET": "network", "FEE": "marketing", "BIL": "billing", "MKT": "vas", "SVC": "marketing",
               "SEC": "it"}
TRUSTED = {"it"}  # their replies to ordinary orders skip review
CALLBACK_UNITS = {"cti": "gz-hotline"}  # the CTI account's customers are called back by the Guangzhou hotline
STANDARD_ANSWERS = {
    "NET": "您好，非常抱歉给您带来不便。我们已记录您反映的网络问题及所在位置，网络部门将在24小时内核查并回复您。",
    "FEE": "您好，您反映的套餐/资费问题已记录。我们将核实您办理业务时的约定，按约定资费为您处理，并在承诺时限内回复。",
    "BIL": "您好，我们已为您核查近期账单。如确认为系统或工作差错导致的多收费用，将按规定全额退还并致歉。",
    "MKT": "您好，对于未经您同意办理的业务，我们将核实办理记录；确属未经同意的，为您取消并退还相关费用。",
    "SVC": "您好，非常抱歉服务没有让您满意。我们已记录您反映的情况，将在承诺时限内联系您处理。",
    "SEC": "您好，我们高度重视您的信息安全。已记录您反映的骚扰/诈骗线索，将按规定核查处置。",
    "OTH": "您好，您的意见已记录，我们将转相关部门处理并回复您。",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


class Command(BaseCommand):
    help = "Load demo data (idempotent): regions, departments, users for every role, categories, customers, orders."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=2000, help="How many demo orders to reach (default 2000).")
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the demo logins.")
        parser.add_argument(
            "--recent-days", type=float, default=None,
            help="Only the orders received in the last N days, and what needs no history: the working day in well "
                 "under a minute (`make run` starts with this). Running again without it adds the history.")

    def handle(self, *args, orders, quiet_logins, recent_days, **options):
        call_command("import_categories", str(CATEGORY_FILE), stdout=self.stdout)
        with transaction.atomic():
            regions = self._regions()
            departments = self._departments(regions)
            password = self._demo_password()
            users = self._users(departments, password)
            self._categories(departments)
            DemoAccountability.rules(departments)
            BatchPolicy.objects.get_or_create(effective_from=timezone.localdate().replace(month=1, day=1))
        since = timezone.now() - timedelta(days=recent_days) if recent_days is not None else None
        created = self._orders(users, regions, target=orders, since=since)
        if orders >= 500:  # a full demo also has a weak cell generating complaints (a small one stays exact)
            created += self._outage(users, regions)
        if created:
            # What the deadline sweep would have found while these orders were being worked on.

            self.stdout.write(f"Deadline sweep: {sweep()}.")
        DemoWarning(users=users, regions=regions, stdout=self.stdout).run()
        DemoKnowledge(users=users, stdout=self.stdout).run(cases=since is None)
        seed_support_requests(users=users, password=password, stdout=self.stdout)
        DemoQuality(users=users, regions=regions, stdout=self.stdout).run(reports=since is None)
        if orders and since is None:
            DemoAccountability(users=users, stdout=self.stdout).run()
        notifications_seen(before=timezone.now() - UNREAD_WINDOW)
        sms_delivered(before=timezone.now() - UNREAD_WINDOW)
        self.stdout.write(self.style.SUCCESS(f"Demo orders: {created} created, "
                                             f"{WorkOrder.objects.filter(external_ref__startswith='DEMO-').count()} in all."))
        if not quiet_logins:
            self._print_logins(users, password)

    def _regions(self):
        regions = {}
        for code, name, level, parent in REGIONS:
            region = Region.objects.filter(code=code).first()
            if region is None:
                region = Region(code=code, name=name, level=level, parent=regions.get(parent))
                region.save()
            regions[code] = region
        return regions

    def _departments(self, regions):
        channels = {c.code: c for c in Channel.objects.all()}
        departments = {}
        for code, name, kind, region, channel in DEPARTMENTS:
            departments[code], _ = Department.objects.get_or_create(
                code=code, defaults={"name": name, "kind": kind, "region": regions[region],
                                     "channel": channels.get(channel), "trusted": code in TRUSTED},
            )
        for code, unit in CALLBACK_UNITS.items():
            Department.objects.filter(code=code, callback_department=None).update(callback_department=departments[unit])
        return departments

    def _demo_password(self) -> str:
        """One random password per installation, kept in var/ so re-runs print the same one; never in the repo."""
        path = Path(settings.VAR_DIR) / "demo-password.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            return path.read_text().strip()
        password = "demo-" + secrets.token_urlsafe(9)
        path.write_text(password + "\n")
        path.chmod(0o600)
        return password

    def _users(self, departments, password):
        users = {}
        groups = {g.name: g for g in Group.objects.all()}
        hashed = None  # one hash for all: hashing is slow on purpose, and they share the password anyway
        for username, display, dept, role_names, is_staff in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                hashed = hashed or make_password(password)
                user = User(username=username, display_name=display, department=departments[dept],
                            is_staff=is_staff, is_superuser=is_staff, password=hashed,
                            email=f"{username}@{EMAIL_DOMAIN}")
                user.save()
                user.groups.set([groups[name] for name in role_names])
            elif not user.email:  # a demo installed before the users had addresses
                user.email = f"{username}@{EMAIL_DOMAIN}"
                user.save(update_fields=["email"])
            users[username] = user
        self.cti_key = self._demo_token(users["cti"])
        return users

    def _demo_token(self, cti) -> str:
        """The demo CTI's API key: issued once per installation (scopes of a channel system), its key kept in var/
        beside the password so re-runs print it; a revoked or lost one is issued anew."""

        path = Path(settings.VAR_DIR) / "demo-api-key.txt"
        if path.exists():
            key = path.read_text().strip()
            token = ApiToken.objects.filter(key_hash=key_hash(key)).first()
            if token is not None and token.is_live():
                return key
        _token, key = token_issue(actor=None, user=cti, name="热线CTI（演示）",
                                  scopes=[ApiScope.ORDERS_READ, ApiScope.ORDERS_WRITE, ApiScope.ORDERS_ACT])
        path.write_text(key + "\n")
        path.chmod(0o600)
        return key

    def _categories(self, departments):
        for top in Category.objects.filter(parent=None):
            if top.code not in RESPONSIBLE:
                continue
            department = departments[RESPONSIBLE[top.code]]
            answer = STANDARD_ANSWERS.get(top.code, "")
            subtree = Category.objects.filter(path__startswith=top.path)
            subtree.filter(level=3, responsible_department=None).update(responsible_department=department)
            leaves = leaf_categories().filter(path__startswith=top.path, standard_answer="")
            leaves.update(standard_answer=answer)

    def _orders(self, users, regions, *, target, since=None):
        """`target` orders over the last 90 days, each logged and lived through at its moments (only those
        received after `since` when given). Re-runs create only the missing ones."""
        existing = set(WorkOrder.objects.filter(external_ref__startswith="DEMO-").exclude(
            external_ref__startswith="DEMO-OUTAGE-").values_list("external_ref", flat=True))
        if len(existing) >= target:
            return 0
        rng = random.Random(20261123)
        phrasings = Phrasings.load()
        leaves = list(leaf_categories().order_by("path"))
        by_code = {leaf.code: leaf for leaf in leaves}
        channels = list(Channel.objects.filter(is_active=True))
        agents = [users[u] for u in ("agent_gz", "agent_sz", "agent_hall", "am_sz", "agent_outlet", "cti")]
        cities = [regions[c] for c in ("440106", "440104", "440305", "440304", "440604", "4419")]
        phones = [f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}" for _ in range(700)]
        tiers = [Tier.ORDINARY] * 12 + [Tier.SILVER, Tier.GOLD, Tier.DIAMOND, Tier.GROUP]
        brands = [Brand.GOTONE, Brand.MZONE, Brand.EASYOWN]
        now = timezone.now()
        created = 0
        for index in range(target):
            external_ref = f"DEMO-{index:05d}"
            # Deterministic draws happen whether or not the row exists, so re-runs stay in step.
            phone = rng.choice(phones)
            leaf = rng.choice(leaves[:20]) if rng.random() < 0.3 else rng.choice(leaves)
            agent = rng.choice(agents)
            channel = agent.department.channel if rng.random() < 0.8 else rng.choice(channels)
            kind = rng.choices(["complaint", "inquiry", "suggestion"], weights=[80, 15, 5])[0]
            severity = rng.choices(["ordinary", "difficult", "major"], weights=[85, 12, 3])[0]
            received = now - timedelta(days=90 * (1 - index / target), minutes=rng.randint(0, 600))
            on_spot = kind != "suggestion" and severity == "ordinary" and rng.random() < 0.35 and agent.username != "cti"
            region = rng.choice(cities)
            tier = rng.choice(tiers)
            brand = rng.choice(brands)
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.5 else "")
            compensation = Decimal(rng.choice([0, 0, 10, 20, 30])) if on_spot else None
            if external_ref in existing or (since is not None and received < since):
                continue
            # Suggestions and many inquiries are about nothing broken: they have categories of their own.
            if kind == "suggestion" and "OTH-GEN-ALL-01" in by_code:
                leaf = by_code["OTH-GEN-ALL-01"]
            elif kind == "inquiry" and index % 3 == 0 and "OTH-GEN-ALL-02" in by_code:
                leaf = by_code["OTH-GEN-ALL-02"]
            customer = Customer.objects.filter(phone=phone).select_related("home_region").first()
            home = customer.home_region if customer is not None and customer.home_region else region
            description = self._description(phrasings, leaf, home, received, index)
            if customer is not None:
                region = tier = brand = None
            # Each order is logged, and then lived through, at the moments it would have happened; one commit each.
            with transaction.atomic():
                with time_machine.travel(received, tick=False):
                    order = order_create(
                        actor=agent, kind=kind, channel=channel, category=leaf, severity=severity,
                        description=description, customer_phone=phone, customer_name=name if tier else "",
                        customer_tier=tier, customer_brand=brand, customer_region=region, received_at=received,
                        on_spot=OnSpotAnswer(leaf.standard_answer or "已现场解释，客户表示理解。", compensation)
                        if on_spot else None,
                        source=OrderSource.API if agent.username == "cti" else OrderSource.BROWSER,
                        external_ref=external_ref,
                    ).order
                    if order.is_open:
                        DemoLifecycle(order=order, users=users, rng=random.Random(index), until=now,
                                      phrasings=phrasings).run()
                # What staff had long read (and been e-mailed) before today is not news to them now.
                notifications_seen(before=now - UNREAD_WINDOW, order=order)
            created += 1
        return created

    @staticmethod
    def _description(phrasings, leaf, region, received, index) -> str:
        code = leaf.code if leaf.code in phrasings.leaves else None
        if code is None:  # a category added in admin that the phrasings do not know yet
            return f"客户反映{leaf.name}问题，要求尽快处理。"
        return phrasings.description(code=code, region_code=region.code if region else None, received=received,
                                     rng=random.Random(f"description-{index}"))

    def _outage(self, users, regions) -> int:
        """A weak cell in Nanshan since yesterday: complaints about outdoor coverage come in; the dispatcher sends
        the first ones to the network department, confirms the incident once six have arrived (they join it), and
        agents join later callers to it at intake. A hot spot for the dashboards, an incident that is being worked."""

        leaf = Category.objects.filter(code=OUTAGE_CATEGORY).first()
        if leaf is None:
            return 0
        rng = random.Random(20261201)
        phrasings = Phrasings.load()
        now = timezone.now()
        agent, dispatcher = users["agent_sz"], users["dispatcher"]
        network = users["lead_network"].department
        moments = sorted(now - timedelta(hours=rng.uniform(0.5, 30)) for _i in range(36))
        phones = [f"139{rng.randint(10_000_000, 99_999_999)}" for _i in moments]
        opened_at = moments[5] + timedelta(minutes=35)  # confirmed when the sixth complaint was in
        incident = Incident.objects.filter(title=OUTAGE_INCIDENT).first()
        created = 0
        for index, (received, phone) in enumerate(zip(moments, phones, strict=True)):
            external_ref = f"DEMO-OUTAGE-{index:03d}"
            if received >= opened_at and incident is None:
                incident = self._outage_incident(users, regions, leaf, started_at=moments[0], opened_at=opened_at)
            if WorkOrder.objects.filter(external_ref=external_ref).exists():
                continue
            description = phrasings.description(code=OUTAGE_CATEGORY, region_code="440305", received=received,
                                                rng=random.Random(f"outage-{index}"))
            with transaction.atomic():
                with time_machine.travel(received, tick=False):
                    order = order_create(
                        actor=agent, kind="complaint", channel=agent.department.channel, category=leaf,
                        severity="ordinary", description=description, customer_phone=phone,
                        customer_region=regions["440305"], received_at=received, external_ref=external_ref,
                        incident=incident if received >= opened_at else None).order
                if received < opened_at:  # before the incident: dispatched and taken like any complaint
                    dispatched = received + timedelta(minutes=rng.randint(3, 20))
                    if order.status == "new":  # not routed by its category at intake
                        with time_machine.travel(min(dispatched, opened_at), tick=False):
                            order = flow.order_dispatch(order=order, actor=dispatcher, department=network)
                    claimed = dispatched + timedelta(minutes=rng.randint(2, 12))
                    if claimed < opened_at and order.status == "queued":
                        with time_machine.travel(claimed, tick=False):
                            owner = users["lead_network"] if order.queue_level == "lead" else users["handler_network"]
                            flow.order_claim(order=order, actor=owner)
                notifications_seen(before=now - UNREAD_WINDOW, order=order)
            created += 1
        if incident is None and moments[-1] >= opened_at:
            incident = self._outage_incident(users, regions, leaf, started_at=moments[0], opened_at=opened_at)
        return created

    def _outage_incident(self, users, regions, leaf, *, started_at, opened_at):

        with time_machine.travel(opened_at, tick=False):
            incident = incident_open(actor=users["dispatcher"], title=OUTAGE_INCIDENT,
                                     department=users["lead_network"].department, category=leaf,
                                     region=regions["440305"], services="语音、4G/5G数据",
                                     cause="科技园3号基站传输板卡故障，覆盖范围收缩", started_at=started_at,
                                     expected_recovery_at=timezone.now() + timedelta(days=2))
            attached = incident_attach_open_orders(incident_id=incident.pk)
        with time_machine.travel(opened_at + timedelta(minutes=50), tick=False):
            incident_feedback(actor=users["lead_network"], incident=incident,
                              feedback="已派维护人员上站，备件预计今晚到达，临时调整邻区参数补盲。")
        self.stdout.write(f"Incident “{incident.title}”: {attached} open complaints attached when it was opened.")
        return incident

    def _print_logins(self, users, password):
        self.stdout.write(f"\nDemo logins (password for all: {password})")
        for username, display, _dept, role_names, _staff in USERS:
            self.stdout.write(f"  {username:<16} {', '.join(role_names):<22} {display}")
        self.stdout.write(f"\nAPI token of the hotline CTI channel system: {self.cti_key}")


# The Nanshan weak cell: outdoor coverage of the mobile network (its incident is filed under the same leaf).
OUTAGE_CATEGORY = "NET-MOB-COV-02"
OUTAGE_INCIDENT = "南山科技园基站弱覆盖"
# Notifications older than this were read (and e-mailed) long ago; newer ones wait in the inboxes.
UNREAD_WINDOW = timedelta(hours=20)


def notifications_seen(*, before, order=None) -> int:
    """The demo's past: staff read their notifications and the outbox sent them when they came."""
    seen = Notification.objects.filter(created_at__lt=before)
    if order is not None:
        seen = seen.filter(order=order)
    read = seen.filter(read_at__isnull=True).update(read_at=F("created_at") + timedelta(minutes=20))
    seen.filter(emailed_at__isnull=True).update(emailed_at=F("created_at"), email_claimed_at=F("created_at"))
    return read


def sms_delivered(*, before) -> int:
    """The demo's past: the customer messages of its history went out when they were due, and arrived."""
    return SmsMessage.objects.filter(status=SmsMessage.Status.QUEUED, send_after__lt=before).update(
        status=SmsMessage.Status.DELIVERED, attempts=1, claimed_at=F("send_after"), sent_at=F("send_after"),
        receipt_at=F("send_after") + timedelta(seconds=8), receipt_code="DELIVRD")


RATINGS = [5] * 55 + [4] * 25 + [3] * 10 + [2] * 6 + [1] * 4


class DemoLifecycle:
    """Walks one demo order through the workflow with the demo users, one service call per step, each at a
    plausible moment after the previous one; it stops where the next step would lie in the future. Old orders are
    closed; a stage running now is on time, in its warning zone or (rarely) overdue in the shares of an ordinary
    working day (see `_finish_stage`). Deterministic for a given order index."""

    # A stage still running now stays open (rather than having been finished already) with these chances, by where
    # now falls in it: before the warning point, between warning and deadline, past the deadline. With arrivals
    # spread evenly that leaves about 78 % of the running stages on time, 17 % warned and a few % overdue.
    OPEN_CHANCE = {"on_track": 0.8, "warning": 0.9, "overdue": 0.15}
    OVERDUE_HORIZON = 1.6  # in limits: a stage this far past its start is history, never left open
    # Left open past its deadline only this briefly (and a quarter of its limit at most): the sweep raises a
    # breach to level 2 two hours after it.
    OVERDUE_OPEN_AT_MOST = timedelta(minutes=60)

    def __init__(self, *, order, users, rng, until, phrasings):
        self.order, self.users, self.rng, self.until, self.phrasings = order, users, rng, until, phrasings
        self.clock = order.received_at

    def _at(self, *, minutes: tuple[int, int]) -> bool:
        """Move the clock on; False when that moment has not come yet."""
        self.clock += timedelta(minutes=self.rng.randint(*minutes))
        return self.clock < self.until

    def _finish_stage(self, *, after: timedelta = timedelta(minutes=1)) -> bool:
        """Move the clock to the moment the running stage's step is done; False when the order is still at it now.
        Finished stages mostly kept their limit; some ended in the warning zone, a few late (the dashboards show
        them)."""
        rng = self.rng
        # The step's own stage is the one due first (claim and handle start together when an order is dispatched),
        # or the customer's promise when that falls first (an order passed on keeps the promise of its receipt:
        # departments mostly answer within it, as they mostly keep their own limits).
        stage = (OrderStage.objects.filter(order=self.order, ended_at__isnull=True, paused_at__isnull=True)
                 .order_by("due_at", "-id").first())
        if stage is None:
            return self._at(minutes=(5, 60))
        span = (stage.due_at - stage.started_at).total_seconds() or 60.0
        age = (self.until - stage.started_at).total_seconds() / span
        if age >= self.OVERDUE_HORIZON:
            roll = rng.random()
            share = rng.uniform(0.05, 0.8) if roll < 0.87 else rng.uniform(0.8, 1.0) if roll < 0.95 else \
                rng.uniform(1.0, self.OVERDUE_HORIZON)
        else:
            state = "on_track" if self.until < stage.warn_at else "warning" if self.until < stage.due_at else "overdue"
            chance = self.OPEN_CHANCE[state]
            if state == "overdue" and self.until - stage.due_at > min(self.OVERDUE_OPEN_AT_MOST,
                                                                       timedelta(seconds=span / 4)):
                chance = 0.0
            if state == "warning":  # a warning zone longer than a fifth of the stage (nights, weekends) weighs less
                zone = (stage.due_at - stage.warn_at).total_seconds() / span
                chance = min(chance, chance * 0.25 * (1 - zone) / max(zone, 0.01))
            if rng.random() < chance:
                return False
            share = rng.uniform(min(0.05, age / 2), age)
        moment = max(stage.started_at + timedelta(seconds=share * span), self.clock + after)
        if moment >= self.until:
            return False
        self.clock = moment
        return True

    def _answer(self) -> str:
        return self.phrasings.answer(family=self.order.category.code.split("-")[0], rng=self.rng)

    def _do(self, function, **kwargs):
        with time_machine.travel(self.clock, tick=False):
            self.order = function(order=self.order, **kwargs)

    def _handler(self):
        code = self.order.current_department.code
        if self.order.queue_level == "lead":
            return self.users[f"lead_{code}"]
        return self.users.get(f"handler_{code}") or self.users[f"lead_{code}"]

    def _callback_agent(self):
        unit = self.order.current_department.code
        return next(u for u in self.users.values() if u.department.code == unit and u.has_role(roles.FRONTLINE_AGENT))

    def run(self):
        rng, dispatcher = self.rng, self.users["dispatcher"]
        if rng.random() < 0.03 and self._at(minutes=(10, 300)):
            return self._do(flow.order_cancel, actor=dispatcher, reason_kind="duplicate", reason="与前一工单重复")
        if rng.random() < 0.04 and self._at(minutes=(5, 120)):
            self._do(flow.order_escalate, actor=self.order.first_responder if self.order.first_responder.has_role(
                roles.FRONTLINE_AGENT) else dispatcher, reason_kind="regulator", reason="客户表示将向工信部申诉")
        if self.order.status == "answering":
            if self._finish_stage():
                self._do(flow.order_reply, actor=dispatcher, answer=self._answer(), result_code="explained")
            return
        for _round in range(3):
            if not self._dispatch_and_claim(dispatcher):
                return
            if not self._reply_and_review(dispatcher):
                return
            if self.order.status != "callback" or not self._callback():
                return

    def _dispatch_and_claim(self, dispatcher) -> bool:
        rng = self.rng
        if self.order.status == "new":
            if not self._finish_stage():
                return False
            department = (category_responsible_department(category=self.order.category)
                          or self.users["handler_marketing"].department)
            self._do(flow.order_dispatch, actor=dispatcher, department=department)
        if self.order.status == "queued":
            if not self._finish_stage():
                return False
            if self.order.queue_level == "lead" and rng.random() < 0.6:
                self._do(flow.order_assign, actor=self.users[f"lead_{self.order.current_department.code}"],
                         assignee=self.users.get(f"handler_{self.order.current_department.code}")
                         or self.users[f"lead_{self.order.current_department.code}"])
            else:
                self._do(flow.order_claim, actor=self._handler())
            roll = rng.random()
            if roll < 0.06 and self._at(minutes=(30, 600)):
                other = rng.choice([d for d in ("billing", "network", "vas", "marketing")
                                    if d != self.order.current_department.code])
                self._do(flow.order_transfer, actor=self.order.current_owner,
                         department=self.users[f"lead_{other}"].department, reason="经核查，属于其他专业问题")
                return self._dispatch_and_claim(dispatcher)
            if roll < 0.10 and self._at(minutes=(30, 600)):
                self._do(flow.order_return, actor=self.order.current_owner, reason_kind="information_missing",
                         reason="缺少客户所在位置信息，请补充后重新派单")
                return self._dispatch_and_claim(dispatcher)
        return True

    def _reply_and_review(self, dispatcher) -> bool:
        rng = self.rng
        if self.order.status == "in_progress" and rng.random() < 0.05 and self._at(minutes=(30, 300)):
            until = self.clock + timedelta(days=2)
            self._do(flow.order_wait, actor=self.order.current_owner, until=until, comment="已请客户提供详细账单截图")
            if not self._at(minutes=(600, 2400)):
                return False
            self._do(flow.order_resume, actor=self.order.current_owner, comment="客户已提供材料")
        if self.order.status not in ("in_progress",) or not self._finish_stage(after=timedelta(minutes=20)):
            return False
        compensation = Decimal(rng.choice([0, 0, 0, 10, 20, 50]))
        self._do(flow.order_reply, actor=self.order.current_owner, answer=self._answer(),
                 result_code=rng.choice(["resolved", "resolved", "resolved", "explained", "not_company_fault"]),
                 compensation=compensation or None)
        if self.order.status == "review":
            if not self._finish_stage(after=timedelta(minutes=5)):
                return False
            if rng.random() < 0.1:
                self._do(flow.order_review, actor=dispatcher, accept=False, reason="答复未说明退费金额，请补充")
                return self._reply_and_review(dispatcher)
            self._do(flow.order_review, actor=dispatcher, accept=True)
        return True

    def _callback(self) -> bool:
        rng = self.rng
        agent = self._callback_agent()
        while self.order.status == "callback":
            if not self._finish_stage(after=timedelta(minutes=60)):
                return False
            if rng.random() < 0.15:
                self._do(flow.order_callback, actor=agent, reached=False, comment="无人接听")
                continue
            rating = rng.choice(RATINGS)
            solved = rating >= 3 and rng.random() < 0.95
            if self.order.reopen_count >= 2:  # twice reopened: the third answer settles it, however grudgingly
                rating, solved = max(rating, 3), True
            self._do(flow.order_callback, actor=agent, reached=True, satisfaction=rating, solved=solved,
                     comment="客户对处理结果表示认可" if rating >= 4 else "客户勉强接受处理结果" if rating == 3 else "客户不满意")
        return self.order.status == "in_progress"  # reopened: round again


SUBSCRIBERS = {"4401": 5_200_000, "4403": 4_800_000, "4406": 2_300_000, "4419": 2_600_000}
TARGETS = {"timeliness": 90, "satisfaction": 85, "overdue_rate": 10, "repeat_rate": 3, "on_spot_rate": 30,
           "closed_loop_rate": 95, "avg_handling": 24, "callback_rate": 90}
OUTCOMES = ["won_back"] * 12 + ["still_dissatisfied"] * 5 + ["unreachable"] * 3


class DemoWarning:
    """Two bulletins: planned broadband work in Tianhe, a billing-SMS fault in Foshan (the Nanshan incident comes
    with its complaints, in Command._outage). Re-running adds nothing twice."""

    def __init__(self, *, users, regions, stdout):
        self.users, self.regions, self.stdout = users, regions, stdout

    def run(self):

        now = timezone.now()
        network = Department.objects.get(code="network")
        if not Bulletin.objects.exists():
            # Filed where the complaints they answer are filed: home broadband and IPTV; SMS delays and bills.
            broadband = list(Category.objects.filter(code__in=["NET-FBB", "NET-FIX-TV"]))
            bill_sms = list(Category.objects.filter(code__in=["NET-MOB-MSG", "BIL-DSP"]))
            # Announced two days ahead of a maintenance window six hours from now (so the intake form shows it).
            starts = timezone.localtime(now).replace(minute=0, second=0, microsecond=0) + timedelta(hours=6)
            with time_machine.travel(starts - timedelta(days=2), tick=False):
                bulletin_publish(
                    actor=self.users["lead_network"], kind=Bulletin.Kind.PLANNED, title="天河区宽带割接（计划性维护）",
                    department=network, regions=[self.regions["440106"]], categories=broadband,
                    services="家庭宽带、IPTV", starts_at=starts, ends_at=starts + timedelta(hours=4),
                    answer=f"您好，为提升网络质量，我们将于{starts:%m月%d日%H:%M}起约4小时对天河区部分小区宽带进行割接"
                           "维护，期间宽带和IPTV可能短时中断，维护结束后自动恢复，给您带来不便敬请谅解。")
            bulletin_publish(
                actor=self.users["lead_billing"], kind=Bulletin.Kind.SUDDEN, title="佛山话费提醒短信延迟",
                department=Department.objects.get(code="billing"), regions=[self.regions["4406"]],
                categories=bill_sms, services="话费余额提醒、账单短信",
                starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=6),
                answer="您好，因短信平台故障，佛山地区话费提醒短信出现延迟，您的话费和账户余额不受影响，"
                       "可通过APP或拨打10086查询，故障修复后短信将陆续补发。")
            self.stdout.write("Bulletins: 2 published.")


class DemoKnowledge:
    """The knowledge base (demo/data/demo_articles.json, one article revised), agents' feedback, and cases
    proposed from closed demo orders: two published, one waiting for review. Re-running adds nothing twice."""

    ARTICLES = Path(settings.BASE_DIR) / "demo" / "data" / "demo_articles.json"

    def __init__(self, *, users, stdout):
        self.users, self.stdout = users, stdout

    def run(self, *, cases: bool = True):


        quality = self.users["quality"]
        if not Article.objects.exists():
            for item in json.loads(self.ARTICLES.read_text(encoding="utf-8")):
                knowledge.article_create(
                    actor=quality, title=item["title"], body=item["body"], kind=item["kind"],
                    category=Category.objects.filter(code=item["category"]).first() if item["category"] else None,
                    audience=item.get("audience", "everyone"), effective_from=timezone.localdate().replace(day=1))
            article = Article.objects.get(title="5G信号弱或无信号的处理")
            knowledge.article_revise(actor=quality, article=article, change_note="补充室内覆盖申请时限",
                                     body=article.current.body + "\n室内覆盖需求由网络部门在5个工作日内答复是否建设。")
            for username, helpful in (("agent_gz", True), ("agent_sz", True), ("agent_hall", False)):
                knowledge.article_feedback(actor=self.users[username], version=article.current, helpful=helpful)
            self.stdout.write(f"Knowledge base: {Article.objects.count()} articles.")
        if cases and not Case.objects.exists():
            closed = (WorkOrder.objects.filter(external_ref__startswith="DEMO-", status="closed", kind="complaint",
                                               satisfaction__gte=4).exclude(answer="")
                      .select_related("category", "customer").order_by("closed_at"))
            picked, families = [], set()
            for order in closed:
                family = order.category.code.split("-")[0]
                if family not in families:
                    families.add(family)
                    picked.append(order)
                if len(picked) == 3:
                    break
            for index, order in enumerate(picked):
                draft = knowledge.case_draft(order)
                try:
                    case = knowledge.case_propose(actor=self.users["dispatcher"], order=order, title=draft["title"],
                                                  problem=draft["problem"], handling=draft["handling"],
                                                  lessons="首次答复即给出明确时限和处理结果，客户满意。")
                except ValidationError as exc:  # something the anonymiser missed: not a demo case then
                    self.stdout.write(f"Case from {order.number} skipped: {exc.messages}")
                    continue
                if index < 2:
                    knowledge.case_review(actor=quality, case=case, publish=True,
                                          tags=[order.category.parent.name if order.category.parent else "其他",
                                                "一次解决"])
            self.stdout.write(f"Case library: {len(picked)} cases proposed from closed orders.")


class DemoQuality:
    """Subscriber counts, KPI targets, follow-ups of dissatisfied customers worked as the complaint centre would,
    the KPI rollups, and last month's reports. Re-running adds nothing twice."""

    def __init__(self, *, users, regions, stdout):
        self.users, self.regions, self.stdout = users, regions, stdout

    def run(self, *, reports: bool = True):

        today = timezone.localdate()
        month = today.replace(day=1)
        for _i in range(4):
            for code, subscribers in SUBSCRIBERS.items():
                SubscriberCount.objects.get_or_create(region=self.regions[code], month=month,
                                                      defaults={"subscribers": subscribers})
            month = (month - timedelta(days=1)).replace(day=1)
        effective = today.replace(month=1, day=1)
        for kpi, value in TARGETS.items():
            KpiTarget.objects.get_or_create(kpi=kpi, region=None, effective_from=effective,
                                            defaults={"value": Decimal(value)})
        self._work_follow_ups()
        self.stdout.write(f"KPI rollups: {rollups_apply(max_seconds=3600)}.")
        open_orders_snapshot()
        if not reports:  # last month's report waits for the history (it is archived as it is first made)
            return

        made = monthly_reports_due()
        if made:
            self.stdout.write(f"Monthly reports: {', '.join(str(r) for r in made)}.")

    def _work_follow_ups(self):
        """Follow-ups opened more than five days ago were called back by the complaint centre."""

        dispatcher = self.users["dispatcher"]
        cutoff = timezone.now() - timedelta(days=5)
        for follow_up in FollowUp.objects.filter(status=FollowUp.Status.OPEN, opened_at__lt=cutoff).order_by("id"):
            rng = random.Random(follow_up.order_id)
            outcome = rng.choice(OUTCOMES)
            moment = follow_up.opened_at + timedelta(hours=rng.randint(2, 40))
            with time_machine.travel(moment, tick=False):
                if outcome == "unreachable":
                    follow_ups.follow_up_contact(actor=dispatcher, follow_up=follow_up, reached=False,
                                               note="多次拨打无人接听")
                follow_ups.follow_up_contact(
                    actor=dispatcher, follow_up=follow_up, reached=outcome != "unreachable", outcome=outcome,
                    note={"won_back": "已致歉并说明处理结果，客户表示满意", "still_dissatisfied": "客户仍不认可处理结果，已记录诉求",
                          "unreachable": "三次联系未接通，按规定结束"}[outcome], close=True)


# name, measure, higher is better, monthly target, weight (points out of 100)
INDICATORS = [
    ("timeliness", "处理及时率", "timeliness", True, 90, 15),
    ("dept_timeliness", "部门及时率", "department_timeliness", True, 90, 15),
    ("satisfaction", "满意度", "satisfaction", True, 85, 20),
    ("attributed", "认责投诉量", "attributed", False, 25, 20),
    ("reopen_rate", "重启率", "reopen_rate", False, 10, 15),
    ("repeat_rate", "重复投诉率", "repeat_rate", False, 3, 15),
]
DEDUCTION_ITEMS = [
    ("media", "媒体曝光", "media", 10, True), ("regulator", "工信部申诉", "regulator", 8, True),
    ("major", "重大投诉", "major_complaint", 5, True), ("mishandled", "处理不当导致升级", "mishandled", 5, False),
    ("overdue", "超时工单", "overdue", 1, False), ("buck_passing", "推诿扯皮", "buck_passing", 3, False),
    ("late_report", "重大投诉迟报瞒报", "late_report", 5, False),
]


class DemoAccountability:
    """Responsibility rules (two of them shared), the year's indicators and deduction items, and three months of
    determinations confirmed, changed and appealed, deductions, scores, notices and improvement orders, each done
    through the services at a plausible moment. Re-running adds nothing twice."""

    def __init__(self, *, users, stdout):
        self.users, self.stdout = users, stdout

    @staticmethod
    def rules(departments):

        effective = timezone.localdate().replace(month=1, day=1)
        if ResponsibilityRule.objects.exists():
            return
        shared = {"MKT": [("vas", "0.6"), ("marketing", "0.4")], "FEE": [("marketing", "0.5"), ("billing", "0.5")]}
        for top in Category.objects.filter(parent=None):
            if top.code not in RESPONSIBLE:
                continue
            for index, category in enumerate(Category.objects.filter(path__startswith=top.path, level=3)
                                             .order_by("path")):
                rule = ResponsibilityRule.objects.create(
                    category=category, effective_from=effective,
                    cause=Cause.THIRD_PARTY if top.code == "SEC" else Cause.COMPANY)
                pairs = shared[top.code] if index == 0 and top.code in shared else [(RESPONSIBLE[top.code], "1")]
                for code, share in pairs:
                    RuleShare.objects.create(rule=rule, department=departments[code], share=Decimal(share))

    def run(self):

        months = self._months()
        for year in sorted({m.year for m in months} | {timezone.localdate().year}):
            for code, name, measure, higher, target, weight in INDICATORS:
                Indicator.objects.get_or_create(year=year, code=code, defaults={
                    "name": name, "measure": measure, "higher_is_better": higher, "target": Decimal(target),
                    "weight": Decimal(weight)})
            for code, name, kind, points, major in DEDUCTION_ITEMS:
                DeductionItem.objects.get_or_create(year=year, code=code, defaults={
                    "name": name, "kind": kind, "points": Decimal(points), "major": major})
        if MonthlyScore.objects.filter(month__in=months).exists():
            return
        for month in months:
            self._decide(month)
            self._deduct(month)
        for month in months:
            moment = self._first_working_moment_after(month)
            with time_machine.travel(moment, tick=False):
                report = scoring.month_close(month=month)
            self.stdout.write(f"Accountability {month:%Y-%m}: {report}.")
            self._answer(month, moment)

        accountability_finalise_due()

    def _months(self):
        today = timezone.localdate()
        months, month = [], today.replace(day=1)
        for _i in range(3):
            month = (month - timedelta(days=1)).replace(day=1)
            months.append(month)
        return list(reversed(months))

    @staticmethod
    def _first_working_moment_after(month):

        calendar, _id = work_calendar(None)
        day = (month + timedelta(days=32)).replace(day=1)
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
        return timezone.make_aware(datetime.combine(day, time(8, 0)))

    def _decide(self, month):
        """The complaint centre confirms most proposals a day later, changes a few; some leads appeal."""

        dispatcher = self.users["dispatcher"]
        network = Department.objects.get(code="network")
        for determination in Determination.objects.filter(month=month, status="proposed").order_by("id"):
            rng = random.Random(determination.order_id)
            roll = rng.random()
            moment = determination.proposed_at + timedelta(hours=rng.randint(4, 30))
            with time_machine.travel(moment, tick=False):
                if roll < 0.6:
                    accountability.determination_decide(actor=dispatcher, determination=determination)
                elif roll < 0.65 and determination.shares.exclude(department=network).exists():
                    accountability.determination_decide(actor=dispatcher, determination=determination, cause="company",
                                                  shares=[(network, Decimal("1"))], reason="核实为网络原因")
                elif roll < 0.72:
                    share = determination.shares.select_related("department").first()
                    lead = User.objects.filter(department=share.department, groups__name=roles.LEAD).first()
                    if lead is None:
                        continue
                    appeal = accountability.appeal_file(actor=lead, determination=determination, reason="非本部门原因",
                                                  evidence="附系统日志与处理记录")
                    with time_machine.travel(moment + timedelta(hours=20), tick=False):
                        if rng.random() < 0.5:
                            accountability.appeal_decide(actor=dispatcher, appeal=appeal, uphold=True, reason="证据不足，维持")
                        else:
                            accountability.appeal_decide(actor=dispatcher, appeal=appeal, uphold=False, cause="customer",
                                                   reason="核实为客户自身原因")

    def _deduct(self, month):

        quality = self.users["quality"]
        rng = random.Random(month.toordinal())
        items = {i.code: i for i in DeductionItem.objects.filter(year=month.year)}
        for code, department in (("overdue", "billing"), ("mishandled", "network"), ("buck_passing", "marketing")):
            if rng.random() < 0.7:
                moment = timezone.make_aware(datetime.combine(month + timedelta(days=rng.randint(5, 25)), time(15)))
                with time_machine.travel(moment, tick=False):
                    accountability.deduction_record(actor=quality, item=items[code], department=Department.objects.get(
                        code=department), month=month, evidence="抽查发现，附工单截图")
        if month.month % 2 == 0:
            moment = timezone.make_aware(datetime.combine(month + timedelta(days=12), time(11)))
            with time_machine.travel(moment, tick=False):
                accountability.deduction_record(actor=quality, item=items["regulator"],
                                          department=Department.objects.get(code="vas"), month=month,
                                          evidence="客户向工信部申诉，申诉编号 MIIT-DEMO",
                                          summary="SP 违规订购引发工信部申诉，已约谈合作方")

    def _answer(self, month, moment):
        """Leads acknowledge their notices; improvement orders get answers, most are accepted."""

        dispatcher = self.users["dispatcher"]
        for notice in MonthlyNotice.objects.filter(month=month, status="sent").select_related("department"):
            lead = User.objects.filter(department=notice.department, groups__name=roles.LEAD).first()
            if lead is not None and notice.month < self._months()[-1]:
                with time_machine.travel(moment + timedelta(hours=26), tick=False):
                    accountability.notice_acknowledge(actor=lead, notice=notice, comment="已组织学习")
        for improvement in ImprovementOrder.objects.filter(opened_month=month, status="open"):
            lead = User.objects.filter(department=improvement.department, groups__name=roles.LEAD).first()
            if lead is None or improvement.opened_month == self._months()[-1]:
                continue
            with time_machine.travel(moment + timedelta(days=3), tick=False):
                accountability.improvement_answer(actor=lead, improvement=improvement, cause_analysis="夜间人手不足，复杂工单积压",
                                            measures="增设夜班，疑难工单每日晨会跟进")
            with time_machine.travel(moment + timedelta(days=4), tick=False):
                accountability.improvement_review(actor=dispatcher, improvement=improvement, accept=True)
