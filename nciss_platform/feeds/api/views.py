"""Feed events over HTTP: submitting a batch, its status, the dead letters (thin over ``feeds.intake``).

``POST feeds/events`` takes IntelMQ events as JSON Lines or a JSON array and answers 202 once the
body is stored; the batch is ingested in the background (``GET feeds/batches/<id>`` shows its
status and counts). Analysts, coordinators, administrators and feed service accounts (permission
``feeds.submit_events``) submit; anyone else gets 403.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nciss_platform.accounts.models import User
from nciss_platform.api import BODY, ErrorSerializer, error_response
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.feeds import intake
from nciss_platform.feeds.models import DeadLetter, FeedBatch
from nciss_platform.feeds.services import may_ingest

TAG = "feeds"


class _RawBody(BaseParser):
    """Declares the media types the events come in; the view reads the body itself (with its own size limit)."""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return None


class BatchSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    url = serializers.SerializerMethodField()

    class Meta:
        model = FeedBatch
        fields = ["id", "url", "status", "received_at", "finished_at", "events", "size", "counts", "error"]

    def get_url(self, batch: FeedBatch) -> str:
        return reverse("api-feed-batch", args=[batch.pk])


class DeadLetterSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = DeadLetter
        fields = ["id", "source", "position", "field", "reason", "raw", "received_at"]


class EventsView(APIView):
    parser_classes = [_RawBody]

    @extend_schema(
        summary="Submit feed events",
        description="IntelMQ events as JSON Lines (`application/x-ndjson`) or one JSON array. The body is stored, "
        "then ingested in the background: 202 with the batch and its `Location`. Events that fail the checks "
        "become dead letters; a body without one valid event is 400. 413 above the size limit; 429 with "
        "`Retry-After` while the backlog of pending batches is full.",
        request={"application/x-ndjson": OpenApiTypes.BINARY, "application/json": OpenApiTypes.OBJECT},
        responses={
            202: BatchSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            413: ErrorSerializer,
            429: OpenApiResponse(ErrorSerializer, description="the backlog is full: retry after `Retry-After` s"),
        },
        tags=[TAG],
    )
    def post(self, request: Request) -> Response:
        limit = settings.NCISS_FEED_MAX_REQUEST_BYTES
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        try:
            if length > limit:
                raise intake.TooLarge(
                    [(BODY, f"{length} bytes: at most {limit} per request, send the rest separately")]
                )
            body = request._request.read(limit + 1)  # not .body: Django's form-size limit is not this one
            batch = intake.receive(actor=cast(User, request.user), body=body)
        except NotAllowed as e:
            return error_response([(BODY, str(e))], 403)
        except intake.TooLarge as e:
            return error_response(e.errors, 413)
        except ServiceError as e:
            return error_response(e.errors, 400)
        except intake.Backlogged as e:
            response = error_response([(BODY, e.reason)], 429)
            response["Retry-After"] = str(e.retry_after)
            return response
        data = BatchSerializer(batch).data
        return Response(data, status=202, headers={"Location": data["url"]})


class BatchView(APIView):
    @extend_schema(
        summary="A feed batch's status and counts",
        responses={200: BatchSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        tags=[TAG],
    )
    def get(self, request: Request, pk: int) -> Response:
        user = cast(User, request.user)
        if not may_ingest(user):
            return error_response([(BODY, "only CSIRT staff, administrators and feed accounts see feed batches")], 403)
        batch = FeedBatch.objects.filter(pk=pk).first()
        if batch is None:
            return error_response([("id", f"no feed batch {pk}")], 404)
        return Response(BatchSerializer(batch).data)


class DeadLettersView(ListAPIView):  # type: ignore[type-arg]
    serializer_class = DeadLetterSerializer

    @extend_schema(
        summary="Dead letters: feed events that could not be ingested",
        description="The latest first, with where they came from, why, and the line as read. CSIRT staff and "
        "administrators.",
        parameters=[OpenApiParameter("source", OpenApiTypes.STR, description="only this file or feed")],
        responses={200: DeadLetterSerializer(many=True), 403: ErrorSerializer},
        tags=[TAG],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not intake.may_view(cast(User, request.user)):
            return error_response([(BODY, "only CSIRT staff and administrators see dead letters")], 403)
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        letters = DeadLetter.objects.order_by("-received_at", "-id")
        source = self.request.query_params.get("source")
        return letters.filter(source=source) if source else letters
