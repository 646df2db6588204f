from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "nciss_platform.incidents"
    label = "incidents"
    verbose_name = "Incidents"
