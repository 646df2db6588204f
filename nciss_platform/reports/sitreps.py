"""What a situation report says: one incident's, or the national picture of one day.

Plain values for the templates, worked out from the models; the caller decides which incidents
the reader may see (``access.visible_incidents``) and passes them in.

The national sitrep for a day describes the state at the end of that day (or now, for today):
which incidents were open and at which level then, read back from their timelines, so that a
report for a past day says what it would have said that day. "Last 24 hours" are the 24 hours
up to that moment. TLP:RED incidents are counted (by level, and in the trend) but never
detailed: no reference, title, sector or action of theirs appears. The report's own TLP is the
most restrictive TLP of the incidents it details, at least TLP:GREEN (a national picture is
never public by itself), and at least TLP:AMBER when it counts any TLP:RED incident.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import formats
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import nciss
from nciss_platform.errors import ServiceError
from nciss_platform.incidents import display, services
from nciss_platform.incidents.models import TLP, Incident, TimelineEntry
from nciss_platform.incidents.workflow import OPEN_STATUSES, Status
from nciss_platform.notifications.models import Channel, Notification
from nciss_platform.reports import charts
from nciss_platform.reports.advisories import classification_name, sector_name
from nciss_platform.reports.documents import most_restrictive
from nciss_platform.scales.services import LevelView

DAY = dt.timedelta(days=1)
TREND_DAYS = 14
TOP_INCIDENTS = 10
LISTED_ACTIONS = 40
NATIONAL_FLOOR = TLP.GREEN
RED_FLOOR = TLP.AMBER

NOTIFICATION_STATES = {
    Notification.State.PENDING: gettext_lazy("waiting to be sent"),
    Notification.State.SENT: gettext_lazy("sent"),
    Notification.State.FAILED: gettext_lazy("failed"),
    Notification.State.WITHHELD: gettext_lazy("withheld (TLP)"),
}


CHANNELS = {Channel.EMAIL: gettext_lazy("e-mail"), Channel.WEBHOOK: gettext_lazy("webhook")}


def channel_name(notification: Notification) -> str:
    return str(CHANNELS.get(notification.channel, notification.channel))


def notification_state(notification: Notification) -> str:
    if notification.acknowledged_at is not None:
        return _("acknowledged")
    return str(NOTIFICATION_STATES.get(notification.state, notification.state))


def report_window(day: dt.date, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(start, end) of the 24 hours a national sitrep for ``day`` covers: up to the end of the day, or now."""
    today = now.astimezone(dt.UTC).date()
    if day > today:
        raise ServiceError([("date", f"{day.isoformat()} is in the future (today is {today.isoformat()})")])
    end = min(dt.datetime.combine(day + DAY, dt.time(), tzinfo=dt.UTC), now)
    return end - DAY, end


@dataclass(frozen=True)
class LevelCount:
    level: LevelView
    count: int


@dataclass(frozen=True)
class Row:
    """One incident as a report lists it: in the sitrep's details and among the statistics' notable incidents."""

    reference: str
    title: str
    level: LevelView
    classification: str
    sector: str
    status: str
    tlp: str
    reported_at: dt.datetime


@dataclass(frozen=True)
class Escalation:
    row: Row
    previous: LevelView  # before the first raise of the window
    raised_to: LevelView  # after the last one
    at: dt.datetime


@dataclass(frozen=True)
class Event:
    """Something that happened, in words: a key event or an action taken."""

    at: dt.datetime
    text: str
    by: str = ""
    reference: str = ""
    note: str = ""


@dataclass
class National:
    day: dt.date
    start: dt.datetime
    end: dt.datetime
    tlp: str
    scale_name: str
    open_by_level: list[LevelCount]
    new_by_level: list[LevelCount]
    new: list[Row]
    escalated_count: int
    escalated: list[Escalation]
    trend_days: list[str]
    trend: list[tuple[LevelView, list[int]]]  # per level (top first), new incidents per day
    trend_totals: list[int]
    open_by_sector: list[tuple[str, int]]
    actions: list[Event]
    actions_count: int  # every action of the window, including those not listed
    actions_red: int  # actions on TLP:RED incidents: counted, never listed
    status_changes: int
    notifications: list[tuple[str, int]]  # (state, how many)
    top: list[Row]
    red_counted: int
    open_chart: SafeString
    trend_chart: SafeString

    @property
    def open_total(self) -> int:
        return sum(row.count for row in self.open_by_level)

    @property
    def new_total(self) -> int:
        return sum(row.count for row in self.new_by_level)

    @property
    def by_level(self) -> list[tuple[LevelView, int, int]]:
        """(level, open, new in the last 24 hours), the top level first."""
        return [(o.level, o.count, n.count) for o, n in zip(self.open_by_level, self.new_by_level, strict=True)]

    @property
    def trend_levels(self) -> list[LevelView]:
        return [level for level, _counts in self.trend]

    @property
    def trend_rows(self) -> list[tuple[str, list[int], int]]:
        """(day, new incidents per level, all of them), one per day, oldest first."""
        return [
            (day, [counts[n] for _level, counts in self.trend], self.trend_totals[n])
            for n, day in enumerate(self.trend_days)
        ]

    @property
    def highest(self) -> LevelView | None:
        return next((row.level for row in self.open_by_level if row.count), None)


def _status_and_level_at(
    incidents: QuerySet[Incident], moment: dt.datetime, scale: nciss.Scale
) -> tuple[dict[int, str], dict[int, int]]:
    """Each incident's status and national level at ``moment``, from its timeline (current values otherwise)."""
    status: dict[int, str] = {}
    first_from: dict[int, str] = {}
    level: dict[int, int] = {}
    entries = (
        TimelineEntry.objects.filter(incident__in=incidents.values("pk"))
        .filter(Q(kind=TimelineEntry.Kind.STATUS, data__has_key="to") | Q(kind=TimelineEntry.Kind.ASSESSMENT))
        .order_by("created_at", "id")
        .values_list("incident_id", "kind", "created_at", "data")
    )
    for incident_id, kind, created_at, data in entries:
        if kind == TimelineEntry.Kind.STATUS:
            if created_at <= moment:
                status[incident_id] = data["to"]
            else:
                first_from.setdefault(incident_id, data.get("from", Status.REPORTED))
        elif created_at <= moment and data.get("scale") == scale.id:
            level[incident_id] = int(data["level"])
    for incident_id, before in first_from.items():
        status.setdefault(incident_id, before)
    return status, level


def national_sitrep(incidents: QuerySet[Incident], day: dt.date, *, lang: str, now: dt.datetime) -> National:
    """The national situation on ``day`` over ``incidents`` (those the reader may see), in ``lang``."""
    scale = services.national_scale()
    start, end = report_window(day, now)
    trend_start = dt.datetime.combine(day - (TREND_DAYS - 1) * DAY, dt.time(), tzinfo=dt.UTC)
    # Open then: open now, or changed since (a status change touches updated_at); the timelines decide.
    relevant = incidents.filter(reported_at__lte=end).filter(
        Q(reported_at__gte=trend_start) | Q(status__in=OPEN_STATUSES) | Q(updated_at__gt=end)
    )
    found = list(
        relevant.only("reference", "title", "level", "classification", "sector", "status", "tlp", "reported_at")
    )
    status_at, level_at = _status_and_level_at(relevant, end, scale)

    def level_of(incident: Incident) -> int:
        return min(level_at.get(incident.pk, incident.level), scale.top)

    def row(incident: Incident) -> Row:
        return Row(
            incident.reference,
            incident.title,
            display.level(level_of(incident), lang, scale),
            classification_name(incident.classification, lang),
            sector_name(incident.sector, lang),
            display.status_label(status_at.get(incident.pk, incident.status)),
            incident.tlp,
            incident.reported_at,
        )

    open_now = [i for i in found if status_at.get(i.pk, i.status) in OPEN_STATUSES]
    new = sorted((i for i in found if i.reported_at > start), key=lambda i: (-level_of(i), i.reported_at))
    levels = list(reversed(scale.levels))

    def by_level(items: Iterable[Incident]) -> list[LevelCount]:
        counts = Counter(level_of(i) for i in items)
        return [LevelCount(display.level(level.rank, lang, scale), counts[level.rank]) for level in levels]

    days = [day - (TREND_DAYS - 1 - n) * DAY for n in range(TREND_DAYS)]
    per_day: dict[int, Counter[dt.date]] = defaultdict(Counter)
    for incident in found:
        if incident.reported_at >= trend_start:
            per_day[level_of(incident)][incident.reported_at.astimezone(dt.UTC).date()] += 1
    trend = [(display.level(level.rank, lang, scale), [per_day[level.rank][d] for d in days]) for level in levels]

    shown_open = [i for i in open_now if i.tlp != TLP.RED]
    sectors = Counter(sector_name(i.sector, lang) if i.sector else _("not known yet") for i in shown_open)
    top = sorted(shown_open, key=lambda i: (-level_of(i), i.reported_at))[:TOP_INCIDENTS]
    escalations, escalated_red = _escalations(incidents, start, end, scale, lang, row)
    actions, actions_count, actions_red, status_changes, notifications = _actions(incidents, start, end, lang)

    detailed_tlps = [i.tlp for i in new if i.tlp != TLP.RED] + [i.tlp for i in top]
    detailed_tlps += [e.row.tlp for e in escalations] + [tlp for tlp, _event in actions]
    open_ids = {i.pk for i in open_now}
    red = {i.pk for i in found if i.tlp == TLP.RED and (i.pk in open_ids or i.reported_at >= trend_start)}
    red_counted = len(red | escalated_red)
    floor = RED_FLOOR if red_counted or actions_red else NATIONAL_FLOOR
    open_by_level = by_level(open_now)
    day_labels = [formats.date_format(d, "j M") for d in days]
    return National(
        day=day,
        start=start,
        end=end,
        tlp=most_restrictive(detailed_tlps, floor=floor),
        scale_name=scale.name.get_for(lang),
        open_by_level=open_by_level,
        new_by_level=by_level(new),
        new=[row(i) for i in new if i.tlp != TLP.RED],
        escalated_count=len(escalations) + len(escalated_red),
        escalated=escalations,
        trend_days=day_labels,
        trend=trend,
        trend_totals=[sum(counts[n] for _level, counts in trend) for n in range(TREND_DAYS)],
        open_by_sector=sorted(sectors.items(), key=lambda item: (-item[1], item[0])),
        actions=[event for _tlp, event in actions],
        actions_count=actions_count,
        actions_red=actions_red,
        status_changes=status_changes,
        notifications=notifications,
        top=[row(i) for i in top],
        red_counted=red_counted,
        open_chart=charts.bar_chart(
            [charts.Bar(c.level.name, c.count, c.level.colour) for c in open_by_level],
            title=_("Open incidents by level"),
        ),
        trend_chart=charts.stacked_columns(
            day_labels,
            [charts.Series(level.name, level.colour, counts) for level, counts in reversed(trend)],
            title=_("New incidents per day, by level"),
        ),
    )


def _escalations(
    incidents: QuerySet[Incident], start: dt.datetime, end: dt.datetime, scale: nciss.Scale, lang: str, row: Any
) -> tuple[list[Escalation], set[int]]:
    """The incidents whose level was raised in the window (from before the first raise), and the TLP:RED ones' ids."""
    raised: dict[int, tuple[TimelineEntry, int]] = {}
    entries = TimelineEntry.objects.filter(
        incident__in=incidents.values("pk"),
        kind=TimelineEntry.Kind.ASSESSMENT,
        created_at__gt=start,
        created_at__lte=end,
    ).select_related("incident")
    for entry in entries.order_by("created_at", "id"):
        data = entry.data or {}
        previous = data.get("previous")
        if data.get("scale") != scale.id or previous is None or int(data["level"]) <= int(previous):
            continue
        first = raised.get(entry.incident_id)
        raised[entry.incident_id] = (entry, first[1] if first else int(previous))
    shown, red = [], set()
    for entry, previous in raised.values():
        if entry.incident.tlp == TLP.RED:
            red.add(entry.incident_id)
        else:
            level = int(entry.data["level"])
            shown.append(
                Escalation(
                    row(entry.incident),
                    display.level(previous, lang, scale),
                    display.level(level, lang, scale),
                    entry.created_at,
                )
            )
    shown.sort(key=lambda e: (-e.raised_to.rank, e.at))
    return shown, red


def _actions(
    incidents: QuerySet[Incident], start: dt.datetime, end: dt.datetime, lang: str
) -> tuple[list[tuple[str, Event]], int, int, int, list[tuple[str, int]]]:
    """The actions of the window: status changes, reports submitted, shares abroad, notifications.

    Returns the listed ones (with their incident's TLP), how many there were, how many were on
    TLP:RED incidents, how many status changes, and the notifications by state.
    """
    window = {"created_at__gt": start, "created_at__lte": end, "incident__in": incidents.values("pk")}
    found: list[tuple[str, Event]] = []
    red = status_changes = 0
    entries = (
        TimelineEntry.objects.filter(**window)
        .filter(
            Q(kind=TimelineEntry.Kind.STATUS, data__has_key="to")
            | Q(kind=TimelineEntry.Kind.DEADLINE)
            | Q(kind=TimelineEntry.Kind.TLP, data__has_key="shared_with")
        )
        .select_related("incident", "author__organisation")
    )
    for entry in entries:
        status_changes += entry.kind == TimelineEntry.Kind.STATUS
        if entry.incident.tlp == TLP.RED:
            red += 1
            continue
        if entry.kind == TimelineEntry.Kind.STATUS:
            text = _("Status: %(before)s → %(after)s") % {
                "before": display.status_label(entry.data.get("from", "")),
                "after": display.status_label(entry.data["to"]),
            }
        elif entry.kind == TimelineEntry.Kind.DEADLINE:
            text = _("Report submitted: %(step)s") % {"step": deadline_name(entry.data, lang)}
        else:
            text = shared_text(entry.data)
        event = Event(entry.created_at, text, display.user_name(entry.author), entry.incident.reference)
        found.append((entry.incident.tlp, event))
    states: Counter[str] = Counter()
    notifications = Notification.objects.filter(**window).select_related("incident", "contact__organisation")
    for notification in notifications:
        state = notification_state(notification)
        states[state] += 1
        if notification.incident.tlp == TLP.RED:
            red += 1
            continue
        text = _("Notified %(organisation)s (%(channel)s): %(state)s") % {
            "organisation": notification.contact.organisation.name,
            "channel": channel_name(notification),
            "state": state,
        }
        found.append(
            (notification.incident.tlp, Event(notification.created_at, text, "", notification.incident.reference))
        )
    found.sort(key=lambda item: item[1].at)
    return found[:LISTED_ACTIONS], len(found) + red, red, status_changes, sorted(states.items())


def shared_text(data: dict[str, Any]) -> str:
    """A share with partners abroad (a sharing timeline entry) in words."""
    partners = ", ".join(data.get("shared_with", []))
    return _("Shared with %(partners)s (%(tlp)s)") % {"partners": partners, "tlp": data.get("tlp", "")}


def deadline_name(data: dict[str, Any], lang: str) -> str:
    """The reporting step a timeline entry names, by its name in ``lang``, else by its ids."""
    scale_id, deadline_id = data.get("scale", ""), data.get("deadline", "")
    for scale in services.reporting_scales():
        if scale.id == scale_id and scale.regime is not None:
            for deadline in scale.regime.deadlines:
                if deadline.id == deadline_id:
                    return deadline.name.get_for(lang)
    return f"{deadline_id} ({scale_id})"


# ---------------------------------------------------------------- one incident


@dataclass(frozen=True)
class Notified:
    at: dt.datetime
    contact: str
    organisation: str
    channel: str
    state: str
    acknowledged_at: dt.datetime | None


@dataclass
class IncidentReport:
    incident: Incident
    tlp: str
    level: LevelView
    highest: LevelView | None  # the most severe level it could still reach, when above its level
    classification: str
    sector: str
    status: str
    reporter: str
    affected: list[str]
    key_events: list[Event]
    actions: list[Event]
    targets: display.ResponseTargets
    regimes: list[display.Regime]
    notified: list[Notified] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return self.incident.reference


def incident_sitrep(incident: Incident, *, visible: QuerySet[Incident], lang: str, now: dt.datetime) -> IncidentReport:
    """One incident's situation in ``lang``; ``visible`` (the reader's incidents) decides which links are named."""
    scale = services.national_scale()
    entries = list(incident.timeline.select_related("author__organisation"))
    named = display.linked_references(entries)
    seen = set(visible.filter(reference__in=named).values_list("reference", flat=True)) if named else set()
    key_events, actions = _incident_events(display.timeline(entries, lang, seen), lang)
    notified = [
        Notified(
            n.sent_at or n.created_at,
            n.contact.name,
            n.contact.organisation.name,
            channel_name(n),
            notification_state(n),
            n.acknowledged_at,
        )
        for n in Notification.objects.filter(incident=incident).select_related("contact__organisation")
    ]
    highest = incident.reachable_max if incident.reachable_max > incident.level else None
    return IncidentReport(
        incident=incident,
        tlp=incident.tlp,
        level=display.level(incident.level, lang, scale),
        highest=display.level(highest, lang, scale) if highest is not None else None,
        classification=classification_name(incident.classification, lang),
        sector=sector_name(incident.sector, lang),
        status=display.status_label(incident.status),
        reporter=incident.reporting_organisation.name,
        affected=[org.name for org in incident.affected_organisations.all()],
        key_events=key_events,
        actions=actions,
        targets=display.response_targets(incident, now),
        regimes=display.deadlines(incident, now, lang),
        notified=notified,
    )


def _incident_events(views: Sequence[display.EntryView], lang: str) -> tuple[list[Event], list[Event]]:
    """The key events (what happened to the incident) and the actions taken (what its handlers did)."""
    events: list[Event] = []
    actions: list[Event] = []
    for view in views:
        entry, data = view.entry, view.data
        at, by, note = entry.created_at, view.author, entry.body
        kind = entry.kind
        if kind == TimelineEntry.Kind.REPORTED:
            events.append(Event(at, _("Reported"), by))
        elif kind == TimelineEntry.Kind.ASSESSMENT and view.level is not None:
            if view.previous is None:
                events.append(Event(at, _("Assessed: %(level)s") % {"level": view.level.name}, by, note=note))
            elif view.level.rank != view.previous.rank:
                change = _("Level raised") if view.level.rank > view.previous.rank else _("Level lowered")
                text = f"{change}: {view.previous.name} → {view.level.name}"
                events.append(Event(at, text, by, note=note))
        elif kind == TimelineEntry.Kind.STATUS and view.status_to:
            text = _("Status: %(before)s → %(after)s") % {"before": view.status_from, "after": view.status_to}
            events.append(Event(at, text, by, note=note))
        elif kind == TimelineEntry.Kind.STATUS and "waiting_on_reporter" in data:
            waiting = data["waiting_on_reporter"]
            actions.append(
                Event(at, _("Waiting on the reporter") if waiting else _("No longer waiting on the reporter"), by)
            )
        elif kind == TimelineEntry.Kind.FACTS and view.changes:
            facts = ", ".join(change.label for change in view.changes)
            events.append(Event(at, _("Facts changed: %(facts)s") % {"facts": facts}, by, note=note))
        elif kind == TimelineEntry.Kind.TLP and "to" in data:
            text = _("Sharing changed: %(before)s → %(after)s") % {"before": data.get("from", ""), "after": data["to"]}
            events.append(Event(at, text, by))
        elif kind == TimelineEntry.Kind.TLP and data.get("shared_with"):
            actions.append(Event(at, shared_text(data), by))
        elif kind == TimelineEntry.Kind.TLP and data.get("revoked_from"):
            actions.append(Event(at, _("Share withdrawn from %(partner)s") % {"partner": data["revoked_from"]}, by))
        elif kind == TimelineEntry.Kind.LINK and view.other:
            events.append(Event(at, _("Linked with %(reference)s") % {"reference": view.other}, by))
        elif kind == TimelineEntry.Kind.DEADLINE:
            actions.append(Event(at, _("Report submitted: %(step)s") % {"step": deadline_name(data, lang)}, by))
        elif kind == TimelineEntry.Kind.ASSIGNMENT:
            name = data.get("assignee")
            actions.append(Event(at, _("Assigned to %(name)s") % {"name": name} if name else _("Unassigned"), by))
        elif kind == TimelineEntry.Kind.COMMENT and entry.author is not None and entry.author.is_csirt_staff:
            actions.append(Event(at, _("Note"), by, note=_shortened(note)))
    return events, actions


def _shortened(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
