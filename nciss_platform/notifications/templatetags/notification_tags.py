"""``{% incident_notifications incident %}``: the incident page's "Notifications" section."""

from __future__ import annotations

from typing import Any

from django import template

from nciss_platform.notifications import access, services
from nciss_platform.notifications.models import Notification
from nciss_platform.outbox.models import Job

register = template.Library()


@register.inclusion_tag("notifications/_incident.html", takes_context=True)
def incident_notifications(context: template.Context, incident: Any) -> dict[str, Any]:
    """Who was told what about ``incident``, when and why, how delivery went, and who acknowledged."""
    user = context["request"].user
    if not access.may_see_notifications(user):
        return {"show": False}
    notifications = list(
        Notification.objects.filter(incident=incident).select_related(
            "contact__organisation", "event", "acknowledged_by", "escalated_from__contact"
        )
    )
    attempts = dict(
        Job.objects.filter(key__in=[f"{services.DELIVER}:{n.idempotency_key}" for n in notifications]).values_list(
            "key", "attempts"
        )
    )
    rows = [(n, attempts.get(f"{services.DELIVER}:{n.idempotency_key}", 0)) for n in notifications]
    return {
        "show": True,
        "incident": incident,
        "rows": rows,
        "may_acknowledge": access.may_acknowledge(user),
        "csrf_token": context.get("csrf_token"),
    }
