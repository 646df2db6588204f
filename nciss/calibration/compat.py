"""Compatibility of two scales: the same history assessed on both, and how well they agree.

- the agreement matrix: incidents per (level on A, level on B), each cell leading to its incidents;
- Spearman's rho on the two ranks (ties averaged): do the scales order incidents alike?
- weighted Cohen's kappa (linear and quadratic) on a common category set: when both scales have
  as many levels, their ranks; otherwise each rank normalised onto the shorter scale,
  ``round(rank * (k_short - 1) / (k_long - 1))`` (the ``common`` field says which);
- the crosswalk check: for each level of A, how often B's facts-based level falls below,
  inside or above the range A's crosswalk table to B gives (and the same from B to A).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from nciss.calibration.history import History
from nciss.calibration.stats import agreement_matrix, spearman_rho, weighted_kappa
from nciss.calibration.whatif import levels_on
from nciss.scales import Scale


@dataclass(frozen=True)
class CrosswalkCheck:
    """One row of a crosswalk table against the facts: source level -> target range."""

    source: int  # the level on the crosswalk's source scale
    min: int
    max: int
    total: int  # incidents at ``source``
    below: int  # their target level (from the facts) is below ``min``
    inside: int
    above: int

    @property
    def outside_share(self) -> float:
        return (self.below + self.above) / self.total if self.total else 0.0


@dataclass
class Compatibility:
    """How ``a`` and ``b`` agree on ``history``; ``levels_a``/``levels_b`` per incident."""

    a: Scale
    b: Scale
    history: History
    levels_a: np.ndarray
    levels_b: np.ndarray
    crosswalk_ab: list[CrosswalkCheck] | None = field(default=None)  # None: A has no crosswalk to B
    crosswalk_ba: list[CrosswalkCheck] | None = field(default=None)

    @cached_property
    def matrix(self) -> np.ndarray:
        """Counts of (level on A, level on B)."""
        return agreement_matrix(self.levels_a, self.levels_b, self.a.top + 1, self.b.top + 1)

    @property
    def common(self) -> str:
        """The category set kappa is computed on: ``"ranks"`` or ``"normalised to <scale id>"``."""
        if self.a.top == self.b.top:
            return "ranks"
        return f"normalised to {(self.a if self.a.top < self.b.top else self.b).id}"

    @cached_property
    def common_matrix(self) -> np.ndarray:
        """The square matrix kappa reads (ranks normalised onto the shorter scale when the lengths differ)."""
        k = min(self.a.top, self.b.top) + 1
        return agreement_matrix(
            _normalise(self.levels_a, self.a.top, k), _normalise(self.levels_b, self.b.top, k), k, k
        )

    @property
    def kappa_linear(self) -> float:
        return weighted_kappa(self.common_matrix, "linear")

    @property
    def kappa_quadratic(self) -> float:
        return weighted_kappa(self.common_matrix, "quadratic")

    @cached_property
    def rho(self) -> float:
        """Spearman's rho of the two ranks (NaN when one scale gives every incident the same level)."""
        return spearman_rho(self.levels_a, self.levels_b)

    @property
    def exact_agreement(self) -> float:
        """The share of incidents on the diagonal of the common matrix."""
        m = self.common_matrix
        return float(np.trace(m) / m.sum()) if m.sum() else float("nan")

    def select(
        self, *, a: int | None = None, b: int | None = None, crosswalk: str | None = None, direction: str = "ab"
    ) -> np.ndarray:
        """Indices of the incidents behind a number: a matrix cell, or a crosswalk row's ``below``/``inside``/``above``.

        With ``crosswalk``, ``a`` (for ``direction="ab"``) or ``b`` (``"ba"``) picks the source level.
        """
        keep = np.ones(len(self.history), dtype=bool)
        if a is not None:
            keep &= self.levels_a == a
        if b is not None:
            keep &= self.levels_b == b
        if crosswalk is not None:
            source, target, rows = (
                (self.a, self.levels_b, self.crosswalk_ab)
                if direction == "ab"
                else (self.b, self.levels_a, self.crosswalk_ba)
            )
            if rows is None:
                raise ValueError(f"{source.id} has no crosswalk to the other scale")
            lo = np.array([r.min for r in rows])[self.levels_a if direction == "ab" else self.levels_b]
            hi = np.array([r.max for r in rows])[self.levels_a if direction == "ab" else self.levels_b]
            keep &= {"below": target < lo, "inside": (target >= lo) & (target <= hi), "above": target > hi}[crosswalk]
        return np.flatnonzero(keep)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        def checks(rows: list[CrosswalkCheck] | None) -> list[dict[str, Any]] | None:
            return None if rows is None else [r.__dict__ | {"outside_share": r.outside_share} for r in rows]

        return {
            "a": self.a.summary(lang),
            "b": self.b.summary(lang),
            "incidents": len(self.history),
            "matrix": self.matrix.tolist(),
            "common": self.common,
            "kappa_linear": self.kappa_linear,
            "kappa_quadratic": self.kappa_quadratic,
            "rho": self.rho,
            "exact_agreement": self.exact_agreement,
            "crosswalk_ab": checks(self.crosswalk_ab),
            "crosswalk_ba": checks(self.crosswalk_ba),
        }


def _normalise(ranks: np.ndarray, top: int, k: int) -> np.ndarray:
    if top == k - 1:
        return ranks
    return np.floor(ranks.astype(np.float64) * (k - 1) / top + 0.5).astype(np.int64)


def crosswalk_check(
    source: Scale, target: Scale, source_levels: np.ndarray, target_levels: np.ndarray
) -> list[CrosswalkCheck] | None:
    """Per row of ``source``'s crosswalk to ``target``: where the facts-based target levels fall."""
    rows = source.crosswalks.get(target.id)
    if rows is None:
        return None
    out = []
    for row in sorted(rows, key=lambda r: r.source):
        found = target_levels[source_levels == row.source]
        below, above = int((found < row.min).sum()), int((found > row.max).sum())
        out.append(
            CrosswalkCheck(row.source, row.min, row.max, int(found.size), below, int(found.size) - below - above, above)
        )
    return out


def compatibility(
    a: Scale,
    b: Scale,
    history: History,
    progress: Callable[[str], None] | None = None,
    levels_a: np.ndarray | None = None,
) -> Compatibility:
    """Assess ``history`` on ``a`` and ``b`` and compare (``levels_a`` reuses levels already computed on ``a``)."""
    if levels_a is None:
        if progress:
            progress(a.id)
        levels_a = levels_on(a, history)
    if progress:
        progress(b.id)
    levels_b = levels_on(b, history)
    return Compatibility(
        a,
        b,
        history,
        levels_a,
        levels_b,
        crosswalk_check(a, b, levels_a, levels_b),
        crosswalk_check(b, a, levels_b, levels_a),
    )
