"""``nciss sitrep``: the reports from the command line, and one clear line when the input is wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from nciss_platform import clock
from nciss_platform.cli import main
from nciss_platform.reports.tests.conftest import LATER, Week
from nciss_platform.reports.tests.pdfs import all_text, read_pdf

pytestmark = pytest.mark.django_db(transaction=True)  # the command closes the connection when done


def sitrep(*args: str) -> int:
    with clock.frozen(LATER):
        return main(["sitrep", *args])


def test_it_writes_the_national_sitrep_as_pdf(week: Week, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "national.pdf"
    assert sitrep("--date", "2026-03-10", "--lang", "uz", "-o", str(out)) == 0
    pages = read_pdf(out.read_bytes())
    text = all_text(pages)
    assert "Milliy vaziyat hisoboti" in text
    assert week.new_amber.reference in text and week.new_red.reference not in text  # run as an operator: no RED detail
    assert "TLP:AMBER" in pages[0].header
    assert f"wrote {out} ({len(pages)} page(s), TLP:AMBER)" in capsys.readouterr().err


def test_it_writes_an_incident_sitrep_and_an_advisory_as_html(week: Week, tmp_path: Path) -> None:
    reference = week.new_amber.reference
    sitrep_file, advisory_file = tmp_path / "sitrep.html", tmp_path / "advisory.html"
    assert sitrep("--incident", reference, "--lang", "ru", "-o", str(sitrep_file)) == 0
    html = sitrep_file.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and 'lang="ru"' in html
    assert reference in html and "Ситуационный отчёт по инциденту" in html and "<script" not in html
    assert sitrep("--incident", reference, "--advisory", "-o", str(advisory_file)) == 0
    advisory = advisory_file.read_text(encoding="utf-8")
    assert "TLP:CLEAR" in advisory and week.new_amber.title not in advisory


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["-o", "report.docx"], "report.docx: the file name must end in .pdf or .html"),
        ([], "-o FILE.pdf or -o FILE.html is required"),
        (["--date", "10/03/2026", "-o", "x.pdf"], "--date '10/03/2026' is not a date: use YYYY-MM-DD"),
        (["--date", "2026-03-13", "-o", "x.pdf"], "date: 2026-03-13 is in the future (today is 2026-03-12)"),
        (["--lang", "fr", "-o", "x.pdf"], "unknown language 'fr': use en, ru or uz"),
        (["--incident", "NCISS-1999-000001", "-o", "x.pdf"], "no incident 'NCISS-1999-000001'"),
        (["--advisory", "-o", "x.pdf"], "--advisory needs --incident REF"),
        (["--colour", "-o", "x.pdf"], "unrecognized arguments: --colour"),
    ],
)
def test_it_exits_2_with_one_line_on_bad_input(
    week: Week, refused: Callable[[Callable[[], int], str], None], args: list[str], reason: str
) -> None:
    refused(lambda: sitrep(*args), reason)


def test_it_refuses_the_reports_of_a_tlp_red_incident(
    week: Week, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sitrep("--incident", week.new_red.reference, "-o", str(tmp_path / "red.pdf")) == 2
    assert "is TLP:RED" in capsys.readouterr().err
    assert not (tmp_path / "red.pdf").exists()
