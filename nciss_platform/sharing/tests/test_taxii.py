"""The TAXII 2.1 server, pulled from by the real client (taxii2-client) against a live server.

Two partner organisations abroad, Borduria CERT (Alice and Arthur) and Syldavia CSIRT (Bob),
form the partner group "Balkan partners"; Syldavia is also in "Northern partners". The CSIRT's
analyst shares incidents reported by an energy operator, Aralia Grid, through the sharing service.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from django.test import Client
from rest_framework.authtoken.models import Token
from stix2validator import ValidationOptions, validate_instance
from taxii2client.common import TokenAuth
from taxii2client.exceptions import AccessError
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from nciss_platform import clock
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents.models import TLP, Incident, Observable
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.sharing.models import PartnerGroup, Share
from nciss_platform.sharing.services import revoke_share, share_incident
from nciss_platform.sharing.taxii import MEDIA_TYPE, collection_id

PASSWORD = "correct horse battery staple"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
STRICT = ValidationOptions(version="2.1", strict=True, strict_properties=True, enforce_refs=True, disabled="uuid-check")


@dataclass
class World:
    energy: Organisation
    borduria: Organisation
    syldavia: Organisation
    balkan: PartnerGroup
    northern: PartnerGroup
    analyst: User
    grid_reporter: User
    alice: User
    arthur: User
    bob: User


@pytest.fixture
def world(db: None) -> World:
    csirt = Organisation.objects.create(name="Aralia CSIRT", slug="csirt", kind="csirt", country="XA")
    energy = Organisation.objects.create(
        name="Aralia Grid", slug="aralia-grid", kind="operator", sector="energy", criticality="critical", country="XA"
    )
    borduria = Organisation.objects.create(name="Borduria CERT", slug="borduria-cert", kind="partner", country="XB")
    syldavia = Organisation.objects.create(name="Syldavia CSIRT", slug="syldavia-csirt", kind="partner", country="XC")
    balkan = PartnerGroup.objects.create(name="Balkan partners", slug="balkan")
    balkan.organisations.set([borduria, syldavia])
    northern = PartnerGroup.objects.create(name="Northern partners", slug="northern")
    northern.organisations.set([syldavia])

    def person(username: str, role: str, organisation: Organisation) -> User:
        return User.objects.create_user(username, password=PASSWORD, role=role, organisation=organisation)

    return World(
        energy=energy,
        borduria=borduria,
        syldavia=syldavia,
        balkan=balkan,
        northern=northern,
        analyst=person("analyst", "analyst", csirt),
        grid_reporter=person("grid-reporter", "reporter", energy),
        alice=person("alice", "partner", borduria),
        arthur=person("arthur", "partner", borduria),
        bob=person("bob", "partner", syldavia),
    )


def incident(world: World, title: str = "Substation control lost", **kwargs: Any) -> Incident:
    return report(world.grid_reporter, title=title, at=T0, **kwargs)


def share(world: World, what: Incident, at: dt.datetime, **kwargs: Any) -> list[Share]:
    """Share as the CSIRT's analyst at ``at``; through the Balkan group unless organisations are named."""
    if "organisations" not in kwargs:
        kwargs.setdefault("group", world.balkan)
    with clock.frozen(at):
        return share_incident(incident=what, actor=world.analyst, **kwargs)


@pytest.fixture
def taxii(live_server: Any) -> str:
    return f"{live_server.url}/taxii2/"


@pytest.fixture
def connect(taxii: str) -> Iterator[Callable[..., ApiRoot]]:
    """The API root as the client sees it, for a user (HTTP Basic) or with ``auth``; closed after the test."""
    opened: list[ApiRoot] = []

    def root(user: User | None = None, auth: TokenAuth | None = None) -> ApiRoot:
        credentials = {"user": user.username, "password": PASSWORD} if user else {"auth": auth}
        opened.append(ApiRoot(f"{taxii}partners/", **credentials))
        return opened[-1]

    yield root
    for root_opened in opened:
        root_opened.close()


@pytest.fixture
def collection_of(connect: Callable[..., ApiRoot]) -> Callable[[User, str], Collection]:
    """A user's collection by title, as the client lists it."""

    def find(user: User, title: str) -> Collection:
        return next(c for c in connect(user).collections if c.title == title)

    return find


def raw(url: str, user: User | None, accept: str = MEDIA_TYPE, method: str = "GET") -> requests.Response:
    auth = (user.username, PASSWORD) if user else None
    return requests.request(method, url, auth=auth, headers={"Accept": accept}, timeout=10)


def refusal(call: Callable[[], object]) -> int:
    """The HTTP status of the error the client raises for ``call``."""
    with pytest.raises(requests.HTTPError) as refused:
        call()
    assert refused.value.response is not None
    return refused.value.response.status_code


def incidents_in(envelope: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in envelope.get("objects", []) if o["type"] == "incident"]


# ---------------------------------------------------------------- discovery and collections


def test_it_advertises_one_api_root_to_the_client(world: World, taxii: str) -> None:
    with Server(taxii, user="alice", password=PASSWORD) as server, server.default as root:
        assert server.title == "nciss TAXII server"
        assert [r.url for r in server.api_roots] == [f"{taxii}partners/"]
        assert root.url == f"{taxii}partners/"
        assert root.versions == [MEDIA_TYPE]
        assert root.max_content_length > 0


def test_it_lists_a_collection_per_partner_group_of_the_organisation_and_one_for_direct_shares(
    world: World, connect: Callable[..., ApiRoot]
) -> None:
    def listed(user: User) -> list[tuple[str, bool, bool]]:
        return [(c.title, c.can_read, c.can_write) for c in connect(user).collections]

    assert listed(world.alice) == [
        ("Balkan partners", True, False),
        ("Shared with Borduria CERT directly", True, False),
    ]
    assert listed(world.bob) == [
        ("Balkan partners", True, False),
        ("Northern partners", True, False),
        ("Shared with Syldavia CSIRT directly", True, False),
    ]


def test_it_keeps_a_collection_id_from_one_request_to_the_next(world: World, connect: Callable[..., ApiRoot]) -> None:
    def ids() -> list[str]:
        return [c.id for c in connect(world.bob).collections]

    first = ids()
    assert first == ids()
    assert first[0] == collection_id("group", "balkan")
    assert len(set(first)) == 3


def test_it_answers_404_for_a_collection_of_another_group_or_organisation(world: World, client: Client) -> None:
    client.force_login(world.alice)
    for other in (collection_id("group", "northern"), collection_id("direct", "syldavia-csirt")):
        for path in ("", "objects/", "manifest/"):
            response = client.get(f"/taxii2/partners/collections/{other}/{path}", HTTP_ACCEPT=MEDIA_TYPE)
            assert response.status_code == 404
            assert response.json() == {"title": "Not Found", "description": "no such collection", "http_status": "404"}


def test_it_gives_csirt_staff_and_reporters_no_collections(world: World, connect: Callable[..., ApiRoot]) -> None:
    token = Token.objects.create(user=world.analyst)

    assert connect(auth=TokenAuth(token.key)).collections == []
    assert connect(world.grid_reporter).collections == []


# ---------------------------------------------------------------- objects, paging and filters


def test_it_hands_the_client_every_object_a_page_at_a_time(
    world: World, collection_of: Callable[[User, str], Collection]
) -> None:
    shared = [share(world, incident(world, f"Substation {n} dark"), T0 + n * HOUR)[0] for n in range(1, 4)]
    balkan = collection_of(world.alice, "Balkan partners")

    whole = balkan.get_objects()
    pages = list(as_pages(balkan.get_objects, per_request=2))

    assert whole["more"] is False
    assert len(pages) == (len(whole["objects"]) + 1) // 2
    assert all(len(page["objects"]) == 2 for page in pages[:-1])
    assert [o for page in pages for o in page["objects"]] == whole["objects"]
    assert [o["id"] for o in incidents_in(whole)] == [s.stix_id for s in shared]
    assert "marking-definition" in {o["type"] for o in whole["objects"]}


def test_it_returns_only_what_was_added_after_the_last_pull(
    world: World, collection_of: Callable[[User, str], Collection], taxii: str
) -> None:
    first = share(world, incident(world, "Substation 1 dark"), T0 + HOUR)[0]
    balkan = collection_of(world.alice, "Balkan partners")
    pulled = raw(f"{balkan.url}objects/", world.alice)
    last = pulled.headers["X-TAXII-Date-Added-Last"]
    second = share(world, incident(world, "Substation 2 dark"), T0 + 2 * HOUR)[0]

    assert [o["id"] for o in incidents_in(pulled.json())] == [first.stix_id]
    assert pulled.headers["X-TAXII-Date-Added-First"] == last == "2026-03-02T10:00:00.000000Z"
    news = balkan.get_objects(added_after=last)
    assert [o["id"] for o in incidents_in(news)] == [second.stix_id]
    already_there = {o["id"] for o in pulled.json()["objects"] if o["type"] != "incident"}
    assert not already_there & {o["id"] for o in news["objects"]}


def test_it_filters_by_type_and_id(world: World, collection_of: Callable[[User, str], Collection]) -> None:
    grid = incident(world)
    Observable.objects.create(incident=grid, type="ipv4-addr", value="198.51.100.7")
    shared = share(world, grid, T0 + HOUR)[0]
    share(world, incident(world, "Substation 2 dark"), T0 + 2 * HOUR)
    balkan = collection_of(world.alice, "Balkan partners")

    assert {o["type"] for o in balkan.get_objects(type="incident")["objects"]} == {"incident"}
    addresses = balkan.get_objects(type=["ipv4-addr", "marking-definition"])["objects"]
    assert {o["type"] for o in addresses} == {"ipv4-addr", "marking-definition"}
    assert "198.51.100.7" in [o.get("value") for o in addresses]
    assert [o["id"] for o in balkan.get_objects(id=shared.stix_id)["objects"]] == [shared.stix_id]
    assert "objects" not in balkan.get_objects(type="malware")
    assert balkan.get_objects(spec_version="2.1") == balkan.get_objects()
    assert "objects" not in balkan.get_objects(spec_version="2.0")


def test_it_gets_one_incident_and_a_version_per_share(
    world: World, collection_of: Callable[[User, str], Collection]
) -> None:
    grid = incident(world)
    first = share(world, grid, T0 + HOUR)[0]
    second = share(world, grid, T0 + 2 * HOUR)[0]
    balkan = collection_of(world.alice, "Balkan partners")

    latest = balkan.get_object(first.stix_id)["objects"]
    versions = balkan.object_versions(first.stix_id)["versions"]
    every = balkan.get_object(first.stix_id, version="all")["objects"]
    earliest = balkan.get_object(first.stix_id, version="first")["objects"]

    assert first.stix_id == second.stix_id
    assert [o["modified"] for o in latest] == ["2026-03-02T11:00:00.000Z"]
    assert versions == ["2026-03-02T10:00:00.000Z", "2026-03-02T11:00:00.000Z"]
    assert [o["modified"] for o in every] == versions
    assert [o["modified"] for o in earliest] == versions[:1]
    assert [o["modified"] for o in balkan.get_object(first.stix_id, version=versions[0])["objects"]] == versions[:1]
    assert len(incidents_in(balkan.get_objects())) == 1  # only the latest version unless asked


def test_it_lists_a_manifest_record_per_object_version(
    world: World, collection_of: Callable[[User, str], Collection]
) -> None:
    grid = incident(world)
    share(world, grid, T0 + HOUR)
    share(world, grid, T0 + 2 * HOUR)
    balkan = collection_of(world.alice, "Balkan partners")

    manifest = balkan.get_manifest(version="all")["objects"]
    objects = balkan.get_objects(version="all")["objects"]

    assert [record["id"] for record in manifest] == [o["id"] for o in objects]
    assert all(record["media_type"] == "application/stix+json;version=2.1" for record in manifest)
    incidents = [record for record in manifest if record["id"].startswith("incident--")]
    assert [(r["date_added"], r["version"]) for r in incidents] == [
        ("2026-03-02T10:00:00.000000Z", "2026-03-02T10:00:00.000Z"),
        ("2026-03-02T11:00:00.000000Z", "2026-03-02T11:00:00.000Z"),
    ]
    paged = [r for page in as_pages(balkan.get_manifest, per_request=3, version="all") for r in page["objects"]]
    assert paged == manifest


def test_it_keeps_direct_shares_in_the_direct_collection(
    world: World, collection_of: Callable[[User, str], Collection]
) -> None:
    direct = share(world, incident(world), T0 + HOUR, organisations=[world.borduria])[0]

    mine = collection_of(world.alice, "Shared with Borduria CERT directly")
    assert [o["id"] for o in incidents_in(mine.get_objects())] == [direct.stix_id]
    assert "objects" not in collection_of(world.alice, "Balkan partners").get_objects()
    assert incidents_in(collection_of(world.bob, "Shared with Syldavia CSIRT directly").get_objects()) == []


def test_it_serves_objects_the_stix_validator_accepts(
    world: World, collection_of: Callable[[User, str], Collection]
) -> None:
    world.energy.country = "EE"  # XA, the placeholder country of the tests, is no ISO 3166 code
    world.energy.save()
    grid = incident(world, reporter_may_be_named=True)
    for kind, value in (
        ("ipv4-addr", "198.51.100.7"),
        ("file:hashes.SHA-256", "a" * 64),
        ("vulnerability", "CVE-2024-3400"),
    ):
        Observable.objects.create(incident=grid, type=kind, value=value)
    share(world, grid, T0 + HOUR)
    share(world, grid, T0 + 2 * HOUR, identify_reporter=True)
    objects = collection_of(world.alice, "Balkan partners").get_objects()["objects"]

    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    results = validate_instance(bundle, STRICT)

    assert results.is_valid, [str(error) for error in results.errors]
    assert {"incident", "identity", "relationship", "observed-data", "ipv4-addr", "file", "vulnerability"} <= {
        o["type"] for o in objects
    }


def test_it_marks_an_observable_two_shares_bring_with_the_more_restrictive_tlp(
    world: World, collection_of: Callable[[User, str], Collection]
) -> None:
    for n, tlp in enumerate((TLP.GREEN, TLP.AMBER), start=1):
        Observable.objects.create(
            incident=incident(world, f"Substation {n} dark", tlp=tlp), type="ipv4-addr", value="198.51.100.7"
        )
    for n, shared in enumerate(Incident.objects.order_by("pk"), start=1):
        share(world, shared, T0 + n * HOUR)
    balkan = collection_of(world.alice, "Balkan partners")

    address = balkan.get_objects(type="ipv4-addr")["objects"]
    markings = {m["id"]: m["name"] for m in balkan.get_objects(type="marking-definition")["objects"]}

    assert [markings[ref] for o in address for ref in o["object_marking_refs"]] == ["TLP:AMBER"]
    assert [r["date_added"] for r in balkan.get_manifest(type="ipv4-addr")["objects"]] == [
        "2026-03-02T10:00:00.000000Z"
    ]


# ---------------------------------------------------------------- TLP, anonymity and revocation


def test_it_shows_a_tlp_red_share_only_to_the_person_named(
    world: World, collection_of: Callable[[User, str], Collection]
) -> None:
    red = incident(world, tlp=TLP.RED, red_recipients=[world.analyst])
    shared = share(world, red, T0 + HOUR, organisations=[world.borduria], recipients=[world.alice])[0]

    named = collection_of(world.alice, "Shared with Borduria CERT directly")
    colleague = collection_of(world.arthur, "Shared with Borduria CERT directly")

    assert [o["id"] for o in incidents_in(named.get_objects())] == [shared.stix_id]
    assert "objects" not in colleague.get_objects()
    assert "objects" not in colleague.get_manifest()
    assert refusal(lambda: colleague.get_object(shared.stix_id)) == 404


def test_it_never_shows_an_amber_strict_share_to_another_organisation_of_the_group(
    world: World, collection_of: Callable[[User, str], Collection]
) -> None:
    strict = incident(world, tlp=TLP.AMBER_STRICT)
    with clock.frozen(T0 + HOUR):
        shared = share_incident(incident=strict, actor=world.analyst, organisations=[world.borduria])
    Share.objects.filter(pk=shared[0].pk).update(group=world.balkan)  # through the group, to Borduria only

    assert [o["id"] for o in incidents_in(collection_of(world.alice, "Balkan partners").get_objects())] == [
        shared[0].stix_id
    ]
    syldavia = collection_of(world.bob, "Balkan partners")
    assert "objects" not in syldavia.get_objects()
    assert refusal(lambda: syldavia.object_versions(shared[0].stix_id)) == 404


def test_it_leaves_the_reporting_organisation_out_of_an_anonymous_share(
    world: World, collection_of: Callable[[User, str], Collection]
) -> None:
    anonymous = incident(world, reporter_may_be_named=True)
    Observable.objects.create(incident=anonymous, type="domain-name", value="scada.example", comment="Aralia Grid HMI")
    share(world, anonymous, T0 + HOUR)
    balkan = collection_of(world.alice, "Balkan partners")

    text = raw(f"{balkan.url}objects/?match[version]=all", world.alice).text
    identities = balkan.get_objects(type="identity").get("objects", [])

    assert "Aralia Grid" not in text
    assert "Aralia Grid" not in [identity["name"] for identity in identities]
    # The same incident shared naming the reporter (it agreed) does carry the name.
    share(world, anonymous, T0 + 2 * HOUR, identify_reporter=True)
    named = balkan.get_objects(type="identity")["objects"]
    assert "Aralia Grid" in [identity["name"] for identity in named]


def test_it_forgets_revoked_shares(world: World, collection_of: Callable[[User, str], Collection]) -> None:
    kept = share(world, incident(world, "Substation 1 dark"), T0 + HOUR)
    gone = share(world, incident(world, "Substation 2 dark"), T0 + 2 * HOUR)
    with clock.frozen(T0 + 3 * HOUR):
        revoke_share(share=gone[0], actor=world.analyst)  # Borduria's; Syldavia keeps its own
    alice = collection_of(world.alice, "Balkan partners")

    assert [o["id"] for o in incidents_in(alice.get_objects())] == [kept[0].stix_id]
    assert [r["id"] for r in alice.get_manifest(type="incident")["objects"]] == [kept[0].stix_id]
    assert refusal(lambda: alice.get_object(gone[0].stix_id)) == 404
    assert len(incidents_in(collection_of(world.bob, "Balkan partners").get_objects())) == 2


# ---------------------------------------------------------------- authentication and protocol


def test_it_asks_an_unauthenticated_client_to_authenticate(world: World, taxii: str) -> None:
    for url in (taxii, f"{taxii}partners/", f"{taxii}partners/collections/"):
        response = raw(url, None)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic ")
        assert response.headers["Content-Type"] == MEDIA_TYPE
        assert response.json()["http_status"] == "401"
    with Server(taxii, user="alice", password="not the password") as server:
        assert refusal(lambda: server.title) == 401


def test_it_accepts_an_api_token(world: World, connect: Callable[..., ApiRoot]) -> None:
    token = Token.objects.create(user=world.alice)
    root = connect(auth=TokenAuth(token.key))
    wrong = connect(auth=TokenAuth("0" * 40))

    assert [c.title for c in root.collections] == ["Balkan partners", "Shared with Borduria CERT directly"]
    assert refusal(lambda: wrong.collections) == 401


def test_it_refuses_basic_for_accounts_that_need_a_one_time_code(world: World, client: Client) -> None:
    basic = "Basic " + base64.b64encode(f"analyst:{PASSWORD}".encode()).decode()
    response = client.get("/taxii2/", HTTP_ACCEPT=MEDIA_TYPE, HTTP_AUTHORIZATION=basic)

    assert response.status_code == 401
    assert "API token" in response.json()["description"]


def test_it_locks_basic_out_after_too_many_wrong_passwords(world: World, client: Client, settings: Any) -> None:
    def attempt(password: str) -> Any:
        basic = "Basic " + base64.b64encode(f"alice:{password}".encode()).decode()
        return client.get("/taxii2/", HTTP_ACCEPT=MEDIA_TYPE, HTTP_AUTHORIZATION=basic)

    assert attempt(PASSWORD).status_code == 200
    statuses = [attempt("guess").status_code for _ in range(settings.NCISS_LOGIN_MAX_FAILURES)]
    locked = attempt(PASSWORD)

    assert statuses == [401] * (settings.NCISS_LOGIN_MAX_FAILURES - 1) + [429]
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert locked.json()["http_status"] == "429"


def test_it_answers_406_to_a_client_that_does_not_accept_taxii_2_1(world: World, taxii: str) -> None:
    for accept in ("application/json", "application/taxii+json;version=2.0", "*/*", ""):
        response = raw(f"{taxii}partners/collections/", world.alice, accept=accept)
        assert response.status_code == 406, accept
        assert response.headers["Content-Type"] == MEDIA_TYPE
        assert response.json()["title"] == "Not Acceptable"
    for accept in ("application/taxii+json", "application/json, application/taxii+json;version=2.1;q=0.5"):
        assert raw(f"{taxii}partners/collections/", world.alice, accept=accept).status_code == 200


def test_it_is_read_only(world: World, taxii: str, collection_of: Callable[[User, str], Collection]) -> None:
    shared = share(world, incident(world), T0 + HOUR)[0]
    balkan = collection_of(world.alice, "Balkan partners")
    envelope = json.dumps({"objects": [balkan.get_object(shared.stix_id)["objects"][0]]})

    posted = requests.post(
        f"{balkan.url}objects/",
        data=envelope,
        auth=("alice", PASSWORD),
        headers={"Accept": MEDIA_TYPE, "Content-Type": MEDIA_TYPE},
        timeout=10,
    )
    deleted = raw(f"{balkan.url}objects/{shared.stix_id}/", world.alice, method="DELETE")

    assert (posted.status_code, deleted.status_code) == (405, 405)
    assert posted.headers["Allow"] == "GET, HEAD"
    assert posted.json()["http_status"] == "405"
    with pytest.raises(AccessError):
        balkan.add_objects(envelope)  # the client itself sees can_write false
    assert [o["id"] for o in incidents_in(balkan.get_objects())] == [shared.stix_id]


def test_it_answers_400_to_malformed_filters(world: World, client: Client) -> None:
    client.force_login(world.alice)
    objects = f"/taxii2/partners/collections/{collection_id('group', 'balkan')}/objects/"
    for query in (
        "limit=0",
        "limit=ten",
        "added_after=yesterday",
        "added_after=2026-13-02T09:00:00Z",
        "added_after=2026-03-02T09:00:00Z&added_after=2026-03-03T09:00:00Z",
        "next=not-a-cursor",
        "match[version]=all,last",
        "match[version]=newest",
        "match[type]=incident,,malware",
    ):
        response = client.get(f"{objects}?{query}", HTTP_ACCEPT=MEDIA_TYPE)
        assert response.status_code == 400, query
        assert response.json()["http_status"] == "400"


def test_it_answers_taxii_404_for_unknown_paths_and_objects(world: World, client: Client) -> None:
    client.force_login(world.alice)
    balkan = f"/taxii2/partners/collections/{collection_id('group', 'balkan')}/"

    for path in ("/taxii2/nowhere/", f"{balkan}objects/incident--00000000-0000-4000-8000-000000000000/"):
        response = client.get(path, HTTP_ACCEPT=MEDIA_TYPE)
        assert response.status_code == 404
        assert response["Content-Type"] == MEDIA_TYPE
