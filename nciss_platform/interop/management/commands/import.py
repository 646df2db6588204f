"""``nciss import --format veris|stix|misp|intelmq|csv --user NAME PATH...``: records into incidents.

Files, folders and ``.jsonl.gz`` are read as they stream, with a progress bar on stderr. Every
record that cannot be imported is listed (file, record, field, reason) and the batch goes on;
the summary follows. Exit 0 when the batch ran, 2 for a bad invocation or unreadable input.
IntelMQ events go the way of ``nciss ingest``: attributed to constituents and aggregated into incidents.
"""

from __future__ import annotations

from typing import Any

import yaml
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from nciss.interop import formats
from nciss_platform.accounts.models import User
from nciss_platform.commands import bad_input
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents.models import TLP
from nciss_platform.interop.services import import_records


class Command(BaseCommand):
    help = "Import incidents from VERIS, STIX 2.1, MISP, IntelMQ or CSV files (re-importing creates no duplicates)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
        parser.add_argument("--format", required=True, choices=formats.IMPORT_FORMATS)
        parser.add_argument("--user", required=True, help="the analyst or coordinator the import is made as")
        parser.add_argument("--mapping", help="CSV: the column mapping file (YAML)")
        parser.add_argument("--tlp", default=TLP.AMBER, help="TLP for records that carry none (default TLP:AMBER)")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        fmt, paths = options["format"], options["paths"]
        if fmt == "intelmq":  # feed events are aggregated into incidents: the same path as `nciss ingest`
            quiet = ["--quiet"] if options["quiet"] else []
            call_command("ingest", "--user", options["user"], *quiet, *paths, stdout=self.stdout, stderr=self.stderr)
            return
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise bad_input(f"unknown user {options['user']!r}")
        mapping = _mapping(options["mapping"]) if fmt == "csv" else None
        if fmt == "csv" and mapping is None:
            raise bad_input("--format csv needs --mapping FILE (see docs/interop.md)")
        try:
            total = formats.total_bytes(fmt, paths)
            if mapping is not None:
                formats.reader(fmt, mapping)  # a bad mapping file stops here, before anything is read
        except (OSError, ValueError) as e:
            raise bad_input(str(e)) from None
        console = Console(stderr=True)
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, disable=options["quiet"], transient=True) as bar:
            task = bar.add_task(f"importing {fmt}", total=total)
            items = formats.read_files(fmt, paths, mapping, progress=lambda n: bar.advance(task, n))
            try:
                summary = import_records(actor=user, fmt=fmt, items=items, default_tlp=options["tlp"])
            except (NotAllowed, ServiceError) as e:
                raise bad_input(str(e)) from None
            except OSError as e:
                raise bad_input(f"unreadable input: {e}") from None
        out = self.stdout.write
        for rejected in summary.rejected:
            out(f"rejected {rejected}")
        out(
            f"{summary.read} records read: {summary.imported} imported, {summary.already_imported} already imported, "
            f"{len(summary.rejected)} rejected; {summary.mapped_fields} fields mapped to facts, "
            f"{summary.unmapped_fields} unmapped (kept in the original records)"
        )


def _mapping(path: str | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            loaded = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise bad_input(f"--mapping {path}: {e}") from None
    if not isinstance(loaded, dict):
        raise bad_input(f"--mapping {path}: expected a mapping of settings")
    return loaded
