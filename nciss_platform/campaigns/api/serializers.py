"""The shapes of the campaigns API. Levels are named in the ``lang`` of the serializer context."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from nciss_platform.campaigns.models import Campaign
from nciss_platform.scales.api.serializers import AssessmentSerializer, LevelSerializer


class IndicatorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    type = serializers.CharField(help_text="a STIX observable type, e.g. ipv4-addr")
    value = serializers.CharField()


class CampaignSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    level = serializers.SerializerMethodField(help_text="on the national scale")
    reachable_max = serializers.SerializerMethodField(help_text="the most severe level its unknown facts allow")
    indicators = serializers.SerializerMethodField()
    sectors = serializers.ListField(child=serializers.CharField(), help_text="the sectors it reaches")
    # plain strings: a choice field would collide with the other apps' `status` and `basis` enums in the schema
    basis = serializers.CharField(help_text="`classification` (the same type) or `indicator` (shared observables)")
    status = serializers.CharField(help_text="`open` or `closed`")
    url = serializers.SerializerMethodField(help_text="the campaign's page")

    class Meta:
        model = Campaign
        fields = [
            "reference",
            "title",
            "basis",
            "classification",
            "indicators",
            "status",
            "level",
            "reachable_max",
            "score",
            "organisations_affected",
            "sectors",
            "first_seen",
            "last_seen",
            "closed_at",
            "url",
        ]

    def _level(self, rank: int) -> dict[str, Any]:
        scale = self.context["scale"]
        return dict(scale.levels[min(rank, scale.top)].summary(self.context["lang"]))

    @extend_schema_field(LevelSerializer)
    def get_level(self, campaign: Campaign) -> dict[str, Any]:
        return self._level(campaign.level)

    @extend_schema_field(LevelSerializer)
    def get_reachable_max(self, campaign: Campaign) -> dict[str, Any]:
        return self._level(campaign.reachable_max)

    @extend_schema_field(IndicatorSerializer(many=True))
    def get_indicators(self, campaign: Campaign) -> list[dict[str, str]]:
        return [{"type": kind, "value": value} for kind, value in campaign.indicators]

    def get_url(self, campaign: Campaign) -> str:
        return reverse("campaigns:detail", args=[campaign.reference])


class CampaignDetailSerializer(CampaignSerializer):
    facts = serializers.DictField(help_text="the fold of its incidents' facts, as assessed")
    assessment = serializers.SerializerMethodField(help_text="the facts assessed on the national scale, explained")
    incidents = serializers.SerializerMethodField(help_text="the references of its incidents the caller may see")

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "facts", "assessment", "incidents"]

    @extend_schema_field(AssessmentSerializer)
    def get_assessment(self, campaign: Campaign) -> dict[str, Any]:
        return dict(self.context["assessment"])

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_incidents(self, campaign: Campaign) -> list[str]:
        return list(self.context["incidents"])
