"""One incident, three people, a real headless Chromium: report, triage, assess again, oversee, close.

Everyone signs in through the sign-in page; the analyst and the coordinator give their one-time code.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from nciss_platform.accounts.models import User

pytestmark = pytest.mark.browser

REFERENCE = re.compile(r"NCISS-\d{4}-\d{6}")


@pytest.fixture
def sign_in_as(
    sign_in: Callable[[User | None], Page], transactional_db: None, reporter: User, analyst: User, coordinator: User
) -> Callable[[str], Page]:
    """A page signed in as the persona of this role (the shared ``sign_in``, by role)."""
    people = {user.role: user for user in (reporter, analyst, coordinator)}
    return lambda role: sign_in(people[role])


def test_it_walks_a_reporter_an_analyst_and_a_coordinator_through_one_incident(
    sign_in_as: Callable[[str], Page],
) -> None:
    # The reporter lands on its organisation's incidents and reports, watching the preliminary level.
    reporter = sign_in_as("reporter")
    expect(reporter.get_by_role("heading", level=1)).to_have_text("My organisation's incidents")
    reporter.get_by_role("navigation", name="Main").get_by_role("link", name="Report an incident").click()
    level = reporter.locator("#verdict .level-name")
    before = level.inner_text()
    reporter.get_by_label("A short title").fill("Billing system encrypted by ransomware")
    reporter.get_by_label("What happened, in your own words").fill("A ransom note on every screen since 06:40.")
    reporter.get_by_label("What kind of incident is it?").select_option("malicious-code:infected-system")
    reporter.get_by_label("How are the organisation's services affected?").select_option("denial-critical")
    reporter.get_by_label("How far did the attacker get?").select_option("effect")
    expect(level).not_to_have_text(before)
    preliminary = level.inner_text()
    reporter.get_by_role("button", name="Send the report").click()

    expect(reporter.get_by_role("heading", level=1)).to_have_text("Report received")
    expect(reporter.locator("#reference")).to_have_text(REFERENCE)
    reference = reporter.locator("#reference").inner_text()
    expect(reporter.locator("#preliminary-level .level-name").first).to_have_text(preliminary)
    expect(reporter.locator("#deadlines-eu-nis2")).to_contain_text("Early warning")

    # The analyst finds it in the queue, triages it, takes it, learns of a death and comments.
    analyst = sign_in_as("analyst")
    expect(analyst.get_by_role("heading", level=1)).to_have_text("Triage queue")
    analyst.get_by_label("Search").fill(reference)
    analyst.get_by_role("button", name="Filter").click()
    row = analyst.locator(f'tr[data-reference="{reference}"]')
    expect(row).to_contain_text("Billing system encrypted by ransomware")
    row.get_by_role("link").click()
    expect(analyst.locator("#reference")).to_have_text(reference)
    analyst.get_by_role("button", name="Triage").click()
    expect(analyst.locator("#incident-status")).to_contain_text("Triaged")
    analyst.get_by_role("button", name="Assign to me").click()
    expect(analyst.locator("#incident-assignee")).to_have_text("analyst")

    analyst.get_by_text("Change the facts and assess again").click()
    analyst.get_by_label("How many people died or could die because of it?").fill("1")
    expect(analyst.locator("#preview-level")).to_contain_text("Severe")
    analyst.get_by_role("button", name="Save the facts and assess again").click()
    expect(analyst.locator(".messages")).to_contain_text(f"the level is now Severe (was {preliminary})")
    expect(analyst.locator("#incident-level .level-name").first).to_have_text("Severe")
    expect(analyst.locator("#fact-history")).to_contain_text("not known → 1")
    analyst.get_by_label("Comment or new information").fill("Hospital systems hit too: one patient died.")
    analyst.get_by_role("button", name="Add the comment").click()
    expect(analyst.locator(".timeline")).to_contain_text("one patient died")

    # The coordinator sees it among the newest serious incidents, and closes it once it is resolved.
    coordinator = sign_in_as("coordinator")
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("National overview")
    expect(coordinator.locator("#highest .level-name")).to_have_text("Severe")
    newest = coordinator.locator(f'#newest tr[data-reference="{reference}"]')
    expect(newest).to_contain_text("Severe")

    analyst.get_by_role("button", name="Resolve").click()
    expect(analyst.locator("#incident-status")).to_contain_text("Resolved")

    newest.get_by_role("link").click()
    expect(coordinator.locator("#incident-status")).to_contain_text("Resolved")
    coordinator.get_by_label("Note (optional)").fill("Recovered from backups; lessons learnt recorded.")
    coordinator.get_by_role("button", name="Close").click()
    expect(coordinator.locator("#incident-status")).to_contain_text("Closed")

    # The reporter sees where its incident ended up.
    reporter.get_by_role("navigation", name="Main").get_by_role("link", name="My organisation's incidents").click()
    mine = reporter.locator(f'tr[data-reference="{reference}"]')
    expect(mine).to_contain_text("Closed")
    expect(mine.locator(".level-name")).to_have_text("Severe")
    mine.get_by_role("link").click()
    expect(reporter.locator(".timeline")).to_contain_text("Recovered from backups")
    expect(reporter.get_by_text("This incident is closed")).to_be_visible()


def test_it_can_report_with_the_keyboard_alone(sign_in_as: Callable[[str], Page]) -> None:
    reporter = sign_in_as("reporter")
    reporter.goto(reporter.url.split("/incidents/")[0] + "/report/")
    reporter.get_by_label("A short title").focus()
    reporter.keyboard.type("Website defaced")
    reporter.keyboard.press("Tab")
    reporter.keyboard.type("Our home page shows a political slogan.")
    reporter.get_by_role("button", name="Send the report").focus()
    reporter.keyboard.press("Enter")
    expect(reporter.get_by_role("heading", level=1)).to_have_text("Report received")


def test_it_asks_for_recipients_only_when_tlp_red_is_chosen(sign_in_as: Callable[[str], Page]) -> None:
    reporter = sign_in_as("reporter")
    reporter.goto(reporter.url.split("/incidents/")[0] + "/report/")
    recipients = reporter.locator("[data-red-recipients]")
    expect(recipients).to_be_hidden()
    reporter.get_by_role("radio", name=re.compile(r"TLP:RED: Only the people named")).check()
    expect(recipients).to_be_visible()
    expect(recipients).to_contain_text("analyst")
