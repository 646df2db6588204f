"""In a real headless Chromium: a scale owner edits a draft, sees its impact, publishes it and re-assesses."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from nciss_platform.accounts.models import User
from nciss_platform.calibration.models import ScaleVersion
from nciss_platform.incidents.models import Incident

pytestmark = pytest.mark.browser


def test_a_scale_owner_edits_a_draft_sees_its_impact_and_publishes_it(
    sign_in: Callable[[User | None], Page], transactional_db: None, owner: User, history: list[Incident]
) -> None:
    page = sign_in(owner)
    expect(page.get_by_role("heading", level=1)).to_have_text("Calibration lab")  # where a scale owner lands
    page.get_by_role("button", name="New draft from the current version").click()

    editor = page.get_by_label("Definition", exact=True)
    original = editor.input_value()
    editor.fill(original.replace('{functional_impact: "<= no-impact-to-services"}', '{fatality: ">= 1"}', 1))
    expect(page.locator("#validation")).to_contain_text("rules[0].when.all[1].fatality: unknown fact")
    editor.fill(original.replace('version: "1.0"', 'version: "1.1"', 1))
    expect(page.locator("#validation")).to_contain_text("The definition is valid.")
    page.get_by_role("button", name="Save the definition").click()
    expect(page.locator(".messages")).to_contain_text("Draft saved.")

    page.locator("#f-threshold-0").fill("2")
    page.locator("#f-threshold-1").fill("8")
    page.get_by_role("button", name="Save the form").click()
    expect(page.locator(".messages")).to_contain_text("Draft saved.")

    page.get_by_role("link", name="See the impact on past incidents").click()
    expect(page.locator("#what-if-matrix")).to_be_visible()
    expect(page.locator("#moves")).to_contain_text("change level")
    page.locator("#what-if-matrix td a").first.click()
    expect(page.locator("#cell-incidents")).to_be_visible()
    page.go_back()

    page.get_by_role("link", name="Publish…").click()
    page.get_by_label("Change note (what changed and why)").fill("Lower the first two thresholds")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Published osce-reference 1.1.")
    page.get_by_role("button", name="Re-assess 3 open incidents now").click()
    expect(page.locator(".messages")).to_contain_text("Re-assessed 3 open incidents on 1.1")

    assert ScaleVersion.objects.get().change_note == "Lower the first two thresholds"
    assert {i.assessments.order_by("-pk")[0].scale_version for i in Incident.objects.all()} == {"1.1"}
