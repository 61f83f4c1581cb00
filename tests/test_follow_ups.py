"""不满意客户维护: a low rating or a reopening opens a follow-up; the complaint centre and the quality team work it;
callback surveys record every rating."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from org import roles
from org.models import Department
from quality import services
from quality.models import CallbackSurvey, FollowUp, FollowUpEvent
from tests.factories import DepartmentFactory, UserFactory
from workflow import services as flow


@pytest.fixture
def at_callback(hotline_agent, make_order, network_handler, province_dispatcher):
    def _make(phone="13800138000"):
        order = make_order(hotline_agent, customer_phone=phone)
        order = flow.order_claim(actor=network_handler, order=order)
        order = flow.order_reply(actor=network_handler, order=order, answer="已处理", result_code="resolved")
        return flow.order_review(actor=province_dispatcher, order=order, accept=True)

    return _make


def test_a_rating_of_one_opens_a_follow_up_and_reopens(at_callback, hotline_agent):
    order = flow.order_callback(actor=hotline_agent, order=at_callback(), reached=True, satisfaction=1, solved=False)
    follow_up = FollowUp.objects.get(order=order)
    assert follow_up.reason == FollowUp.Reason.LOW_RATING and follow_up.rating == 1
    assert follow_up.status == FollowUp.Status.OPEN and follow_up.due_at > follow_up.opened_at
    assert order.reopen_count == 1
    assert list(follow_up.events.values_list("action", flat=True)) == ["opened"]
    survey = CallbackSurvey.objects.get(order=order)
    assert (survey.rating, survey.solved, survey.round, survey.agent) == (1, False, 1, hotline_agent)


def test_a_satisfied_customer_opens_nothing(at_callback, hotline_agent):
    order = flow.order_callback(actor=hotline_agent, order=at_callback(), reached=True, satisfaction=4, solved=True)
    assert not FollowUp.objects.filter(order=order).exists()
    assert CallbackSurvey.objects.filter(order=order).count() == 1


def test_not_solved_reopens_with_a_follow_up_and_a_second_low_rating_adds_to_it(
        at_callback, hotline_agent, network_handler, province_dispatcher):
    order = flow.order_callback(actor=hotline_agent, order=at_callback(), reached=True, satisfaction=3, solved=False)
    follow_up = FollowUp.objects.get(order=order)
    assert follow_up.reason == FollowUp.Reason.REOPENED
    order = flow.order_reply(actor=network_handler, order=order, answer="再次处理", result_code="resolved")
    order = flow.order_review(actor=province_dispatcher, order=order, accept=True)
    flow.order_callback(actor=hotline_agent, order=order, reached=True, satisfaction=2, solved=True)
    assert FollowUp.objects.filter(order=order).count() == 1
    assert follow_up.events.filter(action=FollowUpEvent.Action.TRIGGERED_AGAIN).count() == 1
    assert list(CallbackSurvey.objects.filter(order=order).order_by("id").values_list("rating", "round")) == [
        (3, 1), (2, 2)]


def test_an_unreached_callback_is_no_survey(at_callback, hotline_agent):
    order = flow.order_callback(actor=hotline_agent, order=at_callback(), reached=False)
    assert not CallbackSurvey.objects.filter(order=order).exists()


@pytest.fixture
def follow_up(at_callback, hotline_agent):
    order = flow.order_callback(actor=hotline_agent, order=at_callback(), reached=True, satisfaction=1, solved=False)
    return FollowUp.objects.get(order=order)


def test_the_centre_takes_calls_and_closes(follow_up, province_dispatcher):
    services.follow_up_take(actor=province_dispatcher, follow_up=follow_up)
    services.follow_up_contact(actor=province_dispatcher, follow_up=follow_up, reached=False,
                               note="无人接听")
    closed = services.follow_up_contact(actor=province_dispatcher, follow_up=follow_up, reached=True,
                                        outcome=FollowUp.Outcome.WON_BACK, note="已致歉并补偿话费", close=True)
    assert closed.status == FollowUp.Status.CLOSED and closed.attempts == 2
    assert closed.outcome == FollowUp.Outcome.WON_BACK and closed.closed_by == province_dispatcher
    assert list(closed.events.values_list("action", flat=True)) == ["opened", "taken", "contacted", "contacted",
                                                                    "closed"]
    with pytest.raises(ValidationError):
        services.follow_up_contact(actor=province_dispatcher, follow_up=follow_up, reached=True,
                                   outcome=FollowUp.Outcome.WON_BACK, note="again")


def test_bad_input_is_refused_with_a_reason_per_field(follow_up, quality_manager):
    with pytest.raises(ValidationError) as error:
        services.follow_up_contact(actor=quality_manager, follow_up=follow_up, reached=True, note="")
    assert set(error.value.message_dict) == {"outcome", "note"}
    with pytest.raises(ValidationError) as error:
        services.follow_up_contact(actor=quality_manager, follow_up=follow_up, reached=False,
                                   outcome=FollowUp.Outcome.WON_BACK, note="?")
    assert "outcome" in error.value.message_dict
    follow_up.refresh_from_db()
    assert follow_up.attempts == 0


def test_only_the_centre_and_quality_of_the_region_work_follow_ups(follow_up, hotline_agent, network_lead,
                                                                   shenzhen):
    for user in (hotline_agent, network_lead):
        with pytest.raises(PermissionDenied):
            services.follow_up_take(actor=user, follow_up=follow_up)
    dept = DepartmentFactory(code="sz-centre", name="深圳投诉中心", kind=Department.Kind.COMPLAINT_CENTRE,
                             region=shenzhen)
    other_city = UserFactory(username="sz_dispatcher", department=dept, roles=[roles.DISPATCHER])
    with pytest.raises(PermissionDenied):
        services.follow_up_take(actor=other_city, follow_up=follow_up)


def test_the_follow_up_pages(login_client, follow_up, quality_manager, hotline_agent):
    client = login_client(quality_manager)
    listing = client.get("/follow-ups/").content.decode()
    assert follow_up.order.number in listing
    assert client.get(f"/follow-ups/{follow_up.pk}/").status_code == 200
    response = client.post(f"/follow-ups/{follow_up.pk}/contact/", {"reached": "yes", "outcome": "", "note": ""})
    assert response.status_code == 400 and "Say how the customer feels now." in response.content.decode()
    response = client.post(f"/follow-ups/{follow_up.pk}/contact/",
                           {"reached": "yes", "outcome": "won_back", "note": "客户表示满意", "close": "on"})
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.CLOSED
    assert follow_up.order.number in client.get("/follow-ups/?state=closed").content.decode()
    agent = login_client(hotline_agent)
    assert agent.get("/follow-ups/").status_code == 403
    assert agent.get(f"/follow-ups/{follow_up.pk}/").status_code == 403
    assert agent.post(f"/follow-ups/{follow_up.pk}/take/").status_code == 403
