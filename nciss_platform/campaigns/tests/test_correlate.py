"""Correlation: campaigns open, grow, are assessed on the national scale as a whole, and close."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

import nciss
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.campaigns.models import Campaign
from nciss_platform.campaigns.services import correlate_campaigns
from nciss_platform.campaigns.tests.conftest import Hit, hours
from nciss_platform.errors import ServiceError
from nciss_platform.incidents import services as incidents
from nciss_platform.incidents.models import Incident
from nciss_platform.incidents.services import national_scale
from nciss_platform.incidents.workflow import Status

pytestmark = pytest.mark.django_db
Orgs = Callable[..., list[Organisation]]


def test_three_organisations_hit_alike_within_the_window_form_one_campaign(organisations: Orgs, hit: Hit) -> None:
    a, b, c = organisations(3)
    members = [hit(a, 0), hit(b, 10), hit(c, 20)]
    summary = correlate_campaigns(now=hours(21))
    campaign = Campaign.objects.get()
    assert summary.opened == [campaign.reference] == ["CMP-2026-0001"]
    assert campaign.basis == "classification" and campaign.classification == "intrusions:system-compromise"
    assert set(campaign.incidents.all()) == set(members)
    assert (campaign.organisations_affected, campaign.sectors) == (3, ["energy"])
    assert (campaign.first_seen, campaign.last_seen) == (hours(0), hours(20))
    assessed = nciss.assess(national_scale(), campaign.facts)
    assert (campaign.level, campaign.reachable_max) == (assessed.rank, assessed.reachable_max)
    assert campaign.facts["organisations_affected"] == 3 and campaign.status == "open"
    event = AuditEvent.objects.get(action="campaigns.correlated")
    assert event.data["opened"] == ["CMP-2026-0001"]


def test_running_again_without_news_changes_nothing(organisations: Orgs, hit: Hit) -> None:
    for organisation, at in zip(organisations(3), (0, 1, 2), strict=True):
        hit(organisation, at)
    correlate_campaigns(now=hours(3))
    before = list(Campaign.objects.values())
    assert not correlate_campaigns(now=hours(4)).changed
    assert list(Campaign.objects.values()) == before
    assert AuditEvent.objects.filter(action="campaigns.correlated").count() == 1


def test_a_later_incident_joins_the_open_campaign_instead_of_opening_another(organisations: Orgs, hit: Hit) -> None:
    a, b, c, d = organisations(4)
    for organisation, at in ((a, 0), (b, 1), (c, 2)):
        hit(organisation, at)
    correlate_campaigns(now=hours(3))
    late = hit(d, 60)
    summary = correlate_campaigns(now=hours(61))
    campaign = Campaign.objects.get()
    assert summary.joined == {campaign.reference: [late.reference]} and not summary.opened
    assert campaign.organisations_affected == 4 and campaign.last_seen == hours(60)


def test_two_organisations_of_one_sector_are_no_campaign_but_two_sectors_are(
    organisations: Orgs, hit: Hit, ministry: Organisation
) -> None:
    a, b = organisations(2)
    hit(a, 0), hit(b, 1)
    correlate_campaigns(now=hours(2))
    assert not Campaign.objects.exists()
    hit(ministry, 2)
    correlate_campaigns(now=hours(3))
    assert Campaign.objects.get().sectors == ["energy", "public-administration"]


def test_many_organisations_of_one_essential_sector_raise_the_level_above_every_member(
    organisations: Orgs, hit: Hit
) -> None:
    members = [hit(organisation, n) for n, organisation in enumerate(organisations(10))]
    correlate_campaigns(now=hours(11))
    campaign = Campaign.objects.get()
    assert campaign.organisations_affected == 10
    assert campaign.level > max(incident.level for incident in members)
    fired = {rule["id"] for rule in nciss.assess(national_scale(), campaign.facts).to_dict()["rules_fired"]}
    assert "campaign" in fired  # ten organisations or more: national coordination


def test_a_worse_member_raises_the_campaign_when_it_is_assessed_again(organisations: Orgs, hit: Hit) -> None:
    a, b, c = organisations(3)
    hit(a, 0), hit(b, 1)
    worst = hit(c, 2)
    correlate_campaigns(now=hours(3))
    level = Campaign.objects.get().level
    incidents.update_facts(incident=worst, actor=worst.created_by, changes={"fatalities": 1})
    summary = correlate_campaigns(now=hours(4))
    campaign = Campaign.objects.get()
    assert campaign.facts["fatalities"] == 1 and campaign.level > level
    assert summary.reassessed == {campaign.reference: [level, campaign.level]}


def test_incidents_of_two_organisations_sharing_an_indicator_form_a_campaign(
    organisations: Orgs, hit: Hit, ministry: Organisation
) -> None:
    (grid,) = organisations(1)
    c2 = ("ipv4-addr", "203.0.113.66")
    one = hit(grid, 0, classification="fraud:phishing", observables=(c2, ("domain-name", "login.example")))
    two = hit(ministry, 30, classification="malicious-code:infected-system", observables=(c2,))
    hit(ministry, 31, classification="availability:ddos", observables=(("ipv4-addr", "198.51.100.1"),))
    correlate_campaigns(now=hours(31))
    campaign = Campaign.objects.get()
    assert campaign.basis == "indicator" and campaign.indicators == [list(c2)]
    assert set(campaign.incidents.all()) == {one, two}


def test_rejected_and_duplicate_incidents_are_no_members(organisations: Orgs, hit: Hit, coordinator: User) -> None:
    a, b, c = organisations(3)
    hit(a, 0), hit(b, 1)
    third = hit(c, 2)
    incidents.change_status(incident=third, actor=coordinator, to=Status.REJECTED)
    correlate_campaigns(now=hours(3))
    assert not Campaign.objects.exists()  # two organisations of one sector remain


def test_a_campaign_closes_once_every_incident_is_finished(organisations: Orgs, hit: Hit, analyst: User) -> None:
    members = [hit(organisation, n) for n, organisation in enumerate(organisations(3))]
    correlate_campaigns(now=hours(3))
    for incident in members:
        for step in (Status.TRIAGED, Status.RESOLVED):
            incidents.change_status(incident=incident, actor=analyst, to=step)
    summary = correlate_campaigns(now=hours(5))
    campaign = Campaign.objects.get()
    assert summary.closed == [campaign.reference]
    assert campaign.status == "closed" and campaign.closed_at == hours(5)


def test_a_campaign_closes_when_a_window_passes_without_a_new_incident_and_is_not_reopened(
    organisations: Orgs, hit: Hit
) -> None:
    a, b, c, d = organisations(4)
    for organisation, at in ((a, 0), (b, 1), (c, 2)):
        hit(organisation, at)
    correlate_campaigns(now=hours(3))
    assert not correlate_campaigns(now=hours(2 + 72)).closed  # a window after the last one: not yet past
    assert correlate_campaigns(now=hours(2 + 73)).closed == ["CMP-2026-0001"]
    hit(d, 2 + 73)  # within a window of nothing open: alone, it starts nothing
    correlate_campaigns(now=hours(2 + 74))
    assert list(Campaign.objects.values_list("status", flat=True)) == ["closed"]


def test_the_window_and_the_organisations_needed_are_configurable(organisations: Orgs, hit: Hit, settings) -> None:  # type: ignore[no-untyped-def]
    a, b = organisations(2)
    hit(a, 0), hit(b, 10)
    settings.NCISS_CAMPAIGN_MIN_ORGANISATIONS = 2
    assert not correlate_campaigns(now=hours(11), window=dt.timedelta(hours=5)).opened
    assert correlate_campaigns(now=hours(11)).opened == ["CMP-2026-0001"]


def test_it_refuses_a_window_that_is_not_positive_or_fewer_than_two_organisations() -> None:
    with pytest.raises(ServiceError, match="window"):
        correlate_campaigns(window=dt.timedelta(0))
    with pytest.raises(ServiceError, match="min_organisations"):
        correlate_campaigns(min_organisations=1)


def test_the_indicators_of_a_red_incident_link_nothing(organisations: Orgs, hit: Hit, reporter: User) -> None:
    (grid,) = organisations(1)
    c2 = (("ipv4-addr", "203.0.113.66"),)
    hit(grid, 0, observables=c2, classification="fraud:phishing")
    hit(reporter.organisation, 1, observables=c2, actor=reporter, tlp="TLP:RED")
    correlate_campaigns(now=hours(2))
    assert not Campaign.objects.exists()


def test_a_campaign_whose_incidents_did_not_change_still_closes_after_the_window(organisations: Orgs, hit: Hit) -> None:
    for n, organisation in enumerate(organisations(3)):
        hit(organisation, n)
    correlate_campaigns(now=hours(3))
    Incident.objects.update(updated_at=hours(2))  # nothing changed since the campaign was last updated
    assert not correlate_campaigns(now=hours(4)).changed
    assert correlate_campaigns(now=hours(2 + 73)).closed == ["CMP-2026-0001"]
    assert Campaign.objects.get().closed_at == hours(2 + 73)
