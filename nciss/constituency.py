"""The constituency: which organisation owns an IP address, an autonomous system or a domain name.

Each organisation declares its network assets: ``cidr`` (an IPv4 or IPv6 prefix, or one
address), ``asn`` (an autonomous system number) and ``domain`` (a name and everything under
it). ``Constituency.build(assets)`` validates them once and builds lookup tables that many
processes can share (the object holds only ints, strings, lists and dicts: it pickles, and
forked workers share it copy-on-write).

Lookups, none of which scans the assets:

- an address: the longest matching prefix wins. Prefixes are either nested or disjoint, so
  ``build`` flattens them into disjoint intervals, each with the owner of the longest prefix
  covering it; a lookup is one ``bisect`` (in C) over the interval starts, O(log n) whatever
  the mix of prefix lengths. Probing a dict per prefix length present costs one shift and
  one dict lookup per length (up to 33 for IPv4, 129 for IPv6) on a miss, and misses are
  most of a national feed; the bisect costs the same ~17 comparisons for 50 000 prefixes
  whether it hits or not.
- a domain: the longest suffix on label boundaries wins (``mail.bank.example`` belongs to
  ``bank.example``, never to ``ank.example``): one dict lookup per label of the name.
- an autonomous system: one dict lookup.

``attribute(event)`` attributes an IntelMQ event by ``source.ip``, then ``source.fqdn``,
then the host of ``source.url``, then ``source.asn``: from the most precise evidence of who
runs the reported system to the least. An address is where the activity was seen; a name
says who runs the service but may point at someone else's hosting; an autonomous system
only says whose network carries it (a telecom's customers are not the telecom).
"""

from __future__ import annotations

import socket
from bisect import bisect_right
from collections.abc import Hashable, Iterable, Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any, Generic, Literal, NamedTuple, TypeVar
from urllib.parse import urlsplit

K = TypeVar("K", bound=Hashable)
Kind = Literal["cidr", "asn", "domain"]
KINDS: tuple[Kind, ...] = ("cidr", "asn", "domain")
ASN_MAX = 4_294_967_294  # 0 and 4294967295 are reserved (RFC 7607, RFC 7300)
EVENT_FIELDS = ("source.ip", "source.fqdn", "source.url", "source.asn")

_AF_INET = socket.AF_INET
_inet_pton = socket.inet_pton
_V4_MAPPED = b"\x00" * 10 + b"\xff\xff"
_V4_MAPPED_NETWORK = IPv6Network("::ffff:0:0/96")
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


class Asset(NamedTuple):
    """One network asset of one organisation (``owner`` is the organisation's key)."""

    owner: Hashable
    kind: str
    value: Any


class AssetError(ValueError):
    """Assets that cannot be built: ``errors`` holds (position in the input, reason) pairs."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        super().__init__("; ".join(f"asset {i + 1}: {reason}" for i, reason in errors))


def normalise(kind: str, value: Any) -> str:
    """The canonical text of an asset value (raises ValueError with the reason when it is bad).

    ``192.0.2.0/24``, ``2001:db8::/32`` (one address means a /32 or /128), ``64512`` (``AS64512``
    is accepted too), ``bank.example`` (lower case, no trailing dot, internationalised names in
    their ASCII form).
    """
    if kind == "cidr":
        return str(_network(value))
    if kind == "asn":
        return str(_asn(value))
    if kind == "domain":
        return _domain(value)
    raise ValueError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")


def _network(value: Any) -> IPv4Network | IPv6Network:
    text = str(value).strip()
    try:
        network = ip_network(text, strict=True)
    except ValueError as exc:
        if "has host bits set" in str(exc):
            proper = ip_network(text, strict=False)
            raise ValueError(f"{text!r} has host bits set: the network is {proper}") from None
        raise ValueError(f"{text!r} is not an IPv4 or IPv6 network (e.g. 192.0.2.0/24, 2001:db8::/32)") from None
    if isinstance(network, IPv6Network) and network.subnet_of(_V4_MAPPED_NETWORK):
        raise ValueError(f"{text!r} is IPv4-mapped: give the IPv4 network")
    return network


def _asn(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an AS number")
    text = str(value).strip()
    digits = text[2:] if text[:2].upper() == "AS" else text
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"{text!r} is not an AS number (e.g. 64512 or AS64512)")
    number = int(digits)
    if not 1 <= number <= ASN_MAX:
        raise ValueError(f"AS number {number} is out of range: 1 to {ASN_MAX}")
    return number


def _domain(value: Any) -> str:
    text = str(value).strip()
    name = _domain_key(text)
    if name is None or not name or len(name) > 253:
        raise ValueError(f"{text!r} is not a domain name (e.g. bank.example)")
    for label in name.split("."):
        if not 1 <= len(label) <= 63 or not _LABEL_CHARS.issuperset(label) or label[0] == "-" or label[-1] == "-":
            hint = ": give the name itself, it covers everything under it" if label == "*" else ""
            raise ValueError(f"{text!r} is not a domain name (label {label!r}){hint}")
    return name


def _domain_key(name: str) -> str | None:
    """A name as the tables hold it: lower case, no trailing dot, ASCII (None if it has no ASCII form)."""
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return name.lower().removesuffix(".")


def _address(text: str) -> tuple[int, int] | None:
    """(IP version, address as an int) of an IPv4 or IPv6 address; IPv4-mapped IPv6 counts as IPv4."""
    try:
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, TypeError):
        pass
    try:
        packed = socket.inet_pton(socket.AF_INET6, text)
    except (OSError, TypeError):
        return None
    if packed[:12] == _V4_MAPPED:
        return 4, int.from_bytes(packed[12:], "big")
    return 6, int.from_bytes(packed, "big")


def _flatten(prefixes: list[tuple[int, int, K]]) -> tuple[list[int], list[K | None]]:
    """Disjoint intervals from (first, last + 1, owner) prefixes, nested or disjoint, none identical.

    ``owners[i]`` owns the addresses from ``starts[i]`` up to ``starts[i + 1]`` (None: nobody);
    ``starts[0]`` is 0, so every address falls in one.
    """
    starts: list[int] = [0]
    owners: list[K | None] = [None]

    def begin(at: int, owner: K | None) -> None:
        if starts[-1] == at:
            owners[-1] = owner
        elif owners[-1] != owner:
            starts.append(at)
            owners.append(owner)

    open_prefixes: list[tuple[int, K]] = []  # (end, owner), innermost last
    for start, end, owner in sorted(prefixes, key=lambda p: (p[0], -p[1])):
        while open_prefixes and open_prefixes[-1][0] <= start:
            closed_at, _ = open_prefixes.pop()
            begin(closed_at, open_prefixes[-1][1] if open_prefixes else None)
        begin(start, owner)
        open_prefixes.append((end, owner))
    while open_prefixes:
        closed_at, _ = open_prefixes.pop()
        begin(closed_at, open_prefixes[-1][1] if open_prefixes else None)
    return starts, owners


class Constituency(Generic[K]):
    """The owners of network assets; build it with ``Constituency.build``."""

    def __init__(
        self,
        v4: tuple[list[int], list[K | None]],
        v6: tuple[list[int], list[K | None]],
        asns: dict[int, K],
        domains: dict[str, K],
        max_labels: int,
        size: int,
    ):
        self._v4_starts, self._v4_owners = v4
        self._v6_starts, self._v6_owners = v6
        self._asns = asns
        self._domains = domains
        self._max_labels = max_labels
        self.size = size  # how many distinct assets

    @classmethod
    def build(cls, assets: Iterable[tuple[K, str, Any]]) -> Constituency[K]:
        """Validate the (owner, kind, value) assets and build the tables.

        Raises ``AssetError`` listing every bad asset, and every value claimed by two
        owners (overlapping prefixes are fine: the longest wins; identical ones are not).
        """
        errors: list[tuple[int, str]] = []
        claimed: dict[tuple[str, str], K] = {}
        prefixes: dict[int, list[tuple[int, int, K]]] = {4: [], 6: []}
        asns: dict[int, K] = {}
        domains: dict[str, K] = {}
        for position, (owner, kind, value) in enumerate(assets):
            try:
                network = _network(value) if kind == "cidr" else None
                text = str(network) if network is not None else normalise(kind, value)
            except ValueError as exc:
                errors.append((position, str(exc)))
                continue
            if (kind, text) in claimed:  # a repeat is harmless; a second owner is not
                if claimed[kind, text] != owner:
                    errors.append((position, f"{kind} {text} is claimed by both {claimed[kind, text]!r} and {owner!r}"))
                continue
            claimed[kind, text] = owner
            if network is not None:
                start = int(network.network_address)
                prefixes[network.version].append((start, start + network.num_addresses, owner))
            elif kind == "asn":
                asns[int(text)] = owner
            else:
                domains[text] = owner
        if errors:
            raise AssetError(errors)
        max_labels = max((name.count(".") + 1 for name in domains), default=0)
        v4, v6 = _flatten(prefixes[4]), _flatten(prefixes[6])
        return cls(v4, v6, asns, domains, max_labels, len(claimed))

    def owner_of_ip(self, ip: str) -> K | None:
        """The owner of the longest prefix holding the address; None if none does or it is not an address."""
        try:  # IPv4 first, inline: most of a feed, and this is the hot path
            address = int.from_bytes(_inet_pton(_AF_INET, ip), "big")
            starts, owners = self._v4_starts, self._v4_owners
        except (OSError, TypeError):
            parsed = _address(ip)
            if parsed is None:
                return None
            version, address = parsed
            starts, owners = (self._v4_starts, self._v4_owners) if version == 4 else (self._v6_starts, self._v6_owners)
        return owners[bisect_right(starts, address) - 1]

    def owner_of_asn(self, asn: int | str) -> K | None:
        """The owner of the autonomous system (64512, "64512" or "AS64512"); None if unknown or not a number."""
        if isinstance(asn, int) and not isinstance(asn, bool):
            return self._asns.get(asn)
        try:
            return self._asns.get(_asn(asn))
        except ValueError:
            return None

    def owner_of_domain(self, fqdn: str) -> K | None:
        """The owner of the longest domain that is the name or a parent of it, on label boundaries."""
        if not self._domains:
            return None
        name = _domain_key(fqdn)
        if name is None:
            return None
        labels = name.count(".") + 1
        at = 0
        while labels > self._max_labels:  # parts longer than any domain held cannot match
            at = name.index(".", at) + 1
            labels -= 1
        while True:
            owner = self._domains.get(name[at:] if at else name)
            if owner is not None:
                return owner
            at = name.find(".", at) + 1
            if not at:
                return None

    def owner_of_url(self, url: str) -> K | None:
        """The owner of the URL's host, an address or a name (a URL without a scheme is read as ``//url``)."""
        try:
            host = urlsplit(url if "//" in url else "//" + url).hostname
        except ValueError:
            return None
        if not host:
            return None
        if _address(host) is not None:
            return self.owner_of_ip(host)
        return self.owner_of_domain(host)

    def attribution(self, event: Mapping[str, Any]) -> tuple[K, str] | None:
        """(owner, the field that decided) for an IntelMQ event, trying EVENT_FIELDS in order."""
        ip = event.get("source.ip")
        if ip and (owner := self.owner_of_ip(str(ip))) is not None:
            return owner, "source.ip"
        fqdn = event.get("source.fqdn")
        if fqdn and (owner := self.owner_of_domain(str(fqdn))) is not None:
            return owner, "source.fqdn"
        url = event.get("source.url")
        if url and (owner := self.owner_of_url(str(url))) is not None:
            return owner, "source.url"
        asn = event.get("source.asn")
        if asn is not None and (owner := self.owner_of_asn(asn)) is not None:
            return owner, "source.asn"
        return None

    def attribute(self, event: Mapping[str, Any]) -> K | None:
        """The owning organisation of an IntelMQ event (see ``attribution``), None if outside the constituency."""
        found = self.attribution(event)
        return found[0] if found is not None else None
