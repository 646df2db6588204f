"""``nciss ingest [--format intelmq] --user NAME FILE...``: feed events into incidents.

Files, folders and ``.jsonl.gz`` stream through ``feeds.services.ingest_events`` with a progress
bar over the bytes on stderr; the summary follows on stdout. Exit 0 when the run went through
(rejected events are dead letters, not failures), 2 for a bad invocation or unreadable input.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from nciss_platform.accounts.models import User
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.feeds.reading import FORMATS, feed_files, read_feeds
from nciss_platform.feeds.services import IngestSummary, ingest_events

EXIT_BAD_INPUT = 2
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class Command(BaseCommand):
    help = "Ingest IntelMQ feed events (JSON Lines): deduplicated, attributed and aggregated into incidents."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="FILE", help="files or folders (.jsonl, .json, .jsonl.gz)")
        parser.add_argument("--format", default="intelmq", choices=FORMATS)
        parser.add_argument("--user", required=True, help="the CSIRT analyst or coordinator the events are ingested as")
        parser.add_argument("--window", default="1d", help="aggregation and deduplication window: 30m, 6h, 1d ...")
        parser.add_argument("--batch", type=int, default=2000, help="events per transaction (default 2000)")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise _bad(f"unknown user {options['user']!r}")
        window = _window(options["window"])
        try:
            files = feed_files(options["paths"], options["format"])
            total = sum(path.stat().st_size for path in files)
        except (OSError, ValueError) as e:
            raise _bad(str(e)) from None
        console = Console(stderr=True)
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, disable=options["quiet"], transient=True) as bar:
            task = bar.add_task("ingesting", total=total)

            def counted(summary: IngestSummary) -> None:
                bar.update(task, description=f"ingesting: {summary.read} events")

            try:
                summary = ingest_events(
                    events=read_feeds(files, progress=lambda n: bar.advance(task, n)),
                    actor=user,
                    window=window,
                    batch=options["batch"],
                    source=", ".join(path.name for path in files),
                    on_progress=counted,
                )
            except (NotAllowed, ServiceError) as e:
                raise _bad(str(e)) from None
            except OSError as e:
                raise _bad(f"unreadable input: {e}") from None
        self.stdout.write(
            f"{summary.read} events read: {summary.attributed} attributed ({summary.duplicates} duplicates), "
            f"{summary.unattributed} outside the constituency, {summary.rejected} rejected (kept as dead letters); "
            f"incidents: {summary.incidents_opened} opened, {summary.incidents_updated} updated"
        )


def _window(text: str) -> dt.timedelta:
    match = re.fullmatch(r"(\d+)([mhd])", text.strip())
    if match is None or int(match[1]) == 0:
        raise _bad(f"--window {text!r}: expected a positive duration such as 30m, 6h or 1d")
    return dt.timedelta(**{_UNITS[match[2]]: int(match[1])})


def _bad(message: str) -> CommandError:
    return CommandError(message.splitlines()[0], returncode=EXIT_BAD_INPUT)
