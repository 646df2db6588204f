from django.apps import AppConfig


class InteropConfig(AppConfig):
    """Importing and exporting incidents: VERIS, STIX 2.1, MISP, IntelMQ, CSV."""

    name = "nciss_platform.interop"
    label = "interop"
