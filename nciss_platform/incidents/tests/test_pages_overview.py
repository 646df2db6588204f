"""The national overview, and a reporter's list of its organisation's incidents."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.incidents import services
from nciss_platform.incidents.models import Incident
from nciss_platform.incidents.tests.conftest import GRID_DOWN, T0, report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_2fa")]

HOUR = dt.timedelta(hours=1)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get(client: Client, url: str, at: dt.datetime) -> str:
    with clock.frozen(at):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def picture(reporter: User, ministry_reporter: User, analyst: User) -> dict[str, Incident]:
    incidents = {
        "low": report(reporter, "Phishing wave", facts={"functional_impact": "minimal-non-critical"}),
        "grid": report(reporter, "Grid control room dark"),
        "severe": report(ministry_reporter, "Treasury payments stopped", facts={**GRID_DOWN, "fatalities": 1}),
        "closed": report(reporter, "Old severe one", facts={**GRID_DOWN, "fatalities": 1}),
    }
    for to in ("triaged", "resolved", "closed"):
        services.change_status(incident=incidents["closed"], actor=analyst, to=to)
    return incidents


def test_it_counts_open_incidents_by_level_named_and_coloured(coordinator: User, picture: dict[str, Incident]) -> None:
    page = get(signed_in(coordinator), "/overview/", T0 + HOUR)
    counts = {
        rank: int(n)
        for rank, n in re.findall(r"<tr data-rank=\"(\d)\".*?<td class=\"count\"><a [^>]*>(\d+)</a>", page, re.S)
    }
    expected = {str(rank): 0 for rank in range(6)}
    for name in ("low", "grid", "severe"):
        expected[str(picture[name].level)] += 1
    assert counts == expected  # the closed one is not counted
    assert re.search(
        r'<tr data-rank="4"[^>]*>\s*<th scope="row"><span class="level-badge" style="--level-bg: #cc0033;.*?Severe',
        page,
        re.S,
    )
    assert "<strong>3</strong> open" in page


def test_it_names_the_highest_current_level(analyst: User, picture: dict[str, Incident]) -> None:
    page = get(signed_in(analyst), "/overview/", T0 + HOUR)
    highest = page.split('id="highest"')[1].split("</p>")[0]
    assert "Severe" in highest and "level 4 of 0–5" in highest


def test_it_lists_the_newest_high_level_incidents(coordinator: User, picture: dict[str, Incident]) -> None:
    page = get(signed_in(coordinator), "/overview/", T0 + HOUR)
    newest = page.split('id="newest"')[1].split("</table>")[0]
    assert picture["severe"].reference in newest and picture["grid"].reference in newest
    assert picture["low"].reference not in newest and picture["closed"].reference not in newest


def test_it_counts_what_is_overdue_and_links_to_it_in_the_queue(
    coordinator: User, picture: dict[str, Incident]
) -> None:
    page = get(signed_in(coordinator), "/overview/", picture["severe"].due_at + HOUR)
    totals = page.split('id="totals"')[1].split("</ul>")[0]
    assert '<a href="/queue/?overdue=1"><strong>1</strong> overdue</a>' in totals
    assert (
        '<a class="overdue-text" href="/queue/?level=4&amp;overdue=1"><span aria-hidden="true">⚠</span> 1 overdue</a>'
        in page
    )
    assert '<a href="/queue/?assignee=none"><strong>3</strong> unassigned</a>' in totals


def test_it_shows_a_reporter_its_organisations_incidents_with_deadlines_due(
    reporter: User, picture: dict[str, Incident]
) -> None:
    page = get(signed_in(reporter), "/incidents/", T0 + HOUR)
    assert "My organisation's incidents" in page
    refs = re.findall(r'<tr data-reference="([^"]+)"', page)
    assert set(refs) == {picture[n].reference for n in ("low", "grid", "closed")}  # not the ministry's
    row = page.split(f'<tr data-reference="{picture["grid"].reference}"')[1].split("</tr>")[0]
    assert "Early warning: due in" in row and "level-badge" in row and "Reported" in row


def test_it_shows_an_overdue_report_to_the_reporter(reporter: User, picture: dict[str, Incident]) -> None:
    grid = picture["grid"]
    page = get(signed_in(reporter), "/incidents/", grid.detected_at + 30 * HOUR)
    row = page.split(f'<tr data-reference="{grid.reference}" class="overdue"')[1].split("</tr>")[0]
    assert "⚠" in row and "Early warning: overdue by 6 h" in row


def test_it_filters_the_reporters_list(reporter: User, picture: dict[str, Incident]) -> None:
    client = signed_in(reporter)
    closed = get(client, "/incidents/?status=closed", T0 + HOUR)
    assert re.findall(r'<tr data-reference="([^"]+)"', closed) == [picture["closed"].reference]
    found = get(client, "/incidents/?q=phishing", T0 + HOUR)
    assert re.findall(r'<tr data-reference="([^"]+)"', found) == [picture["low"].reference]
