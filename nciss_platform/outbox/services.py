"""Putting work in the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from nciss_platform import clock
from nciss_platform.outbox import registry, wakeup
from nciss_platform.outbox.models import Job

KEY_LENGTH = 255


def enqueue(*, kind: str, key: str, payload: dict[str, Any], run_after: datetime | None = None) -> Job:
    """Store a job in the caller's transaction (it commits with the change that caused it).

    Idempotent on ``key``: enqueuing an existing key returns the existing job unchanged. Once
    the transaction commits, idle workers are woken (in this process, and through the broker
    when ``NCISS_BROKER_URL`` is set).
    """
    if registry.get(kind) is None:
        raise LookupError(f"no handler is registered for job kind {kind!r}")
    if not key or len(key) > KEY_LENGTH:
        raise ValueError(f"a job key needs 1 to 255 characters: {key!r}")
    now = clock.now()
    job, created = Job.objects.get_or_create(
        key=key, defaults={"kind": kind, "payload": payload, "run_after": run_after or now, "created": now}
    )
    if created:
        transaction.on_commit(wakeup.notify, robust=True)
    return job
