"""The people of the sharing tests: the incident tests' personas plus partners abroad.

Veskaria's agency (CISA NCISS scale, Russian) has ``partner`` and ``colleague``; Ostmark's
centre (UK NCSC categories, English) has ``ostmark_partner``. Both are in the partner group
``network`` ("CSIRT network"). ``grid_incident`` is the energy operator's report with every
fact the CISA scale reads, so that its level there is settled while the UK's waits on
fatalities.
"""

from __future__ import annotations

from typing import Any

import pytest

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents.models import Incident, Observable
from nciss_platform.incidents.tests import conftest as incident_tests
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.sharing.models import PartnerGroup

# The incident tests' fixtures, shared here.
media = incident_tests.media
without_2fa = incident_tests.without_2fa
api = incident_tests.api
ministry = incident_tests.ministry  # csirt and energy are project-wide (nciss_platform/conftest.py)
reporter, ministry_reporter = incident_tests.reporter, incident_tests.ministry_reporter
analyst, coordinator = incident_tests.analyst, incident_tests.coordinator
veskaria, ostmark, partner = incident_tests.veskaria, incident_tests.ostmark, incident_tests.partner

GRID_FACTS: dict[str, Any] = {
    "classification": "intrusions:system-compromise",
    "root_cause": "malicious-actions",
    "malicious": True,
    "functional_impact": "denial-critical",
    "observed_activity": "effect",
    "location": "critical-systems",
    "actor": "criminal",
    "information_impact": "no-impact",
    "recoverability": "regular",
    "potential_impact": "moderate",
}


@pytest.fixture
def colleague(veskaria: Organisation) -> User:
    """Another person at Veskaria's agency, reading in English."""
    return User.objects.create_user("veskaria-colleague", role="partner", organisation=veskaria)


@pytest.fixture
def ostmark_partner(ostmark: Organisation) -> User:
    return User.objects.create_user("ostmark-partner", role="partner", organisation=ostmark)


@pytest.fixture
def network(veskaria: Organisation, ostmark: Organisation) -> PartnerGroup:
    group = PartnerGroup.objects.create(name="CSIRT network", slug="csirt-network")
    group.organisations.set([veskaria, ostmark])
    return group


@pytest.fixture
def grid_incident(reporter: User) -> Incident:
    incident = report(
        reporter,
        "Intrusion into the substation control network",
        facts=dict(GRID_FACTS),
        description="Engineering workstations show remote sessions nobody started.",
    )
    Observable.objects.create(incident=incident, type="ipv4-addr", value="203.0.113.7", comment="seen on our VPN")
    return incident
