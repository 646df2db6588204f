"""The outbox: jobs stored in the database with the change that caused them, and every attempt at them."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Job(models.Model):
    """One piece of background work, identified by its idempotency ``key``.

    ``run_after`` is when the job may next be claimed: for a pending job the time it is due (or
    its next retry), for a running job the end of its lease, so that a job whose worker died is
    claimed again. Claiming reads only the partial index over pending and running jobs, however
    many done ones the table keeps.
    """

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        RUNNING = "running", "running"
        DONE = "done", "done"
        DEAD = "dead", "dead"

    kind = models.CharField(max_length=100)
    key = models.CharField(max_length=255, unique=True)  # services.KEY_LENGTH
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    run_after = models.DateTimeField()
    leased_until = models.DateTimeField(null=True, blank=True)
    leased_by = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField()
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["run_after"],
                name="outbox_job_due",
                condition=Q(state__in=["pending", "running"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.state})"


class JobAttempt(models.Model):
    """The delivery log: one row per attempt, written when a worker claims the job.

    An attempt without an outcome is in progress; one whose worker died is marked ``lost`` when
    the job is claimed again.
    """

    class Outcome(models.TextChoices):
        OK = "ok", "ok"
        RETRY = "retry", "retry"
        DEAD = "dead", "dead"
        LOST = "lost", "lost (the worker stopped before finishing)"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    worker = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="outbox_attempt_unique_number")]

    def __str__(self) -> str:
        return f"{self.job.key} #{self.number} {self.outcome or 'running'}"
