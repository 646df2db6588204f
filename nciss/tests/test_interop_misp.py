"""MISP events: import of real-looking events, exports PyMISP loads, round trips, shipped taxonomies only."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pymisp
import pytest

import nciss
from nciss.facts import SECTORS, fact_specs
from nciss.interop import Assessed, IncidentRecord, Observable, Rejected, misp
from nciss.interop.records import OBSERVABLE_TYPES, PAP_LABELS, TLP_LABELS
from nciss.taxonomy import rsit_types
from nciss.tests.shared import shared

DATA = Path(__file__).parent / "data" / "misp"
SHIPPED = Path(misp.__file__).parent / "data" / "misp-taxonomies"
SHARED = shared("data", "taxonomies")
DESCRIBE_TYPES = Path(pymisp.__file__).parent / "data" / "describeTypes.json"


def read(name: str) -> list[IncidentRecord | Rejected]:
    with (DATA / name).open("rb") as stream:
        return list(misp.read(stream, name))


def records(name: str) -> list[IncidentRecord]:
    found = read(name)
    assert all(isinstance(r, IncidentRecord) for r in found), found
    return found  # type: ignore[return-value]


def reread(event: dict[str, Any]) -> IncidentRecord:
    [record] = misp.read(io.BytesIO(json.dumps(event).encode()), "export.json")
    assert isinstance(record, IncidentRecord), record
    return record


def through_pymisp(event: dict[str, Any]) -> dict[str, Any]:
    """The event as PyMISP loads it and writes it back (PyMISP's load consumes its input: give it a copy)."""
    loaded = pymisp.MISPEvent()
    loaded.load(copy.deepcopy(event))
    again = pymisp.MISPEvent()
    again.load(loaded.to_json())
    assert again.uuid == event["Event"]["uuid"]
    result: dict[str, Any] = json.loads(again.to_json())
    return result


def tags(event: dict[str, Any]) -> list[str]:
    return [t["name"] for t in event.get("Event", event).get("Tag", [])]


def national_record() -> IncidentRecord:
    facts = {
        "classification": "information-content-security:unauthorised-information-modification",
        "malicious": True,
        "root_cause": "malicious-actions",
        "sector": "energy",
        "sectors_affected": ["energy", "transport"],
        "entity_criticality": "critical",
        "functional_impact": "denial-critical",
        "observed_activity": "effect",
        "recoverability": "extended",
        "users_affected": 240000,
        "population_affected_share": 0.12,
        "countries_affected": ["KZ", "TJ"],
        "detected_at": "2026-10-17T06:40:00+05:00",
    }
    levels = []
    for scale_id in ("osce-reference", "eu-nis2"):
        scale = nciss.load_scale(scale_id)
        result = nciss.assess(scale, facts)
        levels.append(
            Assessed(
                scale.id,
                scale.version,
                result.rank,
                str(scale.levels[result.rank].name),
                result.score,
                result.reachable_max,
            )
        )
    return IncidentRecord(
        title="Ransomware at Aral Energy: dispatch systems encrypted",
        facts=facts,
        description="Dispatch and billing encrypted; manual operation of the grid for 9 hours.",
        reference="NC-2026-000417",
        tlp="TLP:AMBER+STRICT",
        pap="PAP:RED",
        status="investigating",
        reporter="Aral Energy SOC",
        assessments=tuple(levels),
        observables=(
            Observable("ipv4-addr", "198.51.100.23", "RDP brute force source"),
            Observable("ipv6-addr", "2001:db8::17"),
            Observable("domain-name", "decrypt-support.example"),
            Observable("url", "https://decrypt-support.example/pay"),
            Observable("email-addr", "recover@decrypt-support.example"),
            Observable("mac-addr", "00:1a:2b:3c:4d:5e"),
            Observable("autonomous-system", "64511"),
            Observable("file:hashes.MD5", "d41d8cd98f00b204e9800998ecf8427e"),
            Observable("file:hashes.SHA-1", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
            Observable("file:hashes.SHA-256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
            Observable("file:name", "svchost_upd.exe", "encryptor"),
            Observable("vulnerability", "CVE-2024-21762", "initial access"),
        ),
    )


# ---------------------------------------------------------------- import


def test_it_reads_a_phishing_event_into_one_incident() -> None:
    [record] = records("phishing-bank.json")
    assert record.title == "Credential phishing against customers of Aral Bank (fake e-banking login)"
    assert (record.source, record.source_id) == ("misp", "4d1f7c0a-9b3e-4c21-8f5e-2a6b9d0e7c11")
    assert record.facts == {
        "classification": "fraud:phishing",
        "sector": "banking",
        "root_cause": "malicious-actions",
        "occurred_at": "2026-11-27T00:00:00+00:00",
    }
    assert (record.tlp, record.pap, record.reporter) == ("TLP:AMBER+STRICT", "PAP:AMBER", "Aral Bank CSIRT")
    assert record.assessments == (Assessed("misp-priority-level", "2", 3, "Medium"),)
    assert {(o.type, o.value) for o in record.observables} == {
        ("url", "https://aralbank-secure-login.example.net/ebank/login.php"),
        ("domain-name", "aralbank-secure-login.example.net"),
        ("ipv4-addr", "203.0.113.77"),
        ("email-addr", "security@aralbank-notice.example.org"),
        ("file:name", "Aral_Bank_statement_11-2026.html"),
        ("file:hashes.SHA-256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
    }
    assert Observable("ipv4-addr", "203.0.113.77", "hosting of the phishing page") in record.observables
    assert record.original["uuid"] == record.source_id
    assert 'Event.Tag[rsit:fraud="phishing"]' in record.mapped
    assert 'Event.Tag[misp-galaxy:mitre-attack-pattern="Phishing - T1566"]' in record.unmapped
    assert "Event.Attribute[email-subject]" in record.unmapped
    assert not set(record.mapped) & set(record.unmapped)


def test_it_reads_every_event_of_a_response_list_with_ecsirt_and_nis_tags() -> None:
    ransomware, defacement = records("response-list.json")
    assert ransomware.facts["classification"] == "information-content-security:unauthorised-information-modification"
    assert ransomware.facts["sector"] == "drinking-water"
    assert ransomware.tlp == "TLP:CLEAR"  # tlp:white is TLP 2.0's CLEAR
    assert {(o.type, o.value) for o in ransomware.observables} == {
        ("ipv4-addr", "198.51.100.23"),
        ("domain-name", "decrypt-support.example.onion.ly"),
        ("autonomous-system", "64511"),
        ("vulnerability", "CVE-2024-21762"),
        ("file:name", "svchost_upd.exe"),
        ("file:hashes.SHA-1", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
    }
    assert defacement.facts["classification"] == "information-content-security:unauthorised-information-modification"
    assert defacement.facts["sector"] == "public-administration"  # nis "government"
    assert (defacement.tlp, defacement.pap) == ("TLP:GREEN", "PAP:CLEAR")
    assert Observable("ipv6-addr", "2001:db8:10::25", "web server") in defacement.observables


def test_it_reads_subsectors_and_an_incident_object() -> None:
    [record] = records("ddos-energy.json")
    assert record.facts["classification"] == "availability:ddos"
    assert record.facts["sector"] == "energy"  # nis2 subsector "electricity"
    assert record.facts["recoverability"] == "supplemented"
    assert record.description.startswith("Customer portal unavailable for 3.5 hours")
    assert record.assessments == (Assessed("misp-priority-level", "2", 4, "High"),)
    assert "Event.Object[incident].criticality" in record.unmapped
    assert {o.value for o in record.observables} >= {"portal.aral-energy.example", "198.51.100.80", "192.0.2.14"}


def test_it_rejects_events_it_cannot_identify_and_goes_on() -> None:
    found = read("rejected.json")
    assert [str(r) for r in found if isinstance(r, Rejected)] == [
        "rejected.json:event 1: Event.uuid: missing",
        "rejected.json:event 2: Event.info: missing: the event needs a title",
        "rejected.json:event 4: (record): expected a MISP event (a JSON object, or one under 'Event')",
    ]
    [scan] = [r for r in found if isinstance(r, IncidentRecord)]
    assert scan.facts["classification"] == "other:undetermined"  # no classification tag
    assert scan.observables == (Observable("ipv4-addr", "192.0.2.200"),)


def test_it_rejects_a_file_that_is_not_json() -> None:
    [rejected] = misp.read(io.BytesIO(b'{"Event": {"info": '), "broken.json")
    assert isinstance(rejected, Rejected) and rejected.reason.startswith("not JSON")


def test_it_keeps_the_stricter_label_when_an_event_has_two() -> None:
    event = {
        "uuid": "9b1d7c3e-2f4a-4b5c-8d6e-7f8a9b0c1d2e",
        "info": "x",
        "Tag": [{"name": "tlp:green"}, {"name": "tlp:red"}],
    }
    assert reread(event).tlp == "TLP:RED"


# ---------------------------------------------------------------- export


def test_it_exports_an_event_pymisp_loads_with_only_shipped_tags() -> None:
    record = national_record()
    event = misp.to_event(record)
    assert misp.unknown_tags(event) == []
    loaded = through_pymisp(event)
    assert loaded["info"] == record.title
    assert set(tags(loaded)) == {
        'rsit:information-content-security="unauthorised-information-modification"',
        "tlp:amber+strict",
        "PAP:RED",
        f"priority-level:{misp.priority_level(record)}",
        'nis2:impact-sectors-impacted="energy"',
        'nis2:impact-sectors-impacted="transport"',
        'nis2:nature-root-cause="malicious-actions"',
    }
    values = {(a["type"], a["value"]) for a in loaded["Attribute"]}
    assert {("ip-dst", "198.51.100.23"), ("AS", "64511"), ("vulnerability", "CVE-2024-21762")} <= values
    assert ("text", "countries_affected: KZ, TJ") in values
    [incident] = [o for o in loaded["Object"] if o["name"] == "incident"]
    scores = [a["value"] for a in incident["Attribute"] if a["object_relation"] == "score"]
    national = record.assessments[0]
    assert scores[0].startswith(f"{national.name} on osce-reference {national.scale_version}: rank {national.rank}")
    assert len(scores) == 2


def test_it_writes_attribute_types_and_categories_misp_accepts() -> None:
    described = json.loads(DESCRIBE_TYPES.read_text())["result"]
    event = misp.to_event(national_record())
    assert {a["value"] for a in event["Event"]["Attribute"] if a["type"] != "text"} >= {
        o.value for o in national_record().observables
    }
    for attribute in [*event["Event"]["Attribute"], *event["Event"]["Object"][0]["Attribute"]]:
        assert attribute["type"] in described["category_type_mappings"][attribute["category"]], attribute
    assert {t for t, _ in misp._EXPORT_TYPES.values()} <= set(described["types"])
    assert set(misp._EXPORT_TYPES) == set(OBSERVABLE_TYPES)


def test_it_exports_every_classification_label_and_sector_as_a_shipped_tag() -> None:
    base = national_record()
    for rsit in rsit_types():
        kind, value = rsit.split(":", 1)
        event = misp.to_event(dataclasses.replace(base, facts={"classification": rsit}))
        assert f'rsit:{kind}="{value}"' in tags(event) and misp.unknown_tags(event) == []
    for tlp in TLP_LABELS:
        assert "tlp:" + tlp[4:].lower() in tags(misp.to_event(dataclasses.replace(base, tlp=tlp)))
    for pap in PAP_LABELS:
        assert pap in tags(misp.to_event(dataclasses.replace(base, pap=pap)))
    for sector in SECTORS:
        exported = tags(misp.to_event(dataclasses.replace(base, facts={"sector": sector})))
        assert (f'nis2:impact-sectors-impacted="{sector}"' in exported) == (sector != "other")
    for cause in fact_specs()["root_cause"].values:
        assert f'nis2:nature-root-cause="{cause}"' in tags(
            misp.to_event(dataclasses.replace(base, facts={"root_cause": cause}))
        )


def test_it_leaves_out_a_national_classification_rsit_does_not_have() -> None:
    record = dataclasses.replace(national_record(), facts={"classification": "fraud:sim-swap"})
    event = misp.to_event(record)
    assert not any(t.startswith("rsit:") for t in tags(event))
    assert reread(event).facts["classification"] == "fraud:sim-swap"  # the fact attribute carries it


@pytest.mark.parametrize(
    ("scale", "rank", "reachable_max", "expected"),
    [
        ("osce-reference", 0, 0, "baseline-negligible"),
        ("osce-reference", 0, 3, "baseline-minor"),
        ("osce-reference", 1, 1, "low"),
        ("osce-reference", 2, 4, "medium"),
        ("cisa-nciss", 3, 3, "high"),
        ("cisa-nciss", 4, 5, "severe"),
        ("osce-reference", 5, 5, "emergency"),
        ("eu-nis2", 1, 1, "low"),  # crosswalk to cisa-nciss: 1..5, the lower end
        ("uk-ncsc", 5, 5, "severe"),  # Category 1 reads as Severe..Emergency
        ("misp-priority-level", 1, None, "baseline-minor"),
        ("a-scale-nobody-knows", 2, 2, None),
    ],
)
def test_it_derives_the_priority_level_from_the_national_level(
    scale: str, rank: int, reachable_max: int | None, expected: str | None
) -> None:
    record = IncidentRecord(title="x", assessments=(Assessed(scale, "1", rank, "Level", None, reachable_max),))
    assert misp.priority_level(record) == expected
    event_tags = tags(misp.to_event(record))
    assert (f"priority-level:{expected}" in event_tags) if expected else not any("priority" in t for t in event_tags)


def test_it_reads_back_the_facts_levels_and_observables_it_exports() -> None:
    record = national_record()
    back = reread(through_pymisp(misp.to_event(record)))
    assert back.facts == record.facts
    assert back.title == record.title and back.description == record.description
    assert (back.tlp, back.pap, back.reporter) == (record.tlp, record.pap, record.reporter)
    assert back.assessments[: len(record.assessments)] == record.assessments
    assert back.assessments[-1].scale_id == "misp-priority-level"
    assert {(o.type, o.value) for o in back.observables} == {(o.type, o.value) for o in record.observables}
    assert misp.to_event(record)["Event"]["uuid"] == misp.to_event(record)["Event"]["uuid"]  # stable per incident


@pytest.mark.parametrize("name", ["phishing-bank.json", "response-list.json", "ddos-energy.json"])
def test_it_round_trips_misp_events(name: str) -> None:
    original = json.loads((DATA / name).read_text())
    events = (
        [e.get("Event", e) for e in original["response"]]
        if "response" in original
        else [original.get("Event", original)]
    )
    for source, record in zip(events, records(name), strict=True):
        event = misp.to_event(record)
        assert misp.unknown_tags(event) == []
        exported = through_pymisp(event)
        assert (exported["uuid"], exported["info"], exported["date"]) == (
            source["uuid"],
            source["info"],
            source["date"],
        )
        # Tags: those of the shipped taxonomies, in their TLP 2.0 / RSIT / NIS2 spelling; no others.
        shipped = {t for t in tags(source) if misp.is_known_tag(t)}
        assert set(tags(exported)) == {_canonical(t) for t in shipped}

        # Attributes: every original attribute keeps its uuid, type and value (objects' too).
        def attributes(event: dict[str, Any]) -> set[tuple[str, str, str]]:
            found = {(a["uuid"], a["type"], a["value"]) for a in event.get("Attribute", [])}
            for obj in event.get("Object", []):
                if obj["name"] != "incident":
                    found |= {(a["uuid"], a["type"], a["value"]) for a in obj["Attribute"]}
            return found

        assert attributes(source) <= attributes(exported)
        again = reread(exported)
        assert (again.facts, again.tlp, again.pap, again.observables) == (
            record.facts,
            record.tlp,
            record.pap,
            record.observables,
        )
        assert misp.to_event(again)["Event"]["Tag"] == event["Event"]["Tag"]


def _canonical(tag: str) -> str:
    """How an export writes what ``tag`` says (the sample events' non-canonical spellings)."""
    return {
        "tlp:white": "tlp:clear",
        "PAP:WHITE": "PAP:CLEAR",
        'ecsirt:malicious-code="ransomware"': 'rsit:information-content-security="unauthorised-information-modification"',
        'ecsirt:intrusions="defacement"': 'rsit:information-content-security="unauthorised-information-modification"',
        'nis:impact-sectors-impacted="drinking-water"': 'nis2:impact-sectors-impacted="drinking-water"',
        'nis:impact-sectors-impacted="government"': 'nis2:impact-sectors-impacted="public-administration"',
        'nis:nature-root-cause="malicious-actions"': 'nis2:nature-root-cause="malicious-actions"',
        'nis2:impact-subsectors-impacted="electricity"': 'nis2:impact-sectors-impacted="energy"',
    }.get(tag, tag)


def test_it_keeps_the_misp_uuid_of_a_record_stored_without_its_original() -> None:
    [record] = records("ddos-energy.json")
    stored = dataclasses.replace(record, original=None, reference="NC-2026-000512")
    assert misp.to_event(stored)["Event"]["uuid"] == "c9e8d7f6-a5b4-4c3d-9e2f-1a0b9c8d7e6f"
    other = dataclasses.replace(national_record(), source="stix", source_id="incident--1")
    assert misp.to_event(other)["Event"]["uuid"] == misp.to_event(national_record())["Event"]["uuid"]


def test_it_drops_an_exported_fact_that_does_not_validate() -> None:
    event = misp.to_event(national_record())
    for attribute in event["Event"]["Attribute"]:
        if attribute["value"].startswith("sector: "):
            attribute["value"] = "sector: energie"
    back = reread(event)
    assert "sector" not in back.facts and back.facts["entity_criticality"] == "critical"
    assert "facts.sector" in back.unmapped


def test_it_drops_tags_of_other_taxonomies_from_what_it_re_exports() -> None:
    [record] = records("phishing-bank.json")
    event = misp.to_event(record)
    assert 'nis2:impact-outlook="stable"' in tags(event)
    assert not any(t.startswith(("misp-galaxy:", "workflow:")) for t in tags(event))
    assert "id" not in event["Event"]["Attribute"][0] and "event_id" not in event["Event"]["Attribute"][0]


# ---------------------------------------------------------------- taxonomies


def test_it_flags_tags_outside_the_shipped_taxonomies() -> None:
    event = {
        "Event": {
            "Tag": [{"name": "tlp:amber+strict"}, {"name": "tlp:beige"}, {"name": 'rsit:fraud="phishing"'}],
            "Attribute": [{"type": "ip-dst", "value": "192.0.2.1", "Tag": [{"name": 'rsit:fraud="sim-swap"'}]}],
            "Object": [
                {"name": "file", "Attribute": [{"type": "md5", "value": "0" * 32, "Tag": [{"name": "rsit:fraud"}]}]}
            ],
        }
    }
    assert misp.unknown_tags(event) == ["rsit:fraud", 'rsit:fraud="sim-swap"', "tlp:beige"]
    assert misp.is_known_tag("priority-level:baseline-minor") and misp.is_known_tag('nis2:impact-outlook="worsening"')
    assert not misp.is_known_tag("priority-level:critical") and not misp.is_known_tag("nciss")


def test_it_ships_the_misp_taxonomies_it_reads_with_their_licence() -> None:
    assert {p.name for p in SHIPPED.iterdir()} == {f"{name}.json" for name in misp.TAXONOMIES} | {
        "LICENSE-misp-taxonomies"
    }
    if SHARED.is_dir():
        for path in SHIPPED.iterdir():
            assert path.read_bytes() == (SHARED / path.name).read_bytes(), path.name
