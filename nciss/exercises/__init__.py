"""Table-top exercises on the OSCE cyber/ICT confidence-building measures (docs/exercises.md).

Plain Python, like the rest of the core:

- ``load_scenario(path)``: a scenario file, validated (``ScenarioError`` with ``path: reason``);
- ``Exercise(scenario)``: the engine, a state machine (events in, state and timeline out);
- ``load_script(path, scenario)``, ``run_script(scenario, steps)``: scripted runs;
- ``after_action(exercise, lang)``: what the after-action report shows;
- ``team_view(exercise, team)``: what one team sees, in its language and on its scale;
- ``cbms()``: the 16 CBMs; ``shipped_scenarios()``: the scenarios nciss ships.
"""

from pathlib import Path

from nciss.exercises.catalogue import cbms, response_actions
from nciss.exercises.engine import Exercise, ExerciseError
from nciss.exercises.review import after_action, team_view
from nciss.exercises.scenario import Scenario, ScenarioError, load_scenario
from nciss.exercises.script import load_script, run_script

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def shipped_scenarios() -> list[Path]:
    """The scenario files nciss ships; each has a script beside it (``*.script.yaml``)."""
    return sorted(SCENARIOS.glob("*.scenario.yaml"))


__all__ = [
    "Exercise",
    "ExerciseError",
    "Scenario",
    "ScenarioError",
    "after_action",
    "cbms",
    "load_scenario",
    "load_script",
    "response_actions",
    "run_script",
    "shipped_scenarios",
    "team_view",
]
