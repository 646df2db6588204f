"""Reading feed files: IntelMQ events as they stream, each rejected line kept with its text."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any, cast

from nciss.interop import intelmq
from nciss.interop.files import input_files
from nciss.interop.formats import SUFFIXES, read_file
from nciss.interop.records import Rejected
from nciss_platform.feeds.services import RAW_MAX, Malformed

FORMATS = ("intelmq",)


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


def feed_files(paths: Sequence[str | Path], fmt: str = "intelmq") -> list[Path]:
    """The files to read (folders are searched); raises OSError or ValueError for bad paths."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown feed format {fmt!r}: one of {', '.join(FORMATS)}")
    return list(input_files(paths, SUFFIXES[fmt]))


def read_feeds(
    files: Sequence[Path], progress: Callable[[int], None] | None = None
) -> Iterator[dict[str, Any] | Rejected]:
    """Every event (or rejection, as ``Malformed`` with its line) of the files, streaming.

    ``progress`` is called with the bytes (as stored on disk) read since its last call.
    """
    for path in files:
        yield from read_file(path, _read_with_lines, progress)
