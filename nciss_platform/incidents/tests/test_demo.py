"""``nciss demo``: the fictional Republic of Aralia, loaded once through the services."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.audit.services import verify
from nciss_platform.incidents import demo_data
from nciss_platform.incidents.access import visible_incidents
from nciss_platform.incidents.models import TLP, Incident, TimelineEntry
from nciss_platform.incidents.workflow import OPEN_STATUSES, Status

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[dict[str, object]]:
    """The demo loaded once for the module, rolled back afterwards."""
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))
    with django_db_blocker.unblock(), media, transaction.atomic():
        out = io.StringIO()
        started = time.perf_counter()
        call_command("demo", stdout=out)
        yield {"output": out.getvalue(), "seconds": time.perf_counter() - started}
        transaction.set_rollback(True)


# First in the module: it needs a database without the demo (the module's fixture is set up later).
def test_it_refuses_a_database_that_holds_some_of_its_names_but_not_the_demo() -> None:
    Organisation.objects.create(name="Someone else's Aralia Grid", slug="aralia-grid", kind="operator", country="XA")
    with pytest.raises(CommandError, match="nothing loaded: the database already holds aralia-grid"):
        call_command("demo", stdout=io.StringIO())
    assert Incident.objects.count() == 0


def test_it_loads_a_country_of_operators_across_sectors_with_its_csirt_regulators_and_partners(demo) -> None:
    orgs = Organisation.objects.all()
    kinds = {kind: orgs.filter(kind=kind).count() for kind in Organisation.Kind.values}
    assert kinds["csirt"] == 1 and kinds["regulator"] >= 1 and kinds["agency"] >= 4
    assert 25 <= kinds["operator"] <= 40
    assert {"energy", "drinking-water", "banking", "health", "digital-infrastructure", "transport"} <= set(
        orgs.filter(kind="operator").values_list("sector", flat=True)
    )
    assert {"cloud", "dns", "tld", "trust-service", "msp", "marketplace"} <= set(
        orgs.values_list("entity_type", flat=True)
    )
    partners = orgs.filter(kind="partner")
    assert {p.preferred_scale for p in partners} == {"cisa-nciss", "uk-ncsc"}
    assert all(p.is_foreign for p in partners) and not any(o.is_foreign for o in orgs.exclude(kind="partner"))


def test_it_gives_every_role_a_login_and_prints_it(demo) -> None:
    output = demo["output"]
    assert demo_data.DEMO_PASSWORD in output and "http://127.0.0.1:8000/" in output
    for role in User.Role.values:
        user = User.objects.filter(role=role).first()
        assert user is not None, role
        assert f"{role:<14} {user.username}" in output
        assert authenticate(username=user.username, password=demo_data.DEMO_PASSWORD) == user
    assert User.objects.get(username="admin").is_staff


def test_it_loads_about_300_incidents_in_every_status_and_at_every_level(demo) -> None:
    incidents = Incident.objects.all()
    assert 280 <= incidents.count() <= 320
    assert set(incidents.values_list("status", flat=True)) == set(Status.values)
    levels = [incidents.filter(level=rank).count() for rank in range(6)]
    assert all(levels), levels
    assert levels[0] + levels[1] > 0.75 * sum(levels), "most incidents are Baseline or Low"
    assert levels[5] == 1 and levels[3] + levels[4] <= 0.06 * sum(levels)


def test_it_dates_the_history_in_the_last_90_days(demo) -> None:
    now = timezone.now()
    reported = Incident.objects.values_list("reported_at", flat=True)
    assert min(reported) > now - dt.timedelta(days=91) and max(reported) < now
    assert min(reported) < now - dt.timedelta(days=80), "the 90 days are filled"
    assert AuditEvent.objects.filter(at__gt=now).count() == 0
    assert TimelineEntry.objects.filter(created_at__gt=now).count() == 0
    open_incidents = Incident.objects.filter(status__in=OPEN_STATUSES)
    assert 15 <= open_incidents.count() <= 80 and open_incidents.filter(due_at__lt=now).exists(), "some are overdue"


def test_it_makes_each_incident_a_real_history(demo) -> None:
    timeline = TimelineEntry.objects.values_list("kind", flat=True)
    assert set(TimelineEntry.Kind.values) <= set(timeline)
    reassessed = Incident.objects.filter(timeline__kind=TimelineEntry.Kind.FACTS).distinct()
    assert reassessed.count() >= 30 and all(i.assessments.count() >= 2 for i in reassessed[:10])
    duplicates = Incident.objects.filter(status=Status.DUPLICATE)
    assert duplicates.count() >= 5 and all(d.duplicate_of is not None for d in duplicates)
    assert Incident.objects.exclude(assignee=None).count() > 150
    assert Incident.objects.exclude(reporting_submissions={}).count() >= 5


def test_it_shares_some_incidents_as_tlp_red_with_named_recipients_only(demo) -> None:
    red = Incident.objects.filter(tlp=TLP.RED)
    assert red.count() >= 3
    emergency = Incident.objects.get(level=5)
    assert emergency.tlp == TLP.RED and emergency.facts["countries_affected"]
    assert emergency in visible_incidents(User.objects.get(username="analyst"))
    assert emergency not in visible_incidents(User.objects.get(username="r.tashev"))
    assert emergency not in visible_incidents(User.objects.get(username="reporter.water"))


def test_its_audit_chain_verifies(demo) -> None:
    result = verify()
    assert result.ok, result.reason
    assert result.checked == AuditEvent.objects.count() > 1000


def test_it_loads_only_once(demo) -> None:
    before = (Incident.objects.count(), AuditEvent.objects.count(), User.objects.count())
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert "already loaded: nothing changed" in out.getvalue()
    assert (Incident.objects.count(), AuditEvent.objects.count(), User.objects.count()) == before


def test_it_loads_well_under_a_minute(demo) -> None:
    assert demo["seconds"] < 60
