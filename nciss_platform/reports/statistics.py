"""Incident statistics over a period: the tables behind the monthly, annual and public reports.

- A **period** is a calendar month (``2026-11``), quarter (``2026-Q3``) or year (``2026``) in the
  deployment's time zone (``TIME_ZONE``): an incident belongs to it when it was *reported* in it.
- The incidents counted are those of ``counted_incidents()``: every incident but duplicates
  merged into another one and reports rejected as no incident. It is the one place to narrow
  the base (e.g. to leave exercises out). TLP:RED incidents are counted, never detailed.
- Every figure is a ``Table`` of ``Row``s: the reports draw them as charts and tables, and the
  CSV export writes the same rows (``csv_text``), one line per row with the table's name.
- Public statistics (``anonymise``) keep only aggregate counts and suppress small cells: a count
  from 1 to 4 is shown as "<5"; where a table would then have exactly one hidden cell, the next
  smallest count is hidden too, so that the total does not give the hidden one away.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncMonth
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from nciss_platform import clock
from nciss_platform.campaigns.models import Campaign
from nciss_platform.dashboard import rollups
from nciss_platform.dashboard import services as dashboard
from nciss_platform.errors import ServiceError
from nciss_platform.feeds.models import FeedIncident
from nciss_platform.incidents import display, services
from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.incidents.workflow import Status
from nciss_platform.reports import sitreps
from nciss_platform.reports.advisories import classification_name, sector_name
from nciss_platform.scales.services import LevelView

SMALL_CELL = 5  # counts from 1 to SMALL_CELL - 1 are hidden in public statistics
HIDDEN_SMALL = f"<{SMALL_CELL}"  # a hidden count from 1 to 4
HIDDEN_OTHER = "x"  # a larger count hidden so that a small one cannot be worked out from the total
TOP_TYPES = 10
LISTED = 50  # notable incidents listed at most (the rest are counted)
UNKNOWN = "unknown"
CSV_COLUMNS = ("table", "period", "key", "label", "value")
PERIOD_FORMS = {
    "month": (re.compile(r"^(\d{4})-(\d{2})$"), "YYYY-MM"),
    "quarter": (re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE), "YYYY-Qn"),
    "year": (re.compile(r"^(\d{4})$"), "YYYY"),
}


# ---------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """A calendar month, quarter or year: [start, end) in the deployment's time zone."""

    kind: str  # month, quarter, year
    year: int
    number: int  # the month (1-12) or the quarter (1-4); 1 for a year

    @property
    def first_month(self) -> int:
        return {"month": self.number, "quarter": 3 * self.number - 2, "year": 1}[self.kind]

    @property
    def months(self) -> int:
        return {"month": 1, "quarter": 3, "year": 12}[self.kind]

    @property
    def start(self) -> dt.datetime:
        return _month_start(self.year, self.first_month)

    @property
    def end(self) -> dt.datetime:
        index = self.year * 12 + self.first_month - 1 + self.months
        return _month_start(index // 12, index % 12 + 1)

    @property
    def code(self) -> str:
        return {"month": f"{self.year}-{self.number:02d}", "quarter": f"{self.year}-Q{self.number}"}.get(
            self.kind, str(self.year)
        )

    def previous(self) -> Period:
        if self.kind == "year":
            return Period("year", self.year - 1, 1)
        per_year = 12 if self.kind == "month" else 4
        index = self.year * per_year + self.number - 2
        return Period(self.kind, index // per_year, index % per_year + 1)

    def label(self) -> str:
        """The period in words in the active language: "November 2026", "Q3 2026", "2026"."""
        if self.kind == "month":
            return formats.date_format(dt.date(self.year, self.number, 1), "F Y")
        if self.kind == "quarter":
            return _("Q%(quarter)s %(year)s") % {"quarter": self.number, "year": self.year}
        return str(self.year)

    def buckets(self) -> list[tuple[dt.date, str, str]]:
        """The chart's columns: (first day, code, short label), days of a month, else months."""
        first = self.start.date()
        if self.kind == "month":
            days = (self.end.date() - first).days
            return [(day, day.isoformat(), str(day.day)) for day in (first + dt.timedelta(days=n) for n in range(days))]
        months = [dt.date(self.year, self.first_month + n, 1) for n in range(self.months)]
        return [(m, m.strftime("%Y-%m"), formats.date_format(m, "M")) for m in months]


def _month_start(year: int, month: int) -> dt.datetime:
    return dt.datetime(year, month, 1, tzinfo=timezone.get_default_timezone())


def parse_period(text: str, kinds: Iterable[str] = PERIOD_FORMS) -> Period:
    """``2026-11``, ``2026-Q3`` or ``2026`` as a Period of one of ``kinds``; ServiceError otherwise."""
    value = text.strip()
    for kind in kinds:
        pattern, _form = PERIOD_FORMS[kind]
        match = pattern.match(value)
        if match:
            year, number = int(match.group(1)), int(match.group(2)) if kind != "year" else 1
            if not 1 <= number <= 12 or year < 1970:
                break
            return Period(kind, year, number)
    forms = " or ".join(PERIOD_FORMS[kind][1] for kind in kinds)
    raise ServiceError([("period", f"{value[:40]!r} is not a period: use {forms}")])


def counted_incidents() -> QuerySet[Incident]:
    """Every incident the statistics count: not a duplicate merged into another, not rejected.

    The one place to narrow the base of every figure (exercise incidents, when they exist).
    """
    return Incident.objects.exclude(status__in=(Status.DUPLICATE, Status.REJECTED)).exclude(duplicate_of__isnull=False)


def reported_in(period: Period) -> QuerySet[Incident]:
    return counted_incidents().filter(reported_at__gte=period.start, reported_at__lt=period.end)


# ---------------------------------------------------------------- tables


@dataclass(frozen=True)
class Row:
    """One figure: a count (or a share, a duration in hours) under a key, with its label in words."""

    key: str
    label: str
    value: int | float | None
    period: str = ""  # the bucket (day or month) of a time series
    shown: str = ""  # the value as the report writes it, localised; HIDDEN_SMALL or HIDDEN_OTHER when hidden
    level: LevelView | None = None
    hidden: bool = False


@dataclass(frozen=True)
class Table:
    name: str  # the CSV's ``table`` column, stable: by_level, by_sector ...
    title: str
    rows: tuple[Row, ...]

    @property
    def total(self) -> int:
        return sum(int(row.value or 0) for row in self.rows)


def table_of(name: str, title: str, rows: Iterable[Row]) -> Table:
    return Table(name, title, tuple(replace(row, shown=row.shown or _number(row.value)) for row in rows))


def _number(value: int | float | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return formats.number_format(value, 1, use_l10n=True)
    return formats.number_format(value, 0, use_l10n=True, force_grouping=True)


def suppressed(table: Table) -> Table:
    """The table with small counts shown as "<5", and one more hidden where one alone would show by difference."""
    hidden = {i for i, row in enumerate(table.rows) if row.value and 0 < row.value < SMALL_CELL}
    if len(hidden) == 1:
        others = [(row.value, i) for i, row in enumerate(table.rows) if row.value and i not in hidden]
        if others:
            hidden.add(min(others)[1])
    rows = tuple(_hide(row) if i in hidden else row for i, row in enumerate(table.rows))
    return replace(table, rows=rows)


def _hide(row: Row) -> Row:
    small = 0 < int(row.value or 0) < SMALL_CELL
    return replace(row, shown=HIDDEN_SMALL if small else HIDDEN_OTHER, hidden=True)


# ---------------------------------------------------------------- the statistics of a period


@dataclass
class Statistics:
    period: Period
    public: bool
    scale_name: str
    levels: list[LevelView]  # the top level first
    total: Row
    previous_total: Row
    totals: Table  # the two rows above, for the CSV
    change: str  # "+12.5 %", "–" when there was nothing before
    per_bucket: Table  # incidents per day (a month) or per month
    per_bucket_by_level: Table  # the same by level (internal reports only)
    by_level: Table
    by_class: Table
    by_sector: Table
    top_types: Table
    response: Table
    sources: Table  # feeds and campaigns
    notable: list[sitreps.Row] = field(default_factory=list)  # critical or high incidents
    notable_count: int = 0  # notable incidents, including those not listed (TLP:RED ones, beyond LISTED)
    notable_shown: str = ""  # the count as the report writes it ("<5" in public statistics when small)
    high_from: LevelView | None = None

    @property
    def tables(self) -> list[Table]:
        """Every table behind the report, in its order; the CSV export writes them all."""
        found = [self.totals, self.per_bucket]
        if not self.public:
            found.append(self.per_bucket_by_level)
        return [*found, self.by_level, self.by_class, self.top_types, self.by_sector, self.response, self.sources]

    def bucket_rows(self) -> list[tuple[Row, list[int]]]:
        """(the bucket's total row, its counts per level, the top level first), oldest first."""
        counts = self._by_bucket_and_rank()
        return [(row, [counts.get((lv.rank, row.period), 0) for lv in self.levels]) for row in self.per_bucket.rows]

    def _by_bucket_and_rank(self) -> dict[tuple[int, str], int]:
        return {
            (row.level.rank, row.period): int(row.value or 0)
            for row in self.per_bucket_by_level.rows
            if row.level is not None
        }

    def chart_levels(self) -> list[tuple[LevelView, list[int]]]:
        """(level, counts per bucket), the lowest level first: the stacked columns' series."""
        counts = self._by_bucket_and_rank()
        codes = [row.period for row in self.per_bucket.rows]
        return [(level, [counts.get((level.rank, code), 0) for code in codes]) for level in reversed(self.levels)]


def period_statistics(period: Period, *, lang: str, public: bool = False, now: dt.datetime | None = None) -> Statistics:
    """The statistics of ``period`` in ``lang`` (call inside ``translation.override(lang)``).

    ``public``: aggregate counts only, small cells suppressed, no incident named but TLP:CLEAR ones.
    """
    now = now or clock.now()
    scale = services.national_scale()
    incidents = reported_in(period)
    levels = [display.level(level.rank, lang, scale) for level in reversed(scale.levels)]
    level_of = {level.rank: level for level in levels}
    month = period.kind == "month"

    trunc = TruncDay if month else TruncMonth
    per: Counter[tuple[str, int]] = Counter()
    for bucket, rank, n in (
        incidents.order_by()
        .annotate(bucket=trunc("reported_at", tzinfo=timezone.get_default_timezone()))
        .values_list("bucket", "level")
        .annotate(n=Count("pk"))
    ):
        per[_bucket_code(bucket, period), min(rank, scale.top)] += n
    buckets = period.buckets()
    per_bucket = [
        Row(code, label, sum(per[code, lv.rank] for lv in levels), period=code) for _d, code, label in buckets
    ]
    per_bucket_by_level = [
        Row(str(lv.rank), lv.name, per[code, lv.rank], period=code, level=lv)
        for _d, code, _l in buckets
        for lv in levels
    ]
    by_rank: Counter[int] = Counter()
    for (_code, rank), n in per.items():
        by_rank[rank] += n
    total = sum(by_rank.values())
    previous = reported_in(period.previous()).count()

    types: Counter[str] = Counter(dict(incidents.order_by().values_list("classification").annotate(n=Count("pk"))))
    classes: Counter[str] = Counter()
    for value, n in types.items():
        classes[value.partition(":")[0] or UNKNOWN] += n
    sectors: Counter[str] = Counter()
    for sector, n in incidents.order_by().values_list("sector").annotate(n=Count("pk")):
        sectors[sector or UNKNOWN] += n

    tables = {
        "per_bucket": (
            "per_day" if month else "per_month",
            _("Incidents per day") if month else _("Incidents per month"),
            per_bucket,
        ),
        "per_bucket_by_level": (
            "per_day_by_level" if month else "per_month_by_level",
            _("Incidents per day, by level") if month else _("Incidents per month, by level"),
            per_bucket_by_level,
        ),
        "by_level": (
            "by_level",
            _("Incidents by level"),
            [Row(str(lv.rank), lv.name, by_rank[lv.rank], level=lv) for lv in levels],
        ),
        "by_class": (
            "by_class",
            _("Incidents by classification (RSIT class)"),
            [
                Row(key, known_or_not(classification_name(key, lang) if key != UNKNOWN else ""), n)
                for key, n in largest_first(classes)
            ],
        ),
        "top_types": (
            "top_types",
            _("Most frequent incident types"),
            [Row(key, classification_name(key, lang), n) for key, n in largest_first(types) if key][:TOP_TYPES],
        ),
        "by_sector": (
            "by_sector",
            _("Incidents by sector"),
            [
                Row(key, known_or_not(sector_name(key, lang) if key != UNKNOWN else ""), n)
                for key, n in largest_first(sectors)
            ],
        ),
        "response": ("response", _("Response targets and times"), _response_rows(period, now)),
        "sources": ("sources", _("Feeds and campaigns"), _source_rows(incidents, period)),
    }
    counted = {key: table_of(name, title, rows) for key, (name, title, rows) in tables.items()}
    total_row = Row("incidents", _("Incidents reported"), total, shown=_number(total))
    previous_row = Row(
        "previous_period", _("Incidents reported in the previous period"), previous, shown=_number(previous)
    )
    change = _change(total, previous)
    if public:
        # The time series, the levels, the classes, the types and the sectors: small cells hidden.
        counted = {key: table if key == "response" else suppressed(table) for key, table in counted.items()}
        total_row, previous_row = (
            _hide(r) if 0 < int(r.value or 0) < SMALL_CELL else r for r in (total_row, previous_row)
        )
        if total_row.hidden or previous_row.hidden:
            change = "–"

    high = display.high_level(scale)
    notable = incidents.filter(level__gte=high)
    notable_count = notable.count()
    listed = notable.filter(tlp=TLP.CLEAR) if public else notable.exclude(tlp=TLP.RED)
    return Statistics(
        period=period,
        public=public,
        scale_name=scale.name.get_for(lang),
        levels=levels,
        total=total_row,
        previous_total=previous_row,
        totals=Table("totals", _("Totals"), (total_row, previous_row)),
        change=change,
        per_bucket=counted["per_bucket"],
        per_bucket_by_level=counted["per_bucket_by_level"],
        by_level=counted["by_level"],
        by_class=counted["by_class"],
        by_sector=counted["by_sector"],
        top_types=counted["top_types"],
        response=counted["response"],
        sources=counted["sources"],
        notable=[
            sitreps.Row(
                i.reference,
                i.title,
                level_of[min(i.level, scale.top)],
                classification_name(i.classification, lang),
                sector_name(i.sector, lang),
                display.status_label(i.status),
                i.tlp,
                i.reported_at,
            )
            for i in listed.order_by("-level", "reported_at")[:LISTED]
        ],
        notable_count=notable_count,
        notable_shown=HIDDEN_SMALL if public and 0 < notable_count < SMALL_CELL else _number(notable_count),
        high_from=level_of[high],
    )


def _bucket_code(bucket: dt.datetime | dt.date, period: Period) -> str:
    day = bucket.date() if isinstance(bucket, dt.datetime) else bucket
    return day.isoformat() if period.kind == "month" else day.strftime("%Y-%m")


def largest_first(counts: Counter[str]) -> list[tuple[str, int]]:
    """The largest count first, then by key; the unknown last."""
    return sorted(counts.items(), key=lambda item: (item[0] in (UNKNOWN, ""), -item[1], item[0]))


def known_or_not(name: str) -> str:
    return name or _("not known yet")


def _change(now: int, before: int) -> str:
    if not before:
        return "–"
    change = 100 * (now - before) / before
    sign = "+" if change > 0 else ""
    return f"{sign}{formats.number_format(change, 1, use_l10n=True)} %"


def _response_rows(period: Period, now: dt.datetime) -> list[Row]:
    """The share of decided response steps done in time (%), and the mean hours to triage and resolve.

    From the dashboard's daily rollups (``dashboard.metrics`` summed per UTC day, at most a minute
    stale): the period's calendar dates, taken as UTC days.
    """
    rollups.ensure_fresh(now)
    first, last = period.start.date(), (period.end - dt.timedelta(days=1)).date()
    figures = dashboard.performance(dashboard.Period((last - first).days + 1, last))
    rows = []
    for step in figures.compliance.steps:
        share = None if step.share is None else round(100 * step.share, 1)
        label = _("%(step)s within target (%%)") % {"step": display.STEP_LABELS[step.step]}
        rows.append(Row(f"{step.step}_within_target_percent", label, share))
    for key, label, delta in (
        ("mean_hours_to_triage", _("Mean time to triage"), figures.times.to_triage),
        ("mean_hours_to_resolve", _("Mean time to resolve"), figures.times.to_resolve),
    ):
        hours = None if delta is None else round(delta.total_seconds() / 3600, 1)
        rows.append(Row(key, label, hours, shown=display.span(delta) if delta is not None else "–"))
    return rows


def _source_rows(incidents: QuerySet[Incident], period: Period) -> list[Row]:
    """Incidents built from feed events, the events they absorbed, and the campaigns first seen in the period."""
    feed = FeedIncident.objects.filter(incident__in=incidents.values("pk")).aggregate(
        incidents=Count("pk"), events=Sum("events")
    )
    campaigns = Campaign.objects.filter(first_seen__gte=period.start, first_seen__lt=period.end).count()
    return [
        Row("feed_incidents", _("Incidents from automated feeds"), feed["incidents"]),
        Row("feed_events", _("Feed events behind them"), feed["events"] or 0),
        Row("campaigns", _("Campaigns first seen"), campaigns),
    ]


# ---------------------------------------------------------------- CSV


def csv_text(tables: Sequence[Table]) -> str:
    """Every row of ``tables`` as CSV: ``table, period, key, label, value`` (hidden counts as "<5")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for table in tables:
        for row in table.rows:
            value = row.shown if row.hidden else "" if row.value is None else row.value
            writer.writerow([table.name, row.period, row.key, row.label, value])
    return out.getvalue()
