"""A known small history for the dashboard tests, written straight into the tables at fixed times.

At ``NOW`` (2026-03-10 12:00 UTC) on the national scale (osce-reference, the CSIRT around the
clock); targets per level: High 2 h / 8 h / 14 d, Severe 30 min / 2 h / 7 d, Emergency
15 min / 1 h / 3 d, Medium 8 h / 1 d / 30 d, Low 1 d / 3 d / 60 d.

| | level | sector | class | reported | triaged | first response | resolved | status |
|---|---|---|---|---|---|---|---|---|
| A | High 3 | energy | availability | NOW-2 d | +1 h (met) | +3 h (met) | +1 d (met) | resolved |
| B | High 3 | energy | availability | NOW-47 h | +5 h (late) | +6 h (met) | | investigating |
| C | Low 1 | banking | fraud | NOW-27 h | (late) | | | reported |
| D | Emergency 5 | health | intrusions | NOW-1 h | (late) | | | reported |
| E | Baseline 0 | none | other | 2026-02-01 | | | | closed |
| F | Medium 2 | energy | availability | NOW-3 h | +10 min (met) | | | triaged; escalated from Low 2 h ago |
| G | Severe 4, TLP:RED | energy | intrusions | NOW-5 h | +20 min (met) | (late) | | triaged |
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents.models import TLP, Incident, TimelineEntry

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


@pytest.fixture
def people(csirt: Organisation, energy: Organisation) -> dict[str, User]:
    return {
        role: User.objects.create_user(role, role=role, organisation=energy if role == "reporter" else csirt)
        for role in ("reporter", "analyst", "coordinator", "administrator")
    }


def make(reference: str, reporter: User, organisation: Organisation, **fields: Any) -> Incident:
    fields.setdefault("updated_at", fields["reported_at"])
    incident = Incident.objects.create(
        reference=f"NCISS-2026-{reference}",
        title=f"Incident {reference}",
        reporting_organisation=organisation,
        created_by=reporter,
        **fields,
    )
    Incident.objects.filter(pk=incident.pk).update(updated_at=fields["updated_at"])  # auto_now set it to today
    return incident


@pytest.fixture
def history(people: dict[str, User], energy: Organisation) -> dict[str, Incident]:
    r = people["reporter"]
    out = {
        "A": make("000001", r, energy, level=3, sector="energy", classification="availability:dos", status="resolved",
                  reported_at=NOW - 48 * H, triaged_at=NOW - 47 * H, first_response_at=NOW - 45 * H, resolved_at=NOW - 24 * H),
        "B": make("000002", r, energy, level=3, sector="energy", classification="availability:ddos", status="investigating",
                  reported_at=NOW - 47 * H, triaged_at=NOW - 42 * H, first_response_at=NOW - 41 * H),
        "C": make("000003", r, energy, level=1, sector="banking", classification="fraud:phishing", status="reported",
                  reported_at=NOW - 27 * H, due_at=NOW - 3 * H),
        "D": make("000004", r, energy, level=5, sector="health", classification="intrusions:system-compromise",
                  status="reported", reported_at=NOW - H, due_at=NOW - 45 * dt.timedelta(minutes=1)),
        "E": make("000005", r, energy, level=0, sector="", classification="other:other", status="closed",
                  reported_at=dt.datetime(2026, 2, 1, 8, tzinfo=dt.UTC), closed_at=dt.datetime(2026, 2, 2, tzinfo=dt.UTC)),
        "F": make("000006", r, energy, level=2, sector="energy", classification="availability:ddos", status="triaged",
                  reported_at=NOW - 3 * H, triaged_at=NOW - 3 * H + dt.timedelta(minutes=10)),
        "G": make("000007", r, energy, level=4, sector="energy", classification="intrusions:application-compromise",
                  status="triaged", tlp=TLP.RED, reported_at=NOW - 5 * H, triaged_at=NOW - 5 * H + dt.timedelta(minutes=20)),
    }  # fmt: skip
    for incident, at, level, previous in (("F", NOW - 2 * H, 2, 1), ("B", NOW - H, 3, 3), ("A", NOW - 30 * H, 3, 1)):
        TimelineEntry.objects.create(
            incident=out[incident], kind="assessment", created_at=at, data={"level": level, "previous": previous}
        )
    return out


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def without_2fa(settings: Any) -> None:
    settings.NCISS_REQUIRE_2FA = False
