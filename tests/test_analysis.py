"""Hot spots and before/after comparisons on rollup rows and facts written for the purpose: the statistics are
checked against values worked out by hand."""

import datetime
import math

import pytest
import time_machine

from quality.analysis import compare, hotspots, weekly_hotspots
from quality.kpis import Period, Slice
from quality.models import OrderFact, QualityPolicy, RollupCategory, RollupDaily, RollupDepartment

CHANGE = datetime.date(2026, 10, 1)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(datetime.datetime(2026, 11, 20, 12, 0), tick=False):
        yield


def day(offset: int) -> datetime.date:
    return CHANGE + datetime.timedelta(days=offset)


def daily(region, offset, **measures):
    RollupDaily.objects.create(day=day(offset), region_id=region.pk, kind="complaint", **measures)


def test_a_clear_rise_in_timeliness_is_significant(guangzhou):
    daily(guangzhou, -10, timed=200, in_time=140, closed=200)
    daily(guangzhou, +10, timed=200, in_time=180, closed=200)
    result = compare(kpi_code="timeliness", change_date=CHANGE, days=28, slice_=Slice())
    assert (result.before_value.value, result.after_value.value) == (70.0, 90.0)
    # 2×2 table [[180, 20], [140, 60]]: expected 160 / 40 in each row, chi² = 2 × (20²/160 + 20²/40) = 25.
    assert result.statistic == pytest.approx(25.0)
    assert result.p == pytest.approx(5.733e-7, rel=1e-3)
    assert result.significant and result.direction == "better"
    assert "significant at p < 0.05" in result.verdict and "improved" in result.verdict


def test_a_small_change_is_called_noise(guangzhou):
    daily(guangzhou, -10, timed=200, in_time=160, closed=200)
    daily(guangzhou, +10, timed=200, in_time=164, closed=200)
    result = compare(kpi_code="timeliness", change_date=CHANGE, days=28, slice_=Slice())
    assert not result.significant
    assert "not significant" in result.verdict and "noise" in result.verdict


def test_small_counts_use_fishers_exact_test(guangzhou):
    daily(guangzhou, -5, rated=6, satisfied=1)
    daily(guangzhou, +5, rated=6, satisfied=6)
    result = compare(kpi_code="satisfaction", change_date=CHANGE, days=28, slice_=Slice())
    assert result.test == "Fisher's exact test"
    # Hypergeometric: P(6 of 7 satisfied in the after group) two-sided = 2 × 1/C(12,6)·C(7,6)·C(5,0) = 14/924.
    assert result.p == pytest.approx(14 / 924)


def test_volume_is_compared_as_a_rate_per_day(guangzhou):
    daily(guangzhou, -10, received=100)
    daily(guangzhou, +10, received=160)
    result = compare(kpi_code="volume", change_date=CHANGE, days=28, slice_=Slice())
    assert result.test.startswith("Poisson")
    assert result.significant and result.direction == "unknown"  # more complaints is not "better" by itself


def _fact(pk, replied: datetime.date, hours: float, region):
    return OrderFact(order_id=pk, region_id=region.pk, city_id=region.pk, kind="complaint", severity="ordinary",
                     tier="ordinary", brand="other", channel_id=1, category_id=1, department_id=0, agent_id=1,
                     received_day=replied, received_hour=9, replied_day=replied, replied_hour=12, on_spot=0, repeat=0,
                     escalated=0, timed=0, in_time=0, in_time_original=0, breached=0, extended=0, reopened=0,
                     dispatched_closed=0, called_back=0, looped=0, handling_seconds=int(hours * 3600),
                     handling_bucket=0)


def test_handling_times_are_compared_by_rank(guangzhou):
    before = [_fact(i, day(-3), h, guangzhou) for i, h in enumerate([20, 22, 24, 26, 28, 30, 32, 34], 1)]
    after = [_fact(100 + i, day(3), h, guangzhou) for i, h in enumerate([4, 5, 6, 7, 8, 9, 10, 11], 1)]
    OrderFact.objects.bulk_create(before + after)
    daily(guangzhou, -3, replied=8, handling_seconds=216 * 3600)
    daily(guangzhou, 3, replied=8, handling_seconds=60 * 3600)
    result = compare(kpi_code="avg_handling", change_date=CHANGE, days=28, slice_=Slice())
    assert (result.before_value.value, result.after_value.value) == (27.0, 7.5)
    assert result.test == "Mann–Whitney rank test"
    assert result.statistic == 0.0  # every after value is below every before value
    assert result.p == pytest.approx(2 / 12870)  # exact: 2 of C(16, 8) orderings are this extreme
    assert result.direction == "better"


def test_pairs_by_department_use_a_paired_t_test(guangzhou, network_dept, billing_dept, province):
    other = billing_dept.__class__.objects.create(code="vas", name="增值业务部", kind="back_office", region=province)
    for dept, before, after in ((network_dept, 60, 70), (billing_dept, 50, 62), (other, 40, 54)):
        RollupDepartment.objects.create(day=day(-5), region_id=guangzhou.pk, kind="complaint",
                                        department_id=dept.pk, timed=100, in_time=before)
        RollupDepartment.objects.create(day=day(5), region_id=guangzhou.pk, kind="complaint",
                                        department_id=dept.pk, timed=100, in_time=after)
    result = compare(kpi_code="timeliness", change_date=CHANGE, days=28, slice_=Slice(), pairing="department")
    assert len(result.pairs) == 3
    # Differences 10, 12, 14: mean 12, sd 2, t = 12 / (2 / √3) = 10.392, two-sided p with 2 df = 0.00913.
    assert result.statistic == pytest.approx(10.392, rel=1e-3)
    assert result.p == pytest.approx(0.00913, rel=1e-2)
    assert result.significant


def test_too_few_pairs_are_not_tested(guangzhou, network_dept):
    RollupDepartment.objects.create(day=day(-5), region_id=guangzhou.pk, kind="complaint",
                                    department_id=network_dept.pk, timed=100, in_time=50)
    RollupDepartment.objects.create(day=day(5), region_id=guangzhou.pk, kind="complaint",
                                    department_id=network_dept.pk, timed=100, in_time=90)
    result = compare(kpi_code="timeliness", change_date=CHANGE, days=28, slice_=Slice(), pairing="department")
    assert result.p is None and "too few pairs" in result.verdict


def test_no_data_is_said_plainly(db):
    result = compare(kpi_code="timeliness", change_date=CHANGE, days=28, slice_=Slice())
    assert result.p is None and "Not enough data" in result.verdict


def test_a_spike_above_its_baseline_is_a_hot_spot(guangzhou, shenzhen, category_tree):
    coverage, dispute = category_tree["NET-MOB-COV"], category_tree["BIL-DSP"]
    week_end = datetime.date(2026, 11, 15)
    for w in range(1, 9):  # eight baseline weeks: four coverage complaints a week in Guangzhou, 10 disputes
        for region, category, n in ((guangzhou, coverage, 4), (guangzhou, dispute, 10), (shenzhen, coverage, 3)):
            RollupCategory.objects.create(department_id=0, day=week_end - datetime.timedelta(days=6 + 7 * w), region_id=region.pk,
                                          kind="complaint", category_id=category.pk, received=n)
    for region, category, n in ((guangzhou, coverage, 15), (guangzhou, dispute, 12), (shenzhen, coverage, 4)):
        RollupCategory.objects.create(department_id=0, day=week_end, region_id=region.pk, kind="complaint", category_id=category.pk,
                                      received=n)
    RollupCategory.objects.create(department_id=0, day=week_end, region_id=shenzhen.pk, kind="complaint",
                                  category_id=dispute.pk, received=6)  # new this week
    policy = QualityPolicy(effective_from=week_end)
    found, week, baseline = weekly_hotspots(week_end=week_end, slice_=Slice(), category_level=3, region_level=2,
                                            policy=policy)
    assert week == Period(datetime.date(2026, 11, 9), week_end)
    assert baseline.days == 56
    # At level 3 a level-2 leaf is its own group.
    assert [(s.category_id, s.region_id) for s in found] == [(dispute.pk, shenzhen.pk), (coverage.pk, guangzhou.pk)]
    new_slice, spike = found
    assert spike.count == 15 and spike.baseline == pytest.approx(4.0)
    # P(X ≥ 15 | Poisson(4)), summed by hand; the 12 disputes against 10 a week and Shenzhen's 4 against 3 are
    # not hot spots. A slice new this week is tested against half a complaint a week: P(X ≥ 6 | 0.5), smaller.
    assert spike.p == pytest.approx(poisson_tail(15, 4.0))
    assert new_slice.count == 6 and new_slice.p == pytest.approx(poisson_tail(6, 0.5)) and new_slice.p < spike.p


def poisson_tail(k: int, mean: float) -> float:
    return 1 - sum(math.exp(-mean) * mean ** i / math.factorial(i) for i in range(k))


def test_a_window_without_history_before_it_has_no_hot_spots(guangzhou, category_tree):
    RollupCategory.objects.create(department_id=0, day=datetime.date(2026, 11, 10), region_id=guangzhou.pk, kind="complaint",
                                  category_id=category_tree["NET-MOB-COV"].pk, received=50)
    assert hotspots(window=Period(datetime.date(2026, 11, 9), datetime.date(2026, 11, 15)),
                    baseline=Period(datetime.date(2026, 9, 14), datetime.date(2026, 11, 8)), slice_=Slice(),
                    category_level=3, region_level=2, min_count=5, max_p=0.01) == []


def test_the_baseline_starts_with_the_first_order(guangzhou, category_tree):
    coverage = category_tree["NET-MOB-COV"]
    for day_ in (datetime.date(2026, 10, 19), datetime.date(2026, 11, 1)):  # history only from 19 October
        RollupCategory.objects.create(department_id=0, day=day_, region_id=guangzhou.pk, kind="complaint", category_id=coverage.pk,
                                      received=10)
    RollupCategory.objects.create(department_id=0, day=datetime.date(2026, 11, 10), region_id=guangzhou.pk, kind="complaint",
                                  category_id=coverage.pk, received=20)
    found = hotspots(window=Period(datetime.date(2026, 11, 9), datetime.date(2026, 11, 15)),
                     baseline=Period(datetime.date(2026, 9, 14), datetime.date(2026, 11, 8)), slice_=Slice(),
                     category_level=3, region_level=2, min_count=5, max_p=0.01)
    assert len(found) == 1 and found[0].baseline == pytest.approx(20 * 7 / 21)  # 21 days of history, not 56


def test_a_month_is_compared_with_the_rate_of_the_months_before(guangzhou, category_tree):
    coverage = category_tree["NET-MOB-COV"]
    RollupCategory.objects.create(department_id=0, day=datetime.date(2026, 8, 1), region_id=guangzhou.pk, kind="complaint",
                                  category_id=coverage.pk, received=92)  # 92 in the 92 days Aug–Oct: 1 a day
    RollupCategory.objects.create(department_id=0, day=datetime.date(2026, 11, 10), region_id=guangzhou.pk, kind="complaint",
                                  category_id=coverage.pk, received=50)
    found = hotspots(window=Period.month(2026, 11), baseline=Period(datetime.date(2026, 8, 1),
                                                                    datetime.date(2026, 10, 31)),
                     slice_=Slice(), category_level=3, region_level=2, min_count=5, max_p=0.01)
    assert len(found) == 1 and found[0].baseline == pytest.approx(30.0)
