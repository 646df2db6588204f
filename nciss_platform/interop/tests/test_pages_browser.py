"""In a real headless Chromium: an analyst imports a STIX bundle, opens the new incident and exports it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from nciss_platform.accounts.models import User
from nciss_platform.interop.tests.samples import STIX_BUNDLE

pytestmark = pytest.mark.browser


def test_it_imports_a_bundle_and_exports_the_incident_from_its_page(
    sign_in: Callable[[User | None], Page], transactional_db: None, analyst: User, tmp_path: Path
) -> None:
    source = tmp_path / "partner-bundle.json"
    source.write_text(json.dumps(STIX_BUNDLE), encoding="utf-8")
    page = sign_in(analyst)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    page.get_by_label("Format").select_option("stix")
    page.get_by_label("Files").set_input_files(str(source))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#count-imported")).to_have_text("1")
    expect(page.locator("#count-rejected")).to_have_text("0")

    page.locator("#import-summary a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Botnet command server")
    expect(page.locator("#observables")).to_contain_text("198.51.100.7")
    with page.expect_download() as download:
        page.locator("#export").get_by_role("link", name="STIX 2.1").click()
    bundle = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    incidents = [o for o in bundle["objects"] if o["type"] == "incident"]
    assert incidents[0]["id"] == "incident--2d6f7c8e-1a2b-4c3d-9e8f-0a1b2c3d4e5f"  # its original id travels back
