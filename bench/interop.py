"""Interoperability benchmark: records per second for each importer and exporter.

    .venv/bin/python bench/interop.py [--records 20000] [--platform 2000]

Exporters turn ``--records`` incident records (realistic facts from bench/engine.py's
generator, two to five observables each, a national and a NIS2 assessment) into each format;
importers read those files back (CSV through the mapping that reads what the exporter wrote).
VERIS is also read from the real VCDB development set when ../shared/data/vcdb is present, and
IntelMQ from generated feed events (Zipf-distributed feeds and types, 10 % duplicates). Each
figure is the best of three runs, in one process, parsing and mapping included, file I/O to
memory. ``--platform N`` then imports N VCDB records (or generated VERIS records) through the
platform's import service into a fresh SQLite database: reported, assessed, audited and stored.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import itertools
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
from engine import records as generated_facts

import nciss
from nciss.interop import Assessed, IncidentRecord, Observable, formats, intelmq, misp, stix, tabular, veris

VCDB = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "vcdb" / "dev.jsonl.gz"
T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def incident_records(n: int) -> list[IncidentRecord]:
    rng = random.Random(7)
    national, nis2 = nciss.load_scale("osce-reference"), nciss.load_scale("eu-nis2")
    out = []
    for i, facts in enumerate(generated_facts(n)):
        facts = {k: v for k, v in facts.items() if k not in ("occurred_at", "detected_at", "reported_at")}
        facts["detected_at"] = (T0 + dt.timedelta(minutes=7 * i)).isoformat()
        assessments = tuple(
            Assessed(s.id, s.version, r.rank, s.levels[r.rank].name.get_for("en"), r.score, r.reachable_max)
            for s, r in ((s, nciss.assess(s, facts)) for s in (national, nis2))
        )
        addresses = [f"198.51.{rng.randrange(256)}.{rng.randrange(256)}" for _ in range(rng.randint(1, 3))]
        observables = (
            *(Observable("ipv4-addr", a) for a in addresses),
            Observable("domain-name", f"host{rng.randrange(10**6)}.example.net"),
        )
        out.append(
            IncidentRecord(
                title=f"Incident {i}: {facts.get('classification', 'unclassified')}",
                facts=facts,
                description="Generated for the benchmark. " * rng.randint(1, 6),
                reference=f"NCISS-2026-{i + 1:06d}",
                tlp=rng.choice(["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT"]),
                pap="PAP:AMBER",
                status="triaged",
                created=T0 + dt.timedelta(minutes=7 * i),
                modified=T0 + dt.timedelta(minutes=7 * i + 30),
                reporter=f"Operator {rng.randrange(500)}",
                reporter_country="XA",
                assessments=assessments,
                observables=observables,
            )
        )
    return out


def intelmq_events(n: int) -> bytes:
    rng = random.Random(11)
    types = [
        ("malicious-code", "infected-system"),
        ("vulnerable", "vulnerable-system"),
        ("information-gathering", "scanner"),
    ]
    types += [("intrusion-attempts", "brute-force"), ("malicious-code", "c2-server"), ("fraud", "phishing")]
    feeds = [f"feed-{i}" for i in range(40)]
    lines, previous = [], []
    for i in range(n):
        if previous and rng.random() < 0.1:
            event = dict(rng.choice(previous))
            event["time.observation"] = (T0 + dt.timedelta(seconds=i)).isoformat()
        else:
            taxonomy, kind = types[min(int(rng.paretovariate(1.2)) - 1, len(types) - 1)]
            feed = feeds[min(int(rng.paretovariate(1.1)) - 1, len(feeds) - 1)]
            event = {
                "feed.name": feed,
                "feed.provider": "Benchmark",
                "classification.taxonomy": taxonomy,
                "classification.type": kind,
                "source.ip": f"203.0.{rng.randrange(256)}.{rng.randrange(256)}",
                "source.port": rng.randrange(1024, 65535),
                "source.asn": rng.randrange(64512, 65534),
                "time.source": (T0 + dt.timedelta(seconds=i * 3)).isoformat(),
                "time.observation": (T0 + dt.timedelta(seconds=i * 3 + 60)).isoformat(),
            }
            previous = [*previous[-999:], event]
        lines.append(orjson.dumps(event))
    return b"\n".join(lines) + b"\n"


def best_of(runs: int, work: Callable[[], int]) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(runs):
        start = time.perf_counter()
        count = work()
        best = min(best, time.perf_counter() - start)
    return best, count


def read_all(read: Callable[[io.BytesIO, str], Iterator[Any]], data: bytes, name: str) -> int:
    return sum(1 for item in read(io.BytesIO(data), name) if isinstance(item, IncidentRecord))


def line(kind: str, fmt: str, seconds: float, count: int, note: str = "") -> None:
    print(f"  {kind:<7} {fmt:<26} {count:>8} records  {seconds:7.2f} s  {count / seconds:>10,.0f} records/s  {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--platform", type=int, default=2_000, help="records imported through the platform (0: skip)")
    args = parser.parse_args()
    records = incident_records(args.records)
    print(f"Formats, {len(records)} generated incident records (best of 3):")
    written = {}
    for fmt in formats.EXPORT_FORMATS:
        out = io.BytesIO()
        seconds, count = best_of(
            3, lambda fmt=fmt, out=out: (out.seek(0), out.truncate(), formats.write(fmt, records, out))[2]
        )
        written[fmt] = out.getvalue()
        line("export", fmt, seconds, count, f"{len(written[fmt]) / 1e6:.1f} MB")
    readers: dict[str, Callable[[io.BytesIO, str], Iterator[Any]]] = {
        "stix": stix.read,
        "misp": misp.read,
        "veris": veris.read,
        "csv": lambda s, n: tabular.read(s, n, tabular.export_mapping()),
    }
    for fmt, read in readers.items():
        name = "records.jsonl" if fmt == "veris" else f"records.{formats.EXTENSIONS[fmt]}"
        seconds, count = best_of(3, lambda read=read, fmt=fmt, name=name: read_all(read, written[fmt], name))
        line("import", fmt, seconds, count)
    events = intelmq_events(10 * args.records)
    n_events = events.count(b"\n")

    def intelmq_run() -> int:
        read = [e for e in intelmq.read_events(io.BytesIO(events), "events.jsonl") if isinstance(e, dict)]
        return len(intelmq.aggregate(read)) and len(read)

    seconds, count = best_of(3, intelmq_run)
    line("import", "intelmq (events)", seconds, count, f"{n_events} events read, deduplicated, aggregated")
    if VCDB.exists():
        data = gzip.decompress(VCDB.read_bytes())
        seconds, count = best_of(3, lambda: read_all(veris.read, data, "dev.jsonl"))
        line("import", "veris (VCDB dev set)", seconds, count, "real records, 25 MB")
        vcdb = [r for r in veris.read(io.BytesIO(data), "dev.jsonl") if isinstance(r, IncidentRecord)]
        seconds, count = best_of(3, lambda: sum(1 for r in vcdb if veris.to_veris(r)))
        line("export", "veris (VCDB, originals)", seconds, count, "unmapped fields merged back")
    else:
        print(f"  (VCDB not found at {VCDB}: the real-data VERIS figures are skipped)")
    if args.platform:
        platform_import(args.platform)


def platform_import(n: int) -> None:
    """Import ``n`` VERIS records through the platform's service into a fresh SQLite database."""
    folder = tempfile.mkdtemp(prefix="nciss-bench-interop-")
    os.environ.update(
        DATABASE_URL=f"sqlite:///{folder}/bench.sqlite3", DJANGO_SETTINGS_MODULE="nciss_platform.settings"
    )
    os.environ.setdefault("SECRET_KEY", "bench-only")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from nciss_platform.accounts.models import Organisation, User
    from nciss_platform.interop.services import import_records

    csirt = Organisation.objects.create(name="Bench CSIRT", slug="bench", kind="csirt", country="XA")
    user = User.objects.create_user("bench", role="coordinator", organisation=csirt)
    if VCDB.exists():
        source = list(itertools.islice(formats.read_files("veris", [VCDB]), n))
        label = "VCDB"
    else:
        source = [("generated", veris.from_veris(veris.to_veris(r))) for r in incident_records(n)]
        label = "generated"
    start = time.perf_counter()
    summary = import_records(actor=user, fmt="veris", items=source)
    seconds = time.perf_counter() - start
    print(f"Platform import into SQLite ({label} VERIS records: reported, assessed, audited, stored):")
    line("import", "veris -> incidents", seconds, summary.imported, f"{summary.already_imported} already imported")


if __name__ == "__main__":
    sys.exit(main())
