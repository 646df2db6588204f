"""The shape every format reads into and writes from."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

TLP_LABELS = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")
PAP_LABELS = ("PAP:CLEAR", "PAP:GREEN", "PAP:AMBER", "PAP:RED")


def read_label(value: str, labels: tuple[str, ...]) -> str | None:
    """A TLP or PAP label written loosely (``amber``, ``tlp:amber``, ``TLP:WHITE``) in its TLP 2.0
    form (WHITE is CLEAR), or None when it is none of ``labels`` (TLP_LABELS or PAP_LABELS)."""
    prefix = labels[0].split(":", 1)[0] + ":"
    text = value.strip().upper().removeprefix(prefix)
    label = prefix + ("CLEAR" if text == "WHITE" else text)
    return label if label in labels else None


# Observable types, named as STIX 2.1 cyber-observable objects (hashes as file:hashes.<ALGO>).
OBSERVABLE_TYPES = (
    "ipv4-addr",
    "ipv6-addr",
    "domain-name",
    "url",
    "email-addr",
    "mac-addr",
    "autonomous-system",
    "file:hashes.MD5",
    "file:hashes.SHA-1",
    "file:hashes.SHA-256",
    "file:name",
    "vulnerability",  # a CVE id
)


@dataclass(frozen=True)
class Assessed:
    """An incident's level on one scale, as it travels with an export or a share.

    ``basis`` is ``"facts"`` when the level was computed from the facts, ``"crosswalk"`` when
    it was mapped from another scale's level because facts were missing (``missing`` names them).
    """

    scale_id: str
    scale_version: str
    rank: int
    name: str
    score: float | None = None
    reachable_max: int | None = None
    basis: str = "facts"
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Observable:
    """An indicator or artefact of the incident: an address, a domain, a hash ..."""

    type: str
    value: str
    comment: str = ""


@dataclass(frozen=True)
class IncidentRecord:
    """One incident as the formats see it: what an importer yields and an exporter consumes.

    ``facts`` use the facts vocabulary (classification and the ISO 8601 times included).
    ``source``/``source_id`` identify the record in the format it came from, so that importing
    the same data twice creates nothing new and an export can give a round-tripped record its
    original identifier back. ``original`` is the source record as read; ``mapped`` and
    ``unmapped`` list the source fields (dotted paths) that became facts and those kept only
    in the original. ``reporter`` is None when the reporting organisation stays anonymous.
    """

    title: str
    facts: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    source: str = ""
    source_id: str = ""
    reference: str = ""
    tlp: str | None = None
    pap: str | None = None
    status: str = ""
    created: dt.datetime | None = None
    modified: dt.datetime | None = None
    reporter: str | None = None
    reporter_country: str | None = None
    assessments: tuple[Assessed, ...] = ()
    observables: tuple[Observable, ...] = ()
    original: Any = None
    mapped: tuple[str, ...] = ()
    unmapped: tuple[str, ...] = ()

    @property
    def classification(self) -> str:
        return str(self.facts.get("classification") or "")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601 strings); :meth:`from_json` reads it back."""
        data = asdict(self)
        for name in ("created", "modified"):
            value = getattr(self, name)
            data[name] = value.isoformat() if value else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IncidentRecord:
        values = dict(data)
        for name in ("created", "modified"):
            values[name] = dt.datetime.fromisoformat(values[name]) if values.get(name) else None
        values["assessments"] = tuple(
            Assessed(**{**a, "missing": tuple(a.get("missing", ()))}) for a in data.get("assessments", ())
        )
        values["observables"] = tuple(Observable(**o) for o in data.get("observables", ()))
        values["mapped"] = tuple(data.get("mapped", ()))
        values["unmapped"] = tuple(data.get("unmapped", ()))
        return cls(**values)


@dataclass(frozen=True)
class Rejected:
    """A record that could not be imported: where it is and why (the batch goes on)."""

    file: str
    record: str
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.record}" if self.record else self.file
        return f"{where}: {self.field or '(record)'}: {self.reason}"
