"""In a real headless Chromium: a coordinator writes a routing rule, sees who it told, and the contact acknowledges."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from nciss_platform import clock
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents.services import report_incident
from nciss_platform.notifications.models import Contact, Notification
from nciss_platform.notifications.services import ack_token
from nciss_platform.sharing.tests.conftest import GRID_FACTS

pytestmark = pytest.mark.browser

RULE = "Energy, level 2 and above"


def test_it_routes_an_incident_by_a_rule_written_on_the_page_and_shows_its_acknowledgement(
    sign_in: Callable[[User | None], Page],
    live_server: object,
    transactional_db: None,
    reporter: User,
    coordinator: User,
    crisis_cell: Organisation,
    crisis_desk: Contact,
) -> None:
    base_url = live_server.url  # type: ignore[attr-defined]
    page = sign_in(coordinator)

    # The rule, written on the page: the condition is checked as it is typed.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Routing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Routing rules")
    expect(page.locator("#no-rules")).to_be_visible()
    page.get_by_role("link", name="Add a rule").click()
    page.locator("#id_name").fill(RULE)
    condition = page.locator("#id_condition")
    condition.fill("level: '>= 2'\nsectr: energy")
    expect(page.locator("#condition-errors")).to_contain_text("sectr")
    condition.fill("level: '>= 2'\nsector: energy")
    expect(page.locator("#condition-errors")).to_have_count(0)
    expect(page.locator("#condition-reading")).to_contain_text("energy")
    page.get_by_label("Reported (or first meets the condition)").check()
    page.locator("#id_organisations").select_option(label=crisis_cell.name)
    page.locator("#id_ack_within").fill("2h")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.locator(".messages")).to_contain_text(f"Saved the rule “{RULE}”.")
    row = page.locator("#rules tbody tr").filter(has_text=RULE)
    expect(row).to_contain_text(crisis_cell.name)
    expect(row).to_contain_text("2h")

    # An energy incident at level 2 or above is reported: the rule tells the crisis cell's tier 1.
    incident = report_incident(actor=reporter, title="Substation control network intruded", facts=dict(GRID_FACTS))
    assert incident.level >= 2 and incident.sector == "energy"
    page.goto(f"{base_url}/incidents/{incident.reference}/")
    told = page.locator(f'#notifications tr[data-contact="{crisis_desk.name}"]')
    expect(told).to_contain_text(crisis_cell.name)
    expect(told).to_contain_text(RULE)
    expect(told.get_by_role("button", name="Acknowledge")).to_be_visible()

    # The contact follows the signed link in its message (no sign-in needed) and acknowledges with one click.
    notification = Notification.objects.get(incident=incident, contact=crisis_desk)
    link = sign_in(None)
    link.goto(f"{base_url}/ack/{ack_token(notification.idempotency_key, clock.now())}")
    expect(link.get_by_role("heading", level=1)).to_have_text("Acknowledge a notification")
    link.get_by_role("button", name="Acknowledge receipt").click()
    expect(link.locator("#ack-done")).to_contain_text("Acknowledged on")

    page.reload()
    expect(told).to_contain_text("by the contact (link)")
    expect(told.get_by_role("button", name="Acknowledge")).to_have_count(0)
