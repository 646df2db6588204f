from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """Durable background work: jobs stored with the change that caused them, claimed by workers."""

    name = "nciss_platform.outbox"
    label = "outbox"
