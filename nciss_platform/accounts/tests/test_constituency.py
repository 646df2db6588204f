"""Network assets of organisations: adding them, the cached constituency, and ``nciss constituency``."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from nciss_platform.accounts import constituency as services
from nciss_platform.accounts.models import NetworkAsset, Organisation, User
from nciss_platform.accounts.services import create_organisation
from nciss_platform.audit.models import AuditEvent
from nciss_platform.errors import NotAllowed, ServiceError

pytestmark = pytest.mark.django_db


@pytest.fixture
def telecom(db: None) -> Organisation:
    return create_organisation(actor=None, name="AralTelecom", slug="araltelecom", kind="operator", country="XA")


def test_it_adds_normalised_assets_and_audits_them(energy: Organisation, coordinator: User) -> None:
    added = services.add_assets(
        actor=coordinator,
        organisation=energy,
        assets=[("cidr", "2001:DB8:0:0::/32", "head office"), ("asn", "AS64530"), ("domain", "Grid.Example.")],
    )
    assert sorted((a.kind, a.value, a.note) for a in added) == [
        ("asn", "64530", ""),
        ("cidr", "2001:db8::/32", "head office"),
        ("domain", "grid.example", ""),
    ]
    event = AuditEvent.objects.get(action="organisation.assets_added")
    assert event.actor == "coordinator"
    assert event.data["assets"] == ["cidr 2001:db8::/32", "asn 64530", "domain grid.example"]


def test_it_skips_assets_the_organisation_already_has(energy: Organisation) -> None:
    services.add_assets(actor=None, organisation=energy, assets=[("cidr", "198.51.100.0/24")])
    again = services.add_assets(actor=None, organisation=energy, assets=[("cidr", "198.51.100.0/24")])
    assert again == []
    assert NetworkAsset.objects.count() == 1
    assert AuditEvent.objects.filter(action="organisation.assets_added").count() == 1


def test_it_refuses_an_asset_of_another_organisation_and_adds_nothing(
    energy: Organisation, telecom: Organisation
) -> None:
    services.add_assets(actor=None, organisation=telecom, assets=[("cidr", "203.0.113.0/24")])
    with pytest.raises(ServiceError) as caught:
        services.add_assets(
            actor=None, organisation=energy, assets=[("domain", "grid.example"), ("cidr", "203.0.113.0/24")]
        )
    assert caught.value.errors == [("assets", "cidr 203.0.113.0/24 already belongs to AralTelecom")]
    assert not energy.network_assets.exists()


def test_it_allows_a_prefix_inside_another_organisations(energy: Organisation, telecom: Organisation) -> None:
    services.add_assets(actor=None, organisation=telecom, assets=[("cidr", "203.0.113.0/24")])
    services.add_assets(actor=None, organisation=energy, assets=[("cidr", "203.0.113.64/28")])
    built = services.constituency()
    assert built.owner_of_ip("203.0.113.70") == energy.pk
    assert built.owner_of_ip("203.0.113.1") == telecom.pk


def test_it_names_each_bad_value(energy: Organisation) -> None:
    with pytest.raises(ServiceError) as caught:
        services.add_assets(
            actor=None,
            organisation=energy,
            assets=[("cidr", "192.0.2.1/24"), ("asn", "99999999999"), ("domain", "ok.example"), ("host", "x")],
        )
    paths = [path for path, _ in caught.value.errors]
    assert paths == ["assets[0]", "assets[1]", "assets[3]"]
    assert "host bits set" in caught.value.errors[0][1]


def test_it_lets_only_administrators_and_coordinators_manage_assets(
    energy: Organisation, personas: dict[str, User]
) -> None:
    for persona in ("reporter", "analyst"):
        with pytest.raises(NotAllowed):
            services.add_assets(actor=personas[persona], organisation=energy, assets=[("asn", "64530")])
    services.add_assets(actor=personas["administrator"], organisation=energy, assets=[("asn", "64530")])
    with pytest.raises(NotAllowed):
        services.remove_assets(actor=personas["reporter"], organisation=energy, assets=[("asn", "64530")])


def test_it_rebuilds_the_constituency_when_assets_change(energy: Organisation) -> None:
    services.add_assets(actor=None, organisation=energy, assets=[("domain", "grid.example")])
    first = services.constituency()
    assert services.constituency() is first
    assert first.owner_of_domain("scada.grid.example") == energy.pk
    services.add_assets(actor=None, organisation=energy, assets=[("asn", "64530")])
    second = services.constituency()
    assert second is not first and second.owner_of_asn(64530) == energy.pk
    assert services.remove_assets(actor=None, organisation=energy, assets=[("domain", "GRID.example")]) == 1
    assert services.constituency().owner_of_domain("scada.grid.example") is None
    assert AuditEvent.objects.get(action="organisation.assets_removed").data == {"assets": ["domain grid.example"]}
    services.add_assets(actor=None, organisation=energy, assets=[("domain", "grid2.example")])
    services.remove_assets(actor=None, organisation=energy, assets=[("domain", "grid2.example")])
    services.add_assets(actor=None, organisation=energy, assets=[("domain", "grid3.example")])
    assert services.constituency().owner_of_domain("grid3.example") == energy.pk


# ---------------------------------------------------------------- nciss constituency


def run(*args: str) -> str:
    out = StringIO()
    call_command("constituency", *args, stdout=out)
    return out.getvalue()


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "assets.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_it_loads_a_csv_and_looks_values_up(tmp_path: Path, energy: Organisation, telecom: Organisation) -> None:
    path = write(
        tmp_path,
        "organisation,kind,value,note\n"
        "araltelecom,cidr,203.0.113.0/24,customers\n"
        "araltelecom,asn,AS64512\n"
        "aralia-grid,cidr,203.0.113.64/28,substations\n"
        "aralia-grid,domain,grid.example\n"
        "aralia-grid,cidr,2001:db8:42::/48\n",
    )
    assert run("load", path).endswith("5 rows for 2 organisations: 5 assets added, 0 already there\n")
    assert run("load", path).endswith("0 assets added, 5 already there\n")
    assert run("lookup", "203.0.113.65") == "203.0.113.65: aralia-grid (Aralia Grid)\n"
    assert run("lookup", "203.0.113.200") == "203.0.113.200: araltelecom (AralTelecom)\n"
    assert run("lookup", "AS64512") == "AS64512: araltelecom (AralTelecom)\n"
    assert run("lookup", "hmi.grid.example") == "hmi.grid.example: aralia-grid (Aralia Grid)\n"
    assert (
        run("lookup", "https://hmi.grid.example/login") == "https://hmi.grid.example/login: aralia-grid (Aralia Grid)\n"
    )
    assert run("lookup", "2001:db8:42::1") == "2001:db8:42::1: aralia-grid (Aralia Grid)\n"
    with pytest.raises(SystemExit) as exited:
        run("lookup", "192.0.2.1")
    assert exited.value.code == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("aralia-grid,cidr,203.0.113.0/24\nnowhere,asn,64512\n", "unknown organisation 'nowhere'"),
        ("aralia-grid,cidr,203.0.113.0/24\naralia-grid,cidr,203.0.113.7/24\n", "host bits set"),
        ("aralia-grid,cidr,203.0.113.0/24\naralia-grid,asn\n", ":2: expected organisation,kind,value[,note]"),
        ("aralia-grid,cidr,203.0.113.0/24\naraltelecom,cidr,203.0.113.0/24\n", "already belongs to Aralia Grid"),
        ("organisation,kind,value\n", "no assets in it"),
    ],
)
def test_it_imports_nothing_from_a_file_with_a_bad_row(
    tmp_path: Path, energy: Organisation, telecom: Organisation, text: str, reason: str
) -> None:
    with pytest.raises(CommandError) as caught:
        run("load", write(tmp_path, text))
    assert caught.value.returncode == 2
    assert reason in str(caught.value) and "\n" not in str(caught.value)
    assert not NetworkAsset.objects.exists()


def test_it_removes_an_asset_from_the_command_line(tmp_path: Path, energy: Organisation) -> None:
    run("load", write(tmp_path, "aralia-grid,domain,grid.example\n"))
    assert run("remove", "domain", "Grid.Example") == "removed the domain Grid.Example from aralia-grid\n"
    assert not NetworkAsset.objects.exists()
    with pytest.raises(CommandError, match=r"no organisation has the domain grid\.example"):
        run("remove", "domain", "grid.example")


def test_it_lists_assets_on_the_organisation_in_the_admin(
    energy: Organisation, administrator: User, signed_in: Any
) -> None:
    services.add_assets(actor=None, organisation=energy, assets=[("cidr", "198.51.100.0/25", "control network")])
    page = signed_in(administrator).get(f"/admin/accounts/organisation/{energy.pk}/change/")
    assert page.status_code == 200
    assert "198.51.100.0/25" in page.content.decode() and "control network" in page.content.decode()
