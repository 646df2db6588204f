"""The engine: determinism, monotonicity, and an exact reachable range (checked by brute force)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import nciss
from nciss.engine import reachable_by_brute_force
from nciss.facts import fact_specs
from nciss.scales import scale_from_definition
from nciss.tests.strategies import ORDERED, fact_records, raised, value_of

PRESETS = {s.id: s for s in nciss.list_scales()}

SMALL = yaml.safe_load(
    """
id: small
version: "1"
name: A small scale with every kind of rule
levels:
  - {name: Zero, colour: "#ffffff"}
  - {name: One, colour: "#00ff00"}
  - {name: Two, colour: "#ffff00"}
  - {name: Three, colour: "#ff0000"}
weighted:
  thresholds: [{level: 1, from: 30}, {level: 2, from: 60}, {level: 3, from: 90}]
  categories:
    - {id: fi, weight: 3, fact: functional_impact,
       options: {no-impact: 0, no-impact-to-services: 10, minimal-non-critical: 20, minimal-critical: 40,
                 significant-non-critical: 50, denial-non-critical: 60, significant-critical: 80, denial-critical: 100}}
    - {id: sector, weight: 1, fact: sector,
       options: {energy: 100, transport: 70, banking: 30, financial: 30, health: 60, drinking-water: 60,
                 waste-water: 60, digital-infrastructure: 70, ict-services: 80, public-administration: 40, space: 20,
                 courier: 20, waste-management: 20, chemical: 20, food: 20, manufacturing: 40,
                 digital-providers: 80, research: 10, other: 0}}
rules:
  - id: cloud-outage
    when: {entity_type: cloud, outage_minutes: "> 30"}
    floor: 2
  - id: money
    when: {financial_loss_eur: "> min(500000, 0.05 * annual_turnover_eur)", not: {scheduled_maintenance: true}}
    floor: 1
  - id: prep-only
    when: {observed_activity: "<= prepare"}
    ceiling: 1
  - id: not-a-dns
    when: {entity_type: "!= dns", functional_impact: denial-critical}
    floor: 3
"""
)

SMALL_DOMAINS: dict[str, list[Any]] = {
    "functional_impact": list(fact_specs()["functional_impact"].values),
    "sector": ["energy", "banking", "research", "other"],
    "entity_type": ["cloud", "dns", "other"],
    "outage_minutes": [0, 30, 31, 1_000_000],
    "financial_loss_eur": [0, 25_000, 499_999, 500_001, 1e15],
    "annual_turnover_eur": [0, 100_000, 1_000_000, 1e15],
    "scheduled_maintenance": [False, True],
    "observed_activity": list(fact_specs()["observed_activity"].values),
}


@pytest.fixture(scope="module")
def small() -> nciss.Scale:
    return scale_from_definition(SMALL)


def test_it_gives_the_same_assessment_every_time() -> None:
    facts = {"functional_impact": "significant-critical", "sector": "energy", "countries_affected": ["KZ"]}
    for scale in PRESETS.values():
        first = nciss.assess(scale, facts).to_dict()
        assert all(nciss.assess(scale, facts).to_dict() == first for _ in range(3))


@settings(max_examples=300, deadline=None)
@given(facts=fact_records(), scale_id=st.sampled_from(sorted(PRESETS)))
def test_it_keeps_the_level_inside_the_reachable_range(facts: dict[str, Any], scale_id: str) -> None:
    a = nciss.assess(PRESETS[scale_id], facts)
    d = a.to_dict()
    assert d["level"]["rank"] == d["reachable"]["min"] <= d["reachable"]["max"] <= PRESETS[scale_id].top
    assert set(d["decisive_unknowns"]) <= set(d["unknown_facts"])
    assert d["decisive_unknowns"] == sorted(d["decisive_unknowns"])


@settings(max_examples=600, deadline=None)
@given(data=st.data(), scale_id=st.sampled_from(sorted(PRESETS)), fact=st.sampled_from(ORDERED))
def test_it_never_lowers_the_level_when_an_ordered_fact_rises(data: st.DataObject, scale_id: str, fact: str) -> None:
    facts = data.draw(fact_records())
    spec = fact_specs()[fact]
    if fact not in facts:
        facts[fact] = data.draw(value_of(spec))
    worse = {**facts, fact: raised(spec, facts[fact], data.draw)}
    scale = PRESETS[scale_id]
    assert nciss.assess(scale, worse).rank >= nciss.assess(scale, facts).rank


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_it_finds_the_exact_reachable_range_of_a_scale_with_every_kind_of_rule(
    small: nciss.Scale, data: st.DataObject
) -> None:
    known = {
        name: data.draw(st.sampled_from(values)) for name, values in SMALL_DOMAINS.items() if data.draw(st.booleans())
    }
    a = nciss.assess(small, known)
    assert (a.rank, a.reachable_max) == reachable_by_brute_force(small, known, SMALL_DOMAINS)


def test_it_names_exactly_the_unknown_facts_that_alone_could_change_the_level(small: nciss.Scale) -> None:
    for known_names in itertools.combinations(SMALL_DOMAINS, 5):
        known = {n: SMALL_DOMAINS[n][len(SMALL_DOMAINS[n]) // 2] for n in known_names}
        a = nciss.assess(small, known)
        expected = []
        for name in sorted(set(SMALL_DOMAINS) - set(known)):
            others = {k: v for k, v in a.completed.items() if k != name}
            levels = {
                nciss.assess(small, {**known, **_least(small, others, known), name: v}).rank
                for v in SMALL_DOMAINS[name]
            }
            if levels != {a.rank}:
                expected.append(name)
        assert a.decisive_unknowns == expected, known


def _least(scale: nciss.Scale, completed: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
    """The least severe values the engine chose for the other unknown facts."""
    return {k: v for k, v in completed.items() if k not in known and k in SMALL_DOMAINS}


def test_it_reads_an_early_report_as_low_but_possibly_severe() -> None:
    a = nciss.assess(
        PRESETS["cisa-nciss"],
        {"functional_impact": "significant-critical", "observed_activity": "presence", "actor": "apt"},
    )
    assert a.rank < a.reachable_max
    assert "information_impact" in a.decisive_unknowns or "potential_impact" in a.decisive_unknowns
    assert "Could be up to" in a.explanation


def test_it_says_nothing_is_decisive_when_the_level_is_settled() -> None:
    a = nciss.assess(
        PRESETS["cisa-nciss"],
        {
            "functional_impact": "denial-critical",
            "observed_activity": "effect",
            "location": "safety-systems",
            "actor": "apt-targeted",
            "information_impact": "destruction-critical",
            "recoverability": "not-recoverable",
            "potential_impact": "severe",
        },
    )
    assert a.reachable_max == a.rank == 5
    assert a.decisive_unknowns == []


@pytest.mark.parametrize(
    ("facts", "path", "reason"),
    [
        ({"fatality": 1}, "fatality", "unknown fact"),
        ({"functional_impact": "catastrophic"}, "functional_impact", "is not one of"),
        ({"users_affected": -3}, "users_affected", "must not be negative"),
        ({"population_affected_share": 1.5}, "population_affected_share", "between 0 and 1"),
        ({"outage_minutes": 2.5}, "outage_minutes", "whole number"),
        ({"malicious": "yes"}, "malicious", "true or false"),
        ({"countries_affected": "KZ"}, "countries_affected", "expected a list"),
        ({"detected_at": "2026-10-17T06:40:00"}, "detected_at", "offset"),
        ({"classification": "availability:flood"}, "classification", "not in the taxonomy"),
    ],
)
def test_it_rejects_facts_outside_the_vocabulary_with_the_field_and_the_reason(
    facts: dict[str, Any], path: str, reason: str
) -> None:
    with pytest.raises(nciss.FactsError) as raised_error:
        nciss.assess(PRESETS["cisa-nciss"], facts)
    assert any(p == path and reason in r for p, r in raised_error.value.errors), raised_error.value.errors


def test_it_lists_every_bad_fact_at_once() -> None:
    with pytest.raises(nciss.FactsError) as raised_error:
        nciss.validate_facts({"fatality": 1, "users_affected": -1, "actor": "martians"})
    assert [p for p, _ in raised_error.value.errors] == ["fatality", "users_affected", "actor"]


def test_it_treats_null_as_not_known() -> None:
    scale = PRESETS["cisa-nciss"]
    assert (
        nciss.assess(scale, {"actor": None, "sector": "energy"}).to_dict()
        == nciss.assess(scale, {"sector": "energy"}).to_dict()
    )


def test_it_uses_a_scale_assumption_only_when_the_report_is_silent(small: nciss.Scale) -> None:
    definition = {**SMALL, "id": "assuming", "assume": {"scheduled_maintenance": False}}
    scale = scale_from_definition(definition)
    facts = {"financial_loss_eur": 600_000, "observed_activity": "effect"}
    assert nciss.assess(small, facts).rank == 0
    assumed = nciss.assess(scale, facts)
    assert assumed.rank == 1
    assert assumed.to_dict()["assumed_facts"] == {"scheduled_maintenance": False}
    assert "Assumed" in assumed.explanation
    assert nciss.assess(scale, {**facts, "scheduled_maintenance": True}).rank == 0


def test_it_explains_in_russian_and_uzbek() -> None:
    scale = PRESETS["cisa-nciss"]
    facts = {"functional_impact": "denial-critical", "sector": "energy"}
    assert "уровень" in nciss.assess(scale, facts, lang="ru").explanation
    assert "daraja" in nciss.assess(scale, facts, lang="uz").explanation


def test_the_facts_schema_accepts_the_facts_md_example_and_rejects_a_misspelt_field() -> None:
    import jsonschema

    example = {
        "classification": "information-content-security:unauthorised-information-modification",
        "malicious": True,
        "sector": "energy",
        "entity_criticality": "critical",
        "entity_size": "large",
        "functional_impact": "denial-critical",
        "observed_activity": "effect",
        "location": "critical-system-management",
        "actor": "criminal",
        "information_impact": "destruction-non-critical",
        "recoverability": "extended",
        "potential_impact": "high",
        "outage_minutes": 540,
        "users_affected": 240000,
        "countries_affected": ["KZ"],
        "detected_at": "2026-10-17T06:40:00+05:00",
    }
    schema = nciss.facts_json_schema()
    jsonschema.validate(example, schema)
    nciss.validate_facts(example)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"fatality": 1}, schema)


@settings(max_examples=150, deadline=None)
@given(records=st.lists(fact_records(), min_size=1, max_size=40), scale_id=st.sampled_from(sorted(PRESETS)))
def test_the_batch_path_agrees_with_assess_record_by_record(records: list[dict[str, Any]], scale_id: str) -> None:
    import math

    from nciss.batch import assess_batch, encode

    scale = PRESETS[scale_id]
    result = assess_batch(scale, *encode(scale, records))
    for i, facts in enumerate(records):
        a = nciss.assess(scale, facts)
        assert (a.rank, a.reachable_max) == (result.level[i], result.reachable_max[i])
        assert (a.score is None and math.isnan(result.score[i])) or a.score == pytest.approx(result.score[i])


@settings(max_examples=300, deadline=None)
@given(facts=st.fixed_dictionaries({s.name: value_of(s) for s in fact_specs().values()}))
def test_compiled_conditions_agree_with_the_reference_evaluation(facts: dict[str, Any]) -> None:
    clean = nciss.validate_facts(facts)
    for scale in PRESETS.values():
        for rule in scale.rules:
            assert rule.when.compile()(clean) == rule.when.evaluate(clean), rule.id


@settings(max_examples=200, deadline=None)
@given(facts=st.fixed_dictionaries({s.name: value_of(s) for s in fact_specs().values()}), data=st.data())
def test_a_condition_specialised_to_some_facts_decides_as_the_whole_condition_does(
    facts: dict[str, Any], data: st.DataObject
) -> None:
    clean = nciss.validate_facts(facts)
    fixed_names = data.draw(st.sets(st.sampled_from(sorted(clean))))
    fixed = {k: clean[k] for k in fixed_names}
    for scale in PRESETS.values():
        for rule in scale.rules:
            special = rule.when.specialise(fixed)
            expected = rule.when.evaluate(clean)
            assert (special if isinstance(special, bool) else special.evaluate(clean)) == expected, rule.id


def test_the_batch_path_tries_only_the_facts_unknown_in_each_record() -> None:
    from nciss.batch import assess_batch, encode

    scale = PRESETS["eu-nis2"]
    records: list[dict[str, Any]] = [
        {"entity_type": "search-engine", "users_unavailable": 2_000_000},  # classification unknown
        {"classification": "availability:outage", "users_unavailable": 2_000_000},  # entity type unknown
        {"users_unavailable": 2_000_000},  # both unknown
    ]
    result = assess_batch(scale, *encode(scale, records))
    assert [(nciss.assess(scale, r).rank, nciss.assess(scale, r).reachable_max) for r in records] == list(
        zip(result.level, result.reachable_max, strict=True)
    )
    assert list(result.level) == [1, 0, 0]
