"""Reading the incident history for calibration, fast.

Only the facts the scales compared read are fetched, each extracted in SQL (``facts->>'x'`` on
PostgreSQL, ``json_extract`` on SQLite), so no whole facts document is decoded in Python, and the
database groups the incidents that share sector, classification and those facts: each distinct
record comes once, with its incidents' references (docs/performance.md has the figures).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Aggregate, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform

from nciss.batch import facts_read
from nciss.calibration import History
from nciss.facts import fact_specs
from nciss.scales import Scale
from nciss_platform.incidents.models import Incident


def facts_of(*scales: Scale) -> list[str]:
    """Every fact one of ``scales`` reads: what a history for comparing them needs."""
    return sorted({f for s in scales for f in facts_read(s)})


def incidents(
    since: dt.datetime | dt.date | None = None, sector: str | None = None, classification: str | None = None
) -> QuerySet[Incident]:
    """The incidents a calibration re-assesses (not merged duplicates): all, or since a day, of a sector or classification.

    ``classification`` is a whole ``class:type`` or an RSIT class.
    """
    qs = Incident.objects.filter(duplicate_of=None)  # a merged duplicate counts in its primary
    if since is not None:
        start = since if isinstance(since, dt.datetime) else dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
        qs = qs.filter(reported_at__gte=start)
    if sector:
        qs = qs.filter(sector=sector)
    if classification:
        qs = (
            qs.filter(classification=classification)
            if ":" in classification
            else qs.filter(classification__startswith=f"{classification}:")
        )
    return qs


class _References(Aggregate):
    """The references of a group of incidents, separated by spaces (PostgreSQL)."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ' ')"
    output_field = TextField()


def read_history(
    facts: Iterable[str], queryset: QuerySet[Incident] | None = None, progress: Callable[[int], None] | None = None
) -> History:
    """The incidents of ``queryset`` (default: all but merged duplicates) as a ``History`` holding ``facts``.

    The incidents are grouped by sector, classification and the facts read, so each distinct record
    comes once with the references of its incidents: by PostgreSQL in SQL, elsewhere (SQLite, where
    extracting each fact re-parses the document) from each facts document decoded once.
    """
    names = sorted(set(facts))
    qs = (queryset if queryset is not None else incidents()).order_by()
    groups = _grouped_in_sql(qs, names) if connection.vendor == "postgresql" else _grouped_here(qs, names)
    columns = [list(c) for c in zip(*groups, strict=True)] if groups else [[] for _ in range(len(names) + 3)]
    per_group = columns[-1]
    references = [ref for refs in per_group for ref in refs]
    rows = np.repeat(np.arange(len(per_group)), [len(refs) for refs in per_group])
    if progress:
        progress(len(references))
    return History(
        references,
        {name: _typed(name, raw) for name, raw in zip(names, columns[2:-1], strict=True)},
        sectors=[s or None for s in columns[0]],
        classifications=[c or None for c in columns[1]],
        rows=rows,
    )


def _grouped_in_sql(qs: QuerySet[Incident], names: list[str]) -> list[tuple[Any, ...]]:
    """(sector, classification, each fact as text, [references]) per group, grouped by PostgreSQL."""
    fields = [f"f_{name}" for name in names]
    found = (
        qs.annotate(**{f: KeyTextTransform(name, "facts") for f, name in zip(fields, names, strict=True)})
        .values("sector", "classification", *fields)
        .annotate(references=_References("reference"))
        .values_list("sector", "classification", *fields, "references")
    )
    return [(*group[:-1], group[-1].split(" ")) for group in found]


def _grouped_here(qs: QuerySet[Incident], names: list[str]) -> list[tuple[Any, ...]]:
    """The same groups, made here from each incident's facts."""
    groups: dict[tuple[Any, ...], list[str]] = {}
    for reference, sector, classification, document in qs.values_list(
        "reference", "sector", "classification", "facts"
    ).iterator(chunk_size=20_000):
        values = (document.get(name) for name in names)
        key = (sector, classification, *(tuple(v) if isinstance(v, list) else v for v in values))
        groups.setdefault(key, []).append(reference)
    return [(*key, references) for key, references in groups.items()]


def _typed(name: str, raw: list[Any]) -> list[Any]:
    """Extracted values (text from PostgreSQL, decoded JSON here) as a validated fact's type."""
    kind = fact_specs()[name].kind
    if kind == "bool":
        truth = {"true": True, "false": False, "1": True, "0": False, 1: True, 0: False}
        return [None if v is None else truth[v] for v in raw]
    if kind in ("int", "number"):
        return [None if v is None else float(v) for v in raw]
    if kind == "list":
        return [None if v is None else json.loads(v) if isinstance(v, str) else list(v) for v in raw]
    return raw
