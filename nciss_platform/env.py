"""Typed readers of the environment for settings.py: a bad value fails at start, loudly.

Each reader raises ``ImproperlyConfigured`` with one line that names the variable, the
value and what is expected; ``nciss`` prints that line and exits with code 2.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={os.environ[name]!r} is not a boolean: use 1/0, true/false, yes/no or on/off")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blanks around items are ignored."""
    raw = os.environ.get(name, "")
    items = [item.strip() for item in raw.split(",") if item.strip()]
    return items or default


def env_secret(name: str) -> str | None:
    """``NAME``, or the contents of the file named by ``NAME_FILE`` (Docker and Kubernetes secrets)."""
    value = os.environ.get(name, "").strip()
    file_name = os.environ.get(f"{name}_FILE", "").strip()
    if value and file_name:
        raise ImproperlyConfigured(f"both {name} and {name}_FILE are set: set only one")
    if file_name:
        try:
            value = Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc.strerror}") from None
        if not value:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} is empty")
    return value or None


def env_database(name: str, default: str) -> dict[str, Any]:
    """A Django ``DATABASES`` entry from a URL: ``sqlite:////abs/path.sqlite3`` or ``postgres://...``."""
    url = os.environ.get(name, "").strip() or default
    expected = "use sqlite:////absolute/path.sqlite3 or postgres://user@host:port/database"
    try:
        config: dict[str, Any] = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError:
        # The URL may hold a password: never repeat it.
        raise ImproperlyConfigured(f"{name} is not a database URL that nciss can read: {expected}") from None
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        # Wait for a lock rather than fail, and take the write lock at BEGIN so that two
        # writers never deadlock on a lock upgrade (the Healthchecks set-up).
        config["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    elif engine == "django.db.backends.postgresql":
        # PostgreSQL's JIT compiles plans for queries that run in milliseconds and adds up to
        # 170 ms to them (bench/api.py); an incident platform's queries never gain from it.
        options = config.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    else:
        scheme = url.partition("://")[0]
        raise ImproperlyConfigured(f"{name} names a {scheme} database: nciss runs on SQLite or PostgreSQL ({expected})")
    return config
