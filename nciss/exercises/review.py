"""The after-action data of an exercise, in one language: what a report shows.

``after_action(exercise, lang)`` gives plain data: the timeline (all and per team), every
incident's levels side by side on each team's scale, the divergences with their durations,
the CBMs and other actions taken with their effects, escalation per pair of States, and each
learning objective met or not. Words of the report itself (headings, kinds of entry) are the
platform's to translate; everything from the scenario or the catalogue comes in ``lang``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from nciss.exercises.engine import Entry, Exercise, action_ids
from nciss.exercises.scenario import Objective


def clock(minute: int) -> str:
    """Exercise time: ``T+1:05``."""
    return f"T+{minute // 60}:{minute % 60:02d}"


def after_action(exercise: Exercise, lang: str = "en") -> dict[str, Any]:
    sc = exercise.scenario
    end = exercise.minute

    def team_name(team: str) -> str:
        return sc.teams[team].name.get_for(lang)

    def state_name(state: str) -> str:
        return sc.states[state].name.get_for(lang)

    def level(team: str, rank: int | None) -> dict[str, Any] | None:
        if rank is None:
            return None
        scale = sc.team_scale(team)
        lv = scale.levels[rank]
        return {"rank": rank, "top": scale.top, "name": lv.name.get_for(lang), "colour": lv.colour}

    def wall_clock(minute: int) -> str:
        return (sc.start + dt.timedelta(minutes=minute)).strftime("%H:%M") if sc.start else ""

    def entry(e: Entry) -> dict[str, Any]:
        d = e.data
        out: dict[str, Any] = {
            "minute": e.minute,
            "clock": clock(e.minute),
            "time": wall_clock(e.minute),
            "kind": e.kind,
            "teams": [team_name(t) for t in e.teams],
            "team_ids": list(e.teams),
            "subject": "",
            "text": "",
            "level": None,
        }
        if "inject" in d:
            inject = sc.inject(d["inject"])
            out |= {"subject": inject.title.get_for(lang), "text": inject.text.get_for(lang)}
        if "action" in d:
            out["subject"] = sc.actions[d["action"]].name.get_for(lang)
            out["text"] = ", ".join(state_name(s) for s in d["states"])
        if d.get("incident"):
            out["incident"] = sc.incidents[d["incident"]].title.get_for(lang)
            out["subject"] = out["subject"] or out["incident"]
        if e.kind in ("assess", "level"):
            out["level"] = level(d["team"], d["rank"])
        if e.kind in ("notify", "share"):
            out["level"] = level(d["team"], d["rank"])
            out["received"] = level(d["to"], d["received"])
            out["text"] = team_name(d["to"])
            out["facts"] = d["facts"]
        if e.kind == "divergence-start":
            out["levels"] = [level(t, r) for t, r in zip(e.teams, d["ranks"], strict=True)]
        if e.kind == "divergence-end":
            out["duration"] = d["duration"]
            out["ended_by"] = _ended_by(exercise, d["ended_by"], lang)
        if e.kind == "escalation":
            rule = next(r for r in sc.escalation_rules if r.id == d["rule"])
            out |= {
                "pair": " / ".join(state_name(s) for s in d["pair"]),
                "before": d["before"],
                "after": d["after"],
                "text": rule.text.get_for(lang),
            }
        if e.kind == "phase":
            out["phase"] = d["phase"]
        return out

    timeline = [entry(e) for e in exercise.timeline]
    per_team = {
        team: {"name": team_name(team), "entries": [x for x in timeline if team in x["team_ids"]]} for team in sc.teams
    }

    incidents = []
    for incident_id, incident in sc.incidents.items():
        rows = []
        for team_id, team in sc.teams.items():
            view = exercise.views[team_id].get(incident_id)
            if view is None:
                continue
            rows.append(
                {
                    "team": team_name(team_id),
                    "team_id": team_id,
                    "state": state_name(team.state),
                    "scale": sc.team_scale(team_id).name.get_for(lang),
                    "level": level(team_id, view.rank),
                    "reachable_max": level(team_id, view.reachable_max),
                    "assessed": view.assessed,
                    "history": [
                        {"minute": m, "clock": clock(m), "level": level(team_id, r)}
                        for m, t, i, r in exercise.level_history
                        if t == team_id and i == incident_id
                    ],
                }
            )
        incidents.append({"id": incident_id, "title": incident.title.get_for(lang), "teams": rows})

    divergences: list[dict[str, Any]] = [
        {
            "incident": sc.incidents[d.incident].title.get_for(lang),
            "teams": [team_name(t) for t in d.teams],
            "sides": [{"team": team_name(t), "level": level(t, r)} for t, r in zip(d.teams, d.ranks, strict=True)],
            "start": clock(d.start),
            "end": clock(d.end if d.end is not None else end),
            "minutes": (d.end if d.end is not None else end) - d.start,
            "ended_by": _ended_by(exercise, d.ended_by, lang),
        }
        for d in exercise.divergences
    ]

    decisions = []
    for taken in exercise.actions:
        action = sc.actions[taken.action]
        effects = []
        for effect in taken.effects:
            if "escalation" in effect:
                before, after = effect["escalation"]
                pair = " / ".join(state_name(s) for s in effect["pair"])
                effects.append({"kind": "escalation", "pair": pair, "before": before, "after": after})
            else:
                teams = " / ".join(team_name(t) for t in effect["teams"])
                effects.append(
                    {
                        "kind": "divergence-ended",
                        "teams": teams,
                        "incident": sc.incidents[effect["divergence_ended"]].title.get_for(lang),
                    }
                )
        decisions.append(
            {
                "clock": clock(taken.minute),
                "minute": taken.minute,
                "team": team_name(taken.team),
                "action": taken.action,
                "cbm": action.cbm,
                "name": action.name.get_for(lang),
                "with": [state_name(s) for s in taken.states],
                "effects": effects,
            }
        )

    escalation: list[dict[str, Any]] = []
    for states, final in exercise.escalation.items():
        history = [(m, v, cause) for m, p, v, cause in exercise.escalation_history if p == states]
        escalation.append(
            {
                "pair": " / ".join(state_name(s) for s in states),
                "states": list(states),
                "initial": sc.escalation_initial,
                "peak": max(v for _m, v, _c in history),
                "final": final,
                "history": [{"minute": m, "clock": clock(m), "value": v, "rule": c} for m, v, c in history],
            }
        )

    divergence_minutes = sum(d["minutes"] for d in divergences)
    peak = max((int(e["peak"]) for e in escalation), default=0)
    context = {
        "injects": sorted(exercise.delivered_at),
        "escalation": max(exercise.escalation.values(), default=0),
        "peak_escalation": peak,
        "divergences": len(divergences),
        "divergence_minutes": divergence_minutes,
        "minute": end,
    }
    objectives = [_objective(exercise, o, context, lang) for o in sc.objectives]
    return {
        "exercise": True,
        "scenario": {
            "id": sc.id,
            "version": sc.version,
            "title": sc.title.get_for(lang),
            "summary": sc.summary.get_for(lang),
            "start": sc.start.isoformat() if sc.start else "",
        },
        "minutes": end,
        "duration": clock(end),
        "states": [
            {
                "name": s.name.get_for(lang),
                "country": s.country,
                "scale": s.scale.name.get_for(lang),
                "language": s.language,
                "contact_point": s.contact_point.get_for(lang),
            }
            for s in sc.states.values()
        ],
        "teams": [
            {
                "id": t.id,
                "name": t.name.get_for(lang),
                "state": state_name(t.state),
                "kind": t.kind,
                "language": t.language,
            }
            for t in sc.teams.values()
        ],
        "injects": {
            status: sum(1 for s in exercise.inject_status.values() if s == status)
            for status in ("delivered", "skipped", "held", "pending")
        },
        "timeline": timeline,
        "per_team": per_team,
        "incidents": incidents,
        "divergences": divergences,
        "divergence_minutes": divergence_minutes,
        "decisions": decisions,
        "cbms": [d for d in decisions if d["cbm"] is not None],
        "escalation": escalation,
        "peak_escalation": peak,
        "objectives": objectives,
    }


def _ended_by(exercise: Exercise, ended_by: str | None, lang: str) -> dict[str, str] | None:
    if ended_by is None:
        return None
    action = exercise.scenario.actions.get(ended_by)
    return {"kind": "cbm" if action else ended_by, "name": action.name.get_for(lang) if action else ""}


def _objective(exercise: Exercise, objective: Objective, context: dict[str, Any], lang: str) -> dict[str, Any]:
    taken = [a for a in exercise.actions if objective.team is None or a.team == objective.team]
    met = objective.met_when.evaluate({**context, "actions": action_ids(taken)})
    return {
        "id": objective.id,
        "text": objective.text.get_for(lang),
        "lesson": objective.lesson.get_for(lang),
        "met": met is True,
        "condition": objective.met_when.describe(),
    }


def team_view(exercise: Exercise, team_id: str, lang: str | None = None) -> dict[str, Any]:
    """What one team sees, in its own language (or ``lang``) and on its own scale: for a team page."""
    sc = exercise.scenario
    team = sc.teams[team_id]
    lang = lang or team.language
    scale = sc.team_scale(team_id)

    def level(rank: int | None) -> dict[str, Any] | None:
        if rank is None:
            return None
        lv = scale.levels[rank]
        return {"rank": rank, "top": scale.top, "name": lv.name.get_for(lang), "colour": lv.colour}

    inbox = [
        {
            "id": inject.id,
            "clock": clock(exercise.delivered_at[inject.id]),
            "title": inject.title.get_for(lang),
            "text": inject.text.get_for(lang),
            "incident": inject.incident,
            "media": inject.media,
            "political": inject.political,
        }
        for inject in sorted(
            (i for i in sc.injects if team_id in i.to and i.id in exercise.delivered_at),
            key=lambda i: exercise.delivered_at[i.id],
        )
    ]
    incidents = [
        {
            "id": incident_id,
            "title": sc.incidents[incident_id].title.get_for(lang),
            "level": level(view.rank),
            "reachable_max": level(view.reachable_max),
            "assessed": view.assessed,
            "facts": {**view.known, **view.choices},
        }
        for incident_id, view in exercise.views[team_id].items()
    ]
    return {
        "exercise": True,
        "team": team.name.get_for(lang),
        "state": sc.states[team.state].name.get_for(lang),
        "scale": scale.name.get_for(lang),
        "language": lang,
        "phase": exercise.phase,
        "clock": clock(exercise.minute),
        "inbox": inbox,
        "incidents": incidents,
        "menu": [
            {"id": a.id, "cbm": a.cbm, "name": a.name.get_for(lang), "description": a.description.get_for(lang)}
            for a in sc.actions.values()
        ],
        "escalation": [
            {"with": sc.states[b if a == team.state else a].name.get_for(lang), "value": value}
            for (a, b), value in exercise.escalation.items()
            if team.state in (a, b)
        ],
        "divergences": [
            {
                "incident": sc.incidents[d.incident].title.get_for(lang),
                "with": sc.teams[d.teams[1] if d.teams[0] == team_id else d.teams[0]].name.get_for(lang),
                "since": clock(d.start),
            }
            for d in exercise.divergences
            if d.end is None and team_id in d.teams
        ],
    }
