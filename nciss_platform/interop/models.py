"""What was imported from where: the original records, and the key that makes re-imports no-ops."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from nciss_platform.incidents.models import Incident


class ImportedRecord(models.Model):
    """One source record and the incident it became. ``original`` keeps it whole, unmapped fields included."""

    source = models.CharField(max_length=20, help_text="The format: veris, stix, misp, intelmq, csv")
    source_id = models.CharField(max_length=300, help_text="The record's identity in its source")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="imported_from")
    original = models.JSONField(null=True)
    file = models.CharField(max_length=500, blank=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    imported_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], name="imported_record_once")]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_id}"
