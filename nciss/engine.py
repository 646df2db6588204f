"""The scoring engine: ``assess(scale, facts) -> Assessment``.

Pure and deterministic: the same scale and facts always give the same assessment.

How the level is found (docs/scale-format.md): score level, then set rules, then
ceilings, then floors. How unknown facts are handled (facts.md, "Unknown facts"):
every fact the scale reads becomes a *variable* when unknown. ``_Plan`` works out,
once per scale, how each variable moves the level:

- ``up``/``down``: the level never falls as the fact rises (or never rises); its
  extreme values bound the level, so two evaluations give the exact range;
- ``table``: the fact only feeds weighted categories, so the values with the
  lowest and highest option values bound the level;
- ``enumerate``: anything else; its distinguishing values are all tried.

The level of a complete assignment is monotone in every up/down/table variable
whatever the others are, so fixing those at their extremes and trying every
combination of the enumerated ones gives the exact minimum and maximum.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from nciss.explain import explain
from nciss.facts import UNBOUNDED, FactsError, fact_specs, validate_facts
from nciss.scales import Category, Rule, Scale

# ---------------------------------------------------------------- the plan


@dataclass
class Variable:
    """An unknown fact the scale reads, and how it moves the level."""

    fact: str
    mode: str  # "up", "down", "table" or "enumerate"
    low: Any = None  # the value giving the lowest level (up, down, table)
    high: Any = None  # the value giving the highest level
    candidates: tuple[Any, ...] = ()  # enumerate: every distinguishing value


@dataclass
class _Plan:
    scale: Scale
    variables: dict[str, Variable]
    category_facts: frozenset[str]
    optional_overrides: frozenset[str]  # category sources before the last: never asked for


def _rule_polarity(rule: Rule, scale: Scale, set_rules_monotone: bool) -> int:
    if rule.effect == "floor":
        return 1
    if rule.effect == "ceiling":
        return -1
    return 1 if set_rules_monotone else 0


def _category_direction(category: Category) -> int:
    """+1 if the option value never falls as the fact rises, -1 if never rises, else 0."""
    spec = fact_specs()[category.fact]
    if category.band_fact:
        values = [v for _, v in category.bands]
    elif len(category.sources) == 1 and spec.ordered:
        options = category.sources[0].options
        values = [options.get(v, 0.0) for v in spec.values]
    else:
        return 0
    if all(a <= b for a, b in itertools.pairwise(values)):
        return 1
    if all(a >= b for a, b in itertools.pairwise(values)):
        return -1
    return 0


def _extremes(fact: str, breakpoints: set[Any]) -> tuple[Any, Any]:
    """The least and the most of a fact, in its own order."""
    spec = fact_specs()[fact]
    if spec.kind == "enum":
        return spec.values[0], spec.values[-1]
    if spec.kind == "bool":
        return False, True
    if spec.kind == "list":
        members = sorted(str(b) for b in breakpoints if isinstance(b, str))
        # enough placeholder members to pass any count test (XA..XZ are user-assigned codes)
        return [], members + [f"X{chr(65 + i)}" for i in range(26 - len(members))]
    top = spec.maximum if spec.maximum is not None else UNBOUNDED
    return (int(spec.minimum) if spec.kind == "int" else float(spec.minimum)), (int(top) if spec.kind == "int" else float(top))


def _candidates(fact: str, breakpoints: set[Any], scale: Scale) -> tuple[Any, ...]:
    """Every value of ``fact`` that can make a difference to ``scale``."""
    spec = fact_specs()[fact]
    if spec.kind == "enum":
        extra = sorted(scale.national_sectors) if fact == "sector" else []
        return (*spec.values, *extra)
    if spec.kind == "bool":
        return (False, True)
    if spec.kind == "list":
        low, high = _extremes(fact, breakpoints)
        return (low, high, *([b] for b in sorted(str(b) for b in breakpoints)))
    low, high = _extremes(fact, breakpoints)
    values = {low, high}
    for b in breakpoints:
        for v in (b, math.nextafter(b, -math.inf), math.nextafter(b, math.inf), math.floor(b), math.floor(b) + 1):
            if low <= v <= high:
                values.add(int(v) if spec.kind == "int" and float(v).is_integer() else v)
    return tuple(sorted(values))


@lru_cache(maxsize=256)
def plan_for(scale: Scale) -> _Plan:
    """Work out once per scale how each fact it reads moves the level."""
    directions: dict[str, int] = {}
    breakpoints: dict[str, set[Any]] = {}
    set_levels = [r.level for r in scale.rules if r.effect == "level"]
    set_monotone = scale.weighted is None and all(a >= b for a, b in itertools.pairwise(set_levels))
    rule_facts: set[str] = set()
    for rule in scale.rules:
        polarity = _rule_polarity(rule, scale, set_monotone)
        found: dict[str, int] = {}
        rule.when.directions(1, found)
        for fact, d in found.items():
            _merge_direction(directions, fact, d * polarity)
        rule.when.breakpoints(breakpoints)
        rule_facts |= set(found)
    category_facts: set[str] = set()
    overrides: set[str] = set()
    table_only: dict[str, list[Category]] = {}
    for category in scale.weighted.categories if scale.weighted else ():
        category_facts.add(category.fact)
        overrides |= {s.fact for s in category.sources[:-1]}
        if category.band_fact:
            breakpoints.setdefault(category.fact, set()).update(b for b, _ in category.bands)
        if category.fact in rule_facts:
            _merge_direction(directions, category.fact, _category_direction(category))
        else:
            table_only.setdefault(category.fact, []).append(category)
    variables: dict[str, Variable] = {}
    for fact, categories in table_only.items():
        if fact in rule_facts:
            continue
        values = _candidates(fact, breakpoints.get(fact, set()), scale)

        def total(value: Any, cats: list[Category] = categories, f: str = fact) -> float:
            return sum(c.weight * (c.value_of({f: value}) or 0.0) for c in cats)

        variables[fact] = Variable(fact, "table", low=min(values, key=total), high=max(values, key=total))
    for fact, d in directions.items():
        points = breakpoints.get(fact, set())
        if d == 0:
            variables[fact] = Variable(fact, "enumerate", candidates=_candidates(fact, points, scale))
        else:
            least, most = _extremes(fact, points)
            variables[fact] = Variable(fact, "up" if d > 0 else "down", low=least if d > 0 else most, high=most if d > 0 else least)
    return _Plan(scale, variables, frozenset(category_facts), frozenset(overrides - category_facts - rule_facts))


def _merge_direction(into: dict[str, int], fact: str, d: int) -> None:
    if fact in into and into[fact] != d:
        into[fact] = 0
    else:
        into[fact] = d


# ---------------------------------------------------------------- evaluation


@dataclass
class _Outcome:
    score: float | None
    score_level: int
    level: int
    fired: list[Rule]


def _evaluate(scale: Scale, facts: Mapping[str, Any]) -> _Outcome:
    """The level of a complete assignment of the facts the scale reads."""
    score = None
    level = 0
    weighted = scale.weighted
    if weighted is not None:
        total = 0.0
        for category in weighted.categories:
            total += category.weight * (category.value_of(facts) or 0.0)  # type: ignore[arg-type]
        score = weighted.normalise(total)
        level = weighted.level_for(score)
    score_level = level
    fired = []
    ceilings: list[int] = []
    floors: list[int] = []
    set_done = False
    for rule in scale.rules:
        if rule.effect == "level" and set_done:
            continue
        if rule.when.evaluate(facts):
            fired.append(rule)
            if rule.effect == "level":
                level, set_done = rule.level, True
            elif rule.effect == "ceiling":
                ceilings.append(rule.level)
            else:
                floors.append(rule.level)
    if ceilings:
        level = min(level, *ceilings)
    if floors:
        level = max(level, *floors)
    return _Outcome(score, score_level, level, fired)


def _level(scale: Scale, facts: Mapping[str, Any]) -> int:
    return _evaluate(scale, facts).level


# ---------------------------------------------------------------- assessment


@dataclass
class Assessment:
    """The result of assessing facts on a scale; ``to_dict()`` is the public JSON shape."""

    scale: Scale
    facts: dict[str, Any]
    score: float | None
    rank: int
    reachable_max: int
    decisive_unknowns: list[str]
    contributions: list[dict[str, Any]]
    rules_fired: list[dict[str, Any]]
    score_level: int
    lang: str = "en"
    unknown: list[str] = field(default_factory=list)

    @property
    def level(self) -> dict[str, Any]:
        return self.scale.levels[self.rank].summary(self.lang)

    @property
    def classification(self) -> str | None:
        return self.facts.get("classification")

    @cached_property
    def explanation(self) -> str:
        return explain(self, self.lang)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale.id,
            "scale_version": self.scale.version,
            "score": self.score,
            "level": self.level,
            "reachable": {"min": self.rank, "max": self.reachable_max},
            "decisive_unknowns": self.decisive_unknowns,
            "classification": self.classification,
            "contributions": self.contributions,
            "rules_fired": self.rules_fired,
            "explanation": self.explanation,
            "score_level": self.score_level,
            "unknown_facts": self.unknown,
        }


def assess(scale: Scale, facts: Mapping[str, Any], lang: str = "en", *, validated: bool = False) -> Assessment:
    """Assess ``facts`` on ``scale``. Raises FactsError for facts outside the vocabulary."""
    known = dict(facts) if validated else validate_facts(facts, extra_sectors=scale.national_sectors)
    cls = known.get("classification")
    if cls is not None and cls not in scale.taxonomy_types:
        raise FactsError([("classification", f"{cls!r} is not in the taxonomy of {scale.id} (RSIT class:type, e.g. availability:ddos)")])
    plan = plan_for(scale)
    unknown = [v for f, v in plan.variables.items() if f not in known]
    lowest = dict(known)
    highest = dict(known)
    enumerated = []
    for var in unknown:
        if var.mode == "enumerate":
            enumerated.append(var)
        else:
            lowest[var.fact] = var.low
            highest[var.fact] = var.high
    if enumerated:
        lowest = min(_completions(lowest, enumerated), key=lambda f: _level(scale, f))
        top = max(_level(scale, f) for f in _completions(highest, enumerated))
    else:
        top = _level(scale, highest)
    outcome = _evaluate(scale, lowest)
    decisive = []
    if top > outcome.level:
        for var in unknown:
            tries = var.candidates if var.mode == "enumerate" else (var.high,)
            for value in tries:
                if _level(scale, {**lowest, var.fact: value}) != outcome.level:
                    decisive.append(var.fact)
                    break
    return Assessment(
        scale=scale,
        facts=known,
        score=outcome.score,
        rank=outcome.level,
        reachable_max=top,
        decisive_unknowns=sorted(decisive),
        contributions=_contributions(scale, known, lowest),
        rules_fired=[_fired(r) for r in outcome.fired],
        score_level=outcome.score_level,
        lang=lang,
        unknown=sorted(v.fact for v in unknown),
    )


def _completions(base: dict[str, Any], variables: list[Variable]) -> Iterable[dict[str, Any]]:
    for values in itertools.product(*(v.candidates for v in variables)):
        yield {**base, **{v.fact: value for v, value in zip(variables, values, strict=True)}}


def _contributions(scale: Scale, known: Mapping[str, Any], lowest: Mapping[str, Any]) -> list[dict[str, Any]]:
    weighted = scale.weighted
    if weighted is None:
        return []
    span = weighted.maximum - weighted.minimum
    out = []
    for c in weighted.categories:
        points = c.value_of(lowest) or 0.0
        source = next((f for f in c.facts if known.get(f) is not None), None)
        out.append(
            {
                "category": c.id,
                "name": c.name.get_for("en"),
                "fact": source or c.fact,
                "value": known.get(source) if source else None,
                "known": source is not None,
                "points": points,
                "weight": c.weight,
                "contribution": 100.0 * c.weight * points / span,
            }
        )
    return out


def _fired(rule: Rule) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.name.get_for("en"), "effect": rule.effect, "level": rule.level}


def reachable_by_brute_force(scale: Scale, facts: Mapping[str, Any], domains: Mapping[str, Iterable[Any]]) -> tuple[int, int]:
    """Min and max level over every combination of ``domains`` for the unknown facts.

    For tests: checks the exact range of ``assess`` on small scales.
    """
    known = validate_facts(facts, extra_sectors=scale.national_sectors)
    names = [n for n in domains if n not in known]
    levels = [_level(scale, {**known, **dict(zip(names, combo, strict=True))}) for combo in itertools.product(*(list(domains[n]) for n in names))]
    return min(levels), max(levels)

