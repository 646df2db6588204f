"""Scale definitions: loading, validation and the in-memory model.

``load_scale("cisa-nciss")`` gives a preset; ``load_scale("my-scale.yaml")`` reads a
file. Every problem in a definition is reported as ``path: reason`` through
ScaleError, never as a traceback. docs/scale-format.md describes the format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from nciss import taxonomy
from nciss.facts import SECTORS, FactsError, fact_specs, validate_facts
from nciss.rules import Condition, ConditionError, parse_condition
from nciss.scale_schema import COLOUR_PATTERN, SCALE_SCHEMA
from nciss.texts import LANGUAGES, Text

Errors = list[tuple[str, str]]
DURATION_UNITS = {"m": 1, "h": 60, "d": 1440, "w": 10080, "mo": 43200}
TIME_ANCHORS = ("detected_at", "occurred_at", "reported_at")
_DURATION = re.compile(r"^(\d+)(mo|m|h|d|w)$")


class ScaleError(ValueError):
    """An invalid or unknown scale; ``errors`` holds (path, reason) pairs."""

    def __init__(self, errors: Errors, source: str = ""):
        self.errors = errors
        self.source = source
        super().__init__("; ".join(f"{p}: {r}" for p, r in errors))


@dataclass(frozen=True)
class Duration:
    """A response target or deadline: minutes, or calendar months (``1mo``)."""

    amount: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> Duration:
        m = _DURATION.match(text)
        assert m, text
        return cls(int(m.group(1)), m.group(2))

    @property
    def minutes(self) -> int:
        """Length in minutes (a month counts 30 days here; deadlines use calendar months)."""
        return self.amount * DURATION_UNITS[self.unit]

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True)
class Level:
    rank: int
    name: Text
    colour: str
    meaning: Text
    targets: dict[str, Duration]
    business_hours: bool = False  # the targets count working time only (nciss.clocks)

    def summary(self, lang: str = "en") -> dict[str, Any]:
        return {"rank": self.rank, "name": self.name.get_for(lang), "colour": self.colour}


@dataclass(frozen=True)
class Source:
    fact: str
    options: dict[str, float]


@dataclass(frozen=True)
class Category:
    """One category of the weighted method."""

    id: str
    name: Text
    weight: float
    sources: tuple[Source, ...] = ()  # enumerations: the first known source wins
    bands: tuple[tuple[float, float], ...] = ()  # numbers: (from, value), ascending
    band_fact: str = ""
    help: Text = field(default_factory=Text)

    @property
    def fact(self) -> str:
        """The fact a reporter answers for this category (the last, general source)."""
        return self.band_fact or self.sources[-1].fact

    @cached_property
    def facts(self) -> tuple[str, ...]:
        return (self.band_fact,) if self.band_fact else tuple(s.fact for s in self.sources)

    def value_of(self, facts: Mapping[str, Any]) -> float | None:
        """The category's option value for ``facts``, or None when its fact is unknown."""
        if self.band_fact:
            v = facts.get(self.band_fact)
            if v is None:
                return None
            result = self.bands[0][1]
            for start, value in self.bands:
                if v >= start:
                    result = value
            return result
        for source in self.sources:
            v = facts.get(source.fact)
            if v is not None:
                return source.options.get(v, 0.0)
        return None

    @property
    def lowest(self) -> float:
        if self.band_fact:
            return min(v for _, v in self.bands)
        return min(min(s.options.values()) for s in self.sources)

    @property
    def highest(self) -> float:
        if self.band_fact:
            return max(v for _, v in self.bands)
        return max(max(s.options.values()) for s in self.sources)


@dataclass(frozen=True)
class Weighted:
    categories: tuple[Category, ...]
    minimum: float
    maximum: float
    thresholds: tuple[tuple[int, float], ...]  # (level rank, lowest score), ascending

    def normalise(self, total: float) -> float:
        score = 100.0 * (total - self.minimum) / (self.maximum - self.minimum)
        return 0.0 if score < 0 else 100.0 if score > 100 else score

    def level_for(self, score: float) -> int:
        rank = 0
        for level, start in self.thresholds:
            if score >= start:
                rank = level
        return rank


@dataclass(frozen=True)
class Rule:
    id: str
    name: Text
    when: Condition
    effect: str  # "level", "floor" or "ceiling"
    level: int
    rationale: Text


@dataclass(frozen=True)
class Deadline:
    id: str
    name: Text
    after: str  # a time fact or an earlier deadline's id
    within: Duration
    when: Condition | None


@dataclass(frozen=True)
class Regime:
    name: Text
    from_level: int
    deadlines: tuple[Deadline, ...]


@dataclass(frozen=True)
class CrosswalkRow:
    source: int
    min: int
    max: int
    rationale: Text

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {"min": self.min, "max": self.max, "rationale": self.rationale.get_for(lang)}


@dataclass(frozen=True, eq=False)
class Scale:
    """A validated national scale. Built by ``load_scale`` or ``scale_from_definition``."""

    id: str
    version: str
    name: Text
    description: Text
    country: str | None
    levels: tuple[Level, ...]
    weighted: Weighted | None
    rules: tuple[Rule, ...]
    taxonomy_types: frozenset[str]  # every valid classification, "class:type"
    sectors: dict[str, dict[str, Any]]
    national_sectors: frozenset[str]
    regime: Regime | None
    crosswalks: dict[str, tuple[CrosswalkRow, ...]]
    definition: dict[str, Any]
    notional: tuple[str, ...] = ()
    assumptions: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[tuple[str, str], ...] = ()

    def summary(self, lang: str = "en") -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name.get_for(lang),
            "version": self.version,
            "levels": [level.summary(lang) for level in self.levels],
        }

    def level_by_name(self, name: str) -> Level | None:
        wanted = name.strip().lower()
        for level in self.levels:
            if any(n.lower() == wanted for n in level.name.values()):
                return level
        return None

    @property
    def top(self) -> int:
        return len(self.levels) - 1


# ---------------------------------------------------------------- loading


@cache
def _preset_dir() -> Path:
    return Path(str(resources.files("nciss.presets")))


def preset_ids() -> list[str]:
    """Ids of the shipped presets, in display order."""
    order = ["osce-reference", "cisa-nciss", "uk-ncsc", "eu-nis2"]
    found = sorted(p.stem for p in _preset_dir().glob("*.yaml"))
    return [i for i in order if i in found] + [i for i in found if i not in order]


@cache
def _preset(scale_id: str) -> Scale:
    return load_file(_preset_dir() / f"{scale_id}.yaml")


def list_scales() -> list[Scale]:
    """The preset scales."""
    return [_preset(i) for i in preset_ids()]


def load_scale(ref: str) -> Scale:
    """A preset by id, or a definition file by path."""
    if ref in preset_ids():
        return _preset(ref)
    path = Path(ref)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
        return load_file(path)
    raise ScaleError([("scale", f"unknown scale {ref!r}: not a preset ({', '.join(preset_ids())}) nor a file")])


def read_definition(path: Path) -> Any:
    """Parse a YAML or JSON file; ScaleError for what cannot be read."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScaleError([(str(path), f"cannot read: {getattr(e, 'strerror', None) or e}")], str(path)) from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as e:
        raise ScaleError([(f"line {e.lineno}", f"not valid JSON: {e.msg}")], str(path)) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else str(path)
        raise ScaleError([(where, f"not valid YAML: {getattr(e, 'problem', None) or e}")], str(path)) from None


def load_file(path: Path) -> Scale:
    try:
        return scale_from_definition(read_definition(path))
    except ScaleError as e:
        raise ScaleError(e.errors, str(path)) from None


# ---------------------------------------------------------------- validation


def _path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top)"


_TYPE_NAMES = {
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "object": "a mapping",
    "array": "a list",
    "boolean": "true or false",
    "null": "null",
}


def _schema_reason(error: jsonschema.ValidationError) -> tuple[str, str]:
    path = _path(error.absolute_path)
    v = error.validator
    if v == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return (f"{path}.{missing[0]}" if path != "(top)" else missing[0]) if missing else path, "required"
    if v == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message)
        key = extra[0] if extra else "?"
        return (f"{path}.{key}" if path != "(top)" else key), "unknown field"
    if v == "pattern":
        if error.validator_value == COLOUR_PATTERN:
            return path, "not a colour (expected #rrggbb)"
        if "mo" in str(error.validator_value):
            return path, "not a duration (expected e.g. 30m, 4h, 2d, 1w, 1mo)"
        return path, f"{error.instance!r} is not valid here (expected lower-case letters, digits and dashes)"
    if v == "type":
        value: Any = error.validator_value
        expected: list[str] = value if isinstance(value, list) else [value]
        return path, "expected " + " or ".join(_TYPE_NAMES.get(t, t) for t in expected)
    if v == "oneOf":
        return path, "expected a text: a string, or a mapping of languages with en"
    if v in ("minimum", "maximum", "exclusiveMinimum"):
        return path, {
            "minimum": f"must be at least {error.validator_value}",
            "maximum": f"must be at most {error.validator_value}",
            "exclusiveMinimum": f"must be more than {error.validator_value}",
        }[v]
    if v == "minItems":
        return path, f"needs at least {error.validator_value} item(s)"
    if v == "enum":
        allowed: Any = error.validator_value
        return path, f"must be one of {', '.join(map(str, allowed))}"
    if v in ("minProperties", "minLength"):
        return path, "must not be empty"
    return path, error.message


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(SCALE_SCHEMA)


def scale_from_definition(definition: Any) -> Scale:
    """Validate a parsed definition and build the Scale; ScaleError lists every problem."""
    if not isinstance(definition, dict):
        raise ScaleError([("(top)", "expected a mapping (a YAML or JSON object)")])
    schema_errors = sorted({_schema_reason(e) for e in _validator().iter_errors(definition)})
    if schema_errors:
        broken = {re.split(r"[.\[]", path)[0] for path, _ in schema_errors}
        raise ScaleError(schema_errors + _Builder(definition).meaning_errors(skip=broken))
    return _Builder(definition).build()


class _Builder:
    """Checks the meaning of a definition whose shape the schema has accepted."""

    def __init__(self, d: dict[str, Any]):
        self.d = d
        self.errors: Errors = []
        self.warnings: Errors = []
        levels = d.get("levels")
        self.n_levels = len(levels) if isinstance(levels, list) else 1000

    def text(self, raw: Any, path: str) -> Text:
        t = Text(raw)
        for lang in LANGUAGES[1:]:
            if lang not in t:
                self.warnings.append((f"{path}.{lang}", "missing, falls back to English"))
        return t

    def rank(self, value: int, path: str) -> int:
        if value >= self.n_levels:
            self.errors.append((path, f"no level {value} (levels run 0-{self.n_levels - 1})"))
        return value

    def condition(self, raw: Any, path: str, extra: dict[str, frozenset[str]]) -> Condition | None:
        try:
            return parse_condition(raw, path, extra)
        except ConditionError as e:
            self.errors.extend(e.errors)
            return None

    def meaning_errors(self, skip: set[str]) -> Errors:
        """The meaning errors of the sections whose shape is right, next to shape errors elsewhere."""
        d = self.d
        national = (
            frozenset(k for k in d.get("sectors", {}) if k not in SECTORS) if "sectors" not in skip else frozenset()
        )
        extra = {"sector": national}
        sections: list[tuple[str, Callable[[], object]]] = [
            ("levels", self.levels),
            ("weighted", lambda: self.weighted(d.get("sectors", {}))),
            ("rules", lambda: self.rules(extra, has_weighted="weighted" in d)),
            ("taxonomy", self.taxonomy),
            ("regime", lambda: self.regime(extra)),
            ("crosswalks", self.crosswalks),
            ("assume", lambda: self.assumptions(national)),
        ]
        for key, check in sections:
            if key in d and key not in skip and ("levels" not in skip or key != "crosswalks"):
                check()
        return self.errors

    def build(self) -> Scale:
        d = self.d
        levels = self.levels()
        sectors, national = self.sectors()
        extra = {"sector": national}
        weighted = self.weighted(sectors) if "weighted" in d else None
        rules = self.rules(extra, has_weighted=weighted is not None)
        types = self.taxonomy()
        regime = self.regime(extra) if "regime" in d else None
        crosswalks = self.crosswalks()
        assumptions = self.assumptions(national)
        if self.errors:
            raise ScaleError(self.errors)
        return Scale(
            id=d["id"],
            version=d["version"],
            name=self.text(d["name"], "name"),
            description=self.text(d.get("description", d["name"]), "description"),
            country=d.get("country"),
            levels=levels,
            weighted=weighted,
            rules=rules,
            taxonomy_types=types,
            sectors=sectors,
            national_sectors=national,
            regime=regime,
            crosswalks=crosswalks,
            definition=d,
            notional=tuple(d.get("notional", ())),
            assumptions=assumptions,
            warnings=tuple(self.warnings),
        )

    def assumptions(self, national: frozenset[str]) -> dict[str, Any]:
        try:
            return validate_facts(self.d.get("assume", {}), extra_sectors=national)
        except FactsError as e:
            self.errors.extend((f"assume.{p}", r) for p, r in e.errors)
            return {}

    def levels(self) -> tuple[Level, ...]:
        out = []
        around_the_clock_from = self.around_the_clock_from()
        for i, raw in enumerate(self.d["levels"]):
            p = f"levels[{i}]"
            if "rank" in raw and raw["rank"] != i:
                self.errors.append((f"{p}.rank", f"must be {i}: ranks run from 0 in the order of the levels"))
            raw_targets = dict(raw.get("targets", {}))
            business_hours = raw_targets.pop("business_hours", i < around_the_clock_from)
            targets = {k: Duration.parse(v) for k, v in raw_targets.items()}
            out.append(
                Level(
                    i,
                    self.text(raw["name"], f"{p}.name"),
                    raw["colour"].lower(),
                    self.text(raw.get("meaning", ""), f"{p}.meaning") if raw.get("meaning") else Text(),
                    targets,
                    business_hours,
                )
            )
        names = [level.name["en"].lower() for level in out]
        for i, n in enumerate(names):
            if n in names[:i]:
                self.errors.append((f"levels[{i}].name", f"duplicate level name {n!r}"))
        return tuple(out)

    def around_the_clock_from(self) -> int:
        """The lowest rank whose response targets run around the clock: given, or the top three of a long scale."""
        given = self.d.get("around_the_clock_from")
        if isinstance(given, int) and not isinstance(given, bool):
            return self.rank(given, "around_the_clock_from")
        return max(1, self.n_levels - 3)

    def sectors(self) -> tuple[dict[str, dict[str, Any]], frozenset[str]]:
        raw = self.d.get("sectors", {})
        national = frozenset(k for k in raw if k not in SECTORS)
        for k in sorted(national):
            if "name" not in raw[k]:
                self.errors.append((f"sectors.{k}.name", "required for a national sector"))
        return raw, national

    def weighted(self, sectors: dict[str, dict[str, Any]]) -> Weighted | None:
        w = self.d["weighted"]
        specs = fact_specs()
        categories = []
        for i, raw in enumerate(w["categories"]):
            p = f"weighted.categories[{i}]"
            given = [k for k in ("fact", "sources") if k in raw]
            if len(given) != 1:
                self.errors.append((p, "give either fact (with options, options_from_sectors or bands) or sources"))
                continue
            name = self.text(raw.get("name", raw["id"]), f"{p}.name")
            help_ = Text(raw["help"]) if "help" in raw else Text()
            if "sources" in raw:
                sources = [
                    self.source(s["fact"], s["options"], f"{p}.sources[{j}]") for j, s in enumerate(raw["sources"])
                ]
                if all(sources):
                    categories.append(
                        Category(raw["id"], name, raw["weight"], tuple(s for s in sources if s), help=help_)
                    )
                continue
            fact = raw["fact"]
            spec = specs.get(fact)
            if spec is None:
                self.errors.append((f"{p}.fact", f"unknown fact {fact!r}"))
                continue
            if spec.is_numeric:
                bands = raw.get("bands")
                if not bands:
                    self.errors.append((f"{p}.bands", f"required: {fact} is a number"))
                    continue
                starts = [b["from"] for b in bands]
                if starts != sorted(starts) or len(set(starts)) != len(starts):
                    self.errors.append((f"{p}.bands", "band starts must rise"))
                if starts[0] > spec.minimum:
                    self.errors.append((f"{p}.bands[0].from", f"the first band must start at {spec.minimum:g}"))
                categories.append(
                    Category(
                        raw["id"],
                        name,
                        raw["weight"],
                        bands=tuple((b["from"], float(b["value"])) for b in bands),
                        band_fact=fact,
                        help=help_,
                    )
                )
                continue
            if "options_from_sectors" in raw:
                key = raw["options_from_sectors"]
                if fact != "sector":
                    self.errors.append((f"{p}.options_from_sectors", "only for the sector fact"))
                    continue
                options = {s: v["values"][key] for s, v in sectors.items() if key in v.get("values", {})}
                if not options:
                    self.errors.append((f"{p}.options_from_sectors", f"no sector has a value {key!r}"))
                    continue
            elif "options" in raw:
                options = raw["options"]
            else:
                self.errors.append((p, "needs options, options_from_sectors or bands"))
                continue
            source = self.source(fact, options, p)
            if source:
                categories.append(Category(raw["id"], name, raw["weight"], (source,), help=help_))
        ids = [c.id for c in categories]
        for i, c in enumerate(ids):
            if c in ids[:i]:
                self.errors.append((f"weighted.categories[{i}].id", f"duplicate category {c!r}"))
        if not categories:
            return None
        if "normalisation" in w:
            lo, hi = w["normalisation"]["min"], w["normalisation"]["max"]
            if hi <= lo:
                self.errors.append(("weighted.normalisation", "max must be above min"))
        else:
            lo = sum(c.weight * c.lowest for c in categories)
            hi = sum(c.weight * c.highest for c in categories)
            if hi <= lo:
                self.errors.append(("weighted.categories", "every category has a single value: the score cannot vary"))
        thresholds = []
        last_level, last_score = 0, -1.0
        for i, t in enumerate(w["thresholds"]):
            p = f"weighted.thresholds[{i}]"
            level = self.rank(t["level"], f"{p}.level")
            if level <= last_level:
                self.errors.append((f"{p}.level", "levels must rise above 0, one threshold each"))
            if t["from"] <= last_score:
                self.errors.append((f"{p}.from", "scores must rise"))
            last_level, last_score = level, t["from"]
            thresholds.append((level, float(t["from"])))
        return Weighted(tuple(categories), float(lo), float(hi), tuple(thresholds))

    def source(self, fact: str, options: dict[str, float], path: str) -> Source | None:
        spec = fact_specs().get(fact)
        if spec is None:
            self.errors.append((f"{path}.fact", f"unknown fact {fact!r}"))
            return None
        if spec.kind != "enum":
            self.errors.append((f"{path}.fact", f"{fact} is not an enumeration: use bands for numbers"))
            return None
        allowed = set(spec.values) | (set(self.d.get("sectors", {})) if fact == "sector" else set())
        for value in options:
            if value not in allowed:
                self.errors.append((f"{path}.options.{value}", f"not a value of {fact}"))
        missing = [v for v in spec.values if v not in options]
        if missing:
            self.errors.append((f"{path}.options", f"no value for {', '.join(missing)}"))
        return Source(fact, {k: float(v) for k, v in options.items()})

    def rules(self, extra: dict[str, frozenset[str]], has_weighted: bool) -> tuple[Rule, ...]:
        out = []
        seen: set[str] = set()
        for i, raw in enumerate(self.d.get("rules", [])):
            p = f"rules[{i}]"
            effects = [k for k in ("level", "floor", "ceiling") if k in raw]
            if len(effects) != 1:
                self.errors.append((p, "needs exactly one of level, floor or ceiling"))
                continue
            if raw["id"] in seen:
                self.errors.append((f"{p}.id", f"duplicate rule {raw['id']!r}"))
            seen.add(raw["id"])
            effect = effects[0]
            level = self.rank(raw[effect], f"{p}.{effect}")
            when = self.condition(raw["when"], f"{p}.when", extra)
            if when is not None:
                out.append(
                    Rule(
                        raw["id"],
                        self.text(raw.get("name", raw["id"]), f"{p}.name"),
                        when,
                        effect,
                        level,
                        Text(raw.get("rationale", "")),
                    )
                )
        return tuple(out)

    def taxonomy(self) -> frozenset[str]:
        t = self.d.get("taxonomy", {})
        types = set(taxonomy.rsit_types())
        classes = taxonomy.rsit_classes()
        for i, raw in enumerate(t.get("types", [])):
            if raw["class"] not in classes:
                self.errors.append((f"taxonomy.types[{i}].class", f"not an RSIT class ({', '.join(classes)})"))
            types.add(f"{raw['class']}:{raw['type']}")
        return frozenset(types)

    def regime(self, extra: dict[str, frozenset[str]]) -> Regime:
        r = self.d["regime"]
        deadlines = []
        ids: set[str] = set()
        for i, raw in enumerate(r["deadlines"]):
            p = f"regime.deadlines[{i}]"
            if raw["after"] not in TIME_ANCHORS and raw["after"] not in ids:
                self.errors.append((f"{p}.after", f"expected {', '.join(TIME_ANCHORS)} or an earlier deadline's id"))
            when = self.condition(raw["when"], f"{p}.when", extra) if "when" in raw else None
            deadlines.append(
                Deadline(
                    raw["id"], self.text(raw["name"], f"{p}.name"), raw["after"], Duration.parse(raw["within"]), when
                )
            )
            ids.add(raw["id"])
        return Regime(
            self.text(r["name"], "regime.name"),
            self.rank(r.get("from_level", 0), "regime.from_level"),
            tuple(deadlines),
        )

    def crosswalks(self) -> dict[str, tuple[CrosswalkRow, ...]]:
        out = {}
        for target, rows in self.d.get("crosswalks", {}).items():
            p = f"crosswalks.{target}"
            target_levels = _preset_level_count(target)
            if target == self.d["id"]:
                self.errors.append((p, "a scale needs no crosswalk to itself"))
            built = []
            for i, row in enumerate(rows):
                rp = f"{p}[{i}]"
                source = self.rank(row["from"], f"{rp}.from")
                lo, hi = row["to"]["min"], row["to"]["max"]
                if lo > hi:
                    self.errors.append((f"{rp}.to", "min is above max"))
                if target_levels is not None and hi >= target_levels:
                    self.errors.append((f"{rp}.to.max", f"{target} has no level {hi}"))
                built.append(CrosswalkRow(source, lo, hi, Text(row["rationale"])))
            covered = sorted(r.source for r in built)
            if covered != list(range(self.n_levels)):
                self.errors.append((p, f"needs exactly one row for each level 0-{self.n_levels - 1}"))
            out[target] = tuple(built)
        return out


@cache
def _preset_level_count(scale_id: str) -> int | None:
    """Levels of a preset, read without validating it (presets crosswalk to each other)."""
    path = _preset_dir() / f"{scale_id}.yaml"
    if not path.exists():
        return None
    return len(yaml.safe_load(path.read_text("utf-8"))["levels"])
