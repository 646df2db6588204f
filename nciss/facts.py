"""The incident facts vocabulary (facts.md v1.1): specs, validation and JSON Schema.

Facts are a plain dict. Absent and ``None`` both mean "not known yet"; the
validator drops ``None`` values so the engine only ever sees known facts.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from nciss.texts import Text

FACTS_VERSION = "1.1"
_COUNTRY = re.compile(r"^[A-Z]{2}$")

# The largest value an unbounded number can take when the engine explores what an
# unknown fact could still be. Finite, so that arithmetic over it stays exact.
UNBOUNDED = 1e15


@dataclass(frozen=True)
class FactSpec:
    """One fact of the vocabulary."""

    name: str
    kind: str  # enum, bool, int, number, list, string, country, datetime
    group: str
    label: Text
    question: Text
    values: tuple[str, ...] = ()
    ordered: bool = False
    minimum: float = 0
    maximum: float | None = None
    items: str | None = None  # list facts: "country" or "sector"
    value_labels: dict[str, Text] = field(default_factory=dict)

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("int", "number")

    @property
    def is_ordered(self) -> bool:
        """More of this fact is more severe (facts.md, "Order")."""
        return self.ordered or self.is_numeric or self.kind == "list"

    def rank_of(self, value: str) -> int:
        return self.values.index(value)


class FactsError(ValueError):
    """Facts that do not follow the vocabulary; ``errors`` holds (path, reason) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {reason}" for path, reason in errors))


# Facts that are not about severity (facts.md, "Order"); the engine never assumes
# a direction for them.
NOT_SEVERITY = frozenset(
    {
        "classification",
        "root_cause",
        "sector",
        "us_ci_sector",
        "entity_type",
        "entity_country",
        "annual_turnover_eur",
        "scheduled_maintenance",
        "avg_response_seconds",
        "occurred_at",
        "detected_at",
        "reported_at",
    }
)


@cache
def _load() -> tuple[dict[str, FactSpec], dict[str, Text]]:
    raw = yaml.safe_load(resources.files("nciss.data").joinpath("facts.yaml").read_text("utf-8"))
    specs = {}
    for name, d in raw["facts"].items():
        specs[name] = FactSpec(
            name=name,
            kind=d["kind"],
            group=d["group"],
            label=Text(d["label"]),
            question=Text(d["question"]),
            values=tuple(d.get("values", ())),
            ordered=bool(d.get("ordered", False)),
            minimum=d.get("min", 0),
            maximum=d.get("max"),
            items=d.get("items"),
            value_labels={k: Text(v) for k, v in d.get("value_labels", {}).items()},
        )
    groups = {k: Text(v) for k, v in raw["groups"].items()}
    return specs, groups


def fact_specs() -> dict[str, FactSpec]:
    """Every fact of the vocabulary, by name, in the order of facts.md."""
    return _load()[0]


def fact_groups() -> dict[str, Text]:
    return _load()[1]


SECTORS: tuple[str, ...] = ()  # filled below, after the vocabulary is loaded


def _check_value(spec: FactSpec, value: Any, extra_values: frozenset[str]) -> tuple[Any, str | None]:
    """Return (normalised value, None) or (None, reason)."""
    kind = spec.kind
    if kind == "enum":
        if isinstance(value, str) and (value in spec.values or value in extra_values):
            return value, None
        return None, f"{value!r} is not one of {', '.join(spec.values)}"
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        return None, "expected true or false"
    if kind in ("int", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, "expected a number"
        if kind == "int" and not float(value).is_integer():
            return None, "expected a whole number"
        if not math.isfinite(value):
            return None, "expected a finite number"
        if value < spec.minimum:
            return None, "must not be negative" if spec.minimum == 0 else f"must be at least {spec.minimum:g}"
        if spec.maximum is not None and value > spec.maximum:
            return None, f"must be between 0 and {spec.maximum:g} (a share)"
        return (int(value) if kind == "int" else value), None
    if kind == "country":
        if isinstance(value, str) and _COUNTRY.match(value.upper()):
            return value.upper(), None
        return None, "expected an ISO 3166-1 alpha-2 country code"
    if kind == "list":
        if not isinstance(value, list):
            return None, "expected a list"
        out = []
        for item in value:
            if spec.items == "country":
                if not (isinstance(item, str) and _COUNTRY.match(item.upper())):
                    return None, f"{item!r} is not an ISO 3166-1 alpha-2 country code"
                out.append(item.upper())
            else:
                if not (isinstance(item, str) and (item in SECTORS or item in extra_values)):
                    return None, f"{item!r} is not a sector"
                out.append(item)
        return sorted(set(out)), None
    if kind == "datetime":
        if isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                return value, None
        return None, "expected an ISO 8601 date-time with an offset"
    if kind == "string":
        if isinstance(value, str) and value:
            return value, None
        return None, "expected a non-empty string"
    raise AssertionError(kind)


_ENUM, _BOOL, _INT, _NUMBER = range(4)


@cache
def _fast_checks() -> dict[str, tuple[int, Any, Any]]:
    """Per fact, what a common valid value looks like: (kind, values or lowest, highest).

    A value that does not look like that goes through ``_check_value``, which
    normalises it or says what is wrong; this only makes the usual case cheap.
    """
    checks: dict[str, tuple[int, Any, Any]] = {}
    for spec in fact_specs().values():
        if spec.kind == "enum":
            checks[spec.name] = (_ENUM, frozenset(spec.values), None)
        elif spec.kind == "bool":
            checks[spec.name] = (_BOOL, None, None)
        elif spec.kind == "int":
            checks[spec.name] = (_INT, spec.minimum, None)
        elif spec.kind == "number":
            checks[spec.name] = (
                _NUMBER,
                spec.minimum,
                spec.maximum if spec.maximum is not None else sys.float_info.max,
            )
    return checks


def validate_facts(raw: Any, *, extra_sectors: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Check ``raw`` against the vocabulary and return the known facts, normalised.

    Raises FactsError listing every problem. ``extra_sectors`` are national sectors a
    scale adds. Classification is only checked for its shape here; the scale's
    taxonomy checks the value.
    """
    if not isinstance(raw, dict):
        raise FactsError([("facts", "expected a JSON object")])
    specs = fact_specs()
    fast = _fast_checks()
    facts: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for name, value in raw.items():
        if value is None:
            continue
        check = fast.get(name)
        if check is not None:
            kind, a, b = check
            t = type(value)
            if (
                (kind == _ENUM and t is str and value in a)
                or (kind == _BOOL and t is bool)
                or (kind == _INT and t is int and value >= a)
                or (kind == _NUMBER and (t is float or t is int) and a <= value <= b)
            ):
                facts[name] = value
                continue
        if name == "facts_version":
            if value != FACTS_VERSION and value != "1.0":
                errors.append((name, f"unsupported version {value!r} (this is {FACTS_VERSION})"))
            continue
        spec = specs.get(name)
        if spec is None:
            errors.append((name, "unknown fact"))
            continue
        extra = extra_sectors if name in ("sector", "sectors_affected") else frozenset()
        checked, reason = _check_value(spec, value, extra)
        if reason:
            errors.append((name, reason))
        else:
            facts[name] = checked
    if "classification" in facts and ":" not in facts["classification"]:
        errors.append(("classification", "expected <class>:<type>, e.g. availability:ddos"))
    if errors:
        raise FactsError(errors)
    return facts


def facts_json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a facts record, as `nciss facts-schema` prints it."""
    props: dict[str, Any] = {"facts_version": {"type": "string", "enum": ["1.0", FACTS_VERSION]}}
    for spec in fact_specs().values():
        p: dict[str, Any]
        if spec.kind == "enum":
            p = {"type": ["string", "null"], "enum": [*spec.values, None]}
        elif spec.kind == "bool":
            p = {"type": ["boolean", "null"]}
        elif spec.kind in ("int", "number"):
            p = {"type": ["integer" if spec.kind == "int" else "number", "null"], "minimum": spec.minimum}
            if spec.maximum is not None:
                p["maximum"] = spec.maximum
        elif spec.kind == "country":
            p = {"type": ["string", "null"], "pattern": "^[A-Za-z]{2}$"}
        elif spec.kind == "list":
            item = (
                {"type": "string", "pattern": "^[A-Za-z]{2}$"}
                if spec.items == "country"
                else {"type": "string", "enum": list(SECTORS)}
            )
            p = {"type": ["array", "null"], "items": item, "uniqueItems": True}
        elif spec.kind == "datetime":
            p = {"type": ["string", "null"], "format": "date-time"}
        else:
            p = {"type": ["string", "null"], "pattern": "^[a-z0-9-]+:[a-z0-9-]+$"}
        p["title"] = spec.label["en"]
        p["description"] = spec.question["en"]
        if spec.is_ordered and spec.kind == "enum":
            p["description"] += " Values run from least to most severe."
        props[spec.name] = p
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://nciss.org/schemas/facts-1.1.json",
        "title": "nciss incident facts",
        "description": "Every field is optional; absent or null means not known yet.",
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }


SECTORS = fact_specs()["sector"].values
