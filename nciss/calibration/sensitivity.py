"""Sensitivity: which parameters of a scale matter for the incidents it will see.

Each weight, option value, band and threshold of the weighted method, and each number a
rule compares a fact with, is moved by a step (``+/- 10 %`` by default) one at a time;
the variant is built from the definition (so a derived normalisation follows) and the
history re-assessed on it. The count of incidents whose level changes tells the owner
which parameters matter. Identical fact combinations are assessed once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nciss.batch import Columns, _codes, assess_batch
from nciss.calibration.history import History
from nciss.facts import fact_specs
from nciss.scales import Scale, ScaleError, _Builder

_NUMBER_TEST = re.compile(r"^\s*(>=|<=|>|<|==|!=)\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Parameter:
    """One number of a scale definition that sensitivity moves."""

    path: tuple[str | int, ...]  # where it sits in the definition, e.g. ("weighted", "thresholds", 2, "from")
    kind: str  # "weight", "option", "band value", "band start", "threshold" or "rule threshold"
    label: str  # what it is, in words: "weight of functional-impact"
    value: float
    bounds: tuple[float, float]  # what the format allows
    whole: bool = False  # a whole number (a count compared in a rule): moves by whole steps only

    @property
    def where(self) -> str:
        """The path written as in ScaleError messages: ``weighted.thresholds[2].from``."""
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out

    def moved(self, step: float, sign: int, magnitude: float) -> float:
        """The value moved by ``sign * step`` (relative; ``magnitude`` stands in for a value of 0), within bounds."""
        if self.whole:
            change = float(round(abs(self.value) * step))  # 0: a whole number too small to move by a step
        else:
            change = abs(self.value) * step if self.value else magnitude * step
        lo, hi = self.bounds
        return min(hi, max(lo, self.value + sign * change))


@dataclass(frozen=True)
class ParameterEffect:
    """How many incidents change level when ``parameter`` moves down and up by a step."""

    parameter: Parameter
    lower: float  # the value tried below
    higher: float  # the value tried above
    changed_lower: int | None  # None: the value cannot move that way (at a bound) or the variant is invalid
    changed_higher: int | None
    problem: str = ""  # why a variant could not be built

    @property
    def changed(self) -> int:
        """The larger of the two counts: how much this parameter matters."""
        return max(self.changed_lower or 0, self.changed_higher or 0)


@dataclass
class Sensitivity:
    scale: Scale
    history: History
    step: float
    effects: list[ParameterEffect]  # the parameters that matter most first
    distinct: Columns = field(repr=False)  # the distinct fact combinations of the history, as columns
    inverse: np.ndarray = field(repr=False)  # each incident's combination

    def incidents(self, parameter: Parameter, sign: int) -> np.ndarray:
        """Indices of the incidents whose level changes when ``parameter`` moves by ``sign`` (-1 or +1) steps."""
        value = parameter.moved(self.step, sign, _magnitudes(self.scale)[parameter.path[:-1]])
        if value == parameter.value:
            return np.array([], dtype=np.int64)
        n = len(next(iter(self.distinct.values()), ()))
        base = assess_batch(self.scale, self.distinct, n).level
        changed = assess_batch(vary(self.scale, parameter, value), self.distinct, n).level != base
        return np.flatnonzero(changed[self.inverse])


def parameters(scale: Scale) -> list[Parameter]:
    """Every number of the scale that sensitivity moves, in definition order."""
    d = scale.definition
    out: list[Parameter] = []
    weighted = d.get("weighted") or {}
    for i, c in enumerate(weighted.get("categories", [])):
        base: tuple[str | int, ...] = ("weighted", "categories", i)
        out.append(Parameter((*base, "weight"), "weight", f"weight of {c['id']}", float(c["weight"]), (1e-9, 1e9)))
        for value, number in (c.get("options") or {}).items():
            out.append(_option((*base, "options", value), f"{c['id']}: {value}", number))
        for j, source in enumerate(c.get("sources") or []):
            for value, number in source["options"].items():
                out.append(_option((*base, "sources", j, "options", value), f"{c['id']}: {value}", number))
        if "options_from_sectors" in c:
            key = c["options_from_sectors"]
            for sector, spec in d.get("sectors", {}).items():
                if key in spec.get("values", {}):
                    out.append(_option(("sectors", sector, "values", key), f"{c['id']}: {sector}", spec["values"][key]))
        for j, band in enumerate(c.get("bands") or []):
            out.append(
                _option((*base, "bands", j, "value"), f"{c['id']}: from {band['from']:g}", band["value"], "band value")
            )
            if j:
                out.append(
                    Parameter(
                        (*base, "bands", j, "from"),
                        "band start",
                        f"{c['id']}: band from {band['from']:g}",
                        float(band["from"]),
                        (0.0, 1e18),
                    )
                )
    for i, t in enumerate(weighted.get("thresholds", [])):
        level = scale.levels[t["level"]].name.get_for("en")
        out.append(
            Parameter(
                ("weighted", "thresholds", i, "from"),
                "threshold",
                f"score from which {level}",
                float(t["from"]),
                (0.0, 100.0),
            )
        )
    for i, rule in enumerate(d.get("rules", [])):
        for path, fact, number in _rule_numbers(rule["when"], ("rules", i, "when")):
            whole = fact_specs()[fact].kind == "int"
            out.append(Parameter(path, "rule threshold", f"{rule['id']}: {fact}", number, (-1e18, 1e18), whole))
    return out


def _option(path: tuple[str | int, ...], label: str, number: float, kind: str = "option") -> Parameter:
    return Parameter(path, kind, label, float(number), (0.0, 100.0))


def _rule_numbers(node: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str, float]]:
    """The plain numbers compared with numeric facts in a rule's condition."""
    if isinstance(node, list):
        for i, part in enumerate(node):
            yield from _rule_numbers(part, (*path, i))
    elif isinstance(node, dict):
        for key, value in node.items():
            spec = fact_specs().get(key)
            if spec is not None and spec.is_numeric and isinstance(value, str) and _NUMBER_TEST.match(value):
                yield (*path, key), key, float(_NUMBER_TEST.match(value).group(2))  # type: ignore[union-attr]
            elif spec is None:
                yield from _rule_numbers(value, (*path, key))


def vary(scale: Scale, parameter: Parameter, value: float) -> Scale:
    """A copy of ``scale`` with ``parameter`` set to ``value`` (ScaleError if that is not a valid scale)."""
    if parameter.kind == "rule threshold":
        op = _NUMBER_TEST.match(_at(scale.definition, parameter.path)).group(1)  # type: ignore[union-attr]
        new: Any = f"{op} {int(value) if parameter.whole else value!r}"
    else:
        new = value
    definition = _replaced(scale.definition, parameter.path, new)
    return _Builder(definition).build()  # the shape is unchanged, so the schema check is skipped


def _at(node: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


def _replaced(node: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """``node`` with the value at ``path`` replaced, copying only the containers on the way."""
    if not path:
        return value
    copied = list(node) if isinstance(node, list) else dict(node)
    copied[path[0]] = _replaced(node[path[0]], path[1:], value)  # type: ignore[index]
    return copied


def _magnitudes(scale: Scale) -> dict[tuple[str | int, ...], float]:
    """Per parameter group (its path less the last part), the largest value: the step for a value of 0."""
    out: dict[tuple[str | int, ...], float] = {}
    for p in parameters(scale):
        key = p.path[:-1]
        out[key] = max(out.get(key, 0.0), abs(p.value))
    for p in parameters(scale):
        if p.kind == "threshold":
            out[p.path[:-1]] = 100.0
        out.setdefault(p.path[:-1], 1.0)
        if out[p.path[:-1]] == 0:
            out[p.path[:-1]] = 1.0
    return out


def _distinct(history: History, scale: Scale) -> tuple[Columns, int, np.ndarray, np.ndarray]:
    """The distinct fact combinations the scale reads: their columns, how many, each one's incident count and
    each incident's combination."""
    columns, n = history.record_columns(scale)
    if not columns or n == 0:
        inverse = history.spread(np.zeros(n, dtype=np.int64))
        return columns, min(n, 1), np.bincount(inverse, minlength=min(n, 1)), inverse
    stacked = np.column_stack([np.nan_to_num(c.astype(np.float64), nan=-1e300) for c in columns.values()])
    _, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    per_incident = history.spread(inverse.ravel())
    counts = np.bincount(per_incident, minlength=first.size)
    return {k: c[first] for k, c in columns.items()}, int(first.size), counts, per_incident


def _rows_affected(scale: Scale, variant: Scale, p: Parameter, columns: Columns) -> np.ndarray | None:
    """For an option value: the combinations that hold that value or leave its fact unknown (no other can
    change level), when the normalisation stays; None: every combination."""
    if p.kind != "option" or scale.weighted is None or variant.weighted is None:
        return None
    if (variant.weighted.minimum, variant.weighted.maximum) != (scale.weighted.minimum, scale.weighted.maximum):
        return None
    if p.path[0] == "sectors":
        fact, value = "sector", p.path[1]
    else:
        category = scale.definition["weighted"]["categories"][p.path[2]]
        fact = category["sources"][p.path[4]]["fact"] if p.path[3] == "sources" else category["fact"]
        value = p.path[-1]
    codes = _codes(scale, fact)
    if fact not in columns or value not in codes:
        return None
    column = columns[fact]
    return np.flatnonzero((column == codes.index(value)) | (column < 0))


def sensitivity(
    scale: Scale,
    history: History,
    step: float = 0.1,
    progress: Callable[[int, int], None] | None = None,
) -> Sensitivity:
    """Move each parameter of ``scale`` by ``-step`` and ``+step`` (relative) and count the incidents that change level."""
    if not 0 < step < 1:
        raise ValueError("the step is a share between 0 and 1 (0.1 = 10 %)")
    columns, n, counts, inverse = _distinct(history, scale)
    base = assess_batch(scale, columns, n).level
    magnitudes = _magnitudes(scale)
    params = parameters(scale)
    effects = []
    for done, p in enumerate(params):
        tried: list[float] = []
        changed: list[int | None] = []
        problem = ""
        for sign in (-1, 1):
            value = p.moved(step, sign, magnitudes[p.path[:-1]])
            tried.append(value)
            if value == p.value:
                changed.append(None)
                continue
            try:
                variant = vary(scale, p, value)
            except ScaleError as e:
                changed.append(None)
                problem = str(e)
                continue
            rows = _rows_affected(scale, variant, p, columns)
            if rows is None:
                moved = assess_batch(variant, columns, n).level != base
                changed.append(int(counts[moved].sum()))
            else:
                subset = {k: c[rows] for k, c in columns.items()}
                moved = assess_batch(variant, subset, rows.size).level != base[rows]
                changed.append(int(counts[rows][moved].sum()))
        effects.append(ParameterEffect(p, tried[0], tried[1], changed[0], changed[1], problem))
        if progress:
            progress(done + 1, len(params))
    effects.sort(key=lambda e: -e.changed)
    return Sensitivity(scale, history, step, effects, columns, inverse)
