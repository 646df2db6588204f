"""Filtering and ordering of incident lists, shared by the triage queue page and the API.

``filter_incidents(queryset, params)`` reads the same query parameters in both:

| parameter | meaning |
|---|---|
| ``status`` | one or more statuses (repeat the parameter or separate with commas); ``open`` for every open status |
| ``level`` / ``level_min`` | exact level(s) / at least this level |
| ``sector``, ``classification`` | exact values (``sector=none``: no sector); ``classification`` also takes a class (``availability``) |
| ``organisation`` | the reporting or affected organisation's slug |
| ``assignee`` | a username, ``me`` or ``none`` |
| ``reported_from`` / ``reported_to`` | dates (YYYY-MM-DD), inclusive |
| ``overdue`` | ``1``: only incidents past their response target (not those waiting on the reporter) |
| ``reported_since`` / ``escalated_since`` | an ISO date and time: reported since / raised to a higher level since |
| ``campaign`` | a campaign's reference: its incidents |
| ``q`` | a reference (exact), or words searched in title and description |
| ``ordering`` | ``queue`` (level, then time left), ``-reported_at`` (newest), ``reported_at``, ``-level`` |

Unknown values give a FilterError naming the parameter, never a silent empty list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from nciss.facts import fact_specs
from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.incidents.models import Incident, TimelineEntry
from nciss_platform.incidents.workflow import OPEN_STATUSES, Status

REFERENCE = re.compile(r"^NCISS-\d{4}-\d{6}$", re.IGNORECASE)

ORDERINGS = {
    "queue": [F("level").desc(), F("due_at").asc(nulls_last=True), "reported_at"],
    "-reported_at": ["-reported_at"],
    "reported_at": ["reported_at"],
    "-level": [F("level").desc(), "-reported_at"],
}


class FilterError(ValueError):
    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{p}: {r}" for p, r in errors))


def _values(params: Mapping[str, Any], name: str) -> list[str]:
    raw = params.getlist(name) if hasattr(params, "getlist") else params.get(name, [])
    if isinstance(raw, str):
        raw = [raw]
    return [v.strip() for item in raw for v in str(item).split(",") if v.strip()]


def _date(value: str, name: str, errors: list[tuple[str, str]]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.append((name, "expected a date, YYYY-MM-DD"))
        return None


def _moment(value: str, name: str, errors: list[tuple[str, str]]) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value.replace(" ", "+"))  # a "+" in a query string arrives as a space
    except ValueError:
        errors.append((name, "expected a date and time, ISO 8601"))
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def escalated_since(since: dt.datetime) -> list[int]:
    """The incidents assessed at a higher level than before since ``since`` (their timeline says so)."""
    entries = TimelineEntry.objects.filter(kind=TimelineEntry.Kind.ASSESSMENT, created_at__gte=since)
    return sorted(
        {
            incident
            for incident, data in entries.values_list("incident_id", "data")
            if data.get("previous") is not None and data.get("level", 0) > data["previous"]
        }
    )


def filter_incidents(qs: QuerySet[Incident], params: Mapping[str, Any], user: User | None = None) -> QuerySet[Incident]:
    """``qs`` narrowed and ordered by ``params`` (see the module docstring)."""
    errors: list[tuple[str, str]] = []
    statuses = _values(params, "status")
    if statuses:
        wanted: set[str] = set()
        for s in statuses:
            if s == "open":
                wanted |= set(OPEN_STATUSES)
            elif s in Status.values:
                wanted.add(s)
            else:
                errors.append(("status", f"unknown status {s!r}"))
        qs = qs.filter(status__in=sorted(wanted))
    levels = _values(params, "level")
    if levels:
        if all(v.isdigit() for v in levels):
            qs = qs.filter(level__in=[int(v) for v in levels])
        else:
            errors.append(("level", "expected level numbers"))
    level_min = _values(params, "level_min")
    if level_min:
        if level_min[0].isdigit():
            qs = qs.filter(level__gte=int(level_min[0]))
        else:
            errors.append(("level_min", "expected a level number"))
    sectors = _values(params, "sector")
    if sectors:
        unknown = [s for s in sectors if s not in fact_specs()["sector"].values and s != "none"]
        if unknown:
            errors.append(("sector", f"unknown sector {unknown[0]!r}"))
        qs = qs.filter(sector__in=["" if s == "none" else s for s in sectors])
    classifications = _values(params, "classification")
    if classifications:
        match = Q()
        for c in classifications:
            # a class as a range ("availability:" <= c < "availability;"), which a plain index serves
            match |= Q(classification=c) if ":" in c else Q(classification__gte=f"{c}:", classification__lt=f"{c};")
        qs = qs.filter(match)
    organisations = _values(params, "organisation")
    if organisations:
        affected = Incident.affected_organisations.through.objects.filter(
            incident=OuterRef("pk"), organisation__slug__in=organisations
        )
        qs = qs.filter(Q(reporting_organisation__slug__in=organisations) | Exists(affected))
    assignees = _values(params, "assignee")
    if assignees:
        match = Q()
        for a in assignees:
            if a == "none":
                match |= Q(assignee__isnull=True)
            elif a == "me":
                match |= Q(assignee=user.pk if user else None)
            else:
                match |= Q(assignee__username=a)
        qs = qs.filter(match)
    for name, lookup in (("reported_from", "reported_at__date__gte"), ("reported_to", "reported_at__date__lte")):
        for value in _values(params, name)[:1]:
            day = _date(value, name, errors)
            if day is not None:
                qs = qs.filter(**{lookup: day})
    for value in _values(params, "reported_since")[:1]:
        since = _moment(value, "reported_since", errors)
        if since is not None:
            qs = qs.filter(reported_at__gte=since)
    for value in _values(params, "escalated_since")[:1]:
        since = _moment(value, "escalated_since", errors)
        if since is not None:
            qs = qs.filter(pk__in=escalated_since(since))
    campaigns = _values(params, "campaign")
    if campaigns:
        qs = qs.filter(campaigns__reference__in=campaigns).distinct()
    if _values(params, "overdue")[:1] == ["1"]:
        # a clock paused while waiting on the reporter is not overdue (the overview counts it so too)
        qs = qs.filter(status__in=OPEN_STATUSES, due_at__lt=clock.now(), waiting_on_reporter=False)
    text = str(params.get("q") or "").strip()
    if REFERENCE.match(text):
        qs = qs.filter(reference=text.upper())
    elif text:
        qs = qs.filter(Q(title__icontains=text) | Q(description__icontains=text))
    ordering: Sequence[Any] = ORDERINGS["queue"]
    for value in _values(params, "ordering")[:1]:
        if value not in ORDERINGS:
            errors.append(("ordering", f"one of {', '.join(ORDERINGS)}"))
        else:
            ordering = ORDERINGS[value]
    if errors:
        raise FilterError(errors)
    return qs.order_by(*ordering)
