"""Every clock of an incident, and the breaches and reminders due for signalling.

Response targets (``response:triage``, ``response:first_response``, ``response:resolution``)
run from the report on the incident's level of the national scale, count the national
CSIRT's business hours when the level says so (``services.response_calendar``) and stand
still while the CSIRT waits on the reporter. Regulatory deadlines (``eu-nis2:early-warning``
...) are each binding regime's (``services.deadlines_of``): calendar time from
``detected_at``, never paused. docs/clocks.md tells the whole story.

A notifier signals what is due in one transaction, so that each breach and each reminder
goes out once (a second worker that listed the same events fails on the unique ClockSignal
row and rolls back its notifications)::

    with transaction.atomic():
        events = due_clock_events(now)
        ...  # notifications for each event
        mark_signalled(events, now)
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from nciss.clocks import STEP_NAMES, BusinessCalendar, Pause, reminders_due
from nciss.texts import Text
from nciss_platform.incidents import services
from nciss_platform.incidents.models import ClockPause, ClockSignal, Incident
from nciss_platform.incidents.workflow import OPEN_STATUSES

# A reporting deadline's state (nciss.deadlines.DeadlineStatus.state) in the words of every clock.
REGULATORY_STATES = {"done": "met", "late": "breached", "overdue": "breached", "due": "running", "waiting": "waiting"}


@dataclass(frozen=True)
class IncidentClock:
    """One clock of one incident: a response target or a reporting deadline."""

    id: str  # "response:triage", "eu-nis2:early-warning" (scale id, deadline id)
    kind: str  # response or regulatory
    name: Text
    due: dt.datetime | None  # None: waits for an earlier reporting step
    done: dt.datetime | None  # when the step was done or the report submitted
    state: str  # met, breached, running, paused, waiting (for an earlier report), stopped (incident closed)
    left: dt.timedelta  # time left before due (working time for business hours); zero unless running or paused
    business_hours: bool = False
    conditional: bool = False  # a reporting deadline whose condition depends on facts not known yet
    possible_only: bool = False  # a reporting deadline that applies only if the incident turns out more severe


def clocks_of(incident: Incident, now: dt.datetime, *, calendar: BusinessCalendar | None = None) -> list[IncidentClock]:
    """Every clock of the incident at ``now``: its response targets, then each binding regime's deadlines."""
    out = [
        IncidentClock(
            f"response:{t.step}", "response", STEP_NAMES[t.step], t.due, t.done, t.state, t.left, t.business_hours
        )
        for t in services.response_clocks_of(incident, now, calendar=calendar)
    ]
    for scale, deadlines in services.deadlines_of(incident):
        for d in deadlines:
            state = REGULATORY_STATES[d.state(now)]
            left = d.due - now if state == "running" and d.due is not None else dt.timedelta(0)
            out.append(
                IncidentClock(
                    f"{scale.id}:{d.id}",
                    "regulatory",
                    d.name,
                    d.due,
                    d.submitted,
                    state,
                    left,
                    conditional=d.conditional,
                    possible_only=d.possible_only,
                )
            )
    return out


@dataclass(frozen=True)
class ClockEvent:
    """A breach or a reminder to signal; a notifier turns it into notifications.

    A breach: a response target passed with its step not done, or a reporting deadline
    passed without its report. A reminder: a reporting deadline within one of its leads
    (nciss.clocks.REMINDER_LEADS: 2 h before a 24 h early warning, 12 h before a 72 h
    notification, 3 days before a one-month final report).
    """

    incident: Incident
    kind: str  # breach or reminder
    clock: str  # "response:triage", "eu-nis2:early-warning" (IncidentClock.id)
    name: Text  # the step or report, in every language the scale has
    due: dt.datetime
    lead: dt.timedelta | None  # a reminder's: how long before due it goes out; None for a breach
    level: int  # the incident's level on the national scale

    @property
    def key(self) -> tuple[int, str, str, dt.datetime, int]:
        """What makes it once-only: incident, clock, kind, due time, lead in minutes."""
        lead_minutes = int(self.lead.total_seconds() // 60) if self.lead is not None else 0
        return self.incident.pk, self.clock, self.kind, self.due, lead_minutes


def due_clock_events(now: dt.datetime) -> list[ClockEvent]:
    """The breaches and reminders of open incidents at ``now`` that were not signalled yet, earliest due first.

    A due time that moves (the level changed, the incident was reopened) makes a new event.
    Reporting deadlines that apply only if the incident turns out more severe make none.
    """
    incidents = list(Incident.objects.filter(status__in=OPEN_STATUSES).order_by("pk"))
    if not incidents:
        return []
    calendar = services.response_calendar()
    scale = services.national_scale()
    pauses: dict[int, list[Pause]] = defaultdict(list)
    for incident_id, start, end in ClockPause.objects.filter(incident__status__in=OPEN_STATUSES).values_list(
        "incident_id", "started_at", "ended_at"
    ):
        pauses[incident_id].append((start, end))
    signalled = set(
        ClockSignal.objects.filter(incident__status__in=OPEN_STATUSES).values_list(
            "incident_id", "clock", "kind", "due", "lead_minutes"
        )
    )
    events: list[ClockEvent] = []
    for incident in incidents:
        for target in services.response_clocks_of(
            incident, now, scale=scale, calendar=calendar, pauses=pauses[incident.pk]
        ):
            if target.state == "breached" and target.done is None:
                name = STEP_NAMES[target.step]
                events.append(
                    ClockEvent(incident, "breach", f"response:{target.step}", name, target.due, None, incident.level)
                )
        for regime, deadlines in services.deadlines_of(incident):
            for d in deadlines:
                if d.state(now) == "overdue" and d.due is not None and not d.possible_only:
                    events.append(
                        ClockEvent(incident, "breach", f"{regime.id}:{d.id}", d.name, d.due, None, incident.level)
                    )
            for reminder in reminders_due(deadlines, now):
                d = reminder.deadline
                assert d.due is not None  # reminders_due skips deadlines without a due time
                lead = dt.timedelta(minutes=reminder.lead.minutes)
                events.append(
                    ClockEvent(incident, "reminder", f"{regime.id}:{d.id}", d.name, d.due, lead, incident.level)
                )
    return sorted((e for e in events if e.key not in signalled), key=lambda e: (e.due, e.incident.pk, e.clock))


def mark_signalled(events: Iterable[ClockEvent], now: dt.datetime) -> None:
    """Record the events as signalled; IntegrityError if another worker signalled one first."""
    ClockSignal.objects.bulk_create(
        ClockSignal(
            incident=event.incident,
            clock=event.clock,
            kind=event.kind,
            due=event.due,
            lead_minutes=event.key[4],
            signalled_at=now,
        )
        for event in events
    )
