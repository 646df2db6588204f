from django.apps import AppConfig


class MailConfig(AppConfig):
    """Two-way e-mail with reporters: reports and answers in by SMTP/LMTP or IMAP, replies out from incidents."""

    name = "nciss_platform.mail"
    label = "mail"

    def ready(self) -> None:
        from nciss_platform.mail import handlers  # noqa: F401  (registers the outbox job handlers)
