"""Fetching e-mail from an IMAP mailbox (``nciss mail poll-imap``), for deployments without an SMTP hop.

Each message is stored (``receive_message``), then processed, then deleted from the mailbox: a
crash before the deletion fetches it again on the next poll, and the Message-ID makes that a
no-op. A message over NCISS_MAIL_MAX_BYTES is kept by nciss as its header only, so it stays in
the mailbox, flagged, and later polls pass it by.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings

from nciss_platform.mail import services

logger = logging.getLogger(__name__)

_SCHEMES = {"imaps": (993, "ssl"), "imap+tls": (143, "starttls"), "imap": (143, "")}


class MailboxError(Exception):
    """The mailbox cannot be read now (no connection, refused login, an IMAP error)."""


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    security: str  # "ssl", "starttls" or "" (plain, for a local server only)
    user: str
    password: str
    folder: str

    @classmethod
    def from_url(cls, url: str) -> Mailbox:
        """``imaps://user:password@host[:993]/Folder`` (also ``imap+tls://`` with STARTTLS, ``imap://``)."""
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in _SCHEMES or not parts.hostname or port == -1 or not parts.username:
            # The URL may hold a password: never repeat it.
            raise ValueError(
                "NCISS_IMAP_URL is not an IMAP URL that nciss can read: use imaps://user:password@host/INBOX"
            )
        default_port, security = _SCHEMES[parts.scheme]
        return cls(
            host=parts.hostname,
            port=port or default_port,
            security=security,
            user=unquote(parts.username),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
        )

    @property
    def display(self) -> str:
        """The mailbox without its password, for messages."""
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"

    def connect(self) -> imaplib.IMAP4:
        if self.security == "ssl":
            return imaplib.IMAP4_SSL(self.host, self.port, timeout=60)
        client = imaplib.IMAP4(self.host, self.port, timeout=60)
        if self.security == "starttls":
            client.starttls()
        return client


def poll(mailbox: Mailbox, client: Any = None) -> int:
    """Store, process and delete every message in the mailbox; the number stored (or found stored)."""
    try:
        client = client or mailbox.connect()
        try:
            return _fetch_all(mailbox, client)
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailboxError(f"cannot read the mailbox {mailbox.display}: {exc}") from exc


def _fetch_all(mailbox: Mailbox, client: Any) -> int:
    _ok(client.login(mailbox.user, mailbox.password), "login")
    _ok(client.select(_quoted(mailbox.folder)), f"select {mailbox.folder}")
    found = _ok(client.uid("SEARCH", None, "UNDELETED UNFLAGGED"), "search")
    uids = found[0].split() if found and found[0] else []
    for uid in uids:
        raw = _message_bytes(_ok(client.uid("FETCH", uid, "(BODY.PEEK[])"), "fetch"))
        message = services.receive_message(raw)
        if message.size > settings.NCISS_MAIL_MAX_BYTES:
            _ok(client.uid("STORE", uid, "+FLAGS", "(\\Flagged)"), "flag")
            continue
        try:
            services.process_message(message)
        except Exception:
            logger.exception("mail: %s is stored; processing it failed and will be retried", message.message_id)
        _ok(client.uid("STORE", uid, "+FLAGS", "(\\Deleted)"), "delete")
    if uids:
        _ok(client.expunge(), "expunge")
    return len(uids)


def _ok(response: tuple[str, Any], what: str) -> Any:
    status, data = response
    if status != "OK":
        raise imaplib.IMAP4.error(f"{what}: {status} {data!r}")
    return data


def _message_bytes(data: list[Any]) -> bytes:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    raise imaplib.IMAP4.error("fetch: the answer holds no message")


def _quoted(folder: str) -> str:
    return folder if re.fullmatch(r"[A-Za-z0-9._/-]+", folder) else '"' + folder.replace('"', '\\"') + '"'
