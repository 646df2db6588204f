"""Scripted runs: the facilitator's and teams' decisions as data, played without a browser.

A script is YAML: ``scenario: ID`` and ``steps``, each an engine event (nciss.exercises.engine)
with ``at``, the exercise minute it happens (minutes or ``30m``/``2h``; never earlier than the
step before). ``by`` defaults to the facilitator. The clock advances to each step's ``at``
first; a run that has not ended ends after its last step.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from nciss.exercises.engine import FACILITATOR, Exercise, ExerciseError
from nciss.exercises.scenario import AT_PATTERN, Scenario, ScenarioError, minutes
from nciss.scales import ScaleError, read_definition


def load_script(path: str | Path, scenario: Scenario) -> list[dict[str, Any]]:
    """The steps of a script for ``scenario``, each with ``at`` in minutes; ScenarioError lists every problem."""
    path = Path(path)
    try:
        raw = read_definition(path)
    except ScaleError as e:
        raise ScenarioError(e.errors, str(path)) from None
    errors: list[tuple[str, str]] = []
    if not isinstance(raw, dict) or not isinstance(raw.get("steps"), list) or not raw["steps"]:
        raise ScenarioError([("steps", "expected a non-empty list of steps")], str(path))
    if raw.get("scenario", scenario.id) != scenario.id:
        errors.append(("scenario", f"this script is for {raw['scenario']!r}, not {scenario.id!r}"))
    steps: list[dict[str, Any]] = []
    last = 0
    for i, step in enumerate(raw["steps"]):
        where = f"steps[{i}]"
        if not isinstance(step, dict) or not isinstance(step.get("do"), str):
            errors.append((f"{where}.do", "required: what to do"))
            continue
        at = step.get("at", last)
        valid_at = (isinstance(at, int) and not isinstance(at, bool) and at >= 0) or (
            isinstance(at, str) and _matches(at)
        )
        if not valid_at:
            errors.append((f"{where}.at", "expected minutes, or a time such as 30m, 4h or 1d"))
            continue
        at = minutes(at)
        if at < last:
            errors.append((f"{where}.at", f"earlier than the step before ({last})"))
        by = step.get("by", FACILITATOR)
        if by != FACILITATOR and by not in scenario.teams:
            errors.append((f"{where}.by", f"no team {by!r} (teams: {', '.join(scenario.teams)})"))
        last = max(last, at)
        steps.append({**step, "at": at, "by": by})
    if errors:
        raise ScenarioError(errors, str(path))
    return steps


def _matches(text: str) -> bool:
    return re.match(AT_PATTERN, text) is not None


def run_script(scenario: Scenario, steps: list[dict[str, Any]]) -> Exercise:
    """Play ``steps`` (from ``load_script``); ExerciseError names the step that could not be taken."""
    exercise = Exercise(scenario)
    for i, step in enumerate(steps):
        event = {k: v for k, v in step.items() if k != "at"}
        try:
            if step["at"] > exercise.minute and exercise.phase == "running":
                exercise.apply({"by": FACILITATOR, "do": "advance", "to": step["at"]})
            exercise.apply(event)
        except ExerciseError as e:
            raise ExerciseError([(f"steps[{i}].{p}", r) for p, r in e.errors]) from None
    if exercise.phase != "ended":
        exercise.apply({"by": FACILITATOR, "do": "end"})
    return exercise
