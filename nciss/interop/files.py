"""Finding import inputs: the files named and the files in the folders named."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path


def input_files(paths: Sequence[str | os.PathLike[str]], suffixes: Sequence[str]) -> Iterator[Path]:
    """The files named, and those under the folders named whose names end with one of ``suffixes``,
    in a stable order. A missing path raises FileNotFoundError (a bad invocation, not a bad record)."""
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(tuple(suffixes)))
        elif path.exists():
            yield path
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
