"""The dashboard page: who may open it, what it shows, where its charts lead, its live panels, the language switcher."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.test import Client

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.campaigns.models import Campaign
from nciss_platform.dashboard.tests.conftest import NOW, client_for, make
from nciss_platform.incidents.models import Incident

pytestmark = pytest.mark.django_db


def page(user: User, url: str = "/dashboard/?period=7", at: dt.datetime = NOW) -> str:
    with clock.frozen(at):
        response = client_for(user).get(url)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def link_named(body: str, name: str) -> str:
    """The href of the chart link whose tooltip is ``name``."""
    match = re.search(r'<a href="([^"]+)" class="chart-link"><title>' + re.escape(html.escape(name)) + "</title>", body)
    assert match, f"no chart link named {name!r}"
    return html.unescape(match.group(1))


def listed(user: User, url: str) -> set[str]:
    with clock.frozen(NOW):
        response = client_for(user).get(url)
    assert response.status_code == 200
    return {r.removeprefix("NCISS-2026-") for r in re.findall(r'data-reference="([^"]+)"', response.content.decode())}


@pytest.mark.parametrize("role", ["analyst", "coordinator", "administrator"])
def test_staff_and_administrators_see_the_national_picture(history: dict, people: dict[str, User], role: str) -> None:
    body = page(people[role])
    assert "National dashboard" in body
    assert re.search(r'id="highest".*?data-rank="5"', body, re.S)  # D, Emergency
    assert "Emergency" in body and "▰▰▰▰▰" in body  # the level's name and its meter, not its colour alone


def test_reporters_may_not_and_strangers_must_sign_in(history: dict, people: dict[str, User]) -> None:
    with clock.frozen(NOW):
        assert client_for(people["reporter"]).get("/dashboard/").status_code == 403
        assert client_for(people["reporter"]).get("/dashboard/panels").status_code == 403
        response = Client().get("/dashboard/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_unknown_period_is_refused(people: dict[str, User]) -> None:
    with clock.frozen(NOW):
        response = client_for(people["analyst"]).get("/dashboard/?period=12")
    assert response.status_code == 400 and b"7, 30, 90, 365" in response.content


def test_the_counts_lead_to_exactly_the_incidents_counted(history: dict, people: dict[str, User]) -> None:
    analyst = people["coordinator"]
    body = page(analyst)
    assert listed(analyst, link_named(body, "Energy, High: 2")) == {"000001", "000002"}  # a heatmap cell
    assert listed(analyst, link_named(body, "▰▰▰▱▱ High: 1")) == {"000002"}  # open at High
    assert listed(analyst, link_named(body, "Availability")) == {"000001", "000002", "000006"}  # a trend's legend
    day = dt.date(2026, 3, 8).strftime("%-d %b")
    assert listed(analyst, link_named(body, f"Availability, {day}: 2")) == {"000001", "000002"}  # one point
    new = re.search(r'<a href="([^"]+)"><strong>3</strong> new in the last 24 hours', body)
    escalated = re.search(r'<a href="([^"]+)"><strong>1</strong> <span aria-hidden="true">▲</span> escalated', body)
    assert new and escalated
    assert listed(analyst, html.unescape(new.group(1))) == {"000004", "000006"}  # and G, which is TLP:RED
    assert listed(analyst, html.unescape(escalated.group(1))) == {"000006"}


def test_counts_include_tlp_red_but_the_lists_show_only_what_the_reader_may_see(
    history: dict, people: dict[str, User]
) -> None:
    body = page(people["analyst"])
    assert listed(people["analyst"], link_named(body, "▰▰▰▰▱ Severe: 1")) == set()  # G, not named to the analyst
    history["G"].red_recipients.add(people["analyst"])
    assert listed(people["analyst"], link_named(body, "▰▰▰▰▱ Severe: 1")) == {"000007"}


def test_administrators_drill_down_into_the_incident_list(history: dict, people: dict[str, User]) -> None:
    body = page(people["administrator"])
    assert link_named(body, "Energy, High: 2").startswith("/incidents/?")


def test_performance_figures(history: dict, people: dict[str, User]) -> None:
    body = page(people["analyst"])
    compliance = re.search(r'id="compliance".*?</table>', body, re.S)
    assert compliance
    rows = re.findall(
        r"<tr><th scope=\"row\">([^<]+)</th><td>(\d+)</td><td>(\d+)</td><td>([^<]+)</td>", compliance.group(0)
    )
    assert rows == [
        ("Triage", "3", "3", "50.0%"),
        ("First response", "2", "1", "66.7%"),
        ("Resolution", "1", "0", "100.0%"),
    ]
    times = re.search(r'id="mean-times".*?</dl>', body, re.S)
    assert times and "<dd>1 h 37 min " in times.group(0) and "<dd>24 h " in times.group(0)


def test_the_live_panels_follow_new_incidents(history: dict, people: dict[str, User]) -> None:
    first = page(people["analyst"], "/dashboard/panels?period=7")
    assert 'hx-trigger="every 30s' in first and "<h1>" not in first
    make("000100", people["reporter"], history["A"].reporting_organisation, level=3, sector="banking",
         classification="fraud:phishing", status="reported", reported_at=NOW + dt.timedelta(seconds=30))  # fmt: skip
    later = page(people["analyst"], "/dashboard/panels?period=7", at=NOW + dt.timedelta(seconds=90))
    assert "<strong>4</strong> new in the last 24 hours" in later
    assert link_named(later, "Banking, High: 1")  # the rollups were older than a minute: refreshed


def test_numbers_and_dates_in_russian(history: dict, people: dict[str, User]) -> None:
    analyst = people["analyst"]
    organisation = history["A"].reporting_organisation
    Incident.objects.bulk_create(
        Incident(
            reference=f"NCISS-2025-{n:06d}",
            title="x",
            reporting_organisation=organisation,
            created_by=analyst,
            level=0,
            status="triaged",
            reported_at=NOW - dt.timedelta(days=400),
        )
        for n in range(1200)
    )  # enough open incidents for a thousands separator; fmt: skip
    analyst.language = "ru"
    analyst.save()
    body = page(analyst)
    assert "Национальная панель" in body
    assert "1\xa0205" in body  # open incidents, grouped the Russian way
    assert "10 марта 2026" in body  # the period's end
    assert "50,0 %" in body  # a decimal comma


def test_the_switcher_sets_a_signed_in_users_language(people: dict[str, User]) -> None:
    client = client_for(people["analyst"])
    response = client.post("/accounts/language/", {"language": "uz", "next": "/dashboard/"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    people["analyst"].refresh_from_db()
    assert people["analyst"].language == "uz"
    assert AuditEvent.objects.filter(action="user.language").count() == 1
    assert "<h1>Milliy boshqaruv paneli</h1>" in client.get("/dashboard/").content.decode()


def test_before_signing_in_the_switcher_sets_a_cookie(db: None) -> None:
    client = Client()
    response = client.post("/accounts/language/", {"language": "ru", "next": "https://elsewhere.example/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"  # never off-site
    login = client.get("/accounts/login/").content.decode()
    assert '<html lang="ru">' in login and 'aria-pressed="true">Русский' in login


def test_an_unknown_language_is_refused(db: None) -> None:
    response = Client().post("/accounts/language/", {"language": "fr"})
    assert response.status_code == 400


def test_the_queue_filters_the_dashboard_links_use(history: dict, people: dict[str, User]) -> None:
    coordinator = people["coordinator"]
    campaign = Campaign.objects.create(
        reference="CMP-2026-0001", title="Grid outages", basis="classification", classification="availability:ddos",
        first_seen=NOW, last_seen=NOW, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    campaign.incidents.set([history["B"], history["F"]])
    assert listed(coordinator, "/queue/?status=&campaign=CMP-2026-0001") == {"000002", "000006"}
    assert listed(coordinator, "/queue/?status=&sector=none") == {"000005"}
    with clock.frozen(NOW):
        response = client_for(coordinator).get("/api/v1/incidents?reported_since=yesterday")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "reported_since", "reason": "expected a date and time, ISO 8601"}]
