"""Every change the calibration lab makes, one function each (transaction, validation, audit row).

Drafts hold a definition's text as typed, valid or not, with its last validation; publishing a
valid draft makes a ScaleVersion that is never changed. Re-assessing open incidents on the
version in effect reuses ``incidents.services.assess_incident``, so each incident gets a new
Assessment row and a timeline entry while its older assessments stay as they were.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

import nciss
from nciss.batch import facts_read
from nciss.calibration.stats import krippendorff_alpha
from nciss.facts import fact_specs
from nciss.scales import preset_ids, scale_from_definition
from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.audit.services import record
from nciss_platform.calibration import versions
from nciss_platform.calibration.access import may_calibrate, may_rate
from nciss_platform.calibration.models import Rating, RatingSession, ReferenceCase, ScaleDraft, ScaleVersion
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents import services as incidents
from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.incidents.workflow import OPEN_STATUSES

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when installed: 10x faster
MAX_UPLOAD_BYTES = 1_000_000
_REASSESS_CHUNK = 1000  # incidents assessed per round of queries
# Facts that come from the affected organisation's profile: a blind rater is given them, not asked.
ENTITY_FACTS = frozenset(
    {"sector", "entity_size", "entity_criticality", "entity_type", "entity_country", "annual_turnover_eur"}
)
# Krippendorff's advice: below 0.667, draw no conclusion from the data; such questions are ambiguous.
AMBIGUOUS_BELOW = 0.667


def _require_owner(actor: User) -> None:
    if not may_calibrate(actor):
        raise NotAllowed("only scale owners and administrators may change scales")


# ---------------------------------------------------------------- definitions


@dataclass(frozen=True)
class Validation:
    """A definition's text checked: the parsed definition and Scale when valid, else what is wrong."""

    definition: dict[str, Any] | None
    scale: nciss.Scale | None
    errors: list[tuple[str, str]]
    warnings: list[tuple[str, str]]


@functools.lru_cache(maxsize=32)
def validate_source(source: str, scale_id: str) -> Validation:
    """Parse a YAML or JSON definition and check it as the core does, keeping the draft's scale id.

    Cached by text: the editor, the impact page and publishing check the same text again and again.
    Callers must not change the definition it returns.
    """
    try:
        definition = yaml.load(source, Loader=_LOADER) if source.strip() else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(top)"
        return Validation(None, None, [(where, f"not valid YAML or JSON: {getattr(exc, 'problem', None) or exc}")], [])
    if not isinstance(definition, dict):
        return Validation(None, None, [("(top)", "expected a mapping (a YAML or JSON object)")], [])
    if definition.get("id") != scale_id:
        return Validation(definition, None, [("id", f"a draft of {scale_id} must keep the id {scale_id!r}")], [])
    try:
        scale = scale_from_definition(definition)
    except nciss.ScaleError as exc:
        return Validation(definition, None, list(exc.errors), [])
    return Validation(definition, scale, [], list(scale.warnings))


def current_source(scale_id: str) -> str:
    """The text a new draft of ``scale_id`` starts from: its newest published version, else the shipped file."""
    published = ScaleVersion.objects.filter(scale_id=scale_id).order_by("-published_at", "-pk").first()
    if published is not None:
        return published.source
    base = versions.base_scale()
    if scale_id == base.id and settings.NCISS_NATIONAL_SCALE not in preset_ids():
        return Path(settings.NCISS_NATIONAL_SCALE).read_text("utf-8")
    if scale_id in preset_ids():
        return (resources.files("nciss.presets") / f"{scale_id}.yaml").read_text("utf-8")
    raise ServiceError([("scale_id", f"unknown scale {scale_id!r}: use one of {', '.join(known_scale_ids())}")])


def known_scale_ids() -> list[str]:
    """The scales a draft can be a version of: the national scale, the presets, anything published."""
    published = ScaleVersion.objects.values_list("scale_id", flat=True).distinct()
    return list(dict.fromkeys([versions.base_scale().id, *preset_ids(), *sorted(published)]))


def scale_in_effect(scale_id: str) -> nciss.Scale:
    """``scale_id`` as it applies now: its newest version in effect, else the shipped scale."""
    if scale_id == versions.base_scale().id:
        return versions.national_scale()
    version = versions.versions_in_effect(scale_id).first()
    if version is not None:
        return versions.scale_of(version)
    return nciss.load_scale(scale_id)


# ---------------------------------------------------------------- drafts


def create_draft(*, actor: User, scale_id: str, source: str | None = None) -> ScaleDraft:
    """A new draft of ``scale_id``, starting from ``source`` or from the scale's current text."""
    _require_owner(actor)
    if scale_id not in known_scale_ids():
        raise ServiceError([("scale_id", f"unknown scale {scale_id!r}: use one of {', '.join(known_scale_ids())}")])
    text = current_source(scale_id) if source is None else source
    checked = validate_source(text, scale_id)
    now = clock.now()
    with transaction.atomic():
        draft = ScaleDraft.objects.create(
            scale_id=scale_id,
            source=text,
            author=actor,
            created_at=now,
            updated_at=now,
            errors=checked.errors,
            warnings=checked.warnings,
        )
        record(actor, "calibration.draft_created", draft, {"scale": scale_id, "errors": len(checked.errors)})
    return draft


def update_draft(*, actor: User, draft: ScaleDraft, source: str) -> ScaleDraft:
    """Keep the new text (valid or not: a draft may be unfinished) and its validation."""
    _require_owner(actor)
    if draft.is_published:
        raise ServiceError([("draft", "this draft is published; start a new draft to change the scale")])
    checked = validate_source(source, draft.scale_id)
    with transaction.atomic():
        draft.source, draft.errors, draft.warnings = source, checked.errors, checked.warnings
        draft.updated_at = clock.now()
        draft.save(update_fields=["source", "errors", "warnings", "updated_at"])
        record(actor, "calibration.draft_updated", draft, {"scale": draft.scale_id, "errors": len(checked.errors)})
    return draft


def upload_draft(*, actor: User, scale_id: str, upload: UploadedFile) -> ScaleDraft:
    """A new draft from an uploaded YAML or JSON file."""
    _require_owner(actor)
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise ServiceError([("file", f"larger than {MAX_UPLOAD_BYTES // 1000} kB")])
    try:
        text = upload.read().decode("utf-8")
    except UnicodeDecodeError:
        raise ServiceError([("file", "not UTF-8 text: upload a YAML or JSON file")]) from None
    return create_draft(actor=actor, scale_id=scale_id, source=text)


def draft_scale(draft: ScaleDraft) -> nciss.Scale:
    """The Scale a valid draft defines; ServiceError listing what is wrong otherwise."""
    checked = validate_source(draft.source, draft.scale_id)
    if checked.scale is None:
        raise ServiceError(checked.errors)
    return checked.scale


# ---------------------------------------------------------------- publishing


def publish_draft(
    *, actor: User, draft: ScaleDraft, change_note: str, effective_from: dt.datetime | None = None
) -> ScaleVersion:
    """Make a valid draft a new version of its scale, in effect from ``effective_from`` (default: now).

    Past assessments keep the version they were made with; new ones use this version once it is in effect.
    """
    _require_owner(actor)
    now = clock.now()
    when = effective_from or now
    errors: list[tuple[str, str]] = []
    if draft.is_published:
        errors.append(("draft", "already published"))
    if not change_note.strip():
        errors.append(("change_note", "say what changed and why"))
    if when < now - dt.timedelta(minutes=5):
        errors.append(("effective_from", "cannot be in the past"))
    checked = validate_source(draft.source, draft.scale_id)
    errors.extend(checked.errors)
    scale = checked.scale
    if scale is not None and _version_taken(draft.scale_id, scale.version):
        errors.append(("version", f"version {scale.version!r} of {draft.scale_id} exists: give the draft a new one"))
    if errors or scale is None or checked.definition is None:
        raise ServiceError(errors)
    with transaction.atomic():
        version = ScaleVersion.objects.create(
            scale_id=draft.scale_id,
            version=scale.version,
            definition=checked.definition,
            source=draft.source,
            digest=versions.digest_of(checked.definition),
            change_note=change_note.strip(),
            effective_from=when,
            published_by=actor,
            published_at=now,
        )
        draft.published_as = version
        draft.save(update_fields=["published_as"])
        record(
            actor,
            "calibration.published",
            version,
            {
                "scale": version.scale_id,
                "version": version.version,
                "effective_from": when.isoformat(),
                "change_note": version.change_note,
                "draft": draft.pk,
            },
        )
    return version


def _version_taken(scale_id: str, label: str) -> bool:
    if ScaleVersion.objects.filter(scale_id=scale_id, version=label).exists():
        return True
    shipped = versions.base_scale() if scale_id == versions.base_scale().id else None
    if shipped is None and scale_id in preset_ids():
        shipped = nciss.load_scale(scale_id)
    return shipped is not None and shipped.version == label


def open_incidents() -> Any:
    """The incidents a re-assessment covers: every open one."""
    return Incident.objects.filter(status__in=OPEN_STATUSES).order_by("pk")


@dataclass(frozen=True)
class Reassessment:
    version: ScaleVersion
    assessed: int
    changed: list[tuple[str, int, int]]  # (reference, level before, level after)


def reassess_open_incidents(*, version: ScaleVersion, actor: User) -> Reassessment:
    """Re-assess every open incident on ``version``, which must be the national scale's version in effect.

    One transaction and one audit row for the step; each incident also gets its own Assessment
    row, timeline entry (level before and after) and audit row from ``assess_incident``.
    """
    _require_owner(actor)
    base = versions.base_scale()
    if version.scale_id != base.id:
        raise ServiceError([("version", f"only the national scale ({base.id}) gives incidents their level")])
    in_effect = versions.versions_in_effect(base.id).first()
    if in_effect is None or in_effect.pk != version.pk:
        reason = (
            f"not in effect until {version.effective_from:%Y-%m-%d %H:%M} UTC"
            if version.effective_from > clock.now()
            else "a newer version is in effect"
        )
        raise ServiceError([("version", reason)])
    note = f"Re-assessed on {version.scale_id} {version.version}: {version.change_note}"
    changed: list[tuple[str, int, int]] = []
    with transaction.atomic():
        chosen = list(open_incidents().select_for_update())
        for at in range(0, len(chosen), _REASSESS_CHUNK):
            part = chosen[at : at + _REASSESS_CHUNK]
            before = [incident.level for incident in part]
            incidents.assess_incidents(incidents=part, actor=actor, note=note)
            changed += [(i.reference, b, i.level) for i, b in zip(part, before, strict=True) if i.level != b]
        assessed = len(chosen)
        record(
            actor,
            "calibration.reassessed",
            version,
            {"scale": version.scale_id, "version": version.version, "assessed": assessed, "changed": len(changed)},
        )
    return Reassessment(version, assessed, changed)


# ---------------------------------------------------------------- reference cases


def seed_reference_cases(*, actor: User | None, scale_id: str, cases: Iterable[Mapping[str, Any]]) -> int:
    """Add the preset's golden cases (``{"why", "facts", "rank"}``) not yet among the scale's cases."""
    existing = set(ReferenceCase.objects.filter(scale_id=scale_id).values_list("title", flat=True))
    now = clock.now()
    added = [
        ReferenceCase(
            scale_id=scale_id,
            title=str(case["why"]),
            facts=dict(case.get("facts") or {}),
            agreed_level=int(case["rank"]),
            source=ReferenceCase.Source.SEEDED,
            updated_by=actor,
            updated_at=now,
        )
        for case in cases
        if str(case["why"]) not in existing
    ]
    if added:
        with transaction.atomic():
            ReferenceCase.objects.bulk_create(added)
            record(
                actor,
                "calibration.cases_seeded",
                None,
                {"scale": scale_id, "added": len(added)},
                object_type="referencecase",
                object_id=scale_id,
            )
    return len(added)


def save_reference_case(
    *,
    actor: User,
    scale_id: str,
    title: str,
    facts: Any,
    agreed_level: Any,
    case: ReferenceCase | None = None,
) -> ReferenceCase:
    """Add a case (``case`` None) or change one: the facts must be valid, the level one of the scale's."""
    _require_owner(actor)
    scale = scale_in_effect(case.scale_id if case else scale_id)
    errors: list[tuple[str, str]] = []
    if not title.strip():
        errors.append(("title", "give the case a title"))
    try:
        clean_facts = nciss.validate_facts(facts, extra_sectors=scale.national_sectors)
    except nciss.FactsError as exc:
        errors.extend((f"facts.{path}", reason) for path, reason in exc.errors)
        clean_facts = {}
    try:
        level = int(agreed_level)
    except (TypeError, ValueError):
        level = -1
    if not 0 <= level < len(scale.levels):
        errors.append(("agreed_level", f"a level rank from 0 to {len(scale.levels) - 1}"))
    if errors:
        raise ServiceError(errors)
    with transaction.atomic():
        if case is None:
            case = ReferenceCase(scale_id=scale.id, source=ReferenceCase.Source.OWNER)
        case.title, case.facts, case.agreed_level = title.strip(), clean_facts, level
        case.updated_by, case.updated_at = actor, clock.now()
        action = "calibration.case_changed" if case.pk else "calibration.case_added"
        case.save()
        record(actor, action, case, {"scale": case.scale_id, "title": case.title, "level": level})
    return case


def delete_reference_case(*, actor: User, case: ReferenceCase) -> None:
    _require_owner(actor)
    with transaction.atomic():
        record(actor, "calibration.case_deleted", case, {"scale": case.scale_id, "title": case.title})
        case.delete()


# ---------------------------------------------------------------- consistency between analysts


def rating_facts(scale: nciss.Scale) -> list[str]:
    """What a blind rater is asked: every fact the scale's level depends on, except the organisation's profile."""
    return [fact for fact in facts_read(scale) if fact not in ENTITY_FACTS]


def create_rating_session(
    *,
    actor: User,
    title: str,
    analysts: Sequence[User],
    incidents_to_rate: Sequence[Incident] = (),
    sample_size: int = 0,
    seed: int | None = None,
) -> RatingSession:
    """A blind study: the given incidents, or a random sample of incidents not at TLP:RED, for the analysts."""
    _require_owner(actor)
    errors: list[tuple[str, str]] = []
    if not title.strip():
        errors.append(("title", "give the study a title"))
    if len(set(analysts)) < 2:
        errors.append(("analysts", "choose at least two analysts"))
    errors.extend(("analysts", f"{a.username} is not one of the CSIRT's analysts") for a in analysts if not may_rate(a))
    chosen = list(incidents_to_rate)
    if not chosen:
        pool = list(Incident.objects.exclude(tlp=TLP.RED).filter(duplicate_of=None).values_list("pk", flat=True))
        if sample_size < 1 or sample_size > len(pool):
            errors.append(("sample_size", f"a number of incidents from 1 to {len(pool)}"))
        else:
            picked = random.Random(seed).sample(pool, sample_size)
            chosen = list(Incident.objects.filter(pk__in=picked))
    errors.extend(("incidents", f"{i.reference} is TLP:RED") for i in chosen if i.tlp == TLP.RED)
    if errors:
        raise ServiceError(errors)
    scale = versions.national_scale()
    with transaction.atomic():
        session = RatingSession.objects.create(
            title=title.strip(),
            scale_id=scale.id,
            facts=rating_facts(scale),
            created_by=actor,
            created_at=clock.now(),
        )
        session.incidents.set(chosen)
        session.analysts.set(analysts)
        record(
            actor,
            "calibration.rating_session_created",
            session,
            {"incidents": [i.reference for i in chosen], "analysts": sorted(a.username for a in analysts)},
        )
    return session


def submit_rating(*, actor: User, session: RatingSession, incident: Incident, facts: Mapping[str, Any]) -> Rating:
    """An assigned analyst's answers for one incident of an open study (answering again replaces them)."""
    if not session.analysts.filter(pk=actor.pk).exists():
        raise NotAllowed("you are not one of this study's raters")
    if session.status != RatingSession.Status.OPEN:
        raise ServiceError([("session", "this study is closed")])
    if not session.incidents.filter(pk=incident.pk).exists():
        raise ServiceError([("incident", f"{incident.reference} is not part of this study")])
    asked = {fact: value for fact, value in facts.items() if fact in session.facts}
    scale = versions.national_scale()
    try:
        answers = nciss.validate_facts(asked, extra_sectors=scale.national_sectors)
    except nciss.FactsError as exc:
        raise ServiceError(list(exc.errors)) from None
    given = {fact: incident.facts[fact] for fact in ENTITY_FACTS if fact in incident.facts}
    level = nciss.assess(scale, {**given, **answers}).rank
    with transaction.atomic():
        rating, _ = Rating.objects.update_or_create(
            session=session,
            incident=incident,
            analyst=actor,
            defaults={"facts": answers, "level": level, "submitted_at": clock.now()},
        )
        record(actor, "calibration.rated", rating, {"session": session.pk, "incident": incident.reference})
    return rating


def close_rating_session(*, actor: User, session: RatingSession) -> RatingSession:
    _require_owner(actor)
    if session.status == RatingSession.Status.CLOSED:
        raise ServiceError([("session", "already closed")])
    with transaction.atomic():
        session.status, session.closed_at = RatingSession.Status.CLOSED, clock.now()
        session.save(update_fields=["status", "closed_at"])
        record(actor, "calibration.rating_session_closed", session, {"ratings": session.ratings.count()})
    return session


@dataclass(frozen=True)
class Agreement:
    """Krippendorff's alpha for one fact (or the level) over a study's incidents."""

    name: str  # a fact, or "level"
    alpha: float  # NaN: not enough pairable answers, or everyone gave the same value
    answers: int

    @property
    def ambiguous(self) -> bool:
        return not math.isnan(self.alpha) and self.alpha < AMBIGUOUS_BELOW


def agreement(session: RatingSession) -> list[Agreement]:
    """Alpha for the level and for each fact asked, the least agreed first ("don't know" is missing)."""
    ratings = list(session.ratings.all())
    raters = sorted({r.analyst_id for r in ratings})
    units = sorted({r.incident_id for r in ratings})
    by_pair = {(r.analyst_id, r.incident_id): r for r in ratings}
    specs = fact_specs()

    def table(value_of: Any) -> list[list[Any]]:
        rows = []
        for rater in raters:
            row = []
            for unit in units:
                rating = by_pair.get((rater, unit))
                row.append(None if rating is None else value_of(rating))
            rows.append(row)
        return rows

    results = [_alpha("level", table(lambda r: r.level), "ordinal", None)]
    for fact in session.facts:
        spec = specs[fact]
        cells = table(lambda r, f=fact: _comparable(r.facts.get(f)))
        if spec.is_numeric:
            results.append(_alpha(fact, cells, "interval", None))
        elif spec.ordered:
            results.append(_alpha(fact, cells, "ordinal", list(spec.values)))
        else:
            results.append(_alpha(fact, cells, "nominal", None))
    level, facts = results[0], results[1:]
    facts.sort(key=lambda a: (math.isnan(a.alpha), a.alpha))
    return [level, *facts]


def _comparable(value: Any) -> Any:
    """Lists compared as sets (nominal values must be hashable)."""
    if isinstance(value, list):
        return tuple(sorted(json.dumps(v) for v in value))
    return value


def _alpha(name: str, cells: list[list[Any]], kind: str, order: list[str] | None) -> Agreement:
    answers = sum(v is not None for row in cells for v in row)
    alpha = krippendorff_alpha(cells, kind, order) if cells else math.nan
    return Agreement(name, alpha, answers)
