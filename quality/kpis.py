"""The KPI library: every KPI of the product defined once, computed from sums of the measures in SQL.

`measure_sums` adds up the measures of quality.facts for a period, a slice (filters) and a grouping, reading the
smallest rollup cube that has every dimension asked for (the stored facts when none has, e.g. a county or an agent;
the orders themselves with source="orders", which the tests use to check the rollups). `kpi_value` turns the sums
of one group into a KPI value; the definitions (formula, numerator, denominator, the moment that puts an order
into a period) are in KPIS and shown to users on the definitions page.

Dashboards, exports, the monthly report and accountability scoring all call these functions.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext_lazy as _

from complaints.models import Category, Kind
from core.memo import cached_for
from org.models import Region
from quality.facts import CUBES, facts_relation_from_orders, projection_parts
from quality.models import HANDLING_BUCKET_EDGES_HOURS, HANDLING_BUCKETS, MEASURES, KpiTarget, SubscriberCount

BUCKETS = tuple(f"h{k:02d}" for k in range(HANDLING_BUCKETS))


@dataclass(frozen=True)
class Kpi:
    code: str
    label: str
    unit: str  # "%" for rates, "h" for times, "" for counts and ratios
    higher_is_better: bool | None
    numerator: str | None  # a measure (sums), or None when computed otherwise
    denominator: str | None
    basis: str  # which moment puts an order into a period
    formula: str
    # Drill-down: the orders behind the numerator and the denominator (quality.drill.DRILLS).
    numerator_drill: str = ""
    denominator_drill: str = ""
    kinds: tuple[str, ...] | None = None  # fixed kinds, whatever the page's kind filter says

    @property
    def is_rate(self) -> bool:
        return self.unit == "%"


RECEIVED = _("the day it was received")
CLOSED = _("the day it was closed")
REPLIED = _("the day the department replied")
RATED = _("the day of the callback")
DUE = _("the day its first reply was due")

KPIS: dict[str, Kpi] = {k.code: k for k in [
    Kpi("volume", _("Volume"), "", None, "received", None, RECEIVED,
        _("Orders received."), "received"),
    Kpi("per_10k", _("Complaints per 10,000 subscribers"), "", False, "received", None, RECEIVED,
        _("Complaints received ÷ subscribers of the region (the month of the period's end) × 10,000."), "received",
        kinds=(Kind.COMPLAINT,)),
    Kpi("on_spot_rate", _("On-spot resolution rate"), "%", True, "on_spot", "received", RECEIVED,
        _("Resolved on the spot by the frontline ÷ complaints received."), "on_spot", "received",
        kinds=(Kind.COMPLAINT,)),
    Kpi("timeliness", _("Timeliness rate"), "%", True, "in_time", "timed", CLOSED,
        _("Closed orders whose reply came within its time limit (an approved extension counts) ÷ closed orders "
          "with a known time limit (resolved on the spot, or with a reply stage)."), "in_time", "timed"),
    Kpi("timeliness_original", _("Timeliness rate (original deadlines)"), "%", True, "in_time_original", "timed",
        CLOSED, _("As the timeliness rate, but judged against the original deadline: extensions do not count."),
        "in_time_original", "timed"),
    Kpi("promise_timeliness", _("Promise kept"), "%", True, "promise_kept", "timed", CLOSED,
        _("Closed orders answered within the customer's promise ÷ closed orders with a known time limit. The "
          "promise is set at receipt and moves only by an approved extension, by time waiting for the customer "
          "and by a reopen (a new promise, which must be kept too): transfers and returns never move it. What "
          "the customer felt."), "promise_kept", "timed"),
    Kpi("department_on_time", _("Departmental on-time rate"), "%", True, "holdings_in_time", "holdings", CLOSED,
        _("Departments' holdings of closed orders that ended within the department's own limit ÷ departments' "
          "holdings judged (each holding: from arrival in the department's queue to passing the order on or "
          "replying; a holding returned as the wrong department is not judged: the routing before it is late). "
          "Who caused a delay. By department, the holdings of the orders it answered."),
        "holdings_in_time", "holdings"),
    Kpi("ping_pong_rate", _("Ping-pong rate"), "%", False, "ping_pong", "closed", CLOSED,
        _("Closed orders passed between departments (transferred or returned) two times or more ÷ closed "
          "orders."), "ping_pong", "closed"),
    Kpi("overdue_rate", _("Overdue rate"), "%", False, "breached", "timed", CLOSED,
        _("Closed orders that breached the limit of any stage (dispatch, claim, reply, review, callback) ÷ closed "
          "orders with a known time limit."), "breached", "timed"),
    Kpi("overdue_count", _("Overdue orders"), "", False, "breached", None, CLOSED,
        _("Closed orders that breached the limit of any stage."), "breached"),
    Kpi("avg_handling", _("Average handling time"), "h", False, "handling_seconds", "replied", REPLIED,
        _("Mean of received → replied, in hours, over orders replied by a department or the complaint centre "
          "(on-spot resolutions are not counted)."), "replied"),
    Kpi("p90_handling", _("90th-percentile handling time"), "h", False, None, "replied", REPLIED,
        _("The time received → replied that nine in ten replied orders stay within, in hours. From rollups it is "
          "interpolated within the handling-time bucket it falls in (buckets of 0.5 h up to 720 h)."), "replied"),
    Kpi("repeat_rate", _("Repeat-complaint rate"), "%", False, "repeat", "received", RECEIVED,
        _("Repeat complaints (same customer, same category within the repeat window) ÷ complaints received."),
        "repeat", "received", kinds=(Kind.COMPLAINT,)),
    Kpi("escalation_rate", _("Escalation rate"), "%", False, "escalated", "received", RECEIVED,
        _("Complaints escalated at least once (by hand or on breach) ÷ complaints received."), "escalated",
        "received", kinds=(Kind.COMPLAINT,)),
    Kpi("escalation_count", _("Escalated orders"), "", False, "escalated", None, RECEIVED,
        _("Orders escalated at least once."), "escalated"),
    Kpi("satisfaction", _("Satisfaction"), "%", True, "satisfied", "rated", RATED,
        _("Satisfied callback ratings (4–5 by default: the workflow policy's threshold) ÷ callback ratings (every "
          "callback that reached the customer counts, also a second one after reopening)."), "satisfied", "rated"),
    Kpi("dissatisfaction", _("Dissatisfaction"), "%", False, "dissatisfied", "rated", RATED,
        _("Dissatisfied callback ratings (1–2 by default: the workflow policy's threshold, the same that reopens "
          "the order and opens a follow-up) ÷ callback ratings. A 3 is neutral: in neither figure."),
        "dissatisfied", "rated"),
    Kpi("callback_rate", _("Callback rate"), "%", True, "called_back", "dispatched_closed", CLOSED,
        _("Closed orders whose customer was reached at callback ÷ closed orders that had a callback step (not "
          "resolved on the spot), by phone or by the customer's SMS reply."), "called_back", "dispatched_closed"),
    Kpi("callback_rate_sms", _("Callback rate by SMS"), "%", True, "called_back_sms", "dispatched_closed", CLOSED,
        _("Closed orders whose customer answered the SMS survey ÷ closed orders that had a callback step."),
        "called_back_sms", "dispatched_closed"),
    Kpi("callback_rate_phone", _("Callback rate by phone"), "%", True, "called_back_phone", "dispatched_closed",
        CLOSED, _("Closed orders whose customer was reached by an agent's call ÷ closed orders that had a callback "
                  "step (an order reopened may count in both)."), "called_back_phone", "dispatched_closed"),
    Kpi("closed_loop_rate", _("Closed-loop rate"), "%", True, "looped", "due", DUE,
        _("Orders closed with a final answer ÷ orders whose first reply was due (cancelled orders are never due)."),
        "looped", "due"),
    Kpi("reopen_rate", _("Reopen rate"), "%", False, "reopened", "closed", CLOSED,
        _("Closed orders that were reopened at least once ÷ closed orders."), "reopened", "closed"),
    Kpi("complaint_inquiry_ratio", _("Complaint-to-inquiry ratio"), "", None, None, None, RECEIVED,
        _("Complaints received ÷ inquiries received."), "complaints", "inquiries"),
]}

# The KPIs a table shows, in this order.
TABLE_KPIS = ("volume", "on_spot_rate", "timeliness", "promise_timeliness", "department_on_time", "overdue_rate",
              "avg_handling", "p90_handling", "repeat_rate", "escalation_rate", "satisfaction", "dissatisfaction",
              "callback_rate", "closed_loop_rate")


# --- periods ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before (a calendar month: the month before)."""
        if self.start.day == 1 and (self.end + datetime.timedelta(days=1)).day == 1:
            end = self.start - datetime.timedelta(days=1)
            return Period(end.replace(day=1), end)
        return Period(self.start - datetime.timedelta(days=self.days), self.start - datetime.timedelta(days=1))

    def __str__(self):
        return f"{self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}" if self.start != self.end else f"{self.start:%Y-%m-%d}"

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        start = datetime.date(year, month, 1)
        nxt = (start + datetime.timedelta(days=32)).replace(day=1)
        return cls(start, nxt - datetime.timedelta(days=1))


def period_preset(name: str, today: datetime.date) -> Period:
    week_start = today - datetime.timedelta(days=today.weekday())
    if name == "today":
        return Period(today, today)
    if name == "yesterday":
        day = today - datetime.timedelta(days=1)
        return Period(day, day)
    if name == "7d":
        return Period(today - datetime.timedelta(days=6), today)
    if name == "30d":
        return Period(today - datetime.timedelta(days=29), today)
    if name == "90d":
        return Period(today - datetime.timedelta(days=89), today)
    if name == "this_week":
        return Period(week_start, today)
    if name == "last_week":
        return Period(week_start - datetime.timedelta(days=7), week_start - datetime.timedelta(days=1))
    if name == "last_month":
        last = today.replace(day=1) - datetime.timedelta(days=1)
        return Period.month(last.year, last.month)
    return Period(today.replace(day=1), today)  # this month


PERIOD_PRESETS = [
    ("today", _("Today")), ("yesterday", _("Yesterday")), ("7d", _("Last 7 days")), ("30d", _("Last 30 days")),
    ("90d", _("Last 90 days")), ("this_week", _("This week")), ("last_week", _("Last week")),
    ("this_month", _("This month")), ("last_month", _("Last month")), ("custom", _("Custom")),
]


# --- trees -----------------------------------------------------------------------------------------------------


class Tree:
    """A small tree table (regions, categories) in memory: ancestors at a level, subtrees, labels."""

    def __init__(self, rows: Iterable[dict]):
        self.nodes = {row["id"]: row for row in rows}
        self.children: dict[int | None, list[int]] = defaultdict(list)
        for row in self.nodes.values():
            self.children[row["parent_id"]].append(row["id"])

    def ancestor_at(self, node_id: int, level: int) -> int:
        """The node's ancestor at that level, or the node itself when it is not that deep."""
        node = self.nodes.get(node_id)
        while node is not None and node["level"] > level and node["parent_id"] is not None:
            node = self.nodes[node["parent_id"]]
        return node["id"] if node is not None else node_id

    def subtree(self, node_id: int) -> list[int]:
        out, stack = [], [node_id]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(self.children.get(current, ()))
        return out

    def label(self, node_id) -> str:
        node = self.nodes.get(node_id)
        return node["label"] if node else "—"


# Both trees are read by every dashboard page; kept per process (read them, never change them): a change in
# admin counts at once in its process, within the memo's seconds in the others.
@cached_for(30, invalidated_by=(Region,))
def region_tree() -> Tree:
    return Tree({"id": r["id"], "parent_id": r["parent_id"], "level": r["level"], "label": r["name"],
                 "path": r["path"]} for r in Region.objects.values("id", "parent_id", "level", "name", "path"))


def category_tree() -> Tree:
    return _category_tree(get_language() or "")  # its labels are in the reader's language


@cached_for(30, invalidated_by=(Category,))
def _category_tree(language: str) -> Tree:
    rows = []
    for c in Category.objects.only("id", "parent_id", "level", "name", "name_en", "code"):
        rows.append({"id": c.id, "parent_id": c.parent_id, "level": c.level, "label": c.label, "code": c.code})
    return Tree(rows)


# --- the slice and the grouping -------------------------------------------------------------------------------


@dataclass
class Slice:
    """Which orders count. `regions` is the region (and below) the viewer may see, or None for all;
    `region` narrows it further; categories and regions include their subtrees."""

    regions: Region | None = None
    region: Region | None = None
    category: Category | None = None
    department_id: int | None = None
    channel_id: int | None = None
    severity: str = ""
    tier: str = ""
    brand: str = ""
    kinds: tuple[str, ...] = (Kind.COMPLAINT,)  # empty: every kind
    agent_id: int | None = None

    def narrowed(self, **changes) -> Slice:
        values = {**self.__dict__, **changes}
        return Slice(**values)


# Groupings, by name: the SQL dimension they need, and how a row's value of it is folded into the group's value.
TIME_GROUPS = ("day", "week", "month")
GROUPINGS = {
    "day": "day", "week": "day", "month": "day", "hour": "hour",
    "region1": "region_id", "region2": "region_id", "region3": "order_region_id",
    "category1": "category_id", "category2": "category_id", "category3": "category_id",
    "category4": "category_id", "category5": "category_id",
    "department": "department_id", "channel": "channel_id", "severity": "severity", "tier": "tier",
    "brand": "brand", "kind": "kind", "agent": "agent_id",
}
GROUPING_LABELS = {
    "day": _("Day"), "week": _("Week"), "month": _("Month"), "hour": _("Hour"), "region1": _("Province"),
    "region2": _("City"), "region3": _("County"), "category1": _("Category, level 1"),
    "category2": _("Category, level 2"), "category3": _("Category, level 3"), "category4": _("Category, level 4"),
    "category5": _("Category, level 5"), "department": _("Department"), "channel": _("Channel"),
    "severity": _("Severity"), "tier": _("Customer tier"), "brand": _("Brand"), "kind": _("Kind"),
    "agent": _("First responder"),
}


@dataclass
class Context:
    """The trees, read once per page."""

    regions: Tree = field(default_factory=region_tree)
    categories: Tree = field(default_factory=category_tree)


def _fold(grouping: str, value, ctx: Context):
    if grouping == "week":
        return value - datetime.timedelta(days=value.weekday())
    if grouping == "month":
        return value.replace(day=1)
    if grouping in ("region1", "region2"):
        return ctx.regions.ancestor_at(value, int(grouping[-1]))
    if grouping.startswith("category"):
        return ctx.categories.ancestor_at(value, int(grouping[-1]))
    return value


def _conditions(slice_: Slice, ctx: Context) -> tuple[list[tuple[str, list]], set[str]]:
    """SQL conditions of the slice and the dimensions they need."""
    conditions, needed = [], set()
    for region in (slice_.regions, slice_.region):
        if region is None or _is_whole_world(region, ctx):
            continue
        if region.level <= 2:  # cubes know regions down to the city
            cities = [n for n in ctx.regions.subtree(region.pk) if ctx.regions.nodes[n]["level"] <= 2]
            conditions.append(_in_list("region_id", cities))
            needed.add("region_id")
        else:
            conditions.append(_in_list("order_region_id", ctx.regions.subtree(region.pk)))
            needed.add("order_region_id")
    if slice_.category is not None:
        conditions.append(_in_list("category_id", ctx.categories.subtree(slice_.category.pk)))
        needed.add("category_id")
    for name, value in (("department_id", slice_.department_id), ("channel_id", slice_.channel_id),
                        ("severity", slice_.severity), ("tier", slice_.tier), ("brand", slice_.brand),
                        ("agent_id", slice_.agent_id)):
        if value not in (None, ""):
            conditions.append((f"{_q(name)} = %s", [value]))
            needed.add(name)
    return conditions, needed


def _is_whole_world(region: Region, ctx: Context) -> bool:
    """The only province: no condition needed."""
    return region.parent_id is None and ctx.regions.children.get(None, []) == [region.pk]


def _in_list(column: str, values: Sequence) -> tuple[str, list]:
    if connection.vendor == "postgresql":
        return f"{_q(column)} = ANY(%s)", [list(values)]
    return f"{_q(column)} IN ({', '.join(['%s'] * len(values)) or 'NULL'})", list(values)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def source_for(dimensions: set[str], source: str = "auto") -> str:
    if source != "auto":
        return source
    for cube in CUBES:
        if cube.covers(dimensions | {"day", "kind"}):
            return cube.name
    return "facts"


Sums = dict[str, int]


@dataclass
class SumsTable:
    """Sums of the measures per group and kind; `kpi()` turns one group's sums into a KPI value."""

    groups: dict[tuple, dict[str, Sums]]
    kinds: tuple[str, ...]
    source: str

    def keys(self) -> list[tuple]:
        return list(self.groups)

    def sums(self, key: tuple = (), kinds: Iterable[str] | None = None) -> Sums:
        return sums_for(self.groups.get(key, {}), self.kinds if kinds is None else kinds)

    def kpi(self, code: str, key: tuple = (), *, subscribers: int | None = None) -> Value:
        return kpi_value(code, self.groups.get(key, {}), slice_kinds=self.kinds, subscribers=subscribers)


def measure_sums(*, period: Period, slice_: Slice, group_by: Sequence[str] = (), source: str = "auto",
                 ctx: Context | None = None, measures: Sequence[str] = MEASURES) -> SumsTable:
    """The measures summed for the period, the slice and the grouping, kinds kept apart (a KPI picks the kinds it
    counts). `source`: auto (the smallest cube that can answer), a cube's name, "facts" or "orders". `measures`:
    the ones to sum (every one by default; the others read 0) — a read that needs one sums one column, not 40."""
    return measure_sums_each(periods=(period,), slice_=slice_, group_by=group_by, source=source, ctx=ctx,
                             measures=measures)[0]


def measure_sums_each(*, periods: Sequence[Period], slice_: Slice, group_by: Sequence[str] = (),
                      source: str = "auto", ctx: Context | None = None,
                      measures: Sequence[str] = MEASURES) -> list[SumsTable]:
    """measure_sums for several periods that do not overlap (a period and the one before it) in one statement."""
    ctx = ctx or Context()
    conditions, needed = _conditions(slice_, ctx)
    sql_dims = list(dict.fromkeys(GROUPINGS[g] for g in group_by))
    chosen = source_for(needed | set(sql_dims), source)
    which_params: list = []
    if len(periods) == 1:
        which = "0"
    else:  # which period a row is in
        which = "CASE " + " ".join(f"WHEN day >= %s AND day <= %s THEN {i}" for i in range(len(periods))) + " END"
        for period in periods:
            which_params += [period.start, period.end]
    where = ["day >= %s", "day <= %s"]
    where_params: list = [min(p.start for p in periods), max(p.end for p in periods)]
    if len(periods) > 1:
        where.append("(" + " OR ".join("(day >= %s AND day <= %s)" for _ in periods) + ")")
        for period in periods:
            where_params += [period.start, period.end]
    if slice_.kinds:
        # The complaint-to-inquiry ratio and the complaint-only KPIs need those kinds whatever the page shows.
        kinds_sql, kinds_params = _in_list("kind", sorted({*slice_.kinds, Kind.COMPLAINT, Kind.INQUIRY}))
        where.append(kinds_sql)
        where_params += kinds_params
    for sql, values in conditions:
        where.append(sql)
        where_params += values
    group_columns = ", ".join(_q(c) for c in [*sql_dims, "kind"])
    conditions_sql = " AND ".join(where)
    sums = ", ".join(f"SUM({_q(m)})" for m in measures)
    if chosen in ("orders", "facts"):
        # Each basis of the projection (received, closed, replied, due, rated) summed apart, its own measures only
        # (a third of the work of summing every measure over every projected row), then the parts added up.
        parts = projection_parts(*facts_relation_from_orders()) if chosen == "orders" else projection_parts()
        columns_in = [*sql_dims, "kind"]  # (a grouping by kind names it twice: numbered, not named, out of a part)
        named = ", ".join(f"{_q(c)} AS g{i}" for i, c in enumerate(columns_in))
        names = ", ".join(f"g{i}" for i in range(len(columns_in)))
        branches, params = [], []
        for part_sql, part_params, part_measures in parts:
            columns = ", ".join(f"SUM({_q(m)}) AS {_q(m)}" if m in part_measures else f"0 AS {_q(m)}"
                                for m in measures)
            branches.append(f"SELECT {which} AS which, {named}, {columns} FROM ({part_sql}) b "
                            f"WHERE {conditions_sql} GROUP BY 1, {group_columns}")
            params += which_params + list(part_params) + where_params
        sql = (f"SELECT which, {names}, {sums} FROM ({' UNION ALL '.join(branches)}) p "
               f"GROUP BY which, {names}")
    else:
        cube = next(c for c in CUBES if c.name == chosen)
        sql = (f"SELECT {which} AS which, {group_columns}, {sums} FROM {_q(cube.table)} WHERE {conditions_sql} "
               f"GROUP BY 1, {group_columns}")
        params = which_params + where_params
    tables: list[dict] = [defaultdict(lambda: defaultdict(lambda: dict.fromkeys(MEASURES, 0))) for _ in periods]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    width = len(sql_dims)
    for row in rows:
        values = dict(zip(sql_dims, row[1:width + 1], strict=True))
        key = tuple(_fold(g, _as_date(values["day"]) if GROUPINGS[g] == "day" else values[GROUPINGS[g]], ctx)
                    for g in group_by)
        target = tables[row[0]][key][row[width + 1]]
        for measure, value in zip(measures, row[width + 2:], strict=True):
            target[measure] += int(value or 0)
    return [SumsTable(groups=dict(groups), kinds=tuple(slice_.kinds), source=chosen) for groups in tables]


def _as_date(value):
    if isinstance(value, str):  # SQLite returns dates as text
        return datetime.date.fromisoformat(value)
    return value


# --- KPI values ------------------------------------------------------------------------------------------------


def sums_for(kinds_sums: dict[str, Sums], kinds: Iterable[str] | None) -> Sums:
    total = dict.fromkeys(MEASURES, 0)
    for kind, sums in kinds_sums.items():
        if kinds and kind not in kinds:
            continue
        for measure, value in sums.items():
            total[measure] += value
    return total


def percentile_hours(sums: Sums, q: float = 0.9) -> float | None:
    """The q-quantile of handling time in hours, interpolated within its bucket; None without replies."""
    counts = [sums[b] for b in BUCKETS]
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    cumulative = 0
    for k, count in enumerate(counts):
        if count and cumulative + count >= rank:
            low = HANDLING_BUCKET_EDGES_HOURS[k - 1] if k > 0 else 0.0
            if k >= len(HANDLING_BUCKET_EDGES_HOURS):
                return float(low)  # beyond the last edge: "more than 720 h"
            high = HANDLING_BUCKET_EDGES_HOURS[k]
            return low + (rank - cumulative) / count * (high - low)
        cumulative += count
    return float(HANDLING_BUCKET_EDGES_HOURS[-1])


@dataclass
class Value:
    """A KPI's value with what it was computed from."""

    kpi: Kpi
    value: float | None
    numerator: float | None = None
    denominator: float | None = None

    @property
    def display(self) -> str:
        if self.value is None:
            return "—"
        if self.kpi.unit == "%":
            return f"{self.value:.1f}%"
        if self.kpi.unit == "h":
            return f"{self.value:.1f} {pgettext('unit', 'hours')}"
        if self.kpi.code in ("per_10k", "complaint_inquiry_ratio"):
            return f"{self.value:.2f}"
        return f"{int(self.value):,}"


def kpi_value(code: str, kinds_sums: dict[str, Sums], *, slice_kinds: Sequence[str] = (Kind.COMPLAINT,),
              subscribers: int | None = None) -> Value:
    kpi = KPIS[code]
    if code == "complaint_inquiry_ratio":
        complaints = sums_for(kinds_sums, [Kind.COMPLAINT])["received"]
        inquiries = sums_for(kinds_sums, [Kind.INQUIRY])["received"]
        return Value(kpi, complaints / inquiries if inquiries else None, complaints, inquiries)
    sums = sums_for(kinds_sums, kpi.kinds or slice_kinds or None)
    if code == "p90_handling":
        return Value(kpi, percentile_hours(sums), None, sums["replied"])
    if code == "per_10k":
        complaints = sums["received"]
        return Value(kpi, complaints * 10_000 / subscribers if subscribers else None, complaints, subscribers)
    numerator = sums[kpi.numerator]
    if kpi.denominator is None:
        return Value(kpi, numerator, numerator)
    denominator = sums[kpi.denominator]
    if not denominator:
        return Value(kpi, None, numerator, denominator)
    if code == "avg_handling":
        return Value(kpi, numerator / denominator / 3600, numerator / 3600, denominator)
    return Value(kpi, 100 * numerator / denominator, numerator, denominator)



# --- subscribers and targets ----------------------------------------------------------------------------------


def subscribers_by_region(*, month: datetime.date, ctx: Context) -> dict[int, int]:
    """Each region's subscriber base: its latest count up to that month, else the sum of its children's."""
    latest = _subscriber_counts(month)
    memo: dict[int, int] = {}

    def base(node: int) -> int:
        if node not in memo:
            memo[node] = latest.get(node) or sum(base(child) for child in ctx.regions.children.get(node, ()))
        return memo[node]

    return {node: base(node) for node in ctx.regions.nodes}


@cached_for(60, invalidated_by=(SubscriberCount,))
def _subscriber_counts(month: datetime.date) -> dict[int, int]:
    """Each region's latest count up to that month (read them, never change them)."""
    latest: dict[int, int] = {}
    for row in (SubscriberCount.objects.filter(month__lte=month).order_by("region_id", "-month")
                .values("region_id", "subscribers")):
        latest.setdefault(row["region_id"], row["subscribers"])
    return latest


def subscribers_of(region: Region | None, *, month: datetime.date, ctx: Context) -> int | None:
    bases = subscribers_by_region(month=month, ctx=ctx)
    if region is not None:
        return bases.get(region.pk) or None
    return sum(bases.get(root, 0) for root in ctx.regions.children.get(None, ())) or None


@cached_for(60, invalidated_by=(KpiTarget,))
def _targets_in_force(on_date: datetime.date) -> dict[str, list[dict]]:
    """Every KPI's targets in force that day, latest first, in one read (a dashboard shows a dozen KPIs): a change
    in admin takes effect at once in its process, within a minute in the others."""
    targets: dict[str, list[dict]] = {}
    for row in (KpiTarget.objects.in_force(on=on_date).order_by("-effective_from", "-pk")
                .values("kpi", "region_id", "value")):
        targets.setdefault(row.pop("kpi"), []).append(row)
    return targets


def kpi_target(code: str, *, region: Region | None, on_date: datetime.date) -> Decimal | None:
    """The target in force for the region: its own, else its nearest ancestor's, else the one for every region."""
    targets = _targets_in_force(on_date).get(code, ())
    chain = []
    node = region
    while node is not None:
        chain.append(node.pk)
        node = node.parent
    for region_id in [*chain, None]:
        for target in targets:
            if target["region_id"] == region_id:
                return target["value"]
    return None
