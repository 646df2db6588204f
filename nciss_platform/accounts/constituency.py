"""The organisations' network assets, and the constituency built from them (``nciss.constituency``).

``add_assets`` and ``remove_assets`` are the only changes (administrators and coordinators, or
the system), each audited. ``constituency()`` is the lookup structure for the whole table, keyed
by organisation id: built on first use and rebuilt only when the table changed, checked with
one aggregate query: the number of rows, the highest id and the newest ``created_at`` (assets
are added and removed, never edited; the time tells a new row from a removed one whose id
SQLite gave out again). Callers attributing many events should call it once per batch, not once per event.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max

from nciss.constituency import Constituency, normalise
from nciss_platform.accounts.access import is_administrator
from nciss_platform.accounts.models import NetworkAsset, Organisation, User
from nciss_platform.audit.services import record
from nciss_platform.errors import NotAllowed, ServiceError

NOTE_MAX = NetworkAsset._meta.get_field("note").max_length or 200

_lock = threading.Lock()
_cached: tuple[tuple[Any, ...], Constituency[int]] | None = None


def _require_manager(actor: User | None) -> None:
    if actor is not None and not (is_administrator(actor) or actor.role == User.Role.COORDINATOR):
        raise NotAllowed("only administrators and coordinators manage the constituency")


def add_assets(
    *, actor: User | None, organisation: Organisation, assets: Iterable[Sequence[str]]
) -> list[NetworkAsset]:
    """Give the organisation these (kind, value[, note]) assets; returns those that were new.

    An asset the organisation already has is left as it is; one that belongs to another
    organisation, or a bad value, refuses the lot (``ServiceError`` naming each).
    """
    _require_manager(actor)
    errors: list[tuple[str, str]] = []
    wanted: dict[tuple[str, str], str] = {}
    for i, asset in enumerate(assets):
        kind, value, note = (*asset, "")[:3]
        try:
            wanted.setdefault((kind, normalise(kind, value)), note.strip())
        except ValueError as exc:
            errors.append((f"assets[{i}]", str(exc)))
        if len(note.strip()) > NOTE_MAX:
            errors.append((f"assets[{i}].note", f"longer than {NOTE_MAX} characters"))
    held = NetworkAsset.objects.filter(value__in=[value for _, value in wanted]).select_related("organisation")
    for asset in held:
        if (asset.kind, asset.value) in wanted:
            if asset.organisation_id != organisation.pk:
                errors.append(("assets", f"{asset.kind} {asset.value} already belongs to {asset.organisation.name}"))
            del wanted[asset.kind, asset.value]
    if errors:
        raise ServiceError(errors)
    new = [NetworkAsset(organisation=organisation, kind=k, value=v, note=n) for (k, v), n in wanted.items()]
    if not new:
        return []
    try:
        with transaction.atomic():
            NetworkAsset.objects.bulk_create(new)
            record(actor, "organisation.assets_added", organisation, {"assets": [f"{a.kind} {a.value}" for a in new]})
    except IntegrityError:
        raise ServiceError([("assets", "someone added some of these assets at the same moment: try again")]) from None
    return new


def remove_assets(*, actor: User | None, organisation: Organisation, assets: Iterable[Sequence[str]]) -> int:
    """Take these (kind, value) assets from the organisation; returns how many it had."""
    _require_manager(actor)
    values: list[tuple[str, str]] = []
    for i, (kind, value, *_) in enumerate(assets):
        try:
            values.append((kind, normalise(kind, value)))
        except ValueError as exc:
            raise ServiceError([(f"assets[{i}]", str(exc))]) from None
    held = [
        a for a in organisation.network_assets.filter(value__in=[v for _, v in values]) if (a.kind, a.value) in values
    ]
    if held:
        with transaction.atomic():
            NetworkAsset.objects.filter(pk__in=[a.pk for a in held]).delete()
            record(
                actor, "organisation.assets_removed", organisation, {"assets": [f"{a.kind} {a.value}" for a in held]}
            )
    return len(held)


def constituency() -> Constituency[int]:
    """Every organisation's assets as one lookup structure (organisation ids), rebuilt when they changed."""
    global _cached
    summary = NetworkAsset.objects.aggregate(rows=Count("id"), last=Max("id"), newest=Max("created_at"))
    signature = (summary["rows"], summary["last"], summary["newest"])
    cached = _cached
    if cached is not None and cached[0] == signature:
        return cached[1]
    with _lock:
        rows = NetworkAsset.objects.values_list("organisation_id", "kind", "value")
        built = Constituency.build(rows)
        _cached = (signature, built)
    return built
