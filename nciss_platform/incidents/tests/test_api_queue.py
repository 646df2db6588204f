"""The incident list: queue order, filters shared with the queue page, pages, and its query count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.incidents import services
from nciss_platform.incidents.tests.conftest import T0, report

pytestmark = pytest.mark.usefixtures("without_2fa")

URL = "/api/v1/incidents"
BRIEF = {
    "reference",
    "title",
    "status",
    "level",
    "score",
    "reachable_max",
    "due_at",
    "overdue",
    "waiting_on_reporter",
    "sector",
    "classification",
    "tlp",
    "reporting_organisation",
    "assignee",
    "reported_at",
}
MINOR = {"functional_impact": "minimal-non-critical", "observed_activity": "engage"}
DEADLY = {"functional_impact": "denial-critical", "fatalities": 1}


def references(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["reference"] for item in response.json()["results"]]


def test_it_lists_incidents_briefly(reporter: User, analyst: User, api: Any) -> None:
    incident = report(reporter)
    services.assign(incident=incident, actor=analyst, assignee=analyst)
    item = api(analyst).get(URL).json()["results"][0]
    assert set(item) == BRIEF
    assert item["level"] == {"rank": incident.level, "name": item["level"]["name"], "colour": item["level"]["colour"]}
    assert item["assignee"] == "analyst"
    assert item["reporting_organisation"] == {"slug": "aralia-grid", "name": "Aralia Grid"}


def test_it_orders_the_queue_by_level_then_by_time_left(reporter: User, analyst: User, api: Any) -> None:
    minor = report(reporter, facts=MINOR, at=T0)
    deadly = report(reporter, facts=DEADLY, at=T0 + dt.timedelta(hours=1))
    older_deadly = report(reporter, facts=DEADLY, at=T0 - dt.timedelta(hours=1))
    assert references(api(analyst).get(URL)) == [older_deadly.reference, deadly.reference, minor.reference]
    newest_first = api(analyst).get(URL, {"ordering": "-reported_at"})
    assert references(newest_first) == [deadly.reference, minor.reference, older_deadly.reference]


def test_it_marks_overdue_incidents_and_filters_them(reporter: User, analyst: User, api: Any) -> None:
    old = report(reporter, at=T0 - dt.timedelta(days=10))
    fresh = report(reporter, at=T0)
    with clock.frozen(T0):
        listed = {i["reference"]: i["overdue"] for i in api(analyst).get(URL).json()["results"]}
        overdue = references(api(analyst).get(URL, {"overdue": "1"}))
    assert listed == {old.reference: True, fresh.reference: False}
    assert overdue == [old.reference]


def test_it_does_not_count_an_incident_waiting_on_its_reporter_as_overdue(
    reporter: User, analyst: User, api: Any
) -> None:
    old = report(reporter, at=T0 - dt.timedelta(days=10))
    with clock.frozen(T0 - dt.timedelta(days=10, minutes=-5)):
        services.set_waiting_on_reporter(incident=old, actor=analyst, waiting=True)
    with clock.frozen(T0):
        listed = {i["reference"]: i["overdue"] for i in api(analyst).get(URL).json()["results"]}
        overdue = references(api(analyst).get(URL, {"overdue": "1"}))
    assert listed == {old.reference: False}
    assert overdue == []


def test_it_filters_as_the_queue_page_does(
    reporter: User, ministry_reporter: User, analyst: User, coordinator: User, api: Any
) -> None:
    grid = report(reporter, facts={**MINOR, "classification": "availability:ddos"}, at=T0)
    treasury = report(ministry_reporter, title="Treasury portal defaced", facts=DEADLY, at=T0 + dt.timedelta(days=2))
    services.change_status(incident=treasury, actor=analyst, to="triaged")
    services.assign(incident=treasury, actor=analyst, assignee=coordinator)
    client = api(coordinator)
    assert references(client.get(URL, {"status": "reported"})) == [grid.reference]
    assert references(client.get(URL, {"status": "open", "ordering": "reported_at"})) == [
        grid.reference,
        treasury.reference,
    ]
    assert references(client.get(URL, {"level_min": treasury.level})) == [treasury.reference]
    assert references(client.get(URL, {"level": f"{grid.level},{treasury.level}"})) == [
        treasury.reference,
        grid.reference,
    ]
    assert references(client.get(URL, {"sector": "public-administration"})) == [treasury.reference]
    assert references(client.get(URL, {"classification": "availability"})) == [grid.reference]
    assert references(client.get(URL, {"organisation": "aralia-grid"})) == [grid.reference]
    assert references(client.get(URL, {"assignee": "me"})) == [treasury.reference]
    assert references(client.get(URL, {"assignee": "none"})) == [grid.reference]
    assert references(client.get(URL, {"reported_from": "2026-03-03"})) == [treasury.reference]
    assert references(client.get(URL, {"reported_to": "2026-03-03"})) == [grid.reference]
    assert references(client.get(URL, {"q": "treasury"})) == [treasury.reference]
    assert references(client.get(URL, {"q": grid.reference})) == [grid.reference]


def test_it_filters_only_within_what_the_caller_may_see(reporter: User, ministry_reporter: User, api: Any) -> None:
    report(ministry_reporter, title="Treasury portal defaced")
    assert references(api(reporter).get(URL, {"organisation": "ministry-of-finance"})) == []
    assert references(api(reporter).get(URL, {"q": "treasury"})) == []


def test_it_pages_by_fifty_unless_asked_otherwise(reporter: User, analyst: User, api: Any) -> None:
    for n in range(55):
        report(reporter, title=f"Substation {n} dark", at=T0 + dt.timedelta(minutes=n))
    client = api(analyst)
    first = client.get(URL, {"ordering": "reported_at"}).json()
    assert first["count"] == 55 and len(first["results"]) == 50
    assert first["previous"] is None and "page=2" in first["next"]
    second = client.get(first["next"]).json()
    assert [i["title"] for i in second["results"]] == [f"Substation {n} dark" for n in range(50, 55)]
    assert second["next"] is None
    small = client.get(URL, {"page_size": 7, "page": 8, "ordering": "reported_at"}).json()
    assert [i["title"] for i in small["results"]] == [f"Substation {n} dark" for n in range(49, 55)]


def test_it_lists_fifty_incidents_in_a_handful_of_queries(
    reporter: User, analyst: User, coordinator: User, api: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(50):
        incident = report(reporter, title=f"Substation {n} dark")
        services.assign(incident=incident, actor=analyst, assignee=analyst if n % 2 else coordinator)
    client = api(analyst)
    # Session, user, count and page; whatever the number of incidents.
    with django_assert_max_num_queries(5):
        response = client.get(URL)
    assert len(response.json()["results"]) == 50
    assert {item["assignee"] for item in response.json()["results"]} == {"analyst", "coordinator"}


def test_it_lists_for_a_reporter_in_as_few_queries(
    reporter: User, api: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(50):
        report(reporter, title=f"Substation {n} dark")
    client = api(reporter)
    with django_assert_max_num_queries(5):
        response = client.get(URL)
    assert response.json()["count"] == 50
