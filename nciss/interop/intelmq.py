"""IntelMQ events: reading them, their RSIT classification, deduplication, and incidents made of them.

IntelMQ events are flat JSON objects with dotted keys (``classification.type``, ``source.ip``,
``time.source`` ...), one per line. Feeds bring many events per incident, so ``nciss import
--format intelmq`` aggregates them: deduplicated events of one RSIT type, one feed and one time
window become one incident record. ``read_events``, ``rsit_classification`` and ``dedup_key``
are on the ingest path and kept cheap. No IntelMQ code is used or copied.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import IO, Any

import orjson

from nciss.interop.records import TLP_LABELS, IncidentRecord, Observable, Rejected, read_label
from nciss.taxonomy import rsit_types

# The fields IntelMQ's deduplicator ignores by default: the rest identify an event.
DEDUP_IGNORED = frozenset({"time.observation", "raw"})

# What an event is about; an event needs at least one of them.
_OBSERVABLE_FIELDS = (
    ("source.ip", "ip"),
    ("source.network", "ip"),
    ("source.fqdn", "domain-name"),
    ("source.url", "url"),
    ("source.asn", "autonomous-system"),
    ("destination.ip", "ip"),
    ("destination.network", "ip"),
    ("destination.fqdn", "domain-name"),
    ("destination.url", "url"),
    ("destination.asn", "autonomous-system"),
    ("malware.hash.md5", "file:hashes.MD5"),
    ("malware.hash.sha1", "file:hashes.SHA-1"),
    ("malware.hash.sha256", "file:hashes.SHA-256"),
)
IDENTITY_FIELDS = tuple(name for name, _ in _OBSERVABLE_FIELDS)

_FIELD_TYPES: dict[str, type] = {
    "classification.taxonomy": str,
    "classification.type": str,
    "classification.identifier": str,
    "feed.name": str,
    "feed.provider": str,
    "tlp": str,
    "time.source": str,
    "time.observation": str,
    **{name: str for name in IDENTITY_FIELDS if not name.endswith(".asn")},
    "source.asn": int,
    "destination.asn": int,
    "source.port": int,
    "destination.port": int,
}
_TYPE_NAMES = {str: "a string", int: "a whole number"}

# Facts an incident of each RSIT class or type implies: whether it is malicious, and the
# ODNI Cyber Threat Framework stage of what the events show. Absent: not known from the type.
_ACTIVITY_BY_CLASS = {
    "abusive-content": "effect",
    "malicious-code": "presence",
    "information-gathering": "prepare",
    "intrusion-attempts": "engage",
    "intrusions": "presence",
    "availability": "effect",
    "information-content-security": "effect",
    "fraud": "effect",
    "vulnerable": "none",
}
_ACTIVITY_BY_TYPE = {
    "abusive-content:spam": "engage",
    "malicious-code:c2-server": "prepare",
    "malicious-code:malware-configuration": "prepare",
    "malicious-code:malware-distribution": "engage",
    "fraud:phishing": "engage",
    "fraud:masquerade": "engage",
}
_NOT_MALICIOUS = frozenset({"vulnerable", "other", "test", "availability:misconfiguration", "availability:outage"})

MAX_OBSERVABLES = 1000  # per aggregated incident; the description says when more were seen
_SAMPLE_EVENTS = 10  # events kept in an aggregated record's ``original``


def read_events(stream: IO[bytes], name: str) -> Iterator[dict[str, Any] | Rejected]:
    """The events of a JSON Lines file (or of a file holding one JSON array of events).

    Each event is checked: it needs ``classification.type`` or ``classification.taxonomy``,
    ``time.source`` or ``time.observation`` (ISO 8601), and one field saying what it is about
    (``source.ip``, ``source.fqdn``, ``source.url`` ...; see ``IDENTITY_FIELDS``). Nested
    events (IntelMQ's hierarchical output) are flattened to dotted keys.
    """
    first = stream.readline()
    if first.lstrip().startswith(b"["):
        try:
            events = orjson.loads(first + stream.read())
        except orjson.JSONDecodeError as exc:
            yield Rejected(name, "", "", f"not JSON: {exc}")
            return
        for number, event in enumerate(events, 1):
            yield _checked(event, name, f"event {number}")
        return
    for number, line in enumerate(itertools.chain((first,), stream), 1):
        if not line.strip():
            continue
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield Rejected(name, f"line {number}", "", f"not JSON: {exc}")
            continue
        yield _checked(event, name, f"line {number}")


def _checked(event: Any, name: str, where: str) -> dict[str, Any] | Rejected:
    if not isinstance(event, dict):
        return Rejected(name, where, "", "expected a JSON object (an IntelMQ event)")
    for value in event.values():
        if isinstance(value, dict):
            event = _flatten(event)
            break
    for key, expected in _FIELD_TYPES.items():
        value = event.get(key)
        if value is not None and type(value) is not expected:
            return Rejected(name, where, key, f"expected {_TYPE_NAMES[expected]}")
        if value == "":
            return Rejected(name, where, key, "empty")
    if event.get("classification.type") is None and event.get("classification.taxonomy") is None:
        return Rejected(name, where, "classification.type", "missing (and no classification.taxonomy)")
    time_field = "time.source" if event.get("time.source") is not None else "time.observation"
    if event.get(time_field) is None:
        return Rejected(name, where, "time.source", "missing (and no time.observation)")
    if _parse_time(event[time_field]) is None:
        return Rejected(name, where, time_field, "not an ISO 8601 date-time")
    if not any(event.get(key) is not None for key in IDENTITY_FIELDS):
        return Rejected(name, where, "source.ip", f"missing: the event needs one of {', '.join(IDENTITY_FIELDS)}")
    return event


def _flatten(event: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in event.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _parse_time(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@cache
def _names() -> dict[str, str]:
    """Lower-case classification name -> RSIT ``class:type``: RSIT's own names, then nciss's table."""
    names = {rsit.split(":", 1)[1]: rsit for rsit in rsit_types()}
    table = resources.files("nciss.interop.data").joinpath("intelmq-classification.json").read_text("utf-8")
    names.update(json.loads(table)["types"])
    return names


def rsit_type_of(name: str) -> str | None:
    """The RSIT ``class:type`` for an IntelMQ or eCSIRT.net type name (older spellings too), or None."""
    return _names().get(name.strip().lower())


@lru_cache(maxsize=1024)
def _classify(type_name: str | None) -> str:
    return (rsit_type_of(type_name) if type_name else None) or "other:undetermined"


def rsit_classification(event: dict[str, Any]) -> str:
    """The event's RSIT ``class:type``. ``classification.type`` decides (IntelMQ types belong to one
    taxonomy each); IntelMQ's types outside RSIT read as the nearest RSIT type (the contract's table,
    in data/intelmq-classification.json); an event with only a taxonomy, or a type nobody knows,
    reads as ``other:undetermined``. The event itself keeps the original names."""
    return _classify(event.get("classification.type"))


def dedup_key(event: dict[str, Any]) -> bytes:
    """IntelMQ's deduplicator default: every field but ``time.observation`` and ``raw``, as a
    16-byte digest that is the same in every process and run."""
    kept = event.copy()  # in C, faster than a comprehension over every field
    for key in DEDUP_IGNORED:
        kept.pop(key, None)
    return hashlib.blake2b(orjson.dumps(kept, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()


def observables(event: dict[str, Any]) -> list[Observable]:
    """The addresses, names, URLs, AS numbers and hashes of the event; each comment names the
    field and, when the event has one, its identifier (e.g. the malware family)."""
    identifier = event.get("classification.identifier") or event.get("malware.name")
    found = []
    for key, kind in _OBSERVABLE_FIELDS:
        value = event.get(key)
        if value is None or value == "":
            continue
        text = str(value)
        if kind == "ip":
            kind = "ipv6-addr" if ":" in text else "ipv4-addr"
        found.append(Observable(kind, text, f"{key} ({identifier})" if identifier else key))
    return found


def observed_activity(classification: str) -> str | None:
    """The Cyber Threat Framework stage events of an RSIT type show, or None when the type says nothing."""
    return _ACTIVITY_BY_TYPE.get(classification) or _ACTIVITY_BY_CLASS.get(classification.split(":", 1)[0])


def is_malicious(classification: str) -> bool | None:
    """True when events of this RSIT type are malicious acts; None for vulnerabilities, failures and other."""
    if classification in _NOT_MALICIOUS or classification.split(":", 1)[0] in _NOT_MALICIOUS:
        return None
    return True


@dataclass
class _Group:
    """What an aggregated incident keeps of its events while they stream past."""

    events: int = 0
    duplicates: int = 0
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    types: Counter[str] = field(default_factory=Counter)
    identifiers: Counter[str] = field(default_factory=Counter)
    observables: dict[tuple[str, str], Observable] = field(default_factory=dict)
    more_observables: bool = False
    fields: set[str] = field(default_factory=set)
    tlp: str | None = None
    provider: str | None = None
    sample: list[dict[str, Any]] = field(default_factory=list)

    def add(self, event: dict[str, Any], moment: dt.datetime) -> None:
        self.events += 1
        self.first = moment if self.first is None or moment < self.first else self.first
        self.last = moment if self.last is None or moment > self.last else self.last
        self.types[f"{event.get('classification.taxonomy', '-')}/{event.get('classification.type', '-')}"] += 1
        identifier = event.get("classification.identifier") or event.get("malware.name")
        if identifier:
            self.identifiers[str(identifier)] += 1
        for observable in observables(event):
            key = (observable.type, observable.value)
            if key in self.observables:
                continue
            if len(self.observables) < MAX_OBSERVABLES:
                self.observables[key] = observable
            else:
                self.more_observables = True
        self.fields.update(event)
        tlp = read_label(event["tlp"], TLP_LABELS) if "tlp" in event else None
        self.tlp = max(filter(None, (self.tlp, tlp)), key=TLP_LABELS.index, default=None)
        self.provider = self.provider or event.get("feed.provider")
        if len(self.sample) < _SAMPLE_EVENTS:
            self.sample.append(event)


def aggregate(events: Iterable[dict[str, Any]], window: dt.timedelta = dt.timedelta(days=1)) -> list[IncidentRecord]:
    """Incident records from IntelMQ events: duplicates dropped (``dedup_key``), the rest grouped by
    RSIT classification, ``feed.name`` and the UTC-aligned ``window`` holding their ``time.source``
    (else ``time.observation``). The events are those ``read_events`` yields."""
    seconds = int(window.total_seconds())
    if seconds <= 0:
        raise ValueError("the aggregation window must be positive")
    groups: dict[tuple[str, str, int], _Group] = {}
    seen: set[bytes] = set()
    for event in events:
        moment = _parse_time(event.get("time.source") or event["time.observation"])
        assert moment is not None  # read_events checked it
        start = int(moment.timestamp()) // seconds * seconds
        key = (rsit_classification(event), str(event.get("feed.name") or ""), start)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group()
        digest = dedup_key(event)
        if digest in seen:
            group.duplicates += 1
            continue
        seen.add(digest)
        group.add(event, moment)
    return [_record(key, group, seconds) for key, group in sorted(groups.items())]


def _window_text(start: dt.datetime, seconds: int) -> str:
    day = 86400
    if seconds == day:
        return f"on {start:%Y-%m-%d}"
    end = start + dt.timedelta(seconds=seconds)
    if seconds % day == 0:
        return f"from {start:%Y-%m-%d} to {end - dt.timedelta(days=1):%Y-%m-%d}"
    return f"on {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"


def _record(key: tuple[str, str, int], group: _Group, seconds: int) -> IncidentRecord:
    classification, feed, start_seconds = key
    start = dt.datetime.fromtimestamp(start_seconds, dt.UTC)
    type_name = classification.split(":", 1)[1]
    noun = "event" if group.events == 1 else "events"
    feed_text = f"feed {feed}" if feed else "an unnamed feed"
    title = f"{group.events} {type_name} {noun} from {feed_text} {_window_text(start, seconds)}"
    assert group.first is not None and group.last is not None
    facts: dict[str, Any] = {"classification": classification, "occurred_at": group.first.isoformat()}
    if is_malicious(classification):
        facts.update(malicious=True, root_cause="malicious-actions")
    activity = observed_activity(classification)
    if activity:
        facts["observed_activity"] = activity
    types = ", ".join(f"{name} ({count})" for name, count in group.types.most_common())
    lines = [
        f"{group.events} {noun} from {feed_text} ({group.duplicates} duplicates dropped), "
        f"between {group.first.isoformat()} and {group.last.isoformat()}.",
        f"IntelMQ classification (taxonomy/type): {types}; read as RSIT {classification}.",
    ]
    if group.identifiers:
        lines.append("Identifiers: " + ", ".join(f"{n} ({c})" for n, c in group.identifiers.most_common(10)) + ".")
    if group.more_observables:
        lines.append(f"More than {MAX_OBSERVABLES} distinct observables; the first {MAX_OBSERVABLES} are kept.")
    else:
        lines.append(f"{len(group.observables)} distinct observables.")
    used = {"classification.taxonomy", "classification.type", "classification.identifier", "malware.name"}
    used |= {"feed.name", "feed.provider", "time.source", "tlp", *IDENTITY_FIELDS}
    return IncidentRecord(
        title=title,
        facts=facts,
        description="\n".join(lines),
        source="intelmq",
        source_id=f"{feed}/{classification}/{start.isoformat()}",
        tlp=group.tlp,
        reporter=group.provider,
        observables=tuple(group.observables.values()),
        original={
            "classification": classification,
            "feed.name": feed,
            "window_start": start.isoformat(),
            "window_seconds": seconds,
            "events": group.events,
            "duplicates": group.duplicates,
            "sample": group.sample,
        },
        mapped=tuple(sorted(group.fields & used)),
        unmapped=tuple(sorted(group.fields - used)),
    )
