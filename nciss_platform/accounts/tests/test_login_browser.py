"""Signing in with the keyboard alone in a real headless Chromium, enrolment of the authenticator included."""

import re
import time

import pytest
from playwright.sync_api import expect

from nciss_platform.accounts import totp
from nciss_platform.accounts.models import User

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_walks_an_analyst_through_password_enrolment_and_sign_out_with_the_keyboard(live_server, page, analyst):
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("analyst")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    shown = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert shown == User.objects.get(username="analyst").totp_secret
    expect(page.get_by_label("Six-digit code from your authenticator app")).to_be_focused()
    page.keyboard.type(totp.code_at(shown, time.time()))
    page.keyboard.press("Enter")

    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("banner").get_by_text("analyst", exact=True)).to_be_visible()
    page.get_by_role("button", name="Sign out").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def test_it_announces_a_wrong_password_as_an_alert(live_server, page, reporter):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("grid-reporter")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
