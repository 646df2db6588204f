"""Escalation with the controllable clock: a rising level, a missing acknowledgement, a missed target."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.incidents import services as incidents
from nciss_platform.incidents.models import Incident
from nciss_platform.incidents.tests.conftest import GRID_DOWN, T0, report
from nciss_platform.notifications import services
from nciss_platform.notifications.models import Contact, IncidentEvent, Notification, RoutingRule
from nciss_platform.outbox.models import Job
from nciss_platform.outbox.worker import run_due_jobs

pytestmark = pytest.mark.django_db

MINOR = {"functional_impact": "minimal-non-critical"}
HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def locmem_email(settings: object) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # type: ignore[attr-defined]


def messages_to(incident: Incident, contact: Contact) -> list[tuple[str, str]]:
    """(event kind, subject) of every notification ``contact`` got about ``incident``, oldest first."""
    return [
        (n.event.kind, n.subject)
        for n in Notification.objects.filter(incident=incident, contact=contact).select_related("event")
    ]


def raise_level(incident: Incident, analyst: User, at: dt.datetime, **facts: object) -> None:
    with clock.frozen(at):
        incidents.update_facts(incident=incident, actor=analyst, changes=facts)
    incident.refresh_from_db()


def test_it_fires_the_rules_for_the_new_level_when_the_level_rises(
    reporter: User, analyst: User, energy_rule: RoutingRule, regulator_desk: Contact
) -> None:
    incident = report(reporter, facts=dict(MINOR))
    assert Notification.objects.filter(incident=incident).count() == 0
    raise_level(incident, analyst, T0 + HOUR, **GRID_DOWN)
    assert incident.level == 3
    [(kind, subject)] = messages_to(incident, regulator_desk)
    assert kind == IncidentEvent.Kind.LEVEL_RAISED and "уровень повышен: Низкий (1) → Высокий (3)" in subject


def test_it_tells_everyone_told_before_that_the_level_rose(
    reporter: User, analyst: User, regulator: object, regulator_desk: Contact, crisis_desk: Contact
) -> None:
    reported_only = RoutingRule.objects.create(
        name="Energy reports", condition={"sector": "energy"}, events=["reported"], order=1
    )
    reported_only.contacts.set([regulator_desk])
    incident = report(reporter)
    raise_level(incident, analyst, T0 + HOUR, fatalities=1)
    assert incident.level == 4
    kinds = [kind for kind, _ in messages_to(incident, regulator_desk)]
    assert kinds == [IncidentEvent.Kind.REPORTED, IncidentEvent.Kind.LEVEL_RAISED]
    latest = Notification.objects.filter(incident=incident, contact=regulator_desk).last()
    assert latest is not None and latest.rule == reported_only and "told before" in latest.reason
    assert messages_to(incident, crisis_desk) == []


def test_it_does_not_repeat_a_reported_rule_when_the_level_stays(
    reporter: User, analyst: User, energy_rule: RoutingRule
) -> None:
    incident = report(reporter)
    raise_level(incident, analyst, T0 + HOUR, users_affected=10)
    assert incident.level == 3
    assert Notification.objects.filter(incident=incident).count() == 2


def test_it_tells_the_next_tier_when_nobody_acknowledges_in_time(
    reporter: User, energy_rule: RoutingRule, regulator_desk: Contact, regulator_head: Contact, crisis_desk: Contact
) -> None:
    incident = report(reporter)
    run_due_jobs(T0)  # delivers the first messages
    assert set(Notification.objects.filter(incident=incident).values_list("state", flat=True)) == {"sent"}

    run_due_jobs(T0 + 2 * HOUR - dt.timedelta(minutes=2))
    assert messages_to(incident, regulator_head) == []

    run_due_jobs(T0 + 2 * HOUR + dt.timedelta(minutes=1))
    [(kind, subject)] = messages_to(incident, regulator_head)
    assert kind == IncidentEvent.Kind.UNACKNOWLEDGED and "eskalatsiya" in subject  # the head reads Uzbek
    escalation = Notification.objects.get(incident=incident, contact=regulator_head)
    desk = Notification.objects.get(incident=incident, contact=regulator_desk)
    assert escalation.escalated_from == desk and desk.escalated_at is not None
    assert "Regulator Duty Desk (tier 1) did not acknowledge" in escalation.reason
    assert escalation.rule == energy_rule and escalation.ack_due_at is not None

    # the crisis cell has no second tier: its notification is marked escalated, nobody else is told
    crisis = Notification.objects.get(incident=incident, contact=crisis_desk)
    assert crisis.escalated_at is not None
    assert Notification.objects.filter(incident=incident).count() == 3

    run_due_jobs(T0 + 6 * HOUR)  # the head does not answer either: there is no tier 3
    assert Notification.objects.filter(incident=incident).count() == 3


def test_it_does_not_escalate_what_was_acknowledged(
    reporter: User, analyst: User, energy_rule: RoutingRule, regulator_desk: Contact, regulator_head: Contact
) -> None:
    incident = report(reporter)
    desk = Notification.objects.get(incident=incident, contact=regulator_desk)
    with clock.frozen(T0 + HOUR):
        services.acknowledge(notification=desk, actor=analyst, via="page")
    run_due_jobs(T0 + 3 * HOUR)
    assert messages_to(incident, regulator_head) == []


def test_it_escalates_once_however_often_the_check_runs(
    reporter: User, energy_rule: RoutingRule, regulator_head: Contact
) -> None:
    incident = report(reporter)
    late = T0 + 3 * HOUR
    services.escalate_unacknowledged(late)
    services.escalate_unacknowledged(late)
    run_due_jobs(late)
    assert len(messages_to(incident, regulator_head)) == 1


def test_it_keeps_one_tick_scheduled_per_slot(reporter: User, energy_rule: RoutingRule) -> None:
    report(reporter, title="one")
    report(reporter, title="two")
    ticks = Job.objects.filter(kind=services.TICK, state="pending")
    assert list(ticks.values_list("run_after", flat=True)) == [T0 + dt.timedelta(minutes=1)]
    run_due_jobs(T0 + dt.timedelta(minutes=1))
    assert list(ticks.values_list("run_after", flat=True)) == [T0 + dt.timedelta(minutes=2)]


@pytest.fixture
def duty_rule(csirt: object, csirt_desk: Contact, csirt_head: Contact) -> RoutingRule:
    """The CSIRT's duty desk hears of every serious incident; its head when a target is missed."""
    rule = RoutingRule.objects.create(
        name="CSIRT duty", condition={"level": ">= 3"}, events=["reported", "target_breached"], tier=1
    )
    rule.organisations.set([csirt])
    return rule


def test_it_tells_the_next_tier_when_a_response_target_is_missed(
    reporter: User, duty_rule: RoutingRule, csirt_desk: Contact, csirt_head: Contact
) -> None:
    incident = report(reporter)  # level 3: triage within 2 h, around the clock
    assert [kind for kind, _ in messages_to(incident, csirt_desk)] == [IncidentEvent.Kind.REPORTED]

    run_due_jobs(T0 + 2 * HOUR - dt.timedelta(minutes=2))
    assert messages_to(incident, csirt_head) == []

    run_due_jobs(T0 + 2 * HOUR + dt.timedelta(minutes=1))
    [(kind, subject)] = messages_to(incident, csirt_head)
    assert kind == IncidentEvent.Kind.TARGET_BREACHED and "response target missed: Triage, level High (3)" in subject
    head = Notification.objects.get(incident=incident, contact=csirt_head)
    assert head.rule == duty_rule and "next tier" in head.reason

    run_due_jobs(T0 + 3 * HOUR)
    assert len(messages_to(incident, csirt_head)) == 1
    assert len(messages_to(incident, csirt_desk)) == 1


def test_it_tells_nobody_more_when_the_target_is_met(
    reporter: User, analyst: User, duty_rule: RoutingRule, csirt_head: Contact
) -> None:
    incident = report(reporter)
    with clock.frozen(T0 + HOUR):
        incidents.change_status(incident=incident, actor=analyst, to="triaged")
    run_due_jobs(T0 + 3 * HOUR)
    assert messages_to(incident, csirt_head) == []


def test_it_reminds_the_rules_recipients_before_a_reporting_deadline(
    reporter: User, coordinator: User, regulator_desk: Contact
) -> None:
    with clock.frozen(T0 - HOUR):  # saving the rule starts the periodic check
        services.save_rule(
            actor=coordinator,
            name="NIS2 reminders",
            condition={"sector": "energy"},
            events=["regime_reminder"],
            contacts=[regulator_desk],
        )
    incident = report(reporter, facts={**GRID_DOWN, "financial_loss_eur": 600_000, "detected_at": T0.isoformat()})
    run_due_jobs(T0 + 21 * HOUR)
    assert messages_to(incident, regulator_desk) == []
    run_due_jobs(T0 + 22 * HOUR + dt.timedelta(minutes=1))
    [(kind, subject)] = messages_to(incident, regulator_desk)
    assert kind == IncidentEvent.Kind.REGIME_REMINDER and "2026-03-03 09:00 UTC" in subject


def test_it_runs_the_check_at_once_from_the_command_line(
    reporter: User, energy_rule: RoutingRule, regulator_head: Contact
) -> None:
    incident = report(reporter)
    out = io.StringIO()
    with clock.frozen(T0 + 3 * HOUR):
        call_command("notify", "tick", stdout=out)
    assert out.getvalue() == "clock events: 1; notifications for them: 0; escalation notifications: 1\n"
    assert len(messages_to(incident, regulator_head)) == 1
    assert Job.objects.filter(kind=services.TICK, state="pending").count() == 1
