"""The campaign tests: the incident tests' personas, more organisations, and incidents hitting them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents.models import Incident, Observable
from nciss_platform.incidents.tests.conftest import *  # noqa: F403  (the incident personas and helpers)
from nciss_platform.incidents.tests.conftest import T0, report

COMPROMISE = "intrusions:system-compromise"
MINOR = {"functional_impact": "minimal-non-critical", "observed_activity": "presence"}
Hit = Callable[..., Incident]


def hours(n: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=n)


@pytest.fixture
def organisations(db: None) -> Callable[..., list[Organisation]]:
    """``organisations(n, sector="energy", criticality="essential")``: n more organisations."""
    made = 0

    def make(n: int, sector: str = "energy", criticality: str = "essential") -> list[Organisation]:
        nonlocal made
        out = []
        for _ in range(n):
            made += 1
            out.append(
                Organisation.objects.create(
                    name=f"Operator {made}",
                    slug=f"operator-{made}",
                    kind="operator",
                    sector=sector,
                    criticality=criticality,
                    size="medium",
                    country="XA",
                )
            )
        return out

    return make


@pytest.fixture
def hit(analyst: User) -> Hit:
    """``hit(organisation, at_hours, classification=..., observables=[(type, value)], **report_kwargs)``:
    an incident at ``organisation``, reported by the CSIRT's analyst ``at_hours`` after T0."""

    def make(
        organisation: Organisation,
        at_hours: float,
        classification: str = COMPROMISE,
        observables: tuple[tuple[str, str], ...] = (),
        facts: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Incident:
        kwargs.setdefault("actor", analyst)
        incident = report(
            kwargs.pop("actor"),
            title=f"{classification} at {organisation.name}",
            at=hours(at_hours),
            facts={"classification": classification, **MINOR, **(facts or {})},
            affected_organisations=[organisation],
            **kwargs,
        )
        Observable.objects.bulk_create(Observable(incident=incident, type=t, value=v) for t, v in observables)
        return incident

    return make
