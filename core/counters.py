"""Day-numbered counters: a series ("order", "support"…) restarts at 1 every day, and no number is taken twice.

One upsert on the day's row (PostgreSQL, and SQLite ≥ 3.35 for the zero-setup default) both creates the row and
takes the next number. The row stays locked by the taker's transaction until it commits or rolls back, so:

- concurrent takers of one series and day queue on the row and get distinct numbers;
- a rolled-back transaction gives its number back (the increment is undone with it): the numbers are gapless;
- the numbers follow the commit order, as long as the number is taken as the transaction's LAST step. Taken
  earlier, the row is held through everything that follows and every taker of the day queues behind it (the order
  intake's load test: ~15 creates/s at most, whatever the hardware). Callers insert their row with a provisional
  number and write the real one just before the commit.

Different series, and different days of one series, are different rows and never wait on each other.
"""

from datetime import date

from django.db import connection

from core.models import DayCounter

SEQUENCE_DIGITS = 6


def _table() -> str:
    return connection.ops.quote_name(DayCounter._meta.db_table)


def day_number_next(*, series: str, day: date) -> int:
    """Take the next number of the series' day (1 for the day's first). One statement; see the module's docstring
    for when to call it."""
    table = _table()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (series, day, last) VALUES (%s, %s, 1) "
            f"ON CONFLICT (series, day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [series, day],
        )
        (sequence,) = cursor.fetchone()
    return sequence


def day_numbers_take(*, series: str, counts: dict[date, int]) -> dict[date, int]:
    """Take a block of `counts[day]` consecutive numbers of each day at once (bulk imports): one upsert per day,
    days in ascending order (so two bulk takers lock their rows in the same order and cannot deadlock). Returns the
    first number of each day's block."""
    table = _table()
    first: dict[date, int] = {}
    with connection.cursor() as cursor:
        for day in sorted(counts):
            count = counts[day]
            cursor.execute(
                f"INSERT INTO {table} (series, day, last) VALUES (%s, %s, %s) "
                f"ON CONFLICT (series, day) DO UPDATE SET last = {table}.last + EXCLUDED.last RETURNING last",
                [series, day, count],
            )
            (last,) = cursor.fetchone()
            first[day] = last - count + 1
    return first


def day_number_format(*, prefix: str, day: date, sequence: int, digits: int = SEQUENCE_DIGITS) -> str:
    """The printed number: prefix, the day as YYYYMMDD, the sequence zero-padded (TS20261001000001)."""
    return f"{prefix}{day:%Y%m%d}{sequence:0{digits}d}"
