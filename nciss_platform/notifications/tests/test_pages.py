"""The directory and routing rule pages: who may open and change them, validation, the rule check."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.notifications.models import Contact, RoutingRule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_second_factor(without_2fa: None) -> None:
    """Staff sign in with a password alone here."""


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/stakeholders/", "/routing/", "/stakeholders/new", "/routing/new"])
def test_it_keeps_reporters_and_partners_out_of_the_directory_and_the_rules(
    path: str, reporter: User, partner: User, energy_rule: RoutingRule
) -> None:
    for user in (reporter, partner):
        response = client_for(user).get(path)
        assert response.status_code == 403, (user.role, path)
        assert "Regulator Duty Desk" not in response.content.decode()


def test_it_shows_analysts_the_directory_and_the_rules_without_edit_links(
    analyst: User, energy_rule: RoutingRule
) -> None:
    client = client_for(analyst)
    contacts = client.get("/stakeholders/").content.decode()
    assert "Regulator Duty Desk" in contacts and "Energy Regulatory Agency" in contacts
    assert "/stakeholders/new" not in contacts
    rules = client.get("/routing/").content.decode()
    assert "Energy, level 3 and above" in rules and "level &gt;= 3 and sector == energy" in rules
    assert "/routing/new" not in rules
    assert client.get("/stakeholders/new").status_code == 403
    assert client.post("/routing/new", {"name": "sneaky"}).status_code == 403


@pytest.mark.parametrize("role", ["coordinator", "administrator"])
def test_it_lets_coordinators_and_administrators_add_a_contact(
    role: str, personas: dict[str, User], regulator: Organisation
) -> None:
    client = client_for(personas[role])
    assert 'href="/stakeholders/"' in client.get("/home/", follow=True).content.decode()
    response = client.post(
        "/stakeholders/new",
        {
            "name": "Regulator Night Desk",
            "organisation": regulator.pk,
            "email": "night@regulator.example",
            "channels": ["email"],
            "language": "uz",
            "tier": "1",
            "active": "on",
        },
    )
    assert response.status_code == 302
    contact = Contact.objects.get(name="Regulator Night Desk")
    assert contact.language == "uz" and contact.channels == ["email"]
    assert AuditEvent.objects.filter(action="contact.created", object_id=str(contact.pk)).exists()


def test_it_says_what_a_contact_lacks_for_its_channels(coordinator: User, regulator: Organisation) -> None:
    response = client_for(coordinator).post(
        "/stakeholders/new",
        {"name": "Hook only", "organisation": regulator.pk, "channels": ["webhook"], "language": "en", "tier": "1"},
    )
    assert response.status_code == 400
    assert "a URL and a secret are required for the webhook channel" in response.content.decode()
    assert not Contact.objects.filter(name="Hook only").exists()


def test_it_keeps_a_webhook_secret_unless_a_new_one_is_given(coordinator: User, regulator_desk: Contact) -> None:
    regulator_desk.channels = ["email", "webhook"]
    regulator_desk.webhook_url, regulator_desk.webhook_secret = "https://regulator.example/hook", "kept-secret"
    regulator_desk.save()
    client = client_for(coordinator)
    page = client.get(f"/stakeholders/{regulator_desk.pk}/").content.decode()
    assert "kept-secret" not in page
    form = {
        "name": "Regulator Duty Desk",
        "organisation": regulator_desk.organisation_id,
        "email": regulator_desk.email,
        "webhook_url": regulator_desk.webhook_url,
        "channels": ["email", "webhook"],
        "language": "ru",
        "tier": "1",
    }
    assert client.post(f"/stakeholders/{regulator_desk.pk}/", form).status_code == 302
    regulator_desk.refresh_from_db()
    assert regulator_desk.webhook_secret == "kept-secret" and not regulator_desk.active


def rule_form(**overrides: Any) -> dict[str, Any]:
    form = {
        "name": "Health, level 2 and above",
        "condition": "level: '>= 2'\nsector: health\n",
        "events": ["reported", "level_raised"],
        "tier": "1",
        "ack_within": "4h",
        "order": "50",
        "active": "on",
    }
    return {**form, **overrides}


def test_it_saves_a_rule_written_in_the_rule_language(coordinator: User, regulator: Organisation) -> None:
    response = client_for(coordinator).post("/routing/new", rule_form(organisations=[regulator.pk]))
    assert response.status_code == 302
    rule = RoutingRule.objects.get(name="Health, level 2 and above")
    assert rule.condition == {"level": ">= 2", "sector": "health"}
    assert rule.ack_within is not None and rule.ack_within.total_seconds() == 4 * 3600
    assert list(rule.organisations.all()) == [regulator]
    page = client_for(coordinator).get(f"/routing/{rule.pk}/").content.decode()
    assert "sector: health" in page and 'value="4h"' in page


def test_it_names_the_mistake_in_a_condition_as_scale_files_do(coordinator: User, regulator: Organisation) -> None:
    form = rule_form(condition="any:\n  - levle: '>= 3'\n  - sector: enrgy\n", organisations=[regulator.pk])
    response = client_for(coordinator).post("/routing/new", form)
    page = response.content.decode()
    assert response.status_code == 400
    assert "condition.any[0].levle: unknown fact" in page
    assert "condition.any[1].sector: &#x27;enrgy&#x27; is not a value of sector" in page
    assert not RoutingRule.objects.exists()


def test_it_wants_recipients_events_and_valid_yaml(coordinator: User) -> None:
    response = client_for(coordinator).post("/routing/new", rule_form(condition="level: [", events=[]))
    page = response.content.decode()
    assert response.status_code == 400
    assert "not valid YAML" in page and "This field is required" in page


def test_it_checks_a_condition_live_and_tries_it_on_an_incident(
    coordinator: User, reporter: User, regulator: Organisation, regulator_desk: Contact
) -> None:
    incident = report(reporter)
    client = client_for(coordinator)
    bad = client.post("/routing/check", {"condition": "fatalitys: '>= 1'"}).content.decode()
    assert "condition.fatalitys" in bad and "unknown fact" in bad

    form = {
        "condition": "level: '>= 3'\nsector: energy",
        "incident": incident.reference,
        "organisations": [regulator.pk],
        "tier": "1",
    }
    good = client.post("/routing/check", form).content.decode()
    assert "level &gt;= 3 and sector == energy" in good
    assert "true: the rule would tell its recipients" in good and "Regulator Duty Desk" in good

    unknown = client.post("/routing/check", {**form, "condition": "fatalities: '>= 1'"}).content.decode()
    assert "unknown" in unknown and "fatalities" in unknown and "Regulator Duty Desk" not in unknown

    hidden = client.post("/routing/check", {**form, "incident": "NCISS-2099-000001"}).content.decode()
    assert "No incident NCISS-2099-000001" in hidden
