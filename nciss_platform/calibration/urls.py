"""The calibration pages."""

from django.urls import URLPattern

app_name = "calibration"
urlpatterns: list[URLPattern] = []
