"""Every change to organisations, users and their credentials, one function each.

Each function takes keyword arguments with an explicit ``actor`` (a user, or None for the
system: the ``nciss createuser`` command, the demo loader), checks that the actor may act,
validates, writes in one transaction with an audit event, and never sees a request, form
or serializer. Audit events never hold a password, a secret or a token.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from nciss.clocks import BusinessCalendar, CalendarError
from nciss_platform import clock
from nciss_platform.accounts import totp
from nciss_platform.accounts.access import is_administrator
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.services import record
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.pages import LANGUAGE_CODES
from nciss_platform.scales.services import offered_scales

ORGANISATION_FIELDS = (
    "name",
    "slug",
    "kind",
    "sector",
    "criticality",
    "size",
    "entity_type",
    "country",
    "annual_turnover_eur",
    "preferred_scale",
    "language",
    "reporting_calendar",
)
USER_FIELDS = ("role", "organisation", "email", "first_name", "last_name", "language")


def _require_administrator(actor: User | None) -> None:
    if actor is not None and not is_administrator(actor):
        raise NotAllowed("only administrators manage organisations and users")


def _require_self_or_administrator(actor: User | None, user: User) -> None:
    if actor is not None and actor.pk != user.pk and not is_administrator(actor):
        raise NotAllowed("only the user or an administrator may do this")


def _require_self(actor: User | None, user: User) -> None:
    if actor is None or actor.pk != user.pk:
        raise NotAllowed("only the user may enrol their own authenticator")


def _errors_of(exc: ValidationError) -> list[tuple[str, str]]:
    if not hasattr(exc, "error_dict"):
        return [("body", message) for message in exc.messages]
    return [
        ("body" if field == NON_FIELD_ERRORS else field, message)
        for field, messages in exc.message_dict.items()
        for message in messages
    ]


# ---------------------------------------------------------------- organisations


def organisation_errors(organisation: Organisation) -> list[tuple[str, str]]:
    """What is wrong with an organisation about to be saved (the model's checks and ours)."""
    errors: list[tuple[str, str]] = []
    try:
        organisation.full_clean()
    except ValidationError as exc:
        errors.extend(_errors_of(exc))
    checked = {
        "country": country_error(organisation.country),
        "preferred_scale": scale_error(organisation.preferred_scale),
        "reporting_calendar": calendar_error(organisation.reporting_calendar),
    }
    errors.extend((f, reason) for f, reason in checked.items() if reason and all(f != seen for seen, _ in errors))
    return errors


def country_error(country: str | None) -> str | None:
    if country and len(country) == 2 and country.isascii() and country.isalpha() and country.isupper():
        return None
    return "expected an ISO 3166-1 alpha-2 code in capitals, e.g. XA"


def calendar_error(calendar: Any) -> str | None:
    """Empty (around the clock) or a valid business calendar (nciss.clocks.BusinessCalendar)."""
    try:
        BusinessCalendar.from_json(calendar)
    except CalendarError as e:
        return "; ".join(f"{path}: {reason}" for path, reason in e.errors)
    return None


def scale_error(scale_id: str | None) -> str | None:
    """Blank (the national scale) or one of the offered scales."""
    known = [scale.id for scale in offered_scales()]
    if not scale_id or scale_id in known:
        return None
    return f"unknown scale {scale_id!r}: use one of {', '.join(known)}"


def create_organisation(
    *,
    actor: User | None,
    name: str,
    slug: str,
    kind: str,
    country: str,
    sector: str = "other",
    criticality: str = "other",
    size: str = "medium",
    entity_type: str = "other",
    annual_turnover_eur: float | None = None,
    preferred_scale: str = "",
    language: str = "en",
    reporting_calendar: dict[str, Any] | None = None,
) -> Organisation:
    """A new organisation (administrators)."""
    _require_administrator(actor)
    organisation = Organisation(
        name=name.strip(),
        slug=slug,
        kind=kind,
        country=country,
        sector=sector,
        criticality=criticality,
        size=size,
        entity_type=entity_type,
        annual_turnover_eur=annual_turnover_eur,
        preferred_scale=preferred_scale,
        language=language,
        reporting_calendar=reporting_calendar or {},
    )
    errors = organisation_errors(organisation)
    if errors:
        raise ServiceError(errors)
    with transaction.atomic():
        organisation.save()
        record(actor, "organisation.created", organisation, {f: getattr(organisation, f) for f in ORGANISATION_FIELDS})
    return organisation


def update_organisation(*, actor: User | None, organisation: Organisation, **changes: Any) -> Organisation:
    """Change some of an organisation's fields (administrators); audits what changed."""
    _require_administrator(actor)
    unknown = sorted(set(changes) - set(ORGANISATION_FIELDS))
    if unknown:
        raise ServiceError([(field, "not a field that can be changed") for field in unknown])
    diff = {f: [getattr(organisation, f), v] for f, v in changes.items() if getattr(organisation, f) != v}
    for field, (_, value) in diff.items():
        setattr(organisation, field, value)
    errors = organisation_errors(organisation)
    if errors:
        organisation.refresh_from_db()
        raise ServiceError(errors)
    if diff:
        with transaction.atomic():
            organisation.save(update_fields=list(diff))
            record(actor, "organisation.updated", organisation, {"changes": diff})
    return organisation


# ---------------------------------------------------------------- users


def _password_errors(password: str, user: User) -> list[tuple[str, str]]:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        return [("password", message) for message in exc.messages]
    return []


def _user_errors(user: User) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if user.role not in User.Role.values:
        errors.append(("role", f"must be one of {', '.join(User.Role.values)}"))
    if user.organisation_id is None and not user.is_superuser:
        errors.append(("organisation", "required: every user belongs to an organisation"))
    try:
        user.full_clean(exclude=["password", "role"])
    except ValidationError as exc:
        errors.extend(_errors_of(exc))
    return errors


def create_user(
    *,
    actor: User | None,
    username: str,
    password: str,
    role: str,
    organisation: Organisation | None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    language: str = "en",
) -> User:
    """A new user with a role in an organisation (administrators); the password must pass the validators.

    Administrators get ``is_staff`` (the Django admin), nobody else does.
    """
    _require_administrator(actor)
    user = User(
        username=username,
        role=role,
        organisation=organisation,
        email=email,
        first_name=first_name,
        last_name=last_name,
        language=language,
    )
    user.is_staff = user.role == User.Role.ADMINISTRATOR
    errors = _user_errors(user) + _password_errors(password, user)
    if errors:
        raise ServiceError(errors)
    user.set_password(password)
    with transaction.atomic():
        user.save()
        record(actor, "user.created", user, {"username": user.username, "role": role, "organisation": _slug(user)})
    return user


def update_user(*, actor: User | None, user: User, **changes: Any) -> User:
    """Change a user's role, organisation, e-mail, names or language (administrators).

    ``is_staff`` follows the role. Administrators cannot change their own role, so that the
    last one cannot lock everyone out of the administration by mistake.
    """
    _require_administrator(actor)
    unknown = sorted(set(changes) - set(USER_FIELDS))
    if unknown:
        raise ServiceError([(field, "not a field that can be changed") for field in unknown])
    if actor is not None and actor.pk == user.pk and changes.get("role", user.role) != user.role:
        raise NotAllowed("administrators cannot change their own role")
    diff = {f: [getattr(user, f), v] for f, v in changes.items() if getattr(user, f) != v}
    for field, (_, value) in diff.items():
        setattr(user, field, value)
    user.is_staff = user.is_superuser or user.role == User.Role.ADMINISTRATOR
    errors = _user_errors(user)
    if errors:
        user.refresh_from_db()
        raise ServiceError(errors)
    if diff:
        with transaction.atomic():
            user.save(update_fields=[*diff, "is_staff"])
            shown = {f: [_plain(before), _plain(after)] for f, (before, after) in diff.items()}
            record(actor, "user.updated", user, {"changes": shown})
    return user


def set_password(*, actor: User | None, user: User, password: str) -> None:
    """A new password, checked by the validators (the user or an administrator)."""
    _require_self_or_administrator(actor, user)
    errors = _password_errors(password, user)
    if errors:
        raise ServiceError(errors)
    user.set_password(password)
    with transaction.atomic():
        user.save(update_fields=["password"])
        record(actor, "user.password_changed", user, {"username": user.username})


def deactivate_user(*, actor: User | None, user: User) -> None:
    """The user can no longer sign in; their sessions end and their API token is deleted."""
    _require_administrator(actor)
    if actor is not None and actor.pk == user.pk:
        raise NotAllowed("administrators cannot deactivate themselves")
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        Token.objects.filter(user=user).delete()
        record(actor, "user.deactivated", user, {"username": user.username})


def reactivate_user(*, actor: User | None, user: User) -> None:
    """The user can sign in again (administrators)."""
    _require_administrator(actor)
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        record(actor, "user.reactivated", user, {"username": user.username})


# ---------------------------------------------------------------- two-factor authentication


def enrol_totp(*, actor: User | None, user: User) -> str:
    """The user's TOTP secret, created on the first call; stays unconfirmed until ``confirm_totp``.

    Calling it again before confirmation returns the same secret, so a code scanned from
    a page shown earlier keeps working.
    """
    _require_self(actor, user)
    if user.totp_confirmed:
        raise ServiceError([("totp", "already enrolled: an administrator must reset it before a new enrolment")])
    if not user.totp_secret:
        with transaction.atomic():
            user.totp_secret = totp.new_secret()
            user.save(update_fields=["totp_secret"])
            record(actor, "user.totp_enrolment_started", user, {"username": user.username})
    return user.totp_secret


def confirm_totp(*, actor: User | None, user: User, code: str) -> int:
    """Finish enrolment with a first code from the authenticator; returns the code's time step."""
    _require_self(actor, user)
    if not user.totp_secret:
        raise ServiceError([("totp", "not enrolled yet")])
    if user.totp_confirmed:
        raise ServiceError([("totp", "already enrolled")])
    step = totp.matching_step(user.totp_secret, code, clock.now().timestamp())
    if step is None:
        raise ServiceError([("code", "this is not the current code of your authenticator app")])
    with transaction.atomic():
        user.totp_confirmed = True
        user.save(update_fields=["totp_confirmed"])
        record(actor, "user.totp_confirmed", user, {"username": user.username})
    return step


def reset_totp(*, actor: User | None, user: User) -> None:
    """Forget the user's authenticator (administrators); they enrol a new one at their next sign-in."""
    _require_administrator(actor)
    with transaction.atomic():
        user.totp_secret = ""
        user.totp_confirmed = False
        user.save(update_fields=["totp_secret", "totp_confirmed"])
        record(actor, "user.totp_reset", user, {"username": user.username})


# ---------------------------------------------------------------- API tokens


def issue_token(*, user: User) -> Token:
    """The user's API token, created if they have none. Callers have checked the password (and code)."""
    with transaction.atomic():
        token, created = Token.objects.get_or_create(user=user)
        record(user, "auth.token_issued", user, {"username": user.username, "new": created})
    return token


def revoke_token(*, actor: User) -> None:
    """Delete the actor's API token; a new one can be requested with the password (and code)."""
    with transaction.atomic():
        Token.objects.filter(user=actor).delete()
        record(actor, "auth.token_revoked", actor, {"username": actor.username})


def _slug(user: User) -> str:
    return user.organisation.slug if user.organisation is not None else ""


def _plain(value: Any) -> Any:
    return value.slug if isinstance(value, Organisation) else value


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
