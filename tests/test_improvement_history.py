"""An improvement order keeps its whole exchange: every answer with its measures, every returned answer with its
reason, every review, in order, on the order's page (not only the latest answer)."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accountability import services
from accountability.models import ImprovementOrder, Indicator

SH = ZoneInfo("Asia/Shanghai")


def at(day, hour=10):
    return datetime.datetime(2026, 12, day, hour, tzinfo=SH)


@pytest.fixture
def improvement(billing_dept):
    indicator = Indicator.objects.create(year=2026, code="timeliness", name="处理及时率", measure="timeliness",
                                         higher_is_better=True, target=Decimal("90"), weight=Decimal("100"))
    return ImprovementOrder.objects.create(
        department=billing_dept, indicator=indicator, opened_month=datetime.date(2026, 11, 1),
        opened_value=Decimal("50"), target=Decimal("90"), latest_month=datetime.date(2026, 11, 1),
        latest_value=Decimal("50"), opened_at=at(1), due_at=at(8), warn_at=at(7))


@pytest.fixture
def exchanged(improvement, billing_lead, province_dispatcher):
    """Answered, returned, answered again, accepted."""
    with time_machine.travel(at(2), tick=False):
        services.improvement_answer(actor=billing_lead, improvement=improvement, cause_analysis="夜班人手不足",
                                    measures="调整排班")
    with time_machine.travel(at(3), tick=False):
        services.improvement_review(actor=province_dispatcher, improvement=improvement, accept=False,
                                    reason="措施不具体，请给出时间表")
    with time_machine.travel(at(4), tick=False):
        services.improvement_answer(actor=billing_lead, improvement=improvement, cause_analysis="夜班人手不足，交接遗漏",
                                    measures="12月10日起增设夜班两人")
    with time_machine.travel(at(7), tick=False):
        services.improvement_review(actor=province_dispatcher, improvement=improvement, accept=True,
                                    reason="同意")
    return improvement


def test_every_answer_and_review_is_recorded_in_order(exchanged):
    events = list(exchanged.events.order_by("created_at", "id"))
    assert [e.action for e in events] == ["improvement_answered", "improvement_returned", "improvement_answered",
                                          "improvement_accepted"]
    assert events[0].data["measures"] == "调整排班" and events[2].data["measures"] == "12月10日起增设夜班两人"
    assert events[1].comment == "措施不具体，请给出时间表"
    assert events[1].data["due_at"]  # the new deadline given with the return
    assert events[0].actor_name and events[1].actor is not None


def test_the_page_shows_the_whole_history_not_only_the_last_answer(login_client, exchanged, billing_lead):
    page = login_client(billing_lead).get(f"/accountability/improvements/{exchanged.pk}/").content.decode()
    history = page[page.index('id="improvement-history"'):]
    for text in ("调整排班", "措施不具体，请给出时间表", "12月10日起增设夜班两人", "夜班人手不足，交接遗漏"):
        assert text in history, text
    assert history.index("调整排班") < history.index("措施不具体") < history.index("12月10日起增设夜班两人")
    assert history.count("event-improvement_answered") == 2


def test_an_outsider_cannot_read_the_history(login_client, exchanged, outsider):
    assert login_client(outsider).get(f"/accountability/improvements/{exchanged.pk}/").status_code in (403, 404)
