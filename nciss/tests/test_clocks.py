"""Working time over business calendars, response clocks with pauses, reminders before deadlines."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nciss.clocks import (
    AROUND_THE_CLOCK,
    BusinessCalendar,
    CalendarError,
    add_working_time,
    reminders_due,
    response_clocks,
    working_span,
    working_time_between,
)
from nciss.deadlines import add, reporting_deadlines
from nciss.scales import Duration, scale_from_definition

TASHKENT = ZoneInfo("Asia/Tashkent")
CALENDAR = {
    "time_zone": "Asia/Tashkent",
    "working_days": [1, 2, 3, 4, 5],
    "hours": {"start": "09:00", "end": "18:00"},
    "holidays": ["01-01", "03-08", "03-21", "2026-03-20"],
}
OFFICE = BusinessCalendar.from_json(CALENDAR)
FRIDAY_5PM = dt.datetime(2026, 3, 6, 17, 0, tzinfo=TASHKENT)
HOUR = dt.timedelta(hours=1)


def local(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TASHKENT)


def due(start: dt.datetime, within: str, calendar: BusinessCalendar = OFFICE) -> dt.datetime:
    span = working_span(start, Duration.parse(within), calendar)
    return add_working_time(start, span, calendar).astimezone(TASHKENT)


# ---------------------------------------------------------------- the calendar


def test_it_reads_the_demo_calendar_and_describes_it() -> None:
    assert OFFICE.working_days == frozenset({1, 2, 3, 4, 5})
    assert (OFFICE.opens, OFFICE.closes, OFFICE.working_day) == (540, 1080, 9 * HOUR)
    assert OFFICE.describe() == "Mon-Fri 09:00-18:00 Asia/Tashkent, public holidays off"
    assert not OFFICE.around_the_clock


@pytest.mark.parametrize("empty", [None, {}])
def test_it_runs_around_the_clock_without_a_calendar(empty: Any) -> None:
    assert BusinessCalendar.from_json(empty) is AROUND_THE_CLOCK
    assert AROUND_THE_CLOCK.describe() == "around the clock"


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", "unknown time zone"),
        ({"working_days": []}, "working_days", "ISO weekdays"),
        ({"working_days": [1, 8]}, "working_days[1]", "ISO weekdays"),
        ({"working_days": [1, 1]}, "working_days[1]", "listed twice"),
        ({"hours": {"start": "18:00", "end": "09:00"}}, "hours.end", "after the start"),
        ({"hours": {"start": "9am", "end": "18:00"}}, "hours.start", "HH:MM"),
        ({"hours": {"start": "09:00"}}, "hours.end", "required"),
        ({"holidays": ["02-30"]}, "holidays[0]", "not a date"),
        ({"holidays": ["2026-13-01"]}, "holidays[0]", "not a date"),
        ({"holidays": ["March 8"]}, "holidays[0]", "MM-DD"),
        ({"weekend": [6, 7]}, "weekend", "unknown field"),
    ],
)
def test_it_names_what_is_wrong_with_a_calendar(change: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(CalendarError) as raised:
        BusinessCalendar.from_json({**CALENDAR, **change})
    assert [(p, reason in r) for p, r in raised.value.errors] == [(path, True)]


def test_it_lists_every_missing_field_at_once() -> None:
    with pytest.raises(CalendarError) as raised:
        BusinessCalendar.from_json({"holidays": []})
    assert raised.value.errors == [("time_zone", "required"), ("working_days", "required"), ("hours", "required")]


def test_it_accepts_hours_to_midnight() -> None:
    late = BusinessCalendar.from_json({**CALENDAR, "hours": {"start": "20:00", "end": "24:00"}})
    assert due(local(9, 21), "4h", late) == local(10, 21)


# ---------------------------------------------------------------- working time


def test_it_carries_a_target_reported_friday_evening_over_the_weekend() -> None:
    assert due(FRIDAY_5PM, "4h") == local(9, 12)


def test_it_starts_counting_when_the_office_opens() -> None:
    assert due(local(9, 7), "2h") == local(9, 11)
    assert due(local(9, 19), "2h") == local(10, 11)
    assert due(local(7, 10), "2h") == local(9, 11)  # a Saturday


def test_it_ends_a_target_at_closing_time_rather_than_next_morning() -> None:
    assert due(local(9, 14), "4h") == local(9, 18)


def test_it_skips_yearly_and_one_off_holidays() -> None:
    assert due(local(19, 17), "2h") == local(23, 10)  # Thursday; Friday 20 once; Saturday 21 every year
    assert due(dt.datetime(2026, 12, 31, 17, 0, tzinfo=TASHKENT), "2h") == dt.datetime(
        2027, 1, 4, 10, 0, tzinfo=TASHKENT
    )  # New Year's Day is a Friday in 2027
    assert due(dt.datetime(2027, 3, 19, 17, 0, tzinfo=TASHKENT), "2h") == dt.datetime(
        2027, 3, 22, 10, 0, tzinfo=TASHKENT
    )  # 2026-03-20 was a holiday once only


def test_it_counts_days_and_weeks_of_business_hours_as_working_days() -> None:
    assert due(FRIDAY_5PM, "1d") == local(9, 17)
    assert due(FRIDAY_5PM, "3d") == local(11, 17)
    assert due(local(2, 9), "1w") == local(6, 18)
    assert working_span(FRIDAY_5PM, Duration(1, "mo"), OFFICE) == 21 * 9 * HOUR


def test_it_keeps_local_office_hours_across_a_daylight_saving_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    office = BusinessCalendar.from_json({**CALENDAR, "time_zone": "Europe/Berlin", "holidays": []})
    friday = dt.datetime(2026, 3, 27, 17, 0, tzinfo=berlin)  # clocks go forward on Sunday 29 March
    end = add_working_time(friday, 2 * HOUR, office)
    assert end.astimezone(berlin) == dt.datetime(2026, 3, 30, 10, 0, tzinfo=berlin)
    assert end - friday == dt.timedelta(days=2, hours=16)  # an hour less than the wall clocks show


def test_it_measures_working_time_between_two_moments() -> None:
    assert working_time_between(FRIDAY_5PM, local(9, 12), OFFICE) == 4 * HOUR
    assert working_time_between(local(9, 12), FRIDAY_5PM, OFFICE) == dt.timedelta(0)
    assert working_time_between(FRIDAY_5PM, local(9, 12), AROUND_THE_CLOCK) == dt.timedelta(days=2, hours=19)


def test_it_adds_calendar_months_around_the_clock() -> None:
    start = dt.datetime(2026, 1, 31, 10, 0, tzinfo=dt.UTC)
    assert due(start, "1mo", AROUND_THE_CLOCK) == dt.datetime(2026, 2, 28, 10, 0, tzinfo=dt.UTC)


def test_it_stops_counting_during_a_pause_in_working_hours_only() -> None:
    monday = [(local(9, 9), local(9, 11))]
    assert add_working_time(FRIDAY_5PM, 4 * HOUR, OFFICE, monday) == local(9, 14)
    weekend = [(local(7, 9), local(8, 20))]
    assert add_working_time(FRIDAY_5PM, 4 * HOUR, OFFICE, weekend) == local(9, 12)
    assert working_time_between(FRIDAY_5PM, local(9, 14), OFFICE, monday) == 4 * HOUR


def test_it_refuses_a_negative_duration() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_time(FRIDAY_5PM, -HOUR, OFFICE)


# ---------------------------------------------------------------- properties

ZONES = ["UTC", "Asia/Tashkent", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]
MOMENTS = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2028, 12, 31), timezones=st.just(dt.UTC)
)
DURATIONS = st.integers(0, 60 * 60).map(lambda m: dt.timedelta(minutes=m))


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    opens = draw(st.integers(0, 46)) * 30
    closes = draw(st.integers(opens // 30 + 2, 48)) * 30
    return BusinessCalendar(
        draw(st.sampled_from(ZONES)),
        frozenset(draw(st.sets(st.integers(1, 7), min_size=1))),
        opens,
        closes,
        frozenset(draw(st.sets(st.tuples(st.integers(1, 12), st.integers(1, 28)), max_size=20))),
        frozenset(draw(st.sets(st.dates(dt.date(2024, 1, 1), dt.date(2029, 12, 31)), max_size=20))),
    )


@st.composite
def pauses(draw: st.DrawFn, start: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    out = []
    for offset, length in draw(st.lists(st.tuples(st.integers(-2000, 20000), st.integers(0, 3000)), max_size=4)):
        begin = start + dt.timedelta(minutes=offset)
        out.append((begin, begin + dt.timedelta(minutes=length)))
    return out


@settings(deadline=None, max_examples=300)
@given(MOMENTS, DURATIONS, calendars())
def test_it_measures_back_the_working_time_it_added(
    start: dt.datetime, duration: dt.timedelta, calendar: BusinessCalendar
) -> None:
    end = add_working_time(start, duration, calendar)
    assert end >= start
    assert working_time_between(start, end, calendar) == duration


@settings(deadline=None, max_examples=200)
@given(st.data(), MOMENTS, DURATIONS, calendars())
def test_it_never_brings_a_due_time_forward_for_a_pause(
    data: st.DataObject, start: dt.datetime, duration: dt.timedelta, calendar: BusinessCalendar
) -> None:
    some = data.draw(pauses(start))
    more = some + data.draw(pauses(start))
    without = add_working_time(start, duration, calendar)
    with_some = add_working_time(start, duration, calendar, some)
    assert without <= with_some <= add_working_time(start, duration, calendar, more)
    assert working_time_between(start, with_some, calendar, some) == duration


@given(MOMENTS, DURATIONS)
def test_it_is_plain_arithmetic_around_the_clock(start: dt.datetime, duration: dt.timedelta) -> None:
    assert add_working_time(start, duration, AROUND_THE_CLOCK) == start + duration
    # the same through the day-by-day path: every day worked, a holiday long past
    every_day = BusinessCalendar("Asia/Tashkent", holidays=frozenset({dt.date(1999, 1, 1)}))
    assert not every_day.around_the_clock
    assert add_working_time(start, duration, every_day) == start + duration


@given(MOMENTS, st.integers(0, 40), st.sampled_from(["m", "h", "d", "w", "mo"]))
def test_it_gives_plain_deadline_arithmetic_for_targets_around_the_clock(
    start: dt.datetime, amount: int, unit: str
) -> None:
    within = Duration(amount, unit)
    assert add_working_time(start, working_span(start, within, AROUND_THE_CLOCK), AROUND_THE_CLOCK) == add(
        start, within
    )


# ---------------------------------------------------------------- response clocks


def _scale(business_hours: bool | None = None) -> Any:
    targets: dict[str, Any] = {"triage": "4h", "first_response": "1d", "resolution": "5d"}
    if business_hours is not None:
        targets["business_hours"] = business_hours
    return scale_from_definition(
        {
            "id": "clock-test",
            "version": "1",
            "name": "Clock test",
            "levels": [
                {"name": "Low", "colour": "#ffffff", "targets": targets},
                {"name": "High", "colour": "#ff0000", "targets": {"triage": "30m"}},
            ],
        }
    )


def _states(clocks: list[Any]) -> dict[str, tuple[str, dt.datetime]]:
    return {c.step: (c.state, c.due.astimezone(TASHKENT)) for c in clocks}


def test_it_runs_the_lower_levels_in_business_hours_and_the_top_around_the_clock_by_default() -> None:
    scale = _scale()
    low, high = scale.levels
    assert low.business_hours and not high.business_hours
    assert not _scale(business_hours=False).levels[0].business_hours
    clocks = response_clocks(high, FRIDAY_5PM, {}, [], OFFICE, FRIDAY_5PM)
    assert _states(clocks) == {"triage": ("running", local(6, 17, 30))}


def test_it_shows_every_response_target_running_from_the_report() -> None:
    clocks = response_clocks(_scale().levels[0], FRIDAY_5PM, {}, [], OFFICE, local(9, 10))
    assert _states(clocks) == {
        "triage": ("running", local(9, 12)),
        "first_response": ("running", local(9, 17)),
        "resolution": ("running", local(13, 17)),
    }
    assert clocks[0].left == 2 * HOUR and clocks[0].business_hours


def test_it_marks_steps_met_breached_and_stopped() -> None:
    level = _scale().levels[0]
    done = {"triage": local(9, 11), "first_response": local(9, 18)}
    assert [c.state for c in response_clocks(level, FRIDAY_5PM, done, [], OFFICE, local(10, 9))] == [
        "met",
        "breached",
        "running",
    ]
    rejected = response_clocks(level, FRIDAY_5PM, {}, [], OFFICE, local(30, 9), stopped=local(9, 11))
    assert [c.state for c in rejected] == ["stopped", "stopped", "stopped"]
    late_reject = response_clocks(level, FRIDAY_5PM, {}, [], OFFICE, local(30, 9), stopped=local(9, 13))
    assert [c.state for c in late_reject] == ["breached", "stopped", "stopped"]


def test_it_counts_resolving_as_every_earlier_step_done() -> None:
    level = _scale().levels[0]
    clocks = response_clocks(
        level, FRIDAY_5PM, {"triage": local(9, 10), "resolution": local(9, 16)}, [], OFFICE, local(20, 9)
    )
    assert [(c.state, c.done) for c in clocks] == [("met", local(9, 10)), ("met", local(9, 16)), ("met", local(9, 16))]


def test_it_pauses_every_clock_while_waiting_and_shifts_them_by_the_working_time_paused() -> None:
    level = _scale().levels[0]
    waiting = [(local(9, 10), None)]
    paused = response_clocks(level, FRIDAY_5PM, {}, waiting, OFFICE, local(9, 15))
    assert _states(paused)["triage"] == ("paused", local(9, 17))  # as if it resumed now: 5 h later
    assert paused[0].left == 2 * HOUR
    resumed = response_clocks(level, FRIDAY_5PM, {}, [(local(9, 10), local(10, 10))], OFFICE, local(10, 10))
    assert _states(resumed)["triage"] == ("running", local(10, 12))  # 9 working hours later
    assert _states(resumed)["resolution"][1] == local(16, 17)


def test_it_keeps_a_breach_when_the_pause_comes_after_it() -> None:
    level = _scale().levels[0]
    clocks = response_clocks(level, FRIDAY_5PM, {}, [(local(9, 13), None)], OFFICE, local(9, 15))
    assert _states(clocks)["triage"] == ("breached", local(9, 12))


# ---------------------------------------------------------------- reminders

NIS2 = scale_from_definition(
    {
        "id": "nis2-like",
        "version": "1",
        "name": "NIS2-like",
        "levels": [{"name": "Not significant", "colour": "#ffffff"}, {"name": "Significant", "colour": "#ff0000"}],
        "rules": [{"id": "outage", "when": {"outage_minutes": "> 30"}, "floor": 1}],
        "regime": {
            "name": "NIS2-like",
            "from_level": 1,
            "deadlines": [
                {"id": "early-warning", "name": "Early warning", "after": "detected_at", "within": "24h"},
                {"id": "notification", "name": "Notification", "after": "detected_at", "within": "72h"},
                {"id": "final-report", "name": "Final report", "after": "notification", "within": "1mo"},
            ],
        },
    }
)
DETECTED = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def _reminded(at: dt.datetime, submitted: dict[str, dt.datetime] | None = None, level: int = 1) -> list[str]:
    deadlines = reporting_deadlines(NIS2, {}, level, 1, {"detected_at": DETECTED}, submitted)
    return [f"{r.deadline.id} {r.lead}" for r in reminders_due(deadlines, at)]


def test_it_reminds_two_hours_before_the_early_warning_and_twelve_before_the_notification() -> None:
    assert _reminded(DETECTED + 21 * HOUR) == []
    assert _reminded(DETECTED + 22 * HOUR) == ["early-warning 2h"]
    assert _reminded(DETECTED + 60 * HOUR) == ["notification 12h"]  # the early warning is overdue now
    assert _reminded(DETECTED + 23 * HOUR, {"early-warning": DETECTED + 23 * HOUR}) == []


def test_it_reminds_three_days_before_the_final_report() -> None:
    sent = DETECTED + 50 * HOUR
    submitted = {"early-warning": DETECTED, "notification": sent}
    final_due = add(sent, Duration(1, "mo"))
    assert _reminded(final_due - dt.timedelta(days=3, minutes=1), submitted) == []
    assert _reminded(final_due - dt.timedelta(days=3), submitted) == ["final-report 3d"]


def test_it_does_not_remind_of_what_applies_only_if_the_incident_gets_worse() -> None:
    assert _reminded(DETECTED + 23 * HOUR, level=0) == []
