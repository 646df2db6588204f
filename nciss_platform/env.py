"""Typed readers of the environment for settings.py: a bad value fails at start, loudly.

Each reader raises ``ImproperlyConfigured`` with one line that names the variable, the
value and what is expected; ``nciss`` prints that line and exits with code 2.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

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
        # writers never deadlock on a lock upgrade (the Healthchecks set-up). Write-ahead
        # logging lets readers go on during a write, and with it synchronous=NORMAL syncs
        # at checkpoints rather than at every commit (still safe against corruption).
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif engine == "django.db.backends.postgresql":
        # PostgreSQL's JIT compiles plans for queries that run in milliseconds and adds up to
        # 170 ms to them (bench/api.py); an incident platform's queries never gain from it.
        options = config.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    else:
        scheme = url.partition("://")[0]
        raise ImproperlyConfigured(f"{name} names a {scheme} database: nciss runs on SQLite or PostgreSQL ({expected})")
    return config


_SMTP_SCHEMES = {"smtp": (25, False, False), "smtp+tls": (587, True, False), "smtps": (465, False, True)}


def env_smtp(name: str) -> dict[str, Any] | None:
    """Django's ``EMAIL_*`` settings from an SMTP URL, or None when ``name`` is unset.

    ``smtp://host:25`` (plain), ``smtp+tls://user:password@host:587`` (STARTTLS) or
    ``smtps://user:password@host:465`` (TLS from the start); user and password percent-encoded.
    """
    url = os.environ.get(name, "").strip()
    if not url:
        return None
    expected = "use smtp://host:25, smtp+tls://user:password@host:587 or smtps://user:password@host:465"
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in _SMTP_SCHEMES or not parts.hostname or port == -1:
        # The URL may hold a password: never repeat it.
        raise ImproperlyConfigured(f"{name} is not an SMTP URL that nciss can read: {expected}")
    default_port, starttls, implicit_tls = _SMTP_SCHEMES[parts.scheme]
    return {
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or default_port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": starttls,
        "EMAIL_USE_SSL": implicit_tls,
    }


def env_broker(name: str) -> str:
    """A Redis URL (``redis://``, ``rediss://`` or ``unix://``), or "" when ``name`` is unset."""
    url = os.environ.get(name, "").strip()
    if url and urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(f"{name} is not a Redis URL: use redis://host:6379/0")
    return url
