"""The guided report form: plain questions, the live preliminary level, files, and the acknowledgement."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from nciss.facts import fact_groups, fact_specs
from nciss.taxonomy import rsit_labels
from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.incidents.models import TLP, Attachment, Incident
from nciss_platform.incidents.tests.conftest import T0

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_2fa")]


@pytest.fixture
def client_of(reporter: User) -> Client:
    client = Client()
    client.force_login(reporter)
    return client


def form_part(page: str) -> str:
    """The questions, without the result panel beside them."""
    return page.split('<form id="report"')[1].split("</form>")[0]


GOOD = {
    "title": "Billing system encrypted",
    "description": "Screens show a ransom note since 06:40.",
    "classification": "malicious-code:infected-system",
    "functional_impact": "denial-critical",
    "observed_activity": "effect",
    "malicious": "yes",
    "sector": "energy",
    "entity_criticality": "critical",
    "entity_size": "large",
    "entity_country": "XA",
    "entity_type": "other",
    "detected_at": "2026-03-02T06:40",
    "tlp": "TLP:AMBER",
    "pap": "PAP:AMBER",
}


def test_it_asks_plain_questions_grouped_and_prefilled_from_the_organisations_profile(client_of: Client) -> None:
    page = client_of.get("/report/").content.decode()
    questions = form_part(page)
    for group in fact_groups().values():
        assert f"<legend>{group['en']}</legend>" in questions
    for name in ("functional_impact", "observed_activity", "information_impact", "fatalities", "detected_at"):
        assert fact_specs()[name].question["en"].replace("'", "&#x27;") in questions
    assert "functional impact" not in questions.lower()  # the reporter answers questions, not field names
    assert fact_specs()["functional_impact"].value_labels["denial-critical"]["en"] in questions
    assert f"{rsit_labels()['availability']}: {rsit_labels()['availability:ddos']}" in questions
    assert '<option value="energy" selected>' in questions
    assert '<option value="critical" selected>' in questions  # the organisation's criticality
    assert "Filled in from Aralia Grid's profile" in questions
    assert 'name="reported_at"' not in questions  # the platform sets it


def test_it_explains_each_sharing_label_in_one_line(client_of: Client) -> None:
    page = client_of.get("/report/").content.decode()
    for label in TLP.values:
        assert re.search(rf'value="{re.escape(label)}"[^>]*>\s*{re.escape(label)}: \w', page)
    assert "PAP:RED: No action that the attacker could detect" in page
    assert re.search(r'value="TLP:AMBER"[^>]* checked>', page)  # the default


def test_it_shows_the_preliminary_level_on_the_national_scale_from_the_start(client_of: Client) -> None:
    page = client_of.get("/report/").content.decode()
    assert 'id="verdict" data-scale="osce-reference"' in page
    assert "Preliminary level on the national scale" in page


def test_it_refreshes_the_preliminary_level_as_the_reporter_answers(client_of: Client) -> None:
    quiet = client_of.post("/report/preview", {"sector": "energy"}).content.decode()
    loud = client_of.post("/report/preview", {**GOOD, "fatalities": "1"}).content.decode()
    assert "<html" not in loud
    level = re.compile(r'id="verdict".*?class="level-name">([^<]+)<', re.S)
    assert level.search(quiet).group(1) != level.search(loud).group(1)
    assert level.search(loud).group(1) in ("Severe", "Emergency")
    assert 'data-scale="eu-nis2"' in loud  # and every other scale
    # what could still raise it is asked as a question, not named as a fact
    assert fact_specs()["potential_impact"].question["en"].replace("'", "&#x27;") in quiet


def test_it_stores_a_valid_report_and_acknowledges_it_with_the_reference_level_and_deadlines(
    client_of: Client, reporter: User
) -> None:
    with clock.frozen(T0):
        response = client_of.post("/report/", GOOD)
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.reference}/acknowledgement/"
    assert re.fullmatch(r"NCISS-2026-\d{6}", incident.reference)
    assert incident.title == "Billing system encrypted" and incident.created_by == reporter
    assert incident.facts["functional_impact"] == "denial-critical" and incident.facts["malicious"] is True
    assert incident.facts["sector"] == "energy"
    assert incident.detected_at == dt.datetime(2026, 3, 2, 6, 40, tzinfo=dt.UTC)
    assert incident.assessments.count() == 1

    with clock.frozen(T0 + dt.timedelta(hours=1)):
        ack = client_of.get(response["Location"]).content.decode()
    assert f'<strong class="reference" id="reference">{incident.reference}</strong>' in ack
    assert "Preliminary level:" in ack and 'class="level-name"' in ack
    assert "Early warning" in ack and "Incident notification" in ack and "Final report" in ack
    assert "2026-03-03 06:40 UTC" in ack  # the early warning: 24 h after the reporter became aware
    assert "2026-03-05 06:40 UTC" in ack  # the notification: 72 h
    assert "due in 20 h" in ack and "due in 2 days" in ack
    assert "due 1 month after the Incident notification is submitted" in ack
    assert "only if the incident turns out Significant" in ack  # NIS2 significance is not settled yet
    assert "Still due: 3 reports" in ack


def test_it_changes_an_entity_fact_the_reporter_corrects(client_of: Client) -> None:
    client_of.post("/report/", {**GOOD, "entity_size": "medium"})
    assert Incident.objects.get().facts["entity_size"] == "medium"


def test_it_keeps_several_files_with_their_sha256(client_of: Client) -> None:
    files = [SimpleUploadedFile("ransom-note.txt", b"pay us"), SimpleUploadedFile("firewall.log", b"deny all\n" * 10)]
    response = client_of.post("/report/", {**GOOD, "attachments": files})
    assert response.status_code == 302
    stored = {a.name: a for a in Attachment.objects.all()}
    assert set(stored) == {"ransom-note.txt", "firewall.log"}
    assert stored["ransom-note.txt"].sha256 == hashlib.sha256(b"pay us").hexdigest()
    assert stored["firewall.log"].size == 90
    assert "2 files received" in client_of.get(response["Location"]).content.decode()


def test_it_rejects_bad_input_by_field_and_stores_nothing(client_of: Client, unchanged: Any) -> None:
    with unchanged():
        response = client_of.post(
            "/report/", {**GOOD, "title": " ", "fatalities": "-1", "population_affected_share": "3"}
        )
    page = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in page
    assert '<a href="#id_title">A short title</a>: This field is required.' in page
    assert 'id="error-fatalities"' in page and "must not be negative" in page
    assert 'id="error-population_affected_share"' in page
    assert '<a href="#input-fatalities">' in page
    assert 'value="-1"' in page and '<option value="denial-critical" selected>' in page  # the answers are kept


def test_it_refuses_an_oversized_attachment_by_its_field(client_of: Client, settings: Any, unchanged: Any) -> None:
    settings.NCISS_MAX_ATTACHMENT_BYTES = 1024 * 1024
    big = SimpleUploadedFile("disk.img", b"\0" * (1024 * 1024 + 1))
    with unchanged():
        response = client_of.post("/report/", {**GOOD, "attachments": [SimpleUploadedFile("ok.txt", b"ok"), big]})
    page = response.content.decode()
    assert response.status_code == 400
    assert "disk.img: larger than the limit of 1 MiB per file." in page
    assert "Choose your files again" in page
    assert "up to 1 MiB each" in page


def test_it_asks_who_may_read_a_tlp_red_report(
    client_of: Client, analyst: User, coordinator: User, unchanged: Any
) -> None:
    with unchanged():
        refused = client_of.post("/report/", {**GOOD, "tlp": "TLP:RED"})
    assert (
        refused.status_code == 400 and "TLP:RED: name at least one person who may read it." in refused.content.decode()
    )
    accepted = client_of.post("/report/", {**GOOD, "tlp": "TLP:RED", "red_recipients": [analyst.pk]})
    assert accepted.status_code == 302
    incident = Incident.objects.get()
    assert incident.tlp == TLP.RED
    assert {u.username for u in incident.red_recipients.all()} == {"grid-reporter", "analyst"}


def test_it_offers_the_csirt_and_the_reporters_colleagues_as_recipients(
    client_of: Client, analyst: User, ministry_reporter: User
) -> None:
    page = client_of.get("/report/").content.decode()
    recipients = page.split("data-red-recipients")[1].split("</fieldset>")[0]
    assert "analyst" in recipients and "ministry-reporter" not in recipients


def test_it_asks_in_the_reporters_own_language(reporter: User) -> None:
    reporter.language = "ru"
    reporter.save()
    client = Client()
    client.force_login(reporter)
    page = client.get("/report/").content.decode()
    assert '<html lang="ru">' in page
    assert fact_specs()["functional_impact"].question["ru"] in page
    assert fact_groups()["impact"]["ru"] in page
