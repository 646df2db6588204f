"""``nciss calibrate``: the draft against the current scale from the command line, and one clear line on bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from nciss_platform.accounts.models import User
from nciss_platform.calibration.tests.calibration_history import make_history, write_draft
from nciss_platform.cli import main
from nciss_platform.incidents.models import TLP

pytestmark = pytest.mark.django_db(transaction=True)  # the command closes the connection when done


def test_it_prints_what_the_draft_changes_on_the_history(
    reporter: User, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_history(reporter)
    draft = write_draft(tmp_path)
    assert main(["calibrate", "--scale", str(draft), "--against", "cisa-nciss", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "3 incidents: 1 change level (0 up, 1 down)" in out
    assert "per level of the draft: Baseline 1, Low 1, Medium 0, High 0, Severe 0, Emergency 1" in out
    # the shipped CISA reference cases: example 1 and its twin now fail
    assert "reference cases: 8 passed, 2 failed" in out
    assert "failed: schemes.md 1.4 example 1" in out and "level Low (1), agreed 2" in out
    assert "parameters that matter most: score from which Medium (1)" in out
    assert "draft vs current: kappa" in out


def test_it_writes_an_html_report_with_charts_and_the_incidents_behind_the_numbers(
    reporter: User, tmp_path: Path
) -> None:
    history = make_history(reporter)
    out = tmp_path / "report.html"
    draft = write_draft(tmp_path)
    args = ["calibrate", "--scale", str(draft), "--against", "cisa-nciss", "--compare", "eu-nis2", "-o", str(out)]
    assert main([*args, "--quiet"]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") >= 4  # matrix, distribution, sensitivity, compatibility
    moving = html.split('id="moving"', 1)[1].split("</table>", 1)[0]
    assert history.medium.reference in moving and history.phishing.reference not in moving
    movers = html.split('id="movers-table"', 1)[1].split("</table>", 1)[0]
    assert "score 38.0 (Medium) -&gt; score 38.0 (Low)" in movers
    assert "Compatibility of" in html and "EU NIS2" in html
    assert "<script" not in html


def test_it_re_assesses_only_the_incidents_since_a_day(
    reporter: User, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_history(reporter)
    draft = write_draft(tmp_path)
    assert (
        main(["calibrate", "--scale", str(draft), "--against", "cisa-nciss", "--since", "2026-03-05", "--quiet"]) == 0
    )
    assert "1 incidents: 0 change level" in capsys.readouterr().out


def test_it_counts_a_tlp_red_incident_but_never_lists_it(reporter: User, tmp_path: Path) -> None:
    history = make_history(reporter, medium_tlp=TLP.RED)
    out = tmp_path / "report.html"
    assert (
        main(["calibrate", "--scale", str(write_draft(tmp_path)), "--against", "cisa-nciss", "-o", str(out), "--quiet"])
        == 0
    )
    html = out.read_text(encoding="utf-8")
    assert history.medium.reference not in html
    assert '<li id="moved"><strong>1</strong>' in html


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--scale", "no-such-scale", "--against", "cisa-nciss"], "--scale no-such-scale: scale: unknown scale"),
        (["--scale", "cisa-nciss", "--against", "cisa-nciss", "-o", "x.docx"], "x.docx: the file name must end in"),
        (["--scale", "cisa-nciss", "--against", "cisa-nciss", "--since", "5 March"], "--since '5 March' is not a date"),
        (["--scale", "cisa-nciss", "--against", "cisa-nciss", "--target", "1,2"], "--target needs 6 non-negative"),
        (["--scale", "cisa-nciss", "--against", "cisa-nciss", "--step", "10"], "--step 10.0: give a share"),
        (["--scale", "cisa-nciss", "--against", "cisa-nciss", "--sector", "space"], "no incidents match"),
        (["--scale", "cisa-nciss"], "the following arguments are required: --against"),
    ],
)
def test_it_exits_2_with_one_line_on_bad_input(
    reporter: User, refused: Callable[[Callable[[], int], str], None], args: list[str], reason: str
) -> None:
    make_history(reporter)
    refused(lambda: main(["calibrate", *args, "--quiet"]), reason)
