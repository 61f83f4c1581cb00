"""The transition runner (core.transitions): its contract on a small declared domain, and for each domain that
declares its actions, that the table the runner checks is what the pages offer."""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from complaints.models import OrderStatus
from core.transitions import (
    ActionSpec,
    Rule,
    TransitionConflict,
    Transitions,
    available_actions,
    transitions_for,
)
from quality import batch
from quality.models import Incident
from support import services as support
from support.models import SupportEvent, SupportRequest
from tests import test_support_world as world
from tests.test_support_world import at
from workflow import services as flow
from workflow.models import Notification

support_reference_data, hotline_lead, cast, at_stage = (world.support_reference_data, world.hotline_lead,
                                                        world.cast, world.at_stage)


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
