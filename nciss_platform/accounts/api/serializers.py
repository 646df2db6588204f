"""Shapes of the accounts API: tokens, the caller, organisations and users."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from nciss_platform.accounts.access import is_administrator
from nciss_platform.accounts.models import Organisation, User


class TokenRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=12,
        help_text="the current code of the authenticator app: required for CSIRT staff and administrators",
    )


class TokenSerializer(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField(help_text="send it as `Authorization: Token <token>`")
    username = serializers.CharField()


class OrganisationSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    is_foreign = serializers.BooleanField(read_only=True, help_text="outside the deployment's country (NCISS_COUNTRY)")

    class Meta:
        model = Organisation
        fields = [
            "slug",
            "name",
            "kind",
            "sector",
            "criticality",
            "size",
            "entity_type",
            "country",
            "is_foreign",
            "annual_turnover_eur",
            "preferred_scale",
            "language",
            "reporting_calendar",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["slug"].read_only = True  # the URL of an organisation never changes
        return fields


class OrganisationBriefSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Organisation
        fields = ["slug", "name", "kind", "country"]


class UserSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    organisation = serializers.SlugRelatedField(slug_field="slug", queryset=Organisation.objects.all())
    password = serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="checked by the password rules",
    )
    two_factor_enrolled = serializers.BooleanField(source="totp_confirmed", read_only=True)

    class Meta:
        model = User
        fields = [
            "username",
            "password",
            "first_name",
            "last_name",
            "email",
            "role",
            "organisation",
            "language",
            "is_active",
            "two_factor_enrolled",
            "date_joined",
            "last_login",
        ]
        read_only_fields = ["is_active", "date_joined", "last_login"]


class TwoFactorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    required = serializers.BooleanField(help_text="this account must give a one-time code at sign-in")
    enrolled = serializers.BooleanField(help_text="an authenticator app is set up")


class MeSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    organisation = OrganisationBriefSerializer(read_only=True, allow_null=True)
    two_factor = serializers.SerializerMethodField()
    is_administrator = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "username",
            "first_name",
            "last_name",
            "email",
            "role",
            "organisation",
            "language",
            "is_administrator",
            "two_factor",
        ]

    @extend_schema_field(TwoFactorSerializer)
    def get_two_factor(self, user: User) -> dict[str, bool]:
        return TwoFactorSerializer({"required": user.needs_second_factor, "enrolled": user.totp_confirmed}).data

    def get_is_administrator(self, user: User) -> bool:
        return is_administrator(user)
