"""The clocks of an incident: business hours, holidays, pauses, breaches and reminders, on a controlled clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.db import IntegrityError, transaction
from django.test import Client

from nciss_platform import clock
from nciss_platform.accounts import services as accounts
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.errors import ServiceError
from nciss_platform.incidents import services
from nciss_platform.incidents.clocks import clocks_of, due_clock_events, mark_signalled
from nciss_platform.incidents.models import ClockPause, Incident
from nciss_platform.incidents.tests.conftest import report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_2fa")]

TASHKENT = ZoneInfo("Asia/Tashkent")
HOUR = dt.timedelta(hours=1)
CALENDAR = {
    "time_zone": "Asia/Tashkent",
    "working_days": [1, 2, 3, 4, 5],
    "hours": {"start": "09:00", "end": "18:00"},
    "holidays": ["01-01", "03-08", "03-21", "2026-03-16"],
}
# Two levels: "Routine" (4 h triage in business hours), "Urgent" once someone died (30 min, around the clock).
SCALE = {
    "id": "clock-national",
    "version": "1",
    "name": "Clock test national scale",
    "levels": [
        {
            "name": "Routine",
            "colour": "#ffffff",
            "targets": {"triage": "4h", "first_response": "1d", "resolution": "5d"},
        },
        {
            "name": "Urgent",
            "colour": "#ff0000",
            "targets": {"triage": "30m", "first_response": "2h", "resolution": "2d"},
        },
    ],
    "rules": [{"id": "loss-of-life", "when": {"fatalities": ">= 1"}, "floor": 1}],
}
ROUTINE = {"functional_impact": "no-impact-to-services"}
SIGNIFICANT = {"financial_loss_eur": 600_000}  # NIS2 Art. 3(1)(a)


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of March 2026 in Tashkent (2 March is a Monday)."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=TASHKENT)


FRIDAY_5PM = local(6, 17)


@pytest.fixture
def office_hours(settings: Any, tmp_path: Path, csirt: Organisation) -> None:
    """The national scale above, and the national CSIRT working Monday to Friday, 09:00-18:00 Tashkent."""
    path = tmp_path / "clock-national.yaml"
    path.write_text(yaml.safe_dump(SCALE), "utf-8")
    settings.NCISS_NATIONAL_SCALE = str(path)
    csirt.reporting_calendar = CALENDAR
    csirt.save()


def due(incident: Incident) -> dt.datetime | None:
    incident.refresh_from_db()
    return incident.due_at.astimezone(TASHKENT) if incident.due_at else None


def states(incident: Incident, at: dt.datetime) -> dict[str, str]:
    """The state of each response clock."""
    return {c.id: c.state for c in clocks_of(incident, at) if c.kind == "response"}


def at(moment: dt.datetime, action: Any, **kwargs: Any) -> Any:
    with clock.frozen(moment):
        return action(**kwargs)


# ---------------------------------------------------------------- business hours


@pytest.mark.usefixtures("office_hours")
def test_it_carries_a_friday_evening_triage_over_the_weekend(reporter: User) -> None:
    incident = report(reporter, facts=ROUTINE, at=FRIDAY_5PM)
    assert due(incident) == local(9, 12)
    triage = clocks_of(incident, local(9, 10))[0]
    assert (triage.id, triage.state, triage.business_hours, triage.left) == (
        "response:triage",
        "running",
        True,
        2 * HOUR,
    )


@pytest.mark.usefixtures("office_hours")
def test_it_skips_public_holidays(reporter: User) -> None:
    incident = report(reporter, facts=ROUTINE, at=local(13, 17))  # the Monday after is a one-off holiday
    assert due(incident) == local(17, 12)


@pytest.mark.usefixtures("office_hours")
def test_it_runs_the_most_severe_level_around_the_clock(reporter: User) -> None:
    incident = report(reporter, facts={**ROUTINE, "fatalities": 1}, at=FRIDAY_5PM)
    assert incident.level == 1 and due(incident) == local(6, 17, 30)


def test_it_runs_around_the_clock_when_the_csirt_has_no_calendar(
    settings: Any, tmp_path: Path, reporter: User, csirt: Organisation
) -> None:
    path = tmp_path / "clock-national.yaml"
    path.write_text(yaml.safe_dump(SCALE), "utf-8")
    settings.NCISS_NATIONAL_SCALE = str(path)
    assert csirt.reporting_calendar == {}
    incident = report(reporter, facts=ROUTINE, at=FRIDAY_5PM)
    assert due(incident) == local(6, 21)


@pytest.mark.usefixtures("office_hours")
def test_it_moves_the_due_time_to_the_next_step_in_working_time(reporter: User, analyst: User) -> None:
    incident = report(reporter, facts=ROUTINE, at=FRIDAY_5PM)
    at(local(9, 11), services.change_status, incident=incident, actor=analyst, to="triaged")
    assert due(incident) == local(9, 17)  # first response: one working day from the report
    assert states(incident, local(9, 11))["response:triage"] == "met"


# ---------------------------------------------------------------- pauses


@pytest.mark.usefixtures("office_hours")
def test_it_pauses_while_waiting_on_the_reporter_and_resumes_later(reporter: User, analyst: User) -> None:
    incident = report(reporter, facts=ROUTINE, at=local(2, 9))
    assert due(incident) == local(2, 13)
    at(local(2, 10), services.set_waiting_on_reporter, incident=incident, actor=analyst, waiting=True)
    assert states(incident, local(2, 16))["response:triage"] == "paused"  # past 13:00, yet not overdue
    at(local(2, 12), services.set_waiting_on_reporter, incident=incident, actor=analyst, waiting=False)
    assert due(incident) == local(2, 15)
    pause = ClockPause.objects.get(incident=incident)
    assert (pause.started_at, pause.ended_at, pause.by) == (local(2, 10), local(2, 12), analyst)


@pytest.mark.usefixtures("office_hours")
def test_it_only_shifts_the_due_time_by_the_working_time_paused(reporter: User, analyst: User) -> None:
    incident = report(reporter, facts=ROUTINE, at=FRIDAY_5PM)
    at(local(6, 17, 30), services.set_waiting_on_reporter, incident=incident, actor=analyst, waiting=True)
    at(local(9, 10), services.set_waiting_on_reporter, incident=incident, actor=analyst, waiting=False)
    assert due(incident) == local(9, 13, 30)  # half an hour on Friday and an hour on Monday paused, not the weekend


@pytest.mark.usefixtures("office_hours")
def test_it_resumes_when_the_reporter_answers(reporter: User, analyst: User) -> None:
    incident = report(reporter, facts=ROUTINE, at=local(2, 9))
    at(local(2, 10), services.set_waiting_on_reporter, incident=incident, actor=analyst, waiting=True)
    at(local(2, 11), services.add_comment, incident=incident, actor=reporter, body="The logs are attached.")
    assert due(incident) == local(2, 14)
    assert ClockPause.objects.get(incident=incident).ended_at == local(2, 11)


@pytest.mark.usefixtures("office_hours")
def test_it_keeps_one_pause_for_a_repeated_request_to_wait(reporter: User, analyst: User) -> None:
    incident = report(reporter, facts=ROUTINE, at=local(2, 9))
    for hour in (10, 11):
        at(local(2, hour), services.set_waiting_on_reporter, incident=incident, actor=analyst, waiting=True)
    assert list(ClockPause.objects.values_list("started_at", "ended_at")) == [(local(2, 10), None)]


# ---------------------------------------------------------------- stopping, breaches, reminders


@pytest.mark.usefixtures("office_hours")
def test_it_stops_every_response_clock_once_resolved(reporter: User, analyst: User) -> None:
    incident = report(reporter, facts=ROUTINE, at=local(2, 9))
    for hour, status in ((10, "triaged"), (11, "investigating"), (12, "resolved")):
        at(local(2, hour), services.change_status, incident=incident, actor=analyst, to=status)
    assert due(incident) is None
    later = local(30, 9)
    assert states(incident, later) == {
        "response:triage": "met",
        "response:first_response": "met",
        "response:resolution": "met",
    }
    assert due_clock_events(later) == []


@pytest.mark.usefixtures("office_hours")
def test_it_stops_the_clocks_of_a_rejected_incident(reporter: User, analyst: User) -> None:
    incident = report(reporter, facts=ROUTINE, at=local(2, 9))
    at(local(2, 10), services.change_status, incident=incident, actor=analyst, to="rejected")
    assert set(states(incident, local(30, 9)).values()) == {"stopped"}


@pytest.mark.usefixtures("office_hours")
def test_it_signals_a_missed_target_once(reporter: User, analyst: User) -> None:
    incident = report(reporter, facts=ROUTINE, at=local(2, 9))
    assert due_clock_events(local(2, 13)) == []
    events = due_clock_events(local(2, 13, 1))
    assert [(e.incident, e.kind, e.clock, e.due, e.lead, str(e.name)) for e in events] == [
        (incident, "breach", "response:triage", local(2, 13), None, "Triage")
    ]
    mark_signalled(events, local(2, 13, 1))
    assert due_clock_events(local(2, 15)) == []
    later = due_clock_events(local(2, 18, 1))  # one working day since the report: the first response is missed too
    assert [e.clock for e in later] == ["response:first_response"]


@pytest.mark.usefixtures("office_hours")
def test_it_lets_only_one_worker_signal_an_event(reporter: User) -> None:
    report(reporter, facts=ROUTINE, at=local(2, 9))
    first, second = due_clock_events(local(2, 14)), due_clock_events(local(2, 14))
    mark_signalled(first, local(2, 14))
    with pytest.raises(IntegrityError), transaction.atomic():
        mark_signalled(second, local(2, 14))


@pytest.mark.usefixtures("office_hours")
def test_it_does_not_signal_a_paused_target(reporter: User, analyst: User) -> None:
    incident = report(reporter, facts=ROUTINE, at=local(2, 9))
    at(local(2, 10), services.set_waiting_on_reporter, incident=incident, actor=analyst, waiting=True)
    assert due_clock_events(local(3, 17)) == []


def test_it_reminds_before_each_nis2_deadline_and_signals_a_missed_one(reporter: User, analyst: User) -> None:
    detected = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    incident = report(reporter, facts={**SIGNIFICANT, "detected_at": detected.isoformat()}, at=detected + HOUR)

    def nis2_events(moment: dt.datetime) -> list[tuple[str, str, dt.timedelta | None]]:
        events = [e for e in due_clock_events(moment) if e.clock.startswith("eu-nis2:")]
        mark_signalled(events, moment)
        return [(e.kind, e.clock, e.lead) for e in events]

    assert nis2_events(detected + 21 * HOUR + 59 * dt.timedelta(minutes=1)) == []
    assert nis2_events(detected + 22 * HOUR) == [("reminder", "eu-nis2:early-warning", 2 * HOUR)]
    assert nis2_events(detected + 23 * HOUR) == []
    assert nis2_events(detected + 24 * HOUR + dt.timedelta(minutes=1)) == [("breach", "eu-nis2:early-warning", None)]
    assert nis2_events(detected + 60 * HOUR) == [("reminder", "eu-nis2:notification", 12 * HOUR)]
    sent = detected + 70 * HOUR
    at(
        sent,
        services.submit_reporting_step,
        incident=incident,
        actor=analyst,
        scale_id="eu-nis2",
        deadline_id="notification",
    )
    final_due = dt.datetime(2026, 4, 5, 6, 0, tzinfo=dt.UTC)  # one calendar month after the notification
    assert nis2_events(final_due - dt.timedelta(days=3, minutes=1)) == []
    assert nis2_events(final_due - dt.timedelta(days=3)) == [("reminder", "eu-nis2:final-report", dt.timedelta(days=3))]


def test_it_lists_response_and_regulatory_clocks_together(reporter: User) -> None:
    detected = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    incident = report(reporter, facts={**SIGNIFICANT, "detected_at": detected.isoformat()}, at=detected + HOUR)
    clocks = {c.id: c for c in clocks_of(incident, detected + 2 * HOUR)}
    assert list(clocks) == [
        "response:triage",
        "response:first_response",
        "response:resolution",
        "eu-nis2:early-warning",
        "eu-nis2:notification",
        "eu-nis2:final-report",
    ]
    early = clocks["eu-nis2:early-warning"]
    assert (early.kind, early.state, early.due, early.left) == (
        "regulatory",
        "running",
        detected + 24 * HOUR,
        22 * HOUR,
    )
    assert clocks["eu-nis2:final-report"].state == "waiting"  # for the notification


# ---------------------------------------------------------------- the incident page and the calendar


@pytest.mark.usefixtures("office_hours")
def test_it_shows_the_targets_with_business_hours_and_the_pause_on_the_incident_page(
    reporter: User, analyst: User
) -> None:
    incident = report(reporter, facts=ROUTINE, at=FRIDAY_5PM)
    client = Client()
    client.force_login(analyst)
    with clock.frozen(local(9, 10)):
        page = client.get(f"/incidents/{incident.reference}/").content.decode()
    row = page.split('data-target="triage"')[1].split("</tr>")[0]
    assert "4 h" in row and "in business hours" in row and "due in 2 h" in row
    assert "Mon-Fri 09:00-18:00 Asia/Tashkent, public holidays off" in page
    at(local(9, 10), services.set_waiting_on_reporter, incident=incident, actor=analyst, waiting=True)
    with clock.frozen(local(9, 15)):
        page = client.get(f"/incidents/{incident.reference}/").content.decode()
    row = page.split('data-target="triage"')[1].split("</tr>")[0]
    assert "paused: 2 h of working time left" in row
    assert "1 working day" in page.split('data-target="first_response"')[1].split("</tr>")[0]
    assert "every response target is paused" in page


def test_it_refuses_an_invalid_calendar_for_an_organisation(administrator: User) -> None:
    with pytest.raises(ServiceError) as raised:
        accounts.create_organisation(
            actor=administrator,
            name="Night Shift Ltd",
            slug="night-shift",
            kind="operator",
            country="XA",
            reporting_calendar={**CALENDAR, "hours": {"start": "22:00", "end": "06:00"}},
        )
    assert raised.value.errors == [
        ("reporting_calendar", "hours.end: must be after the start (hours that span midnight are not supported)")
    ]
