"""Waking idle workers when jobs are enqueued: in this process, and through Redis when configured.

The broker only shortens the wait of idle workers; they poll anyway, so a lost wake-up (Redis down,
no subscriber yet) delays a job by at most one polling interval and never loses it.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cache
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

CHANNEL = "nciss:outbox"
STOP_CHECK_SECONDS = 0.5
BROKER_RETRY_SECONDS = 30.0

_local = threading.Event()
_broker_down_until = 0.0


def notify() -> None:
    """Wake the workers: those of this process at once, the others through the broker.

    After a failed publish the broker is left alone for ``BROKER_RETRY_SECONDS``, so that a Redis
    outage costs web requests one connection timeout, not one per commit.
    """
    global _broker_down_until
    _local.set()
    client = _client()
    if client is None or time.monotonic() < _broker_down_until:
        return
    try:
        client.publish(CHANNEL, b"1")
    except Exception as exc:  # the broker is an optimisation: never fail the caller's change for it
        _broker_down_until = time.monotonic() + BROKER_RETRY_SECONDS
        logger.warning("outbox: cannot publish wake-ups on the broker for now (workers poll): %s", exc)


def wait(timeout: float, stop: threading.Event) -> bool:
    """Block until a wake-up, ``stop`` or ``timeout`` seconds; True when woken. Clears the wake-up."""
    deadline = time.monotonic() + timeout
    while not stop.is_set():
        if _local.wait(max(0.0, min(deadline - time.monotonic(), STOP_CHECK_SECONDS))):
            _local.clear()
            return True
        if time.monotonic() >= deadline:
            return False
    return False


def start_listening(stop: threading.Event) -> threading.Thread | None:
    """Forward the broker's wake-ups to this process's workers until ``stop`` (None without a broker)."""
    if _client() is None:
        return None
    thread = threading.Thread(target=_listen, args=(stop,), name="outbox-wakeup", daemon=True)
    thread.start()
    return thread


def _listen(stop: threading.Event) -> None:
    client = _client()
    while not stop.is_set():
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(CHANNEL)
            while not stop.is_set():
                if pubsub.get_message(timeout=1.0) is not None:
                    _local.set()
        except Exception as exc:
            logger.warning("outbox: lost the broker (%s): polling until it is back", exc)
            stop.wait(5)
        finally:
            pubsub.close()


@cache
def _client() -> Any:
    url = settings.NCISS_BROKER_URL
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=1, health_check_interval=30)
