"""Signing in to the API: a session (the browser) or a token (scripts and other tools).

Staff sessions pass the second-factor gate (accounts.middleware) first; tokens are issued
only after the second factor, so requests with a token are not gated again.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from nciss_platform.accounts.middleware import SESSION_KEY
from nciss_platform.accounts.models import User
from nciss_platform.incidents.models import Incident
from nciss_platform.incidents.tests.conftest import report

URL = "/api/v1/incidents"


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.mark.usefixtures("without_2fa")
def test_it_lets_a_reporter_report_and_follow_an_incident_with_a_token(reporter: User) -> None:
    client = with_token(Token.objects.create(user=reporter).key)
    created = client.post(URL, {"title": "Grid dark", "facts": {"functional_impact": "denial-critical"}}, format="json")
    assert created.status_code == 201
    reference = created.json()["reference"]
    assert Incident.objects.get(reference=reference).created_by == reporter
    assert [i["reference"] for i in client.get(URL).json()["results"]] == [reference]
    assert client.get(f"{URL}/{reference}").status_code == 200


@pytest.mark.usefixtures("without_2fa")
def test_it_gives_a_token_the_permissions_of_its_user(reporter: User, analyst: User, unchanged: Any) -> None:
    incident = report(reporter)
    as_reporter = with_token(Token.objects.create(user=reporter).key)
    with unchanged():
        assert (
            as_reporter.post(f"{URL}/{incident.reference}/transition", {"to": "triaged"}, format="json").status_code
            == 403
        )
    as_analyst = with_token(Token.objects.create(user=analyst).key)
    response = as_analyst.post(f"{URL}/{incident.reference}/transition", {"to": "triaged"}, format="json")
    assert response.status_code == 200


@pytest.mark.usefixtures("without_2fa")
def test_it_refuses_an_unknown_token_in_the_error_shape(reporter: User, unchanged: Any) -> None:
    with unchanged():
        response = with_token("0" * 40).post(URL, {"title": "Grid dark"}, format="json")
    assert response.status_code == 401
    assert response.json()["errors"] == [{"path": "body", "reason": "Invalid token."}]
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.usefixtures("without_2fa")
def test_it_refuses_the_token_of_a_deactivated_user(reporter: User) -> None:
    key = Token.objects.create(user=reporter).key
    reporter.is_active = False
    reporter.save()
    assert with_token(key).get(URL).status_code == 401


@pytest.fixture
def with_2fa(settings: Any) -> None:
    settings.NCISS_REQUIRE_2FA = True


@pytest.mark.usefixtures("with_2fa")
def test_it_refuses_a_staff_session_until_the_second_factor_is_given(
    reporter: User, analyst: User, api: Any, unchanged: Any
) -> None:
    incident = report(reporter)
    client = api(analyst)
    with unchanged():
        refused = client.post(f"{URL}/{incident.reference}/transition", {"to": "triaged"}, format="json")
    assert refused.status_code == 403
    assert set(refused.json()) == {"error", "errors"}
    assert client.get(URL).status_code == 403
    session = client.session
    session[SESSION_KEY] = True
    session.save()
    assert client.get(URL).json()["count"] == 1


@pytest.mark.usefixtures("with_2fa")
def test_it_lets_a_reporter_in_with_a_password_alone(reporter: User, api: Any) -> None:
    report(reporter)
    assert api(reporter).get(URL).json()["count"] == 1


@pytest.mark.usefixtures("with_2fa")
def test_it_accepts_a_staff_token_without_asking_for_the_second_factor_again(reporter: User, analyst: User) -> None:
    report(reporter)
    assert with_token(Token.objects.create(user=analyst).key).get(URL).json()["count"] == 1
