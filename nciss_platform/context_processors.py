"""Template context shared by every page."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def platform(request: HttpRequest) -> dict[str, Any]:
    return {
        "two_factor_off": not settings.NCISS_REQUIRE_2FA,
        "interface_languages": settings.LANGUAGES,  # each named in itself, for the language switcher
    }
