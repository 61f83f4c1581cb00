"""Order numbers: a prefix per kind, the receiving day in Asia/Shanghai, and a per-day sequence."""

from datetime import datetime

from django.db import connection
from django.utils import timezone

from complaints.models import Kind, OrderNumberCounter

PREFIXES = {Kind.COMPLAINT: "TS", Kind.INQUIRY: "ZX", Kind.SUGGESTION: "JY"}
SEQUENCE_DIGITS = 6


def order_number_next(*, kind: str, received_at: datetime) -> str:
    """Atomically take the next number of the day. One upsert: concurrent callers queue on the day's row
    (held until their transaction commits), so no two orders ever share a number."""
    day = timezone.localdate(received_at)
    table = connection.ops.quote_name(OrderNumberCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [day],
        )
        (sequence,) = cursor.fetchone()
    return f"{PREFIXES[kind]}{day:%Y%m%d}{sequence:0{SEQUENCE_DIGITS}d}"
