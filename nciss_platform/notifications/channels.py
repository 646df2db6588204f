"""Delivery channels: e-mail over SMTP and signed JSON webhooks.

Both are called from outbox handlers and are safe to repeat: an e-mail keeps the same Message-ID
and a webhook the same ``Idempotency-Key`` header and body on every attempt, so that a recipient
recognises a retry after a crash. ``DeliveryError`` means "try again later" (the outbox retries with
backoff); ``PermanentFailure`` means the recipient refused for good (the job is dead-lettered).

Webhook signature: ``X-NCISS-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` with
the endpoint's secret; receivers check it with ``verify_signature`` (or the same few lines in any
language) and reject timestamps outside a tolerance to stop replays. Header names are matched
without regard to case, as HTTP says (the standard library sends ``X-Nciss-Signature``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import Message
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from nciss_platform.outbox.registry import PermanentFailure, TemporaryFailure

SIGNATURE_HEADER = "X-NCISS-Signature"
USER_AGENT = "nciss-webhook/1"

# RFC 5322 atext without "=", which escapes the other characters' UTF-8 bytes in a Message-ID.
_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/?^_`{|}~.-]")
_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")


class DeliveryError(TemporaryFailure):
    """The recipient could not be reached or answered "later" (timeout, 5xx, 408, 429): retry."""


def message_id_for(idempotency_key: str) -> str:
    """The stable Message-ID ``<key@domain>`` of a notification's e-mail, domain from DEFAULT_FROM_EMAIL."""
    local = "".join(
        char if _ATEXT.fullmatch(char) else "".join(f"={byte:02X}" for byte in char.encode())
        for char in idempotency_key
    )
    local = re.sub(r"\.{2,}|^\.|\.$", lambda dots: "=2E" * len(dots.group()), local)
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"
    return f"<{local}@{domain}>"


def send_email(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    message_id: str,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Send one e-mail with Django's configured backend (SMTP in production).

    ``message_id`` is the full ``<...@...>`` value (see ``message_id_for()``): the same on every
    retry. A recipient refused with a 5xx reply is a ``PermanentFailure``; anything else that
    fails (no connection, timeout, 4xx reply) is a ``DeliveryError``.
    """
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError(f"not a Message-ID: {message_id!r} (expected <id@domain>)")
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[to],
        reply_to=[reply_to] if reply_to else None,
        headers={**(headers or {}), "Message-ID": message_id, "Auto-Submitted": "auto-generated"},
        connection=get_connection(fail_silently=False),
    )
    if html is not None:
        email.attach_alternative(html, "text/html")
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        _raise_for_smtp_reply(code, reply, f"{to} refused")
    except smtplib.SMTPResponseException as exc:
        _raise_for_smtp_reply(exc.smtp_code, exc.smtp_error, "message refused")
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"cannot send e-mail to {to}: {exc}") from exc


def _raise_for_smtp_reply(code: int, reply: bytes | str, what: str) -> None:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    if 500 <= code < 600:
        raise PermanentFailure(f"{what}: {code} {text}")
    raise DeliveryError(f"{what} for now: {code} {text}")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-NCISS-Signature`` value: ``t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str, headers: Mapping[str, str] | Message, body: bytes, *, tolerance_seconds: int = 300
) -> bool:
    """Whether ``body`` was signed with ``secret`` less than ``tolerance_seconds`` ago (either way).

    ``headers`` may be any mapping, or the headers of ``http.server``; names are matched without
    regard to case. Several ``v1`` values may be given, any of which may match, so that a sender
    can rotate its secret.
    """
    value = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), None)
    if value is None:
        return False
    fields = [part.strip().partition("=") for part in value.split(",")]
    timestamps = [v for k, _, v in fields if k == "t"]
    signatures = [v for k, _, v in fields if k == "v1"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
        return False
    if abs(time.time() - int(timestamps[0])) > tolerance_seconds:
        return False
    expected = signature(secret, timestamps[0], body).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook is posted to its URL only: a redirect is an answer (and a misconfiguration), never followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post_webhook(*, url: str, secret: str, payload: dict[str, Any], idempotency_key: str, timeout: float = 10) -> int:
    """POST ``payload`` as signed JSON to ``url``; the HTTP status of a 2xx answer.

    The body is the same bytes on every attempt (keys sorted), with the headers ``Idempotency-Key``,
    ``X-NCISS-Event`` (``payload["event"]``) and ``X-NCISS-Signature``. Raises ``DeliveryError`` on
    no answer, a timeout, 5xx, 408 or 429, and ``PermanentFailure`` on any other answer.
    """
    if not url.lower().startswith(("https://", "http://")):
        raise PermanentFailure(f"not an http(s) URL: {url!r}")
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": idempotency_key,
            "X-NCISS-Event": str(payload.get("event", "")),
            SIGNATURE_HEADER: signature(secret, str(int(time.time())), body),
        },
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
        if status >= 500 or status in (408, 429):
            raise DeliveryError(f"{url} answered {status}") from None
        raise PermanentFailure(f"{url} answered {status}") from None
    except OSError as exc:  # URLError, timeouts, refused or reset connections
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{url} did not answer: {reason}") from exc
