"""``nciss calibrate --scale DRAFT --against CURRENT [--since DATE] [-o report.html|report.pdf]``.

Re-assesses the incident history on a draft and on the current scale and reports what moves
(the old x new matrix, the movers and why, the distribution against a target, per sector and
classification), which parameters matter (sensitivity), the reference cases the draft passes and
fails, and how well the two scales (and any ``--compare`` scale) agree. DRAFT, CURRENT and SCALE
are a scale file, a scale id (its version in effect), ``draft:<id>`` or ``version:<id>``. Without ``-o`` a summary is printed. Bad input exits 2 with one line on stderr; the
long steps show a progress bar on stderr.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

import nciss
from nciss.scales import ScaleError
from nciss_platform import clock, commands
from nciss_platform.calibration import analysis
from nciss_platform.calibration import history as histories
from nciss_platform.calibration.report import Analysis, analyse, calibration_report
from nciss_platform.commands import bad_input
from nciss_platform.errors import ServiceError

SUFFIXES = (".pdf", ".html")


def resolve_scale(ref: str) -> nciss.Scale:
    """A scale file by path, else what the calibration lab names: ``draft:<id>``, ``version:<id>`` or a scale id.

    A scale id gives the version in effect here (the preset until a version is published).
    """
    path = Path(ref)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
        return nciss.load_scale(ref)
    return analysis.scale_for(ref)


class Command(commands.Command):
    help = "Re-assess the incident history on a draft scale and report what changes (HTML, PDF or a summary)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            required=True,
            metavar="DRAFT",
            help="the draft: a scale file, draft:ID, version:ID or a scale id",
        )
        parser.add_argument(
            "--against",
            required=True,
            metavar="CURRENT",
            help="the scale it would replace (same forms; a scale id is its version in effect)",
        )
        parser.add_argument("--since", metavar="YYYY-MM-DD", help="only incidents reported since this day")
        parser.add_argument("--sector", help="only incidents of this sector")
        parser.add_argument("--classification", help="only incidents of this classification (class or class:type)")
        parser.add_argument(
            "--compare", action="append", default=[], metavar="SCALE", help="also report compatibility with SCALE"
        )
        parser.add_argument(
            "--target",
            metavar="SHARES",
            help="wanted share per level of the draft, e.g. 50,25,13,7,4,1 (default: halving)",
        )
        parser.add_argument("--step", type=float, default=0.1, help="the sensitivity step as a share (default 0.1)")
        parser.add_argument("--no-sensitivity", action="store_true", help="skip the sensitivity analysis")
        languages = "|".join(code for code, _name in settings.LANGUAGES)
        parser.add_argument("--lang", default="en", metavar=languages, help="the report's language (default: en)")
        parser.add_argument("-o", "--output", metavar="FILE", help="write the report: FILE.html or FILE.pdf")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"]) if options["output"] else None
        if output is not None and output.suffix.lower() not in SUFFIXES:
            raise bad_input(f"{output.name}: the file name must end in .pdf or .html")
        if options["lang"] not in {code for code, _name in settings.LANGUAGES}:
            raise bad_input(f"unknown language {options['lang']!r}: use en, ru or uz")
        if not 0 < options["step"] < 1:
            raise bad_input(f"--step {options['step']}: give a share between 0 and 1, e.g. 0.1 for 10 %")
        draft, current = _scale(options["scale"], "--scale"), _scale(options["against"], "--against")
        compare = [_scale(ref, "--compare") for ref in options["compare"]]
        target = _target(options["target"], draft)
        since = _since(options["since"])
        console = Console(stderr=True)
        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"))
        started = time.perf_counter()
        with Progress(*columns, TimeElapsedColumn(), console=console, disable=options["quiet"], transient=True) as bar:
            task = bar.add_task("reading the history", total=5)
            queryset = histories.incidents(since, options["sector"], options["classification"])
            history = histories.read_history(histories.facts_of(draft, current, *compare), queryset)
            if not len(history):
                raise bad_input("no incidents match: nothing to re-assess")
            steps = iter(range(1, 6))

            def progress(what: str) -> None:
                bar.update(task, description=what, completed=next(steps))

            try:
                analysis = analyse(
                    draft,
                    current,
                    history,
                    compare=compare,
                    target=target,
                    step=options["step"],
                    with_sensitivity=not options["no_sensitivity"],
                    progress=progress,
                )
            except (ValueError, ServiceError) as e:
                raise bad_input(str(e)) from None
            bar.update(task, description="writing", completed=5)
            if output is not None:
                self._write(analysis, output, options["lang"])
        self.stderr.write(f"calibrated on {len(history)} incidents in {time.perf_counter() - started:.1f} s")
        if output is None:
            self.stdout.write(summary(analysis))

    def _write(self, analysis: Analysis, output: Path, lang: str) -> None:
        report = calibration_report(analysis, lang=lang, now=clock.now())
        what = commands.write_document(report, output)
        self.stderr.write(f"wrote {output} ({what}, {report.tlp})")


def summary(analysis: Analysis) -> str:
    """The analysis in a few lines of plain text (English, for the terminal)."""
    w = analysis.what_if
    lines = [
        f"{len(analysis.history)} incidents: {w.moved.size} change level ({w.up} up, {w.down} down); "
        f"distance to the target {w.distance_to_target:.2f}",
        f"old x new (rows: current, {_named(analysis.current)}; columns: draft, {_named(analysis.draft)}):",
        *("  " + " ".join(f"{v:>8}" for v in row) for row in w.matrix.tolist()),
        "per level of the draft: "
        + ", ".join(f"{lv.name['en']} {n}" for lv, n in zip(analysis.draft.levels, w.distribution, strict=True)),
    ]
    if analysis.sensitivity is not None:
        top = [e for e in analysis.sensitivity.effects if e.changed][:5]
        lines.append(
            "parameters that matter most: " + ("; ".join(f"{e.parameter.label} ({e.changed})" for e in top) or "none")
        )
    failed = [r for r in analysis.cases if not r.passed]
    lines.append(f"reference cases: {len(analysis.cases) - len(failed)} passed, {len(failed)} failed")
    lines += [f"  failed: {r.case.why}: {'; '.join(r.failures)}" for r in failed]
    for i, c in enumerate(analysis.compatibilities):
        lines.append(
            f"draft vs {'current' if i == 0 else _named(c.b)}: kappa {c.kappa_quadratic:.3f} (quadratic), {c.kappa_linear:.3f} (linear) "
            f"on {c.common}; rho {c.rho:.3f}"
        )
    return "\n".join(lines)


def _named(scale: nciss.Scale) -> str:
    return f"{scale.id} {scale.version}"


def _scale(ref: str, option: str) -> nciss.Scale:
    try:
        return resolve_scale(ref)
    except (ScaleError, ServiceError, LookupError) as e:
        raise bad_input(f"{option} {ref}: {e}") from None


def _target(text: str | None, draft: nciss.Scale) -> list[float] | None:
    if not text:
        return None
    try:
        shares = [float(part) for part in text.split(",")]
    except ValueError:
        raise bad_input(f"--target {text!r}: give numbers separated by commas") from None
    if len(shares) != draft.top + 1 or any(s < 0 for s in shares) or not sum(shares):
        raise bad_input(f"--target needs {draft.top + 1} non-negative shares, one per level of {draft.id}")
    return shares


def _since(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise bad_input(f"--since {text!r} is not a date: use YYYY-MM-DD") from None
