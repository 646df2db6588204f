"""Keeping the dashboard's rollups (``DailyFigures``) at most a minute behind the incidents.

``refresh(now)`` rewrites only the days (of report) whose incidents changed since the last
refresh, or whose current response target fell due since then (an open step becomes
breached by the clock alone). A worker runs it every ``REFRESH_SECONDS`` as the outbox job
``dashboard.refresh``, which schedules its successor; a dashboard view that finds the rollups
older than that refreshes them itself first, so that a set-up without a worker stays right.
Concurrent refreshes on PostgreSQL skip each other (the state row is locked, SKIP LOCKED).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet

from nciss.clocks import STEPS
from nciss_platform import clock
from nciss_platform.dashboard import metrics
from nciss_platform.dashboard.models import DailyFigures, RollupState
from nciss_platform.incidents import services
from nciss_platform.incidents.models import Incident
from nciss_platform.incidents.workflow import OPEN_STATUSES
from nciss_platform.outbox.models import Job
from nciss_platform.outbox.services import enqueue

REFRESH_JOB = "dashboard.refresh"
REFRESH_SECONDS = 60
STATE = "daily"
# Changes saved shortly before a refresh may commit after it read them: look back this much further.
MARGIN = dt.timedelta(minutes=2)


def counted_incidents() -> QuerySet[Incident]:
    """Every incident the national picture counts: the one place that would leave some out (e.g. exercises)."""
    return Incident.objects.all()


def class_of(classification: str) -> str:
    """The class of an RSIT-style classification: ``availability`` of ``availability:ddos``."""
    return classification.split(":", 1)[0]


def _utc_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


@dataclass(frozen=True)
class Refreshed:
    days: int  # days of report rewritten
    incidents: int  # incidents read
    skipped: bool = False  # another process was refreshing


def refresh(now: dt.datetime | None = None, *, full: bool = False) -> Refreshed:
    """Bring the rollups up to ``now``: every day when ``full`` or never built, else the changed days."""
    now = now or clock.now()
    RollupState.objects.get_or_create(name=STATE, defaults={"refreshed_at": dt.datetime.min.replace(tzinfo=dt.UTC)})
    with transaction.atomic():
        state = RollupState.objects.select_for_update(skip_locked=True).filter(name=STATE).first()
        if state is None:
            return Refreshed(0, 0, skipped=True)
        never = state.refreshed_at.year == 1
        incidents = counted_incidents()
        if full or never:
            days = None
            DailyFigures.objects.all().delete()
        else:
            since = state.refreshed_at - MARGIN
            changed = incidents.filter(
                Q(updated_at__gte=since) | Q(status__in=OPEN_STATUSES, due_at__gte=since, due_at__lt=now)
            )
            days = sorted({_utc_day(t) for t in changed.values_list("reported_at", flat=True)})
            if not days:
                state.refreshed_at = now
                state.save(update_fields=["refreshed_at"])
                return Refreshed(0, 0)
            DailyFigures.objects.filter(day__in=days).delete()
            incidents = incidents.filter(_on_days(days))
        rows, read = _figures(incidents, now)
        DailyFigures.objects.bulk_create(rows, batch_size=2000)
        state.refreshed_at = now
        state.save(update_fields=["refreshed_at"])
    return Refreshed(len({r.day for r in rows}) if days is None else len(days), read)


def _on_days(days: list[dt.date]) -> Q:
    match = Q()
    for day in days:
        start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        match |= Q(reported_at__gte=start, reported_at__lt=start + dt.timedelta(days=1))
    return match


def _figures(incidents: QuerySet[Incident], now: dt.datetime) -> tuple[list[DailyFigures], int]:
    """One DailyFigures row per (day, level, sector, class) of ``incidents``, and how many incidents were read."""
    groups: dict[tuple[dt.date, int, str, str], DailyFigures] = {}
    read = 0
    for row, outcomes in metrics.step_outcomes(incidents, services.national_scale(), now=now):
        read += 1
        reported: dt.datetime = row["reported_at"]
        key = (_utc_day(reported), int(row["level"]), str(row["sector"]), class_of(str(row["classification"])))
        figures = groups.get(key)
        if figures is None:
            figures = groups[key] = DailyFigures(day=key[0], level=key[1], sector=key[2], classification=key[3])
        figures.reported += 1
        figures.still_open += row["status"] in OPEN_STATUSES
        if row["triaged_at"] is not None:
            figures.triaged += 1
            figures.triage_seconds += (row["triaged_at"] - reported).total_seconds()
        if row["resolved_at"] is not None:
            figures.resolved += 1
            figures.resolve_seconds += (row["resolved_at"] - reported).total_seconds()
        for step in STEPS:
            outcome = outcomes.get(step)
            if outcome in (metrics.MET, metrics.BREACHED):
                name = f"{step}_{outcome}"
                setattr(figures, name, getattr(figures, name) + 1)
    return list(groups.values()), read


def schedule_refresh(after: dt.datetime) -> None:
    """Make sure a refresh job is due: unless one is waiting, one at the next slot after ``after``."""
    if Job.objects.filter(kind=REFRESH_JOB, state=Job.State.PENDING).exists():
        return
    seconds = int(after.timestamp()) // REFRESH_SECONDS * REFRESH_SECONDS + REFRESH_SECONDS
    slot = dt.datetime.fromtimestamp(seconds, dt.UTC)
    enqueue(kind=REFRESH_JOB, key=f"{REFRESH_JOB}:{slot.isoformat()}", payload={}, run_after=slot)


def ensure_fresh(now: dt.datetime | None = None) -> dt.datetime:
    """Refresh the rollups when they are older than ``REFRESH_SECONDS``; when they are up to (returned)."""
    now = now or clock.now()
    state = RollupState.objects.filter(name=STATE).first()
    if state is None or now - state.refreshed_at > dt.timedelta(seconds=REFRESH_SECONDS):
        refresh(now)
        schedule_refresh(now)
        state = RollupState.objects.get(name=STATE)
    return state.refreshed_at
