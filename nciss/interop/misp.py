"""MISP events: reading them as incident records, and writing records as events MISP and PyMISP load.

One event is one incident. Its machine tags give the classification (``rsit:``, or ``ecsirt:``
read as the nearest RSIT type), TLP, PAP, the sector and root cause (``nis:``/``nis2:``) and the
source's priority (``priority-level:``); its attributes give the observables. Exports carry only
tags of the taxonomies shipped in data/misp-taxonomies, an ``incident`` object with the levels,
and one text attribute per fact. docs/interop/misp.md has the tables.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import IO, Any

from nciss.facts import SECTORS, FactsError, fact_specs, validate_facts
from nciss.interop.intelmq import rsit_type_of
from nciss.interop.records import PAP_LABELS, TLP_LABELS, Assessed, IncidentRecord, Observable, Rejected, read_label
from nciss.scales import ScaleError, load_scale
from nciss.taxonomy import rsit_types

TAXONOMIES = ("rsit", "ecsirt", "tlp", "PAP", "nis", "nis2", "priority-level")

# A MISP event's priority-level tag is the source's own judgement, kept as an assessment on
# this pseudo scale (rank 0 = baseline-negligible .. 6 = emergency), never as the national level.
PRIORITY_SCALE = "misp-priority-level"
PRIORITY_LEVELS = ("baseline-negligible", "baseline-minor", "low", "medium", "high", "severe", "emergency")
_NCISS_LIKE = ("cisa-nciss", "osce-reference")  # six levels named as CISA's priority levels
_THREAT_LEVEL = {"emergency": "1", "severe": "1", "high": "1", "medium": "2", "low": "3"}

FACT_COMMENT = "nciss fact"  # the comment that marks an exported fact attribute
_UUID_NAMESPACE = uuid.UUID("0f5c5a84-3b0e-5d0a-9d55-6c1f3c8e2b71")  # nciss's namespace for MISP uuids

_TAG = re.compile(r'^(?P<namespace>[^:="]+):(?P<predicate>[^="]+?)(?:="(?P<value>[^"]*)")?$')
_SCORE = re.compile(
    r"^(?P<name>.+) on (?P<scale>\S+) (?P<version>\S+): rank (?P<rank>\d+)"
    r"(?:, score (?P<score>[-+\d.eE]+))?(?:, up to rank (?P<max>\d+))?"
    r"(?:, from a crosswalk(?: \(missing (?P<missing>[^)]*)\))?)?$"
)


# nis / nis2 values that are not themselves facts-vocabulary sectors.
_SECTOR_ALIASES = {
    "communications": "digital-infrastructure",
    "trust-and-identification-services": "digital-infrastructure",
    "digital-services": "digital-providers",
    "government": "public-administration",
    "postal": "courier",
    "waste": "waste-management",
    "chemicals": "chemical",
    "digital": "digital-providers",
    "ict-management": "ict-services",
    "electricity": "energy",
    "district-heating-and-cooling": "energy",
    "oil": "energy",
    "gas": "energy",
    "hydrogen": "energy",
    "air": "transport",
    "rail": "transport",
    "water": "transport",  # the transport subsector (shipping), not drinking water
    "road": "transport",
    **dict.fromkeys(
        (
            "medical-devices",
            "electronic-optical",
            "electrical-equipment",
            "machine-tool",
            "vehicle-manufacturing",
            "other-transport-equipment",
            "medical-devices-manufacturing",
            "computer-manufacturing",
            "electrical-equipment-manufacturing",
            "machinery-equipment-manufacturing",
            "vehicles-trailers-manufacturing",
            "other-transport-manufacturing",
        ),
        "manufacturing",
    ),
}
_SECTOR_PREDICATES = frozenset(
    {
        "impact-sectors-impacted",
        "impact-subsectors-impacted",
        "important-entities",
        "impact-subsectors-important-entities",
    }
)
_OWNED_PREDICATES = _SECTOR_PREDICATES | {"nature-root-cause"}  # nis/nis2 predicates exports write themselves

# MISP attribute type -> the observable type of each "|"-separated part (None: a part not kept).
_ATTRIBUTE_PARTS: dict[str, tuple[str | None, ...]] = {
    "ip-src": ("ip",),
    "ip-dst": ("ip",),
    "ip-src|port": ("ip", None),
    "ip-dst|port": ("ip", None),
    "domain": ("domain-name",),
    "hostname": ("domain-name",),
    "hostname|port": ("domain-name", None),
    "domain|ip": ("domain-name", "ip"),
    "url": ("url",),
    "email": ("email-addr",),
    "email-src": ("email-addr",),
    "email-dst": ("email-addr",),
    "target-email": ("email-addr",),
    "md5": ("file:hashes.MD5",),
    "sha1": ("file:hashes.SHA-1",),
    "sha256": ("file:hashes.SHA-256",),
    "filename": ("file:name",),
    "filename|md5": ("file:name", "file:hashes.MD5"),
    "filename|sha1": ("file:name", "file:hashes.SHA-1"),
    "filename|sha256": ("file:name", "file:hashes.SHA-256"),
    "malware-sample": ("file:name", "file:hashes.MD5"),
    "AS": ("autonomous-system",),
    "vulnerability": ("vulnerability",),
    "mac-address": ("mac-addr",),
}
# Observable type -> (MISP attribute type, category) for exports.
_EXPORT_TYPES = {
    "ipv4-addr": ("ip-dst", "Network activity"),
    "ipv6-addr": ("ip-dst", "Network activity"),
    "domain-name": ("domain", "Network activity"),
    "url": ("url", "Network activity"),
    "email-addr": ("email", "Payload delivery"),
    "mac-addr": ("mac-address", "Network activity"),
    "autonomous-system": ("AS", "Network activity"),
    "file:hashes.MD5": ("md5", "Payload delivery"),
    "file:hashes.SHA-1": ("sha1", "Payload delivery"),
    "file:hashes.SHA-256": ("sha256", "Payload delivery"),
    "file:name": ("filename", "Payload delivery"),
    "vulnerability": ("vulnerability", "External analysis"),
}
_NCISS_OBJECTS = ("incident",)
_LOCAL_KEYS = frozenset(
    {"id", "event_id", "object_id", "sharing_group_id", "Galaxy", "ShadowAttribute", "Sighting"}
)  # objects exports write; an import reads them instead of keeping them

_STATUS_ANALYSIS = {"reported": "0", "resolved": "2", "closed": "2", "rejected": "2", "duplicate": "2"}
_STATUS_INVESTIGATION = {
    "reported": "new",
    "resolved": "closed",
    "closed": "closed",
    "rejected": "closed",
    "duplicate": "closed",
}
_TLP_DISTRIBUTION = {"TLP:CLEAR": "3", "TLP:GREEN": "1"}  # else "0": the creating organisation only


# ------------------------------------------------------------------ taxonomies


@cache
def _taxonomy(name: str) -> dict[str, Any]:
    text = resources.files("nciss.interop.data").joinpath(f"misp-taxonomies/{name}.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def _known() -> dict[str, dict[str, frozenset[str]]]:
    """namespace -> predicate -> its values (empty when the predicate is a tag by itself)."""
    known = {}
    for name in TAXONOMIES:
        data = _taxonomy(name)
        values = {v["predicate"]: frozenset(e["value"] for e in v["entry"]) for v in data.get("values", ())}
        known[data["namespace"]] = {p["value"]: values.get(p["value"], frozenset()) for p in data["predicates"]}
    return known


def parse_tag(name: str) -> tuple[str, str, str | None] | None:
    """``namespace:predicate="value"`` (or ``namespace:predicate``) as its three parts; None if not a machine tag."""
    match = _TAG.match(name.strip())
    return (match["namespace"], match["predicate"], match["value"]) if match else None


def is_known_tag(name: str) -> bool:
    """The tag exists in a taxonomy nciss ships: namespace, predicate and value all present."""
    parsed = parse_tag(name)
    if parsed is None:
        return False
    namespace, predicate, value = parsed
    values = _known().get(namespace, {}).get(predicate)
    if values is None:
        return False
    return value in values if values else value is None


def unknown_tags(event: dict[str, Any]) -> list[str]:
    """The tags of ``event`` (its own, its attributes' and its objects' attributes') that are not
    in a shipped taxonomy, sorted."""
    body = event.get("Event", event)
    names = _tag_names(body)
    for attribute in _all_attributes(body):
        names += _tag_names(attribute)
    return sorted({name for name in names if not is_known_tag(name)})


def _tag_names(item: dict[str, Any]) -> list[str]:
    names = []
    for tag in item.get("Tag") or ():
        name = tag.get("name") if isinstance(tag, dict) else tag
        if isinstance(name, str) and name:
            names.append(name)
    return names


def _all_attributes(body: dict[str, Any]) -> list[dict[str, Any]]:
    attributes = [a for a in body.get("Attribute") or () if isinstance(a, dict)]
    for obj in body.get("Object") or ():
        if isinstance(obj, dict):
            attributes += [a for a in obj.get("Attribute") or () if isinstance(a, dict)]
    return attributes


# ---------------------------------------------------------------------- reading


def read(stream: IO[bytes], name: str) -> Iterator[IncidentRecord | Rejected]:
    """The incidents of a MISP JSON file: ``{"Event": {...}}``, a bare event, ``{"response": [...]}``
    or a list of events; one record per event."""
    try:
        data = json.loads(stream.read())
    except (ValueError, UnicodeDecodeError) as exc:
        yield Rejected(name, "", "", f"not JSON: {exc}")
        return
    if isinstance(data, dict) and "response" in data:
        data = data["response"]
    if isinstance(data, list):
        for number, item in enumerate(data, 1):
            yield _record(item, name, f"event {number}")
    else:
        yield _record(data, name, "")


def _record(item: Any, name: str, where: str) -> IncidentRecord | Rejected:
    body = item.get("Event", item) if isinstance(item, dict) else None
    if not isinstance(body, dict):
        return Rejected(name, where, "", "expected a MISP event (a JSON object, or one under 'Event')")
    event_uuid = body.get("uuid")
    try:
        uuid.UUID(str(event_uuid))
    except ValueError:
        return Rejected(name, where, "Event.uuid", "missing" if event_uuid is None else "not a UUID")
    info = body.get("info")
    if not isinstance(info, str) or not info.strip():
        return Rejected(name, where, "Event.info", "missing: the event needs a title")
    mapped = ["Event.uuid", "Event.info"]
    unmapped: list[str] = []

    facts, tlp, pap, assessments = _from_tags(body, mapped, unmapped)
    date = body.get("date")
    if isinstance(date, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        facts["occurred_at"] = f"{date}T00:00:00+00:00"
        mapped.append("Event.date")
    observables: dict[tuple[str, str], Observable] = {}
    exported_facts: dict[str, Any] = {}
    description = ""
    for attribute in body.get("Attribute") or ():
        if not isinstance(attribute, dict):
            continue
        path = f"Event.Attribute[{attribute.get('type')}]"
        fact = _fact_from_attribute(attribute)
        found = _observables(attribute) if fact is None else []
        if fact is not None:
            exported_facts[fact[0]] = fact[1]
        for observable in found:
            observables.setdefault((observable.type, observable.value), observable)
        (mapped if fact is not None or found else unmapped).append(path)
    incident_read = False
    for obj in body.get("Object") or ():
        if not isinstance(obj, dict):
            continue
        if obj.get("name") == "incident" and not incident_read:
            description = _from_incident_object(obj, facts, assessments, mapped, unmapped)
            incident_read = True
            continue
        for attribute in obj.get("Attribute") or ():
            if not isinstance(attribute, dict):
                continue
            found = _observables(attribute)
            for observable in found:
                observables.setdefault((observable.type, observable.value), observable)
            path = f"Event.Object[{obj.get('name')}].{attribute.get('object_relation')}"
            (mapped if found else unmapped).append(path)
    if exported_facts:  # an nciss export: its fact attributes are all the facts
        facts = exported_facts
    facts.setdefault("classification", "other:undetermined")
    facts = _valid_facts(facts, unmapped)

    reporter = (body.get("Orgc") or {}).get("name") if isinstance(body.get("Orgc"), dict) else None
    if reporter:
        mapped.append("Event.Orgc.name")
    modified = None
    if str(body.get("timestamp", "")).isdigit():
        modified = dt.datetime.fromtimestamp(int(body["timestamp"]), dt.UTC)
        mapped.append("Event.timestamp")
    handled = {"uuid", "info", "date", "timestamp", "Orgc", "Tag", "Attribute", "Object"}
    unmapped += [
        f"Event.{key}" for key, value in body.items() if key not in handled and value not in (None, "", [], {})
    ]
    return IncidentRecord(
        title=info.strip(),
        facts=facts,
        description=description,
        source="misp",
        source_id=str(event_uuid),
        tlp=tlp,
        pap=pap,
        modified=modified,
        reporter=reporter or None,
        assessments=tuple(sorted(assessments, key=lambda a: a.scale_id == PRIORITY_SCALE)),
        observables=tuple(observables.values()),
        original=body,
        mapped=tuple(dict.fromkeys(mapped)),
        unmapped=tuple(dict.fromkeys(unmapped)),
    )


def _from_tags(
    body: dict[str, Any], mapped: list[str], unmapped: list[str]
) -> tuple[dict[str, Any], str | None, str | None, list[Assessed]]:
    """Facts, TLP, PAP and the priority assessment from the event's tags."""
    facts: dict[str, Any] = {}
    rsit: list[str] = []
    ecsirt: list[str] = []
    sectors: list[str] = []
    tlp = pap = None
    assessments: list[Assessed] = []
    for name in _tag_names(body):
        parsed = parse_tag(name)
        used = False
        if parsed is not None:
            namespace, predicate, value = parsed
            if namespace == "rsit" and value and f"{predicate}:{value}" in rsit_types():
                rsit.append(f"{predicate}:{value}")
                used = True
            elif namespace == "ecsirt" and value and (nearest := rsit_type_of(value)):
                ecsirt.append(nearest)
                used = True
            elif namespace == "tlp" and (label := read_label(predicate, TLP_LABELS)):
                tlp = max(filter(None, (tlp, label)), key=TLP_LABELS.index)  # several: the strictest
                used = True
            elif namespace == "PAP" and (label := read_label(predicate, PAP_LABELS)):
                pap = max(filter(None, (pap, label)), key=PAP_LABELS.index)
                used = True
            elif namespace in ("nis", "nis2") and predicate in _SECTOR_PREDICATES and value:
                sector = _sector(value)
                if sector:
                    sectors.append(sector)
                    used = True
            elif namespace in ("nis", "nis2") and predicate == "nature-root-cause" and value:
                facts["root_cause"] = value
                used = True
            elif namespace == "priority-level" and predicate in PRIORITY_LEVELS and not assessments:
                assessments.append(_priority_assessed(predicate))
                used = True
        (mapped if used else unmapped).append(f"Event.Tag[{name}]")
    if rsit or ecsirt:
        facts["classification"] = (rsit + ecsirt)[0]  # the first rsit tag; else the first ecsirt one
    if sectors:
        facts["sector"] = sectors[0]
        if len(set(sectors)) > 1:
            facts["sectors_affected"] = sorted(set(sectors))
    return facts, tlp, pap, assessments


def _sector(value: str) -> str | None:
    """The facts-vocabulary sector of a nis or nis2 sector, subsector or important-entities value."""
    value = value.removesuffix("-subsector")
    value = _SECTOR_ALIASES.get(value, value)
    return value if value in SECTORS else None


def _priority_assessed(predicate: str) -> Assessed:
    expanded = {p["value"]: p["expanded"] for p in _taxonomy("priority-level")["predicates"]}
    version = str(_taxonomy("priority-level")["version"])
    return Assessed(PRIORITY_SCALE, version, PRIORITY_LEVELS.index(predicate), expanded[predicate])


def _observables(attribute: dict[str, Any]) -> list[Observable]:
    parts = _ATTRIBUTE_PARTS.get(str(attribute.get("type")))
    value = attribute.get("value")
    if parts is None or not isinstance(value, str | int):
        return []
    values = str(value).split("|")
    if len(values) != len(parts):
        return []
    comment = str(attribute.get("comment") or "")
    found = []
    for kind, text in zip(parts, values, strict=True):
        text = text.strip()
        if kind is None or not text:
            continue
        if kind == "ip":
            kind = "ipv6-addr" if ":" in text else "ipv4-addr"
        elif kind == "autonomous-system":
            text = text.upper().removeprefix("AS")
            if not text.isdigit():
                continue
        elif kind == "vulnerability":
            text = text.upper()
        elif kind.startswith("file:hashes") or kind == "domain-name":
            text = text.lower()
        found.append(Observable(kind, text, comment))
    return found


def _fact_from_attribute(attribute: dict[str, Any]) -> tuple[str, Any] | None:
    """(fact, value) from a fact attribute an nciss export wrote; None for any other attribute."""
    if attribute.get("type") != "text" or not str(attribute.get("comment") or "").startswith(FACT_COMMENT):
        return None
    name, sep, text = str(attribute.get("value") or "").partition(": ")
    spec = fact_specs().get(name)
    if not sep or spec is None:
        return None
    if spec.kind == "list":
        return name, [item for item in text.split(", ") if item]
    if spec.kind in ("bool", "int", "number"):
        try:
            return name, json.loads(text)
        except ValueError:
            return name, text  # validation drops it
    return name, text


def _from_incident_object(
    obj: dict[str, Any], facts: dict[str, Any], assessments: list[Assessed], mapped: list[str], unmapped: list[str]
) -> str:
    """Read an ``incident`` object into the record: its scores, recoverability; returns its description."""
    description = ""
    for attribute in obj.get("Attribute") or ():
        if not isinstance(attribute, dict):
            continue
        relation, value = attribute.get("object_relation"), str(attribute.get("value") or "")
        if relation == "description":
            description = value
        elif relation == "recoverability":
            facts.setdefault("recoverability", value)
        elif relation == "score" and (match := _SCORE.match(value)):
            assessments.append(
                Assessed(
                    scale_id=match["scale"],
                    scale_version=match["version"],
                    rank=int(match["rank"]),
                    name=match["name"],
                    score=float(match["score"]) if match["score"] else None,
                    reachable_max=int(match["max"]) if match["max"] else None,
                    basis="crosswalk" if "from a crosswalk" in value else "facts",
                    missing=tuple(m for m in (match["missing"] or "").split(", ") if m),
                )
            )
        else:
            unmapped.append(f"Event.Object[incident].{relation}")
            continue
        mapped.append(f"Event.Object[incident].{relation}")
    return description


def _valid_facts(facts: dict[str, Any], unmapped: list[str]) -> dict[str, Any]:
    """The facts that pass validation; a fact that does not is dropped and named in ``unmapped``."""
    while True:
        try:
            return validate_facts(facts)
        except FactsError as exc:
            bad = {path for path, _ in exc.errors} & facts.keys()
            if not bad:
                raise
            unmapped += [f"facts.{name}" for name in sorted(bad)]
            facts = {name: value for name, value in facts.items() if name not in bad}


# ---------------------------------------------------------------------- writing


def priority_level(record: IncidentRecord) -> str | None:
    """The ``priority-level`` value for the record's national level (its first assessment).

    A level on the MISP pseudo scale is given back as it came. On cisa-nciss and osce-reference,
    whose six levels are CISA's priority levels, rank 1..5 is low..emergency and Baseline is
    baseline-minor when unknown facts could still raise the level, else baseline-negligible. Other
    scales go through their crosswalk to cisa-nciss (the lower end of the range). None when the
    record has no level or its scale has no crosswalk to cisa-nciss.
    """
    if not record.assessments:
        return None
    national = record.assessments[0]
    if national.scale_id == PRIORITY_SCALE:
        return PRIORITY_LEVELS[national.rank] if 0 <= national.rank < len(PRIORITY_LEVELS) else None
    rank = national.rank if national.scale_id in _NCISS_LIKE else _crosswalk_to_nciss(national)
    if rank is None:
        return None
    if rank == 0:
        could_rise = national.reachable_max is not None and national.reachable_max > national.rank
        return "baseline-minor" if could_rise else "baseline-negligible"
    return PRIORITY_LEVELS[min(rank, 5) + 1]


def _crosswalk_to_nciss(assessed: Assessed) -> int | None:
    try:
        rows = load_scale(assessed.scale_id).crosswalks.get("cisa-nciss", ())
    except ScaleError:
        return None
    return next((row.min for row in rows if row.source == assessed.rank), None)


def to_event(record: IncidentRecord) -> dict[str, Any]:
    """The record as ``{"Event": {...}}``: tags from the shipped taxonomies only, observables as
    attributes, an ``incident`` object with the levels, and one text attribute per fact.

    A record read from MISP keeps its event's uuid, attribute types and uuids, objects, and those
    of its tags from the shipped taxonomies that nciss does not derive itself.
    """
    original = record.original if record.source == "misp" and isinstance(record.original, dict) else {}
    event_uuid = _event_uuid(record)
    priority = priority_level(record)
    tags = _export_tags(record, priority)
    tags += [t for t in _tag_names(original) if is_known_tag(t) and t not in tags and not _derived(t)]

    kept_objects = [
        _portable(o)
        for o in original.get("Object") or ()
        if isinstance(o, dict) and o.get("name") not in _NCISS_OBJECTS
    ]
    in_objects = {
        (o.type, o.value) for obj in kept_objects for a in obj.get("Attribute") or () for o in _observables(a)
    }
    by_observable = {
        (o.type, o.value): a for a in original.get("Attribute") or () if isinstance(a, dict) for o in _observables(a)
    }
    attributes: dict[str, dict[str, Any]] = {}
    for observable in record.observables:
        key = (observable.type, observable.value)
        if key in in_objects:
            continue
        source = by_observable.get(key)
        attribute = _portable(source) if source else _observable_attribute(event_uuid, observable)
        if attribute:
            attributes.setdefault(_attribute_key(attribute), attribute)
    for attribute in original.get("Attribute") or ():
        if isinstance(attribute, dict) and not _observables(attribute) and _fact_from_attribute(attribute) is None:
            attributes.setdefault(_attribute_key(attribute), _portable(attribute))
    for name, value in record.facts.items():
        attributes[f"fact:{name}"] = _fact_attribute(event_uuid, name, value)

    status = record.status
    tlp = record.tlp
    event: dict[str, Any] = {
        "uuid": event_uuid,
        "info": record.title,
        "date": _event_date(record, original),
        "threat_level_id": _THREAT_LEVEL.get(priority or "", str(original.get("threat_level_id") or "4")),
        "analysis": _STATUS_ANALYSIS.get(status, "1") if status else str(original.get("analysis") or "0"),
        "distribution": _TLP_DISTRIBUTION.get(tlp, "0") if tlp else str(original.get("distribution") or "0"),
        "published": False,
        "Tag": [{"name": tag} for tag in tags],
        "Attribute": list(attributes.values()),
        "Object": [_incident_object(record, event_uuid, original), *kept_objects],
    }
    if record.reporter:
        event["Orgc"] = {"name": record.reporter}
    if record.modified:
        event["timestamp"] = str(int(record.modified.timestamp()))
    return {"Event": event}


def _attribute_key(attribute: dict[str, Any]) -> str:
    return str(attribute.get("uuid") or f"{attribute.get('type')}|{attribute.get('value')}")


def _event_uuid(record: IncidentRecord) -> str:
    """The MISP event's own uuid for a record that came from MISP; for any other, a uuid that stays
    the same for every export of the same incident."""
    if record.source == "misp":
        try:
            return str(uuid.UUID(record.source_id))
        except ValueError:
            pass
    key = record.reference or f"{record.source}:{record.source_id}"
    if key == ":":
        key = f"{record.title}|{record.created.isoformat() if record.created else ''}"
    return str(uuid.uuid5(_UUID_NAMESPACE, key))


def _export_tags(record: IncidentRecord, priority: str | None) -> list[str]:
    candidates = []
    classification = record.classification
    if ":" in classification:
        kind, value = classification.split(":", 1)
        candidates.append(f'rsit:{kind}="{value}"')
    if record.tlp:
        candidates.append("tlp:" + record.tlp.removeprefix("TLP:").lower())
    if record.pap:
        candidates.append("PAP:" + record.pap.removeprefix("PAP:"))
    if priority:
        candidates.append(f"priority-level:{priority}")
    sectors = [record.facts["sector"]] if "sector" in record.facts else []
    sectors += [s for s in record.facts.get("sectors_affected", ()) if s not in sectors]
    candidates += [f'nis2:impact-sectors-impacted="{sector}"' for sector in sectors]
    if "root_cause" in record.facts:
        candidates.append(f'nis2:nature-root-cause="{record.facts["root_cause"]}"')
    return [tag for tag in candidates if is_known_tag(tag)]


def _derived(tag: str) -> bool:
    """The tag says something exports derive from the record (and so replace)."""
    parsed = parse_tag(tag)
    if parsed is None:
        return False
    namespace, predicate, _ = parsed
    if namespace in ("nis", "nis2"):
        return predicate in _OWNED_PREDICATES
    return namespace in ("rsit", "ecsirt", "tlp", "PAP", "priority-level")


def _portable(item: dict[str, Any]) -> dict[str, Any]:
    """A copy of an original attribute or object fit for another MISP instance: without the source
    instance's local ids, galaxies and proposals, and with only tags of the shipped taxonomies."""
    copy = {key: value for key, value in item.items() if key not in _LOCAL_KEYS}
    if "Tag" in copy:
        copy["Tag"] = [{"name": t} for t in _tag_names(item) if is_known_tag(t)]
    if isinstance(copy.get("Attribute"), list):
        copy["Attribute"] = [_portable(a) for a in copy["Attribute"] if isinstance(a, dict)]
    return copy


def _observable_attribute(event_uuid: str, observable: Observable) -> dict[str, Any] | None:
    export = _EXPORT_TYPES.get(observable.type)
    if export is None:
        return None
    kind, category = export
    return {
        "uuid": str(uuid.uuid5(uuid.UUID(event_uuid), f"{kind}|{observable.value}")),
        "type": kind,
        "category": category,
        "value": observable.value,
        "comment": observable.comment,
        "to_ids": False,
    }


def _fact_text(value: Any) -> str:
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _fact_attribute(event_uuid: str, name: str, value: Any) -> dict[str, Any]:
    spec = fact_specs().get(name)
    label = spec.label["en"] if spec else name
    return {
        "uuid": str(uuid.uuid5(uuid.UUID(event_uuid), f"fact:{name}")),
        "type": "text",
        "category": "Other",
        "value": f"{name}: {_fact_text(value)}",
        "comment": f"{FACT_COMMENT}: {label}",
        "to_ids": False,
        "disable_correlation": True,
    }


def _event_date(record: IncidentRecord, original: dict[str, Any]) -> str:
    for name in ("occurred_at", "detected_at", "reported_at"):
        if name in record.facts:
            return str(record.facts[name])[:10]
    if original.get("date"):
        return str(original["date"])
    return (record.created or dt.datetime.now(dt.UTC)).date().isoformat()


def score_text(assessed: Assessed) -> str:
    """One level as the ``incident`` object's ``score`` shows it, e.g.
    ``Medium on osce-reference 1.0: rank 2, score 41.25, up to rank 4`` (unknown facts could raise it to 4)."""
    text = f"{assessed.name} on {assessed.scale_id} {assessed.scale_version}: rank {assessed.rank}"
    if assessed.score is not None:
        text += f", score {assessed.score!r}"
    if assessed.reachable_max is not None:
        text += f", up to rank {assessed.reachable_max}"
    if assessed.basis == "crosswalk":
        text += ", from a crosswalk" + (f" (missing {', '.join(assessed.missing)})" if assessed.missing else "")
    return text


def _incident_object(record: IncidentRecord, event_uuid: str, original: dict[str, Any]) -> dict[str, Any]:
    values: list[tuple[str, str]] = [("name", record.title)]
    if record.description:
        values.append(("description", record.description))
    if record.status:
        values.append(("investigation_status", _STATUS_INVESTIGATION.get(record.status, "open")))
    if "recoverability" in record.facts:
        values.append(("recoverability", str(record.facts["recoverability"])))
    values += [("score", score_text(a)) for a in record.assessments if a.scale_id != PRIORITY_SCALE]
    objects = original.get("Object") or ()
    previous: dict[str, Any] = next((o for o in objects if isinstance(o, dict) and o.get("name") == "incident"), {})
    object_uuid = str(previous.get("uuid") or uuid.uuid5(uuid.UUID(event_uuid), "incident"))
    return {
        "uuid": object_uuid,
        "name": "incident",
        "meta-category": "misc",
        "template_uuid": "38597424-f9bb-4865-9b4b-819172df0334",
        "template_version": "1",
        "description": "Incident object template as described in STIX 2.1 Incident object and its core extension.",
        "comment": "nciss: the incident's levels, one score per scale, the national level first",
        "Attribute": [
            {
                "uuid": str(uuid.uuid5(uuid.UUID(object_uuid), f"{relation}|{value}")),
                "object_relation": relation,
                "type": "text",
                "category": "Other",
                "value": value,
                "to_ids": False,
                "disable_correlation": True,
            }
            for relation, value in values
        ],
    }
