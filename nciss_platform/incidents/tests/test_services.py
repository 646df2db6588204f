"""The incident services: what each state change does, and what it refuses."""

from __future__ import annotations

import datetime as dt
import hashlib
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from nciss_platform import clock
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.audit.services import verify
from nciss_platform.incidents import services
from nciss_platform.incidents.access import visible_incidents
from nciss_platform.incidents.models import Assessment, Incident
from nciss_platform.incidents.services import NotAllowed, ServiceError
from nciss_platform.incidents.tests.conftest import GRID_DOWN, T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def cloud() -> Organisation:
    return Organisation.objects.create(
        name="Steppe Cloud",
        slug="steppe-cloud",
        kind="operator",
        sector="digital-infrastructure",
        criticality="essential",
        size="medium",
        entity_type="cloud",
        country="XA",
    )


def report(user: User, **facts: object) -> Incident:
    with clock.frozen(T0):
        return services.report_incident(actor=user, title="Grid control room dark", facts={**GRID_DOWN, **facts})


def test_it_gives_references_in_sequence_per_year(reporter: User) -> None:
    assert [report(reporter).reference for _ in range(2)] == ["NCISS-2026-000001", "NCISS-2026-000002"]


def test_it_starts_an_incident_from_the_organisations_profile_unless_the_report_says_otherwise(reporter: User) -> None:
    incident = report(reporter, entity_size="medium")
    assert incident.facts["sector"] == "energy" and incident.facts["entity_criticality"] == "critical"
    assert incident.facts["entity_size"] == "medium"


def test_it_keeps_the_report_when_the_assessment_fails(reporter: User) -> None:
    with (
        mock.patch.object(services.nciss, "assess", side_effect=RuntimeError("engine down")),
        pytest.raises(RuntimeError),
    ):
        report(reporter)
    incident = Incident.objects.get()
    assert incident.title == "Grid control room dark" and incident.assessments.count() == 0
    services.assess_incident(incident=incident, actor=None)
    assert incident.assessments.count() == 1


def test_it_rejects_bad_facts_and_stores_nothing(reporter: User) -> None:
    with pytest.raises(ServiceError) as raised:
        report(reporter, functional_impact="catastrophic", users_affected=-1)
    assert {p for p, _ in raised.value.errors} == {"facts.functional_impact", "facts.users_affected"}
    assert Incident.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_it_levels_the_incident_on_the_national_scale_and_sets_the_triage_target(reporter: User) -> None:
    incident = report(reporter)
    assessment = incident.assessments.get()
    assert (assessment.scale_id, assessment.level) == ("osce-reference", incident.level)
    assert incident.level >= 3  # critical infrastructure with denial of critical services
    assert incident.due_at == T0 + _triage(incident)


def _triage(incident: Incident) -> dt.timedelta:
    import nciss

    return dt.timedelta(minutes=nciss.load_scale("osce-reference").levels[incident.level].targets["triage"].minutes)


def test_it_keeps_every_assessment_when_facts_change(reporter: User, analyst: User) -> None:
    incident = report(reporter)
    before = incident.level
    services.update_facts(incident=incident, actor=analyst, changes={"fatalities": 2, "population_affected_share": 0.2})
    levels = list(incident.assessments.order_by("created_at", "id").values_list("level", flat=True))
    assert levels[0] == before and levels[-1] >= 4 and len(levels) == 2
    changes = incident.timeline.get(kind="facts").data["changes"]
    assert changes["fatalities"] == [None, 2]


def test_an_assessment_cannot_be_changed(reporter: User) -> None:
    assessment = report(reporter).assessments.get()
    assessment.level = 0
    with pytest.raises(ValueError, match="immutable"):
        assessment.save()
    assert Assessment.objects.get().level != 0


@pytest.mark.parametrize(
    ("path", "role", "allowed"),
    [
        (["triaged"], "analyst", True),
        (["triaged"], "reporter", False),
        (["closed"], "analyst", False),
        (["triaged", "investigating", "contained", "resolved", "closed"], "analyst", True),
        (["rejected", "reported"], "analyst", False),
        (["rejected", "reported"], "coordinator", True),
    ],
)
def test_it_allows_only_the_workflow_s_moves_to_the_roles_that_may_make_them(
    reporter: User, analyst: User, coordinator: User, path: list[str], role: str, allowed: bool
) -> None:
    actors = {"analyst": analyst, "coordinator": coordinator, "reporter": reporter}
    incident = report(reporter)
    steps = [(to, analyst if to != path[-1] else actors[role]) for to in path]
    if allowed:
        for to, actor in steps:
            services.change_status(incident=incident, actor=actor, to=to)
        assert Incident.objects.get().status == path[-1]
    else:
        for to, actor in steps[:-1]:
            services.change_status(incident=incident, actor=actor, to=to)
        status = Incident.objects.get().status
        with pytest.raises((NotAllowed, ServiceError)):
            services.change_status(incident=incident, actor=steps[-1][1], to=steps[-1][0])
        assert Incident.objects.get().status == status


def test_resolving_stops_the_response_clock_and_reopening_restarts_it(reporter: User, analyst: User) -> None:
    incident = report(reporter)
    for to in ("triaged", "resolved"):
        services.change_status(incident=incident, actor=analyst, to=to)
    assert incident.due_at is None and incident.resolved_at is not None
    services.change_status(incident=incident, actor=analyst, to="investigating")
    assert incident.due_at is not None and incident.resolved_at is None


def test_a_merged_duplicate_leaves_the_queue_and_its_organisations_follow_the_original(
    reporter: User, analyst: User, cloud: Organisation
) -> None:
    original = report(reporter)
    cloud_reporter = User.objects.create_user("cloudy", role="reporter", organisation=cloud)
    duplicate = report(cloud_reporter)
    services.merge_duplicate(incident=duplicate, actor=analyst, into=original)
    duplicate.refresh_from_db()
    assert duplicate.status == "duplicate" and duplicate.duplicate_of == original and duplicate.due_at is None
    assert original in visible_incidents(cloud_reporter)
    with pytest.raises(ServiceError):
        services.merge_duplicate(incident=original, actor=analyst, into=duplicate)


def test_it_refuses_an_attachment_over_the_limit_and_fingerprints_the_others(reporter: User, tmp_path: object) -> None:
    incident = report(reporter)
    with override_settings(NCISS_MAX_ATTACHMENT_BYTES=12, MEDIA_ROOT=str(tmp_path)):
        with pytest.raises(ServiceError, match="larger than the limit of 12 bytes"):
            services.add_attachment(incident=incident, actor=reporter, upload=SimpleUploadedFile("big.log", b"x" * 13))
        small = services.add_attachment(
            incident=incident, actor=reporter, upload=SimpleUploadedFile("ioc.txt", b"evil.example")
        )
    assert small.sha256 == hashlib.sha256(b"evil.example").hexdigest()
    assert incident.attachments.count() == 1


def test_tlp_red_is_seen_only_by_its_named_recipients(reporter: User, analyst: User, coordinator: User) -> None:
    with clock.frozen(T0):
        incident = services.report_incident(
            actor=reporter, title="Minister's phone", facts=GRID_DOWN, tlp="TLP:RED", red_recipients=[analyst]
        )
    assert incident in visible_incidents(analyst) and incident in visible_incidents(reporter)
    assert incident not in visible_incidents(coordinator)
    services.record_read(incident=incident, actor=analyst)
    assert AuditEvent.objects.filter(action="incident.read", actor="analyst").exists()


def test_a_nis2_cloud_provider_sees_its_reporting_deadlines(cloud: Organisation) -> None:
    user = User.objects.create_user("cloud", role="reporter", organisation=cloud)
    with clock.frozen(T0):
        incident = services.report_incident(
            actor=user, title="Region down", facts={"outage_minutes": 45, "detected_at": "2026-03-02T08:00:00+00:00"}
        )
    ((scale, deadlines),) = services.deadlines_of(incident)
    assert scale.id == "eu-nis2"
    due = {d.id: d.due for d in deadlines}
    assert due["early-warning"] == dt.datetime(2026, 3, 3, 8, 0, tzinfo=dt.UTC)
    assert due["notification"] == dt.datetime(2026, 3, 5, 8, 0, tzinfo=dt.UTC)
    services.submit_reporting_step(incident=incident, actor=user, scale_id="eu-nis2", deadline_id="early-warning")
    ((_, deadlines),) = services.deadlines_of(incident)
    assert next(d for d in deadlines if d.id == "early-warning").submitted is not None


def test_every_change_lands_in_an_intact_audit_chain(reporter: User, analyst: User) -> None:
    incident = report(reporter)
    services.change_status(incident=incident, actor=analyst, to="triaged")
    services.add_comment(incident=incident, actor=analyst, body="Isolate the HMI network.")
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["incident.reported", "incident.assessed", "incident.status_changed", "incident.commented"]
    assert verify().ok


def test_a_named_tlp_red_recipient_in_another_organisation_sees_the_incident(
    reporter: User, cloud: Organisation
) -> None:
    outsider = User.objects.create_user("outsider", role="reporter", organisation=cloud)
    bystander = User.objects.create_user("bystander", role="reporter", organisation=cloud)
    with clock.frozen(T0):
        incident = services.report_incident(
            actor=reporter, title="Shared supplier", facts=GRID_DOWN, tlp="TLP:RED", red_recipients=[outsider]
        )
    assert incident in visible_incidents(outsider)
    assert incident not in visible_incidents(bystander)


def test_changing_the_detection_time_moves_the_reporting_deadlines(cloud: Organisation) -> None:
    user = User.objects.create_user("cloud", role="reporter", organisation=cloud)
    with clock.frozen(T0):
        incident = services.report_incident(
            actor=user, title="Region down", facts={"outage_minutes": 45, "detected_at": "2026-03-02T08:00:00+00:00"}
        )
    services.update_facts(incident=incident, actor=user, changes={"detected_at": "2026-03-01T20:00:00+00:00"})
    ((_, deadlines),) = services.deadlines_of(incident)
    assert next(d for d in deadlines if d.id == "early-warning").due == dt.datetime(2026, 3, 2, 20, 0, tzinfo=dt.UTC)


def test_it_reports_several_incidents_at_once_as_it_would_one_by_one(
    reporter: User, analyst: User, energy: Organisation
) -> None:
    single = report(reporter)
    with clock.frozen(T0):
        batch = services.report_incidents(
            actor=analyst,
            reports=[
                services.NewReport(
                    title="Grid control room dark", facts=dict(GRID_DOWN), affected_organisations=[energy]
                ),
                services.NewReport(
                    title="Portal defaced", facts={"functional_impact": "minimal-non-critical"}, tlp="TLP:RED"
                ),
            ],
        )
    assert [i.reference for i in batch] == ["NCISS-2026-000002", "NCISS-2026-000003"]
    stored = [Incident.objects.get(pk=i.pk) for i in batch]
    assert (stored[0].level, stored[0].facts["sector"], stored[0].due_at) == (single.level, "energy", single.due_at)
    assert list(stored[0].affected_organisations.all()) == [energy]
    assert stored[1].level < stored[0].level and list(stored[1].red_recipients.all()) == [analyst]
    for incident in stored:
        assert list(incident.timeline.values_list("kind", flat=True)) == ["reported", "assessment"]
        assert incident.assessments.get().level == incident.level
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "object_id"))[-4:]
    assert actions == [
        ("incident.reported", str(batch[0].pk)),
        ("incident.reported", str(batch[1].pk)),
        ("incident.assessed", str(batch[0].pk)),
        ("incident.assessed", str(batch[1].pk)),
    ]
    assert verify().ok


def test_it_stores_none_of_several_reports_when_one_is_wrong_and_names_which(analyst: User) -> None:
    with pytest.raises(ServiceError) as raised:
        services.report_incidents(
            actor=analyst,
            reports=[
                services.NewReport(title=" ", facts=dict(GRID_DOWN)),
                services.NewReport(title="Fine", facts=dict(GRID_DOWN)),
                services.NewReport(title="Wrong", facts={"users_affected": -1}),
            ],
        )
    assert {p for p, _ in raised.value.errors} == {"reports[0].title", "reports[2].facts.users_affected"}
    assert not Incident.objects.exists()
