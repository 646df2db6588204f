"""``nciss sitrep [--incident REF [--advisory]] [--date DAY] [--lang en|ru|uz] -o FILE.pdf|FILE.html``.

Without ``--incident``: the national daily sitrep of ``--date`` (today by default). With it: that
incident's sitrep, or with ``--advisory`` its draft public advisory. The file's suffix decides
PDF or HTML. Runs as an operator, like ``nciss export``: every incident counts, TLP:RED ones are
never detailed (an incident sitrep or advisory of a TLP:RED incident is refused). Bad input
exits 2 with one line on stderr.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from nciss_platform import clock, commands
from nciss_platform.commands import bad_input
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.reports import services

SUFFIXES = (".pdf", ".html")


class Command(commands.Command):
    help = "Write a situation report (national or one incident's) or a public advisory as PDF or HTML."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--incident", metavar="REF", help="one incident's sitrep instead of the national one")
        parser.add_argument("--advisory", action="store_true", help="the incident's draft public advisory (TLP:CLEAR)")
        parser.add_argument("--date", metavar="YYYY-MM-DD", help="the national sitrep's day (default: today, UTC)")
        languages = "|".join(code for code, _name in settings.LANGUAGES)
        parser.add_argument("--lang", default="en", metavar=languages, help="the report's language (default: en)")
        parser.add_argument("-o", "--output", metavar="FILE", help="the file to write: FILE.pdf or FILE.html")

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"] or "")
        lang = options["lang"]
        if not options["output"]:
            raise bad_input("-o FILE.pdf or -o FILE.html is required")
        if output.suffix.lower() not in SUFFIXES:
            raise bad_input(f"{output.name}: the file name must end in .pdf or .html")
        if lang not in {code for code, _name in settings.LANGUAGES}:
            raise bad_input(f"unknown language {lang!r}: use en, ru or uz")
        if options["advisory"] and not options["incident"]:
            raise bad_input("--advisory needs --incident REF")
        if options["incident"] and options["date"]:
            raise bad_input("--date is for the national sitrep: an incident's sitrep is as of now")
        report = self._report(options, lang)
        started = time.perf_counter()
        what = commands.write_document(report, output)
        seconds = time.perf_counter() - started
        self.stderr.write(f"wrote {output} ({what}, {report.tlp}) in {seconds:.1f} s")

    def _report(self, options: dict[str, Any], lang: str) -> services.Report:
        now = clock.now()
        reference = options["incident"]
        if reference:
            incident = Incident.objects.select_related("reporting_organisation").filter(reference=reference).first()
            if incident is None:
                raise bad_input(f"no incident {reference!r}")
            if incident.tlp == TLP.RED:
                raise bad_input(f"{reference} is TLP:RED: its reports are for its named recipients only, on the web")
            if options["advisory"]:
                try:
                    return services.advisory_report(incident, lang=lang, now=now)
                except NotAllowed as e:
                    raise bad_input(str(e)) from None
            return services.incident_report(incident, visible=Incident.objects.exclude(tlp=TLP.RED), lang=lang, now=now)
        try:
            day = dt.date.fromisoformat(options["date"]) if options["date"] else now.astimezone(dt.UTC).date()
        except ValueError:
            raise bad_input(f"--date {options['date']!r} is not a date: use YYYY-MM-DD") from None
        try:
            return services.national_report(Incident.objects.all(), day, lang=lang, now=now)
        except ServiceError as e:
            raise bad_input(str(e)) from None
