"""HTTP intake of feed events: each request stored as a batch, then ingested by an outbox job.

``receive`` checks the body (size, JSON Lines or a JSON array, at least one valid event) and the
backlog, and stores the body as a ``FeedBatch`` with the job that ingests it, in one
transaction: once answered 202 the events survive a crash. ``ingest_batch`` runs the batch
through ``services.ingest_events`` and records its counts in the same transaction, so a job
run twice (the outbox delivers at least once) ingests the batch once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum

from nciss.interop.records import Rejected
from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.feeds.models import DeadLetter, FeedBatch
from nciss_platform.feeds.reading import read_body
from nciss_platform.feeds.services import ingest_events, may_ingest
from nciss_platform.outbox.models import Job
from nciss_platform.outbox.registry import handler
from nciss_platform.outbox.services import enqueue

JOB_KIND = "feeds.ingest_batch"
MAX_ERRORS = 20  # reasons listed in a 400 answer
RETRY_AFTER_SECONDS = 30


class TooLarge(ServiceError):
    """A body over ``NCISS_FEED_MAX_REQUEST_MB``."""


@dataclass(frozen=True)
class Backlogged(Exception):
    """The pending batches hold too much: the client retries after ``retry_after`` seconds."""

    reason: str
    retry_after: int = RETRY_AFTER_SECONDS


@dataclass(frozen=True)
class Backlog:
    batches: int
    events: int
    bytes: int


def backlog() -> Backlog:
    """What the pending batches hold."""
    totals = FeedBatch.objects.filter(status=FeedBatch.Status.PENDING).aggregate(
        batches=Count("id"), events=Sum("events"), bytes=Sum("size")
    )
    return Backlog(totals["batches"], totals["events"] or 0, totals["bytes"] or 0)


def may_view(user: User) -> bool:
    """Feed status and dead letters: CSIRT staff and administrators."""
    return user.is_authenticated and (user.is_csirt_staff or user.role == User.Role.ADMINISTRATOR)


def receive(*, actor: User, body: bytes) -> FeedBatch:
    """Store a request's events as a pending batch and enqueue its ingestion.

    Raises NotAllowed, TooLarge (413), ServiceError (400: no valid event, with the reasons) and
    Backlogged (429: the pending batches exceed ``NCISS_FEED_MAX_BACKLOG_EVENTS`` or ``_MB``).
    """
    if not may_ingest(actor):
        raise NotAllowed("only CSIRT staff, administrators and feed accounts submit feed events")
    limit = settings.NCISS_FEED_MAX_REQUEST_BYTES
    if len(body) > limit:
        raise TooLarge([("body", f"{len(body)} bytes: at most {limit} per request, send the rest separately")])
    if not body.strip():
        raise ServiceError([("body", "empty: send IntelMQ events as JSON Lines or as one JSON array")])
    items = list(read_body(body, "request"))
    rejected = [item for item in items if isinstance(item, Rejected)]
    if len(rejected) == len(items):
        raise ServiceError([(f"{r.record}.{r.field}".strip(".") or "body", r.reason) for r in rejected[:MAX_ERRORS]])
    pending = backlog()
    if pending.events + len(items) > settings.NCISS_FEED_MAX_BACKLOG_EVENTS and pending.events:
        raise Backlogged(f"{pending.events} events are waiting to be ingested: try again later")
    if pending.bytes + len(body) > settings.NCISS_FEED_MAX_BACKLOG_BYTES and pending.bytes:
        raise Backlogged(f"{pending.bytes} bytes of events are waiting to be ingested: try again later")
    with transaction.atomic():
        batch = FeedBatch.objects.create(
            submitted_by=actor, received_at=clock.now(), body=body, size=len(body), events=len(items)
        )
        enqueue(kind=JOB_KIND, key=f"feeds.batch:{batch.pk}", payload={"batch": batch.pk})
    return batch


@handler(JOB_KIND, max_attempts=5)
def _ingest_job(job: Job) -> None:
    ingest_batch(int(job.payload["batch"]))


def ingest_batch(batch_id: int, window: dt.timedelta = dt.timedelta(days=1)) -> FeedBatch:
    """Ingest a pending batch as its submitter; the counts, and ``done``, commit with the events."""
    with transaction.atomic():
        batch = FeedBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != FeedBatch.Status.PENDING:
            return batch
        try:
            summary = ingest_events(
                events=read_body(bytes(batch.body), f"api batch {batch.pk}"),
                actor=batch.submitted_by,
                window=window,
                source=f"api batch {batch.pk}",
            )
        except NotAllowed as exc:  # the account lost its right since: kept, for an operator to look at
            batch.status, batch.error = FeedBatch.Status.FAILED, str(exc)[:500]
        else:
            batch.status, batch.counts, batch.body = FeedBatch.Status.DONE, summary.counts(), b""
        batch.finished_at = clock.now()
        batch.save(update_fields=["status", "counts", "body", "error", "finished_at"])
    return batch


def dead_letter_counts(source: str = "") -> list[dict[str, object]]:
    """Dead letters by source and reason, the most frequent first."""
    letters = DeadLetter.objects.filter(source=source) if source else DeadLetter.objects.all()
    return list(letters.values("source", "reason").annotate(count=Count("id")).order_by("-count", "source")[:50])
