"""Order numbers: a prefix per kind, a day in Asia/Shanghai, and a per-day sequence.

A live order (browser, API) is numbered on the day it is created in the system, whatever received time its channel
system gives: numbers are unique and grow in the order orders were logged, and nothing logged today takes a number
of a day that is over. Only the historical import numbers an order by the day it was received, drawing on the same
per-day counters (so never a number twice) and marking the order as imported (WorkOrder.source).
"""

from datetime import date, datetime

from django.utils import timezone

from complaints.models import Kind, OrderSource
from core.counters import day_number_format, day_number_next, day_numbers_take

PREFIXES = {Kind.COMPLAINT: "TS", Kind.INQUIRY: "ZX", Kind.SUGGESTION: "JY"}
# One sequence per day for the three kinds (TS…000001, ZX…000002): the kernel's day counter of this series.
SERIES = "order"


def order_number_day(*, source: str, received_at: datetime) -> date:
    """The day whose sequence an order's number is taken from (see the module's docstring)."""
    return timezone.localdate(received_at if source == OrderSource.IMPORT else timezone.now())


def order_number_next(*, kind: str, day: date) -> str:
    """Atomically take the next number of the day (core.counters: concurrent callers queue on the day's row, held
    until their transaction commits, so no two orders ever share a number)."""
    return day_number_format(prefix=PREFIXES[kind], day=day, sequence=day_number_next(series=SERIES, day=day))


def order_numbers_take(*, kind_days: list[tuple[str, datetime]]) -> list[str]:
    """Numbers for many orders at once (the historical import): one upsert per receiving day takes a block of that
    day's sequence; each order gets the next number of its day in the order given."""
    counts: dict[date, int] = {}
    for _kind, received_at in kind_days:
        day = timezone.localdate(received_at)
        counts[day] = counts.get(day, 0) + 1
    next_of = day_numbers_take(series=SERIES, counts=counts)
    numbers = []
    for kind, received_at in kind_days:
        day = timezone.localdate(received_at)
        numbers.append(day_number_format(prefix=PREFIXES[kind], day=day, sequence=next_of[day]))
        next_of[day] += 1
    return numbers
