"""The exercise engine: a state machine driven by events, giving state and a timeline.

``Exercise(scenario)`` starts ready; ``apply(event)`` takes one event (a dict, as a script step
or a page would send it) and returns the timeline entries it caused. Every accepted event is
kept in ``events``, stamped with its minute, so ``Exercise.replay(scenario, events)`` rebuilds
the same state: a platform persists the events, not the state.

Events: ``{"by": "facilitator", "do": "start" | "pause" | "resume" | "end"}``,
``{"by": "facilitator", "do": "advance", "minutes": N}`` (or ``"to": MINUTE``),
``{"by": "facilitator", "do": "push" | "hold" | "release", "inject": ID}``, and a team's
``{"by": TEAM, "do": "assess", "incident": ID, "facts": {...}}``,
``{"by": TEAM, "do": "notify" | "share", "incident": ID, "to": TEAM[, "facts": false]}``,
``{"by": TEAM, "do": "cbm-3" | RESPONSE-ACTION, ["with": STATE or TEAM], ["incident": ID]}``.

Levels always come from ``nciss.assess`` on the team's own national scale, over what the
team knows: the incident's facts, what injects revealed to it, what others shared or notified
with facts, and its own assessment choices. A share without facts gives the sender's level
through the crosswalk (docs/exercises.md, "Levels and divergence").
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nciss.crosswalks import crosswalk
from nciss.engine import assess
from nciss.exercises.scenario import Inject, Scenario, ScenarioError
from nciss.facts import FactsError, validate_facts
from nciss.scales import Scale

FACILITATOR = "facilitator"


class ExerciseError(ScenarioError):
    """An event the exercise cannot take; ``errors`` holds (path, reason) pairs."""


@dataclass
class Entry:
    """One line of the timeline. ``teams`` are the teams it concerns (their views show it)."""

    minute: int
    # phase, inject, inject-skipped, inject-hold, inject-release, level, assess, notify, share, action,
    # divergence-start, divergence-end, escalation
    kind: str
    teams: tuple[str, ...]
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"minute": self.minute, "kind": self.kind, "teams": list(self.teams), **self.data}


@dataclass
class TeamIncident:
    """What one team knows and thinks of one incident."""

    known: dict[str, Any] = field(default_factory=dict)
    choices: dict[str, Any] = field(default_factory=dict)
    received: tuple[int, int] | None = None  # a level on the team's scale, from a share without facts
    assessed: bool = False
    rank: int | None = None
    reachable_max: int | None = None


@dataclass
class Divergence:
    incident: str
    teams: tuple[str, str]
    ranks: tuple[int, int]  # at the start, each on its team's scale
    start: int
    end: int | None = None
    ended_by: str | None = None  # "agreement", a reconciling CBM's id, or "end"

    @property
    def duration(self) -> int | None:
        return None if self.end is None else self.end - self.start


@dataclass
class ActionTaken:
    minute: int
    team: str
    action: str
    states: tuple[str, ...]  # the other States it was addressed to
    incident: str | None
    effects: list[dict[str, Any]] = field(default_factory=list)  # escalation changes, divergences ended


def action_ids(taken: Iterable[ActionTaken]) -> list[str]:
    """What conditions see as ``actions``: each action's id, and ``team:id``."""
    ids: set[str] = set()
    for a in taken:
        ids |= {a.action, f"{a.team}:{a.action}"}
    return sorted(ids)


def read_across(source: Scale, rank: int, target: Scale) -> tuple[int, int]:
    """``rank`` of ``source`` on ``target``: the crosswalk's range, else the same share of the scale's height."""
    if source.id == target.id:
        return rank, rank
    if target.id in source.crosswalks:
        row = crosswalk(source, target.id, rank)
        return row.min, row.max
    same = round(rank * target.top / source.top)
    return same, same


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


class Exercise:
    """One run of a scenario: ready, running, paused or ended; see the module's docstring for its events."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.phase = "ready"
        self.minute = 0
        self.events: list[dict[str, Any]] = []
        self.timeline: list[Entry] = []
        self.inject_status = {i.id: "pending" for i in scenario.injects}  # pending/held/delivered/skipped
        self.delivered_at: dict[str, int] = {}
        self.views: dict[str, dict[str, TeamIncident]] = {t: {} for t in scenario.teams}
        self.level_history: list[tuple[int, str, str, int]] = []  # minute, team, incident, rank
        states = sorted(scenario.states)
        self.escalation = {p: scenario.escalation_initial for p in itertools.combinations(states, 2)}
        self.escalation_history: list[tuple[int, tuple[str, str], int, str]] = [
            (0, p, v, "initial") for p, v in self.escalation.items()
        ]
        self.divergences: list[Divergence] = []
        self._acknowledged: dict[tuple[str, str, str], tuple[int, int]] = {}
        self.actions: list[ActionTaken] = []

    @classmethod
    def replay(cls, scenario: Scenario, events: Iterable[Mapping[str, Any]]) -> Exercise:
        """The exercise after ``events`` (as kept in ``events``), applied in order."""
        exercise = cls(scenario)
        for event in events:
            exercise.apply(event)
        return exercise

    # ------------------------------------------------------------ events

    def apply(self, event: Mapping[str, Any]) -> list[Entry]:
        """Take one event; ExerciseError (nothing changed) if it cannot be taken now."""
        by, do = event.get("by", FACILITATOR), event.get("do")
        if not isinstance(do, str):
            raise ExerciseError([("do", "required: what to do")])
        before = len(self.timeline)
        if by == FACILITATOR:
            self._facilitate(do, event)
        else:
            self._team_acts(by, do, event)
        stamped = {k: v for k, v in event.items() if k != "minute"}
        self.events.append({**stamped, "minute": self.minute})
        return self.timeline[before:]

    def _facilitate(self, do: str, event: Mapping[str, Any]) -> None:
        moves = {"start": ("ready", "running"), "pause": ("running", "paused"), "resume": ("paused", "running")}
        if do in moves:
            was, becomes = moves[do]
            if self.phase != was:
                raise ExerciseError([("do", f"cannot {do}: the exercise is {self.phase}")])
            self.phase = becomes
            self._log("phase", (), phase=becomes)
            if do == "start":
                self._deliver_due()
            return
        if do == "end":
            self._require_not("ended", "end")
            self.phase = "ended"
            for d in self.divergences:
                if d.end is None:
                    self._close(d, "end")
            self._log("phase", (), phase="ended")
            return
        if do == "advance":
            self._require_running()
            if "to" in event:
                target = _whole(event["to"], "to")
            else:
                target = self.minute + _whole(event.get("minutes"), "minutes")
            if target < self.minute:
                raise ExerciseError([("to", f"the clock only goes forward (it is at {self.minute})")])
            self._advance(target)
            return
        if do in ("push", "hold", "release"):
            self._require_not("ended", do)
            inject_id = event.get("inject")
            if inject_id not in self.inject_status:
                raise ExerciseError([("inject", f"no inject {inject_id!r}")])
            status = self.inject_status[inject_id]
            allowed = {"push": ("pending", "held"), "hold": ("pending",), "release": ("held",)}[do]
            if status not in allowed:
                raise ExerciseError([("inject", f"cannot {do} {inject_id}: it is {status}")])
            if do == "push":
                self._require_running()
                self._deliver(self.scenario.inject(inject_id), pushed=True)
            else:
                self.inject_status[inject_id] = "held" if do == "hold" else "pending"
                self._log(f"inject-{do}", (), inject=inject_id)
                if do == "release" and self.phase == "running":
                    self._deliver_due()
            return
        raise ExerciseError(
            [("do", f"unknown facilitator action {do!r} (start, pause, resume, advance, push, hold, release, end)")]
        )

    def _require_running(self) -> None:
        if self.phase != "running":
            raise ExerciseError([("do", f"the exercise is {self.phase}, not running")])

    def _require_not(self, phase: str, do: str) -> None:
        if self.phase == phase:
            raise ExerciseError([("do", f"cannot {do}: the exercise is {phase}")])

    # ------------------------------------------------------------ the clock and injects

    def _advance(self, target: int) -> None:
        for inject in self.scenario.injects:
            if inject.at <= target and self.inject_status[inject.id] == "pending":
                self.minute = max(self.minute, inject.at)
                self._offer(inject)
        self.minute = target

    def _deliver_due(self) -> None:
        for inject in self.scenario.injects:
            if inject.at <= self.minute and self.inject_status[inject.id] == "pending":
                self._offer(inject)

    def _offer(self, inject: Inject) -> None:
        """A due inject: delivered if its branch condition holds, else skipped."""
        if inject.when is not None and inject.when.evaluate(self._branch_context(inject)) is not True:
            self.inject_status[inject.id] = "skipped"
            self._log("inject-skipped", (), inject=inject.id)
            return
        self._deliver(inject, pushed=False)

    def _branch_context(self, inject: Inject) -> dict[str, Any]:
        facts: dict[str, Any] = {}
        if inject.incident:
            for view in self.views.values():
                if inject.incident in view:
                    facts |= view[inject.incident].known
        return {
            **facts,
            "actions": action_ids(self.actions),
            "injects": sorted(self.delivered_at),
            "escalation": max(self.escalation.values(), default=0),
            "minute": self.minute,
        }

    def _deliver(self, inject: Inject, *, pushed: bool) -> None:
        self.inject_status[inject.id] = "delivered"
        self.delivered_at[inject.id] = self.minute
        self._log("inject", inject.to, inject=inject.id, pushed=pushed, late=self.minute - inject.at)
        if inject.incident:
            for team in inject.to:
                self._learn(team, inject.incident, inject.reveals)
        context = {
            "inject": inject.id,
            "injects": sorted(self.delivered_at),
            "media_pressure": inject.media,
            "political_pressure": inject.political,
            "minute": self.minute,
        }
        for pair in self.escalation:
            self._escalate(pair, context, cause=inject.id)
        self._refresh()

    # ------------------------------------------------------------ team actions

    def _team_acts(self, team: str, do: str, event: Mapping[str, Any]) -> None:
        if team not in self.scenario.teams:
            raise ExerciseError([("by", f"no team {team!r} (teams: {', '.join(self.scenario.teams)})")])
        self._require_running()
        incident = event.get("incident")
        if incident is not None and incident not in self.views[team]:
            raise ExerciseError([("incident", f"{team} knows no incident {incident!r} yet")])
        if do == "assess":
            self._assess(team, self._need(incident, "incident"), event.get("facts") or {})
        elif do in ("notify", "share"):
            self._pass_on(team, do, self._need(incident, "incident"), event)
        elif do in self.scenario.actions:
            self._act(team, do, event)
        else:
            raise ExerciseError(
                [
                    (
                        "do",
                        f"unknown action {do!r}: assess, notify, share, a CBM (cbm-1 ... cbm-16) or one of the response actions",
                    )
                ]
            )

    @staticmethod
    def _need(value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise ExerciseError([(name, "required")])
        return value

    def _assess(self, team: str, incident: str, choices: Mapping[str, Any]) -> None:
        try:
            validate_facts(dict(choices))
        except FactsError as e:
            raise ExerciseError([(f"facts.{p}", r) for p, r in e.errors]) from None
        view = self.views[team][incident]
        view.choices = {k: v for k, v in {**view.choices, **choices}.items() if v is not None}
        view.assessed = True
        self._relevel(team, incident)
        self._log("assess", (team,), team=team, incident=incident, choices=dict(choices), rank=view.rank)
        self._refresh()

    def _pass_on(self, team: str, do: str, incident: str, event: Mapping[str, Any]) -> None:
        to = event.get("to")
        if to not in self.scenario.teams or to == team:
            raise ExerciseError([("to", f"no other team {to!r}")])
        with_facts = bool(event.get("facts", True))
        mine = self.views[team][incident]
        if mine.rank is None:
            raise ExerciseError([("incident", f"{team} has no level for {incident} to {do} yet")])
        if with_facts:
            self._learn(to, incident, {**mine.known, **mine.choices})
        else:
            theirs = self.views[to].setdefault(incident, TeamIncident())
            theirs.received = read_across(self.scenario.team_scale(team), mine.rank, self.scenario.team_scale(to))
            self._relevel(to, incident)
        self._log(
            do,
            (team, to),
            team=team,
            to=to,
            incident=incident,
            facts=with_facts,
            rank=mine.rank,
            received=self.views[to][incident].rank,
        )
        self._refresh()

    def _act(self, team: str, do: str, event: Mapping[str, Any]) -> None:
        action = self.scenario.actions[do]
        home = self.scenario.teams[team].state
        target = event.get("with")
        partner_team = target if target in self.scenario.teams else None
        if target is None:  # a CBM goes to every other State; a response action stays at home
            states = tuple(s for s in sorted(self.scenario.states) if s != home) if action.is_cbm else ()
        elif partner_team:
            states = (self.scenario.teams[partner_team].state,)
        elif target in self.scenario.states:
            states = (target,)
        else:
            raise ExerciseError([("with", f"no State or team {target!r}")])
        taken = ActionTaken(self.minute, team, do, tuple(s for s in states if s != home), event.get("incident"))
        self.actions.append(taken)
        # the measure reaches the team it names, or every team of the States it names
        reached = (
            (partner_team,)
            if partner_team
            else tuple(t for t, other in self.scenario.teams.items() if other.state in taken.states)
        )
        self._log(
            "action",
            (team, *(t for t in reached if t != team)),
            team=team,
            action=do,
            states=list(taken.states),
            target=target,
            incident=taken.incident,
            note=event.get("note"),
        )
        if action.reconciles:
            for d in self.divergences:
                if d.end is None and self._between(d.teams, team, partner_team, states):
                    self._close(d, do)
                    self._acknowledged[(d.incident, *d.teams)] = self._ranks(d.incident, d.teams)
                    taken.effects.append({"divergence_ended": d.incident, "teams": list(d.teams)})
        view = self.views[team].get(taken.incident) if taken.incident else None
        for other in taken.states:
            pair = _pair(home, other)
            context = {
                **(({**view.known, **view.choices, "level": view.rank}) if view and view.rank is not None else {}),
                "action": do,
                "actions": action_ids([a for a in self.actions if pair in self._pairs_of(a)]),
                "minute": self.minute,
            }
            before = self.escalation[pair]
            self._escalate(pair, context, cause=do)
            if self.escalation[pair] != before:
                taken.effects.append({"pair": list(pair), "escalation": [before, self.escalation[pair]]})
        self._refresh()

    def _between(self, teams: tuple[str, str], actor: str, partner_team: str | None, states: tuple[str, ...]) -> bool:
        """Whether a measure by ``actor`` with ``partner_team`` or ``states`` joins the two teams."""
        if actor not in teams:
            return False
        other = teams[1] if teams[0] == actor else teams[0]
        return other == partner_team if partner_team else self.scenario.teams[other].state in states

    def _pairs_of(self, taken: ActionTaken) -> list[tuple[str, str]]:
        home = self.scenario.teams[taken.team].state
        return [_pair(home, s) for s in taken.states]

    # ------------------------------------------------------------ levels

    def _learn(self, team: str, incident_id: str, facts: Mapping[str, Any]) -> None:
        view = self.views[team].setdefault(incident_id, TeamIncident())
        if not view.known:
            incident = self.scenario.incidents[incident_id]
            operator = self.scenario.operators.get(incident.operator or "")
            view.known = {**(operator.facts if operator else {}), **incident.facts}
        view.known |= dict(facts)
        self._relevel(team, incident_id)

    def _relevel(self, team: str, incident: str) -> None:
        view = self.views[team][incident]
        scale = self.scenario.team_scale(team)
        if view.received is not None and not (set(view.known) | set(view.choices)) - _ENTITY_FACTS:
            view.rank, view.reachable_max = view.received
        else:
            result = assess(scale, {**view.known, **view.choices}, validated=True)
            view.rank, view.reachable_max = result.rank, result.reachable_max
        last = next((h for h in reversed(self.level_history) if h[1] == team and h[2] == incident), None)
        if last is None or last[3] != view.rank:
            self.level_history.append((self.minute, team, incident, view.rank))
            self._log(
                "level",
                (team,),
                team=team,
                incident=incident,
                rank=view.rank,
                previous=None if last is None else last[3],
            )

    def diverge(self, a: str, b: str, incident: str) -> bool:
        """Whether teams ``a`` and ``b`` disagree on ``incident`` (docs/exercises.md, "Divergence").

        On one scale: different levels. Across scales with crosswalks: neither level falls in the
        range the other's crosswalks to. Without a crosswalk either way: the levels, each as a
        share of its scale's height, differ by the scenario's threshold or more.
        """
        sa, sb = self.scenario.team_scale(a), self.scenario.team_scale(b)
        ra, rb = self.views[a][incident].rank, self.views[b][incident].rank
        assert ra is not None and rb is not None
        if sa.id == sb.id:
            return ra != rb
        fits = []
        if sb.id in sa.crosswalks:
            row = crosswalk(sa, sb.id, ra)
            fits.append(row.min <= rb <= row.max)
        if sa.id in sb.crosswalks:
            row = crosswalk(sb, sa.id, rb)
            fits.append(row.min <= ra <= row.max)
        if fits:
            return not any(fits)
        return abs(ra / sa.top - rb / sb.top) >= self.scenario.divergence_threshold

    def _ranks(self, incident: str, teams: tuple[str, str]) -> tuple[int, int]:
        ra, rb = (self.views[t][incident].rank for t in teams)
        assert ra is not None and rb is not None
        return ra, rb

    def _refresh(self) -> None:
        """Open and close divergences after a change."""
        for incident in self.scenario.incidents:
            assessed = [
                t for t in self.scenario.teams if incident in self.views[t] and self.views[t][incident].assessed
            ]
            for teams in itertools.combinations(assessed, 2):
                key = (incident, *teams)
                open_one = next((d for d in self.divergences if d.end is None and (d.incident, *d.teams) == key), None)
                if not self.diverge(*teams, incident):
                    self._acknowledged.pop(key, None)
                    if open_one:
                        self._close(open_one, "agreement")
                elif open_one is None and self._acknowledged.get(key) != self._ranks(incident, teams):
                    self._acknowledged.pop(key, None)
                    ranks = self._ranks(incident, teams)
                    self.divergences.append(Divergence(incident, teams, ranks, self.minute))
                    self._log("divergence-start", teams, incident=incident, ranks=list(ranks))

    def _close(self, divergence: Divergence, ended_by: str) -> None:
        divergence.end, divergence.ended_by = self.minute, ended_by
        self._log(
            "divergence-end",
            divergence.teams,
            incident=divergence.incident,
            ended_by=ended_by,
            duration=divergence.duration,
        )

    # ------------------------------------------------------------ escalation

    def _escalate(self, pair: tuple[str, str], context: dict[str, Any], *, cause: str) -> None:
        for rule in self.scenario.escalation_rules:
            if rule.pair is not None and rule.pair != frozenset(pair):
                continue
            value = self.escalation[pair]
            if rule.when.evaluate({**context, "escalation": value}) is not True:
                continue
            new = min(max(value + rule.change, 0), self.scenario.escalation_max)
            if new != value:
                self.escalation[pair] = new
                self.escalation_history.append((self.minute, pair, new, rule.id))
                teams = tuple(t for t, team in self.scenario.teams.items() if team.state in pair)
                self._log("escalation", teams, pair=list(pair), before=value, after=new, rule=rule.id, cause=cause)

    # ------------------------------------------------------------ output

    def _log(self, kind: str, teams: Iterable[str], **data: Any) -> None:
        self.timeline.append(Entry(self.minute, kind, tuple(teams), data))

    def state(self) -> dict[str, Any]:
        """Where the exercise stands, JSON-ready: for a facilitator console and the team views."""
        return {
            "scenario": self.scenario.id,
            "exercise": True,
            "phase": self.phase,
            "minute": self.minute,
            "injects": [
                {
                    "id": i.id,
                    "at": i.at,
                    "status": self.inject_status[i.id],
                    "delivered_at": self.delivered_at.get(i.id),
                }
                for i in self.scenario.injects
            ],
            "teams": {
                team: {
                    incident: {
                        "rank": v.rank,
                        "reachable_max": v.reachable_max,
                        "assessed": v.assessed,
                        "facts": {**v.known, **v.choices},
                    }
                    for incident, v in view.items()
                }
                for team, view in self.views.items()
            },
            "escalation": [{"states": list(p), "value": v} for p, v in self.escalation.items()],
            "divergences": [
                {"incident": d.incident, "teams": list(d.teams), "start": d.start, "end": d.end, "ended_by": d.ended_by}
                for d in self.divergences
            ],
        }


_ENTITY_FACTS = frozenset(
    {"sector", "entity_criticality", "entity_size", "entity_country", "entity_type", "classification"}
)


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ExerciseError([(name, "expected a whole number of minutes")])
    return value
