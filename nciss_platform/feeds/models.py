"""What ingesting feeds keeps: the incident of each (organisation, type, window), events seen, dead letters."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from nciss_platform.accounts.models import Organisation
from nciss_platform.incidents.models import Incident


class FeedIncident(models.Model):
    """The incident that absorbs an organisation's events of one RSIT type in one time window.

    When that incident is no longer open, the next events of the window open a new incident
    and this row points at it (its counts start again).
    """

    # indexed by feedincident_one_per_window, which leads with it
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="feed_incidents", db_index=False
    )
    classification = models.CharField(max_length=80, help_text="RSIT class:type")
    window_start = models.DateTimeField()
    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="feed")
    events = models.PositiveIntegerField(default=0, help_text="Distinct events absorbed")
    observables = models.PositiveIntegerField(default=0, help_text="Observables kept (capped)")
    feeds = models.JSONField(default=dict, help_text="feed.name -> events")
    first_event_at = models.DateTimeField()
    last_event_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-window_start", "organisation", "classification"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "classification", "window_start"], name="feedincident_one_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.classification} at organisation {self.organisation_id} from {self.window_start:%Y-%m-%d %H:%M}"


class SeenEvent(models.Model):
    """An attributed event already ingested, by its deduplication digest; pruned after the window.

    One row per event ingested: nothing else is written per event, so nothing more than the
    digest's own index (no link to the incident, whose checks and index would double the cost).
    """

    digest = models.BinaryField(max_length=16, primary_key=True, help_text="nciss.interop.intelmq.dedup_key")
    first_seen = models.DateTimeField(db_index=True)


class DeadLetter(models.Model):
    """An event that could not be ingested, with where it was and why."""

    source = models.CharField(max_length=255, help_text="The file (or feed) it came from")
    position = models.CharField(max_length=40, help_text="line 12, event 3 ...")
    field = models.CharField(max_length=80, blank=True)
    reason = models.CharField(max_length=500)
    raw = models.TextField(blank=True, help_text="The line as read (JSON Lines input), cut at 8 KiB")
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-received_at", "id"]

    def __str__(self) -> str:
        return f"{self.source}:{self.position}: {self.field or '(event)'}: {self.reason}"


class FeedBatch(models.Model):
    """Events received over HTTP, stored as sent before they are ingested by an outbox job.

    The pending batches are the intake's backlog: their events and bytes decide when new
    requests are refused (429) instead of accepted.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    submitted_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(db_index=True)
    body = models.BinaryField(help_text="The request body as received (JSON Lines or a JSON array)")
    size = models.PositiveIntegerField(help_text="Bytes of the body")
    events = models.PositiveIntegerField(help_text="Events (and malformed lines) in the body")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    counts = models.JSONField(default=dict, blank=True, help_text="The ingest summary once done")
    error = models.CharField(max_length=500, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        permissions = [("submit_events", "Can submit feed events (feed service account)")]

    def __str__(self) -> str:
        return f"feed batch {self.pk} ({self.events} events, {self.status})"
