"""The calibration report: what-if on history, sensitivity, reference cases and compatibility, as HTML or PDF.

``analyse`` runs the core's analyses (nciss.calibration) on a history; ``calibration_report`` turns
the result into a ``reports.services.Report`` with charts (reports/charts.py) and a table beside each.
Every count leads to its incidents: the report lists the references behind each moving cell of the
matrix, each crosswalk disagreement and each parameter's changes (the first few, and how many more).
TLP:RED incidents are counted but never listed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.utils import translation
from django.utils.translation import gettext as _

from nciss.calibration import (
    CaseResult,
    Compatibility,
    History,
    ReferenceCase,
    Sensitivity,
    WhatIf,
    check_cases,
    compatibility,
    sensitivity,
    what_if,
)
from nciss.scales import Scale
from nciss_platform.calibration.analysis import reference_cases as kept_cases
from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.reports.charts import Bar, Cell, bar_chart, heatmap
from nciss_platform.reports.services import Report
from nciss_platform.scales.services import ink_for

LISTED = 12  # references listed per count; the rest are counted
MOVERS = 40  # movers explained
PARAMETERS = 15  # parameters charted
LISTED_PARAMETERS = 5  # parameters whose incidents are listed
TARGET_COLOUR = "#9e9e9e"
CHART_COLOUR = "#1f5fa8"


@dataclass
class Analysis:
    """Items 2-5 of a calibration: the draft against the current scale on one history."""

    draft: Scale
    current: Scale
    history: History
    what_if: WhatIf
    sensitivity: Sensitivity | None
    cases: list[CaseResult]
    compatibilities: list[Compatibility] = field(default_factory=list)
    step: float = 0.1


def analyse(
    draft: Scale,
    current: Scale,
    history: History,
    *,
    compare: Sequence[Scale] = (),
    cases: Sequence[ReferenceCase] | None = None,
    target: Sequence[float] | None = None,
    step: float = 0.1,
    with_sensitivity: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Analysis:
    """Re-assess ``history`` on both scales, then sensitivity, reference cases and compatibility."""

    def say(what: str) -> None:
        if progress:
            progress(what)

    say("re-assessing")
    result = what_if(draft, current, history, target=target)
    say("sensitivity")
    sens = sensitivity(draft, history, step) if with_sensitivity else None
    say("reference cases")
    case_results = check_cases(draft, cases if cases is not None else kept_cases(draft.id))
    say("compatibility")
    compat = [compatibility(draft, current, history, levels_a=result.after)]
    compat += [compatibility(draft, other, history, levels_a=result.after) for other in compare]
    return Analysis(draft, current, history, result, sens, case_results, compat, step)


# ---------------------------------------------------------------- the document


def calibration_report(analysis: Analysis, *, lang: str, now: dt.datetime, tlp: str = TLP.AMBER) -> Report:
    """The report of ``analysis`` in ``lang``: charts, tables and the incidents behind the numbers."""
    with translation.override(lang):
        title = _("Calibration of %(draft)s against %(current)s") % {
            "draft": _scale_name(analysis.draft, lang),
            "current": _scale_name(analysis.current, lang),
        }
        red = _red_references()
        context = {
            "a": analysis,
            "incidents": len(analysis.history),
            "what_if": _what_if(analysis.what_if, lang, red),
            "sensitivity": _sensitivity(analysis.sensitivity, red) if analysis.sensitivity else None,
            "cases": _cases(analysis.cases, analysis.draft, lang),
            "compatibilities": [_compatibility(c, lang, red) for c in analysis.compatibilities],
            "step_percent": round(analysis.step * 100),
        }
    filename = f"calibration-{analysis.draft.id}-{lang}"
    return Report("calibration/report.html", context, title, tlp, lang, now, filename)


def _scale_name(scale: Scale, lang: str) -> str:
    return f"{scale.name.get_for(lang)} {scale.version}"


def _level(scale: Scale, rank: int, lang: str) -> dict[str, Any]:
    level = scale.levels[rank]
    return {**level.summary(lang), "ink": ink_for(level.colour), "top": scale.top}


def _red_references() -> set[str]:
    return set(Incident.objects.filter(tlp=TLP.RED).values_list("reference", flat=True))


def _listed(history: History, indices: np.ndarray, red: set[str]) -> dict[str, Any]:
    """The first references behind a count (TLP:RED ones left out) and how many are not listed."""
    shown = [r for r in (history.references[int(i)] for i in indices[: LISTED + len(red)]) if r not in red][:LISTED]
    return {"count": int(indices.size), "references": shown, "more": int(indices.size) - len(shown)}


def _what_if(result: WhatIf, lang: str, red: set[str]) -> dict[str, Any]:
    draft, current, history = result.draft, result.current, result.history
    rows = [_level(current, r, lang) for r in range(current.top + 1)]
    columns = [_level(draft, r, lang) for r in range(draft.top + 1)]
    matrix = result.matrix
    cells = [[Cell(int(matrix[r, c])) for c in range(draft.top + 1)] for r in range(current.top + 1)]
    chart = heatmap(
        [lv["name"] for lv in rows],
        [lv["name"] for lv in columns],
        cells,
        title=_("Incidents per level: current (rows) and draft (columns)"),
        column_colours=[lv["colour"] for lv in columns],
    )
    moving = [
        {"before": rows[r], "after": columns[c], "listed": _listed(history, result.select(before=r, after=c), red)}
        for r in range(current.top + 1)
        for c in range(draft.top + 1)
        if r != c and matrix[r, c]
    ]
    n = max(len(history), 1)
    distribution: list[dict[str, Any]] = [
        {
            "level": columns[r],
            "count": count,
            "share": f"{count / n:.1%}",
            "target": f"{share:.1%}",
            "target_count": share * n,
        }
        for r, (count, share) in enumerate(zip(result.distribution, result.target, strict=True))
    ]
    bars = []
    for d in distribution:
        bars.append(Bar(d["level"]["name"], d["count"], d["level"]["colour"], text=f"{d['count']} ({d['share']})"))
        bars.append(
            Bar(
                _("%(level)s: target") % {"level": d["level"]["name"]},
                round(d["target_count"]),
                TARGET_COLOUR,
                text=d["target"],
            )
        )
    movers = [m for m in result.movers(MOVERS + len(red), lang) if m.reference not in red][:MOVERS]
    sectors = result.by_sector()
    classes = result.by_classification()
    return {
        "rows": rows,
        "columns": columns,
        "matrix": [(rows[r], [int(v) for v in matrix[r]]) for r in range(current.top + 1)],
        "matrix_chart": chart,
        "moving": moving,
        "moved": int(result.moved.size),
        "up": result.up,
        "down": result.down,
        "distribution": distribution,
        "distribution_chart": bar_chart(bars, title=_("Incidents per level of the draft, and the target")),
        "distance": result.distance_to_target,
        "movers": [
            {"mover": m, "before": _level(current, m.before, lang), "after": _level(draft, m.after, lang)}
            for m in movers
        ],
        "sectors": sectors,
        "sectors_chart": _groups_chart(sectors, _("Incidents that change level, per sector")),
        "classes": classes,
        "classes_chart": _groups_chart(classes, _("Incidents that change level, per classification")),
    }


def _groups_chart(groups: Sequence[Any], title: str) -> Any:
    bars = [Bar(g.key or _("(not given)"), g.up + g.down, CHART_COLOUR) for g in groups[:PARAMETERS] if g.up + g.down]
    return bar_chart(bars, title=title) if bars else None


def _sensitivity(sens: Sensitivity, red: set[str]) -> dict[str, Any]:
    effects = sens.effects
    bars = [Bar(e.parameter.label, e.changed, CHART_COLOUR) for e in effects[:PARAMETERS] if e.changed]
    rows = []
    for i, e in enumerate(effects):
        listed = None
        if i < LISTED_PARAMETERS and e.changed:  # the incidents behind the larger of the two counts
            sign = -1 if (e.changed_lower or 0) >= (e.changed_higher or 0) else 1
            listed = _listed(sens.history, sens.incidents(e.parameter, sign), red) | {
                "value": e.lower if sign < 0 else e.higher
            }
        rows.append({"effect": e, "listed": listed})
    chart = bar_chart(bars, title=_("Incidents that change level when a parameter moves by a step")) if bars else None
    return {"rows": rows, "chart": chart, "unchanged": sum(1 for e in effects if not e.changed)}


def _cases(results: list[CaseResult], scale: Scale, lang: str) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for r in results:
        agreed = _level(scale, r.case.rank, lang) if r.case.rank <= scale.top else None
        got = _level(scale, r.rank, lang) if r.rank is not None else None
        rows.append({"result": r, "agreed": agreed, "got": got})
    failed = [row for row in rows if not row["result"].passed]
    return {"rows": failed + [row for row in rows if row["result"].passed], "failed": len(failed), "total": len(rows)}


def _compatibility(c: Compatibility, lang: str, red: set[str]) -> dict[str, Any]:
    rows = [_level(c.a, r, lang) for r in range(c.a.top + 1)]
    columns = [_level(c.b, r, lang) for r in range(c.b.top + 1)]
    matrix = c.matrix
    chart = heatmap(
        [lv["name"] for lv in rows],
        [lv["name"] for lv in columns],
        [[Cell(int(v)) for v in row] for row in matrix],
        title=_("Incidents per level on %(a)s (rows) and %(b)s (columns)")
        % {"a": _scale_name(c.a, lang), "b": _scale_name(c.b, lang)},
        column_colours=[lv["colour"] for lv in columns],
    )

    def checks(direction: str) -> list[dict[str, Any]] | None:
        found = c.crosswalk_ab if direction == "ab" else c.crosswalk_ba
        source = c.a if direction == "ab" else c.b
        target = c.b if direction == "ab" else c.a
        if found is None:
            return None
        out = []
        for row in found:
            pick = {"a": row.source} if direction == "ab" else {"b": row.source}
            outside = np.union1d(
                c.select(**pick, crosswalk="below", direction=direction),
                c.select(**pick, crosswalk="above", direction=direction),
            )
            out.append(
                {
                    "row": row,
                    "source": _level(source, row.source, lang),
                    "min": _level(target, row.min, lang),
                    "max": _level(target, row.max, lang),
                    "listed": _listed(c.history, outside, red),
                }
            )
        return out

    return {
        "c": c,
        "a_name": _scale_name(c.a, lang),
        "b_name": _scale_name(c.b, lang),
        "rows": rows,
        "columns": columns,
        "matrix": [(rows[r], [int(v) for v in matrix[r]]) for r in range(c.a.top + 1)],
        "chart": chart,
        "common": _("the ranks of both scales")
        if c.common == "ranks"
        else _("ranks normalised onto the shorter scale, %(scale)s")
        % {"scale": _scale_name(c.a if c.a.top < c.b.top else c.b, lang)},
        "ab": checks("ab"),
        "ba": checks("ba"),
    }
