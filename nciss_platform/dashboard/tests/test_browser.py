"""In a real headless Chromium: an analyst switches the dashboard through English, Russian and Uzbek.

With NCISS_SCREENSHOTS=1 it writes docs/screenshots/dashboard-en.png, -ru.png and -uz.png.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import formats, translation
from playwright.sync_api import Page, expect

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.campaigns.models import Campaign
from nciss_platform.incidents.models import Incident, TimelineEntry

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
SECTORS = ["energy", "banking", "health", "transport", "public-administration", "digital-infrastructure"]
CLASSES = ["malicious-code:infected-system", "information-gathering:scanner", "fraud:phishing",
           "availability:ddos", "intrusions:system-compromise", "vulnerable:vulnerable-system"]  # fmt: skip
LEVELS = [0] * 30 + [1] * 40 + [2] * 18 + [3] * 8 + [4] * 3 + [5] * 1  # most Baseline or Low


def a_month_of_incidents(reporter: User, organisation: Organisation, now: dt.datetime, n: int = 2400) -> None:
    """``n`` incidents over the last 30 days, the recent ones mostly open, some escalated today."""
    rng = random.Random(7)
    rows = []
    for i in range(n):
        reported = now - dt.timedelta(minutes=rng.randint(5, 30 * 24 * 60))
        level = rng.choice(LEVELS)
        age = (now - reported).days
        is_open = rng.random() < (0.95 if age < 15 else 0.15)
        triaged = reported + dt.timedelta(minutes=rng.randint(5, 600)) if not is_open or rng.random() < 0.5 else None
        rows.append(
            Incident(
                reference=f"NCISS-2026-{i + 1:06d}", title=f"Incident {i + 1}", reporting_organisation=organisation,
                created_by=reporter, level=level, sector=rng.choice(SECTORS), classification=rng.choice(CLASSES),
                status=("triaged" if triaged else "reported") if is_open else "closed", reported_at=reported,
                triaged_at=triaged if triaged and triaged < now else None,
                resolved_at=None if is_open else reported + dt.timedelta(hours=rng.randint(2, 200)),
            )
        )  # fmt: skip
    Incident.objects.bulk_create(rows)
    phishing = Campaign.objects.create(
        reference="CMP-2026-0001", title="Phishing against the banks", basis=Campaign.Basis.CLASSIFICATION,
        classification="fraud:phishing", level=3, organisations_affected=14, sectors=["banking", "financial"],
        first_seen=now - dt.timedelta(days=6), last_seen=now - dt.timedelta(hours=2), created_at=now, updated_at=now,
    )  # fmt: skip
    phishing.incidents.set(Incident.objects.filter(classification="fraud:phishing", sector="banking")[:14])
    for incident in Incident.objects.filter(level__gte=3).order_by("-reported_at")[:4]:
        TimelineEntry.objects.create(
            incident=incident, kind="assessment", created_at=now, data={"level": incident.level, "previous": 1}
        )


def test_the_dashboard_in_english_russian_and_uzbek(
    sign_in: Callable[[User | None], Page], live_server: object, transactional_db: None, settings: object
) -> None:
    settings.NCISS_REQUIRE_2FA = False  # type: ignore[attr-defined]
    csirt = Organisation.objects.create(name="Aralia CSIRT", slug="csirt", kind="csirt", country="XA")
    grid = Organisation.objects.create(
        name="Aralia Grid", slug="aralia-grid", kind="operator", sector="energy", country="XA"
    )
    reporter = User.objects.create_user("grid-reporter", role="reporter", organisation=grid)
    analyst = User.objects.create_user("analyst", role="analyst", organisation=csirt)
    now = dt.datetime.now(dt.UTC)
    a_month_of_incidents(reporter, grid, now)
    open_total = Incident.objects.filter(status__in=["reported", "triaged"]).count()
    assert open_total >= 1000, "enough to group thousands"

    page = sign_in(analyst)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/dashboard/")  # type: ignore[attr-defined]
    for lang, button, heading in (
        ("en", None, "National dashboard"),
        ("ru", "Русский", "Национальная панель"),
        ("uz", "Oʻzbekcha", "Milliy boshqaruv paneli"),
    ):
        if button:
            switcher = page.locator("form.language-switcher").get_by_role("button", name=button)
            switcher.focus()
            page.keyboard.press("Enter")  # the switcher works from the keyboard
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        with translation.override(lang):
            grouped = formats.number_format(open_total, use_l10n=True, force_grouping=True)
            today = formats.date_format(now.date())
        expect(page.locator("#totals")).to_contain_text(grouped)  # 1,234 / 1 234
        expect(page.locator("#trends-heading")).to_contain_text(today)  # the period's end, in words of the language
        expect(page.locator("#heatmap svg a.chart-link").first).to_be_visible()
        expect(page.locator('#campaigns tr[data-reference="CMP-2026-0001"]')).to_be_visible()
        if os.environ.get("NCISS_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"dashboard-{lang}.png"), full_page=True)
    analyst.refresh_from_db()
    assert analyst.language == "uz"
    # every chart element is a link the keyboard reaches: the first heatmap cell leads to its incidents
    cell = page.locator("#heatmap svg a.chart-link").first
    cell.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/queue/\?.*sector="))
    expect(page.locator("tr[data-reference]").first).to_be_visible()
