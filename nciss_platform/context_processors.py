"""Template context shared by every page."""

from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from nciss_platform.exercises.models import ExerciseRun, Participant


def platform(request: HttpRequest) -> dict[str, Any]:
    return {
        "two_factor_off": not settings.NCISS_REQUIRE_2FA,
        "interface_languages": settings.LANGUAGES,  # each named in itself, for the language switcher
        "plays_an_exercise": partial(_plays_an_exercise, request),  # asked only where the menu needs it
    }


def _plays_an_exercise(request: HttpRequest) -> bool:
    """Whether the signed-in reader plays a team in an exercise that has not ended (the menu then leads to it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return Participant.objects.filter(user=user).exclude(run__phase=ExerciseRun.Phase.ENDED).exists()
