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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
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
    variables: dict[str, Variable]  # by fact, sorted by name
    categories: list[tuple[float, Callable[[Mapping[str, Any]], float]]]  # weight, value getter
    categories_of: dict[str, list[int]]  # fact -> indices of the categories reading it
    rules_of: dict[str, list[int]]  # fact -> indices of the rules reading it
    reads: tuple[str, ...]  # every fact the level depends on
    enumerated_scoreless: bool  # no enumerated fact feeds a weighted category
    tests: list[Callable[[Mapping[str, Any]], bool]]  # each rule's condition, compiled
    set_rules: list[tuple[int, int]]  # (rule index, level) of the rules of each effect, in order
    ceilings: list[tuple[int, int]]
    floors: list[tuple[int, int]]


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
    return (int(spec.minimum) if spec.kind == "int" else float(spec.minimum)), (
        int(top) if spec.kind == "int" else float(top)
    )


def _candidates(fact: str, breakpoints: set[Any], scale: Scale, in_categories: bool = True) -> tuple[Any, ...]:
    """Every value of ``fact`` that can make a difference to ``scale``.

    Values no rule names come first: they fire the fewest rules, so the search for
    the lowest level usually ends at the first. Rules can only tell an unnamed value
    of an unordered enumeration from another by ``==``, so one stands for all of
    them unless option tables value them.
    """
    spec = fact_specs()[fact]
    if spec.kind == "enum":
        every = [*spec.values, *(sorted(scale.national_sectors) if fact == "sector" else [])]
        unnamed = [v for v in every if v not in breakpoints]
        if not in_categories and not spec.ordered:
            unnamed = unnamed[:1]
        return (*unnamed, *(v for v in every if v in breakpoints))
    if spec.kind == "bool":
        return (False, True)
    if spec.kind in ("string", "country"):
        named = sorted(str(b) for b in breakpoints)
        pool = sorted(scale.taxonomy_types) if fact == "classification" else ["ZZ"]
        other = [next(v for v in pool if v not in named)] if any(v not in named for v in pool) else []
        return (*named, *other)
    if spec.kind == "list":
        empty, full = _extremes(fact, breakpoints)
        return (empty, full, *([b] for b in sorted(str(b) for b in breakpoints)))
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
    table_only: dict[str, list[Category]] = {}
    for category in scale.weighted.categories if scale.weighted else ():
        if category.band_fact:
            breakpoints.setdefault(category.fact, set()).update(b for b, _ in category.bands)
        if category.fact in rule_facts:
            _merge_direction(directions, category.fact, _category_direction(category))
        else:
            table_only.setdefault(category.fact, []).append(category)
    variables: dict[str, Variable] = {}
    for fact, readers in table_only.items():
        if fact in rule_facts:
            continue
        values = _candidates(fact, breakpoints.get(fact, set()), scale)

        def total(value: Any, cats: list[Category] = readers, f: str = fact) -> float:
            return sum(c.weight * (c.value_of({f: value}) or 0.0) for c in cats)

        variables[fact] = Variable(fact, "table", low=min(values, key=total), high=max(values, key=total))
    for fact, d in directions.items():
        points = breakpoints.get(fact, set())
        if d == 0:
            in_categories = any(fact in c.facts for c in scale.weighted.categories) if scale.weighted else False
            variables[fact] = Variable(fact, "enumerate", candidates=_candidates(fact, points, scale, in_categories))
        else:
            least, most = _extremes(fact, points)
            variables[fact] = Variable(
                fact, "up" if d > 0 else "down", low=least if d > 0 else most, high=most if d > 0 else least
            )
    categories: tuple[Category, ...] = scale.weighted.categories if scale.weighted else ()
    categories_of: dict[str, list[int]] = {}
    for i, c in enumerate(categories):
        for f in c.facts:
            categories_of.setdefault(f, []).append(i)
    rules_of: dict[str, list[int]] = {}
    for i, rule in enumerate(scale.rules):
        for f in rule.when.facts():
            rules_of.setdefault(f, []).append(i)
    return _Plan(
        scale,
        dict(sorted(variables.items())),
        [(c.weight, _getter(c)) for c in categories],
        categories_of,
        rules_of,
        tuple(sorted(set(categories_of) | set(rules_of))),
        not any(v.mode == "enumerate" and v.fact in categories_of for v in variables.values()),
        [rule.when.compile() for rule in scale.rules],
        *(
            [(i, r.level) for i, r in enumerate(scale.rules) if r.effect == effect]
            for effect in ("level", "ceiling", "floor")
        ),
    )


def _getter(category: Category) -> Callable[[Mapping[str, Any]], float]:
    """A fast function giving the category's option value (0 when unknown)."""
    if len(category.sources) == 1:
        fact, options = category.sources[0].fact, category.sources[0].options
        return lambda facts: options.get(facts.get(fact), 0.0)  # type: ignore[arg-type]
    if category.sources:
        sources = [(source.fact, source.options) for source in category.sources]

        def first_known(facts: Mapping[str, Any]) -> float:
            for fact, options in sources:
                value = facts.get(fact)
                if value is not None:
                    return options.get(value, 0.0)
            return 0.0

        return first_known
    return lambda facts: category.value_of(facts) or 0.0


def _merge_direction(into: dict[str, int], fact: str, d: int) -> None:
    if fact in into and into[fact] != d:
        into[fact] = 0
    else:
        into[fact] = d


# ---------------------------------------------------------------- evaluation
#
# A complete assignment is evaluated in two parts, so that changing one fact only
# recomputes what reads it: the weighted value of each category, and the truth of
# each rule. ``_combine`` turns the parts into score and level.


def _parts(plan: _Plan, facts: Mapping[str, Any]) -> tuple[list[float], list[bool]]:
    return [w * get(facts) for w, get in plan.categories], [test(facts) for test in plan.tests]


def _combine(plan: _Plan, total: float, truth: list[bool]) -> tuple[float | None, int, int]:
    """(score, score level, level) from the weighted total and the rules' truth."""
    score = None
    level = 0
    weighted = plan.scale.weighted
    if weighted is not None:
        score = weighted.normalise(total)
        level = weighted.level_for(score)
    score_level = level
    if True in truth:
        for i, rank in plan.set_rules:
            if truth[i]:
                level = rank
                break
        ceilings = [rank for i, rank in plan.ceilings if truth[i]]
        if ceilings:
            level = min(level, *ceilings)
        floors = [rank for i, rank in plan.floors if truth[i]]
        if floors:
            level = max(level, *floors)
    return score, score_level, level


def _level(plan: _Plan, facts: Mapping[str, Any]) -> int:
    values, truth = _parts(plan, facts)
    return _combine(plan, sum(values), truth)[2]


def _level_with(
    plan: _Plan, facts: dict[str, Any], values: list[float], truth: list[bool], fact: str, value: Any
) -> int:
    """The level when only ``fact`` changes to ``value`` from an evaluated assignment.

    ``facts`` is changed in place for the evaluation and restored before returning.
    """
    before = facts[fact]
    facts[fact] = value
    try:
        total = sum(values)
        for i in plan.categories_of.get(fact, ()):
            weight, get = plan.categories[i]
            total += weight * get(facts) - values[i]
        if fact in plan.rules_of:
            truth = list(truth)
            for i in plan.rules_of[fact]:
                truth[i] = plan.tests[i](facts)
        return _combine(plan, total, truth)[2]
    finally:
        facts[fact] = before


# ---------------------------------------------------------------- assessment


@dataclass
class Assessment:
    """The result of assessing facts on a scale; ``to_dict()`` is the public JSON shape.

    ``completed`` is the assignment the level was computed on: the known facts and
    every unknown one at its least severe value. Score, level and reachable range are
    computed at once; decisive unknowns, contributions, fired rules and the explanation
    are derived from ``completed`` on first use.
    """

    scale: Scale
    facts: dict[str, Any]
    completed: dict[str, Any]
    score: float | None
    rank: int
    score_level: int
    reachable_max: int
    values: list[float]  # each weighted category's weighted value in ``completed``
    truth: list[bool]  # each rule's truth in ``completed``
    unknown: list[str]
    assumed: list[str]
    lang: str = "en"

    @property
    def level(self) -> dict[str, Any]:
        return self.scale.levels[self.rank].summary(self.lang)

    @property
    def classification(self) -> str | None:
        return self.facts.get("classification")

    @cached_property
    def decisive_unknowns(self) -> list[str]:
        """The unknown facts that alone could change the level, the others staying least severe."""
        if self.reachable_max == self.rank:
            return []
        plan = plan_for(self.scale)
        completed = dict(self.completed)
        decisive = []
        for name in self.unknown:
            var = plan.variables[name]
            tries = var.candidates if var.mode == "enumerate" else (var.high,)
            if any(_level_with(plan, completed, self.values, self.truth, name, value) != self.rank for value in tries):
                decisive.append(name)
        return decisive

    @cached_property
    def contributions(self) -> list[dict[str, Any]]:
        """Each weighted category: the fact read, its value, points 0-100 and score points."""
        weighted = self.scale.weighted
        if weighted is None:
            return []
        scale_points = 100.0 / (weighted.maximum - weighted.minimum)
        facts = self.facts
        out = []
        for (cid, name, weight, sources, general), weighted_value in zip(
            _categories_in(self.scale, self.lang), self.values, strict=True
        ):
            source = next((f for f in sources if f in facts), general) if len(sources) > 1 else general
            known = source in facts
            out.append(
                {
                    "category": cid,
                    "name": name,
                    "fact": source,
                    "value": facts[source] if known else None,
                    "known": known,
                    "points": weighted_value / weight,
                    "weight": weight,
                    "contribution": weighted_value * scale_points,
                }
            )
        return out

    @cached_property
    def rules_fired(self) -> list[dict[str, Any]]:
        fired = [r for r, true in zip(self.scale.rules, self.truth, strict=True) if true]
        return [{"id": r.id, "name": r.name.get_for(self.lang), "effect": r.effect, "level": r.level} for r in fired]

    @cached_property
    def explanation(self) -> str:
        return explain(self)

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
            "assumed_facts": {f: self.facts[f] for f in self.assumed},
        }


@lru_cache(maxsize=256)
def _categories_in(scale: Scale, lang: str) -> list[tuple[str, str, float, tuple[str, ...], str]]:
    """Per weighted category, in ``lang``: id, name, weight, the facts it reads, its general fact."""
    categories = scale.weighted.categories if scale.weighted else ()
    return [(c.id, c.name.get_for(lang), c.weight, c.facts, c.fact) for c in categories]


def assess(scale: Scale, facts: Mapping[str, Any], lang: str = "en", *, validated: bool = False) -> Assessment:
    """Assess ``facts`` on ``scale``. Raises FactsError for facts outside the vocabulary.

    ``validated=True`` skips validation for facts that already passed ``validate_facts``.
    """
    known = dict(facts) if validated else validate_facts(facts, extra_sectors=scale.national_sectors)
    assumed = [f for f in scale.assumptions if f not in known]
    if assumed:
        known = {**scale.assumptions, **known}
    cls = known.get("classification")
    if cls is not None and cls not in scale.taxonomy_types:
        raise FactsError(
            [
                (
                    "classification",
                    f"{cls!r} is not in the taxonomy of {scale.id} (RSIT class:type, e.g. availability:ddos)",
                )
            ]
        )
    plan = plan_for(scale)
    unknown = [v for f, v in plan.variables.items() if f not in known]
    lowest = {f: known[f] for f in plan.reads if f in known}
    highest = dict(lowest)
    enumerated = []
    for var in unknown:
        if var.mode == "enumerate":
            enumerated.append(var)
        else:
            lowest[var.fact] = var.low
            highest[var.fact] = var.high
    if enumerated:
        lowest = _lowest_completion(plan, lowest, enumerated)
        top = _highest_level(plan, highest, enumerated)
    elif unknown:
        top = _level(plan, highest)
    values, truth = _parts(plan, lowest)
    score, score_level, rank = _combine(plan, sum(values), truth)
    if not unknown:
        top = rank
    return Assessment(
        scale=scale,
        facts=known,
        completed=lowest,
        score=score,
        rank=rank,
        score_level=score_level,
        reachable_max=top,
        values=values,
        truth=truth,
        unknown=[v.fact for v in unknown],
        assumed=assumed,
        lang=lang,
    )


def _lowest_completion(plan: _Plan, partial: dict[str, Any], enumerated: list[Variable]) -> dict[str, Any]:
    """The completion with the lowest level, then the lowest score (first in search order on ties).

    When the enumerated facts feed no weighted category every completion has the same
    score, so the search may stop at the first completion down at the certain floor.
    """
    bound = _certain_floor(plan, partial) if plan.enumerated_scoreless else -1
    best: dict[str, Any] = {}
    best_key = (math.inf, math.inf)
    for completion in _completions(partial, enumerated):
        values, truth = _parts(plan, completion)
        score, _, level = _combine(plan, sum(values), truth)
        key = (level, score if score is not None else 0.0)
        if key < best_key:
            best, best_key = completion, key
            if level <= bound:
                break
    return best


def _highest_level(plan: _Plan, partial: dict[str, Any], enumerated: list[Variable]) -> int:
    top = -1
    for completion in _completions(partial, enumerated):
        top = max(top, _level(plan, completion))
        if top == plan.scale.top:
            break
    return top


def _certain_floor(plan: _Plan, partial: dict[str, Any]) -> int:
    """The highest floor that fires whatever the missing facts turn out to be (Kleene logic)."""
    floors = [r.level for r in plan.scale.rules if r.effect == "floor" and r.when.evaluate(partial) is True]
    return max(floors, default=0)


def _completions(base: dict[str, Any], variables: list[Variable]) -> Iterable[dict[str, Any]]:
    for values in itertools.product(*(v.candidates for v in variables)):
        yield {**base, **{v.fact: value for v, value in zip(variables, values, strict=True)}}


def reachable_by_brute_force(
    scale: Scale, facts: Mapping[str, Any], domains: Mapping[str, Iterable[Any]]
) -> tuple[int, int]:
    """Min and max level over every combination of ``domains`` for the unknown facts.

    For tests: checks the exact range of ``assess`` on small scales.
    """
    known = validate_facts(facts, extra_sectors=scale.national_sectors)
    names = [n for n in domains if n not in known]
    plan = plan_for(scale)
    levels = [
        _level(plan, {**known, **dict(zip(names, combo, strict=True))})
        for combo in itertools.product(*(list(domains[n]) for n in names))
    ]
    return min(levels), max(levels)
