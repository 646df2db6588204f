"""``{% mail_reply incident %}``: the incident page's "E-mail to the reporter" section, for CSIRT staff."""

from __future__ import annotations

from typing import Any

from django import template

from nciss_platform.incidents import access
from nciss_platform.mail import services
from nciss_platform.mail.models import OutboundMessage

register = template.Library()


@register.inclusion_tag("mail/_reply.html", takes_context=True)
def mail_reply(context: template.Context, incident: Any) -> dict[str, Any]:
    """The reply form (to whom it goes, or why it cannot go) and the e-mails already sent about ``incident``."""
    user = context["request"].user
    if not access.can_manage(user):
        return {"show": False}
    recipient = services.reply_recipient(incident)
    problem = ""
    if not recipient.email:
        problem = "no_address"
    elif not recipient.is_active or not access.can_see(recipient, incident):
        problem = "not_visible"
    return {
        "show": True,
        "incident": incident,
        "recipient": recipient,
        "problem": problem,
        "sent": list(OutboundMessage.objects.filter(incident=incident).select_related("author")[:20]),
        "csrf_token": context.get("csrf_token"),
    }
