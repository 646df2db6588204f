"""The outbox jobs of e-mail: processing a received message, and sending one.

Sending is at least once: a worker that dies after sending but before recording it sends again
on the retry, the very same message under the same Message-ID, so that the recipient's mail
client can tell. A message already sent is never sent again by a repeated job.
"""

from __future__ import annotations

from email.utils import formatdate

from django.conf import settings

from nciss_platform import clock
from nciss_platform.mail import services
from nciss_platform.mail.models import InboundMessage, OutboundMessage
from nciss_platform.notifications.channels import DeliveryError, send_email
from nciss_platform.outbox.models import Job
from nciss_platform.outbox.registry import PermanentFailure, handler

MAX_ATTEMPTS = 8


@handler(services.PROCESS, max_attempts=MAX_ATTEMPTS)
def process(job: Job) -> None:
    message = InboundMessage.objects.filter(pk=job.payload["message"]).first()
    if message is not None:
        services.process_message(message)


@handler(services.SEND, max_attempts=MAX_ATTEMPTS)
def send(job: Job) -> None:
    outbound = OutboundMessage.objects.select_related("incident").filter(pk=job.payload["message"]).first()
    if outbound is None or outbound.state != OutboundMessage.State.PENDING:
        return
    # The Date is the message's, not the attempt's: a retry sends the very same bytes.
    headers = {"Date": formatdate(outbound.created_at.timestamp(), usegmt=True)}
    if outbound.incident:
        headers["X-NCISS-Incident"] = outbound.incident.reference
    if outbound.in_reply_to:
        headers["In-Reply-To"] = outbound.in_reply_to
    if outbound.references:
        headers["References"] = outbound.references
    try:
        send_email(
            to=outbound.to,
            subject=outbound.subject,
            text=outbound.text,
            message_id=outbound.message_id,
            reply_to=settings.NCISS_MAIL_ADDRESS,
            headers=headers,
        )
    except PermanentFailure as exc:
        _failed(outbound, str(exc), final=True)
        raise
    except DeliveryError as exc:
        _failed(outbound, str(exc), final=job.attempts >= MAX_ATTEMPTS)
        raise
    OutboundMessage.objects.filter(pk=outbound.pk).update(
        state=OutboundMessage.State.SENT, sent_at=clock.now(), error=""
    )


def _failed(outbound: OutboundMessage, error: str, *, final: bool) -> None:
    """Note the last error; the message has failed once no retry is left."""
    state = OutboundMessage.State.FAILED if final else OutboundMessage.State.PENDING
    OutboundMessage.objects.filter(pk=outbound.pk).update(state=state, error=error)
