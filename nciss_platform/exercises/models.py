"""Exercise runs, kept apart from real incidents: their own tables, never incidents, shares or notifications.

A run keeps its scenario's YAML whole and the ordered log of the events it took; the engine
(``nciss.exercises.Exercise.replay``) rebuilds its state from them. Messages, notifications and
shares between teams are events of the run and stay inside it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ExerciseRun(models.Model):
    """One run of a scenario, led by a facilitator."""

    class Phase(models.TextChoices):
        READY = "ready", "Ready"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        ENDED = "ended", "Ended"

    scenario_id = models.CharField(max_length=100)
    title = models.CharField(max_length=300)  # the scenario's English title, for lists
    source = models.TextField()  # the scenario's YAML, whole
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.READY)
    minute = models.PositiveIntegerField(default=0)  # the exercise clock, as the engine last left it
    facilitator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"EXERCISE {self.scenario_id} #{self.pk}"


class Participant(models.Model):
    """A user playing one team of a run."""

    run = models.ForeignKey(ExerciseRun, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "user"], name="exercise_one_team_per_user")]
        ordering = ["team", "user__username"]


class RunEvent(models.Model):
    """One event the run took, in order: the engine replays them to rebuild the run's state."""

    run = models.ForeignKey(ExerciseRun, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    data = models.JSONField()  # the engine's event, stamped with its exercise minute
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="exercise_event_order")]
        ordering = ["seq"]
