"""Feed ingestion benchmark: realistic IntelMQ events, end to end into PostgreSQL and SQLite, against IntelMQ.

    .venv/bin/python bench/ingest.py                        # 1 000 000 events, PostgreSQL 1/2/4 workers, SQLite, IntelMQ
    .venv/bin/python bench/ingest.py --events 20000         # a quick check (minutes: thousands of incidents open)
    .venv/bin/python bench/ingest.py --sqlite-only --skip-intelmq --events 50000

1. **Data** (``Generator``): a national constituency of ``--organisations`` organisations, numbered
   in Zipf rank order: a few telecoms owning /16s of a fictional national allocation and an AS
   number each, their customers holding /24 to /29 sub-allocations inside them (the longest prefix
   wins), larger organisations with prefixes of their own and an AS number, and everyone with one
   to three domain names. ``--events`` events over ``--days`` days from the feeds a national CSIRT
   receives (about 30, Zipf-distributed, each with its own type, fields and identifiers: scan
   reports of vulnerable services, sinkholed drones, brute-force and scanning sources, phishing and
   malware URLs, C2 servers, spam), aimed at organisations by a Zipf law; a daily rhythm (night
   trough, afternoon peak, local UTC+5); a fifth from addresses outside the constituency;
   ``time.observation`` minutes to hours after ``time.source``; bursts of duplicates (a feed
   delivering again the events it sent last, with a new ``time.observation``), about one event in
   fifteen; one line in two thousand is not valid. Written as JSON Lines, streaming, with ``raw``.
2. **nciss**: ``nciss ingest --quiet`` processes on the file (one worker) or on shards of it (one
   per worker, events split by the organisation they are attributed to, as a deployment that
   partitions its feeds by organisation would: workers never share an aggregation group), each in
   a fresh database made from a migrated template holding the constituency:
   PostgreSQL ``nciss_bench_ingest`` (on ``--postgres``, dropped afterwards), and SQLite in a
   temporary folder. Events per second is all events over the wall time from starting the
   workers to the last one's end (Django start-up included); peak memory is each worker's
   maximum resident set (``wait4``). The memory check runs one worker on a tenth of the events
   (1x) and on all of them (10x).
   With ``--redis URL``, the first ``--redis-events`` events also go through Redis streams
   (published beforehand, then timed while workers drain them): one worker, two workers on one
   stream, and two workers on two partitions by organisation (``--partitions 2``).
3. **IntelMQ 3.x** (``bench/intelmq_side.py``), installed from the package index into its own
   virtual environment (``~/.cache/nciss-bench/intelmq-venv``, created on first use; AGPL-3.0,
   never a dependency of nciss), parses, classifies and deduplicates the same file on the same key
   (every field but ``time.observation`` and ``raw``); the ratio follows.

On this 2-core machine runs with more workers than cores measure contention.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from nciss.constituency import Constituency

ROOT = Path(__file__).resolve().parent.parent
NCISS = ROOT / ".venv" / "bin" / "nciss"
DATABASE = "nciss_bench_ingest"
INTELMQ_VENV = Path.home() / ".cache" / "nciss-bench" / "intelmq-venv"
INTELMQ_VERSION = "3.5.0"
T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
COUNTRY = "XA"

# A fictional national allocation: the telecoms' /16s, and blocks other organisations hold directly.
TELECOM_BLOCKS = ("31.40.0.0/16", "82.215.0.0/16", "94.141.0.0/16", "176.96.0.0/16", "213.206.0.0/16")
DIRECT_BLOCKS = ("185.18.0.0/16", "195.69.0.0/16")
FOREIGN = (0x0B000000, 0xDF000000)  # outside addresses are drawn from 11.0.0.0 to 222.255.255.255
SECTORS = (  # (sector, share) of the organisations other than the telecoms (the NIS2 sectors, "other" most)
    ("other", 30),
    ("public-administration", 18),
    ("health", 9),
    ("digital-providers", 8),
    ("ict-services", 6),
    ("banking", 5),
    ("financial", 3),
    ("manufacturing", 7),
    ("energy", 4),
    ("transport", 4),
    ("food", 3),
    ("drinking-water", 1),
    ("courier", 1),
    ("research", 1),
)
# Hours of the day (local UTC+5) -> relative volume: night trough, afternoon peak.
RHYTHM = [0.45, 0.4, 0.35, 0.35, 0.4, 0.5, 0.7, 0.9, 1.1, 1.25, 1.35, 1.4]
RHYTHM = [*RHYTHM, 1.45, 1.45, 1.4, 1.35, 1.3, 1.2, 1.1, 1.0, 0.9, 0.75, 0.6, 0.5]


@dataclass(frozen=True)
class Feed:
    """One feed as a national CSIRT receives it: its type and what its events carry."""

    name: str
    provider: str
    taxonomy: str
    type: str
    carries: str  # ip, url (and fqdn), fqdn, c2 (ip, port, malware), hash
    identifiers: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()
    transport: str = "tcp"


FEEDS = (  # in Zipf rank order: the first ones send most events
    Feed("scan-http", "Shadowserver", "vulnerable", "vulnerable-system", "ip", ("http",), (80, 8080, 443)),
    Feed(
        "sinkhole-http-drone",
        "Shadowserver",
        "malicious-code",
        "infected-system",
        "ip",
        ("mirai", "andromeda", "avalanche-andromeda", "conficker", "necurs"),
        (80,),
    ),
    Feed("scan-ssl", "Shadowserver", "vulnerable", "vulnerable-system", "ip", ("ssl-freak", "ssl-poodle"), (443,)),
    Feed("open-resolvers", "Shadowserver", "vulnerable", "ddos-amplifier", "ip", ("dns-open-resolver",), (53,), "udp"),
    Feed(
        "honeypot-brute-force", "Shadowserver", "intrusion-attempts", "brute-force", "ip", ("ssh", "telnet"), (22, 23)
    ),
    Feed("scan-rdp", "Shadowserver", "vulnerable", "vulnerable-system", "ip", ("rdp",), (3389,)),
    Feed("darknet-scanners", "Shadowserver", "information-gathering", "scanner", "ip", ("scan",), (23, 445, 5555)),
    Feed("spam-sources", "Spamhaus", "abusive-content", "spam", "ip", ("xbl",), (25,)),
    Feed("blocklist-de", "Blocklist.de", "other", "blacklist", "ip", ("ssh", "mail", "apache"), (22, 25, 80)),
    Feed("scan-ntp", "Shadowserver", "vulnerable", "ddos-amplifier", "ip", ("ntp-monitor",), (123,), "udp"),
    Feed("phishing-urls", "PhishTank", "fraud", "phishing", "url"),
    Feed("compromised-websites", "Shadowserver", "intrusions", "application-compromise", "url", ("webshell",)),
    Feed("malware-urls", "URLhaus", "malicious-code", "malware-distribution", "url", ("mozi", "emotet", "qakbot")),
    Feed("scan-smb", "Shadowserver", "vulnerable", "vulnerable-system", "ip", ("smb",), (445,)),
    Feed(
        "c2-servers", "Feodo Tracker", "malicious-code", "c2-server", "c2", ("emotet", "dridex", "qakbot"), (443, 8080)
    ),
    Feed("scan-memcached", "Shadowserver", "vulnerable", "ddos-amplifier", "ip", ("memcached",), (11211,), "udp"),
    Feed("ddos-sources", "Netscout", "availability", "ddos", "ip", ("syn-flood", "udp-flood"), (80, 443)),
    Feed(
        "exposed-databases",
        "Shadowserver",
        "vulnerable",
        "information-disclosure",
        "ip",
        ("elasticsearch", "mongodb"),
        (9200, 27017),
    ),
    Feed("dga-domains", "DGArchive", "other", "dga-domain", "fqdn", ("necurs", "pushdo")),
    Feed("weak-crypto", "Shadowserver", "vulnerable", "weak-crypto", "ip", ("ssh-weak-kex",), (22,)),
    Feed("tor-exits", "Tor Project", "other", "tor", "ip", ("tor",), (9001,)),
    Feed("open-proxies", "Shadowserver", "other", "proxy", "ip", ("http-proxy",), (3128, 8080)),
    Feed(
        "malware-hashes", "MalwareBazaar", "malicious-code", "malware-distribution", "hash", ("agenttesla", "formbook")
    ),
    Feed("defacements", "Zone-H", "information-content-security", "unauthorised-information-modification", "url"),
    Feed("credential-leaks", "Have I Been Pwned", "information-content-security", "data-leak", "fqdn", ("combolist",)),
    Feed("ics-exposed", "Shadowserver", "vulnerable", "vulnerable-system", "ip", ("modbus", "s7"), (502, 102)),
    Feed("cryptomining", "Shadowserver", "fraud", "unauthorized-use-of-resources", "ip", ("xmrig",), (3333,)),
    Feed("ransomware-leaks", "Ransomwatch", "malicious-code", "infected-system", "fqdn", ("lockbit", "akira")),
)


def zipf_weights(n: int, exponent: float) -> list[float]:
    """Cumulative weights of ranks 1..n under a Zipf law (for ``random.choices(cum_weights=...)``)."""
    return list(itertools.accumulate(1.0 / rank**exponent for rank in range(1, n + 1)))


@dataclass
class Organisation:
    """One organisation of the generated constituency and the networks, AS number and names it holds."""

    slug: str
    name: str
    sector: str
    prefixes: list[tuple[int, int]] = field(default_factory=list)  # (first address, size)
    asn: int | None = None
    domains: list[str] = field(default_factory=list)

    def assets(self) -> Iterator[tuple[str, str]]:
        for start, size in self.prefixes:
            yield "cidr", f"{_dotted(start)}/{32 - size.bit_length() + 1}"
        if self.asn is not None:
            yield "asn", str(self.asn)
        for name in self.domains:
            yield "domain", name


def _dotted(address: int) -> str:
    return socket.inet_ntoa(address.to_bytes(4, "big"))


def _block(cidr: str) -> tuple[int, int]:
    text, bits = cidr.split("/")
    return int.from_bytes(socket.inet_aton(text), "big"), 2 ** (32 - int(bits))


def constituency(count: int, rng: random.Random) -> list[Organisation]:
    """``count`` organisations in Zipf rank order (the telecoms first): prefixes, AS numbers, domains."""
    telecoms = [
        Organisation(f"telecom-{i}", f"Telecom {i}", "digital-infrastructure", [_block(b)], 28_900 + 37 * i)
        for i, b in enumerate(TELECOM_BLOCKS[: max(1, min(len(TELECOM_BLOCKS), count // 20))])
    ]
    sectors, shares = zip(*SECTORS, strict=True)
    others = [
        Organisation(f"org-{i}", f"Organisation {i}", rng.choices(sectors, shares)[0])
        for i in range(count - len(telecoms))
    ]
    # customers of the telecoms get /26 to /29 inside the telecoms' /16s (nested: the longest prefix wins),
    # the largest organisations /24s of direct space
    customer_nets = [s + 64 * k for s, _ in map(_block, TELECOM_BLOCKS[: len(telecoms)]) for k in range(64, 1024)]
    direct_nets = [s + 256 * k for s, _ in map(_block, DIRECT_BLOCKS) for k in range(256)]
    rng.shuffle(customer_nets)
    for rank, org in enumerate(others):
        big = rank < len(others) // 20
        pool = direct_nets if big and direct_nets else customer_nets
        for _ in range(rng.randint(2, 4) if big else rng.randint(1, 2)):
            if not pool:
                break
            bits = 24 if pool is direct_nets else rng.choice((26, 27, 28, 28, 29, 29))
            org.prefixes.append((pool.pop(), 2 ** (32 - bits)))
        if big:
            org.asn = 196_600 + 7 * rank
        org.domains = [
            f"{org.slug}.{suffix}" for suffix in rng.sample(("xa", "gov.xa", "edu.xa", "com.xa"), rng.randint(1, 2))
        ]
    for org in telecoms:
        org.domains = [f"{org.slug}.xa", f"{org.slug}-mobile.xa"]
    return telecoms + others


@dataclass
class Generator:
    """Realistic feed events for a constituency (see the module's documentation)."""

    organisations: list[Organisation]
    days: int
    rng: random.Random
    outside: float = 0.2
    _recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=600))

    def __post_init__(self) -> None:
        self._org_weights = zipf_weights(len(self.organisations), 1.05)
        self._feed_weights = zipf_weights(len(FEEDS), 1.1)
        self._telecom_asn = {start >> 16: org.asn for org in self.organisations[:5] for start, _ in org.prefixes}
        # What each organisation exposes: a few feeds (the telecoms' subscribers, every one) and a pool of
        # affected hosts that the feeds report again and again.
        self._exposures: list[tuple[list[Feed], list[float], list[int]]] = []
        for org in self.organisations:
            telecom = org.sector == "digital-infrastructure"
            feeds = list(FEEDS) if telecom else self._some_feeds(1 + min(8, int(self.rng.paretovariate(1.3))))
            weights = list(itertools.accumulate(1.0 / (FEEDS.index(feed) + 1) ** 1.1 for feed in feeds))
            hosts = 20_000 if telecom else min(2000, int(2 * self.rng.paretovariate(0.9)))
            prefixes = org.prefixes or self.organisations[0].prefixes
            pool = []
            for _ in range(hosts):
                start, size = self.rng.choice(prefixes)
                pool.append(start + self.rng.randrange(1, size - 1) if size > 2 else start)
            self._exposures.append((feeds, weights, pool))

    def _some_feeds(self, count: int) -> list[Feed]:
        chosen: list[Feed] = []
        while len(chosen) < count:
            feed = self.rng.choices(FEEDS, cum_weights=self._feed_weights)[0]
            if feed not in chosen:
                chosen.append(feed)
        return chosen

    def lines(self, count: int) -> Iterator[tuple[int, bytes]]:
        """(index of the targeted organisation, -1 outside the constituency; the JSON line) in time order."""
        hours = self.days * 24
        weights = [RHYTHM[(hour + 5) % 24] * (0.8 if (hour // 24) % 7 >= 5 else 1.0) for hour in range(hours)]
        total = sum(weights)
        cuts = [round(count * x / total) for x in itertools.accumulate(weights)]
        made = 0
        rng = self.rng
        for hour, cut in enumerate(cuts):
            base = T0 + dt.timedelta(hours=hour)
            seconds = sorted(rng.randrange(3600) for _ in range(cut - made))
            for second in seconds:
                if made >= count:
                    return
                if self._recent and rng.random() < 0.001:  # a feed delivers its last events again
                    burst = max(0, min(len(self._recent), int(rng.paretovariate(1.2) * 25), count - made - 1))
                    for event in itertools.islice(reversed(self._recent), burst):
                        again = dict(event)
                        observed = dt.datetime.fromisoformat(event["time.observation"]) + dt.timedelta(hours=1)
                        again["time.observation"] = observed.isoformat()
                        made += 1
                        yield again.pop("_target"), orjson.dumps(again)
                made += 1
                if rng.random() < 0.0005:
                    yield -1, b'{"feed.name": "scan-http", "classification.type": "vulnerable-system", "source.ip": '
                    continue
                target, event = self._event(base + dt.timedelta(seconds=second))
                self._recent.append({**event, "_target": target})
                yield target, orjson.dumps(event)

    def _event(self, moment: dt.datetime) -> tuple[int, dict[str, Any]]:
        rng = self.rng
        if rng.random() < self.outside:
            target, org = -1, None
            feed = rng.choices(FEEDS, cum_weights=self._feed_weights)[0]
            address = rng.randrange(*FOREIGN)
        else:
            target = rng.choices(range(len(self.organisations)), cum_weights=self._org_weights)[0]
            org = self.organisations[target]
            feeds, weights, pool = self._exposures[target]
            feed = rng.choices(feeds, cum_weights=weights)[0]
            address = rng.choice(pool)
        event: dict[str, Any] = {
            "feed.name": feed.name,
            "feed.provider": feed.provider,
            "feed.accuracy": 100.0,
            "classification.taxonomy": feed.taxonomy,
            "classification.type": feed.type,
            "time.source": moment.isoformat(),
            "time.observation": (moment + dt.timedelta(seconds=rng.randrange(300, 6 * 3600))).isoformat(),
        }
        if feed.identifiers:
            event["classification.identifier"] = rng.choice(feed.identifiers)
        host = f"www.{org.domains[0]}" if org is not None else f"host{address % 9973}.example.net"
        if feed.carries in ("ip", "c2"):
            event["source.ip"] = _dotted(address)
            event["source.port"] = rng.choice(feed.ports) if feed.ports else rng.randrange(1024, 65535)
            event["protocol.transport"] = feed.transport
            if org is not None and (asn := org.asn or self._telecom_asn.get(address >> 16)):
                event["source.asn"] = asn
            event["source.geolocation.cc"] = COUNTRY if org is not None else rng.choice(("RU", "CN", "US", "DE", "KZ"))
            if rng.random() < 0.3:
                event["source.reverse_dns"] = (
                    f"{_dotted(address).replace('.', '-')}.{(org.domains[-1] if org else 'example.net')}"
                )
            if feed.carries == "c2":
                event["malware.name"] = event["classification.identifier"]
        elif feed.carries == "url":
            event["source.url"] = (
                f"http://{host}/{rng.choice(('login', 'wp-admin', 'bin', 'update'))}/{rng.randrange(10**6):x}"
            )
            event["source.fqdn"] = host
        elif feed.carries == "fqdn":
            event["source.fqdn"] = host if rng.random() < 0.7 else f"{rng.randrange(36**6):x}.{host}"
        else:
            event["source.fqdn"] = host
            event["malware.hash.sha256"] = rng.randbytes(32).hex()
        event["raw"] = base64.b64encode(",".join(str(v) for v in event.values()).encode()).decode()
        return target, event


def write_events(
    path: Path, gen: Generator, count: int, shards: list[int], organisations: list[Organisation]
) -> dict[int, list[Path]]:
    """Write the events to ``path`` and, for each shard count, to that many shard files split by the
    organisation each event is attributed to (``nciss.constituency``, as ``nciss ingest`` does); the
    events no organisation owns, and broken lines, spread evenly."""
    split = {n: [path.with_name(f"{path.stem}.{n}-{i}.jsonl") for i in range(n)] for n in shards if n > 1}
    outputs: dict[int, list[IO[bytes]]] = {n: [p.open("wb") for p in files] for n, files in split.items()}
    owners = Constituency.build(
        (index, kind, value) for index, org in enumerate(organisations) for kind, value in org.assets()
    )
    spread = 0
    with path.open("wb") as whole:
        for _, line in gen.lines(count):
            whole.write(line + b"\n")
            if not outputs:
                continue
            try:
                owner = owners.attribute(orjson.loads(line))
            except orjson.JSONDecodeError:
                owner = None
            if owner is None:
                spread += 1
            for n, files in outputs.items():
                files[(owner if owner is not None else spread) % n].write(line + b"\n")
    for files in outputs.values():
        for file in files:
            file.close()
    return split


# ---------------------------------------------------------------- databases


def _environment(url: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("NCISS_", "DATABASE_URL"))}
    return {
        **keep,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "nciss_platform.settings",
        "SECRET_KEY": "nciss-benchmark-only-" + "x" * 40,
        "NCISS_DEBUG": "0",
    }


def _admin(postgres: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{postgres}/postgres", autocommit=True) as admin:
        admin.execute(sql)


def _template(url: str, organisations: list[Organisation]) -> None:
    """Migrate the database at ``url`` and load the constituency and the analyst ``bench`` (a child process)."""
    env = _environment(url)
    subprocess.run([str(NCISS), "manage", "migrate", "--verbosity", "0", "--skip-checks"], env=env, check=True)
    data = json.dumps([[o.slug, o.name, o.sector, list(o.assets())] for o in organisations])
    subprocess.run([sys.executable, "-P", __file__, "--load"], env=env, input=data, text=True, check=True)


def _load() -> int:
    """(Child) Create the CSIRT, its analyst and the organisations with their assets, in bulk."""
    import django

    django.setup()
    from nciss_platform.accounts.models import NetworkAsset, User
    from nciss_platform.accounts.models import Organisation as Model

    csirt = Model.objects.create(name="National CSIRT", slug="csirt", kind="csirt", country=COUNTRY)
    User.objects.create_user("bench", role="analyst", organisation=csirt)
    rows = json.load(sys.stdin)
    orgs = Model.objects.bulk_create(
        Model(name=name, slug=slug, kind="operator", sector=sector, country=COUNTRY) for slug, name, sector, _ in rows
    )
    NetworkAsset.objects.bulk_create(
        NetworkAsset(organisation=org, kind=kind, value=value)
        for org, (*_, assets) in zip(orgs, rows, strict=True)
        for kind, value in assets
    )
    return 0


@dataclass
class Run:
    """One measured ingest: every worker's summary line and peak memory."""

    label: str
    events: int
    seconds: float
    peaks_mb: list[float]
    summaries: list[str]

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    def opened(self) -> int:
        return sum(int(s.split("incidents: ")[1].split(" opened")[0]) for s in self.summaries if "incidents: " in s)


def ingest(label: str, url: str, files: list[Path], events: int, batch: int) -> Run:
    """Run one ``nciss ingest`` worker per file, at once."""
    return run_workers(label, url, [[str(path)] for path in files], events, batch)


def run_workers(label: str, url: str, arguments: list[list[str]], events: int, batch: int) -> Run:
    """Run one ``nciss ingest`` worker per argument list, at once; wall time and each worker's peak resident memory."""
    env = _environment(url)
    started = time.perf_counter()
    workers = [
        subprocess.Popen(
            [str(NCISS), "ingest", "--user", "bench", "--quiet", "--batch", str(batch), *more],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for more in arguments
    ]
    peaks, summaries = [], []
    for worker in workers:
        _, status, usage = os.wait4(worker.pid, 0)
        worker.returncode = os.waitstatus_to_exitcode(status)
        assert worker.stdout is not None and worker.stderr is not None
        out, err = worker.stdout.read().decode(), worker.stderr.read().decode()
        if worker.returncode != 0:
            raise SystemExit(f"{label}: nciss ingest failed ({worker.returncode}): {err.strip()[-2000:]}")
        summaries.append(out.strip())
        peaks.append(usage.ru_maxrss / 1024)
    return Run(label, events, time.perf_counter() - started, peaks, summaries)


def postgres_run(args: argparse.Namespace, label: str, files: list[Path], events: int) -> Run:
    _admin(args.postgres, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    _admin(args.postgres, f"CREATE DATABASE {DATABASE} TEMPLATE {DATABASE}_template")
    try:
        return ingest(label, f"{args.postgres}/{DATABASE}", files, events, args.batch)
    finally:
        _admin(args.postgres, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def redis_run(args: argparse.Namespace, path: Path, events: int, workers: int, partitions: int) -> Run:
    """Publish the file to Redis (``partitions`` streams by organisation, or one), then time ``workers``
    workers draining it into PostgreSQL (worker i on partition i % partitions)."""
    label = f"Redis, {workers} worker{'s' * (workers > 1)}" + (
        f", {partitions} partitions" if partitions > 1 else ", one stream"
    )
    stream = f"nciss-bench:{os.getpid()}:{partitions}"
    url = f"{args.postgres}/{DATABASE}"
    _admin(args.postgres, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    _admin(args.postgres, f"CREATE DATABASE {DATABASE} TEMPLATE {DATABASE}_template")
    try:
        publish = ["--to-redis", args.redis, "--stream", stream, "--partitions", str(partitions)]
        subprocess.run(
            [str(NCISS), "ingest", *publish, "--max-backlog", str(events + 1), "--quiet", str(path)],
            env=_environment(url),
            check=True,
            capture_output=True,
        )
        common = ["--from-redis", args.redis, "--stream", stream, "--until-empty"]
        arguments = [
            [*common, "--consumer", f"w{i}", *(["--partition", str(i % partitions)] if partitions > 1 else [])]
            for i in range(workers)
        ]
        return run_workers(label, url, arguments, events, args.batch)
    finally:
        _admin(args.postgres, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        _redis_delete(args.redis, [stream, *(f"{stream}:{k}" for k in range(partitions))])


def _redis_delete(url: str, keys: list[str]) -> None:
    import redis

    redis.Redis.from_url(url).delete(*keys)


def sqlite_run(args: argparse.Namespace, label: str, template: Path, files: list[Path], events: int) -> Run:
    database = template.with_name("run.sqlite3")
    shutil.copyfile(template, database)
    try:
        return ingest(label, f"sqlite:///{database}", files, events, args.batch)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)


# ---------------------------------------------------------------- IntelMQ


def intelmq_python() -> Path:
    """The IntelMQ virtual environment's interpreter, creating the environment on first use."""
    python = INTELMQ_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {INTELMQ_VENV} with intelmq {INTELMQ_VERSION} from the package index", flush=True)
        INTELMQ_VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["python3.11", "-m", "venv", str(INTELMQ_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"intelmq=={INTELMQ_VERSION}"], check=True)
    return python


def intelmq_rate(path: Path, lines: int, folder: Path) -> float:
    """IntelMQ's events per second on the first ``lines`` lines of the file (printed with its steps)."""
    head = folder / "intelmq-input.jsonl"
    with path.open("rb") as source, head.open("wb") as target:
        target.writelines(itertools.islice(source, lines))
    out = subprocess.run(
        [str(intelmq_python()), str(ROOT / "bench" / "intelmq_side.py"), str(head)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout)
    rate: float = (result["events"] + result["rejected"]) / result["seconds"]
    print(
        f"  IntelMQ {INTELMQ_VERSION}, first {lines:,} events {rate:>9,.0f} events/s  {result['seconds']:7.1f} s  "
        f"(parse {result['parse_seconds']:.1f} s, taxonomy {result['taxonomy_seconds']:.1f} s, deduplication "
        f"{result['dedup_seconds']:.1f} s; {result['duplicates']} duplicates, {result['rejected']} rejected)",
        flush=True,
    )
    return rate


# ---------------------------------------------------------------- main


def _print_run(run: Run, cores: int, intelmq: float | None) -> None:
    contention = " (more workers than cores: contention)" if len(run.peaks_mb) > cores else ""
    peaks = ", ".join(f"{p:.0f}" for p in run.peaks_mb)
    ratio = f"  {run.rate / intelmq:4.1f} x IntelMQ" if intelmq else ""
    print(
        f"  {run.label:<28} {run.rate:>9,.0f} events/s  {run.seconds:7.1f} s{ratio}  "
        f"incidents opened {run.opened():>6}  peak RSS MB {peaks}{contention}",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--organisations", type=int, default=2000)
    parser.add_argument("--days", type=int, default=2, help="days the events' time.source spans")
    parser.add_argument("--batch", type=int, default=10000)
    parser.add_argument("--workers", default="1,2,4", help="PostgreSQL worker counts, comma-separated")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-intelmq", action="store_true")
    parser.add_argument("--intelmq-events", type=int, default=200_000, help="IntelMQ's rate is taken on this many")
    parser.add_argument("--skip-memory", action="store_true", help="no 1x/10x memory runs")
    parser.add_argument("--keep", action="store_true", help="keep the generated files (their folder is printed)")
    parser.add_argument(
        "--redis",
        default="",
        metavar="URL",
        help="also through Redis streams at URL (e.g. redis://127.0.0.1:6379/5): one worker, two on one stream, "
        "two on two partitions",
    )
    parser.add_argument("--redis-events", type=int, default=300_000, help="the Redis runs take this many events")
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        return _load()
    workers = sorted({int(n) for n in args.workers.split(",")})
    cores = os.cpu_count() or 1
    rng = random.Random(args.seed)
    organisations = constituency(args.organisations, rng)
    folder = Path(tempfile.mkdtemp(prefix="nciss-bench-ingest-"))
    try:
        path = folder / "events.jsonl"
        started = time.perf_counter()
        shards = write_events(path, Generator(organisations, args.days, rng), args.events, workers, organisations)
        small = folder / "tenth.jsonl"
        if not args.skip_memory and not args.sqlite_only:
            write_events(
                small, Generator(organisations, args.days, random.Random(args.seed + 1)), args.events // 10, [], []
            )
        size = path.stat().st_size
        print(
            f"{args.events:,} events ({size / 2**20:.0f} MiB, {size / args.events:.0f} bytes each) over {args.days} days, "
            f"{len(organisations)} organisations, batches of {args.batch}; generated in {time.perf_counter() - started:.0f} s; "
            f"{cores} cores; {folder}",
            flush=True,
        )
        intelmq = None if args.skip_intelmq else intelmq_rate(path, min(args.events, args.intelmq_events), folder)
        runs: list[Run] = []
        if not args.sqlite_only:
            _admin(args.postgres, f"DROP DATABASE IF EXISTS {DATABASE}_template WITH (FORCE)")
            _admin(args.postgres, f"CREATE DATABASE {DATABASE}_template")
            try:
                _template(f"{args.postgres}/{DATABASE}_template", organisations)
                for n in workers:
                    files = [path] if n == 1 else shards[n]
                    runs.append(postgres_run(args, f"PostgreSQL, {n} worker{'s' * (n > 1)}", files, args.events))
                    _print_run(runs[-1], cores, intelmq)
                    if n == 1 and not args.skip_memory:
                        tenth = postgres_run(args, "PostgreSQL, 1 worker, 1x", [small], args.events // 10)
                        _print_run(tenth, cores, intelmq)
                        print(
                            f"  memory: peak RSS {tenth.peaks_mb[0]:.0f} MB at 1x, {runs[-1].peaks_mb[0]:.0f} MB at 10x"
                        )
                if args.redis:
                    head = folder / "redis-input.jsonl"
                    count = min(args.events, args.redis_events)
                    with path.open("rb") as source, head.open("wb") as target:
                        target.writelines(itertools.islice(source, count))
                    for workers_, partitions in ((1, 1), (2, 1), (2, 2)):
                        runs.append(redis_run(args, head, count, workers_, partitions))
                        _print_run(runs[-1], cores, intelmq)
            finally:
                _admin(args.postgres, f"DROP DATABASE IF EXISTS {DATABASE}_template WITH (FORCE)")
        if not args.skip_sqlite:
            template = folder / "template.sqlite3"
            _template(f"sqlite:///{template}", organisations)
            runs.append(sqlite_run(args, "SQLite, 1 worker", template, [path], args.events))
            _print_run(runs[-1], cores, intelmq)
        for run in runs:
            print(f"  {run.label}: " + " | ".join(run.summaries))
    finally:
        if args.keep:
            print(f"files kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
