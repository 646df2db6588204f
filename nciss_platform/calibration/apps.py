from django.apps import AppConfig


class CalibrationConfig(AppConfig):
    """The calibration lab: scale drafts, published versions, what-if on history, analysts' consistency."""

    name = "nciss_platform.calibration"
    label = "calibration"
