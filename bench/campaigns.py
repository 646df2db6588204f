"""Campaign correlation benchmark: one ``correlate_campaigns`` run over a busy window, SQLite and PostgreSQL.

    .venv/bin/python bench/campaigns.py [--incidents 20000] [--organisations 500] [--sqlite-only]

For each database (an SQLite file in a temporary folder; the PostgreSQL database
``nciss_bench_campaigns`` on 127.0.0.1:5432, made afresh and dropped at the end):

1. migrates it and bulk-loads ``--organisations`` organisations across the NIS2 sectors and
   ``--incidents`` incidents reported within the last 72 hours (the window), each at a
   Zipf-distributed organisation, its type drawn from a skewed RSIT mix (most of them scanning,
   phishing and infected systems, as feeds produce), two observables each from a pool in which a
   few addresses recur (shared infrastructure);
2. times the first correlation (which opens the campaigns), then a second one with nothing new
   (which re-folds and re-assesses every open campaign and changes nothing).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DATABASE = "nciss_bench_campaigns"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
TYPES = [
    ("information-gathering:scanner", 40),
    ("fraud:phishing", 20),
    ("malicious-code:infected-system", 20),
    ("availability:ddos", 6),
    ("intrusion-attempts:exploit", 6),
    ("intrusions:system-compromise", 4),
    ("information-content-security:data-leak", 4),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=20_000)
    parser.add_argument("--organisations", type=int, default=500)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _measure(args)
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as cleanup:
        databases = {"SQLite": f"sqlite:///{Path(folder) / 'campaigns.sqlite3'}"}
        if not args.sqlite_only:
            _psql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
            _psql(f"CREATE DATABASE {BENCH_DATABASE}")
            cleanup.callback(_psql, f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
            databases["PostgreSQL"] = f"{POSTGRES}/{BENCH_DATABASE}"
        for name, url in databases.items():
            env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "NCISS_BROKER_URL": ""}
            subprocess.run(
                [sys.executable, "-m", "nciss_platform", "migrate"], env=env, check=True, capture_output=True
            )
            result = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    f"--incidents={args.incidents}",
                    f"--organisations={args.organisations}",
                ],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            print(f"{name}: {result.stdout.strip()}", flush=True)
    return 0


def _psql(sql: str) -> None:
    subprocess.run(["psql", f"{POSTGRES}/postgres", "-qc", sql], check=True, capture_output=True)


def _measure(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nciss_platform.settings")
    import django

    django.setup()
    from nciss.facts import SECTORS
    from nciss_platform import clock
    from nciss_platform.accounts.models import Organisation, User
    from nciss_platform.campaigns.models import Campaign
    from nciss_platform.campaigns.services import correlate_campaigns
    from nciss_platform.incidents.models import Incident, Observable

    rng = random.Random(7)
    window_end = dt.datetime.now(dt.UTC)
    organisations = Organisation.objects.bulk_create(
        Organisation(
            name=f"Operator {n}",
            slug=f"operator-{n}",
            kind="operator",
            sector=SECTORS[n % len(SECTORS)],
            criticality=rng.choice(["other", "important", "essential", "critical"]),
            size="medium",
            country="XA",
        )
        for n in range(args.organisations)
    )
    analyst = User.objects.create_user("bench-analyst", role="analyst", organisation=organisations[0])
    weights = [1 / (rank + 1) for rank in range(len(organisations))]  # Zipf: a few organisations report most
    kinds, kind_weights = zip(*TYPES, strict=True)
    incidents = []
    for n in range(args.incidents):
        organisation = rng.choices(organisations, weights)[0]
        kind = rng.choices(kinds, kind_weights)[0]
        at = window_end - dt.timedelta(seconds=rng.uniform(0, 72 * 3600))
        facts = {
            "classification": kind,
            "sector": organisation.sector,
            "entity_criticality": organisation.criticality,
            "functional_impact": rng.choice(["no-impact", "minimal-non-critical", "significant-non-critical"]),
            "observed_activity": rng.choice(["prepare", "engage", "presence"]),
            "users_affected": rng.randrange(0, 5000),
        }
        incidents.append(
            Incident(
                reference=f"NCISS-2026-{n:06d}",
                title=f"{kind} at {organisation.name}",
                reporting_organisation=organisation,
                classification=kind,
                facts=facts,
                sector=organisation.sector,
                created_by=analyst,
                level=rng.choice([0, 0, 1, 1, 1, 2]),
                reported_at=at,
                detected_at=at,
            )
        )
    Incident.objects.bulk_create(incidents, batch_size=2000)
    through = Incident.affected_organisations.through
    through.objects.bulk_create(
        (through(incident_id=i.pk, organisation_id=i.reporting_organisation_id) for i in incidents), batch_size=5000
    )
    pool = [
        f"203.0.113.{n % 250}" if n < 50 else f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        for n in range(200_000)
    ]
    Observable.objects.bulk_create(
        (
            Observable(incident_id=i.pk, type="ipv4-addr", value=value)
            for i in incidents
            for value in {pool[min(int(rng.paretovariate(1.2)) - 1, len(pool) - 1)], rng.choice(pool)}
        ),
        batch_size=5000,
    )
    # after loading: the incidents' own updated_at (the real time of the load) is older than the run
    with clock.frozen(dt.datetime.now(dt.UTC)):
        started = time.perf_counter()
        first = correlate_campaigns(actor=None)
        opening = time.perf_counter() - started
        started = time.perf_counter()
        second = correlate_campaigns(actor=None)
        again = time.perf_counter() - started
    members = Campaign.incidents.through.objects.count()
    print(
        f"{args.incidents} incidents in the window, {args.organisations} organisations: first run {opening:.2f} s "
        f"({len(first.opened)} campaigns, {members} memberships), second run {again:.2f} s "
        f"({'no change' if not second.changed else second.counts()})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
