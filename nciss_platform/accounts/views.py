"""Signing in and out: the password, then (for staff and administrators) the TOTP code.

After the password, a user who needs a second factor is signed in with an unverified session
(``middleware.SecondFactorMiddleware`` keeps them on these pages) and sent to enrol an
authenticator if they have none, else to give a code. Failed passwords and codes count
towards the login throttle (``throttle``); a locked sign-in answers 429 with the time left.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from nciss_platform import clock
from nciss_platform.accounts import services, throttle, totp
from nciss_platform.accounts.access import is_administrator
from nciss_platform.accounts.forms import CodeForm, LoginForm
from nciss_platform.accounts.middleware import (
    SESSION_KEY,
    allowed_before_second_factor,
    mark_second_factor_verified,
    second_factor_pending,
)
from nciss_platform.accounts.models import User
from nciss_platform.audit.services import record

TOTP_ISSUER = "nciss"


@allowed_before_second_factor
@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        username, password = form.cleaned_data["username"], form.cleaned_data["password"]
        ip = throttle.client_ip(request)
        lock = throttle.lockout(username, ip)
        if lock is None:
            user = authenticate(request, username=username, password=password)
            if user is not None:
                login(request, user)
                request.session[SESSION_KEY] = False
                if user.needs_second_factor:
                    return _to_second_factor(user, next_url)
                throttle.succeeded(user=user, ip=ip, stage="password")
                return redirect(next_url)
            lock = throttle.failed(username=username, ip=ip, stage="password")
            form.add_error(None, _("Wrong username or password."))
        if lock is not None:
            form.errors.clear()
            form.add_error(None, _locked_message(lock))
            status = 429
    signed_in_as = request.user if request.user.is_authenticated and "next" in request.GET else None
    context = {"form": form, "next": next_url, "signed_in_as": signed_in_as}
    return render(request, "accounts/login.html", context, status=status)


@allowed_before_second_factor
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Give the code of an enrolled authenticator."""
    next_url = _next_url(request)
    if not request.user.is_authenticated:
        return _to_login(next_url)
    user = request.user
    if not second_factor_pending(request):
        return redirect(next_url)
    if not user.totp_confirmed:
        return _to_second_factor(user, next_url)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        ip = throttle.client_ip(request)
        lock = throttle.lockout(user.username, ip)
        if lock is None:
            step = totp.matching_step(user.totp_secret, form.cleaned_data["code"], clock.now().timestamp())
            if step is not None and not throttle.otp_step_used(user, step):
                throttle.succeeded(user=user, ip=ip, stage="otp", otp_step=step)
                mark_second_factor_verified(request)
                return redirect(next_url)
            lock = throttle.failed(username=user.username, ip=ip, stage="otp", user=user)
            form.add_error("code", _("Wrong code, or a code already used. Wait for the next one and try again."))
        if lock is not None:
            form.errors.clear()
            form.add_error(None, _locked_message(lock))
            status = 429
    return render(request, "accounts/two_factor.html", {"form": form, "next": next_url}, status=status)


@allowed_before_second_factor
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: its secret, as text and as a QR code, confirmed by a first code."""
    next_url = _next_url(request)
    if not request.user.is_authenticated:
        return _to_login(next_url)
    user = request.user
    if not second_factor_pending(request):
        return redirect(next_url)
    if user.totp_confirmed:
        return _to_second_factor(user, next_url)
    secret = services.enrol_totp(actor=user, user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            step = services.confirm_totp(actor=user, user=user, code=form.cleaned_data["code"])
        except services.ServiceError as exc:
            for _field, reason in exc.errors:
                form.add_error("code", reason)
        else:
            throttle.succeeded(user=user, ip=throttle.client_ip(request), stage="otp", otp_step=step)
            mark_second_factor_verified(request)
            messages.success(request, _("Two-factor authentication is set up. You will need a code at every sign-in."))
            return redirect(next_url)
    uri = totp.provisioning_uri(secret, user.username, issuer=TOTP_ISSUER)
    context = {
        "form": form,
        "next": next_url,
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "uri": uri,
        "qr_svg": qr_svg(uri, _("QR code of the enrolment link for your authenticator app")),
    }
    return render(request, "accounts/two_factor_enrol.html", context)


@allowed_before_second_factor
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out (POST with the CSRF token only, so that no link or image can sign anyone out)."""
    if request.user.is_authenticated:
        record(request.user, "auth.logout", request.user, {"username": request.user.username})
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("accounts:login")


def admin_login(request: HttpRequest) -> HttpResponse:
    """The Django admin's login: our sign-in (with its second factor and throttle) instead of its own."""
    next_url = _next_url(request, default=reverse("admin:index"))
    if not request.user.is_authenticated:
        return _to_login(next_url)
    if is_administrator(request.user):
        return redirect(next_url)
    return render(request, "accounts/forbidden.html", status=403)


def qr_svg(text: str, label: str) -> SafeString:
    """``text`` as a QR code in inline SVG (no image library needed), labelled for screen readers."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    # The SVG is made here from path data only; the label is escaped.
    return mark_safe(svg.replace("<svg ", format_html('<svg role="img" aria-label="{}" ', label), 1))


def _next_url(request: HttpRequest, default: str | None = None) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or _home()


def _home() -> str:
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _to_login(next_url: str) -> HttpResponse:
    return redirect(f"{reverse('accounts:login')}?{urlencode({'next': next_url})}")


def _to_second_factor(user: Any, next_url: str) -> HttpResponse:
    target = "accounts:two-factor" if user.totp_confirmed else "accounts:two-factor-enrol"
    return redirect(f"{reverse(target)}?{urlencode({'next': next_url})}")


def _locked_message(lock: throttle.Lockout) -> str:
    minutes = lock.minutes_left
    return ngettext(
        "Too many failed sign-in attempts. Sign-in is locked for this account or this address: try again in %(minutes)d minute.",
        "Too many failed sign-in attempts. Sign-in is locked for this account or this address: try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


@allowed_before_second_factor
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language (the signed-in user's own, and a cookie), then go back where the reader was."""
    try:
        chosen = services.choose_language(actor=cast(User, request.user), language=request.POST.get("language", ""))
    except services.ServiceError as exc:
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
