"""Reading feeds: IntelMQ events from files, CSV rows through a column mapping, stream messages.

Whatever the input, the result is what ``intelmq.read_events`` yields (events and ``Rejected``),
each rejection kept as ``Malformed`` with its text where there is one, so that every intake
takes the same path through ``feeds.services.ingest_events``.
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import IO, Any, cast

import orjson

from nciss.interop import intelmq, tabular
from nciss.interop.files import input_files
from nciss.interop.formats import SUFFIXES, read_file
from nciss.interop.records import IncidentRecord, Rejected
from nciss_platform.feeds.services import RAW_MAX, Malformed

FORMATS = ("intelmq", "csv")
# Observable types of a CSV mapping -> the IntelMQ field of the event (the first item of each is kept).
_EVENT_FIELDS = {
    "ipv4-addr": "source.ip",
    "ipv6-addr": "source.ip",
    "domain-name": "source.fqdn",
    "url": "source.url",
    "autonomous-system": "source.asn",
    "file:hashes.MD5": "malware.hash.md5",
    "file:hashes.SHA-1": "malware.hash.sha1",
    "file:hashes.SHA-256": "malware.hash.sha256",
}


class _Tap:
    """A binary stream that remembers the line last read from it (nothing after a whole read)."""

    def __init__(self, stream: IO[bytes]):
        self._stream = stream
        self.last = b""

    def readline(self) -> bytes:
        self.last = self._stream.readline()
        return self.last

    def read(self) -> bytes:
        self.last = b""
        return self._stream.read()

    def __iter__(self) -> _Tap:
        return self

    def __next__(self) -> bytes:
        self.last = next(self._stream)
        return self.last


def _read_with_lines(stream: IO[bytes], name: str) -> Iterator[dict[str, Any] | Rejected]:
    tap = _Tap(stream)
    for item in intelmq.read_events(cast(IO[bytes], tap), name):
        if isinstance(item, Rejected):
            raw = tap.last[:RAW_MAX].decode("utf-8", "replace").rstrip("\r\n")
            yield Malformed(**asdict(item), raw=raw)
        else:
            yield item


def read_message(data: bytes, source: str, where: str) -> Iterator[dict[str, Any] | Rejected]:
    """The event (or the JSON array of events) of one message, rejections placed at ``where``."""
    found = False
    for item in intelmq.read_events(io.BytesIO(data), source):
        found = True
        if isinstance(item, Rejected):
            record = where if item.record.startswith("line") else f"{where} {item.record}".strip()
            yield Malformed(**{**asdict(item), "record": record}, raw=data[:RAW_MAX].decode("utf-8", "replace"))
        else:
            yield item
    if not found:
        yield Malformed(source, where, "", "empty: no event", raw="")


def raw_events(stream: IO[bytes], name: str) -> Iterator[bytes]:
    """Each event of an IntelMQ file as one JSON text, unchecked (what a publisher sends on)."""
    first = stream.readline()
    if first.lstrip().startswith(b"["):
        try:
            events = orjson.loads(first + stream.read())
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"{name}: not JSON: {exc}") from None
        for event in events if isinstance(events, list) else [events]:
            yield orjson.dumps(event)
        return
    for line in itertools.chain((first,), stream):
        if line.strip():
            yield line.strip()


def load_feed_mapping(path: str | os.PathLike[str]) -> tabular.CsvMapping:
    """A CSV column mapping that can make events: it must give the classification, the time and an observable."""
    mapping = tabular.load_mapping(path)
    errors = []
    if "classification" not in mapping.facts:
        errors.append(("facts.classification", "required for feed events: the column of the type"))
    if "occurred_at" not in mapping.facts:
        errors.append(("facts.occurred_at", "required for feed events: the column of the time"))
    if not any(kind in _EVENT_FIELDS or kind == tabular.TYPED for kind in mapping.observables.values()):
        errors.append(("observables", "required for feed events: a column of addresses, names, URLs or AS numbers"))
    if errors:
        raise tabular.MappingError(errors)
    return mapping


def csv_events(mapping: tabular.CsvMapping, stream: IO[bytes], name: str) -> Iterator[dict[str, Any] | Rejected]:
    """Each row as an IntelMQ event (then checked as any event), or its rejection at ``row N``.

    A row the mapping reads but that makes no event (an empty time, type or address cell) is
    placed by counting rows after the last one placed, blank rows not counted.
    """
    row = 1
    for item in tabular.read(stream, name, mapping):
        if isinstance(item, Rejected):
            row = int(item.record.split()[-1]) if item.record.startswith("row ") else row
            yield item
            continue
        row += 1
        for checked in intelmq.read_events(io.BytesIO(orjson.dumps(_event_of(item))), name):
            yield replace(checked, record=f"row {row}") if isinstance(checked, Rejected) else checked


def _event_of(record: IncidentRecord) -> dict[str, Any]:
    """The IntelMQ event a mapped CSV row says: its type, time, first observable of each kind, feed and TLP."""
    classification = str(record.facts.get("classification") or "")
    taxonomy, _, type_name = classification.partition(":")
    event: dict[str, Any] = {"feed.name": record.source}
    if type_name:
        event.update({"classification.taxonomy": taxonomy, "classification.type": type_name})
    if record.facts.get("occurred_at"):
        event["time.source"] = record.facts["occurred_at"]
    for observable in record.observables:
        key = _EVENT_FIELDS.get(observable.type)
        if key and key not in event:
            if key != "source.asn":
                event[key] = observable.value
            elif observable.value.upper().removeprefix("AS").isdigit():
                event[key] = int(observable.value.upper().removeprefix("AS"))
    if record.tlp:
        event["tlp"] = record.tlp
    if record.title:
        event["event_description.text"] = record.title
    return event


def feed_files(paths: Sequence[str | Path], fmt: str = "intelmq") -> list[Path]:
    """The files to read (folders are searched); raises OSError or ValueError for bad paths."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown feed format {fmt!r}: one of {', '.join(FORMATS)}")
    return list(input_files(paths, SUFFIXES[fmt]))


def read_feeds(
    files: Sequence[Path], progress: Callable[[int], None] | None = None, mapping: tabular.CsvMapping | None = None
) -> Iterator[dict[str, Any] | Rejected]:
    """Every event (or rejection, as ``Malformed`` with its line) of the files, streaming.

    With a ``mapping`` the files are CSV, each row an event. ``progress`` is called with the
    bytes (as stored on disk) read since its last call.
    """
    read = _read_with_lines if mapping is None else partial(csv_events, mapping)
    for path in files:
        yield from read_file(path, read, progress)


def read_body(body: bytes, source: str) -> Iterator[dict[str, Any] | Rejected]:
    """The events of a request body (JSON Lines or a JSON array), each rejected line kept."""
    return _read_with_lines(io.BytesIO(body), source)
