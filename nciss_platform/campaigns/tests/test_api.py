"""The campaigns API: CSIRT staff only, member incidents as the caller may see them, the one error shape."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.campaigns.models import Campaign
from nciss_platform.campaigns.services import correlate_campaigns
from nciss_platform.campaigns.tests.conftest import Hit, hours
from nciss_platform.incidents.models import TLP, Incident

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_2fa")]
Api = Callable[[User | None], APIClient]


@pytest.fixture
def campaign(
    organisations: Callable[..., list[Organisation]], hit: Hit, reporter: User, energy: Organisation
) -> Campaign:
    for n, organisation in enumerate(organisations(3)):
        hit(organisation, n)
    hit(energy, 4, actor=reporter, tlp=TLP.RED)
    correlate_campaigns(now=hours(5))
    return Campaign.objects.get()


def test_staff_list_campaigns_with_their_level_named(campaign: Campaign, api: Api, coordinator: User) -> None:
    response = api(coordinator).get("/api/v1/campaigns", {"lang": "ru", "status": "open"})
    assert response.status_code == 200
    (item,) = response.json()
    assert item["reference"] == campaign.reference and item["organisations_affected"] == 4
    assert item["level"]["rank"] == campaign.level and item["level"]["colour"].startswith("#")
    assert item["url"] == f"/campaigns/{campaign.reference}/"
    assert api(coordinator).get("/api/v1/campaigns", {"status": "closed"}).json() == []


def test_the_detail_lists_only_the_incidents_the_caller_may_see(campaign: Campaign, api: Api, analyst: User) -> None:
    body = api(analyst).get(f"/api/v1/campaigns/{campaign.reference}").json()
    red = Incident.objects.get(tlp=TLP.RED)
    visible = set(campaign.incidents.exclude(pk=red.pk).values_list("reference", flat=True))
    assert set(body["incidents"]) == visible and red.reference not in body["incidents"]
    assert body["facts"]["organisations_affected"] == 4
    assert body["assessment"]["level"]["rank"] == campaign.level
    red.red_recipients.add(analyst)
    assert red.reference in api(analyst).get(f"/api/v1/campaigns/{campaign.reference}").json()["incidents"]


@pytest.mark.parametrize("persona", ["reporter", "administrator", "partner"])
def test_anyone_but_csirt_staff_is_refused(
    campaign: Campaign, api: Api, personas: dict[str, User], partner: User, persona: str
) -> None:
    client = api(partner if persona == "partner" else personas[persona])
    for url in ("/api/v1/campaigns", f"/api/v1/campaigns/{campaign.reference}"):
        response = client.get(url)
        assert response.status_code == 403
        assert set(response.json()) == {"error", "errors"}


def test_anonymous_callers_must_sign_in(campaign: Campaign, api: Api) -> None:
    assert api(None).get("/api/v1/campaigns").status_code == 401


def test_bad_input_and_unknown_references(campaign: Campaign, api: Api, analyst: User) -> None:
    bad = api(analyst).get("/api/v1/campaigns", {"status": "sleeping"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "status"
    assert api(analyst).get("/api/v1/campaigns", {"lang": "xx"}).status_code == 400
    missing = api(analyst).get("/api/v1/campaigns/CMP-2026-9999")
    assert missing.status_code == 404 and "CMP-2026-9999" in missing.json()["error"]


def test_the_schema_documents_both_endpoints_without_warnings(tmp_path: Path) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    schema = yaml.safe_load((tmp_path / "schema.yaml").read_text())
    assert {"/api/v1/campaigns", "/api/v1/campaigns/{reference}"} <= set(schema["paths"])
    responses = schema["paths"]["/api/v1/campaigns/{reference}"]["get"]["responses"]
    assert {"200", "401", "403", "404"} <= set(responses)
    assert schema["paths"]["/api/v1/campaigns"]["get"]["tags"] == ["campaigns"]
