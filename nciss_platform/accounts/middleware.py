"""The second factor gate: a signed-in user who needs TOTP reaches nothing else until it is verified.

After the password, staff and administrators (``User.needs_second_factor``) are signed in with
an unverified session: every page redirects them to the enrolment or verification page, and
every API call (session authentication) answers 403 in the API's error shape. Only views marked
``allowed_before_second_factor`` (sign-in, sign-out, the TOTP pages, the token endpoint, which
checks the code itself) are let through. API tokens are issued only after the code, and token
requests carry no session, so the gate never concerns them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from rest_framework.views import APIView

SESSION_KEY = "nciss_second_factor_verified"
REASON = "sign in with your one-time code first: this account needs two-factor authentication"

View = TypeVar("View", bound=Callable[..., Any])


def allowed_before_second_factor(view: View) -> View:
    """Mark a view (function or class) as reachable before the second factor is verified."""
    view.nciss_before_second_factor = True  # type: ignore[attr-defined]
    return view


def second_factor_pending(request: HttpRequest) -> bool:
    """True if the request's signed-in user still has to give their one-time code."""
    user = request.user
    return bool(user.is_authenticated and user.needs_second_factor and not request.session.get(SESSION_KEY))


def mark_second_factor_verified(request: HttpRequest) -> None:
    """The code was right: a new session key (against fixation) that remembers it."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = True


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if not second_factor_pending(request) or _allowed(view_func):
            return None
        view_class = getattr(view_func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return JsonResponse({"error": REASON, "errors": [{"path": "body", "reason": REASON}]}, status=403)
        target = "accounts:two-factor" if request.user.totp_confirmed else "accounts:two-factor-enrol"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


def _allowed(view_func: Callable[..., Any]) -> bool:
    return bool(
        getattr(view_func, "nciss_before_second_factor", False)
        or getattr(getattr(view_func, "cls", None), "nciss_before_second_factor", False)
        or getattr(getattr(view_func, "view_class", None), "nciss_before_second_factor", False)
    )
