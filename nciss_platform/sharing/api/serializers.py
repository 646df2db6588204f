"""The shapes of the sharing API: a partner's view of a share, the CSIRT's view, the share request."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from nciss.interop import IncidentRecord
from nciss_platform.accounts.models import Organisation
from nciss_platform.incidents.api.serializers import OrganisationSlugField, UsernameField
from nciss_platform.sharing.display import ShareView, level_sent
from nciss_platform.sharing.models import PartnerGroup, Share


class ShareRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    organisations = serializers.ListField(
        child=OrganisationSlugField(), required=False, default=list, help_text="partner organisations' slugs"
    )
    group = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=PartnerGroup.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="a partner group's slug: shared with each of its organisations",
    )
    recipients = serializers.ListField(
        child=UsernameField(),
        required=False,
        default=list,
        help_text="TLP:RED only: usernames at the recipient organisations (at least one at each)",
    )
    identify_reporter = serializers.BooleanField(
        default=False, help_text="name the reporting organisation (only if it agreed)"
    )
    title = serializers.CharField(
        required=False, allow_null=True, default=None, max_length=200, help_text="default: the incident's"
    )
    description = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, default=None, help_text="default: the incident's"
    )


class MissingFactSerializer(serializers.Serializer):  # type: ignore[type-arg]
    fact = serializers.CharField()
    label = serializers.CharField(help_text="in the requested language")


class LevelSentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One level a share carries, named from the scale's definition in the requested language."""

    scale = serializers.CharField()
    scale_name = serializers.CharField()
    rank = serializers.IntegerField(help_text="0 is the least severe level")
    name = serializers.CharField()
    colour = serializers.CharField(help_text="#rrggbb")
    reachable_max = serializers.IntegerField(help_text="the most severe level still possible")
    score = serializers.FloatField(allow_null=True)
    basis = serializers.ChoiceField(
        choices=["facts", "crosswalk"], help_text="computed from the facts, or read through the crosswalk table"
    )
    missing = MissingFactSerializer(many=True, help_text="the facts that could still change the level")


class SharedIncidentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A share as its partner reads it: the frozen record, its levels in the reader's language."""

    id = serializers.IntegerField()
    stix_id = serializers.CharField()
    shared_at = serializers.DateTimeField()
    tlp = serializers.CharField()
    level = LevelSentSerializer(help_text="on the recipient organisation's preferred scale")
    national_level = LevelSentSerializer(help_text="on the sending country's national scale")
    record = serializers.DictField(help_text="the incident as shared (nciss IncidentRecord JSON)")

    def to_representation(self, instance: ShareView) -> dict[str, Any]:
        return {
            "id": instance.share.pk,
            "stix_id": instance.share.stix_id,
            "shared_at": serializers.DateTimeField().to_representation(instance.share.shared_at),
            "tlp": instance.share.tlp,
            "level": instance.partner.to_dict(),
            "national_level": instance.national.to_dict(),
            "record": instance.share.record,
        }


class ShareSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A share as the CSIRT sees it: to whom, when, by whom, what was sent."""

    id = serializers.IntegerField()
    incident = serializers.CharField(source="incident.reference")
    organisation = serializers.SlugRelatedField(slug_field="slug", queryset=Organisation.objects.all())
    group = serializers.SlugRelatedField(slug_field="slug", allow_null=True, queryset=PartnerGroup.objects.all())
    shared_by = serializers.CharField(source="shared_by.username")
    shared_at = serializers.DateTimeField()
    tlp = serializers.CharField()
    recipients = serializers.SerializerMethodField()
    identifies_reporter = serializers.BooleanField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    stix_id = serializers.CharField()
    level = serializers.SerializerMethodField()
    record = serializers.DictField(help_text="the incident as shared (nciss IncidentRecord JSON)")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_recipients(self, share: Share) -> list[str]:
        return sorted(u.username for u in share.recipients.all())

    @extend_schema_field(LevelSentSerializer)
    def get_level(self, share: Share) -> dict[str, Any]:
        record = IncidentRecord.from_json(share.record)
        return level_sent(record.assessments[-1], self.context.get("lang", "en")).to_dict()
