"""The KPI library against a week of orders worked out by hand (tests/kpi_world.py), and the rollups against a
computation straight from the orders."""

import datetime

import pytest
import time_machine

from complaints.models import Kind
from quality.facts import rollups_apply, rollups_rebuild
from quality.kpis import KPIS, Context, Period, Slice, measure_sums, percentile_hours
from quality.models import FactQueue, OrderFact, RollupDaily, SubscriberCount
from tests.kpi_world import at
from workflow import services as flow

WEEK = Period(datetime.date(2026, 11, 2), datetime.date(2026, 11, 8))
ALL_KINDS = Slice(kinds=())



def values(table, key=(), **kwargs):
    return {code: table.kpi(code, key, **kwargs).value for code in KPIS}


def test_every_kpi_matches_the_hand_computed_value(week):
    table = measure_sums(period=WEEK, slice_=Slice())
    assert table.source == "daily"
    got = values(table)
    assert got["volume"] == 6
    assert got["on_spot_rate"] == pytest.approx(100 / 6)
    assert got["timeliness"] == pytest.approx(75.0)
    assert got["timeliness_original"] == pytest.approx(75.0)
    assert got["overdue_rate"] == pytest.approx(25.0)
    assert got["overdue_count"] == 1
    assert got["avg_handling"] == pytest.approx(26.0)
    assert got["p90_handling"] == pytest.approx(68.4)
    assert got["repeat_rate"] == pytest.approx(100 / 6)
    assert got["escalation_rate"] == pytest.approx(100 / 6)
    assert got["escalation_count"] == 1
    assert got["satisfaction"] == pytest.approx(200 / 3)
    assert got["dissatisfaction"] == pytest.approx(100 / 3)
    assert got["callback_rate"] == pytest.approx(200 / 3)
    assert got["closed_loop_rate"] == pytest.approx(80.0)
    assert got["reopen_rate"] == pytest.approx(25.0)
    assert got["complaint_inquiry_ratio"] == pytest.approx(6.0)
    assert got["per_10k"] is None  # no subscriber count given


def test_every_kind_counts_when_the_slice_says_so(week):
    table = measure_sums(period=WEEK, slice_=ALL_KINDS)
    assert table.kpi("volume").value == 7
    assert table.kpi("avg_handling").value == pytest.approx((4 + 71 + 3 + 1) / 4)
    # Complaint-only KPIs stay complaint-only.
    assert table.kpi("on_spot_rate").value == pytest.approx(100 / 6)


def test_complaints_per_10000_subscribers(week, province):
    SubscriberCount.objects.create(region=province, month=datetime.date(2026, 10, 1), subscribers=20_000)
    from quality.kpis import subscribers_of

    ctx = Context()
    base = subscribers_of(None, month=WEEK.end.replace(day=1), ctx=ctx)
    assert base == 20_000
    assert measure_sums(period=WEEK, slice_=Slice()).kpi("per_10k", subscribers=base).value == pytest.approx(3.0)


def test_each_measure_counts_on_its_own_day(week):
    by_day = measure_sums(period=WEEK, slice_=Slice(), group_by=["day"])
    monday, tuesday, wednesday, thursday = (datetime.date(2026, 11, d) for d in (2, 3, 4, 5))
    assert by_day.sums((monday,))["received"] == 3  # O1 O2 O3
    assert by_day.sums((tuesday,))["closed"] == 1  # O1
    assert by_day.sums((wednesday,))["closed"] == 1  # O5 after its last unanswered call
    assert by_day.sums((thursday,))["closed"] == 1  # O2
    assert by_day.sums((wednesday,))["rated"] == 1 and by_day.sums((thursday,))["rated"] == 1


def test_grouping_by_city_and_by_category_level(week, guangzhou, shenzhen, coverage, category_tree):
    by_city = measure_sums(period=WEEK, slice_=Slice(), group_by=["region2"])
    assert by_city.kpi("volume", (guangzhou.pk,)).value == 5
    assert by_city.kpi("volume", (shenzhen.pk,)).value == 1
    assert by_city.kpi("callback_rate", (shenzhen.pk,)).value == 0.0
    by_family = measure_sums(period=WEEK, slice_=Slice(), group_by=["category1"])
    assert by_family.source == "category_all"  # the province: the category cube summed over regions
    assert measure_sums(period=WEEK, slice_=Slice(regions=guangzhou), group_by=["category1"]).source == "category"
    assert by_family.kpi("volume", (category_tree["NET"].pk,)).value == 5
    assert by_family.kpi("volume", (category_tree["BIL"].pk,)).value == 1


def test_a_city_slice_sees_only_its_city(week, guangzhou, shenzhen):
    assert measure_sums(period=WEEK, slice_=Slice(regions=shenzhen)).kpi("volume").value == 1
    assert measure_sums(period=WEEK, slice_=Slice(regions=guangzhou)).kpi("satisfaction").value == pytest.approx(
        200 / 3)


def test_a_county_is_answered_from_its_cube_and_an_agent_from_the_facts(week, tianhe, hotline_agent):
    ctx = Context()
    for slice_, group_by in ((Slice(region=tianhe), ()), (Slice(region=tianhe, kinds=()), ("day",)),
                             (Slice(), ("region3",)), (ALL_KINDS, ("region3", "day"))):
        cube = measure_sums(period=WEEK, slice_=slice_, group_by=group_by, ctx=ctx)
        assert cube.source == "county"
        facts = measure_sums(period=WEEK, slice_=slice_, group_by=group_by, source="facts", ctx=ctx)
        assert _nonzero(cube.groups) == _nonzero(facts.groups), (slice_, group_by)
    assert _nonzero(measure_sums(period=WEEK, slice_=Slice(), group_by=["region3"], ctx=ctx).groups)  # not vacuous
    # a county within a category: no cube holds both
    assert measure_sums(period=WEEK, slice_=Slice(region=tianhe), group_by=["category2"]).source == "facts"
    by_agent = measure_sums(period=WEEK, slice_=Slice(), group_by=["agent"])
    assert by_agent.source == "facts"
    assert by_agent.kpi("volume", (hotline_agent.pk,)).value == 5


GROUPINGS = [(), ("day",), ("week",), ("hour",), ("region2",), ("region3",), ("category2",), ("department",),
             ("channel",), ("tier",), ("severity",), ("brand",), ("agent",), ("kind",)]


def assert_cubes_equal_raw(period=WEEK):
    ctx = Context()
    for group_by in GROUPINGS:
        for slice_ in (Slice(), ALL_KINDS):
            cubes = measure_sums(period=period, slice_=slice_, group_by=group_by, ctx=ctx)
            raw = measure_sums(period=period, slice_=slice_, group_by=group_by, source="orders", ctx=ctx)
            stored = measure_sums(period=period, slice_=slice_, group_by=group_by, source="facts", ctx=ctx)
            assert raw.source == "orders"
            assert _nonzero(cubes.groups) == _nonzero(raw.groups) == _nonzero(stored.groups), group_by


def _nonzero(groups):
    return {key: {kind: {m: v for m, v in sums.items() if v} for kind, sums in kinds.items()}
            for key, kinds in groups.items() if any(any(s.values()) for s in kinds.values())}


def test_rollups_equal_the_computation_from_the_orders(week):
    assert_cubes_equal_raw()


def test_rollups_follow_later_changes_incrementally(week, network_handler, province_dispatcher, hotline_agent):
    o6 = week["O6"]
    with time_machine.travel(at("Fri", 9), tick=False):
        o6 = flow.order_claim(actor=network_handler, order=o6)
    with time_machine.travel(at("Fri", 16), tick=False):
        o6 = flow.order_reply(actor=network_handler, order=o6, answer="已处理", result_code="resolved")
    rollups_apply()
    assert FactQueue.objects.count() == 0
    assert_cubes_equal_raw()
    table = measure_sums(period=WEEK, slice_=Slice())
    assert table.sums()["replied"] == 4
    assert table.kpi("closed_loop_rate").value == pytest.approx(80.0)  # replied, not yet closed


def test_a_rebuild_gives_what_the_increments_gave(week):
    before = measure_sums(period=WEEK, slice_=ALL_KINDS, group_by=["day", "category3"]).groups
    RollupDaily.objects.all().delete()
    rollups_rebuild()
    assert OrderFact.objects.count() == 7
    assert measure_sums(period=WEEK, slice_=ALL_KINDS, group_by=["day", "category3"]).groups == before
    assert_cubes_equal_raw()


def test_applying_twice_changes_nothing(week):
    before = measure_sums(period=WEEK, slice_=ALL_KINDS, group_by=["day"]).groups
    FactQueue.objects.bulk_create([FactQueue(order_id=o.pk) for o in week.values()] * 2)
    rollups_apply()
    assert measure_sums(period=WEEK, slice_=ALL_KINDS, group_by=["day"]).groups == before


def test_the_percentile_interpolates_within_its_bucket():
    sums = {f"h{k:02d}": 0 for k in range(22)}
    sums["h03"] = 5  # [2, 4) h
    sums["h09"] = 5  # [20, 24) h
    assert percentile_hours(sums, 0.5) == pytest.approx(4.0)
    assert percentile_hours(sums, 0.9) == pytest.approx(20 + 0.8 * 4)
    sums["h21"] = 90  # beyond 720 h
    assert percentile_hours(sums, 0.9) == 720.0
    assert percentile_hours({f"h{k:02d}": 0 for k in range(22)}) is None


def test_inquiries_alone(week):
    table = measure_sums(period=WEEK, slice_=Slice(kinds=(Kind.INQUIRY,)))
    assert table.kpi("volume").value == 1
    assert table.kpi("avg_handling").value == pytest.approx(1.0)
    assert table.kpi("on_spot_rate").value == pytest.approx(100 / 6)  # defined on complaints


def test_every_audited_change_queues_its_order_and_a_rollback_queues_nothing(hotline_agent, make_order):
    from django.db import transaction

    from workflow.audit import event_record

    order = make_order(hotline_agent)
    assert set(FactQueue.objects.values_list("order_id", flat=True)) == {order.pk}
    FactQueue.objects.all().delete()
    try:
        with transaction.atomic():
            event_record(order=order, actor=hotline_agent, action="note_added")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert not FactQueue.objects.exists()


def test_the_sweeps_bulk_escalations_reach_the_kpis(hotline_agent, make_order):
    import datetime as dt

    from workflow.sweep import sweep

    order = make_order(hotline_agent)
    rollups_apply()
    with time_machine.travel(order.received_at + dt.timedelta(hours=30), tick=False):
        sweep()
    assert FactQueue.objects.filter(order_id=order.pk).exists()
    rollups_apply()
    day = order.received_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
    assert measure_sums(period=Period(day, day), slice_=Slice()).sums()["escalated"] == 1


@pytest.mark.django_db(transaction=True)
def test_the_county_cube_migration_fills_the_cube_from_the_facts_already_stored(week):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from quality.models import RollupCounty

    def county_rows():
        return sorted(RollupCounty.objects.values_list("day", "region_id", "kind", "order_region_id", "received",
                                                       "closed", "replied", "rated", "due"))

    expected = county_rows()
    assert expected
    executor = MigrationExecutor(connection)
    executor.migrate([("quality", "0013_promise_and_department_measures")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # forward again, through 0014 and whatever follows it
    assert county_rows() == expected
    assert_cubes_equal_raw()
