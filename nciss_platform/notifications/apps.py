from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Stakeholders, routing rules, notifications by e-mail and webhook, acknowledgements and escalation."""

    name = "nciss_platform.notifications"
    label = "notifications"

    def ready(self) -> None:
        from nciss_platform.notifications import handlers  # noqa: F401  (registers the outbox job handlers)
