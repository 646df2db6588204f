"""The constituency: who owns an address, an AS or a name, and which organisation an event belongs to."""

from __future__ import annotations

import ipaddress
import itertools
import pickle

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nciss.constituency import AssetError, Constituency, normalise

ASSETS = [
    ("telecom", "cidr", "203.0.113.0/24"),
    ("clinic", "cidr", "203.0.113.64/28"),
    ("clinic-lab", "cidr", "203.0.113.72/30"),
    ("bank", "cidr", "192.0.2.0/25"),
    ("bank", "cidr", "2001:db8:100::/48"),
    ("telecom", "cidr", "2001:db8::/32"),
    ("ministry", "cidr", "198.51.100.7"),
    ("bank", "domain", "bank.example"),
    ("bank-mail", "domain", "mail.bank.example"),
    ("ministry", "domain", "gov.example"),
    ("telecom", "asn", "AS64512"),
    ("bank", "asn", 64513),
]


@pytest.fixture(scope="module")
def constituency() -> Constituency[str]:
    return Constituency.build(ASSETS)


@pytest.mark.parametrize(
    ("ip", "owner"),
    [
        ("203.0.113.1", "telecom"),
        ("203.0.113.64", "clinic"),
        ("203.0.113.79", "clinic"),
        ("203.0.113.73", "clinic-lab"),
        ("203.0.113.80", "telecom"),
        ("192.0.2.127", "bank"),
        ("192.0.2.128", None),
        ("198.51.100.7", "ministry"),
        ("198.51.100.8", None),
        ("2001:db8:100:5::1", "bank"),
        ("2001:db8:101::1", "telecom"),
        ("2001:db9::1", None),
        ("::ffff:203.0.113.73", "clinic-lab"),
        ("0.0.0.0", None),
        ("255.255.255.255", None),
        ("not an address", None),
        ("203.0.113", None),
    ],
)
def test_it_finds_the_owner_of_the_longest_prefix(constituency: Constituency[str], ip: str, owner: str | None) -> None:
    assert constituency.owner_of_ip(ip) == owner


@pytest.mark.parametrize(
    ("name", "owner"),
    [
        ("bank.example", "bank"),
        ("www.bank.example", "bank"),
        ("Mail.Bank.Example.", "bank-mail"),
        ("smtp.mail.bank.example", "bank-mail"),
        ("ank.example", None),
        ("mybank.example", None),
        ("example", None),
        ("portal.tax.gov.example", "ministry"),
        ("", None),
    ],
)
def test_it_matches_domains_on_label_boundaries(constituency: Constituency[str], name: str, owner: str | None) -> None:
    assert constituency.owner_of_domain(name) == owner


@pytest.mark.parametrize(
    ("url", "owner"),
    [
        ("https://login.bank.example/reset?x=1", "bank"),
        ("http://user:pw@MAIL.bank.example:8080/", "bank-mail"),
        ("http://203.0.113.74/payload.exe", "clinic-lab"),
        ("http://[2001:db8:100::5]:443/", "bank"),
        ("bank.example/phish", "bank"),
        ("https://bank.example.evil.example/", None),
        ("http://[broken/", None),
        ("", None),
    ],
)
def test_it_finds_the_owner_of_a_url_by_its_host(constituency: Constituency[str], url: str, owner: str | None) -> None:
    assert constituency.owner_of_url(url) == owner


def test_it_finds_autonomous_systems_however_written(constituency: Constituency[str]) -> None:
    assert [constituency.owner_of_asn(a) for a in (64512, "64513", "AS64512", "as64513", 64514, "ASX")] == [
        "telecom",
        "bank",
        "telecom",
        "bank",
        None,
        None,
    ]


def test_it_attributes_an_event_by_ip_then_name_then_url_then_asn(constituency: Constituency[str]) -> None:
    everything = {
        "source.ip": "192.0.2.9",
        "source.fqdn": "gov.example",
        "source.url": "http://mail.bank.example/",
        "source.asn": 64512,
    }
    assert constituency.attribution(everything) == ("bank", "source.ip")
    outside_ip = everything | {"source.ip": "100.64.0.1"}
    assert constituency.attribution(outside_ip) == ("ministry", "source.fqdn")
    assert constituency.attribution(outside_ip | {"source.fqdn": "other.example"}) == ("bank-mail", "source.url")
    only_asn = {"source.ip": "100.64.0.1", "source.fqdn": "other.example", "source.asn": 64512}
    assert constituency.attribution(only_asn) == ("telecom", "source.asn")
    assert constituency.attribute(only_asn) == "telecom"
    assert constituency.attribute({"source.ip": "100.64.0.1", "classification.type": "scanner"}) is None
    assert constituency.attribute({}) is None


def test_it_reports_every_bad_asset_at_once() -> None:
    with pytest.raises(AssetError) as caught:
        Constituency.build(
            [
                ("a", "cidr", "192.0.2.1/24"),
                ("a", "cidr", "192.0.2.0/33"),
                ("a", "cidr", "2001:db8::/129"),
                ("a", "asn", 0),
                ("a", "asn", "AS4294967295"),
                ("a", "domain", "bad_name.example"),
                ("a", "domain", "-x.example"),
                ("a", "domain", "*.bank.example"),
                ("a", "phone", "+1"),
                ("a", "cidr", "192.0.2.0/24"),
            ]
        )
    reasons = dict(caught.value.errors)
    assert sorted(reasons) == list(range(9))
    assert "host bits set: the network is 192.0.2.0/24" in reasons[0]
    assert "not an IPv4 or IPv6 network" in reasons[1] and "not an IPv4 or IPv6 network" in reasons[2]
    assert "out of range" in reasons[3] and "out of range" in reasons[4]
    assert "not a domain name" in reasons[5] and "not a domain name" in reasons[6]
    assert "covers everything under it" in reasons[7]
    assert "unknown kind 'phone'" in reasons[8]
    assert str(caught.value).startswith("asset 1: '192.0.2.1/24' has host bits set")


def test_it_refuses_the_same_asset_for_two_owners_but_allows_nesting() -> None:
    with pytest.raises(AssetError, match=r"cidr 192\.0\.2\.0/24 is claimed by both 'a' and 'b'"):
        Constituency.build([("a", "cidr", "192.0.2.0/24"), ("b", "cidr", "192.0.2.0/24")])
    with pytest.raises(AssetError, match=r"domain bank\.example is claimed by both"):
        Constituency.build([("a", "domain", "bank.example"), ("b", "domain", "BANK.example.")])
    nested = Constituency.build(
        [("a", "cidr", "192.0.2.0/24"), ("b", "cidr", "192.0.2.0/25"), ("a", "cidr", "192.0.2.0/24")]
    )
    assert nested.size == 2
    assert (nested.owner_of_ip("192.0.2.1"), nested.owner_of_ip("192.0.2.200")) == ("b", "a")


def test_it_normalises_values_to_one_spelling() -> None:
    assert normalise("cidr", " 2001:DB8:0:0::/32 ") == "2001:db8::/32"
    assert normalise("cidr", "192.0.2.7") == "192.0.2.7/32"
    assert normalise("asn", "AS64512") == "64512"
    assert normalise("domain", "Bank.Example.") == "bank.example"
    assert normalise("domain", "bücher.example") == "xn--bcher-kva.example"
    with pytest.raises(ValueError, match="IPv4-mapped"):
        normalise("cidr", "::ffff:192.0.2.0/120")


def test_it_matches_internationalised_names_in_either_form() -> None:
    constituency = Constituency.build([("shop", "domain", "bücher.example")])
    assert constituency.owner_of_domain("www.xn--bcher-kva.example") == "shop"
    assert constituency.owner_of_domain("WWW.BÜCHER.example") == "shop"


def test_it_survives_pickling_for_worker_processes(constituency: Constituency[str]) -> None:
    copy = pickle.loads(pickle.dumps(constituency))
    assert copy.owner_of_ip("203.0.113.73") == "clinic-lab"
    assert copy.owner_of_domain("x.mail.bank.example") == "bank-mail"


def test_it_answers_none_for_everything_when_empty() -> None:
    empty: Constituency[str] = Constituency.build([])
    assert empty.owner_of_ip("192.0.2.1") is None
    assert empty.owner_of_ip("2001:db8::1") is None
    assert empty.owner_of_domain("bank.example") is None
    assert empty.attribute({"source.ip": "192.0.2.1", "source.asn": 1}) is None


# ---------------------------------------------------------------- properties against a brute-force scan

# Small address spaces inside one /16 and one /40, so that random prefixes nest and overlap often.
V4_BASE, V6_BASE = int(ipaddress.IPv4Address("10.20.0.0")), int(ipaddress.IPv6Address("2001:db8:7::"))


@st.composite
def networks(draw: st.DrawFn) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if draw(st.booleans()):
        length = draw(st.integers(16, 32))
        host = draw(st.integers(0, 2**16 - 1))
        return ipaddress.IPv4Network((V4_BASE + host, length), strict=False)
    length = draw(st.integers(40, 128))
    host = draw(st.integers(0, 2**88 - 1))
    return ipaddress.IPv6Network((V6_BASE + host, length), strict=False)


@st.composite
def addresses(draw: st.DrawFn, held: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str:
    """An address inside or at the edge of a held network, or a random one nearby."""
    near_held = draw(st.booleans())
    if held and near_held:
        network = draw(st.sampled_from(held))
        offset = draw(st.sampled_from([0, network.num_addresses - 1, network.num_addresses, -1]))
        maximum = 2**network.max_prefixlen - 1
        return str(ipaddress.ip_address(max(0, min(int(network.network_address) + offset, maximum))))
    if draw(st.booleans()):
        return str(ipaddress.IPv4Address(V4_BASE + draw(st.integers(-10, 2**16 + 10))))
    return str(ipaddress.IPv6Address(V6_BASE + draw(st.integers(-10, 2**88 + 10))))


def brute_force_owner(assets: dict[ipaddress.IPv4Network | ipaddress.IPv6Network, int], ip: str) -> int | None:
    address = ipaddress.ip_address(ip)
    holding = [n for n in assets if n.version == address.version and address in n]
    return assets[max(holding, key=lambda n: n.prefixlen)] if holding else None


@settings(max_examples=300, deadline=None)
@given(data=st.data(), held=st.lists(networks(), max_size=40, unique=True))
def test_it_agrees_with_a_scan_of_every_prefix(
    data: st.DataObject, held: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> None:
    owners = {network: data.draw(st.integers(0, 5)) for network in held}
    constituency = Constituency.build([(owner, "cidr", str(network)) for network, owner in owners.items()])
    for _ in range(20):
        ip = data.draw(addresses(held))
        assert constituency.owner_of_ip(ip) == brute_force_owner(owners, ip)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), outer=networks(), extra=st.integers(1, 8))
def test_it_lets_the_longest_prefix_win(
    data: st.DataObject, outer: ipaddress.IPv4Network | ipaddress.IPv6Network, extra: int
) -> None:
    assume(outer.prefixlen < outer.max_prefixlen)
    inner_length = min(outer.max_prefixlen, outer.prefixlen + extra)
    subnets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = list(
        itertools.islice(outer.subnets(new_prefix=inner_length), 64)
    )
    inner = data.draw(st.sampled_from(subnets))
    constituency = Constituency.build([("outer", "cidr", str(outer)), ("inner", "cidr", str(inner))])
    inside = inner.network_address + data.draw(st.integers(0, inner.num_addresses - 1))
    assert constituency.owner_of_ip(str(inside)) == "inner"
    outside_inner = outer.broadcast_address if inner.network_address == outer.network_address else outer.network_address
    assert constituency.owner_of_ip(str(outside_inner)) == "outer"


LABELS = st.sampled_from(["a", "b", "ab", "bank", "ank", "x-1"])


@settings(max_examples=300, deadline=None)
@given(
    held=st.dictionaries(st.lists(LABELS, min_size=1, max_size=3).map(".".join), st.integers(0, 5), max_size=15),
    names=st.lists(st.lists(LABELS, min_size=1, max_size=5).map(".".join), min_size=1, max_size=20),
)
def test_it_agrees_with_a_scan_of_every_domain(held: dict[str, int], names: list[str]) -> None:
    constituency = Constituency.build([(owner, "domain", name) for name, owner in held.items()])
    for name in names:
        matching = [d for d in held if name == d or name.endswith("." + d)]
        expected = held[max(matching, key=len)] if matching else None
        assert constituency.owner_of_domain(name) == expected
