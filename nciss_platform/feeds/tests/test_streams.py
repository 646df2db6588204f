"""Feed events through a Redis stream: workers, redelivery, back-pressure, and a worker killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Sum

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.feeds import streams
from nciss_platform.feeds.models import DeadLetter, FeedIncident, SeenEvent
from nciss_platform.feeds.tests.test_ingest import event
from nciss_platform.incidents.models import Incident

REDIS_URL = os.environ.get("NCISS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def stream() -> Iterator[tuple[redis.Redis, str]]:
    """A Redis client and a stream name of this test only (deleted afterwards); skipped without Redis."""
    client = streams.connect(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    name = f"test:nciss:events:{uuid.uuid4().hex}"
    yield client, name
    client.delete(name)


def published(client: redis.Redis, name: str, events: list[dict[str, object]]) -> None:
    streams.publish(client, (orjson.dumps(e) for e in events), stream=name)


@pytest.mark.django_db
def test_a_worker_drains_the_stream_and_keeps_malformed_entries_as_dead_letters(
    stream: tuple[redis.Redis, str], owned: None, analyst: User
) -> None:
    client, name = stream
    published(client, name, [event(f"192.0.2.{n}") for n in range(1, 6)] + [event("198.51.100.7", kind="scanner")])
    client.xadd(name, {streams.FIELD: b'{"source.ip": "192.0.2.9"}'})
    client.xadd(name, {b"other": b"x"})
    worker = streams.StreamWorker(client=client, actor=analyst, stream=name, group="g", consumer="w1", block=0.1)
    summary = worker.run(until_empty=True)
    assert (summary.read, summary.attributed, summary.rejected) == (8, 6, 2)
    assert summary.incidents_opened == 2
    assert client.xlen(name) == 0  # acknowledged and deleted once committed
    letters = DeadLetter.objects.order_by("id")
    assert [letter.field for letter in letters] == ["classification.type", "event"]
    assert letters[0].position.startswith("message ") and "192.0.2.9" in letters[0].raw
    assert letters[0].source == f"redis {name}"


@pytest.mark.django_db
def test_entries_of_a_dead_consumer_are_claimed_and_redelivery_counts_nothing_twice(
    stream: tuple[redis.Redis, str], owned: None, analyst: User
) -> None:
    client, name = stream
    published(client, name, [event(f"192.0.2.{n}") for n in range(1, 11)])
    first = streams.StreamWorker(client=client, actor=analyst, stream=name, group="g", consumer="first", batch=4)
    first.ensure_group()
    first._ingest(first._read())  # committed and acknowledged
    dead = first._read()  # read, then the worker dies before ingesting them
    assert len(dead) == 4
    first._ingest(dead[:2])  # ... or after committing half of them, before acknowledging
    client.xadd(name, {streams.FIELD: orjson.dumps(event("192.0.2.1"))})  # the feed repeats an event
    for message_id, _ in dead[:2]:  # the half committed is still pending: not acknowledged
        client.xclaim(name, "g", "first", 0, [message_id])
    client.xgroup_createconsumer(name, "g", "second")
    pending = client.xpending_range(name, "g", min="-", max="+", count=100, consumername="first")
    assert len(pending) >= 2
    time.sleep(0.05)
    second = streams.StreamWorker(
        client=client, actor=analyst, stream=name, group="g", consumer="second", claim_idle=0.01, block=0.1
    )
    second.run(until_empty=True)
    assert client.xlen(name) == 0
    assert SeenEvent.objects.count() == 10
    assert FeedIncident.objects.get().events == 10
    assert Incident.objects.count() == 1


@pytest.mark.django_db
def test_publishing_waits_while_the_backlog_is_full_and_drops_nothing(stream: tuple[redis.Redis, str]) -> None:
    client, name = stream
    published(client, name, [event(f"192.0.2.{n}") for n in range(1, 11)])
    sent: list[int] = []
    publisher = threading.Thread(
        target=lambda: sent.append(
            streams.publish(
                client,
                (orjson.dumps(event(f"198.51.100.{n}")) for n in range(1, 6)),
                stream=name,
                max_backlog=10,
                poll_seconds=0.02,
            )
        )
    )
    publisher.start()
    time.sleep(0.3)
    assert client.xlen(name) == 10 and not sent  # waiting for the workers
    oldest = [message_id for message_id, _ in client.xrange(name, count=5)]
    client.xdel(name, *oldest)  # workers ingested five
    publisher.join(timeout=5)
    assert sent == [5]
    assert client.xlen(name) == 10


@pytest.mark.django_db
def test_the_command_publishes_files_and_a_worker_ingests_them(
    stream: tuple[redis.Redis, str], owned: None, analyst: User, tmp_path: Path, capsys: Any
) -> None:
    client, name = stream
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(orjson.dumps(event(f"192.0.2.{n}")) for n in range(1, 4)) + b"\n\n")
    (tmp_path / "b.json").write_bytes(orjson.dumps([event("198.51.100.1"), event("203.0.113.1")]))
    call_command("ingest", "--to-redis", REDIS_URL, "--stream", name, "--quiet", str(tmp_path))
    assert capsys.readouterr().out.strip() == f"5 events published to {name}"
    assert client.xlen(name) == 5
    call_command(
        "ingest", "--from-redis", REDIS_URL, "--stream", name, "--user", analyst.username, "--until-empty", "--quiet"
    )
    assert "5 events read: 4 attributed (0 duplicates), 1 outside the constituency" in capsys.readouterr().out
    assert client.xlen(name) == 0
    with pytest.raises(CommandError, match="--user is required"):
        call_command("ingest", "--from-redis", REDIS_URL, "--stream", name)


def _database_url() -> str:
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )


# `nciss`, without the IRI syntax checker jsonschema would load: it compiles grammars for seconds at
# every start (when installed), and workers never validate IRIs.
_RUN_NCISS = "import sys; sys.modules['rfc3987_syntax'] = None; from nciss_platform.cli import main; sys.exit(main())"


def _worker(name: str, consumer: str) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "DATABASE_URL": _database_url(), "NCISS_DEBUG": "1", "NCISS_BROKER_URL": REDIS_URL}
    command = [
        sys.executable,
        "-c",
        _RUN_NCISS,
        "ingest",
        "--from-redis",
        "--stream",
        name,
    ]
    command += ["--group", "g", "--consumer", consumer, "--user", "analyst", "--batch", "100"]
    command += ["--claim-idle", "1", "--until-empty", "--quiet"]
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.django_db(transaction=True)
def test_killing_a_worker_mid_run_loses_no_event_and_duplicates_no_incident(
    stream: tuple[redis.Redis, str], owned: None, analyst: User
) -> None:
    """Two workers on PostgreSQL; one is SIGKILLed mid-run and replaced; every event counts exactly once."""
    if connection.vendor != "postgresql":
        pytest.skip("workers on several processes need PostgreSQL")
    client, name = stream
    kinds = ("infected-system", "scanner", "phishing")
    events = [
        event(
            f"{'192.0.2' if n % 2 else '198.51.100'}.{n % 200 + 1}",
            kind=kinds[n % 3],
            at=f"2026-03-0{n % 4 + 1}T08:00:00+00:00",
            **{"extra.n": n},
        )
        for n in range(1200)
    ]
    published(client, name, events + events[:120])  # the feed repeats a tenth
    workers = [_worker(name, "a"), _worker(name, "b")]
    deadline = time.monotonic() + 30
    while SeenEvent.objects.count() < 200 and time.monotonic() < deadline:
        time.sleep(0.02)
    workers[0].send_signal(signal.SIGKILL)
    workers[0].wait()
    workers.append(_worker(name, "c"))
    for worker in workers[1:]:
        _, errors = worker.communicate(timeout=60)
        assert worker.returncode == 0, errors.decode()
    assert workers[0].returncode == -signal.SIGKILL
    assert client.xlen(name) == 0
    groups = {(e["source.ip"].startswith("192"), e["classification.type"], e["time.source"][:10]) for e in events}
    assert SeenEvent.objects.count() == len(events)
    assert FeedIncident.objects.aggregate(total=Sum("events"))["total"] == len(events)
    assert FeedIncident.objects.count() == len(groups)
    assert Incident.objects.count() == len(groups)


@pytest.mark.django_db
def test_partitions_give_each_organisation_to_one_stream_and_their_workers_ingest_them_all(
    stream: tuple[redis.Redis, str],
    owned: None,
    energy: Organisation,
    ministry: Organisation,
    analyst: User,
    tmp_path: Path,
    capsys: Any,
) -> None:
    client, name = stream
    grid_events = [event(f"192.0.2.{n}") for n in range(1, 21)]
    ministry_events = [event(f"198.51.100.{n}", kind="scanner") for n in range(1, 21)]
    nobody = [event(f"203.0.113.{n}") for n in range(1, 5)]
    (tmp_path / "feed.jsonl").write_bytes(
        b"\n".join(map(orjson.dumps, grid_events + ministry_events + nobody)) + b"\nnot json\n"
    )
    parts = [streams.partition_stream(name, k) for k in range(2)]
    try:
        call_command("ingest", "--to-redis", REDIS_URL, "--stream", name, "--partitions", "2", "--quiet", str(tmp_path))
        assert capsys.readouterr().out.strip() == f"45 events published to {name}:0 .. 1 (by organisation)"
        assert client.xlen(name) == 0 and sum(map(client.xlen, parts)) == 45
        where = {}  # the partition each source address went to
        for k, part in enumerate(parts):
            for _, fields in client.xrange(part):
                if fields[streams.FIELD].startswith(b"{"):
                    where[orjson.loads(fields[streams.FIELD])["source.ip"]] = k
        assert {where[e["source.ip"]] for e in grid_events} == {energy.pk % 2}
        assert {where[e["source.ip"]] for e in ministry_events} == {ministry.pk % 2}
        for k in range(2):
            call_command(
                "ingest", "--from-redis", REDIS_URL, "--stream", name, "--partition", str(k),
                "--user", analyst.username, "--until-empty", "--quiet",
            )  # fmt: skip
        assert sum(map(client.xlen, parts)) == 0
        assert FeedIncident.objects.count() == 2 and Incident.objects.count() == 2
        assert FeedIncident.objects.aggregate(events=Sum("events"))["events"] == 40
        assert DeadLetter.objects.count() == 1
    finally:
        client.delete(*parts)
    with pytest.raises(CommandError, match="--partitions must be positive"):
        call_command("ingest", "--to-redis", REDIS_URL, "--partitions", "0", str(tmp_path))
