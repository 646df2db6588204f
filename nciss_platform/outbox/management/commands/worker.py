"""``nciss worker``: run background jobs (notifications, escalations ...) until stopped."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from nciss_platform.outbox import registry, wakeup
from nciss_platform.outbox.worker import DEFAULT_BATCH, DEFAULT_LEASE, run_worker


class Command(BaseCommand):
    help = (
        "Run background jobs from the outbox until stopped (SIGTERM or Ctrl-C finish the job in hand). "
        "Run as many workers, on as many machines, as the load needs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run the jobs due now, then exit")
        parser.add_argument("--concurrency", type=int, default=1, help="jobs run at once, one thread each (default: 1)")
        parser.add_argument(
            "--batch", type=int, default=DEFAULT_BATCH, help=f"jobs claimed at a time (default: {DEFAULT_BATCH})"
        )
        parser.add_argument(
            "--lease",
            type=float,
            default=DEFAULT_LEASE.total_seconds(),
            help="seconds after which a job whose worker stopped answering is run again "
            f"(default: {int(DEFAULT_LEASE.total_seconds())})",
        )
        parser.add_argument(
            "--poll", type=float, default=None, help="seconds between polls when idle (default: 1, 30 with a broker)"
        )
        parser.add_argument("--kind", action="append", dest="kinds", help="only jobs of this kind (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        concurrency, lease = options["concurrency"], options["lease"]
        if concurrency < 1 or options["batch"] < 1 or lease <= 0:
            raise CommandError("--concurrency and --batch must be at least 1, --lease more than 0")
        unknown = set(options["kinds"] or []) - set(registry.kinds())
        if unknown:
            raise CommandError(f"no handler for job kind {', '.join(sorted(unknown))}: known kinds {registry.kinds()}")
        stop = threading.Event()
        failures: list[BaseException] = []
        with _logging_to_stderr(), _stopping_on_signals(stop):
            poll = options["poll"] or (30.0 if settings.NCISS_BROKER_URL else 1.0)
            listener = None if options["once"] else wakeup.start_listening(stop)
            worker_options = {
                "once": options["once"],
                "batch": options["batch"],
                "lease": timedelta(seconds=lease),
                "kinds": options["kinds"],
                "stop": stop,
                "poll_seconds": poll,
            }
            threads = [
                threading.Thread(target=_run, args=(failures,), kwargs=worker_options, name=f"outbox-worker-{n}")
                for n in range(concurrency)
            ]
            for thread in threads:
                thread.start()
            while any(thread.is_alive() for thread in threads):
                for thread in threads:
                    thread.join(timeout=0.5)  # short joins: the main thread must stay free for signals
            stop.set()
            if listener is not None:
                listener.join(timeout=2)
        if failures:
            raise CommandError("a worker stopped on an error (see above)")


def _run(failures: list[BaseException], **options: Any) -> None:
    """One worker thread; an error stops all of them (the command then fails)."""
    try:
        run_worker(**options)
    except Exception as exc:
        logging.getLogger("nciss_platform.outbox.worker").exception("outbox worker stopped on an error")
        failures.append(exc)
        options["stop"].set()
    finally:
        connection.close()


@contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop``: the workers finish the job in hand and give back the rest."""

    def handle(signum: int, frame: FrameType | None) -> None:
        logging.getLogger("nciss_platform.outbox.worker").info(
            "outbox: %s received: finishing the jobs in hand", signal.Signals(signum).name
        )
        stop.set()

    previous = {signum: signal.signal(signum, handle) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def _logging_to_stderr() -> Iterator[None]:
    """Progress lines on stderr, unless the deployment's LOGGING already routes them."""
    logger = logging.getLogger("nciss_platform.outbox")
    if logger.handlers:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
