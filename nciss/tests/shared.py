"""Where the project's shared reference data is, for the tests that read it (they skip without it).

``NCISS_SHARED`` names the folder; otherwise ``shared/`` beside the repository, else the
workplace's ``/work/shared`` (a clone elsewhere, as in CI, still finds it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nciss.calibration import reference_cases

_CANDIDATES = [Path(__file__).resolve().parents[3] / "shared", Path("/work/shared")]


def shared(*parts: str) -> Path:
    """The path of ``parts`` under the shared folder (which may not exist)."""
    given = os.environ.get("NCISS_SHARED")
    folders = [Path(given)] if given else [c for c in _CANDIDATES if c.is_dir()] or _CANDIDATES[:1]
    return folders[0].joinpath(*parts)


def cisa_case_facts(score: float, classification: str | None = None) -> dict[str, Any]:
    """A copy of the facts of the first CISA NCISS reference case scoring ``score``.

    38.0: example 1 (Medium), 93.5: example 2 (Emergency), 16.1: a repelled phishing (Baseline);
    ``classification``, when given, is added (the platform's incidents carry one).
    """
    facts = dict(next(case.facts for case in reference_cases("cisa-nciss") if case.score == score))
    return facts if classification is None else {**facts, "classification": classification}


# The three CISA NCISS incidents with published scores that the calibration tests use as a history.
EXAMPLE_1 = cisa_case_facts(38.0, "malicious-code:infected-system")
EXAMPLE_2 = cisa_case_facts(93.5, "availability:sabotage")
PHISHING = cisa_case_facts(16.1, "fraud:phishing")
