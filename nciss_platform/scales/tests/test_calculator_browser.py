"""The calculator in a real headless Chromium: what a person sees as they answer."""

import re

import pytest
from playwright.sync_api import expect

import nciss
from nciss.facts import fact_specs

pytestmark = pytest.mark.browser


def test_it_updates_the_level_and_the_other_scales_as_facts_are_answered(live_server, page):
    page.goto(live_server.url)
    page.get_by_label("Scale").select_option("cisa-nciss")  # reloads the page on the chosen scale
    expect(page.locator("#verdict")).to_have_attribute("data-scale", "cisa-nciss")
    verdict = page.locator("#verdict .level-name")
    expect(verdict).to_have_text("Baseline")
    uk = page.locator('#others tr[data-scale="uk-ncsc"] .level-name').first

    page.get_by_label("How are the organisation's services affected?").select_option("denial-critical")
    page.get_by_label("How far did the attacker get?").select_option("effect")
    page.get_by_label("Where in your network was the activity seen?").select_option("safety-systems")
    page.get_by_label("If nothing is done, how badly could the country be affected?").select_option("severe")
    expect(verdict).not_to_have_text("Baseline")
    expect(page.locator("#verdict .score strong")).not_to_have_text("0.0")

    page.get_by_label("How many people died or could die because of it?").fill("1")
    expect(uk).to_have_text("Category 1: National cyber emergency")
    expect(page.locator('#others tr[data-scale="osce-reference"] .level-name').first).to_have_text(
        re.compile("Severe|Emergency")
    )


def test_it_shows_each_level_by_name_and_rank_not_by_colour_alone(live_server, page):
    page.goto(f"{live_server.url}/?scale=osce-reference")
    badge = page.locator("#verdict .level-badge")
    expect(badge).to_contain_text("Baseline")
    expect(badge).to_contain_text("level 0 of 0–5")
    expect(page.locator("#reachable")).to_contain_text("could be up to")


def test_it_switches_language_keeping_the_answers(live_server, page):
    page.goto(f"{live_server.url}/?scale=uk-ncsc")
    page.get_by_label("How many people died or could die because of it?").fill("1")
    expect(page.locator("#verdict .level-name")).to_have_text("Category 1: National cyber emergency")
    page.get_by_role("combobox", name="Language").select_option("ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("#input-fatalities")).to_have_value("1")
    expect(page.get_by_label(fact_specs()["fatalities"].question["ru"])).to_have_value("1")
    expect(page.locator("#verdict .level-name")).to_have_text(nciss.load_scale("uk-ncsc").levels[5].name["ru"])


def test_it_can_be_answered_with_the_keyboard_alone(live_server, page):
    page.goto(f"{live_server.url}/?scale=osce-reference")
    page.locator("#input-fatalities").focus()
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    expect(page.locator("#verdict .level-name")).to_have_text("Severe")


def test_it_documents_the_api_in_a_page_that_works_offline(live_server, page):
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.get_by_text("/api/v1/assess")).to_be_visible()
    expect(page.get_by_text("nciss API")).to_be_visible()
