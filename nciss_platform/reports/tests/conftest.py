"""The report tests: the incident tests' personas, and incidents for the sitreps to describe."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from nciss_platform import clock
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents import services
from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.incidents.tests.conftest import *  # noqa: F403  (the incident personas and helpers)
from nciss_platform.incidents.tests.conftest import GRID_DOWN, report
from nciss_platform.notifications.models import Contact, RoutingRule

DAY = dt.date(2026, 3, 10)  # the day of the national sitrep under test
LATER = dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)  # when it is asked for
PHISHING = {"classification": "fraud:phishing", "functional_impact": "no-impact"}
AMBER_SECRET = "Turbine 7 at Kestrel substation runs the unpatched SCADA build"


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


@dataclass
class Week:
    """A fortnight of incidents around ``DAY``, each with what the national sitrep of ``DAY`` should say of it."""

    old_open: Incident  # reported before the 14 days of the trend, still open (TLP:CLEAR)
    closed_before: Incident  # reported on 5 March, closed on 9 March: not open on the day
    closed_after: Incident  # reported on 6 March, resolved on 11 March: open on the day
    escalated: Incident  # reported on 8 March, its level raised on the day
    new_amber: Incident  # reported on the day, triaged on the day (TLP:AMBER)
    new_red: Incident  # reported on the day, TLP:RED, triaged on the day
    after_day: Incident  # reported on 11 March: not in the report


def move(incident: Incident, actor: User, when: dt.datetime, *statuses: str) -> None:
    with clock.frozen(when):
        for status in statuses:
            services.change_status(incident=incident, actor=actor, to=status)


@pytest.fixture
def regulator_contact(db: None) -> Contact:
    """The energy regulator's duty desk, told of every energy incident at level 3 or above."""
    regulator = Organisation.objects.create(
        name="Energy Regulatory Agency", slug="energy-regulator", kind="regulator", sector="energy", country="XA"
    )
    contact = Contact.objects.create(
        organisation=regulator, name="Regulator Duty Desk", email="desk@regulator.example", channels=["email"]
    )
    rule = RoutingRule.objects.create(
        name="Energy, level 3 and above", condition={"level": ">= 3", "sector": "energy"}, events=["reported"]
    )
    rule.contacts.set([contact])
    return contact


@pytest.fixture
def week(reporter: User, ministry_reporter: User, analyst: User, regulator_contact: Contact) -> Week:
    old_open = report(
        ministry_reporter,
        "Phishing wave at the ministry",
        at=at(1, 9) - dt.timedelta(days=10),
        facts=dict(PHISHING),
        tlp=TLP.CLEAR,
    )
    closed_before = report(
        reporter, "Scan of the grid's web servers", at=at(5, 10), facts=dict(PHISHING), tlp=TLP.GREEN
    )
    move(closed_before, analyst, at(5, 11), "triaged")
    move(closed_before, analyst, at(8, 11), "resolved")
    move(closed_before, analyst, at(9, 11), "closed")
    closed_after = report(ministry_reporter, "Ministry mail server defaced", at=at(6, 12), facts=dict(PHISHING))
    move(closed_after, analyst, at(6, 13), "triaged", "investigating")
    move(closed_after, analyst, at(11, 10), "resolved")
    escalated = report(
        ministry_reporter, "Ministry payroll portal slow", at=at(8, 9), facts=dict(PHISHING), tlp=TLP.GREEN
    )
    with clock.frozen(at(10, 14)):
        services.update_facts(incident=escalated, actor=analyst, changes=dict(GRID_DOWN))
    new_amber = report(reporter, "Grid control room dark", at=at(10, 8), description=AMBER_SECRET)
    move(new_amber, analyst, at(10, 11), "triaged")
    new_red = report(reporter, "Substation safety system tampered", at=at(10, 9, 30), tlp=TLP.RED)
    move(new_red, analyst, at(10, 12), "triaged")
    after_day = report(reporter, "Grid billing outage", at=at(11, 8))
    return Week(old_open, closed_before, closed_after, escalated, new_amber, new_red, after_day)
