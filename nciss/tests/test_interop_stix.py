"""STIX 2.1 export and import, checked with the OASIS validator (stix2-validator) and the nciss extension's schema."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from stix2validator import ValidationOptions, validate_instance
from stix2validator.v21.enums import OBSERVABLE_TYPES as STIX_SCO_TYPES
from stix2validator.v21.enums import TYPES as STIX_TYPES

from nciss.facts import facts_json_schema, validate_facts
from nciss.interop import Assessed, IncidentRecord, Observable, Rejected, stix
from nciss.interop.records import OBSERVABLE_TYPES, TLP_LABELS
from nciss.tests.strategies import fact_records

DATA = Path(__file__).parent / "data" / "stix"
UTC = dt.UTC
# Every check the validator has, SHOULDs as errors, except "uuid-check" (103): it wants UUIDv4 for
# domain objects, while nciss gives them deterministic UUIDv5 ids on purpose (the same incident is
# the same object in every export). Cyber-observable ids are checked below against the spec's own
# deterministic scheme, which is stricter than the validator's version check.
STRICT = ValidationOptions(version="2.1", strict=True, strict_properties=True, enforce_refs=True, disabled="uuid-check")
INCIDENT_CORE = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"  # OASIS incident core extension
# The contributing properties of the observable types nciss writes (STIX 2.1 section 6).
ID_CONTRIBUTING = {"file": ("hashes", "name"), "autonomous-system": ("number",)}

EVERY_OBSERVABLE = (
    Observable("ipv4-addr", "203.0.113.5", "C2 server"),
    Observable("ipv4-addr", "198.51.100.0/24", "scanning range"),
    Observable("ipv6-addr", "2001:db8::1"),
    Observable("domain-name", "пример.рф", "look-alike domain"),
    Observable("domain-name", "update.example.com"),
    Observable("url", "https://update.example.com/payload?id=7"),
    Observable("url", "http://user:pw@[2001:db8::7]:8443/a%20b/c;v=1?q=(x)&r=*#top"),
    Observable("email-addr", "billing@example.org"),
    Observable("mac-addr", "00:1a:2b:3c:4d:5e"),
    Observable("autonomous-system", "64496"),
    Observable("file:hashes.MD5", "d41d8cd98f00b204e9800998ecf8427e"),
    Observable("file:hashes.SHA-1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    Observable("file:hashes.SHA-256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    Observable("file:name", "счёт-фактура.pdf.exe"),
    Observable("vulnerability", "CVE-2024-3400", "exploited for initial access"),
)
ASSESSMENTS = (
    Assessed("osce-reference", "1.0", 3, "High", 61.25, 4),
    Assessed("eu-nis2", "1.0", 1, "Significant", None, 1, "crosswalk", ("outage_minutes", "users_affected")),
    Assessed("cisa-nciss", "2024", 2, "Medium", 41.0, 5),
)


def record(**changes: Any) -> IncidentRecord:
    """A full incident as the platform shares it; ``changes`` replace fields."""
    base = IncidentRecord(
        title="Шифровальщик в диспетчерской «Узэнерго»",
        description="Ransomware stopped the SCADA historian; ünïcode, “quotes”, emoji 🔒 and a\nsecond line.",
        reference="UZ-2026-0042",
        facts={
            "classification": "malicious-code:infected-system",
            "malicious": True,
            "sector": "energy",
            "entity_criticality": "critical",
            "functional_impact": "denial-critical",
            "outage_minutes": 540,
            "users_affected_share": 0.25,
            "countries_affected": ["KZ", "TJ"],
            "detected_at": "2026-10-17T06:40:00+05:00",
            "occurred_at": "2026-10-17T03:10:00+05:00",
        },
        tlp="TLP:AMBER",
        pap="PAP:GREEN",
        status="investigating",
        created=dt.datetime(2026, 10, 17, 2, 5, 7, 123000, tzinfo=UTC),
        modified=dt.datetime(2026, 10, 18, 9, 0, tzinfo=UTC),
        reporter="Узэнерго",
        reporter_country="UZ",
        assessments=ASSESSMENTS,
        observables=EVERY_OBSERVABLE,
    )
    return dataclasses.replace(base, **changes)


def anonymous(**changes: Any) -> IncidentRecord:
    """A small incident whose reporter stays anonymous, with no assessment."""
    base = IncidentRecord(
        title="Phishing against a ministry",
        reference="UZ-2026-0043",
        facts={"classification": "fraud:phishing"},
        tlp="TLP:GREEN",
        created=dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        modified=dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        reporter_country="UZ",
        observables=(Observable("url", "http://gov-uz.example.net/login"),),
    )
    return dataclasses.replace(base, **changes)


def assert_valid(bundle: dict[str, Any]) -> None:
    """The bundle passes the OASIS validator, uses only STIX 2.1 types and deterministic observable ids."""
    results = validate_instance(bundle, STRICT)
    errors = [str(e) for e in results.errors]
    assert results.is_valid and not errors, f"errors: {errors}; warnings: {results.warnings}"
    for obj in bundle["objects"]:
        assert obj["type"] in STIX_TYPES or obj["type"] in STIX_SCO_TYPES, obj["type"]
        if obj["type"] in STIX_SCO_TYPES:
            contributing = {k: obj[k] for k in ID_CONTRIBUTING.get(obj["type"], ("value",)) if k in obj}
            name = json.dumps(contributing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            assert obj["id"] == f"{obj['type']}--{uuid.uuid5(stix.SCO_NAMESPACE, name)}"


def objects_of(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["type"] == kind]


def read_bundle(bundle: dict[str, Any] | bytes, name: str = "test.json") -> list[IncidentRecord | Rejected]:
    data = bundle if isinstance(bundle, bytes) else json.dumps(bundle, ensure_ascii=False).encode()
    return list(stix.read(io.BytesIO(data), name))


def read_records(bundle: dict[str, Any]) -> list[IncidentRecord]:
    results = read_bundle(bundle)
    assert all(isinstance(r, IncidentRecord) for r in results), results
    return [r for r in results if isinstance(r, IncidentRecord)]


def extension_of(bundle: dict[str, Any], index: int = 0) -> dict[str, Any]:
    extension: dict[str, Any] = objects_of(bundle, "incident")[index]["extensions"][stix.EXTENSION_ID]
    return extension


# --- writing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("tlp", TLP_LABELS)
def test_it_writes_bundles_the_oasis_validator_accepts_for_every_tlp(tlp: str) -> None:
    bundle = stix.to_bundle([record(tlp=tlp), anonymous(tlp=tlp)], producer="UZ-CERT")

    assert_valid(bundle)
    assert [o["object_marking_refs"] for o in objects_of(bundle, "incident")] == [[stix.TLP2_MARKING_IDS[tlp]]] * 2


def test_it_writes_a_valid_bundle_of_several_incidents_with_and_without_assessments() -> None:
    records = [
        record(),
        anonymous(),
        record(reference="UZ-2026-0044", tlp="TLP:RED", assessments=(), reporter=None, facts={}),
        anonymous(reference="UZ-2026-0045", tlp=None, observables=(), title="Ёлка: без TLP"),
    ]

    bundle = stix.to_bundle(records, producer="UZ-CERT")

    assert_valid(bundle)
    assert len(objects_of(bundle, "incident")) == 4
    assert "national_assessment" in extension_of(bundle, 0)
    assert all("national_assessment" not in extension_of(bundle, i) for i in (1, 2, 3))
    assert "object_marking_refs" not in objects_of(bundle, "incident")[3]


def test_it_uses_the_tlp_2_marking_definitions_oasis_publishes() -> None:
    bundle = stix.to_bundle([record(tlp="TLP:AMBER+STRICT"), anonymous(tlp="TLP:CLEAR")])

    markings = {o["id"]: o for o in objects_of(bundle, "marking-definition")}
    assert markings == {
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            "created": "2022-10-01T00:00:00.000Z",
            "name": "TLP:AMBER+STRICT",
            "extensions": {
                "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                    "extension_type": "property-extension",
                    "tlp_2_0": "amber+strict",
                }
            },
        },
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            "created": "2022-10-01T00:00:00.000Z",
            "name": "TLP:CLEAR",
            "extensions": {
                "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                    "extension_type": "property-extension",
                    "tlp_2_0": "clear",
                }
            },
        },
    }
    marked = [o for o in bundle["objects"] if "object_marking_refs" in o]
    assert {o["type"] for o in marked} >= {"incident", "relationship", "observed-data", "ipv4-addr", "vulnerability"}


def test_it_writes_the_incident_with_its_reference_times_label_and_reporter() -> None:
    bundle = stix.to_bundle([record()], producer="UZ-CERT")

    incident = objects_of(bundle, "incident")[0]
    reporter = next(o for o in objects_of(bundle, "identity") if o["id"] == incident["created_by_ref"])
    assert incident["id"] == f"incident--{uuid.uuid5(stix.NCISS_NAMESPACE, 'UZ-2026-0042')}"
    assert incident["name"] == "Шифровальщик в диспетчерской «Узэнерго»"
    assert (incident["created"], incident["modified"]) == ("2026-10-17T02:05:07.123Z", "2026-10-18T09:00:00.000Z")
    assert incident["labels"] == ['rsit:malicious-code="infected-system"']
    assert incident["external_references"] == [{"source_name": "nciss", "external_id": "UZ-2026-0042"}]
    assert reporter["name"] == "Узэнерго"
    located = [r for r in objects_of(bundle, "relationship") if r["relationship_type"] == "located-at"]
    assert [(r["source_ref"], r["target_ref"]) for r in located] == [
        (reporter["id"], objects_of(bundle, "location")[0]["id"])
    ]
    assert objects_of(bundle, "location")[0]["country"] == "UZ"


def test_it_never_names_an_anonymous_reporter() -> None:
    bundle = stix.to_bundle([anonymous(reporter=None)], producer="UZ-CERT")

    incident = objects_of(bundle, "incident")[0]
    assert "created_by_ref" not in incident
    assert {o["name"] for o in objects_of(bundle, "identity")} == {"nciss project", "UZ-CERT"}
    assert objects_of(bundle, "location") == []
    assert extension_of(bundle)["reporter_country"] == "UZ"
    assert {r["created_by_ref"] for r in objects_of(bundle, "relationship")} == {
        objects_of(bundle, "identity")[1]["id"]
    }


def test_it_keeps_the_stix_id_of_an_incident_that_came_from_stix() -> None:
    stix_id = "incident--e427475a-585a-4f2a-9913-725368137743"

    bundle = stix.to_bundle([record(source="stix", source_id=stix_id), record(source="misp", source_id="42")])

    assert [o["id"] for o in objects_of(bundle, "incident")] == [stix_id, stix.incident_id(record())]
    unreferenced = [anonymous(reference="", source="csv", source_id=str(row)) for row in (1, 2)]
    assert len({stix.incident_id(r) for r in unreferenced}) == 2


def test_it_links_every_observable_to_the_incident_and_gathers_them_in_observed_data() -> None:
    bundle = stix.to_bundle([record()])

    incident = objects_of(bundle, "incident")[0]
    related = [r for r in objects_of(bundle, "relationship") if r["source_ref"] == incident["id"]]
    by_id = {o["id"]: o for o in bundle["objects"]}
    targets = [by_id[r["target_ref"]] for r in related]
    assert [t["type"] for t in targets] == [o.type.partition(":")[0] for o in EVERY_OBSERVABLE] + ["observed-data"]
    assert {r["relationship_type"] for r in related} == {"related-to"}
    assert related[0]["description"] == "C2 server"
    assert [t["number"] for t in targets if t["type"] == "autonomous-system"] == [64496]
    assert targets[-2]["external_references"] == [{"source_name": "cve", "external_id": "CVE-2024-3400"}]
    observed = targets[-1]
    assert observed["object_refs"] == [t["id"] for t in targets[:-2]]
    assert (observed["first_observed"], observed["last_observed"]) == (
        "2026-10-16T22:10:00.000Z",
        "2026-10-18T09:00:00.000Z",
    )


def test_it_normalises_values_and_keeps_those_stix_cannot_hold_in_the_extension() -> None:
    odd = (
        Observable("mac-addr", "00-1A-2B-3C-4D-5E"),
        Observable("autonomous-system", "AS64496"),
        Observable("domain-name", "ПРИМЕР.РФ"),
        Observable("file:hashes.MD5", "D41D8CD98F00B204E9800998ECF8427E"),
        Observable("ipv4-addr", "999.1.1.1", "typo in the report"),
        Observable("file:hashes.MD5", "not-a-hash"),
        Observable("url", "hxxp://defanged[.]example"),
        Observable("domain-name", "_dmarc.example.com"),
    )

    bundle = stix.to_bundle([anonymous(observables=odd)])

    assert_valid(bundle)
    assert [o["value"] for o in objects_of(bundle, "mac-addr")] == ["00:1a:2b:3c:4d:5e"]
    assert [o["number"] for o in objects_of(bundle, "autonomous-system")] == [64496]
    assert [o["value"] for o in objects_of(bundle, "domain-name")] == ["пример.рф"]
    assert extension_of(bundle)["other_observables"] == [
        {"type": "ipv4-addr", "value": "999.1.1.1", "comment": "typo in the report"},
        {"type": "file:hashes.MD5", "value": "not-a-hash"},
        {"type": "url", "value": "hxxp://defanged[.]example"},
        {"type": "domain-name", "value": "_dmarc.example.com"},
    ]
    assert read_records(bundle)[0].observables == (
        Observable("mac-addr", "00:1a:2b:3c:4d:5e"),
        Observable("autonomous-system", "64496"),
        Observable("domain-name", "пример.рф"),
        Observable("file:hashes.MD5", "d41d8cd98f00b204e9800998ecf8427e"),
        *odd[4:],
    )


@pytest.mark.parametrize("order", [1, -1])
def test_it_writes_an_observable_two_incidents_share_once_marked_as_the_less_restricted_one(order: int) -> None:
    shared = Observable("ipv4-addr", "203.0.113.5")
    records = [anonymous(tlp="TLP:GREEN", observables=(shared,)), record(tlp="TLP:RED", observables=(shared,))]

    bundle = stix.to_bundle(records[::order])

    assert_valid(bundle)
    assert [o["object_marking_refs"] for o in objects_of(bundle, "ipv4-addr")] == [[stix.TLP2_MARKING_IDS["TLP:GREEN"]]]
    links = [
        r for r in objects_of(bundle, "relationship") if r["target_ref"] == objects_of(bundle, "ipv4-addr")[0]["id"]
    ]
    assert sorted(r["object_marking_refs"][0] for r in links) == sorted(
        stix.TLP2_MARKING_IDS[t] for t in ("TLP:GREEN", "TLP:RED")
    )
    assert [r.tlp for r in read_records(bundle)] == [r.tlp for r in records[::order]]


def test_it_gives_the_same_bundle_for_the_same_records() -> None:
    first = stix.to_bundle([record(), anonymous()], producer="UZ-CERT")

    assert stix.to_bundle([record(), anonymous()], producer="UZ-CERT") == first
    assert (
        stix.to_bundle([record(modified=dt.datetime(2026, 12, 1, tzinfo=UTC))], producer="UZ-CERT")["id"] != first["id"]
    )


def test_it_writes_extension_properties_that_follow_the_published_schema() -> None:
    facts = facts_json_schema()
    registry: Registry[Any] = Registry().with_resource(facts["$id"], Resource.from_contents(facts))
    validator = Draft202012Validator(stix.extension_schema(), registry=registry)
    Draft202012Validator.check_schema(stix.extension_schema())

    odd = anonymous(reference="UZ-2026-0049", observables=(Observable("url", "not a url"),))
    bundle = stix.to_bundle([record(), anonymous(), odd])

    for index in range(3):
        errors = [e.message for e in validator.iter_errors(extension_of(bundle, index))]
        assert errors == []
    assert extension_of(bundle) == {
        "extension_type": "property-extension",
        "facts_version": "1.1",
        "facts": record().facts,
        "classification": "malicious-code:infected-system",
        "status": "investigating",
        "pap": "PAP:GREEN",
        "reporter_country": "UZ",
        "national_assessment": {
            "scale_id": "osce-reference",
            "scale_version": "1.0",
            "rank": 3,
            "level_name": "High",
            "basis": "facts",
            "score": 61.25,
            "reachable_max": 4,
        },
        "other_assessments": [
            {
                "scale_id": "eu-nis2",
                "scale_version": "1.0",
                "rank": 1,
                "level_name": "Significant",
                "basis": "crosswalk",
                "reachable_max": 1,
                "missing": ["outage_minutes", "users_affected"],
            },
            {
                "scale_id": "cisa-nciss",
                "scale_version": "2024",
                "rank": 2,
                "level_name": "Medium",
                "basis": "facts",
                "score": 41.0,
                "reachable_max": 5,
            },
        ],
    }


def test_it_ships_the_extension_definition_it_writes() -> None:
    definition = stix.extension_definition()
    bundle = stix.to_bundle([anonymous()])

    assert definition in bundle["objects"]
    assert definition["id"] == stix.EXTENSION_ID
    assert definition["extension_types"] == ["property-extension"]
    assert definition["schema"] == stix.extension_schema()["$id"]
    assert definition["created_by_ref"] == stix.NCISS_IDENTITY_ID
    results = validate_instance(definition, STRICT)
    assert results.is_valid, [str(e) for e in results.errors]


def test_it_refuses_to_export_a_tlp_label_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="TLP:BLUE"):
        stix.to_bundle([anonymous(tlp="TLP:BLUE")])
    assert objects_of(stix.to_bundle([anonymous(tlp="tlp:white")]), "incident")[0]["object_marking_refs"] == [
        stix.TLP2_MARKING_IDS["TLP:CLEAR"]
    ]


# --- round trips -------------------------------------------------------------------------------


def test_it_round_trips_records_through_stix() -> None:
    originals = [record(), anonymous(), anonymous(reference="UZ-2026-0046", reporter="Минфин", tlp="TLP:AMBER+STRICT")]

    back = read_records(stix.to_bundle(originals, producer="UZ-CERT"))

    assert len(back) == len(originals)
    for original, copy_ in zip(originals, back, strict=True):
        assert copy_.facts == validate_facts(original.facts)
        assert copy_.assessments == original.assessments
        assert (copy_.tlp, copy_.pap, copy_.status) == (original.tlp, original.pap, original.status)
        assert copy_.observables == original.observables
        assert (copy_.title, copy_.description, copy_.reference) == (
            original.title,
            original.description,
            original.reference,
        )
        assert (copy_.created, copy_.modified) == (original.created, original.modified)
        assert (copy_.reporter, copy_.reporter_country) == (original.reporter, original.reporter_country)
        assert (copy_.source, copy_.source_id) == ("stix", stix.incident_id(original))


def test_it_round_trips_a_bundle_field_by_field() -> None:
    sample = json.loads((DATA / "nciss-export.json").read_text("utf-8"))

    records = read_records(sample)
    again = stix.to_bundle(records, producer="UZ-CERT")

    assert_valid(sample)
    original = {o["id"]: o for o in sample["objects"]}
    written = {o["id"]: o for o in again["objects"]}
    assert written.keys() == original.keys()
    for object_id, obj in original.items():
        for name, value in obj.items():
            assert written[object_id].get(name) == value, f"{object_id}.{name}"
        assert written[object_id].keys() == obj.keys(), object_id


def test_it_writes_an_incident_read_from_stix_back_with_its_identifiers_and_unmapped_properties() -> None:
    bundle = json.loads((DATA / "foreign-incident.json").read_text("utf-8"))
    original = bundle["objects"][3]
    original["confidence"] = 80
    original["extensions"] = {
        INCIDENT_CORE: {"extension_type": "property-extension", "determination": "successful-attempt"}
    }
    (incident,) = read_records(bundle)

    written = stix.to_bundle([incident], producer="UZ-CERT")

    assert_valid(written)
    out = objects_of(written, "incident")[0]
    for name in ("id", "name", "description", "created", "modified", "created_by_ref", "confidence"):
        assert out[name] == original[name], name
    assert out["labels"] == ['rsit:availability="ddos"', "priority:high"]
    assert out["external_references"] == original["external_references"]
    assert out["extensions"][INCIDENT_CORE] == original["extensions"][INCIDENT_CORE]
    assert out["object_marking_refs"] == [stix.TLP2_MARKING_IDS["TLP:GREEN"]]
    assert [o["name"] for o in objects_of(written, "identity") if o["id"] == original["created_by_ref"]] == ["KZ-CERT"]
    assert read_records(written)[0].observables == incident.observables


def test_it_drops_what_could_name_a_reporter_who_became_anonymous() -> None:
    (incident,) = read_records(json.loads((DATA / "foreign-incident.json").read_text("utf-8")))

    written = stix.to_bundle([dataclasses.replace(incident, reporter=None)], producer="UZ-CERT")

    out = objects_of(written, "incident")[0]
    assert "created_by_ref" not in out and "external_references" not in out
    assert "KZ-CERT" not in json.dumps(written, ensure_ascii=False)


# --- reading -----------------------------------------------------------------------------------


def test_it_reads_an_incident_from_another_tool() -> None:
    records = list(stix.read((DATA / "foreign-incident.json").open("rb"), "foreign-incident.json"))

    assert len(records) == 1 and isinstance(records[0], IncidentRecord)
    incident = records[0]
    assert incident.title == "DDoS против портала госуслуг"
    assert incident.facts == {"classification": "availability:ddos"}
    assert (incident.source, incident.source_id) == ("stix", "incident--e427475a-585a-4f2a-9913-725368137743")
    assert incident.tlp == "TLP:GREEN"  # the TLP 1.0 marking STIX predefines, not in the bundle
    assert (incident.reporter, incident.reporter_country) == ("KZ-CERT", "KZ")
    assert incident.created == dt.datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
    assert incident.observables == (
        Observable("ipv4-addr", "198.51.100.7", "Attacking host"),
        Observable("domain-name", "bank-example.test"),
        Observable("file:hashes.SHA-256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        Observable("url", "http://login.bank-example.test/verify"),
        Observable("autonomous-system", "64511"),
        Observable("vulnerability", "CVE-2023-4966"),
    )
    assert {"incident.labels", "incident.created_by_ref", "indicator.pattern", "observed-data.object_refs"} <= set(
        incident.mapped
    )
    assert set(incident.unmapped) == {"relationships.attributed-to.threat-actor", "incident.external_references"}
    assert {o["type"] for o in incident.original} >= {"incident", "identity", "location", "indicator", "threat-actor"}


def test_it_reads_one_incident_per_report_when_the_bundle_has_no_incident() -> None:
    records = list(stix.read((DATA / "reports.json").open("rb"), "reports.json"))

    assert [r.title for r in records if isinstance(r, IncidentRecord)] == [
        "Phishing wave against Baltic banks",
        "Scanning from a botnet",
    ]
    phishing, scanning = records
    assert isinstance(phishing, IncidentRecord) and isinstance(scanning, IncidentRecord)
    assert phishing.facts == {"classification": "fraud:phishing"}
    assert (phishing.tlp, phishing.pap, phishing.reporter) == ("TLP:AMBER", "PAP:AMBER", "CERT-EE")
    assert phishing.observables == (
        Observable("url", "http://login.bank-example.test/verify"),
        Observable("email-addr", "phish@mail.example"),
    )
    assert scanning.facts == {"classification": "other:undetermined"}
    assert (scanning.tlp, scanning.reporter, scanning.source_id) == (
        "TLP:GREEN",
        None,
        "report--e8b58c4b-4ce3-4a9b-aaa7-3ae0555e8311",
    )
    assert scanning.observables == (
        Observable("ipv6-addr", "2001:db8:85a3::8a2e:370:7334"),
        Observable("mac-addr", "00:1a:2b:3c:4d:5e"),
    )
    assert "report.published" in scanning.unmapped


def test_it_reads_a_bundle_without_incident_or_report_as_one_incident() -> None:
    records = list(stix.read((DATA / "observables-only.json").open("rb"), "observables-only.json"))

    assert len(records) == 1 and isinstance(records[0], IncidentRecord)
    incident = records[0]
    assert incident.source_id == "bundle--92548b4d-fb72-45cb-a664-db1b1095112f"
    assert incident.facts == {"classification": "other:undetermined"}
    assert (incident.tlp, incident.reporter) == ("TLP:RED", "Honeynet sensor network")
    assert incident.observables == (
        Observable("domain-name", "bank-example.test"),
        Observable("ipv4-addr", "198.51.100.7"),
    )
    assert incident.unmapped == ("objects.attack-pattern",)
    assert (incident.created, incident.modified) == (
        dt.datetime(2026, 4, 2, 3, 0, tzinfo=UTC),
        dt.datetime(2026, 4, 2, 4, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("marking", "tlp"),
    [
        ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:CLEAR"),
        ("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN"),
        ("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER"),
        ("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED"),
        *((marking_id, label) for label, marking_id in stix.TLP2_MARKING_IDS.items()),
    ],
)
def test_it_reads_tlp_1_and_tlp_2_markings(marking: str, tlp: str) -> None:
    bundle = json.loads((DATA / "foreign-incident.json").read_text("utf-8"))
    bundle["objects"][3]["object_marking_refs"] = [marking]

    assert read_records(bundle)[0].tlp == tlp


def test_it_takes_the_most_restrictive_marking_of_the_objects_an_incident_is_made_of() -> None:
    bundle = json.loads((DATA / "foreign-incident.json").read_text("utf-8"))
    url = next(o for o in bundle["objects"] if o["type"] == "url")
    url["object_marking_refs"] = [stix.TLP2_MARKING_IDS["TLP:AMBER+STRICT"]]

    assert read_records(bundle)[0].tlp == "TLP:AMBER+STRICT"


def test_it_classifies_from_rsit_machine_tags_only() -> None:
    bundle = json.loads((DATA / "foreign-incident.json").read_text("utf-8"))
    incident = bundle["objects"][3]

    incident["labels"] = ["rsit:availability=ddos-typo", "rsit:intrusions:system-compromise"]
    assert read_records(bundle)[0].facts == {"classification": "intrusions:system-compromise"}
    incident["labels"] = ["ddos"]
    assert read_records(bundle)[0].facts == {"classification": "other:undetermined"}


@pytest.mark.parametrize(
    ("content", "field", "reason"),
    [
        (b"{not json", "", "not JSON"),
        (b"\xff\xfe\x00garbage", "", "not JSON"),
        (b'[{"type": "bundle"}]', "type", "not a STIX bundle"),
        (
            b'{"type": "incident", "id": "incident--e427475a-585a-4f2a-9913-725368137743", "name": "x"}',
            "type",
            "not a STIX bundle",
        ),
        (
            b'{"type": "bundle", "id": "bundle--a0f1c8b7-d39f-4eae-8b21-d3581f563f71", "objects": {}}',
            "objects",
            "expected a list",
        ),
        (
            b'{"type": "bundle", "id": "bundle--a0f1c8b7-d39f-4eae-8b21-d3581f563f71", "objects": []}',
            "objects",
            "no STIX objects",
        ),
        (
            b'{"type": "bundle", "objects": [{"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "1.2.3.4"}]}',
            "id",
            "needs its id",
        ),
    ],
)
def test_it_rejects_what_is_not_a_stix_bundle(content: bytes, field: str, reason: str) -> None:
    results = read_bundle(content, "upload.json")

    assert len(results) == 1 and isinstance(results[0], Rejected)
    assert (results[0].file, results[0].field) == ("upload.json", field)
    assert reason in results[0].reason


def test_it_rejects_a_bad_incident_and_still_reads_the_others() -> None:
    bundle = stix.to_bundle([record(), anonymous(), anonymous(reference="UZ-2026-0047")])
    incidents = objects_of(bundle, "incident")
    incidents[0]["extensions"][stix.EXTENSION_ID]["facts"]["sector"] = "spaceships"
    incidents[1]["created"] = "last tuesday"
    incidents[2]["extensions"][stix.EXTENSION_ID]["national_assessment"] = {"scale_id": "osce-reference", "rank": -1}

    results = read_bundle(bundle, "share.json")

    assert [type(r) for r in results] == [Rejected, Rejected, Rejected]
    bad_facts, bad_time, bad_assessment = results
    extension = f"extensions.{stix.EXTENSION_ID}"
    assert isinstance(bad_facts, Rejected) and bad_facts.field == f"{extension}.facts.sector"
    assert bad_facts.record == incidents[0]["id"]
    assert isinstance(bad_time, Rejected) and (bad_time.field, bad_time.record) == ("created", incidents[1]["id"])
    assert isinstance(bad_assessment, Rejected) and bad_assessment.field.startswith(f"{extension}.national_assessment")

    bundle["objects"].append(
        copy.deepcopy(objects_of(stix.to_bundle([record(reference="UZ-2026-0048")]), "incident")[0])
    )
    assert [type(r) for r in read_bundle(bundle)] == [Rejected, Rejected, Rejected, IncidentRecord]


# --- properties --------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    facts=fact_records(),
    tlp=st.sampled_from([None, *TLP_LABELS]),
    reporter=st.sampled_from([None, "Узэнерго", "O'Brien & Co <ltd>"]),
    title=st.text(min_size=1, max_size=40),
    observables=st.lists(st.sampled_from(EVERY_OBSERVABLE), unique=True, max_size=6),
    assessed=st.booleans(),
)
def test_it_exports_any_record_to_a_valid_bundle_that_reads_back(
    facts: dict[str, Any],
    tlp: str | None,
    reporter: str | None,
    title: str,
    observables: list[Observable],
    assessed: bool,
) -> None:
    original = record(
        facts=facts,
        tlp=tlp,
        reporter=reporter,
        title=title,
        observables=tuple(observables),
        assessments=ASSESSMENTS if assessed else (),
    )

    bundle = stix.to_bundle([original])

    assert_valid(bundle)
    (back,) = read_records(bundle)
    assert back.facts == validate_facts(facts)
    assert (back.tlp, back.reporter, back.observables, back.assessments) == (
        tlp,
        reporter,
        original.observables,
        original.assessments,
    )


EDGE_VALUES = [
    "::ffff:192.0.2.1",
    "fe80::1%eth0",
    "2001:db8::/32",
    "2001:DB8::1",
    "2001:db8::1/129",
    "10.0.0.1/33",
    "01.2.3.4",
    "XN--E1AFMKFD.example",
    "xn--abc.example",
    "ab--cd.example",
    "ex\u0301ample.com",
    "straße.de",
    "http://[::1]/",
    "http://[v1.x]/",
    "https://example.com/ä",
    "mailto:someone@example.com",
    "user@localhost",
    "first.last+tag@sub.example.org",
    "AS4294967296",
    "as0",
    "0000.0000.0000",
]
OBSERVABLE_VALUES = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"[a-zA-Z0-9.:/@%\[\]_~-]{1,30}", fullmatch=True),
    st.builds(
        "".join,
        st.lists(
            st.sampled_from(["xn--", "пример", ".", "рф", "http://", "[", "::1", "]", "%2", "0", "A"]), max_size=6
        ),
    ),
    st.sampled_from([o.value for o in EVERY_OBSERVABLE]),
    st.sampled_from(EDGE_VALUES),
    st.text(st.characters(categories=["Ll", "Lu", "Lo", "Nd", "No", "Mn"]) | st.sampled_from("-."), max_size=20),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.builds(Observable, st.sampled_from([*OBSERVABLE_TYPES, "x-unknown"]), OBSERVABLE_VALUES), max_size=8)
)
def test_it_writes_a_valid_bundle_whatever_the_observable_values(observables: list[Observable]) -> None:
    bundle = stix.to_bundle([anonymous(observables=tuple(observables))])

    assert_valid(bundle)
    back = {(o.type, o.value) for o in read_records(bundle)[0].observables}
    as_given = {(o.type, o.value) for o in observables if o.type not in ("mac-addr", "autonomous-system")}
    assert {(t, v) for t, v in as_given if v == v.strip() and v == v.lower()} <= back


# Strings a bundle's objects refer to each other by, so that random objects do meet.
WORDS = st.sampled_from(
    [
        "incident--1",
        "report--1",
        "file--1",
        "marking-definition--1",
        stix.EXTENSION_ID,
        stix.TLP2_EXTENSION_ID,
        stix.TLP2_MARKING_IDS["TLP:RED"],
        "facts",
        "national_assessment",
        "tlp",
        "hashes",
        "SHA-256",
        "cve",
        "external_id",
        "source_name",
        "rsit:fraud=phishing",
        "[file:name = 'a']",
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | WORDS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8) | WORDS, children, max_size=3)
    ),
    max_leaves=8,
)
KNOWN_PROPERTIES = st.sampled_from(
    [
        "name",
        "created",
        "modified",
        "labels",
        "object_marking_refs",
        "created_by_ref",
        "external_references",
        "extensions",
        "object_refs",
        "objects",
        "pattern",
        "pattern_type",
        "hashes",
        "value",
        "number",
        "source_ref",
        "target_ref",
        "definition",
        "definition_type",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(
                    ["incident", "report", "relationship", "indicator", "observed-data", "file", "x"]
                ),
                "id": st.sampled_from(
                    ["incident--1", "report--1", "relationship--1", "file--1", "marking-definition--1"]
                ),
            },
            optional={},
        ).flatmap(
            lambda base: st.dictionaries(KNOWN_PROPERTIES, JSON_VALUES, max_size=4).map(lambda extra: {**extra, **base})
        ),
        min_size=1,
        max_size=5,
    )
)
def test_it_never_raises_on_malformed_objects_and_writes_back_what_it_read(objects: list[dict[str, Any]]) -> None:
    for result in read_bundle(
        {"type": "bundle", "id": "bundle--a0f1c8b7-d39f-4eae-8b21-d3581f563f71", "objects": objects}
    ):
        assert isinstance(result, IncidentRecord | Rejected)
        if isinstance(result, IncidentRecord):
            json.dumps(stix.to_bundle([result]))
