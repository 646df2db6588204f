"""Fetching from an IMAP mailbox, against a stand-in for the IMAP server (imaplib's client calls and answers)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from nciss_platform.accounts.models import User
from nciss_platform.incidents.models import Incident
from nciss_platform.mail import imap
from nciss_platform.mail.models import InboundMessage
from nciss_platform.mail.tests.conftest import compose

pytestmark = pytest.mark.django_db

MAILBOX = imap.Mailbox.from_url("imaps://report%40cert.xa.example:s3cret@imap.cert.xa.example/CSIRT%20Reports")


class FakeIMAP:
    """The answers of an IMAP server as imaplib returns them, for a mailbox of ``messages`` by UID."""

    def __init__(self, messages: dict[bytes, bytes], *, refuse_store: int = 0) -> None:
        self.messages = dict(messages)
        self.flags: defaultdict[bytes, set[str]] = defaultdict(set)
        self.refuse_store = refuse_store
        self.calls: list[tuple[Any, ...]] = []

    def login(self, user: str, password: str) -> tuple[str, list[bytes]]:
        self.calls.append(("login", user, password))
        return "OK", [b"LOGIN completed"]

    def select(self, folder: str) -> tuple[str, list[bytes]]:
        self.calls.append(("select", folder))
        return "OK", [str(len(self.messages)).encode()]

    def uid(self, command: str, *args: Any) -> tuple[str, list[Any]]:
        if command == "SEARCH":
            skipped = {"\\Deleted", "\\Flagged"}
            return "OK", [b" ".join(uid for uid in self.messages if not self.flags[uid] & skipped)]
        if command == "FETCH":
            raw = self.messages[args[0]]
            return "OK", [(b"1 (UID " + args[0] + b" BODY[] {" + str(len(raw)).encode() + b"}", raw), b")"]
        if command == "STORE":
            if self.refuse_store:
                self.refuse_store -= 1
                return "NO", [b"STORE failed: mailbox is read-only for now"]
            self.flags[args[0]].add(args[2].strip("()"))
            return "OK", [b"STORE completed"]
        raise AssertionError(command)

    def expunge(self) -> tuple[str, list[bytes]]:
        self.messages = {uid: raw for uid, raw in self.messages.items() if "\\Deleted" not in self.flags[uid]}
        return "OK", [b"EXPUNGE completed"]

    def logout(self) -> tuple[str, list[bytes]]:
        return "BYE", [b"logging out"]


def test_it_stores_processes_and_then_deletes_each_message(reporter: User) -> None:
    server = FakeIMAP(
        {
            b"7": compose(reporter.email, "Port scan from 198.51.100.4", "All night long.").as_bytes(),
            b"9": compose("stranger@unknown.example", "Hello", "Spam").as_bytes(),
        }
    )

    assert imap.poll(MAILBOX, server) == 2

    assert server.calls[:2] == [("login", "report@cert.xa.example", "s3cret"), ("select", '"CSIRT Reports"')]
    assert server.messages == {}
    assert Incident.objects.get().title == "Port scan from 198.51.100.4"
    assert sorted(InboundMessage.objects.values_list("state", flat=True)) == ["processed", "rejected"]
    assert imap.poll(MAILBOX, server) == 0


def test_it_fetches_a_message_again_after_a_failed_delete_without_storing_it_twice(reporter: User) -> None:
    server = FakeIMAP({b"3": compose(reporter.email, "Botnet C2 traffic", "From 10.1.2.3.").as_bytes()}, refuse_store=1)

    with pytest.raises(imap.MailboxError, match="STORE failed"):
        imap.poll(MAILBOX, server)
    assert InboundMessage.objects.count() == 1 and b"3" in server.messages

    assert imap.poll(MAILBOX, server) == 1

    assert server.messages == {}
    assert InboundMessage.objects.count() == 1 and Incident.objects.count() == 1


def test_it_leaves_a_message_over_the_size_limit_in_the_mailbox_flagged(reporter: User, settings: Any) -> None:
    settings.NCISS_MAIL_MAX_BYTES = 2048
    server = FakeIMAP({b"5": compose(reporter.email, "Full disk image", "x" * 5000).as_bytes()})

    imap.poll(MAILBOX, server)

    assert b"5" in server.messages and server.flags[b"5"] == {"\\Flagged"}
    assert InboundMessage.objects.get().state == "rejected"
    assert imap.poll(MAILBOX, server) == 0  # later polls pass it by


def test_it_reads_the_mailbox_url_and_never_repeats_a_password_it_cannot_read() -> None:
    assert (MAILBOX.host, MAILBOX.port, MAILBOX.security, MAILBOX.folder) == (
        "imap.cert.xa.example",
        993,
        "ssl",
        "CSIRT Reports",
    )
    assert imap.Mailbox.from_url("imap+tls://u:p@localhost").folder == "INBOX"
    with pytest.raises(ValueError) as bad:
        imap.Mailbox.from_url("pop3://user:hunter2@mail.example")
    assert "hunter2" not in str(bad.value)


def test_it_asks_for_the_mailbox_when_none_is_configured(settings: Any) -> None:
    settings.NCISS_IMAP_URL = ""

    with pytest.raises(CommandError, match="NCISS_IMAP_URL is not set"):
        call_command("mail", "poll-imap", "--once")
