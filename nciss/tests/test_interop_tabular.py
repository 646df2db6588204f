"""CSV: column mappings (and their errors), row-by-row import with rejections, export and re-import."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from nciss.facts import validate_facts
from nciss.interop import Assessed, IncidentRecord, Observable, Rejected, tabular
from nciss.interop.formats import read_files
from nciss.tests.strategies import fact_records

DATA = Path(__file__).parent / "data" / "csv"
EXAMPLE = Path(tabular.__file__).parent / "data" / "csv-mapping-example.yaml"
TASHKENT = dt.timezone(dt.timedelta(hours=5))


def read_text(text: str, mapping: dict[str, Any] | tabular.CsvMapping, name: str = "incidents.csv") -> list[Any]:
    loaded = mapping if isinstance(mapping, tabular.CsvMapping) else tabular.load_mapping(mapping)
    return list(tabular.read(io.BytesIO(text.encode()), name, loaded))


def mapping_errors(raw: dict[str, Any] | str) -> list[str]:
    with pytest.raises(tabular.MappingError) as caught:
        tabular.load_mapping(raw)
    return [f"{path}: {reason}" for path, reason in caught.value.errors]


SIMPLE = {"title": "Summary", "facts": {"classification": "Type", "sector": "Sector", "users_affected": "Users"}}


# ---------------------------------------------------------------- mappings


def test_it_reads_the_example_spreadsheet_with_the_example_mapping() -> None:
    mapping = tabular.load_mapping(EXAMPLE)
    with (DATA / "ticket-export.csv").open("rb") as stream:
        found = list(tabular.read(stream, "ticket-export.csv", mapping))
    phishing, ddos, ransomware, scan = [r for r in found if isinstance(r, IncidentRecord)]
    assert len(found) == 4, found
    assert phishing.title == "Phishing: Aral Bank"
    assert phishing.facts == {
        "classification": "fraud:phishing",
        "sector": "banking",
        "entity_criticality": "essential",
        "malicious": True,
        "detected_at": "2026-11-29T08:40:00+05:00",
        "users_affected": 1250,
        "financial_loss_eur": 12500.5,
    }
    assert (phishing.source, phishing.source_id, phishing.reporter) == ("ticketing", "INC-2026-0412", "Aral Bank CSIRT")
    assert (phishing.tlp, phishing.pap) == ("TLP:AMBER", "PAP:AMBER")
    assert phishing.created == dt.datetime(2026, 11, 29, 9, 15, tzinfo=TASHKENT)
    assert phishing.observables == (
        Observable("ipv4-addr", "203.0.113.77"),
        Observable("domain-name", "aralbank-secure-login.example.net"),
        Observable("url", "https://aralbank-secure-login.example.net/ebank/login.php"),
    )
    assert phishing.unmapped == ("Handler",) and "Sector" in phishing.mapped
    assert ddos.facts["countries_affected"] == ["KZ", "TJ"]
    assert ddos.facts["population_affected_share"] == pytest.approx(0.12)
    assert ddos.facts["malicious"] is True  # "da", through the values table
    assert ransomware.description == "File servers encrypted; SCADA historian offline"
    assert scan.facts["malicious"] is False and scan.facts["entity_criticality"] == "other"
    assert scan.reporter is None


def test_it_names_every_mistake_in_a_mapping() -> None:
    assert mapping_errors(
        {
            "title": "",
            "delimiter": ";;",
            "encoding": "utf-9",
            "timezone": "Mars/Olympus",
            "tlp": "TLP:BEIGE",
            "colour": "red",
            "facts": {"sectr": "Sector", "users_affected": 3, "sector": "Sector"},
            "values": {"sector": {"Energie": "energie", "Banks": "banking"}, "actor": {"x": "apt"}},
            "observables": {"IP": "ip-address"},
            "dates": {"detected_at": "dd.mm.yyyy", "sector": "%d"},
        }
    ) == [
        "colour: unknown key",
        "title: expected a column name or a template with {column} placeholders",
        "tlp: 'TLP:BEIGE' is not one of TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED",
        "delimiter: expected one character, e.g. ',' or ';' (\"\\t\" for a tab)",
        "encoding: unknown encoding 'utf-9'",
        "timezone: expected an offset such as +05:00, UTC, or a zone such as Asia/Tashkent",
        "facts.sectr: unknown fact",
        "facts.users_affected: expected a column name",
        "values.sector.Energie: 'energie' is not one of energy, transport, banking, financial, health, drinking-water, "
        "waste-water, digital-infrastructure, ict-services, public-administration, space, courier, waste-management, "
        "chemical, food, manufacturing, digital-providers, research, other",
        "values.actor: no column gives this fact (add it under facts)",
        "observables.IP: 'ip-address' is not one of ipv4-addr, ipv6-addr, domain-name, url, email-addr, mac-addr, "
        "autonomous-system, file:hashes.MD5, file:hashes.SHA-1, file:hashes.SHA-256, file:name, vulnerability, typed",
        "dates.detected_at: expected a strptime format such as '%d.%m.%Y %H:%M'",
        "dates.sector: not a date-time fact (occurred_at, detected_at, reported_at) nor created",
    ]


def test_it_says_what_is_wrong_with_a_mapping_file(tmp_path: Path) -> None:
    broken = tmp_path / "mapping.yaml"
    broken.write_text("title: [unclosed\n")
    assert mapping_errors(str(broken))[0].startswith(f"{broken}: not valid YAML")
    broken.write_text("- a list\n")
    assert mapping_errors(str(broken)) == ["(top): expected a mapping (a YAML object)"]
    assert mapping_errors(str(tmp_path / "missing.yaml"))[0].endswith("cannot read: No such file or directory")


# ---------------------------------------------------------------- rows


def test_it_rejects_bad_rows_with_row_fact_and_column_and_keeps_the_rest() -> None:
    text = (
        "Summary,Type,Sector,Users,When,Malicious,TLP\n"
        "Portal down,availability:ddos,energy,1200,2026-11-29T06:10:00+05:00,yes,amber\n"
        "Bad sector,availability:ddos,energie,10,,,\n"
        "Bad number,availability:ddos,energy,many,,,\n"
        "Bad type,ddos,energy,,,,\n"
        "Bad date,fraud:phishing,banking,,29/11/2026,,\n"
        "Bad boolean,fraud:phishing,banking,,,perhaps,\n"
        "Bad label,fraud:phishing,banking,,,,yellow\n"
        ",,,,,,\n"
        "Too many cells,fraud:phishing,banking,,,,green,extra\n"
        "Fractional users,fraud:phishing,banking,1.5,,,\n"
    )
    mapping = {
        "title": "Summary",
        "tlp": "TLP",
        "facts": {**SIMPLE["facts"], "detected_at": "When", "malicious": "Malicious"},  # type: ignore[dict-item]
    }
    found = read_text(text, mapping)
    assert [str(r) for r in found if isinstance(r, Rejected)] == [
        "incidents.csv:row 3: facts.sector: column 'Sector': 'energie' is not one of energy, transport, banking, "
        "financial, health, drinking-water, waste-water, digital-infrastructure, ict-services, public-administration, "
        "space, courier, waste-management, chemical, food, manufacturing, digital-providers, research, other",
        "incidents.csv:row 4: facts.users_affected: column 'Users': 'many' is not a number",
        "incidents.csv:row 5: facts.classification: column 'Type': expected <class>:<type>, e.g. availability:ddos",
        "incidents.csv:row 6: facts.detected_at: column 'When': '29/11/2026' is not a date-time in ISO 8601 "
        "(e.g. 2026-11-29T14:30:00+05:00)",
        "incidents.csv:row 7: facts.malicious: column 'Malicious': 'perhaps' is not yes or no (true/false, 1/0)",
        "incidents.csv:row 8: tlp: column 'TLP': 'yellow' is not one of TLP:CLEAR, TLP:GREEN, TLP:AMBER, "
        "TLP:AMBER+STRICT, TLP:RED",
        "incidents.csv:row 10: (record): 8 cells but 7 columns: is a ',' inside an unquoted cell?",
        "incidents.csv:row 11: facts.users_affected: column 'Users': '1.5' is not a whole number",
    ]
    [good] = [r for r in found if isinstance(r, IncidentRecord)]
    assert good.facts == {
        "classification": "availability:ddos",
        "sector": "energy",
        "users_affected": 1200,
        "detected_at": "2026-11-29T06:10:00+05:00",
        "malicious": True,
    }
    assert good.tlp == "TLP:AMBER"


def test_it_rejects_a_file_without_the_columns_the_mapping_names() -> None:
    found = read_text("Summary,Kind,Sector\nx,fraud:phishing,banking\n", SIMPLE)
    assert [str(r) for r in found] == [
        "incidents.csv:row 1: Type, Users: no such column (the columns are: Summary, Kind, Sector)"
    ]
    assert [str(r) for r in read_text("", SIMPLE)] == ["incidents.csv: (record): empty file: no header row"]


def test_it_fills_templates_converts_values_and_reads_local_times() -> None:
    mapping = {
        "delimiter": ";",
        "timezone": "+05:00",
        "title": "{Kind} at {Org}",
        "description": "{Notes} (reported by {Contact})",
        "tlp": "TLP:GREEN",
        "facts": {
            "classification": "Kind",
            "sector": "Sector",
            "outage_minutes": "Outage",
            "population_affected_share": "Share",
            "occurred_at": "Started",
            "sectors_affected": "Also hit",
        },
        "values": {"classification": {"DDoS": "availability:ddos"}, "sectors_affected": {"Power": "energy"}},
        "dates": {"occurred_at": "%d.%m.%Y %H:%M"},
        "observables": {"IPs": "ipv4-addr"},
    }
    text = (
        "Kind;Org;Sector;Outage;Share;Started;Also hit;IPs;Notes;Contact\n"
        'ddos;Aral Energy;Drinking water;90;2,5%;29.11.2026 06:10;"Power; transport";"192.0.2.1; 192.0.2.2";Flood;SOC\n'
    )
    [record] = read_text(text, mapping)
    assert record.title == "ddos at Aral Energy"
    assert record.description == "Flood (reported by SOC)"
    assert record.tlp == "TLP:GREEN"
    assert record.facts == {
        "classification": "availability:ddos",  # the values table is read case-insensitively
        "sector": "drinking-water",  # a plain-language spelling of an enumeration value
        "outage_minutes": 90,
        "population_affected_share": pytest.approx(0.025),
        "occurred_at": "2026-11-29T06:10:00+05:00",
        "sectors_affected": ["energy", "transport"],
    }
    assert [o.value for o in record.observables] == ["192.0.2.1", "192.0.2.2"]
    assert record.source_id.startswith("row-")  # no id column: a digest of the row, the same on every import
    assert read_text(text, mapping)[0].source_id == record.source_id


# ---------------------------------------------------------------- export


def full_record(**changes: Any) -> IncidentRecord:
    record = IncidentRecord(
        title="Ransomware at Aral Energy",
        facts={
            "classification": "information-content-security:unauthorised-information-modification",
            "malicious": True,
            "sector": "energy",
            "users_affected": 240000,
            "population_affected_share": 0.12,
            "countries_affected": ["KZ", "TJ"],
            "detected_at": "2026-10-17T06:40:00+05:00",
        },
        description="Dispatch encrypted.\nManual operation for 9 hours.",
        reference="NC-2026-000417",
        tlp="TLP:AMBER+STRICT",
        pap="PAP:RED",
        status="investigating",
        created=dt.datetime(2026, 10, 17, 7, 5, tzinfo=TASHKENT),
        reporter="Aral Energy SOC",
        assessments=(Assessed("osce-reference", "1.0", 4, "Severe", 71.25, 5),),
        observables=(
            Observable("ipv4-addr", "198.51.100.23"),
            Observable("ipv6-addr", "2001:db8::17"),
            Observable("file:hashes.SHA-256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
            Observable("file:name", "svchost_upd.exe"),
            Observable("url", "https://decrypt-support.example/pay?id=7"),
        ),
    )
    return dataclasses.replace(record, **changes)


def write_text(records: list[IncidentRecord]) -> str:
    out = io.StringIO()
    tabular.write(records, out)
    return out.getvalue()


def test_it_exports_one_row_per_incident_with_its_level_and_every_fact() -> None:
    rows = list(csv.DictReader(io.StringIO(write_text([full_record(), IncidentRecord(title="Unassessed")]))))
    first = rows[0]
    assert first["reference"] == "NC-2026-000417"
    assert (first["level"], first["level_rank"], first["level_score"]) == ("Severe", "4", "71.25")
    assert (first["scale"], first["scale_version"]) == ("osce-reference", "1.0")
    assert first["countries_affected"] == "KZ;TJ" and first["malicious"] == "true"
    assert first["users_affected"] == "240000" and first["outage_minutes"] == ""
    assert first["observables"].startswith("ipv4-addr:198.51.100.23;ipv6-addr:2001:db8::17;file:hashes.SHA-256:")
    assert first["created"] == "2026-10-17T07:05:00+05:00"
    assert rows[1]["title"] == "Unassessed" and rows[1]["level"] == ""


def test_it_reads_back_what_it_exports() -> None:
    record = full_record()
    [back] = read_text(write_text([record]), tabular.export_mapping())
    assert back.facts == record.facts
    assert (back.title, back.description, back.tlp, back.pap, back.status) == (
        record.title,
        record.description,
        record.tlp,
        record.pap,
        record.status,
    )
    assert (back.source_id, back.reporter, back.created) == (record.reference, record.reporter, record.created)
    assert back.observables == record.observables


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(fact_records())
def test_it_reads_back_any_facts_it_exports(facts: dict[str, Any]) -> None:
    [back] = read_text(write_text([full_record(facts=facts)]), tabular.export_mapping())
    assert isinstance(back, IncidentRecord), back
    assert back.facts == validate_facts(facts)


def test_it_defuses_cells_a_spreadsheet_would_run_as_formulas() -> None:
    text = write_text([full_record(title='=HYPERLINK("http://evil.example","click")', reporter="@SUM(A1)")])
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["title"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["reporter"] == "'@SUM(A1)"


def test_it_imports_csv_files_through_the_import_path() -> None:
    items = [
        item for _, item in read_files("csv", [DATA], mapping={"title": "Summary", "id": "Ticket", "delimiter": ";"})
    ]
    assert [r.source_id for r in items if isinstance(r, IncidentRecord)] == [
        "INC-2026-0412",
        "INC-2026-0413",
        "INC-2026-0414",
        "INC-2026-0415",
    ]
