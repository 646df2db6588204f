"""Correlation runs by itself: a durable outbox job after reports, fact changes and feed batches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from nciss_platform import clock
from nciss_platform.accounts.constituency import add_assets
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.campaigns.models import Campaign
from nciss_platform.campaigns.schedule import CORRELATE
from nciss_platform.campaigns.tests.conftest import COMPROMISE, Hit, hours
from nciss_platform.feeds.services import ingest_events
from nciss_platform.incidents import services as incidents
from nciss_platform.outbox.models import Job
from nciss_platform.outbox.worker import run_due_jobs

pytestmark = pytest.mark.django_db
Orgs = Callable[..., list[Organisation]]


def pending() -> list[Job]:
    return list(Job.objects.filter(kind=CORRELATE, state=Job.State.PENDING).order_by("run_after"))


def test_a_burst_of_reports_leaves_one_pending_correlation_that_opens_the_campaign(
    organisations: Orgs, hit: Hit
) -> None:
    for n, organisation in enumerate(organisations(3)):
        hit(organisation, n / 60)
    assert len(pending()) == 1
    run_due_jobs(hours(1))
    campaign = Campaign.objects.get()
    assert campaign.incidents.count() == 3
    # the next run is already booked for when the campaign may close without news
    (follow_up,) = pending()
    assert follow_up.run_after == campaign.last_seen + dt.timedelta(hours=72, seconds=1)


def test_a_reclassified_incident_is_correlated_again_and_joins(organisations: Orgs, hit: Hit, analyst: User) -> None:
    a, b, c = organisations(3)
    hit(a, 0), hit(b, 1)
    odd = hit(c, 2, classification="fraud:phishing")
    run_due_jobs(hours(3))
    assert not Campaign.objects.exists()
    with clock.frozen(hours(4)):
        incidents.update_facts(incident=odd, actor=analyst, changes={"classification": COMPROMISE})
    assert [job.run_after for job in pending()] == [hours(4)]
    run_due_jobs(hours(4))
    assert odd in Campaign.objects.get().incidents.all()


def test_the_booked_run_closes_a_campaign_that_saw_nothing_new(organisations: Orgs, hit: Hit) -> None:
    for n, organisation in enumerate(organisations(3)):
        hit(organisation, n)
    run_due_jobs(hours(3))
    assert run_due_jobs(hours(2 + 72)) == 0  # a window after the last incident: nothing due yet
    assert Campaign.objects.get().status == "open"
    assert run_due_jobs(hours(2 + 72) + dt.timedelta(seconds=1)) == 1
    assert Campaign.objects.get().status == "closed"


def event(ip: str, at: str, **more: Any) -> dict[str, Any]:
    return {
        "feed.name": "drone-feed",
        "classification.taxonomy": "malicious-code",
        "classification.type": "infected-system",
        "source.ip": ip,
        "time.source": at,
        "time.observation": at,
        **more,
    }


def test_a_feed_batch_that_only_grows_incidents_still_asks_for_a_correlation(
    analyst: User, energy: Organisation, ministry: Organisation
) -> None:
    add_assets(actor=None, organisation=energy, assets=[("cidr", "192.0.2.0/24")])
    add_assets(actor=None, organisation=ministry, assets=[("cidr", "198.51.100.0/24")])
    with clock.frozen(hours(0)):
        ingest_events(events=[event("192.0.2.10", "2026-03-02T08:00:00+00:00")], actor=analyst)
        ingest_events(events=[event("198.51.100.7", "2026-03-02T08:05:00+00:00")], actor=analyst)
    run_due_jobs(hours(0))
    campaign = Campaign.objects.get()  # two organisations in two sectors with the same type
    assert campaign.sectors == ["energy", "public-administration"]
    Job.objects.filter(kind=CORRELATE).delete()
    with clock.frozen(hours(1)):  # later events of the same window: absorbed, no incident opened
        summary = ingest_events(events=[event("192.0.2.11", "2026-03-02T08:30:00+00:00")], actor=analyst)
    assert (summary.incidents_opened, summary.incidents_updated) == (0, 1)
    assert [job.run_after for job in pending()] == [hours(1)]
