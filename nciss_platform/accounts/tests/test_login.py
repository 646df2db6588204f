"""Signing in with a password, and signing out."""

import pytest
from django.test import Client

from nciss_platform.accounts import services
from nciss_platform.accounts.views import _home
from nciss_platform.audit.models import AuditEvent
from nciss_platform.audit.services import verify

from .conftest import PASSWORD, sign_in_with_password


def test_it_shows_a_sign_in_form_with_labelled_fields(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<label for="id_username">' in page
    assert '<label for="id_password">' in page
    assert 'autocomplete="current-password"' in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_it_signs_a_reporter_in_with_the_password_alone(client, reporter):
    response = sign_in_with_password(client, "grid-reporter")
    assert response.status_code == 302
    assert response.url == _home()
    assert client.get("/api/v1/me").json()["username"] == "grid-reporter"


def test_it_goes_on_to_the_page_asked_for(client, reporter):
    response = client.post(
        "/accounts/login/", {"username": "grid-reporter", "password": PASSWORD, "next": "/api/v1/organisations"}
    )
    assert response.url == "/api/v1/organisations"


def test_it_never_sends_anyone_to_another_site_after_sign_in(client, reporter):
    response = client.post(
        "/accounts/login/", {"username": "grid-reporter", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.url == _home()


@pytest.mark.parametrize(("username", "password"), [("grid-reporter", "wrong password!"), ("nobody", PASSWORD)])
def test_it_says_the_same_for_a_wrong_password_and_an_unknown_user(client, reporter, username, password):
    response = sign_in_with_password(client, username, password)
    assert response.status_code == 200
    assert "Wrong username or password." in response.content.decode()
    assert client.get("/api/v1/me").status_code in (401, 403)


def test_it_refuses_a_deactivated_user(client, reporter, administrator):
    services.deactivate_user(actor=administrator, user=reporter)
    response = sign_in_with_password(client, "grid-reporter")
    assert "Wrong username or password." in response.content.decode()


def test_it_audits_sign_ins_failures_and_sign_outs(client, reporter):
    sign_in_with_password(client, "grid-reporter", "wrong password!")
    sign_in_with_password(client, "grid-reporter")
    client.post("/accounts/logout/")
    actions = list(AuditEvent.objects.filter(action__startswith="auth.").values_list("action", flat=True))
    assert actions == ["auth.login_failed", "auth.login", "auth.logout"]
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.actor == ""
    assert failed.data["username"] == "grid-reporter"
    assert PASSWORD not in str(list(AuditEvent.objects.values_list("data", flat=True)))
    assert verify().ok


def test_it_signs_out_with_a_post(client, reporter):
    sign_in_with_password(client, "grid-reporter")
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert "You have signed out." in client.get("/accounts/login/").content.decode()
    assert client.get("/api/v1/me").status_code in (401, 403)


def test_it_never_signs_out_on_a_get(client, reporter):
    sign_in_with_password(client, "grid-reporter")
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/api/v1/me").status_code == 200


def test_it_never_signs_out_without_the_csrf_token(reporter):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reporter)
    assert client.post("/accounts/logout/").status_code == 403
    assert client.get("/api/v1/me").status_code == 200


def test_it_refuses_a_sign_in_without_the_csrf_token(reporter):
    client = Client(enforce_csrf_checks=True)
    assert sign_in_with_password(client, "grid-reporter").status_code == 403


def test_it_shows_who_is_signed_in_and_a_sign_out_button(client, reporter):
    sign_in_with_password(client, "grid-reporter")
    page = client.get("/accounts/login/").content.decode()
    assert "grid-reporter" in page
    assert 'action="/accounts/logout/"' in page


def test_it_ends_the_sessions_of_a_deactivated_user(reporter, administrator, signed_in):
    client = signed_in(reporter)
    assert client.get("/api/v1/me").status_code == 200
    services.deactivate_user(actor=administrator, user=reporter)
    assert client.get("/api/v1/me").status_code == 403
