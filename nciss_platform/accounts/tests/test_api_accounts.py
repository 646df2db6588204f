"""The organisations and users API, role by role: who may read and change what."""

import pytest
from rest_framework.test import APIClient

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.models import AuditEvent

from .conftest import PASSWORD

NEW_ORGANISATION = {
    "name": "Aralia Rail",
    "slug": "aralia-rail",
    "kind": "operator",
    "sector": "transport",
    "country": "XA",
}
NEW_USER = {"username": "new-reporter", "password": PASSWORD, "role": "reporter", "organisation": "aralia-grid"}

# Each action of these endpoints, and the HTTP status each role gets.
MATRIX = [
    # action, method, path, body, {role: status}
    (
        "list organisations",
        "get",
        "/api/v1/organisations",
        None,
        dict.fromkeys(("reporter", "analyst", "coordinator", "administrator"), 200),
    ),
    (
        "read own organisation",
        "get",
        "/api/v1/organisations/aralia-grid",
        None,
        dict.fromkeys(("reporter", "analyst", "coordinator", "administrator"), 200),
    ),
    (
        "read another organisation",
        "get",
        "/api/v1/organisations/csirt",
        None,
        {"reporter": 404, "analyst": 200, "coordinator": 200, "administrator": 200},
    ),
    (
        "create an organisation",
        "post",
        "/api/v1/organisations",
        NEW_ORGANISATION,
        {"reporter": 403, "analyst": 403, "coordinator": 403, "administrator": 201},
    ),
    (
        "change an organisation",
        "patch",
        "/api/v1/organisations/aralia-grid",
        {"criticality": "essential"},
        {"reporter": 403, "analyst": 403, "coordinator": 403, "administrator": 200},
    ),
    (
        "list users",
        "get",
        "/api/v1/users",
        None,
        {"reporter": 403, "analyst": 403, "coordinator": 403, "administrator": 200},
    ),
    (
        "read a user",
        "get",
        "/api/v1/users/analyst",
        None,
        {"reporter": 403, "analyst": 403, "coordinator": 403, "administrator": 200},
    ),
    (
        "create a user",
        "post",
        "/api/v1/users",
        NEW_USER,
        {"reporter": 403, "analyst": 403, "coordinator": 403, "administrator": 201},
    ),
    (
        "read oneself",
        "get",
        "/api/v1/me",
        None,
        dict.fromkeys(("reporter", "analyst", "coordinator", "administrator"), 200),
    ),
]
CASES = [
    (action, method, path, body, role, code)
    for action, method, path, body, codes in MATRIX
    for role, code in codes.items()
]


@pytest.mark.parametrize(
    ("action", "method", "path", "body", "role", "expected"), CASES, ids=[f"{c[4]} {c[0]}" for c in CASES]
)
def test_it_allows_and_forbids_each_action_by_role(personas, signed_in, action, method, path, body, role, expected):
    response = getattr(signed_in(personas[role]), method)(path, body, format="json")
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert set(response.json()) == {"error", "errors"}


@pytest.mark.parametrize(("method", "path"), [(m, p) for _, m, p, _, _ in MATRIX])
def test_it_lets_no_anonymous_caller_in(db, method, path):
    response = getattr(APIClient(), method)(path, {}, format="json")
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"error", "errors"}


def test_it_shows_a_reporter_only_their_own_organisation(reporter, csirt, signed_in):
    body = signed_in(reporter).get("/api/v1/organisations").json()
    assert [item["slug"] for item in body["results"]] == ["aralia-grid"]


def test_it_shows_analysts_every_organisation(analyst, energy, signed_in):
    body = signed_in(analyst).get("/api/v1/organisations").json()
    assert [item["slug"] for item in body["results"]] == ["csirt", "aralia-grid"]  # by name
    assert body["results"][0]["is_foreign"] is False


def test_it_creates_an_organisation_and_audits_it(administrator, signed_in):
    response = signed_in(administrator).post("/api/v1/organisations", NEW_ORGANISATION, format="json")
    assert response.json()["slug"] == "aralia-rail"
    assert Organisation.objects.get(slug="aralia-rail").sector == "transport"
    event = AuditEvent.objects.get(
        action="organisation.created", object_id=str(Organisation.objects.get(slug="aralia-rail").pk)
    )
    assert event.actor == "administrator"


def test_it_changes_an_organisation_and_audits_what_changed(administrator, energy, signed_in):
    response = signed_in(administrator).patch(
        "/api/v1/organisations/aralia-grid", {"criticality": "essential", "slug": "renamed"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["slug"] == "aralia-grid"
    assert response.json()["criticality"] == "essential"
    event = AuditEvent.objects.get(action="organisation.updated")
    assert event.data == {"changes": {"criticality": ["other", "essential"]}}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({**NEW_ORGANISATION, "kind": "bakery"}, "kind"),
        ({**NEW_ORGANISATION, "country": "xa"}, "country"),
        ({**NEW_ORGANISATION, "preferred_scale": "no-such-scale"}, "preferred_scale"),
        ({**NEW_ORGANISATION, "slug": "csirt"}, "slug"),
        ({**NEW_ORGANISATION, "name": ""}, "name"),
    ],
)
def test_it_refuses_a_bad_organisation_with_a_clear_400_and_changes_nothing(administrator, signed_in, body, path):
    before = AuditEvent.objects.count()
    response = signed_in(administrator).post("/api/v1/organisations", body, format="json")
    assert response.status_code == 400
    assert path in [error["path"] for error in response.json()["errors"]]
    assert not Organisation.objects.filter(name="Aralia Rail").exists()
    assert AuditEvent.objects.count() == before


def test_it_creates_a_user_who_can_then_sign_in(administrator, energy, signed_in):
    response = signed_in(administrator).post("/api/v1/users", NEW_USER, format="json")
    assert response.status_code == 201
    body = response.json()
    assert "password" not in body
    assert body["organisation"] == "aralia-grid"
    assert body["two_factor_enrolled"] is False
    assert (
        APIClient()
        .post("/api/v1/auth/token", {"username": "new-reporter", "password": PASSWORD}, format="json")
        .status_code
        == 200
    )


def test_it_makes_new_administrators_staff_of_the_django_admin(administrator, signed_in):
    body = {**NEW_USER, "username": "second-admin", "role": "administrator", "organisation": "csirt"}
    signed_in(administrator).post("/api/v1/users", body, format="json")
    assert User.objects.get(username="second-admin").is_staff


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"password": "short"}, "password"),
        ({"password": "new-reporter-1"}, "password"),
        ({"role": "king"}, "role"),
        ({"organisation": "nowhere"}, "organisation"),
        ({"username": "analyst"}, "username"),
        ({"username": "has space"}, "username"),
    ],
)
def test_it_refuses_a_bad_user_with_a_clear_400(administrator, analyst, energy, signed_in, change, path):
    before = User.objects.count(), AuditEvent.objects.count()
    response = signed_in(administrator).post("/api/v1/users", {**NEW_USER, **change}, format="json")
    assert response.status_code == 400
    assert path in [error["path"] for error in response.json()["errors"]]
    assert (User.objects.count(), AuditEvent.objects.count()) == before


def test_it_filters_users_by_role_and_organisation(personas, signed_in):
    client = signed_in(personas["administrator"])
    assert [u["username"] for u in client.get("/api/v1/users?role=analyst").json()["results"]] == ["analyst"]
    by_org = client.get("/api/v1/users?organisation=aralia-grid").json()["results"]
    assert [u["username"] for u in by_org] == ["grid-reporter"]


def test_it_describes_the_caller(reporter, signed_in):
    body = signed_in(reporter).get("/api/v1/me").json()
    assert body["role"] == "reporter"
    assert body["organisation"] == {"slug": "aralia-grid", "name": "Aralia Grid", "kind": "operator", "country": "XA"}
    assert body["is_administrator"] is False


def test_it_lists_the_accounts_endpoints_in_the_openapi_schema(client, db):
    import yaml

    paths = yaml.safe_load(client.get("/api/schema/").content)["paths"]
    expected = {
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/organisations",
        "/api/v1/organisations/{slug}",
        "/api/v1/users",
        "/api/v1/users/{username}",
    }
    assert expected <= set(paths)
    assert paths["/api/v1/auth/token"]["post"]["tags"] == ["auth"]
    assert "429" in paths["/api/v1/auth/token"]["post"]["responses"]
    assert paths["/api/v1/organisations"]["get"]["tags"] == ["accounts"]
