"""The sharing pages: partners read what was shared with them; the CSIRT shares from the incident page."""

from __future__ import annotations

import re

import pytest
from django.test import Client

import nciss
from nciss.facts import fact_specs
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.sharing.models import PartnerGroup, Share
from nciss_platform.sharing.services import set_naming_consent, share_incident
from nciss_platform.sharing.tests.conftest import GRID_FACTS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_2fa")]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_it_shows_a_partner_what_was_shared_on_its_own_scale_and_in_its_language(
    grid_incident: Incident, analyst: User, partner: User, network: PartnerGroup
) -> None:
    [to_veskaria, _to_ostmark] = sorted(
        share_incident(incident=grid_incident, actor=analyst, group=network),
        key=lambda s: s.organisation.slug != "veskaria-cda",
    )
    client = signed_in(partner)

    listing = client.get("/shared/")
    assert listing.status_code == 200
    assert f'data-share="{to_veskaria.pk}"' in listing.text and grid_incident.reference in listing.text
    page = client.get(f"/shared/{to_veskaria.pk}/")
    assert page.status_code == 200
    cisa = nciss.load_scale("cisa-nciss")
    level = nciss.assess(cisa, grid_incident.facts)
    partner_badge = page.text.split('id="partner-level"')[1].split("</p>")[0]
    assert cisa.levels[level.rank].name.get_for("ru") in partner_badge  # "Высокий", in Russian
    assert cisa.levels[level.rank].colour in partner_badge
    assert f"{level.score:.1f}".replace(".", ",") in page.text.split('id="partner-scale"')[1].split("</p>")[0]
    assert 'data-basis="facts"' in page.text
    national = nciss.load_scale("osce-reference").levels[grid_incident.level].name.get_for("ru")
    assert national in page.text.split('id="national-level"')[1].split("</dd>")[0]
    assert fact_specs()["functional_impact"].label.get_for("ru") in page.text
    assert "203.0.113.7" in page.text and "TLP:AMBER" in page.text.split('id="tlp-banner"')[1].split("</p>")[0]


def test_it_names_the_missing_facts_of_a_crosswalked_level(
    grid_incident: Incident, analyst: User, ostmark_partner: User, ostmark: Organisation
) -> None:
    [share] = share_incident(incident=grid_incident, actor=analyst, organisations=[ostmark])

    page = signed_in(ostmark_partner).get(f"/shared/{share.pk}/")

    assert 'data-basis="crosswalk"' in page.text and "Read through the crosswalk" in page.text
    assert 'data-fact="fatalities"' in page.text.split('id="missing"')[1]
    assert "Category " in page.text.split('id="partner-level"')[1].split("</p>")[0]


def test_it_shows_another_partner_organisation_nothing(
    grid_incident: Incident, analyst: User, partner: User, ostmark_partner: User, veskaria: Organisation
) -> None:
    [share] = share_incident(incident=grid_incident, actor=analyst, organisations=[veskaria])
    client = signed_in(ostmark_partner)

    assert grid_incident.reference not in client.get("/shared/").text
    assert client.get(f"/shared/{share.pk}/").status_code == 404
    assert client.get(f"/incidents/{grid_incident.reference}/").status_code == 404
    assert signed_in(partner).get(f"/incidents/{grid_incident.reference}/").status_code == 404, (
        "the record, not the incident"
    )


def test_it_shows_a_tlp_red_share_only_to_the_person_named(
    reporter: User, analyst: User, partner: User, colleague: User, veskaria: Organisation
) -> None:
    red = report(reporter, facts=dict(GRID_FACTS), tlp=TLP.RED, red_recipients=[analyst])
    [share] = share_incident(incident=red, actor=analyst, organisations=[veskaria], recipients=[partner])

    assert signed_in(partner).get(f"/shared/{share.pk}/").status_code == 200
    assert signed_in(colleague).get(f"/shared/{share.pk}/").status_code == 404
    assert red.reference not in signed_in(colleague).get("/shared/").text


def test_it_never_names_an_anonymous_reporter_on_the_partners_page(
    grid_incident: Incident, analyst: User, partner: User, veskaria: Organisation
) -> None:
    [share] = share_incident(incident=grid_incident, actor=analyst, organisations=[veskaria])
    client = signed_in(partner)

    for url in ("/shared/", f"/shared/{share.pk}/"):
        assert "Aralia Grid" not in client.get(url).text
    assert "XA" in client.get(f"/shared/{share.pk}/").text.split('id="reporter"')[1].split("</dd>")[0]


def test_it_names_a_reporter_that_agreed(
    grid_incident: Incident, analyst: User, reporter: User, partner: User, veskaria: Organisation
) -> None:
    set_naming_consent(incident=grid_incident, actor=reporter, agreed=True)
    [share] = share_incident(incident=grid_incident, actor=analyst, organisations=[veskaria], identify_reporter=True)
    page = signed_in(partner).get(f"/shared/{share.pk}/")
    assert "Aralia Grid (XA)" in page.text.split('id="reporter"')[1].split("</dd>")[0]


def test_it_hides_a_revoked_share(
    grid_incident: Incident, analyst: User, partner: User, veskaria: Organisation
) -> None:
    [share] = share_incident(incident=grid_incident, actor=analyst, organisations=[veskaria])
    staff = signed_in(analyst)

    response = staff.post(f"/sharing/shares/{share.pk}/revoke")

    assert response.status_code == 303 and response["Location"].endswith("#partner-sharing")
    assert signed_in(partner).get(f"/shared/{share.pk}/").status_code == 404
    assert "Withdrawn" in staff.get(f"/incidents/{grid_incident.reference}/").text
    assert signed_in(partner).post(f"/sharing/shares/{share.pk}/revoke").status_code == 404


def test_it_gives_the_csirt_the_share_form_and_the_list_of_shares_on_the_incident_page(
    grid_incident: Incident, analyst: User, reporter: User, veskaria: Organisation, ostmark: Organisation
) -> None:
    share_incident(incident=grid_incident, actor=analyst, organisations=[ostmark])
    page = signed_in(analyst).get(f"/incidents/{grid_incident.reference}/")

    section = page.text.split('id="partner-sharing"')[1]
    assert 'id="share-form"' in section and "Veskarian Cyber Defence Agency" in section
    shares = section.split('id="share-list"')[1].split("</ul>")[0]
    assert "Ostmark National Cyber Centre" in shares and "TLP:AMBER" in shares and "Category" in shares
    assert 'name="identify_reporter"' not in section, "no consent: the reporter cannot be named"
    assert 'name="recipients"' not in section, "named readers are for TLP:RED"

    reporters_view = signed_in(reporter).get(f"/incidents/{grid_incident.reference}/").text
    assert 'id="share-form"' not in reporters_view and 'id="share-list"' not in reporters_view
    assert "Agree to be named in shares abroad" in reporters_view


def test_it_shares_from_the_form_and_says_so_on_the_timeline(
    grid_incident: Incident, analyst: User, partner: User, network: PartnerGroup
) -> None:
    staff = signed_in(analyst)
    response = staff.post(
        f"/sharing/incidents/{grid_incident.reference}/",
        {"group": network.pk, "title": "Intrusion at a transmission operator", "description": ""},
    )

    assert response.status_code == 303
    assert Share.objects.filter(incident=grid_incident).count() == 2
    page = staff.get(response["Location"])
    assert "Shared with Ostmark National Cyber Centre, Veskarian Cyber Defence Agency." in page.text
    assert "Shared with partners" in page.text.split('class="timeline"')[1]
    assert "Intrusion at a transmission operator" in signed_in(partner).get("/shared/").text


def test_it_shows_the_reasons_and_shares_nothing_on_bad_input(
    reporter: User, analyst: User, veskaria: Organisation
) -> None:
    red = report(reporter, facts=dict(GRID_FACTS), tlp=TLP.RED, red_recipients=[analyst])
    response = signed_in(analyst).post(
        f"/sharing/incidents/{red.reference}/", {"organisations": [veskaria.pk], "title": red.title}
    )
    assert response.status_code == 400
    assert "TLP:RED: name the people at each partner organisation" in response.text
    assert not Share.objects.exists()


def test_it_lets_only_the_csirt_share(grid_incident: Incident, reporter: User, veskaria: Organisation) -> None:
    response = signed_in(reporter).post(
        f"/sharing/incidents/{grid_incident.reference}/", {"organisations": [veskaria.pk], "title": "x"}
    )
    assert response.status_code == 403
    assert signed_in(reporter).get(f"/sharing/incidents/{grid_incident.reference}/").status_code == 403
    assert not Share.objects.exists()


def test_it_records_the_reporters_consent_from_the_incident_page(grid_incident: Incident, reporter: User) -> None:
    response = signed_in(reporter).post(f"/sharing/incidents/{grid_incident.reference}/consent", {"agreed": "1"})
    assert response.status_code == 303
    grid_incident.refresh_from_db()
    assert grid_incident.reporter_may_be_named


def test_it_takes_partners_home_to_what_was_shared_with_them(partner: User) -> None:
    client = signed_in(partner)
    assert client.get("/home/")["Location"] == "/shared/"
    nav = client.get("/shared/").text.split("<nav")[1].split("</nav>")[0]
    assert 'href="/shared/"' in nav and "/queue/" not in nav
    assert client.get("/queue/").status_code == 403


def test_its_share_form_names_the_reporter_only_when_consent_was_given(
    grid_incident: Incident, analyst: User, reporter: User, partner: User, veskaria: Organisation
) -> None:
    set_naming_consent(incident=grid_incident, actor=reporter, agreed=True)
    client = signed_in(analyst)
    assert 'name="identify_reporter"' in client.get(f"/sharing/incidents/{grid_incident.reference}/").text
    client.post(
        f"/sharing/incidents/{grid_incident.reference}/",
        {"organisations": [veskaria.pk], "identify_reporter": "on", "title": grid_incident.title},
    )
    assert Share.objects.get().record["reporter"] == "Aralia Grid"


def test_it_offers_partners_the_files_of_what_was_shared(partner: User, analyst: User, grid_incident: Incident) -> None:
    share_incident(incident=grid_incident, actor=analyst, organisations=[Organisation.objects.get(slug="veskaria-cda")])
    listing = signed_in(partner).get("/shared/").text
    assert 'href="/export/?format=stix"' in listing
