"""The dashboard page, its live panels, and the language switcher."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from nciss_platform import clock
from nciss_platform.accounts.middleware import allowed_before_second_factor
from nciss_platform.accounts.models import User
from nciss_platform.dashboard import picture, rollups, services
from nciss_platform.dashboard.language import choose_language
from nciss_platform.errors import ServiceError
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


@allowed_before_second_factor
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language (the signed-in user's own, and a cookie), then go back where the reader was."""
    try:
        chosen = choose_language(actor=cast(User, request.user), language=request.POST.get("language", ""))
    except ServiceError as exc:
        return HttpResponseBadRequest(str(exc))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        back = reverse("home") if request.user.is_authenticated else reverse("accounts:login")
    response = HttpResponseRedirect(back)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        chosen,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response
