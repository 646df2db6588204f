"""``nciss exercise``: validating scenarios, and scripted runs of both shipped scenarios to their after-action reports."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from pathlib import Path

import pytest

from nciss.exercises import SCENARIOS
from nciss_platform.cli import main
from nciss_platform.reports.tests.pdfs import all_text, read_pdf

GRID_SCRIPT = str(SCENARIOS / "cross-border-grid.script.yaml")
HOSPITAL_SCRIPT = str(SCENARIOS / "hospital-ransomware.script.yaml")


def rows(html: str, heading: str) -> list[str]:
    """The text of each row of the table after ``heading``, tags stripped."""
    section = html.split(f"<h2>{heading}</h2>", 1)[1].split("<h2>", 1)[0]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in body.split("</tr>") if row.strip()]


def test_validate_says_valid_for_the_shipped_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in SCENARIOS.glob("*.scenario.yaml"))
    assert main(["exercise", "validate", *files]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{f}: valid" for f in files]


def test_validate_exits_2_with_one_line_per_problem_prefixed_with_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    text = (SCENARIOS / "cross-border-grid.scenario.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("scale: uk-ncsc", "scale: uk-ncsk").replace("to: [aralia-csirt]", "to: [aralia-cert]"))
    assert main(["exercise", "validate", str(bad), str(SCENARIOS / "hospital-ransomware.scenario.yaml")]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"{bad}: states[1].scale: cannot load 'uk-ncsk': scale: unknown scale 'uk-ncsk': not a preset "
        "(osce-reference, cisa-nciss, uk-ncsc, eu-nis2) nor a file",
        f"{bad}: injects[2].to[0]: no team 'aralia-cert' (known: aralia-csirt, aralia-grid, veskaria-cda, veskaria-mfa)",
    ]
    assert "hospital-ransomware.scenario.yaml: valid" in captured.out


def test_a_scripted_run_without_a_file_prints_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exercise", "run", "cross-border-grid", "--script", GRID_SCRIPT]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("EXERCISE cross-border-grid:")
    assert (
        "divergence T+1:20-T+1:40 (20 min) Aralia national CSIRT / Veskaria Ministry of Foreign Affairs: Consultations"
        in out
    )
    assert "objective align-classifications: NOT met" in out


def test_the_grid_report_in_english_shows_divergences_with_durations_cbms_and_lessons(tmp_path: Path) -> None:
    out = tmp_path / "grid.html"
    assert main(["exercise", "run", "cross-border-grid", "--script", GRID_SCRIPT, "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "<script" not in html
    assert html.count("EXERCISE — not a real incident") == 2  # above and below; in a PDF atop every page too
    assert rows(html, "Divergences") == [
        "Interconnector trip and grid outage Aralia national CSIRT: High (level 3 of 0–5) "
        "Veskaria Cyber Defence Agency: Category 5: Moderate incident (level 1 of 0–5) T+0:40 T+1:15 35 the levels agree again",
        "Interconnector trip and grid outage Aralia national CSIRT: Severe (level 4 of 0–5) "
        "Veskaria Ministry of Foreign Affairs: Category 5: Moderate incident (level 1 of 0–5) T+1:20 T+1:40 20 Consultations",
        "Interconnector trip and grid outage Veskaria Cyber Defence Agency: Category 2: Highly significant incident "
        "(level 4 of 0–5) Veskaria Ministry of Foreign Affairs: Category 5: Moderate incident (level 1 of 0–5) "
        "T+1:20 T+1:45 25 the levels agree again",
    ]
    cbms = rows(html, "Confidence-building measures used")
    assert cbms[1] == (
        "T+1:40 3. Consultations Veskaria Ministry of Foreign Affairs Republic of Aralia "
        "ended the divergence of Aralia national CSIRT / Veskaria Ministry of Foreign Affairs on Interconnector trip "
        "and grid outage; escalation Republic of Aralia / Veskaria: 2 → 1"
    )
    lessons = rows(html, "Learning objectives and lessons")
    assert lessons[2].startswith(
        "Keep the teams' classifications apart for no more than an hour in all. ✘ Not met: a lesson to take away "
        "Share the classification (CBM 15) or consult as soon as the levels differ"
    )
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    assert "T+2:00 (08:00) Inject: A joint statement is drafted After the consultations" in text
    assert "T+2:00 (08:00) Inject not delivered (its branch was not taken): Parliament calls for sanctions" in text
    assert "With no word from Aralia" not in text  # the branch not taken
    assert "<svg" in html and "Escalation per pair of States over time" in html


def test_the_hospital_report_in_russian(tmp_path: Path) -> None:
    out = tmp_path / "hospital.html"
    assert (
        main(["exercise", "run", "hospital-ransomware", "--script", HOSPITAL_SCRIPT, "--lang", "ru", "-o", str(out)])
        == 0
    )
    html = out.read_text(encoding="utf-8")
    assert 'lang="ru"' in html
    assert "EXERCISE · УЧЕНИЯ —" in html and "Расхождения" in html and "Меры укрепления доверия" in html
    divergences = rows(html, "Расхождения")
    assert divergences[0].endswith("T+0:55 T+0:57 2 Обмен классификацией инцидента")
    assert "Код синий" in html and "Бореалия" in html


def test_the_pdf_report_says_exercise_on_every_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "grid.pdf"
    assert main(["exercise", "run", "cross-border-grid", "--script", GRID_SCRIPT, "--lang", "uz", "-o", str(out)]) == 0
    pages = read_pdf(out.read_bytes())
    assert len(pages) > 1
    assert all("EXERCISE" in page.header and "MASHQ" in page.header for page in pages)
    assert all("TLP:GREEN" in page.header and "TLP:GREEN" in page.footer for page in pages)
    assert "Qorong'i tutashma" in all_text(pages)
    assert f"wrote {out} ({len(pages)} page(s), TLP:GREEN)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["run", "atlantis", "--script", GRID_SCRIPT], "no scenario 'atlantis': neither a shipped one"),
        (["run", "cross-border-grid"], "the following arguments are required: --script"),
        (["validate"], "the following arguments are required: FILE"),
        (["run", "cross-border-grid", "--script", HOSPITAL_SCRIPT], "this script is for 'hospital-ransomware'"),
        (["run", "cross-border-grid", "--script", GRID_SCRIPT, "-o", "r.docx"], "r.docx: the file name must end in"),
        (["run", "cross-border-grid", "--script", GRID_SCRIPT, "--lang", "fr"], "unknown language 'fr'"),
    ],
)
def test_run_exits_2_with_one_line_on_bad_input(
    refused: Callable[[Callable[[], int], str], None], args: list[str], reason: str
) -> None:
    refused(lambda: main(["exercise", *args]), reason)
