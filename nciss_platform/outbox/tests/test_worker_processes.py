"""Worker processes against a real database: several at once, one killed mid-delivery, woken by Redis.

Each test database is made for this module (a worker process cannot share the suite's in-memory
SQLite): an SQLite file always, and a fresh PostgreSQL database too when DATABASE_URL names one.
The workers deliver signed webhooks to a receiver in this process, which checks every signature
and notes every delivery by its ``Idempotency-Key``.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from nciss_platform.notifications.channels import verify_signature

SECRET = "whsec-outbox-tests"
DATABASES = ["sqlite"] + (["postgres"] if os.environ.get("DATABASE_URL", "").startswith("postgres") else [])


@pytest.fixture(scope="module", params=DATABASES)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a worker process: a freshly migrated database of its own."""
    env = {**os.environ, "DATABASE_URL": "", "NCISS_BROKER_URL": "", "PYTHONUNBUFFERED": "1"}
    if request.param == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp_path_factory.mktemp('outbox') / 'outbox.sqlite3'}"
        subprocess.run([sys.executable, "-m", "nciss_platform", "migrate"], env=env, check=True, capture_output=True)
        yield env
        return
    import psycopg

    server = urlsplit(os.environ["DATABASE_URL"])
    name = f"nciss_outbox_{uuid.uuid4().hex[:12]}"
    admin_url = urlunsplit(server._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env["DATABASE_URL"] = urlunsplit(server._replace(path=f"/{name}"))
        subprocess.run([sys.executable, "-m", "nciss_platform", "migrate"], env=env, check=True, capture_output=True)
        yield env
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Delivery:
    key: str
    body: bytes
    verified: bool


@dataclass
class Receiver:
    """A webhook endpoint that answers after ``delay`` seconds and notes what it received.

    Every request after the first ``hold_after`` it holds without answering (``held``) until ``release``.
    """

    delay: float
    deliveries: list[Delivery] = field(default_factory=list)
    in_hand: Counter[str] = field(default_factory=Counter)
    overlaps: list[str] = field(default_factory=list)
    hold_after: int | None = None
    held: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def serve(self) -> ThreadingHTTPServer:
        receiver = self

        class Endpoint(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers["Idempotency-Key"]
                verified = verify_signature(SECRET, self.headers, body)
                with receiver.lock:
                    receiver.deliveries.append(Delivery(key, body, verified))
                    if receiver.in_hand[key]:
                        receiver.overlaps.append(key)
                    receiver.in_hand[key] += 1
                    hold = receiver.hold_after is not None and len(receiver.deliveries) > receiver.hold_after
                    if hold:
                        receiver.held.append(key)
                time.sleep(receiver.delay)
                if hold:
                    receiver.release.wait()
                with receiver.lock:
                    receiver.in_hand[key] -= 1
                try:
                    self.send_response(204 if verified else 401)
                    self.end_headers()
                except OSError:  # the worker was killed while waiting for the answer
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
        server.daemon_threads = True
        self.url = f"http://127.0.0.1:{server.server_port}/hooks/nciss"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def busy(self) -> bool:
        with self.lock:
            return any(self.in_hand.values())

    def by_key(self) -> dict[str, list[Delivery]]:
        with self.lock:
            grouped: dict[str, list[Delivery]] = defaultdict(list)
            for delivery in self.deliveries:
                grouped[delivery.key].append(delivery)
            return grouped


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    endpoint = Receiver(delay=getattr(request, "param", 0.05))
    server = endpoint.serve()
    yield endpoint
    endpoint.release.set()
    server.shutdown()
    server.server_close()


def seed(env: dict[str, str], url: str, prefix: str, count: int) -> subprocess.Popen[bytes]:
    """Enqueue ``count`` webhook jobs keyed ``<prefix>-<n>`` in another process (started, not awaited)."""
    command = [sys.executable, "-m", "nciss_platform.outbox.tests.worker_process", "seed", url, SECRET, prefix]
    return subprocess.Popen([*command, str(count)], env=env)


def jobs(env: dict[str, str], prefix: str) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Each job's state and attempt log (outcome, worker), read straight from the database."""
    query = (
        "SELECT job.key, job.state, attempt.outcome, attempt.worker FROM outbox_job job"
        " JOIN outbox_jobattempt attempt ON attempt.job_id = job.id"
        " WHERE job.key LIKE {} ORDER BY job.key, attempt.number"
    )
    url = env["DATABASE_URL"]
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(url.removeprefix("sqlite://"))) as sqlite:
            rows = sqlite.execute(query.format("?"), (f"{prefix}-%",)).fetchall()
    else:
        import psycopg

        with psycopg.connect(url) as postgres:
            rows = postgres.execute(query.format("%s"), (f"{prefix}-%",)).fetchall()
    found: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for key, state, outcome, worker in rows:
        found.setdefault(key, (state, []))[1].append((outcome, worker))
    return found


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start ``nciss worker ARGS`` with the test handler; its log lines go to a file (``output()``)."""
    started: list[WorkerProcess] = []

    def start(env: dict[str, str], *arguments: str) -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        command = [sys.executable, "-m", "nciss_platform.outbox.tests.worker_process", "worker", *arguments]
        with log.open("wb") as stderr:
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        started.append(WorkerProcess(process, log))
        return started[-1]

    yield start
    for worker in started:
        worker.process.kill()
        worker.process.wait()


def wait_until(condition: Callable[[], object], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout}s")
        time.sleep(0.01)


def test_it_loses_and_repeats_nothing_when_a_worker_is_killed_mid_delivery(
    database: dict[str, str], receiver: Receiver, start_worker: Callable[..., WorkerProcess]
) -> None:
    prefix = f"kill-{uuid.uuid4().hex[:6]}"
    keys = {f"{prefix}-{n}" for n in range(12)}
    receiver.hold_after = 5  # the sixth delivery gets no answer: the worker is killed while it waits
    first = start_worker(database, "--batch", "4", "--lease", "3", "--poll", "0.2")
    assert seed(database, receiver.url, prefix, len(keys)).wait() == 0
    wait_until(lambda: receiver.held)
    in_hand = list(receiver.held)
    first.process.send_signal(signal.SIGKILL)
    assert first.process.wait() == -signal.SIGKILL
    receiver.hold_after = None
    receiver.release.set()
    second = start_worker(database, "--concurrency", "2", "--lease", "3", "--poll", "0.2")
    wait_until(lambda: set(receiver.by_key()) == keys and not receiver.busy())
    time.sleep(0.3)  # time enough for a stray repeat to show
    second.process.send_signal(signal.SIGTERM)
    assert second.process.wait(timeout=15) == 0, second.output()

    deliveries = receiver.by_key()
    assert set(deliveries) == keys
    assert all(delivery.verified for delivered in deliveries.values() for delivery in delivered)
    assert all(len({delivery.body for delivery in delivered}) == 1 for delivered in deliveries.values())
    assert [key for key, delivered in deliveries.items() if len(delivered) > 1] == in_hand
    outbox = jobs(database, prefix)
    assert {key: state for key, (state, _) in outbox.items()} == dict.fromkeys(keys, "done")
    assert [outcome for outcome, _ in outbox[in_hand[0]][1]] == ["lost", "ok"]


@pytest.mark.parametrize("receiver", [0.01], indirect=True)
def test_it_never_gives_a_job_to_two_workers_at_once(
    database: dict[str, str], receiver: Receiver, start_worker: Callable[..., WorkerProcess]
) -> None:
    prefix = f"parallel-{uuid.uuid4().hex[:6]}"
    keys = {f"{prefix}-{n}" for n in range(150)}
    workers = [start_worker(database, "--concurrency", "2", "--batch", "5", "--poll", "0.2") for _ in range(2)]
    assert seed(database, receiver.url, prefix, len(keys)).wait() == 0
    wait_until(lambda: len(receiver.deliveries) >= len(keys) and not receiver.busy())
    time.sleep(0.3)  # time enough for a stray repeat to show
    for worker in workers:
        worker.process.send_signal(signal.SIGTERM)
    for worker in workers:
        assert worker.process.wait(timeout=15) == 0, worker.output()

    assert receiver.overlaps == []
    assert {key: len(delivered) for key, delivered in receiver.by_key().items()} == dict.fromkeys(keys, 1)
    outbox = jobs(database, prefix)
    assert {state for state, _ in outbox.values()} == {"done"}
    processes = {worker.split(":")[1] for _, log in outbox.values() for _, worker in log}
    assert len(processes) > 1  # the workers did run side by side


def test_it_wakes_an_idle_worker_of_another_process_through_redis(
    database: dict[str, str], receiver: Receiver, start_worker: Callable[..., WorkerProcess], redis_url: str
) -> None:
    env = {**database, "NCISS_BROKER_URL": redis_url}
    prefix = f"wake-{uuid.uuid4().hex[:6]}"

    worker = start_worker(env, "--poll", "60")
    wait_until(lambda: "started" in worker.output())
    time.sleep(1)  # idle, subscribed, and a minute from its next poll
    assert seed(env, receiver.url, prefix, 1).wait() == 0
    wait_until(lambda: receiver.deliveries, timeout=10)
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=15) == 0, worker.output()
    assert [delivery.key for delivery in receiver.deliveries] == [f"{prefix}-0"]
