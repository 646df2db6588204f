"""In a real headless Chromium: an analyst goes from the menu to a campaign and on to one of its incidents, by keyboard."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.campaigns.models import Campaign
from nciss_platform.campaigns.services import correlate_campaigns
from nciss_platform.campaigns.tests.conftest import Hit, hours

pytestmark = pytest.mark.browser


def test_an_analyst_reaches_a_campaign_and_its_incidents_by_keyboard(
    sign_in: Callable[[User | None], Page],
    transactional_db: None,
    organisations: Callable[..., list[Organisation]],
    hit: Hit,
    analyst: User,
) -> None:
    first, *_ = [hit(organisation, n) for n, organisation in enumerate(organisations(3))]
    correlate_campaigns(now=hours(4))
    campaign = Campaign.objects.get()

    page = sign_in(analyst)
    menu = page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns")
    menu.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Campaigns")
    row = page.locator(f'#campaigns tr[data-reference="{campaign.reference}"]')
    expect(row.locator(".level-name")).to_be_visible()
    row.get_by_role("link").focus()
    page.keyboard.press("Enter")

    expect(page.locator("#reference")).to_have_text(campaign.reference)
    expect(page.locator("#campaign-organisations")).to_have_text("3")
    expect(page.locator("#campaign-chart svg")).to_be_visible()
    page.locator(f'#member-incidents tr[data-reference="{first.reference}"] a').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#reference")).to_have_text(first.reference)
    expect(page.locator("#incident-campaigns")).to_contain_text(campaign.reference)
