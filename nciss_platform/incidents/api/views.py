"""The incidents API: the queue, reporting, and every action on an incident.

Thin over ``services``: a view parses the request, finds the incident among those the
caller may see (``access.visible_incidents``; any other reference is a 404, so a TLP:RED
incident's existence is never revealed) and calls one service. Services decide what is
allowed: ``NotAllowed`` is a 403, ``ServiceError`` and ``FilterError`` a 400, all in the
one error shape (``nciss_platform.api``). A 4xx changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils.functional import cached_property
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.viewsets import GenericViewSet

import nciss
from nciss_platform import api, clock
from nciss_platform.api import error_response
from nciss_platform.incidents import services
from nciss_platform.incidents.access import visible_incidents
from nciss_platform.incidents.api import serializers as s
from nciss_platform.incidents.filters import FilterError, filter_incidents
from nciss_platform.incidents.models import Incident, TimelineEntry
from nciss_platform.incidents.services import NotAllowed, ServiceError

TAG = "incidents"
operation = api.documented(TAG, api.ErrorResponses({404: "no such incident among those the caller may see"}))
REFERENCE = OpenApiParameter("reference", str, OpenApiParameter.PATH, description="e.g. NCISS-2026-000123")
LANG = OpenApiParameter(
    "lang", str, enum=[code for code, _ in settings.LANGUAGES], description="language of level and deadline names"
)
FILTERS = [
    OpenApiParameter("status", str, description="statuses, comma-separated; `open` for every open one"),
    OpenApiParameter("level", str, description="levels (ranks on the national scale), comma-separated"),
    OpenApiParameter("level_min", int, description="at least this level"),
    OpenApiParameter("sector", str, description="sector ids, comma-separated"),
    OpenApiParameter("classification", str, description="RSIT `class:type`, or a class"),
    OpenApiParameter("organisation", str, description="the reporting or an affected organisation's slug"),
    OpenApiParameter("assignee", str, description="a username, `me` or `none`"),
    OpenApiParameter("reported_from", OpenApiTypes.DATE, description="reported on or after (YYYY-MM-DD)"),
    OpenApiParameter("reported_to", OpenApiTypes.DATE, description="reported on or before (YYYY-MM-DD)"),
    OpenApiParameter("overdue", str, enum=["1"], description="`1`: only incidents past their response target"),
    OpenApiParameter("q", str, description="search the reference, title and description"),
    OpenApiParameter(
        "ordering",
        str,
        enum=["queue", "-reported_at", "reported_at", "-level"],
        description="`queue` (default): level, then time left on the response target",
    ),
    LANG,
]


class CappedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Counts at most ``CAP`` rows: a wide list at a million incidents never pays a full COUNT."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.CAP + 1].count()  # type: ignore[no-any-return]


class IncidentPagination(PageNumberPagination):
    """Page numbers; ``count`` stops at 10 001 (read it as "more than 10 000")."""

    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = CappedCountPaginator


def documented(
    operation_id: str,
    summary: str,
    request: Any = None,
    response: Any = None,
    *,
    codes: tuple[int, ...] = (400, 401, 403, 404),
    ok: int = 200,
    **more: Any,
) -> Any:
    """``extend_schema`` for one operation; ``detail=False`` for one without a reference in its path."""
    parameters = more.pop("parameters", [])
    if LANG not in parameters:
        parameters = [*parameters, LANG]
    if more.pop("detail", True):
        parameters = [REFERENCE, *parameters]
    return operation(operation_id, summary, response, *codes, ok=ok, request=request, parameters=parameters, **more)


@extend_schema_view(
    list=documented(
        "list_incidents",
        "The caller's incidents, filtered and in queue order",
        None,
        s.IncidentSerializer(many=True),
        codes=(400, 401),
        parameters=FILTERS,
        detail=False,
    ),
    create=documented(
        "report_incident",
        "Report an incident: it is stored, then assessed on the national scale",
        s.ReportRequestSerializer,
        s.IncidentDetailSerializer,
        codes=(400, 401, 403),
        ok=201,
        detail=False,
    ),
    retrieve=documented(
        "get_incident",
        "An incident: facts, assessment, deadlines, other scales, links and attachments",
        None,
        s.IncidentDetailSerializer,
        codes=(400, 401, 404),
    ),
)
class IncidentViewSet(api.ServiceErrors, GenericViewSet):  # type: ignore[type-arg]
    lookup_field = "reference"
    lookup_value_regex = "[^/]+"
    pagination_class = IncidentPagination

    def get_queryset(self) -> QuerySet[Incident]:
        incidents = visible_incidents(self.request.user).select_related("reporting_organisation", "assignee")
        return incidents.defer("facts", "description") if self.action == "list" else incidents

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Checked before anything happens, so that a bad ``lang`` never follows a change.
        self.lang = request.query_params.get("lang", "en")
        if self.lang not in dict(settings.LANGUAGES):
            raise ServiceError([("lang", f"one of {', '.join(code for code, _ in settings.LANGUAGES)}")])

    def get_serializer_context(self) -> dict[str, Any]:
        return {
            **super().get_serializer_context(),
            "scale": services.national_scale(),
            "lang": getattr(self, "lang", "en"),
            "now": clock.now(),
        }

    def get_authenticate_header(self, request: Request) -> str:
        # A request without credentials gets 401 and names the scheme a script can use.
        return "Token"

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, FilterError):
            return error_response(exc.errors, status.HTTP_400_BAD_REQUEST)
        if isinstance(exc, nciss.FactsError):
            return error_response([(f"facts.{path}", reason) for path, reason in exc.errors], 400)
        return super().handle_exception(exc)

    # ------------------------------------------------------------ helpers

    def incident(self) -> Incident:
        """The incident named in the URL, if the caller may see it."""
        reference = self.kwargs["reference"]
        incident = (
            self.get_queryset()
            .select_related("created_by")
            .prefetch_related("affected_organisations", "red_recipients")
            .filter(reference=reference)
            .first()
        )
        if incident is None:
            raise NotFound(f"no incident {reference}")
        return incident

    def other(self, reference: str, field: str) -> Incident:
        """Another incident named in the body, if the caller may see it (else a 400 on ``field``)."""
        found = self.get_queryset().filter(reference=reference).first()
        if found is None:
            raise ServiceError([(field, f"no incident {reference}")])
        return found

    def parsed(self, serializer_class: type[Serializer]) -> dict[str, Any]:  # type: ignore[type-arg]
        body = serializer_class(data=self.request.data)
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)

    def detail_of(self, incident: Incident, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().prefetch_related("affected_organisations", "red_recipients", "attachments")
        fresh = fresh.select_related("created_by").get(pk=incident.pk)
        return Response(s.IncidentDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def read(self) -> Incident:
        """The incident, its read recorded in the audit log when it is TLP:RED."""
        incident = self.incident()
        services.record_read(incident=incident, actor=self.request.user)
        return incident

    # ------------------------------------------------------------ the queue and reporting

    def list(self, request: Request) -> Response:
        context = self.get_serializer_context()
        incidents = filter_incidents(self.get_queryset(), request.query_params, request.user)
        page = self.paginate_queryset(incidents)
        return self.get_paginated_response(s.IncidentSerializer(page, many=True, context=context).data)

    def create(self, request: Request) -> Response:
        body = self.parsed(s.ReportRequestSerializer)
        incident = services.report_incident(actor=request.user, **body)
        response = self.detail_of(incident, status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{request.path.rstrip('/')}/{incident.reference}")
        return response

    def retrieve(self, request: Request, reference: str) -> Response:
        return self.detail_of(self.read())

    # ------------------------------------------------------------ facts and workflow

    @documented(
        "update_incident_facts",
        "Change facts and assess again",
        s.FactsChangeRequestSerializer,
        s.IncidentDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def facts(self, request: Request, reference: str) -> Response:
        incident = self.incident()
        body = self.parsed(s.FactsChangeRequestSerializer)
        incident = services.update_facts(incident=incident, actor=request.user, **body)
        return self.detail_of(incident)

    @documented(
        "transition_incident",
        "Move an incident along the workflow",
        s.TransitionRequestSerializer,
        s.IncidentDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, reference: str) -> Response:
        incident = self.incident()
        body = self.parsed(s.TransitionRequestSerializer)
        try:
            incident = services.change_status(incident=incident, actor=request.user, **body)
        except ServiceError as exc:
            raise ServiceError([("to" if path == "status" else path, reason) for path, reason in exc.errors]) from None
        return self.detail_of(incident)

    @documented(
        "assign_incident",
        "Assign an incident to an analyst or coordinator",
        s.AssignRequestSerializer,
        s.IncidentDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, reference: str) -> Response:
        incident = self.incident()
        body = self.parsed(s.AssignRequestSerializer)
        return self.detail_of(services.assign(incident=incident, actor=request.user, **body))

    @documented(
        "set_incident_waiting",
        "Wait on the reporter (pauses the response clocks), or stop waiting",
        s.WaitingRequestSerializer,
        s.IncidentDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def waiting(self, request: Request, reference: str) -> Response:
        incident = self.incident()
        body = self.parsed(s.WaitingRequestSerializer)
        incident = services.set_waiting_on_reporter(incident=incident, actor=request.user, **body)
        return self.detail_of(incident)

    # ------------------------------------------------------------ information

    @documented(
        "list_incident_comments",
        "The comments, oldest first",
        None,
        s.CommentSerializer(many=True),
        codes=(400, 401, 404),
        methods=["GET"],
    )
    @documented(
        "add_incident_comment",
        "Comment on an incident",
        s.CommentRequestSerializer,
        s.CommentSerializer,
        ok=201,
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def comments(self, request: Request, reference: str) -> Response:
        if request.method == "POST":
            incident = self.incident()
            body = self.parsed(s.CommentRequestSerializer)
            entry = services.add_comment(incident=incident, actor=request.user, **body)
            return Response(s.CommentSerializer(entry).data, status=status.HTTP_201_CREATED)
        entries = self.read().timeline.filter(kind=TimelineEntry.Kind.COMMENT).select_related("author")
        return Response(s.CommentSerializer(entries, many=True).data)

    @documented(
        "list_incident_attachments",
        "The attachments, oldest first",
        None,
        s.AttachmentSerializer(many=True),
        codes=(400, 401, 404),
        methods=["GET"],
    )
    @documented(
        "add_incident_attachment",
        "Attach a file (multipart/form-data, field `file`)",
        s.AttachmentRequestSerializer,
        s.AttachmentSerializer,
        ok=201,
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser], pagination_class=None)
    def attachments(self, request: Request, reference: str) -> Response:
        context = self.get_serializer_context()
        if request.method == "POST":
            incident = self.incident()
            body = self.parsed(s.AttachmentRequestSerializer)
            attachment = services.add_attachment(incident=incident, actor=request.user, upload=body["file"])
            return Response(s.AttachmentSerializer(attachment, context=context).data, status=status.HTTP_201_CREATED)
        incident = self.read()
        attachments = incident.attachments.select_related("uploaded_by", "incident").order_by("created_at", "pk")
        return Response(s.AttachmentSerializer(attachments, many=True, context=context).data)

    @documented(
        "download_incident_attachment",
        "An attachment's content",
        None,
        OpenApiResponse(OpenApiTypes.BINARY, description="the file, as application/octet-stream"),
        codes=(400, 401, 404),
        parameters=[OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>[0-9]+)", url_name="attachment-file")
    def attachment_file(self, request: Request, reference: str, attachment_id: str) -> FileResponse:
        attachment = self.read().attachments.filter(pk=int(attachment_id)).first()
        if attachment is None:
            raise NotFound(f"no attachment {attachment_id} on {reference}")
        # Always a download, never rendered: the content came from outside.
        response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)
        response["Content-Type"] = "application/octet-stream"
        return response

    @documented(
        "list_incident_assessments",
        "Every assessment of the incident, newest first",
        None,
        s.AssessmentRecordSerializer(many=True),
        codes=(400, 401, 404),
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def assessments(self, request: Request, reference: str) -> Response:
        history = self.read().assessments.select_related("created_by").order_by("-created_at", "-pk")
        return Response(s.AssessmentRecordSerializer(history, many=True).data)

    @documented(
        "get_incident_timeline",
        "Everything that happened to the incident, oldest first",
        None,
        s.TimelineEntrySerializer(many=True),
        codes=(400, 401, 404),
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request: Request, reference: str) -> Response:
        entries = list(self.read().timeline.select_related("author"))
        return Response(s.TimelineEntrySerializer(self.without_hidden_links(entries), many=True).data)

    def without_hidden_links(self, entries: list[TimelineEntry]) -> list[TimelineEntry]:
        """The entries, with every mention of an incident the caller may not see taken out."""
        keys = ("related", "merged", "duplicate_of")
        named = {entry.data[key] for entry in entries for key in keys if key in entry.data}
        visible = set(self.get_queryset().filter(reference__in=named).values_list("reference", flat=True))
        shown = []
        for entry in entries:
            hidden = [key for key in keys if key in entry.data and entry.data[key] not in visible]
            if hidden and entry.kind == TimelineEntry.Kind.LINK:
                continue
            for key in hidden:
                entry.data = {k: v for k, v in entry.data.items() if k != key}
            shown.append(entry)
        return shown

    @documented(
        "submit_incident_reporting_step",
        "Record a regulatory report (early warning, notification ...) as submitted now",
        s.ReportingStepRequestSerializer,
        s.IncidentDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def reporting(self, request: Request, reference: str) -> Response:
        incident = self.incident()
        body = self.parsed(s.ReportingStepRequestSerializer)
        incident = services.submit_reporting_step(
            incident=incident, actor=request.user, scale_id=body["scale"], deadline_id=body["deadline"]
        )
        return self.detail_of(incident)

    # ------------------------------------------------------------ links and sharing

    @documented(
        "merge_incident",
        "Mark the incident a duplicate of another",
        s.MergeRequestSerializer,
        s.IncidentDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, reference: str) -> Response:
        incident = self.incident()
        body = self.parsed(s.MergeRequestSerializer)
        into = self.other(body["into"], "into")
        return self.detail_of(
            services.merge_duplicate(incident=incident, actor=request.user, into=into, note=body["note"])
        )

    @documented("link_incident", "Link a related incident", s.LinkRequestSerializer, s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def links(self, request: Request, reference: str) -> Response:
        incident = self.incident()
        body = self.parsed(s.LinkRequestSerializer)
        services.link_related(incident=incident, actor=request.user, other=self.other(body["other"], "other"))
        return self.detail_of(incident)

    @documented(
        "set_incident_sharing",
        "Change the TLP and PAP (TLP:RED names its recipients)",
        s.SharingRequestSerializer,
        s.IncidentDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def sharing(self, request: Request, reference: str) -> Response:
        incident = self.incident()
        body = self.parsed(s.SharingRequestSerializer)
        return self.detail_of(services.set_sharing(incident=incident, actor=request.user, **body))

    # ------------------------------------------------------------ bulk

    @documented(
        "bulk_incidents",
        "One action on many incidents: all of them change, or none",
        s.BulkRequestSerializer,
        s.BulkResultSerializer,
        codes=(400, 401, 403),
        detail=False,
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        body = self.parsed(s.BulkRequestSerializer)
        references = body["references"]
        found = {i.reference: i for i in self.get_queryset().filter(reference__in=references)}
        bad: list[tuple[str, str]] = []
        forbidden: list[tuple[str, str]] = []
        with transaction.atomic():
            for index, reference in enumerate(references):
                if reference in references[:index]:
                    continue  # named twice: acted on once
                path = f"references[{index}]"
                incident = found.get(reference)
                if incident is None:
                    bad.append((path, f"no incident {reference}"))
                    continue
                try:
                    self.apply(body, incident)
                except ServiceError as exc:
                    bad.extend((path, f"{reference}: {reason}") for _, reason in exc.errors)
                except NotAllowed as exc:
                    forbidden.append((path, f"{reference}: {exc}"))
            if bad or forbidden:
                transaction.set_rollback(True)
        if forbidden:
            return error_response(forbidden, status.HTTP_403_FORBIDDEN)
        if bad:
            return error_response(bad, status.HTTP_400_BAD_REQUEST)
        changed = self.get_queryset().filter(reference__in=references).order_by("reference")
        data = s.IncidentSerializer(changed, many=True, context=self.get_serializer_context()).data
        return Response({"action": body["action"], "incidents": data})

    def apply(self, body: dict[str, Any], incident: Incident) -> None:
        actor = self.request.user
        if body["action"] == "assign":
            services.assign(incident=incident, actor=actor, assignee=body["assignee"])
        else:
            services.change_status(incident=incident, actor=actor, to=body["to"], note=body["note"])
