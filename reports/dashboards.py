"""What the dashboards show, built from the KPI library: tiles, tables and chart data. Every number carries the
link to the orders behind it; every chart is also a table; every table can be exported."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from complaints.models import OPEN_STATUSES, Brand, Channel, Kind, OrderStatus, Severity, Tier
from core.web.tables import Cell, Table
from org.models import Department, User
from quality.kpis import (
    GROUPING_LABELS,
    KPIS,
    TIME_GROUPS,
    Context,
    Period,
    Slice,
    SumsTable,
    Value,
    kpi_target,
    measure_sums,
    measure_sums_each,
    subscribers_by_region,
)
from quality.models import OpenOrderCount

# --- building blocks ------------------------------------------------------------------------------------------

UNIT_ORDERS = pgettext_lazy("unit", "orders")  # 件
UNIT_HOURS = pgettext_lazy("unit", "hours")  # 小时
UNIT_MINUTES = pgettext_lazy("unit", "minutes")  # 分钟
UNIT_POINTS = pgettext_lazy("unit", "points")  # 分
UNIT_PER_10K = pgettext_lazy("unit", "per 10,000 subscribers")  # 件/万户
UNIT_PERCENTAGE_POINTS = pgettext_lazy("unit", "pp")  # 个百分点
COUNT_KPIS = ("volume", "overdue_count", "escalation_count")


def unit_label(code: str) -> str:
    """The unit a KPI's figures are written in, as a reader sees it on an axis or a column: %, 件, 小时…"""
    unit = KPIS[code].unit
    if unit == "%":
        return "%"
    if unit == "h":
        return str(UNIT_HOURS)
    if code in COUNT_KPIS:
        return str(UNIT_ORDERS)
    if code == "per_10k":
        return str(UNIT_PER_10K)
    return ""  # a pure ratio



@dataclass
class Chart:
    id: str
    type: str  # line, bar, hbar, stacked
    title: str
    x: list[str]
    series: list[dict]
    unit: str = ""  # as written after a figure: "%", "件", "小时" (see unit_label)
    mark_x: str = ""  # a vertical marker at this x value (the change date)
    table: Table | None = None

    @property
    def data_id(self) -> str:
        return f"{self.id}-data"

    def spec(self) -> dict:
        return {"type": self.type, "title": self.title, "x": self.x, "series": self.series, "unit": self.unit,
                "markX": self.mark_x}


@dataclass
class Tile:
    code: str
    label: str
    value: Value
    previous: Value
    target: float | None
    link: str
    definition: str

    @property
    def delta(self) -> float | None:
        if self.value.value is None or self.previous.value is None:
            return None
        return self.value.value - self.previous.value

    @property
    def trend(self) -> str:
        """better / worse / same, by the KPI's direction."""
        delta, kpi = self.delta, KPIS[self.code]
        if delta is None or kpi.higher_is_better is None or abs(delta) < 1e-9:
            return "same"
        return "better" if (delta > 0) == kpi.higher_is_better else "worse"

    @property
    def delta_display(self) -> str:
        delta = self.delta
        if delta is None:
            return ""
        unit = {"%": f" {UNIT_PERCENTAGE_POINTS}", "h": f" {UNIT_HOURS}"}.get(KPIS[self.code].unit, "")
        if KPIS[self.code].unit == "":
            return f"{delta:+,.0f}" if float(delta).is_integer() else f"{delta:+,.2f}"
        return f"{delta:+.1f}{unit}"

    @property
    def target_met(self) -> bool | None:
        kpi = KPIS[self.code]
        if self.target is None or self.value.value is None or kpi.higher_is_better is None:
            return None
        return self.value.value >= self.target if kpi.higher_is_better else self.value.value <= self.target


class Links:
    """URLs to the orders behind a number, carrying the page's filters."""

    FILTERS = ("kind", "region", "category", "channel", "department", "severity", "tier", "brand")

    def __init__(self, form):
        data = form.cleaned_data if form.is_bound and form.is_valid() else {}
        self.base = {}
        for name in self.FILTERS:
            value = data.get(name)
            if value not in (None, ""):
                self.base[name] = value.pk if hasattr(value, "pk") else value

    def orders(self, kpi: str, period: Period, *, part: str = "num", group: str = "", value: Any = None) -> str:
        if not KPIS[kpi].numerator_drill:
            return ""
        params = {**self.base, "kpi": kpi, "part": part, "period": "custom", "start": period.start.isoformat(),
                  "end": period.end.isoformat()}
        if group:
            params["g"] = group
            params["v"] = value.isoformat() if isinstance(value, datetime.date) else value
        return f"{reverse('reports:orders')}?{urlencode(params)}"


def group_kpi(table: SumsTable, code: str, key: tuple, grouping: str, *, subscribers: int | None = None) -> Value:
    """A group's KPI value; a month without a single order counted has no value (a gap in the chart, "—" in the
    table), not zero: before the platform was used or a history imported, nothing is known of it."""
    if grouping == "month" and key not in table.groups:
        return Value(KPIS[code], None)
    return table.kpi(code, key, subscribers=subscribers)


def value_cell(value: Value, link: str = "") -> Cell:
    raw = None if value.value is None else round(value.value, 2)
    return Cell(value.display, link if value.value is not None else "", raw, css="num",
                fmt="percent" if value.kpi.unit == "%" else "")


# --- labels of group values -----------------------------------------------------------------------------------


class Labels:
    """Readable names for the values of a grouping, read once."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._departments = None
        self._channels = None
        self._agents = None

    def __call__(self, grouping: str, value) -> str:
        if value is None:
            return "—"
        if grouping == "day":
            return value.strftime("%m-%d")
        if grouping == "week":
            return _("week of %(day)s") % {"day": value.strftime("%m-%d")}
        if grouping == "month":
            return value.strftime("%Y-%m")
        if grouping == "hour":
            return f"{value:02d}:00"
        if grouping.startswith("region"):
            return self.ctx.regions.label(value)
        if grouping.startswith("category"):
            return self.ctx.categories.label(value)
        if grouping == "department":
            if self._departments is None:
                self._departments = dict(Department.objects.values_list("pk", "name"))
            return self._departments.get(value, "—") if value else _("(none)")
        if grouping == "channel":
            if self._channels is None:
                self._channels = {c.pk: c.label for c in Channel.objects.all()}
            return self._channels.get(value, "—")
        if grouping == "agent":
            if self._agents is None:
                self._agents = {u.pk: str(u) for u in User.objects.only("pk", "display_name", "username",
                                                                          "first_name", "last_name")}
            return self._agents.get(value, "—")
        choices = {"severity": Severity, "tier": Tier, "brand": Brand, "kind": Kind}.get(grouping)
        if choices is not None:
            return str(choices(value).label) if value in choices.values else str(value)
        return str(value)


# --- tiles, tables, charts ------------------------------------------------------------------------------------

TILE_KPIS = ("volume", "on_spot_rate", "timeliness", "promise_timeliness", "department_on_time", "overdue_rate",
             "avg_handling", "p90_handling", "satisfaction", "repeat_rate", "escalation_rate", "closed_loop_rate",
             "ping_pong_rate")


def tiles(*, period: Period, slice_: Slice, links: Links, ctx: Context, codes=TILE_KPIS) -> list[Tile]:
    now_sums, before = measure_sums_each(periods=(period, period.previous()), slice_=slice_, ctx=ctx)
    region = slice_.region or slice_.regions
    out = []
    for code in codes:
        target = kpi_target(code, region=region, on_date=period.end)
        out.append(Tile(code=code, label=str(KPIS[code].label), value=now_sums.kpi(code), previous=before.kpi(code),
                        target=float(target) if target is not None else None,
                        link=links.orders(code, period), definition=str(KPIS[code].formula)))
    return out


def kpi_table(*, name: str, title: str, table: SumsTable, grouping: str, keys: list, labels: Labels,
              codes: tuple[str, ...], links: Links, period: Period, subscribers: dict | None = None) -> Table:
    columns = [str(GROUPING_LABELS[grouping]), *(str(KPIS[c].label) for c in codes)]
    out = Table(name=name, title=title, columns=columns)
    for key in keys:
        value = key[0]
        row_period = _group_period(grouping, value, period)
        label = labels(grouping, value)
        if grouping in ("day", "week", "month") and isinstance(value, datetime.date):  # a real date in a file
            cells = [Cell(label, raw=value, fmt="month" if grouping == "month" else "date")]
        else:
            cells = [Cell(label, raw=label)]
        for code in codes:
            kpi_value = group_kpi(table, code, key, grouping, subscribers=(subscribers or {}).get(value))
            link = links.orders(code, row_period, group="" if grouping in TIME_GROUPS else grouping,
                                value=None if grouping in TIME_GROUPS else value)
            cells.append(value_cell(kpi_value, link))
        out.rows.append(cells)
    return out


def _group_period(grouping: str, value, period: Period) -> Period:
    """A time group's own days (within the page's period)."""
    if grouping == "day":
        return Period(value, value)
    if grouping == "week":
        return Period(max(value, period.start), min(value + datetime.timedelta(days=6), period.end))
    if grouping == "month":
        return Period(max(value, period.start), min(Period.month(value.year, value.month).end, period.end))
    return period


def trend_grouping(period: Period) -> str:
    if period.days <= 62:
        return "day"
    if period.days <= 366:
        return "week"
    return "month"


def time_keys(grouping: str, period: Period) -> list[datetime.date]:
    """Every day / week / month of the period, so a chart has no gaps."""
    keys, day = [], period.start
    while day <= period.end:
        if grouping == "day":
            keys.append(day)
        elif grouping == "week":
            keys.append(day - datetime.timedelta(days=day.weekday()))
        else:
            keys.append(day.replace(day=1))
        day += datetime.timedelta(days=1)
    return list(dict.fromkeys(keys))


def trend_chart(*, chart_id: str, title: str, period: Period, slice_: Slice, codes: tuple[str, ...], links: Links,
                ctx: Context, labels: Labels) -> Chart:
    grouping = trend_grouping(period)
    table = measure_sums(period=period, slice_=slice_, group_by=[grouping], ctx=ctx)
    keys = time_keys(grouping, period)
    units = {unit_label(c) for c in codes}
    series = []
    for code in codes:
        values = [group_kpi(table, code, (k,), grouping) for k in keys]
        series.append({"name": str(KPIS[code].label),
                       "data": [None if v.value is None else round(v.value, 2) for v in values],
                       "links": [links.orders(code, _group_period(grouping, k, period)) for k in keys]})
    chart = Chart(id=chart_id, type="line", title=title, x=[labels(grouping, k) for k in keys], series=series,
                  unit=units.pop() if len(units) == 1 else "")
    chart.table = kpi_table(name=chart_id, title=title, table=table, grouping=grouping, keys=[(k,) for k in keys],
                            labels=labels, codes=codes, links=links, period=period)
    return chart


def ranked_chart(*, chart_id: str, title: str, period: Period, slice_: Slice, grouping: str, links: Links,
                 ctx: Context, labels: Labels, codes=("volume", "timeliness", "satisfaction", "repeat_rate"),
                 rank_by: str = "volume", limit: int = 10, subscribers: dict | None = None) -> Chart:
    """The top groups by one KPI, as a horizontal bar chart and a table of several KPIs."""
    table = measure_sums(period=period, slice_=slice_, group_by=[grouping], ctx=ctx)
    keyed = [(key, table.kpi(rank_by, key, subscribers=(subscribers or {}).get(key[0])).value) for key in table.keys()]
    ranked = [key for key, value in sorted(keyed, key=lambda kv: -(kv[1] or 0)) if value][:limit]
    data = [round(table.kpi(rank_by, k, subscribers=(subscribers or {}).get(k[0])).value or 0, 2) for k in ranked]
    chart = Chart(id=chart_id, type="hbar", title=title, x=[labels(grouping, k[0]) for k in ranked],
                  series=[{"name": str(KPIS[rank_by].label), "data": data,
                           "links": [links.orders(rank_by, period, group=grouping, value=k[0]) for k in ranked]}],
                  unit=unit_label(rank_by))
    chart.table = kpi_table(name=chart_id, title=title, table=table, grouping=grouping, keys=ranked, labels=labels,
                            codes=codes, links=links, period=period, subscribers=subscribers)
    return chart


DEADLINE_STATES = [("overdue", "#c53030"), ("warning", "#dd6b20"), ("on_track", "#2f855a"), ("none", "#a0aec0")]


def open_orders_chart(*, slice_: Slice, ctx: Context, department_id: int | None = None) -> Chart:
    """Open orders now, by step and deadline state, from the snapshot taken every minute."""
    qs = OpenOrderCount.objects.all()
    region = slice_.region or slice_.regions
    if region is not None:
        qs = qs.filter(region_id__in=ctx.regions.subtree(region.pk))
    department_id = department_id or slice_.department_id
    if department_id:
        qs = qs.filter(department_id=department_id)
    counts: dict[tuple[str, str], int] = {}
    for row in qs.values("status", "deadline_state", "count"):
        key = (row["status"], row["deadline_state"])
        counts[key] = counts.get(key, 0) + row["count"]
    statuses = [s for s in OPEN_STATUSES]
    state_labels = {"overdue": _("Overdue"), "warning": _("Warning"), "on_track": _("On track"),
                    "none": _("No deadline")}
    # The order list (every role has it, scoped to what the user may see) with the same filters.
    base = reverse("complaints:order_list")
    scope = {}
    if region is not None:
        scope["region"] = region.pk
    if department_id:
        scope["current_department"] = department_id
    series = []
    for state, color in DEADLINE_STATES:
        deadline = {"deadline": state} if state in ("overdue", "warning") else {}
        series.append({
            "name": str(state_labels[state]), "color": color,
            "data": [counts.get((status, state), 0) for status in statuses],
            "links": [f"{base}?{urlencode({'status': status, **deadline, **scope})}" for status in statuses],
        })
    chart = Chart(id="open-orders", type="stacked", title=_("Open orders by step and deadline"),
                  x=[str(OrderStatus(s).label) for s in statuses], series=series, unit=str(UNIT_ORDERS))
    table = Table(name="open-orders", title=chart.title,
                  columns=[_("Step"), *(str(state_labels[s]) for s, _c in DEADLINE_STATES), _("Total")])
    for index, status in enumerate(statuses):
        row = [Cell(str(OrderStatus(status).label), raw=str(OrderStatus(status).label))]
        total = 0
        for serie in series:
            n = serie["data"][index]
            total += n
            row.append(Cell(f"{n:,}", serie["links"][index] if n else "", n))
        row.append(Cell(f"{total:,}", raw=total))
        table.rows.append(row)
    chart.table = table
    return chart


def intake_by_hour_chart(*, slice_: Slice, ctx: Context, labels: Labels, links: Links, weeks: int = 4) -> Chart:
    """Today's intake hour by hour against the average of the same weekday in the weeks before."""
    today = timezone.localdate()
    same_days = [today - datetime.timedelta(weeks=w) for w in range(1, weeks + 1)]
    # the five days only (not the four weeks between), and only what the chart shows
    days = [today, *same_days]
    tables = dict(zip(days, measure_sums_each(periods=[Period(d, d) for d in days], slice_=slice_,
                                              group_by=["day", "hour"], ctx=ctx, measures=("received",)),
                      strict=True))
    hours = list(range(24))
    now_hour = timezone.localtime().hour
    today_counts = [tables[today].sums((today, h))["received"] if h <= now_hour else None for h in hours]
    average = [round(sum(tables[d].sums((d, h))["received"] for d in same_days) / weeks, 1) for h in hours]
    today_period = Period(today, today)
    hour_links = [links.orders("volume", today_period, group="hour", value=h) for h in hours]
    chart = Chart(id="intake-by-hour", type="line", title=_("Today's intake by hour"),
                  x=[f"{h:02d}:00" for h in hours],
                  series=[{"name": _("Today"), "data": today_counts, "links": hour_links},
                          {"name": _("Average of the last %(n)s %(weekday)s") % {
                              "n": weeks, "weekday": _weekday_name(today)}, "data": average, "dashed": True}],
                  unit=str(UNIT_ORDERS))
    out = Table(name="intake-by-hour", title=chart.title, columns=[_("Hour"), _("Today"), _("Average")])
    for h in hours:
        out.rows.append([Cell(f"{h:02d}:00", raw=f"{h:02d}:00"),
                         Cell("—" if today_counts[h] is None else f"{today_counts[h]:,}",
                              hour_links[h] if today_counts[h] else "", today_counts[h], css="num"),
                         Cell(f"{average[h]:.1f}", raw=average[h])])
    chart.table = out
    return chart


def _weekday_name(day: datetime.date) -> str:
    names = [_("Mondays"), _("Tuesdays"), _("Wednesdays"), _("Thursdays"), _("Fridays"), _("Saturdays"),
             _("Sundays")]
    return str(names[day.weekday()])


def region_subscribers(*, period: Period, ctx: Context) -> dict[int, int]:
    return subscribers_by_region(month=period.end.replace(day=1), ctx=ctx)
