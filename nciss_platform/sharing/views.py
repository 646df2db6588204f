"""The sharing pages: what partners abroad see, and the CSIRT's share, revoke and consent actions.

A partner sees only the shares ``access.shares_visible_to`` gives it, in its own scale and
language; any other share is a 404. Sharing and revoking are for CSIRT staff (403 otherwise);
bad input re-renders the share form with the reasons (400) and shares nothing.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from nciss_platform.accounts.models import User
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents import access
from nciss_platform.incidents.models import Incident
from nciss_platform.pages import reader_language, render_page
from nciss_platform.sharing import display, services
from nciss_platform.sharing.access import shares_visible_to
from nciss_platform.sharing.forms import ShareForm
from nciss_platform.sharing.models import Share


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def latest_shares(user: User) -> list[Share]:
    """The latest share of each incident the user may see, newest first."""
    seen: set[int] = set()
    latest = []
    for share in shares_visible_to(user).select_related("shared_by__organisation").order_by("-shared_at", "-id"):
        if share.incident_id not in seen:
            seen.add(share.incident_id)
            latest.append(share)
    return latest


# ---------------------------------------------------------------- what partners see


@login_required
@require_GET
def shared_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    lang = reader_language(request)
    with translation.override(lang):
        views = [display.share_view(share, lang) for share in latest_shares(user)]
    return render_page(request, "sharing/list.html", {"views": views, "organisation": user.organisation})


@login_required
@require_GET
def shared_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    share = shares_visible_to(user).select_related("shared_by__organisation").filter(pk=pk).first()
    if share is None:
        raise Http404(_("Nothing shared with you under this number."))
    lang = reader_language(request)
    newer = (
        shares_visible_to(user)
        .filter(incident=share.incident_id, shared_at__gt=share.shared_at)
        .order_by("-shared_at")
        .first()
    )
    with translation.override(lang):
        view = display.share_view(share, lang)
    return render_page(request, "sharing/detail.html", {"view": view, "newer": newer})


# ---------------------------------------------------------------- the CSIRT's actions


def _incident(user: User, reference: str) -> Incident:
    incident = access.visible_incidents(user).select_related("reporting_organisation").filter(reference=reference)
    found = incident.first()
    if found is None:
        raise Http404(_("No incident with this reference that you may see."))
    return found


def _back_to(incident: Incident) -> HttpResponse:
    response = HttpResponse(status=303)
    response["Location"] = reverse("incidents:detail", args=[incident.reference]) + "#partner-sharing"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def share(request: HttpRequest, reference: str) -> HttpResponse:
    """The share form (also shown inline on the incident page); posting shares through ``share_incident``."""
    user = _user(request)
    incident = _incident(user, reference)
    if not access.can_manage(user):
        raise PermissionDenied(_("Only the CSIRT's analysts and coordinators share incidents with partners."))
    problems: list[str] = []
    if request.method == "POST":
        form = ShareForm(request.POST, incident=incident)
        if form.is_valid():
            data = form.cleaned_data
            try:
                shares = services.share_incident(
                    incident=incident,
                    actor=user,
                    organisations=data["organisations"],
                    group=data["group"],
                    recipients=data.get("recipients") or (),
                    identify_reporter=bool(data.get("identify_reporter")),
                    title=data["title"],
                    description=data["description"],
                )
            except NotAllowed as exc:
                raise PermissionDenied(str(exc)) from exc
            except ServiceError as exc:
                for path, reason in exc.errors:
                    if path in form.fields:
                        form.add_error(path, reason)
                    else:
                        problems.append(f"{path}: {reason}")
            else:
                names = ", ".join(s.organisation.name for s in shares)
                with translation.override(reader_language(request)):
                    messages.success(
                        request,
                        ngettext("Shared with %(names)s.", "Shared with %(names)s.", len(shares)) % {"names": names},
                    )
                return _back_to(incident)
        status = 400
    else:
        form, status = ShareForm(incident=incident), 200
    context = {"incident": incident, "form": form, "problems": problems}
    return render_page(request, "sharing/share.html", context, status)


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    found = Share.objects.select_related("incident", "organisation").filter(pk=pk).first()
    if found is None or not access.can_see(user, found.incident):
        raise Http404
    try:
        services.revoke_share(share=found, actor=user)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except ServiceError as exc:
        messages.error(request, "; ".join(reason for _path, reason in exc.errors))
        return _back_to(found.incident)
    with translation.override(reader_language(request)):
        messages.success(request, _("Withdrawn from %(name)s.") % {"name": found.organisation.name})
    return _back_to(found.incident)


@login_required
@require_POST
def consent(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    incident = _incident(user, reference)
    agreed = request.POST.get("agreed") == "1"
    try:
        services.set_naming_consent(incident=incident, actor=user, agreed=agreed)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    with translation.override(reader_language(request)):
        if agreed:
            messages.success(request, _("Shares abroad may now name the reporting organisation."))
        else:
            messages.success(request, _("Shares abroad will not name the reporting organisation."))
    return _back_to(incident)
