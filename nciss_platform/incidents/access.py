"""Who may see and do what with incidents. The UI and the API both ask here.

- Reporters see their organisation's incidents (reported by it or affecting it).
- Analysts and coordinators see every incident.
- TLP:RED incidents are seen only by their named recipients (whatever their
  organisation) and whoever reported them.
- Administrators manage organisations, users and scales; they see incidents as
  reporters of their own organisation do.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from nciss_platform.accounts.models import User
from nciss_platform.incidents.models import TLP, Incident


def visible_incidents(user: User) -> QuerySet[Incident]:
    qs = Incident.objects.all()
    if not user.is_authenticated:
        return qs.none()
    # A subquery by id rather than EXISTS: inside an OR, PostgreSQL can then still count
    # the open queue from an index alone (bench/api.py, docs/performance.md).
    named = Incident.red_recipients.through.objects.filter(user=user.pk).values("incident_id")
    red_for_user = Q(tlp=TLP.RED) & (Q(created_by=user.pk) | Q(pk__in=named))
    if user.is_csirt_staff:
        return qs.filter(~Q(tlp=TLP.RED) | red_for_user)
    if user.organisation_id is None:
        return qs.filter(red_for_user)
    affected = Incident.affected_organisations.through.objects.filter(
        incident=OuterRef("pk"), organisation=user.organisation_id
    )
    own = Q(reporting_organisation=user.organisation_id) | Exists(affected)
    return qs.filter((own & ~Q(tlp=TLP.RED)) | red_for_user)


def can_see(user: User, incident: Incident) -> bool:
    return visible_incidents(user).filter(pk=incident.pk).exists()


def can_add_information(user: User, incident: Incident) -> bool:
    """Comments, facts and attachments: CSIRT staff, or the reporting side while it is open."""
    return user.is_csirt_staff or incident.is_open


def can_manage(user: User) -> bool:
    """Triage, assignment, merging, linking and sharing decisions."""
    return user.is_csirt_staff
