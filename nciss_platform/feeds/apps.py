from django.apps import AppConfig


class FeedsConfig(AppConfig):
    """Feeds: IntelMQ events ingested, deduplicated, attributed and aggregated into incidents."""

    name = "nciss_platform.feeds"
    label = "feeds"

    def ready(self) -> None:
        from nciss_platform.feeds import intake  # noqa: F401  (registers the outbox job of HTTP batches)
