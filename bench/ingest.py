"""Feed ingestion benchmark: IntelMQ events per second, file to incidents, through the platform.

    .venv/bin/python bench/ingest.py [--events 100000] [--organisations 200] [--batch 2000] [--seed 7]

Generated events (JSON Lines in a temporary file): Zipf-distributed feeds, types and organisations;
the organisations own /27s of the IPv4 documentation ranges and /48s of 2001:db8::/32; one event in
five comes from an address nobody owns (100.64.0.0/10), one in ten repeats an earlier event with a
later ``time.observation``, one in a thousand is not JSON; ``time.source`` spreads over two days.
The run reads, validates, attributes, deduplicates, aggregates and stores them (``nciss ingest``'s
path without the progress bar) into a fresh database: SQLite in a temporary file, or, when
DATABASE_URL is a PostgreSQL URL, a fresh ``test_`` database on that server (dropped afterwards).
A second run of the same file then measures the all-duplicates path, and a third, of as many
other events over the same two days, the steady state: events absorbed by open incidents.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
TYPES = [
    ("malicious-code", "infected-system"),
    ("vulnerable", "vulnerable-system"),
    ("information-gathering", "scanner"),
    ("intrusion-attempts", "brute-force"),
    ("malicious-code", "c2-server"),
    ("fraud", "phishing"),
]
DOCUMENTATION = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")


def _zipf(rng: random.Random, n: int, s: float = 1.1) -> int:
    return min(int(rng.paretovariate(s)) - 1, n - 1)


def prefixes(organisations: int) -> list[list[str]]:
    """Each organisation's prefixes: the IPv4 documentation /27s dealt out in turn, and one IPv6 /48."""
    v4 = [str(net) for block in DOCUMENTATION for net in ipaddress.IPv4Network(block).subnets(new_prefix=27)]
    owned: list[list[str]] = [[f"2001:db8:{i:x}::/48"] for i in range(organisations)]
    for i, net in enumerate(v4):
        owned[i % organisations].append(net)
    return owned


def _address(rng: random.Random, networks: list[str]) -> str:
    network = ipaddress.ip_network(rng.choice(networks))
    return str(network.network_address + rng.randrange(min(network.num_addresses, 2**16)))


def events(n: int, owned: list[list[str]], rng: random.Random) -> bytes:
    feeds = [f"feed-{i}" for i in range(40)]
    lines, previous = [], []
    for i in range(n):
        roll = rng.random()
        if roll < 0.001:
            lines.append(b'{"feed.name": "broken", ')
            continue
        if previous and roll < 0.1:
            event = dict(rng.choice(previous))
            event["time.observation"] = (T0 + dt.timedelta(seconds=2 * i)).isoformat()
        else:
            taxonomy, kind = TYPES[_zipf(rng, len(TYPES), 1.2)]
            if roll < 0.3:
                ip = str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("100.64.0.0")) + rng.randrange(2**22)))
            else:
                ip = _address(rng, owned[_zipf(rng, len(owned))])
            event = {
                "feed.name": feeds[_zipf(rng, len(feeds))],
                "feed.provider": "Benchmark",
                "classification.taxonomy": taxonomy,
                "classification.type": kind,
                "source.ip": ip,
                "source.port": rng.randrange(1024, 65535),
                "time.source": (T0 + dt.timedelta(seconds=i * 2 * 86400 // n)).isoformat(),
                "time.observation": (T0 + dt.timedelta(seconds=2 * i)).isoformat(),
            }
            previous = [*previous[-999:], event]
        lines.append(orjson.dumps(event))
    return b"\n".join(lines) + b"\n"


def _database() -> tuple[str, Any]:
    """Set up Django on a fresh database; returns its description and a function that drops it."""
    url = os.environ.get("DATABASE_URL", "")
    postgres = url.startswith(("postgres://", "postgresql://"))
    if not postgres:
        folder = tempfile.mkdtemp(prefix="nciss-bench-ingest-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nciss_platform.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    if postgres:
        name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        return f"PostgreSQL ({name})", lambda: connection.creation.destroy_test_db(name, verbosity=0)
    call_command("migrate", verbosity=0)
    return "SQLite (file)", lambda: None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    owned = prefixes(args.organisations)
    folder = Path(tempfile.mkdtemp(prefix="nciss-bench-feed-"))
    path, more = folder / "events.jsonl", folder / "more-events.jsonl"
    path.write_bytes(events(args.events, owned, rng))
    more.write_bytes(events(args.events, owned, rng))

    from nciss.interop import intelmq

    start = time.perf_counter()
    with path.open("rb") as stream:
        parsed = sum(1 for _ in intelmq.read_events(stream, path.name))
    parse_seconds = time.perf_counter() - start

    label, drop = _database()
    try:
        from nciss_platform.accounts.models import NetworkAsset, Organisation, User
        from nciss_platform.feeds.reading import read_feeds
        from nciss_platform.feeds.services import ingest_events

        csirt = Organisation.objects.create(name="Bench CSIRT", slug="bench-csirt", kind="csirt", country="XA")
        analyst = User.objects.create_user("bench", role="analyst", organisation=csirt)
        orgs = Organisation.objects.bulk_create(
            Organisation(name=f"Operator {i}", slug=f"operator-{i}", kind="operator", sector="energy", country="XA")
            for i in range(args.organisations)
        )
        NetworkAsset.objects.bulk_create(
            NetworkAsset(organisation=org, kind="cidr", value=value)
            for org, nets in zip(orgs, owned, strict=True)
            for value in nets
        )
        print(f"{args.events} generated events, {args.organisations} organisations, batches of {args.batch}, {label}")
        print(f"  read and validate only      {parsed / parse_seconds:>10,.0f} events/s")
        for run, feed in (("first run", path), ("same file again", path), ("new events, same", more)):
            start = time.perf_counter()
            summary = ingest_events(events=read_feeds([feed]), actor=analyst, batch=args.batch, source=feed.name)
            seconds = time.perf_counter() - start
            print(
                f"  ingest, {run:<19} {summary.read / seconds:>10,.0f} events/s ({seconds:.1f} s): "
                + ", ".join(f"{name} {value}" for name, value in summary.counts().items())
            )
    finally:
        drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
