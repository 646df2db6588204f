"""E-mail with reporters: receiving a message, processing it, replying from an incident.

``receive_message`` stores a message before anything reads it, once per Message-ID, and queues
its processing (outbox job ``mail.process``); ``process_message`` turns it into a new incident or
a comment on the incident it answers, or rejects it with a reason (the message stays, for the
CSIRT's inbox). ``reply_to_reporter`` puts an analyst's reply in the incident's timeline and in
the outbox (job ``mail.send``), rendered once, so that a retry sends the same message under the
same Message-ID.

Who sent a message is read from its From address, matched without regard to case to the e-mail
address of one active user: the platform trusts the mail server in front of it to refuse forged
senders (SPF, DKIM, DMARC; docs/email.md).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.audit.services import record
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents import access
from nciss_platform.incidents import services as incidents
from nciss_platform.incidents.models import TLP, Incident, TimelineEntry
from nciss_platform.mail import messages, parsing
from nciss_platform.mail.models import InboundMessage, OutboundMessage
from nciss_platform.notifications.channels import message_id_for
from nciss_platform.outbox import services as outbox

logger = logging.getLogger(__name__)

PROCESS = "mail.process"
SEND = "mail.send"
MAX_REPLY_LENGTH = 20_000
MAX_REFERENCES = 20
EMAIL_CHANNEL = "email"
NULL_SENDER = "<>"  # the envelope sender of bounces (RFC 5321 4.5.5)


class Rejected(Exception):
    """A message that cannot be processed; ``tell_sender``: the sender is a known person to tell why."""

    def __init__(self, reason: str, *, user: User | None = None, tell_sender: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.user = user
        self.tell_sender = tell_sender


# ---------------------------------------------------------------- receiving


def receive_message(raw: bytes, *, envelope_from: str = "", recipients: Sequence[str] = ()) -> InboundMessage:
    """Store a message as received and queue its processing; the message stored before if it came already.

    ``envelope_from`` is the SMTP envelope sender, ``NULL_SENDER`` for a bounce; empty when unknown (IMAP).

    A message over NCISS_MAIL_MAX_BYTES (possible from IMAP; the SMTP server refuses it) is kept
    as its header only, rejected with the reason.
    """
    envelope = parsing.read_envelope(raw)
    existing = InboundMessage.objects.filter(message_id=envelope.message_id).first()
    if existing is not None:
        return existing
    limit = settings.NCISS_MAIL_MAX_BYTES
    too_large = len(raw) > limit
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                message_id=envelope.message_id,
                raw=_header_of(raw) if too_large else raw,
                size=len(raw),
                envelope_from=envelope_from[:320],
                recipients=list(recipients),
                sender=envelope.sender[:320],
                subject=envelope.subject[:500],
                references=" ".join(envelope.references[-MAX_REFERENCES:]),
                received_at=clock.now(),
                state=InboundMessage.State.REJECTED if too_large else InboundMessage.State.RECEIVED,
                reason=f"the message is {_size(len(raw))}: larger than the limit of {_size(limit)}"
                if too_large
                else "",
            )
            if not too_large:
                outbox.enqueue(kind=PROCESS, key=f"{PROCESS}:{message.pk}", payload={"message": message.pk})
    except IntegrityError:  # the same message, stored at this moment by another connection
        return InboundMessage.objects.get(message_id=envelope.message_id)
    return message


def _header_of(raw: bytes) -> bytes:
    ends = [end for end in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if end >= 0]
    return raw[: min(ends)] if ends else raw[:65536]


def _size(size: int) -> str:
    return str(filesizeformat(size)).replace("\xa0", " ")


# ---------------------------------------------------------------- processing


def process_message(message: InboundMessage) -> InboundMessage:
    """A new incident, or a comment on the incident the message answers; rejected with a reason otherwise.

    Does nothing to a message no longer waiting (processed already, by the SMTP server or a
    worker). An unexpected error leaves it waiting, for the outbox to retry.
    """
    with transaction.atomic():
        message = InboundMessage.objects.select_for_update().get(pk=message.pk)
        if message.state != InboundMessage.State.RECEIVED:
            return message
        try:
            with transaction.atomic():
                message.user, message.incident = _apply(message)
        except Rejected as rejected:
            message.user = rejected.user
            message.state, message.reason = InboundMessage.State.REJECTED, rejected.reason
            message.processed_at = clock.now()
            message.save(update_fields=["user", "incident", "state", "reason", "processed_at"])
            if rejected.tell_sender and rejected.user is not None:
                _tell_sender(message, rejected.user, rejected.reason)
            return message
        message.state, message.reason, message.processed_at = InboundMessage.State.PROCESSED, "", clock.now()
        message.save(update_fields=["user", "incident", "state", "reason", "processed_at"])
        assert message.incident is not None
        record(
            message.user,
            "mail.processed",
            message,
            {"message_id": message.message_id, "incident": message.incident.reference},
        )
    return message


def process_again(*, message: InboundMessage, actor: User) -> InboundMessage:
    """Process a rejected message again (its sender now has an account, a limit was raised ...), or one
    still waiting (its processing job gave up). On an unexpected error nothing changes."""
    if not access.can_manage(actor):
        raise NotAllowed("only the CSIRT's analysts and coordinators process e-mail again")
    if message.state == InboundMessage.State.PROCESSED:
        raise ServiceError([("state", "the message is processed already")])
    if len(bytes(message.raw)) != message.size:
        raise ServiceError([("size", "only the header of this message was kept: it cannot be processed")])
    with transaction.atomic():
        InboundMessage.objects.filter(pk=message.pk).update(state=InboundMessage.State.RECEIVED, reason="")
        record(actor, "mail.process_again", message, {"message_id": message.message_id})
        return process_message(message)


def _apply(message: InboundMessage) -> tuple[User, Incident]:
    """What the message does, as its sender; raises ``Rejected``."""
    try:
        mail = parsing.parse(bytes(message.raw))
    except ValueError as exc:
        raise Rejected(str(exc)) from None
    if mail.automatic:
        raise Rejected(f"{mail.automatic}: automatic messages are not processed")
    if message.envelope_from == NULL_SENDER:
        raise Rejected("a delivery status notification (null envelope sender <>): not processed")
    user = _sender(mail.sender)
    _check_attachments(mail, user)
    incident = _answered_incident(mail, user)
    try:
        if incident is None:
            return user, _report(message, mail, user)
        _comment(message, mail, user, incident)
    except (ServiceError, NotAllowed) as exc:
        raise Rejected(str(exc), user=user, tell_sender=True) from None
    return user, incident


def _sender(address: str) -> User:
    if not address:
        raise Rejected("the message has no From address")
    users = list(User.objects.filter(email__iexact=address, is_active=True)[:2])
    if not users:
        raise Rejected(f"unknown sender {address}: no active user has this e-mail address")
    if len(users) > 1:
        raise Rejected(f"{address} is the e-mail address of several users: give it to one only")
    return users[0]


def _check_attachments(mail: parsing.ParsedMail, user: User) -> None:
    most = settings.NCISS_MAIL_MAX_ATTACHMENTS
    if len(mail.attachments) > most:
        raise Rejected(f"{len(mail.attachments)} attachments: at most {most} are accepted", user=user, tell_sender=True)
    limit = settings.NCISS_MAX_ATTACHMENT_BYTES
    for attachment in mail.attachments:
        if len(attachment.data) > limit:
            reason = f"the attachment “{attachment.name}” is {_size(len(attachment.data))}: larger than the limit of "
            raise Rejected(f"{reason}{_size(limit)}", user=user, tell_sender=True)


def _answered_incident(mail: parsing.ParsedMail, user: User) -> Incident | None:
    """The incident the message is about: a reference in its subject, else the message it answers."""
    visible = access.visible_incidents(user)
    references = parsing.REFERENCE.findall(mail.subject)
    if references:
        incident = visible.filter(reference=references[0]).first()
        if incident is None:
            raise Rejected(f"{references[0]} is not an incident you may see", user=user, tell_sender=True)
        return _followed(incident, user)
    for message_id in reversed(mail.references):
        incident_id = (
            OutboundMessage.objects.filter(message_id=message_id).values_list("incident", flat=True).first()
            or InboundMessage.objects.filter(message_id=message_id).values_list("incident", flat=True).first()
        )
        if incident_id is not None:
            incident = visible.filter(pk=incident_id).first()
            if incident is None:
                raise Rejected("it answers an e-mail about an incident you may not see", user=user, tell_sender=True)
            return _followed(incident, user)
    return None


def _followed(incident: Incident, user: User) -> Incident:
    """A duplicate's reporters follow the incident it was merged into, when they may see it."""
    seen = {incident.pk}
    while incident.duplicate_of_id is not None and incident.duplicate_of_id not in seen:
        target = access.visible_incidents(user).filter(pk=incident.duplicate_of_id).first()
        if target is None:
            break
        seen.add(target.pk)
        incident = target
    return incident


def _report(message: InboundMessage, mail: parsing.ParsedMail, user: User) -> Incident:
    title = parsing.SUBJECT_PREFIX.sub("", mail.subject).strip() or f"E-mail from {mail.sender}"
    label = parsing.TLP_LABEL.search(mail.subject)
    incident = incidents.report_incident(
        actor=user,
        title=title[:200],
        facts={},
        description=mail.text,
        tlp=f"TLP:{label.group(1).upper()}" if label else TLP.AMBER,
    )
    TimelineEntry.objects.filter(incident=incident, kind=TimelineEntry.Kind.REPORTED).update(
        data={"channel": EMAIL_CHANNEL, "message_id": message.message_id}
    )
    _attach(incident, mail, user)
    return incident


def _comment(message: InboundMessage, mail: parsing.ParsedMail, user: User, incident: Incident) -> None:
    text = parsing.without_quoted_reply(mail.text)
    if not text and not mail.attachments:
        raise Rejected("the message has neither text nor attachments", user=user, tell_sender=True)
    if text:
        entry = incidents.add_comment(incident=incident, actor=user, body=text)
        entry.data = {"channel": EMAIL_CHANNEL, "message_id": message.message_id}
        entry.save(update_fields=["data"])
    _attach(incident, mail, user)


def _attach(incident: Incident, mail: parsing.ParsedMail, user: User) -> None:
    for attachment in mail.attachments:
        upload = SimpleUploadedFile(attachment.name, attachment.data, content_type=attachment.content_type)
        incidents.add_attachment(incident=incident, actor=user, upload=upload)


def _tell_sender(message: InboundMessage, user: User, reason: str) -> None:
    """One notice per message, in the sender's language, threaded under it."""
    if OutboundMessage.objects.filter(answers=message, kind=OutboundMessage.Kind.NOTICE).exists():
        return
    mail = messages.notice(recipient=user, subject=message.subject, reason=reason)
    _queue(
        kind=OutboundMessage.Kind.NOTICE,
        incident=None,
        answers=message,
        author=None,
        recipient=user,
        mail=mail,
        parent_id=message.message_id,
        parent_references=message.references,
    )


# ---------------------------------------------------------------- replying


def reply_recipient(incident: Incident) -> User:
    """Who a reply goes to: the sender of the incident's last e-mail, else the person who reported it."""
    last = (
        InboundMessage.objects.filter(incident=incident, state=InboundMessage.State.PROCESSED, user__is_active=True)
        .select_related("user")
        .order_by("-received_at", "-id")
        .first()
    )
    return last.user if last is not None and last.user is not None else incident.created_by


def reply_to_reporter(*, incident: Incident, actor: User, body: str, wait_for_answer: bool = False) -> OutboundMessage:
    """E-mail ``body`` to the reporter: a comment in the timeline, and the message in the outbox.

    The reply answers the incident's last e-mail (In-Reply-To, References); its Reply-To is
    NCISS_MAIL_ADDRESS, so that the answer comes back into the timeline. With
    ``wait_for_answer`` the response clocks pause until the reporter answers.
    """
    if not access.can_manage(actor) or not access.can_see(actor, incident):
        raise NotAllowed("only the CSIRT's analysts and coordinators reply to reporters")
    body = body.strip()
    if not body:
        raise ServiceError([("body", "required")])
    if len(body) > MAX_REPLY_LENGTH:
        raise ServiceError([("body", f"at most {MAX_REPLY_LENGTH} characters")])
    recipient = reply_recipient(incident)
    if not recipient.email:
        raise ServiceError([("to", f"{recipient.username} has no e-mail address: add one to their account")])
    if not recipient.is_active or not access.can_see(recipient, incident):
        raise ServiceError([("to", f"{recipient.username} may no longer see this incident: nothing was sent")])
    mail = messages.reply(incident=incident, author=actor, recipient=recipient, body=body)
    parent_id, parent_references = _thread_parent(incident)
    with transaction.atomic():
        outbound = _queue(
            kind=OutboundMessage.Kind.REPLY,
            incident=incident,
            answers=None,
            author=actor,
            recipient=recipient,
            mail=mail,
            parent_id=parent_id,
            parent_references=parent_references,
        )
        entry = incidents.add_comment(incident=incident, actor=actor, body=body)
        entry.data = {"channel": EMAIL_CHANNEL, "to": recipient.email, "message_id": outbound.message_id}
        entry.save(update_fields=["data"])
        record(
            actor,
            "incident.emailed_reporter",
            incident,
            {"to": recipient.email, "message_id": outbound.message_id, "entry": entry.pk},
        )
        if wait_for_answer and not incident.waiting_on_reporter:
            incidents.set_waiting_on_reporter(incident=incident, actor=actor, waiting=True)
    return outbound


def _thread_parent(incident: Incident) -> tuple[str, str]:
    """The Message-ID a reply answers and the References before it: the last e-mail in, else the last out."""
    last_in = (
        InboundMessage.objects.filter(incident=incident, state=InboundMessage.State.PROCESSED)
        .order_by("-received_at", "-id")
        .values_list("message_id", "references")
        .first()
    )
    if last_in is not None:
        return last_in
    last_out = (
        OutboundMessage.objects.filter(incident=incident, kind=OutboundMessage.Kind.REPLY)
        .order_by("-created_at", "-id")
        .values_list("message_id", "references")
        .first()
    )
    return last_out or ("", "")


def _queue(
    *,
    kind: str,
    incident: Incident | None,
    answers: InboundMessage | None,
    author: User | None,
    recipient: User,
    mail: messages.Mail,
    parent_id: str,
    parent_references: str,
) -> OutboundMessage:
    references = [*parent_references.split(), parent_id] if parent_id else []
    outbound = OutboundMessage.objects.create(
        kind=kind,
        incident=incident,
        answers=answers,
        author=author,
        recipient=recipient,
        to=recipient.email,
        subject=mail.subject,
        text=mail.text,
        message_id=message_id_for(f"mail-{kind}-{uuid.uuid4().hex}"),
        in_reply_to=parent_id,
        references=" ".join(list(dict.fromkeys(references))[-MAX_REFERENCES:]),
        language=mail.language,
        created_at=clock.now(),
    )
    outbox.enqueue(kind=SEND, key=f"{SEND}:{outbound.pk}", payload={"message": outbound.pk})
    return outbound
