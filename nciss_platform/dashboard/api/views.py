"""GET /api/v1/dashboard: the dashboard's figures as JSON, for wall screens and other tools."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.api import ErrorSerializer, error_response
from nciss_platform.dashboard import rollups, services
from nciss_platform.dashboard.views import ROLES


class MayReadDashboard(BasePermission):
    message = "only the CSIRT's staff and administrators see the dashboard"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = cast(User, request.user)
        return bool(user.is_authenticated and (user.role in ROLES or user.is_superuser))


class StepSerializer(serializers.Serializer):  # type: ignore[type-arg]
    step = serializers.CharField(help_text="triage, first_response or resolution")
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True, help_text="met / (met + breached); null when none is decided")


class DashboardSerializer(serializers.Serializer):  # type: ignore[type-arg]
    as_of = serializers.DateTimeField(help_text="the period figures include every change up to this moment")
    period = serializers.DictField(help_text="days, first and last (UTC dates, both included)")
    open_by_level = serializers.DictField(child=serializers.IntegerField(), help_text="level rank -> open incidents")
    highest_open_level = serializers.IntegerField(allow_null=True)
    reported_last_24h = serializers.IntegerField()
    escalated_last_24h = serializers.IntegerField()
    reported = serializers.IntegerField(help_text="incidents reported in the period")
    compliance = StepSerializer(many=True)
    mean_time_to_triage_seconds = serializers.FloatField(allow_null=True)
    mean_time_to_resolve_seconds = serializers.FloatField(allow_null=True)
    sector_by_level = serializers.ListField(child=serializers.DictField(), help_text="{sector, level, count} per cell")
    trend = serializers.DictField(help_text="buckets (first days) and per level, class and sector a count per bucket")


class DashboardView(APIView):
    permission_classes = [MayReadDashboard]

    def get_authenticate_header(self, request: Request) -> str:
        return "Token"

    @extend_schema(
        tags=["dashboard"],
        parameters=[OpenApiParameter("period", int, enum=list(services.PERIODS), description="days (default 30)")],
        responses={
            200: DashboardSerializer,
            400: OpenApiResponse(ErrorSerializer, description="an unknown period"),
            403: OpenApiResponse(ErrorSerializer, description="reporters and partners do not see the dashboard"),
        },
    )
    def get(self, request: Request) -> Response:
        """The national picture: counts cover every incident (TLP:RED too), as on the page (docs/dashboard.md)."""
        raw = request.query_params.get("period", str(services.DEFAULT_PERIOD))
        if not raw.isdigit() or int(raw) not in services.PERIODS:
            return error_response(
                [("period", f"one of {', '.join(map(str, services.PERIODS))}")], status.HTTP_400_BAD_REQUEST
            )
        now = clock.now()
        as_of = rollups.ensure_fresh(now)
        period = services.period_ending(now, int(raw))
        open_counts = services.open_by_level()
        performance = services.performance(period)
        times = performance.times
        return Response(
            {
                "as_of": as_of,
                "period": {"days": period.days, "first": period.first, "last": period.last},
                "open_by_level": {str(rank): n for rank, n in sorted(open_counts.items())},
                "highest_open_level": max(open_counts, default=None),
                "reported_last_24h": services.reported_since(now - services.RECENT),
                "escalated_last_24h": services.escalated_count(now - services.RECENT),
                "reported": performance.reported,
                "compliance": [
                    {"step": s.step, "met": s.met, "breached": s.breached, "share": s.share}
                    for s in performance.compliance.steps
                ],
                "mean_time_to_triage_seconds": times.to_triage.total_seconds() if times.to_triage else None,
                "mean_time_to_resolve_seconds": times.to_resolve.total_seconds() if times.to_resolve else None,
                "sector_by_level": [
                    {"sector": sector, "level": level, "count": n}
                    for (sector, level), n in sorted(services.sector_by_level(period).items())
                ],
                "trend": {
                    "buckets": [first for first, _last in period.buckets],
                    **{dimension: services.trend(period, dimension) for dimension in services.DIMENSIONS},
                },
            }
        )
