"""The delivery channels against real servers: an SMTP server (aiosmtpd) and an HTTP webhook receiver."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.exceptions import ImproperlyConfigured

from nciss_platform.env import env_smtp
from nciss_platform.notifications.channels import (
    DeliveryError,
    message_id_for,
    post_webhook,
    send_email,
    signature,
    verify_signature,
)
from nciss_platform.outbox.registry import PermanentFailure

SECRET = "whsec-4f1c2e"
EVENT = {"event": "incident.escalated", "incident": "XA-2026-0007", "level": 4, "title": "Grid substation outage"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server accepted; RCPT TO an address in ``replies`` gets that reply instead."""

    messages: list[EmailMessage] = field(default_factory=list)
    replies: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.replies:
            return self.replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1, and the platform's SMTP settings pointing at it."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "CERT Aralia <cert@csirt.aralia.example>"
    yield box
    controller.stop()


def test_it_sends_an_email_over_smtp_with_a_stable_message_id(mailbox: Mailbox) -> None:
    for _ in range(2):  # a retry after a crash sends the very same message
        send_email(
            to="soc@grid.aralia.example",
            subject="[XA-2026-0007] Level 4: grid substation outage",
            text="A level 4 incident was reported.",
            html="<p>A <b>level 4</b> incident was reported.</p>",
            message_id=message_id_for("notification-17:email"),
            reply_to="duty@csirt.aralia.example",
            headers={"X-NCISS-Incident": "XA-2026-0007"},
        )

    first, retry = mailbox.messages
    assert first["Message-ID"] == retry["Message-ID"] == "<notification-17=3Aemail@csirt.aralia.example>"
    assert first["To"] == "soc@grid.aralia.example"
    assert first["From"] == "CERT Aralia <cert@csirt.aralia.example>"
    assert first["Reply-To"] == "duty@csirt.aralia.example"
    assert first["Auto-Submitted"] == "auto-generated"
    assert first["X-NCISS-Incident"] == "XA-2026-0007"
    assert first.get_body(("plain",)).get_content().strip() == "A level 4 incident was reported."
    assert "<b>level 4</b>" in first.get_body(("html",)).get_content()


def test_it_gives_up_on_a_recipient_the_server_refuses(mailbox: Mailbox) -> None:
    mailbox.replies["gone@grid.aralia.example"] = "550 5.1.1 No such user"

    with pytest.raises(PermanentFailure, match=re.escape("550 5.1.1 No such user")):
        send_email(to="gone@grid.aralia.example", subject="s", text="t", message_id=message_id_for("n-1"))
    assert mailbox.messages == []


def test_it_retries_a_recipient_the_server_defers(mailbox: Mailbox) -> None:
    mailbox.replies["full@grid.aralia.example"] = "452 4.2.2 Mailbox full"

    with pytest.raises(DeliveryError, match=re.escape("452 4.2.2 Mailbox full")):
        send_email(to="full@grid.aralia.example", subject="s", text="t", message_id=message_id_for("n-2"))


def test_it_retries_when_no_smtp_server_answers(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()

    with pytest.raises(DeliveryError, match=re.escape("cannot send e-mail to soc@grid.aralia.example")):
        send_email(to="soc@grid.aralia.example", subject="s", text="t", message_id=message_id_for("n-3"))


def test_it_makes_message_ids_of_any_key(settings: Any) -> None:
    settings.DEFAULT_FROM_EMAIL = "nciss@cert.example"

    assert message_id_for("incident-7.contact-3") == "<incident-7.contact-3@cert.example>"
    assert message_id_for("a b:c=d") == "<a=20b=3Ac=3Dd@cert.example>"
    assert message_id_for("a..b.") == "<a=2E=2Eb=2E@cert.example>"
    assert message_id_for("a:b") != message_id_for("a-b")
    assert message_id_for("€") == "<=E2=82=AC@cert.example>"


def test_it_refuses_a_message_id_without_a_domain(mailbox: Mailbox) -> None:
    with pytest.raises(ValueError, match="not a Message-ID"):
        send_email(to="soc@grid.aralia.example", subject="s", text="t", message_id="notification-17")


@dataclass
class Received:
    path: str
    headers: Message  # names matched without regard to case, as in HTTP
    body: bytes
    verified: bool


@dataclass
class WebhookReceiver:
    """An HTTP endpoint that checks signatures; the path chooses the answer (``/status/503``, ``/slow``)."""

    received: list[Received] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    endpoint = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            verified = verify_signature(SECRET, self.headers, body)
            endpoint.received.append(Received(self.path, self.headers, body, verified))
            if self.path == "/slow":
                time.sleep(1)
            status = int(self.path.rpartition("/")[2]) if self.path.startswith("/status/") else 200
            status = status if verified else 401
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "/elsewhere")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    endpoint.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield endpoint
    server.shutdown()
    server.server_close()


def test_it_posts_a_signed_webhook_the_receiver_can_verify(receiver: WebhookReceiver) -> None:
    status = post_webhook(
        url=f"{receiver.url}/hooks/nciss", secret=SECRET, payload=EVENT, idempotency_key="notification-17:webhook"
    )

    assert status == 200
    (received,) = receiver.received
    assert received.verified
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["Idempotency-Key"] == "notification-17:webhook"
    assert received.headers["X-NCISS-Event"] == "incident.escalated"
    assert received.body == (
        b'{"event":"incident.escalated","incident":"XA-2026-0007","level":4,"title":"Grid substation outage"}'
    )


def test_it_sends_the_same_body_and_key_on_a_retry(receiver: WebhookReceiver) -> None:
    for _ in range(2):
        post_webhook(url=f"{receiver.url}/hooks", secret=SECRET, payload=dict(EVENT), idempotency_key="n-17")

    first, retry = receiver.received
    assert (first.body, first.headers["Idempotency-Key"]) == (retry.body, retry.headers["Idempotency-Key"])
    assert first.verified and retry.verified


def test_it_rejects_a_tampered_body_a_wrong_secret_and_a_stale_signature(receiver: WebhookReceiver) -> None:
    post_webhook(url=f"{receiver.url}/hooks", secret=SECRET, payload=EVENT, idempotency_key="n-18")
    received = receiver.received[0]
    tampered = received.body.replace(b'"level":4', b'"level":1')

    assert verify_signature(SECRET, received.headers, received.body)
    assert not verify_signature(SECRET, received.headers, tampered)
    assert not verify_signature("another-secret", received.headers, received.body)
    assert not verify_signature(SECRET, {}, received.body)
    stale = str(int(time.time()) - 600)
    assert not verify_signature(SECRET, {"X-NCISS-Signature": signature(SECRET, stale, received.body)}, received.body)


def test_it_accepts_any_of_several_signatures_and_headers_in_any_case() -> None:
    body = b'{"event":"incident.created"}'
    now = str(int(time.time()))
    new = signature("new-secret", now, body).rpartition("v1=")[2]
    old = signature("old-secret", now, body).rpartition("v1=")[2]

    assert verify_signature("old-secret", {"x-nciss-signature": f"t={now},v1={new},v1={old}"}, body)
    assert not verify_signature("old-secret", {"x-nciss-signature": f"t={now},v1={new}"}, body)
    assert not verify_signature("old-secret", {"x-nciss-signature": f"v1={old}"}, body)


def test_it_refuses_a_webhook_sent_to_another_secret(receiver: WebhookReceiver) -> None:
    with pytest.raises(PermanentFailure, match="answered 401"):
        post_webhook(url=f"{receiver.url}/hooks", secret="not-the-receivers", payload=EVENT, idempotency_key="n-19")


@pytest.mark.parametrize("status", [500, 503, 408, 429])
def test_it_retries_a_webhook_the_receiver_asks_to_repeat(receiver: WebhookReceiver, status: int) -> None:
    with pytest.raises(DeliveryError, match=f"answered {status}"):
        post_webhook(url=f"{receiver.url}/status/{status}", secret=SECRET, payload=EVENT, idempotency_key="n-20")


@pytest.mark.parametrize("status", [400, 404, 410, 302])
def test_it_gives_up_on_a_webhook_the_receiver_refuses(receiver: WebhookReceiver, status: int) -> None:
    with pytest.raises(PermanentFailure, match=f"answered {status}"):
        post_webhook(url=f"{receiver.url}/status/{status}", secret=SECRET, payload=EVENT, idempotency_key="n-21")
    assert [received.path for received in receiver.received] == [f"/status/{status}"]  # no redirect followed


def test_it_retries_a_webhook_that_times_out(receiver: WebhookReceiver) -> None:
    with pytest.raises(DeliveryError, match="did not answer"):
        post_webhook(url=f"{receiver.url}/slow", secret=SECRET, payload=EVENT, idempotency_key="n-22", timeout=0.2)


def test_it_retries_a_webhook_nobody_listens_to() -> None:
    with pytest.raises(DeliveryError, match="did not answer"):
        post_webhook(url=f"http://127.0.0.1:{free_port()}/", secret=SECRET, payload=EVENT, idempotency_key="n-23")


def test_it_posts_webhooks_over_http_only() -> None:
    with pytest.raises(PermanentFailure, match="not an http"):
        post_webhook(url="file:///etc/passwd", secret=SECRET, payload=EVENT, idempotency_key="n-24")


def test_it_reads_the_smtp_server_from_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NCISS_SMTP_URL", "smtp+tls://cert%40aralia:p%3Ass@mail.aralia.example")
    assert env_smtp("NCISS_SMTP_URL") == {
        "EMAIL_HOST": "mail.aralia.example",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "cert@aralia",
        "EMAIL_HOST_PASSWORD": "p:ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
    }
    monkeypatch.setenv("NCISS_SMTP_URL", "smtps://mail.aralia.example:2465")
    assert env_smtp("NCISS_SMTP_URL") == {
        "EMAIL_HOST": "mail.aralia.example",
        "EMAIL_PORT": 2465,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": True,
    }


def test_it_refuses_an_smtp_url_it_cannot_read_without_repeating_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NCISS_SMTP_URL", "imap://cert:hunter2@mail.aralia.example")
    with pytest.raises(ImproperlyConfigured, match="not an SMTP URL") as refused:
        env_smtp("NCISS_SMTP_URL")
    assert "hunter2" not in str(refused.value)
