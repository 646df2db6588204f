"""Agreement statistics, written out so that the core needs no scipy.

- ``agreement_matrix``: counts of (level on A, level on B);
- ``weighted_kappa``: Cohen's kappa with linear or quadratic disagreement weights;
- ``spearman_rho``: Spearman's rank correlation, ties at their average rank;
- ``krippendorff_alpha``: Krippendorff's alpha for any number of raters, missing values
  allowed, at the nominal, ordinal or interval level of measurement.

docs/calibration.md gives the formulas.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np


def agreement_matrix(a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``rows x cols`` counts: cell (i, j) holds how many items are ``i`` on A and ``j`` on B."""
    a_arr = np.asarray(a, dtype=np.int64)
    b_arr = np.asarray(b, dtype=np.int64)
    if a_arr.shape != b_arr.shape:
        raise ValueError("both ratings need one value per item")
    return np.bincount(a_arr * cols + b_arr, minlength=rows * cols).reshape(rows, cols)


def weighted_kappa(matrix: np.ndarray | Sequence[Sequence[int]], weights: str = "quadratic") -> float:
    """Cohen's kappa of a square agreement matrix: 1 - sum(w*observed) / sum(w*expected).

    ``weights`` is ``"linear"`` (|i-j|/(k-1)), ``"quadratic"`` ((i-j)²/(k-1)²) or
    ``"unweighted"`` (0 on the diagonal, 1 elsewhere). NaN when chance alone explains
    everything (the expected disagreement is 0, e.g. every item in one category).
    """
    m = np.asarray(matrix, dtype=float)
    k = m.shape[0]
    if m.ndim != 2 or m.shape[1] != k:
        raise ValueError("kappa needs a square matrix (a common category set)")
    n = m.sum()
    if n == 0 or k < 2:
        return math.nan
    i, j = np.indices((k, k))
    if weights == "linear":
        w = np.abs(i - j) / (k - 1)
    elif weights == "quadratic":
        w = (i - j) ** 2 / (k - 1) ** 2
    elif weights == "unweighted":
        w = (i != j).astype(float)
    else:
        raise ValueError(f"unknown weights {weights!r}: linear, quadratic or unweighted")
    observed = m / n
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    disagreement_expected = float((w * expected).sum())
    if disagreement_expected == 0:
        return math.nan
    return 1.0 - float((w * observed).sum()) / disagreement_expected


def average_ranks(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Ranks from 1, tied values sharing the average of the ranks they span."""
    x = np.asarray(values, dtype=float)
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], x.size]  # exclusive
    mean_rank = (starts + ends + 1) / 2.0  # ranks starts+1 .. ends, averaged
    ranks = np.empty(x.size)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def spearman_rho(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Spearman's rho: Pearson's correlation of the average ranks. NaN if either side is constant."""
    ra, rb = average_ranks(a), average_ranks(b)
    if ra.size != rb.size:
        raise ValueError("both ratings need one value per item")
    da, db = ra - ra.mean(), rb - rb.mean()
    denominator = math.sqrt(float((da * da).sum()) * float((db * db).sum()))
    return math.nan if denominator == 0 else float((da * db).sum()) / denominator


def spearman_rho_from_matrix(matrix: np.ndarray) -> float:
    """Spearman's rho of the items counted in an agreement matrix (rows: A's level, columns: B's)."""
    m = np.asarray(matrix, dtype=np.int64)
    i, j = np.indices(m.shape)
    return spearman_rho(np.repeat(i.ravel(), m.ravel()), np.repeat(j.ravel(), m.ravel()))


def krippendorff_alpha(
    data: Sequence[Sequence[Any]], level: str = "nominal", order: Sequence[Hashable] | None = None
) -> float:
    """Krippendorff's alpha of ``data``: one row per rater, one column per unit, None if missing.

    ``level`` is ``"nominal"``, ``"ordinal"`` or ``"interval"``. Ordinal values are ranked in
    ``order`` when given, else sorted; interval values must be numbers. Units rated by fewer
    than two raters are left out (they carry no information on agreement). NaN when fewer than
    two values are pairable or every pairable value is the same.
    """
    if level not in ("nominal", "ordinal", "interval"):
        raise ValueError(f"unknown level {level!r}: nominal, ordinal or interval")
    units = [
        [row[u] for row in data if u < len(row) and row[u] is not None] for u in range(max(map(len, data), default=0))
    ]
    units = [u for u in units if len(u) >= 2]
    values = sorted({v for u in units for v in u}, key=order.index if order is not None else None)
    if not units or len(values) < 2:
        return math.nan
    index = {v: i for i, v in enumerate(values)}
    k = len(values)
    # the coincidence matrix: each ordered pair of values within a unit, weighted 1/(m_u - 1)
    coincidence = np.zeros((k, k))
    for unit in units:
        counts = np.bincount([index[v] for v in unit], minlength=k).astype(float)
        pairs = np.outer(counts, counts) - np.diag(counts)
        coincidence += pairs / (len(unit) - 1)
    marginals = coincidence.sum(axis=1)
    n = marginals.sum()
    delta = _distance(level, values, marginals)
    observed = float((coincidence * delta).sum())
    expected = float((np.outer(marginals, marginals) * delta).sum()) / (n - 1)
    return math.nan if expected == 0 else 1.0 - observed / expected


def _distance(level: str, values: list[Any], marginals: np.ndarray) -> np.ndarray:
    """The squared difference between each pair of values at the level of measurement."""
    k = len(values)
    i, j = np.indices((k, k))
    if level == "nominal":
        return (i != j).astype(float)
    if level == "interval":
        x = np.asarray(values, dtype=float)
        return (x[:, None] - x[None, :]) ** 2
    # ordinal: (sum of the marginals from g to h, less half of each end)²
    cumulative = np.r_[0.0, np.cumsum(marginals)]
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    between = cumulative[hi + 1] - cumulative[lo] - (marginals[lo] + marginals[hi]) / 2
    return between**2
