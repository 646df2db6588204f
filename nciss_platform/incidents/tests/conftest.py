"""The people and organisations of the incident tests.

Two reporting organisations (an energy operator and a ministry) and the national CSIRT;
personas: ``reporter`` (the energy operator's), ``ministry_reporter``, ``analyst``,
``coordinator`` and ``administrator`` (of the CSIRT); partners abroad: ``veskaria`` (CISA NCISS
scale, Russian) with its ``partner``, and ``ostmark`` (UK NCSC categories). ``report(user, ...)``
files an incident through the service, as the report form would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from nciss_platform import clock
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.incidents import services
from nciss_platform.incidents.models import Assessment, Attachment, Incident, ReferenceCounter, TimelineEntry

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
GRID_DOWN = {"functional_impact": "denial-critical", "observed_activity": "effect", "location": "critical-systems"}


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Attachments go to a fresh folder, never into the working directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def without_2fa(settings: Any) -> None:
    """Staff sign in with a password alone (the tests of the second factor live with accounts)."""
    settings.NCISS_REQUIRE_2FA = False


@pytest.fixture
def ministry(db: None) -> Organisation:
    return Organisation.objects.create(
        name="Ministry of Finance",
        slug="ministry-of-finance",
        kind="agency",
        sector="public-administration",
        criticality="essential",
        size="central-government",
        country="XA",
    )


@pytest.fixture
def reporter(energy: Organisation) -> User:
    return User.objects.create_user("grid-reporter", role="reporter", organisation=energy)


@pytest.fixture
def ministry_reporter(ministry: Organisation) -> User:
    return User.objects.create_user("ministry-reporter", role="reporter", organisation=ministry)


@pytest.fixture
def analyst(csirt: Organisation) -> User:
    return User.objects.create_user("analyst", role="analyst", organisation=csirt)


@pytest.fixture
def coordinator(csirt: Organisation) -> User:
    return User.objects.create_user("coordinator", role="coordinator", organisation=csirt)


@pytest.fixture
def administrator(csirt: Organisation) -> User:
    return User.objects.create_user("administrator", role="administrator", organisation=csirt, is_staff=True)


@pytest.fixture
def veskaria(db: None) -> Organisation:
    """A partner abroad that reads incidents on the CISA NCISS scale, in Russian."""
    return Organisation.objects.create(
        name="Veskarian Cyber Defence Agency",
        slug="veskaria-cda",
        kind="partner",
        country="XB",
        preferred_scale="cisa-nciss",
        language="ru",
    )


@pytest.fixture
def ostmark(db: None) -> Organisation:
    """A partner abroad that reads incidents on the UK NCSC categories, in English."""
    return Organisation.objects.create(
        name="Ostmark National Cyber Centre",
        slug="ostmark-ncc",
        kind="partner",
        country="XC",
        preferred_scale="uk-ncsc",
    )


@pytest.fixture
def partner(veskaria: Organisation) -> User:
    """A person at Veskaria's agency, reading in Russian."""
    return User.objects.create_user("veskaria-partner", role="partner", organisation=veskaria, language="ru")


@pytest.fixture
def personas(
    reporter: User, ministry_reporter: User, analyst: User, coordinator: User, administrator: User
) -> dict[str, User]:
    return {
        "reporter": reporter,
        "ministry_reporter": ministry_reporter,
        "analyst": analyst,
        "coordinator": coordinator,
        "administrator": administrator,
    }


def report(user: User, title: str = "Grid control room dark", at: dt.datetime = T0, **kwargs: Any) -> Incident:
    """An incident reported by ``user`` at ``at``; ``facts`` default to a grid outage."""
    kwargs.setdefault("facts", dict(GRID_DOWN))
    with clock.frozen(at):
        return services.report_incident(actor=user, title=title, **kwargs)


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    """A client signed in (by session) as the user, or anonymous for None."""

    def client_for(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return client_for


def database_state() -> dict[str, Any]:
    """Every incident row and everything hanging off incidents, to compare before and after a refusal."""
    through = Incident.affected_organisations.through, Incident.red_recipients.through, Incident.related.through
    return {
        "incidents": list(Incident.objects.order_by("pk").values()),
        "links": [list(model.objects.order_by("pk").values()) for model in through],
        "assessments": list(Assessment.objects.order_by("pk").values_list("pk", flat=True)),
        "timeline": list(TimelineEntry.objects.order_by("pk").values_list("pk", flat=True)),
        "attachments": list(Attachment.objects.order_by("pk").values_list("pk", flat=True)),
        "audit": list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True)),
        "references": list(ReferenceCounter.objects.values()),
    }


@pytest.fixture
def unchanged() -> Callable[[], AbstractContextManager[None]]:
    """``with unchanged(): ...`` fails if anything in the database changed inside the block."""

    @contextmanager
    def check() -> Iterator[None]:
        before = database_state()
        yield
        assert database_state() == before

    return check
