"""The campaigns pages: for the CSIRT's analysts and coordinators, listing only incidents the reader may see."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.campaigns.models import Campaign
from nciss_platform.campaigns.services import correlate_campaigns
from nciss_platform.campaigns.tests.conftest import Hit, hours
from nciss_platform.incidents.models import TLP, Incident

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_2fa")]


def signed_in(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def campaign(
    organisations: Callable[..., list[Organisation]], hit: Hit, reporter: User, energy: Organisation
) -> tuple[Campaign, list[Incident], Incident]:
    """Three operators hit alike by the CSIRT's reports, and a TLP:RED report of the grid operator's own."""
    seen = [hit(organisation, n) for n, organisation in enumerate(organisations(3))]
    red = hit(energy, 4, actor=reporter, tlp=TLP.RED)
    correlate_campaigns(now=hours(5))
    return Campaign.objects.get(), seen, red


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("analyst", 200), ("coordinator", 200), ("reporter", 403), ("administrator", 403), ("partner", 403)],
)
def test_only_csirt_staff_open_the_campaign_pages(
    campaign: tuple[Campaign, list[Incident], Incident],
    personas: dict[str, User],
    partner: User,
    persona: str,
    expected: int,
) -> None:
    user = partner if persona == "partner" else personas[persona]
    client = signed_in(user)
    assert client.get(reverse("campaigns:list")).status_code == expected
    assert client.get(reverse("campaigns:detail", args=[campaign[0].reference])).status_code == expected


def test_anonymous_people_are_sent_to_sign_in(campaign: tuple[Campaign, list[Incident], Incident]) -> None:
    response = signed_in(None).get(reverse("campaigns:list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_list_shows_open_campaigns_first_with_level_name_and_icon(
    campaign: tuple[Campaign, list[Incident], Incident], analyst: User
) -> None:
    closed = Campaign.objects.create(
        reference="CMP-2025-0001",
        title="old",
        basis="classification",
        classification="availability:ddos",
        status="closed",
        level=5,
        organisations_affected=4,
        first_seen=hours(-900),
        last_seen=hours(-800),
        created_at=hours(-900),
        updated_at=hours(-800),
    )
    html = signed_in(analyst).get(reverse("campaigns:list")).content.decode()
    assert html.index(campaign[0].reference) < html.index(closed.reference)
    row = html[html.index(f'data-reference="{campaign[0].reference}"') :]
    assert 'class="level-name"' in row[:1500] and 'class="level-meter"' in row[:1500]
    assert "4 organisations" in row[:1500] and "Energy" in row[:1500]
    assert reverse("campaigns:list") in signed_in(analyst).get(reverse("incidents:queue")).content.decode()


def test_the_page_lists_the_members_the_reader_may_see_and_links_them(
    campaign: tuple[Campaign, list[Incident], Incident], analyst: User
) -> None:
    found, seen, red = campaign
    assert red in found.incidents.all()
    html = signed_in(analyst).get(reverse("campaigns:detail", args=[found.reference])).content.decode()
    for incident in seen:
        assert f'href="{reverse("incidents:detail", args=[incident.reference])}"' in html
    assert red.reference not in html and red.title not in html
    assert 'id="campaign-chart"' in html and "<svg" in html
    assert 'data-fact="organisations_affected"' in html


def test_a_named_recipient_of_a_red_member_sees_it_listed(
    campaign: tuple[Campaign, list[Incident], Incident], analyst: User
) -> None:
    found, _, red = campaign
    red.red_recipients.add(analyst)
    html = signed_in(analyst).get(reverse("campaigns:detail", args=[found.reference])).content.decode()
    assert reverse("incidents:detail", args=[red.reference]) in html


def test_an_unknown_campaign_is_not_found(analyst: User) -> None:
    assert signed_in(analyst).get(reverse("campaigns:detail", args=["CMP-2026-9999"])).status_code == 404


def test_the_incident_page_says_which_campaign_it_is_part_of_to_staff_only(
    campaign: tuple[Campaign, list[Incident], Incident], analyst: User, reporter: User
) -> None:
    found, _, red = campaign
    link = reverse("campaigns:detail", args=[found.reference])
    red.red_recipients.add(analyst)
    staff_view = signed_in(analyst).get(reverse("incidents:detail", args=[red.reference])).content.decode()
    assert 'id="incident-campaigns"' in staff_view and link in staff_view
    reporter_view = signed_in(reporter).get(reverse("incidents:detail", args=[red.reference])).content.decode()
    assert 'id="incident-campaigns"' not in reporter_view and link not in reporter_view


def test_the_pages_speak_the_readers_language(
    campaign: tuple[Campaign, list[Incident], Incident], analyst: User
) -> None:
    analyst.language = "ru"
    analyst.save(update_fields=["language"])
    html = signed_in(analyst).get(reverse("campaigns:list")).content.decode()
    assert "Кампании" in html and "в 4 организациях" in html
    detail = signed_in(analyst).get(reverse("campaigns:detail", args=[campaign[0].reference])).content.decode()
    assert "Инциденты кампании по дням и уровням" in detail
