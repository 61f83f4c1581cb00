"""The permission matrix: every URL in the URL conf (and every model page of the admin) × every kind of caller,
against the expected outcome in tests/data/permission_matrix.txt. A new endpoint without a row fails; so does
any cell that changes. After a deliberate change, regenerate the file and review the diff:

    UPDATE_PERMISSION_MATRIX=1 DATABASE_URL=… .venv/bin/python -m pytest tests/test_permission_matrix.py

Callers: an anonymous visitor, the hotline CTI's API token, agents of two cities (the sample order is
Guangzhou's), the dispatcher, handlers and leads of the department that holds the order and of another, the
emergency group, the quality manager, the administrator. Each request runs in a savepoint that is rolled back,
so every caller meets the same demo data (seed_demo at a fixed Wednesday).

Outcomes: ok (2xx, or a redirect elsewhere than the login page), bad (400: let in, the empty input refused),
conflict (409: let in, the object's step does not allow it now — the actor is checked after the step), method
(405), login (401, or a redirect to the login page), denied (403), hidden (404: the object is not the caller's
to see). GET is tried first; a route that answers 405 to GET is tried with an empty POST.

A cell ending in "+" is an answer whose body carries a seeded customer's full phone number (customer or contact
number) — and, on the routes that leave the working screens (the archived report, the exports), the ID number typed
into the World's notable case: the "full number visible" column of each route and caller. A PDF is read by its
text (the monthly report's notable cases must show neither). Only the roles that hold the permission to see
full numbers (agents, dispatchers, handlers, leads, the emergency group, channel systems) may have one; the quality
manager and the administrator (a superuser without an explicit grant) read 138****8000 everywhere, so a "+" in
their columns is a leak. The admin's change pages of the records that carry numbers have rows of their own, and
so do the exports of the orders behind a dashboard number (masked, and with full numbers), asked as each caller,
and the intake panels asked about a seeded customer's number.
"""

import io
import os
import re
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from workflow.calendar import SHANGHAI

pytestmark = pytest.mark.django_db
MATRIX = Path(__file__).resolve().parent / "data" / "permission_matrix.txt"
# handler/lead: of the back-office department that holds the sample order; handler2/lead2: of another one.
CALLERS = ["anonymous", "token:cti", "agent_gz", "agent_sz", "dispatcher", "handler", "lead", "handler2", "lead2",
           "emergency", "quality", "admin"]
SHORT = {"ok": "ok", "bad": "bad", "conflict": "409", "method": "405", "login": "login", "denied": "403",
         "hidden": "404", "error": "500!"}
# Not part of the product's own permissions: switching language (public by design) and Django's own admin
# pages, which are covered model by model below.
SKIP_NAMES = {"set_language"}
FIXED_MOMENT = datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI)


def url_names():
    def walk(patterns, namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.app_name == "admin":
                    continue
                yield from walk(p.url_patterns, f"{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern) and p.name:
                yield f"{namespace}{p.name}", p

    return list(walk(get_resolver().url_patterns))


# Admin detail pages of the records that carry a customer's number (their object comes from the World).
ADMIN_DETAIL_PAGES = ("admin:complaints_customer_change", "admin:complaints_workorder_change",
                      "admin:quality_followup_change")


# Exports as each caller: the orders behind a dashboard number as CSV, masked and with full numbers (the latter is
# for the roles that may see or reveal numbers, and is recorded); "+" marks a file that carries full numbers.
EXPORTS = {
    "export:reports:orders.csv": "/dashboard/orders/?kpi=volume&export=csv",
    "export:reports:orders.csv&unmask=1": "/dashboard/orders/?kpi=volume&export=csv&unmask=1",
}

# The intake panel as each caller, asked about the World's Guangzhou customer (13800138000, whose order the World
# logged): without a category, and with the order's category (the repeat warning). "+" there is the number the
# caller typed, echoed back to those who may see numbers; the cell says who may ask at all.
INTAKE_PANELS = {
    "panel:intake_customer?phone": "/intake/customer/?customer_phone=13800138000",
    "panel:intake_customer?phone&category":
        "/intake/customer/?customer_phone=13800138000&category={category}",
}


def admin_pages(world=None):
    for model in admin.site._registry:
        meta = model._meta
        yield f"admin:{meta.app_label}_{meta.model_name}_changelist", {}
        yield f"admin:{meta.app_label}_{meta.model_name}_add", {}
    for name in ADMIN_DETAIL_PAGES:
        yield name, ({"object_id": world.admin_object(name)} if world else {})


class World:
    """The sample objects each URL parameter is filled with."""

    def __init__(self):
        from accountability.models import Deduction, Determination, ImprovementOrder, MonthlyNotice
        from complaints.models import WorkOrder
        from knowledge.models import Article, Case
        from org.models import User
        from quality.models import BatchAlert as Alert
        from quality.models import Bulletin, FollowUp, Incident
        from support.models import SupportRequest
        from workflow.models import Notification
        from workflow.notes import order_attachment_add

        self.users = {u.username: u for u in User.objects.all()}
        # A fresh ordinary complaint logged by the Guangzhou agent: dispatched to its category's department.
        from complaints.models import Category, Channel
        from workflow.intake import order_create

        category = (Category.objects.filter(code__startswith="NET-", is_active=True, children__isnull=True)
                    .order_by("code").first())
        order = order_create(actor=self.users["agent_gz"], kind="complaint", channel=Channel.objects.get(code="hotline"),
                             category=category, severity="ordinary", description="家里没有信号，无法通话。",
                             customer_phone="13800138000").order
        order.refresh_from_db()
        assert order.current_department is not None, order.status
        self.order = order
        self.category = category
        holder = order.current_department.code
        other = "billing" if holder != "billing" else "network"
        for role, code in (("handler", holder), ("lead", holder), ("handler2", other), ("lead2", other)):
            self.users[role] = self.users[f"{role.rstrip('2')}_{code}"]
        png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15"
               b"\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
        self.attachment = order_attachment_add(actor=self.users["handler"], order=order,
                                               upload=SimpleUploadedFile("photo.png", png, "image/png"))
        from datetime import date

        from org.models import Region
        from reports.monthly import case_candidates, report_generate

        # The report's notable cases include a complaint whose description carries what agents type (a name, a
        # mobile number, an ID number): a report that printed it unredacted would show "+" below.
        with time_machine.travel(datetime(2026, 10, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
            personal = order_create(
                actor=self.users["agent_gz"], kind="complaint", channel=Channel.objects.get(code="hotline"),
                category=category, severity="major", customer_phone=PERSONAL_PHONE, customer_name="张伟",
                description=f"客户张伟先生来电，身份证{PERSONAL_ID}，要求回电{PERSONAL_PHONE}，投诉信号差。").order
        province = Region.objects.get(level=1)
        proposed = [c["number"] for c in case_candidates(region=province, month=date(2026, 10, 1)) if c["proposed"]]
        report = report_generate(region=province, month=date(2026, 10, 1), actor=self.users["quality"],
                                 cases=[personal.number, *proposed][:8])
        from datetime import timedelta

        from django.utils import timezone

        from quality.batch import incident_open

        incident_open(actor=self.users["dispatcher"], title="天河基站故障", department=order.current_department,
                      category=category, region=order.region, expected_recovery_at=timezone.now() + timedelta(hours=8))
        from workflow.tasks import heartbeat

        heartbeat()  # beat is alive: /healthz answers 200
        # An open batch alert for the order's slice, as the detector would raise it.
        Alert.objects.create(category=category, region=order.region, level="yellow", window_count=40, total_count=40,
                             baseline=2, first_order_at=timezone.now() - timedelta(minutes=40),
                             crossed_at=timezone.now() - timedelta(minutes=5))

        def first(model, **conditions):
            return model.objects.filter(**conditions).order_by("pk").values_list("pk", flat=True).first() or 999_999

        def holders(model, path="department__code"):
            """The holder department's own record (its lead may act, the other lead may not), whichever order the
            demo created the departments' records in; any record when it has none."""
            own = first(model, **{path: holder})
            return own if own != 999_999 else first(model)

        # A finished historical import of the dispatcher's, with its rejected rows to download.
        from django.core.files.base import ContentFile

        from jobs.models import Job

        import_job = Job(kind=Job.Kind.IMPORT_ORDERS, status=Job.Status.SUCCEEDED, title="导入 legacy.csv",
                         created_by=self.users["dispatcher"], created_by_name="dispatcher", done=1, total=1,
                         result={"read": 1, "created": 0, "already_imported": 0, "rejected": 1})
        import_job.output_file.save("legacy.rejected.csv", ContentFile(b"line,external_ref,reasons\n"), save=False)
        import_job.output_name = "legacy.rejected.csv"
        import_job.save()

        self.pk = {
            "complaints:import_detail": import_job.pk, "complaints:import_start": import_job.pk,
            "jobs:progress": import_job.pk, "jobs:output": import_job.pk,
            "reports:monthly_detail": report.pk, "reports:monthly_pdf": report.pk,
            "reports:monthly_withdraw": report.pk,
            "quality:follow_up": first(FollowUp), "quality:follow_up_take": first(FollowUp),
            "quality:follow_up_contact": first(FollowUp),
            "quality:alert": first(Alert), "quality:alert_confirm": first(Alert), "quality:alert_dismiss": first(Alert),
            "quality:alert_level": first(Alert),
            "quality:incident": first(Incident), "quality:incident_feedback": first(Incident),
            "quality:incident_resolve": first(Incident),
            "quality:bulletin_withdraw": first(Bulletin),
            "accountability:department": self.users["lead"].department_id,
            "accountability:determination": holders(Determination, "shares__department__code"),
            "accountability:determination_decide": holders(Determination, "shares__department__code"),
            "accountability:determination_appeal": holders(Determination, "shares__department__code"),
            "accountability:determination_rule": holders(Determination, "shares__department__code"),
            "accountability:deduction": holders(Deduction), "accountability:deduction_appeal": holders(Deduction),
            "accountability:deduction_rule": holders(Deduction),
            "accountability:notice": holders(MonthlyNotice),
            "accountability:improvement": holders(ImprovementOrder),
            "accountability:improvement_answer": holders(ImprovementOrder),
            "accountability:improvement_review": holders(ImprovementOrder),
            "knowledge:article": first(Article), "knowledge:article_edit": first(Article),
            "knowledge:article_archive": first(Article), "knowledge:article_feedback": first(Article),
            "knowledge:article_version": first(Article),
            "knowledge:case": first(Case, status="published"),
            "workflow:notification_open": first(Notification, recipient=self.users["agent_gz"]),
        }
        from complaints.models import Customer

        # Every full number of the seeded data: a body that carries one of them shows it in full.
        self.full_phones = set(Customer.objects.values_list("phone", flat=True)) | set(
            WorkOrder.objects.exclude(contact_phone="").values_list("contact_phone", flat=True))
        self.admin_objects = {"admin:complaints_customer_change": order.customer_id,
                              "admin:complaints_workorder_change": order.pk,
                              "admin:quality_followup_change": first(FollowUp)}
        closed = WorkOrder.objects.filter(status="closed", region__path__startswith=order.region.path,
                                          external_ref__startswith="DEMO-", cases__isnull=True).order_by("number")
        self.closed_order = closed.first() or order
        self.support = (SupportRequest.objects.filter(status="handling", department__code=holder)
                        .order_by("number").first() or SupportRequest.objects.order_by("number").first())

    def admin_object(self, name) -> int:
        return self.admin_objects[name]

    def query(self, name) -> str:
        return {"accountability:orders": f"?department={self.users['lead'].department_id}"}.get(name, "")

    def kwargs(self, name, pattern):
        params = pattern.pattern.converters.keys()
        values = {}
        for param in params:
            if param == "number":
                if name.startswith("support:"):
                    values[param] = self.support.number
                elif name == "knowledge:case_propose":
                    values[param] = self.closed_order.number
                else:
                    values[param] = self.order.number
            elif param == "attachment_id":
                values[param] = self.attachment.pk
            elif param == "phone":
                values[param] = self.order.customer.phone
            elif param == "pk":
                values[param] = self.pk[name]
            elif param == "notification_id":
                values[param] = self.pk[name]
            elif param == "key":
                values[param] = "queue"
            elif param == "action":
                values[param] = "claim" if name == "workflow:order_action" else "answer"
            else:
                raise AssertionError(f"{name}: no sample value for the URL parameter {param!r}")
        if name == "knowledge:article_version":
            values["number"] = 1  # the article's first version
        return values


def classify(response) -> str:
    status = response.status_code
    if status >= 500:
        return "error"
    if status in (301, 302, 303):
        return "login" if "/login/" in response.get("Location", "") else "ok"  # ours or the admin's
    return {400: "bad", 401: "login", 403: "denied", 404: "hidden", 405: "method", 409: "conflict"}.get(
        status, "ok" if status < 400 else f"http{status}")


def client_for(caller, world):
    if caller == "anonymous":
        return Client()
    if caller.startswith("token:"):
        from org.models import ApiScope
        from org.tokens import token_issue

        # A channel system's token: it logs and reads orders; acting on them and support requests are out of scope.
        _token, key = token_issue(actor=None, user=world.users[caller.split(":", 1)[1]], name="matrix",
                                  scopes=[ApiScope.ORDERS_READ, ApiScope.ORDERS_WRITE])
        return Client(HTTP_AUTHORIZATION=f"Token {key}")
    client = Client()
    client.force_login(world.users[caller])
    return client


_DIGIT_RUNS = re.compile(rb"(?<!\d)\d{7,12}(?!\d)")
_ID_RUNS = re.compile(rb"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# The personal data of the World's notable case (see World): its ID number counts as a full number as well.
PERSONAL_PHONE, PERSONAL_ID = "13912340000", "440106199001011234"


def response_body(response) -> bytes:
    """The body as a reader sees it: a PDF's text (its streams are compressed), anything else as sent."""
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    if response.get("Content-Type", "").startswith("application/pdf") and body.startswith(b"%PDF"):
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(body))
        body = "\n".join(page.extract_text() for page in reader.pages).encode()
    return body


# What leaves the working screens (the archived report, the exports) passes the personal-data check: there the
# World's ID number counts as well. (Order pages and the API show an order's text to the people who work on it.)
OUTWARD = {"reports:monthly_detail", "reports:monthly_pdf", *EXPORTS}


def carries_full_phone(response, full_phones, outward=False) -> bool:
    """Does the answer's body show one of the seeded customers' full numbers (or, on a route that leaves the
    working screens, the World's ID number)?"""
    body = response_body(response)
    return (any(run.decode() in full_phones for run in _DIGIT_RUNS.findall(body))
            or outward and any(run.decode().upper() == PERSONAL_ID for run in _ID_RUNS.findall(body)))


def request(client, url, is_api, method, full_phones=frozenset(), outward=False):
    """One request in a savepoint that is rolled back; the client's cookies are restored too (a logout). The
    outcome, with "+" when the body carries a full phone number."""
    cookies = client.cookies
    client.cookies = _copy(cookies)
    with transaction.atomic():
        if method == "GET":
            response = client.get(url)
        elif is_api:
            response = client.post(url, {}, content_type="application/json")
        else:
            response = client.post(url, {})
        transaction.set_rollback(True)
    client.cookies = cookies
    signed_in = "sessionid" in cookies or "HTTP_AUTHORIZATION" in client.defaults
    if signed_in and classify(response) == "ok" and "no-store" not in response.get("Cache-Control", ""):
        STORED_ANSWERS.append(f"{method} {url} ({response.status_code})")
    return classify(response) + ("+" if carries_full_phone(response, full_phones, outward) else "")


# Answers to a signed-in caller or a token that a shared browser or a proxy may keep (no "no-store"): none may be.
STORED_ANSWERS: list[str] = []


def _copy(cookies):
    from copy import deepcopy

    return deepcopy(cookies)


def target_names() -> list[str]:
    """Every row the matrix must have, in a fixed order (no request needed)."""
    names = [name for name, _pattern in url_names() if name not in SKIP_NAMES]
    return sorted(names + [name for name, _kwargs in admin_pages()] + list(EXPORTS) + list(INTAKE_PANELS))


def compute_matrix(world, shard=0, shards=1) -> dict[str, str]:
    """The rows of one shard (every `shards`-th route of the sorted list, from `shard`), or all of them."""
    rows = {}
    wanted = set(target_names()[shard::shards])
    clients = {caller: client_for(caller, world) for caller in CALLERS}
    targets = [(name, reverse(name, kwargs=world.kwargs(name, pattern)) + world.query(name),
                name.startswith("api-") or ":api-" in name) for name, pattern in url_names() if name in wanted]
    targets += [(name, reverse(name, kwargs=kwargs), False) for name, kwargs in admin_pages(world) if name in wanted]
    targets += [(name, url, False) for name, url in EXPORTS.items() if name in wanted]
    targets += [(name, url.format(category=world.category.pk), False) for name, url in INTAKE_PANELS.items()
                if name in wanted]
    phones = world.full_phones
    for name, url, is_api in targets:
        if name == "healthz":
            from workflow.tasks import heartbeat

            heartbeat()  # a live beat writes it every 30 s; a long run on a slow machine must not read it as stale
        outward = name in OUTWARD
        cells = [request(clients[caller], url, is_api, "GET", phones, outward) for caller in CALLERS]
        method = "GET"
        if "method" in cells:  # a POST-only endpoint: ask everyone with POST
            method = "POST"
            cells = [request(clients[caller], url, is_api, "POST", phones, outward) for caller in CALLERS]
        rows[name] = f"{name:<52} {method:<5} " + " ".join(f"{_short(c):<5}" for c in cells)
    return rows


def _short(cell: str) -> str:
    outcome, plus = (cell[:-1], "+") if cell.endswith("+") else (cell, "")
    return SHORT.get(outcome, outcome) + plus


def render(rows) -> str:
    header = f"{'# route':<52} {'verb':<5} " + " ".join(f"{c.split(':')[-1][:5]:<5}" for c in CALLERS)
    legend = ("# Callers: " + ", ".join(CALLERS) + ".\n# Cells: ok, bad (400), 409, 405, login (401 or to the "
              "login page), 403, 404; a trailing + when the body shows a customer's full phone number. Generated by "
              "tests/test_permission_matrix.py; review every change.\n")
    return legend + header + "\n" + "\n".join(rows[k] for k in sorted(rows)) + "\n"


def expected_rows() -> dict[str, str]:
    return {line.split()[0]: line for line in MATRIX.read_text().splitlines() if line and not line.startswith("#")}


def test_every_endpoint_has_a_row_in_the_matrix():
    names = set(target_names())
    expected = expected_rows()
    missing = sorted(names - set(expected))
    assert not missing, ("Endpoints without a row in the permission matrix (regenerate with "
                         "UPDATE_PERMISSION_MATRIX=1, then review):\n" + "\n".join(missing))
    gone = sorted(set(expected) - names)
    assert not gone, f"Rows for endpoints that no longer exist: {gone}"


# The requests are split in shards so that the test workers share them (each shard seeds its own world).
SHARDS = 3


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_endpoint_answers_every_caller_as_the_matrix_says(shard, settings, tmp_path):
    updating = bool(os.environ.get("UPDATE_PERMISSION_MATRIX"))
    if updating and shard:
        pytest.skip("the first shard rewrites the whole matrix")
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    STORED_ANSWERS.clear()
    with time_machine.travel(FIXED_MOMENT, tick=True):
        call_command("seed_demo", "--orders", "60", "--quiet-logins", stdout=io.StringIO())
        world = World()
        rows = compute_matrix(world) if updating else compute_matrix(world, shard, SHARDS)
    assert rows, "this shard asked nothing"
    errors = [row for row in rows.values() if "500!" in row]
    if updating:
        MATRIX.write_text(render(rows))
    assert not errors, "Server errors:\n" + "\n".join(errors)
    expected = expected_rows()
    missing = sorted(set(rows) - set(expected))
    assert not missing, "Endpoints without a row in the permission matrix (add them, then review):\n" + "\n".join(
        rows[m] for m in missing)
    changed = [f"expected {expected[k]}\n     got {rows[k]}" for k in sorted(rows) if expected[k].split() != rows[k].split()]
    assert not changed, "Permission changes:\n" + "\n".join(changed)
    assert not STORED_ANSWERS, "Answers to a signed-in caller without Cache-Control: no-store:\n" + "\n".join(
        sorted(set(STORED_ANSWERS)))
