"""Dashboard benchmark: every dashboard query and the whole page, at 1 000 000 incidents on PostgreSQL.

    .venv/bin/python bench/dashboard.py [--incidents 1000000] [--reuse] [--repeat 40]

1. Creates the database ``nciss_bench_dashboard`` (``--database``) and loads the incidents with
   bench/api.py's generator and COPY loader (realistic: Zipf organisations, a daily and weekly
   rhythm over a year, levels from the engine, statuses by age), unless ``--reuse`` finds it
   holding that many incidents already; then migrates it.
2. Builds the rollups from scratch (``rollups.refresh(full=True)``, timed; with ``--reuse`` only
   when there are none or ``--rebuild`` says so), then times an
   incremental refresh after 500 incidents changed (what the worker does every minute).
3. Times each dashboard query ``--repeat`` times (after two warm-up runs) in this process,
   against the database, with the platform clock frozen just after the refresh: the live
   queries on the incidents (open by level, new and escalated in 24 h), the rollup queries for a
   30-day and a 365-day period (trends by level, class and sector, the heatmap, compliance and
   mean times), the open campaigns, and the whole page (``GET /dashboard/`` through Django's
   test client as an analyst: every query, the charts and the template). Prints p50 and p95.

Django and PostgreSQL share the machine's cores; nothing else runs during the measurement.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api import percentile  # noqa: E402  (bench/api.py, bench/common.py: beside this file)
from common import prepare_database  # noqa: E402

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/nciss_bench_dashboard"


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    for _ in range(2):
        fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="skip loading when the database holds --incidents already")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the rollups from scratch even when reused")
    parser.add_argument("--repeat", type=int, default=40, help="timed runs per query (default 40)")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help=f"PostgreSQL URL (default {DEFAULT_DATABASE})")
    args = parser.parse_args()

    url = args.database
    print(f"nciss dashboard benchmark: {args.incidents:,} incidents on {url}, {os.cpu_count()} cores")
    fresh = prepare_database(url, args.incidents, reuse=args.reuse) is not None
    from django.db import connection
    from django.test import Client

    from nciss_platform import clock
    from nciss_platform.accounts.models import User
    from nciss_platform.dashboard import rollups, services
    from nciss_platform.dashboard.models import DailyFigures
    from nciss_platform.incidents.models import Incident

    if fresh or args.rebuild or not DailyFigures.objects.exists():
        t = time.perf_counter()
        built = rollups.refresh(full=True)
        print(
            f"  rollups built from scratch in {time.perf_counter() - t:.1f} s: {built.incidents:,} incidents, "
            f"{built.days} days, {DailyFigures.objects.count():,} rows"
        )
    else:
        print(f"  reusing the rollups ({DailyFigures.objects.count():,} rows; --rebuild to time building them)")
    changed = list(Incident.objects.order_by("-reported_at").values_list("pk", flat=True)[:500])
    Incident.objects.filter(pk__in=changed).update(updated_at=dt.datetime.now(dt.UTC))
    t = time.perf_counter()
    again = rollups.refresh()
    print(
        f"  incremental refresh after 500 recent incidents changed: {time.perf_counter() - t:.2f} s "
        f"({again.days} days, {again.incidents:,} incidents re-read)"
    )

    now = rollups.ensure_fresh()
    since = now - services.RECENT
    month, year = services.period_ending(now, 30), services.period_ending(now, 365)
    analyst, _ = User.objects.get_or_create(username="bench.dashboard", defaults={"role": "analyst"})
    page = Client()
    page.force_login(analyst)

    def whole_page(days: int) -> Callable[[], object]:
        def get() -> object:
            response = page.get(f"/dashboard/?period={days}", HTTP_HOST="localhost")
            assert response.status_code == 200, response.status_code
            return response

        return get

    queries: dict[str, Callable[[], object]] = {
        "open incidents by level (live)": services.open_by_level,
        "new in the last 24 h (live)": lambda: services.reported_since(since),
        "escalated in the last 24 h (live)": lambda: services.escalated_count(since),
        "open campaigns": services.open_campaigns,
    }
    for name, period in (("30 days", month), ("365 days", year)):
        queries |= {
            f"trend by level, {name}": partial(services.trend, period, "level"),
            f"trend by class, {name}": partial(services.trend, period, "classification"),
            f"trend by sector, {name}": partial(services.trend, period, "sector"),
            f"sector x level heatmap, {name}": partial(services.sector_by_level, period),
            f"compliance and mean times, {name}": partial(services.performance, period),
        }
    queries |= {"whole page, 30 days": whole_page(30), "whole page, 365 days": whole_page(365)}

    print(f"\n  {'query':<42}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}")
    with clock.frozen(now):
        for name, fn in queries.items():
            ms = timed(fn, args.repeat)
            print(f"  {name:<42}{percentile(ms, 50):>9.1f}{percentile(ms, 95):>9.1f}{statistics.mean(ms):>9.1f}")
    connection.close()


if __name__ == "__main__":
    main()
