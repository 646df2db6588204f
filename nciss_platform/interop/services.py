"""Importing records as incidents and turning incidents into records for export.

An import stores each record as a report (through ``report_incident``, so it is assessed,
audited and on the timeline like any other), keeps the original, and remembers the record's
source identity: importing the same data again creates nothing. A record that cannot be stored
is rejected with its place and reason, and the batch goes on.
"""

from __future__ import annotations

import dataclasses
import itertools
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet

import nciss
from nciss.interop import Assessed, IncidentRecord, Observable, Rejected, formats
from nciss_platform import clock
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.services import record as audit
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.feeds.reading import read_feeds
from nciss_platform.feeds.services import ingest_events
from nciss_platform.incidents import access
from nciss_platform.incidents.models import PAP, TLP, Incident
from nciss_platform.incidents.models import Observable as ObservableRow
from nciss_platform.incidents.services import national_scale, report_incident, reporting_scales
from nciss_platform.interop.models import ImportedRecord
from nciss_platform.sharing.services import records_for, records_for_organisation

# Records stored per transaction: an interrupted import keeps every batch committed before it,
# and running it again skips them (imports are resumable), without a commit per record.
COMMIT_EVERY = 200


@dataclass
class ImportSummary:
    """What one import did: counted per record, rejections listed with their place and reason."""

    format: str
    read: int = 0
    imported: int = 0
    already_imported: int = 0
    mapped_fields: int = 0
    unmapped_fields: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    references: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "read": self.read,
            "imported": self.imported,
            "already_imported": self.already_imported,
            "rejected": len(self.rejected),
            "mapped_fields": self.mapped_fields,
            "unmapped_fields": self.unmapped_fields,
            "rejections": [
                {"file": r.file, "record": r.record, "field": r.field, "reason": r.reason} for r in self.rejected
            ],
            "incidents": self.references,
        }


def import_records(
    *,
    actor: User,
    fmt: str,
    items: Iterable[tuple[str, IncidentRecord | Rejected]],
    default_tlp: str = TLP.AMBER,
    on_item: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Import every record of ``items`` (file name, record or rejection); never stops for one bad record."""
    if not access.can_manage(actor):
        raise NotAllowed("only analysts and coordinators import incidents")
    if default_tlp not in TLP.values:
        raise ServiceError([("tlp", f"must be one of {', '.join(TLP.values)}")])
    summary = ImportSummary(format=fmt)
    source = iter(items)
    for batch in iter(lambda: list(itertools.islice(source, COMMIT_EVERY)), []):
        with transaction.atomic():
            for file, item in batch:
                summary.read += 1
                if isinstance(item, Rejected):
                    summary.rejected.append(item)
                else:
                    _import_one(actor, item, file, default_tlp, summary)
                if on_item is not None:
                    on_item(summary)
    counts = {k: v for k, v in summary.to_dict().items() if k not in ("rejections", "incidents")}
    audit(actor, "interop.imported", None, counts, object_type="import")
    return summary


def _import_one(actor: User, record: IncidentRecord, file: str, default_tlp: str, summary: ImportSummary) -> None:
    source_id = record.source_id or record.title
    if ImportedRecord.objects.filter(source=record.source, source_id=source_id).exists():
        summary.already_imported += 1
        return
    try:
        with transaction.atomic():
            incident = report_incident(
                actor=actor,
                title=(record.title or "Imported incident")[:200],
                description=record.description,
                facts=dict(record.facts),
                tlp=record.tlp if record.tlp in TLP.values else default_tlp,
                pap=record.pap if record.pap in PAP.values else PAP.AMBER,
                entity_from_profile=False,
            )
            ObservableRow.objects.bulk_create(
                [
                    ObservableRow(incident=incident, type=o.type, value=o.value[:2048], comment=o.comment[:500])
                    for o in record.observables
                ],
                ignore_conflicts=True,
            )
            ImportedRecord.objects.create(
                source=record.source,
                source_id=source_id,
                incident=incident,
                original=record.original,
                file=file[:500],
                imported_by=actor,
                imported_at=clock.now(),
            )
    except ServiceError as e:
        for path, reason in e.errors:
            summary.rejected.append(Rejected(file, source_id, path, reason))
        return
    summary.imported += 1
    summary.mapped_fields += len(record.mapped)
    summary.unmapped_fields += len(record.unmapped)
    summary.references.append(incident.reference)


# ---------------------------------------------------------------- export


def incident_record(incident: Incident, *, name_reporter: bool = True) -> IncidentRecord:
    """The incident as the formats see it: facts, its level on the national and reporting scales,
    observables, and the original record when it was imported (so an export can give it back)."""
    national = national_scale()
    assessments = [
        Assessed(
            scale_id=national.id,
            scale_version=national.version,
            rank=incident.level,
            name=national.levels[incident.level].name.get_for("en"),
            score=incident.score,
            reachable_max=incident.reachable_max,
        )
    ]
    for scale in reporting_scales():
        if scale.id != national.id:
            result = nciss.assess(scale, incident.facts)
            assessments.append(
                Assessed(
                    scale.id,
                    scale.version,
                    result.rank,
                    scale.levels[result.rank].name.get_for("en"),
                    result.score,
                    result.reachable_max,
                )
            )
    imported = incident.imported_from.first()
    return IncidentRecord(
        title=incident.title,
        facts=dict(incident.facts),
        description=incident.description,
        source=imported.source if imported else "nciss",
        source_id=imported.source_id if imported else incident.reference,
        reference=incident.reference,
        tlp=incident.tlp,
        pap=incident.pap,
        status=incident.status,
        created=incident.reported_at,
        modified=incident.updated_at,
        reporter=incident.reporting_organisation.name if name_reporter else None,
        reporter_country=incident.reporting_organisation.country,
        assessments=tuple(assessments),
        observables=tuple(Observable(o.type, o.value, o.comment) for o in incident.observables.all()),
        original=imported.original if imported else None,
    )


def _with_relations(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    return incidents.select_related("reporting_organisation").prefetch_related("observables", "imported_from")


def records_for_user(user: User, references: Sequence[str] = ()) -> Iterator[IncidentRecord]:
    """What ``user`` may export: partners get what was shared with them (as shared), everyone else
    the incidents they can see. TLP:RED comes only to its named recipients (``visible_incidents``)."""
    if user.role == User.Role.PARTNER:
        for record in records_for(user):
            if not references or record.reference in references:
                yield record
        return
    incidents = access.visible_incidents(user)
    if references:
        incidents = incidents.filter(reference__in=references)
    for incident in _with_relations(incidents.order_by("reported_at", "id")).iterator(chunk_size=500):
        yield incident_record(incident)


def records_for_operator(
    *, references: Sequence[str] = (), partner: Organisation | None = None, include_red: bool = False
) -> Iterator[IncidentRecord]:
    """What the command line exports. For a partner: what was shared with its organisation as a whole
    (TLP:RED shares are for named people and never go into a file). Otherwise every incident, TLP:RED
    only with ``include_red``."""
    if partner is not None:
        for record in records_for_organisation(partner):
            if not references or record.reference in references:
                yield record
        return
    incidents = Incident.objects.all()
    if references:
        incidents = incidents.filter(reference__in=references)
        missing = set(references) - set(incidents.values_list("reference", flat=True))
        if missing:
            raise ServiceError([("incident", f"no incident {ref}") for ref in sorted(missing)])
    if not include_red:
        incidents = incidents.exclude(tlp=TLP.RED)
    for incident in _with_relations(incidents.order_by("reported_at", "id")).iterator(chunk_size=500):
        yield incident_record(incident)


def exported(*, actor: User | None, fmt: str, count: int, detail: dict[str, object]) -> None:
    """Keep an audit row of an export (what left, in which format, for whom)."""
    audit(actor, "interop.exported", None, {"format": fmt, "count": count, **detail}, object_type="export")


def import_uploads(
    *,
    actor: User,
    fmt: str,
    uploads: Sequence[UploadedFile],
    mapping: UploadedFile | None = None,
    default_tlp: str = TLP.AMBER,
) -> ImportSummary:
    """Import uploaded files (the API and the upload page): stored in a private temporary folder
    under their own names, then read as the command line reads files."""
    errors = []
    if fmt not in formats.IMPORT_FORMATS:
        errors.append(("format", f"must be one of {', '.join(formats.IMPORT_FORMATS)}"))
    if not uploads:
        errors.append(("file", "at least one file is required"))
    loaded_mapping = None
    if fmt == "csv":
        if mapping is None:
            errors.append(("mapping", "CSV needs a column mapping file (YAML)"))
        else:
            try:
                loaded_mapping = yaml.safe_load(mapping.read())
                formats.reader(fmt, loaded_mapping)
            except (yaml.YAMLError, ValueError) as e:
                errors.append(("mapping", str(e).splitlines()[0]))
    if errors:
        raise ServiceError(errors)
    with tempfile.TemporaryDirectory(prefix="nciss-import-") as folder:
        paths = []
        for i, upload in enumerate(uploads):
            path = Path(folder) / f"{i:03d}-{Path(upload.name or 'upload').name}"
            with path.open("wb") as f:
                for chunk in upload.chunks():
                    f.write(chunk)
            paths.append(path)
        if fmt == "intelmq":
            return _ingest_feed_files(actor, paths)
        items = ((Path(name).name[4:], item) for name, item in formats.read_files(fmt, paths, loaded_mapping))
        return import_records(actor=actor, fmt=fmt, items=items, default_tlp=default_tlp)


def _ingest_feed_files(actor: User, paths: list[Path]) -> ImportSummary:
    """IntelMQ uploads take the feeds' path (``feeds.services.ingest_events``): attributed to constituents,
    deduplicated, aggregated per organisation, RSIT type and window. Events are counted as records:
    ``imported`` new ones, ``already_imported`` duplicates; rejected events are also dead letters, and
    the events outside the constituency are one line of the rejections."""
    if not access.can_manage(actor):
        raise NotAllowed("only analysts and coordinators import incidents")
    summary = ImportSummary(format="intelmq")

    def named(items: Iterator[dict[str, Any] | Rejected]) -> Iterator[dict[str, Any] | Rejected]:
        for item in items:  # the upload's own name, without the temporary folder's numbering
            if isinstance(item, Rejected):
                item = dataclasses.replace(item, file=item.file[4:])
                summary.rejected.append(item)
            yield item

    names = ", ".join(path.name[4:] for path in paths)
    result = ingest_events(events=named(read_feeds(paths)), actor=actor, source=names)
    summary.read = result.read
    summary.imported = result.attributed - result.duplicates
    summary.already_imported = result.duplicates
    if result.unattributed:
        reason = (
            f"{result.unattributed} events outside the constituency: no organisation owns their address, name or AS"
        )
        summary.rejected.append(Rejected(names, "", "", reason))
    opened = Incident.objects.filter(pk__in=result.opened).order_by("id")
    summary.references = list(opened.values_list("reference", flat=True))
    return summary
