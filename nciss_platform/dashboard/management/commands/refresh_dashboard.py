"""nciss manage refresh_dashboard [--full]: bring the dashboard's rollups up to date now."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from nciss_platform.dashboard import rollups


class Command(BaseCommand):
    help = "Bring the dashboard's rollups up to date (the worker does it every minute); --full rebuilds them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="rebuild every day, e.g. after a bulk load")

    def handle(self, *args: Any, full: bool = False, **options: Any) -> None:
        started = time.perf_counter()
        done = rollups.refresh(full=full)
        if done.skipped:
            self.stdout.write("another process is refreshing the rollups right now; nothing done")
            return
        self.stdout.write(
            f"{done.days} days rewritten from {done.incidents} incidents in {time.perf_counter() - started:.1f} s"
        )
