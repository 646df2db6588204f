"""The report pages: each report in the site's layout with its PDF link, and the PDFs themselves.

The national sitrep is for the CSIRT's analysts and coordinators, over the incidents they may
see; an incident's sitrep for anyone who may see the incident (404 otherwise); the public
advisory draft for the CSIRT's staff. ``?lang=`` picks the report's language (the user's own
by default); ``?date=`` the national sitrep's day (today by default).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents import access
from nciss_platform.incidents import services as incident_services
from nciss_platform.incidents.models import Incident
from nciss_platform.reports import services
from nciss_platform.reports.advisories import may_publish_observables

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _lang(request: HttpRequest) -> str:
    """``?lang=`` if it is one of ours, else the user's language, else the browser's."""
    for lang in (request.GET.get("lang", ""), getattr(request.user, "language", "")):
        if lang in LANGUAGE_CODES:
            return lang
    return translation.get_language_from_request(request)


def _require_staff(user: User) -> None:
    if not access.can_manage(user):
        raise PermissionDenied(_("Only the CSIRT's analysts and coordinators may open this page."))


def _visible(user: User, reference: str) -> Incident:
    incident = (
        access.visible_incidents(user).select_related("reporting_organisation").filter(reference=reference).first()
    )
    if incident is None:
        raise Http404(_("No incident with this reference that you may see."))
    return incident


def _day(request: HttpRequest) -> dt.date:
    value = request.GET.get("date", "")
    if not value:
        return clock.now().astimezone(dt.UTC).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ServiceError([("date", f"{value[:40]!r} is not a date (YYYY-MM-DD)")]) from None


def _page(
    request: HttpRequest, template: str, report: services.Report, status: int = 200, **extra: Any
) -> HttpResponse:
    context = {**report.context, "lang": report.lang, "tlp": report.tlp, "title": report.title, **extra}
    with translation.override(report.lang):
        return render(request, template, context, status=status)


def _pdf(report: services.Report) -> HttpResponse:
    response = HttpResponse(report.pdf().data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.filename}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def _national(request: HttpRequest) -> services.Report:
    user = _user(request)
    _require_staff(user)
    return services.national_report(access.visible_incidents(user), _day(request), lang=_lang(request), now=clock.now())


@login_required
@require_GET
def national_page(request: HttpRequest) -> HttpResponse:
    try:
        report = _national(request)
    except ServiceError as e:
        lang = _lang(request)
        with translation.override(lang):
            context = {"lang": lang, "problems": [reason for _field, reason in e.errors], "today": clock.now().date()}
            return render(request, "reports/national_page.html", context, status=400)
    return _page(
        request, "reports/national_page.html", report, day=report.context["report"].day, today=clock.now().date()
    )


@login_required
@require_GET
def national_pdf(request: HttpRequest) -> HttpResponse:
    try:
        report = _national(request)
    except ServiceError as e:
        return HttpResponse(str(e), status=400, content_type="text/plain; charset=utf-8")
    return _pdf(report)


def _incident(request: HttpRequest, reference: str) -> services.Report:
    user = _user(request)
    incident = _visible(user, reference)
    incident_services.record_read(incident=incident, actor=user)
    visible = access.visible_incidents(user)
    return services.incident_report(incident, visible=visible, lang=_lang(request), now=clock.now())


@login_required
@require_GET
def incident_page(request: HttpRequest, reference: str) -> HttpResponse:
    return _page(request, "reports/incident_page.html", _incident(request, reference))


@login_required
@require_GET
def incident_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    return _pdf(_incident(request, reference))


def _advisory(request: HttpRequest, reference: str) -> tuple[Incident, services.Report]:
    user = _user(request)
    _require_staff(user)
    incident = _visible(user, reference)
    try:
        return incident, services.advisory_report(incident, lang=_lang(request), now=clock.now())
    except NotAllowed:
        raise PermissionDenied(
            _("A TLP:RED incident gets no public advisory: only the people named may know of it.")
        ) from None


@login_required
@require_GET
def advisory_page(request: HttpRequest, reference: str) -> HttpResponse:
    incident, report = _advisory(request, reference)
    return _page(
        request,
        "reports/advisory_page.html",
        report,
        incident=incident,
        observables_shared=may_publish_observables(incident),
    )


@login_required
@require_GET
def advisory_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    return _pdf(_advisory(request, reference)[1])
