"""Timed rows and the sweep step every clock of the product shares.

A deadline is a column, not a timer: a row carries the moment it falls due (`due_at`) and its warning point
(`warn_at`), and the sweep stamps `warned_at` / `overdue_at` once it has seen them pass, with the moment they really
passed (after downtime it catches up with the true times, not the time it ran). The open rows are found through a
partial index per point (`timed_indexes`), so an empty sweep reads a handful of index pages.

`sweep_due` is one step of a sweep, in the healthchecks pattern:

In one transaction: claim a batch of due rows with SELECT … FOR UPDATE SKIP LOCKED (two sweeps at once take
different rows, and neither waits for a user working on one of them), let the caller `record` what must exist if
and only if the stamp does (audit events, alerts), stamp the rows with their true moment, and hand them to the
caller's `notify` step, which writes the inbox rows (the outbox: e-mail goes out later from those rows, in
workflow.notifications, never inside this transaction). A stamped row is never claimed again; a stamp never
commits without its notices (a crash after the commit loses nothing) and no notice without its stamp.

No domain here: each app passes its own queryset (what "open" means for it) and its own record and notify steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import models, transaction
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class TimedRow(models.Model):
    """A row with one clock. A model may override a field to give it its own label ("promised answer by")."""

    due_at = models.DateTimeField(_("due at"))
    warn_at = models.DateTimeField(_("warning at"))
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("overdue at"), null=True, blank=True)

    class Meta:
        abstract = True


@dataclass(frozen=True)
class Point:
    """A moment a sweep looks for: the column holding it, and the column stamped with it once seen (None when the
    caller's record step moves the row out of the queryset, or the point on, itself)."""

    at: str
    stamp: str | None


WARNING = Point("warn_at", "warned_at")
OVERDUE = Point("due_at", "overdue_at")


def timed_indexes(*, prefix: str, open_rows: dict) -> list[models.Index]:
    """The partial indexes a TimedRow's sweep reads: open rows (`open_rows`: their lookups) not yet warned, by
    warning point, and not yet overdue, by deadline. Named `<prefix>_warn_due` and `<prefix>_overdue_due`."""
    return [
        models.Index(fields=[point.at], name=f"{prefix}_{name}_due",
                     condition=Q(**open_rows, **{f"{point.stamp}__isnull": True}))
        for name, point in (("warn", WARNING), ("overdue", OVERDUE))
    ]


Rows = list[models.Model]


def sweep_due(queryset: models.QuerySet, point: Point, *, now: datetime, limit: int,
              record: Callable[[Rows], Rows | None] | None = None,
              notify: Callable[[Rows], object] | None = None,
              lock: Sequence[str] = ("self",)) -> Rows:
    """Claim up to `limit` rows of `queryset` whose `point` has passed by `now` and is not stamped yet (earliest
    first), SKIP LOCKED; `record(rows)`, which may return the rows it acted on (None: all); stamp those with their
    true moment; `notify(rows)` (inbox rows); all in one transaction. Returns the rows (empty: nothing was due).

    `lock` names the tables locked with the row (`of=`; a skipped one skips the row). Called inside a caller's
    transaction, the step is a savepoint of it: the periodic tasks call it outside any."""
    due = queryset.filter(**{f"{point.at}__lte": now})
    if point.stamp is not None:
        due = due.filter(**{f"{point.stamp}__isnull": True})
    with transaction.atomic():
        rows = list(due.select_for_update(skip_locked=True, of=tuple(lock)).order_by(point.at)[:limit])
        if not rows:
            return []
        if record is not None:
            acted = record(rows)
            rows = rows if acted is None else list(acted)
        if point.stamp is not None and rows:
            queryset.model._default_manager.filter(pk__in=[row.pk for row in rows]).update(
                **{point.stamp: F(point.at)})
            for row in rows:
                setattr(row, point.stamp, getattr(row, point.at))
        if notify is not None and rows:
            notify(rows)
    return rows


def sweep_all(queryset: models.QuerySet, point: Point, *, now: datetime, limit: int, **steps) -> int:
    """`sweep_due` batch after batch until nothing is due; how many rows were handled."""
    return sweep_until_done(lambda: len(sweep_due(queryset, point, now=now, limit=limit, **steps)))


def sweep_until_done(step: Callable[[], int]) -> int:
    """Run a step until it finds nothing; the total it reported (a row that caught up through several points comes
    back once per point)."""
    total = 0
    while done := step():
        total += done
    return total
