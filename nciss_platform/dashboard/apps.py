from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The national picture: the situational dashboard and the rollups it reads."""

    name = "nciss_platform.dashboard"
    label = "dashboard"

    def ready(self) -> None:
        from nciss_platform.dashboard import handlers  # noqa: F401  (registers the outbox job handler)
