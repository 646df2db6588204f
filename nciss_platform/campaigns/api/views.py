"""The campaigns API, for the CSIRT's analysts and coordinators (anyone else: 403).

``GET /campaigns`` lists them, open first and by level, at most ``MAX_LISTED`` (``status``
filters); ``GET
/campaigns/{reference}`` gives one with its facts, their assessment on the national scale and
the references of the member incidents the caller may see (a TLP:RED member only to its named
recipients). Errors have the API's one shape.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.db.models import Case, IntegerField, Value, When
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import nciss
from nciss_platform.accounts.models import User
from nciss_platform.api import ErrorResponses, error_response
from nciss_platform.campaigns.api import serializers as s
from nciss_platform.campaigns.models import Campaign
from nciss_platform.errors import ServiceError
from nciss_platform.incidents import access
from nciss_platform.incidents.api.views import LANG
from nciss_platform.incidents.services import national_scale

TAG = "campaigns"
errors = ErrorResponses(
    {
        400: "bad input",
        403: "only the CSIRT's analysts and coordinators see campaigns",
        404: "no campaign under this reference",
    }
)
REFERENCE = OpenApiParameter("reference", str, OpenApiParameter.PATH, description="e.g. CMP-2026-0001")
STATUS = OpenApiParameter("status", str, enum=Campaign.Status.values, description="only open or only closed ones")
MAX_LISTED = 500


class IsCsirtStaff(BasePermission):
    message = "only the CSIRT's analysts and coordinators see campaigns"

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user.is_authenticated and access.can_manage(cast(User, request.user)))


class CampaignView(APIView):
    """The staff check, the language and the error shape both endpoints share."""

    permission_classes = [IsCsirtStaff]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.lang = request.query_params.get("lang", getattr(request.user, "language", "en"))
        if self.lang not in dict(settings.LANGUAGES):
            raise ServiceError([("lang", f"one of {', '.join(code for code, _ in settings.LANGUAGES)}")])
        self.scale = national_scale()

    def get_authenticate_header(self, request: Request) -> str:
        return "Token"

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ServiceError):
            return error_response(exc.errors, status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)

    def context(self, **more: Any) -> dict[str, Any]:
        return {"scale": self.scale, "lang": self.lang, **more}


class CampaignListView(CampaignView):
    @extend_schema(
        operation_id="list_campaigns",
        summary="Campaigns, open ones first by level, then the latest closed (CSIRT staff)",
        tags=[TAG],
        parameters=[STATUS, LANG],
        responses={200: s.CampaignSerializer(many=True), **errors(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        campaigns = Campaign.objects.all()
        wanted = request.query_params.get("status")
        if wanted is not None:
            if wanted not in Campaign.Status.values:
                raise ServiceError([("status", f"one of {', '.join(Campaign.Status.values)}")])
            campaigns = campaigns.filter(status=wanted)
        open_first = Case(
            When(status=Campaign.Status.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        ordered = campaigns.order_by(open_first, "-level", "-last_seen")[:MAX_LISTED]
        return Response(s.CampaignSerializer(ordered, many=True, context=self.context()).data)


class CampaignDetailView(CampaignView):
    @extend_schema(
        operation_id="get_campaign",
        summary="One campaign: its folded facts, their assessment, its incidents the caller may see (CSIRT staff)",
        tags=[TAG],
        parameters=[REFERENCE, LANG],
        responses={200: s.CampaignDetailSerializer, **errors(400, 401, 403, 404)},
    )
    def get(self, request: Request, reference: str) -> Response:
        campaign = Campaign.objects.filter(reference=reference).first()
        if campaign is None:
            raise NotFound(f"no campaign {reference}")
        visible = access.visible_incidents(cast(User, request.user)).filter(campaigns=campaign)
        context = self.context(
            assessment=nciss.assess(self.scale, campaign.facts, self.lang).to_dict(),
            incidents=visible.order_by("reference").values_list("reference", flat=True),
        )
        return Response(s.CampaignDetailSerializer(campaign, context=context).data)
