"""A campaign: incidents of one classification, or sharing indicators, across organisations within a window."""

from __future__ import annotations

from django.db import models

from nciss_platform.incidents.models import Incident


class Campaign(models.Model):
    """Several organisations or sectors hit alike at the same time, assessed as a whole on the national scale.

    Its facts are the fold of its incidents' facts (maximum for ordered values, sum for counts,
    union for lists) plus ``organisations_affected`` and ``sectors_affected``.
    """

    class Basis(models.TextChoices):
        CLASSIFICATION = "classification", "Same classification"
        INDICATOR = "indicator", "Shared indicators"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    reference = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=200)
    basis = models.CharField(max_length=20, choices=Basis.choices)
    classification = models.CharField(
        max_length=80, blank=True, help_text="RSIT class:type, for a classification campaign"
    )
    indicators = models.JSONField(default=list, blank=True, help_text="The observables the incidents share")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    incidents = models.ManyToManyField(Incident, related_name="campaigns")
    facts = models.JSONField(default=dict, help_text="The fold of the incidents' facts")
    level = models.PositiveSmallIntegerField(default=0, help_text="On the national scale")
    score = models.FloatField(null=True, blank=True)
    reachable_max = models.PositiveSmallIntegerField(default=0, help_text="The highest level the unknown facts allow")
    organisations_affected = models.PositiveIntegerField(default=0)
    sectors = models.JSONField(default=list, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        indexes = [models.Index(fields=["status", "-level"], name="campaign_open_by_level")]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class ReferenceCounter(models.Model):
    """The last campaign number given out per year (CMP-2026-0001)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)
