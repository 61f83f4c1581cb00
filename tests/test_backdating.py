"""Channel systems cannot backdate orders (issue 15, item 4): a live order's received time lies at most a configured
span in the past; numbers follow the day an order is created in the system; history comes only through the
historical import, which marks it; orders arriving for a month whose scores or report are archived are flagged, and
the archived scores change only by a recorded recomputation."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from complaints.models import WorkOrder

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/orders/"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def payload(coverage):
    return {"kind": "complaint", "channel": "hotline", "category": "NET-MOB-COV", "description": "客户家中信号弱",
            "customer_phone": "13800138000"}


# --- the received time of a live order ------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("received_at, limit", [
    (NOW - timedelta(hours=25), "24 hours"),
    (NOW + timedelta(days=200), "5 minutes"),
    (datetime(2025, 6, 15, 9, 0, tzinfo=SHANGHAI), "24 hours"),
])
def test_the_api_refuses_a_received_time_too_old_or_in_the_future(api_for, channel_system, payload, received_at,
                                                                   limit):
    response = api_for(channel_system).post(URL, {**payload, "received_at": received_at.isoformat()}, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    errors = response.json()
    assert list(errors) == ["received_at"]
    assert limit in errors["received_at"][0]
    assert not WorkOrder.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_api_accepts_a_received_time_within_the_limit(api_for, channel_system, payload):
    received = NOW - timedelta(hours=23)
    response = api_for(channel_system).post(URL, {**payload, "received_at": received.isoformat()}, format="json")
    assert response.status_code == 201, response.content
    order = WorkOrder.objects.get()
    assert order.received_at == received
    assert order.closed_month_arrival is None


def test_a_retry_is_answered_with_its_order_even_when_the_received_time_has_aged_past_the_limit(
        api_for, channel_system, payload):
    """A create sent 23 h 50 min after the call came in, retried 20 minutes later (the network dropped the first
    answer): the retry gets the order the first attempt made, not a refusal; the same key with another body is
    still a conflict."""
    body = {**payload, "received_at": (NOW - timedelta(hours=23, minutes=50)).isoformat()}
    with time_machine.travel(NOW, tick=False):
        first = api_for(channel_system).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="cti-4711")
    assert first.status_code == 201, first.content
    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        retry = api_for(channel_system).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="cti-4711")
        assert retry.status_code == 200 and retry["Idempotent-Replayed"] == "true", retry.content
        assert retry.json()["number"] == first.json()["number"]
        other = api_for(channel_system).post(URL, {**body, "description": "另一件事"}, format="json",
                                             HTTP_IDEMPOTENCY_KEY="cti-4711")
        assert other.status_code == 422
        fresh = api_for(channel_system).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="cti-4712")
        assert fresh.status_code == 400 and "received_at" in fresh.json()
    assert WorkOrder.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_the_limit_is_a_setting(api_for, channel_system, payload, settings):
    settings.API_RECEIVED_AT_MAX_AGE_HOURS = 2
    received = NOW - timedelta(hours=3)
    response = api_for(channel_system).post(URL, {**payload, "received_at": received.isoformat()}, format="json")
    assert response.status_code == 400
    assert "2 hours" in response.json()["received_at"][0]
    assert not WorkOrder.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_intake_service_holds_the_same_limit_for_every_live_source(hotline_agent, make_order):
    """The browser's form has no received time; whoever calls the service directly is held to the rule too."""
    with pytest.raises(ValidationError) as error:
        make_order(hotline_agent, received_at=NOW - timedelta(days=3))
    assert "received_at" in error.value.message_dict
    assert not WorkOrder.objects.exists()


# --- numbers --------------------------------------------------------------------------------------------------


def test_a_live_order_is_numbered_on_the_day_it_is_created_not_the_day_it_claims(api_for, channel_system, payload):
    # 00:30 in Shanghai: the channel system says the call came in at 23:50 the day before.
    with time_machine.travel(datetime(2026, 12, 2, 0, 30, tzinfo=SHANGHAI), tick=False):
        earlier = api_for(channel_system).post(URL, {**payload, "customer_phone": "13800138001"}, format="json")
        late = api_for(channel_system).post(
            URL, {**payload, "received_at": datetime(2026, 12, 1, 23, 50, tzinfo=SHANGHAI).isoformat()},
            format="json")
    assert earlier.status_code == late.status_code == 201
    assert earlier.json()["number"] == "TS20261202000001"
    assert late.json()["number"] == "TS20261202000002"  # today's next number, after the one created before it
    assert late.json()["received_at"].startswith("2026-12-01T23:50")


def test_numbers_are_monotonic_in_creation_order_whatever_the_received_times(hotline_agent, make_order,
                                                                              channel_system):
    with time_machine.travel(NOW, tick=False):
        numbers = [make_order(channel_system, source="api", received_at=NOW - timedelta(hours=hours),
                              customer_phone=f"1380013{hours:04d}").number for hours in (1, 20, 5, 0)]
    assert numbers == sorted(numbers) == [f"TS20261202{n:06d}" for n in (1, 2, 3, 4)]


# --- closed months --------------------------------------------------------------------------------------------

NOVEMBER = datetime(2026, 11, 1).date()
DECEMBER_FIRST = datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI)  # last month's scores are archived at 08:00


@pytest.fixture
def attributed_indicator(db):
    from accountability.models import Indicator

    return Indicator.objects.create(year=2026, code="attributed", name="认责投诉量", measure="attributed",
                                    higher_is_better=False, target="0.5", weight="40")


@pytest.fixture
def november_archived(hotline_agent, make_order, network_handler, province_dispatcher, attributed_indicator):
    """One complaint of November, closed in November, attributed to the network department; November scored."""
    from accountability import scoring
    from quality.facts import rollups_apply
    from workflow import services as flow

    with time_machine.travel(datetime(2026, 11, 3, 9, 0, tzinfo=SHANGHAI), tick=False):
        order = make_order(hotline_agent)
        order = flow.order_claim(actor=network_handler, order=order)
        order = flow.order_reply(actor=network_handler, order=order, answer="已处理", result_code="resolved")
        order = flow.order_review(actor=province_dispatcher, order=order, accept=True)
        flow.order_callback(actor=hotline_agent, order=order, reached=True, satisfaction=5, solved=True)
    rollups_apply()
    with time_machine.travel(DECEMBER_FIRST, tick=False):
        scoring.month_close(month=NOVEMBER)
    return order


def scores(month=NOVEMBER):
    from accountability.models import MonthlyScore

    return {s.department.code: (s.total, s.attributed, s.computed_at)
            for s in MonthlyScore.objects.filter(month=month).select_related("department")}


def historical_row(ref, *, received, closed, category):
    from complaints.models import Channel
    from workflow.intake import HistoricalOrder

    return HistoricalOrder(external_ref=ref, external_source="旧客服系统", kind="complaint", severity="ordinary",
                           channel=Channel.objects.get(code="hotline"), category=category, customer_tier=None,
                           customer_phone="13800138009", customer_name="", contact_phone="", description="没有信号",
                           received_at=received, closed_at=closed, answer="已优化")


def test_an_order_arriving_for_an_archived_month_is_flagged_and_the_archived_scores_stay(
        november_archived, api_for, channel_system, payload, quality_manager, login_client):
    from accountability import scoring

    before = scores()
    assert before["network"][1] == 1
    with time_machine.travel(DECEMBER_FIRST + timedelta(hours=1), tick=False):
        response = api_for(channel_system).post(
            URL, {**payload, "customer_phone": "13800138005",
                  "received_at": datetime(2026, 11, 30, 22, 0, tzinfo=SHANGHAI).isoformat()}, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["closed_month_arrival"] == "2026-11-01"
        assert response.json()["source"] == "api"
        order = WorkOrder.objects.get(number=response.json()["number"])
        assert order.closed_month_arrival == NOVEMBER
        assert order.number.startswith("TS20261201")  # today's number, not one of 30 November
        assert order.events.get(action="received").data["closed_month"] == "2026-11"
        # Closing November again is refused: the archived scores stay as they were.
        with pytest.raises(ValidationError, match="archived"):
            scoring.month_close(month=NOVEMBER)
        assert scoring.monthly_cycle_due(today=DECEMBER_FIRST.date()) is None
        # The complaint centre and the quality team see the flag on the order and on the ranking page.
        client = login_client(quality_manager)
        page = client.get(f"/orders/{order.number}/").content.decode()
        assert 'id="order-closed-month"' in page and "Arrived for 2026-11 after it was closed" in page
        ranking = client.get("/accountability/ranking/?month=2026-11").content.decode()
        assert 'id="late-arrivals"' in ranking and order.number in ranking
    assert scores() == before
    # An order of this month is not flagged.
    with time_machine.travel(DECEMBER_FIRST + timedelta(hours=2), tick=False):
        fresh = api_for(channel_system).post(URL, {**payload, "customer_phone": "13800138006"}, format="json")
    assert fresh.json()["closed_month_arrival"] is None


def test_a_month_whose_report_is_archived_is_closed_too(db, province):
    from accountability.selectors import months_closed
    from reports.models import MonthlyReport

    with time_machine.travel(DECEMBER_FIRST, tick=False):
        assert months_closed({NOVEMBER}) == set()
        MonthlyReport.objects.create(region=province, month=NOVEMBER, trigger="scheduled", generated_by_name="system",
                                     html="<p></p>", pdf="reports/x.pdf")
        assert months_closed({NOVEMBER, datetime(2026, 10, 1).date()}) == {NOVEMBER}
        # A report of the running month (made on demand) does not close it.
        MonthlyReport.objects.create(region=province, month=DECEMBER_FIRST.date(), trigger="on_demand",
                                     generated_by_name="system", html="<p></p>", pdf="reports/y.pdf")
        assert months_closed({DECEMBER_FIRST.date()}) == set()


def test_the_historical_import_marks_its_orders_and_flags_those_of_a_closed_month(
        november_archived, channel_system, coverage, quality_manager, login_client, api_for):
    from complaints.models import OrderSource
    from workflow.intake import orders_historical_create

    with time_machine.travel(DECEMBER_FIRST + timedelta(days=1), tick=False):
        imported, = orders_historical_create(actor=channel_system, rows=[historical_row(
            "OLD-1", received=datetime(2026, 11, 10, 9, 0, tzinfo=SHANGHAI),
            closed=datetime(2026, 11, 11, 9, 0, tzinfo=SHANGHAI), category=coverage)])
        october, = orders_historical_create(actor=channel_system, rows=[historical_row(
            "OLD-2", received=datetime(2026, 10, 10, 9, 0, tzinfo=SHANGHAI),
            closed=datetime(2026, 10, 11, 9, 0, tzinfo=SHANGHAI), category=coverage)])
        imported.refresh_from_db()
        assert imported.source == OrderSource.IMPORT and imported.external_source == "旧客服系统"
        assert imported.closed_month_arrival == NOVEMBER
        assert imported.events.get(action="imported").data["closed_month"] == "2026-11"
        assert october.closed_month_arrival is None  # October was never scored nor reported
        # History keeps the day it was received in its number, from the same per-day counter as live orders.
        assert imported.number == "TS20261110000001"
        page = login_client(quality_manager).get(f"/orders/{imported.number}/").content.decode()
        assert 'id="order-imported"' in page and "旧客服系统" in page and "OLD-1" in page
        body = api_for(quality_manager).get(f"{URL}{imported.number}/").json()
        assert body["source"] == "import" and body["external_source"] == "旧客服系统"


def test_the_historical_import_and_live_intake_never_share_a_number(channel_system, hotline_agent, make_order,
                                                                    coverage):
    from workflow.intake import orders_historical_create

    with time_machine.travel(datetime(2026, 11, 10, 18, 0, tzinfo=SHANGHAI), tick=False):
        live = make_order(hotline_agent)
    with time_machine.travel(DECEMBER_FIRST, tick=False):
        history, = orders_historical_create(actor=channel_system, rows=[historical_row(
            "OLD-3", received=datetime(2026, 11, 10, 9, 0, tzinfo=SHANGHAI),
            closed=datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI), category=coverage)])
    assert live.number == "TS20261110000001" and history.number == "TS20261110000002"


# --- recomputing an archived month ----------------------------------------------------------------------------


@pytest.fixture
def late_closed_november(november_archived, channel_system, coverage):
    """A November complaint of the network department imported after November was archived."""
    from quality.facts import rollups_apply
    from workflow.intake import orders_historical_create

    with time_machine.travel(DECEMBER_FIRST + timedelta(days=1), tick=False):
        order, = orders_historical_create(actor=channel_system, rows=[historical_row(
            "OLD-9", received=datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI),
            closed=datetime(2026, 11, 20, 15, 0, tzinfo=SHANGHAI), category=coverage)])
    rollups_apply()
    return order


@pytest.mark.parametrize("who", ["province_dispatcher", "network_lead", "hotline_agent", "no_role_user"])
def test_only_administrators_and_quality_managers_recompute(late_closed_november, request, who):
    from django.core.exceptions import PermissionDenied

    from accountability.models import ScoreRecomputation
    from accountability.services import month_scores_recompute

    before = scores()
    with time_machine.travel(DECEMBER_FIRST + timedelta(days=2), tick=False):
        with pytest.raises(PermissionDenied):
            month_scores_recompute(actor=request.getfixturevalue(who), month=NOVEMBER, reason="补录历史工单")
    assert not ScoreRecomputation.objects.exists()
    assert scores() == before


def test_a_recomputation_is_recorded_with_the_totals_before_and_after(late_closed_november, quality_manager):
    from accountability.models import ScoreRecomputation
    from accountability.services import month_scores_recompute

    before = scores()
    with time_machine.travel(DECEMBER_FIRST + timedelta(days=2), tick=False):
        with pytest.raises(ValidationError) as error:
            month_scores_recompute(actor=quality_manager, month=NOVEMBER, reason="  ")
        assert "reason" in error.value.message_dict
        with pytest.raises(ValidationError) as error:
            month_scores_recompute(actor=quality_manager, month=datetime(2026, 10, 1).date(), reason="补录")
        assert "month" in error.value.message_dict
        assert not ScoreRecomputation.objects.exists()
        record = month_scores_recompute(actor=quality_manager, month=NOVEMBER, reason="补录旧系统的11月工单")
    after = scores()
    assert after["network"][1] == 2 and after["network"][0] < before["network"][0]  # the late complaint counts now
    record = ScoreRecomputation.objects.get(pk=record.pk)
    assert record.actor == quality_manager and record.actor_name == str(quality_manager)
    assert record.reason == "补录旧系统的11月工单" and record.late_arrivals == 1
    assert record.recomputed_at == DECEMBER_FIRST + timedelta(days=2)
    assert record.old_totals["network"]["total"] == str(before["network"][0])
    assert record.new_totals["network"]["total"] == str(after["network"][0])


def test_the_ranking_page_recomputes_for_the_quality_team_only(late_closed_november, quality_manager,
                                                               province_dispatcher, login_client):
    from accountability.models import ScoreRecomputation

    before = scores()
    with time_machine.travel(DECEMBER_FIRST + timedelta(days=2), tick=False):
        dispatcher = login_client(province_dispatcher)
        assert 'id="recompute-form"' not in dispatcher.get("/accountability/ranking/?month=2026-11").content.decode()
        refused = dispatcher.post("/accountability/ranking/recompute/", {"month": "2026-11", "reason": "试试"})
        assert refused.status_code == 403
        assert scores() == before and not ScoreRecomputation.objects.exists()
        # Closing the archived month again from the page is refused with the reason.
        again = dispatcher.post("/accountability/ranking/compute/", {"month": "2026-11"}, follow=True)
        assert "archived" in again.content.decode()
        assert scores() == before

        quality = login_client(quality_manager)
        assert 'id="recompute-form"' in quality.get("/accountability/ranking/?month=2026-11").content.decode()
        done = quality.post("/accountability/ranking/recompute/", {"month": "2026-11", "reason": "补录旧系统工单"},
                            follow=True)
        assert done.status_code == 200
        page = done.content.decode()
        assert 'id="recomputations"' in page and "补录旧系统工单" in page
    assert ScoreRecomputation.objects.get().actor == quality_manager
    assert scores() != before


def test_the_command_recomputes_only_with_a_reason_and_an_allowed_user(late_closed_november, quality_manager,
                                                                       province_dispatcher):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from accountability.models import ScoreRecomputation

    with time_machine.travel(DECEMBER_FIRST + timedelta(days=2), tick=False):
        with pytest.raises(CommandError, match="archived"):
            call_command("accountability_month", "--month", "2026-11")
        with pytest.raises(CommandError, match="quality managers"):
            call_command("accountability_month", "--month", "2026-11", "--recompute", "--reason", "补录",
                         "--user", province_dispatcher.username)
        assert not ScoreRecomputation.objects.exists()
        out = StringIO()
        call_command("accountability_month", "--month", "2026-11", "--recompute", "--reason", "补录",
                     "--user", quality_manager.username, stdout=out)
    assert "recomputed" in out.getvalue() and "network" in out.getvalue()
    assert ScoreRecomputation.objects.get().reason == "补录"
