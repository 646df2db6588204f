"""The scales API: assess facts on a scale; list the scales and read one's definition."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import nciss
from nciss_platform.api import ErrorSerializer, error_response
from nciss_platform.scales import services
from nciss_platform.scales.api.serializers import AssessmentSerializer, AssessRequestSerializer, ScaleSummarySerializer


class AssessView(APIView):
    permission_classes = [AllowAny]  # scales and assessments hold no incident data

    @extend_schema(
        operation_id="assess",
        tags=["assessment"],
        summary="Assess incident facts on a scale",
        request=AssessRequestSerializer,
        responses={200: AssessmentSerializer, 400: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        query = AssessRequestSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        given = query.validated_data
        try:
            assessment = services.assess(given["scale"], given["facts"], given["lang"])
        except nciss.ScaleError as exc:
            return error_response(exc.errors, status=400)
        except nciss.FactsError as exc:
            return error_response([(_in_facts(path), reason) for path, reason in exc.errors], status=400)
        return Response(assessment.to_dict())


class ScaleListView(APIView):
    permission_classes = [AllowAny]  # scales and assessments hold no incident data

    @extend_schema(
        operation_id="list_scales",
        tags=["scales"],
        summary="The scales on offer, the national scale first",
        responses={200: ScaleSummarySerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response([scale.summary() for scale in services.offered_scales()])


class ScaleDetailView(APIView):
    permission_classes = [AllowAny]  # scales and assessments hold no incident data

    @extend_schema(
        operation_id="get_scale",
        tags=["scales"],
        summary="A scale's full definition (the YAML document, as JSON)",
        responses={200: OpenApiTypes.OBJECT, 404: ErrorSerializer},
    )
    def get(self, request: Request, scale_id: str) -> Response:
        try:
            scale = services.find_scale(scale_id)
        except nciss.ScaleError as exc:
            return error_response(exc.errors, status=404)
        return Response(scale.definition)


def _in_facts(path: str) -> str:
    """A fact's path within the request body: ``fatalities`` is ``facts.fatalities``."""
    return path if path == "facts" else f"facts.{path}"
