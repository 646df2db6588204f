"""Import uploads and export downloads over the API (thin over ``interop.services``)."""

from __future__ import annotations

from typing import cast

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nciss.interop import formats
from nciss_platform.accounts.models import User
from nciss_platform.api import ErrorSerializer, error_response
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents.models import TLP
from nciss_platform.interop.services import import_uploads
from nciss_platform.interop.views import export_download

_SUMMARY = inline_serializer(
    "ImportSummary",
    {
        "format": serializers.CharField(),
        "read": serializers.IntegerField(),
        "imported": serializers.IntegerField(),
        "already_imported": serializers.IntegerField(),
        "rejected": serializers.IntegerField(),
        "mapped_fields": serializers.IntegerField(),
        "unmapped_fields": serializers.IntegerField(),
        "rejections": inline_serializer(
            "Rejection",
            {
                "file": serializers.CharField(),
                "record": serializers.CharField(),
                "field": serializers.CharField(),
                "reason": serializers.CharField(),
            },
            many=True,
        ),
        "incidents": serializers.ListField(child=serializers.CharField()),
    },
)


class ImportView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Import incidents from files",
        description="CSIRT staff upload VERIS, STIX 2.1, MISP, IntelMQ or CSV files (`file`, repeatable; `mapping` "
        "for CSV). Every record becomes an incident or is listed in `rejections`; re-importing creates no duplicates.",
        request={
            "multipart/form-data": inline_serializer(
                "ImportRequest",
                {
                    "format": serializers.ChoiceField(choices=formats.IMPORT_FORMATS),
                    "file": serializers.ListField(child=serializers.FileField()),
                    "mapping": serializers.FileField(required=False),
                    "tlp": serializers.ChoiceField(choices=TLP.values, required=False),
                },
            )
        },
        responses={200: _SUMMARY, 400: ErrorSerializer, 403: ErrorSerializer},
        tags=["interop"],
    )
    def post(self, request: Request) -> Response:
        try:
            summary = import_uploads(
                actor=cast(User, request.user),
                fmt=str(request.data.get("format", "")),
                uploads=request.FILES.getlist("file"),
                mapping=request.FILES.get("mapping"),
                default_tlp=str(request.data.get("tlp", TLP.AMBER)),
            )
        except ServiceError as e:
            return error_response(e.errors, 400)
        except NotAllowed as e:
            return error_response([("body", str(e))], 403)
        return Response(summary.to_dict())


class ExportView(APIView):
    @extend_schema(
        summary="Export incidents",
        description="The incidents the caller may see (partners: what was shared with them, as shared) as a STIX 2.1 "
        "bundle, MISP events, VERIS records or CSV. `incident` (repeatable) picks incidents by reference.",
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(formats.EXPORT_FORMATS), required=True),
            OpenApiParameter("incident", OpenApiTypes.STR, many=True),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            400: ErrorSerializer,
            404: ErrorSerializer,
        },
        tags=["interop"],
    )
    def get(self, request: Request) -> HttpResponse | Response:
        try:
            return export_download(
                cast(User, request.user),
                request.query_params.get("format", ""),
                request.query_params.getlist("incident"),
            )
        except ServiceError as e:
            return error_response(e.errors, 400)
        except Http404 as e:
            return error_response([("incident", str(e))], 404)
