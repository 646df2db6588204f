"""Exercise scenarios as data: the YAML format, its loader and its ``path: reason`` errors.

docs/exercises.md describes every field. Loading checks the shape with a JSON Schema (the
reasons worded as for scale files), then the meaning: ids unique and referenced ones present,
the States' scales loadable, facts in the vocabulary, conditions in the rule language
(nciss.rules) over the exercise's context facts (``CONTEXT``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from nciss.exercises.catalogue import BUILT_IN, Action, cbms, response_actions
from nciss.facts import FactsError, FactSpec, validate_facts
from nciss.rules import Condition, ConditionError, parse_condition
from nciss.scale_schema import CONDITION, ID_PATTERN, TEXT, _obj
from nciss.scales import Scale, ScaleError, _schema_reason, load_scale, read_definition
from nciss.texts import LANGUAGES, Text

Errors = list[tuple[str, str]]
AT_PATTERN = r"^\d+(m|h|d)$"
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440}


def _context_fact(name: str, kind: str, en: str, items: str | None = None) -> FactSpec:
    return FactSpec(name=name, kind=kind, group="exercise", label=Text(en), question=Text(en), items=items)


# What exercise conditions may test besides incident facts and the platform's context facts.
CONTEXT: dict[str, FactSpec] = {
    spec.name: spec
    for spec in (
        _context_fact("action", "string", "The action just taken (escalation rules)"),
        _context_fact("actions", "list", "Actions taken so far: 'cbm-3', and 'team-id:cbm-3' for one team's", "action"),
        _context_fact("inject", "string", "The inject just delivered (escalation rules)"),
        _context_fact("injects", "list", "Injects delivered so far", "inject"),
        _context_fact("escalation", "int", "The escalation indicator (of the pair; else the highest of all pairs)"),
        _context_fact("peak_escalation", "int", "The highest escalation any pair reached (objectives)"),
        _context_fact("minute", "int", "Minutes since the exercise started"),
        _context_fact("media_pressure", "int", "Media pressure of the inject just delivered, 0-3"),
        _context_fact("political_pressure", "int", "Political pressure of the inject just delivered, 0-3"),
        _context_fact("divergences", "int", "Divergences so far (objectives)"),
        _context_fact("divergence_minutes", "int", "Minutes of divergence so far, all pairs together (objectives)"),
    )
}


class ScenarioError(ValueError):
    """An invalid scenario (or script); ``errors`` holds (path, reason) pairs."""

    def __init__(self, errors: Errors, source: str = ""):
        self.errors = errors
        self.source = source
        super().__init__("; ".join(f"{p}: {r}" for p, r in errors))


@dataclass(frozen=True)
class State:
    id: str
    name: Text
    country: str  # ISO 3166-1 alpha-2; fictional States use the user-assigned XA-XZ
    scale: Scale
    language: str
    contact_point: Text  # CBM 8: who answers for the State


@dataclass(frozen=True)
class Team:
    """A country's CSIRT, a ministry, an operator ...: one player group with its own view."""

    id: str
    name: Text
    state: str
    kind: str
    language: str


@dataclass(frozen=True)
class Operator:
    id: str
    name: Text
    state: str
    facts: dict[str, Any]  # entity facts: sector, criticality, size, country


@dataclass(frozen=True)
class Incident:
    id: str
    title: Text
    operator: str | None
    facts: dict[str, Any]  # known to every team that learns of the incident


@dataclass(frozen=True)
class Inject:
    id: str
    at: int  # minutes from the start
    to: tuple[str, ...]  # team ids
    title: Text
    text: Text
    incident: str | None = None
    reveals: dict[str, Any] = field(default_factory=dict)
    media: int = 0
    political: int = 0
    when: Condition | None = None  # a branch: delivered only if true when due


@dataclass(frozen=True)
class EscalationRule:
    id: str
    when: Condition
    change: int
    text: Text
    pair: frozenset[str] | None = None  # only this pair of States


@dataclass(frozen=True)
class Objective:
    id: str
    text: Text
    met_when: Condition
    team: str | None = None  # ``actions`` counts this team's actions only
    lesson: Text = field(default_factory=Text)  # what to take away when it is not met


@dataclass(frozen=True, eq=False)
class Scenario:
    id: str
    version: str
    title: Text
    summary: Text
    start: dt.datetime | None
    duration: int
    states: dict[str, State]
    teams: dict[str, Team]
    operators: dict[str, Operator]
    incidents: dict[str, Incident]
    injects: tuple[Inject, ...]  # by time, then as written
    actions: dict[str, Action]  # the menu: CBMs, then response actions
    escalation_max: int
    escalation_initial: int
    escalation_rules: tuple[EscalationRule, ...]
    divergence_threshold: float
    objectives: tuple[Objective, ...]
    source: str = ""

    def inject(self, inject_id: str) -> Inject:
        return next(i for i in self.injects if i.id == inject_id)

    def team_scale(self, team_id: str) -> Scale:
        return self.states[self.teams[team_id].state].scale


# ---------------------------------------------------------------- shape

_AT = {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": AT_PATTERN}]}
_IDS = {"type": "array", "items": {"type": "string"}, "minItems": 1}
_ID = {"type": "string", "pattern": ID_PATTERN}
_LANG = {"enum": list(LANGUAGES)}
_PRESSURE = {"type": "integer", "minimum": 0, "maximum": 3}

SCENARIO_SCHEMA: dict[str, Any] = _obj(
    {
        "id": _ID,
        "version": {"type": "string"},
        "title": TEXT,
        "summary": TEXT,
        "start": {"type": "string"},
        "duration": _AT,
        "states": {
            "type": "array",
            "minItems": 1,
            "items": _obj(
                {
                    "id": _ID,
                    "name": TEXT,
                    "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                    "scale": {"type": "string", "minLength": 1},
                    "language": _LANG,
                    "contact_point": TEXT,
                },
                ["id", "name", "country", "scale", "language"],
            ),
        },
        "teams": {
            "type": "array",
            "minItems": 2,
            "items": _obj(
                {
                    "id": _ID,
                    "name": TEXT,
                    "state": {"type": "string"},
                    "kind": {"enum": ["csirt", "ministry", "operator", "regulator", "other"]},
                    "language": _LANG,
                },
                ["id", "name", "state", "kind"],
            ),
        },
        "operators": {
            "type": "array",
            "items": _obj(
                {"id": _ID, "name": TEXT, "state": {"type": "string"}, "facts": {"type": "object"}},
                ["id", "name", "state"],
            ),
        },
        "incidents": {
            "type": "array",
            "minItems": 1,
            "items": _obj(
                {"id": _ID, "title": TEXT, "operator": {"type": "string"}, "facts": {"type": "object"}}, ["id", "title"]
            ),
        },
        "injects": {
            "type": "array",
            "minItems": 1,
            "items": _obj(
                {
                    "id": _ID,
                    "at": _AT,
                    "to": _IDS,
                    "title": TEXT,
                    "text": TEXT,
                    "incident": {"type": "string"},
                    "reveals": {"type": "object"},
                    "media": _PRESSURE,
                    "political": _PRESSURE,
                    "when": CONDITION,
                },
                ["id", "at", "to", "title", "text"],
            ),
        },
        "actions": {"type": "array", "items": _obj({"id": _ID, "name": TEXT, "description": TEXT}, ["id", "name"])},
        "escalation": _obj(
            {
                "max": {"type": "integer", "minimum": 1},
                "initial": {"type": "integer", "minimum": 0},
                "rules": {
                    "type": "array",
                    "items": _obj(
                        {
                            "id": _ID,
                            "when": CONDITION,
                            "change": {"type": "integer"},
                            "text": TEXT,
                            "pair": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
                        },
                        ["id", "when", "change"],
                    ),
                },
            }
        ),
        "divergence": _obj({"threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}}),
        "objectives": {
            "type": "array",
            "items": _obj(
                {"id": _ID, "text": TEXT, "met_when": CONDITION, "team": {"type": "string"}, "lesson": TEXT},
                ["id", "text", "met_when"],
            ),
        },
    },
    ["id", "title", "duration", "states", "teams", "incidents", "injects"],
)


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(SCENARIO_SCHEMA)


def _reason(error: jsonschema.ValidationError) -> tuple[str, str]:
    path, reason = _schema_reason(error)
    if error.validator == "oneOf" and error.schema is _AT:
        return path, "expected minutes, or a time such as 30m, 4h or 1d"
    return path, reason


def minutes(value: int | str) -> int:
    """Minutes from an ``at``/``duration`` value: a whole number of minutes, or ``30m``, ``4h``, ``1d``."""
    if isinstance(value, int):
        return value
    m = re.match(AT_PATTERN, value)
    assert m, value
    return int(value[:-1]) * _UNIT_MINUTES[m.group(1)]


# ---------------------------------------------------------------- meaning


def load_scenario(path: str | Path) -> Scenario:
    """A scenario from its YAML (or JSON) file; ScenarioError lists every problem."""
    path = Path(path)
    try:
        definition = read_definition(path)
    except ScaleError as e:
        raise ScenarioError(e.errors, str(path)) from None
    try:
        return scenario_from_definition(definition, base=path.parent)
    except ScenarioError as e:
        raise ScenarioError(e.errors, str(path)) from None


def scenario_from_definition(definition: Any, base: Path = Path(".")) -> Scenario:
    """Validate a parsed scenario and build it; scale files are read relative to ``base``."""
    if not isinstance(definition, dict):
        raise ScenarioError([("(top)", "expected a mapping (a YAML or JSON object)")])
    errors = sorted({_reason(e) for e in _validator().iter_errors(definition)})
    if errors:
        raise ScenarioError(errors)
    builder = _Builder(definition, base)
    scenario = builder.build()
    if builder.errors:
        raise ScenarioError(builder.errors)
    return scenario


class _Builder:
    """Checks the meaning of a scenario whose shape the schema has accepted, and builds it."""

    def __init__(self, d: dict[str, Any], base: Path):
        self.d = d
        self.base = base
        self.errors: Errors = []
        self.seen: dict[str, str] = {}

    def unique(self, kind: str, items: list[dict[str, Any]]) -> None:
        for i, item in enumerate(items):
            where = self.seen.get(item["id"])
            if where:
                self.errors.append((f"{kind}[{i}].id", f"{item['id']!r} is already the id of {where}"))
            self.seen[item["id"]] = f"{kind}[{i}]"

    def ref(self, value: str, known: Mapping[str, Any], path: str, what: str) -> None:
        if value not in known:
            self.errors.append((path, f"no {what} {value!r} (known: {', '.join(known) or 'none'})"))

    def facts(self, raw: dict[str, Any], path: str) -> dict[str, Any]:
        try:
            return validate_facts(raw)
        except FactsError as e:
            self.errors.extend((f"{path}.{p}", r) for p, r in e.errors)
            return {}

    def condition(self, raw: Any, path: str, known_actions: set[str], inject_ids: set[str]) -> Condition | None:
        try:
            condition = parse_condition(raw, path, context=CONTEXT)
        except ConditionError as e:
            self.errors.extend(e.errors)
            return None
        tested: dict[str, set[Any]] = {}
        condition.breakpoints(tested)
        for name, known in (
            ("action", known_actions),
            ("actions", known_actions),
            ("inject", inject_ids),
            ("injects", inject_ids),
        ):
            for value in sorted(tested.get(name, set())):
                if value not in known:
                    self.errors.append((path, f"{name}: no {name.rstrip('s')} {value!r} in this scenario"))
        return condition

    def state(self, i: int, raw: dict[str, Any]) -> State | None:
        ref = raw["scale"]
        if ref.endswith((".yaml", ".yml", ".json")):
            ref = str(self.base / ref)
        try:
            scale = load_scale(ref)
        except ScaleError as e:
            self.errors.append(
                (f"states[{i}].scale", f"cannot load {raw['scale']!r}: {e.errors[0][0]}: {e.errors[0][1]}")
            )
            return None
        return State(
            raw["id"], Text(raw["name"]), raw["country"], scale, raw["language"], Text(raw.get("contact_point"))
        )

    def build(self) -> Scenario:
        d = self.d
        for kind in ("states", "teams", "operators", "incidents", "injects"):
            self.unique(kind, d.get(kind, []))
        built_states = [self.state(i, s) for i, s in enumerate(d["states"])]
        states = {s.id: s for s in built_states if s is not None}
        state_ids = {s["id"]: s for s in d["states"]}
        teams: dict[str, Team] = {}
        for i, t in enumerate(d["teams"]):
            self.ref(t["state"], state_ids, f"teams[{i}].state", "State")
            language = t.get("language") or state_ids.get(t["state"], {}).get("language", "en")
            teams[t["id"]] = Team(t["id"], Text(t["name"]), t["state"], t["kind"], language)
        operators: dict[str, Operator] = {}
        for i, o in enumerate(d.get("operators", [])):
            self.ref(o["state"], state_ids, f"operators[{i}].state", "State")
            facts = self.facts(o.get("facts", {}), f"operators[{i}].facts")
            country = state_ids.get(o["state"], {}).get("country")
            operators[o["id"]] = Operator(o["id"], Text(o["name"]), o["state"], {"entity_country": country, **facts})
        incidents: dict[str, Incident] = {}
        for i, inc in enumerate(d["incidents"]):
            if "operator" in inc:
                self.ref(inc["operator"], operators, f"incidents[{i}].operator", "operator")
            facts = self.facts(inc.get("facts", {}), f"incidents[{i}].facts")
            incidents[inc["id"]] = Incident(inc["id"], Text(inc["title"]), inc.get("operator"), facts)

        custom = [Action(a["id"], Text(a["name"]), Text(a.get("description"))) for a in d.get("actions", [])]
        menu = {a.id: a for a in (*cbms(), *response_actions())}
        for i, a in enumerate(custom):
            if a.id in menu or a.id in BUILT_IN:
                self.errors.append((f"actions[{i}].id", f"{a.id!r} is already an action of every exercise"))
            menu[a.id] = a
        action_ids = {*BUILT_IN, *menu}
        known_actions = action_ids | {f"{team}:{a}" for team in teams for a in action_ids}
        inject_ids = {j["id"] for j in d["injects"]}

        duration = minutes(d["duration"])
        injects = []
        for i, j in enumerate(d["injects"]):
            path = f"injects[{i}]"
            at = minutes(j["at"])
            if at > duration:
                self.errors.append((f"{path}.at", f"after the end of the exercise ({duration} minutes)"))
            for k, team in enumerate(j["to"]):
                self.ref(team, teams, f"{path}.to[{k}]", "team")
            if "incident" in j:
                self.ref(j["incident"], incidents, f"{path}.incident", "incident")
            elif "reveals" in j:
                self.errors.append((f"{path}.reveals", "facts need an incident: add incident"))
            when = self.condition(j["when"], f"{path}.when", known_actions, inject_ids) if "when" in j else None
            injects.append(
                Inject(
                    id=j["id"],
                    at=at,
                    to=tuple(j["to"]),
                    title=Text(j["title"]),
                    text=Text(j["text"]),
                    incident=j.get("incident"),
                    reveals=self.facts(j.get("reveals", {}), f"{path}.reveals"),
                    media=j.get("media", 0),
                    political=j.get("political", 0),
                    when=when,
                )
            )
        injects.sort(key=lambda inj: inj.at)

        esc = d.get("escalation", {})
        top = esc.get("max", 5)
        if esc.get("initial", 0) > top:
            self.errors.append(("escalation.initial", f"must be at most max ({top})"))
        rules = []
        for i, r in enumerate(esc.get("rules", [])):
            path = f"escalation.rules[{i}]"
            for k, s in enumerate(r.get("pair", [])):
                self.ref(s, state_ids, f"{path}.pair[{k}]", "State")
            when = self.condition(r["when"], f"{path}.when", known_actions, inject_ids)
            if when is not None:
                pair = frozenset(r["pair"]) if "pair" in r else None
                rules.append(EscalationRule(r["id"], when, r["change"], Text(r.get("text") or r["id"]), pair))
        objectives = []
        for i, o in enumerate(d.get("objectives", [])):
            if "team" in o:
                self.ref(o["team"], teams, f"objectives[{i}].team", "team")
            met_when = self.condition(o["met_when"], f"objectives[{i}].met_when", known_actions, inject_ids)
            if met_when is not None:
                objectives.append(Objective(o["id"], Text(o["text"]), met_when, o.get("team"), Text(o.get("lesson"))))
        start = None
        if "start" in d:
            try:
                start = dt.datetime.fromisoformat(d["start"])
            except ValueError:
                self.errors.append(("start", "not a date-time (expected e.g. 2026-11-03T08:00:00+05:00)"))
        return Scenario(
            id=d["id"],
            version=str(d.get("version", "1")),
            title=Text(d["title"]),
            summary=Text(d.get("summary")),
            start=start,
            duration=duration,
            states=states,
            teams=teams,
            operators=operators,
            incidents=incidents,
            injects=tuple(injects),
            actions=menu,
            escalation_max=top,
            escalation_initial=esc.get("initial", 0),
            escalation_rules=tuple(rules),
            divergence_threshold=d.get("divergence", {}).get("threshold", 0.34),
            objectives=tuple(objectives),
        )
