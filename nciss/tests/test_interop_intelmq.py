"""IntelMQ events: reading, RSIT classification, deduplication and aggregation into incidents."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from nciss.facts import validate_facts
from nciss.interop import IncidentRecord, Observable, Rejected, intelmq
from nciss.interop.formats import read_files
from nciss.taxonomy import rsit_types
from nciss.tests.shared import shared

SHARED_CLASSIFICATION = shared("data", "intelmq-classification.json")
SHIPPED_TABLE = Path(intelmq.__file__).parent / "data" / "intelmq-classification.json"


def event(**fields: Any) -> dict[str, Any]:
    """A Shadowserver-like drone event; keyword names use __ for dots."""
    base: dict[str, Any] = {
        "feed.name": "Shadowserver Drone",
        "feed.provider": "Shadowserver",
        "feed.accuracy": 100.0,
        "classification.taxonomy": "malicious-code",
        "classification.type": "infected-system",
        "classification.identifier": "mirai",
        "time.source": "2026-11-29T14:03:11+00:00",
        "time.observation": "2026-11-29T15:00:02+00:00",
        "source.ip": "198.51.100.23",
        "source.port": 37215,
        "source.asn": 64511,
        "source.geolocation.cc": "UZ",
        "protocol.transport": "tcp",
        "raw": "InRpbWVzdGFtcCIsImlwIiwicG9ydCI=",
    }
    base.update({key.replace("__", "."): value for key, value in fields.items()})
    return {key: value for key, value in base.items() if value is not None}


def jsonl(*events: dict[str, Any] | str) -> io.BytesIO:
    lines = [e if isinstance(e, str) else json.dumps(e) for e in events]
    return io.BytesIO(("\n".join(lines) + "\n").encode())


# ---------------------------------------------------------------- classification


@pytest.mark.skipif(not SHARED_CLASSIFICATION.exists(), reason="needs ../shared/data/intelmq-classification.json")
def test_it_maps_every_intelmq_type_and_old_name_to_an_rsit_type() -> None:
    reference = json.loads(SHARED_CLASSIFICATION.read_text())
    names = [*reference["type_allowed_values"], *reference["legacy_type_aliases"]]
    assert len(reference["type_allowed_values"]) == 44
    for name in names:
        taxonomy = reference["type_to_taxonomy"].get(name, "other")
        found = intelmq.rsit_classification({"classification.taxonomy": taxonomy, "classification.type": name})
        assert found in rsit_types(), name
        # A type RSIT knows keeps its name; the others are read as the nearest RSIT type.
        if any(t.endswith(f":{name}") for t in rsit_types()):
            assert found.endswith(f":{name}")


def test_it_reads_intelmq_extensions_as_the_contract_says() -> None:
    expected = {
        "malware": "malicious-code:infected-system",
        "ransomware": "information-content-security:unauthorised-information-modification",
        "blacklist": "other:other",
        "proxy": "other:other",
        "tor": "other:other",
        "dga-domain": "other:other",
        "unauthorized-use-of-resources": "fraud:unauthorised-use-of-resources",
        "Botnet Drone": "malicious-code:infected-system",
        "c&c": "malicious-code:c2-server",
        "defacement": "information-content-security:unauthorised-information-modification",
        "vulnerable service": "vulnerable:vulnerable-system",
        "ddos-amplifier": "vulnerable:ddos-amplifier",
        "test": "test:test",
    }
    for name, rsit in expected.items():
        assert intelmq.rsit_classification(event(classification__type=name)) == rsit, name


def test_it_reads_unknown_or_missing_types_as_undetermined() -> None:
    assert intelmq.rsit_classification(event(classification__type="made-up")) == "other:undetermined"
    assert intelmq.rsit_classification(event(classification__type=None)) == "other:undetermined"


def test_it_ships_a_table_of_rsit_types_only() -> None:
    table = json.loads(SHIPPED_TABLE.read_text())["types"]
    assert table and set(table.values()) <= set(rsit_types())
    assert all(name == name.strip().lower() for name in table)


# ---------------------------------------------------------------- reading


def test_it_reads_valid_events_and_rejects_bad_ones_with_line_and_field() -> None:
    stream = jsonl(
        event(),
        "{not json",
        "[1, 2]",
        event(source__asn="AS64511"),
        event(classification__type=None, classification__taxonomy=None),
        event(time__source=None, time__observation=None),
        event(time__source="yesterday"),
        event(source__ip=None, source__asn=None),
        "",
        event(source__ip=None, source__asn=None, source__fqdn="bad.example"),
    )
    items = list(intelmq.read_events(stream, "feed.jsonl"))
    rejected = [(r.record, r.field) for r in items if isinstance(r, Rejected)]
    assert rejected == [
        ("line 2", ""),
        ("line 3", ""),
        ("line 4", "source.asn"),
        ("line 5", "classification.type"),
        ("line 6", "time.source"),
        ("line 7", "time.source"),
        ("line 8", "source.ip"),
    ]
    good = [i for i in items if isinstance(i, dict)]
    assert [e.get("source.fqdn") for e in good] == [None, "bad.example"]
    assert "expected a whole number" in str(items[3])


def test_it_accepts_time_observation_alone_and_hierarchical_events() -> None:
    nested = {
        "feed": {"name": "Spamhaus DROP"},
        "classification": {"taxonomy": "other", "type": "blacklist"},
        "time": {"observation": "2026-11-29T10:00:00Z"},
        "source": {"network": "192.0.2.0/24"},
    }
    [read] = intelmq.read_events(jsonl(nested), "drop.jsonl")
    assert read == {
        "feed.name": "Spamhaus DROP",
        "classification.taxonomy": "other",
        "classification.type": "blacklist",
        "time.observation": "2026-11-29T10:00:00Z",
        "source.network": "192.0.2.0/24",
    }


def test_it_reads_a_json_array_of_events() -> None:
    stream = io.BytesIO(json.dumps([event(), event(source__ip="198.51.100.24"), "oops"]).encode())
    items = list(intelmq.read_events(stream, "events.json"))
    assert [type(i).__name__ for i in items] == ["dict", "dict", "Rejected"]
    assert items[2].record == "event 3"  # type: ignore[union-attr]


def test_it_finds_the_observables_of_an_event() -> None:
    found = intelmq.observables(
        event(
            source__ip="2001:db8::7",
            destination__ip="192.0.2.1",
            destination__fqdn="sinkhole.example",
            malware__hash__sha256="a" * 64,
        )
    )
    assert found == [
        Observable("ipv6-addr", "2001:db8::7", "source.ip (mirai)"),
        Observable("autonomous-system", "64511", "source.asn (mirai)"),
        Observable("ipv4-addr", "192.0.2.1", "destination.ip (mirai)"),
        Observable("domain-name", "sinkhole.example", "destination.fqdn (mirai)"),
        Observable("file:hashes.SHA-256", "a" * 64, "malware.hash.sha256 (mirai)"),
    ]


# ---------------------------------------------------------------- deduplication


def test_it_deduplicates_on_every_field_but_time_observation_and_raw() -> None:
    original = event()
    key = intelmq.dedup_key(original)
    assert intelmq.dedup_key(event(time__observation="2026-12-01T00:00:00+00:00", raw="b3RoZXI=")) == key
    assert intelmq.dedup_key(dict(reversed(list(original.items())))) == key
    assert intelmq.dedup_key({k: v for k, v in original.items() if k not in ("raw", "time.observation")}) == key
    for name, value in original.items():
        if name in ("raw", "time.observation"):
            continue
        changed = dict(original)
        changed[name] = value + 1 if isinstance(value, int | float) else f"{value}x"
        assert intelmq.dedup_key(changed) != key, name
        assert intelmq.dedup_key({k: v for k, v in original.items() if k != name}) != key, name


def test_it_gives_the_same_key_in_every_process_and_release() -> None:
    # Pinned: keys stored by one ingest process must match those of the next one.
    key = intelmq.dedup_key({"source.ip": "192.0.2.1", "classification.type": "scanner", "time.observation": "x"})
    assert key.hex() == "6c10d4c9e03dd59b76383f4a07f6d2ad"


# ---------------------------------------------------------------- aggregation


def drones(
    count: int, day: int = 29, feed: str = "Shadowserver Drone", type_: str = "infected-system"
) -> list[dict[str, Any]]:
    return [
        event(
            feed__name=feed,
            classification__type=type_,
            source__ip=f"198.51.100.{n % 250 + 1}",
            source__port=1000 + n,
            time__source=f"2026-11-{day:02d}T{n % 24:02d}:15:00+00:00",
        )
        for n in range(count)
    ]


def test_it_aggregates_deduplicated_events_by_type_feed_and_day() -> None:
    events = drones(12) + drones(3, day=30) + drones(5, feed="Shadowserver Scan RDP", type_="vulnerable-system")
    repeats = [dict(e, **{"time.observation": "2026-12-01T08:00:00+00:00", "raw": "eA=="}) for e in events[:4]]
    records = intelmq.aggregate(events + repeats)
    by_title = {r.title: r for r in records}
    assert sorted(by_title) == [
        "12 infected-system events from feed Shadowserver Drone on 2026-11-29",
        "3 infected-system events from feed Shadowserver Drone on 2026-11-30",
        "5 vulnerable-system events from feed Shadowserver Scan RDP on 2026-11-29",
    ]
    drone = by_title["12 infected-system events from feed Shadowserver Drone on 2026-11-29"]
    assert drone.facts == {
        "classification": "malicious-code:infected-system",
        "occurred_at": "2026-11-29T00:15:00+00:00",
        "malicious": True,
        "root_cause": "malicious-actions",
        "observed_activity": "presence",
    }
    assert validate_facts(drone.facts) == drone.facts
    assert "organisations_affected" not in drone.facts
    assert drone.description.startswith("12 events from feed Shadowserver Drone (4 duplicates dropped)")
    assert "malicious-code/infected-system (12)" in drone.description and "mirai (12)" in drone.description
    assert drone.source == "intelmq"
    assert drone.source_id == "Shadowserver Drone/malicious-code:infected-system/2026-11-29T00:00:00+00:00"
    assert drone.reporter == "Shadowserver"
    assert len([o for o in drone.observables if o.type == "ipv4-addr"]) == 12
    assert "source.ip" in drone.mapped and "protocol.transport" in drone.unmapped
    assert drone.original["events"] == 12 and drone.original["duplicates"] == 4
    vulnerable = by_title["5 vulnerable-system events from feed Shadowserver Scan RDP on 2026-11-29"]
    assert vulnerable.facts == {
        "classification": "vulnerable:vulnerable-system",
        "occurred_at": "2026-11-29T00:15:00+00:00",
        "observed_activity": "none",
    }


def test_it_gives_the_same_records_when_the_same_events_come_again() -> None:
    events = drones(30)
    first = intelmq.aggregate(events)
    again = intelmq.aggregate(events + events[::-1])
    assert [r.source_id for r in again] == [r.source_id for r in first]
    assert [r.facts for r in again] == [r.facts for r in first]


def test_it_uses_the_window_it_is_given() -> None:
    hourly = intelmq.aggregate(drones(48), window=dt.timedelta(hours=6))
    assert [r.title for r in hourly] == [
        f"12 infected-system events from feed Shadowserver Drone on 2026-11-29 {h:02d}:00 to 2026-11-29 {h + 6:02d}:00 UTC"
        for h in (0, 6, 12)
    ] + ["12 infected-system events from feed Shadowserver Drone on 2026-11-29 18:00 to 2026-11-30 00:00 UTC"]
    weekly = intelmq.aggregate(drones(2) + drones(2, day=30), window=dt.timedelta(days=7))
    assert [r.title for r in weekly] == [
        "4 infected-system events from feed Shadowserver Drone from 2026-11-26 to 2026-12-02"
    ]
    with pytest.raises(ValueError, match="positive"):
        intelmq.aggregate([], window=dt.timedelta(0))


def test_it_caps_the_observables_of_a_large_group() -> None:
    events = [
        event(source__ip=f"10.{n // 65536}.{n // 256 % 256}.{n % 256}") for n in range(intelmq.MAX_OBSERVABLES + 50)
    ]
    [record] = intelmq.aggregate(events)
    assert len(record.observables) == intelmq.MAX_OBSERVABLES
    assert f"More than {intelmq.MAX_OBSERVABLES} distinct observables" in record.description


def test_it_keeps_the_most_restrictive_tlp_of_a_group() -> None:
    [record] = intelmq.aggregate(
        [event(tlp="GREEN"), event(tlp="AMBER", source__ip="192.0.2.9"), event(tlp="WHITE", source__ip="192.0.2.8")]
    )
    assert record.tlp == "TLP:AMBER"
    [clear] = intelmq.aggregate([event(tlp="WHITE")])
    assert clear.tlp == "TLP:CLEAR"


def test_it_imports_gzipped_feeds_through_the_import_path(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "drone.jsonl.gz", "wb") as out:
        out.write(b"\n".join(orjson.dumps(e) for e in drones(7)) + b"\n{broken\n")
    items = [item for _, item in read_files("intelmq", [tmp_path])]
    records = [i for i in items if isinstance(i, IncidentRecord)]
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert [r.title for r in records] == ["7 infected-system events from feed Shadowserver Drone on 2026-11-29"]
    assert [(r.file, r.record) for r in rejected] == [("drone.jsonl.gz", "line 8")]
