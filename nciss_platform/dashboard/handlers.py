"""The dashboard's outbox job: refreshing the rollups every minute."""

from __future__ import annotations

from nciss_platform import clock
from nciss_platform.dashboard import rollups
from nciss_platform.outbox.models import Job
from nciss_platform.outbox.registry import handler


@handler(rollups.REFRESH_JOB, max_attempts=3)
def refresh(job: Job) -> None:
    """Schedule the next refresh first (one failure never stops the chain), then refresh."""
    now = clock.now()
    rollups.schedule_refresh(now)
    rollups.refresh(now)
