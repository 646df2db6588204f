"""Reading the history for calibration and the calibration report (HTML, PDF, translated)."""

from __future__ import annotations

import datetime as dt

import pytest

import nciss
from nciss.calibration import History
from nciss_platform.accounts.models import User
from nciss_platform.calibration import history as histories
from nciss_platform.calibration.report import analyse, calibration_report
from nciss_platform.calibration.tests.calibration_history import make_history
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.reports.tests.pdfs import all_text, read_pdf

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)


def draft_and_current() -> tuple[nciss.Scale, nciss.Scale]:
    return nciss.load_scale("osce-reference"), nciss.load_scale("cisa-nciss")


@pytest.mark.django_db
def test_it_reads_the_facts_the_scales_read_typed_as_validated_facts(reporter: User) -> None:
    incident = report(
        reporter,
        facts={
            "functional_impact": "denial-critical",
            "countries_affected": ["KZ", "UZ"],
            "scheduled_maintenance": False,
            "outage_minutes": 45,
            "classification": "availability:ddos",
        },
    )
    h = histories.read_history(histories.facts_of(*draft_and_current(), nciss.load_scale("eu-nis2")))
    assert h.references == [incident.reference]
    record = h.record(0)
    assert record["countries_affected"] == ["KZ", "UZ"]
    assert record["scheduled_maintenance"] is False and record["outage_minutes"] == 45.0
    assert record["functional_impact"] == "denial-critical"
    assert list(h.classifications) == ["availability:ddos"] and list(h.sectors) == [incident.sector or None]
    assert "title" not in record  # only facts, and only those the scales read
    for scale in (*draft_and_current(), nciss.load_scale("eu-nis2")):  # the levels of the stored facts
        assert nciss.assess(scale, record).rank == nciss.assess(scale, incident.facts).rank


@pytest.mark.django_db
def test_it_reads_incidents_that_share_their_facts_as_one_record(reporter: User) -> None:
    history = make_history(reporter)
    twin = report(reporter, facts=dict(history.phishing.facts))
    h = histories.read_history(histories.facts_of(*draft_and_current()))
    assert (len(h), h.records) == (4, 3)
    both = [h.record_of(h.references.index(i.reference)) for i in (history.phishing, twin)]
    assert both[0] == both[1]
    assert h.record(h.references.index(twin.reference)) == h.record(h.references.index(history.phishing.reference))


@pytest.mark.django_db
def test_it_filters_the_history_by_day_sector_and_classification(reporter: User) -> None:
    history = make_history(reporter)
    facts = histories.facts_of(*draft_and_current())

    def references(**filters: object) -> list[str]:
        return list(histories.read_history(facts, histories.incidents(**filters)).references)  # type: ignore[arg-type]

    assert references(since=dt.date(2026, 3, 5)) == [history.phishing.reference]
    assert references(classification="availability") == [history.emergency.reference]
    assert references(classification="fraud:phishing") == [history.phishing.reference]
    assert references(sector="space") == []


@pytest.mark.django_db
def test_it_renders_the_report_as_a_pdf_with_its_marking(reporter: User) -> None:
    make_history(reporter)
    draft, current = draft_and_current()
    facts = histories.facts_of(draft, current)
    analysis = analyse(draft, current, histories.read_history(facts), with_sensitivity=False)
    pages = read_pdf(calibration_report(analysis, lang="en", now=NOW).pdf().data)
    text = all_text(pages)
    assert "Calibration of OSCE reference national scale" in text
    assert "TLP:AMBER" in pages[0].header
    assert "Reference cases" in text and "Sensitivity" not in text


@pytest.mark.django_db
def test_it_translates_the_report_headings() -> None:
    draft, current = draft_and_current()
    history = History.from_records([{"functional_impact": "denial-critical", "observed_activity": "effect"}])
    analysis = analyse(draft, current, history, cases=[])
    html = calibration_report(analysis, lang="ru", now=NOW).html()
    assert 'lang="ru"' in html
    assert "Чувствительность" in html and "Эталонные случаи" in html
