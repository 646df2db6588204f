"""The people and runs of the exercise page tests: a facilitator, one player per team, scripted play.

``play(run, facilitator, players, steps)`` plays a script's steps through ``services.take``, each
by the user who would click it, as ``nciss.exercises.run_script`` plays them in the engine.
"""

from __future__ import annotations

from typing import Any

import pytest

from nciss.exercises import load_script, shipped_scenarios
from nciss.exercises.engine import FACILITATOR
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.exercises import services
from nciss_platform.exercises.models import ExerciseRun
from nciss_platform.incidents.tests import conftest as incident_tests

# The incident tests' fixtures, shared here (csirt and energy are project-wide: nciss_platform/conftest.py).
media, without_2fa = incident_tests.media, incident_tests.without_2fa
reporter, analyst, coordinator = incident_tests.reporter, incident_tests.analyst, incident_tests.coordinator

SCRIPTS = {
    p.name.removesuffix(".scenario.yaml"): p.with_name(p.name.replace(".scenario.", ".script."))
    for p in shipped_scenarios()
}


def new_run(facilitator: User, scenario: str = "hospital-ransomware") -> ExerciseRun:
    return services.create_run(facilitator, services.shipped()[scenario])


def players_of(run: ExerciseRun, facilitator: User, organisation: Organisation) -> dict[str, User]:
    """One analyst per team of ``run``, assigned by ``facilitator``: team id -> user."""
    players = {}
    for team in services.scenario_of(run.source).teams:
        players[team] = User.objects.create_user(f"{run.pk}-{team}", role="analyst", organisation=organisation)
        services.assign(facilitator, run, players[team], team)
    return players


def play(run: ExerciseRun, facilitator: User, players: dict[str, User], scenario: str) -> None:
    """The shipped script of ``scenario``, clicked through: the facilitator advances the clock before each step."""
    steps = load_script(SCRIPTS[scenario], services.scenario_of(run.source))
    for step in steps:
        event: dict[str, Any] = {k: v for k, v in step.items() if k != "at"}
        if step["at"] > run.minute and run.phase == "running":
            services.take(run, facilitator, {"by": FACILITATOR, "do": "advance", "to": step["at"]})
        services.take(run, players.get(step["by"], facilitator), event)
    if run.phase != "ended":
        services.take(run, facilitator, {"by": FACILITATOR, "do": "end"})


@pytest.fixture
def run(coordinator: User) -> ExerciseRun:
    return new_run(coordinator)


@pytest.fixture
def players(run: ExerciseRun, coordinator: User, csirt: Organisation) -> dict[str, User]:
    return players_of(run, coordinator, csirt)
