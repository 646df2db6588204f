"""The dashboard's rollups: per reported day, level, sector and class, what the period charts add up.

``rollups.refresh`` rewrites the days whose incidents changed; the dashboard reads these rows
(at most a minute stale) instead of scanning a million incidents on every view.
"""

from __future__ import annotations

from django.db import models


class DailyFigures(models.Model):
    """The incidents reported on ``day`` (UTC) at ``level`` in ``sector`` of class ``classification``.

    Counts, the sums behind the mean times (seconds from report to triage and to resolution)
    and the response-target outcomes (nciss_platform.dashboard.metrics) of those incidents.
    """

    day = models.DateField()
    level = models.PositiveSmallIntegerField()
    sector = models.CharField(max_length=40, blank=True)
    classification = models.CharField(max_length=80, blank=True, help_text="The class: 'availability', 'fraud' ...")
    reported = models.PositiveIntegerField(default=0)
    still_open = models.PositiveIntegerField(default=0)
    triaged = models.PositiveIntegerField(default=0)
    triage_seconds = models.FloatField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    resolve_seconds = models.FloatField(default=0)
    triage_met = models.PositiveIntegerField(default=0)
    triage_breached = models.PositiveIntegerField(default=0)
    first_response_met = models.PositiveIntegerField(default=0)
    first_response_breached = models.PositiveIntegerField(default=0)
    resolution_met = models.PositiveIntegerField(default=0)
    resolution_breached = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "level", "sector", "classification"], name="dailyfigures_unique")
        ]


class RollupState(models.Model):
    """When the rollups were last brought up to date (one row)."""

    name = models.CharField(max_length=40, primary_key=True)
    refreshed_at = models.DateTimeField(help_text="Changes up to this moment are in the rollups")
