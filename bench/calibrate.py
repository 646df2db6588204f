"""Calibration benchmark: re-assessing 1 000 000 historical incidents with a draft, on PostgreSQL.

    .venv/bin/python bench/calibrate.py [--incidents 1000000] [--reuse] [--database URL] [--sqlite 100000]

1. Loads the incidents exactly as bench/api.py does (``--reuse`` keeps a database that holds
   them already; the default database is bench/api.py's ``nciss_bench``).
2. Measures, each step separately, best of ``--repeat`` runs:
   - reading the history: the facts the draft, the current scale and CISA NCISS read, grouped into
     distinct records with their incidents' references (by PostgreSQL in SQL; on SQLite from each
     facts document decoded once) (``nciss_platform.calibration.history.read_history``);
   - re-assessing every incident on both scales (``nciss.calibration.what_if``: encoding and the
     batch engine, each distinct record once);
   - the what-if figures: old x new matrix, distribution, per sector and classification, 20 movers
     explained;
   - sensitivity of the draft (every parameter at -/+ 10 %);
   - compatibility of the draft with CISA NCISS (kappa, rho, crosswalk check).
3. With ``--sqlite N``, copies the first N incidents into a fresh SQLite database and measures
   reading the history there too.

The draft is the national scale (osce-reference) with its High threshold 10 % lower and the
weight of its first category 20 % higher: a realistic refinement that moves some incidents.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))

import api  # noqa: E402  (bench/api.py: the database set-up and the bulk loader)
from common import best, prepare_database  # noqa: E402


def draft_of(current: Any) -> Any:
    from nciss.calibration import parameters, vary

    params = parameters(current)
    high = next(p for p in params if p.kind == "threshold" and "High" in p.label)
    weight = next(p for p in params if p.kind == "weight")
    draft = vary(current, high, high.value * 0.9)
    return vary(draft, weight, weight.value * 1.2)


def measure(label: str, repeat: int, sensitivity_runs: int) -> dict[str, float]:
    from nciss import load_scale
    from nciss.calibration import compatibility, sensitivity, what_if
    from nciss_platform.calibration.history import facts_of, read_history
    from nciss_platform.incidents.services import national_scale

    current = national_scale()
    draft = draft_of(current)
    nciss_scale = load_scale("cisa-nciss")
    facts = facts_of(draft, current, nciss_scale)
    out: dict[str, float] = {}
    out["read the history"], history = best(repeat, lambda: read_history(facts))
    print(
        f"  [{label}] {len(history):,} incidents (merged duplicates left out) in {history.records:,} distinct "
        f"records, {len(facts)} facts read; load average {os.getloadavg()[0]:.1f}"
    )

    def reassess() -> Any:
        history._encoded.clear()  # measure the encoding too
        return what_if(draft, current, history)

    out["re-assess on the draft and the current scale"], result = best(repeat, reassess)

    def figures() -> Any:
        result.__dict__.pop("matrix", None)
        result.__dict__.pop("moved", None)
        return (result.matrix, result.distribution, result.by_sector(), result.by_classification(), result.movers(20))

    out["matrix, distribution, groups, 20 movers explained"], _ = best(repeat, figures)
    out["sensitivity (every parameter -/+ 10 %)"], sens = best(sensitivity_runs, lambda: sensitivity(draft, history))
    out["compatibility with cisa-nciss"], compat = best(
        repeat, lambda: compatibility(draft, nciss_scale, history, levels_a=result.after)
    )
    print(
        f"  [{label}] moved {result.moved.size:,} (up {result.up:,}, down {result.down:,}); "
        f"{len(sens.effects)} parameters, most telling {sens.effects[0].parameter.label!r} "
        f"({sens.effects[0].changed:,}); kappa quadratic {compat.kappa_quadratic:.3f}, rho {compat.rho:.3f}"
    )
    return out


def copy_to_sqlite(url: str, n: int, path: Path) -> None:
    """The first ``n`` incidents (and the rows they refer to) in a migrated SQLite database at ``path``."""
    import psycopg

    env = {**os.environ, **api.server_environment(f"sqlite:///{path}")}
    subprocess.run([sys.executable, "-m", "nciss_platform", "migrate"], env=env, check=True, capture_output=True)
    target = sqlite3.connect(path)
    target.execute("PRAGMA foreign_keys = OFF")
    with psycopg.connect(url) as source:
        for table, limit in (("incidents_incident", n), ("accounts_organisation", None), ("accounts_user", None)):
            cur = source.execute(f"SELECT * FROM {table} ORDER BY id" + (f" LIMIT {limit}" if limit else ""))
            names = [d.name for d in cur.description or ()]
            wanted = [row[1] for row in target.execute(f"PRAGMA table_info({table})")]
            keep = [i for i, name in enumerate(names) if name in wanted]
            rows = ([_sqlite_value(row[i]) for i in keep] for row in cur)
            placeholders = ",".join("?" * len(keep))
            target.execute(f"DELETE FROM {table}")
            target.executemany(
                f"INSERT INTO {table} ({','.join(names[i] for i in keep)}) VALUES ({placeholders})", rows
            )
    target.commit()
    target.close()


def _sqlite_value(value: Any) -> Any:
    import json

    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="skip loading when the database holds --incidents already")
    parser.add_argument("--database", default=api.DEFAULT_DATABASE, help="PostgreSQL URL (default: bench/api.py's)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step; the best is shown (default 3)")
    parser.add_argument("--sqlite", type=int, default=0, help="also measure reading N incidents on SQLite")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)  # internal: measure in this database
    args = parser.parse_args()

    if args.child:
        os.environ.update(api.server_environment(args.child))
        import django

        django.setup()
        for step, seconds in measure("SQLite", args.repeat, 1).items():
            print(f"    {step:<56}{seconds:>7.2f} s")
        return

    url = args.database
    print(f"nciss calibration benchmark: {args.incidents:,} incidents on {url}, {os.cpu_count()} cores")
    prepare_database(url, args.incidents, reuse=args.reuse)
    for step, seconds in measure("PostgreSQL", args.repeat, 1).items():
        print(f"    {step:<56}{seconds:>7.2f} s")
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "calibrate.sqlite3"
            t = time.perf_counter()
            copy_to_sqlite(url, args.sqlite, path)
            print(f"  copied {args.sqlite:,} incidents to SQLite in {time.perf_counter() - t:.0f} s")
            subprocess.run(
                [sys.executable, __file__, "--child", f"sqlite:///{path}", "--repeat", str(args.repeat)], check=True
            )


if __name__ == "__main__":
    main()
