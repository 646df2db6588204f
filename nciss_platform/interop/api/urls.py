from django.urls import path

from nciss_platform.interop.api import views

urlpatterns = [
    path("imports", views.ImportView.as_view(), name="api-imports"),
    path("exports", views.ExportView.as_view(), name="api-exports"),
]
