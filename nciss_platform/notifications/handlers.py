"""The outbox jobs of notifications: delivering one notification, and the periodic tick.

Delivery is at least once: a worker that dies after sending but before recording it sends again
on the retry, with the same Message-ID or ``Idempotency-Key`` and the same message, so that the
recipient can tell. A notification already sent is never sent again by a repeated job.
"""

from __future__ import annotations

from email.utils import formatdate

from django.db import transaction

from nciss_platform import clock
from nciss_platform.notifications import services
from nciss_platform.notifications.channels import DeliveryError, message_id_for, post_webhook, send_email
from nciss_platform.notifications.models import Channel, Notification
from nciss_platform.outbox.models import Job
from nciss_platform.outbox.registry import PermanentFailure, handler

MAX_ATTEMPTS = 8


@handler(services.DELIVER, max_attempts=MAX_ATTEMPTS)
def deliver(job: Job) -> None:
    notification = (
        Notification.objects.select_related("contact", "incident").filter(pk=job.payload["notification"]).first()
    )
    if notification is None or notification.state != Notification.State.PENDING:
        return
    try:
        if notification.channel == Channel.EMAIL:
            send_email(
                to=notification.address,
                subject=notification.subject,
                text=notification.body,
                message_id=message_id_for(notification.idempotency_key),
                headers={
                    # the notification's time, not the attempt's: a retry sends the very same message
                    "Date": formatdate(notification.created_at.timestamp(), usegmt=True),
                    "Idempotency-Key": notification.idempotency_key,
                    "X-NCISS-Incident": notification.incident.reference,
                    "X-NCISS-Event": notification.payload.get("event", ""),
                },
            )
        else:
            post_webhook(
                url=notification.address,
                secret=notification.contact.webhook_secret,
                payload=notification.payload,
                idempotency_key=notification.idempotency_key,
            )
    except PermanentFailure as exc:
        _failed(notification, str(exc), final=True)
        raise
    except DeliveryError as exc:
        _failed(notification, str(exc), final=job.attempts >= MAX_ATTEMPTS)
        raise
    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk).update(
            state=Notification.State.SENT, sent_at=clock.now(), error=""
        )


def _failed(notification: Notification, error: str, *, final: bool) -> None:
    """Note the last error; the notification is failed once no retry is left."""
    state = Notification.State.FAILED if final else Notification.State.PENDING
    Notification.objects.filter(pk=notification.pk).update(state=state, error=error)


@handler(services.TICK, max_attempts=3)
def tick(job: Job) -> None:
    """Schedule the next tick first (one failed check never stops the chain), then check clocks and acknowledgements."""
    now = clock.now()
    services.schedule_tick(now)
    services.tick(now)
