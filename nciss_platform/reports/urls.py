"""The report pages. Included before the incident pages, whose ``incidents/<ref>/<action>`` would take these."""

from django.urls import path, re_path

from nciss_platform.reports import statistics_views, views

app_name = "reports"
urlpatterns = [
    path("sitrep/", views.national_page, name="national"),
    path("sitrep/national.pdf", views.national_pdf, name="national-pdf"),
    path("statistics/", statistics_views.statistics_page, name="statistics"),
    re_path(r"^statistics/report\.(?P<suffix>pdf|csv|html)$", statistics_views.statistics_file, name="statistics-file"),
    path("incidents/<str:reference>/sitrep", views.incident_page, name="incident"),
    path("incidents/<str:reference>/sitrep.pdf", views.incident_pdf, name="incident-pdf"),
    path("incidents/<str:reference>/advisory", views.advisory_page, name="advisory"),
    path("incidents/<str:reference>/advisory.pdf", views.advisory_pdf, name="advisory-pdf"),
]
