"""What every page view shares: the reader's language, and rendering a template in it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def reader_language(request: HttpRequest) -> str:
    """The user's own language, else the one chosen before signing in (the language cookie), else the browser's."""
    lang = getattr(request.user, "language", "")
    return lang if lang in LANGUAGE_CODES else translation.get_language_from_request(request)


def render_page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """``template`` rendered in the reader's language, which the context gets as ``lang``."""
    lang = reader_language(request)
    with translation.override(lang):
        return render(request, template, {"lang": lang, **context}, status=status)


class ReaderLanguageMiddleware:
    """Every response in the reader's language, also from views that do not use ``render_page`` (signing in)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with translation.override(reader_language(request)):
            return self.get_response(request)
