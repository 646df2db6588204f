"""Response-target compliance and mean times: the two performance metrics of the national CSIRT.

The dashboard, the monthly and annual reports and the NIS2 summaries all take them from here,
so that every figure means the same thing everywhere (docs/dashboard.md, "What the figures mean").

- **Compliance** per response step (triage, first response, resolution): of the incidents whose
  step is *decided*, the share whose step was done by its target. A step is decided when it was
  done (met if by its due time, breached if later) or when its due time passed without it
  (breached). A step still within its target, or whose incident was closed before it fell due,
  is *pending* and counts in neither. Due times are the clocks' own (``nciss.clocks``): the
  target of the incident's level on the national scale, business hours where the level says
  so, pauses while waiting on the reporter.
- **Mean times**: the mean wall-clock time from the report to triage, over the incidents
  triaged, and from the report to resolution, over the incidents resolved.

Both take any incident queryset: restrict it first (a period, a sector, what a user may see).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet

import nciss
from nciss.clocks import STEPS, BusinessCalendar, Pause, response_clocks, working_span
from nciss.deadlines import add
from nciss.scales import Level
from nciss_platform import clock
from nciss_platform.incidents import services
from nciss_platform.incidents.models import ClockPause, Incident
from nciss_platform.incidents.workflow import OPEN_STATUSES

MET, BREACHED, PENDING = "met", "breached", "pending"
_TICK = dt.timedelta(microseconds=1)
# What the metrics read of an incident (one row per incident, no model instances).
_FIELDS = (
    "pk",
    "level",
    "sector",
    "classification",
    "status",
    "reported_at",
    "triaged_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "updated_at",
)


@dataclass(frozen=True)
class StepCompliance:
    """How one response step (``triage``, ``first_response``, ``resolution``) kept its targets."""

    step: str
    met: int
    breached: int
    pending: int  # still within the target, or the incident closed before it fell due

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def share(self) -> float | None:
        """Met / decided, 0..1; None when nothing is decided yet."""
        return self.met / self.decided if self.decided else None


@dataclass(frozen=True)
class ResponseCompliance:
    """Compliance of every response step, in workflow order."""

    steps: tuple[StepCompliance, ...]

    def step(self, name: str) -> StepCompliance:
        return next(s for s in self.steps if s.step == name)

    @classmethod
    def from_counts(cls, counts: dict[str, dict[str, int]]) -> ResponseCompliance:
        """From ``{step: {"met": n, "breached": n, "pending": n}}`` (missing counts are zero)."""
        return cls(
            tuple(
                StepCompliance(
                    s,
                    counts.get(s, {}).get(MET, 0),
                    counts.get(s, {}).get(BREACHED, 0),
                    counts.get(s, {}).get(PENDING, 0),
                )
                for s in STEPS
            )
        )


@dataclass(frozen=True)
class MeanTimes:
    """Mean wall-clock time from report to triage and to resolution, with how many incidents each covers."""

    to_triage: dt.timedelta | None  # None when no incident was triaged
    triaged: int
    to_resolve: dt.timedelta | None  # None when no incident was resolved
    resolved: int


class _WorkingTime:
    """Working time since a fixed origin over a business calendar, W(t), for comparing spans quickly.

    Each UTC day's open intervals come once from the calendar (``BusinessCalendar.open_intervals``)
    into a table with the working time before the day: the clocks' own intervals, looked up
    instead of walked once per working day of a 90-day target for every incident.
    """

    ORIGIN = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

    def __init__(self, calendar: BusinessCalendar):
        self.calendar = calendar
        self.days: list[tuple[dt.timedelta, list[tuple[dt.datetime, dt.datetime]]]] = []

    def _extend(self) -> None:
        start = self.ORIGIN + dt.timedelta(days=len(self.days))
        end = start + dt.timedelta(days=1)
        before = (
            self.days[-1][0] + sum((b - a for a, b in self.days[-1][1]), dt.timedelta(0))
            if self.days
            else dt.timedelta(0)
        )
        intervals = []
        for a, b in self.calendar.open_intervals(start):
            if a >= end:
                break
            intervals.append((max(a, start), min(b, end)))
        self.days.append((before, intervals))

    def at(self, moment: dt.datetime) -> dt.timedelta:
        day = (moment - self.ORIGIN).days
        while len(self.days) <= day:
            self._extend()
        before, intervals = self.days[day]
        return before + sum((min(b, moment) - a for a, b in intervals if a < moment), dt.timedelta(0))


def _outcomes(
    level: Level,
    row: dict[str, Any],
    pauses: list[Pause],
    calendar: BusinessCalendar,
    working: _WorkingTime,
    now: dt.datetime,
    stopped: dt.datetime | None,
) -> dict[str, str]:
    """Each response step's outcome as ``nciss.clocks.response_clocks`` decides it (which answers with pauses)."""
    reported: dt.datetime = row["reported_at"]
    done = {"triage": row["triaged_at"], "first_response": row["first_response_at"], "resolution": row["resolved_at"]}

    business = level.business_hours and not calendar.around_the_clock
    if pauses or (business and reported < _WorkingTime.ORIGIN):
        targets = response_clocks(level, reported, done, pauses, calendar, now, stopped=stopped)
        return {t.step: t.state if t.state in (MET, BREACHED) else PENDING for t in targets}
    out = {}
    for i, step in enumerate(STEPS):
        within = level.targets.get(step)
        if within is None:
            continue
        finished = [t for t in (done[s] for s in STEPS[i:]) if t is not None]
        completed = min(finished) if finished else None
        until = completed or min(t for t in (now, stopped) if t is not None)
        if business:
            span = working_span(reported, within, calendar)
            start = working.at(reported)
            used = working.at(until) - start if until > reported else dt.timedelta(0)
            if used == span and until > reported:
                # the span ran out at ``until`` or in working time before it (``until`` closed hours later)
                used += _TICK if working.at(until - _TICK) - start >= span else dt.timedelta(0)
        else:
            span, used = add(reported, within) - reported, until - reported
        if completed is not None:
            out[step] = MET if used <= span else BREACHED
        else:
            out[step] = BREACHED if used > span else PENDING
    return out


def step_outcomes(
    incidents: QuerySet[Incident],
    scale: nciss.Scale,
    *,
    now: dt.datetime | None = None,
    calendar: BusinessCalendar | None = None,
) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """Each incident's row (``_FIELDS`` as a dict) with its outcome per step: met, breached or pending.

    Streams the queryset (pauses fetched in one query), so that rollups can group the
    outcomes as they like. A closed, rejected or merged incident's clocks stopped when it was
    resolved, else closed, else last changed.
    """
    now = now or clock.now()
    calendar = calendar or services.response_calendar()
    working = _WorkingTime(calendar)
    pauses: dict[int, list[Pause]] = defaultdict(list)
    for incident_id, start, end in ClockPause.objects.filter(incident__in=incidents.values("pk")).values_list(
        "incident_id", "started_at", "ended_at"
    ):
        pauses[incident_id].append((start, end))
    for row in incidents.order_by().values(*_FIELDS).iterator(chunk_size=5000):
        level = scale.levels[min(int(row["level"]), scale.top)]
        stopped = (
            None if row["status"] in OPEN_STATUSES else (row["resolved_at"] or row["closed_at"] or row["updated_at"])
        )
        yield row, _outcomes(level, row, pauses.get(row["pk"], []), calendar, working, now, stopped)


def response_compliance(
    incidents: QuerySet[Incident],
    scale: nciss.Scale,
    *,
    now: dt.datetime | None = None,
    calendar: BusinessCalendar | None = None,
) -> ResponseCompliance:
    """How the incidents kept the response targets of ``scale`` (the national scale) at ``now``."""
    counts: dict[str, dict[str, int]] = {s: {MET: 0, BREACHED: 0, PENDING: 0} for s in STEPS}
    for _row, outcomes in step_outcomes(incidents, scale, now=now, calendar=calendar):
        for step, outcome in outcomes.items():
            counts[step][outcome] += 1
    return ResponseCompliance.from_counts(counts)


def mean_times(incidents: QuerySet[Incident]) -> MeanTimes:
    """Mean time to triage (over the triaged incidents) and to resolve (over the resolved ones)."""
    since_report = {
        "to_triage": ExpressionWrapper(F("triaged_at") - F("reported_at"), output_field=DurationField()),
        "to_resolve": ExpressionWrapper(F("resolved_at") - F("reported_at"), output_field=DurationField()),
    }
    figures = incidents.order_by().aggregate(
        triaged=Count("pk", filter=Q(triaged_at__isnull=False)),
        resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
        to_triage=Avg(since_report["to_triage"]),
        to_resolve=Avg(since_report["to_resolve"]),
    )
    return MeanTimes(figures["to_triage"], figures["triaged"], figures["to_resolve"], figures["resolved"])
