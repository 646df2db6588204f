"""Golden tests of the four presets: what a user of each published scheme would check.

The table-driven cases are the presets' shipped reference cases,
``nciss/data/reference-cases/<scale>.yaml`` (facts -> expected rank, with a one-line why); the tests below pin the headline cases by name, the crosswalk tables and
the translations.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest

import nciss
from nciss.calibration import reference_case_scales, reference_cases
from nciss.facts import NOT_SEVERITY, fact_specs
from nciss.tests.shared import cisa_case_facts
from nciss.texts import LANGUAGES

PRESETS = ("osce-reference", "cisa-nciss", "uk-ncsc", "eu-nis2")


def rank(scale_id: str, facts: dict[str, Any]) -> int:
    return nciss.assess(nciss.load_scale(scale_id), facts).rank


# ---------------------------------------------------------------- table-driven golden cases


def _golden_cases() -> list[Any]:
    out = []
    for scale_id in reference_case_scales():
        for i, case in enumerate(reference_cases(scale_id)):
            out.append(pytest.param(scale_id, case.to_dict(), id=f"{scale_id}[{i}] {case.why[:60]}"))
    return out


@pytest.mark.parametrize(("scale_id", "case"), _golden_cases())
def test_it_gives_each_golden_case_its_published_level(scale_id: str, case: dict[str, Any]) -> None:
    a = nciss.assess(nciss.load_scale(scale_id), case["facts"])
    assert a.rank == case["rank"], f"{case['why']}: got rank {a.rank}, rules {[r['id'] for r in a.rules_fired]}"
    if "score" in case:
        assert a.score is not None and round(a.score, 1) == case["score"], case["why"]
    if "max" in case:
        assert a.reachable_max == case["max"], case["why"]


def test_it_has_golden_cases_for_every_preset() -> None:
    assert set(reference_case_scales()) == set(PRESETS)
    assert all(reference_cases(scale_id) for scale_id in PRESETS)


# ---------------------------------------------------------------- CISA NCISS

NCISS_EXAMPLE_1 = cisa_case_facts(38.0)
NCISS_EXAMPLE_2 = cisa_case_facts(93.5)


def test_it_scores_the_first_nciss_example_38_and_medium() -> None:
    a = nciss.assess(nciss.load_scale("cisa-nciss"), NCISS_EXAMPLE_1)
    assert a.score is not None and round(a.score, 1) == 38.0
    assert a.level["name"] == "Medium"
    assert a.reachable_max == a.rank  # every category known: no doubt left


def test_it_scores_the_second_nciss_example_93_5_and_emergency() -> None:
    a = nciss.assess(nciss.load_scale("cisa-nciss"), NCISS_EXAMPLE_2)
    assert a.score is not None and round(a.score, 1) == 93.5
    assert a.level == {"rank": 5, "name": "Emergency", "colour": "#000000"}


def test_it_reports_the_nciss_score_unrounded() -> None:
    a = nciss.assess(nciss.load_scale("cisa-nciss"), NCISS_EXAMPLE_1)
    assert a.score == pytest.approx(100 * (1495 - 325) / (3400 - 325))


# ---------------------------------------------------------------- EU NIS2


def test_it_finds_a_cloud_provider_down_31_minutes_significant_and_29_not() -> None:
    assert rank("eu-nis2", {"entity_type": "cloud", "outage_minutes": 31}) == 1
    assert rank("eu-nis2", {"entity_type": "cloud", "outage_minutes": 29}) == 0


def test_it_finds_a_dns_provider_down_31_minutes_significant() -> None:
    assert rank("eu-nis2", {"entity_type": "dns", "outage_minutes": 31}) == 1
    assert rank("eu-nis2", {"entity_type": "dns", "outage_minutes": 30}) == 0


def test_it_finds_a_trust_service_down_21_minutes_significant() -> None:
    assert rank("eu-nis2", {"entity_type": "trust-service", "outage_minutes": 21}) == 1
    assert rank("eu-nis2", {"entity_type": "trust-service", "outage_minutes": 20}) == 0


def test_it_applies_five_percent_of_a_small_turnover() -> None:
    # 5 % of EUR 1 million is EUR 50 000, below the EUR 500 000 cap
    assert rank("eu-nis2", {"financial_loss_eur": 50_001, "annual_turnover_eur": 1_000_000}) == 1
    assert rank("eu-nis2", {"financial_loss_eur": 50_000, "annual_turnover_eur": 1_000_000}) == 0


def test_it_caps_the_financial_threshold_at_500k_for_a_large_turnover() -> None:
    # 5 % of EUR 100 million would be EUR 5 million; the lower EUR 500 000 applies
    assert rank("eu-nis2", {"financial_loss_eur": 500_001, "annual_turnover_eur": 100_000_000}) == 1
    assert rank("eu-nis2", {"financial_loss_eur": 499_999, "annual_turnover_eur": 100_000_000}) == 0


def test_it_shows_the_turnover_as_decisive_when_a_smaller_loss_could_still_be_significant() -> None:
    a = nciss.assess(nciss.load_scale("eu-nis2"), {"financial_loss_eur": 300_000})
    assert (a.rank, a.reachable_max) == (0, 1)
    assert "annual_turnover_eur" in a.decisive_unknowns


def test_it_excludes_scheduled_maintenance_from_significance() -> None:
    planned = {"entity_type": "cloud", "outage_minutes": 240, "scheduled_maintenance": True}
    assert rank("eu-nis2", planned) == 0
    assert rank("eu-nis2", {**planned, "scheduled_maintenance": False}) == 1


def test_it_assumes_no_maintenance_when_the_report_does_not_say_and_says_so() -> None:
    a = nciss.assess(nciss.load_scale("eu-nis2"), {"entity_type": "cloud", "outage_minutes": 31})
    assert a.rank == 1
    assert a.to_dict()["assumed_facts"] == {"scheduled_maintenance": False}


def test_it_counts_recurring_incidents_from_the_second_occurrence() -> None:
    facts = {"recurrences_6_months": 1, "recurrence_loss_eur": 600_000, "financial_loss_eur": 300_000}
    assert rank("eu-nis2", facts) == 1
    assert rank("eu-nis2", {**facts, "recurrences_6_months": 0, "annual_turnover_eur": 1e9}) == 0


def test_it_sets_the_nis2_deadlines_24h_72h_and_one_month() -> None:
    regime = nciss.load_scale("eu-nis2").regime
    assert regime is not None and regime.from_level == 1
    deadlines = {(d.id, str(d.within), d.after) for d in regime.deadlines}
    assert deadlines == {
        ("early-warning", "24h", "detected_at"),
        ("notification", "72h", "detected_at"),
        ("notification", "24h", "detected_at"),
        ("final-report", "1mo", "notification"),
    }
    trust = {"entity_type": "trust-service"}
    notifications = {
        str(d.within): d.when.evaluate(trust) for d in regime.deadlines if d.id == "notification" and d.when
    }
    assert notifications == {"72h": False, "24h": True}


# ---------------------------------------------------------------- UK NCSC


def test_it_makes_a_death_uk_category_1_and_at_least_severe_on_the_reference_scale() -> None:
    uk = nciss.assess(nciss.load_scale("uk-ncsc"), {"fatalities": 1})
    assert uk.rank == 5
    assert uk.level["name"] == "Category 1: National cyber emergency"
    assert rank("osce-reference", {"fatalities": 1}) >= 4
    assert rank("eu-nis2", {"fatalities": 1}) == 1


def test_it_makes_wannacry_at_the_nhs_uk_category_2() -> None:
    wannacry = {
        "classification": "malicious-code:infected-system",
        "malicious": True,
        "sector": "health",
        "entity_size": "large",
        "entity_criticality": "essential",
        "functional_impact": "denial-critical",
        "observed_activity": "effect",
        "recoverability": "extended",
        "outage_minutes": 2880,
        "fatalities": 0,
        "population_affected_share": 0.001,
        "countries_affected": ["ES", "DE", "RU"],
    }
    a = nciss.assess(nciss.load_scale("uk-ncsc"), wannacry)
    assert a.rank == 4
    assert a.level["name"] == "Category 2: Highly significant incident"
    assert "cat2-essential-services" in [r["id"] for r in a.rules_fired]


def test_it_never_lowers_a_uk_category_as_the_victim_grows() -> None:
    impact = {"functional_impact": "significant-critical", "observed_activity": "effect"}
    sizes = fact_specs()["entity_size"].values
    ranks = [rank("uk-ncsc", {**impact, "entity_size": s}) for s in sizes]
    assert ranks == sorted(ranks)
    assert ranks[0] == 0 and ranks[-1] == 4  # an individual: Category 6; central government: Category 2


# ---------------------------------------------------------------- OSCE reference


def test_it_raises_a_cross_border_incident_to_at_least_medium() -> None:
    quiet = {
        "functional_impact": "no-impact-to-services",
        "observed_activity": "engage",
        "information_impact": "no-impact",
    }
    assert rank("osce-reference", quiet) == 0
    assert rank("osce-reference", {**quiet, "countries_affected": ["KZ"]}) == 2
    assert rank("osce-reference", {**quiet, "countries_affected": []}) == 0


def test_it_caps_preparation_only_at_low_however_important_the_target() -> None:
    recon = {
        "observed_activity": "prepare",
        "functional_impact": "no-impact",
        "information_impact": "no-impact",
        "entity_criticality": "critical",
        "potential_impact": "severe",
        "actor": "apt-targeted",
        "population_affected_share": 0.2,
    }
    a = nciss.assess(nciss.load_scale("osce-reference"), recon)
    assert a.score_level >= 2  # the score alone would say more ...
    assert a.rank == 1  # ... but nothing has happened yet
    assert rank("osce-reference", {**recon, "observed_activity": "engage"}) >= 2


def test_it_keeps_the_reference_floors_of_the_contract() -> None:
    assert rank("osce-reference", {"fatalities": 1}) >= 4
    national = {
        "population_affected_share": 0.1,
        "entity_criticality": "essential",
        "functional_impact": "significant-critical",
    }
    assert rank("osce-reference", national) >= 4
    assert rank("osce-reference", {"entity_criticality": "critical", "functional_impact": "denial-critical"}) >= 3
    assert rank("osce-reference", {"countries_affected": ["UZ"]}) >= 2


def test_it_puts_routine_incidents_at_baseline_or_low() -> None:
    cases = reference_cases("osce-reference")
    routine = [c for c in cases if any(w in c.why for w in ("phishing", "workstation", "scan", "DDoS"))]
    assert len(routine) >= 4
    assert all(rank("osce-reference", c.facts) <= 1 for c in routine)


def test_it_uses_the_six_shared_colours_on_the_reference_scale() -> None:
    levels = nciss.load_scale("osce-reference").levels
    assert [lv.colour for lv in levels] == ["#ffffff", "#339900", "#fcee21", "#ffc000", "#cc0033", "#000000"]
    assert [lv.name["en"] for lv in levels] == ["Baseline", "Low", "Medium", "High", "Severe", "Emergency"]
    assert [lv.name["uz"] for lv in levels] == ["Bazaviy", "Past", "O'rta", "Yuqori", "Og'ir", "Favqulodda"]


# ---------------------------------------------------------------- every preset


def test_it_loads_every_preset_with_no_warnings() -> None:
    scales = nciss.list_scales()
    assert [s.id for s in scales] == list(PRESETS)
    assert {s.id: s.warnings for s in scales} == {i: () for i in PRESETS}


def _texts(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every translatable text of a definition: mappings with an `en` key."""
    out: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        if "en" in node and all(isinstance(v, str) for v in node.values()):
            return [(path, node)]
        for k, v in node.items():
            out += _texts(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _texts(v, f"{path}[{i}]")
    return out


@pytest.mark.parametrize("scale_id", PRESETS)
def test_it_translates_every_text_of_every_preset(scale_id: str) -> None:
    definition = nciss.load_scale(scale_id).definition
    texts = _texts(definition)
    assert len(texts) > 20
    missing = [p for p, t in texts if not all(t.get(lang, "").strip() for lang in LANGUAGES)]
    assert missing == []
    for rule in definition.get("rules", []):  # rule names and rationales are translated, not bare strings
        assert isinstance(rule["name"], dict) and isinstance(rule["rationale"], dict), rule["id"]


@pytest.mark.parametrize("source_id", PRESETS)
def test_it_crosswalks_every_level_to_every_other_preset(source_id: str) -> None:
    source = nciss.load_scale(source_id)
    assert set(source.crosswalks) == set(PRESETS) - {source_id}
    for target_id, rows in source.crosswalks.items():
        target = nciss.load_scale(target_id)
        assert sorted(r.source for r in rows) == list(range(len(source.levels)))
        for r in rows:
            assert 0 <= r.min <= r.max <= target.top, (source_id, target_id, r.source)
            assert r.rationale.get("en") and r.rationale.get("ru") and r.rationale.get("uz")
        # a higher source level never maps to a lower range
        ordered = sorted(rows, key=lambda r: r.source)
        assert all(a.min <= b.min and a.max <= b.max for a, b in itertools.pairwise(ordered))
        # both ends of the target scale are reachable
        assert ordered[0].min == 0 and ordered[-1].max == target.top


def test_it_crosswalks_both_ways_consistently() -> None:
    scales = {s.id: s for s in nciss.list_scales()}
    for a, source in scales.items():
        for b in source.crosswalks:
            for row in source.crosswalks[b]:
                for level in range(row.min, row.max + 1):
                    back = nciss.crosswalk(scales[b], a, level)
                    assert back.min <= row.source <= back.max, (
                        f"{a} {row.source} -> {b} {level}, but back {back.min}..{back.max}"
                    )


def test_it_reads_uk_category_2_as_high_to_emergency_on_nciss() -> None:
    row = nciss.crosswalk(nciss.load_scale("uk-ncsc"), "cisa-nciss", "Category 2: Highly significant incident")
    assert (row.min, row.max) == (3, 5)
    assert "WannaCry" in row.to_dict()["rationale"]
    assert row.to_dict("ru")["rationale"].startswith("Серьёзное")


def test_it_never_lowers_a_level_when_an_ordered_fact_rises_on_any_preset() -> None:
    """A seeded sample of the property (the exhaustive property tests live elsewhere)."""
    specs = fact_specs()
    numbers: dict[str, list[Any]] = {
        "outage_minutes": [0, 1, 20, 21, 30, 31, 1440],
        "outage_minutes_week": [0, 60, 61],
        "degraded_minutes": [0, 1, 60, 61],
        "users_affected": [0, 100, 10_000, 1_000_000],
        "users_unavailable": [0, 1_000_001],
        "users_degraded": [0, 200_001, 1_000_001],
        "users_data_compromised": [0, 101, 1_000_001],
        "users_affected_share": [0, 0.002, 0.02, 0.06],
        "population_affected_share": [0, 0.001, 0.05, 0.1],
        "domains_affected": [0, 999, 1000],
        "domains_affected_share": [0, 0.01, 0.02],
        "financial_loss_eur": [0, 50_000, 500_001, 2e7],
        "fatalities": [0, 1],
        "injuries": [0, 1],
        "recurrences_6_months": [0, 1],
        "recurrence_loss_eur": [0, 600_000],
        "organisations_affected": [1, 10],
    }
    ordered = [
        n
        for n, s in specs.items()
        if n not in NOT_SEVERITY and ((s.kind in ("enum", "bool") and s.ordered) or n in numbers)
    ]
    context = {
        "entity_type": list(specs["entity_type"].values),
        "sector": ["energy", "health", "other"],
        "root_cause": ["human-errors", "malicious-actions"],
    }
    rng = random.Random(20240)

    def pick(name: str, at_least: Any = None) -> Any:
        s = specs[name]
        values: list[Any] = list(s.values) if s.kind == "enum" else [False, True] if s.kind == "bool" else numbers[name]
        if at_least is not None:
            values = values[values.index(at_least) :]
        return rng.choice(values)

    for scale in nciss.list_scales():
        for _ in range(300):
            facts = {n: pick(n) for n in ordered if rng.random() < 0.5}
            facts |= {n: rng.choice(v) for n, v in context.items() if rng.random() < 0.7}
            if rng.random() < 0.3:
                facts["countries_affected"] = ["KZ"]
            before = nciss.assess(scale, facts)
            assert before.rank <= before.reachable_max
            name = rng.choice([n for n in ordered if n in facts] or ordered)
            raised = {**facts, name: pick(name, facts.get(name))}
            assert nciss.assess(scale, raised).rank >= before.rank, (scale.id, facts, name, raised[name])


# ---------------------------------------------------------------- the documentation

DOCS = Path(__file__).resolve().parents[2] / "docs" / "scales"


@pytest.mark.parametrize("scale_id", PRESETS)
def test_it_documents_every_rule_category_and_crosswalk_row_of_each_preset(scale_id: str) -> None:
    scale = nciss.load_scale(scale_id)
    page = (DOCS / f"{scale_id}.md").read_text("utf-8")
    assert f"({scale_id}.md)" in (DOCS / "README.md").read_text("utf-8")
    for rule in scale.rules:
        assert f"`{rule.id}`" in page, rule.id
    for category in scale.weighted.categories if scale.weighted else ():
        assert category.id in page, category.id
    for target, rows in scale.crosswalks.items():
        table = page.split(f"### {scale_id} → {target}\n", 1)[1].split("\n\n", 1)[0]
        for row in rows:
            assert f"| {row.min}–{row.max} | {row.rationale['en']} |" in table, (target, row.source)
    for case in reference_cases(scale_id):
        assert case.why in page, case.why
