"""``nciss campaigns correlate [--window-hours N] [--min-organisations N] [--json]``: find and update campaigns now.

Prints what changed: the campaigns opened, the incidents that joined, the campaigns whose level
changed and those closed. Bad options are one line on stderr and exit code 2.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nciss_platform.campaigns import services
from nciss_platform.errors import ServiceError

EXIT_BAD_INPUT = 2


class Command(BaseCommand):
    help = "Campaigns: incidents of one kind, or sharing indicators, across organisations."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        correlate = actions.add_parser("correlate", help="open, grow, re-assess and close campaigns now")
        correlate.add_argument(
            "--window-hours",
            type=int,
            help="longest gap between incidents of one campaign (NCISS_CAMPAIGN_WINDOW_HOURS)",
        )
        correlate.add_argument(
            "--min-organisations",
            type=int,
            help="organisations one classification must reach (NCISS_CAMPAIGN_MIN_ORGANISATIONS)",
        )
        correlate.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options["window_hours"]
        try:
            summary = services.correlate_campaigns(
                window=dt.timedelta(hours=hours) if hours is not None else None,
                min_organisations=options["min_organisations"],
            )
        except ServiceError as exc:
            raise CommandError(str(exc), returncode=EXIT_BAD_INPUT) from None
        if options["json"]:
            data = {
                "opened": summary.opened,
                "joined": summary.joined,
                "reassessed": summary.reassessed,
                "closed": summary.closed,
            }
            self.stdout.write(json.dumps(data, sort_keys=True))
            return
        counts = summary.counts()
        self.stdout.write(
            f"{counts['opened']} opened, {counts['joined']} incidents joined, "
            f"{counts['reassessed']} re-assessed, {counts['closed']} closed"
        )
        for reference in summary.opened:
            self.stdout.write(f"opened {reference}")
        for reference, incidents in summary.joined.items():
            self.stdout.write(f"{reference}: joined by {', '.join(incidents)}")
        for reference, (before, after) in summary.reassessed.items():
            self.stdout.write(f"{reference}: level {before} -> {after}")
        for reference in summary.closed:
            self.stdout.write(f"closed {reference}")
