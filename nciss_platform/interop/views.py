"""The import page for CSIRT staff, and downloads of exports (the incident page's export links)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from nciss.interop import formats
from nciss_platform.accounts.models import User
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents import access
from nciss_platform.incidents.models import TLP
from nciss_platform.interop.services import exported, import_uploads, records_for_user
from nciss_platform.pages import render_page


def export_download(user: User, fmt: str, references: Sequence[str]) -> HttpResponse:
    """The user's export as a file download: only what the user may see (partners: what was shared)."""
    if fmt not in formats.EXPORT_FORMATS:
        raise ServiceError([("format", f"must be one of {', '.join(formats.EXPORT_FORMATS)}")])
    records = list(records_for_user(user, references))
    missing = set(references) - {r.reference for r in records}
    if missing:
        raise Http404(_("No incident with this reference that you may see."))
    body = io.BytesIO()
    single = len(references) == 1
    count = formats.write(fmt, records, body, single=single)
    exported(actor=user, fmt=fmt, count=count, detail={"incidents": [r.reference for r in records][:100]})
    name = references[0] if single else "incidents"
    extension = "jsonl" if fmt == "veris" and not single else formats.EXTENSIONS[fmt]
    response = HttpResponse(body.getvalue(), content_type=formats.MEDIA_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}.{extension}"'
    return response


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    try:
        return export_download(cast(User, request.user), request.GET.get("format", ""), request.GET.getlist("incident"))
    except ServiceError as e:
        return HttpResponse(str(e), status=400, content_type="text/plain; charset=utf-8")


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    if not access.can_manage(user):
        raise PermissionDenied(_("Only the CSIRT's analysts and coordinators may open this page."))
    context: dict[str, object] = {
        "formats": formats.IMPORT_FORMATS,
        "tlps": TLP.values,
        "chosen": {"format": request.POST.get("format", "stix"), "tlp": request.POST.get("tlp", TLP.AMBER)},
    }
    status = 200
    if request.method == "POST":
        try:
            summary = import_uploads(
                actor=user,
                fmt=request.POST.get("format", ""),
                uploads=request.FILES.getlist("file"),
                mapping=request.FILES.get("mapping"),
                default_tlp=request.POST.get("tlp", TLP.AMBER),
            )
            context["summary"] = summary
        except ServiceError as e:
            context["errors"] = e.errors
            status = 400
        except NotAllowed as e:
            raise PermissionDenied(str(e)) from None
    return render_page(request, "interop/import.html", context, status=status)
