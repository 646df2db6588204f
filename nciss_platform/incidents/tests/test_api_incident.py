"""One incident through the API: reporting it, reading it, and each action on it."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

import nciss
from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.incidents.models import Assessment, Incident
from nciss_platform.incidents.tests.conftest import GRID_DOWN, T0, report

pytestmark = pytest.mark.usefixtures("without_2fa")

URL = "/api/v1/incidents"


def test_it_stores_a_report_and_answers_with_its_reference_and_level(reporter: User, api: Any) -> None:
    body = {
        "title": "Grid control room dark",
        "description": "SCADA screens went black at 06:40.",
        "facts": {**GRID_DOWN, "detected_at": "2026-03-02T06:40:00+00:00"},
        "tlp": "TLP:AMBER+STRICT",
    }
    with clock.frozen(T0):
        response = api(reporter).post(URL, body, format="json")
    assert response.status_code == 201
    incident = response.json()
    stored = Incident.objects.get()
    assert incident["reference"] == stored.reference == "NCISS-2026-000001"
    assert response["Location"].endswith(f"{URL}/NCISS-2026-000001")
    assert incident["tlp"] == "TLP:AMBER+STRICT" and incident["status"] == "reported"
    assert incident["facts"]["sector"] == "energy"  # from the organisation's profile
    national = nciss.assess(nciss.load_scale("osce-reference"), stored.facts)
    assert incident["level"] == national.level
    assert incident["assessment"]["level"] == national.level
    assert incident["reachable_max"] == national.reachable_max
    assert incident["detected_at"] == "2026-03-02T06:40:00Z"


def test_it_shows_the_incident_in_full(reporter: User, analyst: User, api: Any) -> None:
    incident = report(reporter, description="SCADA screens went black.")
    with clock.frozen(T0 + dt.timedelta(hours=1)):
        body = api(analyst).get(f"{URL}/{incident.reference}").json()
    assert body["description"] == "SCADA screens went black."
    assert body["facts"] == incident.facts
    assert body["assessment"] == Assessment.objects.get().result
    assert body["created_by"] == "grid-reporter" and body["assignee"] is None
    assert body["next_statuses"] == ["triaged", "rejected"]
    assert body["reporting_organisation"] == {"slug": "aralia-grid", "name": "Aralia Grid"}


def test_it_shows_the_same_incident_on_every_other_scale(reporter: User, api: Any) -> None:
    incident = report(reporter)
    readings = {r["scale"]: r for r in api(reporter).get(f"{URL}/{incident.reference}").json()["other_scales"]}
    assert set(readings) == {"cisa-nciss", "uk-ncsc", "eu-nis2"}
    for scale_id, reading in readings.items():
        expected = nciss.assess(nciss.load_scale(scale_id), incident.facts)
        assert reading["level"] == expected.level
        assert reading["reachable"] == {"min": expected.rank, "max": expected.reachable_max}
        assert reading["error"] is None


def test_it_shows_the_reporting_deadlines_and_records_a_submitted_step(reporter: User, api: Any) -> None:
    incident = report(reporter, facts={**GRID_DOWN, "detected_at": "2026-03-02T06:40:00+00:00"})
    client = api(reporter)
    with clock.frozen(T0):
        before = client.get(f"{URL}/{incident.reference}").json()["deadlines"]
    assert [regime["scale"] for regime in before] == ["eu-nis2"]
    steps = {d["id"]: d for d in before[0]["deadlines"]}
    assert steps["early-warning"]["due"] == "2026-03-03T06:40:00+00:00"
    assert steps["early-warning"]["state"] == "due"
    assert steps["final-report"]["state"] == "waiting"
    with clock.frozen(T0 + dt.timedelta(hours=2)):
        after = client.post(
            f"{URL}/{incident.reference}/reporting", {"scale": "eu-nis2", "deadline": "early-warning"}, format="json"
        )
    assert after.status_code == 200
    steps = {d["id"]: d for d in after.json()["deadlines"][0]["deadlines"]}
    assert steps["early-warning"]["state"] == "done"
    assert steps["early-warning"]["submitted"] == "2026-03-02T11:00:00+00:00"


def test_it_names_levels_and_deadlines_in_the_language_asked_for(reporter: User, api: Any) -> None:
    incident = report(reporter)
    english = api(reporter).get(f"{URL}/{incident.reference}").json()
    russian = api(reporter).get(f"{URL}/{incident.reference}", {"lang": "ru"}).json()
    assert english["level"]["rank"] == russian["level"]["rank"]
    assert english["level"]["name"] != russian["level"]["name"]
    assert russian["deadlines"][0]["deadlines"][0]["name"] == "Раннее предупреждение"


def test_it_assesses_again_when_facts_change_and_keeps_the_history(reporter: User, analyst: User, api: Any) -> None:
    incident = report(reporter, facts={"functional_impact": "minimal-non-critical"})
    client = api(analyst)
    response = client.post(
        f"{URL}/{incident.reference}/facts",
        {"changes": {"functional_impact": "denial-critical", "fatalities": 1}, "note": "hospital on backup power"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["facts"]["fatalities"] == 1
    history = client.get(f"{URL}/{incident.reference}/assessments").json()
    assert len(history) == 2
    assert history[0]["level"]["rank"] > history[1]["level"]["rank"]
    assert history[0]["level"] == response.json()["level"]
    assert history[0]["facts"]["fatalities"] == 1 and "fatalities" not in history[1]["facts"]
    assert history[0]["created_by"] == "analyst" and history[1]["created_by"] == "grid-reporter"
    timeline = client.get(f"{URL}/{incident.reference}/timeline").json()
    facts_entry = next(e for e in timeline if e["kind"] == "facts")
    assert facts_entry["body"] == "hospital on backup power"
    assert facts_entry["data"]["changes"]["fatalities"] == [None, 1]


def test_it_removes_a_fact_given_as_null(reporter: User, api: Any) -> None:
    incident = report(reporter)
    response = api(reporter).post(f"{URL}/{incident.reference}/facts", {"changes": {"location": None}}, format="json")
    assert "location" not in response.json()["facts"]


def test_it_moves_an_incident_along_the_workflow(reporter: User, analyst: User, api: Any) -> None:
    incident = report(reporter)
    client = api(analyst)
    response = client.post(f"{URL}/{incident.reference}/transition", {"to": "triaged", "note": "real"}, format="json")
    assert response.json()["status"] == "triaged"
    assert response.json()["triaged_at"] is not None
    assert response.json()["next_statuses"] == ["investigating", "resolved", "rejected"]


def test_it_assigns_and_unassigns(reporter: User, analyst: User, coordinator: User, api: Any) -> None:
    incident = report(reporter)
    client = api(coordinator)
    assert (
        client.post(f"{URL}/{incident.reference}/assign", {"assignee": "analyst"}, format="json").json()["assignee"]
        == "analyst"
    )
    assert (
        client.post(f"{URL}/{incident.reference}/assign", {"assignee": None}, format="json").json()["assignee"] is None
    )


def test_it_waits_on_the_reporter_until_the_reporter_answers(reporter: User, analyst: User, api: Any) -> None:
    incident = report(reporter)
    path = f"{URL}/{incident.reference}"
    assert api(analyst).post(f"{path}/waiting", {"waiting": True}, format="json").json()["waiting_on_reporter"]
    api(reporter).post(f"{path}/comments", {"body": "The logs are attached."}, format="json")
    assert api(analyst).get(path).json()["waiting_on_reporter"] is False


def test_it_takes_and_lists_comments(reporter: User, analyst: User, api: Any) -> None:
    incident = report(reporter)
    posted = api(analyst).post(f"{URL}/{incident.reference}/comments", {"body": "  Isolate the HMI.  "}, format="json")
    assert posted.status_code == 201
    assert posted.json()["body"] == "Isolate the HMI." and posted.json()["author"] == "analyst"
    comments = api(reporter).get(f"{URL}/{incident.reference}/comments").json()
    assert [(c["author"], c["body"]) for c in comments] == [("analyst", "Isolate the HMI.")]


def test_it_takes_an_attachment_and_gives_it_back_byte_for_byte(reporter: User, analyst: User, api: Any) -> None:
    incident = report(reporter)
    content = b"2026-03-02 06:40:12 breaker 7 tripped\n" * 100
    posted = api(reporter).post(
        f"{URL}/{incident.reference}/attachments", {"file": SimpleUploadedFile("scada.log", content, "text/plain")}
    )
    assert posted.status_code == 201
    attachment = posted.json()
    assert attachment["name"] == "scada.log" and attachment["size"] == len(content)
    assert attachment["sha256"] == hashlib.sha256(content).hexdigest()
    listed = api(analyst).get(f"{URL}/{incident.reference}/attachments").json()
    assert [a["sha256"] for a in listed] == [attachment["sha256"]]
    detail = api(analyst).get(f"{URL}/{incident.reference}").json()
    assert detail["attachments"] == listed
    download = api(analyst).get(attachment["url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/octet-stream"
    assert 'attachment; filename="scada.log"' in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == content


def test_it_answers_404_for_an_attachment_of_another_incident(reporter: User, api: Any) -> None:
    first, second = report(reporter), report(reporter)
    client = api(reporter)
    posted = client.post(f"{URL}/{first.reference}/attachments", {"file": SimpleUploadedFile("a.txt", b"a")}).json()
    response = client.get(f"{URL}/{second.reference}/attachments/{posted['id']}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["path"] == "body"


def test_it_merges_a_duplicate_and_links_both_ways(reporter: User, analyst: User, api: Any) -> None:
    original, duplicate = report(reporter), report(reporter, title="Control room dark (again)")
    client = api(analyst)
    merged = client.post(
        f"{URL}/{duplicate.reference}/merge", {"into": original.reference, "note": "same outage"}, format="json"
    ).json()
    assert merged["status"] == "duplicate"
    assert merged["duplicate_of"]["reference"] == original.reference
    target = client.get(f"{URL}/{original.reference}").json()
    assert [d["reference"] for d in target["duplicates"]] == [duplicate.reference]


def test_it_links_related_incidents(reporter: User, analyst: User, api: Any) -> None:
    first, second = report(reporter), report(reporter, title="Substation 4 dark")
    client = api(analyst)
    linked = client.post(f"{URL}/{first.reference}/links", {"other": second.reference}, format="json").json()
    assert [r["reference"] for r in linked["related"]] == [second.reference]
    assert [r["reference"] for r in client.get(f"{URL}/{second.reference}").json()["related"]] == [first.reference]


def test_it_changes_the_sharing_to_tlp_red_with_named_recipients(
    reporter: User, analyst: User, coordinator: User, api: Any
) -> None:
    incident = report(reporter)
    response = api(analyst).post(
        f"{URL}/{incident.reference}/sharing",
        {"tlp": "TLP:RED", "pap": "PAP:RED", "red_recipients": ["coordinator"]},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["tlp"], body["pap"]) == ("TLP:RED", "PAP:RED")
    assert body["red_recipients"] == ["analyst", "coordinator", "grid-reporter"]


def test_it_applies_a_bulk_action_to_every_incident(reporter: User, analyst: User, api: Any) -> None:
    incidents = [report(reporter, title=f"Substation {n} dark") for n in range(3)]
    references = [i.reference for i in incidents]
    response = api(analyst).post(
        f"{URL}/bulk", {"references": references, "action": "transition", "to": "triaged"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["action"] == "transition"
    assert [i["status"] for i in response.json()["incidents"]] == ["triaged"] * 3
    assert set(Incident.objects.values_list("status", flat=True)) == {"triaged"}
    assigned = api(analyst).post(
        f"{URL}/bulk", {"references": references, "action": "assign", "assignee": "analyst"}, format="json"
    )
    assert [i["assignee"] for i in assigned.json()["incidents"]] == ["analyst"] * 3


def test_it_acts_once_on_an_incident_named_twice_in_a_bulk_request(reporter: User, analyst: User, api: Any) -> None:
    incident = report(reporter)
    request = {"references": [incident.reference, incident.reference], "action": "transition", "to": "triaged"}
    response = api(analyst).post(f"{URL}/bulk", request, format="json")
    assert response.status_code == 200
    assert [i["status"] for i in response.json()["incidents"]] == ["triaged"]
