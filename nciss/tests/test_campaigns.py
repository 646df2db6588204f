"""Campaigns in the core: folding members' facts, assessing them as one, finding the groups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from random import Random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nciss
from nciss.campaigns import (
    CLASSIFICATION,
    INDICATOR,
    IncidentSummary,
    assess_campaign,
    campaign_facts,
    classification_groups,
    fold_facts,
    indicator_groups,
)
from nciss.tests.strategies import fact_records

REFERENCE = nciss.load_scale("osce-reference")
T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(hours=72)


def test_it_takes_the_maximum_of_ordered_values_the_sum_of_counts_and_the_union_of_lists() -> None:
    folded = fold_facts(
        [
            {"functional_impact": "minimal-critical", "users_affected": 100, "countries_affected": ["KZ"]},
            {"functional_impact": "denial-non-critical", "users_affected": 50, "countries_affected": ["KG", "KZ"]},
            {"functional_impact": "no-impact", "outage_minutes": 30, "malicious": False},
            {"outage_minutes": 90, "malicious": True, "financial_loss_eur": 0.1},
            {"financial_loss_eur": 0.2},
        ]
    )
    assert folded["functional_impact"] == "denial-non-critical"
    assert folded["users_affected"] == 150
    assert folded["countries_affected"] == ["KG", "KZ"]
    assert folded["outage_minutes"] == 90  # a duration: the longest, not the total
    assert folded["malicious"] is True
    assert abs(folded["financial_loss_eur"] - 0.3) < 1e-12


def test_it_keeps_the_earliest_time_and_context_facts_only_where_members_agree() -> None:
    folded = fold_facts(
        [
            {"detected_at": "2026-12-02T10:00:00+05:00", "sector": "energy", "root_cause": "malicious-actions"},
            {"detected_at": "2026-12-02T04:30:00+00:00", "sector": "health", "root_cause": "malicious-actions"},
        ]
    )
    assert folded["detected_at"] == "2026-12-02T04:30:00+00:00"  # the other is 05:00 UTC
    assert "sector" not in folded
    assert folded["root_cause"] == "malicious-actions"


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # several whole fact records per example
@given(st.lists(fact_records(), min_size=1, max_size=5), st.randoms(use_true_random=False))
def test_the_fold_does_not_depend_on_the_members_order(members: list[dict[str, Any]], random: Random) -> None:
    shuffled = list(members)
    random.shuffle(shuffled)
    assert fold_facts(shuffled) == fold_facts(members)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(fact_records(), min_size=1, max_size=4), fact_records(), st.integers(1, 20))
def test_adding_a_member_never_lowers_the_campaign_level(
    members: list[dict[str, Any]], newcomer: dict[str, Any], organisations: int
) -> None:
    before = assess_campaign(REFERENCE, members, organisations=organisations)
    after = assess_campaign(REFERENCE, [*members, newcomer], organisations=organisations + 1)
    # (the reachable maximum may fall: the newcomer may make known what was unknown)
    assert after.rank >= before.rank


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(fact_records(), min_size=1, max_size=4), st.integers(1, 50))
def test_the_campaign_facts_are_valid_facts(members: list[dict[str, Any]], organisations: int) -> None:
    facts = campaign_facts(members, organisations=organisations)
    assert nciss.validate_facts(facts) == facts


def test_many_organisations_of_one_essential_sector_raise_the_level_above_any_member() -> None:
    member = {
        "classification": "malicious-code:infected-system",
        "sector": "energy",
        "entity_criticality": "essential",
        "functional_impact": "minimal-non-critical",
        "observed_activity": "presence",
    }
    alone = nciss.assess(REFERENCE, member)
    campaign = assess_campaign(REFERENCE, [member] * 12, organisations=12)
    assert campaign.facts["organisations_affected"] == 12
    assert campaign.facts["sectors_affected"] == ["energy"]
    assert campaign.rank > alone.rank
    assert "campaign" in {r["id"] for r in campaign.to_dict()["rules_fired"]}


def test_three_sectors_reach_the_cross_sector_floor() -> None:
    members = [{"classification": "availability:ddos", "sector": s} for s in ("energy", "health", "transport")]
    campaign = assess_campaign(REFERENCE, members, organisations=3)
    assert campaign.facts["sectors_affected"] == ["energy", "health", "transport"]
    assert campaign.rank >= 3


def test_a_mixed_campaign_is_assessed_in_the_context_where_it_weighs_most() -> None:
    common = {"functional_impact": "significant-non-critical", "observed_activity": "effect"}
    energy = {**common, "sector": "energy"}
    research = {**common, "sector": "research"}
    assert (nciss.assess(REFERENCE, energy).score or 0) > (nciss.assess(REFERENCE, research).score or 0)
    campaign = assess_campaign(REFERENCE, [research, energy], organisations=2)
    assert campaign.facts["sector"] == "energy"
    assert campaign.score == assess_campaign(REFERENCE, [energy, research], organisations=2).score


def summary(
    pk: int,
    organisation: int,
    hours: float,
    classification: str = "intrusions:system-compromise",
    sector: str = "energy",
    observables: Iterable[tuple[str, str]] = (),
) -> IncidentSummary:
    return IncidentSummary(
        id=pk,
        organisations=frozenset({organisation}),
        sector=sector,
        classification=classification,
        observables=frozenset(observables),
        time=T0 + dt.timedelta(hours=hours),
    )


def test_three_organisations_with_one_classification_within_the_window_form_a_campaign() -> None:
    incidents = [summary(1, 10, 0), summary(2, 11, 50), summary(3, 12, 100), summary(4, 12, 110)]
    (group,) = classification_groups(incidents, window=WINDOW)
    assert group.basis == CLASSIFICATION
    assert group.classification == "intrusions:system-compromise"
    assert group.incidents == {1, 2, 3, 4}


def test_a_gap_longer_than_the_window_splits_the_run() -> None:
    incidents = [summary(1, 10, 0), summary(2, 11, 10), summary(3, 12, 10 + 73)]
    assert classification_groups(incidents, window=WINDOW) == []
    assert len(classification_groups(incidents, window=dt.timedelta(hours=80))) == 1


def test_two_organisations_make_a_campaign_only_across_two_sectors() -> None:
    same_sector = [summary(1, 10, 0), summary(2, 11, 1)]
    two_sectors = [summary(1, 10, 0), summary(2, 11, 1, sector="health")]
    one_organisation = [summary(1, 10, 0), summary(2, 10, 1, sector="health"), summary(3, 10, 2)]
    assert classification_groups(same_sector, window=WINDOW) == []
    assert classification_groups(two_sectors, window=WINDOW)[0].incidents == {1, 2}
    assert classification_groups(one_organisation, window=WINDOW) == []
    assert classification_groups(same_sector, window=WINDOW, min_organisations=2)[0].incidents == {1, 2}


def test_undetermined_classifications_never_form_a_campaign() -> None:
    incidents = [summary(i, 10 + i, i, classification="other:undetermined") for i in range(5)]
    assert classification_groups(incidents, window=WINDOW) == []


def test_incidents_of_two_organisations_sharing_an_indicator_form_a_campaign() -> None:
    c2 = ("ipv4-addr", "203.0.113.7")
    incidents = [
        summary(1, 10, 0, classification="fraud:phishing", observables={c2, ("domain-name", "a.example")}),
        summary(2, 11, 30, classification="malicious-code:infected-system", observables={c2}),
        summary(3, 11, 31, observables={("domain-name", "a.example")}),
        summary(4, 12, 40, observables={("domain-name", "unrelated.example")}),
    ]
    (group,) = indicator_groups(incidents, window=WINDOW)
    assert group.basis == INDICATOR
    assert group.incidents == {1, 2, 3}
    assert group.indicators == (("domain-name", "a.example"), ("ipv4-addr", "203.0.113.7"))


def test_an_indicator_of_one_organisation_or_out_of_the_window_links_nothing() -> None:
    shared = {("url", "http://bad.example/x")}
    same_organisation = [summary(1, 10, 0, observables=shared), summary(2, 10, 1, observables=shared)]
    too_far = [summary(1, 10, 0, observables=shared), summary(2, 11, 100, observables=shared)]
    assert indicator_groups(same_organisation, window=WINDOW) == []
    assert indicator_groups(too_far, window=WINDOW) == []
