"""API tokens: a username, a password and, for staff and administrators, a one-time code."""

import pytest
from rest_framework.test import APIClient

from nciss_platform.accounts.models import LoginAttempt
from nciss_platform.audit.models import AuditEvent

from .conftest import PASSWORD, code_for, enrolled, wrong_code


def ask(**body):
    return APIClient().post("/api/v1/auth/token", body, format="json")


def with_token(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_it_gives_a_reporter_a_token_for_the_password(reporter):
    response = ask(username="grid-reporter", password=PASSWORD)
    assert response.status_code == 200
    token = response.json()["token"]
    assert with_token(token).get("/api/v1/me").json()["username"] == "grid-reporter"
    assert AuditEvent.objects.filter(action="auth.token_issued", actor="grid-reporter").exists()


def test_it_gives_the_same_token_until_it_is_revoked(reporter):
    first = ask(username="grid-reporter", password=PASSWORD).json()["token"]
    assert ask(username="grid-reporter", password=PASSWORD).json()["token"] == first
    assert with_token(first).delete("/api/v1/auth/token").status_code == 204
    assert with_token(first).get("/api/v1/me").status_code in (401, 403)
    assert ask(username="grid-reporter", password=PASSWORD).json()["token"] != first


def test_it_refuses_a_wrong_password_in_the_error_shape(reporter):
    response = ask(username="grid-reporter", password="not the password")
    assert response.status_code == 400
    assert response.json() == {
        "error": "wrong username or password",
        "errors": [{"path": "body", "reason": "wrong username or password"}],
    }
    assert LoginAttempt.objects.filter(succeeded=False, stage="token").count() == 1


def test_it_says_which_fields_are_missing(db):
    response = ask(username="grid-reporter")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "password", "reason": "This field is required."}]


def test_it_asks_staff_for_their_one_time_code(analyst):
    enrolled(analyst)
    response = ask(username="analyst", password=PASSWORD)
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "otp"
    assert "required" in response.json()["error"]


def test_it_gives_staff_a_token_for_the_password_and_the_code(analyst):
    enrolled(analyst)
    response = ask(username="analyst", password=PASSWORD, otp=code_for(analyst))
    assert response.status_code == 200
    assert with_token(response.json()["token"]).get("/api/v1/me").json()["role"] == "analyst"


def test_it_refuses_a_wrong_or_reused_code(analyst):
    enrolled(analyst)
    assert ask(username="analyst", password=PASSWORD, otp=wrong_code(analyst)).status_code == 400
    code = code_for(analyst)
    assert ask(username="analyst", password=PASSWORD, otp=code).status_code == 200
    reused = ask(username="analyst", password=PASSWORD, otp=code)
    assert reused.status_code == 400
    assert reused.json()["errors"] == [{"path": "otp", "reason": "wrong code, or a code already used"}]


def test_it_sends_staff_without_an_authenticator_to_the_web_first(analyst):
    response = ask(username="analyst", password=PASSWORD, otp="123456")
    assert response.status_code == 403
    assert "sign in on the web once" in response.json()["error"]


def test_it_gives_staff_a_token_for_the_password_alone_with_two_factor_authentication_off(settings, analyst):
    settings.NCISS_REQUIRE_2FA = False
    assert ask(username="analyst", password=PASSWORD).status_code == 200


def test_it_does_not_let_a_token_be_deleted_without_one(reporter, signed_in):
    assert APIClient().delete("/api/v1/auth/token").status_code == 401
    assert signed_in(reporter).delete("/api/v1/auth/token").status_code == 401


@pytest.mark.parametrize("role", ["reporter", "analyst", "coordinator", "administrator"])
def test_it_lets_every_role_use_its_token_on_the_api(personas, role):
    user = personas[role]
    otp = code_for(enrolled(user)) if user.needs_second_factor else ""
    token = ask(username=user.username, password=PASSWORD, otp=otp).json()["token"]
    assert with_token(token).get("/api/v1/organisations").status_code == 200
