"""Internal support requests through their services: every path of the flow, the promised dates and the deferral,
the sweep, the on-time rates, and who may take each step (the wrong user on every action)."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from viewflow.workflow.status import PROCESS

from support import selectors, services
from support.models import SupportEvent, SupportPolicy, SupportProcess, SupportRequest, SupportTask
from support.services import RequestNotPossible
from tests import test_support_world as world
from tests.test_support_world import (
    PROMISED_PROBLEM,
    WARNED_PROBLEM,
    actions,
    answered,
    approved,
    at,
    raised,
    rated,
    routed,
    step,
)
from workflow.models import Notification

Status = SupportRequest.Status
# The shared fixtures (pytest finds them as attributes of this module).
support_reference_data, hotline_lead, cast, at_stage = (world.support_reference_data, world.hotline_lead,
                                                        world.cast, world.at_stage)


def inbox(user, **filters):
    return Notification.objects.filter(recipient=user, **filters)


# --- raising ------------------------------------------------------------------------------------------------


def test_a_frontline_agent_raises_a_problem_promised_in_five_working_days(cast):
    request = raised(cast["agent"])
    assert request.number == "ZC20261207000001"
    assert request.status == Status.SORTING and request.department is None
    assert request.requester_department == cast["agent"].department
    assert request.due_at == request.original_due_at == PROMISED_PROBLEM
    assert request.warn_at == WARNED_PROBLEM  # 80% of the five working days
    assert request.policy == SupportPolicy.objects.get(effective_from=datetime.date(2020, 1, 1))
    assert actions(request) == ["raised"]
    process = SupportProcess.objects.get(request=request)
    assert process.flow_class.__name__ == "SupportFlow"
    assert SupportTask.objects.get(process=process, status="NEW").flow_task.name == "sort"
    note = inbox(cast["quality"]).get()
    assert note.kind == "support" and note.link == f"/support/{request.number}/"
    assert request.number in note.subject and "to sort" in note.subject


def test_a_requirement_is_promised_in_ten_working_days_and_numbers_count_per_day(cast):
    first = raised(cast["agent"])
    second = raised(cast["unit_lead"], kind="requirement", when=at(7, 16))
    assert second.number == "ZC20261207000002"
    assert second.due_at == at(21, 16)
    assert raised(cast["agent"], when=at(8, 9)).number == "ZC20261208000001"
    assert first.due_at == PROMISED_PROBLEM


def test_holidays_and_make_up_working_days_count_as_the_calendar_says(cast):
    # Raised the Monday before National Day: 29, 30 September, then 8, 9 October and the make-up Saturday the 10th.
    request = raised(cast["agent"], when=at(28, 10, month=9))
    assert request.due_at == at(10, 10, month=10)


def test_a_request_is_judged_by_the_policy_in_force_the_day_it_was_raised(cast):
    SupportPolicy.objects.create(effective_from=datetime.date(2026, 12, 8), problem_working_days=3)
    before = raised(cast["agent"])
    after = raised(cast["agent"], when=at(8, 9))
    assert before.due_at == PROMISED_PROBLEM
    assert after.due_at == at(11, 9) and after.policy.problem_working_days == 3


@pytest.mark.parametrize("who", ["handler", "lead", "quality", "dispatcher"])
def test_only_agents_and_leads_of_frontline_units_raise_requests(cast, who):
    with pytest.raises(PermissionDenied, match="frontline units"):
        raised(cast[who])
    assert not SupportRequest.objects.exists()


def test_a_request_needs_a_kind_a_title_and_a_description(cast):
    with pytest.raises(ValidationError) as error:
        services.request_raise(actor=cast["agent"], kind="wish", title=" ", description="")
    assert set(error.value.message_dict) == {"kind", "title", "description"}


# --- the happy path -----------------------------------------------------------------------------------------


def test_sorted_routed_answered_approved_and_rated_it_closes(cast, network_dept):
    request = raised(cast["agent"])
    request = routed(request, cast["quality"], network_dept, comment="请网络部核查产品配置")
    assert request.status == Status.HANDLING and request.department == network_dept
    assert inbox(cast["handler"], subject__contains="routed to your department").exists()
    assert inbox(cast["lead"], subject__contains="routed to your department").exists()

    request = answered(request, cast["handler"])
    assert request.status == Status.APPROVAL and request.answered_at is None
    assert inbox(cast["lead"], subject__contains="awaits your approval").exists()

    request = approved(request, cast["lead"])
    assert request.status == Status.RATING
    assert request.answered_at == at(8, 11) and request.answered_on_time is True
    assert request.answered_department == network_dept and request.approved_by == cast["lead"]
    assert request.rating_due_at == at(15, 11)  # five working days to rate
    assert inbox(cast["agent"], subject__contains="please rate").exists()

    request = rated(request, cast["agent"], rating=4, comment="已解决")
    assert request.status == Status.CLOSED and request.closed_at == at(9, 9)
    assert request.resolution == SupportRequest.Resolution.RATED and request.rating == 4
    assert inbox(cast["handler"], subject__contains="rated 4 of 5").exists()
    assert actions(request) == ["raised", "routed", "answer_written", "approved", "rated"]
    assert SupportProcess.objects.get(request=request).status == PROCESS.DONE
    events = list(request.events.all())
    assert [(e.from_status, e.to_status) for e in events][1:] == [
        ("sorting", "handling"), ("handling", "approval"), ("approval", "rating"), ("rating", "closed")]
    assert events[1].comment == "请网络部核查产品配置" and events[1].data["department"] == network_dept.name
    assert events[2].actor == cast["handler"] and events[2].actor_name == str(cast["handler"])


def test_a_lead_may_answer_and_approve_their_own_answer(cast, network_dept):
    request = routed(raised(cast["agent"]), cast["quality"], network_dept)
    request = approved(answered(request, cast["lead"]), cast["lead"])
    assert request.status == Status.RATING


def test_quality_corrects_the_kind_when_routing_and_the_promise_follows(cast, network_dept):
    request = raised(cast["agent"])
    request = routed(request, cast["quality"], network_dept, kind="requirement")
    assert request.kind == "requirement" and request.due_at == at(21, 9) == request.original_due_at
    assert request.events.get(action="routed").data["kind_from"] == "problem"


def test_quality_answers_directly_and_the_requester_rates(cast, quality_manager):
    request = step(at(7, 11), services.request_answer, actor=cast["quality"], request=raised(cast["agent"]),
                   answer="该问题已有口径：请引导客户通过APP办理。")
    assert request.status == Status.RATING and request.department is None
    assert request.answered_department == quality_manager.department and request.answered_on_time
    assert actions(request) == ["raised", "answered_by_quality"]
    assert rated(request, cast["agent"]).status == Status.CLOSED


def test_quality_rejects_what_is_not_a_support_matter_with_a_reason(cast):
    request = raised(cast["agent"])
    with pytest.raises(ValidationError) as error:
        services.request_reject(actor=cast["quality"], request=request, reason=" ")
    assert "reason" in error.value.message_dict
    request = services.request_reject(actor=cast["quality"], request=request, reason="属于客户投诉，请按投诉工单受理")
    assert request.status == Status.CLOSED and request.resolution == "rejected" and request.answered_at is None
    assert inbox(cast["agent"], subject__contains="not a support matter").get().comment.startswith("属于客户投诉")


def test_only_active_back_office_departments_are_routed_to(cast, network_dept):
    request = raised(cast["agent"])
    for wrong in (cast["agent"].department, cast["quality"].department, None):
        with pytest.raises(ValidationError) as error:
            services.request_route(actor=cast["quality"], request=request, department=wrong)
        assert "department" in error.value.message_dict
    network_dept.is_active = False
    network_dept.save()
    with pytest.raises(ValidationError):
        services.request_route(actor=cast["quality"], request=request, department=network_dept)


def test_the_department_returns_a_request_that_is_not_its_own_and_the_promise_stands(cast, network_dept,
                                                                                   billing_dept):
    request = routed(raised(cast["agent"]), cast["quality"], network_dept)
    request = step(at(8, 9), services.request_return, actor=cast["handler"], request=request, reason="属于计费问题")
    assert request.status == Status.SORTING and request.department is None
    assert request.due_at == PROMISED_PROBLEM
    assert inbox(cast["quality"], subject__contains="returned").exists()
    request = routed(request, cast["quality"], billing_dept, when=at(8, 10))
    assert request.department == billing_dept
    assert actions(request) == ["raised", "routed", "returned", "routed"]


def test_the_lead_sends_an_answer_back_to_its_handler(cast, network_dept):
    request = answered(routed(raised(cast["agent"]), cast["quality"], network_dept), cast["handler"])
    with pytest.raises(ValidationError):
        services.request_send_back(actor=cast["lead"], request=request, reason="")
    request = step(at(8, 14), services.request_send_back, actor=cast["lead"], request=request,
                   reason="请补充配置完成时间")
    assert request.status == Status.HANDLING
    assert inbox(cast["handler"], subject__contains="sent back").get().comment == "请补充配置完成时间"
    request = approved(answered(request, cast["handler"], when=at(8, 15)), cast["lead"], when=at(8, 16))
    assert request.status == Status.RATING
    assert actions(request)[-4:] == ["answer_written", "sent_back", "answer_written", "approved"]


def test_comments_reach_the_other_side(cast, network_dept):
    request = routed(raised(cast["agent"]), cast["quality"], network_dept)
    step(at(7, 11), services.request_comment, actor=cast["agent"], request=request, body="补充：涉及全市营业厅")
    assert inbox(cast["lead"], subject__contains="new comment").exists()
    step(at(7, 14), services.request_comment, actor=cast["handler"], request=request, body="请提供一个受影响的工号")
    assert inbox(cast["agent"], subject__contains="new comment").get().comment == "请提供一个受影响的工号"
    assert actions(request)[-2:] == ["commented", "commented"]


# --- deferral (暂缓) ------------------------------------------------------------------------------------------


def defer(request, lead, until, when=None, reason="需公司投资决策后方可实施"):
    return step(when or at(10, 10), services.request_defer, actor=lead, request=request, until=until, reason=reason)


def test_the_lead_defers_once_and_the_promise_moves_keeping_the_original(cast, network_dept):
    request = routed(raised(cast["agent"]), cast["quality"], network_dept)
    request = defer(request, cast["lead"], datetime.date(2026, 12, 24))
    assert request.due_at == at(24, 17, 30)  # the end of that day's working time
    assert request.original_due_at == PROMISED_PROBLEM
    assert request.warn_at == at(22, 10, 6)  # 80% of the longer span, in working time
    assert request.is_deferred and request.deferred_by == cast["lead"] and request.status == Status.HANDLING
    event = request.events.get(action="deferred")
    assert event.data["due_from"] == PROMISED_PROBLEM.isoformat() and event.comment == "需公司投资决策后方可实施"
    assert inbox(cast["agent"], subject__contains="deferred until 2026-12-24 17:30").exists()
    assert inbox(cast["quality"], subject__contains="deferred").exists()
    with pytest.raises(RequestNotPossible, match="already deferred once"):
        defer(request, cast["lead"], datetime.date(2026, 12, 28), when=at(11, 9))


def test_a_deferral_lasts_at_most_thirty_working_days_and_ends_on_a_working_day(cast, network_dept):
    request = routed(raised(cast["agent"]), cast["quality"], network_dept)
    assert step(at(10, 10), services.deferral_latest_date, request=request) == datetime.date(2027, 1, 22)
    cases = {datetime.date(2027, 1, 25): "at most 30 working days", datetime.date(2026, 12, 19): "not a working day",
             datetime.date(2026, 12, 11): "after the promised date", datetime.date(2027, 1, 1): "not a working day"}
    for until, message in cases.items():
        with pytest.raises(ValidationError, match=message):
            defer(request, cast["lead"], until)
    assert defer(request, cast["lead"], datetime.date(2027, 1, 22)).due_at == at(22, 17, 30, month=1, year=2027)


def test_a_deferral_is_decided_before_the_promised_date_passes(cast, network_dept):
    request = routed(raised(cast["agent"]), cast["quality"], network_dept)
    with pytest.raises(RequestNotPossible, match="has passed"):
        defer(request, cast["lead"], datetime.date(2026, 12, 24), when=at(14, 10))


def test_a_deferral_needs_a_reason_and_a_date(cast, network_dept):
    request = routed(raised(cast["agent"]), cast["quality"], network_dept)
    with pytest.raises(ValidationError) as error:
        defer(request, cast["lead"], datetime.date(2026, 12, 24), reason="")
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        defer(request, cast["lead"], None)
    assert "until" in error.value.message_dict


def test_an_answer_by_the_deferred_date_is_on_time_and_one_after_it_late(cast, network_dept):
    deferred = defer(routed(raised(cast["agent"]), cast["quality"], network_dept), cast["lead"],
                     datetime.date(2026, 12, 24))
    on_time = approved(answered(deferred, cast["handler"], when=at(22, 9)), cast["lead"], when=at(24, 17))
    assert on_time.answered_on_time is True
    late = routed(raised(cast["agent"]), cast["quality"], network_dept)
    late = approved(answered(late, cast["handler"], when=at(14, 8, 50)), cast["lead"], when=at(14, 9, 1))
    assert late.answered_on_time is False


# --- rating and reopening -----------------------------------------------------------------------------------


def test_a_low_rating_reopens_once_to_quality_with_a_new_promise(cast, at_stage, network_dept):
    request = at_stage("rate")
    with pytest.raises(ValidationError) as error:
        rated(request, cast["agent"], rating=1, reopen=True)
    assert "comment" in error.value.message_dict
    with pytest.raises(ValidationError, match="2 or lower"):
        rated(request, cast["agent"], rating=3, comment="不满意", reopen=True)
    request = rated(request, cast["agent"], rating=1, comment="配置后仍无法办理", reopen=True)
    assert request.status == Status.SORTING and request.reopen_count == 1 and request.department is None
    assert request.due_at == at(16, 9) == request.original_due_at  # a new round from the reopening
    assert request.warned_at is None and request.overdue_at is None
    assert inbox(cast["quality"], subject__contains="reopened").exists()
    assert inbox(cast["lead"], subject__contains="reopened").exists()
    assert actions(request)[-2:] == ["rated", "reopened"]
    request = approved(answered(routed(request, cast["quality"], network_dept, when=at(9, 10)), cast["handler"],
                                when=at(10, 9)), cast["lead"], when=at(10, 10))
    with pytest.raises(ValidationError, match="cannot be reopened again"):
        rated(request, cast["agent"], rating=1, comment="还是不行", reopen=True, when=at(10, 11))
    with pytest.raises(ValidationError) as error:
        rated(request, cast["agent"], rating=2, when=at(10, 11))
    assert "comment" in error.value.message_dict  # a poor rating says why
    assert rated(request, cast["agent"], rating=2, comment="答复太慢", when=at(10, 11)).status == Status.CLOSED


def test_a_reopened_request_may_be_deferred_again_in_its_new_round(cast, network_dept):
    request = routed(raised(cast["agent"]), cast["quality"], network_dept)
    request = defer(request, cast["lead"], datetime.date(2026, 12, 18), when=at(8, 9))
    request = approved(answered(request, cast["handler"], when=at(8, 10)), cast["lead"], when=at(8, 11))
    request = rated(request, cast["agent"], rating=1, comment="仍未解决", reopen=True, when=at(9, 9))
    assert not request.is_deferred and request.due_at == request.original_due_at
    request = routed(request, cast["quality"], network_dept, when=at(9, 10))
    assert "defer" in services.request_actions_available(user=cast["lead"], request=request)
    request = defer(request, cast["lead"], datetime.date(2026, 12, 31), when=at(10, 9))
    assert request.is_deferred and actions(request).count("deferred") == 2  # both deferrals in the history


def test_a_rating_is_one_to_five(cast, at_stage):
    request = at_stage("rate")
    for wrong in (0, 6, None, "5"):
        with pytest.raises(ValidationError) as error:
            rated(request, cast["agent"], rating=wrong)
        assert "rating" in error.value.message_dict


def test_no_reopening_when_the_policy_says_never(cast, at_stage):
    SupportPolicy.objects.update(reopen_at_or_below=0)
    from core.memo import clear_all

    clear_all()
    request = at_stage("rate")
    assert services.reopen_threshold(request) is None
    with pytest.raises(ValidationError, match="cannot be reopened"):
        rated(request, cast["agent"], rating=1, comment="x", reopen=True)


# --- who may do what: the wrong user on every action, and the wrong step --------------------------------------

VALID_INPUT = {
    "route": lambda network_dept: {"department": network_dept, "comment": ""},
    "answer": lambda _d: {"answer": "答复"},
    "reject": lambda _d: {"reason": "不属于支撑需求"},
    "return": lambda _d: {"reason": "不属于本部门"},
    "defer": lambda _d: {"until": datetime.date(2026, 12, 24), "reason": "待投资决策"},
    "approve": lambda _d: {"comment": ""},
    "send_back": lambda _d: {"reason": "请补充"},
    "rate": lambda _d: {"rating": 5},
    "comment": lambda _d: {"body": "留言"},
}

RIGHT_AND_WRONG = [  # action, step, who may, who may not
    ("route", "sort", "quality", ["agent", "unit_lead", "lead", "handler", "dispatcher", "outsider"]),
    ("reject", "sort", "quality", ["agent", "unit_lead", "lead", "handler", "dispatcher", "outsider"]),
    ("answer", "sort", "quality", ["agent", "unit_lead", "lead", "dispatcher", "outsider"]),
    ("answer", "handle", "handler", ["quality", "agent", "unit_lead", "billing_handler", "dispatcher", "outsider"]),
    ("return", "handle", "handler", ["quality", "agent", "billing_lead", "dispatcher", "outsider"]),
    ("defer", "handle", "lead", ["handler", "quality", "agent", "unit_lead", "billing_lead", "dispatcher"]),
    ("approve", "approve", "lead", ["handler", "quality", "agent", "unit_lead", "billing_lead", "dispatcher"]),
    ("send_back", "approve", "lead", ["handler", "quality", "agent", "billing_lead", "dispatcher"]),
    ("rate", "rate", "agent", ["unit_lead", "lead", "handler", "quality", "dispatcher", "outsider"]),
    ("comment", "handle", "agent", ["outsider", "billing_handler", "billing_lead"]),
]


@pytest.mark.parametrize(("action", "stage", "right", "wrong"), RIGHT_AND_WRONG,
                         ids=[f"{a}-at-{s}" for a, s, _r, _w in RIGHT_AND_WRONG])
def test_every_action_refuses_the_wrong_user_and_takes_the_right_one(cast, at_stage, network_dept, action, stage,
                                                                    right, wrong):
    request = at_stage(stage)
    before = (request.status, actions(request))
    data = VALID_INPUT[action](network_dept)
    with time_machine.travel(at(10, 10), tick=False):
        for who in wrong:
            with pytest.raises(PermissionDenied):
                services.request_act(action=action, actor=cast[who], request=request, **data)
            sees = selectors.request_get_for_user(user=cast[who], number=request.number) is not None
            # The page offers the action to nobody who may not take it (and is a 404 to who cannot see it).
            assert not (sees and action in services.request_actions_available(user=cast[who], request=request))
        request.refresh_from_db()
        assert (request.status, actions(request)) == before
        assert action in services.request_actions_available(user=cast[right], request=request)
        services.request_act(action=action, actor=cast[right], request=request, **data)
    assert len(actions(request)) > len(before[1])


WRONG_STEP = [  # action and a step where it is not possible, with the person who may take it elsewhere
    ("route", "handle", "quality"), ("reject", "approve", "quality"), ("answer", "approve", "handler"),
    ("answer", "rate", "quality"), ("return", "rate", "handler"), ("defer", "approve", "lead"),
    ("approve", "handle", "lead"), ("send_back", "rate", "lead"), ("rate", "approve", "agent"),
]


@pytest.mark.parametrize(("action", "stage", "who"), WRONG_STEP, ids=[f"{a}-at-{s}" for a, s, _w in WRONG_STEP])
def test_an_action_at_the_wrong_step_is_not_possible_now(cast, at_stage, network_dept, action, stage, who):
    request = at_stage(stage)
    with time_machine.travel(at(10, 10), tick=False), pytest.raises(RequestNotPossible) as error:
        services.request_act(action=action, actor=cast[who], request=request, **VALID_INPUT[action](network_dept))
    assert error.value.status == request.status and request.number in str(error.value)


@pytest.mark.django_db(transaction=True)
def test_two_leads_approving_at_once_one_wins_and_the_other_is_told(cast, at_stage, network_dept):
    """Real threads on separate connections: the process row's lock queues the second approval, which then sees
    the request already answered."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    from org import roles
    from tests.factories import UserFactory

    second_lead = UserFactory(username="lead_network2", department=network_dept, roles=[roles.LEAD])
    request = at_stage("approve")
    barrier = threading.Barrier(2)

    def approve(lead):
        try:
            barrier.wait(timeout=20)
            services.request_approve(actor=lead, request=request)
            return "approved"
        except RequestNotPossible:
            return "not possible"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(approve, [cast["lead"], second_lead]))
    assert outcomes == ["approved", "not possible"]
    request.refresh_from_db()
    assert request.status == Status.RATING and actions(request).count("approved") == 1
    assert SupportTask.objects.filter(process__request=request, status__in=["NEW", "ASSIGNED"]).count() == 1


def test_nothing_can_be_done_on_a_closed_request_but_reading(cast, at_stage):
    request = rated(at_stage("rate"), cast["agent"])
    for who in cast:
        assert services.request_actions_available(user=cast[who], request=request) == []
    with pytest.raises(RequestNotPossible):
        services.request_comment(actor=cast["agent"], request=request, body="谢谢")


# --- who sees what ----------------------------------------------------------------------------------------------


def test_who_sees_a_request(cast, network_dept, billing_dept, network_handler):
    request = routed(raised(cast["agent"]), cast["quality"], network_dept)
    visible = {who for who, user in cast.items()
               if selectors.request_get_for_user(user=user, number=request.number) is not None}
    assert visible == {"agent", "unit_lead", "quality", "handler", "lead", "dispatcher"}
    # Returned to quality and routed elsewhere: the new department sees it, the old one no longer does.
    request = step(at(8, 9), services.request_return, actor=cast["handler"], request=request, reason="非本部门")
    request = routed(request, cast["quality"], billing_dept, when=at(8, 10))
    assert selectors.request_get_for_user(user=cast["billing_handler"], number=request.number) is not None
    assert selectors.request_get_for_user(user=network_handler, number=request.number) is None


def test_the_answering_department_keeps_seeing_what_it_answered(cast, at_stage, network_dept):
    request = rated(at_stage("rate"), cast["agent"], rating=1, comment="未解决", reopen=True)
    assert request.department is None
    assert selectors.request_get_for_user(user=cast["handler"], number=request.number) is not None


def test_waiting_for_me_lists_what_each_person_must_do(cast, at_stage):
    sort, handle, approve, rate = (at_stage(s) for s in ("sort", "handle", "approve", "rate"))

    def mine(who):
        return set(selectors.request_list(user=cast[who], filters=selectors.ListFilters(scope="mine")))

    assert mine("quality") == {sort}
    assert mine("handler") == {handle}
    assert mine("lead") == {handle, approve}
    assert mine("agent") == {rate}
    assert mine("unit_lead") == set() and mine("dispatcher") == set()


# --- the sweep ------------------------------------------------------------------------------------------------


def test_the_sweep_warns_at_the_warning_point_once_and_stamps_the_real_moment(cast, network_dept):
    request = routed(raised(cast["agent"]), cast["quality"], network_dept)
    assert services.support_sweep(now=at(11, 8, 59))["warned"] == 0
    assert services.support_sweep(now=at(11, 14))["warned"] == 1
    assert services.support_sweep(now=at(11, 15)) == {"warned": 0, "overdue": 0, "closed_unrated": 0}
    request.refresh_from_db()
    assert request.warned_at == WARNED_PROBLEM and request.overdue_at is None
    event = request.events.get(action="deadline_near")
    assert event.created_at == WARNED_PROBLEM and event.actor is None
    assert inbox(cast["lead"], kind="deadline_near").count() == 1
    assert not inbox(cast["handler"], kind="deadline_near").exists()


def test_the_sweep_marks_a_broken_promise_overdue_and_tells_the_lead_and_quality(cast, network_dept):
    request = routed(raised(cast["agent"]), cast["quality"], network_dept)
    report = services.support_sweep(now=at(15, 9))  # after downtime: both, at their true times
    assert report == {"warned": 1, "overdue": 1, "closed_unrated": 0}
    request.refresh_from_db()
    assert request.overdue_at == PROMISED_PROBLEM and request.is_overdue(at(15, 9))
    assert request.events.get(action="overdue").created_at == PROMISED_PROBLEM
    assert inbox(cast["lead"], kind="overdue").count() == 1
    assert inbox(cast["quality"], kind="overdue").count() == 1
    assert services.support_sweep(now=at(16, 9))["overdue"] == 0
    assert inbox(cast["lead"], kind="overdue").count() == 1


def test_while_sorting_the_quality_department_is_warned(cast):
    raised(cast["agent"])
    services.support_sweep(now=at(11, 10))
    assert inbox(cast["quality"], kind="deadline_near").count() == 1


def test_a_deferral_after_the_warning_warns_again_before_the_new_date(cast, network_dept):
    request = routed(raised(cast["agent"]), cast["quality"], network_dept)
    services.support_sweep(now=at(11, 10))
    request = defer(request, cast["lead"], datetime.date(2026, 12, 24), when=at(11, 11))
    assert request.warned_at is None
    assert services.support_sweep(now=at(14, 10)) == {"warned": 0, "overdue": 0, "closed_unrated": 0}
    assert services.support_sweep(now=at(22, 11))["warned"] == 1
    assert inbox(cast["lead"], kind="deadline_near").count() == 2


def test_answered_requests_are_not_swept_for_deadlines(cast, at_stage):
    request = at_stage("rate")
    assert services.support_sweep(now=at(14, 10))["overdue"] == 0
    request.refresh_from_db()
    assert request.overdue_at is None


def test_an_answer_not_rated_in_the_window_closes_by_itself(cast, at_stage):
    request = at_stage("rate")
    assert services.support_sweep(now=at(15, 10))["closed_unrated"] == 0
    assert services.support_sweep(now=at(15, 12))["closed_unrated"] == 1
    request.refresh_from_db()
    assert request.status == Status.CLOSED and request.resolution == "not_rated" and request.rating is None
    assert request.closed_at == at(15, 11)
    assert request.events.get(action="auto_closed").created_at == at(15, 11)
    assert SupportProcess.objects.get(request=request).status == PROCESS.DONE
    assert services.support_sweep(now=at(16, 12))["closed_unrated"] == 0
    with pytest.raises(RequestNotPossible):
        rated(request, cast["agent"], when=at(16, 12))


@pytest.mark.django_db(transaction=True)
def test_the_sweep_skips_a_request_someone_is_working_on(cast, at_stage):
    """A row locked by another transaction is skipped, not waited for; the next sweep takes it."""
    import threading

    from django.db import connections

    request = at_stage("rate")
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                SupportRequest.objects.select_for_update().get(pk=request.pk)
                locked.set()
                release.wait(timeout=20)
        finally:
            connections.close_all()

    worker = threading.Thread(target=hold)
    worker.start()
    try:
        assert locked.wait(timeout=20)
        assert services.support_sweep(now=at(15, 12))["closed_unrated"] == 0
    finally:
        release.set()
        worker.join()
    assert services.support_sweep(now=at(15, 12))["closed_unrated"] == 1


def test_the_celery_task_runs_the_sweep(cast):
    from support.tasks import support_sweep

    raised(cast["agent"])
    with time_machine.travel(at(15, 9), tick=False):
        assert support_sweep() == {"warned": 1, "overdue": 1, "closed_unrated": 0}


# --- the on-time rate -------------------------------------------------------------------------------------------


def test_the_on_time_rate_is_answers_by_the_promised_date_over_answers(cast, network_dept, billing_dept):
    def answer_at(department, handler, lead, when):
        request = routed(raised(cast["agent"]), cast["quality"], department)
        return approved(answered(request, handler, when=when), lead, when=when)

    answer_at(network_dept, cast["handler"], cast["lead"], at(8, 10))
    answer_at(network_dept, cast["handler"], cast["lead"], at(11, 10))
    answer_at(network_dept, cast["handler"], cast["lead"], at(15, 10))  # late
    answer_at(billing_dept, cast["billing_lead"], cast["billing_lead"], at(9, 10))
    routed(raised(cast["agent"]), cast["quality"], network_dept)  # not answered: not counted
    rates = {r.department_name: (r.answered, r.on_time, round(r.rate, 1)) for r in selectors.on_time_rates()}
    assert rates == {network_dept.name: (3, 2, 66.7), billing_dept.name: (1, 1, 100.0)}
    network = selectors.on_time_rate(department=network_dept, answered_from=datetime.date(2026, 12, 10))
    assert (network.answered, network.on_time) == (2, 1)
    assert selectors.on_time_rate(department=network_dept, answered_to=datetime.date(2026, 12, 8)).rate == 100.0


# --- the audit trail --------------------------------------------------------------------------------------------


def test_the_history_cannot_be_changed_in_the_database(cast):
    event = raised(cast["agent"]).events.get()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE support_supportevent SET comment = 'forged' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        SupportEvent.objects.filter(pk=event.pk).delete()
    assert SupportEvent.objects.get(pk=event.pk).comment == event.comment


def test_the_history_keeps_the_actors_name_when_the_account_goes(cast, at_stage):
    request = at_stage("handle")
    name = str(cast["quality"])
    routed_event = request.events.get(action="routed")
    # The database's own ON DELETE SET NULL of the actor is the one update the trigger allows.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE support_supportevent SET actor_id = NULL WHERE id = %s", [routed_event.pk])
    routed_event.refresh_from_db()
    assert routed_event.actor is None and routed_event.actor_name == name
