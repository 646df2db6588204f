"""The sharing API: partners read what was shared with them; the CSIRT shares and withdraws.

``/shared`` lists, for the caller, the latest share of each incident it may see
(``access.shares_visible_to``), its levels named in the requested language; any other share is
a 404. ``/incidents/{reference}/shares`` is the CSIRT's: list, share (201), and ``DELETE
/incidents/{reference}/shares/{id}`` withdraws. Errors have the API's one shape.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nciss_platform.accounts.models import User
from nciss_platform.api import ErrorResponses, ServiceErrors
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents import access
from nciss_platform.incidents.api.views import LANG, REFERENCE
from nciss_platform.incidents.models import Incident
from nciss_platform.sharing import services
from nciss_platform.sharing.access import shares_visible_to
from nciss_platform.sharing.api import serializers as s
from nciss_platform.sharing.display import share_view
from nciss_platform.sharing.models import Share
from nciss_platform.sharing.views import latest_shares

SHARE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="the share's number")


errors = ErrorResponses(
    {400: "bad input; nothing was shared or changed", 404: "nothing under this name that the caller may see"}
)


class SharingView(ServiceErrors, APIView):
    """The language check and the error shape every sharing endpoint shares."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        default = getattr(request.user, "language", "en")
        self.lang = request.query_params.get("lang", default)
        if self.lang not in dict(settings.LANGUAGES):
            raise ServiceError([("lang", f"one of {', '.join(code for code, _ in settings.LANGUAGES)}")])

    def get_authenticate_header(self, request: Request) -> str:
        return "Token"

    @property
    def user(self) -> User:
        return cast(User, self.request.user)


class SharedListView(SharingView):
    @extend_schema(
        operation_id="list_shared_incidents",
        summary="What was shared with the caller: the latest share of each incident, on its own scale",
        tags=["sharing"],
        parameters=[LANG],
        responses={200: s.SharedIncidentSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        views = [share_view(share, self.lang) for share in latest_shares(self.user)]
        return Response(s.SharedIncidentSerializer(views, many=True).data)


class SharedDetailView(SharingView):
    @extend_schema(
        operation_id="get_shared_incident",
        summary="One share as the partner received it",
        tags=["sharing"],
        parameters=[SHARE_ID, LANG],
        responses={200: s.SharedIncidentSerializer, **errors(400, 401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        share = shares_visible_to(self.user).filter(pk=pk).first()
        if share is None:
            raise NotFound(f"nothing shared with you as {pk}")
        return Response(s.SharedIncidentSerializer(share_view(share, self.lang)).data)


class _IncidentShares(SharingView):
    def incident(self, reference: str) -> Incident:
        found = access.visible_incidents(self.user).filter(reference=reference).first()
        if found is None:
            raise NotFound(f"no incident {reference}")
        return found

    def shares(self, incident: Incident) -> Any:
        return incident.shares.select_related("incident", "organisation", "group", "shared_by").prefetch_related(
            "recipients"
        )


class IncidentSharesView(_IncidentShares):
    @extend_schema(
        operation_id="list_incident_shares",
        summary="The incident's shares with partners abroad (CSIRT staff)",
        tags=["incidents"],
        parameters=[REFERENCE, LANG],
        responses={200: s.ShareSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def get(self, request: Request, reference: str) -> Response:
        incident = self.incident(reference)
        if not access.can_manage(self.user):
            raise NotAllowed("only the CSIRT's analysts and coordinators see the shares")
        return Response(s.ShareSerializer(self.shares(incident), many=True, context={"lang": self.lang}).data)

    @extend_schema(
        operation_id="share_incident",
        summary="Share the incident with partner organisations abroad (CSIRT staff): one share each",
        tags=["incidents"],
        parameters=[REFERENCE, LANG],
        request=s.ShareRequestSerializer,
        responses={201: s.ShareSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def post(self, request: Request, reference: str) -> Response:
        incident = self.incident(reference)
        if not access.can_manage(self.user):
            raise NotAllowed("only the CSIRT's analysts and coordinators share incidents with partners")
        body = s.ShareRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        created = services.share_incident(incident=incident, actor=self.user, **body.validated_data)
        fresh = self.shares(incident).filter(pk__in=[share.pk for share in created])
        data = s.ShareSerializer(fresh, many=True, context={"lang": self.lang}).data
        return Response(data, status=status.HTTP_201_CREATED)


class IncidentShareView(_IncidentShares):
    @extend_schema(
        operation_id="revoke_incident_share",
        summary="Withdraw a share (and its earlier versions to the same organisation)",
        tags=["incidents"],
        parameters=[REFERENCE, SHARE_ID, LANG],
        request=None,
        responses={200: s.ShareSerializer, **errors(400, 401, 403, 404)},
    )
    def delete(self, request: Request, reference: str, pk: int) -> Response:
        incident = self.incident(reference)
        share: Share | None = self.shares(incident).filter(pk=pk).first()
        if share is None:
            raise NotFound(f"no share {pk} of {reference}")
        services.revoke_share(share=share, actor=self.user)
        return Response(s.ShareSerializer(share, context={"lang": self.lang}).data)
