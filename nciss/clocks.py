"""Clocks: working time over a business calendar, response targets with pauses, reminders.

A ``BusinessCalendar`` (time zone, working days, opening hours, public holidays) says when
a business-hours response target's clock runs; pauses (the CSIRT waiting on the reporter)
stop every response clock; both only ever move a due time later. Regulatory deadlines run
on plain calendar time (``nciss.deadlines``) and get reminders shortly before they fall due.
Everything here is pure: times in, times out (always aware; results in UTC).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nciss.deadlines import DeadlineStatus, add
from nciss.scales import Duration, Level
from nciss.texts import Text

UTC = dt.UTC
Interval = tuple[dt.datetime, dt.datetime]
Pause = tuple[dt.datetime, dt.datetime | None]  # an end of None: still paused
STEPS = ("triage", "first_response", "resolution")
STEP_NAMES = {
    "triage": Text({"en": "Triage", "ru": "Первичная оценка", "uz": "Dastlabki baholash"}),
    "first_response": Text({"en": "First response", "ru": "Первый ответ", "uz": "Birinchi javob"}),
    "resolution": Text({"en": "Resolution", "ru": "Устранение", "uz": "Bartaraf etish"}),
}
CALENDAR_FIELDS = ("time_zone", "working_days", "hours", "holidays")
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
_YEARLY = re.compile(r"^(\d\d)-(\d\d)$")
_DATED = re.compile(r"^(\d{4})-(\d\d)-(\d\d)$")
_FOREVER = dt.datetime.max.replace(tzinfo=UTC)
_SEARCH_DAYS = 40 * 366  # a calendar with no working day in this long has none at all


class CalendarError(ValueError):
    """An invalid business calendar; ``errors`` holds (path, reason) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{p}: {r}" for p, r in errors))


@dataclass(frozen=True)
class BusinessCalendar:
    """When people work: ISO weekdays (Monday 1), opening hours in minutes after local midnight, holidays."""

    time_zone: str = "UTC"
    working_days: frozenset[int] = frozenset(range(1, 8))
    opens: int = 0
    closes: int = 1440
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()  # (month, day), every year
    holidays: frozenset[dt.date] = frozenset()  # one-off dates

    @classmethod
    def from_json(cls, data: Any) -> BusinessCalendar:
        """Read an organisation's ``reporting_calendar``; empty or None means around the clock.

        ``{"time_zone": "Asia/Tashkent", "working_days": [1, 2, 3, 4, 5],
        "hours": {"start": "09:00", "end": "18:00"}, "holidays": ["01-01", "2026-03-20"]}``:
        a holiday is a month-day every year or one full date. CalendarError lists every problem.
        """
        if data is None or data == {}:
            return AROUND_THE_CLOCK
        if not isinstance(data, Mapping):
            raise CalendarError([("(top)", "expected a mapping with time_zone, working_days, hours and holidays")])
        errors: list[tuple[str, str]] = [(str(k), "unknown field") for k in data if k not in CALENDAR_FIELDS]
        errors += [(k, "required") for k in CALENDAR_FIELDS[:3] if k not in data]
        zone = _time_zone(data.get("time_zone"), errors) if "time_zone" in data else "UTC"
        days = _working_days(data.get("working_days"), errors) if "working_days" in data else frozenset()
        opens, closes = _hours(data.get("hours"), errors) if "hours" in data else (0, 1440)
        yearly, dated = _holidays(data.get("holidays", []), errors)
        if len(yearly) >= 366:
            errors.append(("holidays", "leave at least one working day in the year"))
        if errors:
            raise CalendarError(errors)
        return cls(zone, days, opens, closes, yearly, dated)

    @property
    def around_the_clock(self) -> bool:
        return len(self.working_days) == 7 and self.opens == 0 and self.closes == 1440 and not self.has_holidays

    @property
    def has_holidays(self) -> bool:
        return bool(self.yearly_holidays or self.holidays)

    @property
    def working_day(self) -> dt.timedelta:
        """The length of one working day."""
        return dt.timedelta(minutes=self.closes - self.opens)

    def describe(self) -> str:
        """In words, e.g. "Mon-Fri 09:00-18:00 Asia/Tashkent, public holidays off"."""
        if self.around_the_clock:
            return "around the clock"
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        days = sorted(self.working_days)
        if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            day_text = f"{names[days[0] - 1]}-{names[days[-1] - 1]}"
        else:
            day_text = ", ".join(names[d - 1] for d in days)
        hours = f"{self.opens // 60:02d}:{self.opens % 60:02d}-{self.closes // 60:02d}:{self.closes % 60:02d}"
        return f"{day_text} {hours} {self.time_zone}" + (", public holidays off" if self.has_holidays else "")

    def is_working_day(self, day: dt.date) -> bool:
        return (
            day.isoweekday() in self.working_days
            and (day.month, day.day) not in self.yearly_holidays
            and day not in self.holidays
        )

    def open_intervals(self, start: dt.datetime) -> Iterator[Interval]:
        """The working intervals from ``start`` on, in UTC, the first one cut at ``start``; endless."""
        start = start.astimezone(UTC)
        if self.around_the_clock:
            yield start, _FOREVER
            return
        day = start.astimezone(ZoneInfo(self.time_zone)).date()
        idle = 0
        while idle < _SEARCH_DAYS:
            hours = _working_hours(self, day)
            if hours is None:
                idle += 1
            else:
                idle = 0
                begin, end = max(hours[0], start), hours[1]
                if end > begin:
                    yield begin, end
            day += dt.timedelta(days=1)
        raise ValueError("the calendar has no working time")


AROUND_THE_CLOCK = BusinessCalendar()


@lru_cache(maxsize=16384)
def _working_hours(calendar: BusinessCalendar, day: dt.date) -> Interval | None:
    """The working hours of ``day`` in UTC; None on a day off (or when a daylight-saving jump swallows them)."""
    if not calendar.is_working_day(day):
        return None
    zone = ZoneInfo(calendar.time_zone)
    begin, end = _at(day, calendar.opens, zone), _at(day, calendar.closes, zone)
    return (begin, end) if end > begin else None


def _at(day: dt.date, minutes: int, zone: ZoneInfo) -> dt.datetime:
    """``minutes`` after local midnight of ``day`` (1440: the next midnight), in UTC."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=zone) + dt.timedelta(days=minutes // 1440)
    local = local.replace(hour=minutes % 1440 // 60, minute=minutes % 60)
    return local.astimezone(UTC)


def _time_zone(value: Any, errors: list[tuple[str, str]]) -> str:
    reason = "unknown time zone: expected an IANA name such as Asia/Tashkent or UTC"
    if not isinstance(value, str) or not value:
        errors.append(("time_zone", reason))
        return "UTC"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(("time_zone", f"{value!r}: {reason}"))
        return "UTC"
    return value


def _working_days(value: Any, errors: list[tuple[str, str]]) -> frozenset[int]:
    reason = "expected a list of ISO weekdays, 1 (Monday) to 7 (Sunday)"
    if not isinstance(value, list) or not value:
        errors.append(("working_days", reason))
        return frozenset()
    days: set[int] = set()
    for i, day in enumerate(value):
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 7:
            errors.append((f"working_days[{i}]", reason))
        elif day in days:
            errors.append((f"working_days[{i}]", f"{day} is listed twice"))
        days.add(day)
    return frozenset(days)


def _hours(value: Any, errors: list[tuple[str, str]]) -> tuple[int, int]:
    if not isinstance(value, Mapping):
        errors.append(("hours", 'expected a mapping such as {"start": "09:00", "end": "18:00"}'))
        return 0, 1440
    errors.extend((f"hours.{k}", "unknown field") for k in value if k not in ("start", "end"))
    found = []
    for key in ("start", "end"):
        text = value.get(key)
        if key not in value:
            errors.append((f"hours.{key}", "required"))
        elif not isinstance(text, str) or not _CLOCK_TIME.match(text) or (key == "start" and text == "24:00"):
            errors.append((f"hours.{key}", "expected a time of day HH:MM, e.g. 09:00 (24:00 for midnight at the end)"))
        else:
            found.append(int(text[:2]) * 60 + int(text[3:]))
    if len(found) == 2 and found[0] >= found[1]:
        errors.append(("hours.end", "must be after the start (hours that span midnight are not supported)"))
    return (found[0], found[1]) if len(found) == 2 else (0, 1440)


def _holidays(value: Any, errors: list[tuple[str, str]]) -> tuple[frozenset[tuple[int, int]], frozenset[dt.date]]:
    if not isinstance(value, list):
        errors.append(("holidays", 'expected a list of dates: "MM-DD" every year or "YYYY-MM-DD" once'))
        return frozenset(), frozenset()
    yearly: set[tuple[int, int]] = set()
    dated: set[dt.date] = set()
    for i, text in enumerate(value):
        yearly_match = _YEARLY.match(text) if isinstance(text, str) else None
        dated_match = _DATED.match(text) if isinstance(text, str) else None
        try:
            if yearly_match:
                month, day = int(yearly_match.group(1)), int(yearly_match.group(2))
                dt.date(2024, month, day)  # a leap year: 02-29 is a holiday in the years that have it
                yearly.add((month, day))
                continue
            if dated_match:
                dated.add(dt.date(*(int(g) for g in dated_match.groups())))
                continue
        except ValueError:
            errors.append((f"holidays[{i}]", f"{text!r} is not a date"))
            continue
        errors.append((f"holidays[{i}]", 'expected "MM-DD" (every year) or "YYYY-MM-DD" (once)'))
    return frozenset(yearly), frozenset(dated)


# ---------------------------------------------------------------- working time


def _merged(pauses: Iterable[Interval]) -> list[Interval]:
    """Pauses in UTC, sorted, overlapping ones joined, empty ones dropped."""
    out: list[Interval] = []
    for a, b in sorted((a.astimezone(UTC), b.astimezone(UTC)) for a, b in pauses):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def counted_intervals(
    start: dt.datetime, calendar: BusinessCalendar, pauses: Iterable[Interval] = ()
) -> Iterator[Interval]:
    """The intervals from ``start`` on in which a clock runs: working time outside every pause."""
    merged = _merged(pauses)
    for a, b in calendar.open_intervals(start):
        current = a
        for p, q in merged:
            if q <= current:
                continue
            if p >= b:
                break
            if p > current:
                yield current, p
            current = max(current, q)
            if current >= b:
                break
        if current < b:
            yield current, b


def add_working_time(
    start: dt.datetime, duration: dt.timedelta, calendar: BusinessCalendar, pauses: Iterable[Interval] = ()
) -> dt.datetime:
    """The moment ``duration`` of working time (outside ``pauses``) has run from ``start``."""
    if duration < dt.timedelta(0):
        raise ValueError("a duration of working time cannot be negative")
    remaining = duration
    start = start.astimezone(UTC)
    if not remaining:
        return start
    for a, b in counted_intervals(start, calendar, pauses):
        if b - a >= remaining:
            return a + remaining
        remaining -= b - a
    raise AssertionError("open_intervals never ends")


def working_time_between(
    a: dt.datetime, b: dt.datetime, calendar: BusinessCalendar, pauses: Iterable[Interval] = ()
) -> dt.timedelta:
    """The working time (outside ``pauses``) from ``a`` to ``b``; nothing when ``b`` is not after ``a``."""
    total = dt.timedelta(0)
    if b <= a:
        return total
    for x, y in counted_intervals(a, calendar, pauses):
        if x >= b:
            break
        total += min(y, b) - x
    return total


def working_span(start: dt.datetime, within: Duration, calendar: BusinessCalendar) -> dt.timedelta:
    """The working time a target of ``within`` allows from ``start``.

    Around the clock it is plain calendar time (a month is a calendar month). In business
    hours minutes and hours count working time, days count working days (``1d`` is one
    working day's hours), a week is the calendar's working days of one week and a month
    those of 30 days (21 working days with a five-day week).
    """
    if calendar.around_the_clock:
        return add(start.astimezone(UTC), within) - start
    if within.unit in ("m", "h"):
        return dt.timedelta(minutes=within.minutes)
    per_unit = {"d": 1, "w": len(calendar.working_days), "mo": round(30 * len(calendar.working_days) / 7)}
    return within.amount * per_unit[within.unit] * calendar.working_day


# ---------------------------------------------------------------- response targets


@dataclass(frozen=True)
class TargetStatus:
    """One response target of one incident (triage, first response or resolution)."""

    step: str
    within: Duration
    business_hours: bool
    due: dt.datetime  # with the pauses so far; an ongoing pause counts up to now
    done: dt.datetime | None
    state: str  # met, breached, running, paused, stopped (the incident closed before the step was done)
    left: dt.timedelta  # clock time left before due (working time in business hours); zero once due or done


def response_clocks(
    level: Level,
    reported: dt.datetime,
    done: Mapping[str, dt.datetime | None],
    pauses: Sequence[Pause],
    calendar: BusinessCalendar,
    now: dt.datetime,
    *,
    stopped: dt.datetime | None = None,
    steps: Collection[str] = STEPS,
) -> list[TargetStatus]:
    """Where each of ``level``'s response targets stands for a report made at ``reported``.

    ``done`` holds when each step was done (a later step done completes the earlier ones:
    resolving an incident is also its first response); ``pauses`` the times the clocks
    stood still (an end of None: paused now); ``calendar`` counts for a level whose
    targets run in business hours. ``stopped``: when the incident was closed, rejected or
    merged, which stops the clocks of the steps not done. ``steps``: the targets wanted.
    """
    calendar = calendar if level.business_hours else AROUND_THE_CLOCK
    paused_now = any(end is None or end > now for start, end in pauses if start <= now)
    out = []
    for i, step in enumerate(STEPS):
        within = level.targets.get(step)
        if within is None or step not in steps:
            continue
        finished = [t for t in (done.get(s) for s in STEPS[i:]) if t is not None]
        completed = min(finished) if finished else None
        until = min(t for t in (now, completed, stopped) if t is not None)
        counted = [(a, min(b or until, until)) for a, b in pauses if a < until]
        span = working_span(reported, within, calendar)
        due = add_working_time(reported, span, calendar, counted)
        left = dt.timedelta(0)
        if completed is not None:
            state = "met" if completed <= due else "breached"
        elif until > due:
            state = "breached"
        elif stopped is not None:
            state = "stopped"
        else:
            state = "paused" if paused_now else "running"
            left = span - working_time_between(reported, now, calendar, counted)
        out.append(TargetStatus(step, within, level.business_hours, due, completed, state, left))
    return out


# ---------------------------------------------------------------- reminders


# How long before a regulatory deadline its reminders go out: the first row whose length is at
# least the deadline's gives the leads (the last row serves longer deadlines). E.g. 2 h before a
# 24-hour early warning, 12 h before a 72-hour notification, 3 days before a one-month final report.
REMINDER_LEADS: tuple[tuple[Duration, tuple[Duration, ...]], ...] = (
    (Duration(24, "h"), (Duration(2, "h"),)),
    (Duration(72, "h"), (Duration(12, "h"),)),
    (Duration(1, "mo"), (Duration(3, "d"),)),
)


@dataclass(frozen=True)
class Reminder:
    deadline: DeadlineStatus
    lead: Duration  # how long before the deadline falls due
    at: dt.datetime  # when the reminder became due


def leads_for(
    within: Duration, before: Sequence[tuple[Duration, tuple[Duration, ...]]] = REMINDER_LEADS
) -> tuple[Duration, ...]:
    """The reminder leads of a deadline ``within`` long."""
    for length, leads in before:
        if within.minutes <= length.minutes:
            return leads
    return before[-1][1] if before else ()


def reminders_due(
    deadlines: Iterable[DeadlineStatus],
    now: dt.datetime,
    before: Sequence[tuple[Duration, tuple[Duration, ...]]] = REMINDER_LEADS,
) -> list[Reminder]:
    """The reminders in force at ``now``: a deadline not submitted, due within one of its leads, not passed.

    A deadline that applies only if the incident turns out more severe gets none; one whose
    condition is not known yet does, so that nobody misses it for want of a fact.
    """
    out = []
    for deadline in deadlines:
        if deadline.submitted is not None or deadline.due is None or deadline.possible_only or now > deadline.due:
            continue
        for lead in leads_for(deadline.within, before):
            at = deadline.due - dt.timedelta(minutes=lead.minutes)
            if at <= now:
                out.append(Reminder(deadline, lead, at))
    return out
