"""Statistics benchmark: the monthly, annual, public and NIS2 reports over a year of incidents, on PostgreSQL.

    .venv/bin/python bench/periodic_reports.py [--incidents 1000000] [--reuse] [--database URL] [--repeat 3]

1. Loads the incidents exactly as bench/api.py does (a year of realistic reports up to now;
   ``--reuse`` keeps a database that holds them already), then builds the dashboard's daily
   rollups once (``dashboard.rollups.refresh(full=True)``, timed: a worker keeps them fresh
   afterwards, a minute at a time).
2. Measures, best of ``--repeat`` runs, each report of the last full month and quarter and of this year:
   the figures and the CSV (``periodic_report(...).csv``), then the PDF separately.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))

import api  # noqa: E402  (bench/api.py: the database set-up and the bulk loader)
from common import best, prepare_database  # noqa: E402

DEFAULT_DATABASE = api.database_url(api.DEFAULT_DATABASE, "nciss_bench_statistics")


def periods(now: dt.datetime) -> dict[str, str]:
    """The last full month and quarter before ``now`` (UTC), and this year, as report periods."""
    month = (now.replace(day=1) - dt.timedelta(days=1)).date()
    quarter = (month.month - 1) // 3 + 1
    return {
        "monthly": month.strftime("%Y-%m"),
        "nis2-quarterly": f"{month.year}-Q{quarter}",
        "public": f"{month.year}-Q{quarter}",
        "annual": str(now.year),  # the year so far: the loaded year of reports ends now
    }


def measure(repeat: int) -> None:
    from nciss_platform import clock
    from nciss_platform.reports.periodic import periodic_report
    from nciss_platform.reports.statistics import reported_in

    now = clock.now()
    for kind, period in periods(now).items():
        found = periodic_report(kind, period, lang="en", now=now)
        counted = reported_in(found.figures.period).count()
        seconds, found = best(repeat, lambda k=kind, p=period: periodic_report(k, p, lang="en", now=now))
        pdf_seconds, pdf = best(1, found.report.pdf)
        print(
            f"    {kind:<15}{period:<9}{counted:>10,} incidents   figures + CSV {seconds:>6.2f} s"
            f"   PDF {pdf_seconds:>5.2f} s ({pdf.pages} pages)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="skip loading when the database holds --incidents already")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="PostgreSQL URL (default: nciss_bench_statistics)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per report; the best is shown (default 3)")
    args = parser.parse_args()

    url = args.database
    print(f"nciss statistics benchmark: {args.incidents:,} incidents on {url}, {os.cpu_count()} cores")
    if prepare_database(url, args.incidents, reuse=args.reuse):
        from nciss_platform.dashboard import rollups

        t = time.perf_counter()
        rollups.refresh(full=True)
        print(f"  dashboard rollups built in {time.perf_counter() - t:.0f} s (once; a worker keeps them fresh)")
    measure(args.repeat)


if __name__ == "__main__":
    main()
