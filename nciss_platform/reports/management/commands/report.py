"""``nciss report monthly|annual|public|nis2-quarterly --period P [--lang en|ru|uz] -o FILE.pdf|.html|.csv``.

Periods: ``2026-11`` (monthly), ``2026`` (annual), ``2026-Q3`` (nis2-quarterly), any of the
three for the public statistics. The file's suffix decides PDF, standalone HTML or CSV. Runs as
an operator, like ``nciss sitrep``: every incident counts, TLP:RED ones are never listed. Bad
input exits 2 with one line on stderr.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from nciss_platform import clock, commands
from nciss_platform.commands import bad_input
from nciss_platform.errors import ServiceError
from nciss_platform.reports.periodic import KINDS, periodic_report

SUFFIXES = ("pdf", "html", "csv")


class Command(commands.Command):
    help = "Write a monthly or annual report, the public statistics or the NIS2 summary as PDF, HTML or CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=list(KINDS), help="which report")
        parser.add_argument(
            "--period", required=True, metavar="2026-11|2026-Q3|2026", help="the month, quarter or year"
        )
        languages = "|".join(code for code, _name in settings.LANGUAGES)
        parser.add_argument("--lang", default="en", metavar=languages, help="the report's language (default: en)")
        parser.add_argument("-o", "--output", required=True, metavar="FILE", help="FILE.pdf, FILE.html or FILE.csv")

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        suffix = output.suffix.lower().lstrip(".")
        lang = options["lang"]
        if suffix not in SUFFIXES:
            raise bad_input(f"{output.name}: the file name must end in .pdf, .html or .csv")
        if lang not in {code for code, _name in settings.LANGUAGES}:
            raise bad_input(f"unknown language {lang!r}: use en, ru or uz")
        started = time.perf_counter()
        try:
            found = periodic_report(options["kind"], options["period"], lang=lang, now=clock.now())
        except ServiceError as e:
            raise bad_input(str(e)) from None
        try:
            output.write_bytes(found.file(suffix))
        except OSError as e:
            raise bad_input(f"cannot write {output}: {e.strerror}") from None
        seconds = time.perf_counter() - started
        self.stderr.write(f"wrote {output} ({suffix.upper()}, {found.report.tlp}) in {seconds:.1f} s")
