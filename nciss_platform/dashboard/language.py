"""The interface language a reader chooses with the switcher on every page.

Signed in, the choice is the user's own ``language`` (kept across devices, used for their
notifications too); before signing in, a cookie (Django's ``LANGUAGE_COOKIE_NAME``), which
``pages.reader_language`` reads after the user's language and before the browser's.
"""

from __future__ import annotations

from django.db import transaction

from nciss_platform.accounts.models import User
from nciss_platform.audit.services import record
from nciss_platform.errors import ServiceError
from nciss_platform.pages import LANGUAGE_CODES


def choose_language(*, actor: User | None, language: str) -> str:
    """Make ``language`` (en, ru, uz) the signed-in ``actor``'s own; ServiceError for any other code."""
    if language not in LANGUAGE_CODES:
        raise ServiceError([("language", f"one of {', '.join(LANGUAGE_CODES)}")])
    if actor is not None and actor.is_authenticated and actor.language != language:
        with transaction.atomic():
            before = actor.language
            actor.language = language
            actor.save(update_fields=["language"])
            record(actor, "user.language", actor, {"changes": {"language": [before, language]}})
    return language
