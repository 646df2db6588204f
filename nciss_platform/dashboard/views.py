"""The dashboard page and its live panels."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.dashboard import picture, rollups, services
from nciss_platform.pages import reader_language, render_page

# Who sees the national picture: the CSIRT's analysts and coordinators, and administrators.
ROLES = frozenset({User.Role.ANALYST, User.Role.COORDINATOR, User.Role.ADMINISTRATOR})
LIVE_SECONDS = 30  # how often the open page asks for new figures


def _reader(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if user.role not in ROLES and not user.is_superuser:
        raise PermissionDenied(_("Only the CSIRT's staff and administrators may open the dashboard."))
    return user


def _page(request: HttpRequest, template: str) -> HttpResponse:
    user = _reader(request)
    raw = request.GET.get("period", str(services.DEFAULT_PERIOD))
    if not raw.isdigit() or int(raw) not in services.PERIODS:
        return HttpResponseBadRequest(
            _("period: one of %(periods)s days") % {"periods": ", ".join(map(str, services.PERIODS))}
        )
    now = clock.now()
    refreshed_at = rollups.ensure_fresh(now)
    period = services.period_ending(now, int(raw))
    lang = reader_language(request)
    with translation.override(lang):
        context = picture.build(user, lang, period, now, refreshed_at)
    context["live_seconds"] = LIVE_SECONDS
    return render_page(request, template, context)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The national picture: open incidents by level, the last day, trends, heatmap, response targets, campaigns."""
    return _page(request, "dashboard/dashboard.html")


@login_required
@require_GET
def panels(request: HttpRequest) -> HttpResponse:
    """The dashboard's figures alone: what the open page fetches every LIVE_SECONDS to stay current."""
    return _page(request, "dashboard/_panels.html")
