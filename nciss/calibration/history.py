"""The incident history a calibration re-assesses, held column by column.

``History`` keeps, per fact, one raw value per *distinct record* (None when unknown) and, per
incident, which record it has (``rows``; none given: one record per incident). A platform with a
million incidents reads them grouped (most incidents share their facts with many others), so the
batch engine assesses each distinct record once and the levels are spread back to the incidents.
Encoded columns are kept per vocabulary, so a draft, its current scale and every sensitivity
variant share the work.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

import numpy as np

from nciss.batch import Columns, _codes, _dtype, facts_read
from nciss.facts import fact_specs
from nciss.scales import Scale


class PerIncident(Sequence[Any]):
    """A per-record sequence read per incident: ``view[i]`` is the value of incident ``i``'s record."""

    def __init__(self, values: Sequence[Any], rows: np.ndarray | None):
        self.values = values
        self.rows = rows

    def __len__(self) -> int:
        return len(self.values) if self.rows is None else int(self.rows.size)

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self.values[i] if self.rows is None else self.values[int(self.rows[i])]

    def __iter__(self) -> Iterator[Any]:
        if self.rows is None:
            return iter(self.values)
        return (self.values[int(r)] for r in self.rows)


class History:
    """Incidents as columns of facts; ``references[i]`` leads back to incident ``i``.

    ``facts[name][r]`` is record ``r``'s value of fact ``name`` (as in a validated facts dict; lists
    may also be given as their length); ``sectors`` and ``classifications`` (per record, default: the
    facts of the same name) say what the incident is; ``rows[i]`` is incident ``i``'s record.
    """

    def __init__(
        self,
        references: Sequence[str],
        facts: Mapping[str, Sequence[Any]],
        sectors: Sequence[str | None] | None = None,
        classifications: Sequence[str | None] | None = None,
        rows: np.ndarray | None = None,
    ):
        self.references = references
        self.facts = facts
        self.rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        records = len(references) if rows is None else (len(next(iter(facts.values()))) if facts else 0)
        if self.rows is not None and self.rows.size != len(references):
            raise ValueError(f"{self.rows.size} rows for {len(references)} incidents")
        for name, values in facts.items():
            if len(values) != records:
                raise ValueError(f"fact {name!r} has {len(values)} values for {records} records")
        if sectors is not None and facts and len(sectors) != records:
            raise ValueError(f"{len(sectors)} sectors for {records} records")
        self.records = records
        self._sectors = sectors if sectors is not None else facts.get("sector", [None] * records)
        self._classifications = (
            classifications if classifications is not None else facts.get("classification", [None] * records)
        )
        self._encoded: dict[tuple[Any, ...], np.ndarray] = {}

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], references: Sequence[str] | None = None) -> History:
        """A history from fact dicts (references default to the position, "1", "2", ...)."""
        found = list(records)
        names = sorted({k for r in found for k in r})
        facts = {name: [r.get(name) for r in found] for name in names}
        refs = list(references) if references is not None else [str(i + 1) for i in range(len(found))]
        return cls(refs, facts)

    def __len__(self) -> int:
        return len(self.references)

    @property
    def sectors(self) -> PerIncident:
        """Each incident's sector (None when not given)."""
        return PerIncident(self._sectors, self.rows)

    @property
    def classifications(self) -> PerIncident:
        """Each incident's classification, ``class:type`` (None when not given)."""
        return PerIncident(self._classifications, self.rows)

    def record_of(self, i: int) -> int:
        return i if self.rows is None else int(self.rows[i])

    def record(self, i: int) -> dict[str, Any]:
        """Incident ``i``'s known facts as a dict (for ``nciss.assess`` and explanations)."""
        r = self.record_of(i)
        return {name: values[r] for name, values in self.facts.items() if values[r] is not None}

    def spread(self, per_record: np.ndarray) -> np.ndarray:
        """Values per record as values per incident."""
        return per_record if self.rows is None else per_record[self.rows]

    def codes(self, what: str) -> tuple[list[str], np.ndarray]:
        """Group keys per incident as integer codes: (keys, code per incident).

        ``what`` is ``"sector"`` or ``"class"`` (the RSIT class of the classification); "" when not given.
        """
        values = self._sectors if what == "sector" else [class_of(c) for c in self._classifications]
        keys = sorted({v or "" for v in values})
        index = {k: i for i, k in enumerate(keys)}
        per_record = np.fromiter((index[v or ""] for v in values), dtype=np.int64, count=len(values))
        return keys, self.spread(per_record)

    def take(self, indices: Sequence[int] | np.ndarray) -> History:
        """The incidents at ``indices``, in that order (their records are shared, not copied)."""
        idx = np.asarray(indices, dtype=np.int64).ravel()
        rows = idx if self.rows is None else self.rows[idx]
        return History([self.references[int(i)] for i in idx], self.facts, self._sectors, self._classifications, rows)

    def matching(self, *, sector: str | None = None, classification: str | None = None) -> np.ndarray:
        """Per incident: is it of ``sector`` and of ``classification`` (a whole ``class:type`` or a class)?

        "" matches the incidents where it is not given.
        """
        keep = np.ones(self.records, dtype=bool)
        if sector is not None:
            keep &= np.array([(s or "") == sector for s in self._sectors], dtype=bool)
        if classification is not None:
            keep &= np.array(
                [classification in (c or "", class_of(c) or "") for c in self._classifications], dtype=bool
            )
        return self.spread(keep)

    def where(self, *, sector: str | None = None, classification: str | None = None) -> History:
        """The incidents of ``sector`` and of ``classification`` (see ``matching``)."""
        return self.take(np.flatnonzero(self.matching(sector=sector, classification=classification)))

    def record_columns(self, scale: Scale) -> tuple[Columns, int]:
        """The batch engine's columns, one row per record, for the facts ``scale`` reads (its assumptions filled in)."""
        return {fact: self._column(scale, fact) for fact in facts_read(scale)}, self.records

    def columns_for(self, scale: Scale) -> tuple[Columns, int]:
        """The batch engine's columns, one row per incident."""
        columns, _ = self.record_columns(scale)
        return {k: self.spread(c) for k, c in columns.items()}, len(self)

    def _column(self, scale: Scale, fact: str) -> np.ndarray:
        kind = fact_specs()[fact].kind
        codes = tuple(_codes(scale, fact)) if kind in ("enum", "string") else ()
        assumed = scale.assumptions.get(fact)
        key = (fact, codes, repr(assumed))
        column = self._encoded.get(key)
        if column is None:
            column = _encode_column(fact, kind, codes, self.facts.get(fact), assumed, self.records)
            self._encoded[key] = column
        return column


def class_of(classification: str | None) -> str | None:
    """The RSIT class of a ``class:type`` classification."""
    return classification.split(":", 1)[0] if classification else None


def _encode_column(
    fact: str, kind: str, codes: tuple[Any, ...], raw: Sequence[Any] | None, assumed: Any, n: int
) -> np.ndarray:
    """One column as ``nciss.batch.encode`` would build it (values unknown to the scale count as unknown)."""
    dtype = _dtype(fact)[0]
    if raw is None:
        raw = [None] * n
    if assumed is not None:
        raw = [assumed if v is None else v for v in raw]
    if kind in ("enum", "string"):
        index = {v: i for i, v in enumerate(codes)}
        return np.fromiter((index.get(v, -1) for v in raw), dtype=dtype, count=n)
    if kind == "bool":
        return np.fromiter((-1 if v is None else int(v) for v in raw), dtype=dtype, count=n)
    if kind == "list":
        return np.fromiter(
            (-1 if v is None else v if isinstance(v, int) else len(v) for v in raw), dtype=dtype, count=n
        )
    return np.array(raw, dtype=np.float64)  # None becomes NaN
