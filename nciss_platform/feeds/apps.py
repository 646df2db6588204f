from django.apps import AppConfig


class FeedsConfig(AppConfig):
    """Feeds: IntelMQ events ingested, deduplicated, attributed and aggregated into incidents."""

    name = "nciss_platform.feeds"
    label = "feeds"
