"""Early warning: batch-complaint detection (thresholds, baselines, idempotency, levels), incidents that take in and
answer their complaints, bulletins, and a storm through the API."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from complaints.models import OrderStatus, WorkOrder
from org import roles
from org.models import Department
from quality import batch
from quality.models import BatchAlert, BatchPolicy, Bulletin, Incident, WarningLevel
from tests.factories import DepartmentFactory, UserFactory, channel
from workflow import services as flow
from workflow.intake import OnSpotAnswer, order_create
from workflow.models import STEP_STAGES, OrderStage, Stage

SH = ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 11, 18, 12, 0, tzinfo=SH)  # a Wednesday


@pytest.fixture
def policy(db):
    return BatchPolicy.objects.create(effective_from=datetime.date(2026, 1, 1), window_minutes=60, baseline_weeks=4,
                                      category_level=3, region_level=2, min_count=10, min_ratio=Decimal("3"),
                                      orange_count=20, red_count=40, quiet_minutes=30, feedback_minutes=60)


def log(actor, category, when, n, *, start=0, area=""):
    orders = []
    for i in range(n):
        with time_machine.travel(when + datetime.timedelta(seconds=i), tick=False):
            orders.append(order_create(
                actor=actor, kind="complaint", channel=channel("hotline"), category=category, severity="ordinary",
                description="信号中断", customer_phone=f"139{start + i:08d}", area=area).order)
    return orders


def detect(at):
    with time_machine.travel(at, tick=False):
        return batch.batch_detect()


def test_below_the_count_or_the_ratio_nothing_is_raised(policy, hotline_agent, coverage):
    log(hotline_agent, coverage, NOON - datetime.timedelta(minutes=30), 9)
    assert detect(NOON).raised == []
    for week in range(1, 5):  # a busy slice: 5 complaints in this window every Wednesday
        log(hotline_agent, coverage, NOON - datetime.timedelta(weeks=week, minutes=30), 5, start=100 * week)
    log(hotline_agent, coverage, NOON - datetime.timedelta(minutes=20), 5, start=9)  # 14 now, baseline 5
    assert detect(NOON).raised == []  # 14 < 3 × 5


def test_a_spike_raises_one_alert_whatever_the_number_of_runs(policy, hotline_agent, coverage, guangzhou):
    orders = log(hotline_agent, coverage, NOON - datetime.timedelta(minutes=10), 12)
    report = detect(NOON)
    assert len(report.raised) == 1
    alert = report.raised[0]
    assert (alert.category_id, alert.region_id, alert.level) == (coverage.pk, guangzhou.pk, WarningLevel.YELLOW)
    assert alert.window_count == 12 and alert.total_count == 12 and alert.baseline == 0
    assert alert.crossed_at == orders[9].received_at  # the tenth complaint crossed the threshold
    assert detect(NOON + datetime.timedelta(seconds=30)).raised == []
    assert BatchAlert.objects.count() == 1


def test_the_level_rises_as_complaints_keep_coming(policy, hotline_agent, coverage):
    log(hotline_agent, coverage, NOON - datetime.timedelta(minutes=10), 12)
    detect(NOON)
    log(hotline_agent, coverage, NOON + datetime.timedelta(minutes=1), 10, start=100)
    report = detect(NOON + datetime.timedelta(minutes=2))
    alert = BatchAlert.objects.get()
    assert alert.level == WarningLevel.ORANGE and report.rose == [alert] and alert.total_count == 22
    log(hotline_agent, coverage, NOON + datetime.timedelta(minutes=3), 20, start=200)
    detect(NOON + datetime.timedelta(minutes=4))
    alert.refresh_from_db()
    assert alert.level == WarningLevel.RED and alert.total_count == 42


def test_an_unconfirmed_alert_lapses_when_the_slice_calms_down(policy, hotline_agent, coverage):
    log(hotline_agent, coverage, NOON - datetime.timedelta(minutes=10), 12)
    detect(NOON)
    detect(NOON + datetime.timedelta(minutes=55))  # the window no longer holds them: below since now
    assert BatchAlert.objects.get().status == BatchAlert.Status.OPEN
    detect(NOON + datetime.timedelta(minutes=90))
    assert BatchAlert.objects.get().status == BatchAlert.Status.LAPSED


def test_areas_are_slices_of_their_own(policy, hotline_agent, coverage):
    log(hotline_agent, coverage, NOON - datetime.timedelta(minutes=10), 11, area="CELL-4401-0007")
    raised = detect(NOON).raised
    assert {a.area for a in raised} == {"", "CELL-4401-0007"}


def test_a_confirmed_incident_takes_in_the_open_complaints_and_new_ones(policy, hotline_agent, coverage,
                                                                        province_dispatcher, network_dept,
                                                                        guangzhou, dispute):
    early = log(hotline_agent, coverage, NOON - datetime.timedelta(minutes=10), 12)
    other = log(hotline_agent, dispute, NOON - datetime.timedelta(minutes=5), 1, start=500)[0]
    alert = detect(NOON).raised[0]
    with time_machine.travel(NOON + datetime.timedelta(minutes=5), tick=False):
        incident = batch.incident_open(actor=province_dispatcher, alert=alert, title="天河基站故障",
                                       department=network_dept, category=coverage, region=guangzhou,
                                       expected_recovery_at=NOON + datetime.timedelta(hours=3), cause="传输中断")
        assert batch.incident_attach_open_orders(incident_id=incident.pk) == 12
        assert batch.incident_attach_open_orders(incident_id=incident.pk) == 0  # again: nothing twice
    alert.refresh_from_db()
    assert alert.status == BatchAlert.Status.CONFIRMED and alert.incident == incident
    order = WorkOrder.objects.get(pk=early[0].pk)
    assert order.status == OrderStatus.IN_INCIDENT and order.current_department == network_dept
    assert OrderStage.objects.filter(order=order, ended_at__isnull=True, paused_at__isnull=False).exists()
    assert WorkOrder.objects.get(pk=other.pk).incident is None  # another category
    with time_machine.travel(NOON + datetime.timedelta(minutes=20), tick=False):
        late = order_create(actor=hotline_agent, kind="complaint", channel=channel("hotline"), category=coverage,
                            severity="ordinary", description="也没信号", customer_phone="13700000001")
    assert late.order.incident == incident and late.order.status == OrderStatus.IN_INCIDENT
    assert any("Attached to the incident" in w for w in late.warnings)


def test_joining_an_incident_at_intake_costs_no_more_than_an_ordinary_intake(policy, hotline_agent, coverage,
                                                                             province_dispatcher, network_dept,
                                                                             guangzhou):
    """During a storm every complaint joins the incident at intake: it must not cost a second workflow step."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflow.models import OrderEvent, StagePause

    def statements(phone):
        with CaptureQueriesContext(connection) as ctx:
            result = order_create(actor=hotline_agent, kind="complaint", channel=channel("hotline"),
                                  category=coverage, severity="ordinary", description="没信号", customer_phone=phone)
        return result.order, len(ctx.captured_queries)

    with time_machine.travel(NOON, tick=False):
        statements("13700000000")  # warm caches (limits, calendars)
        _, ordinary = statements("13700000001")
        incident = batch.incident_open(actor=province_dispatcher, alert=None, title="天河基站故障",
                                       department=network_dept, category=coverage, region=guangzhou,
                                       started_at=NOON - datetime.timedelta(hours=1),
                                       expected_recovery_at=NOON + datetime.timedelta(hours=3))
        statements("13700000002")
        joined, joining = statements("13700000003")
    assert joined.incident == incident and joined.status == OrderStatus.IN_INCIDENT
    assert joined.current_department == network_dept
    assert joining <= ordinary + 2  # the incident lookup and the pause records, nothing more
    stages = OrderStage.objects.filter(order=joined, ended_at__isnull=True, kind__in=STEP_STAGES)
    assert stages.count() == 2 and all(s.paused_at is not None for s in stages)
    # the customer's promise runs on: an incident is not a wait the customer caused
    assert OrderStage.objects.get(order=joined, kind=Stage.PROMISE).paused_at is None
    assert StagePause.objects.filter(stage__order=joined, ended_at__isnull=True, reason="incident").count() == 2
    assert list(joined.events.values_list("action", flat=True).order_by("id")) == [
        OrderEvent.Action.RECEIVED, OrderEvent.Action.ATTACHED_TO_INCIDENT]
    assert joined.stage_due_at is None  # nothing runs while it waits


def test_resolving_the_incident_answers_every_child_who_is_then_called_back(policy, hotline_agent, coverage,
                                                                           province_dispatcher, network_dept,
                                                                           network_lead, guangzhou):
    log(hotline_agent, coverage, NOON - datetime.timedelta(minutes=10), 12)
    alert = detect(NOON).raised[0]
    with time_machine.travel(NOON + datetime.timedelta(minutes=5), tick=False):
        incident = batch.incident_open(actor=province_dispatcher, alert=alert, title="天河基站故障",
                                       department=network_dept, category=coverage, region=guangzhou,
                                       expected_recovery_at=NOON + datetime.timedelta(hours=3))
        batch.incident_attach_open_orders(incident_id=incident.pk)
    with time_machine.travel(NOON + datetime.timedelta(minutes=30), tick=False):
        with pytest.raises(ValidationError):
            batch.incident_resolve(actor=network_lead, incident=incident, answer="", cause_report="")
        batch.incident_feedback(actor=network_lead, incident=incident, feedback="已派工程师抢修")
        batch.incident_resolve(actor=network_lead, incident=incident, answer="基站已恢复，给您带来不便深表歉意。",
                               cause_report="光缆被挖断，已熔接")
        assert batch.incident_answer_children(incident_id=incident.pk) == 12
        assert batch.incident_answer_children(incident_id=incident.pk) == 0
    incident.refresh_from_db()
    assert incident.feedback_in_time and incident.status == Incident.Status.RESOLVED
    children = list(incident.orders.all())
    assert len(children) == 12
    assert {o.status for o in children} == {OrderStatus.CALLBACK}  # each customer still gets their own callback
    assert {o.answer for o in children} == {"基站已恢复，给您带来不便深表歉意。"}
    child = children[0]
    with time_machine.travel(NOON + datetime.timedelta(hours=1), tick=False):
        closed = flow.order_callback(actor=hotline_agent, order=child, reached=True, satisfaction=4, solved=True)
    assert closed.status == OrderStatus.CLOSED


def test_only_dispatchers_of_the_region_handle_alerts(policy, hotline_agent, coverage, shenzhen, network_lead):
    log(hotline_agent, coverage, NOON - datetime.timedelta(minutes=10), 12)
    alert = detect(NOON).raised[0]
    dept = DepartmentFactory(code="sz-centre", name="深圳投诉中心", kind=Department.Kind.COMPLAINT_CENTRE,
                             region=shenzhen)
    sz = UserFactory(username="sz_dispatcher", department=dept, roles=[roles.DISPATCHER])
    for user in (hotline_agent, network_lead, sz):
        with pytest.raises(PermissionDenied):
            batch.alert_dismiss(actor=user, alert=alert, reason="误报")


def test_the_incident_deadlines_are_swept_once(policy, hotline_agent, coverage, province_dispatcher, network_dept,
                                               guangzhou, network_lead):
    with time_machine.travel(NOON, tick=False):
        incident = batch.incident_open(actor=province_dispatcher, title="光缆中断", department=network_dept,
                                       category=coverage, region=guangzhou,
                                       expected_recovery_at=NOON + datetime.timedelta(hours=2))
    with time_machine.travel(NOON + datetime.timedelta(hours=3), tick=False):
        counts = batch.incidents_sweep()
        assert (counts["warned"], counts["overdue"], counts["recovery_overdue"]) == (1, 1, 1)
        assert batch.incidents_sweep()["overdue"] == 0
    incident.refresh_from_db()
    assert incident.feedback_overdue_at == incident.feedback_due_at


# --- bulletins -----------------------------------------------------------------------------------------------


@pytest.fixture
def bulletin(network_lead, network_dept, guangzhou, category_tree):
    with time_machine.travel(NOON - datetime.timedelta(days=2), tick=False):
        return batch.bulletin_publish(
            actor=network_lead, kind=Bulletin.Kind.PLANNED, title="天河区基站升级", department=network_dept,
            regions=[guangzhou], categories=[category_tree["NET-MOB"]], services="语音、4G 数据",
            starts_at=NOON, ends_at=NOON + datetime.timedelta(hours=4), answer="今晚基站升级，预计 16 点前恢复。")


def test_bulletins_match_the_region_the_category_and_the_time(bulletin, tianhe, shenzhen, coverage, dispute):
    assert not bulletin.late
    assert batch.bulletins_matching(region=tianhe, category=coverage, at=NOON + datetime.timedelta(hours=1)) == [
        bulletin]
    assert batch.bulletins_matching(region=tianhe, category=dispute, at=NOON) == []
    assert batch.bulletins_matching(region=shenzhen, category=coverage, at=NOON) == []
    assert batch.bulletins_matching(region=tianhe, category=coverage, at=NOON + datetime.timedelta(hours=5)) == []
    assert batch.bulletins_matching(region=tianhe, category=coverage, at=NOON - datetime.timedelta(hours=20)) == [
        bulletin]  # planned work shows a day ahead


def test_late_bulletins_are_recorded_as_late(network_lead, network_dept, guangzhou, hotline_agent, coverage):
    with time_machine.travel(NOON, tick=False):
        planned = batch.bulletin_publish(actor=network_lead, kind="planned", title="明早割接", department=network_dept,
                                         regions=[guangzhou], categories=[], services="宽带",
                                         starts_at=NOON + datetime.timedelta(hours=10), ends_at=None, answer="割接")
    assert planned.late and "24 hours" in planned.late_reason
    log(hotline_agent, coverage, NOON + datetime.timedelta(minutes=10), 1)
    with time_machine.travel(NOON + datetime.timedelta(minutes=40), tick=False):
        sudden = batch.bulletin_publish(actor=network_lead, kind="sudden", title="突发故障", department=network_dept,
                                        regions=[guangzhou], categories=[], services="语音", starts_at=NOON,
                                        ends_at=None, answer="正在抢修")
    assert sudden.late and "complaints had begun" in sudden.late_reason
    with pytest.raises(ValidationError) as error:
        batch.bulletin_publish(actor=network_lead, kind="sudden", title="", department=network_dept, regions=[],
                               categories=[], services="", starts_at=NOON, ends_at=NOON, answer="")
    assert {"title", "regions", "services", "answer", "ends_at"} <= set(error.value.message_dict)


def test_an_inquiry_answered_from_a_bulletin_closes_on_the_spot(bulletin, hotline_agent, coverage):
    with time_machine.travel(NOON + datetime.timedelta(minutes=30), tick=False):
        order = order_create(actor=hotline_agent, kind="inquiry", channel=channel("hotline"), category=coverage,
                             severity="ordinary", description="为什么没信号", customer_phone="13600000001",
                             on_spot=OnSpotAnswer(bulletin.answer), bulletin=bulletin).order
    assert order.status == OrderStatus.CLOSED and order.resolved_on_spot and order.bulletin == bulletin


def test_the_intake_panel_shows_bulletins_and_known_faults(login_client, bulletin, hotline_agent, coverage,
                                                          province_dispatcher, network_dept, guangzhou):
    with time_machine.travel(NOON + datetime.timedelta(minutes=30), tick=False):
        batch.incident_open(actor=province_dispatcher, title="天河基站故障", department=network_dept,
                            category=coverage, region=guangzhou,
                            expected_recovery_at=NOON + datetime.timedelta(hours=3))
        page = login_client(hotline_agent).get(
            f"/intake/customer/?customer_phone=13800138000&category={coverage.pk}").content.decode()
    assert "天河区基站升级" in page and "Answer from this bulletin" in page
    assert "天河基站故障" in page and 'id="incidents"' in page


def _tianhe_incident(dispatcher, department, category, tianhe):
    return batch.incident_open(actor=dispatcher, title="天河北基站故障", department=department, category=category,
                               region=tianhe, area="CELL-TH-12", started_at=NOON - datetime.timedelta(hours=1),
                               expected_recovery_at=NOON + datetime.timedelta(hours=3))


def test_a_city_agent_joins_a_county_incident_with_one_click(login_client, hotline_agent, coverage, tianhe,
                                                             province_dispatcher, network_dept):
    """The Guangzhou hotline cannot know the customer is in Tianhe: the panel offers the incident, the agent asks
    and clicks, and the complaint joins it (placed in Tianhe, in the incident's cell)."""
    with time_machine.travel(NOON, tick=False):
        incident = _tianhe_incident(province_dispatcher, network_dept, coverage, tianhe)
        client = login_client(hotline_agent)
        panel = client.get(f"/intake/customer/?customer_phone=13800138000&category={coverage.pk}").content.decode()
        assert "天河北基站故障" in panel and f'class="small join-incident" data-incident="{incident.pk}"' in panel
        unchosen = order_create(actor=hotline_agent, kind="complaint", channel=channel("hotline"), category=coverage,
                                severity="ordinary", description="没信号", customer_phone="13800138001").order
        assert unchosen.incident is None  # a city-wide complaint does not join a county's incident by itself
        response = client.post("/intake/", {
            "customer_phone": "13800138000", "kind": "complaint", "channel": "hotline",
            "category": coverage.pk, "severity": "ordinary", "description": "家里没信号", "incident": incident.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    order = WorkOrder.objects.get(customer__phone="13800138000")
    assert order.incident == incident and order.status == OrderStatus.IN_INCIDENT
    assert order.region == tianhe and order.area == "CELL-TH-12" and order.current_department == network_dept


def test_joining_an_incident_that_does_not_fit_is_refused_and_saves_nothing(hotline_agent, coverage, dispute,
                                                                            tianhe, shenzhen, province_dispatcher,
                                                                            network_dept):
    with time_machine.travel(NOON, tick=False):
        incident = _tianhe_incident(province_dispatcher, network_dept, coverage, tianhe)
        shenzhen_agent = UserFactory(department=DepartmentFactory(kind=Department.Kind.FRONTLINE, region=shenzhen,
                                                                  channel=channel("hotline")),
                                     roles=[roles.FRONTLINE_AGENT])
        before = WorkOrder.objects.count()
        cases = [
            (shenzhen_agent, dict(category=coverage), "does not cover"),
            (hotline_agent, dict(category=dispute), "another category"),
            (hotline_agent, dict(category=coverage, kind="inquiry"), "Only complaints"),
            (hotline_agent, dict(category=coverage, on_spot=OnSpotAnswer("已处理")), "closed at intake"),
        ]
        for actor, extra, message in cases:
            fields = {"kind": "complaint", **extra}
            with pytest.raises(ValidationError) as caught:
                order_create(actor=actor, channel=channel("hotline"), severity="ordinary", description="没信号",
                             customer_phone="13800138009", incident=incident, **fields)
            assert message in str(caught.value.message_dict["incident"]), message
        Incident.objects.filter(pk=incident.pk).update(status=Incident.Status.RESOLVED, resolved_at=NOON)
        incident.refresh_from_db()
        with pytest.raises(ValidationError, match="resolved"):
            order_create(actor=hotline_agent, kind="complaint", channel=channel("hotline"), category=coverage,
                         severity="ordinary", description="没信号", customer_phone="13800138009", incident=incident)
    assert WorkOrder.objects.count() == before


# --- the storm ---------------------------------------------------------------------------------------------


def test_a_storm_through_the_api_raises_one_alert_that_climbs_and_then_feeds_the_incident(
        api_for, channel_system, coverage, dispute, guangzhou, shenzhen, province_dispatcher, network_dept, db):
    """300 complaints for one category and city in ten minutes through the API, with normal traffic elsewhere;
    the detector runs every minute. The default thresholds at a quarter of the size (25 complaints, above the
    normal traffic, and 3 × baseline; orange from 75, red from 250); `make bench-storm` drives a full-size storm
    (5,000 complaints against the default thresholds) through a real server."""
    BatchPolicy.objects.create(effective_from=datetime.date(2026, 1, 1), min_count=25, orange_count=75, red_count=250)
    client = api_for(channel_system)
    start = NOON
    sent = storm_numbers = 0
    alerts_by_minute = []
    for minute in range(10):
        for i in range(30):
            moment = start + datetime.timedelta(minutes=minute, seconds=i * 2)
            with time_machine.travel(moment, tick=False):
                response = client.post("/api/v1/orders/", {
                    "kind": "complaint", "channel": "hotline", "category": coverage.code,
                    "description": "突然没有信号", "customer_phone": f"135{sent:08d}",
                    "customer_region": guangzhou.code}, format="json", HTTP_IDEMPOTENCY_KEY=f"storm-{sent}")
                assert response.status_code == 201, response.content
                sent += 1
                storm_numbers += 1
                if i % 15 == 0:  # normal traffic elsewhere: two a minute
                    response = client.post("/api/v1/orders/", {
                        "kind": "complaint", "channel": "hotline", "category": dispute.code, "description": "话费",
                        "customer_phone": f"136{sent:08d}", "customer_region": shenzhen.code}, format="json")
                    assert response.status_code == 201
                    sent += 1
        report = detect(start + datetime.timedelta(minutes=minute + 1))
        alerts_by_minute.append((len(report.raised), BatchAlert.objects.get().level if BatchAlert.objects.exists()
                                 else None))
        if minute == 4:  # the dispatcher confirms: later complaints join the incident at intake
            alert = BatchAlert.objects.get()
            with time_machine.travel(start + datetime.timedelta(minutes=5), tick=False):
                incident = batch.incident_open(actor=province_dispatcher, alert=alert, title="广州大面积断网",
                                               department=network_dept, category=coverage, region=guangzhou,
                                               expected_recovery_at=start + datetime.timedelta(hours=4))
                batch.incident_attach_open_orders(incident_id=incident.pk)
    assert BatchAlert.objects.count() == 1  # one alert, never a second one
    assert alerts_by_minute[0] == (1, WarningLevel.YELLOW)  # raised in the first minute
    assert [raised for raised, _level in alerts_by_minute[1:]] == [0] * 9
    assert alerts_by_minute[2][1] == WarningLevel.ORANGE and alerts_by_minute[-1][1] == WarningLevel.RED
    alert = BatchAlert.objects.get()
    assert alert.total_count == 300 and alert.status == BatchAlert.Status.CONFIRMED
    assert (alert.raised_at - alert.crossed_at) < datetime.timedelta(minutes=2)  # detected within two minutes
    storm = WorkOrder.objects.filter(category=coverage)
    assert storm.count() == storm_numbers == 300 and storm.values("number").distinct().count() == 300
    assert storm.filter(incident=incident).count() == 300  # the early ones attached, the later ones at intake
    assert WorkOrder.objects.filter(category=dispute, incident__isnull=True).count() == sent - 300
