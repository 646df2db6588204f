"""Who may open which incident page and take which action there: the UI's role x page/action matrix.

Anonymous people are sent to sign in; a page or action a role may not use is a 403; an incident
the user may not see is a 404, whether it exists or not, so a TLP:RED incident is never revealed.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from nciss_platform.accounts.models import User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.incidents.views import answers_from_facts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_2fa")]


def signed_in(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def incident(reporter: User) -> Incident:
    return report(reporter, title="Grid control room dark")


@pytest.fixture
def other(reporter: User) -> Incident:
    return report(reporter, title="Substation telemetry lost")


# ---------------------------------------------------------------- pages

PAGES = ["home", "report", "list", "detail", "acknowledgement", "queue", "overview"]

# What each persona gets on each page (for home: where it is sent).
EXPECTED = {
    "reporter": {
        "home": "/incidents/",
        "report": 200,
        "list": 200,
        "detail": 200,
        "acknowledgement": 200,
        "queue": 403,
        "overview": 403,
    },
    "ministry_reporter": {
        "home": "/incidents/",
        "report": 200,
        "list": 200,
        "detail": 404,
        "acknowledgement": 404,
        "queue": 403,
        "overview": 403,
    },
    "analyst": {
        "home": "/queue/",
        "report": 200,
        "list": 200,
        "detail": 200,
        "acknowledgement": 200,
        "queue": 200,
        "overview": 200,
    },
    "coordinator": {
        "home": "/overview/",
        "report": 200,
        "list": 200,
        "detail": 200,
        "acknowledgement": 200,
        "queue": 200,
        "overview": 200,
    },
    "administrator": {
        "home": "/",
        "report": 200,
        "list": 200,
        "detail": 404,
        "acknowledgement": 404,
        "queue": 403,
        "overview": 403,
    },
}


def url_of(page: str, incident: Incident) -> str:
    return {
        "home": "/home/",
        "report": "/report/",
        "list": "/incidents/",
        "detail": f"/incidents/{incident.reference}/",
        "acknowledgement": f"/incidents/{incident.reference}/acknowledgement/",
        "queue": "/queue/",
        "overview": "/overview/",
    }[page]


@pytest.mark.parametrize("persona", list(EXPECTED))
@pytest.mark.parametrize("page", PAGES)
def test_it_opens_each_page_only_to_the_roles_that_use_it(
    personas: dict[str, User], incident: Incident, persona: str, page: str
) -> None:
    response = signed_in(personas[persona]).get(url_of(page, incident))
    expected = EXPECTED[persona][page]
    if isinstance(expected, str):
        assert response.status_code == 302 and response["Location"] == expected
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_anonymous_people_to_sign_in_first(incident: Incident, page: str) -> None:
    response = Client().get(url_of(page, incident))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_it_keeps_the_pages_behind_the_second_factor_for_csirt_staff(analyst: User, settings: Any) -> None:
    settings.NCISS_REQUIRE_2FA = True
    response = signed_in(analyst).get("/queue/")
    assert response.status_code == 302 and "/accounts/two-factor" in response["Location"]


def test_it_shows_each_role_the_links_it_uses(personas: dict[str, User]) -> None:
    def nav(persona: str) -> str:
        page = signed_in(personas[persona]).get("/report/").content.decode()
        return page.split('<nav aria-label="Main">')[1].split("</nav>")[0]

    assert "My organisation's incidents" in nav("reporter") and "Queue" not in nav("reporter")
    assert "Report an incident" in nav("reporter")
    assert "Queue" in nav("analyst") and "Overview" in nav("analyst")
    assert "Queue" in nav("coordinator") and "Overview" in nav("coordinator")
    assert "Queue" not in nav("administrator")
    administrator_page = signed_in(personas["administrator"]).get("/report/").content.decode()
    assert 'href="/admin/"' in administrator_page


def test_it_refuses_the_report_form_to_a_user_of_no_organisation(db: None) -> None:
    loner = User.objects.create_user("loner", role="reporter")
    assert signed_in(loner).get("/report/").status_code == 403


# ---------------------------------------------------------------- actions on the incident page


def action_data(action: str, incident: Incident, other: Incident) -> dict[str, Any]:
    facts = {name: values for name, values in answers_from_facts(incident.facts).items()}
    return {
        "comment": {"body": "The logs are attached."},
        "facts": {**facts, "fatalities": "0"},
        "attachments": {"attachments": SimpleUploadedFile("log.txt", b"connection refused\n")},
        "status": {"to": "triaged"},
        "assign": {"assignee": "me"},
        "waiting": {"waiting": "1"},
        "merge": {"into": other.reference},
        "link": {"other": other.reference},
        "sharing": {"sharing-tlp": "TLP:GREEN", "sharing-pap": "PAP:GREEN"},
        "deadline": {"scale": "eu-nis2", "deadline": "early-warning"},
    }[action]


ACTIONS = ["comment", "facts", "attachments", "status", "assign", "waiting", "merge", "link", "sharing", "deadline"]
REPORTER_MAY = {"comment", "facts", "attachments", "sharing", "deadline"}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("persona", ["reporter", "ministry_reporter", "analyst", "coordinator", "administrator"])
def test_it_lets_each_role_take_only_its_actions(
    personas: dict[str, User], incident: Incident, other: Incident, persona: str, action: str
) -> None:
    response = signed_in(personas[persona]).post(
        f"/incidents/{incident.reference}/{action}", action_data(action, incident, other)
    )
    if persona in ("ministry_reporter", "administrator"):
        expected = 404  # not their organisation's incident: they cannot know it exists
    elif persona == "reporter":
        expected = 303 if action in REPORTER_MAY else 403
    else:
        expected = 303
    assert response.status_code == expected, response.content.decode()[:500]


def test_it_refuses_a_reporters_status_change_and_changes_nothing(
    reporter: User, incident: Incident, unchanged: Any
) -> None:
    with unchanged():
        assert signed_in(reporter).post(f"/incidents/{incident.reference}/status", {"to": "triaged"}).status_code == 403


def test_it_lets_only_the_original_reporter_of_an_organisation_change_the_sharing(
    energy: Any, incident: Incident
) -> None:
    colleague = User.objects.create_user("grid-colleague", role="reporter", organisation=energy)
    response = signed_in(colleague).post(
        f"/incidents/{incident.reference}/sharing", {"sharing-tlp": "TLP:CLEAR", "sharing-pap": "PAP:CLEAR"}
    )
    assert response.status_code == 403


def test_it_closes_a_closed_incident_to_the_reporters_new_information(
    reporter: User, analyst: User, incident: Incident
) -> None:
    staff = signed_in(analyst)
    for to in ("triaged", "resolved", "closed"):
        assert staff.post(f"/incidents/{incident.reference}/status", {"to": to}).status_code == 303
    client = signed_in(reporter)
    page = client.get(f"/incidents/{incident.reference}/").content.decode()
    assert "This incident is closed" in page and 'name="body"' not in page
    assert client.post(f"/incidents/{incident.reference}/comment", {"body": "one more thing"}).status_code == 403


def test_it_refuses_bulk_actions_to_reporters(reporter: User, incident: Incident) -> None:
    response = signed_in(reporter).post("/queue/bulk", {"action": "triage", "incident": [incident.reference]})
    assert response.status_code == 403


# ---------------------------------------------------------------- TLP:RED


@pytest.fixture
def red(reporter: User, analyst: User) -> Incident:
    return report(reporter, title="Board member's mailbox read", tlp=TLP.RED, red_recipients=[analyst])


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("reporter", True),
        ("analyst", True),
        ("coordinator", False),
        ("ministry_reporter", False),
        ("administrator", False),
    ],
)
def test_it_shows_a_tlp_red_incident_only_to_its_named_recipients(
    personas: dict[str, User], red: Incident, persona: str, sees: bool
) -> None:
    client = signed_in(personas[persona])
    for url in (f"/incidents/{red.reference}/", f"/incidents/{red.reference}/acknowledgement/"):
        assert client.get(url).status_code == (200 if sees else 404)
    assert client.post(f"/incidents/{red.reference}/comment", {"body": "seen"}).status_code == (303 if sees else 404)
    for listing in ("/incidents/", "/queue/", "/overview/"):
        response = client.get(listing)
        if response.status_code == 200:
            assert (red.reference in response.content.decode()) == sees


def test_it_hides_a_tlp_red_incident_from_a_colleague_of_the_reporter(energy: Any, red: Incident) -> None:
    colleague = User.objects.create_user("grid-colleague", role="reporter", organisation=energy)
    client = signed_in(colleague)
    assert client.get(f"/incidents/{red.reference}/").status_code == 404
    assert red.reference not in client.get("/incidents/").content.decode()


def test_it_records_every_read_of_a_tlp_red_incident(analyst: User, red: Incident) -> None:
    client = signed_in(analyst)
    client.get(f"/incidents/{red.reference}/")
    client.get(f"/incidents/{red.reference}/")
    reads = AuditEvent.objects.filter(action="incident.read", actor="analyst")
    assert reads.count() == 2
    assert reads.first().data == {"reference": red.reference}


def test_it_records_no_read_for_other_incidents(analyst: User, incident: Incident) -> None:
    signed_in(analyst).get(f"/incidents/{incident.reference}/")
    assert not AuditEvent.objects.filter(action="incident.read").exists()


def test_it_does_not_reveal_a_red_incident_to_a_bulk_action_or_a_merge(
    coordinator: User, red: Incident, incident: Incident
) -> None:
    client = signed_in(coordinator)
    bulk = client.post("/queue/bulk", {"action": "triage", "incident": [red.reference]})
    assert bulk.status_code == 400 and "No incident" in bulk.content.decode()
    merge = client.post(f"/incidents/{incident.reference}/merge", {"into": red.reference})
    assert merge.status_code == 400 and "no incident" in merge.content.decode()
    assert Incident.objects.get(pk=red.pk).status == "reported"


def test_it_never_names_a_linked_tlp_red_incident_in_the_timeline(
    analyst: User, coordinator: User, red: Incident, incident: Incident
) -> None:
    signed_in(analyst).post(f"/incidents/{incident.reference}/link", {"other": red.reference})
    seen_by_analyst = signed_in(analyst).get(f"/incidents/{incident.reference}/").content.decode()
    assert f'<a href="/incidents/{red.reference}/">{red.reference}</a>' in seen_by_analyst
    seen_by_coordinator = signed_in(coordinator).get(f"/incidents/{incident.reference}/").content.decode()
    assert red.reference not in seen_by_coordinator and "an incident you may not see" in seen_by_coordinator
