"""The dashboard API."""

from django.urls import path

from nciss_platform.dashboard.api import views

urlpatterns = [path("dashboard", views.DashboardView.as_view(), name="api-dashboard")]
