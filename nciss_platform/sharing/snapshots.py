"""What a partner abroad receives: the incident as an :class:`IncidentRecord`, on the partner's scale.

The level on the partner's scale comes from the facts when they settle it (every fact that
could change it is known). When they do not, it is read through the national scale's
crosswalk table to the partner's scale, narrowed by what the known facts already prove, and
the record names the missing facts (basis ``"crosswalk"``). Without a crosswalk table the
facts' lower bound is sent, basis ``"facts"``, the missing facts named too.

A share that does not identify the reporting organisation leaves out its name and everything
that would name it as surely: the exact annual turnover, and the comments on observables
(free text written about the reporter's systems). The level is computed before they are
left out, from every fact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

import nciss
from nciss.crosswalks import crosswalk
from nciss.interop import Assessed, IncidentRecord, Observable
from nciss_platform import clock
from nciss_platform.accounts.models import Organisation
from nciss_platform.incidents import services as incidents
from nciss_platform.incidents.models import Incident
from nciss_platform.scales.services import find_scale

SOURCE = "nciss"
# Facts that name an organisation as surely as its name: left out of anonymous shares.
IDENTIFYING_FACTS = ("annual_turnover_eur",)


def national_assessment(scale: nciss.Scale, facts: Mapping[str, Any], lang: str) -> tuple[nciss.Assessment, Assessed]:
    result = nciss.assess(scale, facts, lang)
    return result, Assessed(
        scale_id=scale.id,
        scale_version=scale.version,
        rank=result.rank,
        name=scale.levels[result.rank].name.get_for(lang),
        score=result.score,
        reachable_max=result.reachable_max,
        basis="facts",
        missing=tuple(result.decisive_unknowns),
    )


def partner_assessment(
    national: nciss.Scale, national_rank: int, partner: nciss.Scale, facts: Mapping[str, Any], lang: str
) -> Assessed:
    """The level on ``partner``: from the facts when they settle it, else crosswalked from ``national_rank``."""
    result = nciss.assess(partner, facts, lang)
    low, high = result.rank, result.reachable_max
    if low == high:
        return _assessed(partner, low, lang, score=result.score, reachable_max=high)
    missing = tuple(result.decisive_unknowns) or tuple(result.unknown)
    if partner.id != national.id and partner.id in national.crosswalks:
        row = crosswalk(national, partner.id, national_rank)
        # The table's range, narrowed by what the known facts prove; where they disagree the facts win.
        rank = min(max(row.min, low), high)
        top = max(rank, min(row.max, high))
        return _assessed(partner, rank, lang, reachable_max=top, basis="crosswalk", missing=missing)
    return _assessed(partner, low, lang, score=result.score, reachable_max=high, missing=missing)


def _assessed(
    scale: nciss.Scale,
    rank: int,
    lang: str,
    *,
    score: float | None = None,
    reachable_max: int,
    basis: str = "facts",
    missing: tuple[str, ...] = (),
) -> Assessed:
    return Assessed(
        scale_id=scale.id,
        scale_version=scale.version,
        rank=rank,
        name=scale.levels[rank].name.get_for(lang),
        score=score,
        reachable_max=reachable_max,
        basis=basis,
        missing=missing,
    )


def partner_record(
    incident: Incident,
    organisation: Organisation,
    identify_reporter: bool,
    *,
    title: str | None = None,
    description: str | None = None,
) -> IncidentRecord:
    """The incident as ``organisation`` receives it (level names in its language)."""
    lang = organisation.language
    national = incidents.national_scale()
    facts = dict(incident.facts)
    result, national_level = national_assessment(national, facts, lang)
    partner_level = partner_assessment(national, result.rank, find_scale(organisation.scale_id), facts, lang)
    if not identify_reporter:
        facts = {name: value for name, value in facts.items() if name not in IDENTIFYING_FACTS}
    observables = tuple(
        Observable(o.type, o.value, o.comment if identify_reporter else "") for o in incident.observables.all()
    )
    reporter = incident.reporting_organisation
    return IncidentRecord(
        title=incident.title if title is None else title,
        facts=facts,
        description=incident.description if description is None else description,
        source=SOURCE,
        source_id=incident.reference,
        reference=incident.reference,
        tlp=incident.tlp,
        pap=incident.pap,
        status=incident.status,
        created=incident.reported_at,
        modified=clock.now(),
        reporter=reporter.name if identify_reporter else None,
        reporter_country=reporter.country if identify_reporter else settings.NCISS_COUNTRY,
        assessments=(national_level, partner_level),
        observables=observables,
    )
