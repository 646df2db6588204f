"""Workers: claim due jobs in batches under a lease, run their handlers, record every attempt.

Claiming is one short transaction: on PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED`` so that
workers never wait for each other or take the same job; on SQLite the transaction takes the
database's single write lock at its start (``transaction_mode=IMMEDIATE``), so claims are
serialised. A claimed job's ``run_after`` is the end of its lease: if the worker dies, the job
is due again when the lease ends and another worker claims it (at-least-once delivery).

Handlers run outside any transaction (a slow webhook must not hold SQLite's write lock); their
outcomes are written after every slow job (a delivery), and for fast jobs in groups, at the end of
a batch or at least every ``FLUSH_SECONDS``: a crash repeats the job in hand, or at most that much
fast work, and fast jobs cost a few statements per batch.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import BooleanField, F, QuerySet
from django.db.models.expressions import RawSQL

from nciss_platform import clock
from nciss_platform.outbox import registry, wakeup
from nciss_platform.outbox.models import Job, JobAttempt

logger = logging.getLogger(__name__)

# Pending and running jobs: the condition of the partial index ``outbox_job_due``, written out with
# literal values because SQLite uses a partial index only when the query repeats its condition.
ACTIVE = RawSQL(f"\"{Job._meta.db_table}\".\"state\" IN ('pending', 'running')", [], output_field=BooleanField())
DEFAULT_BATCH = 50
DEFAULT_LEASE = timedelta(minutes=5)
FLUSH_SECONDS = 0.5
SLOW_SECONDS = 0.02
PROGRESS_SECONDS = 10.0


def run_worker(
    *,
    once: bool = False,
    batch: int = DEFAULT_BATCH,
    lease: timedelta = DEFAULT_LEASE,
    kinds: Sequence[str] | None = None,
    stop: threading.Event | None = None,
    poll_seconds: float = 1.0,
) -> int:
    """Run jobs until ``stop`` is set (or, with ``once``, until none is due); the number of jobs run.

    ``kinds`` defaults to every registered kind: a job of a kind this process does not know waits
    for a worker that does. Idle, the worker sleeps until the next job is due, a wake-up arrives,
    or ``poll_seconds`` pass (jobs enqueued by other processes without a broker).
    """
    worker = Worker(batch=batch, lease=lease, kinds=list(kinds) if kinds is not None else registry.kinds())
    stop = stop or threading.Event()
    logger.info(
        "outbox worker %s started: batch %d, lease %ss, kinds %s",
        worker.name,
        batch,
        int(lease.total_seconds()),
        ", ".join(worker.kinds) or "(none registered)",
    )
    while not stop.is_set():
        if not connection.in_atomic_block:
            close_old_connections()  # reconnect after a database restart, honour CONN_MAX_AGE
        try:
            ran = worker.run_batch(stop)
            if ran:
                continue
            if once:
                break
            wakeup.wait(worker.idle_seconds(poll_seconds), stop)
        except DatabaseError as exc:
            if once or connection.in_atomic_block:
                raise
            logger.error("outbox worker %s: database error, retrying in %ss: %s", worker.name, poll_seconds, exc)
            connection.close()
            stop.wait(poll_seconds)
        worker.log_progress()
    worker.log_progress(final=True)
    return worker.total


def run_due_jobs(now: datetime | None = None) -> int:
    """Run every job due at ``now`` (default: the platform clock) in this process; the number run.

    For tests, and for running what is due by hand. With ``now``, handlers run with the platform
    clock frozen at it; retries scheduled after it are left for later.
    """
    with clock.frozen(now) if now is not None else nullcontext():
        return run_worker(once=True, lease=DEFAULT_LEASE)


@dataclass
class _Claim:
    job: Job
    attempt: JobAttempt
    ended: bool = False


@dataclass
class Worker:
    """One worker: claims batches of due jobs of ``kinds`` and runs them."""

    batch: int
    lease: timedelta
    kinds: list[str]
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    total: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(JobAttempt.Outcome.values, 0))
    last_progress: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError("batch must be at least 1")

    def due(self) -> QuerySet[Job]:
        """Pending and running jobs of this worker's kinds (the partial index ``outbox_job_due``)."""
        return Job.objects.filter(ACTIVE, kind__in=self.kinds)

    def claim(self) -> list[_Claim]:
        """Lease up to ``batch`` due jobs to this worker and open an attempt for each."""
        now = clock.now()
        until = now + self.lease
        with transaction.atomic():
            jobs = list(
                self.due()
                .filter(run_after__lte=now)
                .select_for_update(skip_locked=True)
                .order_by("run_after")[: self.batch]
            )
            if not jobs:
                return []
            ids = [job.id for job in jobs]
            Job.objects.filter(id__in=ids).update(
                state=Job.State.RUNNING,
                attempts=F("attempts") + 1,
                leased_by=self.name,
                leased_until=until,
                run_after=until,
            )
            interrupted = [job.id for job in jobs if job.state == Job.State.RUNNING]
            if interrupted:
                JobAttempt.objects.filter(job_id__in=interrupted, outcome="").update(
                    outcome=JobAttempt.Outcome.LOST, finished_at=now
                )
                self.counts["lost"] += len(interrupted)
                logger.warning("outbox worker %s: took over %d jobs whose worker stopped", self.name, len(interrupted))
            for job in jobs:
                job.state, job.attempts, job.leased_by, job.leased_until = (
                    Job.State.RUNNING,
                    job.attempts + 1,
                    self.name,
                    until,
                )
                job.run_after = until
            attempts = JobAttempt.objects.bulk_create(
                [JobAttempt(job=job, number=job.attempts, worker=self.name, started_at=now) for job in jobs]
            )
        return [_Claim(job, attempt) for job, attempt in zip(jobs, attempts, strict=True)]

    def run_batch(self, stop: threading.Event) -> int:
        """Claim a batch and run it; the number of jobs claimed (0: nothing was due)."""
        claims = self.claim()
        finished: list[_Claim] = []
        last_flush = time.monotonic()
        renew_at = time.monotonic() + self.lease.total_seconds() / 2
        ran = 0
        try:
            for position, claim in enumerate(claims):
                if stop.is_set():
                    break
                if claim.ended:  # lost to another worker while waiting in this batch
                    continue
                if time.monotonic() >= renew_at:
                    self.renew(claims[position:])
                    renew_at = time.monotonic() + self.lease.total_seconds() / 2
                    if claim.ended:
                        continue
                started = time.monotonic()
                self.run(claim)
                finished.append(claim)
                ran += 1
                # A slow job (a delivery) is recorded at once, so that a crash repeats nothing
                # but the job in hand; fast ones are recorded in groups.
                ended = time.monotonic()
                if ended - started >= SLOW_SECONDS or ended - last_flush >= FLUSH_SECONDS:
                    self.flush(finished)
                    finished, last_flush = [], time.monotonic()
        finally:
            self.flush(finished)
            self.release([claim for claim in claims if claim.attempt.outcome == "" and not claim.ended])
        self.total += ran
        return len(claims)

    def run(self, claim: _Claim) -> None:
        """Run one job's handler and note the outcome on its attempt (written by ``flush``)."""
        job, attempt = claim.job, claim.attempt
        handler = registry.get(job.kind)
        assert handler is not None, job.kind  # claim() only takes registered kinds
        attempt.started_at = clock.now()
        started = time.monotonic()
        try:
            handler.function(job)
        except registry.PermanentFailure as exc:
            attempt.outcome, attempt.error = JobAttempt.Outcome.DEAD, str(exc) or type(exc).__name__
        except Exception as exc:
            attempt.error = "".join(traceback.format_exception_only(exc)).strip()
            if job.attempts >= handler.max_attempts:
                attempt.outcome = JobAttempt.Outcome.DEAD
                attempt.error = f"gave up after {job.attempts} attempts: {attempt.error}"
            else:
                attempt.outcome = JobAttempt.Outcome.RETRY
                job.run_after = clock.now() + handler.backoff(job.attempts)
            expected = isinstance(exc, registry.TemporaryFailure)
            logger.warning(
                "outbox: %s %s attempt %d failed (%s): %s",
                job.kind,
                job.key,
                job.attempts,
                "retry at " + job.run_after.isoformat(timespec="seconds") if attempt.outcome == "retry" else "dead",
                attempt.error,
                exc_info=not expected,
            )
        else:
            attempt.outcome = JobAttempt.Outcome.OK
        attempt.finished_at = clock.now()
        if attempt.outcome == JobAttempt.Outcome.DEAD:
            logger.warning("outbox: %s %s is dead: %s", job.kind, job.key, attempt.error)
        if time.monotonic() - started > self.lease.total_seconds():
            logger.warning("outbox: %s %s ran longer than the lease: raise --lease", job.kind, job.key)
        self.counts[attempt.outcome] += 1

    def flush(self, finished: list[_Claim]) -> None:
        """Write the outcomes of finished jobs: a few statements for the whole group.

        Jobs this worker still holds become done (one statement for all), pending again or dead;
        the attempts' rows opened by ``claim`` are written again with their outcome and times.
        """
        if not finished:
            return
        now = clock.now()
        with transaction.atomic():
            ours = set(
                Job.objects.select_for_update()
                .filter(id__in=[claim.job.id for claim in finished], leased_by=self.name, state=Job.State.RUNNING)
                .values_list("id", flat=True)
            )
            done = [claim.job.id for claim in finished if claim.job.id in ours and claim.attempt.outcome == "ok"]
            if done:
                Job.objects.filter(id__in=done).update(
                    state=Job.State.DONE, finished=now, leased_until=None, leased_by="", last_error=""
                )
            for claim in finished:
                if claim.job.id in ours and claim.attempt.outcome != "ok":
                    dead = claim.attempt.outcome == JobAttempt.Outcome.DEAD
                    Job.objects.filter(id=claim.job.id).update(
                        state=Job.State.DEAD if dead else Job.State.PENDING,
                        run_after=claim.job.run_after,
                        finished=now if dead else None,
                        leased_until=None,
                        leased_by="",
                        last_error=claim.attempt.error,
                    )
            # Delete and insert again, ids kept: one statement each, where updating rows with
            # different values would take one statement per row.
            attempts = [claim.attempt for claim in finished]
            JobAttempt.objects.filter(id__in=[attempt.id for attempt in attempts]).delete()
            JobAttempt.objects.bulk_create(attempts)
        for claim in finished:
            claim.ended = True

    def renew(self, claims: list[_Claim]) -> None:
        """Extend the lease of the jobs still to run in this batch; drop those another worker took."""
        pending = [claim for claim in claims if not claim.ended]
        until = clock.now() + self.lease
        with transaction.atomic():
            ours = set(
                Job.objects.select_for_update()
                .filter(id__in=[claim.job.id for claim in pending], leased_by=self.name, state=Job.State.RUNNING)
                .values_list("id", flat=True)
            )
            Job.objects.filter(id__in=ours).update(leased_until=until, run_after=until)
        for claim in pending:
            claim.ended = claim.job.id not in ours

    def release(self, claims: list[_Claim]) -> None:
        """Give back jobs claimed but not started (on stop): due again at once, no attempt counted."""
        if not claims:
            return
        with transaction.atomic():
            JobAttempt.objects.filter(id__in=[claim.attempt.id for claim in claims]).delete()
            Job.objects.filter(
                id__in=[claim.job.id for claim in claims], leased_by=self.name, state=Job.State.RUNNING
            ).update(
                state=Job.State.PENDING,
                attempts=F("attempts") - 1,
                run_after=clock.now(),
                leased_until=None,
                leased_by="",
            )
        logger.info("outbox worker %s: gave back %d jobs it had not started", self.name, len(claims))

    def idle_seconds(self, poll_seconds: float) -> float:
        """How long to sleep: until the next job is due, at most ``poll_seconds``."""
        next_due = self.due().order_by("run_after").values_list("run_after", flat=True).first()
        if next_due is None:
            return poll_seconds
        return max(0.0, min(poll_seconds, (next_due - clock.now()).total_seconds()))

    def log_progress(self, *, final: bool = False) -> None:
        elapsed = time.monotonic() - self.last_progress
        if not final and elapsed < PROGRESS_SECONDS:
            return
        if any(self.counts.values()):
            ran = sum(self.counts[o] for o in ("ok", "retry", "dead"))
            logger.info(
                "outbox worker %s: %d done, %d to retry, %d dead, %d taken over in %.0fs (%.0f jobs/s)",
                self.name,
                self.counts["ok"],
                self.counts["retry"],
                self.counts["dead"],
                self.counts["lost"],
                elapsed,
                ran / elapsed if elapsed else 0,
            )
        if final:
            logger.info("outbox worker %s stopped after %d jobs", self.name, self.total)
        self.counts = dict.fromkeys(self.counts, 0)
        self.last_progress = time.monotonic()
