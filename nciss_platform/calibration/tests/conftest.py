"""People, incidents and drafts of the calibration tests.

``owner`` (a scale owner), ``administrator``, ``analysts`` (three), ``reporter`` at an energy
operator; ``history``: three incidents of that operator whose levels differ; ``lower_thresholds``:
the osce-reference definition with every score threshold lowered, so that incidents move up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from nciss.scales import scale_from_definition
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.calibration import definition_form, services
from nciss_platform.incidents.models import Incident
from nciss_platform.incidents.tests.conftest import report

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
FACTS = [
    {"functional_impact": "denial-critical", "observed_activity": "effect", "location": "critical-systems"},
    {"functional_impact": "minimal-non-critical", "observed_activity": "presence", "actor": "criminal"},
    {"functional_impact": "no-impact", "observed_activity": "engage", "information_impact": "suspected"},
]


@pytest.fixture(autouse=True)
def _without_2fa(settings: Any) -> None:
    settings.NCISS_REQUIRE_2FA = False


@pytest.fixture
def owner(csirt: Organisation) -> User:
    return User.objects.create_user("owner", role="scale_owner", organisation=csirt)


@pytest.fixture
def administrator(csirt: Organisation) -> User:
    return User.objects.create_user("admin", role="administrator", organisation=csirt, is_staff=True)


@pytest.fixture
def analysts(csirt: Organisation) -> list[User]:
    return [User.objects.create_user(f"analyst{i}", role="analyst", organisation=csirt) for i in range(3)]


@pytest.fixture
def reporter(energy: Organisation) -> User:
    return User.objects.create_user("reporter", role="reporter", organisation=energy)


@pytest.fixture
def history(reporter: User) -> list[Incident]:
    return [
        report(reporter, f"Incident {i}", T0 + dt.timedelta(hours=i), facts=dict(facts), description="What happened.")
        for i, facts in enumerate(FACTS)
    ]


@pytest.fixture
def lower_thresholds() -> str:
    """The national scale's text with the score thresholds lowered and a new version label."""
    definition = yaml.safe_load(services.current_source("osce-reference"))
    changed, errors = definition_form.apply(
        definition, {f"threshold-{i}": str(v) for i, v in enumerate([2, 8, 14, 20, 30])}
    )
    assert not errors
    changed["version"] = "1.1-test"
    scale_from_definition(changed)  # valid
    return definition_form.dump(changed)
