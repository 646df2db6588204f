"""API benchmark: the triage queue, filtering, an incident and reporting, at 1 000 000 incidents on PostgreSQL.

    .venv/bin/python bench/api.py [--incidents 1000000] [--reuse] [--duration 15] [--clients 8]

1. Creates the database ``nciss_bench`` (``--database``; PostgreSQL on 127.0.0.1:5432 with
   trust authentication) from scratch and migrates it, unless ``--reuse`` finds it holding
   the same number of bulk-loaded incidents already.
2. Loads the incidents with PostgreSQL's bulk loader: ``COPY ... FROM STDIN`` through
   psycopg, with the table's secondary indexes dropped during the load and rebuilt after
   it (then ``ANALYZE``). Not through the services: the audit chain does not cover this
   data (docs/performance.md). The data is realistic: 5 000 organisations of which a few
   get most of the reports (Zipf), the report times follow a daily and weekly rhythm over
   a year, facts per classification come from the demo's scenarios (``demo_data``) with a
   national CSIRT's mix (feeds of scanning, infected hosts and vulnerable systems first),
   levels from the engine's batch path on the national scale (most Baseline or Low), and
   statuses by age: mostly closed, an open backlog of about 30 000. Each incident gets its
   affected organisation; **open incidents also get their assessment row and timeline
   entries** (the incident page reads them); closed ones do not (the queue and the lists
   read only the incident row: level, due_at, status).
3. Starts ``nciss serve`` (gunicorn) against that database in a subprocess and measures,
   from this process, with ``--clients`` threads each keeping one HTTP connection alive
   (http.client, loopback only), authenticated with an analyst's DRF token (a session for
   the HTML queue page; NCISS_REQUIRE_2FA=0 in the server's environment): every endpoint
   runs for ``--duration`` seconds or ``--requests`` requests, whichever comes first.
   An endpoint that answers 404 is skipped and says so.
4. Prints p50/p95/p99 latency and requests per second per endpoint, then the database side:
   EXPLAIN ANALYZE of the queue's page and count queries, and the execution time of each
   list query at the database.

The clients run on the same two cores as the server and PostgreSQL, so the figures are
those of the whole machine under load, not of the server alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import itertools
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/nciss_bench"
SEED = 2026
ORGANISATIONS = 5000
ANALYSTS = 20
REPORTER_ORGS = 1000  # the most active organisations have a reporter account; others phone or e-mail
CHUNK = 100_000
BENCH_ANALYST, BENCH_REPORTER, PASSWORD = "bench.analyst", "bench.reporter", "bench-password-not-secret"
# A national CSIRT's mix: automated feeds (scanning, infected hosts, exposed systems) dominate.
MIX = {
    "scanning": 30,
    "malware": 22,
    "vulnerable": 14,
    "phishing": 12,
    "brute-force": 6,
    "spam": 3,
    "exploit": 3,
    "account": 2,
    "ddos": 1.5,
    "fraud": 1.5,
    "outage": 1,
    "data-leak": 0.8,
    "defacement": 0.8,
    "c2": 0.8,
    "misuse": 0.5,
    "ransomware": 0.5,
    "intrusion": 0.3,
}
FEEDS = {"scanning": 0.9, "malware": 0.7, "vulnerable": 0.9, "spam": 0.5, "c2": 0.6, "brute-force": 0.4}
SECTOR_MIX = {
    "other": 20, "manufacturing": 12, "public-administration": 10, "ict-services": 8, "food": 8, "health": 8,
    "transport": 6, "digital-providers": 5, "research": 3, "waste-management": 3, "energy": 3, "drinking-water": 3,
    "digital-infrastructure": 3, "financial": 3, "banking": 2, "waste-water": 2, "chemical": 2, "courier": 2,
    "space": 0.3,
}  # fmt: skip
NOUNS = {
    "other": ["Hotel", "Trading House", "Law Office", "Shopping Centre"],
    "manufacturing": ["Textile Mill", "Machine Works", "Cement Plant", "Furniture Factory"],
    "public-administration": ["District Administration", "Town Hall", "Land Registry Office", "Social Fund Office"],
    "ict-services": ["IT Services", "Managed Hosting", "Security Services"],
    "food": ["Bakery", "Dairy", "Flour Mill", "Canning Plant"],
    "health": ["Clinic", "Hospital", "Pharmacy Chain", "Laboratory"],
    "transport": ["Bus Company", "Freight Terminal", "Airport Services", "Logistics Hub"],
    "digital-providers": ["Online Shop", "Search", "Social Network"],
    "research": ["Research Institute", "Technical College"],
    "waste-management": ["Waste Services", "Recycling"],
    "energy": ["Heat Network", "Solar Park", "Power Station", "Fuel Depot"],
    "drinking-water": ["Water Supply", "Vodokanal"],
    "digital-infrastructure": ["Data Centre", "Internet Provider", "DNS Services", "Cloud"],
    "financial": ["Microfinance", "Insurance", "Payment Services"],
    "banking": ["Savings Bank", "Commercial Bank"],
    "waste-water": ["Sewage Works"],
    "chemical": ["Chemical Works", "Paint Factory"],
    "courier": ["Courier Services", "Parcel Lockers"],
    "space": ["Ground Station"],
}
ENTITY_TYPES = {
    "digital-infrastructure": ["datacentre", "other", "dns", "cloud", "cdn"],
    "ict-services": ["msp", "mssp", "other"],
    "digital-providers": ["marketplace", "search-engine", "social-network"],
}
TOWNS = [
    "Marsk",
    "Tolvan",
    "Kesh",
    "Aral",
    "Oyna",
    "Beshtepa",
    "Qizil",
    "Yangiobod",
    "Sarbon",
    "Tuzkon",
    "Olmazor",
    "Navro",
]
LOCAL = dt.timezone(dt.timedelta(hours=5))


# ------------------------------------------------------------------------ set-up


def database_url(base: str, name: str | None = None) -> str:
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}")) if name else base


def bulk_count(url: str) -> int | None:
    """Incidents loaded by this benchmark (not those its reporting clients added), or None."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT count(*) FROM incidents_incident i JOIN accounts_user u ON u.id = i.created_by_id "
                "WHERE u.username <> %s",
                [BENCH_REPORTER],
            ).fetchone()
            return int(row[0]) if row else None
    except psycopg.Error:
        return None


def recreate_database(url: str) -> None:
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        sys.exit(f"bench: {name!r} is not a plain database name")
    with psycopg.connect(database_url(url, "postgres"), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def setup_django(url: str) -> None:
    os.environ.update(server_environment(url))
    import django

    django.setup()


def server_environment(url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "nciss_platform.settings",
        "SECRET_KEY": "nciss-benchmark-only-" + "x" * 40,
        "NCISS_DEBUG": "0",
        "NCISS_REQUIRE_2FA": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }


# ------------------------------------------------------------------------ loading


@dataclass
class World:
    """Organisations and users, as the generator needs them: ids and profiles."""

    org_ids: list[int]  # Zipf rank order: the first ones get most reports
    org_facts: list[dict[str, Any]]
    org_names: list[str]
    slug_index: dict[str, int]
    csirt: int
    reporter_of: dict[int, int]  # organisation id -> reporter user id
    analysts: list[int]
    feeds: int


def make_world(rng: random.Random) -> World:
    from django.contrib.auth.hashers import make_password
    from rest_framework.authtoken.models import Token

    from nciss_platform.accounts.models import Organisation, User
    from nciss_platform.incidents import demo_data
    from nciss_platform.incidents.demo_loader import demo_organisation

    orgs = [demo_organisation(o) for o in demo_data.ORGANISATIONS]
    sectors = list(SECTOR_MIX)
    for i in range(ORGANISATIONS - len(orgs)):
        sector = rng.choices(sectors, weights=list(SECTOR_MIX.values()))[0]
        government = sector == "public-administration"
        orgs.append(
            Organisation(
                slug=f"org-{i:05d}",
                name=f"{rng.choice(TOWNS)} {rng.choice(NOUNS[sector])} {i + 1}",
                kind="agency" if government else "operator",
                sector=sector,
                criticality=rng.choices(["other", "important", "essential", "critical"], weights=[60, 28, 10, 2])[0],
                size="local-government"
                if government
                else rng.choices(["individual", "small", "medium", "large"], weights=[3, 45, 35, 17])[0],
                entity_type=rng.choice(ENTITY_TYPES.get(sector, ["other"])),
                country="XA",
                annual_turnover_eur=None if government else round(10 ** rng.uniform(5, 8.5), -3),
            )
        )
    Organisation.objects.bulk_create(orgs, batch_size=1000)
    saved = {o.slug: o for o in Organisation.objects.all()}
    ranked = [saved[o.slug] for o in orgs if o.kind in ("operator", "agency")]
    rng.shuffle(ranked)  # the Zipf rank of each organisation: fixed by the seed
    csirt = saved[demo_data.CSIRT]

    unusable = "!bench"
    users = [
        User(username=f"analyst{i:02d}", role="analyst", organisation=csirt, password=unusable) for i in range(ANALYSTS)
    ]
    users.append(User(username="cert-xa.feeds", role="analyst", organisation=csirt, password=unusable))
    users += [
        User(username=f"rep-{o.slug}", role="reporter", organisation=o, password=unusable)
        for o in ranked[:REPORTER_ORGS]
    ]
    User.objects.bulk_create(users, batch_size=1000)
    hashed = make_password(PASSWORD)
    analyst = User.objects.create(username=BENCH_ANALYST, role="analyst", organisation=csirt, password=hashed)
    reporter = User.objects.create(username=BENCH_REPORTER, role="reporter", organisation=ranked[50], password=hashed)
    Token.objects.create(user=analyst)
    Token.objects.create(user=reporter)
    ids = {u.username: u.pk for u in User.objects.all()}
    return World(
        org_ids=[o.pk for o in ranked],
        org_facts=[o.entity_facts() for o in ranked],
        org_names=[o.name.split(" (")[0] for o in ranked],
        slug_index={o.slug: i for i, o in enumerate(ranked)},
        csirt=csirt.pk,
        reporter_of={o.pk: ids[f"rep-{o.slug}"] for o in ranked[:REPORTER_ORGS]},
        analysts=[ids[f"analyst{i:02d}"] for i in range(ANALYSTS)] + [analyst.pk],
        feeds=ids["cert-xa.feeds"],
    )


def report_times(n: int, now: dt.datetime, rng: np.random.Generator) -> np.ndarray:
    """``n`` report times over the last year, sorted: a daily and a weekly rhythm, a slight upward trend."""
    from nciss_platform.incidents.demo_loader import HOURLY

    today = now.astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
    days = np.arange(365)
    weekday = np.array([(today - dt.timedelta(days=int(d))).weekday() for d in days])
    weight = np.where(weekday >= 5, 0.45, 1.0) * (1.2 - 0.4 * days / 365)
    day = rng.choice(days, size=n, p=weight / weight.sum())
    hour = rng.choice(24, size=n, p=np.array(HOURLY) / sum(HOURLY))
    seconds = rng.integers(0, 3600, size=n)
    base = today.timestamp()
    t = base - day * 86400 + hour * 3600 + seconds
    t = np.where(t > now.timestamp() - 60, t - 86400, t)  # later today: yesterday instead
    return np.sort(t)


@dataclass
class Targets:
    triage: list[dt.timedelta]
    first_response: list[dt.timedelta]
    resolution: list[dt.timedelta]


def level_targets() -> Targets:
    from nciss.deadlines import response_targets
    from nciss_platform.incidents.services import national_scale

    scale = national_scale()
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    per = [{k: v - t0 for k, v in response_targets(scale, level, t0).items()} for level in range(len(scale.levels))]
    return Targets(*[[p[name] for p in per] for name in ("triage", "first_response", "resolution")])


def status_of(age_days: float, rng: random.Random) -> str:
    open_share = (
        0.55 if age_days < 3 else 0.35 if age_days < 7 else 0.15 if age_days < 30 else 0.04 if age_days < 90 else 0.008
    )
    if rng.random() < open_share:
        if age_days < 1:
            return rng.choices(["reported", "triaged", "investigating"], weights=[6, 3, 1])[0]
        return rng.choices(["reported", "triaged", "investigating", "contained"], weights=[10, 25, 45, 20])[0]
    return rng.choices(["closed", "resolved", "rejected", "duplicate"], weights=[86, 4 if age_days < 30 else 1, 7, 3])[
        0
    ]


INCIDENT_COLUMNS = [
    "id", "reference", "title", "description", "reporting_organisation_id", "classification", "facts", "tlp", "pap",
    "status", "waiting_on_reporter", "assignee_id", "created_by_id", "sector", "level", "score", "reachable_max",
    "due_at", "occurred_at", "detected_at", "reported_at", "triaged_at", "first_response_at", "resolved_at",
    "closed_at", "updated_at", "duplicate_of_id", "reporting_submissions", "reporter_may_be_named",
]  # fmt: skip


@dataclass
class Loaded:
    incidents: int = 0
    open: int = 0
    assessments: int = 0
    timeline: int = 0
    red: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def load(n: int, now: dt.datetime) -> Loaded:
    """Generate and COPY ``n`` incidents (see the module docstring)."""
    from django.db import connection

    from nciss.batch import assess_batch, encode
    from nciss_platform.incidents import demo_data
    from nciss_platform.incidents.models import Incident
    from nciss_platform.incidents.services import national_scale

    columns = [f.column for f in Incident._meta.concrete_fields]
    if sorted(columns) != sorted(INCIDENT_COLUMNS):
        sys.exit(
            f"bench: the Incident table changed; update INCIDENT_COLUMNS: {sorted(set(columns) ^ set(INCIDENT_COLUMNS))}"
        )
    rng = random.Random(SEED)
    nrng = np.random.default_rng(SEED)
    result = Loaded()
    started = time.perf_counter()
    world = make_world(rng)
    scale = national_scale()
    targets = level_targets()
    scenarios = {s.key: s for s in demo_data.SCENARIOS}
    mix_keys = list(MIX)
    mix_p = np.array(list(MIX.values())) / sum(MIX.values())
    ranks = np.arange(1, len(world.org_ids) + 1)
    zipf = 1 / ranks**1.05
    zipf /= zipf.sum()
    times = report_times(n, now, nrng)
    scenario_of = nrng.choice(len(mix_keys), size=n, p=mix_p)
    global_org = nrng.choice(len(world.org_ids), size=n, p=zipf)
    now_ts = now.timestamp()
    last_of_org: dict[int, int] = {}
    year_last: Counter[int] = Counter()
    result.seconds["organisations and users"] = time.perf_counter() - started

    pg = connection.connection  # the psycopg connection under Django's
    with pg.cursor() as cur, _indexes_dropped(cur, ["incidents_incident", "incidents_incident_affected_organisations"]):
        t_generate = t_copy = 0.0
        for start in range(0, n, CHUNK):
            t = time.perf_counter()
            rows, affected, red, open_rows = [], [], [], []
            facts_chunk: list[dict[str, Any]] = []
            meta = []
            for i in range(start, min(n, start + CHUNK)):
                sc = scenarios[mix_keys[scenario_of[i]]]
                if rng.random() < 0.5:
                    slug = rng.choices(sc.targets, weights=[1 / (k + 1) for k in range(len(sc.targets))])[0]
                    o = world.slug_index[slug]
                else:
                    o = int(global_org[i])
                facts = {**world.org_facts[o], "classification": sc.classification, **sc.facts(rng)}
                facts_chunk.append(facts)
                meta.append((i, sc, o))
            cols, count = encode(scale, facts_chunk)
            levels = assess_batch(scale, cols, count)
            for j, (i, sc, o) in enumerate(meta):
                facts = facts_chunk[j]
                level, score, top = int(levels.level[j]), float(levels.score[j]), int(levels.reachable_max[j])
                reported = dt.datetime.fromtimestamp(float(times[i]), dt.UTC)
                age = (now_ts - times[i]) / 86400
                status = status_of(age, rng)
                org_id = world.org_ids[o]
                key = mix_keys[scenario_of[i]]
                if rng.random() < FEEDS.get(key, 0.05):
                    reporting, creator = world.csirt, world.feeds
                else:
                    reporting = org_id
                    creator = world.reporter_of.get(org_id) or rng.choice(world.analysts)
                duplicate_of = None
                if status == "duplicate":
                    duplicate_of = last_of_org.get(org_id)
                    if duplicate_of is None:
                        status = "closed"
                incident_id = i + 1
                last_of_org[org_id] = incident_id
                year_last[reported.year] += 1
                reference = f"NCISS-{reported.year}-{year_last[reported.year]:06d}"
                detected = reported - dt.timedelta(minutes=rng.uniform(5, 720))
                occurred = detected - dt.timedelta(hours=rng.uniform(0, 48)) if rng.random() < 0.5 else None
                triaged = first = resolved = closed = None
                horizon = now - dt.timedelta(minutes=1)
                if status not in ("reported", "duplicate") and not (status == "rejected" and rng.random() < 0.5):
                    triaged = min(horizon, reported + targets.triage[level] * rng.uniform(0.05, 1.3))
                if status in ("investigating", "contained", "resolved", "closed"):
                    assert triaged is not None
                    first = min(horizon, triaged + targets.first_response[level] * rng.uniform(0.02, 1.0))
                if status in ("resolved", "closed"):
                    assert first is not None
                    resolved = min(horizon, first + dt.timedelta(days=rng.uniform(0.2, 20)))
                if status == "closed":
                    assert resolved is not None
                    closed = min(horizon, resolved + dt.timedelta(days=rng.uniform(0.5, 10)))
                due = None
                if status == "reported":
                    due = reported + targets.triage[level]
                elif status == "triaged":
                    due = reported + targets.first_response[level]
                elif status in ("investigating", "contained"):
                    due = reported + targets.resolution[level]
                tlp = rng.choices(list(sc.tlp), weights=list(sc.tlp.values()))[0]
                if rng.random() < 0.002 * (1 + level):
                    tlp = "TLP:RED"
                    red.append((incident_id, creator))
                    if rng.random() < 0.5 and creator != world.analysts[-1]:
                        red.append((incident_id, world.analysts[-1]))
                assignee = (
                    None
                    if status in ("reported",) or rng.random() < 0.1
                    else world.analysts[int(nrng.zipf(1.6)) % ANALYSTS]
                )
                updated = max(t for t in (reported, triaged, first, resolved, closed) if t is not None)
                rows.append(
                    (
                        incident_id, reference, rng.choice(sc.titles).format(org=world.org_names[o]),
                        rng.choice(sc.descriptions), reporting, sc.classification,
                        orjson.dumps(facts).decode(), tlp, "PAP:AMBER", status, status in ("triaged", "investigating") and rng.random() < 0.04,
                        assignee, creator, facts["sector"], level, score, top, due, occurred, detected, reported, triaged,
                        first, resolved, closed, updated, duplicate_of, "{}", False,
                    )
                )  # fmt: skip
                affected.append((incident_id, org_id))
                if due is not None:
                    open_rows.append((incident_id, facts, creator, reported, status, triaged, assignee, rows[-1][3]))
            t_generate += time.perf_counter() - t
            t = time.perf_counter()
            _copy(cur, "incidents_incident", INCIDENT_COLUMNS, rows)
            _copy(cur, "incidents_incident_affected_organisations", ["incident_id", "organisation_id"], affected)
            _copy(cur, "incidents_incident_red_recipients", ["incident_id", "user_id"], red)
            t_copy += time.perf_counter() - t
            t = time.perf_counter()
            a, e = _copy_history(cur, scale, open_rows)
            result.assessments += a
            result.timeline += e
            result.seconds["assessments and timelines (open incidents)"] = (
                result.seconds.get("assessments and timelines (open incidents)", 0) + time.perf_counter() - t
            )
            result.incidents += len(rows)
            result.open += len(open_rows)
            result.red += len({r[0] for r in red})
            print(f"  loaded {result.incidents:,} incidents", flush=True)
        result.seconds["generating incidents (facts, batch assessment)"] = t_generate
        result.seconds["COPY incidents and affected organisations"] = t_copy
        t = time.perf_counter()
    result.seconds["rebuilding indexes"] = time.perf_counter() - t
    with pg.cursor() as cur:
        t = time.perf_counter()
        for year, last in year_last.items():
            cur.execute("INSERT INTO incidents_referencecounter (year, last) VALUES (%s, %s)", [year, last])
        for table in ("incidents_incident", "incidents_assessment", "incidents_timelineentry"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        # The steady state of a live database: autovacuum has set the visibility map and the statistics.
        cur.execute("VACUUM (ANALYZE)")
        result.seconds["VACUUM (ANALYZE)"] = time.perf_counter() - t
    pg.commit()
    return result


@contextlib.contextmanager
def _indexes_dropped(cur: psycopg.Cursor[Any], tables: list[str]) -> Iterator[None]:
    """Drop the tables' secondary indexes (not those of constraints) for the load; rebuild them after."""
    cur.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [tables],
    )
    found = cur.fetchall()
    for name, _ in found:
        cur.execute(f'DROP INDEX "{name}"')
    yield
    for _, definition in found:
        cur.execute(definition)


def _copy(cur: psycopg.Cursor[Any], table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _copy_history(cur: psycopg.Cursor[Any], scale: Any, open_rows: list[tuple[Any, ...]]) -> tuple[int, int]:
    """The latest assessment and a short timeline for each open incident (the incident page reads them)."""
    import nciss

    assessments, entries = [], []
    for incident_id, facts, creator, reported, status, triaged, assignee, description in open_rows:
        result = nciss.assess(scale, facts)
        assessments.append(
            (incident_id, scale.id, scale.version, orjson.dumps(facts).decode(), orjson.dumps(result.to_dict()).decode(),
             result.rank, result.score, creator, reported)
        )  # fmt: skip
        entries.append((incident_id, "reported", creator, reported, description, "{}"))
        entries.append(
            (incident_id, "assessment", creator, reported, "", json.dumps({"level": result.rank, "previous": None}))
        )
        if triaged is not None:
            entries.append(
                (incident_id, "status", assignee, triaged, "", json.dumps({"from": "reported", "to": "triaged"}))
            )
        if status in ("investigating", "contained"):
            entries.append(
                (incident_id, "status", assignee, triaged, "", json.dumps({"from": "triaged", "to": "investigating"}))
            )
    _copy(
        cur,
        "incidents_assessment",
        [
            "incident_id",
            "scale_id",
            "scale_version",
            "facts",
            "result",
            "level",
            "score",
            "created_by_id",
            "created_at",
        ],
        assessments,
    )
    _copy(cur, "incidents_timelineentry", ["incident_id", "kind", "author_id", "created_at", "body", "data"], entries)
    return len(assessments), len(entries)


# ------------------------------------------------------------------------ the server


@contextlib.contextmanager
def server(url: str, port: int, workers: int | None, threads: int | None) -> Iterator[subprocess.Popen[str]]:
    command = [sys.executable, "-m", "nciss_platform", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    if threads:
        command += ["--threads", str(threads)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCISS_")}
    process = subprocess.Popen(
        command,
        env={**env, **server_environment(url)},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        print("  " + process.stdout.readline().strip())
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/scales")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                sys.exit("bench: the server did not start")
            time.sleep(0.3)
        threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # type: ignore[union-attr]
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def session_cookie(port: int, username: str, password: str) -> str | None:
    """Sign in through the login form; the session cookie, or None when that fails."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/accounts/login/")
    page = conn.getresponse()
    body = page.read().decode()
    csrf = re.search(r"csrftoken=([^;]+)", page.getheader("Set-Cookie") or "")
    field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if page.status != 200 or not csrf or not field:
        return None
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": field.group(1)})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={csrf.group(1)}",
        "Referer": f"http://127.0.0.1:{port}/accounts/login/",
    }
    conn.request("POST", "/accounts/login/", body=form, headers=headers)
    answer = conn.getresponse()
    answer.read()
    session = re.search(r"sessionid=([^;]+)", answer.getheader("Set-Cookie") or "")
    return f"sessionid={session.group(1)}" if answer.status == 302 and session else None


# ------------------------------------------------------------------------ measuring


@dataclass
class Endpoint:
    name: str
    shown: str  # the request as printed
    request: Callable[[int], tuple[str, str, bytes | None, dict[str, str]]]
    expect: int = 200
    max_requests: int | None = None


@dataclass
class Measured:
    endpoint: Endpoint
    latencies: list[float]
    errors: Counter[int]
    seconds: float
    skipped: str = ""
    sample_error: str = ""
    load: float = 0.0  # the machine's 1-minute load average at the end of the run


def measure(port: int, endpoint: Endpoint, clients: int, duration: float, max_requests: int) -> Measured:
    method, path, body, headers = endpoint.request(0)
    probe = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    probe.request(method, path, body=body, headers=headers)
    answer = probe.getresponse()
    answer.read()
    if answer.status in (404, 405):
        return Measured(endpoint, [], Counter(), 0, skipped=f"{method} {path.split('?')[0]} answers {answer.status}")
    for _ in range(3):  # warm up: the workers' first requests load code and open connections
        probe.request(*endpoint.request(1)[:2], body=endpoint.request(1)[2], headers=endpoint.request(1)[3])
        probe.getresponse().read()
    limit = min(max_requests, endpoint.max_requests or max_requests)
    counter = itertools.count()
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: Counter[int] = Counter()
    sample: list[str] = []
    start = time.perf_counter()
    stop = start + duration

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.perf_counter() < stop:
            n = next(counter)
            if n >= limit:
                return
            method, path, body, headers = endpoint.request(n)
            t = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
            latencies[k].append(time.perf_counter() - t)
            if answer.status != endpoint.expect:
                errors[answer.status] += 1
                if not sample:
                    sample.append(f"{answer.status} {data[:200]!r}")

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    seconds = time.perf_counter() - start
    return Measured(
        endpoint,
        [x for lat in latencies for x in lat],
        errors,
        seconds,
        sample_error=sample[0] if sample else "",
        load=os.getloadavg()[0],
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def print_table(results: list[Measured], clients: int) -> None:
    header = f"{'endpoint':<18}{'request':<58}{'requests':>9}{'errors':>7}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'req/s':>8}{'load':>6}"
    print(header)
    print("-" * len(header))
    for r in results:
        e = r.endpoint
        if r.skipped:
            print(f"{e.name:<18}{e.shown:<58}  skipped: {r.skipped}")
            continue
        ok = len(r.latencies) - sum(r.errors.values())
        ms = [x * 1000 for x in r.latencies]
        print(
            f"{e.name:<18}{e.shown[:57]:<58}{len(ms):>9,}{sum(r.errors.values()):>7}"
            f"{percentile(ms, 50):>8.1f}{percentile(ms, 95):>8.1f}{percentile(ms, 99):>8.1f}{ok / r.seconds:>8.1f}{r.load:>6.1f}"
        )
        if r.sample_error:
            print(f"{'':<18}first error: {r.sample_error}")
    print(
        f"({clients} concurrent clients with keep-alive; req/s counts the expected answers only; load: the machine's "
        f"1-minute load average after the run, {os.cpu_count()} cores)"
    )


# ------------------------------------------------------------------------ the database side


def explain(queries: dict[str, dict[str, str]]) -> None:
    """EXPLAIN ANALYZE the queue's queries in full, and the execution time of every list query."""
    from django.db import connection
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from nciss_platform.accounts.models import User
    from nciss_platform.incidents.access import visible_incidents
    from nciss_platform.incidents.filters import filter_incidents

    analyst = User.objects.get(username=BENCH_ANALYST)
    timings = []
    for name, params in queries.items():
        qs = filter_incidents(
            visible_incidents(analyst).select_related("reporting_organisation", "assignee"),
            QueryDict(urllib.parse.urlencode(params)),
            analyst,
        )
        with CaptureQueriesContext(connection) as captured:
            qs.count()
            list(qs[:50])
        for kind, query in zip(("count", "page"), captured.captured_queries, strict=True):
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                plan = [row[0] for row in cur.fetchall()]
            total = next(float(m.group(1)) for line in plan if (m := re.search(r"Execution Time: ([\d.]+) ms", line)))
            top = next(
                (line.strip() for line in plan[1:] if "->" in line and "Limit" not in line and "Aggregate" not in line),
                plan[0],
            )
            timings.append((name, kind, total, re.sub(r"\s+\(cost=.*", "", top.replace("->", "").strip())))
            if name == "queue":
                print(
                    f"\nEXPLAIN ANALYZE, the queue's {kind} query ({'first 50' if kind == 'page' else 'DRF pagination count'}):"
                )
                print("  " + query["sql"])
                for line in plan:
                    print("    " + line)
    print("\nEach list query at the database (EXPLAIN ANALYZE execution time; the first plan node below the limit):")
    for name, kind, total, top in timings:
        print(f"  {name:<18}{kind:<6}{total:>9.1f} ms   {top}")


# ------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="skip loading when the database holds --incidents already")
    parser.add_argument("--duration", type=float, default=15, help="seconds per endpoint (default 15)")
    parser.add_argument("--requests", type=int, default=5000, help="at most this many requests per endpoint")
    parser.add_argument("--creations", type=int, default=1000, help="at most this many reports created")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--workers", type=int, default=None, help="server worker processes (nciss serve's default)")
    parser.add_argument("--threads", type=int, default=None, help="threads per worker (nciss serve's default)")
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: a free one)")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help=f"PostgreSQL URL (default {DEFAULT_DATABASE})")
    parser.add_argument("--only", default="", help="comma-separated endpoint names to measure (default: all)")
    args = parser.parse_args()

    url = args.database
    if not args.port:
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            args.port = free.getsockname()[1]
    print(
        f"nciss API benchmark: {args.incidents:,} incidents on {url}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    now = dt.datetime.now(dt.UTC)
    fresh = not (args.reuse and bulk_count(url) == args.incidents)
    if fresh:
        recreate_database(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection

    t = time.perf_counter()
    call_command("migrate", verbosity=0)  # a reused database gets the newest indexes too
    print(f"  migrated in {time.perf_counter() - t:.1f} s")
    if fresh:
        print("  loading with COPY ...")
        loaded = load(args.incidents, now)
        print(
            f"  loaded {loaded.incidents:,} incidents ({loaded.open:,} open with {loaded.assessments:,} assessment rows "
            f"and {loaded.timeline:,} timeline entries; {loaded.red:,} TLP:RED) in {sum(loaded.seconds.values()):.0f} s:"
        )
        for step, seconds in loaded.seconds.items():
            print(f"    {step:<52}{seconds:>7.1f} s")
    else:
        print(f"  reusing the {args.incidents:,} incidents already loaded")

    with connection.cursor() as cur:
        cur.execute(
            "SELECT key FROM authtoken_token t JOIN accounts_user u ON u.id = t.user_id WHERE u.username = %s",
            [BENCH_ANALYST],
        )
        analyst_token = cur.fetchone()[0]
        cur.execute(
            "SELECT key FROM authtoken_token t JOIN accounts_user u ON u.id = t.user_id WHERE u.username = %s",
            [BENCH_REPORTER],
        )
        reporter_token = cur.fetchone()[0]
        cur.execute(
            "SELECT reference FROM incidents_incident i WHERE status IN ('reported','triaged','investigating','contained') "
            "AND tlp <> 'TLP:RED' AND EXISTS (SELECT 1 FROM incidents_assessment a WHERE a.incident_id = i.id) "
            "ORDER BY md5(reference) LIMIT 500"
        )
        sample = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT status, count(*) FROM incidents_incident GROUP BY status ORDER BY 2 DESC")
        print("  by status: " + ", ".join(f"{s} {c:,}" for s, c in cur.fetchall()))
        cur.execute("SELECT level, count(*) FROM incidents_incident GROUP BY level ORDER BY 1")
        print("  by level: " + ", ".join(f"{lv}: {c:,}" for lv, c in cur.fetchall()))
    connection.close()

    api = {"Authorization": f"Token {analyst_token}", "Accept": "application/json"}
    rng = random.Random(SEED)
    from nciss_platform.incidents import demo_data

    reports = list(demo_data.SCENARIOS)

    def get(path: str, headers: dict[str, str] = api) -> Callable[[int], tuple[str, str, bytes | None, dict[str, str]]]:
        return lambda n: ("GET", path, None, headers)

    def create(n: int) -> tuple[str, str, bytes | None, dict[str, str]]:
        sc = reports[n % len(reports)]
        body = {
            "title": sc.titles[n % len(sc.titles)].format(org="our organisation"),
            "description": sc.descriptions[0],
            "facts": {"classification": sc.classification, **sc.facts(rng)},
            "tlp": "TLP:AMBER",
        }
        return "POST", "/api/v1/incidents", json.dumps(body).encode(), {
            "Authorization": f"Token {reporter_token}", "Content-Type": "application/json", "Accept": "application/json"}  # fmt: skip

    lists = {
        "queue": {"status": "open"},
        "filter sector": {"status": "open", "sector": "banking"},
        "filter level_min": {"status": "open", "level_min": "2"},
        "filter class": {"classification": "availability"},
        "filter q": {"q": "ransomware"},
        "sector, all": {"sector": "energy"},
    }
    endpoints = [
        Endpoint(
            name,
            f"GET /api/v1/incidents?{urllib.parse.urlencode(p)}",
            get(f"/api/v1/incidents?{urllib.parse.urlencode(p)}"),
        )
        for name, p in lists.items()
    ]
    endpoints.insert(1, Endpoint("queue page (HTML)", "GET /queue/ (session)", get("/queue/")))
    endpoints.append(
        Endpoint(
            "incident",
            "GET /api/v1/incidents/{reference} (500 open ones)",
            lambda n: ("GET", f"/api/v1/incidents/{sample[n % len(sample)]}", None, api),
        )
    )
    endpoints.append(
        Endpoint(
            "report (create)", "POST /api/v1/incidents (a reporter)", create, expect=201, max_requests=args.creations
        )
    )
    if args.only:
        wanted = set(args.only.split(","))
        endpoints = [e for e in endpoints if e.name in wanted]

    print(f"\nServing with nciss serve (gunicorn) on 127.0.0.1:{args.port} ...")
    results = []
    with server(url, args.port, args.workers, args.threads):
        cookie = session_cookie(args.port, BENCH_ANALYST, PASSWORD)
        for e in endpoints:
            if e.name == "queue page (HTML)":
                if cookie is None:
                    results.append(Measured(e, [], Counter(), 0, skipped="could not sign in through /accounts/login/"))
                    continue
                e.request = get("/queue/", {"Cookie": cookie})
            print(f"  measuring {e.name} ...", flush=True)
            results.append(measure(args.port, e, args.clients, args.duration, args.requests))
    print()
    print_table(results, args.clients)
    explain(lists)


if __name__ == "__main__":
    main()
