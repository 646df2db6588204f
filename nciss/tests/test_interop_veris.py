"""VERIS import and export: the mapping to facts, rejections, schema-valid exports and round trips."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import gzip
import io
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import IO, Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from nciss.facts import validate_facts
from nciss.interop import IncidentRecord, Observable, Rejected, veris
from nciss.taxonomy import rsit_types
from nciss.tests.shared import shared
from nciss.tests.strategies import fact_records

DATA = Path(__file__).parent / "data" / "veris"
VCDB = shared("data", "vcdb", "dev.jsonl.gz")
SAMPLES = {s["incident_id"]: s for s in json.loads((DATA / "samples.json").read_text("utf-8"))}
# VERIS fields whose value the facts (and description, observables) fully determine: exported
# without the original, a record gives them back as they were.
FACT_DETERMINED = (
    "summary",
    "security_incident",
    "timeline.incident.year",
    "timeline.incident.month",
    "timeline.incident.day",
    "timeline.discovery.unit",
    "timeline.discovery.value",
    "victim.country",
    "attribute.confidentiality.data_total",
    "attribute.availability.duration.unit",
    "attribute.availability.duration.value",
    "impact.overall_amount",
    "impact.iso_currency_code",
    "ioc[].indicator",
)


@cache
def schema_validator() -> Draft4Validator:
    schema = json.loads((DATA / "verisc-merged.json").read_text("utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def schema_errors(record: dict[str, Any]) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in schema_validator().iter_errors(record)]


def mapped(data: dict[str, Any]) -> IncidentRecord:
    record = veris.from_veris(data, "test.json")
    assert isinstance(record, IncidentRecord), record
    return record


def imported(incident_id: str) -> IncidentRecord:
    return mapped(copy.deepcopy(SAMPLES[incident_id]))


def values_at(document: Any, path: str) -> list[Any]:
    """Every value at a dotted path; ``[]`` steps into each object of a list."""
    nodes = [document]
    for key in path.split("."):
        step, many = (key[:-2], True) if key.endswith("[]") else (key, False)
        nodes = [n[step] for n in nodes if isinstance(n, dict) and step in n]
        if many:
            nodes = [item for n in nodes for item in n]
    return nodes


def comparable(facts: dict[str, Any]) -> dict[str, Any]:
    """Facts with their times as instants (VERIS gives them back in UTC)."""
    return {k: dt.datetime.fromisoformat(v) if k.endswith("_at") else v for k, v in facts.items()}


def read_all(data: bytes, name: str) -> list[IncidentRecord | Rejected]:
    return list(veris.read(io.BytesIO(data), name))


def read_records(data: bytes, name: str) -> list[IncidentRecord]:
    items = read_all(data, name)
    assert all(isinstance(i, IncidentRecord) for i in items), items
    return [i for i in items if isinstance(i, IncidentRecord)]


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("incident_id", "expected"),
    [
        (
            "NCISS-SAMPLE-MISDELIVERY",
            {
                "classification": "information-content-security:data-leak",
                "root_cause": "human-errors",
                "malicious": False,
                "actor": "unwitting-insider",
                "sector": "health",
                "entity_size": "large",
                "entity_country": "US",
                "records_affected": 120,
                "information_impact": "privacy-breach",
                "data_compromised": True,
                "unauthorised_access": False,
                "occurred_at": "2019-03-05T00:00:00+00:00",
                "detected_at": "2019-03-07T00:00:00+00:00",
            },
        ),
        (
            "NCISS-SAMPLE-RANSOMWARE",
            {
                "classification": "information-content-security:unauthorised-information-modification",
                "root_cause": "malicious-actions",
                "malicious": True,
                "actor": "criminal",
                "sector": "drinking-water",
                "entity_size": "medium",
                "functional_impact": "denial-non-critical",
                "outage_minutes": 36 * 60,
                "financial_loss_eur": 250000,
                "data_compromised": True,
                "occurred_at": "2020-11-01T00:00:00+00:00",
            },
        ),
        (
            "NCISS-SAMPLE-PHISHING",
            {"classification": "fraud:phishing", "sector": "banking", "information_impact": "proprietary-breach"},
        ),
        (
            "NCISS-SAMPLE-DDOS",
            {
                "classification": "availability:ddos",
                "actor": "hacktivist",
                "sector": "public-administration",
                "entity_country": "UZ",
                "outage_minutes": 90,
                "data_compromised": False,
                "location": "business-dmz",
            },
        ),
        (
            "NCISS-SAMPLE-ADMIN-CREDS",
            {"classification": "intrusions:privileged-account-compromise", "actor": "apt-targeted", "sector": "energy"},
        ),
        (
            "NCISS-SAMPLE-PRIVILEGE-ABUSE",
            {
                "classification": "information-content-security:unauthorised-information-access",
                "actor": "witting-insider",
                "malicious": True,
            },
        ),
        (
            "NCISS-SAMPLE-LAPTOP-THEFT",
            {
                "classification": "information-content-security:data-loss",
                "information_impact": "suspected",
                "functional_impact": "no-impact-to-services",
                "entity_size": "small",
            },
        ),
        (
            "NCISS-SAMPLE-FLOOD",
            {
                "classification": "availability:outage",
                "root_cause": "natural-phenomena",
                "malicious": False,
                "outage_minutes": 3 * 1440,
                "sector": "transport",
            },
        ),
        (
            "NCISS-SAMPLE-PARTNER-MISCONFIGURATION",
            {
                "classification": "information-content-security:data-leak",
                "root_cause": "third-party-failures",
                "records_affected": 1_000_000,
            },
        ),
        ("NCISS-SAMPLE-UNKNOWN", {"classification": "other:undetermined", "actor": "unknown"}),
        ("NCISS-SAMPLE-SQLI-USD", {"classification": "intrusions:application-compromise", "records_affected": 3200}),
        ("NCISS-SAMPLE-BACKDOOR-IOC", {"classification": "intrusions:system-compromise", "unauthorised_access": True}),
        (
            "NCISS-SAMPLE-NEAR-MISS",
            {
                "classification": "intrusion-attempts:brute-force",
                "observed_activity": "engage",
                "location": "unsuccessful",
                "unauthorised_access": False,
            },
        ),
    ],
)
def test_it_reads_each_sample_into_the_facts_its_fields_say(incident_id: str, expected: dict[str, Any]) -> None:
    record = imported(incident_id)
    assert {name: record.facts.get(name) for name in expected} == expected
    assert validate_facts(record.facts) == record.facts
    assert record.classification in rsit_types()
    assert record.source == "veris"
    assert record.source_id == incident_id.lower()
    assert record.original == SAMPLES[incident_id]


def test_it_leaves_out_what_the_record_does_not_say() -> None:
    unknown = imported("NCISS-SAMPLE-UNKNOWN").facts
    for name in ("root_cause", "malicious", "sector", "entity_size", "entity_country", "records_affected"):
        assert name not in unknown
    flood = imported("NCISS-SAMPLE-FLOOD").facts
    assert "actor" not in flood  # a force of nature is not an actor
    assert "financial_loss_eur" not in imported("NCISS-SAMPLE-SQLI-USD").facts


def test_it_keeps_a_loss_in_another_currency_in_the_original_only() -> None:
    record = imported("NCISS-SAMPLE-SQLI-USD")
    assert "financial_loss_eur" not in record.facts
    assert {"impact.overall_amount", "impact.iso_currency_code"} <= set(record.unmapped)
    assert record.original["impact"]["overall_amount"] == 50000
    euros = imported("NCISS-SAMPLE-RANSOMWARE")
    assert {"impact.overall_amount", "impact.iso_currency_code"} <= set(euros.mapped)


def test_it_names_every_leaf_field_mapped_or_unmapped() -> None:
    record = imported("NCISS-SAMPLE-MISDELIVERY")
    assert not set(record.mapped) & set(record.unmapped)
    assert {
        "action.error.variety",
        "attribute.confidentiality.data_total",
        "attribute.confidentiality.data[].variety",
        "timeline.incident.day",
        "timeline.discovery.value",
        "victim.industry",
        "summary",
    } <= set(record.mapped)
    assert {
        "reference",
        "plus.analyst",
        "attribute.confidentiality.data[].amount",
        "victim.state",
        "discovery_method.external.variety",
    } <= set(record.unmapped)
    every_leaf = set(record.mapped) | set(record.unmapped)
    for path in every_leaf:
        assert values_at(record.original, path) != [], path


def test_it_titles_a_record_from_its_summary_or_what_happened_to_whom() -> None:
    assert (
        imported("NCISS-SAMPLE-MISDELIVERY").title
        == "A clinic mailed 120 patients' lab results to the wrong addresses."
    )
    theft = imported("NCISS-SAMPLE-LAPTOP-THEFT")
    assert theft.title == "Data Loss at Cabinet Exemple"
    assert "victim.victim_id" in theft.mapped
    long_summary = {**SAMPLES["NCISS-SAMPLE-FLOOD"], "summary": "word " * 60}
    title = mapped(long_summary).title
    assert len(title) <= 120 and title.endswith("…")


def test_it_reads_the_iocs_as_observables() -> None:
    record = imported("NCISS-SAMPLE-BACKDOOR-IOC")
    assert record.observables == (
        Observable("ipv4-addr", "203.0.113.5", "C2 server"),
        Observable("domain-name", "update.example.com"),
        Observable(
            "file:hashes.SHA-256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "backdoor"
        ),
    )


def test_it_reads_a_json_array_and_json_lines_of_records_and_wrappers() -> None:
    records = list(SAMPLES.values())
    from_array = read_records(json.dumps(records).encode(), "samples.json")
    lines = b"".join(json.dumps({"record_id": "x", "veris": r}).encode() + b"\n" for r in records)
    from_lines = read_records(lines, "vcdb.jsonl.gz")  # decompressed by the caller, the name keeps .gz
    single = read_records(json.dumps({"veris": records[0]}).encode(), "one.json")
    assert [r.source_id for r in from_array] == [r.source_id for r in from_lines] == [i.lower() for i in SAMPLES]
    assert [r.facts for r in from_array] == [r.facts for r in from_lines]
    assert [r.source_id for r in single] == ["nciss-sample-misdelivery"]


def test_it_rejects_bad_lines_with_their_place_and_reason_and_goes_on() -> None:
    good = json.dumps(SAMPLES["NCISS-SAMPLE-FLOOD"]).encode()
    data = b"\n".join(
        [
            good,
            b'{"incident_id": "broken", ',
            json.dumps({"summary": "no id", "action": {"unknown": {}}}).encode(),
            b"",
            json.dumps({"veris": {"incident_id": "  "}}).encode(),
            b"[1, 2]",
            good,
        ]
    )
    items = read_all(data, "batch.jsonl")
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert [(r.file, r.record, r.field) for r in rejected] == [
        ("batch.jsonl", "line 2", ""),
        ("batch.jsonl", "line 3", "incident_id"),
        ("batch.jsonl", "line 5", "incident_id"),
        ("batch.jsonl", "line 6", ""),
    ]
    assert rejected[0].reason.startswith("not JSON")
    assert "incident_id" in rejected[1].reason
    assert "JSON object" in rejected[3].reason
    assert [i.source_id for i in items if isinstance(i, IncidentRecord)] == ["nciss-sample-flood"] * 2


def test_it_rejects_a_json_file_that_is_not_json_and_array_items_by_position() -> None:
    [broken] = read_all(b'{"incident_id": ', "broken.json")
    assert isinstance(broken, Rejected)
    assert (broken.file, broken.record, broken.field) == ("broken.json", "", "")
    items = read_all(json.dumps([SAMPLES["NCISS-SAMPLE-FLOOD"], {"summary": "x"}, "text"]).encode(), "array.json")
    assert [(i.record, i.field) for i in items if isinstance(i, Rejected)] == [
        ("record 2", "incident_id"),
        ("record 3", ""),
    ]


class LineStream(io.RawIOBase):
    """A stream that hands out lines one at a time and remembers how many it gave."""

    def __init__(self, lines: list[bytes]) -> None:
        self.lines, self.given = lines, 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self.lines:
            self.given += 1
            yield line

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the whole file was read at once")


def test_it_reads_json_lines_one_line_at_a_time() -> None:
    line = json.dumps(SAMPLES["NCISS-SAMPLE-FLOOD"]).encode() + b"\n"
    stream = LineStream([line] * 1000)
    items = veris.read(cast(IO[bytes], stream), "big.jsonl")
    next(items)
    assert stream.given == 1
    assert sum(1 for _ in items) == 999


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
veris_keys = st.sampled_from(
    ["action", "actor", "attribute", "victim", "timeline", "asset", "impact", "plus", "ioc", "security_incident"]
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fields=st.dictionaries(veris_keys, json_values | st.dictionaries(st.text(max_size=12), json_values, max_size=4)),
    sample=st.sampled_from(sorted(SAMPLES)),
    graft=st.booleans(),
)
def test_it_never_fails_on_a_record_of_unexpected_shape(fields: dict[str, Any], sample: str, graft: bool) -> None:
    base = copy.deepcopy(SAMPLES[sample]) if graft else {}
    record = veris.from_veris({**base, **fields, "incident_id": "odd"})
    assert isinstance(record, IncidentRecord)
    assert validate_facts(record.facts) == record.facts
    assert set(record.mapped).isdisjoint(record.unmapped)


def test_it_counts_mapped_and_unmapped_fields_and_classifications() -> None:
    items: list[IncidentRecord | Rejected] = [imported(i) for i in SAMPLES]
    items.append(Rejected("f.jsonl", "line 9", "incident_id", "missing"))
    summary = veris.coverage(items)
    assert summary["records"] == len(SAMPLES)
    assert summary["rejected"] == 1
    assert summary["mapped_fields"] == sum(len(r.mapped) for r in items if isinstance(r, IncidentRecord))
    assert summary["unmapped_fields"] == sum(len(r.unmapped) for r in items if isinstance(r, IncidentRecord))
    assert summary["mapped_paths"]["timeline.incident.year"] == len(SAMPLES)
    external = sum("external" in s["discovery_method"] for s in SAMPLES.values())
    assert summary["unmapped_paths"]["discovery_method.external.variety"] == external
    assert summary["classifications"]["information-content-security:data-leak"] == 2


# ---------------------------------------------------------------- writing


@pytest.mark.parametrize("incident_id", sorted(SAMPLES))
def test_it_writes_a_veris_record_back_with_every_mapped_field_equal(incident_id: str) -> None:
    record = imported(incident_id)
    exported = veris.to_veris(record)
    assert schema_errors(exported) == []
    for path in record.mapped:
        assert values_at(exported, path) == values_at(SAMPLES[incident_id], path), path
    for path in record.unmapped:
        assert values_at(exported, path) == values_at(SAMPLES[incident_id], path), path
    assert exported == SAMPLES[incident_id]
    assert list(exported) == list(SAMPLES[incident_id])  # in the original's order too


@pytest.mark.parametrize("incident_id", sorted(SAMPLES))
def test_it_rebuilds_the_mapped_fields_from_the_facts_alone(incident_id: str) -> None:
    record = imported(incident_id)
    native = dataclasses.replace(record, original=None, source="nciss", reference="NCISS-2026-000042")
    exported = veris.to_veris(native)
    assert schema_errors(exported) == []
    for path in FACT_DETERMINED:
        if path in record.mapped:
            assert values_at(exported, path) == values_at(SAMPLES[incident_id], path), path
    back = mapped(exported)
    assert back.facts == record.facts
    assert back.observables == record.observables
    assert back.description == (record.description or record.title)  # a summary is the title at least


def test_it_writes_a_changed_fact_into_its_field_and_keeps_the_unmapped_fields() -> None:
    record = imported("NCISS-SAMPLE-MISDELIVERY")
    facts = {**record.facts, "records_affected": 5000, "entity_country": "UZ", "sector": "banking"}
    facts |= {"occurred_at": "2019-03-09T00:00:00+00:00", "detected_at": "2019-03-12T00:00:00+00:00"}
    exported = veris.to_veris(dataclasses.replace(record, facts=facts))
    assert schema_errors(exported) == []
    assert exported["attribute"]["confidentiality"]["data_total"] == 5000
    assert exported["victim"]["country"] == ["UZ"]
    assert exported["victim"]["industry"] == "522"
    assert exported["timeline"]["incident"] == {"year": 2019, "month": 3, "day": 9}
    assert exported["timeline"]["discovery"] == {"unit": "Days", "value": 3}
    for path in record.unmapped:
        assert values_at(exported, path) == values_at(SAMPLES["NCISS-SAMPLE-MISDELIVERY"], path), path
    assert "nciss" not in exported["plus"]
    assert mapped(exported).facts == facts


def test_it_keeps_the_originals_finer_spelling_while_it_says_the_same() -> None:
    record = imported("NCISS-SAMPLE-SQLI-USD")
    exported = veris.to_veris(dataclasses.replace(record, facts={**record.facts, "entity_country": "NZ"}))
    assert exported["victim"]["industry"] == "448140"  # "other" either way: the 6-digit code stays
    assert exported["actor"]["external"]["variety"] == ["Unaffiliated"]  # criminal either way
    assert exported["victim"]["country"] == ["NZ"]


def test_it_drops_a_fact_that_was_removed() -> None:
    record = imported("NCISS-SAMPLE-RANSOMWARE")
    facts = {k: v for k, v in record.facts.items() if k not in ("financial_loss_eur", "outage_minutes")}
    exported = veris.to_veris(dataclasses.replace(record, facts=facts))
    assert schema_errors(exported) == []
    assert "overall_amount" not in exported["impact"]
    assert "duration" not in exported["attribute"]["availability"]
    assert mapped(exported).facts == facts


def test_it_writes_a_record_reported_in_nciss_with_the_required_fields() -> None:
    record = IncidentRecord(
        title="Phishing wave against the ministry",
        facts={
            "classification": "fraud:phishing",
            "sector": "public-administration",
            "entity_country": "UZ",
            "entity_size": "central-government",
            "entity_criticality": "essential",
            "occurred_at": "2021-05-04T08:30:00+05:00",
            "detected_at": "2021-05-04T10:00:00+05:00",
            "users_affected": 40,
        },
        source="nciss",
        source_id="NCISS-2021-000007",
        reference="NCISS-2021-000007",
        observables=(Observable("url", "https://login.example.net/owa", "phishing page"),),
    )
    exported = veris.to_veris(record)
    assert schema_errors(exported) == []
    assert exported["schema_version"] == "1.3.4"
    assert exported["source_id"] == "nciss"
    assert exported["incident_id"] == veris.incident_id(record) == veris.to_veris(record)["incident_id"]
    assert exported["summary"] == "Phishing wave against the ministry"
    assert exported["action"]["social"]["variety"] == ["Phishing"]
    assert exported["timeline"]["incident"] == {"year": 2021, "month": 5, "day": 4}
    assert exported["timeline"]["discovery"] == {"unit": "Hours", "value": 5}  # from 00:00 UTC on the day
    assert exported["ioc"] == [{"indicator": "https://login.example.net/owa", "comment": "url: phishing page"}]
    carried = exported["plus"]["nciss"]["facts"]
    assert {"entity_criticality", "entity_size", "users_affected"} <= carried.keys()
    back = mapped(exported)
    assert back.facts["entity_criticality"] == "essential"
    assert back.observables == record.observables
    assert "plus.nciss.facts.entity_criticality" in back.mapped


def test_it_carries_what_the_schema_cannot_hold_and_reads_it_back() -> None:
    record = IncidentRecord(
        title="Outage",
        facts={"classification": "national:grid-instability", "occurred_at": "2026-10-17T06:40:00+05:00"},
        source="nciss",
        reference="NCISS-2026-000001",
    )
    exported = veris.to_veris(record)
    assert schema_errors(exported) == []
    assert exported["timeline"]["incident"]["year"] == veris.MAX_YEAR
    assert exported["plus"]["nciss"]["facts"]["occurred_at"] == "2026-10-17T06:40:00+05:00"
    back = mapped(exported)
    assert back.facts == record.facts


def test_it_ignores_carried_facts_that_are_not_valid() -> None:
    sample = copy.deepcopy(SAMPLES["NCISS-SAMPLE-FLOOD"])
    sample["plus"] = {"nciss": {"facts": {"sector": "bakeries", "entity_criticality": "essential", "actor": None}}}
    record = veris.from_veris(sample)
    assert isinstance(record, IncidentRecord)
    assert record.facts["sector"] == "transport"
    assert record.facts["entity_criticality"] == "essential"
    assert "plus.nciss.facts.sector" in record.unmapped


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    facts=fact_records(),
    observables=st.lists(
        st.builds(
            Observable,
            st.sampled_from(["ipv4-addr", "domain-name", "url", "file:name", "vulnerability"]),
            st.text(min_size=1, max_size=20).filter(str.strip).map(str.strip),
            st.text(max_size=10),
        ),
        max_size=3,
    ),
    sample=st.none() | st.sampled_from(sorted(SAMPLES)),
)
def test_it_exports_any_facts_to_valid_veris_and_reads_the_same_facts_back(
    facts: dict[str, Any], observables: list[Observable], sample: str | None
) -> None:
    record = IncidentRecord(
        title="Incident", facts=facts, source="nciss", reference="NCISS-1", observables=tuple(observables)
    )
    if sample is not None:
        record = dataclasses.replace(imported(sample), facts=facts, observables=tuple(observables))
    exported = veris.to_veris(record)
    assert schema_errors(exported) == []
    back = mapped(exported)
    assert comparable(back.facts) == comparable(validate_facts(facts))
    assert back.observables == record.observables


def test_it_fills_the_required_fields_a_veris_original_lacks() -> None:
    record = veris.from_veris({"incident_id": "minimal-1", "summary": "Something happened."})
    assert isinstance(record, IncidentRecord)
    exported = veris.to_veris(record)
    assert schema_errors(exported) == []
    assert exported["incident_id"] == "minimal-1"
    assert exported["summary"] == "Something happened."


# ---------------------------------------------------------------- the VCDB dev set


@pytest.mark.skipif(not VCDB.exists(), reason="the VCDB dev set (../shared/data/vcdb) is not on this machine")
def test_it_imports_and_exports_every_vcdb_record() -> None:
    with gzip.open(VCDB, "rb") as stream:
        items = list(veris.read(cast(IO[bytes], stream), VCDB.name))
    rejected = [str(i) for i in items if isinstance(i, Rejected)]
    assert rejected == []
    records = [i for i in items if isinstance(i, IncidentRecord)]
    assert len(records) == 6881
    types = set(rsit_types())
    for number, record in enumerate(records):
        assert validate_facts(record.facts) == record.facts
        assert record.classification in types
        exported = veris.to_veris(record)
        assert exported == record.original
        assert schema_errors(exported) == [], record.source_id
        if number % 10 == 0:  # every tenth also written from its facts alone (the slower path)
            native = veris.to_veris(
                dataclasses.replace(record, original=None, source="nciss", reference=record.source_id)
            )
            assert schema_errors(native) == [], record.source_id
            assert mapped(native).facts == record.facts
