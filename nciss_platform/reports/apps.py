from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Situation reports (per incident, national daily), public advisories, and reports as PDF."""

    name = "nciss_platform.reports"
    label = "reports"
