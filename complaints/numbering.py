"""Order numbers: a prefix per kind, a day in Asia/Shanghai, and a per-day sequence.

A live order (browser, API) is numbered on the day it is created in the system, whatever received time its channel
system gives: numbers are unique and grow in the order orders were logged, and nothing logged today takes a number
of a day that is over. Only the historical import numbers an order by the day it was received, drawing on the same
per-day counters (so never a number twice) and marking the order as imported (WorkOrder.source).
"""

from datetime import date, datetime

from django.db import connection
from django.utils import timezone

from complaints.models import Kind, OrderNumberCounter

PREFIXES = {Kind.COMPLAINT: "TS", Kind.INQUIRY: "ZX", Kind.SUGGESTION: "JY"}
SEQUENCE_DIGITS = 6


def order_number_day(*, source: str, received_at: datetime) -> date:
    """The day whose sequence an order's number is taken from (see the module's docstring)."""
    from complaints.models import OrderSource

    return timezone.localdate(received_at if source == OrderSource.IMPORT else timezone.now())


def order_number_next(*, kind: str, day: date) -> str:
    """Atomically take the next number of the day. One upsert: concurrent callers queue on the day's row
    (held until their transaction commits), so no two orders ever share a number."""
    table = connection.ops.quote_name(OrderNumberCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [day],
        )
        (sequence,) = cursor.fetchone()
    return f"{PREFIXES[kind]}{day:%Y%m%d}{sequence:0{SEQUENCE_DIGITS}d}"


def order_numbers_take(*, kind_days: list[tuple[str, datetime]]) -> list[str]:
    """Numbers for many orders at once (the historical import): one upsert per receiving day takes a block of that
    day's sequence; each order gets the next number of its day in the order given."""
    days: dict = {}
    for _kind, received_at in kind_days:
        day = timezone.localdate(received_at)
        days[day] = days.get(day, 0) + 1
    table = connection.ops.quote_name(OrderNumberCounter._meta.db_table)
    next_of: dict = {}
    with connection.cursor() as cursor:
        for day in sorted(days):
            cursor.execute(
                f"INSERT INTO {table} (day, last) VALUES (%s, %s) "
                f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + EXCLUDED.last RETURNING last",
                [day, days[day]],
            )
            (last,) = cursor.fetchone()
            next_of[day] = last - days[day] + 1
    numbers = []
    for kind, received_at in kind_days:
        day = timezone.localdate(received_at)
        numbers.append(f"{PREFIXES[kind]}{day:%Y%m%d}{next_of[day]:0{SEQUENCE_DIGITS}d}")
        next_of[day] += 1
    return numbers
