"""In a real headless Chromium: an analyst shares an incident with a partner abroad, who reads it in Russian."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

import nciss
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.sharing.tests.conftest import GRID_FACTS

pytestmark = pytest.mark.browser


def test_it_shares_an_incident_from_its_page_and_the_partner_reads_it_on_its_own_scale_in_russian(
    sign_in: Callable[[User | None], Page],
    live_server: object,
    transactional_db: None,
    reporter: User,
    analyst: User,
    partner: User,
    veskaria: Organisation,
) -> None:
    incident = report(reporter, "Intrusion into the substation control network", facts=dict(GRID_FACTS))
    reporting_organisation = reporter.organisation.name  # type: ignore[union-attr]
    cisa = nciss.load_scale("cisa-nciss")
    cisa_level = nciss.assess(cisa, GRID_FACTS)
    assert cisa_level.reachable_max == cisa_level.rank, "the facts settle the CISA level"
    national = nciss.load_scale("osce-reference").levels[incident.level].name.get_for("ru")
    base_url = live_server.url  # type: ignore[attr-defined]

    staff = sign_in(analyst)
    staff.goto(f"{base_url}/incidents/{incident.reference}/")
    sharing = staff.locator("#partner-sharing")
    expect(sharing.get_by_role("heading", name="Shared with partners")).to_be_visible()
    expect(sharing.locator("#no-shares")).to_be_visible()
    sharing.get_by_text("Share with partners", exact=True).click()
    form = sharing.locator("#share-form")
    expect(form.locator("#anonymous-note")).to_be_visible()
    expect(form.locator('[name="identify_reporter"]')).to_have_count(0)
    form.get_by_label("Veskarian Cyber Defence Agency (XB, cisa-nciss)").check()
    form.get_by_label("Title the partner reads").fill("Intrusion at a transmission operator")
    form.get_by_label("Description the partner reads").fill("Remote sessions on engineering workstations.")
    form.get_by_role("button", name="Share", exact=True).click()

    expect(staff.locator(".messages")).to_contain_text("Shared with Veskarian Cyber Defence Agency.")
    shared = staff.locator('#share-list li[data-organisation="veskaria-cda"]')
    expect(shared).to_contain_text("reporter not named")
    expect(shared.locator(".level-sent")).to_have_attribute("data-scale", "cisa-nciss")

    reader = sign_in(partner)
    expect(reader.get_by_role("heading", level=1)).to_have_text("Передано нам")  # "Shared with us"
    row = reader.locator(f'#shares tr[data-reference="{incident.reference}"]')
    expect(row).to_contain_text("Intrusion at a transmission operator")
    row.get_by_role("link").click()

    expect(reader.locator("#reference")).to_have_text(incident.reference)
    level = reader.locator('#partner-level .level-sent[data-scale="cisa-nciss"]')
    expect(level).to_contain_text(cisa.levels[cisa_level.rank].name.get_for("ru"))
    expect(level.locator(".reachable-inline")).to_have_count(0)
    expect(reader.locator("#national-level")).to_contain_text(national)
    expect(reader.locator("#tlp-banner")).to_contain_text("TLP:AMBER")
    expect(reader.locator("#reporter")).to_contain_text("XA")
    text = reader.locator("body").inner_text()
    assert reporting_organisation not in text
    assert incident.title not in text, "the partner reads the title it was given"
