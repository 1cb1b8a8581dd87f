"""Service level deadlines in business time.

A deadline of "8 business hours" counts only the service desk's working hours: the working
days of the week, minus public holidays, plus the make-up working days (调休) that fall on a
weekend. ``Calendar`` is plain data so the arithmetic is exact and testable on its own;
``calendar_load`` reads it from the database (service hours and holidays)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


@dataclass(frozen=True)
class Calendar:
    opens: time = time(9, 0)
    closes: time = time(18, 0)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)  # make-up working days (调休)
    zone: str = "Asia/Shanghai"

    def __post_init__(self):
        if self.closes <= self.opens:
            raise ValueError("the desk must close after it opens")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() in self.weekdays and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.opens, tzinfo=self.tz),
            datetime.combine(day, self.closes, tzinfo=self.tz),
        )

    def _next_working_day(self, day: date) -> date:
        for _ in range(3660):  # ten years: a calendar without working days is an error
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError("no working day in ten years")


def add_business_time(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The moment ``duration`` of business time after ``start`` (an aware datetime). Work
    received outside hours starts counting at the next opening."""
    if duration < timedelta(0):
        raise ValueError("a duration is not negative")
    moment = start.astimezone(calendar.tz)
    day = moment.date()
    if not calendar.is_working_day(day):
        day = calendar._next_working_day(day)
        moment = calendar._window(day)[0]
    remaining = duration
    while True:
        opens, closes = calendar._window(day)
        if moment < opens:
            moment = opens
        if moment < closes:
            available = closes - moment
            if remaining <= available:
                return moment + remaining
            remaining -= available
        day = calendar._next_working_day(day)
        moment = calendar._window(day)[0]


def business_time_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Business time from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    if end < start:
        return -business_time_between(calendar, end, start)
    start, end = start.astimezone(calendar.tz), end.astimezone(calendar.tz)
    total = timedelta(0)
    day = start.date()
    while day <= end.date():
        if calendar.is_working_day(day):
            opens, closes = calendar._window(day)
            lower, upper = max(opens, start), min(closes, end)
            if upper > lower:
                total += upper - lower
        day += timedelta(days=1)
    return total


def calendar_load() -> Calendar:
    """The service desk's calendar as configured (hours and holidays)."""
    from .models import Holiday, ServiceHours

    hours = ServiceHours.objects.order_by("pk").first() or ServiceHours()
    holidays, workdays = set(), set()
    for day, is_workday in Holiday.objects.values_list("day", "is_workday"):
        (workdays if is_workday else holidays).add(day)
    return Calendar(
        opens=hours.opens,
        closes=hours.closes,
        weekdays=frozenset(hours.weekdays),
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        zone=settings.TIME_ZONE,
    )
