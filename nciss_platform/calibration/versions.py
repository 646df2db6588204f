"""Which version of the national scale is in effect: the one place that answers it.

The newest published ScaleVersion of ``NCISS_NATIONAL_SCALE`` whose effective date has come
(``effective_from <= clock.now()``), else the preset or file the setting names.

Each call asks the database one cheap indexed question (the id and digest of the version in
effect) and builds the Scale only for a digest it has not built before, keeping it in a
process-local cache (versions are never changed, so an entry never goes stale). Publishing
therefore needs no cache invalidation: every process (several server workers, the outbox worker,
a command) uses a new version from its first call after the version is committed and its
effective date has come, without any message between processes.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import QuerySet

import nciss
from nciss.scales import scale_from_definition
from nciss_platform import clock
from nciss_platform.calibration.models import ScaleVersion

_lock = threading.Lock()
_built: dict[str, nciss.Scale] = {}  # a definition's digest -> its Scale
_pinned: ContextVar[nciss.Scale | None] = ContextVar("pinned_national_scale", default=None)


def base_scale() -> nciss.Scale:
    """The preset or file ``NCISS_NATIONAL_SCALE`` names, as shipped (before any published version)."""
    return _setting_scale(settings.NCISS_NATIONAL_SCALE)


@functools.cache
def _setting_scale(ref: str) -> nciss.Scale:
    return nciss.load_scale(ref)


def versions_in_effect(scale_id: str) -> QuerySet[ScaleVersion]:
    """The published versions of ``scale_id`` whose effective date has come, the one in effect first."""
    return ScaleVersion.objects.filter(scale_id=scale_id, effective_from__lte=clock.now()).order_by(
        "-effective_from", "-pk"
    )


def scale_of(version: ScaleVersion) -> nciss.Scale:
    """The Scale a published version defines (built once per process)."""
    return _build(version.digest, lambda: version.definition)


def national_scale() -> nciss.Scale:
    """The national scale as it applies now: its newest published version in effect, else the setting's.

    Inside ``pinned_national_scale()``, the one resolved when that block began.
    """
    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    base = base_scale()
    found = published_in_effect(base.id)
    if found is None:
        return base
    pk, digest = found
    return _build(digest, lambda: ScaleVersion.objects.values_list("definition", flat=True).get(pk=pk))


@contextlib.contextmanager
def pinned_national_scale() -> Iterator[nciss.Scale]:
    """Resolve the national scale once for a block of work (a batch of feed events), not once per call.

    One transaction's worth of incidents is then assessed on one version, as if at the block's start.
    """
    scale = national_scale()
    token = _pinned.set(scale)
    try:
        yield scale
    finally:
        _pinned.reset(token)


def published_in_effect(scale_id: str) -> tuple[int, str] | None:
    """(id, digest) of the version of ``scale_id`` in effect, None when none is published or in effect yet.

    The same question as ``versions_in_effect``, in plain SQL: it is asked on every assessment and
    page, and the ORM would spend twenty times longer building the query than the database answering it.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                _IN_EFFECT_SQL.format(table=ScaleVersion._meta.db_table),
                [scale_id, connection.ops.adapt_datetimefield_value(clock.now())],
            )
            row = cursor.fetchone()
    except DatabaseError:  # no table before `nciss migrate`: the public calculator still serves the shipped scales
        return None
    return (int(row[0]), str(row[1])) if row else None


_IN_EFFECT_SQL = (
    "SELECT id, digest FROM {table} WHERE scale_id = %s AND effective_from <= %s "
    "ORDER BY effective_from DESC, id DESC LIMIT 1"
)


def digest_of(definition: Any) -> str:
    """The key a definition is cached under: the same definition, the same key, in every process."""
    return hashlib.sha256(json.dumps(definition, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _build(digest: str, definition: Callable[[], Any]) -> nciss.Scale:
    with _lock:
        scale = _built.get(digest)
    if scale is None:
        scale = scale_from_definition(definition())
        with _lock:
            _built[digest] = scale
    return scale
