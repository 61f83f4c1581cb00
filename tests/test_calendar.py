"""Deadline arithmetic on the business calendar (pure: no database). The day table is the one the `holidays`
package gives for 2026 (with its make-up working days); 2027's official notice is not in it yet."""

from datetime import date, datetime, time, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.calendar import SHANGHAI, Unit, WorkCalendar

OFFICE = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return build_calendar()


def build_calendar() -> WorkCalendar:
    known = holidays.CN(years=[2025, 2026])
    days = {day: False for day in known}
    days.update({day: True for day in known.weekend_workdays if day.year in (2025, 2026)})
    rules = frozenset(holidays.CN(years=[2027]))
    return WorkCalendar(periods={weekday: OFFICE for weekday in range(5)}, days=days,
                        confirmed_years=frozenset({2025, 2026}), rule_holidays=rules)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def hours(cal, start, n):
    return cal.add_limit(start, n, Unit.WORKING_HOURS)


def test_working_hours_skip_the_lunch_break(cal):
    assert hours(cal, at(2026, 11, 23, 11, 0), 2).at == at(2026, 11, 23, 14, 30)


def test_working_hours_skip_the_weekend(cal):
    # Friday 16:00–17:30 gives 1.5 h; the other 2.5 h run from Monday 08:30.
    assert hours(cal, at(2026, 11, 27, 16, 0), 4).at == at(2026, 11, 30, 11, 0)


def test_spring_festival_week_and_its_make_up_saturday(cal):
    # Saturday 14 February 2026 is a make-up working day; 16–23 February are off.
    assert hours(cal, at(2026, 2, 13, 17, 0), 1).at == at(2026, 2, 14, 9, 0)
    assert hours(cal, at(2026, 2, 14, 17, 0), 1).at == at(2026, 2, 24, 9, 0)
    assert cal.add_limit(at(2026, 2, 13, 10, 0), 2, Unit.WORKING_DAYS).at == at(2026, 2, 24, 10, 0)


def test_national_day_week(cal):
    assert hours(cal, at(2026, 9, 30, 17, 0), 1).at == at(2026, 10, 8, 9, 0)
    # Saturday 10 October is a make-up working day.
    assert cal.is_working_day(date(2026, 10, 10)) and not cal.is_working_day(date(2026, 10, 5))


def test_starting_outside_working_hours(cal):
    monday = at(2026, 11, 23, 7, 0)
    assert hours(cal, monday, 1).at == at(2026, 11, 23, 9, 30)
    assert cal.add_working_seconds(at(2026, 11, 23, 12, 30), 30 * 60).at == at(2026, 11, 23, 14, 0)
    assert cal.add_working_seconds(at(2026, 11, 23, 19, 0), 60).at == at(2026, 11, 24, 8, 31)


def test_three_working_days_is_the_same_clock_time_on_the_third_working_day(cal):
    assert cal.add_limit(at(2026, 11, 27, 16, 0), 3, Unit.WORKING_DAYS).at == at(2026, 12, 2, 16, 0)
    # Received on a Sunday: counted from Monday 08:30.
    assert cal.add_limit(at(2026, 11, 29, 10, 0), 3, Unit.WORKING_DAYS).at == at(2026, 12, 3, 8, 30)
    # Received in the evening: counted from the next morning.
    assert cal.add_limit(at(2026, 11, 23, 20, 0), 1, Unit.WORKING_DAYS).at == at(2026, 11, 25, 8, 30)


def test_the_turn_of_the_year_into_an_unconfirmed_year_still_gives_a_deadline(cal):
    # 30 December 2026 (Wednesday) + 3 working days: 31 Dec, then 1 Jan 2027 is a rule-based holiday.
    result = cal.add_limit(at(2026, 12, 30, 10, 0), 3, Unit.WORKING_DAYS)
    assert result.at == at(2027, 1, 5, 10, 0)
    assert result.unconfirmed
    assert not cal.add_limit(at(2026, 12, 1, 10, 0), 3, Unit.WORKING_DAYS).unconfirmed


def test_clock_units_ignore_the_calendar(cal):
    night = at(2026, 2, 17, 3, 0)  # Spring Festival, 3 a.m.
    assert cal.add_limit(night, 15, Unit.CLOCK_MINUTES).at == at(2026, 2, 17, 3, 15)
    assert cal.add_limit(night, 24, Unit.CLOCK_HOURS).at == at(2026, 2, 18, 3, 0)


def test_the_warning_point_is_measured_in_the_limits_kind_of_time(cal):
    start = at(2026, 11, 23, 10, 0)
    due = cal.add_limit(start, 24, Unit.CLOCK_HOURS).at
    assert cal.point_between(start, due, Unit.CLOCK_HOURS, 80) == start + timedelta(hours=19.2)
    due = cal.add_limit(start, 3, Unit.WORKING_DAYS).at
    warn = cal.point_between(start, due, Unit.WORKING_DAYS, 80)
    assert start < warn < due
    assert cal.working_seconds_between(start, warn) == pytest.approx(0.8 * cal.working_seconds_between(start, due))


def test_a_pause_moves_the_deadline_by_the_time_paused(cal):
    due = at(2026, 11, 30, 11, 0)
    # Paused from Friday 17:00 to Monday 09:00: half an hour of working time on each side.
    assert cal.shift(due, at(2026, 11, 27, 17, 0), at(2026, 11, 30, 9, 0), Unit.WORKING_HOURS) == at(
        2026, 11, 30, 12, 0)
    assert cal.shift(due, at(2026, 11, 27, 17, 0), at(2026, 11, 30, 9, 0), Unit.CLOCK_HOURS) == due + timedelta(
        hours=64)


def test_a_calendar_without_working_periods_is_refused():
    from workflow.calendar import CalendarError

    with pytest.raises(CalendarError):
        WorkCalendar(periods={})


moments = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 28)).map(
    lambda naive: naive.replace(tzinfo=SHANGHAI, microsecond=0))
durations = st.integers(min_value=0, max_value=60 * 8 * 30) .map(lambda minutes: minutes * 60)


@settings(max_examples=300, deadline=None)
@given(start=moments, seconds=durations)
def test_adding_then_measuring_working_time_round_trips(start, seconds):
    cal = build_calendar()
    end = cal.add_working_seconds(start, seconds).at
    assert end >= start
    assert cal.working_seconds_between(start, end) == seconds


@settings(max_examples=200, deadline=None)
@given(start=moments, first=durations, second=durations)
def test_more_working_time_never_ends_earlier(start, first, second):
    cal = build_calendar()
    low, high = sorted((first, second))
    assert cal.add_working_seconds(start, low).at <= cal.add_working_seconds(start, high).at


@settings(max_examples=200, deadline=None)
@given(start=moments, days=st.integers(min_value=0, max_value=30))
def test_working_day_deadlines_land_in_working_time(start, days):
    cal = build_calendar()
    due = cal.add_working_days(start, days).at
    assert due >= start
    assert any(a <= due <= b for a, b in cal.periods_on(due.date()))
