"""One entry point per direction for every format: read files into records, write records out."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar, cast

import orjson

from nciss.interop.files import input_files
from nciss.interop.records import IncidentRecord, Rejected

IMPORT_FORMATS = ("veris", "stix", "misp", "intelmq", "csv")
EXPORT_FORMATS = ("stix", "misp", "veris", "csv")
SUFFIXES = {
    "veris": (".json", ".jsonl", ".jsonl.gz"),
    "stix": (".json",),
    "misp": (".json",),
    "intelmq": (".jsonl", ".json", ".jsonl.gz"),
    "csv": (".csv",),
}
EXTENSIONS = {"stix": "json", "misp": "json", "veris": "json", "csv": "csv"}
MEDIA_TYPES = {
    "stix": "application/stix+json;version=2.1",
    "misp": "application/json",
    "veris": "application/json",
    "csv": "text/csv",
}

Item = IncidentRecord | Rejected
Reader = Callable[[IO[bytes], str], Iterator[Item]]
T = TypeVar("T")


def reader(fmt: str, mapping: Mapping[str, Any] | None = None) -> Reader:
    """The reader of ``fmt``; CSV needs its column ``mapping`` (see nciss.interop.tabular)."""
    if fmt == "veris":
        from nciss.interop import veris

        return veris.read
    if fmt == "stix":
        from nciss.interop import stix

        return stix.read
    if fmt == "misp":
        from nciss.interop import misp

        return misp.read
    if fmt == "csv":
        from nciss.interop import tabular

        if mapping is None:
            raise ValueError("CSV needs a column mapping file (--mapping)")
        loaded = tabular.load_mapping(mapping)
        return lambda stream, name: tabular.read(stream, name, loaded)
    raise ValueError(f"unknown import format {fmt!r}: one of {', '.join(IMPORT_FORMATS)}")


def read_files(
    fmt: str,
    paths: Sequence[str | Path],
    mapping: Mapping[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[str, Item]]:
    """Every record (or rejection) of every input file, with the file's name, streaming.

    ``progress`` is called with the number of bytes (as stored on disk) read since its last
    call. IntelMQ events are aggregated into incidents over all the files given.
    """
    files = list(input_files(paths, SUFFIXES[fmt]))
    if fmt == "intelmq":
        yield from _intelmq(files, progress)
        return
    read = reader(fmt, mapping)
    for path in files:
        for item in read_file(path, read, progress):
            yield str(path), item


def total_bytes(fmt: str, paths: Sequence[str | Path]) -> int:
    """How many bytes ``read_files`` will go through (for a progress bar)."""
    return sum(p.stat().st_size for p in input_files(paths, SUFFIXES[fmt]))


_PROGRESS_EVERY = 256  # records between two progress reports: a report per record costs more than the record


def read_file(
    path: Path, read: Callable[[IO[bytes], str], Iterator[T]], progress: Callable[[int], None] | None = None
) -> Iterator[T]:
    """What ``read`` yields from the file (gunzipped on the fly), reporting the bytes read on disk to ``progress``."""
    with path.open("rb") as raw:
        stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw)) if path.name.endswith(".gz") else raw
        seen = 0
        for count, item in enumerate(read(stream, path.name), 1):
            if progress is not None and count % _PROGRESS_EVERY == 0:
                now = raw.tell()
                progress(now - seen)
                seen = now
            yield item
        if progress is not None:  # the rest of the file (some readers close it when done)
            progress(path.stat().st_size - seen)
        if progress is not None:
            progress(path.stat().st_size - seen)


def _intelmq(files: Sequence[Path], progress: Callable[[int], None] | None) -> Iterator[tuple[str, Item]]:
    """Events stream through deduplication into their groups; only the groups stay in memory."""
    from nciss.interop import intelmq

    rejected: list[tuple[str, Rejected]] = []

    def events() -> Iterator[dict[str, Any]]:
        for path in files:
            for event in read_file(path, intelmq.read_events, progress):
                if isinstance(event, Rejected):
                    rejected.append((str(path), event))
                else:
                    yield event

    records = intelmq.aggregate(events())
    yield from rejected
    for record in records:
        yield ", ".join(p.name for p in files), record


def write(fmt: str, records: Iterable[IncidentRecord], out: IO[bytes], single: bool = False) -> int:
    """Write ``records`` to ``out`` in ``fmt``; returns how many were written.

    One STIX bundle for all; CSV with a header row. MISP and VERIS write a collection
    (``{"response": [...]}``, JSON Lines) unless ``single`` asks for the one record alone
    (an ``{"Event": ...}``, one VERIS object).
    """
    items = list(records)
    single = single and len(items) == 1
    if fmt == "stix":
        from nciss.interop import stix

        out.write(orjson.dumps(stix.to_bundle(items), option=orjson.OPT_INDENT_2))
    elif fmt == "misp":
        from nciss.interop import misp

        events = [misp.to_event(r) for r in items]
        body: Any = events[0] if single else {"response": events}
        out.write(orjson.dumps(body, option=orjson.OPT_INDENT_2))
    elif fmt == "veris":
        from nciss.interop import veris

        if single:
            out.write(orjson.dumps(veris.to_veris(items[0]), option=orjson.OPT_INDENT_2))
        else:
            for r in items:
                out.write(orjson.dumps(veris.to_veris(r)) + b"\n")
    elif fmt == "csv":
        from nciss.interop import tabular

        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        tabular.write(items, text)
        text.detach()
    else:
        raise ValueError(f"unknown export format {fmt!r}: one of {', '.join(EXPORT_FORMATS)}")
    return len(items)
