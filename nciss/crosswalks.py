"""Crosswalks: a level of one scale read on another scheme's scale."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nciss.engine import assess
from nciss.scales import CrosswalkRow, Scale, ScaleError


def crosswalk(source: Scale, target_id: str, level: int | str) -> CrosswalkRow:
    """The target range and rationale for ``level`` (a rank or a level name) of ``source``."""
    rows = source.crosswalks.get(target_id)
    if rows is None:
        known = ", ".join(sorted(source.crosswalks)) or "none"
        raise ScaleError([("to", f"{source.id} has no crosswalk to {target_id!r} (it has: {known})")])
    rank = resolve_level(source, level)
    return next(r for r in rows if r.source == rank)


def resolve_level(scale: Scale, level: int | str) -> int:
    """A rank from a rank or a level name of ``scale``; ScaleError otherwise."""
    if isinstance(level, str) and level.strip().isdigit():
        level = int(level)
    if isinstance(level, int):
        if 0 <= level <= scale.top:
            return level
        raise ScaleError([("level", f"{scale.id} has levels 0-{scale.top}, not {level}")])
    found = scale.level_by_name(level)
    if found is None:
        names = ", ".join(lv.name.get_for("en") for lv in scale.levels)
        raise ScaleError([("level", f"{scale.id} has no level {level!r} ({names})")])
    return found.rank


def agreement(source: Scale, target: Scale, records: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """How many of ``records`` the crosswalk table reads right: (agreeing, total).

    A record agrees when its level on ``target``, assessed from its facts, falls in the
    range the table gives for its level on ``source``.
    """
    agreeing = total = 0
    for facts in records:
        row = crosswalk(source, target.id, assess(source, facts).rank)
        agreeing += row.min <= assess(target, facts).rank <= row.max
        total += 1
    return agreeing, total
