"""Sharing incidents with partner organisations abroad, one function per change.

Only the CSIRT's analysts and coordinators share, and only with organisations of kind
partner. Each recipient organisation gets its own :class:`Share`: the incident frozen as an
:class:`IncidentRecord` on that organisation's preferred scale (``snapshots.partner_record``).
The TLP decides who at the partner sees it (``access.shares_visible_to``): TLP:RED only the
people named, who must work at the recipient organisations (at least one at each);
TLP:AMBER+STRICT and every other label, the recipient organisation's own people only. The
reporting organisation is named abroad only if it agreed (``Incident.reporter_may_be_named``);
an anonymous share's title and description must not name it either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from django.db import transaction
from django.db.models import QuerySet

import nciss
from nciss.interop import IncidentRecord
from nciss.interop.stix import incident_id
from nciss_platform import clock
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.services import record
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents import access
from nciss_platform.incidents.models import TLP, Incident, TimelineEntry
from nciss_platform.scales.services import find_scale
from nciss_platform.sharing.access import shares_visible_to
from nciss_platform.sharing.models import PartnerGroup, Share
from nciss_platform.sharing.snapshots import partner_record


def share_incident(
    *,
    incident: Incident,
    actor: User,
    organisations: Iterable[Organisation] = (),
    group: PartnerGroup | None = None,
    recipients: Iterable[User] = (),
    identify_reporter: bool = False,
    title: str | None = None,
    description: str | None = None,
) -> list[Share]:
    """Share the incident with each partner organisation named and each of ``group``'s; one Share each."""
    if not access.can_manage(actor):
        raise NotAllowed("only the CSIRT's analysts and coordinators share incidents with partners")
    if not access.can_see(actor, incident):
        raise NotAllowed(f"{incident.reference} is TLP:RED and you are not named on it")
    targets = {o.pk: o for o in organisations}
    errors: list[tuple[str, str]] = []
    if group is not None:
        members = list(group.organisations.all())
        if not members:
            errors.append(("group", f"{group.name} has no organisations"))
        targets.update((o.pk, o) for o in members)
    elif not targets:
        errors.append(("organisations", "choose at least one partner organisation or a group"))
    errors += _partner_errors(targets.values())
    named = list(dict.fromkeys(recipients))
    errors += _recipient_errors(incident.tlp, named, targets.values())
    if identify_reporter and not incident.reporter_may_be_named:
        errors.append(("identify_reporter", "the reporting organisation has not agreed to be named abroad"))
    title = incident.title if title is None else title.strip()
    description = incident.description if description is None else description.strip()
    if not title:
        errors.append(("title", "required"))
    if not identify_reporter:
        errors += _naming_errors(incident, {"title": title, "description": description})
    if errors:
        raise ServiceError(errors)
    now = clock.now()
    shares = []
    with transaction.atomic():
        for organisation in sorted(targets.values(), key=lambda o: o.name):
            snapshot = partner_record(incident, organisation, identify_reporter, title=title, description=description)
            share = Share.objects.create(
                incident=incident,
                organisation=organisation,
                group=group,
                shared_by=actor,
                shared_at=now,
                tlp=incident.tlp,
                identifies_reporter=identify_reporter,
                record=json.loads(json.dumps(snapshot.to_json())),  # as the database gives it back
                stix_id=incident_id(snapshot),  # every share of the incident: a version of one STIX object
            )
            share.recipients.set([u for u in named if u.organisation_id == organisation.pk])
            shares.append(share)
        summary = {
            "shared_with": [s.organisation.name for s in shares],
            "group": group.name if group else None,
            "tlp": incident.tlp,
            "recipients": sorted(u.username for u in named),
            "identifies_reporter": identify_reporter,
            "levels": [_level_sent(s) for s in shares],
        }
        TimelineEntry.objects.create(
            incident=incident, kind=TimelineEntry.Kind.TLP, author=actor, created_at=now, data=summary
        )
        record(
            actor,
            "incident.shared",
            incident,
            {**summary, "organisations": [s.organisation.slug for s in shares], "shares": [s.pk for s in shares]},
        )
    return shares


def _partner_errors(organisations: Iterable[Organisation]) -> list[tuple[str, str]]:
    errors = []
    for organisation in organisations:
        if organisation.kind != Organisation.Kind.PARTNER:
            errors.append(("organisations", f"{organisation.name} is not a partner organisation abroad"))
            continue
        try:
            find_scale(organisation.scale_id)
        except nciss.ScaleError:
            errors.append(("organisations", f"{organisation.name} prefers {organisation.scale_id!r}, no scale here"))
    return errors


def _recipient_errors(tlp: str, named: list[User], organisations: Iterable[Organisation]) -> list[tuple[str, str]]:
    if tlp != TLP.RED:
        if named:
            return [("recipients", f"only TLP:RED names its readers: everyone at the partner sees a {tlp} share")]
        return []
    targets = list(organisations)
    if not named:
        return [("recipients", "TLP:RED: name the people at each partner organisation who may read it")]
    errors = []
    at_targets = {o.pk for o in targets}
    for user in named:
        if user.organisation_id not in at_targets or not user.is_active:
            errors.append(("recipients", f"{user.username} does not work at an organisation it is shared with"))
    for organisation in targets:
        if not any(u.organisation_id == organisation.pk for u in named):
            errors.append(("recipients", f"TLP:RED: name at least one person at {organisation.name}"))
    return errors


def organisation_names(incident: Incident) -> list[str]:
    """The names an anonymous share must not mention: the reporting and affected organisations'."""
    organisations = [incident.reporting_organisation, *incident.affected_organisations.all()]
    names = []
    for organisation in organisations:
        if organisation.kind == Organisation.Kind.CSIRT:
            continue  # the sender itself
        names += [organisation.name, organisation.name.split(" (")[0]]
    return list(dict.fromkeys(n.strip() for n in names if n.strip()))


def _naming_errors(incident: Incident, texts: dict[str, str]) -> list[tuple[str, str]]:
    errors = []
    for path, text in texts.items():
        for name in organisation_names(incident):
            if name.casefold() in text.casefold():
                errors.append((path, f"names {name}: rewrite it, or identify the reporter (if it agreed)"))
                break
    return errors


def _level_sent(share: Share) -> str:
    partner = share.record["assessments"][-1]
    return f"{share.organisation.slug}: {partner['scale_id']} {partner['name']} ({partner['basis']})"


def revoke_share(*, share: Share, actor: User) -> Share:
    """Withdraw the incident from the share's organisation: this share and its earlier versions."""
    if not access.can_manage(actor):
        raise NotAllowed("only the CSIRT's analysts and coordinators revoke shares")
    if share.revoked_at is not None:
        raise ServiceError([("share", "already revoked")])
    now = clock.now()
    with transaction.atomic():
        withdrawn = Share.objects.filter(
            incident=share.incident_id,
            organisation=share.organisation_id,
            shared_at__lte=share.shared_at,
            revoked_at__isnull=True,
        )
        ids = sorted(withdrawn.values_list("pk", flat=True))
        withdrawn.update(revoked_at=now)
        share.revoked_at = now
        data = {"revoked_from": share.organisation.name, "shares": ids}
        TimelineEntry.objects.create(
            incident=share.incident, kind=TimelineEntry.Kind.TLP, author=actor, created_at=now, data=data
        )
        record(actor, "incident.share_revoked", share.incident, {**data, "organisation": share.organisation.slug})
    return share


def set_naming_consent(*, incident: Incident, actor: User, agreed: bool) -> Incident:
    """Record whether the reporting organisation agrees to be named in shares abroad.

    Its own people say so; the CSIRT's staff record what it told them.
    """
    own = actor.organisation_id is not None and actor.organisation_id == incident.reporting_organisation_id
    if not (access.can_manage(actor) or own):
        raise NotAllowed("only the reporting organisation or the CSIRT records its consent to be named")
    if incident.reporter_may_be_named == agreed:
        return incident
    with transaction.atomic():
        incident.reporter_may_be_named = agreed
        incident.save(update_fields=["reporter_may_be_named", "updated_at"])
        TimelineEntry.objects.create(
            incident=incident,
            kind=TimelineEntry.Kind.TLP,
            author=actor,
            created_at=clock.now(),
            data={"naming_consent": agreed},
        )
        record(actor, "incident.naming_consent_changed", incident, {"reporter_may_be_named": agreed})
    return incident


def records_for(user: User) -> Iterator[IncidentRecord]:
    """What ``user`` may receive, newest share first: the latest share of each incident it sees."""
    yield from _latest_records(shares_visible_to(user))


def records_for_organisation(organisation: Organisation) -> Iterator[IncidentRecord]:
    """What was shared with ``organisation`` as a whole, newest first: never TLP:RED (named people only)."""
    shares = Share.objects.filter(organisation=organisation, revoked_at__isnull=True).exclude(tlp=TLP.RED)
    yield from _latest_records(shares)


def _latest_records(shares: QuerySet[Share]) -> Iterator[IncidentRecord]:
    seen: set[int] = set()
    for share in shares.order_by("-shared_at", "-id").only("incident_id", "record"):
        if share.incident_id not in seen:
            seen.add(share.incident_id)
            yield IncidentRecord.from_json(share.record)
