"""The API's one error shape: ``{"error": "<one line>", "errors": [{"path": ..., "reason": ...}]}``.

Every failure the API reports (bad JSON, a missing field, invalid facts, an unknown scale,
a wrong method) has this shape, so that a client needs one error handler.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

# Where an error is about the request as a whole rather than one of its fields.
BODY = "body"


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The error shape, for the OpenAPI schema."""

    class ReasonSerializer(serializers.Serializer):  # type: ignore[type-arg]
        path = serializers.CharField(help_text="where in the request, e.g. facts.fatalities")
        reason = serializers.CharField()

    error = serializers.CharField(help_text="every reason on one line")
    errors = ReasonSerializer(many=True)


def error_response(errors: list[tuple[str, str]], status: int) -> Response:
    lines = [f"{path}: {reason}" if path != BODY else reason for path, reason in errors]
    return Response(
        {"error": "; ".join(lines), "errors": [{"path": path, "reason": reason} for path, reason in errors]},
        status=status,
    )


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
