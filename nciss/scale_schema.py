"""The JSON Schema of a scale definition, as `nciss scales schema` prints it.

The schema checks the shape; `nciss.scales` then checks the meaning (facts exist,
values belong to their fact, ranks are in range ...). docs/scale-format.md explains
every field.
"""

from __future__ import annotations

from typing import Any

COLOUR_PATTERN = "^#[0-9a-fA-F]{6}$"
DURATION_PATTERN = r"^\d+(m|h|d|w|mo)$"
ID_PATTERN = "^[a-z0-9][a-z0-9-]*$"

TEXT: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "properties": {"en": {"type": "string", "minLength": 1}},
            "required": ["en"],
            "additionalProperties": {"type": "string"},
            "propertyNames": {"pattern": "^[a-z]{2}(-[A-Za-z]+)?$"},
        },
    ]
}
RANK = {"type": "integer", "minimum": 0}
CONDITION = {
    "type": "object",
    "minProperties": 1,
    "description": "A condition of the rule language (docs/scale-format.md)",
}


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [], "additionalProperties": False}


OPTIONS = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": {"type": "number", "minimum": 0, "maximum": 100},
}
BANDS = {
    "type": "array",
    "minItems": 1,
    "items": _obj(
        {"from": {"type": "number", "minimum": 0}, "value": {"type": "number", "minimum": 0, "maximum": 100}},
        ["from", "value"],
    ),
}
SOURCE = _obj({"fact": {"type": "string"}, "options": OPTIONS}, ["fact", "options"])

SCALE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://nciss.org/schemas/scale-1.json",
    "title": "nciss national cyber incident severity scale",
    **_obj(
        {
            "id": {"type": "string", "pattern": ID_PATTERN},
            "version": {"type": "string", "minLength": 1},
            "name": TEXT,
            "description": TEXT,
            "country": {"type": ["string", "null"], "pattern": "^[A-Z]{2}$"},
            "notional": {"type": "array", "items": {"type": "string"}},
            "sources": {"type": "array", "items": {"type": "string"}},
            "levels": {
                "type": "array",
                "minItems": 2,
                "items": _obj(
                    {
                        "rank": RANK,
                        "name": TEXT,
                        "colour": {"type": "string", "pattern": COLOUR_PATTERN},
                        "meaning": TEXT,
                        "targets": _obj(
                            {
                                **{
                                    k: {"type": "string", "pattern": DURATION_PATTERN}
                                    for k in ("triage", "first_response", "resolution")
                                },
                                "business_hours": {
                                    "type": "boolean",
                                    "description": "Whether the targets count working time only (default: below around_the_clock_from)",
                                },
                            }
                        ),
                    },
                    ["name", "colour"],
                ),
            },
            "around_the_clock_from": {
                **RANK,
                "description": "Response targets of this level and above run around the clock, below it in business hours",
            },
            "assume": {
                "type": "object",
                "description": "Facts taken as given when a report does not state them (e.g. scheduled_maintenance: false)",
            },
            "weighted": _obj(
                {
                    "categories": {
                        "type": "array",
                        "minItems": 1,
                        "items": _obj(
                            {
                                "id": {"type": "string", "pattern": "^[a-z0-9_-]+$"},
                                "name": TEXT,
                                "weight": {"type": "number", "exclusiveMinimum": 0},
                                "fact": {"type": "string"},
                                "options": OPTIONS,
                                "options_from_sectors": {"type": "string"},
                                "bands": BANDS,
                                "sources": {"type": "array", "minItems": 1, "items": SOURCE},
                                "help": TEXT,
                            },
                            ["id", "weight"],
                        ),
                    },
                    "normalisation": _obj({"min": {"type": "number"}, "max": {"type": "number"}}, ["min", "max"]),
                    "thresholds": {
                        "type": "array",
                        "items": _obj(
                            {"level": RANK, "from": {"type": "number", "minimum": 0, "maximum": 100}}, ["level", "from"]
                        ),
                    },
                },
                ["categories", "thresholds"],
            ),
            "rules": {
                "type": "array",
                "items": _obj(
                    {
                        "id": {"type": "string", "pattern": "^[a-z0-9_-]+$"},
                        "name": TEXT,
                        "when": CONDITION,
                        "level": RANK,
                        "floor": RANK,
                        "ceiling": RANK,
                        "rationale": TEXT,
                    },
                    ["id", "when"],
                ),
            },
            "taxonomy": _obj(
                {
                    "base": {"type": "string", "enum": ["rsit"]},
                    "types": {
                        "type": "array",
                        "items": _obj(
                            {
                                "class": {"type": "string"},
                                "type": {"type": "string", "pattern": ID_PATTERN},
                                "name": TEXT,
                            },
                            ["class", "type"],
                        ),
                    },
                }
            ),
            "sectors": {
                "type": "object",
                "propertyNames": {"pattern": ID_PATTERN},
                "additionalProperties": _obj(
                    {"name": TEXT, "values": {"type": "object", "additionalProperties": {"type": "number"}}}
                ),
            },
            "regime": _obj(
                {
                    "name": TEXT,
                    "from_level": RANK,
                    "deadlines": {
                        "type": "array",
                        "minItems": 1,
                        "items": _obj(
                            {
                                "id": {"type": "string", "pattern": ID_PATTERN},
                                "name": TEXT,
                                "after": {"type": "string"},
                                "within": {"type": "string", "pattern": DURATION_PATTERN},
                                "when": CONDITION,
                            },
                            ["id", "name", "after", "within"],
                        ),
                    },
                },
                ["name", "deadlines"],
            ),
            "crosswalks": {
                "type": "object",
                "propertyNames": {"pattern": ID_PATTERN},
                "additionalProperties": {
                    "type": "array",
                    "items": _obj(
                        {"from": RANK, "to": _obj({"min": RANK, "max": RANK}, ["min", "max"]), "rationale": TEXT},
                        ["from", "to", "rationale"],
                    ),
                },
            },
        },
        ["id", "version", "name", "levels"],
    ),
}
