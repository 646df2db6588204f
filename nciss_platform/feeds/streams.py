"""Feed events through a Redis stream: a publisher that waits instead of overfilling it, and workers.

Each stream entry holds one event (field ``event``: its JSON text; a JSON array of events is
accepted too). Workers read through one consumer group (``XREADGROUP``), ingest what they read
in one transaction, and only then acknowledge and delete the entries (``XACK``, ``XDEL``): an
entry leaves the stream once its events are committed, so the stream's length is the backlog.

Delivery is at least once: a worker killed between its commit and its acknowledgement, or
before its commit, leaves its entries pending, and the other workers take them over once they
have been pending for ``claim_idle`` seconds (``XAUTOCLAIM``, on start and then periodically).
Ingesting an event again counts it as a duplicate (``feeds.SeenEvent``), so nothing is counted
twice; ``services._lock_groups`` keeps concurrent workers on PostgreSQL from both counting an
event or both opening the incident of one group.

An entry that is not a valid event is a dead letter, acknowledged like the others. One whose
ingestion raises something other than a database error (a "poison" entry; or data the database
refuses, such as a NUL character on PostgreSQL) would fail its batch at every delivery: the
worker then bisects the batch, ingests the halves that go through, and keeps the entry that
fails alone as a dead letter with the exception's first line. An entry delivered more than
``max_deliveries`` times (``XPENDING``'s count: workers died or stalled on it) is a dead letter
without another try. Batches the database refused do not count as deliveries. Each dead letter
is logged once, at warning level.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
import redis
from django.db import DataError, InterfaceError, OperationalError, connection
from django.db import Error as DbError

from nciss.interop.records import Rejected
from nciss_platform.accounts.constituency import constituency
from nciss_platform.accounts.models import User
from nciss_platform.errors import NotAllowed
from nciss_platform.feeds.reading import read_message
from nciss_platform.feeds.services import IngestSummary, Malformed, ingest_events

logger = logging.getLogger(__name__)

STREAM = "nciss:events"
GROUP = "nciss"
FIELD = b"event"
MAX_BACKLOG = 100_000  # entries in the stream before a publisher waits
PUBLISH_CHUNK = 500  # entries per pipelined round trip
RETRIES = 5  # attempts at ingesting a batch the database refused
MAX_DELIVERIES = 5  # deliveries of an entry before it is a dead letter instead of tried again
Message = tuple[bytes, dict[bytes, bytes]]


def connect(url: str) -> redis.Redis:
    """A client for ``url`` (redis://host:port/db); raises ValueError for a URL that is not one."""
    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=5, health_check_interval=30)


def publish(
    client: redis.Redis,
    events: Iterable[bytes],
    *,
    stream: str = STREAM,
    max_backlog: int = MAX_BACKLOG,
    on_progress: Callable[[int], None] | None = None,
    poll_seconds: float = 0.2,
    partitions: int = 1,
    route: Callable[[bytes], int] | None = None,
) -> int:
    """Add each event to the stream, never dropping one; the number added.

    With ``partitions`` above 1, each event goes to the partition ``route(event) % partitions``
    (the stream ``partition_stream(stream, k)``; ``route`` defaults to ``by_organisation``).
    Back-pressure: while a stream an event goes to holds ``max_backlog`` entries or more (events
    not yet ingested), the publisher waits for the workers. ``on_progress`` gets the number just
    added.
    """
    if partitions > 1:
        route = route or by_organisation()
    sent = 0
    chunk: list[tuple[str, bytes]] = []

    def flush() -> None:
        nonlocal sent
        for target in {target for target, _ in chunk}:
            while client.xlen(target) >= max_backlog:
                time.sleep(poll_seconds)
        pipe = client.pipeline(transaction=False)
        for target, event in chunk:
            pipe.xadd(target, {FIELD: event})
        pipe.execute()
        sent += len(chunk)
        if on_progress is not None:
            on_progress(len(chunk))
        chunk.clear()

    for event in events:
        chunk.append((partition_stream(stream, route(event) % partitions) if route else stream, event))
        if len(chunk) >= PUBLISH_CHUNK:
            flush()
    if chunk:
        flush()
    return sent


def partition_stream(stream: str, partition: int) -> str:
    """The stream of one partition: ``nciss:events`` partition 3 is ``nciss:events:3``."""
    return f"{stream}:{partition}"


def by_organisation() -> Callable[[bytes], int]:
    """Route events by the organisation they are attributed to, so that one partition's workers see
    all of an organisation's events and workers of different partitions never share an
    aggregation group (nor wait for each other's group locks). Events no organisation owns, and what
    is not an event, are spread evenly (the workers count or reject them)."""
    owners = constituency()
    spread = itertools.count()

    def route(data: bytes) -> int:
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            return next(spread)
        owner = owners.attribute(event) if isinstance(event, dict) else None
        return next(spread) if owner is None else owner

    return route


def default_consumer() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class StreamWorker:
    """One consumer of the group: reads, claims the entries of dead consumers, ingests, acknowledges."""

    client: redis.Redis
    actor: User
    stream: str = STREAM
    group: str = GROUP
    consumer: str = field(default_factory=default_consumer)
    batch: int = 10000
    window: dt.timedelta = dt.timedelta(days=1)
    claim_idle: float = 60.0  # seconds an entry stays pending before another worker takes it over
    block: float = 1.0  # seconds a read waits for new entries
    max_deliveries: int = MAX_DELIVERIES
    summary: IngestSummary = field(default_factory=IngestSummary)
    _claimed_at: float = float("-inf")

    def run(
        self,
        *,
        until_empty: bool = False,
        stop: threading.Event | None = None,
        on_progress: Callable[[IngestSummary], None] | None = None,
    ) -> IngestSummary:
        """Ingest until ``stop`` is set, or with ``until_empty`` until the stream holds nothing."""
        stop = stop or threading.Event()
        self.ensure_group()
        while not stop.is_set():
            messages = self._claim() or self._read()
            if messages:
                self._ingest_isolating(messages, stop)
                if on_progress is not None:
                    on_progress(self.summary)
            elif until_empty and self.client.xlen(self.stream) == 0:
                break
        return self.summary

    def _ingest_isolating(self, messages: list[Message], stop: threading.Event) -> None:
        """Ingest the batch in one transaction; when it raises an unexpected exception, bisect it
        until each entry that fails alone is found, and keep those as dead letters."""
        poisoned: list[tuple[Message, str]] = []
        pending = [messages]
        while pending:
            part = pending.pop()
            try:
                self._ingest_retrying(part, stop)
            except Exception as exc:
                if not _is_poison(exc):
                    raise
                if len(part) == 1:
                    poisoned.append((part[0], _one_line(exc)))
                else:
                    half = len(part) // 2
                    pending += [part[half:], part[:half]]  # the first half next: in stream order
        if poisoned:
            self._bury(poisoned)

    def _ingest_retrying(self, messages: list[Message], stop: threading.Event) -> None:
        """Ingest, again after a deadlock or a lost connection (nothing was committed); after
        ``RETRIES`` failures the entries stay pending, to be claimed again after ``claim_idle``,
        with their delivery counts as they were: a database that refuses is not the entries' fault."""
        for attempt in range(1, RETRIES + 1):
            try:
                self._ingest(messages)
                return
            except (OperationalError, InterfaceError) as exc:
                logger.warning("feed worker %s: database error (attempt %d): %s", self.consumer, attempt, exc)
                connection.close()
                stop.wait(min(0.1 * 2**attempt, 5.0))
        self._uncount([message_id for message_id, _ in messages])

    def _bury(self, letters: list[tuple[Message, str]]) -> None:
        """Keep the entries as dead letters (``message <entry id>``, the entry's text), then acknowledge them."""
        source = f"redis {self.stream}"
        rejected = [
            Malformed(source, _where(message_id), "", reason, raw=fields.get(FIELD, b"").decode("utf-8", "replace"))
            for (message_id, fields), reason in letters
        ]
        self._add(ingest_events(events=rejected, actor=self.actor, window=self.window, source=source))
        self._log_dead_letters(rejected)
        self._acknowledge([message_id for (message_id, _), _ in letters])

    def ensure_group(self) -> None:
        """Create the stream and its group when missing (from the start of the stream)."""
        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _claim(self) -> list[Message]:
        """Entries pending longer than ``claim_idle`` (their consumer died), at most every ``claim_idle / 2``."""
        now = time.monotonic()
        if now - self._claimed_at < self.claim_idle / 2:
            return []
        self._claimed_at = now
        start: Any = "0-0"
        claimed: list[Message] = []
        while len(claimed) < self.batch:
            reply = self.client.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                min_idle_time=int(self.claim_idle * 1000),
                start_id=start,
                count=self.batch - len(claimed),
            )
            claimed += [message for message in reply[1] if message and message[1]]
            start = reply[0]
            if start in (b"0-0", "0-0"):
                break
        if claimed:
            self._claimed_at = float("-inf")  # more may be waiting: look again at once
        deliveries = self._deliveries([message_id for message_id, _ in claimed])
        worn = [message for message in claimed if deliveries.get(message[0], 0) > self.max_deliveries]
        if worn:
            reason = "delivered {} times and never acknowledged: workers died or stalled on it"
            self._bury([(message, reason.format(deliveries[message[0]])) for message in worn])
        return [message for message in claimed if deliveries.get(message[0], 0) <= self.max_deliveries]

    def _deliveries(self, ids: list[bytes]) -> dict[bytes, int]:
        """How many times each entry pending with this worker was delivered (``XPENDING``)."""
        if not ids:
            return {}
        ordered = sorted(ids, key=lambda message_id: tuple(map(int, message_id.split(b"-"))))
        rows = self.client.xpending_range(
            self.stream,
            self.group,
            min=ordered[0],
            max=ordered[-1],
            count=len(ids) + self.batch,
            consumername=self.consumer,
        )
        wanted = set(ids)
        return {row["message_id"]: int(row["times_delivered"]) for row in rows if row["message_id"] in wanted}

    def _uncount(self, ids: list[bytes]) -> None:
        """Take back the last delivery of the entries (``XCLAIM ... RETRYCOUNT``)."""
        by_count: dict[int, list[bytes]] = {}
        for message_id, delivered in self._deliveries(ids).items():
            by_count.setdefault(max(delivered - 1, 1), []).append(message_id)
        for count, same in by_count.items():
            self.client.xclaim(
                self.stream, self.group, self.consumer, 0, cast(list[Any], same), retrycount=count, justid=True
            )

    def _read(self) -> list[Message]:
        reply: Any = self.client.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=self.batch, block=int(self.block * 1000)
        )
        return cast(list[Message], reply[0][1]) if reply else []

    def _ingest(self, messages: list[Message]) -> None:
        source = f"redis {self.stream}"
        rejected: list[Rejected] = []
        summary = ingest_events(
            events=_events(messages, source, rejected),
            actor=self.actor,
            window=self.window,
            batch=2**31,  # one transaction for what was read
            source=source,
        )
        self._acknowledge([message_id for message_id, _ in messages])
        self._add(summary)
        self._log_dead_letters(rejected)

    def _log_dead_letters(self, rejected: Sequence[Rejected]) -> None:
        for item in rejected:
            logger.warning(
                "feed worker %s: %s of %s is a dead letter: %s%s",
                self.consumer,
                item.record,
                item.file,
                f"{item.field}: " if item.field else "",
                item.reason,
            )

    def _acknowledge(self, ids: list[bytes]) -> None:
        """The entries are committed: acknowledge them and delete them from the stream."""
        pipe = self.client.pipeline(transaction=True)
        pipe.xack(self.stream, self.group, *ids)
        pipe.xdel(self.stream, *ids)
        pipe.execute()

    def _add(self, summary: IngestSummary) -> None:
        for name in ("read", "rejected", "unattributed", "attributed", "duplicates"):
            setattr(self.summary, name, getattr(self.summary, name) + getattr(summary, name))
        self.summary.opened |= summary.opened
        self.summary.updated |= summary.updated


def _events(messages: list[Message], source: str, rejected: list[Rejected]) -> Iterator[dict[str, Any] | Rejected]:
    """The entries' events; what is not an event is also appended to ``rejected``."""
    for message_id, fields in messages:
        where = _where(message_id)
        data = fields.get(FIELD)
        items = (
            [Rejected(source, where, "event", "missing: the entry has no event field")]
            if data is None
            else read_message(data, source, where)
        )
        for item in items:
            if isinstance(item, Rejected):
                rejected.append(item)
            yield item


def _where(message_id: bytes) -> str:
    return f"message {message_id.decode()}"


def _one_line(exc: Exception) -> str:
    """``Type: first line of the message``, for a dead letter's reason."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _is_poison(exc: Exception) -> bool:
    """Whether the exception may come from an entry of the batch, rather than from the database (bar
    data it refuses), the actor's rights (``NotAllowed``) or the broker, which no entry is to blame for."""
    if isinstance(exc, DataError):
        return True
    return not isinstance(exc, DbError | NotAllowed | redis.RedisError)
