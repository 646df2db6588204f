from django.apps import AppConfig


class ExercisesConfig(AppConfig):
    """Table-top exercises on the OSCE cyber/ICT confidence-building measures, apart from real incidents."""

    name = "nciss_platform.exercises"
    label = "exercises"
