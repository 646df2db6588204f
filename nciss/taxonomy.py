"""The ENISA Reference Security Incident Taxonomy (RSIT), shipped in nciss/data/taxonomies (CC0)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _rsit() -> dict[str, Any]:
    text = resources.files("nciss.data").joinpath("taxonomies/rsit.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def rsit_classes() -> tuple[str, ...]:
    return tuple(p["value"] for p in _rsit()["predicates"])


@cache
def rsit_types() -> tuple[str, ...]:
    """Every RSIT classification as ``class:type``, e.g. ``availability:ddos``."""
    return tuple(f"{v['predicate']}:{e['value']}" for v in _rsit()["values"] for e in v["entry"])


@cache
def rsit_labels() -> dict[str, str]:
    """English labels: ``class`` -> "Availability", ``class:type`` -> "DDoS" ..."""
    labels = {p["value"]: p["expanded"] for p in _rsit()["predicates"]}
    for v in _rsit()["values"]:
        for e in v["entry"]:
            labels[f"{v['predicate']}:{e['value']}"] = e["expanded"]
    return labels
