"""``nciss demo``: load the fictional Republic of Aralia (idempotent) and print a login for each role."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from nciss_platform.campaigns.services import correlate_campaigns
from nciss_platform.incidents import demo_data as data
from nciss_platform.incidents import demo_loader
from nciss_platform.incidents.services import national_scale

ROLE_ORDER = {"administrator": 0, "coordinator": 1, "analyst": 2, "scale_owner": 3, "reporter": 4, "partner": 5}


class Command(BaseCommand):
    help = (
        "Load the demo data set: the fictional Republic of Aralia, its national CSIRT, regulators, ministries, "
        "28 operators, two partners abroad, users for every role and about 300 incidents of the last 90 days. "
        "Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="where the platform is served (printed with the logins)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = demo_loader.load()
        except demo_loader.DemoConflict as exc:
            raise CommandError(f"nothing loaded: {exc}") from None
        # The worker would group them shortly; the demo shows its campaigns from the first page.
        campaigns = correlate_campaigns() if summary.loaded else None
        out = self.stdout.write
        if summary.loaded:
            out(f"Loaded the demo data set of the {data.COUNTRY_NAME} ({data.COUNTRY}) in {summary.seconds:.1f} s:")
        else:
            out(f"The demo data set of the {data.COUNTRY_NAME} is already loaded: nothing changed.")
        scale = national_scale()
        out(
            f"  {summary.organisations} organisations, {summary.users} users, {summary.incidents} incidents "
            f"({summary.overdue} open past their response target, {summary.red} TLP:RED), "
            f"{summary.audit_events} audit events"
        )
        out("  by status: " + ", ".join(f"{s} {n}" for s, n in summary.by_status.items()))
        out(
            f"  by level ({scale.id}): "
            + ", ".join(f"{scale.levels[r].name.get_for('en')} {n}" for r, n in summary.by_level.items())
        )
        if campaigns is not None:
            out(f"  campaigns: {len(campaigns.opened)} opened across organisations")
        out("")
        out(f"Sign in at {options['url']} with one of these demo logins (password: {data.DEMO_PASSWORD}):")
        orgs = {o.slug: o.name.split(" (")[0] for o in data.ORGANISATIONS}
        people = sorted(data.PEOPLE, key=lambda p: ROLE_ORDER[p.role])
        for p in people:
            out(f"  {p.role:<14} {p.username:<20} {p.first_name} {p.last_name}, {orgs[p.org]}")
        if settings.NCISS_REQUIRE_2FA:
            out("")
            out(
                "Two-factor authentication is on (NCISS_REQUIRE_2FA): CSIRT staff and administrators enrol a TOTP "
                "app at their first sign-in. `make demo` serves with it off."
            )
