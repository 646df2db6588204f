"""The calibration API: drafts (create, read, change), publishing, versions, re-assessment, what-if.

Scale owners and administrators only (anyone else: 403). Bad input and invalid definitions:
400 with ``{"error", "errors": [{"path", "reason"}]}``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from nciss_platform import api
from nciss_platform.api import error_response
from nciss_platform.calibration import analysis, services
from nciss_platform.calibration.access import may_calibrate
from nciss_platform.calibration.api import serializers as s
from nciss_platform.calibration.models import ScaleDraft, ScaleVersion

documented = api.documented(
    "calibration",
    api.ErrorResponses({401: "not signed in", 403: "only scale owners and administrators", 404: "no such item"}),
)


class ScaleOwners(BasePermission):
    message = "only scale owners and administrators may use the calibration API"

    def has_permission(self, request: Request, view: Any) -> bool:
        return may_calibrate(request.user)


PERIOD = OpenApiParameter("period", str, enum=list(analysis.PERIODS), description="days of history (default: all)")


@extend_schema_view(
    list=documented("list_scale_drafts", "Drafts of scales", s.DraftSerializer(many=True), 401, 403),
    retrieve=documented("get_scale_draft", "One draft, with its validation", s.DraftSerializer, 401, 403, 404),
    create=documented(
        "create_scale_draft",
        "Start a draft (from a definition, or the scale's current one)",
        s.DraftSerializer,
        400,
        401,
        403,
        ok=201,
    ),
    partial_update=documented(
        "update_scale_draft",
        "Change a draft's definition (kept even when invalid)",
        s.DraftSerializer,
        400,
        401,
        403,
        404,
        request=s.DraftUpdateSerializer,
    ),
)
class DraftViewSet(api.ServiceViewSet):
    serializer_class = s.DraftSerializer
    permission_classes = [IsAuthenticated, ScaleOwners]

    def get_queryset(self) -> QuerySet[ScaleDraft]:
        return ScaleDraft.objects.select_related("author")

    def perform_create(self, serializer: s.DraftSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.create_draft(
            actor=self.request.user, scale_id=data["scale_id"], source=data.get("source")
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        draft = self.get_object()
        body = s.DraftUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        draft = services.update_draft(actor=request.user, draft=draft, source=body.validated_data["source"])
        return Response(s.DraftSerializer(draft).data)

    @documented(
        "publish_scale_draft",
        "Publish a valid draft as a new version",
        s.VersionSerializer,
        400,
        401,
        403,
        404,
        ok=201,
        request=s.PublishSerializer,
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        draft = self.get_object()
        body = s.PublishSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = services.publish_draft(actor=request.user, draft=draft, **body.validated_data)
        return Response(s.VersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @documented(
        "scale_draft_what_if",
        "What the draft would change on past incidents",
        s.WhatIfSerializer,
        400,
        401,
        403,
        404,
        parameters=[PERIOD],
    )
    @action(detail=True, methods=["get"], url_path="what-if")
    def what_if(self, request: Request, pk: str | None = None) -> Response:
        draft = self.get_object()
        period = request.query_params.get("period", "all")
        if period not in analysis.PERIODS:
            return error_response([("period", f"one of {', '.join(analysis.PERIODS)}")], status.HTTP_400_BAD_REQUEST)
        result = analysis.what_if(draft, period)
        body = result.to_dict()
        red = analysis.red_references(list(result.history.references))
        cells: dict[str, list[str]] = {}
        for before, after, reference in zip(result.before, result.after, result.history.references, strict=True):
            if reference not in red:  # counted in the matrix, never named
                cells.setdefault(f"{int(before)},{int(after)}", []).append(reference)
        body["cells"] = cells
        body["movers"] = [m for m in body["movers"] if m["reference"] not in red]
        return Response(body)


@extend_schema_view(
    list=documented("list_scale_versions", "Published versions of scales", s.VersionSerializer(many=True), 401, 403),
    retrieve=documented("get_scale_version", "One published version", s.VersionSerializer, 401, 403, 404),
)
class VersionViewSet(api.ServiceErrors, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):  # type: ignore[type-arg]
    serializer_class = s.VersionSerializer
    permission_classes = [IsAuthenticated, ScaleOwners]

    def get_queryset(self) -> QuerySet[ScaleVersion]:
        return ScaleVersion.objects.select_related("published_by")

    @documented(
        "reassess_open_incidents",
        "Re-assess every open incident on this version (in effect, national scale)",
        s.ReassessmentSerializer,
        400,
        401,
        403,
        404,
        request=None,
    )
    @action(detail=True, methods=["post"])
    def reassess(self, request: Request, pk: str | None = None) -> Response:
        done = services.reassess_open_incidents(version=self.get_object(), actor=request.user)
        changed = [{"reference": r, "before": b, "after": a} for r, b, a in done.changed]
        return Response({"version": done.version.pk, "assessed": done.assessed, "changed": changed})
