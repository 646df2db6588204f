"""The incident page: facts and their history, the assessment, other scales, the timeline, and every action."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

import nciss
from nciss.facts import fact_specs
from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.incidents import services
from nciss_platform.incidents.models import TLP, Assessment, Incident, TimelineEntry
from nciss_platform.incidents.tests.conftest import T0, report
from nciss_platform.incidents.views import answers_from_facts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_2fa")]

HOUR = dt.timedelta(hours=1)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def incident(reporter: User) -> Incident:
    return report(reporter, description="Control room screens went dark at 06:40.")


@pytest.fixture
def staff(analyst: User) -> Client:
    return signed_in(analyst)


def page_of(client: Client, incident: Incident, at: dt.datetime = T0 + HOUR) -> str:
    with clock.frozen(at):
        response = client.get(f"/incidents/{incident.reference}/")
    assert response.status_code == 200
    return response.content.decode()


def level_name(html: str, where: str) -> str:
    match = re.search(rf'id="{where}".*?class="level-name">([^<]+)<', html, re.S)
    assert match, where
    return match.group(1)


def edited(incident: Incident, **changes: str) -> dict[str, Any]:
    """The edit-facts form as it comes prefilled, with some answers changed ("" for don't know)."""
    answers: dict[str, Any] = dict(answers_from_facts(incident.facts))
    answers.update(changes)
    return answers


# ---------------------------------------------------------------- what the page shows


def test_it_shows_the_facts_in_words_and_the_latest_assessment_explained(staff: Client, incident: Incident) -> None:
    page = page_of(staff, incident)
    labels = fact_specs()["functional_impact"].value_labels
    assert (
        f'<tr data-fact="functional_impact"><th scope="row">Functional impact</th><td>{labels["denial-critical"]["en"]}</td></tr>'
        in page
    )
    assert '<tr data-fact="sector"><th scope="row">Sector</th><td>Energy</td></tr>' in page
    result = incident.assessments.get().result
    assert level_name(page, "incident-level") == result["level"]["name"]
    assert level_name(page, "verdict") == result["level"]["name"]
    assert f"Score <strong>{result['score']:.1f}</strong> of 100" in page
    assert "could be up to" in page and 'class="decisive"' in page
    assert result["explanation"].split(".")[0].replace("'", "&#x27;") in page
    assert "Last assessed 2026-03-02 09:00 UTC on osce-reference 1.0 by grid-reporter." in page


def test_it_shows_the_same_incident_on_every_other_scale(staff: Client, incident: Incident) -> None:
    page = page_of(staff, incident)
    others = page.split('id="others"')[1].split("</table>")[0]
    for scale in nciss.list_scales():
        if scale.id != "osce-reference":
            assert f'data-scale="{scale.id}"' in others


def test_it_shows_the_timeline_in_order(staff: Client, incident: Incident, analyst: User) -> None:
    services.change_status(incident=incident, actor=analyst, to="triaged", note="Confirmed with the operator")
    services.add_comment(incident=incident, actor=analyst, body="Isolate the historian server.")
    services.link_related(incident=incident, actor=analyst, other=report(analyst, "Substation too"))
    page = page_of(staff, incident)
    timeline = page.split('<ol class="timeline">')[1].split("</ol>")[0]
    kinds = re.findall(r'class="entry entry-(\w+)"', timeline)
    assert kinds == ["reported", "assessment", "status", "comment", "link"]
    assert "Control room screens went dark at 06:40." in timeline
    assert "Reported → Triaged" in timeline and "Confirmed with the operator" in timeline
    assert "Isolate the historian server." in timeline
    assert "analyst (Aralia CSIRT)" in timeline


def test_it_offers_only_the_status_changes_the_user_may_make(staff: Client, reporter: User, incident: Incident) -> None:
    page = page_of(staff, incident)
    assert re.findall(r'name="to" value="(\w+)"', page) == ["triaged", "rejected"]
    assert 'name="to"' not in page_of(signed_in(reporter), incident)


def test_it_shows_the_reporting_deadlines_with_mark_submitted_buttons(reporter: User, incident: Incident) -> None:
    page = page_of(signed_in(reporter), incident)
    deadlines = page.split('id="deadlines-eu-nis2"')[1].split("</table>")[0]
    assert (
        "Early warning" in deadlines
        and 'Mark <span class="visually-hidden">Early warning</span> submitted' in deadlines
    )


# ---------------------------------------------------------------- facts: change, history, new assessment


def test_it_assesses_again_after_a_fact_changes_and_keeps_the_history(staff: Client, incident: Incident) -> None:
    before = incident.level
    response = staff.post(
        f"/incidents/{incident.reference}/facts", edited(incident, fatalities="1", note="Hospital reports a death")
    )
    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.level > before and incident.facts["fatalities"] == 1
    assert Assessment.objects.filter(incident=incident).count() == 2  # the first is kept
    change = TimelineEntry.objects.get(incident=incident, kind="facts")
    assert change.data["changes"] == {"fatalities": [None, 1]} and change.body == "Hospital reports a death"

    page = page_of(staff, incident)
    assert "Facts saved and assessed again: the level is now" in page
    history = page.split('id="fact-history"')[1].split("</ol>")[0]
    deaths = fact_specs()["fatalities"].label["en"]
    assert f'{deaths}: <span class="before">not known</span> → <span class="after">1</span>' in history
    assert "Hospital reports a death" in history
    assessed = page.split('class="entry entry-assessment"')[-1].split("</li>")[0]
    assert "→" in assessed and assessed.count("level-badge") == 2  # the previous level and the new one


def test_it_removes_a_fact_answered_dont_know(staff: Client, incident: Incident) -> None:
    staff.post(f"/incidents/{incident.reference}/facts", edited(incident, location=""))
    incident.refresh_from_db()
    assert "location" not in incident.facts


def test_it_keeps_the_assessment_when_nothing_changes(staff: Client, reporter: User) -> None:
    incident = report(
        reporter,
        facts={
            "detected_at": "2026-03-02T06:40:30+00:00",
            "countries_affected": ["KZ", "UZ"],
            "malicious": True,
            "annual_turnover_eur": 5e7,
        },
    )
    response = staff.post(f"/incidents/{incident.reference}/facts", edited(incident))
    assert response.status_code == 303
    assert incident.assessments.count() == 1
    assert "The facts are unchanged." in page_of(staff, incident)


def test_it_previews_the_level_of_changed_facts_before_saving(staff: Client, incident: Incident) -> None:
    response = staff.post(f"/incidents/{incident.reference}/preview", edited(incident, fatalities="2"))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert (
        "With these facts:" in html
        and "saving changes the level" in html
        and f"Changed: {fact_specs()['fatalities'].label['en']}." in html
    )
    assert level_name(html, "preview-level") != incident.assessments.get().result["level"]["name"]
    assert incident.assessments.count() == 1  # a preview saves nothing


def test_it_refuses_bad_facts_by_question_and_changes_nothing(
    staff: Client, incident: Incident, unchanged: Any
) -> None:
    with unchanged():
        response = staff.post(f"/incidents/{incident.reference}/facts", edited(incident, injuries="-3"))
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="error-injuries"' in page and "must not be negative" in page
    assert '<details class="edit-facts" id="edit-facts" open>' in page


def test_it_lets_the_reporter_add_facts_comments_and_files_later(reporter: User, incident: Incident) -> None:
    client = signed_in(reporter)
    assert (
        client.post(f"/incidents/{incident.reference}/facts", edited(incident, users_affected="12000")).status_code
        == 303
    )
    assert client.post(f"/incidents/{incident.reference}/comment", {"body": "Backups are intact."}).status_code == 303
    upload = SimpleUploadedFile("scada.log", b"alarm\n")
    assert client.post(f"/incidents/{incident.reference}/attachments", {"attachments": [upload]}).status_code == 303
    page = page_of(client, incident)
    assert "Backups are intact." in page and "scada.log" in page
    assert Incident.objects.get(pk=incident.pk).facts["users_affected"] == 12000


# ---------------------------------------------------------------- the other actions


def test_it_moves_an_incident_through_the_workflow(staff: Client, incident: Incident) -> None:
    for to in ("triaged", "investigating", "contained", "resolved", "closed"):
        assert staff.post(f"/incidents/{incident.reference}/status", {"to": to}).status_code == 303
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.closed_at is not None
    assert "Status changed to Closed." in page_of(staff, incident)


def test_it_refuses_a_transition_the_workflow_does_not_allow(staff: Client, incident: Incident, unchanged: Any) -> None:
    with unchanged():
        response = staff.post(f"/incidents/{incident.reference}/status", {"to": "closed"})
    assert response.status_code == 400
    assert "cannot go from reported to closed (allowed: triaged, rejected)" in response.content.decode()


def test_it_assigns_and_unassigns(staff: Client, incident: Incident, analyst: User, coordinator: User) -> None:
    staff.post(f"/incidents/{incident.reference}/assign", {"assignee": "me"})
    assert Incident.objects.get(pk=incident.pk).assignee == analyst
    staff.post(f"/incidents/{incident.reference}/assign", {"assignee": "coordinator"})
    assert Incident.objects.get(pk=incident.pk).assignee == coordinator
    staff.post(f"/incidents/{incident.reference}/assign", {"assignee": ""})
    assert Incident.objects.get(pk=incident.pk).assignee is None


def test_it_toggles_waiting_on_the_reporter(staff: Client, incident: Incident) -> None:
    staff.post(f"/incidents/{incident.reference}/waiting", {"waiting": "1"})
    page = page_of(staff, incident)
    assert 'status-waiting">waiting on the reporter' in page and "Stop waiting on the reporter" in page
    staff.post(f"/incidents/{incident.reference}/waiting", {"waiting": "0"})
    assert not Incident.objects.get(pk=incident.pk).waiting_on_reporter


def test_it_merges_a_duplicate_into_another_incident_by_reference(
    staff: Client, incident: Incident, ministry_reporter: User
) -> None:
    original = report(ministry_reporter, "Same outage, seen from the ministry")
    response = staff.post(f"/incidents/{incident.reference}/merge", {"into": original.reference.lower()})
    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.status == "duplicate" and incident.duplicate_of == original
    assert f'<a href="/incidents/{original.reference}/">{original.reference}</a>' in page_of(staff, incident)
    assert "merged here as a duplicate" in page_of(staff, original)


def test_it_refuses_to_merge_into_an_unknown_incident(staff: Client, incident: Incident, unchanged: Any) -> None:
    with unchanged():
        response = staff.post(f"/incidents/{incident.reference}/merge", {"into": "NCISS-2026-999999"})
    assert response.status_code == 400 and "no incident NCISS-2026-999999 that you may see" in response.content.decode()


def test_it_links_related_incidents_both_ways(staff: Client, incident: Incident, reporter: User) -> None:
    other = report(reporter, "Substation telemetry lost")
    assert staff.post(f"/incidents/{incident.reference}/link", {"other": other.reference}).status_code == 303
    assert f'<a href="/incidents/{other.reference}/">{other.reference}</a> Substation telemetry lost' in page_of(
        staff, incident
    )
    assert f'<a href="/incidents/{incident.reference}/">{incident.reference}</a>' in page_of(staff, other)


def test_it_asks_for_named_recipients_when_sharing_becomes_tlp_red(
    staff: Client, incident: Incident, coordinator: User, unchanged: Any
) -> None:
    with unchanged():
        refused = staff.post(
            f"/incidents/{incident.reference}/sharing", {"sharing-tlp": "TLP:RED", "sharing-pap": "PAP:RED"}
        )
    assert (
        refused.status_code == 400 and "TLP:RED: name at least one person who may read it." in refused.content.decode()
    )
    staff.post(
        f"/incidents/{incident.reference}/sharing",
        {"sharing-tlp": "TLP:RED", "sharing-pap": "PAP:RED", "sharing-red_recipients": [coordinator.pk]},
    )
    incident.refresh_from_db()
    assert incident.tlp == TLP.RED and incident.pap == "PAP:RED"
    assert {u.username for u in incident.red_recipients.all()} == {"analyst", "coordinator", "grid-reporter"}


def test_it_marks_a_reporting_step_submitted(reporter: User, incident: Incident) -> None:
    client = signed_in(reporter)
    with clock.frozen(T0 + 2 * HOUR):
        response = client.post(
            f"/incidents/{incident.reference}/deadline", {"scale": "eu-nis2", "deadline": "early-warning"}
        )
    assert response.status_code == 303
    page = page_of(client, incident, at=T0 + 3 * HOUR)
    row = page.split('data-deadline="early-warning"')[1].split("</tr>")[0]
    assert "submitted" in row and "2026-03-02 11:00 UTC" in row and "Mark" not in row
    again = client.post(f"/incidents/{incident.reference}/deadline", {"scale": "eu-nis2", "deadline": "early-warning"})
    assert again.status_code == 400 and "already submitted" in again.content.decode()


def test_it_shows_an_overdue_reporting_step(reporter: User, incident: Incident) -> None:
    page = page_of(signed_in(reporter), incident, at=incident.detected_at + 27 * HOUR)
    row = page.split('data-deadline="early-warning"')[1].split("</tr>")[0]
    assert "overdue by 3 h" in row


def test_it_keeps_several_files_with_size_and_sha256_and_serves_them(staff: Client, incident: Incident) -> None:
    files = [SimpleUploadedFile("a.pcap", b"\x00\x01" * 600), SimpleUploadedFile("b.txt", b"hello")]
    assert staff.post(f"/incidents/{incident.reference}/attachments", {"attachments": files}).status_code == 303
    page = page_of(staff, incident)
    assert "a.pcap</a> (1.2\xa0KB)" in page
    assert hashlib.sha256(b"hello").hexdigest() in page
    link = re.search(r'href="(/incidents/[^"]+/attachments/\d+)">b.txt', page).group(1)
    download = staff.get(link)
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"hello"


def test_it_refuses_an_oversized_file_and_keeps_nothing(
    staff: Client, incident: Incident, settings: Any, unchanged: Any
) -> None:
    settings.NCISS_MAX_ATTACHMENT_BYTES = 1024 * 1024
    with unchanged():
        response = staff.post(
            f"/incidents/{incident.reference}/attachments",
            {"attachments": [SimpleUploadedFile("huge.bin", b"x" * (1024 * 1024 + 1))]},
        )
    assert (
        response.status_code == 400
        and "huge.bin: larger than the limit of 1 MiB per file." in response.content.decode()
    )


def test_it_refuses_an_empty_comment(staff: Client, incident: Incident, unchanged: Any) -> None:
    with unchanged():
        response = staff.post(f"/incidents/{incident.reference}/comment", {"body": "  "})
    assert response.status_code == 400 and "This field is required." in response.content.decode()


def test_it_answers_404_for_an_unknown_incident_or_action(staff: Client, incident: Incident) -> None:
    assert staff.get("/incidents/NCISS-2026-999999/").status_code == 404
    assert staff.post(f"/incidents/{incident.reference}/explode", {}).status_code == 404
    assert staff.get(f"/incidents/{incident.reference}/comment").status_code == 405
