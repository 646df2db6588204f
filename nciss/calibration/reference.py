"""Reference cases: benchmark incidents with agreed levels that a draft must keep.

Each preset ships its own in ``nciss/data/reference-cases/<scale id>.yaml`` (the presets'
golden cases: facts, the agreed rank, optionally the score and reachable maximum, and a
one-line why). Owners keep their own set (the platform stores them); ``check_cases``
shows which a scale passes and fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from nciss.engine import assess
from nciss.facts import FactsError
from nciss.scales import Scale


@dataclass(frozen=True)
class ReferenceCase:
    """An incident whose level the owner has agreed: its facts and the expected rank."""

    why: str
    facts: dict[str, Any]
    rank: int
    score: float | None = None  # expected score, rounded to one decimal
    max: int | None = None  # expected reachable maximum

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ReferenceCase:
        return cls(raw["why"], dict(raw.get("facts") or {}), int(raw["rank"]), raw.get("score"), raw.get("max"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"why": self.why, "facts": self.facts, "rank": self.rank}
        if self.score is not None:
            out["score"] = self.score
        if self.max is not None:
            out["max"] = self.max
        return out


@dataclass(frozen=True)
class CaseResult:
    """A reference case assessed on a scale."""

    case: ReferenceCase
    rank: int | None  # None when the scale cannot assess the facts
    score: float | None
    reachable_max: int | None
    failures: tuple[str, ...] = field(default=())  # empty: passed

    @property
    def passed(self) -> bool:
        return not self.failures


def reference_case_scales() -> list[str]:
    """The scale ids that ship reference cases."""
    folder = resources.files("nciss.data").joinpath("reference-cases")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def reference_cases(scale_id: str) -> list[ReferenceCase]:
    """The shipped reference cases of preset ``scale_id`` (empty for a scale without any)."""
    if scale_id not in reference_case_scales():
        return []
    text = resources.files("nciss.data").joinpath(f"reference-cases/{scale_id}.yaml").read_text("utf-8")
    return [ReferenceCase.from_dict(c) for c in yaml.safe_load(text)["cases"]]


def check_case(scale: Scale, case: ReferenceCase) -> CaseResult:
    """``case`` assessed on ``scale``: the rank, and the score and maximum when the case pins them."""
    try:
        a = assess(scale, case.facts)
    except FactsError as e:
        return CaseResult(case, None, None, None, (f"cannot be assessed on {scale.id}: {e}",))
    failures = []
    if a.rank != case.rank:
        failures.append(
            f"level {scale.levels[a.rank].name.get_for('en')} ({a.rank}), agreed {case.rank}"
            if case.rank <= scale.top
            else f"level {a.rank}, agreed {case.rank} (the scale has levels 0-{scale.top})"
        )
    if case.score is not None and (a.score is None or round(a.score, 1) != case.score):
        failures.append(f"score {'none' if a.score is None else f'{a.score:.1f}'}, agreed {case.score}")
    if case.max is not None and a.reachable_max != case.max:
        failures.append(f"could reach {a.reachable_max}, agreed {case.max}")
    return CaseResult(case, a.rank, a.score, a.reachable_max, tuple(failures))


def check_cases(scale: Scale, cases: Sequence[ReferenceCase]) -> list[CaseResult]:
    """Every case assessed on ``scale``, in order."""
    return [check_case(scale, c) for c in cases]
