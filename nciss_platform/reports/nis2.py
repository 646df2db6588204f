"""The NIS2 three-monthly summary for ENISA (Directive (EU) 2022/2555, Art. 23(9)).

For one calendar quarter (in the deployment's time zone), the incidents of entities in NIS2 scope
counted five ways, each over all of them: by sector, by root cause, by classification (RSIT
class), cross-border (yes/no) and significant (yes/no). Only aggregate counts: no reference, no
title, no organisation.

- **In scope**: the incident's facts say the entity is an NIS2 entity: ``entity_criticality`` is
  ``important``, ``essential`` or ``critical`` (designated critical infrastructure), or
  ``entity_type`` is one of the digital providers of Implementing Regulation 2024/2690 (``dns``
  ... ``trust-service``), which are in scope whatever their size. Other incidents (``other``
  entities, or nothing known of the entity) are counted apart as out of scope.
- **Significant**: level 1 of the ``eu-nis2`` preset over the incident's facts as known now
  (unknown facts at their least severe value, as the level always is).
- **Cross-border**: ``countries_affected`` is not empty; unknown when it was never given.
- The CSV has the stable columns ``quarter, dimension, value, label, incidents``.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

import nciss
from nciss.batch import assess_batch, encode
from nciss_platform.incidents import display
from nciss_platform.incidents.models import Incident
from nciss_platform.reports.advisories import classification_name, sector_name
from nciss_platform.reports.statistics import (
    UNKNOWN,
    Period,
    Row,
    Table,
    known_or_not,
    largest_first,
    reported_in,
    table_of,
)

NIS2_SCALE = "eu-nis2"
IN_SCOPE_CRITICALITY = ("important", "essential", "critical")
DIGITAL_PROVIDERS = (
    "dns",
    "tld",
    "cloud",
    "datacentre",
    "cdn",
    "msp",
    "mssp",
    "marketplace",
    "search-engine",
    "social-network",
    "trust-service",
)
CSV_COLUMNS = ("quarter", "dimension", "value", "label", "incidents")
YES, NO = "yes", "no"


def in_scope(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """The incidents whose facts place the entity in NIS2 scope (see the module's docstring)."""
    return incidents.filter(
        Q(facts__entity_criticality__in=IN_SCOPE_CRITICALITY) | Q(facts__entity_type__in=DIGITAL_PROVIDERS)
    )


def significant(records: list[Mapping[str, Any]]) -> list[bool]:
    """Whether each record of facts is a significant incident on the eu-nis2 preset."""
    if not records:
        return []
    scale = nciss.load_scale(NIS2_SCALE)
    columns, n = encode(scale, records)
    return [bool(level >= 1) for level in assess_batch(scale, columns, n).level]


@dataclass
class Nis2Summary:
    period: Period
    in_scope: int
    out_of_scope: int
    tables: list[Table]  # by sector, root cause, classification, cross-border, significance

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for table in self.tables:
            for row in table.rows:
                writer.writerow([self.period.code, table.name, row.key, row.label, row.value])
        return out.getvalue()


def nis2_summary(period: Period, *, lang: str) -> Nis2Summary:
    """The summary of the quarter ``period`` in ``lang`` (call inside ``translation.override(lang)``)."""
    quarter = reported_in(period)
    scope = in_scope(quarter)
    facts = list(scope.order_by("reported_at", "pk").values_list("facts", flat=True))
    yes_no = {YES: _("Yes"), NO: _("No"), UNKNOWN: known_or_not("")}
    sectors = Counter(f.get("sector") or UNKNOWN for f in facts)
    causes = Counter(f.get("root_cause") or UNKNOWN for f in facts)
    classes = Counter((f.get("classification") or "").partition(":")[0] or UNKNOWN for f in facts)
    cross = Counter(_cross_border(f) for f in facts)
    signif = Counter(YES if s else NO for s in significant(facts))

    def named(counts: Counter[str], name: Any) -> list[Row]:
        return [
            Row(key, known_or_not(name(key)) if key != UNKNOWN else known_or_not(""), n)
            for key, n in largest_first(counts)
        ]

    def answers(counts: Counter[str]) -> list[Row]:
        keys = [YES, NO, *([UNKNOWN] if counts[UNKNOWN] else [])]
        return [Row(key, yes_no[key], counts[key]) for key in keys]

    tables = [
        table_of("sector", _("By sector"), named(sectors, lambda key: sector_name(key, lang))),
        table_of(
            "root_cause", _("By root cause"), named(causes, lambda key: display.value_text("root_cause", key, lang))
        ),
        table_of(
            "classification",
            _("By classification (RSIT class)"),
            named(classes, lambda key: classification_name(key, lang)),
        ),
        table_of("cross_border", _("Cross-border (other countries affected)"), answers(cross)),
        table_of("significant", _("Significant under NIS2 (eu-nis2)"), answers(signif)),
    ]
    count = len(facts)
    return Nis2Summary(period, count, quarter.count() - count, tables)


def _cross_border(facts: Mapping[str, Any]) -> str:
    countries: Iterable[str] | None = facts.get("countries_affected")
    if countries is None:
        return UNKNOWN
    return YES if list(countries) else NO
