"""The CSIRT's e-mail inbox and the reply form's action. Analysts and coordinators only (403 otherwise).

The inbox lists every message received, with what became of it: processed (with its incident),
rejected (with the reason) or waiting. A message about an incident the viewer may not see (a
TLP:RED incident they are not named on) is left out.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from nciss_platform.accounts.models import User
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents import access
from nciss_platform.mail import services
from nciss_platform.mail.models import InboundMessage
from nciss_platform.pages import reader_language

INBOX_ROWS = 200


def _staff(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if not access.can_manage(user):
        raise PermissionDenied(_("Only the CSIRT's analysts and coordinators may open the e-mail inbox."))
    return user


def _visible_messages(user: User) -> QuerySet[InboundMessage]:
    return InboundMessage.objects.filter(
        Q(incident__isnull=True) | Q(incident__in=access.visible_incidents(user).values("pk"))
    )


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    state = request.GET.get("state", "")
    rows = _visible_messages(user).select_related("incident", "user").defer("raw")
    if state in InboundMessage.State.values:
        rows = rows.filter(state=state)
    context: dict[str, Any] = {
        "rows": list(rows[:INBOX_ROWS]),
        "limit": INBOX_ROWS,
        "state": state,
        "states": InboundMessage.State.choices,
        "address": settings.NCISS_MAIL_ADDRESS,
    }
    lang = reader_language(request)
    with translation.override(lang):
        return render(request, "mail/inbox.html", {"lang": lang, **context})


@login_required
@require_GET
def raw_message(request: HttpRequest, pk: int) -> HttpResponse:
    """The message exactly as received (only its header if it was over the size limit)."""
    message = _visible_messages(_staff(request)).filter(pk=pk).first()
    if message is None:
        raise Http404
    response = HttpResponse(bytes(message.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{message.pk}.eml"'
    return response


@login_required
@require_POST
def process_again(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    message = _visible_messages(user).filter(pk=pk).first()
    if message is None:
        raise Http404
    with translation.override(reader_language(request)):
        try:
            message = services.process_again(message=message, actor=user)
        except ServiceError as exc:
            messages.error(request, "; ".join(reason for _path, reason in exc.errors))
        else:
            if message.state == InboundMessage.State.PROCESSED and message.incident is not None:
                reference = message.incident.reference
                messages.success(request, _("Processed: it is in %(reference)s.") % {"reference": reference})
            else:
                messages.error(request, _("Rejected again: %(reason)s") % {"reason": message.reason})
    return redirect(f"{reverse('mail:inbox')}#message-{message.pk}")


@login_required
@require_POST
def reply(request: HttpRequest, reference: str) -> HttpResponse:
    """Send the reply form's text to the reporter, then back to the incident's page."""
    user = _staff(request)
    incident = access.visible_incidents(user).filter(reference=reference).first()
    if incident is None:
        raise Http404
    with translation.override(reader_language(request)):
        try:
            outbound = services.reply_to_reporter(
                incident=incident,
                actor=user,
                body=request.POST.get("body", ""),
                wait_for_answer=request.POST.get("wait") == "1",
            )
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        except ServiceError as exc:
            messages.error(
                request, _("Nothing was sent: %(reason)s") % {"reason": "; ".join(r for _p, r in exc.errors)}
            )
        else:
            messages.success(request, _("Reply queued for %(address)s.") % {"address": outbound.to})
    return redirect(f"{reverse('incidents:detail', args=[incident.reference])}#email-reply")
