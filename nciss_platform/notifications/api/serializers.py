"""The shapes of the notifications API: contacts, routing rules, notifications, acknowledgements."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from rest_framework import serializers

from nciss_platform.accounts.models import Organisation
from nciss_platform.notifications.forms import duration_text, parse_duration_text
from nciss_platform.notifications.models import Channel, Contact, Event, Notification, RoutingRule


class ContactSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    organisation = serializers.SlugRelatedField(slug_field="slug", queryset=Organisation.objects.all())
    channels = serializers.ListField(child=serializers.ChoiceField(choices=Channel.values), allow_empty=False)
    language = serializers.ChoiceField(choices=[code for code, _ in settings.LANGUAGES], default="en")
    webhook_secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, help_text="Signs each webhook call; never shown"
    )
    has_webhook_secret = serializers.SerializerMethodField()
    tier = serializers.IntegerField(min_value=1, default=1)

    class Meta:
        model = Contact
        fields = [
            "id",
            "name",
            "organisation",
            "function",
            "email",
            "webhook_url",
            "webhook_secret",
            "has_webhook_secret",
            "channels",
            "language",
            "tier",
            "active",
        ]

    def get_has_webhook_secret(self, contact: Contact) -> bool:
        return bool(contact.webhook_secret)


class DurationTextField(serializers.CharField):
    """A duration as ``30m``, ``2h``, ``1d`` or ``1w``; null for none."""

    def to_internal_value(self, data: Any) -> dt.timedelta | None:
        from django import forms

        try:
            return parse_duration_text(str(super().to_internal_value(data)))
        except forms.ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def to_representation(self, value: Any) -> str:
        return duration_text(value)


class RoutingRuleSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    condition = serializers.JSONField(
        required=False, help_text="A condition of the rule language (as in scale files); {} for every incident"
    )
    events = serializers.ListField(child=serializers.ChoiceField(choices=Event.values), allow_empty=False)
    organisations = serializers.SlugRelatedField(
        slug_field="slug", queryset=Organisation.objects.all(), many=True, required=False
    )
    contacts = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), many=True, required=False)
    tier = serializers.IntegerField(min_value=1, default=1)
    ack_within = DurationTextField(required=False, allow_null=True, allow_blank=True, default=None)

    class Meta:
        model = RoutingRule
        fields = [
            "id",
            "name",
            "description",
            "condition",
            "events",
            "organisations",
            "contacts",
            "tier",
            "ack_within",
            "active",
            "order",
        ]


class RuleCheckRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    condition = serializers.JSONField(help_text="The condition to check")
    incident = serializers.CharField(required=False, help_text="An incident's reference to try the condition on")


class RuleCheckSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reading = serializers.CharField(help_text="The condition in words")
    incident = serializers.CharField(allow_null=True)
    result = serializers.BooleanField(allow_null=True, help_text="true, false, or null: unknown for want of facts")
    unknown = serializers.ListField(
        child=serializers.CharField(), help_text="Facts the condition reads that are not known"
    )


class NotificationSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    incident = serializers.CharField(source="incident.reference")
    event = serializers.CharField(source="event.kind")
    contact = serializers.CharField(source="contact.name")
    organisation = serializers.CharField(source="contact.organisation.slug")
    rule = serializers.CharField(source="rule_name")
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", allow_null=True, default=None)

    class Meta:
        model = Notification
        fields = [
            "id",
            "incident",
            "event",
            "created_at",
            "contact",
            "organisation",
            "channel",
            "language",
            "subject",
            "rule",
            "reason",
            "state",
            "sent_at",
            "error",
            "ack_due_at",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledged_via",
            "escalated_at",
            "escalated_from",
        ]


class AcknowledgementRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField(help_text="The token of the acknowledgement link (the part after /ack/)")
