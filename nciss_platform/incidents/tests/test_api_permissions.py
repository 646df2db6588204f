"""Who may do what through the API: every role against every action, as the UI allows.

The incident belongs to the energy operator and was reported by its reporter. A reporter
of another organisation, and an administrator (who sees incidents as a member of the
CSIRT's own organisation does), cannot see it at all: for them it does not exist (404).
Every refusal leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.response import Response
from rest_framework.test import APIClient

from nciss_platform.accounts.models import User
from nciss_platform.incidents import services
from nciss_platform.incidents.models import Incident
from nciss_platform.incidents.tests.conftest import report

pytestmark = pytest.mark.usefixtures("without_2fa")

URL = "/api/v1/incidents"


@dataclass
class Scene:
    incident: Incident  # the energy operator's, reported by its reporter
    sibling: Incident  # another of the energy operator's, the target of merges and links


def _post(client: APIClient, path: str, body: dict[str, Any]) -> Response:
    return client.post(path, body, format="json")


ACTIONS: dict[str, Callable[[APIClient, Scene], Response]] = {
    "list": lambda c, s: c.get(URL),
    "retrieve": lambda c, s: c.get(f"{URL}/{s.incident.reference}"),
    "timeline": lambda c, s: c.get(f"{URL}/{s.incident.reference}/timeline"),
    "report": lambda c, s: _post(c, URL, {"title": "Phishing wave", "facts": {"classification": "fraud:phishing"}}),
    "update facts": lambda c, s: _post(
        c, f"{URL}/{s.incident.reference}/facts", {"changes": {"recoverability": "extended"}}
    ),
    "transition": lambda c, s: _post(c, f"{URL}/{s.incident.reference}/transition", {"to": "triaged"}),
    "assign": lambda c, s: _post(c, f"{URL}/{s.incident.reference}/assign", {"assignee": "analyst"}),
    "wait on reporter": lambda c, s: _post(c, f"{URL}/{s.incident.reference}/waiting", {"waiting": True}),
    "comment": lambda c, s: _post(c, f"{URL}/{s.incident.reference}/comments", {"body": "Logs attached."}),
    "attach": lambda c, s: c.post(
        f"{URL}/{s.incident.reference}/attachments", {"file": SimpleUploadedFile("scada.log", b"trip at 06:40")}
    ),
    "merge": lambda c, s: _post(c, f"{URL}/{s.incident.reference}/merge", {"into": s.sibling.reference}),
    "link": lambda c, s: _post(c, f"{URL}/{s.incident.reference}/links", {"other": s.sibling.reference}),
    "sharing": lambda c, s: _post(c, f"{URL}/{s.incident.reference}/sharing", {"tlp": "TLP:GREEN"}),
    "reporting step": lambda c, s: _post(
        c, f"{URL}/{s.incident.reference}/reporting", {"scale": "eu-nis2", "deadline": "early-warning"}
    ),
    "bulk": lambda c, s: _post(
        c, f"{URL}/bulk", {"references": [s.incident.reference], "action": "assign", "assignee": "analyst"}
    ),
}

ROLES = ["reporter", "ministry_reporter", "analyst", "coordinator", "administrator", "anonymous"]

# action: the status each role gets, in the order of ROLES.
MATRIX: dict[str, tuple[int, ...]] = {
    "list": (200, 200, 200, 200, 200, 401),
    "retrieve": (200, 404, 200, 200, 404, 401),
    "timeline": (200, 404, 200, 200, 404, 401),
    "report": (201, 201, 201, 201, 201, 401),
    "update facts": (200, 404, 200, 200, 404, 401),
    "transition": (403, 404, 200, 200, 404, 401),
    "assign": (403, 404, 200, 200, 404, 401),
    "wait on reporter": (403, 404, 200, 200, 404, 401),
    "comment": (201, 404, 201, 201, 404, 401),
    "attach": (201, 404, 201, 201, 404, 401),
    "merge": (403, 404, 200, 200, 404, 401),
    "link": (403, 404, 200, 200, 404, 401),
    "sharing": (200, 404, 200, 200, 404, 401),
    "reporting step": (200, 404, 200, 200, 404, 401),
    # Incidents the caller cannot see are unknown references in a bulk request.
    "bulk": (403, 400, 200, 200, 400, 401),
}

CASES = [(action, role, MATRIX[action][i]) for action in ACTIONS for i, role in enumerate(ROLES)]


@pytest.fixture
def scene(reporter: User) -> Scene:
    return Scene(report(reporter), report(reporter, title="Second substation dark"))


def test_it_has_an_expectation_for_every_action() -> None:
    assert set(MATRIX) == set(ACTIONS)


@pytest.mark.parametrize(("action", "role", "expected"), CASES, ids=[f"{a}-{r}" for a, r, _ in CASES])
def test_it_allows_each_role_exactly_what_the_ui_allows(
    action: str, role: str, expected: int, scene: Scene, personas: dict[str, User], api: Any, unchanged: Any
) -> None:
    client = api(personas.get(role))
    if expected >= 400:
        with unchanged():
            response = ACTIONS[action](client, scene)
        body = response.json()
        assert set(body) == {"error", "errors"} and body["error"]
    else:
        response = ACTIONS[action](client, scene)
    assert response.status_code == expected, response.content


def test_it_asks_an_anonymous_caller_for_a_token(scene: Scene, api: Any) -> None:
    response = api(None).get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    ("role", "seen"),
    [
        ("reporter", 2),
        ("ministry_reporter", 0),
        ("analyst", 2),
        ("coordinator", 2),
        ("administrator", 0),
    ],
)
def test_it_lists_only_what_each_role_may_see(
    role: str, seen: int, scene: Scene, personas: dict[str, User], api: Any
) -> None:
    body = api(personas[role]).get(URL).json()
    assert body["count"] == seen


def test_it_shows_an_incident_to_a_reporter_of_an_affected_organisation(
    scene: Scene, analyst: User, ministry_reporter: User, energy: Any, ministry: Any, api: Any
) -> None:
    shared = report(analyst, reporting_organisation=energy, affected_organisations=[energy, ministry])
    response = api(ministry_reporter).get(f"{URL}/{shared.reference}")
    assert response.status_code == 200
    assert [o["slug"] for o in response.json()["affected_organisations"]] == ["aralia-grid", "ministry-of-finance"]


def test_it_lets_only_a_coordinator_reopen_a_closed_incident(
    scene: Scene, analyst: User, coordinator: User, api: Any, unchanged: Any
) -> None:
    for to in ("triaged", "resolved", "closed"):
        services.change_status(incident=scene.incident, actor=analyst, to=to)
    reopen = {"to": "investigating"}
    path = f"{URL}/{scene.incident.reference}/transition"
    with unchanged():
        refused = api(analyst).post(path, reopen, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {"path": "to", "reason": "cannot go from closed to investigating (allowed: none)"}
    ]
    assert api(coordinator).post(path, reopen, format="json").json()["status"] == "investigating"


def test_it_lets_only_the_csirt_add_to_a_closed_incident(
    scene: Scene, reporter: User, analyst: User, api: Any, unchanged: Any
) -> None:
    for to in ("triaged", "resolved", "closed"):
        services.change_status(incident=scene.incident, actor=analyst, to=to)
    path = f"{URL}/{scene.incident.reference}/comments"
    with unchanged():
        refused = api(reporter).post(path, {"body": "One more thing"}, format="json")
    assert refused.status_code == 403
    assert "only the CSIRT can add to it now" in refused.json()["error"]
    assert api(analyst).post(path, {"body": "Closing note"}, format="json").status_code == 201


def test_it_lets_only_the_original_reporter_change_the_sharing_on_the_reporting_side(
    scene: Scene, energy: Any, api: Any, unchanged: Any
) -> None:
    colleague = User.objects.create_user("grid-colleague", role="reporter", organisation=energy)
    with unchanged():
        refused = api(colleague).post(f"{URL}/{scene.incident.reference}/sharing", {"tlp": "TLP:CLEAR"}, format="json")
    assert refused.status_code == 403


def test_it_lets_staff_report_for_another_organisation_but_not_a_reporter(
    reporter: User, analyst: User, ministry: Any, api: Any, unchanged: Any
) -> None:
    body = {"title": "Treasury portal defaced", "reporting_organisation": "ministry-of-finance"}
    with unchanged():
        refused = api(reporter).post(URL, body, format="json")
    assert refused.status_code == 403
    created = api(analyst).post(URL, body, format="json")
    assert created.status_code == 201
    assert created.json()["reporting_organisation"] == {"slug": "ministry-of-finance", "name": "Ministry of Finance"}
