"""Who may see and manage organisations and users. The admin, the pages and the API all ask here.

- Administrators (role administrator, or a superuser) manage organisations and users.
- Analysts, coordinators and administrators see every organisation.
- Reporters see only their own organisation.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from nciss_platform.accounts.models import Organisation, User


def is_administrator(user: Any) -> bool:
    """True for an active administrator or superuser; False for anyone else, anonymous included."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role == User.Role.ADMINISTRATOR)
    )


def visible_organisations(user: Any) -> QuerySet[Organisation]:
    organisations = Organisation.objects.all()
    if not user.is_authenticated:
        return organisations.none()
    if user.is_csirt_staff or is_administrator(user):
        return organisations
    return organisations.filter(pk=user.organisation_id) if user.organisation_id else organisations.none()
