"""The triage queue: what comes first, what stands out, filters, pages, assignment and bulk actions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.incidents import services, views
from nciss_platform.incidents.models import Incident
from nciss_platform.incidents.tests.conftest import GRID_DOWN, T0, report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_2fa")]

HOUR = dt.timedelta(hours=1)
LOW = {"functional_impact": "minimal-non-critical"}
SEVERE = {**GRID_DOWN, "fatalities": 1}


@pytest.fixture
def staff(analyst: User) -> Client:
    client = Client()
    client.force_login(analyst)
    return client


def order(page: str) -> list[str]:
    """The references of the queue's rows, top to bottom."""
    return re.findall(r'<tr data-reference="([^"]+)"', page)


def queue(client: Client, at: dt.datetime = T0 + HOUR, **params: Any) -> tuple[int, str]:
    with clock.frozen(at):
        response = client.get("/queue/", params)
    return response.status_code, response.content.decode()


@pytest.fixture
def three(reporter: User) -> dict[str, Incident]:
    incidents = {
        "low": report(reporter, "Phishing wave", facts=LOW),
        "grid_late": report(reporter, "Grid control room dark", at=T0 - 2 * HOUR),
        "grid": report(reporter, "Second substation dark"),
        "severe": report(reporter, "Dam control lost", facts=SEVERE),
    }
    assert incidents["severe"].level > incidents["grid"].level > incidents["low"].level
    return incidents


def test_it_orders_by_level_then_by_time_left_on_the_response_target(staff: Client, three: dict[str, Incident]) -> None:
    status, page = queue(staff)
    assert status == 200
    refs = {i.reference: name for name, i in three.items()}
    assert [refs[r] for r in order(page)] == ["severe", "grid_late", "grid", "low"]


def test_it_leaves_out_what_is_no_longer_open_unless_asked(
    staff: Client, three: dict[str, Incident], analyst: User
) -> None:
    services.change_status(incident=three["low"], actor=analyst, to="rejected")
    assert three["low"].reference not in queue(staff)[1]
    assert three["low"].reference in queue(staff, status="")[1]  # "any status"
    assert order(queue(staff, status="rejected")[1]) == [three["low"].reference]


def test_it_makes_overdue_incidents_stand_out_in_words_too(staff: Client, three: dict[str, Incident]) -> None:
    severe = three["severe"]
    assert severe.due_at is not None
    _, page = queue(staff, at=severe.due_at + 3 * HOUR)
    row = page.split(f'<tr data-reference="{severe.reference}" class="overdue')[1].split("</tr>")[0]
    assert "Triage overdue by 3 h" in row and "⚠" in row
    _, early = queue(staff, at=severe.due_at - 20 * dt.timedelta(minutes=1))
    assert "Triage due in 20 min" in early


def test_it_pauses_the_clock_while_waiting_on_the_reporter(
    staff: Client, three: dict[str, Incident], analyst: User
) -> None:
    severe = three["severe"]
    services.set_waiting_on_reporter(incident=severe, actor=analyst, waiting=True)
    _, page = queue(staff, at=severe.due_at + 3 * HOUR)
    assert "paused: waiting on the reporter" in page
    assert f'<tr data-reference="{severe.reference}" class="overdue' not in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "substation"}, ["grid"]),
        ({"q": "dam control"}, ["severe"]),
        ({"classification": "intrusions"}, ["grid_late"]),
        ({"classification": "intrusions:system-compromise"}, ["grid_late"]),
        ({"sector": "public-administration"}, ["ministry"]),
        ({"organisation": "ministry-of-finance"}, ["ministry"]),
        ({"assignee": "me"}, ["grid"]),
        ({"assignee": "none", "sector": "energy"}, ["severe", "grid_late", "low"]),
        ({"reported_from": "2026-03-03"}, ["ministry"]),
        ({"reported_to": "2026-03-02", "q": "dark"}, ["grid_late", "grid"]),
        ({"overdue": "1"}, ["severe", "grid_late"]),
    ],
)
def test_it_filters_by_the_same_parameters_as_the_api(
    staff: Client,
    three: dict[str, Incident],
    ministry_reporter: User,
    analyst: User,
    params: dict[str, str],
    expected: list[str],
) -> None:
    incidents = dict(three)
    incidents["ministry"] = report(ministry_reporter, "Treasury portal defaced", at=T0 + 24 * HOUR)
    services.update_facts(
        incident=three["grid_late"], actor=analyst, changes={"classification": "intrusions:system-compromise"}
    )
    services.assign(incident=three["grid"], actor=analyst, assignee=analyst)
    names = {i.reference: name for name, i in incidents.items()}
    at = three["severe"].due_at + HOUR  # the triage of the severe incident and of the earlier grid one is overdue
    status, page = queue(staff, at=at, **params)
    assert status == 200
    assert [names[r] for r in order(page)] == expected
    if "sector" in params:
        assert f'<option value="{params["sector"]}" selected>' in page  # the form shows what is chosen


def test_it_says_which_filter_it_cannot_use(staff: Client) -> None:
    status, page = queue(staff, level="high")
    assert status == 400 and "level: expected level numbers" in page


def test_it_filters_by_level_named_beside_its_number(staff: Client, three: dict[str, Incident]) -> None:
    rank = three["grid"].level
    _, page = queue(staff, level=str(rank))
    assert sorted(order(page)) == sorted([three["grid"].reference, three["grid_late"].reference])
    assert re.search(rf'<option value="{rank}" selected>{rank} · \w+', page)


def test_it_pages_with_next_links_and_never_counts_the_incidents(
    staff: Client, reporter: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    made = [report(reporter, f"Incident {n}", at=T0 + n * HOUR) for n in range(5)]
    with CaptureQueriesContext(connection) as queries:
        _, first = queue(staff, at=T0 + 6 * HOUR)
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "incidents_incident" in q["sql"]]
    assert len(order(first)) == 2 and 'rel="next"' in first and 'rel="prev"' not in first
    _, third = queue(staff, at=T0 + 6 * HOUR, page="3")
    assert len(order(third)) == 1 and 'rel="next"' not in third and 'rel="prev"' in third
    seen = order(first) + order(queue(staff, at=T0 + 6 * HOUR, page="2")[1]) + order(third)
    assert sorted(seen) == sorted(i.reference for i in made)


def test_it_reads_a_page_in_the_same_few_queries_however_long_it_is(
    staff: Client, reporter: User, analyst: User
) -> None:
    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as queries:
            queue(staff)
        return len(queries)

    for n in range(2):
        services.assign(incident=report(reporter, f"First {n}"), actor=analyst, assignee=analyst)
    few = queries_for_page()
    for n in range(6):
        services.assign(incident=report(reporter, f"More {n}"), actor=analyst, assignee=analyst)
    assert queries_for_page() == few


def test_it_assigns_an_incident_to_me_from_its_row_and_comes_back(
    staff: Client, three: dict[str, Incident], analyst: User
) -> None:
    _, page = queue(staff, q="phishing")
    assert 'Assign <span class="visually-hidden">' in page
    low = three["low"]
    response = staff.post(f"/incidents/{low.reference}/assign", {"assignee": "me", "next": "/queue/?q=phishing"})
    assert response.status_code == 303 and response["Location"] == "/queue/?q=phishing"
    assert Incident.objects.get(pk=low.pk).assignee == analyst
    assert "Analyst" in queue(staff, q="phishing")[1] or "analyst" in queue(staff, q="phishing")[1]


# ---------------------------------------------------------------- bulk actions


def bulk(client: Client, action: str, incidents: list[Incident], **extra: str) -> Any:
    return client.post(
        "/queue/bulk",
        {"action": action, "incident": [i.reference for i in incidents], "next": "/queue/?sector=energy", **extra},
    )


def test_it_triages_several_incidents_at_once(staff: Client, three: dict[str, Incident]) -> None:
    chosen = [three["low"], three["grid"]]
    response = bulk(staff, "triage", chosen)
    assert response.status_code == 303 and response["Location"] == "/queue/?sector=energy"
    assert {Incident.objects.get(pk=i.pk).status for i in chosen} == {"triaged"}
    assert Incident.objects.get(pk=three["severe"].pk).status == "reported"
    assert "2 incidents updated." in staff.get(response["Location"]).content.decode()


def test_it_changes_none_of_them_when_one_cannot_change(
    staff: Client, three: dict[str, Incident], analyst: User, unchanged: Any
) -> None:
    services.change_status(incident=three["grid"], actor=analyst, to="triaged")
    with unchanged():
        response = bulk(staff, "triage", [three["low"], three["grid"], three["severe"]])
    page = response.content.decode()
    assert response.status_code == 400
    assert f"{three['grid'].reference}: cannot go from triaged to triaged" in page and "Nothing was changed." in page
    assert (
        f'value="{three["low"].reference}" id="select-{three["low"].reference}" checked' in page
    )  # the selection is kept
    assert '<input type="hidden" name="next" value="/queue/?sector=energy">' in page  # and where to come back to


def test_it_assigns_several_incidents_to_someone(staff: Client, three: dict[str, Incident], coordinator: User) -> None:
    bulk(staff, "assign", [three["low"], three["severe"]], assignee="coordinator")
    assert [Incident.objects.get(pk=three[n].pk).assignee for n in ("low", "severe", "grid")] == [
        coordinator,
        coordinator,
        None,
    ]
    bulk(staff, "unassign", [three["low"]])
    assert Incident.objects.get(pk=three["low"].pk).assignee is None


def test_it_rejects_several_incidents(staff: Client, three: dict[str, Incident]) -> None:
    bulk(staff, "reject", [three["low"], three["grid"]])
    assert {Incident.objects.get(pk=three[n].pk).status for n in ("low", "grid")} == {"rejected"}


@pytest.mark.parametrize(
    ("action", "pick", "extra", "message"),
    [
        ("", True, {}, "Choose what to do with the selected incidents."),
        ("triage", False, {}, "Select at least one incident."),
        ("assign", True, {"assignee": ""}, "choose an analyst or coordinator"),
        ("assign", True, {"assignee": "grid-reporter"}, "incidents are assigned to analysts or coordinators"),
    ],
)
def test_it_explains_a_bulk_action_it_cannot_take(
    staff: Client,
    three: dict[str, Incident],
    unchanged: Any,
    action: str,
    pick: bool,
    extra: dict[str, str],
    message: str,
) -> None:
    with unchanged():
        response = bulk(staff, action, [three["low"]] if pick else [], **extra)
    assert response.status_code == 400 and message in response.content.decode()
