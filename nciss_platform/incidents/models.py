"""Incidents, their immutable assessments, their timeline and attachments."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from nciss_platform.accounts.models import Organisation
from nciss_platform.incidents.workflow import OPEN_STATUSES, Status


class TLP(models.TextChoices):
    """FIRST Traffic Light Protocol 2.0 labels, least restrictive first."""

    CLEAR = "TLP:CLEAR", "TLP:CLEAR"
    GREEN = "TLP:GREEN", "TLP:GREEN"
    AMBER = "TLP:AMBER", "TLP:AMBER"
    AMBER_STRICT = "TLP:AMBER+STRICT", "TLP:AMBER+STRICT"
    RED = "TLP:RED", "TLP:RED"


class PAP(models.TextChoices):
    """Permissible Actions Protocol."""

    CLEAR = "PAP:CLEAR", "PAP:CLEAR"
    GREEN = "PAP:GREEN", "PAP:GREEN"
    AMBER = "PAP:AMBER", "PAP:AMBER"
    RED = "PAP:RED", "PAP:RED"


class Incident(models.Model):
    """A reported incident. Its level is its latest assessment on the national scale.

    ``level``, ``score``, ``reachable_max`` and ``due_at`` are copies of the latest
    assessment and of the current response target, kept for ordering the queue.
    """

    reference = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    reporting_organisation = models.ForeignKey(  # indexed by incident_reporter_org, which leads with it
        Organisation, on_delete=models.PROTECT, related_name="reported_incidents", db_index=False
    )
    affected_organisations = models.ManyToManyField(Organisation, related_name="affected_by", blank=True)
    classification = models.CharField(max_length=80, blank=True)
    facts = models.JSONField(default=dict)
    tlp = models.CharField(max_length=20, choices=TLP.choices, default=TLP.AMBER)
    pap = models.CharField(max_length=20, choices=PAP.choices, default=PAP.AMBER)
    red_recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="red_incidents", blank=True)
    reporter_may_be_named = models.BooleanField(
        default=False, help_text="The reporting organisation agreed that shares abroad may name it"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REPORTED)
    waiting_on_reporter = models.BooleanField(default=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_incidents"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_incidents")
    sector = models.CharField(max_length=40, blank=True)
    level = models.PositiveSmallIntegerField(default=0)
    score = models.FloatField(null=True, blank=True)
    reachable_max = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True, help_text="When the current response target falls due")
    occurred_at = models.DateTimeField(null=True, blank=True)
    detected_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField()
    triaged_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    related = models.ManyToManyField("self", blank=True, symmetrical=True)
    reporting_submissions = models.JSONField(default=dict, blank=True, help_text="Deadline id -> ISO time submitted")

    class Meta:
        ordering = ["-reported_at"]
        indexes = [
            models.Index(fields=["-level", "due_at"], name="incident_queue", condition=Q(status__in=OPEN_STATUSES)),
            # lets PostgreSQL count the open queue, TLP:RED rule included, from the index alone
            models.Index(
                fields=["tlp", "created_by", "id"], name="incident_open_visible", condition=Q(status__in=OPEN_STATUSES)
            ),
            models.Index(fields=["status", "-reported_at"], name="incident_status"),
            models.Index(fields=["reporting_organisation", "-reported_at"], name="incident_reporter_org"),
            models.Index(fields=["sector", "-level"], name="incident_sector"),
            models.Index(fields=["classification"], name="incident_classification"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Assessment(models.Model):
    """An immutable snapshot: the facts, the scale and version, the result, who and when."""

    # indexed by assessment_incident, which leads with it
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="assessments", db_index=False)
    scale_id = models.CharField(max_length=100)
    scale_version = models.CharField(max_length=50)
    facts = models.JSONField()
    result = models.JSONField()
    level = models.PositiveSmallIntegerField()
    score = models.FloatField(null=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["incident", "-created_at"], name="assessment_incident")]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("assessments are immutable: assess again instead")
        super().save(*args, **kwargs)


class TimelineEntry(models.Model):
    """Something that happened to an incident, in order."""

    class Kind(models.TextChoices):
        REPORTED = "reported", "Reported"
        COMMENT = "comment", "Comment"
        STATUS = "status", "Status change"
        FACTS = "facts", "Facts changed"
        ASSESSMENT = "assessment", "Assessed"
        ATTACHMENT = "attachment", "Attachment"
        ASSIGNMENT = "assignment", "Assignment"
        LINK = "link", "Link"
        DEADLINE = "deadline", "Report submitted"
        TLP = "tlp", "Sharing changed"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField()
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        # what happened across all incidents in a period (situation reports)
        indexes = [models.Index(fields=["kind", "created_at"], name="timeline_kind_time")]


class Observable(models.Model):
    """An indicator or artefact of an incident (an address, a domain, a hash), typed as STIX observables."""

    # indexed by observable_unique_per_incident, which leads with it
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="observables", db_index=False)
    type = models.CharField(max_length=40)
    value = models.CharField(max_length=2048)
    comment = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "type", "value"], name="observable_unique_per_incident")
        ]
        indexes = [models.Index(fields=["type", "value"], name="observable_lookup")]

    def __str__(self) -> str:
        return f"{self.type}: {self.value}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.incident.reference}/{instance.sha256[:16]}-{filename}"


class Attachment(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField()


class ReferenceCounter(models.Model):
    """The last reference number given out per year (NCISS-2026-000123)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


class ClockPause(models.Model):
    """A time the response clocks stood still because the CSIRT was waiting on the reporter."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="clock_pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Empty while the clocks are still paused")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident"], condition=Q(ended_at__isnull=True), name="clockpause_one_open_per_incident"
            )
        ]


class ClockSignal(models.Model):
    """A breach or reminder already signalled (nciss_platform.incidents.clocks), so that each goes out once."""

    class Kind(models.TextChoices):
        BREACH = "breach", "Breach"
        REMINDER = "reminder", "Reminder"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="clock_signals")
    clock = models.CharField(max_length=120, help_text="response:triage, eu-nis2:early-warning ...")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    due = models.DateTimeField()
    lead_minutes = models.PositiveIntegerField(default=0, help_text="For a reminder: how long before the due time")
    signalled_at = models.DateTimeField()

    class Meta:
        ordering = ["signalled_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "clock", "kind", "due", "lead_minutes"], name="clocksignal_once"
            )
        ]
