"""The sharing API: partners read /api/v1/shared; the CSIRT shares and withdraws under /incidents/{ref}/shares."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

import nciss
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.sharing.models import PartnerGroup, Share
from nciss_platform.sharing.services import share_incident
from nciss_platform.sharing.tests.conftest import GRID_FACTS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_2fa")]

Api = Callable[[User | None], APIClient]


def test_it_lists_for_a_partner_only_what_was_shared_with_it_on_its_scale(
    api: Api, grid_incident: Incident, analyst: User, partner: User, ostmark_partner: User, veskaria: Organisation
) -> None:
    [share] = share_incident(incident=grid_incident, actor=analyst, organisations=[veskaria])

    listed = api(partner).get("/api/v1/shared")
    assert listed.status_code == 200
    [item] = listed.json()
    cisa = nciss.assess(nciss.load_scale("cisa-nciss"), grid_incident.facts)
    assert (item["id"], item["record"]["reference"], item["tlp"]) == (share.pk, grid_incident.reference, "TLP:AMBER")
    level = item["level"]
    assert (level["scale"], level["rank"], level["basis"]) == ("cisa-nciss", cisa.rank, "facts")
    assert level["name"] == "Высокий" and level["score"] == pytest.approx(cisa.score)  # the user reads Russian
    assert item["national_level"]["scale"] == "osce-reference"
    assert api(partner).get("/api/v1/shared?lang=en").json()[0]["level"]["name"] == "High"

    assert api(ostmark_partner).get("/api/v1/shared").json() == []
    assert api(ostmark_partner).get(f"/api/v1/shared/{share.pk}").status_code == 404
    assert api(partner).get(f"/api/v1/shared/{share.pk}").json()["stix_id"] == share.stix_id


def test_it_names_the_missing_facts_of_a_crosswalked_level(
    api: Api, grid_incident: Incident, analyst: User, ostmark_partner: User, ostmark: Organisation
) -> None:
    [share] = share_incident(incident=grid_incident, actor=analyst, organisations=[ostmark])
    level = api(ostmark_partner).get(f"/api/v1/shared/{share.pk}").json()["level"]
    assert level["scale"] == "uk-ncsc" and level["basis"] == "crosswalk"
    assert {"fact": "fatalities", "label": "Deaths"} in level["missing"]


def test_it_gives_a_tlp_red_share_only_to_the_person_named(
    api: Api, reporter: User, analyst: User, partner: User, colleague: User, veskaria: Organisation
) -> None:
    red = report(reporter, facts=dict(GRID_FACTS), tlp=TLP.RED, red_recipients=[analyst])
    [share] = share_incident(incident=red, actor=analyst, organisations=[veskaria], recipients=[partner])

    assert [i["id"] for i in api(partner).get("/api/v1/shared").json()] == [share.pk]
    assert api(colleague).get("/api/v1/shared").json() == []
    assert api(colleague).get(f"/api/v1/shared/{share.pk}").status_code == 404


def test_it_never_names_an_anonymous_reporter_in_the_json(
    api: Api, grid_incident: Incident, analyst: User, partner: User, veskaria: Organisation
) -> None:
    [share] = share_incident(incident=grid_incident, actor=analyst, organisations=[veskaria])
    for url in ("/api/v1/shared", f"/api/v1/shared/{share.pk}"):
        body = api(partner).get(url).content.decode()
        assert "Aralia Grid" not in body and "aralia-grid" not in body


def test_it_shares_through_the_api_for_the_csirt(
    api: Api, grid_incident: Incident, analyst: User, partner: User, network: PartnerGroup
) -> None:
    response = api(analyst).post(
        f"/api/v1/incidents/{grid_incident.reference}/shares",
        {"group": "csirt-network", "title": "Intrusion at a transmission operator"},
        format="json",
    )

    assert response.status_code == 201
    created = response.json()
    assert sorted(s["organisation"] for s in created) == ["ostmark-ncc", "veskaria-cda"]
    assert {s["group"] for s in created} == {"csirt-network"} and {s["shared_by"] for s in created} == {"analyst"}
    by_org = {s["organisation"]: s for s in created}
    assert by_org["ostmark-ncc"]["level"]["scale"] == "uk-ncsc"
    assert by_org["veskaria-cda"]["record"]["title"] == "Intrusion at a transmission operator"
    listed = api(analyst).get(f"/api/v1/incidents/{grid_incident.reference}/shares").json()
    assert sorted(s["id"] for s in listed) == sorted(s["id"] for s in created)
    assert AuditEvent.objects.filter(action="incident.shared").count() == 1


def test_it_answers_bad_input_with_the_api_error_shape_and_shares_nothing(
    api: Api, reporter: User, analyst: User, grid_incident: Incident, veskaria: Organisation, ministry: Organisation
) -> None:
    url = f"/api/v1/incidents/{grid_incident.reference}/shares"
    refused = api(analyst).post(url, {"organisations": ["ministry-of-finance"]}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "organisations: Ministry of Finance is not a partner organisation abroad",
        "errors": [{"path": "organisations", "reason": "Ministry of Finance is not a partner organisation abroad"}],
    }
    unknown = api(analyst).post(url, {"organisations": ["nowhere"]}, format="json")
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["path"].startswith("organisations")
    anonymous = api(analyst).post(url, {"organisations": ["veskaria-cda"], "identify_reporter": True}, format="json")
    assert anonymous.status_code == 400
    assert anonymous.json()["errors"] == [
        {"path": "identify_reporter", "reason": "the reporting organisation has not agreed to be named abroad"}
    ]
    red = report(reporter, facts=dict(GRID_FACTS), tlp=TLP.RED, red_recipients=[analyst])
    unnamed = api(analyst).post(
        f"/api/v1/incidents/{red.reference}/shares", {"organisations": ["veskaria-cda"]}, format="json"
    )
    assert unnamed.status_code == 400 and unnamed.json()["errors"][0]["path"] == "recipients"
    assert not Share.objects.exists()


def test_it_lets_only_the_csirt_share_list_and_revoke_shares(
    api: Api, grid_incident: Incident, reporter: User, ministry_reporter: User, partner: User, analyst: User
) -> None:
    url = f"/api/v1/incidents/{grid_incident.reference}/shares"
    for user in (reporter, partner):
        assert api(user).post(url, {"organisations": ["veskaria-cda"]}, format="json").status_code in (403, 404)
    forbidden = api(reporter).post(url, {"organisations": ["veskaria-cda"]}, format="json")
    assert forbidden.status_code == 403 and forbidden.json()["errors"][0]["path"] == "body"
    assert api(reporter).get(url).status_code == 403
    assert api(ministry_reporter).post(url, {}, format="json").status_code == 404, "an incident it cannot see"
    assert api(None).get(url).status_code == 401
    [share] = share_incident(incident=grid_incident, actor=analyst, organisations=[partner.organisation])
    assert api(reporter).delete(f"{url}/{share.pk}").status_code == 403
    assert Share.objects.get().revoked_at is None


def test_it_revokes_through_the_api(
    api: Api, grid_incident: Incident, analyst: User, partner: User, veskaria: Organisation
) -> None:
    [share] = share_incident(incident=grid_incident, actor=analyst, organisations=[veskaria])
    url = f"/api/v1/incidents/{grid_incident.reference}/shares/{share.pk}"

    revoked = api(analyst).delete(url)

    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert api(partner).get("/api/v1/shared").json() == []
    assert api(partner).get(f"/api/v1/shared/{share.pk}").status_code == 404
    again = api(analyst).delete(url)
    assert again.status_code == 400 and again.json()["errors"] == [{"path": "share", "reason": "already revoked"}]


def test_it_documents_the_sharing_endpoints_without_warnings(tmp_path: Path) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    paths = yaml.safe_load((tmp_path / "schema.yaml").read_text())["paths"]
    operations = {
        (path, method): op["operationId"]
        for path, ops in paths.items()
        if path.startswith("/api/v1/shared") or path.endswith("/shares") or "/shares/" in path
        for method, op in ops.items()
    }
    assert operations == {
        ("/api/v1/shared", "get"): "list_shared_incidents",
        ("/api/v1/shared/{id}", "get"): "get_shared_incident",
        ("/api/v1/incidents/{reference}/shares", "get"): "list_incident_shares",
        ("/api/v1/incidents/{reference}/shares", "post"): "share_incident",
        ("/api/v1/incidents/{reference}/shares/{id}", "delete"): "revoke_incident_share",
    }
    schema = json.dumps(paths["/api/v1/incidents/{reference}/shares"]["post"])
    assert '"400"' in schema and '"403"' in schema and '"404"' in schema
