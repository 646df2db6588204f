"""The SMTP/LMTP server of ``nciss mail serve``: every message is stored, then processed, then acknowledged.

A message is answered ``250`` only once it is stored in the database (``receive_message``), so
that the sending server keeps it until then; if storing fails, the answer is ``451`` and the
sender tries again later. Processing follows at once; if it fails the message is stored anyway
and the outbox job ``mail.process`` retries it. Messages larger than NCISS_MAIL_MAX_BYTES are
refused with ``552`` during the transfer. The server relays nothing: it only receives.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from django.conf import settings
from django.db import connections

from nciss_platform.mail import services

logger = logging.getLogger(__name__)

ACCEPTED = "250 2.0.0 Stored"
TRY_LATER = "451 4.3.0 The message cannot be stored now: try again later"


class InboundHandler:
    """aiosmtpd handler: store and process each message in a thread (the ORM is synchronous)."""

    def __init__(self, *, lmtp: bool = False, threads: int = 4) -> None:
        self.lmtp = lmtp
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="nciss-mail")

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or b""
        sender = envelope.mail_from or services.NULL_SENDER
        recipients = list(envelope.rcpt_tos)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self.executor, deliver, bytes(raw), sender, recipients)
        except Exception:
            logger.exception("mail: a message from %s could not be stored", sender)
            status = TRY_LATER
        else:
            status = ACCEPTED
        # LMTP answers DATA once per recipient: the message is stored once for all of them.
        return "\r\n".join([status] * len(recipients)) if self.lmtp else status

    def close(self) -> None:
        self.executor.shutdown(wait=True)


def deliver(raw: bytes, envelope_from: str, recipients: list[str]) -> None:
    """Store the message (raises if it cannot be), then process it (a failure is left to the outbox)."""
    try:
        message = services.receive_message(raw, envelope_from=envelope_from, recipients=recipients)
        try:
            services.process_message(message)
        except Exception:
            logger.exception("mail: %s is stored; processing it failed and will be retried", message.message_id)
    finally:
        connections.close_all()


class InboundController(Controller):
    """An aiosmtpd controller serving SMTP, or LMTP with ``lmtp=True``, in a thread of its own."""

    def __init__(self, *, host: str, port: int, lmtp: bool = False) -> None:
        self.lmtp = lmtp
        self.inbound = InboundHandler(lmtp=lmtp)
        domain = settings.NCISS_MAIL_ADDRESS.rpartition("@")[2].strip("> ") or "localhost"
        super().__init__(
            self.inbound,
            hostname=host,
            port=port,
            server_hostname=domain,
            data_size_limit=settings.NCISS_MAIL_MAX_BYTES,
            enable_SMTPUTF8=True,
        )

    def factory(self) -> SMTP:
        server_class = LMTP if self.lmtp else SMTP
        return server_class(self.handler, **self.SMTP_kwargs)

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert=no_assert)
        self.inbound.close()
