"""Feed events over HTTP, CSV feeds through a mapping, IntelMQ uploads, and the feed pages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.feeds.models import DeadLetter, FeedBatch, FeedIncident
from nciss_platform.feeds.tests.test_ingest import event
from nciss_platform.incidents.models import Incident
from nciss_platform.interop.services import import_uploads
from nciss_platform.outbox.worker import run_due_jobs

Api = Callable[[User | None], APIClient]
pytestmark = pytest.mark.usefixtures("without_2fa")
EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"


def lines(*events: Any) -> bytes:
    return b"".join((e if isinstance(e, bytes) else orjson.dumps(e)) + b"\n" for e in events)


def post(client: APIClient, body: bytes, content_type: str = "application/x-ndjson") -> Any:
    return client.generic("POST", "/api/v1/feeds/events", body, content_type=content_type)


@pytest.fixture
def feed_account(csirt: Organisation) -> User:
    """A feed service account: a reporter-role user of the CSIRT with the permission to submit events."""
    user = User.objects.create_user("feed-bot", role="reporter", organisation=csirt)
    user.user_permissions.add(Permission.objects.get(codename="submit_events"))
    return User.objects.get(pk=user.pk)


@pytest.mark.django_db
def test_events_posted_are_stored_answered_202_and_ingested_by_the_outbox(
    owned: None, analyst: User, api: Api, energy: Organisation
) -> None:
    client = api(analyst)
    body = lines(event("192.0.2.10"), event("192.0.2.11"), event("192.0.2.10"), b"{broken", event("203.0.113.1"))
    response = post(client, body)
    assert response.status_code == 202, response.json()
    batch = response.json()
    assert batch["status"] == "pending" and batch["events"] == 5
    assert response["Location"] == f"/api/v1/feeds/batches/{batch['id']}"
    assert not Incident.objects.exists()  # stored, not yet ingested

    run_due_jobs()

    status = client.get(response["Location"]).json()
    assert status["status"] == "done"
    assert status["counts"] == {
        "read": 5,
        "rejected": 1,
        "unattributed": 1,
        "attributed": 3,
        "duplicates": 1,
        "incidents_opened": 1,
        "incidents_updated": 0,
    }
    assert FeedIncident.objects.get().organisation == energy
    assert DeadLetter.objects.get().raw == "{broken"
    run_due_jobs()  # nothing left to do, and the batch is not ingested twice
    assert FeedIncident.objects.get().events == 2


@pytest.mark.django_db
def test_a_json_array_from_a_feed_account_is_accepted(owned: None, feed_account: User, api: Api) -> None:
    response = post(api(feed_account), orjson.dumps([event("192.0.2.10"), event("198.51.100.3")]), "application/json")
    assert response.status_code == 202
    run_due_jobs()
    assert FeedBatch.objects.get().counts["incidents_opened"] == 2
    assert {i.created_by for i in Incident.objects.all()} == {feed_account}


@pytest.mark.django_db
def test_bodies_without_a_valid_event_are_400_with_the_reasons(analyst: User, api: Api) -> None:
    client = api(analyst)
    empty = post(client, b"")
    assert empty.status_code == 400 and empty.json()["errors"][0]["path"] == "body"
    bad = post(client, lines({"source.ip": "192.0.2.1", "time.source": "2026-03-02T08:00:00+00:00"}, b"nope"))
    assert bad.status_code == 400
    assert [e["path"] for e in bad.json()["errors"]] == ["line 1.classification.type", "line 2"]
    assert not FeedBatch.objects.exists()


@pytest.mark.django_db
def test_reporters_and_partners_may_not_submit_events_nor_read_dead_letters(
    reporter: User, partner: User, api: Api
) -> None:
    for user in (reporter, partner):
        client = api(user)
        assert post(client, lines(event())).status_code == 403
        assert client.get("/api/v1/feeds/dead-letters").status_code == 403
    assert APIClient().get("/api/v1/feeds/dead-letters").status_code in (401, 403)
    assert not FeedBatch.objects.exists()


@pytest.mark.django_db
def test_a_request_over_the_size_limit_is_413(analyst: User, api: Api, settings: Any) -> None:
    settings.NCISS_FEED_MAX_REQUEST_BYTES = 1000
    response = post(api(analyst), lines(*[event(f"192.0.2.{n}") for n in range(1, 20)]))
    assert response.status_code == 413
    assert not FeedBatch.objects.exists()


@pytest.mark.django_db
def test_a_full_backlog_is_429_with_retry_after_until_workers_catch_up(
    owned: None, administrator: User, api: Api, settings: Any
) -> None:
    settings.NCISS_FEED_MAX_BACKLOG_EVENTS = 3
    client = api(administrator)
    assert post(client, lines(event("192.0.2.1"), event("192.0.2.2"))).status_code == 202
    refused = post(client, lines(event("192.0.2.3"), event("192.0.2.4")))
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "waiting" in refused.json()["error"]
    run_due_jobs()  # the workers ingest the backlog
    assert post(client, lines(event("192.0.2.3"), event("192.0.2.4"))).status_code == 202
    assert FeedBatch.objects.count() == 2


@pytest.mark.django_db
def test_the_example_csv_feed_becomes_events_and_its_bad_rows_dead_letters(
    owned: None, analyst: User, energy: Organisation, ministry: Organisation, capsys: Any
) -> None:
    call_command(
        "ingest",
        "--format",
        "csv",
        "--mapping",
        str(EXAMPLES / "abuse-feed-mapping.yaml"),
        "--user",
        analyst.username,
        "--quiet",
        str(EXAMPLES / "abuse-feed.csv"),
    )
    assert "6 events read: 3 attributed" in capsys.readouterr().out
    groups = {(f.organisation, f.classification, f.events) for f in FeedIncident.objects.all()}
    assert groups == {
        (energy, "malicious-code:infected-system", 2),
        (ministry, "information-gathering:scanner", 1),
    }
    incident = Incident.objects.get(feed__organisation=energy)
    assert incident.occurred_at is not None and incident.occurred_at.isoformat() == "2026-03-02T08:15:00+00:00"
    assert {o.value for o in incident.observables.all()} >= {"192.0.2.10", "cam.grid.example"}
    letters = {(d.source, d.position, d.field) for d in DeadLetter.objects.all()}
    assert letters == {
        ("abuse-feed.csv", "row 5", "facts.classification"),
        ("abuse-feed.csv", "row 6", "facts.occurred_at"),
        ("abuse-feed.csv", "row 7", "source.ip"),
    }


@pytest.mark.django_db
def test_a_csv_mapping_that_makes_no_events_is_a_bad_invocation(tmp_path: Path, analyst: User) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("title: '{ip}'\nfacts:\n  classification: type\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"facts\.occurred_at: required for feed events") as raised:
        call_command("ingest", "--format", "csv", "--mapping", str(mapping), "--user", analyst.username, "x.csv")
    assert getattr(raised.value, "returncode", None) == 2


@pytest.mark.django_db
def test_intelmq_uploads_are_attributed_and_aggregated_per_organisation(
    owned: None, analyst: User, energy: Organisation, ministry: Organisation
) -> None:
    upload = SimpleUploadedFile("drones.jsonl", lines(event("192.0.2.10"), event("198.51.100.2"), event("203.0.113.9")))
    summary = import_uploads(actor=analyst, fmt="intelmq", uploads=[upload])
    assert (summary.read, summary.imported, len(summary.references)) == (3, 2, 2)
    assert "1 events outside the constituency" in summary.rejected[0].reason
    assert {org for i in Incident.objects.all() for org in i.affected_organisations.all()} == {energy, ministry}


@pytest.mark.django_db
def test_the_feed_pages_show_the_backlog_and_dead_letters_to_staff_only(
    owned: None, analyst: User, reporter: User, api: Api
) -> None:
    batch = post(api(analyst), lines(event("192.0.2.10"), b'{"source.ip": 1}')).json()
    source = f"api batch {batch['id']}"
    run_due_jobs()
    post(api(analyst), lines(event("192.0.2.11")))
    page = Client()
    page.force_login(analyst)
    status = page.get("/feeds/").content.decode()
    assert "Events waiting" in status and source in status
    letters = page.get("/feeds/dead-letters/", {"source": source}).content.decode()
    assert "expected a string" in letters and "{&quot;source.ip&quot;: 1}" in letters
    listed = api(analyst).get("/api/v1/feeds/dead-letters", {"source": source}).json()
    assert [(d["position"], d["field"]) for d in listed["results"]] == [("line 2", "source.ip")]
    page.force_login(reporter)
    assert page.get("/feeds/").status_code == 403
    assert page.get("/feeds/dead-letters/").status_code == 403
