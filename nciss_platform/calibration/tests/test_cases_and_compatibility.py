"""Reference cases kept by the owner, and the compatibility of two scales on the history."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

import nciss
from nciss import calibration as core
from nciss_platform.accounts.models import User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.calibration.models import ReferenceCase
from nciss_platform.incidents.models import Incident


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_shipped_cases_are_kept_then_edited_added_and_deleted(owner: User) -> None:
    client = client_for(owner)
    shipped = core.reference_cases("osce-reference")
    page = client.get(reverse("calibration:cases")).content.decode()
    assert page.count('<tr class="passed">') == len(shipped)  # the preset passes its own cases

    client.post(reverse("calibration:cases-seed"), {"scale": "osce-reference"})
    kept = list(ReferenceCase.objects.filter(scale_id="osce-reference"))
    assert [(c.title, c.agreed_level, c.source) for c in kept] == [(s.why, s.rank, "seeded") for s in shipped]
    client.post(reverse("calibration:cases-seed"), {"scale": "osce-reference"})
    assert ReferenceCase.objects.count() == len(shipped)  # seeding twice adds nothing

    case = kept[0]
    wrong = (case.agreed_level + 1) % 6
    client.post(
        reverse("calibration:case-edit", args=[case.pk]),
        {"title": case.title, "facts": '{"functional_impact": "denial-critical"}', "agreed_level": wrong},
    )
    case.refresh_from_db()
    assert case.facts == {"functional_impact": "denial-critical"} and case.agreed_level == wrong
    scale = nciss.load_scale("osce-reference")
    expected_pass = nciss.assess(scale, case.facts).rank == wrong
    page = client.get(reverse("calibration:cases")).content.decode()
    assert page.count('<tr class="failed">') == (0 if expected_pass else 1)

    added = client.post(
        reverse("calibration:case-new"),
        {"scale": "osce-reference", "title": "Loss of life", "facts": '{"fatalities": 1}', "agreed_level": "4"},
    )
    assert added.status_code == 302
    client.post(reverse("calibration:case-delete", args=[kept[1].pk]))
    assert ReferenceCase.objects.count() == len(shipped)
    actions = set(AuditEvent.objects.filter(action__startswith="calibration.case").values_list("action", flat=True))
    assert actions == {
        "calibration.cases_seeded",
        "calibration.case_changed",
        "calibration.case_added",
        "calibration.case_deleted",
    }


def test_a_case_with_bad_facts_or_level_is_refused_with_paths(owner: User) -> None:
    response = client_for(owner).post(
        reverse("calibration:case-new"),
        {"scale": "osce-reference", "title": "", "facts": '{"fatality": 1}', "agreed_level": "9"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    for path in ("title", "facts.fatality", "agreed_level"):
        assert f"<code>{path}</code>" in page
    assert not ReferenceCase.objects.exists()


def test_compatibility_of_two_scales_links_each_cell_to_its_incidents(owner: User, history: list[Incident]) -> None:
    client = client_for(owner)
    a, b = nciss.load_scale("osce-reference"), nciss.load_scale("uk-ncsc")
    cells: dict[tuple[int, int], set[str]] = {}
    for incident in history:
        cells.setdefault((nciss.assess(a, incident.facts).rank, nciss.assess(b, incident.facts).rank), set()).add(
            incident.reference
        )
    page = client.get(reverse("calibration:compatibility") + "?a=osce-reference&b=uk-ncsc").content.decode()
    assert "Spearman" in page
    links = re.findall(r'<a href="([^"]*compatibility/incidents[^"]*)">(\d+)</a>', page)
    assert sorted(int(n) for _, n in links) == sorted(len(refs) for refs in cells.values())
    for link, _ in links:
        query = dict(re.findall(r"(la|lb)=(\d+)", link))
        listed = client.get(link.replace("&amp;", "&")).content.decode()
        assert set(re.findall(r"NCISS-\d{4}-\d+", listed)) == cells[(int(query["la"]), int(query["lb"]))]


def test_comparing_a_scale_with_itself_agrees_perfectly(owner: User, history: list[Incident]) -> None:
    page = client_for(owner).get(reverse("calibration:compatibility") + "?a=osce-reference&b=osce-reference")
    stats = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", page.content.decode()))
    assert stats["Weighted kappa (quadratic)"] == "1.000" and stats["Exact agreement"] == "1.000"


def test_an_unknown_scale_is_a_400(owner: User) -> None:
    response = client_for(owner).get(reverse("calibration:compatibility") + "?a=osce-reference&b=nowhere")
    assert response.status_code == 400 and "unknown scale" in response.content.decode()
