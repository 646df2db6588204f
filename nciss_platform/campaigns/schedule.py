"""Asking for a correlation run: one pending ``campaigns.correlate`` outbox job at a time.

Incident services and feed ingestion call ``schedule_correlation`` in their transaction; the job
commits with the change that asked for it, and a burst of changes shares one pending job. The
handler (``handlers.py``) runs ``services.correlate_campaigns``. This module imports no
incident code, so that incident services may import it.
"""

from __future__ import annotations

import datetime as dt
import uuid

from nciss_platform import clock
from nciss_platform.outbox.models import Job
from nciss_platform.outbox.services import enqueue
from nciss_platform.outbox.worker import ACTIVE

CORRELATE = "campaigns.correlate"


def schedule_correlation(run_after: dt.datetime | None = None) -> None:
    """Make sure a correlation runs at ``run_after`` (default: now) or earlier.

    A pending job due by then already does it (a running one may have read the data before this
    change, so it does not count).
    """
    due = run_after or clock.now()
    # ACTIVE: read from the partial index over pending and running jobs, however many are done
    if Job.objects.filter(ACTIVE, kind=CORRELATE, state=Job.State.PENDING, run_after__lte=due).exists():
        return
    enqueue(kind=CORRELATE, key=f"{CORRELATE}:{uuid.uuid4().hex}", payload={}, run_after=due)
