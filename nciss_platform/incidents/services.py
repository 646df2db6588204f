"""Every change to an incident, one function each.

Each function takes keyword arguments with an explicit ``actor``, checks that the
actor may act, validates, writes in one transaction with a timeline entry and an
audit event, and never sees a request, form or serializer. A report is committed
before it is assessed, so a failing assessment never loses a report.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction

import nciss
from nciss.clocks import (
    AROUND_THE_CLOCK,
    STEPS,
    BusinessCalendar,
    CalendarError,
    Pause,
    TargetStatus,
    response_clocks,
)
from nciss.deadlines import DeadlineStatus, reporting_deadlines
from nciss_platform import clock
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.services import deferred, record
from nciss_platform.bulk import create_objects, update_rows
from nciss_platform.calibration import versions
from nciss_platform.campaigns.schedule import schedule_correlation
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents import access
from nciss_platform.incidents.models import (
    PAP,
    TLP,
    Assessment,
    Attachment,
    ClockPause,
    Incident,
    ReferenceCounter,
    TimelineEntry,
)
from nciss_platform.incidents.workflow import OPEN_STATUSES, Status, may_move, next_statuses
from nciss_platform.notifications import services as notifications

logger = logging.getLogger(__name__)


@dataclass
class _Batch:
    calendar: BusinessCalendar | None = None
    correlate: bool = False


_batch: ContextVar[_Batch | None] = ContextVar("incident_batch", default=None)


@contextlib.contextmanager
def batch_of_changes() -> Iterator[None]:
    """Many incident changes in one transaction (a batch of feed events), for the price of fewer queries.

    Inside the block the national scale and the CSIRT's calendar are resolved once, the audit
    events are appended to the chain at its end (``audit.services.deferred``: its head is locked
    only then), and a correlation run is asked for once. Same incidents, assessments, timeline,
    notifications and audit events as one call at a time.
    """
    if _batch.get() is not None:
        yield
        return
    state = _Batch()
    token = _batch.set(state)
    try:
        with versions.pinned_national_scale(), deferred():
            yield
            if state.correlate:
                schedule_correlation()
    finally:
        _batch.reset(token)


def correlate_later() -> None:
    """Ask for a correlation run (campaigns): at once, or once at the end of a batch of changes."""
    state = _batch.get()
    if state is None:
        schedule_correlation()
    else:
        state.correlate = True


def national_scale() -> nciss.Scale:
    """The national scale's version in effect (calibration.versions: published versions, else the preset)."""
    return versions.national_scale()


def _parse_time(value: Any, field: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            raise ServiceError([(field, "expected an ISO 8601 date-time with an offset")]) from None
    if moment.tzinfo is None:
        raise ServiceError([(field, "expected an ISO 8601 date-time with an offset")])
    return moment


def _validated(facts: dict[str, Any]) -> dict[str, Any]:
    scale = national_scale()
    try:
        clean = nciss.validate_facts(facts, extra_sectors=scale.national_sectors)
    except nciss.FactsError as e:
        raise ServiceError([(f"facts.{p}", r) for p, r in e.errors]) from None
    classification = clean.get("classification")
    if classification is not None and classification not in scale.taxonomy_types:
        raise ServiceError([("facts.classification", f"{classification!r} is not in the taxonomy (RSIT class:type)")])
    return clean


def _next_references(now: dt.datetime, count: int) -> list[str]:
    """``count`` new references of the year, in order (NCISS-2026-000042 ...)."""
    last = _count_references(now.year, count)
    if last is None:  # the year's first report
        ReferenceCounter.objects.get_or_create(year=now.year)
        last = _count_references(now.year, count)
    assert last is not None
    return [f"NCISS-{now.year}-{number:06d}" for number in range(last - count + 1, last + 1)]


def _count_references(year: int, count: int) -> int | None:
    """Add ``count`` to the year's counter and return it, in one query that locks the counter's row (None: no row)."""
    table, last, key = map(connection.ops.quote_name, (ReferenceCounter._meta.db_table, "last", "year"))
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {last} = {last} + %s WHERE {key} = %s RETURNING {last}", [count, year])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _timeline_row(incident: Incident, kind: str, actor: User | None, body: str = "", **data: Any) -> TimelineEntry:
    return TimelineEntry(incident=incident, kind=kind, author=actor, created_at=clock.now(), body=body, data=data)


def _entry(incident: Incident, kind: str, actor: User | None, body: str = "", **data: Any) -> TimelineEntry:
    entry = _timeline_row(incident, kind, actor, body, **data)
    entry.save()
    return entry


# ---------------------------------------------------------------- reporting


@dataclass
class NewReport:
    """One report for ``report_incidents``: what ``report_incident`` takes besides its actor."""

    title: str
    facts: dict[str, Any]
    description: str = ""
    reporting_organisation: Organisation | None = None
    affected_organisations: Sequence[Organisation] = ()
    tlp: str = TLP.AMBER
    pap: str = PAP.AMBER
    red_recipients: Sequence[User] = ()
    reporter_may_be_named: bool = False
    entity_from_profile: bool = True


def report_incident(
    *,
    actor: User,
    title: str,
    facts: dict[str, Any],
    description: str = "",
    reporting_organisation: Organisation | None = None,
    affected_organisations: Iterable[Organisation] = (),
    tlp: str = TLP.AMBER,
    pap: str = PAP.AMBER,
    red_recipients: Iterable[User] = (),
    reporter_may_be_named: bool = False,
    entity_from_profile: bool = True,
) -> Incident:
    """Store a new report, then assess it on the national scale.

    The entity facts default from the affected organisation's profile unless
    ``entity_from_profile`` is false (imported records describe entities of their own).
    """
    report = NewReport(
        title=title,
        facts=facts,
        description=description,
        reporting_organisation=reporting_organisation,
        affected_organisations=list(affected_organisations),
        tlp=tlp,
        pap=pap,
        red_recipients=list(red_recipients),
        reporter_may_be_named=reporter_may_be_named,
        entity_from_profile=entity_from_profile,
    )
    return report_incidents(actor=actor, reports=[report])[0]


@dataclass
class _Checked:
    """A report that passed validation: its organisation, affected organisations, facts and times."""

    report: NewReport
    organisation: Organisation
    affected: list[Organisation]
    facts: dict[str, Any]
    occurred_at: dt.datetime | None
    detected_at: dt.datetime | None


def report_incidents(*, actor: User, reports: Sequence[NewReport]) -> list[Incident]:
    """Store new reports (all or none), then assess them on the national scale, in few queries.

    Same incidents, timeline, audit events and notifications as ``report_incident`` for each (a
    batch of feed events opens dozens at once). The errors of one report among several are
    named ``reports[i].field``.
    """
    if not reports:
        return []
    checked: list[_Checked] = []
    errors: list[tuple[str, str]] = []
    for index, report in enumerate(reports):
        try:
            checked.append(_checked_report(actor, report))
        except ServiceError as e:
            prefix = f"reports[{index}]." if len(reports) > 1 else ""
            errors += [(prefix + path, reason) for path, reason in e.errors]
    if errors:
        raise ServiceError(errors)
    scale = national_scale()
    now = clock.now()
    created = [
        Incident(
            title=item.report.title.strip(),
            description=item.report.description,
            reporting_organisation=item.organisation,
            classification=item.facts.get("classification", ""),
            facts=item.facts,
            tlp=item.report.tlp,
            pap=item.report.pap,
            reporter_may_be_named=item.report.reporter_may_be_named,
            created_by=actor,
            sector=item.facts.get("sector", ""),
            occurred_at=item.occurred_at,
            detected_at=item.detected_at or now,
            reported_at=now,
        )
        for item in checked
    ]
    # assessed before they are stored, so that each is written once, and the year's reference
    # counter (locked until the transaction ends) is taken after the engine's work, not before
    try:
        results = _assessed(created, scale, now, pauses={})
    except Exception:
        for incident in created:  # kept unassessed, as any report is: assess_incident tries again
            incident.level, incident.score, incident.reachable_max, incident.due_at = 0, None, 0, None
        _store_reports(actor, checked, created, now)
        raise
    with transaction.atomic():
        _store_reports(actor, checked, created, now)
        _keep_assessments(created, results, [None] * len(created), scale, actor, note="", now=now)
    return created


def _store_reports(actor: User, checked: Sequence[_Checked], incidents: Sequence[Incident], now: dt.datetime) -> None:
    """Give the new incidents their references and store them, with their organisations, recipients,
    "reported" timeline entries and audit events."""
    with transaction.atomic():
        for incident, reference in zip(incidents, _next_references(now, len(incidents)), strict=True):
            incident.reference = reference
        create_objects(incidents)
        affected = Incident.affected_organisations.through
        red = Incident.red_recipients.through
        affected.objects.bulk_create(
            affected(incident_id=incident.pk, organisation_id=organisation.pk)
            for incident, item in zip(incidents, checked, strict=True)
            if item.affected or item.report.entity_from_profile
            for organisation in dict.fromkeys(item.affected or [item.organisation])
        )
        red.objects.bulk_create(
            red(incident_id=incident.pk, user_id=user.pk)
            for incident, item in zip(incidents, checked, strict=True)
            if item.report.tlp == TLP.RED
            for user in dict.fromkeys([actor, *item.report.red_recipients])
        )
        create_objects(
            [
                _timeline_row(incident, TimelineEntry.Kind.REPORTED, actor, incident.description)
                for incident in incidents
            ]
        )
        for incident in incidents:
            record(
                actor,
                "incident.reported",
                incident,
                {"reference": incident.reference, "facts": incident.facts, "tlp": incident.tlp},
            )
        correlate_later()  # campaigns: a durable job, committed with the reports


def _checked_report(actor: User, report: NewReport) -> _Checked:
    errors: list[tuple[str, str]] = []
    if not report.title.strip():
        errors.append(("title", "required"))
    if report.tlp not in TLP.values:
        errors.append(("tlp", f"must be one of {', '.join(TLP.values)}"))
    if report.pap not in PAP.values:
        errors.append(("pap", f"must be one of {', '.join(PAP.values)}"))
    organisation = report.reporting_organisation or actor.organisation
    if organisation is None:
        errors.append(("reporting_organisation", "required: the user belongs to no organisation"))
    elif organisation != actor.organisation and not actor.is_csirt_staff:
        raise NotAllowed("reporters report for their own organisation")
    affected = list(report.affected_organisations)
    times = {name: _time_or_error(report.facts.get(name), name, errors) for name in ("occurred_at", "detected_at")}
    if errors:
        raise ServiceError(errors)
    assert organisation is not None
    profile = (affected[0] if affected else organisation).entity_facts() if report.entity_from_profile else {}
    merged = {**profile, **{k: v for k, v in report.facts.items() if v is not None}}
    if len(affected) > 1 and "organisations_affected" not in merged:
        merged["organisations_affected"] = len(affected)
    return _Checked(report, organisation, affected, _validated(merged), times["occurred_at"], times["detected_at"])


def _time_or_error(value: Any, field: str, errors: list[tuple[str, str]]) -> dt.datetime | None:
    try:
        return _parse_time(value, f"facts.{field}")
    except ServiceError as e:
        errors.extend(e.errors)
        return None


# ---------------------------------------------------------------- assessing


def assess_incident(*, incident: Incident, actor: User | None, note: str = "") -> Assessment:
    """Assess the incident's facts on the national scale and keep the snapshot (``assess_incidents`` of one)."""
    return assess_incidents(incidents=[incident], actor=actor, note=note)[0]


def assess_incidents(*, incidents: Sequence[Incident], actor: User | None, note: str = "") -> list[Assessment]:
    """Assess each incident's facts on the national scale and keep the snapshots, in few queries.

    Each gets its assessment, new level and response target, a timeline entry, an audit event and
    the notifications its routing rules call for (``report_incidents`` does the same for new ones).
    """
    if not incidents:
        return []
    scale = national_scale()
    now = clock.now()
    with transaction.atomic():
        ids = [incident.pk for incident in incidents]
        assessed = set(Assessment.objects.filter(incident__in=ids).values_list("incident_id", flat=True))
        previous = [incident.level if incident.pk in assessed else None for incident in incidents]
        results = _assessed(incidents, scale, now, pauses=_pauses_of(ids))
        update_rows(incidents, ["level", "score", "reachable_max", "due_at", "updated_at"])
        return _keep_assessments(incidents, results, previous, scale, actor, note=note, now=now)


def _assessed(
    incidents: Sequence[Incident], scale: nciss.Scale, now: dt.datetime, pauses: dict[int, list[Pause]]
) -> list[nciss.Assessment]:
    """Assess each incident's facts on ``scale`` and set its level, score, reachable maximum and due time."""
    results = [nciss.assess(scale, incident.facts) for incident in incidents]
    for incident, result in zip(incidents, results, strict=True):
        incident.level, incident.score, incident.reachable_max = result.rank, result.score, result.reachable_max
        incident.due_at = _due_at(incident, scale, pauses=pauses.get(incident.pk, []))
        incident.updated_at = now
    return results


def _keep_assessments(
    incidents: Sequence[Incident],
    results: Sequence[nciss.Assessment],
    previous: Sequence[int | None],
    scale: nciss.Scale,
    actor: User | None,
    note: str,
    now: dt.datetime,
) -> list[Assessment]:
    """Store the incidents' assessments (``previous``: each one's level before, None for a first), with
    their timeline entries, audit events and the notifications their routing rules call for."""
    assessments = create_objects(
        [
            Assessment(
                incident=incident,
                scale_id=scale.id,
                scale_version=scale.version,
                facts=incident.facts,
                result=result.to_dict(),
                level=result.rank,
                score=result.score,
                created_by=actor,
                created_at=now,
            )
            for incident, result in zip(incidents, results, strict=True)
        ]
    )
    create_objects(
        [
            _timeline_row(
                incident,
                TimelineEntry.Kind.ASSESSMENT,
                actor,
                note,
                level=incident.level,
                previous=before,
                score=incident.score,
                scale=scale.id,
                version=scale.version,
            )
            for incident, before in zip(incidents, previous, strict=True)
        ]
    )
    rules = notifications.active_rules()
    for incident, assessment, before in zip(incidents, assessments, previous, strict=True):
        record(
            actor,
            "incident.assessed",
            incident,
            {"level": incident.level, "previous": before, "scale": scale.id, "version": scale.version},
        )
        # in the assessment's transaction: the notifications exist exactly when the assessment does
        notifications.route_assessment(incident=incident, assessment=assessment, previous=before, rules=rules)
    return assessments


def _pauses_of(ids: Collection[int]) -> dict[int, list[Pause]]:
    """Each incident's clock pauses (started, ended or None)."""
    pauses: dict[int, list[Pause]] = {}
    for incident, started, ended in ClockPause.objects.filter(incident__in=ids).values_list(
        "incident_id", "started_at", "ended_at"
    ):
        pauses.setdefault(incident, []).append((started, ended))
    return pauses


def _due_at(incident: Incident, scale: nciss.Scale, pauses: list[Pause] | None = None) -> dt.datetime | None:
    """When the incident's current response target falls due (None once it is no longer open).

    Business hours and pauses count (``response_clocks_of``; ``pauses`` when already known); while
    paused, the due time if the clocks started again now.
    """
    if incident.status not in OPEN_STATUSES:
        return None
    if incident.status == Status.REPORTED:
        step = "triage"
    elif incident.first_response_at is None:
        step = "first_response"
    else:
        step = "resolution"
    targets = response_clocks_of(incident, clock.now(), scale=scale, pauses=pauses, steps=(step,))
    return targets[0].due if targets else None


# ---------------------------------------------------------------- response clocks


def response_calendar() -> BusinessCalendar:
    """The national CSIRT's business hours, which business-hours response targets count.

    The ``reporting_calendar`` of the CSIRT organisation of the deployment's country
    (NCISS_COUNTRY; the first one created if there are several); around the clock when
    there is none, it has no calendar, or its calendar is invalid (logged). Read once per
    ``batch_of_changes``.
    """
    state = _batch.get()
    if state is not None:
        if state.calendar is None:
            state.calendar = _read_response_calendar()
        return state.calendar
    return _read_response_calendar()


def _read_response_calendar() -> BusinessCalendar:
    raw = (
        Organisation.objects.filter(kind=Organisation.Kind.CSIRT, country=settings.NCISS_COUNTRY)
        .order_by("pk")
        .values_list("reporting_calendar", flat=True)
        .first()
    )
    try:
        return BusinessCalendar.from_json(raw)
    except CalendarError as e:
        logger.warning("the national CSIRT's calendar is invalid, response clocks run around the clock: %s", e)
        return AROUND_THE_CLOCK


def response_clocks_of(
    incident: Incident,
    now: dt.datetime,
    *,
    scale: nciss.Scale | None = None,
    calendar: BusinessCalendar | None = None,
    pauses: list[Pause] | None = None,
    steps: Collection[str] = STEPS,
) -> list[TargetStatus]:
    """Where each response target of the incident's level stands at ``now`` (nciss.clocks.response_clocks)."""
    scale = scale or national_scale()
    if pauses is None:
        pauses = list(ClockPause.objects.filter(incident=incident).values_list("started_at", "ended_at"))
    done = {
        "triage": incident.triaged_at,
        "first_response": incident.first_response_at,
        "resolution": incident.resolved_at,
    }
    return response_clocks(
        scale.levels[min(incident.level, scale.top)],
        incident.reported_at,
        done,
        pauses,
        calendar or response_calendar(),
        now,
        stopped=_stopped_at(incident),
        steps=steps,
    )


def _stopped_at(incident: Incident) -> dt.datetime | None:
    """When a closed, rejected or merged incident stopped being open (None while it is open)."""
    if incident.status in OPEN_STATUSES:
        return None
    last_move = (
        incident.timeline.filter(kind=TimelineEntry.Kind.STATUS, data__has_key="to")
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    return incident.resolved_at or last_move or incident.updated_at


def _end_pause(incident: Incident, at: dt.datetime) -> None:
    ClockPause.objects.filter(incident=incident, ended_at__isnull=True).update(ended_at=at)


def update_facts(*, incident: Incident, actor: User, changes: dict[str, Any], note: str = "") -> Incident:
    """Change some facts (``None`` removes one) and assess again."""
    _require_information_right(actor, incident)
    merged = {**incident.facts, **changes}
    clean = _validated({k: v for k, v in merged.items() if v is not None})
    before = incident.facts
    diff = {k: [before.get(k), clean.get(k)] for k in sorted(set(before) | set(clean)) if before.get(k) != clean.get(k)}
    if not diff:
        return incident
    times = {name: _parse_time(clean.get(name), f"facts.{name}") for name in ("occurred_at", "detected_at")}
    with transaction.atomic():
        incident.facts = clean
        incident.classification = clean.get("classification", "")
        incident.sector = clean.get("sector", "")
        incident.occurred_at = times["occurred_at"] or incident.occurred_at
        incident.detected_at = times["detected_at"] or incident.detected_at
        incident.save(update_fields=["facts", "classification", "sector", "occurred_at", "detected_at", "updated_at"])
        _entry(incident, TimelineEntry.Kind.FACTS, actor, note, changes=diff)
        record(actor, "incident.facts_changed", incident, {"changes": diff})
        correlate_later()  # campaigns: its classification, sector or impact may have changed
    assess_incident(incident=incident, actor=actor)
    return incident


# ---------------------------------------------------------------- workflow


def change_status(*, incident: Incident, actor: User, to: str, note: str = "") -> Incident:
    if to not in Status.values:
        raise ServiceError([("status", f"unknown status {to!r}")])
    if not may_move(incident.status, to, actor.role):
        allowed = ", ".join(next_statuses(incident.status, actor.role)) or "none"
        if not actor.is_csirt_staff:
            raise NotAllowed("only the CSIRT changes an incident's status")
        raise ServiceError([("status", f"cannot go from {incident.status} to {to} (allowed: {allowed})")])
    now = clock.now()
    with transaction.atomic():
        before = incident.status
        incident.status = to
        if to == Status.TRIAGED and incident.triaged_at is None:
            incident.triaged_at = now
        if to == Status.INVESTIGATING and incident.first_response_at is None:
            incident.first_response_at = now
        if to == Status.RESOLVED:
            incident.resolved_at = now
        if to == Status.CLOSED:
            incident.closed_at = now
        if to in OPEN_STATUSES and before in (Status.RESOLVED, Status.CLOSED):
            incident.resolved_at = incident.closed_at = None
        incident.due_at = _due_at(incident, national_scale())
        incident.save()
        _entry(incident, TimelineEntry.Kind.STATUS, actor, note, **{"from": before, "to": to})
        record(actor, "incident.status_changed", incident, {"from": before, "to": to, "note": note})
    return incident


def assign(*, incident: Incident, actor: User, assignee: User | None) -> Incident:
    _require_manager(actor)
    if assignee is not None and not assignee.is_csirt_staff:
        raise ServiceError([("assignee", "incidents are assigned to analysts or coordinators")])
    with transaction.atomic():
        incident.assignee = assignee
        incident.save(update_fields=["assignee", "updated_at"])
        name = assignee.username if assignee else None
        _entry(incident, TimelineEntry.Kind.ASSIGNMENT, actor, "", assignee=name)
        record(actor, "incident.assigned", incident, {"assignee": name})
    return incident


def set_waiting_on_reporter(*, incident: Incident, actor: User, waiting: bool) -> Incident:
    """Pause (or resume) the response clocks while the reporter is asked for more; each pause is kept."""
    _require_manager(actor)
    now = clock.now()
    with transaction.atomic():
        was_waiting = (
            Incident.objects.select_for_update().values_list("waiting_on_reporter", flat=True).get(pk=incident.pk)
        )
        if waiting and not was_waiting:
            ClockPause.objects.create(incident=incident, started_at=now, by=actor)
        elif was_waiting and not waiting:
            _end_pause(incident, now)
        incident.waiting_on_reporter = waiting
        incident.due_at = _due_at(incident, national_scale())
        incident.save(update_fields=["waiting_on_reporter", "due_at", "updated_at"])
        _entry(incident, TimelineEntry.Kind.STATUS, actor, "", waiting_on_reporter=waiting)
        record(actor, "incident.waiting_changed", incident, {"waiting_on_reporter": waiting})
    return incident


# ---------------------------------------------------------------- information


def add_comment(*, incident: Incident, actor: User, body: str) -> TimelineEntry:
    _require_information_right(actor, incident)
    if not body.strip():
        raise ServiceError([("body", "required")])
    with transaction.atomic():
        entry = _entry(incident, TimelineEntry.Kind.COMMENT, actor, body.strip())
        changed = ["updated_at"]
        if actor.is_csirt_staff and incident.first_response_at is None and incident.status != Status.REPORTED:
            incident.first_response_at = entry.created_at
            incident.due_at = _due_at(incident, national_scale())
            changed += ["first_response_at", "due_at"]
        if not actor.is_csirt_staff and incident.waiting_on_reporter:
            incident.waiting_on_reporter = False
            _end_pause(incident, entry.created_at)
            incident.due_at = _due_at(incident, national_scale())
            changed += ["waiting_on_reporter", "due_at"]
        incident.save(update_fields=changed)
        record(actor, "incident.commented", incident, {"entry": entry.pk})
    return entry


def add_attachment(*, incident: Incident, actor: User, upload: UploadedFile) -> Attachment:
    _require_information_right(actor, incident)
    limit = settings.NCISS_MAX_ATTACHMENT_BYTES
    if upload.size is None or upload.size > limit:
        shown = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"
        raise ServiceError([("file", f"larger than the limit of {shown}")])
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        attachment = Attachment(
            incident=incident,
            name=upload.name or "attachment",
            size=upload.size,
            sha256=digest.hexdigest(),
            content_type=upload.content_type or "",
            uploaded_by=actor,
            created_at=clock.now(),
        )
        attachment.file.save(attachment.name, upload, save=False)
        attachment.save()
        _entry(
            incident,
            TimelineEntry.Kind.ATTACHMENT,
            actor,
            attachment.name,
            sha256=attachment.sha256,
            size=attachment.size,
        )
        record(
            actor,
            "incident.attachment_added",
            incident,
            {"name": attachment.name, "sha256": attachment.sha256, "size": attachment.size},
        )
    return attachment


def reporting_scales() -> list[nciss.Scale]:
    """The scales whose reporting regimes bind the constituency: the national scale and NCISS_REPORTING_SCALES."""
    national = national_scale()
    others = [nciss.load_scale(i) for i in dict.fromkeys(settings.NCISS_REPORTING_SCALES)]
    scales = [national, *(s for s in others if s.id != national.id)]
    return [s for s in scales if s.regime is not None]


def deadlines_of(incident: Incident) -> list[tuple[nciss.Scale, list[DeadlineStatus]]]:
    """The reporting obligations each binding regime sets for the incident, read from its facts."""
    times = {
        k: v
        for k, v in (
            ("detected_at", incident.detected_at),
            ("occurred_at", incident.occurred_at),
            ("reported_at", incident.reported_at),
        )
        if v
    }
    out = []
    for scale in reporting_scales():
        submitted = {
            k.partition(":")[2]: dt.datetime.fromisoformat(v)
            for k, v in incident.reporting_submissions.items()
            if k.startswith(f"{scale.id}:")
        }
        result = nciss.assess(scale, incident.facts)
        deadlines = reporting_deadlines(scale, incident.facts, result.rank, result.reachable_max, times, submitted)
        if deadlines:
            out.append((scale, deadlines))
    return out


def submit_reporting_step(*, incident: Incident, actor: User, scale_id: str, deadline_id: str) -> Incident:
    """Mark a regulatory report (early warning, notification ...) as submitted now."""
    _require_information_right(actor, incident)
    scale = next((s for s in reporting_scales() if s.id == scale_id), None)
    known = {d.id for d in scale.regime.deadlines} if scale and scale.regime else set()
    if deadline_id not in known:
        raise ServiceError([("deadline", f"unknown reporting step {scale_id}:{deadline_id}")])
    key = f"{scale_id}:{deadline_id}"
    if key in incident.reporting_submissions:
        raise ServiceError([("deadline", f"{deadline_id} was already submitted")])
    now = clock.now()
    with transaction.atomic():
        incident.reporting_submissions = {**incident.reporting_submissions, key: now.isoformat()}
        incident.save(update_fields=["reporting_submissions", "updated_at"])
        _entry(incident, TimelineEntry.Kind.DEADLINE, actor, "", scale=scale_id, deadline=deadline_id)
        record(actor, "incident.report_submitted", incident, {"scale": scale_id, "deadline": deadline_id})
    return incident


# ---------------------------------------------------------------- links and sharing


def merge_duplicate(*, incident: Incident, actor: User, into: Incident, note: str = "") -> Incident:
    """Mark ``incident`` a duplicate of ``into``; its reporters follow ``into`` from now on."""
    _require_manager(actor)
    if into.pk == incident.pk:
        raise ServiceError([("into", "an incident cannot duplicate itself")])
    if into.status == Status.DUPLICATE:
        raise ServiceError([("into", f"{into.reference} is itself a duplicate of another incident")])
    if incident.status not in OPEN_STATUSES:
        raise ServiceError(
            [("status", f"only open incidents can be merged ({incident.reference} is {incident.status})")]
        )
    with transaction.atomic():
        before = incident.status
        incident.status = Status.DUPLICATE
        incident.duplicate_of = into
        incident.due_at = None
        incident.save()
        into.affected_organisations.add(*incident.affected_organisations.all())
        _entry(
            incident,
            TimelineEntry.Kind.STATUS,
            actor,
            note,
            **{"from": before, "to": Status.DUPLICATE, "duplicate_of": into.reference},
        )
        _entry(into, TimelineEntry.Kind.LINK, actor, note, merged=incident.reference)
        record(actor, "incident.merged", incident, {"into": into.reference})
    return incident


def link_related(*, incident: Incident, actor: User, other: Incident) -> None:
    _require_manager(actor)
    if other.pk == incident.pk:
        raise ServiceError([("other", "an incident cannot be related to itself")])
    with transaction.atomic():
        incident.related.add(other)
        _entry(incident, TimelineEntry.Kind.LINK, actor, "", related=other.reference)
        _entry(other, TimelineEntry.Kind.LINK, actor, "", related=incident.reference)
        record(actor, "incident.linked", incident, {"related": other.reference})


def set_sharing(
    *, incident: Incident, actor: User, tlp: str, pap: str | None = None, red_recipients: Iterable[User] = ()
) -> Incident:
    """Change the TLP (and PAP); TLP:RED needs its named recipients."""
    if not (actor.is_csirt_staff or incident.created_by_id == actor.pk):
        raise NotAllowed("only the CSIRT or the original reporter changes how an incident is shared")
    if tlp not in TLP.values:
        raise ServiceError([("tlp", f"must be one of {', '.join(TLP.values)}")])
    if pap is not None and pap not in PAP.values:
        raise ServiceError([("pap", f"must be one of {', '.join(PAP.values)}")])
    recipients = list(red_recipients)
    with transaction.atomic():
        before = incident.tlp
        incident.tlp = tlp
        incident.pap = pap or incident.pap
        incident.save(update_fields=["tlp", "pap", "updated_at"])
        if tlp == TLP.RED:
            incident.red_recipients.set({actor, incident.created_by, *recipients})
        _entry(
            incident,
            TimelineEntry.Kind.TLP,
            actor,
            "",
            **{"from": before, "to": tlp, "recipients": sorted(u.username for u in recipients)},
        )
        record(actor, "incident.sharing_changed", incident, {"from": before, "to": tlp, "pap": incident.pap})
    return incident


def record_read(*, incident: Incident, actor: User) -> None:
    """Every read of a TLP:RED incident goes into the audit log."""
    if incident.tlp == TLP.RED:
        record(actor, "incident.read", incident, {"reference": incident.reference})


def _require_manager(actor: User) -> None:
    if not access.can_manage(actor):
        raise NotAllowed("only analysts and coordinators do this")


def _require_information_right(actor: User, incident: Incident) -> None:
    if not access.can_add_information(actor, incident):
        raise NotAllowed(f"{incident.reference} is {incident.status}: only the CSIRT can add to it now")
