"""Reading an e-mail: who sent it, what it answers, its text (HTML made plain) and its attachments."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
MESSAGE_ID_LENGTH = 255
REFERENCE = re.compile(r"\bNCISS-\d{4}-\d{6,}\b")
TLP_LABEL = re.compile(r"\bTLP:(CLEAR|GREEN|AMBER\+STRICT|AMBER|RED)\b", re.IGNORECASE)
SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|antw|отв|пересл)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
# "On <date>, <someone> wrote:" introducing a quoted message, in the languages of the platform and a few more.
QUOTE_INTRO = re.compile(r"(wrote|writes|schrieb|a écrit|пишет|написал\(а\)|написал|написала|yozdi)\s*:\s*$", re.I)
ORIGINAL_MESSAGE = re.compile(r"^\s*-{2,}\s*(original message|исходное сообщение)\s*-{2,}\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class MailAttachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class Envelope:
    """The headers nciss stores with every message, read even from a message it cannot otherwise use."""

    message_id: str
    sender: str
    subject: str
    references: list[str] = field(default_factory=list)


@dataclass
class ParsedMail:
    sender: str
    subject: str
    text: str
    attachments: list[MailAttachment]
    references: list[str]
    automatic: str  # why it is an automatic message (a bounce, an out-of-office reply); empty for a person's


def read_envelope(raw: bytes) -> Envelope:
    """Message-ID, From address, subject and the Message-IDs it answers; never raises.

    A message without a usable Message-ID is named by the digest of its bytes, so that the same
    message delivered twice is still recognised.
    """
    try:
        message = _parse(raw, headers_only=True)
        ids = MESSAGE_ID.findall(str(message.get("Message-ID", "")))
        message_id = ids[0] if ids and len(ids[0]) <= MESSAGE_ID_LENGTH else ""
        return Envelope(
            message_id=message_id or f"<{hashlib.sha256(raw).hexdigest()}@received.nciss.invalid>",
            sender=_sender(message),
            subject=_one_line(str(message.get("Subject", ""))),
            references=_references(message),
        )
    except Exception:  # a malformed header: the message is still kept, under its digest
        return Envelope(message_id=f"<{hashlib.sha256(raw).hexdigest()}@received.nciss.invalid>", sender="", subject="")


def parse(raw: bytes) -> ParsedMail:
    """The whole message. Raises ``ValueError`` when it cannot be read."""
    try:
        message = _parse(raw, headers_only=False)
        body = message.get_body(preferencelist=("plain", "html"))
        text = ""
        if body is not None:
            text = _decoded_text(body)
            if body.get_content_type() == "text/html":
                text = html_to_text(text)
        return ParsedMail(
            sender=_sender(message),
            subject=_one_line(str(message.get("Subject", ""))),
            text=_clean_text(text),
            attachments=[a for part in _leaves(message) if part is not body and (a := _attachment(part))],
            references=_references(message),
            automatic=_automatic(message),
        )
    except Exception as exc:
        raise ValueError(f"the message cannot be read: {exc}") from exc


def _parse(raw: bytes, *, headers_only: bool) -> EmailMessage:
    parser = email.parser.BytesParser(policy=email.policy.default)
    message = parser.parsebytes(raw, headersonly=headers_only)
    assert isinstance(message, EmailMessage)
    return message


def _sender(message: Message) -> str:
    addresses = [address for _name, address in getaddresses([str(message.get("From", ""))]) if "@" in address]
    return addresses[0].strip() if addresses else ""


def _references(message: Message) -> list[str]:
    """The Message-IDs the message answers, nearest first: In-Reply-To, then References from the end."""
    in_reply_to = MESSAGE_ID.findall(str(message.get("In-Reply-To", "")))
    references = MESSAGE_ID.findall(str(message.get("References", "")))
    return list(dict.fromkeys([*in_reply_to, *reversed(references)]))


def _automatic(message: Message) -> str:
    auto_submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"an automatic message (Auto-Submitted: {auto_submitted})"
    if message.get_content_type() == "multipart/report":
        return "a delivery or read report"
    if str(message.get("Precedence", "")).strip().lower() in ("bulk", "junk", "list"):
        return f"an automatic message (Precedence: {str(message['Precedence']).strip().lower()})"
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "an automatic reply"
    return ""


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _leaves(part: Message) -> list[Message]:
    """The message's parts that are not containers; an attached message counts as one part."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        return [part]
    children = part.get_payload()
    assert isinstance(children, list)
    return [leaf for child in children for leaf in _leaves(child)]


def _attachment(part: Message) -> MailAttachment | None:
    """The part as an attachment when it is one: named, marked as an attachment, or an attached message."""
    content_type = part.get_content_type()
    name = part.get_filename() or ""
    if content_type == "message/rfc822":
        inner = part.get_payload(0)
        assert isinstance(inner, Message)
        subject = _one_line(str(inner.get("Subject", ""))) or "message"
        return MailAttachment(name or f"{_safe_name(subject)}.eml", content_type, inner.as_bytes())
    if not name and part.get_content_disposition() != "attachment":
        return None
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return None
    return MailAttachment(_safe_name(name) or "attachment", content_type, data)


def _safe_name(name: str) -> str:
    """A file name without folders or control characters, at most 100 characters (its extension kept)."""
    name = re.sub(r"[\x00-\x1f\x7f/\\]", "_", name).strip(" .")
    if len(name) > 100:
        stem, dot, extension = name.rpartition(".")
        name = f"{stem[: 99 - len(extension)]}.{extension}" if dot and len(extension) <= 10 else name[:100]
    return name


def _decoded_text(part: Any) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError):  # an unknown or wrong charset: read what can be read
        data = part.get_payload(decode=True) or b""
        return data.decode("utf-8", errors="replace")


def _clean_text(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def without_quoted_reply(text: str) -> str:
    """The text of an answer without the message it quotes at its end (">" lines, "... wrote:").

    Quotes inside the text (an answer written between quoted lines) stay; if nothing but a
    quote is left, the whole text is kept.
    """
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if ORIGINAL_MESSAGE.match(line):
            lines = lines[:number]
            break
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
        lines.pop()
    if len(lines) < len(text.split("\n")) and lines and QUOTE_INTRO.search(lines[-1]):
        lines.pop()
    kept = "\n".join(lines).strip()
    return kept or text


class _TextExtractor(HTMLParser):
    """Text runs with the breaks block elements put between them: a line break, or a blank line for a paragraph."""

    LINES = frozenset({"div", "dd", "dt", "li", "tr", "address"})
    PARAGRAPHS = frozenset(
        {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "dl", "table", "hr", "section"}
        | {"article", "header", "footer"}
    )
    HIDDEN = frozenset({"head", "script", "style", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.pending = 0  # line breaks owed before the next text
        self.links: list[str | None] = []

    def _break(self, lines: int) -> None:
        self.pending = max(self.pending, lines)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.pending += 1  # each ends a line, so <div><br></div> is an empty one
        elif tag in self.PARAGRAPHS:
            self._break(2)
        elif tag in self.LINES:
            self._break(1)
        if tag == "li":
            self._text("- ")
        elif tag == "td":
            self._text(" ")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.PARAGRAPHS:
            self._break(2)
        elif tag in self.LINES:
            self._break(1)
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and href.lower().startswith(("http://", "https://")) and not "".join(self.parts).endswith(href):
                self._text(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self._text(re.sub(r"\s+", " ", data))

    def _text(self, text: str) -> None:
        if not text.strip():
            if self.parts and not self.pending:
                self.parts.append(text)
            return
        if self.parts and self.pending:
            self.parts.append("\n" * self.pending)
        self.pending = 0
        self.parts.append(text)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML mail: paragraphs and line breaks kept, list items dashed, link targets shown."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    text = "".join(extractor.parts)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
