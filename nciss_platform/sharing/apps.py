from django.apps import AppConfig


class SharingConfig(AppConfig):
    """Sharing incidents with partners abroad under TLP, their views, and the TAXII 2.1 server."""

    name = "nciss_platform.sharing"
    label = "sharing"
