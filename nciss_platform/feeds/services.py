"""Ingesting feed events: validated, attributed, deduplicated, aggregated into incidents, scored.

``ingest_events`` takes what ``nciss.interop.intelmq.read_events`` yields (events and
``Rejected``) and works in batches, each in one transaction:

- a rejected event becomes a ``DeadLetter`` with its reason (and its line, when read from
  JSON Lines by ``nciss_platform.feeds.reading``);
- an event no organisation of the constituency owns (``accounts.constituency``) is counted
  as unattributed and dropped: feeds report far more than the constituency holds;
- an attributed event whose digest (``intelmq.dedup_key``, IntelMQ's deduplicator default)
  was seen within the window, in this batch or an earlier run, is counted as a duplicate;
- the others are grouped by (organisation, RSIT classification, UTC-aligned window of
  ``time.source``, else ``time.observation``). Each group goes to its ``FeedIncident``: an
  open incident absorbs the events (counts, observables up to ``MAX_OBSERVABLES``, and its
  ``occurred_at`` moves earlier when older events arrive, which assesses it again); when
  there is none, or it is no longer open, one is opened and assessed at once (``report_incidents``,
  all of a batch together).

One audit row per batch (``feeds.ingested``, with the batch's counts), besides the rows of
the incidents opened or changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from nciss.interop import intelmq
from nciss.interop.records import TLP_LABELS, Rejected, read_label
from nciss_platform import clock
from nciss_platform.accounts.constituency import constituency
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.services import record
from nciss_platform.bulk import create_objects, insert_rows, select_matching, update_rows
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.feeds.models import DeadLetter, FeedIncident, SeenEvent
from nciss_platform.incidents import services as incidents
from nciss_platform.incidents.models import TLP, Incident, Observable
from nciss_platform.incidents.workflow import OPEN_STATUSES

MAX_OBSERVABLES = intelmq.MAX_OBSERVABLES  # per incident
RAW_MAX = 8192  # characters of a dead letter's line kept
_ROW_FIELDS = ["incident", "events", "observables", "feeds", "first_event_at", "last_event_at", "updated_at"]
_HELD_FIELDS = [
    "id",
    "organisation_id",
    "classification",
    "window_start",
    "incident_id",
    *_ROW_FIELDS[1:-1],
]  # not updated_at: rewritten
_BATCH_COUNTS = ("read", "rejected", "unattributed", "attributed", "duplicates")


@dataclass(frozen=True)
class Malformed(Rejected):
    """A rejected event with the text it was read from."""

    raw: str = ""


@dataclass
class IngestSummary:
    """What a run did. ``read`` = ``rejected`` + ``unattributed`` + ``attributed``; ``duplicates`` are
    attributed events seen before within the window."""

    read: int = 0
    rejected: int = 0
    unattributed: int = 0
    attributed: int = 0
    duplicates: int = 0
    opened: set[int] = field(default_factory=set, repr=False)
    updated: set[int] = field(default_factory=set, repr=False)

    @property
    def incidents_opened(self) -> int:
        return len(self.opened)

    @property
    def incidents_updated(self) -> int:
        """Incidents that existed before the run and absorbed events in it."""
        return len(self.updated - self.opened)

    def counts(self) -> dict[str, int]:
        return {
            "read": self.read,
            "rejected": self.rejected,
            "unattributed": self.unattributed,
            "attributed": self.attributed,
            "duplicates": self.duplicates,
            "incidents_opened": self.incidents_opened,
            "incidents_updated": self.incidents_updated,
        }


@dataclass
class _Group:
    """The new events of one (organisation, classification, window) in one batch."""

    digests: list[bytes] = field(default_factory=list)
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    feeds: Counter[str] = field(default_factory=Counter)
    observables: dict[tuple[str, str], str] = field(default_factory=dict)
    tlp: str | None = None
    room: int = MAX_OBSERVABLES  # observables the incident may still take

    def add(self, digest: bytes, event: dict[str, Any], moment: dt.datetime) -> None:
        self.digests.append(digest)
        self.first = moment if self.first is None or moment < self.first else self.first
        self.last = moment if self.last is None or moment > self.last else self.last
        self.feeds[str(event.get("feed.name") or "")] += 1
        if len(self.observables) < self.room:
            for observable in intelmq.observables(event):
                if len(observable.value) <= 2048 and len(self.observables) < self.room:
                    self.observables.setdefault((observable.type, observable.value), observable.comment[:500])
        if "tlp" in event:
            tlp = read_label(event["tlp"], TLP_LABELS)
            self.tlp = max(filter(None, (self.tlp, tlp)), key=TLP_LABELS.index, default=None)


def ingest_events(
    *,
    events: Iterable[dict[str, Any] | Rejected],
    actor: User,
    window: dt.timedelta = dt.timedelta(days=1),
    batch: int = 10000,
    source: str = "",
    on_progress: Callable[[IngestSummary], None] | None = None,
) -> IngestSummary:
    """Ingest IntelMQ events (and the rejections of their reader) as the CSIRT analyst ``actor``.

    ``window`` is both the aggregation window and how long an event's digest is remembered for
    deduplication; ``source`` names the input in the audit log; ``on_progress`` is called with
    the running summary after each batch.
    """
    if not may_ingest(actor):
        raise NotAllowed("only CSIRT staff, administrators and feed accounts of an organisation ingest feeds")
    seconds = int(window.total_seconds())
    if seconds <= 0:
        raise ServiceError([("window", "must be positive")])
    if batch <= 0:
        raise ServiceError([("batch", "must be positive")])
    SeenEvent.objects.filter(first_seen__lt=clock.now() - window).delete()
    summary = IngestSummary()
    iterator = iter(events)
    while chunk := list(itertools.islice(iterator, batch)):
        _ingest_batch(chunk, actor, seconds, source, summary)
        if on_progress is not None:
            on_progress(summary)
    return summary


def may_ingest(user: User) -> bool:
    """Analysts, coordinators, administrators and feed service accounts (``feeds.submit_events``) of an organisation."""
    if not user.is_active or user.organisation is None:
        return False
    return user.is_csirt_staff or user.role == User.Role.ADMINISTRATOR or user.has_perm("feeds.submit_events")


def _lock_groups(keys: Iterable[tuple[int, str, int]]) -> None:
    """On PostgreSQL, hold a transaction lock per (organisation, classification, window), taken in order.

    Concurrent workers then never both open the incident of one group, nor read a group's row
    while the other changes it: the second waits for the first to commit. (An event delivered to
    both is counted once by the digests' primary key, ``_remember``.) SQLite has one writer at a
    time anyway.
    """
    if connection.vendor != "postgresql":
        return
    ids = sorted(
        {
            int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=8).digest(), "big", signed=True)
            for key in keys
        }
    )
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) AS ordered", [ids]
            )


def _event_time(event: dict[str, Any]) -> dt.datetime:
    moment = dt.datetime.fromisoformat(event.get("time.source") or event["time.observation"])
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _ingest_batch(
    chunk: list[dict[str, Any] | Rejected], actor: User, seconds: int, source: str, summary: IngestSummary
) -> None:
    now = clock.now()
    owners = constituency()
    letters: list[DeadLetter] = []
    fresh: dict[bytes, tuple[tuple[int, str, int], dict[str, Any], dt.datetime]] = {}
    before = summary.counts()
    for item in chunk:
        summary.read += 1
        if isinstance(item, Rejected):
            summary.rejected += 1
            letters.append(_dead_letter(item, now))
            continue
        owner = owners.attribute(item)
        if owner is None:
            summary.unattributed += 1
            continue
        summary.attributed += 1
        digest = intelmq.dedup_key(item)
        if digest in fresh:
            summary.duplicates += 1
            continue
        moment = _event_time(item)
        start = int(moment.timestamp()) // seconds * seconds
        fresh[digest] = ((owner, intelmq.rsit_classification(item), start), item, moment)
    with transaction.atomic(), incidents.batch_of_changes():  # the audit chain's head is locked at the end
        _lock_groups(key for key, _, _ in fresh.values())
        unseen = _remember(list(fresh), now)
        summary.duplicates += len(fresh) - len(unseen)
        new = [(digest, key, event, moment) for digest, (key, event, moment) in fresh.items() if digest in unseen]
        DeadLetter.objects.bulk_create(letters)
        touched = _absorb(new, actor, now, summary) if new else 0
        after = summary.counts()
        changes = {name: after[name] - before[name] for name in _BATCH_COUNTS}
        changes["incidents"] = touched
        record(actor, "feeds.ingested", None, changes, object_type="feed", object_id=source[:64])
        incidents.correlate_later()  # campaigns: absorbed events may bring indicators other organisations share


def _dead_letter(rejected: Rejected, now: dt.datetime) -> DeadLetter:
    raw = rejected.raw if isinstance(rejected, Malformed) else ""
    return DeadLetter(
        source=rejected.file[:255],
        position=rejected.record[:40],
        field=rejected.field[:80],
        reason=rejected.reason[:500],
        raw=raw[:RAW_MAX],
        received_at=now,
    )


def _remember(digests: list[bytes], now: dt.datetime) -> set[bytes]:
    """Record the digests as seen; those not seen before (a concurrent worker's uncommitted ones
    wait for its commit, so an event delivered to two workers counts once)."""
    stamp = SeenEvent._meta.get_field("first_seen").get_db_prep_value(now, connection)
    return set(insert_rows(SeenEvent, ("digest", "first_seen"), [(digest, stamp) for digest in digests], "digest"))


def _absorb(
    new: list[tuple[bytes, tuple[int, str, int], dict[str, Any], dt.datetime]],
    actor: User,
    now: dt.datetime,
    summary: IngestSummary,
) -> int:
    """Give the new events to their feed incidents, opening incidents where needed; returns how many.

    The groups whose incident is open are written first and the openings last: opening takes
    the year's reference counter, which stays locked until the batch commits.
    """
    held, open_since = _held({key for _, key, _, _ in new})
    groups: dict[tuple[int, str, int], _Group] = {}
    for digest, key, event, moment in new:
        group = groups.get(key)
        if group is None:
            row = held.get(key)
            room = MAX_OBSERVABLES - row.observables if row and row.incident_id in open_since else MAX_OBSERVABLES
            group = groups[key] = _Group(room=room)
        group.add(digest, event, moment)
    absorbing = {key: group for key, group in groups.items() if key in held and held[key].incident_id in open_since}
    for key, group in absorbing.items():
        row = held[key]
        assert group.first is not None
        _move_occurred_at(row.incident_id, open_since[row.incident_id], group.first, actor)
        summary.updated.add(row.incident_id)
    _write_groups(held, absorbing, now, created=[])

    openings = {key: group for key, group in sorted(groups.items()) if key not in absorbing}
    organisations = Organisation.objects.in_bulk({organisation for organisation, _, _ in openings})
    opened = incidents.report_incidents(
        actor=actor, reports=[_feed_report(key, group, organisations[key[0]]) for key, group in openings.items()]
    )
    created: list[FeedIncident] = []
    for (key, group), incident in zip(openings.items(), opened, strict=True):
        summary.opened.add(incident.pk)
        row = held.get(key)
        if row is None:
            row = held[key] = FeedIncident(
                organisation_id=key[0], classification=key[1], window_start=dt.datetime.fromtimestamp(key[2], dt.UTC)
            )
            created.append(row)
        assert group.first is not None and group.last is not None
        row.incident, row.events, row.observables, row.feeds = incident, 0, 0, {}
        row.first_event_at, row.last_event_at = group.first, group.last
    _write_groups(held, openings, now, created)
    return len(groups)


def _write_groups(
    held: dict[tuple[int, str, int], FeedIncident],
    groups: dict[tuple[int, str, int], _Group],
    now: dt.datetime,
    created: list[FeedIncident],
) -> None:
    """Add the groups' events to their feed incident rows (``created``: those still to insert) and
    their observables to the incidents (those an incident holds already skipped, and not counted)."""
    rows = [held[key] for key in groups]
    observables = [
        (held[key].incident_id, kind, value, comment)
        for key, group in groups.items()
        for (kind, value), comment in group.observables.items()
    ]
    added = Counter(insert_rows(Observable, ("incident", "type", "value", "comment"), observables, "incident"))
    for row, group in zip(rows, groups.values(), strict=True):
        assert group.first is not None and group.last is not None
        row.events += len(group.digests)
        row.observables += added[row.incident_id]
        row.feeds = dict(Counter(row.feeds) + group.feeds)
        row.first_event_at, row.last_event_at = min(row.first_event_at, group.first), max(row.last_event_at, group.last)
        row.updated_at = now
    create_objects(created)
    new = set(map(id, created))
    update_rows([row for row in rows if id(row) not in new], _ROW_FIELDS)


def _held(
    keys: set[tuple[int, str, int]],
) -> tuple[dict[tuple[int, str, int], FeedIncident], dict[int, dt.datetime | None]]:
    """The feed incident rows of the groups (by key), and when each of their incidents still open occurred.

    No row lock: the groups' transaction locks (``_lock_groups``) keep other workers away.
    """
    found = select_matching(
        FeedIncident,
        ["organisation", "classification", "window_start"],
        [
            (organisation, classification, dt.datetime.fromtimestamp(start, dt.UTC))
            for organisation, classification, start in keys
        ],
        _HELD_FIELDS,
    )
    rows = [FeedIncident.from_db(connection.alias, _HELD_FIELDS, values) for values in found]  # as a query would
    states = select_matching(Incident, ["id"], [(row.incident_id,) for row in rows], ["id", "status", "occurred_at"])
    open_since = {pk: occurred_at for pk, status, occurred_at in states if status in OPEN_STATUSES}
    held = {(row.organisation_id, row.classification, int(row.window_start.timestamp())): row for row in rows}
    return held, open_since


def _feed_report(key: tuple[int, str, int], group: _Group, organisation: Organisation) -> incidents.NewReport:
    """The report that opens the incident of a group's (organisation, classification, window)."""
    _, classification, start = key
    assert group.first is not None
    day = dt.datetime.fromtimestamp(start, dt.UTC)
    facts: dict[str, Any] = {
        "classification": classification,
        "occurred_at": group.first.isoformat(),
        "organisations_affected": 1,
    }
    if intelmq.is_malicious(classification):
        facts.update(malicious=True, root_cause="malicious-actions")
    activity = intelmq.observed_activity(classification)
    if activity:
        facts["observed_activity"] = activity
    type_name = classification.split(":", 1)[1]
    return incidents.NewReport(
        title=f"Feed events: {type_name} at {organisation.name} from {day:%Y-%m-%d %H:%M} UTC"[:200],
        facts=facts,
        description=(
            f"Opened by feed ingestion: events of RSIT type {classification} attributed to {organisation.name} "
            f"in the window starting {day.isoformat()}. Later events of that window are absorbed while "
            "the incident is open; their counts are on its feed record."
        ),
        affected_organisations=[organisation],
        tlp=group.tlp or TLP.AMBER,
        entity_from_profile=True,
    )


def _move_occurred_at(incident: int, occurred_at: dt.datetime | None, first: dt.datetime, actor: User) -> None:
    """Older events than any before move the incident's ``occurred_at`` back (and assess it again)."""
    if occurred_at is None or first < occurred_at:
        incidents.update_facts(
            incident=Incident.objects.get(pk=incident),
            actor=actor,
            changes={"occurred_at": first.isoformat()},
            note="older feed events",
        )
