from django.apps import AppConfig


class ScalesConfig(AppConfig):
    """The severity calculator and the scales/assess API."""

    name = "nciss_platform.scales"
    label = "scales"
