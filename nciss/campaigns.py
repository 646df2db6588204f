"""Campaigns: incidents of one kind, or sharing indicators, across organisations within a window.

Pure functions, no I/O, never imports Django. Two halves:

- **Grouping.** ``classification_groups`` finds incidents of one RSIT classification that follow
  each other by at most ``window`` and together hit at least ``min_organisations`` organisations
  or at least ``min_sectors`` sectors (and always two organisations or more);
  ``indicator_groups`` links incidents that carry the same observable within ``window`` of each
  other and keeps the linked sets that span two organisations or more.
- **Folding and assessing.** ``fold_facts`` folds the members' facts (facts.md "Order"): the
  maximum of ordered values, the sum of counts, the union of lists, any-true of severity
  booleans, the earliest time; a fact that is not about severity is kept only when every member
  that knows it agrees. ``assess_campaign`` adds ``organisations_affected`` and
  ``sectors_affected`` and assesses the result on a scale.

Invariants (nciss/tests/test_campaigns.py): the fold does not depend on the members' order, and
adding a member never lowers the campaign's level.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nciss.engine import Assessment, assess
from nciss.facts import NOT_SEVERITY, fact_specs
from nciss.scales import Scale

# Counts (and losses) add up across the members; every other number is a duration, a share or a
# figure about one entity, of which the campaign takes the largest.
SUMMED = frozenset(
    {
        "users_affected",
        "users_unavailable",
        "users_degraded",
        "users_data_compromised",
        "records_affected",
        "domains_affected",
        "fatalities",
        "injuries",
        "financial_loss_eur",
        "organisations_affected",
    }
)
TIMES = frozenset({"occurred_at", "detected_at", "reported_at"})
# The facts that describe a member's entity and kind rather than the impact (facts.md, "Order").
CONTEXT = NOT_SEVERITY - TIMES
# Classifications that say nothing about what happened: never a campaign of their own.
UNSPECIFIC = frozenset({"", "other:undetermined", "other:other"})

CLASSIFICATION = "classification"
INDICATOR = "indicator"


def fold_facts(facts_list: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The facts of several incidents as one: the order of ``facts_list`` does not matter."""
    records = list(facts_list)
    folded: dict[str, Any] = {}
    for name, spec in fact_specs().items():
        values = [r[name] for r in records if r.get(name) is not None]
        if not values:
            continue
        if name in TIMES:
            folded[name] = min(values, key=lambda v: dt.datetime.fromisoformat(str(v)))
        elif name in CONTEXT:
            if all(v == values[0] for v in values):
                folded[name] = values[0]
        elif name in SUMMED:
            folded[name] = sum(values) if spec.kind == "int" else math.fsum(values)
        elif spec.kind == "list":
            folded[name] = sorted({item for v in values for item in v})
        elif spec.kind == "bool":
            folded[name] = any(values)
        elif spec.kind == "enum":
            folded[name] = max(values, key=spec.rank_of)
        else:
            folded[name] = max(values)
    return folded


def campaign_facts(
    members: Sequence[Mapping[str, Any]], *, organisations: int, sectors: Iterable[str] = ()
) -> dict[str, Any]:
    """The members' folded facts, with the organisations and sectors the campaign reaches.

    ``organisations_affected`` is the number of distinct organisations, or more where one member
    alone already counted more (a supply-chain incident); ``sectors_affected`` joins the members'
    sectors, their own ``sectors_affected`` and ``sectors``.
    """
    folded = fold_facts(members)
    largest = max((int(m.get("organisations_affected") or 0) for m in members), default=0)
    folded["organisations_affected"] = max(organisations, largest, 1)
    reached = set(folded.get("sectors_affected", ())) | {m["sector"] for m in members if m.get("sector")}
    reached |= {s for s in sectors if s}
    if reached:
        folded["sectors_affected"] = sorted(reached)
    return folded


def assess_campaign(
    scale: Scale,
    members: Sequence[Mapping[str, Any]],
    *,
    organisations: int,
    sectors: Iterable[str] = (),
    lang: str = "en",
) -> Assessment:
    """The campaign's assessment on ``scale`` (its ``facts`` are the campaign's facts).

    Where members differ in a fact that is not about severity (sector, entity type, country ...),
    the folded impact is assessed in each member's own context and the most severe result is
    kept: a campaign across sectors is as serious as it is in the sector where it weighs most.
    """
    base = campaign_facts(members, organisations=organisations, sectors=sectors)
    impact = {k: v for k, v in base.items() if k not in CONTEXT}
    contexts = {
        json.dumps(ctx, sort_keys=True): ctx
        for ctx in ({k: m[k] for k in CONTEXT if m.get(k) is not None} for m in members)
    }
    candidates = [{**impact, **contexts[key]} for key in sorted(contexts)] or [base]
    results = [assess(scale, facts, lang) for facts in candidates]
    return max(results, key=lambda a: (a.rank, a.score if a.score is not None else -math.inf, a.reachable_max))


@dataclass(frozen=True)
class IncidentSummary:
    """What grouping reads of an incident. ``time`` is when it was detected."""

    id: int
    organisations: frozenset[int]
    sector: str
    classification: str
    observables: frozenset[tuple[str, str]]
    time: dt.datetime


@dataclass(frozen=True)
class Group:
    """Incidents that form a campaign; ``indicators`` are the (type, value) pairs that link them."""

    basis: str
    incidents: frozenset[int]
    classification: str = ""
    indicators: tuple[tuple[str, str], ...] = ()


def _organisations(members: Iterable[IncidentSummary]) -> set[int]:
    return {o for m in members for o in m.organisations}


def classification_groups(
    incidents: Iterable[IncidentSummary],
    *,
    window: dt.timedelta,
    min_organisations: int = 3,
    min_sectors: int = 2,
) -> list[Group]:
    """Runs of one classification, each incident within ``window`` of the one before, that reach
    at least ``min_organisations`` organisations or ``min_sectors`` sectors (and two organisations)."""
    by_classification: dict[str, list[IncidentSummary]] = defaultdict(list)
    for incident in incidents:
        if incident.classification not in UNSPECIFIC:
            by_classification[incident.classification].append(incident)
    groups = []
    for classification, members in sorted(by_classification.items()):
        for run in _runs(sorted(members, key=lambda m: (m.time, m.id)), window):
            organisations = _organisations(run)
            sectors = {m.sector for m in run if m.sector}
            if len(organisations) >= 2 and (len(organisations) >= min_organisations or len(sectors) >= min_sectors):
                groups.append(Group(CLASSIFICATION, frozenset(m.id for m in run), classification=classification))
    return groups


def _runs(ordered: list[IncidentSummary], window: dt.timedelta) -> Iterable[list[IncidentSummary]]:
    """``ordered`` (by time) cut wherever two neighbours are more than ``window`` apart."""
    run: list[IncidentSummary] = []
    for incident in ordered:
        if run and incident.time - run[-1].time > window:
            yield run
            run = []
        run.append(incident)
    if run:
        yield run


def indicator_groups(incidents: Iterable[IncidentSummary], *, window: dt.timedelta) -> list[Group]:
    """Incidents linked by the observables they share (each link within ``window``), as sets
    that span two organisations or more."""
    members = {incident.id: incident for incident in incidents}
    carriers: dict[tuple[str, str], list[IncidentSummary]] = defaultdict(list)
    for incident in members.values():
        for observable in incident.observables:
            carriers[observable].append(incident)
    parent = {incident_id: incident_id for incident_id in members}

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for holders in carriers.values():
        holders.sort(key=lambda m: (m.time, m.id))
        for before, after in itertools.pairwise(holders):
            if after.time - before.time <= window:
                parent[root(after.id)] = root(before.id)
    components: dict[int, list[IncidentSummary]] = defaultdict(list)
    for incident in members.values():
        components[root(incident.id)].append(incident)
    shared: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for observable, holders in carriers.items():
        by_component: dict[int, list[IncidentSummary]] = defaultdict(list)
        for holder in holders:
            by_component[root(holder.id)].append(holder)
        for component, linked in by_component.items():
            if len(linked) >= 2 and len(_organisations(linked)) >= 2:
                shared[component].append(observable)
    groups = [
        Group(INDICATOR, frozenset(m.id for m in components[component]), indicators=tuple(sorted(observables)))
        for component, observables in shared.items()
    ]
    return sorted(groups, key=lambda g: min(g.incidents))
