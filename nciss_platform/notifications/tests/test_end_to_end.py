"""End to end: a report goes out through a real local SMTP server and a real webhook receiver."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.incidents.tests.conftest import T0, report
from nciss_platform.notifications.channels import message_id_for, verify_signature
from nciss_platform.notifications.models import Contact, Notification, RoutingRule
from nciss_platform.outbox.models import JobAttempt
from nciss_platform.outbox.worker import run_due_jobs

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "cert@cert.xa.example"
    yield box
    controller.stop()


class Receiver:
    """A webhook endpoint that answers 503 to the first call and 204 after, keeping each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers.items()), body))
                self.send_response(503 if len(receiver.calls) == 1 else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/nciss"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_it_delivers_by_smtp_and_signed_webhook_once_each_retrying_with_the_same_key(
    reporter: User, energy_rule: RoutingRule, crisis_desk: Contact, mailbox: Mailbox, receiver: Receiver, api: Any
) -> None:
    crisis_desk.channels = ["email", "webhook"]
    crisis_desk.webhook_url, crisis_desk.webhook_secret = receiver.url, "crisis-secret"
    crisis_desk.save()
    incident = report(reporter, title="Grid control room dark")

    run_due_jobs(T0)
    # e-mail: the Russian-speaking regulator desk and the crisis cell, each once, with a stable Message-ID
    by_recipient = {str(m["To"]): m for m in mailbox.messages}
    assert set(by_recipient) == {
        "regulator.duty.desk@energy-regulator.example",
        "crisis.cell.watch@crisis-cell.example",
    }
    russian = by_recipient["regulator.duty.desk@energy-regulator.example"]
    desk_mail = Notification.objects.get(incident=incident, contact__name="Regulator Duty Desk")
    assert str(russian["Message-ID"]).strip() == message_id_for(desk_mail.idempotency_key)  # folded: long
    assert str(russian["Idempotency-Key"]).strip() == desk_mail.idempotency_key
    assert "новый инцидент" in str(russian["Subject"]) and "Энергетика" in russian.get_content()
    assert desk_mail.state == "sent" and desk_mail.sent_at == T0

    # webhook: refused once (503), so it waits for its retry
    hook = Notification.objects.get(incident=incident, contact=crisis_desk, channel="webhook")
    assert hook.state == "pending" and len(receiver.calls) == 1
    run_due_jobs(T0.replace(hour=10))
    hook.refresh_from_db()
    assert hook.state == "sent" and len(receiver.calls) == 2
    (first_headers, first_body), (headers, body) = receiver.calls
    assert first_body == body and first_headers["Idempotency-Key"] == headers["Idempotency-Key"] == hook.idempotency_key
    assert verify_signature("crisis-secret", headers, body, tolerance_seconds=3600)
    payload = json.loads(body)
    assert payload["incident"]["reference"] == incident.reference and payload["event"] == "reported"
    outcomes = JobAttempt.objects.filter(job__key__endswith=hook.idempotency_key).values_list("outcome", flat=True)
    assert list(outcomes) == ["retry", "ok"]  # the delivery log keeps every attempt

    # nothing goes out twice, however often the worker runs
    run_due_jobs(T0.replace(hour=10, minute=30))
    assert len(mailbox.messages) == 2 and len(receiver.calls) == 2

    # the receiver acknowledges with the token its payload carries
    token = payload["acknowledge_url"].rsplit("/ack/", 1)[1]
    with clock.frozen(T0.replace(hour=10, minute=40)):
        assert api(None).post("/api/v1/acknowledgements", {"token": token}, format="json").status_code == 200
    assert Notification.objects.filter(contact=crisis_desk, acknowledged_via="api").count() == 2
