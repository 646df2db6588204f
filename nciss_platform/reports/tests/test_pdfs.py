"""Each report rendered to PDF in every language and read back as a reader would see it."""

from __future__ import annotations

import re

import pytest

from nciss_platform.accounts.models import User
from nciss_platform.incidents.models import TLP, Incident, Observable
from nciss_platform.reports import services
from nciss_platform.reports.documents import FONTS, font_css
from nciss_platform.reports.tests.conftest import DAY, LATER, Week
from nciss_platform.reports.tests.pdfs import Page, all_text, read_pdf

pytestmark = pytest.mark.django_db

# "page 1 of N" in each language, and a word each report shows in it.
PAGE_ONE = {"en": r"page 1 of (\d+)", "ru": r"стр\. 1 из (\d+)", "uz": r"sahifa 1 / (\d+)"}
LEVEL_NAMES = {"en": ("High", "Emergency"), "ru": ("Высокий", "Чрезвычайный"), "uz": ("Yuqori", "Favqulodda")}
CYRILLIC = re.compile(r"[А-Яа-яЁё]{4,}")


def check_pages(pages: list[Page], tlp: str, lang: str) -> None:
    """At least a page; the TLP label in every page's header and footer; page 1 of N; only the vendored fonts."""
    assert len(pages) >= 1
    for page in pages:
        assert tlp in page.header, page.header
        assert tlp in page.footer, page.footer
        assert page.fonts and all("NCISS" in font for font in page.fonts), page.fonts
    match = re.search(PAGE_ONE[lang], pages[0].footer)
    assert match is not None, pages[0].footer
    assert int(match.group(1)) == len(pages)


@pytest.mark.parametrize("lang", ["en", "ru", "uz"])
def test_it_renders_the_national_sitrep_as_a_marked_pdf(week: Week, lang: str) -> None:
    pdf = services.national_report(Incident.objects.all(), DAY, lang=lang, now=LATER).pdf()
    pages = read_pdf(pdf.data)
    assert pdf.pages == len(pages)
    check_pages(pages, "TLP:AMBER", lang)
    text = all_text(pages)
    assert all(name in text for name in LEVEL_NAMES[lang])  # the chart's and the table's level names
    assert week.new_amber.reference in text and week.new_red.reference not in text
    if lang == "ru":
        assert "Национальный ситуационный отчёт" in text and CYRILLIC.search(pages[-1].text)


@pytest.mark.parametrize("lang", ["en", "ru", "uz"])
def test_it_renders_an_incident_sitrep_as_a_marked_pdf(week: Week, reporter: User, lang: str) -> None:
    incident = week.new_amber
    incident.description = "\n\n".join(["The control room lost its displays; operators switched to manual."] * 30)
    incident.save()
    report = services.incident_report(incident, visible=Incident.objects.all(), lang=lang, now=LATER)
    pages = read_pdf(report.pdf().data)
    assert len(pages) >= 2  # a long description: the marking is on every page, not just the first
    check_pages(pages, "TLP:AMBER", lang)
    text = all_text(pages)
    assert incident.reference in text and LEVEL_NAMES[lang][0] in text
    assert "Energy Regulatory Agency" in text  # who was notified
    if lang == "ru":
        assert "Ситуационный отчёт по инциденту" in text and "Энергетика" in text
    if lang == "uz":
        assert "Energetika" in text and "Asosiy voqealar" in text


@pytest.mark.parametrize("lang", ["en", "ru", "uz"])
def test_it_renders_the_public_advisory_as_a_tlp_clear_pdf(week: Week, lang: str) -> None:
    pages = read_pdf(services.advisory_report(week.new_amber, lang=lang, now=LATER).pdf().data)
    check_pages(pages, "TLP:CLEAR", lang)
    text = all_text(pages)
    assert LEVEL_NAMES[lang][0] in text
    if lang == "ru":
        assert "Публичное предупреждение" in text and "Энергетика" in text


def test_it_keeps_everything_restricted_of_an_amber_incident_out_of_the_advisory(
    week: Week, reporter: User, ministry: object
) -> None:
    incident = week.new_amber
    incident.affected_organisations.add(ministry)
    Observable.objects.create(incident=incident, type="ipv4-addr", value="203.0.113.77")
    report = services.advisory_report(incident, lang="en", now=LATER)
    restricted = [
        incident.title,
        incident.reference,
        incident.description,
        "Kestrel",
        "Aralia Grid",  # the reporting organisation
        "Ministry of Finance",  # an affected organisation
        reporter.username,
        "analyst",
        "Energy Regulatory Agency",  # who was notified
        "203.0.113.77",  # an observable of a TLP:AMBER incident
    ]
    text = all_text(read_pdf(report.pdf().data))
    html = report.html()
    for secret in restricted:
        assert secret not in text, secret
        assert secret not in html, secret
    assert "Energy" in text and "High" in text  # what it may say: the sector and the level


def test_it_gives_the_observables_only_of_a_green_incident_whose_pap_allows(week: Week) -> None:
    incident = week.escalated  # TLP:GREEN
    Observable.objects.create(incident=incident, type="domain-name", value="payroll-update.example")
    Incident.objects.filter(pk=incident.pk).update(pap="PAP:AMBER")
    incident.refresh_from_db()
    assert "payroll-update.example" not in services.advisory_report(incident, lang="en", now=LATER).html()
    Incident.objects.filter(pk=incident.pk).update(pap="PAP:GREEN")
    incident.refresh_from_db()
    assert "payroll-update.example" in services.advisory_report(incident, lang="en", now=LATER).html()
    assert (
        incident.description == ""
        or incident.description not in services.advisory_report(incident, lang="en", now=LATER).html()
    )


def test_it_gives_the_description_only_of_a_clear_incident(week: Week) -> None:
    incident = week.new_amber
    assert incident.description not in services.advisory_report(incident, lang="en", now=LATER).html()
    Incident.objects.filter(pk=incident.pk).update(tlp=TLP.CLEAR)
    incident.refresh_from_db()
    assert incident.description in services.advisory_report(incident, lang="en", now=LATER).html()


def test_it_sets_pdfs_only_in_the_vendored_fonts_with_their_licence() -> None:
    css = font_css()
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf"):
        assert (FONTS / name).is_file()
        assert (FONTS / name).as_uri() in css
    assert "Bitstream Vera" in (FONTS / "LICENSE.txt").read_text(encoding="utf-8")
