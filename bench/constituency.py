"""Constituency benchmark: building the tables, and lookups per second in one process.

    .venv/bin/python bench/constituency.py [--prefixes 50000] [--lookups 1000000] [--seed 7]

The prefixes are random IPv4 networks from /12 to /32 (every length present, most of them /20 to
/29, as in real constituencies) plus one IPv6 /48 in ten, owned by 2 000 organisations; as many
domains, and 500 ASNs. The lookups are random addresses, about half of them inside a prefix; each
rate is the best of three runs.
For comparison it also times the other way to do longest-prefix match in pure Python,
one dict per prefix length probed from the longest down, on the same addresses.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

from nciss.constituency import Constituency

ORGANISATIONS = 2000
LENGTHS = {12: 0.1, 13: 0.1, 14: 0.2, 15: 0.3, 16: 1, 17: 1, 18: 2, 19: 3, 20: 6, 21: 6, 22: 8, 23: 8, 24: 25, 25: 4}
LENGTHS |= {26: 6, 27: 6, 28: 6, 29: 5, 30: 4, 31: 1, 32: 7}


def _prefixes(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    assets: dict[str, str] = {}
    lengths = list(LENGTHS)
    weights = list(LENGTHS.values())
    while len(assets) < count:
        owner = f"org-{rng.randrange(ORGANISATIONS)}"
        if rng.random() < 0.1:
            network = ipaddress.IPv6Network((rng.getrandbits(48) << 80, 48))
        else:
            length = rng.choices(lengths, weights)[0]
            network = ipaddress.IPv4Network((rng.getrandbits(length) << (32 - length), length))
        assets.setdefault(str(network), owner)
    return [(owner, "cidr", value) for value, owner in assets.items()]


def _addresses(rng: random.Random, assets: list[tuple[str, str, str]], count: int) -> list[str]:
    v4 = [ipaddress.IPv4Network(v) for _, _, v in assets if ":" not in v]
    found = []
    for _ in range(count):
        if rng.random() < 0.5:
            network = rng.choice(v4)
            found.append(str(network.network_address + rng.randrange(network.num_addresses)))
        else:
            found.append(socket.inet_ntoa(rng.getrandbits(32).to_bytes(4, "big")))
    return found


def _per_length_dicts(assets: list[tuple[str, str, str]]) -> Callable[[str], str | None]:
    """The alternative: {length: {network int: owner}}, probed from the longest length present."""
    tables: dict[int, dict[int, str]] = {}
    for owner, _, value in assets:
        network = ipaddress.ip_network(value)
        if network.version == 4:
            tables.setdefault(network.prefixlen, {})[int(network.network_address) >> (32 - network.prefixlen)] = owner
    probes = [(32 - length, tables[length]) for length in sorted(tables, reverse=True)]

    def owner_of(ip: str) -> str | None:
        address = int.from_bytes(socket.inet_pton(socket.AF_INET, ip), "big")
        for shift, table in probes:
            owner = table.get(address >> shift)
            if owner is not None:
                return owner
        return None

    return owner_of


def _rate(lookup: Callable[[Any], object], values: Sequence[Any], runs: int = 3) -> float:
    """Lookups per second, the best of a few runs (the machine may be busy)."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        for value in values:
            lookup(value)
        best = min(best, time.perf_counter() - started)
    return len(values) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefixes", type=int, default=50_000)
    parser.add_argument("--lookups", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    prefixes = _prefixes(rng, args.prefixes)
    domains = [(f"org-{rng.randrange(ORGANISATIONS)}", "domain", f"d{i}.example") for i in range(args.prefixes)]
    asns = [(f"org-{i}", "asn", 64512 + i) for i in range(500)]
    addresses = _addresses(rng, prefixes, args.lookups)
    names = [f"host{i % 97}.{'d' if i % 2 else 'x'}{rng.randrange(args.prefixes)}.example" for i in range(args.lookups)]
    events = [
        {"source.ip": ip, "source.fqdn": name, "source.asn": 64512 + i % 1000}
        for i, (ip, name) in enumerate(zip(addresses, names, strict=True))
    ]

    started = time.perf_counter()
    constituency = Constituency.build([*prefixes, *domains, *asns])
    built = time.perf_counter() - started
    matched = sum(constituency.owner_of_ip(a) is not None for a in addresses)
    print(f"built {constituency.size} assets ({len(prefixes)} prefixes) in {built:.2f} s")
    print(f"{len(addresses)} addresses, {matched} inside a prefix")
    print(f"owner_of_ip (bisect over flattened intervals): {_rate(constituency.owner_of_ip, addresses):>12,.0f} /s")
    per_length = _per_length_dicts(prefixes)
    print(f"per-length dicts (the alternative, IPv4 only): {_rate(per_length, addresses):>12,.0f} /s")
    print(f"owner_of_domain:                               {_rate(constituency.owner_of_domain, names):>12,.0f} /s")
    urls = [f"https://{name}/login" for name in names]
    print(f"owner_of_url:                                  {_rate(constituency.owner_of_url, urls):>12,.0f} /s")
    print(f"attribute (IntelMQ event: ip, fqdn, asn):      {_rate(constituency.attribute, events):>12,.0f} /s")


if __name__ == "__main__":
    main()
