"""Finding campaigns among the incidents, keeping them up to date, closing them.

``correlate_campaigns`` is the one state change: in one transaction it reads the incidents of the
last window (and every member of an open campaign), groups them (``nciss.campaigns``), lets new
members join the open campaign they continue or opens a campaign, folds and assesses every open
campaign again on the national scale, and closes those whose incidents are all finished or that
saw no new incident for a window. One audit row (``campaigns.correlated``) says what changed.

It runs from ``nciss campaigns correlate``, after each feed ingestion batch and, through the
outbox (``schedule.py``), after an incident is reported or its facts change.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from nciss.campaigns import (
    CLASSIFICATION,
    INDICATOR,
    Group,
    IncidentSummary,
    assess_campaign,
    classification_groups,
    indicator_groups,
)
from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.audit.services import record
from nciss_platform.campaigns.models import Campaign, ReferenceCounter
from nciss_platform.campaigns.schedule import schedule_correlation
from nciss_platform.errors import ServiceError
from nciss_platform.incidents.models import TLP, Incident, Observable
from nciss_platform.incidents.services import national_scale
from nciss_platform.incidents.workflow import OPEN_STATUSES, Status

# Incidents that are not incidents of their own: never members.
NOT_MEMBERS = (Status.REJECTED, Status.DUPLICATE)
Members = Campaign.incidents.through


@dataclass
class CorrelationSummary:
    """What a run changed, by campaign reference."""

    opened: list[str] = field(default_factory=list)
    joined: dict[str, list[str]] = field(default_factory=dict)
    reassessed: dict[str, list[int]] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.opened or self.joined or self.reassessed or self.closed)

    def counts(self) -> dict[str, int]:
        return {
            "opened": len(self.opened),
            "joined": sum(len(v) for v in self.joined.values()),
            "reassessed": len(self.reassessed),
            "closed": len(self.closed),
        }


def campaign_window() -> dt.timedelta:
    return dt.timedelta(hours=settings.NCISS_CAMPAIGN_WINDOW_HOURS)


def correlate_campaigns(
    *,
    now: dt.datetime | None = None,
    actor: User | None = None,
    window: dt.timedelta | None = None,
    min_organisations: int | None = None,
) -> CorrelationSummary:
    """Open, grow, re-assess and close campaigns as the incidents stand at ``now``.

    ``window`` (NCISS_CAMPAIGN_WINDOW_HOURS) is the longest gap between incidents of one
    campaign; ``min_organisations`` (NCISS_CAMPAIGN_MIN_ORGANISATIONS) how many organisations
    one classification must reach (two sectors also do). ``actor`` is None for the system.
    """
    now = now or clock.now()
    window = campaign_window() if window is None else window
    if min_organisations is None:
        min_organisations = settings.NCISS_CAMPAIGN_MIN_ORGANISATIONS
    if window <= dt.timedelta(0):
        raise ServiceError([("window", "must be positive")])
    if min_organisations < 2:
        raise ServiceError([("min_organisations", "must be at least 2")])
    summary = CorrelationSummary()
    with transaction.atomic():
        # one run at a time: the counter row is the lock (a second run waits, then sees the first's work)
        counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(year=now.year)
        open_campaigns = {c.pk: c for c in Campaign.objects.filter(status=Campaign.Status.OPEN).order_by("pk")}
        members: dict[int, set[int]] = defaultdict(set)
        for campaign_id, incident_id in Members.objects.filter(campaign_id__in=open_campaigns).values_list(
            "campaign_id", "incident_id"
        ):
            members[campaign_id].add(incident_id)
        candidates = Incident.objects.exclude(status__in=NOT_MEMBERS).filter(
            Q(reported_at__gte=now - window, reported_at__lte=now)
            | Q(pk__in=Members.objects.filter(campaign__status=Campaign.Status.OPEN).values("incident_id"))
        )
        summaries = _summaries(candidates)
        for group in _groups(summaries, window, min_organisations):
            _place(group, summaries, open_campaigns, members, counter, now, summary)
        for campaign in open_campaigns.values():
            _refresh(campaign, members[campaign.pk], summaries, now, window, summary)
        if summary.changed:
            record(
                actor,
                "campaigns.correlated",
                None,
                {
                    "counts": summary.counts(),
                    "opened": summary.opened,
                    "joined": summary.joined,
                    "reassessed": summary.reassessed,
                    "closed": summary.closed,
                },
                object_type="campaign",
            )
        next_close = min(
            (c.last_seen for c in open_campaigns.values() if c.status == Campaign.Status.OPEN), default=None
        )
        if next_close is not None:
            # without new incidents nothing would run again: come back when the oldest may close
            schedule_correlation(max(now, next_close + window) + dt.timedelta(seconds=1))
    return summary


def _summaries(candidates: Any) -> dict[int, IncidentSummary]:
    rows = list(
        candidates.values_list(
            "pk", "reporting_organisation_id", "sector", "classification", "detected_at", "reported_at"
        )
    )
    affected: dict[int, set[int]] = defaultdict(set)
    for incident_id, organisation_id in Incident.affected_organisations.through.objects.filter(
        incident__in=candidates
    ).values_list("incident_id", "organisation_id"):
        affected[incident_id].add(organisation_id)
    observables: dict[int, set[tuple[str, str]]] = defaultdict(set)
    # a TLP:RED incident's indicators are never used: an indicator campaign lists the indicators it shares
    shared = Observable.objects.filter(incident__in=candidates.exclude(tlp=TLP.RED))
    for incident_id, kind, value in shared.values_list("incident_id", "type", "value"):
        observables[incident_id].add((kind, value))
    return {
        pk: IncidentSummary(
            id=pk,
            organisations=frozenset(affected[pk] or {reporter}),
            sector=sector,
            classification=classification,
            observables=frozenset(observables[pk]),
            time=detected or reported,
        )
        for pk, reporter, sector, classification, detected, reported in rows
    }


def _groups(summaries: dict[int, IncidentSummary], window: dt.timedelta, min_organisations: int) -> list[Group]:
    """The groups of each basis, leaving out the members of that basis's closed campaigns: a
    finished campaign is not reopened, its incidents do not start another."""
    finished: dict[str, set[int]] = defaultdict(set)
    for basis, incident_id in Members.objects.filter(
        campaign__status=Campaign.Status.CLOSED, incident_id__in=list(summaries)
    ).values_list("campaign__basis", "incident_id"):
        finished[basis].add(incident_id)
    by_classification = [s for s in summaries.values() if s.id not in finished[CLASSIFICATION]]
    by_indicator = [s for s in summaries.values() if s.id not in finished[INDICATOR]]
    return [
        *classification_groups(by_classification, window=window, min_organisations=min_organisations),
        *indicator_groups(by_indicator, window=window),
    ]


def _place(
    group: Group,
    summaries: dict[int, IncidentSummary],
    open_campaigns: dict[int, Campaign],
    members: dict[int, set[int]],
    counter: ReferenceCounter,
    now: dt.datetime,
    summary: CorrelationSummary,
) -> None:
    """Let the group's new incidents join the oldest open campaign it continues, or open one."""
    same_basis = [c for c in open_campaigns.values() if c.basis == group.basis]
    taken = set().union(*(members[c.pk] for c in same_basis))
    continued = next((c for c in same_basis if members[c.pk] & group.incidents), None)
    new = group.incidents - taken
    if continued is None:
        if not new or not Incident.objects.filter(pk__in=new, status__in=OPEN_STATUSES).exists():
            return  # everything in it is already finished: history, not a campaign to coordinate
        counter.last += 1
        counter.save(update_fields=["last"])
        times = [summaries[i].time for i in new]
        continued = Campaign.objects.create(
            reference=f"CMP-{now.year}-{counter.last:04d}",
            title=_title(group, len({o for i in new for o in summaries[i].organisations})),
            basis=group.basis,
            classification=group.classification,
            indicators=[list(pair) for pair in group.indicators],
            first_seen=min(times),
            last_seen=max(times),
            created_at=now,
            updated_at=now,
        )
        open_campaigns[continued.pk] = continued
        summary.opened.append(continued.reference)
    elif group.indicators:
        known = {tuple(pair) for pair in continued.indicators}
        continued.indicators = [list(pair) for pair in sorted(known | set(group.indicators))]
    if new:
        continued.incidents.add(*new)
        members[continued.pk] |= new
        if continued.reference not in summary.opened:
            references = Incident.objects.filter(pk__in=new).order_by("reference").values_list("reference", flat=True)
            summary.joined.setdefault(continued.reference, []).extend(references)


def _title(group: Group, organisations: int) -> str:
    """A stable English title for the API and the audit log (the pages compose their own in the reader's language)."""
    if group.basis == CLASSIFICATION:
        return f"{group.classification} in {organisations} organisations"
    kind, value = group.indicators[0]
    more = f" and {len(group.indicators) - 1} more" if len(group.indicators) > 1 else ""
    return f"Shared indicator {kind} {value}{more}"[:200]


def _refresh(
    campaign: Campaign,
    member_ids: set[int],
    summaries: dict[int, IncidentSummary],
    now: dt.datetime,
    window: dt.timedelta,
    summary: CorrelationSummary,
) -> None:
    """Fold and assess the campaign again; close it once finished or quiet for a window.

    Members since rejected or merged as duplicates stay listed but no longer count. A campaign
    that gained no member and none of whose incidents changed since it was last updated is not
    folded again (the cost of a run is then the reading, not the assessing).
    """
    grown = campaign.reference in summary.opened or campaign.reference in summary.joined
    if not grown and not Incident.objects.filter(pk__in=member_ids, updated_at__gt=campaign.updated_at).exists():
        if campaign.last_seen + window < now:
            _close(campaign, now, summary)
            campaign.save(update_fields=["status", "closed_at", "updated_at"])
        return
    counted = [summaries[i] for i in sorted(member_ids) if i in summaries]
    incidents = Incident.objects.filter(pk__in=[m.id for m in counted]).only("pk", "facts", "status")
    facts = {i.pk: i.facts for i in incidents}
    finished = all(i.status not in OPEN_STATUSES for i in incidents)
    result = assess_campaign(
        national_scale(),
        [facts[m.id] for m in counted if m.id in facts],
        organisations=len({o for m in counted for o in m.organisations}),
        sectors=[m.sector for m in counted],
    )
    before = (campaign.level, campaign.facts, campaign.first_seen, campaign.last_seen)
    campaign.facts = result.facts
    campaign.level, campaign.score, campaign.reachable_max = result.rank, result.score, result.reachable_max
    campaign.organisations_affected = result.facts["organisations_affected"]
    campaign.sectors = result.facts.get("sectors_affected", [])
    if counted:
        campaign.first_seen = min(m.time for m in counted)
        campaign.last_seen = max(m.time for m in counted)
    closing = finished or campaign.last_seen + window < now
    if before == (campaign.level, campaign.facts, campaign.first_seen, campaign.last_seen) and not closing:
        return
    if closing:
        _close(campaign, now, summary)
    if before[:2] != (campaign.level, campaign.facts) and campaign.reference not in summary.opened:
        summary.reassessed[campaign.reference] = [before[0], campaign.level]
    campaign.updated_at = now
    campaign.save()


def _close(campaign: Campaign, now: dt.datetime, summary: CorrelationSummary) -> None:
    campaign.status, campaign.closed_at, campaign.updated_at = Campaign.Status.CLOSED, now, now
    summary.closed.append(campaign.reference)
