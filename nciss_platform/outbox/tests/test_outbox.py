"""The outbox in one process: enqueuing, retries, dead letters, leases, wake-ups.

Worker processes (concurrency, a worker killed mid-delivery) are tested in test_worker_processes.py.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import threading
import time
from collections import Counter
from typing import Any

import pytest
import redis
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client

from nciss_platform import clock
from nciss_platform.accounts.services import create_organisation, create_user
from nciss_platform.outbox import wakeup
from nciss_platform.outbox.models import Job, JobAttempt
from nciss_platform.outbox.registry import PermanentFailure, exponential, handler
from nciss_platform.outbox.services import enqueue
from nciss_platform.outbox.worker import Worker, run_due_jobs, run_worker

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ran: list[tuple[str, int]] = []
failures_left: dict[str, int] = {}


@handler("outbox-test.record")
def record(job: Job) -> None:
    ran.append((job.key, job.attempts))


@handler("outbox-test.flaky", max_attempts=3, backoff=exponential(dt.timedelta(seconds=10), jitter=0))
def flaky(job: Job) -> None:
    ran.append((job.key, job.attempts))
    if failures_left.get(job.key, 0) > 0:
        failures_left[job.key] -= 1
        raise ConnectionError(f"receiver down ({failures_left[job.key]} more failures)")


@handler("outbox-test.refused")
def refused(job: Job) -> None:
    raise PermanentFailure("410 Gone: the endpoint was removed")


@pytest.fixture(autouse=True)
def clean_records() -> None:
    ran.clear()
    failures_left.clear()


def enqueue_at(moment: dt.datetime, **job: Any) -> Job:
    with clock.frozen(moment):
        return enqueue(**job)


@pytest.mark.django_db
def test_it_stores_a_job_once_per_key() -> None:
    first = enqueue_at(T0, kind="outbox-test.record", key="incident-7:alice", payload={"n": 1})
    again = enqueue_at(T0, kind="outbox-test.record", key="incident-7:alice", payload={"n": 2})

    assert again.pk == first.pk
    assert Job.objects.get().payload == {"n": 1}
    assert run_due_jobs(T0) == 1
    assert ran == [("incident-7:alice", 1)]


@pytest.mark.django_db
def test_it_refuses_a_job_nobody_can_run() -> None:
    with pytest.raises(LookupError, match=re.escape("outbox-test.typo")):
        enqueue(kind="outbox-test.typo", key="k", payload={})


@pytest.mark.django_db(transaction=True)
def test_it_keeps_no_job_of_a_change_that_was_rolled_back() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(kind="outbox-test.record", key="rolled-back", payload={})
        raise RuntimeError("the change failed")
    enqueue(kind="outbox-test.record", key="committed", payload={})

    assert list(Job.objects.values_list("key", flat=True)) == ["committed"]


@pytest.mark.django_db
def test_it_runs_a_job_only_when_it_is_due() -> None:
    enqueue_at(T0, kind="outbox-test.record", key="later", payload={}, run_after=T0 + dt.timedelta(hours=1))

    assert run_due_jobs(T0 + dt.timedelta(minutes=59)) == 0
    assert run_due_jobs(T0 + dt.timedelta(hours=1)) == 1


@pytest.mark.django_db
def test_it_retries_with_exponential_backoff_and_logs_every_attempt() -> None:
    enqueue_at(T0, kind="outbox-test.flaky", key="webhook-1", payload={})
    failures_left["webhook-1"] = 2

    assert run_due_jobs(T0) == 1
    job = Job.objects.get()
    assert (job.state, job.attempts, job.run_after) == ("pending", 1, T0 + dt.timedelta(seconds=10))
    assert run_due_jobs(T0 + dt.timedelta(seconds=9)) == 0
    assert run_due_jobs(T0 + dt.timedelta(seconds=10)) == 1
    assert Job.objects.get().run_after == T0 + dt.timedelta(seconds=30)  # 10 s, then 20 s
    assert run_due_jobs(T0 + dt.timedelta(seconds=30)) == 1

    job = Job.objects.get()
    assert (job.state, job.attempts, job.finished) == ("done", 3, T0 + dt.timedelta(seconds=30))
    log = list(job.attempt_log.values_list("number", "outcome", "error", "started_at"))
    assert log == [
        (1, "retry", "ConnectionError: receiver down (1 more failures)", T0),
        (2, "retry", "ConnectionError: receiver down (0 more failures)", T0 + dt.timedelta(seconds=10)),
        (3, "ok", "", T0 + dt.timedelta(seconds=30)),
    ]


@pytest.mark.django_db
def test_it_gives_up_after_the_last_attempt() -> None:
    enqueue_at(T0, kind="outbox-test.flaky", key="webhook-2", payload={})
    failures_left["webhook-2"] = 5

    for seconds in (0, 10, 30, 70):
        run_due_jobs(T0 + dt.timedelta(seconds=seconds))

    job = Job.objects.get()
    assert (job.state, job.attempts) == ("dead", 3)
    assert job.last_error == "gave up after 3 attempts: ConnectionError: receiver down (2 more failures)"
    assert list(job.attempt_log.values_list("outcome", flat=True)) == ["retry", "retry", "dead"]


@pytest.mark.django_db
def test_it_dead_letters_a_permanent_failure_at_once() -> None:
    enqueue_at(T0, kind="outbox-test.refused", key="webhook-3", payload={})

    run_due_jobs(T0)
    assert run_due_jobs(T0 + dt.timedelta(days=1)) == 0

    job = Job.objects.get()
    assert (job.state, job.attempts, job.last_error) == ("dead", 1, "410 Gone: the endpoint was removed")
    assert job.attempt_log.get().outcome == "dead"


@pytest.mark.django_db
def test_it_runs_a_job_again_when_its_worker_died() -> None:
    enqueue_at(T0, kind="outbox-test.record", key="crashed", payload={})
    with clock.frozen(T0):
        claimed = Worker(
            batch=10, lease=dt.timedelta(minutes=5), kinds=["outbox-test.record"]
        ).claim()  # ... and never finishes
    assert [claim.job.key for claim in claimed] == ["crashed"]

    assert run_due_jobs(T0 + dt.timedelta(minutes=4)) == 0  # still leased to the dead worker
    assert run_due_jobs(T0 + dt.timedelta(minutes=5)) == 1

    job = Job.objects.get()
    assert (job.state, job.attempts) == ("done", 2)
    assert ran == [("crashed", 2)]
    assert list(job.attempt_log.values_list("outcome", "finished_at")) == [
        ("lost", T0 + dt.timedelta(minutes=5)),
        ("ok", T0 + dt.timedelta(minutes=5)),
    ]


@pytest.mark.django_db
def test_it_keeps_the_lease_of_a_long_batch_alive() -> None:
    leased_while_running: list[bool] = []

    @handler("outbox-test.slow")
    def slow(job: Job) -> None:
        leased_while_running.append(Job.objects.get(pk=job.pk).leased_until > clock.now())
        time.sleep(0.1)

    for n in range(5):
        enqueue(kind="outbox-test.slow", key=f"slow-{n}", payload={})

    assert run_worker(once=True, lease=dt.timedelta(seconds=0.25), kinds=["outbox-test.slow"]) == 5
    assert leased_while_running == [True] * 5  # the last ones started after the first lease had ended
    assert Counter(Job.objects.values_list("state", "attempts")) == {("done", 1): 5}


@pytest.mark.django_db
def test_it_gives_back_the_jobs_it_had_not_started_when_stopped() -> None:
    stop = threading.Event()

    @handler("outbox-test.stopper")
    def stopper(job: Job) -> None:
        stop.set()

    for n in range(5):
        enqueue(kind="outbox-test.stopper", key=f"stop-{n}", payload={})

    assert run_worker(stop=stop, kinds=["outbox-test.stopper"]) == 1

    states = Counter(Job.objects.values_list("state", "attempts", "leased_by"))
    assert states == {("done", 1, ""): 1, ("pending", 0, ""): 4}
    assert JobAttempt.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_wakes_an_idle_worker_as_soon_as_a_job_is_committed() -> None:
    stop = threading.Event()
    worker = threading.Thread(
        target=lambda: (run_worker(stop=stop, kinds=["outbox-test.record"], poll_seconds=60), connection.close())
    )
    worker.start()
    try:
        time.sleep(0.2)  # the worker found nothing and sleeps
        started = time.monotonic()
        with transaction.atomic():
            enqueue(kind="outbox-test.record", key="wake-up", payload={})
        while not ran and time.monotonic() - started < 5:
            time.sleep(0.01)
    finally:
        stop.set()
        worker.join()

    assert ran == [("wake-up", 1)]
    assert time.monotonic() - started < 5


def test_it_relays_wake_ups_through_redis(settings: Any, redis_url: str) -> None:
    settings.NCISS_BROKER_URL = redis_url
    wakeup._client.cache_clear()
    stop = threading.Event()
    try:
        listener = wakeup.start_listening(stop)
        assert listener is not None
        wakeup.wait(0, stop)  # forget wake-ups of earlier tests
        assert wakeup.wait(0.3, stop) is False  # meanwhile, subscribed
        redis.Redis.from_url(redis_url).publish(wakeup.CHANNEL, b"1")  # another process's enqueue
        assert wakeup.wait(5, stop) is True
    finally:
        stop.set()
        wakeup._client.cache_clear()


@pytest.mark.django_db(transaction=True)
def test_it_commits_jobs_while_the_broker_is_down(
    settings: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        settings.NCISS_BROKER_URL = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"  # nobody listens
    monkeypatch.setattr(wakeup, "_broker_down_until", 0.0)
    wakeup._client.cache_clear()
    try:
        started = time.monotonic()
        for n in range(20):
            enqueue(kind="outbox-test.record", key=f"no-broker-{n}", payload={})
        took = time.monotonic() - started
    finally:
        wakeup._client.cache_clear()

    assert Job.objects.count() == 20
    assert took < 2  # one failed connection, then the broker is left alone for a while
    (warning,) = [record.message for record in caplog.records if "broker" in record.message]
    assert warning.startswith("outbox: cannot publish wake-ups on the broker for now")
    assert run_due_jobs() == 20


@pytest.mark.django_db(transaction=True)
def test_it_runs_the_due_jobs_with_the_worker_command(capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(3):
        enqueue(kind="outbox-test.record", key=f"command-{n}", payload={})

    call_command("worker", "--once", "--kind", "outbox-test.record")

    assert sorted(ran) == [("command-0", 1), ("command-1", 1), ("command-2", 1)]
    assert Job.objects.filter(state="done").count() == 3
    assert "stopped after" in capsys.readouterr().err


def test_it_refuses_an_unknown_kind_in_the_worker_command() -> None:
    with pytest.raises(CommandError, match=re.escape("no handler for job kind outbox-test.typo")):
        call_command("worker", "--once", "--kind", "outbox-test.typo")


@pytest.mark.django_db
def test_it_shows_administrators_the_jobs_and_their_delivery_log(client: Client, settings: Any) -> None:
    settings.NCISS_REQUIRE_2FA = False
    csirt = create_organisation(actor=None, name="Aralia CSIRT", slug="csirt", kind="csirt", country="XA")
    administrator = create_user(
        actor=None, username="admin", password="correct horse battery", role="administrator", organisation=csirt
    )
    job = enqueue_at(T0, kind="outbox-test.refused", key="webhook-410", payload={})
    run_due_jobs(T0)
    client.force_login(administrator)

    page = client.get(f"/admin/outbox/job/{job.pk}/change/").content.decode()

    assert "webhook-410" in page
    assert "410 Gone: the endpoint was removed" in page
    assert client.post(f"/admin/outbox/job/{job.pk}/delete/").status_code == 403
