"""``{% incident_campaigns incident %}``: the incident page's "part of campaign" line, for the CSIRT's staff."""

from __future__ import annotations

from typing import Any

from django import template

from nciss_platform.campaigns.views import campaigns_of
from nciss_platform.incidents import access

register = template.Library()


@register.inclusion_tag("campaigns/_incident.html", takes_context=True)
def incident_campaigns(context: template.Context, incident: Any) -> dict[str, Any]:
    if not access.can_manage(context["request"].user):
        return {"campaigns": []}
    return {"campaigns": campaigns_of(incident)}
