"""The pages a user waits for stay within their statement budgets, whatever the number of rows (issue 18).

Counted with the test client as the user who waits for each page, after one warm request (the per-process memos
of the category tree, channels, roles' permissions and KPI targets are then filled, and the session was renewed,
as on a busy server), transaction control left out. The ceilings are what the code does today; the issue's budgets
are lower where it says so (create 16, order page 12, dashboard 10), and bench/hot_paths.py prints both against a
database of 100,000 orders.
"""

import json
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from workflow import services

TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}
# What each path runs today (the budget in the comment).
# budget 16 with the API token's read, which the test client's forced login skips; viewflow's start writes 8
# (process, 3 tasks, 2 links, 2 updates: its new process row is not locked, core.flowlock)
CREATE_NEW_CUSTOMER = 15
CREATE_KNOWN_CUSTOMER = 19  # a repeat: the window (memo, read here the first time), the earlier order, who may see it
ORDER_PAGE = 12  # the budget: an open order without notes, attachments or repeats (each present adds its read)
QUEUE = 8  # budget 10
ORDER_LIST = 8  # budget 10
DASHBOARD = 10  # the budget


def statements(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if q["sql"].split(" ", 1)[0].upper() not in TRANSACTION_CONTROL]


def counted(request) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = request()
    assert response.status_code in (200, 201), response.content[:500]
    return statements(captured)


@pytest.fixture
def fill(hotline_agent, make_order):
    made = []

    def _fill(count):
        for _ in range(count):
            made.append(make_order(hotline_agent, customer_phone=f"139{len(made) + 10_000_000:08d}"))
        return made

    return _fill


def test_an_api_create_for_a_new_customer_stays_within_its_statements(api_for, channel_system, coverage, fill):
    api = api_for(channel_system)

    def create(phone):
        body = {"kind": "complaint", "channel": "hotline", "category": coverage.code, "description": "没有信号",
                "customer_phone": phone}
        return lambda: api.post("/api/v1/orders/", data=json.dumps(body), content_type="application/json",
                                HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)

    counted(create("13700000001"))  # warm
    new = counted(create("13700000002"))
    assert len(new) <= CREATE_NEW_CUSTOMER, "\n".join(new)
    known = counted(create("13700000002"))  # the same customer again: a repeat complaint
    assert len(known) <= CREATE_KNOWN_CUSTOMER, "\n".join(known)
    fill(12)  # more orders, customers and stages in the tables: the count stays
    assert len(counted(create("13700000003"))) == len(new)


def test_the_order_page_stays_within_its_statements(client, quality_manager, fill, network_handler):
    orders = fill(2)
    services.order_claim(actor=network_handler, order=orders[0])
    client.force_login(quality_manager)
    page = lambda: client.get(f"/orders/{orders[0].number}/")  # noqa: E731
    page()
    few = counted(page)
    assert len(few) <= ORDER_PAGE, "\n".join(few)
    more = fill(10)[-10:]
    for order in more[:5]:
        services.order_claim(actor=network_handler, order=order)
    assert len(counted(page)) == len(few)


def test_the_order_page_reads_notes_attachments_and_repeats_only_when_there_are_some(
        client, quality_manager, hotline_agent, make_order, network_handler):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from workflow import notes

    order = make_order(hotline_agent, customer_phone="13900000077")
    client.force_login(quality_manager)
    page = lambda: client.get(f"/orders/{order.number}/")  # noqa: E731
    page()
    bare = counted(page)
    assert not any("complaints_note" in sql.split(" FROM ", 1)[-1][:40] for sql in bare)
    notes.order_note_add(actor=network_handler, order=order, body="已联系用户，约明天上门")
    notes.order_attachment_add(actor=hotline_agent, order=order,
                               upload=SimpleUploadedFile("测试.pdf", b"%PDF-1.7 signal log", content_type="application/pdf"))
    page()
    with_both = counted(page)
    assert len(with_both) == len(bare) + 2
    body = page().content.decode()
    assert "已联系用户，约明天上门" in body and "测试.pdf" in body


@pytest.mark.parametrize("path,user_fixture,ceiling", [
    ("/work/queue/", "network_handler", QUEUE),
    ("/orders/", "quality_manager", ORDER_LIST),
    ("/dashboard/", "quality_manager", DASHBOARD),
])
def test_lists_and_the_dashboard_stay_within_their_statements(path, user_fixture, ceiling, request, client, fill):
    client.force_login(request.getfixturevalue(user_fixture))
    fill(2)
    page = lambda: client.get(path)  # noqa: E731
    page()
    few = counted(page)
    assert len(few) <= ceiling, "\n".join(few)
    fill(15)
    page()  # a new row may fill a memo once (a category, a department first seen)
    assert len(counted(page)) == len(few)


# --- what the fewer statements must not cost -------------------------------------------------------------------


def _body(coverage, **extra):
    return {"kind": "complaint", "channel": "hotline", "category": coverage.code, "description": "没有信号",
            "customer_phone": "13700000009", **extra}


def test_a_retry_that_would_be_refused_today_still_gets_its_first_order(api_for, channel_system, coverage):
    """The replay is looked up only when a create is refused (or meets its first attempt at the insert): a retry
    whose received time has aged past the limit, or whose category was retired since, still gets its order."""
    from complaints.models import Customer, WorkOrder

    api = api_for(channel_system)
    received = timezone.now() - timedelta(hours=23)
    body = _body(coverage, received_at=received.isoformat())
    first = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert first.status_code == 201, first.content
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        aged = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
        assert aged.status_code == 200 and aged["Idempotent-Replayed"] == "true"
        assert aged.json()["number"] == first.json()["number"]
        fresh = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-2")
        assert fresh.status_code == 400 and "received_at" in fresh.json()  # a new key is judged as it comes
    coverage.is_active = False
    coverage.save()
    retired = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert retired.status_code == 200 and retired.json()["number"] == first.json()["number"]
    assert WorkOrder.objects.count() == 1 and Customer.objects.filter(phone="13700000009").count() == 1


def test_a_retry_that_passes_the_checks_meets_its_first_attempt_at_the_insert(api_for, channel_system, coverage):
    from complaints.models import WorkOrder
    from workflow.models import OrderEvent, OrderStage

    api = api_for(channel_system)
    first = api.post("/api/v1/orders/", _body(coverage), format="json", HTTP_IDEMPOTENCY_KEY="same")
    events, stages = OrderEvent.objects.count(), OrderStage.objects.count()
    retry = api.post("/api/v1/orders/", _body(coverage), format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert retry.status_code == 200 and retry.json()["number"] == first.json()["number"]
    # nothing of the second attempt stays: no order, no audit row, no clock
    assert (WorkOrder.objects.count(), OrderEvent.objects.count(), OrderStage.objects.count()) == (1, events, stages)
    other = api.post("/api/v1/orders/", _body(coverage, description="另一件事"), format="json",
                     HTTP_IDEMPOTENCY_KEY="same")
    assert other.status_code == 422


def test_a_category_retired_in_admin_is_refused_at_once_in_this_process(api_for, channel_system, coverage):
    api = api_for(channel_system)
    assert api.post("/api/v1/orders/", _body(coverage), format="json").status_code == 201  # the memo is filled
    coverage.is_active = False
    coverage.save()
    refused = api.post("/api/v1/orders/", _body(coverage), format="json")
    assert refused.status_code == 400 and coverage.code in refused.json()["category"][0]


def test_a_role_taken_away_or_a_permission_given_counts_at_the_next_request(client, quality_manager, customer,
                                                                             hotline_agent, make_order):
    from django.contrib.auth.models import Permission

    order = make_order(hotline_agent, customer_phone=customer.phone)
    client.force_login(quality_manager)
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert customer.phone not in page  # masked
    group = quality_manager.groups.get()
    group.permissions.add(Permission.objects.get(codename="view_full_phone"))
    assert customer.phone in client.get(f"/orders/{order.number}/").content.decode()
    assert client.get("/dashboard/").status_code == 200
    quality_manager.groups.clear()
    assert client.get("/dashboard/").status_code == 403


def test_a_session_is_written_once_a_minute_not_on_every_request(client, hotline_agent):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(hotline_agent)
        client.get("/orders/")

    def session_writes(at):
        with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as captured:
            assert client.get("/orders/").status_code == 200
        return [sql for sql in statements(captured) if "django_session" in sql and not sql.startswith("SELECT")]

    assert session_writes(start + timedelta(seconds=30)) == []
    assert len(session_writes(start + timedelta(seconds=90))) == 1  # renewed: the idle clock starts again
    assert session_writes(start + timedelta(seconds=100)) == []
