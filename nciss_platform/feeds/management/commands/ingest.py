"""``nciss ingest``: feed events into incidents, from files, or through a Redis stream.

- ``nciss ingest [--format intelmq|csv --mapping MAPPING.yaml] --user NAME FILE...``: files,
  folders and ``.jsonl.gz`` stream through ``feeds.services.ingest_events`` with a progress bar
  over the bytes on stderr; the summary follows on stdout.
- ``nciss ingest --to-redis [URL] [--partitions N] FILE...``: publish the files' events to the
  stream (or to N streams, each organisation's events to one), waiting while the backlog is full.
- ``nciss ingest --from-redis [URL] [--partition K] --user NAME``: a worker of the stream's (or
  partition K's) consumer group, until stopped (SIGTERM, Ctrl-C: after the batch in hand) or,
  with ``--until-empty``, until drained.

Exit 0 when the run went through (rejected events are dead letters, not failures), 2 for a bad
invocation or unreadable input.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from nciss.interop import tabular
from nciss.interop.formats import read_file
from nciss_platform.accounts.models import User
from nciss_platform.commands import bad_input
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.feeds import streams
from nciss_platform.feeds.reading import FORMATS, feed_files, load_feed_mapping, raw_events, read_feeds
from nciss_platform.feeds.services import IngestSummary, ingest_events

_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class Command(BaseCommand):
    help = "Ingest IntelMQ feed events (JSON Lines, or CSV through a mapping) from files or a Redis stream."
    requires_system_checks: list[str] = []  # workers start often and serve no pages: `nciss serve` checks

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths", nargs="*", metavar="FILE", help="files or folders (.jsonl, .json, .jsonl.gz, .csv)"
        )
        parser.add_argument("--format", default="intelmq", choices=FORMATS)
        parser.add_argument("--mapping", help="CSV column mapping (YAML), with --format csv")
        parser.add_argument("--user", help="the CSIRT analyst, coordinator or feed account the events are ingested as")
        parser.add_argument("--window", default="1d", help="aggregation and deduplication window: 30m, 6h, 1d ...")
        parser.add_argument("--batch", type=int, default=10000, help="events per transaction (default 10000)")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        broker = parser.add_argument_group("Redis stream (URL defaults to NCISS_BROKER_URL)")
        broker.add_argument("--from-redis", nargs="?", const="", metavar="URL", help="run a worker of the stream")
        broker.add_argument("--to-redis", nargs="?", const="", metavar="URL", help="publish the files' events")
        broker.add_argument("--stream", default=streams.STREAM, help=f"stream key (default {streams.STREAM})")
        broker.add_argument("--group", default=streams.GROUP, help=f"consumer group (default {streams.GROUP})")
        broker.add_argument("--consumer", help="this worker's name in the group (default host:pid)")
        broker.add_argument(
            "--claim-idle",
            type=float,
            default=60.0,
            metavar="SECONDS",
            help="take over entries pending this long with another (dead) worker (default 60)",
        )
        broker.add_argument(
            "--max-deliveries",
            type=int,
            default=streams.MAX_DELIVERIES,
            metavar="N",
            help=f"an entry delivered this many times without success is a dead letter (default {streams.MAX_DELIVERIES})",
        )
        broker.add_argument("--until-empty", action="store_true", help="stop once the stream is drained")
        broker.add_argument(
            "--max-backlog",
            type=int,
            default=streams.MAX_BACKLOG,
            help=f"publishing waits while the stream holds this many events (default {streams.MAX_BACKLOG})",
        )
        broker.add_argument(
            "--partitions",
            type=int,
            default=1,
            metavar="N",
            help="publish to N streams STREAM:0 .. STREAM:N-1, each organisation's events to one (default 1: STREAM)",
        )
        broker.add_argument(
            "--partition", type=int, metavar="K", help="work on the stream of partition K (STREAM:K), not STREAM"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"] <= 0:
            raise bad_input("--batch must be positive")
        if options["from_redis"] is not None and options["to_redis"] is not None:
            raise bad_input("--from-redis and --to-redis: give one of them")
        for key in ("from_redis", "to_redis"):  # `--to-redis FILE`: the optional URL was a file
            if options[key] and "://" not in options[key]:
                options["paths"] = [options[key], *options["paths"]]
                options[key] = ""
        if options["partition"] is not None:
            if options["partition"] < 0:
                raise bad_input("--partition must be 0 or more")
            options["stream"] = streams.partition_stream(options["stream"], options["partition"])
        if options["to_redis"] is not None:
            self._publish(options)
            return
        with _collecting_less():
            if options["from_redis"] is not None:
                self._work(options)
            else:
                self._files(options)

    def _files(self, options: dict[str, Any]) -> None:
        user = _user(options["user"])
        window = _window(options["window"])
        mapping = _mapping(options)
        if not options["paths"]:
            raise bad_input("give the files to ingest (or --from-redis)")
        files, total = _files(options["paths"], options["format"])
        with _progress(options["quiet"]) as bar:
            task = bar.add_task("ingesting", total=total)

            def counted(summary: IngestSummary) -> None:
                bar.update(task, description=f"ingesting: {summary.read} events")

            try:
                summary = ingest_events(
                    events=read_feeds(files, progress=lambda n: bar.advance(task, n), mapping=mapping),
                    actor=user,
                    window=window,
                    batch=options["batch"],
                    source=", ".join(path.name for path in files),
                    on_progress=counted,
                )
            except (NotAllowed, ServiceError) as e:
                raise bad_input(str(e)) from None
            except OSError as e:
                raise bad_input(f"unreadable input: {e}") from None
        self.stdout.write(_summary_line(summary))

    def _publish(self, options: dict[str, Any]) -> None:
        if options["partitions"] <= 0:
            raise bad_input("--partitions must be positive")
        if options["format"] != "intelmq":
            raise bad_input("--to-redis publishes IntelMQ events (JSON Lines or JSON arrays)")
        if not options["paths"]:
            raise bad_input("give the files to publish")
        files, total = _files(options["paths"], "intelmq")
        client = _client(options["to_redis"])

        def events() -> Iterator[bytes]:
            for path in files:
                yield from read_file(path, raw_events, lambda n: bar.advance(task, n))

        with _progress(options["quiet"]) as bar:
            task = bar.add_task("publishing", total=total)
            try:
                sent = streams.publish(
                    client,
                    events(),
                    stream=options["stream"],
                    max_backlog=options["max_backlog"],
                    partitions=options["partitions"],
                )
            except (OSError, ValueError) as e:
                raise bad_input(f"unreadable input: {e}") from None
            except redis.RedisError as e:
                raise bad_input(f"Redis: {e}") from None
        partitions = options["partitions"]
        where = f"{options['stream']}:0 .. {partitions - 1} (by organisation)" if partitions > 1 else options["stream"]
        self.stdout.write(f"{sent} events published to {where}")

    def _work(self, options: dict[str, Any]) -> None:
        user = _user(options["user"])
        if options["claim_idle"] <= 0:
            raise bad_input("--claim-idle must be positive")
        if options["max_deliveries"] <= 0:
            raise bad_input("--max-deliveries must be positive")
        worker = streams.StreamWorker(
            client=_client(options["from_redis"]),
            actor=user,
            stream=options["stream"],
            group=options["group"],
            consumer=options["consumer"] or streams.default_consumer(),
            batch=options["batch"],
            window=_window(options["window"]),
            claim_idle=options["claim_idle"],
            max_deliveries=options["max_deliveries"],
        )
        stop = threading.Event()
        previous = {number: signal.signal(number, lambda *_: stop.set()) for number in (signal.SIGTERM, signal.SIGINT)}
        columns = (TextColumn("{task.description}"), TimeElapsedColumn())
        console = Console(stderr=True)
        with Progress(*columns, console=console, disable=options["quiet"], transient=True) as bar:
            task = bar.add_task(f"ingesting from {options['stream']}")

            def counted(summary: IngestSummary) -> None:
                bar.update(task, description=f"ingesting from {options['stream']}: {summary.read} events")

            try:
                summary = worker.run(until_empty=options["until_empty"], stop=stop, on_progress=counted)
            except NotAllowed as e:
                raise bad_input(str(e)) from None
            except redis.RedisError as e:
                raise bad_input(f"Redis: {e}") from None
            finally:
                for number, handler in previous.items():
                    signal.signal(number, handler)
        self.stdout.write(_summary_line(summary))


@contextmanager
def _collecting_less() -> Iterator[None]:
    """The garbage collector tuned for ingesting: what Django set up is set aside (``gc.freeze``),
    and a batch's thousands of events and rows, freed together at its end and seldom in cycles,
    do not set off a collection every 700 allocations (a quarter of a worker's time otherwise,
    ``bench/ingest.py``). Restored afterwards."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 50)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _progress(quiet: bool) -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    return Progress(*columns, console=Console(stderr=True), disable=quiet, transient=True)


def _summary_line(summary: IngestSummary) -> str:
    return (
        f"{summary.read} events read: {summary.attributed} attributed ({summary.duplicates} duplicates), "
        f"{summary.unattributed} outside the constituency, {summary.rejected} rejected (kept as dead letters); "
        f"incidents: {summary.incidents_opened} opened, {summary.incidents_updated} updated"
    )


def _user(name: str | None) -> User:
    if not name:
        raise bad_input("--user is required: the account the events are ingested as")
    user = User.objects.filter(username=name).first()
    if user is None:
        raise bad_input(f"unknown user {name!r}")
    return user


def _mapping(options: dict[str, Any]) -> tabular.CsvMapping | None:
    if options["format"] != "csv":
        if options["mapping"]:
            raise bad_input("--mapping is for --format csv")
        return None
    if not options["mapping"]:
        raise bad_input("--format csv needs --mapping MAPPING.yaml (see docs/feeds.md)")
    try:
        return load_feed_mapping(options["mapping"])
    except tabular.MappingError as e:
        raise bad_input(f"--mapping {options['mapping']}: {e}") from None


def _files(paths: list[str], fmt: str) -> tuple[list[Path], int]:
    try:
        files = feed_files(paths, fmt)
        return files, sum(path.stat().st_size for path in files)
    except (OSError, ValueError) as e:
        raise bad_input(str(e)) from None


def _client(url: str) -> redis.Redis:
    url = url or settings.NCISS_BROKER_URL or ""
    if not url:
        raise bad_input("no Redis URL: give one after --from-redis/--to-redis or set NCISS_BROKER_URL")
    try:
        client = streams.connect(url)
        client.ping()
    except ValueError as e:
        raise bad_input(f"bad Redis URL {url!r}: {e}") from None
    except redis.RedisError as e:
        raise bad_input(f"cannot reach Redis at {url}: {e}") from None
    return client


def _window(text: str) -> dt.timedelta:
    match = re.fullmatch(r"(\d+)([mhd])", text.strip())
    if match is None or int(match[1]) == 0:
        raise bad_input(f"--window {text!r}: expected a positive duration such as 30m, 6h or 1d")
    return dt.timedelta(**{_UNITS[match[2]]: int(match[1])})
