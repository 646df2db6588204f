"""What-if on history: the same incidents assessed on a draft and on the current scale.

``what_if(draft, current, history)`` re-assesses every incident on both with the batch
engine and gives the old x new level matrix, the incidents that move, the level
distribution against a target and the effect per sector and classification. Every count
leads to its incidents through ``WhatIf.select`` (indices into the history).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from nciss.batch import assess_batch
from nciss.calibration.history import History
from nciss.calibration.stats import agreement_matrix
from nciss.engine import Assessment, assess
from nciss.scales import Scale

Progress = Callable[[str], None]


def levels_on(scale: Scale, history: History) -> np.ndarray:
    """Every incident's level on ``scale`` (int8, one per incident), by the batch engine."""
    columns, n = history.record_columns(scale)  # each distinct record once
    return history.spread(assess_batch(scale, columns, n).level)


def default_target(levels: int) -> list[float]:
    """The default target distribution: most incidents low, each level half as common as the one below."""
    weights = [0.5**rank for rank in range(levels)]
    total = sum(weights)
    return [w / total for w in weights]


@dataclass(frozen=True)
class GroupEffect:
    """The effect of the draft on one sector or classification."""

    key: str  # the sector or classification class ("" when not given)
    total: int
    up: int  # incidents a level higher on the draft
    down: int
    mean_shift: float  # mean of (new rank - old rank)


@dataclass(frozen=True)
class Mover:
    """An incident whose level changes, and why."""

    index: int
    reference: str
    before: int
    after: int
    why: tuple[str, ...]  # what differs between the two assessments, most telling first
    before_explanation: str
    after_explanation: str


@dataclass
class WhatIf:
    """The history on ``current`` (before) and on ``draft`` (after); indices into ``history``."""

    draft: Scale
    current: Scale
    history: History
    before: np.ndarray  # level on current, per incident
    after: np.ndarray  # level on draft, per incident
    target: list[float]  # the wanted share of incidents per draft level

    @cached_property
    def matrix(self) -> np.ndarray:
        """Counts of (old level, new level): rows are current levels, columns draft levels."""
        return agreement_matrix(self.before, self.after, self.current.top + 1, self.draft.top + 1)

    @cached_property
    def moved(self) -> np.ndarray:
        """Indices of the incidents whose rank differs (for scales with different level counts: any rank change)."""
        return np.flatnonzero(self.before != self.after)

    @property
    def up(self) -> int:
        return int((self.after > self.before).sum())

    @property
    def down(self) -> int:
        return int((self.after < self.before).sum())

    @cached_property
    def distribution(self) -> list[int]:
        """Incidents per draft level."""
        return np.bincount(self.after, minlength=self.draft.top + 1).tolist()

    @cached_property
    def current_distribution(self) -> list[int]:
        """Incidents per current level."""
        return np.bincount(self.before, minlength=self.current.top + 1).tolist()

    @property
    def target_counts(self) -> list[float]:
        return [share * len(self.history) for share in self.target]

    @property
    def distance_to_target(self) -> float:
        """Total variation distance between the draft's shares and the target: 0 = on target, 1 = disjoint."""
        n = max(len(self.history), 1)
        return 0.5 * sum(abs(c / n - t) for c, t in zip(self.distribution, self.target, strict=True))

    def by_sector(self) -> list[GroupEffect]:
        return self._groups("sector")

    def by_classification(self) -> list[GroupEffect]:
        """Per RSIT class (the part of the classification before the colon)."""
        return self._groups("class")

    def _groups(self, what: str) -> list[GroupEffect]:
        keys, codes = self.history.codes(what)
        shift = self.after.astype(np.int64) - self.before
        k = len(keys)
        total = np.bincount(codes, minlength=k)
        up = np.bincount(codes, weights=shift > 0, minlength=k)
        down = np.bincount(codes, weights=shift < 0, minlength=k)
        moved = np.bincount(codes, weights=shift, minlength=k)
        out = [
            GroupEffect(key, int(total[i]), int(up[i]), int(down[i]), float(moved[i] / total[i]))
            for i, key in enumerate(keys)
            if total[i]
        ]
        return sorted(out, key=lambda g: (-(g.up + g.down), g.key))

    def select(
        self,
        *,
        before: int | None = None,
        after: int | None = None,
        sector: str | None = None,
        classification: str | None = None,
        direction: str | None = None,
    ) -> np.ndarray:
        """Indices of the incidents behind a number: a matrix cell, a level, a group, ``"up"``/``"down"``/``"moved"``."""
        keep = np.ones(len(self.history), dtype=bool)
        if before is not None:
            keep &= self.before == before
        if after is not None:
            keep &= self.after == after
        if sector is not None or classification is not None:
            keep &= self.history.matching(sector=sector, classification=classification)
        if direction is not None:
            keep &= {
                "up": self.after > self.before,
                "down": self.after < self.before,
                "moved": self.after != self.before,
            }[direction]
        return np.flatnonzero(keep)

    def references(self, indices: Sequence[int] | np.ndarray) -> list[str]:
        return [self.history.references[int(i)] for i in indices]

    def movers(self, limit: int = 50, lang: str = "en") -> list[Mover]:
        """The first ``limit`` incidents that move (largest moves first), each with why."""
        moved = self.moved
        shift = np.abs(self.after[moved].astype(np.int64) - self.before[moved])
        chosen = moved[np.argsort(-shift, kind="stable")[:limit]]
        return [self.explain(int(i), lang) for i in chosen]

    def explain(self, index: int, lang: str = "en") -> Mover:
        """Why incident ``index`` has its two levels: the assessments compared."""
        facts = self.history.record(index)
        old = assess(self.current, facts, lang)
        new = assess(self.draft, facts, lang)
        return Mover(
            index,
            self.history.references[index],
            old.rank,
            new.rank,
            tuple(why_levels_differ(old, new)),
            old.explanation,
            new.explanation,
        )

    def to_dict(self, movers: int = 50, lang: str = "en") -> dict[str, Any]:
        """The JSON shape (without indices): what reports and pages show."""

        def level(scale: Scale, rank: int) -> dict[str, Any]:
            return scale.levels[rank].summary(lang)

        return {
            "draft": self.draft.summary(lang),
            "current": self.current.summary(lang),
            "incidents": len(self.history),
            "matrix": self.matrix.tolist(),
            "moved": int(self.moved.size),
            "up": self.up,
            "down": self.down,
            "distribution": [
                {"level": level(self.draft, r), "count": c, "target": t}
                for r, (c, t) in enumerate(zip(self.distribution, self.target_counts, strict=True))
            ],
            "current_distribution": self.current_distribution,
            "distance_to_target": self.distance_to_target,
            "by_sector": [g.__dict__ for g in self.by_sector()],
            "by_classification": [g.__dict__ for g in self.by_classification()],
            "movers": [m.__dict__ | {"why": list(m.why)} for m in self.movers(movers, lang)],
        }


def what_if(
    draft: Scale,
    current: Scale,
    history: History,
    target: Sequence[float] | None = None,
    progress: Progress | None = None,
) -> WhatIf:
    """Re-assess ``history`` on ``current`` and ``draft``. ``target``: shares per draft level (default: halving)."""
    wanted = list(target) if target is not None else default_target(draft.top + 1)
    if len(wanted) != draft.top + 1 or any(t < 0 for t in wanted) or sum(wanted) <= 0:
        raise ValueError(f"the target needs {draft.top + 1} non-negative shares, one per level of {draft.id}")
    wanted = [t / sum(wanted) for t in wanted]
    if progress:
        progress(current.id)
    before = levels_on(current, history)
    if progress:
        progress(draft.id)
    after = levels_on(draft, history)
    return WhatIf(draft, current, history, before, after, wanted)


def why_levels_differ(old: Assessment, new: Assessment) -> list[str]:
    """What makes two assessments of the same facts differ: score, thresholds, rules (English)."""
    out = []
    if old.score is not None or new.score is not None:

        def score(a: Assessment) -> str:
            return (
                "no score"
                if a.score is None
                else f"score {a.score:.1f} ({a.scale.levels[a.score_level].name.get_for(a.lang)})"
            )

        if old.score != new.score or old.score_level != new.score_level:
            out.append(f"{score(old)} -> {score(new)}")
    old_rules = {r["id"]: r for r in old.rules_fired}
    new_rules = {r["id"]: r for r in new.rules_fired}
    for rid, r in new_rules.items():
        if old_rules.get(rid) != r:
            out.append(f"fires: {r['name']} ({r['effect']} {new.scale.levels[r['level']].name.get_for(new.lang)})")
    for rid, r in old_rules.items():
        if rid not in new_rules:
            out.append(
                f"no longer fires: {r['name']} ({r['effect']} {old.scale.levels[r['level']].name.get_for(old.lang)})"
            )
    if not out:
        out.append(
            f"{old.scale.levels[old.rank].name.get_for(old.lang)} -> {new.scale.levels[new.rank].name.get_for(new.lang)}"
        )
    return out
