"""``nciss notify tick``: check response targets, reporting reminders and acknowledgements now.

The worker (``nciss worker``) runs the same check every NCISS_NOTIFY_TICK_SECONDS as an outbox
job that schedules its successor; this command runs it at once (from cron, or to see what it
does) and makes sure that periodic job is scheduled.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from nciss_platform import clock
from nciss_platform.notifications import services


class Command(BaseCommand):
    help = "Notifications: `tick` routes due clock events and escalates unacknowledged notifications now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["tick"], help="tick: run the periodic check once, now")

    def handle(self, *args: Any, **options: Any) -> None:
        now = clock.now()
        summary = services.tick(now)
        services.schedule_tick(now)
        self.stdout.write(
            f"clock events: {summary.clock_events}; notifications for them: {summary.notifications}; "
            f"escalation notifications: {summary.escalations}"
        )
