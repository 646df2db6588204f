"""The second factor: CSIRT staff and administrators enrol an authenticator, then give its codes."""

import datetime as dt

import pytest

from nciss_platform import clock
from nciss_platform.accounts import services
from nciss_platform.accounts.models import User
from nciss_platform.audit.models import AuditEvent

from .conftest import PASSWORD, code_for, enrolled, sign_in_with_password, wrong_code


def enrol_page(client, user):
    response = sign_in_with_password(client, user.username)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/two-factor/enrol/")
    return client.get(response.url)


@pytest.mark.parametrize("role", ["analyst", "coordinator", "administrator"])
def test_it_sends_staff_to_set_up_an_authenticator_at_their_first_sign_in(client, personas, role):
    page = enrol_page(client, personas[role])
    assert page.status_code == 200
    personas[role].refresh_from_db()
    secret = personas[role].totp_secret
    text = page.content.decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in text
    assert f"otpauth://totp/nciss:{role}?secret={secret}" in text
    assert '<svg role="img" aria-label="QR code' in text
    assert '<label for="id_code">' in text


def test_it_shows_the_same_secret_again_until_it_is_confirmed(client, analyst):
    enrol_page(client, analyst)
    first = User.objects.get(pk=analyst.pk).totp_secret
    client.get("/accounts/two-factor/enrol/")
    assert User.objects.get(pk=analyst.pk).totp_secret == first


def test_it_completes_the_sign_in_when_the_first_code_confirms_the_enrolment(client, analyst):
    enrol_page(client, analyst)
    analyst.refresh_from_db()
    response = client.post("/accounts/two-factor/enrol/", {"code": code_for(analyst), "next": "/api/v1/me"})
    assert response.status_code == 302
    assert response.url == "/api/v1/me"
    body = client.get("/api/v1/me").json()
    assert body["two_factor"] == {"required": True, "enrolled": True}
    assert {"user.totp_enrolment_started", "user.totp_confirmed", "auth.login"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


def test_it_refuses_a_wrong_first_code_and_keeps_the_enrolment_open(client, analyst):
    enrol_page(client, analyst)
    response = client.post("/accounts/two-factor/enrol/", {"code": "000000"})
    assert response.status_code == 200
    assert "not the current code" in response.content.decode()
    analyst.refresh_from_db()
    assert not analyst.totp_confirmed
    assert client.get("/api/v1/me").status_code == 403


def test_it_blocks_every_page_and_api_call_until_the_code_is_given(client, analyst):
    enrolled(analyst)
    sign_in_with_password(client, "analyst")
    page = client.get("/")
    assert page.status_code == 302
    assert page.url == "/accounts/two-factor/?next=%2F"
    api = client.get("/api/v1/organisations")
    assert api.status_code == 403
    assert api.json()["errors"][0]["path"] == "body"
    assert "one-time code" in api.json()["error"]
    assert client.get("/admin/").status_code == 302


def test_it_asks_an_enrolled_user_for_a_code_and_then_lets_them_in(client, analyst):
    enrolled(analyst)
    response = sign_in_with_password(client, "analyst")
    assert response.url.startswith("/accounts/two-factor/?")
    page = client.get(response.url)
    assert 'autocomplete="one-time-code"' in page.content.decode()
    response = client.post("/accounts/two-factor/", {"code": code_for(analyst), "next": "/api/v1/me"})
    assert response.url == "/api/v1/me"
    assert client.get("/api/v1/me").json()["username"] == "analyst"


def test_it_refuses_a_wrong_code(client, analyst):
    enrolled(analyst)
    sign_in_with_password(client, "analyst")
    response = client.post("/accounts/two-factor/", {"code": wrong_code(analyst)})
    assert response.status_code == 200
    assert "Wrong code" in response.content.decode()
    assert client.get("/api/v1/me").status_code == 403
    assert AuditEvent.objects.filter(action="auth.login_failed", data__stage="otp").exists()


def test_it_never_accepts_the_same_code_twice(client, analyst):
    enrolled(analyst)
    sign_in_with_password(client, "analyst")
    code = code_for(analyst)
    client.post("/accounts/two-factor/", {"code": code})
    client.post("/accounts/logout/")
    sign_in_with_password(client, "analyst")
    response = client.post("/accounts/two-factor/", {"code": code})
    assert "already used" in response.content.decode()
    assert client.get("/api/v1/me").status_code == 403


def test_it_asks_for_the_code_again_at_every_sign_in(client, analyst):
    enrolled(analyst)
    sign_in_with_password(client, "analyst")
    client.post("/accounts/two-factor/", {"code": code_for(analyst)})
    client.post("/accounts/logout/")
    assert sign_in_with_password(client, "analyst").url.startswith("/accounts/two-factor/")


def test_it_lets_a_user_sign_out_before_giving_the_code(client, analyst):
    enrolled(analyst)
    sign_in_with_password(client, "analyst")
    assert client.post("/accounts/logout/").url == "/accounts/login/"
    assert client.get("/accounts/two-factor/").url.startswith("/accounts/login/")


def test_it_asks_nothing_more_with_two_factor_authentication_off(client, settings, analyst):
    settings.NCISS_REQUIRE_2FA = False
    response = sign_in_with_password(client, "analyst")
    assert not response.url.startswith("/accounts/two-factor")
    assert client.get("/api/v1/me").json()["two_factor"]["required"] is False
    assert "Two-factor authentication is off" in client.get("/accounts/login/").content.decode()


def test_it_shows_no_banner_while_two_factor_authentication_is_on(client, db):
    assert "Two-factor authentication is off" not in client.get("/accounts/login/").content.decode()


def test_it_asks_superusers_for_a_code_whatever_their_role(client, csirt):
    User.objects.create_superuser("root", password=PASSWORD)
    assert sign_in_with_password(client, "root").url.startswith("/accounts/two-factor/enrol/")


def test_it_sends_a_user_whose_authenticator_was_reset_to_enrol_again(client, analyst, administrator):
    enrolled(analyst)
    services.reset_totp(actor=administrator, user=analyst)
    assert sign_in_with_password(client, "analyst").url.startswith("/accounts/two-factor/enrol/")


def test_it_accepts_a_code_from_just_before_the_clock_ticked(client, analyst):
    enrolled(analyst)
    sign_in_with_password(client, "analyst")
    late = code_for(analyst, clock.now() - dt.timedelta(seconds=30))
    assert client.post("/accounts/two-factor/", {"code": late, "next": "/api/v1/me"}).url == "/api/v1/me"


def test_it_keeps_a_verified_user_away_from_the_code_pages(client, analyst):
    enrolled(analyst)
    sign_in_with_password(client, "analyst")
    client.post("/accounts/two-factor/", {"code": code_for(analyst)})
    assert client.get("/accounts/two-factor/?next=/api/v1/me").url == "/api/v1/me"
    assert client.get("/accounts/two-factor/enrol/?next=/api/v1/me").url == "/api/v1/me"


def test_it_does_not_ask_reporters_for_a_code(client, reporter):
    sign_in_with_password(client, "grid-reporter")
    assert client.get("/api/v1/me").json()["two_factor"] == {"required": False, "enrolled": False}
