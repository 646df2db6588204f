"""The notifications API: the directory and rules by role, validation, the rule check, notifications."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.notifications.models import Contact, RoutingRule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_second_factor(without_2fa: None) -> None:
    """Staff sign in with a password alone here."""


@pytest.mark.parametrize("path", ["/api/v1/contacts", "/api/v1/routing-rules"])
def test_it_shows_the_directory_to_csirt_staff_and_administrators_only(
    path: str, api: Any, personas: dict[str, User], partner: User, energy_rule: RoutingRule
) -> None:
    for role in ("analyst", "coordinator", "administrator"):
        response = api(personas[role]).get(path)
        assert response.status_code == 200 and response.json()["count"] >= 1, role
    for user in (personas["reporter"], partner):
        response = api(user).get(path)
        assert response.status_code == 403 and "results" not in response.json()
    assert api(None).get(path).status_code in (401, 403)


def test_it_never_shows_a_webhook_secret(api: Any, analyst: User, regulator_desk: Contact) -> None:
    regulator_desk.webhook_secret = "do-not-show"
    regulator_desk.save()
    [contact] = api(analyst).get("/api/v1/contacts").json()["results"]
    assert "webhook_secret" not in contact and contact["has_webhook_secret"] is True
    assert contact["organisation"] == "energy-regulator" and contact["language"] == "ru"


def test_it_lets_coordinators_add_contacts_and_refuses_analysts(
    api: Any, analyst: User, coordinator: User, crisis_cell: Organisation
) -> None:
    body = {
        "name": "Crisis Cell Hook",
        "organisation": "crisis-cell",
        "channels": ["webhook"],
        "webhook_url": "https://crisis.example/hook",
        "webhook_secret": "abc",
        "language": "en",
    }
    assert api(analyst).post("/api/v1/contacts", body, format="json").status_code == 403
    created = api(coordinator).post("/api/v1/contacts", body, format="json")
    assert created.status_code == 201 and created.json()["tier"] == 1
    changed = api(coordinator).patch(f"/api/v1/contacts/{created.json()['id']}", {"tier": 2}, format="json")
    assert changed.status_code == 200 and Contact.objects.get(name="Crisis Cell Hook").tier == 2
    assert Contact.objects.get(name="Crisis Cell Hook").webhook_secret == "abc"


def test_it_refuses_a_contact_without_the_address_its_channel_needs(
    api: Any, coordinator: User, crisis_cell: Organisation
) -> None:
    body = {"name": "No address", "organisation": "crisis-cell", "channels": ["email"]}
    response = api(coordinator).post("/api/v1/contacts", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "email", "reason": "required for the e-mail channel"}]


def test_it_creates_a_rule_and_names_the_mistakes_in_a_bad_one(
    api: Any, administrator: User, regulator: Organisation, crisis_desk: Contact
) -> None:
    body = {
        "name": "Energy, level 3",
        "condition": {"level": ">= 3", "sector": "energy"},
        "events": ["reported", "level_raised"],
        "organisations": ["energy-regulator"],
        "contacts": [crisis_desk.pk],
        "ack_within": "2h",
    }
    created = api(administrator).post("/api/v1/routing-rules", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["ack_within"] == "2h" and created.json()["organisations"] == ["energy-regulator"]

    bad = api(administrator).post(
        "/api/v1/routing-rules", {**body, "name": "Bad", "condition": {"levle": ">= 3"}}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["errors"] == [{"path": "condition.levle", "reason": "unknown fact"}]
    nobody = api(administrator).post(
        "/api/v1/routing-rules", {**body, "name": "Nobody", "organisations": [], "contacts": []}, format="json"
    )
    assert nobody.status_code == 400 and nobody.json()["errors"][0]["path"] == "recipients"


def test_it_checks_a_condition_against_an_incident(api: Any, analyst: User, reporter: User) -> None:
    incident = report(reporter)
    body = {"condition": {"any": [{"fatalities": ">= 1"}, {"level": ">= 4"}]}, "incident": incident.reference}
    response = api(analyst).post("/api/v1/routing-rules/check", body, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "reading": "fatalities >= 1 or level >= 4",
        "incident": incident.reference,
        "result": None,
        "unknown": ["fatalities"],
    }
    assert api(reporter).post("/api/v1/routing-rules/check", body, format="json").status_code == 403


def test_it_lists_who_was_told_about_an_incident_to_csirt_staff(
    api: Any, analyst: User, reporter: User, energy_rule: RoutingRule
) -> None:
    incident = report(reporter)
    response = api(analyst).get(f"/api/v1/notifications?incident={incident.reference}")
    assert response.status_code == 200
    told = {(n["contact"], n["rule"], n["state"], n["language"]) for n in response.json()["results"]}
    assert told == {
        ("Regulator Duty Desk", "Energy, level 3 and above", "pending", "ru"),
        ("Crisis Cell Watch", "Energy, level 3 and above", "pending", "en"),
    }
    assert api(reporter).get(f"/api/v1/notifications?incident={incident.reference}").status_code == 403
    first = response.json()["results"][0]["id"]
    acknowledged = api(analyst).post(f"/api/v1/notifications/{first}/acknowledge")
    assert acknowledged.status_code == 200 and acknowledged.json()["acknowledged_by"] == "analyst"


def test_it_documents_every_notifications_endpoint_without_warnings(tmp_path: Path) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    paths = yaml.safe_load((tmp_path / "schema.yaml").read_text())["paths"]
    ours = {
        (path, method): operation["operationId"]
        for path, operations in paths.items()
        for method, operation in operations.items()
        if operation.get("tags") == ["notifications"]
    }
    assert ours == {
        ("/api/v1/contacts", "get"): "list_contacts",
        ("/api/v1/contacts", "post"): "create_contact",
        ("/api/v1/contacts/{id}", "get"): "get_contact",
        ("/api/v1/contacts/{id}", "patch"): "update_contact",
        ("/api/v1/routing-rules", "get"): "list_routing_rules",
        ("/api/v1/routing-rules", "post"): "create_routing_rule",
        ("/api/v1/routing-rules/{id}", "get"): "get_routing_rule",
        ("/api/v1/routing-rules/{id}", "patch"): "update_routing_rule",
        ("/api/v1/routing-rules/check", "post"): "check_routing_condition",
        ("/api/v1/notifications", "get"): "list_notifications",
        ("/api/v1/notifications/{id}/acknowledge", "post"): "acknowledge_notification",
        ("/api/v1/acknowledgements", "post"): "acknowledge_by_token",
    }
