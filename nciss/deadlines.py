"""Reporting obligations and response targets as dates: pure date arithmetic.

A scale's regime (e.g. NIS2: early warning 24 h, notification 72 h, final report one
month after the notification) becomes a list of deadlines for one incident, each with
its due time and whether it is met. Which deadlines apply is decided by the level and
by each deadline's condition, read in three-valued logic: a deadline whose condition
is unknown yet is listed as conditional, so nobody misses one for want of a fact.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nciss.scales import Deadline, Duration, Scale
from nciss.texts import Text


def add(moment: dt.datetime, duration: Duration) -> dt.datetime:
    """``moment`` plus ``duration``; months are calendar months (31 Jan + 1mo = 28/29 Feb)."""
    if duration.unit != "mo":
        return moment + dt.timedelta(minutes=duration.minutes)
    month = moment.month - 1 + duration.amount
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class DeadlineStatus:
    """One reporting obligation of one incident."""

    id: str
    name: Text
    after: str  # a time fact or the id of the step it follows
    within: Duration
    condition: str  # the deadline's condition in words, or ""
    due: dt.datetime | None  # None while the step it follows is not submitted yet
    submitted: dt.datetime | None
    conditional: bool  # its condition depends on facts not known yet
    possible_only: bool  # the incident is below the regime's level but could still reach it

    def state(self, now: dt.datetime) -> str:
        """done, late (submitted after due), overdue, due, or waiting (for an earlier step)."""
        if self.submitted is not None:
            return "late" if self.due is not None and self.submitted > self.due else "done"
        if self.due is None:
            return "waiting"
        return "overdue" if now > self.due else "due"

    def to_dict(self, now: dt.datetime, lang: str = "en") -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name.get_for(lang),
            "due": self.due.isoformat() if self.due else None,
            "submitted": self.submitted.isoformat() if self.submitted else None,
            "state": self.state(now),
            "conditional": self.conditional,
            "possible_only": self.possible_only,
        }


def reporting_deadlines(
    scale: Scale,
    facts: Mapping[str, Any],
    level: int,
    reachable_max: int,
    times: Mapping[str, dt.datetime],
    submitted: Mapping[str, dt.datetime] | None = None,
) -> list[DeadlineStatus]:
    """The reporting deadlines ``scale``'s regime sets for an incident.

    ``times`` holds the incident's ``detected_at``, ``occurred_at`` and ``reported_at``;
    ``submitted`` the time each deadline's report was submitted, by deadline id.
    Nothing applies when the incident cannot reach the regime's level.
    """
    regime = scale.regime
    if regime is None or reachable_max < regime.from_level:
        return []
    submitted = submitted or {}
    possible_only = level < regime.from_level
    out: list[DeadlineStatus] = []
    for deadline in regime.deadlines:
        applies = deadline.when.evaluate(facts) if deadline.when is not None else True
        if applies is False:
            continue
        out.append(
            DeadlineStatus(
                deadline.id,
                deadline.name,
                deadline.after,
                deadline.within,
                deadline.when.describe() if deadline.when is not None else "",
                _due(deadline, times, submitted),
                submitted.get(deadline.id),
                applies is None,
                possible_only,
            )
        )
    return out


def _due(
    deadline: Deadline, times: Mapping[str, dt.datetime], submitted: Mapping[str, dt.datetime]
) -> dt.datetime | None:
    anchor = times.get(deadline.after) or submitted.get(deadline.after)
    return add(anchor, deadline.within) if anchor is not None else None


def response_targets(scale: Scale, level: int, reported: dt.datetime) -> dict[str, dt.datetime]:
    """When triage, first response and resolution fall due for a report at ``level``."""
    return {name: add(reported, duration) for name, duration in scale.levels[level].targets.items()}
