"""The shapes of the calibration API: drafts, published versions, publishing and the what-if."""

from __future__ import annotations

from rest_framework import serializers

from nciss_platform.calibration.models import ScaleDraft, ScaleVersion


class DraftSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    author = serializers.CharField(source="author.username", read_only=True)
    valid = serializers.BooleanField(source="is_valid", read_only=True)
    errors = serializers.SerializerMethodField(help_text="what is wrong with the definition, by path")
    warnings = serializers.SerializerMethodField()
    published_as = serializers.PrimaryKeyRelatedField(read_only=True)
    source = serializers.CharField(
        required=False, trim_whitespace=False, help_text="the definition as YAML or JSON; default: the current one"
    )

    class Meta:
        model = ScaleDraft
        fields = [
            "id",
            "scale_id",
            "source",
            "author",
            "created_at",
            "updated_at",
            "valid",
            "errors",
            "warnings",
            "published_as",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_errors(self, draft: ScaleDraft) -> list[dict[str, str]]:
        return [{"path": path, "reason": reason} for path, reason in draft.errors]

    def get_warnings(self, draft: ScaleDraft) -> list[dict[str, str]]:
        return [{"path": path, "reason": reason} for path, reason in draft.warnings]


class DraftUpdateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    source = serializers.CharField(trim_whitespace=False, help_text="the definition as YAML or JSON")


class VersionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    published_by = serializers.CharField(source="published_by.username", read_only=True)

    class Meta:
        model = ScaleVersion
        fields = [
            "id",
            "scale_id",
            "version",
            "change_note",
            "effective_from",
            "published_by",
            "published_at",
            "definition",
        ]


class PublishSerializer(serializers.Serializer):  # type: ignore[type-arg]
    change_note = serializers.CharField(help_text="what changed and why")
    effective_from = serializers.DateTimeField(required=False, help_text="default: now")


class ReassessmentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    version = serializers.IntegerField()
    assessed = serializers.IntegerField(help_text="open incidents re-assessed")
    changed = serializers.ListField(
        child=serializers.DictField(), help_text='[{"reference", "before", "after"}] for each level that changed'
    )


class WhatIfSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """``nciss.calibration.WhatIf.to_dict()``: matrix (rows: level now, columns: level on the draft), moves,
    distribution against the target, effect per sector and classification, movers with why."""

    draft = serializers.DictField()
    current = serializers.DictField()
    incidents = serializers.IntegerField()
    matrix = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))
    moved = serializers.IntegerField()
    up = serializers.IntegerField()
    down = serializers.IntegerField()
    distribution = serializers.ListField(child=serializers.DictField())
    current_distribution = serializers.ListField(child=serializers.IntegerField())
    distance_to_target = serializers.FloatField()
    by_sector = serializers.ListField(child=serializers.DictField())
    by_classification = serializers.ListField(child=serializers.DictField())
    movers = serializers.ListField(child=serializers.DictField())
    cells = serializers.DictField(
        help_text='"<before>,<after>" -> the references of the incidents in that cell (TLP:RED ones counted, not named)'
    )
