"""A small history for the calibration command and report tests: three incidents with published CISA NCISS scores."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

import nciss
from nciss.calibration import parameters, vary
from nciss.tests.shared import EXAMPLE_1, EXAMPLE_2, PHISHING
from nciss_platform.accounts.models import User
from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.incidents.tests.conftest import report


@dataclass
class History:
    medium: Incident  # 38.0: Medium on CISA NCISS, Low on the draft
    emergency: Incident  # 93.5: Emergency on both
    phishing: Incident  # 16.1: Baseline on both, reported a week later


def make_history(reporter: User, *, medium_tlp: str = TLP.AMBER) -> History:
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    return History(
        report(reporter, "Banking trojan on a teller workstation", at=start, facts=dict(EXAMPLE_1), tlp=medium_tlp),
        report(reporter, "Sabotage of the grid control system", at=start, facts=dict(EXAMPLE_2)),
        report(reporter, "Phishing attempt repelled", at=start + dt.timedelta(days=7), facts=dict(PHISHING)),
    )


def write_draft(folder: Path, medium_from: float = 40) -> Path:
    """CISA NCISS with Medium from ``medium_from`` instead of 35, as a scale file."""
    cisa = nciss.load_scale("cisa-nciss")
    medium = next(p for p in parameters(cisa) if p.kind == "threshold" and p.path[2] == 1)
    draft = vary(cisa, medium, medium_from)
    path = folder / "draft.yaml"
    path.write_text(yaml.safe_dump(draft.definition, allow_unicode=True), encoding="utf-8")
    return path
