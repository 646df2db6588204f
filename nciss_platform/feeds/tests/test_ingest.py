"""Ingesting IntelMQ events: attribution, deduplication, aggregation, dead letters, the command."""

from __future__ import annotations

import datetime as dt
import gc
import io
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from nciss_platform import clock
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.feeds.models import DeadLetter, FeedIncident, SeenEvent
from nciss_platform.feeds.reading import read_feeds
from nciss_platform.feeds.services import ingest_events
from nciss_platform.incidents import services as incident_services
from nciss_platform.incidents.models import Incident

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def event(ip: str = "192.0.2.10", kind: str = "infected-system", at: str = "2026-03-02T08:00:00+00:00", **more: Any):
    return {
        "feed.name": "drone-feed",
        "classification.taxonomy": "malicious-code",
        "classification.type": kind,
        "source.ip": ip,
        "time.source": at,
        "time.observation": "2026-03-02T09:00:00+00:00",
        **more,
    }


def ingest(analyst: User, events: list[Any], **kwargs: Any):
    with clock.frozen(NOW):
        return ingest_events(events=events, actor=analyst, **kwargs)


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_bytes(b"".join((line if isinstance(line, bytes) else orjson.dumps(line)) + b"\n" for line in lines))
    return path


@pytest.mark.django_db
def test_it_opens_one_incident_per_organisation_and_type_for_the_owner_of_the_address(
    owned: None, analyst: User, energy: Organisation, ministry: Organisation
) -> None:
    summary = ingest(
        analyst,
        [event("192.0.2.10"), event("192.0.2.11"), event("198.51.100.7"), event("192.0.2.12", kind="phishing")],
    )
    assert (summary.read, summary.attributed, summary.incidents_opened) == (4, 4, 3)
    grid = FeedIncident.objects.get(organisation=energy, classification="malicious-code:infected-system")
    assert grid.events == 2
    assert list(grid.incident.affected_organisations.all()) == [energy]
    assert grid.incident.reporting_organisation == analyst.organisation
    assert grid.incident.facts["malicious"] is True and grid.incident.facts["sector"] == "energy"
    assert grid.incident.level > 0 and grid.incident.assessments.count() == 1
    assert set(grid.incident.observables.values_list("value", flat=True)) == {"192.0.2.10", "192.0.2.11"}
    assert FeedIncident.objects.get(organisation=ministry).incident.classification == "malicious-code:infected-system"
    assert FeedIncident.objects.get(classification="fraud:phishing").organisation == energy


@pytest.mark.django_db
def test_it_attributes_by_domain_when_the_address_is_nobodys(
    owned: None, analyst: User, ministry: Organisation
) -> None:
    ingest(analyst, [event("203.0.113.5", kind="phishing", **{"source.fqdn": "login.finance.example"})])
    assert FeedIncident.objects.get().organisation == ministry


@pytest.mark.django_db
def test_it_counts_events_nobody_owns_and_keeps_nothing_of_them(owned: None, analyst: User) -> None:
    summary = ingest(analyst, [event("203.0.113.5"), event("203.0.113.6"), event("192.0.2.1")])
    assert (summary.unattributed, summary.attributed, summary.incidents_opened) == (2, 1, 1)
    assert DeadLetter.objects.count() == 0
    assert Incident.objects.count() == 1


@pytest.mark.django_db
def test_it_drops_duplicates_within_a_run_and_ignores_time_observation(owned: None, analyst: User) -> None:
    again = event(**{"time.observation": "2026-03-02T10:30:00+00:00"})
    summary = ingest(analyst, [event(), again, event(), event("192.0.2.99")], batch=3)
    assert (summary.attributed, summary.duplicates) == (4, 2)
    assert FeedIncident.objects.get().events == 2


@pytest.mark.django_db
def test_it_opens_nothing_new_when_the_same_file_comes_again(owned: None, analyst: User, tmp_path: Path) -> None:
    feed = write_lines(tmp_path / "drones.jsonl", [event(f"192.0.2.{i}") for i in range(1, 6)])
    first = ingest(analyst, list(read_feeds([feed])))
    second = ingest(analyst, list(read_feeds([feed])))
    assert (first.incidents_opened, first.duplicates) == (1, 0)
    assert (second.incidents_opened, second.incidents_updated, second.duplicates) == (0, 0, 5)
    assert Incident.objects.count() == 1 and FeedIncident.objects.get().events == 5


@pytest.mark.django_db
def test_it_forgets_events_after_the_window(owned: None, analyst: User) -> None:
    ingest(analyst, [event()])
    with clock.frozen(NOW + dt.timedelta(days=2)):
        later = ingest_events(events=[event()], actor=analyst)
    assert later.duplicates == 0
    assert SeenEvent.objects.count() == 1


@pytest.mark.django_db
def test_it_lets_an_open_incident_absorb_later_events_of_its_window(owned: None, analyst: User) -> None:
    ingest(analyst, [event("192.0.2.1", at="2026-03-02T08:00:00+00:00")])
    incident = Incident.objects.get()
    summary = ingest(
        analyst,
        [event("192.0.2.2", at="2026-03-02T11:00:00+00:00"), event("192.0.2.3", at="2026-03-02T05:00:00+00:00")],
    )
    assert (summary.incidents_opened, summary.incidents_updated) == (0, 1)
    row = FeedIncident.objects.get()
    assert row.incident == incident and row.events == 3 and row.observables == 3
    incident.refresh_from_db()
    assert incident.occurred_at == dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)
    assert incident.assessments.count() == 2  # assessed again once, for the earlier occurred_at


@pytest.mark.django_db
def test_it_opens_a_new_incident_for_another_window_or_once_the_first_is_resolved(
    owned: None, analyst: User, coordinator: User
) -> None:
    ingest(analyst, [event("192.0.2.1")])
    assert ingest(analyst, [event("192.0.2.1", at="2026-03-03T08:00:00+00:00")]).incidents_opened == 1
    first = Incident.objects.order_by("pk").first()
    assert first is not None
    for status in ("triaged", "resolved"):
        incident_services.change_status(incident=first, actor=coordinator, to=status)
    summary = ingest(analyst, [event("192.0.2.2")])
    assert summary.incidents_opened == 1
    row = FeedIncident.objects.get(window_start=dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    assert row.incident != first and row.events == 1


@pytest.mark.django_db
def test_it_keeps_rejected_lines_as_dead_letters_with_their_reasons(owned: None, analyst: User, tmp_path: Path) -> None:
    feed = write_lines(
        tmp_path / "mixed.jsonl", [event(), b"{not json", {"classification.type": "scanner", "source.ip": "192.0.2.1"}]
    )
    summary = ingest(analyst, list(read_feeds([feed])))
    assert (summary.read, summary.rejected, summary.attributed) == (3, 2, 1)
    letters = {letter.position: letter for letter in DeadLetter.objects.all()}
    assert letters["line 2"].raw == "{not json" and letters["line 2"].reason.startswith("not JSON")
    assert letters["line 3"].field == "time.source" and letters["line 3"].source == "mixed.jsonl"


@pytest.mark.django_db
def test_it_writes_one_audit_row_per_batch_of_events(owned: None, analyst: User) -> None:
    ingest(analyst, [event(f"192.0.2.{i}") for i in range(1, 11)], batch=4)
    batches = AuditEvent.objects.filter(action="feeds.ingested").order_by("pk")
    assert [row.data["read"] for row in batches] == [4, 4, 2]


@pytest.mark.django_db
def test_it_refuses_a_reporter(owned: None, reporter: User) -> None:
    from nciss_platform.errors import NotAllowed

    with pytest.raises(NotAllowed):
        ingest(reporter, [event()])


@pytest.mark.django_db
def test_it_ingests_files_from_the_command_and_prints_the_summary(owned: None, analyst: User, tmp_path: Path) -> None:
    feed = write_lines(
        tmp_path / "drones.jsonl", [event("192.0.2.1"), event("203.0.113.1"), event("192.0.2.1"), b"oops"]
    )
    out = io.StringIO()
    thresholds = gc.get_threshold()
    with clock.frozen(NOW):
        call_command("ingest", str(feed), "--user", "analyst", "--quiet", stdout=out)
    assert out.getvalue().strip() == (
        "4 events read: 2 attributed (1 duplicates), 1 outside the constituency, 1 rejected (kept as dead letters); "
        "incidents: 1 opened, 0 updated"
    )
    assert (gc.get_threshold(), gc.get_freeze_count()) == (thresholds, 0)  # the collector's tuning is undone


@pytest.mark.django_db
@pytest.mark.parametrize("arguments", [["--user", "nobody"], ["--user", "analyst", "--window", "0d"]])
def test_it_refuses_a_bad_invocation_with_exit_2(analyst: User, tmp_path: Path, arguments: list[str]) -> None:
    feed = write_lines(tmp_path / "drones.jsonl", [event()])
    with pytest.raises(CommandError) as raised:
        call_command("ingest", str(feed), *arguments)
    assert raised.value.returncode == 2
    assert Incident.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_a_missing_file_with_exit_2(analyst: User, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file") as raised:
        call_command("ingest", str(tmp_path / "absent.jsonl"), "--user", "analyst")
    assert raised.value.returncode == 2


@pytest.mark.django_db
def test_it_keeps_observables_up_to_the_cap_per_incident(
    owned: None, analyst: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("nciss_platform.feeds.services.MAX_OBSERVABLES", 3)
    ingest(analyst, [event(f"192.0.2.{i}") for i in range(1, 3)])
    ingest(analyst, [event(f"192.0.2.{i}") for i in range(2, 10)], batch=3)
    row = FeedIncident.objects.get()
    assert row.events == 9
    assert row.observables == 3 and row.incident.observables.count() == 3


@pytest.mark.django_db
def test_it_keeps_the_audit_chain_whole_when_its_batches_open_incidents(owned: None, analyst: User) -> None:
    from nciss_platform.audit.services import verify

    kinds = ["infected-system", "c2-server", "malware-distribution"]
    ingest(analyst, [event(f"192.0.2.{i}", kind=kind) for i, kind in enumerate(kinds * 2, start=1)], batch=2)
    opened = list(Incident.objects.order_by("pk"))
    assert len(opened) == 3
    check = verify()
    assert check.ok, check.reason
    rows = list(AuditEvent.objects.order_by("pk").values_list("action", "object_id"))
    assert [action for action, _ in rows].count("feeds.ingested") == 3
    # Each batch's incidents are recorded before the batch's own row, in the order they were opened.
    first_rows = [
        next(i for i, (_, object_id) in enumerate(rows) if object_id == str(incident.pk)) for incident in opened
    ]
    assert first_rows == sorted(first_rows)
