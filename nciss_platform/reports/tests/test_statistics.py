"""Periodic statistics on a small, hand-counted history: the tables, suppression, quarters, NIS2, files and access."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from nciss_platform import clock
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.cli import main
from nciss_platform.errors import ServiceError
from nciss_platform.incidents import services
from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.reports.nis2 import nis2_summary
from nciss_platform.reports.periodic import periodic_report
from nciss_platform.reports.statistics import (
    HIDDEN_OTHER,
    HIDDEN_SMALL,
    Row,
    Table,
    csv_text,
    parse_period,
    period_statistics,
    suppressed,
)
from nciss_platform.reports.tests.conftest import GRID_DOWN, PHISHING, report
from nciss_platform.reports.tests.pdfs import all_text, read_pdf

pytestmark = pytest.mark.django_db

TASHKENT = "Asia/Tashkent"  # UTC+5, no summer time: the deployment's time zone in most tests
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
SIGNIFICANT = {"unauthorised_access": True, "malicious": True, "potential_impact": "high"}  # CIR 2024/2690 Art. 3(1)(e)


def utc(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


@dataclass
class History:
    """Third quarter 2026 (in Tashkent): what each incident should count as."""

    ddos: Incident  # 5 Jul, energy (critical), TLP:CLEAR, high, cross-border, malicious, significant under NIS2
    phishing: Incident  # 20 Jul, ministry (essential), human error, no other country
    clear_phishing: Incident  # 3 Aug, ministry, TLP:CLEAR, low
    lab: Incident  # 15 Aug, a research lab (not in NIS2 scope)
    red: Incident  # 20 Aug, energy, TLP:RED, high: counted, never listed
    first_of_july: Incident  # 30 Jun 22:00 UTC = 1 Jul 03:00 in Tashkent, ministry
    first_of_october: Incident  # 30 Sep 20:00 UTC = 1 Oct 01:00 in Tashkent, ministry
    rejected: Incident  # 10 Jul, rejected as no incident: never counted


@pytest.fixture(autouse=True)
def deployment(settings: Any, without_2fa: None) -> Iterator[None]:
    settings.TIME_ZONE = TASHKENT
    with clock.frozen(NOW):
        yield


@pytest.fixture
def history(reporter: User, ministry_reporter: User, analyst: User) -> History:
    lab_org = Organisation.objects.create(
        name="Kestrel Research Lab",
        slug="kestrel-lab",
        kind="operator",
        sector="research",
        criticality="other",
        country="XA",
    )
    lab_user = User.objects.create_user("lab-reporter", role="reporter", organisation=lab_org)
    phishing = {**PHISHING, "root_cause": "human-errors", "countries_affected": []}
    ddos = {
        **GRID_DOWN,
        **SIGNIFICANT,
        "classification": "availability:ddos",
        "root_cause": "malicious-actions",
        "countries_affected": ["KZ"],
    }
    history = History(
        ddos=report(reporter, "Grid portal flooded from abroad", at=utc(7, 5), facts=ddos, tlp=TLP.CLEAR),
        phishing=report(ministry_reporter, "Payroll phishing", at=utc(7, 20), facts=phishing),
        clear_phishing=report(
            ministry_reporter, "Fake tax refund mails", at=utc(8, 3), facts=dict(PHISHING), tlp=TLP.CLEAR
        ),
        lab=report(lab_user, "Lab mailbox phished", at=utc(8, 15), facts=dict(PHISHING)),
        red=report(
            reporter,
            "Substation safety system tampered",
            at=utc(8, 20),
            facts={**GRID_DOWN, "classification": "intrusions:system-compromise"},
            tlp=TLP.RED,
        ),
        first_of_july=report(ministry_reporter, "Ministry web defacement", at=utc(6, 30, 22), facts=dict(PHISHING)),
        first_of_october=report(ministry_reporter, "Ministry scan", at=utc(9, 30, 20), facts=dict(PHISHING)),
        rejected=report(ministry_reporter, "Printer jam", at=utc(7, 10), facts=dict(PHISHING)),
    )
    with clock.frozen(utc(7, 11)):
        services.change_status(incident=history.rejected, actor=analyst, to="rejected")
    with clock.frozen(utc(7, 5, 12)):
        services.change_status(incident=history.ddos, actor=analyst, to="triaged")
    return history


def rows(table: Table) -> dict[str, Any]:
    return {row.key: row.value for row in table.rows}


def shown(table: Table) -> dict[str, str]:
    return {row.key: row.shown for row in table.rows}


# ---------------------------------------------------------------- periods


def test_it_reads_months_quarters_and_years_and_refuses_anything_else() -> None:
    assert parse_period("2026-11").code == "2026-11"
    assert parse_period("2026-q3").code == "2026-Q3"
    assert parse_period("2026", ["year"]).previous().code == "2025"
    assert parse_period("2026-01").previous().code == "2025-12"
    assert parse_period("2026-Q1").previous().code == "2025-Q4"
    start, end = parse_period("2026-Q3").start, parse_period("2026-Q3").end
    assert (start.isoformat(), end.isoformat()) == ("2026-07-01T00:00:00+05:00", "2026-10-01T00:00:00+05:00")
    for bad, kinds in (("2026-13", None), ("2026-Q5", None), ("Nov 2026", None), ("2026-11", ["quarter"])):
        with pytest.raises(ServiceError, match="is not a period"):
            parse_period(bad, *([kinds] if kinds else []))


# ---------------------------------------------------------------- the tables


def test_it_counts_the_quarter_in_the_deployment_time_zone(history: History) -> None:
    q3 = period_statistics(parse_period("2026-Q3"), lang="en")
    assert (
        q3.total.value == 6
    )  # ddos, phishing, clear_phishing, lab, red, first_of_july; not October's nor the rejected
    assert rows(q3.per_bucket) == {"2026-07": 3, "2026-08": 3, "2026-09": 0}
    assert rows(q3.by_sector) == {"public-administration": 3, "energy": 2, "research": 1}
    assert rows(q3.by_class) == {"fraud": 4, "availability": 1, "intrusions": 1}
    assert rows(q3.top_types) == {"fraud:phishing": 4, "availability:ddos": 1, "intrusions:system-compromise": 1}
    assert q3.by_level.total == 6
    assert rows(q3.by_level)[str(history.ddos.level)] >= 1


def test_it_moves_the_quarter_boundary_with_the_time_zone(history: History, settings: Any) -> None:
    settings.TIME_ZONE = "UTC"
    q3 = period_statistics(parse_period("2026-Q3"), lang="en")
    assert q3.total.value == 6  # October's (30 Sep 20:00 UTC) now in, the first of July's (30 Jun 22:00 UTC) out
    assert rows(q3.per_bucket) == {"2026-07": 2, "2026-08": 3, "2026-09": 1}


def test_a_month_counts_per_day_and_compares_with_the_month_before(history: History) -> None:
    july = period_statistics(parse_period("2026-07"), lang="en")
    per_day = {key: n for key, n in rows(july.per_bucket).items() if n}
    assert per_day == {"2026-07-01": 1, "2026-07-05": 1, "2026-07-20": 1}
    assert len(july.per_bucket.rows) == 31
    assert (july.total.value, july.previous_total.value, july.change) == (3, 0, "–")
    august = period_statistics(parse_period("2026-08"), lang="en")
    assert (august.total.value, august.previous_total.value, august.change) == (3, 3, "0.0 %")


def test_it_lists_high_incidents_but_never_a_tlp_red_one(history: History) -> None:
    q3 = period_statistics(parse_period("2026-Q3"), lang="en")
    assert [n.reference for n in q3.notable] == [history.ddos.reference]
    assert q3.notable_count == 2  # the TLP:RED one counted


def test_it_reports_response_times_from_the_dashboard_metrics(history: History) -> None:
    july = period_statistics(parse_period("2026-07"), lang="en")
    response = rows(july.response)
    assert response["mean_hours_to_triage"] == 2.0  # the DDoS, triaged two hours after its report
    assert response["mean_hours_to_resolve"] is None  # nothing resolved


# ---------------------------------------------------------------- public statistics


def test_it_hides_small_counts_and_one_more_where_the_total_would_reveal_them() -> None:
    table = Table("t", "t", (Row("a", "A", 12), Row("b", "B", 7), Row("c", "C", 3), Row("d", "D", 0), Row("e", "E", 9)))
    hidden = {row.key: row.shown for row in suppressed(table).rows if row.hidden}
    assert hidden == {"c": HIDDEN_SMALL, "b": HIDDEN_OTHER}  # 3 is small; 7, the next smallest, hides it
    two_small = Table("t", "t", (Row("a", "A", 12), Row("b", "B", 2), Row("c", "C", 1)))
    assert {row.key for row in suppressed(two_small).rows if row.hidden} == {"b", "c"}
    nothing_small = Table("t", "t", (Row("a", "A", 12), Row("b", "B", 0)))
    assert not any(row.hidden for row in suppressed(nothing_small).rows)


def test_public_statistics_show_only_aggregates_with_small_cells_hidden(history: History) -> None:
    found = periodic_report("public", "2026-Q3", lang="en", now=NOW)
    figures = found.figures
    assert found.report.tlp == "TLP:CLEAR"
    assert figures.total.shown == "6"  # type: ignore[union-attr]
    assert figures.notable_shown == HIDDEN_SMALL  # type: ignore[union-attr]  (2 high incidents: a small count)
    assert set(shown(figures.by_sector).values()) == {HIDDEN_SMALL}
    assert shown(figures.per_bucket) == {"2026-07": HIDDEN_SMALL, "2026-08": HIDDEN_SMALL, "2026-09": "0"}
    chart = str(found.report.context["charts"]["by_sector"])
    assert chart.count("&lt;5</text>") == 3 and 'width="1.5"' in chart  # the value written, no bar drawn
    html = found.report.html()
    assert history.ddos.title in html  # TLP:CLEAR and high: named, without its reference
    for secret in (history.ddos.reference, history.red.title, history.phishing.title, "Aralia Grid", "Ministry"):
        assert secret not in html
    assert "<5" in found.csv and history.ddos.reference not in found.csv


# ---------------------------------------------------------------- NIS2


def test_the_nis2_summary_counts_the_entities_in_scope_five_ways(history: History) -> None:
    summary = nis2_summary(parse_period("2026-Q3"), lang="en")
    assert (summary.in_scope, summary.out_of_scope) == (5, 1)  # the research lab is out of scope
    tables = {table.name: rows(table) for table in summary.tables}
    assert tables["sector"] == {"public-administration": 3, "energy": 2}
    assert tables["root_cause"] == {"human-errors": 1, "malicious-actions": 1, "unknown": 3}
    assert tables["classification"] == {"fraud": 3, "availability": 1, "intrusions": 1}
    assert tables["cross_border"] == {"yes": 1, "no": 1, "unknown": 3}
    assert tables["significant"] == {"yes": 1, "no": 4}  # only the DDoS meets Art. 3(1)(e)


def test_the_nis2_csv_has_stable_columns(history: History) -> None:
    found = periodic_report("nis2-quarterly", "2026-q3", lang="ru", now=NOW)
    lines = list(csv.DictReader(io.StringIO(found.csv)))
    assert list(lines[0]) == ["quarter", "dimension", "value", "label", "incidents"]
    significant = {line["value"]: line["incidents"] for line in lines if line["dimension"] == "significant"}
    assert significant == {"yes": "1", "no": "4"}
    assert {line["quarter"] for line in lines} == {"2026-Q3"}
    assert found.report.tlp == "TLP:AMBER"


# ---------------------------------------------------------------- files


def test_the_csv_holds_the_table_behind_every_chart(history: History) -> None:
    figures = period_statistics(parse_period("2026-Q3"), lang="en")
    lines = list(csv.reader(io.StringIO(csv_text(figures.tables))))
    assert lines[0] == ["table", "period", "key", "label", "value"]
    names = {line[0] for line in lines[1:]}
    assert names == {
        "totals",
        "per_month",
        "per_month_by_level",
        "by_level",
        "by_class",
        "top_types",
        "by_sector",
        "response",
        "sources",
    }
    assert ["by_sector", "", "energy", "Energy", "2"] in lines


@pytest.mark.parametrize(
    ("lang", "heading", "month"),
    [
        ("en", "Incidents by level", "July 2026"),
        ("ru", "Инциденты по уровням", "Июль 2026"),
        ("uz", "Intsidentlar darajalar boʻyicha", "Iyul 2026"),
    ],
)
def test_the_monthly_report_renders_as_a_marked_pdf_in_each_language(
    history: History, lang: str, heading: str, month: str
) -> None:
    found = periodic_report("monthly", "2026-07", lang=lang, now=NOW)
    pages = read_pdf(found.report.pdf().data)
    text = all_text(pages)
    assert heading in text and month in text
    assert history.ddos.reference in text and history.red.title not in text
    assert all("TLP:AMBER" in page.header and "TLP:AMBER" in page.footer for page in pages)


# ---------------------------------------------------------------- pages, API and command


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_staff_preview_and_download_the_reports(history: History, coordinator: User, analyst: User) -> None:
    for user in (coordinator, analyst):
        page = client_for(user).get("/statistics/", {"kind": "annual", "period": "2026"})
        assert page.status_code == 200
        assert history.ddos.reference in page.content.decode() and "<svg" in page.content.decode()
        assert 'href="/statistics/"' in page.content.decode()  # in the menu
    response = client_for(coordinator).get("/statistics/report.csv", {"kind": "public", "period": "2026-Q3"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="public-2026-Q3-en.csv"'
    pdf = client_for(analyst).get(
        "/statistics/report.pdf", {"kind": "nis2-quarterly", "period": "2026-Q3", "lang": "ru"}
    )
    assert pdf.status_code == 200 and "Значительный" in all_text(read_pdf(pdf.content))


def test_a_bad_period_is_explained(coordinator: User) -> None:
    page = client_for(coordinator).get("/statistics/", {"kind": "monthly", "period": "2026-Q3"})
    assert page.status_code == 400 and "is not a period: use YYYY-MM" in page.content.decode()
    api = client_for(coordinator).get("/api/v1/statistics/monthly", {"period": "July"})
    assert api.status_code == 400 and api.json()["errors"][0]["path"] == "period"


def test_only_analysts_and_coordinators_see_statistics(reporter: User, administrator: User, partner: User) -> None:
    for user in (reporter, administrator, partner):
        client = client_for(user)
        assert client.get("/statistics/").status_code == 403
        assert 'href="/statistics/"' not in client.get("/home/", follow=True).content.decode()
        assert client.get("/statistics/report.csv", {"period": "2026-07"}).status_code == 403
        assert client.get("/api/v1/statistics/monthly", {"period": "2026-07"}).status_code == 403
    assert Client().get("/api/v1/statistics/monthly", {"period": "2026-07"}).status_code in (401, 403)
    assert Client().get("/statistics/").status_code == 302


def test_the_api_gives_the_tables_in_the_language_asked(history: History, analyst: User) -> None:
    body = client_for(analyst).get("/api/v1/statistics/public", {"period": "2026-Q3", "lang": "ru"}).json()
    assert body["tlp"] == "TLP:CLEAR" and body["period"] == "2026-Q3"
    sectors = next(table for table in body["tables"] if table["table"] == "by_sector")
    assert {row["key"]: (row["value"], row["shown"]) for row in sectors["rows"]}["energy"] == (None, "<5")


@pytest.mark.django_db(transaction=True)
def test_the_command_writes_each_file_and_refuses_bad_input(
    history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "q3.csv"
    assert main(["report", "nis2-quarterly", "--period", "2026-Q3", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("quarter,dimension,value,label,incidents")
    assert "TLP:AMBER" in capsys.readouterr().err
    assert main(["report", "annual", "--period", "2026-07", "-o", str(tmp_path / "x.pdf")]) == 2
    assert "'2026-07' is not a period: use YYYY" in capsys.readouterr().err
    assert main(["report", "monthly", "--period", "2026-07", "-o", str(tmp_path / "x.docx")]) == 2
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "x.docx").exists()
