"""The statistics over the API, for the CSIRT's analysts and coordinators (thin over ``reports.periodic``)."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.api import ErrorSerializer, error_response
from nciss_platform.errors import ServiceError
from nciss_platform.incidents import access
from nciss_platform.reports.periodic import KINDS, periodic_report

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]

_ROW = inline_serializer(
    "StatisticsRow",
    {
        "period": serializers.CharField(help_text="the day or month of a time series, else empty"),
        "key": serializers.CharField(help_text="the machine value: a level's rank, a sector id, an RSIT class ..."),
        "label": serializers.CharField(help_text="in the language asked"),
        "value": serializers.FloatField(allow_null=True, help_text="null when hidden or not known"),
        "shown": serializers.CharField(help_text='as the report writes it: "1 234", "<5", "x"'),
    },
    many=True,
)
_STATISTICS = inline_serializer(
    "Statistics",
    {
        "kind": serializers.CharField(),
        "period": serializers.CharField(),
        "title": serializers.CharField(),
        "tlp": serializers.CharField(),
        "tables": inline_serializer(
            "StatisticsTable",
            {"table": serializers.CharField(), "title": serializers.CharField(), "rows": _ROW},
            many=True,
        ),
    },
)


class StatisticsView(APIView):
    @extend_schema(
        summary="Periodic statistics",
        description="The tables behind a report (the CSV's rows): `monthly` (period 2026-11), `annual` (2026), "
        "`public` (anonymised, small counts hidden; a month, quarter or year) or `nis2-quarterly` (2026-Q3, the NIS2 "
        "summary for ENISA). CSIRT analysts and coordinators only.",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(KINDS)),
            OpenApiParameter("period", OpenApiTypes.STR, required=True, description="2026-11, 2026-Q3 or 2026"),
            OpenApiParameter("lang", OpenApiTypes.STR, enum=LANGUAGE_CODES, description="the labels' language"),
        ],
        responses={200: _STATISTICS, 400: ErrorSerializer, 403: ErrorSerializer},
        tags=["statistics"],
    )
    def get(self, request: Request, kind: str) -> Response:
        if not access.can_manage(cast(User, request.user)):
            return error_response([("body", "only the CSIRT's analysts and coordinators may read statistics")], 403)
        lang = request.query_params.get("lang") or cast(User, request.user).language
        if lang not in LANGUAGE_CODES:
            return error_response([("lang", f"must be one of {', '.join(LANGUAGE_CODES)}")], 400)
        try:
            found = periodic_report(kind, request.query_params.get("period", ""), lang=lang, now=clock.now())
        except ServiceError as e:
            return error_response(e.errors, 400)
        tables = found.figures.tables
        return Response(
            {
                "kind": kind,
                "period": found.figures.period.code,
                "title": found.report.title,
                "tlp": found.report.tlp,
                "tables": [
                    {
                        "table": table.name,
                        "title": table.title,
                        "rows": [
                            {
                                "period": row.period,
                                "key": row.key,
                                "label": row.label,
                                "value": None if row.hidden else row.value,
                                "shown": row.shown,
                            }
                            for row in table.rows
                        ],
                    }
                    for table in tables
                ],
            }
        )
