"""The transition runner (core.transitions): its contract on a small declared domain, and for each domain that
declares its actions, that the table the runner checks is what the pages offer."""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accountability import services as accountability
from accountability.models import MonthlyNotice
from complaints.models import OrderStatus
from core.transitions import (
    ActionSpec,
    Rule,
    TransitionConflict,
    Transitions,
    available_actions,
    transitions_for,
)
from org import roles
from org.models import Department
from quality import batch
from quality.models import Incident
from support import services as support
from support.models import SupportEvent, SupportRequest
from tests import test_accountability, test_improvement_history
from tests import test_support_world as world
from tests.factories import DepartmentFactory, UserFactory
from tests.test_support_world import at
from workflow import services as flow
from workflow.models import Notification

support_reference_data, hotline_lead, cast, at_stage = (world.support_reference_data, world.hotline_lead,
                                                        world.cast, world.at_stage)
closer, items, accountability_at = test_accountability.closer, test_accountability.items, test_accountability.at
improvement = test_improvement_history.improvement


# --- the contract, on a door that opens and closes ------------------------------------------------------------


@dataclass
class Door:
    status: str = "closed"
    keeper: str = "ann"


@dataclass
class Person:
    name: str
    pk: int = 1


class DoorConflict(TransitionConflict):
    pass


def door_table(*, audit: list, locks: list, hooks=None) -> Transitions:
    @contextmanager
    def lock(*, actor, obj):
        locks.append(obj)
        yield obj

    keeper = Rule(lambda user, door: user.name == door.keeper, lambda door: f"Only {door.keeper} may do this.")
    return Transitions(
        model=Door,
        actions={
            "open": ActionSpec("open", steps=("closed",), actor=(keeper,)),
            "close": ActionSpec("close", steps=("open",), actor=(keeper,), by_system=True),
            "knock": ActionSpec("knock", state=(Rule(lambda door: door.status == "closed",
                                                     lambda door: "Nobody knocks on an open door."),)),
        },
        read=lambda door: door, lock=lock, step_of=lambda door: door.status,
        not_now=lambda door, action: DoorConflict(door, f"The door is {door.status}: {action} is not possible now."),
        conflict=DoorConflict,
        audit=lambda door, *, actor, action, before, comment, **data: audit.append(
            (action, before, door.status, getattr(actor, "name", None), comment, data)),
        status_of=lambda door: door.status, hooks=hooks,
    )


@pytest.mark.django_db
def test_a_step_the_action_is_not_allowed_in_is_a_conflict_naming_the_status():
    table = door_table(audit=[], locks=[])
    door = Door(status="open")
    with pytest.raises(DoorConflict, match="The door is open: open is not possible now") as error:
        with table.transition("open", actor=Person("ann"), obj=door):
            pytest.fail("the block runs only when the checks pass")
    assert error.value.status == "open" and error.value.obj is door


def test_a_state_rule_refuses_with_its_own_message():
    table = door_table(audit=[], locks=[])
    with pytest.raises(DoorConflict, match="Nobody knocks on an open door"):
        table.check("knock", Person("bob"), Door(status="open"))


def test_the_wrong_actor_is_refused_naming_who_may_after_the_state_is_checked():
    table = door_table(audit=[], locks=[])
    with pytest.raises(PermissionDenied, match="Only ann may do this"):
        table.check("open", Person("bob"), Door())
    with pytest.raises(DoorConflict):  # the state first: bob at the wrong step hears of the step
        table.check("close", Person("bob"), Door())


def test_the_system_takes_only_the_actions_declared_for_it():
    table = door_table(audit=[], locks=[])
    table.check("close", None, Door(status="open"))
    with pytest.raises(PermissionDenied, match="Only ann"):
        table.check("open", None, Door())


@pytest.mark.django_db
def test_the_runner_locks_applies_records_then_calls_the_hooks_and_the_notifications_in_order():
    audit, locks, calls = [], [], []
    table = door_table(audit=audit, locks=locks, hooks={"open": [lambda step: calls.append(("hook", step.ctx.status))]})
    door = Door()
    with table.transition("open", actor=Person("ann"), obj=door) as step:
        assert locks == [door] and step.before == "closed"
        door.status = "open"
        step.record("opened", comment="airing", wind="east")
        step.notify(lambda who: calls.append(("told", who)), "bob")
        assert calls == []  # nobody is told before the change is complete
    assert audit == [("opened", "closed", "open", "ann", "airing", {"wind": "east"})]
    assert calls == [("hook", "open"), ("told", "bob")]


@pytest.mark.django_db
def test_what_waits_for_the_commit_is_dropped_on_a_rollback(django_capture_on_commit_callbacks):
    audit, calls = [], []
    table = door_table(audit=audit, locks=[])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ValueError), table.transition("open", actor=Person("ann"), obj=Door()) as step:
            step.on_commit(lambda: calls.append("mailed"))
            step.notify(lambda: calls.append("told"))
            raise ValueError("the change failed")
    assert callbacks == [] and calls == []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with table.transition("open", actor=Person("ann"), obj=Door()) as step:
            step.on_commit(lambda: calls.append("mailed"))
    assert len(callbacks) == 1 and calls == ["mailed"]


def test_available_actions_is_one_lookup_by_the_objects_model():
    table = door_table(audit=[], locks=[])
    assert transitions_for(Door()) is table
    assert available_actions(Person("ann"), Door()) == ["open", "knock"]
    assert available_actions(Person("bob"), Door()) == ["knock"]
    assert available_actions(Person("ann"), Door(status="open")) == ["close"]
    assert available_actions(None, Door(status="open")) == ["close"]
    with pytest.raises(LookupError):
        available_actions(Person("ann"), Person("bob"))


# --- support requests ----------------------------------------------------------------------------------------


def test_support_requests_declare_their_actions_to_the_runner():
    assert transitions_for(SupportRequest(number="ZC1")) is support.SUPPORT
    assert support.ACTIONS == tuple(support.SUPPORT.actions)


@pytest.mark.parametrize("stage", ["sort", "handle", "approve", "rate"])
def test_the_support_page_offers_what_the_table_allows_and_the_runner_agrees(client, cast, at_stage, stage):
    request = at_stage(stage)
    ctx = support.request_context(request=request)
    with time_machine.travel(at(10, 10), tick=False):
        for who, user in cast.items():
            allowed = available_actions(user, request)
            for action in support.ACTIONS:  # the list and the runner's checks are one table
                try:
                    support.SUPPORT.check(action, user, ctx)
                except (TransitionConflict, PermissionDenied):
                    assert action not in allowed, (who, action)
                else:
                    assert action in allowed, (who, action)
            client.force_login(user)
            page = client.get(f"/support/{request.number}/")
            if page.status_code == 200:
                assert [a["name"] for a in page.context["actions"]] == allowed, who


def test_a_support_transition_writes_its_audit_event_through_the_runner(cast, at_stage, network_dept):
    request = at_stage("sort")
    with time_machine.travel(at(7, 10), tick=False):
        support.request_route(actor=cast["quality"], request=request, department=network_dept, comment="请核查")
    event = SupportEvent.objects.filter(request=request).order_by("-id").first()
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        "routed", "sorting", "handling", cast["quality"])
    assert Notification.objects.filter(recipient=cast["handler"], subject__contains="routed").exists()


def test_a_refused_support_transition_leaves_no_trace(cast, at_stage, network_dept):
    request = at_stage("sort")
    events, notes = SupportEvent.objects.count(), Notification.objects.count()
    with pytest.raises(PermissionDenied, match="sorted by the quality department"):
        support.request_route(actor=cast["agent"], request=request, department=network_dept)
    assert (SupportEvent.objects.count(), Notification.objects.count()) == (events, notes)


# --- work orders ---------------------------------------------------------------------------------------------


@pytest.fixture
def staff(hotline_agent, province_dispatcher, network_handler, network_lead, billing_handler, billing_lead, outsider,
          quality_manager):
    return dict(agent=hotline_agent, dispatcher=province_dispatcher, handler=network_handler, lead=network_lead,
                billing_handler=billing_handler, billing_lead=billing_lead, outsider=outsider,
                quality=quality_manager)


def _open_incident(dispatcher, department, category, region):
    return batch.incident_open(actor=dispatcher, title="天河基站故障", department=department, category=category,
                               region=region, expected_recovery_at=timezone.now() + datetime.timedelta(hours=3))


def _assert_the_page_offers_the_table(client, staff, order):
    ctx = flow.order_context(order=order)
    for who, user in staff.items():
        allowed = available_actions(user, order)
        for action in flow.ORDERS.actions:  # the list and the runner's checks are one table
            try:
                flow.ORDERS.check(action, user, ctx)
            except (TransitionConflict, PermissionDenied):
                assert action not in allowed, (who, action)
            else:
                assert action in allowed, (who, action)
        client.force_login(user)
        page = client.get(f"/orders/{order.number}/")
        if page.status_code != 200:
            continue
        assert page.context["available"] == [a for a in allowed if a in flow.ACTIONS], who
        assert bool(page.context["joinable_incidents"]) == ("attach" in allowed), who
        assert page.context["may_detach"] == ("detach" in allowed), who


def test_the_order_page_offers_what_the_order_table_allows_at_every_step(client, staff, make_order, coverage,
                                                                        network_dept, guangzhou):
    order = make_order(staff["agent"])
    _open_incident(staff["dispatcher"], network_dept, coverage, guangzhou)
    _assert_the_page_offers_the_table(client, staff, order)
    if order.status == OrderStatus.NEW:
        order = flow.order_dispatch(actor=staff["dispatcher"], order=order, department=network_dept)
        _assert_the_page_offers_the_table(client, staff, order)
    order = flow.order_claim(actor=staff["handler"], order=order)
    _assert_the_page_offers_the_table(client, staff, order)
    incident = Incident.objects.get()
    order = flow.order_attach_incident(actor=staff["agent"], order=order, incident=incident)
    _assert_the_page_offers_the_table(client, staff, order)


def test_attach_and_detach_are_checked_like_every_action(staff, make_order, coverage, network_dept, guangzhou):
    order = make_order(staff["agent"])
    incident = _open_incident(staff["dispatcher"], network_dept, coverage, guangzhou)
    if order.status == OrderStatus.NEW:
        order = flow.order_dispatch(actor=staff["dispatcher"], order=order, department=network_dept)
    # Another department's lead is not this order's lead (the page offered it to any lead; the service refused).
    assert "attach" not in available_actions(staff["billing_lead"], order)
    with pytest.raises(PermissionDenied, match="attached to incidents by the complaint centre"):
        flow.order_attach_incident(actor=staff["billing_lead"], order=order, incident=incident)
    assert "attach" in available_actions(staff["lead"], order)
    order = flow.order_attach_incident(actor=staff["lead"], order=order, incident=incident)
    assert order.status == OrderStatus.IN_INCIDENT
    assert available_actions(staff["lead"], order).count("attach") == 0
    with pytest.raises(flow.ActionNotPossible, match="attach to an incident is not possible now"):
        flow.order_attach_incident(actor=staff["dispatcher"], order=order, incident=incident)
    with pytest.raises(PermissionDenied, match="Only dispatchers of the complaint centre may detach"):
        flow.order_detach_incident(actor=staff["lead"], order=order, reason="误挂")
    assert "detach" in available_actions(staff["dispatcher"], order)
    order = flow.order_detach_incident(actor=staff["dispatcher"], order=order, reason="误挂")
    assert order.status in (OrderStatus.QUEUED, OrderStatus.IN_PROGRESS)
    assert "detach" not in available_actions(staff["dispatcher"], order)


def test_only_complaints_join_incidents(staff, make_order, coverage, network_dept, guangzhou):
    order = make_order(staff["agent"], kind="suggestion")
    assert order.status in (OrderStatus.NEW, OrderStatus.QUEUED)
    incident = _open_incident(staff["dispatcher"], network_dept, coverage, guangzhou)
    assert "attach" not in available_actions(staff["dispatcher"], order)
    with pytest.raises(flow.ActionNotPossible, match="not possible now"):
        flow.order_attach_incident(actor=staff["dispatcher"], order=order, incident=incident)


def test_a_table_may_check_the_actor_before_the_state():
    table = door_table(audit=[], locks=[])
    table.actor_first = True
    with pytest.raises(PermissionDenied, match="Only ann"):  # bob at the wrong step hears who may
        table.check("close", Person("bob"), Door())
    with pytest.raises(DoorConflict):
        table.check("close", Person("ann"), Door())


# --- accountability and incidents: each page offers what its table allows ----------------------------------


def _assert_the_page_offers(client, users, obj, url, flags, *, pending=None):
    """For every user: the table's list agrees with its checks, and the page offers (flags: action → the page's
    context flag) exactly that; `pending` is an appeal whose "decide" the page offers as may_rule."""
    shown = 0
    for who, user in users.items():
        allowed = available_actions(user, obj)
        table = transitions_for(obj)
        for action in table.actions:
            try:
                table.check(action, user, table.read(obj))
            except (ValidationError, TransitionConflict, PermissionDenied):
                assert action not in allowed, (who, action)
            else:
                assert action in allowed, (who, action)
        client.force_login(user)
        page = client.get(url)
        if page.status_code != 200:
            continue
        shown += 1
        for action, flag in flags.items():
            assert page.context[flag] == (action in allowed), (who, action)
        if "may_rule" in page.context:
            assert page.context["may_rule"] == (pending is not None and "decide" in available_actions(user, pending))
    assert shown >= 2  # the page was seen (by the centre and a department at least)


@pytest.fixture
def accountable(hotline_agent, province_dispatcher, billing_handler, billing_lead, network_lead, quality_manager,
                shenzhen):
    centre = DepartmentFactory(code="sz-centre", name="深圳投诉中心", kind=Department.Kind.COMPLAINT_CENTRE,
                               region=shenzhen)
    return dict(agent=hotline_agent, centre=province_dispatcher, handler=billing_handler, lead=billing_lead,
                other_lead=network_lead, quality=quality_manager,
                other_centre=UserFactory(username="sz_dispatcher", department=centre, roles=[roles.DISPATCHER]))


def test_the_determination_and_appeal_pages_offer_what_their_tables_allow(client, accountable, closer, dispute):
    determination = closer(datetime.date(2026, 11, 3), category=dispute,
                           handler=accountable["handler"]).determination
    url = f"/accountability/determinations/{determination.pk}/"
    flags = {"decide": "may_decide", "appeal": "may_appeal"}
    assert transitions_for(determination) is accountability.DETERMINATIONS
    with time_machine.travel(accountability_at(datetime.date(2026, 11, 4)), tick=False):
        _assert_the_page_offers(client, accountable, determination, url, flags)
        appeal = accountability.appeal_file(actor=accountable["lead"], determination=determination, reason="x",
                                            evidence="y")
        determination.refresh_from_db()
        _assert_the_page_offers(client, accountable, determination, url, flags, pending=appeal)
        assert available_actions(accountable["centre"], appeal) == ["decide"]
        assert available_actions(accountable["other_centre"], appeal) == []
        accountability.appeal_decide(actor=accountable["centre"], appeal=appeal, uphold=True, reason="维持")
        determination.refresh_from_db()
        _assert_the_page_offers(client, accountable, determination, url, flags)


def test_the_deduction_page_offers_what_its_table_allows(client, accountable, items, billing_dept):
    with time_machine.travel(accountability_at(datetime.date(2026, 11, 20)), tick=False):
        deduction = accountability.deduction_record(actor=accountable["quality"], item=items["overdue"],
                                                    department=billing_dept, month=datetime.date(2026, 11, 1),
                                                    evidence="超时")
        url = f"/accountability/deductions/{deduction.pk}/"
        _assert_the_page_offers(client, accountable, deduction, url, {"appeal": "may_appeal"})
        appeal = accountability.appeal_file(actor=accountable["lead"], deduction=deduction, reason="x", evidence="y")
        deduction.refresh_from_db()
        _assert_the_page_offers(client, accountable, deduction, url, {"appeal": "may_appeal"}, pending=appeal)


def test_the_notice_page_offers_what_its_table_allows(client, accountable, billing_dept):
    notice = MonthlyNotice.objects.create(department=billing_dept, month=datetime.date(2026, 11, 1),
                                          due_at=timezone.now() + datetime.timedelta(days=3),
                                          warn_at=timezone.now() + datetime.timedelta(days=2))
    url = f"/accountability/notices/{notice.pk}/"
    _assert_the_page_offers(client, accountable, notice, url, {"acknowledge": "may_ack"})
    assert available_actions(accountable["lead"], notice) == ["acknowledge"]
    accountability.notice_acknowledge(actor=accountable["lead"], notice=notice)
    notice.refresh_from_db()
    _assert_the_page_offers(client, accountable, notice, url, {"acknowledge": "may_ack"})
    assert available_actions(accountable["lead"], notice) == []


def test_the_improvement_page_offers_review_only_to_the_centre_the_service_accepts(client, accountable, improvement):
    url = f"/accountability/improvements/{improvement.pk}/"
    flags = {"answer": "may_answer", "review": "may_review"}
    _assert_the_page_offers(client, accountable, improvement, url, flags)
    accountability.improvement_answer(actor=accountable["lead"], improvement=improvement, cause_analysis="人手不足",
                                      measures="增设夜班")
    improvement.refresh_from_db()
    _assert_the_page_offers(client, accountable, improvement, url, flags)
    # Another city's centre: the page offered it the review (any centre user); the service refused the region.
    assert "review" not in available_actions(accountable["other_centre"], improvement)
    with pytest.raises(PermissionDenied, match="another city's complaint centre"):
        accountability.improvement_review(actor=accountable["other_centre"], improvement=improvement, accept=True)
    assert available_actions(accountable["centre"], improvement) == ["review"]
    accountability.improvement_review(actor=accountable["centre"], improvement=improvement, accept=True)
    improvement.refresh_from_db()
    _assert_the_page_offers(client, accountable, improvement, url, flags)


def test_accountability_checks_the_actor_before_the_state_and_refuses_the_state_with_a_validation_error(
        accountable, closer, dispute):
    determination = closer(datetime.date(2026, 11, 3), category=dispute,
                           handler=accountable["handler"]).determination
    with time_machine.travel(accountability_at(datetime.date(2026, 11, 30)), tick=False):  # the window closed
        with pytest.raises(PermissionDenied):
            accountability.appeal_file(actor=accountable["other_lead"], determination=determination, reason="x",
                                       evidence="y")
        with pytest.raises(ValidationError, match="appeal window closed"):
            accountability.appeal_file(actor=accountable["lead"], determination=determination, reason="x",
                                       evidence="y")


def test_the_incident_page_offers_what_the_incident_table_allows(client, staff, coverage, network_dept, guangzhou):
    incident = _open_incident(staff["dispatcher"], network_dept, coverage, guangzhou)
    assert transitions_for(incident) is batch.INCIDENTS
    url = f"/early-warning/incidents/{incident.pk}/"
    flags = {"feedback": "may_feedback", "resolve": "may_resolve"}
    _assert_the_page_offers(client, staff, incident, url, flags)
    assert available_actions(staff["handler"], incident) == ["feedback"]
    assert available_actions(staff["lead"], incident) == ["feedback", "resolve"]
    with pytest.raises(PermissionDenied, match="responsible department"):
        batch.incident_feedback(actor=staff["billing_lead"], incident=incident, feedback="x")
    batch.incident_resolve(actor=staff["lead"], incident=incident, answer="已恢复", cause_report="光缆中断")
    incident.refresh_from_db()
    _assert_the_page_offers(client, staff, incident, url, flags)
    with pytest.raises(PermissionDenied):  # the actor first, as before: an outsider hears who may
        batch.incident_resolve(actor=staff["outsider"], incident=incident, answer="x", cause_report="y")
    with pytest.raises(ValidationError, match="resolved already"):
        batch.incident_resolve(actor=staff["lead"], incident=incident, answer="x", cause_report="y")
