"""What the calibration pages and API show, computed by the core (``nciss.calibration``) on the platform's history.

Read-only: nothing here changes state. A scale is named by a *ref*: ``draft:<id>``,
``version:<id>`` or a scale id (its version in effect, else the preset).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

import nciss
from nciss import calibration as core
from nciss_platform import clock
from nciss_platform.calibration import history, services, versions
from nciss_platform.calibration.models import ReferenceCase, ScaleDraft, ScaleVersion
from nciss_platform.errors import ServiceError
from nciss_platform.incidents.models import TLP, Incident

PERIODS = {"90": 90, "365": 365, "all": None}  # days of history the impact pages read


def scale_for(ref: str) -> nciss.Scale:
    """The scale a ref names; ServiceError for an unknown or invalid one."""
    kind, _, rest = ref.partition(":")
    if kind == "draft" and rest.isdigit():
        draft = ScaleDraft.objects.filter(pk=int(rest)).first()
        if draft is None:
            raise ServiceError([("scale", f"no draft {rest}")])
        return services.draft_scale(draft)
    if kind == "version" and rest.isdigit():
        version = ScaleVersion.objects.filter(pk=int(rest)).first()
        if version is None:
            raise ServiceError([("scale", f"no version {rest}")])
        return versions.scale_of(version)
    if ref in services.known_scale_ids():
        return services.scale_in_effect(ref)
    raise ServiceError([("scale", f"unknown scale {ref!r}")])


def scale_refs() -> list[tuple[str, str]]:
    """(ref, label) of every scale one can compare: scales in effect, published versions, valid drafts."""
    refs = [
        (scale_id, f"{scale_id} ({services.scale_in_effect(scale_id).version})")
        for scale_id in services.known_scale_ids()
    ]
    refs += [(f"version:{v.pk}", f"{v.scale_id} {v.version}") for v in ScaleVersion.objects.order_by("scale_id", "-pk")]
    refs += [
        (f"draft:{d.pk}", f"{d.scale_id}: draft {d.pk}")
        for d in ScaleDraft.objects.filter(published_as=None).order_by("-pk")
        if d.is_valid
    ]
    return refs


def read(scales: list[nciss.Scale], period: str = "all") -> core.History:
    """The history the pages compare scales on: incidents not merged into another, of the last ``period`` days."""
    days = PERIODS.get(period)
    since = clock.now() - dt.timedelta(days=days) if days else None
    queryset = history.incidents(since=since).filter(duplicate_of=None)
    return history.read_history(history.facts_of(*scales), queryset)


def what_if(draft: ScaleDraft, period: str = "all") -> core.WhatIf:
    """The draft against its scale as it applies now, on the history."""
    new = services.draft_scale(draft)
    current = services.scale_in_effect(draft.scale_id)
    return core.what_if(new, current, read([new, current], period))


def compatibility(a_ref: str, b_ref: str, period: str = "all") -> core.Compatibility:
    a, b = scale_for(a_ref), scale_for(b_ref)
    return core.compatibility(a, b, read([a, b], period))


def reference_cases(scale_id: str) -> list[core.ReferenceCase]:
    """The owner's cases of ``scale_id``; the shipped ones while the owner keeps none."""
    kept = ReferenceCase.objects.filter(scale_id=scale_id)
    if kept.exists():
        return [core.ReferenceCase(c.title, dict(c.facts), c.agreed_level) for c in kept]
    return core.reference_cases(scale_id)


def check_cases(scale: nciss.Scale, scale_id: str) -> list[core.CaseResult]:
    return core.check_cases(scale, reference_cases(scale_id))


def indices(values: np.ndarray) -> list[int]:
    return [int(i) for i in values]


def red_references(references: list[str]) -> set[str]:
    """Which of ``references`` are TLP:RED incidents (counted on the pages, never named)."""
    return set(Incident.objects.filter(reference__in=references, tlp=TLP.RED).values_list("reference", flat=True))
