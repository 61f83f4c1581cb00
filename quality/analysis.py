"""Hot spots and before/after comparisons, on the KPI library; the statistics are SciPy's.

Hot spots: a category × region slice whose complaints in the week are unlikely under its recent baseline. The
baseline is the weekly mean of the weeks before; the test asks how probable at least this many complaints would be
if the week were a Poisson draw with that mean (a slice new this week gets a floor of half a complaint a week).

Before/after: a KPI in the days before a change date against the same number of days from it on.
- rates: a chi-square test of the 2×2 table (Fisher's exact test when an expected count is below 5);
- volume: the two-sample Poisson rate test (complaints per day);
- handling times: the Mann–Whitney rank test on the orders' handling times (skewed durations: no normality needed);
- paired by department, city or agent: a paired t-test on the groups' values before and after (the hotline
  programme's test), over the groups with enough orders on both sides.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import F
from django.db.models.functions import Mod
from django.utils import timezone
from django.utils.translation import gettext as _
from scipy import stats

from quality.kpis import KPIS, Context, Period, Slice, Value, measure_sums, measure_sums_each
from quality.models import OrderFact, RollupCategory
from quality.selectors import fact_slice_q

SIGNIFICANCE = 0.05
MIN_PAIR_SIZE = 5
SAMPLE_CAP = 200_000

# --- hot spots -------------------------------------------------------------------------------------------------


@dataclass
class Hotspot:
    category_id: int
    region_id: int
    count: int
    baseline: float
    p: float

    @property
    def ratio(self) -> float:
        return self.count / self.baseline if self.baseline else float("inf")


def hotspots(*, window: Period, baseline: Period, slice_: Slice, category_level: int, region_level: int,
             min_count: int, max_p: float, ctx: Context | None = None) -> list[Hotspot]:
    """Category × region slices whose complaints in the window are significantly above the baseline's rate (scaled
    to the window's length), most significant first."""
    ctx = ctx or Context()
    first = RollupCategory.objects.filter(received__gt=0).order_by("day").values_list("day", flat=True).first()
    if first is None or first >= window.start:
        return []  # no history before the window: nothing to compare with
    if first > baseline.start:  # only the history there is: days before the first order would read as calm
        baseline = Period(first, baseline.end)
    group_by = [f"category{category_level}", f"region{region_level}"]
    if baseline.end < window.start:  # the usual case: both periods in one read
        now, before = measure_sums_each(periods=(window, baseline), slice_=slice_, group_by=group_by, ctx=ctx,
                                        measures=("received",))
    else:
        now = measure_sums(period=window, slice_=slice_, group_by=group_by, ctx=ctx, measures=("received",))
        before = measure_sums(period=baseline, slice_=slice_, group_by=group_by, ctx=ctx, measures=("received",))
    scale = window.days / baseline.days
    floor = 0.5 * window.days / 7  # half a complaint a week for a slice new in the window
    candidates = []
    for key in now.keys():
        count = now.sums(key)["received"]
        if count >= min_count:
            candidates.append((key, count, before.sums(key)["received"] * scale))
    # every slice's p-value in one call (scipy's per-call overhead was most of the page's Python time)
    p_values = stats.poisson.sf([count - 1 for _key, count, _expected in candidates],
                                [max(expected, floor) for _key, _count, expected in candidates]) if candidates else []
    found = []
    for (key, count, expected), p in zip(candidates, p_values, strict=True):
        if p < max_p and count > expected:
            found.append(Hotspot(category_id=key[0], region_id=key[1], count=count, baseline=expected, p=float(p)))
    found.sort(key=lambda h: (h.p, -(h.count - h.baseline)))
    return found


def weekly_hotspots(*, week_end: datetime.date, slice_: Slice, category_level: int, region_level: int, policy,
                    ctx: Context | None = None) -> tuple[list[Hotspot], Period, Period]:
    """The last seven days against the weekly average of the policy's baseline weeks before them."""
    week = Period(week_end - datetime.timedelta(days=6), week_end)
    weeks = policy.hotspot_baseline_weeks
    baseline = Period(week.start - datetime.timedelta(days=7 * weeks), week.start - datetime.timedelta(days=1))
    found = hotspots(window=week, baseline=baseline, slice_=slice_, category_level=category_level,
                     region_level=region_level, min_count=policy.hotspot_min_count,
                     max_p=float(policy.hotspot_max_p), ctx=ctx)
    return found, week, baseline


# --- before / after --------------------------------------------------------------------------------------------


@dataclass
class Pair:
    key: object
    before: float
    after: float


@dataclass
class Comparison:
    kpi_code: str
    before: Period
    after: Period
    before_value: Value
    after_value: Value
    test: str = ""
    statistic: float | None = None
    p: float | None = None
    pairs: list[Pair] = field(default_factory=list)
    note: str = ""

    @property
    def significant(self) -> bool | None:
        return None if self.p is None else self.p < SIGNIFICANCE

    @property
    def direction(self) -> str:
        """better / worse / same / unknown, by the KPI's direction."""
        b, a, higher = self.before_value.value, self.after_value.value, KPIS[self.kpi_code].higher_is_better
        if a is None or b is None or higher is None:
            return "unknown"
        if a == b:
            return "same"
        return "better" if (a > b) == higher else "worse"

    @property
    def verdict(self) -> str:
        label = KPIS[self.kpi_code].label
        values = {"kpi": label, "before": self.before_value.display, "after": self.after_value.display,
                  "test": self.test, "p": f"{self.p:.3g}" if self.p is not None else ""}
        if self.p is None:
            return self.note or _("Not enough data on both sides to test the difference.")
        if not self.significant:
            return _("%(kpi)s went from %(before)s to %(after)s: not significant (p = %(p)s, %(test)s); the "
                     "difference may be noise.") % values
        if self.direction == "better":
            return _("%(kpi)s improved from %(before)s to %(after)s: significant at p < 0.05 (p = %(p)s, "
                     "%(test)s).") % values
        if self.direction == "worse":
            return _("%(kpi)s got worse, from %(before)s to %(after)s: significant at p < 0.05 (p = %(p)s, "
                     "%(test)s).") % values
        return _("%(kpi)s changed from %(before)s to %(after)s: significant at p < 0.05 (p = %(p)s, "
                 "%(test)s).") % values


def comparison_periods(change_date: datetime.date, days: int) -> tuple[Period, Period]:
    today = timezone.localdate()
    before = Period(change_date - datetime.timedelta(days=days), change_date - datetime.timedelta(days=1))
    after = Period(change_date, min(change_date + datetime.timedelta(days=days - 1), today))
    return before, after


def compare(*, kpi_code: str, change_date: datetime.date, days: int, slice_: Slice, pairing: str = "",
            ctx: Context | None = None) -> Comparison:
    ctx = ctx or Context()
    kpi = KPIS[kpi_code]
    before, after = comparison_periods(change_date, days)
    sums_before = measure_sums(period=before, slice_=slice_, ctx=ctx)
    sums_after = measure_sums(period=after, slice_=slice_, ctx=ctx)
    result = Comparison(kpi_code, before, after, sums_before.kpi(kpi_code), sums_after.kpi(kpi_code))
    if pairing:
        return _paired(result, slice_, pairing, ctx)
    if kpi.is_rate:
        _rate_test(result)
    elif kpi.unit == "h":
        _duration_test(result, slice_, ctx)
    else:
        _volume_test(result)
    return result


def _rate_test(result: Comparison) -> None:
    b, a = result.before_value, result.after_value
    if not b.denominator or not a.denominator:
        return
    table = [[a.numerator, a.denominator - a.numerator], [b.numerator, b.denominator - b.numerator]]
    expected = stats.contingency.expected_freq(table) if all(sum(r) for r in table) and \
        all(table[0][c] + table[1][c] for c in range(2)) else None
    if expected is None:
        result.note = _("The rate is the same on both sides (all or none of the orders): nothing to test.")
        return
    if expected.min() < 5:
        statistic, p = stats.fisher_exact(table)
        result.test = _("Fisher's exact test")
    else:
        statistic, p, _dof, _exp = stats.chi2_contingency(table, correction=False)
        result.test = _("chi-square test of two proportions")
    result.statistic, result.p = float(statistic), float(p)


def _volume_test(result: Comparison) -> None:
    b, a = result.before_value, result.after_value
    if b.value is None or a.value is None or (b.value + a.value) == 0:
        return
    test = stats.poisson_means_test(int(a.value), result.after.days, int(b.value), result.before.days)
    result.test = _("Poisson rate test (per day)")
    result.statistic, result.p = float(test.statistic), float(test.pvalue)


def handling_times(*, period: Period, slice_: Slice, ctx: Context) -> list[float]:
    """Each replied order's handling time in hours (a regular sample beyond 200,000 orders)."""
    facts = OrderFact.objects.filter(fact_slice_q(slice_, ctx), replied_day__gte=period.start,
                                     replied_day__lte=period.end, handling_seconds__isnull=False)
    total = facts.count()
    if total > SAMPLE_CAP:
        step = total // SAMPLE_CAP + 1
        facts = facts.annotate(bucket=Mod(F("order_id"), step)).filter(bucket=0)
    return [seconds / 3600 for seconds in facts.values_list("handling_seconds", flat=True)]


def _duration_test(result: Comparison, slice_: Slice, ctx: Context) -> None:
    before = handling_times(period=result.before, slice_=slice_, ctx=ctx)
    after = handling_times(period=result.after, slice_=slice_, ctx=ctx)
    if len(before) < 2 or len(after) < 2:
        return
    test = stats.mannwhitneyu(after, before, alternative="two-sided")
    result.test = _("Mann–Whitney rank test")
    result.statistic, result.p = float(test.statistic), float(test.pvalue)


def _paired(result: Comparison, slice_: Slice, pairing: str, ctx: Context) -> Comparison:
    kpi = KPIS[result.kpi_code]
    by_before = measure_sums(period=result.before, slice_=slice_, group_by=[pairing], ctx=ctx)
    by_after = measure_sums(period=result.after, slice_=slice_, group_by=[pairing], ctx=ctx)
    size_measure = kpi.denominator or kpi.numerator or "received"
    for key in by_before.keys():
        if key not in by_after.groups:
            continue
        if min(by_before.sums(key)[size_measure], by_after.sums(key)[size_measure]) < MIN_PAIR_SIZE:
            continue
        b, a = by_before.kpi(result.kpi_code, key).value, by_after.kpi(result.kpi_code, key).value
        if b is not None and a is not None:
            result.pairs.append(Pair(key[0], b, a))
    if len(result.pairs) < 3:
        result.note = _("Fewer than three groups have at least %(n)s orders on both sides: too few pairs to "
                        "test.") % {"n": MIN_PAIR_SIZE}
        return result
    differences = [p.after - p.before for p in result.pairs]
    if all(abs(d - differences[0]) < 1e-12 for d in differences):
        result.note = _("Every pair changed by exactly the same amount: the paired test is undefined.")
        return result
    test = stats.ttest_rel([p.after for p in result.pairs], [p.before for p in result.pairs])
    result.test = _("paired t-test over %(n)s groups") % {"n": len(result.pairs)}
    result.statistic, result.p = float(test.statistic), float(test.pvalue)
    return result
