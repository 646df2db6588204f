"""Outbox benchmark: jobs claimed and done per second with a no-op handler, on SQLite and PostgreSQL.

    .venv/bin/python bench/outbox.py [--jobs 50000] [--done 1000000] [--workers 1 2] [--batch 100]

For each database (an SQLite file in a temporary folder; the PostgreSQL database
``nciss_bench_outbox`` on 127.0.0.1:5432, made afresh, unless ``--sqlite-only``):

1. migrates it (the PostgreSQL database is dropped at the end), then bulk-inserts ``--done`` finished jobs (the history a busy deployment keeps:
   claiming must not slow down with it) and enqueues ``--jobs`` jobs through ``enqueue()``, 1 000
   per transaction, timing the enqueuing;
2. for each worker count, starts that many worker processes (``run_worker(once=True)``), lets them
   all start claiming at once, and times until the last one has found nothing more to do: the
   figure is jobs done per second of that wall time, claims, attempt log and state changes included.
   The jobs are set back to pending (and their attempt log emptied) between runs.

The workers run on the same cores as the database, so the figures are those of the whole machine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DATABASE = "nciss_bench_outbox"
POSTGRES = "postgres://postgres@127.0.0.1:5432"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--done", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--role", choices=["seed", "reset", "worker"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        return _child(args)
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as cleanup:
        databases = {"SQLite": f"sqlite:///{Path(folder) / 'outbox.sqlite3'}"}
        if not args.sqlite_only:
            databases["PostgreSQL"] = _fresh_postgres()
            cleanup.callback(_drop_postgres)
        for name, url in databases.items():
            env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "NCISS_BROKER_URL": ""}
            subprocess.run(
                [sys.executable, "-m", "nciss_platform", "migrate"], env=env, check=True, capture_output=True
            )
            seeded = _run_child(env, "seed", args)
            print(f"{name}: {seeded}", flush=True)
            for workers in args.workers:
                _run_child(env, "reset", args)
                print(
                    f"{name}, {workers} worker(s), batch {args.batch}: {_time_workers(env, args, workers)}", flush=True
                )
    return 0


def _fresh_postgres() -> str:
    import psycopg

    _drop_postgres()
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    return f"{POSTGRES}/{BENCH_DATABASE}"


def _drop_postgres() -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def _run_child(env: dict[str, str], role: str, args: argparse.Namespace) -> str:
    command = [sys.executable, __file__, "--role", role, "--jobs", str(args.jobs), "--done", str(args.done)]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout.strip()


def _time_workers(env: dict[str, str], args: argparse.Namespace, count: int) -> str:
    command = [sys.executable, __file__, "--role", "worker", "--batch", str(args.batch)]
    workers = [
        subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    for worker in workers:  # wait until every worker has started Django and is ready to claim
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.close()
    done = [int(worker.stdout.read()) for worker in workers if worker.stdout is not None and worker.wait() == 0]
    elapsed = time.perf_counter() - started
    share = " + ".join(str(n) for n in done)
    return f"{sum(done)} jobs ({share}) in {elapsed:.2f} s: {sum(done) / elapsed:,.0f} jobs/s"


def _child(args: argparse.Namespace) -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "nciss_platform.settings"
    import django

    django.setup()
    from django.db import transaction

    from nciss_platform import clock
    from nciss_platform.outbox.models import Job, JobAttempt
    from nciss_platform.outbox.registry import handler
    from nciss_platform.outbox.services import enqueue
    from nciss_platform.outbox.worker import run_worker

    @handler("bench.noop")
    def noop(job: Job) -> None:
        pass

    if args.role == "seed":
        now = clock.now()
        for start in range(0, args.done, 10_000):
            Job.objects.bulk_create(
                Job(
                    kind="bench.noop",
                    key=f"done-{n}",
                    payload={"n": n},
                    state="done",
                    attempts=1,
                    run_after=now,
                    created=now,
                    finished=now,
                )
                for n in range(start, min(start + 10_000, args.done))
            )
        started = time.perf_counter()
        for start in range(0, args.jobs, 1000):
            with transaction.atomic():
                for n in range(start, min(start + 1000, args.jobs)):
                    enqueue(kind="bench.noop", key=f"job-{n}", payload={"n": n, "event": "bench"})
        elapsed = time.perf_counter() - started
        print(f"{args.done} done jobs kept; enqueued {args.jobs} in {elapsed:.2f} s: {args.jobs / elapsed:,.0f} jobs/s")
    elif args.role == "reset":
        with transaction.atomic():
            JobAttempt.objects.all().delete()
            Job.objects.filter(key__startswith="job-").update(
                state="pending", attempts=0, run_after=clock.now(), leased_until=None, leased_by="", finished=None
            )
    else:
        print("ready", flush=True)
        sys.stdin.readline()
        print(run_worker(once=True, batch=args.batch, kinds=["bench.noop"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
