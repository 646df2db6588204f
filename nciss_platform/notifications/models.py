"""The stakeholder directory, the routing rules, and every notification sent with why and how it went.

A ``Contact`` belongs to a stakeholder organisation (a regulator, a ministry, the police, the
crisis cell, a partner CSIRT abroad) and has a tier: 1 is told first, 2 when tier 1 does not
answer, and so on. A ``RoutingRule`` is data: a condition in the rule language, the events it
applies to, its recipients, and how soon they must acknowledge. Each ``Notification`` keeps
the rule that caused it and the message as rendered when it was created, so that a retry
sends the very same message.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from nciss_platform.accounts.models import Organisation
from nciss_platform.incidents.models import Incident


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class Contact(models.Model):
    """A person or a desk at a stakeholder organisation, reachable by e-mail and/or webhook."""

    name = models.CharField(max_length=200)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="contacts")
    function = models.CharField(max_length=200, blank=True, help_text="e.g. duty officer, OSCE CBM 8 point of contact")
    email = models.EmailField(blank=True)
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(max_length=200, blank=True, help_text="Signs each webhook call (HMAC)")
    channels = models.JSONField(default=list, help_text="Channels to use: email, webhook")
    language = models.CharField(max_length=5, choices=settings.LANGUAGES, default="en")
    tier = models.PositiveSmallIntegerField(default=1, help_text="1 is told first; 2 when 1 does not answer ...")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation__name", "tier", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation})"

    @property
    def is_csirt_internal(self) -> bool:
        """A contact of the national CSIRT itself: the only one a TLP:RED incident is notified to."""
        return self.organisation.kind == Organisation.Kind.CSIRT and not self.organisation.is_foreign


class Event(models.TextChoices):
    """What happened to an incident that routing rules can react to."""

    REPORTED = "reported", "Reported (or first meets the condition)"
    LEVEL_RAISED = "level_raised", "Level raised"
    TARGET_BREACHED = "target_breached", "Response target missed"
    REGIME_REMINDER = "regime_reminder", "Reporting deadline reminder"


class RoutingRule(models.Model):
    """Who is told about which incidents, kept as data and edited by coordinators and administrators.

    ``condition`` is a condition of the rule language (docs/scale-format.md, "Conditions") that
    may also test ``level`` (the national rank) and ``tlp``; empty means every incident.
    Recipients are contacts named one by one and organisations, whose contacts of the rule's
    tier are told.
    """

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    condition = models.JSONField(default=dict, blank=True)
    events = models.JSONField(default=list, help_text="Events the rule applies to")
    organisations = models.ManyToManyField(Organisation, related_name="routing_rules", blank=True)
    contacts = models.ManyToManyField(Contact, related_name="routing_rules", blank=True)
    tier = models.PositiveSmallIntegerField(default=1, help_text="The recipient organisations' tier told first")
    ack_within = models.DurationField(null=True, blank=True, help_text="Escalate to the next tier if not acknowledged")
    active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=100, help_text="Rules are read in this order")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class IncidentEvent(models.Model):
    """One event of one incident that notifications were sent for; ``key`` makes it happen once."""

    class Kind(models.TextChoices):
        REPORTED = "reported", "Reported"
        LEVEL_RAISED = "level_raised", "Level raised"
        REASSESSED = "reassessed", "Reassessed"
        TARGET_BREACHED = "target_breached", "Response target missed"
        REGIME_REMINDER = "regime_reminder", "Reporting deadline reminder"
        UNACKNOWLEDGED = "unacknowledged", "Not acknowledged in time"

    key = models.CharField(max_length=200, unique=True)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notification_events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    level = models.PositiveSmallIntegerField()
    previous_level = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]


class Notification(models.Model):
    """One message to one contact over one channel about one event, and what became of it."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        WITHHELD = "withheld", "Withheld (TLP)"

    event = models.ForeignKey(IncidentEvent, on_delete=models.CASCADE, related_name="notifications")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notifications")
    rule = models.ForeignKey(RoutingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    rule_name = models.CharField(max_length=200, help_text="The rule's name when it fired")
    reason = models.TextField(help_text="Why this contact was told, in words")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="notifications")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=500, help_text="The e-mail address or webhook URL used")
    language = models.CharField(max_length=5)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    payload = models.JSONField(default=dict, blank=True, help_text="The webhook body")
    idempotency_key = models.CharField(max_length=64, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    ack_due_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_via = models.CharField(max_length=10, blank=True, help_text="link, page or api")
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="escalations"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["incident", "created_at"], name="notification_incident"),
            models.Index(fields=["ack_due_at"], name="notification_ack_due", condition=models.Q(acknowledged_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.incident.reference} -> {self.contact} ({self.channel})"
