"""The dashboard pages."""

from django.urls import path

from nciss_platform.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/panels", views.panels, name="panels"),
]
