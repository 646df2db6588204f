"""``nciss export --format stix|misp|veris|csv [--incident REF]... [--partner ORG] [-o PATH]``.

Without ``--partner``: the incidents themselves (TLP:RED only with ``--include-red``). With
``--partner``: what was shared with that partner organisation, as it received it (its scale,
the reporter named only where it agreed). Writes to standard output without ``-o``. One
``--incident`` gives one MISP event or VERIS record; otherwise MISP writes ``{"response": [...]}``
and VERIS JSON Lines.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from nciss.interop import formats
from nciss_platform.accounts.models import Organisation
from nciss_platform.commands import bad_input
from nciss_platform.errors import ServiceError
from nciss_platform.interop.services import exported, records_for_operator


class Command(BaseCommand):
    help = "Export incidents as a STIX 2.1 bundle, MISP events, VERIS records or CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", required=True, choices=formats.EXPORT_FORMATS)
        parser.add_argument("--incident", action="append", default=[], metavar="REF", help="one incident (repeatable)")
        parser.add_argument("--partner", metavar="ORG_SLUG", help="what was shared with this partner organisation")
        parser.add_argument("--include-red", action="store_true", help="include TLP:RED incidents (not with --partner)")
        parser.add_argument("-o", "--output", metavar="PATH", help="the file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        partner = None
        if options["partner"]:
            partner = Organisation.objects.filter(slug=options["partner"], kind=Organisation.Kind.PARTNER).first()
            if partner is None:
                raise bad_input(f"unknown partner organisation {options['partner']!r}")
            if options["include_red"]:
                raise bad_input("--include-red cannot be combined with --partner: TLP:RED goes to named people only")
        try:
            records = list(
                records_for_operator(
                    references=options["incident"], partner=partner, include_red=options["include_red"]
                )
            )
        except ServiceError as e:
            raise bad_input(str(e)) from None
        try:
            out = open(options["output"], "wb") if options["output"] else sys.stdout.buffer  # noqa: SIM115
        except OSError as e:
            raise bad_input(f"cannot write {options['output']}: {e.strerror}") from None
        try:
            count = formats.write(options["format"], records, out, single=len(options["incident"]) == 1)
        finally:
            if options["output"]:
                out.close()
        detail = {"partner": partner.slug if partner else None, "incidents": [r.reference for r in records][:100]}
        exported(actor=None, fmt=options["format"], count=count, detail=detail)
        self.stderr.write(f"exported {count} incident(s) as {options['format']}")
