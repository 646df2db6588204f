"""Login throttling: too many failures for a username or from an address lock sign-in for a while."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from nciss_platform import clock
from nciss_platform.accounts.models import LoginAttempt
from nciss_platform.audit.models import AuditEvent

from .conftest import PASSWORD, enrolled, sign_in_with_password, wrong_code

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def fail(client, username, times, at=T0, **extra):
    with clock.frozen(at):
        for _ in range(times):
            sign_in_with_password(client, username, "not the password", **extra)


def test_it_locks_a_username_after_five_failures_even_for_the_right_password(client, reporter):
    fail(client, "grid-reporter", 5)
    with clock.frozen(T0 + dt.timedelta(minutes=1)):
        response = sign_in_with_password(client, "grid-reporter")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-in attempts" in page
    assert "try again in 14 minutes" in page
    assert client.get("/api/v1/me").status_code in (401, 403)


def test_it_lets_the_user_in_again_fifteen_minutes_after_the_last_failure(client, reporter):
    fail(client, "grid-reporter", 5)
    with clock.frozen(T0 + dt.timedelta(minutes=14, seconds=59)):
        assert sign_in_with_password(client, "grid-reporter").status_code == 429
    with clock.frozen(T0 + dt.timedelta(minutes=15, seconds=1)):
        assert sign_in_with_password(client, "grid-reporter").status_code == 302


def test_it_does_not_lengthen_a_lockout_with_the_attempts_it_refuses(client, reporter):
    fail(client, "grid-reporter", 5)
    fail(client, "grid-reporter", 10, at=T0 + dt.timedelta(minutes=10))
    with clock.frozen(T0 + dt.timedelta(minutes=16)):
        assert sign_in_with_password(client, "grid-reporter").status_code == 302


def test_it_does_not_lock_for_failures_spread_over_more_than_fifteen_minutes(client, reporter):
    for minute in range(0, 40, 8):
        fail(client, "grid-reporter", 1, at=T0 + dt.timedelta(minutes=minute))
    with clock.frozen(T0 + dt.timedelta(minutes=33)):
        assert sign_in_with_password(client, "grid-reporter").status_code == 302


def test_it_forgets_a_username_s_failures_after_a_successful_sign_in(client, reporter):
    fail(client, "grid-reporter", 4)
    with clock.frozen(T0 + dt.timedelta(minutes=1)):
        sign_in_with_password(client, "grid-reporter")
        client.post("/accounts/logout/")
    fail(client, "grid-reporter", 4, at=T0 + dt.timedelta(minutes=2))
    with clock.frozen(T0 + dt.timedelta(minutes=3)):
        assert sign_in_with_password(client, "grid-reporter").status_code == 302


def test_it_locks_an_address_that_tries_many_usernames(client, settings, reporter):
    settings.NCISS_LOGIN_MAX_FAILURES_PER_ADDRESS = 8
    with clock.frozen(T0):
        for number in range(8):
            sign_in_with_password(client, f"guess-{number}", "not the password")
    with clock.frozen(T0 + dt.timedelta(minutes=1)):
        assert sign_in_with_password(client, "grid-reporter").status_code == 429
        other_address = sign_in_with_password(client, "grid-reporter", REMOTE_ADDR="192.0.2.7")
    assert other_address.status_code == 302


def test_it_holds_the_lockout_for_every_client_and_process(reporter):
    fail(APIClient(), "grid-reporter", 5)
    assert LoginAttempt.objects.filter(username="grid-reporter", succeeded=False).count() == 5
    with clock.frozen(T0 + dt.timedelta(minutes=1)):
        assert sign_in_with_password(APIClient(), "grid-reporter").status_code == 429


def test_it_audits_the_failures_and_the_lockout_once(client, reporter):
    fail(client, "grid-reporter", 7)
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 5
    lockout = AuditEvent.objects.get(action="auth.lockout")
    assert lockout.data["username"] == "grid-reporter"
    assert lockout.data["scope"] == "username"
    assert lockout.data["until"] == (T0 + dt.timedelta(minutes=15)).isoformat()


def test_it_counts_wrong_one_time_codes_as_failures(client, analyst):
    enrolled(analyst)
    with clock.frozen(T0):
        sign_in_with_password(client, "analyst")
        for _ in range(4):
            assert client.post("/accounts/two-factor/", {"code": wrong_code(analyst)}).status_code == 200
        locked = client.post("/accounts/two-factor/", {"code": wrong_code(analyst)})
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    with clock.frozen(T0 + dt.timedelta(minutes=5)):
        assert sign_in_with_password(client, "analyst").status_code == 429


def test_it_does_not_let_a_new_password_sign_in_reset_the_count_of_wrong_codes(client, analyst):
    enrolled(analyst)
    with clock.frozen(T0):
        for _ in range(5):
            sign_in_with_password(client, "analyst")
            client.post("/accounts/two-factor/", {"code": wrong_code(analyst)})
        assert sign_in_with_password(client, "analyst").status_code == 429


@pytest.mark.parametrize(
    ("header", "forwarded", "address"),
    [("", "203.0.113.9", "127.0.0.1"), ("X-Forwarded-For", "198.51.100.1, 203.0.113.9", "203.0.113.9")],
)
def test_it_reads_the_client_address_from_the_proxy_header_only_when_told_to(
    client, settings, reporter, header, forwarded, address
):
    settings.NCISS_CLIENT_IP_HEADER = header
    sign_in_with_password(client, "grid-reporter", "not the password", HTTP_X_FORWARDED_FOR=forwarded)
    assert LoginAttempt.objects.get().ip == address


def test_it_says_it_is_locked_in_the_api_with_429_and_retry_after(reporter):
    fail(APIClient(), "grid-reporter", 5)
    with clock.frozen(T0 + dt.timedelta(minutes=5)):
        response = APIClient().post(
            "/api/v1/auth/token", {"username": "grid-reporter", "password": PASSWORD}, format="json"
        )
    assert response.status_code == 429
    assert response["Retry-After"] == "600"
    assert "too many failed sign-in attempts" in response.json()["error"]
