"""Working-time arithmetic on a business calendar. Pure: no database, no clock; everything it needs is in the
WorkCalendar value (built from the database by workflow.calendars).

Definitions, used everywhere a deadline is computed:

- A **working day** is a date the day table marks as working (a make-up Saturday, 调休), or else a weekday that
  has working periods in the calendar and is not a holiday (the table's, or for a year whose official notice is
  not in the table yet, a rule-based holiday).
- **Working time** is the union of a working day's periods (e.g. 08:30–12:00 and 13:30–17:30). A make-up day on a
  weekend uses the hours of the calendar's first weekday with periods (Monday's).
- **N working hours** after a moment: the moment reached after N×60 minutes of working time, counting from the
  moment itself if it lies in working time, else from the next working period's start.
- **N working days** after a moment: the same clock time on the N-th working day after the (effective) start,
  where the effective start is the moment itself if it lies in working time, else the start of the next working
  period. If that clock time is not working time on the N-th day (different hours), the next working moment of
  that day is taken, or the end of its last period. So a complaint received on Friday 16:00 with 3 working days
  is due Wednesday 16:00; one received on Saturday is due on Thursday 08:30 (Monday 08:30 plus 3 working days).
- A result is **unconfirmed** when the computation crossed a year whose official holiday notice is not in the
  table yet: it still stands (weekdays and rule-based holidays) and is marked so.

All datetimes are aware; working hours are Asia/Shanghai wall-clock times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_DAYS_SCANNED = 800  # a calendar with no working day in two years is an error, not a reason to loop forever


class Unit:
    CLOCK_MINUTES = "clock_minutes"
    CLOCK_HOURS = "clock_hours"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    CLOCK = frozenset({CLOCK_MINUTES, CLOCK_HOURS})
    ALL = (CLOCK_MINUTES, CLOCK_HOURS, WORKING_HOURS, WORKING_DAYS)


class CalendarError(Exception):
    """The calendar cannot answer (no working time in sight)."""


@dataclass(frozen=True)
class Result:
    at: datetime
    unconfirmed: bool = False


@dataclass(frozen=True)
class WorkCalendar:
    # weekday (0 = Monday) -> working periods as (start, end) wall-clock times, in order, not overlapping
    periods: dict[int, tuple[tuple[time, time], ...]]
    # the day table: date -> working or not (holidays, make-up working days, local changes)
    days: dict[date, bool] = field(default_factory=dict)
    # years whose official notice is in the table
    confirmed_years: frozenset[int] = frozenset()
    # rule-based holidays used for years that are not confirmed
    rule_holidays: frozenset[date] = frozenset()

    def __post_init__(self):
        if not any(self.periods.values()):
            raise CalendarError("The calendar has no working periods on any weekday.")

    # --- days ---

    def is_working_day(self, day: date) -> bool:
        if day in self.days:
            return self.days[day]
        if day.year not in self.confirmed_years and day in self.rule_holidays:
            return False
        return bool(self.periods.get(day.weekday()))

    def _spans(self, day: date) -> tuple[tuple[time, time], ...]:
        spans = self.periods.get(day.weekday())
        if not spans:  # a make-up working day on a weekend: the standard day's hours
            spans = next(self.periods[weekday] for weekday in range(7) if self.periods.get(weekday))
        return spans

    def periods_on(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        return [(datetime.combine(day, start, SHANGHAI), datetime.combine(day, end, SHANGHAI))
                for start, end in self._spans(day)]

    def confirmed(self, first: date, last: date) -> bool:
        return all(year in self.confirmed_years for year in range(first.year, last.year + 1))

    # --- moments ---

    def next_working_moment(self, moment: datetime) -> datetime:
        """The moment itself if it lies in working time, else the start of the next working period."""
        moment = moment.astimezone(SHANGHAI)
        day = moment.date()
        for _ in range(MAX_DAYS_SCANNED):
            for start, end in self.periods_on(day):
                if moment < end:
                    return max(moment, start)
            day += timedelta(days=1)
        raise CalendarError(f"No working time within {MAX_DAYS_SCANNED} days after {moment:%Y-%m-%d}.")

    def add_working_seconds(self, start: datetime, seconds: float) -> Result:
        """The moment reached after `seconds` of working time from `start`."""
        if seconds < 0:
            raise ValueError("Working time to add cannot be negative.")
        start = start.astimezone(SHANGHAI)
        if seconds == 0:
            return Result(start, not self.confirmed(start.date(), start.date()))
        remaining = timedelta(seconds=seconds)
        cursor, day = start, start.date()
        for _ in range(MAX_DAYS_SCANNED):
            for period_start, period_end in self.periods_on(day):
                if period_end <= cursor:
                    continue
                begin = max(period_start, cursor)
                available = period_end - begin
                if remaining <= available:
                    at = begin + remaining
                    return Result(at, not self.confirmed(start.date(), at.date()))
                remaining -= available
            day += timedelta(days=1)
            cursor = datetime.combine(day, time.min, SHANGHAI)
        raise CalendarError(f"No working time within {MAX_DAYS_SCANNED} days after {start:%Y-%m-%d}.")

    def working_seconds_between(self, first: datetime, last: datetime) -> float:
        """Working time between two moments (negative when `last` is before `first`)."""
        if last < first:
            return -self.working_seconds_between(last, first)
        first, last = first.astimezone(SHANGHAI), last.astimezone(SHANGHAI)
        total = timedelta()
        day = first.date()
        while day <= last.date():
            for period_start, period_end in self.periods_on(day):
                begin, end = max(period_start, first), min(period_end, last)
                if end > begin:
                    total += end - begin
            day += timedelta(days=1)
        return total.total_seconds()

    def add_working_days(self, start: datetime, days: int) -> Result:
        """The same clock time on the `days`-th working day after the effective start (see the module doc)."""
        if days < 0:
            raise ValueError("Working days to add cannot be negative.")
        effective = self.next_working_moment(start)
        day, counted = effective.date(), 0
        for _ in range(MAX_DAYS_SCANNED):
            if counted == days:
                break
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        else:
            raise CalendarError(f"Fewer than {days} working days within {MAX_DAYS_SCANNED} days.")
        candidate = datetime.combine(day, effective.time(), SHANGHAI)
        periods = self.periods_on(day)
        at = None
        for period_start, period_end in periods:
            if candidate < period_end:
                at = max(candidate, period_start)
                break
        if at is None:
            at = periods[-1][1]
        return Result(at, not self.confirmed(start.astimezone(SHANGHAI).date(), at.date()))

    # --- limits ---

    def add_limit(self, start: datetime, amount: int, unit: str) -> Result:
        if unit == Unit.CLOCK_MINUTES:
            return Result(start + timedelta(minutes=amount))
        if unit == Unit.CLOCK_HOURS:
            return Result(start + timedelta(hours=amount))
        if unit == Unit.WORKING_HOURS:
            return self.add_working_seconds(start, amount * 3600)
        if unit == Unit.WORKING_DAYS:
            return self.add_working_days(start, amount)
        raise ValueError(f"Unknown unit {unit!r}.")

    def point_between(self, start: datetime, due: datetime, unit: str, percent: int) -> datetime:
        """The moment `percent` of the way from start to due, measured in the limit's own kind of time
        (clock time for clock units, working time for working units): the warning point."""
        if unit in Unit.CLOCK:
            return start + (due - start) * percent / 100
        span = self.working_seconds_between(start, due)
        return self.add_working_seconds(start, span * percent / 100).at

    def shift(self, moment: datetime, pause_start: datetime, pause_end: datetime, unit: str) -> datetime:
        """Move a deadline on by the time a stage was paused, in the limit's own kind of time."""
        if unit in Unit.CLOCK:
            return moment + (pause_end - pause_start)
        return self.add_working_seconds(moment, max(0.0, self.working_seconds_between(pause_start, pause_end))).at
