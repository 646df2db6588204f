"""The platform's clock: ``now()`` everywhere, which tests and the demo loader can set.

Services never call ``timezone.now()`` directly, so that deadlines, clocks and demo
history can be computed at any moment (``with frozen(moment): ...``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

_frozen: ContextVar[dt.datetime | None] = ContextVar("nciss_clock", default=None)


def now() -> dt.datetime:
    return _frozen.get() or timezone.now()


@contextmanager
def frozen(moment: dt.datetime) -> Iterator[None]:
    """Make ``now()`` return ``moment`` inside the block (this thread or task only)."""
    if timezone.is_naive(moment):
        raise ValueError("the clock needs an aware datetime")
    token = _frozen.set(moment)
    try:
        yield
    finally:
        _frozen.reset(token)
