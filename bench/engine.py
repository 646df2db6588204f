"""Engine benchmark: assessments per second per call and in batch, and peak memory.

    .venv/bin/python bench/engine.py [--records 1000000] [--scales osce-reference,cisa-nciss,...]

Records are random but valid and shaped like real reports: each fact is known with
probability 0.7 and the impact values lean towards the low end (most incidents are
Baseline or Low). Per call means ``nciss.assess`` on one dict, validation included:
score, level and reachable range (decisive unknowns, contributions and explanation are
built on first use, so measured apart, as "with details": the whole ``to_dict()``).
Batch means ``nciss.batch.assess_batch`` on columns: score, level and reachable range.
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

import nciss
from nciss.batch import assess_batch, encode
from nciss.facts import SECTORS, fact_specs
from nciss.taxonomy import rsit_types

COUNTRIES = ["KZ", "KG", "TJ", "TM", "AF", "RU", "CN", "DE", "US", "UA"]
NUMBERS = {
    "outage_minutes": (0, 2000),
    "outage_minutes_week": (0, 3000),
    "degraded_minutes": (0, 3000),
    "avg_response_seconds": (0, 30),
    "users_affected": (0, 5_000_000),
    "users_unavailable": (0, 2_000_000),
    "users_degraded": (0, 2_000_000),
    "users_data_compromised": (0, 1_000_000),
    "records_affected": (0, 10_000_000),
    "domains_affected": (0, 5000),
    "financial_loss_eur": (0, 5_000_000),
    "annual_turnover_eur": (100_000, 2_000_000_000),
    "fatalities": (0, 3),
    "injuries": (0, 20),
    "recurrences_6_months": (0, 4),
    "recurrence_loss_eur": (0, 2_000_000),
    "organisations_affected": (1, 30),
}


def _skewed(rng: random.Random, values: tuple[str, ...]) -> str:
    """A value leaning towards the least severe end (weights 1, 1/2, 1/3 ...)."""
    return rng.choices(values, weights=[1 / (i + 1) for i in range(len(values))])[0]


def records(n: int, seed: int = 2026) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    specs = [s for s in fact_specs().values() if s.kind not in ("datetime", "country")]
    types = rsit_types()
    for _ in range(n):
        facts: dict[str, Any] = {}
        for spec in specs:
            if rng.random() > 0.7:
                continue
            if spec.name == "classification":
                facts[spec.name] = rng.choice(types)
            elif spec.kind == "enum":
                facts[spec.name] = _skewed(rng, spec.values) if spec.ordered else rng.choice(spec.values)
            elif spec.kind == "bool":
                facts[spec.name] = rng.random() < 0.2
            elif spec.kind == "list":
                pool = COUNTRIES if spec.items == "country" else SECTORS
                facts[spec.name] = rng.sample(pool, k=rng.choice((0, 0, 0, 1, 2)))
            elif spec.maximum is not None:
                facts[spec.name] = round(rng.random() ** 4, 4)
            else:
                lo, hi = NUMBERS[spec.name]
                value = lo + (hi - lo) * rng.random() ** 6
                facts[spec.name] = int(value) if spec.kind == "int" else round(value, 2)
        yield facts


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def chunks(n: int, size: int = 100_000) -> Iterator[list[dict[str, Any]]]:
    """The records in lists, so that generating them stays out of the timings."""
    it = records(n)
    while batch := list(itertools.islice(it, size)):
        yield batch


def bench_scale(scale: nciss.Scale, n: int) -> dict[str, float]:
    out: dict[str, float] = {}
    assess_time = encode_time = 0.0
    parts: list[dict[str, np.ndarray]] = []
    for chunk in chunks(n):
        t = time.perf_counter()
        for facts in chunk:
            nciss.assess(scale, facts)
        assess_time += time.perf_counter() - t
        t = time.perf_counter()
        parts.append(encode(scale, chunk)[0])
        encode_time += time.perf_counter() - t
    out["per_call"] = n / assess_time
    out["encode"] = n / encode_time
    columns = {fact: np.concatenate([p[fact] for p in parts]) for fact in parts[0]}
    del parts
    t = time.perf_counter()
    assess_batch(scale, columns, n)
    out["batch"] = n / (time.perf_counter() - t)

    sample = list(records(min(n, 100_000), seed=7))
    t = time.perf_counter()
    for facts in sample:
        nciss.validate_facts(facts)
    out["validate"] = len(sample) / (time.perf_counter() - t)
    t = time.perf_counter()
    for facts in sample:
        nciss.assess(scale, facts).to_dict()
    out["full_dict"] = len(sample) / (time.perf_counter() - t)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--scales", default=",".join(s.id for s in nciss.list_scales()))
    args = parser.parse_args()
    print(
        f"nciss engine benchmark: {args.records:,} random valid fact records, Python {sys.version.split()[0]}, one core"
    )
    header = f"{'scale':<16}{'per call/s':>12}{'batch/s':>13}{'validate/s':>12}{'details/s':>11}{'encode/s':>11}"
    print(header)
    print("-" * len(header))
    for scale_id in args.scales.split(","):
        r = bench_scale(nciss.load_scale(scale_id), args.records)
        print(
            f"{scale_id:<16}{r['per_call']:>12,.0f}{r['batch']:>13,.0f}{r['validate']:>12,.0f}{r['full_dict']:>11,.0f}{r['encode']:>11,.0f}",
            flush=True,
        )
    print(f"peak memory (max RSS): {peak_mib():,.0f} MiB")
    print("per call: nciss.assess incl. validation (score, level, reachable range); batch: columns -> the same;")
    print("details: assess + decisive unknowns, contributions, rules and explanation, to_dict() (100 000 records);")
    print("encode: dicts -> columns")


if __name__ == "__main__":
    main()
