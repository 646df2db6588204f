"""The dashboard's queries: each one small, named and measured (bench/dashboard.py).

Live, from the incidents' indexes: open incidents by level, what was reported and what was
escalated in the last 24 hours. From the rollups (``DailyFigures``, at most a minute stale):
trends, the sector x level heatmap, response-target compliance and mean times over a period.

Counts cover every incident (``rollups.counted_incidents``), TLP:RED included: they are
aggregates and name nothing. The lists behind them (the queue) show each user only what they
may see, so a drill-down may list fewer incidents than a count says (docs/dashboard.md).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Sum

from nciss_platform.campaigns.models import Campaign
from nciss_platform.dashboard import metrics, rollups
from nciss_platform.dashboard.models import DailyFigures
from nciss_platform.incidents.filters import escalated_since
from nciss_platform.incidents.workflow import OPEN_STATUSES

PERIODS = (7, 30, 90, 365)  # days the period charts may cover
DEFAULT_PERIOD = 30
RECENT = dt.timedelta(hours=24)
DIMENSIONS = ("level", "classification", "sector")


@dataclass(frozen=True)
class Period:
    """The last ``days`` days up to ``last`` (UTC dates, both ends included), cut into buckets for trends.

    Up to 31 days a bucket is a day; longer periods have weeks (the last one ending on ``last``).
    """

    days: int
    last: dt.date

    @property
    def first(self) -> dt.date:
        return self.last - dt.timedelta(days=self.days - 1)

    @property
    def buckets(self) -> list[tuple[dt.date, dt.date]]:
        width = 1 if self.days <= 31 else 7
        out, end = [], self.last
        while end >= self.first:
            out.append((max(end - dt.timedelta(days=width - 1), self.first), end))
            end -= dt.timedelta(days=width)
        return out[::-1]


def period_ending(now: dt.datetime, days: int = DEFAULT_PERIOD) -> Period:
    return Period(days, now.astimezone(dt.UTC).date())


def open_by_level() -> dict[int, int]:
    """Open incidents per level (levels with none are absent)."""
    rows = (
        rollups.counted_incidents()
        .filter(status__in=OPEN_STATUSES)
        .order_by()
        .values_list("level")
        .annotate(n=Count("*"))  # not count(id): PostgreSQL then counts from the open-queue index alone
    )
    return {level: n for level, n in rows}


def reported_since(since: dt.datetime) -> int:
    return rollups.counted_incidents().filter(reported_at__gte=since).count()


def escalated_count(since: dt.datetime) -> int:
    return rollups.counted_incidents().filter(pk__in=escalated_since(since)).count()


def trend(period: Period, dimension: str) -> dict[str | int, list[int]]:
    """Incidents reported per bucket of ``period``, per level, class or sector (``dimension``)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension: one of {', '.join(DIMENSIONS)}")
    buckets = period.buckets
    index = {}
    for i, (start, end) in enumerate(buckets):
        for n in range((end - start).days + 1):
            index[start + dt.timedelta(days=n)] = i
    out: dict[str | int, list[int]] = defaultdict(lambda: [0] * len(buckets))
    rows = (
        DailyFigures.objects.filter(day__gte=period.first, day__lte=period.last)
        .values_list("day", dimension)
        .annotate(n=Sum("reported"))
    )
    for day, key, n in rows:
        out[key][index[day]] += n
    return dict(out)


def sector_by_level(period: Period) -> dict[tuple[str, int], int]:
    """Incidents reported in ``period`` per (sector, level): the heatmap's cells (empty ones absent)."""
    rows = (
        DailyFigures.objects.filter(day__gte=period.first, day__lte=period.last)
        .values_list("sector", "level")
        .annotate(n=Sum("reported"))
    )
    return {(sector, level): n for sector, level, n in rows if n}


@dataclass(frozen=True)
class Performance:
    """How the incidents reported in a period kept their response targets, and how long they took."""

    compliance: metrics.ResponseCompliance
    times: metrics.MeanTimes
    reported: int


def performance(period: Period) -> Performance:
    """``metrics.response_compliance`` and ``metrics.mean_times`` of the period's incidents, from the rollups."""
    fields = ["reported", "triaged", "triage_seconds", "resolved", "resolve_seconds"] + [
        f"{step}_{outcome}"
        for step in ("triage", "first_response", "resolution")
        for outcome in (metrics.MET, metrics.BREACHED)
    ]
    sums = DailyFigures.objects.filter(day__gte=period.first, day__lte=period.last).aggregate(
        **{f: Sum(f) for f in fields}
    )
    sums = {k: v or 0 for k, v in sums.items()}
    compliance = metrics.ResponseCompliance.from_counts(
        {
            step: {outcome: int(sums[f"{step}_{outcome}"]) for outcome in (metrics.MET, metrics.BREACHED)}
            for step in ("triage", "first_response", "resolution")
        }
    )
    times = metrics.MeanTimes(
        dt.timedelta(seconds=sums["triage_seconds"] / sums["triaged"]) if sums["triaged"] else None,
        int(sums["triaged"]),
        dt.timedelta(seconds=sums["resolve_seconds"] / sums["resolved"]) if sums["resolved"] else None,
        int(sums["resolved"]),
    )
    return Performance(compliance, times, int(sums["reported"]))


def open_campaigns(limit: int = 20) -> list[Campaign]:
    """The open campaigns, most severe and most recent first."""
    return list(Campaign.objects.filter(status=Campaign.Status.OPEN).order_by("-level", "-last_seen")[:limit])
