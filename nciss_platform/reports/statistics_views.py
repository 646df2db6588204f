"""The statistics page for the CSIRT's analysts and coordinators: pick a report, a period and a language.

``/statistics/?kind=monthly&period=2026-11&lang=ru`` previews the report in the site's layout;
``/statistics/report.pdf`` (``.csv``, ``.html``) with the same query downloads it. Without a
period the page shows last month's report. Others get 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.http import require_GET

from nciss_platform import clock
from nciss_platform.errors import ServiceError
from nciss_platform.reports.periodic import KINDS, kind_name, periodic_report
from nciss_platform.reports.views import _lang, _require_staff, _user

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


def last_month() -> str:
    """The month before this one in the deployment's time zone, as ``2026-11``."""
    first = timezone.localtime(clock.now(), timezone.get_default_timezone()).date().replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def _choice(request: HttpRequest) -> tuple[str, str, str]:
    _require_staff(_user(request))
    kind = request.GET.get("kind") or "monthly"
    return kind, request.GET.get("period") or last_month(), _lang(request)


@login_required
@require_GET
def statistics_page(request: HttpRequest) -> HttpResponse:
    kind, period, lang = _choice(request)
    with translation.override(lang):
        context: dict[str, Any] = {
            "lang": lang,
            "kind": kind,
            "period": period,
            "kinds": [(code, kind_name(code)) for code in KINDS],
            "query": urlencode({"kind": kind, "period": period, "lang": lang}),
        }
        try:
            found = periodic_report(kind, period, lang=lang, now=clock.now())
        except ServiceError as e:
            context["problems"] = [reason for _field, reason in e.errors]
            return render(request, "reports/statistics_page.html", context, status=400)
        report = found.report
        context.update(report.context, report=report, tlp=report.tlp, document_title=report.title)
        return render(request, "reports/statistics_page.html", context)


@login_required
@require_GET
def statistics_file(request: HttpRequest, suffix: str) -> HttpResponse:
    kind, period, lang = _choice(request)
    try:
        found = periodic_report(kind, period, lang=lang, now=clock.now())
    except ServiceError as e:
        return HttpResponse(str(e), status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(found.file(suffix), content_type=CONTENT_TYPES[suffix])
    response["Content-Disposition"] = f'attachment; filename="{found.report.filename}.{suffix}"'
    response["Cache-Control"] = "private, no-store"
    return response
