"""Files of what was shared: a partner's download (page and API) and ``nciss export --partner``.

Every file export of shares goes through ``records_for`` (a user) or ``records_for_organisation``
(the command line); these tests check TLP and anonymity where the files come out.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.sharing.services import revoke_share, share_incident
from nciss_platform.sharing.tests.conftest import GRID_FACTS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_2fa")]

Api = Callable[[User | None], APIClient]


@pytest.fixture
def shared(reporter: User, analyst: User, grid_incident: Incident, partner: User, veskaria: Organisation) -> dict:
    """An anonymous AMBER share, a TLP:RED share named to ``partner``, and a withdrawn one, all to Veskaria."""
    share_incident(incident=grid_incident, actor=analyst, organisations=[veskaria])
    red = report(reporter, "Second intrusion", facts=dict(GRID_FACTS), tlp=TLP.RED, red_recipients=[analyst])
    share_incident(incident=red, actor=analyst, organisations=[veskaria], recipients=[partner])
    gone = report(reporter, "Withdrawn intrusion", facts=dict(GRID_FACTS))
    [withdrawn] = share_incident(incident=gone, actor=analyst, organisations=[veskaria])
    revoke_share(share=withdrawn, actor=analyst)
    return {"amber": grid_incident, "red": red, "withdrawn": gone}


def stix_incidents(body: bytes) -> dict[str, dict]:
    bundle = json.loads(body)
    return {o["name"]: o for o in bundle["objects"] if o["type"] == "incident"}


def test_it_gives_a_partner_a_stix_file_of_only_what_it_may_read_without_the_anonymous_reporter(
    shared: dict, partner: User, colleague: User
) -> None:
    mine = Client()
    mine.force_login(partner)
    response = mine.get("/export/?format=stix")

    assert response.status_code == 200
    assert set(stix_incidents(response.content)) == {
        "Intrusion into the substation control network",
        "Second intrusion",
    }
    assert b"Aralia Grid" not in response.content
    colleagues = Client()
    colleagues.force_login(colleague)
    assert set(stix_incidents(colleagues.get("/export/?format=stix").content)) == {
        "Intrusion into the substation control network"
    }, "TLP:RED only for the person named"


def test_it_gives_the_same_over_the_api_and_nothing_to_another_partner(
    api: Api, shared: dict, partner: User, ostmark_partner: User
) -> None:
    response = api(partner).get("/api/v1/exports?format=misp")
    assert response.status_code == 200
    assert b"Aralia Grid" not in response.content and b"Second intrusion" in response.content
    assert b"Withdrawn intrusion" not in response.content
    other = api(ostmark_partner).get("/api/v1/exports?format=stix")
    assert stix_incidents(other.content) == {}


def test_it_exports_for_a_partner_organisation_from_the_command_line_never_tlp_red(shared: dict, tmp_path) -> None:
    target = tmp_path / "veskaria.json"
    call_command("export", "--format", "stix", "--partner", "veskaria-cda", "-o", str(target), stderr=io.StringIO())

    body = target.read_bytes()
    assert set(stix_incidents(body)) == {"Intrusion into the substation control network"}
    assert b"Aralia Grid" not in body
