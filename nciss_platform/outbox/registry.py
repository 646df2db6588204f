"""Job handlers by kind: ``@handler("kind")`` registers ``fn(job) -> None``.

A handler that returns has done its job. ``PermanentFailure`` dead-letters the job at once with its
reason; any other exception is retried after ``backoff(attempt)`` until ``max_attempts`` have been
made. Handlers are registered in the ``AppConfig.ready()`` of the app that owns them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nciss_platform.outbox.models import Job

HandlerFunction = Callable[["Job"], None]
Backoff = Callable[[int], timedelta]


class PermanentFailure(Exception):
    """The job cannot succeed (a refused address, a 4xx answer): no retry, the job is dead-lettered."""


class TemporaryFailure(Exception):
    """An expected, passing failure (a timeout, a 5xx answer): retried, logged without a traceback."""


def exponential(
    base: timedelta = timedelta(seconds=30), *, cap: timedelta = timedelta(hours=1), jitter: float = 0.2
) -> Backoff:
    """``base * 2 ** (attempt - 1)``, at most ``cap``, shortened at random by up to ``jitter`` of itself."""

    def delay(attempt: int) -> timedelta:
        full = min(cap, base * 2 ** min(attempt - 1, 32))
        return full * (1 - jitter * random.random())

    return delay


@dataclass(frozen=True)
class Handler:
    kind: str
    function: HandlerFunction
    max_attempts: int
    backoff: Backoff


_handlers: dict[str, Handler] = {}


def handler(
    kind: str, *, max_attempts: int = 8, backoff: Backoff | None = None
) -> Callable[[HandlerFunction], HandlerFunction]:
    """Register the decorated function as the handler of jobs of ``kind``."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    def register(function: HandlerFunction) -> HandlerFunction:
        existing = _handlers.get(kind)
        name = f"{function.__module__}.{function.__qualname__}"
        if existing and f"{existing.function.__module__}.{existing.function.__qualname__}" != name:
            raise ValueError(f"job kind {kind!r} already has a handler: {existing.function.__qualname__}")
        _handlers[kind] = Handler(kind, function, max_attempts, backoff or exponential())
        return function

    return register


def get(kind: str) -> Handler | None:
    return _handlers.get(kind)


def kinds() -> list[str]:
    """Every registered kind, sorted."""
    return sorted(_handlers)
