"""Scale drafts, published scale versions, reference cases and blind rating sessions.

A draft is the scale owner's work in progress (the definition's text, as typed or uploaded);
publishing it makes a ScaleVersion, which is never changed afterwards. Assessments keep the
``scale_id`` and ``scale_version`` they were made with (incidents.Assessment), so history is
never rewritten by a new version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from nciss_platform.incidents.models import Incident


class ScaleVersion(models.Model):
    """One published version of a scale: its definition as published, why, and from when it applies."""

    scale_id = models.CharField(max_length=100)
    version = models.CharField(max_length=50, help_text="The definition's own version label")
    definition = models.JSONField(help_text="The parsed definition, as the core reads it")
    source = models.TextField(help_text="The definition's text as published (YAML or JSON)")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the canonical JSON of the definition")
    change_note = models.TextField()
    effective_from = models.DateTimeField(db_index=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["scale_id", "-effective_from", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["scale_id", "version"], name="scaleversion_unique_scale_version")
        ]
        indexes = [models.Index(fields=["scale_id", "effective_from"], name="scaleversion_scale_effective")]

    def __str__(self) -> str:
        return f"{self.scale_id} {self.version}"


class ScaleDraft(models.Model):
    """A scale definition being edited: the text is kept as typed, with its last validation."""

    scale_id = models.CharField(max_length=100, help_text="The scale this draft is a new version of")
    source = models.TextField(help_text="The definition as YAML or JSON")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    errors = models.JSONField(default=list, blank=True, help_text="[[path, reason], ...] of the last validation")
    warnings = models.JSONField(default=list, blank=True)
    published_as = models.OneToOneField(
        ScaleVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="draft"
    )

    class Meta:
        ordering = ["-updated_at", "-pk"]

    def __str__(self) -> str:
        return f"draft of {self.scale_id} #{self.pk}"

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def is_published(self) -> bool:
        return self.published_as_id is not None


class ReferenceCase(models.Model):
    """A benchmark incident with the level the owners agreed it must get on the scale."""

    class Source(models.TextChoices):
        SEEDED = "seeded", "Seeded from the preset's golden cases"
        OWNER = "owner", "Added by a scale owner"

    scale_id = models.CharField(max_length=100, db_index=True)
    title = models.CharField(max_length=300)
    facts = models.JSONField(default=dict, blank=True)
    agreed_level = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.OWNER)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["scale_id", "pk"]

    def __str__(self) -> str:
        return self.title


class RatingSession(models.Model):
    """A blind consistency study: sampled incidents, each assessed by several analysts independently."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    title = models.CharField(max_length=200)
    scale_id = models.CharField(max_length=100)
    facts = models.JSONField(help_text="The facts every analyst answers, in order")
    incidents = models.ManyToManyField(Incident, related_name="+")
    analysts = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="rating_sessions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class Rating(models.Model):
    """One analyst's blind answers for one incident of a session, and the level they give."""

    session = models.ForeignKey(RatingSession, on_delete=models.CASCADE, related_name="ratings")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    analyst = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    facts = models.JSONField(default=dict)
    level = models.PositiveSmallIntegerField()
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["session", "incident", "analyst"]
        constraints = [
            models.UniqueConstraint(fields=["session", "incident", "analyst"], name="rating_unique_per_analyst")
        ]
