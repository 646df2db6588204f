"""The outbox job of campaigns: one correlation run (``schedule.schedule_correlation`` enqueues it)."""

from __future__ import annotations

from nciss_platform.campaigns import services
from nciss_platform.campaigns.schedule import CORRELATE
from nciss_platform.outbox.models import Job
from nciss_platform.outbox.registry import handler


@handler(CORRELATE, max_attempts=5)
def correlate(job: Job) -> None:
    services.correlate_campaigns()
