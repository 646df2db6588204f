"""Fixtures for the platform's tests: a real headless Chromium for the browser tests, and signing in with it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

    from nciss_platform.accounts.models import Organisation, User

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (never a downloaded browser).

    Skipped when /usr/bin/chromium is absent, unless NCISS_REQUIRE_BROWSER=1 (CI), which fails instead.
    """
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("NCISS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"NCISS_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in the test's thread, and Django
    # then refuses database calls from that thread unless told it is safe (it is: one thread).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


BROWSER_PASSWORD = "correct horse battery staple"


@pytest.fixture
def sign_in(browser: Browser, live_server: object) -> Iterator[Callable[[User | None], Page]]:
    """``sign_in(user)``: a page in a browser context of its own, signed in through the sign-in page
    (the user gets a password, and an enrolled authenticator when it needs a second factor);
    ``sign_in(None)``: such a page, not signed in."""
    from nciss_platform.accounts import totp

    contexts: list[BrowserContext] = []

    def open_as(user: User | None) -> Page:
        context = browser.new_context(locale="en-GB", accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        if user is None:
            return page
        secret = totp.new_secret() if user.needs_second_factor else ""
        user.totp_secret, user.totp_confirmed = secret, bool(secret)
        user.set_password(BROWSER_PASSWORD)
        user.save()
        page.goto(f"{live_server.url}/accounts/login/")  # type: ignore[attr-defined]
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(BROWSER_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        if secret:
            page.get_by_label("Six-digit code from your authenticator app").fill(totp.code_at(secret, time.time()))
            page.get_by_role("button", name="Continue").click()
        return page

    yield open_as
    for context in contexts:
        context.close()


DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


@pytest.fixture(autouse=True)
def _shipped_national_scale_without_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that use no database read the national scale as shipped: published versions live in the database
    (``calibration.versions``), which such tests may not touch."""
    if request.node.get_closest_marker("django_db") or DATABASE_FIXTURES & set(request.fixturenames):
        return
    from nciss_platform.calibration import versions

    monkeypatch.setattr(versions, "published_in_effect", lambda scale_id: None)


@pytest.fixture
def refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[[Callable[[], int], str], None]:
    """Check that a command, run in an empty folder (``tmp_path``), exits 2 with one line naming the
    reason and writes nothing: ``refused(lambda: main(["report", ...]), "unknown language")``."""
    monkeypatch.chdir(tmp_path)

    def check(run: Callable[[], int], reason: str) -> None:
        assert run() == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and reason in err, err
        assert not list(tmp_path.iterdir())  # nothing written

    return check


@pytest.fixture
def csirt(db: None) -> Organisation:
    """The national CSIRT (an app's conftest may define its own)."""
    from nciss_platform.accounts.models import Organisation

    return Organisation.objects.create(name="Aralia CSIRT", slug="csirt", kind="csirt", country="XA")


@pytest.fixture
def energy(db: None) -> Organisation:
    """A large critical energy operator that reports incidents (an app's conftest may define its own)."""
    from nciss_platform.accounts.models import Organisation

    return Organisation.objects.create(
        name="Aralia Grid",
        slug="aralia-grid",
        kind="operator",
        sector="energy",
        criticality="critical",
        size="large",
        country="XA",
    )
