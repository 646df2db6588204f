"""The API's one error shape: ``{"error": "<one line>", "errors": [{"path": ..., "reason": ...}]}``.

Every failure the API reports (bad JSON, a missing field, invalid facts, an unknown scale,
a wrong method) has this shape, so that a client needs one error handler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.viewsets import GenericViewSet

from nciss_platform.errors import NotAllowed, ServiceError

# Where an error is about the request as a whole rather than one of its fields.
BODY = "body"


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The error shape, for the OpenAPI schema."""

    class ReasonSerializer(serializers.Serializer):  # type: ignore[type-arg]
        path = serializers.CharField(help_text="where in the request, e.g. facts.fatalities")
        reason = serializers.CharField()

    error = serializers.CharField(help_text="every reason on one line")
    errors = ReasonSerializer(many=True)


# What each failure means, for the OpenAPI schema; an app replaces those it can say more precisely.
USUAL_ERRORS = {
    400: "bad input; nothing was changed",
    401: "not signed in: a session or `Authorization: Token <key>`",
    403: "the caller may not do this",
    404: "no such item among those the caller may see",
}


class ErrorResponses:
    """One app's documented failures; ``errors(401, 404)`` gives the ``responses`` entries for those codes."""

    def __init__(self, descriptions: Mapping[int, str] | None = None) -> None:
        self.responses = {
            code: OpenApiResponse(ErrorSerializer, description=description)
            for code, description in {**USUAL_ERRORS, **(descriptions or {})}.items()
        }

    def __call__(self, *codes: int) -> dict[int, OpenApiResponse]:
        return {code: self.responses[code] for code in codes}


def documented(tag: str, errors: ErrorResponses) -> Callable[..., Any]:
    """An app's ``extend_schema`` for one operation: ``(operation_id, summary, response, *error_codes, ok=200)``."""

    def operation(operation_id: str, summary: str, response: Any, *codes: int, ok: int = 200, **more: Any) -> Any:
        return extend_schema(
            operation_id=operation_id,
            summary=summary,
            tags=[tag],
            responses={ok: response, **errors(*codes)},
            **more,
        )

    return operation


def error_response(errors: list[tuple[str, str]], status: int) -> Response:
    lines = [f"{path}: {reason}" if path != BODY else reason for path, reason in errors]
    return Response(
        {"error": "; ".join(lines), "errors": [{"path": path, "reason": reason} for path, reason in errors]},
        status=status,
    )


# A view mixin: services' refusals in the error shape (``ServiceError`` 400, ``NotAllowed`` 403).
# No docstring: drf-spectacular would show it as the description of every operation of the view.
class ServiceErrors:
    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ServiceError):
            return error_response(exc.errors, status.HTTP_400_BAD_REQUEST)
        if isinstance(exc, NotAllowed):
            return error_response([(BODY, str(exc))], status.HTTP_403_FORBIDDEN)
        return super().handle_exception(exc)  # type: ignore[misc, no-any-return]


# A viewset to list, read, create and change (PATCH, no PUT nor DELETE) objects whose writes
# go through service functions (``perform_create``/``perform_update``), their refusals shaped.
class ServiceViewSet(
    ServiceErrors,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    GenericViewSet,  # type: ignore[type-arg]
):
    http_method_names = ["get", "post", "patch", "head", "options"]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with its ``detail`` bodies turned into the error shape."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    shaped = error_response(list(_reasons(response.data)), response.status_code)
    for header in ("WWW-Authenticate", "Retry-After"):  # the headers DRF's handler sets
        if header in response:
            shaped[header] = response[header]
    return shaped


def _reasons(detail: Any, path: str = BODY) -> Iterator[tuple[str, str]]:
    if isinstance(detail, dict):
        for key, value in detail.items():
            is_whole = key in ("detail", "non_field_errors")
            yield from _reasons(value, path if is_whole else key if path == BODY else f"{path}.{key}")
    elif isinstance(detail, list):
        for item in detail:
            yield from _reasons(item, path)
    else:
        yield path, " ".join(str(detail).split())
