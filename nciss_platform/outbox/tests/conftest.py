"""The Redis server of the broker tests: skipped without one, except in CI (CI=true), which fails instead."""

from __future__ import annotations

import os

import pytest
import redis

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        reason = f"no Redis server at {REDIS_URL}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return REDIS_URL
