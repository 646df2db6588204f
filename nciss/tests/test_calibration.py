"""What-if on history, sensitivity, reference cases and compatibility on small known histories."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import nciss
from nciss.calibration import (
    Compatibility,
    History,
    ReferenceCase,
    check_cases,
    compatibility,
    crosswalk_check,
    default_target,
    parameters,
    reference_cases,
    sensitivity,
    vary,
    weighted_kappa,
    what_if,
)
from nciss.crosswalks import agreement
from nciss.tests.shared import EXAMPLE_1, EXAMPLE_2, PHISHING


def history() -> History:
    return History.from_records([EXAMPLE_1, EXAMPLE_2, PHISHING], references=["INC-1", "INC-2", "INC-3"])


def cisa() -> nciss.Scale:
    return nciss.load_scale("cisa-nciss")


def threshold(scale: nciss.Scale, level: int) -> Any:
    return next(p for p in parameters(scale) if p.kind == "threshold" and p.path[2] == level - 1)


def draft_with_medium_from(score: float) -> nciss.Scale:
    return vary(cisa(), threshold(cisa(), 2), score)


# ---------------------------------------------------------------- what-if


def test_it_shows_the_old_x_new_matrix_of_a_known_history() -> None:
    result = what_if(draft_with_medium_from(40), cisa(), history())
    assert result.before.tolist() == [2, 5, 0]
    assert result.after.tolist() == [1, 5, 0]  # 38.0 is below the draft's Medium at 40
    expected = np.zeros((6, 6), dtype=int)
    expected[2, 1] = expected[5, 5] = expected[0, 0] = 1
    assert result.matrix.tolist() == expected.tolist()
    assert (result.up, result.down, result.moved.tolist()) == (0, 1, [0])
    assert result.distribution == [1, 1, 0, 0, 0, 1]
    assert result.current_distribution == [1, 0, 1, 0, 0, 1]


def test_it_leads_from_every_number_to_its_incidents() -> None:
    result = what_if(draft_with_medium_from(40), cisa(), history())
    assert result.references(result.select(before=2, after=1)) == ["INC-1"]
    assert result.references(result.select(after=5)) == ["INC-2"]
    assert result.references(result.select(direction="down")) == ["INC-1"]
    assert result.references(result.select(sector="other")) == ["INC-3"]
    assert result.references(result.select(classification="availability")) == ["INC-2"]
    assert result.select(direction="up").size == 0


def test_it_explains_why_an_incident_moves() -> None:
    mover = what_if(draft_with_medium_from(40), cisa(), history()).movers()[0]
    assert (mover.reference, mover.before, mover.after) == ("INC-1", 2, 1)
    assert mover.why == ("score 38.0 (Medium) -> score 38.0 (Low)",)
    assert "Low" in mover.after_explanation and "Medium" in mover.before_explanation


def test_it_explains_a_rule_that_fires_only_on_the_draft() -> None:
    facts = {**PHISHING, "fatalities": 1}
    result = what_if(nciss.load_scale("osce-reference"), cisa(), History.from_records([facts]))
    mover = result.movers()[0]
    assert mover.after >= 4
    assert any(line.startswith("fires:") for line in mover.why)


def test_it_gives_the_effect_per_sector_and_classification() -> None:
    result = what_if(draft_with_medium_from(40), cisa(), history())
    sectors = {g.key: (g.total, g.up, g.down) for g in result.by_sector()}
    assert sectors == {"banking": (1, 0, 1), "energy": (1, 0, 0), "other": (1, 0, 0)}
    assert result.by_sector()[0].key == "banking"  # the groups that move most come first
    classes = {g.key: g.down for g in result.by_classification()}
    assert classes == {"malicious-code": 1, "availability": 0, "fraud": 0}


def test_it_compares_the_distribution_with_a_target() -> None:
    result = what_if(draft_with_medium_from(40), cisa(), history(), target=[1, 1, 0, 0, 0, 1])
    assert result.target == pytest.approx([1 / 3, 1 / 3, 0, 0, 0, 1 / 3])
    assert result.distance_to_target == pytest.approx(0.0)
    assert default_target(3) == pytest.approx([4 / 7, 2 / 7, 1 / 7])  # most incidents low
    assert what_if(cisa(), cisa(), history()).distance_to_target > 0
    with pytest.raises(ValueError, match="6 non-negative shares"):
        what_if(cisa(), cisa(), history(), target=[1, 1])


def test_it_agrees_with_the_single_assessment_on_every_incident() -> None:
    records = [c.facts for c in reference_cases("osce-reference")]
    result = what_if(nciss.load_scale("uk-ncsc"), nciss.load_scale("osce-reference"), History.from_records(records))
    assert result.before.tolist() == [nciss.assess(nciss.load_scale("osce-reference"), r).rank for r in records]
    assert result.after.tolist() == [nciss.assess(nciss.load_scale("uk-ncsc"), r).rank for r in records]


def test_it_gives_a_grouped_history_the_levels_of_the_same_incidents_one_by_one() -> None:
    # five incidents sharing three records: 0, 1, 0, 2, 1
    grouped = History(
        ["A", "B", "C", "D", "E"],
        {k: [r.get(k) for r in (EXAMPLE_1, EXAMPLE_2, PHISHING)] for k in EXAMPLE_1},
        rows=np.array([0, 1, 0, 2, 1]),
    )
    flat = History.from_records([EXAMPLE_1, EXAMPLE_2, EXAMPLE_1, PHISHING, EXAMPLE_2], ["A", "B", "C", "D", "E"])
    draft = draft_with_medium_from(40)
    a, b = what_if(draft, cisa(), grouped), what_if(draft, cisa(), flat)
    assert a.after.tolist() == b.after.tolist() == [1, 5, 1, 0, 5]
    assert a.references(a.select(before=2, after=1)) == ["A", "C"]
    assert a.by_sector() == b.by_sector()
    assert list(grouped.sectors) == ["banking", "energy", "banking", "other", "energy"]
    assert grouped.where(sector="energy").references == ["B", "E"]
    assert [e.changed for e in sensitivity(draft, grouped).effects] == [
        e.changed for e in sensitivity(draft, flat).effects
    ]


def test_it_filters_the_history_by_sector_and_classification() -> None:
    h = history()
    assert h.where(sector="energy").references == ["INC-2"]
    assert h.where(classification="fraud").references == ["INC-3"]
    assert h.where(classification="fraud:phishing").references == ["INC-3"]
    assert len(h.where(classification="fraud:spam")) == 0


# ---------------------------------------------------------------- sensitivity


def test_it_counts_the_incidents_a_threshold_step_moves() -> None:
    result = sensitivity(cisa(), history(), step=0.1)
    effects = {e.parameter.where: e for e in result.effects}
    medium = effects["weighted.thresholds[1].from"]  # 35: 31.5 moves nothing, 38.5 takes 38.0 down to Low
    assert (medium.lower, medium.higher, medium.changed_lower, medium.changed_higher) == (31.5, 38.5, 0, 1)
    emergency = effects["weighted.thresholds[4].from"]  # 90: 99 takes 93.5 down to Severe
    assert (emergency.changed_lower, emergency.changed_higher) == (0, 1)
    low = effects["weighted.thresholds[0].from"]  # 20: 18 and 22 leave 16.1 and 38.0 where they are
    assert (low.changed_lower, low.changed_higher) == (0, 0)
    assert result.effects[0].changed >= 1  # the parameters that matter come first
    assert result.incidents(medium.parameter, +1).tolist() == [0]


def test_it_lists_every_weight_option_and_threshold_of_the_draft() -> None:
    kinds = {p.kind for p in parameters(cisa())}
    assert {"weight", "option", "threshold"} <= kinds
    assert len([p for p in parameters(cisa()) if p.kind == "weight"]) == len(cisa().weighted.categories)  # type: ignore[union-attr]
    nis2 = parameters(nciss.load_scale("eu-nis2"))
    outage = [p for p in nis2 if p.kind == "rule threshold" and "outage_minutes" in p.label]
    assert {20.0, 30.0} <= {p.value for p in outage}  # trust services and DNS: more than 20 and 30 minutes
    assert all(p.whole for p in outage)


def test_it_cannot_move_zero_below_the_bound_and_says_so() -> None:
    result = sensitivity(cisa(), history())
    zero_option = next(e for e in result.effects if e.parameter.kind == "option" and e.parameter.value == 0)
    assert zero_option.changed_lower is None and zero_option.changed_higher is not None


def test_it_rebuilds_a_derived_normalisation_when_a_weight_moves() -> None:
    osce = nciss.load_scale("osce-reference")
    weight = next(p for p in parameters(osce) if p.kind == "weight")
    heavier = vary(osce, weight, weight.value * 2)
    assert heavier.weighted.maximum > osce.weighted.maximum  # type: ignore[union-attr]
    assert osce.definition == nciss.load_scale("osce-reference").definition  # the original is untouched


# ---------------------------------------------------------------- reference cases


def test_it_ships_the_presets_reference_cases() -> None:
    cases = reference_cases("cisa-nciss")
    assert len(cases) >= 5 and all(isinstance(c, ReferenceCase) for c in cases)
    assert reference_cases("no-such-scale") == []
    assert all(r.passed for r in check_cases(cisa(), cases))


def test_it_shows_which_reference_cases_a_draft_fails_and_why() -> None:
    cases = reference_cases("cisa-nciss")
    results = check_cases(draft_with_medium_from(40), cases)
    failed = [r for r in results if not r.passed]
    assert [r.case.score for r in failed] == [38.0, 38.0]  # example 1 and its US-sector twin
    assert failed[0].failures == ("level Low (1), agreed 2", "could reach 1, agreed 2")
    bad = check_cases(cisa(), [ReferenceCase("unknown fact", {"no_such_fact": 1}, 0)])[0]
    assert not bad.passed and "cannot be assessed" in bad.failures[0]


# ---------------------------------------------------------------- compatibility


def test_it_reports_agreement_between_two_scales_on_the_same_history() -> None:
    osce, uk = nciss.load_scale("osce-reference"), nciss.load_scale("uk-ncsc")
    records = [c.facts for c in reference_cases("osce-reference") + reference_cases("uk-ncsc")]
    result = compatibility(osce, uk, History.from_records(records))
    levels_a = [nciss.assess(osce, r).rank for r in records]
    levels_b = [nciss.assess(uk, r).rank for r in records]
    assert result.matrix.sum() == len(records)
    assert result.matrix[levels_a[0], levels_b[0]] >= 1
    assert result.common == "ranks"
    assert result.kappa_quadratic == pytest.approx(weighted_kappa(result.matrix, "quadratic"))
    assert -1 <= result.rho <= 1
    # the crosswalk check counts what nciss.crosswalks.agreement counts
    inside = sum(r.inside for r in result.crosswalk_ab or [])
    assert inside == agreement(osce, uk, records)[0]
    assert sum(r.inside for r in result.crosswalk_ba or []) == agreement(uk, osce, records)[0]


def _compat(a: str, b: str, levels_a: list[int], levels_b: list[int]) -> Compatibility:
    sa, sb = nciss.load_scale(a), nciss.load_scale(b)
    h = History.from_records([{}] * len(levels_a))
    la, lb = np.array(levels_a), np.array(levels_b)
    return Compatibility(sa, sb, h, la, lb, crosswalk_check(sa, sb, la, lb), crosswalk_check(sb, sa, lb, la))


def test_it_computes_kappa_on_the_hand_example_whatever_the_scale_length() -> None:
    # the 3-category example of test_calibration_stats on two 6-level scales: kappa does not change
    result = _compat("osce-reference", "cisa-nciss", [0, 0, 0, 0, 1, 1, 1, 1, 2, 2], [0, 0, 0, 1, 0, 1, 1, 2, 2, 2])
    assert result.kappa_linear == pytest.approx(1 - 0.15 / 0.43)
    assert result.kappa_quadratic == pytest.approx(1 - 0.075 / 0.315)
    assert result.exact_agreement == pytest.approx(0.7)


def test_it_normalises_ranks_onto_the_shorter_scale_for_kappa() -> None:
    # osce 0-2 read as NIS2 0 (not significant), 3-5 as 1 (significant)
    result = _compat("osce-reference", "eu-nis2", [0, 2, 3, 5], [0, 1, 1, 1])
    assert result.common == "normalised to eu-nis2"
    assert result.common_matrix.tolist() == [[1, 1], [0, 2]]
    assert result.matrix.shape == (6, 2)


def test_it_finds_where_the_crosswalk_table_disagrees_with_the_facts() -> None:
    # osce Baseline -> cisa 0-1; osce Severe -> cisa 3-5
    result = _compat("osce-reference", "cisa-nciss", [0, 0, 0, 4, 4], [0, 1, 3, 2, 5])
    rows = {r.source: (r.total, r.below, r.inside, r.above) for r in result.crosswalk_ab or []}
    assert rows[0] == (3, 0, 2, 1)
    assert rows[4] == (2, 1, 1, 0)
    assert result.select(a=0, crosswalk="above").tolist() == [2]
    assert result.select(a=4, crosswalk="below").tolist() == [3]
    assert result.select(a=0, b=1).tolist() == [1]
    assert math.isclose(rows[0][3] / rows[0][0], 1 / 3)


@pytest.mark.parametrize("scale_id", ["osce-reference", "cisa-nciss"])
def test_it_counts_as_many_changes_as_a_full_re_assessment_of_each_variant(scale_id: str) -> None:
    scale = nciss.load_scale(scale_id)
    records = [c.facts for s in ("osce-reference", "cisa-nciss", "uk-ncsc") for c in reference_cases(s)]
    history = History.from_records(records)
    base = what_if(scale, scale, history).after
    for e in sensitivity(scale, history).effects:
        for count, value in ((e.changed_lower, e.lower), (e.changed_higher, e.higher)):
            if count is not None:
                variant = vary(scale, e.parameter, value)
                assert count == int((what_if(variant, scale, history).after != base).sum()), e.parameter.label
