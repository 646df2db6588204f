"""The calibration pages: who may open them, the draft editor, the impact page's numbers and links, publishing."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from django.urls import reverse

import nciss
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.calibration import services, versions
from nciss_platform.calibration.models import ScaleDraft, ScaleVersion
from nciss_platform.calibration.tests.conftest import FACTS
from nciss_platform.incidents.models import Incident
from nciss_platform.incidents.tests.conftest import report

OWNER_PAGES: list[tuple[str, list[int]]] = [
    ("calibration:index", []),
    ("calibration:cases", []),
    ("calibration:compatibility", []),
    ("calibration:sessions", []),
]


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["reporter", "analyst", "coordinator", "partner"])
def test_other_roles_get_403_everywhere(csirt: Organisation, owner: User, role: str) -> None:
    draft = services.create_draft(actor=owner, scale_id="osce-reference")
    user = User.objects.create_user(f"a-{role}", role=role, organisation=csirt)
    client = client_for(user)
    for name, args in [*OWNER_PAGES, ("calibration:draft", [draft.pk]), ("calibration:impact", [draft.pk])]:
        assert client.get(reverse(name, args=args)).status_code == 403, name
    assert client.post(reverse("calibration:draft-new"), {"scale_id": "osce-reference"}).status_code == 403
    assert client.post(reverse("calibration:publish", args=[draft.pk]), {"change_note": "x"}).status_code == 403
    assert ScaleDraft.objects.count() == 1 and not ScaleVersion.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(db: None) -> None:
    response = Client().get(reverse("calibration:index"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["owner", "administrator"])
def test_scale_owners_and_administrators_open_every_page(
    request: pytest.FixtureRequest, who: str, history: list[Incident]
) -> None:
    client = client_for(request.getfixturevalue(who))
    for name, args in OWNER_PAGES:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
    assert b"Calibration" in client.get(reverse("calibration:index")).content  # the nav link


def test_scale_owners_need_a_second_factor(owner: User, settings: object) -> None:
    settings.NCISS_REQUIRE_2FA = True  # type: ignore[attr-defined]
    assert owner.needs_second_factor


def test_a_new_draft_starts_from_the_current_definition(owner: User) -> None:
    response = client_for(owner).post(reverse("calibration:draft-new"), {"scale_id": "osce-reference"})
    draft = ScaleDraft.objects.get()
    assert response["Location"] == reverse("calibration:draft", args=[draft.pk])
    assert draft.source == services.current_source("osce-reference") and draft.is_valid


def test_the_live_check_lists_errors_with_their_paths(owner: User) -> None:
    draft = services.create_draft(actor=owner, scale_id="osce-reference")
    broken = draft.source.replace('{functional_impact: "<= no-impact-to-services"}', '{fatality: ">= 1"}', 1)
    assert broken != draft.source
    response = client_for(owner).post(reverse("calibration:draft-validate", args=[draft.pk]), {"source": broken})
    assert response.status_code == 200
    assert re.search(r"<code>rules\[0\]\.when\.all\[1\]\.fatality</code>: unknown fact", response.content.decode())
    draft.refresh_from_db()
    assert draft.is_valid  # the live check saves nothing


def test_saving_an_invalid_definition_keeps_it_with_its_errors(owner: User) -> None:
    draft = services.create_draft(actor=owner, scale_id="osce-reference")
    client_for(owner).post(
        reverse("calibration:draft", args=[draft.pk]), {"source": "id: osce-reference\nlevels: []\n"}
    )
    draft.refresh_from_db()
    assert draft.source.startswith("id: osce-reference") and not draft.is_valid
    assert any(path.startswith("levels") or path == "(top)" for path, _ in draft.errors)
    page = client_for(owner).get(reverse("calibration:draft", args=[draft.pk])).content.decode()
    assert "See the impact" not in page


def test_a_draft_must_keep_its_scale_id(owner: User) -> None:
    checked = services.validate_source("id: another\nversion: '1'\n", "osce-reference")
    assert checked.errors == [("id", "a draft of osce-reference must keep the id 'osce-reference'")]


def test_the_form_view_edits_the_definition(owner: User) -> None:
    draft = services.create_draft(actor=owner, scale_id="osce-reference")
    response = client_for(owner).post(
        reverse("calibration:draft-form", args=[draft.pk]),
        {"cat-0-weight": "9", "threshold-0": "12", "level-1-name": "Minor", "rule-0-effect": "floor"},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    scale = services.draft_scale(draft)
    assert scale.weighted is not None
    assert scale.weighted.categories[0].weight == 9
    assert scale.weighted.thresholds[0] == (1, 12)
    assert scale.levels[1].name.get_for("en") == "Minor"
    assert scale.rules[0].effect == "floor"


def test_the_form_view_refuses_what_does_not_parse(owner: User) -> None:
    draft = services.create_draft(actor=owner, scale_id="osce-reference")
    source = draft.source
    response = client_for(owner).post(reverse("calibration:draft-form", args=[draft.pk]), {"cat-0-weight": "heavy"})
    assert response.status_code == 400
    assert "weighted.categories[0].weight" in response.content.decode()
    draft.refresh_from_db()
    assert draft.source == source


def test_uploading_a_definition_makes_a_draft(owner: User, lower_thresholds: str) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("scale.yaml", lower_thresholds.encode())
    client_for(owner).post(reverse("calibration:draft-upload"), {"scale_id": "osce-reference", "file": upload})
    draft = ScaleDraft.objects.get()
    assert draft.is_valid and services.draft_scale(draft).version == "1.1-test"


def test_the_impact_matrix_counts_and_links_to_exactly_its_incidents(
    owner: User, history: list[Incident], lower_thresholds: str
) -> None:
    draft = services.create_draft(actor=owner, scale_id="osce-reference", source=lower_thresholds)
    current, new = versions.national_scale(), services.draft_scale(draft)
    cells: dict[tuple[int, int], set[str]] = {}
    for incident in history:
        key = (nciss.assess(current, incident.facts).rank, nciss.assess(new, incident.facts).rank)
        cells.setdefault(key, set()).add(incident.reference)
    assert any(before != after for before, after in cells), "the draft moves an incident"
    client = client_for(owner)

    page = client.get(reverse("calibration:impact", args=[draft.pk])).content.decode()

    matrix = page[page.index('id="what-if-matrix"') : page.index("</table>", page.index('id="what-if-matrix"'))]
    shown = {
        (int(b), int(a)): (int(n), link.replace("&amp;", "&"))
        for b, a, link, n in re.findall(r'data-before="(\d+)" data-after="(\d+)"><a href="([^"]+)">(\d+)</a>', matrix)
    }
    assert {key: n for key, (n, _) in shown.items()} == {key: len(refs) for key, refs in cells.items()}
    for key, (_, link) in shown.items():
        assert parse_qs(urlparse(link).query)["before"] == [str(key[0])]
        listed = client.get(link).content.decode()
        assert set(re.findall(r"NCISS-\d{4}-\d+", listed)) == cells[key]
    moved = sum(len(refs) for (b, a), refs in cells.items() if b != a)
    assert f"{moved} incident" in page


def test_the_impact_page_shows_the_reference_cases_against_the_draft(owner: User, lower_thresholds: str) -> None:
    draft = services.create_draft(actor=owner, scale_id="osce-reference", source=lower_thresholds)
    page = client_for(owner).get(reverse("calibration:impact", args=[draft.pk])).content.decode()
    results = page[page.index('id="case-results"') :]
    outcomes = Counter(re.findall(r'<tr class="(passed|failed)">', results))
    assert outcomes["failed"] > 0  # lowering every threshold breaks agreed levels
    assert sum(outcomes.values()) > 1


def test_publishing_from_the_page_then_reassessing(owner: User, history: list[Incident], lower_thresholds: str) -> None:
    draft = services.create_draft(actor=owner, scale_id="osce-reference", source=lower_thresholds)
    client = client_for(owner)
    response = client.post(reverse("calibration:publish", args=[draft.pk]), {"change_note": ""})
    assert response.status_code == 400 and "change_note" in response.content.decode()

    response = client.post(reverse("calibration:publish", args=[draft.pk]), {"change_note": "Lower thresholds"})
    version = ScaleVersion.objects.get()
    assert response["Location"] == reverse("calibration:version", args=[version.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Re-assess 3 open incidents now" in page

    client.post(reverse("calibration:reassess", args=[version.pk]))
    assert {i.assessments.order_by("-pk")[0].scale_version for i in Incident.objects.all()} == {"1.1-test"}


def test_the_sensitivity_table_counts_the_incidents_each_number_moves(
    owner: User, history: list[Incident], lower_thresholds: str
) -> None:
    from nciss import calibration as core

    draft = services.create_draft(actor=owner, scale_id="osce-reference", source=lower_thresholds)
    scale = services.draft_scale(draft)
    table = client_for(owner).get(reverse("calibration:sensitivity", args=[draft.pk])).content.decode()
    rows = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td>[^<]*</td>\s*<td>(\d+) <span class="hint">\(([-\d.]+)\)', table
    )
    assert rows, "some number of the draft moves one of the three incidents"
    for label, shown, lower in rows[:3]:
        parameter = next(p for p in core.parameters(scale) if p.label == label.replace("&#x27;", "'"))
        lowered = core.vary(scale, parameter, float(lower))
        moved = sum(nciss.assess(lowered, i.facts).rank != nciss.assess(scale, i.facts).rank for i in history)
        assert int(shown) == moved, label


def test_tlp_red_incidents_are_counted_but_never_named(owner: User, reporter: User, lower_thresholds: str) -> None:
    red = report(reporter, facts=dict(FACTS[0]), tlp="TLP:RED")
    draft = services.create_draft(actor=owner, scale_id="osce-reference", source=lower_thresholds)
    client = client_for(owner)
    page = client.get(reverse("calibration:impact", args=[draft.pk])).content.decode()
    assert "1 incident changes level" in page and red.reference not in page
    listed = client.get(reverse("calibration:impact-incidents", args=[draft.pk]) + "?direction=moved").content.decode()
    assert "a TLP:RED incident (not named)" in listed and red.reference not in listed


def test_the_lab_speaks_the_owners_language(owner: User, history: list[Incident], lower_thresholds: str) -> None:
    owner.language = "ru"
    owner.save()
    draft = services.create_draft(actor=owner, scale_id="osce-reference", source=lower_thresholds)
    client = client_for(owner)
    assert "Лаборатория калибровки" in client.get(reverse("calibration:index")).content.decode()
    assert "Что изменил бы проект" in client.get(reverse("calibration:impact", args=[draft.pk])).content.decode()
    assert "Совместимость двух шкал" in client.get(reverse("calibration:compatibility")).content.decode()
