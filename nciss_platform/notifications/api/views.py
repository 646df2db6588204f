"""The notifications API: the stakeholder directory, routing rules, notifications, acknowledgement.

CSIRT staff and administrators read the directory and the rules; coordinators and administrators
change them (anyone else: 403). Notifications are listed per incident for those who may see the
incident. ``POST acknowledgements`` takes the token of a notification's link and needs no sign-in:
the signature is the credential (a webhook receiver acknowledges this way).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from nciss.rules import ConditionError
from nciss_platform import api
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents.access import visible_incidents
from nciss_platform.notifications import access, services
from nciss_platform.notifications.api import serializers as s
from nciss_platform.notifications.models import Contact, Notification, RoutingRule

documented = api.documented("notifications", api.ErrorResponses())


class DirectoryPermission(BasePermission):
    """Reading: CSIRT staff and administrators; changing: coordinators and administrators."""

    message = "only the CSIRT's staff and administrators see the directory; coordinators and administrators change it"

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS") or getattr(view, "action", "") == "check":
            return access.may_view_directory(request.user)
        return access.may_edit_directory(request.user)


@extend_schema_view(
    list=documented("list_contacts", "The stakeholder directory", s.ContactSerializer(many=True), 401, 403),
    retrieve=documented("get_contact", "One contact", s.ContactSerializer, 401, 403, 404),
    create=documented(
        "create_contact", "Add a contact (coordinators, administrators)", s.ContactSerializer, 400, 401, 403, ok=201
    ),
    partial_update=documented(
        "update_contact", "Change a contact (coordinators, administrators)", s.ContactSerializer, 400, 401, 403, 404
    ),
)
class ContactViewSet(api.ServiceViewSet):
    serializer_class = s.ContactSerializer
    permission_classes = [IsAuthenticated, DirectoryPermission]

    def get_queryset(self) -> QuerySet[Contact]:
        return Contact.objects.select_related("organisation")

    def perform_create(self, serializer: s.ContactSerializer) -> None:
        serializer.instance = services.save_contact(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: s.ContactSerializer) -> None:
        serializer.instance = services.save_contact(
            actor=self.request.user, contact=serializer.instance, **serializer.validated_data
        )


@extend_schema_view(
    list=documented(
        "list_routing_rules",
        "The routing rules, in the order they are read",
        s.RoutingRuleSerializer(many=True),
        401,
        403,
    ),
    retrieve=documented("get_routing_rule", "One routing rule", s.RoutingRuleSerializer, 401, 403, 404),
    create=documented(
        "create_routing_rule",
        "Add a routing rule (coordinators, administrators)",
        s.RoutingRuleSerializer,
        400,
        401,
        403,
        ok=201,
    ),
    partial_update=documented(
        "update_routing_rule",
        "Change a routing rule (coordinators, administrators)",
        s.RoutingRuleSerializer,
        400,
        401,
        403,
        404,
    ),
)
class RoutingRuleViewSet(api.ServiceViewSet):
    serializer_class = s.RoutingRuleSerializer
    permission_classes = [IsAuthenticated, DirectoryPermission]

    def get_queryset(self) -> QuerySet[RoutingRule]:
        return RoutingRule.objects.prefetch_related("organisations", "contacts")

    def _save(self, serializer: s.RoutingRuleSerializer, rule: RoutingRule | None) -> None:
        data = dict(serializer.validated_data)
        organisations, contacts = data.pop("organisations", None), data.pop("contacts", None)
        serializer.instance = services.save_rule(
            actor=self.request.user, rule=rule, organisations=organisations, contacts=contacts, **data
        )

    def perform_create(self, serializer: s.RoutingRuleSerializer) -> None:
        self._save(serializer, None)

    def perform_update(self, serializer: s.RoutingRuleSerializer) -> None:
        self._save(serializer, serializer.instance)

    @documented(
        "check_routing_condition",
        "Check a condition, and read it against an incident (nothing is sent)",
        s.RuleCheckSerializer,
        400,
        401,
        403,
        request=s.RuleCheckRequestSerializer,
    )
    @action(detail=False, methods=["post"])
    def check(self, request: Request) -> Response:
        body = s.RuleCheckRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            condition = services.parse_rule_condition(body.validated_data["condition"])
        except ConditionError as exc:
            raise ServiceError(exc.errors) from None
        reference = body.validated_data.get("incident")
        out: dict[str, Any] = {
            "reading": condition.describe() if condition else "every incident",
            "incident": reference,
            "result": None,
            "unknown": [],
        }
        if reference:
            incident = visible_incidents(request.user).filter(reference=reference).first()
            if incident is None:
                raise ServiceError([("incident", f"no incident {reference}")])
            verdict = services.evaluate(
                RoutingRule(condition=body.validated_data["condition"]), services.rule_facts(incident)
            )
            out.update(result=verdict.value, unknown=list(verdict.unknown))
        return Response(s.RuleCheckSerializer(out).data)


@extend_schema_view(
    list=documented(
        "list_notifications",
        "Who was told what about an incident, when, why and how delivery went",
        s.NotificationSerializer(many=True),
        400,
        401,
        403,
        parameters=[OpenApiParameter("incident", str, required=True, description="the incident's reference")],
    ),
)
class NotificationViewSet(api.ServiceErrors, mixins.ListModelMixin, GenericViewSet):  # type: ignore[type-arg]
    serializer_class = s.NotificationSerializer
    permission_classes = [IsAuthenticated]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Notification]:
        if not access.may_see_notifications(self.request.user):
            raise NotAllowed("only the CSIRT's staff and administrators see notifications")
        reference = self.request.query_params.get("incident", "")
        if not reference:
            raise ServiceError([("incident", "required: an incident's reference")])
        incident = visible_incidents(self.request.user).filter(reference=reference).first()
        if incident is None:
            raise ServiceError([("incident", f"no incident {reference}")])
        return Notification.objects.filter(incident=incident).select_related(
            "incident", "event", "contact__organisation", "acknowledged_by"
        )

    @documented(
        "acknowledge_notification",
        "Acknowledge a notification on the contact's behalf (analysts, coordinators)",
        s.NotificationSerializer,
        401,
        403,
        404,
        request=None,
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="the notification's id")],
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str) -> Response:
        notification = Notification.objects.select_related("incident", "contact").filter(pk=pk).first()
        if notification is None or not visible_incidents(request.user).filter(pk=notification.incident_id).exists():
            raise NotFound(f"no notification {pk}")
        notification = services.acknowledge(notification=notification, actor=request.user, via="api")
        return Response(s.NotificationSerializer(notification).data)


class AcknowledgementView(api.ServiceErrors, APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []  # the token is the credential; no session, so no CSRF check

    @documented(
        "acknowledge_by_token",
        "Acknowledge a notification with its link's token (no sign-in needed)",
        s.NotificationSerializer,
        400,
        request=s.AcknowledgementRequestSerializer,
    )
    def post(self, request: Request) -> Response:
        body = s.AcknowledgementRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        notification = services.notification_for_token(body.validated_data["token"])
        notification = services.acknowledge(notification=notification, actor=None, via="api")
        return Response(s.NotificationSerializer(notification).data)
