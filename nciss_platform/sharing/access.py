"""Who sees which shares. The partner pages, the API, TAXII and file exports all ask here.

A share is seen only by users of the organisation it was shared with, never after it is revoked;
a TLP:RED share only by the people named in it.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from nciss_platform.accounts.models import User
from nciss_platform.incidents.models import TLP
from nciss_platform.sharing.models import Share


def shares_visible_to(user: User) -> QuerySet[Share]:
    if not user.is_authenticated or user.organisation_id is None:
        return Share.objects.none()
    named = Share.recipients.through.objects.filter(user=user.pk).values("share_id")
    return Share.objects.filter(organisation=user.organisation_id, revoked_at__isnull=True).filter(
        ~Q(tlp=TLP.RED) | Q(pk__in=named)
    )
