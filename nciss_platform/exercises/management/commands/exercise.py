"""``nciss exercise validate FILE...`` and ``nciss exercise run SCENARIO --script FILE [--lang L] [-o FILE]``.

``validate`` checks scenario files: exit 0 when all are valid, 2 with one line per problem
(``file: path: reason``). ``run`` plays a scripted exercise without a browser (SCENARIO is a
file or the id of a shipped scenario) and prints its summary, or with ``-o`` writes the
after-action report as HTML or PDF (by the file's suffix). Nothing touches the database: an
exercise never mixes with real incidents.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from nciss.exercises import (
    Exercise,
    Scenario,
    ScenarioError,
    after_action,
    load_scenario,
    load_script,
    run_script,
    shipped_scenarios,
)
from nciss_platform import clock, commands
from nciss_platform.commands import bad_input
from nciss_platform.exercises.report import after_action_report

SUFFIXES = (".pdf", ".html")


class Command(commands.Command):
    help = "Table-top exercises: validate scenario files, or play a scripted run and write its after-action report."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True, metavar="validate|run")
        validate = commands.add_parser("validate", help="check scenario files")
        validate.add_argument("files", nargs="+", metavar="FILE")
        run = commands.add_parser("run", help="play a scripted exercise")
        run.add_argument("scenario", metavar="SCENARIO", help="a scenario file, or a shipped scenario's id")
        run.add_argument(
            "--script", required=True, metavar="FILE", help="the teams' and facilitator's decisions (YAML)"
        )
        languages = "|".join(code for code, _name in settings.LANGUAGES)
        run.add_argument("--lang", default="en", metavar=languages, help="the report's language (default: en)")
        run.add_argument("-o", "--output", metavar="FILE", help="write the after-action report: FILE.html or FILE.pdf")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "validate":
            self._validate(options["files"])
        else:
            self._run(options)

    def _validate(self, files: list[str]) -> None:
        failed = False
        for name in files:
            try:
                load_scenario(name)
            except ScenarioError as e:
                failed = True
                for path, reason in e.errors:
                    self.stderr.write(f"{name}: {path}: {reason}")
                continue
            self.stdout.write(f"{name}: valid")
        if failed:
            sys.exit(commands.EXIT_BAD_INPUT)

    def _run(self, options: dict[str, Any]) -> None:
        lang, output = options["lang"], options["output"]
        if lang not in {code for code, _name in settings.LANGUAGES}:
            raise bad_input(f"unknown language {lang!r}: use en, ru or uz")
        if output and Path(output).suffix.lower() not in SUFFIXES:
            raise bad_input(f"{Path(output).name}: the file name must end in .pdf or .html")
        scenario = _scenario(options["scenario"])
        try:
            exercise = run_script(scenario, load_script(options["script"], scenario))
        except ScenarioError as e:  # ExerciseError too
            where = options["script"]
            raise bad_input("; ".join(f"{where}: {p}: {r}" for p, r in e.errors)) from None
        if not output:
            self._summary(exercise, lang)
            return
        started = time.perf_counter()
        report = after_action_report(exercise, lang=lang, now=clock.now())
        path = Path(output)
        what = commands.write_document(report, path)
        self.stderr.write(f"EXERCISE: wrote {path} ({what}, {report.tlp}) in {time.perf_counter() - started:.1f} s")

    def _summary(self, exercise: Exercise, lang: str) -> None:
        data = after_action(exercise, lang)
        write = self.stdout.write
        write(f"EXERCISE {data['scenario']['id']}: {data['scenario']['title']} ({data['duration']})")
        for d in data["divergences"]:
            how = (d["ended_by"] or {}).get("name") or (d["ended_by"] or {}).get("kind", "open")
            write(f"divergence {d['start']}-{d['end']} ({d['minutes']} min) {' / '.join(d['teams'])}: {how}")
        for cbm in data["cbms"]:
            write(f"CBM {cbm['cbm']} at {cbm['clock']} by {cbm['team']} with {', '.join(cbm['with'])}")
        for pair in data["escalation"]:
            write(f"escalation {pair['pair']}: start {pair['initial']}, peak {pair['peak']}, end {pair['final']}")
        for objective in data["objectives"]:
            write(f"objective {objective['id']}: {'met' if objective['met'] else 'NOT met'}")


def _scenario(ref: str) -> Scenario:
    """A scenario file, or a shipped scenario by its id."""
    shipped = {p.name.removesuffix(".scenario.yaml"): p for p in shipped_scenarios()}
    path = shipped.get(ref) or Path(ref)
    if not path.exists():
        raise bad_input(f"no scenario {ref!r}: neither a shipped one ({', '.join(shipped)}) nor a file")
    try:
        return load_scenario(path)
    except ScenarioError as e:
        raise bad_input("; ".join(f"{ref}: {p}: {r}" for p, r in e.errors)) from None
