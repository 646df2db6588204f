"""The exercises API."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
