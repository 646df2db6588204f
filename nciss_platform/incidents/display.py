"""What the incident pages show, worked out for a template: levels, clocks, deadlines, facts, the timeline.

Plain functions over the models and the core; no request in sight. Every level shown comes
from the national scale's definition (name, colour, rank), never from a colour alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

import nciss
from nciss.deadlines import DeadlineStatus
from nciss.facts import fact_specs
from nciss.scales import Duration
from nciss.taxonomy import rsit_labels
from nciss_platform.incidents import services
from nciss_platform.incidents.models import PAP, TLP, Incident, TimelineEntry
from nciss_platform.incidents.workflow import OPEN_STATUSES, Status
from nciss_platform.scales.services import LevelView, level_view

# What each sharing label allows, in one line (FIRST TLP 2.0 and the Permissible Actions Protocol).
TLP_MEANINGS = {
    TLP.CLEAR: gettext_lazy("Anyone may see it: there is no limit on disclosure."),
    TLP.GREEN: gettext_lazy("Shared within the recipients' community, never publicly."),
    TLP.AMBER: gettext_lazy(
        "Shared only within the recipients' organisations and their clients, on a need-to-know basis."
    ),
    TLP.AMBER_STRICT: gettext_lazy("Shared only within the recipients' own organisations."),
    TLP.RED: gettext_lazy("Only the people named may read it: no further disclosure."),
}
PAP_MEANINGS = {
    PAP.CLEAR: gettext_lazy("No restriction on what may be done with the information."),
    PAP.GREEN: gettext_lazy(
        "Active actions allowed, such as blocking traffic to and from the attacker or probing its servers."
    ),
    PAP.AMBER: gettext_lazy("Passive checks only, such as looking indicators up in online services."),
    PAP.RED: gettext_lazy("No action that the attacker could detect: offline use only."),
}

# The button that moves an incident to a status, by the status it moves to.
STATUS_ACTIONS = {
    Status.REPORTED: gettext_lazy("Reopen as reported"),
    Status.TRIAGED: gettext_lazy("Triage"),
    Status.INVESTIGATING: gettext_lazy("Investigate"),
    Status.CONTAINED: gettext_lazy("Mark contained"),
    Status.RESOLVED: gettext_lazy("Resolve"),
    Status.CLOSED: gettext_lazy("Close"),
    Status.REJECTED: gettext_lazy("Reject"),
}


def national_scale() -> nciss.Scale:
    return services.national_scale()


def level(rank: int, lang: str, scale: nciss.Scale | None = None) -> LevelView:
    """A level of the national scale (or of ``scale``), ready for the level badge."""
    scale = scale or national_scale()
    return level_view(scale, scale.levels[min(rank, scale.top)], lang)


def high_level(scale: nciss.Scale | None = None) -> int:
    """The lowest level the overview calls high: the top three levels of a long scale, the top of a short one."""
    scale = scale or national_scale()
    return max(1, scale.top - 2)


STATUS_NAMES = {
    Status.REPORTED: gettext_lazy("Reported"),
    Status.TRIAGED: gettext_lazy("Triaged"),
    Status.INVESTIGATING: gettext_lazy("Investigating"),
    Status.CONTAINED: gettext_lazy("Contained"),
    Status.RESOLVED: gettext_lazy("Resolved"),
    Status.CLOSED: gettext_lazy("Closed"),
    Status.REJECTED: gettext_lazy("Rejected"),
    Status.DUPLICATE: gettext_lazy("Duplicate"),
}


def status_label(status: str) -> str:
    return str(STATUS_NAMES.get(status, status))


# ---------------------------------------------------------------- time


def span(delta: dt.timedelta) -> str:
    """A duration as a person says it: 45 min, 3 h, 2 d."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(n)d h", "%(n)d h", hours) % {"n": hours}
    days = hours // 24
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


@dataclass(frozen=True)
class Clock:
    """The incident's current response target: which step, and how much time is left."""

    step: str  # triage, first response, resolution ("" when no clock runs)
    text: str  # "due in 3 h", "overdue by 2 h", "paused: waiting on the reporter"
    overdue: bool = False
    paused: bool = False


def clock_of(incident: Incident, now: dt.datetime) -> Clock:
    if incident.status not in OPEN_STATUSES or incident.due_at is None:
        return Clock("", "")
    if incident.status == Status.REPORTED:
        step = _("Triage")
    elif incident.first_response_at is None:
        step = _("First response")
    else:
        step = _("Resolution")
    if incident.waiting_on_reporter:
        return Clock(step, _("paused: waiting on the reporter"), paused=True)
    if incident.due_at < now:
        return Clock(step, _("overdue by %(time)s") % {"time": span(now - incident.due_at)}, overdue=True)
    return Clock(step, _("due in %(time)s") % {"time": span(incident.due_at - now)})


# ---------------------------------------------------------------- response targets

STEP_LABELS = {
    "triage": gettext_lazy("Triage"),
    "first_response": gettext_lazy("First response"),
    "resolution": gettext_lazy("Resolution"),
}


@dataclass(frozen=True)
class TargetRow:
    step: str  # triage, first_response, resolution
    name: str
    within: str  # the target in words: 4 h, 3 days
    business_hours: bool
    due: dt.datetime
    state: str  # met, breached, running, paused, stopped
    text: str  # the state in words, with the time left or past


@dataclass(frozen=True)
class ResponseTargets:
    rows: list[TargetRow]
    business_hours: str  # the calendar the business-hours targets count, in words ("" when none does)


def response_targets(incident: Incident, now: dt.datetime) -> ResponseTargets:
    """The incident's response targets and where each stands: business hours and pauses counted."""
    calendar = services.response_calendar()
    rows = []
    for target in services.response_clocks_of(incident, now, calendar=calendar):
        if target.state == "met":
            text = _("met")
        elif target.state == "breached" and target.done is not None:
            text = _("met late")
        elif target.state == "breached":
            text = _("overdue by %(time)s") % {"time": span(now - target.due)}
        elif target.state == "paused" and target.business_hours:
            text = _("paused: %(time)s of working time left") % {"time": span(target.left)}
        elif target.state == "paused":
            text = _("paused: %(time)s left") % {"time": span(target.left)}
        elif target.state == "stopped":
            text = _("stopped")
        else:
            text = _("due in %(time)s") % {"time": span(target.due - now)}
            if target.business_hours:
                text += " " + _("(%(time)s of working time left)") % {"time": span(target.left)}
        rows.append(
            TargetRow(
                target.step,
                str(STEP_LABELS[target.step]),
                ngettext("%(n)d working day", "%(n)d working days", target.within.amount) % {"n": target.within.amount}
                if target.business_hours and target.within.unit == "d"
                else _within(target.within),
                target.business_hours,
                target.due,
                target.state,
                text,
            )
        )
    described = calendar.describe() if any(row.business_hours for row in rows) else ""
    return ResponseTargets(rows, described)


# ---------------------------------------------------------------- reporting deadlines


@dataclass(frozen=True)
class DeadlineRow:
    scale_id: str
    id: str
    name: str
    due: dt.datetime | None
    submitted: dt.datetime | None
    state: str  # done, late, overdue, due, waiting
    text: str  # the state in words, with the time left or past
    condition: str  # when it applies, if that is not known yet
    possible_only: str  # the regime's level the incident must turn out to reach for it to apply, or ""

    @property
    def can_submit(self) -> bool:
        return self.submitted is None

    @property
    def still_due(self) -> bool:
        return self.state in ("due", "overdue", "waiting")


@dataclass(frozen=True)
class Regime:
    scale_id: str
    name: str  # e.g. NIS2 Art. 23 reporting
    rows: list[DeadlineRow]

    @property
    def still_due(self) -> list[DeadlineRow]:
        return [row for row in self.rows if row.still_due]


def deadlines(incident: Incident, now: dt.datetime, lang: str) -> list[Regime]:
    """The incident's reporting obligations under every binding regime, and where each stands."""
    regimes = []
    for scale, rows in services.deadlines_of(incident):
        assert scale.regime is not None  # deadlines_of only lists scales with a regime
        names = {d.id: d.name.get_for(lang) for d in scale.regime.deadlines}
        threshold = scale.levels[scale.regime.from_level].name.get_for(lang)
        regimes.append(
            Regime(
                scale.id,
                scale.regime.name.get_for(lang),
                [_deadline_row(scale.id, d, now, lang, names, threshold) for d in rows],
            )
        )
    return regimes


def _within(duration: Duration) -> str:
    if duration.unit == "mo":
        return ngettext("%(n)d month", "%(n)d months", duration.amount) % {"n": duration.amount}
    return span(dt.timedelta(minutes=duration.minutes))


def _deadline_row(
    scale_id: str, d: DeadlineStatus, now: dt.datetime, lang: str, names: Mapping[str, str], threshold: str
) -> DeadlineRow:
    state = d.state(now)
    if state == "done":
        text = _("submitted")
    elif state == "late":
        text = _("submitted late")
    elif state == "overdue" and d.due is not None:
        text = _("overdue by %(time)s") % {"time": span(now - d.due)}
    elif state == "due" and d.due is not None:
        text = _("due in %(time)s") % {"time": span(d.due - now)}
    else:
        text = _("due %(within)s after the %(step)s is submitted") % {
            "within": _within(d.within),
            "step": names.get(d.after, d.after),
        }
    return DeadlineRow(
        scale_id,
        d.id,
        d.name.get_for(lang),
        d.due,
        d.submitted,
        state,
        text,
        d.condition if d.conditional else "",
        threshold if d.possible_only else "",
    )


def next_deadline(regimes: Sequence[Regime]) -> DeadlineRow | None:
    """The most pressing reporting step still due: an overdue one first, then the earliest."""
    pending = [row for regime in regimes for row in regime.still_due if row.due is not None]
    if not pending:
        return None
    return min(pending, key=lambda row: (row.state != "overdue", row.due))


# ---------------------------------------------------------------- facts


def fact_label(fact: str, lang: str) -> str:
    spec = fact_specs().get(fact)
    return spec.label.get_for(lang) if spec else fact


def value_text(fact: str, value: Any, lang: str) -> str:
    """A fact's value in words: the vocabulary's label, Yes/No, the RSIT names, a list joined."""
    if value is None:
        return _("not known")
    spec = fact_specs().get(fact)
    if fact == "classification":
        return classification_text(str(value))
    if spec is None:
        return str(value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        if spec.items == "sector":
            sector = fact_specs()["sector"]
            return ", ".join(sector.value_labels[v].get_for(lang) if v in sector.value_labels else v for v in value)
        return ", ".join(str(v) for v in value) or _("none")
    if spec.is_numeric and isinstance(value, (int, float)):
        if float(value).is_integer() and abs(value) >= 10_000:
            return f"{int(value):,}".replace(",", "\u202f")  # 640 000: a narrow space, whatever the language
        return str(int(value)) if float(value).is_integer() else str(value)
    if spec.kind == "datetime":
        return time_text(str(value))
    label = spec.value_labels.get(str(value))
    return label.get_for(lang) if label else str(value)


def time_text(value: str) -> str:
    """An ISO 8601 time as the pages show times: in UTC, to the minute."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def classification_text(value: str) -> str:
    """``availability:ddos`` as "Availability: DDoS" (RSIT names)."""
    if not value:
        return ""
    labels = rsit_labels()
    klass = value.split(":")[0]
    if value in labels:
        return f"{labels.get(klass, klass)}: {labels[value]}"
    return labels.get(value, value)


def fact_rows(facts: Mapping[str, Any], lang: str) -> list[tuple[str, str, str]]:
    """(fact, label, value in words) for every known fact, in the vocabulary's order."""
    return [
        (name, spec.label.get_for(lang), value_text(name, facts[name], lang))
        for name, spec in fact_specs().items()
        if name in facts
    ]


# ---------------------------------------------------------------- the timeline


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass
class EntryView:
    """One timeline entry with what a template needs to say what happened."""

    entry: TimelineEntry
    author: str
    changes: list[Change] = field(default_factory=list)
    level: LevelView | None = None
    previous: LevelView | None = None
    status_from: str = ""
    status_to: str = ""
    other: str = ""  # the reference of the incident a link or merge names, if the reader may see it

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def data(self) -> dict[str, Any]:
        return self.entry.data


LINK_KEYS = ("related", "merged", "duplicate_of")


def linked_references(entries: Iterable[TimelineEntry]) -> set[str]:
    """The references that links and merges in these entries name."""
    return {str(e.data[key]) for e in entries for key in LINK_KEYS if isinstance(e.data, dict) and e.data.get(key)}


def timeline(entries: Iterable[TimelineEntry], lang: str, visible: Collection[str] = ()) -> list[EntryView]:
    """The entries ready to show; a linked incident the reader may not see (``visible``) is never named."""
    scale = national_scale()
    out = []
    for entry in entries:
        author = _author(entry)
        view = EntryView(entry, author)
        data = entry.data or {}
        named = next((str(data[key]) for key in LINK_KEYS if data.get(key)), "")
        view.other = named if named in visible else ""
        if entry.kind == TimelineEntry.Kind.FACTS:
            view.changes = [
                Change(fact_label(name, lang), value_text(name, before, lang), value_text(name, after, lang))
                for name, (before, after) in sorted(data.get("changes", {}).items())
            ]
        elif entry.kind == TimelineEntry.Kind.ASSESSMENT:
            if data.get("scale") == scale.id:
                view.level = level(int(data.get("level", 0)), lang, scale)
                if data.get("previous") is not None:
                    view.previous = level(int(data["previous"]), lang, scale)
        elif entry.kind == TimelineEntry.Kind.STATUS and "to" in data:
            view.status_from, view.status_to = status_label(data.get("from", "")), status_label(data["to"])
        elif entry.kind == TimelineEntry.Kind.DEADLINE:
            view.status_to = _deadline_name(data.get("scale", ""), data.get("deadline", ""), lang)
        elif entry.kind == TimelineEntry.Kind.TLP:
            view.status_from, view.status_to = data.get("from", ""), data.get("to", "")
        out.append(view)
    return out


def _deadline_name(scale_id: str, deadline_id: str, lang: str) -> str:
    """A reporting step by its name and regime ("Early warning, NIS2 Art. 23 reporting"), else its ids."""
    for scale in services.reporting_scales():
        if scale.id == scale_id and scale.regime is not None:
            for deadline in scale.regime.deadlines:
                if deadline.id == deadline_id:
                    return f"{deadline.name.get_for(lang)}, {scale.regime.name.get_for(lang)}"
    return f"{deadline_id} ({scale_id})"


def _author(entry: TimelineEntry) -> str:
    user = entry.author
    if user is None:
        return _("the system")
    name = user.get_full_name() or user.username
    if user.organisation is not None:
        return f"{name} ({user.organisation.name})"
    return name


def user_name(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username
