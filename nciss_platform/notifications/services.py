"""Routing, escalation and acknowledgement of notifications, and the directory's changes.

Routing reads the active rules in order on each incident event. A rule's condition is the one
rule language (``nciss.rules``) over the incident's facts plus ``level`` (its national rank at the
event) and ``tlp``; a condition that is **unknown** (it reads a fact not known yet) does not notify:
only a true condition does. A rule for ``reported`` fires the first time its condition holds for
an incident, at the report or at a later reassessment; one for ``level_raised`` fires on every
rise. Notifications and their delivery jobs are written in the transaction of the event, so they
exist exactly when the event does (the outbox pattern), and each is unique per event, contact and
channel: the same event routed twice tells nobody twice.

Escalation tells the next tier of an organisation: when a notification is not acknowledged within
its rule's ``ack_within``, and when a response target is missed. ``tick()`` runs both checks; the
worker runs it every NCISS_NOTIFY_TICK_SECONDS as a job that schedules its successor.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Max, Min

import nciss
from nciss.rules import Condition, ConditionError, parse_condition
from nciss_platform import clock
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.services import record
from nciss_platform.calibration import versions
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents import clocks as incident_clocks
from nciss_platform.incidents.models import Assessment, Incident
from nciss_platform.incidents.workflow import OPEN_STATUSES
from nciss_platform.notifications import access, messages
from nciss_platform.notifications.models import Channel, Contact, Event, IncidentEvent, Notification, RoutingRule
from nciss_platform.outbox.models import Job
from nciss_platform.outbox.services import enqueue

logger = logging.getLogger(__name__)

DELIVER = "notifications.deliver"
TICK = "notifications.tick"
ACK_SALT = "nciss.notifications.acknowledge"
Kind = IncidentEvent.Kind


def national_scale() -> nciss.Scale:
    return versions.national_scale()


# ---------------------------------------------------------------- rules


def parse_rule_condition(raw: Any, path: str = "condition") -> Condition | None:
    """A rule's condition parsed, None for an empty one (every incident); ConditionError says what is wrong."""
    if raw is None or raw == {}:
        return None
    return _parsed(json.dumps(raw, sort_keys=True), path)


@functools.lru_cache(maxsize=512)
def _parsed(text: str, path: str) -> Condition:
    """Conditions are immutable: each distinct one is parsed once per process."""
    extra = {"sector": national_scale().national_sectors}
    return parse_condition(json.loads(text), path, extra, context=True)


def rule_facts(
    incident: Incident, *, level: int | None = None, facts: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What a rule's condition reads: the incident's facts, its level and its TLP."""
    return {
        **(incident.facts if facts is None else facts),
        "level": incident.level if level is None else level,
        "tlp": incident.tlp,
    }


@dataclass(frozen=True)
class Verdict:
    """A rule read against an incident: true, false or unknown (None), and the unknown facts it reads."""

    value: bool | None
    condition: str  # the condition in words
    unknown: tuple[str, ...]


def evaluate(rule: RoutingRule, facts: Mapping[str, Any]) -> Verdict:
    condition = parse_rule_condition(rule.condition)
    if condition is None:
        return Verdict(True, "every incident", ())
    return Verdict(
        condition.evaluate(facts), condition.describe(), tuple(sorted(f for f in condition.facts() if f not in facts))
    )


def rule_recipients(rule: RoutingRule) -> list[Contact]:
    """The rule's active contacts: those it names, and its organisations' contacts of its tier."""
    named = list(rule.contacts.filter(active=True).select_related("organisation"))
    grouped = Contact.objects.filter(organisation__in=rule.organisations.all(), tier=rule.tier, active=True)
    contacts = {c.pk: c for c in named}
    for contact in grouped.select_related("organisation"):
        contacts.setdefault(contact.pk, contact)
    return list(contacts.values())


def active_rules() -> list[RoutingRule]:
    """The routing rules in force (read once for a batch of assessments: ``route_assessment(rules=...)``)."""
    return list(RoutingRule.objects.filter(active=True))


def _active_rules(event: str) -> list[RoutingRule]:
    return [rule for rule in active_rules() if event in rule.events]


def _verdict(rule: RoutingRule, facts: Mapping[str, Any]) -> bool | None:
    """Whether the rule holds; a condition that no longer parses (a fact renamed) never holds, loudly."""
    try:
        condition = parse_rule_condition(rule.condition)
    except ConditionError as exc:
        logger.error("routing rule %r is skipped: its condition is invalid: %s", rule.name, exc)
        return None
    return True if condition is None else condition.evaluate(facts)


# ---------------------------------------------------------------- routing


@dataclass(frozen=True)
class Recipient:
    contact: Contact
    rule: RoutingRule | None
    rule_name: str
    reason: str
    ack_within: dt.timedelta | None


def _rule_recipient(contact: Contact, rule: RoutingRule, facts: Mapping[str, Any], why: str = "") -> Recipient:
    verdict = evaluate(rule, facts)
    reason = f"rule “{rule.name}”: {verdict.condition}" + (f"; {why}" if why else "")
    return Recipient(contact, rule, rule.name, reason, rule.ack_within)


def route_assessment(
    *, incident: Incident, assessment: Assessment, previous: int | None, rules: Sequence[RoutingRule] | None = None
) -> list[Notification]:
    """Tell whoever the rules name about a report (``previous`` None) or a reassessment.

    Call it in the assessment's transaction. On a rise, the rules for ``level_raised`` fire and
    everyone told about the incident before hears of the rise too. ``rules``: ``active_rules()``,
    when already read.
    """
    if previous is None:
        kind = Kind.REPORTED
    elif assessment.level > previous:
        kind = Kind.LEVEL_RAISED
    else:
        kind = Kind.REASSESSED
    facts = rule_facts(incident, level=assessment.level, facts=assessment.facts)
    plan: dict[int, Recipient] = {}
    fired: set[int] | None = None
    for rule in active_rules() if rules is None else rules:
        raised = kind == Kind.LEVEL_RAISED and Event.LEVEL_RAISED in rule.events
        if not (raised or Event.REPORTED in rule.events) or _verdict(rule, facts) is not True:
            continue
        if not raised:  # a "reported" rule fires the first time its condition holds
            if fired is None:
                fired = set(_delivered(incident).values_list("rule_id", flat=True))
            if rule.pk in fired:
                continue
        for contact in rule_recipients(rule):
            plan.setdefault(contact.pk, _rule_recipient(contact, rule, facts))
    if kind == Kind.LEVEL_RAISED:
        for told in _delivered(incident).select_related("contact__organisation", "rule").order_by("-created_at"):
            plan.setdefault(
                told.contact_id,
                Recipient(
                    told.contact,
                    told.rule,
                    told.rule_name,
                    f"told before under rule “{told.rule_name}”; the level rose",
                    told.rule.ack_within if told.rule else None,
                ),
            )
    if not plan:
        return []
    event = _new_event(
        incident, kind, f"assessment:{assessment.pk}", level=assessment.level, previous=previous, detail={}
    )
    if event is None:
        return []
    return _notify(event, plan.values())


def route_clock_event(*, incident: Incident, kind: str, key: str, detail: Mapping[str, Any]) -> list[Notification]:
    """Tell the rules' recipients that a response target was missed or a reporting deadline nears.

    ``kind`` is ``target_breached`` or ``regime_reminder``; ``key`` names the clock event once. A
    missed target goes to the **next tier**: for each organisation a rule names, the tier above
    the highest one already told about the incident (the rule's own tier if none was).
    """
    facts = rule_facts(incident)
    plan: dict[int, Recipient] = {}
    for rule in _active_rules(kind):
        if _verdict(rule, facts) is not True:
            continue
        if kind == Kind.TARGET_BREACHED:
            contacts = _next_tier_recipients(rule, incident)
            why = "the next tier, as a target or deadline was missed"
        else:
            contacts, why = rule_recipients(rule), ""
        for contact in contacts:
            plan.setdefault(contact.pk, _rule_recipient(contact, rule, facts, why))
    event = _new_event(incident, kind, key, level=incident.level, previous=None, detail=dict(detail)) if plan else None
    return _notify(event, plan.values()) if event else []


def _next_tier_recipients(rule: RoutingRule, incident: Incident) -> list[Contact]:
    told = dict(
        _delivered(incident)
        .values("contact__organisation")
        .annotate(top=Max("contact__tier"))
        .values_list("contact__organisation", "top")
    )
    out: dict[int, Contact] = {}
    organisations = {o.pk: rule.tier for o in rule.organisations.all()}
    for contact in rule.contacts.filter(active=True):
        if contact.organisation_id in told:
            organisations.setdefault(contact.organisation_id, rule.tier)
        else:
            out[contact.pk] = contact
    for organisation, tier in organisations.items():
        for contact in (
            _tier_above(organisation, told[organisation]) if organisation in told else _tier(organisation, tier)
        ):
            out.setdefault(contact.pk, contact)
    return list(out.values())


def _tier(organisation: int, tier: int) -> list[Contact]:
    return list(
        Contact.objects.filter(organisation=organisation, tier=tier, active=True).select_related("organisation")
    )


def _tier_above(organisation: int, tier: int) -> list[Contact]:
    """The organisation's active contacts of the lowest tier above ``tier`` (none at the top)."""
    above = Contact.objects.filter(organisation=organisation, tier__gt=tier, active=True)
    lowest = above.aggregate(lowest=Min("tier"))["lowest"]
    return [] if lowest is None else _tier(organisation, lowest)


def _delivered(incident: Incident) -> Any:
    """The incident's notifications that went (or are going) out: not those the TLP withheld."""
    return Notification.objects.filter(incident=incident).exclude(state=Notification.State.WITHHELD)


def _new_event(
    incident: Incident, kind: str, key: str, *, level: int, previous: int | None, detail: dict[str, Any]
) -> IncidentEvent | None:
    """The event, or None when it was routed already (the same key)."""
    try:
        with transaction.atomic():
            return IncidentEvent.objects.create(
                key=key,
                incident=incident,
                kind=kind,
                level=level,
                previous_level=previous,
                detail=detail,
                created_at=clock.now(),
            )
    except IntegrityError:
        return None


def idempotency_key(event: IncidentEvent, contact: Contact, channel: str) -> str:
    """The same for every attempt at one message: the event, the contact and the channel."""
    return hashlib.sha256(f"{event.key}|{contact.pk}|{channel}".encode()).hexdigest()


def address_of(contact: Contact, channel: str) -> str:
    return contact.email if channel == Channel.EMAIL else contact.webhook_url


def _notify(
    event: IncidentEvent, recipients: Iterable[Recipient], escalated_from: Notification | None = None
) -> list[Notification]:
    """Create each recipient's notifications (one per channel) and enqueue their delivery."""
    incident, now, scale = event.incident, clock.now(), national_scale()
    created = []
    for r in recipients:
        withheld = messages.withheld_reason(incident, r.contact)
        for channel in [c for c in r.contact.channels if address_of(r.contact, c)]:
            key = idempotency_key(event, r.contact, channel)
            if Notification.objects.filter(idempotency_key=key).exists():
                continue
            message = messages.render(
                incident=incident,
                event_kind=event.kind,
                level=event.level,
                previous_level=event.previous_level,
                detail=event.detail,
                contact=r.contact,
                rule_name=r.rule_name,
                ack_url=f"{settings.NCISS_BASE_URL}/ack/{ack_token(key, now)}",
                incident_url=f"{settings.NCISS_BASE_URL}/incidents/{incident.reference}/",
                key=key,
                scale=scale,
            )
            notification = Notification.objects.create(
                event=event,
                incident=incident,
                rule=r.rule,
                rule_name=r.rule_name,
                reason=f"{r.reason}; withheld: {withheld}" if withheld else r.reason,
                contact=r.contact,
                channel=channel,
                address=address_of(r.contact, channel),
                language=message.payload["language"],
                subject=message.subject,
                body=message.text,
                payload=message.payload,
                idempotency_key=key,
                state=Notification.State.WITHHELD if withheld else Notification.State.PENDING,
                created_at=now,
                ack_due_at=now + r.ack_within if r.ack_within and not withheld else None,
                escalated_from=escalated_from,
            )
            if not withheld:
                enqueue(kind=DELIVER, key=f"{DELIVER}:{key}", payload={"notification": notification.pk})
            created.append(notification)
    if created:
        record(
            None,
            "incident.notified",
            incident,
            {
                "event": event.kind,
                "key": event.key,
                "notifications": [
                    {"contact": n.contact.name, "channel": n.channel, "rule": n.rule_name, "state": n.state}
                    for n in created
                ],
            },
        )
        schedule_tick(now)
    return created


# ---------------------------------------------------------------- escalation


def escalate_unacknowledged(now: dt.datetime) -> list[Notification]:
    """Tell the next tier about every notification of an open incident not acknowledged by its deadline."""
    overdue = (
        Notification.objects.filter(
            ack_due_at__lte=now, acknowledged_at=None, escalated_at=None, incident__status__in=OPEN_STATUSES
        )
        .exclude(state=Notification.State.WITHHELD)
        .select_related("contact__organisation", "rule", "event", "incident")
        .order_by("ack_due_at", "id")
    )
    created: list[Notification] = []
    seen: set[tuple[int, int]] = set()
    for late in overdue:
        pair = (late.event_id, late.contact_id)
        if pair in seen:
            continue
        seen.add(pair)
        with transaction.atomic():
            claimed = Notification.objects.filter(
                event=late.event_id, contact=late.contact_id, acknowledged_at=None, escalated_at=None
            ).update(escalated_at=now)
            if not claimed:
                continue  # acknowledged or escalated meanwhile
            contact = late.contact
            waited = late.ack_due_at - late.created_at if late.ack_due_at else dt.timedelta(0)
            why = (
                f"{contact.name} (tier {contact.tier}) did not acknowledge "
                f"“{late.event.get_kind_display()}” within {waited}"
            )
            recipients = [
                Recipient(
                    c, late.rule, late.rule_name, f"escalation: {why}", late.rule.ack_within if late.rule else None
                )
                for c in _tier_above(contact.organisation_id, contact.tier)
            ]
            if not recipients:
                continue  # the top of the organisation's tiers: marked escalated, nobody more to tell
            event = _new_event(
                late.incident,
                Kind.UNACKNOWLEDGED,
                f"unacknowledged:{late.event_id}:{contact.pk}",
                level=late.incident.level,
                previous=None,
                detail={"contact": contact.name, "organisation": contact.organisation.name, "after": str(waited)},
            )
            if event is None:
                continue
            created += _notify(event, recipients, escalated_from=late)
    return created


@dataclass
class TickSummary:
    clock_events: int = 0
    notifications: int = 0
    escalations: int = 0


def tick(now: dt.datetime | None = None) -> TickSummary:
    """Route the clock events that fell due and escalate what was not acknowledged in time.

    The clock events are routed and marked signalled in one transaction, so that each goes out
    once even with several workers (the second one's transaction fails and is retried).
    """
    now = now or clock.now()
    summary = TickSummary()
    with transaction.atomic():
        events = incident_clocks.due_clock_events(now)
        for clock_event in events:
            kind = Kind.TARGET_BREACHED if clock_event.kind == "breach" else Kind.REGIME_REMINDER
            lead = clock_event.key[4]
            summary.notifications += len(
                route_clock_event(
                    incident=clock_event.incident,
                    kind=kind,
                    key=f"clock:{clock_event.incident.pk}:{clock_event.clock}:{clock_event.kind}:"
                    f"{clock_event.due.isoformat()}:{lead}",
                    detail={
                        "clock": clock_event.clock,
                        "name": dict(clock_event.name),
                        "due": clock_event.due.isoformat(),
                    },
                )
            )
        incident_clocks.mark_signalled(events, now)
    summary.clock_events = len(events)
    summary.escalations = len(escalate_unacknowledged(now))
    return summary


def schedule_tick(after: dt.datetime) -> None:
    """Make sure a tick is due: unless one is waiting, one at the first slot after ``after``.

    Slots are multiples of NCISS_NOTIFY_TICK_SECONDS, and a slot's job key is the same whoever
    asks, so that processes asking at once agree on one tick.
    """
    if Job.objects.filter(kind=TICK, state=Job.State.PENDING).exists():
        return
    interval = max(1, int(settings.NCISS_NOTIFY_TICK_SECONDS))
    seconds = int(after.timestamp()) // interval * interval + interval
    slot = dt.datetime.fromtimestamp(seconds, dt.UTC)
    enqueue(kind=TICK, key=f"{TICK}:{slot.isoformat()}", payload={}, run_after=slot)


# ---------------------------------------------------------------- acknowledgement


def ack_token(key: str, issued: dt.datetime) -> str:
    """The signed acknowledgement link's token of the notification with idempotency key ``key``."""
    return signing.dumps({"k": key, "t": int(issued.timestamp())}, salt=ACK_SALT)


def notification_for_token(token: str) -> Notification:
    """The notification a link names; ServiceError when the link was altered, has expired or names none."""
    try:
        data = signing.loads(token, salt=ACK_SALT)
    except signing.BadSignature:
        raise ServiceError([("token", "this link is not valid: it was changed or cut short")]) from None
    issued = dt.datetime.fromtimestamp(int(data.get("t", 0)), dt.UTC)
    if clock.now() - issued > dt.timedelta(days=settings.NCISS_ACK_LINK_DAYS):
        raise ServiceError([("token", "this link has expired: acknowledge on the platform or call the CSIRT")])
    notification = (
        Notification.objects.select_related("incident", "contact__organisation")
        .filter(idempotency_key=data.get("k"))
        .first()
    )
    if notification is None:
        raise ServiceError([("token", "this link names no notification")])
    return notification


def acknowledge(*, notification: Notification, actor: User | None, via: str) -> Notification:
    """Acknowledge a notification (and its copies on the contact's other channels).

    ``actor`` None is the contact by the signed link; a signed-in actor must be CSIRT staff
    (acknowledging on a contact's behalf, e.g. after a call). Acknowledging twice changes nothing.
    """
    if actor is not None and not access.may_acknowledge(actor):
        raise NotAllowed("only the CSIRT's analysts and coordinators acknowledge on a contact's behalf")
    now = clock.now()
    with transaction.atomic():
        changed = Notification.objects.filter(
            event=notification.event_id, contact=notification.contact_id, acknowledged_at=None
        ).update(acknowledged_at=now, acknowledged_by=actor, acknowledged_via=via)
        if changed:
            record(
                actor,
                "notification.acknowledged",
                notification.incident,
                {"contact": notification.contact.name, "event": notification.event.key, "via": via},
            )
    notification.refresh_from_db()
    return notification


# ---------------------------------------------------------------- the directory


CONTACT_FIELDS = (
    "name",
    "organisation",
    "function",
    "email",
    "webhook_url",
    "webhook_secret",
    "channels",
    "language",
    "tier",
    "active",
)
RULE_FIELDS = ("name", "description", "condition", "events", "tier", "ack_within", "active", "order")


def save_contact(*, actor: User, contact: Contact | None = None, **fields: Any) -> Contact:
    """Create a contact, or change ``contact``; ``fields`` among CONTACT_FIELDS."""
    _require_editor(actor)
    target = contact or Contact()
    for name, value in fields.items():
        if name not in CONTACT_FIELDS:
            raise ServiceError([(name, "not a field of a contact")])
        setattr(target, name, value)
    _check_contact(target)
    with transaction.atomic():
        created = target.pk is None
        target.save()
        record(
            actor,
            "contact.created" if created else "contact.changed",
            target,
            {
                "name": target.name,
                "organisation": target.organisation.slug,
                "tier": target.tier,
                "active": target.active,
            },
        )
    return target


def _check_contact(contact: Contact) -> None:
    errors: list[tuple[str, str]] = []
    if not contact.name.strip():
        errors.append(("name", "required"))
    if contact.organisation_id is None:
        errors.append(("organisation", "required"))
    channels = contact.channels
    if not isinstance(channels, list) or not channels or any(c not in Channel.values for c in channels):
        errors.append(("channels", f"one or more of {', '.join(Channel.values)}"))
    else:
        if Channel.EMAIL in channels and not contact.email:
            errors.append(("email", "required for the e-mail channel"))
        if Channel.WEBHOOK in channels and not (contact.webhook_url and contact.webhook_secret):
            errors.append(("webhook_url", "a URL and a secret are required for the webhook channel"))
    if contact.webhook_url and not contact.webhook_url.lower().startswith(("https://", "http://")):
        errors.append(("webhook_url", "an http(s) URL"))
    if contact.language not in dict(settings.LANGUAGES):
        errors.append(("language", f"one of {', '.join(code for code, _ in settings.LANGUAGES)}"))
    if not isinstance(contact.tier, int) or contact.tier < 1:
        errors.append(("tier", "a whole number from 1"))
    if errors:
        raise ServiceError(errors)


def save_rule(
    *,
    actor: User,
    rule: RoutingRule | None = None,
    organisations: Sequence[Organisation] | None = None,
    contacts: Sequence[Contact] | None = None,
    **fields: Any,
) -> RoutingRule:
    """Create a routing rule, or change ``rule``; ``fields`` among RULE_FIELDS, recipients as lists."""
    _require_editor(actor)
    target = rule or RoutingRule()
    for name, value in fields.items():
        if name not in RULE_FIELDS:
            raise ServiceError([(name, "not a field of a routing rule")])
        setattr(target, name, value)
    orgs = list(organisations) if organisations is not None else (list(target.organisations.all()) if target.pk else [])
    people = list(contacts) if contacts is not None else (list(target.contacts.all()) if target.pk else [])
    _check_rule(target, orgs, people)
    with transaction.atomic():
        created = target.pk is None
        target.save()
        target.organisations.set(orgs)
        target.contacts.set(people)
        schedule_tick(clock.now())  # escalations and clock events need the periodic check from now on
        record(
            actor,
            "routing_rule.created" if created else "routing_rule.changed",
            target,
            {
                "name": target.name,
                "condition": target.condition,
                "events": target.events,
                "organisations": sorted(o.slug for o in orgs),
                "contacts": sorted(c.pk for c in people),
                "tier": target.tier,
                "active": target.active,
            },
        )
    return target


def _check_rule(rule: RoutingRule, organisations: list[Organisation], contacts: list[Contact]) -> None:
    errors: list[tuple[str, str]] = []
    if not rule.name.strip():
        errors.append(("name", "required"))
    elif RoutingRule.objects.filter(name=rule.name.strip()).exclude(pk=rule.pk).exists():
        errors.append(("name", "another rule has this name"))
    try:
        parse_rule_condition(rule.condition)
    except ConditionError as exc:
        errors += exc.errors
    events = rule.events
    if not isinstance(events, list) or not events or any(e not in Event.values for e in events):
        errors.append(("events", f"one or more of {', '.join(Event.values)}"))
    if not organisations and not contacts:
        errors.append(("recipients", "name at least one organisation or contact"))
    if not isinstance(rule.tier, int) or rule.tier < 1:
        errors.append(("tier", "a whole number from 1"))
    if rule.ack_within is not None and rule.ack_within <= dt.timedelta(0):
        errors.append(("ack_within", "a positive duration, or none"))
    if errors:
        raise ServiceError(errors)


def _require_editor(actor: User) -> None:
    if not access.may_edit_directory(actor):
        raise NotAllowed("only coordinators and administrators change the directory and the routing rules")
