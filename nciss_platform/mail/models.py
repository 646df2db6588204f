"""E-mail with reporters: every message received, kept as it arrived, and every message sent.

An ``InboundMessage`` is stored, raw bytes and all, before anything reads it (a message that
cannot be processed loses nothing), once per Message-ID (the same message delivered twice is
one row). An ``OutboundMessage`` keeps the message as rendered when it was created, so that a
retry sends the very same message under the same Message-ID.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from nciss_platform.incidents.models import Incident


class InboundMessage(models.Model):
    class State(models.TextChoices):
        RECEIVED = "received", "received, not processed yet"
        PROCESSED = "processed", "processed"
        REJECTED = "rejected", "rejected"

    message_id = models.CharField(max_length=255, unique=True, help_text="<id@domain>; a digest when it has none")
    raw = models.BinaryField(help_text="The message as received (only its header when it was over the size limit)")
    size = models.PositiveBigIntegerField(help_text="Bytes received")
    envelope_from = models.CharField(max_length=320, blank=True)
    recipients = models.JSONField(default=list, blank=True, help_text="Envelope recipients")
    sender = models.CharField(max_length=320, blank=True, help_text="The From address")
    subject = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.RECEIVED)
    reason = models.TextField(blank=True, help_text="Why it was rejected")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_messages"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    references = models.TextField(blank=True, help_text="The Message-IDs it answers (References, In-Reply-To)")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["incident", "-received_at"], name="inbound_incident"),
            models.Index(fields=["state", "-received_at"], name="inbound_state"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} from {self.sender or '?'} ({self.state})"


class OutboundMessage(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", "reply to the reporter"
        NOTICE = "notice", "notice that a message was not processed"

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REPLY)
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="outbound_messages"
    )
    answers = models.ForeignKey(
        InboundMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="answered_by"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    to = models.CharField(max_length=320)
    subject = models.CharField(max_length=500)
    text = models.TextField()
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    language = models.CharField(max_length=5)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.message_id} to {self.to} ({self.state})"
