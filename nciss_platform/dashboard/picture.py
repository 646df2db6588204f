"""The dashboard as a reader sees it: the services' figures as localised numbers, dates, charts and links.

Every count leads to the list of the incidents behind it: the triage queue for the CSIRT's
analysts and coordinators, the incident list for administrators (both filter the same way,
``incidents.filters``, and show only what the reader may see).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import nciss
from nciss.clocks import STEP_NAMES
from nciss.facts import fact_specs
from nciss_platform.accounts.models import User
from nciss_platform.dashboard import services
from nciss_platform.incidents import display
from nciss_platform.reports import charts

# Okabe-Ito, distinguishable with colour-blindness; every line has a marker shape and a name too
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
TOP = 6  # classes and sectors drawn in the trend charts: the most frequent of the period
CLASS_NAMES = {
    "abusive-content": gettext_lazy("Abusive content"),
    "malicious-code": gettext_lazy("Malicious code"),
    "information-gathering": gettext_lazy("Information gathering"),
    "intrusion-attempts": gettext_lazy("Intrusion attempts"),
    "intrusions": gettext_lazy("Intrusions"),
    "availability": gettext_lazy("Availability"),
    "information-content-security": gettext_lazy("Information content security"),
    "fraud": gettext_lazy("Fraud"),
    "vulnerable": gettext_lazy("Vulnerable"),
    "other": gettext_lazy("Other"),
    "test": gettext_lazy("Test"),
}


def number(n: float, decimals: int | None = None) -> str:
    """``n`` as the active language writes numbers: 1,234 / 1 234, 93.4 / 93,4."""
    return formats.number_format(n, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def percent(share: float | None) -> str:
    return _("%(n)s%%") % {"n": number(round(share * 100, 1), 1)} if share is not None else "–"


def duration(delta: dt.timedelta | None) -> str:
    """A mean time in its two largest units: 37 min, 1 h 37 min, 3 days 4 h ("–" for none)."""
    if delta is None:
        return "–"
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return display.span(delta)
    big = dt.timedelta(hours=minutes // 60) if minutes < 48 * 60 else dt.timedelta(days=minutes // 1440)
    rest = dt.timedelta(minutes=minutes) - big
    small = (
        dt.timedelta(minutes=rest.seconds // 60 % 60) if minutes < 48 * 60 else dt.timedelta(hours=rest.seconds // 3600)
    )
    return f"{display.span(big)} {display.span(small)}" if small else display.span(big)


def day_label(day: dt.date) -> str:
    return formats.date_format(day, "j M")


def sector_name(sector: str, lang: str) -> str:
    labels = fact_specs()["sector"].value_labels
    return labels[sector].get_for(lang) if sector in labels else (sector or _("No sector"))


def class_name(klass: str) -> str:
    return str(CLASS_NAMES[klass]) if klass in CLASS_NAMES else (klass or _("Unclassified"))


class Links:
    """Where the dashboard's counts lead: the reader's incident list, filtered."""

    def __init__(self, user: User, period: services.Period):
        self.base = reverse("incidents:queue" if user.is_csirt_staff else "incidents:list")
        self.period = {"reported_from": period.first.isoformat(), "reported_to": period.last.isoformat()}

    def open(self, **params: Any) -> str:
        return self.to(status="open", **params)

    def reported(self, days: tuple[dt.date, dt.date] | None = None, **params: Any) -> str:
        """Incidents of any status reported in the period (or on ``days``: first and last)."""
        period = (
            self.period if days is None else {"reported_from": days[0].isoformat(), "reported_to": days[1].isoformat()}
        )
        return self.to(status="", **period, **params)

    def to(self, **params: Any) -> str:
        return f"{self.base}?{urlencode(params)}"


def build(
    user: User, lang: str, period: services.Period, now: dt.datetime, refreshed_at: dt.datetime
) -> dict[str, Any]:
    """The dashboard's context; call it with the reader's language active."""
    scale = display.national_scale()
    links = Links(user, period)
    levels = {level.rank: display.level(level.rank, lang, scale) for level in scale.levels}
    open_counts = services.open_by_level()
    highest = max((rank for rank, n in open_counts.items() if n), default=None)
    since = now - services.RECENT
    new, escalated = services.reported_since(since), services.escalated_count(since)
    by_level_bars = [
        charts.Bar(
            f"{levels[rank].meter} {levels[rank].name}",
            open_counts.get(rank, 0),
            levels[rank].colour,
            href=links.open(level=rank),
            text=number(open_counts.get(rank, 0)),
        )
        for rank in sorted(levels, reverse=True)
    ]
    performance = services.performance(period)
    return {
        "period": period,
        "periods": [(days, period_name(days)) for days in services.PERIODS],
        "period_text": _("%(first)s – %(last)s")
        % {"first": formats.date_format(period.first), "last": formats.date_format(period.last)},
        "refreshed_at": formats.date_format(refreshed_at.astimezone(dt.UTC), "DATETIME_FORMAT"),
        "refreshed_iso": refreshed_at.isoformat(),
        "highest": levels[highest] if highest is not None else None,
        "open_total": number(sum(open_counts.values())),
        "open_link": links.open(),
        "overdue_link": links.open(overdue=1),
        "new": number(new),
        "new_link": links.to(status="", reported_since=since.isoformat(timespec="seconds")),
        "escalated": number(escalated),
        "escalated_link": links.to(status="", escalated_since=since.isoformat(timespec="seconds")),
        "open_chart": charts.bar_chart(by_level_bars, title=_("Open incidents by level")),
        "level_trend": _level_trend(period, links, levels),
        "class_trend": _trend(period, links, "classification", class_name),
        "sector_trend": _trend(period, links, "sector", lambda s: sector_name(s, lang)),
        "heatmap": _heatmap(period, links, levels, lang, scale),
        "compliance": _compliance(performance, links, lang),
        "mean_to_triage": duration(performance.times.to_triage),
        "mean_to_resolve": duration(performance.times.to_resolve),
        "triaged": number(performance.times.triaged),
        "resolved": number(performance.times.resolved),
        "period_reported": number(performance.reported),
        "period_link": links.reported(),
        "campaigns": _campaigns(links, levels, lang),
    }


def period_name(days: int) -> str:
    return _("a year") if days == 365 else _("%(n)s days") % {"n": days}


def _labels(period: services.Period) -> list[str]:
    return [day_label(first) for first, _last in period.buckets]


def _level_trend(period: services.Period, links: Links, levels: dict[int, Any]) -> Any:
    counts = services.trend(period, "level")
    lines = [
        charts.Line(
            f"{levels[rank].meter} {levels[rank].name}",
            levels[rank].colour,
            counts[rank],
            hrefs=[links.reported(days, level=rank) for days in period.buckets],
            href=links.reported(level=rank),
            marker=charts.MARKERS[rank % len(charts.MARKERS)],
        )
        for rank in sorted(levels, reverse=True)
        if rank in counts
    ]
    return charts.line_chart(_labels(period), lines, title=_("Incidents reported by level"), format_value=number)


def _trend(period: services.Period, links: Links, dimension: str, name: Any) -> Any:
    counts = services.trend(period, dimension)
    largest = sorted(counts, key=lambda k: (-sum(counts[k]), str(k)))[:TOP]
    param = "classification" if dimension == "classification" else "sector"
    lines = []
    for i, key in enumerate(largest):
        value = str(key) or ("none" if dimension == "sector" else "")
        filtered = {param: value} if value else None
        lines.append(
            charts.Line(
                name(key),
                PALETTE[i % len(PALETTE)],
                counts[key],
                hrefs=[links.reported(days, **filtered) for days in period.buckets] if filtered else (),
                href=links.reported(None, **filtered) if filtered else "",
                marker=charts.MARKERS[i % len(charts.MARKERS)],
            )
        )
    title = _("Incidents reported by class") if dimension == "classification" else _("Incidents reported by sector")
    return charts.line_chart(_labels(period), lines, title=title, format_value=number)


def _heatmap(period: services.Period, links: Links, levels: dict[int, Any], lang: str, scale: nciss.Scale) -> Any:
    cells = services.sector_by_level(period)
    sectors = sorted({s for s, _level in cells}, key=lambda s: (-sum(n for (x, _l), n in cells.items() if x == s), s))
    ranks = sorted(levels)
    grid = [
        [
            charts.Cell(
                cells.get((sector, rank), 0),
                href=links.reported(sector=sector or "none", level=rank),
                text=number(cells.get((sector, rank), 0)),
            )
            for rank in ranks
        ]
        for sector in sectors
    ]
    return charts.heatmap(
        [sector_name(s, lang) for s in sectors],
        [levels[r].name for r in ranks],
        grid,
        title=_("Incidents reported by sector and level"),
        column_colours=[levels[r].colour for r in ranks],
    )


def _compliance(performance: services.Performance, links: Links, lang: str) -> dict[str, Any]:
    rows = [
        {
            "step": STEP_NAMES[s.step].get_for(lang),
            "share": percent(s.share),
            "met": number(s.met),
            "breached": number(s.breached),
            "decided": number(s.decided),
        }
        for s in performance.compliance.steps
    ]
    bars = [
        charts.Bar(
            STEP_NAMES[s.step].get_for(lang),
            round((s.share or 0) * 1000),
            "#0072b2",
            href=links.reported(),
            text=percent(s.share),
        )
        for s in performance.compliance.steps
    ]
    return {"rows": rows, "chart": charts.bar_chart(bars, title=_("Response targets met"))}


def _campaigns(links: Links, levels: dict[int, Any], lang: str) -> list[dict[str, Any]]:
    out = []
    for campaign in services.open_campaigns():
        try:
            url = reverse("campaigns:detail", args=[campaign.reference])
        except NoReverseMatch:  # the campaign pages are not there yet: its incidents instead
            url = links.to(status="", campaign=campaign.reference)
        out.append(
            {
                "campaign": campaign,
                "url": url,
                "incidents_link": links.to(status="", campaign=campaign.reference),
                "level": levels[min(campaign.level, max(levels))],
                "organisations": number(campaign.organisations_affected),
                "sectors": ", ".join(sector_name(s, lang) for s in campaign.sectors),
                "last_seen": formats.date_format(campaign.last_seen, "SHORT_DATE_FORMAT"),
            }
        )
    return out
