"""What the national and incident sitreps say, read from a known fortnight of incidents (no PDF here)."""

from __future__ import annotations

import datetime as dt

import pytest

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.errors import ServiceError
from nciss_platform.incidents import access, services
from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.reports import sitreps
from nciss_platform.reports.tests.conftest import DAY, LATER, Week, at

pytestmark = pytest.mark.django_db


def national(day: dt.date = DAY, now: dt.datetime = LATER, incidents: object = None) -> sitreps.National:
    return sitreps.national_sitrep(incidents or Incident.objects.all(), day, lang="en", now=now)


def counts(rows: list[sitreps.LevelCount]) -> dict[str, int]:
    return {row.level.name: row.count for row in rows if row.count}


def test_it_counts_the_incidents_open_at_the_end_of_the_day_by_level(week: Week) -> None:
    report = national()
    # Open then: both of the day's High ones, the escalated Medium one, two Baseline ones (one of them
    # resolved only the next day); not the one closed the day before, nor the one reported the day after.
    assert counts(report.open_by_level) == {"High": 2, "Medium": 1, "Baseline": 2}
    assert report.open_total == 5
    assert [row.level.name for row in report.open_by_level] == [
        "Emergency",
        "Severe",
        "High",
        "Medium",
        "Low",
        "Baseline",
    ]
    assert report.highest is not None and report.highest.name == "High"


def test_it_reads_each_status_and_level_as_it_was_that_day(week: Week) -> None:
    top = {row.reference: row for row in national().top}
    assert top[week.closed_after.reference].status == "Investigating"  # resolved on 11 March, after the day
    assert week.closed_before.reference not in top
    assert week.after_day.reference not in top
    earlier = {row.reference: row for row in national(day=dt.date(2026, 3, 9)).top}
    assert earlier[week.escalated.reference].level.name == "Baseline"  # raised only on the 10th


def test_it_lists_the_new_and_the_escalated_incidents_of_the_last_24_hours(week: Week) -> None:
    report = national()
    assert report.new_total == 2
    assert counts(report.new_by_level) == {"High": 2}
    assert [row.reference for row in report.new] == [week.new_amber.reference]
    assert report.escalated_count == 1
    (escalation,) = report.escalated
    assert escalation.row.reference == week.escalated.reference
    assert (escalation.previous.name, escalation.raised_to.name) == ("Baseline", "Medium")


def test_it_draws_a_fortnight_of_new_incidents_by_level(week: Week) -> None:
    report = national()
    assert report.trend_days[0] == "25 Feb" and report.trend_days[-1] == "10 Mar"
    by_day = {
        day: dict(zip([level.name for level in report.trend_levels], row, strict=True))
        for day, row, _total in report.trend_rows
    }
    assert by_day["5 Mar"]["Low"] == 1
    assert by_day["6 Mar"]["Baseline"] == 1
    assert by_day["8 Mar"]["Medium"] == 1  # at its level at the end of the day of the report
    assert by_day["10 Mar"]["High"] == 2
    assert sum(report.trend_totals) == 5  # the one reported in February is older than the fortnight
    assert "Medium" in report.trend_chart and "<script" not in report.trend_chart


def test_it_counts_tlp_red_incidents_but_never_details_them(week: Week) -> None:
    report = national()
    assert report.red_counted == 1
    shown = {row.reference for row in report.new + report.top} | {e.row.reference for e in report.escalated}
    shown |= {event.reference for event in report.actions}
    assert week.new_red.reference not in shown
    assert sum(n for _sector, n in report.open_by_sector) == 4  # the TLP:RED one's sector is not told
    assert report.actions_red == 2  # its triage and its withheld notification


def test_it_lists_the_actions_of_the_day(week: Week) -> None:
    report = national()
    assert report.status_changes == 2
    texts = [(event.reference, event.text) for event in report.actions]
    assert (week.new_amber.reference, "Status: Reported → Triaged") in texts
    assert (week.new_amber.reference, "Notified Energy Regulatory Agency (e-mail): waiting to be sent") in texts
    assert report.actions_count == 4
    assert dict(report.notifications) == {"waiting to be sent": 1, "withheld (TLP)": 1}


def test_it_marks_the_report_with_the_most_restrictive_tlp_it_details(week: Week) -> None:
    # 5 March: a TLP:CLEAR and a TLP:GREEN incident detailed: never below TLP:GREEN.
    assert national(day=dt.date(2026, 3, 5)).tlp == TLP.GREEN
    # 10 March: TLP:AMBER incidents detailed, and a TLP:RED one counted.
    assert national().tlp == TLP.AMBER
    Incident.objects.filter(pk=week.new_amber.pk).update(tlp=TLP.AMBER_STRICT)
    assert national().tlp == TLP.AMBER_STRICT


def test_it_raises_a_report_counting_tlp_red_incidents_to_at_least_amber(week: Week) -> None:
    Incident.objects.exclude(pk=week.new_red.pk).update(tlp=TLP.CLEAR)
    assert national().tlp == TLP.AMBER
    Incident.objects.filter(pk=week.new_red.pk).update(tlp=TLP.CLEAR)
    assert national().tlp == TLP.GREEN


def test_it_covers_the_24_hours_up_to_now_for_today(week: Week) -> None:
    now = at(10, 10)
    report = national(now=now)
    assert (report.start, report.end) == (now - dt.timedelta(days=1), now)
    assert report.new_total == 2
    # the closing at 11:00 the day before is in; the triages at 11:00 and 12:00 have not happened yet
    assert [event.text for event in report.actions] == [
        "Status: Resolved → Closed",
        "Notified Energy Regulatory Agency (e-mail): waiting to be sent",
    ]


def test_it_refuses_a_day_in_the_future(week: Week) -> None:
    with pytest.raises(ServiceError, match="in the future"):
        national(day=dt.date(2026, 3, 13))


def test_it_counts_only_the_incidents_the_reader_may_see(week: Week, analyst: User) -> None:
    report = national(incidents=access.visible_incidents(analyst))
    assert report.open_total == 4  # the TLP:RED one is for its named recipients only
    assert report.red_counted == 0


def test_it_tells_an_incidents_key_events_actions_deadlines_and_notifications(week: Week, reporter: User) -> None:
    incident = week.new_amber
    report = sitreps.incident_sitrep(incident, visible=access.visible_incidents(reporter), lang="en", now=LATER)
    assert report.level.name == "High" and report.highest is not None and report.highest.name == "Emergency"
    assert report.tlp == TLP.AMBER
    assert [event.text for event in report.key_events] == ["Reported", "Assessed: High", "Status: Reported → Triaged"]
    assert [(n.organisation, n.state) for n in report.notified] == [("Energy Regulatory Agency", "waiting to be sent")]
    assert report.sector == "Energy"
    assert [(row.name, row.text) for row in report.targets.rows][:2] == [
        ("Triage", "met late"),
        ("First response", "overdue by 44 h"),
    ]
    (nis2,) = report.regimes  # an energy operator at High: NIS2's early warning, notification, final report
    assert [(row.name, row.state) for row in nis2.rows] == [
        ("Early warning", "overdue"),
        ("Incident notification", "due"),
        ("Final report", "waiting"),
    ]


def test_it_lists_what_the_csirt_did_as_actions(week: Week, analyst: User) -> None:
    incident = week.escalated
    with clock.frozen(at(10, 15)):
        services.assign(incident=incident, actor=analyst, assignee=analyst)
        services.add_comment(incident=incident, actor=analyst, body="Asked the ministry for its proxy logs.")
        services.add_comment(incident=incident, actor=incident.created_by, body="The portal is back.")
    report = sitreps.incident_sitrep(incident, visible=Incident.objects.all(), lang="en", now=LATER)
    assert [event.text for event in report.actions] == ["Assigned to analyst", "Note"]
    assert report.actions[1].note == "Asked the ministry for its proxy logs."
    assert "Level raised: Baseline → Medium" in [event.text for event in report.key_events]
