"""The after-action report of an exercise, as HTML or PDF (reports/documents.py).

The data comes from the core (``nciss.exercises.after_action``); this adds the charts (levels
per team over time, escalation per pair over time), the colours' ink, and the EXERCISE marking:
in the title atop every PDF page, in a band at the top of every page, and around the report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from nciss.exercises import Exercise, after_action
from nciss.exercises.review import clock
from nciss_platform.reports.charts import MARKERS, Line, line_chart
from nciss_platform.reports.services import Report
from nciss_platform.scales.services import ink_for

SERIES_COLOURS = ("#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#a16207", "#0e7490")
STEP_MINUTES = 15  # the charts' time axis: one point every quarter of an hour


def after_action_report(exercise: Exercise, *, lang: str, now: dt.datetime, tlp: str = "TLP:GREEN") -> Report:
    """The after-action report of ``exercise`` in ``lang``; every page says EXERCISE."""
    data = after_action(exercise, lang)
    _ink(data)
    with translation.override(lang):
        for entry in data["timeline"]:
            entry["what"] = _what(entry)
        # "EXERCISE" in English atop every page, whatever the language: no one mistakes it for a real report.
        title = "EXERCISE · " + _("After-action report: %(scenario)s") % {"scenario": data["scenario"]["title"]}
        for divergence in data["divergences"]:
            divergence["how"] = ended_by(divergence["ended_by"])
        roles = {
            "csirt": _("CSIRT"),
            "ministry": _("Ministry"),
            "operator": _("Operator"),
            "regulator": _("Regulator"),
            "other": _("Other"),
        }
        for team in data["teams"]:
            team["role"] = roles[team["kind"]]
        for who in (*data["teams"], *data["states"]):
            who["language_name"] = translation.get_language_info(who["language"])["name_local"]
        context = {
            "aar": data,
            "level_charts": [_level_chart(exercise, incident) for incident in data["incidents"] if incident["teams"]],
            "escalation_chart": _escalation_chart(exercise, data),
        }
    filename = f"exercise-{exercise.scenario.id}-{lang}"
    return Report("exercises/report.html", context, title, tlp, lang, now, filename)


def _ink(value: Any) -> None:
    """Give every level in the data the ink that reads on its colour."""
    if isinstance(value, dict):
        if "colour" in value and "rank" in value:
            value["ink"] = ink_for(value["colour"])
        for child in value.values():
            _ink(child)
    elif isinstance(value, list):
        for child in value:
            _ink(child)


def _ticks(exercise: Exercise) -> list[int]:
    return list(range(0, exercise.minute + 1, STEP_MINUTES)) or [0]


def _at(history: list[tuple[int, int]], minute: int) -> int:
    """The value a step history (minute, value), in time order, holds at ``minute``; 0 before it starts."""
    value = 0
    for m, v in history:
        if m > minute:
            break
        value = v
    return value


def _level_chart(exercise: Exercise, incident: dict[str, Any]) -> dict[str, Any]:
    ticks = _ticks(exercise)
    lines = []
    for i, row in enumerate(incident["teams"]):
        history = [(h["minute"], h["level"]["rank"]) for h in row["history"]]
        lines.append(
            Line(
                name=f"{row['team']} ({row['scale']})",
                colour=SERIES_COLOURS[i % len(SERIES_COLOURS)],
                values=[_at(history, m) for m in ticks],
                marker=MARKERS[i % len(MARKERS)],
            )
        )
    title = _(
        "Levels of %(incident)s per team over time, each on its own scale (rank from 0; 0 before the team knew of it)"
    ) % {"incident": incident["title"]}
    svg: SafeString = line_chart([clock(m) for m in ticks], lines, title=title)
    return {"title": title, "svg": svg}


def _escalation_chart(exercise: Exercise, data: dict[str, Any]) -> dict[str, Any]:
    ticks = _ticks(exercise)
    lines = [
        Line(
            name=pair["pair"],
            colour=SERIES_COLOURS[i % len(SERIES_COLOURS)],
            values=[_at([(h["minute"], h["value"]) for h in pair["history"]], m) for m in ticks],
            marker=MARKERS[i % len(MARKERS)],
        )
        for i, pair in enumerate(data["escalation"])
    ]
    title = _("Escalation per pair of States over time (0 to %(max)s)") % {"max": exercise.scenario.escalation_max}
    return {"title": title, "svg": line_chart([clock(m) for m in ticks], lines, title=title)}


def _what(entry: dict[str, Any]) -> str:
    """One timeline entry in words, in the active language (levels are shown beside it)."""
    kind = entry["kind"]
    if kind == "inject":
        return _("Inject: %(title)s") % {"title": entry["subject"]}
    if kind == "inject-skipped":
        return _("Inject not delivered (its branch was not taken): %(title)s") % {"title": entry["subject"]}
    if kind == "inject-hold":
        return _("Inject held by the facilitator: %(title)s") % {"title": entry["subject"]}
    if kind == "inject-release":
        return _("Inject released by the facilitator: %(title)s") % {"title": entry["subject"]}
    if kind == "level":
        return _("%(team)s: the level of %(incident)s is now") % {
            "team": entry["teams"][0],
            "incident": entry["incident"],
        }
    if kind == "assess":
        return _("%(team)s assessed %(incident)s") % {"team": entry["teams"][0], "incident": entry["incident"]}
    if kind in ("notify", "share"):
        words = {
            ("notify", True): _("%(team)s notified %(to)s of %(incident)s"),
            ("share", True): _("%(team)s shared %(incident)s with %(to)s, with its facts"),
            ("share", False): _("%(team)s shared its classification of %(incident)s with %(to)s, without facts"),
        }
        return words[(kind, entry["facts"] or kind == "notify")] % {
            "team": entry["teams"][0],
            "to": entry["text"],
            "incident": entry["incident"],
        }
    if kind == "action":
        if entry["text"]:
            return _("%(team)s: %(action)s, with %(states)s") % {
                "team": entry["teams"][0],
                "action": entry["subject"],
                "states": entry["text"],
            }
        return _("%(team)s: %(action)s") % {"team": entry["teams"][0], "action": entry["subject"]}
    if kind == "divergence-start":
        return _("Divergence on %(incident)s between %(teams)s") % {
            "incident": entry["incident"],
            "teams": " / ".join(entry["teams"]),
        }
    if kind == "divergence-end":
        return _("Divergence on %(incident)s between %(teams)s ended after %(minutes)s min: %(how)s") % {
            "incident": entry["incident"],
            "teams": " / ".join(entry["teams"]),
            "minutes": entry["duration"],
            "how": ended_by(entry["ended_by"]),
        }
    if kind == "escalation":
        return _("Escalation %(pair)s: %(before)s → %(after)s (%(why)s)") % {
            "pair": entry["pair"],
            "before": entry["before"],
            "after": entry["after"],
            "why": entry["text"],
        }
    phases = {
        "running": _("The exercise is running"),
        "paused": _("The exercise is paused"),
        "ended": _("The exercise ended"),
    }
    return phases[entry["phase"]]


def ended_by(how: dict[str, str] | None) -> str:
    """How a divergence ended, in words."""
    if how is None:
        return _("still open")
    if how["kind"] == "cbm":
        return how["name"]
    return _("the levels agree again") if how["kind"] == "agreement" else _("the exercise ended")
