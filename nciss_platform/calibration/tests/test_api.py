"""The calibration API: drafts, publishing, versions, re-assessment and the what-if, with its 400s and 403s."""

from __future__ import annotations

from rest_framework.test import APIClient

import nciss
from nciss_platform.accounts.models import User
from nciss_platform.calibration import services, versions
from nciss_platform.calibration.models import ScaleVersion
from nciss_platform.incidents.models import Incident


def api_for(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_only_scale_owners_and_administrators_use_it(analysts: list[User], administrator: User) -> None:
    assert api_for(analysts[0]).get("/api/v1/calibration/drafts").status_code == 403
    assert api_for(analysts[0]).post("/api/v1/calibration/drafts", {"scale_id": "osce-reference"}).status_code == 403
    assert APIClient().get("/api/v1/calibration/versions").status_code in (401, 403)
    assert api_for(administrator).get("/api/v1/calibration/versions").status_code == 200


def test_a_draft_is_created_changed_and_reports_its_errors_by_path(owner: User) -> None:
    client = api_for(owner)
    created = client.post("/api/v1/calibration/drafts", {"scale_id": "osce-reference"}, format="json")
    assert created.status_code == 201 and created.json()["valid"] is True
    pk = created.json()["id"]
    broken = created.json()["source"].replace("weight: 6", "weight: -6", 1)
    changed = client.patch(f"/api/v1/calibration/drafts/{pk}", {"source": broken}, format="json")
    assert changed.status_code == 200
    body = changed.json()
    assert body["valid"] is False
    assert body["errors"][0]["path"] == "weighted.categories[0].weight"


def test_bad_input_is_a_400_with_field_messages(owner: User) -> None:
    client = api_for(owner)
    unknown = client.post("/api/v1/calibration/drafts", {"scale_id": "nowhere"}, format="json")
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["path"] == "scale_id"
    draft = services.create_draft(actor=owner, scale_id="osce-reference")
    missing = client.post(f"/api/v1/calibration/drafts/{draft.pk}/publish", {}, format="json")
    assert missing.status_code == 400 and missing.json()["errors"][0]["path"] == "change_note"
    same = client.post(f"/api/v1/calibration/drafts/{draft.pk}/publish", {"change_note": "x"}, format="json")
    assert same.status_code == 400
    assert same.json()["errors"] == [
        {"path": "version", "reason": "version '1.0' of osce-reference exists: give the draft a new one"}
    ]
    assert not ScaleVersion.objects.exists()


def test_publishing_what_if_and_reassessing(owner: User, history: list[Incident], lower_thresholds: str) -> None:
    client = api_for(owner)
    draft = services.create_draft(actor=owner, scale_id="osce-reference", source=lower_thresholds)
    current, new = versions.national_scale(), services.draft_scale(draft)

    what_if = client.get(f"/api/v1/calibration/drafts/{draft.pk}/what-if").json()

    expected: dict[str, list[str]] = {}
    for incident in history:
        key = f"{nciss.assess(current, incident.facts).rank},{nciss.assess(new, incident.facts).rank}"
        expected.setdefault(key, []).append(incident.reference)
    assert what_if["incidents"] == 3
    assert {k: sorted(v) for k, v in what_if["cells"].items()} == {k: sorted(v) for k, v in expected.items()}
    assert sum(map(sum, what_if["matrix"])) == 3
    assert client.get(f"/api/v1/calibration/drafts/{draft.pk}/what-if?period=week").status_code == 400

    published = client.post(
        f"/api/v1/calibration/drafts/{draft.pk}/publish", {"change_note": "Lower thresholds"}, format="json"
    )
    assert published.status_code == 201 and published.json()["version"] == "1.1-test"
    done = client.post(f"/api/v1/calibration/versions/{published.json()['id']}/reassess").json()
    assert done["assessed"] == 3
    moved = {r for key, refs in expected.items() if len(set(key.split(","))) == 2 for r in refs}
    assert {c["reference"] for c in done["changed"]} == moved
