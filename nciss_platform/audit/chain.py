"""Hashing of audit events: canonical JSON, SHA-256, chained."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(
    prev_hash: str, at: dt.datetime, actor: str, action: str, object_type: str, object_id: str, data: Any
) -> str:
    stamp = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    body = canonical([prev_hash, stamp, actor, action, object_type, object_id, data])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
