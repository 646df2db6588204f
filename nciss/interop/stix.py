"""STIX 2.1: incidents written as bundles, and bundles read as incidents.

An incident becomes an ``incident`` object that carries the nciss property extension (facts,
assessments, status, PAP) and the TLP 2.0 marking of its TLP. Its observables become cyber-observable
objects (a ``vulnerability`` for a CVE id), each tied to the incident by a ``related-to``
relationship and all gathered in one ``observed-data``. Every identifier is deterministic, so
exporting the same incident twice gives the same objects. docs/interop/stix.md has the mapping.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, partial
from importlib import resources
from typing import IO, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from nciss.facts import FACTS_VERSION, FactsError, facts_json_schema, validate_facts
from nciss.interop.records import PAP_LABELS, TLP_LABELS, Assessed, IncidentRecord, Observable, Rejected
from nciss.taxonomy import rsit_types

# Incident, identity, relationship ... identifiers are uuid5 names in this namespace.
NCISS_NAMESPACE = uuid.UUID("a7197cc6-6b4e-4469-b75f-c72bea1027eb")
# STIX 2.1 section 2.9: the namespace of deterministic cyber-observable identifiers.
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")

EXTENSION_ID = "extension-definition--f420cc61-1d22-441f-a5a1-b299539ab861"
NCISS_IDENTITY_ID = "identity--7c8adb2e-bf22-497f-99ed-eab904859650"
# Objects every deployment writes alike (identities, locations, vulnerabilities) carry this time,
# so that the same object never shows up as two versions.
SHARED_TIME = "2026-12-01T00:00:00.000Z"

# The TLP 2.0 marking definitions published by OASIS (cti-stix-common-objects, tlp-2.0).
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_MARKING_IDS = {
    "TLP:CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "TLP:GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "TLP:AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "TLP:AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "TLP:RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP2_CREATED = "2022-10-01T00:00:00.000Z"
# The TLP 1.0 marking definitions STIX 2.1 predefines; WHITE reads as CLEAR.
TLP1_MARKING_IDS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "TLP:CLEAR",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "TLP:GREEN",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "TLP:AMBER",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "TLP:RED",
}

UNDETERMINED = "other:undetermined"
# Objects that say who and how to share rather than what happened.
_CONTEXT_TYPES = ("identity", "location", "relationship", "marking-definition", "extension-definition")
_HASH_LENGTHS = {"MD5": 32, "SHA-1": 40, "SHA-256": 64}
_HASH_ALIASES = {"MD5": "MD5", "SHA-1": "SHA-1", "SHA1": "SHA-1", "SHA-256": "SHA-256", "SHA256": "SHA-256"}
_VALUE_SCOS = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "mac-addr")
_IPV4 = re.compile(r"^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(/(3[0-2]|[12]?\d))?$")
_ASCII_LABEL = re.compile(r"^[a-z0-9-]+$", re.IGNORECASE)
_HANGUL_JAMO = re.compile("[\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff]")
# An RFC 3986 URI with an authority (scheme://host...), its IPv6 literal checked apart.
_URI_CHARS = r"A-Za-z0-9\-._~!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_URL = re.compile(
    rf"^[A-Za-z][A-Za-z0-9+.\-]*://(?:(?:[{_URI_CHARS}:]|{_PCT})*@)?"
    rf"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?:[{_URI_CHARS}]|{_PCT})+)(?::\d*)?"
    rf"(?:/(?:[{_URI_CHARS}:@]|{_PCT})*)*(?:\?(?:[{_URI_CHARS}:@/?]|{_PCT})*)?(?:#(?:[{_URI_CHARS}:@/?]|{_PCT})*)?$"
)
# Plain ASCII addresses with a dotted domain: what STIX validators accept as email-addr values.
_EMAIL = re.compile(r"^[A-Za-z0-9_.+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_MAC_SEPARATORS = re.compile(r"[:.\-]")
_AS_NUMBER = re.compile(r"^(?:AS)?(\d{1,10})$", re.IGNORECASE)
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_RSIT_LABEL = re.compile(r'^rsit:([a-z0-9-]+)[=:]"?([a-z0-9-]+)"?$', re.IGNORECASE)
_INCIDENT_ID = re.compile(r"^incident--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# One comparison of a STIX pattern: object type, property path, quoted or numeric value.
_PATTERN_COMPARISON = re.compile(
    r"([a-z0-9-]+):([A-Za-z0-9_.'-]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\d+))",
)


@cache
def extension_definition() -> dict[str, Any]:
    """The ``extension-definition`` object of the nciss property extension."""
    data: dict[str, Any] = json.loads(_data_file("stix-extension-nciss.json"))
    return data


@cache
def extension_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of the extension's properties; ``facts`` refers to the facts schema."""
    data: dict[str, Any] = json.loads(_data_file("stix-extension-nciss.schema.json"))
    return data


def _data_file(name: str) -> str:
    return resources.files("nciss.interop.data").joinpath(name).read_text("utf-8")


def marking_definition(tlp: str) -> dict[str, Any]:
    """The TLP 2.0 ``marking-definition`` object of a TLP label, as OASIS publishes it."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_MARKING_IDS[tlp],
        "created": TLP2_CREATED,
        "name": tlp,
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": tlp[4:].lower()}},
    }


def incident_id(record: IncidentRecord) -> str:
    """The record's STIX id: its own when it came from STIX, else a uuid5 of its nciss reference
    (of its source and title when it has none yet)."""
    if _INCIDENT_ID.match(record.source_id):
        return record.source_id
    name = record.reference or f"{record.source} {record.source_id} {record.title}"
    return f"incident--{uuid.uuid5(NCISS_NAMESPACE, name)}"


# --- writing -----------------------------------------------------------------------------------


def to_bundle(records: Iterable[IncidentRecord], producer: str = "nciss") -> dict[str, Any]:
    """A STIX 2.1 bundle of the records, ready for ``json.dumps``.

    ``producer`` names the CSIRT that sends it: its identity authors the relationships and
    observed data. Each incident names its reporter (``created_by_ref``) only when
    ``record.reporter`` is set. Pure: the same records give the same bundle (a record without
    any time is stamped with the current time). Raises ValueError for a TLP label that is not TLP 2.0.
    """
    producer_identity = _identity(producer)
    objects: dict[str, dict[str, Any]] = {}
    versions = []
    for record in records:
        incident, *others = _record_objects(record, producer_identity["id"])
        for obj in (incident, *others):
            _add(objects, obj)
        versions.append(f"{incident['id']}@{incident['modified']}")
    used = {ref for obj in objects.values() for ref in obj.get("object_marking_refs", ())}
    markings = [marking_definition(tlp) for tlp in TLP_LABELS if TLP2_MARKING_IDS[tlp] in used]
    shared = [_nciss_identity(), extension_definition(), producer_identity]
    bundle_name = f"bundle {producer} " + " ".join(versions)
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid5(NCISS_NAMESPACE, bundle_name)}",
        "objects": [*shared, *markings, *(o for o in objects.values() if o["id"] != producer_identity["id"])],
    }


def _add(objects: dict[str, dict[str, Any]], obj: dict[str, Any]) -> None:
    """Add ``obj``. An observable two incidents share is written once, marked as the less restricted
    of the two: that incident discloses its value anyway, and what ties it to the more restricted
    incident (the relationship) keeps that incident's marking."""
    present = objects.get(obj["id"])
    if present is None:
        objects[obj["id"]] = obj
    elif _tlp_rank(_marking_tlp(obj)) < _tlp_rank(_marking_tlp(present)):
        objects[obj["id"]] = {k: v for k, v in present.items() if k != "object_marking_refs"} | {
            k: v for k, v in obj.items() if k == "object_marking_refs"
        }


def _marking_tlp(obj: dict[str, Any]) -> str | None:
    labels = [TLP1_MARKING_IDS.get(ref) or _TLP2_LABELS.get(ref) for ref in obj.get("object_marking_refs", ())]
    return _most_restrictive(label for label in labels if label)


_TLP2_LABELS = {marking: label for label, marking in TLP2_MARKING_IDS.items()}


def _tlp_rank(tlp: str | None) -> int:
    return -1 if tlp is None else TLP_LABELS.index(tlp)


def _most_restrictive(labels: Iterable[str]) -> str | None:
    return max(labels, key=_tlp_rank, default=None)


def _record_objects(record: IncidentRecord, producer_ref: str) -> list[dict[str, Any]]:
    """The incident object, then the objects it refers to (markings and the producer excepted)."""
    incident_ref = incident_id(record)
    created, modified = _times(record)
    marking = {"object_marking_refs": [TLP2_MARKING_IDS[_tlp_label(record.tlp)]]} if record.tlp else {}
    common = {"spec_version": "2.1", "created": created, "modified": modified}
    incident: dict[str, Any] = {
        "type": "incident",
        "id": incident_ref,
        **common,
        "name": record.title or record.reference or incident_ref,
    }
    objects: list[dict[str, Any]] = [incident]
    if record.description:
        incident["description"] = record.description
    original = _original_incident(record, incident_ref)
    if record.reporter is not None:
        reporter = _original_reporter(record, original) or _identity(record.reporter)
        incident["created_by_ref"] = reporter["id"]
        objects.append(reporter)
        if record.reporter_country:
            objects.extend(_located_at(reporter["id"], record.reporter_country, producer_ref))
    labels: list[str] = []
    if record.classification in rsit_types():
        kind, _, name = record.classification.partition(":")
        labels.append(f'rsit:{kind}="{name}"')
    labels += [label for label in _list(original.get("labels")) if not str(label).lower().startswith("rsit:")]
    if labels:
        incident["labels"] = list(dict.fromkeys(labels))
    references = [{"source_name": "nciss", "external_id": record.reference}] if record.reference else []
    if record.reporter is not None or "created_by_ref" not in original:  # another's reference may name the reporter
        references += [r for r in _list(original.get("external_references")) if _dict(r).get("source_name") != "nciss"]
    if references:
        incident["external_references"] = references
    incident.update(marking)
    incident.update(_unmapped_properties(record, original))

    authored = {**common, "created_by_ref": producer_ref, **marking}
    observed: list[str] = []
    unrepresentable: list[Observable] = []
    written = set()
    for observable in dict.fromkeys(record.observables):
        target = _observable_object(observable, marking)
        if target is None:
            unrepresentable.append(observable)
            continue
        if target["id"] in written:  # the same value given twice, e.g. as AS64496 and 64496
            continue
        written.add(target["id"])
        if target["type"] != "vulnerability":
            observed.append(target["id"])
        objects.append(target)
        objects.append(_relationship(incident_ref, "related-to", target["id"], authored, observable.comment))
    if observed:
        first, last = _observed_times(record, created, modified)
        observed_data: dict[str, Any] = {
            "type": "observed-data",
            "id": f"observed-data--{uuid.uuid5(NCISS_NAMESPACE, f'observed-data {incident_ref}')}",
            **authored,
            "first_observed": first,
            "last_observed": last,
            "number_observed": 1,
            "object_refs": observed,
        }
        objects.append(observed_data)
        objects.append(_relationship(incident_ref, "related-to", observed_data["id"], authored, ""))
    incident["extensions"] = {**_dict(incident.get("extensions")), EXTENSION_ID: _extension(record, unrepresentable)}
    return objects


def _original_incident(record: IncidentRecord, incident_ref: str) -> dict[str, Any]:
    """The incident object a record read from STIX came from ({} for any other record)."""
    if record.source != "stix" or not isinstance(record.original, list):
        return {}
    return next((o for o in record.original if isinstance(o, dict) and o.get("id") == incident_ref), {})


def _original_reporter(record: IncidentRecord, original: dict[str, Any]) -> dict[str, Any] | None:
    """The identity the original incident named, when it still names the reporter (its id kept)."""
    for obj in record.original if original else ():
        if (
            isinstance(obj, dict)
            and obj.get("id") == original.get("created_by_ref")
            and obj.get("type") == "identity"
            and obj.get("name") == record.reporter
        ):
            return obj
    return None


def _unmapped_properties(record: IncidentRecord, original: dict[str, Any]) -> dict[str, Any]:
    """The original incident's properties nciss does not map (its other extensions included), to
    write back unchanged; labels and external references are merged apart."""
    carried: dict[str, Any] = {}
    extensions = _dict(original.get("extensions"))
    for path in record.unmapped:
        kind, _, name = path.partition(".")
        extension_id = name.removeprefix("extensions.")
        if kind != "incident":
            continue
        if extension_id != name and extension_id in extensions:
            carried.setdefault("extensions", {})[extension_id] = extensions[extension_id]
        elif name in original and name not in ("labels", "external_references"):
            carried[name] = original[name]
    return carried


def _tlp_label(tlp: str) -> str:
    label = tlp.strip().upper()
    label = "TLP:CLEAR" if label == "TLP:WHITE" else label
    if label not in TLP2_MARKING_IDS:
        raise ValueError(f"{tlp!r} is not a TLP 2.0 label ({', '.join(TLP_LABELS)})")
    return label


def _timestamp(value: dt.datetime) -> str:
    """STIX timestamp: UTC, millisecond precision."""
    utc = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _fact_time(facts: dict[str, Any], name: str) -> dt.datetime | None:
    value = facts.get(name)
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _times(record: IncidentRecord) -> tuple[str, str]:
    """created and modified: the record's, else its report time, else now."""
    created = (
        record.created
        or record.modified
        or _fact_time(record.facts, "reported_at")
        or _fact_time(record.facts, "detected_at")
        or dt.datetime.now(dt.UTC)
    )
    modified = record.modified or created
    return _timestamp(created), max(_timestamp(created), _timestamp(modified))


def _observed_times(record: IncidentRecord, created: str, modified: str) -> tuple[str, str]:
    """When the observables were seen: from the occurrence (else detection) time to the last change."""
    seen = _fact_time(record.facts, "occurred_at") or _fact_time(record.facts, "detected_at")
    first = _timestamp(seen) if seen else created
    return first, max(first, modified)


def _identity(name: str) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{uuid.uuid5(NCISS_NAMESPACE, f'identity {name}')}",
        "created": SHARED_TIME,
        "modified": SHARED_TIME,
        "name": name,
        "identity_class": "organization",
    }


def _nciss_identity() -> dict[str, Any]:
    """The author of the nciss extension definition."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": NCISS_IDENTITY_ID,
        "created": SHARED_TIME,
        "modified": SHARED_TIME,
        "name": "nciss project",
        "description": "The open-source national cyber incident classification and severity platform.",
        "identity_class": "organization",
    }


def _located_at(identity_ref: str, country: str, producer_ref: str) -> list[dict[str, Any]]:
    location = {
        "type": "location",
        "spec_version": "2.1",
        "id": f"location--{uuid.uuid5(NCISS_NAMESPACE, f'location {country.upper()}')}",
        "created": SHARED_TIME,
        "modified": SHARED_TIME,
        "country": country.upper(),
    }
    authored = {"spec_version": "2.1", "created": SHARED_TIME, "modified": SHARED_TIME, "created_by_ref": producer_ref}
    return [location, _relationship(identity_ref, "located-at", location["id"], authored, "")]


def _relationship(
    source_ref: str, relationship_type: str, target_ref: str, common: dict[str, Any], description: str
) -> dict[str, Any]:
    name = f"{source_ref} {relationship_type} {target_ref}"
    relationship = {
        "type": "relationship",
        "id": f"relationship--{uuid.uuid5(NCISS_NAMESPACE, name)}",
        **common,
        "relationship_type": relationship_type,
        "source_ref": source_ref,
        "target_ref": target_ref,
    }
    if description:
        relationship["description"] = description
    return relationship


def _sco(sco_type: str, properties: dict[str, Any], marking: dict[str, Any]) -> dict[str, Any]:
    """A cyber-observable object with its deterministic id (STIX 2.1 section 2.9)."""
    canonical = json.dumps(properties, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {
        "type": sco_type,
        "spec_version": "2.1",
        "id": f"{sco_type}--{uuid.uuid5(SCO_NAMESPACE, canonical)}",
        **properties,
        **marking,
    }


def _observable_object(observable: Observable, marking: dict[str, Any]) -> dict[str, Any] | None:
    """The STIX object of an observable, or None when STIX cannot hold its value as given."""
    kind, value = observable.type, observable.value.strip()
    if kind in _VALUE_SCOS:
        normalised = _sco_value(kind, value)
        return _sco(kind, {"value": normalised}, marking) if normalised else None
    if kind == "autonomous-system":
        match = _AS_NUMBER.match(value)
        if match and int(match[1]) <= 0xFFFFFFFF:
            return _sco(kind, {"number": int(match[1])}, marking)
        return None
    if kind.startswith("file:hashes."):
        algorithm = kind.removeprefix("file:hashes.")
        if len(value) == _HASH_LENGTHS.get(algorithm, -1) and re.fullmatch(r"[0-9a-fA-F]+", value):
            return _sco("file", {"hashes": {algorithm: value.lower()}}, marking)
        return None
    if kind == "file:name":
        return _sco("file", {"name": value}, marking) if value else None
    if kind == "vulnerability" and value:
        name = value.upper() if _CVE.match(value) else value
        vulnerability = {
            "type": "vulnerability",
            "spec_version": "2.1",
            "id": f"vulnerability--{uuid.uuid5(NCISS_NAMESPACE, f'vulnerability {name}')}",
            "created": SHARED_TIME,
            "modified": SHARED_TIME,
            "name": name,
            **marking,
        }
        if _CVE.match(name):
            vulnerability["external_references"] = [{"source_name": "cve", "external_id": name}]
        return vulnerability
    return None


def _sco_value(kind: str, value: str) -> str | None:
    """The value as the STIX object type requires it, or None. Domain names are lower-cased, MAC
    addresses lower-case and colon-separated."""
    if kind == "ipv4-addr":
        return value if _IPV4.match(value) else None
    if kind == "ipv6-addr":
        # Without an embedded IPv4 address, which the STIX 2.1 schema's pattern cannot match.
        try:
            ipaddress.IPv6Network(value, strict=False)
        except ValueError:
            return None
        return value if "." not in value else None
    if kind == "domain-name":
        value = value.lower()
        labels = value.removesuffix(".").split(".")
        encoded = [e for label in labels if (e := _host_label(label))]
        return value if len(encoded) == len(labels) and len(".".join(encoded)) <= 253 else None
    if kind == "url":
        match = _URL.match(value)
        return value if match and (match["ipv6"] is None or _is_ipv6(match["ipv6"])) else None
    if kind == "email-addr":
        return value if _EMAIL.match(value) else None
    # mac-addr: STIX wants lower-case, colon-separated
    digits = _MAC_SEPARATORS.sub("", value).lower()
    if len(digits) == 12 and re.fullmatch(r"[0-9a-f]+", digits):
        return ":".join(digits[i : i + 2] for i in range(0, 12, 2))
    return None


def _host_label(label: str) -> str | None:
    """The label as DNS carries it (punycode for IDNA), or None when IDNA 2008 might refuse it.

    Stricter than IDNA so that every domain written passes a validator's idn-hostname check:
    non-ASCII labels hold only letters without case, lower-case letters, digits and hyphens that
    NFKC case folding keeps, and right-to-left labels follow the bidi rule (RFC 5893).
    """
    if not label or len(label) > 63 or label.startswith("-") or label.endswith("-"):
        return None
    if label.isascii():
        if not _ASCII_LABEL.match(label):
            return None
        if label[2:4] == "--":  # reserved for A-labels, which must decode to a label we accept
            try:
                decoded = label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                return None
            return label if label[:4].lower() == "xn--" and _host_label(decoded) == label.lower() else None
        return label
    if label[2:4] == "--" or not all(c == "-" or _idna_letter(c) for c in label):
        return None
    directions = [unicodedata.bidirectional(c) for c in label]
    if {"R", "AL", "AN"} & set(directions) and (
        directions[0] not in ("R", "AL")
        or directions[-1] not in ("R", "AL", "EN", "AN")
        or not set(directions) <= {"R", "AL", "AN", "EN", "ES"}
        or {"EN", "AN"} <= set(directions)
    ):
        return None
    encoded = "xn--" + label.encode("punycode").decode("ascii")
    return encoded if len(encoded) <= 63 else None


def _idna_letter(c: str) -> bool:
    """A letter or digit IDNA 2008 allows: stable under NFKC case folding (ß and ς excepted), not a
    conjoining Hangul jamo."""
    if unicodedata.category(c) not in ("Ll", "Lo", "Nd") or _HANGUL_JAMO.match(c):
        return False
    return c in "ßς" or unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", c).casefold()) == c


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _extension(record: IncidentRecord, unrepresentable: list[Observable]) -> dict[str, Any]:
    facts = {name: value for name, value in record.facts.items() if value is not None and name != "facts_version"}
    extension: dict[str, Any] = {"extension_type": "property-extension", "facts_version": FACTS_VERSION, "facts": facts}
    if record.classification:
        extension["classification"] = record.classification
    if record.status:
        extension["status"] = record.status
    if record.pap:
        extension["pap"] = record.pap
    if record.reporter_country:
        extension["reporter_country"] = record.reporter_country.upper()
    if record.assessments:
        national, *others = record.assessments
        extension["national_assessment"] = _assessment_json(national)
        if others:
            extension["other_assessments"] = [_assessment_json(a) for a in others]
    if unrepresentable:
        extension["other_observables"] = [
            {"type": o.type, "value": o.value, **({"comment": o.comment} if o.comment else {})} for o in unrepresentable
        ]
    return extension


def _assessment_json(assessed: Assessed) -> dict[str, Any]:
    data: dict[str, Any] = {
        "scale_id": assessed.scale_id,
        "scale_version": assessed.scale_version,
        "rank": assessed.rank,
        "level_name": assessed.name,
        "basis": assessed.basis,
    }
    if assessed.score is not None:
        data["score"] = assessed.score
    if assessed.reachable_max is not None:
        data["reachable_max"] = assessed.reachable_max
    if assessed.missing:
        data["missing"] = list(assessed.missing)
    return data


# --- reading -----------------------------------------------------------------------------------


class _Reject(Exception):
    """One record cannot be imported: ``field`` (a dotted path) and why."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass
class _Parts:
    """The objects that make up one record, and what became of their properties."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    observables: dict[tuple[str, str], Observable] = field(default_factory=dict)
    mapped: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)

    def add(self, obj: dict[str, Any]) -> None:
        self.objects.setdefault(obj["id"], obj)

    def observe(self, observable: Observable) -> None:
        self.observables.setdefault((observable.type, observable.value), observable)

    def mapped_paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.mapped))

    def unmapped_paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.unmapped))

    def note(self, prefix: str, obj: dict[str, Any], used: Iterable[str]) -> None:
        """List ``obj``'s properties as mapped (those in ``used``) or unmapped."""
        used = set(used)
        for name in obj:
            if name not in ("type", "spec_version"):
                (self.mapped if name in used else self.unmapped).append(f"{prefix}.{name}")


class _Bundle:
    """A bundle's objects by id (the latest version of each) and their relationships."""

    def __init__(self, objects: list[dict[str, Any]]):
        self.by_id: dict[str, dict[str, Any]] = {}
        for obj in objects:
            present = self.by_id.get(obj["id"])
            if present is None or str(obj.get("modified", "")) > str(present.get("modified", "")):
                self.by_id[obj["id"]] = obj
        self.objects = list(self.by_id.values())
        self.ends: dict[str, list[tuple[dict[str, Any], str]]] = {}
        for relationship in self.of_type("relationship"):
            source, target = relationship.get("source_ref"), relationship.get("target_ref")
            if isinstance(source, str) and isinstance(target, str):
                self.ends.setdefault(source, []).append((relationship, target))
                self.ends.setdefault(target, []).append((relationship, source))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["type"] == kind]

    def related(self, ref: str) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
        """Each relationship from or to ``ref`` with the object at its other end (None when absent)."""
        for relationship, other in self.ends.get(ref, ()):
            yield relationship, self.by_id.get(other)

    def marking(self, ref: str) -> tuple[str, str] | None:
        """("tlp", label) or ("pap", label) for a marking definition id, None for any other marking."""
        if ref in TLP1_MARKING_IDS:
            return "tlp", TLP1_MARKING_IDS[ref]
        if ref in _TLP2_LABELS:
            return "tlp", _TLP2_LABELS[ref]
        definition = self.by_id.get(ref, {})
        tlp2 = _dict(_dict(definition.get("extensions")).get(TLP2_EXTENSION_ID)).get("tlp_2_0")
        if isinstance(tlp2, str):
            return _protocol_label("TLP:" + tlp2)
        tlp1 = _dict(definition.get("definition")).get("tlp") if definition.get("definition_type") == "tlp" else None
        if isinstance(tlp1, str):
            return _protocol_label("TLP:" + tlp1)
        name = definition.get("name")
        return _protocol_label(name) if isinstance(name, str) else None


def _dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else {} (foreign bundles hold anything anywhere)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _protocol_label(text: str) -> tuple[str, str] | None:
    label = text.strip().upper().replace("WHITE", "CLEAR")
    if label in TLP_LABELS:
        return "tlp", label
    if label in PAP_LABELS:
        return "pap", label
    return None


def read(stream: IO[bytes], name: str) -> Iterator[IncidentRecord | Rejected]:
    """The incidents of a STIX 2.1 bundle (JSON), or Rejected entries; never raises for bad input.

    Each ``incident`` object is one record. A bundle without incidents gives one record per
    ``report`` (its ``object_refs``), and one without either gives one record for the bundle.
    """
    try:
        data = json.loads(stream.read().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        yield Rejected(name, "", "", f"not JSON: {exc}")
        return
    if not isinstance(data, dict) or data.get("type") != "bundle":
        yield Rejected(name, "", "type", 'not a STIX bundle (expected an object with "type": "bundle")')
        return
    bundle_id = str(data.get("id", ""))
    raw = data.get("objects", [])
    if not isinstance(raw, list):
        yield Rejected(name, bundle_id, "objects", "expected a list of STIX objects")
        return
    objects = [
        o for o in raw if isinstance(o, dict) and isinstance(o.get("type"), str) and isinstance(o.get("id"), str)
    ]
    if not objects:
        yield Rejected(name, bundle_id, "objects", "the bundle holds no STIX objects")
        return
    bundle = _Bundle(objects)
    if incidents := bundle.of_type("incident"):
        for incident in incidents:
            yield _guarded(name, incident["id"], partial(_incident_record, bundle, incident))
    elif reports := bundle.of_type("report"):
        for report in reports:
            yield _guarded(name, report["id"], partial(_report_record, bundle, report))
    else:
        yield _guarded(name, bundle_id, partial(_bundle_record, bundle, bundle_id))


def _guarded(name: str, record_id: str, build: Callable[[], IncidentRecord]) -> IncidentRecord | Rejected:
    try:
        return build()
    except _Reject as reject:
        return Rejected(name, record_id, reject.field, reject.reason)


def _incident_record(bundle: _Bundle, incident: dict[str, Any]) -> IncidentRecord:
    parts = _Parts()
    parts.add(incident)
    extension = _read_extension(incident)
    for relationship, other in bundle.related(incident["id"]):
        parts.add(relationship)
        if other is None:
            parts.unmapped.append(f"relationships.{relationship.get('relationship_type')}")
            continue
        parts.add(other)
        if not _collect(bundle, other, parts, str(relationship.get("description", ""))):
            parts.unmapped.append(f"relationships.{relationship.get('relationship_type')}.{other['type']}")
    for extra in extension.get("other_observables", ()):
        parts.observe(Observable(extra["type"], extra["value"], extra.get("comment", "")))
    reporter, reporter_country = _reporter(bundle, incident, parts)
    facts = _facts(extension, incident)
    used = {"id", "name", "description", "created", "modified", "created_by_ref", "object_marking_refs"}
    used |= {"external_references"} if _reference(incident) else set()
    used |= set() if extension else {"labels"}  # with the extension, the labels only repeat its classification
    parts.note("incident", {k: v for k, v in incident.items() if k != "extensions"}, used)
    parts.note("incident.extensions", _dict(incident.get("extensions")), [EXTENSION_ID])
    tlp, pap = _markings(bundle, parts)
    return IncidentRecord(
        title=str(incident.get("name") or incident["id"]),
        facts=facts,
        description=str(incident.get("description", "")),
        source="stix",
        source_id=incident["id"],
        reference=_reference(incident),
        tlp=tlp,
        pap=extension.get("pap") or pap,
        status=extension.get("status", ""),
        created=_time(incident, "created"),
        modified=_time(incident, "modified"),
        reporter=reporter,
        reporter_country=extension.get("reporter_country") or reporter_country,
        assessments=_assessments(extension),
        observables=tuple(parts.observables.values()),
        original=list(parts.objects.values()),
        mapped=parts.mapped_paths(),
        unmapped=parts.unmapped_paths(),
    )


def _report_record(bundle: _Bundle, report: dict[str, Any]) -> IncidentRecord:
    parts = _Parts()
    parts.add(report)
    for ref in _list(report.get("object_refs")):
        other = bundle.by_id.get(str(ref))
        if other is None:
            parts.unmapped.append("report.object_refs")
            continue
        parts.add(other)
        if not _collect(bundle, other, parts, "") and other["type"] not in _CONTEXT_TYPES:
            parts.unmapped.append(f"report.object_refs.{other['type']}")
    reporter, reporter_country = _reporter(bundle, report, parts)
    used = ["id", "name", "description", "created", "modified", "created_by_ref", "labels", "object_marking_refs"]
    parts.note("report", report, [*used, "object_refs"])
    tlp, pap = _markings(bundle, parts)
    return IncidentRecord(
        title=str(report.get("name") or report["id"]),
        facts={"classification": _classification_from_labels([report])},
        description=str(report.get("description", "")),
        source="stix",
        source_id=report["id"],
        tlp=tlp,
        pap=pap,
        created=_time(report, "created"),
        modified=_time(report, "modified"),
        reporter=reporter,
        reporter_country=reporter_country,
        observables=tuple(parts.observables.values()),
        original=list(parts.objects.values()),
        mapped=parts.mapped_paths(),
        unmapped=parts.unmapped_paths(),
    )


def _bundle_record(bundle: _Bundle, bundle_id: str) -> IncidentRecord:
    if not bundle_id.startswith("bundle--"):
        raise _Reject("id", "a bundle without incidents or reports needs its id to be imported")
    parts = _Parts(mapped=["bundle.id"])
    authors = {o["created_by_ref"] for o in bundle.objects if isinstance(o.get("created_by_ref"), str)}
    reporter, reporter_country = _reporter(
        bundle, {"created_by_ref": authors.pop()} if len(authors) == 1 else {}, parts
    )
    for obj in bundle.objects:
        parts.add(obj)
        if not _collect(bundle, obj, parts, "") and obj["type"] not in _CONTEXT_TYPES:
            parts.unmapped.append(f"objects.{obj['type']}")
    # The incident's times are those of what was observed and said about it, not of the markings or identities.
    described = [o for o in bundle.objects if o["type"] not in _CONTEXT_TYPES]
    created = [t for o in described if (t := _time(o, "created"))]
    modified = [t for o in described if (t := _time(o, "modified"))]
    tlp, pap = _markings(bundle, parts)
    return IncidentRecord(
        title=f"STIX bundle {bundle_id}",
        facts={"classification": _classification_from_labels(bundle.objects)},
        source="stix",
        source_id=bundle_id,
        tlp=tlp,
        pap=pap,
        created=min(created, default=None),
        modified=max(modified, default=None),
        reporter=reporter,
        reporter_country=reporter_country,
        observables=tuple(parts.observables.values()),
        original=list(parts.objects.values()),
        mapped=parts.mapped_paths(),
        unmapped=parts.unmapped_paths(),
    )


def _collect(bundle: _Bundle, obj: dict[str, Any], parts: _Parts, comment: str) -> bool:
    """Add the observables ``obj`` holds or points to; False when it holds none we understand."""
    kind = obj["type"]
    if kind == "observed-data":
        found = [bundle.by_id[str(ref)] for ref in _list(obj.get("object_refs")) if str(ref) in bundle.by_id]
        found += [o for o in _dict(obj.get("objects")).values() if isinstance(o, dict)]  # STIX 2.0 style
        for sco in found:
            if isinstance(sco.get("id"), str):
                parts.add(sco)
            for observable in _sco_observables(sco, comment):
                parts.observe(observable)
        parts.mapped.append("observed-data.object_refs")
        return True
    if kind == "indicator":
        pattern = obj.get("pattern")
        observables = _pattern_observables(pattern) if obj.get("pattern_type", "stix") == "stix" else []
        for observable in observables:
            parts.observe(Observable(observable.type, observable.value, comment))
        parts.mapped.append("indicator.pattern")
        return bool(observables)
    if kind == "vulnerability":
        cve = next(
            (
                str(r.get("external_id"))
                for r in _list(obj.get("external_references"))
                if isinstance(r, dict) and r.get("source_name") == "cve" and r.get("external_id")
            ),
            None,
        )
        value = cve or obj.get("name")
        if isinstance(value, str) and value:
            parts.observe(Observable("vulnerability", value, comment))
            parts.mapped.append("vulnerability.name")
            return True
        return False
    observables = _sco_observables(obj, comment)
    for observable in observables:
        parts.observe(observable)
    return bool(observables)


def _observable(kind: str, value: str, comment: str = "") -> Observable:
    """An observable read from STIX, its value normalised as nciss writes it (and as MISP reads it)."""
    if kind == "domain-name" or kind.startswith("file:hashes."):
        value = value.lower()
    elif kind == "mac-addr":
        value = _sco_value(kind, value) or value
    return Observable(kind, value, comment)


def _sco_observables(sco: dict[str, Any], comment: str) -> list[Observable]:
    kind = sco.get("type")
    if kind in _VALUE_SCOS and isinstance(sco.get("value"), str):
        return [_observable(str(kind), sco["value"], comment)]
    if kind == "autonomous-system" and type(sco.get("number")) is int:
        return [Observable("autonomous-system", str(sco["number"]), comment)]
    if kind != "file":
        return []
    found = []
    for algorithm, value in _dict(sco.get("hashes")).items():
        name = _HASH_ALIASES.get(str(algorithm).upper())
        if name and isinstance(value, str):
            found.append(_observable(f"file:hashes.{name}", value, comment))
    if isinstance(sco.get("name"), str):
        found.append(Observable("file:name", sco["name"], comment))
    return found


def _pattern_observables(pattern: Any) -> list[Observable]:
    """The equality comparisons of a STIX pattern whose object and property we know."""
    if not isinstance(pattern, str):
        return []
    found = []
    for kind, path, quoted, number in _PATTERN_COMPARISON.findall(pattern):
        path = path.replace("'", "")
        value = number or re.sub(r"\\(.)", r"\1", quoted)
        if (kind in _VALUE_SCOS and path == "value") or (kind == "autonomous-system" and path == "number"):
            found.append(_observable(kind, value))
        elif kind == "file" and path == "name":
            found.append(Observable("file:name", value))
        elif kind == "file" and path.startswith("hashes.") and (name := _HASH_ALIASES.get(path[7:].upper())):
            found.append(_observable(f"file:hashes.{name}", value))
    return found


def _reporter(bundle: _Bundle, obj: dict[str, Any], parts: _Parts) -> tuple[str | None, str | None]:
    """The name of the identity that created ``obj``, and its country (a located-at location)."""
    identity = bundle.by_id.get(str(obj.get("created_by_ref", "")))
    if identity is None or identity["type"] != "identity" or not identity.get("name"):
        return None, None
    parts.add(identity)
    parts.mapped.append("identity.name")
    country = None
    for relationship, location in bundle.related(identity["id"]):
        if (
            relationship.get("relationship_type") == "located-at"
            and relationship["source_ref"] == identity["id"]
            and location is not None
            and isinstance(location.get("country"), str)
        ):
            parts.add(relationship)
            parts.add(location)
            parts.mapped.append("location.country")
            country = location["country"].upper()
            break
    return str(identity["name"]), country


def _markings(bundle: _Bundle, parts: _Parts) -> tuple[str | None, str | None]:
    """The most restrictive TLP and PAP marking of the record's objects."""
    found: dict[str, list[str]] = {"tlp": [], "pap": []}
    for obj in list(parts.objects.values()):
        for ref in _list(obj.get("object_marking_refs")):
            if marking := bundle.marking(str(ref)):
                found[marking[0]].append(marking[1])
                if str(ref) in bundle.by_id:
                    parts.add(bundle.by_id[str(ref)])
    pap = max(found["pap"], key=PAP_LABELS.index, default=None)
    return _most_restrictive(found["tlp"]), pap


def _reference(incident: dict[str, Any]) -> str:
    for reference in _list(incident.get("external_references")):
        if isinstance(reference, dict) and reference.get("source_name") == "nciss" and reference.get("external_id"):
            return str(reference["external_id"])
    return ""


def _time(obj: dict[str, Any], name: str) -> dt.datetime | None:
    value = obj.get(name)
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise _Reject(name, f"{value!r} is not a STIX timestamp") from None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed


@cache
def _extension_validator() -> Draft202012Validator:
    facts = facts_json_schema()
    registry: Registry[Any] = Registry().with_resource(facts["$id"], Resource.from_contents(facts))
    return Draft202012Validator(extension_schema(), registry=registry)


def _read_extension(incident: dict[str, Any]) -> dict[str, Any]:
    """The incident's nciss extension, checked against its schema ({} when absent)."""
    extension = _dict(incident.get("extensions")).get(EXTENSION_ID)
    if extension is None:
        return {}
    prefix = f"extensions.{EXTENSION_ID}"
    error = best_match(_extension_validator().iter_errors(extension))
    if error is not None:
        path = ".".join(str(p) for p in error.absolute_path)
        raise _Reject(f"{prefix}.{path}" if path else prefix, error.message)
    result: dict[str, Any] = extension
    return result


def _facts(extension: dict[str, Any], incident: dict[str, Any]) -> dict[str, Any]:
    """The extension's facts (validated), else the classification the labels give."""
    if not extension:
        return {"classification": _classification_from_labels([incident])}
    try:
        facts = validate_facts(extension.get("facts", {}))
    except FactsError as exc:
        path, reason = exc.errors[0]
        raise _Reject(f"extensions.{EXTENSION_ID}.facts.{path}", reason) from None
    if "classification" not in facts and extension.get("classification"):
        facts["classification"] = extension["classification"]
    return facts


def _classification_from_labels(objects: Iterable[dict[str, Any]]) -> str:
    """The first RSIT machine tag among the objects' labels (rsit:class="type"), else other:undetermined."""
    known = rsit_types()
    for obj in objects:
        for label in _list(obj.get("labels")):
            match = _RSIT_LABEL.match(str(label))
            if match and (value := f"{match[1]}:{match[2]}".lower()) in known:
                return value
    return UNDETERMINED


def _assessments(extension: dict[str, Any]) -> tuple[Assessed, ...]:
    found = [extension["national_assessment"]] if "national_assessment" in extension else []
    found += extension.get("other_assessments", [])
    return tuple(
        Assessed(
            scale_id=a["scale_id"],
            scale_version=a["scale_version"],
            rank=a["rank"],
            name=a["level_name"],
            score=a.get("score"),
            reachable_max=a.get("reachable_max"),
            basis=a["basis"],
            missing=tuple(a.get("missing", ())),
        )
        for a in found
    )
