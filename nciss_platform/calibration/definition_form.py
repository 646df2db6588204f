"""The draft editor's form view: a scale definition's numbers and names as form fields, and back.

``fields_of(definition)`` lists what the form shows (levels' names, colours and response
targets; category weights and option values; score thresholds; each rule's effect, level and
condition); ``apply(definition, posted)`` writes posted values back into a copy of the
definition. The result is dumped as YAML: comments in the draft's text are not kept.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from django.utils.translation import gettext_lazy as _

from nciss.scales import LANGUAGES

TARGETS = ("triage", "first_response", "resolution")
TARGET_LABELS = {
    "triage": _("Triage within"),
    "first_response": _("First response within"),
    "resolution": _("Resolution within"),
}
RULE_EFFECTS = ("level", "floor", "ceiling")


@dataclass(frozen=True)
class Field:
    """One input of the form view: ``name`` is the posted key, ``path`` where it goes in the definition."""

    name: str
    label: Any  # translated lazily
    value: str
    kind: str  # text, colour, number, effect, rank, condition
    path: tuple[str | int, ...]


@dataclass(frozen=True)
class Section:
    title: Any
    rows: list[tuple[str, list[Field]]]  # (row heading, its fields)


def _text(raw: Any) -> str:
    return str(raw.get("en", "")) if isinstance(raw, dict) else str(raw or "")


def sections(definition: Mapping[str, Any]) -> list[Section]:
    """The form view of a definition (only the parts it has)."""
    out: list[Section] = []
    levels = definition.get("levels") or []
    rows = []
    for i, level in enumerate(levels):
        fields = [
            Field(
                f"level-{i}-name", _("Name (English)"), _text(level.get("name")), "text", ("levels", i, "name", "en")
            ),
            Field(f"level-{i}-colour", _("Colour"), str(level.get("colour", "")), "colour", ("levels", i, "colour")),
        ]
        targets = level.get("targets") or {}
        fields += [
            Field(f"level-{i}-{t}", TARGET_LABELS[t], str(targets.get(t, "")), "text", ("levels", i, "targets", t))
            for t in TARGETS
        ]
        rows.append((f"{i}", fields))
    if rows:
        out.append(Section(_("Levels"), rows))
    weighted = definition.get("weighted") or {}
    rows = []
    for c, category in enumerate(weighted.get("categories") or []):
        cid = str(category.get("id", c))
        fields = [
            Field(
                f"cat-{c}-weight",
                _("Weight"),
                _number(category.get("weight")),
                "number",
                ("weighted", "categories", c, "weight"),
            )
        ]
        for option, value in (category.get("options") or {}).items():
            fields.append(
                Field(
                    f"cat-{c}-option-{option}",
                    option,
                    _number(value),
                    "number",
                    ("weighted", "categories", c, "options", option),
                )
            )
        rows.append((cid, fields))
    if rows:
        out.append(Section(_("Category weights and option values"), rows))
    thresholds = weighted.get("thresholds") or []
    if thresholds:
        fields = [
            Field(
                f"threshold-{t}",
                _("Level %(rank)s from") % {"rank": row.get("level")},
                _number(row.get("from")),
                "number",
                ("weighted", "thresholds", t, "from"),
            )
            for t, row in enumerate(thresholds)
        ]
        out.append(Section(_("Score thresholds"), [("", fields)]))
    rows = []
    for r, rule in enumerate(definition.get("rules") or []):
        effect = next((e for e in RULE_EFFECTS if e in rule), "floor")
        fields = [
            Field(f"rule-{r}-effect", _("Effect"), effect, "effect", ("rules", r)),
            Field(f"rule-{r}-level", _("Level"), str(rule.get(effect, "")), "rank", ("rules", r)),
            Field(
                f"rule-{r}-when",
                _("When"),
                json.dumps(rule.get("when"), ensure_ascii=False),
                "condition",
                ("rules", r, "when"),
            ),
        ]
        rows.append((str(rule.get("id", r)), fields))
    if rows:
        out.append(Section(_("Rules"), rows))
    return out


def _number(value: Any) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def apply(definition: Mapping[str, Any], posted: Mapping[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A copy of ``definition`` with the posted form values written in, and the values that do not parse."""
    result = copy.deepcopy(dict(definition))
    errors: list[tuple[str, str]] = []
    for section in sections(definition):
        for _heading, fields in section.rows:
            for field in fields:
                if field.name not in posted:
                    continue
                raw = posted[field.name].strip()
                if raw == field.value:
                    continue
                where = _dotted(field.path)
                try:
                    _write(result, field, raw, posted)
                except ValueError as exc:
                    errors.append((where, str(exc)))
    return result, errors


def _write(definition: dict[str, Any], field: Field, raw: str, posted: Mapping[str, str]) -> None:
    if field.kind == "number":
        value: Any = _parse_number(raw)
    elif field.kind == "condition":
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc.msg}") from None
    elif field.kind in ("effect", "rank"):
        rule = _at(definition, field.path)
        effect = next((e for e in RULE_EFFECTS if e in rule), "floor")
        prefix = field.name.rsplit("-", 1)[0]
        new_effect = posted.get(f"{prefix}-effect", effect).strip() or effect
        if new_effect not in RULE_EFFECTS:
            raise ValueError(f"one of {', '.join(RULE_EFFECTS)}")
        level_text = posted.get(f"{prefix}-level", str(rule.get(effect, ""))).strip()
        try:
            level = int(level_text)
        except ValueError:
            raise ValueError("a level rank (a whole number)") from None
        rule.pop(effect, None)
        rule[new_effect] = level
        return
    else:
        value = raw
    *parents, last = field.path
    node = _at(definition, tuple(parents), create=True)
    if last == "en" and isinstance(node, dict) and not node:
        node.update({lang: raw for lang in LANGUAGES})
    node[last] = value


def _parse_number(raw: str) -> int | float:
    try:
        number = float(raw)
    except ValueError:
        raise ValueError("a number") from None
    return int(number) if number.is_integer() else number


def _at(definition: Any, path: tuple[str | int, ...], create: bool = False) -> Any:
    node = definition
    for key in path:
        if create and isinstance(node, dict) and not isinstance(node.get(key), dict | list):
            node[key] = {} if key not in node or not isinstance(node[key], str) else {"en": node[key]}
        node = node[key]
    return node


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def dump(definition: Mapping[str, Any]) -> str:
    """The definition as YAML, in its own key order."""
    return yaml.safe_dump(dict(definition), sort_keys=False, allow_unicode=True, width=110)
