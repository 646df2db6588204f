from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The national picture: the situational dashboard and the rollups it reads."""

    name = "nciss_platform.dashboard"
    label = "dashboard"
