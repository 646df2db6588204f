"""CSV: incidents read from spreadsheets through a column mapping, and incidents written as CSV.

A mapping (YAML, see data/csv-mapping-example.yaml and docs/interop/intelmq-csv.md) says which
column holds which fact, how the spreadsheet's values read as fact values, and where the title,
TLP, observables ... are. Each row becomes one incident record, or one ``Rejected`` naming the
row, the fact and the column.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import os
import re
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from nciss.facts import FactsError, fact_specs, validate_facts
from nciss.interop.records import (
    OBSERVABLE_TYPES,
    PAP_LABELS,
    TLP_LABELS,
    IncidentRecord,
    Observable,
    Rejected,
    read_label,
)

TYPED = "typed"  # an observables column whose items are written "type:value", as ``write`` does
_TEXT_FIELDS = ("title", "description", "reporter", "status")
_KEYS = frozenset(
    {"delimiter", "encoding", "list_separator", "timezone", "source", "id", "created", "tlp", "pap", "facts"}
    | {"values", "observables", "dates", *_TEXT_FIELDS}
)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_BOOLS = {"true": True, "yes": True, "y": True, "1": True, "false": False, "no": False, "n": False, "0": False}
_EMPTY_LIST = ("none", "[]")  # a list cell known to be empty (an empty cell: not known)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EXPECTED = {
    **dict.fromkeys(_TEXT_FIELDS, "expected a column name or a template with {column} placeholders"),
    "source": "expected the name of the source system, e.g. ticketing",
    "tlp": "expected a column name or a label such as TLP:AMBER",
    "pap": "expected a column name or a label such as PAP:AMBER",
}


class MappingError(ValueError):
    """A mapping that cannot be used; ``errors`` holds (path, reason) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {reason}" for path, reason in errors))


@dataclass(frozen=True)
class CsvMapping:
    """A checked column mapping (``load_mapping`` makes one).

    Text fields (title, description, reporter, status) are a column name or a template with
    ``{column}`` placeholders; ``tlp``/``pap`` a column name or a constant label; ``values`` maps
    case-folded spreadsheet values to fact values, per fact.
    """

    title: str
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    list_separator: str = ";"
    timezone: dt.tzinfo = dt.UTC
    source: str = "csv"
    id: str | None = None
    description: str | None = None
    reporter: str | None = None
    status: str | None = None
    created: str | None = None
    tlp: str | None = None
    pap: str | None = None
    facts: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    observables: dict[str, str] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)

    def columns(self) -> list[str]:
        """Every column the mapping reads, in a stable order."""
        names: list[str] = []
        for text in (self.title, self.description, self.reporter, self.status):
            names += _text_columns(text)
        for label, labels in ((self.tlp, TLP_LABELS), (self.pap, PAP_LABELS)):
            if label and not _is_constant(label, labels):
                names.append(label)
        names += [c for c in (self.id, self.created) if c]
        names += [*self.facts.values(), *self.observables]
        return list(dict.fromkeys(names))


def _text_columns(text: str | None) -> list[str]:
    if not text:
        return []
    return _PLACEHOLDER.findall(text) if "{" in text else [text]


def _is_constant(value: str, labels: tuple[str, ...]) -> bool:
    """A mapping's ``tlp``/``pap`` is a constant when written with its prefix (TLP:AMBER), else a column."""
    return value.upper().startswith(labels[0].split(":", 1)[0] + ":")


def load_mapping(source: str | os.PathLike[str] | Mapping[str, Any]) -> CsvMapping:
    """A mapping from a YAML file or an already parsed dict; MappingError lists every problem."""
    if isinstance(source, Mapping):
        raw: Any = dict(source)
    else:
        try:
            raw = yaml.safe_load(Path(source).read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise MappingError([(str(source), f"cannot read: {getattr(exc, 'strerror', None) or exc}")]) from None
        except yaml.YAMLError as exc:
            raise MappingError([(str(source), f"not valid YAML: {exc}")]) from None
    if not isinstance(raw, dict):
        raise MappingError([("(top)", "expected a mapping (a YAML object)")])
    errors: list[tuple[str, str]] = [(str(key), "unknown key") for key in raw if key not in _KEYS]
    values: dict[str, Any] = {}

    def text(key: str, required: bool = False) -> None:
        value = raw.get(key)
        if value is None and not required:
            return
        if not isinstance(value, str) or not value.strip():
            errors.append((key, _EXPECTED.get(key, "expected a column name")))
        elif "{" in value and any(not name.strip() for name in _PLACEHOLDER.findall(value)):
            errors.append((key, "empty {} in the template: write {column name}"))
        else:
            values[key] = value.strip()

    text("title", required=True)
    for key in ("description", "reporter", "status", "id", "created", "source", "tlp", "pap"):
        text(key)
    for key, labels in (("tlp", TLP_LABELS), ("pap", PAP_LABELS)):
        given = values.get(key, "")
        if _is_constant(given, labels) and read_label(given, labels) is None:
            errors.append((key, f"{given!r} is not one of {', '.join(labels)}"))
    _check_format(raw, values, errors)
    _check_facts(raw, values, errors)
    _check_observables_and_dates(raw, values, errors)
    if errors:
        raise MappingError(errors)
    return CsvMapping(**values)


def _check_format(raw: dict[str, Any], values: dict[str, Any], errors: list[tuple[str, str]]) -> None:
    delimiter = raw.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        errors.append(("delimiter", "expected one character, e.g. ',' or ';' (\"\\t\" for a tab)"))
    else:
        values["delimiter"] = delimiter
    separator = raw.get("list_separator", ";")
    if not isinstance(separator, str) or not separator:
        errors.append(("list_separator", "expected a character, e.g. ';'"))
    else:
        values["list_separator"] = separator
    encoding = raw.get("encoding", "utf-8-sig")
    try:
        codecs.lookup(str(encoding))
        values["encoding"] = str(encoding)
    except LookupError:
        errors.append(("encoding", f"unknown encoding {encoding!r}"))
    if "timezone" in raw:
        zone = _timezone(str(raw["timezone"]))
        if zone is None:
            errors.append(("timezone", "expected an offset such as +05:00, UTC, or a zone such as Asia/Tashkent"))
        else:
            values["timezone"] = zone


def _timezone(text: str) -> dt.tzinfo | None:
    if text.upper() in ("UTC", "Z"):
        return dt.UTC
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", text)
    if match:
        offset = dt.timedelta(hours=int(match[2]), minutes=int(match[3]))
        return dt.timezone(-offset if match[1] == "-" else offset)
    try:
        return zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _check_facts(raw: dict[str, Any], values: dict[str, Any], errors: list[tuple[str, str]]) -> None:
    specs = fact_specs()
    facts = raw.get("facts") or {}
    if not isinstance(facts, dict):
        errors.append(("facts", "expected a mapping of fact: column"))
        facts = {}
    for fact, column in facts.items():
        if fact not in specs:
            errors.append((f"facts.{fact}", "unknown fact"))
        elif not isinstance(column, str) or not column.strip():
            errors.append((f"facts.{fact}", "expected a column name"))
    values["facts"] = {f: c.strip() for f, c in facts.items() if f in specs and isinstance(c, str) and c.strip()}
    tables = raw.get("values") or {}
    if not isinstance(tables, dict):
        errors.append(("values", "expected a mapping of fact: {spreadsheet value: fact value}"))
        tables = {}
    values["values"] = {}
    for fact, table in tables.items():
        path = f"values.{fact}"
        if fact not in specs:
            errors.append((path, "unknown fact"))
            continue
        if fact not in facts:
            errors.append((path, "no column gives this fact (add it under facts)"))
            continue
        if not isinstance(table, dict):
            errors.append((path, "expected a mapping of spreadsheet value: fact value"))
            continue
        for given, target in table.items():
            value = [target] if specs[fact].kind == "list" and not isinstance(target, list) else target
            try:
                validate_facts({fact: value})
            except FactsError as exc:
                errors.append((f"{path}.{given}", exc.errors[0][1]))
        values["values"][fact] = {str(k).strip().casefold(): v for k, v in table.items()}


def _check_observables_and_dates(raw: dict[str, Any], values: dict[str, Any], errors: list[tuple[str, str]]) -> None:
    observables = raw.get("observables") or {}
    if not isinstance(observables, dict):
        errors.append(("observables", "expected a mapping of column: observable type"))
        observables = {}
    for column, kind in observables.items():
        if kind not in (*OBSERVABLE_TYPES, TYPED):
            errors.append((f"observables.{column}", f"{kind!r} is not one of {', '.join(OBSERVABLE_TYPES)}, {TYPED}"))
    values["observables"] = {str(c): k for c, k in observables.items() if k in (*OBSERVABLE_TYPES, TYPED)}
    dates = raw.get("dates") or {}
    if not isinstance(dates, dict):
        errors.append(("dates", "expected a mapping of fact: date format"))
        dates = {}
    specs = fact_specs()
    for name, pattern in dates.items():
        if name != "created" and (name not in specs or specs[name].kind != "datetime"):
            errors.append((f"dates.{name}", "not a date-time fact (occurred_at, detected_at, reported_at) nor created"))
        elif not isinstance(pattern, str) or "%" not in pattern:
            errors.append((f"dates.{name}", "expected a strptime format such as '%d.%m.%Y %H:%M'"))
    values["dates"] = {n: p for n, p in dates.items() if isinstance(p, str)}


# ---------------------------------------------------------------------- reading


def read(stream: IO[bytes], name: str, mapping: CsvMapping) -> Iterator[IncidentRecord | Rejected]:
    """One record per row (blank rows skipped), or a ``Rejected`` naming the row (the header is row 1)."""
    text = io.TextIOWrapper(stream, encoding=mapping.encoding, newline="")
    rows = csv.reader(text, delimiter=mapping.delimiter)
    try:
        header = [cell.strip() for cell in next(rows)]
    except StopIteration:
        yield Rejected(name, "", "", "empty file: no header row")
        return
    except (UnicodeDecodeError, csv.Error) as exc:
        yield Rejected(name, "row 1", "", f"cannot read: {exc}")
        return
    used = frozenset(mapping.columns())
    missing = [column for column in mapping.columns() if column not in header]
    if missing:
        yield Rejected(name, "row 1", ", ".join(missing), f"no such column (the columns are: {', '.join(header)})")
        return
    number = 1
    try:
        for number, cells in enumerate(rows, 2):
            if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
                reason = (
                    f"{len(cells)} cells but {len(header)} columns: is a {mapping.delimiter!r} inside an unquoted cell?"
                )
                yield Rejected(name, f"row {number}", "", reason)
            elif any(cell.strip() for cell in cells):
                yield _record(dict(zip(header, cells, strict=False)), name, number, mapping, used)
    except (UnicodeDecodeError, csv.Error) as exc:
        yield Rejected(name, f"row {number + 1}", "", f"cannot read the rest of the file: {exc}")


def _record(
    row: dict[str, str], name: str, number: int, mapping: CsvMapping, used: frozenset[str]
) -> IncidentRecord | Rejected:
    where = f"row {number}"
    facts: dict[str, Any] = {}
    for fact, column in mapping.facts.items():
        cell = row.get(column, "").strip()
        if not cell:
            continue
        try:
            facts[fact] = _convert(fact, cell, mapping)
        except ValueError as exc:
            return Rejected(name, where, f"facts.{fact}", f"column {column!r}: {exc}")
    try:
        facts = validate_facts(facts)
    except FactsError as exc:
        path, reason = exc.errors[0]
        return Rejected(name, where, f"facts.{path}", f"column {mapping.facts.get(path, '?')!r}: {reason}")

    title = _fill(mapping.title, row)
    if not title:
        return Rejected(name, where, "title", f"empty (from {mapping.title!r})")
    labels = {}
    for key, given, allowed in (("tlp", mapping.tlp, TLP_LABELS), ("pap", mapping.pap, PAP_LABELS)):
        if not given:
            continue
        constant = read_label(given, allowed) if _is_constant(given, allowed) else None
        cell = row.get(given, "").strip() if constant is None else ""
        labels[key] = constant or (read_label(cell, allowed) if cell else None)
        if cell and labels[key] is None:
            return Rejected(name, where, key, f"column {given!r}: {cell!r} is not one of {', '.join(allowed)}")
    created = None
    if mapping.created and row.get(mapping.created, "").strip():
        try:
            created = _datetime(row[mapping.created].strip(), mapping.dates.get("created"), mapping.timezone)
        except ValueError as exc:
            return Rejected(name, where, "created", f"column {mapping.created!r}: {exc}")
    observables: dict[tuple[str, str], Observable] = {}
    for column, kind in mapping.observables.items():
        for item in _split(row.get(column, ""), mapping.list_separator):
            found = _observable(kind, item)
            if found is None:
                return Rejected(name, where, "observables", f"column {column!r}: {item!r} is not written type:value")
            observables.setdefault((found.type, found.value), found)

    digest = hashlib.sha256("\x1f".join(row.get(c, "") for c in sorted(row)).encode()).hexdigest()[:16]
    return IncidentRecord(
        title=title,
        facts=facts,
        description=_fill(mapping.description, row),
        source=mapping.source,
        source_id=(row.get(mapping.id, "").strip() if mapping.id else "") or f"row-{digest}",
        tlp=labels.get("tlp"),
        pap=labels.get("pap"),
        status=_fill(mapping.status, row),
        created=created,
        reporter=_fill(mapping.reporter, row) or None,
        observables=tuple(observables.values()),
        original=row,
        mapped=tuple(c for c in row if c in used),
        unmapped=tuple(c for c in row if c not in used and row[c].strip()),
    )


def _fill(text: str | None, row: dict[str, str]) -> str:
    """A text field's value: the column's cell, or the template with each {column} filled in."""
    if not text:
        return ""
    if "{" not in text:
        return row.get(text, "").strip()
    return _PLACEHOLDER.sub(lambda m: row.get(m[1], "").strip(), text).strip()


def _split(cell: str, separator: str) -> list[str]:
    return [item.strip() for item in cell.split(separator) if item.strip()]


def _convert(fact: str, cell: str, mapping: CsvMapping) -> Any:
    """A cell as a fact value: through the mapping's ``values`` table, else by the fact's kind."""
    spec = fact_specs()[fact]
    table = mapping.values.get(fact, {})
    if spec.kind == "list":
        if cell.casefold() in _EMPTY_LIST:
            return []
        items: list[Any] = []
        for item in _split(cell, mapping.list_separator):
            value = table.get(item.casefold(), item)
            items += value if isinstance(value, list) else [value]
        return items
    if cell.casefold() in table:
        return table[cell.casefold()]
    if spec.kind == "enum":
        normalised = cell.lower().replace(" ", "-").replace("_", "-")
        return normalised if normalised in spec.values else cell
    if spec.kind == "bool":
        if cell.casefold() not in _BOOLS:
            raise ValueError(f"{cell!r} is not yes or no (true/false, 1/0)")
        return _BOOLS[cell.casefold()]
    if spec.kind in ("int", "number"):
        return _number(cell, spec.kind == "int", spec.maximum == 1)
    if spec.kind == "datetime":
        return _datetime(cell, mapping.dates.get(fact), mapping.timezone).isoformat()
    return cell


def _number(cell: str, whole: bool, share: bool) -> int | float:
    text = cell.replace(" ", "").replace("\u00a0", "")
    percent = share and text.endswith("%")
    text = text.removesuffix("%") if percent else text
    if "," in text and "." not in text and text.count(",") == 1:
        text = text.replace(",", ".")  # a decimal comma
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{cell!r} is not a number") from None
    value = value / 100 if percent else value
    if whole:
        if not value.is_integer():
            raise ValueError(f"{cell!r} is not a whole number")
        return int(value)
    return value


def _datetime(cell: str, pattern: str | None, zone: dt.tzinfo) -> dt.datetime:
    try:
        moment = dt.datetime.strptime(cell, pattern) if pattern else dt.datetime.fromisoformat(cell)
    except ValueError:
        expected = f"the format {pattern!r}" if pattern else "ISO 8601 (e.g. 2026-11-29T14:30:00+05:00)"
        raise ValueError(f"{cell!r} is not a date-time in {expected}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _observable(kind: str, item: str) -> Observable | None:
    if kind != TYPED:
        return Observable(kind, item)
    kind, sep, value = item.partition(":")
    if kind == "file" and value.startswith(("hashes.", "name:")):  # file:hashes.MD5:<value>, file:name:<value>
        sub, sep, value = value.partition(":")
        kind = f"file:{sub}"
    if not sep or kind not in OBSERVABLE_TYPES or not value:
        return None
    return Observable(kind, value)


# ---------------------------------------------------------------------- writing

_FIXED = (
    "reference",
    "title",
    "description",
    "classification",
    "tlp",
    "pap",
    "status",
    "level",
    "level_rank",
    "level_score",
    "scale",
    "scale_version",
    "created",
    "reporter",
)


def _fact_columns() -> list[str]:
    return [name for name in fact_specs() if name != "classification"]


def write(records: Iterable[IncidentRecord], out: IO[str]) -> None:
    """Records as CSV with a header row: the incident, its national level (the first assessment),
    every fact of the vocabulary (lists joined by ';', ``none`` for a known empty list) and its observables (``type:value`` joined
    by ';'). A cell that a spreadsheet would run as a formula (=, +, -, @) starts with a quote."""
    writer = csv.writer(out)
    facts = _fact_columns()
    writer.writerow([*_FIXED, *facts, "observables"])
    for record in records:
        level = record.assessments[0] if record.assessments else None
        cells = [
            record.reference,
            record.title,
            record.description,
            record.classification,
            record.tlp,
            record.pap,
            record.status,
            level.name if level else None,
            level.rank if level else None,
            level.score if level else None,
            level.scale_id if level else None,
            level.scale_version if level else None,
            record.created.isoformat() if record.created else None,
            record.reporter,
            *(record.facts.get(name) for name in facts),
            ";".join(f"{o.type}:{o.value}" for o in record.observables),
        ]
        writer.writerow([_cell(value) for value in cells])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = ";".join(str(item) for item in value) or _EMPTY_LIST[0]
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_mapping() -> CsvMapping:
    """The mapping that reads what ``write`` wrote (levels are not read: nciss assesses the facts again)."""
    return load_mapping(
        {
            "id": "reference",
            "title": "title",
            "description": "description",
            "tlp": "tlp",
            "pap": "pap",
            "status": "status",
            "created": "created",
            "reporter": "reporter",
            "facts": {"classification": "classification", **{name: name for name in _fact_columns()}},
            "observables": {"observables": TYPED},
        }
    )
