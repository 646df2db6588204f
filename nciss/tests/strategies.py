"""Hypothesis strategies for fact records drawn from the vocabulary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from nciss.facts import NOT_SEVERITY, SECTORS, FactSpec, fact_specs
from nciss.taxonomy import rsit_types

COUNTRIES = ["UZ", "KZ", "KG", "TJ", "UA", "DE", "FR", "US", "GB", "AT"]
# Numbers near the thresholds the presets use, so that rules really fire.
INTERESTING = [0, 1, 2, 20, 29, 30, 31, 60, 61, 100, 1000, 1440, 100_000, 200_000, 500_000, 1_000_000, 5_000_000]


def value_of(spec: FactSpec) -> st.SearchStrategy[Any]:
    if spec.kind == "enum":
        return st.sampled_from(spec.values)
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "int":
        low = int(spec.minimum)
        return st.one_of(st.sampled_from([max(v, low) for v in INTERESTING]), st.integers(low, 10_000_000))
    if spec.kind == "number":
        if spec.maximum is not None:
            return st.one_of(st.sampled_from([0.0, 0.001, 0.01, 0.05, 0.06, 0.1, 0.5, 1.0]), st.floats(0, spec.maximum))
        return st.one_of(st.sampled_from([float(v) for v in INTERESTING]), st.floats(0, 1e9, allow_nan=False))
    if spec.kind == "list":
        return st.lists(
            st.sampled_from(COUNTRIES if spec.items == "country" else list(SECTORS)), max_size=4, unique=True
        )
    if spec.kind == "country":
        return st.sampled_from(COUNTRIES)
    if spec.name == "classification":
        return st.sampled_from(rsit_types())
    return st.just("2026-10-17T06:40:00+05:00")


@st.composite
def fact_records(draw: st.DrawFn, known_share: float = 0.6) -> dict[str, Any]:
    """A valid facts record with a random subset of the facts known."""
    facts = {}
    for spec in fact_specs().values():
        if draw(st.floats(0, 1)) < known_share:
            facts[spec.name] = draw(value_of(spec))
    return facts


# Facts whose rise means a more severe incident (facts.md, "Order").
ORDERED = [s.name for s in fact_specs().values() if s.is_ordered and s.name not in NOT_SEVERITY]


def raised(spec: FactSpec, value: Any, draw: Callable[[st.SearchStrategy[Any]], Any]) -> Any:
    """A value of ``spec`` at least as severe as ``value``."""
    if spec.kind == "enum":
        return draw(st.sampled_from(spec.values[spec.values.index(value) :]))
    if spec.kind == "bool":
        return True
    if spec.kind == "list":
        pool = COUNTRIES if spec.items == "country" else list(SECTORS)
        extra = draw(st.lists(st.sampled_from(pool), max_size=3))
        return sorted(set(value) | set(extra))
    bump = draw(st.one_of(st.sampled_from([0, 1, 2, 10, 1000, 1_000_000]), st.floats(0, 1e6)))
    out = value + bump
    if spec.maximum is not None:
        out = min(out, spec.maximum)
    return int(out) if spec.kind == "int" else float(out)
