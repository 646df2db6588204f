"""A separate process for the worker tests, with a webhook handler the test process does not need.

``python -m nciss_platform.outbox.tests.worker_process COMMAND`` against ``DATABASE_URL``:
``seed URL SECRET PREFIX COUNT`` enqueues COUNT webhook jobs keyed ``PREFIX-<n>``;
``worker ARGS...`` runs ``nciss worker ARGS...``.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

import django

os.environ["DJANGO_SETTINGS_MODULE"] = "nciss_platform.settings_test"
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from nciss_platform.notifications.channels import post_webhook  # noqa: E402
from nciss_platform.outbox.models import Job  # noqa: E402
from nciss_platform.outbox.registry import exponential, handler  # noqa: E402
from nciss_platform.outbox.services import enqueue  # noqa: E402

KIND = "outbox-test.webhook"


@handler(KIND, backoff=exponential(dt.timedelta(milliseconds=200)))
def deliver(job: Job) -> None:
    post_webhook(
        url=job.payload["url"], secret=job.payload["secret"], payload=job.payload["event"], idempotency_key=job.key
    )


def seed(url: str, secret: str, prefix: str, count: int) -> None:
    with transaction.atomic():
        for n in range(count):
            event = {
                "event": "incident.created",
                "incident": f"XA-2026-{n:04d}",
                "level": n % 5,
                "title": f"Outage {n}",
            }
            enqueue(kind=KIND, key=f"{prefix}-{n}", payload={"url": url, "secret": secret, "event": event})


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "seed":
        seed(arguments[0], arguments[1], arguments[2], int(arguments[3]))
    elif command == "worker":
        call_command("worker", *arguments)
    else:
        raise SystemExit(f"unknown command {command!r}")
