"""Exercises: scenarios as data, the engine's clock, injects, levels, divergences and escalation."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nciss import assess, load_scale
from nciss.exercises import (
    Exercise,
    ExerciseError,
    ScenarioError,
    after_action,
    cbms,
    load_scenario,
    load_script,
    run_script,
    shipped_scenarios,
    team_view,
)
from nciss.exercises.engine import read_across
from nciss.exercises.scenario import CONTEXT, Scenario
from nciss.rules import ConditionError, parse_condition
from nciss.texts import LANGUAGES

SCENARIOS = Path(__file__).resolve().parents[1] / "exercises" / "scenarios"
GRID = SCENARIOS / "cross-border-grid.scenario.yaml"
HOSPITAL = SCENARIOS / "hospital-ransomware.scenario.yaml"


@pytest.fixture(scope="module")
def grid() -> Scenario:
    return load_scenario(GRID)


@pytest.fixture(scope="module")
def hospital() -> Scenario:
    return load_scenario(HOSPITAL)


def scripted(scenario: Scenario) -> Exercise:
    path = SCENARIOS / f"{scenario.id}.script.yaml"
    return run_script(scenario, load_script(path, scenario))


def divergences(exercise: Exercise) -> list[tuple[str, tuple[str, str], int, int | None, str | None]]:
    return [(d.incident, d.teams, d.start, d.end, d.ended_by) for d in exercise.divergences]


def play(scenario: Scenario, *events: dict[str, Any]) -> Exercise:
    exercise = Exercise(scenario)
    for event in ({"do": "start"}, *events):
        exercise.apply(event)
    return exercise


# ---------------------------------------------------------------- data


def test_the_16_cbms_ship_with_names_and_descriptions_in_every_language() -> None:
    catalogue = cbms()
    assert [c.cbm for c in catalogue] == list(range(1, 17))
    for cbm in catalogue:
        assert all(cbm.name.get(lang) and cbm.description.get(lang) for lang in LANGUAGES), cbm.id
    assert {c.id for c in catalogue if c.reconciles} == {"cbm-3", "cbm-13", "cbm-15"}


def test_two_scenarios_ship_each_with_a_script_and_several_states_scales_and_languages() -> None:
    assert [p.name for p in shipped_scenarios()] == [GRID.name, HOSPITAL.name]
    for path in shipped_scenarios():
        scenario = load_scenario(path)
        assert (SCENARIOS / f"{scenario.id}.script.yaml").exists()
        assert len(scenario.teams) >= 2 and len(scenario.states) >= 2
        assert len({s.scale.id for s in scenario.states.values()}) == len(scenario.states)
        assert {t.language for t in scenario.teams.values()} >= {"uz", "ru"}
        for inject in scenario.injects:
            assert all(inject.text.get(lang) for lang in LANGUAGES), inject.id


def test_a_state_may_classify_on_a_fictional_scale_shipped_beside_the_scenario(hospital: Scenario) -> None:
    assert hospital.states["borealia"].scale.id == "borealia-national"
    assert [lv.name["en"] for lv in hospital.states["borealia"].scale.levels] == [
        "Minor",
        "Moderate",
        "Serious",
        "Critical",
    ]


def test_a_bad_scenario_gets_one_path_and_reason_per_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        """
id: bad
title: Bad
duration: 2h
states: [{id: a, name: A, country: XA, scale: nope, language: en}]
teams: [{id: t1, name: T, state: a, kind: csirt}, {id: t2, name: T2, state: b, kind: other}]
incidents: [{id: i, title: I}]
injects: [{id: j, at: 3h, to: [t1, t3], incident: i, title: J, text: J, reveals: {fatality: 1},
           when: {actions: contains cbm-99}}]
escalation: {rules: [{id: r, when: {action: attack}, change: 1}]}
""",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as raised:
        load_scenario(bad)
    assert raised.value.source == str(bad)
    assert raised.value.errors == [
        (
            "states[0].scale",
            "cannot load 'nope': scale: unknown scale 'nope': not a preset "
            "(osce-reference, cisa-nciss, uk-ncsc, eu-nis2) nor a file",
        ),
        ("teams[1].state", "no State 'b' (known: a)"),
        ("injects[0].at", "after the end of the exercise (120 minutes)"),
        ("injects[0].to[1]", "no team 't3' (known: t1, t2)"),
        ("injects[0].when", "actions: no action 'cbm-99' in this scenario"),
        ("injects[0].reveals.fatality", "unknown fact"),
        ("escalation.rules[0].when", "action: no action 'attack' in this scenario"),
    ]


def test_shape_errors_read_like_scale_errors(tmp_path: Path) -> None:
    bad = tmp_path / "shape.yaml"
    bad.write_text("id: Bad\ntitle: x\nduration: soon\nstates: []\nteams: []\nincidents: []\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(bad)
    assert raised.value.errors == [
        ("duration", "expected minutes, or a time such as 30m, 4h or 1d"),
        ("id", "'Bad' is not valid here (expected lower-case letters, digits and dashes)"),
        ("incidents", "needs at least 1 item(s)"),
        ("injects", "required"),
        ("states", "needs at least 1 item(s)"),
        ("teams", "needs at least 2 item(s)"),
    ]


def test_a_condition_in_a_scenario_is_the_rule_language_and_names_its_place(grid: Scenario, tmp_path: Path) -> None:
    text = GRID.read_text(encoding="utf-8").replace("when: {action: attribute}", "when: {action: attribute, levle: 3}")
    broken = tmp_path / "grid.yaml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(broken)
    assert raised.value.errors == [("escalation.rules[0].when.levle", "unknown fact")]


# ---------------------------------------------------------------- the shipped runs


def test_the_grid_rehearsal_diverges_consults_and_calms_down(grid: Scenario) -> None:
    exercise = scripted(grid)
    assert exercise.phase == "ended" and exercise.minute == 240
    assert divergences(exercise) == [
        ("grid-disruption", ("aralia-csirt", "veskaria-cda"), 40, 75, "agreement"),
        ("grid-disruption", ("aralia-csirt", "veskaria-mfa"), 80, 100, "cbm-3"),
        ("grid-disruption", ("veskaria-cda", "veskaria-mfa"), 80, 105, "agreement"),
    ]
    assert exercise.inject_status["joint-statement"] == "delivered"  # the branch taken after consultations
    assert exercise.inject_status["sanctions-call"] == "skipped"
    assert [(m, v, why) for m, _pair, v, why in exercise.escalation_history] == [
        (0, 1, "initial"),
        (90, 2, "political-pressure"),
        (100, 1, "consultation"),
        (120, 0, "joint-statement"),
    ]
    # The ministry's own view of the exercise, as its timeline shows it
    ministry = [
        (e.minute, e.kind, e.data.get("inject") or e.data.get("action") or e.data.get("rule") or e.data.get("rank"))
        for e in exercise.timeline
        if "veskaria-mfa" in e.teams
    ]
    assert ministry == [
        (30, "inject", "load-shedding-veskaria"),
        (30, "level", 1),  # Category 5 on the UK scale, from what Veskaria knows
        (45, "action", "cbm-8"),  # Aralia's CSIRT reaching Veskaria's contact point
        (80, "assess", 1),
        (80, "divergence-start", None),  # with the Aralian CSIRT
        (80, "divergence-start", None),  # with its own country's agency
        (90, "inject", "media-blame"),
        (90, "escalation", "political-pressure"),
        (100, "action", "cbm-3"),
        (100, "divergence-end", None),
        (100, "escalation", "consultation"),
        (105, "level", 4),  # the agency's facts: Category 2
        (105, "notify", 4),
        (105, "divergence-end", None),
        (120, "inject", "joint-statement"),
        (120, "escalation", "joint-statement"),
        (200, "action", "public-statement"),
    ]
    report = after_action(exercise)
    assert [(o["id"], o["met"]) for o in report["objectives"]] == [
        ("contact-points", True),
        ("consult-before-attributing", True),
        ("align-classifications", False),  # 35 + 20 + 25 minutes apart
        ("contain-escalation", True),
    ]
    assert report["divergence_minutes"] == 80
    cbm3 = next(c for c in report["cbms"] if c["cbm"] == 3)
    assert cbm3["effects"] == [
        {
            "kind": "divergence-ended",
            "teams": "Aralia national CSIRT / Veskaria Ministry of Foreign Affairs",
            "incident": "Interconnector trip and grid outage",
        },
        {"kind": "escalation", "pair": "Republic of Aralia / Veskaria", "before": 2, "after": 1},
    ]


def test_the_hospital_rehearsal_reconciles_by_sharing_classification_and_law_enforcement(hospital: Scenario) -> None:
    exercise = scripted(hospital)
    assert divergences(exercise)[0] == ("hospital-ransomware", ("aralia-csirt", "borealia-csirt"), 55, 57, "cbm-15")
    assert all(d.end is not None for d in exercise.divergences)
    assert exercise.inject_status["site-taken-down"] == "delivered"
    assert exercise.inject_status["harbouring-accusation"] == "skipped"
    report = after_action(exercise, "ru")
    assert all(o["met"] for o in report["objectives"])
    assert report["peak_escalation"] == 1
    assert report["cbms"][0]["name"] == "Обмен классификацией инцидента"
    assert report["scenario"]["title"].startswith("Код синий")


def test_without_consultations_the_other_branch_comes_and_escalation_climbs(grid: Scenario) -> None:
    exercise = play(
        grid,
        {"do": "advance", "to": 100},
        {"by": "veskaria-mfa", "do": "attribute", "with": "aralia"},
        {"do": "advance", "to": 130},
    )
    assert exercise.inject_status["sanctions-call"] == "delivered"
    assert exercise.inject_status["joint-statement"] == "skipped"
    # 1, +1 media pressure at 90, +2 attribution at 100, +1 sanctions at 120 = 5, the top
    assert exercise.escalation[("aralia", "veskaria")] == 5
    exercise.apply({"by": "veskaria-mfa", "do": "attribute", "with": "aralia"})
    assert exercise.escalation[("aralia", "veskaria")] == 5  # never above the scenario's maximum


# ---------------------------------------------------------------- levels, sharing, divergence


def test_a_teams_level_is_the_engines_level_on_its_own_scale_from_what_it_knows(grid: Scenario) -> None:
    exercise = play(
        grid,
        {"by": "aralia-csirt", "do": "assess", "incident": "grid-disruption", "facts": {"potential_impact": "severe"}},
    )
    view = exercise.views["aralia-csirt"]["grid-disruption"]
    facts = {
        "sector": "energy",
        "entity_criticality": "critical",
        "entity_size": "large",
        "entity_country": "XA",
        "classification": "availability:sabotage",
        "functional_impact": "significant-critical",
        "users_affected": 180000,
        "observed_activity": "effect",
        "potential_impact": "severe",
    }
    expected = assess(load_scale("osce-reference"), facts)
    assert (view.rank, view.reachable_max) == (expected.rank, expected.reachable_max)
    assert exercise.views["veskaria-cda"] == {}  # nothing reached Veskaria yet


def test_a_share_without_facts_gives_the_crosswalked_level_on_the_recipients_scale(hospital: Scenario) -> None:
    exercise = play(hospital, {"do": "advance", "to": 25})
    exercise.apply(
        {"by": "borealia-csirt", "do": "share", "incident": "clinic-ransomware", "to": "aralia-csirt", "facts": False}
    )
    sender = exercise.views["borealia-csirt"]["clinic-ransomware"].rank
    assert sender is not None
    row = hospital.states["borealia"].scale.crosswalks["osce-reference"][sender]
    received = exercise.views["aralia-csirt"]["clinic-ransomware"]
    assert (received.rank, received.reachable_max) == (row.min, row.max)
    assert received.known == {}  # no facts travelled


def test_divergence_is_read_through_the_crosswalks_and_ends_with_a_reconciling_cbm(grid: Scenario) -> None:
    exercise = play(
        grid,
        {"by": "aralia-csirt", "do": "assess", "incident": "grid-disruption", "facts": {"potential_impact": "high"}},
        {"do": "advance", "to": 30},
        {"by": "veskaria-cda", "do": "assess", "incident": "grid-disruption"},
    )
    # High (3) on the reference scale crosswalks to Categories 4-3 (ranks 2-3); Category 5 (1) back to Low-Medium.
    assert exercise.diverge("aralia-csirt", "veskaria-cda", "grid-disruption")
    exercise.apply({"do": "advance", "minutes": 5})
    exercise.apply({"by": "veskaria-cda", "do": "cbm-8", "with": "aralia"})  # contact points: not a reconciliation
    assert exercise.divergences[-1].end is None
    exercise.apply({"do": "advance", "minutes": 5})
    exercise.apply({"by": "veskaria-cda", "do": "cbm-15", "with": "aralia-csirt"})
    assert divergences(exercise) == [("grid-disruption", ("aralia-csirt", "veskaria-cda"), 30, 40, "cbm-15")]
    assert exercise.divergences[0].duration == 10
    # The same disagreement, now acknowledged, is not a new divergence; a new level is.
    exercise.apply({"by": "veskaria-cda", "do": "assess", "incident": "grid-disruption"})
    assert len(exercise.divergences) == 1
    exercise.apply({"do": "advance", "to": 60})  # the wiper: Aralia's level rises
    assert len(exercise.divergences) == 2 and exercise.divergences[1].start == 60


def test_without_a_crosswalk_levels_are_compared_as_shares_of_their_scales(hospital: Scenario) -> None:
    assert "borealia-national" not in load_scale("osce-reference").crosswalks
    # Borealia (0-3) -> osce-reference (0-5) has a table; the other way falls back on the share of the scale.
    assert read_across(load_scale("osce-reference"), 5, hospital.states["borealia"].scale) == (3, 3)
    assert read_across(load_scale("osce-reference"), 2, hospital.states["borealia"].scale) == (1, 1)


# ---------------------------------------------------------------- the facilitator and the clock


def test_the_facilitator_holds_releases_and_pushes_injects(grid: Scenario) -> None:
    exercise = play(grid, {"do": "hold", "inject": "load-shedding-veskaria"}, {"do": "advance", "to": 45})
    assert exercise.inject_status["load-shedding-veskaria"] == "held"
    assert exercise.views["veskaria-cda"] == {}
    exercise.apply({"do": "release", "inject": "load-shedding-veskaria"})
    assert exercise.delivered_at["load-shedding-veskaria"] == 45  # late by a quarter of an hour
    exercise.apply({"do": "push", "inject": "hacktivist-claim"})
    assert exercise.delivered_at["hacktivist-claim"] == 45
    assert exercise.views["veskaria-cda"]["grid-disruption"].known["actor"] == "hacktivist"
    with pytest.raises(ExerciseError) as raised:
        exercise.apply({"do": "push", "inject": "hacktivist-claim"})
    assert raised.value.errors == [("inject", "cannot push hacktivist-claim: it is delivered")]


def test_a_paused_exercise_takes_no_team_action_and_the_clock_never_goes_back(grid: Scenario) -> None:
    exercise = play(grid, {"do": "advance", "to": 20}, {"do": "pause"})
    with pytest.raises(ExerciseError) as raised:
        exercise.apply({"by": "aralia-csirt", "do": "assess", "incident": "grid-disruption"})
    assert raised.value.errors == [("do", "the exercise is paused, not running")]
    exercise.apply({"do": "resume"})
    with pytest.raises(ExerciseError) as raised:
        exercise.apply({"do": "advance", "to": 10})
    assert raised.value.errors == [("to", "the clock only goes forward (it is at 20)")]
    with pytest.raises(ExerciseError) as raised:
        exercise.apply({"by": "veskaria-cda", "do": "assess", "incident": "grid-disruption"})
    assert raised.value.errors == [("incident", "veskaria-cda knows no incident 'grid-disruption' yet")]
    with pytest.raises(ExerciseError) as raised:
        exercise.apply({"by": "aralia-csirt", "do": "cbm-17"})
    assert raised.value.errors[0][0] == "do"


def test_replaying_the_events_rebuilds_the_same_exercise(grid: Scenario) -> None:
    exercise = scripted(grid)
    again = Exercise.replay(grid, exercise.events)
    assert again.state() == exercise.state()
    assert [e.to_dict() for e in again.timeline] == [e.to_dict() for e in exercise.timeline]
    assert after_action(again, "uz") == after_action(exercise, "uz")


def test_a_script_names_the_step_it_cannot_play(grid: Scenario, tmp_path: Path) -> None:
    script = tmp_path / "script.yaml"
    script.write_text(
        "scenario: cross-border-grid\nsteps:\n  - {at: 0, do: start}\n  - {at: 20, by: nobody, do: assess}\n"
        "  - {at: 10, do: pause}\n  - {at: 30, by: veskaria-cda, do: assess, incident: grid-disruption}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as raised:
        load_script(script, grid)
    assert raised.value.errors == [
        ("steps[1].by", "no team 'nobody' (teams: aralia-csirt, aralia-grid, veskaria-cda, veskaria-mfa)"),
        ("steps[2].at", "earlier than the step before (20)"),
    ]
    script.write_text(
        "scenario: cross-border-grid\nsteps:\n  - {at: 0, do: start}\n"
        "  - {at: 20, by: veskaria-cda, do: assess, incident: grid-disruption}\n",
        encoding="utf-8",
    )
    with pytest.raises(ExerciseError) as raised:
        run_script(grid, load_script(script, grid))
    assert raised.value.errors == [("steps[1].incident", "veskaria-cda knows no incident 'grid-disruption' yet")]


def test_exercise_context_facts_serve_exercise_conditions_only() -> None:
    condition = parse_condition({"actions": "contains cbm-3", "escalation": ">= 2"}, "when", context=CONTEXT)
    assert condition.describe() == "actions contains cbm-3 and escalation >= 2"
    assert condition.evaluate({"actions": ["cbm-3"], "escalation": 2}) is True
    assert condition.evaluate({"actions": ["cbm-8"]}) is False  # false whatever the escalation
    assert condition.evaluate({"escalation": 3}) is None  # unknown until the actions are known
    with pytest.raises(ConditionError) as raised:
        parse_condition({"actions": "contains cbm-3"}, "routing.when", context=True)
    assert raised.value.errors == [("routing.when.actions", "unknown fact")]


_GRID = load_scenario(GRID)
_TEAMS = sorted(_GRID.teams)
_EVENTS = st.one_of(
    st.builds(lambda m: {"do": "advance", "minutes": m}, st.integers(0, 60)),
    st.sampled_from([{"do": d} for d in ("pause", "resume", "end")]),
    st.builds(
        lambda d, i: {"do": d, "inject": i},
        st.sampled_from(["push", "hold", "release"]),
        st.sampled_from([i.id for i in _GRID.injects]),
    ),
    st.builds(
        lambda t, f: {"by": t, "do": "assess", "incident": "grid-disruption", "facts": f},
        st.sampled_from(_TEAMS),
        st.sampled_from([{}, {"potential_impact": "severe"}, {"actor": "apt"}]),
    ),
    st.builds(
        lambda t, d, o: {"by": t, "do": d, "incident": "grid-disruption", "to": o},
        st.sampled_from(_TEAMS),
        st.sampled_from(["share", "notify"]),
        st.sampled_from(_TEAMS),
    ),
    st.builds(
        lambda t, a, w: {"by": t, "do": a, "with": w},
        st.sampled_from(_TEAMS),
        st.sampled_from(["cbm-3", "cbm-8", "cbm-15", "attribute", "diplomatic-protest"]),
        st.sampled_from(["aralia", "veskaria", *_TEAMS]),
    ),
)


@given(st.lists(_EVENTS, max_size=25))
def test_any_sequence_of_events_keeps_the_exercise_consistent_and_replayable(events: list[dict[str, Any]]) -> None:
    exercise = play(_GRID)
    for event in events:
        with contextlib.suppress(ExerciseError):  # refused, and nothing recorded
            exercise.apply(event)
    assert all(0 <= v <= _GRID.escalation_max for v in exercise.escalation.values())
    open_ones = [(d.incident, d.teams) for d in exercise.divergences if d.end is None]
    assert len(open_ones) == len(set(open_ones))
    assert all(d.end is None or d.end >= d.start for d in exercise.divergences)
    assert [e.minute for e in exercise.timeline] == sorted(e.minute for e in exercise.timeline)
    again = Exercise.replay(_GRID, exercise.events)
    assert again.state() == exercise.state()


def test_each_team_sees_the_incident_in_its_own_language_and_on_its_own_scale(grid: Scenario) -> None:
    exercise = play(grid, {"do": "advance", "to": 90})
    exercise.apply({"by": "veskaria-mfa", "do": "assess", "incident": "grid-disruption"})
    exercise.apply({"by": "aralia-csirt", "do": "assess", "incident": "grid-disruption"})
    ministry = team_view(exercise, "veskaria-mfa")
    assert (ministry["language"], ministry["exercise"]) == ("ru", True)
    assert [i["title"] for i in ministry["inbox"]] == [
        "Веерные отключения в Вескарии",
        "Телевидение Вескарии: атака пришла из Аралии",
    ]
    assert ministry["incidents"][0]["level"]["name"] == "Категория 5: умеренный инцидент"
    assert ministry["escalation"] == [{"with": "Республика Аралия", "value": 2}]
    assert ministry["divergences"] == [
        {
            "incident": "Отключение межсистемной связи и энергосистемы",
            "with": "Национальный CSIRT Аралии",
            "since": "T+1:30",
        }
    ]
    assert {"id": "cbm-3", "cbm": 3, "name": "Консультации"}.items() <= ministry["menu"][2].items()
    csirt = team_view(exercise, "aralia-csirt")
    assert csirt["language"] == "uz" and csirt["incidents"][0]["level"]["name"] == "Yuqori"  # High, after the wiper
    assert team_view(exercise, "aralia-csirt", "en")["incidents"][0]["level"]["name"] == "High"
