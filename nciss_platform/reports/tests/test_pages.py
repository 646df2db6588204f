"""The report pages: who may open which report, and what the PDF links give."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.reports.tests.conftest import LATER, Week
from nciss_platform.reports.tests.pdfs import all_text, read_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def later(without_2fa: None) -> Iterator[None]:
    """Two days after the fortnight's day; staff sign in with a password alone here."""
    with clock.frozen(LATER):
        yield


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_the_national_sitrep_to_coordinators_and_analysts(
    week: Week, coordinator: User, analyst: User
) -> None:
    for user in (coordinator, analyst):
        response = client_for(user).get("/sitrep/", {"date": "2026-03-10"})
        assert response.status_code == 200
        page = response.content.decode()
        assert week.new_amber.reference in page and week.new_red.reference not in page
        assert 'href="/sitrep/national.pdf?date=2026-03-10&amp;lang=en"' in page
        assert "<svg" in page and "<script" not in page.split('<main id="main">')[1]


def test_it_refuses_the_national_sitrep_to_a_reporter(week: Week, reporter: User) -> None:
    client = client_for(reporter)
    assert client.get("/sitrep/").status_code == 403
    assert client.get("/sitrep/national.pdf").status_code == 403


def test_it_sends_the_national_sitrep_as_a_pdf_in_the_language_asked(week: Week, coordinator: User) -> None:
    response = client_for(coordinator).get("/sitrep/national.pdf", {"date": "2026-03-10", "lang": "ru"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="sitrep-2026-03-10-ru.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert "Национальный ситуационный отчёт" in all_text(read_pdf(response.content))


def test_it_says_what_is_wrong_with_a_bad_date(coordinator: User) -> None:
    client = client_for(coordinator)
    response = client.get("/sitrep/", {"date": "2026-13-45"})
    assert response.status_code == 400
    assert "is not a date" in response.content.decode()
    future = client.get("/sitrep/national.pdf", {"date": "2026-03-20"})
    assert future.status_code == 400 and b"in the future" in future.content


def test_it_shows_an_incident_sitrep_to_whoever_may_see_the_incident(
    week: Week, reporter: User, ministry_reporter: User, analyst: User
) -> None:
    reference = week.new_amber.reference
    assert client_for(reporter).get(f"/incidents/{reference}/sitrep").status_code == 200
    assert client_for(analyst).get(f"/incidents/{reference}/sitrep.pdf").status_code == 200
    other = client_for(ministry_reporter)  # another organisation's reporter
    assert other.get(f"/incidents/{reference}/sitrep").status_code == 404
    assert other.get(f"/incidents/{reference}/sitrep.pdf").status_code == 404
    assert client_for(analyst).get(f"/incidents/{week.new_red.reference}/sitrep").status_code == 404


def test_it_records_who_read_a_tlp_red_incident_sitrep(week: Week, reporter: User) -> None:
    response = client_for(reporter).get(f"/incidents/{week.new_red.reference}/sitrep.pdf")
    assert response.status_code == 200
    text = all_text(read_pdf(response.content))
    assert "TLP:RED" in text and week.new_red.reference in text
    assert AuditEvent.objects.filter(action="incident.read", actor=reporter.username).exists()


def test_it_gives_the_advisory_draft_to_the_csirt_only(week: Week, reporter: User, analyst: User) -> None:
    reference = week.new_amber.reference
    assert client_for(reporter).get(f"/incidents/{reference}/advisory").status_code == 403
    response = client_for(analyst).get(f"/incidents/{reference}/advisory", {"lang": "uz"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "TLP:CLEAR" in page and "Energetika" in page
    assert week.new_amber.title not in page.split('class="report report-page"')[1]
    pdf = client_for(analyst).get(f"/incidents/{reference}/advisory.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_it_gives_no_advisory_for_a_tlp_red_incident(week: Week, reporter: User) -> None:
    reporter.role = "analyst"  # a named recipient on the CSIRT's staff
    reporter.save()
    assert client_for(reporter).get(f"/incidents/{week.new_red.reference}/advisory").status_code == 403


def test_it_links_the_reports_from_the_incident_page(week: Week, reporter: User, analyst: User) -> None:
    reference = week.new_amber.reference
    page = client_for(reporter).get(f"/incidents/{reference}/").content.decode()
    assert f'href="/incidents/{reference}/sitrep"' in page
    assert "/advisory" not in page
    staff_page = client_for(analyst).get(f"/incidents/{reference}/").content.decode()
    assert f'href="/incidents/{reference}/advisory"' in staff_page
