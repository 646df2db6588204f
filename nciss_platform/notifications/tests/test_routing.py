"""Routing: who is told about an incident, in which language, why, and never twice."""

from __future__ import annotations

import datetime as dt

import pytest

from nciss_platform import clock
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents import services as incidents
from nciss_platform.incidents.models import TLP
from nciss_platform.incidents.tests.conftest import GRID_DOWN, T0, report
from nciss_platform.notifications import services
from nciss_platform.notifications.models import Contact, IncidentEvent, Notification, RoutingRule
from nciss_platform.notifications.tests.conftest import make_contact
from nciss_platform.outbox.models import Job

pytestmark = pytest.mark.django_db

MINOR = {"functional_impact": "minimal-non-critical"}


def told(incident: object) -> dict[str, str]:
    """Contact name -> state of the incident's notifications."""
    return {n.contact.name: n.state for n in Notification.objects.filter(incident=incident).select_related("contact")}


def test_it_tells_the_energy_regulator_and_the_crisis_cell_of_a_level_3_energy_incident(
    reporter: User, energy_rule: RoutingRule
) -> None:
    incident = report(reporter)
    assert incident.level == 3
    assert told(incident) == {"Regulator Duty Desk": "pending", "Crisis Cell Watch": "pending"}
    jobs = Job.objects.filter(kind=services.DELIVER)
    assert jobs.count() == 2


def test_it_tells_nobody_of_a_low_level_energy_incident(reporter: User, energy_rule: RoutingRule) -> None:
    incident = report(reporter, facts=dict(MINOR))
    assert incident.level < 3
    assert told(incident) == {}


def test_it_tells_nobody_in_energy_of_a_level_3_incident_elsewhere(
    ministry_reporter: User, energy_rule: RoutingRule
) -> None:
    incident = report(ministry_reporter, facts={**GRID_DOWN, "fatalities": 1})
    assert incident.level >= 3 and incident.facts["sector"] == "public-administration"
    assert told(incident) == {}


def test_it_records_the_rule_and_why_on_each_notification(reporter: User, energy_rule: RoutingRule) -> None:
    incident = report(reporter)
    notification = Notification.objects.get(incident=incident, contact__name="Crisis Cell Watch")
    assert notification.rule == energy_rule and notification.rule_name == "Energy, level 3 and above"
    assert notification.reason == "rule “Energy, level 3 and above”: level >= 3 and sector == energy"
    assert notification.event.kind == IncidentEvent.Kind.REPORTED
    assert notification.ack_due_at == T0 + dt.timedelta(hours=2)


def test_it_writes_each_message_in_the_recipients_language(reporter: User, energy_rule: RoutingRule) -> None:
    incident = report(reporter)
    russian = Notification.objects.get(incident=incident, contact__name="Regulator Duty Desk")
    english = Notification.objects.get(incident=incident, contact__name="Crisis Cell Watch")
    assert russian.language == "ru" and english.language == "en"
    assert "новый инцидент" in russian.subject and "Энергетика" in russian.body
    assert "new incident, level High (3)" in english.subject and "Sector: Energy" in english.body
    assert incident.reference in russian.subject and "[TLP:AMBER]" in english.subject
    assert "/ack/" in english.body


def test_it_does_not_notify_when_the_condition_is_unknown_and_notifies_once_the_fact_is_known(
    reporter: User, regulator: object, regulator_desk: Contact, analyst: User
) -> None:
    rule = RoutingRule.objects.create(name="Loss of life", condition={"fatalities": ">= 1"}, events=["reported"])
    rule.organisations.set([regulator])
    incident = report(reporter)
    assert "fatalities" not in incident.facts
    verdict = services.evaluate(rule, services.rule_facts(incident))
    assert verdict.value is None and verdict.unknown == ("fatalities",)
    assert told(incident) == {}

    with clock.frozen(T0 + dt.timedelta(hours=1)):
        incidents.update_facts(incident=incident, actor=analyst, changes={"fatalities": 2})
    assert told(incident) == {"Regulator Duty Desk": "pending"}
    assert Notification.objects.get(incident=incident).event.kind == IncidentEvent.Kind.LEVEL_RAISED


def test_it_tells_each_recipient_once_per_event_even_when_several_rules_name_them(
    reporter: User, energy_rule: RoutingRule, crisis_desk: Contact
) -> None:
    second = RoutingRule.objects.create(
        name="Critical entities", condition={"entity_criticality": "critical"}, events=["reported"], order=20
    )
    second.contacts.set([crisis_desk])
    incident = report(reporter)
    crisis = Notification.objects.filter(incident=incident, contact=crisis_desk)
    assert crisis.count() == 1 and crisis.get().rule == energy_rule  # the first rule in order


def test_it_routes_the_same_event_once_when_it_comes_again(reporter: User, energy_rule: RoutingRule) -> None:
    incident = report(reporter)
    assessment = incident.assessments.get()
    with clock.frozen(T0 + dt.timedelta(minutes=5)):
        again = services.route_assessment(incident=incident, assessment=assessment, previous=None)
    assert again == []
    assert Notification.objects.filter(incident=incident).count() == 2
    assert Job.objects.filter(kind=services.DELIVER).count() == 2


def test_it_uses_every_channel_of_a_contact_with_one_key_per_channel(
    reporter: User, energy_rule: RoutingRule, regulator_desk: Contact
) -> None:
    regulator_desk.channels = ["email", "webhook"]
    regulator_desk.webhook_url, regulator_desk.webhook_secret = "https://regulator.example/hook", "s3cret"
    regulator_desk.save()
    incident = report(reporter)
    mine = Notification.objects.filter(incident=incident, contact=regulator_desk)
    assert sorted(mine.values_list("channel", flat=True)) == ["email", "webhook"]
    assert len(set(mine.values_list("idempotency_key", flat=True))) == 2
    webhook = mine.get(channel="webhook")
    assert webhook.address == "https://regulator.example/hook"
    assert webhook.payload["incident"]["reference"] == incident.reference and webhook.payload["language"] == "ru"


def test_it_tells_only_the_csirts_own_contacts_of_a_tlp_red_incident(
    reporter: User, energy_rule: RoutingRule, csirt_desk: Contact
) -> None:
    energy_rule.contacts.set([csirt_desk])
    incident = report(reporter, title="Grid operator names the insider", tlp=TLP.RED)
    assert told(incident) == {
        "CSIRT Duty Desk": "pending",
        "Regulator Duty Desk": "withheld",
        "Crisis Cell Watch": "withheld",
    }
    assert Job.objects.filter(kind=services.DELIVER).count() == 1
    internal = Notification.objects.get(incident=incident, contact=csirt_desk)
    assert "insider" not in internal.body and "Sector" not in internal.body and "TLP:RED" in internal.body
    withheld = Notification.objects.get(incident=incident, contact__name="Crisis Cell Watch")
    assert "TLP:RED" in withheld.reason and withheld.ack_due_at is None


def test_it_never_sends_the_description_and_keeps_the_amber_title_at_home(
    reporter: User, energy_rule: RoutingRule, foreign_poc: Contact
) -> None:
    energy_rule.contacts.set([foreign_poc])
    incident = report(reporter, title="Substation 7 dark", description="The attacker used the VPN of contractor X")
    home = Notification.objects.get(incident=incident, contact__name="Crisis Cell Watch")
    abroad = Notification.objects.get(incident=incident, contact=foreign_poc)
    assert "Substation 7 dark" in home.body and "Aralia Grid" in home.body
    assert "Substation 7 dark" not in abroad.body and "Aralia Grid" not in abroad.body
    for message in (home, abroad):
        assert "contractor X" not in message.body and "contractor X" not in str(message.payload)


def test_it_tells_nobody_abroad_of_an_amber_strict_incident(
    reporter: User, energy_rule: RoutingRule, foreign_poc: Contact
) -> None:
    energy_rule.contacts.set([foreign_poc])
    incident = report(reporter, tlp=TLP.AMBER_STRICT)
    states = told(incident)
    assert states["Veskaria CBM 8 Point of Contact"] == "withheld" and states["Crisis Cell Watch"] == "pending"


def test_it_skips_inactive_rules_and_contacts(reporter: User, energy_rule: RoutingRule, crisis_desk: Contact) -> None:
    crisis_desk.active = False
    crisis_desk.save()
    assert told(report(reporter, title="first")) == {"Regulator Duty Desk": "pending"}
    energy_rule.active = False
    energy_rule.save()
    assert told(report(reporter, title="second")) == {}


def test_it_reads_rules_over_countries_classification_and_tlp(reporter: User, regulator: object) -> None:
    desk = make_contact(regulator, "Cross-border desk")
    rule = RoutingRule.objects.create(
        name="Cross-border malware",
        condition={
            "countries_affected": "not empty",
            "classification": "malicious-code:infected-system",
            "tlp": "<= TLP:AMBER",
        },
        events=["reported"],
    )
    rule.contacts.set([desk])
    domestic = report(
        reporter, facts={**GRID_DOWN, "classification": "malicious-code:infected-system", "countries_affected": []}
    )
    abroad = report(
        reporter, facts={**GRID_DOWN, "classification": "malicious-code:infected-system", "countries_affected": ["XB"]}
    )
    assert told(domestic) == {} and told(abroad) == {"Cross-border desk": "pending"}


def test_a_batch_of_reports_tells_the_rules_recipients_of_each_incident_that_meets_them(
    analyst: User, energy: Organisation, energy_rule: RoutingRule
) -> None:
    with clock.frozen(T0):
        serious, minor = incidents.report_incidents(
            actor=analyst,
            reports=[
                incidents.NewReport(title="Grid dark", facts=dict(GRID_DOWN), affected_organisations=[energy]),
                incidents.NewReport(title="Grid blip", facts=dict(MINOR), affected_organisations=[energy]),
            ],
        )
    assert told(serious) == {"Regulator Duty Desk": "pending", "Crisis Cell Watch": "pending"}
    assert told(minor) == {}
