"""Sharing with partners abroad through the services: TLP, anonymity, the partner's scale, revoking."""

from __future__ import annotations

import json

import pytest

import nciss
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents import services as incidents
from nciss_platform.incidents.models import TLP, Incident, TimelineEntry
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.sharing.access import shares_visible_to
from nciss_platform.sharing.models import PartnerGroup, Share
from nciss_platform.sharing.services import (
    records_for,
    records_for_organisation,
    revoke_share,
    set_naming_consent,
    share_incident,
)
from nciss_platform.sharing.tests.conftest import GRID_FACTS

pytestmark = pytest.mark.django_db


def partner_level(share: Share) -> dict:
    return share.record["assessments"][-1]


def test_it_sends_the_level_on_each_partners_own_scale_computed_from_the_facts_when_they_settle_it(
    grid_incident: Incident, analyst: User, network: PartnerGroup
) -> None:
    shares = {s.organisation.slug: s for s in share_incident(incident=grid_incident, actor=analyst, group=network)}

    cisa = partner_level(shares["veskaria-cda"])
    expected = nciss.assess(nciss.load_scale("cisa-nciss"), grid_incident.facts)
    assert (cisa["scale_id"], cisa["rank"], cisa["basis"], cisa["missing"]) == (
        "cisa-nciss",
        expected.rank,
        "facts",
        [],
    )
    assert cisa["score"] == pytest.approx(expected.score)
    assert cisa["name"] == nciss.load_scale("cisa-nciss").levels[expected.rank].name.get_for("ru")  # Veskaria reads ru
    national = shares["veskaria-cda"].record["assessments"][0]
    assert (national["scale_id"], national["rank"]) == ("osce-reference", grid_incident.level)
    assert partner_level(shares["ostmark-ncc"])["scale_id"] == "uk-ncsc"
    assert all(s.group == network and s.stix_id.startswith("incident--") for s in shares.values())


def test_it_crosswalks_from_the_national_level_when_a_decisive_fact_is_missing_and_names_it(
    grid_incident: Incident, analyst: User, ostmark: Organisation
) -> None:
    [share] = share_incident(incident=grid_incident, actor=analyst, organisations=[ostmark])

    uk = partner_level(share)
    facts_only = nciss.assess(nciss.load_scale("uk-ncsc"), grid_incident.facts)
    assert facts_only.rank != facts_only.reachable_max, "the UK category waits on a fact"
    assert uk["basis"] == "crosswalk" and "fatalities" in uk["missing"]
    row = nciss.crosswalk(nciss.load_scale("osce-reference"), "uk-ncsc", grid_incident.level)
    assert row.min <= uk["rank"] <= uk["reachable_max"] <= row.max
    assert facts_only.rank <= uk["rank"], "never below what the known facts prove"


def test_it_sends_the_facts_lower_bound_with_the_missing_facts_where_no_crosswalk_exists(
    grid_incident: Incident, analyst: User, veskaria: Organisation, settings
) -> None:
    settings.NCISS_NATIONAL_SCALE = "eu-nis2"  # no table from NIS2 to itself: the partner reads it the same way
    veskaria.preferred_scale = "eu-nis2"
    veskaria.save()

    [share] = share_incident(incident=grid_incident, actor=analyst, organisations=[veskaria])

    level = partner_level(share)
    facts_only = nciss.assess(nciss.load_scale("eu-nis2"), grid_incident.facts)
    assert (level["rank"], level["basis"]) == (facts_only.rank, "facts")
    assert level["missing"] == list(facts_only.decisive_unknowns or facts_only.unknown) != []


def test_it_refuses_anyone_but_the_csirts_analysts_and_coordinators(
    grid_incident: Incident, reporter: User, partner: User, veskaria: Organisation
) -> None:
    for actor in (reporter, partner):
        with pytest.raises(NotAllowed):
            share_incident(incident=grid_incident, actor=actor, organisations=[veskaria])
    assert not Share.objects.exists()


def test_it_shares_only_with_partner_organisations_abroad(
    grid_incident: Incident, analyst: User, ministry: Organisation
) -> None:
    with pytest.raises(ServiceError) as refused:
        share_incident(incident=grid_incident, actor=analyst, organisations=[ministry])
    assert refused.value.errors == [("organisations", "Ministry of Finance is not a partner organisation abroad")]
    with pytest.raises(ServiceError, match="choose at least one partner organisation or a group"):
        share_incident(incident=grid_incident, actor=analyst)
    assert not Share.objects.exists()


def test_it_refuses_tlp_red_without_named_people_at_each_recipient_organisation(
    reporter: User,
    analyst: User,
    partner: User,
    ostmark_partner: User,
    network: PartnerGroup,
    veskaria: Organisation,
) -> None:
    red = report(reporter, facts=dict(GRID_FACTS), tlp=TLP.RED, red_recipients=[analyst])

    with pytest.raises(ServiceError, match="TLP:RED: name the people"):
        share_incident(incident=red, actor=analyst, organisations=[veskaria])
    with pytest.raises(ServiceError, match="name at least one person at Ostmark National Cyber Centre"):
        share_incident(incident=red, actor=analyst, group=network, recipients=[partner])
    with pytest.raises(ServiceError, match="ostmark-partner does not work at an organisation it is shared with"):
        share_incident(incident=red, actor=analyst, organisations=[veskaria], recipients=[partner, ostmark_partner])
    assert not Share.objects.exists()

    shares = share_incident(incident=red, actor=analyst, group=network, recipients=[partner, ostmark_partner])
    assert {s.organisation.slug: [u.username for u in s.recipients.all()] for s in shares} == {
        "veskaria-cda": ["veskaria-partner"],
        "ostmark-ncc": ["ostmark-partner"],
    }


def test_it_lets_only_the_people_named_see_a_tlp_red_share_not_their_colleagues(
    reporter: User, analyst: User, partner: User, colleague: User, veskaria: Organisation
) -> None:
    red = report(reporter, facts=dict(GRID_FACTS), tlp=TLP.RED, red_recipients=[analyst])
    share_incident(incident=red, actor=analyst, organisations=[veskaria], recipients=[partner])

    assert [r.reference for r in records_for(partner)] == [red.reference]
    assert list(records_for(colleague)) == []
    assert list(records_for_organisation(veskaria)) == [], "a file for the organisation never holds TLP:RED"


def test_it_refuses_a_tlp_red_incident_to_staff_not_named_on_it(
    reporter: User, analyst: User, coordinator: User, partner: User, veskaria: Organisation
) -> None:
    red = report(reporter, facts=dict(GRID_FACTS), tlp=TLP.RED, red_recipients=[analyst])
    with pytest.raises(NotAllowed):
        share_incident(incident=red, actor=coordinator, organisations=[veskaria], recipients=[partner])


def test_it_refuses_named_readers_on_a_share_that_is_not_tlp_red(
    grid_incident: Incident, analyst: User, partner: User, veskaria: Organisation
) -> None:
    with pytest.raises(ServiceError, match="only TLP:RED names its readers"):
        share_incident(incident=grid_incident, actor=analyst, organisations=[veskaria], recipients=[partner])


def test_it_keeps_an_amber_strict_share_inside_each_recipient_organisation(
    reporter: User, analyst: User, partner: User, colleague: User, ostmark_partner: User, network: PartnerGroup
) -> None:
    strict = report(reporter, facts=dict(GRID_FACTS), tlp=TLP.AMBER_STRICT)
    shares = share_incident(incident=strict, actor=analyst, group=network)

    assert len(shares) == 2 and all(s.tlp == TLP.AMBER_STRICT for s in shares)
    veskarian = {s.organisation_id for s in shares_visible_to(partner)}
    assert veskarian == {s.organisation_id for s in shares_visible_to(colleague)} == {partner.organisation_id}
    assert {s.organisation_id for s in shares_visible_to(ostmark_partner)} == {ostmark_partner.organisation_id}
    assert not shares_visible_to(reporter).exists() and not shares_visible_to(analyst).exists()


def test_it_names_the_reporter_only_if_it_agreed(
    grid_incident: Incident, analyst: User, reporter: User, veskaria: Organisation
) -> None:
    with pytest.raises(ServiceError) as refused:
        share_incident(incident=grid_incident, actor=analyst, organisations=[veskaria], identify_reporter=True)
    assert refused.value.errors == [
        ("identify_reporter", "the reporting organisation has not agreed to be named abroad")
    ]

    set_naming_consent(incident=grid_incident, actor=reporter, agreed=True)
    [share] = share_incident(incident=grid_incident, actor=analyst, organisations=[veskaria], identify_reporter=True)
    assert share.identifies_reporter
    assert (share.record["reporter"], share.record["reporter_country"]) == ("Aralia Grid", "XA")
    assert share.record["observables"][0]["comment"] == "seen on our VPN"


def test_it_sends_an_anonymous_share_without_anything_that_names_the_reporter(
    reporter: User, analyst: User, veskaria: Organisation
) -> None:
    facts = {**GRID_FACTS, "annual_turnover_eur": 620_000_000.0}
    incident = report(reporter, facts=facts, description="Aralia Grid's SCADA network was entered.")

    with pytest.raises(ServiceError) as refused:
        share_incident(incident=incident, actor=analyst, organisations=[veskaria])
    assert refused.value.errors == [
        ("description", "names Aralia Grid: rewrite it, or identify the reporter (if it agreed)")
    ]
    [share] = share_incident(
        incident=incident, actor=analyst, organisations=[veskaria], description="A transmission operator's SCADA."
    )

    sent = json.dumps(share.record, ensure_ascii=False)
    assert "Aralia Grid" not in sent and "aralia-grid" not in sent
    assert share.record["reporter"] is None and share.record["reporter_country"] == "XA"
    assert "annual_turnover_eur" not in share.record["facts"]
    assert share.record["assessments"][0]["rank"] == incident.level, "the level still reads every fact"


def test_it_records_who_shared_what_with_whom_on_the_timeline_and_in_the_audit_log(
    grid_incident: Incident, analyst: User, network: PartnerGroup
) -> None:
    shares = share_incident(incident=grid_incident, actor=analyst, group=network, title="Intrusion at an operator")

    entry = grid_incident.timeline.filter(kind=TimelineEntry.Kind.TLP).get()
    assert entry.author == analyst
    assert entry.data["shared_with"] == ["Ostmark National Cyber Centre", "Veskarian Cyber Defence Agency"]
    event = AuditEvent.objects.get(action="incident.shared")
    assert event.actor == "analyst" and event.object_id == str(grid_incident.pk)
    assert event.data["organisations"] == ["ostmark-ncc", "veskaria-cda"] and event.data["group"] == "CSIRT network"
    assert sorted(event.data["shares"]) == sorted(s.pk for s in shares)
    assert all(s.record["title"] == "Intrusion at an operator" for s in shares)


def test_it_withdraws_a_share_and_its_earlier_versions_when_revoked(
    grid_incident: Incident, analyst: User, partner: User, ostmark_partner: User, network: PartnerGroup
) -> None:
    share_incident(incident=grid_incident, actor=analyst, group=network)
    incidents.update_facts(incident=grid_incident, actor=analyst, changes={"fatalities": 0})
    latest = share_incident(incident=grid_incident, actor=analyst, group=network)
    to_veskaria = next(s for s in latest if s.organisation_id == partner.organisation_id)
    assert [r.facts.get("fatalities") for r in records_for(partner)] == [0], "the latest version only"

    revoke_share(share=to_veskaria, actor=analyst)

    assert list(records_for(partner)) == [] and not shares_visible_to(partner).exists()
    assert len(list(records_for(ostmark_partner))) == 1, "Ostmark keeps its share"
    event = AuditEvent.objects.get(action="incident.share_revoked")
    assert event.data["organisation"] == "veskaria-cda" and len(event.data["shares"]) == 2
    with pytest.raises(ServiceError, match="already revoked"):
        revoke_share(share=to_veskaria, actor=analyst)


def test_it_lets_only_the_csirt_revoke(grid_incident: Incident, analyst: User, partner: User, reporter: User) -> None:
    [share] = share_incident(incident=grid_incident, actor=analyst, organisations=[partner.organisation])
    for actor in (partner, reporter):
        with pytest.raises(NotAllowed):
            revoke_share(share=share, actor=actor)
    assert Share.objects.get().revoked_at is None


def test_it_takes_consent_to_be_named_from_the_reporting_organisation_or_the_csirt(
    grid_incident: Incident, reporter: User, ministry_reporter: User, partner: User, coordinator: User
) -> None:
    for outsider in (ministry_reporter, partner):
        with pytest.raises(NotAllowed):
            set_naming_consent(incident=grid_incident, actor=outsider, agreed=True)
    set_naming_consent(incident=grid_incident, actor=reporter, agreed=True)
    set_naming_consent(incident=grid_incident, actor=coordinator, agreed=False)
    grid_incident.refresh_from_db()
    assert not grid_incident.reporter_may_be_named
    changes = AuditEvent.objects.filter(action="incident.naming_consent_changed").order_by("pk")
    assert [(e.actor, e.data["reporter_may_be_named"]) for e in changes] == [
        ("grid-reporter", True),
        ("coordinator", False),
    ]


def test_partners_see_their_own_organisations_reports_but_never_triage(
    partner: User, analyst: User, grid_incident: Incident, veskaria: Organisation
) -> None:
    from nciss_platform.incidents.access import visible_incidents

    own = report(partner, "Command server at an Aralian host", facts={"classification": "malicious-code:c2-server"})
    assert list(visible_incidents(partner)) == [own]
    with pytest.raises(NotAllowed):
        incidents.change_status(incident=own, actor=partner, to="triaged")
    share_incident(incident=grid_incident, actor=analyst, organisations=[veskaria])
    assert grid_incident not in visible_incidents(partner), "a share is its record, never the incident itself"


def test_partners_sign_in_with_a_password_like_reporters(partner: User, analyst: User, settings) -> None:
    settings.NCISS_REQUIRE_2FA = True
    assert not partner.needs_second_factor and analyst.needs_second_factor
    assert User.objects.create_user("boss", role="partner", is_superuser=True).needs_second_factor


def test_it_refuses_a_partner_whose_preferred_scale_this_deployment_lacks(
    grid_incident: Incident, analyst: User
) -> None:
    lost = Organisation.objects.create(
        name="Faraway CERT", slug="faraway", kind="partner", country="XD", preferred_scale="retired-scale"
    )
    with pytest.raises(ServiceError, match="prefers 'retired-scale', no scale here"):
        share_incident(incident=grid_incident, actor=analyst, organisations=[lost])
