"""The shapes of the scales API: requests are validated here, responses are documented here."""

from django.conf import settings
from rest_framework import serializers


class AssessRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    scale = serializers.CharField(help_text="a scale id, e.g. osce-reference, cisa-nciss, uk-ncsc, eu-nis2")
    facts = serializers.DictField(help_text="incident facts (see `nciss facts-schema`); every fact is optional")
    lang = serializers.ChoiceField(
        choices=settings.LANGUAGES, default="en", help_text="language of names and explanation"
    )


class LevelSerializer(serializers.Serializer):  # type: ignore[type-arg]
    rank = serializers.IntegerField(help_text="0 is the least severe level")
    name = serializers.CharField()
    colour = serializers.CharField(help_text="#rrggbb")


class ReachableSerializer(serializers.Serializer):  # type: ignore[type-arg]
    min = serializers.IntegerField(help_text="the level given the known facts")
    max = serializers.IntegerField(help_text="the most severe level the unknown facts could still lead to")


class AssessmentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One assessment: the same object as one line of `nciss assess --json`."""

    scale = serializers.CharField()
    scale_version = serializers.CharField()
    score = serializers.FloatField(allow_null=True, help_text="0-100, unrounded; null for a scale without one")
    level = LevelSerializer()
    reachable = ReachableSerializer()
    decisive_unknowns = serializers.ListField(
        child=serializers.CharField(), help_text="unknown facts that could change the level"
    )
    classification = serializers.CharField(allow_null=True)
    contributions = serializers.ListField(
        child=serializers.DictField(), help_text="each weighted category's share of the score"
    )
    rules_fired = serializers.ListField(child=serializers.DictField())
    explanation = serializers.CharField()
    score_level = serializers.IntegerField(help_text="the level the score alone gives, before rules")
    unknown_facts = serializers.ListField(
        child=serializers.CharField(), help_text="facts the scale reads that are unknown"
    )
    assumed_facts = serializers.DictField(help_text="facts the scale assumed because the report was silent")


class ScaleSummarySerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.CharField()
    name = serializers.CharField()
    version = serializers.CharField()
    levels = LevelSerializer(many=True)
