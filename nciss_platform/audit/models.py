"""The append-only, hash-chained audit log."""

from __future__ import annotations

from typing import Any

from django.db import models


class AuditEvent(models.Model):
    """One change (or one read of a TLP:RED incident), chained to the one before it.

    ``hash`` is SHA-256 over the previous hash and this event's canonical content
    (``audit.chain``), so editing or deleting any row breaks every hash after it;
    ``nciss audit verify`` finds where.
    """

    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=150, blank=True, help_text="Username at the time, or empty for the system")
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=60, db_index=True)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor or 'system'} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("audit events are append-only")


class AuditHead(models.Model):
    """The chain's last hash, one row; locking it orders concurrent appends."""

    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)
