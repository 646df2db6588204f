"""nciss core: national cyber incident severity scales as data, and a pure scoring engine.

Plain Python; never imports Django. The public API:

- ``list_scales()``, ``load_scale(id_or_path)``: presets and scale files (``Scale``);
- ``assess(scale, facts, lang)``: one assessment (``Assessment``, ``.to_dict()``);
- ``assess_batch(scale, columns)``: many at once, columnar (``nciss.batch``);
- ``crosswalk(source, target_id, rank)``: a level on another scheme's scale;
- ``validate_facts``, ``facts_json_schema``, ``scale_json_schema``.
"""

from typing import Any

from nciss.crosswalks import crosswalk
from nciss.engine import Assessment, assess
from nciss.facts import FactsError, facts_json_schema, validate_facts
from nciss.scale_schema import SCALE_SCHEMA
from nciss.scales import Scale, ScaleError, list_scales, load_scale


def scale_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scale definition."""
    return SCALE_SCHEMA


__all__ = [
    "Assessment",
    "FactsError",
    "Scale",
    "ScaleError",
    "assess",
    "crosswalk",
    "facts_json_schema",
    "list_scales",
    "load_scale",
    "scale_json_schema",
    "validate_facts",
]
