"""The facts behind every KPI, computed once in SQL, and the rollup tables (cubes) kept from them.

One fact row per order (quality.OrderFact) says what the order contributes: its dimensions, the moments that put
it into a period (received, closed, replied, due) and its measures as 0/1 flags. FACT_COLUMNS below is the single
definition of every measure; the KPI library (quality.kpis) only divides sums of them.

A cube is a table of sums of the measures per day (and hour) and one or two dimensions. An order counts in
several rows of a cube: its received measures on the day it was received, its closed measures on the day it was
closed, and so on; each rating counts on the day of its callback. `PROJECTION` turns fact rows into those
cube-grain rows, and the same SQL serves the incremental update, the rebuild and the raw computation the tests
compare against.

Incremental maintenance (rollups_apply, a Celery beat task): take a batch of queued orders; subtract their stored
facts' projection from every cube, recompute their facts from the orders, add the new projection. One applier at a
time (a lease row taken with SKIP LOCKED); the cubes always equal the projection of the stored facts, and the stored
facts converge on the orders. rollups_rebuild recomputes everything from the orders.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, ExtractHour, TruncDate
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from complaints.models import OPEN_STATUSES, OrderStatus, WorkOrder
from quality.models import (
    HANDLING_BUCKET_EDGES_HOURS,
    HANDLING_BUCKETS,
    MEASURES,
    CallbackSurvey,
    FactQueue,
    OpenOrderCount,
    OrderFact,
    RollupCategory,
    RollupCategoryAll,
    RollupChannel,
    RollupCounty,
    RollupCustomer,
    RollupDaily,
    RollupDepartment,
    RollupHourly,
    RollupState,
)
from workflow.models import STEP_STAGES, ExtensionRequest, OrderStage, Stage, StageOutcome

TZ = ZoneInfo(settings.TIME_ZONE)
# "Ping-pong": an order passed between departments (transferred or returned) at least this many times.
PING_PONG_PASSES = 2


class EpochSeconds(Func):
    """Whole seconds from the second argument to the first."""

    output_field = BigIntegerField()
    arg_joiner = " - "
    template = "CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS BIGINT)"

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="CAST(ROUND((julianday(%(expressions)s)) * 86400) AS INTEGER)",
                              arg_joiner=") - julianday(", **extra)


def _flag(condition: Q | Exists, *, unless: Q | None = None) -> Case:
    whens = [When(unless, then=Value(0))] if unless is not None else []
    return Case(*whens, When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def fact_columns() -> dict:
    """Each fact column as an SQL expression over complaints.WorkOrder: the single definition of every measure.

    - received_*: when the order was received (volume, on-spot, repeat and escalation rates count there).
    - closed_*: when it was closed; `timed` = closed with a known time limit (resolved on the spot, or with a
      reply stage: orders imported as already closed have none); `in_time` = timed and no reply stage ended after
      its deadline (an approved extension counts), `in_time_original` the same against the original deadline;
      `breached` = closed after any stage ended past its deadline (or was found overdue by the sweep). A stage's
      outcome is recorded when it ends, whatever ended it (reply, transfer, return, assignment);
      `dispatched_closed` = closed without on-spot resolution (the orders that have a callback step), of which
      `called_back` reached the customer at least once (`called_back_sms`: by the customer's SMS reply,
      `called_back_phone`: by an agent's call; a reopened order may have both). `promise_kept` = timed and no
      customer's promise (the one of its receipt, a new one after a reopen) ended late: what the customer felt;
      `holdings` = the
      departments' handling clocks judged (a holding returned as misrouted is not: the routing was late), of
      which `holdings_in_time` ended in time: who caused a delay; `ping_pong` = passed between departments
      (transferred or returned) at least PING_PONG_PASSES times.
    - replied_*: when the department replied; handling time = received → replied, for orders not resolved on
      the spot.
    - due_*: the first promised reply time (the original deadline of the first reply stage; received time for an
      on-spot resolution); `looped` = closed with a final answer. Cancelled orders are never due.
    """
    stages = OrderStage.objects.filter(order=OuterRef("pk"))
    handle = stages.filter(kind=Stage.HANDLE)
    promise = stages.filter(kind=Stage.PROMISE)
    # The departments' handling clocks judged on time or late (a holding returned as misrouted is not judged).
    judged = (handle.filter(department__isnull=False, outcome__in=[StageOutcome.IN_TIME, StageOutcome.LATE])
              .order_by().values("order").annotate(n=Count("pk")))
    closed = Q(status=OrderStatus.CLOSED)
    not_closed = ~closed
    on_spot = Q(resolved_on_spot=True)
    first_due = Subquery(handle.order_by("started_at", "id").values("original_due_at")[:1])
    due_at = Case(
        When(status=OrderStatus.CANCELLED, then=Value(None)),
        When(on_spot, then=F("received_at")),
        default=first_due,
    )
    handling = Case(When(replied_at__isnull=False, resolved_on_spot=False,
                         then=EpochSeconds("replied_at", "received_at")), default=Value(None),
                    output_field=BigIntegerField())
    bucket_whens = [When(f_handling_seconds__lt=int(edge * 3600), then=Value(k))
                    for k, edge in enumerate(HANDLING_BUCKET_EDGES_HOURS)]
    return {
        "f_order_id": F("pk"),
        "f_region_id": F("region_id"),
        "f_city_id": Case(When(region__level__lte=2, then=F("region_id")), default=F("region__parent_id")),
        "f_kind": F("kind"),
        "f_severity": F("severity"),
        "f_tier": F("customer_tier"),
        "f_brand": F("customer_brand"),
        "f_channel_id": F("channel_id"),
        "f_category_id": F("category_id"),
        "f_department_id": Coalesce("replied_department_id", "current_department_id",
                                    "first_responder_department_id", Value(0)),
        "f_agent_id": F("first_responder_id"),
        "f_received_day": TruncDate("received_at", tzinfo=TZ),
        "f_received_hour": ExtractHour("received_at", tzinfo=TZ),
        "f_closed_day": TruncDate("closed_at", tzinfo=TZ),
        "f_closed_hour": ExtractHour("closed_at", tzinfo=TZ),
        "f_replied_day": Case(When(resolved_on_spot=False, then=TruncDate("replied_at", tzinfo=TZ))),
        "f_replied_hour": Case(When(resolved_on_spot=False, then=ExtractHour("replied_at", tzinfo=TZ))),
        "f_due_day": TruncDate(due_at, tzinfo=TZ),
        "f_due_hour": ExtractHour(due_at, tzinfo=TZ),
        "f_on_spot": _flag(on_spot),
        "f_repeat": _flag(Q(repeat_of__isnull=False)),
        "f_escalated": _flag(Q(escalation_level__gt=0)),
        "f_timed": _flag(on_spot | Exists(handle), unless=not_closed),
        "f_in_time": _flag(on_spot | ~Exists(handle.filter(outcome=StageOutcome.LATE)),
                           unless=not_closed | (~on_spot & ~Exists(handle))),
        "f_in_time_original": _flag(on_spot | ~Exists(handle.filter(
                                        original_due_at__lt=Coalesce("paused_at", "ended_at"))),
                                    unless=not_closed | (~on_spot & ~Exists(handle))),
        "f_breached": _flag(Exists(stages.filter(Q(outcome=StageOutcome.LATE) | Q(overdue_at__isnull=False),
                                                 kind__in=STEP_STAGES)),
                            unless=not_closed),
        "f_extended": _flag(Exists(ExtensionRequest.objects.filter(
            order=OuterRef("pk"), status=ExtensionRequest.Status.APPROVED)), unless=not_closed),
        "f_reopened": _flag(Q(reopen_count__gt=0), unless=not_closed),
        "f_dispatched_closed": _flag(~on_spot, unless=not_closed),
        "f_called_back": _flag(Exists(CallbackSurvey.objects.filter(order=OuterRef("pk"))),
                               unless=not_closed | on_spot),
        "f_called_back_sms": _flag(Exists(CallbackSurvey.objects.filter(order=OuterRef("pk"), method="sms")),
                                   unless=not_closed | on_spot),
        "f_called_back_phone": _flag(Exists(CallbackSurvey.objects.filter(order=OuterRef("pk"), method="phone")),
                                     unless=not_closed | on_spot),
        "f_looped": _flag(closed, unless=Q(status=OrderStatus.CANCELLED)),
        "f_promise_kept": _flag(on_spot | ~Exists(promise.filter(outcome=StageOutcome.LATE)),
                                unless=not_closed | (~on_spot & ~Exists(handle))),
        "f_ping_pong": _flag(GreaterThanOrEqual(F("transfer_count") + F("return_count"), PING_PONG_PASSES),
                             unless=not_closed),
        "f_holdings": Case(When(closed, then=Coalesce(Subquery(judged.values("n")), Value(0))), default=Value(0),
                           output_field=IntegerField()),
        "f_holdings_in_time": Case(When(closed, then=Coalesce(Subquery(judged.filter(
            outcome=StageOutcome.IN_TIME).values("n")), Value(0))), default=Value(0), output_field=IntegerField()),
        "f_handling_seconds": handling,
        "f_handling_bucket": Case(*bucket_whens, When(f_handling_seconds__isnull=False,
                                                      then=Value(len(HANDLING_BUCKET_EDGES_HOURS))),
                                  default=Value(None), output_field=IntegerField()),
        "f_survey_max_id": Coalesce(Subquery(CallbackSurvey.objects.filter(order=OuterRef("pk"))
                                             .order_by("-id").values("id")[:1]), Value(0)),
    }


def fact_queryset(order_ids: Sequence[int] | None = None, *, id_range: tuple[int, int] | None = None):
    """The facts of these orders (or of all), computed by the database."""
    qs = WorkOrder.objects.all()
    if order_ids is not None:
        qs = qs.filter(pk__in=list(order_ids))
    if id_range is not None:
        qs = qs.filter(pk__gte=id_range[0], pk__lt=id_range[1])
    columns = fact_columns()
    return qs.order_by().annotate(**columns).values(*columns)


def _compiled(queryset) -> tuple[str, list, list[str]]:
    """SQL, parameters and the output column names (without the f_ prefix), in SELECT order."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    names = [alias.removeprefix("f_") for _expression, _sql, alias in compiler.select]
    return sql, list(params), names


def _facts_insert(cursor, queryset) -> None:
    sql, params, names = _compiled(queryset)
    columns = ", ".join(_q(n) for n in names)
    cursor.execute(f"INSERT INTO {_q(OrderFact._meta.db_table)} ({columns}) {sql}", params)


def facts_relation_from_orders(order_ids: Sequence[int] | None = None) -> tuple[str, list]:
    """The facts as a derived table computed straight from the orders (for checking the stored ones)."""
    sql, params, names = _compiled(fact_queryset(order_ids))
    renamed = ", ".join(f"{_q('f_' + n)} AS {_q(n)}" for n in names)
    return f"(SELECT {renamed} FROM ({sql}) raw_facts)", params


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


# --- cubes -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cube:
    name: str
    model: type
    keys: tuple[str, ...]  # besides the measures; day first

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def covers(self, dimensions: Iterable[str]) -> bool:
        return set(dimensions) <= set(self.keys)


# Smallest first: a query is answered by the first cube that has every dimension it filters or groups by. Each
# holds one or two fine dimensions only: at 10,000 orders a day a cube of three fine dimensions by day has nearly
# as many rows as orders, so rarer combinations (a channel within a category, a county and a category) read the
# facts.
CUBES = (
    Cube("daily", RollupDaily, ("day", "region_id", "kind")),
    Cube("county", RollupCounty, ("day", "region_id", "kind", "order_region_id")),
    Cube("channel", RollupChannel, ("day", "region_id", "kind", "channel_id")),
    Cube("department", RollupDepartment, ("day", "region_id", "kind", "department_id")),
    Cube("customer", RollupCustomer, ("day", "region_id", "kind", "severity", "tier", "brand")),
    Cube("hourly", RollupHourly, ("day", "hour", "region_id", "kind")),
    Cube("category_all", RollupCategoryAll, ("day", "kind", "category_id", "department_id")),
    Cube("category", RollupCategory, ("day", "region_id", "kind", "category_id", "department_id")),
)
_DIMENSION_SQL = {
    "region_id": "f.city_id",
    "order_region_id": "f.region_id",
    "kind": "f.kind",
    "category_id": "f.category_id",
    "department_id": "f.department_id",
    "channel_id": "f.channel_id",
    "severity": "f.severity",
    "tier": "f.tier",
    "brand": "f.brand",
    "agent_id": "f.agent_id",
}

# Per basis: the fact columns of its day and hour, the condition that the order has that moment, and the SQL of
# each of its measures (every other measure is 0 in that part of the projection).
_BASES = {
    "received": ("f.received_day", "f.received_hour", None, {
        "received": "1", "on_spot": "f.on_spot", "repeat": "f.repeat", "escalated": "f.escalated"}),
    "closed": ("f.closed_day", "f.closed_hour", "f.closed_day IS NOT NULL", {
        "closed": "1", "timed": "f.timed", "in_time": "f.in_time", "in_time_original": "f.in_time_original",
        "breached": "f.breached", "extended": "f.extended", "reopened": "f.reopened",
        "dispatched_closed": "f.dispatched_closed", "called_back": "f.called_back",
        "called_back_sms": "f.called_back_sms", "called_back_phone": "f.called_back_phone",
        "promise_kept": "f.promise_kept", "ping_pong": "f.ping_pong", "holdings": "f.holdings",
        "holdings_in_time": "f.holdings_in_time"}),
    "replied": ("f.replied_day", "f.replied_hour", "f.replied_day IS NOT NULL", {
        "replied": "1", "handling_seconds": "f.handling_seconds",
        **{f"h{k:02d}": f"CASE WHEN f.handling_bucket = {k} THEN 1 ELSE 0 END" for k in range(HANDLING_BUCKETS)}}),
    "due": ("f.due_day", "f.due_hour", "f.due_day IS NOT NULL", {"due": "1", "looped": "f.looped"}),
    "rated": ("s.day", "s.hour", None, {
        "rated": "1", "satisfied": "CASE WHEN s.verdict = 'satisfied' THEN 1 ELSE 0 END",
        "dissatisfied": "CASE WHEN s.verdict = 'dissatisfied' THEN 1 ELSE 0 END", "rating_sum": "s.rating"}),
}


def _in(column: str, ids: Sequence[int]) -> tuple[str, list]:
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def projection(facts: str = "", params: Sequence = (), *, order_ids: Sequence[int] | None = None) -> tuple[str, list]:
    """Fact rows as cube-grain rows: one per order and basis it has, one per counted rating. `facts` is a table
    or a derived table of fact rows (default: the stored facts)."""
    parts = projection_parts(facts, params, order_ids=order_ids)
    return " UNION ALL ".join(sql for sql, _params, _measures in parts), [p for _sql, ps, _m in parts for p in ps]


def projection_parts(facts: str = "", params: Sequence = (), *,
                     order_ids: Sequence[int] | None = None) -> list[tuple[str, list, frozenset]]:
    """The projection's parts, one per basis: (SQL, parameters, the measures it can make non-zero). A read that
    sums them can sum each part's own measures apart (the others are 0 there) and add the parts up."""
    facts = facts or _q(OrderFact._meta.db_table)
    surveys = _q(CallbackSurvey._meta.db_table)
    parts = []
    for basis, (day, hour, condition, measures) in _BASES.items():
        select = [f"{day} AS day", f"{hour} AS hour"]
        select += [f"{sql} AS {_q(name)}" for name, sql in _DIMENSION_SQL.items()]
        select += [f"{measures.get(m, '0')} AS {_q(m)}" for m in MEASURES]
        where = [condition] if condition else []
        part_params = list(params)
        if order_ids is not None:
            clause, ids = _in("f.order_id", order_ids)
            where.append(clause)
            part_params += ids
        if basis == "rated":
            source = f"{surveys} s JOIN {facts} f ON f.order_id = s.order_id"
            where.append("s.id <= f.survey_max_id")
        else:
            source = f"{facts} f"
        sql = f"SELECT {', '.join(select)} FROM {source}" + (f" WHERE {' AND '.join(where)}" if where else "")
        parts.append((sql, part_params, frozenset(measures)))
    return parts


def _cube_upsert(cursor, cube: Cube, *, sign: int, order_ids: Sequence[int] | None) -> None:
    """Add (sign=+1) or take away (sign=-1) the projection of the stored facts of these orders."""
    source, params = projection(order_ids=order_ids)
    keys = ", ".join(_q(k) for k in cube.keys)
    measures = ", ".join(_q(m) for m in MEASURES)
    sums = ", ".join(f"{sign} * SUM({_q(m)})" for m in MEASURES)
    table = _q(cube.table)
    updates = ", ".join(f"{_q(m)} = {table}.{_q(m)} + excluded.{_q(m)}" for m in MEASURES)
    # Rows go in day order, so a period's rows lie together on disk after a rebuild (increments come in day order
    # anyway: they are about recent days).
    cursor.execute(
        f"INSERT INTO {table} ({keys}, {measures}) SELECT {keys}, {sums} FROM ({source}) p WHERE 1 = 1 "
        f"GROUP BY {keys} ORDER BY {keys} ON CONFLICT ({keys}) DO UPDATE SET {updates}",
        params,
    )


# --- the applier -----------------------------------------------------------------------------------------------


def _lease(*, wait: bool) -> RollupState | None:
    """The one rollup writer: the state row, locked (PostgreSQL: skipped when another writer holds it; SQLite:
    the update takes the database's write lock, so a second writer waits and then sees a drained queue)."""
    RollupState.objects.get_or_create(pk=1)
    state = RollupState.objects.select_for_update(skip_locked=not wait).filter(pk=1).first()
    if state is not None:
        RollupState.objects.filter(pk=1).update(applied_orders=F("applied_orders"))
    return state


@dataclass
class ApplyReport:
    orders: int = 0
    queue_rows: int = 0
    batches: int = 0
    seconds: float = 0.0

    def __str__(self):
        return f"{self.orders} orders from {self.queue_rows} queue entries in {self.batches} batches, {self.seconds:.2f} s"


def rollups_apply(*, batch: int = 2000, max_seconds: float = 20.0) -> ApplyReport:
    """Apply the queue to the facts and cubes, batch by batch, until it is empty or the time is up."""
    report = ApplyReport()
    started = time.monotonic()
    while True:
        orders, rows = _apply_batch(batch)
        if rows == 0:
            break
        report.orders += orders
        report.queue_rows += rows
        report.batches += 1
        if time.monotonic() - started > max_seconds:
            break
    report.seconds = time.monotonic() - started
    return report


def _apply_batch(batch: int) -> tuple[int, int]:
    with transaction.atomic():
        state = _lease(wait=False)
        if state is None:
            return 0, 0
        first = list(FactQueue.objects.order_by("id").values_list("order_id", flat=True)[:batch])
        order_ids = sorted(set(first))
        if not order_ids:
            return 0, 0
        # Every entry of these orders that is visible now, read before the orders are: all of them are covered.
        entries = list(FactQueue.objects.filter(order_id__in=order_ids).values_list("id", flat=True))
        with connection.cursor() as cursor:
            for cube in CUBES:
                _cube_upsert(cursor, cube, sign=-1, order_ids=order_ids)
            OrderFact.objects.filter(order_id__in=order_ids).delete()
            _facts_insert(cursor, fact_queryset(order_ids))
            for cube in CUBES:
                _cube_upsert(cursor, cube, sign=+1, order_ids=order_ids)
        for start in range(0, len(entries), 5000):
            FactQueue.objects.filter(id__in=entries[start:start + 5000]).delete()
        RollupState.objects.filter(pk=1).update(applied_at=timezone.now(),
                                                applied_orders=F("applied_orders") + len(order_ids))
        return len(order_ids), len(entries)


def rollups_rebuild(*, chunk: int = 250_000, progress=None) -> dict:
    """Recompute every fact from the orders and every cube from the facts, in one transaction (dashboards read
    the old numbers until it commits). The queue is left alone: what it still holds is applied afterwards."""
    timings = {}
    say = progress or (lambda message: None)
    with transaction.atomic():
        _lease(wait=True)
        started = time.monotonic()
        tables = [OrderFact._meta.db_table] + [cube.table for cube in CUBES]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"TRUNCATE {', '.join(_q(t) for t in tables)}")
            else:
                for table in tables:
                    cursor.execute(f"DELETE FROM {_q(table)}")
            bounds = WorkOrder.objects.order_by().values_list("pk", flat=True)
            low, high = bounds.order_by("pk").first(), bounds.order_by("-pk").first()
            if low is not None:
                for start in range(low, high + 1, chunk):
                    _facts_insert(cursor, fact_queryset(id_range=(start, start + chunk)))
                    say(f"facts up to order id {min(start + chunk, high + 1) - 1}")
            timings["facts"] = time.monotonic() - started
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {_q(OrderFact._meta.db_table)}")
            for cube in CUBES:
                cube_started = time.monotonic()
                _cube_upsert(cursor, cube, sign=+1, order_ids=None)
                timings[cube.name] = time.monotonic() - cube_started
                say(f"cube {cube.name}: {timings[cube.name]:.1f} s")
        RollupState.objects.filter(pk=1).update(rebuilt_at=timezone.now())
    timings["total"] = time.monotonic() - started
    return timings


BACKLOG_SHOWN = 10_000  # beyond it the page says only that the figures are behind (counting it would be slow)


def rollup_state() -> dict:
    """When the rollups last ran and how many changes wait: one statement (every dashboard page shows it)."""
    table = _q(FactQueue._meta.db_table)
    state = (RollupState.objects.filter(pk=1).values("applied_at", "snapshot_at")
             .annotate(waiting=RawSQL(f"SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT %s) q",
                                      [BACKLOG_SHOWN + 1])).first())
    if state is None:  # before the first run: the row is made once, the next page reads it with the rest
        RollupState.objects.get_or_create(pk=1)
        state = {"applied_at": None, "snapshot_at": None,
                 "waiting": FactQueue.objects.order_by()[:BACKLOG_SHOWN + 1].count()}
    waiting = state.pop("waiting")
    return {**state, "backlog": waiting if waiting <= BACKLOG_SHOWN else None}


# --- open orders ----------------------------------------------------------------------------------------------


def open_orders_snapshot(*, now=None) -> int:
    """Count open orders by region, department, status and deadline state; replaces the previous snapshot."""
    now = now or timezone.now()
    state = Case(
        When(stage_due_at__isnull=True, then=Value("none")),
        When(stage_due_at__lte=now, then=Value("overdue")),
        When(stage_warn_at__lte=now, then=Value("warning")),
        default=Value("on_track"),
    )
    rows = (
        WorkOrder.objects.filter(status__in=OPEN_STATUSES).order_by()
        .annotate(deadline_state=state,
                  city=Case(When(region__level__lte=2, then=F("region_id")), default=F("region__parent_id")),
                  department=Coalesce("current_department_id", Value(0)))
        .values("region_id", "city", "department", "status", "deadline_state")
        .annotate(n=Count("pk"))
    )
    counts = [OpenOrderCount(region_id=r["region_id"], city_id=r["city"], department_id=r["department"],
                             status=r["status"], deadline_state=r["deadline_state"], count=r["n"]) for r in rows]
    with transaction.atomic():
        OpenOrderCount.objects.all().delete()
        OpenOrderCount.objects.bulk_create(counts, batch_size=1000)
        RollupState.objects.get_or_create(pk=1)
        RollupState.objects.filter(pk=1).update(snapshot_at=now)
    return len(counts)
