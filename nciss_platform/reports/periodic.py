"""The periodic reports: monthly, annual, public statistics and the NIS2 summary, as PDF, HTML and CSV.

``periodic_report(kind, period, lang=..., now=...)`` is what the /statistics/ pages, the API and
``nciss report`` ask for. Internal reports (monthly, annual) are TLP:AMBER, or the most
restrictive TLP of an incident they list; the public statistics are TLP:CLEAR; the NIS2 summary
for ENISA is TLP:AMBER.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nciss_platform.errors import ServiceError
from nciss_platform.incidents.models import TLP
from nciss_platform.reports import charts
from nciss_platform.reports.documents import most_restrictive
from nciss_platform.reports.nis2 import Nis2Summary, nis2_summary
from nciss_platform.reports.services import Report
from nciss_platform.reports.statistics import Statistics, Table, csv_text, parse_period, period_statistics

INTERNAL_FLOOR = TLP.AMBER
NEUTRAL = "#6b8fb5"  # bars whose colour means nothing (classes, sectors): the label and number say it all

# Each kind of report: the periods it takes, and its title.
KINDS: dict[str, tuple[tuple[str, ...], Any]] = {
    "monthly": (("month",), gettext_lazy("Monthly incident report, %(period)s")),
    "annual": (("year",), gettext_lazy("Annual incident report %(period)s")),
    "public": (("month", "quarter", "year"), gettext_lazy("Public incident statistics, %(period)s")),
    "nis2-quarterly": (("quarter",), gettext_lazy("NIS2 summary for ENISA, %(period)s")),
}


@dataclass(frozen=True)
class PeriodicReport:
    """A report ready as PDF or HTML (``report``) and as CSV (``csv``), with the figures behind it."""

    kind: str
    report: Report
    csv: str
    figures: Statistics | Nis2Summary

    def file(self, suffix: str) -> bytes:
        """The report as the file ``suffix`` names: ``pdf``, ``html`` (standalone) or ``csv`` (UTF-8)."""
        if suffix == "pdf":
            return self.report.pdf().data
        if suffix == "html":
            return self.report.html().encode("utf-8")
        return self.csv.encode("utf-8")


def periodic_report(kind: str, period_text: str, *, lang: str, now: dt.datetime) -> PeriodicReport:
    """The ``kind`` report of ``period_text`` in ``lang``; ServiceError for an unknown kind or a bad period."""
    if kind not in KINDS:
        raise ServiceError([("kind", f"{kind[:40]!r} is not a report: use {', '.join(KINDS)}")])
    kinds, title_text = KINDS[kind]
    period = parse_period(period_text, kinds)
    filename = f"{kind}-{period.code}-{lang}"
    with translation.override(lang):
        title = str(title_text) % {"period": period.label()}
        if kind == "nis2-quarterly":
            summary = nis2_summary(period, lang=lang)
            context: dict[str, Any] = {"summary": summary, "charts": _nis2_charts(summary)}
            report = Report("reports/nis2_summary.html", context, title, INTERNAL_FLOOR, lang, now, filename)
            return PeriodicReport(kind, report, summary.csv_text(), summary)
        figures = period_statistics(period, lang=lang, public=kind == "public", now=now)
        tlp = TLP.CLEAR if figures.public else most_restrictive([n.tlp for n in figures.notable], INTERNAL_FLOOR)
        context = {"figures": figures, "charts": _charts(figures)}
        report = Report("reports/statistics.html", context, title, tlp, lang, now, filename)
        return PeriodicReport(kind, report, csv_text(figures.tables), figures)


def _bars(table: Table, colour: str = NEUTRAL) -> list[charts.Bar]:
    """A bar per row: hidden counts drawn empty, with their "<5" beside them."""
    return [
        charts.Bar(
            row.label,
            0 if row.hidden else int(row.value or 0),
            row.level.colour if row.level else colour,
            text=row.shown,
        )
        for row in table.rows
    ]


def _charts(figures: Statistics) -> dict[str, SafeString]:
    if figures.public:
        timeline = charts.bar_chart(_bars(figures.per_bucket), title=figures.per_bucket.title, row=14)
    else:
        timeline = charts.stacked_columns(
            [row.label for row in figures.per_bucket.rows],
            [charts.Series(level.name, level.colour, counts) for level, counts in figures.chart_levels()],
            title=figures.per_bucket_by_level.title,
        )
    return {
        "timeline": timeline,
        "by_level": charts.bar_chart(_bars(figures.by_level), title=figures.by_level.title),
        "by_class": charts.bar_chart(_bars(figures.by_class), title=figures.by_class.title),
        "by_sector": charts.bar_chart(_bars(figures.by_sector), title=figures.by_sector.title),
    }


def _nis2_charts(summary: Nis2Summary) -> dict[str, SafeString]:
    return {table.name: charts.bar_chart(_bars(table), title=table.title) for table in summary.tables}


def kind_name(kind: str) -> str:
    """The report's kind in words, for the page's choice of report."""
    return {
        "monthly": _("Monthly report"),
        "annual": _("Annual report"),
        "public": _("Public statistics (anonymised)"),
        "nis2-quarterly": _("NIS2 summary for ENISA (quarterly)"),
    }[kind]
