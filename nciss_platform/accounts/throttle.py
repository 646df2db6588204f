"""Login throttling, shared by the sign-in pages and the token API.

``NCISS_LOGIN_MAX_FAILURES`` failed attempts for one username (or
``NCISS_LOGIN_MAX_FAILURES_PER_ADDRESS`` from one address) within ``NCISS_LOGIN_LOCKOUT_MINUTES``
lock that username (or address) for ``NCISS_LOGIN_LOCKOUT_MINUTES`` after the last of them.
A wrong one-time code counts as a failure like a wrong password. While locked, attempts are
refused without looking at the password and are not counted, so a lockout never grows by itself.
A completed sign-in clears a username's failures (never an address's).

Attempts are rows (``LoginAttempt``), so the limits hold across server processes; failures and
lockouts are written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from nciss_platform import clock
from nciss_platform.accounts.models import LoginAttempt, User
from nciss_platform.audit.services import record

# Attempts older than this are deleted as new ones are written: enough for any lockout and a
# month of sign-in history, while a flood of failures cannot grow the table without end.
KEEP = dt.timedelta(days=30)


@dataclass(frozen=True)
class Lockout:
    """Sign-in refused until ``until``, because of the ``scope`` ("username" or "address")."""

    until: dt.datetime
    scope: str

    @property
    def retry_after(self) -> int:
        """Whole seconds left, for the Retry-After header."""
        return max(1, math.ceil((self.until - clock.now()).total_seconds()))

    @property
    def minutes_left(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the connection's, or the last entry of NCISS_CLIENT_IP_HEADER behind a proxy."""
    header = settings.NCISS_CLIENT_IP_HEADER
    if header:
        forwarded = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
        if entries and _is_address(entries[-1]):
            return entries[-1]
    address = request.META.get("REMOTE_ADDR") or ""
    return address if _is_address(address) else None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def lockout(username: str, ip: str | None) -> Lockout | None:
    """The lockout in force for this username or this address, the later one if both are."""
    now = clock.now()
    found = []
    until = _locked_until(
        LoginAttempt.objects.filter(username=_short(username)), settings.NCISS_LOGIN_MAX_FAILURES, now, resets=True
    )
    if until is not None:
        found.append(Lockout(until, "username"))
    if ip:
        until = _locked_until(
            LoginAttempt.objects.filter(ip=ip, succeeded=False),
            settings.NCISS_LOGIN_MAX_FAILURES_PER_ADDRESS,
            now,
            resets=False,
        )
        if until is not None:
            found.append(Lockout(until, "address"))
    return max(found, key=lambda lock: lock.until, default=None)


def _locked_until(
    attempts: QuerySet[LoginAttempt], limit: int, now: dt.datetime, *, resets: bool
) -> dt.datetime | None:
    period = dt.timedelta(minutes=settings.NCISS_LOGIN_LOCKOUT_MINUTES)
    recent = attempts.filter(at__gt=now - 2 * period).order_by("-at").values_list("at", "succeeded")[:limit]
    failures = []
    for at, succeeded in recent:
        if succeeded and resets:
            break
        failures.append(at)
    if len(failures) < limit or failures[0] - failures[-1] > period:
        return None
    until = failures[0] + period
    return until if until > now else None


def failed(*, username: str, ip: str | None, stage: str, user: User | None = None) -> Lockout | None:
    """Count a failed attempt and audit it; return the lockout it started, if it started one."""
    now = clock.now()
    with transaction.atomic():
        _write(username=username, ip=ip, stage=stage, succeeded=False, now=now)
        about = {"object_type": "user", "object_id": _short(username)[:60]}
        record(None, "auth.login_failed", user, {"username": _short(username), "ip": ip, "stage": stage}, **about)
        lock = lockout(username, ip)
        if lock is not None:
            data = {"username": _short(username), "ip": ip, "scope": lock.scope, "until": lock.until.isoformat()}
            record(None, "auth.lockout", user, data, **about)
    return lock


def succeeded(*, user: User, ip: str | None, stage: str, otp_step: int | None = None) -> None:
    """Note and audit a completed sign-in (after the second factor if one is needed); it clears the username's failures."""
    with transaction.atomic():
        _write(username=user.username, ip=ip, stage=stage, succeeded=True, now=clock.now(), otp_step=otp_step)
        record(user, "auth.login", user, {"username": user.username, "ip": ip, "stage": stage})


def otp_step_used(user: User, step: int) -> bool:
    """Whether a code of this time step (or a later one) was already accepted for this user."""
    return LoginAttempt.objects.filter(username=user.username, succeeded=True, otp_step__gte=step).exists()


def _write(
    *, username: str, ip: str | None, stage: str, succeeded: bool, now: dt.datetime, otp_step: int | None = None
) -> None:
    LoginAttempt.objects.filter(at__lt=now - KEEP).delete()
    LoginAttempt.objects.create(
        at=now, username=_short(username), ip=ip, stage=stage, succeeded=succeeded, otp_step=otp_step
    )


def _short(username: str) -> str:
    return username[:150]
