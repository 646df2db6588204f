"""Writing and checking the audit log. Every service that changes state calls ``record``."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from nciss_platform import clock
from nciss_platform.audit.chain import GENESIS, canonical, event_hash
from nciss_platform.audit.models import AuditEvent, AuditHead
from nciss_platform.bulk import create_objects


def record(
    actor: Any,
    action: str,
    obj: models.Model | None,
    data: dict[str, Any] | None = None,
    *,
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    ``actor`` is a user or None for the system. ``data`` must be JSON-serialisable;
    it is stored as its canonical JSON so the hash can be recomputed exactly.
    """
    payload = _plain(data or {})
    event = AuditEvent(
        at=clock.now(),
        actor=getattr(actor, "username", "") or "",
        action=action,
        object_type=object_type or (obj._meta.model_name if obj is not None else ""),
        object_id=object_id or (str(obj.pk) if obj is not None else ""),
        data=payload,
    )
    pending = _deferred.get()
    if pending is not None:
        pending.append(event)
    else:
        _append([event])
    return event


_deferred: ContextVar[list[AuditEvent] | None] = ContextVar("deferred_audit_events", default=None)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Inside a transaction, append the events the block records to the chain when the block ends.

    The same events in the same order, with the times they were recorded at; but the chain's head
    (one row every writer locks until it commits) is locked only at the end, so a long batch no
    longer holds other writers back while it works. An exception discards the block's events, as
    its transaction is rolled back. Nested blocks append with the outermost one.
    """
    if _deferred.get() is not None:
        yield
        return
    pending: list[AuditEvent] = []
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    _append(pending)


def _append(events: list[AuditEvent]) -> None:
    """Chain the events after the head and write them (one insert), under the head's lock."""
    if not events:
        return
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1, defaults={"last_hash": GENESIS})
        for event in events:
            event.prev_hash = head.last_hash
            event.hash = event_hash(
                event.prev_hash, event.at, event.actor, event.action, event.object_type, event.object_id, event.data
            )
            head.last_hash, head.count = event.hash, head.count + 1
        create_objects(events)
        head.save(update_fields=["last_hash", "count"])


def _plain(data: dict[str, Any]) -> Any:
    """``data`` as the JSON the database will give back (so hashing is stable)."""
    return json.loads(canonical(data))


@dataclass
class Verification:
    checked: int
    broken_at: int | None  # id of the first event whose hash does not hold; -1: events missing at the end
    reason: str = ""
    last_hash: str = GENESIS  # the hash of the last event checked, to note down outside the database

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(batch: int = 5000, progress: Callable[[int], None] | None = None) -> Verification:
    """Recompute the whole chain; report the first event that does not match.

    ``progress`` is called with the number of events checked after each batch. The chain is
    checked up to the head read first, so events appended meanwhile on a live system are left
    for the next check rather than reported as missing.
    """
    head = AuditHead.objects.filter(pk=1).first()
    prev = GENESIS
    checked = 0
    for event in _events(batch):
        if head is not None and checked == head.count:
            break
        if progress is not None and checked and checked % batch == 0:
            progress(checked)
        if event.prev_hash != prev:
            return Verification(
                checked,
                event.pk,
                "its previous hash does not match the event before it (a row was removed or reordered)",
            )
        expected = event_hash(prev, event.at, event.actor, event.action, event.object_type, event.object_id, event.data)
        if expected != event.hash:
            return Verification(checked, event.pk, "its content does not match its hash (the row was edited)")
        prev = event.hash
        checked += 1
    if progress is not None:
        progress(checked)
    if head is None and checked:
        return Verification(checked, -1, "the chain's head record is missing (it was deleted)", prev)
    if head is not None and (head.count != checked or head.last_hash != prev):
        return Verification(
            checked,
            -1,
            f"the chain ends after {checked} events but {head.count} were written (events at the end were removed)",
            prev,
        )
    return Verification(checked, None, last_hash=prev)


def _events(batch: int) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = list(AuditEvent.objects.filter(pk__gt=last).order_by("pk")[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1].pk
