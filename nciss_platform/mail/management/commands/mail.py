"""``nciss mail serve`` (receive by SMTP or LMTP) and ``nciss mail poll-imap`` (fetch from a mailbox)."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from nciss_platform.mail import imap
from nciss_platform.mail.server import InboundController


class Command(BaseCommand):
    help = (
        "E-mail with reporters: `serve` receives messages by SMTP (or LMTP with --lmtp); `poll-imap` fetches "
        "them from the mailbox NCISS_IMAP_URL. Each message is stored first, then becomes an incident or "
        "joins the incident it answers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{serve,poll-imap}")
        serve = actions.add_parser("serve", help="receive e-mail by SMTP or LMTP until stopped")
        serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
        serve.add_argument("--port", type=int, default=2525, help="port to listen on (default: 2525)")
        serve.add_argument("--lmtp", action="store_true", help="speak LMTP (for delivery from a local MTA)")
        poll = actions.add_parser("poll-imap", help="fetch e-mail from NCISS_IMAP_URL, deleting what is stored")
        poll.add_argument("--once", action="store_true", help="fetch once, then exit")
        poll.add_argument("--interval", type=float, default=60, help="seconds between fetches (default: 60)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "serve":
            self._serve(options["host"], options["port"], lmtp=options["lmtp"])
        else:
            self._poll(once=options["once"], interval=options["interval"])

    def _serve(self, host: str, port: int, *, lmtp: bool) -> None:
        controller = InboundController(host=host, port=port, lmtp=lmtp)
        try:
            controller.start()
        except Exception as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from exc
        protocol = "LMTP" if lmtp else "SMTP"
        self.stdout.write(f"nciss: receiving e-mail for {settings.NCISS_MAIL_ADDRESS} by {protocol} on {host}:{port}")
        self.stdout.flush()
        try:
            _until_stopped().wait()
        finally:
            controller.stop()

    def _poll(self, *, once: bool, interval: float) -> None:
        if not settings.NCISS_IMAP_URL:
            raise CommandError("NCISS_IMAP_URL is not set: e.g. imaps://user:password@imap.example/INBOX")
        try:
            mailbox = imap.Mailbox.from_url(settings.NCISS_IMAP_URL)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        stop = threading.Event() if once else _until_stopped()
        while True:
            try:
                count = imap.poll(mailbox)
            except imap.MailboxError as exc:
                if once:
                    raise CommandError(str(exc)) from exc
                self.stderr.write(f"nciss: {exc}; trying again in {interval:g} s")
            else:
                if count or once:
                    self.stdout.write(f"nciss: {count} message(s) fetched from {mailbox.display}")
            if once or stop.wait(interval):
                return


def _until_stopped() -> threading.Event:
    """An event set by SIGTERM or Ctrl-C."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop
