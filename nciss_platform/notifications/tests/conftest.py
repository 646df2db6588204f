"""A small stakeholder directory for the notification tests, on top of the incident personas.

Organisations: the energy regulator (a duty desk at tier 1 in Russian, its head at tier 2 in
Uzbek), the national crisis cell (tier 1 in English), the CSIRT's own duty desk, and a partner
CSIRT abroad. ``energy_rule`` is the issue's example: level >= 3 in energy -> the energy
regulator and the crisis cell, acknowledged within 2 hours.
"""

from __future__ import annotations

import datetime as dt

import pytest

from nciss_platform.accounts.models import Organisation
from nciss_platform.incidents.tests.conftest import *  # noqa: F403  (the incident personas and helpers)
from nciss_platform.notifications.models import Contact, RoutingRule


@pytest.fixture
def regulator(db: None) -> Organisation:
    return Organisation.objects.create(
        name="Energy Regulatory Agency", slug="energy-regulator", kind="regulator", sector="energy", country="XA"
    )


@pytest.fixture
def crisis_cell(db: None) -> Organisation:
    return Organisation.objects.create(name="National Crisis Cell", slug="crisis-cell", kind="agency", country="XA")


@pytest.fixture
def foreign_csirt(db: None) -> Organisation:
    return Organisation.objects.create(name="Veskaria CSIRT", slug="veskaria-csirt", kind="partner", country="XB")


def make_contact(organisation: Organisation, name: str, **fields: object) -> Contact:
    fields.setdefault("email", f"{name.lower().replace(' ', '.')}@{organisation.slug}.example")
    fields.setdefault("channels", ["email"])
    return Contact.objects.create(organisation=organisation, name=name, **fields)


@pytest.fixture
def regulator_desk(regulator: Organisation) -> Contact:
    return make_contact(regulator, "Regulator Duty Desk", language="ru", tier=1)


@pytest.fixture
def regulator_head(regulator: Organisation) -> Contact:
    return make_contact(regulator, "Regulator Head", language="uz", tier=2)


@pytest.fixture
def crisis_desk(crisis_cell: Organisation) -> Contact:
    return make_contact(crisis_cell, "Crisis Cell Watch", language="en", tier=1)


@pytest.fixture
def csirt_desk(csirt: Organisation) -> Contact:
    return make_contact(csirt, "CSIRT Duty Desk", tier=1)


@pytest.fixture
def csirt_head(csirt: Organisation) -> Contact:
    return make_contact(csirt, "Head of CSIRT", tier=2)


@pytest.fixture
def foreign_poc(foreign_csirt: Organisation) -> Contact:
    return make_contact(foreign_csirt, "Veskaria CBM 8 Point of Contact", language="ru", tier=1)


@pytest.fixture
def energy_rule(
    regulator: Organisation,
    crisis_cell: Organisation,
    regulator_desk: Contact,
    regulator_head: Contact,
    crisis_desk: Contact,
) -> RoutingRule:
    rule = RoutingRule.objects.create(
        name="Energy, level 3 and above",
        condition={"level": ">= 3", "sector": "energy"},
        events=["reported", "level_raised"],
        tier=1,
        ack_within=dt.timedelta(hours=2),
        order=10,
    )
    rule.organisations.set([regulator, crisis_cell])
    return rule
