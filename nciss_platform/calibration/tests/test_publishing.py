"""Publishing a draft: versions are kept, history is untouched, the national scale follows, audit rows."""

from __future__ import annotations

import datetime as dt

import pytest

import nciss
from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.calibration import services, versions
from nciss_platform.calibration.models import ScaleVersion
from nciss_platform.calibration.tests.conftest import FACTS
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents import services as incidents
from nciss_platform.incidents.models import Assessment, Incident, TimelineEntry
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.incidents.workflow import Status


def _publish(owner: User, source: str, **kwargs: object) -> ScaleVersion:
    draft = services.create_draft(actor=owner, scale_id="osce-reference", source=source)
    return services.publish_draft(actor=owner, draft=draft, change_note="Lower thresholds", **kwargs)  # type: ignore[arg-type]


def test_publishing_keeps_every_version_and_leaves_past_assessments_alone(
    owner: User, history: list[Incident], lower_thresholds: str
) -> None:
    before = {a.pk: (a.scale_version, a.level, a.result) for a in Assessment.objects.all()}
    assert {v for v, _, _ in before.values()} == {"1.0"}

    first = _publish(owner, lower_thresholds)
    second = _publish(owner, lower_thresholds.replace("version: 1.1-test", "version: 1.2-test"))

    assert list(ScaleVersion.objects.order_by("pk").values_list("version", flat=True)) == ["1.1-test", "1.2-test"]
    assert {a.pk: (a.scale_version, a.level, a.result) for a in Assessment.objects.all()} == before
    assert versions.national_scale().version == "1.2-test"
    published = AuditEvent.objects.filter(action="calibration.published").order_by("pk")
    assert [(e.object_id, e.data["version"], e.actor) for e in published] == [
        (str(first.pk), "1.1-test", "owner"),
        (str(second.pk), "1.2-test", "owner"),
    ]


def test_new_assessments_record_the_published_version(owner: User, reporter: User, lower_thresholds: str) -> None:
    _publish(owner, lower_thresholds)
    incident = report(reporter, at=clock.now(), facts=dict(FACTS[1]))
    latest = incident.assessments.order_by("-pk").first()
    assert latest is not None
    assert (latest.scale_id, latest.scale_version) == ("osce-reference", "1.1-test")
    assert latest.level == nciss.assess(versions.national_scale(), incident.facts).rank


def test_a_version_applies_from_its_effective_date(owner: User, lower_thresholds: str) -> None:
    start = clock.now() + dt.timedelta(days=7)
    _publish(owner, lower_thresholds, effective_from=start)
    assert versions.national_scale().version == "1.0"
    with clock.frozen(start + dt.timedelta(minutes=1)):
        assert versions.national_scale().version == "1.1-test"


@pytest.mark.parametrize(
    ("note", "version", "path"),
    [("", "1.1-test", "change_note"), ("Same label", "1.0", "version")],
)
def test_publishing_needs_a_change_note_and_a_new_version_label(
    owner: User, lower_thresholds: str, note: str, version: str, path: str
) -> None:
    draft = services.create_draft(
        actor=owner,
        scale_id="osce-reference",
        source=lower_thresholds.replace("version: 1.1-test", f"version: '{version}'"),
    )
    with pytest.raises(ServiceError) as raised:
        services.publish_draft(actor=owner, draft=draft, change_note=note)
    assert path in [p for p, _ in raised.value.errors]
    assert not ScaleVersion.objects.exists()


def test_only_scale_owners_and_administrators_publish(
    analysts: list[User], administrator: User, lower_thresholds: str
) -> None:
    with pytest.raises(NotAllowed):
        services.create_draft(actor=analysts[0], scale_id="osce-reference")
    assert _publish(administrator, lower_thresholds).published_by == administrator


def test_reassessing_open_incidents_is_one_audited_step(
    owner: User, analysts: list[User], history: list[Incident], lower_thresholds: str
) -> None:
    closed = history[2]
    for status in (Status.TRIAGED, Status.INVESTIGATING, Status.RESOLVED, Status.CLOSED):
        incidents.change_status(incident=closed, actor=analysts[0], to=status)
    closed_assessments = list(closed.assessments.values_list("pk", "scale_version"))
    old_rows = set(Assessment.objects.values_list("pk", "scale_version", "level"))
    version = _publish(owner, lower_thresholds)
    scale = versions.national_scale()
    levels_before = {i.reference: i.level for i in history[:2]}
    expected = [
        (i.reference, levels_before[i.reference], nciss.assess(scale, i.facts).rank)
        for i in history[:2]
        if nciss.assess(scale, i.facts).rank != levels_before[i.reference]
    ]
    assert expected, "the lowered thresholds move at least one incident"

    done = services.reassess_open_incidents(version=version, actor=owner)

    assert done.assessed == 2
    assert done.changed == expected
    assert old_rows <= set(Assessment.objects.values_list("pk", "scale_version", "level"))
    assert list(closed.assessments.values_list("pk", "scale_version")) == closed_assessments
    for incident in history[:2]:
        incident.refresh_from_db()
        latest = incident.assessments.order_by("-pk").first()
        assert latest is not None and latest.scale_version == "1.1-test"
        entry = incident.timeline.filter(kind=TimelineEntry.Kind.ASSESSMENT).order_by("-pk").first()
        assert entry is not None
        assert (entry.data["version"], entry.data["previous"], entry.data["level"]) == (
            "1.1-test",
            levels_before[incident.reference],
            incident.level,
        )
    step = AuditEvent.objects.get(action="calibration.reassessed")
    assert step.data["assessed"] == 2 and step.data["changed"] == len(done.changed)


def test_reassessing_waits_for_the_effective_date(owner: User, history: list[Incident], lower_thresholds: str) -> None:
    version = _publish(owner, lower_thresholds, effective_from=clock.now() + dt.timedelta(days=1))
    count = Assessment.objects.count()
    with pytest.raises(ServiceError) as raised:
        services.reassess_open_incidents(version=version, actor=owner)
    assert "not in effect until" in raised.value.errors[0][1]
    assert Assessment.objects.count() == count
