"""Deadlines in business time: working hours, weekends, public holidays, make-up working
days (调休), and the round trip between adding and measuring business time."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foodflow.service.sla import Calendar, add_business_time, business_time_between

SH = ZoneInfo("Asia/Shanghai")
# National Day week of a year: 1–7 October off, the Sunday before and the Saturday after worked
NATIONAL_DAY = Calendar(
    holidays=frozenset(date(2026, 10, day) for day in range(1, 8)),
    workdays=frozenset({date(2026, 9, 27), date(2026, 10, 10)}),
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SH)


def test_within_one_working_day():
    monday = date(2026, 11, 23)
    assert add_business_time(Calendar(), at(monday, 10), timedelta(hours=4)) == at(monday, 14)


def test_the_rest_carries_over_to_the_next_opening():
    monday = date(2026, 11, 23)
    assert add_business_time(Calendar(), at(monday, 16), timedelta(hours=4)) == at(monday + timedelta(days=1), 11)


def test_received_at_night_or_on_a_weekend_counts_from_the_next_opening():
    friday, monday = date(2026, 11, 27), date(2026, 11, 30)
    assert add_business_time(Calendar(), at(friday, 20), timedelta(hours=2)) == at(monday, 11)
    assert add_business_time(Calendar(), at(date(2026, 11, 28), 10), timedelta(hours=1)) == at(monday, 10)
    assert add_business_time(Calendar(), at(friday, 7), timedelta(hours=1)) == at(friday, 10)


def test_a_public_holiday_is_skipped_and_a_make_up_saturday_is_worked():
    # received on 30 September at 17:00 with 8 hours: 1 hour that day, then the holiday week;
    # Saturday 10 October is a working day
    assert add_business_time(NATIONAL_DAY, at(date(2026, 9, 30), 17), timedelta(hours=8)) == at(date(2026, 10, 8), 16)
    assert add_business_time(NATIONAL_DAY, at(date(2026, 10, 9), 17), timedelta(hours=2)) == at(date(2026, 10, 10), 10)
    # the make-up Sunday before the holiday counts too
    assert NATIONAL_DAY.is_working_day(date(2026, 9, 27))
    assert not NATIONAL_DAY.is_working_day(date(2026, 10, 5))


def test_business_time_between_counts_only_hours_worked():
    friday, monday = date(2026, 11, 27), date(2026, 11, 30)
    assert business_time_between(Calendar(), at(friday, 17), at(monday, 10)) == timedelta(hours=2)
    assert business_time_between(Calendar(), at(monday, 10), at(friday, 17)) == -timedelta(hours=2)
    assert business_time_between(Calendar(), at(date(2026, 11, 28), 9), at(date(2026, 11, 29), 18)) == timedelta(0)


def test_a_calendar_must_close_after_it_opens():
    with pytest.raises(ValueError):
        Calendar(opens=time(18), closes=time(9))


@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 20),
)
def test_adding_then_measuring_gives_the_duration_back(start, minutes):
    start = start.replace(tzinfo=SH)
    duration = timedelta(minutes=minutes)
    due = add_business_time(NATIONAL_DAY, start, duration)
    assert due >= start
    assert business_time_between(NATIONAL_DAY, start, due) == duration
    # and the deadline is never outside the desk's hours (unless nothing was to be added)
    if minutes:
        local = due.astimezone(SH)
        assert NATIONAL_DAY.is_working_day(local.date())
        assert time(9) < local.time() <= time(18)
