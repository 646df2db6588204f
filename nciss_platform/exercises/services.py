"""Exercise runs: creating them, assigning players, and taking their events (docs/exercises.md).

A run never touches real incidents, shares, notifications or the outbox: its state is the
engine's (``nciss.exercises``), rebuilt by replaying the run's stored events, and everything
teams send each other is an event of the run. Each change is one function here: a transaction,
the engine's validation, and an audit row marked ``exercise.*``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from django.db import transaction

from nciss.exercises import Exercise, ExerciseError, Scenario, ScenarioError, shipped_scenarios
from nciss.exercises.engine import FACILITATOR, Entry
from nciss.exercises.scenario import scenario_from_definition
from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.audit import services as audit
from nciss_platform.exercises.models import ExerciseRun, Participant, RunEvent

FACILITATING_ROLES = (User.Role.COORDINATOR, User.Role.ADMINISTRATOR)
MAX_SOURCE_CHARS = 500_000


def shipped() -> dict[str, str]:
    """The shipped scenarios' YAML by id (``hospital-ransomware`` ...)."""
    return {p.name.removesuffix(".scenario.yaml"): p.read_text("utf-8") for p in shipped_scenarios()}


@lru_cache(maxsize=32)
def scenario_of(source: str) -> Scenario:
    """The scenario a YAML text defines; ScenarioError lists every problem (``path: reason``).

    Scale files it names are read beside the shipped scenarios (``borealia.scale.yaml``).
    """
    if len(source) > MAX_SOURCE_CHARS:
        raise ScenarioError([("(file)", f"larger than {MAX_SOURCE_CHARS} characters")])
    try:
        definition = yaml.safe_load(source)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        raise ScenarioError([(where, f"not valid YAML: {getattr(e, 'problem', None) or e}")]) from None
    return scenario_from_definition(definition, base=shipped_scenarios()[0].parent)


def exercise_of(run: ExerciseRun) -> Exercise:
    """The run's state: its scenario with its events replayed."""
    return Exercise.replay(scenario_of(run.source), (e.data for e in run.events.order_by("seq")))


def can_facilitate(user: Any, run: ExerciseRun | None = None) -> bool:
    """Coordinators and administrators lead exercises; so does a run's own facilitator."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.role in FACILITATING_ROLES:
        return True
    return run is not None and run.facilitator_id == user.pk


def team_of(user: Any, run: ExerciseRun) -> str | None:
    """The team ``user`` plays in ``run``, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return run.participants.filter(user=user).values_list("team", flat=True).first()


def played_runs(user: User) -> dict[int, str]:
    """The team ``user`` plays, by run id."""
    return dict(Participant.objects.filter(user=user).values_list("run_id", "team"))


def create_run(facilitator: User, source: str) -> ExerciseRun:
    """A new run of the scenario ``source`` (YAML), ready to start; ScenarioError if it is not valid."""
    scenario = scenario_of(source)
    with transaction.atomic():
        run = ExerciseRun.objects.create(
            scenario_id=scenario.id,
            title=scenario.title.get_for("en"),
            source=source,
            facilitator=facilitator,
            created_at=clock.now(),
        )
        audit.record(facilitator, "exercise.create", run, {"scenario": scenario.id, "exercise": True})
    return run


def assign(actor: User, run: ExerciseRun, user: User, team: str) -> Participant:
    """``user`` plays ``team`` in ``run`` (one team per user and run); ExerciseError for an unknown team."""
    scenario = scenario_of(run.source)
    if team not in scenario.teams:
        raise ExerciseError([("team", f"no team {team!r} (teams: {', '.join(scenario.teams)})")])
    with transaction.atomic():
        participant, _created = Participant.objects.update_or_create(run=run, user=user, defaults={"team": team})
        audit.record(actor, "exercise.assign", run, {"user": user.username, "team": team, "exercise": True})
    return participant


def take(run: ExerciseRun, actor: User, event: dict[str, Any]) -> list[Entry]:
    """Apply one event (the facilitator's, or a team's with ``by``) to ``run`` and keep it.

    ExerciseError (nothing kept) when the engine refuses it. Runs are locked while an event is
    taken, so two players acting at once are applied one after the other.
    """
    with transaction.atomic():
        locked = ExerciseRun.objects.select_for_update().get(pk=run.pk)
        exercise = exercise_of(locked)
        entries = exercise.apply(event)
        kept = exercise.events[-1]
        RunEvent.objects.create(run=locked, seq=len(exercise.events), data=kept, actor=actor, at=clock.now())
        locked.phase, locked.minute = exercise.phase, exercise.minute
        locked.save(update_fields=["phase", "minute"])
        audit.record(
            actor,
            "exercise.event",
            locked,
            {"by": kept.get("by", FACILITATOR), "do": kept["do"], "minute": kept["minute"], "exercise": True},
        )
    run.phase, run.minute = locked.phase, locked.minute
    return entries
