"""Where the project's shared reference data is, for the tests that read it (they skip without it).

``NCISS_SHARED`` names the folder; otherwise ``shared/`` beside the repository, else the
workplace's ``/work/shared`` (a clone elsewhere, as in CI, still finds it).
"""

from __future__ import annotations

import os
from pathlib import Path

_CANDIDATES = [Path(__file__).resolve().parents[3] / "shared", Path("/work/shared")]


def shared(*parts: str) -> Path:
    """The path of ``parts`` under the shared folder (which may not exist)."""
    given = os.environ.get("NCISS_SHARED")
    folders = [Path(given)] if given else [c for c in _CANDIDATES if c.is_dir()] or _CANDIDATES[:1]
    return folders[0].joinpath(*parts)
