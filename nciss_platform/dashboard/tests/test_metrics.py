"""Compliance and mean times on the known history, straight from the incidents and through the rollups."""

from __future__ import annotations

import datetime as dt
import io
import random

import pytest
from django.core.management import call_command

import nciss
from nciss.clocks import BusinessCalendar, response_clocks
from nciss_platform import clock
from nciss_platform.dashboard import metrics, rollups, services
from nciss_platform.dashboard.models import DailyFigures
from nciss_platform.dashboard.tests.conftest import NOW
from nciss_platform.incidents.models import Incident
from nciss_platform.incidents.services import national_scale

LAST_WEEK = services.period_ending(NOW, 7)


@pytest.mark.django_db
def test_compliance_counts_each_step_met_or_breached_and_leaves_running_ones_out(history: dict) -> None:
    recent = Incident.objects.filter(reported_at__gte=NOW - dt.timedelta(days=7))
    compliance = metrics.response_compliance(recent, national_scale(), now=NOW)
    triage, first, resolution = compliance.steps
    assert (triage.met, triage.breached) == (3, 3)  # A F G in time; B late; C D not triaged and past due
    assert (first.met, first.breached) == (2, 1)  # A B; G past its 2 h
    assert (resolution.met, resolution.breached) == (1, 0)
    assert triage.share == pytest.approx(0.5) and first.share == pytest.approx(2 / 3)
    assert first.pending == 3  # C D F are still within their targets


@pytest.mark.django_db
def test_mean_times_average_over_the_incidents_that_reached_the_step(history: dict) -> None:
    times = metrics.mean_times(Incident.objects.all())
    assert times.triaged == 4 and times.resolved == 1
    assert times.to_triage == dt.timedelta(minutes=(60 + 300 + 10 + 20) / 4)
    assert times.to_resolve == dt.timedelta(days=1)


@pytest.mark.django_db
def test_nothing_decided_has_no_share(db: None) -> None:
    compliance = metrics.response_compliance(Incident.objects.none(), national_scale(), now=NOW)
    assert all(step.share is None for step in compliance.steps)
    assert metrics.mean_times(Incident.objects.none()) == metrics.MeanTimes(None, 0, None, 0)


@pytest.mark.django_db
def test_the_rollups_give_the_same_figures(history: dict) -> None:
    rollups.refresh(NOW)
    performance = services.performance(LAST_WEEK)
    recent = Incident.objects.filter(reported_at__date__gte=LAST_WEEK.first)
    direct_compliance = metrics.response_compliance(recent, national_scale(), now=NOW)
    for rolled, direct_step in zip(performance.compliance.steps, direct_compliance.steps, strict=True):
        assert (rolled.met, rolled.breached) == (direct_step.met, direct_step.breached)
    direct = metrics.mean_times(recent)
    assert performance.times.triaged == direct.triaged and performance.times.resolved == direct.resolved
    assert performance.times.to_triage == pytest.approx(direct.to_triage, abs=dt.timedelta(seconds=1))
    assert performance.reported == 6  # E is older than the week


@pytest.mark.django_db
def test_heatmap_and_trends_count_the_period(history: dict) -> None:
    rollups.refresh(NOW)
    assert services.sector_by_level(LAST_WEEK) == {
        ("energy", 3): 2, ("banking", 1): 1, ("health", 5): 1, ("energy", 2): 1, ("energy", 4): 1
    }  # fmt: skip
    by_class = services.trend(LAST_WEEK, "classification")
    assert [b[0] for b in LAST_WEEK.buckets][-3:] == [NOW.date() - dt.timedelta(days=n) for n in (2, 1, 0)]
    assert by_class["availability"][-3:] == [2, 0, 1]  # A B two days ago, F today
    quarter = services.period_ending(NOW, 90)
    weeks = [(first, last) for first, last in quarter.buckets]
    assert len(weeks) == 13 and weeks[-1][1] == NOW.date() and all((b - a).days <= 6 for a, b in weeks)
    baseline = services.trend(quarter, "level")[0]
    assert baseline[next(i for i, (a, b) in enumerate(weeks) if a <= dt.date(2026, 2, 1) <= b)] == 1 == sum(baseline)


@pytest.mark.django_db
def test_live_figures_open_by_level_new_and_escalated(history: dict) -> None:
    assert services.open_by_level() == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
    since = NOW - services.RECENT
    assert services.reported_since(since) == 3  # D F G
    assert services.escalated_count(since) == 1  # F; B was assessed again at the same level


@pytest.mark.django_db
def test_a_refresh_rewrites_only_changed_days_and_sees_clocks_run_out(history: dict) -> None:
    rollups.refresh(NOW)
    later = NOW + dt.timedelta(minutes=5)
    with clock.frozen(later):
        Incident.objects.filter(reference="NCISS-2026-000006").update(level=4, updated_at=later)
    assert rollups.refresh(later).days == 1
    assert services.sector_by_level(LAST_WEEK)[("energy", 4)] == 2
    # F's first response (Medium: 1 day) falls due without anyone touching it
    tomorrow = NOW + dt.timedelta(days=1)
    Incident.objects.filter(reference="NCISS-2026-000006").update(due_at=NOW + dt.timedelta(hours=21))
    assert rollups.refresh(tomorrow).days == 1
    first_response = services.performance(services.period_ending(tomorrow, 7)).compliance.step("first_response")
    assert first_response.breached == 3  # G, and now F and D (reported the same day, so rewritten with it)


@pytest.mark.django_db
def test_rollups_older_than_a_minute_are_refreshed_on_demand(history: dict) -> None:
    rollups.ensure_fresh(NOW)
    make_older = NOW + dt.timedelta(seconds=30)
    assert rollups.ensure_fresh(make_older) == NOW  # fresh enough: not refreshed
    assert rollups.ensure_fresh(NOW + dt.timedelta(seconds=61)) == NOW + dt.timedelta(seconds=61)


def test_the_quick_working_time_agrees_with_the_clocks() -> None:
    """Business hours with a weekend, holidays and a time zone: every outcome as nciss.clocks decides it."""
    calendar = BusinessCalendar.from_json(
        {"time_zone": "Asia/Tashkent", "working_days": [1, 2, 3, 4, 5], "hours": {"start": "09:00", "end": "18:00"},
         "holidays": ["03-08", "03-21", "2026-03-23"]}
    )  # fmt: skip
    scale = nciss.load_scale("osce-reference")
    working = metrics._WorkingTime(calendar)
    rng = random.Random(11)
    base = dt.datetime(2026, 2, 20, tzinfo=dt.UTC)
    for _ in range(1500):
        level = scale.levels[rng.choice([0, 1, 2, 3])]
        reported = base + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 40))
        if rng.random() < 0.3:  # reported, or done, right at a working day's end or start
            reported = reported.replace(hour=rng.choice([4, 13]), minute=0, second=0)
        done = {}
        for step in ("triage", "first_response", "resolution"):
            if rng.random() < 0.6:
                done[step] = reported + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
        row = {"reported_at": reported, "triaged_at": done.get("triage"),
               "first_response_at": done.get("first_response"), "resolved_at": done.get("resolution")}  # fmt: skip
        stopped = reported + dt.timedelta(days=rng.randrange(1, 40)) if rng.random() < 0.3 else None
        now = reported + dt.timedelta(days=rng.randrange(0, 40), minutes=rng.randrange(0, 1440))
        expected = {
            t.step: t.state if t.state in ("met", "breached") else "pending"
            for t in response_clocks(level, reported, done, [], calendar, now, stopped=stopped)
        }
        assert metrics._outcomes(level, row, [], calendar, working, now, stopped) == expected, (level.rank, row, now)


@pytest.mark.django_db
def test_the_refresh_command_rebuilds_every_day(history: dict) -> None:
    out = io.StringIO()
    call_command("refresh_dashboard", "--full", stdout=out)
    assert out.getvalue().startswith("4 days rewritten from 7 incidents")  # E's day and three days this month
    assert sum(DailyFigures.objects.values_list("reported", flat=True)) == 7
