"""``{% partner_sharing %}``: the incident page's section on sharing with partners abroad.

For the CSIRT's staff: the shares of the incident (to whom, when, by whom, TLP, the level sent)
and the share form. For the reporting organisation's people: its consent to be named abroad.
"""

from __future__ import annotations

from typing import Any

from django import template

from nciss.interop import IncidentRecord
from nciss_platform.incidents import access
from nciss_platform.incidents.display import user_name
from nciss_platform.incidents.models import Incident
from nciss_platform.sharing.display import level_sent
from nciss_platform.sharing.forms import ShareForm

register = template.Library()


@register.inclusion_tag("sharing/_incident_section.html", takes_context=True)
def partner_sharing(context: template.Context, incident: Incident) -> dict[str, Any]:
    user = context["user"]
    lang = context.get("lang") or "en"
    may_manage = access.can_manage(user)
    own = user.organisation_id is not None and user.organisation_id == incident.reporting_organisation_id
    shares = []
    if may_manage:
        rows = incident.shares.select_related("organisation", "group", "shared_by").prefetch_related("recipients")
        for share in rows:
            record = IncidentRecord.from_json(share.record)
            shares.append(
                {
                    "share": share,
                    "partner": level_sent(record.assessments[-1], lang),
                    "by": user_name(share.shared_by),
                    "readers": [user_name(u) for u in share.recipients.all()],
                }
            )
    return {
        "incident": incident,
        "user": user,
        "lang": lang,
        "csrf_token": context.get("csrf_token"),
        "may_manage": may_manage,
        "may_consent": may_manage or own,
        "shares": shares,
        "form": ShareForm(incident=incident) if may_manage else None,
    }
