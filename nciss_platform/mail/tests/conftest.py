"""E-mail test set-up on top of the incident personas: addresses, and real local SMTP servers.

``inbound`` is nciss's own server (``nciss mail serve``'s controller, in this process) on a free
port; ``reporters_mail`` is the reporters' mail server, where nciss's outgoing mail is delivered
(EMAIL_HOST/EMAIL_PORT point at it). ``send(...)`` writes an e-mail with smtplib through the
inbound server, as a reporter's mail client would.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import smtplib
import socket
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from nciss_platform.accounts.models import User
from nciss_platform.incidents.tests.conftest import *  # noqa: F403  (the incident personas and helpers)
from nciss_platform.mail.server import InboundController

CSIRT_ADDRESS = "report@cert.xa.example"
Send = Callable[..., EmailMessage]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def mail_settings(settings: Any) -> None:
    settings.NCISS_MAIL_ADDRESS = CSIRT_ADDRESS
    settings.DEFAULT_FROM_EMAIL = "cert@cert.xa.example"
    settings.NCISS_BASE_URL = "https://nciss.cert.xa.example"


@pytest.fixture
def reporter(energy: Any) -> User:
    """The energy operator's reporter, with an e-mail address and Russian as her language."""
    return User.objects.create_user(
        "grid-reporter",
        email="Dilnoza.Karimova@aralia-grid.example",
        first_name="Dilnoza",
        last_name="Karimova",
        role="reporter",
        organisation=energy,
        language="ru",
    )


@pytest.fixture
def ministry_reporter(ministry: Any) -> User:
    return User.objects.create_user(
        "ministry-reporter", email="it-security@mof.xa.example", role="reporter", organisation=ministry
    )


@pytest.fixture
def analyst(csirt: Any) -> User:
    return User.objects.create_user(
        "analyst", email="analyst@cert.xa.example", first_name="Timur", role="analyst", organisation=csirt
    )


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts, parsed, with its envelope."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@pytest.fixture
def reporters_mail(settings: Any) -> Iterator[Mailbox]:
    """The reporters' mail server: nciss delivers its outgoing e-mail here."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield box
    controller.stop()


@pytest.fixture
def inbound() -> Iterator[InboundController]:
    """nciss's own SMTP server (what `nciss mail serve` runs), on a free port."""
    controller = InboundController(host="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


def header(message: EmailMessage, name: str) -> str:
    """A header's value unfolded (long Message-IDs are folded onto a second line)."""
    return " ".join(str(message[name] or "").split())


def compose(sender: str, subject: str, text: str = "", **headers: str) -> EmailMessage:
    """An e-mail to the CSIRT; header names with underscores (In_Reply_To) get dashes."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = CSIRT_ADDRESS
    message["Subject"] = subject
    message["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2] or "example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


@pytest.fixture
def send(inbound: InboundController) -> Send:
    """``send(message)`` or ``send(sender, subject, text, **headers)`` through the inbound server."""

    def deliver(*args: Any, **headers: str) -> EmailMessage:
        message = args[0] if isinstance(args[0], EmailMessage) else compose(*args, **headers)
        with smtplib.SMTP(inbound.hostname, inbound.port, timeout=30) as client:
            client.send_message(message)
        return message

    return deliver
