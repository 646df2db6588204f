"""The shapes of the incidents API: requests are validated here, responses are built here.

Response serializers read incidents, assessments and timeline entries; what they compute
(levels, readings on other scales, deadlines, links) needs ``scale``, ``lang``, ``now`` and
``request`` in the serializer context (``views.IncidentViewSet.get_serializer_context``).
Links to other incidents only ever name incidents the caller may see.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

import nciss
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents import services
from nciss_platform.incidents.access import visible_incidents
from nciss_platform.incidents.models import PAP, TLP, Assessment, Attachment, Incident, TimelineEntry
from nciss_platform.incidents.workflow import OPEN_STATUSES, Status, next_statuses
from nciss_platform.scales.api.serializers import AssessmentSerializer, LevelSerializer, ReachableSerializer

MAX_BULK = 500


def level_of(scale: nciss.Scale, rank: int, lang: str) -> dict[str, Any] | None:
    """A rank on ``scale`` as ``{rank, name, colour}`` (None when the scale has no such level)."""
    return scale.levels[rank].summary(lang) if 0 <= rank < len(scale.levels) else None


# ---------------------------------------------------------------- requests


class UsernameField(serializers.SlugRelatedField):  # type: ignore[type-arg]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="username", queryset=User.objects.all(), **kwargs)


class OrganisationSlugField(serializers.SlugRelatedField):  # type: ignore[type-arg]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="slug", queryset=Organisation.objects.all(), **kwargs)


class ReportRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, default="", allow_blank=True)
    facts = serializers.DictField(
        required=False, default=dict, help_text="incident facts (see `nciss facts-schema`); every fact is optional"
    )
    tlp = serializers.ChoiceField(choices=TLP.choices, default=TLP.AMBER)
    pap = serializers.ChoiceField(choices=PAP.choices, default=PAP.AMBER)
    reporting_organisation = OrganisationSlugField(
        required=False, allow_null=True, help_text="a slug; CSIRT staff may report for another organisation"
    )
    affected_organisations = serializers.ListField(
        child=OrganisationSlugField(), required=False, default=list, help_text="slugs; default: the reporting one"
    )
    red_recipients = serializers.ListField(
        child=UsernameField(), required=False, default=list, help_text="usernames who may see a TLP:RED incident"
    )


class FactsChangeRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    changes = serializers.DictField(help_text="facts to set; null removes a fact")
    note = serializers.CharField(required=False, default="", allow_blank=True)


class TransitionRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    to = serializers.ChoiceField(choices=Status.choices)
    note = serializers.CharField(required=False, default="", allow_blank=True)


class AssignRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    assignee = UsernameField(allow_null=True, help_text="an analyst's or coordinator's username; null unassigns")


class WaitingRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    waiting = serializers.BooleanField(help_text="true pauses the response clocks until the reporter answers")


class CommentRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    body = serializers.CharField()


class AttachmentRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    file = serializers.FileField(help_text="at most NCISS_MAX_ATTACHMENT_MB")


class MergeRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    into = serializers.CharField(help_text="the reference of the incident this one duplicates")
    note = serializers.CharField(required=False, default="", allow_blank=True)


class LinkRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    other = serializers.CharField(help_text="the reference of a related incident")


class SharingRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    tlp = serializers.ChoiceField(choices=TLP.choices)
    pap = serializers.ChoiceField(choices=PAP.choices, required=False, allow_null=True, default=None)
    red_recipients = serializers.ListField(
        child=UsernameField(), required=False, default=list, help_text="usernames who may see a TLP:RED incident"
    )


class ReportingStepRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    scale = serializers.CharField(help_text="the regime's scale id, e.g. eu-nis2")
    deadline = serializers.CharField(help_text="the deadline's id, e.g. early-warning")


class BulkRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    references = serializers.ListField(child=serializers.CharField(), min_length=1, max_length=MAX_BULK)
    action = serializers.ChoiceField(choices=[("assign", "assign"), ("transition", "transition")])
    assignee = UsernameField(required=False, allow_null=True, help_text="for assign: a username, or null")
    to = serializers.ChoiceField(choices=Status.choices, required=False, help_text="for transition")
    note = serializers.CharField(required=False, default="", allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        needed = {"assign": "assignee", "transition": "to"}[attrs["action"]]
        if needed not in attrs:
            raise serializers.ValidationError({needed: f"required for {attrs['action']}"})
        return attrs


# ---------------------------------------------------------------- responses


class IncidentOrganisationSerializer(serializers.Serializer):  # type: ignore[type-arg]
    slug = serializers.CharField()
    name = serializers.CharField()


class IncidentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """An incident in a list: what the queue shows."""

    reference = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField(help_text=", ".join(Status.values))
    level = serializers.SerializerMethodField(help_text="the level on the national scale")
    score = serializers.FloatField(allow_null=True)
    reachable_max = serializers.IntegerField(help_text="the most severe level the unknown facts could still lead to")
    due_at = serializers.DateTimeField(allow_null=True, help_text="when the current response target falls due")
    overdue = serializers.SerializerMethodField()
    waiting_on_reporter = serializers.BooleanField()
    sector = serializers.CharField()
    classification = serializers.CharField()
    tlp = serializers.CharField()
    reporting_organisation = IncidentOrganisationSerializer()
    assignee = serializers.CharField(source="assignee.username", read_only=True, allow_null=True)
    reported_at = serializers.DateTimeField()

    @extend_schema_field(LevelSerializer)
    def get_level(self, incident: Incident) -> dict[str, Any] | None:
        return level_of(self.context["scale"], incident.level, self.context["lang"])

    def get_overdue(self, incident: Incident) -> bool:
        return (
            incident.status in OPEN_STATUSES
            and not incident.waiting_on_reporter
            and incident.due_at is not None
            and incident.due_at < self.context["now"]
        )


class IncidentLinkSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reference = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    level = LevelSerializer(allow_null=True)


class ScaleReadingSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The incident's facts read on another scale."""

    scale = serializers.CharField()
    name = serializers.CharField()
    version = serializers.CharField()
    level = LevelSerializer(allow_null=True)
    reachable = ReachableSerializer(allow_null=True)
    score = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_null=True, help_text="why the facts cannot be read on this scale")


class DeadlineSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.CharField()
    name = serializers.CharField()
    due = serializers.DateTimeField(allow_null=True, help_text="null while the step it follows is not submitted")
    submitted = serializers.DateTimeField(allow_null=True)
    state = serializers.ChoiceField(choices=["done", "late", "overdue", "due", "waiting"])
    conditional = serializers.BooleanField(help_text="its condition depends on facts not known yet")
    possible_only = serializers.BooleanField(help_text="the incident could still reach the regime's level")


class RegimeDeadlinesSerializer(serializers.Serializer):  # type: ignore[type-arg]
    scale = serializers.CharField()
    name = serializers.CharField()
    deadlines = DeadlineSerializer(many=True)


class AttachmentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()
    size = serializers.IntegerField(help_text="bytes")
    sha256 = serializers.CharField()
    content_type = serializers.CharField()
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField(help_text="where to download it")

    def get_url(self, attachment: Attachment) -> str:
        path = reverse("api-incident-attachment-file", args=[attachment.incident.reference, attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class TimelineEntrySerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text=", ".join(TimelineEntry.Kind.values))
    author = serializers.CharField(source="author.username", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField()
    body = serializers.CharField()
    data = serializers.DictField(help_text="what changed, by kind")


class CommentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    author = serializers.CharField(source="author.username", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField()
    body = serializers.CharField()


class AssessmentRecordSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One immutable assessment snapshot."""

    id = serializers.IntegerField()
    scale = serializers.CharField(source="scale_id")
    scale_version = serializers.CharField()
    level = serializers.SerializerMethodField()
    score = serializers.FloatField(allow_null=True)
    facts = serializers.DictField()
    result = AssessmentSerializer(help_text="the engine's assessment, as `nciss assess --json` gives it")
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField()

    @extend_schema_field(LevelSerializer)
    def get_level(self, assessment: Assessment) -> dict[str, Any]:
        level: dict[str, Any] = assessment.result["level"]
        return level


class IncidentDetailSerializer(IncidentSerializer):
    """Everything about one incident that the caller may see."""

    description = serializers.CharField()
    facts = serializers.DictField()
    pap = serializers.CharField()
    next_statuses = serializers.SerializerMethodField(help_text="the statuses the caller may move it to")
    affected_organisations = IncidentOrganisationSerializer(many=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    red_recipients = serializers.SerializerMethodField(help_text="who may see it, for a TLP:RED incident")
    occurred_at = serializers.DateTimeField(allow_null=True)
    detected_at = serializers.DateTimeField(allow_null=True)
    triaged_at = serializers.DateTimeField(allow_null=True)
    first_response_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    assessment = serializers.SerializerMethodField(help_text="the latest assessment on the national scale")
    deadlines = serializers.SerializerMethodField(help_text="the reporting obligations of each binding regime")
    other_scales = serializers.SerializerMethodField(help_text="the same facts on every other preset scale")
    duplicate_of = serializers.SerializerMethodField()
    duplicates = serializers.SerializerMethodField()
    related = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True)

    def get_next_statuses(self, incident: Incident) -> list[str]:
        return next_statuses(incident.status, self.context["request"].user.role)

    def get_red_recipients(self, incident: Incident) -> list[str]:
        if incident.tlp != TLP.RED:
            return []
        return sorted(user.username for user in incident.red_recipients.all())

    @extend_schema_field(AssessmentSerializer(allow_null=True))
    def get_assessment(self, incident: Incident) -> dict[str, Any] | None:
        latest = incident.assessments.first()
        return latest.result if latest is not None else None

    @extend_schema_field(RegimeDeadlinesSerializer(many=True))
    def get_deadlines(self, incident: Incident) -> list[dict[str, Any]]:
        now, lang = self.context["now"], self.context["lang"]
        return [
            {
                "scale": scale.id,
                "name": scale.name.get_for(lang),
                "deadlines": [deadline.to_dict(now, lang) for deadline in deadlines],
            }
            for scale, deadlines in services.deadlines_of(incident)
        ]

    @extend_schema_field(ScaleReadingSerializer(many=True))
    def get_other_scales(self, incident: Incident) -> list[dict[str, Any]]:
        national, lang = self.context["scale"], self.context["lang"]
        return [_reading(scale, incident.facts, lang) for scale in nciss.list_scales() if scale.id != national.id]

    @extend_schema_field(IncidentLinkSerializer(allow_null=True))
    def get_duplicate_of(self, incident: Incident) -> dict[str, Any] | None:
        if incident.duplicate_of_id is None:
            return None
        found = self._links(pk=incident.duplicate_of_id)
        return found[0] if found else None

    @extend_schema_field(IncidentLinkSerializer(many=True))
    def get_duplicates(self, incident: Incident) -> list[dict[str, Any]]:
        return self._links(duplicate_of=incident)

    @extend_schema_field(IncidentLinkSerializer(many=True))
    def get_related(self, incident: Incident) -> list[dict[str, Any]]:
        return self._links(pk__in=incident.related.values("pk"))

    def _links(self, **lookup: Any) -> list[dict[str, Any]]:
        """Incidents matching ``lookup`` that the caller may see (a TLP:RED one stays unnamed)."""
        scale, lang = self.context["scale"], self.context["lang"]
        found = visible_incidents(self.context["request"].user).filter(**lookup).order_by("reference")
        return [
            {"reference": i.reference, "title": i.title, "status": i.status, "level": level_of(scale, i.level, lang)}
            for i in found
        ]


def _reading(scale: nciss.Scale, facts: dict[str, Any], lang: str) -> dict[str, Any]:
    reading: dict[str, Any] = {"scale": scale.id, "name": scale.name.get_for(lang), "version": scale.version}
    try:
        result = nciss.assess(scale, facts, lang)
    except nciss.FactsError as exc:
        return {**reading, "level": None, "reachable": None, "score": None, "error": str(exc)}
    return {
        **reading,
        "level": result.level,
        "reachable": {"min": result.rank, "max": result.reachable_max},
        "score": result.score,
        "error": None,
    }


class BulkResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    action = serializers.CharField()
    incidents = IncidentSerializer(many=True)
