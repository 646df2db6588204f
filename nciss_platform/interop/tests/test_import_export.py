"""Importing files into incidents and exporting incidents, from the command line, the API and the pages."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from rest_framework.test import APIClient

from nciss_platform.accounts.constituency import add_assets
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.incidents.models import Incident
from nciss_platform.interop.models import ImportedRecord
from nciss_platform.interop.tests.samples import STIX_BUNDLE, veris_record

from .conftest import report


def _jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _import(*args: str) -> str:
    out = io.StringIO()
    call_command("import", *args, "--quiet", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_imports_veris_records_once_and_lists_what_it_rejected(tmp_path: Path, analyst: User) -> None:
    good = [veris_record(f"00000000-0000-4000-8000-00000000000{i}") for i in range(3)]
    lines = [json.dumps(r) for r in good] + ["{not json", json.dumps({"summary": "no incident id"})]
    source = tmp_path / "batch.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")

    first = _import("--format", "veris", "--user", analyst.username, str(source))

    assert "5 records read: 3 imported, 0 already imported, 2 rejected" in first
    assert first.count("rejected batch.jsonl") == 2  # file and record named, with the reason
    assert Incident.objects.count() == 3
    incident = Incident.objects.get(imported_from__source_id=good[0]["incident_id"].lower())
    assert incident.facts["classification"]
    assert incident.facts.get("entity_country") == "GB"  # the victim's, not the importing CSIRT's profile
    assert ImportedRecord.objects.get(incident=incident).original == good[0]  # the original is kept whole

    again = _import("--format", "veris", "--user", analyst.username, str(source))
    assert "3 already imported" in again
    assert Incident.objects.count() == 3


@pytest.mark.django_db
def test_it_imports_a_stix_bundle_with_its_tlp_reporter_and_observables(tmp_path: Path, analyst: User) -> None:
    source = tmp_path / "bundle.json"
    source.write_text(json.dumps(STIX_BUNDLE), encoding="utf-8")

    output = _import("--format", "stix", "--user", analyst.username, str(source))

    assert "1 imported" in output
    incident = Incident.objects.get()
    assert incident.title == "Botnet command server in a hosting provider's range"
    assert incident.tlp == "TLP:GREEN"
    assert [(o.type, o.value) for o in incident.observables.all()] == [("ipv4-addr", "198.51.100.7")]


@pytest.mark.django_db
def test_it_refuses_a_bad_invocation_with_exit_code_2(tmp_path: Path, analyst: User, reporter: User) -> None:
    with pytest.raises(CommandError, match="no such file") as missing:
        _import("--format", "veris", "--user", analyst.username, str(tmp_path / "absent.json"))
    assert missing.value.returncode == 2
    with pytest.raises(CommandError, match="--mapping"):
        _import("--format", "csv", "--user", analyst.username, str(tmp_path))
    with pytest.raises(CommandError, match="analysts and coordinators"):
        _import("--format", "veris", "--user", reporter.username, str(_jsonl(tmp_path / "a.jsonl", [])))


@pytest.mark.django_db
def test_it_imports_through_the_api_for_csirt_staff_only(
    without_2fa: None, api: Callable[[User | None], APIClient], analyst: User, reporter: User
) -> None:
    def upload(user: User, fmt: str = "veris") -> Any:
        body = io.BytesIO(json.dumps(veris_record("11111111-0000-4000-8000-000000000001")).encode())
        body.name = "one.json"
        return api(user).post("/api/v1/imports", {"format": fmt, "file": [body]}, format="multipart")

    assert upload(reporter).status_code == 403
    bad = upload(analyst, fmt="docx")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"] == "format"
    ok = upload(analyst)
    assert ok.status_code == 200, ok.content
    assert ok.json()["imported"] == 1
    assert ok.json()["incidents"] == [Incident.objects.get().reference]
    assert upload(analyst).json()["already_imported"] == 1


@pytest.mark.django_db
def test_it_shows_the_import_summary_on_the_upload_page(without_2fa: None, analyst: User) -> None:
    client = Client()
    client.force_login(analyst)
    page = client.get("/import/")
    assert page.status_code == 200
    body = io.BytesIO(
        ("\n".join([json.dumps(veris_record("22222222-0000-4000-8000-000000000001")), "{oops"]) + "\n").encode()
    )
    body.name = "two.jsonl"
    result = client.post("/import/", {"format": "veris", "tlp": "TLP:GREEN", "file": body})
    text = result.content.decode()
    assert result.status_code == 200
    assert 'id="count-imported">1<' in text and 'id="count-rejected">1<' in text
    assert "two.jsonl" in text
    assert Incident.objects.get().tlp == "TLP:GREEN"


@pytest.mark.django_db
def test_it_exports_only_what_the_user_may_see(
    without_2fa: None, api: Callable[[User | None], APIClient], reporter: User, ministry_reporter: User, analyst: User
) -> None:
    grid = report(reporter)
    red = report(ministry_reporter, title="Minister's mailbox read", tlp="TLP:RED")

    own = api(reporter).get("/api/v1/exports", {"format": "stix", "incident": grid.reference})
    assert own.status_code == 200
    bundle = json.loads(own.content)
    assert [o["name"] for o in bundle["objects"] if o["type"] == "incident"] == [grid.title]
    assert (
        api(ministry_reporter).get("/api/v1/exports", {"format": "stix", "incident": grid.reference}).status_code == 404
    )
    # TLP:RED reaches its named recipients only, also as a file
    assert api(analyst).get("/api/v1/exports", {"format": "misp", "incident": red.reference}).status_code == 404
    everything = api(analyst).get("/api/v1/exports", {"format": "csv"})
    assert grid.reference in everything.content.decode() and red.reference not in everything.content.decode()
    assert AuditEvent.objects.filter(action="interop.exported").count() == 2


@pytest.mark.django_db
def test_it_exports_from_the_command_line_without_tlp_red_unless_asked(
    tmp_path: Path, reporter: User, ministry_reporter: User
) -> None:
    grid = report(reporter)
    red = report(ministry_reporter, title="Minister's mailbox read", tlp="TLP:RED")
    out = tmp_path / "all.jsonl"

    call_command("export", "--format", "veris", "-o", str(out), stderr=io.StringIO())
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(exported) == 1 and grid.title in json.dumps(exported)

    call_command("export", "--format", "veris", "--include-red", "-o", str(out), stderr=io.StringIO())
    assert len(out.read_text().splitlines()) == 2
    with pytest.raises(CommandError, match="no incident NCISS-1999-000001"):
        call_command("export", "--format", "stix", "--incident", "NCISS-1999-000001")
    assert red.tlp == "TLP:RED"


@pytest.mark.django_db
def test_it_gives_an_imported_veris_record_back_with_its_unmapped_fields(
    without_2fa: None, tmp_path: Path, analyst: User, api: Callable[[User | None], APIClient]
) -> None:
    original = veris_record("33333333-0000-4000-8000-000000000001")
    source = tmp_path / "one.json"
    source.write_text(json.dumps(original), encoding="utf-8")
    _import("--format", "veris", "--user", analyst.username, str(source))
    incident = Incident.objects.get()

    back = api(analyst).get("/api/v1/exports", {"format": "veris", "incident": incident.reference}).json()

    assert back["incident_id"].lower() == original["incident_id"].lower()
    assert back["plus"]["analysis_status"] == "Validated"  # kept from the original
    assert back["victim"]["country"] == ["GB"]
    assert back["action"]["malware"]["variety"] == ["Ransomware"]


CORE_DATA = Path(__file__).resolve().parents[3] / "nciss" / "tests" / "data"
MAPPING = Path(__file__).resolve().parents[3] / "nciss" / "interop" / "data" / "csv-mapping-example.yaml"


@pytest.mark.django_db
def test_it_imports_misp_events_and_csv_rows_once(analyst: User) -> None:
    misp = _import("--format", "misp", "--user", analyst.username, str(CORE_DATA / "misp" / "phishing-bank.json"))
    assert "1 imported" in misp
    phishing = Incident.objects.get()
    assert phishing.classification == "fraud:phishing"
    assert phishing.observables.exists()

    csv_args = ("--format", "csv", "--mapping", str(MAPPING), "--user", analyst.username)
    first = _import(*csv_args, str(CORE_DATA / "csv" / "ticket-export.csv"))
    rows = int(first.split(" records read")[0])
    imported = int(first.split("records read: ")[1].split(" imported")[0])
    assert imported >= 2 and Incident.objects.count() == 1 + imported
    assert "0 imported" in _import(*csv_args, str(CORE_DATA / "csv" / "ticket-export.csv"))
    assert rows == imported + first.count("rejected ticket-export.csv")


@pytest.mark.django_db
def test_it_imports_intelmq_events_the_way_ingest_does(tmp_path: Path, analyst: User, energy: Organisation) -> None:
    add_assets(actor=None, organisation=energy, assets=[("cidr", "203.0.113.0/24")])
    event = {
        "feed.name": "sinkhole",
        "classification.taxonomy": "malicious-code",
        "classification.type": "infected-system",
        "source.ip": "203.0.113.5",
        "time.source": "2026-11-29T10:00:00+00:00",
    }
    events = [event, {**event, "source.ip": "203.0.113.6"}, {**event, "time.observation": "2026-11-29T11:00:00+00:00"}]
    source = tmp_path / "feed.jsonl"
    source.write_text("\n".join([*(json.dumps(e) for e in events), "[1, 2]"]) + "\n", encoding="utf-8")

    output = _import("--format", "intelmq", "--user", analyst.username, str(source))

    assert "4 events read: 3 attributed (1 duplicates)" in output and "1 rejected" in output
    assert "incidents: 1 opened" in output
    incident = Incident.objects.get()
    assert incident.classification == "malicious-code:infected-system"
    assert list(incident.affected_organisations.all()) == [energy]
    assert sorted(o.value for o in incident.observables.all()) == ["203.0.113.5", "203.0.113.6"]
