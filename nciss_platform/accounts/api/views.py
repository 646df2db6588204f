"""The accounts API: API tokens, the caller, organisations and users.

Thin over ``services``: ``NotAllowed`` is a 403, ``ServiceError`` a 400, in the one error
shape (``nciss_platform.api``). Organisations: analysts, coordinators and administrators
see all, reporters only their own (any other is a 404); administrators create and change
them. Users: administrators only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from nciss_platform import clock
from nciss_platform.accounts import services, throttle, totp
from nciss_platform.accounts.access import is_administrator, visible_organisations
from nciss_platform.accounts.api.serializers import (
    MeSerializer,
    OrganisationSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UserSerializer,
)
from nciss_platform.accounts.middleware import allowed_before_second_factor
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.api import BODY, ErrorResponses, error_response

errors = ErrorResponses({429: "too many failed sign-ins: see the Retry-After header"})


class IsAdministrator(BasePermission):
    message = "only administrators may do this"

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_administrator(request.user)


class IsAdministratorOrReadOnly(IsAdministrator):
    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or is_administrator(request.user)


def _call(service: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a service; its refusals become the API's 403 and 400."""
    try:
        return service(**kwargs)
    except services.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    except services.ServiceError as exc:
        reasons: dict[str, list[str]] = {}
        for field, reason in exc.errors:
            reasons.setdefault(field, []).append(reason)
        raise ValidationError(reasons) from None


# ---------------------------------------------------------------- tokens


@allowed_before_second_factor  # it checks the one-time code itself and uses no session
class TokenView(APIView):
    authentication_classes = [TokenAuthentication]  # never the session: no CSRF, and DELETE needs a token

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(
        operation_id="create_token",
        tags=["auth"],
        summary="Get an API token with a username, a password and (for staff and administrators) a one-time code",
        description=(
            "Throttled like the sign-in page: after too many failures for the username or from the address, "
            "requests are refused with 429 and a Retry-After header. Accounts that need two-factor "
            "authentication must have set up their authenticator on the web first."
        ),
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **errors(400, 403, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        query = TokenRequestSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        username, password = query.validated_data["username"], query.validated_data["password"]
        ip = throttle.client_ip(request._request)
        lock = throttle.lockout(username, ip)
        if lock is not None:
            return _locked(lock)
        user = authenticate(request._request, username=username, password=password)
        if user is None:
            lock = throttle.failed(username=username, ip=ip, stage="token")
            return _locked(lock) if lock else error_response([(BODY, "wrong username or password")], 400)
        step = None
        if user.needs_second_factor:
            if not user.totp_confirmed:
                reason = "this account has no authenticator app yet: sign in on the web once to set one up"
                return error_response([("otp", reason)], 403)
            code = query.validated_data.get("otp", "")
            if not code:
                return error_response([("otp", "required: this account needs the code of its authenticator app")], 400)
            step = totp.matching_step(user.totp_secret, code, clock.now().timestamp())
            if step is None or throttle.otp_step_used(user, step):
                lock = throttle.failed(username=username, ip=ip, stage="otp", user=user)
                return _locked(lock) if lock else error_response([("otp", "wrong code, or a code already used")], 400)
        throttle.succeeded(user=user, ip=ip, stage="token", otp_step=step)
        token = services.issue_token(user=user)
        return Response({"token": token.key, "username": user.username})

    @extend_schema(
        operation_id="delete_token",
        tags=["auth"],
        summary="Revoke the API token the request is made with",
        request=None,
        responses={204: None, **errors(401)},
    )
    def delete(self, request: Request) -> Response:
        services.revoke_token(actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _locked(lock: throttle.Lockout) -> Response:
    reason = f"too many failed sign-in attempts: try again in {lock.minutes_left} minutes"
    response = error_response([(BODY, reason)], 429)
    response["Retry-After"] = str(lock.retry_after)
    return response


# ---------------------------------------------------------------- the caller


class MeView(APIView):
    @extend_schema(
        operation_id="me",
        tags=["accounts"],
        summary="The signed-in user: role, organisation, two-factor status",
        responses={200: MeSerializer, **errors(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


# ---------------------------------------------------------------- organisations


@extend_schema_view(
    list=extend_schema(
        operation_id="list_organisations",
        tags=["accounts"],
        summary="Organisations: all of them for CSIRT staff and administrators, their own for reporters",
        responses={200: OrganisationSerializer(many=True), **errors(401)},
    ),
    retrieve=extend_schema(
        operation_id="get_organisation",
        tags=["accounts"],
        summary="One organisation",
        responses={200: OrganisationSerializer, **errors(401, 404)},
    ),
    create=extend_schema(
        operation_id="create_organisation",
        tags=["accounts"],
        summary="Create an organisation (administrators)",
        responses={201: OrganisationSerializer, **errors(400, 401, 403)},
    ),
    partial_update=extend_schema(
        operation_id="update_organisation",
        tags=["accounts"],
        summary="Change an organisation (administrators); its slug never changes",
        responses={200: OrganisationSerializer, **errors(400, 401, 403, 404)},
    ),
)
class OrganisationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, GenericViewSet
):
    serializer_class = OrganisationSerializer
    permission_classes = [IsAuthenticated, IsAdministratorOrReadOnly]
    lookup_field = "slug"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Organisation]:
        return visible_organisations(self.request.user)

    def perform_create(self, serializer: OrganisationSerializer) -> None:
        serializer.instance = _call(services.create_organisation, actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: OrganisationSerializer) -> None:
        serializer.instance = _call(
            services.update_organisation,
            actor=self.request.user,
            organisation=serializer.instance,
            **serializer.validated_data,
        )


# ---------------------------------------------------------------- users


@extend_schema_view(
    list=extend_schema(
        operation_id="list_users",
        tags=["accounts"],
        summary="Users (administrators)",
        parameters=[
            OpenApiParameter("role", str, enum=User.Role.values, description="only users with this role"),
            OpenApiParameter("organisation", str, description="only users of the organisation with this slug"),
        ],
        responses={200: UserSerializer(many=True), **errors(401, 403)},
    ),
    retrieve=extend_schema(
        operation_id="get_user",
        tags=["accounts"],
        summary="One user (administrators)",
        responses={200: UserSerializer, **errors(401, 403, 404)},
    ),
    create=extend_schema(
        operation_id="create_user",
        tags=["accounts"],
        summary="Create a user with a role in an organisation (administrators)",
        responses={201: UserSerializer, **errors(400, 401, 403)},
    ),
)
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, GenericViewSet):
    serializer_class = UserSerializer
    permission_classes = [IsAuthenticated, IsAdministrator]
    lookup_field = "username"
    lookup_value_regex = r"[\w.@+-]+"

    def get_queryset(self) -> QuerySet[User]:
        users = User.objects.select_related("organisation").order_by("username")
        role = self.request.query_params.get("role")
        if role:
            users = users.filter(role=role)
        organisation = self.request.query_params.get("organisation")
        if organisation:
            users = users.filter(organisation__slug=organisation)
        return users

    def perform_create(self, serializer: UserSerializer) -> None:
        serializer.instance = _call(services.create_user, actor=self.request.user, **serializer.validated_data)
