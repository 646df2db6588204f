"""Small source records for the import tests, written by hand in each format's own shape."""

from __future__ import annotations

import copy
from typing import Any

VERIS_RECORD: dict[str, Any] = {
    "schema_version": "1.3.4",
    "incident_id": "5C8B3C1E-0F6A-4F7B-9A1D-0A1B2C3D4E5F",
    "security_incident": "Confirmed",
    "confidence": "High",
    "summary": "Ransomware encrypted the hospital's patient records server; operations fell back to paper for two days.",
    "reference": "https://example.org/news/hospital-ransomware",
    "source_id": "vcdb",
    "discovery_method": {"internal": {"variety": ["Reported by employee"]}},
    "action": {"malware": {"variety": ["Ransomware"], "vector": ["Email attachment"]}},
    "actor": {"external": {"variety": ["Organized crime"], "motive": ["Financial"], "country": ["Unknown"]}},
    "asset": {"assets": [{"variety": "S - Database"}], "cloud": ["Unknown"]},
    "attribute": {
        "availability": {"variety": ["Loss"], "duration": {"unit": "Days", "value": 2}},
        "integrity": {"variety": ["Software installation"]},
    },
    "timeline": {"incident": {"year": 2019, "month": 4, "day": 9}},
    "victim": {
        "victim_id": "General Hospital",
        "industry": "622110",
        "country": ["GB"],
        "employee_count": "1001 to 10000",
    },
    "plus": {"analysis_status": "Validated", "master_id": "5C8B3C1E-0F6A-4F7B-9A1D-0A1B2C3D4E5F"},
}


def veris_record(incident_id: str, **changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(VERIS_RECORD)
    record["incident_id"] = incident_id
    record.update(changes)
    return record


STIX_BUNDLE: dict[str, Any] = {
    "type": "bundle",
    "id": "bundle--6f2c2b0e-8f55-4b5e-9d1c-6a2a4c1c2b10",
    "objects": [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": "identity--0b8f7a4e-3d0a-4b7e-8c11-2e5a4d1f9c01",
            "created": "2026-11-02T08:00:00.000Z",
            "modified": "2026-11-02T08:00:00.000Z",
            "name": "Veskarian Cyber Defence Agency",
            "identity_class": "organization",
        },
        {
            "type": "incident",
            "spec_version": "2.1",
            "id": "incident--2d6f7c8e-1a2b-4c3d-9e8f-0a1b2c3d4e5f",
            "created": "2026-11-02T08:00:00.000Z",
            "modified": "2026-11-02T09:30:00.000Z",
            "created_by_ref": "identity--0b8f7a4e-3d0a-4b7e-8c11-2e5a4d1f9c01",
            "name": "Botnet command server in a hosting provider's range",
            "description": "Sinkhole data show hosts in the range talking to a known command server.",
            "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],
        },
        {
            "type": "ipv4-addr",
            "spec_version": "2.1",
            "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
            "value": "198.51.100.7",
        },
        {
            "type": "relationship",
            "spec_version": "2.1",
            "id": "relationship--7a9e1f3c-5b2d-4e6f-8a1b-2c3d4e5f6a7b",
            "created": "2026-11-02T08:00:00.000Z",
            "modified": "2026-11-02T08:00:00.000Z",
            "relationship_type": "related-to",
            "source_ref": "incident--2d6f7c8e-1a2b-4c3d-9e8f-0a1b2c3d4e5f",
            "target_ref": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
        },
    ],
}
