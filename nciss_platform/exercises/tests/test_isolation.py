"""Exercises never mix with real incidents: a whole shipped scenario, played through the services,
leaves no trace in the queue, dashboard, statistics, exports, TAXII, feeds or notifications."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.exercises import services
from nciss_platform.exercises.tests.conftest import new_run, play, players_of
from nciss_platform.incidents.models import Incident
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.notifications.models import Notification
from nciss_platform.reports.statistics import counted_incidents
from nciss_platform.sharing import taxii
from nciss_platform.sharing.models import Share

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_2fa")]

KEPT_APART = ("exercises", "audit", "sessions")  # the run's own tables; the audit trail records exercise.* actions


def rows() -> dict[str, int]:
    """How many rows every table outside the exercise's own has."""
    return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label not in KEPT_APART}


def exercise_words(run_source: str) -> list[str]:
    """Titles of the scenario's incidents and injects, in every language: what would betray a leak."""
    sc = services.scenario_of(run_source)
    texts = [i.title for i in sc.incidents.values()] + [i.title for i in sc.injects]
    return sorted({t.get_for(lang) for t in texts for lang in ("en", "ru", "uz")})


@pytest.mark.parametrize("scenario", ["hospital-ransomware", "cross-border-grid"])
def test_a_whole_exercise_leaves_no_trace_outside_its_own_tables(
    scenario: str, coordinator: User, analyst: User, reporter: User, csirt: Organisation, tmp_path: Path
) -> None:
    real = report(reporter, "Real grid outage")
    run = new_run(coordinator, scenario)
    players = players_of(run, coordinator, csirt)
    before = rows()
    counted = counted_incidents().count()

    play(run, coordinator, players, scenario)

    assert run.phase == "ended" and run.events.count() > 10
    assert rows() == before
    assert Incident.objects.count() == 1 and counted_incidents().count() == counted
    assert Notification.objects.count() == 0 and Share.objects.count() == 0
    assert taxii.entries_of(Share.objects.all()) == []

    staff = Client()
    staff.force_login(analyst)
    pages = {
        "queue": staff.get(reverse("incidents:queue")),
        "dashboard": staff.get(reverse("dashboard:dashboard")),
        "dashboard panels": staff.get(reverse("dashboard:panels")),
        "statistics": staff.get(reverse("reports:statistics")),
        "sitrep": staff.get(reverse("reports:national")),
        "export csv": staff.get("/api/v1/exports", {"format": "csv"}),
        "export stix": staff.get("/api/v1/exports", {"format": "stix"}),
    }
    out = tmp_path / "export.csv"
    call_command("export", "--format", "csv", "-o", str(out), stderr=io.StringIO())
    texts = {name: response.content.decode() for name, response in pages.items()} | {"nciss export": out.read_text()}
    assert all(response.status_code == 200 for response in pages.values()), {n: r.status_code for n, r in pages.items()}
    assert real.reference in texts["queue"] and real.reference in texts["export csv"]
    for name, text in texts.items():
        leaked = [word for word in exercise_words(run.source) if word in text]
        assert not leaked, f"{name} shows {leaked}"
        assert "EXERCISE" not in text, name
