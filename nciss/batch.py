"""The batch path: score, level and reachable range of many fact records at once.

Facts come as columns (numpy arrays, one per fact, one row per record):

| kind              | dtype    | unknown |
|-------------------|----------|---------|
| enum              | int16    | -1 (else the value's index in facts.md, national sectors after) |
| bool              | int8     | -1 (else 0 or 1) |
| int, number       | float64  | NaN     |
| list              | int32    | -1 (else the number of members) |
| classification    | int32    | -1 (else the index in ``sorted(scale.taxonomy_types)``) |

``encode(scale, records)`` builds them from validated fact dicts. The results
equal ``assess`` row by row (tests check it); the method is the same: unknown
facts at their extremes, enumerated facts tried value by value.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nciss.engine import Variable, plan_for
from nciss.facts import fact_specs
from nciss.rules import All, Any_, Compare, Condition, Expr, ListTest, Member, Not
from nciss.scales import Category, Rule, Scale

Columns = dict[str, np.ndarray]


@dataclass
class BatchResult:
    score: np.ndarray  # float64, NaN for scales without a weighted method
    level: np.ndarray  # int8, equal to reachable_min
    reachable_max: np.ndarray  # int8


def _codes(scale: Scale, fact: str) -> list[Any]:
    spec = fact_specs()[fact]
    if fact == "classification":
        return sorted(scale.taxonomy_types)
    extra = sorted(scale.national_sectors) if fact == "sector" else []
    return [*spec.values, *extra]


def _encode_value(scale: Scale, fact: str, value: Any, index: dict[str, dict[Any, int]]) -> Any:
    kind = fact_specs()[fact].kind
    if kind in ("enum", "string"):
        if fact not in index:
            index[fact] = {v: i for i, v in enumerate(_codes(scale, fact))}
        return index[fact][value]
    if kind == "bool":
        return int(value)
    if kind == "list":
        return len(value)
    return float(value)


def _dtype(fact: str) -> tuple[Any, Any]:
    kind = fact_specs()[fact].kind
    if fact == "classification":
        return np.int32, -1
    return {"enum": (np.int16, -1), "bool": (np.int8, -1), "list": (np.int32, -1)}.get(kind, (np.float64, np.nan))


def facts_read(scale: Scale) -> list[str]:
    """Every fact the scale's level depends on."""
    found: set[str] = set()
    for rule in scale.rules:
        found |= rule.when.facts()
    for c in scale.weighted.categories if scale.weighted else ():
        found |= set(c.facts)
    return sorted(found)


def encode(scale: Scale, records: Iterable[Mapping[str, Any]]) -> tuple[Columns, int]:
    """Columns for the facts ``scale`` reads, from validated fact dicts."""
    rows = list(records)
    n = len(rows)
    index: dict[str, dict[Any, int]] = {}
    columns: Columns = {}
    for fact in facts_read(scale):
        dtype, missing = _dtype(fact)
        col = np.full(n, missing, dtype=dtype)
        for i, row in enumerate(rows):
            v = row.get(fact, scale.assumptions.get(fact))
            if v is not None:
                col[i] = _encode_value(scale, fact, v, index)
        columns[fact] = col
    return columns, n


# ---------------------------------------------------------------- vectorised evaluation


def _unknown(col: np.ndarray) -> np.ndarray:
    return np.isnan(col) if col.dtype.kind == "f" else col < 0


def _expr(expr: Expr, cols: Columns) -> np.ndarray | float:
    if expr.op == "const":
        return float(expr.args[0])
    if expr.op == "fact":
        return cols[expr.args[0]]
    args = [_expr(a, cols) for a in expr.args]
    if expr.op == "+":
        return args[0] + args[1]
    if expr.op == "-":
        return args[0] - args[1]
    if expr.op == "*":
        return args[0] * args[1]
    fold = np.minimum if expr.op == "min" else np.maximum
    out = args[0]
    for a in args[1:]:
        out = fold(out, a)
    return out


_OPS = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less, "==": np.equal, "!=": np.not_equal}


def _condition(scale: Scale, c: Condition, cols: Columns) -> np.ndarray:
    if isinstance(c, All):
        return np.logical_and.reduce([_condition(scale, p, cols) for p in c.parts])
    if isinstance(c, Any_):
        return np.logical_or.reduce([_condition(scale, p, cols) for p in c.parts])
    if isinstance(c, Not):
        return ~_condition(scale, c.part, cols)
    if isinstance(c, Compare):
        col = cols[c.fact]
        if isinstance(c.operand, Expr):
            return _OPS[c.op](col, _expr(c.operand, cols))
        if c.ranks is not None:
            return _OPS[c.op](col, c.operand)
        if isinstance(c.operand, bool):
            return _OPS[c.op](col, int(c.operand))
        return _OPS[c.op](col, _codes(scale, c.fact).index(c.operand))
    if isinstance(c, Member):
        codes = _codes(scale, c.fact)
        if fact_specs()[c.fact].kind == "bool":
            return np.isin(cols[c.fact], [int(v) for v in c.values])
        return np.isin(cols[c.fact], [codes.index(v) for v in c.values])
    if isinstance(c, ListTest):
        col = cols[c.fact]
        if c.test == "empty":
            return col == 0
        if c.test == "not empty":
            return col > 0
        if c.test == "count":
            return _OPS[c.op](col, c.arg)
    raise NotImplementedError(f"the batch path cannot evaluate {c.describe()!r}; use assess()")


def _category_values(scale: Scale, c: Category, cols: Columns) -> np.ndarray:
    if c.band_fact:
        starts = np.array([b for b, _ in c.bands])
        values = np.array([v for _, v in c.bands])
        return values[np.maximum(np.searchsorted(starts, cols[c.band_fact], side="right") - 1, 0)]
    out = None
    for source in reversed(c.sources):
        codes = _codes(scale, source.fact)
        table = np.array([source.options.get(v, 0.0) for v in codes] + [0.0])
        col = cols[source.fact]
        values = table[np.where(col < 0, len(codes), col)]
        out = values if out is None else np.where(col >= 0, values, out)
    assert out is not None
    return out


def _levels(
    scale: Scale, cols: Columns, n: int, rules: Sequence[tuple[Rule, Condition | bool]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Score and level of complete columns; ``rules`` may hold the rules specialised to fixed facts."""
    level = np.zeros(n, dtype=np.int8)
    score = np.full(n, np.nan)
    weighted = scale.weighted
    if weighted is not None:
        total = np.zeros(n)
        for c in weighted.categories:
            total += c.weight * _category_values(scale, c, cols)
        score = np.clip(100.0 * (total - weighted.minimum) / (weighted.maximum - weighted.minimum), 0.0, 100.0)
        starts = np.array([s for _, s in weighted.thresholds])
        ranks = np.array([0] + [lv for lv, _ in weighted.thresholds], dtype=np.int8)
        level = ranks[np.searchsorted(starts, score, side="right")]
    pairs = rules if rules is not None else [(r, r.when) for r in scale.rules]
    truth = [(rule, c if isinstance(c, bool) else _condition(scale, c, cols)) for rule, c in pairs if c is not False]
    for rule, true in reversed(truth):
        if rule.effect == "level":
            level = np.where(true, np.int8(rule.level), level)
    for effect, combine in (("ceiling", np.minimum), ("floor", np.maximum)):
        for rule, true in truth:
            if rule.effect == effect:
                level = np.where(true, combine(level, rule.level), level)
    return score, level.astype(np.int8)


def _fill(scale: Scale, cols: Columns, var: Variable, value: Any) -> None:
    col = cols[var.fact]
    encoded = _encode_value(scale, var.fact, value, {})
    cols[var.fact] = np.where(_unknown(col), encoded, col).astype(col.dtype)


def assess_batch(scale: Scale, columns: Columns, n: int) -> BatchResult:
    """Score, level and reachable range for ``n`` records given as columns."""
    plan = plan_for(scale)
    lowest = dict(columns)
    highest = dict(columns)
    for fact, (dtype, missing) in ((f, _dtype(f)) for f in facts_read(scale)):
        if fact not in columns:
            lowest[fact] = highest[fact] = np.full(n, missing, dtype=dtype)
    enumerated = []
    for var in plan.variables.values():
        if var.mode == "enumerate":
            enumerated.append(var)
        else:
            _fill(scale, lowest, var, var.low)
            _fill(scale, highest, var, var.high)
    score, level = _levels(scale, lowest, n)
    top = _levels(scale, highest, n)[1]
    if enumerated:
        # Only the records where an enumerated fact is unknown need its values tried, and
        # only for the enumerated facts unknown there: group the records by which those are.
        pattern = np.zeros(n, dtype=np.int64)
        for bit, var in enumerate(enumerated):
            pattern |= _unknown(lowest[var.fact]).astype(np.int64) << bit
        for code in np.unique(pattern[pattern > 0]):
            rows = np.flatnonzero(pattern == code)
            unknown = [v for bit, v in enumerate(enumerated) if code >> bit & 1]
            sub_score, sub_level, sub_top = _enumerate(
                scale,
                unknown,
                {k: c[rows] for k, c in lowest.items()},
                {k: c[rows] for k, c in highest.items()},
                rows.size,
            )
            score[rows], level[rows], top[rows] = sub_score, sub_level, sub_top
    return BatchResult(score, level, top)


def _specialised_combinations(
    scale: Scale, enumerated: list[Variable]
) -> list[tuple[tuple[Any, ...], list[tuple[Rule, Condition | bool]]]]:
    """Each combination of the enumerated facts' values with the rules specialised to it.

    Combinations whose specialised rules are the same give the same levels; when the
    enumerated facts feed no weighted category (so scores agree too) one of them stands
    for all, which keeps the search order's first.
    """
    plan = plan_for(scale)
    out = []
    seen: set[tuple[Any, ...]] = set()
    for combo in itertools.product(*(v.candidates for v in enumerated)):
        fixed = {v.fact: value for v, value in zip(enumerated, combo, strict=True)}
        rules = [(r, r.when.specialise(fixed)) for r in scale.rules]
        key = tuple(c if isinstance(c, bool) else id(c) if c is r.when else repr(c) for r, c in rules)
        if plan.enumerated_scoreless and key in seen:
            continue
        seen.add(key)
        out.append((combo, rules))
    return out


def _enumerate(
    scale: Scale, enumerated: list[Variable], lowest: Columns, highest: Columns, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every combination of the enumerated facts' values where they are unknown (as assess)."""
    best_score = best_level = top = None
    for combo, rules in _specialised_combinations(scale, enumerated):
        low_cols, high_cols = dict(lowest), dict(highest)
        for var, value in zip(enumerated, combo, strict=True):
            _fill(scale, low_cols, var, value)
            _fill(scale, high_cols, var, value)
        score, level = _levels(scale, low_cols, n, rules)
        if best_level is None or best_score is None:
            best_score, best_level = score, level
        else:
            # the lowest level, then the lowest score; the first in search order on ties (as assess)
            better = (level < best_level) | ((level == best_level) & (score < best_score))
            best_score, best_level = np.where(better, score, best_score), np.where(better, level, best_level)
        high = _levels(scale, high_cols, n, rules)[1]
        top = high if top is None else np.maximum(top, high)
    assert best_score is not None and best_level is not None and top is not None
    return best_score, best_level.astype(np.int8), top.astype(np.int8)
