from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Campaigns: incidents of one kind, or sharing indicators, across organisations within a window."""

    name = "nciss_platform.campaigns"
    label = "campaigns"

    def ready(self) -> None:
        from nciss_platform.campaigns import handlers  # noqa: F401  (registers the outbox job handler)
