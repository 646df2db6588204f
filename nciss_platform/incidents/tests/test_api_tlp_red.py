"""TLP:RED: only the named recipients and the reporter see the incident, and every read is audited.

To everyone else it does not exist: not in lists or searches, a 404 like any unknown
reference, and never named in another incident's links, duplicates or timeline.
"""

from __future__ import annotations

from typing import Any

import pytest

from nciss_platform.accounts.models import User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.audit.services import verify
from nciss_platform.incidents import services
from nciss_platform.incidents.models import Incident
from nciss_platform.incidents.tests.conftest import report

pytestmark = pytest.mark.usefixtures("without_2fa")

URL = "/api/v1/incidents"
NOWHERE = "NCISS-2099-999999"
READS = ["", "/comments", "/timeline", "/assessments", "/attachments"]


@pytest.fixture
def red(reporter: User, analyst: User) -> Incident:
    """The energy operator's TLP:RED incident, shared with one analyst."""
    return report(reporter, title="Insider at the dispatch centre", tlp="TLP:RED", red_recipients=[analyst])


@pytest.fixture
def outsiders(coordinator: User, ministry_reporter: User, administrator: User, energy: Any, csirt: Any) -> list[User]:
    """Everyone who may not see the TLP:RED incident, the reporter's own colleague and the coordinator included."""
    return [
        User.objects.create_user("analyst-2", role="analyst", organisation=csirt),
        coordinator,
        User.objects.create_user("grid-colleague", role="reporter", organisation=energy),
        ministry_reporter,
        administrator,
    ]


def test_it_lists_a_red_incident_only_to_its_recipients_and_reporter(
    red: Incident, reporter: User, analyst: User, outsiders: list[User], api: Any
) -> None:
    for user in (reporter, analyst):
        assert [i["reference"] for i in api(user).get(URL).json()["results"]] == [red.reference]
    for user in outsiders:
        client = api(user)
        assert client.get(URL).json()["count"] == 0, user.username
        assert client.get(URL, {"q": red.reference}).json()["count"] == 0
        assert client.get(URL, {"q": "dispatch"}).json()["count"] == 0


@pytest.mark.parametrize("suffix", READS)
def test_it_answers_outsiders_as_if_the_red_incident_did_not_exist(
    suffix: str, red: Incident, outsiders: list[User], api: Any
) -> None:
    for user in outsiders:
        client = api(user)
        hidden = client.get(f"{URL}/{red.reference}{suffix}")
        absent = client.get(f"{URL}/{NOWHERE}{suffix}")
        assert hidden.status_code == absent.status_code == 404
        assert hidden.json()["errors"] == [{"path": "body", "reason": f"no incident {red.reference}"}]
        assert absent.json()["errors"] == [{"path": "body", "reason": f"no incident {NOWHERE}"}]


@pytest.mark.parametrize("suffix", ["/comments", "/facts", "/transition", "/assign", "/merge", "/sharing"])
def test_it_refuses_outsiders_every_action_on_a_red_incident_without_revealing_it(
    suffix: str, red: Incident, outsiders: list[User], api: Any, unchanged: Any
) -> None:
    bodies = {
        "/comments": {"body": "?"},
        "/facts": {"changes": {"fatalities": 1}},
        "/transition": {"to": "triaged"},
        "/assign": {"assignee": "coordinator"},
        "/merge": {"into": NOWHERE},
        "/sharing": {"tlp": "TLP:CLEAR"},
    }
    for user in outsiders:
        with unchanged():
            response = api(user).post(f"{URL}/{red.reference}{suffix}", bodies[suffix], format="json")
        assert response.status_code == 404
        assert response.json()["error"] == f"no incident {red.reference}"


def test_it_shows_the_comments_of_a_red_incident_to_its_recipients(
    red: Incident, reporter: User, analyst: User, api: Any
) -> None:
    api(analyst).post(f"{URL}/{red.reference}/comments", {"body": "Badge logs pulled."}, format="json")
    comments = api(reporter).get(f"{URL}/{red.reference}/comments").json()
    assert [c["body"] for c in comments] == ["Badge logs pulled."]


@pytest.mark.parametrize("suffix", READS)
def test_it_records_every_read_of_a_red_incident_in_the_audit_log(
    suffix: str, red: Incident, analyst: User, api: Any
) -> None:
    before = AuditEvent.objects.filter(action="incident.read").count()
    assert api(analyst).get(f"{URL}/{red.reference}{suffix}").status_code == 200
    reads = AuditEvent.objects.filter(action="incident.read").order_by("pk")
    assert reads.count() == before + 1
    assert reads.last().actor == "analyst"
    assert reads.last().data == {"reference": red.reference}
    assert verify().ok


def test_it_does_not_audit_reads_of_other_incidents(reporter: User, analyst: User, api: Any) -> None:
    amber = report(reporter)
    api(analyst).get(f"{URL}/{amber.reference}")
    assert not AuditEvent.objects.filter(action="incident.read").exists()


def test_it_never_names_a_red_incident_in_another_incidents_links_or_timeline(
    red: Incident, reporter: User, analyst: User, coordinator: User, api: Any
) -> None:
    amber = report(reporter, title="Dispatch centre badge reader offline")
    duplicate = report(reporter, title="Badge reader again")
    services.link_related(incident=amber, actor=analyst, other=red)
    services.merge_duplicate(incident=duplicate, actor=analyst, into=red)
    client = api(coordinator)
    for reference in (amber.reference, duplicate.reference):
        shown = client.get(f"{URL}/{reference}").content + client.get(f"{URL}/{reference}/timeline").content
        assert red.reference.encode() not in shown
    assert client.get(f"{URL}/{duplicate.reference}").json()["duplicate_of"] is None
    timeline = client.get(f"{URL}/{duplicate.reference}/timeline").json()
    assert timeline[-1]["kind"] == "status" and timeline[-1]["data"] == {"from": "reported", "to": "duplicate"}
    recipient = api(analyst)
    assert [r["reference"] for r in recipient.get(f"{URL}/{amber.reference}").json()["related"]] == [red.reference]
    assert recipient.get(f"{URL}/{duplicate.reference}").json()["duplicate_of"]["reference"] == red.reference


def test_it_refuses_to_merge_or_link_into_a_red_incident_as_if_it_did_not_exist(
    red: Incident, reporter: User, coordinator: User, api: Any, unchanged: Any
) -> None:
    amber = report(reporter)
    client = api(coordinator)
    for action, field in (("merge", "into"), ("links", "other")):
        with unchanged():
            hidden = client.post(f"{URL}/{amber.reference}/{action}", {field: red.reference}, format="json")
            absent = client.post(f"{URL}/{amber.reference}/{action}", {field: NOWHERE}, format="json")
        assert hidden.status_code == absent.status_code == 400
        assert hidden.json()["errors"] == [{"path": field, "reason": f"no incident {red.reference}"}]
        assert absent.json()["errors"] == [{"path": field, "reason": f"no incident {NOWHERE}"}]


def test_it_treats_a_red_reference_in_a_bulk_request_as_unknown(
    red: Incident, coordinator: User, api: Any, unchanged: Any
) -> None:
    request = {"references": [red.reference], "action": "assign", "assignee": "coordinator"}
    with unchanged():
        response = api(coordinator).post(f"{URL}/bulk", request, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "references[0]", "reason": f"no incident {red.reference}"}]


def test_it_hides_an_incident_from_the_moment_it_becomes_red(
    reporter: User, analyst: User, coordinator: User, energy: Any, api: Any
) -> None:
    incident = report(reporter)
    colleague = User.objects.create_user("grid-colleague", role="reporter", organisation=energy)
    assert api(coordinator).get(f"{URL}/{incident.reference}").status_code == 200
    response = api(analyst).post(
        f"{URL}/{incident.reference}/sharing", {"tlp": "TLP:RED", "red_recipients": ["grid-colleague"]}, format="json"
    )
    assert response.json()["red_recipients"] == ["analyst", "grid-colleague", "grid-reporter"]
    assert api(coordinator).get(f"{URL}/{incident.reference}").status_code == 404
    assert api(colleague).get(f"{URL}/{incident.reference}").status_code == 200
