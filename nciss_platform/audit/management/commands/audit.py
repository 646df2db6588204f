"""``nciss audit verify`` checks the hash chain of the audit log; ``nciss audit tail`` shows its end.

verify prints ``audit log intact: N events`` (and the last hash, to note down elsewhere) and
exits 0, or says where the chain breaks and exits 1. Large logs get a progress bar on a terminal.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from nciss_platform.audit import services
from nciss_platform.audit.chain import canonical
from nciss_platform.audit.models import AuditEvent

EXIT_BROKEN = 1
PROGRESS_FROM = 20_000  # events: below this a check takes about a second, no bar needed


class Command(BaseCommand):
    help = "Check the audit log's hash chain (verify) or show its last events (tail)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True, metavar="{verify,tail}")
        verify = commands.add_parser("verify", help="recompute every hash; exit 1 where the chain breaks")
        verify.add_argument("--batch", type=int, default=5000, help="events read per query (default: 5000)")
        tail = commands.add_parser("tail", help="the last events, oldest first")
        tail.add_argument("-n", type=int, default=20, help="how many (default: 20)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "tail":
            self._tail(options["n"])
            return
        result = self._verify(options["batch"])
        if result.ok:
            self.stdout.write(f"audit log intact: {result.checked} events (last hash {result.last_hash})")
            return
        if result.broken_at == -1:
            where = f"audit log broken after event {result.checked}"
        else:
            where = f"audit log broken at event id {result.broken_at} ({result.checked} events before it are intact)"
        self.stderr.write(f"{where}: {result.reason}")
        sys.exit(EXIT_BROKEN)

    def _verify(self, batch: int) -> services.Verification:
        total = AuditEvent.objects.count()
        show = total >= PROGRESS_FROM and sys.stderr.isatty()
        columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=Console(stderr=True), transient=True, disable=not show) as bar:
            task = bar.add_task("verify", total=total)
            return services.verify(batch=batch, progress=lambda done: bar.update(task, completed=done))

    def _tail(self, count: int) -> None:
        events = list(AuditEvent.objects.order_by("-pk")[: max(count, 0)])
        for event in reversed(events):
            who = event.actor or "system"
            self.stdout.write(
                f"{event.pk}  {event.at:%Y-%m-%d %H:%M:%S}  {who}  {event.action}  "
                f"{event.object_type} {event.object_id}  {canonical(event.data)}"
            )
