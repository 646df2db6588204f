"""Bad input gets a clear 400 in the one error shape, naming the field, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from nciss_platform.accounts.models import User
from nciss_platform.incidents import services
from nciss_platform.incidents.tests.conftest import report

pytestmark = pytest.mark.usefixtures("without_2fa")

URL = "/api/v1/incidents"


def refused(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "errors"}
    assert body["error"] and "\n" not in body["error"]
    return body


def paths(body: dict[str, Any]) -> set[str]:
    return {error["path"] for error in body["errors"]}


def test_it_refuses_a_report_with_unknown_fact_values_and_stores_nothing(
    reporter: User, api: Any, unchanged: Any
) -> None:
    facts = {"functional_impact": "catastrophic", "fatality": 1, "users_affected": -5}
    with unchanged():
        body = refused(api(reporter).post(URL, {"title": "Grid dark", "facts": facts}, format="json"))
    assert paths(body) == {"facts.functional_impact", "facts.fatality", "facts.users_affected"}


def test_it_refuses_a_report_with_a_classification_outside_the_taxonomy(
    reporter: User, api: Any, unchanged: Any
) -> None:
    with unchanged():
        body = refused(
            api(reporter).post(URL, {"title": "?", "facts": {"classification": "weather:storm"}}, format="json")
        )
    assert paths(body) == {"facts.classification"}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"title": ""}, "title"),
        ({"tlp": "TLP:WHITE"}, "tlp"),
        ({"pap": "PAP:PURPLE"}, "pap"),
        ({"facts": ["functional_impact"]}, "facts"),
        ({"affected_organisations": ["atlantis-power"]}, "affected_organisations.0"),
        ({"red_recipients": ["nobody"]}, "red_recipients.0"),
        ({"reporting_organisation": "atlantis-power"}, "reporting_organisation"),
        ({"facts": {"detected_at": "yesterday"}}, "facts.detected_at"),
    ],
)
def test_it_refuses_a_report_with_a_bad_field(
    change: dict[str, Any], path: str, reporter: User, api: Any, unchanged: Any
) -> None:
    with unchanged():
        body = refused(api(reporter).post(URL, {"title": "Grid dark", **change}, format="json"))
    assert paths(body) == {path}


def test_it_refuses_unknown_fact_values_when_facts_change(reporter: User, api: Any, unchanged: Any) -> None:
    incident = report(reporter)
    with unchanged():
        body = refused(
            api(reporter).post(
                f"{URL}/{incident.reference}/facts", {"changes": {"functional_impact": "total"}}, format="json"
            )
        )
    assert paths(body) == {"facts.functional_impact"}
    assert "functional_impact" in body["error"]


@override_settings(NCISS_MAX_ATTACHMENT_BYTES=1024)
def test_it_refuses_an_attachment_over_the_limit(reporter: User, api: Any, unchanged: Any, media: Any) -> None:
    incident = report(reporter)
    upload = SimpleUploadedFile("memory.dmp", b"\0" * 1025)
    with unchanged():
        body = refused(api(reporter).post(f"{URL}/{incident.reference}/attachments", {"file": upload}))
    assert body["errors"] == [{"path": "file", "reason": "larger than the limit of 1024 bytes"}]
    assert not media.exists() or not any(media.rglob("*.dmp"))


def test_it_refuses_a_request_to_attach_nothing(reporter: User, api: Any, unchanged: Any) -> None:
    incident = report(reporter)
    with unchanged():
        body = refused(api(reporter).post(f"{URL}/{incident.reference}/attachments", {}))
    assert paths(body) == {"file"}


@pytest.mark.parametrize(
    ("to", "reason"),
    [
        ("closed", "cannot go from reported to closed (allowed: triaged, rejected)"),
        ("duplicate", "cannot go from reported to duplicate (allowed: triaged, rejected)"),
        ("finished", '"finished" is not a valid choice.'),
    ],
)
def test_it_refuses_an_invalid_transition(
    to: str, reason: str, reporter: User, analyst: User, api: Any, unchanged: Any
) -> None:
    incident = report(reporter)
    with unchanged():
        body = refused(api(analyst).post(f"{URL}/{incident.reference}/transition", {"to": to}, format="json"))
    assert body["errors"] == [{"path": "to", "reason": reason}]


ACTION_PATHS = [
    "/facts",
    "/transition",
    "/assign",
    "/waiting",
    "/comments",
    "/merge",
    "/links",
    "/sharing",
    "/reporting",
]


@pytest.mark.parametrize("suffix", ["report", *ACTION_PATHS, "bulk"])
@pytest.mark.parametrize("text", ['{"title": "Grid dark",', "[1, 2", "\x00", "{'to': 'triaged'}"])
def test_it_refuses_malformed_json(
    suffix: str, text: str, reporter: User, analyst: User, api: Any, unchanged: Any
) -> None:
    incident = report(reporter)
    path = {"report": URL, "bulk": f"{URL}/bulk"}.get(suffix, f"{URL}/{incident.reference}{suffix}")
    with unchanged():
        body = refused(api(analyst).post(path, text, content_type="application/json"))
    assert body["errors"][0]["path"] == "body"
    assert body["error"].startswith("JSON parse error")


@pytest.mark.parametrize("suffix", ["report", *ACTION_PATHS, "bulk"])
def test_it_refuses_an_empty_body_naming_what_is_required(
    suffix: str, reporter: User, analyst: User, api: Any, unchanged: Any
) -> None:
    incident = report(reporter)
    path = {"report": URL, "bulk": f"{URL}/bulk"}.get(suffix, f"{URL}/{incident.reference}{suffix}")
    with unchanged():
        body = refused(api(analyst).post(path, "", content_type="application/json"))
    assert {error["reason"] for error in body["errors"]} == {"This field is required."}


def test_it_refuses_json_that_is_not_an_object(reporter: User, api: Any, unchanged: Any) -> None:
    with unchanged():
        body = refused(api(reporter).post(URL, "[1, 2]", content_type="application/json"))
    assert paths(body) == {"body"}


def test_it_refuses_a_form_where_json_is_expected(reporter: User, api: Any, unchanged: Any) -> None:
    with unchanged():
        refused(api(reporter).post(URL, {"title": "Grid dark"}), status=415)


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"status": "burning"}, "status"),
        ({"level": "high"}, "level"),
        ({"level_min": "severe"}, "level_min"),
        ({"sector": "oil"}, "sector"),
        ({"reported_from": "yesterday"}, "reported_from"),
        ({"reported_to": "2026-02-30"}, "reported_to"),
        ({"ordering": "title"}, "ordering"),
        ({"lang": "fr"}, "lang"),
    ],
)
def test_it_refuses_unknown_filter_values(query: dict[str, str], path: str, analyst: User, api: Any) -> None:
    body = refused(api(analyst).get(URL, query))
    assert paths(body) == {path}


def test_it_refuses_a_page_that_does_not_exist(analyst: User, api: Any) -> None:
    refused(api(analyst).get(URL, {"page": 2}), status=404)


@pytest.mark.parametrize(
    ("assignee", "reason"),
    [
        ("grid-reporter", "incidents are assigned to analysts or coordinators"),
        ("nobody", "Object with username=nobody does not exist."),
    ],
)
def test_it_refuses_to_assign_to_someone_outside_the_csirt(
    assignee: str, reason: str, reporter: User, analyst: User, api: Any, unchanged: Any
) -> None:
    incident = report(reporter)
    with unchanged():
        body = refused(api(analyst).post(f"{URL}/{incident.reference}/assign", {"assignee": assignee}, format="json"))
    assert body["errors"] == [{"path": "assignee", "reason": reason}]


@pytest.mark.parametrize("into", ["self", "NCISS-2099-999999", "duplicate"])
def test_it_refuses_a_bad_merge(into: str, reporter: User, analyst: User, api: Any, unchanged: Any) -> None:
    incident, other = report(reporter), report(reporter)
    third = report(reporter)
    services.merge_duplicate(incident=third, actor=analyst, into=other)
    target = {"self": incident.reference, "duplicate": third.reference}.get(into, into)
    with unchanged():
        body = refused(api(analyst).post(f"{URL}/{incident.reference}/merge", {"into": target}, format="json"))
    assert paths(body) == {"into"}


def test_it_refuses_to_merge_an_incident_that_is_closed(
    reporter: User, analyst: User, api: Any, unchanged: Any
) -> None:
    incident, other = report(reporter), report(reporter)
    services.change_status(incident=incident, actor=analyst, to="rejected")
    with unchanged():
        body = refused(api(analyst).post(f"{URL}/{incident.reference}/merge", {"into": other.reference}, format="json"))
    assert paths(body) == {"status"}


@pytest.mark.parametrize("other", ["self", "NCISS-2099-999999", ""])
def test_it_refuses_a_bad_link(other: str, reporter: User, analyst: User, api: Any, unchanged: Any) -> None:
    incident = report(reporter)
    target = incident.reference if other == "self" else other
    with unchanged():
        body = refused(api(analyst).post(f"{URL}/{incident.reference}/links", {"other": target}, format="json"))
    assert paths(body) == {"other"}


@pytest.mark.parametrize(
    ("step", "path"),
    [
        ({"scale": "eu-nis2", "deadline": "postcard"}, "deadline"),
        ({"scale": "atlantis", "deadline": "early-warning"}, "deadline"),
        ({"scale": "eu-nis2"}, "deadline"),
    ],
)
def test_it_refuses_an_unknown_reporting_step(
    step: dict[str, str], path: str, reporter: User, api: Any, unchanged: Any
) -> None:
    incident = report(reporter)
    with unchanged():
        body = refused(api(reporter).post(f"{URL}/{incident.reference}/reporting", step, format="json"))
    assert paths(body) == {path}


def test_it_refuses_to_submit_a_reporting_step_twice(reporter: User, api: Any, unchanged: Any) -> None:
    incident = report(reporter)
    step = {"scale": "eu-nis2", "deadline": "early-warning"}
    client = api(reporter)
    assert client.post(f"{URL}/{incident.reference}/reporting", step, format="json").status_code == 200
    with unchanged():
        body = refused(client.post(f"{URL}/{incident.reference}/reporting", step, format="json"))
    assert body["errors"] == [{"path": "deadline", "reason": "early-warning was already submitted"}]


def test_it_refuses_an_empty_comment(reporter: User, api: Any, unchanged: Any) -> None:
    incident = report(reporter)
    with unchanged():
        body = refused(api(reporter).post(f"{URL}/{incident.reference}/comments", {"body": "   "}, format="json"))
    assert paths(body) == {"body"}


def test_it_refuses_an_unknown_tlp_when_sharing(reporter: User, api: Any, unchanged: Any) -> None:
    incident = report(reporter)
    with unchanged():
        body = refused(api(reporter).post(f"{URL}/{incident.reference}/sharing", {"tlp": "RED"}, format="json"))
    assert paths(body) == {"tlp"}


def test_it_changes_none_of_a_bulk_request_when_one_incident_refuses(
    reporter: User, analyst: User, api: Any, unchanged: Any
) -> None:
    first, second, third = report(reporter), report(reporter), report(reporter)
    services.change_status(incident=second, actor=analyst, to="rejected")
    request = {
        "references": [first.reference, second.reference, "NCISS-2099-999999", third.reference],
        "action": "transition",
        "to": "triaged",
    }
    with unchanged():
        body = refused(api(analyst).post(f"{URL}/bulk", request, format="json"))
    assert body["errors"] == [
        {
            "path": "references[1]",
            "reason": f"{second.reference}: cannot go from rejected to triaged (allowed: none)",
        },
        {"path": "references[2]", "reason": "no incident NCISS-2099-999999"},
    ]


@pytest.mark.parametrize(
    ("request_body", "path"),
    [
        ({"references": [], "action": "assign", "assignee": "analyst"}, "references"),
        ({"references": ["NCISS-2026-000001"], "action": "delete"}, "action"),
        ({"references": ["NCISS-2026-000001"], "action": "assign"}, "assignee"),
        ({"references": ["NCISS-2026-000001"], "action": "transition"}, "to"),
    ],
)
def test_it_refuses_a_malformed_bulk_request(
    request_body: dict[str, Any], path: str, reporter: User, analyst: User, api: Any, unchanged: Any
) -> None:
    report(reporter)
    with unchanged():
        body = refused(api(analyst).post(f"{URL}/bulk", request_body, format="json"))
    assert paths(body) == {path}


def test_it_answers_404_in_the_error_shape_for_an_unknown_incident(analyst: User, api: Any) -> None:
    body = refused(api(analyst).get(f"{URL}/NCISS-2099-999999"), status=404)
    assert body["errors"] == [{"path": "body", "reason": "no incident NCISS-2099-999999"}]


def test_it_checks_the_language_before_changing_anything(
    reporter: User, analyst: User, api: Any, unchanged: Any
) -> None:
    incident = report(reporter)
    with unchanged():
        body = refused(
            api(analyst).post(f"{URL}/{incident.reference}/transition?lang=fr", {"to": "triaged"}, format="json")
        )
    assert paths(body) == {"lang"}


def test_it_answers_404_before_reading_the_body_for_an_incident_the_caller_cannot_see(
    reporter: User, ministry_reporter: User, api: Any, unchanged: Any
) -> None:
    incident = report(reporter)
    with unchanged():
        response = api(ministry_reporter).post(
            f"{URL}/{incident.reference}/facts", "{bad", content_type="application/json"
        )
    assert response.status_code == 404
