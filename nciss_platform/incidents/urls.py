"""The incident pages. ``home`` (where each role works) is named at the site root, in nciss_platform/urls.py."""

from django.urls import path

from nciss_platform.incidents import views

app_name = "incidents"
urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/preview", views.report_preview, name="report-preview"),
    path("incidents/", views.incident_list, name="list"),
    path("incidents/<str:reference>/", views.detail, name="detail"),
    path("incidents/<str:reference>/acknowledgement/", views.acknowledgement, name="acknowledgement"),
    path("incidents/<str:reference>/preview", views.facts_preview, name="facts-preview"),
    path("incidents/<str:reference>/attachments/<int:pk>", views.attachment, name="attachment"),
    path("incidents/<str:reference>/<slug:action>", views.incident_action, name="action"),
    path("queue/", views.queue, name="queue"),
    path("queue/bulk", views.queue_bulk, name="bulk"),
    path("overview/", views.overview, name="overview"),
]
