"""What the database benchmarks share: a migrated database of generated incidents, and timing.

The incidents come from bench/api.py's generator and COPY loader; run the benchmarks as
``python bench/<name>.py`` (bench/ is then on the import path).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import api


def prepare_database(url: str, incidents: int, *, reuse: bool) -> api.Loaded | None:
    """Set Django up on ``url``, migrated, holding ``incidents`` generated incidents.

    With ``reuse`` and that many incidents there already, nothing is loaded and None is returned;
    otherwise the database is recreated and loaded, and the loader's figures returned.
    """
    fresh = not (reuse and api.bulk_count(url) == incidents)
    if fresh:
        api.recreate_database(url)
    api.setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not fresh:
        print(f"  reusing the {incidents:,} incidents already loaded")
        return None
    t = time.perf_counter()
    loaded = api.load(incidents, dt.datetime.now(dt.UTC))
    print(f"  loaded {loaded.incidents:,} incidents ({loaded.open:,} open) in {time.perf_counter() - t:.0f} s")
    return loaded


def best(runs: int, step: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``runs`` runs of ``step`` (seconds) and its last result."""
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - t)
    return min(times), result
