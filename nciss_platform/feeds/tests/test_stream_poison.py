"""Stream workers and poison entries: what fails alone is a dead letter, the rest of its batch goes through."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, cast

import orjson
import pytest
import redis
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.db.models import Sum

from nciss_platform.accounts.models import User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.errors import NotAllowed
from nciss_platform.feeds import streams
from nciss_platform.feeds.models import DeadLetter, FeedIncident, SeenEvent
from nciss_platform.feeds.tests import test_streams
from nciss_platform.feeds.tests.test_ingest import event
from nciss_platform.feeds.tests.test_streams import published
from nciss_platform.incidents import services as incidents
from nciss_platform.incidents.models import Incident

stream = test_streams.stream  # the fixture: a stream of the test only, skipped without Redis
POISON_TYPE = "ddos"  # the events of this type make opening their incident fail, below


@pytest.fixture
def poison(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening an incident of ``POISON_TYPE`` raises, as a bug in normalisation or attribution would."""
    report_incidents = incidents.report_incidents

    def failing(*, reports: list[incidents.NewReport], **kwargs: Any) -> Any:
        if any(report.facts["classification"].endswith(f":{POISON_TYPE}") for report in reports):
            raise RuntimeError(f"cannot open a {POISON_TYPE} incident\nTraceback ...")
        return report_incidents(reports=reports, **kwargs)

    monkeypatch.setattr(incidents, "report_incidents", failing)


def worker(client: redis.Redis, name: str, actor: User, consumer: str = "w1", **options: Any) -> streams.StreamWorker:
    return streams.StreamWorker(
        client=client, actor=actor, stream=name, group="g", consumer=consumer, block=0.1, **options
    )


def entry_ids(client: redis.Redis, name: str) -> list[str]:
    return [message_id.decode() for message_id, _ in cast(list[streams.Message], client.xrange(name))]


@pytest.mark.django_db
def test_poison_entries_are_dead_letters_and_the_rest_of_their_batch_is_ingested_once(
    stream: tuple[redis.Redis, str],
    owned: None,
    analyst: User,
    poison: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, name = stream
    good = [event(f"192.0.2.{n}") for n in range(1, 9)]
    huge = event("192.0.2.200", kind=POISON_TYPE, **{"extra.blob": "x" * 20_000})
    published(client, name, [*good[:3], huge, *good[3:6], event("198.51.100.9", kind=POISON_TYPE), *good[6:]])
    client.xadd(name, {streams.FIELD: b"{not json"})
    client.xadd(name, {b"other": b"x"})
    ids = entry_ids(client, name)
    with caplog.at_level(logging.WARNING, logger=streams.__name__):
        summary = worker(client, name, analyst, batch=50).run(until_empty=True)
    assert client.xlen(name) == 0 and not client.xpending(name, "g")["pending"]  # all acknowledged
    assert (summary.read, summary.attributed, summary.rejected) == (12, 8, 4)
    assert SeenEvent.objects.count() == 8
    assert FeedIncident.objects.aggregate(total=Sum("events"))["total"] == 8
    assert Incident.objects.count() == 1  # no incident of the failed attempts survived
    letters = {letter.position: letter for letter in DeadLetter.objects.all()}
    assert set(letters) == {f"message {ids[n]}" for n in (3, 7, 10, 11)}
    for n in (3, 7):
        assert letters[f"message {ids[n]}"].reason == f"RuntimeError: cannot open a {POISON_TYPE} incident"
        assert letters[f"message {ids[n]}"].source == f"redis {name}"
    assert len(letters[f"message {ids[3]}"].raw) == 8192  # cut at 8 KiB
    assert orjson.loads(letters[f"message {ids[7]}"].raw)["source.ip"] == "198.51.100.9"
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    for n in (3, 7, 10, 11):
        assert sum(f"message {ids[n]} " in text for text in warnings) == 1  # each logged once


@pytest.mark.django_db
def test_a_batch_without_poison_is_one_transaction(
    stream: tuple[redis.Redis, str],
    owned: None,
    analyst: User,
    poison: None,
) -> None:
    client, name = stream
    published(client, name, [event(f"192.0.2.{n}") for n in range(1, 21)])
    worker(client, name, analyst, batch=50).run(until_empty=True)
    assert AuditEvent.objects.filter(action="feeds.ingested").count() == 1
    assert SeenEvent.objects.count() == 20


@pytest.mark.django_db
def test_an_entry_delivered_too_often_is_a_dead_letter_without_another_try(
    stream: tuple[redis.Redis, str],
    owned: None,
    analyst: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, name = stream
    published(client, name, [event("192.0.2.1"), event("192.0.2.2"), event("192.0.2.3")])
    first = worker(client, name, analyst, consumer="first")
    first.ensure_group()
    ids = [message_id for message_id, _ in first._read()]  # then the worker dies, again and again ...
    client.xclaim(name, "g", "first", 0, [ids[1]], retrycount=5, justid=True)  # ... on this entry
    second = worker(client, name, analyst, consumer="second", claim_idle=0.001)
    with caplog.at_level(logging.WARNING, logger=streams.__name__):
        summary = second.run(until_empty=True)
    assert client.xlen(name) == 0 and not client.xpending(name, "g")["pending"]
    assert (summary.attributed, summary.rejected) == (2, 1)
    assert SeenEvent.objects.count() == 2
    letter = DeadLetter.objects.get()
    assert letter.position == f"message {ids[1].decode()}"
    assert letter.reason.startswith("delivered 6 times")
    assert "192.0.2.2" in letter.raw
    assert sum(f"message {ids[1].decode()} " in record.getMessage() for record in caplog.records) == 1


@pytest.mark.django_db
def test_the_command_sets_how_many_deliveries_make_a_dead_letter(
    stream: tuple[redis.Redis, str], owned: None, analyst: User
) -> None:
    client, name = stream
    published(client, name, [event("192.0.2.1"), event("192.0.2.2")])
    first = worker(client, name, analyst, consumer="first")
    first.ensure_group()
    ids = [message_id for message_id, _ in first._read()]  # the worker dies ...
    client.xclaim(name, "g", "first", 0, [ids[1]], retrycount=2, justid=True)  # ... twice on this entry
    options = ["--stream", name, "--group", "g", "--user", analyst.username, "--claim-idle", "0.001", "--quiet"]
    with pytest.raises(CommandError, match="--max-deliveries must be positive"):
        call_command("ingest", "--from-redis", test_streams.REDIS_URL, *options, "--max-deliveries", "0")
    time.sleep(0.01)
    call_command("ingest", "--from-redis", test_streams.REDIS_URL, *options, "--max-deliveries", "2", "--until-empty")
    assert DeadLetter.objects.get().reason.startswith("delivered 3 times")
    assert SeenEvent.objects.count() == 1 and client.xlen(name) == 0


@pytest.mark.django_db
def test_batches_the_database_refuses_stay_pending_and_are_not_counted_as_deliveries(
    stream: tuple[redis.Redis, str],
    analyst: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, name = stream
    published(client, name, [event("192.0.2.1"), event("192.0.2.2")])

    def refused(**kwargs: Any) -> Any:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(streams, "ingest_events", refused)
    monkeypatch.setattr(streams, "RETRIES", 2)
    monkeypatch.setattr(connection, "close", lambda: None)  # the test's transaction stays
    consumer = worker(client, name, analyst, claim_idle=0.001)
    consumer.ensure_group()
    stopped = threading.Event()
    stopped.set()  # no waiting between attempts
    for _ in range(streams.MAX_DELIVERIES + 2):  # refused again and again, read then claimed
        time.sleep(0.005)
        messages = consumer._claim() or consumer._read()
        assert len(messages) == 2
        consumer._ingest_isolating(messages, stopped)
    pending = client.xpending_range(name, "g", min="-", max="+", count=10)
    assert [row["times_delivered"] for row in pending] == [1, 1]
    assert not DeadLetter.objects.exists()
    assert client.xlen(name) == 2


@pytest.mark.django_db
def test_a_worker_whose_account_may_not_ingest_stops_and_keeps_no_dead_letter(
    stream: tuple[redis.Redis, str],
    owned: None,
    reporter: User,
) -> None:
    client, name = stream
    published(client, name, [event("192.0.2.1"), event("192.0.2.2")])
    with pytest.raises(NotAllowed):
        worker(client, name, reporter).run(until_empty=True)
    assert not DeadLetter.objects.exists()
    assert client.xpending(name, "g")["pending"] == 2  # for a worker with the right account


@pytest.mark.django_db
def test_an_event_the_database_refuses_is_a_dead_letter(
    stream: tuple[redis.Redis, str],
    owned: None,
    analyst: User,
) -> None:
    """PostgreSQL refuses NUL characters in text: the entry is a dead letter, the others are ingested."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite stores NUL characters")
    client, name = stream
    published(client, name, [event("192.0.2.1"), event("192.0.2.2", **{"source.fqdn": "a\u0000.example"})])
    summary = worker(client, name, analyst).run(until_empty=True)
    assert (summary.attributed, summary.rejected) == (1, 1)
    assert "0x00" in DeadLetter.objects.get().reason  # the database's own words: "invalid byte sequence ... 0x00"
    assert client.xlen(name) == 0
