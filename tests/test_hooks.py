"""Hooks (core.hooks): workflow announces named events and asks its questions; accountability, quality and knowledge
subscribe in AppConfig.ready. The wiring is listed here, and a subscriber runs inside the announcing transaction, in
registration order."""

import pytest

from accountability.models import Determination
from complaints.models import OrderStatus, WorkOrder
from core.hooks import Hook, hooks_wiring
from quality.models import CallbackSurvey, FollowUp
from workflow import hooks
from workflow import services as flow

WIRING = [
    ("incident_for_new_order", ["quality.batch.incident_for_new_order"]),
    ("intake_form_fields", ["quality.forms.intake_form_fields", "knowledge.forms.intake_form_fields"]),
    ("intake_panel", ["quality.warning_views.intake_incident_panel", "knowledge.views.intake_suggestions_panel"]),
    ("months_closed", ["accountability.selectors.months_closed"]),
    ("order_answered", ["sms.services.order_answer_told"]),
    ("order_closed", ["accountability.services.determination_propose"]),
    ("order_page_panel", ["quality.warning_views.order_incident_panel", "knowledge.views.order_knowledge"]),
    ("order_promise_moved", ["sms.services.order_promise_told"]),
    ("order_rated", ["quality.services.callback_survey_record"]),
    ("order_received", ["knowledge.services.article_use_at_intake"]),
    ("order_reopened", ["quality.services.follow_up_open"]),
    ("orders_imported_closed", ["accountability.services.determinations_propose_bulk"]),
]


def test_the_wiring_is_as_listed():
    wiring = hooks_wiring()
    for event, subscribers in wiring:
        print(f"{event}: {' → '.join(subscribers) or '(none)'}")
    assert wiring == WIRING


@pytest.fixture
def at_callback(hotline_agent, make_order, network_handler, province_dispatcher):
    order = make_order(hotline_agent)
    order = flow.order_claim(actor=network_handler, order=order)
    order = flow.order_reply(actor=network_handler, order=order, answer="已处理", result_code="resolved")
    return flow.order_review(actor=province_dispatcher, order=order, accept=True)


def test_a_subscriber_that_raises_rolls_the_transition_back(at_callback, hotline_agent, monkeypatch):
    def refuse(**kwargs):
        raise RuntimeError("refused by a subscriber")

    monkeypatch.setattr(hooks.order_rated, "subscribers", [*hooks.order_rated.subscribers, refuse])
    with pytest.raises(RuntimeError, match="refused by a subscriber"):
        flow.order_callback(actor=hotline_agent, order=at_callback, reached=True, satisfaction=1, solved=False)
    order = WorkOrder.objects.get(pk=at_callback.pk)
    assert order.status == OrderStatus.CALLBACK and order.satisfaction is None and order.callback_attempts == 0
    assert not CallbackSurvey.objects.filter(order=order).exists()  # the first subscriber's row went too
    assert not FollowUp.objects.filter(order=order).exists()


def test_subscribers_run_in_registration_order_inside_the_transaction(at_callback, hotline_agent, monkeypatch):
    seen = []

    def first(*, order, **kwargs):
        # quality's subscriber came first: its survey is there, in this uncommitted transaction.
        seen.append(("first", CallbackSurvey.objects.filter(order=order).count()))

    def second(*, order, **kwargs):
        seen.append(("second", CallbackSurvey.objects.filter(order=order).count()))

    monkeypatch.setattr(hooks.order_rated, "subscribers", [*hooks.order_rated.subscribers, first, second])
    flow.order_callback(actor=hotline_agent, order=at_callback, reached=True, satisfaction=5, solved=True)
    assert seen == [("first", 1), ("second", 1)]
    assert WorkOrder.objects.get(pk=at_callback.pk).status == OrderStatus.CLOSED


def test_closing_an_order_is_announced_to_accountability(at_callback, hotline_agent):
    flow.order_callback(actor=hotline_agent, order=at_callback, reached=True, satisfaction=5, solved=True)
    assert Determination.objects.filter(order=at_callback).count() == 1


def test_announcing_with_a_wrong_keyword_fails(monkeypatch):
    called = []
    monkeypatch.setattr(hooks.order_closed, "subscribers", [lambda **kwargs: called.append(kwargs)])
    with pytest.raises(TypeError, match="order_closed"):
        hooks.order_closed.announce(orderr=None)
    with pytest.raises(TypeError, match="missing"):
        hooks.order_closed.announce()
    with pytest.raises(TypeError, match="unknown"):
        hooks.order_closed.announce(order=None, actor=None)
    assert called == []  # nobody was called with a wrong set of arguments


def test_a_hook_name_is_declared_once():
    with pytest.raises(ValueError, match="order_closed"):
        Hook("order_closed", arguments=("order",))
